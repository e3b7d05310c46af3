/* Offer/answer: apply one side's SDP to the call model and write the SDP the other side
 * receives, pointing at sluice. Control thread only. */
#ifndef SLUICE_OFFER_ANSWER_H
#define SLUICE_OFFER_ANSWER_H

#include <errno.h>

#include "daemon.h"
#include "ng_request.h"
#include "sluice/strbuf.h"

/* A new call refused by a load limit (load_limit.h); *err says which. */
#define OA_LOAD_LIMIT (-EBUSY)

/* 0 with the rewritten SDP in out, or -errno with a static reason in *err
 * ("Unknown call-id", "Ran out of ports", "Failed to parse SDP: ..."), or
 * OA_LOAD_LIMIT (offer only: the call-id was new). */
int oa_offer(struct daemon *d, const struct ng_request *req, struct strbuf *out,
	     const char **err);
int oa_answer(struct daemon *d, const struct ng_request *req, struct strbuf *out,
	      const char **err);

#endif
