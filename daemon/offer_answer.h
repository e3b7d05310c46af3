/* Offer/answer: apply one side's SDP to the call model and write the SDP the other side
 * receives, pointing at sluice. Control thread only. */
#ifndef SLUICE_OFFER_ANSWER_H
#define SLUICE_OFFER_ANSWER_H

#include "daemon.h"
#include "ng_request.h"
#include "sluice/strbuf.h"

/* 0 with the rewritten SDP in out, or -errno with a static reason in *err
 * ("Unknown call-id", "Ran out of ports", "Failed to parse SDP: ..."). */
int oa_offer(struct daemon *d, const struct ng_request *req, struct strbuf *out,
	     const char **err);
int oa_answer(struct daemon *d, const struct ng_request *req, struct strbuf *out,
	      const char **err);

#endif
