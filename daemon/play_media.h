/* The NG "play media" and "stop media" commands: an announcement played to a party. */
#ifndef SLUICE_PLAY_MEDIA_H
#define SLUICE_PLAY_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

struct stream;
struct config;

/* Longest announcement (after start-pos, before repeats) decoded into memory. */
#define PLAY_MEDIA_MAX_MS (10 * 60 * 1000)

/* Plays req's "file" or "blob" to the party named by from-tag (else to-tag, else
 * label; every party with "all"), as rtpengine: the party hears it instead of what its
 * peer sends; a party whose SDP takes no media (sendonly, inactive) is not played to.
 * The file is decoded whole here (audio_file.h), at the rate of each codec the peer
 * may send, then played on the call's media worker from a timer, a frame every 20 ms,
 * in the peer's stream toward the party (rtp_splice.h) and through what that stream
 * does next (subscribers, transcoding, SRTP); the peer's own packets wait until it
 * ends. A plain-forwarded stream is kept out of the kernel while it plays. "stop
 * media" ends it. With --media-dir, "file" must resolve to a path below one of the
 * folders. A file that cannot be read changes nothing. 0 with "result" (and
 * "duration" ms, or stop media's "last-frame-pos"), or -errno with *err. */
int play_media(struct daemon *d, const struct ng_request *req, struct arena *a,
	       struct bval *reply, const char **err);
/* Start-up NOTICE: which files play media may read. */
void play_media_notice(const struct config *cfg);

#endif
