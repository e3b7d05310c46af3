/* libsrtp2 wrapper: one context per direction, in-place protect/unprotect. */
#include "sluice/srtp.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <srtp2/srtp.h>

static const struct srtpw_suite_info suites[SRTPW_SUITE_COUNT] = {
	[SRTPW_AES_CM_128_HMAC_SHA1_80] = { "AES_CM_128_HMAC_SHA1_80", 16, 14, 10, 10, false },
	[SRTPW_AES_CM_128_HMAC_SHA1_32] = { "AES_CM_128_HMAC_SHA1_32", 16, 14, 4, 10, false },
	[SRTPW_AEAD_AES_128_GCM]        = { "AEAD_AES_128_GCM", 16, 12, 16, 16, true },
	[SRTPW_AEAD_AES_256_GCM]        = { "AEAD_AES_256_GCM", 32, 12, 16, 16, true },
};

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

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;

static void lib_init(void)
{
	init_status = srtp_init();
}

static int map_err(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
	case srtp_err_status_cipher_fail:   /* GCM reports a bad tag this way */
		return -EBADMSG;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
	case srtp_err_status_pkt_idx_old:
		return -EALREADY;
	case srtp_err_status_bad_mki:
		return -ENOKEY;
	case srtp_err_status_key_expired:
		return -EKEYEXPIRED;
	case srtp_err_status_alloc_fail:
		return -ENOMEM;
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
		return -EINVAL;
	case srtp_err_status_no_such_op:
		return -ENOTSUP;
	default:
		return -EIO;
	}
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

static int set_crypto(srtp_policy_t *p, const struct srtpw_key *k)
{
	switch (k->suite) {
	case SRTPW_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SRTPW_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568 6.2.1 / RFC 5764: SRTCP keeps the 80-bit tag */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case SRTPW_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	case SRTPW_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
		break;
	default:
		return -EINVAL;
	}
	if (k->unencrypted_srtp || k->unencrypted_srtcp || k->unauthenticated_srtp) {
		if (suites[k->suite].aead)
			return -ENOTSUP;
		if (k->unencrypted_srtp)
			p->rtp.sec_serv &= ~sec_serv_conf;
		if (k->unauthenticated_srtp)
			p->rtp.sec_serv &= ~sec_serv_auth;
		if (k->unencrypted_srtcp)
			p->rtcp.sec_serv &= ~sec_serv_conf;
	}
	return 0;
}

int srtpw_init(struct srtpw *s, const struct srtpw_key *k, enum srtpw_dir dir)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(k->suite);
	/* libsrtp2 copies key material during srtp_create(); these may live on the stack */
	unsigned char master[SRTPW_MASTER_MAX], mki_id[SRTPW_MKI_MAX];
	srtp_master_key_t mk = { master, mki_id, k->mki_len };
	srtp_master_key_t *mks[1] = { &mk };
	srtp_policy_t p;
	srtp_t ctx;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!si || k->mki_len > SRTPW_MKI_MAX)
		return -EINVAL;
	/* libsrtp2 2.5 looks for the SRTCP MKI behind the 32-bit SRTP tag length */
	if (k->mki_len && k->suite == SRTPW_AES_CM_128_HMAC_SHA1_32)
		return -ENOTSUP;
	pthread_once(&init_once, lib_init);
	if (init_status != srtp_err_status_ok)
		return -EIO;

	memset(&p, 0, sizeof(p));
	ret = set_crypto(&p, k);
	if (ret)
		return ret;
	memcpy(master, k->master, (size_t)si->key_len + si->salt_len);
	p.ssrc.type = dir == SRTPW_INBOUND ? ssrc_any_inbound : ssrc_any_outbound;
	if (k->mki_len) {
		for (unsigned i = 0; i < k->mki_len; i++)
			mki_id[i] = (uint8_t)(k->mki >> (8 * (k->mki_len - 1 - i)));
		p.keys = mks;
		p.num_master_keys = 1;
	} else {
		p.key = master;
	}
	p.window_size = k->window ? k->window : 128;
	p.allow_repeat_tx = dir == SRTPW_OUTBOUND;

	ret = map_err(srtp_create(&ctx, &p));
	memset(master, 0, sizeof(master));
	if (ret)
		return ret;

	s->ctx = ctx;
	s->suite = k->suite;
	s->inbound = dir == SRTPW_INBOUND;
	s->mki = k->mki_len > 0;
	s->rtp_overhead = (uint8_t)((k->unauthenticated_srtp ? 0 : si->rtp_tag) + k->mki_len);
	s->rtcp_overhead = (uint8_t)(si->rtcp_tag + 4 + k->mki_len);
	return 0;
}

void srtpw_free(struct srtpw *s)
{
	if (s->ctx)
		srtp_dealloc(s->ctx);
	memset(s, 0, sizeof(*s));
}

static bool rtp_ok(const uint8_t *pkt, size_t len, size_t min)
{
	return len >= min && len <= 65535 && (pkt[0] >> 6) == 2;
}

int srtpw_protect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap)
{
	int n = (int)*len;
	int ret;

	if (!s->ctx || s->inbound || !rtp_ok(pkt, *len, 12))
		return -EINVAL;
	if (cap < *len || cap - *len < s->rtp_overhead)
		return -ENOSPC;
	ret = map_err(srtp_protect_mki(s->ctx, pkt, &n, s->mki, 0));
	if (!ret)
		*len = (size_t)n;
	return ret;
}

int srtpw_protect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap)
{
	int n = (int)*len;
	int ret;

	if (!s->ctx || s->inbound || !rtp_ok(pkt, *len, 8))
		return -EINVAL;
	if (cap < *len || cap - *len < s->rtcp_overhead)
		return -ENOSPC;
	ret = map_err(srtp_protect_rtcp_mki(s->ctx, pkt, &n, s->mki, 0));
	if (!ret)
		*len = (size_t)n;
	return ret;
}

int srtpw_unprotect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len)
{
	int n = (int)*len;
	int ret;

	if (!s->ctx || !s->inbound || !rtp_ok(pkt, *len, 12u + s->rtp_overhead))
		return -EINVAL;
	ret = map_err(srtp_unprotect_mki(s->ctx, pkt, &n, s->mki));
	if (!ret)
		*len = (size_t)n;
	return ret;
}

int srtpw_unprotect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len)
{
	int n = (int)*len;
	int ret;

	if (!s->ctx || !s->inbound || !rtp_ok(pkt, *len, 8u + s->rtcp_overhead))
		return -EINVAL;
	ret = map_err(srtp_unprotect_rtcp_mki(s->ctx, pkt, &n, s->mki));
	if (!ret)
		*len = (size_t)n;
	return ret;
}
