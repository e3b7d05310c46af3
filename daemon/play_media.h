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
 * peer sends.
 * The file is decoded whole here (audio_file.h), at the rate of each codec the peer
 * may send, then played by rewriting the peer's packets on their way to the party
 * (play_rewrite.h), before any transcoder or SRTP step; a plain-forwarded stream is
 * kept out of the kernel until it ends. "stop media" ends it. With --media-dir, "file"
 * must resolve to a path below one of the folders. A file that cannot be read changes
 * nothing. 0 with "result" (and "duration" ms, or stop media's "last-frame-pos"), or
 * -errno with *err. */
int play_media(struct daemon *d, const struct ng_request *req, struct arena *a,
	       struct bval *reply, const char **err);
/* Worker, call lock held, before the stream's handler (like play_dtmf_packet): the
 * announcement into a packet of t's side, buffer cap bytes. -1: drop it (the side's
 * own media while an announcement plays), 0: untouched, 1: carries the announcement. */
int play_media_packet(struct stream *t, uint8_t *pkt, size_t *len, size_t cap);
/* Call lock held: an announcement is playing into what s receives from its side; s
 * must then stay in userspace. */
bool play_media_busy(const struct stream *s);
/* Start-up NOTICE: which files play media may read. */
void play_media_notice(const struct config *cfg);

#endif
