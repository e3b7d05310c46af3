/* Port pair pool and socket binding. */
#include "ports.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int port_pool_init(struct port_pool *p, uint16_t min, uint16_t max)
{
	unsigned pairs;

	memset(p, 0, sizeof(*p));
	if (min & 1)
		min++;
	if (min == 0 || min > max || max - min < 1)
		return -EINVAL;
	pairs = ((unsigned)max - min + 1) / 2;
	p->ring = calloc(pairs, sizeof(*p->ring));
	p->in_use = calloc(pairs, 1);
	if (!p->ring || !p->in_use) {
		port_pool_destroy(p);
		return -ENOMEM;
	}
	p->min = min;
	p->max = (uint16_t)(min + pairs * 2 - 1);
	p->cap = pairs;
	for (unsigned i = 0; i < pairs; i++)
		p->ring[i] = (uint16_t)(min + 2 * i);
	p->count = pairs;
	return 0;
}

void port_pool_destroy(struct port_pool *p)
{
	free(p->ring);
	free(p->in_use);
	memset(p, 0, sizeof(*p));
}

int port_pool_get(struct port_pool *p, uint16_t *rtp_port)
{
	if (!p->count)
		return -ENOSPC;
	*rtp_port = p->ring[p->head];
	p->head = (p->head + 1) % p->cap;
	p->count--;
	p->in_use[(*rtp_port - p->min) / 2] = 1;
	return 0;
}

int port_pool_put(struct port_pool *p, uint16_t rtp_port)
{
	unsigned idx;

	if (rtp_port < p->min || rtp_port > p->max || (rtp_port - p->min) & 1)
		return -EINVAL;
	idx = (rtp_port - p->min) / 2;
	if (!p->in_use[idx] || p->count == p->cap)
		return -EINVAL;
	p->in_use[idx] = 0;
	p->ring[(p->head + p->count) % p->cap] = rtp_port;
	p->count++;
	return 0;
}

unsigned port_pool_free_pairs(const struct port_pool *p)
{
	return p->count;
}

unsigned port_pool_total_pairs(const struct port_pool *p)
{
	return p->cap;
}

static int udp_bind(const union sockaddr_u *local, uint16_t port)
{
	union sockaddr_u a = *local;
	int fd, one = 1;

	fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	netaddr_set_port(&a, port);
	if (bind(fd, &a.sa, netaddr_len(&a)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int port_pair_open(struct port_pool *p, const union sockaddr_u *local, int fds[2],
		   uint16_t *rtp_port)
{
	unsigned tries = p->count;

	while (tries--) {
		uint16_t port;
		int a, b;

		if (port_pool_get(p, &port))
			break;
		a = udp_bind(local, port);
		b = a >= 0 ? udp_bind(local, (uint16_t)(port + 1)) : -1;
		if (a >= 0 && b >= 0) {
			fds[0] = a;
			fds[1] = b;
			*rtp_port = port;
			return 0;
		}
		if (a >= 0)
			close(a);
		port_pool_put(p, port);
		if (a != -EADDRINUSE && b != -EADDRINUSE && a < 0)
			return a;
	}
	return -ENOSPC;
}
