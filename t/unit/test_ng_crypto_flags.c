/* NG SDES / DTLS / ICE options: every accepted spelling, table-driven. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/ng_request.h"
#include "sluice/arena.h"
#include "sluice/dtls.h"
#include "sluice/sdes.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define B(s) SDES_BIT(SRTPW_##s)
#define HEAD "{\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":\"f\",\"sdp\":\"v=0\""

static const struct vec {
	const char *json;
	int ret;                        /* of ng_request_decode */
	bool off;
	unsigned no, only;
	enum ng_dtls dtls;
	enum ng_ice ice;
	unsigned unknown;
} vecs[] = {
	/*  0 */ { HEAD "}", 0 },
	/*  1 */ { HEAD ",\"flags\":[\"SDES-off\"]}", 0, .off = true },
	/*  2 */ { HEAD ",\"flags\":[\"SDES-no-AES_CM_128_HMAC_SHA1_32\","
		   "\"SDES-no-AEAD_AES_256_GCM\"]}", 0,
		   .no = B(AES_CM_128_HMAC_SHA1_32) | B(AEAD_AES_256_GCM) },
	/*  3 */ { HEAD ",\"flags\":[\"SDES-only-AEAD_AES_128_GCM\"]}", 0,
		   .only = B(AEAD_AES_128_GCM) },
	/*  4 */ { HEAD ",\"SDES\":[\"no-AES_CM_128_HMAC_SHA1_80\",\"only-AEAD_AES_128_GCM\","
		   "\"pad\"]}", 0, .no = B(AES_CM_128_HMAC_SHA1_80), .only = B(AEAD_AES_128_GCM) },
	/*  5 */ { HEAD ",\"SDES\":\"off\"}", 0, .off = true },
	/*  6 */ { HEAD ",\"flags\":[\"SDES-no-BOGUS\",\"SDES-lifetime\"]}", 0 },
	/*  7 */ { HEAD ",\"DTLS\":\"passive\"}", 0, .dtls = NG_DTLS_PASSIVE },
	/*  8 */ { HEAD ",\"DTLS\":\"off\"}", 0, .dtls = NG_DTLS_OFF },
	/*  9 */ { HEAD ",\"flags\":[\"DTLS=active\"]}", 0, .dtls = NG_DTLS_ACTIVE },
	/* 10 */ { HEAD ",\"flags\":[\"DTLS-no\"]}", 0, .dtls = NG_DTLS_OFF },
	/* 11 */ { HEAD ",\"flags\":[\"DTLS=sideways\"]}", 0, .unknown = 1 },
	/* 12 */ { HEAD ",\"DTLS\":\"sideways\"}", -EINVAL },
	/* 13 */ { HEAD ",\"DTLS\":[\"passive\"]}", -EINVAL },
	/* 14 */ { HEAD ",\"SDES\":[1]}", -EINVAL },
	/* 15 */ { HEAD ",\"ICE\":\"force-relay\"}", 0, .ice = NG_ICE_FORCE_RELAY },
	/* 16 */ { HEAD ",\"flags\":[\"ICE=force-relay\"]}", 0, .ice = NG_ICE_FORCE_RELAY },
	/* 17 */ { HEAD ",\"flags\":[\"ICE=force\",\"sdes-OFF\",\"dtls=PASSIVE\"]}", 0,
		   .off = true, .dtls = NG_DTLS_PASSIVE, .ice = NG_ICE_FORCE },
	/* 18 */ { HEAD ",\"ICE\":\"default\"}", 0 },
};

static void test_vecs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vecs); i++) {
		const struct vec *v = &vecs[i];
		struct arena a;
		struct bval *d;
		struct ng_request r;
		const char *err = NULL;
		int ret;

		print_message("  vec %zu\n", i);
		arena_init(&a, 0);
		assert_int_equal(bv_from_json(&a, v->json, strlen(v->json), &d), 0);
		ret = ng_request_decode(d, &r, &err);
		assert_int_equal(ret, v->ret);
		if (ret) {
			assert_non_null(err);
			arena_reset(&a);
			continue;
		}
		assert_int_equal(r.crypto.sdes_off, v->off);
		assert_int_equal(r.crypto.sdes_no, v->no);
		assert_int_equal(r.crypto.sdes_only, v->only);
		assert_int_equal(r.crypto.dtls, v->dtls);
		assert_int_equal(r.ice, v->ice);
		/* force-relay is its own value (not force), and no longer unsupported */
		assert_true(ng_unsupported_find("ICE=force-relay", 15) < 0);
		assert_int_equal(r.unknown_flags, v->unknown);
		arena_reset(&a);
	}
}

static void decode(struct arena *a, const char *json, struct ng_request *r, int want)
{
	struct bval *d;
	const char *err = NULL;

	assert_int_equal(bv_from_json(a, json, strlen(json), &d), 0);
	assert_int_equal(ng_request_decode(d, r, &err), want);
}

/* SDES key parameters, DTLS-reverse, DTLS-fingerprint, OSRTP in both forms */
static void test_part4(void **state)
{
	struct arena a;
	struct ng_request r;

	(void)state;
	arena_init(&a, 0);
	decode(&a, HEAD ",\"SDES\":[\"pad\",\"lifetime\",\"unencrypted_srtp\","
	       "\"UNENCRYPTED_SRTCP\",\"authenticated_srtp\"]}", &r, 0);
	assert_true(r.crypto.sdes_pad && r.crypto.sdes_lifetime);
	assert_int_equal(r.crypto.sdes_set, NG_SDES_UNENC_SRTP | NG_SDES_UNENC_SRTCP);
	assert_int_equal(r.crypto.sdes_clear, NG_SDES_UNAUTH_SRTP);
	decode(&a, HEAD ",\"flags\":[\"SDES-unauthenticated_srtp\",\"SDES-encrypted_srtcp\","
	       "\"pad-crypto\"]}", &r, 0);
	assert_true(r.crypto.sdes_pad && !r.crypto.sdes_lifetime);
	assert_int_equal(r.crypto.sdes_set, NG_SDES_UNAUTH_SRTP);
	assert_int_equal(r.crypto.sdes_clear, NG_SDES_UNENC_SRTCP);
	decode(&a, HEAD ",\"DTLS-reverse\":\"passive\",\"DTLS-fingerprint\":\"sha-1\"}", &r, 0);
	assert_int_equal(r.crypto.dtls_reverse, NG_DTLS_PASSIVE);
	assert_int_equal(r.crypto.dtls, NG_DTLS_DEFAULT);
	assert_int_equal(r.crypto.dtls_hash, DTLS_HASH_SHA1);
	decode(&a, HEAD ",\"flags\":[\"DTLS-reverse=active\",\"DTLS-fingerprint=SHA-512\"]}",
	       &r, 0);
	assert_int_equal(r.crypto.dtls_reverse, NG_DTLS_ACTIVE);
	assert_int_equal(r.crypto.dtls_hash, DTLS_HASH_SHA512);
	decode(&a, HEAD ",\"DTLS-fingerprint\":\"md5\"}", &r, -EINVAL);
	decode(&a, HEAD ",\"DTLS-reverse\":\"off\"}", &r, -EINVAL);
	decode(&a, HEAD ",\"OSRTP\":[\"offer\",\"accept\"]}", &r, 0);
	assert_int_equal(r.crypto.osrtp, NG_OSRTP_OFFER | NG_OSRTP_ACCEPT);
	decode(&a, HEAD ",\"flags\":[\"OSRTP-accept-RFC\"]}", &r, 0);
	assert_int_equal(r.crypto.osrtp, NG_OSRTP_ACCEPT);
	decode(&a, HEAD ",\"OSRTP\":\"offer-RFC\"}", &r, 0);
	assert_int_equal(r.crypto.osrtp, NG_OSRTP_OFFER);
	decode(&a, HEAD ",\"OSRTP\":\"accept-legacy\"}", &r, 0);
	assert_int_equal(r.crypto.osrtp, 0);
	int i = ng_unsupported_find("OSRTP=accept-legacy", 19);
	assert_true(i >= 0 && (r.unsupported[i / 64] >> (i % 64)) & 1);
	/* keys of the table, in offer/answer only */
	decode(&a, HEAD ",\"media echo\":\"both\",\"DTMF-delay\":100}", &r, 0);
	i = ng_unsupported_find("media-echo", 10);
	assert_true(i >= 0 && (r.unsupported[i / 64] >> (i % 64)) & 1);
	decode(&a, "{\"command\":\"query\",\"call-id\":\"c\",\"media-echo\":\"both\"}", &r, 0);
	assert_true(!r.unsupported[0] && !r.unsupported[1]);
	arena_reset(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vecs),
		cmocka_unit_test(test_part4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
