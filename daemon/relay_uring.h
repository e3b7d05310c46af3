/* The io_uring receive/send backend of a media worker (relay.h). One ring per worker,
 * made and used only by that worker's thread, except relay_uring_add()/del() which the
 * control thread calls.
 *
 * Receive: every socket of the worker has one multishot recvmsg armed, taking buffers
 * from a ring of provided buffers; one io_uring_enter both submits the sends of the
 * previous round and waits for the next completions, whatever socket they arrived on.
 * Send: each packet is one sendmsg SQE (MSG_DONTWAIT: a full socket buffer drops it, as
 * the sendmmsg path does, and the data is consumed while the SQE is submitted), and its
 * success makes no completion (IOSQE_CQE_SKIP_SUCCESS). So a busy worker makes about one
 * system call per round instead of one receive and one send per socket.
 *
 * Lifetime: a socket's receive is tracked by a slot that the control thread makes in
 * relay_uring_add() and marks dead in relay_uring_del(); the worker cancels the receive
 * and frees the slot once the kernel has given back the last completion naming it. A
 * completion that arrives after del() names a dead slot and is dropped; one harvested
 * before is handled within the worker's round, which the grace period covers (relay.h). */
#ifndef SLUICE_RELAY_URING_H
#define SLUICE_RELAY_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

struct relay_uring;
struct stream_ref;

/* One received packet. */
struct relay_rx {
	struct stream_ref *ref;         /* the socket it came in on */
	uint8_t *p;                     /* payload; PKT_MAX bytes may be written from p */
	size_t len;
	const union sockaddr_u *src;
	bool trunc;                     /* longer than the buffer: cut */
};

/* Worker thread. Makes the ring and probes the kernel (multishot recvmsg, provided
 * buffer rings, skipped completions). 0, or -errno with why in *why (a static string):
 * the caller falls back to the recvmmsg path. pkt_max: payload capacity of a buffer. */
int relay_uring_new(struct relay_uring **out, unsigned n_bufs, size_t pkt_max, int wake_fd,
		    const char **why);
/* Does u sort each round's packets by receive time? Yes where the kernel posts the
 * completions of several sockets newest first (6.1): the packets are then stamped
 * (SO_TIMESTAMPNS on every socket added). Elsewhere completions come in arrival order. */
bool relay_uring_stamped(const struct relay_uring *u);
/* Tests: stamp and sort on any kernel. Before the first relay_uring_add(). */
void relay_uring_set_stamped(struct relay_uring *u);
/* Worker thread, after the last round. Frees every slot too. */
void relay_uring_free(struct relay_uring *u);

/* Control thread. 0 or -ENOMEM. The worker arms the receive in its next round (the
 * caller wakes it). */
int relay_uring_add(struct relay_uring *u, struct stream_ref *ref);
/* Control thread: no packet of ref is handed out in a round that starts after this. */
void relay_uring_del(struct relay_uring *u, struct stream_ref *ref);

/* Worker: submit what is queued (sends, arms), wait at most timeout_ms (-1: no limit)
 * for completions, and hand out up to max (at most 64) packets in rx, in the order they
 * arrived (those of one socket always; across sockets too, sorted by receive time where
 * the kernel does not keep that order: relay_uring_stamped()). The packets' memory stays
 * valid until the next call. Returns how many. */
unsigned relay_uring_round(struct relay_uring *u, int timeout_ms, struct relay_rx *rx,
			   unsigned max);
/* Worker: queue one send of data (valid until the next submit) to dest from fd. */
void relay_uring_send(struct relay_uring *u, int fd, const union sockaddr_u *dest,
		      const void *data, size_t len);
/* Worker: submit the queued sends now (their data is about to be reused). false: the
 * kernel took none (its completion queue overflows), the data must stay. */
bool relay_uring_submit(struct relay_uring *u);
/* Worker: are sends still queued after the round's submit (see relay_uring_submit)? */
bool relay_uring_pending(const struct relay_uring *u);
/* Is p inside a receive buffer (no copy is needed to send it)? */
bool relay_uring_owns(const struct relay_uring *u, const uint8_t *p);

#endif
