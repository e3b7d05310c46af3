/* RTCP reports for legs where sluice is the RTP endpoint (transcoded streams): the
 * reception statistics of one source (RFC 3550 A.1, A.3, A.8) and a compound
 * SR + SDES(CNAME) packet carrying a report block about it. Pure functions on caller
 * state; time is passed in. */
#ifndef SLUICE_RTCP_REPORT_H
#define SLUICE_RTCP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtcp_rx {                        /* one received RTP source */
	bool init;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles;                /* sequence wraps, shifted << 16 */
	uint32_t base_seq;
	uint32_t received;
	uint32_t expected_prior, received_prior;
	int64_t transit;                /* RFC 3550 A.8, in RTP clock units */
	uint32_t jitter;                /* scaled by 16 */
	uint32_t lsr;                   /* middle 32 bits of the last SR's NTP time */
	int64_t lsr_at_us;              /* when that SR arrived (monotonic) */
};

struct rtcp_tx {                        /* the stream sluice sends */
	uint32_t ssrc;
	uint32_t packets, octets;       /* payload octets */
	uint32_t last_ts;               /* RTP timestamp of the last packet sent */
	int64_t last_us;                /* when it was sent (monotonic) */
	unsigned clock;
};

/* One RTP packet of the source (a new SSRC restarts the statistics). */
void rtcp_rx_packet(struct rtcp_rx *rx, uint32_t ssrc, uint16_t seq, uint32_t ts,
		    unsigned clock, int64_t now_us);
/* An RTCP compound packet from the source's sender: remembers its SR time (LSR). */
void rtcp_rx_rtcp(struct rtcp_rx *rx, const uint8_t *p, size_t len, int64_t now_us);
/* SR for tx with a report block about rx (none if rx saw nothing), then SDES CNAME.
 * wall_us is the wall-clock time for the NTP field. Updates rx's interval counters.
 * Returns the length, or -ENOSPC. */
int rtcp_build_sr(const struct rtcp_tx *tx, struct rtcp_rx *rx, const char *cname,
		  int64_t now_us, int64_t wall_us, uint8_t *out, size_t cap);

#endif
