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
#define SDP   "192.0.2.10:20014"        /* what the SDP advertised */
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
	uint8_t comp;
	enum endpoint_learning el;
	struct party_opts opts;
	struct step steps[8];
	unsigned n;
};

#define STEPS(...) .steps = { __VA_ARGS__ }, \
	.n = sizeof((struct step[]){ __VA_ARGS__ }) / sizeof(struct step)

static const struct scenario scenarios[] = {
	{ "first packet latches", NULL, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ NAT, RTP, 1, 20, LATCH_OK, NAT, 0 },
		{ NAT, RTP, 1, 4000, LATCH_OK, NAT, -1 }) },
	{ "first packet from SDP address confirms", SDP, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ SDP, RTP, 1, 0, LATCH_NEW, SDP, 1 },
		{ NAT, RTP, 2, 100, LATCH_DROP, SDP, 1 },
		{ SDP, RTP, 1, 120, LATCH_OK, SDP, 1 }) },
	{ "SDP address takes over while learning", SDP, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ SDP, RTP, 2, 1000, LATCH_MOVED, SDP, 1 },
		{ SDP, RTP, 2, 1020, LATCH_OK, SDP, 1 },
		/* confirmed now: the NAT address with its own SSRC is a stranger */
		{ NAT, RTP, 1, 1040, LATCH_DROP, SDP, 1 }) },
	{ "take-over until the window's last microsecond", SDP, COMP_RTP, EL_DELAYED, { 0 },
	  STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ SDP, RTP, 2, 2999, LATCH_MOVED, SDP, 1 }) },
	{ "no take-over after the window", SDP, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ SDP, RTP, 2, 3000, LATCH_DROP, NAT, 1 },
		{ NAT, RTP, 1, 3020, LATCH_OK, NAT, 1 }) },
	{ "third address while learning is dropped", SDP, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ EVIL, RTP, 9, 500, LATCH_DROP, NAT, 0 },
		{ EVIL2, RTP, 8, 2900, LATCH_DROP, NAT, 0 },
		{ NAT, RTP, 1, 2950, LATCH_OK, NAT, 0 },
		/* the SDP address still may take over */
		{ SDP, RTP, 2, 2990, LATCH_MOVED, SDP, 1 },
		{ EVIL, RTP, 9, 3500, LATCH_DROP, SDP, 1 }) },
	{ "second address while learning, no SDP address", NULL, COMP_RTP, EL_DELAYED, { 0 },
	  STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ EVIL, RTP, 9, 10, LATCH_DROP, NAT, 0 }) },
	{ "confirmed: stranger dropped, same SSRC re-latches", SDP, COMP_RTP, EL_DELAYED, { 0 },
	  STEPS(
		{ NAT, RTP, 0x11223344, 0, LATCH_NEW, NAT, 0 },
		{ NAT, RTP, 0x11223344, 3100, LATCH_OK, NAT, -1 },
		{ EVIL, RTP, 0x11223345, 3200, LATCH_DROP, NAT, 1 },
		{ SDP, RTP, 0x55, 3300, LATCH_DROP, NAT, 1 },
		{ NAT2, RTP, 0x11223344, 3400, LATCH_MOVED, NAT2, 1 },
		{ NAT2, RTP, 0x11223344, 3420, LATCH_OK, NAT2, 1 },
		{ NAT, RTP, 0x99, 3440, LATCH_DROP, NAT2, 1 }) },
	{ "the SSRC followed is the latest one from the endpoint", NULL, COMP_RTP, EL_DELAYED,
	  { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_NEW, NAT, 0 },
		{ NAT, RTP, 2, 4000, LATCH_OK, NAT, 1 },
		{ NAT2, RTP, 1, 4020, LATCH_DROP, NAT, 1 },
		{ NAT2, RTP, 2, 4040, LATCH_MOVED, NAT2, 1 }) },
	{ "strict-source: no move", SDP, COMP_RTP, EL_DELAYED, { .strict_source = true }, STEPS(
		{ NAT, RTP, 7, 0, LATCH_NEW, NAT, 0 },
		{ NAT2, RTP, 7, 3500, LATCH_DROP, NAT, 1 },
		{ NAT, RTP, 7, 3520, LATCH_OK, NAT, 1 }) },
	{ "packet without SSRC cannot move a latch", NULL, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTP, 7, 0, LATCH_NEW, NAT, 0 },
		{ NAT, SHORT, 0, 3100, LATCH_OK, NAT, -1 },
		{ NAT2, SHORT, 0, 3200, LATCH_DROP, NAT, 1 },
		{ NAT2, RTP, 7, 3300, LATCH_MOVED, NAT2, 1 }) },
	{ "immediate: confirmed at once", SDP, COMP_RTP, EL_IMMEDIATE, { 0 }, STEPS(
		{ NAT, RTP, 5, 0, LATCH_NEW, NAT, 1 },
		{ SDP, RTP, 6, 100, LATCH_DROP, NAT, 1 },
		{ EVIL, RTP, 6, 200, LATCH_DROP, NAT, 1 },
		{ NAT2, RTP, 5, 300, LATCH_MOVED, NAT2, 1 }) },
	{ "immediate + strict-source", NULL, COMP_RTP, EL_IMMEDIATE, { .strict_source = true },
	  STEPS(
		{ NAT, RTP, 5, 0, LATCH_NEW, NAT, 1 },
		{ NAT2, RTP, 5, 10, LATCH_DROP, NAT, 1 }) },
	{ "off: only the SDP address", SDP, COMP_RTP, EL_OFF, { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_DROP, NULL, -1 },
		{ SDP, RTP, 1, 10, LATCH_OK, NULL, -1 },
		{ NAT, RTP, 1, 5000, LATCH_DROP, NULL, -1 },
		{ EVIL, RTP, 1, 5010, LATCH_DROP, NULL, -1 }) },
	{ "off without SDP address: open unless strict", NULL, COMP_RTP, EL_OFF, { 0 }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_OK, NULL, -1 },
		{ EVIL, RTP, 2, 10, LATCH_OK, NULL, -1 }) },
	{ "off without SDP address, strict", NULL, COMP_RTP, EL_OFF, { .strict_source = true },
	  STEPS(
		{ NAT, RTP, 1, 0, LATCH_DROP, NULL, -1 }) },
	{ "asymmetric: only the SDP address", SDP, COMP_RTP, EL_DELAYED, { .asymmetric = true },
	  STEPS(
		{ NAT, RTP, 1, 0, LATCH_DROP, NULL, -1 },
		{ SDP, RTP, 1, 10, LATCH_OK, NULL, -1 },
		{ NAT2, RTP, 1, 4000, LATCH_DROP, NULL, -1 }) },
	{ "asymmetric + immediate", SDP, COMP_RTP, EL_IMMEDIATE, { .asymmetric = true }, STEPS(
		{ NAT, RTP, 1, 0, LATCH_DROP, NULL, -1 },
		{ SDP, RTP, 1, 10, LATCH_OK, NULL, -1 }) },
	/* a source nothing can be sent back to never latches nor moves a latch */
	{ "source port 0 / 0.0.0.0 never latches", NULL, COMP_RTP, EL_DELAYED, { 0 }, STEPS(
		{ "198.51.100.7:0", RTP, 1, 0, LATCH_DROP, NULL, -1 },
		{ "0.0.0.0:40000", RTP, 1, 10, LATCH_DROP, NULL, -1 },
		{ NAT, RTP, 1, 20, LATCH_NEW, NAT, 0 },
		{ "198.51.100.7:0", RTP, 1, 5000, LATCH_DROP, NAT, 1 }) },
	/* RTCP: the sender SSRC sits at offset 4; offset 8 (first report block) is not it */
	{ "RTCP: sender SSRC moves the latch", NULL, COMP_RTCP, EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTCP, 0xabcd, 0, LATCH_NEW, NAT, 0 },
		{ NAT2, RTCP, 0xabce, 5000, LATCH_DROP, NAT, 1 },
		{ NAT2, RTCP, 0xabcd, 5010, LATCH_MOVED, NAT2, 1 }) },
	{ "RTCP: an RTP-shaped packet's offset 8 is not the sender", NULL, COMP_RTCP,
	  EL_DELAYED, { 0 }, STEPS(
		{ NAT, RTCP, 0xabcd, 0, LATCH_NEW, NAT, 0 },
		/* offset 8 = 0xabcd, offset 4 = timestamp 0x1000 */
		{ NAT2, RTP, 0xabcd, 5000, LATCH_DROP, NAT, 1 }) },
	/* rtcp-mux: RTCP on the RTP stream is recognised by its packet type */
	{ "mux: RTCP on the RTP stream uses the sender SSRC", NULL, COMP_RTP, EL_DELAYED, { 0 },
	  STEPS(
		{ NAT, RTP, 0x77, 0, LATCH_NEW, NAT, 0 },
		{ NAT2, RTCP, 0x77, 5000, LATCH_MOVED, NAT2, 1 },
		{ NAT, RTCP, 0x78, 5010, LATCH_DROP, NAT2, 1 }) },
};

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
			    const struct party_opts *opts)
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
	if (adv) {
		s->advertised = sa(adv);
		s->has_advertised = true;
	}
	return s;
}

static const char *vname(enum latch_verdict v)
{
	static const char *n[] = { "OK", "NEW", "MOVED", "DROP" };
	return (unsigned)v < 4 ? n[v] : "?";
}

static void test_scenarios(void **state)
{
	uint8_t pkt[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct fixture f;
		struct stream *s = setup(&f, sc->comp, sc->advertised, &sc->opts);

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
		struct stream *s = setup(&f, COMP_RTP, v[i].adv, &o);
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
			struct stream *s = setup(&f, COMP_RTP, with_adv ? SDP : NULL, NULL);
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
			if (!with_adv) {
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
	struct stream *s = setup(&f, COMP_RTP, SDP, NULL);
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
			 LATCH_DROP);

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
			 LATCH_DROP);
	/* the SDP address may take over inside the new window */
	latch_reset(s);
	assert_int_equal(latch_packet(s, &evil, pkt, len, T0 + 10000 * MS, EL_DELAYED),
			 LATCH_NEW);
	out = s->advertised;
	assert_int_equal(latch_packet(s, &out, pkt, len, T0 + 12000 * MS, EL_DELAYED),
			 LATCH_MOVED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_dest),
		cmocka_unit_test(test_dest_never_unusable),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
