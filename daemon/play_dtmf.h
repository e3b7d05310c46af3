/* The NG "play DTMF" command. */
#ifndef SLUICE_PLAY_DTMF_H
#define SLUICE_PLAY_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

struct stream;

/* Injects req->dtmf into the audio the party named by from-tag (or label) sends, i.e.
 * toward its peer, as rtpengine does ("the selected participant is the one generating
 * the DTMF event"). Transcoded media: the transcoder plays it (it owns the output
 * SSRC, sequence and timestamps). Plainly forwarded media: the party's own packets are
 * rewritten while the digit plays (sluice/dtmf_rewrite.h), as RFC 4733 events if both
 * sides have telephone-event at the audio's clock, else as in-band tones if both have
 * G.711; the stream is forwarded in userspace until the queue is empty. Anything else
 * is an error. 0 with "result" set, or -errno with *err. */
int play_dtmf(struct daemon *d, const struct ng_request *req, struct arena *a,
	      struct bval *reply, const char **err);
/* Worker, call lock held, before the stream's handler: plays queued digits into an RTP
 * packet the side sent (decrypted); *len may shrink. true: the packet now carries a
 * played digit (the operator's, not the party's media). */
bool play_dtmf_packet(struct stream *t, uint8_t *pkt, size_t *len);
struct media;
/* Control thread, call lock held: m's player for plain streams made and set up for m's
 * codecs now (DTMF-delay plays through it). 0, -ENOTSUP, -ENOTCONN, -ENOMEM. */
int play_dtmf_plain_prepare(struct media *m);
/* Worker or control thread, call lock held, after play_dtmf_plain_prepare(): a digit
 * played into what m's side sends, no pause after it. 0, -EINVAL, -ENOBUFS. */
int play_dtmf_plain_queue(struct media *m, uint8_t event, unsigned duration_ms,
			  unsigned volume);
/* Call lock held: digits queued or playing into what s receives from its side, which
 * must then stay in userspace. */
bool play_dtmf_busy(const struct stream *s);

#endif
