/* libFuzzer target: NG-over-JSON parsing (bv_from_json) and emitting (bv_to_json).
 * Whatever bv_from_json accepts must render to JSON that it accepts again, giving the
 * same tree and the same text (the mapping is a fixpoint after one pass), and must
 * survive a bencode round trip unchanged. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/bencode.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct strbuf j1, j2, enc;
	struct bval *v, *v2, *v3;
	int ret;

	arena_init(&a, 64 << 20);
	sb_init(&j1);
	sb_init(&j2);
	sb_init(&enc);

	ret = bv_from_json(&a, (const char *)data, size, &v);
	CHECK(ret == 0 || ret == -EINVAL);
	if (ret)
		goto out;

	CHECK(bv_to_json(v, &j1) == 0);
	CHECK(bv_from_json(&a, j1.buf, j1.len, &v2) == 0);
	CHECK(bv_equal(v, v2));
	CHECK(bv_to_json(v2, &j2) == 0);
	CHECK(j1.len == j2.len && !memcmp(j1.buf, j2.buf, j1.len));

	CHECK(bv_encode(v, &enc) == 0);
	CHECK(bv_decode(&a, enc.buf, enc.len, &v3, NULL) == 0);
	CHECK(bv_equal(v, v3));

	sb_reset(&j2);
	CHECK(bv_to_json_pretty(v, &j2) == 0);
	CHECK(bv_from_json(&a, j2.buf, j2.len, &v3) == 0);
	CHECK(bv_equal(v, v3));
out:
	sb_free(&j1);
	sb_free(&j2);
	sb_free(&enc);
	arena_reset(&a);
	return 0;
}
