/* libFuzzer target: an NG datagram through the daemon's request path, without sockets
 * and without executing commands: cookie split (ngwire_split), body decode of either
 * encoding (ngwire_decode), request decode (ng_request_decode), and for offer/answer
 * the SDP parse (sdp_parse); then the error reply the daemon would send.
 * Properties checked on every input:
 *   - nothing crashes, reads out of bounds or leaks (arena freed);
 *   - every refusal carries a non-empty, NUL-terminated reason;
 *   - a decoded offer/answer has call-id, from-tag and sdp (answer: to-tag), and the
 *     strings it returns lie inside the datagram (bencode) or the arena (JSON);
 *   - an accepted SDP has no more media than SDP_MAX_MEDIA and its lines are in bounds. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/bencode.h"
#include "sluice/ngwire.h"
#include "sluice/sdp.h"
#include "../../daemon/ng_control.h"
#include "../../daemon/ng_request.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static struct sdp sdp;          /* large: keep it off the stack */

static void check_reason(const char *err)
{
	CHECK(err != NULL);
	CHECK(strnlen(err, 4096) > 0 && strnlen(err, 4096) < 4096);
}

static void check_sdp(const char *body, size_t len)
{
	const char *why = NULL;
	int ret = sdp_parse(&sdp, body, len, &why);

	CHECK(ret == 0 || ret == -EINVAL || ret == -E2BIG);
	if (ret) {
		if (ret == -EINVAL)
			check_reason(why);
		return;
	}
	CHECK(sdp.n_media <= SDP_MAX_MEDIA);
	CHECK(sdp.n_lines <= SDP_MAX_LINES);
	for (unsigned i = 0; i < sdp.n_lines; i++) {
		const struct sdp_line *l = &sdp.lines[i];
		CHECK(l->value.s >= body && l->value.s + l->value.len <= body + len);
	}
	for (unsigned i = 0; i < sdp.n_media; i++) {
		const struct sdp_media *m = &sdp.media[i];
		CHECK(m->first_line < sdp.n_lines);
		CHECK(m->first_line + m->n_lines <= sdp.n_lines);
		CHECK(sdp_media_conn(&sdp, i) != NULL);
	}
	CHECK(sdp_media_conn(&sdp, sdp.n_media) == NULL);
}

static void check_request(const struct ng_request *r)
{
	switch (r->cmd) {
	case NG_OFFER:
	case NG_ANSWER:
		CHECK(r->sdp.s != NULL);
		CHECK(r->call_id.len > 0 && r->from_tag.len > 0);
		if (r->cmd == NG_ANSWER)
			CHECK(r->to_tag.len > 0);
		break;
	case NG_DELETE:
	case NG_QUERY:
		CHECK(r->call_id.len > 0);
		break;
	case NG_UNKNOWN:
		abort();
	default:
		break;
	}
	CHECK(r->n_direction <= 2);
	CHECK(r->delete_delay >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *err = NULL;
	struct ngwire_msg m;
	struct ng_request req;
	struct arena a;
	struct strbuf out;
	struct bval *tree = NULL, *reply;
	bool json = false;
	int ret;

	if (size > NGWIRE_MAX_DGRAM || ngwire_split(buf, size, &m))
		return 0;
	CHECK(m.cookie == buf && m.cookie_len >= 1 && m.cookie_len <= NGWIRE_COOKIE_MAX);
	CHECK(m.body + m.body_len == buf + size);

	arena_init(&a, NG_ARENA_LIMIT);
	sb_init(&out);
	ret = ngwire_decode(&a, m.body, m.body_len, &tree, &json);
	CHECK(ret == 0 || ret == -EINVAL || ret == -EMSGSIZE || ret == -ENOMEM);
	CHECK(json == ngwire_body_is_json(m.body, m.body_len) || ret);
	if (ret) {
		err = "Failed to decode message";
		goto reply;
	}
	ret = ng_request_decode(tree, &req, &err);
	CHECK(ret == 0 || ret == -EINVAL);
	if (ret) {
		check_reason(err);
		goto reply;
	}
	check_request(&req);
	/* bencode strings are views into the datagram */
	if (!json && req.call_id.s)
		CHECK(req.call_id.s >= m.body && req.call_id.s + req.call_id.len <= buf + size);
	if (req.cmd == NG_OFFER || req.cmd == NG_ANSWER)
		check_sdp(req.sdp.s, req.sdp.len);
	err = NULL;
reply:
	/* what the daemon sends for a refused request, in the request's encoding */
	if (err) {
		reply = bv_new_dict(&a);
		bv_dict_add_str(&a, reply, "result", "error");
		bv_dict_add_str(&a, reply, "error-reason", err);
		if (reply)
			CHECK(ngwire_build(&out, m.cookie, m.cookie_len, reply, json) == 0);
	}
	sb_free(&out);
	arena_reset(&a);
	return 0;
}
