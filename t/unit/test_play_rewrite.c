/* audio_file + play_rewrite: a WAV held in memory decoded and resampled (8 and 48 kHz),
 * start-pos, refusal of what is not audio; MP3 and Ogg/Opus (made here with FFmpeg's
 * own encoders) decoded to the tone; the announcement as PCMU and Opus frames (payload
 * type, timestamp step, payload decodes to the tone, exact frame count until it ends),
 * repeat-times, the duration limit and stop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "audio.h"
#include "sluice/audio_file.h"
#include "sluice/play_rewrite.h"

struct blob {
	uint8_t *b;
	size_t len;
};

static void le16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void le32(uint8_t *p, uint32_t v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }

/* A mono 16-bit WAV of `ms` of a 1 kHz tone at `rate`. */
static struct blob wav_tone(unsigned rate, unsigned ms)
{
	size_t n = (size_t)rate * ms / 1000;
	struct blob w = { .len = 44 + 2 * n };
	unsigned f = 1000;
	double amp = 16000;
	int16_t *pcm = malloc(2 * n);

	w.b = calloc(1, w.len);
	au_tones(pcm, n, rate, 0, &f, &amp, 1);
	memcpy(w.b, "RIFF", 4);
	le32(w.b + 4, (uint32_t)(w.len - 8));
	memcpy(w.b + 8, "WAVEfmt ", 8);
	le32(w.b + 16, 16);
	le16(w.b + 20, 1);
	le16(w.b + 22, 1);
	le32(w.b + 24, rate);
	le32(w.b + 28, rate * 2);
	le16(w.b + 32, 2);
	le16(w.b + 34, 16);
	memcpy(w.b + 36, "data", 4);
	le32(w.b + 40, (uint32_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		le16(w.b + 44 + 2 * i, (uint16_t)pcm[i]);
	free(pcm);
	return w;
}

static double tone_snr(const int16_t *x, size_t n, unsigned rate)
{
	unsigned f = 1000;
	struct au_fit fit;

	au_fit(x, n, rate, &f, 1, &fit);
	return fit.snr_db;
}

static void test_load(void **state)
{
	struct blob w = wav_tone(16000, 1000);
	struct audio_pcm p;
	const char *why = NULL;

	(void)state;
	assert_int_equal(audio_file_load(NULL, w.b, w.len, 8000, 0, 60000, &p, &why), 0);
	assert_int_equal(p.src_rate, 16000);
	assert_true(p.n >= 7990 && p.n <= 8000);
	assert_true(tone_snr(p.pcm + 100, 4000, 8000) > 30);
	audio_pcm_free(&p);
	/* 48 kHz, a quarter of a second skipped (4000 frames of the file's 16 kHz) */
	assert_int_equal(audio_file_load(NULL, w.b, w.len, 48000, 4000, 60000, &p, &why), 0);
	assert_true(p.n >= 35900 && p.n <= 36000);
	assert_true(tone_snr(p.pcm + 480, 24000, 48000) > 30);
	audio_pcm_free(&p);
	/* longer than allowed */
	assert_int_equal(audio_file_load(NULL, w.b, w.len, 8000, 0, 500, &p, &why), -EFBIG);
	assert_null(p.pcm);
	/* start-pos past the end */
	assert_int_equal(audio_file_load(NULL, w.b, w.len, 8000, 20000, 60000, &p, &why),
			 -ENODATA);
	/* not audio at all */
	memset(w.b, 'x', w.len);
	assert_int_equal(audio_file_load(NULL, w.b, w.len, 8000, 0, 60000, &p, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(audio_file_load("/nonexistent/x.wav", NULL, 0, 8000, 0, 60000, &p,
					 &why), -ENOENT);
	free(w.b);
}

static void fill(AVFrame *f, unsigned rate, int64_t start)
{
	for (int i = 0; i < f->nb_samples; i++) {
		double v = 0.4 * sin(2 * AU_PI * 1000 * (double)(start + i) / rate);

		if (f->format == AV_SAMPLE_FMT_FLT || f->format == AV_SAMPLE_FMT_FLTP)
			((float *)f->data[0])[i] = (float)v;
		else
			((int16_t *)f->data[0])[i] = (int16_t)lrint(v * 32767);
	}
}

static void write_packets(AVFormatContext *oc, AVCodecContext *c, AVStream *st, AVFrame *f)
{
	AVPacket *pkt = av_packet_alloc();

	assert_true(avcodec_send_frame(c, f) >= 0);
	while (avcodec_receive_packet(c, pkt) >= 0) {
		av_packet_rescale_ts(pkt, c->time_base, st->time_base);
		pkt->stream_index = 0;
		assert_true(av_interleaved_write_frame(oc, pkt) >= 0);
	}
	av_packet_free(&pkt);
}

/* secs of 1 kHz in container fmt, codec enc, at rate, via FFmpeg's encoders. */
static struct blob ff_tone(const char *fmt, const char *enc, unsigned rate, double secs)
{
	const AVCodec *codec = avcodec_find_encoder_by_name(enc);
	AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
	AVFormatContext *oc = NULL;
	AVCodecContext *c;
	AVStream *st;
	AVFrame *f = av_frame_alloc();
	struct blob b;
	uint8_t *buf;
	int64_t pos = 0;

	assert_non_null(codec);
	assert_true(avformat_alloc_output_context2(&oc, NULL, fmt, NULL) >= 0);
	assert_true(avio_open_dyn_buf(&oc->pb) >= 0);
	st = avformat_new_stream(oc, NULL);
	c = avcodec_alloc_context3(codec);
	c->sample_rate = (int)rate;
	av_channel_layout_copy(&c->ch_layout, &mono);
	c->sample_fmt = AV_SAMPLE_FMT_NONE;     /* one that fill() writes */
	for (const enum AVSampleFormat *sf = codec->sample_fmts; *sf != AV_SAMPLE_FMT_NONE; sf++)
		if (*sf == AV_SAMPLE_FMT_S16 || *sf == AV_SAMPLE_FMT_S16P ||
		    *sf == AV_SAMPLE_FMT_FLT || *sf == AV_SAMPLE_FMT_FLTP) {
			c->sample_fmt = *sf;
			break;
		}
	assert_int_not_equal(c->sample_fmt, AV_SAMPLE_FMT_NONE);
	c->bit_rate = 64000;
	c->time_base = (AVRational){ 1, (int)rate };
	if (oc->oformat->flags & AVFMT_GLOBALHEADER)
		c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	assert_true(avcodec_open2(c, codec, NULL) >= 0);
	assert_true(avcodec_parameters_from_context(st->codecpar, c) >= 0);
	st->time_base = c->time_base;
	assert_true(avformat_write_header(oc, NULL) >= 0);
	while (pos < (int64_t)(secs * rate)) {
		f->nb_samples = c->frame_size ? c->frame_size : 1024;
		f->format = c->sample_fmt;
		f->sample_rate = c->sample_rate;
		av_channel_layout_copy(&f->ch_layout, &mono);
		assert_true(av_frame_get_buffer(f, 0) >= 0);
		fill(f, rate, pos);
		f->pts = pos;
		pos += f->nb_samples;
		write_packets(oc, c, st, f);
		av_frame_unref(f);
	}
	write_packets(oc, c, st, NULL);
	av_write_trailer(oc);
	b.len = (size_t)avio_close_dyn_buf(oc->pb, &buf);
	b.b = malloc(b.len);
	memcpy(b.b, buf, b.len);
	av_free(buf);
	av_frame_free(&f);
	avcodec_free_context(&c);
	avformat_free_context(oc);
	return b;
}

/* MP3 (LAME) and Ogg/Opus: 1 s of 1 kHz decodes to about 1 s of the tone at 8 kHz. */
static void test_mp3_ogg_opus(void **state)
{
	static const struct { const char *fmt, *enc; unsigned rate; } f[] = {
		{ "mp3", "libmp3lame", 16000 }, { "ogg", "libopus", 48000 },
		{ "ogg", "libvorbis", 44100 },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct blob b = ff_tone(f[i].fmt, f[i].enc, f[i].rate, 1.0);
		struct audio_pcm p;
		const char *why = NULL;
		int e = audio_file_load(NULL, b.b, b.len, 8000, 0, 60000, &p, &why);

		print_message("%s/%s: %zu bytes -> %d (%s), %zu samples, SNR %.1f dB\n",
			      f[i].fmt, f[i].enc, b.len, e, why ? why : "", e ? 0 : p.n,
			      e ? 0.0 : tone_snr(p.pcm + 2000, 4000, 8000));
		assert_int_equal(e, 0);
		assert_true(p.n >= 7800 && p.n <= 8800);
		assert_true(tone_snr(p.pcm + 2000, 4000, 8000) > 20);
		audio_pcm_free(&p);
		free(b.b);
	}
}

static struct play_rewrite *player(int pt, enum codec_id id, unsigned ms, unsigned repeat,
				   uint64_t limit)
{
	const struct codec_def *def = codec_get(id);
	struct blob w = wav_tone(8000, ms);
	struct play_rewrite *rw;
	struct codec_params prm;
	struct codec_enc *enc;
	struct audio_pcm p;
	const char *why;

	codec_params_default(def, &prm);
	assert_int_equal(codec_enc_create(def, &prm, &enc), 0);
	assert_int_equal(audio_file_load(NULL, w.b, w.len, codec_enc_rate(enc), 0, 60000, &p,
					 &why), 0);
	assert_int_equal(play_rw_create(repeat, limit, 111, 101, &rw), 0);
	assert_int_equal(play_rw_add_track(rw, pt, def, enc, &p), 0);
	free(w.b);
	return rw;
}

/* 1 s of tone as 20 ms PCMU frames: exactly 50 (pt 0, step 160), decoding to the tone;
 * then -ENODATA. A sender's telephone-event or unknown type gets the first track. */
static void test_pcmu(void **state)
{
	struct play_rewrite *rw = player(0, CODEC_PCMU, 1000, 1, 0);
	const struct codec_def *def = codec_get(CODEC_PCMU);
	struct codec_params prm;
	struct codec_dec *dec;
	struct play_rw_frame f;
	int16_t out[8000];
	uint8_t b[1500];
	unsigned played = 0;

	(void)state;
	codec_params_default(def, &prm);
	assert_int_equal(codec_dec_create(def, &prm, &dec), 0);
	assert_int_equal(play_rw_duration_ms(rw), 1000);
	for (unsigned i = 0; i < 60; i++) {
		int n = play_rw_frame(rw, i == 3 ? 101 : i == 4 ? 8 : 0, 20, b, sizeof(b), &f);

		if (i >= 50) {
			assert_int_equal(n, -ENODATA);
			continue;
		}
		assert_int_equal(n, 160);
		assert_int_equal(f.pt, 0);
		assert_int_equal(f.step, 160);
		assert_int_equal(f.clock, 8000);
		assert_int_equal(codec_decode(dec, b, 160, out + 160 * i, 160), 160);
		played++;
		assert_int_equal(play_rw_busy(rw), i < 49);
	}
	assert_int_equal(played, 50);
	assert_true(tone_snr(out, 8000, 8000) > 30);
	assert_int_equal(play_rw_played_ms(rw), 1000);
	codec_dec_destroy(dec);
	play_rw_free(rw);
}

/* stop: nothing more; a ptime the codec cannot frame is refused. */
static void test_stop(void **state)
{
	struct play_rewrite *rw = player(0, CODEC_PCMU, 200, 1, 0);
	struct play_rw_frame f;
	uint8_t b[1500];

	(void)state;
	assert_int_equal(play_rw_frame(rw, 0, 0, b, sizeof(b), &f), -EINVAL);
	assert_int_equal(play_rw_frame(rw, 0, 20, b, sizeof(b), &f), 160);
	assert_int_equal(play_rw_played_ms(rw), 20);
	play_rw_stop(rw);
	assert_false(play_rw_busy(rw));
	assert_int_equal(play_rw_frame(rw, 0, 20, b, sizeof(b), &f), -ENODATA);
	play_rw_free(rw);
}

static unsigned count_frames(struct play_rewrite *rw)
{
	struct play_rw_frame f;
	uint8_t b[1500];
	unsigned n = 0;

	while (play_rw_frame(rw, 0, 20, b, sizeof(b), &f) > 0)
		n++;
	return n;
}

/* 200 ms three times = 30 frames; a 500 ms limit on 3 x 200 ms = 25 frames. */
static void test_repeat_limit(void **state)
{
	struct play_rewrite *rw = player(0, CODEC_PCMU, 200, 3, 0);

	(void)state;
	assert_int_equal(play_rw_duration_ms(rw), 600);
	assert_int_equal(count_frames(rw), 30);
	play_rw_free(rw);
	rw = player(0, CODEC_PCMU, 200, 3, 500);
	assert_int_equal(play_rw_duration_ms(rw), 500);
	assert_int_equal(count_frames(rw), 25);
	play_rw_free(rw);
}

/* Opus on the sender's dynamic type 111: 50 frames of 20 ms (step 960 at 48 kHz) that
 * an Opus decoder reads back as the tone. */
static void test_opus(void **state)
{
	struct play_rewrite *rw = player(-1, CODEC_OPUS, 1000, 1, 0);
	const struct codec_def *def = codec_get(CODEC_OPUS);
	struct codec_params prm;
	struct codec_dec *dec;
	struct play_rw_frame f;
	int16_t *out = calloc(48000, sizeof(*out));
	uint8_t b[1500];
	unsigned n = 0;
	int e;

	(void)state;
	codec_params_default(def, &prm);
	assert_int_equal(codec_dec_create(def, &prm, &dec), 0);
	while ((e = play_rw_frame(rw, 111, 20, b, sizeof(b), &f)) > 0) {
		assert_int_equal(f.pt, 111);
		assert_int_equal(f.step, 960);
		assert_int_equal(codec_decode(dec, b, (size_t)e, out + 960 * n, 960), 960);
		n++;
	}
	assert_int_equal(n, 50);
	/* the encoder's look-ahead delays it a little: fit the last 0.5 s */
	assert_true(tone_snr(out + 24000, 24000, 48000) > 20);
	free(out);
	codec_dec_destroy(dec);
	play_rw_free(rw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_mp3_ogg_opus),
		cmocka_unit_test(test_pcmu),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_repeat_limit),
		cmocka_unit_test(test_opus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
