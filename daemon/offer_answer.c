/* Offer/answer processing: SDP in, call model updated, SDP out. */
#include "offer_answer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bundle.h"
#include "call_ops.h"
#include "kernel.h"
#include "dtmf_delay.h"
#include "media_block.h"
#include "latch.h"
#include "load_limit.h"
#include "oa_codecs.h"
#include "oa_origin.h"
#include "secure.h"
#include "sluice/log.h"

struct oa {
	struct daemon *d;
	const struct ng_request *req;
	struct sdp *sdp;
	struct call *call;
	bool offer;
	struct oa_codecs *codecs;       /* codec rewrite of this request, NULL if none */
	char tp_opt[32];                /* transport-protocol option, NUL-terminated */
};

static struct secure_ctx sec_ctx(const struct oa *oa)
{
	return (struct secure_ctx){ .d = oa->d, .req = oa->req, .sdp = oa->sdp,
				    .offer = oa->offer, .tp_opt = oa->tp_opt };
}

static bool ng_is(const struct ng_str *s, const char *lit)
{
	return s->s && strlen(lit) == s->len && !strncasecmp(s->s, lit, s->len);
}

static const struct iface *iface_by_name(struct daemon *d, const struct ng_str *name)
{
	for (unsigned i = 0; i < d->n_ifaces; i++)
		if (strlen(d->ifaces[i].name) == name->len &&
		    !strncmp(d->ifaces[i].name, name->s, name->len))
			return &d->ifaces[i];
	return NULL;
}

static const struct iface *iface_by_af(struct daemon *d, enum sdp_af af)
{
	for (unsigned i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].af == af)
			return &d->ifaces[i];
	return &d->ifaces[0];
}

static enum sdp_af sdp_family(const struct sdp *sdp)
{
	for (unsigned i = 0; i < sdp->n_media; i++) {
		const struct sdp_conn *c = sdp_media_conn(sdp, i);
		if (c && c->present)
			return c->af;
	}
	return sdp->conn.present ? sdp->conn.af : SDP_AF_IP4;
}

/* The family of the address media of this SDP's owner is at: the SIP source's with
 * SIP-source-address, else the SDP's. */
static enum sdp_af owner_family(const struct oa *oa)
{
	const struct ng_request *r = oa->req;

	if (r->sip_source && r->has_received_from)
		return r->received_from.sa.sa_family == AF_INET6 ? SDP_AF_IP6 : SDP_AF_IP4;
	return sdp_family(oa->sdp);
}

/* Interface for new media of one side: the one its media already uses (a re-offer that
 * adds a stream keeps the side on its interface, as rtpengine does); else "direction"
 * names it (first entry: the offerer's side); else address-family (for the receiving
 * side); else the family of the SDP owner's address. */
static const struct iface *pick_iface(struct oa *oa, struct party *p, bool offerer_side)
{
	const struct ng_request *r = oa->req;
	unsigned di = offerer_side ? 0 : 1;
	const struct iface *i;

	for (unsigned k = 0; k < p->n_media; k++)
		if (p->media[k])
			return p->media[k]->iface;
	if (di < r->n_direction && (i = iface_by_name(oa->d, &r->direction[di])))
		return i;
	if (!offerer_side && ng_is(&r->address_family, "IP6"))
		return iface_by_af(oa->d, SDP_AF_IP6);
	if (!offerer_side && ng_is(&r->address_family, "IP4"))
		return iface_by_af(oa->d, SDP_AF_IP4);
	return iface_by_af(oa->d, owner_family(oa));
}

/* The same logical interface in another family, else any of that family. */
static const struct iface *iface_in_family(struct daemon *d, const struct iface *cur,
					   enum sdp_af af)
{
	for (unsigned i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].af == af && !strcmp(d->ifaces[i].name, cur->name))
			return &d->ifaces[i];
	return iface_by_af(d, af);
}

/* At the answer rtpengine picks each side's interface again: from the answer's
 * direction (the answerer's side first), else, for the answerer, the family of its
 * answer when that is not the family it was offered in. NULL: the side has no media. */
static const struct iface *answer_iface(struct oa *oa, const struct party *p, bool answerer)
{
	const struct ng_request *r = oa->req;
	unsigned di = answerer ? 0 : 1;
	const struct iface *cur = NULL, *i;

	for (unsigned k = 0; k < p->n_media && !cur; k++)
		if (p->media[k])
			cur = p->media[k]->iface;
	if (!cur)
		return NULL;
	if (di < r->n_direction && (i = iface_by_name(oa->d, &r->direction[di])))
		return i;
	if (answerer && !r->n_direction && cur->af != owner_family(oa))
		return iface_in_family(oa->d, cur, owner_family(oa));
	return cur;
}

static int rebind_side(struct oa *oa, struct party *p, bool answerer)
{
	const struct iface *to = answer_iface(oa, p, answerer);
	int e = 0;

	for (unsigned k = 0; to && k < p->n_media && !e; k++)
		if (p->media[k])
			e = media_rebind(oa->d, p->media[k], to);
	return e;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static void tp_option(struct oa *oa)
{
	const struct ng_str *tp = &oa->req->transport_protocol;

	copy_str(oa->tp_opt, sizeof(oa->tp_opt), tp->s ? tp->s : "", tp->len);
}

/* The telephone-event type whose clock is the first audio format's (RFC 4733 wants the
 * audio's clock), else the first one listed. */
static void media_dtmf_pt(const struct sdp *sdp, unsigned i, struct media *m)
{
	struct sdp_pt pts[128];
	int n = sdp_rtpmap(sdp, i, pts, 128);
	unsigned audio = 0;

	m->dtmf_pt = -1;
	m->dtmf_clock = 0;
	for (int k = 0; k < n; k++) {
		bool te = pts[k].enc.len == 15 && !strncasecmp(pts[k].enc.s, "telephone-event", 15);

		if (!te && !audio && pts[k].pt != 13 && pts[k].clock)
			audio = pts[k].clock;
		if (te && (m->dtmf_pt < 0 || (m->dtmf_clock != audio && pts[k].clock == audio))) {
			m->dtmf_pt = pts[k].pt;
			m->dtmf_clock = pts[k].clock;
		}
	}
}

static void media_codec(const struct sdp *sdp, unsigned i, struct media *m)
{
	struct sdp_str v;

	m->codec[0] = '\0';
	m->codec_pt = -1;
	m->clock = 8000;                /* the static audio payload types but a few */
	media_dtmf_pt(sdp, i, m);
	if (!sdp_attr(sdp, (int)i, "rtpmap", 0, &v))
		return;
	m->codec_pt = atoi(v.s);
	const char *sp = memchr(v.s, ' ', v.len);     /* "0 PCMU/8000" */
	if (sp)
		copy_str(m->codec, sizeof(m->codec), sp + 1, v.len - (size_t)(sp + 1 - v.s));
	const char *sl = strchr(m->codec, '/');
	if (sl && atoi(sl + 1) > 0)
		m->clock = (unsigned)atoi(sl + 1);
}

/* The address the owner of this SDP receives media on. */
static int media_addr(struct oa *oa, unsigned i, union sockaddr_u *a, bool *hold)
{
	const struct ng_request *r = oa->req;
	const struct sdp_conn *c = sdp_media_conn(oa->sdp, i);

	*hold = false;
	if (r->media_address.len)
		return netaddr_parse_ip(r->media_address.s, r->media_address.len, 0, a);
	if (c && c->present) {
		if (netaddr_parse_ip(c->addr, strlen(c->addr),
				     c->af == SDP_AF_IP6 ? AF_INET6 : AF_INET, a))
			return -EINVAL;
		*hold = netaddr_is_any(a);
		if (r->sip_source && r->has_received_from && !*hold)
			*a = r->received_from;
		return 0;
	}
	if (r->has_received_from) {
		*a = r->received_from;
		return 0;
	}
	return -EINVAL;
}

/* New SDP from the stream's owner: another endpoint starts learning afresh, the same
 * one reopens learning (a re-INVITE is how a phone behind a re-bound NAT is found). */
static void set_advertised(struct stream *s, const union sockaddr_u *a)
{
	if (s->has_advertised && netaddr_eq(&s->advertised, a)) {
		latch_relearn(s);
		return;
	}
	s->advertised = *a;
	s->has_advertised = true;
	latch_reset(s);
}

/* What sources are ranked against while learning (latch.h): the advertised endpoint,
 * or, for a private SDP address the proxy did not vouch for (trust-address,
 * media-address), the SIP source with the SDP port: a NAT'd phone's packets come from
 * its NAT's public address. */
static void set_expected(const struct ng_request *r, struct stream *s)
{
	s->expected = s->advertised;
	s->has_expected = s->has_advertised;
	if (!s->has_advertised || !r->has_received_from || r->trust_address ||
	    r->media_address.len || !netaddr_is_private(&s->advertised))
		return;
	s->expected = r->received_from;
	netaddr_set_port(&s->expected, netaddr_port(&s->advertised));
}

/* Record what the SDP says about its owner's media i. Call lock held. */
static void media_update(struct oa *oa, struct media *m, unsigned i,
			 const union sockaddr_u *addr, bool hold)
{
	const struct sdp_media *sm = &oa->sdp->media[i];
	union sockaddr_u rtp = *addr, rtcp = *addr;

	copy_str(m->type, sizeof(m->type), sm->type.s, sm->type.len);
	copy_str(m->proto, sizeof(m->proto), sm->proto.s, sm->proto.len);
	media_codec(oa->sdp, i, m);
	m->dir = sdp_media_dir(oa->sdp, i);
	m->has_sdp_ssrc = sdp_media_ssrc(oa->sdp, i, &m->sdp_ssrc);
	m->rejected = sm->port == 0;
	m->hold_addr = hold;
	netaddr_set_port(&rtp, sm->port);
	if (sm->has_rtcp && sm->rtcp_conn.present)
		netaddr_parse_ip(sm->rtcp_conn.addr, strlen(sm->rtcp_conn.addr), 0, &rtcp);
	netaddr_set_port(&rtcp, sm->has_rtcp ? sm->rtcp_port : (uint16_t)(sm->port + 1));
	set_advertised(&m->rtp, &rtp);
	set_advertised(&m->rtcp, &rtcp);
	set_expected(oa->req, &m->rtp);
	set_expected(oa->req, &m->rtcp);
}

/* rtcp-mux negotiation (RFC 5761) for media i: offer decides what the answerer is
 * offered; the answer settles what each side does. As rtpengine documents them, demux
 * keeps mux from the answerer and accepts it from the offerer, reject the opposite
 * half: the answerer is offered what the offerer offered (with `offer`: always), the
 * offerer's mux is declined in the answer (mux_answer). */
static void mux_offer(struct oa *oa, struct media *own, struct media *peer, unsigned i)
{
	unsigned f = oa->req->rtcp_mux;

	own->rtcp_mux_offered = oa->sdp->media[i].rtcp_mux;
	peer->rtcp_mux_offered = (own->rtcp_mux_offered && !(f & NG_MUX_DEMUX)) ||
				 (f & (NG_MUX_REQUIRE | NG_MUX_OFFER));
	/* Until the answer, each side may still send RTCP on port + 1; a side that muxes
	 * and is offered mux again goes on muxing (a re-offer names the RTP port in its
	 * a=rtcp, as rtpengine's does). */
	own->rtcp_mux = false;
	peer->rtcp_mux = peer->rtcp_mux && peer->rtcp_mux_offered;
	/* Remember the policy for the answer in the offerer's media. */
	own->mux_policy = f;
}

static void mux_answer(struct oa *oa, struct media *own, struct media *offerer, unsigned i)
{
	unsigned f = offerer->mux_policy | oa->req->rtcp_mux;

	own->rtcp_mux = own->rtcp_mux_offered && oa->sdp->media[i].rtcp_mux;
	if (!offerer->rtcp_mux_offered)
		offerer->rtcp_mux = false;
	else if (f & (NG_MUX_DEMUX | NG_MUX_ACCEPT))
		offerer->rtcp_mux = true;
	else if (offerer->bundle || offerer->bundle_tag)
		offerer->rtcp_mux = true;       /* BUNDLE needs it (RFC 8843 9.3) */
	else if (f & NG_MUX_REJECT)
		offerer->rtcp_mux = false;
	else
		offerer->rtcp_mux = own->rtcp_mux;
}

/* own: p sent the SDP (the label names it) */
static void party_opts(struct oa *oa, struct party *p, bool own)
{
	const struct ng_request *r = oa->req;

	p->opts.strict_source |= r->strict_source;
	if (r->asymmetric)
		p->opts.asymmetric = true;
	if (r->symmetric)
		p->opts.asymmetric = false;
	p->opts.port_latching |= r->port_latching;
	p->opts.media_handover |= r->media_handover;
	if (r->endpoint_learning >= 0)
		p->call->learning = (int8_t)r->endpoint_learning;   /* for the whole call */
	/* set-label selects-and-sets in other commands; offer/answer ignore it, as
	 * rtpengine does */
	if (own && r->label.len && !r->set_label)
		copy_str(p->label, sizeof(p->label), r->label.s, r->label.len);
	if (own)                /* delay-buffer, DTMF-security (media_block.h) */
		media_block_dtmf_opts(p, r);
}

/* TOS key, as rtpengine 10.5 does it: a value sets it for the whole call, a negative
 * one keeps it; an offer without it (or with 256 or more) goes back to --tos, an answer
 * without it keeps it. */
static void apply_tos(struct oa *oa)
{
	int t = oa->req->tos;

	if (t == -2 && !oa->offer)
		t = -1;
	call_set_tos(oa->call, t >= 0 ? t : t == -2 ? oa->d->cfg->tos : oa->call->tos);
}

/* Apply the SDP of `owner`; make sure `peer` has media (with ports) for every section. */
static int apply_sdp(struct oa *oa, struct party *owner, struct party *peer, const char **err)
{
	const struct iface *own_if = pick_iface(oa, owner, oa->offer);
	const struct iface *peer_if = pick_iface(oa, peer, !oa->offer);
	struct media *m, *pm;
	int e;

	for (unsigned i = 0; i < oa->sdp->n_media; i++) {
		e = media_ensure(oa->d, owner, i, own_if, &m);
		if (!e)
			e = media_ensure(oa->d, peer, i, peer_if, &pm);
		if (e) {
			*err = e == -ENOSPC ? "Ran out of ports" : "Failed to open media sockets";
			return e;
		}
	}
	if (!oa->offer && ((e = rebind_side(oa, owner, true)) || (e = rebind_side(oa, peer, false)))) {
		*err = e == -ENOSPC ? "Ran out of ports" : "Failed to open media sockets";
		return e;
	}
	pthread_mutex_lock(&oa->call->lock);
	bundle_in(oa->sdp, owner, peer, oa->offer);
	pthread_mutex_unlock(&oa->call->lock);
	for (unsigned i = 0; i < oa->sdp->n_media; i++) {
		union sockaddr_u addr;
		bool hold;

		m = owner->media[i];
		pm = peer->media[i];
		if (media_addr(oa, i, &addr, &hold)) {
			*err = "Unusable address in SDP connection line";
			return -EINVAL;
		}
		/* with ICE, c=0.0.0.0 means "see the candidates", not hold */
		hold = hold && !secure_sdp_has_ice(oa->sdp, i);
		pthread_mutex_lock(&oa->call->lock);
		media_update(oa, m, i, &addr, hold);
		if (oa->offer)
			mux_offer(oa, m, pm, i);
		else
			mux_answer(oa, m, pm, i);
		struct secure_ctx sx = sec_ctx(oa);
		e = secure_in(&sx, m, i, err);
		pthread_mutex_unlock(&oa->call->lock);
		if (e)
			return e;
	}
	pthread_mutex_lock(&oa->call->lock);     /* the workers read them (latch.c) */
	party_opts(oa, owner, true);
	party_opts(oa, peer, false);
	apply_tos(oa);
	pthread_mutex_unlock(&oa->call->lock);
	call_wire(owner);
	return 0;
}

static const char *const extmap[] = { "extmap", NULL };

/* Media of an OSRTP call (RFC 8643), offered so by either side or by us. rtpengine
 * runs such media through its codec path once the answer is in, and that path writes
 * a=ptime into every SDP that had none; proxies and phones see the same from us. */
static bool osrtp_media(const struct media *a, const struct media *b)
{
	return (a->sec && (a->sec->osrtp_in || a->sec->osrtp_out)) ||
	       (b->sec && (b->sec->osrtp_in || b->sec->osrtp_out));
}

/* ICE=force-relay (secure.h, ice_policy_relay): the section keeps the sender's c=,
 * m= port and a=rtcp, where the peer's media goes unless its ICE picks sluice's relay
 * candidates; the session c= too if it is the first section's. */
static void keep_endpoint(struct sdp_media_rewrite *mr)
{
	mr->set_port = false;
	mr->addr = NULL;
	mr->rewrite_rtcp = mr->write_rtcp = false;
}

/* Build the rewrite that points the SDP at `out`'s sockets. */
static void build_rewrite(struct oa *oa, struct party *owner, struct party *out,
			  struct sdp_rewrite *rw)
{
	const struct ng_request *r = oa->req;
	bool remove_ice = true;         /* candidates are ours (ice_policy.c), never relayed */

	memset(rw, 0, sizeof(*rw));
	rw->reorder = true;             /* rtpengine's layout: what proxies and phones expect */
	rw->remove_ice = remove_ice;
	for (unsigned i = 0; i < oa->sdp->n_media; i++) {
		struct sdp_media_rewrite *mr = &rw->media[i];
		const struct media *pm = out->media[i], *om = owner->media[i];
		bool rejected = oa->sdp->media[i].port == 0;

		mr->set_port = true;
		mr->port = rejected ? 0 : pm->port;
		mr->af = pm->iface->af;
		mr->addr = om->hold_addr && !r->replace_zero_address
			   ? (pm->iface->af == SDP_AF_IP6 ? "::" : "0.0.0.0") : pm->iface->adv_str;
		mr->keep_dir = r->original_sendrecv;
		if (r->strip_extmap)
			mr->drop_more = extmap;
		mr->rewrite_rtcp = true;
		mr->write_rtcp = !r->no_rtcp_attr && !rejected;
		/* an offer that requires mux names the RTP port for RTCP, as rtpengine's does */
		mr->rtcp_port = pm->rtcp_mux || (oa->offer && (r->rtcp_mux & NG_MUX_REQUIRE))
				? pm->port : (uint16_t)(pm->port + 1);
		mr->full_rtcp = r->full_rtcp_attr;
		if (oa->offer)
			mr->rtcp_mux = pm->rtcp_mux_offered ? SDP_MUX_ADD : SDP_MUX_REMOVE;
		else
			mr->rtcp_mux = pm->rtcp_mux ? SDP_MUX_ADD : SDP_MUX_REMOVE;
		mr->remove_ice = remove_ice;
		mr->proto = oa->tp_opt[0] ? oa->tp_opt : NULL;
		/* RFC 2543 hold (c=0.0.0.0) said "do not send to me": say it with a direction
		 * too, as peers may ignore the null address. */
		if (om->hold_addr && !r->original_sendrecv) {
			enum sdp_dir dir = sdp_media_dir(oa->sdp, i);
			if (dir == SDP_DIR_SENDRECV)
				mr->dir = SDP_DIR_SENDONLY;
			else if (dir == SDP_DIR_RECVONLY)
				mr->dir = SDP_DIR_INACTIVE;
		}
		/* (not around a publish: rtpengine answers that itself, publish.h) */
		if (!rejected && osrtp_media(pm, om) && (!oa->offer || oa->call->answered) &&
		    !owner->pub_answerer && !out->pub_answerer &&
		    !sdp_attr(oa->sdp, (int)i, "ptime", 0, NULL))
			mr->ptime = 20;
		if (ice_policy_relay(r, oa->sdp, i))
			keep_endpoint(mr);
		if (i == 0) {
			rw->session_conn = mr->addr;
			rw->session_conn_af = mr->af;
		}
	}
	if (r->replace_origin && out->n_media) {
		rw->origin_addr = out->media[0]->iface->adv_str;
		rw->origin_af = out->media[0]->iface->af;
	}
	rw->keep_dir = r->original_sendrecv;
	if (r->strip_extmap)
		rw->drop_more = extmap;
	oa_codecs_rewrite(oa->codecs, rw);
}

/* loop-protect: our marker in the SDP means it already went through this relay. */
static bool looped(struct oa *oa)
{
	struct sdp_str v;

	for (unsigned n = 0; sdp_attr(oa->sdp, -1, "sluice", n, &v); n++)
		if (v.len == strlen(oa->d->instance_id) &&
		    !memcmp(v.s, oa->d->instance_id, v.len))
			return true;
	return false;
}

static int add_marker(struct oa *oa, struct strbuf *out)
{
	char line[64];
	const char *m = out->len ? strstr(out->buf, "\r\nm=") : NULL;
	size_t at = m ? (size_t)(m - out->buf) + 2 : out->len;
	int n = snprintf(line, sizeof(line), "a=sluice:%s\r\n", oa->d->instance_id);

	if (sb_append(out, line, (size_t)n))
		return -ENOMEM;
	memmove(out->buf + at + n, out->buf + at, out->len - at - (size_t)n);
	memcpy(out->buf + at, line, (size_t)n);
	return 0;
}

/* Security and ICE lines toward `out` (secure.h): lines[i] for media i, lines[n] for
 * the session. Call lock held. */
static int secure_rewrite(struct oa *oa, struct party *owner, struct party *out,
			  struct sdp_rewrite *rw, struct strbuf *lines, const char **err)
{
	struct secure_ctx sx = sec_ctx(oa);
	unsigned n = oa->sdp->n_media;
	size_t from[SDP_MAX_MEDIA];
	int e;

	for (unsigned i = 0; i < n; i++) {
		if (out->media[i]->bundle)
			continue;
		from[i] = lines[i].len;
		e = secure_out(&sx, out->media[i], owner->media[i], i, &rw->media[i], &lines[i],
			       err);
		if (e)
			return e;
	}
	/* BUNDLE members carry the tagged section's transport lines (RFC 8843 lets an
	 * answer leave them out; WebRTC stacks repeat them, and so do we) */
	for (unsigned i = 0; i < n; i++) {
		const struct media *t = out->media[i]->bundle;
		unsigned k = t ? t->index - 1 : 0;

		if (!t || !rw->media[i].port)
			continue;
		rw->media[i].proto = rw->media[k].proto;
		rw->media[i].drop_attrs = rw->media[k].drop_attrs;
		if (lines[k].len > from[k] &&
		    sb_append(&lines[i], lines[k].buf + from[k], lines[k].len - from[k])) {
			*err = "Out of memory";
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < n; i++)
		rw->media[i].append = lines[i].len ? lines[i].buf : NULL;
	secure_session_out(&sx, out, rw, &lines[n]);
	rw->append = lines[n].len ? lines[n].buf : NULL;
	return 0;
}

static int emit(struct oa *oa, struct party *owner, struct party *out, struct strbuf *sb,
		const char **err)
{
	struct sdp_rewrite *rw = malloc(sizeof(*rw));
	struct strbuf *lines = calloc(SDP_MAX_MEDIA + 1, sizeof(*lines));
	struct secure_ctx sx = sec_ctx(oa);
	int e;

	if (!rw || !lines) {
		free(rw);
		free(lines);
		*err = "Out of memory";
		return -ENOMEM;
	}
	for (unsigned i = 0; i <= SDP_MAX_MEDIA; i++)
		sb_init(&lines[i]);
	e = secure_check_proto(&sx, err);
	if (!e) {
		build_rewrite(oa, owner, out, rw);
		pthread_mutex_lock(&oa->call->lock);
		bundle_out(oa->sdp, out, oa->offer, rw, lines);
		e = secure_rewrite(oa, owner, out, rw, lines, err);
		pthread_mutex_unlock(&oa->call->lock);
	}
	if (!e) {
		e = sdp_emit(oa->sdp, rw, sb);
		if (e)
			*err = "Out of memory";
	}
	if (!e && oa->req->loop_protect)
		e = add_marker(oa, sb);
	if (!e && oa_origin_fix(out, sb, oa->req->replace_username,
				oa->req->replace_sdp_version) == -ENOMEM) {
		*err = "Out of memory";
		e = -ENOMEM;
	}
	if (!e && oa->req->replace_session_name && oa_session_name_fix(out, sb) == -ENOMEM) {
		*err = "Out of memory";
		e = -ENOMEM;
	}
	if (!e)
		secure_wire(owner);
	for (unsigned i = 0; i <= SDP_MAX_MEDIA; i++)
		sb_free(&lines[i]);
	free(lines);
	free(rw);
	return e;
}

static int parse(struct oa *oa, const char **err)
{
	static __thread char reason[160];
	const char *why = NULL;
	int e;

	oa->sdp = malloc(sizeof(*oa->sdp));
	if (!oa->sdp) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	e = sdp_parse(oa->sdp, oa->req->sdp.s, oa->req->sdp.len, &why);
	if (e) {
		snprintf(reason, sizeof(reason), "Failed to parse SDP: %s",
			 why ? why : (e == -E2BIG ? "too large" : "malformed"));
		*err = reason;
		return e;
	}
	if (oa->sdp->n_media == 0) {
		*err = "Failed to parse SDP: no media sections";
		return -EINVAL;
	}
	bundle_sdp_fix(oa->sdp);
	return 0;
}

static void link_peers(struct party *a, struct party *b)
{
	a->peer = b;
	b->peer = a;
}

static int tag_party(struct party *p, const struct ng_str *tag, const struct ng_str *via,
		     const char **err)
{
	if (party_add_tag(p, tag->s, tag->len, via->s, via->len)) {
		*err = "Too many tags (forks) or tag too long";
		return -EINVAL;
	}
	return 0;
}

int oa_offer(struct daemon *d, const struct ng_request *req, struct strbuf *out,
	     const char **err)
{
	struct oa oa = { .d = d, .req = req, .offer = true };
	struct party *x, *y = NULL;
	bool created = false;
	int e;

	if ((e = parse(&oa, err)))
		goto done;
	tp_option(&oa);
	if (req->loop_protect && looped(&oa)) {
		e = sb_append(out, req->sdp.s, req->sdp.len);
		goto done;
	}
	oa.call = call_find(d, req->call_id.s, req->call_id.len);
	if (oa.call && oa.call->deleted) {      /* call-id reused during delete-delay */
		call_destroy(d, oa.call, CALL_END_DELETE);
		oa.call = NULL;
	}
	if (!oa.call) {
		if ((*err = load_refuse(d))) {
			d->totals.rejected_sessions++;
			e = OA_LOAD_LIMIT;
			goto done;
		}
		oa.call = call_create(d, req->call_id.s, req->call_id.len);
		created = true;
	}
	e = -ENOMEM;
	*err = "Out of memory";
	if (!oa.call)
		goto done;
	x = call_party_by_tag(oa.call, req->from_tag.s, req->from_tag.len, NULL);
	if (!x && (!(x = call_party_new(oa.call)) ||
		   (e = tag_party(x, &req->from_tag, &req->via_branch, err))))
		goto fail;
	if (req->to_tag.len)
		y = call_party_by_tag(oa.call, req->to_tag.s, req->to_tag.len, NULL);
	if (!y)
		y = x->peer;
	if (!y) {
		e = -ENOMEM;
		if (!(y = call_party_new(oa.call)))
			goto fail;
		if (req->to_tag.len && (e = tag_party(y, &req->to_tag, &req->via_branch, err)))
			goto fail;
	}
	link_peers(x, y);
	oa.call->last_signal_us = mono_us();
	if ((e = apply_sdp(&oa, x, y, err)) ||
	    (e = oa_codecs_offer(&oa.codecs, req, oa.sdp, x, err)) ||
	    (e = emit(&oa, x, y, out, err)))
		goto fail;
	dtmf_delay_wire(oa.call);       /* DTMF-delay plays with the new codecs */
	kernel_sync_call(d, oa.call);
	clog(LOG_INFO, oa.call->callid, x->tags[0].tag, "offer processed: %u media, %s",
	     oa.sdp->n_media, created ? "new call" : "existing call");
	goto done;
fail:
	if (created)
		call_destroy(d, oa.call, CALL_END_DELETE);
done:
	oa_codecs_free(oa.codecs);
	free(oa.sdp);
	return e;
}

int oa_answer(struct daemon *d, const struct ng_request *req, struct strbuf *out,
	      const char **err)
{
	struct oa oa = { .d = d, .req = req, .offer = false };
	struct party *x, *y, *t;
	int e;

	if ((e = parse(&oa, err)))
		goto done;
	tp_option(&oa);
	e = -ENOENT;
	oa.call = call_find(d, req->call_id.s, req->call_id.len);
	if (!oa.call) {
		*err = "Unknown call-id";
		goto done;
	}
	x = call_party_by_tag(oa.call, req->from_tag.s, req->from_tag.len, NULL);
	if (!x || !x->peer) {
		*err = "Unknown from-tag";
		goto done;
	}
	y = x->peer;
	if (req->to_tag.len) {
		t = call_party_by_tag(oa.call, req->to_tag.s, req->to_tag.len, NULL);
		if (t && t != y && t->peer == x)
			y = t;
		else if (!t && (e = tag_party(y, &req->to_tag, &req->via_branch, err)))
			goto done;
		if (!t && y->n_tags > 1)
			clog(LOG_INFO, oa.call->callid, req->to_tag.s ? y->tags[y->n_tags - 1].tag
				: NULL, "forked answer: branch %u of this offer", y->n_tags);
	}
	oa.call->last_signal_us = mono_us();
	if ((e = apply_sdp(&oa, y, x, err)) ||
	    (e = oa_codecs_answer(&oa.codecs, req, oa.sdp, y, x, err)) ||
	    (e = emit(&oa, y, x, out, err)))
		goto done;
	oa.call->answered = true;
	dtmf_delay_wire(oa.call);       /* DTMF-delay plays with the new codecs */
	kernel_sync_call(d, oa.call);
	secure_kick(d, oa.call);
	clog(LOG_INFO, oa.call->callid, x->tags[0].tag, "answer processed: %u media",
	     oa.sdp->n_media);
done:
	oa_codecs_free(oa.codecs);
	free(oa.sdp);
	return e;
}
