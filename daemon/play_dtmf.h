/* The NG "play DTMF" command. */
#ifndef SLUICE_PLAY_DTMF_H
#define SLUICE_PLAY_DTMF_H

#include "daemon.h"
#include "ng_request.h"
#include "sluice/bencode.h"

/* Injects req->dtmf into the media the party named by from-tag (or label) sends, i.e.
 * toward its peer, as rtpengine does ("the selected participant is the one generating
 * the DTMF event"). Only transcoded media can carry it: the transcoder owns the output
 * SSRC, sequence and timestamps, so a digit fits in without disturbing them. Plain
 * forwarded media gets an error. 0 with "result" set, or -errno with *err. */
int play_dtmf(struct daemon *d, const struct ng_request *req, struct arena *a,
	      struct bval *reply, const char **err);

#endif
