/* pcapw: libpcap reads back what we wrote, with correct IPv4/IPv6/UDP headers and
 * checksums, for both link types; a full disk is reported. */
#include <errno.h>
#include <fcntl.h>
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

#include "sluice/pcapw.h"

static uint32_t sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static void addr(const char *s, union sockaddr_u *a)
{
	assert_int_equal(netaddr_parse(s, 0, false, a), 0);
}

/* Verify the UDP checksum over the pseudo header: the one's complement sum is 0xffff. */
static void check_udp(const uint8_t *ip, int v6)
{
	const uint8_t *u = ip + (v6 ? 40 : 20);
	uint16_t ulen = (uint16_t)(u[4] << 8 | u[5]);
	uint32_t s = v6 ? sum(0, ip + 8, 32) : sum(0, ip + 12, 8);

	s += 17 + ulen;
	assert_int_equal(sum(s, u, ulen), 0xffff);
	if (!v6)
		assert_int_equal(sum(0, ip, 20), 0xffff);
}

static void roundtrip(enum pcapw_link link, const char *src, const char *dst, int v6)
{
	char path[] = "/tmp/test_pcapw_XXXXXX", err[PCAP_ERRBUF_SIZE];
	int fd = mkstemp(path);
	union sockaddr_u s, d;
	struct pcapw *w;
	pcap_t *p;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t payload[173];
	size_t off = link == PCAPW_ETH ? 14 : 0, hl = v6 ? 48 : 28;

	assert_true(fd >= 0);
	addr(src, &s);
	addr(dst, &d);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	w = pcapw_open_fd(fd, link, err, sizeof(err));
	assert_non_null(w);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pcapw_write(w, 1700000000123456789LL + i * 20000000LL, &s, &d,
					     payload, sizeof(payload) - (size_t)i), 0);
	assert_int_equal(pcapw_packets(w), 3);
	assert_int_equal(pcapw_close(w), 0);

	p = pcap_open_offline(path, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), link == PCAPW_ETH ? DLT_EN10MB : DLT_RAW);
	for (int i = 0; i < 3; i++) {
		size_t plen = sizeof(payload) - (size_t)i;

		assert_int_equal(pcap_next_ex(p, &h, &data), 1);
		assert_int_equal(h->caplen, off + hl + plen);
		assert_int_equal(h->ts.tv_sec, 1700000000);
		assert_int_equal(h->ts.tv_usec, 123456 + i * 20000);
		if (off)
			assert_int_equal(data[12] << 8 | data[13], v6 ? 0x86dd : 0x0800);
		assert_int_equal(data[off] >> 4, v6 ? 6 : 4);
		check_udp(data + off, v6);
		/* ports */
		assert_int_equal(data[off + hl - 8] << 8 | data[off + hl - 7], netaddr_port(&s));
		assert_int_equal(data[off + hl - 6] << 8 | data[off + hl - 5], netaddr_port(&d));
		assert_memory_equal(data + off + hl, payload, plen);
	}
	assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
	pcap_close(p);
	unlink(path);
}

static void test_v4_raw(void **state)
{
	(void)state;
	roundtrip(PCAPW_RAW, "192.0.2.1:5000", "127.0.0.1:30000", 0);
}

static void test_v4_eth(void **state)
{
	(void)state;
	roundtrip(PCAPW_ETH, "192.0.2.1:5001", "127.0.0.1:30001", 0);
}

static void test_v6(void **state)
{
	(void)state;
	roundtrip(PCAPW_RAW, "[2001:db8::1]:5000", "[::1]:30002", 1);
	roundtrip(PCAPW_ETH, "[2001:db8::1]:5000", "[::1]:30002", 1);
}

static void test_bad_input_and_disk_full(void **state)
{
	char err[256];
	union sockaddr_u s, d;
	uint8_t buf[1000] = { 0 };
	struct pcapw *w;
	int fd = open("/dev/full", O_WRONLY), r = 0;

	(void)state;
	if (fd < 0)
		skip();
	addr("192.0.2.1:5000", &s);
	addr("[::1]:5000", &d);
	w = pcapw_open_fd(fd, PCAPW_RAW, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(pcapw_write(w, 0, &s, &d, buf, 10), -EINVAL);   /* families */
	addr("192.0.2.2:5000", &d);
	/* the stdio buffer fills, then the write to /dev/full fails: ENOSPC shows */
	for (int i = 0; i < 200 && !r; i++)
		r = pcapw_write(w, 0, &s, &d, buf, sizeof(buf));
	assert_int_equal(r, -ENOSPC);
	assert_true(pcapw_close(w) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_raw),
		cmocka_unit_test(test_v4_eth),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_bad_input_and_disk_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
