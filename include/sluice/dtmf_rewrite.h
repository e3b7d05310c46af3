/* Digits played into a forwarded RTP stream by rewriting the sender's own packets in
 * place (the NG `play DTMF` command on a plain-forwarded call).
 *
 * No packet is added or removed and the SSRC, sequence numbers and the timestamps of
 * the audio stay the sender's, so whatever counts the stream downstream (the receiver's
 * jitter buffer and loss figures, an SRTP index, RTCP sender counts, the kernel's
 * sequence state when the stream goes back there) needs no offset. While a digit
 * plays, each audio packet of the sender becomes one of:
 *
 *   EVENT   an RFC 4733 telephone-event packet (payload 4 bytes, the event's payload
 *           type): the marker on the first, the RTP timestamp of every packet that of
 *           the event's first packet, the duration growing by each packet's timestamp
 *           step (its sample count for G.711, else the step from the previous packet),
 *           the volume of the command; the packet whose step reaches the digit's length
 *           carries the end bit and that length, and the two packets after it carry
 *           the same end packet again (RFC 4733 2.5.1.4: the final packet three times,
 *           at the update interval, E bit kept; each copy takes its slot's sequence
 *           number, as the RFC's retransmissions do, and keeps the event's timestamp).
 *   INBAND  the same G.711 packet (PCMU or PCMA, by its payload type) with the DTMF
 *           tone (spandsp's generator, the command's level) in place of the audio for
 *           the digit's length; samples after the end are silence.
 *
 * Other packets pass untouched: RTCP, the sender's own telephone-events, comfort noise,
 * and in INBAND mode anything but PCMU/PCMA. Timing follows the sender's RTP
 * timestamps, so a lost packet does not stretch a digit; the pause after a digit is
 * the sender's own audio. A gap in the sender's timestamps longer than the rest of the
 * digit ends it (EVENT: the packet after the gap carries the end; INBAND: it is left as
 * sent). A new SSRC or a timestamp that goes back restarts the digit being played.
 * Durations beyond 0xffff clock ticks are sent as 0xffff.
 *
 * Ownership/threads: one object per sending stream; calls on one object must not run
 * concurrently (the daemon holds the call lock). Nothing is allocated after
 * dtmf_rewrite_create(). */
#ifndef SLUICE_DTMF_REWRITE_H
#define SLUICE_DTMF_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DTMF_REWRITE_MAX        32      /* digits queued at most */

enum dtmf_rewrite_mode {
	DTMF_REWRITE_EVENT,             /* RFC 4733 packets */
	DTMF_REWRITE_INBAND,            /* tones in G.711 payloads */
};

struct dtmf_rewrite_cfg {
	enum dtmf_rewrite_mode mode;
	uint8_t event_pt;               /* EVENT: telephone-event payload type to write */
	int skip_pt;                    /* the sender's own telephone-event type, passed
	                                   untouched; -1 none */
	unsigned clock;                 /* RTP clock of the audio, which EVENT requires the
	                                   telephone-event's to equal (8000 for G.711) */
};

struct dtmf_rewrite;

/* -ENOMEM. The object starts idle, in EVENT mode on payload type 101 at 8 kHz. */
int dtmf_rewrite_create(struct dtmf_rewrite **out);
void dtmf_rewrite_free(struct dtmf_rewrite *rw);
/* Mode and payload types for the digits from now on (a digit already playing keeps
 * its mode). -EINVAL for a clock of 0 or a payload type above 127. */
int dtmf_rewrite_config(struct dtmf_rewrite *rw, const struct dtmf_rewrite_cfg *cfg);
/* Queues a digit: event 0-15 (rfc4733.h numbering), duration_ms 1..10000, volume 0-63
 * (-dBm0), pause_ms 0..10000 of the sender's audio before the next digit may start.
 * It starts with the sender's next audio packet. 0, -EINVAL, or -ENOBUFS (full). */
int dtmf_rewrite_queue(struct dtmf_rewrite *rw, uint8_t event, unsigned duration_ms,
		       unsigned volume, unsigned pause_ms);
/* One packet the sender sent (RTP, decrypted), rewritten in place: *len may shrink
 * (EVENT), never grow. 1: rewritten, 0: untouched. */
int dtmf_rewrite_packet(struct dtmf_rewrite *rw, uint8_t *pkt, size_t *len);
/* Digits queued or one playing (its end packets included): the stream must pass
 * through dtmf_rewrite_packet(). */
bool dtmf_rewrite_busy(const struct dtmf_rewrite *rw);
/* Digits played out completely since creation. */
uint64_t dtmf_rewrite_played(const struct dtmf_rewrite *rw);

#endif
