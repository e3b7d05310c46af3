/* quality: loss, duplicates, reordering and sequence wrap; RFC 3550 jitter on traces of
 * known jitter; RTT from crafted SR/RR pairs; the E-model MOS table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/quality.h"

static void rtp(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	memset(p, 0, 12);
	p[0] = 0x80;
	p[1] = pt;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

static void feed(struct quality_rx *q, uint16_t seq, uint32_t ts, int64_t at)
{
	uint8_t p[172];

	rtp(p, 0, seq, ts, 0x1234);
	quality_rtp(q, p, sizeof(p), 8000, at);
}

static void test_loss_wrap_dup_reorder(void **state)
{
	struct quality_rx q = { 0 };
	unsigned dropped = 0;

	(void)state;
	srand(7);
	/* 2000 packets from seq 64000 (wraps), 5 % dropped at random */
	for (unsigned i = 0; i < 2000; i++) {
		if (i > 0 && i < 1999 && rand() % 100 < 5) {
			dropped++;
			continue;
		}
		feed(&q, (uint16_t)(64000 + i), i * 160, (int64_t)i * 20000);
	}
	assert_int_equal(quality_expected(&q), 2000);
	assert_int_equal(quality_lost(&q), dropped);
	assert_int_equal(q.duplicates, 0);
	assert_int_equal(q.reordered, 0);

	/* duplicates do not hide loss; late packets count as reordered, once */
	memset(&q, 0, sizeof(q));
	for (unsigned i = 0; i < 100; i++) {
		uint16_t s = (uint16_t)(i % 10 == 5 ? i + 1 : i % 10 == 6 ? i - 1 : i);

		feed(&q, s, s * 160, i * 20000);
		if (i % 25 == 0)
			feed(&q, s, s * 160, i * 20000);        /* sent twice */
	}
	assert_int_equal(quality_lost(&q), 0);
	assert_int_equal(q.duplicates, 4);
	assert_int_equal(q.reordered, 10);
	assert_int_equal(q.received, 100);
	/* interval loss resets */
	assert_true(quality_interval_loss(&q) == 0);
	feed(&q, 110, 110 * 160, 110 * 20000);         /* 100..109 lost: 10 of 11 */
	assert_true(quality_interval_loss(&q) > 90.0);
	assert_true(quality_interval_loss(&q) == 0);
}

static void test_jitter_known_traces(void **state)
{
	struct quality_rx q = { 0 };
	double j;

	(void)state;
	/* constant network delay: no jitter */
	for (unsigned i = 0; i < 500; i++)
		feed(&q, (uint16_t)i, i * 160, 5000 + (int64_t)i * 20000);
	assert_true(quality_jitter_ms(&q) < 0.2);
	/* delay alternating 0 / 30 ms: |D| = 30 ms every packet, J converges to 30 ms */
	memset(&q, 0, sizeof(q));
	for (unsigned i = 0; i < 500; i++)
		feed(&q, (uint16_t)i, i * 160, (int64_t)i * 20000 + (i & 1) * 30000);
	j = quality_jitter_ms(&q);
	assert_true(j > 28.5 && j < 31.5);
	/* delay uniform in 0..30 ms: E|D| = 10 ms; the estimate averaged over the trace */
	memset(&q, 0, sizeof(q));
	srand(3);
	double sum = 0;
	unsigned n = 0;
	for (unsigned i = 0; i < 20000; i++) {
		feed(&q, (uint16_t)i, i * 160, (int64_t)i * 20000 + rand() % 30001);
		if (i > 200) {
			sum += quality_jitter_ms(&q);
			n++;
		}
	}
	j = sum / n;
	assert_true(j > 9.5 && j < 10.5);
	/* telephone-event packets do not count as jitter */
	uint8_t p[20];
	for (unsigned i = 500; i < 520; i++) {
		rtp(p, 101, (uint16_t)(20000 + i), 500 * 160, 0x1234);
		quality_rtp(&q, p, sizeof(p), 8000, (int64_t)i * 20000);
	}
	assert_true(quality_jitter_ms(&q) < 15);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void test_rtt_from_sr_rr(void **state)
{
	struct quality_rtt r = { .last_rtt_us = -1 };
	uint8_t sr[28] = { 0x80, 200, 0, 6 }, rr[32] = { 0x81, 201, 0, 7 };

	(void)state;
	put32(sr + 8, 0x0000abcd);      /* NTP seconds: middle bits 0xabcd.... */
	put32(sr + 12, 0x12340000);
	quality_rtcp_out(&r, sr, sizeof(sr), 1000000);
	/* the peer answers 150 ms later, having held the SR for 50 ms */
	put32(rr + 8, 0x5678);          /* report about SSRC */
	rr[12] = 64;                    /* fraction lost 25 % */
	put32(rr + 12, 64u << 24 | 42);
	put32(rr + 20, 80);             /* jitter */
	put32(rr + 24, 0xabcd1234);     /* LSR */
	put32(rr + 28, 3277);           /* DLSR: 50 ms in 1/65536 s */
	quality_rtcp_in(&r, rr, sizeof(rr), 1150000);
	assert_int_equal(r.samples, 1);
	assert_true(r.last_rtt_us > 99900 && r.last_rtt_us < 100100);
	assert_true(r.have_report);
	assert_int_equal(r.fraction_lost, 64);
	assert_int_equal(r.cumulative_lost, 42);
	assert_int_equal(r.jitter, 80);
	/* an RR answering no SR of ours gives no RTT */
	put32(rr + 24, 0x11111111);
	quality_rtcp_in(&r, rr, sizeof(rr), 1300000);
	assert_int_equal(r.samples, 1);
}

static void test_mos_table(void **state)
{
	struct quality_mos m = { 0 };

	(void)state;
	assert_int_equal(quality_mos10("PCMU", 0, 0), 44);
	assert_int_equal(quality_mos10("PCMA", 0, 20), 44);
	assert_int_equal(quality_mos10("G729", 0, 0), 41);
	assert_int_equal(quality_mos10("PCMU", 5, 0), 39);
	assert_int_equal(quality_mos10("G729", 5, 0), 33);
	assert_true(quality_mos10("PCMU", 0, 400) < 40);
	assert_true(quality_mos10("PCMU", 100, 1000) <= 15);
	assert_int_equal(quality_mos10("unknown", 0, 0), 44);
	quality_mos_add(&m, 44);
	quality_mos_add(&m, 39);
	quality_mos_add(&m, 41);
	assert_int_equal(m.min, 39);
	assert_int_equal(m.max, 44);
	assert_int_equal(m.sum / m.samples, 41);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_wrap_dup_reorder),
		cmocka_unit_test(test_jitter_known_traces),
		cmocka_unit_test(test_rtt_from_sr_rr),
		cmocka_unit_test(test_mos_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
