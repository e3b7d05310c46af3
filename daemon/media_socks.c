/* A media's sockets on every address of its logical interface (media_socks.h). */
#include "media_socks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "ports.h"
#include "relay.h"
#include "sluice/log.h"

unsigned media_socks_peers(const struct iface *ifs, unsigned n, const struct iface *primary,
			   const struct iface **out, unsigned max)
{
	unsigned found = 0;

	/* pass 0: the primary's family, pass 1: the others */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < n; i++) {
			const struct iface *f = &ifs[i];
			bool same = f->advertised.sa.sa_family == primary->advertised.sa.sa_family;

			if (f == primary || strcmp(f->name, primary->name) || same != (pass == 0))
				continue;
			if (found < max)
				out[found] = f;
			found++;
		}
	return found;
}

static void xsock_init(struct stream_xsock *x, struct stream *s, unsigned idx, int fd,
		       const struct iface *f, uint16_t port)
{
	x->ref.s = s;
	x->ref.idx = (uint8_t)idx;
	x->ref.fd = fd;
	x->local = f->local;
	netaddr_set_port(&x->local, port);
}

/* A port pair on f for address slot k of xs. 0 or -errno. */
static int open_one(struct media *m, struct media_xsocks *xs, unsigned k,
		    const struct iface *f)
{
	int fds[2], err;
	uint16_t port;

	/* no relay_flush() for ports of deleted calls, as media_ensure does: the call lock
	 * is held, and a worker waiting for it would hold up the grace period */
	err = port_pair_open(f->pool_ref, &f->local, fds, &port);
	if (err)
		return err;
	xs->iface[k] = f;
	xs->port[k] = port;
	xsock_init(&xs->rtp[k], &m->rtp, k + 1, fds[0], f, port);
	xsock_init(&xs->rtcp[k], &m->rtcp, k + 1, fds[1], f, (uint16_t)(port + 1));
	if (m->party->call->tos >= 0) {
		port_sock_tos(fds[0], &f->local, m->party->call->tos);
		port_sock_tos(fds[1], &f->local, m->party->call->tos);
	}
	return 0;
}

static void log_skipped(const struct media *m, const struct iface *f, const char *why)
{
	char a[NETADDR_STRLEN];

	clog(LOG_WARNING, m->party->call->callid, NULL,
	     "media %u: no ICE candidate on %s (interface %s): %s", m->index,
	     netaddr_ntop(&f->local, a, sizeof(a)), f->name, why);
}

static void publish(struct daemon *d, struct media *m, struct media_xsocks *xs)
{
	struct call *c = m->party->call;

	m->xsocks = xs;
	m->rtp.xs = xs->rtp;
	m->rtcp.xs = xs->rtcp;
	m->rtp.n_xs = m->rtcp.n_xs = (uint8_t)xs->n;
	/* registered only now: a worker learns of socket k after n_xs covers it */
	for (unsigned k = 0; k < xs->n; k++) {
		if (relay_xsock_add(d->relay, &xs->rtp[k], c->worker) ||
		    relay_xsock_add(d->relay, &xs->rtcp[k], c->worker))
			log_skipped(m, xs->iface[k], "cannot poll its sockets");
	}
}

int media_socks_open(struct daemon *d, struct media *m)
{
	const struct iface *peers[MEDIA_XSOCK_MAX];
	struct media_xsocks *xs;
	unsigned n;

	if (m->xsocks || !m->iface)
		return 0;
	n = media_socks_peers(d->ifaces, d->n_ifaces, m->iface, peers, MEDIA_XSOCK_MAX);
	if (!n)
		return 0;
	if (n > MEDIA_XSOCK_MAX)
		clog(LOG_WARNING, m->party->call->callid, NULL,
		     "media %u: interface %s has %u addresses, ICE candidates on the first %d",
		     m->index, m->iface->name, n + 1, STREAM_MAX_SOCKS);
	xs = calloc(1, sizeof(*xs));
	if (!xs)
		return -ENOMEM;
	for (unsigned i = 0; i < n && i < MEDIA_XSOCK_MAX; i++) {
		int err = open_one(m, xs, xs->n, peers[i]);

		if (err)
			log_skipped(m, peers[i], strerror(-err));
		else
			xs->n++;
	}
	publish(d, m, xs);
	return 0;
}

static void detach(struct media *m)
{
	m->xsocks = NULL;
	m->rtp.xs = m->rtcp.xs = NULL;
	m->rtp.n_xs = m->rtcp.n_xs = 0;
	m->rtp.tx_sock = m->rtcp.tx_sock = 0;
}

static void xsocks_release(void *arg)
{
	struct media_xsocks *xs = arg;

	for (unsigned k = 0; k < xs->n; k++) {
		close(xs->rtp[k].ref.fd);
		close(xs->rtcp[k].ref.fd);
		port_pool_put(xs->iface[k]->pool_ref, xs->port[k]);
	}
	free(xs);
}

int media_socks_rebind(struct daemon *d, struct media *m)
{
	struct media_xsocks *old = m->xsocks;
	struct call *c = m->party->call;
	int e;

	if (!old)
		return 0;
	media_socks_unregister(d, m);
	pthread_mutex_lock(&c->lock);
	detach(m);
	e = media_socks_open(d, m);
	pthread_mutex_unlock(&c->lock);
	/* a worker may be in a batch of an old one: closed after the grace period */
	relay_defer(d->relay, xsocks_release, old);
	return e;
}

void media_socks_unregister(struct daemon *d, struct media *m)
{
	struct media_xsocks *xs = m->xsocks;

	for (unsigned k = 0; xs && k < xs->n; k++) {
		relay_xsock_del(d->relay, &xs->rtp[k], m->party->call->worker);
		relay_xsock_del(d->relay, &xs->rtcp[k], m->party->call->worker);
	}
}

void media_socks_free(struct media *m)
{
	if (!m->xsocks)
		return;
	xsocks_release(m->xsocks);
	detach(m);
}

void media_socks_set_tos(struct media *m, int tos)
{
	struct media_xsocks *xs = m->xsocks;

	for (unsigned k = 0; xs && k < xs->n; k++) {
		port_sock_tos(xs->rtp[k].ref.fd, &xs->rtp[k].local, tos);
		port_sock_tos(xs->rtcp[k].ref.fd, &xs->rtcp[k].local, tos);
	}
}
