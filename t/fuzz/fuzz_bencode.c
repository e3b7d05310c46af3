/* libFuzzer target: bencode decoder.
 * Properties checked on every input:
 *   - decode never crashes, never reads past the input, never leaks (arena freed);
 *   - anything accepted is canonical: encode(decode(x)) == x byte for byte, and it
 *     decodes again to an equal tree;
 *   - decoding with trailing bytes allowed agrees with the strict decode;
 *   - its JSON rendering is accepted by bv_from_json, and when nothing is lost in the
 *     mapping (strings valid UTF-8, keys without NUL, no duplicate keys) the JSON comes
 *     back as the same tree. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/bencode.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* Independent of the library's own check on purpose. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* True if the JSON mapping is lossless for this tree. */
static bool json_clean(const struct bval *v)
{
	const struct bval *c, *d;
	size_t n = 0;

	switch (v->type) {
	case BV_STR:
		return utf8_ok((const unsigned char *)v->str.s, v->str.len);
	case BV_INT:
		return true;
	case BV_LIST:
	case BV_DICT:
		for (c = v->c.first; c; c = c->next) {
			if (v->type == BV_DICT) {
				if (!utf8_ok((const unsigned char *)c->key, c->key_len) ||
				    memchr(c->key, '\0', c->key_len))
					return false;
				/* quadratic, so only for dicts of sane size */
				if (++n > 64)
					return false;
				for (d = v->c.first; d != c; d = d->next)
					if (d->key_len == c->key_len &&
					    !memcmp(d->key, c->key, c->key_len))
						return false;
			}
			if (!json_clean(c))
				return false;
		}
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct arena a;
	struct strbuf enc, json;
	struct bval *v, *v2;
	size_t used;
	int ret, ret2;

	arena_init(&a, 64 << 20);
	sb_init(&enc);
	sb_init(&json);

	ret = bv_decode(&a, buf, size, &v, NULL);
	ret2 = bv_decode(&a, buf, size, &v2, &used);
	CHECK(ret == 0 || ret == -EINVAL || ret == -EMSGSIZE);
	if (ret2 == 0) {
		CHECK(used <= size);
		CHECK((ret == 0) == (used == size));
	}
	if (ret)
		goto out;
	CHECK(ret2 == 0);

	CHECK(bv_encode(v, &enc) == 0);
	CHECK(enc.len == size && !memcmp(enc.buf, buf, size));
	CHECK(bv_decode(&a, enc.buf, enc.len, &v2, NULL) == 0);
	CHECK(bv_equal(v, v2));

	CHECK(bv_to_json(v, &json) == 0);
	CHECK(strlen(json.buf) == json.len);        /* NULs are always escaped */
	CHECK(bv_from_json(&a, json.buf, json.len, &v2) == 0);
	if (json_clean(v))
		CHECK(bv_equal(v, v2));
out:
	sb_free(&enc);
	sb_free(&json);
	arena_reset(&a);
	return 0;
}
