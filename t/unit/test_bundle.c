/* BUNDLE groups (daemon/bundle.c): groups formed from SDP, pruned by an answer, written
 * back toward a side, and the demultiplexer's choice of stream per packet. Parties and
 * media are built by hand, as the control thread would have them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/bundle.h"
#include "party_fixture.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

#define OFFER \
	"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" \
	"a=group:BUNDLE a v\r\n" \
	"m=audio 4000 RTP/AVP 0 101\r\na=mid:a\r\n" \
	"m=video 0 RTP/AVP 96 97\r\na=mid:v\r\na=bundle-only\r\n" \
	"m=audio 4004 RTP/AVP 8\r\na=mid:x\r\n"
#define ANSWER_REJECT_V \
	"v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n" \
	"m=audio 5000 RTP/AVP 0\r\n" \
	"m=video 0 RTP/AVP 96\r\n" \
	"m=audio 5004 RTP/AVP 8\r\n"

struct fixture {
	struct party a, b;
	struct media ma[3], mb[3];
	struct sdp sdp;
};

static struct fixture *setup_offer(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fixture_party(&f->a, f->ma, 3);
	fixture_party(&f->b, f->mb, 3);
	f->a.peer = &f->b;
	f->b.peer = &f->a;
	assert_int_equal(sdp_parse(&f->sdp, OFFER, strlen(OFFER), NULL), 0);
	bundle_sdp_fix(&f->sdp);
	bundle_in(&f->sdp, &f->a, &f->b, true);
	return f;
}

static void test_offer_forms_group(void **state)
{
	struct fixture *f = setup_offer();

	(void)state;
	assert_int_equal(f->sdp.media[1].port, 4000);  /* bundle-only: the group's port */
	assert_true(f->ma[0].bundle_tag);
	assert_ptr_equal(f->ma[1].bundle, &f->ma[0]);
	assert_null(f->ma[2].bundle);
	assert_false(f->ma[2].bundle_tag);
	assert_string_equal(f->ma[1].mid, "v");
	assert_null(f->mb[0].bundle);                   /* the answerer decides for itself */
	free(f);
}

static uint8_t *rtp(uint8_t *b, unsigned pt, uint32_t ssrc)
{
	memset(b, 0, 12);
	b[0] = 0x80;
	b[1] = (uint8_t)pt;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	return b;
}

static uint8_t *rtcp_sr(uint8_t *b, uint32_t ssrc)
{
	memset(b, 0, 28);
	b[0] = 0x80;
	b[1] = 200;
	b[3] = 6;
	b[4] = (uint8_t)(ssrc >> 24);
	b[5] = (uint8_t)(ssrc >> 16);
	b[6] = (uint8_t)(ssrc >> 8);
	b[7] = (uint8_t)ssrc;
	return b;
}

static void test_demux(void **state)
{
	struct fixture *f = setup_offer();
	struct stream *s = &f->ma[0].rtp;
	uint8_t b[64];
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	static const uint8_t dtls[13] = { 22, 0xfe, 0xfd };

	(void)state;
	assert_ptr_equal(bundle_demux(s, rtp(b, 0, 1), 12), s);
	assert_ptr_equal(bundle_demux(s, rtp(b, 101, 1), 12), s);
	assert_ptr_equal(bundle_demux(s, rtp(b, 96 | 0x80, 7), 12), &f->ma[1].rtp);  /* marker */
	assert_true(f->ma[1].rtp.has_ssrc);
	assert_int_equal(f->ma[1].rtp.ssrc, 7);
	assert_ptr_equal(bundle_demux(s, rtp(b, 97, 8), 12), &f->ma[1].rtp);
	/* PT 8 belongs to the third section, which is not in the group */
	assert_null(bundle_demux(s, rtp(b, 8, 1), 12));
	/* RTCP by sender SSRC (the member's latest), else the tagged section's */
	assert_ptr_equal(bundle_demux(s, rtcp_sr(b, 8), 28), &f->ma[1].rtp);
	assert_ptr_equal(bundle_demux(&f->ma[0].rtcp, rtcp_sr(b, 8), 28), &f->ma[1].rtcp);
	assert_ptr_equal(bundle_demux(s, rtcp_sr(b, 1), 28), s);
	/* not RTP: the transport's own */
	assert_ptr_equal(bundle_demux(s, stun, sizeof(stun)), s);
	assert_ptr_equal(bundle_demux(s, dtls, sizeof(dtls)), s);
	assert_ptr_equal(bundle_demux(s, b, 3), s);
	/* sending: a member's streams leave through the tagged section's */
	f->ma[0].rtcp_mux = true;
	assert_ptr_equal(stream_transport(&f->ma[1].rtp), &f->ma[0].rtp);
	assert_ptr_equal(stream_transport(&f->ma[1].rtcp), &f->ma[0].rtp);
	f->ma[0].rtcp_mux = false;
	assert_ptr_equal(stream_transport(&f->ma[1].rtcp), &f->ma[0].rtcp);
	assert_ptr_equal(stream_transport(&f->ma[2].rtp), &f->ma[2].rtp);
	free(f);
}

static void emit_answer(struct fixture *f, const char *answer, struct strbuf *out)
{
	struct sdp *ans = malloc(sizeof(*ans));
	struct sdp_rewrite *rw = calloc(1, sizeof(*rw));
	struct strbuf lines[SDP_MAX_MEDIA + 1];

	assert_non_null(ans);
	assert_non_null(rw);
	for (unsigned i = 0; i <= SDP_MAX_MEDIA; i++)
		sb_init(&lines[i]);
	assert_int_equal(sdp_parse(ans, answer, strlen(answer), NULL), 0);
	bundle_in(ans, &f->b, &f->a, false);
	for (unsigned i = 0; i < ans->n_media; i++) {
		rw->media[i].set_port = true;
		rw->media[i].port = ans->media[i].port ? f->ma[i].port : 0;
		rw->media[i].rtcp_port = (uint16_t)(rw->media[i].port + 1);
	}
	bundle_out(ans, &f->a, false, rw, lines);
	for (unsigned i = 0; i < ans->n_media; i++)
		rw->media[i].append = lines[i].len ? lines[i].buf : NULL;
	rw->append = lines[ans->n_media].len ? lines[ans->n_media].buf : NULL;
	assert_int_equal(sdp_emit(ans, rw, out), 0);
	for (unsigned i = 0; i <= SDP_MAX_MEDIA; i++)
		sb_free(&lines[i]);
	free(rw);
	free(ans);
}

static void test_answer_keeps_group(void **state)
{
	struct fixture *f = setup_offer();
	struct strbuf out;
	const char *ans =
		"v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
		"a=group:BUNDLE x\r\n"
		"m=audio 5000 RTP/AVP 0\r\n"
		"m=video 5002 RTP/AVP 96\r\na=mid:v\r\n"
		"m=audio 5004 RTP/AVP 8\r\na=mid:x\r\n";

	(void)state;
	sb_init(&out);
	emit_answer(f, ans, &out);
	/* the answerer's own group (one section) is dropped; the offerer's is written with
	 * the tagged section's port for every member and a=mid where the answer had none */
	assert_string_equal(out.buf,
		"v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
		"a=group:BUNDLE a v\r\n"
		"m=audio 30000 RTP/AVP 0\r\na=mid:a\r\n"
		"m=video 30000 RTP/AVP 96\r\na=mid:v\r\n"
		"m=audio 30004 RTP/AVP 8\r\na=mid:x\r\n");
	sb_free(&out);
	free(f);
}

static void test_answer_rejects_member(void **state)
{
	struct fixture *f = setup_offer();
	struct strbuf out;

	(void)state;
	sb_init(&out);
	emit_answer(f, ANSWER_REJECT_V, &out);
	assert_null(f->ma[1].bundle);
	assert_true(f->ma[0].bundle_tag);
	assert_non_null(strstr(out.buf, "a=group:BUNDLE a\r\n"));
	assert_non_null(strstr(out.buf, "m=video 0 RTP/AVP 96\r\na=mid:v\r\n"));
	sb_free(&out);
	free(f);
}

static void test_answer_rejects_tagged(void **state)
{
	struct fixture *f = setup_offer();
	struct strbuf out;
	const char *ans =
		"v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
		"m=audio 0 RTP/AVP 0\r\nm=video 5002 RTP/AVP 96\r\nm=audio 5004 RTP/AVP 8\r\n";

	(void)state;
	sb_init(&out);
	emit_answer(f, ans, &out);
	assert_false(f->ma[0].bundle_tag);
	assert_null(f->ma[1].bundle);
	assert_null(strstr(out.buf, "a=group"));
	assert_non_null(strstr(out.buf, "m=video 30002 "));
	sb_free(&out);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offer_forms_group),
		cmocka_unit_test(test_demux),
		cmocka_unit_test(test_answer_keeps_group),
		cmocka_unit_test(test_answer_rejects_member),
		cmocka_unit_test(test_answer_rejects_tagged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
