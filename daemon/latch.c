/* Endpoint learning (latch.h). */
#include "latch.h"

#include "sluice/log.h"
#include "sluice/rtp.h"

static bool packet_ssrc(const struct stream *s, const uint8_t *pkt, size_t len, uint32_t *ssrc)
{
	if (s->component == COMP_RTCP || rtp_is_rtcp(pkt, len))
		return rtcp_ssrc(pkt, len, ssrc) == 0;
	return rtp_ssrc(pkt, len, ssrc) == 0;
}

static uint8_t rank_of(const struct stream *s, const union sockaddr_u *src)
{
	const union sockaddr_u *e = s->has_expected ? &s->expected : NULL;
	const union sockaddr_u *a = s->has_advertised ? &s->advertised : NULL;

	if ((e && netaddr_eq(e, src)) || (a && netaddr_eq(a, src)))
		return 0;
	if ((e && netaddr_ip_eq(e, src)) || (a && netaddr_ip_eq(a, src)))
		return 1;
	return 2;
}

enum endpoint_learning latch_mode(const struct stream *s, enum endpoint_learning dflt)
{
	int8_t l = s->media->party->call->learning;

	return l >= 0 ? (enum endpoint_learning)l : dflt;
}

static void verdict(struct latch_step *st, enum latch_verdict v, bool confirm)
{
	st->v = v;
	st->confirm = confirm;
}

void latch_judge(struct stream *s, const union sockaddr_u *src, int64_t now,
		 enum endpoint_learning el, struct latch_step *st)
{
	const struct party_opts *o = &s->media->party->opts;
	bool learning;

	/* learning ends with time, not only when another source shows up */
	if (s->latched && !s->confirmed && !s->relearn && now >= s->learn_until_us)
		s->confirmed = true;
	st->rank = s->learn_rank;
	/* the common case first: media from the latched endpoint */
	if (s->latched && !s->relearn && el != EL_OFF && !o->asymmetric &&
	    netaddr_eq(&s->endpoint, src))
		return verdict(st, LATCH_OK, false);
	/* no reply can reach 0.0.0.0 or port 0: such a (spoofed) source must not latch;
	 * and before its side's SDP nobody signalled who may send here (the answerer's
	 * packets that overtake its answer: their codec is not settled either) */
	if (netaddr_is_any(src) || !netaddr_port(src) || !s->has_advertised)
		return verdict(st, LATCH_FOREIGN, false);
	st->rank = rank_of(s, src);
	if (el == EL_OFF || o->asymmetric)
		return verdict(st, st->rank <= (o->strict_source ? 0 : 1) ? LATCH_OK
								       : LATCH_FOREIGN, false);
	if (o->strict_source && st->rank == 2)
		return verdict(st, LATCH_FOREIGN, false);
	if (!s->latched || s->relearn)
		return verdict(st, LATCH_NEW, el == EL_IMMEDIATE || st->rank == 0);
	learning = !s->confirmed;
	if (learning && (st->rank < s->learn_rank ||
			 (el == EL_DELAYED && st->rank == s->learn_rank)))
		return verdict(st, LATCH_MOVED, st->rank == 0);
	if (!learning && o->media_handover)
		return verdict(st, LATCH_MOVED, true);
	verdict(st, LATCH_FOREIGN, false);
}

void latch_commit(struct stream *s, const union sockaddr_u *src, const struct latch_step *st,
		  const uint8_t *pkt, size_t len, int64_t now)
{
	uint32_t ssrc;

	if (st->v == LATCH_NEW || st->v == LATCH_MOVED) {
		if (st->v == LATCH_NEW)
			s->learn_until_us = now + LATCH_LEARN_US;
		s->endpoint = *src;
		s->tx_sock = s->rx_sock;        /* answered from where it was heard */
		s->latched = true;
		s->relearn = false;
		s->learn_rank = st->rank;
		/* a hand-over keeps the latch fixed; learning fixes it on rank 0 */
		s->confirmed = st->confirm || (st->v == LATCH_MOVED && s->confirmed);
	}
	if (pkt && packet_ssrc(s, pkt, len, &ssrc)) {
		s->ssrc = ssrc;
		s->has_ssrc = true;
	}
}

void latch_log_foreign(struct stream *s, const union sockaddr_u *src, int64_t now)
{
	const struct party *p = s->media->party;
	uint64_t total = s->stats.foreign + s->kforeign, n = total - s->foreign_logged;
	char a[NETADDR_STRLEN];

	if (!n || (s->foreign_log_us && now - s->foreign_log_us < LATCH_LOG_GAP_US))
		return;
	clog(LOG_NOTICE, p->call->callid, p->n_tags ? p->tags[0].tag : NULL,
	     "dropped %llu foreign packet%s on %s port %u, last from %s",
	     (unsigned long long)n, n == 1 ? "" : "s",
	     s->component == COMP_RTP ? "RTP" : "RTCP", netaddr_port(&s->local),
	     netaddr_str(src, a, sizeof(a)));
	s->foreign_logged = total;
	s->foreign_log_us = now;
}

void latch_foreign(struct stream *s, const union sockaddr_u *src, int64_t now)
{
	s->stats.foreign++;
	s->last_foreign = *src;
	s->last_foreign_us = now;
	latch_log_foreign(s, src, now);
}

enum latch_verdict latch_packet(struct stream *s, const union sockaddr_u *src,
				const uint8_t *pkt, size_t len, int64_t now,
				enum endpoint_learning el)
{
	struct latch_step st;

	latch_judge(s, src, now, el, &st);
	if (st.v == LATCH_FOREIGN)
		latch_foreign(s, src, now);
	else
		latch_commit(s, src, &st, pkt, len, now);
	return st.v;
}

bool stream_dest(const struct stream *s, union sockaddr_u *out)
{
	const struct party_opts *o = &s->media->party->opts;

	if (s->latched && !o->asymmetric) {
		*out = s->endpoint;
		return true;
	}
	if (s->has_advertised && !netaddr_is_any(&s->advertised) &&
	    netaddr_port(&s->advertised)) {
		*out = s->advertised;
		return true;
	}
	return false;
}

void latch_reset(struct stream *s)
{
	s->latched = false;
	s->tx_sock = 0;
	s->confirmed = false;
	s->relearn = false;
	s->has_ssrc = false;
}

void latch_relearn(struct stream *s)
{
	if (!s->latched)
		return;
	s->relearn = true;
	s->confirmed = false;
}
