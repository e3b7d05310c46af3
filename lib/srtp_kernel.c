/* What the kernel module needs of an SRTP context, and back (include/sluice/kmod_srtp.h):
 * the session keys of a master key, and one SSRC's index and replay window in the
 * module's form (bit i = top - i) from and to this library's ring bitmap. */
#include "srtp_internal.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sluice/kmod_srtp.h"

static enum sluice_srtp_suite kernel_suite(enum srtpw_suite s)
{
	switch (s) {
	case SRTPW_AES_CM_128_HMAC_SHA1_80: return SLUICE_SRTP_AES_CM_128_HMAC_SHA1_80;
	case SRTPW_AES_CM_128_HMAC_SHA1_32: return SLUICE_SRTP_AES_CM_128_HMAC_SHA1_32;
	case SRTPW_AEAD_AES_128_GCM:        return SLUICE_SRTP_AEAD_AES_128_GCM;
	case SRTPW_AEAD_AES_256_GCM:        return SLUICE_SRTP_AEAD_AES_256_GCM;
	default:                            return SLUICE_SRTP_NONE;
	}
}

int srtpw_kernel_key(const struct srtpw_key *k, struct sluice_srtp_key *out)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(k->suite);
	enum sluice_srtp_suite ks = kernel_suite(k->suite);
	const uint8_t *mk = k->master, *ms;
	int e;

	memset(out, 0, sizeof(*out));
	if (!srtpw_kernel_supported(k))
		return -ENOTSUP;
	ms = mk + si->key_len;
	out->suite = (uint8_t)ks;
	e = srtpx_kdf(mk, si->key_len, ms, si->salt_len, SRTPX_LABEL_RTP_KEY, out->key,
		      si->key_len);
	if (!e)
		e = srtpx_kdf(mk, si->key_len, ms, si->salt_len, SRTPX_LABEL_RTP_SALT,
			      out->salt, si->salt_len);
	if (!e && !si->aead)
		e = srtpx_kdf(mk, si->key_len, ms, si->salt_len, SRTPX_LABEL_RTP_AUTH,
			      out->auth, sizeof(out->auth));
	if (e)
		OPENSSL_cleanse(out, sizeof(*out));
	return e;
}

static bool ring_has(const struct srtpx_stream *st, uint64_t idx)
{
	uint64_t pos = idx % SRTPX_WIN_BITS;

	return st->rtp_bits[pos / 64] >> (pos % 64) & 1;
}

void srtpw_kernel_index(const struct srtpw *s, struct sluice_srtp_index *out)
{
	const struct srtpx_streams *t;
	const struct srtpx_stream *st;

	memset(out, 0, sizeof(*out));
	if (!s->ctx)
		return;
	t = &s->ctx->ssrcs;
	st = &t->slot[t->last];
	if (!st->used || !st->rtp.any)
		return;
	out->valid = 1;
	out->ssrc = st->ssrc;
	out->roc = (uint32_t)(st->rtp.top >> 16);
	out->seq = (uint16_t)st->rtp.top;
	if (!s->inbound)
		return;
	/* beyond this context's window an index is refused anyway: marked as seen */
	for (unsigned i = 0; i < SLUICE_SRTP_WINDOW && i <= st->rtp.top; i++)
		if (i >= s->ctx->window || ring_has(st, st->rtp.top - i))
			out->window[i / 64] |= 1ull << (i % 64);
}

int srtpw_kernel_resume(struct srtpw *s, const struct sluice_srtp_index *x)
{
	struct srtpx_stream *st;
	uint64_t top = (uint64_t)x->roc << 16 | x->seq, idx;

	if (!s->ctx)
		return -ENOENT;
	if (!x->valid)
		return 0;
	st = srtpx_stream_take(&s->ctx->ssrcs, x->ssrc);
	memset(&st->rtp, 0, sizeof(st->rtp));
	memset(st->rtp_bits, 0, sizeof(st->rtp_bits));
	st->rtp.top = top;
	st->rtp.any = true;
	for (unsigned i = 0; i < SLUICE_SRTP_WINDOW && i <= top; i++) {
		if (s->inbound ? !(x->window[i / 64] >> (i % 64) & 1) : i != 0)
			continue;
		idx = (top - i) % SRTPX_WIN_BITS;
		st->rtp_bits[idx / 64] |= 1ull << (idx % 64);
	}
	return 0;
}

bool srtpw_kernel_supported(const struct srtpw_key *k)
{
	return srtpw_suite_info(k->suite) && kernel_suite(k->suite) != SLUICE_SRTP_NONE &&
	       !k->mki_len && !k->unencrypted_srtp && !k->unauthenticated_srtp &&
	       (!k->window || (k->window >= 64 && k->window <= 128));
}
