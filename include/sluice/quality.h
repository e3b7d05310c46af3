/* Media quality as a relay measures it (RFC 3550 A.1, A.3, A.8; ITU-T G.107):
 * per received RTP source, packets lost (from sequence numbers), duplicates, reordered
 * packets and interarrival jitter; from RTCP passing through, the far end's reported
 * loss and jitter and the round-trip time (LSR/DLSR of its receiver reports against the
 * sender reports the relay forwarded to it); and an E-model MOS from all that. Pure
 * state machines: the caller passes times (µs, any monotonic clock) and owns locking. */
#ifndef SLUICE_QUALITY_H
#define SLUICE_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUALITY_SR_SLOTS 4

struct quality_rx {                     /* one RTP source as received */
	bool init;
	uint32_t ssrc;
	uint8_t pt;                     /* payload type jitter is measured on */
	uint16_t max_seq;
	uint32_t cycles;                /* << 16 */
	uint32_t base_seq;
	uint64_t received;              /* distinct packets */
	uint64_t duplicates, reordered;
	uint64_t window;                /* bit i: max_seq - i was seen */
	int64_t transit;                /* RTP clock units */
	bool have_transit;
	uint32_t jitter16;              /* RFC 3550 A.8, scaled by 16, clock units */
	unsigned clock;
	/* interval state, for MOS samples */
	uint64_t expected_prior, received_prior;
};

struct quality_rtt {                    /* SRs forwarded to a peer, and its answers */
	struct { uint32_t ntp_mid; int64_t at_us; } sr[QUALITY_SR_SLOTS];
	unsigned next;
	int64_t last_rtt_us;            /* -1: none yet */
	uint64_t samples;
	/* the peer's last report block about what it receives */
	bool have_report;
	uint8_t fraction_lost;          /* /256 */
	int32_t cumulative_lost;
	uint32_t jitter;                /* clock units */
};

struct quality_mos {                    /* min / avg / max of MOS samples, x10 */
	uint64_t samples;
	uint64_t sum;
	unsigned min, max;
};

/* One RTP packet (version 2, >= 12 bytes, not RTCP) with its arrival time. clock: the
 * RTP clock rate of its payload type (0: unknown, no jitter). A new SSRC starts over. */
void quality_rtp(struct quality_rx *q, const uint8_t *p, size_t len, unsigned clock,
		 int64_t now_us);
/* Expected, lost (may be < 0 with duplicates sent twice by the source), jitter in ms. */
uint64_t quality_expected(const struct quality_rx *q);
int64_t quality_lost(const struct quality_rx *q);
double quality_jitter_ms(const struct quality_rx *q);
/* Loss in percent since the previous call (or the start); resets the interval. */
double quality_interval_loss(struct quality_rx *q);

/* RTCP compound going out to a peer: remember its SRs. */
void quality_rtcp_out(struct quality_rtt *r, const uint8_t *p, size_t len, int64_t now_us);
/* RTCP compound coming in from that peer: its report block (the first) and, when it
 * answers one of our SRs, the round trip. */
void quality_rtcp_in(struct quality_rtt *r, const uint8_t *p, size_t len, int64_t now_us);

/* E-model (G.107, simplified as G.113 Appendix I / G.108): R from codec impairment,
 * packet loss (%, random) and one-way delay (ms); MOS x10 (10..45). codec: an rtpmap
 * encoding name ("PCMU", "G722", "opus", "G729"...); unknown ones count as G.711. */
unsigned quality_mos10(const char *codec, double loss_pct, double delay_ms);
void quality_mos_add(struct quality_mos *m, unsigned mos10);

#endif
