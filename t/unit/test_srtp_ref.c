/* sluice's SRTP transform against libsrtp2 as the reference peer, for every suite
 * libsrtp2 has right (all but F8 and AES-192, see ref_policy): libsrtp2 protects and
 * sluice unprotects, and the reverse, RTP across the ROC wrap (CSRCs and a header
 * extension included) and SRTCP, with and without MKI, and the UNENCRYPTED_SRTP /
 * _SRTCP / UNAUTHENTICATED_SRTP modes of the counter-mode suites. Payloads must come
 * out byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <srtp2/crypto_types.h>
#include <srtp2/srtp.h>

#include "sluice/srtp.h"

/* libsrtp2's policy for one of our suites; false if libsrtp2 has none (F8) or none
 * that follows the RFC: for AES-192, libsrtp2 2.5 (built without OpenSSL's KDF, as
 * Debian's) derives the session keys with AES-256 over the master key, the salt and
 * zeros, not with RFC 6188's AES_192_CM_PRF; sluice follows the RFC, checked by the
 * RFC 6188 7.4 vector in test_srtp_vectors.c. */
static bool ref_policy(enum srtpw_suite s, srtp_crypto_policy_t *rtp,
		       srtp_crypto_policy_t *rtcp)
{
	switch (s) {
	case SRTPW_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp);
		break;
	case SRTPW_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp);
		break;
	case SRTPW_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp);
		break;
	case SRTPW_AES_256_CM_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp);
		break;
	case SRTPW_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp);
		break;
	case SRTPW_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp);
		break;
	case SRTPW_NULL_HMAC_SHA1_80:
	case SRTPW_NULL_HMAC_SHA1_32:
		srtp_crypto_policy_set_null_cipher_hmac_sha1_80(rtp);
		if (s == SRTPW_NULL_HMAC_SHA1_32)
			rtp->auth_tag_len = 4;
		break;
	default:
		return false;
	}
	*rtcp = *rtp;
	/* the _32 suites keep the 80-bit tag on SRTCP (RFC 4568 6.2, RFC 6188 4) */
	if (rtcp->auth_type == SRTP_HMAC_SHA1)
		rtcp->auth_tag_len = 10;
	return true;
}

struct variant {
	uint8_t mki_len;
	bool unenc_srtp, unenc_srtcp, unauth_srtp;
};

static srtp_t ref_ctx(const struct srtpw_key *k, const struct variant *v, bool inbound)
{
	static unsigned char mkey[SRTPW_MASTER_MAX], mki[SRTPW_MKI_MAX];
	static srtp_master_key_t mk;
	static srtp_master_key_t *mks[1] = { &mk };
	srtp_policy_t p;
	srtp_t ctx;
	srtp_err_status_t st;

	memset(&p, 0, sizeof(p));
	assert_true(ref_policy(k->suite, &p.rtp, &p.rtcp));
	if (v->unenc_srtp)
		p.rtp.sec_serv &= ~sec_serv_conf;
	if (v->unauth_srtp) {
		/* libsrtp2 strips a tag on receive whenever the policy has an auth
		 * function; no tag at all is its null authenticator */
		p.rtp.sec_serv &= ~sec_serv_auth;
		p.rtp.auth_type = SRTP_NULL_AUTH;
		p.rtp.auth_key_len = 0;
		p.rtp.auth_tag_len = 0;
	}
	if (v->unenc_srtcp)
		p.rtcp.sec_serv &= ~sec_serv_conf;
	memcpy(mkey, k->master, sizeof(mkey));
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	if (v->mki_len) {
		for (unsigned i = 0; i < v->mki_len; i++)
			mki[i] = (uint8_t)(k->mki >> (8 * (v->mki_len - 1 - i)));
		mk.key = mkey;
		mk.mki_id = mki;
		mk.mki_size = v->mki_len;
		p.keys = mks;
		p.num_master_keys = 1;
	} else {
		p.key = mkey;
	}
	p.window_size = 128;
	p.allow_repeat_tx = !inbound;
	st = srtp_create(&ctx, &p);
	if (st != srtp_err_status_ok)
		fail_msg("libsrtp2 srtp_create suite %s: %d", srtpw_suite_info(k->suite)->name, st);
	return ctx;
}

/* RTP with 0..2 CSRCs and sometimes a one-byte-header extension, payload from seq. */
static size_t mkrtp(uint8_t *b, uint16_t seq, uint32_t ssrc)
{
	size_t n = 12, pl = 20 + seq % 150;
	unsigned cc = seq % 3;
	bool ext = seq % 5 == 0;

	b[0] = (uint8_t)(0x80 | (ext ? 0x10 : 0) | cc);
	b[1] = (uint8_t)(seq % 2 ? 0 : 0x80 | 8);
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = 0x11; b[5] = 0x22; b[6] = (uint8_t)(seq >> 3); b[7] = (uint8_t)seq;
	b[8] = (uint8_t)(ssrc >> 24); b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8); b[11] = (uint8_t)ssrc;
	for (unsigned i = 0; i < cc; i++, n += 4)
		memset(b + n, 0x30 + (int)i, 4);
	if (ext) {
		static const uint8_t x[8] = { 0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0, 0 };
		memcpy(b + n, x, sizeof(x));
		n += sizeof(x);
	}
	for (size_t i = 0; i < pl; i++)
		b[n + i] = (uint8_t)(seq * 7 + i);
	return n + pl;
}

static size_t mkrtcp(uint8_t *b, uint32_t ssrc, unsigned i)
{
	static const uint8_t sr[28] = { 0x80, 200, 0x00, 0x06 };

	memcpy(b, sr, sizeof(sr));
	b[4] = (uint8_t)(ssrc >> 24); b[5] = (uint8_t)(ssrc >> 16);
	b[6] = (uint8_t)(ssrc >> 8); b[7] = (uint8_t)ssrc;
	for (unsigned k = 8; k < 28; k++)
		b[k] = (uint8_t)(i + k);
	return 28;
}

static void mkkey(struct srtpw_key *k, enum srtpw_suite s, const struct variant *v)
{
	memset(k, 0, sizeof(*k));
	k->suite = s;
	for (unsigned i = 0; i < sizeof(k->master); i++)
		k->master[i] = (uint8_t)(i * 11 + 3 * s);
	k->mki_len = v->mki_len;
	k->mki = 0x0a0b0c0d & (v->mki_len == 4 ? 0xffffffffu : (1u << (8 * v->mki_len)) - 1);
	k->unencrypted_srtp = v->unenc_srtp;
	k->unencrypted_srtcp = v->unenc_srtcp;
	k->unauthenticated_srtp = v->unauth_srtp;
}

/* One direction: `ours` protects and libsrtp2 unprotects, or the reverse. */
static void one_way(enum srtpw_suite s, const struct variant *v, bool ours_sends)
{
	const char *name = srtpw_suite_info(s)->name;
	struct srtpw_key k;
	struct srtpw me;
	srtp_t ref;
	uint8_t buf[512], plain[512];
	size_t len, plen;
	unsigned count = 0;

	mkkey(&k, s, v);
	assert_int_equal(srtpw_init(&me, &k, ours_sends ? SRTPW_OUTBOUND : SRTPW_INBOUND), 0);
	ref = ref_ctx(&k, v, ours_sends);
	for (uint16_t seq = 65500; seq != 60; seq++, count++) {     /* across the ROC wrap */
		int n, e;

		plen = mkrtp(plain, seq, 0x5eed0001);
		memcpy(buf, plain, plen);
		len = plen;
		if (ours_sends) {
			assert_int_equal(srtpw_protect_rtp(&me, buf, &len, sizeof(buf)), 0);
			n = (int)len;
			e = srtp_unprotect_mki(ref, buf, &n, v->mki_len > 0);
			len = (size_t)n;
		} else {
			n = (int)len;
			assert_int_equal(srtp_protect_mki(ref, buf, &n, v->mki_len > 0, 0), 0);
			len = (size_t)n;
			e = srtpw_unprotect_rtp(&me, buf, &len);
		}
		if (e)
			fail_msg("%s mki %u %s: RTP seq %u: %d", name, v->mki_len,
				 ours_sends ? "sluice->libsrtp2" : "libsrtp2->sluice", seq, e);
		assert_int_equal(len, plen);
		assert_memory_equal(buf, plain, plen);
	}
	assert_int_equal(count, 96);
	for (unsigned i = 0; i < 6; i++) {
		int n, e;

		plen = mkrtcp(plain, 0x5eed0001, i);
		memcpy(buf, plain, plen);
		len = plen;
		if (ours_sends) {
			assert_int_equal(srtpw_protect_rtcp(&me, buf, &len, sizeof(buf)), 0);
			n = (int)len;
			e = srtp_unprotect_rtcp_mki(ref, buf, &n, v->mki_len > 0);
			len = (size_t)n;
		} else {
			n = (int)len;
			assert_int_equal(srtp_protect_rtcp_mki(ref, buf, &n, v->mki_len > 0, 0), 0);
			len = (size_t)n;
			e = srtpw_unprotect_rtcp(&me, buf, &len);
		}
		if (e)
			fail_msg("%s mki %u %s: RTCP %u: %d", name, v->mki_len,
				 ours_sends ? "sluice->libsrtp2" : "libsrtp2->sluice", i, e);
		assert_int_equal(len, plen);
		assert_memory_equal(buf, plain, plen);
	}
	srtpw_free(&me);
	srtp_dealloc(ref);
}

static void both_ways(enum srtpw_suite s, const struct variant *v)
{
	one_way(s, v, true);
	one_way(s, v, false);
}

static void test_every_suite(void **state)
{
	unsigned tested = 0;

	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++) {
		srtp_crypto_policy_t a, b;
		struct variant plain = { 0 };

		if (!ref_policy((enum srtpw_suite)s, &a, &b))
			continue;       /* F8, AES-192: RFC vectors; rtpengine in e2e */
		both_ways((enum srtpw_suite)s, &plain);
		tested++;
	}
	assert_int_equal(tested, 8);
}

static void test_mki(void **state)
{
	static const struct variant v1 = { .mki_len = 1 }, v4 = { .mki_len = 4 };

	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++) {
		srtp_crypto_policy_t a, b;

		/* libsrtp2 2.5 looks for the SRTCP MKI behind the SRTP tag length, which is
		 * wrong for the _32 suites; those are checked with our own pair in
		 * test_srtp.c */
		if (!ref_policy((enum srtpw_suite)s, &a, &b) || a.auth_tag_len == 4)
			continue;
		both_ways((enum srtpw_suite)s, &v1);
		both_ways((enum srtpw_suite)s, &v4);
	}
}

static void test_session_params(void **state)
{
	static const struct variant modes[] = {
		{ .unenc_srtp = true },
		{ .unenc_srtcp = true },
		{ .unauth_srtp = true },
		{ .unenc_srtp = true, .unenc_srtcp = true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		both_ways(SRTPW_AES_CM_128_HMAC_SHA1_80, &modes[i]);
		both_ways(SRTPW_AES_256_CM_HMAC_SHA1_32, &modes[i]);
	}
}

static int setup(void **state)
{
	(void)state;
	srtp_err_status_t st = srtp_init();

	if (st != srtp_err_status_ok)
		fprintf(stderr, "srtp_init: %d\n", st);
	return st == srtp_err_status_ok ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_suite),
		cmocka_unit_test(test_mki),
		cmocka_unit_test(test_session_params),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
