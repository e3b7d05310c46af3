/* NG block/unblock DTMF, block/unblock media, silence/unsilence media (rtpengine's
 * commands): what one side (from-tag or label), or every side, sends is held back or
 * replaced by silence, until the matching un- command. Blocked streams are forwarded in
 * userspace meanwhile. start/stop forwarding answer that they need rtpengine's proc
 * recording, which sluice does not have. */
#ifndef SLUICE_MEDIA_BLOCK_H
#define SLUICE_MEDIA_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/bencode.h"

struct daemon;
struct ng_request;
struct stream;

int media_block_command(struct daemon *d, const struct ng_request *req, struct arena *a,
			struct bval *reply, const char **err);
/* Worker, call lock held, t->media->party->opts.block set: false when the packet must
 * not be forwarded; may rewrite its payload (silence). */
bool media_block_pass(const struct stream *t, uint8_t *p, size_t len);

#endif
