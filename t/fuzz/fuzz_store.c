/* libFuzzer target: call records read back from Redis (store_call_from_json). Whatever
 * parses must render to JSON that parses again to the same text (a fixpoint after one
 * pass); whatever is refused leaves nothing allocated behind (ASan/LSan). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/store_record.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_call c, c2;
	const char *err = NULL;
	char *j1, *j2;
	int e;

	e = store_call_from_json((const char *)data, size, &c, &err);
	CHECK(e == 0 || e == -EINVAL || e == -ENOMEM);
	if (e) {
		CHECK(err && !c.callid && !c.parties && !c.n_ng);
		return 0;
	}
	j1 = store_call_to_json(&c, "fuzz");
	CHECK(j1);
	CHECK(store_call_from_json(j1, strlen(j1), &c2, &err) == 0);
	j2 = store_call_to_json(&c2, "fuzz");
	CHECK(j2 && !strcmp(j1, j2));
	free(j1);
	free(j2);
	store_call_free(&c);
	store_call_free(&c2);
	return 0;
}
