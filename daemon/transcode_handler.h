/* Stream handlers (media_handler.h) for a media pair whose two sides negotiated
 * different codecs, numbering or packetisation:
 *
 *   transcoded pair: one lib/transcode.c pipeline per direction, on the RTP stream
 *   that receives from the sending side. Output carries sluice's own SSRC, sequence
 *   and timestamps. RTCP is not forwarded across the transcoder (the peer's report
 *   blocks would describe SSRCs the other side never sees): it is read for LSR and
 *   dropped, and sluice sends each side an SR + SDES every 5 s of media with a report
 *   block about the stream it receives from that side. DTMF events are logged (one
 *   line each: call-id, tag, digit, duration). With --jitter-buffer=MS each direction
 *   buffers its input (lib/jitter.c, adaptive 20..MS ms) and transcodes packets when
 *   they are due, from the worker's timer (relay_timer_set()): reordered packets are put
 *   back in order, missing ones concealed. Without it packets are transcoded as they
 *   arrive (the pipeline follows RTP timestamps, conceals loss and drops late packets).
 *
 *   remapped pair: same codec, different payload type numbers: the PT byte is
 *   rewritten in place, everything else (RTCP included) is forwarded.
 *
 * The handlers are the streams' codec transform (stream->xform). On a call that is
 * encrypted on either side the secure handler (secure.h) runs them after decrypting;
 * they protect what they emit for the side it goes to (secure_encrypt), so a stream
 * is decrypted -> transcoded -> encrypted with the other side's keys.
 *
 * The control thread builds the handlers, installs them under the call lock, and
 * destroys replaced ones once the lock is released (the worker only uses a handler
 * while holding the lock). call_free() destroys the ones still installed. */
#ifndef SLUICE_TRANSCODE_HANDLER_H
#define SLUICE_TRANSCODE_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "codec_policy.h"
#include "sluice/bencode.h"

/* Install what ans asks for between a (offerer's media: receives from A) and b
 * (answerer's media), or plain forwarding when ans is NULL or asks for nothing.
 * Sets the media's codec names and transcoding flags. Takes the call lock.
 * 0, -ENOMEM, or the transcoder's error (then plain forwarding is left in place). */
int xcode_apply(struct media *a, struct media *b, const struct cp_answer *ans);

/* Queue an injected DTMF digit (transcode_dtmf_inject()) into the media m receives, i.e.
 * toward m's peer. Call lock held. 0, -ENOTSUP (m is not transcoded), or the
 * transcoder's -EINVAL / -ENOBUFS. */
int xcode_inject_dtmf(struct media *m, uint8_t event, unsigned duration_ms, unsigned volume,
		      unsigned pause_ms);

/* What one transcoder took in: per-second statistics (stats.h). */
struct xcode_sample {
	char chain[100];                /* "PCMA/8000 -> PCMU/8000" */
	uint64_t packets, bytes, samples;       /* since this transcoder's previous sample */
};

/* The transcoder receiving on m, if m is transcoded: its chain and what it took in
 * since the previous call for m. Call lock held, control thread. false: none. */
bool xcode_sample(struct media *m, struct xcode_sample *out);

/* Query details of m's receiving handler ("transcoder": codecs, packets in/out,
 * concealed ms, DTMF events, RTCP sent) added to dict. Call lock held. */
void xcode_stats_add(struct arena *ar, struct bval *dict, const struct media *m);

#endif
