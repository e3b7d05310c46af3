/* Port pair pool: range rounding, exhaustion, random draws, quarantine of released
 * pairs, bad releases, counters,
 * socket binding on 127.0.0.1 (skipping busy pairs), and a full 16-bit range. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../daemon/ports.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct init_vec {
	uint16_t min, max;
	int ret;
	uint16_t eff_min, eff_max;      /* the pool's rounded range */
	unsigned pairs;
};

static const struct init_vec init_vecs[] = {
	/*  0 */ { 30000, 30009, 0, 30000, 30009, 5 },
	/*  1 */ { 30001, 30010, 0, 30002, 30009, 4 },      /* odd min rounded up */
	/*  2 */ { 30000, 30010, 0, 30000, 30009, 5 },      /* 30010 has no partner */
	/*  3 */ { 30000, 30001, 0, 30000, 30001, 1 },
	/*  4 */ { 30001, 30003, 0, 30002, 30003, 1 },
	/*  5 */ { 65534, 65535, 0, 65534, 65535, 1 },
	/*  6 */ { 2, 65535, 0, 2, 65535, 32767 },          /* 65534 ports */
	/*  7 */ { 1, 65535, 0, 2, 65535, 32767 },
	/*  8 */ { 30000, 30000, -EINVAL, 0, 0, 0 },
	/*  9 */ { 30001, 30002, -EINVAL, 0, 0, 0 },        /* only 30002 after rounding */
	/* 10 */ { 30002, 30001, -EINVAL, 0, 0, 0 },
	/* 11 */ { 30001, 30001, -EINVAL, 0, 0, 0 },
	/* 12 */ { 65535, 65535, -EINVAL, 0, 0, 0 },        /* rounding up overflows */
	/* 13 */ { 40000, 20000, -EINVAL, 0, 0, 0 },
};

static void test_init(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(init_vecs); i++) {
		const struct init_vec *v = &init_vecs[i];
		struct port_pool p;
		int ret = port_pool_init(&p, v->min, v->max);

		if (ret != v->ret)
			fail_msg("init[%zu] %u-%u: got %d want %d", i, v->min, v->max, ret, v->ret);
		if (ret)
			continue;
		if (p.min != v->eff_min || p.max != v->eff_max)
			fail_msg("init[%zu]: range %u-%u want %u-%u", i, p.min, p.max,
				 v->eff_min, v->eff_max);
		assert_int_equal(port_pool_total_pairs(&p), v->pairs);
		assert_int_equal(port_pool_free_pairs(&p), v->pairs);
		port_pool_destroy(&p);
	}
}

/* Drain every pool of the table: each pair once, RTP even, RTCP = RTP + 1 in range. */
static void test_get_until_full(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(init_vecs); i++) {
		const struct init_vec *v = &init_vecs[i];
		struct port_pool p;
		uint8_t *seen;
		uint16_t port;
		unsigned n = 0;
		int ret;

		if (v->ret)
			continue;
		assert_int_equal(port_pool_init(&p, v->min, v->max), 0);
		seen = test_calloc(65536, 1);
		while ((ret = port_pool_get(&p, &port)) == 0) {
			if (port & 1)
				fail_msg("pool[%zu]: odd RTP port %u", i, port);
			if (port < v->min || port + 1 > v->max)
				fail_msg("pool[%zu]: pair %u/%u outside %u-%u", i, port, port + 1,
					 v->min, v->max);
			if (seen[port]++)
				fail_msg("pool[%zu]: port %u handed out twice", i, port);
			n++;
			assert_int_equal(port_pool_free_pairs(&p), v->pairs - n);
		}
		assert_int_equal(ret, -ENOSPC);
		assert_int_equal(n, v->pairs);
		assert_int_equal(port_pool_free_pairs(&p), 0);
		assert_int_equal(port_pool_total_pairs(&p), v->pairs);
		/* still full on a second try */
		assert_int_equal(port_pool_get(&p, &port), -ENOSPC);
		test_free(seen);
		port_pool_destroy(&p);
	}
}

/* Draws are random: no two pools hand out the same sequence, consecutive draws are
 * rarely neighbours (a sequential allocator gives neighbours every time), and every pair
 * is still reachable. */
static void test_random(void **state)
{
	struct port_pool p, q;
	uint16_t a[64], b[64];
	unsigned same = 0, neighbours = 0;

	(void)state;
	assert_int_equal(port_pool_init(&p, 30000, 39999), 0);
	assert_int_equal(port_pool_init(&q, 30000, 39999), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(a); i++) {
		assert_int_equal(port_pool_get(&p, &a[i]), 0);
		assert_int_equal(port_pool_get(&q, &b[i]), 0);
		same += a[i] == b[i];
		if (i && (a[i] == a[i - 1] + 2 || a[i] + 2 == a[i - 1]))
			neighbours++;
	}
	/* 5000 pairs: the expected number of coincidences is about 0.013 each */
	if (same > 3 || neighbours > 3)
		fail_msg("draws look predictable: %u equal, %u neighbours", same, neighbours);
	port_pool_destroy(&p);
	port_pool_destroy(&q);
}

/* A released pair waits for an eighth of the range to be released after it before it
 * can be drawn again; when nothing else is free, it is drawn at once. */
static void test_quarantine(void **state)
{
	struct port_pool p;
	uint16_t held[16], port, first;

	(void)state;
	assert_int_equal(port_pool_init(&p, 30000, 30031), 0);  /* 16 pairs, 2 wait */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(port_pool_get(&p, &held[i]), 0);
	assert_int_equal(port_pool_get(&p, &port), -ENOSPC);
	/* only one released: nothing else free, so it comes back */
	first = held[0];
	assert_int_equal(port_pool_put(&p, first), 0);
	assert_int_equal(port_pool_free_pairs(&p), 1);
	assert_int_equal(port_pool_get(&p, &port), 0);
	assert_int_equal(port, first);
	/* release held[0..2]: held[0] leaves the FIFO when held[2] enters it */
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(port_pool_put(&p, held[i]), 0);
	assert_int_equal(port_pool_free_pairs(&p), 3);
	assert_int_equal(port_pool_get(&p, &port), 0);
	assert_int_equal(port, held[0]);
	/* the other two are next, oldest first, once the draw set is empty */
	assert_int_equal(port_pool_get(&p, &port), 0);
	assert_int_equal(port, held[1]);
	assert_int_equal(port_pool_get(&p, &port), 0);
	assert_int_equal(port, held[2]);
	assert_int_equal(port_pool_get(&p, &port), -ENOSPC);
	port_pool_destroy(&p);
}

static void test_bad_put(void **state)
{
	static const uint16_t foreign[] = {
		0, 1, 29998, 29999, 30001, 30003, 30009, 30010, 65535,
	};
	struct port_pool p;
	uint16_t a, b;

	(void)state;
	assert_int_equal(port_pool_init(&p, 30000, 30009), 0);
	/* nothing taken yet: no put is valid */
	assert_int_equal(port_pool_put(&p, 30000), -EINVAL);
	assert_int_equal(port_pool_free_pairs(&p), 5);
	assert_int_equal(port_pool_get(&p, &a), 0);
	assert_int_equal(port_pool_get(&p, &b), 0);
	assert_int_equal(port_pool_free_pairs(&p), 3);
	for (size_t i = 0; i < ARRAY_SIZE(foreign); i++) {
		int ret = port_pool_put(&p, foreign[i]);
		if (ret != -EINVAL)
			fail_msg("put(%u): got %d want -EINVAL", foreign[i], ret);
	}
	/* a pair inside the range that is free (never taken) */
	for (uint16_t f = 30000; f < 30010; f += 2)
		if (f != a && f != b)
			assert_int_equal(port_pool_put(&p, f), -EINVAL);
	/* the RTCP port of a taken pair is not the pair's name */
	assert_int_equal(port_pool_put(&p, (uint16_t)(a + 1)), -EINVAL);
	assert_int_equal(port_pool_free_pairs(&p), 3);
	assert_int_equal(port_pool_put(&p, a), 0);
	assert_int_equal(port_pool_put(&p, a), -EINVAL);        /* double put */
	assert_int_equal(port_pool_free_pairs(&p), 4);
	assert_int_equal(port_pool_put(&p, b), 0);
	assert_int_equal(port_pool_put(&p, b), -EINVAL);
	assert_int_equal(port_pool_free_pairs(&p), 5);
	assert_int_equal(port_pool_total_pairs(&p), 5);
	/* after the bad puts the pool still hands out each pair exactly once */
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(port_pool_get(&p, &a), 0);
	assert_int_equal(port_pool_get(&p, &a), -ENOSPC);
	port_pool_destroy(&p);
}

/* O(1) get/put: a full 16-bit range, one million operations (no timing asserts; a
 * linear scan per operation would make this test take minutes). */
static void test_big(void **state)
{
	struct port_pool p;
	uint16_t *held;
	unsigned nheld = 0;
	uint32_t rnd = 12345;

	(void)state;
	assert_int_equal(port_pool_init(&p, 2, 65535), 0);
	assert_int_equal(port_pool_total_pairs(&p), 32767);
	held = test_malloc(32767 * sizeof(*held));
	for (unsigned op = 0; op < 1000000; op++) {
		rnd = rnd * 1103515245u + 12345u;
		/* take more than release until about half the pool is out */
		if (nheld && ((rnd >> 16) % 3 == 0 || nheld == 32767)) {
			unsigned k = (rnd >> 8) % nheld;
			assert_int_equal(port_pool_put(&p, held[k]), 0);
			held[k] = held[--nheld];
		} else if (nheld < 16000) {
			assert_int_equal(port_pool_get(&p, &held[nheld]), 0);
			assert_true(held[nheld] >= 2 && !(held[nheld] & 1));
			nheld++;
		} else {
			assert_int_equal(port_pool_put(&p, held[--nheld]), 0);
		}
		if (port_pool_free_pairs(&p) != 32767 - nheld)
			fail_msg("op %u: free %u want %u", op, port_pool_free_pairs(&p),
				 32767 - nheld);
	}
	while (nheld)
		assert_int_equal(port_pool_put(&p, held[--nheld]), 0);
	assert_int_equal(port_pool_free_pairs(&p), 32767);
	test_free(held);
	port_pool_destroy(&p);
}

/* ---- sockets ---- */

static int bind_lo(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An even base where [base, base + n) is free on 127.0.0.1 right now. */
static uint16_t free_range(unsigned n)
{
	for (unsigned base = 41000 + (unsigned)(getpid() % 500) * 16; base < 60000; base += 64) {
		unsigned k;
		for (k = 0; k < n; k++) {
			int fd = bind_lo((uint16_t)(base + k));
			if (fd < 0)
				break;
			close(fd);
		}
		if (k == n)
			return (uint16_t)base;
	}
	fail_msg("no free port range of %u", n);
	return 0;
}

static uint16_t sock_port(int fd, uint32_t *addr)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &l), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	*addr = ntohl(sin.sin_addr.s_addr);
	return ntohs(sin.sin_port);
}

static void lo_addr(union sockaddr_u *u)
{
	memset(u, 0, sizeof(*u));
	u->sin.sin_family = AF_INET;
	u->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u->sin.sin_port = htons(9);     /* ignored by port_pair_open */
}

static void test_pair_open(void **state)
{
	uint16_t base = free_range(8), rtp;
	struct port_pool p;
	union sockaddr_u lo;
	int fds[2] = { -1, -1 };
	uint32_t addr;

	(void)state;
	lo_addr(&lo);
	assert_int_equal(port_pool_init(&p, base, (uint16_t)(base + 7)), 0);
	assert_int_equal(port_pair_open(&p, &lo, fds, &rtp), 0);
	assert_true(rtp >= base && rtp <= base + 6 && !((rtp - base) & 1));
	assert_int_equal(sock_port(fds[0], &addr), rtp);
	assert_int_equal(addr, INADDR_LOOPBACK);
	assert_int_equal(sock_port(fds[1], &addr), rtp + 1);
	assert_int_equal(addr, INADDR_LOOPBACK);
	assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
	assert_int_equal(port_pool_free_pairs(&p), 3);
	/* the ports really are taken */
	assert_int_equal(bind_lo(rtp), -1);
	assert_int_equal(bind_lo((uint16_t)(rtp + 1)), -1);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(port_pool_put(&p, rtp), 0);
	port_pool_destroy(&p);
}

/* Another socket on the RTP port of the next pair, then on the RTCP port of the one
 * after: both pairs are skipped, stay free, and go to the back of the queue. */
static void test_pair_open_skips_busy(void **state)
{
	uint16_t base = free_range(8), rtp, port;
	struct port_pool p;
	union sockaddr_u lo;
	int fds[2], blk_rtp, blk_rtcp;
	uint32_t addr;

	(void)state;
	lo_addr(&lo);
	assert_int_equal(port_pool_init(&p, base, (uint16_t)(base + 7)), 0);
	blk_rtp = bind_lo(base);
	blk_rtcp = bind_lo((uint16_t)(base + 3));
	assert_true(blk_rtp >= 0 && blk_rtcp >= 0);

	/* whatever the draw order, only a pair nobody holds is opened */
	for (unsigned round = 0; round < 8; round++) {
		uint16_t left[3];

		assert_int_equal(port_pair_open(&p, &lo, fds, &rtp), 0);
		if (rtp != base + 4 && rtp != base + 6)
			fail_msg("round %u: opened busy pair %u", round, rtp);
		assert_int_equal(sock_port(fds[0], &addr), rtp);
		assert_int_equal(sock_port(fds[1], &addr), rtp + 1);
		close(fds[0]);
		close(fds[1]);
		/* 4 pairs: one taken, the busy ones back in the pool */
		assert_int_equal(port_pool_free_pairs(&p), 3);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(port_pool_get(&p, &left[i]), 0);
		assert_int_equal(port_pool_get(&p, &port), -ENOSPC);
		assert_int_equal(port_pool_put(&p, rtp), 0);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(port_pool_put(&p, left[i]), 0);
	}
	close(blk_rtp);
	close(blk_rtcp);
	port_pool_destroy(&p);
}

/* Every pair held by someone else: -ENOSPC, and no pair leaks out of the pool. */
static void test_pair_open_all_busy(void **state)
{
	uint16_t base = free_range(6), rtp = 0;
	struct port_pool p;
	union sockaddr_u lo;
	int fds[2] = { -1, -1 }, blk[3];

	(void)state;
	lo_addr(&lo);
	assert_int_equal(port_pool_init(&p, base, (uint16_t)(base + 5)), 0);
	blk[0] = bind_lo(base);                         /* RTP of pair 0 */
	blk[1] = bind_lo((uint16_t)(base + 3));         /* RTCP of pair 1 */
	blk[2] = bind_lo((uint16_t)(base + 4));         /* RTP of pair 2 */
	for (int i = 0; i < 3; i++)
		assert_true(blk[i] >= 0);
	assert_int_equal(port_pair_open(&p, &lo, fds, &rtp), -ENOSPC);
	assert_int_equal(port_pool_free_pairs(&p), 3);
	/* freeing one busy pair makes it usable */
	close(blk[1]);
	assert_int_equal(port_pair_open(&p, &lo, fds, &rtp), 0);
	assert_int_equal(rtp, base + 2);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(port_pool_free_pairs(&p), 2);
	close(blk[0]);
	close(blk[2]);
	port_pool_destroy(&p);

	/* pool exhausted by its own users */
	assert_int_equal(port_pool_init(&p, base, (uint16_t)(base + 1)), 0);
	assert_int_equal(port_pool_get(&p, &rtp), 0);
	assert_int_equal(port_pair_open(&p, &lo, fds, &rtp), -ENOSPC);
	port_pool_destroy(&p);
}

/* An error other than "port in use" is the caller's problem, not a busy pair: it comes
 * back at once and the pool keeps all its pairs. (Binding 192.0.2.1, which is not a
 * local address, sends nothing.) */
static void test_pair_open_bad_address(void **state)
{
	struct port_pool p;
	union sockaddr_u bad;
	int fds[2] = { -1, -1 };
	uint16_t rtp = 0;

	(void)state;
	assert_int_equal(netaddr_parse("192.0.2.1", 0, false, &bad), 0);
	assert_int_equal(port_pool_init(&p, 30000, 30009), 0);
	assert_int_equal(port_pair_open(&p, &bad, fds, &rtp), -EADDRNOTAVAIL);
	assert_int_equal(port_pool_free_pairs(&p), 5);
	assert_int_equal(fds[0], -1);
	port_pool_destroy(&p);
}

/* The same on ::1, when the host has IPv6 loopback. */
static void test_pair_open_v6(void **state)
{
	uint16_t base = free_range(4), rtp;
	struct port_pool p;
	union sockaddr_u lo6;
	struct sockaddr_in6 sin6;
	socklen_t l = sizeof(sin6);
	int fds[2], probe;
	int ret;

	(void)state;
	assert_int_equal(netaddr_parse("[::1]:9", 0, false, &lo6), 0);
	probe = socket(AF_INET6, SOCK_DGRAM, 0);
	if (probe < 0 || bind(probe, &lo6.sa, sizeof(lo6.sin6)) < 0) {
		if (probe >= 0)
			close(probe);
		skip();
	}
	close(probe);
	assert_int_equal(port_pool_init(&p, base, (uint16_t)(base + 3)), 0);
	ret = port_pair_open(&p, &lo6, fds, &rtp);
	assert_int_equal(ret, 0);
	for (int i = 0; i < 2; i++) {
		l = sizeof(sin6);
		assert_int_equal(getsockname(fds[i], (struct sockaddr *)&sin6, &l), 0);
		assert_int_equal(sin6.sin6_family, AF_INET6);
		assert_true(IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr));
		assert_int_equal(ntohs(sin6.sin6_port), rtp + i);
		close(fds[i]);
	}
	port_pool_destroy(&p);
}

/* Restore: a given pair, from the free list or the quarantine; not twice; not one a
 * foreign socket holds (and then it is free again); not outside the range. */
static void test_pair_open_at(void **state)
{
	struct port_pool p;
	union sockaddr_u lo;
	uint16_t port;
	int fds[2], fds2[2], blocker;

	(void)state;
	assert_int_equal(netaddr_parse("127.0.0.1", 0, false, &lo), 0);
	assert_int_equal(port_pool_init(&p, 47100, 47119), 0);  /* 10 pairs, quarantine 1 */
	assert_int_equal(port_pair_open_at(&p, &lo, 47104, fds), 0);
	assert_int_equal(port_pool_free_pairs(&p), 9);
	assert_int_equal(port_pair_open_at(&p, &lo, 47104, fds2), -EADDRINUSE);
	assert_int_equal(port_pair_open_at(&p, &lo, 47105, fds2), -EINVAL);     /* odd */
	assert_int_equal(port_pair_open_at(&p, &lo, 47120, fds2), -EINVAL);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(port_pool_put(&p, 47104), 0);          /* into the quarantine */
	assert_int_equal(port_pair_open_at(&p, &lo, 47104, fds), 0);
	assert_int_equal(port_pool_free_pairs(&p), 9);
	close(fds[0]);
	close(fds[1]);
	/* a foreign socket on the RTCP port: refused, the pair is not lost */
	blocker = socket(AF_INET, SOCK_DGRAM, 0);
	union sockaddr_u b = lo;
	netaddr_set_port(&b, 47111);
	assert_int_equal(bind(blocker, &b.sa, netaddr_len(&b)), 0);
	assert_int_equal(port_pair_open_at(&p, &lo, 47110, fds), -EADDRINUSE);
	assert_int_equal(port_pool_free_pairs(&p), 9);
	close(blocker);
	assert_int_equal(port_pair_open_at(&p, &lo, 47110, fds), 0);
	close(fds[0]);
	close(fds[1]);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(port_pool_get(&p, &port), 0);
	assert_int_equal(port_pool_get(&p, &port), -ENOSPC);
	port_pool_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_get_until_full),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_quarantine),
		cmocka_unit_test(test_bad_put),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_pair_open),
		cmocka_unit_test(test_pair_open_skips_busy),
		cmocka_unit_test(test_pair_open_all_busy),
		cmocka_unit_test(test_pair_open_bad_address),
		cmocka_unit_test(test_pair_open_v6),
		cmocka_unit_test(test_pair_open_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
