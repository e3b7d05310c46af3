/* Audio from a file as RTP payloads of a call's codecs, frame by frame (the NG
 * `play media` command): the caller paces the frames on its own clock and sends them in
 * the sender's stream (rtp_splice.h).
 *
 * A track is one codec the sender may use (its payload type, or -1: the sender's
 * dynamic type dyn_pt) with its own encoder and the announcement decoded at that
 * encoder's rate (audio_file.h); all tracks share one position, so a codec switch
 * mid-announcement goes on where it was. Each frame is encoded in the codec the
 * sender last used, when a track has it, else in the first track's.
 *
 * Ownership/threads: made and configured by one thread (the control thread), then
 * play_rw_frame() runs under the caller's lock; nothing is allocated after
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
 * repeats remain, 0: no limit. dyn_pt: the payload type of the sender's first codec
 * when it is dynamic; skip_pt: the sender's telephone-event type (never an audio
 * track), -1 none. -ENOMEM. */
int play_rw_create(unsigned repeat, uint64_t limit_ms, int dyn_pt, int skip_pt,
		   struct play_rewrite **out);
void play_rw_free(struct play_rewrite *rw);
/* Adds a track: pt (0..127, or -1 for the sender's dynamic type), its codec and the
 * announcement decoded at codec_enc_rate(enc). Takes ownership of enc and pcm (freed
 * with rw, also on failure). -E2BIG (full), -EINVAL (pcm rate is not the encoder's, or
 * empty). */
int play_rw_add_track(struct play_rewrite *rw, int pt, const struct codec_def *def,
		      struct codec_enc *enc, struct audio_pcm *pcm);
/* Total time the announcement plays, ms (repeats and limit applied). */
uint64_t play_rw_duration_ms(const struct play_rewrite *rw);
struct play_rw_frame {
	int pt;                         /* payload type to send it with */
	unsigned clock;                 /* its RTP clock rate */
	uint32_t step;                  /* RTP timestamp units the frame covers */
};

/* The next ptime_ms of the announcement (silence past its end), encoded for payload
 * type pt (the sender's last; its track, else the first) into out (cap bytes); the
 * position moves on. Returns the payload's length (0: the encoder sends nothing for
 * this frame, DTX), -ENODATA (not playing), -EINVAL (the codec cannot frame ptime_ms)
 * or the encoder's -errno. */
int play_rw_frame(struct play_rewrite *rw, int pt, unsigned ptime_ms, uint8_t *out,
		  size_t cap, struct play_rw_frame *f);
/* Still playing: frames remain. */
bool play_rw_busy(const struct play_rewrite *rw);
/* Ends playback now (NG stop media). */
void play_rw_stop(struct play_rewrite *rw);
/* Position reached within the file, in the file's own sample frames (rtpengine's
 * "last-frame-pos"), and the milliseconds played so far. */
uint64_t play_rw_frame_pos(const struct play_rewrite *rw, uint64_t start_pos);
uint64_t play_rw_played_ms(const struct play_rewrite *rw);

#endif
