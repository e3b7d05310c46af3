/* RTP/RTCP port pairs from the configured range: RTP even, RTCP = RTP + 1.
 * A pair is drawn at random from the free ones (arc4random), so the next call's ports
 * cannot be predicted from this one's (RTP Bleed: a stranger who knows the next port
 * can race the phone to it). A released pair waits in a short FIFO before it can be
 * drawn again, so late packets of an old call rarely reach a new one. Get and put are
 * O(1). Owned by the control thread. */
#ifndef SLUICE_PORTS_H
#define SLUICE_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/netaddr.h"

struct port_pool {
	uint16_t min, max;      /* min even; every pair (p, p+1) lies within [min, max] */
	uint16_t *free;         /* RTP ports that may be drawn */
	unsigned n_free;
	uint16_t *quar;         /* released RTP ports, FIFO, back to free[] when it is full */
	unsigned q_head, q_count, q_cap;
	unsigned cap;           /* pairs in the range */
	uint8_t *in_use;        /* one flag per pair: catches double release */
	uint16_t last;          /* RTP port of the last pair taken, 0 none (statistics) */
};

/* 0, -EINVAL (range holds no pair) or -ENOMEM. An odd min is rounded up. */
int port_pool_init(struct port_pool *p, uint16_t min, uint16_t max);
void port_pool_destroy(struct port_pool *p);
/* Take a free pair at random: 0 or -ENOSPC. */
int port_pool_get(struct port_pool *p, uint16_t *rtp_port);
/* Return a pair taken with port_pool_get. -EINVAL if it was not taken. */
int port_pool_put(struct port_pool *p, uint16_t rtp_port);
unsigned port_pool_free_pairs(const struct port_pool *p);
unsigned port_pool_total_pairs(const struct port_pool *p);

/* Take a pair and bind two non-blocking UDP sockets on local (address; port ignored).
 * Pairs another program holds are skipped (released again). 0, -ENOSPC when no
 * pair could be bound, or another -errno. */
int port_pair_open(struct port_pool *p, const union sockaddr_u *local, int fds[2],
		   uint16_t *rtp_port);
/* IP TOS (IPv6: traffic class) of what socket fd, bound on local, sends. A failure
 * leaves the system's value. */
void port_sock_tos(int fd, const union sockaddr_u *local, int tos);

/* Take the given pair and bind it: restoring a call on the ports it had (bound even if
 * the address is not here yet: IP_FREEBIND, for a standby's takeover). 0,
 * -EADDRINUSE (taken, by us or another program) or -EINVAL (outside the range). */
int port_pair_open_at(struct port_pool *p, const union sockaddr_u *local, uint16_t rtp_port,
		      int fds[2]);

#endif
