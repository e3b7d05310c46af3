/* srtp: libsrtp2 reference packets, round trips per suite (RTP and RTCP, with and
 * without MKI), tampering -> auth error, replay -> replay error, ROC estimation across
 * wraps and reordering, several SSRCs and the SSRC table's limit, SRTCP's E flag,
 * bounds, and no allocation on the packet path. The RFC vectors are in
 * test_srtp_vectors.c, libsrtp2 as the peer in test_srtp_ref.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>

#include "sluice/srtp.h"

#define SRTPX_TEST_SLOTS 16

/* libsrtp2 test/srtp_driver.c srtp_validate(): default policy (AES_CM_128_HMAC_SHA1_80),
 * SSRC 0xcafebabe, seq 0x1234, ROC 0. */
static const uint8_t cm_master[30] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde,
	0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a,
	0xab, 0xe6,
};
static const uint8_t rtp_plain[28] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t cm_rtp[38] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e, 0x55,
	0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02,
	0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
};
static const uint8_t rtcp_plain[24] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t cm_rtcp[38] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4, 0x87,
	0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01,
	0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
};
/* libsrtp2 srtp_validate_gcm(): key 00..0f, salt a0..ab, same plaintexts. */
static const uint8_t gcm_rtp[44] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xc5, 0x00,
	0x2e, 0xde, 0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11, 0x59, 0xe0, 0x88, 0x0a, 0xa0, 0x6e,
	0xd2, 0x97, 0x68, 0x26, 0xf7, 0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8,
	0xa3, 0x92,
};
static const uint8_t gcm_rtcp[44] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xc9, 0x8b, 0x8b, 0x5d, 0xf0, 0x39,
	0x2a, 0x55, 0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e, 0x70, 0x25, 0xc5, 0x2c, 0x6f, 0xbe,
	0xa2, 0xb3, 0xb4, 0x46, 0xea, 0x31, 0x12, 0x3b, 0xa8, 0x8c, 0xe6, 0x1e, 0x80, 0x00,
	0x00, 0x01,
};

static void mkkey(struct srtpw_key *k, enum srtpw_suite s, const uint8_t *master)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(s);

	memset(k, 0, sizeof(*k));
	k->suite = s;
	if (master) {
		memcpy(k->master, master, (size_t)si->key_len + si->salt_len);
	} else {
		for (unsigned i = 0; i < sizeof(k->master); i++)
			k->master[i] = (uint8_t)(i * 7 + s);
	}
}

static void pair(struct srtpw *tx, struct srtpw *rx, const struct srtpw_key *k)
{
	assert_int_equal(srtpw_init(tx, k, SRTPW_OUTBOUND), 0);
	assert_int_equal(srtpw_init(rx, k, SRTPW_INBOUND), 0);
}

/* protect(plain) == expect, unprotect(expect) == plain, for RTP or RTCP */
static void check_vector(const struct srtpw_key *k, bool rtcp, const uint8_t *plain,
			 size_t plen, const uint8_t *expect, size_t elen)
{
	struct srtpw tx, rx;
	uint8_t buf[128];
	size_t len = plen;

	pair(&tx, &rx, k);
	memcpy(buf, plain, plen);
	assert_int_equal((rtcp ? srtpw_protect_rtcp : srtpw_protect_rtp)(&tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(len, elen);
	assert_memory_equal(buf, expect, elen);
	assert_int_equal((rtcp ? srtpw_unprotect_rtcp : srtpw_unprotect_rtp)(&rx, buf, &len), 0);
	assert_int_equal(len, plen);
	assert_memory_equal(buf, plain, plen);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

static void test_vectors_cm(void **state)
{
	struct srtpw_key k;

	(void)state;
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, cm_master);
	check_vector(&k, false, rtp_plain, sizeof(rtp_plain), cm_rtp, sizeof(cm_rtp));
	check_vector(&k, true, rtcp_plain, sizeof(rtcp_plain), cm_rtcp, sizeof(cm_rtcp));
	/* the 32-bit tag is the 80-bit one truncated; SRTCP keeps 80 bits */
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_32, cm_master);
	check_vector(&k, false, rtp_plain, sizeof(rtp_plain), cm_rtp, 32);
	check_vector(&k, true, rtcp_plain, sizeof(rtcp_plain), cm_rtcp, sizeof(cm_rtcp));
}

static void test_vectors_gcm(void **state)
{
	uint8_t master[28];
	struct srtpw_key k;

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		master[i] = (uint8_t)i;
	for (unsigned i = 0; i < 12; i++)
		master[16 + i] = (uint8_t)(0xa0 + i);
	mkkey(&k, SRTPW_AEAD_AES_128_GCM, master);
	check_vector(&k, false, rtp_plain, sizeof(rtp_plain), gcm_rtp, sizeof(gcm_rtp));
	check_vector(&k, true, rtcp_plain, sizeof(rtcp_plain), gcm_rtcp, sizeof(gcm_rtcp));
}

static size_t mkrtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload)
{
	buf[0] = 0x80;
	buf[1] = 0;
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	memset(buf + 4, 0, 4);
	buf[4] = (uint8_t)(seq * 160 >> 24);
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	for (size_t i = 0; i < payload; i++)
		buf[12 + i] = (uint8_t)(seq + i);
	return 12 + payload;
}

static size_t mkrtcp(uint8_t *buf, uint32_t ssrc, uint8_t fill)
{
	static const uint8_t rr[8] = { 0x80, 201, 0x00, 0x01 };    /* RR, no blocks */

	memcpy(buf, rr, 4);
	buf[4] = (uint8_t)(ssrc >> 24);
	buf[5] = (uint8_t)(ssrc >> 16);
	buf[6] = (uint8_t)(ssrc >> 8);
	buf[7] = (uint8_t)ssrc;
	/* followed by an SDES-ish opaque chunk so there is something to encrypt */
	buf[8] = 0x81; buf[9] = 202; buf[10] = 0; buf[11] = 2;
	memset(buf + 12, fill, 8);
	return 20;
}

static void roundtrip(const struct srtpw_key *k)
{
	const struct srtpw_suite_info *si = srtpw_suite_info(k->suite);
	struct srtpw tx, rx;
	uint8_t buf[256], plain[256];
	size_t len, plen;
	int ret;

	pair(&tx, &rx, k);
	for (uint16_t seq = 65530; seq != 10; seq++) {     /* across the ROC wrap */
		plen = mkrtp(plain, seq, 0x11223344, 160 % 97 + seq % 7);
		memcpy(buf, plain, plen);
		len = plen;
		assert_int_equal(srtpw_protect_rtp(&tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(len, plen + tx.rtp_overhead);
		assert_int_equal(tx.rtp_overhead,
				 (k->unauthenticated_srtp ? 0 : si->rtp_tag) + k->mki_len);
		if (!k->unencrypted_srtp && si->cipher != SRTPW_CIPHER_NULL)
			assert_memory_not_equal(buf + 12, plain + 12, plen - 12);
		else
			assert_memory_equal(buf + 12, plain + 12, plen - 12);
		ret = srtpw_unprotect_rtp(&rx, buf, &len);
		if (ret)
			fail_msg("suite %d mki %u seq %u: %d", k->suite, k->mki_len, seq, ret);
		assert_int_equal(len, plen);
		assert_memory_equal(buf, plain, plen);
	}
	for (unsigned i = 0; i < 5; i++) {
		plen = mkrtcp(plain, 0x11223344, (uint8_t)i);
		memcpy(buf, plain, plen);
		len = plen;
		assert_int_equal(srtpw_protect_rtcp(&tx, buf, &len, sizeof(buf)), 0);
		assert_int_equal(len, plen + si->rtcp_tag + 4 + k->mki_len);
		assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(buf, plain, plen);
	}
	srtpw_free(&tx);
	srtpw_free(&rx);
}

static void test_roundtrip_all(void **state)
{
	struct srtpw_key k;

	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++) {
		mkkey(&k, (enum srtpw_suite)s, NULL);
		roundtrip(&k);
		k.mki_len = 2;
		k.mki = 0x0102;
		roundtrip(&k);
	}
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, NULL);
	k.unencrypted_srtp = true;
	k.unencrypted_srtcp = true;
	roundtrip(&k);
	mkkey(&k, SRTPW_F8_128_HMAC_SHA1_32, NULL);
	k.unauthenticated_srtp = true;
	roundtrip(&k);
}

/* Flip one bit anywhere: header, payload or tag. Each must fail authentication. */
static void tamper(enum srtpw_suite s)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t orig[128], buf[128];
	size_t len, olen;

	mkkey(&k, s, NULL);
	pair(&tx, &rx, &k);
	olen = mkrtp(orig, 100, 0xabcdef01, 40);
	assert_int_equal(srtpw_protect_rtp(&tx, orig, &olen, sizeof(orig)), 0);
	for (size_t pos = 1; pos < olen; pos += 3) {
		memcpy(buf, orig, olen);
		buf[pos] ^= 0x04;
		len = olen;
		assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EBADMSG);
	}
	/* the good one still passes afterwards: failures did not advance the window */
	memcpy(buf, orig, olen);
	len = olen;
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), 0);

	olen = mkrtcp(orig, 0xabcdef01, 9);
	assert_int_equal(srtpw_protect_rtcp(&tx, orig, &olen, sizeof(orig)), 0);
	memcpy(buf, orig, olen);
	buf[14] ^= 1;
	len = olen;
	assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), -EBADMSG);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

static void test_tamper(void **state)
{
	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++)
		tamper((enum srtpw_suite)s);
}

static void test_wrong_key(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t buf[128];
	size_t len;

	(void)state;
	mkkey(&k, SRTPW_AEAD_AES_256_GCM, NULL);
	assert_int_equal(srtpw_init(&tx, &k, SRTPW_OUTBOUND), 0);
	k.master[3] ^= 1;
	assert_int_equal(srtpw_init(&rx, &k, SRTPW_INBOUND), 0);
	len = mkrtp(buf, 1, 5, 20);
	assert_int_equal(srtpw_protect_rtp(&tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EBADMSG);
	assert_string_equal(srtpw_strerror(-EBADMSG), "auth");
	srtpw_free(&tx);
	srtpw_free(&rx);
}

static void replay(enum srtpw_suite s)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t pkts[200][64], buf[64];
	size_t lens[200], len;

	mkkey(&k, s, NULL);
	pair(&tx, &rx, &k);
	for (unsigned i = 0; i < 200; i++) {
		lens[i] = mkrtp(pkts[i], (uint16_t)(1000 + i), 77, 20);
		assert_int_equal(srtpw_protect_rtp(&tx, pkts[i], &lens[i], sizeof(pkts[i])), 0);
	}
	/* 199 first, then 150 (in the window, unseen) is fine, seen ones and ones left
	 * of the 128-packet window are replays */
	memcpy(buf, pkts[199], lens[199]);
	len = lens[199];
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), 0);
	memcpy(buf, pkts[150], lens[150]);
	len = lens[150];
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), 0);
	memcpy(buf, pkts[150], lens[150]);
	len = lens[150];
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EALREADY);
	memcpy(buf, pkts[199], lens[199]);
	len = lens[199];
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EALREADY);
	memcpy(buf, pkts[10], lens[10]);
	len = lens[10];
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EALREADY);

	/* SRTCP has its own index and window */
	len = mkrtcp(buf, 77, 1);
	assert_int_equal(srtpw_protect_rtcp(&tx, buf, &len, sizeof(buf)), 0);
	memcpy(pkts[0], buf, len);
	lens[0] = len;
	assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), 0);
	memcpy(buf, pkts[0], lens[0]);
	len = lens[0];
	assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), -EALREADY);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

static void test_replay(void **state)
{
	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++)
		replay((enum srtpw_suite)s);
}

static void test_outbound_repeat(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t a[64], b[64];
	size_t la, lb;

	(void)state;
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, NULL);
	pair(&tx, &rx, &k);
	la = mkrtp(a, 5, 9, 20);
	lb = mkrtp(b, 5, 9, 20);
	/* a relay forwards a network duplicate: protecting it again must work and give
	 * the same bytes; the receiver then sees a replay */
	assert_int_equal(srtpw_protect_rtp(&tx, a, &la, sizeof(a)), 0);
	assert_int_equal(srtpw_protect_rtp(&tx, b, &lb, sizeof(b)), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(srtpw_unprotect_rtp(&rx, a, &la), 0);
	assert_int_equal(srtpw_unprotect_rtp(&rx, b, &lb), -EALREADY);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

static void test_bounds(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx, unset;
	uint8_t buf[64];
	size_t len;

	(void)state;
	memset(&unset, 0, sizeof(unset));
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, NULL);
	pair(&tx, &rx, &k);

	len = mkrtp(buf, 1, 2, 20);
	assert_int_equal(srtpw_protect_rtp(&tx, buf, &len, len + 9), -ENOSPC);
	assert_int_equal(srtpw_protect_rtp(&rx, buf, &len, sizeof(buf)), -EINVAL);
	assert_int_equal(srtpw_protect_rtp(&unset, buf, &len, sizeof(buf)), -EINVAL);
	assert_int_equal(srtpw_protect_rtp(&tx, buf, &len, len + 10), 0);
	assert_int_equal(len, 42);
	assert_int_equal(srtpw_unprotect_rtp(&tx, buf, &len), -EINVAL);

	len = 21;           /* header + tag is 22 */
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EINVAL);
	len = 30;
	buf[0] = 0x40;      /* version 1 */
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EINVAL);
	len = 8 + 4 + 10 - 1;
	buf[0] = 0x80;
	assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), -EINVAL);
	len = mkrtcp(buf, 2, 0);
	assert_int_equal(srtpw_protect_rtcp(&tx, buf, &len, len + 13), -ENOSPC);

	mkkey(&k, SRTPW_AEAD_AES_128_GCM, NULL);
	k.unencrypted_srtp = true;
	assert_int_equal(srtpw_init(&unset, &k, SRTPW_INBOUND), -ENOTSUP);
	k.suite = SRTPW_SUITE_NONE;
	assert_int_equal(srtpw_init(&unset, &k, SRTPW_INBOUND), -EINVAL);
	assert_false(srtpw_is_set(&unset));
	srtpw_free(&unset);
	srtpw_free(&tx);
	srtpw_free(&rx);
	srtpw_free(&rx);    /* idempotent */
}

static void test_mki_mismatch(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t buf[64];
	size_t len;

	(void)state;
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, NULL);
	k.mki_len = 1;
	k.mki = 1;
	assert_int_equal(srtpw_init(&tx, &k, SRTPW_OUTBOUND), 0);
	k.mki = 2;
	assert_int_equal(srtpw_init(&rx, &k, SRTPW_INBOUND), 0);
	len = mkrtp(buf, 1, 2, 20);
	assert_int_equal(srtpw_protect_rtp(&tx, buf, &len, sizeof(buf)), 0);
	assert_int_equal(len, 12 + 20 + 1 + 10);
	assert_int_equal(buf[32], 1);       /* MKI sits between payload and tag */
	assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -ENOKEY);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

/* protect seq with tx, unprotect with rx: 0 or the error */
static int through(struct srtpw *tx, struct srtpw *rx, uint16_t seq, uint32_t ssrc)
{
	uint8_t buf[128], plain[128];
	size_t len, plen = mkrtp(plain, seq, ssrc, 30);
	int e;

	memcpy(buf, plain, plen);
	len = plen;
	e = srtpw_protect_rtp(tx, buf, &len, sizeof(buf));
	if (e)
		return e;
	e = srtpw_unprotect_rtp(rx, buf, &len);
	if (!e && (len != plen || memcmp(buf, plain, plen)))
		return -EIO;
	return e;
}

/* Packets reordered across the wrap: the receiver's ROC guess (RFC 3711 3.3.1) must
 * follow the sender's, in both directions of the reorder. */
static void test_roc_reorder(void **state)
{
	/* sender order vs arrival order, around 65535 -> 0 */
	static const uint16_t send[] = { 65533, 65534, 65535, 0, 1, 2, 3 };
	static const int arrive[] = { 0, 3, 1, 4, 2, 6, 5 };   /* indexes into send */
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t pkts[7][128];
	size_t lens[7];

	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++) {
		mkkey(&k, (enum srtpw_suite)s, NULL);
		pair(&tx, &rx, &k);
		for (int i = 0; i < 7; i++) {
			lens[i] = mkrtp(pkts[i], send[i], 42, 30);
			assert_int_equal(srtpw_protect_rtp(&tx, pkts[i], &lens[i], 128), 0);
		}
		for (int i = 0; i < 7; i++) {
			int j = arrive[i];

			if (srtpw_unprotect_rtp(&rx, pkts[j], &lens[j]))
				fail_msg("suite %d: seq %u (arrival %d) refused", s, send[j], i);
			assert_int_equal(pkts[j][2] << 8 | pkts[j][3], send[j]);
		}
		/* a jump of 30000 forward, then a straggler from before it: both fine */
		assert_int_equal(through(&tx, &rx, 30003, 42), 0);
		assert_int_equal(through(&tx, &rx, 30002, 42), 0);
		/* jumps under half the sequence space are forward: to 62003, then 20000 on
		 * wraps again (ROC 2); 40000 on from there reads as 25536 back: too old */
		assert_int_equal(through(&tx, &rx, 62003, 42), 0);
		assert_int_equal(through(&tx, &rx, (uint16_t)(62003 + 20000), 42), 0);
		assert_int_equal(through(&tx, &rx, (uint16_t)(62003 + 20000 + 40000), 42),
				 -EALREADY);
		srtpw_free(&tx);
		srtpw_free(&rx);
	}
}

/* Across a restart (srtpw_state_get/set): contexts made afresh from the same key
 * continue at the saved ROC, for sender and receiver alike; without the state a fresh
 * receiver guesses ROC 0 and refuses the packets (the failure this prevents). */
static void test_state_restart(void **state)
{
	struct srtpw_ssrc_state st[SRTPX_TEST_SLOTS], one;
	struct srtpw_key k;
	struct srtpw tx, rx, tx2, rx2, rx0;
	unsigned n;

	(void)state;
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, NULL);
	pair(&tx, &rx, &k);
	for (unsigned seq = 65530; seq < 65536 + 5; seq++)      /* ROC 0 -> 1 */
		assert_int_equal(through(&tx, &rx, (uint16_t)seq, 7), 0);
	assert_int_equal(through(&tx, &rx, 9, 8), 0);           /* a second SSRC, ROC 0 */
	n = srtpw_state_get(&tx, st, SRTPX_TEST_SLOTS);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < n; i++)
		if (st[i].ssrc == 7)
			one = st[i];
	assert_true(one.has_rtp);
	assert_int_equal(one.rtp_index, (1ull << 16) | 4);
	pair(&tx2, &rx2, &k);
	assert_int_equal(srtpw_init(&rx0, &k, SRTPW_INBOUND), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(srtpw_state_set(&tx2, &st[i]), 0);
	n = srtpw_state_get(&rx, st, SRTPX_TEST_SLOTS);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(srtpw_state_set(&rx2, &st[i]), 0);
	/* the restored sender to the old receiver, the old sender to the restored one */
	assert_int_equal(through(&tx2, &rx, 10, 7), 0);
	assert_int_equal(through(&tx, &rx2, 11, 7), 0);
	assert_int_equal(through(&tx, &rx2, 10, 8), 0);
	assert_int_equal(through(&tx, &rx0, 12, 7), -EBADMSG);
	one.rtp_index = 1ull << 48;
	assert_int_equal(srtpw_state_set(&rx2, &one), -EINVAL);
	srtpw_free(&tx);
	srtpw_free(&rx);
	srtpw_free(&tx2);
	srtpw_free(&rx2);
	srtpw_free(&rx0);
}

/* Each SSRC has its own ROC and window; the table forgets the least recently used. */
static void test_ssrcs(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t a[128], b[128];
	size_t la, lb;

	(void)state;
	mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_80, NULL);
	pair(&tx, &rx, &k);
	/* the same seq on two SSRCs is no replay */
	assert_int_equal(through(&tx, &rx, 7, 1), 0);
	assert_int_equal(through(&tx, &rx, 7, 2), 0);
	/* SSRC 1 wraps, SSRC 2 does not: each keeps its own ROC */
	for (uint32_t seq = 8; seq <= 65536 + 10; seq += 20000)
		assert_int_equal(through(&tx, &rx, (uint16_t)seq, 1), 0);
	assert_int_equal(through(&tx, &rx, 8, 2), 0);
	assert_int_equal(srtpw_evicted(&rx), 0);
	/* 16 more SSRCs push 1 and 2 out; 2 comes back as new (its replay state is gone) */
	la = mkrtp(a, 9, 2, 30);
	assert_int_equal(srtpw_protect_rtp(&tx, a, &la, sizeof(a)), 0);
	memcpy(b, a, la);
	lb = la;
	assert_int_equal(srtpw_unprotect_rtp(&rx, a, &la), 0);
	for (uint32_t ssrc = 100; ssrc < 116; ssrc++)
		assert_int_equal(through(&tx, &rx, 1, ssrc), 0);
	assert_int_equal(srtpw_evicted(&rx), 2);
	assert_int_equal(srtpw_unprotect_rtp(&rx, b, &lb), 0);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

/* An unauthenticated packet never takes a slot: garbage with random SSRCs does not push
 * the real SSRC out. */
static void test_ssrc_garbage(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t buf[128];
	size_t len;

	(void)state;
	mkkey(&k, SRTPW_AEAD_AES_128_GCM, NULL);
	pair(&tx, &rx, &k);
	assert_int_equal(through(&tx, &rx, 1, 0xfeed), 0);
	for (uint32_t ssrc = 0; ssrc < 100; ssrc++) {
		len = mkrtp(buf, 2, ssrc, 30) + 16;
		assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), -EBADMSG);
	}
	assert_int_equal(srtpw_evicted(&rx), 0);
	/* the real one's window is intact: its seq 1 is still a replay */
	assert_int_equal(through(&tx, &rx, 2, 0xfeed), 0);
	srtpw_free(&tx);
	srtpw_free(&rx);
}

/* WSH: a larger replay window accepts later stragglers; 256 is the most kept. */
static void test_window_size(void **state)
{
	static const struct { uint16_t wsh; uint16_t late; int want; } cases[] = {
		/* 1 */ { 0, 127, 0 },   /* default 128: 127 behind the top is in */
		/* 2 */ { 0, 128, -EALREADY },
		/* 3 */ { 200, 199, 0 },
		/* 4 */ { 200, 200, -EALREADY },
		/* 5 */ { 1000, 255, 0 },        /* clamped to 256 */
		/* 6 */ { 1000, 256, -EALREADY },
		/* 7 */ { 10, 63, 0 },           /* at least 64 */
	};
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t late[128];
	size_t ll;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mkkey(&k, SRTPW_AES_CM_128_HMAC_SHA1_32, NULL);
		k.window = cases[i].wsh;
		pair(&tx, &rx, &k);
		ll = mkrtp(late, 1000, 3, 30);
		assert_int_equal(srtpw_protect_rtp(&tx, late, &ll, sizeof(late)), 0);
		assert_int_equal(through(&tx, &rx, (uint16_t)(1000 + cases[i].late), 3), 0);
		if (srtpw_unprotect_rtp(&rx, late, &ll) != cases[i].want)
			fail_msg("case %zu", i + 1);
		srtpw_free(&tx);
		srtpw_free(&rx);
	}
}

/* SRTCP: the index counts up per SSRC with E set; a receiver honours E = 0 (sender
 * with UNENCRYPTED_SRTCP) and refuses a flipped E (it is authenticated). */
static void test_srtcp_index_e(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, tx_clear, rx;
	uint8_t buf[128], plain[128];
	size_t len, plen;

	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++) {
		const struct srtpw_suite_info *si = srtpw_suite_info((enum srtpw_suite)s);
		size_t trailer;

		mkkey(&k, (enum srtpw_suite)s, NULL);
		pair(&tx, &rx, &k);
		for (uint32_t i = 1; i <= 3; i++) {
			plen = mkrtcp(plain, 9, (uint8_t)i);
			memcpy(buf, plain, plen);
			len = plen;
			assert_int_equal(srtpw_protect_rtcp(&tx, buf, &len, sizeof(buf)), 0);
			trailer = si->aead ? plen + 16 : plen;
			assert_int_equal(buf[trailer] & 0x80, si->cipher == SRTPW_CIPHER_NULL ? 0 : 0x80);
			assert_int_equal(buf[trailer + 3], i);          /* index 1, 2, 3 */
			if (si->cipher != SRTPW_CIPHER_NULL)
				assert_memory_not_equal(buf + 8, plain + 8, plen - 8);
			else
				assert_memory_equal(buf + 8, plain + 8, plen - 8);
			buf[trailer] ^= 0x80;
			assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), -EBADMSG);
			buf[trailer] ^= 0x80;
			assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), 0);
			assert_memory_equal(buf, plain, plen);
		}
		srtpw_free(&tx);
		if (!si->aead) {
			k.unencrypted_srtcp = true;
			assert_int_equal(srtpw_init(&tx_clear, &k, SRTPW_OUTBOUND), 0);
			plen = mkrtcp(plain, 10, 1);
			memcpy(buf, plain, plen);
			len = plen;
			assert_int_equal(srtpw_protect_rtcp(&tx_clear, buf, &len, sizeof(buf)), 0);
			assert_int_equal(buf[plen] & 0x80, 0);
			assert_memory_equal(buf, plain, plen);
			assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), 0);
			assert_memory_equal(buf, plain, plen);
			srtpw_free(&tx_clear);
		}
		srtpw_free(&rx);
	}
}

/* OpenSSL's allocations are counted from main() on (CRYPTO_set_mem_functions). */
static unsigned long n_allocs;

static void *count_malloc(size_t n, const char *f, int l)
{
	(void)f;
	(void)l;
	n_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *f, int l)
{
	(void)f;
	(void)l;
	n_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *f, int l)
{
	(void)f;
	(void)l;
	free(p);
}

/* Nothing on the packet path allocates, in any suite, in either direction. */
static void test_no_alloc(void **state)
{
	struct srtpw_key k;
	struct srtpw tx, rx;
	uint8_t buf[256];
	size_t len;

	(void)state;
	for (int s = SRTPW_SUITE_NONE + 1; s < SRTPW_SUITE_COUNT; s++) {
		unsigned long before;

		mkkey(&k, (enum srtpw_suite)s, NULL);
		k.mki_len = 1;
		pair(&tx, &rx, &k);
		before = n_allocs;
		for (uint16_t seq = 0; seq < 300; seq++) {
			len = mkrtp(buf, seq, 77 + seq % 3, 160);
			assert_int_equal(srtpw_protect_rtp(&tx, buf, &len, sizeof(buf)), 0);
			assert_int_equal(srtpw_unprotect_rtp(&rx, buf, &len), 0);
			len = mkrtcp(buf, 77, (uint8_t)seq);
			assert_int_equal(srtpw_protect_rtcp(&tx, buf, &len, sizeof(buf)), 0);
			assert_int_equal(srtpw_unprotect_rtcp(&rx, buf, &len), 0);
			buf[20] ^= 1;       /* and failures */
			assert_int_not_equal(srtpw_unprotect_rtcp(&rx, buf, &len), 0);
		}
		if (n_allocs != before)
			fail_msg("suite %s: %lu OpenSSL allocations on the packet path",
				 srtpw_suite_info((enum srtpw_suite)s)->name, n_allocs - before);
		assert_true(n_allocs > 0 || before == 0);
		srtpw_free(&tx);
		srtpw_free(&rx);
	}
	assert_true(n_allocs > 0);      /* the counter works: set-up allocated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_cm),
		cmocka_unit_test(test_vectors_gcm),
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_outbound_repeat),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_mki_mismatch),
		cmocka_unit_test(test_roc_reorder),
		cmocka_unit_test(test_state_restart),
		cmocka_unit_test(test_ssrcs),
		cmocka_unit_test(test_ssrc_garbage),
		cmocka_unit_test(test_window_size),
		cmocka_unit_test(test_srtcp_index_e),
		cmocka_unit_test(test_no_alloc),
	};

	CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
