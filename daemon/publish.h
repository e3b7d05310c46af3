/* NG "publish" (rtpengine's semantics, WebRTC-SFU style): a publisher sends its SDP
 * offer and the relay answers it itself, as the receiving end: recvonly (inactive if
 * the publisher does not send), the first codec of each section, its own ICE, DTLS or
 * SDES as the offer asks. The publisher's media is received and latched as any side's
 * but forwarded nowhere; subscribers get copies through "subscribe request" with the
 * publisher's tag as from-tag (subscribe.h). A second publish on the same tag is a
 * re-offer. delete of the call (or of the publisher's tag) ends it.
 *
 * How: the offer goes through the normal offer/answer path toward a stand-in answerer
 * party (party->pub_answerer: plain RTP, ICE removed, on hold, never wired, not shown in
 * query, not a subscription source), and an answer publish.c writes for it comes back
 * through the answer path, which produces the SDP toward the publisher with every
 * transport feature the offer/answer code has. The stand-in keeps its ports (one pair
 * per section) so a re-publish finds everything where it was. */
#ifndef SLUICE_PUBLISH_H
#define SLUICE_PUBLISH_H

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

/* 0 with "sdp" and "result" in reply, or -errno with a static reason in *err
 * ("No SDP body in message", those of oa_offer / oa_answer), or 0 with result
 * "load limit" for a client that supports it (a new call refused). */
int publish_command(struct daemon *d, const struct ng_request *req, struct arena *a,
		    struct bval *reply, const char **err);

#endif
