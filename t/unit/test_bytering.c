/* bytering: order, wrap-around with padding, full ring, dropped reservations, and a
 * producer and a consumer thread moving a million records. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/bytering.h"

static void put(struct bytering *r, uint32_t id, size_t len)
{
	uint8_t *p = bytering_reserve(r, len);

	assert_non_null(p);
	memset(p, (int)(id & 0xff), len);
	if (len >= 4)
		memcpy(p, &id, 4);
	bytering_commit(r);
}

static void get(struct bytering *r, uint32_t id, size_t len)
{
	size_t n = 0;
	const uint8_t *p = bytering_peek(r, &n);
	uint32_t got;

	assert_non_null(p);
	assert_int_equal(n, len);
	if (len >= 4) {
		memcpy(&got, p, 4);
		assert_int_equal(got, id);
	}
	for (size_t i = 4; i < len; i++)
		assert_int_equal(p[i], id & 0xff);
	bytering_pop(r);
}

static void test_order_wrap_full(void **state)
{
	struct bytering r;
	size_t n;
	uint32_t w = 0, rd = 0;

	(void)state;
	assert_int_equal(bytering_init(&r, 1000), 0);
	assert_int_equal(r.size, 4096);
	assert_null(bytering_peek(&r, &n));
	/* records of odd sizes walk around the buffer many times: padding is exercised */
	for (int round = 0; round < 2000; round++) {
		size_t len = 1 + (size_t)(round * 97) % 700;

		put(&r, w++, len);
		if (round % 3 == 2) {
			for (; rd < w; rd++)
				get(&r, rd, 1 + (size_t)(rd * 97) % 700);
		}
	}
	for (; rd < w; rd++)
		get(&r, rd, 1 + (size_t)(rd * 97) % 700);
	assert_null(bytering_peek(&r, &n));

	/* full: nothing is overwritten, the reservation fails */
	for (w = 0; bytering_reserve(&r, 500); w++)
		bytering_commit(&r);
	assert_true(w >= 7 && w <= 8);
	assert_null(bytering_reserve(&r, 500));
	assert_null(bytering_reserve(&r, bytering_max_record(&r) + 1));
	bytering_free(&r);
}

static void test_uncommitted_is_dropped(void **state)
{
	struct bytering r;
	size_t n;

	(void)state;
	assert_int_equal(bytering_init(&r, 4096), 0);
	put(&r, 1, 100);
	assert_non_null(bytering_reserve(&r, 300));        /* prepared, never sent */
	assert_non_null(bytering_reserve(&r, 50));         /* takes its place */
	bytering_commit(&r);
	get(&r, 1, 100);
	assert_non_null(bytering_peek(&r, &n));
	assert_int_equal(n, 50);
	bytering_pop(&r);
	assert_null(bytering_peek(&r, &n));
	/* a reservation without commit is invisible */
	assert_non_null(bytering_reserve(&r, 10));
	assert_null(bytering_peek(&r, &n));
	bytering_free(&r);
}

#define THREAD_RECORDS 1000000u

static void *producer(void *arg)
{
	struct bytering *r = arg;

	for (uint32_t i = 0; i < THREAD_RECORDS; i++) {
		size_t len = 4 + i % 61;
		uint8_t *p;

		while (!(p = bytering_reserve(r, len)))
			;
		memcpy(p, &i, 4);
		memset(p + 4, (int)(i & 0xff), len - 4);
		bytering_commit(r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct bytering r;
	pthread_t t;
	uint32_t next = 0;

	(void)state;
	assert_int_equal(bytering_init(&r, 8192), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
	while (next < THREAD_RECORDS) {
		size_t n;
		const uint8_t *p = bytering_peek(&r, &n);
		uint32_t id;

		if (!p)
			continue;
		memcpy(&id, p, 4);
		if (id != next || n != 4 + next % 61 || (n > 4 && p[n - 1] != (next & 0xff)))
			fail_msg("record %u: got id %u len %zu", next, id, n);
		bytering_pop(&r);
		next++;
	}
	pthread_join(t, NULL);
	bytering_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_wrap_full),
		cmocka_unit_test(test_uncommitted_is_dropped),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
