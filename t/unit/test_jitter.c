/* jitter: simulated networks (reordering, jitter, loss, drift, wrap, SSRC change) on a
 * simulated clock; playout must be in order with no gaps beyond declared losses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/jitter.h"

#define MAXPKT 4000
#define WARMUP_US 6000000       /* two delay windows: the target has seen the spread */

static uint32_t rng = 2463534242u;

static uint32_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

struct net {
	unsigned n;
	uint16_t seq0;
	uint32_t ts0, ssrc[MAXPKT];
	uint64_t send[MAXPKT], arrive[MAXPKT];
	bool drop[MAXPKT];
	unsigned order[MAXPKT];         /* packet indices by arrival time */
};

struct result {
	unsigned played, lost, lost_after_warmup, gaps, late;
	uint64_t max_delay_us;          /* playout minus send time, after warm-up */
	uint64_t last_delay_us;
	uint16_t lost_seq[64];
	uint32_t lost_ts[64];
	struct jitter_stats st;
};

/* n packets of 20 ms; sender clock runs (1 + drift_ppm/1e6) fast; arrival = send +
 * 30 ms + uniform jitter; reorder_pct of packets are swapped with their successor. */
static void net_make(struct net *nw, unsigned n, unsigned jitter_ms, unsigned reorder_pct,
		     int drift_ppm, uint16_t seq0)
{
	memset(nw, 0, sizeof(*nw));
	nw->n = n;
	nw->seq0 = seq0;
	nw->ts0 = 0xffff0000u;
	for (unsigned i = 0; i < n; i++) {
		nw->ssrc[i] = 0x5150;
		nw->send[i] = (uint64_t)((double)i * 20000 * 1e6 / (1e6 + drift_ppm)) + 1000000;
		nw->arrive[i] = nw->send[i] + 30000 +
				(jitter_ms ? xorshift() % (jitter_ms * 1000) : 0);
	}
	/* reordering delays a packet past its successor (never makes one early) */
	for (unsigned i = 0; i + 1 < n; i++) {
		if (xorshift() % 100 < reorder_pct) {
			if (nw->arrive[i] <= nw->arrive[i + 1])
				nw->arrive[i] = nw->arrive[i + 1] + 1000;
			i++;
		}
	}
}

static int by_arrival(const void *a, const void *b, void *arg)
{
	const struct net *nw = arg;
	uint64_t x = nw->arrive[*(const unsigned *)a], y = nw->arrive[*(const unsigned *)b];

	return x < y ? -1 : x > y;
}

static void run(struct net *nw, const struct jitter_cfg *cfg, struct result *r)
{
	struct jitter *jb;
	unsigned next = 0, k = 0;
	uint64_t t, end;
	int expect = -1;
	uint8_t pay[4];

	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < nw->n; i++)
		nw->order[i] = i;
	qsort_r(nw->order, nw->n, sizeof(nw->order[0]), by_arrival, nw);
	assert_int_equal(jitter_create(cfg, &jb), 0);
	end = nw->arrive[nw->order[nw->n - 1]] + 500000;
	for (t = nw->arrive[nw->order[0]]; t < end; t += 1000) {
		struct jitter_out o;

		while (k < nw->n && nw->arrive[nw->order[k]] <= t) {
			unsigned i = nw->order[k++];
			int ret;

			if (nw->drop[i])
				continue;
			memcpy(pay, &i, sizeof(pay));
			ret = jitter_put(jb, 0, false, (uint16_t)(nw->seq0 + i),
					 nw->ts0 + i * 160, nw->ssrc[i], pay, sizeof(pay), t);
			if (ret == -ETIME)
				r->late++;
			else
				assert_int_equal(ret, 0);
		}
		while (jitter_get(jb, t, &o) != JITTER_EMPTY) {
			uint16_t seq = o.kind == JITTER_PACKET ? o.pkt->seq : o.seq;
			unsigned idx = (uint16_t)(seq - nw->seq0);

			if (expect >= 0 && seq != (uint16_t)expect &&
			    (idx >= nw->n || nw->ssrc[idx] == nw->ssrc[next ? next - 1 : 0]))
				r->gaps++;
			expect = (uint16_t)(seq + 1);
			next = idx + 1;
			if (o.kind == JITTER_LOST) {
				if (r->lost < 64) {
					r->lost_seq[r->lost] = o.seq;
					r->lost_ts[r->lost] = o.ts;
				}
				r->lost++;
				if (t > WARMUP_US)
					r->lost_after_warmup++;
				continue;
			}
			memcpy(&idx, o.pkt->payload, sizeof(idx));
			assert_int_equal(o.pkt->ts, nw->ts0 + idx * 160);
			r->played++;
			if (t > WARMUP_US) {
				r->last_delay_us = t - nw->send[idx];
				if (r->last_delay_us > r->max_delay_us)
					r->max_delay_us = r->last_delay_us;
			}
		}
	}
	jitter_get_stats(jb, &r->st);
	jitter_destroy(jb);
}

static const struct jitter_cfg cfg_std = { .min_ms = 20, .max_ms = 200, .clock_rate = 8000 };

static struct net nw;

static void test_in_order(void **state)
{
	struct result r;

	(void)state;
	net_make(&nw, 500, 0, 0, 0, 100);
	run(&nw, &cfg_std, &r);
	assert_int_equal(r.played, 500);
	assert_int_equal(r.lost, 0);
	assert_int_equal(r.gaps, 0);
	/* 30 ms transit + the 20 ms minimum target, give or take the 1 ms tick */
	assert_in_range(r.max_delay_us, 50000, 52000);
}

/* The acceptance case: 10 % reordering and 50 ms of jitter. */
static void test_reorder_jitter(void **state)
{
	struct result r;

	(void)state;
	net_make(&nw, 3000, 50, 10, 0, 7);
	run(&nw, &cfg_std, &r);
	printf("  reorder 10%%, jitter 50 ms: played %u, lost %u (after warm-up %u), late %u, "
	       "target %u ms, max delay %.1f ms\n", r.played, r.lost, r.lost_after_warmup,
	       r.late, r.st.target_ms, r.max_delay_us / 1000.0);
	assert_int_equal(r.gaps, 0);
	/* every packet is played or arrived too late (concealed as lost, or the very first
	 * one overtaken before the stream was anchored); only while the target is learnt */
	assert_int_equal(r.played + r.late, 3000);
	assert_true(r.lost <= r.late);
	assert_true(r.late <= 10);
	assert_int_equal(r.lost_after_warmup, 0);
	assert_in_range(r.st.target_ms, 55, 85);   /* spread + margin */
	assert_true(r.max_delay_us <= 30000 + 50000 + 40000);
}

static void test_loss_and_wrap(void **state)
{
	struct result r;

	(void)state;
	net_make(&nw, 400, 10, 0, 0, 65500);       /* wraps after 36 packets */
	nw.drop[30] = nw.drop[36] = nw.drop[37] = nw.drop[200] = true;
	run(&nw, &cfg_std, &r);
	assert_int_equal(r.played, 396);
	assert_int_equal(r.lost, 4);
	assert_int_equal(r.gaps, 0);
	assert_int_equal(r.lost_seq[0], (uint16_t)(65500 + 30));
	assert_int_equal(r.lost_seq[1], 0);
	assert_int_equal(r.lost_seq[2], 1);
	assert_int_equal(r.lost_seq[3], (uint16_t)(65500 + 200));
	assert_int_equal(r.lost_ts[0], nw.ts0 + 30 * 160);
	assert_int_equal(r.lost_ts[1], nw.ts0 + 36 * 160);   /* ts wraps here too */
	assert_int_equal(r.lost_ts[3], nw.ts0 + 200 * 160);
	assert_int_equal(r.late, 0);
}

/* Sender clock 0.2 % fast or slow (20x a poor crystal) for 60 s: the playout point
 * follows, so the delay neither grows without bound nor starves into losses. */
static void test_drift(void **state)
{
	static const int ppm[] = { 2000, -2000 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct result r;

		net_make(&nw, 3000, 20, 0, ppm[i], 1);
		run(&nw, &cfg_std, &r);
		printf("  drift %+d ppm: lost %u, target %u ms, delay at end %.1f ms\n", ppm[i],
		       r.lost, r.st.target_ms, r.last_delay_us / 1000.0);
		assert_int_equal(r.lost_after_warmup, 0);
		assert_int_equal(r.played + r.lost, 3000);
		assert_int_equal(r.gaps, 0);
		assert_true(r.last_delay_us < 30000 + 20000 + 50000);
		assert_true(r.st.overflow == 0);
	}
}

static void test_ssrc_change(void **state)
{
	struct result r;

	(void)state;
	net_make(&nw, 300, 5, 0, 0, 1000);
	for (unsigned i = 150; i < 300; i++)
		nw.ssrc[i] = 0x7777;
	run(&nw, &cfg_std, &r);
	/* what the old source still had buffered (one target's worth) is dropped */
	assert_in_range(r.played, 297, 300);
	assert_int_equal(r.st.resets, 1);
	assert_int_equal(r.lost, 0);
}

static void test_dup_late_overfull(void **state)
{
	struct jitter *jb;
	struct jitter_out o;
	struct jitter_stats st;
	uint8_t p[1] = { 0 };
	unsigned got = 0;

	(void)state;
	assert_int_equal(jitter_create(&cfg_std, &jb), 0);
	assert_int_equal(jitter_put(jb, 0, false, 10, 1600, 1, p, 1, 1000000), 0);
	assert_int_equal(jitter_put(jb, 0, false, 10, 1600, 1, p, 1, 1000000), -EEXIST);
	assert_int_equal(jitter_put(jb, 0, false, 11, 1760, 1, p, JITTER_MAX_PAYLOAD + 1,
				    1000000), -EMSGSIZE);
	assert_int_equal(jitter_get(jb, 1000000, &o), JITTER_EMPTY);
	assert_true(jitter_next_due(jb) > 1000000);
	assert_int_equal(jitter_get(jb, jitter_next_due(jb), &o), JITTER_PACKET);
	assert_int_equal(o.pkt->seq, 10);
	assert_int_equal(jitter_put(jb, 0, false, 9, 1440, 1, p, 1, 1100000), -ETIME);
	assert_int_equal(jitter_put(jb, 0, false, 10, 1600, 1, p, 1, 1100000), -ETIME);
	assert_int_equal(jitter_next_due(jb), UINT64_MAX);
	/* 100 packets (2 s) at once: all but max_ms worth go out immediately */
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(jitter_put(jb, 0, false, (uint16_t)(11 + i), 1760 + i * 160, 1,
					    p, 1, 1200000), 0);
	while (jitter_get(jb, 1200000, &o) == JITTER_PACKET)
		got++;
	assert_in_range(got, 89, 91);
	jitter_get_stats(jb, &st);
	assert_int_equal(st.duplicate, 1);
	assert_int_equal(st.late, 2);
	jitter_destroy(jb);

	assert_int_equal(jitter_create(&(struct jitter_cfg){ .min_ms = 50, .max_ms = 20,
							     .clock_rate = 8000 }, &jb), -EINVAL);
	assert_int_equal(jitter_create(&(struct jitter_cfg){ .max_ms = 20 }, &jb), -EINVAL);
}

/* max_ms 0: off, packets leave at once in arrival order, none dropped. */
static void test_off(void **state)
{
	struct jitter *jb;
	struct jitter_out o;
	static const uint16_t seqs[] = { 5, 7, 6, 6, 2 };
	uint8_t p[1] = { 0 };

	(void)state;
	assert_int_equal(jitter_create(&(struct jitter_cfg){ .clock_rate = 8000 }, &jb), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(jitter_put(jb, 0, false, seqs[i], seqs[i] * 160u, 1, p, 1, 0), 0);
	assert_int_equal(jitter_next_due(jb), 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(jitter_get(jb, 0, &o), JITTER_PACKET);
		assert_int_equal(o.pkt->seq, seqs[i]);
	}
	assert_int_equal(jitter_get(jb, 0, &o), JITTER_EMPTY);
	jitter_destroy(jb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_reorder_jitter),
		cmocka_unit_test(test_loss_and_wrap),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_ssrc_change),
		cmocka_unit_test(test_dup_late_overfull),
		cmocka_unit_test(test_off),
	};
	return cmocka_run_group_tests_name("jitter", tests, NULL, NULL);
}
