/* DTMF events replaced as a blocking mode says (see sluice/dtmf_replace.h). */
#include "sluice/dtmf_replace.h"

#include <math.h>
#include <string.h>
#include <strings.h>
#include <spandsp.h>

#include "sluice/rfc4733.h"
#include "sluice/rtp.h"

#define SLOT_MAX        1920    /* samples one packet may stand for: 240 ms at 8 kHz */
#define DEFAULT_FREQ    400
#define DEFAULT_VOLUME  10      /* -dBm0 */
#define DBM0_PEAK       22706.0 /* 0 dBm0 sine peak in 16-bit G.711 (3.14 dB below full) */

void dtmf_replace_init(struct dtmf_replace *r, uint32_t seed)
{
	memset(r, 0, sizeof(*r));
	r->rng = seed ? seed : 0x9e3779b9u;
}

static uint32_t next_rand(struct dtmf_replace *r)
{
	r->rng ^= r->rng << 13;         /* xorshift32: no security needed, only variety */
	r->rng ^= r->rng >> 17;
	r->rng ^= r->rng << 5;
	return r->rng;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The first packet of an event (a new timestamp or SSRC) picks what it becomes. */
static void event_begin(struct dtmf_replace *r, const struct dtmf_replace_cfg *cfg,
			uint32_t ssrc, uint32_t ts, uint8_t sent)
{
	if (!r->rng)                    /* a zeroed object: seeded from the stream */
		r->rng = (ssrc ^ ts) | 1;
	r->have = true;
	r->ssrc = ssrc;
	r->ts = ts;
	r->done = 0;
	r->ended = false;
	r->digit = cfg->mode == DTMF_REPLACE_ZERO ? 0 :
		   cfg->mode == DTMF_REPLACE_DIGIT ? cfg->digit :
		   (uint8_t)((sent + 1 + next_rand(r) % 15) % 16);     /* never sent */
	r->freq = cfg->n_freqs ? cfg->freqs[r->turn % cfg->n_freqs] : DEFAULT_FREQ;
	r->turn++;
}

static void fill_audio(const struct dtmf_replace *r, const struct dtmf_replace_cfg *cfg,
		       bool ulaw, uint8_t *pay, unsigned n)
{
	double vol = cfg->has_volume ? cfg->volume : DEFAULT_VOLUME;
	double amp = DBM0_PEAK * pow(10.0, -vol / 20.0);
	double w = 2.0 * M_PI * r->freq / 8000.0;

	for (unsigned i = 0; i < n; i++) {
		int v = 0;

		if (cfg->mode == DTMF_REPLACE_TONE)     /* phase from the event's start */
			v = (int)lrint(amp * sin(w * (double)(r->done + i)));
		pay[i] = ulaw ? linear_to_ulaw(v) : linear_to_alaw(v);
	}
}

/* SILENCE/TONE: the event packet becomes the audio slot it stands for. */
static bool to_audio(struct dtmf_replace *r, const struct dtmf_replace_cfg *cfg, int audio_pt,
		     uint8_t *pkt, size_t *len, size_t cap, size_t off,
		     const struct rfc4733_event *ev)
{
	unsigned n;

	if (audio_pt != 0 && audio_pt != 8)
		return false;
	if (r->ended || ev->duration <= r->done)
		return false;           /* a retransmission, or nothing new to stand for */
	n = ev->duration - r->done;
	if (n > SLOT_MAX || off + n > cap)
		n = SLOT_MAX < cap - off ? SLOT_MAX : (unsigned)(cap - off);
	pkt[1] = (uint8_t)audio_pt;     /* marker off: the audio goes on */
	wr32(pkt + 4, r->ts + r->done);
	fill_audio(r, cfg, audio_pt == 0, pkt + off, n);
	*len = off + n;
	r->done = ev->duration;
	r->ended = ev->end;
	return true;
}

bool dtmf_replace_packet(struct dtmf_replace *r, const struct dtmf_replace_cfg *cfg,
			 int audio_pt, uint8_t *pkt, size_t *len, size_t cap)
{
	struct rfc4733_event ev;
	size_t off, plen;
	uint32_t ssrc, ts;

	if (cfg->mode == DTMF_REPLACE_DROP || rtp_payload(pkt, *len, &off, &plen) ||
	    rfc4733_parse(pkt + off, plen, &ev) < 0)
		return false;
	ts = rd32(pkt + 4);
	ssrc = rd32(pkt + 8);
	if (!r->have || ts != r->ts || ssrc != r->ssrc)
		event_begin(r, cfg, ssrc, ts, ev.event);
	switch (cfg->mode) {
	case DTMF_REPLACE_SILENCE:
	case DTMF_REPLACE_TONE:
		return to_audio(r, cfg, audio_pt, pkt, len, cap, off, &ev);
	default:
		pkt[off] = r->digit;    /* E, R, volume and duration stay as sent */
		return true;
	}
}

int dtmf_replace_mode_parse(const char *s, size_t len)
{
	static const char *names[] = {
		[DTMF_REPLACE_DROP] = "drop", [DTMF_REPLACE_SILENCE] = "silence",
		[DTMF_REPLACE_TONE] = "tone", [DTMF_REPLACE_RANDOM] = "random",
		[DTMF_REPLACE_ZERO] = "zero", [DTMF_REPLACE_DIGIT] = "DTMF",
	};

	if (len == 3 && !strncasecmp(s, "off", 3))
		return -2;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !strncasecmp(s, names[i], len))
			return (int)i;
	return -1;
}
