/* The CLI's transport: a TCP listener and at most CLI_MAX_CONNS connections, each
 * reading one request line, writing one reply and closing. */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cli_internal.h"
#include "daemon.h"
#include "sluice/log.h"

#define CLI_MAX_CONNS    16
#define CLI_MAX_REQUEST  4096                   /* bytes of one request line, with "\n" */
#define CLI_MAX_REPLY    (64u << 20)            /* a listing of ~400k calls */
#define CLI_READ_US      (5 * 1000000LL)        /* to send the request line */
#define CLI_TOTAL_US     (30 * 1000000LL)       /* to take the whole reply */
#define CLI_LINGER_US    (1 * 1000000LL)        /* after the reply: wait for the close */
#define CLI_TIMER_NS     250000000L

enum conn_state { C_FREE = 0, C_READ, C_WRITE, C_LINGER };

struct conn {
	enum conn_state state;
	int fd;
	int64_t read_until, done_until;         /* mono_fine_us deadlines */
	size_t in_len;
	char in[CLI_MAX_REQUEST + 1];
	struct strbuf out;
	size_t out_off;
};

struct cli {
	struct daemon *d;
	int epfd;                       /* the CLI's own epoll set */
	int lfd;                        /* listener */
	int tfd;                        /* deadline timer, armed while connections exist */
	unsigned n_conns;
	uint64_t refused;               /* connections closed because all slots were busy */
	struct conn conns[CLI_MAX_CONNS];
};

/* epoll data: the listener and timer by these tags, connections by their slot */
static char tag_listen, tag_timer;

static bool is_loopback(const union sockaddr_u *a)
{
	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->sin.sin_addr.s_addr) >> 24) == 127;
	return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->sin6.sin6_addr);
}

static int listen_on(const union sockaddr_u *a, char *err, size_t errlen)
{
	char s[NETADDR_STRLEN];
	int one = 1, fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->sa, netaddr_len(a)) || listen(fd, CLI_MAX_CONNS))
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on CLI %s: %s", netaddr_str(a, s, sizeof(s)),
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int ep_add(int epfd, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void timer_arm(struct cli *c, bool on)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (on)
		its.it_interval.tv_nsec = its.it_value.tv_nsec = CLI_TIMER_NS;
	timerfd_settime(c->tfd, 0, &its, NULL);
}

int cli_open(struct cli **out, struct daemon *d, int epfd, void *tag, char *err,
	     size_t errlen)
{
	const union sockaddr_u *a = &d->cfg->listen_cli;
	struct cli *c;
	char s[NETADDR_STRLEN];

	*out = NULL;
	if (!a->sa.sa_family)
		return 0;
	if (!(c = calloc(1, sizeof(*c)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->d = d;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	c->lfd = listen_on(a, err, errlen);
	if (c->lfd < 0)
		goto fail;
	if (c->epfd < 0 || c->tfd < 0 || ep_add(c->epfd, c->lfd, EPOLLIN, &tag_listen) ||
	    ep_add(c->epfd, c->tfd, EPOLLIN, &tag_timer) || ep_add(epfd, c->epfd, EPOLLIN, tag)) {
		snprintf(err, errlen, "CLI setup failed: %s", strerror(errno));
		goto fail;
	}
	if (!is_loopback(a))
		ilog(LOG_WARNING, "CLI: listening on %s: anyone who can reach it can end calls",
		     netaddr_str(a, s, sizeof(s)));
	else
		ilog(LOG_INFO, "CLI: listening on %s", netaddr_str(a, s, sizeof(s)));
	*out = c;
	return 0;
fail:
	cli_close(c);
	return -EADDRINUSE;
}

static void conn_free(struct cli *c, struct conn *k)
{
	close(k->fd);                   /* also leaves the epoll set */
	sb_free(&k->out);
	k->state = C_FREE;
	if (--c->n_conns == 0)
		timer_arm(c, false);
}

void cli_close(struct cli *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < CLI_MAX_CONNS; i++)
		if (c->conns[i].state != C_FREE)
			conn_free(c, &c->conns[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
}

static void cli_accept(struct cli *c)
{
	for (int budget = CLI_MAX_CONNS; budget--;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *k = NULL;
		int64_t now = mono_fine_us();

		if (fd < 0)
			return;
		for (unsigned i = 0; i < CLI_MAX_CONNS && !k; i++)
			if (c->conns[i].state == C_FREE)
				k = &c->conns[i];
		if (!k || ep_add(c->epfd, fd, EPOLLIN, k)) {
			if (!(c->refused++ % 100))
				ilog(LOG_WARNING, "CLI: all %d connection slots busy, closing a new "
				     "one (%llu so far)", CLI_MAX_CONNS,
				     (unsigned long long)c->refused);
			close(fd);
			continue;
		}
		k->state = C_READ;
		k->fd = fd;
		k->in_len = 0;
		k->out_off = 0;
		k->read_until = now + CLI_READ_US;
		k->done_until = now + CLI_TOTAL_US;
		sb_init(&k->out);
		if (c->n_conns++ == 0)
			timer_arm(c, true);
	}
}

static void conn_linger(struct cli *c, struct conn *k)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = k };

	/* Half-close and wait for the client's close: closing with its bytes unread
	 * would reset the connection and could destroy the reply in flight. */
	shutdown(k->fd, SHUT_WR);
	k->state = C_LINGER;
	k->done_until = mono_fine_us() + CLI_LINGER_US;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev))
		conn_free(c, k);
}

static void conn_write(struct cli *c, struct conn *k)
{
	while (k->out_off < k->out.len) {
		ssize_t n = send(k->fd, k->out.buf + k->out_off, k->out.len - k->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(c, k);
			return;
		}
		k->out_off += (size_t)n;
	}
	conn_linger(c, k);
}

/* Anything but printable ASCII, tab and the line end is refused: call-ids are tokens
 * (RFC 3261), and a control byte could forge a log line or a reply line. */
static bool printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* The reply is in k->out: send it as the socket takes it. */
static void conn_send(struct cli *c, struct conn *k)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = k };

	k->state = C_WRITE;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev)) {
		conn_free(c, k);
		return;
	}
	conn_write(c, k);
}

static void conn_reply(struct cli *c, struct conn *k, char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (!printable(line, len))
		sb_puts(&k->out, "Malformed request: only printable ASCII is accepted.\n");
	else
		cli_command(c->d, line, &k->out);
	if (k->out.oom || k->out.len > CLI_MAX_REPLY) {
		sb_reset(&k->out);
		k->out.oom = false;
		sb_puts(&k->out, "Reply too large or out of memory.\n");
	}
	conn_send(c, k);
}

static void conn_read(struct cli *c, struct conn *k)
{
	ssize_t n;
	char *nl;

	if (k->state == C_LINGER) {
		char sink[512];
		n = recv(k->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			conn_free(c, k);
		return;
	}
	n = recv(k->fd, k->in + k->in_len, CLI_MAX_REQUEST - k->in_len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0 || (n == 0 && !k->in_len)) {
		conn_free(c, k);
		return;
	}
	k->in_len += (size_t)n;
	k->in[k->in_len] = '\0';
	nl = memchr(k->in, '\n', k->in_len);
	if (nl) {
		*nl = '\0';
		conn_reply(c, k, k->in, (size_t)(nl - k->in));
	} else if (n == 0) {            /* the client half-closed: its line is complete */
		conn_reply(c, k, k->in, k->in_len);
	} else if (k->in_len >= CLI_MAX_REQUEST) {
		sb_printf(&k->out, "Request too long (at most %d bytes).\n", CLI_MAX_REQUEST - 1);
		conn_send(c, k);
	}
}

static void expire(struct cli *c)
{
	uint64_t ticks;
	int64_t now = mono_fine_us();

	if (read(c->tfd, &ticks, sizeof(ticks)) < 0)
		return;
	for (unsigned i = 0; i < CLI_MAX_CONNS; i++) {
		struct conn *k = &c->conns[i];

		if (k->state == C_READ && now >= k->read_until) {
			/* a slow or silent client: say why, best effort, and go */
			sb_puts(&k->out, "Timeout: no complete request line.\n");
			conn_send(c, k);
		} else if (k->state != C_FREE && now >= k->done_until) {
			conn_free(c, k);
		}
	}
}

void cli_run(struct cli *c)
{
	struct epoll_event ev[CLI_MAX_CONNS + 2];
	int n = epoll_wait(c->epfd, ev, CLI_MAX_CONNS + 2, 0);

	for (int i = 0; i < n; i++) {
		void *p = ev[i].data.ptr;
		struct conn *k = p;

		if (p == &tag_listen)
			cli_accept(c);
		else if (p == &tag_timer)
			expire(c);
		else if (k->state == C_WRITE)
			conn_write(c, k);
		else if (k->state == C_READ || k->state == C_LINGER)
			conn_read(c, k);
	}
}
