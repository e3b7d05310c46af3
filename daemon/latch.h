/* Endpoint learning ("latching") for NAT'd phones, and the rules that keep strangers out.
 *
 * - Until a stream has latched, the first packet's source becomes its endpoint.
 * - During the learning window (3 s, endpoint-learning=delayed) a packet from the address
 *   the SDP advertised takes the latch over: the SDP is preferred when it is reachable.
 *   endpoint-learning=immediate confirms at the first packet; =off never latches (media
 *   goes to the SDP address and only packets from it are accepted).
 * - Once confirmed, a packet from any other source is dropped, except (without
 *   strict-source) one carrying the SSRC already seen from the endpoint: that is the same
 *   sender behind a re-bound NAT, and the latch moves to it. A stranger cannot guess the
 *   SSRC, so it cannot inject media into a latched call. strict-source forbids moving.
 * - A packet from 0.0.0.0/:: or port 0 is always dropped: nothing can be sent back there.
 * All functions run with the call lock held. */
#ifndef SLUICE_LATCH_H
#define SLUICE_LATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"
#include "config.h"

#define LATCH_LEARN_US (3 * 1000000LL)

enum latch_verdict { LATCH_OK = 0, LATCH_NEW, LATCH_MOVED, LATCH_DROP };

enum latch_verdict latch_packet(struct stream *s, const union sockaddr_u *src,
				const uint8_t *pkt, size_t len, int64_t now_mono_us,
				enum endpoint_learning el);
/* Where to send packets destined to stream s's peer. false: nowhere known yet. */
bool stream_dest(const struct stream *s, union sockaddr_u *out);
/* Forget what was learned (new SDP address). */
void latch_reset(struct stream *s);

#endif
