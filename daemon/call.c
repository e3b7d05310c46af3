/* Call lifecycle. */
#include "call_ops.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ice_timer.h"
#include "kernel.h"
#include "hep_sender.h"
#include "stats.h"
#include "dtmf_delay.h"
#include "dtmf_trigger.h"
#include "media_delay.h"
#include "media_handler.h"
#include "media_socks.h"
#include "metrics.h"
#include "quality_track.h"
#include "rec.h"
#include "relay.h"
#include "secure.h"
#include "sluice/dtmf_rewrite.h"
#include "play_clock.h"
#include "subscribe.h"
#include "store.h"
#include "sluice/log.h"

struct call *call_find(struct daemon *d, const char *callid, size_t len)
{
	return registry_find(&d->reg, callid, len);
}

static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = 5381;

	while (len--)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

struct call *call_create(struct daemon *d, const char *callid, size_t len)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->callid = malloc(len + 1);
	if (!c->callid) {
		free(c);
		return NULL;
	}
	memcpy(c->callid, callid, len);
	c->callid[len] = '\0';
	c->callid_len = len;
	pthread_mutex_init(&c->lock, NULL);
	c->worker = (unsigned)(str_hash(callid, len) % relay_workers(d->relay));
	c->kmod = d->kmod;
	c->jitter_ms = d->cfg->jitter_buffer;
	c->learning = -1;
	c->tos = d->cfg->tos;
	c->created_us = now_us();
	c->last_signal_us = mono_us();
	registry_add(&d->reg, c);
	rec_call_created(d, c);
	return c;
}

/* IP_TOS / IPV6_TCLASS of both sockets: what every packet sent from them carries. A
 * failure leaves the system's value, as a missing --tos does. */
void media_set_tos(struct media *m, int tos)
{
	struct stream *s[2] = { &m->rtp, &m->rtcp };

	for (int i = 0; i < 2; i++)
		if (s[i]->fd >= 0)
			port_sock_tos(s[i]->fd, &s[i]->local, tos);
	media_socks_set_tos(m, tos);
}

void call_set_tos(struct call *c, int tos)
{
	if (tos == c->tos)
		return;
	c->tos = tos;
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++)
			if (p->media[i])
				media_set_tos(p->media[i], tos < 0 ? 0 : tos);
}

struct party *call_party_by_tag(struct call *c, const char *tag, size_t len, unsigned *alias)
{
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_tags; i++)
			if (strlen(p->tags[i].tag) == len && !memcmp(p->tags[i].tag, tag, len)) {
				if (alias)
					*alias = i;
				return p;
			}
	return NULL;
}

struct party *call_party_new(struct call *c)
{
	struct party *p = calloc(1, sizeof(*p)), **pp;

	if (!p)
		return NULL;
	p->call = c;
	p->idx = c->n_parties++;
	p->created_us = now_us();
	for (pp = &c->parties; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	return p;
}

int party_add_tag(struct party *p, const char *tag, size_t len, const char *via, size_t vlen)
{
	struct party_tag *t;

	if (p->n_tags == CALL_MAX_TAGS)
		return -E2BIG;
	if (len >= CALL_TAG_MAX || vlen >= CALL_TAG_MAX)
		return -EINVAL;
	t = &p->tags[p->n_tags++];
	memcpy(t->tag, tag, len);
	t->tag[len] = '\0';
	if (via)
		memcpy(t->via_branch, via, vlen);
	t->via_branch[via ? vlen : 0] = '\0';
	return 0;
}

void party_remove_tag(struct party *p, unsigned alias)
{
	if (alias >= p->n_tags)
		return;
	memmove(&p->tags[alias], &p->tags[alias + 1],
		(p->n_tags - alias - 1) * sizeof(p->tags[0]));
	p->n_tags--;
}

static void stream_init(struct stream *s, struct media *m, int fd, uint8_t comp,
			const union sockaddr_u *local, uint16_t port)
{
	s->media = m;
	s->fd = fd;
	s->ref.s = s;
	s->kslot = -1;
	s->component = comp;
	s->local = *local;
	netaddr_set_port(&s->local, port);
}

int media_ensure(struct daemon *d, struct party *p, unsigned idx, const struct iface *iface,
		 struct media **out)
{
	struct media *m;
	int fds[2], err;
	uint16_t port;

	if (idx >= SDP_MAX_MEDIA)
		return -E2BIG;
	if (idx < p->n_media && p->media[idx]) {
		*out = p->media[idx];
		return 0;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->party = p;
	m->index = idx + 1;
	m->iface = iface;
	m->rtp.fd = m->rtcp.fd = -1;
	err = store_pinned_port(d, p, idx, &port);      /* restoring: the same port */
	if (!err)
		err = port_pair_open_at(iface->pool_ref, &iface->local, port, fds);
	else if (err == -ENOENT)
		err = port_pair_open(iface->pool_ref, &iface->local, fds, &port);
	if (err == -ENOSPC && relay_flush(d->relay))    /* ports of deleted calls pending */
		err = port_pair_open(iface->pool_ref, &iface->local, fds, &port);
	if (err) {
		free(m);
		return err;
	}
	m->port = port;
	m->ports_open = true;
	stream_init(&m->rtp, m, fds[0], COMP_RTP, &iface->local, port);
	stream_init(&m->rtcp, m, fds[1], COMP_RTCP, &iface->local, (uint16_t)(port + 1));
	if (p->call->tos >= 0)
		media_set_tos(m, p->call->tos);
	err = relay_stream_add(d->relay, &m->rtp, p->call->worker);
	if (!err)
		err = relay_stream_add(d->relay, &m->rtcp, p->call->worker);
	p->media[idx] = m;
	if (idx >= p->n_media)
		p->n_media = idx + 1;
	*out = m;
	return err;
}

/* Sockets a rebound media gave up, closed once no worker can be using them. */
struct old_ports {
	int fd[2];
	const struct iface *iface;
	uint16_t port;
};

static void close_old_ports(void *arg)
{
	struct old_ports *o = arg;

	close(o->fd[0]);
	close(o->fd[1]);
	port_pool_put(o->iface->pool_ref, o->port);
	free(o);
}

int media_rebind(struct daemon *d, struct media *m, const struct iface *to)
{
	struct call *c = m->party->call;
	struct old_ports *o;
	int fds[2], err, xerr;
	uint16_t port;

	if (m->iface == to || !m->ports_open || m->bundle)
		return 0;
	if (!(o = malloc(sizeof(*o))))
		return -ENOMEM;
	err = port_pair_open(to->pool_ref, &to->local, fds, &port);
	if (err == -ENOSPC && relay_flush(d->relay))
		err = port_pair_open(to->pool_ref, &to->local, fds, &port);
	if (err) {
		free(o);
		return err;
	}
	kernel_release_media(d, m);
	relay_stream_del(d->relay, &m->rtp, c->worker);
	relay_stream_del(d->relay, &m->rtcp, c->worker);
	*o = (struct old_ports){ { m->rtp.fd, m->rtcp.fd }, m->iface, m->port };
	pthread_mutex_lock(&c->lock);
	clog(LOG_INFO, c->callid, m->party->n_tags ? m->party->tags[0].tag : NULL, "media %u moves from %s:%u to %s:%u",
	     m->index, m->iface->adv_str, m->port, to->adv_str, port);
	m->iface = to;
	m->port = port;
	/* workers may still send on the old socket in the batch they are in: it stays open
	 * until the grace period is over */
	__atomic_store_n(&m->rtp.fd, fds[0], __ATOMIC_RELEASE);
	__atomic_store_n(&m->rtcp.fd, fds[1], __ATOMIC_RELEASE);
	m->rtp.local = to->local;
	netaddr_set_port(&m->rtp.local, port);
	m->rtcp.local = to->local;
	netaddr_set_port(&m->rtcp.local, (uint16_t)(port + 1));
	pthread_mutex_unlock(&c->lock);
	/* the sockets on the new interface's other addresses, and ICE's candidates, follow */
	xerr = media_socks_rebind(d, m);
	pthread_mutex_lock(&c->lock);
	if (!xerr)
		xerr = ice_cands_rebound(m->sec);
	pthread_mutex_unlock(&c->lock);
	if (c->tos >= 0)
		media_set_tos(m, c->tos);
	relay_defer(d->relay, close_old_ports, o);
	err = relay_stream_add(d->relay, &m->rtp, c->worker);
	if (!err)
		err = relay_stream_add(d->relay, &m->rtcp, c->worker);
	return err ? err : xerr;
}

/* Where packets for the peer side's component go: the peer's RTCP stream, or its RTP
 * stream when the peer multiplexes RTCP. */
static struct stream *sink_of(struct media *peer, uint8_t comp)
{
	if (!peer)
		return NULL;
	if (comp == COMP_RTCP && !peer->rtcp_mux)
		return &peer->rtcp;
	return &peer->rtp;
}

static void wire_party(struct party *p)
{
	for (unsigned i = 0; i < p->n_media; i++) {
		struct media *m = p->media[i];
		struct media *pm = p->peer && i < p->peer->n_media ? p->peer->media[i] : NULL;

		if (p->pub_answerer || (p->peer && p->peer->pub_answerer))
			pm = NULL;    /* publish: received, forwarded nowhere (publish.h) */

		if (!m)
			continue;
		m->rtp.sink = sink_of(pm, COMP_RTP);
		m->rtcp.sink = sink_of(pm, COMP_RTCP);
	}
}

void call_wire(struct party *p)
{
	pthread_mutex_lock(&p->call->lock);
	wire_party(p);
	if (p->peer)
		wire_party(p->peer);
	pthread_mutex_unlock(&p->call->lock);
}

static void stream_add(struct stream_stats *t, const struct stream_stats *s)
{
	t->packets += s->packets;
	t->bytes += s->bytes;
	t->errors += s->errors;
	t->foreign += s->foreign;
}

void stream_read_stats(const struct stream *s, struct stream_stats *out, int64_t *last)
{
	struct stream_stats k;
	int64_t klast;

	*out = s->stats;
	*last = s->last_packet_us;
	kernel_read(s->media->party->call, s, &k, &klast);
	stream_add(out, &k);
	if (klast > *last)
		*last = klast;
}

void call_totals(struct call *c, struct stream_stats *rtp, struct stream_stats *rtcp,
		 int64_t *last)
{
	memset(rtp, 0, sizeof(*rtp));
	memset(rtcp, 0, sizeof(*rtcp));
	*last = 0;
	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			struct media *m = p->media[i];
			if (!m)
				continue;
			struct stream_stats s;
			int64_t l;

			stream_read_stats(&m->rtp, &s, &l);
			stream_add(rtp, &s);
			if (l > *last)
				*last = l;
			stream_read_stats(&m->rtcp, &s, &l);
			stream_add(rtcp, &s);
		}
	pthread_mutex_unlock(&c->lock);
}

struct reclaim {
	struct daemon *d;
	struct call *c;
};

static void handler_destroy(struct stream_handler *h)
{
	if (h && h->ops->destroy)
		h->ops->destroy(h);
}

static void call_free(void *arg)
{
	struct reclaim *r = arg;
	struct call *c = r->c;
	struct party *p, *next;

	for (p = c->parties; p; p = next) {
		next = p->next;
		for (unsigned i = 0; i < p->n_media; i++) {
			struct media *m = p->media[i];
			if (!m)
				continue;
			if (m->rtp.fd >= 0)
				close(m->rtp.fd);
			if (m->rtcp.fd >= 0)
				close(m->rtcp.fd);
			if (m->ports_open)
				port_pool_put(m->iface->pool_ref, m->port);
			media_socks_free(m);
			free(m->rtp.kpushed);
			free(m->rtcp.kpushed);
			free(m->rtp.ksrtp);
			free(m->rtcp.ksrtp);
			handler_destroy(m->rtp.xform);
			handler_destroy(m->rtcp.xform);
			free(m->neg);
			secure_free(m->sec);
			dtmf_rewrite_free(m->dtmf_play);
			play_clock_free(m->media_play);
			media_delay_free(m);
			dtmf_delay_free(m);
			subscribe_media_free(m);
			free(m);
		}
		dtmf_trigger_free(p);
		free(p);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->callid);
	free(c);
	free(r);
}

static const char *end_reason(enum call_end why)
{
	switch (why) {
	case CALL_END_DELETE: return "deleted";
	case CALL_END_TIMEOUT: return "RTP timeout";
	case CALL_END_SILENT_TIMEOUT: return "RTP silent timeout";
	case CALL_END_FINAL_TIMEOUT: return "final timeout";
	case CALL_END_OFFER_TIMEOUT: return "offer timeout (no answer)";
	case CALL_END_SHUTDOWN: return "shutdown";
	case CALL_END_OPERATOR: return "terminated by operator";
	default: return "ended";
	}
}

static void count_end(struct daemon *d, struct call *c, enum call_end why)
{
	struct daemon_totals *t = &d->totals;
	struct stream_stats rtp, rtcp;
	int64_t last;
	unsigned mos_low, mos_avg;
	char mos[48] = "";

	call_totals(c, &rtp, &rtcp, &last);
	pthread_mutex_lock(&c->lock);
	quality_call_mos(c, &mos_low, &mos_avg);
	pthread_mutex_unlock(&c->lock);
	if (mos_avg)
		snprintf(mos, sizeof(mos), ", MOS average %u.%u lowest %u.%u", mos_avg / 10,
			 mos_avg % 10, mos_low / 10, mos_low % 10);
	t->relayed_packets += rtp.packets + rtcp.packets;
	t->relayed_bytes += rtp.bytes + rtcp.bytes;
	t->relayed_errors += rtp.errors + rtcp.errors;
	t->managed_sessions++;
	switch (why) {
	case CALL_END_TIMEOUT: t->timeout_sessions++; break;
	case CALL_END_SILENT_TIMEOUT: t->silent_timeout_sessions++; break;
	case CALL_END_FINAL_TIMEOUT: t->final_timeout_sessions++; break;
	case CALL_END_OFFER_TIMEOUT: t->offer_timeout_sessions++; break;
	case CALL_END_DELETE: t->regular_terminated++; break;
	default: t->forced_terminated++; break;
	}
	clog(why == CALL_END_DELETE ? LOG_INFO : LOG_NOTICE, c->callid, NULL,
	     "call removed (%s): RTP %llu packets %llu bytes, RTCP %llu packets, %llu errors%s",
	     end_reason(why), (unsigned long long)rtp.packets, (unsigned long long)rtp.bytes,
	     (unsigned long long)rtcp.packets, (unsigned long long)(rtp.errors + rtcp.errors), mos);
}

void call_destroy(struct daemon *d, struct call *c, enum call_end why)
{
	struct reclaim *r;

	kernel_release_call(d, c);      /* folds the kernel's counters into the streams */
	count_end(d, c, why);
	stats_call_ended(d, c);
	metrics_call_ended(d, c);
	registry_remove(&d->reg, c);
	ice_timer_forget(d, c);         /* no ICE checks for it from now on */
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			if (!p->media[i])
				continue;
			relay_stream_del(d->relay, &p->media[i]->rtp, c->worker);
			relay_stream_del(d->relay, &p->media[i]->rtcp, c->worker);
			media_socks_unregister(d, p->media[i]);
		}
	rec_call_destroyed(d, c);       /* ends its recording, frees its capture ring */
	store_call_gone(d, c, why);     /* its Redis key goes, unless shutting down */
	hep_call_report(d, c);
	r = malloc(sizeof(*r));
	if (!r) {
		/* Cannot track it: leak rather than risk a use-after-free. */
		clog(LOG_ERR, c->callid, NULL, "out of memory: call memory not reclaimed");
		return;
	}
	r->d = d;
	r->c = c;
	relay_defer(d->relay, call_free, r);
}
