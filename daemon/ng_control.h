/* One NG message in, one reply out: cookie, reply cache, bencode/JSON decoding, command
 * dispatch, reply encoding. Transport-independent (UDP and TCP call it alike). */
#ifndef SLUICE_NG_CONTROL_H
#define SLUICE_NG_CONTROL_H

#include <stddef.h>

#include "daemon.h"
#include "sluice/ngwire.h"
#include "sluice/strbuf.h"

#define NG_MAX_MESSAGE  (64 * 1024)     /* larger requests get an error reply */
#define NG_MAX_COOKIE   NGWIRE_COOKIE_MAX
#define NG_ARENA_LIMIT  (4 * 1024 * 1024)

struct ng_cache;

/* Process msg; the complete reply (cookie included) is left in reply. Returns 0 when
 * there is a reply to send, -EINVAL when the message has no cookie (nothing can be
 * answered). */
int ng_control_process(struct daemon *d, struct ng_cache *cache, const char *msg,
		       size_t len, const union sockaddr_u *from, struct strbuf *reply);
/* An error reply to msg (its cookie, its encoding) saying why, for when the real reply
 * cannot be delivered. 0, -EINVAL (no cookie) or -ENOMEM. */
int ng_control_error(struct daemon *d, const char *msg, size_t len, const char *why,
		     struct strbuf *out);

#endif
