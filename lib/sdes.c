/* RFC 4568 a=crypto parse / format / generate. */
#include "sluice/sdes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

const enum srtpw_suite sdes_default_order[SDES_N_SUITES] = {
	SRTPW_AEAD_AES_256_GCM,
	SRTPW_AEAD_AES_128_GCM,
	SRTPW_AES_256_CM_HMAC_SHA1_80,
	SRTPW_AES_256_CM_HMAC_SHA1_32,
	SRTPW_AES_192_CM_HMAC_SHA1_80,
	SRTPW_AES_192_CM_HMAC_SHA1_32,
	SRTPW_AES_CM_128_HMAC_SHA1_80,
	SRTPW_AES_CM_128_HMAC_SHA1_32,
	SRTPW_F8_128_HMAC_SHA1_80,
	SRTPW_F8_128_HMAC_SHA1_32,
	SRTPW_NULL_HMAC_SHA1_80,
	SRTPW_NULL_HMAC_SHA1_32,
};

/* A cursor over the value; every helper stays within [p, end). */
struct cur {
	const char *p, *end;
};

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_wsp(struct cur *c)
{
	while (c->p < c->end && is_wsp(*c->p))
		c->p++;
}

/* Next whitespace-delimited token; false at the end. */
static bool token(struct cur *c, const char **s, size_t *len)
{
	skip_wsp(c);
	*s = c->p;
	while (c->p < c->end && !is_wsp(*c->p))
		c->p++;
	*len = (size_t)(c->p - *s);
	return *len > 0;
}

/* Decimal, 1..maxdig digits, whole string; value must fit in 64 bits. */
static int parse_dec(const char *s, size_t len, unsigned maxdig, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > maxdig)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && !memcmp(s, lit, len);
}

static int decode_key(const char *s, size_t len, uint8_t *out, size_t want)
{
	char in[64 + 4];
	uint8_t tmp[sizeof(in) / 4 * 3];
	size_t pad = 0, n;
	int got;

	if (len == 0 || len > 64)
		return -EINVAL;
	memcpy(in, s, len);
	while (len % 4)                     /* padding is often left out */
		in[len++] = '=';
	for (size_t i = len; i > 0 && in[i - 1] == '=' && pad < 2; i--)
		pad++;
	/* EVP_DecodeBlock skips leading/trailing blanks; none can be here (token) */
	got = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
	if (got < 0 || (size_t)got < pad)
		return -EINVAL;
	n = (size_t)got - pad;
	if (n != want)
		return -EINVAL;
	memcpy(out, tmp, want);
	return 0;
}

/* key-info = key-salt ["|" lifetime] ["|" mki-value ":" mki-length] */
static int parse_key_info(const char *s, size_t len, struct sdes_crypto *c)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(c->key.suite);
	const char *end = s + len, *bar, *colon;
	size_t klen;
	uint64_t v, ml;
	int ret;

	bar = memchr(s, '|', len);
	klen = bar ? (size_t)(bar - s) : len;
	ret = decode_key(s, klen, c->key.master, (size_t)si->key_len + si->salt_len);
	if (ret)
		return ret;

	while (bar) {
		const char *f = bar + 1;
		size_t flen;

		bar = memchr(f, '|', (size_t)(end - f));
		flen = (size_t)((bar ? bar : end) - f);
		colon = memchr(f, ':', flen);
		if (colon) {            /* MKI, at most once, last */
			if (c->key.mki_len || bar)
				return -EINVAL;
			if (parse_dec(f, (size_t)(colon - f), 20, &v) ||
			    parse_dec(colon + 1, (size_t)(f + flen - colon - 1), 3, &ml) ||
			    ml < 1 || ml > 128)
				return -EINVAL;
			if (ml > SRTPW_MKI_MAX)
				return -ENOTSUP;
			if (ml < 8 && v >> (8 * ml))
				return -EINVAL;     /* value does not fit its length */
			c->key.mki_len = (uint8_t)ml;
			c->key.mki = (uint32_t)v;
		} else {                /* lifetime: decimal or 2^N, once, before MKI */
			if (c->lifetime || c->key.mki_len)
				return -EINVAL;
			if (flen > 2 && f[0] == '2' && f[1] == '^') {
				if (parse_dec(f + 2, flen - 2, 2, &v) || v < 1 || v > 63)
					return -EINVAL;
				c->lifetime = (uint64_t)1 << v;
			} else if (parse_dec(f, flen, 19, &c->lifetime) || !c->lifetime) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int parse_session_param(const char *s, size_t len, struct sdes_crypto *c)
{
	uint64_t v;

	if (eq(s, len, "UNENCRYPTED_SRTP"))
		c->key.unencrypted_srtp = true;
	else if (eq(s, len, "UNENCRYPTED_SRTCP"))
		c->key.unencrypted_srtcp = true;
	else if (eq(s, len, "UNAUTHENTICATED_SRTP"))
		c->key.unauthenticated_srtp = true;
	else if (len > 4 && !memcmp(s, "KDR=", 4)) {
		if (parse_dec(s + 4, len - 4, 2, &v) || v > 24)
			return -EINVAL;
		if (v)
			return -ENOTSUP;    /* keys are derived once (srtp_kdf.c) */
	} else if (len > 4 && !memcmp(s, "WSH=", 4)) {
		if (parse_dec(s + 4, len - 4, 5, &v) || v < 64 || v > 32768)
			return -EINVAL;
		c->key.window = (uint16_t)v;
	} else if (len && s[0] == '-') {
		/* RFC 4568 6.3: a '-' prefix marks a parameter the receiver may ignore */
	} else {
		return -ENOTSUP;
	}
	return 0;
}

int sdes_parse(const char *s, size_t len, struct sdes_crypto *out)
{
	struct cur c = { s, s + len };
	struct sdes_crypto res;
	const char *t;
	size_t tl;
	uint64_t tag;
	int ret;

	memset(&res, 0, sizeof(res));
	if (!token(&c, &t, &tl) || parse_dec(t, tl, 9, &tag) || tag > SDES_TAG_MAX)
		return -EINVAL;
	res.tag = (uint32_t)tag;

	if (!token(&c, &t, &tl))
		return -EINVAL;
	res.key.suite = srtpw_suite_by_name(t, tl);
	if (res.key.suite == SRTPW_SUITE_NONE)
		return -ENOTSUP;

	if (!token(&c, &t, &tl))
		return -EINVAL;
	if (tl < 7 || memcmp(t, "inline:", 7))
		return -ENOTSUP;
	if (memchr(t, ';', tl))
		return -ENOTSUP;                /* several keys need MKI selection */
	ret = parse_key_info(t + 7, tl - 7, &res);
	if (ret)
		return ret;

	while (token(&c, &t, &tl)) {
		ret = parse_session_param(t, tl, &res);
		if (ret)
			return ret;
	}
	if ((res.key.unencrypted_srtp || res.key.unencrypted_srtcp ||
	     res.key.unauthenticated_srtp) && srtpw_suite_info(res.key.suite)->aead)
		return -ENOTSUP;
	*out = res;
	return 0;
}

/* Appends with bounds; sticky overflow. */
struct out {
	char *buf;
	size_t size, len;
	bool over;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->over = true;
	else
		o->len += (size_t)n;
}

int sdes_format(const struct sdes_crypto *c, char *buf, size_t size)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(c->key.suite);
	/* EVP_EncodeBlock writes 4 per 3 bytes and a NUL: 65 for AES_256's 46 */
	char b64[4 * ((SRTPW_MASTER_MAX + 2) / 3) + 1];
	struct out o = { buf, size, 0, false };

	if (!si || c->tag > SDES_TAG_MAX || c->key.mki_len > SRTPW_MKI_MAX)
		return -EINVAL;
	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	int n = EVP_EncodeBlock((unsigned char *)b64, c->key.master, si->key_len + si->salt_len);

	while (!c->pad && n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	put(&o, "%u %s inline:%s", c->tag, si->name, b64);
	if (c->lifetime) {
		if (c->lifetime > 1 && !(c->lifetime & (c->lifetime - 1)))
			put(&o, "|2^%d", __builtin_ctzll(c->lifetime));
		else
			put(&o, "|%llu", (unsigned long long)c->lifetime);
	}
	if (c->key.mki_len)
		put(&o, "|%u:%u", c->key.mki, c->key.mki_len);
	if (c->key.unencrypted_srtp)
		put(&o, " UNENCRYPTED_SRTP");
	if (c->key.unencrypted_srtcp)
		put(&o, " UNENCRYPTED_SRTCP");
	if (c->key.unauthenticated_srtp)
		put(&o, " UNAUTHENTICATED_SRTP");
	if (c->key.window)
		put(&o, " WSH=%u", c->key.window);
	if (o.over) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.len;
}

int sdes_generate(struct sdes_crypto *c, uint32_t tag, enum srtpw_suite suite)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(suite);

	if (!si || tag > SDES_TAG_MAX)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->key.suite = suite;
	if (RAND_bytes(c->key.master, si->key_len + si->salt_len) != 1)
		return -EIO;
	return 0;
}

int sdes_choose(const struct sdes_crypto *offers, unsigned n, unsigned mask)
{
	for (unsigned i = 0; i < n; i++)
		if (srtpw_suite_info(offers[i].key.suite) && (mask & SDES_BIT(offers[i].key.suite)))
			return (int)i;
	return -ENOENT;
}
