/* A stream's playout timer: one per stream, embedded in struct stream, linked into the
 * list of the worker that polls the stream while armed (relay.c).
 *
 * Lifetime: the worker's list and stream->registered are guarded by the worker's timer
 * lock. The worker arms a stream's timer from a handler (call lock held, then the timer
 * lock: never the other way round), and only while the stream is registered;
 * relay_stream_del() clears registered and unlinks the timer in one step. So a stream on
 * its way to the deferred free is never reached through a timer after the batch the
 * worker was in. A timer fires by calling the stream's current handler (ops->timer)
 * under the call lock, so a handler replaced in between is never called.
 *
 * play media's clock (ptimer) follows the same rules; the control thread may also arm
 * it (call lock, then the timer lock), and wakes the worker, whose wait was computed
 * before. It fires play_media_tick(), which finds under the call lock whether there is
 * still something to play. */
#ifndef SLUICE_RELAY_TIMER_H
#define SLUICE_RELAY_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* A stream has three: its handler's (playout), play media's own clock (play_media.h) and
 * its delay line's release (media_delay.h). */
enum relay_timer_kind { RELAY_TIMER_HANDLER = 0, RELAY_TIMER_PLAY = 1,
		       RELAY_TIMER_DELAY = 2 /* NG delay-buffer's release (media_delay.h) */ };

struct relay_timer {
	struct relay_timer *next, *prev;        /* [worker timer lock] */
	uint8_t kind;                           /* [worker timer lock] set when armed */
	int64_t due_us;                         /* [worker timer lock] */
	bool armed;                             /* [worker timer lock] */
};

#endif
