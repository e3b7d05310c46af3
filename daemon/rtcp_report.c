/* RTCP sender/receiver statistics and SR building (RFC 3550). */
#include "rtcp_report.h"
#include "sluice/be.h"

#include <errno.h>
#include <string.h>

#define NTP_EPOCH_OFFSET 2208988800ULL  /* 1900 -> 1970 */
#define MAX_DROPOUT      3000
#define MAX_MISORDER     100

static void rx_start(struct rtcp_rx *rx, uint32_t ssrc, uint16_t seq)
{
	memset(rx, 0, sizeof(*rx));
	rx->init = true;
	rx->ssrc = ssrc;
	rx->base_seq = seq;
	rx->max_seq = seq;
}

void rtcp_rx_packet(struct rtcp_rx *rx, uint32_t ssrc, uint16_t seq, uint32_t ts,
		    unsigned clock, int64_t now_us)
{
	uint16_t udelta;
	int64_t arrival, transit, d;

	if (!rx->init || rx->ssrc != ssrc)
		rx_start(rx, ssrc, seq);
	else {
		udelta = (uint16_t)(seq - rx->max_seq);
		if (udelta < MAX_DROPOUT) {
			if (seq < rx->max_seq)
				rx->cycles += 1u << 16;
			rx->max_seq = seq;
		} else if (udelta <= 65535 - MAX_MISORDER) {
			/* a jump: the sender restarted its sequence */
			rx_start(rx, ssrc, seq);
		}
	}
	rx->received++;
	if (!clock)
		return;
	arrival = now_us * (int64_t)clock / 1000000;
	transit = arrival - (int64_t)ts;
	if (rx->received > 1) {
		d = transit - rx->transit;
		if (d < 0)
			d = -d;
		if (d > 1 << 24)
			d = 1 << 24;    /* a restart, not jitter */
		/* J += (|D| - J) / 16 with J kept scaled by 16 (RFC 3550 A.8) */
		rx->jitter += (uint32_t)d - ((rx->jitter + 8) >> 4);
	}
	rx->transit = transit;
}

void rtcp_rx_rtcp(struct rtcp_rx *rx, const uint8_t *p, size_t len, int64_t now_us)
{
	while (len >= 8 && (p[0] >> 6) == 2) {
		size_t plen = ((size_t)p[2] << 8 | p[3]) * 4 + 4;

		if (plen > len)
			return;
		if (p[1] == 200 && plen >= 28) {
			rx->lsr = be_get32(p + 10);    /* middle 32 bits of the 64-bit NTP time */
			rx->lsr_at_us = now_us;
			return;
		}
		p += plen;
		len -= plen;
	}
}

static void report_block(struct rtcp_rx *rx, int64_t now_us, uint8_t *b)
{
	uint32_t ext_max = rx->cycles + rx->max_seq;
	uint32_t expected = ext_max - rx->base_seq + 1;
	int64_t lost = (int64_t)expected - rx->received;
	uint32_t exp_int = expected - rx->expected_prior;
	uint32_t rec_int = rx->received - rx->received_prior;
	int64_t lost_int = (int64_t)exp_int - rec_int;
	uint32_t fraction = exp_int && lost_int > 0 ? (uint32_t)((lost_int << 8) / exp_int) : 0;
	uint32_t dlsr = 0;

	rx->expected_prior = expected;
	rx->received_prior = rx->received;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	else if (lost < -0x800000)
		lost = -0x800000;
	if (rx->lsr_at_us)
		dlsr = (uint32_t)((now_us - rx->lsr_at_us) * 65536 / 1000000);
	be_put32(b, rx->ssrc);
	be_put32(b + 4, (fraction > 255 ? 255 : fraction) << 24 | ((uint32_t)lost & 0xffffff));
	be_put32(b + 8, ext_max);
	be_put32(b + 12, rx->jitter >> 4);
	be_put32(b + 16, rx->lsr);
	be_put32(b + 20, rx->lsr_at_us ? dlsr : 0);
}

int rtcp_build_sr(const struct rtcp_tx *tx, struct rtcp_rx *rx, const char *cname,
		  int64_t now_us, int64_t wall_us, uint8_t *out, size_t cap)
{
	size_t cl = strlen(cname), sr_len = 28 + (rx && rx->init ? 24 : 0);
	size_t sdes_len = (8 + 2 + cl + 1 + 3) & ~(size_t)3;    /* chunk ends with a zero item */
	uint64_t secs = (uint64_t)(wall_us / 1000000) + NTP_EPOCH_OFFSET;
	uint64_t frac = ((uint64_t)(wall_us % 1000000) << 32) / 1000000;
	uint32_t rtp_ts = tx->last_ts;

	if (cl > 255 || sr_len + sdes_len > cap)
		return -ENOSPC;
	if (tx->clock && tx->last_us)
		rtp_ts += (uint32_t)((now_us - tx->last_us) * (int64_t)tx->clock / 1000000);
	memset(out, 0, sr_len + sdes_len);
	out[0] = 0x80 | (sr_len > 28 ? 1 : 0);
	out[1] = 200;
	be_put16(out + 2, (uint32_t)(sr_len / 4 - 1));
	be_put32(out + 4, tx->ssrc);
	be_put32(out + 8, (uint32_t)secs);
	be_put32(out + 12, (uint32_t)frac);
	be_put32(out + 16, rtp_ts);
	be_put32(out + 20, tx->packets);
	be_put32(out + 24, tx->octets);
	if (sr_len > 28)
		report_block(rx, now_us, out + 28);
	out += sr_len;
	out[0] = 0x81;
	out[1] = 202;
	be_put16(out + 2, (uint32_t)(sdes_len / 4 - 1));
	be_put32(out + 4, tx->ssrc);
	out[8] = 1;                     /* CNAME */
	out[9] = (uint8_t)cl;
	memcpy(out + 10, cname, cl);
	return (int)(sr_len + sdes_len);
}
