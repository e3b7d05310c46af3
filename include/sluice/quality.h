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
#define QUALITY_MAX_DROPOUT     3000    /* RFC 3550 A.1: a jump this far ahead restarts */
#define QUALITY_MAX_MISORDER    100     /* ...unless it is this close behind: late */

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

/* ---- figures another measurer took (the kernel module, while it forwards) ----
 *
 * A segment is what the module measured of one stream since its entry was added (see
 * struct sluice_quality in kernel_abi.h); quality_merge() folds what is new in it into
 * the stream's quality_rx, so the figures run on across kernel and userspace spells:
 * counts add up, the highest sequence number is the higher of the two, the jitter is the
 * module's estimate (which it continued from the one userspace handed it at the push). */
struct quality_seg {
	uint32_t epoch;                 /* 0: nothing measured; changes when it starts over */
	uint32_t ssrc;
	uint32_t ext_max;               /* the segment's own extended sequence space */
	uint16_t base_seq;
	uint8_t pt;
	uint32_t clock;                 /* of jitter16; 0: no jitter */
	uint32_t jitter16;
	uint64_t received;              /* of the epoch */
	uint32_t duplicates, reordered; /* since the segment began */
	uint32_t busy;                  /* since the segment began: received, not measured */
};

struct quality_folded {                 /* how much of a segment q already holds */
	uint32_t epoch;
	uint64_t received;
	uint32_t duplicates, reordered, busy;
	int64_t map;                    /* q's extended seq = the segment's + map */
};

/* Folds into q what seg holds beyond f (zero f when a new segment begins: a new kernel
 * entry). The segment's epoch continues q when it has q's SSRC and starts within the
 * usual dropout/misorder window of q's highest sequence number; otherwise q starts over
 * with it (a new SSRC resets everything, a jump keeps duplicates and reordered, as
 * quality_rtp()). Returns the packets newly counted as received. */
uint64_t quality_merge(struct quality_rx *q, struct quality_folded *f,
		       const struct quality_seg *seg);

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
