/* srtp_kernel: what the kernel module gets from an SRTP context and gives back
 * (lib/srtp_kernel.c): RFC 3711 B.3 session keys, the suites the module lacks refused,
 * the index and replay window exported and resumed (a replay stays refused across the
 * move, a gap stays acceptable). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/kmod_srtp.h"

/* RFC 3711 B.3 */
static const uint8_t mkey[16] = { 0xE1, 0xF9, 0x7A, 0x0D, 0x3E, 0x01, 0x8B, 0xE0, 0xD6, 0x4F,
				  0xA3, 0x2C, 0x06, 0xDE, 0x41, 0x39 };
static const uint8_t msalt[14] = { 0x0E, 0xC6, 0x75, 0xAD, 0x49, 0x8A, 0xFE, 0xEB, 0xB6, 0x96,
				   0x0B, 0x3A, 0xAB, 0xE6 };
static const uint8_t skey[16] = { 0xC6, 0x1E, 0x7A, 0x93, 0x74, 0x4F, 0x39, 0xEE, 0x10, 0x73,
				  0x4A, 0xFE, 0x3F, 0xF7, 0xA0, 0x87 };
static const uint8_t ssalt[14] = { 0x30, 0xCB, 0xBC, 0x08, 0x86, 0x3D, 0x8C, 0x85, 0xD4, 0x9D,
				   0xB3, 0x4A, 0x9A, 0xE1 };
static const uint8_t sauth[20] = { 0xCE, 0xBE, 0x32, 0x1F, 0x6F, 0xF7, 0x71, 0x6B, 0x6F, 0xD4,
				   0xAB, 0x49, 0xAF, 0x25, 0x6A, 0x15, 0x6D, 0x38, 0xBA, 0xA4 };

static struct srtpw_key cm_key(void)
{
	struct srtpw_key k;

	memset(&k, 0, sizeof(k));
	k.suite = SRTPW_AES_CM_128_HMAC_SHA1_80;
	memcpy(k.master, mkey, 16);
	memcpy(k.master + 16, msalt, 14);
	return k;
}

static void test_session_keys(void **state)
{
	struct srtpw_key k = cm_key();
	struct sluice_srtp_key out;
	static const uint8_t zero[32];

	(void)state;
	assert_int_equal(srtpw_kernel_key(&k, &out), 0);
	assert_int_equal(out.suite, SLUICE_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(out.key, skey, 16);
	assert_memory_equal(out.key + 16, zero, 16);
	assert_memory_equal(out.salt, ssalt, 14);
	assert_memory_equal(out.salt + 14, zero, 2);
	assert_memory_equal(out.auth, sauth, 20);
	k.suite = SRTPW_AEAD_AES_256_GCM;
	assert_int_equal(srtpw_kernel_key(&k, &out), 0);
	assert_int_equal(out.suite, SLUICE_SRTP_AEAD_AES_256_GCM);
	assert_memory_equal(out.salt + 12, zero, 4);	/* 12-byte salt */
	assert_memory_equal(out.auth, zero, 20);	/* no auth key */
}

static void test_unsupported(void **state)
{
	static const enum srtpw_suite no[] = { SRTPW_AES_256_CM_HMAC_SHA1_80,
		SRTPW_AES_192_CM_HMAC_SHA1_32, SRTPW_F8_128_HMAC_SHA1_80, SRTPW_NULL_HMAC_SHA1_80 };
	struct srtpw_key k = cm_key();
	struct sluice_srtp_key out;

	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		k.suite = no[i];
		assert_false(srtpw_kernel_supported(&k));
		assert_int_equal(srtpw_kernel_key(&k, &out), -ENOTSUP);
	}
	k = cm_key();
	k.mki_len = 1;
	assert_int_equal(srtpw_kernel_key(&k, &out), -ENOTSUP);
	k = cm_key();
	k.unencrypted_srtp = true;
	assert_int_equal(srtpw_kernel_key(&k, &out), -ENOTSUP);
	k = cm_key();
	k.window = 256;
	assert_int_equal(srtpw_kernel_key(&k, &out), -ENOTSUP);
	k.window = 128;
	assert_true(srtpw_kernel_supported(&k));
}

static size_t pkt(uint8_t *p, uint16_t seq)
{
	memset(p, 0xab, 60);
	p[0] = 0x80;
	p[1] = 0;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[8] = 0xca, p[9] = 0xfe, p[10] = 0xba, p[11] = 0xbe;
	return 60;
}

/* protect seq with tx into p; unprotect with rx: its result */
static int through(struct srtpw *tx, struct srtpw *rx, uint16_t seq, uint8_t *keep,
		   size_t *keep_len)
{
	uint8_t p[128];
	size_t len = pkt(p, seq);

	assert_int_equal(srtpw_protect_rtp(tx, p, &len, sizeof(p)), 0);
	if (keep) {
		memcpy(keep, p, len);
		*keep_len = len;
	}
	return srtpw_unprotect_rtp(rx, p, &len);
}

static void test_index_roundtrip(void **state)
{
	struct srtpw_key k = cm_key();
	struct srtpw tx, rx, rx2, tx2;
	struct sluice_srtp_index x, y;
	uint8_t old[128], gap[128];
	size_t old_len = 0, gap_len = 0, len;

	(void)state;
	assert_int_equal(srtpw_init(&tx, &k, SRTPW_OUTBOUND), 0);
	assert_int_equal(srtpw_init(&rx, &k, SRTPW_INBOUND), 0);
	srtpw_kernel_index(&rx, &x);
	assert_int_equal(x.valid, 0);
	/* 65530 .. 65535, 0 .. 9 (ROC 1), with 3 protected but not delivered */
	for (uint32_t s = 65530; s < 65546; s++) {
		uint16_t seq = (uint16_t)s;

		if (seq == 3) {
			len = pkt(gap, seq);
			assert_int_equal(srtpw_protect_rtp(&tx, gap, &len, sizeof(gap)), 0);
			gap_len = len;
			continue;
		}
		assert_int_equal(through(&tx, &rx, seq, seq == 5 ? old : NULL, &old_len), 0);
	}
	srtpw_kernel_index(&rx, &x);
	assert_int_equal(x.valid, 1);
	assert_int_equal(x.ssrc, 0xcafebabe);
	assert_int_equal(x.roc, 1);
	assert_int_equal(x.seq, 9);
	/* bit i = 9 - i: all of 0..9 but 3, and 65530..65535 below them */
	assert_int_equal(x.window[0], 0xffffull & ~(1ull << 6));
	assert_int_equal(x.window[1], 0);
	srtpw_kernel_index(&tx, &y);
	assert_int_equal(y.valid, 1);
	assert_int_equal(y.roc, 1);
	assert_int_equal(y.seq, 9);
	assert_int_equal(y.window[0], 0);

	/* a fresh context resumes: 5 is a replay, 3 still welcome, 10 next */
	assert_int_equal(srtpw_init(&rx2, &k, SRTPW_INBOUND), 0);
	assert_int_equal(srtpw_kernel_resume(&rx2, &x), 0);
	assert_int_equal(srtpw_unprotect_rtp(&rx2, old, &old_len), -EALREADY);
	assert_int_equal(srtpw_unprotect_rtp(&rx2, gap, &gap_len), 0);
	assert_int_equal(through(&tx, &rx2, 10, NULL, NULL), 0);
	/* an outbound one continues in ROC 1 (a receiver at ROC 1 takes it) */
	assert_int_equal(srtpw_init(&tx2, &k, SRTPW_OUTBOUND), 0);
	assert_int_equal(srtpw_kernel_resume(&tx2, &y), 0);
	assert_int_equal(through(&tx2, &rx2, 11, NULL, NULL), 0);
	srtpw_free(&tx);
	srtpw_free(&rx);
	srtpw_free(&rx2);
	srtpw_free(&tx2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_keys),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_index_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
