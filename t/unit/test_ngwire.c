/* NG datagram framing: cookie split, encoding detection, decode of either encoding,
 * building a datagram. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/ngwire.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_split(void **state)
{
	static const struct { const char *in; size_t len; int ret; const char *cookie, *body; } v[] = {
		{ S("0_4476_0 d7:command4:pinge"), 0, "0_4476_0", "d7:command4:pinge" },
		{ S("c {\"command\":\"ping\"}"), 0, "c", "{\"command\":\"ping\"}" },
		{ S("c  x"), 0, "c", " x" },              /* only the first space splits */
		{ S(" d7:command4:pinge"), -EINVAL, NULL, NULL },   /* empty cookie */
		{ S("nocookie"), -EINVAL, NULL, NULL },
		{ S("cookie "), -EINVAL, NULL, NULL },              /* empty body */
		{ S(""), -EINVAL, NULL, NULL },
		{ S("a\tb x"), -EINVAL, NULL, NULL },               /* control char in cookie */
		{ S("a\xff x"), -EINVAL, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ngwire_msg m;
		int ret = ngwire_split(v[i].in, v[i].len, &m);

		if (ret != v[i].ret)
			fail_msg("split[%zu]: got %d want %d", i, ret, v[i].ret);
		if (ret)
			continue;
		assert_int_equal(m.cookie_len, strlen(v[i].cookie));
		assert_memory_equal(m.cookie, v[i].cookie, m.cookie_len);
		assert_int_equal(m.body_len, strlen(v[i].body));
		assert_memory_equal(m.body, v[i].body, m.body_len);
	}
}

static void test_cookie_length(void **state)
{
	char buf[NGWIRE_COOKIE_MAX + 8];
	struct ngwire_msg m;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[NGWIRE_COOKIE_MAX] = ' ';
	assert_int_equal(ngwire_split(buf, NGWIRE_COOKIE_MAX + 3, &m), 0);
	assert_int_equal(m.cookie_len, NGWIRE_COOKIE_MAX);
	buf[NGWIRE_COOKIE_MAX] = 'a';
	buf[NGWIRE_COOKIE_MAX + 1] = ' ';
	assert_int_equal(ngwire_split(buf, NGWIRE_COOKIE_MAX + 3, &m), -EINVAL);
}

static void test_decode(void **state)
{
	struct arena a;
	struct bval *v;
	bool json = true;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(ngwire_decode(&a, S("d7:command4:pinge"), &v, &json), 0);
	assert_false(json);
	assert_true(bv_str_eq(bv_dict_get(v, "command"), "ping"));
	assert_int_equal(ngwire_decode(&a, S("d7:command4:pinge\r\n"), &v, &json), 0);
	assert_int_equal(ngwire_decode(&a, S("d7:command4:pingex"), &v, &json), -EINVAL);
	assert_int_equal(ngwire_decode(&a, S("d7:command4:ping"), &v, &json), -EMSGSIZE);

	assert_int_equal(ngwire_decode(&a, S(" \n{\"command\": \"ping\", \"n\": true}\n"), &v, &json), 0);
	assert_true(json);
	assert_true(bv_str_eq(bv_dict_get(v, "command"), "ping"));
	assert_int_equal(bv_dict_get(v, "n")->i, 1);
	assert_int_equal(ngwire_decode(&a, S("{\"command\": "), &v, &json), -EINVAL);
	assert_int_equal(ngwire_decode(&a, S("{\"a\":1}"), &v, NULL), 0);
	assert_true(ngwire_body_is_json(S("\t{")));
	assert_false(ngwire_body_is_json(S("d{")));
	assert_false(ngwire_body_is_json(S("  ")));
	arena_reset(&a);
}

static void test_build(void **state)
{
	struct arena a;
	struct strbuf sb;
	struct bval *d, *v;
	struct ngwire_msg m;
	bool json;

	(void)state;
	arena_init(&a, 0);
	sb_init(&sb);
	d = bv_new_dict(&a);
	bv_dict_add_str(&a, d, "command", "ping");
	assert_int_equal(ngwire_build(&sb, S("42_abc"), d, false), 0);
	assert_string_equal(sb.buf, "42_abc d7:command4:pinge");
	sb_reset(&sb);
	assert_int_equal(ngwire_build(&sb, S("42_abc"), d, true), 0);
	assert_string_equal(sb.buf, "42_abc {\"command\":\"ping\"}");
	/* and it parses back */
	assert_int_equal(ngwire_split(sb.buf, sb.len, &m), 0);
	assert_int_equal(ngwire_decode(&a, m.body, m.body_len, &v, &json), 0);
	assert_true(json);
	assert_true(bv_equal(d, v));
	sb_free(&sb);
	arena_reset(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_cookie_length),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_build),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
