/* Trickle ICE over NG: an offer (or answer) with the flag "fragment" carries, in "sdp",
 * an RFC 8840 SDP fragment of candidates for an existing call, as rtpengine takes it. */
#ifndef SLUICE_ICE_TRICKLE_H
#define SLUICE_ICE_TRICKLE_H

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

/* Add the fragment's candidates to the ICE agents toward the side named by from-tag:
 * each section goes to the media of the same a=mid (the offer's mids, which both sides
 * share), else of the same m= position; a section whose a=ice-ufrag (its own or the
 * session's) is not the agent's remote ufrag is stale (before an ICE restart) and
 * ignored. Full-mode agents check the new pairs at once. Replies "result: ok" without
 * SDP, with a "warning" when sections were ignored (unknown mid, ufrag mismatch, no ICE
 * on that media), as rtpengine only logs those. -ENOENT "Unknown call-id" (a deleted
 * call), -EINVAL "Failed to parse SDP fragment: ...", -ENOSPC (too many held), -ENOMEM. */
int ice_trickle(struct daemon *d, const struct ng_request *req, struct arena *a,
		struct bval *reply, const char **err);
/* A fragment for a call-id (or a from-tag of it) not known yet is held for 30 s, as
 * rtpengine does, with "result: ok" and a "warning": an offer or answer that makes the
 * call and side then feeds it (ice_trickle_replay, after the SDP's own candidates). */
void ice_trickle_replay(struct daemon *d, struct call *c);
/* Drop held fragments past their time (all: every one, at exit). Control thread. */
void ice_trickle_expire(struct daemon *d, int64_t now_mono_us, bool all);

#endif
