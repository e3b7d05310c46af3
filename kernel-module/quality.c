// SPDX-License-Identifier: GPL-2.0
/* Per-stream RTP quality on the packet path (SLUICE_SF_QUALITY): reads the RTP header,
 * takes the stream's quality line (struct sluice_quality) under its sequence counter
 * without waiting, and runs the arithmetic of quality_calc.h. */
#include <linux/atomic.h>
#include <linux/skbuff.h>
#include "sluice.h"
#include "quality_calc.h"

u32 sluice_quality_mult(u32 clock_rate)
{
	return clock_rate ? sluice_q_mult(clock_rate) : 0;
}

/* The UDP payload of a packet the entry forwards: `off` bytes into skb, `len` long.
 * A packet that finds the line taken (the same stream on another CPU at this moment:
 * RSS/RPS keep a flow on one CPU, so it is rare) is counted in busy, not measured. */
void sluice_quality_rtp(const struct sluice_entry *e, const struct sk_buff *skb,
			unsigned int off, unsigned int len)
{
	struct sluice_quality *q = &e->stats->quality;
	struct sluice_q_pkt p;
	u8 buf[12];
	const u8 *h;
	u32 arrival = 0, seq;

	if (len < sizeof(buf))
		return;
	h = skb_header_pointer(skb, off, sizeof(buf), buf);
	if (unlikely(!h) || !sluice_q_is_rtp(h))
		return;
	sluice_q_parse(&p, h);
	if (e->q_mult)	/* before taking the line: keep the time it is held short */
		arrival = sluice_q_ticks(sluice_q_now(), e->q_mult);
	if (unlikely(!sluice_seq_trylock(&q->seq, &seq))) {
		BUILD_BUG_ON(sizeof(atomic_t) != sizeof(q->busy));
		atomic_inc((atomic_t *)&q->busy);
		return;
	}
	sluice_q_rtp(q, &p, arrival, e->clock_rate);
	sluice_seq_unlock(&q->seq, seq);
}

/* ADD: a fresh line that continues from the jitter the daemon measured so far. Under
 * inst->lock with no entry on the slot; a packet of the slot's previous entry still
 * inside its grace period may hold the line for a moment. */
void sluice_quality_reset(struct sluice_quality *q, u32 jitter16)
{
	struct sluice_quality z = { .jitter16 = jitter16 };
	u32 seq;

	while (!sluice_seq_trylock(&q->seq, &seq))
		cpu_relax();
	z.seq = seq + 1;
	*q = z;
	sluice_seq_unlock(&q->seq, seq);
}

/* A consistent copy for the list file, or false if writers kept the line busy. */
bool sluice_quality_read(const struct sluice_quality *q, struct sluice_quality *out)
{
	unsigned int tries;
	u32 s;

	for (tries = 0; tries < 64; tries++) {
		s = smp_load_acquire(&q->seq);
		if (s & 1) {
			cpu_relax();
			continue;
		}
		memcpy(out, q, sizeof(*out));
		smp_rmb();
		if (READ_ONCE(q->seq) == s)
			return true;
	}
	return false;
}
