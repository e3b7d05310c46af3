/* NG options for SRTP: SDES suite selection, DTLS role, ICE=force-relay.
 *
 * Accepted forms (rtpengine's spelling; case-insensitive except suite names):
 *   flags: "SDES-off", "SDES-no-<SUITE>", "SDES-only-<SUITE>", "DTLS=off|no|passive|
 *          active", "DTLS-off|passive|active", "ICE=force-relay"
 *   keys:  "SDES": ["off", "no-<SUITE>", "only-<SUITE>"] (or one string), "DTLS": "..."
 * Other SDES-* variants (pad, lifetime, static, ...) are taken and ignored. */
#include "ng_request.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sluice/sdes.h"
#include "sluice/srtp.h"

static bool prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && !strncasecmp(s, p, n);
}

static bool is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && !strncasecmp(s, lit, len);
}

/* One SDES option without the "SDES-" prefix. */
static void sdes_opt(struct ng_crypto_opts *o, const char *s, size_t len)
{
	enum srtpw_suite suite;

	if (is(s, len, "off") || is(s, len, "no")) {
		o->sdes_off = true;
	} else if (prefix(s, len, "no-")) {
		suite = srtpw_suite_by_name(s + 3, len - 3);
		if (suite != SRTPW_SUITE_NONE)
			o->sdes_no |= SDES_BIT(suite);
	} else if (prefix(s, len, "only-")) {
		suite = srtpw_suite_by_name(s + 5, len - 5);
		if (suite != SRTPW_SUITE_NONE)
			o->sdes_only |= SDES_BIT(suite);
	}
}

/* Returns false for a value it does not know (the option is then left unchanged). */
static bool dtls_opt(struct ng_crypto_opts *o, const char *s, size_t len)
{
	if (is(s, len, "off") || is(s, len, "no") || is(s, len, "disable"))
		o->dtls = NG_DTLS_OFF;
	else if (is(s, len, "passive"))
		o->dtls = NG_DTLS_PASSIVE;
	else if (is(s, len, "active"))
		o->dtls = NG_DTLS_ACTIVE;
	else
		return false;
	return true;
}

bool ng_crypto_flag(struct ng_request *r, const char *s, size_t len)
{
	struct ng_crypto_opts *o = &r->crypto;

	if (prefix(s, len, "SDES-") || prefix(s, len, "SDES=")) {
		sdes_opt(o, s + 5, len - 5);
		return true;
	}
	if (prefix(s, len, "DTLS-") || prefix(s, len, "DTLS="))
		return dtls_opt(o, s + 5, len - 5);
	if (is(s, len, "ICE=force-relay") || is(s, len, "ICE-force-relay")) {
		r->ice = NG_ICE_FORCE;
		o->ice_force_relay = true;
		return true;
	}
	return false;
}

int ng_crypto_keys(const struct bval *dict, struct ng_request *r)
{
	struct bval *v = bv_dict_get(dict, "SDES");

	if (v && v->type == BV_STR) {
		sdes_opt(&r->crypto, v->str.s, v->str.len);
	} else if (v && v->type == BV_LIST) {
		for (struct bval *e = v->c.first; e; e = e->next) {
			if (e->type != BV_STR)
				return -EINVAL;
			sdes_opt(&r->crypto, e->str.s, e->str.len);
		}
	} else if (v) {
		return -EINVAL;
	}
	v = bv_dict_get(dict, "DTLS");
	if (v && (v->type != BV_STR || !dtls_opt(&r->crypto, v->str.s, v->str.len)))
		return -EINVAL;
	v = bv_dict_get(dict, "ICE");
	if (v && v->type == BV_STR && is(v->str.s, v->str.len, "force-relay"))
		r->crypto.ice_force_relay = true;
	return 0;
}
