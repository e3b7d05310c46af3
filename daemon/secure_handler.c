/* The secure packet path (media_handler.h): one handler per side of a media section,
 * on both of its streams.
 *
 *   early  (before latching): STUN -> ICE agent; the agent authenticates the check, a
 *          response goes straight back to the source, a selected pair moves the latch.
 *          STUN without an agent and anything but RTP/RTCP/DTLS: dropped.
 *   auth   (after the latch rules allowed the source, before it may latch): SRTP/SRTCP
 *          unprotected with this side's rx (tampered, replayed, unkeyed: dropped,
 *          counted as stream errors, no state changed)
 *   packet (after latching):  RFC 7983 demux ->
 *          DTLS      -> the component's handshake (replies to the latched peer);
 *                       keys when done. Without rtcp-mux the RTCP port runs its own
 *                       (secure_rtcp), whose keys then serve that port's SRTCP
 *          SRTP/SRTCP-> (unprotected by auth) ->
 *                       the stream's codec transform (stream->xform) if it has one,
 *                       which protects what it emits (secure_encrypt), or
 *                       the sink -> protect with the sink side's tx if that side is
 *                       encrypted -> emit
 *          other     -> dropped
 *
 * Timers: the control thread's tick (secure_tick) starts DTLS clients, retransmits
 * handshake flights and runs ICE checks and consent, with the call lock held, sending
 * with sendto() on the stream's socket (datagram sockets may be written from any
 * thread); calls with ICE work due before the next tick go to the ICE timer
 * (ice_timer.h), which runs them again on time. A peer's check queues a triggered
 * check that the worker sends at once, after the response.
 * The worker's playout timers (relay_timer_set by the codec transform's jitter buffer)
 * reach the transform through sec_timer. */
#include "secure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"
#include "ice_timer.h"
#include "latch.h"
#include "sluice/log.h"
#include "sluice/rtp.h"
#include "sluice/stun.h"

#define SEC_OF(h) ((struct secure_media *)((char *)(h) - offsetof(struct secure_media, h)))

static uint64_t ms_of(int64_t us)
{
	return (uint64_t)us / 1000;
}

/* From socket k of s. */
static void send_raw(const struct stream *s, unsigned k, const uint8_t *p, size_t len,
		     const union sockaddr_u *to)
{
	/* Lost on a full socket buffer, like any datagram; the protocols retransmit. */
	(void)!sendto(stream_sock_fd(s, k), p, len, MSG_DONTWAIT, &to->sa, netaddr_len(to));
}

/* What the agent sends leaves from the socket of its local candidate: a response from
 * where the check came in, a check from the candidate it checks. */
static void ice_send(struct secure_media *sm, const struct ice_tx *tx)
{
	unsigned k;
	struct stream *s = ice_cands_socket(sm, tx->local, &k);

	if (s)
		send_raw(s, k, tx->buf, tx->len, &tx->to);
}

static void ice_events(struct secure_media *sm)
{
	unsigned ev = ice_take_events(sm->ice);

	if (ev & ICE_EV_SELECTED)
		ice_policy_selected(sm);
	if ((ev & ICE_EV_ROLE) && log_enabled(LOG_INFO))
		clog(LOG_INFO, sm->m->party->call->callid, NULL, "ICE media %u: now %s",
		     sm->m->index, sm->ice->controlling ? "controlling" : "controlled");
	if (!(ev & ICE_EV_STATE))
		return;
	if (sm->ice->state == ICE_DISCONNECTED)
		clog(LOG_WARNING, sm->m->party->call->callid, NULL,
		     "ICE media %u: consent lost, no response to checks for %d s",
		     sm->m->index, ICE_CONSENT_LOST_MS / 1000);
	else if (log_enabled(LOG_INFO))
		clog(LOG_INFO, sm->m->party->call->callid, NULL, "ICE media %u: %s",
		     sm->m->index, ice_state_name(sm->ice->state));
}

/* ICE=force-relay toward sm's side: its media passes only once ICE selected a pair
 * for the component, i.e. the side's agent chose sluice's relay candidate and media is
 * meant to go through it; until then its default path (the c=/m= it was sent, the
 * sender's own) is the one in use. */
static bool relay_waits(const struct secure_media *sm, uint8_t comp)
{
	union sockaddr_u remote;
	unsigned local;

	if (!sm->ice_relay || !sm->ice)
		return false;
	if (comp > sm->ice->n_comp)
		comp = COMP_RTP;        /* rtcp-mux */
	return ice_selected(sm->ice, comp, &local, &remote) != 0;
}

/* ---- SRTP steps ---- */

static void count_err(struct secure_media *sm, int e)
{
	if (e == -EBADMSG)
		sm->stats.auth_fail++;
	else if (e == -EALREADY)
		sm->stats.replay++;
	else if (e == -ENOKEY)
		sm->stats.no_key++;
	else
		sm->stats.other_err++;
}

/* A BUNDLE member's packets use the transport of its group's tagged section. */
static struct secure_media *transport_sec(struct secure_media *sm)
{
	return sm && sm->m->bundle ? sm->m->bundle->sec : sm;
}

/* SRTP contexts of component comp: the RTCP port's own when that component runs a
 * DTLS association of its own (no rtcp-mux), else the side's. */
static struct srtpw *ctx_rx(struct secure_media *sm, uint8_t comp)
{
	return comp == COMP_RTCP && sm->rtcp.dtls ? &sm->rtcp.rx : &sm->rx;
}

static struct srtpw *ctx_tx(struct secure_media *sm, uint8_t comp)
{
	return comp == COMP_RTCP && sm->rtcp.dtls ? &sm->rtcp.tx : &sm->tx;
}

int secure_decrypt(struct secure_media *sm, uint8_t *pkt, size_t *len, bool rtcp,
		   uint8_t comp)
{
	struct srtpw *rx;
	int e;

	sm = transport_sec(sm);
	if (!sm || sm->tp == SEC_PLAIN)
		return 0;
	rx = ctx_rx(sm, comp);
	if (!srtpw_is_set(rx))
		e = -ENOKEY;
	else
		e = rtcp ? srtpw_unprotect_rtcp(rx, pkt, len)
			 : srtpw_unprotect_rtp(rx, pkt, len);
	if (e) {
		count_err(sm, e);
		return e;
	}
	sm->stats.srtp_in++;
	return 0;
}

int secure_encrypt(struct secure_media *sm, uint8_t *pkt, size_t *len, size_t cap, bool rtcp,
		   uint8_t comp)
{
	struct srtpw *tx;
	int e;

	sm = transport_sec(sm);
	if (sm && relay_waits(sm, comp)) {
		sm->stats.no_pair++;
		return -ENOTCONN;
	}
	/* RFC 7675: nothing but consent checks toward a peer that stopped consenting */
	if (sm && sm->ice && sm->ice->state == ICE_DISCONNECTED) {
		sm->stats.no_consent++;
		return -ENOTCONN;
	}
	if (!sm || sm->tp == SEC_PLAIN)
		return 0;
	tx = ctx_tx(sm, comp);
	if (!srtpw_is_set(tx))
		e = -ENOKEY;
	else
		e = rtcp ? srtpw_protect_rtcp(tx, pkt, len, cap)
			 : srtpw_protect_rtp(tx, pkt, len, cap);
	if (e) {
		count_err(sm, e);
		return e;
	}
	sm->stats.srtp_out++;
	return 0;
}

/* ---- DTLS ---- */

/* One component's DTLS association and the SRTP contexts it keys: the side's own
 * fields for RTP (and for RTCP under mux), sm->rtcp for a separate RTCP port. */
struct assoc {
	struct dtls *dtls;              /* NULL: this component runs no handshake */
	bool *keyed;
	struct srtpw *rx, *tx;
	struct srtpw_key *rx_key, *tx_key;
	enum srtpw_suite *suite;        /* the side's (query "crypto suite"): RTP only */
	struct stream *s;
	const char *name;
};

static struct assoc assoc_of(struct secure_media *sm, uint8_t comp)
{
	if (comp == COMP_RTCP)
		return (struct assoc){ sm->rtcp.dtls, &sm->rtcp.keyed, &sm->rtcp.rx,
				       &sm->rtcp.tx, &sm->rtcp.rx_key, &sm->rtcp.tx_key,
				       NULL, &sm->m->rtcp, " RTCP" };
	return (struct assoc){ sm->dtls, &sm->dtls_keyed, &sm->rx, &sm->tx, &sm->rx_key,
			       &sm->tx_key, &sm->suite, &sm->m->rtp, "" };
}

/* Handshake done: make the SRTP contexts (once per handshake). */
static void dtls_keys(struct secure_media *sm, const struct assoc *a)
{
	struct srtpw_key tx, rx;

	if (*a->keyed || !a->dtls || dtls_state(a->dtls) != DTLS_CONNECTED)
		return;
	*a->keyed = true;
	if (dtls_srtp_keys(a->dtls, &tx, &rx) ||
	    secure_srtp_set(a->rx, a->rx_key, &rx, SRTPW_INBOUND) ||
	    secure_srtp_set(a->tx, a->tx_key, &tx, SRTPW_OUTBOUND)) {
		srtpw_free(a->rx);
		srtpw_free(a->tx);
		if (a->suite)
			*a->suite = SRTPW_SUITE_NONE;
		clog(LOG_WARNING, sm->m->party->call->callid, NULL,
		     "DTLS media %u%s: SRTP key setup failed", sm->m->index, a->name);
		return;
	}
	if (a->suite)
		*a->suite = tx.suite;
	clog(LOG_INFO, sm->m->party->call->callid, NULL, "DTLS media %u%s: connected, %s",
	     sm->m->index, a->name, srtpw_suite_info(tx.suite)->name);
}

static void dtls_packet(struct secure_media *sm, struct stream *in, const uint8_t *pkt,
			size_t len, struct relay_emitter *e)
{
	struct assoc a = assoc_of(sm, in->component);
	const uint8_t *out;
	size_t olen;

	sm->stats.dtls_in++;
	/* the RTCP port has a handshake of its own only without rtcp-mux */
	if (!a.dtls) {
		sm->stats.junk++;
		in->stats.errors++;
		return;
	}
	dtls_input(a.dtls, pkt, len);
	while (dtls_pop(a.dtls, &out, &olen) == 1)
		relay_emit(e, in, out, olen);
	dtls_keys(sm, &a);
}

/* ---- handler ops ---- */

static enum early_verdict sec_early(struct stream_handler *h, struct stream *in,
				    const union sockaddr_u *src, const uint8_t *pkt, size_t len,
				    int64_t now_us)
{
	struct secure_media *sm = SEC_OF(h);
	struct ice_tx tx;
	int local, r;

	switch (stun_demux(pkt, len)) {
	case STUN_DEMUX_RTP:
	case STUN_DEMUX_DTLS:           /* the latch rules decide who may handshake */
		if (relay_waits(sm, in->component)) {
			sm->stats.no_pair++;
			return EARLY_DROP;
		}
		return EARLY_PASS;
	case STUN_DEMUX_STUN:
		if (sm->ice)
			break;
		sm->stats.junk++;       /* STUN without an agent authenticates nothing */
		return EARLY_DROP;
	default:                        /* ZRTP, TURN channels, junk */
		sm->stats.junk++;
		return EARLY_DROP;
	}
	sm->stats.stun_in++;
	local = ice_cands_local(sm, in, in->rx_sock);
	if (local < 0)
		return EARLY_CONSUMED;
	/* the agent checks MESSAGE-INTEGRITY before anything changes */
	r = ice_input(sm->ice, (unsigned)local, src, pkt, len, ms_of(now_us), &tx);
	if (r == 1)
		ice_send(sm, &tx);
	/* a triggered check goes out now rather than at the next timer (pacing is the
	 * agent's); STUN only, never per media packet */
	if (sm->ice_run && !sm->ice->lite)
		while (ice_poll(sm->ice, ms_of(now_us), &tx) == 1)
			ice_send(sm, &tx);
	ice_events(sm);
	return EARLY_CONSUMED;
}

/* SRTP and SRTCP are unprotected before they may latch (relay.c): a forged or replayed
 * packet changes nothing. DTLS authenticates itself in its handshake. */
static int sec_auth(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t *len)
{
	struct secure_media *sm = SEC_OF(h);

	if (stun_demux(pkt, *len) != STUN_DEMUX_RTP)
		return 0;
	return secure_decrypt(sm, pkt, len, in->component == COMP_RTCP ||
			      rtp_is_rtcp(pkt, *len), in->component);
}

static struct stream *route(struct stream *in, bool rtcp)
{
	struct stream *sink = in->sink;

	if (sink && rtcp && in->component == COMP_RTP && in->media->rtcp_mux &&
	    !sink->media->rtcp_mux)
		return &sink->media->rtcp;
	return sink;
}

static void sec_packet(struct stream_handler *h, struct stream *in, uint8_t *pkt, size_t len,
		       size_t cap, struct relay_emitter *e, int64_t now_us)
{
	struct secure_media *sm = SEC_OF(h);
	struct stream *dst;
	bool rtcp;
	int err;

	switch (stun_demux(pkt, len)) {
	case STUN_DEMUX_RTP:
		break;
	case STUN_DEMUX_DTLS:
		dtls_packet(sm, in, pkt, len, e);
		return;
	default:                /* STUN without an agent, ZRTP, TURN channels, junk */
		sm->stats.junk++;
		in->stats.errors++;
		return;
	}
	/* already unprotected by sec_auth */
	rtcp = in->component == COMP_RTCP || rtp_is_rtcp(pkt, len);
	if (in->xform) {
		in->xform->ops->packet(in->xform, in, pkt, len, cap, e, now_us);
		return;
	}
	dst = route(in, rtcp);
	if (!dst)
		return;
	relay_record_plain(e, dst, pkt, len);
	err = secure_encrypt(dst->media->sec, pkt, &len, cap, rtcp, dst->component);
	if (err) {
		if (err != -ENOTCONN)   /* withheld for want of consent: not an input error */
			in->stats.errors++;
		return;
	}
	relay_emit(e, dst, pkt, len);
}

/* A playout timer the stream's transform asked for (its jitter buffer): the secure
 * handler stands in the transform's place on the stream, so the relay calls us. */
static void sec_timer(struct stream_handler *h, struct stream *in, struct relay_emitter *e,
		      int64_t now_us)
{
	(void)h;
	if (in->xform && in->xform->ops->timer)
		in->xform->ops->timer(in->xform, in, e, now_us);
}

/* State is owned by media->sec and freed with it (secure_free). */
static void sec_destroy(struct stream_handler *h)
{
	(void)h;
}

static const struct stream_handler_ops secure_ops = {
	.name = "secure",
	.early = sec_early,
	.auth = sec_auth,
	.packet = sec_packet,
	.destroy = sec_destroy,
	.timer = sec_timer,
};

/* ---- lifecycle ---- */

struct secure_media *secure_get(struct media *m)
{
	struct secure_media *sm = m->sec;

	if (sm)
		return sm;
	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return NULL;
	sm->h.ops = &secure_ops;
	sm->m = m;
	sm->chosen = -1;
	ice_cands_reset(&sm->cands);
	m->sec = sm;
	return sm;
}

void secure_free(struct secure_media *sm)
{
	if (!sm)
		return;
	srtpw_free(&sm->rx);
	srtpw_free(&sm->tx);
	dtls_free(sm->dtls);
	srtpw_free(&sm->rtcp.rx);
	srtpw_free(&sm->rtcp.tx);
	dtls_free(sm->rtcp.dtls);
	free(sm->ice);
	free(sm);
}

bool secure_active(const struct secure_media *sm)
{
	return sm && (sm->tp != SEC_PLAIN || sm->ice);
}

/* A BUNDLE member is secure when its group's transport is. */
static bool media_active(const struct media *m)
{
	return secure_active(m->sec) || (m->bundle && secure_active(m->bundle->sec));
}

static void set_handler(struct media *m, bool on)
{
	struct stream *s[2] = { &m->rtp, &m->rtcp };

	/* a codec transform stays: the secure handler runs it (sec_packet) */
	for (int k = 0; k < 2; k++)
		s[k]->handler = on ? &m->sec->h : s[k]->xform;
}

void secure_wire(struct party *p)
{
	struct party *q = p->peer;

	pthread_mutex_lock(&p->call->lock);
	for (unsigned i = 0; i < p->n_media; i++) {
		struct media *m = p->media[i];
		struct media *pm = q && i < q->n_media ? q->media[i] : NULL;
		bool on;

		if (!m)
			continue;
		on = media_active(m) || (pm && media_active(pm));
		if (on && (!secure_get(m) || (pm && !secure_get(pm))))
			on = false;     /* no memory: forward plainly rather than half-wired */
		if (m->sec || on)
			set_handler(m, on);
		if (pm && (pm->sec || on))
			set_handler(pm, on);
	}
	pthread_mutex_unlock(&p->call->lock);
}

/* ---- timers (control thread) ---- */

/* One component: a client starts once the peer is reachable (after ICE selected a
 * pair for the component, if ICE runs), flights are retransmitted. */
static void dtls_tick_comp(struct secure_media *sm, uint8_t comp)
{
	struct assoc a = assoc_of(sm, comp);
	union sockaddr_u to, sel;
	const uint8_t *out;
	size_t olen;
	bool have;
	unsigned local;

	if (!a.dtls)
		return;
	have = stream_dest(a.s, &to);
	if (dtls_state(a.dtls) == DTLS_HANDSHAKE) {
		if (sm->dtls_client && have && (!sm->ice || !sm->ice->rufrag[0] ||
						!ice_selected(sm->ice, comp, &local, &sel)))
			dtls_start(a.dtls);
		if (dtls_timeout_ms(a.dtls) == 0)
			dtls_handle_timeout(a.dtls);
		while (dtls_pop(a.dtls, &out, &olen) == 1)
			if (have)
				send_raw(a.s, stream_tx_sock(a.s, &to), out, olen, &to);
	}
	dtls_keys(sm, &a);
}

static void dtls_tick(struct secure_media *sm)
{
	dtls_tick_comp(sm, COMP_RTP);
	dtls_tick_comp(sm, COMP_RTCP);
}

/* Checks due now; returns when the agent has work next (ms, UINT64_MAX: none). */
static uint64_t ice_tick(struct secure_media *sm, uint64_t now_ms)
{
	struct ice_tx tx;

	if (!sm->ice_run)
		return UINT64_MAX;      /* our SDP has not reached that side yet */
	while (ice_poll(sm->ice, now_ms, &tx) == 1)
		ice_send(sm, &tx);
	ice_events(sm);
	return ice_next_timeout(sm->ice);
}

static bool needs_tick(const struct secure_media *sm)
{
	return sm && (sm->dtls || (sm->ice && !sm->ice->lite));
}

void secure_kick(struct daemon *d, struct call *c)
{
	uint64_t now = ms_of(mono_us()), due = UINT64_MAX;
	bool locked = false;

	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			struct secure_media *sm = p->media[i] ? p->media[i]->sec : NULL;

			if (!needs_tick(sm))
				continue;
			if (!locked) {
				pthread_mutex_lock(&c->lock);
				locked = true;
			}
			if (sm->dtls)
				dtls_tick(sm);
			if (sm->ice && !sm->ice->lite) {
				uint64_t t = ice_tick(sm, now);

				due = t < due ? t : due;
			}
		}
	if (locked)
		pthread_mutex_unlock(&c->lock);
	/* finer than the tick: the ICE timer runs it again then (everything due by now
	 * was just done: at least 1 ms later, so a confused agent cannot spin the loop) */
	if (due < now + SECURE_TICK_MS)
		ice_timer_note(d, c, (int64_t)(due > now ? due : now + 1) * 1000);
}

void secure_tick(struct daemon *d)
{
	ice_timer_reset(d);             /* every call is walked: the list is made anew */
	for (struct call *c = d->reg.head; c; c = c->lnext)
		if (!c->deleted)
			secure_kick(d, c);
}
