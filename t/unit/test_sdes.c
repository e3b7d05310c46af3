/* sdes: a=crypto parse (valid and invalid tables), format round trips, generate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/sdes.h"

static const uint8_t key_rtpe[30] = {   /* inline:cJOJ7kxQ... (rtpengine's test suite) */
	0x70, 0x93, 0x89, 0xee, 0x4c, 0x50, 0x8e, 0x11, 0x41, 0xa7, 0x67, 0xcf, 0xe8, 0x06,
	0x23, 0xb3, 0x7b, 0xca, 0xc3, 0xb0, 0x9e, 0x05, 0xd5, 0x99, 0x0a, 0x3d, 0x22, 0xb1,
	0xb2, 0x6f,
};
static const uint8_t key_rfc[30] = {    /* inline:PS1uQCVe... (RFC 4568 examples) */
	0x3d, 0x2d, 0x6e, 0x40, 0x25, 0x5e, 0x78, 0x21, 0x42, 0x6a, 0x75, 0x66, 0x72, 0x39,
	0x29, 0x3f, 0x2c, 0x23, 0x35, 0x68, 0x5c, 0x60, 0x3d, 0x26, 0x5d, 0x7b, 0x71, 0x69,
	0x50, 0x51,
};

static void test_parse_basic(void **state)
{
	static const char v[] = "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv";
	struct sdes_crypto c;

	(void)state;
	assert_int_equal(sdes_parse(v, strlen(v), &c), 0);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.key.suite, SRTPW_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(c.key.master, key_rtpe, 30);
	assert_int_equal(c.key.mki_len, 0);
	assert_int_equal(c.lifetime, 0);
	assert_false(c.key.unencrypted_srtp);
	assert_int_equal(c.key.window, 0);
}

static void test_parse_lifetime_mki_params(void **state)
{
	static const char v[] = "42 AES_CM_128_HMAC_SHA1_80 "
		"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 "
		"UNENCRYPTED_SRTCP  WSH=256 KDR=0 -FUTURE_PARAM";
	static const char v2[] = "7 AES_CM_128_HMAC_SHA1_80 "
		"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1000000|258:2";
	struct sdes_crypto c;

	(void)state;
	assert_int_equal(sdes_parse(v, strlen(v), &c), 0);
	assert_int_equal(c.tag, 42);
	assert_int_equal(c.key.suite, SRTPW_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(c.key.master, key_rfc, 30);
	assert_true(c.lifetime == (1u << 20));
	assert_int_equal(c.key.mki_len, 4);
	assert_int_equal(c.key.mki, 1);
	assert_true(c.key.unencrypted_srtcp);
	assert_false(c.key.unencrypted_srtp);
	assert_int_equal(c.key.window, 256);

	assert_int_equal(sdes_parse(v2, strlen(v2), &c), 0);
	assert_true(c.lifetime == 1000000);
	assert_int_equal(c.key.mki, 258);
	assert_int_equal(c.key.mki_len, 2);
}

static void test_parse_gcm_padding(void **state)
{
	static const char *v[] = {
		"3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==",
		"3 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw",
		"4 AEAD_AES_256_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis=",
	};
	uint8_t want[44];
	struct sdes_crypto c;

	(void)state;
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)i;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(sdes_parse(v[i], strlen(v[i]), &c), 0);
		assert_int_equal(c.key.suite, i < 2 ? SRTPW_AEAD_AES_128_GCM : SRTPW_AEAD_AES_256_GCM);
		assert_memory_equal(c.key.master, want, i < 2 ? 28 : 44);
	}
}

/* Lines as rtpengine 10.5 writes them for the suites beyond RFC 4568's: parsed with the
 * suite's key length, and written back byte for byte. */
static void test_parse_rtpengine_suites(void **state)
{
	static const struct { const char *v; enum srtpw_suite s; size_t kl; } c[] = {
		{ "3 AES_256_CM_HMAC_SHA1_80 inline:UrHCC73k1u+oEukfCykLW+6ByQ+6Tus5Do4EEZ8ro3sittYf3+iJxjqwyZxHXA",
		  SRTPW_AES_256_CM_HMAC_SHA1_80, 46 },
		{ "4 AES_256_CM_HMAC_SHA1_32 inline:8HzwcqysvJsahlazWKeItJzcJlNdQc+YtjiPCiEqnKMUZKrWCaSSqh/tTrWiPg",
		  SRTPW_AES_256_CM_HMAC_SHA1_32, 46 },
		{ "5 AES_192_CM_HMAC_SHA1_80 inline:ZKCUPF5Uxd2lmVkybb4puc4h5q65ugcnL74109tusxkda+weQQs",
		  SRTPW_AES_192_CM_HMAC_SHA1_80, 38 },
		{ "6 AES_192_CM_HMAC_SHA1_32 inline:9FsnarqeuYsQafWm5ptcoa32bqMDGxozM+obTRq49IA/+BQ6U0A",
		  SRTPW_AES_192_CM_HMAC_SHA1_32, 38 },
		{ "9 F8_128_HMAC_SHA1_80 inline:MiSFekMwVMLKNNkAsa3lyCiYQTEBozevu4Gc79Q+",
		  SRTPW_F8_128_HMAC_SHA1_80, 30 },
		{ "10 F8_128_HMAC_SHA1_32 inline:6GK19yo6JVdRgY53SrJA+Q19R8fPcU1SBEZFOvfb",
		  SRTPW_F8_128_HMAC_SHA1_32, 30 },
		{ "11 NULL_HMAC_SHA1_80 inline:vnTfH4oDDlYj6ioQNSsQlLAFYTnv8utAb9PpyTbC",
		  SRTPW_NULL_HMAC_SHA1_80, 30 },
		{ "12 NULL_HMAC_SHA1_32 inline:ZJNTZcW68nHDSVvOonP3w7FR3Ql/GQBQ1wDt50TQ|2^31|1:1",
		  SRTPW_NULL_HMAC_SHA1_32, 30 },
		/* an MKI on a _32 suite (refused while libsrtp2 did SRTP) */
		{ "8 AES_CM_128_HMAC_SHA1_32 inline:FmhnM/Dv0HePfgNqaMR0O5rQjLUuy3+jW/bBJ3ZP|7:2",
		  SRTPW_AES_CM_128_HMAC_SHA1_32, 30 },
	};
	struct sdes_crypto p;
	char buf[SDES_VALUE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		if (sdes_parse(c[i].v, strlen(c[i].v), &p))
			fail_msg("case %zu: '%s' refused", i + 1, c[i].v);
		assert_int_equal(p.key.suite, c[i].s);
		assert_int_equal(srtpw_suite_info(p.key.suite)->key_len +
				 srtpw_suite_info(p.key.suite)->salt_len, c[i].kl);
		assert_true(sdes_format(&p, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, c[i].v);
	}
}

static const struct bad_case {
	const char *v;
	int err;
} bad[] = {
	/* 1 */ { "", -EINVAL },
	/* 2 */ { "1", -EINVAL },
	/* 3 */ { "1 AES_CM_128_HMAC_SHA1_80", -EINVAL },
	/* 4 */ { "x AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -EINVAL },
	/* 5 */ { "1234567890 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -EINVAL },
	/* 6: a 30-byte key for a 46-byte suite */
	{ "1 AES_256_CM_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -EINVAL },
	/* 7 */ { "1 aes_cm_128_hmac_sha1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -ENOTSUP },
	/* 8: key one byte short */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbI=", -EINVAL },
	/* 9: 28-byte key for a 30-byte suite */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==", -EINVAL },
	/* 10: 30-byte key for GCM-128 (28) */
	{ "1 AEAD_AES_128_GCM inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -EINVAL },
	/* 11: bad base64 character */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isb*v", -EINVAL },
	/* 12 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:", -EINVAL },
	/* 13 */ { "1 AES_CM_128_HMAC_SHA1_80 key:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -ENOTSUP },
	/* 14: two keys */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|1:1;"
	  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2:1", -ENOTSUP },
	/* 15 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|0", -EINVAL },
	/* 16 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|2^64", -EINVAL },
	/* 17 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|1:0", -EINVAL },
	/* 18 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|1:129", -EINVAL },
	/* 19 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|1:32", -ENOTSUP },
	/* 20: MKI value does not fit one byte */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|256:1", -EINVAL },
	/* 21: lifetime after MKI */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|1:1|2^20", -EINVAL },
	/* 22 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv|2^20|2^20", -EINVAL },
	/* 23 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv KDR=1", -ENOTSUP },
	/* 24 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv FEC_ORDER=FEC_SRTP", -ENOTSUP },
	/* 25 */ { "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv WSH=10", -EINVAL },
	/* 26 */ { "1 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw== UNENCRYPTED_SRTP", -ENOTSUP },
	/* 27: too long base64 */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJvcJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -EINVAL },
	/* 28: 5 base64 chars decode to a partial byte group */
	{ "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7", -EINVAL },
	/* 29 */ { "1 AES_512_CM_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv", -ENOTSUP },
	/* 30 */ { "1 NULL_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJvAAA", -EINVAL },
};

static void test_parse_bad(void **state)
{
	struct sdes_crypto c;

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = sdes_parse(bad[i].v, strlen(bad[i].v), &c);

		if (ret != bad[i].err)
			fail_msg("case %u: '%s' returned %d, want %d", i + 1, bad[i].v, ret, bad[i].err);
	}
}

static void test_parse_bounded(void **state)
{
	static const char v[] = "1 AES_CM_128_HMAC_SHA1_80 inline:cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv";
	struct sdes_crypto c;

	(void)state;
	/* every prefix shorter than the key fails; the parser never looks past len */
	for (size_t n = 0; n < strlen(v); n++)
		assert_int_not_equal(sdes_parse(v, n, &c), 0);
}

static void test_format_roundtrip(void **state)
{
	static const char v[] = "42 AES_CM_128_HMAC_SHA1_80 "
		"inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 UNENCRYPTED_SRTCP WSH=256";
	struct sdes_crypto c, c2;
	char buf[SDES_VALUE_MAX];

	(void)state;
	assert_int_equal(sdes_parse(v, strlen(v), &c), 0);
	assert_int_equal(sdes_format(&c, buf, sizeof(buf)), (int)strlen(v));
	assert_string_equal(buf, v);
	assert_int_equal(sdes_parse(buf, strlen(buf), &c2), 0);
	assert_memory_equal(&c.key.master, &c2.key.master, 30);

	c.lifetime = 1;             /* 2^0, written as a plain number */
	assert_true(sdes_format(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "|1|1:4"));
	assert_int_equal(sdes_parse(buf, strlen(buf), &c2), 0);
	assert_true(c2.lifetime == 1);
	c.lifetime = 1000;
	assert_true(sdes_format(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "|1000|1:4"));
	assert_int_equal(sdes_format(&c, buf, 20), -ENOSPC);
	assert_string_equal(buf, "");
}

static void test_generate(void **state)
{
	struct sdes_crypto a, b, p;
	char buf[SDES_VALUE_MAX];

	(void)state;
	for (unsigned i = 0; i < SDES_N_SUITES; i++) {
		enum srtpw_suite s = sdes_default_order[i];
		size_t kl = srtpw_suite_info(s)->key_len + srtpw_suite_info(s)->salt_len;
		int n;

		assert_int_equal(sdes_generate(&a, i + 1, s), 0);
		assert_int_equal(sdes_generate(&b, i + 1, s), 0);
		assert_memory_not_equal(a.key.master, b.key.master, kl);
		n = sdes_format(&a, buf, sizeof(buf));
		assert_true(n > 0 && (size_t)n == strlen(buf));
		assert_int_equal(sdes_parse(buf, (size_t)n, &p), 0);
		assert_int_equal(p.tag, i + 1);
		assert_int_equal(p.key.suite, s);
		assert_memory_equal(p.key.master, a.key.master, kl);
	}
	/* padding only on request (SDES-pad): AEAD_AES_128_GCM's 28 bytes need "==" */
	assert_int_equal(sdes_generate(&a, 1, SRTPW_AEAD_AES_128_GCM), 0);
	assert_true(sdes_format(&a, buf, sizeof(buf)) > 0);
	assert_null(strchr(buf, '='));
	a.pad = true;
	assert_true(sdes_format(&a, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "== ") ? strstr(buf, "== ") : strstr(buf, "=="));
	assert_int_equal(buf[strlen(buf) - 1], '=');
	assert_int_equal(sdes_parse(buf, strlen(buf), &p), 0);
	/* the longest key, AES_256_CM's 46 bytes: 64 characters with "==" (the encoder
	 * writes 65 bytes with its NUL; make SANITIZE=1 saw a 64-byte buffer overrun) */
	assert_int_equal(sdes_generate(&a, 1, SRTPW_AES_256_CM_HMAC_SHA1_80), 0);
	a.pad = true;
	assert_true(sdes_format(&a, buf, sizeof(buf)) > 0);
	assert_int_equal(strcspn(strstr(buf, "inline:") + 7, " |"), 64);
	assert_non_null(strstr(buf, "=="));
	assert_int_equal(sdes_parse(buf, strlen(buf), &p), 0);
	assert_memory_equal(p.key.master, a.key.master, 46);
	assert_int_equal(sdes_generate(&a, 1, SRTPW_SUITE_NONE), -EINVAL);
	assert_int_equal(sdes_generate(&a, SDES_TAG_MAX + 1, SRTPW_AEAD_AES_128_GCM), -EINVAL);
}

static void test_default_order_and_choose(void **state)
{
	struct sdes_crypto offers[3];

	(void)state;
	/* rtpengine's order */
	static const char *const names[] = {
		"AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_256_CM_HMAC_SHA1_80",
		"AES_256_CM_HMAC_SHA1_32", "AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32",
		"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "F8_128_HMAC_SHA1_80",
		"F8_128_HMAC_SHA1_32", "NULL_HMAC_SHA1_80", "NULL_HMAC_SHA1_32",
	};
	assert_int_equal(SDES_N_SUITES, 12);
	for (unsigned i = 0; i < SDES_N_SUITES; i++) {
		assert_string_equal(srtpw_suite_info(sdes_default_order[i])->name, names[i]);
		assert_int_equal(srtpw_suite_by_name(names[i], strlen(names[i])),
				 sdes_default_order[i]);
		assert_true(SDES_ALL & SDES_BIT(sdes_default_order[i]));
	}
	assert_false(SDES_ALL & SDES_BIT(SRTPW_SUITE_NONE));
	assert_string_equal(srtpw_suite_info(SRTPW_AEAD_AES_256_GCM)->name, "AEAD_AES_256_GCM");
	assert_int_equal(srtpw_suite_by_name("AEAD_AES_128_GCM", 16), SRTPW_AEAD_AES_128_GCM);
	assert_int_equal(srtpw_suite_by_name("AEAD_AES_128_GC", 15), SRTPW_SUITE_NONE);

	sdes_generate(&offers[0], 1, SRTPW_AEAD_AES_256_GCM);
	sdes_generate(&offers[1], 2, SRTPW_AES_CM_128_HMAC_SHA1_32);
	sdes_generate(&offers[2], 3, SRTPW_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(sdes_choose(offers, 3, SDES_ALL), 0);
	assert_int_equal(sdes_choose(offers, 3, SDES_ALL & ~SDES_BIT(SRTPW_AEAD_AES_256_GCM)), 1);
	assert_int_equal(sdes_choose(offers, 3, SDES_BIT(SRTPW_AES_CM_128_HMAC_SHA1_80)), 2);
	assert_int_equal(sdes_choose(offers, 3, SDES_BIT(SRTPW_AEAD_AES_128_GCM)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_lifetime_mki_params),
		cmocka_unit_test(test_parse_gcm_padding),
		cmocka_unit_test(test_parse_rtpengine_suites),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_bounded),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_default_order_and_choose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
