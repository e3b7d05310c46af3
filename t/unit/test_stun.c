/* stun: RFC 5769 test vectors (request, IPv4 and IPv6 responses), builder byte
 * exactness, round trips, malformed input table, RFC 7983 demux. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/stun.h"

static const char pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

/* RFC 5769 2.1: username "evtj:h6vY", SOFTWARE "STUN test client" */
static const uint8_t req[108] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: mapped 192.0.2.1:32853, SOFTWARE "test vector" */
static const uint8_t resp4[80] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: mapped [2001:db8:1234:5678:11:2233:4455:6677]:32853 */
static const uint8_t resp6[92] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static void test_rfc5769_request(void **state)
{
	struct stun_msg m;

	(void)state;
	assert_true(stun_is_stun(req, sizeof(req)));
	assert_int_equal(stun_parse(req, sizeof(req), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_memory_equal(m.tid, req + 8, 12);
	assert_int_equal(m.username_len, 9);
	assert_memory_equal(m.username, "evtj:h6vY", 9);
	assert_true(m.has_priority);
	assert_int_equal(m.priority, 0x6e0001ff);
	assert_true(m.controlled);
	assert_false(m.controlling);
	assert_true(m.tiebreaker == 0x932ff9b151263b36ull);
	assert_false(m.use_candidate);
	assert_true(m.has_fingerprint);
	assert_int_equal(m.mi_off, 76);
	assert_int_equal(m.n_unknown, 0);
	assert_int_equal(stun_check_integrity(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_check_integrity(&m, "VOkJxbRl1RmTxUk/WvJxBT", 22), -EACCES);
	assert_int_equal(stun_check_integrity(&m, pwd, strlen(pwd) - 1), -EACCES);
	assert_true(stun_username_is_for(&m, "evtj"));
	assert_false(stun_username_is_for(&m, "evt"));
	assert_false(stun_username_is_for(&m, "h6vY"));
}

static void test_rfc5769_responses(void **state)
{
	struct stun_msg m;
	char ip[64];

	(void)state;
	assert_int_equal(stun_parse(resp4, sizeof(resp4), &m), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_true(m.has_mapped);
	assert_int_equal(m.mapped.sa.sa_family, AF_INET);
	assert_string_equal(netaddr_ntop(&m.mapped, ip, sizeof(ip)), "192.0.2.1");
	assert_int_equal(netaddr_port(&m.mapped), 32853);
	assert_int_equal(stun_check_integrity(&m, pwd, strlen(pwd)), 0);

	assert_int_equal(stun_parse(resp6, sizeof(resp6), &m), 0);
	assert_int_equal(m.mapped.sa.sa_family, AF_INET6);
	assert_string_equal(netaddr_ntop(&m.mapped, ip, sizeof(ip)),
			    "2001:db8:1234:5678:11:2233:4455:6677");
	assert_int_equal(netaddr_port(&m.mapped), 32853);
	assert_int_equal(stun_check_integrity(&m, pwd, strlen(pwd)), 0);
	assert_int_equal(stun_check_integrity(&m, "x", 1), -EACCES);
}

/* The builder's MESSAGE-INTEGRITY and FINGERPRINT must reproduce each vector byte for
 * byte when given the vector's own attributes (whose padding is spaces, not zeros). */
static void rebuild(const uint8_t *vec, size_t len, size_t mi_off)
{
	uint8_t buf[256];
	struct stun_builder b;

	stun_build_init(&b, buf, sizeof(buf), (uint16_t)(vec[0] << 8 | vec[1]), vec + 8);
	memcpy(buf, vec, mi_off);
	b.len = mi_off;
	stun_add_integrity(&b, pwd, strlen(pwd));
	stun_add_fingerprint(&b);
	assert_int_equal(stun_finish(&b), (int)len);
	assert_memory_equal(buf, vec, len);
}

static void test_builder_exact(void **state)
{
	(void)state;
	rebuild(req, sizeof(req), 76);
	rebuild(resp4, sizeof(resp4), 48);
	rebuild(resp6, sizeof(resp6), 60);
}

/* XOR-MAPPED-ADDRESS encoding matches the vectors' attribute bytes. */
static void test_builder_xor_mapped(void **state)
{
	union sockaddr_u a;
	uint8_t buf[128];
	struct stun_builder b;

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.1:32853", 0, false, &a), 0);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_SUCCESS, req + 8);
	stun_add_xor_mapped(&b, &a);
	assert_int_equal(stun_finish(&b), 32);
	assert_memory_equal(buf + 20, resp4 + 36, 12);

	assert_int_equal(netaddr_parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853", 0, false, &a), 0);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_SUCCESS, req + 8);
	stun_add_xor_mapped(&b, &a);
	assert_int_equal(stun_finish(&b), 44);
	assert_memory_equal(buf + 20, resp6 + 36, 24);
}

static void test_build_parse_roundtrip(void **state)
{
	uint8_t buf[STUN_MAX_LEN], tid[STUN_TID_LEN];
	struct stun_builder b;
	struct stun_msg m;
	static const uint16_t unk[2] = { 0x0031, 0x7001 };
	int n;

	(void)state;
	assert_int_equal(stun_new_tid(tid), 0);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
	stun_add_username(&b, "abcd:wxyz1", 10);
	stun_add_priority(&b, 1862270975);
	stun_add_use_candidate(&b);
	stun_add_ice_role(&b, true, 0x0102030405060708ull);
	stun_add_integrity(&b, "secret", 6);
	stun_add_fingerprint(&b);
	n = stun_finish(&b);
	assert_int_equal(n, 20 + 16 + 8 + 4 + 12 + 24 + 8);
	assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
	assert_memory_equal(m.tid, tid, 12);
	assert_int_equal(m.username_len, 10);
	assert_true(m.use_candidate && m.controlling && !m.controlled);
	assert_true(m.tiebreaker == 0x0102030405060708ull);
	assert_int_equal(m.priority, 1862270975);
	assert_int_equal(stun_check_integrity(&m, "secret", 6), 0);
	assert_int_equal(stun_check_integrity(&m, "secreT", 6), -EACCES);
	assert_true(stun_username_is_for(&m, "abcd"));

	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_ERROR, tid);
	stun_add_error(&b, 487, NULL);
	stun_add_unknown(&b, unk, 2);
	stun_add_fingerprint(&b);
	n = stun_finish(&b);
	assert_true(n > 0);
	assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_ERROR);
	assert_true(m.has_error);
	assert_int_equal(m.error_code, 487);
	assert_int_equal(m.reason_len, strlen("Role Conflict"));
	assert_memory_equal(m.reason, "Role Conflict", m.reason_len);
	assert_int_equal(stun_check_integrity(&m, "secret", 6), -ENOENT);

	/* a comprehension-required attribute we do not know is reported */
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
	stun_add_username(&b, "a:b", 3);
	n = stun_finish(&b);
	buf[20] = 0x00;
	buf[21] = 0x31;         /* was USERNAME 0x0006 */
	assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
	assert_int_equal(m.n_unknown, 1);
	assert_int_equal(m.unknown[0], 0x0031);
	assert_null(m.username);
}

static void test_builder_errors(void **state)
{
	uint8_t buf[64], tid[STUN_TID_LEN] = { 0 };
	struct stun_builder b;
	union sockaddr_u none;

	(void)state;
	stun_build_init(&b, buf, 10, STUN_BINDING_REQUEST, tid);
	assert_int_equal(stun_finish(&b), -ENOSPC);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
	stun_add_username(&b, "01234567890123456789012345678901234567890", 41);
	assert_int_equal(stun_finish(&b), -ENOSPC);
	stun_add_priority(&b, 1);           /* sticky */
	assert_int_equal(stun_finish(&b), -ENOSPC);
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_ERROR, tid);
	stun_add_error(&b, 200, "no");
	assert_int_equal(stun_finish(&b), -EINVAL);
	memset(&none, 0, sizeof(none));
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_SUCCESS, tid);
	stun_add_xor_mapped(&b, &none);
	assert_int_equal(stun_finish(&b), -EINVAL);
}

static const struct bad_case {
	const char *what;
	size_t len;             /* bytes of req[] used (after the edit) */
	int at;                 /* byte to overwrite, -1 none */
	uint8_t val;
	int err;
} bad[] = {
	/* 1 */ { "empty", 0, -1, 0, -EINVAL },
	/* 2 */ { "short header", 19, -1, 0, -EINVAL },
	/* 3 */ { "truncated", 107, -1, 0, -EINVAL },
	/* 4 */ { "top bits", 108, 0, 0x40, -EINVAL },
	/* 5 */ { "cookie", 108, 4, 0x22, -EINVAL },
	/* 6 */ { "length not /4", 108, 3, 0x57, -EINVAL },
	/* 7 */ { "length too big", 108, 3, 0x5c, -EINVAL },
	/* 8 */ { "attribute overruns", 108, 23, 0xf0, -EINVAL },
	/* 9 */ { "fingerprint value", 108, 107, 0xce, -EBADMSG },
	/* 10 */ { "body bit flipped", 108, 30, 0x21, -EBADMSG },
	/* 11 */ { "priority length", 108, 43, 0x08, -EINVAL },
	/* 12 */ { "role length", 108, 51, 0x04, -EINVAL },
};

static void test_malformed(void **state)
{
	uint8_t buf[sizeof(req)];
	struct stun_msg m;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret;

		memcpy(buf, req, sizeof(req));
		if (bad[i].at >= 0)
			buf[bad[i].at] = bad[i].val;
		ret = stun_parse(buf, bad[i].len, &m);
		if (ret != bad[i].err)
			fail_msg("case %u (%s): %d, want %d", i + 1, bad[i].what, ret, bad[i].err);
	}
}

static void test_fingerprint_last_and_mi(void **state)
{
	uint8_t buf[STUN_MAX_LEN + 8], tid[STUN_TID_LEN] = { 1 };
	struct stun_builder b;
	struct stun_msg m;
	int n;

	(void)state;
	/* attributes after FINGERPRINT: refused */
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
	stun_add_fingerprint(&b);
	stun_add_priority(&b, 5);
	n = stun_finish(&b);
	assert_int_equal(stun_parse(buf, (size_t)n, &m), -EINVAL);

	/* attributes after MESSAGE-INTEGRITY: ignored (integrity still checks) */
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
	stun_add_integrity(&b, "k", 1);
	stun_add_priority(&b, 5);
	n = stun_finish(&b);
	assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
	assert_false(m.has_priority);
	assert_int_equal(stun_check_integrity(&m, "k", 1), 0);

	/* bounded: oversized messages are refused before looking inside */
	memset(buf, 0, sizeof(buf));
	stun_build_init(&b, buf, sizeof(buf), STUN_BINDING_REQUEST, tid);
	buf[2] = (STUN_MAX_LEN + 8 - 20) >> 8;
	buf[3] = (STUN_MAX_LEN + 8 - 20) & 0xff;
	assert_int_equal(stun_parse(buf, STUN_MAX_LEN + 8, &m), -EMSGSIZE);
}

static void test_demux(void **state)
{
	static const uint8_t b0[] = { 0x00 }, b3[] = { 0x03 }, b16[] = { 16 }, b20[] = { 20 },
		b22[] = { 22 }, b63[] = { 63 }, b64[] = { 64 }, b128[] = { 128 },
		b191[] = { 191 }, b192[] = { 192 };

	(void)state;
	assert_int_equal(stun_demux(b0, 1), STUN_DEMUX_STUN);
	assert_int_equal(stun_demux(b3, 1), STUN_DEMUX_STUN);
	assert_int_equal(stun_demux(b16, 1), STUN_DEMUX_OTHER);
	assert_int_equal(stun_demux(b20, 1), STUN_DEMUX_DTLS);
	assert_int_equal(stun_demux(b22, 1), STUN_DEMUX_DTLS);
	assert_int_equal(stun_demux(b63, 1), STUN_DEMUX_DTLS);
	assert_int_equal(stun_demux(b64, 1), STUN_DEMUX_OTHER);
	assert_int_equal(stun_demux(b128, 1), STUN_DEMUX_RTP);
	assert_int_equal(stun_demux(b191, 1), STUN_DEMUX_RTP);
	assert_int_equal(stun_demux(b192, 1), STUN_DEMUX_OTHER);
	assert_int_equal(stun_demux(b0, 0), STUN_DEMUX_OTHER);
	assert_true(stun_is_stun(resp4, sizeof(resp4)));
	assert_false(stun_is_stun(resp4, sizeof(resp4) - 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5769_request),
		cmocka_unit_test(test_rfc5769_responses),
		cmocka_unit_test(test_builder_exact),
		cmocka_unit_test(test_builder_xor_mapped),
		cmocka_unit_test(test_build_parse_roundtrip),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fingerprint_last_and_mi),
		cmocka_unit_test(test_demux),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
