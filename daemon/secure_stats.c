/* Query output of a media side's security: transport, suite, SRTP counters, DTLS and
 * ICE state. Keys are sluice's own (rtpengine has no equivalent per-stream detail). */
#include "secure.h"

#include "kernel.h"

#include "sluice/arena.h"
#include "sluice/bencode.h"

static void put_u(struct arena *a, struct bval *d, const char *k, uint64_t v)
{
	bv_dict_add_int(a, d, k, (int64_t)v);
}

static struct bval *srtp_dict(struct arena *a, const struct secure_media *sm)
{
	struct bval *d = bv_new_dict(a);
	struct secure_stats live = sm->stats;
	const struct secure_stats *s = &live;

	kernel_srtp_stats(sm, &live);	/* what the module did so far, not yet folded */
	put_u(a, d, "unprotected", s->srtp_in);
	put_u(a, d, "protected", s->srtp_out);
	put_u(a, d, "auth failures", s->auth_fail);
	put_u(a, d, "replays", s->replay);
	put_u(a, d, "without key", s->no_key);
	put_u(a, d, "other errors", s->other_err);
	put_u(a, d, "DTLS packets", s->dtls_in);
	put_u(a, d, "STUN packets", s->stun_in);
	put_u(a, d, "dropped other", s->junk);
	return d;
}

static struct bval *dtls_dict(struct arena *a, const struct secure_media *sm)
{
	struct bval *d = bv_new_dict(a);
	const char *setup = dtls_setup_name(sm->our_setup);

	bv_dict_add_str(a, d, "state", sm->dtls ? dtls_state_name(dtls_state(sm->dtls))
						 : "not started");
	if (sm->dtls)
		bv_dict_add_str(a, d, "role", sm->dtls_client ? "client" : "server");
	if (setup)
		bv_dict_add_str(a, d, "setup", setup);
	return d;
}

/* The RTCP port's own handshake (no rtcp-mux): state and its SRTCP suite. */
static struct bval *dtls_rtcp_dict(struct arena *a, const struct secure_media *sm)
{
	struct bval *d = bv_new_dict(a);
	struct dtls *dt = sm->rtcp.dtls;

	bv_dict_add_str(a, d, "state", dtls_state_name(dtls_state(dt)));
	bv_dict_add_str(a, d, "role", sm->dtls_client ? "client" : "server");
	if (srtpw_is_set(&sm->rtcp.tx)) {
		const struct srtpw_suite_info *si = srtpw_suite_info(sm->rtcp.tx_key.suite);
		bv_dict_add_str(a, d, "crypto suite", si ? si->name : "none");
	}
	return d;
}

static struct bval *ice_dict(struct arena *a, const struct ice_agent *ice)
{
	struct bval *d = bv_new_dict(a);
	union sockaddr_u sel;
	unsigned local;
	char ip[NETADDR_STRLEN];

	bv_dict_add_str(a, d, "state", ice_state_name(ice->state));
	bv_dict_add_str(a, d, "mode", ice->lite ? "lite" : ice->controlling ? "controlling"
						: "controlled");
	bv_dict_add_str(a, d, "ufrag", ice->ufrag);
	put_u(a, d, "remote candidates", ice->n_remote);
	put_u(a, d, "checks answered", ice->stats.req_ok);
	put_u(a, d, "checks unauthorized", ice->stats.req_unauth);
	put_u(a, d, "checks bad", ice->stats.req_bad);
	put_u(a, d, "checks sent", ice->stats.checks_sent);
	put_u(a, d, "responses ok", ice->stats.resp_ok);
	put_u(a, d, "consent checks", ice->stats.consent_sent);
	put_u(a, d, "consent lost", ice->stats.consent_lost);
	put_u(a, d, "local candidates", ice->n_local);
	if (!ice_selected(ice, 1, &local, &sel)) {
		bv_dict_add_str(a, d, "selected address", netaddr_ntop(&sel, ip, sizeof(ip)));
		bv_dict_add_int(a, d, "selected port", netaddr_port(&sel));
		/* which of our addresses the peer chose (ice_cands.c) */
		bv_dict_add_str(a, d, "selected local address",
				netaddr_ntop(&ice->local[local].addr, ip, sizeof(ip)));
		bv_dict_add_int(a, d, "selected local port", netaddr_port(&ice->local[local].addr));
	}
	return d;
}

void secure_stats_add(struct arena *a, struct bval *md, const struct media *m)
{
	/* a BUNDLE member's transport is its group's tagged section */
	const struct secure_media *sm = m->bundle && m->bundle->sec ? m->bundle->sec : m->sec;
	const struct srtpw_suite_info *si;

	if (!sm)
		return;
	bv_dict_add_str(a, md, "transport", secure_transport_name(sm->tp));
	if (sm->tp != SEC_PLAIN) {
		si = srtpw_suite_info(sm->suite);
		bv_dict_add_str(a, md, "crypto suite", si ? si->name : "none");
		bv_dict_add(a, md, "SRTP", srtp_dict(a, sm));
	}
	if (sm->tp == SEC_DTLS)
		bv_dict_add(a, md, "DTLS", dtls_dict(a, sm));
	if (sm->tp == SEC_DTLS && sm->rtcp.dtls)
		bv_dict_add(a, md, "DTLS RTCP", dtls_rtcp_dict(a, sm));
	if (sm->ice) {
		struct bval *ice = ice_dict(a, sm->ice);

		put_u(a, ice, "withheld without consent", sm->stats.no_consent);
		if (sm->ice_relay) {    /* ICE=force-relay toward this side */
			bv_dict_add_str(a, ice, "candidates", "relay");
			put_u(a, ice, "withheld before a selected pair", sm->stats.no_pair);
		}
		bv_dict_add(a, md, "ICE", ice);
	}
}
