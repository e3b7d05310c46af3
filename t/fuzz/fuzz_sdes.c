/* libFuzzer target: a=crypto parser (sdes_parse).
 * Properties: never crashes or reads past the input; anything accepted formats into
 * a value that fits SDES_VALUE_MAX and parses back to the same crypto parameters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sdes.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdes_crypto c, c2;
	char buf[SDES_VALUE_MAX];
	const struct srtpw_suite_info *si;
	int ret, n;

	ret = sdes_parse((const char *)data, size, &c);
	CHECK(ret == 0 || ret == -EINVAL || ret == -ENOTSUP);
	if (ret)
		return 0;
	si = srtpw_suite_info(c.key.suite);
	CHECK(si != NULL);
	n = sdes_format(&c, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n < sizeof(buf) && (size_t)n == strlen(buf));
	CHECK(sdes_parse(buf, (size_t)n, &c2) == 0);
	CHECK(c2.tag == c.tag && c2.key.suite == c.key.suite);
	CHECK(!memcmp(c2.key.master, c.key.master, (size_t)si->key_len + si->salt_len));
	CHECK(c2.lifetime == c.lifetime && c2.key.mki == c.key.mki &&
	      c2.key.mki_len == c.key.mki_len && c2.key.window == c.key.window);
	CHECK(c2.key.unencrypted_srtp == c.key.unencrypted_srtp &&
	      c2.key.unencrypted_srtcp == c.key.unencrypted_srtcp &&
	      c2.key.unauthenticated_srtp == c.key.unauthenticated_srtp);
	return 0;
}
