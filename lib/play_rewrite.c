/* An announcement as frames of a call's codecs (see sluice/play_rewrite.h). */
#include "sluice/play_rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	int dyn_pt, skip_pt;
	unsigned repeat;
	uint64_t limit_ms;
	uint64_t file_ticks;            /* one pass over the file, ticks */
	uint64_t total;                 /* ticks to play, repeats and limit applied */
	uint64_t pos;                   /* ticks played */
	bool stopped;
};

int play_rw_create(unsigned repeat, uint64_t limit_ms, int dyn_pt, int skip_pt,
		   struct play_rewrite **out)
{
	struct play_rewrite *rw = calloc(1, sizeof(*rw));

	if (!rw)
		return -ENOMEM;
	rw->repeat = repeat ? repeat : 1;
	rw->limit_ms = limit_ms;
	rw->dyn_pt = dyn_pt;
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

static struct play_rw_track *track_of(struct play_rewrite *rw, int pt)
{
	for (unsigned i = 0; i < rw->n; i++)
		if (rw->t[i].pt == pt || (rw->t[i].pt < 0 && pt == rw->dyn_pt))
			return &rw->t[i];
	if (pt >= 96 && pt != rw->skip_pt)
		for (unsigned i = 0; i < rw->n; i++)
			if (rw->t[i].pt < 0)
				return &rw->t[i];
	return &rw->t[0];               /* telephone-event, CN, unknown: the first codec */
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

int play_rw_frame(struct play_rewrite *rw, int pt, unsigned ptime_ms, uint8_t *out,
		  size_t cap, struct play_rw_frame *f)
{
	int16_t pcm[MAX_SAMPLES];
	struct play_rw_track *t;
	unsigned n;
	int e;

	if (!play_rw_busy(rw))
		return -ENODATA;
	t = track_of(rw, pt);
	n = t->pcm.rate * ptime_ms / 1000;
	if (!n || n > MAX_SAMPLES || !codec_frame_ok(t->def, t->pcm.rate, n))
		return -EINVAL;
	take(rw, t, pcm, n);
	e = codec_encode(t->enc, pcm, n, out, cap);
	rw->pos += (uint64_t)n * TICK_RATE / t->pcm.rate;
	if (e < 0)
		return e;
	f->pt = t->pt >= 0 ? t->pt : rw->dyn_pt;
	f->clock = t->def->clock_rate;
	f->step = (uint32_t)((uint64_t)n * t->def->clock_rate / t->pcm.rate);
	return e;
}
