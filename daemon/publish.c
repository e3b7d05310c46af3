/* NG publish: the relay answers a publisher's offer itself (see publish.h). */
#include "publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "call_ops.h"
#include "codec_policy.h"
#include "kernel.h"
#include "load_limit.h"
#include "offer_answer.h"
#include "sluice/log.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

static bool is_te(const struct sdp_pt *p)
{
	return p->enc.len == 15 && !strncasecmp(p->enc.s, "telephone-event", 15);
}

/* The codec the relay takes, as rtpengine: want (the choice of the codec flags, -1:
 * none), else the first of the offer that is neither DTMF nor comfort noise (else the
 * very first). NULL: no RTP payload types. */
static const struct sdp_pt *first_codec(const struct sdp_pt *pts, int n, int want)
{
	for (int k = 0; k < n; k++)
		if (pts[k].pt == want)
			return &pts[k];
	for (int k = 0; k < n; k++)
		if (!is_te(&pts[k]) && pts[k].pt != 13)
			return &pts[k];
	return n > 0 ? &pts[0] : NULL;
}

/* With codec flags: the first codec the publisher may use after them (cp_offer: strip
 * removes, mask keeps, as rtpengine's publish does); -1: none. */
static int flags_choice(const struct sdp *sdp, unsigned i, const struct ng_codec_flags *f,
			struct cp_list *l, struct cp_offer *o)
{
	if (cp_list_from_sdp(sdp, i, l) || cp_offer(l, f, o))
		return -1;
	for (unsigned k = 0; k < o->a.n; k++)
		if (!cp_is_supplemental(&o->a.c[k]))
			return o->a.c[k].pt;
	return -1;
}

/* want[i] for each section of the publisher's SDP (its codec flags are not applied to
 * the offer toward the stand-in: the codec policy would then rewrite the answer). */
static void codec_choices(const struct ng_request *req, int want[SDP_MAX_MEDIA])
{
	struct sdp *sdp = NULL;
	struct cp_list *l = NULL;
	struct cp_offer *o = NULL;
	const char *why;

	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
		want[i] = -1;
	if (!ng_codec_any(&req->codec) || !(sdp = malloc(sizeof(*sdp))) ||
	    !(l = malloc(sizeof(*l))) || !(o = malloc(sizeof(*o))) ||
	    sdp_parse(sdp, req->sdp.s, req->sdp.len, &why))
		goto done;
	for (unsigned i = 0; i < sdp->n_media; i++)
		want[i] = flags_choice(sdp, i, &req->codec, l, o);
done:
	free(o);
	free(l);
	free(sdp);
}

/* The codec the relay took in each section: what subscribers are offered. */
struct taken {
	int pt;                         /* -1: none (not RTP, rejected) */
	char codec[CALL_CODEC_MAX];     /* "PCMA/8000", "opus/48000/2" */
	unsigned clock;
};

static void take(const struct sdp_pt *p, struct taken *t)
{
	t->pt = p->pt;
	t->clock = p->clock ? p->clock : 8000;
	if (!p->enc.len)
		return;
	snprintf(t->codec, sizeof(t->codec), p->channels > 1 ? "%.*s/%u/%u" : "%.*s/%u",
		 (int)p->enc.len, p->enc.s, t->clock, p->channels);
}

/* The formats of section i of the stand-in's answer, with their a=rtpmap / a=fmtp. */
static int answer_formats(const struct sdp *o, unsigned i, struct strbuf *sb,
			  struct strbuf *attrs, int want, struct taken *t)
{
	static __thread struct sdp_pt pts[128];
	const struct sdp_media *m = &o->media[i];
	int n = sdp_rtpmap(o, i, pts, 128);
	const struct sdp_pt *p = first_codec(pts, n, want);
	struct sdp_str v;
	char fb[16];
	int e;

	if (!p)                         /* not RTP (udptl, ...): what was offered */
		return sb_printf(sb, " %.*s", (int)m->formats.len, m->formats.s);
	take(p, t);
	e = sb_printf(sb, " %u", p->pt);
	if (p->rtpmap)
		e |= sb_printf(attrs, "a=rtpmap:%u %.*s/%u", p->pt, (int)p->enc.len, p->enc.s,
			       p->clock) |
		     sb_printf(attrs, p->channels > 1 ? "/%u\r\n" : "\r\n", p->channels);
	if (p->fmtp.len)
		e |= sb_printf(attrs, "a=fmtp:%u %.*s\r\n", p->pt, (int)p->fmtp.len, p->fmtp.s);
	/* its feedback types, as rtpengine answers them */
	snprintf(fb, sizeof(fb), "%u ", p->pt);
	for (unsigned k = 0; sdp_attr(o, (int)i, "rtcp-fb", k, &v); k++)
		if (v.len > strlen(fb) && !strncmp(v.s, fb, strlen(fb)))
			e |= sb_printf(attrs, "a=rtcp-fb:%.*s\r\n", (int)v.len, v.s);
	return e;
}

/* Section i of the stand-in's answer: the first codec (want: the flags' choice, -1),
 * receiving what the publisher sends. Its address is the relay's own, discard port:
 * nothing is ever sent to it (a stand-in is never wired, call.c), and the answer the
 * publisher gets is written as any answer is (an address on hold would change its
 * direction). */
static int answer_section(const struct sdp *o, unsigned i, struct strbuf *sb, int want,
			  struct taken *t)
{
	const struct sdp_media *m = &o->media[i];
	const struct sdp_conn *cn = sdp_media_conn(o, i);
	enum sdp_dir dir = sdp_media_dir(o, i);
	struct strbuf attrs;
	struct sdp_str mid, v;
	int e;

	if (!m->port)
		return sb_printf(sb, "m=%.*s 0 %.*s %.*s\r\n", (int)m->type.len, m->type.s,
				 (int)m->proto.len, m->proto.s, (int)m->formats.len, m->formats.s);
	sb_init(&attrs);
	e = sb_printf(sb, "m=%.*s 9 %.*s", (int)m->type.len, m->type.s, (int)m->proto.len,
		      m->proto.s);
	e |= answer_formats(o, i, sb, &attrs, want, t);
	if (cn && cn->present)
		e |= sb_printf(sb, "\r\nc=IN %s %s", cn->af == SDP_AF_IP6 ? "IP6" : "IP4", cn->addr);
	e |= sb_printf(sb, "\r\n");
	if (sdp_attr(o, (int)i, "mid", 0, &mid))
		e |= sb_printf(sb, "a=mid:%.*s\r\n", (int)mid.len, mid.s);
	if (attrs.len)
		e |= sb_append(sb, attrs.buf, attrs.len);
	e |= sb_printf(sb, "a=%s\r\n", dir == SDP_DIR_SENDONLY || dir == SDP_DIR_SENDRECV ||
		       dir == SDP_DIR_NONE ? "recvonly" : "inactive");
	if (m->rtcp_mux)
		e |= sb_printf(sb, "a=rtcp-mux\r\n");
	if (sdp_attr(o, (int)i, "ptime", 0, &v))      /* kept, as rtpengine does */
		e |= sb_printf(sb, "a=ptime:%.*s\r\n", (int)v.len, v.s);
	sb_free(&attrs);
	return e;
}

/* The stand-in's answer to the offer the relay wrote toward it (text of length len);
 * its o= and s= are the relay's, as the publisher gets them: a session id of the
 * publisher's own, the same for every publish of it. */
static int stand_in_answer(const struct party *p, const char *offer, size_t len,
			   const int *want, struct strbuf *out, struct taken *t, const char **err)
{
	const struct iface *f = p->media[0]->iface;
	unsigned long long id = (unsigned long long)p->created_us;
	struct sdp *o = malloc(sizeof(*o));
	const char *why = NULL;
	struct sdp_str v;
	int e;

	if (!o || sdp_parse(o, offer, len, &why)) {
		free(o);
		*err = o ? "Cannot answer the publisher's SDP" : "Out of memory";
		return o ? -EINVAL : -ENOMEM;
	}
	e = sb_printf(out, "v=0\r\no=- %llu %llu IN %s %s\r\ns=sluice\r\nt=0 0\r\n", id, id,
		      f->af == SDP_AF_IP6 ? "IP6" : "IP4", f->adv_str);
	for (unsigned n = 0; sdp_attr(o, -1, "group", n, &v); n++)
		e |= sb_printf(out, "a=group:%.*s\r\n", (int)v.len, v.s);
	for (unsigned i = 0; !e && i < o->n_media; i++)
		e = answer_section(o, i, out, want[i], &t[i]);
	free(o);
	if (e)
		*err = "Out of memory";
	return e ? -ENOMEM : 0;
}

/* The offer toward the stand-in: plain RTP (RTP/AVP: no keys), no ICE, no to-tag (it
 * never gets one), otherwise the publisher's request. */
static void offer_request(struct ng_request *r)
{
	static const char avp[] = "RTP/AVP";

	r->to_tag = (struct ng_str){ 0 };
	r->transport_protocol = (struct ng_str){ avp, sizeof(avp) - 1 };
	r->ice = NG_ICE_REMOVE;
	r->crypto.dtls = NG_DTLS_OFF;
	r->crypto.osrtp = NG_OSRTP_ACCEPT;      /* the publisher's OSRTP is answered */
	memset(&r->codec, 0, sizeof(r->codec)); /* codec_choices() applies them */
	r->loop_protect = false;
}

/* The stand-in's answer: only what shapes the SDP toward the publisher (ICE, DTLS,
 * SDES, rtcp-mux, replace, original-sendrecv) stays of the request. Nothing names the
 * stand-in (label, addresses, interfaces). */
static void answer_request(struct ng_request *r, const struct strbuf *sdp)
{
	r->to_tag = (struct ng_str){ 0 };
	r->sdp = (struct ng_str){ sdp->buf, sdp->len };
	r->label = r->to_label = r->media_address = r->address_family = (struct ng_str){ 0 };
	r->transport_protocol = (struct ng_str){ 0 };
	r->n_direction = 0;
	r->has_received_from = r->sip_source = false;
	r->trust_address = true;
	r->loop_protect = false;
	memset(&r->codec, 0, sizeof(r->codec));
	r->tos = -1;
	r->record_call = -1;
	r->endpoint_learning = -1;
	r->symmetric = r->asymmetric = r->strict_source = r->media_handover = false;
}

/* A from-tag that names a party of c must name a publisher (its peer a stand-in):
 * else -EEXIST with *err. */
static int check_tag(struct call *c, const struct ng_request *req, const char **err)
{
	struct party *p;

	if (!c || !(p = call_party_by_tag(c, req->from_tag.s, req->from_tag.len, NULL)))
		return 0;
	if (p->subscriber || p->pub_answerer || !p->peer || !p->peer->pub_answerer) {
		*err = "from-tag names a party of the call that is not a publisher";
		return -EEXIST;
	}
	return 0;
}

static int offer_phase(struct daemon *d, const struct ng_request *req, struct strbuf *sb,
		       const char **err)
{
	struct ng_request *r = malloc(sizeof(*r));
	int e;

	if (!r) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	*r = *req;
	offer_request(r);
	e = oa_offer(d, r, sb, err);
	free(r);
	return e;
}

static int answer_phase(struct daemon *d, const struct ng_request *req,
			const struct strbuf *ans, struct strbuf *sb, const char **err)
{
	struct ng_request *r = malloc(sizeof(*r));
	int e;

	if (!r) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	*r = *req;
	answer_request(r, ans);
	e = oa_answer(d, r, sb, err);
	free(r);
	return e;
}

/* The publisher's section m sends only the codec the relay took (no DTMF: the answer
 * has none), and that is what subscribers are offered (subscribe.c). Call lock held. */
static void keep_taken(struct media *m, const struct taken *t)
{
	memset(m->pts, 0, sizeof(m->pts));
	m->pts[t->pt / 8] = (uint8_t)(1u << (t->pt % 8));
	m->codec_pt = t->codec[0] ? t->pt : -1;
	memcpy(m->codec, t->codec, sizeof(m->codec));
	m->clock = t->clock;
	m->dtmf_pt = -1;
	m->dtmf_clock = 0;
}

/* Offer toward the stand-in, its answer, the answer back: the SDP for the publisher in
 * out. A new call made here goes again if a step fails. */
static int publish(struct daemon *d, const struct ng_request *req, struct strbuf *out,
		   const char **err)
{
	struct call *c = call_find(d, req->call_id.s, req->call_id.len);
	bool created = !c || c->deleted;
	struct taken taken[SDP_MAX_MEDIA];
	int want[SDP_MAX_MEDIA];
	struct strbuf offer, ans;
	struct party *p;
	int e;

	if ((e = check_tag(created ? NULL : c, req, err)))
		return e;
	sb_init(&offer);
	sb_init(&ans);
	if ((e = offer_phase(d, req, &offer, err)))
		goto done;
	c = call_find(d, req->call_id.s, req->call_id.len);
	p = c ? call_party_by_tag(c, req->from_tag.s, req->from_tag.len, NULL) : NULL;
	if (!p || !p->peer) {
		*err = "Unknown call-id";
		e = -ENOENT;
		goto done;
	}
	p->peer->pub_answerer = true;
	codec_choices(req, want);
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
		taken[i] = (struct taken){ .pt = -1 };
	if ((e = stand_in_answer(p, offer.buf ? offer.buf : "", offer.len, want, &ans, taken,
				    err)) ||
	    (e = answer_phase(d, req, &ans, out, err)))
		goto fail;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < p->n_media; i++)
		if (p->media[i] && taken[i].pt >= 0)
			keep_taken(p->media[i], &taken[i]);
	pthread_mutex_unlock(&c->lock);
	call_wire(p);                   /* pub_answerer: nothing is forwarded (call.c) */
	kernel_sync_call(d, c);
	clog(LOG_INFO, c->callid, p->tags[0].tag, "publish: %s", created ? "new" : "updated");
	goto done;
fail:
	if (created)
		call_destroy(d, c, CALL_END_DELETE);
done:
	sb_free(&offer);
	sb_free(&ans);
	return e;
}

int publish_command(struct daemon *d, const struct ng_request *req, struct arena *a,
		    struct bval *reply, const char **err)
{
	struct strbuf sb;
	int e;

	if (!req->sdp.len) {
		*err = "No SDP body in message";
		return -EINVAL;
	}
	if (!req->from_tag.len) {
		*err = "No from-tag in message";
		return -EINVAL;
	}
	sb_init(&sb);
	e = publish(d, req, &sb, err);
	if (e == OA_LOAD_LIMIT) {
		if (req->supports_load_limit) {     /* as an offer's (ng_commands.c) */
			bv_dict_add_str(a, reply, "result", "load limit");
			bv_dict_add_str(a, reply, "message", *err);
			e = 0;
		} else {
			*err = LOAD_LIMIT_ERROR;
		}
	} else if (!e) {
		bv_dict_add(a, reply, "sdp", bv_new_str(a, sb.buf ? sb.buf : "", sb.len));
		bv_dict_add_str(a, reply, "result", "ok");
	}
	sb_free(&sb);
	return e;
}
