/* Endpoint learning ("latching") for NAT'd phones, and the rules that keep strangers out
 * (docs/security.md).
 *
 * A stream's expected endpoint is what signalling said (stream->expected: the SDP
 * address, or the SIP source for a private SDP address). A packet's source ranks
 *   0  address and port of the expected (or advertised) endpoint,
 *   1  its address, another port (a NAT that kept the address),
 *   2  anything else.
 * Learning modes (enum endpoint_learning, --endpoint-learning or the NG key):
 *   heuristic  the first packet latches and opens a 3 s window in which only a strictly
 *              better rank takes over; rank 0 fixes the latch at once.
 *   delayed    the same, but an equal rank takes over too (the last one seen wins).
 *   immediate  the first packet latches and fixes the latch.
 *   off        never latch: send to the advertised endpoint, accept ranks 0-1.
 * Once fixed, only a new offer/answer of the side (latch_relearn) or, with the flag
 * media-handover, a packet from a new source moves the latch. strict-source: a rank-2
 * source never latches (and accepts rank 0 only where nothing latches). The SSRC never
 * moves a latch. Everything else is foreign: dropped and counted (latch_foreign).
 *
 * The packet path judges first (latch_judge: nothing but the time-driven end of the
 * window changes), authenticates what can be authenticated (SRTP), and only then
 * commits (latch_commit), so a packet that fails changes no state.
 * All functions run with the call lock held. */
#ifndef SLUICE_LATCH_H
#define SLUICE_LATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "config.h"

#define LATCH_LEARN_US   (3 * 1000000LL)
#define LATCH_LOG_GAP_US (10 * 1000000LL)       /* foreign-packet log lines per stream */

enum latch_verdict {
	LATCH_OK = 0,           /* from the endpoint (or acceptable without latching) */
	LATCH_NEW,              /* takes the latch: first packet, or learning reopened */
	LATCH_MOVED,            /* takes the latch over from another source */
	LATCH_FOREIGN,          /* not allowed: drop and count */
};

struct latch_step {
	enum latch_verdict v;
	uint8_t rank;
	bool confirm;           /* NEW / MOVED: the latch is fixed with this packet */
};

/* The effective learning mode of stream s's call. */
enum endpoint_learning latch_mode(const struct stream *s, enum endpoint_learning dflt);
/* Decide about a packet from src; changes nothing but the expiry of the window. */
void latch_judge(struct stream *s, const union sockaddr_u *src, int64_t now_us,
		 enum endpoint_learning el, struct latch_step *st);
/* Apply a verdict other than LATCH_FOREIGN; pkt (may be NULL) updates the SSRC shown. */
void latch_commit(struct stream *s, const union sockaddr_u *src, const struct latch_step *st,
		  const uint8_t *pkt, size_t len, int64_t now_us);
/* Count a foreign packet; logs one line per stream per LATCH_LOG_GAP_US. */
void latch_foreign(struct stream *s, const union sockaddr_u *src, int64_t now_us);
/* Log the foreign packets (userspace's and, in s->kforeign, the kernel's) not logged
 * yet, unless a line was written less than LATCH_LOG_GAP_US ago. */
void latch_log_foreign(struct stream *s, const union sockaddr_u *src, int64_t now_us);
/* judge + commit (+ latch_foreign) for a packet that needs no authentication. */
enum latch_verdict latch_packet(struct stream *s, const union sockaddr_u *src,
				const uint8_t *pkt, size_t len, int64_t now_us,
				enum endpoint_learning el);
/* Where to send packets destined to stream s's peer. false: nowhere known yet. */
bool stream_dest(const struct stream *s, union sockaddr_u *out);
/* Forget what was learned (the SDP named another endpoint). */
void latch_reset(struct stream *s);
/* New offer/answer with the same endpoint: keep sending to the latched one, but let the
 * next packet start a new learning window. */
void latch_relearn(struct stream *s);

#endif
