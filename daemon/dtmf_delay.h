/* NG `DTMF-delay`: the RFC 4733 events a side sends are withheld, silence of the side's
 * G.711 codec takes their place (dropped without one), and each digit is played into
 * the side's stream N ms after it began, as `play DTMF` plays one (play_dtmf.h: events
 * written into the side's own packets on a plain stream, the transcoder's injection on
 * a transcoded one). A `block DTMF` of the side decides what is played then: nothing
 * (drop, silence, tone), another digit (random, zero, DTMF), the digit (off/unblocked).
 *
 * The state lives in struct media (what the side sends): made by the control thread
 * under the call lock, freed with the media. While DTMF-delay is set the side's RTP is
 * forwarded in userspace. */
#ifndef SLUICE_DTMF_DELAY_H
#define SLUICE_DTMF_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct media;
struct stream;
struct dtmf_delay;

#define DTMF_DELAY_MAX_MS 30000

/* Control thread, call lock held: ms (0 off) for what m's side sends. 0, -ENOMEM. */
int dtmf_delay_set(struct media *m, unsigned ms);
void dtmf_delay_free(struct media *m);
struct call;
/* Control thread, after an offer or answer (takes the call lock): the players of the
 * call's delayed sides set up for the codecs both sides now have. */
void dtmf_delay_wire(struct call *c);
/* [L] s must stay in userspace. */
bool dtmf_delay_busy(const struct stream *s);
/* Worker, call lock held, each RTP packet of t's side before the play step: digits
 * whose time has come are handed to the player. */
void dtmf_delay_due(struct stream *t, int64_t now_us);
/* Worker, call lock held, a packet of t's side that is not a played digit: -1 not a
 * withheld event (go on as usual); 1 an event replaced by silence (*len may grow up to
 * cap); 0 an event dropped. */
int dtmf_delay_packet(struct stream *t, uint8_t *p, size_t *len, size_t cap, int64_t now_us);

#endif
