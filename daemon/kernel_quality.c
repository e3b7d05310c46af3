/* RTP quality of kernel-forwarded streams: the module measures loss, duplicates,
 * reordering and jitter per stream in the shared stats (struct sluice_quality); this
 * folds them into the stream's own figures (quality_merge), which userspace measures
 * while it forwards. See kernel.h. */
#include "kernel.h"

#include "quality_track.h"
#include "sluice/kmod.h"

void kernel_quality_push(const struct stream *s, struct kmod_stream *ks)
{
	unsigned clock = s->media->clock;

	if (s->component != COMP_RTP)
		return;
	ks->flags |= SLUICE_SF_QUALITY;
	/* the clock comes from the SDP: one the module refuses means no jitter there */
	ks->clock_rate = clock <= SLUICE_MAX_CLOCK_RATE ? clock : 0;
	ks->jitter16 = ks->clock_rate && s->qrx.init && s->qrx.clock == clock ?
		       s->qrx.jitter16 : 0;
}

void kernel_quality_fold(const struct call *c, struct stream *s, int64_t now)
{
	struct quality_seg seg;

	if (!c->kmod || s->kslot < 0 || !s->kpushed ||
	    !(s->kpushed->flags & SLUICE_SF_QUALITY) ||
	    kmod_read_quality(c->kmod, s->kslot, &seg))
		return;
	if (quality_merge(&s->qrx, &s->kq, &seg))
		quality_tick(s, now);
}

void kernel_quality_fold_call(struct call *c, int64_t now)
{
	if (!c->kmod)
		return;
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++)
			if (p->media[i])
				kernel_quality_fold(c, &p->media[i]->rtp, now);
}
