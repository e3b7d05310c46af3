/* NG `delay-buffer`: the RTP a side sends is held back for N ms in userspace and then
 * sent on, each packet N ms after it arrived, in order (sluice/delay_line.h). RTCP is
 * not delayed. While a delay is set (and until what it holds has left after it is set
 * back to 0), the side's RTP stream is forwarded in userspace, never by the kernel.
 *
 * The line lives in struct media (what the side sends), is made by the control thread
 * under the call lock when a delay is first set, and freed with the media. The worker
 * holds packets on arrival and releases them from the stream's delay timer
 * (stream->dtimer, relay.c). */
#ifndef SLUICE_MEDIA_DELAY_H
#define SLUICE_MEDIA_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct media;
struct stream;

#define MEDIA_DELAY_MAX_MS 30000        /* longer delays are taken as this */

/* Control thread, call lock held: the delay of what m's side sends from now on (0:
 * none). 0 or -ENOMEM (the delay is then left as it was). */
int media_delay_set(struct media *m, unsigned ms);
void media_delay_free(struct media *m);
/* [L] s must stay in userspace: a delay is set or packets are still held. */
bool media_delay_busy(const struct stream *s);

/* Worker, call lock held, for an RTP packet ready to be sent on (after blocking and
 * the other rewrites) that arrived at now_us (mono_fine_us): false not delayed (send
 * it now), true taken (held, or dropped when the line is full): the caller arms the
 * delay timer at media_delay_next(). */
bool media_delay_hold(struct stream *t, const uint8_t *p, size_t len, int64_t now_us);
/* [L] Due time of the next packet held for t; -1 none. */
int64_t media_delay_next(struct stream *t);
/* [L] The next packet held for t if due at now_us, copied into buf: its length, 0
 * none. */
size_t media_delay_release(struct stream *t, int64_t now_us, uint8_t *buf, size_t cap);

#endif
