/* strbuf: appends of every kind, growth, reset, embedded NULs, sticky OOM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/strbuf.h"

static void test_empty(void **state)
{
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	sb_reset(&sb);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb_append(&sb, "", 0), 0);
	assert_string_equal(sb.buf, "");
	sb_free(&sb);
	sb_free(&sb);          /* idempotent */
	assert_string_equal(sb.buf, "");
}

static void test_appends(void **state)
{
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	assert_int_equal(sb_puts(&sb, "d3:"), 0);
	assert_int_equal(sb_append(&sb, "sdpXX", 3), 0);
	assert_int_equal(sb_putc(&sb, 'i'), 0);
	assert_int_equal(sb_printf(&sb, "%de", 42), 0);
	assert_string_equal(sb.buf, "d3:sdpi42e");
	assert_int_equal(sb.len, 10);
	assert_int_equal(sb_append(&sb, "\0z", 2), 0);
	assert_int_equal(sb.len, 12);
	assert_memory_equal(sb.buf, "d3:sdpi42e\0z", 13);  /* still NUL-terminated */
	sb_free(&sb);
}

static void test_growth(void **state)
{
	struct strbuf sb;
	char line[32];

	(void)state;
	sb_init(&sb);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(sb_printf(&sb, "%05d,", i), 0);
	assert_int_equal(sb.len, 60000);
	assert_true(sb.cap > sb.len);
	for (int i = 0; i < 10000; i += 997) {
		snprintf(line, sizeof(line), "%05d,", i);
		assert_memory_equal(sb.buf + 6 * i, line, 6);
	}
	assert_int_equal(sb.buf[sb.len], '\0');
	/* one printf far larger than the current capacity */
	sb_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb_printf(&sb, "%100000d|", 7), 0);
	assert_int_equal(sb.len, 100001);
	assert_int_equal(sb.buf[99999], '7');
	assert_int_equal(sb.buf[100000], '|');
	sb_free(&sb);
}

static void test_reset_keeps_capacity(void **state)
{
	struct strbuf sb;
	size_t cap;
	char *buf;

	(void)state;
	sb_init(&sb);
	for (int i = 0; i < 100; i++)
		sb_puts(&sb, "0123456789");
	cap = sb.cap;
	buf = sb.buf;
	sb_reset(&sb);
	assert_int_equal(sb.cap, cap);
	assert_ptr_equal(sb.buf, buf);
	sb_puts(&sb, "abc");
	assert_string_equal(sb.buf, "abc");
	sb_free(&sb);
}

static void test_oom_sticky(void **state)
{
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	sb_puts(&sb, "ok");
	/* a size that cannot be represented fails cleanly and poisons the buffer */
	assert_int_equal(sb_append(&sb, "x", SIZE_MAX), -ENOMEM);
	assert_true(sb.oom);
	assert_int_equal(sb_puts(&sb, "more"), -ENOMEM);
	assert_int_equal(sb_putc(&sb, 'c'), -ENOMEM);
	assert_int_equal(sb_printf(&sb, "%d", 1), -ENOMEM);
	assert_int_equal(sb.len, 2);
	assert_string_equal(sb.buf, "ok");
	/* sb_free clears the error along with the contents */
	sb_free(&sb);
	assert_false(sb.oom);
	assert_int_equal(sb_puts(&sb, "fresh"), 0);
	assert_string_equal(sb.buf, "fresh");
	sb_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_reset_keeps_capacity),
		cmocka_unit_test(test_oom_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
