/* Packets the relay makes itself spliced into a sender's RTP stream (NG play media on
 * the relay's own clock), so that the receiver sees one stream before, during and after.
 *
 * The splice remembers the last packet that went out toward the receiver: the
 * sender's (rtp_splice_sender) or the relay's own (rtp_splice_own).
 * - The relay's first own packet continues the sender's stream: its SSRC, the next
 *   sequence number, and a timestamp advanced by the time since the sender's last
 *   packet, with the marker bit (a new talkspurt). A sender never heard gets a fresh
 *   SSRC, sequence number and timestamp instead (as a new source). The following own
 *   packets step by one and by the samples each carried.
 * - When the sender's packets of that SSRC go out again, they are shifted (sequence
 *   number and timestamp, a constant offset fixed at the first of them) so that they
 *   continue after the relay's last own packet: the receiver sees neither a gap (loss)
 *   nor a step back (late packets). The shift lasts while the sender keeps that SSRC.
 *   A sender with another SSRC (a new source) passes untouched.
 *
 * Pure state machine: the caller passes times (µs, any monotonic clock) and owns
 * locking; nothing is allocated. */
#ifndef SLUICE_RTP_SPLICE_H
#define SLUICE_RTP_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtp_splice {
	bool seen;                      /* a packet went out: the fields below are set */
	bool own;                       /* ... and the last one was the relay's own */
	bool shift;                     /* the sender's packets of ssrc are shifted */
	bool rebase;                    /* own packets went out in the sender's ssrc:
	                                   its next packet of ssrc fixes the shift */
	bool ts_known;                  /* ts is the stream's (not only a hint's seq) */
	uint32_t ssrc;                  /* of the last packet out */
	uint16_t seq;
	uint32_t ts;
	uint32_t step;                  /* own packets: timestamp step of the last one */
	int64_t at_us;                  /* when it went out */
	uint16_t seq_off;               /* added to the sender's (shift) */
	uint32_t ts_off;
	uint32_t fresh_ssrc;            /* used when the sender was never heard */
	uint16_t fresh_seq;
	uint32_t fresh_ts;
};

struct rtp_splice_hdr {
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	bool marker;
};

/* Starts empty; fresh_*: random values for a stream of the relay's own. */
void rtp_splice_init(struct rtp_splice *sp, uint32_t fresh_ssrc, uint16_t fresh_seq,
		     uint32_t fresh_ts);
/* A packet of the sender on its way to the receiver (RTP, decrypted; clock: its RTP
 * clock rate): shifted in place when it must be, then remembered. RTCP and packets
 * that are not RTP are left alone. */
void rtp_splice_sender(struct rtp_splice *sp, uint8_t *pkt, size_t len, unsigned clock,
		       int64_t now_us);
/* Where the sender's stream is now, learned elsewhere (the stream's quality figures,
 * which the kernel's counters feed while it forwards packets the splice never sees):
 * its SSRC, highest sequence number and, when ts_known, the timestamp it would carry at
 * now_us (from its last packet's transit time; otherwise the relay's next own packet
 * starts a new talkspurt at a fresh timestamp). Replaces what the splice remembered and
 * ends a shift: for a caller that knows the splice is out of date and no shift is on. */
void rtp_splice_hint(struct rtp_splice *sp, uint32_t ssrc, uint16_t max_seq, bool ts_known,
		     uint32_t ts, int64_t now_us);
/* Header of the relay's own next packet, which carries step timestamp units (clock:
 * its RTP clock rate), going out at now_us. */
void rtp_splice_own(struct rtp_splice *sp, uint32_t step, unsigned clock, int64_t now_us,
		    struct rtp_splice_hdr *h);
/* The sender's packets need rewriting: the kernel cannot forward them as they are. */
bool rtp_splice_active(const struct rtp_splice *sp);

#endif
