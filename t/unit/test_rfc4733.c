/* rfc4733: payload parse/build, digit mapping, receiver state machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/rfc4733.h"

static void test_parse_build(void **state)
{
	static const struct { uint8_t bytes[4]; struct rfc4733_event ev; } c[] = {
		{ { 0x05, 0x0a, 0x00, 0xa0 }, { 5, false, 10, 160 } },
		{ { 0x0b, 0x8a, 0x03, 0x20 }, { 11, true, 10, 800 } },
		{ { 0x0f, 0xbf, 0xff, 0xff }, { 15, true, 63, 65535 } },
		{ { 0x00, 0x00, 0x00, 0x00 }, { 0, false, 0, 0 } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct rfc4733_event ev;
		uint8_t out[4];

		assert_int_equal(rfc4733_parse(c[i].bytes, 4, &ev), 0);
		assert_int_equal(ev.event, c[i].ev.event);
		assert_int_equal(ev.end, c[i].ev.end);
		assert_int_equal(ev.volume, c[i].ev.volume);
		assert_int_equal(ev.duration, c[i].ev.duration);
		assert_int_equal(rfc4733_build(&c[i].ev, out, sizeof(out)), 4);
		assert_memory_equal(out, c[i].bytes, 4);
	}
	/* the reserved bit is ignored on input */
	{
		const uint8_t r[] = { 0x01, 0x4a, 0x00, 0x10, 0xee };
		struct rfc4733_event ev;

		assert_int_equal(rfc4733_parse(r, sizeof(r), &ev), 0);
		assert_int_equal(ev.volume, 10);
		assert_false(ev.end);
		assert_int_equal(rfc4733_parse(r, 3, &ev), -EINVAL);
		assert_int_equal(rfc4733_parse(NULL, 4, &ev), -EINVAL);
		ev.volume = 64;
		assert_int_equal(rfc4733_build(&ev, (uint8_t[4]){ 0 }, 4), -EINVAL);
		ev.volume = 1;
		assert_int_equal(rfc4733_build(&ev, (uint8_t[4]){ 0 }, 3), -ENOSPC);
	}
}

static void test_digits(void **state)
{
	const char *d = "0123456789*#ABCD";

	(void)state;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(rfc4733_digit_event(d[i]), i);
		assert_int_equal(rfc4733_event_digit((unsigned)i), d[i]);
	}
	assert_int_equal(rfc4733_digit_event('c'), 14);
	assert_int_equal(rfc4733_digit_event('E'), -EINVAL);
	assert_int_equal(rfc4733_digit_event(0), -EINVAL);
	assert_int_equal(rfc4733_event_digit(16), 0);
	assert_int_equal(rfc4733_event_digit(255), 0);
}

static void test_rx(void **state)
{
	/* numbered steps: ts, event, end, duration -> expected flags */
	static const struct { uint32_t ts; uint8_t ev; bool end; uint16_t dur; unsigned want; } s[] = {
		{ 1000, 1, false, 160, RFC4733_RX_START },                /* 1 */
		{ 1000, 1, false, 160, 0 },                               /* 2: repeat */
		{ 1000, 1, false, 320, RFC4733_RX_UPDATE },               /* 3 */
		{ 1000, 1, false, 160, 0 },                               /* 4: reordered */
		{ 1000, 1, true, 480, RFC4733_RX_END },                   /* 5 */
		{ 1000, 1, true, 480, 0 },                                /* 6: end x2 */
		{ 1000, 1, true, 480, 0 },                                /* 7: end x3 */
		{ 2000, 2, true, 400, RFC4733_RX_START | RFC4733_RX_END },/* 8: lone end */
		{ 1000, 1, false, 640, 0 },                               /* 9: stale */
		{ 0xfffffff0u, 3, false, 0, 0 },                          /* 10: older */
		{ 3000, 2, false, 160, RFC4733_RX_START },                /* 11: same digit again */
		{ 3000, 2, false, 320, RFC4733_RX_UPDATE },               /* 12 */
	};
	struct rfc4733_rx rx;

	(void)state;
	rfc4733_rx_init(&rx);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct rfc4733_event ev = { s[i].ev, s[i].end, 10, s[i].dur };
		unsigned got = rfc4733_rx_feed(&rx, s[i].ts, &ev);

		if (got != s[i].want)
			fail_msg("step %zu: flags %#x, want %#x", i + 1, got, s[i].want);
	}
	/* wraps: an event just past the 32-bit wrap is newer */
	rfc4733_rx_init(&rx);
	assert_int_equal(rfc4733_rx_feed(&rx, 0xffffff00u, &(struct rfc4733_event){ 4, true, 0, 1 }),
			 RFC4733_RX_START | RFC4733_RX_END);
	assert_int_equal(rfc4733_rx_feed(&rx, 0x100, &(struct rfc4733_event){ 5, false, 0, 1 }),
			 RFC4733_RX_START);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_build),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_rx),
	};
	return cmocka_run_group_tests_name("rfc4733", tests, NULL, NULL);
}
