/* Codec negotiation glue between offer_answer.c, codec_policy.c and the handlers. */
#include "oa_codecs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec_policy.h"
#include "sluice/log.h"
#include "transcode_handler.h"

struct oa_codecs {
	bool set[SDP_MAX_MEDIA];
	struct sdp_media_rewrite mr[SDP_MAX_MEDIA];     /* only the codec fields */
	struct strbuf fmt[SDP_MAX_MEDIA], lines[SDP_MAX_MEDIA];
};

static const char *party_tag(const struct party *p)
{
	return p->n_tags ? p->tags[0].tag : NULL;
}

static struct oa_codecs *get(struct oa_codecs **c)
{
	if (!*c) {
		*c = calloc(1, sizeof(**c));
		if (*c)
			for (unsigned i = 0; i < SDP_MAX_MEDIA; i++) {
				sb_init(&(*c)->fmt[i]);
				sb_init(&(*c)->lines[i]);
			}
	}
	return *c;
}

static int rewrite(struct oa_codecs **out, unsigned i, const struct cp_list *orig,
		   const struct cp_list *want, unsigned ptime)
{
	struct oa_codecs *c = get(out);

	if (!c)
		return -ENOMEM;
	if (cp_rewrite(orig, want, ptime, &c->fmt[i], &c->lines[i], &c->mr[i]))
		return -ENOMEM;
	c->set[i] = true;
	return 0;
}

static void describe(const struct cp_list *l, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < l->n && off + 1 < cap; i++) {
		char name[64];
		int n;

		cp_codec_name(&l->c[i], name, sizeof(name));
		n = snprintf(buf + off, cap - off, "%s%u %s", i ? ", " : "", l->c[i].pt, name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int oa_codecs_offer(struct oa_codecs **out, const struct ng_request *req,
		    const struct sdp *sdp, struct party *offerer, const char **err)
{
	struct cp_list *in = NULL;
	const char *callid = offerer->call->callid;
	const char *why = cp_unavailable(&req->codec);
	int e = 0;

	if (why) {
		/* an error, not a silent skip: the proxy asked for a codec on purpose */
		clog(LOG_WARNING, callid, party_tag(offerer), "offer refused: %s", why);
		*err = why;
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < sdp->n_media && i < offerer->n_media; i++) {
		struct media *m = offerer->media[i];
		struct cp_offer *neg;
		char desc[256];

		if (!m)
			continue;
		free(m->neg);
		m->neg = NULL;
		if (!ng_codec_any(&req->codec) || sdp->media[i].port == 0)
			continue;
		if (!in && !(in = malloc(sizeof(*in)))) {
			e = -ENOMEM;
			break;
		}
		if (cp_list_from_sdp(sdp, i, in))
			continue;       /* not RTP (T.38 ...), or absurdly many formats */
		if (!(neg = malloc(sizeof(*neg)))) {
			e = -ENOMEM;
			break;
		}
		if (cp_offer(in, &req->codec, neg)) {
			clog(LOG_WARNING, callid, party_tag(offerer),
			     "media %u: codec flags leave no codec to offer; left as offered",
			     i + 1);
			free(neg);
			continue;
		}
		m->neg = neg;
		describe(&neg->b, desc, sizeof(desc));
		clog(LOG_INFO, callid, party_tag(offerer), "media %u: offering %s", i + 1, desc);
		if ((neg->changed || neg->ptime_b) &&
		    (e = rewrite(out, i, in, &neg->b, neg->ptime_b)))
			break;
	}
	free(in);
	if (e)
		*err = "Out of memory";
	return e;
}

/* Was pt in the offer the answerer got: B's list of the codec negotiation, else the
 * offerer's own m= line (relayed as it was). */
static bool offered_pt(const struct media *om, uint8_t pt)
{
	const struct cp_list *b = om->neg ? &om->neg->b : NULL;

	if (b) {
		for (unsigned k = 0; k < b->n; k++)
			if (b->c[k].pt == pt)
				return true;
		return false;
	}
	return pt < 128 && (om->pts[pt / 8] & (1u << (pt % 8)));
}

/* Like rtpengine, leave out of the answer what the offer to the answerer did not have
 * (RFC 3264 6.1 allows only a subset). An answer left with nothing stays as it is.
 * True if something was left out. */
static bool answer_subset(struct cp_list *bl, const struct media *om)
{
	unsigned n = 0;

	for (unsigned k = 0; k < bl->n; k++)
		if (offered_pt(om, bl->c[k].pt))
			n++;
	if (n == bl->n || n == 0)
		return false;
	n = 0;
	for (unsigned k = 0; k < bl->n; k++)
		if (offered_pt(om, bl->c[k].pt))
			bl->c[n++] = bl->c[k];
	bl->n = n;
	return true;
}

static bool supplemental(const struct cp_codec *c)
{
	return !strcasecmp(c->enc, "telephone-event") || !strcasecmp(c->enc, "CN");
}

/* single-codec: the answer keeps its first codec (and telephone-event, CN). True if
 * something was left out. */
static bool single_codec(struct cp_list *bl)
{
	unsigned n = 0;
	bool first = false;

	for (unsigned k = 0; k < bl->n; k++) {
		if (!supplemental(&bl->c[k])) {
			if (first)
				continue;
			first = true;
		}
		bl->c[n++] = bl->c[k];
	}
	if (n == bl->n)
		return false;
	bl->n = n;
	return true;
}

/* One section of the answer; full: scratch for the answer's own list. */
static int answer_media(struct oa_codecs **out, const struct ng_request *req,
			const struct sdp *sdp, unsigned i, struct media *om, struct media *am,
			struct cp_list *bl, struct cp_list *full, struct cp_answer *ans,
			const char **err)
{
	const char *callid = om->party->call->callid;
	unsigned ptime = 0;
	bool subset;
	int e;

	if (sdp->media[i].port == 0 || cp_list_from_sdp(sdp, i, full))
		return xcode_apply(om, am, NULL);
	*bl = *full;
	subset = answer_subset(bl, om);
	if (cp_strip_answer(&req->codec, bl))
		subset = true;
	if (req->single_codec && single_codec(bl))
		subset = true;
	if (!om->neg || cp_answer(om->neg, bl, &req->codec, ans)) {
		cp_order_answer(bl);
		if (subset && rewrite(out, i, full, bl, 0)) {
			*err = "Out of memory";
			return -ENOMEM;
		}
		return xcode_apply(om, am, NULL);
	}
	if (ans->transcode) {
		ptime = ans->a_ptime;
		if (!ptime && bl->ptime)        /* B's ptime would be wrong for A */
			ptime = ans->a_codec.def->default_ptime;
	}
	if (!ans->to_a.n)               /* nothing of it A can use: as it is */
		return xcode_apply(om, am, NULL);
	cp_order_answer(&ans->to_a);
	if ((subset || ans->changed || (ptime && ptime != bl->ptime)) &&
	    rewrite(out, i, full, &ans->to_a, ptime)) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	e = xcode_apply(om, am, ans);
	if (e) {
		clog(LOG_ERR, callid, party_tag(om->party),
		     "media %u: cannot set up transcoding %s <-> %s: %s", i + 1, ans->a_codec.enc,
		     ans->b_codec.enc, strerror(-e));
		*err = "Failed to set up transcoding";
		return e;
	}
	if (ans->transcode)
		clog(LOG_INFO, callid, party_tag(om->party),
		     "media %u: transcoding %s/%u (pt %u, ptime %u) <-> %s/%u (pt %u, ptime %u)",
		     i + 1, ans->a_codec.enc, ans->a_codec.clock, ans->a_codec.pt, ans->a_ptime,
		     ans->b_codec.enc, ans->b_codec.clock, ans->b_codec.pt, ans->b_ptime);
	else if (ans->remap)
		clog(LOG_INFO, callid, party_tag(om->party),
		     "media %u: forwarding with payload types renumbered", i + 1);
	return 0;
}

int oa_codecs_answer(struct oa_codecs **out, const struct ng_request *req,
		     const struct sdp *sdp, struct party *answerer, struct party *offerer,
		     const char **err)
{
	struct cp_list *bl = malloc(sizeof(*bl)), *full = malloc(sizeof(*full));
	struct cp_answer *ans = malloc(sizeof(*ans));
	int e = 0;

	if (!bl || !full || !ans) {
		*err = "Out of memory";
		e = -ENOMEM;
		goto done;
	}
	for (unsigned i = 0; i < sdp->n_media && !e; i++) {
		struct media *om = i < offerer->n_media ? offerer->media[i] : NULL;
		struct media *am = i < answerer->n_media ? answerer->media[i] : NULL;

		if (om && am)
			e = answer_media(out, req, sdp, i, om, am, bl, full, ans, err);
	}
done:
	free(bl);
	free(full);
	free(ans);
	return e;
}

void oa_codecs_rewrite(const struct oa_codecs *c, struct sdp_rewrite *rw)
{
	if (!c)
		return;
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++) {
		struct sdp_media_rewrite *mr = &rw->media[i];

		if (!c->set[i])
			continue;
		mr->formats = c->mr[i].formats;
		memcpy(mr->drop_pt, c->mr[i].drop_pt, sizeof(mr->drop_pt));
		mr->codec_lines = c->mr[i].codec_lines;
		mr->ptime = c->mr[i].ptime;
	}
}

void oa_codecs_free(struct oa_codecs *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < SDP_MAX_MEDIA; i++) {
		sb_free(&c->fmt[i]);
		sb_free(&c->lines[i]);
	}
	free(c);
}
