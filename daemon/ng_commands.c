/* ping, offer, answer, delete, query, list, statistics; play DTMF is in play_dtmf.c,
 * trickle ICE fragments (offer/answer with "fragment") in ice_trickle.c. */
#include "ng_commands.h"

#include <errno.h>
#include <string.h>

#include "call_ops.h"
#include "call_stats.h"
#include "ice_trickle.h"
#include "ng_server.h"
#include "offer_answer.h"
#include "hep_sender.h"
#include "media_block.h"
#include "play_dtmf.h"
#include "rec.h"
#include "relay.h"
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
	if (!e) {
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

static int cmd_list(struct daemon *d, struct arena *a, struct bval *reply)
{
	struct bval *calls = bv_new_list(a);

	for (struct call *c = d->reg.head; c; c = c->lnext)
		if (!c->deleted)
			bv_list_add(calls, bv_new_str(a, c->callid, c->callid_len));
	bv_dict_add(a, reply, "calls", calls);
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

/* Port usage per interface address (interfaces sharing an address share the pool). */
static struct bval *interfaces(struct daemon *d, struct arena *a)
{
	struct bval *list = bv_new_list(a);

	relay_flush(d->relay);          /* count ports of just-deleted calls as free */
	for (unsigned i = 0; i < d->n_ifaces; i++) {
		const struct iface *f = &d->ifaces[i];
		const struct port_pool *p = f->pool_ref;
		struct bval *e = bv_new_dict(a), *ports = bv_new_dict(a);
		char ip[NETADDR_STRLEN];
		int64_t total = 2 * (int64_t)port_pool_total_pairs(p);
		int64_t free_ports = 2 * (int64_t)port_pool_free_pairs(p);

		bv_dict_add_str(a, e, "name", f->name);
		bv_dict_add_str(a, e, "address", netaddr_ntop(&f->local, ip, sizeof(ip)));
		bv_dict_add_str(a, e, "advertised", f->adv_str);
		bv_dict_add_int(a, ports, "min", p->min);
		bv_dict_add_int(a, ports, "max", p->max);
		bv_dict_add_int(a, ports, "used", total - free_ports);
		bv_dict_add_int(a, ports, "free", free_ports);
		bv_dict_add_int(a, ports, "totals", total);
		bv_dict_add(a, e, "ports", ports);
		bv_list_add(list, e);
	}
	return list;
}

/* The NG server itself: requests, --ng-allow denials, the reply cache. */
static struct bval *ng_stats(struct daemon *d, struct arena *a)
{
	struct bval *ng = bv_new_dict(a);
	struct ng_server_stats st = { 0 };

	if (d->ng)
		ng_server_get_stats(d->ng, &st);
	bv_dict_add_int(a, ng, "requests", (int64_t)d->totals.ng_requests);
	bv_dict_add_int(a, ng, "errors", (int64_t)d->totals.ng_errors);
	bv_dict_add_int(a, ng, "denieddatagrams", (int64_t)st.denied_datagrams);
	bv_dict_add_int(a, ng, "deniedconnections", (int64_t)st.denied_connections);
	bv_dict_add_int(a, ng, "tcpconnections", st.tcp_connections);
	bv_dict_add_int(a, ng, "cacheentries", (int64_t)st.cache.entries);
	bv_dict_add_int(a, ng, "cachebytes", (int64_t)st.cache.bytes);
	bv_dict_add_int(a, ng, "cachemaxentries", d->cfg->ng_cache_max_entries);
	bv_dict_add_int(a, ng, "cachemaxbytes", (int64_t)d->cfg->ng_cache_max_bytes);
	bv_dict_add_int(a, ng, "cachehits", (int64_t)st.cache.hits);
	bv_dict_add_int(a, ng, "cacheevictions", (int64_t)st.cache.evicted);
	bv_dict_add_int(a, ng, "cacheexpired", (int64_t)st.cache.expired);
	return ng;
}

static int cmd_statistics(struct daemon *d, struct arena *a, struct bval *reply)
{
	const struct daemon_totals *t = &d->totals;
	struct bval *st = bv_new_dict(a), *cur = bv_new_dict(a), *tot = bv_new_dict(a);
	uint64_t live = 0, pk = t->relayed_packets, by = t->relayed_bytes, er = t->relayed_errors;

	for (struct call *c = d->reg.head; c; c = c->lnext) {
		struct stream_stats rtp, rtcp;
		int64_t last;

		live += !c->deleted;
		call_totals(c, &rtp, &rtcp, &last);
		pk += rtp.packets + rtcp.packets;
		by += rtp.bytes + rtcp.bytes;
		er += rtp.errors + rtcp.errors;
	}
	bv_dict_add_int(a, cur, "sessionsown", (int64_t)live);
	bv_dict_add_int(a, cur, "sessionsforeign", 0);
	bv_dict_add_int(a, cur, "sessionstotal", (int64_t)live);
	bv_dict_add_int(a, cur, "transcodedmedia", 0);
	bv_dict_add(a, st, "currentstatistics", cur);
	bv_dict_add_int(a, tot, "uptime", (now_us() - d->started_us) / 1000000);
	bv_dict_add_int(a, tot, "managedsessions", (int64_t)t->managed_sessions);
	bv_dict_add_int(a, tot, "rejectedsessions", (int64_t)t->rejected_sessions);
	bv_dict_add_int(a, tot, "timeoutsessions", (int64_t)t->timeout_sessions);
	bv_dict_add_int(a, tot, "silenttimeoutsessions", (int64_t)t->silent_timeout_sessions);
	bv_dict_add_int(a, tot, "finaltimeoutsessions", (int64_t)t->final_timeout_sessions);
	bv_dict_add_int(a, tot, "offertimeoutsessions", (int64_t)t->offer_timeout_sessions);
	bv_dict_add_int(a, tot, "regularterminatedsessions", (int64_t)t->regular_terminated);
	bv_dict_add_int(a, tot, "forcedterminatedsessions", (int64_t)t->forced_terminated);
	bv_dict_add_int(a, tot, "relayedpackets", (int64_t)pk);
	bv_dict_add_int(a, tot, "relayedbytes", (int64_t)by);
	bv_dict_add_int(a, tot, "relayedpacketerrors", (int64_t)er);
	bv_dict_add_int(a, tot, "controlrequests", (int64_t)t->ng_requests);
	bv_dict_add(a, st, "totalstatistics", tot);
	bv_dict_add(a, st, "interfaces", interfaces(d, a));
	bv_dict_add(a, st, "ng", ng_stats(d, a));
	if (d->rec)
		bv_dict_add(a, st, "recording", rec_statistics(d, a));
	if (d->hep)
		bv_dict_add(a, st, "homer", hep_statistics(d, a));
	bv_dict_add(a, reply, "statistics", st);
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

bool ng_cmd_has_effects(enum ng_cmd cmd)
{
	return cmd == NG_OFFER || cmd == NG_ANSWER || cmd == NG_DELETE || cmd == NG_PLAY_DTMF ||
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
		return cmd_list(d, a, reply);
	case NG_STATISTICS:
		return cmd_statistics(d, a, reply);
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
	default:
		*err = "Unrecognized command";
		return -EINVAL;
	}
}
