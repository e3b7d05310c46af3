/* Per-stream packet processing beyond plain forwarding (transcoding, SRTP, ...).
 *
 * A stream with a handler hands every accepted packet (after latching, authentication
 * and counting) to handler->ops->packet() instead of forwarding it. The handler emits zero or more
 * packets with relay_emit(). It runs on the stream's worker with the call lock held, so
 * it must not block; it owns its state, which the control thread creates before setting
 * stream->handler under the call lock and destroys after the call's grace period. */
#ifndef SLUICE_MEDIA_HANDLER_H
#define SLUICE_MEDIA_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

struct stream;
struct relay_emitter;
struct stream_handler;

enum early_verdict { EARLY_PASS = 0, EARLY_CONSUMED, EARLY_DROP };

struct stream_handler_ops {
	const char *name;
	/* pkt may be modified in place; cap is the buffer size behind it. */
	void (*packet)(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t len,
		       size_t cap, struct relay_emitter *e, int64_t now_us);
	void (*destroy)(struct stream_handler *h);
	/* Optional: sees each packet before latching, with its source. CONSUMED: handled
	 * here (neither latched nor counted as media), for traffic that authenticates
	 * itself, i.e. ICE checks, which may come from any of the peer's candidates.
	 * DROP: not media this stream takes (counted as an error). */
	enum early_verdict (*early)(struct stream_handler *h, struct stream *in,
				    const union sockaddr_u *src, const uint8_t *pkt, size_t len,
				    int64_t now_us);
	/* Optional: a packet the latch rules allow, before it may latch: authenticate and
	 * unprotect it in place (SRTP). Non-zero: dropped, and nothing about the stream
	 * changes (no latch, no media counters, no timeout reset). */
	int (*auth)(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t *len);
	/* Optional: the time asked for with relay_timer_set() on `in` has come (same
	 * worker, call lock held; now_us is never before the requested time). Timers run
	 * on CLOCK_MONOTONIC, of which the packet stamps are a coarse (tick) copy. */
	void (*timer)(struct stream_handler *h, struct stream *in, struct relay_emitter *e,
		      int64_t now_us);
};

struct stream_handler {
	const struct stream_handler_ops *ops;
};

/* Queue data to leave through dst's socket towards dst's peer. data is copied unless
 * it is the packet being handled. 0, -ENOENT (dst has no known peer yet) or -ENOBUFS. */
int relay_emit(struct relay_emitter *e, struct stream *dst, const uint8_t *data, size_t len);

/* The same, always copying data: a copy the packet's own handler may then change in
 * place (a subscriber's copy of a packet about to be transcoded or encrypted). */
int relay_emit_copy(struct relay_emitter *e, struct stream *dst, const uint8_t *data,
		    size_t len);

/* Before data is encrypted in place for dst: the recording (rec.h) keeps this clear
 * copy instead of what relay_emit() then sends, if that is the same buffer. */
void relay_record_plain(struct relay_emitter *e, struct stream *dst, const uint8_t *data,
			size_t len);

/* From a handler (worker, call lock held): call s->handler->ops->timer at due_us (the
 * clock of now_us), replacing an earlier request for s; due_us < 0 cancels. Nothing is
 * allocated; the timer goes away with the stream (relay_timer.h). */
void relay_timer_set(struct relay_emitter *e, struct stream *s, int64_t due_us);

/* The steps after admission for a packet of t's side (decrypted, counted): copies to
 * t's subscribers, then t's handler, or forwarding to t's sink. From rx and from a
 * worker's timer that makes packets itself (play media); cap: the buffer behind p. */
void relay_deliver(struct relay_emitter *e, struct stream *t, uint8_t *p, size_t len,
		   size_t cap, int64_t now);

/* play media's clock on s (play_media.h), like relay_timer_set(): from the worker under
 * the call lock ... */
void relay_play_timer_set(struct relay_emitter *e, struct stream *s, int64_t due_us);
/* ... or from the control thread under the call lock, waking s's worker. */
struct relay;
void relay_play_timer_start(struct relay *r, struct stream *s, unsigned worker,
			    int64_t due_us);

#endif
