/* SPDX-License-Identifier: GPL-2.0 */
/* The module's RTP receiver statistics (RFC 3550 A.1, A.3, A.8), one packet at a time,
 * over struct sluice_quality (kernel_abi.h). Pure arithmetic on fixed-width integers:
 * no kernel call, so t/unit/test_kquality.c compiles this very file in userspace (with
 * its own u8..u64/s32, sluice_q_mul_shr40 and sluice_q_div) and runs it beside lib/quality.c, trace for
 * trace. The caller owns the line (its sequence counter odd).
 *
 * Cost: a handful of compares, adds and shifts and no division per packet; the RTP
 * clock conversion is one 64x32 multiply (sluice_q_ticks). */
#ifndef SLUICE_QUALITY_CALC_H
#define SLUICE_QUALITY_CALC_H

#ifdef __KERNEL__
#include <linux/math64.h>
#include <linux/types.h>
#define sluice_q_mul_shr40(a, b) mul_u64_u32_shr((a), (b), 40)
#define sluice_q_div(a, b) div_u64((a), (b))
#endif
#include <sluice/kernel_abi.h>

/* what the measurement needs of an RTP header */
struct sluice_q_pkt {
	u32	ssrc;
	u32	ts;
	u16	seq;
	u8	pt;
};

/* ns -> RTP clock units: ticks = ns * mult >> 40, mult = ceil(rate * 2^40 / 10^9)
 * (rounded up so an exact multiple of a tick never lands one tick short; the relative
 * error, under 1 / mult = 1.1e-7 at 8000 Hz, is far below a tick over any packet
 * interval). rate <= SLUICE_MAX_CLOCK_RATE keeps mult within 32 bits. Control path. */
static inline u32 sluice_q_mult(u32 rate)
{
	return (u32)sluice_q_div(((u64)rate << 40) + 999999999u, 1000000000u);
}

static inline u32 sluice_q_ticks(u64 ns, u32 mult)
{
	return (u32)sluice_q_mul_shr40(ns, mult);
}

static inline bool sluice_q_is_rtp(const u8 *h)
{
	/* version 2, and not RTCP multiplexed on the port (RFC 5761: 192..223) */
	return (h[0] >> 6) == 2 && (h[1] < 192 || h[1] > 223);
}

static inline void sluice_q_parse(struct sluice_q_pkt *p, const u8 *h)
{
	p->pt = h[1] & 0x7f;
	p->seq = (u16)(h[2] << 8 | h[3]);
	p->ts = (u32)h[4] << 24 | (u32)h[5] << 16 | (u32)h[6] << 8 | h[7];
	p->ssrc = (u32)h[8] << 24 | (u32)h[9] << 16 | (u32)h[10] << 8 | h[11];
}

/* A new epoch (kernel_abi.h): the first packet since ADD keeps the jitter estimate the
 * entry was seeded with; a new source or a restart begins from zero, as lib/quality.c. */
static inline void sluice_q_start(struct sluice_quality *q, const struct sluice_q_pkt *p)
{
	if (q->epoch)
		q->jitter16 = 0;
	q->epoch++;
	q->ssrc = p->ssrc;
	q->ext_max = p->seq;
	q->base_seq = p->seq;
	q->pt = p->pt;
	q->flags = 0;
	q->received = 0;
	q->window = 1;
}

/* RFC 3550 A.8 with the relay's arrival time in clock units. Transit differences are
 * taken modulo 2^32 as the timestamps are; a difference of 10 s or more is a restart of
 * the sender's clock, not jitter. */
static inline void sluice_q_jitter(struct sluice_quality *q, u32 ts, u32 arrival, u32 rate)
{
	u32 transit = arrival - ts, d;

	if (!rate)
		return;
	if (rate != q->clock_rate) {
		q->clock_rate = rate;
		q->flags &= ~SLUICE_QF_TRANSIT;
	}
	if (q->flags & SLUICE_QF_TRANSIT) {
		d = transit - q->transit;
		if ((s32)d < 0)
			d = -d;
		if (d < rate * 10)
			q->jitter16 += d - ((q->jitter16 + 8) >> 4);
	}
	q->transit = transit;
	q->flags |= SLUICE_QF_TRANSIT;
}

/* One RTP packet that arrived at `arrival` (clock units of `rate`; 0 = no jitter). */
static inline void sluice_q_rtp(struct sluice_quality *q, const struct sluice_q_pkt *p,
				u32 arrival, u32 rate)
{
	u16 delta, back;

	if (!q->epoch || q->ssrc != p->ssrc) {
		sluice_q_start(q, p);
		goto count;
	}
	delta = (u16)(p->seq - (u16)q->ext_max);
	if (!delta) {
		q->duplicates++;
		return;
	}
	if (delta < SLUICE_Q_MAX_DROPOUT) {		/* in order, maybe after a gap */
		q->ext_max += delta;			/* carries into the cycle count */
		q->window = delta >= 64 ? 1 : q->window << delta | 1;
	} else if (delta > 65535 - SLUICE_Q_MAX_MISORDER) {	/* late */
		back = (u16)((u16)q->ext_max - p->seq);
		if (back < 64 && (q->window >> back & 1)) {
			q->duplicates++;
			return;
		}
		if (back < 64)
			q->window |= 1ull << back;
		q->reordered++;
	} else {					/* a jump: the source restarted */
		sluice_q_start(q, p);
	}
count:
	q->received++;
	/* only the epoch's payload type: telephone-event timestamps stand still */
	if (p->pt == q->pt)
		sluice_q_jitter(q, p->ts, arrival, rate);
}

#endif
