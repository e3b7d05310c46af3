/* NG request decoding: real Kamailio requests field by field, every form of flag,
 * structured keys, JSON and bencode alike, key order, and the error replies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "../../daemon/ng_request.h"
#include "ng_samples.h"         /* kam_offer, kam_offer_flags (+ their JSON) */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1

/* More requests from /work/shared/ng-samples-kamailio.txt, copied the same way. */
/* t=+1.123s REQUEST proxy->relay answer (cookie 0_4477_1): wire payload minus cookie */
static const char kam_answer[] =
	"d8:supportsl10:load limite3:sdp331:v=0\r\n"
	"o=- 1765827728 1461962543 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"a=tool:baresip 1.0.0\r\n"
	"m=audio 21088 RTP/AVP 0 8 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n"
	"a=sendrecv\r\n"
	"a=label:1\r\n"
	"a=ssrc:2796881163 cname:sip:callee@127.0.0.1:5060\r\n"
	"a=minptime:20\r\n"
	"a=ptime:20\r\n"
	"7:call-id16:1ebe78fed6ee52a213:received-froml3:IP49:127.0.0.1e8:from-tag16:9"
	"15c2355d079c71f6:to-tag16:6a81a5fafc4fab697:command6:answere";

/* t=+6.125s REQUEST proxy->relay delete (cookie 0_4477_2): wire payload minus cookie */
static const char kam_delete[] =
	"d8:supportsl10:load limite7:call-id16:1ebe78fed6ee52a213:received-froml3:IP4"
	"9:127.0.0.1e8:from-tag16:915c2355d079c71f7:command6:deletee";

/* t=+1.138s REQUEST proxy->relay answer_flags (cookie 0_4624_1): wire payload minus cookie */
static const char kam_answer_flags[] =
	"d8:supportsl10:load limite3:sdp331:v=0\r\n"
	"o=- 1861866458 1854663021 IN IP4 127.0.0.1\r\n"
	"s=-\r\n"
	"c=IN IP4 127.0.0.1\r\n"
	"t=0 0\r\n"
	"a=tool:baresip 1.0.0\r\n"
	"m=audio 21030 RTP/AVP 0 8 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n"
	"a=sendrecv\r\n"
	"a=label:1\r\n"
	"a=ssrc:1691561640 cname:sip:callee@127.0.0.1:5060\r\n"
	"a=minptime:20\r\n"
	"a=ptime:20\r\n"
	"3:ICE6:remove5:flagsl13:trust-addresse7:replacel6:origin18:session-connectio"
	"ne18:transport-protocol7:RTP/AVP7:call-id16:51c08889a369c62813:received-from"
	"l3:IP49:127.0.0.1e8:from-tag16:2a63a8247e8906c96:to-tag16:435128678fb45c477:"
	"command6:answere";
/* A JSON-independent rendering of every field except the identifiers, the SDP and the
 * command, in a fixed order; fields at their default are left out. */
static void describe(const struct ng_request *r, struct strbuf *sb)
{
	static const struct { const char *n; size_t off; } bools[] = {
		{ "trust-address", offsetof(struct ng_request, trust_address) },
		{ "SIP-source-address", offsetof(struct ng_request, sip_source) },
		{ "symmetric", offsetof(struct ng_request, symmetric) },
		{ "asymmetric", offsetof(struct ng_request, asymmetric) },
		{ "strict-source", offsetof(struct ng_request, strict_source) },
		{ "port-latching", offsetof(struct ng_request, port_latching) },
		{ "no-rtcp-attribute", offsetof(struct ng_request, no_rtcp_attr) },
		{ "full-rtcp-attribute", offsetof(struct ng_request, full_rtcp_attr) },
		{ "loop-protect", offsetof(struct ng_request, loop_protect) },
		{ "replace-origin", offsetof(struct ng_request, replace_origin) },
		{ "replace-session-connection", offsetof(struct ng_request, replace_session_conn) },
		{ "replace-session-name", offsetof(struct ng_request, replace_session_name) },
		{ "fragment", offsetof(struct ng_request, fragment) },
		{ "replace-sdp-version", offsetof(struct ng_request, replace_sdp_version) },
		{ "replace-username", offsetof(struct ng_request, replace_username) },
		{ "replace-zero-address", offsetof(struct ng_request, replace_zero_address) },
		{ "strip-extmap", offsetof(struct ng_request, strip_extmap) },
		{ "original-sendrecv", offsetof(struct ng_request, original_sendrecv) },
		{ "single-codec", offsetof(struct ng_request, single_codec) },
	};
	static const char *mux[] = { "offer", "require", "demux", "accept", "reject" };
	char ip[NETADDR_STRLEN];

	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (*(const bool *)((const char *)r + bools[i].off))
			sb_printf(sb, "%s ", bools[i].n);
	if (r->ice)
		sb_printf(sb, "ice=%s ", r->ice == NG_ICE_REMOVE ? "remove" :
			  r->ice == NG_ICE_FORCE ? "force" :
			  r->ice == NG_ICE_OPTIONAL ? "optional" :
			  r->ice == NG_ICE_FORCE_RELAY ? "force-relay" : "?");
	if (r->ice_lite)
		sb_printf(sb, "ice-lite=%s ", r->ice_lite == NG_ICE_LITE_OFF ? "off" :
			  r->ice_lite == NG_ICE_LITE_FWD ? "forward" :
			  r->ice_lite == NG_ICE_LITE_BKW ? "backward" :
			  r->ice_lite == NG_ICE_LITE_BOTH ? "both" : "?");
	if (r->codec.always_transcode)
		sb_puts(sb, "transcode ");
	for (unsigned i = 0; i < ng_unsupported_count(); i++)
		if (r->unsupported[i / 64] & (1ull << (i % 64)))
			sb_printf(sb, "unsupported=%s ", ng_unsupported_name(i));
	for (unsigned i = 0; i < ARRAY_SIZE(mux); i++)
		if (r->rtcp_mux & (1u << i))
			sb_printf(sb, "mux=%s ", mux[i]);
	if (r->rtcp_mux >> ARRAY_SIZE(mux))
		sb_puts(sb, "mux=? ");
	if (r->transport_protocol.s)
		sb_printf(sb, "tp=%.*s ", (int)r->transport_protocol.len, r->transport_protocol.s);
	if (r->media_address.s)
		sb_printf(sb, "media-address=%.*s ", (int)r->media_address.len, r->media_address.s);
	if (r->address_family.s)
		sb_printf(sb, "af=%.*s ", (int)r->address_family.len, r->address_family.s);
	for (unsigned i = 0; i < r->n_direction; i++)
		sb_printf(sb, "dir=%.*s ", (int)r->direction[i].len, r->direction[i].s);
	if (r->label.s)
		sb_printf(sb, "label=%.*s ", (int)r->label.len, r->label.s);
	if (r->via_branch.s)
		sb_printf(sb, "via-branch=%.*s ", (int)r->via_branch.len, r->via_branch.s);
	if (r->has_received_from)
		sb_printf(sb, "from=%s%s ", r->received_from.sa.sa_family == AF_INET6 ? "6:" : "4:",
			  netaddr_ntop(&r->received_from, ip, sizeof(ip)));
	if (r->delete_delay != -1)
		sb_printf(sb, "delete-delay=%lld ", r->delete_delay);
	if (r->unknown_flags)
		sb_printf(sb, "unknown=%u ", r->unknown_flags);
	if (sb->len)
		sb->buf[--sb->len] = '\0';      /* trailing space */
}

static void expect_str(const struct ng_str *got, const char *want, const char *what)
{
	if (!want) {
		if (got->s)
			fail_msg("%s: got '%.*s', want none", what, (int)got->len, got->s);
		return;
	}
	if (!got->s || got->len != strlen(want) || memcmp(got->s, want, got->len))
		fail_msg("%s: got '%.*s', want '%s'", what, got->s ? (int)got->len : 6,
			 got->s ? got->s : "(null)", want);
}

/* Decode a body of either encoding (JSON when it starts with '{'). */
static struct bval *parse(struct arena *a, const char *body, size_t len)
{
	struct bval *v = NULL;
	int ret = body[0] == '{' ? bv_from_json(a, body, len, &v) : bv_decode(a, body, len, &v, NULL);

	if (ret)
		fail_msg("test input does not decode (%d): %.*s", ret, (int)len, body);
	return v;
}

/* ---- real Kamailio requests ---- */

struct sample_vec {
	const char *name, *wire;
	size_t len;
	enum ng_cmd cmd;
	const char *command, *call_id, *from_tag, *to_tag;
	size_t sdp_len;                 /* 0: no sdp */
	const char *desc;
};

static const struct sample_vec samples[] = {
	{ "offer", S(kam_offer), NG_OFFER, "offer", "1ebe78fed6ee52a2", "915c2355d079c71f",
	  NULL, 344, "from=4:127.0.0.1" },
	{ "answer", S(kam_answer), NG_ANSWER, "answer", "1ebe78fed6ee52a2", "915c2355d079c71f",
	  "6a81a5fafc4fab69", 331, "from=4:127.0.0.1" },
	{ "delete", S(kam_delete), NG_DELETE, "delete", "1ebe78fed6ee52a2", "915c2355d079c71f",
	  NULL, 0, "from=4:127.0.0.1" },
	{ "offer, flags scenario", S(kam_offer_flags), NG_OFFER, "offer", "51c08889a369c628",
	  "2a63a8247e8906c9", NULL, 342,
	  "trust-address replace-origin replace-session-connection ice=remove tp=RTP/AVP "
	  "from=4:127.0.0.1" },
	{ "answer, flags scenario", S(kam_answer_flags), NG_ANSWER, "answer",
	  "51c08889a369c628", "2a63a8247e8906c9", "435128678fb45c47", 331,
	  "trust-address replace-origin replace-session-connection ice=remove tp=RTP/AVP "
	  "from=4:127.0.0.1" },
	/* the capture's JSON rendering of two of them decodes to the same request */
	{ "offer as JSON", S(kam_offer_json), NG_OFFER, "offer", "1ebe78fed6ee52a2",
	  "915c2355d079c71f", NULL, 344, "from=4:127.0.0.1" },
	{ "offer, flags scenario, as JSON", S(kam_offer_flags_json), NG_OFFER, "offer",
	  "51c08889a369c628", "2a63a8247e8906c9", NULL, 342,
	  "trust-address replace-origin replace-session-connection ice=remove tp=RTP/AVP "
	  "from=4:127.0.0.1" },
};

static void test_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
		const struct sample_vec *v = &samples[i];
		struct arena a;
		struct strbuf sb;
		struct ng_request r;
		const char *err = NULL;
		struct bval *d;
		int ret;

		arena_init(&a, 0);
		sb_init(&sb);
		d = parse(&a, v->wire, v->len);
		ret = ng_request_decode(d, &r, &err);
		if (ret)
			fail_msg("sample %s: %d (%s)", v->name, ret, err ? err : "");
		assert_int_equal(r.cmd, v->cmd);
		assert_string_equal(ng_cmd_name(r.cmd), v->command);
		expect_str(&r.command, v->command, "command");
		expect_str(&r.call_id, v->call_id, "call-id");
		expect_str(&r.from_tag, v->from_tag, "from-tag");
		expect_str(&r.to_tag, v->to_tag, "to-tag");
		if (v->sdp_len) {
			assert_non_null(r.sdp.s);
			assert_int_equal(r.sdp.len, v->sdp_len);
			assert_memory_equal(r.sdp.s, "v=0\r\no=- ", 9);
			assert_memory_equal(r.sdp.s + r.sdp.len - 12, "a=ptime:20\r\n", 12);
		} else {
			assert_null(r.sdp.s);
		}
		assert_true(r.has_received_from);
		assert_int_equal(r.received_from.sa.sa_family, AF_INET);
		assert_int_equal(ntohl(r.received_from.sin.sin_addr.s_addr), INADDR_LOOPBACK);
		assert_int_equal(r.delete_delay, -1);
		describe(&r, &sb);
		if (strcmp(sb.len ? sb.buf : "", v->desc))
			fail_msg("sample %s:\n  got  '%s'\n  want '%s'", v->name,
				 sb.len ? sb.buf : "", v->desc);
		/* bencode strings are not copied: they point into the datagram */
		if (v->wire[0] == 'd') {
			assert_true(r.call_id.s > v->wire && r.call_id.s < v->wire + v->len);
			if (r.sdp.s)
				assert_true(r.sdp.s > v->wire &&
					    r.sdp.s + r.sdp.len < v->wire + v->len);
		}
		sb_free(&sb);
		arena_reset(&a);
	}
}

/* ---- the "flags" list ---- */

struct flags_vec {
	const char *flags[8];           /* NULL-terminated */
	const char *desc;
};

static const struct flags_vec flags_vecs[] = {
	/*  0 */ { { NULL }, "" },
	/*  1 */ { { "trust-address" }, "trust-address" },
	/*  2 */ { { "ICE=remove" }, "ice=remove" },
	/*  3 */ { { "ICE=force" }, "ice=force" },
	/*  4 */ { { "replace-origin" }, "replace-origin" },
	/*  5 */ { { "replace-session-connection" }, "replace-session-connection" },
	/*  6 */ { { "replace-session-name" }, "replace-session-name" },
	/*  7 */ { { "replace=origin", "replace=session-connection" },
		   "replace-origin replace-session-connection" },
	/*  8 */ { { "rtcp-mux-demux" }, "mux=demux" },
	/*  9 */ { { "rtcp-mux-offer", "rtcp-mux-require" }, "mux=offer mux=require" },
	/* 10 */ { { "rtcp-mux=accept", "rtcp-mux=reject" }, "mux=accept mux=reject" },
	/* 11 */ { { "RTP/AVP" }, "tp=RTP/AVP" },
	/* 12 */ { { "RTP/SAVPF" }, "tp=RTP/SAVPF" },
	/* 13 */ { { "UDP/TLS/RTP/SAVPF" }, "tp=UDP/TLS/RTP/SAVPF" },
	/* 14 */ { { "transport-protocol=RTP/AVPF" }, "tp=RTP/AVPF" },
	/* 15 */ { { "direction=internal" }, "dir=internal" },
	/* 16 */ { { "direction=internal", "direction=external" }, "dir=internal dir=external" },
	/* 17 */ { { "address-family=IP6" }, "af=IP6" },
	/* 18 */ { { "media-address=192.0.2.1" }, "media-address=192.0.2.1" },
	/* 19 */ { { "SIP-source-address", "symmetric", "strict-source", "port-latching" },
		   "SIP-source-address symmetric strict-source port-latching" },
	/* 20 */ { { "asymmetric", "no-rtcp-attribute", "loop-protect" },
		   "asymmetric no-rtcp-attribute loop-protect" },
	/* 21 */ { { "full-rtcp-attribute" }, "full-rtcp-attribute" },
	/* 22 */ { { "frobnicate" }, "unknown=1" },
	/* issue 13 part 4: flags with an effect, accepted no-ops, documented-unsupported */
	{ { "replace-sdp-version", "replace=username", "replace-zero-address" },
	  "replace-sdp-version replace-username replace-zero-address" },
	{ { "strip-extmap", "original-sendrecv", "single-codec" },
	  "strip-extmap original-sendrecv single-codec" },
	{ { "ICE=optional", "ICE-lite=both" }, "ice=optional ice-lite=both" },
	{ { "ICE-lite=off" }, "ice-lite=off" },
	{ { "ICE-lite=offer" }, "ice-lite=forward" },
	{ { "ICE-lite=reverse" }, "ice-lite=backward" },
	{ { "ICE-lite=frob" }, "" },
	{ { "generate-RTCP" }, "transcode" },
	{ { "generate-RTCP=off" }, "" },
	{ { "reorder-codecs", "asymmetric-codecs", "symmetric codecs", "allow-transcoding" }, "" },
	{ { "NAT-wait", "pierce NAT", "ICE=force-relay", "T.38-decode" },
	  "ice=force-relay unsupported=NAT-wait unsupported=pierce-NAT unsupported=T.38" },
	{ { "OSRTP-offer-legacy", "SDES-static", "transport-protocol=accept" },
	  "unsupported=SDES-static unsupported=OSRTP=offer-legacy "
	  "unsupported=transport-protocol=accept" },
	{ { "replace-bogus" }, "unknown=1" },
	/* 23: codec-* flags are taken by ng_codec_flags.c */
	/* 23 */ { { "frobnicate", "colour=blue", "codec-mask-PCMA", "trust-address" },
		   "trust-address unknown=2" },
	/* 24 */ { { "trust-address", "ICE=remove", "replace-origin", "rtcp-mux-demux",
		     "RTP/AVP", "direction=internal" },
		   "trust-address replace-origin ice=remove mux=demux tp=RTP/AVP dir=internal" },
	/* 25 */ { { "trust-address", "trust-address" }, "trust-address" },
	/* 26 */ { { "" }, "unknown=1" },
	/* 27 */ { { "fragment", "trust-address" }, "trust-address fragment" },
};

/* {command: offer, call-id, from-tag, sdp, flags: [...]} built with the bencode API,
 * then the same through an encode/decode round trip, as it would arrive. */
static void test_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(flags_vecs); i++) {
		const struct flags_vec *v = &flags_vecs[i];
		struct arena a;
		struct strbuf sb, wire;
		struct ng_request r;
		struct bval *d, *l, *d2;
		const char *err = NULL;

		arena_init(&a, 0);
		sb_init(&sb);
		sb_init(&wire);
		d = bv_new_dict(&a);
		bv_dict_add_str(&a, d, "command", "offer");
		bv_dict_add_str(&a, d, "call-id", "cid");
		bv_dict_add_str(&a, d, "from-tag", "ft");
		bv_dict_add_str(&a, d, "sdp", "v=0\r\n");
		l = bv_dict_add(&a, d, "flags", bv_new_list(&a));
		assert_non_null(l);
		for (unsigned k = 0; v->flags[k]; k++)
			bv_list_add(l, bv_new_strz(&a, v->flags[k]));
		assert_int_equal(bv_encode(d, &wire), 0);
		assert_int_equal(bv_decode(&a, wire.buf, wire.len, &d2, NULL), 0);

		for (int pass = 0; pass < 2; pass++) {
			int ret = ng_request_decode(pass ? d2 : d, &r, &err);
			if (ret)
				fail_msg("flags[%zu]: %d (%s)", i, ret, err);
			assert_int_equal(r.cmd, NG_OFFER);
			expect_str(&r.call_id, "cid", "call-id");
			sb_reset(&sb);
			describe(&r, &sb);
			if (strcmp(sb.len ? sb.buf : "", v->desc))
				fail_msg("flags[%zu]:\n  got  '%s'\n  want '%s'", i,
					 sb.len ? sb.buf : "", v->desc);
		}
		sb_free(&sb);
		sb_free(&wire);
		arena_reset(&a);
	}
}

/* ---- structured keys, other commands, valid edge cases (JSON for readability) ---- */

#define OFFER "\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":\"f\",\"sdp\":\"v=0\""

struct valid_vec {
	const char *json;
	enum ng_cmd cmd;
	const char *desc;
};

static const struct valid_vec valid_vecs[] = {
	/*  0 */ { "{" OFFER "}", NG_OFFER, "" },
	/*  1 */ { "{" OFFER ",\"ICE\":\"remove\"}", NG_OFFER, "ice=remove" },
	/*  2 */ { "{" OFFER ",\"ICE\":\"force\"}", NG_OFFER, "ice=force" },
	/*  3 */ { "{" OFFER ",\"replace\":[\"origin\",\"session-connection\"]}", NG_OFFER,
		   "replace-origin replace-session-connection" },
	/*  4 */ { "{" OFFER ",\"replace\":[\"session-name\"]}", NG_OFFER,
		   "replace-session-name" },
	/*  5 */ { "{" OFFER ",\"replace\":\"origin\"}", NG_OFFER, "replace-origin" },
	/*  6 */ { "{" OFFER ",\"rtcp-mux\":[\"demux\",\"accept\"]}", NG_OFFER,
		   "mux=demux mux=accept" },
	/*  7 */ { "{" OFFER ",\"transport-protocol\":\"RTP/SAVP\"}", NG_OFFER, "tp=RTP/SAVP" },
	/*  8 */ { "{" OFFER ",\"direction\":[\"external\",\"internal\"]}", NG_OFFER,
		   "dir=external dir=internal" },
	/*  9 */ { "{" OFFER ",\"media-address\":\"192.0.2.9\",\"address-family\":\"IP4\"}",
		   NG_OFFER, "media-address=192.0.2.9 af=IP4" },
	/* 10 */ { "{" OFFER ",\"label\":\"caller\",\"via-branch\":\"z9hG4bK1\"}", NG_OFFER,
		   "label=caller via-branch=z9hG4bK1" },
	/* 11 */ { "{" OFFER ",\"received-from\":[\"IP6\",\"2001:db8::7\"]}", NG_OFFER,
		   "from=6:2001:db8::7" },
	/* 12 */ { "{" OFFER ",\"received-from\":[\"IP4\",\"192.0.2.33\"]}", NG_OFFER,
		   "from=4:192.0.2.33" },
	/* 13 */ { "{" OFFER ",\"flags\":[\"trust-address\"],\"ICE\":\"remove\","
		   "\"replace\":[\"origin\"],\"transport-protocol\":\"RTP/AVP\"}", NG_OFFER,
		   "trust-address replace-origin ice=remove tp=RTP/AVP" },
	/* 14 */ { "{" OFFER ",\"supports\":[\"load limit\"],\"unheard-of\":{\"x\":1}}",
		   NG_OFFER, "" },
	/* 15 */ { "{" OFFER ",\"flags\":[]}", NG_OFFER, "" },
	/* key order does not matter */
	/* 16 */ { "{\"sdp\":\"v=0\",\"ICE\":\"remove\",\"from-tag\":\"f\",\"call-id\":\"c\","
		   "\"command\":\"offer\"}", NG_OFFER, "ice=remove" },
	/* delete-delay as integer or as a decimal string */
	/* 17 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":\"5\"}",
		   NG_DELETE, "delete-delay=5" },
	/* 18 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":5}",
		   NG_DELETE, "delete-delay=5" },
	/* 19 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":\"0\"}",
		   NG_DELETE, "delete-delay=0" },
	/* 20 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":0}",
		   NG_DELETE, "delete-delay=0" },
	/* 21 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":2147483647}",
		   NG_DELETE, "delete-delay=2147483647" },
	/* other commands and what they need */
	/* 22 */ { "{\"command\":\"ping\"}", NG_PING, "" },
	/* 23 */ { "{\"command\":\"list\"}", NG_LIST, "" },
	/* 24 */ { "{\"command\":\"statistics\"}", NG_STATISTICS, "" },
	/* 25 */ { "{\"command\":\"query\",\"call-id\":\"c\"}", NG_QUERY, "" },
	/* 26 */ { "{\"command\":\"delete\",\"call-id\":\"c\"}", NG_DELETE, "" },
	/* 27 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"from-tag\":\"f\","
		   "\"to-tag\":\"t\"}", NG_DELETE, "" },
	/* 28 */ { "{\"command\":\"answer\",\"call-id\":\"c\",\"from-tag\":\"f\","
		   "\"to-tag\":\"t\",\"sdp\":\"v=0\"}", NG_ANSWER, "" },
};

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(valid_vecs); i++) {
		const struct valid_vec *v = &valid_vecs[i];
		struct arena a;
		struct strbuf sb;
		struct ng_request r;
		const char *err = NULL;
		struct bval *d;
		int ret;

		arena_init(&a, 0);
		sb_init(&sb);
		d = parse(&a, v->json, strlen(v->json));
		ret = ng_request_decode(d, &r, &err);
		if (ret)
			fail_msg("valid[%zu]: %d (%s)", i, ret, err ? err : "");
		if (r.cmd != v->cmd)
			fail_msg("valid[%zu]: cmd %d want %d", i, r.cmd, v->cmd);
		describe(&r, &sb);
		if (strcmp(sb.len ? sb.buf : "", v->desc))
			fail_msg("valid[%zu]:\n  got  '%s'\n  want '%s'", i, sb.len ? sb.buf : "",
				 v->desc);
		sb_free(&sb);
		arena_reset(&a);
	}
}

/* ---- errors ---- */

struct error_vec {
	const char *body;               /* JSON, or bencode when not starting with '{' */
	const char *why;                /* substring the reason must contain (any case) */
};

static const struct error_vec error_vecs[] = {
	/* not a dictionary */
	/*  0 */ { "l4:pinge", "dictionary" },
	/*  1 */ { "4:ping", "dictionary" },
	/*  2 */ { "i1e", "dictionary" },
	/* command */
	/*  3 */ { "{\"call-id\":\"c\"}", "command" },
	/*  4 */ { "{}", "command" },
	/*  5 */ { "{\"command\":1}", "command" },
	/*  6 */ { "{\"command\":[\"offer\"]}", "command" },
	/*  7 */ { "{\"command\":\"frobnicate\"}", "command" },
	/*  8 */ { "{\"command\":\"\"}", "command" },
	/*  9 */ { "{\"command\":\"offerx\"}", "command" },
	/* what offer / answer / delete need */
	/* 10 */ { "{\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":\"f\"}", "sdp" },
	/* 11 */ { "{\"command\":\"offer\",\"from-tag\":\"f\",\"sdp\":\"v=0\"}", "call-id" },
	/* 12 */ { "{\"command\":\"offer\",\"call-id\":\"\",\"from-tag\":\"f\",\"sdp\":\"v=0\"}",
		   "call-id" },
	/* 13 */ { "{\"command\":\"offer\",\"call-id\":\"c\",\"sdp\":\"v=0\"}", "from-tag" },
	/* 14 */ { "{\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":\"\",\"sdp\":\"v=0\"}",
		   "from-tag" },
	/* 15 */ { "{\"command\":\"answer\",\"call-id\":\"c\",\"from-tag\":\"f\","
		   "\"sdp\":\"v=0\"}", "to-tag" },
	/* 16 */ { "{\"command\":\"answer\",\"call-id\":\"c\",\"from-tag\":\"f\","
		   "\"to-tag\":\"\",\"sdp\":\"v=0\"}", "to-tag" },
	/* 17 */ { "{\"command\":\"answer\",\"call-id\":\"c\",\"from-tag\":\"f\","
		   "\"to-tag\":\"t\"}", "sdp" },
	/* 18 */ { "{\"command\":\"delete\",\"from-tag\":\"f\"}", "call-id" },
	/* 19 */ { "{\"command\":\"query\"}", "call-id" },
	/* wrong types */
	/* 20 */ { "{" OFFER ",\"flags\":\"trust-address\"}", "flags" },
	/* 21 */ { "{" OFFER ",\"flags\":{\"trust-address\":1}}", "flags" },
	/* 22 */ { "{" OFFER ",\"flags\":[\"trust-address\",1]}", "flags" },
	/* 23 */ { "{" OFFER ",\"flags\":[[\"trust-address\"]]}", "flags" },
	/* 24 */ { "{" OFFER ",\"flags\":7}", "flags" },
	/* 25 */ { "{\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":\"f\",\"sdp\":5}",
		   "sdp" },
	/* 26 */ { "{\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":\"f\","
		   "\"sdp\":[\"v=0\"]}", "sdp" },
	/* 27 */ { "{\"command\":\"offer\",\"call-id\":[\"c\"],\"from-tag\":\"f\","
		   "\"sdp\":\"v=0\"}", "call-id" },
	/* 28 */ { "{\"command\":\"offer\",\"call-id\":\"c\",\"from-tag\":{},"
		   "\"sdp\":\"v=0\"}", "from-tag" },
	/* 29 */ { "{" OFFER ",\"replace\":[\"origin\",2]}", "replace" },
	/* 30 */ { "{" OFFER ",\"rtcp-mux\":{\"demux\":1}}", "rtcp-mux" },
	/* 31 */ { "{" OFFER ",\"direction\":3}", "direction" },
	/* 32 */ { "{" OFFER ",\"ICE\":[\"remove\"]}", "ICE" },
	/* 33 */ { "{" OFFER ",\"transport-protocol\":1}", "transport-protocol" },
	/* received-from */
	/* 34 */ { "{" OFFER ",\"received-from\":\"127.0.0.1\"}", "received-from" },
	/* 35 */ { "{" OFFER ",\"received-from\":[\"IP4\"]}", "received-from" },
	/* 36 */ { "{" OFFER ",\"received-from\":[\"IP4\",\"not-an-address\"]}",
		   "received-from" },
	/* 37 */ { "{" OFFER ",\"received-from\":[\"IP4\",\"\"]}", "received-from" },
	/* 38 */ { "{" OFFER ",\"received-from\":[\"IP4\",\"127.0.0.1\",\"5060\"]}",
		   "received-from" },
	/* 39 */ { "{" OFFER ",\"received-from\":[\"IP4\",2130706433]}", "received-from" },
	/* 40 */ { "{" OFFER ",\"received-from\":[4,\"127.0.0.1\"]}", "received-from" },
	/* 41 */ { "{" OFFER ",\"received-from\":[\"IP4\",\"127.0.0.1:5060\"]}",
		   "received-from" },
	/* 42 */ { "{" OFFER ",\"received-from\":{\"IP4\":\"127.0.0.1\"}}", "received-from" },
	/* delete-delay */
	/* 43 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":\"x\"}",
		   "delete-delay" },
	/* 44 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":\"\"}",
		   "delete-delay" },
	/* 45 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":\"5x\"}",
		   "delete-delay" },
	/* 46 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":-5}",
		   "delete-delay" },
	/* 47 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":[5]}",
		   "delete-delay" },
	/* 48 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":"
		   "\"123456789012345678901234567890\"}", "delete-delay" },
	/* large enough to overflow when turned into microseconds */
	/* 49 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":"
		   "9223372036854775807}", "delete-delay" },
	/* 50 */ { "{\"command\":\"delete\",\"call-id\":\"c\",\"delete-delay\":"
		   "\"99999999999999999999\"}", "delete-delay" },
	/* 51 */ { "d7:command6:delete7:call-id1:c12:delete-delayi2147483648ee", "delete-delay" },
};

static bool contains_icase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

static void test_errors(void **state)
{
	struct ng_request r;
	const char *err = NULL;

	(void)state;
	assert_int_equal(ng_request_decode(NULL, &r, &err), -EINVAL);
	assert_non_null(err);
	assert_true(contains_icase(err, "dictionary"));

	for (size_t i = 0; i < ARRAY_SIZE(error_vecs); i++) {
		const struct error_vec *v = &error_vecs[i];
		struct arena a;
		struct bval *d;
		int ret;

		arena_init(&a, 0);
		d = parse(&a, v->body, strlen(v->body));
		err = NULL;
		ret = ng_request_decode(d, &r, &err);
		if (ret != -EINVAL)
			fail_msg("error[%zu] %s: got %d want -EINVAL", i, v->body, ret);
		if (!err || !*err)
			fail_msg("error[%zu] %s: no reason", i, v->body);
		if (!contains_icase(err, v->why))
			fail_msg("error[%zu] %s: reason '%s' does not mention '%s'", i, v->body,
				 err, v->why);
		arena_reset(&a);
	}
}

/* The real answer with one of the keys it needs taken out: an error naming that key. */
static void test_real_without_each_key(void **state)
{
	static const struct { const char *key; const char *why; } need[] = {
		{ "command", "command" }, { "call-id", "call-id" }, { "from-tag", "from-tag" },
		{ "sdp", "sdp" }, { "to-tag", "to-tag" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		struct arena a;
		struct bval *d, *prev = NULL;
		struct ng_request r;
		const char *err = NULL;

		arena_init(&a, 0);
		d = parse(&a, S(kam_answer));
		/* unlink the member */
		for (struct bval *c = d->c.first; c; prev = c, c = c->next) {
			if (c->key_len != strlen(need[i].key) ||
			    memcmp(c->key, need[i].key, c->key_len))
				continue;
			if (prev)
				prev->next = c->next;
			else
				d->c.first = c->next;
			if (d->c.last == c)
				d->c.last = prev;
			d->c.n--;
			break;
		}
		assert_null(bv_dict_get(d, need[i].key));
		assert_int_equal(ng_request_decode(d, &r, &err), -EINVAL);
		assert_non_null(err);
		if (!contains_icase(err, need[i].why))
			fail_msg("answer without %s: reason '%s'", need[i].key, err);
		arena_reset(&a);
	}
}

/* play DTMF: digit or code, rtpengine's defaults and bounds, and what it needs. */
static void test_play_dtmf(void **state)
{
#define PD "{\"command\":\"play DTMF\",\"call-id\":\"c\",\"from-tag\":\"f\""
	static const struct {
		const char *json;
		int ret;
		unsigned event, duration, volume, pause;
	} v[] = {
		/*  0 */ { PD ",\"digit\":\"5\"}", 0, 5, 250, 8, 100 },
		/*  1 */ { PD ",\"code\":11,\"duration\":200,\"volume\":-10}", 0, 11, 200, 10, 100 },
		/*  2 */ { PD ",\"digit\":\"#\",\"pause\":\"300\"}", 0, 11, 250, 8, 300 },
		/*  3 */ { PD ",\"code\":\"15\",\"duration\":50,\"volume\":99}", 0, 15, 100, 63, 100 },
		/*  4 */ { PD ",\"digit\":\"a\",\"duration\":9000,\"volume\":3}", 0, 12, 5000, 3, 100 },
		/*  5 */ { PD ",\"digit\":\"*\"}", 0, 10, 250, 8, 100 },
		/*  6 */ { PD "}", -EINVAL, 0, 0, 0, 0 },
		/*  7 */ { PD ",\"digit\":\"X\"}", -EINVAL, 0, 0, 0, 0 },
		/*  8 */ { PD ",\"code\":16}", -EINVAL, 0, 0, 0, 0 },
		/*  9 */ { PD ",\"code\":-1}", -EINVAL, 0, 0, 0, 0 },
		/* 10 */ { PD ",\"digit\":\"12x\"}", -EINVAL, 0, 0, 0, 0 },
		/* 11 */ { PD ",\"digit\":\"1\",\"duration\":\"x\"}", -EINVAL, 0, 0, 0, 0 },
		/* 12 */ { "{\"command\":\"play DTMF\",\"call-id\":\"c\",\"digit\":\"1\"}",
			   -EINVAL, 0, 0, 0, 0 },
		/* 13 */ { "{\"command\":\"play DTMF\",\"call-id\":\"c\",\"label\":\"l\","
			   "\"digit\":\"1\"}", 0, 1, 250, 8, 100 },
		/* 14 */ { "{\"command\":\"play DTMF\",\"from-tag\":\"f\",\"digit\":\"1\"}",
			   -EINVAL, 0, 0, 0, 0 },
		/* 15 */ { PD ",\"digit\":\"0\",\"volume\":-9223372036854775808}",
			   0, 0, 250, 63, 100 },
	};
#undef PD

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct arena a;
		struct ng_request r;
		const char *err = NULL;
		int ret;

		arena_init(&a, 0);
		ret = ng_request_decode(parse(&a, v[i].json, strlen(v[i].json)), &r, &err);
		if (ret != v[i].ret)
			fail_msg("play DTMF [%zu]: %d (%s)", i, ret, err ? err : "");
		if (!ret && (r.cmd != NG_PLAY_DTMF || r.dtmf.event != v[i].event ||
			     r.dtmf.duration != v[i].duration || r.dtmf.volume != v[i].volume ||
			     r.dtmf.pause != v[i].pause))
			fail_msg("play DTMF [%zu]: event %u duration %u volume %u pause %u", i,
				 r.dtmf.event, r.dtmf.duration, r.dtmf.volume, r.dtmf.pause);
		if (ret && (!err || !*err))
			fail_msg("play DTMF [%zu]: no reason", i);
		arena_reset(&a);
	}
	assert_string_equal(ng_cmd_name(NG_PLAY_DTMF), "play DTMF");
}

/* delay-buffer, DTMF-delay, DTMF-security, volume, frequencies, digit: as keys (int or
 * string), as KEY=VALUE flags, lists; bad values ignored; only in block/offer/answer. */
static void test_dtmf_security_keys(void **state)
{
#define BD "{\"command\":\"block DTMF\",\"call-id\":\"c\",\"from-tag\":\"f\""
	static const struct {
		const char *json;
		int delay, ddelay, mode, volume, digit;
		unsigned n_freqs, f0, f1;
	} v[] = {
		/* 0 */ { BD "}", -1, -1, -1, -1, -1, 0, 0, 0 },
		/* 1 */ { BD ",\"delay-buffer\":200,\"DTMF-security\":\"tone\",\"volume\":-20,"
			  "\"frequencies\":[700,\"1300\"]}", 200, -1, 2, 20, -1, 2, 700, 1300 },
		/* 2 */ { BD ",\"delay buffer\":\"50\",\"DTMF-delay\":99999,\"frequency\":"
			  "\"400,500\",\"DTMF-security\":\"DTMF\",\"digit\":\"#\"}",
			  50, 30000, 5, -1, 11, 2, 400, 500 },
		/* 3 */ { BD ",\"flags\":[\"DTMF-security=off\",\"delay-buffer=10\","
			  "\"volume=7\",\"code=3\"]}", 10, -1, -2, 7, 3, 0, 0, 0 },
		/* 4 */ { BD ",\"DTMF-security\":\"loud\",\"delay-buffer\":-5,\"volume\":64,"
			  "\"frequency\":5000,\"digit\":\"X\"}", -1, -1, -1, -1, -1, 0, 0, 0 },
		/* 5 */ { "{\"command\":\"query\",\"call-id\":\"c\",\"delay-buffer\":20}",
			  -1, -1, -1, -1, -1, 0, 0, 0 },
	};
	static const char trig[] = BD ",\"trigger\":\"##\",\"end trigger\":\"*1\","
		"\"DTMF-security-trigger\":\"silence\",\"DTMF-security-trigger-end\":\"off\","
		"\"trigger-end-time\":\"5000\",\"end-trigger-digits\":4}";
	static const char badtrig[] = BD ",\"trigger\":\"#x\",\"trigger-end\":"
		"\"12345678901234567\",\"DTMF-security-trigger\":\"loud\"}";
#undef BD

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct arena a;
		struct ng_request r;
		const char *err = NULL;

		arena_init(&a, 0);
		if (ng_request_decode(parse(&a, v[i].json, strlen(v[i].json)), &r, &err))
			fail_msg("[%zu]: %s", i, err);
		if (r.dsec.delay_buffer != v[i].delay || r.dsec.dtmf_delay != v[i].ddelay ||
		    r.dsec.mode != v[i].mode || r.dsec.volume != v[i].volume ||
		    r.dsec.digit != v[i].digit || r.dsec.n_freqs != v[i].n_freqs ||
		    (v[i].n_freqs && (r.dsec.freqs[0] != v[i].f0 || r.dsec.freqs[1] != v[i].f1)))
			fail_msg("[%zu]: delay %d ddelay %d mode %d volume %d digit %d freqs %u",
				 i, r.dsec.delay_buffer, r.dsec.dtmf_delay, r.dsec.mode,
				 r.dsec.volume, r.dsec.digit, r.dsec.n_freqs);
		arena_reset(&a);
	}
	{
		struct arena a;
		struct ng_request r;
		const char *err = NULL;

		arena_init(&a, 0);
		assert_int_equal(ng_request_decode(parse(&a, trig, strlen(trig)), &r, &err), 0);
		assert_string_equal(r.dsec.trigger, "##");
		assert_string_equal(r.dsec.trigger_end, "*1");
		assert_true(r.dsec.trig_mode == 1 && r.dsec.trig_end_mode == -2 &&
			    r.dsec.trig_end_ms == 5000 && r.dsec.trig_end_digits == 4);
		assert_int_equal(ng_request_decode(parse(&a, badtrig, strlen(badtrig)), &r, &err), 0);
		assert_true(!r.dsec.trigger[0] && !r.dsec.trigger_end[0] && r.dsec.trig_mode == -1);
		arena_reset(&a);
	}
}

/* play media keys (defaults, bounds), "all", and subscribe's from-tags / allow-transcoding. */
static void test_play_media_subscribe(void **state)
{
#define PM "{\"command\":\"play media\",\"call-id\":\"c\""
	static const struct {
		const char *json;
		int ret;
		unsigned repeat;
		unsigned long long pos, dur;
		bool all;
		size_t file_len, blob_len;
	} v[] = {
		/* 0 */ { PM ",\"from-tag\":\"f\",\"file\":\"/a.wav\"}", 0, 1, 0, 0, false, 6, 0 },
		/* 1 */ { PM ",\"all\":\"all\",\"blob\":\"RIFF\",\"repeat-times\":3,"
			  "\"start-pos\":\"800\",\"duration\":1500}", 0, 3, 800, 1500, true, 0, 4 },
		/* 2 */ { PM ",\"flags\":[\"all\"],\"file\":\"x\",\"repeat-times\":0}", 0, 1, 0,
			  0, true, 1, 0 },
		/* 3 */ { PM ",\"file\":\"x\",\"repeat-times\":99999}", 0, 10000, 0, 0, false, 1,
			  0 },
		/* 4 */ { PM ",\"file\":\"x\",\"start-pos\":-1}", -EINVAL, 0, 0, 0, false, 0, 0 },
		/* 5 */ { PM ",\"file\":\"x\",\"duration\":\"x\"}", -EINVAL, 0, 0, 0, false, 0, 0 },
		/* 6 */ { PM ",\"file\":7}", -EINVAL, 0, 0, 0, false, 0, 0 },
		/* 7 */ { "{\"command\":\"stop media\",\"from-tag\":\"f\"}", -EINVAL, 0, 0, 0,
			  false, 0, 0 },
	};
#undef PM
	struct arena a;
	struct ng_request r;
	const char *err = NULL;
	static const char sub[] = "{\"command\":\"subscribe request\",\"call-id\":\"c\","
		"\"from-tags\":[\"a\",\"bb\"],\"flags\":[\"from-tags-ccc\",\"allow-transcoding\"]}";

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		int ret;

		arena_init(&a, 0);
		ret = ng_request_decode(parse(&a, v[i].json, strlen(v[i].json)), &r, &err);
		if (ret != v[i].ret)
			fail_msg("play media [%zu]: %d (%s)", i, ret, err ? err : "");
		if (!ret && (r.cmd != NG_PLAY_MEDIA || r.play.repeat_times != v[i].repeat ||
			     r.play.start_pos != v[i].pos || r.play.duration != v[i].dur ||
			     r.all != v[i].all || r.play.file.len != v[i].file_len ||
			     r.play.blob.len != v[i].blob_len))
			fail_msg("play media [%zu]: repeat %u pos %llu dur %llu all %d", i,
				 r.play.repeat_times, (unsigned long long)r.play.start_pos,
				 (unsigned long long)r.play.duration, r.all);
		arena_reset(&a);
	}
	arena_init(&a, 0);
	assert_int_equal(ng_request_decode(parse(&a, sub, sizeof(sub) - 1), &r, &err), 0);
	assert_int_equal(r.cmd, NG_SUBSCRIBE);
	assert_int_equal(r.n_from_tags, 3);
	/* the flags list is read first: its tag, then the key's list */
	assert_int_equal(r.from_tags[0].len, 3);
	assert_memory_equal(r.from_tags[1].s, "a", 1);
	assert_memory_equal(r.from_tags[2].s, "bb", 2);
	assert_true(r.allow_transcoding);
	assert_int_equal(r.unknown_flags, 0);
	arena_reset(&a);
}

/* "supports" (load limit) and list's "limit" as rtpengine reads them. */
static void test_supports_and_limit(void **state)
{
	static const struct {
		const char *json;
		bool load_limit, has_limit;
		long long limit;
	} v[] = {
		/* 0 */ { "{\"command\":\"list\"}", false, false, 0 },
		/* 1 */ { "{\"command\":\"list\",\"limit\":5}", false, true, 5 },
		/* 2 */ { "{\"command\":\"list\",\"limit\":\"7\"}", false, true, 7 },
		/* 3 */ { "{\"command\":\"list\",\"limit\":-1}", false, true, -1 },
		/* 4 */ { "{\"command\":\"list\",\"limit\":\"abc\"}", false, false, 0 },
		/* 5 */ { "{\"command\":\"ping\",\"supports\":[\"load limit\"]}", true, false, 0 },
		/* 6 */ { "{\"command\":\"ping\",\"supports\":[\"x\",\"LOAD LIMIT\"]}", true,
			  false, 0 },
		/* 7 */ { "{\"command\":\"ping\",\"supports\":\"load limit\"}", true, false, 0 },
		/* 8 */ { "{\"command\":\"ping\",\"supports\":[\"other\"]}", false, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		struct arena a;
		struct ng_request r;
		const char *err = NULL;

		arena_init(&a, 0);
		if (ng_request_decode(parse(&a, v[i].json, strlen(v[i].json)), &r, &err))
			fail_msg("[%zu]: %s", i, err ? err : "");
		if (r.supports_load_limit != v[i].load_limit || r.has_limit != v[i].has_limit ||
		    (r.has_limit && r.limit != v[i].limit))
			fail_msg("[%zu]: load limit %d, limit %d/%lld", i, r.supports_load_limit,
				 r.has_limit, r.limit);
		arena_reset(&a);
	}
	/* Kamailio's real offer announces it */
	{
		struct arena a;
		struct ng_request r;
		const char *err = NULL;

		arena_init(&a, 0);
		assert_int_equal(ng_request_decode(parse(&a, kam_offer, sizeof(kam_offer) - 1),
						   &r, &err), 0);
		assert_true(r.supports_load_limit);
		arena_reset(&a);
	}
}

static void test_cmd_names(void **state)
{
	static const struct { enum ng_cmd c; const char *n; } v[] = {
		{ NG_PING, "ping" }, { NG_OFFER, "offer" }, { NG_ANSWER, "answer" },
		{ NG_DELETE, "delete" }, { NG_QUERY, "query" }, { NG_LIST, "list" },
		{ NG_STATISTICS, "statistics" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		assert_string_equal(ng_cmd_name(v[i].c), v[i].n);
	assert_non_null(ng_cmd_name(NG_UNKNOWN));
	assert_non_null(ng_cmd_name((enum ng_cmd)999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_real_without_each_key),
		cmocka_unit_test(test_cmd_names),
		cmocka_unit_test(test_play_dtmf),
		cmocka_unit_test(test_supports_and_limit),
		cmocka_unit_test(test_play_media_subscribe),
		cmocka_unit_test(test_dtmf_security_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
