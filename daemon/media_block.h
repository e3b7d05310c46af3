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
 * not be forwarded; may rewrite it (silence; a DTMF event replaced as DTMF-security
 * says, which may lengthen it up to cap). */
bool media_block_pass(struct stream *t, uint8_t *p, size_t *len, size_t cap);
struct party;
/* Call lock held: the request's delay-buffer, DTMF-security, volume, frequencies and
 * digit for what p sends (block commands, and offer/answer for the side that sent the
 * SDP). A DTMF-security mode turns DTMF blocking on, `off` turns it off; a trigger
 * without a mode leaves it off until the trigger comes (dtmf_trigger.h). */
void media_block_dtmf_opts(struct party *p, const struct ng_request *req);

#endif
