/* Codec control: NG flag decoding, offer/answer policy, and the SDP it rewrites.
 * Offer and answer cases are table driven: SDP m= sections in, flags, the expected
 * lists (as "pt:name ..." strings) and decisions out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/codec_policy.h"
#include "../../daemon/ng_request.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static char sdp_text[4096];

/* "8 101" + rtpmap lines -> SDP body with one audio section. */
static const char *body(const char *mline, const char *attrs)
{
	snprintf(sdp_text, sizeof(sdp_text),
		 "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio 20002 RTP/AVP %s\r\n%s", mline, attrs);
	return sdp_text;
}

static void list_of(const char *mline, const char *attrs, struct cp_list *l)
{
	struct sdp *sdp = malloc(sizeof(*sdp));
	const char *err = NULL;

	assert_non_null(sdp);
	body(mline, attrs);
	if (sdp_parse(sdp, sdp_text, strlen(sdp_text), &err))
		fail_msg("sdp: %s", err ? err : "?");
	assert_int_equal(cp_list_from_sdp(sdp, 0, l), 0);
	free(sdp);
}

/* "8:PCMA/8000 101:telephone-event/8000" */
static const char *describe(const struct cp_list *l)
{
	static char buf[1024];
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < l->n; i++) {
		char name[64];

		cp_codec_name(&l->c[i], name, sizeof(name));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u:%s", i ? " " : "",
					l->c[i].pt, name);
	}
	return buf;
}

/* Flags from a bencoded request dictionary (as Kamailio sends it). */
static void decode(const char *wire, struct arena *a, struct ng_request *r)
{
	struct bval *d;
	const char *err = NULL;

	assert_int_equal(bv_decode(a, wire, strlen(wire), &d, NULL), 0);
	if (ng_request_decode(d, r, &err))
		fail_msg("decode: %s", err ? err : "?");
}

static void flags_of(const char *const *strs, struct ng_codec_flags *f)
{
	memset(f, 0, sizeof(*f));
	for (; *strs; strs++)
		assert_true(ng_codec_flag(f, *strs, strlen(*strs)));
}

#define TE101 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"

/* ---- flag decoding ---- */

static void test_flags_dict(void **state)
{
	/* the offer of the ng-samples "transcode" scenario, minus the SDP */
	const char *wire = "d5:codecd4:maskl4:PCMAe9:transcodel4:PCMUee7:call-id3:abc"
			   "8:from-tag1:f7:command5:offer3:sdp3:v=05:ptimei30e"
			   "13:ptime-reverse2:40e";
	struct arena a;
	struct ng_request r;

	(void)state;
	arena_init(&a, 0);
	decode(wire, &a, &r);
	assert_int_equal(r.codec.n[NG_CODEC_MASK], 1);
	assert_true(ng_codec_name_is(&r.codec.list[NG_CODEC_MASK][0], "PCMA"));
	assert_int_equal(r.codec.n[NG_CODEC_TRANSCODE], 1);
	assert_true(ng_codec_name_is(&r.codec.list[NG_CODEC_TRANSCODE][0], "PCMU"));
	assert_int_equal(r.codec.ptime, 30);
	assert_int_equal(r.codec.ptime_reverse, 40);
	assert_true(ng_codec_any(&r.codec));
	assert_int_equal(r.unknown_flags, 0);
	arena_reset(&a);
}

static void test_flags_strings(void **state)
{
	const char *wire = "d7:call-id3:abc8:from-tag1:f7:command5:offer3:sdp3:v=0"
			   "5:flagsl15:codec-mask-PCMA28:codec-transcode-opus/48000/2"
			   "15:codec-strip-all17:codec-except-G72216:always-transcode"
			   "8:ptime=2031:codec-transcode-telephone-event14:codec-offer=G7"
			   "15:codec-accept-G7" "9:codec-set" "11:something-1ee";
	struct arena a;
	struct ng_request r;
	struct ng_codec_name enc, fmtp;
	unsigned clock, channels;

	(void)state;
	arena_init(&a, 0);
	decode(wire, &a, &r);
	assert_int_equal(r.codec.n[NG_CODEC_MASK], 1);
	assert_int_equal(r.codec.n[NG_CODEC_TRANSCODE], 3);
	assert_true(ng_codec_name_is(&r.codec.list[NG_CODEC_TRANSCODE][1], "telephone-event"));
	assert_true(ng_codec_name_is(&r.codec.list[NG_CODEC_TRANSCODE][2], "G7"));
	assert_int_equal(r.codec.n[NG_CODEC_STRIP], 1);
	assert_true(ng_codec_name_is(&r.codec.list[NG_CODEC_STRIP][0], "all"));
	assert_int_equal(r.codec.n[NG_CODEC_EXCEPT], 1);
	assert_int_equal(r.codec.n[NG_CODEC_ACCEPT], 1);
	assert_true(r.codec.always_transcode);
	assert_int_equal(r.codec.ptime, 20);
	assert_int_equal(r.codec.dropped, 1);           /* "codec-set" without a name */
	assert_int_equal(r.unknown_flags, 1);           /* "something-1" */

	ng_codec_name_split(&r.codec.list[NG_CODEC_TRANSCODE][0], &enc, &clock, &channels, &fmtp);
	assert_int_equal(enc.len, 4);
	assert_memory_equal(enc.s, "opus", 4);
	assert_int_equal(clock, 48000);
	assert_int_equal(channels, 2);
	assert_int_equal(fmtp.len, 0);
	arena_reset(&a);
}

static void test_flags_errors(void **state)
{
	static const char *const bad[] = {
		"d7:command5:offer3:sdp3:v=07:call-id1:c8:from-tag1:f5:codec4:PCMAe",
		"d7:command5:offer3:sdp3:v=07:call-id1:c8:from-tag1:f5:codecd4:maskl"
		"i5eeee",
		"d7:command5:offer3:sdp3:v=07:call-id1:c8:from-tag1:f5:ptimei0ee",
		"d7:command5:offer3:sdp3:v=07:call-id1:c8:from-tag1:f5:ptime2:x1e",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct arena a;
		struct bval *d;
		struct ng_request r;
		const char *err = NULL;

		arena_init(&a, 0);
		assert_int_equal(bv_decode(&a, bad[i], strlen(bad[i]), &d, NULL), 0);
		assert_int_equal(ng_request_decode(d, &r, &err), -EINVAL);
		assert_non_null(err);
		arena_reset(&a);
	}
}

static void test_name_split(void **state)
{
	struct ng_codec_name n = { "opus/48000/2/useinbandfec=1;stereo=0", 36 }, enc, fmtp;
	unsigned clock, channels;

	(void)state;
	ng_codec_name_split(&n, &enc, &clock, &channels, &fmtp);
	assert_int_equal(enc.len, 4);
	assert_int_equal(clock, 48000);
	assert_int_equal(channels, 2);
	assert_int_equal(fmtp.len, strlen("useinbandfec=1;stereo=0"));
	n = (struct ng_codec_name){ "PCMU", 4 };
	ng_codec_name_split(&n, &enc, &clock, &channels, &fmtp);
	assert_int_equal(enc.len, 4);
	assert_int_equal(clock, 0);
	assert_int_equal(channels, 0);
}

/* ---- offer / answer table ---- */

struct oa_case {
	const char *name;
	const char *a_mline, *a_attrs;          /* A's offer */
	const char *flags[8];                   /* offer flags (NULL-terminated) */
	const char *want_b;                     /* what B is offered */
	const char *want_a;                     /* what A may use */
	bool offer_changed;
	const char *b_mline, *b_attrs;          /* B's answer */
	const char *answer_flags[4];
	const char *want_to_a;                  /* what A is answered */
	bool transcode;
	const char *a_codec, *b_codec;          /* when transcoding */
	int a_te, b_te;
	unsigned a_ptime, b_ptime;
	bool remap;
};

static const struct oa_case cases[] = {
	{ "ng-samples transcode: mask PCMA, transcode PCMU",
	  "8 101", "a=rtpmap:8 PCMA/8000\r\n" TE101 "a=ptime:20\r\n",
	  { "codec-mask-PCMA", "codec-transcode-PCMU" },
	  "0:PCMU/8000 101:telephone-event/8000", "8:PCMA/8000 101:telephone-event/8000", true,
	  "0 101", "a=rtpmap:0 PCMU/8000\r\n" TE101 "a=ptime:20\r\n", { 0 },
	  "8:PCMA/8000 101:telephone-event/8000", true, "PCMA/8000", "PCMU/8000", 101, 101,
	  20, 20, false },
	{ "no flags: nothing changes, forwarded",
	  "0 8 101", "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" TE101, { 0 },
	  "0:PCMU/8000 8:PCMA/8000 101:telephone-event/8000",
	  "0:PCMU/8000 8:PCMA/8000 101:telephone-event/8000", false,
	  "8 101", "a=rtpmap:8 PCMA/8000\r\n" TE101, { 0 },
	  "8:PCMA/8000 101:telephone-event/8000", false, NULL, NULL, 101, 101, 0, 0, false },
	{ "transcode offered but B picks A's codec: forwarded",
	  "8 101", "a=rtpmap:8 PCMA/8000\r\n" TE101, { "codec-transcode-PCMU" },
	  "8:PCMA/8000 0:PCMU/8000 101:telephone-event/8000",
	  "8:PCMA/8000 101:telephone-event/8000", true,
	  "8 0 101", "a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n" TE101, { 0 },
	  "8:PCMA/8000 101:telephone-event/8000", false, NULL, NULL, 101, 101, 0, 0, false },
	{ "strip PCMA, static PCMU without rtpmap",
	  "0 8 9 101", "a=rtpmap:9 G722/8000\r\n" TE101, { "codec-strip-PCMA" },
	  "0:PCMU/8000 9:G722/8000 101:telephone-event/8000",
	  "0:PCMU/8000 9:G722/8000 101:telephone-event/8000", true,
	  "9 101", "a=rtpmap:9 G722/8000\r\n" TE101, { 0 },
	  "9:G722/8000 101:telephone-event/8000", false, NULL, NULL, 101, 101, 0, 0, false },
	{ "strip all (events too) except G722, transcode PCMU: static 0 reused",
	  "8 9 101", TE101, { "codec-strip-all", "codec-except-G722", "codec-transcode-PCMU" },
	  "9:G722/8000 0:PCMU/8000", "9:G722/8000", true,
	  "0", "a=rtpmap:0 PCMU/8000\r\n", { 0 },
	  "9:G722/8000", true, "G722/8000", "PCMU/8000", -1, -1, 0, 0, false },
	{ "strip all, offer PCMA that A has: A's own again, forwarded",
	  "0 8 101", TE101, { "codec-strip-all", "codec-transcode-PCMA" },
	  "8:PCMA/8000", "8:PCMA/8000", true,
	  "8", "", { 0 },
	  "8:PCMA/8000", false, NULL, NULL, -1, -1, 0, 0, false },
	{ "mask all except PCMU: events A offered but B was not offered are not answered",
	  "0 8 101", TE101, { "codec-mask-all", "codec-except-PCMU" },
	  "0:PCMU/8000", "0:PCMU/8000 8:PCMA/8000 101:telephone-event/8000", true,
	  "0", "", { 0 },
	  "0:PCMU/8000", false, NULL, NULL, -1, -1, 0, 0, false },
	{ "opus added: new dynamic type and telephone-event/48000",
	  "0 101", TE101, { "codec-transcode-opus" },
	  "0:PCMU/8000 96:opus/48000/2 101:telephone-event/8000 97:telephone-event/48000",
	  "0:PCMU/8000 101:telephone-event/8000", true,
	  "96 97", "a=rtpmap:96 opus/48000/2\r\na=rtpmap:97 telephone-event/48000\r\n", { 0 },
	  "0:PCMU/8000 101:telephone-event/8000", true, "PCMU/8000", "opus/48000/2", 101, 97,
	  0, 0, false },
	{ "B without telephone-event: transcoded for DTMF",
	  "0 101", TE101, { "codec-transcode-PCMA" },
	  "0:PCMU/8000 8:PCMA/8000 101:telephone-event/8000", "0:PCMU/8000 101:telephone-event/8000",
	  true,
	  "8", "", { 0 },
	  "0:PCMU/8000 101:telephone-event/8000", true, "PCMU/8000", "PCMA/8000", 101, -1,
	  0, 0, false },
	{ "same codec, B lacks events: PCMU<->PCMU with DTMF conversion",
	  "0 101", TE101, { "codec-transcode-G722" },
	  "0:PCMU/8000 9:G722/8000 101:telephone-event/8000", "0:PCMU/8000 101:telephone-event/8000",
	  true,
	  "0", "", { 0 },
	  "0:PCMU/8000 101:telephone-event/8000", true, "PCMU/8000", "PCMU/8000", 101, -1,
	  0, 0, false },
	{ "A without events, telephone-event asked for: B gets it, A does not",
	  "0", "", { "codec-transcode-telephone-event" },
	  "0:PCMU/8000 96:telephone-event/8000", "0:PCMU/8000", true,
	  "0 96", "a=rtpmap:96 telephone-event/8000\r\n", { 0 },
	  "0:PCMU/8000", true, "PCMU/8000", "PCMU/8000", -1, 96, 0, 0, false },
	{ "payload types renumbered by B: forwarded with a map",
	  "96 101", "a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/48000\r\n",
	  { "codec-transcode-PCMU" },
	  "96:opus/48000/2 0:PCMU/8000 101:telephone-event/48000 97:telephone-event/8000",
	  "96:opus/48000/2 101:telephone-event/48000", true,
	  "111 100", "a=rtpmap:111 opus/48000/2\r\na=rtpmap:100 telephone-event/48000\r\n",
	  { 0 },
	  "96:opus/48000/2 101:telephone-event/48000", false, NULL, NULL, 101, 100, 0, 0,
	  true },
	{ "ptime 30 towards B: repacketised",
	  "0", "a=ptime:20\r\n", { "ptime=30" },
	  "0:PCMU/8000", "0:PCMU/8000", false,
	  "0", "a=ptime:30\r\n", { 0 },
	  "0:PCMU/8000", true, "PCMU/8000", "PCMU/8000", -1, -1, 20, 30, false },
	{ "always-transcode",
	  "8", "", { "always-transcode" },
	  "8:PCMA/8000", "8:PCMA/8000", false,
	  "8", "", { 0 },
	  "8:PCMA/8000", true, "PCMA/8000", "PCMA/8000", -1, -1, 0, 0, false },
	{ "accept picks A's codec; consume hides PCMU and PCMA",
	  "0 8 101", TE101, { "codec-consume-PCMU", "codec-mask-PCMA", "codec-transcode-G729",
			      "codec-accept-PCMA" },
	  "18:G729/8000 101:telephone-event/8000",
	  "0:PCMU/8000 8:PCMA/8000 101:telephone-event/8000", true,
	  "18 101", "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n" TE101, { 0 },
	  "8:PCMA/8000 101:telephone-event/8000", true, "PCMA/8000", "G729/8000", 101, 101,
	  0, 0, false },
	{ "GSM added through libavcodec: its static type 3; B without events",
	  "0 101", TE101, { "codec-transcode-GSM" },
	  "0:PCMU/8000 3:GSM/8000 101:telephone-event/8000",
	  "0:PCMU/8000 101:telephone-event/8000", true,
	  "3", "", { 0 },
	  "0:PCMU/8000 101:telephone-event/8000", true, "PCMU/8000", "GSM/8000", 101, -1,
	  0, 0, false },
	{ "A's speex/16000 masked, B answers G723 (static 4, no rtpmap)",
	  "97", "a=rtpmap:97 speex/16000\r\n", { "codec-mask-speex", "codec-transcode-G723" },
	  "4:G723/8000", "97:speex/16000", true,
	  "4", "", { 0 },
	  "97:speex/16000", true, "speex/16000", "G723/8000", -1, -1, 0, 0, false },
	{ "set changes Opus channels; answer's ptime forces A's packetisation",
	  "96", "a=rtpmap:96 opus/48000/2\r\na=ptime:20\r\n",
	  { "codec-set-opus/48000/1", "codec-transcode-PCMA" },
	  "96:opus/48000 8:PCMA/8000", "96:opus/48000", true,
	  "8", "", { "ptime=40" },
	  "96:opus/48000", true, "opus/48000", "PCMA/8000", -1, -1, 40, 0, false },
};

static void check_list(const char *what, const struct cp_list *l, const char *want)
{
	const char *got = describe(l);

	if (strcmp(got, want))
		fail_msg("%s: got \"%s\", want \"%s\"", what, got, want);
}

static void test_offer_answer(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		const struct oa_case *c = &cases[k];
		struct cp_list *in = malloc(sizeof(*in)), *bl = malloc(sizeof(*bl));
		struct cp_offer *o = malloc(sizeof(*o));
		struct cp_answer *r = malloc(sizeof(*r));
		struct ng_codec_flags *f = malloc(sizeof(*f)), *af = malloc(sizeof(*af));
		char name[64];

		print_message("  case %zu: %s\n", k + 1, c->name);
		list_of(c->a_mline, c->a_attrs, in);
		flags_of(c->flags, f);
		flags_of(c->answer_flags, af);
		assert_int_equal(cp_offer(in, f, o), 0);
		check_list("offer to B", &o->b, c->want_b);
		check_list("A may use", &o->a, c->want_a);
		assert_int_equal(o->changed, c->offer_changed);

		list_of(c->b_mline, c->b_attrs, bl);
		assert_int_equal(cp_answer(o, bl, af, r), 0);
		check_list("answer to A", &r->to_a, c->want_to_a);
		assert_int_equal(r->transcode, c->transcode);
		assert_int_equal(r->remap, c->remap);
		assert_int_equal(r->a_te, c->a_te);
		assert_int_equal(r->b_te, c->b_te);
		if (c->transcode) {
			cp_codec_name(&r->a_codec, name, sizeof(name));
			assert_string_equal(name, c->a_codec);
			cp_codec_name(&r->b_codec, name, sizeof(name));
			assert_string_equal(name, c->b_codec);
			assert_non_null(r->a_codec.def);
			assert_non_null(r->b_codec.def);
			assert_int_equal(r->a_ptime, c->a_ptime);
			assert_int_equal(r->b_ptime, c->b_ptime);
		}
		if (c->remap) {
			assert_int_equal(r->map_ba[111], 96);
			assert_int_equal(r->map_ba[100], 101);
			assert_int_equal(r->map_ab[96], 111);
			assert_int_equal(r->map_ab[101], 100);
			assert_int_equal(r->map_ab[0], 0);
		}
		free(in);
		free(bl);
		free(o);
		free(r);
		free(f);
		free(af);
	}
}

static void test_offer_nothing_left(void **state)
{
	struct cp_list *in = malloc(sizeof(*in));
	struct cp_offer *o = malloc(sizeof(*o));
	struct ng_codec_flags f;
	static const char *const strip[] = { "codec-strip-PCMU", NULL };

	(void)state;
	list_of("0 101", TE101, in);
	flags_of(strip, &f);
	assert_int_equal(cp_offer(in, &f, o), -EINVAL);
	free(in);
	free(o);
}

/* codec-transcode names audio codecs: a video section of the same offer (BUNDLEd audio
 * and video from a browser) keeps its own codecs, with no PCMU or telephone-event. */
static void test_offer_video_untouched(void **state)
{
	static const char *const fl[] = { "codec-mask-opus", "codec-transcode-PCMU",
					  "codec-transcode-telephone-event", NULL };
	static const char video[] =
		"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 20002 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"
		"m=video 20004 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\n"
		"a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
	struct cp_list *in = malloc(sizeof(*in));
	struct cp_offer *o = malloc(sizeof(*o));
	struct sdp *sdp = malloc(sizeof(*sdp));
	struct ng_codec_flags f;
	const char *err = NULL;

	(void)state;
	assert_int_equal(sdp_parse(sdp, video, strlen(video), &err), 0);
	flags_of(fl, &f);
	assert_int_equal(cp_list_from_sdp(sdp, 0, in), 0);
	assert_false(in->not_audio);
	assert_int_equal(cp_offer(in, &f, o), 0);
	check_list("audio offer to B", &o->b, "0:PCMU/8000 96:telephone-event/8000");
	assert_int_equal(cp_list_from_sdp(sdp, 1, in), 0);
	assert_true(in->not_audio);
	assert_int_equal(cp_offer(in, &f, o), 0);
	check_list("video offer to B", &o->b, "96:VP8/90000 97:rtx/90000");
	assert_false(o->changed);
	free(in);
	free(o);
	free(sdp);
}

static void test_answer_no_codec(void **state)
{
	struct cp_list *in = malloc(sizeof(*in)), *bl = malloc(sizeof(*bl));
	struct cp_offer *o = malloc(sizeof(*o));
	struct cp_answer *r = malloc(sizeof(*r));
	struct ng_codec_flags f = { 0 };

	(void)state;
	list_of("0 101", TE101, in);
	assert_int_equal(cp_offer(in, &f, o), 0);
	list_of("101", TE101, bl);
	assert_int_equal(cp_answer(o, bl, NULL, r), -ENOENT);
	free(in);
	free(bl);
	free(o);
	free(r);
}

/* The whole offer SDP of the ng-samples scenario through cp_rewrite + sdp_emit. */
static void test_rewrite_sample(void **state)
{
	static const char *const fl[] = { "codec-mask-PCMA", "codec-transcode-PCMU", NULL };
	struct cp_list *in = malloc(sizeof(*in));
	struct cp_offer *o = malloc(sizeof(*o));
	struct sdp *sdp = malloc(sizeof(*sdp));
	struct sdp_rewrite *rw = calloc(1, sizeof(*rw));
	struct strbuf fmt, lines, out;
	struct ng_codec_flags f;
	const char *err = NULL;

	(void)state;
	body("8 101", "a=rtpmap:8 PCMA/8000\r\n" TE101 "a=sendrecv\r\na=label:1\r\na=ptime:20\r\n");
	assert_int_equal(sdp_parse(sdp, sdp_text, strlen(sdp_text), &err), 0);
	assert_int_equal(cp_list_from_sdp(sdp, 0, in), 0);
	flags_of(fl, &f);
	assert_int_equal(cp_offer(in, &f, o), 0);
	sb_init(&fmt);
	sb_init(&lines);
	sb_init(&out);
	assert_int_equal(cp_rewrite(in, &o->b, 0, &fmt, &lines, &rw->media[0]), 0);
	assert_int_equal(sdp_emit(sdp, rw, &out), 0);
	assert_string_equal(out.buf,
		"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 20002 RTP/AVP 0 101\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=sendrecv\r\na=label:1\r\na=ptime:20\r\n");
	sb_free(&fmt);
	sb_free(&lines);
	sb_free(&out);
	free(in);
	free(o);
	free(sdp);
	free(rw);
}

/* Added codecs get their fmtp written; renumbered ones their rtpmap. */
static void test_rewrite_lines(void **state)
{
	struct cp_list *orig = calloc(1, sizeof(*orig)), *want = calloc(1, sizeof(*want));
	struct sdp_media_rewrite mr;
	struct strbuf fmt, lines;

	(void)state;
	memset(&mr, 0, sizeof(mr));
	list_of("111 0", "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n", orig);
	list_of("96 0", "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n", want);
	sb_init(&fmt);
	sb_init(&lines);
	assert_int_equal(cp_rewrite(orig, want, 30, &fmt, &lines, &mr), 0);
	assert_string_equal(mr.formats, "96 0");
	assert_string_equal(mr.codec_lines,
			    "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n");
	assert_int_equal(mr.drop_pt[111 / 8], 1u << (111 % 8));
	assert_int_equal(mr.drop_pt[0], 0);
	assert_int_equal(mr.ptime, 30);
	want->n = 0;
	assert_int_equal(cp_rewrite(orig, want, 0, &fmt, &lines, &mr), -EINVAL);
	sb_free(&fmt);
	sb_free(&lines);
	free(orig);
	free(want);
}

/* A payload type listed twice counts once (found by fuzz_codec_policy). */
/* strip in an answer request: those codecs leave the answer; never its last codec. */
static void test_strip_answer(void **state)
{
	struct cp_list *l = malloc(sizeof(*l));
	struct ng_codec_flags *f = malloc(sizeof(*f));
	const char *pcma[] = { "codec-strip-PCMA", NULL }, *all[] = { "codec-strip-all", NULL };

	(void)state;
	list_of("0 8 101", TE101, l);
	flags_of(pcma, f);
	assert_true(cp_strip_answer(f, l));
	check_list("strip PCMA", l, "0:PCMU/8000 101:telephone-event/8000");
	assert_false(cp_strip_answer(f, l));
	flags_of(all, f);
	assert_false(cp_strip_answer(f, l));
	check_list("strip all", l, "0:PCMU/8000 101:telephone-event/8000");
	free(l);
	free(f);
}

/* A rewritten answer: codecs first, then telephone-event and CN by clock rate in the
 * order the codecs use the rates (a rate none uses last). */
static void test_answer_order(void **state)
{
	struct cp_list *l = malloc(sizeof(*l));

	(void)state;
	list_of("111 63 9 0 13 110 126", "a=rtpmap:111 opus/48000/2\r\n"
		"a=rtpmap:63 red/48000/2\r\na=rtpmap:13 CN/8000\r\n"
		"a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n", l);
	cp_order_answer(l);
	check_list("webrtc", l, "111:opus/48000/2 63:red/48000/2 9:G722/8000 0:PCMU/8000 "
		   "110:telephone-event/48000 13:CN/8000 126:telephone-event/8000");
	list_of("101 0 97", TE101 "a=rtpmap:97 telephone-event/16000\r\n", l);
	cp_order_answer(l);
	check_list("rate unused", l, "0:PCMU/8000 101:telephone-event/8000 "
		   "97:telephone-event/16000");
	free(l);
}

/* A codec the build's libavcodec cannot produce is named with the reason; one sluice
 * does not know is not (ignored, as rtpengine does). */
static void test_unavailable(void **state)
{
	static const char *const ilbc[] = { "codec-transcode-PCMA", "codec-transcode-iLBC", NULL };
	static const char *const fine[] = { "codec-transcode-GSM", "codec-transcode-NOSUCH",
					     "codec-mask-iLBC", NULL };
	struct ng_codec_flags f;
	const char *why;

	(void)state;
	flags_of(ilbc, &f);
	why = cp_unavailable(&f);
	assert_non_null(why);
	assert_non_null(strstr(why, "iLBC not available"));
	flags_of(fine, &f);
	assert_null(cp_unavailable(&f));
}

static void test_duplicate_pt(void **state)
{
	struct cp_list *l = malloc(sizeof(*l));

	(void)state;
	list_of("0 0 101 96", TE101, l);
	check_list("list", l, "0:PCMU/8000 101:telephone-event/8000");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_dict),
		cmocka_unit_test(test_flags_strings),
		cmocka_unit_test(test_flags_errors),
		cmocka_unit_test(test_name_split),
		cmocka_unit_test(test_offer_answer),
		cmocka_unit_test(test_offer_nothing_left),
		cmocka_unit_test(test_offer_video_untouched),
		cmocka_unit_test(test_answer_no_codec),
		cmocka_unit_test(test_rewrite_sample),
		cmocka_unit_test(test_rewrite_lines),
		cmocka_unit_test(test_duplicate_pt),
		cmocka_unit_test(test_unavailable),
		cmocka_unit_test(test_answer_order),
		cmocka_unit_test(test_strip_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
