/* Call state in Redis: what is written when (store.h). The control thread builds each
 * record and hands its text to the writer (store_writer.c); nothing here waits on Redis. */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_ops.h"
#include "daemon.h"
#include "ng_request.h"
#include "secure.h"
#include "sluice/bencode.h"
#include "sluice/log.h"

char *store_key(const struct config *cfg, const char *callid)
{
	char *k;

	if (asprintf(&k, "sluice:call:%s:%s", cfg->redis_instance, callid) < 0)
		return NULL;
	return k;
}

int store_start(struct daemon *d, char *err, size_t errlen)
{
	const struct config *cfg = d->cfg;
	struct store *s;

	if (!cfg->redis.addr.sa.sa_family && !cfg->redis_write.addr.sa.sa_family)
		return 0;
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = cfg;
	s->target = cfg->redis_write.addr.sa.sa_family ? cfg->redis_write : cfg->redis;
	s->st.enabled = true;
	if (store_writer_start(s)) {
		free(s);
		snprintf(err, errlen, "cannot start the Redis writer thread");
		return -1;
	}
	d->store = s;
	if (store_foreign_start(d)) {
		store_stop(d);
		snprintf(err, errlen, "cannot start the Redis keyspace thread");
		return -1;
	}
	if (cfg->redis_num_threads > 1)
		ilog(LOG_INFO, "redis: one writer thread (--redis-num-threads=%u accepted)",
		     cfg->redis_num_threads);
	return 0;
}

void store_stop(struct daemon *d)
{
	if (!d->store)
		return;
	store_foreign_stop(d->store);
	store_writer_stop(d->store);
	free(d->store);
	d->store = NULL;
}

void store_stats_get(const struct daemon *d, struct store_stats *out)
{
	struct store *s = d->store;

	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	pthread_mutex_unlock(&s->mu);
	store_foreign_stats(s, out);
}

struct bval *store_statistics(const struct daemon *d, struct arena *a)
{
	struct bval *r = bv_new_dict(a);
	struct store_stats st;

	store_stats_get(d, &st);
	bv_dict_add_int(a, r, "connected", st.up);
	bv_dict_add_int(a, r, "writes", (int64_t)st.writes);
	bv_dict_add_int(a, r, "deletes", (int64_t)st.deletes);
	bv_dict_add_int(a, r, "errors", (int64_t)st.errors);
	bv_dict_add_int(a, r, "outages", (int64_t)st.outages);
	bv_dict_add_int(a, r, "dropped", (int64_t)st.dropped);
	bv_dict_add_int(a, r, "queued", (int64_t)st.queued);
	bv_dict_add_int(a, r, "queuemax", (int64_t)st.queue_max);
	bv_dict_add_int(a, r, "restored", (int64_t)st.restored);
	bv_dict_add_int(a, r, "restoredropped", (int64_t)st.restore_dropped);
	bv_dict_add_int(a, r, "restoreskipped", (int64_t)st.restore_skipped);
	if (d->cfg->subscribe_keyspace) {
		bv_dict_add_int(a, r, "foreign", (int64_t)st.foreign);
		bv_dict_add_int(a, r, "foreignskipped", (int64_t)st.foreign_skipped);
		bv_dict_add_int(a, r, "takeovers", (int64_t)st.takeovers);
	}
	return r;
}

/* ---- snapshot ---- */

/* Packets of every stream (userspace and folded kernel counts): whether the counters
 * moved since the last write. Call lock held. */
static uint64_t call_packets(const struct call *c)
{
	uint64_t n = 0;

	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++)
			if (p->media[i])
				n += p->media[i]->rtp.stats.packets + p->media[i]->rtcp.stats.packets;
	return n;
}

static void ep_snap(const struct stream *s, struct store_ep *e)
{
	if (s->has_advertised)
		e->advertised = s->advertised;
	if (s->latched || s->confirmed)
		e->endpoint = s->endpoint;
	e->latched = s->latched;
	e->confirmed = s->confirmed;
	/* userspace's counters and the kernel's folded in, not a live entry's: that one
	 * goes on counting through a restart and is adopted with its counters */
	e->has_stats = true;
	e->packets = s->stats.packets;
	e->bytes = s->stats.bytes;
	e->errors = s->stats.errors;
}

static void sec_snap(const struct secure_media *sm, struct store_media *o)
{
	o->transport = (uint8_t)sm->tp;
	for (unsigned k = 0; k < sm->n_ours && k < STORE_MAX_SDES; k++)
		if (sdes_format(&sm->ours[k], o->sdes[o->n_sdes], SDES_VALUE_MAX) >= 0)
			o->n_sdes++;
	if (sm->ice_ufrag[0] && sm->ice_pwd[0]) {
		memcpy(o->ice_ufrag, sm->ice_ufrag, sizeof(o->ice_ufrag));
		memcpy(o->ice_pwd, sm->ice_pwd, sizeof(o->ice_pwd));
	}
	o->n_srtp_rx = srtpw_state_get(&sm->rx, o->srtp_rx, STORE_MAX_SRTP);
	o->n_srtp_tx = srtpw_state_get(&sm->tx, o->srtp_tx, STORE_MAX_SRTP);
}

static void media_snap(const struct media *m, struct store_media *o)
{
	o->index = m->index;
	snprintf(o->type, sizeof(o->type), "%s", m->type);
	snprintf(o->iface, sizeof(o->iface), "%s", m->iface->name);
	o->port = m->port;
	snprintf(o->codec, sizeof(o->codec), "%s", m->codec);
	o->transcoding = m->transcoding;
	o->rtcp_mux = m->rtcp_mux;
	ep_snap(&m->rtp, &o->rtp);
	ep_snap(&m->rtcp, &o->rtcp);
	if (m->sec)
		sec_snap(m->sec, o);
}

static int party_snap(const struct party *p, struct store_party *o)
{
	for (unsigned i = 0; i < p->n_tags; i++)
		memcpy(o->tags[i], p->tags[i].tag, CALL_TAG_MAX);
	o->n_tags = p->n_tags;
	if (p->peer && p->peer->n_tags)
		memcpy(o->peer_tag, p->peer->tags[0].tag, CALL_TAG_MAX);
	memcpy(o->label, p->label, sizeof(o->label));
	o->opts = p->opts;
	if (p->n_media && !(o->media = calloc(p->n_media, sizeof(*o->media))))
		return -ENOMEM;
	for (unsigned i = 0; i < p->n_media; i++)
		if (p->media[i] && p->media[i]->ports_open)
			media_snap(p->media[i], &o->media[o->n_media++]);
	return 0;
}

int store_snapshot(struct call *c, struct store_call *out)
{
	unsigned n = 0;
	int e = -ENOMEM;

	memset(out, 0, sizeof(*out));
	for (struct party *p = c->parties; p; p = p->next)
		n++;
	if (!(out->callid = strdup(c->callid)) ||
	    (n && !(out->parties = calloc(n, sizeof(*out->parties)))))
		goto fail;
	out->created = c->created_us / 1000000;
	pthread_mutex_lock(&c->lock);
	out->recording = c->rec.gen != 0;
	for (struct party *p = c->parties; p && out->n_parties < STORE_MAX_PARTIES; p = p->next)
		if ((p->n_tags || p->peer) && party_snap(p, &out->parties[out->n_parties++]))
			break;
	c->sdirty = false;
	if (c->store) {
		c->store->written_us = mono_us();
		c->store->written_packets = call_packets(c);
	}
	pthread_mutex_unlock(&c->lock);
	for (unsigned i = 0; c->store && i < c->store->n; i++)
		if (!(out->ng[out->n_ng++] = strdup(c->store->ng[i])))
			goto fail;
	for (unsigned i = 0; c->store && i < c->store->n_sub; i++)
		if (!(out->ng[out->n_ng++] = strdup(c->store->sub[i])))
			goto fail;
	return 0;
fail:
	store_call_free(out);
	return e;
}

static void queue_call(struct daemon *d, struct call *c);

void store_call_tick(struct daemon *d, struct call *c, int64_t now)
{
	const struct config *cfg = d->cfg;
	bool moved;

	if (!d->store || !cfg->redis_update_interval || c->deleted || !c->store ||
	    now - c->store->written_us < (int64_t)cfg->redis_update_interval * 1000000)
		return;
	pthread_mutex_lock(&c->lock);
	moved = call_packets(c) != c->store->written_packets;
	pthread_mutex_unlock(&c->lock);
	if (moved)
		queue_call(d, c);
}

void store_shutdown(struct daemon *d)
{
	for (struct call *c = d->reg.head; d->store && c; c = c->lnext)
		if (!c->deleted)
			queue_call(d, c);
}

static void queue_call(struct daemon *d, struct call *c)
{
	struct store_call r;
	char *key, *val = NULL;

	if (store_snapshot(c, &r))
		return;
	val = store_call_to_json(&r, d->cfg->redis_instance);
	key = store_key(d->cfg, c->callid);
	store_call_free(&r);
	if (!key || !val) {
		free(key);
		free(val);
		return;
	}
	store_queue(d->store, key, val);
}

void store_call_changed(struct daemon *d, struct call *c)
{
	if (d->store && !c->deleted) {
		queue_call(d, c);       /* clears sdirty under the lock (store_snapshot) */
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->sdirty = false;
	pthread_mutex_unlock(&c->lock);
}

void store_tick(struct daemon *d)
{
	struct store *s = d->store;
	bool rewrite;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	rewrite = s->rewrite;
	s->rewrite = false;
	pthread_mutex_unlock(&s->mu);
	/* O(calls) once per outage; the queue coalesces what is still waiting */
	for (struct call *c = rewrite ? d->reg.head : NULL; c; c = c->lnext)
		if (!c->deleted)
			queue_call(d, c);
	store_foreign_tick(d);
}

/* ---- NG requests kept for replay ---- */

static void hist_free(struct store_hist *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < h->n; i++)
		free(h->ng[i]);
	store_hist_sub_free(h);
	free(h);
}

static void hist_drop_front(struct store_hist *h, unsigned k)
{
	for (unsigned i = 0; i < k; i++)
		free(h->ng[i]);
	memmove(h->ng, h->ng + k, (h->n - k) * sizeof(h->ng[0]));
	memmove(h->offer, h->offer + k, (h->n - k) * sizeof(h->offer[0]));
	h->n -= k;
}

/* Keep what rebuilds the call: the last answered offer and its answer, then an offer
 * still waiting for its answer. An offer replaces an unanswered one before it. */
static void hist_add(struct store_hist *h, char *json, bool offer)
{
	if (offer && h->n && h->offer[h->n - 1]) {
		free(h->ng[--h->n]);
	} else if (!offer) {
		unsigned j = h->n;

		while (j && !h->offer[j - 1])
			j--;
		if (j)
			hist_drop_front(h, j - 1);      /* keep from that offer on */
	}
	if (h->n == STORE_MAX_NG)
		hist_drop_front(h, 1);
	h->offer[h->n] = offer;
	h->ng[h->n++] = json;
}

static void remember(struct call *c, const struct ng_request *req, const struct bval *tree)
{
	struct strbuf sb;
	char *json;

	if (!c->store && !(c->store = calloc(1, sizeof(*c->store))))
		return;
	sb_init(&sb);
	if (bv_to_json(tree, &sb) || sb.len > STORE_NG_MAX || !(json = strndup(sb.buf, sb.len))) {
		sb_free(&sb);
		return;
	}
	sb_free(&sb);
	hist_add(c->store, json, req->cmd == NG_OFFER);
}

void store_ng_done(struct daemon *d, const struct ng_request *req, const struct bval *tree)
{
	struct call *c;

	if (!d->store || (d->store->pin && req->cmd != NG_DELETE))
		return;
	c = call_find(d, req->call_id.s, req->call_id.len);
	if (!c)
		return;                 /* gone (its key with it) or never made */
	if (c->deleted) {               /* kept by delete-delay: not to be restored */
		char *key = store_key(d->cfg, c->callid);

		if (key)
			store_queue(d->store, key, NULL);
		return;
	}
	if ((req->cmd == NG_OFFER || req->cmd == NG_ANSWER) && !req->fragment)
		remember(c, req, tree);
	else if (req->cmd == NG_SUBSCRIBE)
		store_sub_remember(c, req, tree);       /* store_subs.c */
	queue_call(d, c);
}

void store_call_gone(struct daemon *d, struct call *c, enum call_end why)
{
	hist_free(c->store);
	c->store = NULL;
	if (!d->store || why == CALL_END_SHUTDOWN || d->store->pin)
		return;
	char *key = store_key(d->cfg, c->callid);

	if (key)
		store_queue(d->store, key, NULL);
}
