/* daemon/kernel_quality.c and the reports it feeds: what a push hands the module (flags,
 * clock, the jitter so far), and figures folded in from the module reaching the same
 * structures userspace fills: query's quality dict, the SSRC section, the call's MOS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/kernel.h"
#include "../../daemon/quality_track.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/kmod.h"
#include "party_fixture.h"

static void rtp(struct quality_rx *q, uint16_t seq, int64_t at_us, unsigned clock)
{
	uint8_t p[12] = { 0x80, 0, (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
	uint32_t ts = seq * 160u;

	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	quality_rtp(q, p, sizeof(p), clock, at_us);
}

static void test_push(void **state)
{
	struct party p;
	struct media m;
	struct kmod_stream ks;

	(void)state;
	fixture_party(&p, &m, 1);
	m.clock = 8000;
	for (uint16_t i = 0; i < 50; i++)       /* userspace measured 20 ms +- 5 ms */
		rtp(&m.rtp.qrx, i, i * 20000 + (i & 1) * 5000, 8000);
	assert_true(m.rtp.qrx.jitter16 > 0);

	memset(&ks, 0, sizeof(ks));
	kernel_quality_push(&m.rtp, &ks);
	assert_int_equal(ks.flags, SLUICE_SF_QUALITY);
	assert_int_equal(ks.clock_rate, 8000);
	assert_int_equal(ks.jitter16, m.rtp.qrx.jitter16);

	memset(&ks, 0, sizeof(ks));             /* RTCP: not measured */
	kernel_quality_push(&m.rtcp, &ks);
	assert_int_equal(ks.flags | ks.clock_rate | ks.jitter16, 0);

	m.clock = 16000;                        /* a new codec: its own estimate */
	memset(&ks, 0, sizeof(ks));
	kernel_quality_push(&m.rtp, &ks);
	assert_int_equal(ks.clock_rate, 16000);
	assert_int_equal(ks.jitter16, 0);

	m.clock = SLUICE_MAX_CLOCK_RATE + 1;    /* the SDP's word: the module would refuse */
	memset(&ks, 0, sizeof(ks));
	kernel_quality_push(&m.rtp, &ks);
	assert_int_equal(ks.flags, SLUICE_SF_QUALITY);
	assert_int_equal(ks.clock_rate | ks.jitter16, 0);
}

static int64_t get(const struct bval *d, const char *k)
{
	const struct bval *v = bv_dict_get(d, k);

	assert_non_null(v);
	return v->i;
}

/* 20 s of a stream the module forwards, folded once a second as the daemon does: 5 %
 * lost, 30 ms of jitter. query's dict, the SSRC section and the call's MOS come out of
 * the folded figures as they would from userspace's. */
static void test_folded_figures_reach_the_reports(void **state)
{
	struct call c;
	struct party p;
	struct media m;
	struct quality_seg seg = { .epoch = 1, .ssrc = 0xabcd, .base_seq = 100, .clock = 8000,
				   .jitter16 = 240 << 4 };
	struct arena a;
	struct bval *d, *reply, *ssrc;
	unsigned lowest, average;

	(void)state;
	memset(&c, 0, sizeof(c));
	fixture_party(&p, &m, 1);
	p.call = &c;
	c.parties = &p;
	strcpy(m.codec, "PCMU/8000");
	m.clock = 8000;
	for (int s = 1; s <= 20; s++) {
		seg.ext_max = 100 + 50 * s - 1;         /* 50 packets a second */
		seg.received = (uint64_t)(50 * s) - (uint64_t)(50 * s) / 20;
		assert_int_equal(quality_merge(&m.rtp.qrx, &m.rtp.kq, &seg),
				 s == 1 ? 48 : s % 2 ? 48 : 47);
		quality_tick(&m.rtp, (int64_t)s * 1000000);
	}
	assert_int_equal(m.rtp.mos.samples, 3);         /* at 6, 11 and 16 s */
	arena_init(&a, 0);
	d = quality_stream_dict(&a, &m.rtp);
	assert_non_null(d);
	assert_int_equal(get(d, "SSRC"), 0xabcd);
	assert_int_equal(get(d, "packets expected"), 1000);
	assert_int_equal(get(d, "packets lost"), 50);
	assert_int_equal(get(d, "jitter us"), 30000);
	assert_int_equal(get(d, "MOS samples"), 3);
	reply = bv_new_dict(&a);
	quality_ssrc_section(&a, reply, &c);
	ssrc = bv_dict_get(bv_dict_get(reply, "SSRC"), "43981");
	assert_non_null(ssrc);
	assert_int_equal(get(ssrc, "packets lost"), 50);
	assert_int_equal(get(bv_dict_get(ssrc, "average MOS"), "packet loss"), 5);
	assert_int_equal(get(bv_dict_get(ssrc, "average MOS"), "jitter"), 30);
	quality_call_mos(&c, &lowest, &average);
	/* G.711, 5 % loss, 60 ms of delay (twice the jitter): R = 93.2 - 1.44 - 15.6 */
	assert_in_range(average, 38, 40);
	assert_in_range(lowest, 38, average);
	arena_reset(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_folded_figures_reach_the_reports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
