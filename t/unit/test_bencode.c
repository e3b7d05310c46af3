/* bencode decoder/encoder: vector tables, round trips, real Kamailio traffic,
 * truncation at every prefix, depth and integer limits, constructors and lookups. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/bencode.h"
#include "ng_samples.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1

struct valid_vec {
	const char *in;
	size_t len;
	const char *want;       /* tu_describe() rendering */
};

static const struct valid_vec valid[] = {
	/*  0 */ { S("0:"), "s\"\"" },
	/*  1 */ { S("4:spam"), "s\"spam\"" },
	/*  2 */ { S("3:a\0b"), "s\"a\\x00b\"" },
	/*  3 */ { S("i0e"), "0" },
	/*  4 */ { S("i-1e"), "-1" },
	/*  5 */ { S("i42e"), "42" },
	/*  6 */ { S("i9223372036854775807e"), "9223372036854775807" },
	/*  7 */ { S("i-9223372036854775808e"), "-9223372036854775808" },
	/*  8 */ { S("le"), "[]" },
	/*  9 */ { S("de"), "{}" },
	/* 10 */ { S("l4:spami42ee"), "[s\"spam\",42]" },
	/* 11 */ { S("d3:cow3:moo4:spam4:eggse"), "{cow=s\"moo\",spam=s\"eggs\"}" },
	/* 12 */ { S("d1:b1:x1:a1:ye"), "{b=s\"x\",a=s\"y\"}" },       /* wire order kept */
	/* 13 */ { S("d1:a1:x1:a1:ye"), "{a=s\"x\",a=s\"y\"}" },       /* duplicates kept */
	/* 14 */ { S("ld1:ali1eeei7e0:e"), "[{a=[1]},7,s\"\"]" },
	/* 15 */ { S("d0:0:e"), "{=s\"\"}" },
	/* 16 */ { S("10:0123456789"), "s\"0123456789\"" },
	/* 17 */ { S("lllleeee"), "[[[[]]]]" },
	/* 18 */ { S("d4:dictde4:listlee"), "{dict={},list=[]}" },
};

struct invalid_vec {
	const char *in;
	size_t len;
	int err;
};

static const struct invalid_vec invalid[] = {
	/*  0 */ { S(""), -EMSGSIZE },
	/*  1 */ { S("i03e"), -EINVAL },
	/*  2 */ { S("i-0e"), -EINVAL },
	/*  3 */ { S("i00e"), -EINVAL },
	/*  4 */ { S("ie"), -EINVAL },
	/*  5 */ { S("i-e"), -EINVAL },
	/*  6 */ { S("i1.5e"), -EINVAL },
	/*  7 */ { S("i+1e"), -EINVAL },
	/*  8 */ { S("i 1e"), -EINVAL },
	/*  9 */ { S("i--1e"), -EINVAL },
	/* 10 */ { S("i9223372036854775808e"), -EINVAL },
	/* 11 */ { S("i-9223372036854775809e"), -EINVAL },
	/* 12 */ { S("i99999999999999999999999e"), -EINVAL },
	/* 13 */ { S("-3:abc"), -EINVAL },
	/* 14 */ { S("03:abc"), -EINVAL },
	/* 15 */ { S("00:"), -EINVAL },
	/* 16 */ { S("3abc"), -EINVAL },
	/* 17 */ { S(":abc"), -EINVAL },
	/* 18 */ { S("99999999999999999999999:x"), -EINVAL },
	/* 19 */ { S("di1e1:ae"), -EINVAL },        /* dict keys must be strings */
	/* 20 */ { S("dlee1:ae"), -EINVAL },
	/* 21 */ { S("d1:ae"), -EINVAL },           /* key without value */
	/* 22 */ { S("x"), -EINVAL },
	/* 23 */ { S("e"), -EINVAL },
	/* 24 */ { S("i1ei2e"), -EINVAL },          /* trailing bytes */
	/* 25 */ { S("4:spamX"), -EINVAL },
	/* 26 */ { S("lxe"), -EINVAL },
	/* 27 */ { S("l"), -EMSGSIZE },
	/* 28 */ { S("4:spa"), -EMSGSIZE },
	/* 29 */ { S("i12"), -EMSGSIZE },
	/* 30 */ { S("l4:spam"), -EMSGSIZE },
	/* 31 */ { S("d3:cow"), -EMSGSIZE },
	/* 32 */ { S("d3:cow3:moo"), -EMSGSIZE },
	/* 33 */ { S("1000:abc"), -EMSGSIZE },
	/* 34 */ { S("5"), -EMSGSIZE },
	/* 35 */ { S("i"), -EMSGSIZE },
	/* 36 */ { S("i-"), -EMSGSIZE },
	/* 37 */ { S("18446744073709551615:x"), -EINVAL },
};

struct sample {
	const char *name;
	const char *wire;
	size_t len;
};

static const struct sample samples[] = {
	{ "offer", S(kam_offer) },
	{ "offer+flags", S(kam_offer_flags) },
	{ "answer reply", S(kam_answer_reply) },
	{ "delete reply", S(kam_delete_reply) },
};

static void test_valid_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct arena a;
		struct strbuf d, enc;
		struct bval *v = NULL;
		int ret;

		arena_init(&a, 0);
		sb_init(&d);
		sb_init(&enc);
		ret = bv_decode(&a, valid[i].in, valid[i].len, &v, NULL);
		if (ret)
			fail_msg("valid[%zu]: decode returned %d", i, ret);
		tu_describe(v, &d);
		if (strcmp(d.buf, valid[i].want))
			fail_msg("valid[%zu]: got %s, want %s", i, d.buf, valid[i].want);
		/* the decoder only accepts canonical input, so re-encoding is exact */
		assert_int_equal(bv_encode(v, &enc), 0);
		assert_int_equal(enc.len, valid[i].len);
		assert_memory_equal(enc.buf, valid[i].in, valid[i].len);
		sb_free(&d);
		sb_free(&enc);
		arena_reset(&a);
	}
}

static void test_invalid_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct arena a;
		struct bval *v = NULL;
		int ret;

		arena_init(&a, 0);
		ret = bv_decode(&a, invalid[i].in, invalid[i].len, &v, NULL);
		if (ret != invalid[i].err)
			fail_msg("invalid[%zu] \"%.*s\": got %d, want %d", i, (int)invalid[i].len,
				 invalid[i].in, ret, invalid[i].err);
		assert_null(v);
		arena_reset(&a);
	}
}

static void test_consumed(void **state)
{
	struct arena a;
	struct bval *v;
	size_t used = 0;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(bv_decode(&a, S("i1ei2e"), &v, &used), 0);
	assert_int_equal(used, 3);
	assert_int_equal(v->i, 1);
	assert_int_equal(bv_decode(&a, S("4:spamXYZ"), &v, &used), 0);
	assert_int_equal(used, 6);
	assert_true(bv_str_eq(v, "spam"));
	/* an incomplete value is still an error when trailing bytes are allowed */
	assert_int_equal(bv_decode(&a, S("d1:a"), &v, &used), -EMSGSIZE);
	arena_reset(&a);
}

static void test_depth(void **state)
{
	struct arena a;
	struct strbuf sb;
	struct bval *v;

	(void)state;
	arena_init(&a, 0);
	sb_init(&sb);
	tu_nest(&sb, BV_MAX_DEPTH, 'l', 'e');
	assert_int_equal(bv_decode(&a, sb.buf, sb.len, &v, NULL), 0);
	sb_reset(&sb);
	tu_nest(&sb, BV_MAX_DEPTH + 1, 'l', 'e');
	assert_int_equal(bv_decode(&a, sb.buf, sb.len, &v, NULL), -EINVAL);
	/* deep and truncated: the depth check fires before running out of input */
	sb_reset(&sb);
	for (int i = 0; i < 100000; i++)
		sb_puts(&sb, "d1:a");
	assert_int_equal(bv_decode(&a, sb.buf, sb.len, &v, NULL), -EINVAL);
	sb_reset(&sb);
	for (int i = 0; i < BV_MAX_DEPTH; i++)
		sb_puts(&sb, "d1:a");
	sb_puts(&sb, "i1e");
	for (int i = 0; i < BV_MAX_DEPTH; i++)
		sb_putc(&sb, 'e');
	assert_int_equal(bv_decode(&a, sb.buf, sb.len, &v, NULL), 0);
	sb_free(&sb);
	arena_reset(&a);
}

static void test_samples_decode(void **state)
{
	struct arena a;
	struct bval *v, *rf, *m;
	const char *s;
	size_t len;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(bv_decode(&a, S(kam_offer), &v, NULL), 0);
	assert_int_equal(v->type, BV_DICT);
	assert_int_equal(v->c.n, 6);
	assert_true(bv_str_eq(bv_dict_get(v, "command"), "offer"));
	assert_true(bv_str_eq(bv_dict_get(v, "call-id"), "1ebe78fed6ee52a2"));
	assert_true(bv_str_eq(bv_dict_get(v, "from-tag"), "915c2355d079c71f"));
	s = bv_dict_get_str(v, "sdp", &len);
	assert_non_null(s);
	assert_int_equal(len, 344);
	assert_memory_equal(s, "v=0\r\no=- 1939969165", 19);
	assert_memory_equal(s + len - 12, "a=ptime:20\r\n", 12);
	rf = bv_dict_get(v, "received-from");
	assert_non_null(rf);
	assert_int_equal(rf->type, BV_LIST);
	assert_int_equal(rf->c.n, 2);
	assert_true(bv_str_eq(rf->c.first, "IP4"));
	assert_true(bv_str_eq(rf->c.first->next, "127.0.0.1"));
	assert_true(bv_str_eq(bv_dict_get(v, "supports")->c.first, "load limit"));
	assert_null(bv_dict_get(v, "to-tag"));

	assert_int_equal(bv_decode(&a, S(kam_offer_flags), &v, NULL), 0);
	assert_true(bv_str_eq(bv_dict_get(v, "ICE"), "remove"));
	m = bv_dict_get(v, "replace");
	assert_int_equal(m->c.n, 2);
	assert_true(bv_str_eq(m->c.last, "session-connection"));

	assert_int_equal(bv_decode(&a, S(kam_answer_reply), &v, NULL), 0);
	assert_true(bv_str_eq(bv_dict_get(v, "result"), "ok"));

	/* the delete reply nests dicts and lists six deep */
	assert_int_equal(bv_decode(&a, S(kam_delete_reply), &v, NULL), 0);
	assert_int_equal(bv_dict_get(v, "created")->i, 1795359623);
	assert_int_equal(bv_dict_get(v, "SSRC")->type, BV_DICT);
	assert_int_equal(bv_dict_get(v, "SSRC")->c.n, 0);
	m = bv_dict_get(bv_dict_get(v, "tags"), "915c2355d079c71f");
	assert_non_null(m);
	m = bv_dict_get(m, "medias");
	assert_non_null(m);
	assert_int_equal(m->type, BV_LIST);
	m = bv_dict_get(m->c.first, "streams");
	assert_non_null(m);
	m = m->c.first;
	assert_int_equal(bv_dict_get(m, "local port")->i, 30020);
	assert_int_equal(bv_dict_get(bv_dict_get(m, "stats"), "packets")->i, 251);
	assert_true(bv_str_eq(bv_dict_get(m, "flags")->c.first, "RTP"));
	assert_true(bv_str_eq(bv_dict_get(v, "result"), "ok"));
	arena_reset(&a);
}

static void test_samples_roundtrip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct arena a;
		struct strbuf enc;
		struct bval *v, *v2;

		arena_init(&a, 0);
		sb_init(&enc);
		assert_int_equal(bv_decode(&a, samples[i].wire, samples[i].len, &v, NULL), 0);
		assert_int_equal(bv_encode(v, &enc), 0);
		if (enc.len != samples[i].len || memcmp(enc.buf, samples[i].wire, enc.len))
			fail_msg("%s: re-encoding differs", samples[i].name);
		assert_int_equal(bv_decode(&a, enc.buf, enc.len, &v2, NULL), 0);
		assert_true(bv_equal(v, v2));
		sb_free(&enc);
		arena_reset(&a);
	}
}

/* Every proper prefix of a valid message is truncated input: an error, never a crash
 * and never a read past the end (ASan builds check the latter: each prefix is copied
 * into an exactly sized heap buffer). */
static void test_truncated_every_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct arena a;

		arena_init(&a, 0);
		for (size_t n = 0; n < samples[i].len; n++) {
			char *buf = test_malloc(n ? n : 1);
			struct bval *v = NULL;
			size_t used;
			int ret;

			memcpy(buf, samples[i].wire, n);
			ret = bv_decode(&a, buf, n, &v, NULL);
			if (ret != -EMSGSIZE)
				fail_msg("%s: prefix %zu returned %d", samples[i].name, n, ret);
			assert_int_equal(bv_decode(&a, buf, n, &v, &used), -EMSGSIZE);
			assert_null(v);
			test_free(buf);
			arena_reset(&a);
		}
	}
}

/* Single-byte corruption: any outcome is fine except a crash, and whatever still
 * decodes must re-encode to the same bytes. */
static void test_mutations(void **state)
{
	static const char subst[] = { 'e', 'i', 'l', 'd', ':', '0', '9', '-', 'x', '\0' };
	struct arena a;
	struct strbuf enc;
	char buf[sizeof(kam_offer_flags)];
	size_t len = sizeof(kam_offer_flags) - 1, ok = 0;

	(void)state;
	arena_init(&a, 0);
	sb_init(&enc);
	for (size_t pos = 0; pos < len; pos++) {
		for (size_t k = 0; k < sizeof(subst); k++) {
			struct bval *v;

			memcpy(buf, kam_offer_flags, len);
			buf[pos] = subst[k];
			if (bv_decode(&a, buf, len, &v, NULL) == 0) {
				ok++;
				sb_reset(&enc);
				assert_int_equal(bv_encode(v, &enc), 0);
				assert_int_equal(enc.len, len);
				assert_memory_equal(enc.buf, buf, len);
			}
			arena_reset(&a);
		}
	}
	/* bytes inside the SDP string can be replaced freely */
	assert_true(ok > 300 * sizeof(subst));
	sb_free(&enc);
}

static void test_arena_limit(void **state)
{
	struct arena a;
	struct bval *v;

	(void)state;
	arena_init(&a, 256);
	assert_int_equal(bv_decode(&a, S(kam_delete_reply), &v, NULL), -ENOMEM);
	arena_reset(&a);
	arena_init(&a, 64 * 1024);
	assert_int_equal(bv_decode(&a, S(kam_delete_reply), &v, NULL), 0);
	arena_reset(&a);
}

static void test_constructors(void **state)
{
	struct arena a;
	struct strbuf sb;
	struct bval *d, *l;
	size_t len;

	(void)state;
	arena_init(&a, 0);
	sb_init(&sb);
	d = bv_new_dict(&a);
	assert_non_null(bv_dict_add_str(&a, d, "result", "ok"));
	assert_non_null(bv_dict_add_int(&a, d, "created", -7));
	l = bv_dict_add(&a, d, "flags", bv_new_list(&a));
	assert_non_null(l);
	bv_list_add(l, bv_new_strz(&a, "trust-address"));
	bv_list_add(l, bv_new_str(&a, "a\0b", 3));
	bv_list_add(l, bv_new_int(&a, INT64_MIN));
	assert_int_equal(d->c.n, 3);
	assert_int_equal(bv_encode(d, &sb), 0);
	assert_int_equal(sb.len, sizeof("d6:result2:ok7:createdi-7e5:flagsl13:trust-address"
					"3:a\0bi-9223372036854775808eee") - 1);
	assert_memory_equal(sb.buf, "d6:result2:ok7:createdi-7e5:flagsl13:trust-address"
			    "3:a\0bi-9223372036854775808eee", sb.len);

	assert_true(bv_str_eq(bv_dict_get(d, "result"), "ok"));
	assert_false(bv_str_eq(bv_dict_get(d, "result"), "o"));
	assert_false(bv_str_eq(bv_dict_get(d, "created"), "-7"));
	assert_true(bv_str_ieq(bv_dict_get(d, "result"), "OK"));
	assert_false(bv_str_ieq(bv_dict_get(d, "result"), "OKAY"));
	assert_false(bv_str_eq(NULL, "ok"));
	assert_non_null(bv_dict_get_str(d, "result", &len));
	assert_int_equal(len, 2);
	assert_null(bv_dict_get_str(d, "created", &len));    /* not a string */
	assert_null(bv_dict_get_str(d, "missing", &len));
	assert_null(bv_dict_get(d, "Result"));               /* keys are case-sensitive */
	assert_null(bv_dict_get(l, "result"));               /* not a dict */
	assert_null(bv_dict_get(NULL, "result"));
	assert_false(bv_str_eq(l->c.first->next, "a"));       /* embedded NUL counts */

	/* NULL children chain through without crashing or linking */
	assert_null(bv_list_add(l, NULL));
	assert_null(bv_dict_add(&a, d, "x", NULL));
	assert_null(bv_dict_add_str(&a, NULL, "x", "y"));
	assert_int_equal(l->c.n, 3);
	assert_int_equal(d->c.n, 3);

	/* strings are copied, not referenced */
	{
		char tmp[] = "volatile";
		struct bval *s = bv_new_strz(&a, tmp);

		tmp[0] = 'X';
		assert_true(bv_str_eq(s, "volatile"));
	}
	sb_free(&sb);
	arena_reset(&a);
}

static void test_constructors_oom(void **state)
{
	struct arena a;
	struct bval *d;
	int i;

	(void)state;
	arena_init(&a, 1024);
	d = bv_new_dict(&a);
	assert_non_null(d);
	for (i = 0; i < 1000; i++)
		if (!bv_dict_add_str(&a, d, "key", "value"))
			break;
	assert_true(i > 0 && i < 1000);
	assert_null(bv_new_int(&a, 1));
	assert_null(bv_new_list(&a));
	assert_true(a.total <= 1024);
	arena_reset(&a);
}

static void test_equal(void **state)
{
	struct arena a;
	struct bval *x, *y;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(bv_decode(&a, S("d1:al1:xi1eee"), &x, NULL), 0);
	assert_int_equal(bv_decode(&a, S("d1:al1:xi1eee"), &y, NULL), 0);
	assert_true(bv_equal(x, y));
	assert_int_equal(bv_decode(&a, S("d1:bl1:xi1eee"), &y, NULL), 0);
	assert_false(bv_equal(x, y));
	assert_int_equal(bv_decode(&a, S("d1:al1:xi2eee"), &y, NULL), 0);
	assert_false(bv_equal(x, y));
	assert_int_equal(bv_decode(&a, S("d1:al1:xee"), &y, NULL), 0);
	assert_false(bv_equal(x, y));
	assert_int_equal(bv_decode(&a, S("l1:al1:xi1eee"), &y, NULL), 0);
	assert_false(bv_equal(x, y));
	assert_int_equal(bv_decode(&a, S("d1:al1:yi1eee"), &y, NULL), 0);
	assert_false(bv_equal(x, y));
	arena_reset(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_vectors),
		cmocka_unit_test(test_invalid_vectors),
		cmocka_unit_test(test_consumed),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_samples_decode),
		cmocka_unit_test(test_samples_roundtrip),
		cmocka_unit_test(test_truncated_every_prefix),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_arena_limit),
		cmocka_unit_test(test_constructors),
		cmocka_unit_test(test_constructors_oom),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
