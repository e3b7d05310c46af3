/* Endpoint learning. */
#include "latch.h"

#include "sluice/rtp.h"

static bool packet_ssrc(const struct stream *s, const uint8_t *pkt, size_t len, uint32_t *ssrc)
{
	if (s->component == COMP_RTCP || rtp_is_rtcp(pkt, len))
		return rtcp_ssrc(pkt, len, ssrc) == 0;
	return rtp_ssrc(pkt, len, ssrc) == 0;
}

static void take(struct stream *s, const union sockaddr_u *src)
{
	s->endpoint = *src;
	s->latched = true;
}

enum latch_verdict latch_packet(struct stream *s, const union sockaddr_u *src,
				const uint8_t *pkt, size_t len, int64_t now,
				enum endpoint_learning el)
{
	const struct party_opts *o = &s->media->party->opts;
	uint32_t ssrc;
	bool have_ssrc = packet_ssrc(s, pkt, len, &ssrc);
	enum latch_verdict v = LATCH_OK;

	/* learning ends with time, not only when another source shows up */
	if (s->latched && !s->confirmed && now >= s->learn_until_us)
		s->confirmed = true;
	/* no reply can reach 0.0.0.0 or port 0: such a (spoofed) source must not latch */
	if (netaddr_is_any(src) || !netaddr_port(src))
		return LATCH_DROP;
	if (s->latched && netaddr_eq(&s->endpoint, src))
		goto accept;
	if (el == EL_OFF || o->asymmetric) {
		if (s->has_advertised && netaddr_eq(&s->advertised, src))
			goto accept;
		if (!o->strict_source && !s->has_advertised)
			goto accept;
		return LATCH_DROP;
	}
	if (!s->latched) {
		take(s, src);
		s->confirmed = el == EL_IMMEDIATE ||
			       (s->has_advertised && netaddr_eq(&s->advertised, src));
		s->learn_until_us = now + LATCH_LEARN_US;
		v = LATCH_NEW;
		goto accept;
	}
	if (!s->confirmed) {
		if (s->has_advertised && netaddr_eq(&s->advertised, src)) {
			take(s, src);
			s->confirmed = true;
			v = LATCH_MOVED;
			goto accept;
		}
		return LATCH_DROP;
	}
	if (o->strict_source || !have_ssrc || !s->has_ssrc || ssrc != s->ssrc)
		return LATCH_DROP;
	take(s, src);
	v = LATCH_MOVED;
accept:
	if (have_ssrc) {
		s->ssrc = ssrc;
		s->has_ssrc = true;
	}
	return v;
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
	s->confirmed = false;
	s->has_ssrc = false;
}
