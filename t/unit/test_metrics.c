/* Metrics: NG latency histogram buckets and labels (exact exposition lines), and the
 * reason label of each of kernel.c's reasons for keeping a stream in userspace. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/daemon.h"
#include "../../daemon/media_handler.h"
#include "../../daemon/metrics_internal.h"
#include "../../daemon/ng_request.h"
#include "party_fixture.h"

static void assert_line(const char *text, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line '%s' in:\n%s", line, text);
}

static void test_ng_histogram(void **state)
{
	struct metrics *m = metrics_new();
	struct strbuf sb;

	(void)state;
	assert_non_null(m);
	metrics_ng_request(m, "offer", 5, false, 50);
	metrics_ng_request(m, "offer", 5, false, 100);  /* on a bound: that bucket (le) */
	metrics_ng_request(m, "Offer", 5, true, 101);   /* names are case-insensitive */
	metrics_ng_request(m, "offer", 5, false, 3000000);      /* above the last bound */
	metrics_ng_request(m, "frobnicate", 10, true, 10);
	metrics_ng_request(m, "", 0, true, 10);                 /* no command */
	metrics_ng_request(m, "offerx", 5, false, 10);          /* only its first 5 bytes */
	metrics_ng_request(m, NULL, 0, true, 10);               /* not decodable */
	metrics_ng_request(m, "unblock DTMF", 12, false, 10);
	metrics_ng_request(NULL, "offer", 5, false, 1);         /* no metrics: ignored */
	sb_init(&sb);
	sb_putc(&sb, '\n');
	metrics_render_ng(m, &sb);
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"offer\"} 5");
	assert_line(sb.buf, "sluice_ng_errors_total{command=\"offer\"} 1");
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"answer\"} 0");
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"unknown\"} 2");
	assert_line(sb.buf, "sluice_ng_errors_total{command=\"unknown\"} 2");
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"invalid\"} 1");
	assert_line(sb.buf, "sluice_ng_errors_total{command=\"invalid\"} 1");
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"unblock DTMF\"} 1");
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"block media\"} 0");
	assert_line(sb.buf, "sluice_ng_requests_total{command=\"play DTMF\"} 0");
	assert_line(sb.buf, "sluice_ng_request_duration_seconds_bucket{command=\"offer\","
		    "le=\"0.0001\"} 3");
	assert_line(sb.buf, "sluice_ng_request_duration_seconds_bucket{command=\"offer\","
		    "le=\"0.00025\"} 4");
	assert_line(sb.buf, "sluice_ng_request_duration_seconds_bucket{command=\"offer\","
		    "le=\"2.5\"} 4");
	assert_line(sb.buf, "sluice_ng_request_duration_seconds_bucket{command=\"offer\","
		    "le=\"+Inf\"} 5");
	assert_line(sb.buf, "sluice_ng_request_duration_seconds_sum{command=\"offer\"} 3.000261");
	assert_line(sb.buf, "sluice_ng_request_duration_seconds_count{command=\"offer\"} 5");
	assert_line(sb.buf, "# TYPE sluice_ng_request_duration_seconds histogram");
	sb_free(&sb);
	metrics_free(m);
}

/* Two sides (a -> b and back), RTP and RTCP each, wired as call_wire() would. */
struct fix {
	struct config cfg;
	struct daemon d;
	struct call c;
	struct party a, b;
	struct media ma[1], mb[1];
};

static struct fix *fix_new(void)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg.kernel = KERNEL_AUTO;
	f->d.cfg = &f->cfg;
	f->d.kmod = (struct kmod *)f;   /* "loaded": never dereferenced by the checks */
	fixture_party(&f->a, f->ma, 1);
	fixture_party(&f->b, f->mb, 1);
	f->a.call = f->b.call = &f->c;
	f->a.peer = &f->b;
	f->b.peer = &f->a;
	for (int i = 0; i < 2; i++) {
		struct media *m = i ? &f->mb[0] : &f->ma[0], *pm = i ? &f->ma[0] : &f->mb[0];

		m->rtp.kslot = m->rtcp.kslot = -1;
		m->rtp.sink = &pm->rtp;
		m->rtcp.sink = &pm->rtcp;
		m->rtp.latched = m->rtp.confirmed = true;
		netaddr_parse("192.0.2.1:4000", 0, false, &m->rtp.endpoint);
	}
	return f;
}

static void test_fwd_reasons(void **state)
{
	struct fix *f = fix_new();
	struct stream *s = &f->ma[0].rtp;
	struct stream_handler h = { 0 };
	struct secure_media *sec = (struct secure_media *)&h;

	(void)state;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "pending");
	s->kslot = 3;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "kernel");
	s->kslot = -1;
	s->kerr = -ENOSPC;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "kernel_refused");
	s->kerr = 0;
	f->mb[0].rtp.latched = false;   /* the peer: nowhere to send to */
	assert_string_equal(metrics_fwd_reason(&f->d, s), "no_peer_address");
	assert_string_equal(metrics_fwd_reason(&f->d, &f->mb[0].rtp), "latching");
	assert_string_equal(metrics_fwd_reason(&f->d, &f->ma[0].rtcp), "latching");
	f->mb[0].rtp.latched = true;
	s->confirmed = false;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "latching");
	s->confirmed = true;
	s->sink = NULL;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "no_peer");
	s->sink = &f->mb[0].rtp;
	f->ma[0].rtcp_mux = true;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "rtcp_demux");
	f->ma[0].rtcp_mux = false;
	f->mb[0].bundle_tag = true;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "bundle");
	f->mb[0].bundle_tag = false;
	f->mb[0].rtp.handler = &h;      /* the peer's handler keeps this side out too */
	assert_string_equal(metrics_fwd_reason(&f->d, s), "processing");
	f->mb[0].sec = sec;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "secure");
	f->ma[0].transcoding = true;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "transcoding");
	f->a.opts.block = BLOCK_MEDIA;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "blocked");
	f->c.rec.ring = true;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "capture_ring");
	f->c.deleted = true;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "call_deleted");
	f->d.kmod = NULL;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "kernel_unavailable");
	f->cfg.kernel = KERNEL_OFF;
	assert_string_equal(metrics_fwd_reason(&f->d, s), "kernel_off");
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ng_histogram),
		cmocka_unit_test(test_fwd_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
