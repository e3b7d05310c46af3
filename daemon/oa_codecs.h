/* Codec negotiation inside offer/answer processing: runs codec_policy.c on each media
 * section, keeps the offer's decision in the offerer's media (media->neg), installs
 * transcoding or remapping handlers after the answer (transcode_handler.c), and hands
 * the SDP codec rewrite to offer_answer.c's rewrite. Control thread only. */
#ifndef SLUICE_OA_CODECS_H
#define SLUICE_OA_CODECS_H

#include "call.h"
#include "ng_request.h"
#include "sluice/sdp.h"

struct oa_codecs;

/* After the offerer's SDP was applied. *out stays NULL when no section needs a codec
 * rewrite. 0, -ENOMEM, or -ENOTSUP when transcode/offer names a codec this libavcodec
 * cannot produce (with *err saying which and why). */
int oa_codecs_offer(struct oa_codecs **out, const struct ng_request *req,
		    const struct sdp *sdp, struct party *offerer, const char **err);
/* After the answerer's SDP was applied: decide forwarding or transcoding per section
 * and install the handlers. 0, -ENOMEM or a transcoder setup error (with *err). */
int oa_codecs_answer(struct oa_codecs **out, const struct ng_request *req,
		     const struct sdp *sdp, struct party *answerer, struct party *offerer,
		     const char **err);
/* Copy the codec rewrite into rw (c may be NULL). The strings stay owned by c. */
void oa_codecs_rewrite(const struct oa_codecs *c, struct sdp_rewrite *rw);
void oa_codecs_free(struct oa_codecs *c);

#endif
