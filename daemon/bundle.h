/* BUNDLE (RFC 8843): media sections of one side sharing one transport (address, port,
 * ICE agent, DTLS association, SRTP session).
 *
 * Per side, like everything else in sluice: a side that offers a=group:BUNDLE is
 * answered with BUNDLE (one port for the group, its a=group line, a=mid on every
 * section), whatever the other side does; toward the answerer the group is passed on
 * with a port per section, as RFC 8843 asks of an initial offer, and if its answer
 * bundles too, that side shares a transport as well.
 *
 * Model: the tagged section (first mid of the group line) owns the transport; each other
 * member has media->bundle pointing at it. Members keep their own sockets (idle) and
 * streams, which carry their sinks, handlers and counters: packets arriving on the
 * tagged section's socket are handed to the member they belong to (bundle_demux), and
 * what is sent to a member leaves through the tagged section's socket toward its peer
 * (stream_transport, call.h). Transport state (ICE, DTLS, SRTP contexts) lives in the
 * tagged section's secure_media only. Bundled media stay in userspace. */
#ifndef SLUICE_BUNDLE_H
#define SLUICE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"

struct sdp;
struct sdp_rewrite;
struct strbuf;

/* RFC 8843 bundle-only sections (port 0 + a=bundle-only in a BUNDLE group) take the
 * tagged section's port in the parsed SDP, so the rest of the code sees a live section. */
void bundle_sdp_fix(struct sdp *sdp);
/* `owner`'s SDP (offer or answer) is being applied: record mids and payload types,
 * (re)form owner's groups from its a=group:BUNDLE lines; in an answer, drop from the
 * offerer's (`peer`) groups what the answer rejected. Media must exist for every
 * section. Call lock held. */
void bundle_in(const struct sdp *sdp, struct party *owner, struct party *peer, bool offer);
/* The SDP going to `out`: members get the tagged section's port; in an answer, a=mid on
 * every section of out that had one and out's own group lines (those of the SDP are
 * dropped). lines[i] per media, lines[n_media] for the session. Call lock held. */
void bundle_out(const struct sdp *sdp, struct party *out, bool offer, struct sdp_rewrite *rw,
		struct strbuf *lines);
/* Which stream of the group a packet received on the tagged section's stream s belongs
 * to: by payload type (RTP), by sender SSRC (RTCP, else s); s for what is not RTP or
 * RTCP (STUN, DTLS); NULL for RTP of a payload type no section of the group has (to be
 * dropped). Worker, call lock held. */
struct stream *bundle_demux(struct stream *s, const uint8_t *p, size_t len);

#endif
