/* The `statistics` reply: rtpengine's tree (currentstatistics, totalstatistics,
 * intervalstatistics, mos, controlstatistics, interfaces, transcoders) with the same
 * keys and value types, then sluice's own "ng", "loadlimits" and "recording". */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "call.h"
#include "daemon.h"
#include "kernel.h"
#include "ng_server.h"
#include "ng_stats.h"
#include "hep_sender.h"
#include "rec.h"
#include "relay.h"
#include "store.h"

/* rtpengine writes fractional values as strings with 6 decimals */
static void add_fixed(struct arena *a, struct bval *d, const char *key, double v)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.6f", v);
	bv_dict_add_str(a, d, key, buf);
}

struct live {                           /* what is true of the calls right now */
	uint64_t sessions, transcoded, m_user, m_kernel, m_mixed;
	struct stats_counts user, kernel;       /* counters of live calls */
};

static bool in_kernel(const struct daemon *d, const struct stream *s)
{
	return !kernel_why_not(d, s);
}

/* A side's media that has received RTP is forwarded by userspace, the kernel, or
 * (RTP and RTCP apart) both: rtpengine's media_userspace / _kernel / _mixed. */
static void live_media(const struct daemon *d, const struct media *m, bool active,
		       struct live *l)
{
	bool rtp = in_kernel(d, &m->rtp), rtcp = m->rtcp_mux ? rtp : in_kernel(d, &m->rtcp);

	if (!m->ports_open || m->rejected)
		return;
	l->transcoded += m->transcoding;
	if (!active)
		return;
	if (rtp && rtcp)
		l->m_kernel++;
	else if (!rtp && !rtcp)
		l->m_user++;
	else
		l->m_mixed++;
}

static void live_counts(struct stats_counts *t, const struct stream_stats *s,
			const struct stream_stats *k)
{
	t->packets += s->packets;
	t->bytes += s->bytes;
	t->errors += s->errors;
	if (k) {
		t->packets += k->packets;
		t->bytes += k->bytes;
		t->errors += k->errors;
	}
}

/* Adds the stream's counters; true if it ever received a packet. */
static bool live_stream(const struct call *c, const struct stream *s, struct live *l)
{
	struct stream_stats user = s->stats, k;
	int64_t last;

	user.packets -= s->kfolded.packets;
	user.bytes -= s->kfolded.bytes;
	user.errors -= s->kfolded.errors;
	kernel_read(c, s, &k, &last);
	live_counts(&l->user, &user, NULL);
	live_counts(&l->kernel, &s->kfolded, &k);
	return s->stats.packets || k.packets;
}

static void live_scan(struct daemon *d, struct live *l)
{
	for (struct call *c = d->reg.head; c; c = c->lnext) {
		l->sessions += !c->deleted;
		pthread_mutex_lock(&c->lock);
		for (const struct party *p = c->parties; p; p = p->next)
			for (unsigned i = 0; i < p->n_media; i++) {
				const struct media *m = p->media[i];
				bool active;

				if (!m)
					continue;
				active = live_stream(c, &m->rtp, l);
				live_stream(c, &m->rtcp, l);
				if (!c->deleted)
					live_media(d, m, active, l);
			}
		pthread_mutex_unlock(&c->lock);
	}
}

static struct bval *current(struct daemon *d, const struct live *l, struct arena *a)
{
	const struct stats_state *st = &d->stats;
	struct bval *cur = bv_new_dict(a);
	struct store_stats rs;

	store_stats_get(d, &rs);        /* foreign: other relays' calls a standby keeps */
	bv_dict_add_int(a, cur, "sessionsown", (int64_t)l->sessions);
	bv_dict_add_int(a, cur, "sessionsforeign", (int64_t)rs.foreign);
	bv_dict_add_int(a, cur, "sessionstotal", (int64_t)(l->sessions + rs.foreign));
	bv_dict_add_int(a, cur, "transcodedmedia", (int64_t)l->transcoded);
	bv_dict_add_int(a, cur, "packetrate_user", (int64_t)st->rate_user.packets);
	bv_dict_add_int(a, cur, "byterate_user", (int64_t)st->rate_user.bytes);
	bv_dict_add_int(a, cur, "errorrate_user", (int64_t)st->rate_user.errors);
	bv_dict_add_int(a, cur, "packetrate_kernel", (int64_t)st->rate_kernel.packets);
	bv_dict_add_int(a, cur, "byterate_kernel", (int64_t)st->rate_kernel.bytes);
	bv_dict_add_int(a, cur, "errorrate_kernel", (int64_t)st->rate_kernel.errors);
	bv_dict_add_int(a, cur, "packetrate",
			(int64_t)(st->rate_user.packets + st->rate_kernel.packets));
	bv_dict_add_int(a, cur, "byterate", (int64_t)stats_bandwidth(d));
	bv_dict_add_int(a, cur, "errorrate",
			(int64_t)(st->rate_user.errors + st->rate_kernel.errors));
	bv_dict_add_int(a, cur, "media_userspace", (int64_t)l->m_user);
	bv_dict_add_int(a, cur, "media_kernel", (int64_t)l->m_kernel);
	bv_dict_add_int(a, cur, "media_mixed", (int64_t)l->m_mixed);
	return cur;
}

static void add_relayed(struct arena *a, struct bval *tot, const char *sfx,
			const struct stats_counts *c)
{
	char key[48];

	snprintf(key, sizeof(key), "relayedpackets%s", sfx);
	bv_dict_add_int(a, tot, key, (int64_t)c->packets);
	snprintf(key, sizeof(key), "relayedpacketerrors%s", sfx);
	bv_dict_add_int(a, tot, key, (int64_t)c->errors);
	snprintf(key, sizeof(key), "relayedbytes%s", sfx);
	bv_dict_add_int(a, tot, key, (int64_t)c->bytes);
}

/* Call durations of ended calls: average, sum, sum of squares, standard deviation. */
static void add_durations(const struct daemon *d, struct arena *a, struct bval *tot)
{
	const struct stats_state *st = &d->stats;
	double n = (double)d->totals.managed_sessions;
	double avg = n > 0 ? st->duration_sum / n : 0;
	double var = n > 0 ? st->duration_sq / n - avg * avg : 0;

	add_fixed(a, tot, "avgcallduration", avg);
	add_fixed(a, tot, "totalcallsduration", st->duration_sum);
	add_fixed(a, tot, "totalcallsduration2", st->duration_sq);
	add_fixed(a, tot, "totalcallsduration_stddev", var > 0 ? sqrt(var) : 0);
}

static struct bval *totals(struct daemon *d, const struct live *l, struct arena *a)
{
	const struct daemon_totals *t = &d->totals;
	const struct stats_state *st = &d->stats;
	struct bval *tot = bv_new_dict(a);
	struct stats_counts user = l->user, kern = l->kernel, all;
	char up[24];

	/* ended calls: daemon_totals has all of it, stats the kernel's share */
	user.packets += t->relayed_packets - st->ended_kernel.packets;
	user.bytes += t->relayed_bytes - st->ended_kernel.bytes;
	user.errors += t->relayed_errors - st->ended_kernel.errors;
	kern.packets += st->ended_kernel.packets;
	kern.bytes += st->ended_kernel.bytes;
	kern.errors += st->ended_kernel.errors;
	all = (struct stats_counts){ user.packets + kern.packets, user.bytes + kern.bytes,
				     user.errors + kern.errors };
	snprintf(up, sizeof(up), "%lld", (long long)((now_us() - d->started_us) / 1000000));
	bv_dict_add_str(a, tot, "uptime", up);
	bv_dict_add_int(a, tot, "managedsessions", (int64_t)t->managed_sessions);
	bv_dict_add_int(a, tot, "rejectedsessions", (int64_t)t->rejected_sessions);
	bv_dict_add_int(a, tot, "timeoutsessions", (int64_t)t->timeout_sessions);
	bv_dict_add_int(a, tot, "silenttimeoutsessions", (int64_t)t->silent_timeout_sessions);
	bv_dict_add_int(a, tot, "finaltimeoutsessions", (int64_t)t->final_timeout_sessions);
	bv_dict_add_int(a, tot, "offertimeoutsessions", (int64_t)t->offer_timeout_sessions);
	bv_dict_add_int(a, tot, "regularterminatedsessions", (int64_t)t->regular_terminated);
	bv_dict_add_int(a, tot, "forcedterminatedsessions", (int64_t)t->forced_terminated);
	add_relayed(a, tot, "_user", &user);
	add_relayed(a, tot, "_kernel", &kern);
	add_relayed(a, tot, "", &all);
	bv_dict_add_int(a, tot, "zerowaystreams", (int64_t)st->zeroway);
	bv_dict_add_int(a, tot, "onewaystreams", (int64_t)st->oneway);
	add_durations(d, a, tot);
	bv_dict_add_int(a, tot, "controlrequests", (int64_t)t->ng_requests);
	return tot;
}

/* Since the previous statistics request; then a new interval begins. */
static struct bval *interval(struct daemon *d, const struct live *l, struct arena *a)
{
	struct stats_state *st = &d->stats;
	struct bval *iv = bv_new_dict(a);

	if (!st->iv_seen || l->sessions < st->iv_min_sessions)
		st->iv_min_sessions = l->sessions;
	if (l->sessions > st->iv_max_sessions)
		st->iv_max_sessions = l->sessions;
	add_fixed(a, iv, "totalcallsduration", st->iv_duration);
	bv_dict_add_int(a, iv, "minmanagedsessions", (int64_t)st->iv_min_sessions);
	bv_dict_add_int(a, iv, "maxmanagedsessions", (int64_t)st->iv_max_sessions);
	if (d->ngstats)
		ng_stats_add_interval(d->ngstats, a, iv);
	st->iv_duration = 0;
	st->iv_min_sessions = st->iv_max_sessions = l->sessions;
	st->iv_seen = true;
	return iv;
}

/* The average MOS of each ended call that had one (docs/quality.md): their sum, sum of
 * squares, count, mean and standard deviation, as rtpengine. */
static struct bval *mos(const struct daemon *d, struct arena *a)
{
	const struct stats_state *st = &d->stats;
	struct bval *m = bv_new_dict(a);
	double n = (double)st->mos_calls, avg = n > 0 ? st->mos_sum / n : 0;
	double var = n > 0 ? st->mos_sq / n - avg * avg : 0;

	add_fixed(a, m, "mos_total", st->mos_sum);
	add_fixed(a, m, "mos2_total", st->mos_sq);
	bv_dict_add_int(a, m, "mos_samples_total", (int64_t)st->mos_calls);
	add_fixed(a, m, "mos_average", avg);
	add_fixed(a, m, "mos_stddev", var > 0 ? sqrt(var) : 0);
	return m;
}

static struct bval *control(struct daemon *d, struct arena *a)
{
	struct bval *c = bv_new_dict(a);

	if (d->ngstats)
		ng_stats_add_control(d->ngstats, a, c);
	return c;
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
		snprintf(ip, sizeof(ip), "%.2f",
			 total ? 100.0 * (double)(total - free_ports) / (double)total : 0.0);
		bv_dict_add_str(a, ports, "used_pct", ip);
		bv_dict_add_int(a, ports, "free", free_ports);
		bv_dict_add_int(a, ports, "totals", total);
		bv_dict_add_int(a, ports, "last", p->last);
		bv_dict_add(a, e, "ports", ports);
		bv_list_add(list, e);
	}
	return list;
}

static struct bval *transcoders(const struct daemon *d, struct arena *a)
{
	struct bval *list = bv_new_list(a);

	for (unsigned i = 0; i < d->stats.n_chains; i++) {
		const struct stats_chain *ch = &d->stats.chain[i];
		struct bval *e = bv_new_dict(a);

		bv_dict_add_str(a, e, "chain", ch->name);
		bv_dict_add_int(a, e, "num", ch->num);
		bv_dict_add_int(a, e, "packetrate", (int64_t)ch->packetrate);
		bv_dict_add_int(a, e, "byterate", (int64_t)ch->byterate);
		bv_dict_add_int(a, e, "samplerate", (int64_t)ch->samplerate);
		bv_dict_add_int(a, e, "packets", (int64_t)ch->packets);
		bv_dict_add_int(a, e, "bytes", (int64_t)ch->bytes);
		bv_dict_add_int(a, e, "samples", (int64_t)ch->samples);
		bv_list_add(list, e);
	}
	return list;
}

/* The NG server itself: requests, --ng-allow denials, the reply cache, replies too
 * large for a datagram. */
static struct bval *ng_server(struct daemon *d, struct arena *a)
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
	bv_dict_add_int(a, ng, "oversizedreplies", (int64_t)st.oversized_replies);
	bv_dict_add_int(a, ng, "cacheentries", (int64_t)st.cache.entries);
	bv_dict_add_int(a, ng, "cachebytes", (int64_t)st.cache.bytes);
	bv_dict_add_int(a, ng, "cachereplybytes", (int64_t)st.cache.reply_bytes);
	bv_dict_add_int(a, ng, "cachemaxentries", d->cfg->ng_cache_max_entries);
	bv_dict_add_int(a, ng, "cachemaxbytes", (int64_t)d->cfg->ng_cache_max_bytes);
	bv_dict_add_int(a, ng, "cachehits", (int64_t)st.cache.hits);
	bv_dict_add_int(a, ng, "cacheevictions", (int64_t)st.cache.evicted);
	bv_dict_add_int(a, ng, "cacheexpired", (int64_t)st.cache.expired);
	return ng;
}

/* The limits, what they compare, and the new calls each refused. */
static struct bval *load_limits(const struct daemon *d, struct arena *a)
{
	const struct config *cfg = d->cfg;
	const struct load_state *l = &d->load;
	struct bval *ll = bv_new_dict(a), *refused = bv_new_dict(a);

	bv_dict_add_int(a, ll, "maxsessions", cfg->max_sessions);
	add_fixed(a, ll, "maxload", cfg->max_load);
	add_fixed(a, ll, "maxcpu", cfg->max_cpu);
	bv_dict_add_int(a, ll, "maxbandwidth", (int64_t)cfg->max_bandwidth);
	add_fixed(a, ll, "load", l->loadavg);
	add_fixed(a, ll, "cpu", l->cpu_pct);
	bv_dict_add_int(a, ll, "bandwidth", (int64_t)stats_bandwidth(d));
	for (int k = 0; k < LOAD_N; k++)
		bv_dict_add_int(a, refused, load_kind_name((enum load_kind)k),
				(int64_t)l->refused[k]);
	bv_dict_add(a, ll, "refused", refused);
	return ll;
}

static int build(struct daemon *d, struct arena *a, struct bval *reply, bool new_interval)
{
	struct bval *st = bv_new_dict(a);
	struct live l = { 0 };

	live_scan(d, &l);
	bv_dict_add(a, st, "currentstatistics", current(d, &l, a));
	bv_dict_add(a, st, "totalstatistics", totals(d, &l, a));
	if (new_interval)
		bv_dict_add(a, st, "intervalstatistics", interval(d, &l, a));
	bv_dict_add(a, st, "mos", mos(d, a));
	bv_dict_add(a, st, "controlstatistics", control(d, a));
	bv_dict_add(a, st, "interfaces", interfaces(d, a));
	bv_dict_add(a, st, "transcoders", transcoders(d, a));
	bv_dict_add(a, st, "ng", ng_server(d, a));
	bv_dict_add(a, st, "loadlimits", load_limits(d, a));
	if (d->rec)
		bv_dict_add(a, st, "recording", rec_statistics(d, a));
	if (d->hep)
		bv_dict_add(a, st, "homer", hep_statistics(d, a));
	if (d->store)
		bv_dict_add(a, st, "redis", store_statistics(d, a));
	if (!bv_dict_add(a, reply, "statistics", st) ||
	    !bv_dict_add_str(a, reply, "result", "ok"))
		return -ENOMEM;
	return 0;
}

int stats_reply(struct daemon *d, struct arena *a, struct bval *reply)
{
	return build(d, a, reply, true);
}

int stats_peek(struct daemon *d, struct arena *a, struct bval *reply)
{
	return build(d, a, reply, false);
}
