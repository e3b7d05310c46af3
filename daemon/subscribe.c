/* NG subscribe request / subscribe answer / unsubscribe: copies of parties' media to a
 * subscriber party (see subscribe.h). */
#include "subscribe.h"
#include "sluice/be.h"
#include "subscribe_srtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "call.h"
#include "call_ops.h"
#include "kernel.h"
#include "latch.h"
#include "media_handler.h"
#include "sluice/codec.h"
#include "sluice/log.h"
#include "sluice/rtp.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"
#include "sluice/transcode.h"

#define MAX_SOURCES 8

/* A subscriber's section that gets its own codec: the source's packets go through a
 * transcoder; out and pkt are its output space (the worker must not allocate). */
struct sub_xcode {
	struct transcode *xc;
	int in_pt, in_dtmf;             /* the source's types it takes */
	struct transcode_out out[TRANSCODE_MAX_OUT];
	uint8_t pkt[12 + TRANSCODE_MAX_PAYLOAD];
};

static void xcode_free(struct sub_xcode *x)
{
	if (!x)
		return;
	transcode_destroy(x->xc);
	free(x);
}

void subscribe_media_free(struct media *m)
{
	xcode_free(m->sub_xc);
	m->sub_xc = NULL;
}

static bool is_cmd(const struct ng_request *req, const char *name)
{
	int i = ng_cmd_lookup(req->command.s, req->command.len);

	return i >= 0 && !strcmp(ng_cmd_spelling((size_t)i), name);
}

static struct party *by_tag(struct call *c, const struct ng_str *t)
{
	return t->len ? call_party_by_tag(c, t->s, t->len, NULL) : NULL;
}

/* The parties to copy: from-tags, else from-tag, else (all) every party that is not
 * itself a subscriber. -ENOENT: a tag that names no party. */
static int sources(struct call *c, const struct ng_request *req, struct party **out,
		   unsigned *n)
{
	*n = 0;
	for (unsigned i = 0; i < req->n_from_tags && *n < MAX_SOURCES; i++)
		if (!(out[(*n)++] = by_tag(c, &req->from_tags[i])))
			return -ENOENT;
	if (!req->n_from_tags && req->from_tag.len) {
		if (!(out[0] = by_tag(c, &req->from_tag)))
			return -ENOENT;
		*n = 1;
	}
	if (!*n && req->all)
		for (struct party *p = c->parties; p && *n < MAX_SOURCES; p = p->next)
			if (!p->subscriber && !p->pub_answerer)
				out[(*n)++] = p;
	return *n ? 0 : -EINVAL;
}

/* Stops every copy to s's sections. Call lock held. */
static void detach(struct call *c, struct party *s)
{
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			struct media *m = p->media[i];
			unsigned k = 0;

			for (unsigned j = 0; m && j < m->n_subs; j++)
				if (m->subs[j]->media->party != s)
					m->subs[k++] = m->subs[j];
			if (m)
				m->n_subs = (uint8_t)k;
		}
}

static bool has_pt(const struct media *m, unsigned pt)
{
	return m->pts[pt / 8] & (1u << (pt % 8));
}

/* "opus/48000/2" -> its codec definition; NULL when the library has no encoder. */
static const struct codec_def *def_of(const char *codec)
{
	const char *sl = strchr(codec, '/');
	unsigned clock = sl ? (unsigned)strtoul(sl + 1, NULL, 10) : 0;
	const struct codec_def *def = codec_find(codec, sl ? (size_t)(sl - codec) : strlen(codec),
						 clock, 0);

	return def && def->ops ? def : NULL;
}

/* a=rtpmap of one payload type of the source; false: a dynamic type it cannot name. */
static bool rtpmap(const struct media *src, unsigned pt, struct strbuf *sb)
{
	const struct codec_def *def = codec_by_static_pt(pt);

	if ((int)pt == src->codec_pt && src->codec[0])
		return !sb_printf(sb, "a=rtpmap:%u %s\r\n", pt, src->codec);
	if ((int)pt == src->dtmf_pt)
		return !sb_printf(sb, "a=rtpmap:%u telephone-event/%u\r\na=fmtp:%u 0-15\r\n", pt,
				  src->dtmf_clock ? src->dtmf_clock : 8000, pt);
	if (def)
		return !sb_printf(sb, "a=rtpmap:%u %s/%u\r\n", pt, def->name, def->clock_rate);
	if (pt == 13)
		return !sb_printf(sb, "a=rtpmap:13 CN/8000\r\n");
	return pt < 96;                 /* another static type: its number says it all */
}

/* The codec a source's payload type carries; NULL: unknown or not audio. */
static const struct codec_def *src_def(const struct media *src, unsigned pt)
{
	if ((int)pt == src->codec_pt && src->codec[0])
		return def_of(src->codec);
	return codec_by_static_pt(pt);
}

/* Codecs the request's codec-transcode list adds to the offer: each one the codec
 * library encodes and the source does not have, on its static type or a free dynamic
 * one. */
static int offer_extra(const struct media *src, const struct ng_codec_flags *f,
		       uint8_t used[16], struct strbuf *sb, struct strbuf *maps)
{
	int e = 0;

	for (unsigned i = 0; i < f->n[NG_CODEC_TRANSCODE]; i++) {
		struct ng_codec_name enc, fmtp;
		unsigned clock, ch, pt = 96;
		const struct codec_def *def;
		bool have = false;

		ng_codec_name_split(&f->list[NG_CODEC_TRANSCODE][i], &enc, &clock, &ch, &fmtp);
		def = codec_find(enc.s, enc.len, clock, ch);
		if (!def || !def->ops)
			continue;
		for (unsigned k = 0; k < 128; k++)
			have |= (used[k / 8] & (1u << (k % 8))) && src_def(src, k) == def;
		if (have)
			continue;
		if (def->static_pt >= 0 && !(used[def->static_pt / 8] & (1u << (def->static_pt % 8))))
			pt = (unsigned)def->static_pt;
		while (pt < 128 && (used[pt / 8] & (1u << (pt % 8))))
			pt++;
		if (pt == 128)
			break;
		used[pt / 8] |= (uint8_t)(1u << (pt % 8));
		e |= sb_printf(sb, " %u", pt);
		e |= sb_printf(maps, "a=rtpmap:%u %s/%u%s\r\n", pt, def->name, def->clock_rate,
			       def->channels > 1 ? "/2" : "");
	}
	return e;
}

/* One sendonly m= section toward the subscriber for its section sm (copying src). */
static int offer_section(const struct media *sm, const struct ng_codec_flags *f,
			 struct strbuf *sb)
{
	const struct media *src = sm->sub_src;
	const char *addr = sm->iface->adv_str;
	uint8_t used[16];
	struct strbuf maps;
	int e = 0;

	sb_init(&maps);
	memcpy(used, src->pts, sizeof(used));
	e |= sb_printf(sb, "m=audio %u %s", sm->port, sm->proto);
	for (unsigned pt = 0; pt < 128; pt++) {
		size_t before = maps.len;

		if (!has_pt(src, pt))
			continue;
		if (rtpmap(src, pt, &maps))
			e |= sb_printf(sb, " %u", pt);
		else
			maps.len = before;
	}
	e |= offer_extra(src, f, used, sb, &maps);
	e |= sb_printf(sb, "\r\nc=IN %s %s\r\n", sm->iface->af == SDP_AF_IP6 ? "IP6" : "IP4",
		       addr);
	if (maps.len)
		e |= sb_append(sb, maps.buf, maps.len);
	e |= sb_printf(sb, "a=rtcp:%u\r\na=sendonly\r\n", sm->port + 1);
	e |= subscribe_srtp_sdp(sm, sb);        /* SDES toward it (subscribe_srtp.h) */
	sb_free(&maps);
	return e ? -ENOMEM : 0;
}

static int offer_sdp(const struct party *s, const struct ng_codec_flags *fl, struct strbuf *sb)
{
	const struct iface *f = s->media[0]->iface;
	uint64_t id = (uint64_t)mono_us();
	int e;

	e = sb_printf(sb, "v=0\r\no=- %llu 1 IN %s %s\r\ns=sluice\r\nt=0 0\r\n",
		      (unsigned long long)id, f->af == SDP_AF_IP6 ? "IP6" : "IP4", f->adv_str);
	for (unsigned i = 0; !e && i < s->n_media; i++)
		if (s->media[i])
			e = offer_section(s->media[i], fl, sb);
	return e ? -ENOMEM : 0;
}

static void new_tag(char *buf, size_t cap)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)mono_us() * 0x9e3779b97f4a7c15ull;
	snprintf(buf, cap, "%016llx", (unsigned long long)r);
}

/* The subscriber party named by to-tag (its old copies stopped), or a new one. */
static int subscriber(struct call *c, const struct ng_request *req, struct party **out,
		      const char **err)
{
	char tag[CALL_TAG_MAX];
	struct party *s = by_tag(c, &req->to_tag);

	if (s) {
		if (!s->subscriber) {
			*err = "to-tag names a party of the call, not a subscription";
			return -EEXIST;
		}
		pthread_mutex_lock(&c->lock);
		detach(c, s);
		pthread_mutex_unlock(&c->lock);
		*out = s;
		return 0;
	}
	if (req->to_tag.len >= sizeof(tag)) {
		*err = "to-tag too long";
		return -EINVAL;
	}
	if (req->to_tag.len) {
		memcpy(tag, req->to_tag.s, req->to_tag.len);
		tag[req->to_tag.len] = '\0';
	} else {
		new_tag(tag, sizeof(tag));
	}
	if (!(s = call_party_new(c)) || party_add_tag(s, tag, strlen(tag), "", 0)) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	s->subscriber = true;
	if (req->label.len && req->label.len < sizeof(s->label)) {
		memcpy(s->label, req->label.s, req->label.len);
		s->label[req->label.len] = '\0';
	}
	*out = s;
	return 0;
}

/* Section k of the subscriber copies src: ports on src's interface, src's codecs. */
static int add_section(struct daemon *d, struct party *s, unsigned k, struct media *src,
		       const char **err)
{
	struct media *sm;
	int e = media_ensure(d, s, k, src->iface, &sm);

	if (e) {
		*err = e == -ENOSPC ? "Ran out of ports" : "Cannot open the subscription's ports";
		return e;
	}
	pthread_mutex_lock(&s->call->lock);
	sm->sub_src = src;
	strcpy(sm->type, "audio");
	strcpy(sm->proto, "RTP/AVP");
	memcpy(sm->codec, src->codec, sizeof(sm->codec));
	sm->codec_pt = src->codec_pt;
	sm->clock = src->clock;
	sm->dtmf_pt = src->dtmf_pt;
	sm->dtmf_clock = src->dtmf_clock;
	memcpy(sm->pts, src->pts, sizeof(sm->pts));
	sm->dir = SDP_DIR_SENDONLY;
	pthread_mutex_unlock(&s->call->lock);
	return 0;
}

static int request(struct daemon *d, struct call *c, const struct ng_request *req,
		   struct arena *a, struct bval *reply, const char **err)
{
	struct party *src[MAX_SOURCES], *s;
	struct bval *tags = bv_new_list(a);
	struct strbuf sb;
	unsigned n, k = 0;
	int e;

	if ((e = sources(c, req, src, &n))) {
		*err = e == -ENOENT ? "Unknown call party (from-tag or from-tags)"
				    : "No call party selected (from-tag, from-tags or all)";
		return e;
	}
	if ((e = subscriber(c, req, &s, err)))
		return e;
	for (unsigned i = 0; i < n; i++) {
		if (src[i] == s || src[i]->subscriber) {
			*err = "A subscription cannot be subscribed to";
			return -EINVAL;
		}
		for (unsigned j = 0; j < src[i]->n_media; j++) {
			struct media *m = src[i]->media[j];

			if (!m || strcmp(m->type, "audio") || m->rejected)
				continue;
			if ((e = add_section(d, s, k++, m, err)) ||
			    (e = subscribe_srtp_offer(d, req, s->media[k - 1], err)))
				return e;
		}
		bv_list_add(tags, bv_new_strz(a, src[i]->tags[0].tag));
	}
	if (!k) {
		*err = "The selected parties have no audio to subscribe to";
		return -ENOENT;
	}
	sb_init(&sb);
	if ((e = offer_sdp(s, &req->codec, &sb))) {
		sb_free(&sb);
		*err = "Out of memory";
		return e;
	}
	bv_dict_add(a, reply, "sdp", bv_new_str(a, sb.buf, sb.len));
	if (n == 1)                     /* as rtpengine: the one source by itself too */
		bv_dict_add_str(a, reply, "from-tag", src[0]->tags[0].tag);
	bv_dict_add(a, reply, "from-tags", tags);
	bv_dict_add_str(a, reply, "to-tag", s->tags[0].tag);
	bv_dict_add_str(a, reply, "result", "ok");
	clog(LOG_INFO, c->callid, s->tags[0].tag, "subscribe request: %u section(s) of %u "
	     "part%s", k, n, n == 1 ? "y" : "ies");
	sb_free(&sb);
	return 0;
}

static struct party *need_subscriber(struct call *c, const struct ng_request *req,
				     const char **err)
{
	struct party *s = by_tag(c, &req->to_tag);

	if (!s || !s->subscriber) {
		*err = "Unknown subscription (to-tag)";
		return NULL;
	}
	return s;
}

/* Where the subscriber receives section i of its answer; false: none (port 0, no c=). */
static bool answer_addr(const struct sdp *sdp, unsigned i, union sockaddr_u *rtp,
			union sockaddr_u *rtcp)
{
	const struct sdp_conn *cn = sdp_media_conn(sdp, i);
	const struct sdp_media *sm = &sdp->media[i];

	if (!cn || !cn->present || !sm->port ||
	    netaddr_parse_ip(cn->addr, strlen(cn->addr),
			     cn->af == SDP_AF_IP6 ? AF_INET6 : AF_INET, rtp))
		return false;
	*rtcp = *rtp;
	netaddr_set_port(rtp, sm->port);
	netaddr_set_port(rtcp, sm->has_rtcp ? sm->rtcp_port : (uint16_t)(sm->port + 1));
	return true;
}

struct plan {                           /* what the answer says of one section */
	bool use;
	union sockaddr_u rtp, rtcp;
	struct sub_xcode *xc;           /* NULL: copies */
};

/* The answer keeps one of the source's audio payload types. */
static bool accepts(const struct sdp_pt *pts, int n, const struct media *src)
{
	for (int k = 0; k < n; k++)
		if (has_pt(src, pts[k].pt) && (int)pts[k].pt != src->dtmf_pt && pts[k].pt != 13)
			return true;
	return false;
}

static bool is_te(const struct sdp_pt *p)
{
	return p->enc.len == 15 && !strncasecmp(p->enc.s, "telephone-event", 15);
}

/* The first audio codec of the answer; NULL: none. */
static const struct sdp_pt *first_audio(const struct sdp_pt *pts, int n)
{
	for (int k = 0; k < n; k++)
		if (!is_te(&pts[k]) && pts[k].pt != 13)
			return &pts[k];
	return NULL;
}

static const struct codec_def *answer_def(const struct sdp_pt *p)
{
	const struct codec_def *def = p->enc.len ?
		codec_find(p->enc.s, p->enc.len, p->clock, p->channels > 1 ? p->channels : 0) :
		codec_by_static_pt(p->pt);

	return def && def->ops ? def : NULL;
}

/* The source's audio codec the transcoder decodes: its first one, else a static one. */
static const struct codec_def *source_def(const struct media *src, int *pt)
{
	for (unsigned k = 0; k < 128; k++) {
		const struct codec_def *def;

		if (!has_pt(src, k) || (src->codec_pt >= 0 && (int)k != src->codec_pt &&
					src_def(src, (unsigned)src->codec_pt)))
			continue;
		if ((def = src_def(src, k)) && def->ops) {
			*pt = (int)k;
			return def;
		}
	}
	return NULL;
}

static int xcode_new(const struct media *src, const struct sdp_pt *pts, int n,
		     const struct sdp_pt *want, const struct codec_def *out_def,
		     struct sub_xcode **out)
{
	struct transcode_cfg cfg = { 0 };
	struct sub_xcode *x;
	uint64_t r = 0;
	int in_pt, e;

	if (!(cfg.in.codec = source_def(src, &in_pt)))
		return -ENOTSUP;
	codec_params_default(cfg.in.codec, &cfg.in.params);
	cfg.in.pt = (uint8_t)in_pt;
	cfg.in.dtmf_pt = src->dtmf_clock == cfg.in.codec->clock_rate ? src->dtmf_pt : -1;
	cfg.out.codec = out_def;
	codec_params_default(out_def, &cfg.out.params);
	if (want->fmtp.len)
		codec_fmtp_parse(out_def, want->fmtp.s, want->fmtp.len, &cfg.out.params);
	cfg.out.pt = want->pt;
	cfg.out.dtmf_pt = -1;
	for (int k = 0; k < n; k++)
		if (is_te(&pts[k]) && pts[k].clock == out_def->clock_rate)
			cfg.out.dtmf_pt = pts[k].pt;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)mono_us() * 0x9e3779b97f4a7c15ull;
	cfg.ssrc = (uint32_t)r;
	cfg.seq = (uint16_t)(r >> 32);
	cfg.ts = (uint32_t)(r >> 16);
	if (!(x = calloc(1, sizeof(*x))))
		return -ENOMEM;
	if ((e = transcode_create(&cfg, &x->xc))) {
		free(x);
		return e;
	}
	x->in_pt = in_pt;
	x->in_dtmf = cfg.in.dtmf_pt;
	*out = x;
	return 0;
}

/* Section i of the answer for the subscriber's section sm: copies when its first codec
 * is the source's, else a transcoder to it (allow-transcoding), else copies if the
 * answer keeps a source codec at all, else an error. */
static int plan_section(const struct sdp *sdp, unsigned i, const struct media *sm,
			const struct ng_request *req, struct plan *pl, const char **err)
{
	static __thread struct sdp_pt pts[128];
	int n = sdp_rtpmap(sdp, i, pts, 128);
	const struct sdp_pt *first = first_audio(pts, n > 0 ? n : 0);
	const struct codec_def *def;

	if (!answer_addr(sdp, i, &pl->rtp, &pl->rtcp))
		return 0;
	pl->use = true;
	if (first && has_pt(sm->sub_src, first->pt))
		return 0;
	if (first && req->allow_transcoding && (def = answer_def(first))) {
		if (!xcode_new(sm->sub_src, pts, n, first, def, &pl->xc))
			return 0;
		*err = "Cannot transcode the source's codec for the subscriber";
		return -ENOTSUP;
	}
	if (n > 0 && accepts(pts, n, sm->sub_src))
		return 0;
	*err = req->allow_transcoding ?
	       "The subscriber's answer has no codec sluice can send it" :
	       "The subscriber's answer accepts none of the source's codecs (allow-transcoding "
	       "lets sluice transcode)";
	return -ENOTSUP;
}

static void attach(struct media *sm)
{
	struct media *src = sm->sub_src;

	for (unsigned j = 0; j < src->n_subs; j++)
		if (src->subs[j] == &sm->rtp)
			return;
	if (src->n_subs < MEDIA_MAX_SUBS)
		src->subs[src->n_subs++] = &sm->rtp;
}

/* Installs the plans (call lock held); what they replace goes back in them. */
static void install(struct party *s, struct plan *pl)
{
	for (unsigned i = 0; i < s->n_media; i++) {
		struct media *sm = s->media[i];
		struct sub_xcode *old;

		if (!pl[i].use)
			continue;
		sm->rtp.advertised = pl[i].rtp;
		sm->rtcp.advertised = pl[i].rtcp;
		sm->rtp.has_advertised = sm->rtcp.has_advertised = true;
		latch_reset(&sm->rtp);
		latch_reset(&sm->rtcp);
		old = sm->sub_xc;
		sm->sub_xc = pl[i].xc;
		pl[i].xc = old;
		attach(sm);
	}
}

static int answer(struct daemon *d, struct call *c, const struct ng_request *req,
		  struct arena *a, struct bval *reply, const char **err)
{
	static __thread struct sdp sdp;
	struct plan pl[SDP_MAX_MEDIA];
	struct party *s = need_subscriber(c, req, err);
	const char *why = NULL;
	unsigned n = 0, nx = 0;
	int e = 0;

	if (!s)
		return -ENOENT;
	if (!req->sdp.len || sdp_parse(&sdp, req->sdp.s, req->sdp.len, &why)) {
		*err = "Failed to parse the subscriber's SDP";
		return -EINVAL;
	}
	memset(pl, 0, sizeof(pl));
	for (unsigned i = 0; !e && i < sdp.n_media && i < s->n_media; i++)
		if (s->media[i] && s->media[i]->sub_src &&
		    !(e = plan_section(&sdp, i, s->media[i], req, &pl[i], err)) && pl[i].use)
			e = subscribe_srtp_answer(d, req, &sdp, i, s->media[i], err);
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++) {
		n += pl[i].use;
		nx += pl[i].xc != NULL;
	}
	if (!e && !n) {
		*err = "The subscriber's answer has no media to send to";
		e = -EINVAL;
	}
	if (!e) {
		pthread_mutex_lock(&c->lock);
		install(s, pl);
		pthread_mutex_unlock(&c->lock);
		kernel_sync_call(d, c);         /* the sources leave the kernel */
		clog(LOG_INFO, c->callid, s->tags[0].tag, "subscribe answer: %u section(s), "
		     "%u transcoded", n, nx);
		bv_dict_add_str(a, reply, "result", "ok");
	}
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++)
		xcode_free(pl[i].xc);   /* failed plans, or what was replaced */
	return e;
}

static int unsubscribe(struct daemon *d, struct call *c, const struct ng_request *req,
		       struct arena *a, struct bval *reply, const char **err)
{
	struct party *s = need_subscriber(c, req, err);

	if (!s)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	detach(c, s);
	pthread_mutex_unlock(&c->lock);
	kernel_sync_call(d, c);
	clog(LOG_INFO, c->callid, s->tags[0].tag, "unsubscribe");
	bv_dict_add_str(a, reply, "result", "ok");
	return 0;
}

int subscribe_command(struct daemon *d, const struct ng_request *req, struct arena *a,
		      struct bval *reply, const char **err)
{
	struct call *c;

	if (!(c = call_find(d, req->call_id.s, req->call_id.len))) {
		*err = "Unknown call-id";
		return -ENOENT;
	}
	if (is_cmd(req, "subscribe request"))
		return request(d, c, req, a, reply, err);
	if (!req->to_tag.len) {
		*err = "No to-tag in message";
		return -EINVAL;
	}
	if (is_cmd(req, "subscribe answer"))
		return answer(d, c, req, a, reply, err);
	return unsubscribe(d, c, req, a, reply, err);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The source's packet through the subscriber's transcoder. */
static void fork_xcode(struct relay_emitter *e, struct stream *dst, struct sub_xcode *x,
		       const uint8_t *pkt, size_t len)
{
	struct transcode_in in;
	size_t off, plen;
	int n;

	if (rtp_payload(pkt, len, &off, &plen))
		return;
	in = (struct transcode_in){ .pt = pkt[1] & 0x7f, .marker = pkt[1] & 0x80,
				    .seq = (uint16_t)(pkt[2] << 8 | pkt[3]), .ts = be32(pkt + 4),
				    .ssrc = be32(pkt + 8), .payload = pkt + off, .len = plen };
	if (in.pt != x->in_pt && in.pt != x->in_dtmf)
		return;
	n = transcode_packet(x->xc, &in, x->out, TRANSCODE_MAX_OUT);
	for (int i = 0; i < n; i++) {
		const struct transcode_out *o = &x->out[i];

		x->pkt[0] = 0x80;
		x->pkt[1] = (uint8_t)(o->pt | (o->marker ? 0x80 : 0));
		x->pkt[2] = (uint8_t)(o->seq >> 8);
		x->pkt[3] = (uint8_t)o->seq;
		be_put32(x->pkt + 4, o->ts);
		be_put32(x->pkt + 8, o->ssrc);
		memcpy(x->pkt + 12, o->payload, o->len);
		if (!subscribe_srtp_emit(e, dst, x->pkt, 12 + (size_t)o->len))
			relay_emit_copy(e, dst, x->pkt, 12 + (size_t)o->len);
	}
}

void subscribe_fork(struct relay_emitter *e, struct stream *t, const uint8_t *pkt,
		    size_t len)
{
	struct media *m = t->media;

	/* RTP only: not RTCP, nor the STUN and DTLS a secure side sends on the same port */
	if (len < 12 || (pkt[0] & 0xc0) != 0x80 || rtp_is_rtcp(pkt, len))
		return;
	for (unsigned i = 0; i < m->n_subs; i++) {
		struct sub_xcode *x = m->subs[i]->media->sub_xc;

		if (x)
			fork_xcode(e, m->subs[i], x, pkt, len);
		else if (!subscribe_srtp_emit(e, m->subs[i], pkt, len))
			relay_emit_copy(e, m->subs[i], pkt, len);
	}
}
