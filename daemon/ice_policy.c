/* ICE toward each side (RFC 8445), over the agent core of lib/ice.c.
 *
 * Policy (like rtpengine): with ICE=default sluice is the ICE agent toward a side that
 * offered ICE and, in an offer, toward the answerer if the offer had ICE; ICE=force
 * makes it an agent toward the side the SDP goes to in any case; ICE=force-relay too,
 * but where the SDP had no ICE the section keeps the sender's c=/m= (its default path)
 * and our candidates are typ relay (ice_policy_relay), media to and from that side
 * waiting for a selected pair (secure_handler.c); ICE=remove strips ICE toward that
 * side. The endpoint's own candidates are never passed on: each side sees only
 * sluice's candidates: a host candidate per component
 * (component 1 only with rtcp-mux) on every address of the side's logical interface,
 * IPv4 and IPv6, each with ports of its own (ice_cands.c, media_socks.h).
 *
 * Mode: a full agent (RFC 8445 6.1) toward every side, as rtpengine; lite toward a
 * side the operator names with the ICE-lite key of an offer (forward: the answerer,
 * backward: the offerer, both; off goes back to full; the choice stays for later
 * offers), and then a=ice-lite goes toward it. Role (6.1.1): controlling toward a side
 * sluice sent the offer to, controlled toward a side that offered, controlling toward
 * a lite peer whatever the offer; the role stays for the ICE session (a re-offer
 * without new credentials keeps it) and an ICE restart in an offer from the side makes
 * sluice controlled again. Checks toward a side start once sluice's credentials went
 * to it (its answer, or our offer), never while its offer waits for an answer.
 * Pacing is the ICE timer's (ice_timer.h); a selected pair moves the stream's latch to
 * the pair's remote address (ice_policy_selected).
 *
 * Trickle (RFC 8838/8840): toward a side whose SDP said a=ice-options:trickle (media or
 * session level) sluice says it too, at media level, as rtpengine does; its own
 * candidates are complete at once (a=end-of-candidates, only toward a side that trickles,
 * as rtpengine).
 * Candidates the side trickles
 * later come in NG fragments (ice_trickle.c). */
#include "secure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "media_socks.h"
#include "ng_request.h"
#include "sluice/log.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

/* The agent toward sm, made if there is none (full unless the operator asked for
 * lite, in the role sm->ice_we_offered gives) with our credentials kept from an
 * earlier agent (they are in SDP already) and a host candidate on every address of
 * the side's interface (ice_cands.c); an existing one follows a change of the
 * operator's lite choice. */
static int agent_get(struct daemon *d, struct secure_media *sm)
{
	struct ice_agent *a = sm->ice;
	int e;

	if (a) {
		if (a->lite != sm->ice_lite_self)
			ice_set_mode(a, sm->ice_lite_self, sm->ice_we_offered);
		return 0;
	}
	if (!(a = malloc(sizeof(*a))))
		return -ENOMEM;
	if ((e = ice_agent_init(a, sm->ice_lite_self, sm->ice_we_offered, ICE_MAX_COMP)))
		goto fail;
	if (sm->ice_ufrag[0]) {
		memcpy(a->ufrag, sm->ice_ufrag, sizeof(a->ufrag));
		memcpy(a->pwd, sm->ice_pwd, sizeof(a->pwd));
	}
	memcpy(sm->ice_ufrag, a->ufrag, sizeof(sm->ice_ufrag));
	memcpy(sm->ice_pwd, a->pwd, sizeof(sm->ice_pwd));
	sm->ice = a;
	/* sockets on the interface's other addresses: best effort, socket 0 suffices */
	if ((e = media_socks_open(d, sm->m)) || (e = ice_cands_add(sm)))
		goto fail;
	sm->ice_run = false;
	return 0;
fail:
	free(a);
	sm->ice = NULL;
	ice_cands_reset(&sm->cands);
	return e;
}

/* The ICE-lite key of an offer, for the offerer's side (offerer) or the answerer's. */
static void lite_choice(const struct secure_ctx *x, struct secure_media *sm, bool offerer)
{
	enum ng_ice_lite l = x->req->ice_lite;

	if (!x->offer || l == NG_ICE_LITE_KEEP)
		return;
	sm->ice_lite_self = l == NG_ICE_LITE_BOTH ||
			    l == (offerer ? NG_ICE_LITE_BKW : NG_ICE_LITE_FWD);
}

/* The media's sockets on further addresses stay (media_socks.h): if ICE comes back,
 * its candidates are the same. */
static void agent_drop(struct secure_media *sm)
{
	free(sm->ice);
	sm->ice = NULL;
	ice_cands_reset(&sm->cands);
}

static bool remote_lite(const struct sdp *sdp, unsigned i)
{
	return sdp_attr(sdp, -1, "ice-lite", 0, NULL) || sdp_attr(sdp, (int)i, "ice-lite", 0, NULL);
}

static bool attr(const struct sdp *sdp, unsigned i, const char *name, struct sdp_str *v)
{
	return sdp_attr(sdp, (int)i, name, 0, v) || sdp_attr(sdp, -1, name, 0, v);
}

/* a=ice-options lists space-separated tokens, e.g. "trickle renomination". */
static bool trickle_at(const struct sdp *sdp, int level)
{
	static const char tok[] = "trickle";
	const size_t tl = sizeof(tok) - 1;
	struct sdp_str v;

	for (unsigned n = 0; sdp_attr(sdp, level, "ice-options", n, &v); n++)
		for (size_t k = 0; k + tl <= v.len; k++)
			if (!memcmp(v.s + k, tok, tl) && (k == 0 || v.s[k - 1] == ' ') &&
			    (k + tl == v.len || v.s[k + tl] == ' '))
				return true;
	return false;
}

static bool has_trickle(const struct sdp *sdp, unsigned i)
{
	return trickle_at(sdp, (int)i) || trickle_at(sdp, -1);
}

int ice_policy_in(const struct secure_ctx *x, struct secure_media *sm, unsigned i,
		  const char **err)
{
	struct sdp_str uf, pw, v;
	bool fresh = !sm->ice;
	int r;

	lite_choice(x, sm, true);
	if (x->sdp->media[i].port == 0 || !secure_sdp_has_ice(x->sdp, i)) {
		sm->ice_offered = sm->ice_trickle = false;
		agent_drop(sm);
		return 0;
	}
	sm->ice_trickle = has_trickle(x->sdp, i);
	if (x->offer)
		sm->ice_offered = true;
	else if (!sm->ice)
		return 0;               /* ICE in an answer to an offer without it: ignore */
	if (fresh)
		sm->ice_we_offered = false;     /* this side offered: it controls */
	if (agent_get(x->d, sm)) {
		*err = "ICE agent setup failed";
		return -ENOMEM;
	}
	if (remote_lite(x->sdp, i))
		ice_set_remote_lite(sm->ice);
	if (!attr(x->sdp, i, "ice-ufrag", &uf) || !attr(x->sdp, i, "ice-pwd", &pw) ||
	    (r = ice_set_remote_creds(sm->ice, uf.s, uf.len, pw.s, pw.len)) < 0) {
		*err = "Invalid ICE credentials (a=ice-ufrag / a=ice-pwd)";
		return -EINVAL;
	}
	if (x->offer && r == 1) {
		/* the side restarted ICE with its offer: a new session, and it controls */
		sm->ice_we_offered = false;
		ice_set_mode(sm->ice, sm->ice_lite_self, false);
		sm->ice_run = false;
	}
	for (unsigned n = 0; sdp_attr(x->sdp, (int)i, "candidate", n, &v); n++) {
		struct ice_cand c;

		/* unusable ones (TCP, mDNS names) are skipped, as a browser would */
		if (!ice_parse_candidate(v.s, v.len, &c))
			ice_add_remote(sm->ice, &c);
	}
	return 0;
}

bool ice_policy_relay(const struct ng_request *r, const struct sdp *sdp, unsigned i)
{
	return r->ice == NG_ICE_FORCE_RELAY && sdp->media[i].port &&
	       !secure_sdp_has_ice(sdp, i);
}

int ice_policy_out(const struct secure_ctx *x, struct secure_media *out,
		   const struct secure_media *own, struct strbuf *lines)
{
	const struct ng_request *r = x->req;
	bool relay = ice_policy_relay(r, x->sdp, out->m->index - 1);
	struct ice_agent *a;
	bool want;

	lite_choice(x, out, false);
	if (r->ice == NG_ICE_REMOVE)
		want = false;
	else if (r->ice == NG_ICE_FORCE || r->ice == NG_ICE_FORCE_RELAY ||
		 (r->ice == NG_ICE_OPTIONAL && !(own && own->ice_offered)))
		want = true;            /* optional: as force where the SDP had no ICE */
	else
		want = x->offer ? own && own->ice_offered : out->ice_offered;
	if (out->ice && out->ice_relay != relay)
		agent_drop(out);        /* its candidates change type: made again below */
	out->ice_relay = want && relay;
	if (!want) {
		agent_drop(out);
		/* ICE=remove toward a side that trickles: rtpengine still says trickle and
		 * that its (no) candidates are complete; without ufrag/pwd the side sees no
		 * ICE (RFC 8839) and ignores both lines, which keep the SDP the same */
		if (r->ice == NG_ICE_REMOVE && out->ice_trickle)
			sb_puts(lines, "a=ice-options:trickle\r\na=end-of-candidates\r\n");
		return 0;
	}
	if (!out->ice)
		out->ice_we_offered = x->offer;
	if (agent_get(x->d, out))
		return -ENOMEM;
	out->ice_run = true;            /* the SDP with our credentials goes out now */
	a = out->ice;
	sb_printf(lines, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", a->ufrag, a->pwd);
	if (out->ice_trickle)
		sb_puts(lines, "a=ice-options:trickle\r\n");
	ice_cands_sdp(out, lines);
	/* a=end-of-candidates only toward a side that trickles, as rtpengine does (the
	 * others take the list as complete) */
	if (out->ice_trickle)
		sb_puts(lines, "a=end-of-candidates\r\n");
	return 0;
}

void ice_policy_settle(struct secure_media *sm)
{
	if (sm->ice && sm->m->rtcp_mux && sm->ice->n_comp > 1)
		sm->ice->n_comp = 1;
}

void ice_policy_selected(struct secure_media *sm)
{
	struct media *m = sm->m;

	for (unsigned c = 1; c <= sm->ice->n_comp; c++) {
		struct stream *s;
		union sockaddr_u remote;
		unsigned local, k;

		if (ice_selected(sm->ice, c, &local, &remote) ||
		    !(s = ice_cands_socket(sm, local, &k)))
			continue;
		if (s->latched && s->confirmed && !s->relearn &&
		    netaddr_eq(&s->endpoint, &remote) && s->tx_sock == k)
			continue;
		/* an authenticated check is the best evidence there is (latch.h rank 0); media
		 * to the peer leaves from the address it checked */
		s->endpoint = remote;
		s->tx_sock = (uint8_t)k;
		s->latched = s->confirmed = true;
		s->relearn = false;
		s->learn_rank = 0;
		s->has_ssrc = false;
		m->party->call->kdirty = true;
	}
}
