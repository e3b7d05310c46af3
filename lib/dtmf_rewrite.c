/* Digits played by rewriting a forwarded stream's own packets; the contract is in
 * include/sluice/dtmf_rewrite.h. */
#include "sluice/dtmf_rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

#include "sluice/rfc4733.h"
#include "sluice/rtp.h"

#define END_COPIES      3       /* RFC 4733 2.5.1.4: the final packet three times */
#define PT_PCMU         0
#define PT_PCMA         8
#define PT_CN           13
#define DEFAULT_PTIME   20      /* ms: the step of a first packet nothing else tells */
#define MAX_STEP_MS     250     /* a longer timestamp step is a gap, not one packet */
#define TONE_ON_MS      10000   /* the generator's digit: timestamps end it sooner */
#define TONE_MIN_DBM0   36      /* quieter levels are sent at -36 dBm0 */
#define CHUNK           160     /* samples generated per call to spandsp */

struct digit {
	uint8_t event, volume;
	uint16_t duration_ms, pause_ms;
};

enum state {
	IDLE,                   /* nothing playing (digits may be waiting for a packet) */
	TONE,                   /* a digit is playing */
	ENDING,                 /* EVENT: its end packet is being repeated */
};

/* An audio packet that can carry a digit. */
struct slot {
	uint8_t pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t off, plen;       /* payload */
};

struct dtmf_rewrite {
	struct dtmf_rewrite_cfg cfg;            /* for the next digit */
	struct digit q[DTMF_REWRITE_MAX];
	unsigned head, n;

	enum state st;
	struct digit cur;
	enum dtmf_rewrite_mode mode;            /* the current digit's */
	uint8_t event_pt;
	uint32_t ssrc, t0, dur;                 /* dur in clock ticks */
	unsigned ends_left;                     /* ENDING: copies still to send */
	bool sent;                              /* its first packet (marker) went out */
	bool paused;                            /* no digit starts before resume_ts */
	uint32_t resume_ts;

	bool have_prev;                         /* the last slot, for the timestamp step */
	uint16_t prev_seq;
	uint32_t prev_ts, prev_ssrc, step;

	uint64_t played;
	dtmf_tx_state_t *tx;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t ticks(const struct dtmf_rewrite *rw, unsigned ms)
{
	return (uint32_t)((uint64_t)ms * rw->cfg.clock / 1000);
}

int dtmf_rewrite_create(struct dtmf_rewrite **out)
{
	struct dtmf_rewrite *rw = calloc(1, sizeof(*rw));

	if (!rw)
		return -ENOMEM;
	rw->tx = dtmf_tx_init(NULL);
	if (!rw->tx) {
		free(rw);
		return -ENOMEM;
	}
	rw->cfg = (struct dtmf_rewrite_cfg){ .mode = DTMF_REWRITE_EVENT, .event_pt = 101,
					     .skip_pt = -1, .clock = 8000 };
	*out = rw;
	return 0;
}

void dtmf_rewrite_free(struct dtmf_rewrite *rw)
{
	if (!rw)
		return;
	dtmf_tx_free(rw->tx);
	free(rw);
}

int dtmf_rewrite_config(struct dtmf_rewrite *rw, const struct dtmf_rewrite_cfg *cfg)
{
	if (!cfg->clock || cfg->event_pt > 127 || cfg->skip_pt > 127)
		return -EINVAL;
	rw->cfg = *cfg;
	return 0;
}

int dtmf_rewrite_queue(struct dtmf_rewrite *rw, uint8_t event, unsigned duration_ms,
		       unsigned volume, unsigned pause_ms)
{
	struct digit *d;

	if (event > 15 || !duration_ms || duration_ms > 10000 || volume > 63 || pause_ms > 10000)
		return -EINVAL;
	if (rw->n == DTMF_REWRITE_MAX)
		return -ENOBUFS;
	d = &rw->q[(rw->head + rw->n++) % DTMF_REWRITE_MAX];
	*d = (struct digit){ .event = event, .volume = (uint8_t)volume,
			     .duration_ms = (uint16_t)duration_ms, .pause_ms = (uint16_t)pause_ms };
	return 0;
}

bool dtmf_rewrite_busy(const struct dtmf_rewrite *rw)
{
	return rw->n || rw->st != IDLE;
}

uint64_t dtmf_rewrite_played(const struct dtmf_rewrite *rw)
{
	return rw->played;
}

/* The mode that decides which packets are slots: the playing digit's, else the next's. */
static enum dtmf_rewrite_mode mode_now(const struct dtmf_rewrite *rw)
{
	return rw->st == IDLE ? rw->cfg.mode : rw->mode;
}

static bool is_g711(uint8_t pt)
{
	return pt == PT_PCMU || pt == PT_PCMA;
}

static bool fill(struct slot *s, const uint8_t *p)
{
	s->seq = (uint16_t)(p[2] << 8 | p[3]);
	s->ts = be32(p + 4);
	s->ssrc = be32(p + 8);
	return true;
}

/* Audio the digit may take the place of: not RTCP, not an event or comfort noise; in
 * INBAND mode only G.711; in EVENT mode room for the 4-byte event. */
static bool slot_of(const struct dtmf_rewrite *rw, const uint8_t *p, size_t len, struct slot *s)
{
	if (rtp_is_rtcp(p, len) || rtp_payload(p, len, &s->off, &s->plen))
		return false;
	s->pt = p[1] & 0x7f;
	if ((int)s->pt == rw->cfg.skip_pt || s->pt == PT_CN)
		return false;
	if (mode_now(rw) == DTMF_REWRITE_INBAND)
		return is_g711(s->pt) && fill(s, p);
	if (s->pt == (rw->st == IDLE ? rw->cfg.event_pt : rw->event_pt) ||
	    len < s->off + RFC4733_LEN)
		return false;
	return fill(s, p);
}

/* Clock ticks the packet covers: a G.711 payload's sample count, else the timestamp
 * step from the previous packet if it was the one before, else the last step known. */
static uint32_t step_of(struct dtmf_rewrite *rw, const struct slot *s)
{
	uint32_t d = s->ts - rw->prev_ts;

	if (is_g711(s->pt) && s->plen)
		rw->step = (uint32_t)s->plen;
	else if (rw->have_prev && s->ssrc == rw->prev_ssrc &&
		 (uint16_t)(s->seq - rw->prev_seq) == 1 && d && d <= ticks(rw, MAX_STEP_MS))
		rw->step = d;
	else if (!rw->step)
		rw->step = ticks(rw, DEFAULT_PTIME);
	rw->have_prev = true;
	rw->prev_seq = s->seq;
	rw->prev_ts = s->ts;
	rw->prev_ssrc = s->ssrc;
	return rw->step;
}

static void tone_begin(struct dtmf_rewrite *rw)
{
	char digit = rfc4733_event_digit(rw->cur.event);

	dtmf_tx_init(rw->tx);
	dtmf_tx_set_level(rw->tx, -(rw->cur.volume > TONE_MIN_DBM0 ? TONE_MIN_DBM0 :
				    rw->cur.volume), 0);
	dtmf_tx_set_timing(rw->tx, TONE_ON_MS, 0);
	dtmf_tx_put(rw->tx, &digit, 1);
}

/* The digit starts (or starts again) at this packet. */
static void digit_begin(struct dtmf_rewrite *rw, const struct slot *s)
{
	rw->st = TONE;
	rw->t0 = s->ts;
	rw->ssrc = s->ssrc;
	rw->sent = false;
	if (rw->mode == DTMF_REWRITE_INBAND)
		tone_begin(rw);
}

/* The next queued digit, unless the pause after the last one still runs (in the same
 * stream: a new SSRC or a timestamp before the last digit ends the pause). */
static bool next_digit(struct dtmf_rewrite *rw, const struct slot *s)
{
	if (!rw->n)
		return false;
	if (rw->paused && s->ssrc == rw->ssrc && (int32_t)(s->ts - rw->resume_ts) < 0 &&
	    (int32_t)(s->ts - rw->t0) >= 0)
		return false;
	rw->paused = false;
	rw->cur = rw->q[rw->head];
	rw->head = (rw->head + 1) % DTMF_REWRITE_MAX;
	rw->n--;
	rw->mode = rw->cfg.mode;
	rw->event_pt = rw->cfg.event_pt;
	rw->dur = ticks(rw, rw->cur.duration_ms);
	if (!rw->dur)
		rw->dur = 1;
	digit_begin(rw, s);
	return true;
}

static void digit_done(struct dtmf_rewrite *rw)
{
	rw->st = IDLE;
	rw->played++;
	rw->paused = true;
	rw->resume_ts = rw->t0 + rw->dur + ticks(rw, rw->cur.pause_ms);
}

static void put_event(struct dtmf_rewrite *rw, uint8_t *p, size_t *len, const struct slot *s,
		      bool end, uint32_t duration)
{
	struct rfc4733_event ev = {
		.event = rw->cur.event, .end = end, .volume = rw->cur.volume,
		.duration = duration > 0xffff ? 0xffff : (uint16_t)duration,
	};

	p[0] &= (uint8_t)~0x20;                 /* the padding goes with the audio */
	p[1] = (uint8_t)((rw->sent ? 0 : 0x80) | rw->event_pt);
	put_be32(p + 4, rw->t0);
	rfc4733_build(&ev, p + s->off, RFC4733_LEN);
	*len = s->off + RFC4733_LEN;
	rw->sent = true;
}

/* The payload's first n samples become the tone, the rest silence. */
static void put_tone(struct dtmf_rewrite *rw, uint8_t *pay, size_t plen, size_t n, bool ulaw)
{
	int16_t pcm[CHUNK];

	for (size_t i = 0; i < plen; ) {
		size_t c = plen - i < CHUNK ? plen - i : CHUNK;
		size_t t = i < n ? (n - i < c ? n - i : c) : 0;
		int got = t ? dtmf_tx(rw->tx, pcm, (int)t) : 0;

		if (got < 0)
			got = 0;
		memset(pcm + got, 0, (c - (size_t)got) * sizeof(*pcm));
		for (size_t k = 0; k < c; k++)
			pay[i + k] = ulaw ? linear_to_ulaw(pcm[k]) : linear_to_alaw(pcm[k]);
		i += c;
	}
}

static int tone_slot(struct dtmf_rewrite *rw, uint8_t *p, size_t *len, const struct slot *s,
		     uint32_t step)
{
	uint32_t off = s->ts - rw->t0;
	bool last = (uint64_t)off + step >= rw->dur;

	if (rw->mode == DTMF_REWRITE_EVENT) {
		put_event(rw, p, len, s, last, last ? rw->dur : off + step);
		if (last) {
			rw->st = ENDING;
			rw->ends_left = END_COPIES - 1;
		}
		return 1;
	}
	if (off >= rw->dur) {           /* a gap outlasted the digit: this is audio again */
		digit_done(rw);
		return 0;
	}
	put_tone(rw, p + s->off, s->plen, rw->dur - off, s->pt == PT_PCMU);
	if (last)
		digit_done(rw);
	return 1;
}

int dtmf_rewrite_packet(struct dtmf_rewrite *rw, uint8_t *p, size_t *len)
{
	struct slot s;
	uint32_t step;

	if (!slot_of(rw, p, *len, &s))
		return 0;
	step = step_of(rw, &s);
	switch (rw->st) {
	case IDLE:
		if (!next_digit(rw, &s))
			return 0;
		break;
	case TONE:
		/* another stream, or a timestamp before the digit: it starts again here */
		if (s.ssrc != rw->ssrc || (int32_t)(s.ts - rw->t0) < 0)
			digit_begin(rw, &s);
		break;
	case ENDING:
		put_event(rw, p, len, &s, true, rw->dur);
		if (!--rw->ends_left)
			digit_done(rw);
		return 1;
	}
	return tone_slot(rw, p, len, &s, step);
}
