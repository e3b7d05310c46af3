/* Folding what the kernel module measured of a stream into the stream's own receive
 * statistics (see quality.h). */
#include "sluice/quality.h"

#include <string.h>

static uint32_t ext_max(const struct quality_rx *q)
{
	return q->cycles + q->max_seq;
}

/* Does the segment's epoch, beginning at base_seq, carry on from q's highest packet? */
static bool continues(const struct quality_rx *q, const struct quality_seg *seg)
{
	uint16_t delta = (uint16_t)(seg->base_seq - q->max_seq);

	return q->init && q->ssrc == seg->ssrc &&
	       (delta < QUALITY_MAX_DROPOUT || delta > 65535 - QUALITY_MAX_MISORDER);
}

/* The segment started (over): map its sequence space onto q's, or make q start over
 * with it. */
static void new_epoch(struct quality_rx *q, struct quality_folded *f,
		      const struct quality_seg *seg)
{
	if (continues(q, seg)) {
		int16_t d = (int16_t)(uint16_t)(seg->base_seq - q->max_seq);

		f->map = (int64_t)ext_max(q) + d - seg->base_seq;
	} else {
		bool same = q->init && q->ssrc == seg->ssrc;
		uint64_t dups = same ? q->duplicates : 0, reord = same ? q->reordered : 0;

		memset(q, 0, sizeof(*q));
		q->init = true;
		q->ssrc = seg->ssrc;
		q->pt = seg->pt;
		q->base_seq = seg->base_seq;
		q->max_seq = seg->base_seq;
		q->window = 1;
		q->duplicates = dups;
		q->reordered = reord;
		f->map = 0;
	}
	f->epoch = seg->epoch;
	f->received = 0;
}

uint64_t quality_merge(struct quality_rx *q, struct quality_folded *f,
		       const struct quality_seg *seg)
{
	uint64_t fresh;
	int64_t ext;

	if (!seg->epoch)
		return 0;
	/* counters that went back: a segment f has never seen (a new entry) */
	if (seg->duplicates < f->duplicates || seg->reordered < f->reordered ||
	    seg->busy < f->busy || (seg->epoch == f->epoch && seg->received < f->received))
		memset(f, 0, sizeof(*f));
	if (seg->epoch != f->epoch)
		new_epoch(q, f, seg);
	fresh = seg->received - f->received + (seg->busy - f->busy);
	if (!fresh && seg->duplicates == f->duplicates && seg->reordered == f->reordered)
		return 0;
	q->received += fresh;
	q->duplicates += seg->duplicates - f->duplicates;
	q->reordered += seg->reordered - f->reordered;
	f->received = seg->received;
	f->duplicates = seg->duplicates;
	f->reordered = seg->reordered;
	f->busy = seg->busy;
	ext = (int64_t)seg->ext_max + f->map;
	if (ext > (int64_t)ext_max(q)) {
		q->cycles = (uint32_t)ext & ~0xffffu;
		q->max_seq = (uint16_t)ext;
		q->window = 1;          /* what lies below is the segment's to know */
	}
	if (seg->clock) {               /* its estimate runs on from the one it was given */
		q->jitter16 = seg->jitter16;
		q->clock = seg->clock;
		q->have_transit = false;
	}
	return fresh;
}
