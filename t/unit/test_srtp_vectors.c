/* The SRTP transform's pieces against published test vectors, numbered cases:
 *   RFC 3711 B.1 (AES-f8), B.2 (AES-CM keystream), B.3 (key derivation);
 *   RFC 6188 7.2 / 7.4 (AES-256 / AES-192 key derivation);
 *   RFC 7714 16.1.1, 16.2.1 (SRTP AEAD_AES_128/256_GCM), 17.1, 17.2 (SRTCP), 17.3 (SRTCP
 *   authentication only, E = 0).
 * The master-key level (whole packets through srtpw_*) is checked against libsrtp2's
 * own vectors in test_srtp.c and against libsrtp2 itself in test_srtp_ref.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/srtp_internal.h"

/* hex (spaces allowed) -> out; returns the byte count */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*h) {
		unsigned v;

		if (*h == ' ') {
			h++;
			continue;
		}
		if (sscanf(h, "%2x", &v) != 1 || n == cap)
			fail_msg("bad hex near '%s'", h);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want, const char *what)
{
	uint8_t w[256];
	size_t wl = unhex(want, w, sizeof(w));

	if (wl != len || memcmp(got, w, len)) {
		char g[2 * 256 + 1];

		for (size_t i = 0; i < len && i < 256; i++)
			sprintf(g + 2 * i, "%02x", got[i]);
		fail_msg("%s:\n got  %s\n want %s", what, g, want);
	}
}

/* ---- key derivation ---- */

static const struct {
	const char *name, *mkey, *msalt;
	uint8_t label;
	const char *out;
} kdf_cases[] = {
	/* 1 */ { "3711 B.3 cipher key", "E1F97A0D3E018BE0D64FA32C06DE4139",
		  "0EC675AD498AFEEBB6960B3AABE6", 0, "C61E7A93744F39EE10734AFE3FF7A087" },
	/* 2 */ { "3711 B.3 cipher salt", "E1F97A0D3E018BE0D64FA32C06DE4139",
		  "0EC675AD498AFEEBB6960B3AABE6", 2, "30CBBC08863D8C85D49DB34A9AE1" },
	/* 3: the RFC's 94-octet auth key runs the counter over six blocks */
	{ "3711 B.3 auth key", "E1F97A0D3E018BE0D64FA32C06DE4139",
	  "0EC675AD498AFEEBB6960B3AABE6", 1,
	  "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
	  "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
	  "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2" },
	/* 4 */ { "6188 7.2 cipher key",
		  "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
		  "3b04803de51ee7c96423ab5b78d2", 0,
		  "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4" },
	/* 5 */ { "6188 7.2 cipher salt",
		  "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
		  "3b04803de51ee7c96423ab5b78d2", 2, "fa31791685ca444a9e07c6c64e93" },
	/* 6 */ { "6188 7.2 auth key",
		  "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6",
		  "3b04803de51ee7c96423ab5b78d2", 1, "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05" },
	/* 7 */ { "6188 7.4 cipher key", "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1",
		  "c8522f3acd4ce86d5add78edbb11", 0,
		  "31874736a8f1143870c26e4857d8a5b2c4a354407faadabb" },
	/* 8 */ { "6188 7.4 cipher salt", "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1",
		  "c8522f3acd4ce86d5add78edbb11", 2, "2372b82d639b6d8503a47adc0a6c" },
	/* 9 */ { "6188 7.4 auth key", "73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1",
		  "c8522f3acd4ce86d5add78edbb11", 1, "355b10973cd95b9eacf4061c7e1a7151e7cfbfcb" },
};

static void test_kdf(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(kdf_cases) / sizeof(kdf_cases[0]); i++) {
		uint8_t mk[32], ms[14], want[128], out[128];
		size_t mkl = unhex(kdf_cases[i].mkey, mk, sizeof(mk));
		size_t msl = unhex(kdf_cases[i].msalt, ms, sizeof(ms));
		size_t n = unhex(kdf_cases[i].out, want, sizeof(want));

		assert_int_equal(srtpx_kdf(mk, mkl, ms, msl, kdf_cases[i].label, out, n), 0);
		assert_hex(out, n, kdf_cases[i].out, kdf_cases[i].name);
	}
	/* refused: a key of no AES size, a salt over 14 bytes */
	uint8_t k[32] = { 0 }, o[16];
	assert_int_equal(srtpx_kdf(k, 20, k, 14, 0, o, 16), -EINVAL);
	assert_int_equal(srtpx_kdf(k, 16, k, 15, 0, o, 16), -EINVAL);
}

/* ---- AES-CM keystream (RFC 3711 B.2) ---- */

static void test_cm_keystream(void **state)
{
	/* 65282 blocks of keystream for SSRC 0, index 0; first and last three checked */
	static const struct { unsigned block; const char *ks; } b2[] = {
		{ 0x0000, "E03EAD0935C95E80E166B16DD92B4EB4" },
		{ 0x0001, "D23513162B02D0F72A43A2FE4A5F97AB" },
		{ 0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0" },
		{ 0xFEFF, "EC8CDF7398607CB0F2D21675EA9EA1E4" },
		{ 0xFF00, "362B7C3C6773516318A077D7FC5073AE" },
		{ 0xFF01, "6A2CC3787889374FBEB4C81B17BA6C44" },
	};
	const size_t len = 1044512;
	uint8_t key[16], salt[14];
	struct srtpx_cipher c;
	uint8_t *buf = calloc(1, len);

	(void)state;
	assert_non_null(buf);
	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt, sizeof(salt));
	assert_int_equal(srtpx_cipher_init(&c, SRTPW_CIPHER_AES_CM, key, 16, salt, 14, false), 0);
	assert_int_equal(srtpx_cm_crypt(&c, 0, 0, buf, len), 0);
	for (size_t i = 0; i < sizeof(b2) / sizeof(b2[0]); i++)
		assert_hex(buf + 16 * b2[i].block, 16, b2[i].ks, "3711 B.2 keystream block");
	/* the same call again gives the same keystream: the IV is set per call */
	memset(buf, 0, 64);
	assert_int_equal(srtpx_cm_crypt(&c, 0, 0, buf, 64), 0);
	assert_hex(buf, 16, b2[0].ks, "3711 B.2 again");
	srtpx_cipher_free(&c);
	free(buf);
}

/* ---- AES-f8 (RFC 3711 B.1) ---- */

static void test_f8(void **state)
{
	const char *plain = "70736575646f72616e646f6d6e657373 20697320746865206e65787420626573"
			    "74207468696e67";
	const char *cipher = "019ce7a26e7854014a6366aa95d4eefd 1ad4172a14f9faf455b7f1d4b62bd08f"
			     "562c0eef7c4802";
	uint8_t key[16], salt[4], iv[16], buf[64], big[1000], big2[1000];
	struct srtpx_cipher c;
	size_t n;

	(void)state;
	unhex("234829008467be186c3de14aae72d62c", key, sizeof(key));
	unhex("32f2870d", salt, sizeof(salt));
	/* IV = 0x00 || M PT SEQ TS SSRC of header 806e5cba50681de55c621599 || ROC d462564a */
	unhex("006e5cba50681de55c621599d462564a", iv, sizeof(iv));
	n = unhex(plain, buf, sizeof(buf));
	assert_int_equal(srtpx_cipher_init(&c, SRTPW_CIPHER_AES_F8, key, 16, salt, 4, false), 0);
	assert_int_equal(srtpx_f8_crypt(&c, iv, buf, n), 0);
	assert_hex(buf, n, cipher, "3711 B.1 ciphertext");
	assert_int_equal(srtpx_f8_crypt(&c, iv, buf, n), 0);
	assert_hex(buf, n, plain, "3711 B.1 decrypted");
	/* longer than one internal chunk: decrypting in one go undoes it */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = big2[i] = (uint8_t)(i * 31);
	assert_int_equal(srtpx_f8_crypt(&c, iv, big, sizeof(big)), 0);
	assert_memory_not_equal(big, big2, sizeof(big));
	assert_int_equal(srtpx_f8_crypt(&c, iv, big, sizeof(big)), 0);
	assert_memory_equal(big, big2, sizeof(big));
	/* ... and its first 39 bytes are the RFC's: the chunking does not show */
	memcpy(buf, big2, 39);
	assert_int_equal(srtpx_f8_crypt(&c, iv, big, sizeof(big)), 0);
	assert_int_equal(srtpx_f8_crypt(&c, iv, buf, 39), 0);
	assert_memory_equal(buf, big, 39);
	srtpx_cipher_free(&c);
}

/* ---- AES-GCM (RFC 7714 16, 17) ---- */

static const char *const gcm_key128 = "000102030405060708090a0b0c0d0e0f";
static const char *const gcm_key256 =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *const gcm_salt = "517569642070726f2071756f";   /* "Quid pro quo" */
static const char *const rtp_hdr = "8040f17b8041f8d35501a0b2";
static const char *const rtp_payload =          /* "Gallia est omnis divisa in partes tres" */
	"47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
static const char *const rtcp_plain =
	"81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
	"deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

static void gcm_pair(struct srtpx_cipher *tx, struct srtpx_cipher *rx, const char *khex)
{
	uint8_t key[32], salt[12];
	size_t kl = unhex(khex, key, sizeof(key));

	unhex(gcm_salt, salt, sizeof(salt));
	assert_int_equal(srtpx_cipher_init(tx, SRTPW_CIPHER_AES_GCM, key, kl, salt, 12, false), 0);
	assert_int_equal(srtpx_cipher_init(rx, SRTPW_CIPHER_AES_GCM, key, kl, salt, 12, true), 0);
}

static void gcm_rtp_case(const char *khex, const char *want_ct, const char *want_tag)
{
	/* nonce 00 00 | SSRC 5501a0b2 | ROC 0 | SEQ f17b (IV 51753c6580c2726f20718414) */
	static const uint8_t nonce[12] = { 0, 0, 0x55, 0x01, 0xa0, 0xb2, 0, 0, 0, 0, 0xf1, 0x7b };
	struct srtpx_cipher tx, rx;
	uint8_t hdr[12], buf[64], tag[16];
	size_t n;

	gcm_pair(&tx, &rx, khex);
	unhex(rtp_hdr, hdr, sizeof(hdr));
	n = unhex(rtp_payload, buf, sizeof(buf));
	assert_int_equal(srtpx_gcm_seal(&tx, nonce, hdr, 12, NULL, 0, buf, n, tag), 0);
	assert_hex(buf, n, want_ct, "7714 16 ciphertext");
	assert_hex(tag, 16, want_tag, "7714 16 tag");
	assert_int_equal(srtpx_gcm_open(&rx, nonce, hdr, 12, NULL, 0, buf, n, tag), 0);
	assert_hex(buf, n, rtp_payload, "7714 16 decrypted");
	/* a header bit flipped (AAD): refused */
	assert_int_equal(srtpx_gcm_seal(&tx, nonce, hdr, 12, NULL, 0, buf, n, tag), 0);
	hdr[1] ^= 0x80;
	assert_int_equal(srtpx_gcm_open(&rx, nonce, hdr, 12, NULL, 0, buf, n, tag), -EBADMSG);
	srtpx_cipher_free(&tx);
	srtpx_cipher_free(&rx);
}

static void test_gcm_srtp(void **state)
{
	(void)state;
	/* 16.1.1 */
	gcm_rtp_case(gcm_key128,
		     "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833",
		     "899d7f27beb16a9152cf765ee4390cce");
	/* 16.2.1 */
	gcm_rtp_case(gcm_key256,
		     "32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b",
		     "7aa3db36dfffd6b0f9bb7878d7a76c13");
}

/* SRTCP index 0x5d4; nonce 00 00 | SSRC "Mars" | 00 00 | index; AAD header || E+index */
static void gcm_rtcp_case(const char *khex, bool encrypt, const char *want)
{
	static const uint8_t nonce[12] = { 0, 0, 0x4d, 0x61, 0x72, 0x73, 0, 0, 0, 0, 0x05, 0xd4 };
	uint8_t w[4] = { encrypt ? 0x80 : 0, 0, 0x05, 0xd4 };
	struct srtpx_cipher tx, rx;
	uint8_t buf[128], tag[16];
	size_t n;

	gcm_pair(&tx, &rx, khex);
	n = unhex(rtcp_plain, buf, sizeof(buf));
	if (encrypt)
		assert_int_equal(srtpx_gcm_seal(&tx, nonce, buf, 8, w, 4, buf + 8, n - 8, tag), 0);
	else
		assert_int_equal(srtpx_gcm_seal(&tx, nonce, buf, n, w, 4, NULL, 0, tag), 0);
	memcpy(buf + n, tag, 16);
	memcpy(buf + n + 16, w, 4);
	assert_hex(buf, n + 20, want, "7714 17 SRTCP");
	if (encrypt)
		assert_int_equal(srtpx_gcm_open(&rx, nonce, buf, 8, w, 4, buf + 8, n - 8, tag), 0);
	else
		assert_int_equal(srtpx_gcm_open(&rx, nonce, buf, n, w, 4, NULL, 0, tag), 0);
	assert_hex(buf, n, rtcp_plain, "7714 17 decrypted");
	/* the E flag is authenticated: flipping it is refused */
	w[0] ^= 0x80;
	assert_int_equal(srtpx_gcm_open(&rx, nonce, buf, n, w, 4, NULL, 0, tag), -EBADMSG);
	srtpx_cipher_free(&tx);
	srtpx_cipher_free(&rx);
}

static void test_gcm_srtcp(void **state)
{
	(void)state;
	/* 17.1 */
	gcm_rtcp_case(gcm_key128, true,
		      "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1"
		      "730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade 800005d4");
	/* 17.2 */
	gcm_rtcp_case(gcm_key256, true,
		      "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1"
		      "110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be 800005d4");
	/* 17.3: authentication only */
	gcm_rtcp_case(gcm_key128, false,
		      "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
		      "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"
		      "841dd9683dd78ec92ae58790125f62b3 000005d4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf),
		cmocka_unit_test(test_cm_keystream),
		cmocka_unit_test(test_f8),
		cmocka_unit_test(test_gcm_srtp),
		cmocka_unit_test(test_gcm_srtcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
