/* Address prefixes: parsing (accepted forms, rejected forms, host bits), matching
 * table (IPv4, IPv6, v4-mapped, prefix boundaries /0 /1 /7 /8 /9 /31 /32 /127 /128),
 * lists, formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/cidr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static union sockaddr_u ip(const char *s)
{
	union sockaddr_u u;

	if (netaddr_parse_ip(s, strlen(s), 0, &u))
		fail_msg("test address '%s' does not parse", s);
	netaddr_set_port(&u, 5060);
	return u;
}

/* 1. what parses, to what */
static const struct {
	const char *in, *out;
	bool host_bits;
} good[] = {
	{ "127.0.0.1", "127.0.0.1/32", false },
	{ "127.0.0.2/32", "127.0.0.2/32", false },
	{ "10.0.0.0/8", "10.0.0.0/8", false },
	{ "10.1.2.3/8", "10.0.0.0/8", true },
	{ "192.168.1.10/24", "192.168.1.0/24", true },
	{ "172.16.0.0/12", "172.16.0.0/12", false },
	{ "172.31.255.255/12", "172.16.0.0/12", true },
	{ "0.0.0.0/0", "0.0.0.0/0", false },
	{ "1.2.3.4/0", "0.0.0.0/0", true },
	{ "::1", "::1/128", false },
	{ "[::1]", "::1/128", false },
	{ "[2001:db8::]/32", "2001:db8::/32", false },
	{ "2001:db8::1/32", "2001:db8::/32", true },
	{ "fe80::/10", "fe80::/10", false },
	{ "febf:ffff::/10", "fe80::/10", true },
	{ "::/0", "::/0", false },
	{ "::ffff:10.0.0.1/128", "::ffff:10.0.0.1/128", false },
};

static const char *const bad[] = {
	"", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
	"10.0.0.0/ 8", "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0/08a", "10.0.0.0/0x8",
	"10.0.0.0/1000", "10.0.0/8", "10.0.0.256", "::1/129", "[::1", "::1]", "[10.0.0.1]",
	"[::1]:5060", "10.0.0.1:5060", "localhost", "any", "10.0.0.0/8/8", "fe80::1%lo",
};

static void test_parse(void **state)
{
	char buf[CIDR_STRLEN];
	struct cidr c;
	bool hb;

	(void)state;
	for (size_t i = 0; i < N(good); i++) {
		hb = !good[i].host_bits;
		if (cidr_parse(good[i].in, &c, &hb))
			fail_msg("case %zu: '%s' rejected", i, good[i].in);
		assert_string_equal(cidr_str(&c, buf, sizeof(buf)), good[i].out);
		if (hb != good[i].host_bits)
			fail_msg("case %zu: '%s': host_bits %d", i, good[i].in, hb);
	}
	assert_int_equal(cidr_parse("10.0.0.0/8", &c, NULL), 0);
	for (size_t i = 0; i < N(bad); i++)
		if (!cidr_parse(bad[i], &c, NULL))
			fail_msg("bad case %zu: '%s' accepted as %s", i, bad[i],
				 cidr_str(&c, buf, sizeof(buf)));
	assert_int_equal(cidr_parse(NULL, &c, NULL), -EINVAL);
}

/* 2. prefix x address -> match */
static const struct {
	const char *net, *addr;
	bool match;
} table[] = {
	{ "127.0.0.2/32", "127.0.0.2", true },
	{ "127.0.0.2/32", "127.0.0.1", false },
	{ "127.0.0.2/32", "127.0.0.3", false },
	{ "127.0.0.2", "127.0.0.2", true },
	{ "127.0.0.0/8", "127.255.255.255", true },
	{ "127.0.0.0/8", "128.0.0.0", false },
	{ "127.0.0.0/8", "126.255.255.255", false },
	{ "10.0.0.0/7", "11.200.0.1", true },
	{ "10.0.0.0/7", "12.0.0.0", false },
	{ "10.0.0.0/9", "10.127.255.255", true },
	{ "10.0.0.0/9", "10.128.0.0", false },
	{ "192.168.1.4/31", "192.168.1.5", true },
	{ "192.168.1.4/31", "192.168.1.6", false },
	{ "128.0.0.0/1", "200.1.1.1", true },
	{ "128.0.0.0/1", "127.255.255.255", false },
	{ "0.0.0.0/0", "1.2.3.4", true },
	{ "0.0.0.0/0", "::1", false },                  /* families never mix... */
	{ "::/0", "1.2.3.4", false },
	{ "::/0", "2001:db8::1", true },
	{ "127.0.0.1/32", "::ffff:127.0.0.1", true },   /* ...except IPv4-mapped */
	{ "127.0.0.0/8", "::ffff:127.9.9.9", true },
	{ "127.0.0.1/32", "::ffff:127.0.0.2", false },
	{ "127.0.0.1/32", "::127.0.0.1", false },       /* IPv4-compatible is not mapped */
	{ "127.0.0.1/32", "64:ff9b::7f00:1", false },   /* nor is NAT64 */
	{ "0.0.0.0/0", "::ffff:8.8.8.8", true },
	{ "::1/128", "::1", true },
	{ "::1/128", "::2", false },
	{ "::1/128", "127.0.0.1", false },
	{ "2001:db8::/32", "2001:db8:ffff:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "fe80::/10", "febf::1", true },
	{ "fe80::/10", "fec0::1", false },
	{ "2001:db8::/127", "2001:db8::1", true },
	{ "2001:db8::/127", "2001:db8::2", false },
	{ "fc00::/7", "fdff::1", true },
	{ "fc00::/7", "fe00::1", false },
};

static void test_match(void **state)
{
	struct cidr c;

	(void)state;
	for (size_t i = 0; i < N(table); i++) {
		union sockaddr_u a = ip(table[i].addr);

		assert_int_equal(cidr_parse(table[i].net, &c, NULL), 0);
		if (cidr_match(&c, &a) != table[i].match)
			fail_msg("case %zu: %s in %s: got %d", i, table[i].addr, table[i].net,
				 !table[i].match);
	}
	/* the port never matters */
	{
		union sockaddr_u a = ip("127.0.0.2");

		assert_int_equal(cidr_parse("127.0.0.2", &c, NULL), 0);
		netaddr_set_port(&a, 0);
		assert_true(cidr_match(&c, &a));
		netaddr_set_port(&a, 65535);
		assert_true(cidr_match(&c, &a));
	}
	/* an address of no family matches nothing */
	{
		union sockaddr_u none;

		memset(&none, 0, sizeof(none));
		assert_int_equal(cidr_parse("0.0.0.0/0", &c, NULL), 0);
		assert_false(cidr_match(&c, &none));
		assert_int_equal(cidr_parse("::/0", &c, NULL), 0);
		assert_false(cidr_match(&c, &none));
	}
}

static void test_list(void **state)
{
	struct cidr l[3];
	union sockaddr_u a = ip("10.1.1.1"), b = ip("2001:db8::5"), x = ip("127.0.0.1");

	(void)state;
	assert_int_equal(cidr_parse("192.168.0.0/16", &l[0], NULL), 0);
	assert_int_equal(cidr_parse("10.0.0.0/8", &l[1], NULL), 0);
	assert_int_equal(cidr_parse("2001:db8::/64", &l[2], NULL), 0);
	assert_true(cidr_match_any(l, 3, &a));
	assert_true(cidr_match_any(l, 3, &b));
	assert_false(cidr_match_any(l, 3, &x));
	assert_false(cidr_match_any(l, 1, &a));       /* only the first n count */
	assert_false(cidr_match_any(l, 0, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
