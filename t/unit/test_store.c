/* Call records for Redis (daemon/store_record.c): a record with every field set comes
 * back field for field; records that are truncated, corrupt, of another version or out
 * of range are refused with -EINVAL and a reason (never a crash: they come from the
 * network); a key for the instance. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/daemon.h"
#include "../../daemon/store_internal.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const sdes_vals[] = {
	"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
	"2 AES_CM_128_HMAC_SHA1_32 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj",
};

static void ep(struct store_ep *e, const char *adv, const char *end, bool latched, bool conf)
{
	if (adv)
		assert_int_equal(netaddr_parse(adv, 0, false, &e->advertised), 0);
	if (end)
		assert_int_equal(netaddr_parse(end, 0, false, &e->endpoint), 0);
	e->latched = latched;
	e->confirmed = conf;
}

/* Two parties, the first with two tags and two media; every field set to something
 * other than its zero value somewhere. */
static void fill(struct store_call *c)
{
	memset(c, 0, sizeof(*c));
	c->callid = strdup("abc-123@host\"quoted\\");
	c->created = 1765000000;
	c->recording = true;
	c->n_parties = 2;
	c->parties = calloc(2, sizeof(*c->parties));
	struct store_party *a = &c->parties[0], *b = &c->parties[1];

	strcpy(a->tags[0], "from-tag");
	strcpy(a->tags[1], "fork-2");
	a->n_tags = 2;
	strcpy(a->peer_tag, "to-tag");
	strcpy(a->label, "caller");
	a->opts = (struct party_opts){ .strict_source = true, .asymmetric = true,
				       .port_latching = true, .media_handover = true, .block = 5 };
	a->n_media = 2;
	a->media = calloc(2, sizeof(*a->media));
	struct store_media *m = &a->media[0];

	m->index = 1;
	strcpy(m->type, "audio");
	strcpy(m->iface, "pub");
	m->port = 30000;
	strcpy(m->codec, "opus/48000");
	m->transcoding = true;
	m->rtcp_mux = true;
	m->transport = 1;
	ep(&m->rtp, "192.0.2.1:5000", "198.51.100.7:40000", true, true);
	m->rtp.has_stats = true;
	m->rtp.packets = 5000000000ull;
	m->rtp.bytes = 860000000000ull;
	m->rtp.errors = 3;
	ep(&m->rtcp, "192.0.2.1:5001", NULL, false, false);
	m->srtp_rx[0] = (struct srtpw_ssrc_state){ .ssrc = 0xdeadbeef, .has_rtp = true,
						   .rtp_index = (7ull << 16) | 12, .has_rtcp = true,
						   .rtcp_index = 99 };
	m->srtp_rx[1] = (struct srtpw_ssrc_state){ .ssrc = 1, .has_rtp = true, .rtp_index = 5 };
	m->n_srtp_rx = 2;
	m->srtp_tx[0] = (struct srtpw_ssrc_state){ .ssrc = 0xffffffff, .has_rtp = true,
						   .rtp_index = (1ull << 48) - 1, .has_rtcp = true,
						   .rtcp_index = 0x7fffffff };
	m->n_srtp_tx = 1;
	strcpy(m->sdes[0], sdes_vals[0]);
	strcpy(m->sdes[1], sdes_vals[1]);
	m->n_sdes = 2;
	strcpy(m->ice_ufrag, "abcdEFGH");
	strcpy(m->ice_pwd, "0123456789abcdefghijklmn");
	m = &a->media[1];
	m->index = 2;
	strcpy(m->type, "video");
	strcpy(m->iface, "default");
	m->port = 30002;
	ep(&m->rtp, "[2001:db8::1]:6000", "[2001:db8::2]:6002", true, false);
	strcpy(b->tags[0], "to-tag");
	b->n_tags = 1;
	strcpy(b->peer_tag, "from-tag");
	b->n_media = 0;
	c->n_ng = 2;
	c->ng[0] = strdup("{\"command\":\"offer\",\"call-id\":\"abc\",\"sdp\":\"v=0\\r\\n\"}");
	c->ng[1] = strdup("{\"command\":\"answer\",\"flags\":[\"trust-address\"]}");
}

static void same_ep(const struct store_ep *x, const struct store_ep *y)
{
	assert_int_equal(x->advertised.sa.sa_family, y->advertised.sa.sa_family);
	if (x->advertised.sa.sa_family)
		assert_true(netaddr_eq(&x->advertised, &y->advertised));
	assert_int_equal(x->endpoint.sa.sa_family, y->endpoint.sa.sa_family);
	if (x->endpoint.sa.sa_family)
		assert_true(netaddr_eq(&x->endpoint, &y->endpoint));
	assert_int_equal(x->latched, y->latched);
	assert_int_equal(x->confirmed, y->confirmed);
	assert_int_equal(x->has_stats, y->has_stats);
	assert_int_equal(x->packets, y->packets);
	assert_int_equal(x->bytes, y->bytes);
	assert_int_equal(x->errors, y->errors);
}

static void same_srtp(const struct srtpw_ssrc_state *x, const struct srtpw_ssrc_state *y,
		      unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(x[i].ssrc, y[i].ssrc);
		assert_int_equal(x[i].has_rtp, y[i].has_rtp);
		assert_int_equal(x[i].rtp_index, y[i].rtp_index);
		assert_int_equal(x[i].has_rtcp, y[i].has_rtcp);
		assert_int_equal(x[i].rtcp_index, y[i].rtcp_index);
	}
}

static void same_media(const struct store_media *x, const struct store_media *y)
{
	assert_int_equal(x->index, y->index);
	assert_string_equal(x->type, y->type);
	assert_string_equal(x->iface, y->iface);
	assert_int_equal(x->port, y->port);
	assert_string_equal(x->codec, y->codec);
	assert_int_equal(x->transcoding, y->transcoding);
	assert_int_equal(x->rtcp_mux, y->rtcp_mux);
	assert_int_equal(x->transport, y->transport);
	same_ep(&x->rtp, &y->rtp);
	same_ep(&x->rtcp, &y->rtcp);
	assert_int_equal(x->n_sdes, y->n_sdes);
	for (unsigned i = 0; i < x->n_sdes; i++)
		assert_string_equal(x->sdes[i], y->sdes[i]);
	assert_string_equal(x->ice_ufrag, y->ice_ufrag);
	assert_string_equal(x->ice_pwd, y->ice_pwd);
	assert_int_equal(x->n_srtp_rx, y->n_srtp_rx);
	assert_int_equal(x->n_srtp_tx, y->n_srtp_tx);
	same_srtp(x->srtp_rx, y->srtp_rx, x->n_srtp_rx);
	same_srtp(x->srtp_tx, y->srtp_tx, x->n_srtp_tx);
}

static void same_call(const struct store_call *x, const struct store_call *y)
{
	assert_string_equal(x->callid, y->callid);
	assert_int_equal(x->created, y->created);
	assert_int_equal(x->recording, y->recording);
	assert_int_equal(x->n_parties, y->n_parties);
	for (unsigned i = 0; i < x->n_parties; i++) {
		const struct store_party *p = &x->parties[i], *q = &y->parties[i];

		assert_int_equal(p->n_tags, q->n_tags);
		for (unsigned t = 0; t < p->n_tags; t++)
			assert_string_equal(p->tags[t], q->tags[t]);
		assert_string_equal(p->peer_tag, q->peer_tag);
		assert_string_equal(p->label, q->label);
		assert_memory_equal(&p->opts, &q->opts, sizeof(p->opts));
		assert_int_equal(p->n_media, q->n_media);
		for (unsigned m = 0; m < p->n_media; m++)
			same_media(&p->media[m], &q->media[m]);
	}
	assert_int_equal(x->n_ng, y->n_ng);
	for (unsigned i = 0; i < x->n_ng; i++)
		assert_string_equal(x->ng[i], y->ng[i]);
}

static void test_round_trip(void **state)
{
	struct store_call c, back, again;
	const char *err = NULL;
	char *j, *j2;

	(void)state;
	fill(&c);
	j = store_call_to_json(&c, "relay-1");
	assert_non_null(j);
	assert_non_null(strstr(j, "\"instance\":\"relay-1\""));
	assert_int_equal(store_call_from_json(j, strlen(j), &back, &err), 0);
	same_call(&c, &back);
	/* and the text is a fixpoint */
	j2 = store_call_to_json(&back, "relay-1");
	assert_string_equal(j, j2);
	assert_int_equal(store_call_from_json(j2, strlen(j2), &again, &err), 0);
	same_call(&c, &again);
	store_call_free(&c);
	store_call_free(&back);
	store_call_free(&again);
	free(j);
	free(j2);
}

/* Every prefix of a good record is refused cleanly (the record is one JSON object). */
static void test_truncated(void **state)
{
	struct store_call c, back;
	const char *err;
	char *j;

	(void)state;
	fill(&c);
	j = store_call_to_json(&c, "x");
	for (size_t n = 0; n < strlen(j); n++) {
		err = NULL;
		assert_int_equal(store_call_from_json(j, n, &back, &err), -EINVAL);
		assert_non_null(err);
		assert_null(back.callid);
	}
	/* trailing bytes after the object are refused too */
	char *t = malloc(strlen(j) + 3);
	sprintf(t, "%s{}", j);
	assert_int_equal(store_call_from_json(t, strlen(t), &back, &err), -EINVAL);
	free(t);
	store_call_free(&c);
	free(j);
}

struct bad_case {
	const char *from, *to;          /* replace in a good record */
	const char *reason;
};

static const struct bad_case bad_cases[] = {
	/*  0 */ { "\"version\":1", "\"version\":2", "record of another version" },
	/*  1 */ { "\"version\":1", "\"version\":\"1\"", "missing or mistyped integer member" },
	/*  2 */ { "\"port\":30000", "\"port\":70000", "integer member out of range" },
	/*  3 */ { "\"port\":30000", "\"port\":0", "integer member out of range" },
	/*  4 */ { "\"index\":1", "\"index\":33", "integer member out of range" },
	/*  5 */ { "\"transport\":1", "\"transport\":9", "integer member out of range" },
	/*  6 */ { "\"block\":5", "\"block\":-1", "integer member out of range" },
	/*  7 */ { "\"192.0.2.1:5000\"", "\"192.0.2.1\"", "bad address" },
	/*  8 */ { "\"192.0.2.1:5000\"", "\"example.org:5\"", "bad address" },
	/*  9 */ { "inline:WVNf", "inline:!!!!", "bad sdes entry" },
	/* 10 */ { ",\"ice-pwd\":\"0123456789abcdefghijklmn\"", "", "ICE ufrag without pwd" },
	/* 11 */ { "\"ice-ufrag\":\"abcdEFGH\"", "\"ice-ufrag\":\"abcdEFGHIJ\"", "string member too long" },
	/* 12 */ { "\"call-id\":\"abc-123", "\"call-id\":\"", NULL },   /* not empty: ok */
	/* 13 */ { "\"tags\":[\"to-tag\"]", "\"tags\":[\"\"]", "bad tag" },
	/* 14 */ { "\"tags\":[\"to-tag\"]", "\"tags\":\"to-tag\"", "bad tags or media list" },
	/* 15 */ { "\"latched\":true", "\"latched\":1", "missing or mistyped boolean member" },
	/* 16 */ { "\"ng\":[", "\"ng\":[[],", "ng request is not an object" },
	/* 17 */ { "\"parties\":[", "\"parties\":[7,", "party is not an object" },
	/* 18 */ { "\"label\":\"caller\"", "\"label\":null", "missing or mistyped string member" },
	/* 19 */ { "\"rtp\":{", "\"rtp\":7,\"x\":{", "missing stream" },
	/* 20 */ { "\"peer-tag\":\"to-tag\",", "", "missing or mistyped string member" },
	/* 21 */ { "\"stats\":[5000000000,", "\"stats\":[-1,", "integer array member out of range" },
	/* 22 */ { "\"stats\":[5000000000,", "\"stats\":[", "bad integer array" },
	/* 23 */ { "\"stats\":[5000000000,860000000000,3]", "\"stats\":7", "bad integer array" },
	/* 24 */ { "[3735928559,", "[4294967296,", "bad srtp entry" },
	/* 25 */ { "281474976710655", "281474976710656", "bad srtp entry" },
	/* 26 */ { "2147483647]", "2147483648]", "bad srtp entry" },
	/* 27 */ { "\"rx\":[", "\"rx\":[[1,2],", "bad srtp entry" },
	/* 28 */ { "\"rx\":[", "\"rx\":[[1,2,3],[1,2,3],[1,2,3],", "bad srtp list" },
	/* 29 */ { "\"srtp\":{", "\"srtp\":7,\"x\":{", "bad srtp member" },
	/* 30 */ { ",\"stats\":[5000000000,860000000000,3]", "", NULL },  /* older record */
};

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	if (!at)
		fail_msg("not in the record: %s", from);
	out = malloc(strlen(s) + strlen(to) + 1);
	memcpy(out, s, (size_t)(at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

static void test_bad_records(void **state)
{
	struct store_call c, back;
	char *j;

	(void)state;
	fill(&c);
	j = store_call_to_json(&c, "x");
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		char *b = replace(j, bad_cases[i].from, bad_cases[i].to);
		const char *err = NULL;
		int e = store_call_from_json(b, strlen(b), &back, &err);

		if (!bad_cases[i].reason) {
			assert_int_equal(e, 0);
			store_call_free(&back);
		} else {
			if (e != -EINVAL || !err || strcmp(err, bad_cases[i].reason))
				fail_msg("case %zu: %d %s", i, e, err ? err : "(null)");
			assert_null(back.parties);
		}
		free(b);
	}
	store_call_free(&c);
	free(j);
}

static void test_not_records(void **state)
{
	static const char *const texts[] = {
		"", "null", "[]", "1", "\"x\"", "{}", "{\"version\":1}",
		"{\"version\":1,\"call-id\":\"\",\"created\":0,\"recording\":false,"
		"\"parties\":[],\"ng\":[]}",                             /* empty call-id */
		"{\"version\":1,\"call-id\":\"a\",\"created\":0,\"recording\":false,"
		"\"parties\":[],\"ng\":[{},{},{},{},{},{},{},{},{},{},{},{},{}]}", /* too many: 13 */
		"{\"version\":1,\"call-id\":\"a\\u0000b\",\"created\":0}",
		"{\"version\":1,\"version\":1",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]",
	};
	struct store_call back;
	const char *err;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		err = NULL;
		if (store_call_from_json(texts[i], strlen(texts[i]), &back, &err) != -EINVAL)
			fail_msg("text %zu accepted", i);
		assert_non_null(err);
	}
	/* the least record there is */
	const char *min = "{\"version\":1,\"call-id\":\"a\",\"created\":0,\"recording\":false,"
			  "\"parties\":[],\"ng\":[]}";
	assert_int_equal(store_call_from_json(min, strlen(min), &back, &err), 0);
	assert_string_equal(back.callid, "a");
	assert_int_equal(back.n_parties, 0);
	store_call_free(&back);
}

static void test_key(void **state)
{
	struct config cfg = { 0 };
	char *k;

	(void)state;
	strcpy(cfg.redis_instance, "edge-1");
	k = store_key(&cfg, "c@1");
	assert_string_equal(k, "sluice:call:edge-1:c@1");
	free(k);
}

/* Whether a record can live on this relay: its interfaces and ports (the standby's and
 * the restore's check), one case per reason. */
static void test_record_check(void **state)
{
	static const struct {
		const char *iface;
		uint16_t port;
		bool no_ng;
		const char *err;        /* NULL: accepted */
		uint32_t mask;
	} cases[] = {
		/* 0 */ { "pub", 30000, false, NULL, 0x2 },
		/* 1 */ { "default", 30998, false, NULL, 0x1 },
		/* 2 */ { "pub", 29998, false, "names a port outside the port range", 0 },
		/* 3 */ { "pub", 31000, false, "names a port outside the port range", 0 },
		/* 4 */ { "pub", 30001, false, "names a port outside the port range", 0 },
		/* 5 */ { "elsewhere", 30000, false, "names an interface this relay does not have", 0 },
		/* 6 */ { "pub", 30000, true, "no NG request to replay", 0 },
	};
	static struct config cfg = { .port_min = 30000, .port_max = 30999 };
	static struct daemon d = { .cfg = &cfg, .n_ifaces = 2 };

	(void)state;
	strcpy(d.ifaces[0].name, "default");
	strcpy(d.ifaces[1].name, "pub");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct store_call c;
		const char *err = NULL;
		uint32_t mask = 0;
		int e;

		fill(&c);
		for (unsigned p = 0; p < c.n_parties; p++)
			for (unsigned m = 0; m < c.parties[p].n_media; m++) {
				snprintf(c.parties[p].media[m].iface, CFG_NAME_MAX, "pub");
				c.parties[p].media[m].port = 30100;
			}
		snprintf(c.parties[0].media[1].iface, CFG_NAME_MAX, "%s", cases[i].iface);
		c.parties[0].media[1].port = cases[i].port;
		if (cases[i].no_ng)
			while (c.n_ng)
				free(c.ng[--c.n_ng]);
		e = store_record_check(&d, &c, &mask, &err);
		if (cases[i].err ? (e != -EINVAL || !err || strcmp(err, cases[i].err)) :
		    (e || mask != (cases[i].mask | 0x2)))
			fail_msg("case %zu: %d %s mask %#x", i, e, err ? err : "-", mask);
		store_call_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_not_records),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_record_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
