/* GSM, speex, G.723.1, iLBC, L16, AMR and AMR-WB through libavcodec.
 *
 * One generic wrapper over avcodec_send_frame/receive_packet and send_packet/
 * receive_frame; a small table says, per codec, which libavcodec encoders and decoders to
 * use (first found wins), the frame size, the bitrate and how frames are put in an RTP
 * payload: concatenated (GSM, G.723.1, L16, speex's one frame) or RFC 4867 (AMR, AMR-WB,
 * through lib/amr_payload.c). What this libavcodec lacks is found at run time, never at
 * build time, so one binary runs with or without Debian's libavcodec-extra.
 *
 * Cost: the contexts, frame and packet are allocated at *_init. libavcodec itself
 * allocates a refcounted buffer per encoded packet and copies each decoded payload into
 * one (glibc serves those from its per-thread caches); there is no way around that in its
 * public API, and `make bench` measures the result against rtpengine's equal use.
 * Native AMR and speex decoders emit float samples, converted here with clipping. The
 * opencore AMR decoders come first: FFmpeg's own AMR-NB decoder measured 14 dB SNR and
 * -3.9 dB level on a 1 kHz tone at 12.2 kbit/s where opencore gives 32 dB. */
#include "codec_internal.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>

#include "sluice/amr_payload.h"

enum av_pack { PACK_CONCAT, PACK_AMR };

struct av_info {
	enum codec_id id;
	const char *enc[2];         /* libavcodec encoder names, in order of preference */
	const char *dec[3];
	unsigned frame;             /* samples per codec frame, 0 = any (L16) */
	int64_t bitrate;            /* 0: the library's choice */
	enum av_pack pack;
	const char *why;            /* when this libavcodec cannot encode or decode it: a
	                               sentence that names the codec (NG error, startup log) */
};

#define SPEEX(idv) { idv, { "libspeex" }, { "speex", "libspeex" }, 0, 0, PACK_CONCAT, \
		     "speex not available: this libavcodec has no libspeex encoder" }
#define L16(idv) { idv, { "pcm_s16be" }, { "pcm_s16be" }, 0, 0, PACK_CONCAT, \
		   "L16 not available: this libavcodec has no pcm_s16be" }

static const struct av_info av_infos[] = {
	{ CODEC_GSM, { "libgsm" }, { "gsm", "libgsm" }, 160, 13000, PACK_CONCAT,
	  "GSM not available: this libavcodec has no libgsm encoder" },
	SPEEX(CODEC_SPEEX), SPEEX(CODEC_SPEEX_WB), SPEEX(CODEC_SPEEX_UWB),
	/* FFmpeg's G.723.1 encoder does 6.3 kbit/s only; its decoder reads both rates */
	{ CODEC_G723, { "g723_1" }, { "g723_1" }, 240, 6300, PACK_CONCAT,
	  "G723 not available: this libavcodec has no G.723.1 encoder" },
	{ CODEC_ILBC, { "libilbc" }, { "ilbc", "libilbc" }, 240, 0, PACK_CONCAT,
	  "iLBC not available: FFmpeg encodes iLBC only through libilbc, which "
	  "Debian's libavcodec is not built with" },
	L16(CODEC_L16), L16(CODEC_L16_16K), L16(CODEC_L16_44K), L16(CODEC_L16_48K),
	{ CODEC_AMR, { "libopencore_amrnb" }, { "libopencore_amrnb", "amrnb" }, 160, 0,
	  PACK_AMR, "AMR not available: no AMR encoder in this libavcodec (install "
	  "libavcodec-extra: opencore-amr)" },
	{ CODEC_AMR_WB, { "libvo_amrwbenc" }, { "libopencore_amrwb", "amrwb" }, 320, 0,
	  PACK_AMR, "AMR-WB not available: no AMR-WB encoder in this libavcodec (install "
	  "libavcodec-extra: vo-amrwbenc)" },
};

/* bit/s of each AMR / AMR-WB mode (3GPP TS 26.071, 26.171) */
static const int amr_nb_rate[8] = { 4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200 };
static const int amr_wb_rate[9] = { 6600, 8850, 12650, 14250, 15850, 18250, 19850, 23050,
				    23850 };

struct av_enc {
	const struct av_info *info;
	AVCodecContext *ctx;
	AVFrame *frame;
	AVPacket *pkt;
	int64_t pts;
	bool wb, oa;
	uint16_t mode_set;
	struct amr_payload amr;
};

struct av_dec {
	const struct av_info *info;
	AVCodecContext *ctx;
	AVFrame *frame;
	AVPacket *pkt;
	bool wb, oa;
	int cmr;
	struct amr_payload amr;
	uint8_t storage[1 + AMR_MAX_FRAME_BYTES];
};

static const struct av_info *info_of(const struct codec_def *def)
{
	for (size_t i = 0; i < sizeof(av_infos) / sizeof(av_infos[0]); i++)
		if (av_infos[i].id == def->id)
			return &av_infos[i];
	return NULL;
}

/* libavcodec reports every corrupt payload on stderr; a peer could flood the log with
 * them, and sluice counts undecodable packets itself. Process-wide, set once. */
static void quiet_once(void)
{
	av_log_set_level(AV_LOG_QUIET);
}

static void av_quiet(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, quiet_once);
}

static const AVCodec *find_enc(const struct av_info *in)
{
	const AVCodec *c = NULL;

	for (size_t i = 0; i < 2 && !c && in->enc[i]; i++)
		c = avcodec_find_encoder_by_name(in->enc[i]);
	return c;
}

static const AVCodec *find_dec(const struct av_info *in)
{
	const AVCodec *c = NULL;

	for (size_t i = 0; i < 3 && !c && in->dec[i]; i++)
		c = avcodec_find_decoder_by_name(in->dec[i]);
	return c;
}

/* What this libavcodec has is fixed for the life of the process: probed once, so the
 * NG path (every codec of every offer with codec flags) pays an array lookup, not a walk
 * over libavcodec's codec list. */
static bool av_have[sizeof(av_infos) / sizeof(av_infos[0])];

static void probe_once(void)
{
	for (size_t i = 0; i < sizeof(av_infos) / sizeof(av_infos[0]); i++)
		av_have[i] = find_enc(&av_infos[i]) && find_dec(&av_infos[i]);
}

bool codec_av_available(const struct codec_def *def, const char **why)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const struct av_info *in = info_of(def);

	pthread_once(&once, probe_once);
	if (in && av_have[in - av_infos])
		return true;
	if (why)
		*why = in ? in->why : "not a libavcodec codec";
	return false;
}

static int av_errno(int err)
{
	if (err == AVERROR(ENOMEM))
		return -ENOMEM;
	return -EINVAL;
}

static AVCodecContext *ctx_new(const AVCodec *c, unsigned rate)
{
	AVCodecContext *ctx = avcodec_alloc_context3(c);

	if (!ctx)
		return NULL;
	ctx->sample_rate = (int)rate;
	av_channel_layout_default(&ctx->ch_layout, 1);
	ctx->thread_count = 1;
	return ctx;
}

/* ---- encoder ---- */

static unsigned highest_mode(uint16_t set, bool wb)
{
	for (unsigned m = amr_modes(wb); m-- > 0;)
		if (!set || set & (1u << m))
			return m;
	return 0;
}

static int av_enc_open(struct av_enc *s, const AVCodec *c, unsigned rate,
		       const struct codec_params *p)
{
	int ret;

	s->ctx = ctx_new(c, rate);
	if (!s->ctx)
		return -ENOMEM;
	s->ctx->sample_fmt = AV_SAMPLE_FMT_S16;
	s->ctx->bit_rate = s->info->bitrate;
	if (s->info->pack == PACK_AMR) {
		unsigned m = highest_mode(p->mode_set, s->wb);

		s->ctx->bit_rate = s->wb ? amr_wb_rate[m] : amr_nb_rate[m];
	}
	ret = avcodec_open2(s->ctx, c, NULL);
	if (ret < 0)
		return av_errno(ret);
	s->frame = av_frame_alloc();
	s->pkt = av_packet_alloc();
	if (!s->frame || !s->pkt)
		return -ENOMEM;
	s->frame->format = AV_SAMPLE_FMT_S16;
	s->frame->sample_rate = (int)rate;
	s->frame->nb_samples = s->info->frame ? (int)s->info->frame :
			       (int)(rate * CODEC_MAX_PTIME / 1000);
	ret = av_channel_layout_copy(&s->frame->ch_layout, &s->ctx->ch_layout);
	if (ret >= 0)
		ret = av_frame_get_buffer(s->frame, 0);
	return ret < 0 ? av_errno(ret) : 0;
}

static void av_enc_fini(struct codec_enc *e)
{
	struct av_enc *s = e->priv;

	if (!s)
		return;
	avcodec_free_context(&s->ctx);
	av_frame_free(&s->frame);
	av_packet_free(&s->pkt);
	av_free(s);
}

static int av_enc_init(struct codec_enc *e, const struct codec_params *p)
{
	const struct av_info *in = info_of(e->def);
	const AVCodec *c = in ? find_enc(in) : NULL;
	struct av_enc *s;
	int ret;

	av_quiet();
	if (!c)
		return -ENOTSUP;
	s = av_mallocz(sizeof(*s));
	if (!s)
		return -ENOMEM;
	e->priv = s;
	s->info = in;
	s->wb = e->def->id == CODEC_AMR_WB;
	s->oa = p->octet_align;
	s->mode_set = p->mode_set;
	ret = av_enc_open(s, c, e->rate, p);
	if (ret) {
		av_enc_fini(e);
		e->priv = NULL;
	}
	return ret;
}

/* Appends one encoded codec frame to the payload being built. */
static int put_frame(struct av_enc *s, const AVPacket *pkt, uint8_t *out, size_t cap,
		     size_t *len)
{
	if (s->info->pack == PACK_AMR) {
		if (s->amr.n == AMR_MAX_FRAMES)
			return -ENOSPC;
		if (amr_frame_from_storage(pkt->data, (size_t)pkt->size, s->wb,
					   &s->amr.f[s->amr.n]) < 0)
			return -EINVAL;
		s->amr.n++;
		return 0;
	}
	if ((size_t)pkt->size > cap - *len)
		return -ENOSPC;
	memcpy(out + *len, pkt->data, (size_t)pkt->size);
	*len += (size_t)pkt->size;
	return 0;
}

static int encode_one(struct av_enc *s, const int16_t *pcm, unsigned n, uint8_t *out,
		      size_t cap, size_t *len)
{
	int ret = av_frame_make_writable(s->frame);

	if (ret < 0)
		return av_errno(ret);
	s->frame->nb_samples = (int)n;
	s->frame->pts = s->pts;
	s->pts += n;
	memcpy(s->frame->data[0], pcm, n * sizeof(*pcm));
	ret = avcodec_send_frame(s->ctx, s->frame);
	if (ret < 0)
		return av_errno(ret);
	while ((ret = avcodec_receive_packet(s->ctx, s->pkt)) >= 0) {
		ret = put_frame(s, s->pkt, out, cap, len);
		av_packet_unref(s->pkt);
		if (ret)
			return ret;
	}
	return ret == AVERROR(EAGAIN) ? 0 : av_errno(ret);
}

static int av_encode_cb(struct codec_enc *e, const int16_t *pcm, unsigned samples,
			uint8_t *out, size_t out_size)
{
	struct av_enc *s = e->priv;
	unsigned step = s->info->frame ? s->info->frame : samples;
	size_t len = 0;
	int ret;

	if (samples % step)
		return -EINVAL;
	s->amr.n = 0;
	for (unsigned i = 0; i < samples; i += step) {
		ret = encode_one(s, pcm + i, step, out, out_size, &len);
		if (ret)
			return ret;
	}
	if (s->info->pack != PACK_AMR)
		return (int)len;
	if (!s->amr.n)
		return 0;
	s->amr.cmr = AMR_CMR_NONE;
	return amr_payload_build(&s->amr, s->wb, s->oa, out, out_size);
}

static int av_set_mode(struct codec_enc *e, unsigned mode)
{
	struct av_enc *s = e->priv;

	if (s->info->pack != PACK_AMR)
		return -ENOTSUP;
	if (mode >= amr_modes(s->wb) || (s->mode_set && !(s->mode_set & (1u << mode))))
		return -EINVAL;
	/* both wrappers compare bit_rate with the last one before each frame */
	s->ctx->bit_rate = s->wb ? amr_wb_rate[mode] : amr_nb_rate[mode];
	return 0;
}

/* ---- decoder ---- */

static void av_dec_fini(struct codec_dec *d)
{
	struct av_dec *s = d->priv;

	if (!s)
		return;
	avcodec_free_context(&s->ctx);
	av_frame_free(&s->frame);
	av_packet_free(&s->pkt);
	av_free(s);
}

static int av_dec_init(struct codec_dec *d, const struct codec_params *p)
{
	const struct av_info *in = info_of(d->def);
	const AVCodec *c = in ? find_dec(in) : NULL;
	struct av_dec *s;
	int ret = -ENOMEM;

	av_quiet();
	if (!c)
		return -ENOTSUP;
	s = av_mallocz(sizeof(*s));
	if (!s)
		return -ENOMEM;
	d->priv = s;
	s->info = in;
	s->wb = d->def->id == CODEC_AMR_WB;
	s->oa = p->octet_align;
	s->cmr = -1;
	s->ctx = ctx_new(c, d->rate);
	s->frame = av_frame_alloc();
	s->pkt = av_packet_alloc();
	if (s->ctx && s->frame && s->pkt) {
		ret = avcodec_open2(s->ctx, c, NULL);
		ret = ret < 0 ? av_errno(ret) : 0;
	}
	if (ret) {
		av_dec_fini(d);
		d->priv = NULL;
	}
	return ret;
}

static int16_t clip16(float f)
{
	float v = f * 32768.0f;

	if (v >= 32767.0f)
		return 32767;
	if (v <= -32768.0f)
		return -32768;
	return (int16_t)lrintf(v);
}

/* Mono frames only (the contexts are opened mono). */
static int take_frame(const AVFrame *f, int16_t *pcm, unsigned max)
{
	unsigned n = (unsigned)f->nb_samples;

	if (n > max)
		return -EMSGSIZE;
	switch (f->format) {
	case AV_SAMPLE_FMT_S16:
	case AV_SAMPLE_FMT_S16P:
		memcpy(pcm, f->data[0], n * sizeof(*pcm));
		break;
	case AV_SAMPLE_FMT_FLT:
	case AV_SAMPLE_FMT_FLTP:
		for (unsigned i = 0; i < n; i++)
			pcm[i] = clip16(((const float *)f->data[0])[i]);
		break;
	default:
		return -EINVAL;
	}
	return (int)n;
}

/* Sends one packet and collects every frame it yields into pcm. */
static int decode_one(struct av_dec *s, const uint8_t *in, size_t len, int16_t *pcm,
		      unsigned max)
{
	unsigned n = 0;
	int ret;

	if (len > INT32_MAX)
		return -EINVAL;
	s->pkt->data = (uint8_t *)in;   /* not refcounted: libavcodec takes a padded copy */
	s->pkt->size = (int)len;
	ret = avcodec_send_packet(s->ctx, s->pkt);
	s->pkt->data = NULL;
	s->pkt->size = 0;
	if (ret < 0)
		return av_errno(ret);
	while ((ret = avcodec_receive_frame(s->ctx, s->frame)) >= 0) {
		int got = take_frame(s->frame, pcm + n, max - n);

		av_frame_unref(s->frame);
		if (got < 0)
			return got;
		n += (unsigned)got;
	}
	return ret == AVERROR(EAGAIN) ? (int)n : av_errno(ret);
}

/* SID and NO_DATA frames become silence: sluice's encoders do not send DTX, and
 * libavcodec's native AMR decoders do not implement comfort noise. */
static int decode_amr(struct av_dec *s, const uint8_t *in, size_t len, int16_t *pcm,
		      unsigned max)
{
	unsigned step = s->info->frame, n = 0;
	int ret = amr_payload_parse(in, len, s->wb, s->oa, &s->amr);

	if (ret)
		return ret;
	if (s->amr.n * step > max)
		return -EMSGSIZE;
	if (s->amr.cmr < amr_modes(s->wb))
		s->cmr = s->amr.cmr;
	for (unsigned i = 0; i < s->amr.n; i++) {
		const struct amr_frame *f = &s->amr.f[i];
		int got = 0;

		if (f->ft < amr_modes(s->wb)) {
			ret = amr_frame_to_storage(f, s->wb, s->storage, sizeof(s->storage));
			if (ret < 0)
				return ret;
			got = decode_one(s, s->storage, (size_t)ret, pcm + n, max - n);
			if (got < 0)
				return got;
		}
		if ((unsigned)got < step) {
			memset(pcm + n + got, 0, (step - (unsigned)got) * sizeof(*pcm));
			got = (int)step;
		}
		n += (unsigned)got;
	}
	return (int)n;
}

static int av_decode_cb(struct codec_dec *d, const uint8_t *in, size_t len, int16_t *pcm,
			unsigned max)
{
	struct av_dec *s = d->priv;

	if (s->info->pack == PACK_AMR)
		return decode_amr(s, in, len, pcm, max);
	return decode_one(s, in, len, pcm, max);
}

static int av_conceal_cb(struct codec_dec *d, const uint8_t *next, size_t next_len,
			 unsigned samples, int16_t *pcm)
{
	(void)d;
	(void)next;
	(void)next_len;
	memset(pcm, 0, samples * sizeof(*pcm));
	return (int)samples;
}

static int av_cmr(const struct codec_dec *d)
{
	const struct av_dec *s = d->priv;

	return s->info->pack == PACK_AMR ? s->cmr : -1;
}

const struct codec_ops codec_ops_av = {
	.enc_init = av_enc_init, .enc_fini = av_enc_fini, .encode = av_encode_cb,
	.dec_init = av_dec_init, .dec_fini = av_dec_fini, .decode = av_decode_cb,
	.conceal = av_conceal_cb, .set_mode = av_set_mode, .cmr = av_cmr,
};
