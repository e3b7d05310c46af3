/* SDP parse / emit unit tests. Table-driven: good bodies with the facts the parser must
 * extract, bad bodies with the reason it must give, rewrites with the exact text the
 * emitter must produce. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/sdp.h"
#include "sluice/strbuf.h"

/* ---- sample bodies ------------------------------------------------------------ */

/* baresip offer and answer, as Kamailio sent them to rtpengine */
#define BARESIP_OFFER                                                                 \
	"v=0\r\n"                                                                     \
	"o=- 1939969165 382427232 IN IP4 127.0.0.1\r\n"                               \
	"s=-\r\n"                                                                     \
	"c=IN IP4 127.0.0.1\r\n"                                                      \
	"t=0 0\r\n"                                                                   \
	"a=tool:baresip 1.0.0\r\n"                                                    \
	"m=audio 20014 RTP/AVP 0 8 101\r\n"                                           \
	"a=rtpmap:0 PCMU/8000\r\n"                                                    \
	"a=rtpmap:8 PCMA/8000\r\n"                                                    \
	"a=rtpmap:101 telephone-event/8000\r\n"                                       \
	"a=fmtp:101 0-15\r\n"                                                         \
	"a=sendrecv\r\n"                                                              \
	"a=label:1\r\n"                                                               \
	"a=rtcp-rsize\r\n"                                                            \
	"a=ssrc:3271084334 cname:sip:caller@127.0.0.1:5080\r\n"                       \
	"a=minptime:20\r\n"                                                           \
	"a=ptime:20\r\n"

#define BARESIP_ANSWER                                                                \
	"v=0\r\n"                                                                     \
	"o=- 1765827728 1461962543 IN IP4 127.0.0.1\r\n"                              \
	"s=-\r\n"                                                                     \
	"c=IN IP4 127.0.0.1\r\n"                                                      \
	"t=0 0\r\n"                                                                   \
	"a=tool:baresip 1.0.0\r\n"                                                    \
	"m=audio 21088 RTP/AVP 0 8 101\r\n"                                           \
	"a=rtpmap:0 PCMU/8000\r\n"                                                    \
	"a=rtpmap:8 PCMA/8000\r\n"                                                    \
	"a=rtpmap:101 telephone-event/8000\r\n"                                       \
	"a=fmtp:101 0-15\r\n"                                                         \
	"a=sendrecv\r\n"                                                              \
	"a=label:1\r\n"                                                               \
	"a=ssrc:2796881163 cname:sip:callee@127.0.0.1:5060\r\n"                       \
	"a=minptime:20\r\n"                                                           \
	"a=ptime:20\r\n"

#define IPV6_SDP                                                                      \
	"v=0\r\n"                                                                     \
	"o=alice 2890844526 2890844526 IN IP6 2001:db8::10\r\n"                       \
	"s=call\r\n"                                                                  \
	"c=IN IP6 2001:db8::10\r\n"                                                   \
	"t=0 0\r\n"                                                                   \
	"m=audio 49170 RTP/AVP 9 0 101\r\n"                                           \
	"a=rtcp:49171 IN IP6 2001:db8::11\r\n"                                        \
	"a=rtpmap:101 telephone-event/8000\r\n"                                       \
	"a=recvonly\r\n"

#define MULTI_SDP                                                                     \
	"v=0\r\n"                                                                     \
	"o=- 1 1 IN IP4 192.0.2.1\r\n"                                                \
	"s=multi\r\n"                                                                 \
	"c=IN IP4 192.0.2.1\r\n"                                                      \
	"t=0 0\r\n"                                                                   \
	"m=audio 4000 RTP/AVP 0 8\r\n"                                                \
	"a=rtcp:4001\r\n"                                                             \
	"m=video 5000/2 RTP/AVP 96\r\n"                                               \
	"i=camera\r\n"                                                                \
	"c=IN IP4 192.0.2.2\r\n"                                                      \
	"b=AS:512\r\n"                                                                \
	"a=rtpmap:96 H264/90000\r\n"                                                  \
	"a=fmtp:96 profile-level-id=42e01f\r\n"                                       \
	"a=sendonly\r\n"                                                              \
	"m=image 6000 udptl t38\r\n"                                                  \
	"a=T38FaxVersion:0\r\n"                                                       \
	"a=T38FaxRateManagement:transferredTCF\r\n"

#define REJECTED_SDP                                                                  \
	"v=0\r\n"                                                                     \
	"o=- 7 7 IN IP4 192.0.2.1\r\n"                                                \
	"s=-\r\n"                                                                     \
	"c=IN IP4 192.0.2.1\r\n"                                                      \
	"t=0 0\r\n"                                                                   \
	"m=audio 4000 RTP/AVP 0\r\n"                                                  \
	"m=video 0 RTP/AVP 96\r\n"                                                    \
	"a=rtpmap:96 VP8/90000\r\n"

#define HOLD_SDP                                                                      \
	"v=0\r\n"                                                                     \
	"o=- 8 9 IN IP4 192.0.2.1\r\n"                                                \
	"s=-\r\n"                                                                     \
	"c=IN IP4 0.0.0.0\r\n"                                                        \
	"t=0 0\r\n"                                                                   \
	"a=sendonly\r\n"                                                              \
	"m=audio 4000 RTP/AVP 0\r\n"                                                  \
	"m=audio 4002 RTP/AVP 8\r\n"                                                  \
	"a=inactive\r\n"

#define WEBRTC_HEAD                                                                   \
	"v=0\r\n"                                                                     \
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"                              \
	"s=-\r\n"                                                                     \
	"t=0 0\r\n"                                                                   \
	"a=group:BUNDLE 0\r\n"                                                        \
	"a=msid-semantic: WMS stream1\r\n"
#define WEBRTC_SESS_ICE "a=ice-options:trickle\r\n"
#define WEBRTC_M1                                                                     \
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\r\n"                                   \
	"c=IN IP4 0.0.0.0\r\n"                                                        \
	"a=rtcp:9 IN IP4 0.0.0.0\r\n"
#define WEBRTC_M1_ICE                                                                 \
	"a=candidate:1 1 udp 2122260223 192.168.1.10 54321 typ host generation 0\r\n" \
	"a=candidate:2 1 udp 1686052607 203.0.113.7 54321 typ srflx raddr "           \
	"192.168.1.10 rport 54321\r\n"                                                \
	"a=end-of-candidates\r\n"                                                     \
	"a=ice-ufrag:F7gI\r\n"                                                        \
	"a=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n"
#define WEBRTC_M2                                                                     \
	"a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:"  \
	"4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\r\n"                               \
	"a=setup:actpass\r\n"                                                         \
	"a=mid:0\r\n"                                                                 \
	"a=sendrecv\r\n"                                                              \
	"a=msid:stream1 track1\r\n"                                                   \
	"a=rtcp-mux\r\n"                                                              \
	"a=rtpmap:111 opus/48000/2\r\n"                                               \
	"a=rtcp-fb:111 transport-cc\r\n"                                              \
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n"                                   \
	"a=rtpmap:126 telephone-event/8000\r\n"
#define WEBRTC_M2_ICE "a=ice-lite\r\n"
#define WEBRTC_M3 "a=ssrc:1001 cname:abc\r\n"
#define WEBRTC_SDP                                                                    \
	WEBRTC_HEAD WEBRTC_SESS_ICE WEBRTC_M1 WEBRTC_M1_ICE WEBRTC_M2 WEBRTC_M2_ICE WEBRTC_M3

#define SIMPLE_HEAD                                                                   \
	"v=0\r\n"                                                                     \
	"o=- 1 2 IN IP4 192.0.2.1\r\n"                                                \
	"s=-\r\n"

/* ---- helpers ------------------------------------------------------------------ */

static struct sdp *new_sdp(void)
{
	struct sdp *sdp = malloc(sizeof(*sdp));

	assert_non_null(sdp);
	return sdp;
}

/* Parse from an exact-size heap copy so ASan catches any read past len. The struct
 * points into the copy: the caller frees *keep after its last look at sdp. */
static int parse_copy(struct sdp *sdp, const char *body, size_t len, const char **err,
		      char **keep)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, body, len);
	*keep = copy;
	return sdp_parse(sdp, copy, len, err);
}

static int parse_exact(struct sdp *sdp, const char *body, size_t len, const char **err)
{
	char *copy;
	int rc = parse_copy(sdp, body, len, err, &copy);

	free(copy);
	return rc;
}

static struct sdp *parse_ok(const char *body)
{
	struct sdp *sdp = new_sdp();
	const char *err = NULL;
	int rc = sdp_parse(sdp, body, strlen(body), &err);

	if (rc)
		fail_msg("parse failed (%d): %s", rc, err ? err : "?");
	return sdp;
}

static void emit_expect(const struct sdp *sdp, const struct sdp_rewrite *rw, const char *want)
{
	struct strbuf sb;

	sb_init(&sb);
	assert_int_equal(sdp_emit(sdp, rw, &sb), 0);
	if (sb.len != strlen(want) || memcmp(sb.buf, want, sb.len) != 0)
		fail_msg("emit mismatch\n--- got ---\n%.*s--- want ---\n%s", (int)sb.len,
			 sb.buf, want);
	sb_free(&sb);
}

static void assert_str(struct sdp_str s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.s, want, s.len) != 0)
		fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.s, want);
}

/* ---- good bodies: facts extracted --------------------------------------------- */

struct media_want {
	const char *type;
	uint16_t port, count;
	const char *proto, *formats;
	const char *conn;           /* effective connection address */
	enum sdp_dir dir;           /* effective direction */
	int rtcp_port;              /* -1: no a=rtcp */
	bool mux, ice;
	unsigned n_lines;
};

static const struct parse_case {
	const char *name;
	const char *body;
	unsigned n_lines, n_session_lines;
	const char *origin_addr;
	enum sdp_af origin_af;
	const char *sess_conn;      /* NULL: none */
	const char *session_name;
	bool sess_ice;
	unsigned n_media;
	struct media_want m[4];
} parse_cases[] = {
	{ "baresip offer", BARESIP_OFFER, 17, 6, "127.0.0.1", SDP_AF_IP4, "127.0.0.1", "-",
	  false, 1,
	  { { "audio", 20014, 1, "RTP/AVP", "0 8 101", "127.0.0.1", SDP_DIR_SENDRECV, -1,
	      false, false, 11 } } },
	{ "baresip answer", BARESIP_ANSWER, 16, 6, "127.0.0.1", SDP_AF_IP4, "127.0.0.1", "-",
	  false, 1,
	  { { "audio", 21088, 1, "RTP/AVP", "0 8 101", "127.0.0.1", SDP_DIR_SENDRECV, -1,
	      false, false, 10 } } },
	{ "ipv6", IPV6_SDP, 9, 5, "2001:db8::10", SDP_AF_IP6, "2001:db8::10", "call", false, 1,
	  { { "audio", 49170, 1, "RTP/AVP", "9 0 101", "2001:db8::10", SDP_DIR_RECVONLY,
	      49171, false, false, 4 } } },
	{ "audio+video+t38", MULTI_SDP, 17, 5, "192.0.2.1", SDP_AF_IP4, "192.0.2.1", "multi",
	  false, 3,
	  { { "audio", 4000, 1, "RTP/AVP", "0 8", "192.0.2.1", SDP_DIR_SENDRECV, 4001, false,
	      false, 2 },
	    { "video", 5000, 2, "RTP/AVP", "96", "192.0.2.2", SDP_DIR_SENDONLY, -1, false,
	      false, 7 },
	    { "image", 6000, 1, "udptl", "t38", "192.0.2.1", SDP_DIR_SENDRECV, -1, false, false,
	      3 } } },
	{ "rejected stream", REJECTED_SDP, 8, 5, "192.0.2.1", SDP_AF_IP4, "192.0.2.1", "-",
	  false, 2,
	  { { "audio", 4000, 1, "RTP/AVP", "0", "192.0.2.1", SDP_DIR_SENDRECV, -1, false, false,
	      1 },
	    { "video", 0, 1, "RTP/AVP", "96", "192.0.2.1", SDP_DIR_SENDRECV, -1, false, false,
	      2 } } },
	{ "hold", HOLD_SDP, 9, 6, "192.0.2.1", SDP_AF_IP4, "0.0.0.0", "-", false, 2,
	  { { "audio", 4000, 1, "RTP/AVP", "0", "0.0.0.0", SDP_DIR_SENDONLY, -1, false, false,
	      1 },
	    { "audio", 4002, 1, "RTP/AVP", "8", "0.0.0.0", SDP_DIR_INACTIVE, -1, false, false,
	      2 } } },
	{ "webrtc", WEBRTC_SDP, 27, 7, "127.0.0.1", SDP_AF_IP4, NULL, "-", true, 1,
	  { { "audio", 9, 1, "UDP/TLS/RTP/SAVPF", "111 0 126", "0.0.0.0", SDP_DIR_SENDRECV, 9,
	      true, true, 20 } } },
	{ "LF only",
	  "v=0\no=- 1 2 IN IP4 10.0.0.1\ns=x\nc=IN IP4 10.0.0.1\nt=0 0\n"
	  "m=audio 7078 RTP/AVP 0\na=sendrecv\n",
	  7, 5, "10.0.0.1", SDP_AF_IP4, "10.0.0.1", "x", false, 1,
	  { { "audio", 7078, 1, "RTP/AVP", "0", "10.0.0.1", SDP_DIR_SENDRECV, -1, false, false,
	      2 } } },
	{ "no final line ending, trailing blanks",
	  SIMPLE_HEAD "t=0 0\r\nm=audio 4000/2  RTP/AVP  0 8  \r\na=rtcp:4001 IN IP4 10.1.1.1",
	  6, 4, "192.0.2.1", SDP_AF_IP4, NULL, "-", false, 1,
	  { { "audio", 4000, 2, "RTP/AVP", "0 8", NULL, SDP_DIR_SENDRECV, 4001, false, false,
	      2 } } },
	{ "trailing empty lines ignored", SIMPLE_HEAD "m=audio 1 RTP/AVP 0\r\n\r\n\n\r\n", 4, 3,
	  "192.0.2.1", SDP_AF_IP4, NULL, "-", false, 1,
	  { { "audio", 1, 1, "RTP/AVP", "0", NULL, SDP_DIR_SENDRECV, -1, false, false, 1 } } },
	{ "multicast ttl suffix dropped",
	  SIMPLE_HEAD "c=IN IP4 224.2.1.1/127/3\r\nm=audio 65535 RTP/AVP 0\r\nc=IN IP6 ff15::101/3\r\n",
	  6, 4, "192.0.2.1", SDP_AF_IP4, "224.2.1.1", "-", false, 1,
	  { { "audio", 65535, 1, "RTP/AVP", "0", "ff15::101", SDP_DIR_SENDRECV, -1, false,
	      false, 2 } } },
	{ "session level direction inherited",
	  SIMPLE_HEAD "a=recvonly\r\nm=audio 2 RTP/AVP 0\r\nm=audio 3 RTP/AVP 0\r\na=sendrecv\r\n",
	  7, 4, "192.0.2.1", SDP_AF_IP4, NULL, "-", false, 2,
	  { { "audio", 2, 1, "RTP/AVP", "0", NULL, SDP_DIR_RECVONLY, -1, false, false, 1 },
	    { "audio", 3, 1, "RTP/AVP", "0", NULL, SDP_DIR_SENDRECV, -1, false, false, 2 } } },
	{ "no media", SIMPLE_HEAD "t=0 0\r\n", 4, 4, "192.0.2.1", SDP_AF_IP4, NULL, "-", false,
	  0, { { 0 } } },
	{ "hostname and unknown o= addrtype",
	  "v=0\r\no=u 1 2 IN X25 some-host\r\ns= \r\nc=IN IP4 media.example.com\r\n", 4, 4,
	  "some-host", SDP_AF_NONE, "media.example.com", " ", false, 0, { { 0 } } },
};

static void check_media(const struct sdp *sdp, unsigned i, const struct media_want *w)
{
	const struct sdp_media *m = &sdp->media[i];
	const struct sdp_conn *c = sdp_media_conn(sdp, i);

	assert_str(m->type, w->type);
	assert_int_equal(m->port, w->port);
	assert_int_equal(m->port_count, w->count);
	assert_str(m->proto, w->proto);
	assert_str(m->formats, w->formats);
	assert_non_null(c);
	if (w->conn) {
		assert_true(c->present);
		assert_string_equal(c->addr, w->conn);
	} else {
		assert_false(c->present);
	}
	assert_int_equal(sdp_media_dir(sdp, i), w->dir);
	assert_int_equal(m->has_rtcp, w->rtcp_port >= 0);
	if (w->rtcp_port >= 0)
		assert_int_equal(m->rtcp_port, w->rtcp_port);
	assert_int_equal(m->rtcp_mux, w->mux);
	assert_int_equal(m->has_ice, w->ice);
	assert_int_equal(m->n_lines, w->n_lines);
	assert_int_equal(sdp->lines[m->first_line].kind, SDP_L_MEDIA);
}

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(parse_cases) / sizeof(parse_cases[0]); k++) {
		const struct parse_case *c = &parse_cases[k];
		struct sdp *sdp = new_sdp();
		const char *err = NULL;
		char *copy;
		int rc;

		print_message("  case %zu: %s\n", k, c->name);
		rc = parse_copy(sdp, c->body, strlen(c->body), &err, &copy);
		if (rc)
			fail_msg("case %s: rc %d: %s", c->name, rc, err);
		assert_int_equal(sdp->n_lines, c->n_lines);
		assert_int_equal(sdp->n_session_lines, c->n_session_lines);
		assert_true(sdp->origin.present);
		assert_string_equal(sdp->origin.addr, c->origin_addr);
		assert_int_equal(sdp->origin.af, c->origin_af);
		assert_int_equal(sdp->conn.present, c->sess_conn != NULL);
		if (c->sess_conn)
			assert_string_equal(sdp->conn.addr, c->sess_conn);
		assert_str(sdp->session_name, c->session_name);
		assert_int_equal(sdp->has_ice, c->sess_ice);
		assert_int_equal(sdp->n_media, c->n_media);
		for (unsigned i = 0; i < c->n_media; i++)
			check_media(sdp, i, &c->m[i]);
		assert_null(sdp_media_conn(sdp, c->n_media));
		free(copy);
		free(sdp);
	}
}

static void test_parse_details(void **state)
{
	struct sdp *sdp = parse_ok(WEBRTC_SDP);
	unsigned ice = 0;

	(void)state;
	assert_int_equal(sdp->lines[0].kind, SDP_L_VERSION);
	assert_int_equal(sdp->lines[0].type, 'v');
	assert_int_equal(sdp->lines[1].kind, SDP_L_ORIGIN);
	assert_int_equal(sdp->lines[2].kind, SDP_L_SESSION_NAME);
	assert_int_equal(sdp->lines[3].kind, SDP_L_OTHER);        /* t= */
	assert_int_equal(sdp->lines[4].kind, SDP_L_OTHER);        /* a=group */
	assert_int_equal(sdp->lines[6].kind, SDP_L_ICE);          /* ice-options */
	assert_int_equal(sdp->lines[8].kind, SDP_L_CONN);
	assert_int_equal(sdp->lines[9].kind, SDP_L_RTCP);
	for (unsigned i = 0; i < sdp->n_lines; i++)
		ice += sdp->lines[i].kind == SDP_L_ICE;
	assert_int_equal(ice, 7);
	assert_str(sdp->origin.username, "-");
	assert_str(sdp->origin.sess_id, "4611731400430051336");
	assert_str(sdp->origin.sess_version, "2");
	assert_str(sdp->origin.nettype, "IN");
	assert_true(sdp->media[0].rtcp_conn.present);
	assert_string_equal(sdp->media[0].rtcp_conn.addr, "0.0.0.0");
	assert_str(sdp->lines[10].value,
		   "candidate:1 1 udp 2122260223 192.168.1.10 54321 typ host generation 0");
	free(sdp);

	/* rtcp-mux-only and rtcp-rsize are other attributes; a=rtcp-mux is exact */
	sdp = parse_ok(SIMPLE_HEAD "m=audio 5 RTP/AVP 0\r\na=rtcp-rsize\r\na=rtcp-mux-only\r\n"
				   "a=sendrecvx\r\na=candidatex:1\r\n");
	for (unsigned i = 4; i < sdp->n_lines; i++)
		assert_int_equal(sdp->lines[i].kind, SDP_L_OTHER);
	assert_false(sdp->media[0].rtcp_mux);
	assert_false(sdp->media[0].has_ice);
	assert_int_equal(sdp->media[0].dir, SDP_DIR_NONE);
	free(sdp);

	/* ipv6 a=rtcp with address; CR inside a value is kept */
	sdp = parse_ok(IPV6_SDP);
	assert_int_equal(sdp->media[0].rtcp_conn.af, SDP_AF_IP6);
	assert_string_equal(sdp->media[0].rtcp_conn.addr, "2001:db8::11");
	assert_int_equal(sdp->conn.af, SDP_AF_IP6);
	free(sdp);
	/* the first a=rtcp and the first media c= are the ones recorded */
	sdp = parse_ok(SIMPLE_HEAD "m=audio 5 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n"
				   "c=IN IP4 10.0.0.2\r\na=rtcp:7\r\na=rtcp:9 IN IP4 1.1.1.1\r\n");
	assert_int_equal(sdp->media[0].rtcp_port, 7);
	assert_false(sdp->media[0].rtcp_conn.present);
	assert_string_equal(sdp->media[0].conn.addr, "10.0.0.1");
	free(sdp);
	sdp = parse_ok(SIMPLE_HEAD "a=x\ry\r\r\n");
	assert_str(sdp->lines[3].value, "x\ry\r");
	free(sdp);
}

/* ---- bad bodies --------------------------------------------------------------- */

static const struct err_case {
	const char *name;
	const char *body;
	int rc;
	const char *reason;         /* substring of *err */
} err_cases[] = {
	{ "zero length", "", -EINVAL, "empty" },
	{ "only line endings", "\r\n\r\n", -EINVAL, "empty SDP body" },
	{ "missing v=", "o=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\n", -EINVAL, "line 1: first line is not v=" },
	{ "uppercase type", "V=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\n", -EINVAL, "line 1: not a" },
	{ "garbage line", SIMPLE_HEAD "hello world\r\n", -EINVAL, "line 4: not a \"x=value\"" },
	{ "line too short", SIMPLE_HEAD "m\r\n", -EINVAL, "line 4: not a" },
	{ "equals missing", SIMPLE_HEAD "a:rtcp\r\n", -EINVAL, "line 4: not a" },
	{ "empty line in the middle", SIMPLE_HEAD "\r\nt=0 0\r\n", -EINVAL, "line 4: empty line" },
	{ "second v=", SIMPLE_HEAD "v=0\r\n", -EINVAL, "line 4: v= is only allowed" },
	{ "missing o=", "v=0\r\ns=-\r\n", -EINVAL, "missing o= line" },
	{ "missing s=", "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\n", -EINVAL, "missing s= line" },
	{ "duplicate o=", SIMPLE_HEAD "o=- 1 2 IN IP4 1.2.3.4\r\n", -EINVAL, "line 4: duplicate o=" },
	{ "duplicate s=", SIMPLE_HEAD "s=-\r\n", -EINVAL, "line 4: duplicate s=" },
	{ "o= with 5 fields", "v=0\r\no=- 1 2 IN IP4\r\ns=-\r\n", -EINVAL, "line 2: o= line needs exactly 6" },
	{ "o= with 7 fields", "v=0\r\no=- 1 2 IN IP4 1.2.3.4 x\r\ns=-\r\n", -EINVAL, "line 2: o= line" },
	{ "o= in media", SIMPLE_HEAD "m=audio 1 RTP/AVP 0\r\no=- 1 2 IN IP4 1.2.3.4\r\n", -EINVAL,
	  "line 5: o= inside a media section" },
	{ "s= in media", SIMPLE_HEAD "m=audio 1 RTP/AVP 0\r\ns=x\r\n", -EINVAL, "line 5: s= inside" },
	{ "bad m= port", SIMPLE_HEAD "m=audio abc RTP/AVP 0\r\n", -EINVAL, "line 4: bad port in m=" },
	{ "huge m= port", SIMPLE_HEAD "m=audio 65536 RTP/AVP 0\r\n", -EINVAL, "line 4: bad port" },
	{ "very long m= port", SIMPLE_HEAD "m=audio 000004000 RTP/AVP 0\r\n", -EINVAL, "bad port" },
	{ "negative m= port", SIMPLE_HEAD "m=audio -1 RTP/AVP 0\r\n", -EINVAL, "bad port" },
	{ "m= port count 0", SIMPLE_HEAD "m=audio 4000/0 RTP/AVP 0\r\n", -EINVAL, "bad port count" },
	{ "m= port count junk", SIMPLE_HEAD "m=audio 4000/x RTP/AVP 0\r\n", -EINVAL, "bad port count" },
	{ "m= without formats", SIMPLE_HEAD "m=audio 4000 RTP/AVP   \r\n", -EINVAL, "line 4: m= line without formats" },
	{ "m= without proto", SIMPLE_HEAD "m=audio 4000\r\n", -EINVAL, "line 4: malformed m= line" },
	{ "empty m=", SIMPLE_HEAD "m=\r\n", -EINVAL, "line 4: malformed m= line" },
	{ "c= unknown family", SIMPLE_HEAD "c=IN IP5 1.2.3.4\r\n", -EINVAL, "line 4: unknown address type" },
	{ "c= unknown nettype", SIMPLE_HEAD "c=ATM NSAP 47.0005\r\n", -EINVAL, "line 4: unsupported network type" },
	{ "c= missing address", SIMPLE_HEAD "c=IN IP4\r\n", -EINVAL, "line 4: malformed connection" },
	{ "c= trailing text", SIMPLE_HEAD "c=IN IP4 1.2.3.4 x\r\n", -EINVAL, "line 4: trailing text" },
	{ "c= bad ttl", SIMPLE_HEAD "c=IN IP4 224.2.1.1/abc\r\n", -EINVAL, "line 4: malformed multicast" },
	{ "c= too many suffixes", SIMPLE_HEAD "c=IN IP4 224.2.1.1/1/2/3\r\n", -EINVAL, "multicast" },
	{ "c= empty address", SIMPLE_HEAD "c=IN IP4 /127\r\n", -EINVAL, "line 4: invalid or too long address" },
	{ "c= bad characters", SIMPLE_HEAD "c=IN IP4 1.2.3.4;x\r\n", -EINVAL, "line 4: invalid" },
	{ "c= address too long",
	  SIMPLE_HEAD "c=IN IP4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
	  -EINVAL, "line 4: invalid or too long" },
	{ "duplicate session c=", SIMPLE_HEAD "c=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.5\r\n", -EINVAL,
	  "line 5: duplicate session-level c=" },
	{ "a=rtcp without port", SIMPLE_HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp\r\n", -EINVAL,
	  "line 5: malformed a=rtcp" },
	{ "a=rtcp bad port", SIMPLE_HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:70000\r\n", -EINVAL,
	  "line 5: malformed a=rtcp" },
	{ "a=rtcp bad address", SIMPLE_HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:5 IN IP7 1.2.3.4\r\n",
	  -EINVAL, "line 5: bad address in a=rtcp" },
	{ "a=rtcp at session level checked too", SIMPLE_HEAD "a=rtcp:x\r\n", -EINVAL, "line 4:" },
};

static void test_parse_errors(void **state)
{
	struct sdp *sdp = new_sdp();

	(void)state;
	for (size_t k = 0; k < sizeof(err_cases) / sizeof(err_cases[0]); k++) {
		const struct err_case *c = &err_cases[k];
		const char *err = NULL;
		int rc;

		rc = parse_exact(sdp, c->body, strlen(c->body), &err);
		if (rc != c->rc)
			fail_msg("case %zu (%s): rc %d want %d (%s)", k, c->name, rc, c->rc,
				 err ? err : "");
		assert_non_null(err);
		if (!strstr(err, c->reason))
			fail_msg("case %zu (%s): reason \"%s\" lacks \"%s\"", k, c->name, err,
				 c->reason);
		/* a NULL err pointer is allowed */
		assert_int_equal(parse_exact(sdp, c->body, strlen(c->body), NULL), c->rc);
	}
	/* a NUL byte in an address is not an address character */
	{
		static const char body[] = SIMPLE_HEAD "c=IN IP4 1.2\0.3.4\r\n";
		const char *err = NULL;

		assert_int_equal(sdp_parse(sdp, body, sizeof(body) - 1, &err), -EINVAL);
		assert_non_null(strstr(err, "line 4"));
	}
	free(sdp);
}

/* ---- limits ------------------------------------------------------------------- */

static char *repeat_body(const char *head, const char *line, unsigned n, size_t *len)
{
	size_t hl = strlen(head), ll = strlen(line);
	char *b = malloc(hl + ll * n + 1);

	assert_non_null(b);
	memcpy(b, head, hl);
	for (unsigned i = 0; i < n; i++)
		memcpy(b + hl + ll * i, line, ll);
	*len = hl + ll * n;
	b[*len] = '\0';
	return b;
}

static void test_limits(void **state)
{
	struct sdp *sdp = new_sdp();
	const char *err = NULL;
	size_t len;
	char *b;

	(void)state;
	/* SDP_MAX_LINES: 3 head lines + n attributes */
	b = repeat_body(SIMPLE_HEAD, "a=x\r\n", SDP_MAX_LINES - 3, &len);
	assert_int_equal(sdp_parse(sdp, b, len, &err), 0);
	assert_int_equal(sdp->n_lines, SDP_MAX_LINES);
	free(b);
	b = repeat_body(SIMPLE_HEAD, "a=x\r\n", SDP_MAX_LINES - 2, &len);
	assert_int_equal(sdp_parse(sdp, b, len, &err), -E2BIG);
	assert_non_null(strstr(err, "too many SDP lines"));
	free(b);

	/* SDP_MAX_MEDIA */
	b = repeat_body(SIMPLE_HEAD, "m=audio 1000 RTP/AVP 0\r\n", SDP_MAX_MEDIA, &len);
	assert_int_equal(sdp_parse(sdp, b, len, &err), 0);
	assert_int_equal(sdp->n_media, SDP_MAX_MEDIA);
	free(b);
	b = repeat_body(SIMPLE_HEAD, "m=audio 1000 RTP/AVP 0\r\n", SDP_MAX_MEDIA + 1, &len);
	assert_int_equal(sdp_parse(sdp, b, len, &err), -E2BIG);
	assert_non_null(strstr(err, "line 36: too many m= lines"));
	free(b);

	/* SDP_MAX_LEN: one long attribute */
	b = malloc(SDP_MAX_LEN + 2);
	assert_non_null(b);
	memset(b, 'x', SDP_MAX_LEN + 1);
	memcpy(b, SIMPLE_HEAD "a=", strlen(SIMPLE_HEAD "a="));
	assert_int_equal(sdp_parse(sdp, b, SDP_MAX_LEN, &err), 0);
	assert_int_equal(sdp->lines[3].value.len, SDP_MAX_LEN - strlen(SIMPLE_HEAD "a="));
	assert_int_equal(sdp_parse(sdp, b, SDP_MAX_LEN + 1, &err), -E2BIG);
	assert_non_null(strstr(err, "too large"));
	free(b);
	free(sdp);
}

/* Every prefix of a body parses or fails cleanly, never reading past the prefix. */
static void test_truncations(void **state)
{
	static const char *const bodies[] = { BARESIP_OFFER, WEBRTC_SDP, MULTI_SDP, IPV6_SDP };
	struct sdp *sdp = new_sdp();
	unsigned ok = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		size_t len = strlen(bodies[k]);

		for (size_t n = 0; n <= len; n++) {
			const char *err = NULL;
			int rc = parse_exact(sdp, bodies[k], n, &err);

			if (rc == 0)
				ok++;
			else
				assert_non_null(err);
		}
	}
	assert_true(ok > 0);
	free(sdp);
}

/* ---- emit: identity ----------------------------------------------------------- */

static void test_emit_identity(void **state)
{
	static const char *const bodies[] = { BARESIP_OFFER, BARESIP_ANSWER, IPV6_SDP, MULTI_SDP,
					      REJECTED_SDP, HOLD_SDP, WEBRTC_SDP };
	struct sdp_rewrite zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (size_t k = 0; k < sizeof(bodies) / sizeof(bodies[0]); k++) {
		struct sdp *sdp = parse_ok(bodies[k]);

		emit_expect(sdp, NULL, bodies[k]);
		emit_expect(sdp, &zero, bodies[k]);     /* all-zero rewrite changes nothing */
		free(sdp);
	}
}

static void test_emit_normalises(void **state)
{
	struct sdp *sdp;

	(void)state;
	sdp = parse_ok("v=0\no=- 1 2 IN IP4 10.0.0.1\ns=x\nm=audio 7078 RTP/AVP 0\na=sendrecv");
	emit_expect(sdp, NULL,
		    "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=x\r\nm=audio 7078 RTP/AVP 0\r\n"
		    "a=sendrecv\r\n");
	free(sdp);
	sdp = parse_ok("v=0\r\no=- 1 2 IN IP4 10.0.0.1\ns=x\r\n\r\n\n");
	emit_expect(sdp, NULL, "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=x\r\n");
	free(sdp);
}

/* emit appends; it does not reset the buffer */
static void test_emit_appends(void **state)
{
	struct sdp *sdp = parse_ok(SIMPLE_HEAD);
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	sb_puts(&sb, "X");
	assert_int_equal(sdp_emit(sdp, NULL, &sb), 0);
	assert_string_equal(sb.buf, "X" SIMPLE_HEAD);
	sb_free(&sb);
	free(sdp);
}

/* ---- emit: rewrites ----------------------------------------------------------- */

static const char *const drop_sec[] = { "crypto", "fingerprint", "setup", NULL };
static const char *const drop_ice[] = { "ice-lite", "candidate", NULL };

static const struct rw_case {
	const char *name;
	const char *in;
	struct sdp_rewrite rw;
	const char *out;
} rw_cases[] = {
	{ "origin to IP6",
	  "v=0\r\no=- 1939969165 382427232 IN IP4 127.0.0.1\r\ns=-\r\n",
	  { .origin_addr = "2001:db8::1", .origin_af = SDP_AF_IP6 },
	  "v=0\r\no=- 1939969165 382427232 IN IP6 2001:db8::1\r\ns=-\r\n" },
	{ "origin af inferred, odd spacing kept",
	  "v=0\r\no=alice  5 6 IN  IP6 ::1\r\ns=-\r\n",
	  { .origin_addr = "203.0.113.5" },
	  "v=0\r\no=alice  5 6 IN  IP4 203.0.113.5\r\ns=-\r\n" },
	{ "session name",
	  SIMPLE_HEAD "t=0 0\r\n",
	  { .session_name = "sluice" },
	  "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=sluice\r\nt=0 0\r\n" },
	{ "session c=",
	  SIMPLE_HEAD "c=IN IP4 224.2.1.1/127\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	  { .session_conn = "::1", .session_conn_af = SDP_AF_IP6 },
	  SIMPLE_HEAD "c=IN IP6 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n" },
	{ "session c= absent is not added",
	  SIMPLE_HEAD "t=0 0\r\n",
	  { .session_conn = "10.0.0.1" },
	  SIMPLE_HEAD "t=0 0\r\n" },
	{ "m= port and proto, count kept, port 0 stays",
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0 8\r\nm=video 5000/2 RTP/AVP 96\r\n"
		      "m=video 0 RTP/AVP 97\r\n",
	  { .media = { { .set_port = true, .port = 30000, .proto = "RTP/SAVP" },
		       { .set_port = true, .port = 30002 },
		       { .set_port = true, .port = 30004 } } },
	  SIMPLE_HEAD "m=audio 30000 RTP/SAVP 0 8\r\nm=video 30002/2 RTP/AVP 96\r\n"
		      "m=video 0 RTP/AVP 97\r\n" },
	{ "m= proto only",
	  SIMPLE_HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n",
	  { .media = { { .proto = "RTP/AVP" } } },
	  SIMPLE_HEAD "m=audio 9 RTP/AVP 111 0\r\n" },
	{ "media c= rewritten",
	  MULTI_SDP,
	  { .media = { [1] = { .addr = "198.51.100.9" } } },
	  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=multi\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	  "m=audio 4000 RTP/AVP 0 8\r\na=rtcp:4001\r\n"
	  "m=video 5000/2 RTP/AVP 96\r\ni=camera\r\nc=IN IP4 198.51.100.9\r\nb=AS:512\r\n"
	  "a=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f\r\na=sendonly\r\n"
	  "m=image 6000 udptl t38\r\na=T38FaxVersion:0\r\n"
	  "a=T38FaxRateManagement:transferredTCF\r\n" },
	{ "media c= inserted after m= and i=, not when equal to session",
	  SIMPLE_HEAD "c=IN IP4 192.0.2.1\r\n"
		      "m=audio 4000 RTP/AVP 0\r\ni=voice\r\ni=more\r\nb=AS:64\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=sendrecv\r\n"
		      "m=audio 4004 RTP/AVP 0\r\n"
		      "m=audio 4006 RTP/AVP 0\r\ni=x\r\n",
	  { .session_conn = "203.0.113.1",
	    .media = { { .addr = "203.0.113.2" }, { .addr = "203.0.113.1" },
		       { .addr = "2001:db8::2" }, { .addr = "203.0.113.3" } } },
	  SIMPLE_HEAD "c=IN IP4 203.0.113.1\r\n"
		      "m=audio 4000 RTP/AVP 0\r\ni=voice\r\ni=more\r\nc=IN IP4 203.0.113.2\r\n"
		      "b=AS:64\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=sendrecv\r\n"
		      "m=audio 4004 RTP/AVP 0\r\nc=IN IP6 2001:db8::2\r\n"
		      "m=audio 4006 RTP/AVP 0\r\ni=x\r\nc=IN IP4 203.0.113.3\r\n" },
	{ "media c= inserted: differs from session c= as emitted",
	  SIMPLE_HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n",
	  { .media = { { .addr = "203.0.113.1" } } },
	  SIMPLE_HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 203.0.113.1\r\n"
		      "a=sendrecv\r\n" },
	{ "media c= inserted: same text, other family",
	  SIMPLE_HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n",
	  { .media = { { .addr = "192.0.2.1", .af = SDP_AF_IP6 } } },
	  SIMPLE_HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 192.0.2.1\r\n" },
	{ "media c= inserted: no session c=",
	  SIMPLE_HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:20\r\n",
	  { .media = { { .addr = "127.0.0.1", .af = SDP_AF_IP4 } } },
	  SIMPLE_HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\na=ptime:20\r\n" },
	{ "rtcp dropped",
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\na=ptime:20\r\na=rtcp:4005\r\n",
	  { .media = { { .rewrite_rtcp = true } } },
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=ptime:20\r\n" },
	{ "rtcp rewritten, last line",
	  BARESIP_OFFER,
	  { .media = { { .set_port = true, .port = 30000, .rewrite_rtcp = true,
			 .write_rtcp = true, .rtcp_port = 30001 } } },
	  "v=0\r\no=- 1939969165 382427232 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
	  "t=0 0\r\na=tool:baresip 1.0.0\r\nm=audio 30000 RTP/AVP 0 8 101\r\n"
	  "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
	  "a=fmtp:101 0-15\r\na=sendrecv\r\na=label:1\r\na=rtcp-rsize\r\n"
	  "a=ssrc:3271084334 cname:sip:caller@127.0.0.1:5080\r\na=minptime:20\r\na=ptime:20\r\n"
	  "a=rtcp:30001\r\n" },
	{ "write_rtcp implies dropping the old one",
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\na=ptime:20\r\n",
	  { .media = { { .write_rtcp = true, .rtcp_port = 7 } } },
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=ptime:20\r\na=rtcp:7\r\n" },
	{ "full rtcp: media addr, session conn as emitted, ipv6",
	  SIMPLE_HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 192.0.2.1\r\n"
		      "m=audio 4002 RTP/AVP 0\r\nm=audio 4004 RTP/AVP 0\r\n"
		      "m=audio 4006 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n",
	  { .session_conn = "203.0.113.1",
	    .media = { { .addr = "203.0.113.2", .rewrite_rtcp = true, .write_rtcp = true,
			 .rtcp_port = 30001, .full_rtcp = true },
		       { .write_rtcp = true, .rtcp_port = 30003, .full_rtcp = true },
		       { .addr = "::1", .write_rtcp = true, .rtcp_port = 30005,
			 .full_rtcp = true },
		       { .write_rtcp = true, .rtcp_port = 30007, .full_rtcp = true } } },
	  SIMPLE_HEAD "c=IN IP4 203.0.113.1\r\n"
		      "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 203.0.113.2\r\n"
		      "a=rtcp:30001 IN IP4 203.0.113.2\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=rtcp:30003 IN IP4 203.0.113.1\r\n"
		      "m=audio 4004 RTP/AVP 0\r\nc=IN IP6 ::1\r\na=rtcp:30005 IN IP6 ::1\r\n"
		      "m=audio 4006 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n"
		      "a=rtcp:30007 IN IP4 192.0.2.7\r\n" },
	{ "full rtcp without any address falls back to port only",
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\n",
	  { .media = { { .write_rtcp = true, .rtcp_port = 4001, .full_rtcp = true } } },
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n" },
	{ "rtcp-mux add (before a=rtcp), keep existing, remove",
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=ptime:20\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=rtcp-mux\r\na=ptime:20\r\n"
		      "m=audio 4004 RTP/AVP 0\r\na=rtcp-mux\r\na=ptime:20\r\n"
		      "m=audio 4006 RTP/AVP 0\r\na=rtcp-mux\r\n",
	  { .media = { { .rtcp_mux = SDP_MUX_ADD, .write_rtcp = true, .rtcp_port = 4001 },
		       { .rtcp_mux = SDP_MUX_ADD },
		       { .rtcp_mux = SDP_MUX_REMOVE },
		       { .rtcp_mux = SDP_MUX_KEEP } } },
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=ptime:20\r\na=rtcp-mux\r\na=rtcp:4001\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=rtcp-mux\r\na=ptime:20\r\n"
		      "m=audio 4004 RTP/AVP 0\r\na=ptime:20\r\n"
		      "m=audio 4006 RTP/AVP 0\r\na=rtcp-mux\r\n" },
	{ "remove ICE everywhere: exactly the ICE lines",
	  WEBRTC_SDP,
	  { .remove_ice = true, .media = { { .remove_ice = true } } },
	  WEBRTC_HEAD WEBRTC_M1 WEBRTC_M2 WEBRTC_M3 },
	{ "remove ICE at session level only",
	  WEBRTC_SDP,
	  { .remove_ice = true },
	  WEBRTC_HEAD WEBRTC_M1 WEBRTC_M1_ICE WEBRTC_M2 WEBRTC_M2_ICE WEBRTC_M3 },
	{ "remove ICE in media only",
	  WEBRTC_SDP,
	  { .media = { { .remove_ice = true } } },
	  WEBRTC_HEAD WEBRTC_SESS_ICE WEBRTC_M1 WEBRTC_M2 WEBRTC_M3 },
	{ "direction replaced, duplicates dropped, appended before mux/rtcp",
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\na=ptime:20\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=recvonly\r\na=inactive\r\n"
		      "m=audio 4004 RTP/AVP 0\r\na=ptime:20\r\n"
		      "m=audio 4006 RTP/AVP 0\r\na=sendonly\r\n",
	  { .media = { { .dir = SDP_DIR_SENDRECV }, { .dir = SDP_DIR_INACTIVE },
		       { .dir = SDP_DIR_RECVONLY, .rtcp_mux = SDP_MUX_ADD, .write_rtcp = true,
			 .rtcp_port = 9 },
		       { .dir = SDP_DIR_NONE } } },
	  SIMPLE_HEAD "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\na=ptime:20\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=inactive\r\n"
		      "m=audio 4004 RTP/AVP 0\r\na=ptime:20\r\na=recvonly\r\na=rtcp-mux\r\n"
		      "a=rtcp:9\r\n"
		      "m=audio 4006 RTP/AVP 0\r\na=sendonly\r\n" },
	{ "session-level direction untouched by media rewrite",
	  HOLD_SDP,
	  { .media = { { .dir = SDP_DIR_SENDRECV } } },
	  "v=0\r\no=- 8 9 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=sendonly\r\n"
	  "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\nm=audio 4002 RTP/AVP 8\r\na=inactive\r\n" },
	{ "webrtc to plain RTP (everything at once)",
	  WEBRTC_SDP,
	  { .origin_addr = "127.0.0.1", .session_name = "sluice", .remove_ice = true,
	    .media = { { .set_port = true, .port = 30000, .proto = "RTP/AVP",
			 .addr = "127.0.0.1", .rewrite_rtcp = true, .write_rtcp = true,
			 .rtcp_port = 30001, .rtcp_mux = SDP_MUX_REMOVE, .remove_ice = true,
			 .dir = SDP_DIR_SENDONLY } } },
	  "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=sluice\r\nt=0 0\r\n"
	  "a=group:BUNDLE 0\r\na=msid-semantic: WMS stream1\r\n"
	  "m=audio 30000 RTP/AVP 111 0 126\r\nc=IN IP4 127.0.0.1\r\n"
	  "a=fingerprint:sha-256 D1:2C:BE:AD:C4:F6:64:5C:25:16:11:9C:AF:E7:0F:73:79:36:"
	  "4E:9C:1E:15:54:39:0C:06:8B:ED:96:86:00:39\r\n"
	  "a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=msid:stream1 track1\r\n"
	  "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
	  "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:126 telephone-event/8000\r\n"
	  "a=ssrc:1001 cname:abc\r\na=rtcp:30001\r\n" },
	/* codec rewrites (the offer of the ng-samples "transcode" scenario) */
	{ "codecs: mask PCMA, add PCMU",
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	  "m=audio 20002 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
	  "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
	  "a=ptime:20\r\n",
	  { .media = { { .set_port = true, .port = 30000, .formats = "0 101",
			 .drop_pt = { [1] = 0x01 },
			 .codec_lines = "a=rtpmap:0 PCMU/8000\r\n" } } },
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	  "m=audio 30000 RTP/AVP 0 101\r\n"
	  "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtpmap:0 PCMU/8000\r\n"
	  "a=sendrecv\r\na=ptime:20\r\n" },
	{ "codecs: formats only (port kept), rtcp-fb and fmtp of dropped type go, ptime set",
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
	  "m=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n"
	  "a=rtcp-fb:96 transport-cc\r\na=rtcp-fb:* nack\r\na=ptime:20\r\na=ptime:40\r\n",
	  { .media = { { .formats = "0", .drop_pt = { [12] = 0x01 }, .ptime = 30 } } },
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
	  "m=audio 4000 RTP/AVP 0\r\na=rtcp-fb:* nack\r\na=ptime:30\r\na=ptime:30\r\n" },
	{ "codecs: no rtpmap lines: added after m=/i=/c=, ptime appended",
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
	  "m=audio 4000 RTP/AVP 0 8\r\ni=voice\r\nc=IN IP4 192.0.2.9\r\na=sendrecv\r\n",
	  { .media = { { .formats = "9 0", .codec_lines = "a=rtpmap:9 G722/8000\r\n",
			 .ptime = 20 } } },
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
	  "m=audio 4000 RTP/AVP 9 0\r\ni=voice\r\nc=IN IP4 192.0.2.9\r\n"
	  "a=rtpmap:9 G722/8000\r\na=sendrecv\r\na=ptime:20\r\n" },
	{ "codecs: inserted c= comes before the codec lines",
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	  "m=audio 4000 RTP/AVP 0\r\ni=voice\r\na=sendrecv\r\n",
	  { .media = { { .addr = "192.0.2.2", .formats = "8",
			 .drop_pt = { [0] = 0x01 },
			 .codec_lines = "a=rtpmap:8 PCMA/8000\r\n" } } },
	  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	  "m=audio 4000 RTP/AVP 8\r\ni=voice\r\nc=IN IP4 192.0.2.2\r\n"
	  "a=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n" },
	{ "drop named attributes, session and media; prefixes do not match",
	  SIMPLE_HEAD "a=fingerprint:sha-256 AA\r\na=setup:actpass\r\na=setupx:1\r\n"
		      "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
		      "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:y\r\na=ptime:20\r\n"
		      "a=cryptox\r\na=crypto\r\n",
	  { .drop_attrs = drop_sec, .media = { { .drop_attrs = drop_sec } } },
	  SIMPLE_HEAD "a=setupx:1\r\nm=audio 4000 RTP/SAVP 0\r\na=ptime:20\r\na=cryptox\r\n" },
	{ "drop applies to any line kind (ICE), append after rtcp lines",
	  WEBRTC_SDP,
	  { .drop_attrs = drop_ice, .append = "a=ice-lite\r\n",
	    .media = { { .drop_attrs = drop_ice, .write_rtcp = true, .rtcp_port = 9,
			 .append = "a=candidate:1 1 UDP 1 127.0.0.1 9 typ host\r\n"
				   "a=end-of-candidates\r\n" } } },
	  WEBRTC_HEAD WEBRTC_SESS_ICE "a=ice-lite\r\n"
	  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 126\r\nc=IN IP4 0.0.0.0\r\n"
	  "a=end-of-candidates\r\na=ice-ufrag:F7gI\r\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n"
	  WEBRTC_M2 WEBRTC_M3 "a=rtcp:9\r\n"
	  "a=candidate:1 1 UDP 1 127.0.0.1 9 typ host\r\na=end-of-candidates\r\n" },
	{ "append on a section without other changes, and on the session only",
	  SIMPLE_HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\n",
	  { .append = "a=x-sess\r\n", .media = { [1] = { .append = "a=x:1\r\na=y\r\n" } } },
	  SIMPLE_HEAD "t=0 0\r\na=x-sess\r\nm=audio 4000 RTP/AVP 0\r\n"
		      "m=audio 4002 RTP/AVP 0\r\na=x:1\r\na=y\r\n" },
	{ "LF input with rewrite gives CRLF",
	  "v=0\no=- 1 2 IN IP4 10.0.0.1\ns=x\nc=IN IP4 10.0.0.1\nm=audio 7078 RTP/AVP 0\n",
	  { .session_conn = "10.0.0.2", .media = { { .set_port = true, .port = 1 } } },
	  "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=x\r\nc=IN IP4 10.0.0.2\r\n"
	  "m=audio 1 RTP/AVP 0\r\n" },
};

static void test_emit_rewrites(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(rw_cases) / sizeof(rw_cases[0]); k++) {
		const struct rw_case *c = &rw_cases[k];
		struct sdp *sdp = parse_ok(c->in), *again;

		print_message("  case %zu: %s\n", k, c->name);
		emit_expect(sdp, &c->rw, c->out);
		/* the output is itself valid SDP with the same sections */
		again = parse_ok(c->out);
		assert_int_equal(again->n_media, sdp->n_media);
		free(again);
		free(sdp);
	}
}

/* rtpengine's layout (reorder): session direction moved into the media, m= then its
 * non-attribute lines, other attributes in order, a=mid, codecs in m= order with a
 * made-up a=rtpmap for static types, direction, a=rtcp, a=rtcp-mux, `append` with
 * a=ptime before its ICE lines; a rejected section is its m= line alone. */
static void test_emit_reorder(void **state)
{
	(void)state;
	struct sdp *sdp = parse_ok(
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		"a=sendonly\r\na=tool:x\r\n"
		"m=audio 4000 RTP/AVP 0 3 101\r\ni=voice\r\na=mid:a\r\na=rtcp-mux\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=rtcp-fb:101 nack\r\n"
		"a=fmtp:101 0-15\r\na=x:1\r\na=rtcp:4001\r\n"
		"m=video 0 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n");
	struct sdp_rewrite *rw = calloc(1, sizeof(*rw));

	rw->reorder = true;
	rw->media[0] = (struct sdp_media_rewrite){ .set_port = true, .port = 30000,
		.addr = "192.0.2.1", .rewrite_rtcp = true, .write_rtcp = true,
		.rtcp_port = 30001, .rtcp_mux = SDP_MUX_KEEP,
		.append = "a=setup:actpass\r\na=ice-ufrag:u\r\na=candidate:c\r\n" };
	rw->media[1] = (struct sdp_media_rewrite){ .set_port = true, .port = 0 };
	emit_expect(sdp, rw,
		"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		"a=tool:x\r\n"
		"m=audio 30000 RTP/AVP 0 3 101\r\ni=voice\r\nc=IN IP4 192.0.2.1\r\na=x:1\r\n"
		"a=mid:a\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:3 GSM/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp-fb:101 nack\r\n"
		"a=sendonly\r\na=rtcp:30001\r\na=rtcp-mux\r\na=setup:actpass\r\na=ptime:20\r\n"
		"a=ice-ufrag:u\r\na=candidate:c\r\n"
		"m=video 0 RTP/AVP 96\r\n");
	free(rw);
	free(sdp);
}

static void test_emit_oom(void **state)
{
	struct sdp *sdp = parse_ok(BARESIP_OFFER);
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	sb.oom = true;
	assert_int_equal(sdp_emit(sdp, NULL, &sb), -ENOMEM);
	sb_free(&sb);
	free(sdp);
}

/* ---- accessors ---------------------------------------------------------------- */

static void test_attr(void **state)
{
	struct sdp *sdp = parse_ok(WEBRTC_SDP);
	struct sdp_str v;

	(void)state;
	assert_true(sdp_attr(sdp, 0, "rtpmap", 0, &v));
	assert_str(v, "111 opus/48000/2");
	assert_true(sdp_attr(sdp, 0, "rtpmap", 1, &v));
	assert_str(v, "126 telephone-event/8000");
	assert_false(sdp_attr(sdp, 0, "rtpmap", 2, &v));
	assert_true(sdp_attr(sdp, 0, "rtcp-mux", 0, &v));
	assert_int_equal(v.len, 0);
	assert_true(sdp_attr(sdp, 0, "rtcp", 0, &v));       /* not confused with rtcp-mux */
	assert_str(v, "9 IN IP4 0.0.0.0");
	assert_false(sdp_attr(sdp, 0, "rtcp", 1, NULL));
	assert_true(sdp_attr(sdp, -1, "group", 0, &v));
	assert_str(v, "BUNDLE 0");
	assert_false(sdp_attr(sdp, -1, "rtpmap", 0, &v));   /* media attrs not at session */
	assert_false(sdp_attr(sdp, 0, "group", 0, &v));     /* and vice versa */
	assert_true(sdp_attr(sdp, -1, "msid-semantic", 0, &v));
	assert_str(v, " WMS stream1");
	assert_false(sdp_attr(sdp, 1, "rtpmap", 0, &v));    /* no such media */
	assert_false(sdp_attr(sdp, 0, "rtp", 0, &v));       /* no prefix match */
	assert_true(sdp_attr(sdp, 0, "ice-lite", 0, NULL));
	free(sdp);
}

#define BUNDLE_SDP \
	"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" \
	"a=group:LS a v\r\na=group:BUNDLE v a x v\r\na=group:BUNDLEX a\r\n" \
	"a=group:BUNDLE d\r\n" \
	"m=audio 4000 RTP/AVP 0\r\na=mid:a\r\n" \
	"m=video 4002 RTP/AVP 96\r\na=mid:v\r\na=bundle-only\r\n" \
	"m=audio 0 RTP/AVP 0\r\na=mid:d\r\n"

static void test_bundle_group(void **state)
{
	struct sdp *sdp = parse_ok(BUNDLE_SDP);
	unsigned idx[SDP_MAX_MEDIA];

	(void)state;
	/* unknown mid x and the repeated v are skipped; order kept: tagged first */
	assert_int_equal(sdp_bundle_group(sdp, 0, idx), 2);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 0);
	assert_int_equal(sdp_bundle_group(sdp, 1, idx), 1);    /* BUNDLEX is not BUNDLE */
	assert_int_equal(idx[0], 2);
	assert_int_equal(sdp_bundle_group(sdp, 2, idx), -ENOENT);
	free(sdp);
	sdp = parse_ok(WEBRTC_SDP);
	assert_int_equal(sdp_bundle_group(sdp, 0, idx), 1);
	free(sdp);
}

static void test_media_ssrc(void **state)
{
	static const char body[] =
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\na=ssrc:4294967295 cname:x\r\na=ssrc:7 cname:x\r\n"
		"m=audio 4002 RTP/AVP 0\r\na=ssrc:4294967296 cname:x\r\n"
		"m=audio 4004 RTP/AVP 0\r\na=ssrc-group:FID 1 2\r\n";
	struct sdp *sdp = parse_ok(body);
	uint32_t v = 0;

	(void)state;
	assert_true(sdp_media_ssrc(sdp, 0, &v));
	assert_int_equal(v, 4294967295u);
	assert_false(sdp_media_ssrc(sdp, 1, &v));      /* out of range */
	assert_false(sdp_media_ssrc(sdp, 2, &v));      /* ssrc-group is not ssrc */
	assert_false(sdp_media_ssrc(sdp, 3, &v));
	free(sdp);
}

static void test_emit_bundle_drops(void **state)
{
	struct sdp *sdp = parse_ok(BUNDLE_SDP);
	struct sdp_rewrite rw = { .drop_bundle_groups = true,
				  .media = { [1] = { .drop_bundle_only = true } } };

	(void)state;
	emit_expect(sdp, &rw,
		    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		    "a=group:LS a v\r\na=group:BUNDLEX a\r\n"
		    "m=audio 4000 RTP/AVP 0\r\na=mid:a\r\n"
		    "m=video 4002 RTP/AVP 96\r\na=mid:v\r\n"
		    "m=audio 0 RTP/AVP 0\r\na=mid:d\r\n");
	free(sdp);
}

static void test_dir_name(void **state)
{
	(void)state;
	assert_null(sdp_dir_name(SDP_DIR_NONE));
	assert_string_equal(sdp_dir_name(SDP_DIR_SENDRECV), "sendrecv");
	assert_string_equal(sdp_dir_name(SDP_DIR_SENDONLY), "sendonly");
	assert_string_equal(sdp_dir_name(SDP_DIR_RECVONLY), "recvonly");
	assert_string_equal(sdp_dir_name(SDP_DIR_INACTIVE), "inactive");
}

static void test_rtpmap(void **state)
{
	struct sdp_pt pts[8];
	struct sdp *sdp;
	int n;

	(void)state;
	sdp = parse_ok(BARESIP_OFFER);
	n = sdp_rtpmap(sdp, 0, pts, 8);
	assert_int_equal(n, 3);
	assert_int_equal(pts[0].pt, 0);
	assert_true(pts[0].rtpmap);
	assert_str(pts[0].enc, "PCMU");
	assert_int_equal(pts[0].clock, 8000);
	assert_int_equal(pts[0].channels, 1);
	assert_int_equal(pts[0].fmtp.len, 0);
	assert_int_equal(pts[2].pt, 101);
	assert_str(pts[2].enc, "telephone-event");
	assert_str(pts[2].fmtp, "0-15");
	assert_int_equal(sdp_rtpmap(sdp, 0, pts, 2), -E2BIG);
	assert_int_equal(sdp_rtpmap(sdp, 1, pts, 8), -EINVAL);
	free(sdp);

	/* static types without rtpmap, opus stereo, unknown dynamic type, bad rtpmap ignored */
	sdp = parse_ok(SIMPLE_HEAD "m=audio 1 RTP/AVP 9 111 96 0 18 97\r\n"
				   "a=rtpmap:111 opus/48000/2\r\na=rtpmap:97 broken\r\n"
				   "a=rtpmap:111 other/8000\r\na=fmtp:18 annexb=no\r\n"
				   "a=rtpmap:200 x/8000\r\na=rtpmap:0 PCMU/8000/0\r\n");
	n = sdp_rtpmap(sdp, 0, pts, 8);
	assert_int_equal(n, 6);
	assert_false(pts[0].rtpmap);
	assert_str(pts[0].enc, "G722");
	assert_int_equal(pts[0].clock, 8000);
	assert_true(pts[1].rtpmap);
	assert_str(pts[1].enc, "opus");
	assert_int_equal(pts[1].clock, 48000);
	assert_int_equal(pts[1].channels, 2);
	assert_int_equal(pts[2].pt, 96);
	assert_int_equal(pts[2].enc.len, 0);
	assert_int_equal(pts[2].clock, 0);
	assert_false(pts[3].rtpmap);             /* PCMU/8000/0 rejected: 0 channels */
	assert_str(pts[3].enc, "PCMU");
	assert_str(pts[4].enc, "G729");
	assert_str(pts[4].fmtp, "annexb=no");
	assert_false(pts[5].rtpmap);
	assert_int_equal(pts[5].enc.len, 0);
	free(sdp);

	/* non-RTP formats */
	sdp = parse_ok(MULTI_SDP);
	assert_int_equal(sdp_rtpmap(sdp, 2, pts, 8), -EINVAL);
	assert_int_equal(sdp_rtpmap(sdp, 1, pts, 8), 1);
	assert_str(pts[0].enc, "H264");
	assert_int_equal(pts[0].clock, 90000);
	assert_str(pts[0].fmtp, "profile-level-id=42e01f");
	free(sdp);
	sdp = parse_ok(SIMPLE_HEAD "m=audio 1 RTP/AVP 128\r\n");
	assert_int_equal(sdp_rtpmap(sdp, 0, pts, 8), -EINVAL);
	free(sdp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_emit_reorder),
		cmocka_unit_test(test_parse_details),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_emit_identity),
		cmocka_unit_test(test_emit_normalises),
		cmocka_unit_test(test_emit_appends),
		cmocka_unit_test(test_emit_rewrites),
		cmocka_unit_test(test_emit_oom),
		cmocka_unit_test(test_attr),
		cmocka_unit_test(test_bundle_group),
		cmocka_unit_test(test_media_ssrc),
		cmocka_unit_test(test_emit_bundle_drops),
		cmocka_unit_test(test_dir_name),
		cmocka_unit_test(test_rtpmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
