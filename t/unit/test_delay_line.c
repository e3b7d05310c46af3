/* delay_line: release at the due time and in order, due times that never go back, a
 * full ring drops and counts, wrap-around keeps the bytes, a short buffer drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/delay_line.h"

static void test_order_and_time(void **st)
{
	struct delay_line *dl;
	uint8_t in[200], out[200];

	(void)st;
	assert_int_equal(delay_line_create(&dl, 4096), 0);
	assert_true(delay_line_empty(dl));
	assert_int_equal(delay_line_next(dl), -1);
	for (int i = 0; i < 5; i++) {
		memset(in, i, sizeof(in));
		assert_int_equal(delay_line_push(dl, 1000 + i * 20, in, 100 + i), 0);
	}
	assert_int_equal(delay_line_held(dl), 5);
	assert_int_equal(delay_line_next(dl), 1000);
	assert_int_equal(delay_line_pop(dl, 999, out, sizeof(out)), 0);      /* not yet */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(delay_line_pop(dl, 1000 + i * 20, out, sizeof(out)), 100 + i);
		assert_int_equal(out[0], i);
		assert_int_equal(out[99 + i], i);
		assert_int_equal(delay_line_pop(dl, 1000 + i * 20, out, sizeof(out)), 0);
	}
	assert_true(delay_line_empty(dl));
	/* a shorter delay later: due no earlier than the last packet */
	assert_int_equal(delay_line_push(dl, 5000, in, 10), 0);
	assert_int_equal(delay_line_push(dl, 4000, in, 10), 0);
	assert_int_equal(delay_line_pop(dl, 5000, out, sizeof(out)), 10);
	assert_int_equal(delay_line_next(dl), 5000);
	assert_int_equal(delay_line_pop(dl, 5000, out, 5), 0);      /* too long for out */
	assert_int_equal(delay_line_dropped(dl), 1);
	assert_true(delay_line_empty(dl));
	delay_line_free(dl);
}

static void test_full_and_wrap(void **st)
{
	struct delay_line *dl;
	uint8_t in[172], out[172];
	unsigned pushed = 0, popped = 0, fails = 0;

	(void)st;
	assert_int_equal(delay_line_create(&dl, 4096), 0);
	for (;;) {
		memset(in, (int)(pushed & 0xff), sizeof(in));
		if (delay_line_push(dl, pushed, in, sizeof(in)))
			break;
		pushed++;
	}
	fails++;
	assert_true(pushed >= 15 && pushed < 24);               /* 4096 / (172 + 24) */
	assert_int_equal(delay_line_dropped(dl), 1);
	/* steady state over many wraps, two below full (room for the padding a record
	 * that would straddle the end leaves): one out, one in, bytes intact */
	for (int i = 0; i < 2; i++, popped++)
		assert_int_equal(delay_line_pop(dl, INT64_MAX, out, sizeof(out)), sizeof(in));
	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(delay_line_pop(dl, INT64_MAX, out, sizeof(out)), sizeof(in));
		assert_int_equal(out[0], popped & 0xff);
		popped++;
		memset(in, (int)(pushed & 0xff), sizeof(in));
		assert_int_equal(delay_line_push(dl, pushed, in, sizeof(in)), 0);
		pushed++;
	}
	assert_int_equal(delay_line_held(dl), pushed - popped);
	assert_int_equal(delay_line_dropped(dl), fails);
	assert_true(delay_line_bytes(0) == 64 * 1024 && delay_line_bytes(1000) == 96000 &&
		    delay_line_bytes(1000000) == 8u << 20);
	delay_line_free(dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_time),
		cmocka_unit_test(test_full_and_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
