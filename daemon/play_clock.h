/* play media's clock (NG play media, play_media.h): one player per media section whose
 * stream carries announcements, made by the first play media and freed with the media
 * (media->media_play). While an announcement plays, the media worker sends a frame of
 * it every 20 ms from a timer of the section's RTP stream (stream->ptimer,
 * relay_timer.h), spliced into the side's stream toward the party (rtp_splice.h:
 * SSRC, sequence numbers and timestamps going on) and through what that stream does
 * next (relay_deliver: subscribers, transcoding, SRTP); the side's own packets wait,
 * and come after it shifted to follow. Nothing is allocated on the worker.
 *
 * Threads: new/free on the control thread; the rest with the call lock held. */
#ifndef SLUICE_PLAY_CLOCK_H
#define SLUICE_PLAY_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct media_player;
struct play_rewrite;
struct relay_emitter;
struct stream;

/* NULL on -ENOMEM. */
struct media_player *play_clock_new(void);
void play_clock_free(struct media_player *mp);
/* rw becomes the announcement (the one it replaces is returned, to be freed outside
 * the lock); *due: when the section's play timer must fire (mono_fine_us). */
struct play_rewrite *play_clock_install(struct media_player *mp, struct play_rewrite *rw,
					int64_t now, int64_t *due);
/* Ends it now (stop media); returns it (NULL: none), to be freed outside the lock. */
struct play_rewrite *play_clock_stop(struct media_player *mp);
/* Worker, t->media->media_play set, before block media and the stream's handler: a
 * packet of t's side (decrypted) that arrived at now (mono_us). -1: drop it (an
 * announcement is playing in its place); 0: send it on, renumbered in place if an
 * announcement made that necessary. */
int play_clock_packet(struct stream *t, uint8_t *pkt, size_t len, int64_t now);
/* Worker: s's play timer is due: the frames due by now (mono_fine_us) go out, and the
 * timer is set for the next. */
void play_clock_tick(struct stream *s, struct relay_emitter *e, int64_t now);
/* Why s must stay in userspace (an announcement playing into what it receives from its
 * side, or the side's packets renumbered after one); NULL: no reason of play media's. */
const char *play_clock_why(const struct stream *s);

#endif
