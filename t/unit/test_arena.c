/* Arena: alignment, no overlap, chunking, limits, reset and the string helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/arena.h"

static void test_alignment_and_no_overlap(void **state)
{
	struct arena a;
	unsigned char *p[500];
	size_t sz[500];

	(void)state;
	arena_init(&a, 0);
	for (size_t i = 0; i < 500; i++) {
		sz[i] = 1 + (i * 37) % 300;
		p[i] = arena_alloc(&a, sz[i]);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)(i & 0xff), sz[i]);
	}
	/* every block still holds its own pattern: nothing was handed out twice */
	for (size_t i = 0; i < 500; i++)
		for (size_t k = 0; k < sz[i]; k++)
			assert_int_equal(p[i][k], i & 0xff);
	assert_true(a.total >= 500);
	arena_reset(&a);
	assert_null(a.head);
	assert_int_equal(a.total, 0);
}

static void test_large_and_zero(void **state)
{
	struct arena a;
	unsigned char *big, *small, *z;

	(void)state;
	arena_init(&a, 0);
	small = arena_alloc(&a, 10);
	big = arena_alloc(&a, 3 * 1024 * 1024);    /* larger than any regular chunk */
	assert_non_null(small);
	assert_non_null(big);
	memset(big, 0xab, 3 * 1024 * 1024);
	assert_int_equal(big[3 * 1024 * 1024 - 1], 0xab);
	assert_non_null(arena_alloc(&a, 0));       /* zero-size gives a unique pointer */
	z = arena_zalloc(&a, 4000);
	assert_non_null(z);
	for (size_t i = 0; i < 4000; i++)
		assert_int_equal(z[i], 0);
	assert_null(arena_alloc(&a, SIZE_MAX));
	assert_null(arena_alloc(&a, SIZE_MAX - 8));
	arena_reset(&a);
}

static void test_limit(void **state)
{
	struct arena a;
	size_t n = 0;

	(void)state;
	arena_init(&a, 1000);
	assert_null(arena_alloc(&a, 1001));
	/* the limit counts bytes after rounding to the 16-byte alignment */
	assert_null(arena_alloc(&a, 1000));
	assert_non_null(arena_alloc(&a, 992));
	assert_int_equal(a.total, 992);
	assert_null(arena_alloc(&a, 1));
	arena_reset(&a);

	while (arena_alloc(&a, 100))
		n++;
	/* 100 rounds to 112: eight fit in 1000 */
	assert_int_equal(n, 8);
	assert_true(a.total <= 1000);
	/* a smaller request that still fits succeeds after a refusal */
	assert_non_null(arena_alloc(&a, 16));
	assert_null(arena_alloc(&a, 1000));
	/* reset makes the budget available again and keeps the limit */
	arena_reset(&a);
	assert_int_equal(a.limit, 1000);
	assert_non_null(arena_alloc(&a, 900));
	arena_reset(&a);
}

static void test_strings(void **state)
{
	struct arena a;
	char *s;

	(void)state;
	arena_init(&a, 0);
	s = arena_strndup(&a, "hello world", 5);
	assert_string_equal(s, "hello");
	s = arena_strndup(&a, "", 0);
	assert_string_equal(s, "");
	s = arena_strndup(&a, "a\0b", 3);
	assert_memory_equal(s, "a\0b", 4);
	s = arena_printf(&a, "%s-%d-%05.1f", "x", -3, 2.5);
	assert_string_equal(s, "x--3-002.5");
	s = arena_printf(&a, "%5000d", 1);                  /* spans a fresh chunk */
	assert_int_equal(strlen(s), 5000);
	assert_int_equal(s[4999], '1');
	arena_reset(&a);

	arena_init(&a, 64);
	assert_null(arena_printf(&a, "%100d", 1));
	assert_null(arena_strndup(&a, "0123456789012345678901234567890123456789"
				      "0123456789012345678901234567890123456789", 80));
	arena_reset(&a);
}

static void test_reuse(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 0);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 1000; i++)
			assert_non_null(arena_alloc(&a, 48));
		assert_int_equal(a.total, 48 * 1000);
		arena_reset(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment_and_no_overlap),
		cmocka_unit_test(test_large_and_zero),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
