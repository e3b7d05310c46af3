/* NG message processing. */
#include "ng_control.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "metrics.h"
#include "ng_cache.h"
#include "ng_commands.h"
#include "ng_request.h"
#include "ng_stats.h"
#include "store.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/ngwire.h"
#include "sluice/log.h"

_Static_assert(sizeof(((struct daemon *)0)->ng_unsup_noticed) ==
	       NG_UNSUP_WORDS * sizeof(uint64_t), "daemon.ng_unsup_noticed size");

static void error_reply(struct arena *a, struct bval **reply, const char *why)
{
	*reply = bv_new_dict(a);
	bv_dict_add_str(a, *reply, "result", "error");
	bv_dict_add_str(a, *reply, "error-reason", why);
}

int ng_control_process(struct daemon *d, struct ng_cache *cache, const char *msg,
		       size_t len, const union sockaddr_u *from, struct strbuf *out)
{
	const char *err = NULL, *cached;
	struct ngwire_msg m;
	struct arena a;
	struct bval *tree = NULL, *reply = NULL;
	struct ng_request req;
	size_t rlen, cmd_len;
	char cmd[32];
	bool json, cache_it = false, failed;
	int64_t now = mono_us(), t0 = mono_fine_us(), dur;
	int e;

	if (ngwire_split(msg, len, &m)) {
		/* "COOKIE " with nothing after it still deserves an answer. */
		const char *sp = memchr(msg, ' ', len);
		if (!sp || sp == msg || (size_t)(sp - msg) > NGWIRE_COOKIE_MAX)
			return -EINVAL;
		m = (struct ngwire_msg){ .cookie = msg, .cookie_len = (size_t)(sp - msg),
					 .body = sp + 1, .body_len = len - (size_t)(sp - msg) - 1 };
	}
	json = ngwire_body_is_json(m.body, m.body_len);
	cached = ng_cache_get(cache, m.cookie, m.cookie_len, from, &rlen, now);
	if (cached) {
		sb_reset(out);
		sb_append(out, cached, rlen);
		return 0;
	}
	d->totals.ng_requests++;
	req.command = (struct ng_str){ 0 };
	arena_init(&a, NG_ARENA_LIMIT);
	if (len > NG_MAX_MESSAGE) {
		err = "Message too large";
	} else if ((e = ngwire_decode(&a, m.body, m.body_len, &tree, NULL))) {
		err = e == -ENOMEM ? "Out of memory" :
		      json ? "Failed to decode JSON message" : "Failed to decode bencode message";
	} else if (!ng_request_decode(tree, &req, &err)) {
		/* Only what changed state must never run twice. A message that fails to decode
		 * gets the same error again, and read-only commands a fresher answer. */
		cache_it = ng_cmd_has_effects(req.cmd);
		reply = bv_new_dict(&a);
		if (req.unknown_flags)
			clog(LOG_DEBUG, NULL, NULL, "%s: %u unknown flags ignored",
			     ng_cmd_name(req.cmd), req.unknown_flags);
		ng_unsupported_notice(d->ng_unsup_noticed, &req);
		store_foreign_ng(d, &req);      /* a standby's foreign call: ours now */
		if (!reply || ng_command(d, &req, &a, reply, &err))
			reply = NULL;
		else if (cache_it)
			store_ng_done(d, &req, tree);   /* Redis state (store.h) */
	}
	/* the name lives in the request's arena, which the error path resets */
	cmd_len = req.command.len < sizeof(cmd) ? req.command.len : 0;
	memcpy(cmd, req.command.s ? req.command.s : "", cmd_len);
	failed = !reply;
	if (failed) {
		d->totals.ng_errors++;
		if (!err)
			err = "Out of memory";
		ilog(LOG_WARNING, "NG %.*s: error: %s", (int)(m.cookie_len > 64 ? 64 : m.cookie_len),
		     m.cookie, err);
		arena_reset(&a);
		arena_init(&a, 0);
		error_reply(&a, &reply, err);
	}
	dur = mono_fine_us() - t0;
	if (d->ngstats)
		ng_stats_record(d->ngstats, cmd, cmd_len, from, dur, failed);
	metrics_ng_request(d->metrics, tree ? cmd : NULL, cmd_len, failed, dur);
	sb_reset(out);
	ngwire_build(out, m.cookie, m.cookie_len, reply, json);
	if (cache_it && !out->oom)
		ng_cache_put(cache, m.cookie, m.cookie_len, from, out->buf, out->len, now);
	arena_reset(&a);
	return out->oom ? -ENOMEM : 0;
}

int ng_control_error(struct daemon *d, const char *msg, size_t len, const char *why,
		     struct strbuf *out)
{
	const char *sp = memchr(msg, ' ', len);
	struct arena a;
	struct bval *reply;
	size_t clen;

	if (!sp || sp == msg || (size_t)(sp - msg) > NGWIRE_COOKIE_MAX)
		return -EINVAL;
	clen = (size_t)(sp - msg);
	d->totals.ng_errors++;
	arena_init(&a, 0);
	error_reply(&a, &reply, why);
	sb_reset(out);
	ngwire_build(out, msg, clen, reply,
		     ngwire_body_is_json(sp + 1, len - clen - 1));
	arena_reset(&a);
	return out->oom ? -ENOMEM : 0;
}
