// SPDX-License-Identifier: GPL-2.0
/* make bench-kernel: what the RTP quality measurement adds to each packet the module
 * forwards for a SLUICE_SF_QUALITY entry (kernel-module/quality.c: header parse, clock
 * read, the line's sequence counter, the arithmetic of quality_calc.h), timed in a loop
 * over 100 streams' lines, against the same loop without the measurement. Loading prints
 * "sluice-qcost: ..." and then fails on purpose: nothing stays loaded. */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include "sluice.h"
#include "quality_calc.h"

#define STREAMS	100
#define ROUNDS	5

static unsigned int packets = 200000;
module_param(packets, uint, 0444);

struct line {			/* a stats slot's quality line, a cache line each */
	struct sluice_quality q;
} __aligned(64);

static void header(u8 *h, u32 n)
{
	u16 seq = (u16)(n / STREAMS);
	u32 ts = seq * 160u + (seq & 1 ? 240 : 0), ssrc = 0x1000 + n % STREAMS;

	int i;

	h[0] = 0x80;
	h[1] = 0;
	h[2] = seq >> 8;
	h[3] = seq & 0xff;
	for (i = 0; i < 4; i++) {
		h[4 + i] = ts >> (24 - 8 * i);
		h[8 + i] = ssrc >> (24 - 8 * i);
	}
}

/* sluice_quality_rtp() less the skb: the same steps in the same order */
static noinline void measure(struct sluice_quality *q, const u8 *h, u32 mult)
{
	struct sluice_q_pkt p;
	u32 arrival, seq;

	if (!sluice_q_is_rtp(h))
		return;
	sluice_q_parse(&p, h);
	arrival = sluice_q_ticks(sluice_q_now(), mult);
	if (unlikely(!sluice_seq_trylock(&q->seq, &seq))) {
		atomic_inc((atomic_t *)&q->busy);
		return;
	}
	sluice_q_rtp(q, &p, arrival, 8000);
	sluice_seq_unlock(&q->seq, seq);
}

static noinline void nothing(struct sluice_quality *q, const u8 *h, u32 mult)
{
	barrier();
}

static u64 run(struct line *l, void (*fn)(struct sluice_quality *, const u8 *, u32))
{
	u32 mult = sluice_q_mult(8000);
	u64 t0, best = U64_MAX;
	u8 h[12];
	int r;

	for (r = 0; r < ROUNDS; r++) {
		u32 n;

		memset(l, 0, STREAMS * sizeof(*l));
		t0 = ktime_get_ns();
		for (n = 0; n < packets; n++) {
			header(h, n);
			fn(&l[n % STREAMS].q, h, mult);
		}
		best = min(best, ktime_get_ns() - t0);
	}
	return best;
}

static int __init qcost_init(void)
{
	struct line *l = kcalloc(STREAMS, sizeof(*l), GFP_KERNEL);
	u64 with, without;

	if (!l)
		return -ENOMEM;
	local_bh_disable();	/* as in the softirq: nothing else on this CPU meanwhile */
	without = run(l, nothing);
	with = run(l, measure);
	local_bh_enable();
	pr_info("sluice-qcost: %llu ns per packet (%llu with, %llu without, %u packets x %u "
		"streams, best of %d)\n", (with - without) / packets, with / packets,
		without / packets, packets / STREAMS, STREAMS, ROUNDS);
	if (l[0].q.received != packets / STREAMS || l[0].q.jitter16 == 0)
		pr_info("sluice-qcost: unexpected figures: received %llu jitter16 %u\n",
			l[0].q.received, l[0].q.jitter16);
	kfree(l);
	return -EAGAIN;
}

module_init(qcost_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sluice: cost of the RTP quality measurement (bench only)");
