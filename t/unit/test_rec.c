/* Recording internals: file names from hostile call-ids, and the capture ring (time
 * trim, the global memory cap taking the oldest block of all calls, party filter,
 * dump through pcapw read back by libpcap). */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../daemon/rec_internal.h"

static void check_name(const char *cid, size_t len, const char *want_prefix)
{
	char out[REC_NAME_MAX];
	size_t plen = strlen(want_prefix);

	rec_safe_name(cid, len, out, sizeof(out));
	if (strlen(out) != plen + 17 || memcmp(out, want_prefix, plen))
		fail_msg("'%s' for want '%s'", out, want_prefix);
	assert_memory_equal(out, want_prefix, plen);
	assert_int_equal(out[plen], '-');
	for (size_t i = plen + 1; i < plen + 17; i++)
		assert_non_null(strchr("0123456789abcdef", out[i]));
	assert_null(strchr(out, '/'));
	assert_null(strstr(out, ".."));
	assert_true(out[0] != '.');
}

static void test_safe_names(void **state)
{
	char a[REC_NAME_MAX], b[REC_NAME_MAX], big[400];

	(void)state;
	check_name("abc123@host", 11, "abc123@host");
	check_name("../../etc/passwd", 16, "_._.__etc_passwd");
	check_name(".hidden", 7, "_hidden");
	check_name("a\0b\x01\n\xff c", 8, "a_b____c");
	check_name("x...y", 5, "x._.y");
	check_name("", 0, "call");
	memset(big, 'k', sizeof(big));
	check_name(big, sizeof(big), "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	/* the same call-id twice: two names */
	rec_safe_name("same", 4, a, sizeof(a));
	rec_safe_name("same", 4, b, sizeof(b));
	assert_string_not_equal(a, b);
}

#define NS 1000000000LL

static void add(struct rec *r, struct rec_sink *s, int64_t t, uint8_t party, size_t len)
{
	union {
		struct rec_pkt p;
		uint8_t buf[sizeof(struct rec_pkt) + 2000];
	} u;

	memset(&u, 0, sizeof(u));
	u.p.sink = s;
	u.p.time_ns = t;
	u.p.len = (uint16_t)len;
	u.p.party = party;
	u.p.flags = REC_F_RING;
	netaddr_parse("127.0.0.1:4000", 0, false, &u.p.src);
	netaddr_parse("127.0.0.1:5000", 0, false, &u.p.dst);
	memset(u.p.data, party, len);
	ring_add(r, s, &u.p, t);
}

static uint64_t dump(struct rec *r, struct rec_sink *s, int party, int64_t now,
		     struct rec_capture *cap)
{
	char path[] = "/tmp/test_rec_XXXXXX", err[PCAP_ERRBUF_SIZE];
	int fd = mkstemp(path);
	struct pcapw *w = pcapw_open_fd(fd, PCAPW_RAW, err, sizeof(err));
	pcap_t *p;
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0;

	assert_non_null(w);
	memset(cap, 0, sizeof(*cap));
	assert_int_equal(ring_dump(r, s, w, party, now, cap), 0);
	assert_int_equal(pcapw_close(w), 0);
	assert_non_null(p = pcap_open_offline(path, err));
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	pcap_close(p);
	unlink(path);
	assert_int_equal(n, cap->packets);
	return n;
}

static void test_ring_time_and_party(void **state)
{
	struct rec r = { 0 };
	struct rec_sink *s = calloc(1, sizeof(*s));
	struct rec_capture cap;
	int64_t t0 = 1000 * NS;

	(void)state;
	r.ring_ns = 10 * NS;
	r.ring_max_chunks = 1000;
	/* 30 s at 100 packets/s, two parties */
	for (int i = 0; i < 3000; i++)
		add(&r, s, t0 + i * (NS / 100), (uint8_t)(i & 1), 172);
	/* the ring keeps 10 s plus at most a block: the dump takes exactly the last 10 s */
	assert_true(atomic_load(&s->ring_packets) >= 1000);
	assert_true(atomic_load(&s->ring_packets) < 1300);
	assert_int_equal(dump(&r, s, -1, t0 + 2999 * (NS / 100), &cap), 1001);
	assert_true(cap.last_ns - cap.first_ns == 10 * NS);
	assert_int_equal(dump(&r, s, 1, t0 + 2999 * (NS / 100), &cap), 501);  /* odd i */
	assert_int_equal(atomic_load(&r.ring_drops), 0);
	ring_release(&r, s);
	assert_int_equal(r.ring_chunks, 0);
	assert_int_equal(atomic_load(&s->ring_packets), 0);
	ring_free_all(&r);
	free(s);
}

static void test_ring_cap_takes_oldest_of_all(void **state)
{
	struct rec r = { 0 };
	struct rec_sink *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct rec_capture cap;
	int64_t t0 = 1000 * NS;

	(void)state;
	r.ring_ns = 300 * NS;
	r.ring_max_chunks = 4;
	for (int i = 0; i < 200; i++)           /* a fills blocks first */
		add(&r, a, t0 + i * NS / 100, 0, 1000);
	for (int i = 0; i < 200; i++)           /* then b: a's oldest blocks go */
		add(&r, b, t0 + 2 * NS + i * NS / 100, 0, 1000);
	assert_true(r.ring_chunks <= 4);
	assert_true(atomic_load(&r.ring_bytes) <= 4 * 32 * 1024);
	assert_true(atomic_load(&r.ring_drops) > 0);
	assert_int_equal(atomic_load(&a->ring_packets) + atomic_load(&b->ring_packets) +
			 atomic_load(&r.ring_drops), 400);
	/* b, the newer call, kept all its packets but those of its own oldest block */
	assert_true(dump(&r, b, -1, t0 + 4 * NS, &cap) > dump(&r, a, -1, t0 + 4 * NS, &cap));
	ring_release(&r, a);
	ring_release(&r, b);
	assert_int_equal(r.ring_chunks, 0);
	ring_free_all(&r);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_names),
		cmocka_unit_test(test_ring_time_and_party),
		cmocka_unit_test(test_ring_cap_takes_oldest_of_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
