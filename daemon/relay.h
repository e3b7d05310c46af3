/* The userspace data plane: N worker threads, each with its own epoll set; a stream's
 * sockets live in the set of its call's worker, each tagged with a struct stream_ref
 * (call.h: the stream and which of its sockets). Per wakeup a worker reads a batch with
 * recvmmsg, decides each packet with the stream's latch state, and sends the batch with
 * one sendmmsg per destination socket. No allocation and no global lock per packet.
 *
 * Reclamation: relay_stream_del() removes a socket from epoll at once; memory and file
 * descriptors are released through relay_defer(), which runs the callback on the
 * control thread once every worker has finished the batch it was in when the call was
 * made (each worker bumps a sequence number after every batch). With io_uring a socket
 * leaves the ring in the worker's next round and queued sends name their socket until
 * the next submit: there the grace period is two rounds (relay.c, grace()).
 *
 * Timers: a handler may ask for a call-back on its stream at a given time
 * (relay_timer_set(), media_handler.h), e.g. a jitter buffer's next playout. The worker
 * sleeps in epoll_wait at most until the earliest one; see relay_timer.h for lifetime. */
#ifndef SLUICE_RELAY_H
#define SLUICE_RELAY_H

#include <stdint.h>

struct daemon;
struct stream;
struct stream_xsock;
struct relay;

int relay_start(struct relay **out, struct daemon *d, unsigned n_workers);
/* Stop the workers and run every pending deferred callback. */
void relay_stop(struct relay *r);
unsigned relay_workers(const struct relay *r);
/* 0 or -errno (epoll_ctl). */
int relay_stream_add(struct relay *r, struct stream *s, unsigned worker);
void relay_stream_del(struct relay *r, struct stream *s, unsigned worker);
/* The same for a stream's further sockets (media_socks.h): packets arriving there are
 * the stream's, like those on its socket 0. */
int relay_xsock_add(struct relay *r, struct stream_xsock *x, unsigned worker);
void relay_xsock_del(struct relay *r, struct stream_xsock *x, unsigned worker);
/* Run fn(arg) on the control thread after the grace period. 0 or -ENOMEM (then fn has
 * been run synchronously after stopping nothing: callers must not rely on it). */
int relay_defer(struct relay *r, void (*fn)(void *), void *arg);
/* Wait (briefly, waking the workers) until every pending callback has run. Returns
 * how many ran. Used when a resource held by deleted calls is needed now. */
unsigned relay_flush(struct relay *r);
/* Control thread, periodically: run the callbacks whose grace period has passed.
 * Returns how many are still waiting. */
unsigned relay_reclaim(struct relay *r);

#endif
