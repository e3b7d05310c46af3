/* Port pair pool and socket binding. */
#include "ports.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How many released pairs wait before they may be drawn again: an eighth of the range. */
#define QUARANTINE_DIV 8

int port_pool_init(struct port_pool *p, uint16_t min, uint16_t max)
{
	unsigned pairs;

	memset(p, 0, sizeof(*p));
	if (min & 1)
		min++;
	if (min == 0 || min > max || max - min < 1)
		return -EINVAL;
	pairs = ((unsigned)max - min + 1) / 2;
	p->free = calloc(pairs, sizeof(*p->free));
	p->quar = calloc(pairs / QUARANTINE_DIV + 1, sizeof(*p->quar));
	p->in_use = calloc(pairs, 1);
	if (!p->free || !p->quar || !p->in_use) {
		port_pool_destroy(p);
		return -ENOMEM;
	}
	p->min = min;
	p->max = (uint16_t)(min + pairs * 2 - 1);
	p->cap = pairs;
	p->q_cap = pairs / QUARANTINE_DIV;
	for (unsigned i = 0; i < pairs; i++)
		p->free[i] = (uint16_t)(min + 2 * i);
	p->n_free = pairs;
	return 0;
}

void port_pool_destroy(struct port_pool *p)
{
	free(p->free);
	free(p->quar);
	free(p->in_use);
	memset(p, 0, sizeof(*p));
}

/* The oldest quarantined pair becomes drawable. */
static void release_oldest(struct port_pool *p)
{
	p->free[p->n_free++] = p->quar[p->q_head];
	p->q_head = (p->q_head + 1) % p->q_cap;
	p->q_count--;
}

int port_pool_get(struct port_pool *p, uint16_t *rtp_port)
{
	uint32_t i;

	if (!p->n_free && p->q_count)
		release_oldest(p);
	if (!p->n_free)
		return -ENOSPC;
	i = arc4random_uniform(p->n_free);
	*rtp_port = p->free[i];
	p->free[i] = p->free[--p->n_free];
	p->in_use[(*rtp_port - p->min) / 2] = 1;
	p->last = *rtp_port;
	return 0;
}

int port_pool_put(struct port_pool *p, uint16_t rtp_port)
{
	unsigned idx;

	if (rtp_port < p->min || rtp_port > p->max || (rtp_port - p->min) & 1)
		return -EINVAL;
	idx = (rtp_port - p->min) / 2;
	if (!p->in_use[idx])
		return -EINVAL;
	p->in_use[idx] = 0;
	if (!p->q_cap) {
		p->free[p->n_free++] = rtp_port;
		return 0;
	}
	if (p->q_count == p->q_cap)
		release_oldest(p);
	p->quar[(p->q_head + p->q_count) % p->q_cap] = rtp_port;
	p->q_count++;
	return 0;
}

unsigned port_pool_free_pairs(const struct port_pool *p)
{
	return p->n_free + p->q_count;
}

unsigned port_pool_total_pairs(const struct port_pool *p)
{
	return p->cap;
}

/* freebind: the address may not be ours yet (a standby taking calls over before the
 * floating address has come, docs/ha.md); the socket receives once it is. */
static int udp_bind(const union sockaddr_u *local, uint16_t port, bool freebind)
{
	union sockaddr_u a = *local;
	int fd, one = 1;

	fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (freebind)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	netaddr_set_port(&a, port);
	if (bind(fd, &a.sa, netaddr_len(&a)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Remove a given pair from the free list or the quarantine. O(range): restore only. */
static int pool_take(struct port_pool *p, uint16_t port)
{
	unsigned i;

	if (port < p->min || port > p->max || (port - p->min) & 1)
		return -EINVAL;
	if (p->in_use[(port - p->min) / 2])
		return -EADDRINUSE;
	for (i = 0; i < p->n_free && p->free[i] != port; i++)
		;
	if (i < p->n_free) {
		p->free[i] = p->free[--p->n_free];
	} else {
		/* in quarantine: swap it to the head and drop the head */
		unsigned n = p->q_count, k;

		for (k = 0; k < n && p->quar[(p->q_head + k) % p->q_cap] != port; k++)
			;
		if (k == n)
			return -EADDRINUSE;
		p->quar[(p->q_head + k) % p->q_cap] = p->quar[p->q_head];
		p->q_head = (p->q_head + 1) % p->q_cap;
		p->q_count--;
	}
	p->in_use[(port - p->min) / 2] = 1;
	return 0;
}

int port_pair_open_at(struct port_pool *p, const union sockaddr_u *local, uint16_t rtp_port,
		      int fds[2])
{
	int e = pool_take(p, rtp_port), a, b;

	if (e)
		return e;
	a = udp_bind(local, rtp_port, true);
	b = a >= 0 ? udp_bind(local, (uint16_t)(rtp_port + 1), true) : -1;
	if (a >= 0 && b >= 0) {
		fds[0] = a;
		fds[1] = b;
		return 0;
	}
	if (a >= 0)
		close(a);
	port_pool_put(p, rtp_port);
	return a < 0 ? a : b;
}

int port_pair_open(struct port_pool *p, const union sockaddr_u *local, int fds[2],
		   uint16_t *rtp_port)
{
	/* pairs another program holds stay out of the draw until we are done */
	uint16_t busy[64];
	unsigned n_busy = 0, tries = port_pool_free_pairs(p);
	int ret = -ENOSPC;

	while (tries--) {
		uint16_t port;
		int a, b;

		if (port_pool_get(p, &port))
			break;
		a = udp_bind(local, port, false);
		b = a >= 0 ? udp_bind(local, (uint16_t)(port + 1), false) : -1;
		if (a >= 0 && b >= 0) {
			fds[0] = a;
			fds[1] = b;
			*rtp_port = port;
			ret = 0;
			break;
		}
		if (a >= 0)
			close(a);
		if (a != -EADDRINUSE && b != -EADDRINUSE && a < 0) {
			port_pool_put(p, port);
			ret = a;
			break;
		}
		if (n_busy == sizeof(busy) / sizeof(busy[0]))
			while (n_busy)
				port_pool_put(p, busy[--n_busy]);
		busy[n_busy++] = port;
	}
	while (n_busy)
		port_pool_put(p, busy[--n_busy]);
	return ret;
}

void port_sock_tos(int fd, const union sockaddr_u *local, int tos)
{
	if (local->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}
