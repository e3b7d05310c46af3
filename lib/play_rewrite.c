/* An announcement played into a sender's RTP packets (see sluice/play_rewrite.h). */
#include "sluice/play_rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <opus.h>

#include "sluice/rtp.h"

#define TICK_RATE 48000                 /* the shared position's unit: 1/48000 s */
#define MAX_SAMPLES (CODEC_MAX_PTIME * 48)

struct play_rw_track {
	int pt;                         /* -1: the sender's dynamic type */
	const struct codec_def *def;
	struct codec_enc *enc;
	struct audio_pcm pcm;
};

struct play_rewrite {
	struct play_rw_track t[PLAY_RW_TRACKS];
	unsigned n;
	int skip_pt;
	unsigned repeat;
	uint64_t limit_ms;
	uint64_t file_ticks;            /* one pass over the file, ticks */
	uint64_t total;                 /* ticks to play, repeats and limit applied */
	uint64_t pos;                   /* ticks played */
	bool stopped;
	uint32_t prev_ts, prev_ssrc;    /* timestamp step of codecs with no fixed size */
	bool have_prev;
};

int play_rw_create(unsigned repeat, uint64_t limit_ms, int skip_pt, struct play_rewrite **out)
{
	struct play_rewrite *rw = calloc(1, sizeof(*rw));

	if (!rw)
		return -ENOMEM;
	rw->repeat = repeat ? repeat : 1;
	rw->limit_ms = limit_ms;
	rw->skip_pt = skip_pt;
	*out = rw;
	return 0;
}

void play_rw_free(struct play_rewrite *rw)
{
	if (!rw)
		return;
	for (unsigned i = 0; i < rw->n; i++) {
		codec_enc_destroy(rw->t[i].enc);
		audio_pcm_free(&rw->t[i].pcm);
	}
	free(rw);
}

static void set_total(struct play_rewrite *rw)
{
	uint64_t limit = rw->limit_ms * TICK_RATE / 1000;

	rw->total = rw->file_ticks * rw->repeat;
	if (limit && limit < rw->total)
		rw->total = limit;
}

int play_rw_add_track(struct play_rewrite *rw, int pt, const struct codec_def *def,
		      struct codec_enc *enc, struct audio_pcm *pcm)
{
	if (rw->n == PLAY_RW_TRACKS || !pcm->n || pcm->rate != codec_enc_rate(enc)) {
		int e = rw->n == PLAY_RW_TRACKS ? -E2BIG : -EINVAL;

		codec_enc_destroy(enc);
		audio_pcm_free(pcm);
		return e;
	}
	rw->t[rw->n++] = (struct play_rw_track){ .pt = pt, .def = def, .enc = enc, .pcm = *pcm };
	*pcm = (struct audio_pcm){ 0 };
	if (rw->n == 1) {
		rw->file_ticks = (uint64_t)rw->t[0].pcm.n * TICK_RATE / rw->t[0].pcm.rate;
		set_total(rw);
	}
	return 0;
}

uint64_t play_rw_duration_ms(const struct play_rewrite *rw)
{
	return rw->total * 1000 / TICK_RATE;
}

bool play_rw_busy(const struct play_rewrite *rw)
{
	return rw && !rw->stopped && rw->n && rw->pos < rw->total;
}

void play_rw_stop(struct play_rewrite *rw)
{
	rw->stopped = true;
}

uint64_t play_rw_played_ms(const struct play_rewrite *rw)
{
	return (rw->pos < rw->total ? rw->pos : rw->total) * 1000 / TICK_RATE;
}

uint64_t play_rw_frame_pos(const struct play_rewrite *rw, uint64_t start_pos)
{
	const struct audio_pcm *p = &rw->t[0].pcm;
	uint64_t in_file = rw->file_ticks ? rw->pos % rw->file_ticks : 0;

	if (!rw->n || !p->src_rate)
		return start_pos;
	return start_pos + in_file * p->src_rate / TICK_RATE;
}

static struct play_rw_track *track_of(struct play_rewrite *rw, unsigned pt)
{
	for (unsigned i = 0; i < rw->n; i++)
		if (rw->t[i].pt == (int)pt)
			return &rw->t[i];
	if (pt < 96 || (int)pt == rw->skip_pt)
		return NULL;
	for (unsigned i = 0; i < rw->n; i++)
		if (rw->t[i].pt < 0)
			return &rw->t[i];
	return NULL;
}

/* PCM samples (at the track's rate) the sender's packet carried; 0: unknown. */
static unsigned packet_samples(struct play_rewrite *rw, const struct play_rw_track *t,
			       const uint8_t *pkt, const uint8_t *pl, size_t plen)
{
	unsigned rate = t->pcm.rate;
	uint32_t ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 | pkt[6] << 8 | pkt[7];
	uint32_t ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 | pkt[10] << 8 | pkt[11];
	uint32_t step = rw->have_prev && ssrc == rw->prev_ssrc ? ts - rw->prev_ts : 0;
	int n;

	rw->prev_ts = ts;
	rw->prev_ssrc = ssrc;
	rw->have_prev = true;
	switch (t->def->id) {
	case CODEC_PCMU:
	case CODEC_PCMA:
		return (unsigned)plen;
	case CODEC_G722:
		return (unsigned)plen * 2;
	case CODEC_G729:
		return (unsigned)(plen / 10) * 80;
	case CODEC_OPUS:
		n = opus_packet_get_nb_samples(pl, (opus_int32)plen, (opus_int32)rate);
		return n > 0 ? (unsigned)n : 0;
	default:
		if (!step || step > (uint32_t)t->def->clock_rate / 5)
			return 0;
		return (unsigned)((uint64_t)step * rate / t->def->clock_rate);
	}
}

/* n samples of the announcement from the shared position; silence past the end. */
static void take(const struct play_rewrite *rw, const struct play_rw_track *t, int16_t *out,
		 unsigned n)
{
	const struct audio_pcm *p = &t->pcm;
	uint64_t left = (rw->total - rw->pos) * p->rate / TICK_RATE;
	size_t idx = (size_t)((rw->pos % rw->file_ticks) * p->rate / TICK_RATE);

	for (unsigned i = 0; i < n; i++) {
		if (idx >= p->n)
			idx = 0;
		out[i] = i < left ? p->pcm[idx++] : 0;
	}
}

int play_rw_packet(struct play_rewrite *rw, uint8_t *pkt, size_t *len, size_t cap)
{
	int16_t pcm[MAX_SAMPLES];
	struct play_rw_track *t;
	size_t off, plen;
	unsigned n;
	int e;

	if (!play_rw_busy(rw) || rtp_is_rtcp(pkt, *len) || rtp_payload(pkt, *len, &off, &plen))
		return 0;
	if (!(t = track_of(rw, pkt[1] & 0x7f)))
		return -1;
	n = packet_samples(rw, t, pkt, pkt + off, plen);
	if (!n || n > MAX_SAMPLES || !codec_frame_ok(t->def, t->pcm.rate, n))
		return -1;
	take(rw, t, pcm, n);
	e = codec_encode(t->enc, pcm, n, pkt + off, cap - off);
	if (e <= 0)
		return -1;              /* nothing sent (DTX) or no room: not the sender's */
	pkt[0] &= (uint8_t)~0x20;       /* the sender's padding went with its payload */
	*len = off + (size_t)e;
	rw->pos += (uint64_t)n * TICK_RATE / t->pcm.rate;
	return 1;
}
