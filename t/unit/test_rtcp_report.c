/* rtcp_report: reception statistics (loss, wrap, restart, jitter, LSR) and the SR it
 * builds, checked field by field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/rtcp_report.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 100 packets from seq 65500 (wrapping), every 10th lost, perfectly paced. */
static void test_loss_and_wrap(void **state)
{
	struct rtcp_rx rx = { 0 };
	struct rtcp_tx tx = { .ssrc = 0x11223344, .packets = 7, .octets = 1120, .last_ts = 1000,
			      .last_us = 1000000, .clock = 8000 };
	uint8_t buf[128];
	int n;

	(void)state;
	for (unsigned i = 0; i < 100; i++)
		if (i % 10 != 5)
			rtcp_rx_packet(&rx, 0xabcdef01, (uint16_t)(65500 + i), 160 * i, 8000,
				       1000000 + 20000 * (int64_t)i);
	assert_int_equal(rx.received, 90);
	assert_int_equal(rx.jitter >> 4, 0);
	n = rtcp_build_sr(&tx, &rx, "sluice", 1020000, 1700000000LL * 1000000, buf, sizeof(buf));
	assert_int_equal(n, 28 + 24 + 20);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], 200);
	assert_int_equal((buf[2] << 8 | buf[3]), 12);
	assert_int_equal(be32(buf + 4), 0x11223344);
	assert_int_equal(be32(buf + 8), 1700000000u + 2208988800u);
	assert_int_equal(be32(buf + 16), 1000 + 160);   /* 20 ms after the last packet */
	assert_int_equal(be32(buf + 20), 7);
	assert_int_equal(be32(buf + 24), 1120);
	assert_int_equal(be32(buf + 28), 0xabcdef01);
	assert_int_equal(buf[32], 10 * 256 / 100);      /* fraction lost */
	assert_int_equal(be32(buf + 32) & 0xffffff, 10);
	assert_int_equal(be32(buf + 36), 65536 + 65500 + 99 - 65536);  /* one wrap */
	assert_int_equal(be32(buf + 48), 0);            /* no SR seen: DLSR 0 */
	assert_int_equal(buf[52], 0x81);
	assert_int_equal(buf[53], 202);
	assert_int_equal(buf[60], 1);
	assert_int_equal(buf[61], 6);
	assert_memory_equal(buf + 62, "sluice", 6);
	/* the next interval starts empty */
	n = rtcp_build_sr(&tx, &rx, "sluice", 1020000, 0, buf, sizeof(buf));
	assert_int_equal(buf[32], 0);
	assert_int_equal(be32(buf + 32) & 0xffffff, 10);
	/* too small a buffer */
	assert_int_equal(rtcp_build_sr(&tx, &rx, "sluice", 0, 0, buf, 40), -ENOSPC);
}

static void test_jitter_lsr_restart(void **state)
{
	struct rtcp_rx rx = { 0 };
	uint8_t sr[28] = { 0x80, 200, 0, 6, 0xab, 0xcd, 0xef, 0x01,
			   0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	uint8_t rr[8] = { 0x80, 201, 0, 1, 1, 2, 3, 4 };
	uint8_t compound[36];
	struct rtcp_tx tx = { .ssrc = 1 };
	uint8_t buf[128];

	(void)state;
	/* arrivals alternate on time / 10 ms late: |D| = 80 ticks every packet */
	for (unsigned i = 0; i < 200; i++)
		rtcp_rx_packet(&rx, 5, (uint16_t)i, 160 * i, 8000,
			       20000 * (int64_t)i + (i % 2 ? 10000 : 0));
	assert_in_range(rx.jitter >> 4, 75, 80);
	memcpy(compound, rr, sizeof(rr));
	memcpy(compound + 8, sr, sizeof(sr));
	rtcp_rx_rtcp(&rx, compound, sizeof(compound), 5000000);
	assert_int_equal(rx.lsr, 0x33445566);
	rtcp_build_sr(&tx, &rx, "x", 5500000, 0, buf, sizeof(buf));
	assert_int_equal(be32(buf + 44), 0x33445566);
	assert_int_equal(be32(buf + 48), 32768);        /* 0.5 s in 1/65536 s */
	/* truncated compound: ignored */
	rx.lsr = 0;
	rtcp_rx_rtcp(&rx, compound, 20, 0);
	assert_int_equal(rx.lsr, 0);
	/* a new SSRC restarts the statistics */
	rtcp_rx_packet(&rx, 6, 1000, 0, 8000, 0);
	assert_int_equal(rx.received, 1);
	assert_int_equal(rx.base_seq, 1000);
	/* a big sequence jump is a restart too */
	rtcp_rx_packet(&rx, 6, 1001, 160, 8000, 20000);
	rtcp_rx_packet(&rx, 6, 30000, 320, 8000, 40000);
	assert_int_equal(rx.received, 1);
	assert_int_equal(rx.base_seq, 30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loss_and_wrap),
		cmocka_unit_test(test_jitter_lsr_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
