/* RTP/RTCP port pairs from the configured range: RTP even, RTCP = RTP + 1.
 * O(1) get and put through a FIFO of free pairs, so a released pair is reused last
 * (late packets of an old call rarely reach a new one). Owned by the control thread. */
#ifndef SLUICE_PORTS_H
#define SLUICE_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/netaddr.h"

struct port_pool {
	uint16_t min, max;      /* min even; every pair (p, p+1) lies within [min, max] */
	uint16_t *ring;         /* free RTP ports, FIFO */
	unsigned head, count, cap;
	uint8_t *in_use;        /* one flag per pair: catches double release */
};

/* 0, -EINVAL (range holds no pair) or -ENOMEM. An odd min is rounded up. */
int port_pool_init(struct port_pool *p, uint16_t min, uint16_t max);
void port_pool_destroy(struct port_pool *p);
/* Take the oldest free pair: 0 or -ENOSPC. */
int port_pool_get(struct port_pool *p, uint16_t *rtp_port);
/* Return a pair taken with port_pool_get. -EINVAL if it was not taken. */
int port_pool_put(struct port_pool *p, uint16_t rtp_port);
unsigned port_pool_free_pairs(const struct port_pool *p);
unsigned port_pool_total_pairs(const struct port_pool *p);

/* Take a pair and bind two non-blocking UDP sockets on local (address; port ignored).
 * Pairs another program holds are skipped (put back at the tail). 0, -ENOSPC when no
 * pair could be bound, or another -errno. */
int port_pair_open(struct port_pool *p, const union sockaddr_u *local, int fds[2],
		   uint16_t *rtp_port);

#endif
