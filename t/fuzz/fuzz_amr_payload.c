/* libFuzzer target: untrusted AMR / AMR-WB RTP payloads (RFC 4867) into the payload
 * parser, and, when this libavcodec has AMR, into the decoders behind it.
 * Properties: no crash, no out-of-bounds, no leak; what parses rebuilds into a payload
 * that parses to the same CMR and frames (padding aside) and is no longer than the input;
 * every frame survives the storage format; the decoder returns whole 20 ms frames.
 *
 * Input: byte 0 bit0 = AMR-WB, bit1 = octet-aligned; the rest is one payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/amr_payload.h"
#include "sluice/codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static struct amr_payload a, b;

static void check_frames(bool wb)
{
	uint8_t st[1 + AMR_MAX_FRAME_BYTES];

	CHECK(a.cmr == b.cmr && a.n == b.n);
	for (unsigned i = 0; i < a.n; i++) {
		struct amr_frame f;
		int n;

		CHECK(a.f[i].ft == b.f[i].ft && a.f[i].q == b.f[i].q);
		CHECK(!memcmp(a.f[i].data, b.f[i].data, sizeof(a.f[i].data)));
		n = amr_frame_to_storage(&a.f[i], wb, st, sizeof(st));
		CHECK(n >= 1);
		CHECK(amr_frame_from_storage(st, (size_t)n, wb, &f) == n);
		CHECK(f.ft == a.f[i].ft && !memcmp(f.data, a.f[i].data, sizeof(f.data)));
	}
}

/* One decoder per format for the whole run (opening one per input would cost more
 * than the rest of the target): state carries over between inputs, as it does between
 * packets of a stream. */
static void decode(bool wb, bool oa, const uint8_t *p, size_t len, unsigned frames)
{
	static struct codec_dec *decs[2][2];
	static int16_t pcm[CODEC_MAX_DECODE];
	const struct codec_def *def = codec_get(wb ? CODEC_AMR_WB : CODEC_AMR);
	struct codec_dec **d = &decs[wb][oa];
	int n;

	if (!codec_available(def, NULL))
		return;
	if (!*d) {
		struct codec_params cp;

		codec_params_default(def, &cp);
		cp.octet_align = oa;
		if (codec_dec_create(def, &cp, d))
			abort();
	}
	n = codec_decode(*d, p, len, pcm, CODEC_MAX_DECODE);
	CHECK(n < 0 || (unsigned)n == frames * (wb ? 320u : 160u));
	CHECK(codec_dec_cmr(*d) < (int)amr_modes(wb));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[2048];
	bool wb, oa;
	int n;

	if (size < 1)
		return 0;
	wb = data[0] & 1;
	oa = data[0] & 2;
	data++;
	size--;
	if (amr_payload_parse(data, size, wb, oa, &a)) {
		decode(wb, oa, data, size, 0);
		return 0;
	}
	n = amr_payload_build(&a, wb, oa, out, sizeof(out));
	CHECK(n > 0 && (size_t)n <= size);
	CHECK(!amr_payload_parse(out, (size_t)n, wb, oa, &b));
	check_frames(wb);
	if (size <= 1500)
		decode(wb, oa, data, size, a.n);
	return 0;
}
