/* JSON <-> bval: parse vectors, emit vectors (escaping of quotes, control characters and
 * non-UTF-8 bytes), round trips both ways, and the real Kamailio messages against the
 * capture tool's own JSON rendering. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "sluice/bencode.h"
#include "ng_samples.h"
#include "testutil.h"

#define S(lit) lit, sizeof(lit) - 1

struct from_vec {
	const char *json;
	const char *want;       /* tu_describe() rendering; NULL = must fail with -EINVAL */
};

static const struct from_vec from_vecs[] = {
	/*  0 */ { "{}", "{}" },
	/*  1 */ { "[]", "[]" },
	/*  2 */ { "\"abc\"", "s\"abc\"" },
	/*  3 */ { "42", "42" },
	/*  4 */ { "-7", "-7" },
	/*  5 */ { "true", "1" },
	/*  6 */ { "false", "0" },
	/*  7 */ { "null", "s\"\"" },
	/*  8 */ { "1.50", "s\"1.50\"" },
	/*  9 */ { "1e3", "s\"1e3\"" },
	/* 10 */ { "-9223372036854775808", "-9223372036854775808" },
	/* 11 */ { "18446744073709551615", "s\"18446744073709551615\"" },
	/* 12 */ { " {\"command\" : \"ping\"}\n", "{command=s\"ping\"}" },
	/* 13 */ { "{\"a\":[1,{\"b\":null,\"c\":true}],\"d\":{}}",
		   "{a=[1,{b=s\"\",c=1}],d={}}" },
	/* 14 */ { "{\"z\":1,\"a\":2,\"m\":3}", "{z=1,a=2,m=3}" },      /* order kept */
	/* 15 */ { "\"\\u00e9\\n\\\"\\\\\\/\"", "s\"\\xc3\\xa9\\x0a\\x22\\x5c/\"" },
	/* 16 */ { "\"a\\u0000b\"", "s\"a\\x00b\"" },
	/* 17 */ { "\"\\ud83d\\ude00\"", "s\"\\xf0\\x9f\\x98\\x80\"" },
	/* 18 */ { "\"\xc3\xa9\"", "s\"\\xc3\\xa9\"" },                 /* raw UTF-8 */
	/* 19 */ { "[\"flags\",[\"trust-address\",\"SIP-source-address\"]]",
		   "[s\"flags\",[s\"trust-address\",s\"SIP-source-address\"]]" },
	/* invalid */
	/* 20 */ { "", NULL },
	/* 21 */ { "{", NULL },
	/* 22 */ { "[1,]", NULL },
	/* 23 */ { "{\"a\":1,}", NULL },
	/* 24 */ { "'a'", NULL },
	/* 25 */ { "{a:1}", NULL },
	/* 26 */ { "[1] x", NULL },
	/* 27 */ { "\"\xff\"", NULL },                 /* not UTF-8 */
	/* 28 */ { "\"\xc0\x80\"", NULL },             /* overlong */
	/* 29 */ { "\"\xed\xa0\x80\"", NULL },         /* UTF-16 surrogate */
	/* 30 */ { "{\"\xf4\x90\x80\x80\":1}", NULL },  /* above U+10FFFF, in a key */
	/* 31 */ { "nul", NULL },
	/* 32 */ { "01", NULL },
	/* 33 */ { "{\"a\" 1}", NULL },
	/* 34 */ { "\"unterminated", NULL },
};

static void test_from_json_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(from_vecs) / sizeof(from_vecs[0]); i++) {
		struct arena a;
		struct strbuf d;
		struct bval *v = NULL;
		int ret;

		arena_init(&a, 0);
		sb_init(&d);
		ret = bv_from_json(&a, from_vecs[i].json, strlen(from_vecs[i].json), &v);
		if (!from_vecs[i].want) {
			if (ret != -EINVAL)
				fail_msg("from[%zu] %s: got %d, want -EINVAL", i, from_vecs[i].json, ret);
		} else {
			if (ret)
				fail_msg("from[%zu] %s: got %d", i, from_vecs[i].json, ret);
			tu_describe(v, &d);
			if (strcmp(d.buf, from_vecs[i].want))
				fail_msg("from[%zu]: got %s, want %s", i, d.buf, from_vecs[i].want);
		}
		sb_free(&d);
		arena_reset(&a);
	}
}

static void test_from_json_limits(void **state)
{
	struct arena a;
	struct strbuf sb;
	struct bval *v;

	(void)state;
	arena_init(&a, 0);
	sb_init(&sb);
	tu_nest(&sb, BV_MAX_DEPTH, '[', ']');
	assert_int_equal(bv_from_json(&a, sb.buf, sb.len, &v), 0);
	sb_reset(&sb);
	tu_nest(&sb, BV_MAX_DEPTH + 1, '[', ']');
	assert_int_equal(bv_from_json(&a, sb.buf, sb.len, &v), -EINVAL);
	/* the length is honoured: no reading up to a NUL */
	assert_int_equal(bv_from_json(&a, "[1]]]]", 3, &v), 0);
	assert_int_equal(v->c.n, 1);
	assert_int_equal(bv_from_json(&a, "{\"a\":1}", 6, &v), -EINVAL);
	/* a raw NUL inside the text is not JSON */
	assert_int_equal(bv_from_json(&a, "[1,\0 2]", 7, &v), -EINVAL);
	/* the tree does not point into the input */
	{
		char buf[] = "{\"key\":\"value\"}";

		assert_int_equal(bv_from_json(&a, buf, strlen(buf), &v), 0);
		memset(buf, 'X', strlen(buf));
		assert_true(bv_str_eq(bv_dict_get(v, "key"), "value"));
	}
	sb_free(&sb);
	arena_reset(&a);
	/* arena exhaustion is reported as such */
	arena_init(&a, 128);
	assert_int_equal(bv_from_json(&a, S(kam_delete_reply_json), &v), -ENOMEM);
	arena_reset(&a);
}

struct to_vec {
	const char *bencode;
	size_t len;
	const char *json;
};

static const struct to_vec to_vecs[] = {
	/*  0 */ { S("de"), "{}" },
	/*  1 */ { S("le"), "[]" },
	/*  2 */ { S("i-9223372036854775808e"), "-9223372036854775808" },
	/*  3 */ { S("d6:result2:oke"), "{\"result\":\"ok\"}" },
	/*  4 */ { S("l1:\"1:\\1:/e"), "[\"\\\"\",\"\\\\\",\"/\"]" },
	/*  5 */ { S("8:\b\f\n\r\t\x01\x1f\x7f"), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"" },
	/*  6 */ { S("3:a\0b"), "\"a\\u0000b\"" },
	/*  7 */ { S("2:\xc3\xa9"), "\"\xc3\xa9\"" },                   /* valid UTF-8 kept */
	/*  8 */ { S("4:\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"" },
	/*  9 */ { S("3:a\xffz"), "\"a\\u00ffz\"" },                     /* stray byte */
	/* 10 */ { S("2:\xc0\x80"), "\"\\u00c0\\u0080\"" },             /* overlong NUL */
	/* 11 */ { S("3:\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"" },  /* surrogate */
	/* 12 */ { S("2:\xe2\x82"), "\"\\u00e2\\u0082\"" },             /* truncated seq */
	/* 13 */ { S("4:\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"" }, /* >U+10FFFF */
	/* 14 */ { S("3:\xe2\x82\xac"), "\"\xe2\x82\xac\"" },           /* euro sign */
	/* 15 */ { S("d3:a\"b1:xe"), "{\"a\\\"b\":\"x\"}" },            /* keys escaped too */
	/* 16 */ { S("d1:\xff" "0:e"), "{\"\\u00ff\":\"\"}" },
	/* 17 */ { S("d1:ald1:bi1eei2ee1:cdee"), "{\"a\":[{\"b\":1},2],\"c\":{}}" },
};

/* Output must be JSON that a strict parser accepts, including its UTF-8 check. */
static void assert_valid_json(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) == json_tokener_continue)
		o = json_tokener_parse_ex(tok, "", 1);
	if (json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("not valid JSON: %.*s", (int)len, buf);
	json_object_put(o);
	json_tokener_free(tok);
}

static void test_to_json_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(to_vecs) / sizeof(to_vecs[0]); i++) {
		struct arena a;
		struct strbuf sb;
		struct bval *v;

		arena_init(&a, 0);
		sb_init(&sb);
		if (bv_decode(&a, to_vecs[i].bencode, to_vecs[i].len, &v, NULL))
			fail_msg("to[%zu]: bencode does not decode", i);
		assert_int_equal(bv_to_json(v, &sb), 0);
		if (strcmp(sb.buf, to_vecs[i].json))
			fail_msg("to[%zu]: got %s, want %s", i, sb.buf, to_vecs[i].json);
		assert_valid_json(sb.buf, sb.len);
		sb_free(&sb);
		arena_reset(&a);
	}
}

/* bval -> JSON -> bval gives the same tree whenever every string is valid UTF-8. */
static void test_roundtrip_bval_json_bval(void **state)
{
	static const struct { const char *b; size_t len; } vecs[] = {
		{ S("d1:ali1ei-2e0:d1:bleee1:cdee") },
		{ S("l3:a\0b10:\x01\x02\"\\\n\r\t/\x7f" "x2:\xc3\xa9" "e") },
		{ S("d7:command5:offer5:flagsl13:trust-addressee") },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct arena a;
		struct strbuf sb;
		struct bval *v, *v2;

		arena_init(&a, 0);
		sb_init(&sb);
		assert_int_equal(bv_decode(&a, vecs[i].b, vecs[i].len, &v, NULL), 0);
		assert_int_equal(bv_to_json(v, &sb), 0);
		assert_int_equal(bv_from_json(&a, sb.buf, sb.len, &v2), 0);
		if (!bv_equal(v, v2))
			fail_msg("roundtrip[%zu] differs via %s", i, sb.buf);
		sb_free(&sb);
		arena_reset(&a);
	}
}

/* JSON -> bval -> JSON is a fixpoint after the first pass (booleans/null/floats are
 * mapped once, then stay). */
static void test_roundtrip_json_bval_json(void **state)
{
	static const struct { const char *in, *out; } vecs[] = {
		{ "{\"a\": true, \"b\": null, \"c\": [1.5, -3, \"x\"]}",
		  "{\"a\":1,\"b\":\"\",\"c\":[\"1.5\",-3,\"x\"]}" },
		{ "[\"\\u0001\\u001F\\\"\"]", "[\"\\u0001\\u001f\\\"\"]" },
		{ "{\"sdp\":\"v=0\\r\\n\"}", "{\"sdp\":\"v=0\\r\\n\"}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct arena a;
		struct strbuf sb, sb2;
		struct bval *v;

		arena_init(&a, 0);
		sb_init(&sb);
		sb_init(&sb2);
		assert_int_equal(bv_from_json(&a, vecs[i].in, strlen(vecs[i].in), &v), 0);
		assert_int_equal(bv_to_json(v, &sb), 0);
		assert_string_equal(sb.buf, vecs[i].out);
		assert_int_equal(bv_from_json(&a, sb.buf, sb.len, &v), 0);
		assert_int_equal(bv_to_json(v, &sb2), 0);
		assert_string_equal(sb2.buf, sb.buf);
		sb_free(&sb);
		sb_free(&sb2);
		arena_reset(&a);
	}
}

struct sample {
	const char *name;
	const char *wire;
	size_t wire_len;
	const char *json;
	size_t json_len;
};

static const struct sample samples[] = {
	{ "offer", S(kam_offer), S(kam_offer_json) },
	{ "offer+flags", S(kam_offer_flags), S(kam_offer_flags_json) },
	{ "answer reply", S(kam_answer_reply), S(kam_answer_reply_json) },
	{ "delete reply", S(kam_delete_reply), S(kam_delete_reply_json) },
};

/* The capture file's JSON was written by Python's json.dumps(indent=2): our pretty
 * output matches it byte for byte, and parsing it gives back the wire tree. */
static void test_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		struct arena a;
		struct strbuf sb, enc;
		struct bval *wire, *json;

		arena_init(&a, 0);
		sb_init(&sb);
		sb_init(&enc);
		assert_int_equal(bv_decode(&a, s->wire, s->wire_len, &wire, NULL), 0);
		assert_int_equal(bv_to_json_pretty(wire, &sb), 0);
		if (sb.len != s->json_len || memcmp(sb.buf, s->json, sb.len))
			fail_msg("%s: pretty JSON differs:\n%s", s->name, sb.buf);
		assert_valid_json(sb.buf, sb.len);

		assert_int_equal(bv_from_json(&a, s->json, s->json_len, &json), 0);
		if (!bv_equal(wire, json))
			fail_msg("%s: JSON tree differs from wire tree", s->name);
		/* and back to the exact wire bytes */
		assert_int_equal(bv_encode(json, &enc), 0);
		assert_int_equal(enc.len, s->wire_len);
		assert_memory_equal(enc.buf, s->wire, s->wire_len);

		/* compact form parses to the same tree too */
		sb_reset(&sb);
		assert_int_equal(bv_to_json(wire, &sb), 0);
		assert_null(memchr(sb.buf, '\n', sb.len));
		assert_int_equal(bv_from_json(&a, sb.buf, sb.len, &json), 0);
		assert_true(bv_equal(wire, json));
		sb_free(&sb);
		sb_free(&enc);
		arena_reset(&a);
	}
}

static void test_pretty_shape(void **state)
{
	struct arena a;
	struct strbuf sb;
	struct bval *v;

	(void)state;
	arena_init(&a, 0);
	sb_init(&sb);
	assert_int_equal(bv_decode(&a, S("d1:ali1ee1:bdee"), &v, NULL), 0);
	assert_int_equal(bv_to_json_pretty(v, &sb), 0);
	assert_string_equal(sb.buf, "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}");
	sb_free(&sb);
	arena_reset(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_json_vectors),
		cmocka_unit_test(test_from_json_limits),
		cmocka_unit_test(test_to_json_vectors),
		cmocka_unit_test(test_roundtrip_bval_json_bval),
		cmocka_unit_test(test_roundtrip_json_bval_json),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_pretty_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
