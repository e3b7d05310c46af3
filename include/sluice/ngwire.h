/* NG datagram framing: "COOKIE SP BODY", where BODY is a bencode dictionary or, when it
 * starts with '{', the same dictionary as JSON (rtpengine answers in the encoding it was
 * asked in). Shared by the daemon's control server and the sluice-ng client. */
#ifndef SLUICE_NGWIRE_H
#define SLUICE_NGWIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/bencode.h"

#define NGWIRE_COOKIE_MAX 256      /* longer cookies are refused as malformed */
#define NGWIRE_MAX_DGRAM  65507    /* largest UDP payload over IPv4 */

struct ngwire_msg {
	const char *cookie;        /* points into the datagram; not NUL-terminated */
	size_t cookie_len;
	const char *body;
	size_t body_len;
};

/* Split a datagram at its first space. The cookie must be 1..NGWIRE_COOKIE_MAX bytes
 * of printable non-space ASCII and the body non-empty. 0 or -EINVAL. */
int ngwire_split(const char *buf, size_t len, struct ngwire_msg *m);

/* True if the body is JSON (first non-whitespace byte is '{'). */
bool ngwire_body_is_json(const char *body, size_t len);

/* Decode a body of either encoding into a tree in a. Trailing whitespace after bencode
 * is tolerated (hand-made requests end in a newline). *is_json (may be NULL) tells
 * which encoding it was. 0, -EINVAL, -EMSGSIZE or -ENOMEM as bv_decode/bv_from_json. */
int ngwire_decode(struct arena *a, const char *body, size_t len, struct bval **out,
		  bool *is_json);

/* Append "COOKIE SP BODY" to sb, the body as JSON or bencode. 0 or -ENOMEM. */
int ngwire_build(struct strbuf *sb, const char *cookie, size_t cookie_len,
		 const struct bval *v, bool json);

#endif
