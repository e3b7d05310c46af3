/* NG reply cache: hit/miss by cookie and source IP, TTL with explicit clocks, many
 * entries, expiry freeing, oversized cookies; the entry and byte bounds (oldest evicted
 * first, exact counts), a reply larger than the cache, zero bounds, and the hash table
 * growing to its load and shrinking back. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/ng_cache.h"

#define S(lit) lit, sizeof(lit) - 1
#define SEC 1000000LL
#define UNBOUNDED (1ull << 40), (1u << 24)

static union sockaddr_u addr(const char *ip, uint16_t port)
{
	union sockaddr_u u;

	assert_int_equal(netaddr_parse_ip(ip, strlen(ip), 0, &u), 0);
	netaddr_set_port(&u, port);
	return u;
}

static void expect_hit(struct ng_cache *c, const char *cookie, const union sockaddr_u *from,
		       int64_t now, const char *want)
{
	size_t rlen = 0;
	const char *r = ng_cache_get(c, cookie, strlen(cookie), from, &rlen, now);

	if (!r)
		fail_msg("cookie '%s' at %lld: miss, want '%s'", cookie, (long long)now, want);
	assert_int_equal(rlen, strlen(want));
	assert_memory_equal(r, want, rlen);
}

static void expect_miss(struct ng_cache *c, const char *cookie, const union sockaddr_u *from,
			int64_t now)
{
	size_t rlen = 0;

	if (ng_cache_get(c, cookie, strlen(cookie), from, &rlen, now))
		fail_msg("cookie '%s' at %lld: hit, want miss", cookie, (long long)now);
}

static void test_put_get(void **state)
{
	struct ng_cache *c = ng_cache_new(30, UNBOUNDED);
	union sockaddr_u kam = addr("127.0.0.1", 5060), kam2 = addr("127.0.0.1", 40000);
	union sockaddr_u other = addr("127.0.0.2", 5060), v6 = addr("::1", 5060);
	char reply[] = "d6:result2:oke";
	int64_t t0 = 1000 * SEC;

	(void)state;
	assert_non_null(c);
	assert_int_equal(ng_cache_count(c), 0);
	expect_miss(c, "0_4477_0", &kam, t0);
	ng_cache_put(c, S("0_4477_0"), &kam, S(reply), t0);
	assert_int_equal(ng_cache_count(c), 1);
	/* the cache holds a copy */
	memset(reply, 'X', sizeof(reply) - 1);
	expect_hit(c, "0_4477_0", &kam, t0, "d6:result2:oke");
	/* another source port of the same IP is the same client (TCP vs UDP, re-bound) */
	expect_hit(c, "0_4477_0", &kam2, t0 + SEC, "d6:result2:oke");
	/* same cookie from another IP or family: a different request */
	expect_miss(c, "0_4477_0", &other, t0);
	expect_miss(c, "0_4477_0", &v6, t0);
	/* prefixes and extensions of the cookie */
	expect_miss(c, "0_4477_", &kam, t0);
	expect_miss(c, "0_4477_00", &kam, t0);
	expect_miss(c, "0_4477_1", &kam, t0);

	/* both sources may cache the same cookie independently */
	ng_cache_put(c, S("0_4477_0"), &other, S("d6:result5:othere"), t0);
	ng_cache_put(c, S("0_4477_0"), &v6, S("d6:result2:v6e"), t0);
	assert_int_equal(ng_cache_count(c), 3);
	expect_hit(c, "0_4477_0", &kam, t0, "d6:result2:oke");
	expect_hit(c, "0_4477_0", &other, t0, "d6:result5:othere");
	expect_hit(c, "0_4477_0", &v6, t0, "d6:result2:v6e");

	/* binary-safe replies, empty reply */
	ng_cache_put(c, S("bin"), &kam, "a\0b", 3, t0);
	ng_cache_put(c, S("empty"), &kam, "", 0, t0);
	{
		size_t rlen = 99;
		const char *r = ng_cache_get(c, S("bin"), &kam, &rlen, t0);
		assert_non_null(r);
		assert_int_equal(rlen, 3);
		assert_memory_equal(r, "a\0b", 3);
		r = ng_cache_get(c, S("empty"), &kam, &rlen, t0);
		assert_non_null(r);
		assert_int_equal(rlen, 0);
	}
	ng_cache_free(c);
}

static void test_ttl(void **state)
{
	struct ng_cache *c = ng_cache_new(30, UNBOUNDED);
	union sockaddr_u kam = addr("127.0.0.1", 5060);
	int64_t t0 = 5 * SEC;

	(void)state;
	ng_cache_put(c, S("a"), &kam, S("A"), t0);
	ng_cache_put(c, S("b"), &kam, S("B"), t0 + 10 * SEC);
	expect_hit(c, "a", &kam, t0 + 30 * SEC - 1, "A");
	/* get alone never hands out a stale reply, even before expire ran */
	expect_miss(c, "a", &kam, t0 + 30 * SEC);
	expect_hit(c, "b", &kam, t0 + 30 * SEC, "B");
	assert_int_equal(ng_cache_count(c), 2);

	/* expire drops exactly the entries past their TTL */
	ng_cache_expire(c, t0 + 30 * SEC - 1);
	assert_int_equal(ng_cache_count(c), 2);
	ng_cache_expire(c, t0 + 30 * SEC);
	assert_int_equal(ng_cache_count(c), 1);
	expect_hit(c, "b", &kam, t0 + 39 * SEC, "B");
	ng_cache_expire(c, t0 + 40 * SEC);
	assert_int_equal(ng_cache_count(c), 0);
	expect_miss(c, "b", &kam, t0 + 40 * SEC);

	/* re-inserting after expiry works */
	ng_cache_put(c, S("a"), &kam, S("A2"), t0 + 50 * SEC);
	expect_hit(c, "a", &kam, t0 + 50 * SEC, "A2");
	ng_cache_free(c);

	/* TTL 0: nothing is ever served */
	c = ng_cache_new(0, UNBOUNDED);
	ng_cache_put(c, S("a"), &kam, S("A"), t0);
	expect_miss(c, "a", &kam, t0);
	ng_cache_expire(c, t0);
	assert_int_equal(ng_cache_count(c), 0);
	ng_cache_free(c);
}

/* 10k entries: all retrievable, each with its own reply; expire empties the cache (ASan's
 * leak check in the SANITIZE build shows that it also frees them). */
static void test_many(void **state)
{
	enum { N = 10000 };
	struct ng_cache *c = ng_cache_new(30, UNBOUNDED);
	union sockaddr_u a = addr("10.0.0.1", 5060), b = addr("10.0.0.2", 5060);
	char cookie[32], reply[64];
	int64_t t0 = 100 * SEC;

	(void)state;
	for (unsigned i = 0; i < N; i++) {
		snprintf(cookie, sizeof(cookie), "%u_%u_0", i, i * 7);
		snprintf(reply, sizeof(reply), "d6:result2:ok1:ni%uee", i);
		/* insertion time spread over 10 s: half expire before the other half */
		ng_cache_put(c, cookie, strlen(cookie), i & 1 ? &b : &a, reply, strlen(reply),
			     t0 + (int64_t)i * 1000);
	}
	assert_int_equal(ng_cache_count(c), N);
	for (unsigned i = 0; i < N; i++) {
		snprintf(cookie, sizeof(cookie), "%u_%u_0", i, i * 7);
		snprintf(reply, sizeof(reply), "d6:result2:ok1:ni%uee", i);
		expect_hit(c, cookie, i & 1 ? &b : &a, t0 + 10 * SEC, reply);
		expect_miss(c, cookie, i & 1 ? &a : &b, t0 + 10 * SEC);
	}
	/* entries 0..4999 were put before t0 + 5 s */
	ng_cache_expire(c, t0 + 30 * SEC + 5000 * 1000);
	assert_int_equal(ng_cache_count(c), N - 5001);
	snprintf(cookie, sizeof(cookie), "%u_%u_0", 5000u, 5000u * 7);
	expect_miss(c, cookie, &a, t0 + 30 * SEC);
	snprintf(cookie, sizeof(cookie), "%u_%u_0", 5001u, 5001u * 7);
	snprintf(reply, sizeof(reply), "d6:result2:ok1:ni%uee", 5001u);
	expect_hit(c, cookie, &b, t0 + 30 * SEC + 5000 * 1000, reply);
	ng_cache_expire(c, t0 + 60 * SEC);
	assert_int_equal(ng_cache_count(c), 0);
	/* refilled after being emptied, then freed while full */
	for (unsigned i = 0; i < 100; i++) {
		snprintf(cookie, sizeof(cookie), "r%u", i);
		ng_cache_put(c, cookie, strlen(cookie), &a, S("x"), t0 + 100 * SEC);
	}
	assert_int_equal(ng_cache_count(c), 100);
	ng_cache_free(c);
}

/* Cookies longer than the key buffer are not cached (and not a crash). */
static void test_long_cookie(void **state)
{
	static char big[70000];
	struct ng_cache *c = ng_cache_new(30, UNBOUNDED);
	union sockaddr_u a = addr("127.0.0.1", 1), v6 = addr("2001:db8::1", 1);
	size_t lens[] = { 256, 490, 600, 4096, sizeof(big) };
	size_t rlen;

	(void)state;
	memset(big, 'c', sizeof(big));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ng_cache_put(c, big, lens[i], &a, S("R"), 0);
		ng_cache_put(c, big, lens[i], &v6, S("R6"), 0);
	}
	/* the NG limit (NGWIRE_COOKIE_MAX, 256) is well inside what the cache keeps */
	assert_non_null(ng_cache_get(c, big, 256, &a, &rlen, 1));
	assert_int_equal(rlen, 1);
	assert_non_null(ng_cache_get(c, big, 256, &v6, &rlen, 1));
	assert_int_equal(rlen, 2);
	assert_null(ng_cache_get(c, big, 4096, &a, &rlen, 1));
	assert_null(ng_cache_get(c, big, sizeof(big), &a, &rlen, 1));
	assert_null(ng_cache_get(c, big, sizeof(big), &v6, &rlen, 1));
	assert_true(ng_cache_count(c) < 2 * sizeof(lens) / sizeof(lens[0]));
	assert_true(ng_cache_count(c) >= 2);
	ng_cache_free(c);
	ng_cache_free(NULL);
}


static struct ng_cache_stats stats(const struct ng_cache *c)
{
	struct ng_cache_stats st;

	ng_cache_get_stats(c, &st);
	return st;
}

static void cookie_n(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "%u_%u_1", i, i * 13);
}

/* max_entries: the 101st put evicts the oldest; exactly the newest 100 answer. */
static void test_bound_entries(void **state)
{
	enum { MAX = 100, PUT = 250 };
	struct ng_cache *c = ng_cache_new(60, 1 << 30, MAX);
	union sockaddr_u a = addr("127.0.0.1", 5060);
	char ck[32], reply[48];
	struct ng_cache_stats st;

	(void)state;
	for (unsigned i = 0; i < PUT; i++) {
		cookie_n(ck, sizeof(ck), i);
		snprintf(reply, sizeof(reply), "d6:result2:ok1:ni%uee", i);
		ng_cache_put(c, ck, strlen(ck), &a, reply, strlen(reply), SEC + i);
		assert_int_equal(ng_cache_count(c), i + 1 < MAX ? i + 1 : MAX);
	}
	for (unsigned i = 0; i < PUT; i++) {
		cookie_n(ck, sizeof(ck), i);
		snprintf(reply, sizeof(reply), "d6:result2:ok1:ni%uee", i);
		if (i < PUT - MAX)
			expect_miss(c, ck, &a, 2 * SEC);
		else
			expect_hit(c, ck, &a, 2 * SEC, reply);
	}
	st = stats(c);
	assert_int_equal(st.entries, MAX);
	assert_int_equal(st.stored, PUT);
	assert_int_equal(st.evicted, PUT - MAX);
	assert_int_equal(st.expired, 0);
	assert_int_equal(st.hits, MAX);
	ng_cache_free(c);
}

/* Bytes that do not pack (so each reply is stored as it is and its cost is known). */
static void noise(char *buf, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)((seed >> 24) ? (seed >> 24) : 1);   /* no NUL: strlen() */
	}
	buf[n] = 0;
}

/* max_bytes: counted with the entry overhead; big replies push out as many old ones as
 * they need; one larger than the whole cache is not stored and evicts nothing. */
static void test_bound_bytes(void **state)
{
	union sockaddr_u a = addr("10.0.0.1", 5060);
	size_t small = ng_cache_entry_cost(8, AF_INET, 1000);
	size_t big = ng_cache_entry_cost(8, AF_INET, 3000);
	size_t max = 10 * small;
	struct ng_cache *c = ng_cache_new(60, max, 1000);
	static char r1k[1001], r3k[3001], huge[20001];
	char ck[32];
	struct ng_cache_stats st;

	(void)state;
	assert_true(small >= sizeof(r1k) - 1 + 8 + 5 && small < 1100);
	noise(r1k, sizeof(r1k) - 1, 1);
	noise(r3k, sizeof(r3k) - 1, 2);
	noise(huge, sizeof(huge) - 1, 3);
	for (unsigned i = 0; i < 25; i++) {
		snprintf(ck, sizeof(ck), "c%07u", i);          /* 8 bytes */
		ng_cache_put(c, ck, strlen(ck), &a, r1k, strlen(r1k), SEC);
		assert_true(stats(c).bytes <= max);
	}
	st = stats(c);
	assert_int_equal(st.entries, 10);
	assert_int_equal(st.bytes, max);
	assert_int_equal(st.evicted, 15);
	expect_miss(c, "c0000014", &a, SEC);
	expect_hit(c, "c0000015", &a, SEC, r1k);
	expect_hit(c, "c0000024", &a, SEC, r1k);

	/* a 3 kB reply needs room for ~3 of the 1 kB ones: the oldest go, in order */
	ng_cache_put(c, S("big00001"), &a, r3k, strlen(r3k), SEC);
	st = stats(c);
	assert_true(st.bytes <= max);
	assert_int_equal(st.entries, 10 - (big + small - 1) / small + 1);
	assert_int_equal(st.bytes, (10 - (big + small - 1) / small) * small + big);
	for (unsigned i = 15; i < 25; i++) {
		snprintf(ck, sizeof(ck), "c%07u", i);
		if (i < 15 + (big + small - 1) / small)
			expect_miss(c, ck, &a, SEC);
		else
			expect_hit(c, ck, &a, SEC, r1k);
	}
	expect_hit(c, "big00001", &a, SEC, r3k);

	/* larger than the whole cache: not stored, nothing evicted */
	st = stats(c);
	ng_cache_put(c, S("huge0001"), &a, huge, strlen(huge), SEC);
	assert_int_equal(stats(c).entries, st.entries);
	assert_int_equal(stats(c).evicted, st.evicted);
	assert_int_equal(stats(c).not_stored, st.not_stored + 1);
	expect_miss(c, "huge0001", &a, SEC);
	expect_hit(c, "big00001", &a, SEC, r3k);
	ng_cache_free(c);
}

/* A zero bound stores nothing (and says so); get on an empty cache is a miss. */
static void test_zero_bounds(void **state)
{
	union sockaddr_u a = addr("127.0.0.1", 1);
	struct ng_cache *c;

	(void)state;
	c = ng_cache_new(60, 0, 1000);
	ng_cache_put(c, S("x"), &a, S("X"), SEC);
	expect_miss(c, "x", &a, SEC);
	assert_int_equal(stats(c).not_stored, 1);
	ng_cache_free(c);
	c = ng_cache_new(60, 1 << 20, 0);
	ng_cache_put(c, S("x"), &a, S("X"), SEC);
	expect_miss(c, "x", &a, SEC);
	assert_int_equal(ng_cache_count(c), 0);
	ng_cache_free(c);
}

/* The table follows the load: it starts small, doubles so that entries <= buckets, stops
 * at the entry bound's size, and shrinks back when entries expire. Every entry stays
 * reachable across resizes. */
static void test_table_sizing(void **state)
{
	enum { MAX = 5000 };
	struct ng_cache *c = ng_cache_new(10, 1 << 30, MAX);
	union sockaddr_u a = addr("127.0.0.1", 1), b = addr("::1", 1);
	char ck[32], reply[32];
	struct ng_cache_stats st;
	size_t first;

	(void)state;
	first = stats(c).buckets;
	assert_true(first >= 16 && first <= 256);
	for (unsigned i = 0; i < 3 * MAX; i++) {
		cookie_n(ck, sizeof(ck), i);
		snprintf(reply, sizeof(reply), "r%u", i);
		ng_cache_put(c, ck, strlen(ck), i & 1 ? &a : &b, reply, strlen(reply), SEC);
		st = stats(c);
		if (st.entries > st.buckets)
			fail_msg("after %u puts: %zu entries in %zu buckets", i + 1, st.entries,
				 st.buckets);
		assert_true(st.buckets <= 8192);                /* pow2 >= MAX */
	}
	assert_int_equal(stats(c).buckets, 8192);
	for (unsigned i = 2 * MAX; i < 3 * MAX; i++) {
		cookie_n(ck, sizeof(ck), i);
		snprintf(reply, sizeof(reply), "r%u", i);
		expect_hit(c, ck, i & 1 ? &a : &b, 2 * SEC, reply);
		expect_miss(c, ck, i & 1 ? &b : &a, 2 * SEC);
	}
	ng_cache_expire(c, 11 * SEC);
	st = stats(c);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.expired, MAX);
	assert_int_equal(st.evicted, 2 * MAX);
	assert_int_equal(st.buckets, first);
	/* and grows again */
	for (unsigned i = 0; i < 1000; i++) {
		cookie_n(ck, sizeof(ck), i);
		ng_cache_put(c, ck, strlen(ck), &a, S("again"), 20 * SEC);
	}
	assert_true(stats(c).buckets >= 1000);
	cookie_n(ck, sizeof(ck), 999);
	expect_hit(c, ck, &a, 20 * SEC, "again");
	ng_cache_free(c);
}

/* The same cookie answered again after its entry was evicted: stored anew, served anew. */
static void test_reput_after_evict(void **state)
{
	struct ng_cache *c = ng_cache_new(60, 1 << 20, 2);
	union sockaddr_u a = addr("127.0.0.1", 1);

	(void)state;
	ng_cache_put(c, S("a"), &a, S("A1"), SEC);
	ng_cache_put(c, S("b"), &a, S("B"), SEC);
	ng_cache_put(c, S("c"), &a, S("C"), SEC);
	expect_miss(c, "a", &a, SEC);
	ng_cache_put(c, S("a"), &a, S("A2"), SEC);
	expect_hit(c, "a", &a, SEC, "A2");
	expect_miss(c, "b", &a, SEC);
	expect_hit(c, "c", &a, SEC, "C");
	assert_int_equal(ng_cache_count(c), 2);
	ng_cache_free(c);
}

/* An NG reply as the relay writes them: an offer's SDP, or a delete's statistics. */
static size_t offer_reply(char *buf, size_t cap, unsigned port)
{
	char sdp[1024];
	int n = snprintf(sdp, sizeof(sdp),
		"v=0\r\no=- 1939969165 1 IN IP4 127.0.0.11\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
		"t=0 0\r\nm=audio %u RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
		"a=fmtp:101 0-15\r\na=sendrecv\r\na=rtcp:%u\r\na=ptime:20\r\n",
		port, port + 1);

	return (size_t)snprintf(buf, cap, "d3:sdp%d:%s6:result2:oke", n, sdp);
}

/* Replies that pack are stored in fewer bytes than their own and come back byte for
 * byte; short and incompressible ones are stored as they are. */
static void test_packed(void **state)
{
	struct ng_cache *c = ng_cache_new(60, 1 << 30, 1 << 20);
	union sockaddr_u a = addr("127.0.0.1", 5060);
	char ck[32], reply[2048], raw[1501];
	size_t n, sum = 0;
	struct ng_cache_stats st;

	(void)state;
	for (unsigned i = 0; i < 200; i++) {
		cookie_n(ck, sizeof(ck), i);
		n = offer_reply(reply, sizeof(reply), 30000 + 2 * i);
		ng_cache_put(c, ck, strlen(ck), &a, reply, n, SEC);
		sum += n;
	}
	st = stats(c);
	assert_int_equal(st.entries, 200);
	assert_int_equal(st.reply_bytes, sum);
	/* an offer reply of ~330 bytes: stored (header and key included) in under 60 % */
	assert_true(st.bytes < sum * 6 / 10);
	for (unsigned i = 0; i < 200; i++) {
		cookie_n(ck, sizeof(ck), i);
		offer_reply(reply, sizeof(reply), 30000 + 2 * i);
		expect_hit(c, ck, &a, 2 * SEC, reply);
	}

	noise(raw, sizeof(raw) - 1, 7);
	ng_cache_put(c, S("noise"), &a, raw, strlen(raw), SEC);
	assert_int_equal(stats(c).bytes - st.bytes, ng_cache_entry_cost(5, AF_INET, strlen(raw)));
	expect_hit(c, "noise", &a, 2 * SEC, raw);
	ng_cache_put(c, S("short"), &a, S("d6:result2:oke"), SEC);
	expect_hit(c, "short", &a, 2 * SEC, "d6:result2:oke");
	ng_cache_free(c);
}

/* Emptied blocks are kept for reuse while the cache holds anything and all go when it
 * is empty; a reply still reads back after its block's neighbours expired. */
static void test_blocks_reused(void **state)
{
	struct ng_cache *c = ng_cache_new(60, 1 << 30, 1 << 20);
	union sockaddr_u a = addr("127.0.0.1", 5060);
	char ck[32], reply[3001];
	struct ng_cache_stats st;

	(void)state;
	/* ~3 MB of incompressible replies over 30 s, then more over the next 60 s */
	for (unsigned i = 0; i < 3000; i++) {
		cookie_n(ck, sizeof(ck), i);
		noise(reply, 1000, i);
		ng_cache_put(c, ck, strlen(ck), &a, reply, 1000, SEC + i * (30 * SEC / 3000));
	}
	for (unsigned i = 3000; i < 4000; i++) {
		cookie_n(ck, sizeof(ck), i);
		noise(reply, 1000, i);
		ng_cache_put(c, ck, strlen(ck), &a, reply, 1000, 70 * SEC + (i - 3000) * 10000);
	}
	st = stats(c);
	assert_true(st.entries >= 1000 && st.entries < 3000);
	cookie_n(ck, sizeof(ck), 3999);
	noise(reply, 1000, 3999);
	expect_hit(c, ck, &a, 81 * SEC, reply);
	ng_cache_expire(c, 200 * SEC);
	assert_int_equal(ng_cache_count(c), 0);
	assert_int_equal(stats(c).bytes, 0);
	assert_int_equal(stats(c).reply_bytes, 0);
	/* and it fills again from nothing */
	ng_cache_put(c, S("again"), &a, reply, 1000, 201 * SEC);
	expect_hit(c, "again", &a, 202 * SEC, reply);
	ng_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_long_cookie),
		cmocka_unit_test(test_bound_entries),
		cmocka_unit_test(test_bound_bytes),
		cmocka_unit_test(test_zero_bounds),
		cmocka_unit_test(test_table_sizing),
		cmocka_unit_test(test_reput_after_evict),
		cmocka_unit_test(test_packed),
		cmocka_unit_test(test_blocks_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
