/* The relay's own packets spliced into a sender's RTP stream (see sluice/rtp_splice.h). */
#include "sluice/rtp_splice.h"
#include "sluice/be.h"

#include "sluice/rtp.h"

/* The last packet of the sender's stream that went out (its seq/ts go on from it). */
static void note_last(struct rtp_splice *sp, uint32_t ssrc, uint16_t seq, bool ts_known,
		      uint32_t ts, int64_t now_us)
{
	sp->seen = true;
	sp->own = false;
	sp->ts_known = ts_known;
	sp->ssrc = ssrc;
	sp->seq = seq;
	sp->ts = ts;
	sp->at_us = now_us;
}

void rtp_splice_init(struct rtp_splice *sp, uint32_t fresh_ssrc, uint16_t fresh_seq,
		     uint32_t fresh_ts)
{
	*sp = (struct rtp_splice){
		.fresh_ssrc = fresh_ssrc, .fresh_seq = fresh_seq, .fresh_ts = fresh_ts,
	};
}

/* Timestamp units elapsed since the last packet out, in whole steps (at least one):
 * a sender 20 ms late by a few µs still lands on the next frame. */
static uint32_t elapsed_ticks(const struct rtp_splice *sp, uint32_t step, unsigned clock,
			      int64_t now_us)
{
	int64_t us = now_us > sp->at_us ? now_us - sp->at_us : 0;
	uint64_t ticks = (uint64_t)us * clock / 1000000;

	if (!step)
		return (uint32_t)ticks;
	ticks = (ticks + step / 2) / step * step;
	return ticks < step ? step : (uint32_t)ticks;
}

/* The sender's first packet of ssrc after own packets: from here on it is shifted to
 * follow them. */
static void rebase(struct rtp_splice *sp, uint8_t *pkt, uint16_t seq, uint32_t ts,
		   unsigned clock, int64_t now_us)
{
	uint16_t out_seq = (uint16_t)(sp->seq + 1);
	uint32_t out_ts = sp->ts + elapsed_ticks(sp, sp->step, clock, now_us);

	sp->seq_off = (uint16_t)(out_seq - seq);
	sp->ts_off = out_ts - ts;
	sp->shift = sp->seq_off || sp->ts_off;
	sp->rebase = false;
	pkt[1] |= 0x80;                 /* its media starts again: a new talkspurt */
}

void rtp_splice_sender(struct rtp_splice *sp, uint8_t *pkt, size_t len, unsigned clock,
		       int64_t now_us)
{
	uint32_t ssrc, ts;
	uint16_t seq;

	if (len < 12 || (pkt[0] >> 6) != 2 || rtp_is_rtcp(pkt, len))
		return;
	seq = be_get16(pkt + 2);
	ts = be_get32(pkt + 4);
	ssrc = be_get32(pkt + 8);
	if (sp->rebase && ssrc == sp->ssrc)
		rebase(sp, pkt, seq, ts, clock, now_us);
	else if (sp->rebase || (sp->shift && ssrc != sp->ssrc))
		sp->rebase = sp->shift = false;         /* a new source: as it is */
	if (sp->shift) {
		seq = (uint16_t)(seq + sp->seq_off);
		ts += sp->ts_off;
		be_put16(pkt + 2, seq);
		be_put32(pkt + 4, ts);
	}
	note_last(sp, ssrc, seq, true, ts, now_us);
}

void rtp_splice_hint(struct rtp_splice *sp, uint32_t ssrc, uint16_t max_seq, bool ts_known,
		     uint32_t ts, int64_t now_us)
{
	sp->shift = sp->rebase = false;
	note_last(sp, ssrc, max_seq, ts_known, ts, now_us);
}

void rtp_splice_own(struct rtp_splice *sp, uint32_t step, unsigned clock, int64_t now_us,
		    struct rtp_splice_hdr *h)
{
	if (sp->seen && sp->own) {
		*h = (struct rtp_splice_hdr){ sp->ssrc, (uint16_t)(sp->seq + 1),
					      sp->ts + sp->step, false };
	} else if (sp->seen) {                  /* continues the sender's stream */
		*h = (struct rtp_splice_hdr){ sp->ssrc, (uint16_t)(sp->seq + 1), sp->fresh_ts,
					      true };
		if (sp->ts_known)
			h->ts = sp->ts + elapsed_ticks(sp, step, clock, now_us);
		sp->rebase = true;
	} else {                                /* a stream of the relay's own */
		*h = (struct rtp_splice_hdr){ sp->fresh_ssrc, sp->fresh_seq, sp->fresh_ts, true };
	}
	sp->seen = sp->own = sp->ts_known = true;
	sp->ssrc = h->ssrc;
	sp->seq = h->seq;
	sp->ts = h->ts;
	sp->step = step;
	sp->at_us = now_us;
}

bool rtp_splice_active(const struct rtp_splice *sp)
{
	return sp->shift || sp->rebase;
}
