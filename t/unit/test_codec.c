/* codec: lookup, fmtp, frame sizes, encode/decode round trips with tone quality limits,
 * concealment, malformed payloads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/codec.h"
#include "audio.h"

static const struct codec_def *find(const char *name, unsigned clock, unsigned ch)
{
	return codec_find(name, strlen(name), clock, ch);
}

static void test_lookup(void **state)
{
	const struct codec_def *d;

	(void)state;
	d = find("pcmu", 8000, 1);
	assert_non_null(d);
	assert_int_equal(d->id, CODEC_PCMU);
	assert_int_equal(d->static_pt, 0);
	d = find("G722", 8000, 0);
	assert_non_null(d);
	assert_int_equal(d->clock_rate, 8000);
	assert_int_equal(d->sample_rate, 16000);
	d = find("OPUS", 48000, 2);
	assert_non_null(d);
	assert_int_equal(d->id, CODEC_OPUS);
	assert_null(find("opus", 48000, 1));
	assert_null(find("opus", 8000, 0));
	d = find("telephone-event", 48000, 0);
	assert_non_null(d);
	assert_null(d->ops);
	assert_null(find("PCM", 8000, 0));
	assert_null(find("PCMUX", 8000, 0));
	assert_int_equal(codec_by_static_pt(8)->id, CODEC_PCMA);
	assert_int_equal(codec_by_static_pt(9)->id, CODEC_G722);
	assert_int_equal(codec_by_static_pt(18)->id, CODEC_G729);
	assert_int_equal(codec_by_static_pt(3)->id, CODEC_GSM);
	assert_null(codec_by_static_pt(101));
	assert_int_equal(codec_get(CODEC_G729)->id, CODEC_G729);
	assert_null(codec_get(CODEC__COUNT));
}

static void test_fmtp(void **state)
{
	const struct codec_def *opus = codec_get(CODEC_OPUS), *g729 = codec_get(CODEC_G729);
	struct codec_params p;
	const char *s;

	(void)state;
	codec_params_default(opus, &p);
	assert_false(p.fec);
	assert_int_equal(p.complexity, -1);
	s = " useinbandfec=1; stereo=1;maxaveragebitrate=24000 ;minptime=10";
	assert_int_equal(codec_fmtp_parse(opus, s, strlen(s), &p), 0);
	assert_true(p.fec);
	assert_int_equal(p.channels, 2);
	assert_int_equal(p.bitrate, 24000);
	s = "maxaveragebitrate=100";
	assert_int_equal(codec_fmtp_parse(opus, s, strlen(s), &p), -EINVAL);
	s = "useinbandfec=2";
	assert_int_equal(codec_fmtp_parse(opus, s, strlen(s), &p), -EINVAL);
	s = "stereo=x";
	assert_int_equal(codec_fmtp_parse(opus, s, strlen(s), &p), -EINVAL);

	codec_params_default(g729, &p);
	assert_true(p.annexb);
	s = "annexb=no";
	assert_int_equal(codec_fmtp_parse(g729, s, strlen(s), &p), 0);
	assert_false(p.annexb);
	s = "annexb=YES";
	assert_int_equal(codec_fmtp_parse(g729, s, strlen(s), &p), 0);
	assert_true(p.annexb);
	s = "annexb=maybe";
	assert_int_equal(codec_fmtp_parse(g729, s, strlen(s), &p), -EINVAL);
	assert_int_equal(codec_fmtp_parse(g729, "", 0, &p), 0);
}

static void test_frame_ok(void **state)
{
	static const struct { enum codec_id id; unsigned rate, samples; bool ok; } c[] = {
		{ CODEC_PCMU, 8000, 160, true },   /* 1: 20 ms */
		{ CODEC_PCMU, 8000, 240, true },   /* 2: 30 ms */
		{ CODEC_PCMU, 8000, 961, false },  /* 3: past 120 ms */
		{ CODEC_G722, 16000, 320, true },  /* 4 */
		{ CODEC_G722, 16000, 321, false }, /* 5: odd */
		{ CODEC_G729, 8000, 160, true },   /* 6 */
		{ CODEC_G729, 8000, 120, false },  /* 7: not 10 ms frames */
		{ CODEC_OPUS, 48000, 960, true },  /* 8: 20 ms */
		{ CODEC_OPUS, 48000, 1440, false },/* 9: 30 ms is no Opus frame */
		{ CODEC_OPUS, 8000, 480, true },   /* 10: 60 ms at 8 kHz */
		{ CODEC_OPUS, 8000, 20, true },    /* 11: 2.5 ms */
		{ CODEC_TELEPHONE_EVENT, 8000, 160, false }, /* 12 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bool got = codec_frame_ok(codec_get(c[i].id), c[i].rate, c[i].samples);

		if (got != c[i].ok)
			fail_msg("case %zu: frame_ok %d, want %d", i + 1, got, c[i].ok);
	}
}

static void test_create_errors(void **state)
{
	struct codec_params p;
	struct codec_enc *e;
	struct codec_dec *d;

	(void)state;
	codec_params_default(codec_get(CODEC_PCMU), &p);
	assert_int_equal(codec_enc_create(codec_get(CODEC_TELEPHONE_EVENT), &p, &e), -ENOTSUP);
	p.pcm_rate = 16000;
	assert_int_equal(codec_enc_create(codec_get(CODEC_PCMU), &p, &e), -EINVAL);
	p.pcm_rate = 0;
	p.channels = 2;
	assert_int_equal(codec_dec_create(codec_get(CODEC_PCMA), &p, &d), -EINVAL);
	codec_params_default(codec_get(CODEC_OPUS), &p);
	p.pcm_rate = 11025;
	assert_int_equal(codec_dec_create(codec_get(CODEC_OPUS), &p, &d), -EINVAL);
	p.pcm_rate = 16000;
	assert_int_equal(codec_dec_create(codec_get(CODEC_OPUS), &p, &d), 0);
	assert_int_equal(codec_dec_rate(d), 16000);
	codec_dec_destroy(d);
}

/* Round trip of 1.5 s of a 1 kHz tone; measures the last second. */
struct rt { enum codec_id id; unsigned rate; double min_snr, max_level_db; };

static void round_trip(const struct rt *c, double *snr, double *freq, double *level_db)
{
	const struct codec_def *def = codec_get(c->id);
	unsigned rate = c->rate, frame = rate / 50, total = rate * 3 / 2;
	static int16_t in[48000 * 2], out[48000 * 2];
	static const unsigned f1[] = { 1004 };
	static const double a1[] = { 8000 };
	struct codec_params p;
	struct codec_enc *e;
	struct codec_dec *d;
	uint8_t pay[CODEC_MAX_PAYLOAD];
	struct au_fit fit;
	unsigned got = 0;

	codec_params_default(def, &p);
	p.pcm_rate = rate;
	if (c->id == CODEC_G729)
		p.annexb = false;
	assert_int_equal(codec_enc_create(def, &p, &e), 0);
	assert_int_equal(codec_dec_create(def, &p, &d), 0);
	au_tones(in, total, rate, 0, f1, a1, 1);
	for (unsigned i = 0; i + frame <= total; i += frame) {
		int n = codec_encode(e, in + i, frame, pay, sizeof(pay));
		int m;

		assert_true(n > 0);
		m = codec_decode(d, pay, (size_t)n, out + got, CODEC_MAX_DECODE);
		assert_int_equal(m, frame);
		got += (unsigned)m;
	}
	assert_int_equal(got, total);
	au_fit(out + rate / 2, rate, rate, f1, 1, &fit);
	*snr = fit.snr_db;
	*level_db = 20 * log10(fit.amp[0] / a1[0]);
	*freq = au_peak_freq(out + rate / 2, rate, rate, 900, 1100);
	codec_enc_destroy(e);
	codec_dec_destroy(d);
}

static void test_round_trip(void **state)
{
	static const struct rt cases[] = {
		/* limits: G.711 ~38 dB theoretical at this level; G.722 at 64 kbit/s;
		 * Opus VoIP mode at its default bitrate (lower in narrowband at 8 kHz);
		 * G.729 is a vocoder, a pure tone comes out near 25 dB */
		{ CODEC_PCMU, 8000, 35, 0.5 },
		{ CODEC_PCMA, 8000, 35, 0.5 },
		{ CODEC_G722, 16000, 35, 1.0 },
		{ CODEC_OPUS, 48000, 30, 1.0 },
		{ CODEC_OPUS, 8000, 18, 1.0 },
		{ CODEC_G729, 8000, 15, 2.0 },
	};

	(void)state;
	printf("codec round trip, 1004 Hz tone at -12 dBFS:\n");
	printf("  %-6s %6s %9s %9s %9s\n", "codec", "rate", "SNR dB", "freq Hz", "level dB");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double snr, freq, lvl;

		round_trip(&cases[i], &snr, &freq, &lvl);
		printf("  %-6s %6u %9.1f %9.0f %+9.2f\n", codec_get(cases[i].id)->name,
		       cases[i].rate, snr, freq, lvl);
		if (snr < cases[i].min_snr)
			fail_msg("%s: SNR %.1f dB < %.1f", codec_get(cases[i].id)->name, snr,
				 cases[i].min_snr);
		assert_true(fabs(freq - 1004) <= 2);
		if (fabs(lvl) > cases[i].max_level_db)
			fail_msg("%s: level %+.2f dB", codec_get(cases[i].id)->name, lvl);
	}
}

/* Concealment produces audio (not silence) right after a tone, for every codec. */
static void test_conceal(void **state)
{
	static const enum codec_id ids[] = { CODEC_PCMU, CODEC_PCMA, CODEC_G722, CODEC_OPUS,
					     CODEC_G729 };
	static const unsigned f1[] = { 1004 };
	static const double a1[] = { 8000 };

	(void)state;
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		const struct codec_def *def = codec_get(ids[k]);
		unsigned rate = def->id == CODEC_OPUS ? 8000 : def->sample_rate;
		unsigned frame = rate / 50;
		int16_t in[960], out[CODEC_MAX_DECODE];
		uint8_t pay[CODEC_MAX_PAYLOAD];
		struct codec_params p;
		struct codec_enc *e;
		struct codec_dec *d;
		double e2 = 0;
		int n;

		codec_params_default(def, &p);
		p.pcm_rate = rate;
		p.annexb = false;
		assert_int_equal(codec_enc_create(def, &p, &e), 0);
		assert_int_equal(codec_dec_create(def, &p, &d), 0);
		for (unsigned i = 0; i < 10; i++) {
			au_tones(in, frame, rate, i * frame, f1, a1, 1);
			n = codec_encode(e, in, frame, pay, sizeof(pay));
			assert_true(n > 0);
			assert_int_equal(codec_decode(d, pay, (size_t)n, out, CODEC_MAX_DECODE),
					 frame);
		}
		n = codec_conceal(d, NULL, 0, frame, out, CODEC_MAX_DECODE);
		assert_int_equal(n, frame);
		for (unsigned i = 0; i < frame; i++)
			e2 += (double)out[i] * out[i];
		if (sqrt(e2 / frame) < 1000)
			fail_msg("%s: concealment rms %.0f", def->name, sqrt(e2 / frame));
		assert_int_equal(codec_conceal(d, NULL, 0, frame, out, frame - 1), -EMSGSIZE);
		codec_enc_destroy(e);
		codec_dec_destroy(d);
	}
}

/* Opus FEC: with useinbandfec the payload after a loss restores the lost frame. */
static void test_opus_fec(void **state)
{
	const struct codec_def *def = codec_get(CODEC_OPUS);
	static const unsigned f1[] = { 1004 };
	static const double a1[] = { 8000 };
	uint8_t pay[12][CODEC_MAX_PAYLOAD];
	int len[12];
	int16_t in[960], out[960];
	struct codec_params p;
	struct codec_enc *e;
	struct codec_dec *d;
	struct au_fit fit;

	(void)state;
	codec_params_default(def, &p);
	p.pcm_rate = 8000;
	p.fec = true;
	p.loss_pct = 20;
	p.bitrate = 32000;
	assert_int_equal(codec_enc_create(def, &p, &e), 0);
	assert_int_equal(codec_dec_create(def, &p, &d), 0);
	for (unsigned i = 0; i < 12; i++) {
		au_tones(in, 160, 8000, i * 160, f1, a1, 1);
		len[i] = codec_encode(e, in, 160, pay[i], sizeof(pay[i]));
		assert_true(len[i] > 0);
	}
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(codec_decode(d, pay[i], (size_t)len[i], out, 960), 160);
	/* packet 10 lost; 11 carries its FEC copy */
	assert_int_equal(codec_conceal(d, pay[11], (size_t)len[11], 160, out, 960), 160);
	au_fit(out, 160, 8000, (const unsigned[]){ 1004 }, 1, &fit);
	if (fit.amp[0] < 4000)
		fail_msg("FEC frame amplitude %.0f", fit.amp[0]);
	codec_enc_destroy(e);
	codec_dec_destroy(d);
}

static void test_malformed(void **state)
{
	struct codec_params p;
	struct codec_dec *d;
	int16_t out[CODEC_MAX_DECODE];
	uint8_t junk[1500];

	(void)state;
	memset(junk, 0xff, sizeof(junk));
	codec_params_default(codec_get(CODEC_G729), &p);
	assert_int_equal(codec_dec_create(codec_get(CODEC_G729), &p, &d), 0);
	assert_int_equal(codec_decode(d, junk, 7, out, CODEC_MAX_DECODE), -EINVAL);
	assert_int_equal(codec_decode(d, junk, 12, out, CODEC_MAX_DECODE), 160);  /* + SID */
	assert_int_equal(codec_decode(d, junk, 200, out, 160), -EMSGSIZE);
	assert_int_equal(codec_decode(d, junk, 0, out, CODEC_MAX_DECODE), -EINVAL);
	codec_dec_destroy(d);

	codec_params_default(codec_get(CODEC_OPUS), &p);
	assert_int_equal(codec_dec_create(codec_get(CODEC_OPUS), &p, &d), 0);
	junk[0] = 0x03;         /* code 3 with a frame count byte of 0xff: invalid */
	assert_int_equal(codec_decode(d, junk, 2, out, CODEC_MAX_DECODE), -EINVAL);
	codec_dec_destroy(d);

	codec_params_default(codec_get(CODEC_PCMU), &p);
	assert_int_equal(codec_dec_create(codec_get(CODEC_PCMU), &p, &d), 0);
	assert_int_equal(codec_decode(d, junk, 161, out, 160), -EMSGSIZE);
	assert_int_equal(codec_decode(d, junk, 160, out, 160), 160);
	codec_dec_destroy(d);
}

/* G.729 annex B: silence becomes SID / nothing, speech stays 10-byte frames. */
static void test_g729_annexb(void **state)
{
	const struct codec_def *def = codec_get(CODEC_G729);
	int16_t in[160] = { 0 }, out[CODEC_MAX_DECODE];
	uint8_t pay[CODEC_MAX_PAYLOAD];
	struct codec_params p;
	struct codec_enc *e;
	struct codec_dec *d;
	unsigned small = 0;

	(void)state;
	codec_params_default(def, &p);
	assert_true(p.annexb);
	assert_int_equal(codec_enc_create(def, &p, &e), 0);
	assert_int_equal(codec_dec_create(def, &p, &d), 0);
	for (int i = 0; i < 50; i++) {
		int n = codec_encode(e, in, 160, pay, sizeof(pay));

		assert_true(n >= 0 && n <= 20);
		assert_true(n % 10 == 0 || n % 10 == 2);
		if (n < 20)
			small++;
		if (n > 0)
			assert_true(codec_decode(d, pay, (size_t)n, out, CODEC_MAX_DECODE) > 0);
	}
	assert_true(small > 40);        /* silence is (almost) never sent as speech */
	codec_enc_destroy(e);
	codec_dec_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_fmtp),
		cmocka_unit_test(test_frame_ok),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_conceal),
		cmocka_unit_test(test_opus_fec),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_g729_annexb),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
