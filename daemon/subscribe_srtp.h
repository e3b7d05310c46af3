/* SDES-SRTP toward a subscriber (subscribe_srtp.c; docs/media-fork.md). */
#ifndef SLUICE_SUBSCRIBE_SRTP_H
#define SLUICE_SUBSCRIBE_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "ng_request.h"

struct media;
struct sdp;
struct stream;
struct strbuf;
struct relay_emitter;

/* subscribe request, control thread: with an SRTP transport-protocol, our keys toward
 * the subscriber's section sm (sm->sec, sm->proto). 0 (also: plain), or -errno with
 * *err. Takes the call lock. */
int subscribe_srtp_offer(struct daemon *d, const struct ng_request *req, struct media *sm,
			 const char **err);
/* The a=crypto lines of sm's offer (none when plain). 0 or -errno. */
int subscribe_srtp_sdp(const struct media *sm, struct strbuf *sb);
/* subscribe answer: section i of the subscriber's SDP keys sm (SDES: its line for one
 * of ours). 0 or -errno with *err. Takes the call lock. */
int subscribe_srtp_answer(struct daemon *d, const struct ng_request *req,
			  const struct sdp *sdp, unsigned i, struct media *sm, const char **err);
/* Worker, call lock held: a copy for dst, protected when dst's side speaks SRTP.
 * false: dst is plain (the caller sends the copy as it is). */
bool subscribe_srtp_emit(struct relay_emitter *e, struct stream *dst, const uint8_t *pkt,
			 size_t len);

#endif
