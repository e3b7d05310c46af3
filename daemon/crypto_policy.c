/* Transport protocols, SDES and DTLS-SRTP in offers and answers.
 *
 * sluice terminates SRTP on every encrypted side: each side gets its own keys (SDES:
 * ours in our SDP toward it, its own from its a=crypto; DTLS: its own handshake with
 * us), so a call may be plain on one side and SRTP on the other, or SRTP on both with
 * different keys and suites. Encrypted media is never passed through end to end.
 *
 * SDES (RFC 4568): toward an answerer we offer, as rtpengine, the offerer's own suites
 * first (its tags, our keys) and then every other allowed suite of sdes_default_order
 * (SDES-no/-only/-off filtered), one fresh key each, and learn from its answer which tag
 * it took. From an offerer we accept its first line whose suite is allowed (its order,
 * RFC 4568 7.1.1) and answer with a fresh key of that suite and tag. Keys stay the same
 * over re-offers unless the suite changes.
 *
 * Both keyings on both SRTP protocols, as rtpengine: an offer on RTP/SAVP(F) carries
 * our a=crypto lines and DTLS's a=setup/a=fingerprint, and so does one on
 * UDP/TLS/RTP/SAVP(F); the answer's attributes say which the side took (keying()). An
 * offer that carries both is taken as DTLS.
 *
 * DTLS (RFC 5763): toward an answerer we write a=setup:actpass and settle the role
 * from its answer; toward an offerer we answer active to actpass (dtls_setup_answer),
 * or what DTLS=passive|active (DTLS-reverse= of its offer) asks. Without rtcp-mux
 * each component is a DTLS association of its own (RFC 5764 4.1): the RTCP port then
 * runs a second handshake, in the same role and for the same fingerprint, whose keys
 * protect what goes through that port (secure_rtcp). It exists while the side may not
 * multiplex: during an offer when mux was not offered (toward the answerer: not offered
 * to it), after the answer when mux was not agreed; with mux, RTCP shares the RTP
 * handshake's keys. */
#include "secure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "ng_request.h"
#include "sluice/log.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

static const char *const drop_media[] = {
	"crypto", "fingerprint", "setup", "tls-id", "connection", NULL
};
static const char *const drop_session[] = {
	"crypto", "fingerprint", "setup", "tls-id", "ice-lite", NULL
};

static const struct { const char *name; enum sec_transport tp; } protos[] = {
	{ "RTP/AVP", SEC_PLAIN }, { "RTP/AVPF", SEC_PLAIN },
	{ "RTP/SAVP", SEC_SDES }, { "RTP/SAVPF", SEC_SDES },
	{ "UDP/TLS/RTP/SAVP", SEC_DTLS }, { "UDP/TLS/RTP/SAVPF", SEC_DTLS },
};

/* false: not an RTP protocol we know (udptl, TCP/..., typos) */
static bool proto_parse(const char *s, size_t len, enum sec_transport *tp)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strlen(protos[i].name) == len && !strncasecmp(protos[i].name, s, len)) {
			*tp = protos[i].tp;
			return true;
		}
	*tp = SEC_PLAIN;
	return false;
}

const char *secure_transport_name(enum sec_transport t)
{
	switch (t) {
	case SEC_SDES: return "SDES";
	case SEC_DTLS: return "DTLS";
	default:       return "plain";
	}
}

int secure_check_proto(const struct secure_ctx *x, const char **err)
{
	const struct ng_str *tp = &x->req->transport_protocol;
	enum sec_transport t;

	if (!tp->len)
		return 0;
	if (!proto_parse(tp->s, tp->len, &t)) {
		*err = "Unsupported transport-protocol";
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < x->sdp->n_media; i++) {
		const struct sdp_media *sm = &x->sdp->media[i];

		if (sm->port && !proto_parse(sm->proto.s, sm->proto.len, &t) &&
		    !(sm->proto.len == tp->len && !strncasecmp(sm->proto.s, tp->s, tp->len))) {
			*err = "transport-protocol conversion of a non-RTP media section";
			return -ENOTSUP;
		}
	}
	return 0;
}

bool secure_sdp_has_ice(const struct sdp *sdp, unsigned i)
{
	return sdp_attr(sdp, (int)i, "ice-ufrag", 0, NULL) ||
	       sdp_attr(sdp, -1, "ice-ufrag", 0, NULL);
}

/* ---- SRTP contexts ---- */

int secure_srtp_set(struct srtpw *s, struct srtpw_key *cur, const struct srtpw_key *k,
		    enum srtpw_dir dir)
{
	int e;

	if (srtpw_is_set(s) && !memcmp(cur, k, sizeof(*k)))
		return 0;
	srtpw_free(s);
	e = srtpw_init(s, k, dir);
	if (!e)
		*cur = *k;
	return e;
}

void secure_srtp_clear(struct secure_media *sm)
{
	srtpw_free(&sm->rx);
	srtpw_free(&sm->tx);
	sm->suite = SRTPW_SUITE_NONE;
}

static int set_keys(struct secure_media *sm, const struct srtpw_key *rx,
		    const struct srtpw_key *tx)
{
	int e = secure_srtp_set(&sm->rx, &sm->rx_key, rx, SRTPW_INBOUND);

	if (!e)
		e = secure_srtp_set(&sm->tx, &sm->tx_key, tx, SRTPW_OUTBOUND);
	sm->suite = e ? SRTPW_SUITE_NONE : tx->suite;
	return e;
}

/* ---- SDES ---- */

static unsigned sdes_mask(const struct ng_request *r)
{
	unsigned m = SDES_ALL;

	if (r->crypto.sdes_off)
		return 0;
	if (r->crypto.sdes_only)
		m &= r->crypto.sdes_only;
	return m & ~r->crypto.sdes_no;
}

/* The request's SDES options on one of our keys: session parameters as `like` has
 * them (the offerer's line we answer; NULL: none), then forced on or off; lifetime;
 * padding. UNENCRYPTED/UNAUTHENTICATED do not exist for the AEAD suites (RFC 7714). */
static void sdes_opts(const struct ng_request *r, struct sdes_crypto *c,
		      const struct sdes_crypto *like)
{
	const struct ng_crypto_opts *o = &r->crypto;
	bool aead = srtpw_suite_info(c->key.suite)->aead;

	c->key.unencrypted_srtp = like && like->key.unencrypted_srtp;
	c->key.unencrypted_srtcp = like && like->key.unencrypted_srtcp;
	c->key.unauthenticated_srtp = like && like->key.unauthenticated_srtp;
	if (!aead) {
		if (o->sdes_set & NG_SDES_UNENC_SRTP)
			c->key.unencrypted_srtp = true;
		if (o->sdes_set & NG_SDES_UNENC_SRTCP)
			c->key.unencrypted_srtcp = true;
		if (o->sdes_set & NG_SDES_UNAUTH_SRTP)
			c->key.unauthenticated_srtp = true;
	}
	if (o->sdes_clear & NG_SDES_UNENC_SRTP)
		c->key.unencrypted_srtp = false;
	if (o->sdes_clear & NG_SDES_UNENC_SRTCP)
		c->key.unencrypted_srtcp = false;
	if (o->sdes_clear & NG_SDES_UNAUTH_SRTP)
		c->key.unauthenticated_srtp = false;
	c->lifetime = o->sdes_lifetime ? 1ull << 31 : 0;
	c->pad = o->sdes_pad;
}

/* This side's a=crypto lines of section i into sm->theirs. -EINVAL if lines were
 * present but none parsed and at least one was malformed. */
static int sdes_read(const struct sdp *sdp, unsigned i, struct secure_media *sm)
{
	struct sdp_str v;
	int bad = 0;

	sm->n_theirs = 0;
	for (unsigned n = 0; sdp_attr(sdp, (int)i, "crypto", n, &v); n++) {
		int e;

		if (sm->n_theirs == SEC_SDES_MAX)
			break;
		e = sdes_parse(v.s, v.len, &sm->theirs[sm->n_theirs]);
		if (!e)
			sm->n_theirs++;
		else if (e == -EINVAL)
			bad++;
	}
	return !sm->n_theirs && bad ? -EINVAL : 0;
}

/* Our key for suite with tag, reusing the one we already gave this side. */
static int sdes_ours(struct secure_media *sm, unsigned slot, uint32_t tag,
		     enum srtpw_suite suite)
{
	for (unsigned k = 0; k < sm->n_ours; k++)
		if (sm->ours[k].key.suite == suite) {
			struct sdes_crypto keep = sm->ours[k];
			keep.tag = tag;
			sm->ours[slot] = keep;
			return 0;
		}
	return sdes_generate(&sm->ours[slot], tag, suite);
}

/* Offerer side: accept its first allowed line, make our key for it. */
static int sdes_in_offer(const struct secure_ctx *x, struct secure_media *sm, const char **err)
{
	int idx = sdes_choose(sm->theirs, sm->n_theirs, sdes_mask(x->req));
	const struct sdes_crypto *c;

	if (idx < 0) {
		*err = "No acceptable SDES crypto suite offered";
		return -ENOTSUP;
	}
	c = &sm->theirs[idx];
	sm->chosen = idx;
	if (sdes_ours(sm, 0, c->tag, c->key.suite)) {
		*err = "Failed to generate an SRTP key";
		return -EIO;
	}
	sm->n_ours = 1;
	sdes_opts(x->req, &sm->ours[0], c);
	if (set_keys(sm, &c->key, &sm->ours[0].key)) {
		*err = "Failed to set up SRTP";
		return -EIO;
	}
	return 0;
}

/* Answerer side: its line names one of the tags we offered; failing that (answerers
 * that renumber, and rtpengine accepts them), one of the suites we offered. */
static int sdes_in_answer(struct secure_media *sm, const char **err)
{
	for (int by_tag = 1; by_tag >= 0; by_tag--)
		for (unsigned t = 0; t < sm->n_theirs; t++)
			for (unsigned k = 0; k < sm->n_ours; k++) {
				if ((by_tag && sm->theirs[t].tag != sm->ours[k].tag) ||
				    sm->theirs[t].key.suite != sm->ours[k].key.suite)
					continue;
				sm->ours[0] = sm->ours[k];
				sm->ours[0].tag = sm->theirs[t].tag;
				sm->n_ours = 1;
				sm->chosen = (int)t;
				if (set_keys(sm, &sm->theirs[t].key, &sm->ours[0].key)) {
					*err = "Failed to set up SRTP";
					return -EIO;
				}
				return 0;
			}
	*err = "SDES answer does not match any offered a=crypto line";
	return -EINVAL;
}

/* Our key for suite with tag: the one of old[0..n) for that suite (a re-offer keeps
 * keys), else a fresh one. */
static int sdes_key(const struct sdes_crypto *old, unsigned n, enum srtpw_suite suite,
		    uint32_t tag, struct sdes_crypto *out)
{
	for (unsigned k = 0; k < n; k++)
		if (old[k].key.suite == suite) {
			*out = old[k];
			out->tag = tag;
			return 0;
		}
	return sdes_generate(out, tag, suite);
}

/* Toward an answerer, rtpengine's list: first the suites of the offerer's own a=crypto
 * lines (`from`, NULL if none; its order, its tags, its session parameters, our keys),
 * then every other allowed suite in sdes_default_order, tagged on from the highest tag
 * so far. */
static int sdes_out_offer(const struct secure_ctx *x, struct secure_media *sm,
			  const struct secure_media *from, const char **err)
{
	struct sdes_crypto tmp[SEC_SDES_MAX];
	unsigned mask = sdes_mask(x->req), listed = 0, n = 0;
	unsigned n_from = from ? from->n_theirs : 0;
	uint32_t tag = 0;

	for (unsigned k = 0; k < n_from + SDES_N_SUITES && n < SEC_SDES_MAX; k++) {
		const struct sdes_crypto *like = k < n_from ? &from->theirs[k] : NULL;
		enum srtpw_suite s = like ? like->key.suite : sdes_default_order[k - n_from];
		uint32_t t = like ? like->tag : tag + 1;

		if (!(mask & SDES_BIT(s)) || (listed & SDES_BIT(s)) || t > SDES_TAG_MAX)
			continue;
		if (sdes_key(sm->ours, sm->n_ours, s, t, &tmp[n])) {
			*err = "Failed to generate an SRTP key";
			return -EIO;
		}
		sdes_opts(x->req, &tmp[n++], like);
		listed |= SDES_BIT(s);
		if (t > tag)
			tag = t;
	}
	if (!n) {
		*err = "No SDES crypto suite left to offer (SDES options)";
		return -ENOTSUP;
	}
	memcpy(sm->ours, tmp, n * sizeof(tmp[0]));
	sm->n_ours = n;
	return 0;
}

static int sdes_lines(const struct secure_media *sm, struct strbuf *lines)
{
	char v[SDES_VALUE_MAX];

	for (unsigned k = 0; k < sm->n_ours; k++) {
		if (sdes_format(&sm->ours[k], v, sizeof(v)) < 0)
			return -EINVAL;
		sb_printf(lines, "a=crypto:%s\r\n", v);
	}
	return 0;
}

/* ---- DTLS ---- */

static void dtls_read(const struct sdp *sdp, unsigned i, struct secure_media *sm)
{
	struct sdp_str v;

	sm->has_fp = false;
	if ((sdp_attr(sdp, (int)i, "fingerprint", 0, &v) ||
	     sdp_attr(sdp, -1, "fingerprint", 0, &v)) &&
	    !dtls_fingerprint_parse(v.s, v.len, &sm->fp))
		sm->has_fp = true;
	sm->their_setup = DTLS_SETUP_NONE;
	if (sdp_attr(sdp, (int)i, "setup", 0, &v) || sdp_attr(sdp, -1, "setup", 0, &v))
		dtls_setup_parse(v.s, v.len, &sm->their_setup);
}

static void rtcp_drop(struct secure_media *sm)
{
	dtls_free(sm->rtcp.dtls);
	sm->rtcp.dtls = NULL;
	sm->rtcp.keyed = false;
	srtpw_free(&sm->rtcp.rx);
	srtpw_free(&sm->rtcp.tx);
}

/* May this side send RTCP on its own port (so run a handshake there)? In an offer mux
 * is not settled yet: only its absence from the SDP rules it out. */
static bool rtcp_separate(const struct secure_ctx *x, const struct secure_media *sm)
{
	return x->offer ? !sm->m->rtcp_mux_offered : !sm->m->rtcp_mux;
}

/* Make (or keep) the endpoint in the given role, with the peer's fingerprint, and the
 * RTCP component's own if the side may not multiplex. */
static int dtls_ensure(const struct secure_ctx *x, struct secure_media *sm, bool client)
{
	const struct dtls_cert *cert = x->d->dtls_cert;
	int e;

	if (!cert)
		return -ENOKEY;
	if (sm->dtls && (sm->dtls_client != client || dtls_state(sm->dtls) == DTLS_FAILED)) {
		dtls_free(sm->dtls);
		sm->dtls = NULL;
	}
	if (!sm->dtls) {
		if ((e = dtls_new(&sm->dtls, cert, client)))
			return e;
		sm->dtls_client = client;
		sm->dtls_keyed = false;
		secure_srtp_clear(sm);
		rtcp_drop(sm);          /* a new role for both components */
	}
	if (sm->has_fp && (e = dtls_set_remote_fingerprint(sm->dtls, &sm->fp)))
		return e;
	if (!rtcp_separate(x, sm)) {
		rtcp_drop(sm);
		return 0;
	}
	if (sm->rtcp.dtls && dtls_state(sm->rtcp.dtls) == DTLS_FAILED)
		rtcp_drop(sm);
	if (!sm->rtcp.dtls && (e = dtls_new(&sm->rtcp.dtls, cert, client)))
		return e;
	if (sm->has_fp && (e = dtls_set_remote_fingerprint(sm->rtcp.dtls, &sm->fp)))
		return e;
	return 0;
}

static enum dtls_setup ng_setup(enum ng_dtls d)
{
	return d == NG_DTLS_PASSIVE ? DTLS_SETUP_PASSIVE :
	       d == NG_DTLS_ACTIVE ? DTLS_SETUP_ACTIVE : DTLS_SETUP_NONE;
}

/* The role asked for toward sm's side: DTLS= of this request, else (answer toward the
 * offerer) the DTLS-reverse= its offer carried. */
static enum dtls_setup flag_setup(const struct secure_ctx *x, const struct secure_media *sm)
{
	enum dtls_setup s = ng_setup(x->req->crypto.dtls);

	return s != DTLS_SETUP_NONE || x->offer ? s : sm->reverse_setup;
}

/* Our role toward an answerer that answered actpass to our actpass, which RFC 5763 5
 * does not allow but endpoints do (a WebRTC caller answering a re-INVITE with its own
 * offer SDP; rtpengine accepts it): "either" is taken at its word. The role of the
 * association we have goes on (no new handshake), else DTLS= of our offer, else
 * active: a client's hello starts the handshake whatever the peer waits for, where two
 * servers would wait for ever. */
static bool actpass_answered(const struct secure_media *sm)
{
	bool client = sm->dtls ? sm->dtls_client : sm->offer_pref != DTLS_SETUP_PASSIVE;

	clog(LOG_NOTICE, sm->m->party->call->callid, NULL, "media %u: answer with "
	     "a=setup:actpass (RFC 5763 wants active or passive), taken as leaving the DTLS "
	     "role to us: %s", sm->m->index, client ? "active (client)" : "passive (server)");
	return client;
}

/* Answerer side: its a=setup settles who is the client. */
static int dtls_in_answer(const struct secure_ctx *x, struct secure_media *sm, const char **err)
{
	bool client;

	/* an answer that took DTLS we did not offer (DTLS=off in the offer): we are
	 * flexible, as if we had offered actpass */
	if (sm->our_setup == DTLS_SETUP_NONE)
		sm->our_setup = DTLS_SETUP_ACTPASS;
	if (sm->our_setup == DTLS_SETUP_ACTPASS && sm->their_setup == DTLS_SETUP_ACTPASS) {
		client = actpass_answered(sm);
	} else if (dtls_setup_resolve(sm->our_setup, sm->their_setup, &client)) {
		*err = "Incompatible a=setup in the answer";
		return -EINVAL;
	}
	if (dtls_ensure(x, sm, client)) {
		*err = "DTLS setup failed";
		return -EIO;
	}
	return 0;
}

/* Toward an offerer (answer) or an answerer (offer): our a=setup, the endpoint as far
 * as the role is known, and the lines. */
static int dtls_out(const struct secure_ctx *x, struct secure_media *sm, struct strbuf *lines,
		    const char **err)
{
	enum dtls_setup want = flag_setup(x, sm);
	bool client;
	int e = 0;

	if (x->req->crypto.dtls == NG_DTLS_OFF) {
		*err = "DTLS=off with a UDP/TLS transport protocol";
		return -ENOTSUP;
	}
	if (!x->d->dtls_cert) {
		*err = "No DTLS certificate";
		return -ENOKEY;
	}
	if (x->offer) {
		/* an offerer says actpass (RFC 5763 5), whatever DTLS= prefers: as rtpengine,
		 * the answerer picks the role; the preference serves if it leaves it to us */
		sm->our_setup = DTLS_SETUP_ACTPASS;
		sm->offer_pref = want;
	} else if (want != DTLS_SETUP_NONE) {
		sm->our_setup = want;
		e = dtls_ensure(x, sm, want == DTLS_SETUP_ACTIVE);
	} else {
		if (dtls_setup_answer(sm->their_setup, &sm->our_setup, &client)) {
			*err = "Unusable a=setup in the offer";
			return -EINVAL;
		}
		e = dtls_ensure(x, sm, client);
	}
	if (e) {
		*err = "DTLS setup failed";
		return e;
	}
	/* our fingerprint's hash: DTLS-fingerprint, else the side's own one's */
	sb_printf(lines, "a=setup:%s\r\na=fingerprint:%s\r\n",     /* rtpengine's order */
		  dtls_setup_name(sm->our_setup),
		  dtls_cert_fingerprint_hash(x->d->dtls_cert, x->req->crypto.dtls_hash ?
			(enum dtls_hash)x->req->crypto.dtls_hash :
			sm->has_fp ? sm->fp.hash : DTLS_HASH_SHA256));
	return 0;
}

/* ---- per side ---- */

static void to_plain(struct secure_media *sm)
{
	secure_srtp_clear(sm);
	dtls_free(sm->dtls);
	sm->dtls = NULL;
	sm->dtls_keyed = false;
	rtcp_drop(sm);
}

void secure_bundled(struct secure_media *sm)
{
	to_plain(sm);
	free(sm->ice);
	sm->ice = NULL;
	ice_cands_reset(&sm->cands);
}

/* An OSRTP offer (RFC 8643): take its first usable line and make our key for it, as
 * for SDES, but the side stays plain until the answer settles it (osrtp_answer). A
 * line sluice cannot use leaves the offer plain, as OSRTP allows. */
static void osrtp_offer_in(const struct secure_ctx *x, struct secure_media *sm)
{
	int idx;

	sm->osrtp_in = false;
	sm->osrtp_accept = x->req->crypto.osrtp & NG_OSRTP_ACCEPT;
	if (sdes_read(x->sdp, sm->m->index - 1, sm) ||
	    (idx = sdes_choose(sm->theirs, sm->n_theirs, sdes_mask(x->req))) < 0)
		return;
	sm->chosen = idx;
	if (sdes_ours(sm, 0, sm->theirs[idx].tag, sm->theirs[idx].key.suite))
		return;
	sm->n_ours = 1;
	sdes_opts(x->req, &sm->ours[0], &sm->theirs[idx]);
	sm->osrtp_in = true;
}

/* Answer toward an OSRTP offerer: SRTP with it if the answerer took SRTP (our OSRTP
 * offer, or an SRTP protocol) or OSRTP=accept was given; else it stays plain. */
static int osrtp_answer(const struct secure_ctx *x, struct secure_media *sm,
			const struct secure_media *answerer, struct strbuf *lines,
			const char **err)
{
	if (!(answerer && answerer->tp == SEC_SDES) && !sm->osrtp_accept &&
	    !(x->req->crypto.osrtp & NG_OSRTP_ACCEPT)) {
		to_plain(sm);
		sm->tp = SEC_PLAIN;
		return 0;
	}
	if (set_keys(sm, &sm->theirs[sm->chosen].key, &sm->ours[0].key)) {
		*err = "Failed to set up SRTP";
		return -EIO;
	}
	sm->tp = SEC_SDES;
	if (sdes_lines(sm, lines)) {
		*err = "Failed to format a=crypto";
		return -EINVAL;
	}
	return 0;
}

static bool has_fingerprint(const struct sdp *sdp, unsigned i)
{
	return sdp_attr(sdp, (int)i, "fingerprint", 0, NULL) ||
	       sdp_attr(sdp, -1, "fingerprint", 0, NULL);
}

/* The keying of a side on an SRTP protocol (fam: SEC_SDES for RTP/SAVP(F), SEC_DTLS for
 * UDP/TLS/RTP/SAVP(F)). Like rtpengine, both kinds are read on both protocols: an offer
 * with a=fingerprint is DTLS (its keys never cross the signalling path) unless we have
 * no certificate and it has a=crypto too, else SDES; an answer takes what it carries of
 * what we offered, SDES first on RTP/SAVP, DTLS first on UDP/TLS. Without either, the
 * protocol's own (which then fails with a clear error). */
static enum sec_transport keying(const struct secure_ctx *x, const struct secure_media *sm,
				 unsigned i, enum sec_transport fam)
{
	bool c = sdp_attr(x->sdp, (int)i, "crypto", 0, NULL), f = has_fingerprint(x->sdp, i);

	if (x->offer) {
		if (f && (!c || x->d->dtls_cert))
			return SEC_DTLS;
		return c ? SEC_SDES : fam;
	}
	if (fam == SEC_SDES)
		return !c && f && sm->our_setup != DTLS_SETUP_NONE ? SEC_DTLS : SEC_SDES;
	return !f && c && sm->n_ours ? SEC_SDES : SEC_DTLS;
}

int secure_in(const struct secure_ctx *x, struct media *own, unsigned i, const char **err)
{
	const struct sdp_media *sdm = &x->sdp->media[i];
	struct secure_media *sm = own->sec;
	enum sec_transport tp;
	bool osrtp;
	int e, bad = 0;

	proto_parse(sdm->proto.s, sdm->proto.len, &tp);
	osrtp = tp == SEC_PLAIN && sdm->port && sdp_attr(x->sdp, (int)i, "crypto", 0, NULL) &&
		(x->offer || (sm && sm->osrtp_out));
	if (!sm && tp == SEC_PLAIN && !secure_sdp_has_ice(x->sdp, i) && !osrtp)
		return 0;
	if (!sm && !(sm = secure_get(own))) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	if (sdm->port == 0)
		tp = SEC_PLAIN;
	if (tp != SEC_PLAIN)
		tp = keying(x, sm, i, tp);
	else if (!x->offer && !osrtp && sm->osrtp_out && sm->our_setup != DTLS_SETUP_NONE &&
		 sdm->port && has_fingerprint(x->sdp, i))
		tp = SEC_DTLS;                  /* the answerer took the DTLS of our OSRTP offer */
	if (x->offer)   /* the offerer's lines, whatever it keys with: our offer lists them first */
		bad = sdes_read(x->sdp, i, sm);
	sm->no_dtls = tp != SEC_DTLS;
	if (tp != SEC_DTLS && sm->tp == SEC_DTLS)
		to_plain(sm);
	if (x->offer)
		sm->osrtp_in = false;
	if (osrtp && x->offer) {
		osrtp_offer_in(x, sm);
		if (sm->tp != SEC_SDES)         /* a re-offer keeps what the answer set up */
			to_plain(sm);
		tp = sm->tp == SEC_SDES ? SEC_SDES : SEC_PLAIN;
	} else if (osrtp) {
		tp = SEC_SDES;                  /* the answerer took our OSRTP offer */
	}
	sm->tp = tp;
	if (own->bundle && !x->offer) {
		/* keys, DTLS and ICE are the tagged section's (bundle.h); an offerer's members
		 * keep theirs until the answer settles the group (bundle_in), in case the
		 * answer leaves them on their own */
		secure_bundled(sm);
		return 0;
	}
	switch (osrtp && x->offer ? SEC_PLAIN : tp) {      /* an OSRTP offer: taken above */
	case SEC_SDES:
		if (!x->offer)
			bad = sdes_read(x->sdp, i, sm);
		if (bad) {
			*err = "Invalid SDES key parameters (a=crypto)";
			return -EINVAL;
		}
		e = x->offer ? sdes_in_offer(x, sm, err) : sdes_in_answer(sm, err);
		if (e)
			return e;
		break;
	case SEC_DTLS:
		dtls_read(x->sdp, i, sm);
		if (x->offer)   /* DTLS offered to us: our role in the answer (DTLS-reverse) */
			sm->reverse_setup = ng_setup(x->req->crypto.dtls_reverse);
		if (!sm->has_fp && !own->bundle) {   /* bundle-only: the group's */
			*err = "DTLS-SRTP media without a usable a=fingerprint";
			return -EINVAL;
		}
		if (!x->offer && (e = dtls_in_answer(x, sm, err)))
			return e;
		break;
	default:
		if (!(osrtp && x->offer))
			to_plain(sm);
		break;
	}
	if ((e = ice_policy_in(x, sm, i, err)))
		return e;
	if (!x->offer)
		ice_policy_settle(sm);
	return 0;
}

/* The protocol toward `out`: the option, else (answer) what the offerer offered, else
 * the section's own (NULL: keep it). The string outlives sdp_emit(). */
static const char *out_proto(const struct secure_ctx *x, const struct media *out)
{
	if (x->tp_opt[0])
		return x->tp_opt;
	if (!x->offer && out->proto[0])
		return out->proto;
	return NULL;
}

/* Toward an answerer on an SRTP protocol: our a=crypto lines, then DTLS's a=setup and
 * a=fingerprint. rtpengine offers both on RTP/SAVP(F) and on UDP/TLS/RTP/SAVP(F), and
 * reads whichever the answer takes (keying()); once a side's own SDP came without DTLS
 * our offers toward it carry none (no_dtls). A side keyed by DTLS still gets a=crypto
 * if it got them before (it answered our offer with DTLS), not if it never did (it
 * offered DTLS and we answered so: a re-INVITE from the other side), as from rtpengine.
 * SDES-off, DTLS=off or no certificate leave one out, and one must remain. */
static int offer_keys(const struct secure_ctx *x, struct secure_media *sm,
		      const struct secure_media *from, struct strbuf *lines, const char **err)
{
	bool dtls_side = sm->tp == SEC_DTLS && sm->their_setup != DTLS_SETUP_NONE;
	bool sdes = !x->req->crypto.sdes_off && !(dtls_side && !sm->n_ours);
	bool dtls = x->req->crypto.dtls != NG_DTLS_OFF && x->d->dtls_cert && !sm->no_dtls;
	int e;

	if (!sdes && !dtls) {
		*err = x->d->dtls_cert ? "Neither SDES nor DTLS left to offer (SDES-off, DTLS=off)"
				       : "SDES-off and no DTLS certificate";
		return -ENOTSUP;
	}
	if (sdes) {
		e = sdes_out_offer(x, sm, from, err);
		if (e == -ENOTSUP && dtls)
			sdes = false;           /* SDES-no- left no suite: DTLS only */
		else if (e)
			return e;
		else if (sdes_lines(sm, lines)) {
			*err = "Failed to format a=crypto";
			return -EINVAL;
		}
	}
	if (!sdes)
		sm->n_ours = 0;
	return dtls ? dtls_out(x, sm, lines, err) : 0;
}

/* An OSRTP offer toward the answerer (RFC 8643): our keys on the plain protocol, SDES
 * and (as rtpengine) DTLS's a=setup and a=fingerprint. */
static int osrtp_offer_out(const struct secure_ctx *x, struct secure_media *sm,
			   const struct secure_media *from, struct strbuf *lines, const char **err)
{
	int e = sdes_out_offer(x, sm, from, err);

	if (!e && sdes_lines(sm, lines)) {
		*err = "Failed to format a=crypto";
		e = -EINVAL;
	}
	if (!e && x->req->crypto.dtls != NG_DTLS_OFF && x->d->dtls_cert && !sm->no_dtls)
		e = dtls_out(x, sm, lines, err);
	sm->osrtp_out = !e;
	return e;
}

int secure_out(const struct secure_ctx *x, struct media *out, struct media *own, unsigned i,
	       struct sdp_media_rewrite *mr, struct strbuf *lines, const char **err)
{
	const struct sdp_media *sdm = &x->sdp->media[i];
	struct secure_media *sm = out->sec;
	const char *p = out_proto(x, out);
	enum sec_transport tp;
	bool osrtp;
	int e = 0;

	if (sdm->port == 0)
		return 0;
	if (p) {
		mr->proto = p;
		proto_parse(p, strlen(p), &tp);
	} else {
		proto_parse(sdm->proto.s, sdm->proto.len, &tp);
	}
	osrtp = tp == SEC_PLAIN && x->offer && !x->req->crypto.sdes_off &&
		((own->sec && own->sec->osrtp_in) || (x->req->crypto.osrtp & NG_OSRTP_OFFER));
	if (!sm && tp == SEC_PLAIN && !own->sec && x->req->ice != NG_ICE_FORCE &&
	    x->req->ice != NG_ICE_OPTIONAL && x->req->ice != NG_ICE_FORCE_RELAY && !osrtp)
		return 0;
	if (!sm && !(sm = secure_get(out))) {
		*err = "Out of memory";
		return -ENOMEM;
	}
	mr->drop_attrs = drop_media;
	/* on an SRTP protocol the side keys as its offer or answer settled (keying()) */
	if (!x->offer && tp != SEC_PLAIN && sm->tp != SEC_PLAIN)
		tp = sm->tp;
	if (x->offer) {
		/* a re-offer on an SRTP protocol keeps the keying the last answer settled
		 * until the next answer says otherwise */
		if (sm->tp == SEC_DTLS && tp == SEC_PLAIN)
			to_plain(sm);
		if (tp == SEC_PLAIN || sm->tp == SEC_PLAIN)
			sm->tp = tp;
		sm->osrtp_out = false;
		sm->our_setup = DTLS_SETUP_NONE;        /* set again if we offer DTLS */
	} else if (tp != SEC_DTLS && sm->tp == SEC_DTLS) {
		to_plain(sm);
	}
	if (osrtp) {
		to_plain(sm);
		if ((e = osrtp_offer_out(x, sm, own->sec, lines, err)))
			return e;
		return ice_policy_out(x, sm, own->sec, lines);
	}
	if (tp == SEC_PLAIN && !x->offer && sm->osrtp_in) {
		e = osrtp_answer(x, sm, own->sec, lines, err);
		if (e)
			return e;
		ice_policy_settle(sm);
		return ice_policy_out(x, sm, own->sec, lines);
	}
	switch (tp) {
	case SEC_SDES:
	case SEC_DTLS:
		if (x->offer)
			e = offer_keys(x, sm, own->sec, lines, err);
		else if (tp == SEC_DTLS)
			e = dtls_out(x, sm, lines, err);
		else if (!sm->n_ours) {
			*err = "Offerer side has no SDES keys";
			e = -EINVAL;
		} else if (sdes_lines(sm, lines)) {
			*err = "Failed to format a=crypto";
			e = -EINVAL;
		}
		break;
	default:
		if (x->offer)
			to_plain(sm);
		break;
	}
	if (e)
		return e;
	if (!x->offer)
		ice_policy_settle(sm);
	return ice_policy_out(x, sm, own->sec, lines);
}

void secure_session_out(const struct secure_ctx *x, struct party *out, struct sdp_rewrite *rw,
			struct strbuf *lines)
{
	bool any = false, lite = false;

	(void)x;
	for (unsigned i = 0; i < out->n_media; i++) {
		const struct secure_media *sm = out->media[i] ? out->media[i]->sec : NULL;

		if (!sm)
			continue;
		any = true;
		if (sm->ice && sm->ice->lite)
			lite = true;
	}
	if (any)
		rw->drop_attrs = drop_session;
	if (lite)
		sb_puts(lines, "a=ice-lite\r\n");
}
