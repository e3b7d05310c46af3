/* What a blocked side's RFC 4733 DTMF events become (rtpengine's DTMF-security modes
 * of `block DTMF`), applied to the side's own packets as they are forwarded:
 *
 *   DROP     the event packets are dropped (the default of block DTMF)
 *   SILENCE  each event packet becomes an audio packet of silence of the side's G.711
 *            codec (PCMU or PCMA): same SSRC and sequence number, the audio payload
 *            type, the timestamp where the slot it stands for starts (the event's
 *            timestamp plus the duration before this packet), as many samples as the
 *            event's duration grew by. The end packet's retransmissions are dropped.
 *   TONE     as SILENCE, with a sine at one frequency (the event's turn in a list,
 *            default 400 Hz) at `volume` dBm0 instead of silence, continuous in phase
 *            over the event
 *   RANDOM   the events stay events with another digit (random, never the sent one,
 *            the same for all packets of one event)
 *   ZERO     ... with digit 0
 *   DIGIT    ... with a digit of the operator's
 *
 * SILENCE and TONE need a G.711 codec on the side (cfg.audio_pt 0 or 8); without one
 * the events are dropped. Nothing is allocated; one object per sending stream, calls
 * on one must not run concurrently. */
#ifndef SLUICE_DTMF_REPLACE_H
#define SLUICE_DTMF_REPLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dtmf_replace_mode {
	DTMF_REPLACE_DROP = 0, DTMF_REPLACE_SILENCE, DTMF_REPLACE_TONE, DTMF_REPLACE_RANDOM,
	DTMF_REPLACE_ZERO, DTMF_REPLACE_DIGIT,
};

#define DTMF_REPLACE_FREQS 8

struct dtmf_replace_cfg {
	uint8_t mode;                   /* enum dtmf_replace_mode */
	uint8_t volume;                 /* TONE: -dBm0, 0..63 (when has_volume) */
	bool has_volume;                /* else -10 dBm0, as rtpengine */
	uint8_t digit;                  /* DIGIT: event code 0-15 */
	uint8_t n_freqs;                /* TONE: 0 = 400 Hz */
	uint16_t freqs[DTMF_REPLACE_FREQS];
};

struct dtmf_replace {
	bool have;                      /* an event is being replaced */
	uint32_t ssrc, ts;              /* ... its SSRC and RTP timestamp */
	uint16_t done;                  /* its duration already replaced (samples) */
	bool ended;                     /* its end packet was replaced */
	uint8_t digit;                  /* RANDOM/ZERO/DIGIT: what it became */
	uint16_t freq;                  /* TONE: its frequency */
	unsigned turn;                  /* events seen (the frequency list's index) */
	uint32_t rng;
};

void dtmf_replace_init(struct dtmf_replace *r, uint32_t seed);
/* One RTP packet carrying a telephone-event (its payload type already matched),
 * changed in place as cfg says: audio_pt is the side's G.711 payload type (0, 8) or -1.
 * cap: the buffer's size (an audio slot may be longer than the event packet). true:
 * send it (rewritten, *len updated), false: drop it. */
bool dtmf_replace_packet(struct dtmf_replace *r, const struct dtmf_replace_cfg *cfg,
			 int audio_pt, uint8_t *pkt, size_t *len, size_t cap);
/* Parses a mode name as rtpengine spells it ("drop", "silence", "tone", "random",
 * "zero", "DTMF"; any case); "off" gives -2; unknown -1. */
int dtmf_replace_mode_parse(const char *s, size_t len);

#endif
