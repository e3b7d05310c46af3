/* rtp_splice: the relay's own packets continue a sender's stream (SSRC, next seq, ts
 * advanced by the time since its last packet, marker), step by one frame each; the
 * sender's packets after them are shifted to follow without a gap or a step back, for
 * as long as it keeps its SSRC; a sender never heard gets a fresh stream and passes
 * untouched after it; the kernel's hint (SSRC, highest seq) without a timestamp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/rtp_splice.h"

#define SENDER 0x11223344u

struct hdr {
	uint16_t seq;
	uint32_t ts, ssrc;
	bool marker;
};

static void mk(uint8_t *b, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	memset(b, 0, 172);
	b[0] = 0x80;
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
}

static struct hdr rd(const uint8_t *b)
{
	return (struct hdr){
		(uint16_t)(b[2] << 8 | b[3]),
		(uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7],
		(uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11],
		b[1] & 0x80,
	};
}

/* the sender sends n packets from seq/ts every 20 ms from *t; returns the last as out */
static struct hdr sender(struct rtp_splice *sp, unsigned n, uint16_t seq, uint32_t ts,
			 int64_t *t, uint32_t ssrc)
{
	uint8_t b[172];

	for (unsigned i = 0; i < n; i++, *t += 20000) {
		mk(b, ssrc, (uint16_t)(seq + i), ts + 160 * i);
		rtp_splice_sender(sp, b, sizeof(b), 8000, *t);
	}
	return rd(b);
}

static void test_continue_and_shift(void **state)
{
	struct rtp_splice sp;
	struct rtp_splice_hdr h;
	struct hdr last;
	int64_t t = 1000000;
	uint16_t seq0;
	uint32_t ts0;

	(void)state;
	rtp_splice_init(&sp, 0xabcdef01, 7, 99);
	last = sender(&sp, 10, 65530, 4000000000u, &t, SENDER);     /* seq wraps */
	assert_int_equal(last.seq, 3);
	assert_false(rtp_splice_active(&sp));
	/* own packets, the first 20 ms after the sender's last */
	t -= 20000;
	for (unsigned i = 0; i < 50; i++) {
		t += 20000;
		rtp_splice_own(&sp, 160, 8000, t, &h);
		assert_int_equal(h.ssrc, SENDER);
		assert_int_equal(h.seq, (uint16_t)(4 + i));
		assert_int_equal(h.ts, last.ts + 160 * (i + 1));
		assert_int_equal(h.marker, i == 0);
	}
	seq0 = h.seq;
	ts0 = h.ts;
	assert_true(rtp_splice_active(&sp));
	/* the sender goes on with its own numbering (it kept sending: 50 packets later);
	 * its next packet arrives 20 ms after the last own one */
	t += 20000;
	for (unsigned i = 0; i < 5; i++, t += 20000) {
		uint8_t b[172];
		struct hdr o;

		mk(b, SENDER, (uint16_t)(3 + 51 + i), last.ts + 160 * (51 + i));
		rtp_splice_sender(&sp, b, sizeof(b), 8000, t);
		o = rd(b);
		assert_int_equal(o.seq, (uint16_t)(seq0 + 1 + i));
		assert_int_equal(o.ts, ts0 + 160 * (1 + i));
		assert_int_equal(o.marker, i == 0);
	}
	/* here the offsets happen to be 0 (it sent as many as the relay played): no shift */
	assert_false(rtp_splice_active(&sp));
}

/* A sender silent while the relay played, 2 s then 60 ms late: shifted forward. */
static void test_silent_sender_shifted(void **state)
{
	struct rtp_splice sp;
	struct rtp_splice_hdr h;
	struct hdr last;
	int64_t t = 5000000;
	uint8_t b[172];

	(void)state;
	rtp_splice_init(&sp, 1, 2, 3);
	last = sender(&sp, 3, 100, 8000, &t, SENDER);
	t += 2000000;                   /* 2 s later: ts advanced by 16000 + 160 */
	rtp_splice_own(&sp, 160, 8000, t, &h);
	assert_int_equal(h.seq, 103);
	assert_int_equal(h.ts, last.ts + 16160);
	for (int i = 0; i < 9; i++) {
		t += 20000;
		rtp_splice_own(&sp, 160, 8000, t, &h);
	}
	assert_int_equal(h.seq, 112);
	t += 60000;
	mk(b, SENDER, 103, last.ts + 160);      /* it goes on where it stopped */
	rtp_splice_sender(&sp, b, sizeof(b), 8000, t);
	assert_int_equal(rd(b).seq, 113);
	assert_int_equal(rd(b).ts, h.ts + 480);
	assert_true(rtp_splice_active(&sp));
	mk(b, SENDER, 104, last.ts + 320);
	rtp_splice_sender(&sp, b, sizeof(b), 8000, t + 20000);
	assert_int_equal(rd(b).seq, 114);
	assert_int_equal(rd(b).ts, h.ts + 640);
	assert_false(rd(b).marker);
	/* a new SSRC of the sender: a new source, untouched, the shift ends */
	mk(b, 0x5555, 9, 9);
	rtp_splice_sender(&sp, b, sizeof(b), 8000, t + 40000);
	assert_int_equal(rd(b).seq, 9);
	assert_int_equal(rd(b).ts, 9);
	assert_false(rtp_splice_active(&sp));
}

/* Never heard: a fresh stream; the sender's own packets after it pass untouched. */
static void test_fresh(void **state)
{
	struct rtp_splice sp;
	struct rtp_splice_hdr h;
	uint8_t b[172];

	(void)state;
	rtp_splice_init(&sp, 0xf00d, 65535, 77);
	rtp_splice_own(&sp, 960, 48000, 0, &h);
	assert_int_equal(h.ssrc, 0xf00d);
	assert_int_equal(h.seq, 65535);
	assert_int_equal(h.ts, 77);
	assert_true(h.marker);
	rtp_splice_own(&sp, 960, 48000, 20000, &h);
	assert_int_equal(h.seq, 0);
	assert_int_equal(h.ts, 77 + 960);
	assert_false(h.marker);
	assert_false(rtp_splice_active(&sp));
	mk(b, SENDER, 500, 600);
	rtp_splice_sender(&sp, b, sizeof(b), 48000, 40000);
	assert_int_equal(rd(b).seq, 500);
	assert_int_equal(rd(b).ts, 600);
	assert_false(rd(b).marker);
	assert_false(rtp_splice_active(&sp));
}

/* The quality figures' hint: SSRC and seq continue, the timestamp is fresh or the one
 * estimated from the transit time; RTCP untouched. */
static void test_hint_and_rtcp(void **state)
{
	struct rtp_splice sp;
	struct rtp_splice_hdr h;
	uint8_t b[172];

	(void)state;
	rtp_splice_init(&sp, 1, 2, 1234);
	rtp_splice_hint(&sp, SENDER, 4000, false, 0, 0);
	rtp_splice_own(&sp, 160, 8000, 20000, &h);
	assert_int_equal(h.ssrc, SENDER);
	assert_int_equal(h.seq, 4001);
	assert_int_equal(h.ts, 1234);
	assert_true(h.marker);
	assert_true(rtp_splice_active(&sp));
	mk(b, SENDER, 4001, 0);
	b[1] = 200;                     /* an SR multiplexed */
	rtp_splice_sender(&sp, b, 28, 8000, 40000);
	assert_int_equal(rd(b).seq, 4001);
	assert_true(rtp_splice_active(&sp));
	/* with the timestamp it would be at: the own packet a frame after it */
	rtp_splice_init(&sp, 1, 2, 1234);
	rtp_splice_hint(&sp, SENDER, 4000, true, 50000, 0);
	rtp_splice_own(&sp, 160, 8000, 3000, &h);
	assert_int_equal(h.ts, 50160);
	assert_int_equal(h.seq, 4001);
	/* a stale splice (the kernel forwarded 500 packets it never saw) is replaced */
	rtp_splice_hint(&sp, SENDER, 4501, true, 90000, 40000);
	rtp_splice_own(&sp, 160, 8000, 60000, &h);
	assert_int_equal(h.seq, 4502);
	assert_int_equal(h.ts, 90160);
	assert_true(h.marker);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_continue_and_shift),
		cmocka_unit_test(test_silent_sender_shifted),
		cmocka_unit_test(test_fresh),
		cmocka_unit_test(test_hint_and_rtcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
