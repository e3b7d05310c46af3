/* Media fork: the NG "subscribe request", "subscribe answer" and "unsubscribe" commands
 * (rtpengine's semantics). A subscription is a new party of the call that receives a
 * copy of what the chosen parties send.
 *
 * subscribe request (call-id; from-tag, a from-tags list, or all): makes the subscriber
 * party (tag: to-tag, or a new one), one media section with its own ports per audio
 * section of each chosen party, and replies a sendonly offer SDP that lists each
 * source's codecs, with from-tags and to-tag. subscribe answer (to-tag, sdp): the
 * subscriber's addresses; from then on each packet a source sends (RTP, decrypted, as
 * its peer will get it before transcoding) is also sent, unchanged (SSRC, sequence
 * numbers, payload type), from the subscriber's port to the subscriber. A source with a
 * subscriber is forwarded in userspace. unsubscribe (to-tag): the copies stop; the
 * subscriber's ports stay until the call ends.
 *
 * A subscriber may get its own codec: codec-transcode flags of the request (codec:
 * {transcode: [...]}, "transcode-X") add codecs to the offer after the source's; an
 * answer whose first codec is not the source's is then transcoded to it (lib
 * transcode.c: sluice's own SSRC, sequence numbers and timestamps) if the answer
 * carries the allow-transcoding flag, else refused, as rtpengine. A publisher
 * (publish.h) is subscribed to as any party. */
#ifndef SLUICE_SUBSCRIBE_H
#define SLUICE_SUBSCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

struct media;
struct stream;
struct relay_emitter;

/* The NG_SUBSCRIBE commands. 0 with "result", or -errno with *err. */
int subscribe_command(struct daemon *d, const struct ng_request *req, struct arena *a,
		      struct bval *reply, const char **err);
/* Frees what a subscriber's section m owns (its transcoder); the call's teardown. */
void subscribe_media_free(struct media *m);
/* Worker, call lock held: copies of a packet t's side sent, to t's subscribers. */
void subscribe_fork(struct relay_emitter *e, struct stream *t, const uint8_t *pkt,
		    size_t len);

#endif
