/* The kernel module's RTP measurement (kernel-module/quality_calc.h, compiled here as it
 * is in the module) against lib/quality.c on the same generated traces, and the daemon's
 * fold of the module's figures into a stream's (quality_merge): folded after every
 * packet, folded now and then, and across kernel <-> userspace spells, the figures are
 * those of one userspace measurement of the whole trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/quality.h"

/* what the kernel provides to quality_calc.h */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
#define sluice_q_mul_shr40(a, b) ((u64)(((unsigned __int128)(a) * (b)) >> 40))
#define sluice_q_div(a, b) ((a) / (b))
#include "../../kernel-module/quality_calc.h"

#define CLOCK 8000u
#define MAXP 36000      /* packets of a trace: 12000 slots, each with a duplicate and RTCP */

struct pkt {
	uint8_t b[12];
	int64_t at_us;          /* arrival at the relay */
};

/* ---- traces ---- */

static uint32_t rng = 1;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void hdr(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
}

enum { EV_SSRC = 1, EV_JUMP = 2 };

/* n packets of 20 ms from seq `seq0` (wraps past 65535): loss_pct dropped, reorder_pct
 * swapped with the next, dup_pct sent twice, arrival delayed 0..jitter_us, a burst of
 * telephone events (frozen timestamp) and of RTCP on the port; events adds a new SSRC
 * and/or a sequence jump halfway. Returns the packet count. */
static size_t trace(struct pkt *t, size_t n, uint16_t seq0, unsigned loss_pct,
		    unsigned reorder_pct, unsigned dup_pct, unsigned jitter_us, unsigned events)
{
	uint32_t ssrc = 0x5eed0000u | (rnd() & 0xffff), ts0 = rnd() & 0x3fffffffu;
	uint16_t seq = seq0;
	size_t k = 0;

	assert_true(3 * n <= MAXP);
	for (size_t i = 0; i < n; i++, seq++) {
		int64_t at = 1000000 + (int64_t)i * 20000 + (jitter_us ? rnd() % (jitter_us + 1) : 0);
		uint32_t ts = ts0 + (uint32_t)i * 160;
		uint8_t pt = 0;

		if (i == n / 2 && (events & EV_SSRC))
			ssrc ^= 0x00ff0000u;
		if (i == n / 2 && (events & EV_JUMP))
			seq += 20000;
		if (i % 200 >= 190 && i % 200 < 195) {  /* an RFC 4733 event */
			pt = 101;
			ts = ts0 + (uint32_t)(i - i % 200 + 190) * 160;
		}
		if (i > 0 && rnd() % 100 < loss_pct)
			continue;
		hdr(t[k].b, pt, seq, ts, ssrc);
		t[k++].at_us = at;
		if (i % 200 == 50) {                    /* RTCP multiplexed: measured by neither */
			hdr(t[k].b, 200, (uint16_t)rnd(), rnd(), ssrc);
			t[k++].at_us = at + 1;
		}
		if (rnd() % 100 < dup_pct) {
			t[k] = t[k - 1];
			t[k++].at_us += 300;
		}
	}
	for (size_t i = 1; i + 1 < k; i++)     /* the packets swap, the arrivals stay */
		if (rnd() % 100 < reorder_pct) {
			uint8_t x[12];

			memcpy(x, t[i].b, 12);
			memcpy(t[i].b, t[i + 1].b, 12);
			memcpy(t[i + 1].b, x, 12);
			i++;
		}
	return k;
}

/* ---- the two measurers ---- */

static void user(struct quality_rx *q, const struct pkt *p)
{
	quality_rtp(q, p->b, 172, CLOCK, p->at_us);
}

/* what kernel-module/quality.c does with a packet, less the skb and the line's lock */
static void kern(struct sluice_quality *q, const struct pkt *p)
{
	struct sluice_q_pkt k;

	if (!sluice_q_is_rtp(p->b))
		return;
	sluice_q_parse(&k, p->b);
	sluice_q_rtp(q, &k, (u32)(p->at_us * CLOCK / 1000000), CLOCK);
}

static struct quality_seg seg_of(const struct sluice_quality *q)
{
	return (struct quality_seg){
		.epoch = q->epoch, .ssrc = q->ssrc, .ext_max = q->ext_max,
		.base_seq = q->base_seq, .pt = q->pt, .clock = q->clock_rate,
		.jitter16 = q->jitter16, .received = q->received,
		.duplicates = q->duplicates, .reordered = q->reordered, .busy = q->busy,
	};
}

static void fold(struct quality_rx *q, struct quality_folded *f, const struct sluice_quality *k)
{
	struct quality_seg s = seg_of(k);

	quality_merge(q, f, &s);
}

/* A push: what daemon/kernel_quality.c hands a new entry (module: sluice_quality_reset) */
static void push(struct sluice_quality *k, struct quality_folded *f, const struct quality_rx *q)
{
	memset(k, 0, sizeof(*k));
	k->jitter16 = q->init && q->clock == CLOCK ? q->jitter16 : 0;
	memset(f, 0, sizeof(*f));
}

static uint64_t dist(int64_t a, int64_t b)
{
	return (uint64_t)(a > b ? a - b : b - a);
}

/* slack: how far lost, duplicates and reordered may be off (0: exact) */
static void near(const struct quality_rx *got, const struct quality_rx *want, const char *what,
		 size_t at, bool jitter_exact, uint64_t slack)
{
	if (quality_expected(got) != quality_expected(want) ||
	    dist(quality_lost(got), quality_lost(want)) > slack ||
	    dist((int64_t)got->duplicates, (int64_t)want->duplicates) > slack ||
	    dist((int64_t)got->reordered, (int64_t)want->reordered) > slack ||
	    got->ssrc != want->ssrc || (jitter_exact && got->jitter16 != want->jitter16))
		fail_msg("%s, packet %zu: expected %llu/%llu lost %lld/%lld dup %llu/%llu reord "
			 "%llu/%llu ssrc %x/%x jitter16 %u/%u", what, at,
			 (unsigned long long)quality_expected(got),
			 (unsigned long long)quality_expected(want), (long long)quality_lost(got),
			 (long long)quality_lost(want), (unsigned long long)got->duplicates,
			 (unsigned long long)want->duplicates, (unsigned long long)got->reordered,
			 (unsigned long long)want->reordered, got->ssrc, want->ssrc, got->jitter16,
			 want->jitter16);
}

static void same(const struct quality_rx *got, const struct quality_rx *want, const char *what,
		 size_t at, bool jitter_exact)
{
	near(got, want, what, at, jitter_exact, 0);
}

static struct pkt tr[MAXP];

static const struct {
	uint16_t seq0;
	unsigned loss, reorder, dup, jitter_us, events;
} cases[] = {
	{ 1000, 0, 0, 0, 0, 0 },
	{ 65000, 5, 0, 0, 0, 0 },               /* loss across the wrap */
	{ 65500, 5, 3, 2, 30000, 0 },           /* everything at once */
	{ 12, 10, 10, 10, 80000, 0 },
	{ 30000, 2, 1, 1, 20000, EV_SSRC },
	{ 60000, 2, 1, 1, 20000, EV_JUMP },
	{ 100, 1, 1, 1, 5000, EV_SSRC | EV_JUMP },
};

/* Folded after every packet: the module plus the fold is lib/quality.c, field for field
 * (jitter included: the same integer arithmetic on the same clock units). */
static void test_module_is_userspace(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct quality_rx ref = { 0 }, got = { 0 };
		struct sluice_quality k = { 0 };
		struct quality_folded f = { 0 };
		size_t n;

		rng = 11 + (uint32_t)c;
		n = trace(tr, 10000, cases[c].seq0, cases[c].loss, cases[c].reorder, cases[c].dup,
			  cases[c].jitter_us, cases[c].events);
		for (size_t i = 0; i < n; i++) {
			user(&ref, &tr[i]);
			kern(&k, &tr[i]);
			fold(&got, &f, &k);
			same(&got, &ref, "per packet", i, true);
		}
		/* the module's own figures, as the list file prints them */
		assert_int_equal(k.ext_max - k.base_seq + 1, quality_expected(&ref));
		assert_int_equal(k.received, ref.received);
		assert_int_equal(k.jitter16, ref.jitter16);
		if (cases[c].loss && !cases[c].events)
			assert_true(quality_lost(&ref) > 0);
		if (cases[c].jitter_us)
			assert_true(ref.jitter16 > 0);
	}
}

/* Folded now and then (the daemon reads once a second): the same at the end, and at each
 * fold, as long as the source keeps its SSRC. */
static void test_sparse_folds(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct quality_rx ref = { 0 }, got = { 0 };
		struct sluice_quality k = { 0 };
		struct quality_folded f = { 0 };
		size_t n, next;

		if (cases[c].events & EV_SSRC)
			continue;
		rng = 101 + (uint32_t)c;
		n = trace(tr, 10000, cases[c].seq0, cases[c].loss, cases[c].reorder, cases[c].dup,
			  cases[c].jitter_us, cases[c].events);
		next = rnd() % 100;
		for (size_t i = 0; i < n; i++) {
			user(&ref, &tr[i]);
			kern(&k, &tr[i]);
			if (i == next || i == n - 1) {
				fold(&got, &f, &k);
				same(&got, &ref, "sparse", i, true);
				next = i + 1 + rnd() % 150;
			}
		}
	}
}

/* Spells: userspace, the kernel (pushed with userspace's jitter), back to userspace, the
 * kernel again; a few packets reach userspace late after each push (they were in the
 * socket buffer). Counts come out exactly as one userspace measurement of the whole
 * trace, but for a duplicate or a swapped pair split by a hand-over (neither side
 * sees both: at most one packet of slack per hand-over); the jitter loses one sample
 * per hand-over and stays within 2 %. */
static void test_spells(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct quality_rx ref = { 0 }, got = { 0 };
		struct sluice_quality k = { 0 };
		struct quality_folded f = { 0 };
		bool in_kernel = false;
		size_t n, late = 0, seams = 0;
		double jr, jg;

		if (cases[c].events)
			continue;
		rng = 1001 + (uint32_t)c;
		n = trace(tr, 12000, cases[c].seq0, cases[c].loss, cases[c].reorder, cases[c].dup,
			  cases[c].jitter_us, 0);
		for (size_t i = 0; i < n; i++) {
			if (i % 3000 == 1000) {         /* pushed: the next 3 still to userspace */
				push(&k, &f, &got);
				in_kernel = true;
				late = 3;
				seams++;
			} else if (i % 3000 == 2500) {  /* withdrawn: the last fold */
				fold(&got, &f, &k);
				in_kernel = false;
				seams++;
			}
			user(&ref, &tr[i]);
			if (in_kernel && !late)
				kern(&k, &tr[i]);
			else
				user(&got, &tr[i]);
			if (late)
				late--;
			if (in_kernel && i % 50 == 0)   /* the daemon's periodic read */
				fold(&got, &f, &k);
		}
		fold(&got, &f, &k);
		near(&got, &ref, "spells", n, false,
		     cases[c].reorder || cases[c].dup ? seams : 0);
		jr = quality_jitter_ms(&ref);
		jg = quality_jitter_ms(&got);
		if (jr > 1 ? jg < jr * 0.98 || jg > jr * 1.02 : jg > jr + 0.02)
			fail_msg("case %zu: jitter %.3f ms, one measurement %.3f ms", c, jg, jr);
	}
}

/* A known jitter through the module: delay alternating 0 / 30 ms gives |D| = 30 ms on
 * every packet, so the estimate converges to 30 ms (240 clock units). */
static void test_known_jitter(void **state)
{
	struct sluice_quality k = { 0 };

	(void)state;
	for (unsigned i = 0; i < 400; i++) {
		struct pkt p;

		hdr(p.b, 0, (uint16_t)(40000 + i), 7 + i * 160, 0xabc);
		p.at_us = 5000000 + (int64_t)i * 20000 + (i & 1) * 30000;
		kern(&k, &p);
	}
	assert_in_range(k.jitter16 >> 4, 238, 240);
	assert_int_equal(k.ext_max - k.base_seq + 1, 400);
	assert_int_equal(k.received, 400);
	/* a seeded entry carries on from the seed, without a first jump to zero */
	memset(&k, 0, sizeof(k));
	k.jitter16 = 240 << 4;
	for (unsigned i = 0; i < 3; i++) {
		struct pkt p;

		hdr(p.b, 0, (uint16_t)(50000 + i), i * 160, 0xabc);
		p.at_us = 7000000 + (int64_t)i * 20000;
		kern(&k, &p);
	}
	assert_in_range(k.jitter16 >> 4, 200, 240);
	assert_int_equal(k.epoch, 1);
}

/* ns -> clock units: within one unit of ns * rate / 10^9 for ~18 minutes of uptime
 * (2^40 ns) and exact on a whole number of units; beyond, any interval stays exact to
 * well under a unit. */
static void test_ticks(void **state)
{
	static const u32 rates[] = { 8000, 16000, 48000, 90000, SLUICE_MAX_CLOCK_RATE };

	(void)state;
	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		u32 mult = sluice_q_mult(rates[r]);

		assert_true(mult > 0);
		for (int i = 0; i < 100000; i++) {
			u64 ns = ((u64)rnd() << 8 | (rnd() & 0xff)) % (1ull << 40);
			u64 exact = (u64)((unsigned __int128)ns * rates[r] / 1000000000u);
			u64 whole = exact * 1000000000u / rates[r];
			u32 got = sluice_q_ticks(ns, mult);

			assert_in_range(got, (u32)exact, (u32)exact + 1);
			if ((u64)((unsigned __int128)whole * rates[r] % 1000000000u) == 0)
				assert_int_equal(sluice_q_ticks(whole, mult), (u32)exact);
			/* 20 ms later, at 10^15 ns of uptime: the interval is what it is */
			u64 t0 = 1000000000000000ull + ns;
			u32 d = sluice_q_ticks(t0 + 20000000, mult) - sluice_q_ticks(t0, mult);

			assert_in_range(d, rates[r] / 50 - 1, rates[r] / 50 + 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_is_userspace),
		cmocka_unit_test(test_sparse_folds),
		cmocka_unit_test(test_spells),
		cmocka_unit_test(test_known_jitter),
		cmocka_unit_test(test_ticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
