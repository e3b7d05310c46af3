/* The o= and s= lines of SDP sent to a party, for the replace values "username",
 * "session-name" and "sdp-version" (rtpengine's meaning): the username and the session
 * name stay the ones of the first SDP that party got with the flag; the version is
 * ours, the same as last time while the SDP is the same, one more when it changed.
 * Control thread only. */
#ifndef SLUICE_OA_ORIGIN_H
#define SLUICE_OA_ORIGIN_H

#include <stdbool.h>

#include "call.h"
#include "sluice/strbuf.h"

/* Rewrite the o= line of the emitted SDP in sb (CRLF lines) for party `to`.
 * 0, -EINVAL (no well-formed o= line: left as it is) or -ENOMEM. */
int oa_origin_fix(struct party *to, struct strbuf *sb, bool username, bool version);

/* Rewrite the s= line of the emitted SDP in sb for party `to` (replace=session-name).
 * 0, -EINVAL (no s= line: left as it is) or -ENOMEM. */
int oa_session_name_fix(struct party *to, struct strbuf *sb);

#endif
