/* soak mode's driver: keep --calls calls alive for --duration seconds (soak_call.c),
 * sample the relay's RSS once a second, then let every call end, and judge:
 *   - RSS slope after warm-up, least squares, KiB/min, at most --rss-slope-limit
 *   - the relay's open fds back to the count before the first call
 *   - no misrouted packet, none from a source not told in SDP, none without our stamp
 *   - every delete's per-stream packets and bytes equal what the phones sent
 *   - every abandoned call gone timeout + grace after its media stopped; `list` empty
 *   - no call failed (NG error or timeout), relay alive
 * Exit status as the other modes: 0 valid, 1 a check failed, 2 usage/setup. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "soak.h"
#include "sluice/bencode.h"

#define SEC        1000000000LL
#define GONE_CAP   8192
#define FD_WAIT_NS (5 * SEC)    /* the relay may close sockets a moment after a reply */

struct rss_point {
	int64_t t;
	uint64_t kib;
	int64_t cache;          /* the relay's NG reply cache, bytes (statistics); -1 unknown */
};

static struct {
	struct rss_point *rss;
	unsigned n_rss, cap_rss;
	int64_t next_sample, t0, t_warm;
	uint64_t conc_min, conc_sum, conc_n;    /* calls alive, per second after warm-up */
	int listed;                             /* calls in the final `list`, -1 unknown */
	int fd_max;                             /* the relay's open fds, highest sample */
	bool stats_pending;                     /* a `statistics` request in flight */
} sk;

/* The relay's NG reply cache size, next to the RSS sample taken when it was asked:
 * the cache is bounded but follows the request rate of its last 60 s, so the report
 * shows how much of the RSS slope is the cache filling or draining. */
static void on_stats(void *ctx, const char *body, size_t len, int err)
{
	struct bench *b = ctx;
	struct bval *r = callmsg_reply(b, "statistics", "-", body, len, err, NULL);
	struct bval *st = r ? bv_dict_get(r, "statistics") : NULL;
	struct bval *ng = st ? bv_dict_get(st, "ng") : NULL;
	struct bval *cb = ng ? bv_dict_get(ng, "cachebytes") : NULL;

	sk.stats_pending = false;
	if (cb && cb->type == BV_INT && sk.n_rss)
		sk.rss[sk.n_rss - 1].cache = cb->i;
	callmsg_reset();
}

static unsigned calls_alive(const struct soak *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->n; i++)
		n += s->calls[i].st != S_IDLE;
	return n;
}

static void sample(struct bench *b, int64_t now)
{
	struct proc_sample ps;
	unsigned alive;
	int n_fd;

	if (now < sk.next_sample)
		return;
	sk.next_sample += SEC;
	if (!proc_sample(b->o.pid, &ps) && sk.n_rss < sk.cap_rss) {
		struct ng_cmd m = { .cmd = "statistics" };

		sk.rss[sk.n_rss++] = (struct rss_point){ now, ps.rss_kib, -1 };
		if (!sk.stats_pending && !callmsg_send(b, &m, on_stats, b))
			sk.stats_pending = true;
	}
	n_fd = proc_fd_count(b->o.pid);
	sk.fd_max = n_fd > sk.fd_max ? n_fd : sk.fd_max;
	if (now >= sk.t_warm && now < b->soak->t_stop) {
		alive = calls_alive(b->soak);
		sk.conc_min = sk.conc_n && sk.conc_min < alive ? sk.conc_min : alive;
		sk.conc_sum += alive;
		sk.conc_n++;
	}
}

static void soak_tick(struct bench *b, int64_t now)
{
	soak_calls_tick(b, now);
	sample(b, now);
}

static const struct loop_ops soak_ops = {
	.send_due = soak_send_due, .next_due = soak_next_due, .readable = soak_readable,
	.tick = soak_tick,
};

enum { Y_RSS, Y_CACHE, Y_RSS_MINUS_CACHE };

static bool point_y(const struct rss_point *p, int what, double *y)
{
	*y = what == Y_RSS ? (double)p->kib : what == Y_CACHE ? (double)p->cache / 1024 :
	     (double)p->kib - (double)p->cache / 1024;
	return what == Y_RSS || p->cache >= 0;
}

/* Least-squares slope of RSS (or the cache, or RSS less the cache) over [from, to),
 * KiB per minute; NAN under 3 samples. */
static double rss_slope(int64_t from, int64_t to, int what, unsigned *n_out)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0, y;

	for (unsigned i = 0; i < sk.n_rss; i++) {
		double x = (double)(sk.rss[i].t - from) / (60.0 * SEC);

		if (sk.rss[i].t < from || sk.rss[i].t >= to || !point_y(&sk.rss[i], what, &y))
			continue;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		n++;
	}
	*n_out = (unsigned)n;
	if (n < 3 || n * sxx - sx * sx <= 0)
		return NAN;
	return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

static uint64_t rss_at(int64_t t)
{
	for (unsigned i = 0; i < sk.n_rss; i++)
		if (sk.rss[i].t >= t)
			return sk.rss[i].kib;
	return sk.n_rss ? sk.rss[sk.n_rss - 1].kib : 0;
}

static double cache_at(int64_t t)
{
	for (unsigned i = 0; i < sk.n_rss; i++)
		if (sk.rss[i].t >= t && sk.rss[i].cache >= 0)
			return (double)sk.rss[i].cache / 1024;
	return NAN;
}

static uint64_t rss_max(void)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < sk.n_rss; i++)
		m = sk.rss[i].kib > m ? sk.rss[i].kib : m;
	return m;
}

/* UDP receive-buffer drops on this machine (all sockets): explains a counter mismatch
 * when the relay fell behind. -1 if unreadable. */
static long long udp_rcvbuf_errors(void)
{
	char line[1024], keys[1024] = "";
	long long v = -1;
	FILE *f = fopen("/proc/net/snmp", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Udp: ", 5))
			continue;
		if (!keys[0]) {
			memcpy(keys, line, sizeof(keys));
			continue;
		}
		char *kp, *vp, *ks = NULL, *vs = NULL;
		for (kp = strtok_r(keys + 5, " \n", &ks), vp = strtok_r(line + 5, " \n", &vs);
		     kp && vp; kp = strtok_r(NULL, " \n", &ks), vp = strtok_r(NULL, " \n", &vs))
			if (!strcmp(kp, "RcvbufErrors"))
				v = atoll(vp);
		break;
	}
	fclose(f);
	return v;
}

static void on_list(void *ctx, const char *body, size_t len, int err)
{
	struct bench *b = ctx;
	struct bval *r = callmsg_reply(b, "list", "-", body, len, err, NULL);
	struct bval *l = r ? bv_dict_get(r, "calls") : NULL;

	sk.listed = 0;
	if (!l || l->type != BV_LIST)
		sk.listed = -1;
	for (struct bval *x = l && l->type == BV_LIST ? l->c.first : NULL; x; x = x->next)
		sk.listed++;
	callmsg_reset();
}

static bool no_ng(struct bench *b)
{
	return ng_inflight(b->ng) == 0;
}

static int list_calls(struct bench *b)
{
	struct ng_cmd m = { .cmd = "list" };

	sk.listed = -1;
	if (!callmsg_send(b, &m, on_list, b))
		loop_run(b, mono_ns() + 30 * SEC, no_ng);
	return sk.listed;
}

static int fds_settle(struct bench *b, int start)
{
	int64_t until = mono_ns() + FD_WAIT_NS;
	int n;

	while ((n = proc_fd_count(b->o.pid)) != start && mono_ns() < until)
		loop_run(b, mono_ns() + SEC / 10, NULL);
	return n;
}

static void write_csv(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "sluice-bench: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "seconds,rss_kib,ng_cache_kib\n");
	for (unsigned i = 0; i < sk.n_rss; i++)
		fprintf(f, "%.1f,%llu,%.0f\n", (double)(sk.rss[i].t - sk.t0) / 1e9,
			(unsigned long long)sk.rss[i].kib,
			sk.rss[i].cache >= 0 ? (double)sk.rss[i].cache / 1024 : -1.0);
	fclose(f);
}

static int alloc(struct bench *b)
{
	struct soak *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	b->soak = s;
	s->n = b->o.calls;
	s->calls = calloc(s->n, sizeof(*s->calls));
	s->gone_cap = GONE_CAP;
	s->gone = calloc(s->gone_cap, sizeof(*s->gone));
	sk.cap_rss = (unsigned)(b->o.duration + b->o.relay_timeout + b->o.gone_grace +
				b->o.idle_wait) + 120;
	sk.rss = calloc(sk.cap_rss, sizeof(*sk.rss));
	if (!s->calls || !s->gone || !sk.rss)
		return -ENOMEM;
	for (unsigned i = 0; i < s->n; i++) {
		s->calls[i].slot = i;
		soak_phone_reset(&s->calls[i].ph[0]);
		soak_phone_reset(&s->calls[i].ph[1]);
	}
	return soak_media_init(b);
}

struct soak_result {
	int fd_start, fd_end, listed;
	uint64_t rss_idle;              /* after --idle-wait without calls; 0: not measured */
	bool drained;
	double slope, relay_cpu_pct, gen_cpu_pct, secs;
	double cache_slope, rest_slope;         /* NG reply cache; RSS less the cache */
	unsigned slope_n, cache_n;
	long long rcvbuf_errors;
};

static void report(struct rep *r, struct bench *b, const struct soak_result *x)
{
	const struct soak *s = b->soak;
	const struct soak_counts *k = &s->k;
	uint64_t lost = k->sent[0] > k->recv[0] ? k->sent[0] - k->recv[0] : 0;

	rep_str(r, "mode", "soak");
	rep_str(r, "ng", b->o.ng);
	rep_u64(r, "relay_pid", (uint64_t)b->o.pid);
	rep_u64(r, "calls", s->n);
	rep_f(r, "duration_s", b->o.duration, 0);
	rep_f(r, "warmup_s", b->o.warmup, 0);
	rep_u64(r, "pps", b->o.pps);
	rep_u64(r, "relay_timeout_s", b->o.relay_timeout);
	rep_begin(r, "churn");
	rep_u64(r, "started", k->started);
	rep_u64(r, "set_up", k->setup_ok);
	rep_u64(r, "deleted", k->deleted);
	rep_u64(r, "abandoned", k->abandoned);
	rep_u64(r, "failed", k->failed);
	rep_u64(r, "reinvites", k->actions[A_REINVITE]);
	rep_u64(r, "port_changes", k->actions[A_MOVE]);
	rep_u64(r, "holds_sendonly", k->actions[A_HOLD]);
	rep_u64(r, "holds_zero", k->actions[A_HOLD_ZERO]);
	rep_u64(r, "concurrent_min", sk.conc_min);
	rep_f(r, "concurrent_avg", sk.conc_n ? (double)sk.conc_sum / (double)sk.conc_n : NAN, 1);
	rep_f(r, "calls_per_s", (double)k->started / x->secs, 1);
	rep_str(r, "first_error", b->first_error);
	rep_end(r);
	rep_begin(r, "packets");
	rep_u64(r, "rtp_sent", k->sent[0]);
	rep_u64(r, "rtp_received", k->recv[0]);
	rep_f(r, "rtp_loss_pct", k->sent[0] ? 100.0 * (double)lost / (double)k->sent[0] : 0, 4);
	rep_u64(r, "rtcp_sent", k->sent[1]);
	rep_u64(r, "rtcp_received", k->recv[1]);
	rep_u64(r, "misrouted", k->misrouted);
	rep_u64(r, "wrong_source", k->wrong_source);
	rep_u64(r, "foreign", k->foreign);
	rep_u64(r, "duplicate_suspects", k->dup_suspect);
	rep_u64(r, "send_errors", k->send_errors);
	rep_u64(r, "recv_errors", k->recv_errors);
	rep_u64(r, "busy_ports_skipped", k->port_busy);
	rep_str(r, "first_misroute", s->first_misroute);
	rep_f(r, "latency_p50_us", (double)hist_quantile(&s->lat, 0.50) / 1e3, 1);
	rep_f(r, "latency_p99_us", (double)hist_quantile(&s->lat, 0.99) / 1e3, 1);
	rep_f(r, "latency_max_us", (double)s->lat.max / 1e3, 1);
	rep_u64(r, "later_than_settle", k->late);
	rep_u64(r, "slow_drains", k->slow_drains);
	rep_u64(r, "drain_timeouts", k->drain_timeouts);
	rep_f(r, "drain_max_ms", (double)k->drain_max / 1e6, 1);
	rep_end(r);
	rep_begin(r, "counters");
	rep_u64(r, "deletes_checked", k->stats_checked);
	rep_u64(r, "mismatches", k->stats_mismatch);
	rep_str(r, "first_mismatch", s->first_mismatch);
	rep_f(r, "udp_rcvbuf_errors_host", (double)x->rcvbuf_errors, 0);
	rep_end(r);
	rep_begin(r, "abandoned_calls");
	rep_u64(r, "gone", k->gone_ok);
	rep_u64(r, "still_alive", k->gone_alive);
	rep_u64(r, "unclear", k->gone_unclear);
	rep_str(r, "first_alive", s->first_alive);
	rep_f(r, "listed_at_end", x->listed, 0);
	rep_end(r);
	rep_begin(r, "memory");
	rep_u64(r, "rss_kib_start", sk.n_rss ? sk.rss[0].kib : 0);
	rep_u64(r, "rss_kib_warm", rss_at(sk.t_warm));
	rep_u64(r, "rss_kib_stop", rss_at(s->t_stop));
	rep_u64(r, "rss_kib_max", rss_max());
	rep_u64(r, "rss_kib_end", sk.n_rss ? sk.rss[sk.n_rss - 1].kib : 0);
	rep_f(r, "idle_wait_s", b->o.idle_wait, 0);
	rep_f(r, "rss_kib_idle", x->rss_idle ? (double)x->rss_idle : NAN, 0);
	rep_f(r, "idle_growth_kib", x->rss_idle && sk.n_rss ?
	      (double)x->rss_idle - (double)sk.rss[0].kib : NAN, 0);
	rep_f(r, "idle_growth_limit", b->o.idle_growth_limit, 0);
	rep_u64(r, "slope_samples", x->slope_n);
	rep_f(r, "rss_slope_kib_per_min", x->slope, 2);
	rep_f(r, "rss_slope_limit", b->o.rss_slope_limit, 1);
	rep_u64(r, "cache_samples", x->cache_n);
	rep_f(r, "ng_cache_kib_warm", cache_at(sk.t_warm), 0);
	rep_f(r, "ng_cache_kib_stop", cache_at(b->soak->t_stop), 0);
	rep_f(r, "ng_cache_slope_kib_per_min", x->cache_slope, 2);
	rep_f(r, "rss_less_cache_slope_kib_per_min", x->rest_slope, 2);
	rep_end(r);
	rep_begin(r, "fds");
	rep_f(r, "start", x->fd_start, 0);
	rep_f(r, "end", x->fd_end, 0);
	rep_u64(r, "max", (uint64_t)sk.fd_max);
	rep_end(r);
	rep_f(r, "relay_cpu_pct", x->relay_cpu_pct, 1);
	rep_f(r, "generator_cpu_pct", x->gen_cpu_pct, 1);
}

static int verdict(struct rep *r, struct bench *b, const struct soak_result *x)
{
	const struct soak *s = b->soak;
	const struct soak_counts *k = &s->k;
	char why[12][400];
	int n = 0;

#define WHY(...) snprintf(why[n++], sizeof(why[0]), __VA_ARGS__)
	if (b->o.rss_slope_limit >= 0 && !(x->slope <= b->o.rss_slope_limit))
		WHY("RSS slope %.2f KiB/min over %u samples after warm-up (limit %.1f)",
		    x->slope, x->slope_n, b->o.rss_slope_limit);
	if (x->rss_idle && b->o.idle_growth_limit >= 0 && sk.n_rss &&
	    (double)x->rss_idle - (double)sk.rss[0].kib > b->o.idle_growth_limit)
		WHY("RSS %llu KiB after %.0f s without calls, %llu KiB at the start (limit +%.0f)",
		    (unsigned long long)x->rss_idle, b->o.idle_wait,
		    (unsigned long long)sk.rss[0].kib, b->o.idle_growth_limit);
	if (x->fd_start < 0 || x->fd_end != x->fd_start)
		WHY("relay fds %d at the start, %d at the end", x->fd_start, x->fd_end);
	if (k->misrouted || k->wrong_source || k->foreign)
		WHY("%llu misrouted, %llu from a wrong source, %llu foreign packets (%s)",
		    (unsigned long long)k->misrouted, (unsigned long long)k->wrong_source,
		    (unsigned long long)k->foreign, s->first_misroute);
	if (k->stats_mismatch)
		WHY("%llu delete counters differ from what was sent (%s)",
		    (unsigned long long)k->stats_mismatch, s->first_mismatch);
	if (!k->stats_checked)
		WHY("no delete was checked");
	if (k->gone_alive || k->gone_unclear)
		WHY("abandoned calls: %llu still alive, %llu unclear (%s)",
		    (unsigned long long)k->gone_alive, (unsigned long long)k->gone_unclear,
		    s->first_alive[0] ? s->first_alive : b->first_error);
	if (x->listed != 0)
		WHY("list shows %d calls at the end", x->listed);
	if (k->failed)
		WHY("%llu calls failed (first: %s)", (unsigned long long)k->failed, b->first_error);
	if (!x->drained)
		WHY("calls still running after the drain limit");
	if (kill(b->o.pid, 0))
		WHY("relay pid %d is gone", b->o.pid);
#undef WHY
	rep_bool(r, "valid", n == 0);
	rep_array(r, "invalid_reasons");
	for (int i = 0; i < n; i++)
		rep_str(r, NULL, why[i]);
	rep_array_end(r);
	return n ? 1 : 0;
}

int mode_soak(struct bench *b, struct rep *r)
{
	struct soak_result x = { .fd_start = -1 };
	struct proc_sample c0, c1;
	uint64_t self0, self1;
	long long rb0 = udp_rcvbuf_errors();
	int64_t now, drain_ns = (int64_t)((b->o.relay_timeout + b->o.gone_grace + 30) * 1e9);
	int ret = alloc(b);

	if (ret) {
		fprintf(stderr, "sluice-bench: soak setup: %s\n", strerror(-ret));
		return 2;
	}
	b->ops = &soak_ops;
	x.fd_start = proc_fd_count(b->o.pid);
	now = mono_ns();
	sk.t0 = sk.next_sample = now;
	sk.t_warm = now + (int64_t)(b->o.warmup * 1e9);
	b->soak->t_stop = now + (int64_t)(b->o.duration * 1e9);
	proc_sample(b->o.pid, &c0);
	self0 = self_cpu_ns();
	loop_run(b, b->soak->t_stop, NULL);
	proc_sample(b->o.pid, &c1);
	self1 = self_cpu_ns();
	x.secs = (double)(c1.at_ns - c0.at_ns) / 1e9;
	x.relay_cpu_pct = c0.ok && c1.ok ? 100.0 * (double)(c1.cpu_ns - c0.cpu_ns) /
					   (double)(c1.at_ns - c0.at_ns) : NAN;
	x.gen_cpu_pct = 100.0 * (double)(self1 - self0) / (double)(c1.at_ns - c0.at_ns);
	loop_run(b, mono_ns() + drain_ns, soak_calls_idle);
	x.drained = soak_calls_idle(b);
	x.listed = list_calls(b);
	x.fd_end = fds_settle(b, x.fd_start);
	if (b->o.idle_wait > 0) {       /* the reply cache empties, the heap is trimmed */
		loop_run(b, mono_ns() + (int64_t)(b->o.idle_wait * 1e9), NULL);
		x.rss_idle = sk.n_rss ? sk.rss[sk.n_rss - 1].kib : 0;
	}
	x.slope = rss_slope(sk.t_warm, b->soak->t_stop, Y_RSS, &x.slope_n);
	x.cache_slope = rss_slope(sk.t_warm, b->soak->t_stop, Y_CACHE, &x.cache_n);
	x.rest_slope = rss_slope(sk.t_warm, b->soak->t_stop, Y_RSS_MINUS_CACHE, &x.cache_n);
	x.rcvbuf_errors = rb0 >= 0 ? udp_rcvbuf_errors() - rb0 : -1;
	if (b->o.rss_csv)
		write_csv(b->o.rss_csv);

	rep_begin(r, NULL);
	report(r, b, &x);
	ret = verdict(r, b, &x);
	rep_end(r);
	soak_media_free(b);
	return ret;
}
