/* Endpoint learning: the rules of latch.h, played as packet sequences against a stream
 * built by hand; stream_dest's choice of destination; latch_reset. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/call.h"
#include "../../daemon/latch.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000LL
#define T0 (1000 * 1000 * MS)   /* arbitrary monotonic start */

/* Addresses used by the scenarios. */
#define SDP   "192.0.2.10:20014"        /* what the SDP advertised: rank 0 */
#define SDPP  "192.0.2.10:30000"        /* its address, another port: rank 1 */
#define PRIV  "10.0.0.1:20014"          /* a private SDP address */
#define SIPSRC "198.51.100.7:20014"     /* the SIP source with the SDP port (expected) */
#define NAT   "198.51.100.7:40000"      /* the phone behind NAT */
#define NAT2  "198.51.100.7:40002"      /* same NAT, re-bound port */
#define EVIL  "203.0.113.66:5000"       /* a stranger */
#define EVIL2 "203.0.113.67:6000"

enum pkt_kind { RTP, RTCP, SHORT };

struct step {
	const char *src;
	enum pkt_kind kind;
	uint32_t ssrc;
	int64_t t_ms;
	enum latch_verdict want;
	const char *endpoint;           /* after the step; NULL: not latched */
	int confirmed;                  /* -1 don't care, else 0/1 after the step */
};

struct scenario {
	const char *name;
	const char *advertised;         /* NULL: none */
	const char *expected;           /* NULL: same as advertised */
	uint8_t comp;
	enum endpoint_learning el;
	struct party_opts opts;
	struct step steps[8];
	unsigned n;
};

#define STEPS(...) .steps = { __VA_ARGS__ }, \
	.n = sizeof((struct step[]){ __VA_ARGS__ }) / sizeof(struct step)
#define H EL_HEURISTIC
#define D EL_DELAYED
#define F LATCH_FOREIGN

static const struct scenario scenarios[] = {
	/*  0 */ { "first packet latches, the window's end fixes it", SDP, NULL, COMP_RTP, H,
	  { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ NAT, RTP, 1, 20, LATCH_OK, NAT, 0 },
		{ NAT, RTP, 1, 4000, LATCH_OK, NAT, 1 }) },
	/*  1 */ { "rank 0 first: fixed at once", SDP, NULL, COMP_RTP, H, { 0 }, STEPS(
		{ SDP, RTP, 1, 0, LATCH_NEW, SDP, 1 },
		{ NAT, RTP, 2, 100, F, SDP, 1 },
		{ SDPP, RTP, 2, 110, F, SDP, 1 },
		{ SDP, RTP, 1, 120, LATCH_OK, SDP, 1 }) },
	/*  2 */ { "a better rank takes over while learning", SDP, NULL, COMP_RTP, H, { 0 },
	  STEPS(
		{ EVIL, RTP, 9, 0, LATCH_NEW, EVIL, 0 },
		{ SDPP, RTP, 1, 500, LATCH_MOVED, SDPP, 0 },
		{ EVIL, RTP, 9, 600, F, SDPP, 0 },
		{ SDP, RTP, 1, 1000, LATCH_MOVED, SDP, 1 },
		{ SDPP, RTP, 1, 1020, F, SDP, 1 }) },
	/*  3 */ { "heuristic: an equal rank does not take over", SDP, NULL, COMP_RTP, H, { 0 },
	  STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ EVIL, RTP, 9, 10, F, NAT, 0 },
		{ NAT2, RTP, 1, 20, F, NAT, 0 },
		{ NAT, RTP, 1, 30, LATCH_OK, NAT, 0 }) },
	/*  4 */ { "delayed: an equal rank takes over (last seen)", SDP, NULL, COMP_RTP, D,
	  { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ EVIL, RTP, 9, 10, LATCH_MOVED, EVIL, 0 },
		{ NAT, RTP, 1, 20, LATCH_MOVED, NAT, 0 },
		{ EVIL, RTP, 9, 3100, F, NAT, 1 }) },
	/*  5 */ { "delayed: a worse rank never takes over", SDP, NULL, COMP_RTP, D, { 0 },
	  STEPS(
		{ SDPP, RTP, 1, 0, LATCH_NEW, SDPP, 0 },
		{ EVIL, RTP, 9, 10, F, SDPP, 0 },
		{ SDP, RTP, 1, 20, LATCH_MOVED, SDP, 1 }) },
	/*  6 */ { "take-over until the window's last millisecond", SDP, NULL, COMP_RTP, H,
	  { 0 }, STEPS(
		{ EVIL, RTP, 1, 0, LATCH_NEW, EVIL, 0 },
		{ SDP, RTP, 2, 2999, LATCH_MOVED, SDP, 1 }) },
	/*  7 */ { "no take-over after the window", SDP, NULL, COMP_RTP, H, { 0 }, STEPS(
		{ EVIL, RTP, 1, 0, LATCH_NEW, EVIL, 0 },
		{ SDP, RTP, 2, 3000, F, EVIL, 1 },
		{ EVIL, RTP, 1, 3020, LATCH_OK, EVIL, 1 }) },
	/*  8 */ { "NAT'd phone (private SDP, SIP source) beats a racing stranger", PRIV, SIPSRC,
	  COMP_RTP, H, { 0 }, STEPS(
		{ EVIL, RTP, 9, 0, LATCH_NEW, EVIL, 0 },
		{ NAT, RTP, 1, 50, LATCH_MOVED, NAT, 0 },
		{ EVIL, RTP, 9, 60, F, NAT, 0 },
		{ NAT2, RTP, 1, 100, F, NAT, 0 },
		{ NAT, RTP, 1, 3100, LATCH_OK, NAT, 1 }) },
	/*  9 */ { "delayed: the NAT'd phone wins over a flooding stranger", PRIV, SIPSRC,
	  COMP_RTP, D, { 0 }, STEPS(
		{ EVIL, RTP, 9, 0, LATCH_NEW, EVIL, 0 },
		{ NAT, RTP, 1, 50, LATCH_MOVED, NAT, 0 },
		{ EVIL, RTP, 9, 51, F, NAT, 0 },
		{ EVIL2, RTP, 9, 52, F, NAT, 0 },
		{ NAT, RTP, 1, 3100, LATCH_OK, NAT, 1 }) },
	/* 10 */ { "the SSRC never moves a fixed latch", SDP, NULL, COMP_RTP, H, { 0 }, STEPS(
		{ NAT, RTP, 0x11223344, 0, LATCH_NEW, NAT, 0 },
		{ NAT, RTP, 0x11223344, 3100, LATCH_OK, NAT, 1 },
		{ NAT2, RTP, 0x11223344, 3200, F, NAT, 1 },
		{ EVIL, RTP, 0x11223344, 3300, F, NAT, 1 },
		{ NAT, RTP, 0x11223344, 3400, LATCH_OK, NAT, 1 }) },
	/* 11 */ { "media-handover: a fixed latch follows a new source", SDP, NULL, COMP_RTP, H,
	  { .media_handover = true }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ EVIL, RTP, 2, 100, F, NAT, 0 },       /* learning rules while learning */
		{ NAT, RTP, 1, 3100, LATCH_OK, NAT, 1 },
		{ NAT2, RTP, 1, 3200, LATCH_MOVED, NAT2, 1 },
		{ NAT2, RTP, 1, 3220, LATCH_OK, NAT2, 1 },
		{ NAT, RTP, 1, 3300, LATCH_MOVED, NAT, 1 }) },
	/* 12 */ { "strict-source: a stranger never latches, even first", SDP, NULL, COMP_RTP, H,
	  { .strict_source = true }, STEPS(
		{ EVIL, RTP, 9, 0, F, NULL, -1 },
		{ SDPP, RTP, 1, 10, LATCH_NEW, SDPP, 0 },
		{ EVIL, RTP, 9, 20, F, SDPP, 0 },
		{ SDP, RTP, 1, 30, LATCH_MOVED, SDP, 1 }) },
	/* 13 */ { "strict-source + media-handover: no stranger", SDP, NULL, COMP_RTP, H,
	  { .strict_source = true, .media_handover = true }, STEPS(
		{ SDP, RTP, 1, 0, LATCH_NEW, SDP, 1 },
		{ EVIL, RTP, 9, 10, F, SDP, 1 },
		{ SDPP, RTP, 1, 20, LATCH_MOVED, SDPP, 1 }) },
	/* 14 */ { "strict-source without a signalled address", NULL, NULL, COMP_RTP, H,
	  { .strict_source = true }, STEPS(
		{ NAT, RTP, 1, 0, F, NULL, -1 }) },
	/* 15 */ { "immediate: fixed by the first packet", SDP, NULL, COMP_RTP, EL_IMMEDIATE,
	  { 0 }, STEPS(
		{ NAT, RTP, 5, 0, LATCH_NEW, NAT, 1 },
		{ SDP, RTP, 6, 100, F, NAT, 1 },
		{ EVIL, RTP, 6, 200, F, NAT, 1 },
		{ NAT2, RTP, 5, 300, F, NAT, 1 }) },
	/* 16 */ { "immediate: a racing stranger wins (documented)", SDP, NULL, COMP_RTP,
	  EL_IMMEDIATE, { 0 }, STEPS(
		{ EVIL, RTP, 9, 0, LATCH_NEW, EVIL, 1 },
		{ SDP, RTP, 1, 50, F, EVIL, 1 }) },
	/* 17 */ { "off: the SDP address only, never latched", SDP, NULL, COMP_RTP, EL_OFF,
	  { 0 }, STEPS(
		{ NAT, RTP, 1, 0, F, NULL, -1 },
		{ SDP, RTP, 1, 10, LATCH_OK, NULL, -1 },
		{ SDPP, RTP, 1, 20, LATCH_OK, NULL, -1 },
		{ EVIL, RTP, 1, 5010, F, NULL, -1 }) },
	/* 18 */ { "off + strict-source: address and port", SDP, NULL, COMP_RTP, EL_OFF,
	  { .strict_source = true }, STEPS(
		{ SDPP, RTP, 1, 0, F, NULL, -1 },
		{ SDP, RTP, 1, 10, LATCH_OK, NULL, -1 }) },
	/* 19 */ { "off without a signalled address: nothing", NULL, NULL, COMP_RTP, EL_OFF,
	  { 0 }, STEPS(
		{ NAT, RTP, 1, 0, F, NULL, -1 }) },
	/* 20 */ { "asymmetric: the SDP address only", SDP, NULL, COMP_RTP, D,
	  { .asymmetric = true }, STEPS(
		{ NAT, RTP, 1, 0, F, NULL, -1 },
		{ SDPP, RTP, 1, 10, LATCH_OK, NULL, -1 },
		{ SDP, RTP, 1, 4000, LATCH_OK, NULL, -1 }) },
	/* 21: a source nothing can be sent back to never latches nor moves a latch */
	{ "source port 0 / 0.0.0.0 never latches", SDP, NULL, COMP_RTP, D,
	  { .media_handover = true }, STEPS(
		{ "198.51.100.7:0", RTP, 1, 0, F, NULL, -1 },
		{ "0.0.0.0:40000", RTP, 1, 10, F, NULL, -1 },
		{ NAT, RTP, 1, 20, LATCH_NEW, NAT, 0 },
		{ "198.51.100.7:0", RTP, 1, 5000, F, NAT, 1 }) },
	/* 22 */ { "no SDP from the side yet: nobody may send", NULL, NULL, COMP_RTP, H,
	  { 0 }, STEPS(
		{ NAT, RTP, 1, 0, F, NULL, -1 },
		{ EVIL, RTP, 2, 10, F, NULL, -1 }) },
	/* 23 */ { "RTCP follows the same rules", SDP, NULL, COMP_RTCP, H, { 0 }, STEPS(
		{ EVIL, RTCP, 0xabcd, 0, LATCH_NEW, EVIL, 0 },
		{ SDPP, RTCP, 0xabcd, 10, LATCH_MOVED, SDPP, 0 },
		{ NAT2, RTCP, 0xabcd, 5000, F, SDPP, 1 }) },
	/* 24 */ { "packets without an SSRC latch like any other", SDP, NULL, COMP_RTP, H,
	  { 0 }, STEPS(
		{ NAT, SHORT, 0, 0, LATCH_NEW, NAT, 0 },
		{ NAT2, SHORT, 0, 3200, F, NAT, 1 }) },
};
#undef H
#undef D
#undef F

static union sockaddr_u sa(const char *s)
{
	union sockaddr_u u;

	if (netaddr_parse(s, 0, false, &u))
		fail_msg("bad address '%s'", s);
	return u;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RTP: V=2, PT 0, seq 1, timestamp 0x1000, SSRC at 8. RTCP SR: V=2, PT 200, sender SSRC
 * at 4, then NTP time whose first word deliberately differs from the SSRC. */
static size_t build(uint8_t *pkt, enum pkt_kind kind, uint32_t ssrc)
{
	memset(pkt, 0, 28);
	pkt[0] = 0x80;
	switch (kind) {
	case RTP:
		pkt[1] = 0;
		pkt[3] = 1;
		put32(pkt + 4, 0x1000);
		put32(pkt + 8, ssrc);
		return 12 + 160;
	case RTCP:
		pkt[1] = 200;
		pkt[3] = 6;
		put32(pkt + 4, ssrc);
		put32(pkt + 8, ~ssrc);
		return 28;
	case SHORT:
		return 4;
	}
	return 0;
}

struct fixture {
	struct call call;
	struct party party;
	struct media media;
};

static struct stream *setup(struct fixture *f, uint8_t comp, const char *adv,
			    const struct party_opts *opts, const char *expected)
{
	struct stream *s;

	memset(f, 0, sizeof(*f));
	f->party.call = &f->call;
	f->media.party = &f->party;
	f->media.index = 1;
	if (opts)
		f->party.opts = *opts;
	f->media.rtp.media = f->media.rtcp.media = &f->media;
	f->media.rtp.component = COMP_RTP;
	f->media.rtcp.component = COMP_RTCP;
	f->media.rtp.fd = f->media.rtcp.fd = -1;
	f->media.rtp.sink = &f->media.rtcp;     /* never followed by latch code */
	s = comp == COMP_RTCP ? &f->media.rtcp : &f->media.rtp;
	f->call.learning = -1;
	if (adv) {
		s->advertised = s->expected = sa(adv);
		s->has_advertised = s->has_expected = true;
	}
	if (expected) {
		s->expected = sa(expected);
		s->has_expected = true;
	}
	return s;
}

static const char *vname(enum latch_verdict v)
{
	static const char *n[] = { "OK", "NEW", "MOVED", "FOREIGN" };
	return (unsigned)v < 4 ? n[v] : "?";
}

static void test_scenarios(void **state)
{
	uint8_t pkt[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct fixture f;
		struct stream *s = setup(&f, sc->comp, sc->advertised, &sc->opts, sc->expected);

		for (unsigned k = 0; k < sc->n; k++) {
			const struct step *st = &sc->steps[k];
			union sockaddr_u src = sa(st->src), want_ep;
			size_t len = build(pkt, st->kind, st->ssrc);
			enum latch_verdict v = latch_packet(s, &src, pkt, len,
							    T0 + st->t_ms * MS, sc->el);
			if (v != st->want)
				fail_msg("[%zu] %s, step %u (%s at %lld ms): got %s want %s", i,
					 sc->name, k, st->src, (long long)st->t_ms, vname(v),
					 vname(st->want));
			if (!st->endpoint) {
				if (s->latched)
					fail_msg("[%zu] %s, step %u: latched, want not", i,
						 sc->name, k);
			} else {
				want_ep = sa(st->endpoint);
				if (!s->latched || !netaddr_eq(&s->endpoint, &want_ep)) {
					char b[NETADDR_STRLEN];
					fail_msg("[%zu] %s, step %u: endpoint %s (latched %d), want %s",
						 i, sc->name, k, netaddr_str(&s->endpoint, b, sizeof(b)),
						 s->latched, st->endpoint);
				}
			}
			if (st->confirmed >= 0 && s->confirmed != (st->confirmed == 1))
				fail_msg("[%zu] %s, step %u: confirmed %d want %d", i, sc->name, k,
					 s->confirmed, st->confirmed);
		}
	}
}

/* stream_dest: a latched endpoint wins (unless asymmetric), else a usable advertised
 * address; never 0.0.0.0/:: nor port 0. */
static void test_dest(void **state)
{
	static const struct {
		const char *adv;        /* NULL: none */
		const char *latched;    /* NULL: not latched */
		bool asymmetric;
		const char *want;       /* NULL: false */
	} v[] = {
		/*  0 */ { NULL, NULL, false, NULL },
		/*  1 */ { SDP, NULL, false, SDP },
		/*  2 */ { "0.0.0.0:20014", NULL, false, NULL },        /* hold */
		/*  3 */ { "192.0.2.10:0", NULL, false, NULL },         /* rejected stream */
		/*  4 */ { "[::]:20014", NULL, false, NULL },
		/*  5 */ { "[2001:db8::5]:20014", NULL, false, "[2001:db8::5]:20014" },
		/*  6 */ { "[2001:db8::5]:0", NULL, false, NULL },
		/*  7 */ { SDP, NAT, false, NAT },
		/*  8 */ { NULL, NAT, false, NAT },
		/*  9 */ { "0.0.0.0:20014", NAT, false, NAT },  /* hold SDP, media known */
		/* 10 */ { SDP, NAT, true, SDP },
		/* 11 */ { NULL, NAT, true, NULL },
		/* 12 */ { "0.0.0.0:20014", NAT, true, NULL },
		/* 13 */ { SDP, NULL, true, SDP },
	};
	uint8_t pkt[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct party_opts o = { .asymmetric = v[i].asymmetric };
		struct fixture f;
		struct stream *s = setup(&f, COMP_RTP, v[i].adv, &o, NULL);
		union sockaddr_u out, want;
		bool got;

		memset(&out, 0xa5, sizeof(out));
		if (v[i].latched) {
			union sockaddr_u src = sa(v[i].latched);
			size_t len = build(pkt, RTP, 1);
			/* latch for real; asymmetric refuses to, so set it as a previous
			 * symmetric state would have left it */
			if (latch_packet(s, &src, pkt, len, T0, EL_DELAYED) != LATCH_NEW) {
				s->endpoint = src;
				s->latched = true;
			}
		}
		got = stream_dest(s, &out);
		if (got != (v[i].want != NULL))
			fail_msg("dest[%zu]: got %d want %d", i, got, v[i].want != NULL);
		if (!got)
			continue;
		want = sa(v[i].want);
		if (!netaddr_eq(&out, &want)) {
			char b[NETADDR_STRLEN];
			fail_msg("dest[%zu]: got %s want %s", i, netaddr_str(&out, b, sizeof(b)),
				 v[i].want);
		}
		assert_false(netaddr_is_any(&out));
		assert_int_not_equal(netaddr_port(&out), 0);
	}
}

/* Whatever the packets, stream_dest never yields an unusable address, including when
 * the only source ever seen was 0.0.0.0 or port 0 (spoofable on an open port). */
static void test_dest_never_unusable(void **state)
{
	static const char *srcs[] = { "0.0.0.0:5000", "198.51.100.7:0", "[::]:5000" };
	uint8_t pkt[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(srcs); i++) {
		for (int with_adv = 0; with_adv < 2; with_adv++) {
			struct fixture f;
			struct stream *s = setup(&f, COMP_RTP, with_adv ? SDP : NULL, NULL, NULL);
			union sockaddr_u src = sa(srcs[i]), out;
			size_t len = build(pkt, RTP, 1);

			latch_packet(s, &src, pkt, len, T0, EL_DELAYED);
			if (stream_dest(s, &out) &&
			    (netaddr_is_any(&out) || netaddr_port(&out) == 0))
				fail_msg("src %s, adv %d: stream_dest gave an unusable address",
					 srcs[i], with_adv);
			/* and the real phone can still latch afterwards */
			src = sa(NAT);
			latch_packet(s, &src, pkt, len, T0 + 10 * MS, EL_DELAYED);
			if (with_adv) {
				if (!stream_dest(s, &out) || !netaddr_eq(&out, &src))
					fail_msg("src %s: the real peer could not latch afterwards",
						 srcs[i]);
			}
		}
	}
}

static void test_reset(void **state)
{
	struct fixture f;
	struct stream *s = setup(&f, COMP_RTP, SDP, NULL, NULL);
	union sockaddr_u nat = sa(NAT), evil = sa(EVIL), out;
	uint8_t pkt[200];
	size_t len = build(pkt, RTP, 42);

	(void)state;
	assert_int_equal(latch_packet(s, &nat, pkt, len, T0, EL_DELAYED), LATCH_NEW);
	assert_int_equal(latch_packet(s, &nat, pkt, len, T0 + 4000 * MS, EL_DELAYED), LATCH_OK);
	assert_true(s->confirmed);
	assert_true(s->has_ssrc);
	assert_int_equal(s->ssrc, 42);
	len = build(pkt, RTP, 43);
	assert_int_equal(latch_packet(s, &evil, pkt, len, T0 + 4001 * MS, EL_DELAYED),
			 LATCH_FOREIGN);

	latch_reset(s);
	assert_false(s->latched);
	assert_false(s->confirmed);
	assert_false(s->has_ssrc);
	/* with nothing latched, the destination falls back to the SDP */
	assert_true(stream_dest(s, &out));
	assert_true(netaddr_eq(&out, &s->advertised));
	/* a fresh first packet latches, and opens a new learning window */
	assert_int_equal(latch_packet(s, &evil, pkt, len, T0 + 5000 * MS, EL_DELAYED),
			 LATCH_NEW);
	assert_true(netaddr_eq(&s->endpoint, &evil));
	assert_false(s->confirmed);
	assert_int_equal(s->ssrc, 43);
	/* the old endpoint's SSRC is forgotten: it cannot move the latch back */
	len = build(pkt, RTP, 42);
	assert_int_equal(latch_packet(s, &nat, pkt, len, T0 + 9000 * MS, EL_DELAYED),
			 LATCH_FOREIGN);
	/* the SDP address may take over inside the new window */
	latch_reset(s);
	assert_int_equal(latch_packet(s, &evil, pkt, len, T0 + 10000 * MS, EL_DELAYED),
			 LATCH_NEW);
	out = s->advertised;
	assert_int_equal(latch_packet(s, &out, pkt, len, T0 + 12000 * MS, EL_DELAYED),
			 LATCH_MOVED);
}

/* A new offer/answer with the same endpoint: media keeps going to the old endpoint, the
 * next packet starts a new window (how a phone behind a re-bound NAT is found again). */
static void test_relearn(void **state)
{
	struct fixture f;
	struct stream *s = setup(&f, COMP_RTP, PRIV, NULL, SIPSRC);
	union sockaddr_u nat = sa(NAT), nat2 = sa(NAT2), evil = sa(EVIL), out;
	uint8_t pkt[200];
	size_t len = build(pkt, RTP, 7);

	(void)state;
	assert_int_equal(latch_packet(s, &nat, pkt, len, T0, EL_HEURISTIC), LATCH_NEW);
	assert_int_equal(latch_packet(s, &nat, pkt, len, T0 + 3500 * MS, EL_HEURISTIC),
			 LATCH_OK);
	assert_true(s->confirmed);
	assert_int_equal(latch_packet(s, &nat2, pkt, len, T0 + 3600 * MS, EL_HEURISTIC),
			 LATCH_FOREIGN);
	latch_relearn(s);
	assert_false(s->confirmed);
	assert_true(stream_dest(s, &out));
	assert_true(netaddr_eq(&out, &nat));
	/* no packet for a while: the old latch is not fixed again by time alone */
	assert_int_equal(latch_packet(s, &nat2, pkt, len, T0 + 9000 * MS, EL_HEURISTIC),
			 LATCH_NEW);
	assert_true(netaddr_eq(&s->endpoint, &nat2));
	assert_false(s->confirmed);
	assert_int_equal(latch_packet(s, &evil, pkt, len, T0 + 9100 * MS, EL_HEURISTIC),
			 LATCH_FOREIGN);
	assert_int_equal(latch_packet(s, &nat2, pkt, len, T0 + 12100 * MS, EL_HEURISTIC),
			 LATCH_OK);
	assert_true(s->confirmed);
	/* relearn of a stream that never latched changes nothing */
	latch_reset(s);
	latch_relearn(s);
	assert_false(s->latched);
	assert_false(s->relearn);
}

/* Foreign packets are counted with their last source, never as media, and logged at
 * most once per stream per LATCH_LOG_GAP_US. */
static void test_foreign(void **state)
{
	struct fixture f;
	struct stream *s = setup(&f, COMP_RTP, SDP, NULL, NULL);
	union sockaddr_u nat = sa(SDP), evil = sa(EVIL), evil2 = sa(EVIL2);
	uint8_t pkt[200];
	size_t len = build(pkt, RTP, 7);
	int64_t logged;

	(void)state;
	assert_int_equal(latch_packet(s, &nat, pkt, len, T0, EL_HEURISTIC), LATCH_NEW);
	assert_int_equal(latch_packet(s, &evil, pkt, len, T0 + 1 * MS, EL_HEURISTIC),
			 LATCH_FOREIGN);
	assert_int_equal(s->stats.foreign, 1);
	assert_true(netaddr_eq(&s->last_foreign, &evil));
	logged = s->foreign_log_us;
	assert_int_equal(logged, T0 + 1 * MS);
	for (int i = 0; i < 100; i++)
		latch_packet(s, i & 1 ? &evil : &evil2, pkt, len, T0 + (2 + i) * MS,
			     EL_HEURISTIC);
	assert_int_equal(s->stats.foreign, 101);
	assert_true(netaddr_eq(&s->last_foreign, &evil));
	assert_int_equal(s->foreign_log_us, logged);            /* no new line yet */
	assert_int_equal(s->foreign_logged, 1);
	latch_packet(s, &evil2, pkt, len, T0 + 1 * MS + LATCH_LOG_GAP_US, EL_HEURISTIC);
	assert_int_equal(s->foreign_log_us, T0 + 1 * MS + LATCH_LOG_GAP_US);
	assert_int_equal(s->foreign_logged, 102);
	/* media counters are the relay's business: a foreign packet never touches them */
	assert_int_equal(s->stats.packets, 0);
	assert_int_equal(s->stats.errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_dest),
		cmocka_unit_test(test_dest_never_unusable),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_relearn),
		cmocka_unit_test(test_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
