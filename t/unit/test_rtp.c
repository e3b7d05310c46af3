/* RTP/RTCP header peeking: RFC 5761 demultiplexing and SSRC extraction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/rtp.h"

/* A 12-byte header: byte0 = version << 6, byte1 = marker << 7 | pt (for RTP) or the
 * RTCP packet type as a whole byte. */
struct rtcp_vec {
	uint8_t b0, b1;
	size_t len;
	bool rtcp;
};

static const struct rtcp_vec rtcp_vecs[] = {
	/* RTCP packet types, version 2, with and without padding / report count bits */
	/*  0 */ { 0x80, 200, 12, true },          /* SR */
	/*  1 */ { 0x81, 201, 12, true },          /* RR, RC=1 */
	/*  2 */ { 0x80, 202, 12, true },          /* SDES */
	/*  3 */ { 0x80, 203, 12, true },          /* BYE */
	/*  4 */ { 0xa0, 204, 12, true },          /* APP, padding bit */
	/*  5 */ { 0x80, 200, 8, true },           /* shortest RTCP header */
	/*  6 */ { 0x80, 205, 12, true },          /* RTPFB: inside 192..223 */
	/*  7 */ { 0x80, 206, 12, true },          /* PSFB */
	/*  8 */ { 0x80, 192, 12, true },          /* lower edge of the RFC 5761 range */
	/*  9 */ { 0x80, 223, 12, true },          /* upper edge */
	/* RTP payload types, with and without marker */
	/* 10 */ { 0x80, 0, 12, false },            /* PCMU */
	/* 11 */ { 0x80, 0x80 | 0, 12, false },     /* PCMU + marker */
	/* 12 */ { 0x80, 8, 12, false },            /* PCMA */
	/* 13 */ { 0x80, 0x80 | 8, 12, false },
	/* 14 */ { 0x80, 96, 12, false },           /* dynamic */
	/* 15 */ { 0x80, 0x80 | 96, 12, false },
	/* 16 */ { 0x80, 127, 12, false },
	/* 17 */ { 0x80, 0x80 | 127, 12, false },   /* 255: above the RTCP range */
	/* 18 */ { 0x80, 191, 12, false },          /* marker + PT 63: just below */
	/* 19 */ { 0x80, 224, 12, false },          /* marker + PT 96: just above */
	/* short packets */
	/* 20 */ { 0x80, 200, 7, false },
	/* 21 */ { 0x80, 200, 2, false },
	/* 22 */ { 0x80, 200, 0, false },
	/* wrong version */
	/* 23 */ { 0x00, 200, 12, false },          /* V=0 */
	/* 24 */ { 0x40, 200, 12, false },          /* V=1 */
	/* 25 */ { 0xc0, 200, 12, false },          /* V=3 */
	/* 26 */ { 0x00, 0, 12, false },            /* STUN-looking */
};

static void test_is_rtcp(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rtcp_vecs) / sizeof(rtcp_vecs[0]); i++) {
		const struct rtcp_vec *v = &rtcp_vecs[i];
		uint8_t pkt[12] = { v->b0, v->b1, 0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8 };

		if (rtp_is_rtcp(pkt, v->len) != v->rtcp)
			fail_msg("is_rtcp[%zu]: %02x %02x len %zu: got %d want %d", i,
				 v->b0, v->b1, v->len, !v->rtcp, v->rtcp);
	}
}

/* Every PT 0..127 with and without marker: RTP unless the byte lands in 192..223. */
static void test_is_rtcp_sweep(void **state)
{
	(void)state;
	for (unsigned b1 = 0; b1 < 256; b1++) {
		uint8_t pkt[12] = { 0x80, (uint8_t)b1 };
		bool want = b1 >= 192 && b1 <= 223;

		if (rtp_is_rtcp(pkt, sizeof(pkt)) != want)
			fail_msg("byte1 %u: got %d want %d", b1, !want, want);
	}
}

/* A length past the buffer must not be needed to answer: the function reads only
 * what len allows (ASan checks the read in the SANITIZE build). */
static void test_bounds(void **state)
{
	uint32_t ssrc = 0;
	uint8_t *p;

	(void)state;
	p = test_malloc(8);
	memcpy(p, "\x80\xc8\x00\x06\xde\xad\xbe\xef", 8);
	assert_true(rtp_is_rtcp(p, 8));
	assert_int_equal(rtcp_ssrc(p, 8, &ssrc), 0);
	assert_int_equal(ssrc, 0xdeadbeef);
	assert_int_equal(rtp_ssrc(p, 8, &ssrc), -EINVAL);
	test_free(p);
}

static void test_ssrc(void **state)
{
	static const struct {
		uint8_t pkt[12];
		size_t len;
		int rtp_ret, rtcp_ret;
		uint32_t rtp_ssrc, rtcp_ssrc;
	} v[] = {
		/* 0: RTP PCMU, SSRC 0xc2f8312e at 8; bytes 4..7 are the timestamp */
		{ { 0x80, 0x00, 0, 1, 0, 0, 0, 160, 0xc2, 0xf8, 0x31, 0x2e }, 12, 0, 0,
		  0xc2f8312e, 160 },
		/* 1: RTCP SR, sender SSRC 0x11223344 at 4 */
		{ { 0x80, 200, 0, 6, 0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd }, 12, 0, 0,
		  0xaabbccdd, 0x11223344 },
		/* 2: 11 bytes: too short for RTP, long enough for RTCP */
		{ { 0x80, 201, 0, 1, 0, 0, 0, 9 }, 11, -EINVAL, 0, 0, 9 },
		/* 3: 7 bytes: too short for both */
		{ { 0x80, 200, 0, 1, 0, 0, 0 }, 7, -EINVAL, -EINVAL, 0, 0 },
		/* 4: version 1 */
		{ { 0x40, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 }, 12, -EINVAL, -EINVAL, 0, 0 },
		/* 5: version 0 */
		{ { 0x00, 200, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 }, 12, -EINVAL, -EINVAL, 0, 0 },
		/* 6: SSRC with the top bit set and 0xffffffff */
		{ { 0x80, 96, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 12, 0, 0,
		  0xffffffff, 0xffffffff },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t s = 0x5a5a5a5a;
		int ret = rtp_ssrc(v[i].pkt, v[i].len, &s);

		if (ret != v[i].rtp_ret)
			fail_msg("rtp_ssrc[%zu]: got %d want %d", i, ret, v[i].rtp_ret);
		if (!ret && s != v[i].rtp_ssrc)
			fail_msg("rtp_ssrc[%zu]: got %#x want %#x", i, s, v[i].rtp_ssrc);
		s = 0x5a5a5a5a;
		ret = rtcp_ssrc(v[i].pkt, v[i].len, &s);
		if (ret != v[i].rtcp_ret)
			fail_msg("rtcp_ssrc[%zu]: got %d want %d", i, ret, v[i].rtcp_ret);
		if (!ret && s != v[i].rtcp_ssrc)
			fail_msg("rtcp_ssrc[%zu]: got %#x want %#x", i, s, v[i].rtcp_ssrc);
	}
}

/* Payload offset and length: CSRCs, the extension and padding skipped; headers that
 * do not fit refused. */
static void test_payload(void **state)
{
	static const struct {
		uint8_t pkt[32];
		size_t len;
		int ret;
		size_t off, plen;
	} v[] = {
		/* 0: plain, 4 payload bytes */
		{ { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 9, 9 }, 16, 0, 12, 4 },
		/* 1: 2 CSRCs */
		{ { 0x82, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 9 }, 21, 0, 20, 1 },
		/* 2: extension of one word */
		{ { 0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 9, 9 }, 22,
		  0, 20, 2 },
		/* 3: padding of 3 (count included) */
		{ { 0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9, 0, 0, 3 }, 17, 0, 12, 2 },
		/* 4: padding longer than the payload */
		{ { 0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 5 }, 14, -EINVAL, 0, 0 },
		/* 5: CSRCs past the end */
		{ { 0x83, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 }, 16, -EINVAL, 0, 0 },
		/* 6: extension header cut */
		{ { 0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde }, 14, -EINVAL, 0, 0 },
		/* 7: extension body past the end */
		{ { 0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 2, 1, 2, 3, 4 }, 20,
		  -EINVAL, 0, 0 },
		/* 8: short, 9: version 1 */
		{ { 0x80, 0, 0, 1 }, 11, -EINVAL, 0, 0 },
		{ { 0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12, -EINVAL, 0, 0 },
		/* 10: header only */
		{ { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 12, 0, 12, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t off = 99, plen = 99;
		int ret = rtp_payload(v[i].pkt, v[i].len, &off, &plen);

		if (ret != v[i].ret || (!ret && (off != v[i].off || plen != v[i].plen)))
			fail_msg("rtp_payload[%zu]: %d, %zu+%zu; want %d, %zu+%zu", i, ret, off,
				 plen, v[i].ret, v[i].off, v[i].plen);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_rtcp),
		cmocka_unit_test(test_is_rtcp_sweep),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_ssrc),
		cmocka_unit_test(test_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
