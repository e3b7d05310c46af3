/* libFuzzer target: untrusted RTP payloads into every decoder, the RFC 4733 parser and
 * receiver state, and a transcoding pipeline (each input is a packet train).
 * Properties: no crash, no out-of-bounds, no leak; decoders never return more samples
 * than allowed; a parsed 4733 event rebuilds to the same 4 bytes (reserved bit aside).
 *
 * Input: byte 0 picks the decoder / pipeline; the rest is a sequence of records
 *   [len:1][flags:1][payload:len]   flags bit0 = telephone-event PT, bit1 = skip a seq,
 *                                   bit2 = jump the timestamp, bit3 = lost() call */
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/codec.h"
#include "sluice/rfc4733.h"
#include "sluice/transcode.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* the libavcodec ones every Debian libavcodec has (AMR: fuzz_amr_payload) */
static const enum codec_id ids[] = { CODEC_PCMU, CODEC_PCMA, CODEC_G722, CODEC_OPUS,
				     CODEC_G729, CODEC_GSM, CODEC_SPEEX, CODEC_SPEEX_WB,
				     CODEC_G723, CODEC_L16 };
#define NIDS (sizeof(ids) / sizeof(ids[0]))

static void fuzz_4733(const uint8_t *p, size_t len, struct rfc4733_rx *rx, uint32_t ts)
{
	struct rfc4733_event ev;
	uint8_t out[4];

	if (rfc4733_parse(p, len, &ev))
		return;
	CHECK(len >= 4);
	CHECK(rfc4733_build(&ev, out, sizeof(out)) == 4);
	CHECK(out[0] == p[0] && (out[1] & 0xbf) == (p[1] & 0xbf) && !memcmp(out + 2, p + 2, 2));
	rfc4733_rx_feed(rx, ts, &ev);
}

static void fuzz_decoder(enum codec_id id, const uint8_t *data, size_t size)
{
	static int16_t pcm[CODEC_MAX_DECODE * 2];
	struct codec_params p;
	struct codec_dec *d;
	struct rfc4733_rx rx;
	size_t i = 0;
	uint32_t ts = 0;

	codec_params_default(codec_get(id), &p);
	if (codec_dec_create(codec_get(id), &p, &d))
		abort();
	rfc4733_rx_init(&rx);
	while (i + 2 <= size) {
		size_t len = data[i], flags = data[i + 1];
		const uint8_t *pay = data + i + 2;
		int n;

		if (len > size - i - 2)
			len = size - i - 2;
		i += 2 + len;
		ts += 160;
		fuzz_4733(pay, len, &rx, ts);
		if (flags & 8) {
			n = codec_conceal(d, len ? pay : NULL, len, (unsigned)(flags >> 4) * 40 + 40,
					  pcm, CODEC_MAX_DECODE);
			CHECK(n >= 0 && n <= CODEC_MAX_DECODE);
			continue;
		}
		n = codec_decode(d, pay, len, pcm, (flags & 1) ? 160 : CODEC_MAX_DECODE);
		CHECK(n < 0 || n <= ((flags & 1) ? 160 : CODEC_MAX_DECODE));
	}
	codec_dec_destroy(d);
}

static struct transcode_out out[TRANSCODE_MAX_OUT];

static void fuzz_pipeline(enum codec_id in, enum codec_id outc, bool te_in, bool te_out,
			  const uint8_t *data, size_t size)
{
	struct transcode_cfg cfg = { 0 };
	struct transcode *xc;
	size_t i = 0;
	uint16_t seq = 100;
	uint32_t ts = 1000;

	cfg.in.codec = codec_get(in);
	cfg.out.codec = codec_get(outc);
	codec_params_default(cfg.in.codec, &cfg.in.params);
	codec_params_default(cfg.out.codec, &cfg.out.params);
	cfg.in.pt = 96;
	cfg.out.pt = 97;
	cfg.in.dtmf_pt = te_in ? 101 : -1;
	cfg.out.dtmf_pt = te_out ? 102 : -1;
	cfg.out.ptime = cfg.out.codec->default_ptime;    /* G.723.1 frames 30 ms */
	if (transcode_create(&cfg, &xc))
		abort();
	while (i + 2 <= size) {
		size_t len = data[i], flags = data[i + 1];
		struct transcode_in pk;
		int n;

		if (len > size - i - 2)
			len = size - i - 2;
		pk = (struct transcode_in){ .pt = (flags & 1) ? 101 : 96, .seq = seq, .ts = ts,
					    .ssrc = 7, .payload = data + i + 2, .len = len };
		i += 2 + len;
		if (flags & 8) {
			n = transcode_lost(xc, (flags & 0x10) ? &pk : NULL, out, TRANSCODE_MAX_OUT);
		} else {
			n = transcode_packet(xc, &pk, out, TRANSCODE_MAX_OUT);
			seq += (flags & 2) ? 2 : 1;
		}
		/* telephone-event PT without telephone-event negotiated is refused */
		if (n == -ENOMSG) {
			CHECK((flags & 1) && !te_in && !(flags & 8));
			continue;
		}
		CHECK(n >= 0 && n <= TRANSCODE_MAX_OUT);
		for (int k = 0; k < n; k++)
			CHECK(out[k].len <= TRANSCODE_MAX_PAYLOAD && out[k].ssrc == 0);
		ts += (flags & 4) ? (uint32_t)(flags >> 4) * 4000 : 160;
		if (flags == 0xff)
			ts -= 320;
	}
	transcode_destroy(xc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	if (sel < 128) {
		fuzz_decoder(ids[sel % NIDS], data, size);
	} else {
		sel -= 128;
		/* the pipelines the edge runs: X <-> PCMU, DTMF modes by bits */
		enum codec_id x = ids[1 + (sel >> 3) % (NIDS - 1)];
		bool rev = sel & 1;

		fuzz_pipeline(rev ? CODEC_PCMU : x, rev ? x : CODEC_PCMU, sel & 2, sel & 4,
			      data, size);
	}
	return 0;
}
