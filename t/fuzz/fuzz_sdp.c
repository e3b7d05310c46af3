/* libFuzzer target for the SDP module. Invariants checked:
 *  - sdp_parse() never crashes and always gives a reason on failure;
 *  - an accepted body emitted without rewrite parses again to the same sections, and
 *    emitting that again is byte-identical (emit is idempotent after normalisation);
 *  - a rewrite that sets every option still yields SDP the parser accepts, with the
 *    ports and protos asked for. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/sdp.h"
#include "sluice/strbuf.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void poke_queries(const struct sdp *sdp)
{
	static const char *const names[] = { "rtpmap", "fmtp", "rtcp", "rtcp-mux", "ice-ufrag",
					      "candidate", "sendrecv", "" };
	struct sdp_pt pts[128];
	struct sdp_str v;

	for (int i = -1; i < (int)sdp->n_media; i++) {
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			for (unsigned n = 0; n < 3 && sdp_attr(sdp, i, names[k], n, &v); n++)
				check(v.len <= SDP_MAX_LEN);
		if (i < 0)
			continue;
		check(sdp_media_conn(sdp, (unsigned)i) != NULL);
		check(sdp_dir_name(sdp_media_dir(sdp, (unsigned)i)) != NULL);
		uint32_t ssrc;
		(void)sdp_media_ssrc(sdp, (unsigned)i, &ssrc);
		int n = sdp_rtpmap(sdp, (unsigned)i, pts, 128);
		check(n >= 0 || n == -EINVAL || n == -E2BIG);
		for (int j = 0; j < n; j++)
			check(pts[j].pt < 128 && pts[j].channels >= 1 && pts[j].fmtp.s);
	}
	check(sdp_media_conn(sdp, sdp->n_media) == NULL);
	for (unsigned g = 0; g < 4; g++) {
		unsigned idx[SDP_MAX_MEDIA];
		int n = sdp_bundle_group(sdp, g, idx);

		check(n == -ENOENT || (n >= 0 && n <= (int)sdp->n_media));
		for (int j = 0; j < n; j++)
			check(idx[j] < sdp->n_media);
	}
}

/* Every option set; the input's first byte varies the enum choices. */
static void fill_rewrite(struct sdp_rewrite *rw, const struct sdp *sdp, uint8_t salt)
{
	memset(rw, 0, sizeof(*rw));
	rw->origin_addr = salt & 1 ? "2001:db8::1" : "203.0.113.1";
	rw->origin_af = salt & 2 ? SDP_AF_NONE : (salt & 1 ? SDP_AF_IP6 : SDP_AF_IP4);
	rw->session_conn = "203.0.113.2";
	rw->session_conn_af = SDP_AF_IP4;
	rw->session_name = "sluice";
	rw->remove_ice = true;
	rw->drop_bundle_groups = salt & 4;
	for (unsigned i = 0; i < sdp->n_media; i++) {
		struct sdp_media_rewrite *m = &rw->media[i];
		unsigned k = i + salt;

		m->set_port = true;
		m->port = (uint16_t)(30000 + 2 * i);
		m->af = k & 1 ? SDP_AF_IP6 : SDP_AF_NONE;
		m->addr = k & 1 ? "::1" : (k & 2 ? "203.0.113.2" : "127.0.0.1");
		m->rewrite_rtcp = true;
		m->write_rtcp = k % 3 != 0;
		m->rtcp_port = (uint16_t)(m->port + 1);
		m->full_rtcp = k & 4;
		m->rtcp_mux = (enum sdp_rtcp_mux_rw)(k % 3);
		m->remove_ice = true;
		m->proto = k & 8 ? "UDP/TLS/RTP/SAVPF" : "RTP/AVP";
		m->dir = (enum sdp_dir)(k % 5);
		m->drop_bundle_only = k & 16;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp a, b;
	static struct sdp_rewrite rw;
	const char *err = NULL;
	struct strbuf o1, o2;
	int rc;

	rc = sdp_parse(&a, (const char *)data, size, &err);
	if (rc) {
		check((rc == -EINVAL || rc == -E2BIG) && err && *err);
		return 0;
	}
	poke_queries(&a);

	sb_init(&o1);
	sb_init(&o2);
	check(sdp_emit(&a, NULL, &o1) == 0);
	/* LF input grows by one byte a line and may cross SDP_MAX_LEN */
	if (o1.len <= SDP_MAX_LEN) {
		check(sdp_parse(&b, o1.buf, o1.len, &err) == 0);
		check(b.n_media == a.n_media && b.n_lines == a.n_lines);
		for (unsigned i = 0; i < a.n_media; i++)
			check(b.media[i].port == a.media[i].port &&
			      b.media[i].port_count == a.media[i].port_count &&
			      b.media[i].n_lines == a.media[i].n_lines);
		check(sdp_emit(&b, NULL, &o2) == 0);
		check(o2.len == o1.len && memcmp(o1.buf, o2.buf, o1.len) == 0);
	}

	fill_rewrite(&rw, &a, size ? data[0] : 0);
	sb_reset(&o2);
	check(sdp_emit(&a, &rw, &o2) == 0);
	rc = sdp_parse(&b, o2.buf, o2.len, &err);
	check(rc == 0 || rc == -E2BIG);
	if (rc == 0) {
		check(b.n_media == a.n_media);
		check(!b.has_ice);
		for (unsigned i = 0; i < a.n_media; i++) {
			check(b.media[i].port == (a.media[i].port ? rw.media[i].port : 0));
			check(b.media[i].port_count == a.media[i].port_count);
			check(b.media[i].proto.len == strlen(rw.media[i].proto) &&
			      !memcmp(b.media[i].proto.s, rw.media[i].proto, b.media[i].proto.len));
			check(!b.media[i].has_ice);
			check(b.media[i].has_rtcp == rw.media[i].write_rtcp);
			if (rw.media[i].write_rtcp)
				check(b.media[i].rtcp_port == rw.media[i].rtcp_port);
			if (rw.media[i].rtcp_mux != SDP_MUX_KEEP)
				check(b.media[i].rtcp_mux == (rw.media[i].rtcp_mux == SDP_MUX_ADD));
			if (rw.media[i].dir != SDP_DIR_NONE)
				check(b.media[i].dir == rw.media[i].dir);
			check(sdp_media_conn(&b, i)->present == (b.conn.present ||
								  rw.media[i].addr));
		}
	}
	sb_free(&o1);
	sb_free(&o2);
	return 0;
}
