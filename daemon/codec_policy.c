/* Codec negotiation policy; the rules are in codec_policy.h. */
#include "codec_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TE_FMTP "0-15"

static void copy_s(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static const struct codec_def *lookup(const char *enc, unsigned clock, unsigned channels)
{
	/* rtpmap without a channel count means 1, which must not exclude Opus' "/2" */
	return codec_find(enc, strlen(enc), clock, channels == 1 ? 0 : channels);
}

bool cp_is_te(const struct cp_codec *c)
{
	return !strcasecmp(c->enc, "telephone-event");
}

bool cp_is_supplemental(const struct cp_codec *c)
{
	return cp_is_te(c) || !strcasecmp(c->enc, "CN");
}

static bool can_transcode(const struct cp_codec *c)
{
	return c->def && (c->def->flags & CODEC_F_AUDIO) && codec_available(c->def, NULL);
}

void cp_codec_name(const struct cp_codec *c, char *buf, size_t cap)
{
	if (c->channels > 1)
		snprintf(buf, cap, "%s/%u/%u", c->enc, c->clock, c->channels);
	else
		snprintf(buf, cap, "%s/%u", c->enc, c->clock);
}

int cp_list_from_sdp(const struct sdp *sdp, unsigned i, struct cp_list *out)
{
	struct sdp_pt pts[CP_MAX];
	struct sdp_str v;
	int n = sdp_rtpmap(sdp, i, pts, CP_MAX);

	if (n < 0)
		return n;
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < n; k++) {
		struct cp_codec *c = &out->c[out->n];
		bool dup = false;

		for (unsigned j = 0; j < out->n && !dup; j++)
			dup = out->c[j].pt == pts[k].pt;
		if (!pts[k].enc.len || dup)
			continue;       /* no rtpmap for a dynamic type, or listed twice */
		c->pt = pts[k].pt;
		copy_s(c->enc, sizeof(c->enc), pts[k].enc.s, pts[k].enc.len);
		c->clock = pts[k].clock;
		c->channels = pts[k].channels ? pts[k].channels : 1;
		copy_s(c->fmtp, sizeof(c->fmtp), pts[k].fmtp.s, pts[k].fmtp.len);
		c->rtpmap = pts[k].rtpmap;
		c->def = lookup(c->enc, c->clock, c->channels);
		out->n++;
	}
	if (sdp_attr(sdp, (int)i, "ptime", 0, &v)) {
		unsigned p = 0;
		for (size_t k = 0; k < v.len && v.s[k] >= '0' && v.s[k] <= '9' && p < 10000; k++)
			p = p * 10 + (unsigned)(v.s[k] - '0');
		out->ptime = p;
	}
	out->not_audio = sdp->media[i].type.len != 5 ||
			 strncasecmp(sdp->media[i].type.s, "audio", 5);
	return 0;
}

static bool same_codec(const struct cp_codec *a, const struct cp_codec *b)
{
	return !strcasecmp(a->enc, b->enc) && a->clock == b->clock && a->channels == b->channels;
}

static bool same_entry(const struct cp_codec *a, const struct cp_codec *b)
{
	return a->pt == b->pt && same_codec(a, b) && !strcmp(a->fmtp, b->fmtp);
}

static bool lists_equal(const struct cp_list *a, const struct cp_list *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (!same_entry(&a->c[i], &b->c[i]))
			return false;
	return true;
}

/* ---- flag names ---- */

static bool name_matches(const struct ng_codec_name *n, const struct cp_codec *c)
{
	struct ng_codec_name enc, fmtp;
	unsigned clock, channels;

	ng_codec_name_split(n, &enc, &clock, &channels, &fmtp);
	return strlen(c->enc) == enc.len && !strncasecmp(c->enc, enc.s, enc.len) &&
	       (!clock || clock == c->clock) && (!channels || channels == c->channels);
}

static bool listed(const struct ng_codec_flags *f, enum ng_codec_list l,
		   const struct cp_codec *c, bool *all)
{
	*all = false;
	for (unsigned i = 0; i < f->n[l]; i++) {
		if (ng_codec_name_is(&f->list[l][i], "all"))
			*all = true;
		else if (name_matches(&f->list[l][i], c))
			return true;
	}
	return false;
}

/* Named explicitly, or covered by "all" (telephone-event and CN too, as rtpengine 10.5
 * does; except exempts). */
static bool applies(const struct ng_codec_flags *f, enum ng_codec_list l,
		    const struct cp_codec *c)
{
	bool all, dummy;

	if (listed(f, l, c, &all))
		return true;
	return all && !listed(f, NG_CODEC_EXCEPT, c, &dummy);
}

static void apply_set(const struct ng_codec_flags *f, struct cp_codec *c)
{
	for (unsigned i = 0; i < f->n[NG_CODEC_SET]; i++) {
		struct ng_codec_name enc, fmtp;
		unsigned clock, channels;

		ng_codec_name_split(&f->list[NG_CODEC_SET][i], &enc, &clock, &channels, &fmtp);
		if (strlen(c->enc) != enc.len || strncasecmp(c->enc, enc.s, enc.len) ||
		    (clock && clock != c->clock))
			continue;
		if (channels)
			c->channels = channels;
		if (fmtp.len)
			copy_s(c->fmtp, sizeof(c->fmtp), fmtp.s, fmtp.len);
		c->def = lookup(c->enc, c->clock, c->channels);
	}
}

/* ---- offer ---- */

static const struct cp_codec *first_audio(const struct cp_list *l);

static bool pt_used(const struct cp_list *l, unsigned pt)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->c[i].pt == pt)
			return true;
	return false;
}

/* The codec's static type if free, else a free dynamic one (96-127, then 35-63, which
 * stay clear of the RTCP-conflicting 64-95). -1 when none is left. */
static int pick_pt(const struct cp_list *a, const struct cp_list *b, int static_pt)
{
	if (static_pt >= 0 && !pt_used(a, (unsigned)static_pt) && !pt_used(b, (unsigned)static_pt))
		return static_pt;
	for (unsigned pt = 96; pt < 128; pt++)
		if (!pt_used(a, pt) && !pt_used(b, pt))
			return (int)pt;
	for (unsigned pt = 35; pt < 64; pt++)
		if (!pt_used(a, pt) && !pt_used(b, pt))
			return (int)pt;
	return -1;
}

static int insert_at(struct cp_list *l, unsigned at, const struct cp_codec *c)
{
	if (l->n == CP_MAX)
		return -E2BIG;
	memmove(&l->c[at + 1], &l->c[at], (l->n - at) * sizeof(l->c[0]));
	l->c[at] = *c;
	l->n++;
	return 0;
}

static unsigned first_supplemental(const struct cp_list *l)
{
	unsigned i;

	for (i = 0; i < l->n && !cp_is_supplemental(&l->c[i]); i++)
		;
	return i;
}

static const struct cp_codec *find_match(const struct cp_list *l, const struct cp_codec *c)
{
	for (unsigned i = 0; i < l->n; i++)
		if (same_codec(&l->c[i], c))
			return &l->c[i];
	return NULL;
}

static const struct cp_codec *find_te(const struct cp_list *l, unsigned clock)
{
	for (unsigned i = 0; i < l->n; i++)
		if (cp_is_te(&l->c[i]) && l->c[i].clock == clock)
			return &l->c[i];
	return NULL;
}

/* A's own entry for a codec named by a flag, if its SDP has it. */
static const struct cp_codec *in_offer(const struct cp_list *in, const struct ng_codec_name *n)
{
	for (unsigned k = 0; k < in->n; k++)
		if (name_matches(n, &in->c[k]))
			return &in->c[k];
	return NULL;
}

/* transcode/offer entries: codecs the library can encode and decode, added in front of
 * the supplemental ones. One A's SDP has (stripped by "all", say) comes back as A's own,
 * on both sides: A can use it, nothing to transcode. Returns whether telephone-event
 * was asked for. */
static bool add_transcode(const struct ng_codec_flags *f, const struct cp_list *in,
			  struct cp_list *a, struct cp_list *b)
{
	unsigned at = first_supplemental(b);
	bool want_te = false;

	for (unsigned i = 0; i < f->n[NG_CODEC_TRANSCODE]; i++) {
		const struct ng_codec_name *n = &f->list[NG_CODEC_TRANSCODE][i];
		struct ng_codec_name enc, fmtp;
		unsigned clock, channels;
		const struct codec_def *def;
		struct cp_codec c = { 0 };
		bool dup = false;
		int pt;

		ng_codec_name_split(n, &enc, &clock, &channels, &fmtp);
		def = codec_find(enc.s, enc.len, clock, channels);
		if (!def)
			continue;       /* unknown codec: cannot be produced */
		if (def->id == CODEC_TELEPHONE_EVENT) {
			want_te = true;
			continue;
		}
		for (unsigned k = 0; k < b->n && !dup; k++)
			dup = name_matches(n, &b->c[k]);
		if (dup || !codec_available(def, NULL))
			continue;
		if (in_offer(in, n) && !find_match(a, in_offer(in, n)) && a->n < CP_MAX) {
			a->c[a->n++] = *in_offer(in, n);
			if (!insert_at(b, at, in_offer(in, n)))
				at++;
			continue;
		}
		pt = pick_pt(a, b, def->static_pt);
		if (pt < 0)
			continue;
		c.pt = (uint8_t)pt;
		copy_s(c.enc, sizeof(c.enc), def->name, strlen(def->name));
		c.clock = clock ? clock : def->clock_rate;
		c.channels = channels ? channels : def->channels;
		if (fmtp.len || !def->default_fmtp)
			copy_s(c.fmtp, sizeof(c.fmtp), fmtp.s, fmtp.len);
		else
			copy_s(c.fmtp, sizeof(c.fmtp), def->default_fmtp, strlen(def->default_fmtp));
		c.def = def;
		c.rtpmap = true;
		if (!insert_at(b, at, &c))
			at++;
	}
	return want_te;
}

/* One telephone-event per audio clock rate of b (when A has DTMF events or they were
 * asked for); events at a clock no audio codec has are dropped. */
static void fix_te(const struct cp_list *a, struct cp_list *b, bool want)
{
	unsigned audio = first_supplemental(b), i;

	for (i = 0; i < b->n && !want; i++)
		want = cp_is_te(&b->c[i]);
	if (!want || !audio)
		return;
	for (i = 0; i < b->n; i++) {
		const struct cp_codec *c = &b->c[i];
		struct cp_codec te = { 0 };
		int pt;

		if (cp_is_supplemental(c) || find_te(b, c->clock))
			continue;
		pt = pick_pt(a, b, -1);
		if (pt < 0)
			return;
		te.pt = (uint8_t)pt;
		copy_s(te.enc, sizeof(te.enc), "telephone-event", 15);
		te.clock = c->clock;
		te.channels = 1;
		copy_s(te.fmtp, sizeof(te.fmtp), TE_FMTP, strlen(TE_FMTP));
		te.def = codec_get(CODEC_TELEPHONE_EVENT);
		te.rtpmap = true;
		if (b->n < CP_MAX)
			b->c[b->n++] = te;
	}
	for (i = 0; i < b->n;) {
		const struct cp_codec *c = &b->c[i];
		bool clock_ok = false;

		for (unsigned k = 0; k < b->n && !clock_ok; k++)
			clock_ok = !cp_is_supplemental(&b->c[k]) && b->c[k].clock == c->clock;
		if (cp_is_te(c) && !clock_ok) {
			memmove(&b->c[i], &b->c[i + 1], (b->n - i - 1) * sizeof(b->c[0]));
			b->n--;
		} else {
			i++;
		}
	}
}

static void keep_accept(const struct ng_codec_flags *f, struct cp_offer *o)
{
	for (unsigned i = 0; i < f->n[NG_CODEC_ACCEPT] && o->n_accept < NG_CODEC_MAX; i++) {
		const struct ng_codec_name *n = &f->list[NG_CODEC_ACCEPT][i];
		char *buf = o->accept_buf[o->n_accept];

		copy_s(buf, CP_ENC_MAX, n->s, n->len);
		o->accept[o->n_accept++] = (struct ng_codec_name){ buf, strlen(buf) };
	}
}

const char *cp_unavailable(const struct ng_codec_flags *f)
{
	for (unsigned i = 0; i < f->n[NG_CODEC_TRANSCODE]; i++) {
		struct ng_codec_name enc, fmtp;
		unsigned clock, channels;
		const struct codec_def *def;
		const char *why;

		ng_codec_name_split(&f->list[NG_CODEC_TRANSCODE][i], &enc, &clock, &channels,
				    &fmtp);
		def = codec_find(enc.s, enc.len, clock, channels);
		if (def && def->ops && !codec_available(def, &why))
			return why;
	}
	return NULL;
}

int cp_offer(const struct cp_list *in, const struct ng_codec_flags *f, struct cp_offer *o)
{
	bool want_te;

	memset(o, 0, sizeof(*o));
	o->always_transcode = f->always_transcode;
	o->ptime_b = f->ptime;
	o->ptime_a = f->ptime_reverse;
	o->a.ptime = o->b.ptime = in->ptime;
	keep_accept(f, o);
	for (unsigned i = 0; i < in->n; i++) {
		struct cp_codec c = in->c[i];

		apply_set(f, &c);
		if (applies(f, NG_CODEC_STRIP, &c))
			continue;
		o->a.c[o->a.n++] = c;
		if (applies(f, NG_CODEC_MASK, &c) || applies(f, NG_CODEC_CONSUME, &c))
			continue;
		o->b.c[o->b.n++] = c;
	}
	/* the codecs transcode names and telephone-event are audio: a video section of the
	 * same offer gets neither */
	want_te = !in->not_audio && add_transcode(f, in, &o->a, &o->b);
	if (!in->not_audio && (want_te || !lists_equal(&o->b, in)))
		fix_te(&o->a, &o->b, want_te);
	o->changed = !lists_equal(&o->b, in);
	return first_audio(&o->b) ? 0 : -EINVAL;
}

/* ---- answer ---- */

static const struct cp_codec *first_audio(const struct cp_list *l)
{
	/* supplemental codecs may precede the audio one in odd SDPs */
	for (unsigned i = 0; i < l->n; i++)
		if (!cp_is_supplemental(&l->c[i]))
			return &l->c[i];
	return NULL;
}

static bool accepted(const struct cp_offer *o, const struct cp_codec *c)
{
	for (unsigned i = 0; i < o->n_accept; i++)
		if (name_matches(&o->accept[i], c))
			return true;
	return false;
}

/* A's codec when transcoding: B's own if A has it, else an accept-listed one, else
 * A's first codec the library handles. */
static const struct cp_codec *pick_a(const struct cp_offer *o, const struct cp_codec *same)
{
	const struct cp_codec *first = NULL;

	if (same && can_transcode(same))
		return same;
	for (unsigned i = 0; i < o->a.n; i++) {
		const struct cp_codec *c = &o->a.c[i];

		if (!can_transcode(c))
			continue;
		if (accepted(o, c))
			return c;
		if (!first)
			first = c;
	}
	return first;
}

/* Forwarding: B's answer with every codec A also offered, in A's numbers. */
static void forward(const struct cp_offer *o, const struct cp_list *bl, struct cp_answer *r)
{
	for (unsigned i = 0; i < bl->n; i++) {
		const struct cp_codec *e = &bl->c[i];
		const struct cp_codec *ac = cp_is_te(e) ? find_te(&o->a, e->clock) :
						          find_match(&o->a, e);
		struct cp_codec c;

		if (!ac)
			continue;
		c = *e;
		c.pt = ac->pt;
		if (c.pt != e->pt) {
			c.rtpmap = true;
			r->map_ba[e->pt] = c.pt;
			r->map_ab[c.pt] = e->pt;
			r->remap = true;
		}
		r->to_a.c[r->to_a.n++] = c;
	}
	r->to_a.ptime = bl->ptime;
}

int cp_answer(const struct cp_offer *o, const struct cp_list *bl,
	      const struct ng_codec_flags *f, struct cp_answer *r)
{
	const struct cp_codec *bc, *same, *ac, *ate, *bte;
	unsigned ptime_a, ptime_b, a_sends, b_sends;
	bool always, ptime_conv;

	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < 128; i++)
		r->map_ab[i] = r->map_ba[i] = (uint8_t)i;
	r->a_te = r->b_te = -1;
	bc = first_audio(bl);
	if (!bc)
		return -ENOENT;
	always = o->always_transcode || (f && f->always_transcode);
	ptime_a = f && f->ptime ? f->ptime : o->ptime_a;
	ptime_b = f && f->ptime_reverse ? f->ptime_reverse : o->ptime_b;
	a_sends = o->a.ptime ? o->a.ptime : 20;
	b_sends = bl->ptime ? bl->ptime : 20;
	ptime_conv = (ptime_b && ptime_b != a_sends) || (ptime_a && ptime_a != b_sends);

	r->b_codec = *bc;
	bte = find_te(bl, bc->clock);
	r->b_te = bte ? bte->pt : -1;
	same = find_match(&o->a, bc);
	/* events A offered but the offer to B left out (masked) are not A's to get */
	ate = same && find_te(&o->b, same->clock) ? find_te(&o->a, same->clock) : NULL;
	if (same && !always && !ptime_conv && !ate == !bte) {
		forward(o, bl, r);
		r->a_codec = *same;
		r->a_te = ate ? ate->pt : -1;
		r->changed = !lists_equal(&r->to_a, bl);
		return 0;
	}
	ac = pick_a(o, same);
	if (!ac || !can_transcode(bc)) {
		/* nothing to transcode with: forward what matches and let the ends cope */
		forward(o, bl, r);
		if (same)
			r->a_codec = *same;
		r->changed = !lists_equal(&r->to_a, bl);
		return 0;
	}
	r->transcode = true;
	r->a_codec = *ac;
	ate = find_te(&o->a, ac->clock);
	r->a_te = ate ? ate->pt : -1;
	r->to_a.c[r->to_a.n++] = *ac;
	if (ate)
		r->to_a.c[r->to_a.n++] = *ate;
	r->a_ptime = ptime_a ? ptime_a : o->a.ptime;
	r->b_ptime = ptime_b ? ptime_b : bl->ptime;
	r->to_a.ptime = r->a_ptime;
	r->changed = !lists_equal(&r->to_a, bl);
	return 0;
}

/* Does a codec (not telephone-event or CN) survive `strip`? */
static bool first_audio_keeps(const struct ng_codec_flags *f, const struct cp_list *l)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!cp_is_supplemental(&l->c[i]) && !applies(f, NG_CODEC_STRIP, &l->c[i]))
			return true;
	return false;
}

/* `strip` in an answer request: those codecs leave the answer to the offerer. An answer
 * left with nothing stays as it is. True if something was left out. */
bool cp_strip_answer(const struct ng_codec_flags *f, struct cp_list *l)
{
	unsigned n = 0;

	if (!f || !f->n[NG_CODEC_STRIP])
		return false;
	for (unsigned i = 0; i < l->n; i++)
		n += !applies(f, NG_CODEC_STRIP, &l->c[i]);
	if (n == l->n || !first_audio_keeps(f, l))
		return false;
	n = 0;
	for (unsigned i = 0; i < l->n; i++)
		if (!applies(f, NG_CODEC_STRIP, &l->c[i]))
			l->c[n++] = l->c[i];
	l->n = n;
	return true;
}

/* rtpengine's order of a rewritten answer: the codecs as they were, then telephone-event
 * and CN grouped by clock rate in the order the codecs first use each rate (a rate no
 * codec uses last), in their own order within a rate. */
void cp_order_answer(struct cp_list *l)
{
	struct cp_codec tmp[CP_MAX];
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++)
		if (!cp_is_supplemental(&l->c[i]))
			tmp[n++] = l->c[i];
	for (unsigned i = 0; i <= l->n; i++) {
		unsigned clock = 0;
		bool seen = false;

		if (i < l->n) {
			if (cp_is_supplemental(&l->c[i]))
				continue;
			clock = l->c[i].clock;
			for (unsigned k = 0; k < i && !seen; k++)
				seen = !cp_is_supplemental(&l->c[k]) && l->c[k].clock == clock;
			if (seen)
				continue;
		}
		for (unsigned k = 0; k < l->n; k++) {
			const struct cp_codec *c = &l->c[k];
			bool rate_used = false;

			if (!cp_is_supplemental(c))
				continue;
			for (unsigned j = 0; j < l->n && !rate_used; j++)
				rate_used = !cp_is_supplemental(&l->c[j]) && l->c[j].clock == c->clock;
			if (i < l->n ? c->clock == clock : !rate_used)
				tmp[n++] = *c;
		}
	}
	memcpy(l->c, tmp, n * sizeof(tmp[0]));
}

/* ---- SDP rewrite ---- */

static const struct cp_codec *by_pt(const struct cp_list *l, uint8_t pt)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->c[i].pt == pt)
			return &l->c[i];
	return NULL;
}

int cp_rewrite(const struct cp_list *orig, const struct cp_list *want, unsigned ptime,
	       struct strbuf *fmt, struct strbuf *lines, struct sdp_media_rewrite *mr)
{
	for (unsigned i = 0; i < orig->n; i++) {
		const struct cp_codec *w = by_pt(want, orig->c[i].pt);

		if (!w || !same_entry(w, &orig->c[i]))
			sdp_drop_pt_set(mr, orig->c[i].pt);
	}
	for (unsigned i = 0; i < want->n; i++) {
		const struct cp_codec *c = &want->c[i], *o = by_pt(orig, c->pt);
		char name[CP_ENC_MAX + 24];

		sb_printf(fmt, "%s%u", i ? " " : "", c->pt);
		if (o && same_entry(o, c))
			continue;
		cp_codec_name(c, name, sizeof(name));
		sb_printf(lines, "a=rtpmap:%u %s\r\n", c->pt, name);
		if (c->fmtp[0])
			sb_printf(lines, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
	}
	if (!want->n)
		return -EINVAL;
	if (fmt->oom || lines->oom)
		return -ENOMEM;
	mr->formats = fmt->buf;
	mr->codec_lines = lines->len ? lines->buf : NULL;
	mr->ptime = ptime;
	return 0;
}
