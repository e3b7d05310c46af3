/* The srtpw_* API: keyed contexts made at set-up, in-place protect/unprotect.
 *
 * Packet layouts (RFC 3711 3.1/3.4, RFC 7714 7/9; MKI only when the key has one):
 *   SRTP            header | payload (encrypted) | MKI | tag
 *   SRTP AEAD       header | payload (encrypted) | GCM tag | MKI
 *   SRTCP           header (8) | rest (encrypted) | E+index | MKI | tag
 *   SRTCP AEAD      header (8) | rest (encrypted) | GCM tag | E+index | MKI
 * The HMAC covers header..payload || ROC (SRTP), header..E+index (SRTCP). GCM's AAD is
 * the RTP header, or the SRTCP header and E+index (all of the packet when E is 0).
 *
 * Unprotect checks everything before it changes anything: index estimate and replay
 * window first (cheap), then the tag, then decrypt, then the per-SSRC state moves. */
#include "srtp_internal.h"
#include "sluice/be.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define S(n, k, s, t, ct, a, c) { n, k, s, t, ct, a, SRTPW_CIPHER_##c }
static const struct srtpw_suite_info suites[SRTPW_SUITE_COUNT] = {
	[SRTPW_AEAD_AES_256_GCM]        = S("AEAD_AES_256_GCM", 32, 12, 16, 16, true, AES_GCM),
	[SRTPW_AEAD_AES_128_GCM]        = S("AEAD_AES_128_GCM", 16, 12, 16, 16, true, AES_GCM),
	[SRTPW_AES_256_CM_HMAC_SHA1_80] = S("AES_256_CM_HMAC_SHA1_80", 32, 14, 10, 10, false, AES_CM),
	[SRTPW_AES_256_CM_HMAC_SHA1_32] = S("AES_256_CM_HMAC_SHA1_32", 32, 14, 4, 10, false, AES_CM),
	[SRTPW_AES_192_CM_HMAC_SHA1_80] = S("AES_192_CM_HMAC_SHA1_80", 24, 14, 10, 10, false, AES_CM),
	[SRTPW_AES_192_CM_HMAC_SHA1_32] = S("AES_192_CM_HMAC_SHA1_32", 24, 14, 4, 10, false, AES_CM),
	[SRTPW_AES_CM_128_HMAC_SHA1_80] = S("AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10, false, AES_CM),
	[SRTPW_AES_CM_128_HMAC_SHA1_32] = S("AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10, false, AES_CM),
	[SRTPW_F8_128_HMAC_SHA1_80]     = S("F8_128_HMAC_SHA1_80", 16, 14, 10, 10, false, AES_F8),
	[SRTPW_F8_128_HMAC_SHA1_32]     = S("F8_128_HMAC_SHA1_32", 16, 14, 4, 10, false, AES_F8),
	[SRTPW_NULL_HMAC_SHA1_80]       = S("NULL_HMAC_SHA1_80", 16, 14, 10, 10, false, NULL),
	[SRTPW_NULL_HMAC_SHA1_32]       = S("NULL_HMAC_SHA1_32", 16, 14, 4, 10, false, NULL),
};
#undef S

#define GCM_TAG      16
#define SRTCP_E      0x80000000u
#define SRTCP_MAXIDX 0x7fffffffu

const struct srtpw_suite_info *srtpw_suite_info(enum srtpw_suite s)
{
	if (s <= SRTPW_SUITE_NONE || s >= SRTPW_SUITE_COUNT)
		return NULL;
	return &suites[s];
}

enum srtpw_suite srtpw_suite_by_name(const char *s, size_t len)
{
	for (int i = SRTPW_SUITE_NONE + 1; i < SRTPW_SUITE_COUNT; i++)
		if (strlen(suites[i].name) == len && !memcmp(suites[i].name, s, len))
			return (enum srtpw_suite)i;
	return SRTPW_SUITE_NONE;
}

const char *srtpw_strerror(int err)
{
	switch (err) {
	case 0:            return "ok";
	case -EINVAL:      return "malformed";
	case -EBADMSG:     return "auth";
	case -EALREADY:    return "replay";
	case -ENOSPC:      return "tailroom";
	case -ENOKEY:      return "mki";
	case -EKEYEXPIRED: return "key-expired";
	case -ENOMEM:      return "nomem";
	case -ENOTSUP:     return "unsupported";
	default:           return "error";
	}
}

/* ---- set-up ---- */

/* Session keys of SRTP (rtcp false) or SRTCP from the master key (RFC 3711 4.3.1). */
static int dir_init(struct srtpx_dir *d, const struct srtpw_suite_info *si,
		    const struct srtpw_key *k, bool rtcp, bool inbound)
{
	const uint8_t *mk = k->master, *ms = k->master + si->key_len;
	uint8_t base = rtcp ? SRTPX_LABEL_RTCP_KEY : SRTPX_LABEL_RTP_KEY;
	uint8_t ke[32], ks[14], ka[SRTPX_SHA1_LEN];
	int e = 0;

	d->tag_len = rtcp ? si->rtcp_tag : k->unauthenticated_srtp ? 0 : si->rtp_tag;
	d->encrypt = si->cipher != SRTPW_CIPHER_NULL &&
		     !(rtcp ? k->unencrypted_srtcp : k->unencrypted_srtp);
	if (si->cipher != SRTPW_CIPHER_NULL) {
		e = srtpx_kdf(mk, si->key_len, ms, si->salt_len, base, ke, si->key_len);
		if (!e)
			e = srtpx_kdf(mk, si->key_len, ms, si->salt_len, base + 2, ks, si->salt_len);
		if (!e)
			e = srtpx_cipher_init(&d->cipher, si->cipher, ke, si->key_len, ks,
					     si->salt_len, inbound);
	}
	if (!e && !si->aead) {
		e = srtpx_kdf(mk, si->key_len, ms, si->salt_len, base + 1, ka, sizeof(ka));
		if (!e)
			srtpx_hmac_init(&d->auth, ka, sizeof(ka));
	}
	OPENSSL_cleanse(ke, sizeof(ke));
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(ka, sizeof(ka));
	return e;
}

static void ctx_free(struct srtpx_ctx *c)
{
	if (!c)
		return;
	srtpx_cipher_free(&c->rtp.cipher);
	srtpx_cipher_free(&c->rtcp.cipher);
	srtpx_hmac_clear(&c->rtp.auth);
	srtpx_hmac_clear(&c->rtcp.auth);
	free(c);
}

int srtpw_init(struct srtpw *s, const struct srtpw_key *k, enum srtpw_dir dir)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(k->suite);
	bool inbound = dir == SRTPW_INBOUND;
	struct srtpx_ctx *c;
	int e;

	memset(s, 0, sizeof(*s));
	if (!si || k->mki_len > SRTPW_MKI_MAX)
		return -EINVAL;
	if (si->aead && (k->unencrypted_srtp || k->unencrypted_srtcp || k->unauthenticated_srtp))
		return -ENOTSUP;        /* RFC 7714 has no such modes for SRTP */
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->si = si;
	c->inbound = inbound;
	c->window = k->window ? k->window : 128;
	if (c->window < 64)
		c->window = 64;
	if (c->window > SRTPX_WIN_BITS)
		c->window = SRTPX_WIN_BITS;
	c->mki_len = k->mki_len;
	for (unsigned i = 0; i < k->mki_len; i++)
		c->mki[i] = (uint8_t)(k->mki >> (8 * (k->mki_len - 1 - i)));
	e = dir_init(&c->rtp, si, k, false, inbound);
	if (!e)
		e = dir_init(&c->rtcp, si, k, true, inbound);
	if (e) {
		ctx_free(c);
		return e;
	}
	s->ctx = c;
	s->suite = k->suite;
	s->inbound = inbound;
	s->mki = k->mki_len > 0;
	s->rtp_overhead = (uint8_t)(c->rtp.tag_len + k->mki_len);
	s->rtcp_overhead = (uint8_t)(c->rtcp.tag_len + 4 + k->mki_len);
	return 0;
}

void srtpw_free(struct srtpw *s)
{
	ctx_free(s->ctx);
	memset(s, 0, sizeof(*s));
}

uint64_t srtpw_evicted(const struct srtpw *s)
{
	return s->ctx ? s->ctx->ssrcs.evicted : 0;
}

/* ---- packet helpers ---- */

static bool version_ok(const uint8_t *pkt, size_t len, size_t min)
{
	return len >= min && len <= 65535 && (pkt[0] >> 6) == 2;
}

/* RTP header length (fixed part, CSRCs, extension) within len, or 0 if it overruns. */
static size_t rtp_header_len(const uint8_t *p, size_t len)
{
	size_t h = 12 + 4 * (size_t)(p[0] & 0x0f);

	if (p[0] & 0x10) {
		if (h + 4 > len)
			return 0;
		h += 4 + 4 * (size_t)((p[h + 2] << 8) | p[h + 3]);
	}
	return h <= len ? h : 0;
}

/* What GCM XORs with the session salt to make the IV (RFC 7714 8.1, 9.1):
 * SRTP 00 00 | SSRC | ROC | SEQ, SRTCP 00 00 | SSRC | 00 00 | 0 + SRTCP index. */
static void gcm_nonce_rtp(uint8_t n[12], uint32_t ssrc, uint64_t idx)
{
	n[0] = n[1] = 0;
	be_put32(n + 2, ssrc);
	be_put32(n + 6, (uint32_t)(idx >> 16));
	n[10] = (uint8_t)(idx >> 8);
	n[11] = (uint8_t)idx;
}

static void gcm_nonce_rtcp(uint8_t n[12], uint32_t ssrc, uint32_t idx)
{
	n[0] = n[1] = 0;
	be_put32(n + 2, ssrc);
	n[6] = n[7] = 0;
	be_put32(n + 8, idx & SRTCP_MAXIDX);
}

/* ---- SRTP ---- */

/* Encrypt or decrypt an RTP payload with a non-AEAD cipher. */
static int rtp_crypt(struct srtpx_dir *d, uint8_t *pkt, size_t hl, size_t len, uint32_t ssrc,
		     uint64_t idx)
{
	uint8_t iv[16];

	if (!d->encrypt || len == hl)
		return 0;
	if (d->cipher.kind == SRTPW_CIPHER_AES_CM)
		return srtpx_cm_crypt(&d->cipher, ssrc, idx, pkt + hl, len - hl);
	/* F8: IV = 0x00 || M PT SEQ TS SSRC || ROC */
	iv[0] = 0;
	memcpy(iv + 1, pkt + 1, 11);
	be_put32(iv + 12, (uint32_t)(idx >> 16));
	return srtpx_f8_crypt(&d->cipher, iv, pkt + hl, len - hl);
}

/* Index of this packet in its SSRC's window; the window's state is not changed. */
static int rtp_index(struct srtpx_ctx *c, const struct srtpx_stream *st, uint16_t seq,
		     uint64_t *idx)
{
	static const struct srtpx_stream none;
	int64_t i;

	if (!st)
		st = &none;
	i = srtpx_rtp_index(&st->rtp, seq);
	if (i < 0)
		return -EKEYEXPIRED;
	*idx = (uint64_t)i;
	switch (srtpx_win_check(&st->rtp, st->rtp_bits, SRTPX_WIN_BITS, c->window, *idx)) {
	case SRTPX_NEW:
		return 0;
	case SRTPX_SEEN:
		return c->inbound ? -EALREADY : 1;      /* outbound: a repeat is allowed */
	default:
		return -EALREADY;
	}
}

int srtpw_protect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap)
{
	struct srtpx_ctx *c = s->ctx;
	struct srtpx_dir *d;
	struct srtpx_stream *st;
	size_t hl, n = *len;
	uint32_t ssrc;
	uint64_t idx;
	uint8_t roc[4], mac[SRTPX_SHA1_LEN], nonce[12];
	int e;

	if (!c || c->inbound || !version_ok(pkt, n, 12) || !(hl = rtp_header_len(pkt, n)))
		return -EINVAL;
	if (cap < n || cap - n < s->rtp_overhead)
		return -ENOSPC;
	d = &c->rtp;
	ssrc = be_get32(pkt + 8);
	st = srtpx_stream_take(&c->ssrcs, ssrc);
	e = rtp_index(c, st, (uint16_t)(pkt[2] << 8 | pkt[3]), &idx);
	if (e < 0)
		return e;
	if (c->si->aead) {
		gcm_nonce_rtp(nonce, ssrc, idx);
		e = srtpx_gcm_seal(&d->cipher, nonce, pkt, hl, NULL, 0, pkt + hl, n - hl, pkt + n);
		if (e)
			return e;
		memcpy(pkt + n + GCM_TAG, c->mki, c->mki_len);
	} else {
		e = rtp_crypt(d, pkt, hl, n, ssrc, idx);
		if (e)
			return e;
		memcpy(pkt + n, c->mki, c->mki_len);
		if (d->tag_len) {
			be_put32(roc, (uint32_t)(idx >> 16));
			srtpx_hmac(&d->auth, pkt, n, roc, 4, mac);
			memcpy(pkt + n + c->mki_len, mac, d->tag_len);
		}
	}
	srtpx_win_add(&st->rtp, st->rtp_bits, SRTPX_WIN_BITS, idx);
	*len = n + s->rtp_overhead;
	return 0;
}

int srtpw_unprotect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len)
{
	struct srtpx_ctx *c = s->ctx;
	struct srtpx_dir *d;
	struct srtpx_stream *st;
	size_t hl, n;
	uint32_t ssrc;
	uint64_t idx;
	uint8_t roc[4], mac[SRTPX_SHA1_LEN], nonce[12];
	const uint8_t *mki;
	int e;

	if (!c || !c->inbound || !version_ok(pkt, *len, 12u + s->rtp_overhead))
		return -EINVAL;
	d = &c->rtp;
	n = *len - s->rtp_overhead;             /* header..payload */
	if (!(hl = rtp_header_len(pkt, n)))
		return -EINVAL;
	mki = pkt + n + (c->si->aead ? GCM_TAG : 0);
	if (c->mki_len && CRYPTO_memcmp(mki, c->mki, c->mki_len))
		return -ENOKEY;
	ssrc = be_get32(pkt + 8);
	st = srtpx_stream_find(&c->ssrcs, ssrc);
	e = rtp_index(c, st, (uint16_t)(pkt[2] << 8 | pkt[3]), &idx);
	if (e)
		return e;
	if (c->si->aead) {
		gcm_nonce_rtp(nonce, ssrc, idx);
		e = srtpx_gcm_open(&d->cipher, nonce, pkt, hl, NULL, 0, pkt + hl, n - hl, pkt + n);
		if (e)
			return e;
	} else {
		if (d->tag_len) {
			be_put32(roc, (uint32_t)(idx >> 16));
			srtpx_hmac(&d->auth, pkt, n, roc, 4, mac);
			if (CRYPTO_memcmp(mac, pkt + n + c->mki_len, d->tag_len))
				return -EBADMSG;
		}
		e = rtp_crypt(d, pkt, hl, n, ssrc, idx);
		if (e)
			return e;
	}
	if (!st)
		st = srtpx_stream_take(&c->ssrcs, ssrc);
	srtpx_win_add(&st->rtp, st->rtp_bits, SRTPX_WIN_BITS, idx);
	*len = n;
	return 0;
}

/* ---- SRTCP ---- */

/* Encrypt or decrypt the part of an RTCP packet after its first 8 bytes. */
static int rtcp_crypt(struct srtpx_dir *d, uint8_t *pkt, size_t len, uint32_t ssrc,
		      uint32_t word)
{
	uint8_t iv[16];

	if (d->cipher.kind == SRTPW_CIPHER_NULL || len == 8)
		return 0;
	if (d->cipher.kind == SRTPW_CIPHER_AES_CM)
		return srtpx_cm_crypt(&d->cipher, ssrc, word & SRTCP_MAXIDX, pkt + 8, len - 8);
	/* F8: IV = 0..0 (32) || E || SRTCP index || V P RC PT length SSRC */
	memset(iv, 0, 4);
	be_put32(iv + 4, word);
	memcpy(iv + 8, pkt, 8);
	return srtpx_f8_crypt(&d->cipher, iv, pkt + 8, len - 8);
}

static int rtcp_check(const struct srtpx_stream *st, uint32_t idx)
{
	if (st && srtpx_win_check(&st->rtcp, st->rtcp_bits, SRTPX_RTCP_WIN_BITS,
				  SRTPX_RTCP_WIN_BITS, idx) != SRTPX_NEW)
		return -EALREADY;
	return 0;
}

int srtpw_protect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap)
{
	struct srtpx_ctx *c = s->ctx;
	struct srtpx_dir *d;
	struct srtpx_stream *st;
	size_t n = *len;
	uint32_t ssrc, word;
	uint8_t mac[SRTPX_SHA1_LEN], nonce[12];
	int e;

	if (!c || c->inbound || !version_ok(pkt, n, 8))
		return -EINVAL;
	if (cap < n || cap - n < s->rtcp_overhead)
		return -ENOSPC;
	d = &c->rtcp;
	ssrc = be_get32(pkt + 4);
	st = srtpx_stream_take(&c->ssrcs, ssrc);
	if (st->rtcp_next >= SRTCP_MAXIDX)
		return -EKEYEXPIRED;
	word = ++st->rtcp_next | (d->encrypt ? SRTCP_E : 0);
	if (c->si->aead) {
		uint8_t w[4];

		be_put32(w, word);
		gcm_nonce_rtcp(nonce, ssrc, word);
		e = d->encrypt ? srtpx_gcm_seal(&d->cipher, nonce, pkt, 8, w, 4, pkt + 8, n - 8, pkt + n)
			       : srtpx_gcm_seal(&d->cipher, nonce, pkt, n, w, 4, NULL, 0, pkt + n);
		if (e)
			return e;
		memcpy(pkt + n + GCM_TAG, w, 4);
		memcpy(pkt + n + GCM_TAG + 4, c->mki, c->mki_len);
	} else {
		if (d->encrypt && (e = rtcp_crypt(d, pkt, n, ssrc, word)))
			return e;
		be_put32(pkt + n, word);
		memcpy(pkt + n + 4, c->mki, c->mki_len);
		srtpx_hmac(&d->auth, pkt, n + 4, NULL, 0, mac);
		memcpy(pkt + n + 4 + c->mki_len, mac, d->tag_len);
	}
	*len = n + s->rtcp_overhead;
	return 0;
}

int srtpw_unprotect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len)
{
	struct srtpx_ctx *c = s->ctx;
	struct srtpx_dir *d;
	struct srtpx_stream *st;
	size_t n;               /* header..rest, without tag, E+index, MKI */
	const uint8_t *w, *mki;
	uint32_t ssrc, word, idx;
	uint8_t mac[SRTPX_SHA1_LEN], nonce[12];
	int e;

	if (!c || !c->inbound || !version_ok(pkt, *len, 8u + s->rtcp_overhead))
		return -EINVAL;
	d = &c->rtcp;
	n = *len - s->rtcp_overhead;
	w = pkt + (c->si->aead ? n + GCM_TAG : n);
	mki = w + 4;
	if (c->mki_len && CRYPTO_memcmp(mki, c->mki, c->mki_len))
		return -ENOKEY;
	word = be_get32(w);
	idx = word & SRTCP_MAXIDX;
	ssrc = be_get32(pkt + 4);
	st = srtpx_stream_find(&c->ssrcs, ssrc);
	if ((e = rtcp_check(st, idx)))
		return e;
	if (c->si->aead) {
		gcm_nonce_rtcp(nonce, ssrc, idx);
		e = word & SRTCP_E ? srtpx_gcm_open(&d->cipher, nonce, pkt, 8, w, 4, pkt + 8, n - 8, pkt + n)
				   : srtpx_gcm_open(&d->cipher, nonce, pkt, n, w, 4, NULL, 0, pkt + n);
		if (e)
			return e;
	} else {
		srtpx_hmac(&d->auth, pkt, n + 4, NULL, 0, mac);
		if (CRYPTO_memcmp(mac, mki + c->mki_len, d->tag_len))
			return -EBADMSG;
		/* E says whether the sender encrypted (it may not: UNENCRYPTED_SRTCP) */
		if ((word & SRTCP_E) && (e = rtcp_crypt(d, pkt, n, ssrc, word)))
			return e;
	}
	if (!st)
		st = srtpx_stream_take(&c->ssrcs, ssrc);
	srtpx_win_add(&st->rtcp, st->rtcp_bits, SRTPX_RTCP_WIN_BITS, idx);
	*len = n;
	return 0;
}

unsigned srtpw_state_get(const struct srtpw *s, struct srtpw_ssrc_state *out, unsigned max)
{
	const struct srtpx_ctx *c = s->ctx;
	unsigned n = 0;

	for (unsigned i = 0; c && i < SRTPX_SLOTS && n < max; i++) {
		const struct srtpx_stream *st = &c->ssrcs.slot[i];

		if (!st->used)
			continue;
		out[n++] = (struct srtpw_ssrc_state){
			.ssrc = st->ssrc, .has_rtp = st->rtp.any, .rtp_index = st->rtp.top,
			.has_rtcp = c->inbound ? st->rtcp.any : st->rtcp_next != 0,
			.rtcp_index = c->inbound ? (uint32_t)st->rtcp.top : st->rtcp_next,
		};
	}
	return n;
}

int srtpw_state_set(struct srtpw *s, const struct srtpw_ssrc_state *in)
{
	struct srtpx_ctx *c = s->ctx;
	struct srtpx_stream *st;

	if (!c || in->rtp_index >> 48 || in->rtcp_index > SRTCP_MAXIDX)
		return -EINVAL;
	st = srtpx_stream_take(&c->ssrcs, in->ssrc);
	if (in->has_rtp)
		srtpx_win_add(&st->rtp, st->rtp_bits, SRTPX_WIN_BITS, in->rtp_index);
	if (in->has_rtcp && c->inbound)
		srtpx_win_add(&st->rtcp, st->rtcp_bits, SRTPX_RTCP_WIN_BITS, in->rtcp_index);
	else if (in->has_rtcp)
		st->rtcp_next = in->rtcp_index;
	return 0;
}
