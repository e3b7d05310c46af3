/* hep: the HEP v3 layout (header, total length, chunks) for IPv4 and IPv6, and the
 * bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/hep.h"

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Value of chunk type in buf (length in *len), or NULL; checks the whole layout. */
static const uint8_t *find(const uint8_t *buf, int n, unsigned type, size_t *len)
{
	const uint8_t *hit = NULL;
	int off = 6;

	assert_memory_equal(buf, "HEP3", 4);
	assert_int_equal(get16(buf + 4), n);
	while (off < n) {
		unsigned ln = get16(buf + off + 4);

		assert_int_equal(get16(buf + off), 0);
		assert_true(ln >= 6 && off + (int)ln <= n);
		if (get16(buf + off + 2) == type) {
			hit = buf + off + 6;
			*len = ln - 6;
		}
		off += (int)ln;
	}
	assert_int_equal(off, n);
	return hit;
}

static void test_v4_and_v6(void **state)
{
	union sockaddr_u s, d;
	uint8_t buf[512];
	size_t len;
	const uint8_t *v;
	struct hep_msg m = { .src = &s, .dst = &d, .time_us = 1700000000123456LL,
			     .proto = HEP_PROTO_RTCP_JSON, .capture_id = 2001,
			     .correlation = "call-1", .correlation_len = 6,
			     .payload = "{\"type\":200}", .len = 12 };
	int n;

	(void)state;
	netaddr_parse("192.0.2.1:5004", 0, false, &s);
	netaddr_parse("127.0.0.1:30001", 0, false, &d);
	n = hep_encode(buf, sizeof(buf), &m);
	assert_true(n > 0);
	assert_non_null(v = find(buf, n, 1, &len));
	assert_int_equal(v[0], 2);
	assert_non_null(v = find(buf, n, 3, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(v, "\xc0\x00\x02\x01", 4);
	assert_non_null(v = find(buf, n, 7, &len));
	assert_int_equal(get16(v), 5004);
	assert_non_null(v = find(buf, n, 8, &len));
	assert_int_equal(get16(v), 30001);
	assert_non_null(v = find(buf, n, 9, &len));
	assert_memory_equal(v, "\x65\x53\xf1\x00", 4);         /* 1700000000 */
	assert_non_null(v = find(buf, n, 10, &len));
	assert_memory_equal(v, "\x00\x01\xe2\x40", 4);         /* 123456 */
	assert_non_null(v = find(buf, n, 12, &len));
	assert_memory_equal(v, "\x00\x00\x07\xd1", 4);         /* 2001 */
	assert_non_null(v = find(buf, n, 0x11, &len));
	assert_int_equal(len, 6);
	assert_memory_equal(v, "call-1", 6);
	assert_non_null(v = find(buf, n, 15, &len));
	assert_int_equal(len, 12);

	netaddr_parse("[2001:db8::1]:5004", 0, false, &s);
	netaddr_parse("[::1]:30001", 0, false, &d);
	n = hep_encode(buf, sizeof(buf), &m);
	assert_true(n > 0);
	assert_non_null(v = find(buf, n, 1, &len));
	assert_int_equal(v[0], 10);
	assert_non_null(v = find(buf, n, 5, &len));
	assert_int_equal(len, 16);
	assert_null(find(buf, n, 3, &len));
}

static void test_bounds(void **state)
{
	union sockaddr_u s, d;
	uint8_t buf[64];
	struct hep_msg m = { .src = &s, .dst = &d, .payload = "x", .len = 1 };

	(void)state;
	netaddr_parse("192.0.2.1:5004", 0, false, &s);
	netaddr_parse("[::1]:30001", 0, false, &d);
	assert_int_equal(hep_encode(buf, sizeof(buf), &m), -EINVAL);
	netaddr_parse("127.0.0.1:30001", 0, false, &d);
	assert_int_equal(hep_encode(buf, sizeof(buf), &m), -ENOSPC);   /* 64 bytes: too few */
	assert_int_equal(hep_encode(buf, 4, &m), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_and_v6),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
