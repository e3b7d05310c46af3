/* NG SDES / DTLS / ICE=force-relay options: every accepted spelling, table-driven. */
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
	bool relay;
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
	/* 15 */ { HEAD ",\"ICE\":\"force-relay\"}", 0, .relay = true },
	/* 16 */ { HEAD ",\"flags\":[\"ICE=force-relay\"]}", 0, .relay = true },
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
		/* force-relay is not force: it is named as unsupported (no relay candidates) */
		int fr = ng_unsupported_find("ICE=force-relay", 15);
		assert_true(fr >= 0);
		assert_int_equal(!!(r.unsupported[fr / 64] & (1ull << (fr % 64))), v->relay);
		assert_int_equal(r.unknown_flags, v->unknown);
		arena_reset(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vecs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
