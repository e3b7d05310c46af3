/* BUNDLE groups: SDP in and out, and the demultiplexer (bundle.h). */
#include "bundle.h"

#include <stdio.h>
#include <string.h>

#include "secure.h"
#include "sluice/rtp.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

static bool pt_has(const struct media *m, unsigned pt)
{
	return pt < 128 && (m->pts[pt / 8] & (1u << (pt % 8)));
}

void bundle_sdp_fix(struct sdp *sdp)
{
	unsigned idx[SDP_MAX_MEDIA];
	int n;

	for (unsigned g = 0; (n = sdp_bundle_group(sdp, g, idx)) >= 0; g++) {
		uint16_t port = 0;

		for (int k = 0; k < n && !port; k++)
			port = sdp->media[idx[k]].port;
		for (int k = 0; k < n && port; k++)
			if (!sdp->media[idx[k]].port && sdp_attr(sdp, (int)idx[k], "bundle-only", 0, NULL))
				sdp->media[idx[k]].port = port;
	}
}

static void record(const struct sdp *sdp, unsigned i, struct media *m)
{
	struct sdp_pt pts[128];
	struct sdp_str v;
	int n = sdp_rtpmap(sdp, i, pts, 128);

	memset(m->pts, 0, sizeof(m->pts));
	for (int k = 0; k < n; k++)
		m->pts[pts[k].pt / 8] |= (uint8_t)(1u << (pts[k].pt % 8));
	m->mid[0] = '\0';
	if (sdp_attr(sdp, (int)i, "mid", 0, &v))
		snprintf(m->mid, sizeof(m->mid), "%.*s", (int)v.len, v.s);
}

static void unbundle(struct party *p, struct media *tag)
{
	for (unsigned i = 0; i < p->n_media; i++)
		if (p->media[i] && p->media[i]->bundle == tag)
			p->media[i]->bundle = NULL;
	tag->bundle_tag = false;
}

void bundle_in(const struct sdp *sdp, struct party *owner, struct party *peer, bool offer)
{
	unsigned idx[SDP_MAX_MEDIA];
	int n;

	for (unsigned i = 0; i < sdp->n_media; i++) {
		struct media *m = owner->media[i];

		record(sdp, i, m);
		m->bundle = NULL;
		m->bundle_tag = false;
	}
	for (unsigned g = 0; (n = sdp_bundle_group(sdp, g, idx)) >= 0; g++) {
		struct media *tag = NULL;

		for (int k = 0; k < n; k++) {
			struct media *m = owner->media[idx[k]];

			/* rejected, or already in an earlier group */
			if (!sdp->media[idx[k]].port || m->bundle || m->bundle_tag)
				continue;
			if (!tag)
				tag = m;
			else
				m->bundle = tag;
		}
		if (tag)
			tag->bundle_tag = true;
	}
	if (offer || !peer)
		return;
	/* the answer rejected some of the offerer's members: they leave its group; without
	 * its tagged section the group is not answered at all */
	for (unsigned i = 0; i < sdp->n_media && i < peer->n_media; i++) {
		struct media *m = peer->media[i];

		if (!m || sdp->media[i].port)
			continue;
		if (m->bundle_tag)
			unbundle(peer, m);
		m->bundle = NULL;
	}
	/* settled: the members' own keys, DTLS and ICE give way to the tagged section's */
	for (unsigned i = 0; i < peer->n_media; i++)
		if (peer->media[i] && peer->media[i]->bundle && peer->media[i]->sec)
			secure_bundled(peer->media[i]->sec);
}

void bundle_out(const struct sdp *sdp, struct party *out, bool offer, struct sdp_rewrite *rw,
		struct strbuf *lines)
{
	unsigned n = sdp->n_media;

	for (unsigned i = 0; i < n && i < out->n_media; i++) {
		struct sdp_media_rewrite *mr = &rw->media[i];
		const struct media *m = out->media[i], *t = m->bundle;

		mr->drop_bundle_only = true;
		if (t && mr->port) {
			const struct sdp_media_rewrite *tr = &rw->media[t->index - 1];

			mr->port = tr->port;
			mr->rtcp_port = tr->rtcp_port;
			mr->rtcp_mux = tr->rtcp_mux;
		}
		/* the answer names the offer's a=mid (RFC 5888) even if the answerer had none */
		if (!offer && m->mid[0] && !sdp_attr(sdp, (int)i, "mid", 0, NULL)) {
			if (rw->reorder)
				mr->add_mid = m->mid;
			else
				sb_printf(&lines[i], "a=mid:%s\r\n", m->mid);
		}
	}
	if (offer)
		return;
	rw->drop_bundle_groups = true;
	for (unsigned i = 0; i < n && i < out->n_media; i++) {
		const struct media *t = out->media[i];

		if (!t->bundle_tag || !rw->media[i].port)
			continue;
		sb_printf(&lines[n], "a=group:BUNDLE %s", t->mid);
		for (unsigned k = 0; k < out->n_media; k++)
			if (out->media[k] && out->media[k]->bundle == t && rw->media[k].port)
				sb_printf(&lines[n], " %s", out->media[k]->mid);
		sb_puts(&lines[n], "\r\n");
	}
}

struct stream *bundle_demux(struct stream *s, const uint8_t *p, size_t len)
{
	struct media *tag = s->media;
	struct party *pa = tag->party;
	bool rtcp = s->component == COMP_RTCP || rtp_is_rtcp(p, len);
	uint32_t ssrc;

	if ((rtcp ? rtcp_ssrc(p, len, &ssrc) : rtp_ssrc(p, len, &ssrc)))
		return s;               /* STUN, DTLS, junk: the transport's own */
	if (!rtcp && pt_has(tag, p[1] & 0x7f))
		return s;
	for (unsigned i = 0; i < pa->n_media; i++) {
		struct media *m = pa->media[i];

		if (!m || m->bundle != tag)
			continue;
		if (!rtcp && pt_has(m, p[1] & 0x7f)) {
			m->rtp.ssrc = ssrc;
			m->rtp.has_ssrc = true;
			return &m->rtp;
		}
		/* RTCP of a member's sender; the tagged section's own stream records the
		 * latest SSRC of any member, so it is the fallback, not a candidate */
		if (rtcp && m->rtp.has_ssrc && m->rtp.ssrc == ssrc)
			return s->component == COMP_RTCP ? &m->rtcp : &m->rtp;
	}
	/* RTP of a payload type no section of the group has: nowhere to go (RFC 8843 9.2) */
	if (!rtcp)
		return NULL;
	return s;
}
