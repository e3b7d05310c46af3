/* ICE (RFC 8445) agent core for one media stream, free of I/O and clocks.
 *
 * The caller owns the sockets and the time: it feeds received STUN datagrams with
 * ice_input(), calls ice_poll() when ice_next_timeout() is due, sends whatever either
 * fills into a struct ice_tx (from the socket of local candidate tx->local to tx->to),
 * and reads ice_take_events() / ice_selected() to learn where media must go.
 *
 * Full mode (the default, RFC 8445 6.1): a check list of every local candidate paired
 * with every remote candidate of the same component and address family (N local x M
 * remote, at most ICE_MAX_PAIRS), ordered by pair priority; checks paced one every
 * ICE_TA_MS, each retransmitted (RTO as RFC 8445 14.3, doubling, capped) up to
 * ICE_MAX_TX times; triggered checks (a peer check on a pair not yet valid) go first,
 * in arrival order. Role: the caller says controlling or controlled (the offerer of a
 * full-full session controls; a full agent facing a lite one controls); conflicts are
 * resolved by tiebreaker (487 and ICE-CONTROLLING/ICE-CONTROLLED, RFC 8445 7.3.1.1 and
 * 7.2.5.1). Responses count only when symmetric (from where the check went, on the
 * socket it left from); a check from an unknown address teaches a peer-reflexive
 * remote candidate. Nomination is regular (RFC 8445 8.1.1): the controlling agent
 * lets the checks run, then sends one more check with USE-CANDIDATE on the best valid
 * pair of each component (at once when no better pair is still pending, else
 * ICE_NOMINATE_WAIT_MS after the first valid pair); the controlled agent selects the
 * pair a USE-CANDIDATE check arrived on once its own check on it succeeded. A later
 * nomination by the peer re-selects (a peer that roams). After selection consent is
 * kept (RFC 7675): a binding request on each selected pair every ICE_CONSENT_MS
 * (randomised 0.8..1.2x), which doubles as the keepalive of RFC 8445 11; no response
 * for ICE_CONSENT_LOST_MS turns the agent ICE_DISCONNECTED until one comes (stopping
 * media meanwhile is the caller's part). Remote candidates may be added at any time
 * (trickle ICE, RFC 8838): they are paired and checked, and a failed agent goes back
 * to checking.
 *
 * Lite mode (RFC 8445 2.5, when the operator asks for it): answers checks only; a pair
 * is selected when the controlling peer sends USE-CANDIDATE on it.
 *
 * Simplifications, fine for a relay whose local candidates are host candidates on a
 * few addresses: every pair starts Waiting (no Frozen state: each media stream has an
 * agent of its own, so foundations would only order component 2 after component 1),
 * and the valid pair is the checked pair (our mapped address in a response names a
 * local peer-reflexive candidate whose base is the same socket, so it changes nothing
 * for where media goes).
 *
 * Memory: everything lives in struct ice_agent (about 8 KB), allocated by the caller
 * at stream setup; nothing is allocated afterwards. Not thread safe (one owner). */
#ifndef SLUICE_ICE_H
#define SLUICE_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"
#include "sluice/stun.h"

#define ICE_UFRAG_LEN   8       /* local credentials we generate (RFC: >= 4 / 22) */
#define ICE_PWD_LEN     24
#define ICE_CRED_MAX    256     /* longest remote ufrag / pwd accepted */
#define ICE_FOUNDATION_MAX 32
#define ICE_MAX_COMP    2       /* 1 = RTP, 2 = RTCP */
#define ICE_MAX_LOCAL   16      /* host candidates: addresses x components */
#define ICE_MAX_REMOTE  32
#define ICE_MAX_PAIRS   100     /* the check list limit RFC 8445 6.1.2.5 suggests */
#define ICE_TA_MS       20      /* pacing of new checks (RFC 8445 14.2: >= 5 ms) */
#define ICE_RTO_MIN_MS  500     /* first retransmission: max(this, Ta x checks left) */
#define ICE_RTO_MAX_MS  1600    /* the doubling stops here */
#define ICE_MAX_TX      7       /* transmissions per check before it fails (~9.5 s) */
#define ICE_NOMINATE_WAIT_MS 500 /* controlling: wait this long for better pairs */
#define ICE_CAND_MAX    224     /* longest ice_format_candidate() value, with NUL */
#define ICE_TX_MAX      600     /* largest STUN message the agent builds */
#define ICE_CONSENT_MS  5000    /* full: consent check interval on a selected pair */
#define ICE_CONSENT_LOST_MS 30000 /* full: no consent response this long = lost
                                     (RFC 7675 5.1) */

enum ice_cand_type { ICE_CAND_HOST = 0, ICE_CAND_SRFLX, ICE_CAND_PRFLX, ICE_CAND_RELAY };

struct ice_cand {
	union sockaddr_u addr;
	uint32_t priority;
	uint8_t component;
	enum ice_cand_type type;
	char foundation[ICE_FOUNDATION_MAX + 1];
};

enum ice_state {
	ICE_NEW = 0,            /* nothing heard, no checks */
	ICE_CHECKING,           /* checks going on */
	ICE_CONNECTED,          /* full: a valid pair on every component, not all nominated */
	ICE_COMPLETED,          /* a selected (nominated) pair on every component */
	ICE_FAILED,             /* full: every pair of some component failed */
	ICE_DISCONNECTED,       /* full: consent of a selected pair lost; checks go on and
	                           a response makes it completed again */
};

enum ice_pair_state { ICE_PAIR_WAITING = 0, ICE_PAIR_IN_PROGRESS, ICE_PAIR_SUCCEEDED,
		      ICE_PAIR_FAILED };

struct ice_pair {
	uint8_t local, remote;          /* indexes into the agent's tables */
	uint8_t state;                  /* enum ice_pair_state */
	bool valid;                     /* a check of ours on it succeeded (the valid list) */
	bool nominated;
	bool use_cand;                  /* the check in flight carries USE-CANDIDATE */
	bool nominate_on_success;       /* controlled: peer nominated before we succeeded */
	uint32_t triggered;             /* queued triggered check, FIFO order; 0 = none */
	uint8_t tx;                     /* transmissions of the current transaction */
	uint32_t rto_ms;                /* wait after the last transmission */
	uint64_t next_ms;               /* retransmission due */
	uint8_t tid[STUN_TID_LEN];
};

struct ice_selected {
	bool set;
	uint8_t local;
	union sockaddr_u remote;
};

/* Consent freshness of one component's selected pair (full mode). */
struct ice_consent {
	uint64_t next_ms;               /* next consent check due; 0: not running (a full
	                                   agent starts it at its next poll) */
	uint64_t fresh_ms;              /* last response (or the selection) */
	uint8_t tid[STUN_TID_LEN];      /* of the last check sent */
	bool pending;                   /* its response has not come */
	bool lost;
};

struct ice_stats {
	uint32_t req_ok;                /* peer checks answered with success */
	uint32_t req_unauth;            /* answered 401 (bad USERNAME / integrity) */
	uint32_t req_bad;               /* answered 400/420, or 487 */
	uint32_t checks_sent;           /* our checks, retransmissions included */
	uint32_t resp_ok, resp_err;     /* responses to our checks */
	uint32_t dropped;               /* unauthenticated or stray responses, junk */
	uint32_t consent_sent;          /* consent checks (also in checks_sent) */
	uint32_t consent_lost;          /* times consent was lost */
};

/* Event bits, accumulated until ice_take_events(). */
#define ICE_EV_STATE    1u      /* ice_state() changed */
#define ICE_EV_SELECTED 2u      /* a component's selected pair changed */
#define ICE_EV_ROLE     4u      /* controlling <-> controlled switch (role conflict) */
#define ICE_EV_RESTART  8u      /* credentials changed: emit the new local ufrag/pwd */

struct ice_agent {
	bool lite;
	bool controlling;
	bool remote_lite;
	enum ice_state state;
	uint8_t n_comp;
	uint64_t tiebreaker;
	char ufrag[ICE_UFRAG_LEN + 1], pwd[ICE_PWD_LEN + 1];
	char rufrag[ICE_CRED_MAX + 1], rpwd[ICE_CRED_MAX + 1];
	struct ice_cand local[ICE_MAX_LOCAL];
	struct ice_cand remote[ICE_MAX_REMOTE];
	struct ice_pair pairs[ICE_MAX_PAIRS];
	uint8_t n_local, n_remote, n_pairs;
	struct ice_selected sel[ICE_MAX_COMP];
	struct ice_consent consent[ICE_MAX_COMP];
	uint64_t valid_since[ICE_MAX_COMP];     /* controlling: first valid pair, 0 = none */
	uint64_t next_check_ms;
	uint32_t trig_seq;
	unsigned events;
	struct ice_stats stats;
};

/* One datagram to send: from the socket of local candidate `local` to `to`. */
struct ice_tx {
	uint8_t buf[ICE_TX_MAX];
	size_t len;
	unsigned local;
	union sockaddr_u to;
};

/* Set up with fresh random credentials and tiebreaker (OpenSSL RAND_bytes). A lite
 * agent is always controlled. n_comp: 1 (rtcp-mux) or 2. 0, -EINVAL or -EIO. */
int ice_agent_init(struct ice_agent *a, bool lite, bool controlling, unsigned n_comp);
/* Add a host candidate for one of our sockets. Returns its index (the `local` used by
 * ice_input/ice_tx), -EINVAL (component, family) or -ENOSPC. */
int ice_add_local(struct ice_agent *a, unsigned component, const union sockaddr_u *addr);
/* The same as a candidate of type `type` (ICE_CAND_HOST or ICE_CAND_RELAY: a relay
 * sitting on the socket itself, type preference 0, RFC 8445 5.1.2.2). */
int ice_add_local_type(struct ice_agent *a, unsigned component, const union sockaddr_u *addr,
		       enum ice_cand_type type);
/* The a=candidate value (after "candidate:") of local candidate i, e.g.
 * "1 1 UDP 2130706431 203.0.113.1 30000 typ host"; a relay candidate names itself as
 * its related address ("... typ relay raddr 203.0.113.1 rport 30000", RFC 8839 5.1
 * wants one). Length or -EINVAL/-ENOSPC. */
int ice_format_candidate(const struct ice_agent *a, unsigned i, char *buf, size_t size);

/* Parse an a=candidate value (after "candidate:"). 0, -EINVAL (malformed), -ENOTSUP
 * (not UDP, or the address is not an IP literal, e.g. an mDNS .local name). */
int ice_parse_candidate(const char *s, size_t len, struct ice_cand *out);
/* a=ice-ufrag / a=ice-pwd values of the peer. If credentials were set before and
 * differ, this is an ICE restart: remote candidates, pairs and selection are dropped,
 * our own ufrag/pwd are regenerated (the answer must restart too), ICE_EV_RESTART is
 * raised and 1 returned. 0 when set or unchanged; -EINVAL for empty/too long/blank. */
int ice_set_remote_creds(struct ice_agent *a, const char *ufrag, size_t ulen,
			 const char *pwd, size_t plen);
/* The peer is ice-lite: a full agent then takes the controlling role. */
void ice_set_remote_lite(struct ice_agent *a);
/* Change mode and role in place (an operator switching lite mode on or off, the role
 * a new offer gives). lite -> full pairs every known remote candidate and starts
 * checking; full -> lite drops the check list and consent; a selection stays. A lite
 * agent is always controlled; a full agent facing a lite peer always controls.
 * Raises ICE_EV_ROLE when the role changes. */
void ice_set_mode(struct ice_agent *a, bool lite, bool controlling);
/* Index of the local candidate of component comp at address addr, or -ENOENT. */
int ice_find_local(const struct ice_agent *a, unsigned comp, const union sockaddr_u *addr);
/* Add a remote candidate (from SDP or trickle) and pair it with our candidates of the
 * same component and family; in full mode the new pairs are checked by ice_poll() even
 * after checks started or failed (a failed agent is checking again). 0 (also for a
 * duplicate), -ENOTSUP (component beyond n_comp), -ENOSPC (tables full). */
int ice_add_remote(struct ice_agent *a, const struct ice_cand *c);
/* Start over with new local credentials (we restart, e.g. on a re-offer asking for it). */
int ice_restart(struct ice_agent *a);
/* Our candidates changed (sockets moved to another address): new local credentials and
 * no local candidates (add the new ones); pairs, selections and checks start over; the
 * peer's credentials and candidates stay and pair with what is added. 0 or -EIO. */
int ice_restart_local(struct ice_agent *a);

/* A STUN datagram arrived on local candidate `local` from `from` at time now_ms.
 * Returns 1 with *tx filled (a response to send), 0 when consumed with nothing to
 * send (a response to one of our checks, an indication), or a negative errno when
 * dropped: -EINVAL (not STUN / malformed / bad local), -EACCES (response failing
 * integrity), -ENOENT (response to no check of ours), -ENOTSUP (other method).
 * Requests that fail authentication are answered (1 with a 401 in *tx). */
int ice_input(struct ice_agent *a, unsigned local, const union sockaddr_u *from,
	      const uint8_t *pkt, size_t len, uint64_t now_ms, struct ice_tx *tx);
/* Full mode: 1 with *tx filled if a check (new, triggered, retransmission, consent) is
 * due now, else 0 (or -EIO: no random bytes). Call repeatedly until it returns
 * something other than 1, then again at ice_next_timeout(); calling it early (e.g.
 * right after ice_input() queued a triggered check) is fine: pacing is kept inside.
 * Once completed only retransmissions, triggered checks and consent go out. Lite:
 * always 0. */
int ice_poll(struct ice_agent *a, uint64_t now_ms, struct ice_tx *tx);
/* Absolute time (ms) at which ice_poll() has work, UINT64_MAX if none. */
uint64_t ice_next_timeout(const struct ice_agent *a);

/* Where media of component comp (1-based) goes: 0 with *local / *remote, or -ENOENT. */
int ice_selected(const struct ice_agent *a, unsigned comp, unsigned *local,
		 union sockaddr_u *remote);
unsigned ice_take_events(struct ice_agent *a);
const char *ice_state_name(enum ice_state s);

#endif
