/* Call registry: add/find/remove, growth of the hash table past its initial 1024
 * buckets, newest-first list order, removal from the middle of hash chains and list. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/call.h"
#include "../../daemon/registry.h"

struct calls {
	struct call *c;
	char (*ids)[48];
	unsigned n;
};

static void make_calls(struct calls *cs, unsigned n, const char *fmt)
{
	cs->n = n;
	cs->c = test_calloc(n, sizeof(*cs->c));
	cs->ids = test_calloc(n, sizeof(*cs->ids));
	for (unsigned i = 0; i < n; i++) {
		int len = snprintf(cs->ids[i], sizeof(cs->ids[i]), fmt, i);
		cs->c[i].callid = cs->ids[i];
		cs->c[i].callid_len = (size_t)len;
	}
}

static void free_calls(struct calls *cs)
{
	test_free(cs->c);
	test_free(cs->ids);
}

/* The list, walked both ways, holds exactly the expected calls newest first. */
static void check_list(const struct registry *r, struct call **want, unsigned n)
{
	struct call *c = r->head, *prev = NULL;
	unsigned i = 0;

	assert_int_equal(r->count, n);
	for (; c; prev = c, c = c->lnext, i++) {
		if (i >= n)
			fail_msg("list longer than %u", n);
		if (c != want[i])
			fail_msg("list[%u]: got %.*s want %.*s", i, (int)c->callid_len,
				 c->callid, (int)want[i]->callid_len, want[i]->callid);
		if (c->lprev != prev)
			fail_msg("list[%u]: lprev broken", i);
	}
	assert_int_equal(i, n);
}

static void test_basic(void **state)
{
	struct registry r;
	struct calls cs;
	struct call *want[3];

	(void)state;
	assert_int_equal(registry_init(&r), 0);
	assert_int_equal(r.count, 0);
	assert_null(r.head);
	assert_null(registry_find(&r, "x", 1));
	make_calls(&cs, 3, "call-%u@host");
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(registry_add(&r, &cs.c[i]), 0);
	want[0] = &cs.c[2]; want[1] = &cs.c[1]; want[2] = &cs.c[0];
	check_list(&r, want, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_ptr_equal(registry_find(&r, cs.ids[i], strlen(cs.ids[i])), &cs.c[i]);
	/* exact length match: prefixes, extensions and case differences miss */
	assert_null(registry_find(&r, "call-1@hos", 10));
	assert_null(registry_find(&r, "call-1@hostx", 12));
	assert_null(registry_find(&r, "CALL-1@host", 11));
	assert_null(registry_find(&r, "", 0));

	/* remove the middle of the list */
	registry_remove(&r, &cs.c[1]);
	assert_null(registry_find(&r, cs.ids[1], strlen(cs.ids[1])));
	assert_null(cs.c[1].lnext);
	assert_null(cs.c[1].lprev);
	want[0] = &cs.c[2]; want[1] = &cs.c[0];
	check_list(&r, want, 2);
	/* then the head, then the last one */
	registry_remove(&r, &cs.c[2]);
	want[0] = &cs.c[0];
	check_list(&r, want, 1);
	registry_remove(&r, &cs.c[0]);
	check_list(&r, want, 0);
	assert_null(r.head);
	assert_null(registry_find(&r, cs.ids[0], strlen(cs.ids[0])));

	/* re-adding after removal */
	assert_int_equal(registry_add(&r, &cs.c[1]), 0);
	assert_ptr_equal(registry_find(&r, cs.ids[1], strlen(cs.ids[1])), &cs.c[1]);
	registry_remove(&r, &cs.c[1]);
	free_calls(&cs);
	registry_destroy(&r);
}

/* Call-ids with embedded NULs and binary bytes are keys like any other. */
static void test_binary_ids(void **state)
{
	static const char ida[] = "a\0b", idb[] = "a\0c", idc[] = "a";
	struct call a = { .callid = (char *)ida, .callid_len = 3 };
	struct call b = { .callid = (char *)idb, .callid_len = 3 };
	struct call c = { .callid = (char *)idc, .callid_len = 1 };
	struct registry r;

	(void)state;
	assert_int_equal(registry_init(&r), 0);
	registry_add(&r, &a);
	registry_add(&r, &b);
	registry_add(&r, &c);
	assert_ptr_equal(registry_find(&r, "a\0b", 3), &a);
	assert_ptr_equal(registry_find(&r, "a\0c", 3), &b);
	assert_ptr_equal(registry_find(&r, "a", 1), &c);
	assert_null(registry_find(&r, "a\0d", 3));
	registry_destroy(&r);
}

/* Many calls: the table grows past its first 1024 buckets several times and every call
 * stays findable; removing every third one (many from the middle of chains) leaves the
 * rest intact, in list order. */
static void test_many(void **state)
{
	enum { N = 20000 };
	struct registry r;
	struct calls cs;
	size_t buckets0;
	unsigned left = 0;

	(void)state;
	assert_int_equal(registry_init(&r), 0);
	buckets0 = r.n_buckets;
	assert_int_equal(buckets0, 1024);
	make_calls(&cs, N, "%u-a84b4c76e66710@10.0.0.1");
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(registry_add(&r, &cs.c[i]), 0);
		assert_int_equal(r.count, i + 1);
		if (i == 1024) {
			/* the 1025th call pushed the load factor past 1 */
			assert_true(r.n_buckets > buckets0);
			for (unsigned k = 0; k <= i; k++)
				assert_ptr_equal(registry_find(&r, cs.ids[k], strlen(cs.ids[k])),
						 &cs.c[k]);
		}
	}
	assert_true(r.n_buckets >= N / 2);
	assert_int_equal(r.n_buckets & (r.n_buckets - 1), 0);       /* power of two */
	for (unsigned i = 0; i < N; i++)
		if (registry_find(&r, cs.ids[i], strlen(cs.ids[i])) != &cs.c[i])
			fail_msg("call %u not found after growth", i);
	/* list newest first */
	{
		struct call *c = r.head;
		for (unsigned i = N; i-- > 0; c = c->lnext)
			if (c != &cs.c[i])
				fail_msg("list position %u: wrong call", N - 1 - i);
		assert_null(c);
	}
	for (unsigned i = 1; i < N; i += 3)
		registry_remove(&r, &cs.c[i]);
	for (unsigned i = 0; i < N; i++) {
		struct call *f = registry_find(&r, cs.ids[i], strlen(cs.ids[i]));
		if (i % 3 == 1) {
			if (f)
				fail_msg("removed call %u still found", i);
		} else {
			if (f != &cs.c[i])
				fail_msg("call %u lost after removing others", i);
			left++;
		}
	}
	assert_int_equal(r.count, left);
	/* list still newest first and doubly linked */
	{
		struct call *c = r.head, *prev = NULL;
		unsigned n = 0;
		for (unsigned i = N; i-- > 0;) {
			if (i % 3 == 1)
				continue;
			if (c != &cs.c[i])
				fail_msg("list after removal: wrong call at %u", n);
			assert_ptr_equal(c->lprev, prev);
			prev = c;
			c = c->lnext;
			n++;
		}
		assert_null(c);
		assert_int_equal(n, left);
	}
	/* growth then adding more after removals */
	for (unsigned i = 1; i < N; i += 3)
		assert_int_equal(registry_add(&r, &cs.c[i]), 0);
	assert_int_equal(r.count, N);
	for (unsigned i = 0; i < N; i++)
		assert_ptr_equal(registry_find(&r, cs.ids[i], strlen(cs.ids[i])), &cs.c[i]);
	/* remove everything, in an order unrelated to insertion */
	for (unsigned i = 0; i < N; i++)
		registry_remove(&r, &cs.c[(i * 7919u) % N]);
	assert_int_equal(r.count, 0);
	assert_null(r.head);
	for (unsigned i = 0; i < N; i += 97)
		assert_null(registry_find(&r, cs.ids[i], strlen(cs.ids[i])));
	free_calls(&cs);
	registry_destroy(&r);
}

/* Removal from the head, middle and tail of one hash chain. 1024 calls in 1024 buckets
 * give chains of 3 or more; the test picks one from the bucket array itself. */
static void test_chain_removal(void **state)
{
	enum { N = 1024 };      /* stays at 1024 buckets: no growth */
	struct registry r;
	struct calls cs;
	struct call *chain[8];
	unsigned n = 0;

	(void)state;
	assert_int_equal(registry_init(&r), 0);
	make_calls(&cs, N, "chain-%u");
	for (unsigned i = 0; i < N; i++)
		registry_add(&r, &cs.c[i]);
	assert_int_equal(r.n_buckets, 1024);
	/* find a bucket with a chain of at least 3 */
	for (size_t b = 0; b < r.n_buckets && n < 3; b++) {
		n = 0;
		for (struct call *c = r.buckets[b]; c && n < 8; c = c->hnext)
			chain[n++] = c;
	}
	assert_true(n >= 3);
	/* middle, then head, then tail of that chain */
	registry_remove(&r, chain[1]);
	registry_remove(&r, chain[0]);
	registry_remove(&r, chain[n - 1]);
	assert_null(registry_find(&r, chain[0]->callid, chain[0]->callid_len));
	assert_null(registry_find(&r, chain[1]->callid, chain[1]->callid_len));
	assert_null(registry_find(&r, chain[n - 1]->callid, chain[n - 1]->callid_len));
	for (unsigned k = 2; k < n - 1; k++)
		assert_ptr_equal(registry_find(&r, chain[k]->callid, chain[k]->callid_len),
				 chain[k]);
	assert_int_equal(r.count, N - 3);
	for (unsigned i = 0; i < N; i++) {
		struct call *c = &cs.c[i];
		if (c == chain[0] || c == chain[1] || c == chain[n - 1])
			continue;
		assert_ptr_equal(registry_find(&r, cs.ids[i], strlen(cs.ids[i])), c);
	}
	free_calls(&cs);
	registry_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_binary_ids),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_chain_removal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
