/* Audio from a file played into an RTP stream by rewriting the sender's own packets
 * (the NG `play media` command).
 *
 * Like dtmf_rewrite.h, no packet is added or removed: each audio packet the sender
 * sends while the announcement plays keeps its SSRC, sequence number, timestamp and
 * marker, and its payload becomes the next stretch of the announcement encoded in the
 * packet's own codec, as many samples as the sender's packet carried (its payload
 * length for G.711/G.722/G.729, the TOC for Opus, else its timestamp step). So the
 * receiver's jitter buffer, an SRTP index, RTCP counts and a transcoder behind need
 * no offset, and the sender's media resumes seamlessly after the last played packet.
 * Packets of a payload type no track encodes (telephone-event, comfort noise, a codec
 * without an encoder) are dropped while it plays: they are the sender's own media.
 * RTCP is not touched. The pacing is the sender's: a sender that sends nothing hears
 * nothing played into its packets.
 *
 * A track is one codec the sender may use (its payload type, or -1: any dynamic type
 * the sender uses other than skip_pt) with its own encoder and the announcement
 * decoded at that encoder's rate (audio_file.h); all tracks share one position, so a
 * codec switch mid-announcement goes on where it was.
 *
 * Ownership/threads: made and configured by one thread (the control thread), then
 * play_rw_packet() runs under the caller's lock; nothing is allocated after
 * play_rw_add_track(). */
#ifndef SLUICE_PLAY_REWRITE_H
#define SLUICE_PLAY_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/audio_file.h"
#include "sluice/codec.h"

#define PLAY_RW_TRACKS 4

struct play_rewrite;

/* repeat: times the announcement plays (>= 1); limit_ms: stop after this long even if
 * repeats remain, 0: no limit. skip_pt: the sender's telephone-event type (never an
 * audio track), -1 none. -ENOMEM. */
int play_rw_create(unsigned repeat, uint64_t limit_ms, int skip_pt, struct play_rewrite **out);
void play_rw_free(struct play_rewrite *rw);
/* Adds a track: pt (0..127, or -1 for the sender's dynamic type), its codec and the
 * announcement decoded at codec_enc_rate(enc). Takes ownership of enc and pcm (freed
 * with rw, also on failure). -E2BIG (full), -EINVAL (pcm rate is not the encoder's, or
 * empty). */
int play_rw_add_track(struct play_rewrite *rw, int pt, const struct codec_def *def,
		      struct codec_enc *enc, struct audio_pcm *pcm);
/* Total time the announcement plays, ms (repeats and limit applied). */
uint64_t play_rw_duration_ms(const struct play_rewrite *rw);
/* One RTP packet the sender sent (decrypted), buffer of cap bytes: rewritten in place.
 * 1: now carries the announcement (*len changed); 0: untouched (not playing, RTCP, not
 * RTP); -1: drop it (the sender's media while the announcement plays). */
int play_rw_packet(struct play_rewrite *rw, uint8_t *pkt, size_t *len, size_t cap);
/* Still playing: the stream must pass through play_rw_packet(). */
bool play_rw_busy(const struct play_rewrite *rw);
/* Ends playback now (NG stop media). */
void play_rw_stop(struct play_rewrite *rw);
/* Position reached within the file, in the file's own sample frames (rtpengine's
 * "last-frame-pos"), and the milliseconds played so far. */
uint64_t play_rw_frame_pos(const struct play_rewrite *rw, uint64_t start_pos);
uint64_t play_rw_played_ms(const struct play_rewrite *rw);

#endif
