/* kmod: stream -> ABI conversion (byte order, families, padding), reading a counter slot
 * (the mismatch record under its sequence counter, with a writer that follows the
 * module's protocol) and behaviour without the module (the host kernel has none; the
 * module itself is tested in t/kernel). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/kmod.h"

static union sockaddr_u addr(const char *s)
{
	union sockaddr_u a;

	assert_int_equal(netaddr_parse(s, 0, false, &a), 0);
	return a;
}

static void test_ipv4(void **state)
{
	struct kmod_stream s = { .flags = SLUICE_SF_SET_TOS, .tos = 0xb8 };
	struct sluice_stream abi;
	static const uint8_t zero[12];

	(void)state;
	s.local = addr("10.0.1.1:30000");
	s.expect_src.sa.sa_family = AF_UNSPEC;
	s.out_src = addr("10.0.2.1:30002");
	s.out_dst = addr("192.0.2.7:40002");
	assert_int_equal(kmod_stream_to_abi(&s, &abi), 0);
	assert_int_equal(abi.local.family, SLUICE_FAMILY_INET);
	assert_int_equal(abi.local.port, htons(30000));
	assert_memory_equal(abi.local.addr, "\x0a\x00\x01\x01", 4);
	assert_memory_equal(abi.local.addr + 4, zero, 12);
	assert_int_equal(abi.expect_src.family, SLUICE_FAMILY_NONE);
	assert_int_equal(abi.expect_src.port, 0);
	assert_memory_equal(abi.out_dst.addr, "\xc0\x00\x02\x07", 4);
	assert_int_equal(abi.out_dst.port, htons(40002));
	assert_int_equal(abi.flags, SLUICE_SF_SET_TOS);
	assert_int_equal(abi.tos, 0xb8);
	assert_int_equal(abi.pad[0] | abi.pad[1] | abi.pad[2], 0);
	assert_int_equal(abi.clock_rate | abi.jitter16, 0);
	assert_int_equal(abi.local.pad0 | abi.local.pad1, 0);
}

static void test_ipv6_and_bridging(void **state)
{
	struct kmod_stream s = { 0 };
	struct sluice_stream abi;

	(void)state;
	s.local = addr("[fd01::1]:30000");
	s.expect_src = addr("[fd01::2]:40000");
	s.out_src = addr("10.0.2.1:30002");
	s.out_dst = addr("10.0.2.2:40002");
	assert_int_equal(kmod_stream_to_abi(&s, &abi), 0);
	assert_int_equal(abi.local.family, SLUICE_FAMILY_INET6);
	assert_int_equal(abi.expect_src.family, SLUICE_FAMILY_INET6);
	assert_int_equal(abi.expect_src.port, htons(40000));
	assert_int_equal(abi.expect_src.addr[0], 0xfd);
	assert_int_equal(abi.expect_src.addr[15], 2);
	assert_int_equal(abi.out_src.family, SLUICE_FAMILY_INET);
}

static void test_bad_family(void **state)
{
	struct kmod_stream s = { 0 };
	struct sluice_stream abi;

	(void)state;
	s.local = addr("10.0.1.1:30000");
	s.out_src = addr("10.0.2.1:30002");
	/* out_dst left AF_UNSPEC: only expect_src may be "any" */
	assert_int_equal(kmod_stream_to_abi(&s, &abi), -EINVAL);
	s.out_dst = addr("10.0.2.2:1");
	s.local.sa.sa_family = AF_UNIX;
	assert_int_equal(kmod_stream_to_abi(&s, &abi), -EINVAL);
}

/* ---- reading a slot: struct sluice_stats as the module fills it ---- */

static void test_read_no_mismatch(void **state)
{
	struct sluice_stats st = { .packets = 7, .bytes = 700, .errors = 1, .mismatch = 0,
				   .last_ns = 99, .gen = 3, .active = 1 };
	struct kmod_counters c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	kmod_read_stats(&st, &c);
	assert_int_equal(c.packets, 7);
	assert_int_equal(c.bytes, 700);
	assert_int_equal(c.errors, 1);
	assert_int_equal(c.last_ns, 99);
	assert_int_equal(c.gen, 3);
	assert_true(c.active);
	assert_int_equal(c.last_mismatch.sa.sa_family, AF_UNSPEC);
	assert_int_equal(c.last_mismatch_ns, 0);
}

static void test_read_mismatch_v4_v6(void **state)
{
	struct sluice_stats st = { .mismatch = 5, .mismatch_seq = 4, .mismatch_ns = 123456789 };
	struct kmod_counters c;
	union sockaddr_u want = addr("10.0.1.66:4000");

	(void)state;
	st.mismatch_src.family = SLUICE_FAMILY_INET;
	st.mismatch_src.port = htons(4000);
	memcpy(st.mismatch_src.addr, "\x0a\x00\x01\x42", 4);
	kmod_read_stats(&st, &c);
	assert_int_equal(c.mismatch, 5);
	assert_true(netaddr_eq(&c.last_mismatch, &want));
	assert_int_equal(c.last_mismatch_ns, 123456789);

	want = addr("[fd01::66]:4002");
	st.mismatch_src.family = SLUICE_FAMILY_INET6;
	st.mismatch_src.port = htons(4002);
	memcpy(st.mismatch_src.addr, &want.sin6.sin6_addr, 16);
	kmod_read_stats(&st, &c);
	assert_int_equal(c.last_mismatch.sa.sa_family, AF_INET6);
	assert_true(netaddr_eq(&c.last_mismatch, &want));

	st.mismatch_src.family = 5;	/* not a family the module writes: none */
	kmod_read_stats(&st, &c);
	assert_int_equal(c.last_mismatch.sa.sa_family, AF_UNSPEC);
	assert_int_equal(c.last_mismatch_ns, 0);
}

/* A writer that never finishes (odd counter): the read gives up, bounded, with none. */
static void test_read_mismatch_busy(void **state)
{
	struct sluice_stats st = { .mismatch = 1, .mismatch_seq = 7, .mismatch_ns = 5 };
	struct kmod_counters c;

	(void)state;
	st.mismatch_src.family = SLUICE_FAMILY_INET;
	st.mismatch_src.port = htons(1);
	st.mismatch_src.addr[0] = 10;
	kmod_read_stats(&st, &c);
	assert_int_equal(c.mismatch, 1);
	assert_int_equal(c.last_mismatch.sa.sa_family, AF_UNSPEC);
	assert_int_equal(c.last_mismatch_ns, 0);
}

/* The module's write side (kernel-module/stats.c), in userspace atomics: record i has
 * address i, port i & 0xffff and time i, so a torn copy shows as a mismatch. */
struct writer {
	struct sluice_stats *st;
	volatile bool stop;
	uint32_t records;	/* atomic */
};

/* Between records the writer waits a little, as packets arrive spaced (a writer that never
 * pauses starves any seqlock reader, by design of the protocol). */
static void *writer_run(void *arg)
{
	struct writer *w = arg;

	for (uint32_t i = 1; !w->stop; i++) {
		uint32_t s = __atomic_load_n(&w->st->mismatch_seq, __ATOMIC_RELAXED);
		uint32_t a = htonl(i);

		if ((s & 1) || !__atomic_compare_exchange_n(&w->st->mismatch_seq, &s, s + 1, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			continue;
		w->st->mismatch_src.family = SLUICE_FAMILY_INET;
		w->st->mismatch_src.port = htons((uint16_t)i);
		memcpy(w->st->mismatch_src.addr, &a, 4);
		for (volatile int slow = 0; slow < 30; slow++)	/* widen the window */
			;
		__atomic_store_n(&w->st->mismatch_ns, i, __ATOMIC_RELAXED);
		__atomic_store_n(&w->st->mismatch_seq, s + 2, __ATOMIC_RELEASE);
		__atomic_store_n(&w->records, i, __ATOMIC_RELAXED);
		for (volatile int gap = 0; gap < 100; gap++)	/* the next packet */
			;
	}
	return NULL;
}

static void test_read_mismatch_concurrent(void **state)
{
	static struct sluice_stats st;
	struct writer w = { .st = &st };
	unsigned int seen = 0, none = 0;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, writer_run, &w), 0);
	while (!__atomic_load_n(&w.records, __ATOMIC_RELAXED))
		sched_yield();
	/* enough reads to mean something, however busy the machine (no timing assert) */
	for (long n = 0; n < 50000000 && (n < 200000 || seen < 20000 ||
					   __atomic_load_n(&w.records, __ATOMIC_RELAXED) < 20000);
	     n++) {
		struct kmod_counters c;
		uint32_t a;

		kmod_read_stats(&st, &c);
		if (c.last_mismatch.sa.sa_family == AF_UNSPEC) {
			none++;
			continue;
		}
		a = ntohl(c.last_mismatch.sin.sin_addr.s_addr);
		assert_int_equal(a, c.last_mismatch_ns);
		assert_int_equal(ntohs(c.last_mismatch.sin.sin_port), (uint16_t)a);
		seen++;
	}
	w.stop = true;
	pthread_join(t, NULL);
	print_message("concurrent: %u consistent records, %u none, %u writes\n", seen, none,
		      w.records);
	assert_true(seen >= 20000);
}

static void test_quality_to_abi(void **state)
{
	struct kmod_stream s = { .flags = SLUICE_SF_QUALITY, .clock_rate = 48000,
				 .jitter16 = 3200 };
	struct sluice_stream abi;

	(void)state;
	s.local = addr("10.0.1.1:30000");
	s.out_src = addr("10.0.2.1:30002");
	s.out_dst = addr("192.0.2.7:40002");
	assert_int_equal(kmod_stream_to_abi(&s, &abi), 0);
	assert_int_equal(abi.flags, SLUICE_SF_QUALITY);
	assert_int_equal(abi.clock_rate, 48000);
	assert_int_equal(abi.jitter16, 3200);
}

/* The quality line as the module leaves it: one consistent copy; an odd counter (a
 * writer that never finishes) makes the read give up, bounded. */
static void test_read_quality(void **state)
{
	static struct sluice_stats st;
	struct quality_seg seg;

	(void)state;
	st.quality = (struct sluice_quality){
		.seq = 8, .epoch = 2, .ssrc = 0xabcdef01, .ext_max = 0x10005, .base_seq = 65000,
		.pt = 8, .clock_rate = 8000, .received = 530, .duplicates = 3, .reordered = 4,
		.jitter16 = 1600, .busy = 1,
	};
	memset(&seg, 0xa5, sizeof(seg));
	assert_int_equal(kmod_read_quality_stats(&st, &seg), 0);
	assert_int_equal(seg.epoch, 2);
	assert_int_equal(seg.ssrc, 0xabcdef01);
	assert_int_equal(seg.ext_max - seg.base_seq + 1, 542);
	assert_int_equal(seg.pt, 8);
	assert_int_equal(seg.clock, 8000);
	assert_int_equal(seg.received, 530);
	assert_int_equal(seg.duplicates, 3);
	assert_int_equal(seg.reordered, 4);
	assert_int_equal(seg.jitter16, 1600);
	assert_int_equal(seg.busy, 1);
	st.quality.seq = 9;
	assert_int_equal(kmod_read_quality_stats(&st, &seg), -EAGAIN);
}

/* The module's write side of the quality line (kernel-module/quality.c), in userspace
 * atomics: write i sets every field from i, so a torn copy shows as fields that differ. */
static void *qwriter_run(void *arg)
{
	struct writer *w = arg;
	struct sluice_quality *q = &w->st->quality;

	for (uint32_t i = 1; !w->stop; i++) {
		uint32_t s = __atomic_load_n(&q->seq, __ATOMIC_RELAXED);

		if ((s & 1) || !__atomic_compare_exchange_n(&q->seq, &s, s + 1, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			continue;
		q->epoch = q->ssrc = q->ext_max = q->jitter16 = i;
		for (volatile int slow = 0; slow < 30; slow++)	/* widen the window */
			;
		q->received = i;
		q->duplicates = q->reordered = i;
		__atomic_store_n(&q->seq, s + 2, __ATOMIC_RELEASE);
		__atomic_store_n(&w->records, i, __ATOMIC_RELAXED);
		for (volatile int gap = 0; gap < 100; gap++)	/* the next packet */
			;
	}
	return NULL;
}

static void test_read_quality_concurrent(void **state)
{
	static struct sluice_stats st;
	struct writer w = { .st = &st };
	unsigned int seen = 0, busy = 0;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, qwriter_run, &w), 0);
	while (!__atomic_load_n(&w.records, __ATOMIC_RELAXED))
		sched_yield();
	for (long n = 0; n < 50000000 && (n < 200000 || seen < 20000 ||
					   __atomic_load_n(&w.records, __ATOMIC_RELAXED) < 20000);
	     n++) {
		struct quality_seg g;

		if (kmod_read_quality_stats(&st, &g)) {
			busy++;
			continue;
		}
		assert_int_equal(g.ssrc, g.epoch);
		assert_int_equal(g.ext_max, g.epoch);
		assert_int_equal(g.jitter16, g.epoch);
		assert_int_equal(g.received, g.epoch);
		assert_int_equal(g.duplicates, g.epoch);
		assert_int_equal(g.reordered, g.epoch);
		seen++;
	}
	w.stop = true;
	pthread_join(t, NULL);
	print_message("quality concurrent: %u consistent copies, %u gave up, %u writes\n", seen,
		      busy, w.records);
	assert_true(seen >= 20000);
}

static void test_open_without_module(void **state)
{
	struct kmod *k = (struct kmod *)1;

	(void)state;
	if (kmod_available())
		skip();		/* running where the module is loaded: t/kernel covers it */
	assert_int_equal(kmod_open(&k, 0, 0, 0), -ENOENT);
	assert_null(k);
	assert_int_equal(kmod_open(&k, SLUICE_MAX_INSTANCES, 0, 0), -ERANGE);
	kmod_close(NULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_and_bridging),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_read_no_mismatch),
		cmocka_unit_test(test_read_mismatch_v4_v6),
		cmocka_unit_test(test_read_mismatch_busy),
		cmocka_unit_test(test_read_mismatch_concurrent),
		cmocka_unit_test(test_quality_to_abi),
		cmocka_unit_test(test_read_quality),
		cmocka_unit_test(test_read_quality_concurrent),
		cmocka_unit_test(test_open_without_module),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
