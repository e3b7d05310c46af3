/* ping, offer, answer, delete, query, list; statistics is in stats_reply.c, play DTMF in
 * play_dtmf.c, play/stop media in play_media.c, trickle ICE fragments (offer/answer with "fragment") in ice_trickle.c. */
#include "ng_commands.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "call_ops.h"
#include "call_stats.h"
#include "ice_trickle.h"
#include "load_limit.h"
#include "offer_answer.h"
#include "media_block.h"
#include "play_dtmf.h"
#include "play_media.h"
#include "publish.h"
#include "subscribe.h"
#include "rec.h"
#include "stats.h"
#include "sluice/log.h"

static int cmd_sdp(struct daemon *d, const struct ng_request *req, struct arena *a,
		   struct bval *reply, const char **err)
{
	struct strbuf sb;
	int e;

	if (req->fragment)
		return ice_trickle(d, req, a, reply, err);
	sb_init(&sb);
	e = req->cmd == NG_OFFER ? oa_offer(d, req, &sb, err) : oa_answer(d, req, &sb, err);
	if (e == OA_LOAD_LIMIT) {
		/* rtpengine: only a proxy that can tell it from an error gets "load limit";
		 * the others get the error text they recognise (load_limit.h) */
		if (req->supports_load_limit) {
			bv_dict_add_str(a, reply, "result", "load limit");
			bv_dict_add_str(a, reply, "message", *err);
			e = 0;
		} else {
			*err = LOAD_LIMIT_ERROR;
		}
	} else if (!e) {
		struct call *c = call_find(d, req->call_id.s, req->call_id.len);

		if (c && d->trickle_q)
			ice_trickle_replay(d, c);
		if (c)
			rec_offer_answer(d, c, req, sb.buf ? sb.buf : "", sb.len, a, reply);
		bv_dict_add(a, reply, "sdp", bv_new_str(a, sb.buf ? sb.buf : "", sb.len));
		bv_dict_add_str(a, reply, "result", "ok");
	}
	sb_free(&sb);
	return e;
}

static struct call *need_call(struct daemon *d, const struct ng_request *req, const char **err)
{
	struct call *c = call_find(d, req->call_id.s, req->call_id.len);

	if (!c)
		*err = "Unknown call-id";
	return c;
}

/* A to-tag or via-branch naming one fork of several: drop that branch only. */
static bool delete_branch(struct call *c, const struct ng_request *req)
{
	for (struct party *p = c->parties; p; p = p->next) {
		if (p->n_tags < 2)
			continue;
		for (unsigned i = 0; i < p->n_tags; i++) {
			const struct party_tag *t = &p->tags[i];
			bool by_tag = req->to_tag.len && strlen(t->tag) == req->to_tag.len &&
				      !memcmp(t->tag, req->to_tag.s, req->to_tag.len);
			bool by_via = !req->to_tag.len && req->via_branch.len &&
				      strlen(t->via_branch) == req->via_branch.len &&
				      !memcmp(t->via_branch, req->via_branch.s, req->via_branch.len);
			if (by_tag || by_via) {
				clog(LOG_INFO, c->callid, t->tag, "branch deleted");
				pthread_mutex_lock(&c->lock);
				party_remove_tag(p, i);
				pthread_mutex_unlock(&c->lock);
				return true;
			}
		}
	}
	return false;
}

static int cmd_delete(struct daemon *d, const struct ng_request *req, struct arena *a,
		      struct bval *reply, const char **err)
{
	struct call *c = call_find(d, req->call_id.s, req->call_id.len);
	long long delay = req->delete_delay >= 0 ? req->delete_delay : d->cfg->delete_delay;

	(void)err;
	/* Nothing to delete is not a failure: a repeated BYE must not alarm the proxy. */
	if (!c || (req->from_tag.len &&
		   !call_party_by_tag(c, req->from_tag.s, req->from_tag.len, NULL) &&
		   !call_party_by_tag(c, req->to_tag.s, req->to_tag.len, NULL))) {
		bv_dict_add_str(a, reply, "result", "ok");
		bv_dict_add_str(a, reply, "warning", "Call-ID not found or tags didn't match");
		return 0;
	}
	call_stats_add(d, c, a, reply);
	bv_dict_add_str(a, reply, "result", "ok");
	if (delete_branch(c, req))
		return 0;
	if (c->deleted)
		return 0;
	c->last_signal_us = mono_us();
	if (delay <= 0) {
		call_destroy(d, c, CALL_END_DELETE);
		return 0;
	}
	c->deleted = true;
	c->delete_at_us = mono_us() + delay * 1000000LL;
	rec_call_deleted(d, c);
	clog(LOG_INFO, c->callid, NULL, "delete scheduled in %lld s", delay);
	return 0;
}

static int cmd_query(struct daemon *d, const struct ng_request *req, struct arena *a,
		     struct bval *reply, const char **err)
{
	struct call *c = need_call(d, req, err);

	if (!c)
		return -ENOENT;
	call_stats_add(d, c, a, reply);
	rec_query(d, c, a, reply);
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

/* rtpengine's default when "limit" is not given: a reply that fits a datagram */
#define LIST_DEFAULT_LIMIT 32

/* Call-ids, newest first; at most "limit" of them. */
static int cmd_list(struct daemon *d, const struct ng_request *req, struct arena *a,
		    struct bval *reply, const char **err)
{
	struct bval *calls = bv_new_list(a);
	long long left = req->has_limit ? req->limit : LIST_DEFAULT_LIMIT;

	if (left < 0) {
		*err = "invalid limit, must be >= 0";
		return -EINVAL;
	}
	for (struct call *c = d->reg.head; c && left > 0; c = c->lnext)
		if (!c->deleted) {
			bv_list_add(calls, bv_new_str(a, c->callid, c->callid_len));
			left--;
		}
	bv_dict_add(a, reply, "calls", calls);
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

bool ng_cmd_has_effects(enum ng_cmd cmd)
{
	return cmd == NG_OFFER || cmd == NG_ANSWER || cmd == NG_DELETE || cmd == NG_PLAY_DTMF || cmd == NG_PLAY_MEDIA || cmd == NG_SUBSCRIBE ||
	       cmd == NG_START_RECORDING || cmd == NG_STOP_RECORDING ||
	       cmd == NG_PAUSE_RECORDING || cmd == NG_CAPTURE || cmd == NG_BLOCK;
}

int ng_command(struct daemon *d, const struct ng_request *req, struct arena *a,
	       struct bval *reply, const char **err)
{
	switch (req->cmd) {
	case NG_PING:
		bv_dict_add_str(a, reply, "result", "pong");
		return 0;
	case NG_OFFER:
	case NG_ANSWER:
		return cmd_sdp(d, req, a, reply, err);
	case NG_DELETE:
		return cmd_delete(d, req, a, reply, err);
	case NG_QUERY:
		return cmd_query(d, req, a, reply, err);
	case NG_LIST:
		return cmd_list(d, req, a, reply, err);
	case NG_STATISTICS:
		return stats_reply(d, a, reply);
	case NG_PLAY_DTMF:
		return play_dtmf(d, req, a, reply, err);
	case NG_START_RECORDING:
	case NG_STOP_RECORDING:
	case NG_PAUSE_RECORDING:
	case NG_CAPTURE:
		return rec_command(d, req, a, reply, err);
	case NG_BLOCK:
	case NG_START_FORWARDING:
	case NG_STOP_FORWARDING:
		return media_block_command(d, req, a, reply, err);
	case NG_PLAY_MEDIA:
		return play_media(d, req, a, reply, err);
	case NG_SUBSCRIBE:      /* publish shares the subscription commands' enum */
		if (req->command.len == 7 && !strncasecmp(req->command.s, "publish", 7))
			return publish_command(d, req, a, reply, err);
		return subscribe_command(d, req, a, reply, err);
	default:
		*err = "Unrecognized command";
		return -EINVAL;
	}
}
