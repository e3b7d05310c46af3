/* libFuzzer target: sluice's SRTP against libsrtp2 on arbitrary packets (differential).
 *
 * data[0] picks the suite (those libsrtp2 does as the RFCs say: not F8, not AES-192),
 * RTP or RTCP, and whether an MKI is used; the rest is a run of packets, each one
 * length byte and its bytes (version forced to 2, SSRC one of four: fewer than the SSRC
 * table holds, so the two never forget different SSRCs). The contexts of a variant
 * live for RECYCLE inputs (libsrtp2 takes ~10 ms to make one). Per packet:
 *   - libsrtp2 and sluice both protect it with the same key: both refuse, or both give
 *     the same bytes (every suite here is deterministic: same key and index, same output);
 *   - sluice unprotects libsrtp2's packet and libsrtp2 sluice's: the original comes
 *     back, or both receivers call it a replay (an index seen in this input already). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/crypto_types.h>
#include <srtp2/srtp.h>

#include "sluice/srtp.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAXPKT 512
#define CAP    (MAXPKT + SRTPW_TAILROOM + 16)

static const enum srtpw_suite suites[] = {
	SRTPW_AES_CM_128_HMAC_SHA1_80, SRTPW_AES_CM_128_HMAC_SHA1_32,
	SRTPW_AES_256_CM_HMAC_SHA1_80, SRTPW_AES_256_CM_HMAC_SHA1_32,
	SRTPW_AEAD_AES_128_GCM, SRTPW_AEAD_AES_256_GCM,
	SRTPW_NULL_HMAC_SHA1_80, SRTPW_NULL_HMAC_SHA1_32,
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

static void ref_policy(enum srtpw_suite s, srtp_crypto_policy_t *p)
{
	switch (s) {
	case SRTPW_AES_CM_128_HMAC_SHA1_80: srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(p); break;
	case SRTPW_AES_CM_128_HMAC_SHA1_32: srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p); break;
	case SRTPW_AES_256_CM_HMAC_SHA1_80: srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(p); break;
	case SRTPW_AES_256_CM_HMAC_SHA1_32: srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(p); break;
	case SRTPW_AEAD_AES_128_GCM:        srtp_crypto_policy_set_aes_gcm_128_16_auth(p); break;
	case SRTPW_AEAD_AES_256_GCM:        srtp_crypto_policy_set_aes_gcm_256_16_auth(p); break;
	default:
		srtp_crypto_policy_set_null_cipher_hmac_sha1_80(p);
		if (s == SRTPW_NULL_HMAC_SHA1_32)
			p->auth_tag_len = 4;
		break;
	}
}

struct ref_key {
	unsigned char key[SRTPW_MASTER_MAX], mki[1];
	srtp_master_key_t mk;
	srtp_master_key_t *mks[1];
};

static srtp_t ref_ctx(const struct srtpw_key *k, bool inbound, struct ref_key *rk)
{
	srtp_policy_t p;
	srtp_t ctx;

	memset(&p, 0, sizeof(p));
	ref_policy(k->suite, &p.rtp);
	p.rtcp = p.rtp;
	if (p.rtcp.auth_type == SRTP_HMAC_SHA1)
		p.rtcp.auth_tag_len = 10;
	memcpy(rk->key, k->master, sizeof(rk->key));
	if (k->mki_len) {
		rk->mki[0] = (unsigned char)k->mki;
		rk->mk = (srtp_master_key_t){ rk->key, rk->mki, 1 };
		rk->mks[0] = &rk->mk;
		p.keys = rk->mks;
		p.num_master_keys = 1;
	} else {
		p.key = rk->key;
	}
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.window_size = 128;
	p.allow_repeat_tx = !inbound;
	CHECK(srtp_create(&ctx, &p) == srtp_err_status_ok);
	return ctx;
}

struct side {
	struct srtpw me_tx, me_rx;
	srtp_t ref_tx, ref_rx;
	struct ref_key rk[2];
	bool mki, rtcp;
};

static int ref_protect(struct side *s, uint8_t *p, size_t *len)
{
	int n = (int)*len, e;

	e = s->rtcp ? srtp_protect_rtcp_mki(s->ref_tx, p, &n, s->mki, 0)
		    : srtp_protect_mki(s->ref_tx, p, &n, s->mki, 0);
	*len = (size_t)n;
	return e;
}

static int ref_unprotect(struct side *s, uint8_t *p, size_t *len)
{
	int n = (int)*len, e;

	e = s->rtcp ? srtp_unprotect_rtcp_mki(s->ref_rx, p, &n, s->mki)
		    : srtp_unprotect_mki(s->ref_rx, p, &n, s->mki);
	*len = (size_t)n;
	return e;
}

static void one(struct side *s, const uint8_t *in, size_t n)
{
	uint8_t plain[MAXPKT], a[CAP], b[CAP], c[CAP];
	size_t la = n, lb = n, lc, at = s->rtcp ? 4 : 8;
	int ea, eb, r1, r2;

	memcpy(plain, in, n);
	plain[0] = (uint8_t)((plain[0] & 0x3f) | 0x80);
	if (n >= at + 4) {
		memset(plain + at, 0x11, 3);
		plain[at + 3] &= 3;
	}
	memcpy(a, plain, n);
	memcpy(b, plain, n);
	ea = ref_protect(s, a, &la);
	eb = (s->rtcp ? srtpw_protect_rtcp : srtpw_protect_rtp)(&s->me_tx, b, &lb, CAP);
	CHECK((ea == srtp_err_status_ok) == (eb == 0));
	if (eb)
		return;
	CHECK(la == lb && !memcmp(a, b, la));
	/* sluice reads libsrtp2's, libsrtp2 reads sluice's (the same bytes) */
	memcpy(c, a, la);
	lc = la;
	r1 = (s->rtcp ? srtpw_unprotect_rtcp : srtpw_unprotect_rtp)(&s->me_rx, c, &lc);
	CHECK(r1 == 0 || r1 == -EALREADY);
	if (!r1)
		CHECK(lc == n && !memcmp(c, plain, n));
	r2 = ref_unprotect(s, b, &lb);
	CHECK((r2 == srtp_err_status_ok) == (r1 == 0));
	if (r2 == srtp_err_status_ok)
		CHECK(lb == n && !memcmp(b, plain, n));
}

#define VARIANTS (N_SUITES * 4)
#define RECYCLE  256

static struct {
	struct side s;
	bool set;
	unsigned uses;
} var[VARIANTS];

static void side_free(struct side *s)
{
	srtpw_free(&s->me_tx);
	srtpw_free(&s->me_rx);
	srtp_dealloc(s->ref_tx);
	srtp_dealloc(s->ref_rx);
}

static void side_init(struct side *s, unsigned v)
{
	struct srtpw_key k;

	memset(&k, 0, sizeof(k));
	memset(s, 0, sizeof(*s));
	k.suite = suites[v % N_SUITES];
	s->rtcp = (v / N_SUITES) & 1;
	s->mki = (v / N_SUITES) & 2;
	for (unsigned i = 0; i < sizeof(k.master); i++)
		k.master[i] = (uint8_t)(i * 29 + v);
	if (s->mki && srtpw_suite_info(k.suite)->rtp_tag != 4) {    /* libsrtp2's _32 MKI bug */
		k.mki_len = 1;
		k.mki = 0x5a;
	} else {
		s->mki = false;
	}
	CHECK(srtpw_init(&s->me_tx, &k, SRTPW_OUTBOUND) == 0);
	CHECK(srtpw_init(&s->me_rx, &k, SRTPW_INBOUND) == 0);
	s->ref_tx = ref_ctx(&k, false, &s->rk[0]);
	s->ref_rx = ref_ctx(&k, true, &s->rk[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	unsigned v;

	if (!init) {
		CHECK(srtp_init() == srtp_err_status_ok);
		init = true;
	}
	if (size < 2)
		return 0;
	v = data[0] % VARIANTS;
	if (!var[v].set || ++var[v].uses >= RECYCLE) {
		if (var[v].set)
			side_free(&var[v].s);
		side_init(&var[v].s, v);
		var[v].set = true;
		var[v].uses = 0;
	}
	for (size_t off = 1; off < size;) {
		size_t n = data[off++];

		if (n > size - off)
			n = size - off;
		if (n)
			one(&var[v].s, data + off, n);
		off += n;
	}
	return 0;
}
