/* Helpers shared by sdp_parse.c, sdp_emit.c and sdp_query.c. Not part of the API. */
#ifndef SLUICE_SDP_INTERNAL_H
#define SLUICE_SDP_INTERNAL_H

#include <stdbool.h>
#include <string.h>

#include "sluice/sdp.h"

static inline bool sdp_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Next whitespace-separated token of [*p, end); advances *p past it. False at end. */
static inline bool sdp_tok(const char **p, const char *end, struct sdp_str *t)
{
	const char *s = *p, *e;

	while (s < end && sdp_ws(*s))
		s++;
	e = s;
	while (e < end && !sdp_ws(*e))
		e++;
	*p = e;
	t->s = s;
	t->len = (size_t)(e - s);
	return e > s;
}

static inline struct sdp_str sdp_trim(struct sdp_str v)
{
	while (v.len && sdp_ws(v.s[0])) {
		v.s++;
		v.len--;
	}
	while (v.len && sdp_ws(v.s[v.len - 1]))
		v.len--;
	return v;
}

static inline bool sdp_str_eq(struct sdp_str v, const char *lit)
{
	size_t n = strlen(lit);

	return v.len == n && memcmp(v.s, lit, n) == 0;
}

/* Split an a= value into name and value: "rtpmap:0 PCMU/8000" -> "rtpmap", "0 PCMU/8000".
 * Flags ("a=rtcp-mux") get an empty value pointing at the end; trailing blanks of a
 * flag are not part of its name. Returns whether a ':' was present. */
static inline bool sdp_attr_split(struct sdp_str v, struct sdp_str *name, struct sdp_str *val)
{
	const char *colon = memchr(v.s, ':', v.len);

	if (!colon) {
		*name = sdp_trim(v);
		val->s = v.s + v.len;
		val->len = 0;
		return false;
	}
	name->s = v.s;
	name->len = (size_t)(colon - v.s);
	val->s = colon + 1;
	val->len = v.len - name->len - 1;
	return true;
}

/* Decimal 0..65535, digits only. */
static inline bool sdp_u16(struct sdp_str t, uint16_t *out)
{
	unsigned v = 0;

	if (t.len == 0 || t.len > 5)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		if (t.s[i] < '0' || t.s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(t.s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

#endif
