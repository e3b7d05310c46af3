/* NG control statistics: per proxy and command counts, durations and errors, the bound
 * on proxies, per-command interval delays and request rates, and the reset between
 * intervals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/ng_stats.h"

#define S(lit) lit, sizeof(lit) - 1

static union sockaddr_u addr(const char *ip, uint16_t port)
{
	union sockaddr_u a;

	assert_int_equal(netaddr_parse_ip(ip, strlen(ip), 0, &a), 0);
	netaddr_set_port(&a, port);
	return a;
}

static int64_t geti(const struct bval *d, const char *key)
{
	const struct bval *v = bv_dict_get(d, key);

	if (!v || v->type != BV_INT)
		fail_msg("no integer %s", key);
	return v->i;
}

static const char *gets(const struct bval *d, const char *key)
{
	size_t len;
	const char *s = bv_dict_get_str(d, key, &len);

	if (!s)
		fail_msg("no string %s", key);
	return s;
}

static bool str_eq(const struct bval *d, const char *key, const char *want)
{
	size_t len;
	const char *s = bv_dict_get_str(d, key, &len);

	return s && len == strlen(want) && !memcmp(s, want, len);
}

static void test_per_proxy(void **state)
{
	struct ng_stats *s = calloc(1, sizeof(*s));
	union sockaddr_u k1 = addr("10.0.0.1", 5060), k1b = addr("10.0.0.1", 40000),
			 k2 = addr("2001:db8::2", 1);
	struct arena a;
	struct bval *d, *p;

	(void)state;
	ng_stats_record(s, S("offer"), &k1, 1500, false);
	ng_stats_record(s, S("offer"), &k1b, 500, true);        /* same address, other port */
	ng_stats_record(s, S("Answer"), &k1, 250, false);      /* names are case-insensitive */
	ng_stats_record(s, S("block DTMF"), &k2, 10, false);
	ng_stats_record(s, S("no such thing"), &k2, 10, true); /* an error, no command */
	ng_stats_record(s, NULL, 0, &k2, 10, true);             /* undecodable */
	arena_init(&a, 0);
	d = bv_new_dict(&a);
	ng_stats_add_control(s, &a, d);
	p = bv_dict_get(d, "proxies");
	assert_int_equal(p->c.n, 2);
	p = p->c.first;
	assert_true(str_eq(p, "proxy", "10.0.0.1"));
	assert_int_equal(geti(p, "offercount"), 2);
	assert_string_equal(gets(p, "offerduration"), "0.002000");
	assert_int_equal(geti(p, "answercount"), 1);
	assert_string_equal(gets(p, "answerduration"), "0.000250");
	assert_int_equal(geti(p, "errorcount"), 1);
	assert_int_equal(geti(p, "blkdtmfcount"), 0);
	p = p->next;
	assert_true(str_eq(p, "proxy", "2001:db8::2"));
	assert_int_equal(geti(p, "blkdtmfcount"), 1);
	assert_int_equal(geti(p, "errorcount"), 2);
	assert_int_equal(geti(d, "totaloffercount"), 2);
	assert_int_equal(geti(d, "totalanswercount"), 1);
	assert_int_equal(geti(d, "totalblkdtmfcount"), 1);
	assert_int_equal(geti(d, "totalunsubcount"), 0);
	assert_int_equal(p->c.n, 2 * NG_STATS_N_CMDS + 2);     /* proxy, errorcount, pairs */
	arena_reset(&a);
	free(s);
}

static void test_proxies_bounded(void **state)
{
	struct ng_stats *s = calloc(1, sizeof(*s));
	struct arena a;
	struct bval *d, *p;
	char ip[32];

	(void)state;
	for (int i = 0; i < NG_STATS_MAX_PROXIES + 10; i++) {
		union sockaddr_u x;

		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
		x = addr(ip, 1);
		ng_stats_record(s, S("ping"), &x, 1, false);
	}
	arena_init(&a, 0);
	d = bv_new_dict(&a);
	ng_stats_add_control(s, &a, d);
	p = bv_dict_get(d, "proxies");
	assert_int_equal(p->c.n, NG_STATS_MAX_PROXIES + 1);
	assert_true(str_eq(p->c.last, "proxy", "other"));
	assert_int_equal(geti(p->c.last, "pingcount"), 10);
	assert_int_equal(geti(d, "totalpingcount"), NG_STATS_MAX_PROXIES + 10);
	arena_reset(&a);
	free(s);
}

static void test_interval(void **state)
{
	struct ng_stats *s = calloc(1, sizeof(*s));
	union sockaddr_u k = addr("127.0.0.1", 1);
	struct arena a;
	struct bval *d;

	(void)state;
	/* second 1: three offers; second 2: none; second 3: one */
	ng_stats_record(s, S("offer"), &k, 300, false);
	ng_stats_record(s, S("offer"), &k, 100, false);
	ng_stats_record(s, S("offer"), &k, 200, true);
	ng_stats_second(s);
	ng_stats_second(s);
	ng_stats_record(s, S("offer"), &k, 1000400, false);
	ng_stats_second(s);
	arena_init(&a, 0);
	d = bv_new_dict(&a);
	ng_stats_add_interval(s, &a, d);
	assert_string_equal(gets(d, "minofferdelay"), "0.000100");
	assert_string_equal(gets(d, "maxofferdelay"), "1.000400");
	assert_string_equal(gets(d, "avgofferdelay"), "0.250250");
	assert_string_equal(gets(d, "minofferrequestrate"), "0");
	assert_string_equal(gets(d, "maxofferrequestrate"), "3");
	assert_string_equal(gets(d, "avgofferrequestrate"), "1");
	assert_string_equal(gets(d, "minsubscribe requestdelay"), "0.000000");
	assert_string_equal(gets(d, "avgunsubscriberequestrate"), "0");
	assert_int_equal(d->c.n, 6 * NG_STATS_N_CMDS);
	/* a new interval */
	d = bv_new_dict(&a);
	ng_stats_add_interval(s, &a, d);
	assert_string_equal(gets(d, "maxofferdelay"), "0.000000");
	assert_string_equal(gets(d, "maxofferrequestrate"), "0");
	arena_reset(&a);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_proxy),
		cmocka_unit_test(test_proxies_bounded),
		cmocka_unit_test(test_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
