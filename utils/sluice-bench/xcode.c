/* transcode mode: PCMU <-> Opus calls (or --codec: AMR, AMR-WB, GSM, speex). The
 * caller offers PCMU (+ telephone-event) with codec flags mask PCMU / transcode opus, the
 * callee answers opus/48000/2, so the relay transcodes both directions. The generator sends real audio: one second of a 1004 Hz
 * tone is encoded once at start (PCMU and libopus, through lib/codec.c) and looped.
 *
 * A transcoder rewrites payload, SSRC, sequence and timestamps, so packets cannot carry
 * our stamp: the receiver numbers the packets of a stream in arrival order of their
 * (relay-chosen) sequence numbers and takes the n-th output as the n-th input (one
 * 20 ms packet in, one 20 ms packet out). Loss, duplicates and reordering are exact;
 * latency is send time of input n to arrival of output n. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bench.h"
#include "sluice/codec.h"

#define XC_RATE    8000

/* The callee's codec: its name in the transcode flag and in lib/codec.c, payload type,
 * RTP clock, PCM rate, SDP lines. Every stream sends 20 ms packets, so G.723.1 (30 ms
 * frames) is not among them. */
struct xc_codec {
	const char *name;
	uint8_t pt;
	unsigned clock, rate;
	const char *sdp;
};

static const struct xc_codec xc_codecs[] = {
	{ "opus", 96, 48000, 48000, "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n" },
	{ "AMR-WB", 96, 16000, 16000, "a=rtpmap:96 AMR-WB/16000\r\n" },
	{ "AMR", 96, 8000, 8000, "a=rtpmap:96 AMR/8000\r\n" },
	{ "GSM", 3, 8000, 8000, "a=rtpmap:3 GSM/8000\r\n" },
	{ "speex", 96, 8000, 8000, "a=rtpmap:96 speex/8000\r\n" },
};

static struct {
	const struct xc_codec *c;
	uint8_t frame[2][XC_FRAMES][XC_FRAME_MAX];
	uint16_t len[2][XC_FRAMES];
} xc = { &xc_codecs[0] };

const char *xcode_name(void)
{
	return xc.c->name;
}

static int encode_loop(int side, const char *name, unsigned rate)
{
	const struct codec_def *d = codec_find(name, strlen(name), 0, 0);
	struct codec_params p;
	struct codec_enc *e;
	int16_t pcm[960];
	unsigned n = rate / 50;

	if (!d)
		return -ENOENT;
	codec_params_default(d, &p);
	p.pcm_rate = rate;
	if (codec_enc_create(d, &p, &e))
		return -EINVAL;
	for (unsigned f = 0; f < XC_FRAMES; f++) {
		int len;

		for (unsigned i = 0; i < n; i++) {
			double t = (double)(f * n + i) / rate;

			pcm[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 1004 * t));
		}
		len = codec_encode(e, pcm, n, xc.frame[side][f], XC_FRAME_MAX);
		if (len <= 0) {
			codec_enc_destroy(e);
			return -EINVAL;
		}
		xc.len[side][f] = (uint16_t)len;
	}
	codec_enc_destroy(e);
	return 0;
}

int xcode_init(struct bench *b)
{
	int ret;

	if (b->o.pps != 50)
		return -EINVAL;         /* frames are 20 ms */
	xc.c = NULL;
	for (size_t i = 0; i < sizeof(xc_codecs) / sizeof(xc_codecs[0]); i++)
		if (!strcasecmp(xc_codecs[i].name, b->o.xcodec ? b->o.xcodec : "opus"))
			xc.c = &xc_codecs[i];
	if (!xc.c)
		return -ENOENT;
	ret = encode_loop(0, "PCMU", XC_RATE);
	if (!ret)
		ret = encode_loop(1, xc.c->name, xc.c->rate);
	return ret;
}

void xcode_sdp(struct strbuf *sb, uint16_t port, uint32_t ssrc, bool caller, uint64_t r)
{
	char pt[4];

	snprintf(pt, sizeof(pt), "%u", xc.c->pt);
	sb_printf(sb,
		  "v=0\r\n"
		  "o=- %u %u IN IP4 127.0.0.1\r\n"
		  "s=-\r\n"
		  "c=IN IP4 127.0.0.1\r\n"
		  "t=0 0\r\n"
		  "m=audio %u RTP/AVP %s\r\n"
		  "%s"
		  "a=sendrecv\r\n"
		  "a=ssrc:%u cname:sip:%s@127.0.0.1\r\n"
		  "a=ptime:20\r\n",
		  (unsigned)(r & 0x7fffffff), (unsigned)(r >> 33), port,
		  caller ? "0 101" : pt,
		  caller ? "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
			   "a=fmtp:101 0-15\r\n" : xc.c->sdp,
		  ssrc, caller ? "caller" : "callee");
}

size_t xcode_packet(struct stream *s, uint32_t seq, uint8_t *p)
{
	int side = s->id & 1;
	unsigned f = seq % XC_FRAMES;
	uint32_t ts = s->rtp_ts0 + seq * (side ? xc.c->clock / 50 : 160);

	p[1] = (uint8_t)((seq ? 0 : 0x80) | (side ? xc.c->pt : 0));
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	memcpy(p + BENCH_HDR, xc.frame[side][f], xc.len[side][f]);
	return BENCH_HDR + xc.len[side][f];
}

/* Index of a received packet in its stream: extended from the relay's sequence
 * numbers, 0 for the first one; -1 for one from before the first. */
static int64_t rx_index(struct stream *s, uint16_t seq)
{
	int64_t idx;

	if (!s->rx_started) {
		s->rx_started = true;
		s->rx_last_seq = seq;
		s->rx_last_idx = 0;
		return 0;
	}
	idx = s->rx_last_idx + (int16_t)(seq - s->rx_last_seq);
	if (idx > s->rx_last_idx) {
		s->rx_last_idx = idx;
		s->rx_last_seq = seq;
	}
	return idx;
}

bool xcode_rx(struct bench *b, uint32_t ep, const uint8_t *p, size_t len, int64_t now,
	      uint32_t *seq, int64_t *sent_at)
{
	struct stream *s = &b->streams[ep ^ 1];
	int want_pt = (ep & 1) ? xc.c->pt : 0;  /* B hears xcodec, A hears PCMU */
	int64_t idx;

	(void)now;
	if (len < BENCH_HDR || (p[0] >> 6) != 2 || (p[1] & 0x7f) != want_pt) {
		b->foreign++;
		return false;
	}
	idx = rx_index(s, (uint16_t)(p[2] << 8 | p[3]));
	if (idx < 0 || idx >= (int64_t)s->seq) {
		b->foreign++;           /* more out than in: not ours to count */
		return false;
	}
	*seq = (uint32_t)idx;
	*sent_at = s->seq - idx <= XC_RING ? s->sent_at[idx % XC_RING] : 0;
	return true;
}
