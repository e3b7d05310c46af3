/* NG over UDP and TCP. */
#include "ng_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"
#include "ng_acl.h"
#include "ng_cache.h"
#include "ng_control.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/log.h"
#include "sluice/strbuf.h"

#define TCP_MAX_CONNS 256
/* Replies a TCP client has not read yet, per connection; past this it is cut off
 * (a client that never reads must not make the daemon buffer without end). */
#define TCP_MAX_PENDING (64u << 20)
#define NG_CACHE_TTL_S 60               /* a repeat after this is a new request */

enum ep_kind { EP_UDP, EP_TCP_LISTEN, EP_TCP_CONN };

struct endpoint {
	enum ep_kind kind;              /* first member: epoll data.ptr points here */
	int fd;
	struct endpoint *next;          /* TCP connections list */
	union sockaddr_u peer;
	char *buf;                      /* TCP: bytes not yet framed */
	size_t len;
	char *out;                      /* TCP: replies not yet written: out[out_off..
	                                   out_len) */
	size_t out_off, out_len;
	bool want_out;                  /* TCP: EPOLLOUT requested */
};

struct ng_server {
	struct daemon *d;
	int epfd;
	struct endpoint *eps[2 * CFG_MAX_LISTEN];
	unsigned n_eps;
	struct endpoint *conns;
	unsigned n_conns;
	struct ng_cache *cache;
	struct ng_acl acl;
	uint64_t oversized;             /* UDP replies too large for a datagram */
	struct strbuf reply;
	char rxbuf[NG_MAX_MESSAGE + 2];
};

static int listen_sock(const union sockaddr_u *a, int type, char *err, size_t errlen)
{
	char s[NETADDR_STRLEN];
	int fd = socket(a->sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		goto fail;
	/* TCP only (TIME_WAIT): on UDP it would let a second daemon bind the same port. */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->sa, netaddr_len(a)) || (type == SOCK_STREAM && listen(fd, 64)))
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on %s %s: %s", type == SOCK_STREAM ? "TCP" : "UDP",
		 netaddr_str(a, s, sizeof(s)), strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int add_ep(struct ng_server *s, enum ep_kind kind, int fd)
{
	struct endpoint *ep = calloc(1, sizeof(*ep));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ep };

	if (!ep || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(ep);
		close(fd);
		return -ENOMEM;
	}
	ep->kind = kind;
	ep->fd = fd;
	s->eps[s->n_eps++] = ep;
	return 0;
}

static bool is_loopback(const union sockaddr_u *a)
{
	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->sin.sin_addr.s_addr) >> 24) == 127;
	return a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->sin6.sin6_addr);
}

/* Say who may control calls: an NG port open to a network is worth a warning. */
static void log_access(const struct config *cfg)
{
	char buf[CIDR_STRLEN * 4], one[CIDR_STRLEN], a[NETADDR_STRLEN];
	size_t len = 0;

	if (cfg->n_ng_allow) {
		for (unsigned i = 0; i < cfg->n_ng_allow && len < sizeof(buf); i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "",
						cidr_str(&cfg->ng_allow[i], one, sizeof(one)));
		ilog(LOG_NOTICE, "NG: accepting requests only from %s%s", buf,
		     len >= sizeof(buf) ? "..." : "");
		return;
	}
	for (unsigned i = 0; i < cfg->n_listen_ng + cfg->n_listen_tcp_ng; i++) {
		const union sockaddr_u *l = i < cfg->n_listen_ng ? &cfg->listen_ng[i] :
					    &cfg->listen_tcp_ng[i - cfg->n_listen_ng];
		if (!is_loopback(l))
			ilog(LOG_WARNING, "NG: listening on %s without --ng-allow: anyone who can "
			     "reach it can create and end calls", netaddr_str(l, a, sizeof(a)));
	}
}

int ng_server_open(struct ng_server **out, struct daemon *d, int epfd, char *err,
		   size_t errlen)
{
	const struct config *cfg = d->cfg;
	struct ng_server *s = calloc(1, sizeof(*s));
	int fd;

	if (!s || !(s->cache = ng_cache_new(NG_CACHE_TTL_S, cfg->ng_cache_max_bytes,
					     cfg->ng_cache_max_entries))) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return -ENOMEM;
	}
	s->d = d;
	s->epfd = epfd;
	ng_acl_init(&s->acl, cfg->ng_allow, cfg->n_ng_allow);
	sb_init(&s->reply);
	for (unsigned i = 0; i < cfg->n_listen_ng; i++) {
		if ((fd = listen_sock(&cfg->listen_ng[i], SOCK_DGRAM, err, errlen)) < 0 ||
		    add_ep(s, EP_UDP, fd))
			goto fail;
	}
	for (unsigned i = 0; i < cfg->n_listen_tcp_ng; i++) {
		if ((fd = listen_sock(&cfg->listen_tcp_ng[i], SOCK_STREAM, err, errlen)) < 0 ||
		    add_ep(s, EP_TCP_LISTEN, fd))
			goto fail;
	}
	log_access(cfg);
	*out = s;
	return 0;
fail:
	ng_server_close(s);
	return -EADDRINUSE;
}

static void conn_close(struct ng_server *s, struct endpoint *c)
{
	struct endpoint **pp;

	for (pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	close(c->fd);
	free(c->buf);
	free(c->out);
	free(c);
	s->n_conns--;
}

void ng_server_close(struct ng_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_close(s, s->conns);
	for (unsigned i = 0; i < s->n_eps; i++) {
		close(s->eps[i]->fd);
		free(s->eps[i]);
	}
	ng_cache_free(s->cache);
	sb_free(&s->reply);
	free(s);
}

/* The reply does not fit a datagram: say so instead of losing it without a trace
 * (the request is still in rxbuf). */
static void udp_too_large(struct ng_server *s, struct endpoint *ep, const union sockaddr_u *to,
			  socklen_t tolen, size_t reqlen)
{
	char why[160], a[NETADDR_STRLEN];
	size_t size = s->reply.len;

	s->oversized++;
	snprintf(why, sizeof(why), "Reply too large for a UDP datagram (%zu bytes): use NG "
		 "over TCP (--listen-tcp-ng) or ask for less (list: limit)", size);
	ilog(LOG_WARNING, "NG: reply of %zu bytes to %s does not fit a datagram, answered "
	     "with an error", size, netaddr_str(to, a, sizeof(a)));
	if (reqlen > sizeof(s->rxbuf) - 1)
		reqlen = sizeof(s->rxbuf) - 1;
	if (!ng_control_error(s->d, s->rxbuf, reqlen, why, &s->reply))
		sendto(ep->fd, s->reply.buf, s->reply.len, MSG_DONTWAIT, &to->sa, tolen);
}

static void udp_readable(struct ng_server *s, struct endpoint *ep)
{
	for (int budget = 64; budget--;) {
		union sockaddr_u from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(ep->fd, s->rxbuf, sizeof(s->rxbuf) - 1, MSG_TRUNC,
				     &from.sa, &flen);

		if (n < 0)
			return;
		if (!ng_acl_check(&s->acl, &from, NG_ACL_DATAGRAM, mono_us()))
			continue;
		/* A truncated datagram is still answered, as too large. */
		if (ng_control_process(s->d, s->cache, s->rxbuf,
				       (size_t)n > sizeof(s->rxbuf) - 1 ? sizeof(s->rxbuf) - 1
									: (size_t)n,
				       &from, &s->reply)) {
			ilog(LOG_WARNING, "NG: dropped a message without a cookie");
			continue;
		}
		if (sendto(ep->fd, s->reply.buf, s->reply.len, MSG_DONTWAIT, &from.sa, flen) < 0 &&
		    errno == EMSGSIZE)
			udp_too_large(s, ep, &from, flen, (size_t)n);
	}
}

static void tcp_accept(struct ng_server *s, struct endpoint *ep)
{
	struct endpoint *c;
	struct epoll_event ev;
	union sockaddr_u peer;
	socklen_t plen = sizeof(peer);
	int fd;

	fd = accept4(ep->fd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* denied before a byte is read: closing is all the peer learns */
	if (!ng_acl_check(&s->acl, &peer, NG_ACL_CONNECTION, mono_us())) {
		close(fd);
		return;
	}
	if (s->n_conns >= TCP_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->kind = EP_TCP_CONN;
	c->fd = fd;
	c->peer = peer;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
}

/* Length of the first complete message in buf ("cookie SP body"), 0 if incomplete,
 * -1 if it can never become valid. Bencode bodies are self-delimiting; JSON bodies end
 * at the brace that closes the first one (strings skipped). */
static long frame(const char *buf, size_t len)
{
	const char *sp = memchr(buf, ' ', len);
	size_t off, used;
	struct arena a;
	struct bval *v;
	int e;

	if (!sp)
		return len > NG_MAX_COOKIE ? -1 : 0;
	off = (size_t)(sp - buf) + 1;
	if (off >= len)
		return 0;
	if (buf[off] == '{') {
		int depth = 0;
		bool str = false, esc = false;
		for (size_t i = off; i < len; i++) {
			char ch = buf[i];
			if (str) {
				if (esc)
					esc = false;
				else if (ch == '\\')
					esc = true;
				else if (ch == '"')
					str = false;
			} else if (ch == '"') {
				str = true;
			} else if (ch == '{') {
				depth++;
			} else if (ch == '}' && --depth == 0) {
				return (long)(i + 1);
			}
		}
		return len > NG_MAX_MESSAGE ? -1 : 0;
	}
	arena_init(&a, NG_ARENA_LIMIT);
	e = bv_decode(&a, buf + off, len - off, &v, &used);
	arena_reset(&a);
	if (!e)
		return (long)(off + used);
	if (e == -EMSGSIZE && len <= NG_MAX_MESSAGE)
		return 0;
	return -1;
}

static int tcp_want_out(struct ng_server *s, struct endpoint *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (out == c->want_out)
		return 0;
	c->want_out = out;
	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what is pending; 0 (all written or the rest waits for EPOLLOUT) or -1 (close). */
static int tcp_flush(struct ng_server *s, struct endpoint *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {         /* a large reply's buffer is not kept */
		free(c->out);
		c->out = NULL;
		c->out_off = c->out_len = 0;
	}
	return tcp_want_out(s, c, c->out_len > 0) ? -1 : 0;
}

/* Queue one reply behind what is pending and write as much as the socket takes: a
 * large reply (list, statistics) is written in pieces as the client reads. 0 or -1. */
static int tcp_send(struct ng_server *s, struct endpoint *c, const char *buf, size_t len)
{
	char *nb;

	if (c->out_off) {                       /* once per reply, not per write */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > TCP_MAX_PENDING) {
		ilog(LOG_WARNING, "NG: TCP client does not read its replies, closing");
		return -1;
	}
	nb = realloc(c->out, c->out_len + len);
	if (!nb)
		return -1;
	c->out = nb;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return tcp_flush(s, c);
}

static void tcp_readable(struct ng_server *s, struct endpoint *c)
{
	char tmp[16384];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));
	char *nb;
	long m;

	if (n <= 0) {
		conn_close(s, c);
		return;
	}
	nb = realloc(c->buf, c->len + (size_t)n);
	if (!nb) {
		conn_close(s, c);
		return;
	}
	c->buf = nb;
	memcpy(c->buf + c->len, tmp, (size_t)n);
	c->len += (size_t)n;
	while (c->len && (m = frame(c->buf, c->len)) != 0) {
		size_t take = m < 0 ? c->len : (size_t)m;

		if (!ng_control_process(s->d, s->cache, c->buf, take, &c->peer, &s->reply) &&
		    tcp_send(s, c, s->reply.buf, s->reply.len)) {
			conn_close(s, c);
			return;
		}
		memmove(c->buf, c->buf + take, c->len - take);
		c->len -= take;
	}
}

void ng_server_event(struct ng_server *s, void *ptr, uint32_t events)
{
	struct endpoint *ep = ptr;

	switch (ep->kind) {
	case EP_UDP:
		udp_readable(s, ep);
		break;
	case EP_TCP_LISTEN:
		tcp_accept(s, ep);
		break;
	case EP_TCP_CONN:
		if ((events & EPOLLOUT) && tcp_flush(s, ep)) {
			conn_close(s, ep);
			break;
		}
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			tcp_readable(s, ep);
		break;
	}
}

void ng_server_tick(struct ng_server *s)
{
	int64_t now = mono_us();

	ng_cache_expire(s->cache, now);
	ng_acl_tick(&s->acl, now);
}

void ng_server_get_stats(const struct ng_server *s, struct ng_server_stats *out)
{
	memset(out, 0, sizeof(*out));
	ng_cache_get_stats(s->cache, &out->cache);
	out->denied_datagrams = s->acl.denied_datagrams;
	out->denied_connections = s->acl.denied_connections;
	out->tcp_connections = s->n_conns;
	out->oversized_replies = s->oversized;
}
