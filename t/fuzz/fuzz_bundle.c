/* libFuzzer target: BUNDLE (daemon/bundle.c). The input is split at the first NUL:
 * before it an SDP (offer) whose a=group:BUNDLE lines form the groups of one side
 * (bundle_sdp_fix, bundle_in), then the same SDP as the answer (bundle_in, bundle_out);
 * after it a datagram handed to bundle_demux on every tagged section's streams.
 * Properties: no crash, no read past the input; a group's members point at a tagged
 * section of the same party; the demultiplexer returns a stream of the group (or NULL
 * for RTP of an unknown payload type); the SDP written back parses again. */
#include <stdlib.h>
#include <string.h>

#include "../../daemon/bundle.h"
#include "../unit/party_fixture.h"
#include "sluice/sdp.h"
#include "sluice/strbuf.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static struct party pa, pb;
static struct media ma[SDP_MAX_MEDIA], mb[SDP_MAX_MEDIA];
static struct sdp sdp, again;
static struct sdp_rewrite rw;
static struct strbuf lines[SDP_MAX_MEDIA + 1];

static void check_groups(const struct party *p)
{
	for (unsigned i = 0; i < p->n_media; i++) {
		const struct media *t = p->media[i]->bundle;

		if (t)
			CHECK(t->party == p && t->bundle_tag && !t->bundle);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	const uint8_t *pkt = nul ? nul + 1 : NULL;
	size_t plen = nul ? size - slen - 1 : 0;
	struct strbuf out;

	if (sdp_parse(&sdp, (const char *)data, slen, NULL))
		return 0;
	fixture_party(&pa, ma, sdp.n_media);
	fixture_party(&pb, mb, sdp.n_media);
	bundle_sdp_fix(&sdp);
	bundle_in(&sdp, &pa, &pb, true);
	check_groups(&pa);
	bundle_in(&sdp, &pb, &pa, false);
	check_groups(&pa);
	check_groups(&pb);

	memset(&rw, 0, sizeof(rw));
	for (unsigned i = 0; i <= SDP_MAX_MEDIA; i++)
		sb_init(&lines[i]);
	for (unsigned i = 0; i < sdp.n_media; i++) {
		rw.media[i].set_port = true;
		rw.media[i].port = sdp.media[i].port ? ma[i].port : 0;
	}
	bundle_out(&sdp, &pa, false, &rw, lines);
	for (unsigned i = 0; i < sdp.n_media; i++)
		rw.media[i].append = lines[i].len ? lines[i].buf : NULL;
	rw.append = lines[sdp.n_media].len ? lines[sdp.n_media].buf : NULL;
	sb_init(&out);
	if (!sdp_emit(&sdp, &rw, &out))
		CHECK(sdp_parse(&again, out.buf, out.len, NULL) == 0);
	sb_free(&out);
	for (unsigned i = 0; i <= SDP_MAX_MEDIA; i++)
		sb_free(&lines[i]);

	for (unsigned i = 0; pkt && i < pa.n_media; i++) {
		struct media *t = &ma[i];

		if (!t->bundle_tag)
			continue;
		for (int c = 0; c < 2; c++) {
			struct stream *s = c ? &t->rtcp : &t->rtp;
			struct stream *r = bundle_demux(s, pkt, plen);

			if (r)
				CHECK(r->media == t || r->media->bundle == t);
		}
	}
	return 0;
}
