/* amr_payload: RFC 4867 packing in both formats, known sizes and header bits, round
 * trips of multi-frame payloads, and refusal of truncated or reserved input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/amr_payload.h"

static void fill(struct amr_frame *f, bool wb, unsigned ft, unsigned seed)
{
	int bits = amr_frame_bits(wb, ft);

	memset(f, 0, sizeof(*f));
	f->ft = (uint8_t)ft;
	f->q = true;
	srand(seed);
	for (int i = 0; i < bits; i++)
		if (rand() & 1)
			f->data[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

static void test_bits(void **state)
{
	(void)state;
	assert_int_equal(amr_frame_bits(false, 7), 244);        /* 12.2 kbit/s */
	assert_int_equal(amr_frame_bits(false, 0), 95);
	assert_int_equal(amr_frame_bits(false, 8), 39);         /* SID */
	assert_int_equal(amr_frame_bits(false, 9), -EINVAL);
	assert_int_equal(amr_frame_bits(false, 15), 0);
	assert_int_equal(amr_frame_bits(true, 8), 477);         /* 23.85 kbit/s */
	assert_int_equal(amr_frame_bits(true, 2), 253);         /* 12.65 kbit/s */
	assert_int_equal(amr_frame_bits(true, 9), 40);
	assert_int_equal(amr_frame_bits(true, 12), -EINVAL);
	assert_int_equal(amr_frame_bits(true, 14), 0);
	assert_int_equal(amr_frame_bits(true, 16), -EINVAL);
	assert_int_equal(amr_modes(false), 8);
	assert_int_equal(amr_modes(true), 9);
}

/* Sizes every AMR implementation agrees on: 12.2 is 32 bytes bandwidth-efficient and 33
 * octet-aligned; 23.85 is 61 and 62. */
static void test_known_sizes(void **state)
{
	static const struct { bool wb, oa; unsigned ft; int len; } c[] = {
		{ false, false, 7, 32 }, { false, true, 7, 33 },
		{ true, false, 8, 61 }, { true, true, 8, 62 },
		{ false, false, 0, 14 }, { true, false, 0, 18 },
		{ false, false, 15, 2 }, { false, true, 15, 2 },
	};
	struct amr_payload p = { .cmr = AMR_CMR_NONE, .n = 1 };
	uint8_t out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		fill(&p.f[0], c[i].wb, c[i].ft, (unsigned)i);
		assert_int_equal(amr_payload_build(&p, c[i].wb, c[i].oa, out, sizeof(out)),
				 c[i].len);
	}
}

static void test_header_bits(void **state)
{
	struct amr_payload p = { .cmr = 5, .n = 1 };
	uint8_t out[64];

	(void)state;
	memset(&p.f[0], 0, sizeof(p.f[0]));
	p.f[0].ft = 7;
	p.f[0].q = true;
	/* bandwidth-efficient: CMR 0101, F 0, FT 0111, Q 1, then speech bits */
	assert_int_equal(amr_payload_build(&p, false, false, out, sizeof(out)), 32);
	assert_int_equal(out[0], 0x53);
	assert_int_equal(out[1] & 0xc0, 0xc0);
	/* octet-aligned: CMR 0101 + 4 reserved, then F 0 FT 0111 Q 1 00 */
	assert_int_equal(amr_payload_build(&p, false, true, out, sizeof(out)), 33);
	assert_int_equal(out[0], 0x50);
	assert_int_equal(out[1], 0x3c);
	/* the speech bits start in the third byte */
	p.f[0].data[0] = 0xa5;
	assert_int_equal(amr_payload_build(&p, false, true, out, sizeof(out)), 33);
	assert_int_equal(out[2], 0xa5);
}

static void round_trip(bool wb, bool oa)
{
	struct amr_payload p = { .cmr = 3 }, q;
	unsigned fts[] = { 0, 2, wb ? 8u : 7u, wb ? 9u : 8u, AMR_FT_NO_DATA, 1 };
	uint8_t out[1024];
	int len;

	p.n = sizeof(fts) / sizeof(fts[0]);
	for (unsigned i = 0; i < p.n; i++)
		fill(&p.f[i], wb, fts[i], i + 10);
	p.f[1].q = false;
	len = amr_payload_build(&p, wb, oa, out, sizeof(out));
	assert_true(len > 0);
	assert_int_equal(amr_payload_parse(out, (size_t)len, wb, oa, &q), 0);
	assert_int_equal(q.cmr, 3);
	assert_int_equal(q.n, p.n);
	for (unsigned i = 0; i < p.n; i++) {
		assert_int_equal(q.f[i].ft, p.f[i].ft);
		assert_int_equal(q.f[i].q, p.f[i].q);
		assert_memory_equal(q.f[i].data, p.f[i].data, sizeof(p.f[i].data));
	}
	/* every truncation is refused (the last byte may be padding only when bits % 8) */
	for (int n = 1; n < len - 1; n++)
		assert_int_equal(amr_payload_parse(out, (size_t)n, wb, oa, &q), -EINVAL);
	assert_int_equal(amr_payload_build(&p, wb, oa, out, (size_t)len - 1), -ENOSPC);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip(false, false);
	round_trip(false, true);
	round_trip(true, false);
	round_trip(true, true);
}

static void test_refused(void **state)
{
	uint8_t in[64];
	struct amr_payload q, p = { .cmr = AMR_CMR_NONE, .n = 1 };

	(void)state;
	memset(in, 0, sizeof(in));
	assert_int_equal(amr_payload_parse(in, 0, false, false, &q), -EINVAL);
	/* reserved frame type 12 (octet-aligned TOC 0 1100 1 00) */
	in[0] = 0xf0;
	in[1] = 0x64;
	assert_int_equal(amr_payload_parse(in, sizeof(in), false, true, &q), -EINVAL);
	/* F bit on every TOC entry: more frames than AMR_MAX_FRAMES */
	memset(in, 0xff, sizeof(in));
	in[0] = 0xf0;
	for (int i = 1; i < 40; i++)
		in[i] = 0x80 | 15 << 3 | 0x04;
	assert_int_equal(amr_payload_parse(in, sizeof(in), false, true, &q), -EINVAL);
	/* a TOC with only NO_DATA frames is fine and carries no bits */
	in[1] = 15 << 3 | 0x04;
	assert_int_equal(amr_payload_parse(in, 2, false, true, &q), 0);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.f[0].ft, 15);
	/* build refuses what it cannot express */
	p.f[0].ft = 11;
	assert_int_equal(amr_payload_build(&p, false, false, in, sizeof(in)), -EINVAL);
	p.n = 0;
	assert_int_equal(amr_payload_build(&p, false, false, in, sizeof(in)), -EINVAL);
}

static void test_storage(void **state)
{
	struct amr_frame f, g;
	uint8_t buf[64];

	(void)state;
	fill(&f, false, 7, 99);
	assert_int_equal(amr_frame_to_storage(&f, false, buf, sizeof(buf)), 32);
	assert_int_equal(buf[0], 7 << 3 | 0x04);
	assert_int_equal(amr_frame_from_storage(buf, 32, false, &g), 32);
	assert_int_equal(g.ft, 7);
	assert_true(g.q);
	assert_memory_equal(g.data, f.data, sizeof(f.data));
	assert_int_equal(amr_frame_from_storage(buf, 31, false, &g), -EINVAL);
	assert_int_equal(amr_frame_to_storage(&f, false, buf, 31), -ENOSPC);
	/* padding bits after the 244th are cleared on the way in */
	buf[31] |= 0x0f;
	assert_int_equal(amr_frame_from_storage(buf, 32, false, &g), 32);
	assert_memory_equal(g.data, f.data, sizeof(f.data));
	buf[0] = 13 << 3;
	assert_int_equal(amr_frame_from_storage(buf, 32, false, &g), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_known_sizes),
		cmocka_unit_test(test_header_bits),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_storage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
