/* sluiced: start-up, the control thread's event loop, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "call_ops.h"
#include "cli.h"
#include "config.h"
#include "play_media.h"
#include "daemon.h"
#include "http.h"
#include "ice_timer.h"
#include "ice_trickle.h"
#include "kernel.h"
#include "load_limit.h"
#include "log_reload.h"
#include "metrics.h"
#include "ng_server.h"
#include "hep_sender.h"
#include "rec.h"
#include "store.h"
#include "ng_stats.h"
#include "relay.h"
#include "secure.h"
#include "stats.h"
#include "sluice/codec.h"
#include "sluice/dtls.h"
#include "sluice/log.h"
#include "timeouts.h"

#define TICK_MS 100
_Static_assert(TICK_MS == SECURE_TICK_MS, "secure.h pacing assumes this tick");
#define TRIM_S  10      /* seconds between two malloc_trim() */

/* epoll tags for the control loop's own descriptors */
static char tag_signal, tag_timer, tag_cli, tag_http;

static int facility_of(const char *name)
{
	static const struct { const char *n; int f; } tab[] = {
		{ "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(tab[i].n, name))
			return tab[i].f;
	return LOG_DAEMON;
}

/* Interfaces with the same local address share one port pool. */
static int ifaces_init(struct daemon *d, char *err, size_t errlen)
{
	const struct config *cfg = d->cfg;

	for (unsigned i = 0; i < cfg->n_interfaces; i++) {
		struct iface *f = &d->ifaces[i];
		const struct cfg_interface *ci = &cfg->interfaces[i];

		snprintf(f->name, sizeof(f->name), "%s", ci->name);
		f->local = ci->local;
		f->advertised = ci->advertised;
		f->af = ci->advertised.sa.sa_family == AF_INET6 ? SDP_AF_IP6 : SDP_AF_IP4;
		netaddr_ntop(&f->advertised, f->adv_str, sizeof(f->adv_str));
		for (unsigned j = 0; j < i; j++)
			if (netaddr_ip_eq(&d->ifaces[j].local, &f->local))
				f->pool_ref = d->ifaces[j].pool_ref;
		if (!f->pool_ref) {
			if (port_pool_init(&f->pool, cfg->port_min, cfg->port_max)) {
				snprintf(err, errlen, "invalid port range %u-%u", cfg->port_min,
					 cfg->port_max);
				return -EINVAL;
			}
			f->pool_ref = &f->pool;
		}
		d->n_ifaces++;
	}
	return 0;
}

static void ifaces_destroy(struct daemon *d)
{
	for (unsigned i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].pool_ref == &d->ifaces[i].pool)
			port_pool_destroy(&d->ifaces[i].pool);
}

/* Which codecs this libavcodec lets sluice transcode, and why the others not (AMR needs
 * libavcodec-extra), so an operator sees it before a call asks for one. */
static void log_codecs(void)
{
	char buf[1024];

	codec_describe(buf, sizeof(buf));
	ilog(LOG_NOTICE, "%s", buf);
}

static void make_instance_id(struct daemon *d)
{
	unsigned char r[8] = { 0 };

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		memcpy(r, &d->started_us, sizeof(r));
	for (unsigned i = 0; i < sizeof(r); i++)
		snprintf(d->instance_id + 2 * i, 3, "%02x", r[i]);
}

static int daemonize(const struct config *cfg)
{
	pid_t pid;
	int fd;

	if (!cfg->foreground) {
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid > 0)
			_exit(0);
		setsid();
		if (chdir("/") < 0)
			return -errno;
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			if (!cfg->log_stderr)
				dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
	if (cfg->pidfile[0]) {
		FILE *f = fopen(cfg->pidfile, "w");
		if (!f)
			return -errno;
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	return 0;
}

static int add_fd(int epfd, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The control thread: NG messages, the housekeeping tick, signals. */
static int run(struct daemon *d, int epfd, int sigfd, int tfd)
{
	unsigned ticks = 0;

	for (;;) {
		struct epoll_event ev[32];
		/* ICE checks due before the next tick wake us (Ta pacing, ice_timer.h) */
		int n = epoll_wait(epfd, ev, 32, ice_timer_wait_ms(d));

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;

			if (p == &tag_signal) {
				struct signalfd_siginfo si;
				if (read(sigfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					log_reload(d);
					continue;
				}
				ilog(LOG_NOTICE, "signal %u received", si.ssi_signo);
				return 0;
			} else if (p == &tag_timer) {
				uint64_t exp;
				if (read(tfd, &exp, sizeof(exp)) < 0)
					continue;
				relay_reclaim(d->relay);
				secure_tick(d);
				load_tick(d, mono_fine_us());
				stats_tick(d, mono_fine_us());
				store_tick(d);
				if (++ticks % (1000 / TICK_MS) == 0) {
					timeouts_scan(d);
					ng_server_tick(d->ng);
					ice_trickle_expire(d, mono_us(), false);
				}
				/* Calls and NG replies come and go: glibc keeps the pages they
				 * freed inside the heap, so without this RSS only ever follows
				 * the highest the heap has been. Costs well under a ms. */
				if (ticks % (TRIM_S * 1000 / TICK_MS) == 0)
					malloc_trim(0);
			} else if (p == &tag_cli) {
				cli_run(d->cli);
			} else if (p == &tag_http) {
				http_run(d->http);
			} else {
				ng_server_event(d->ng, p, ev[i].events);
			}
		}
		ice_timer_run(d);
	}
}

static void shutdown_calls(struct daemon *d)
{
	size_t n = d->reg.count;

	ilog(LOG_NOTICE, "shutdown: closing %zu call%s", n, n == 1 ? "" : "s");
	while (d->reg.head)
		call_destroy(d, d->reg.head, CALL_END_SHUTDOWN);
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct daemon d = { .cfg = &cfg, .argc = argc, .argv = argv };
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
				  .it_value = { 0, TICK_MS * 1000000L } };
	char err[512] = "";
	sigset_t set;
	int epfd = -1, sigfd = -1, tfd = -1, rc = 1;

	if (config_load(&cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "sluiced: %s\n", err);
		return 1;
	}
	log_init(cfg.log_level, cfg.log_stderr || cfg.foreground, "sluiced",
		 facility_of(cfg.log_facility));
	/* Fixed thresholds: glibc otherwise raises the mmap threshold each time a large
	 * block is freed, and from then on puts such blocks in the heap, which then takes
	 * minutes to reach its working size under a steady load. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);     /* inherited by the workers */

	d.started_us = now_us();
	make_instance_id(&d);
	d.metrics = metrics_new();      /* NULL: no NG or packet totals in /metrics */
	if (registry_init(&d.reg) || ifaces_init(&d, err, sizeof(err)))
		goto out;
	if (!(d.ngstats = calloc(1, sizeof(*d.ngstats)))) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (dtls_cert_new(&d.dtls_cert))
		ilog(LOG_WARNING, "no DTLS certificate: DTLS-SRTP calls will be refused");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (epfd < 0 || sigfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    add_fd(epfd, sigfd, &tag_signal) || add_fd(epfd, tfd, &tag_timer)) {
		snprintf(err, sizeof(err), "event loop setup failed: %s", strerror(errno));
		goto out;
	}
	if (ng_server_open(&d.ng, &d, epfd, err, sizeof(err)))
		goto out;
	if (cli_open(&d.cli, &d, epfd, &tag_cli, err, sizeof(err)) ||
	    http_open(&d.http, &d, epfd, &tag_http, err, sizeof(err)))
		goto out_ng;
	/* After the NG listener: a second sluiced started by mistake fails on the address
	 * in use before it flushes (and on exit destroys) the running one's kernel table. */
	if (kernel_start(&d, err, sizeof(err)))
		goto out_ng;
	if (daemonize(&cfg)) {
		snprintf(err, sizeof(err), "cannot daemonize or write pidfile: %s", strerror(errno));
		goto out_ng;
	}
	/* Workers start after fork(): threads do not survive it. */
	if (relay_start(&d.relay, &d, cfg.num_threads)) {
		snprintf(err, sizeof(err), "cannot start %u media threads", cfg.num_threads);
		goto out_ng;
	}
	if (rec_start(&d, err, sizeof(err)) || hep_start(&d, err, sizeof(err)) ||
	    http_start(d.http, err, sizeof(err)) || store_start(&d, err, sizeof(err))) {
		relay_stop(d.relay);
		rec_stop(&d);
		hep_stop(&d);
		goto out_ng;
	}
	store_restore(&d);              /* before the first NG request is read */
	kernel_adopt_end(&d);           /* entries no restored call took are withdrawn */
	ilog(LOG_NOTICE, "sluiced %s started: %u NG listener(s), %u interface(s), ports %u-%u, "
	     "%u media thread(s)", SLUICE_VERSION, cfg.n_listen_ng + cfg.n_listen_tcp_ng,
	     d.n_ifaces, cfg.port_min, cfg.port_max, cfg.num_threads);
	play_media_notice(&cfg);
	ilog(d.kmod ? LOG_NOTICE : LOG_WARNING, "media forwarding: %s",
	     d.kmod ? d.kernel_state : "userspace only");
	if (!d.kmod)
		ilog(LOG_WARNING, "kernel forwarding unavailable: %s", d.kernel_state);
	log_codecs();
	rc = run(&d, epfd, sigfd, tfd) ? 1 : 0;
	http_close(d.http);             /* first: a waiting scrape gets 503, not a hang */
	d.http = NULL;
	store_shutdown(&d);             /* the calls' last counters and SRTP state */
	kernel_handover(&d);            /* with --redis the next start adopts the entries */
	shutdown_calls(&d);
	relay_stop(d.relay);
	rec_stop(&d);                   /* after the workers: every copy is in its file */
	hep_stop(&d);
	store_stop(&d);                 /* after the calls: their keys stay for a restart */
	kernel_stop(&d);
	ilog(LOG_NOTICE, "shutdown complete");
out_ng:
	cli_close(d.cli);
	http_close(d.http);
	ng_server_close(d.ng);
out:
	kernel_stop(&d);
	if (err[0])
		fprintf(stderr, "sluiced: %s\n", err);
	if (cfg.pidfile[0] && rc == 0)
		unlink(cfg.pidfile);
	ifaces_destroy(&d);
	registry_destroy(&d.reg);
	metrics_free(d.metrics);
	ice_trickle_expire(&d, 0, true);
	dtls_cert_free(d.dtls_cert);
	free(d.ngstats);
	if (tfd >= 0)
		close(tfd);
	if (sigfd >= 0)
		close(sigfd);
	if (epfd >= 0)
		close(epfd);
	return err[0] ? 1 : rc;
}
