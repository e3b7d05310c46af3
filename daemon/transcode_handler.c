/* Transcoding and payload-type remapping handlers; see transcode_handler.h. */
#include "transcode_handler.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon.h"
#include "media_handler.h"
#include "rtcp_report.h"
#include "secure.h"
#include "sluice/jitter.h"
#include "sluice/log.h"
#include "sluice/rtp.h"
#include "sluice/transcode.h"

#define RTCP_INTERVAL_US 5000000
#define RTCP_CNAME       "sluice"
#define RTP_HDR          12
#define SRTP_ROOM        64     /* tailroom for an SRTP/SRTCP tag, index and MKI */
#define JITTER_MIN_MS    20

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct xc_pair;

/* One direction: input from the side whose media `from` is, output to the other. */
struct xc_dir {
	struct stream_handler h;        /* installed on from->rtp */
	struct xc_pair *pair;
	struct xc_dir *rev;
	struct media *from;
	struct transcode *xc;
	struct jitter *jb;              /* NULL: transcode on arrival */
	unsigned in_clock;
	struct rtcp_rx rx;              /* the stream received from `from`'s side */
	struct rtcp_tx tx;              /* the stream sent to the other side */
	int64_t next_rtcp_us;
	uint64_t rtcp_sent, rtcp_in, bad, foreign_pt;
	char in_name[48], out_name[48];
	int cmr;                        /* AMR mode request last applied to rev's encoder */
	struct transcode_stats sampled; /* as of the last xcode_sample() (control thread) */
};

/* A side's RTCP: read for LSR, never forwarded. */
struct xc_rtcp {
	struct stream_handler h;
	struct xc_pair *pair;
	struct xc_dir *dir;             /* the direction whose input comes from this side */
};

struct xc_pair {
	struct xc_dir dir[2];           /* 0: A -> B, 1: B -> A */
	struct xc_rtcp rtcp[2];
	unsigned refs;                  /* installed handlers; control thread only */
};

struct xc_remap {
	struct stream_handler h;
	uint8_t map[128];
};

/* Pipeline output of one packet: per worker, so handlers need no big buffers. */
static __thread struct transcode_out xc_out[TRANSCODE_MAX_OUT];
static __thread uint8_t xc_pkt[RTP_HDR + TRANSCODE_MAX_PAYLOAD + SRTP_ROOM];

static uint32_t rnd32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)time(NULL) * 2654435761u;
	return v;
}

static const char *media_tag(const struct media *m)
{
	return m->party->n_tags ? m->party->tags[0].tag : NULL;
}

/* RTP header -> transcode_in (CSRCs, extension and padding skipped). */
static int parse_rtp(const uint8_t *p, size_t len, struct transcode_in *t)
{
	size_t off;

	if (len < RTP_HDR || (p[0] >> 6) != 2)
		return -EINVAL;
	off = RTP_HDR + 4 * (size_t)(p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < off + 4)
			return -EINVAL;
		off += 4 + 4 * (size_t)(p[off + 2] << 8 | p[off + 3]);
	}
	if (off > len)
		return -EINVAL;
	if (p[0] & 0x20) {
		uint8_t pad = p[len - 1];
		if (!pad || pad > len - off)
			return -EINVAL;
		len -= pad;
	}
	t->pt = p[1] & 0x7f;
	t->marker = p[1] & 0x80;
	t->seq = (uint16_t)(p[2] << 8 | p[3]);
	t->ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	t->ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
	t->payload = p + off;
	t->len = len - off;
	return 0;
}

static struct stream *rtcp_dest(struct stream *sink)
{
	struct media *m = sink ? sink->media : NULL;

	if (!m)
		return NULL;
	return m->rtcp_mux ? &m->rtp : &m->rtcp;
}

/* Out through dst, protected for dst's side when it speaks SRTP: on an encrypted
 * call the secure handler runs these handlers between its decrypt and this step.
 * p is changed in place; cap is the buffer size behind it. */
static int xc_emit(struct relay_emitter *e, struct stream *dst, uint8_t *p, size_t len,
		   size_t cap, bool rtcp)
{
	int err;

	if (!dst)
		return -ENOENT;
	relay_record_plain(e, dst, p, len);
	err = secure_encrypt(dst->media->sec, p, &len, cap, rtcp, dst->component);
	if (err)
		return err;
	return relay_emit(e, dst, p, len);
}

/* ---- transcoding direction ---- */

static void send_out(struct xc_dir *d, struct stream *dst, const struct transcode_out *o,
		     struct relay_emitter *e, int64_t now)
{
	uint8_t *p = xc_pkt;

	p[0] = 0x80;
	p[1] = (uint8_t)((o->marker ? 0x80 : 0) | (o->pt & 0x7f));
	p[2] = (uint8_t)(o->seq >> 8);
	p[3] = (uint8_t)o->seq;
	p[4] = (uint8_t)(o->ts >> 24);
	p[5] = (uint8_t)(o->ts >> 16);
	p[6] = (uint8_t)(o->ts >> 8);
	p[7] = (uint8_t)o->ts;
	p[8] = (uint8_t)(o->ssrc >> 24);
	p[9] = (uint8_t)(o->ssrc >> 16);
	p[10] = (uint8_t)(o->ssrc >> 8);
	p[11] = (uint8_t)o->ssrc;
	memcpy(p + RTP_HDR, o->payload, o->len);
	xc_emit(e, dst, p, RTP_HDR + (size_t)o->len, sizeof(xc_pkt), false);
	d->tx.packets++;
	d->tx.octets += o->len;
	d->tx.last_ts = o->ts;
	d->tx.last_us = now;
}

/* SR to the output side about what we send it, with a report block about the stream
 * we receive from it (the reverse direction's input). */
static void send_sr(struct xc_dir *d, struct stream *sink, struct relay_emitter *e,
		    int64_t now)
{
	uint8_t buf[128 + SRTP_ROOM];
	int n;

	d->next_rtcp_us = now + RTCP_INTERVAL_US;
	n = rtcp_build_sr(&d->tx, &d->rev->rx, RTCP_CNAME, now, now_us(), buf,
			  sizeof(buf) - SRTP_ROOM);
	if (n > 0 && !xc_emit(e, rtcp_dest(sink), buf, (size_t)n, sizeof(buf), true))
		d->rtcp_sent++;
}

/* An AMR phone's codec mode request (in what it sends, which this direction decodes)
 * is about what it receives: the reverse direction's encoder. Both directions run
 * under the call lock. */
static void follow_cmr(struct xc_dir *d)
{
	int m = transcode_peer_cmr(d->xc);

	if (m < 0 || m == d->cmr || !d->rev || !d->rev->xc)
		return;
	d->cmr = m;
	transcode_set_mode(d->rev->xc, (unsigned)m);
}

static void transcoded(struct xc_dir *d, struct stream *in, int n, struct relay_emitter *e,
		       int64_t now)
{
	follow_cmr(d);
	if (n < 0) {
		d->foreign_pt++;        /* CN or a codec the answer did not settle on */
		return;
	}
	for (int i = 0; i < n; i++)
		send_out(d, in->sink, &xc_out[i], e, now);
	if (n > 0 && now >= d->next_rtcp_us)
		send_sr(d, in->sink, e, now);
}

static void jb_in(struct transcode_in *ti, const struct jitter_pkt *p)
{
	ti->pt = p->pt;
	ti->marker = p->marker;
	ti->seq = p->seq;
	ti->ts = p->ts;
	ti->ssrc = p->ssrc;
	ti->payload = p->payload;
	ti->len = p->len;
}

/* Everything the buffer says is due now, then the timer for what is next. */
static void playout(struct xc_dir *d, struct stream *in, struct relay_emitter *e,
		    int64_t now)
{
	struct jitter_out o;
	struct transcode_in ti = { 0 };
	uint64_t next;
	enum jitter_kind k;

	while ((k = jitter_get(d->jb, (uint64_t)now, &o)) != JITTER_EMPTY) {
		if (o.pkt)
			jb_in(&ti, o.pkt);
		if (k == JITTER_PACKET)
			transcoded(d, in, transcode_packet(d->xc, &ti, xc_out, TRANSCODE_MAX_OUT),
				   e, now);
		else
			transcoded(d, in, transcode_lost(d->xc, o.pkt ? &ti : NULL, xc_out,
							 TRANSCODE_MAX_OUT), e, now);
	}
	next = jitter_next_due(d->jb);
	relay_timer_set(e, in, next == UINT64_MAX ? -1 : (int64_t)next);
}

static void dir_timer(struct stream_handler *h, struct stream *in, struct relay_emitter *e,
		      int64_t now)
{
	playout(container_of(h, struct xc_dir, h), in, e, now);
}

static void dir_packet(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t len,
		       size_t cap, struct relay_emitter *e, int64_t now)
{
	struct xc_dir *d = container_of(h, struct xc_dir, h);
	struct transcode_in ti;

	(void)cap;
	if (rtp_is_rtcp(pkt, len)) {            /* multiplexed RTCP */
		rtcp_rx_rtcp(&d->rx, pkt, len, now);
		d->rtcp_in++;
		return;
	}
	if (parse_rtp(pkt, len, &ti)) {
		d->bad++;
		return;
	}
	rtcp_rx_packet(&d->rx, ti.ssrc, ti.seq, ti.ts, d->in_clock, now);
	if (!d->jb) {
		transcoded(d, in, transcode_packet(d->xc, &ti, xc_out, TRANSCODE_MAX_OUT), e, now);
		return;
	}
	now = mono_fine_us();
	/* late, duplicate or oversized: counted by the buffer */
	jitter_put(d->jb, ti.pt, ti.marker, ti.seq, ti.ts, ti.ssrc, ti.payload, ti.len,
		   (uint64_t)now);
	playout(d, in, e, now);
}

static void on_dtmf(void *arg, const struct transcode_dtmf *ev)
{
	struct xc_dir *d = arg;

	clog(LOG_INFO, d->from->party->call->callid, media_tag(d->from),
	     "DTMF digit %c, duration %u ms (%s, media %u, %s -> %s)", ev->digit,
	     ev->duration_ms, ev->inband ? "in-band" : "RFC 4733", d->from->index,
	     d->in_name, d->out_name);
}

static void pair_put(struct xc_pair *p)
{
	if (--p->refs)
		return;
	for (int i = 0; i < 2; i++) {
		transcode_destroy(p->dir[i].xc);
		jitter_destroy(p->dir[i].jb);
	}
	free(p);
}

static void dir_destroy(struct stream_handler *h)
{
	pair_put(container_of(h, struct xc_dir, h)->pair);
}

static const struct stream_handler_ops dir_ops = {
	.name = "transcode",
	.packet = dir_packet,
	.destroy = dir_destroy,
	.timer = dir_timer,
};

static void rtcp_packet(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t len,
			size_t cap, struct relay_emitter *e, int64_t now)
{
	struct xc_rtcp *r = container_of(h, struct xc_rtcp, h);

	(void)in;
	(void)cap;
	(void)e;
	rtcp_rx_rtcp(&r->dir->rx, pkt, len, now);
	r->dir->rtcp_in++;
}

static void rtcp_destroy(struct stream_handler *h)
{
	pair_put(container_of(h, struct xc_rtcp, h)->pair);
}

static const struct stream_handler_ops rtcp_ops = {
	.name = "transcode-rtcp",
	.packet = rtcp_packet,
	.destroy = rtcp_destroy,
};

static void side_of(struct transcode_side *s, const struct cp_codec *c, int te, unsigned ptime)
{
	s->codec = c->def;
	codec_params_default(c->def, &s->params);
	if (c->fmtp[0])
		codec_fmtp_parse(c->def, c->fmtp, strlen(c->fmtp), &s->params);
	s->pt = c->pt;
	s->dtmf_pt = te;
	s->ptime = ptime;
}

static int dir_init(struct xc_dir *d, struct media *from, const struct cp_codec *in, int in_te,
		    const struct cp_codec *out, int out_te, unsigned ptime)
{
	struct transcode_cfg cfg;
	int err;

	memset(&cfg, 0, sizeof(cfg));
	side_of(&cfg.in, in, in_te, 0);
	cfg.in.params.fec = true;       /* decode with Opus FEC whenever it is there */
	side_of(&cfg.out, out, out_te, ptime);
	/* constant whatever the input does; the one the sender's SDP announced (a=ssrc),
	 * as the receiver may only accept signalled SSRCs (WebRTC) */
	cfg.ssrc = from->has_sdp_ssrc ? from->sdp_ssrc : rnd32();
	cfg.seq = (uint16_t)rnd32();
	cfg.ts = rnd32();
	cfg.on_dtmf = on_dtmf;
	cfg.arg = d;
	err = transcode_create(&cfg, &d->xc);
	if (err == -EINVAL && ptime) {
		/* a packetisation the output codec cannot frame: its default instead */
		cfg.out.ptime = 0;
		err = transcode_create(&cfg, &d->xc);
	}
	if (err)
		return err;
	if (from->party->call->jitter_ms) {
		struct jitter_cfg jc = {
			.min_ms = from->party->call->jitter_ms < JITTER_MIN_MS ?
				  from->party->call->jitter_ms : JITTER_MIN_MS,
			.max_ms = from->party->call->jitter_ms,
			.clock_rate = in->def->clock_rate,
		};

		err = jitter_create(&jc, &d->jb);
		if (err)
			return err;
	}
	d->h.ops = &dir_ops;
	d->from = from;
	d->cmr = -1;
	d->in_clock = in->def->clock_rate;
	d->tx.ssrc = cfg.ssrc;
	d->tx.clock = out->def->clock_rate;
	cp_codec_name(in, d->in_name, sizeof(d->in_name));
	cp_codec_name(out, d->out_name, sizeof(d->out_name));
	return 0;
}

static int pair_new(struct media *a, struct media *b, const struct cp_answer *ans,
		    struct xc_pair **out)
{
	struct xc_pair *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = dir_init(&p->dir[0], a, &ans->a_codec, ans->a_te, &ans->b_codec, ans->b_te,
		       ans->b_ptime);
	if (!err)
		err = dir_init(&p->dir[1], b, &ans->b_codec, ans->b_te, &ans->a_codec, ans->a_te,
			       ans->a_ptime);
	if (err) {
		for (int i = 0; i < 2; i++) {
			transcode_destroy(p->dir[i].xc);
			jitter_destroy(p->dir[i].jb);
		}
		free(p);
		return err;
	}
	for (int i = 0; i < 2; i++) {
		p->dir[i].pair = p;
		p->dir[i].rev = &p->dir[!i];
		p->rtcp[i].h.ops = &rtcp_ops;
		p->rtcp[i].pair = p;
		p->rtcp[i].dir = &p->dir[i];
	}
	p->refs = 4;
	*out = p;
	return 0;
}

/* ---- payload type remapping ---- */

static void remap_packet(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t len,
			 size_t cap, struct relay_emitter *e, int64_t now)
{
	struct xc_remap *r = container_of(h, struct xc_remap, h);
	struct stream *dst = in->sink;
	bool rtcp = rtp_is_rtcp(pkt, len);

	(void)now;
	if (rtcp) {
		/* as relay.c routes it: to the peer's RTCP port when the peer does not mux */
		if (dst && in->component == COMP_RTP && in->media->rtcp_mux &&
		    !dst->media->rtcp_mux)
			dst = &dst->media->rtcp;
	} else if (len >= RTP_HDR) {
		pkt[1] = (uint8_t)((pkt[1] & 0x80) | r->map[pkt[1] & 0x7f]);
	}
	xc_emit(e, dst, pkt, len, cap, rtcp);
}

static void remap_destroy(struct stream_handler *h)
{
	free(container_of(h, struct xc_remap, h));
}

static const struct stream_handler_ops remap_ops = {
	.name = "pt-remap",
	.packet = remap_packet,
	.destroy = remap_destroy,
};

static struct stream_handler *remap_new(const uint8_t *map)
{
	struct xc_remap *r = malloc(sizeof(*r));

	if (!r)
		return NULL;
	r->h.ops = &remap_ops;
	memcpy(r->map, map, sizeof(r->map));
	return &r->h;
}

/* ---- installation ---- */

/* The stream's transform; it runs as the handler unless an outer one (secure) runs it. */
static void set_xform(struct stream *s, struct stream_handler *h)
{
	if (s->handler == s->xform)
		s->handler = h;
	s->xform = h;
}

static void destroy(struct stream_handler *h)
{
	if (h && h->ops->destroy)
		h->ops->destroy(h);
}

int xcode_apply(struct media *a, struct media *b, const struct cp_answer *ans)
{
	struct stream_handler *h[4] = { NULL }, *old[4];
	struct xc_pair *pair = NULL;
	int err = 0;

	if (ans && ans->transcode) {
		err = pair_new(a, b, ans, &pair);
		if (!err) {
			h[0] = &pair->dir[0].h;
			h[1] = &pair->dir[1].h;
			h[2] = &pair->rtcp[0].h;
			h[3] = &pair->rtcp[1].h;
		}
	} else if (ans && ans->remap) {
		h[0] = remap_new(ans->map_ab);
		h[1] = remap_new(ans->map_ba);
		if (!h[0] || !h[1]) {
			destroy(h[0]);
			destroy(h[1]);
			h[0] = h[1] = NULL;
			err = -ENOMEM;
		}
	}
	pthread_mutex_lock(&a->party->call->lock);
	old[0] = a->rtp.xform;
	old[1] = b->rtp.xform;
	old[2] = a->rtcp.xform;
	old[3] = b->rtcp.xform;
	set_xform(&a->rtp, h[0]);
	set_xform(&b->rtp, h[1]);
	set_xform(&a->rtcp, h[2]);
	set_xform(&b->rtcp, h[3]);
	a->transcoding = b->transcoding = pair != NULL;
	if (ans && ans->a_codec.enc[0])
		cp_codec_name(&ans->a_codec, a->codec, sizeof(a->codec));
	if (ans && ans->b_codec.enc[0])
		cp_codec_name(&ans->b_codec, b->codec, sizeof(b->codec));
	pthread_mutex_unlock(&a->party->call->lock);
	/* the worker only touches handlers under the lock: the old ones are unreachable */
	for (int i = 0; i < 4; i++)
		destroy(old[i]);
	return err;
}

int xcode_inject_dtmf(struct media *m, uint8_t event, unsigned duration_ms, unsigned volume,
		      unsigned pause_ms)
{
	/* the transform itself, also when the secure handler runs it (SRTP) */
	const struct stream_handler *h = m->rtp.xform;

	if (!h || h->ops != &dir_ops)
		return -ENOTSUP;
	return transcode_dtmf_inject(container_of(h, struct xc_dir, h)->xc, event, duration_ms,
				     volume, pause_ms);
}

void xcode_stats_add(struct arena *ar, struct bval *dict, const struct media *m)
{
	const struct stream_handler *h = m->rtp.xform;
	const struct xc_dir *d;
	struct transcode_stats st;
	struct bval *t;

	if (!h || h->ops != &dir_ops)
		return;
	d = container_of(h, struct xc_dir, h);
	transcode_get_stats(d->xc, &st);
	t = bv_new_dict(ar);
	bv_dict_add_str(ar, t, "input codec", d->in_name);
	bv_dict_add_str(ar, t, "output codec", d->out_name);
	bv_dict_add_int(ar, t, "packets in", (int64_t)st.in_packets);
	bv_dict_add_int(ar, t, "packets dropped",
			(int64_t)(st.in_dropped + d->foreign_pt + d->bad));
	bv_dict_add_int(ar, t, "packets out", (int64_t)st.out_packets);
	bv_dict_add_int(ar, t, "concealed ms", (int64_t)st.concealed_ms);
	bv_dict_add_int(ar, t, "DTMF events", (int64_t)st.dtmf_events);
	bv_dict_add_int(ar, t, "DTMF injected", (int64_t)st.dtmf_injected);
	if (d->jb) {
		struct jitter_stats js;

		jitter_get_stats(d->jb, &js);
		bv_dict_add_int(ar, t, "jitter buffer ms", js.target_ms);
		bv_dict_add_int(ar, t, "jitter late", (int64_t)(js.late + js.duplicate));
		bv_dict_add_int(ar, t, "jitter lost", (int64_t)js.lost);
	}
	bv_dict_add_int(ar, t, "RTCP received", (int64_t)d->rtcp_in);
	bv_dict_add_int(ar, t, "RTCP sent", (int64_t)d->rtcp_sent);
	bv_dict_add(ar, dict, "transcoder", t);
}

bool xcode_sample(struct media *m, struct xcode_sample *out)
{
	const struct stream_handler *h = m->rtp.xform;
	struct xc_dir *d;
	struct transcode_stats st;

	if (!h || h->ops != &dir_ops)
		return false;
	d = container_of(h, struct xc_dir, h);
	transcode_get_stats(d->xc, &st);
	snprintf(out->chain, sizeof(out->chain), "%s -> %s", d->in_name, d->out_name);
	out->packets = st.in_packets - d->sampled.in_packets;
	out->bytes = st.in_bytes - d->sampled.in_bytes;
	out->samples = st.samples - d->sampled.samples;
	d->sampled = st;
	return true;
}
