/* Media security of one side of a media section: what transport the side speaks (plain
 * RTP, SDES-keyed SRTP, DTLS-SRTP), its keys and SRTP contexts, its DTLS endpoint and
 * its ICE agent; plus the stream handler that runs the packet path for it.
 *
 * Files: crypto_policy.c (transport protocols, SDES and DTLS in offers and answers),
 * ice_policy.c (ICE agents and their SDP lines), secure_handler.c (packets: demux,
 * STUN -> ICE, DTLS -> handshake, SRTP -> unprotect / protect; the 100 ms tick that
 * drives DTLS retransmission and ICE checks and consent, with ice_timer.c pacing the
 * checks of connecting calls finer), secure_stats.c (query).
 *
 * Ownership and locking: media->sec is created by the control thread the first time a
 * section needs it and freed with the call's memory (call_free, after the grace
 * period). Fields marked [L] are used by the call's worker with call->lock held; the
 * control thread takes the lock to change them. Unmarked fields are control-thread
 * only. No allocation on the media path: SRTP contexts and the DTLS endpoints are made
 * at offer/answer time, except the two SRTP contexts a finished DTLS handshake keys
 * (once per handshake, on the worker). */
#ifndef SLUICE_SECURE_H
#define SLUICE_SECURE_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"
#include "media_handler.h"
#include "sluice/dtls.h"
#include "sluice/ice.h"
#include "sluice/sdes.h"
#include "sluice/srtp.h"

struct daemon;
struct ng_request;
struct sdp;
struct sdp_rewrite;
struct sdp_media_rewrite;
struct strbuf;

enum sec_transport { SEC_PLAIN = 0, SEC_SDES, SEC_DTLS };

#define SEC_SDES_MAX 16         /* a=crypto lines kept per side (we offer <= 12) */

struct secure_stats {                   /* [L] */
	uint64_t srtp_in, srtp_out;     /* packets unprotected / protected */
	uint64_t auth_fail;             /* tampered, wrong key */
	uint64_t replay;
	uint64_t no_key;                /* SRTP before keys were known (early, handshake) */
	uint64_t other_err;             /* malformed, protect errors */
	uint64_t dtls_in, stun_in, junk;
	uint64_t no_consent;            /* not sent: ICE consent lost (RFC 7675) */
	uint64_t no_pair;               /* ICE=force-relay side: media withheld (both ways)
	                                   before ICE selected a pair */
};

/* The RTCP component's own DTLS association, on a side that does not multiplex RTCP
 * (RFC 5764 4.1: each component is a DTLS association of its own). Made with the RTP
 * one, in the same role, for the same fingerprint; dropped once rtcp-mux is settled. */
struct secure_rtcp {
	struct dtls *dtls;              /* [L] NULL: none, RTCP shares the RTP keys */
	bool keyed;                     /* [L] rx/tx made from this handshake */
	struct srtpw rx, tx;            /* [L] what goes through the RTCP port */
	struct srtpw_key rx_key, tx_key;        /* [L] */
};

/* Our host candidates toward one side (ice_cands.c): for each component, one per socket
 * of its stream (socket 0 on the address the SDP names, then the other addresses of the
 * side's logical interface, media_socks.h). The agent holds them in SDP order:
 * component 1's sockets in order, then component 2's; the local preference falls with
 * the address's position (lib/ice.c). */
struct ice_locals {
	int8_t idx[ICE_MAX_COMP][STREAM_MAX_SOCKS];     /* the agent's local candidate, -1 */
};

struct secure_media {
	/* What every packet touches comes first (one or two cache lines); the SDES and DTLS
	 * negotiation state, used at offer/answer time, after it. */
	struct stream_handler h;        /* set on this media's streams (secure_wire) */
	struct media *m;
	enum sec_transport tp;          /* [L] what this side speaks */
	/* SRTP: rx unprotects what this side sends us, tx protects what we send it */
	struct srtpw rx, tx;            /* [L] */
	struct ice_agent *ice;          /* [L] NULL: no ICE toward this side (ice_policy.c) */
	struct dtls *dtls;              /* [L] NULL until the role is known */
	struct secure_stats stats;      /* [L] */
	struct secure_rtcp rtcp;        /* without rtcp-mux: the RTCP component's own */
	enum srtpw_suite suite;         /* [L] suite of tx (SRTPW_SUITE_NONE: none yet) */
	struct srtpw_key rx_key, tx_key;        /* [L] what rx / tx were made from */

	/* SDES: keys we put in SDP toward this side; this side's own a=crypto lines */
	struct sdes_crypto ours[SEC_SDES_MAX];
	unsigned n_ours;
	struct sdes_crypto theirs[SEC_SDES_MAX];
	unsigned n_theirs;
	int chosen;                     /* offerer side: index into theirs[] we accepted */
	bool osrtp_in;                  /* this side's offer was OSRTP (RFC 8643: RTP/AVP
	                                   with a=crypto): its line and our key are chosen,
	                                   used once the answer accepts */
	bool osrtp_accept;              /* ... and OSRTP=accept: SRTP toward it anyway */
	bool osrtp_out;                 /* we offered OSRTP to this side */

	/* DTLS */
	bool dtls_client;
	enum dtls_setup our_setup;      /* as written toward this side */
	enum dtls_setup their_setup;    /* as this side's SDP said (NONE if absent) */
	enum dtls_setup reverse_setup;  /* DTLS-reverse of its offer: our role toward it
	                                   in the answer (NONE: by its a=setup) */
	enum dtls_setup offer_pref;     /* DTLS= of our last offer toward it (NONE: none):
	                                   the role if it answers actpass */
	struct dtls_fp fp;
	bool has_fp;
	bool no_dtls;                   /* its last SDP took no DTLS: offer it none again */
	bool dtls_keyed;                /* [L] SRTP contexts made from this handshake */

	/* ICE (ice_policy.c) */
	struct ice_locals cands;        /* [L] which socket each local candidate is */
	char ice_ufrag[ICE_UFRAG_LEN + 1], ice_pwd[ICE_PWD_LEN + 1];   /* ours, kept when the
	                                   agent is dropped: a later re-offer is no restart */
	bool ice_offered;               /* this side's SDP carried ICE */
	bool ice_trickle;               /* ... and a=ice-options:trickle (RFC 8840) */
	bool ice_lite_self;             /* the operator asked for lite mode toward this side
	                                   (NG ICE-lite), kept until an offer changes it */
	bool ice_we_offered;            /* the ICE session toward this side started with an
	                                   offer sluice sent (or restarted with one it got:
	                                   false): the full-full role, RFC 8445 6.1.1 */
	bool ice_run;                   /* [L] our ufrag/pwd reached this side: checks may
	                                   go out (not before the answer to its offer) */
	bool ice_relay;                 /* [L] ICE=force-relay toward it: our candidates are
	                                   typ relay, its SDP kept the sender's c=/m=, and
	                                   media to or from it waits for a selected pair */
};

/* One offer or answer being processed. */
struct secure_ctx {
	struct daemon *d;
	const struct ng_request *req;
	const struct sdp *sdp;
	bool offer;
	const char *tp_opt;             /* transport-protocol option, NUL-terminated; "" */
};

/* ---- crypto_policy.c ---- */

/* Check the transport-protocol option against the SDP. 0 or -ENOTSUP with *err. */
int secure_check_proto(const struct secure_ctx *x, const char **err);
/* The SDP's owner side of section i: record its transport, a=crypto, a=fingerprint,
 * a=setup (and ICE, through ice_policy.c). Call lock held. 0 or -errno with *err
 * (e.g. no acceptable a=crypto line, malformed key). */
int secure_in(const struct secure_ctx *x, struct media *own, unsigned i, const char **err);
/* The receiving side `out` of section i: decide what we tell it and fill mr (proto,
 * attributes to drop) and lines (a= lines to append). Call lock held. */
int secure_out(const struct secure_ctx *x, struct media *out, struct media *own, unsigned i,
	       struct sdp_media_rewrite *mr, struct strbuf *lines, const char **err);
/* Session-level part of the rewrite toward party `out` (drop of session a=fingerprint
 * and a=setup, a=ice-lite). */
void secure_session_out(const struct secure_ctx *x, struct party *out, struct sdp_rewrite *rw,
			struct strbuf *lines);
/* Does media i of the SDP carry ICE (c=0.0.0.0 then means "see the candidates")? */
bool secure_sdp_has_ice(const struct sdp *sdp, unsigned i);
const char *secure_transport_name(enum sec_transport t);
/* (Re)make an SRTP context for key k if it differs from what *s holds. 0 or -errno. */
int secure_srtp_set(struct srtpw *s, struct srtpw_key *cur, const struct srtpw_key *k,
		    enum srtpw_dir dir);
/* Drop both SRTP contexts (side became plain, or new keys are being negotiated). */
void secure_srtp_clear(struct secure_media *sm);

/* ---- ice_policy.c ---- */

int ice_policy_in(const struct secure_ctx *x, struct secure_media *sm, unsigned i,
		  const char **err);
/* ICE=force-relay applies to media i of sdp: it has no ICE of its own (with ICE, the
 * key acts as force: the endpoint's candidates are never passed on). The rewrite then
 * keeps the section's c=/m= and a=rtcp (offer_answer.c). */
bool ice_policy_relay(const struct ng_request *r, const struct sdp *sdp, unsigned i);
/* Whether to be an ICE agent toward `out`; if so make/keep the agent and append its
 * ufrag, pwd and candidates (typ relay with ICE=force-relay, see above). */
int ice_policy_out(const struct secure_ctx *x, struct secure_media *out,
		   const struct secure_media *own, struct strbuf *lines);
/* rtcp-mux settled: drop the RTCP component from the agent. Call lock held. */
void ice_policy_settle(struct secure_media *sm);
/* Apply the agent's selected pairs to the streams (the latch follows ICE). [L] */
void ice_policy_selected(struct secure_media *sm);

/* ---- ice_cands.c ---- */

/* No candidates (the agent was dropped or is being remade). */
void ice_cands_reset(struct ice_locals *l);
/* Add a host candidate to sm->ice for every socket of sm's media, both components, in
 * SDP order, on the interfaces' advertised addresses. 0, or the agent's -errno for
 * socket 0 (the others are skipped when the agent's table is full). */
int ice_cands_add(struct secure_media *sm);
/* The media's sockets moved to another interface (media_rebind): a new ICE session
 * toward the side, as rtpengine starts one: new credentials and the new sockets'
 * candidates (an agent keeps the peer's credentials and candidates); without an agent,
 * the next one gets new credentials. sm may be NULL. 0 or -errno. Call lock held. */
int ice_cands_rebound(struct secure_media *sm);
/* The local candidate of socket k of stream s (a stream of sm's media), -1 none. [L] */
int ice_cands_local(const struct secure_media *sm, const struct stream *s, unsigned k);
/* The stream and socket of local candidate `local`; NULL if it is none of ours. [L] */
struct stream *ice_cands_socket(struct secure_media *sm, unsigned local, unsigned *k);
/* The a=candidate lines of the components in use (rtcp-mux settled: component 1 only):
 * component by component, each in socket order, as rtpengine writes them. */
void ice_cands_sdp(const struct secure_media *sm, struct strbuf *lines);

/* ---- secure_handler.c ---- */

/* Get (creating) media->sec. NULL on -ENOMEM. Control thread. */
struct secure_media *secure_get(struct media *m);
void secure_free(struct secure_media *sm);
/* This side's section joined a BUNDLE group as a member: drop its own DTLS endpoint, SRTP
 * contexts and ICE agent (the tagged section's serve it). Call lock held. */
void secure_bundled(struct secure_media *sm);
/* Does this side need the secure path (SRTP, DTLS or ICE)? */
bool secure_active(const struct secure_media *sm);
/* Put the secure handler on every stream of p and p->peer whose section needs it
 * (either side active), and the stream's codec transform (stream->xform, may be NULL)
 * back on the others. The secure handler runs the transform itself, after decrypting.
 * Takes the call lock. */
void secure_wire(struct party *p);

/* The packet steps: the secure handler's, and the encrypt step of a codec transform
 * that the secure handler runs (its output is protected for the side it goes to):
 * in place, [L]. sm may be NULL (plain). rtcp: the packet is (S)RTCP; comp: the
 * component (COMP_RTP / COMP_RTCP) of the socket it came in on / goes out through,
 * which picks the keys when that side runs DTLS on both components (secure_rtcp).
 * 0, or -errno with the stats counted; secure_encrypt gives -ENOTCONN while the side's
 * ICE consent is lost (RFC 7675: media withheld). */
int secure_decrypt(struct secure_media *sm, uint8_t *pkt, size_t *len, bool rtcp,
		   uint8_t comp);
int secure_encrypt(struct secure_media *sm, uint8_t *pkt, size_t *len, size_t cap, bool rtcp,
		   uint8_t comp);

/* Control thread, every tick (SECURE_TICK_MS): DTLS starts and retransmissions, ICE
 * checks and consent, for every live call. O(calls x media) pointer checks plus the
 * work due. */
#define SECURE_TICK_MS 100      /* main.c TICK_MS */
void secure_tick(struct daemon *d);
/* The same for one call right away (after an answer: the ClientHello and the first
 * ICE checks go out now); a call with ICE work due before the next tick is handed to
 * the ICE timer (ice_timer.h). */
void secure_kick(struct daemon *d, struct call *c);

/* ---- secure_stats.c ---- */

struct arena;
struct bval;
/* Add "crypto", "DTLS", "ICE" entries of media m to its query dict. Call lock held. */
void secure_stats_add(struct arena *a, struct bval *media_dict, const struct media *m);

#endif
