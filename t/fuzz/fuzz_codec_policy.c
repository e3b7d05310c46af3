/* libFuzzer target for the codec negotiation policy (daemon/codec_policy.c) on
 * untrusted SDP. The first input byte picks codec flags, the rest is the SDP.
 * Invariants checked per RTP section:
 *  - cp_offer() either refuses or gives an offer with unique payload types, all < 128,
 *    and codecs A may use are a subset of what A listed;
 *  - the SDP rewritten for that offer parses again and its m= line lists exactly the
 *    offered payload types, in order;
 *  - answering with the offer itself never fails, and A is answered only with payload
 *    types A offered. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/codec_policy.h"

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void flags_of(uint8_t salt, struct ng_codec_flags *f)
{
	static const char *const all[] = {
		"codec-mask-PCMA", "codec-transcode-PCMU", "codec-strip-all", "codec-except-opus",
		"codec-transcode-opus/48000/2", "codec-transcode-G729", "always-transcode",
		"codec-transcode-telephone-event",
	};

	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < 8; i++)
		if (salt & (1u << i))
			ng_codec_flag(f, all[i], strlen(all[i]));
}

static bool in_list(const struct cp_list *l, uint8_t pt)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->c[i].pt == pt)
			return true;
	return false;
}

static void one_media(const struct sdp *sdp, unsigned i, const struct ng_codec_flags *f)
{
	static struct cp_list in, again;
	static struct cp_offer o;
	static struct cp_answer ans;
	static struct sdp out_sdp;
	static struct sdp_rewrite rw;
	struct strbuf fmt, lines, out;
	const char *err;
	int rc;

	if (cp_list_from_sdp(sdp, i, &in))
		return;
	if (cp_offer(&in, f, &o))
		return;
	for (unsigned k = 0; k < o.b.n; k++) {
		check(o.b.c[k].pt < 128);
		for (unsigned j = k + 1; j < o.b.n; j++)
			check(o.b.c[k].pt != o.b.c[j].pt);
	}
	for (unsigned k = 0; k < o.a.n; k++)
		check(in_list(&in, o.a.c[k].pt));

	memset(&rw, 0, sizeof(rw));
	sb_init(&fmt);
	sb_init(&lines);
	sb_init(&out);
	check(cp_rewrite(&in, &o.b, o.ptime_b, &fmt, &lines, &rw.media[i]) == 0);
	check(sdp_emit(sdp, &rw, &out) == 0);
	rc = sdp_parse(&out_sdp, out.buf, out.len, &err);
	check(rc == 0 || rc == -E2BIG);
	if (rc == 0) {
		const struct sdp_str *fm = &out_sdp.media[i].formats;
		check(out_sdp.n_media == sdp->n_media);
		check(fm->len == fmt.len && !memcmp(fm->s, fmt.buf, fmt.len));
		if (cp_list_from_sdp(&out_sdp, i, &again) == 0)
			check(again.n == o.b.n);
	}
	if (cp_answer(&o, &o.b, NULL, &ans) == 0)
		for (unsigned k = 0; k < ans.to_a.n; k++)
			check(in_list(&o.a, ans.to_a.c[k].pt));
	sb_free(&fmt);
	sb_free(&lines);
	sb_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp sdp;
	struct ng_codec_flags f;
	const char *err = NULL;

	if (size < 1)
		return 0;
	flags_of(data[0], &f);
	if (sdp_parse(&sdp, (const char *)data + 1, size - 1, &err))
		return 0;
	for (unsigned i = 0; i < sdp.n_media; i++)
		one_media(&sdp, i, &f);
	return 0;
}
