/* NG options for SRTP: SDES suite selection and session parameters, DTLS roles and
 * fingerprint hash, OSRTP.
 *
 * Accepted forms (rtpengine's spelling; case-insensitive except suite names):
 *   flags: "SDES-off", "SDES-no-<SUITE>", "SDES-only-<SUITE>", "SDES-pad", "pad-crypto",
 *          "SDES-lifetime", "SDES-unencrypted_srtp" (and _srtcp, unauthenticated_srtp,
 *          and the negations encrypted_srtp, encrypted_srtcp, authenticated_srtp),
 *          "DTLS=off|no|passive|active", "DTLS-off|passive|active",
 *          "DTLS-reverse=passive|active", "DTLS-fingerprint=sha-256",
 *          "OSRTP-offer", "OSRTP=accept", ...
 *   keys:  "SDES": [...] (or one string), "OSRTP": [...], "DTLS", "DTLS-reverse",
 *          "DTLS-fingerprint": "..." */
#include "ng_request.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "sluice/dtls.h"
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

static const struct { const char *n; uint8_t bit; bool on; } sdes_params[] = {
	{ "unencrypted_srtp", NG_SDES_UNENC_SRTP, true },
	{ "unencrypted_srtcp", NG_SDES_UNENC_SRTCP, true },
	{ "unauthenticated_srtp", NG_SDES_UNAUTH_SRTP, true },
	{ "encrypted_srtp", NG_SDES_UNENC_SRTP, false },
	{ "encrypted_srtcp", NG_SDES_UNENC_SRTCP, false },
	{ "authenticated_srtp", NG_SDES_UNAUTH_SRTP, false },
};

static bool sdes_param(struct ng_crypto_opts *o, const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(sdes_params) / sizeof(sdes_params[0]); i++) {
		if (!is(s, len, sdes_params[i].n))
			continue;
		if (sdes_params[i].on) {
			o->sdes_set |= sdes_params[i].bit;
			o->sdes_clear &= (uint8_t)~sdes_params[i].bit;
		} else {
			o->sdes_clear |= sdes_params[i].bit;
			o->sdes_set &= (uint8_t)~sdes_params[i].bit;
		}
		return true;
	}
	return false;
}

/* One SDES option without the "SDES-" prefix. */
static void sdes_opt(struct ng_request *r, const char *s, size_t len)
{
	struct ng_crypto_opts *o = &r->crypto;
	enum srtpw_suite suite;

	if (sdes_param(o, s, len))
		return;
	if (is(s, len, "pad")) {
		o->sdes_pad = true;
	} else if (is(s, len, "lifetime")) {
		o->sdes_lifetime = true;
	} else if (is(s, len, "off") || is(s, len, "no") || is(s, len, "disable")) {
		o->sdes_off = true;
	} else if (prefix(s, len, "no-")) {
		suite = srtpw_suite_by_name(s + 3, len - 3);
		if (suite != SRTPW_SUITE_NONE)
			o->sdes_no |= SDES_BIT(suite);
	} else if (prefix(s, len, "only-")) {
		suite = srtpw_suite_by_name(s + 5, len - 5);
		if (suite != SRTPW_SUITE_NONE)
			o->sdes_only |= SDES_BIT(suite);
	} else if (len < 59) {
		char name[64] = "SDES-";

		memcpy(name + 5, s, len);
		ng_unsupported_mark(r, name, len + 5);
	}
}

static bool osrtp_opt(struct ng_request *r, const char *s, size_t len)
{
	if (is(s, len, "offer") || is(s, len, "offer-RFC"))
		r->crypto.osrtp |= NG_OSRTP_OFFER;
	else if (is(s, len, "accept") || is(s, len, "accept-RFC"))
		r->crypto.osrtp |= NG_OSRTP_ACCEPT;
	else
		return ng_unsupported_kv(r, "OSRTP", s, len);
	return true;
}

static bool fp_opt(struct ng_crypto_opts *o, const char *s, size_t len)
{
	enum dtls_hash h;

	if (dtls_hash_parse(s, len, &h))
		return false;
	o->dtls_hash = (unsigned)h;
	return true;
}

/* Returns false for a value it does not know (the option is then left unchanged). */
static bool dtls_opt(enum ng_dtls *o, const char *s, size_t len, bool reverse)
{
	if (!reverse && (is(s, len, "off") || is(s, len, "no") || is(s, len, "disable")))
		*o = NG_DTLS_OFF;
	else if (is(s, len, "passive"))
		*o = NG_DTLS_PASSIVE;
	else if (is(s, len, "active"))
		*o = NG_DTLS_ACTIVE;
	else
		return false;
	return true;
}

bool ng_crypto_flag(struct ng_request *r, const char *s, size_t len)
{
	struct ng_crypto_opts *o = &r->crypto;

	if (is(s, len, "pad-crypto")) {
		o->sdes_pad = true;
		return true;
	}
	if (prefix(s, len, "SDES-") || prefix(s, len, "SDES=")) {
		sdes_opt(r, s + 5, len - 5);
		return true;
	}
	if (prefix(s, len, "OSRTP-") || prefix(s, len, "OSRTP="))
		return osrtp_opt(r, s + 6, len - 6);
	if (prefix(s, len, "DTLS-reverse=") || prefix(s, len, "DTLS-reverse-"))
		return dtls_opt(&o->dtls_reverse, s + 13, len - 13, true);
	if (prefix(s, len, "DTLS-fingerprint=") || prefix(s, len, "DTLS-fingerprint-"))
		return fp_opt(o, s + 17, len - 17);
	if (prefix(s, len, "DTLS-") || prefix(s, len, "DTLS="))
		return dtls_opt(&o->dtls, s + 5, len - 5, false);
	return false;
}

/* A key holding one string or a list of strings, each given to fn. */
static int str_list(const struct bval *v, struct ng_request *r,
		    bool (*fn)(struct ng_request *, const char *, size_t))
{
	if (!v)
		return 0;
	if (v->type == BV_STR) {
		fn(r, v->str.s, v->str.len);
		return 0;
	}
	if (v->type != BV_LIST)
		return -EINVAL;
	for (struct bval *e = v->c.first; e; e = e->next) {
		if (e->type != BV_STR)
			return -EINVAL;
		fn(r, e->str.s, e->str.len);
	}
	return 0;
}

static bool sdes_cb(struct ng_request *r, const char *s, size_t len)
{
	sdes_opt(r, s, len);
	return true;
}

int ng_crypto_keys(const struct bval *dict, struct ng_request *r)
{
	struct bval *v;

	if (str_list(bv_dict_get(dict, "SDES"), r, sdes_cb) ||
	    str_list(bv_dict_get(dict, "OSRTP"), r, osrtp_opt))
		return -EINVAL;
	v = bv_dict_get(dict, "DTLS");
	if (v && (v->type != BV_STR || !dtls_opt(&r->crypto.dtls, v->str.s, v->str.len, false)))
		return -EINVAL;
	v = bv_dict_get(dict, "DTLS-reverse");
	if (!v)
		v = bv_dict_get(dict, "DTLS reverse");
	if (v && (v->type != BV_STR ||
		  !dtls_opt(&r->crypto.dtls_reverse, v->str.s, v->str.len, true)))
		return -EINVAL;
	v = bv_dict_get(dict, "DTLS-fingerprint");
	if (!v)
		v = bv_dict_get(dict, "DTLS fingerprint");
	if (v && (v->type != BV_STR || !fp_opt(&r->crypto, v->str.s, v->str.len)))
		return -EINVAL;
	return 0;
}
