/* transcode: every codec pair through PCMU with a tone and a multi-tone signal (SNR,
 * frequency, level; table printed), ptime conversion, loss, jumps, SSRC change, and
 * DTMF both ways. The receiver places decoded audio by output RTP timestamp, so a wrong
 * timestamp shows up as a broken signal, not only as a failed equality. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <spandsp.h>

#include "sluice/codec.h"
#include "sluice/rfc4733.h"
#include "sluice/transcode.h"
#include "audio.h"

#define SECONDS     2
#define MAXRATE     48000
#define PT_IN       96
#define PT_OUT      97
#define TE_IN       101
#define TE_OUT      102

static struct transcode_out obuf[TRANSCODE_MAX_OUT];

/* ---- a sender: PCM at the codec's native rate -> RTP payloads ---- */
struct tx {
	const struct codec_def *def;
	struct codec_enc *enc;
	unsigned rate, frame, ticks;
	uint16_t seq;
	uint32_t ts, ssrc;
	uint8_t pt;
};

static void tx_init(struct tx *t, enum codec_id id, unsigned ptime, uint8_t pt)
{
	struct codec_params p;

	memset(t, 0, sizeof(*t));
	t->def = codec_get(id);
	codec_params_default(t->def, &p);
	p.annexb = false;
	assert_int_equal(codec_enc_create(t->def, &p, &t->enc), 0);
	t->rate = codec_enc_rate(t->enc);
	t->frame = t->rate * ptime / 1000;
	t->ticks = t->def->clock_rate * ptime / 1000;
	t->seq = 4000;
	t->ts = 123456;
	t->ssrc = 0x1111;
	t->pt = pt;
}

/* ---- a receiver: output payloads -> PCM placed by timestamp ---- */
struct rx {
	const struct codec_def *def;
	struct codec_dec *dec;
	unsigned rate;
	bool have;
	uint32_t ts0, last_ts, ssrc;
	uint16_t last_seq;
	unsigned packets, markers, bad_seq, bad_ts;
	unsigned step;          /* expected ts step, 0 = do not check */
	int16_t *pcm;
	size_t len;             /* samples allocated */
	size_t end;             /* furthest sample written */
	/* RFC 4733 */
	struct rfc4733_rx ev;
	char digits[64];
	unsigned ndigits, end_packets;
	uint32_t dur[64];
};

static void rx_init(struct rx *r, enum codec_id id, unsigned step)
{
	struct codec_params p;

	memset(r, 0, sizeof(*r));
	r->def = codec_get(id);
	codec_params_default(r->def, &p);
	assert_int_equal(codec_dec_create(r->def, &p, &r->dec), 0);
	r->rate = codec_dec_rate(r->dec);
	r->len = (size_t)r->rate * (SECONDS + 2);
	r->pcm = calloc(r->len, sizeof(*r->pcm));
	assert_non_null(r->pcm);
	r->step = step;
	rfc4733_rx_init(&r->ev);
}

static void rx_free(struct rx *r)
{
	codec_dec_destroy(r->dec);
	free(r->pcm);
}

static void rx_event(struct rx *r, const struct transcode_out *o)
{
	struct rfc4733_event ev;
	unsigned f;

	assert_int_equal(o->len, 4);
	assert_int_equal(rfc4733_parse(o->payload, o->len, &ev), 0);
	if (ev.end)
		r->end_packets++;
	f = rfc4733_rx_feed(&r->ev, o->ts, &ev);
	if ((f & RFC4733_RX_START) && r->ndigits < 63) {
		assert_true(o->marker);
		r->digits[r->ndigits++] = rfc4733_event_digit(ev.event);
	}
	if (f & RFC4733_RX_END)
		r->dur[r->ndigits - 1] = ev.duration;
}

static void rx_put(struct rx *r, const struct transcode_out *o)
{
	int16_t tmp[CODEC_MAX_DECODE];
	int64_t pos;
	int n;

	if (r->have) {
		if (o->seq != (uint16_t)(r->last_seq + 1))
			r->bad_seq++;
		if (o->ssrc != r->ssrc)
			r->bad_seq++;
	} else {
		r->ts0 = o->ts;
		r->ssrc = o->ssrc;
	}
	r->last_seq = o->seq;
	if (o->pt == TE_OUT) {
		r->have = true;
		rx_event(r, o);
		return;
	}
	assert_int_equal(o->pt, PT_OUT);
	if (r->have && r->step && !o->marker && o->ts - r->last_ts != r->step)
		r->bad_ts++;
	r->have = true;
	r->last_ts = o->ts;
	r->packets++;
	r->markers += o->marker;
	n = codec_decode(r->dec, o->payload, o->len, tmp, CODEC_MAX_DECODE);
	assert_true(n > 0);
	pos = (int64_t)(int32_t)(o->ts - r->ts0) * r->rate / r->def->clock_rate;
	if (pos < 0 || (size_t)pos + (size_t)n > r->len)
		return;
	memcpy(r->pcm + pos, tmp, (size_t)n * sizeof(*tmp));
	if ((size_t)pos + (size_t)n > r->end)
		r->end = (size_t)pos + (size_t)n;
}

static int feed(struct transcode *xc, struct rx *r, const struct transcode_in *in)
{
	int n = transcode_packet(xc, in, obuf, TRANSCODE_MAX_OUT);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		rx_put(r, &obuf[i]);
	return n;
}

/* Sends frame f of the signal from tx through xc into r. */
static int tx_send(struct tx *t, struct transcode *xc, struct rx *r, const int16_t *pcm)
{
	uint8_t pay[CODEC_MAX_PAYLOAD];
	struct transcode_in in;
	int n = codec_encode(t->enc, pcm, t->frame, pay, sizeof(pay));

	assert_true(n > 0);
	in = (struct transcode_in){ .pt = t->pt, .seq = t->seq++, .ts = t->ts, .ssrc = t->ssrc,
				    .payload = pay, .len = (size_t)n };
	t->ts += t->ticks;
	return feed(xc, r, &in);
}

static void xc_cfg(struct transcode_cfg *c, enum codec_id in, enum codec_id out,
		   unsigned out_ptime)
{
	memset(c, 0, sizeof(*c));
	c->in.codec = codec_get(in);
	c->out.codec = codec_get(out);
	codec_params_default(c->in.codec, &c->in.params);
	codec_params_default(c->out.codec, &c->out.params);
	c->out.params.annexb = false;
	c->in.pt = PT_IN;
	c->out.pt = PT_OUT;
	c->in.dtmf_pt = c->out.dtmf_pt = -1;
	c->out.ptime = out_ptime;
	c->ssrc = 0xabcdef01;
	c->seq = 65530;         /* wraps during the test */
	c->ts = 0xfffff000;     /* so does the timestamp */
}

struct sig { const char *name; unsigned k; unsigned freq[3]; double amp[3]; };

static const struct sig sig_tone = { "1004 Hz", 1, { 1004 }, { 8000 } };
static const struct sig sig_multi = { "3-tone", 3, { 404, 1004, 2204 }, { 4000, 4000, 4000 } };

struct result { double snr, freq, level_db; unsigned packets, bad_seq, bad_ts; };

/* SECONDS of signal from `in` codec (ptime in_ptime) to `out` (out_ptime). */
static void run_pair(enum codec_id in, enum codec_id out, unsigned in_ptime,
		     unsigned out_ptime, const struct sig *s, struct result *res)
{
	static int16_t src[MAXRATE * SECONDS];
	struct transcode_cfg cfg;
	struct transcode *xc;
	struct au_fit fit;
	struct tx t;
	struct rx r;
	unsigned op = out_ptime ? out_ptime : codec_get(out)->default_ptime;

	xc_cfg(&cfg, in, out, out_ptime);
	assert_int_equal(transcode_create(&cfg, &xc), 0);
	tx_init(&t, in, in_ptime, PT_IN);
	rx_init(&r, out, codec_get(out)->clock_rate * op / 1000);
	au_tones(src, t.rate * SECONDS, t.rate, 0, s->freq, s->amp, s->k);
	for (unsigned i = 0; i + t.frame <= t.rate * SECONDS; i += t.frame)
		tx_send(&t, xc, &r, src + i);
	assert_true(r.end >= r.rate * 3 / 2);
	au_fit(r.pcm + r.rate / 2, r.rate, r.rate, s->freq, s->k, &fit);
	res->snr = fit.snr_db;
	res->level_db = 20 * log10(fit.amp[s->k / 2] / s->amp[s->k / 2]);
	res->freq = au_peak_freq(r.pcm + r.rate / 2, r.rate, r.rate, s->freq[s->k / 2] - 100,
				 s->freq[s->k / 2] + 100);
	res->packets = r.packets;
	res->bad_seq = r.bad_seq;
	res->bad_ts = r.bad_ts;
	transcode_destroy(xc);
	codec_enc_destroy(t.enc);
	rx_free(&r);
}

/* Every pair through PCMU, both directions, both signals. Limits: the weaker codec's
 * own round-trip limit (test_codec) less a cascade allowance; the multi-tone is harder
 * for the vocoders. */
static void test_pairs(void **state)
{
	static const struct { enum codec_id a; double tone, multi; } peers[] = {
		{ CODEC_PCMA, 30, 30 },
		{ CODEC_G722, 30, 30 },
		{ CODEC_OPUS, 15, 12 },
		{ CODEC_G729, 12, 6 },
	};
	const struct sig *sigs[] = { &sig_tone, &sig_multi };

	(void)state;
	printf("transcode through PCMU (SNR of the decoded output, 20 ms ptime):\n");
	printf("  %-14s %-8s %8s %9s %9s\n", "pair", "signal", "SNR dB", "freq Hz", "level dB");
	for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
		for (int dir = 0; dir < 2; dir++) {
			for (int k = 0; k < 2; k++) {
				enum codec_id in = dir ? CODEC_PCMU : peers[i].a;
				enum codec_id out = dir ? peers[i].a : CODEC_PCMU;
				double lim = k ? peers[i].multi : peers[i].tone;
				char name[32];
				struct result r;

				run_pair(in, out, 20, 20, sigs[k], &r);
				snprintf(name, sizeof(name), "%s->%s", codec_get(in)->name,
					 codec_get(out)->name);
				printf("  %-14s %-8s %8.1f %9.0f %+9.2f\n", name, sigs[k]->name,
				       r.snr, r.freq, r.level_db);
				if (r.snr < lim)
					fail_msg("%s %s: SNR %.1f < %.1f", name, sigs[k]->name,
						 r.snr, lim);
				if (fabs(r.freq - sigs[k]->freq[sigs[k]->k / 2]) > 2)
					fail_msg("%s: frequency %.0f", name, r.freq);
				if (fabs(r.level_db) > 2)
					fail_msg("%s: level %+.2f dB", name, r.level_db);
				assert_int_equal(r.bad_seq, 0);
				assert_int_equal(r.bad_ts, 0);
			}
		}
	}
}

/* ptime conversion: packet count and timestamp steps follow the output ptime, and the
 * tone survives (it would not if timestamps were off). */
static void test_ptime(void **state)
{
	static const struct { enum codec_id in, out; unsigned pin, pout; } c[] = {
		{ CODEC_PCMA, CODEC_PCMU, 20, 30 },
		{ CODEC_PCMA, CODEC_PCMU, 20, 40 },
		{ CODEC_PCMA, CODEC_PCMU, 20, 60 },
		{ CODEC_PCMA, CODEC_PCMU, 60, 20 },
		{ CODEC_PCMA, CODEC_PCMU, 30, 20 },
		{ CODEC_OPUS, CODEC_PCMU, 20, 30 },
		{ CODEC_PCMU, CODEC_OPUS, 30, 60 },
		{ CODEC_PCMU, CODEC_G729, 20, 30 },
		{ CODEC_G722, CODEC_PCMU, 40, 20 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct result r;
		unsigned expect = SECONDS * 1000 / c[i].pout;

		run_pair(c[i].in, c[i].out, c[i].pin, c[i].pout, &sig_tone, &r);
		if (r.bad_seq || r.bad_ts || r.snr < 12 || r.packets + 2 < expect ||
		    r.packets > expect)
			fail_msg("case %zu: %u packets (want ~%u), bad seq %u ts %u, SNR %.1f",
				 i + 1, r.packets, expect, r.bad_seq, r.bad_ts, r.snr);
	}
}

static void test_create_errors(void **state)
{
	struct transcode_cfg cfg;
	struct transcode *xc;

	(void)state;
	xc_cfg(&cfg, CODEC_PCMU, CODEC_OPUS, 30);   /* 30 ms is no Opus frame */
	assert_int_equal(transcode_create(&cfg, &xc), -EINVAL);
	xc_cfg(&cfg, CODEC_PCMU, CODEC_TELEPHONE_EVENT, 20);
	assert_int_equal(transcode_create(&cfg, &xc), -EINVAL);
	xc_cfg(&cfg, CODEC_PCMU, CODEC_G729, 25);
	assert_int_equal(transcode_create(&cfg, &xc), -EINVAL);
	xc_cfg(&cfg, CODEC_PCMU, CODEC_PCMA, 20);
	assert_int_equal(transcode_create(&cfg, &xc), 0);
	assert_int_equal(transcode_packet(xc, &(struct transcode_in){ .pt = 5 }, obuf,
					  TRANSCODE_MAX_OUT), -ENOMSG);
	assert_int_equal(transcode_packet(xc, &(struct transcode_in){ .pt = PT_IN }, obuf, 4),
			 -EINVAL);
	transcode_destroy(xc);
}

/* Loss (seq gap) is concealed in place: timestamps stay continuous, the tone goes on;
 * the jitter-buffer path (transcode_lost) does the same without double filling. */
static void test_loss(void **state)
{
	static int16_t src[8000 * SECONDS];
	uint8_t pay[CODEC_MAX_PAYLOAD];
	struct transcode_stats st;
	struct transcode_cfg cfg;
	struct transcode *xc;
	struct au_fit fit;
	struct tx t;
	struct rx r;

	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		xc_cfg(&cfg, CODEC_OPUS, CODEC_PCMU, 20);
		cfg.in.params.fec = true;
		assert_int_equal(transcode_create(&cfg, &xc), 0);
		tx_init(&t, CODEC_OPUS, 20, PT_IN);
		rx_init(&r, CODEC_PCMU, 160);
		au_tones(src, 48000 / 50, 48000, 0, sig_tone.freq, sig_tone.amp, 1);
		for (unsigned f = 0; f < 50 * SECONDS; f++) {
			static int16_t frame[960];

			au_tones(frame, 960, 48000, f * 960, sig_tone.freq, sig_tone.amp, 1);
			if (f % 10 != 5) {
				tx_send(&t, xc, &r, frame);
				continue;
			}
			/* lost: encode to keep the encoder's state, do not send */
			assert_true(codec_encode(t.enc, frame, 960, pay, sizeof(pay)) > 0);
			t.seq++;
			t.ts += t.ticks;
			if (mode == 1) {
				int n = transcode_lost(xc, NULL, obuf, TRANSCODE_MAX_OUT);

				for (int i = 0; i < n; i++)
					rx_put(&r, &obuf[i]);
			}
		}
		transcode_get_stats(xc, &st);
		assert_int_equal(r.bad_seq, 0);
		assert_int_equal(r.bad_ts, 0);
		assert_int_equal(r.markers, 1);
		assert_int_equal(st.concealed_ms, 20 * 5 * SECONDS);
		assert_int_equal(r.packets, 50 * SECONDS);   /* Opus decodes at 8 kHz: no resampler delay */
		au_fit(r.pcm + 4000, 8000, 8000, sig_tone.freq, 1, &fit);
		if (fit.snr_db < 8)
			fail_msg("mode %d: SNR with 10%% loss %.1f", mode, fit.snr_db);
		transcode_destroy(xc);
		codec_enc_destroy(t.enc);
		rx_free(&r);
	}
}

/* A timestamp jump without loss (silence suppression) moves the output timestamp by
 * the same time and sets the marker; an SSRC change keeps output SSRC/seq going. */
static void test_jump_and_ssrc(void **state)
{
	static int16_t frame[160];
	struct transcode_cfg cfg;
	struct transcode *xc;
	struct tx t;
	struct rx r;
	uint32_t before;

	(void)state;
	xc_cfg(&cfg, CODEC_PCMA, CODEC_PCMU, 20);
	assert_int_equal(transcode_create(&cfg, &xc), 0);
	tx_init(&t, CODEC_PCMA, 20, PT_IN);
	rx_init(&r, CODEC_PCMU, 160);
	for (int i = 0; i < 10; i++)
		tx_send(&t, xc, &r, frame);
	before = r.last_ts;
	t.ts += 8000;           /* one second of silence suppression */
	tx_send(&t, xc, &r, frame);
	assert_int_equal(r.markers, 2);
	assert_int_equal(r.last_ts - before, 160 + 8000);
	t.ssrc = 0x2222;
	t.seq = 17;
	t.ts = 99;
	for (int i = 0; i < 5; i++)
		tx_send(&t, xc, &r, frame);
	assert_int_equal(r.markers, 3);
	assert_int_equal(r.bad_seq, 0);
	assert_int_equal(r.bad_ts, 0);
	/* late and duplicate input is dropped */
	t.seq -= 2;
	assert_int_equal(tx_send(&t, xc, &r, frame), 0);
	transcode_destroy(xc);
	codec_enc_destroy(t.enc);
	rx_free(&r);
}

/* ---- DTMF ---- */

static const char all_digits[] = "0123456789*#ABCD";

struct cbrec { char digits[32]; unsigned n; uint32_t dur_ms[32]; bool inband; };

static void on_dtmf(void *arg, const struct transcode_dtmf *ev)
{
	struct cbrec *c = arg;

	if (c->n < 31) {
		c->dur_ms[c->n] = ev->duration_ms;
		c->digits[c->n++] = ev->digit;
	}
	c->inband = ev->inband;
}

static void send_event(struct tx *t, struct transcode *xc, struct rx *r, uint8_t event,
		       bool end, uint16_t dur, bool marker)
{
	struct rfc4733_event ev = { .event = event, .end = end, .volume = 10, .duration = dur };
	uint8_t p[4];
	struct transcode_in in;

	rfc4733_build(&ev, p, sizeof(p));
	in = (struct transcode_in){ .pt = TE_IN, .marker = marker, .seq = t->seq++, .ts = t->ts,
				    .ssrc = t->ssrc, .payload = p, .len = 4 };
	feed(xc, r, &in);
}

/* Sends each digit as 4733 (100 ms: start, updates every 20 ms, end x3) with 100 ms of
 * silent audio between digits. */
static void send_4733_digits(struct tx *t, struct transcode *xc, struct rx *r)
{
	static int16_t silence[960];

	for (const char *d = all_digits; *d; d++) {
		int ev = rfc4733_digit_event(*d);
		unsigned step = t->def->clock_rate / 50;

		for (int i = 0; i < 5; i++)
			tx_send(t, xc, r, silence);
		for (unsigned k = 1; k <= 5; k++)
			send_event(t, xc, r, (uint8_t)ev, false, (uint16_t)(k * step), k == 1);
		for (int i = 0; i < 3; i++)
			send_event(t, xc, r, (uint8_t)ev, true, (uint16_t)(5 * step), false);
		t->ts += 5 * step;
	}
	for (int i = 0; i < 10; i++)
		tx_send(t, xc, r, silence);
}

static void detect_cb(void *arg, const char *digits, int len)
{
	struct cbrec *c = arg;

	for (int i = 0; i < len && c->n < 31; i++)
		c->digits[c->n++] = digits[i];
}

/* 4733 in, no telephone-event out: tones that spandsp's detector reads back. */
static void test_dtmf_4733_to_tone(void **state)
{
	static const enum codec_id outs[] = { CODEC_PCMU, CODEC_G722, CODEC_OPUS };

	(void)state;
	for (size_t k = 0; k < sizeof(outs) / sizeof(outs[0]); k++) {
		struct transcode_cfg cfg;
		struct transcode *xc;
		struct cbrec cb = { 0 }, det = { 0 };
		dtmf_rx_state_t *drx;
		struct tx t;
		struct rx r;
		int16_t *p8;
		size_t n8;

		xc_cfg(&cfg, CODEC_PCMU, outs[k], 20);
		cfg.in.dtmf_pt = TE_IN;
		cfg.on_dtmf = on_dtmf;
		cfg.arg = &cb;
		assert_int_equal(transcode_create(&cfg, &xc), 0);
		tx_init(&t, CODEC_PCMU, 20, PT_IN);
		rx_init(&r, outs[k], 0);
		send_4733_digits(&t, xc, &r);
		assert_string_equal(cb.digits, all_digits);
		for (unsigned i = 0; i < cb.n; i++)
			assert_int_equal(cb.dur_ms[i], 100);
		assert_false(cb.inband);

		/* the detector wants 8 kHz: take every 2nd / 6th sample of a band-limited
		 * output (DTMF is below 1.7 kHz, G.722/Opus keep nothing near 4 kHz...) */
		n8 = r.end * 8000 / r.rate;
		p8 = calloc(n8 + 1, sizeof(*p8));
		for (size_t i = 0; i < n8; i++)
			p8[i] = r.pcm[i * (r.rate / 8000)];
		drx = dtmf_rx_init(NULL, detect_cb, &det);
		dtmf_rx(drx, p8, (int)n8);
		dtmf_rx_free(drx);
		free(p8);
		if (strcmp(det.digits, all_digits))
			fail_msg("%s: detected \"%s\"", codec_get(outs[k])->name, det.digits);
		transcode_destroy(xc);
		codec_enc_destroy(t.enc);
		rx_free(&r);
	}
}

/* In-band tones in, telephone-event out: RFC 4733 events with the right digits, three
 * end packets each, durations close to the tone's. */
static void test_dtmf_tone_to_4733(void **state)
{
	static const enum codec_id ins[] = { CODEC_PCMU, CODEC_G722, CODEC_OPUS };

	(void)state;
	for (size_t k = 0; k < sizeof(ins) / sizeof(ins[0]); k++) {
		static int16_t pcm[48000 * 6];
		struct transcode_cfg cfg;
		struct transcode *xc;
		struct cbrec cb = { 0 };
		dtmf_tx_state_t *dtx;
		int16_t tone8[8000 * 5];
		struct tx t;
		struct rx r;
		unsigned n, up;

		/* 120 ms digits, 120 ms gaps, at 8 kHz, then upsampled by repetition is
		 * not clean: regenerate at the codec rate through the pipeline instead */
		dtx = dtmf_tx_init(NULL);
		dtmf_tx_set_timing(dtx, 120, 120);
		dtmf_tx_put(dtx, all_digits, -1);
		memset(tone8, 0, sizeof(tone8));
		n = (unsigned)dtmf_tx(dtx, tone8 + 800, 8000 * 4);
		dtmf_tx_free(dtx);
		assert_true(n > 16 * 1900);

		tx_init(&t, ins[k], 20, PT_IN);
		up = t.rate / 8000;
		/* zero-order hold + the codec's own band limit is enough for the detector */
		for (unsigned i = 0; i < 8000 * 5 * up; i++)
			pcm[i] = tone8[i / up];
		xc_cfg(&cfg, ins[k], CODEC_PCMA, 20);
		cfg.out.dtmf_pt = TE_OUT;
		cfg.on_dtmf = on_dtmf;
		cfg.arg = &cb;
		assert_int_equal(transcode_create(&cfg, &xc), 0);
		rx_init(&r, CODEC_PCMA, 0);
		for (unsigned i = 0; i + t.frame <= 8000 * 5 * up; i += t.frame)
			tx_send(&t, xc, &r, pcm + i);
		if (strcmp(r.digits, all_digits))
			fail_msg("%s: 4733 digits \"%s\"", codec_get(ins[k])->name, r.digits);
		assert_string_equal(cb.digits, all_digits);
		assert_true(cb.inband);
		assert_int_equal(r.end_packets, 3 * 16);
		assert_int_equal(r.bad_seq, 0);
		for (unsigned i = 0; i < 16; i++) {
			/* 120 ms = 960 ticks; detection granularity is a few blocks */
			if (r.dur[i] < 960 - 320 || r.dur[i] > 960 + 320)
				fail_msg("%s digit %u: duration %u", codec_get(ins[k])->name, i,
					 r.dur[i]);
		}
		transcode_destroy(xc);
		codec_enc_destroy(t.enc);
		rx_free(&r);
	}
}

/* telephone-event on both sides: forwarded with the new payload type, the output's
 * sequence numbers, and timestamps/durations rescaled to Opus' 48 kHz clock. */
static void test_dtmf_forward(void **state)
{
	struct transcode_cfg cfg;
	struct transcode *xc;
	struct cbrec cb = { 0 };
	struct tx t;
	struct rx r;

	(void)state;
	xc_cfg(&cfg, CODEC_PCMU, CODEC_OPUS, 20);
	cfg.in.dtmf_pt = TE_IN;
	cfg.out.dtmf_pt = TE_OUT;
	cfg.on_dtmf = on_dtmf;
	cfg.arg = &cb;
	assert_int_equal(transcode_create(&cfg, &xc), 0);
	tx_init(&t, CODEC_PCMU, 20, PT_IN);
	rx_init(&r, CODEC_OPUS, 0);
	send_4733_digits(&t, xc, &r);
	assert_string_equal(r.digits, all_digits);
	assert_string_equal(cb.digits, all_digits);
	assert_int_equal(r.end_packets, 3 * 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(r.dur[i], 800 * 6);
	assert_int_equal(r.bad_seq, 0);
	transcode_destroy(xc);
	codec_enc_destroy(t.enc);
	rx_free(&r);
}

static void detect8k(const struct rx *r, struct cbrec *det)
{
	size_t n8 = r->end * 8000 / r->rate;
	int16_t *p8 = calloc(n8 + 1, sizeof(*p8));
	dtmf_rx_state_t *drx;

	assert_non_null(p8);
	for (size_t i = 0; i < n8; i++)
		p8[i] = r->pcm[i * (r->rate / 8000)];
	drx = dtmf_rx_init(NULL, detect_cb, det);
	dtmf_rx(drx, p8, (int)n8);
	dtmf_rx_free(drx);
	free(p8);
}

/* Injected digits (play DTMF): in-band tones without telephone-event on the output,
 * RFC 4733 events with it; in order, with the asked duration, never reported as
 * received DTMF; the queue is bounded. */
static void test_dtmf_inject(void **state)
{
	static const struct { enum codec_id out; int te; } cases[] = {
		{ CODEC_PCMU, -1 }, { CODEC_OPUS, -1 }, { CODEC_PCMU, TE_OUT },
	};
	static int16_t silence[960];

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct transcode_cfg cfg;
		struct transcode_stats st;
		struct transcode *xc;
		struct cbrec cb = { 0 }, det = { 0 };
		struct tx t;
		struct rx r;

		xc_cfg(&cfg, CODEC_PCMA, cases[k].out, 20);
		cfg.out.dtmf_pt = cases[k].te;
		cfg.on_dtmf = on_dtmf;
		cfg.arg = &cb;
		assert_int_equal(transcode_create(&cfg, &xc), 0);
		assert_int_equal(transcode_dtmf_inject(xc, 16, 100, 8, 100), -EINVAL);
		assert_int_equal(transcode_dtmf_inject(xc, 1, 0, 8, 100), -EINVAL);
		for (const char *d = all_digits; *d; d++)
			assert_int_equal(transcode_dtmf_inject(xc, (uint8_t)rfc4733_digit_event(*d),
							       100, 8, 100), 0);
		tx_init(&t, CODEC_PCMA, 20, PT_IN);
		rx_init(&r, cases[k].out, 0);
		for (int i = 0; i < 180; i++)           /* 3.6 s: 16 x (100 + 100 ms) */
			tx_send(&t, xc, &r, silence);
		transcode_get_stats(xc, &st);
		assert_int_equal(st.dtmf_injected, 16);
		assert_int_equal(cb.n, 0);
		assert_int_equal(r.bad_seq, 0);
		if (cases[k].te < 0) {
			detect8k(&r, &det);
			if (strcmp(det.digits, all_digits))
				fail_msg("%s: detected \"%s\"", codec_get(cases[k].out)->name,
					 det.digits);
		} else {
			assert_string_equal(r.digits, all_digits);
			assert_int_equal(r.end_packets, 3 * 16);
			for (unsigned i = 0; i < 16; i++)
				assert_int_equal(r.dur[i], 800);
		}
		for (int i = 0; i < TRANSCODE_INJECT_MAX; i++)
			assert_int_equal(transcode_dtmf_inject(xc, 5, 100, 8, 100), 0);
		assert_int_equal(transcode_dtmf_inject(xc, 5, 100, 8, 100), -ENOBUFS);
		transcode_destroy(xc);
		codec_enc_destroy(t.enc);
		rx_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_ptime),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_jump_and_ssrc),
		cmocka_unit_test(test_dtmf_4733_to_tone),
		cmocka_unit_test(test_dtmf_tone_to_4733),
		cmocka_unit_test(test_dtmf_forward),
		cmocka_unit_test(test_dtmf_inject),
	};
	return cmocka_run_group_tests_name("transcode", tests, NULL, NULL);
}
