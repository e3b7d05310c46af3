/* Restore at start: read the records of this instance from --redis and re-create each
 * call. The call is rebuilt by replaying its kept NG requests (offer, answer, then the
 * subscriptions: subscribe request and answer, store_subs.c) through
 * the ordinary handlers, so codecs, transcoding and SRTP are set up as they were; while
 * a record is replayed, media_ensure takes the ports the record names
 * (store_pinned_port). Then what the packets had taught (latched endpoints) and the
 * keys we had handed out (SDES, ICE credentials) are put back, so media flows again
 * without a new offer. A call that cannot be rebuilt (a port taken, a request refused)
 * is logged, destroyed and its key removed. */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "call_ops.h"
#include "daemon.h"
#include "kernel.h"
#include "ng_commands.h"
#include "ng_control.h"
#include "ng_request.h"
#include "secure.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/log.h"

static bool has_tag(const struct store_party *sp, const char *tag)
{
	for (unsigned i = 0; i < sp->n_tags; i++)
		if (!strcmp(sp->tags[i], tag))
			return true;
	return false;
}

/* The record's party for p: by p's tags, or (an answerer not tagged yet) by its peer's. */
static const struct store_party *rec_party(const struct store_call *r, const struct party *p)
{
	for (unsigned i = 0; i < r->n_parties; i++) {
		const struct store_party *sp = &r->parties[i];

		for (unsigned t = 0; t < p->n_tags; t++)
			if (has_tag(sp, p->tags[t].tag))
				return sp;
		if (!p->n_tags && p->peer && p->peer->n_tags &&
		    !strcmp(sp->peer_tag, p->peer->tags[0].tag))
			return sp;
	}
	return NULL;
}

static const struct store_media *rec_media(const struct store_party *sp, unsigned index)
{
	for (unsigned i = 0; sp && i < sp->n_media; i++)
		if (sp->media[i].index == index)
			return &sp->media[i];
	return NULL;
}

int store_pinned_port(struct daemon *d, const struct party *p, unsigned idx, uint16_t *port)
{
	const struct store_media *m;

	if (!d->store || !d->store->pin)
		return -ENOENT;
	m = rec_media(rec_party(d->store->pin, p), idx + 1);
	if (!m)
		return -EADDRNOTAVAIL;
	*port = m->port;
	return 0;
}

/* ---- after the replay: what the packets taught, the keys we gave ---- */

/* SRTCP indices we may have sent after the record was written: skipped, so the peer
 * never sees one twice (it would drop it as a replay). */
#define SRTCP_RESTART_SKIP 128

static void ep_apply(struct stream *s, const struct store_ep *e)
{
	if (e->has_stats) {     /* counters continue (added: the replay may have counted) */
		s->stats.packets += e->packets;
		s->stats.bytes += e->bytes;
		s->stats.errors += e->errors;
	}
	if (!e->endpoint.sa.sa_family)
		return;
	s->endpoint = e->endpoint;
	s->latched = e->latched;
	s->confirmed = e->confirmed;
	s->relearn = false;
}

/* Our SDES keys toward this side: the replay made new ones, the peer has the old. */
static void sdes_apply(struct secure_media *sm, const struct store_media *m)
{
	for (unsigned k = 0; k < m->n_sdes && k < sm->n_ours; k++) {
		struct sdes_crypto c;

		if (sdes_parse(m->sdes[k], strlen(m->sdes[k]), &c) ||
		    c.key.suite != sm->ours[k].key.suite)
			continue;
		sm->ours[k] = c;
	}
	if (sm->n_ours && sm->suite != SRTPW_SUITE_NONE)
		secure_srtp_set(&sm->tx, &sm->tx_key, &sm->ours[0].key, SRTPW_OUTBOUND);
}

/* The SRTP contexts go on where they were: ROC and SRTCP index per SSRC. */
static void srtp_apply(struct secure_media *sm, const struct store_media *m)
{
	for (unsigned i = 0; i < m->n_srtp_rx && srtpw_is_set(&sm->rx); i++)
		srtpw_state_set(&sm->rx, &m->srtp_rx[i]);
	for (unsigned i = 0; i < m->n_srtp_tx && srtpw_is_set(&sm->tx); i++) {
		struct srtpw_ssrc_state st = m->srtp_tx[i];

		if (st.has_rtcp && st.rtcp_index < 0x7fffffff - SRTCP_RESTART_SKIP)
			st.rtcp_index += SRTCP_RESTART_SKIP;
		srtpw_state_set(&sm->tx, &st);
	}
}

static void ice_apply(struct secure_media *sm, const struct store_media *m)
{
	if (!m->ice_ufrag[0])
		return;
	memcpy(sm->ice_ufrag, m->ice_ufrag, sizeof(sm->ice_ufrag));
	memcpy(sm->ice_pwd, m->ice_pwd, sizeof(sm->ice_pwd));
	if (sm->ice) {
		memcpy(sm->ice->ufrag, m->ice_ufrag, sizeof(m->ice_ufrag));
		memcpy(sm->ice->pwd, m->ice_pwd, sizeof(m->ice_pwd));
	}
}

static void apply(struct call *c, const struct store_call *r)
{
	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next) {
		const struct store_party *sp = rec_party(r, p);

		if (!sp)
			continue;
		p->opts.block = sp->opts.block;
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct store_media *m = rec_media(sp, i + 1);
			struct media *md = p->media[i];

			if (!m || !md)
				continue;
			ep_apply(&md->rtp, &m->rtp);
			ep_apply(&md->rtcp, &m->rtcp);
			if (md->sec) {
				sdes_apply(md->sec, m);
				srtp_apply(md->sec, m);
				ice_apply(md->sec, m);
			}
		}
	}
	c->kdirty = true;
	pthread_mutex_unlock(&c->lock);
}

/* ---- replay ---- */

static int replay_one(struct daemon *d, const char *json, const char *callid,
		      const char **err)
{
	struct arena a;
	struct bval *tree, *reply;
	struct ng_request req;
	int e;

	arena_init(&a, NG_ARENA_LIMIT);
	e = bv_from_json(&a, json, strlen(json), &tree);
	if (e) {
		*err = "stored NG request does not parse";
	} else if ((e = ng_request_decode(tree, &req, err))) {
		;
	} else if ((req.cmd != NG_OFFER && req.cmd != NG_ANSWER && req.cmd != NG_SUBSCRIBE) ||
		   req.call_id.len != strlen(callid) ||
		   memcmp(req.call_id.s, callid, req.call_id.len)) {
		*err = "stored NG request is not an offer, answer or subscription of this call";
		e = -EINVAL;
	} else if (!(reply = bv_new_dict(&a))) {
		e = -ENOMEM;
		*err = "out of memory";
	} else if (!(e = ng_command(d, &req, &a, reply, err)) && req.cmd != NG_SUBSCRIBE &&
		   !bv_dict_get_str(reply, "sdp", NULL)) {
		*err = "replayed request refused (load limit)";
		e = -EBUSY;
	}
	arena_reset(&a);
	return e;
}

/* A call recorded through "start recording" (not record-call in its offer) records on,
 * into a new file: the replay alone would not start it. */
static void resume_recording(struct daemon *d, struct call *c)
{
	const char *err = NULL;
	struct ng_request req;
	struct bval *m, *reply;
	struct arena a;
	bool on;

	pthread_mutex_lock(&c->lock);
	on = c->rec.gen != 0;
	pthread_mutex_unlock(&c->lock);
	if (on)
		return;
	arena_init(&a, 0);
	m = bv_new_dict(&a);
	reply = bv_new_dict(&a);
	if (m && reply && bv_dict_add_str(&a, m, "command", "start recording") &&
	    bv_dict_add(&a, m, "call-id", bv_new_str(&a, c->callid, c->callid_len)) &&
	    !ng_request_decode(m, &req, &err) && !ng_command(d, &req, &a, reply, &err))
		clog(LOG_INFO, c->callid, NULL, "redis: recording resumed");
	else
		clog(LOG_WARNING, c->callid, NULL, "redis: recording not resumed: %s",
		     err ? err : "out of memory");
	arena_reset(&a);
}

static bool is_offer(const char *json)
{
	json_object *o = json_tokener_parse(json), *cmd;
	bool yes = o && json_object_object_get_ex(o, "command", &cmd) &&
		   json_object_is_type(cmd, json_type_string) &&
		   !strcasecmp(json_object_get_string(cmd), "offer");

	json_object_put(o);
	return yes;
}

static void hist_from(struct call *c, const struct store_call *r)
{
	if (!c->store && !(c->store = calloc(1, sizeof(*c->store))))
		return;
	for (unsigned i = 0; i < r->n_ng; i++) {
		char *s = strdup(r->ng[i]), tag[CALL_TAG_MAX];

		if (!s)
			break;
		if (store_sub_tag(s, tag, sizeof(tag))) {
			store_hist_sub(c->store, s, tag, false);
		} else if (c->store->n < STORE_MAX_NG) {
			c->store->offer[c->store->n] = is_offer(s);
			c->store->ng[c->store->n++] = s;
		} else {
			free(s);
		}
	}
}

static void drop_key(struct daemon *d, const char *key, int db)
{
	char *k = strdup(key);

	if (k)
		store_queue_db(d->store, k, NULL, db);
}

int store_record_check(const struct daemon *d, const struct store_call *r, uint32_t *ifmask,
		       const char **err)
{
	const struct config *cfg = d->cfg;
	uint32_t mask = 0;

	if (!r->n_ng)
		return *err = "no NG request to replay", -EINVAL;
	for (unsigned i = 0; i < r->n_parties; i++)
		for (unsigned j = 0; j < r->parties[i].n_media; j++) {
			const struct store_media *m = &r->parties[i].media[j];
			unsigned k = 0;

			while (k < d->n_ifaces && strcmp(d->ifaces[k].name, m->iface))
				k++;
			if (k == d->n_ifaces)
				return *err = "names an interface this relay does not have",
				       -EINVAL;
			if (m->port < cfg->port_min || m->port >= cfg->port_max ||
			    (m->port - cfg->port_min) & 1)
				return *err = "names a port outside the port range", -EINVAL;
			mask |= 1u << k;
		}
	*ifmask = mask;
	return 0;
}

int store_restore_call(struct daemon *d, const struct store_call *r, const char *key, int db)
{
	const char *err = "no offer to replay";
	struct call *c;
	int e = -EINVAL;

	if (call_find(d, r->callid, strlen(r->callid)))
		return 0;
	d->store->pin = r;
	for (unsigned i = 0; i < r->n_ng; i++) {
		char tag[CALL_TAG_MAX];

		if (!store_sub_tag(r->ng[i], tag, sizeof(tag))) {
			if ((e = replay_one(d, r->ng[i], r->callid, &err)))
				break;
		} else if (!e && replay_one(d, r->ng[i], r->callid, &err)) {
			/* the call goes on without that subscriber's copies */
			clog(LOG_WARNING, r->callid, tag, "redis: subscription not restored: %s",
			     err);
		}
	}
	c = call_find(d, r->callid, strlen(r->callid));
	if (!e && !c) {
		e = -ENOENT;
		err = "replay made no call";
	}
	if (e) {
		if (c)
			call_destroy(d, c, CALL_END_DELETE);
		d->store->pin = NULL;
		char ports[96] = "";

		for (unsigned i = 0, n = 0; i < r->n_parties; i++)
			for (unsigned k = 0; k < r->parties[i].n_media && n < sizeof(ports) - 8; k++)
				n += (unsigned)snprintf(ports + n, sizeof(ports) - n, "%s%u",
							n ? " " : "", r->parties[i].media[k].port);
		clog(LOG_WARNING, r->callid, NULL, "redis: call dropped, not restored: %s (%s%s%s)",
		     err, e == -EADDRINUSE ? "one of its ports (" : strerror(-e),
		     e == -EADDRINUSE ? ports : "", e == -EADDRINUSE ? ") is taken" : "");
		drop_key(d, key, db);
		return 0;
	}
	d->store->pin = NULL;
	apply(c, r);
	if (r->recording)
		resume_recording(d, c);
	hist_from(c, r);
	kernel_sync_call(d, c);
	store_call_changed(d, c);       /* renews the key, as this daemon now has it */
	clog(LOG_NOTICE, r->callid, NULL, "redis: call restored: %u parties", r->n_parties);
	return 1;
}

static void restore_value(struct daemon *d, const char *key, const redisReply *v)
{
	struct store_call r;
	const char *err;
	uint32_t ifmask;
	int ok;                         /* 1 restored, 0 dropped, -1 skipped */

	if (v->type != REDIS_REPLY_STRING) {
		ok = -1;                /* gone between SCAN and GET */
	} else if (store_call_from_json(v->str, v->len, &r, &err)) {
		ilog(LOG_WARNING, "redis: key %s skipped: %s", key, err);
		ok = -1;
	} else if (store_record_check(d, &r, &ifmask, &err)) {
		ilog(LOG_WARNING, "redis: key %s skipped: %s", key, err);
		store_call_free(&r);
		ok = -1;
	} else {
		ok = store_restore_call(d, &r, key, -1);
		store_call_free(&r);
	}
	pthread_mutex_lock(&d->store->mu);
	if (ok > 0)
		d->store->st.restored++;
	else if (!ok)
		d->store->st.restore_dropped++;
	else
		d->store->st.restore_skipped++;
	pthread_mutex_unlock(&d->store->mu);
}

/* GET the keys of one SCAN page, pipelined. */
static void restore_page(struct daemon *d, redisContext *c, const redisReply *keys)
{
	for (size_t i = 0; i < keys->elements; i++)
		redisAppendCommand(c, "GET %b", keys->element[i]->str,
				   (size_t)keys->element[i]->len);
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *v;

		if (redisGetReply(c, (void **)&v) != REDIS_OK)
			return;
		restore_value(d, keys->element[i]->str, v);
		freeReplyObject(v);
	}
}

void store_restore(struct daemon *d)
{
	const struct config *cfg = d->cfg;
	char cursor[32] = "0", *pattern = store_key(cfg, "*");
	int64_t t0 = mono_fine_us();
	redisContext *c;

	if (!d->store || !cfg->redis.addr.sa.sa_family || !pattern) {
		free(pattern);
		return;
	}
	c = store_connect(&cfg->redis, "restore", false);
	if (!c) {
		ilog(LOG_WARNING, "redis: no calls restored (Redis unreachable)");
		free(pattern);
		return;
	}
	store_kernel_owner(d, c);       /* adopt the kernel entries, or flush them */
	do {
		redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);

		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			ilog(LOG_WARNING, "redis: SCAN failed: %s", r && r->type ==
			     REDIS_REPLY_ERROR ? r->str : c->errstr);
			freeReplyObject(r);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		restore_page(d, c, r->element[1]);
		freeReplyObject(r);
	} while (strcmp(cursor, "0"));
	redisFree(c);
	free(pattern);
	ilog(LOG_NOTICE, "redis: %llu call(s) restored, %llu dropped, %llu key(s) skipped in "
	     "%lld ms", (unsigned long long)d->store->st.restored,
	     (unsigned long long)d->store->st.restore_dropped,
	     (unsigned long long)d->store->st.restore_skipped,
	     (long long)((mono_fine_us() - t0) / 1000));
}
