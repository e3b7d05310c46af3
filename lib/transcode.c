/* Per-direction transcoding pipeline; the contract is in include/sluice/transcode.h.
 *
 * Timeline bookkeeping: in_ts is the input RTP timestamp of the next sample the
 * pipeline expects; out_ts is the output timestamp of the first sample waiting in the
 * FIFO. Everything that enters the FIFO (decoded audio, concealment, silence, tones)
 * advances in_ts by its duration, so an input timestamp maps to an output timestamp as
 * out_ts + fifo duration + (ts - in_ts). */
#include "sluice/transcode.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

#include "sluice/resample.h"
#include "sluice/rfc4733.h"

#define MAX_RATE        48000
#define MAX_FRAME       (MAX_RATE * CODEC_MAX_PTIME / 1000)    /* 5760 */
#define FIFO_CAP        (2 * MAX_FRAME + 256)
#define DTMF_RATE       8000
#define AUX_CAP         (DTMF_RATE * CODEC_MAX_PTIME / 1000 + 128)
#define FILL_CAP_MS     200     /* tone filled per RFC 4733 packet, bounds out[] use */
#define EVENT_VOLUME    10      /* -dBm0 of detected events */
#define EVENT_END_COPIES 3

enum dtmf_mode {
	DTMF_NONE,              /* neither side has telephone-event */
	DTMF_FORWARD,           /* both: rewrite and forward */
	DTMF_TO_TONE,           /* input only: RFC 4733 -> in-band */
	DTMF_TO_EVENT,          /* output only: in-band -> RFC 4733 */
};

/* A digit queued by transcode_dtmf_inject(). */
struct inject_digit {
	uint8_t event, volume;
	uint16_t duration_ms, pause_ms;
};

/* The injected digit being played. */
struct inject {
	bool active, sent;      /* sent: RFC 4733 start packet (with marker) went out */
	bool paused;            /* no digit starts before next_ts */
	uint8_t event, volume;
	uint32_t ts, end_ts, next_ts;   /* output clock */
	double w1, w2, amp;     /* in-band: radians per sample of the two tones, amplitude */
	uint32_t n;             /* in-band: samples generated */
};

/* In-band digit being turned into RFC 4733 (DTMF_TO_EVENT). */
struct det_event {
	bool active, ending;
	bool sent;              /* start packet (with marker) went out */
	uint8_t event;
	uint32_t ts, end_ts;    /* output clock */
};

struct transcode {
	struct transcode_cfg cfg;
	struct codec_dec *dec;
	struct codec_enc *enc;
	struct resample *rs;            /* dec_rate -> enc_rate, NULL if equal */
	struct resample *rs_det;        /* dec_rate -> 8 kHz for the detector */
	struct resample *rs_tone;       /* 8 kHz tones -> enc_rate when neither side is 8k */
	dtmf_rx_state_t *drx;
	dtmf_tx_state_t *dtx;
	enum dtmf_mode dtmf;
	unsigned in_clock, out_clock, dec_rate, enc_rate, enc_ch;
	unsigned frame;                 /* samples per output packet at enc_rate */
	unsigned frame_ticks;           /* output clock ticks per output packet */
	unsigned dec_max;               /* samples one payload may decode to */

	/* input side */
	bool started;
	uint32_t in_ssrc;
	uint16_t in_seq;                /* next expected */
	uint32_t in_ts;
	uint32_t in_last_ticks;         /* duration of the last audio packet */
	bool silence_gap;               /* next gap follows a tone: silence, not PLC */
	struct rfc4733_rx rx;
	bool tone_active;               /* DTMF_TO_TONE: event running, audio suppressed */
	uint32_t ev_out_ts;             /* output timestamp of the current RFC 4733 event */

	/* in-band detection */
	struct det_event det, det_next;
	uint32_t det_block_ts;          /* output timestamp of the block being analysed */

	/* output side */
	uint16_t out_seq;
	uint32_t out_ts;
	bool marker;
	struct transcode_out *ob;       /* caller's array during one call */
	unsigned on, omax;

	struct inject inj;
	struct inject_digit inj_q[TRANSCODE_INJECT_MAX];
	unsigned inj_head, inj_len;

	struct transcode_stats st;
	unsigned fifo_len;
	int16_t pcm[MAX_FRAME];         /* decoder / concealment output */
	int16_t aux[AUX_CAP];           /* 8 kHz detector input and tone output */
	int16_t stereo[2 * MAX_FRAME];
	int16_t fifo[FIFO_CAP];
};

static uint32_t scale(uint64_t v, unsigned from, unsigned to)
{
	return (uint32_t)(v * to / from);
}

static uint32_t fifo_ticks(const struct transcode *xc)
{
	return scale(xc->fifo_len, xc->enc_rate, xc->out_clock);
}

/* Output timestamp that input timestamp ts lands on (ts may lie slightly behind). */
static uint32_t map_ts(const struct transcode *xc, uint32_t ts)
{
	int64_t d = (int32_t)(ts - xc->in_ts);

	d = d * xc->out_clock / xc->in_clock;
	return xc->out_ts + fifo_ticks(xc) + (uint32_t)d;
}

static void report(struct transcode *xc, uint8_t event, uint32_t ts, uint32_t ticks,
		   unsigned clock, bool inband)
{
	struct transcode_dtmf ev = {
		.digit = rfc4733_event_digit(event),
		.event = event,
		.ts = ts,
		.duration_ms = (uint32_t)((uint64_t)ticks * 1000 / clock),
		.inband = inband,
	};

	xc->st.dtmf_events++;
	if (xc->cfg.on_dtmf)
		xc->cfg.on_dtmf(xc->cfg.arg, &ev);
}

/* ---- output ---- */

static struct transcode_out *out_take(struct transcode *xc, uint8_t pt, bool marker,
				      uint32_t ts)
{
	struct transcode_out *o;

	if (xc->on >= xc->omax)
		return NULL;        /* cannot happen with omax >= TRANSCODE_MAX_OUT */
	o = &xc->ob[xc->on++];
	o->pt = pt;
	o->marker = marker;
	o->seq = xc->out_seq++;
	o->ts = ts;
	o->ssrc = xc->cfg.ssrc;
	o->len = 0;
	xc->st.out_packets++;
	return o;
}

static void out_unget(struct transcode *xc)
{
	xc->on--;
	xc->out_seq--;
	xc->st.out_packets--;
}

static void emit_event(struct transcode *xc, uint32_t ts, uint8_t event, bool end,
		       uint8_t volume, uint32_t duration, bool marker)
{
	struct rfc4733_event ev = {
		.event = event, .end = end, .volume = volume > 63 ? 63 : volume,
		.duration = duration > 0xffff ? 0xffff : (uint16_t)duration,
	};
	struct transcode_out *o = out_take(xc, (uint8_t)xc->cfg.out.dtmf_pt, marker, ts);

	if (o)
		o->len = (uint16_t)rfc4733_build(&ev, o->payload, sizeof(o->payload));
}

static void encode_frame(struct transcode *xc, const int16_t *pcm)
{
	struct transcode_out *o;
	int n;

	if (xc->enc_ch == 2) {
		for (unsigned i = 0; i < xc->frame; i++)
			xc->stereo[2 * i] = xc->stereo[2 * i + 1] = pcm[i];
		pcm = xc->stereo;
	}
	o = out_take(xc, xc->cfg.out.pt, xc->marker, xc->out_ts);
	if (!o)
		return;
	n = codec_encode(xc->enc, pcm, xc->frame, o->payload, sizeof(o->payload));
	if (n <= 0) {
		/* DTX (or an encoder error): nothing is sent, the next packet starts a
		 * talkspurt */
		out_unget(xc);
		xc->marker = true;
		return;
	}
	o->len = (uint16_t)n;
	xc->marker = false;
}

/* A detected digit owns the frame if the frame reaches past its start: the audio is
 * replaced by an update, or by the end packets once the frame covers the end. */
static bool event_frame(struct transcode *xc)
{
	struct det_event *d = &xc->det;
	uint32_t fend = xc->out_ts + xc->frame_ticks;

	if (!d->active || (int32_t)(fend - d->ts) <= 0)
		return false;
	if (d->ending && (int32_t)(fend - d->end_ts) >= 0) {
		uint32_t dur = d->end_ts - d->ts;

		for (int i = 0; i < EVENT_END_COPIES; i++)
			emit_event(xc, d->ts, d->event, true, EVENT_VOLUME, dur, !d->sent && !i);
		report(xc, d->event, d->ts, dur, xc->out_clock, true);
		*d = xc->det_next;
		memset(&xc->det_next, 0, sizeof(xc->det_next));
		return true;
	}
	emit_event(xc, d->ts, d->event, false, EVENT_VOLUME, fend - d->ts, !d->sent);
	d->sent = true;
	return true;
}

/* ---- injected DTMF ---- */

static bool inject_start(struct transcode *xc)
{
	static const char keypad[] = "123A456B789C*0#D";
	static const double row[] = { 697, 770, 852, 941 }, col[] = { 1209, 1336, 1477, 1633 };
	struct inject *j = &xc->inj;
	const struct inject_digit *q;
	const char *k;

	if (j->paused) {
		if ((int32_t)(xc->out_ts - j->next_ts) < 0)
			return false;
		j->paused = false;
	}
	if (!xc->inj_len)
		return false;
	q = &xc->inj_q[xc->inj_head];
	xc->inj_head = (xc->inj_head + 1) % TRANSCODE_INJECT_MAX;
	xc->inj_len--;
	k = strchr(keypad, rfc4733_event_digit(q->event));
	j->active = true;
	j->sent = false;
	j->event = q->event;
	j->volume = q->volume;
	j->ts = xc->out_ts;
	j->end_ts = j->ts + scale(q->duration_ms, 1000, xc->out_clock);
	j->next_ts = j->end_ts + scale(q->pause_ms, 1000, xc->out_clock);
	j->n = 0;
	/* per tone, as spandsp levels it: 0 dBm0 is a sine 3.14 dB below full scale */
	j->amp = 32767.0 * pow(10.0, (-(double)q->volume - 3.14) / 20.0);
	j->w1 = 2 * M_PI * row[(k - keypad) / 4] / xc->enc_rate;
	j->w2 = 2 * M_PI * col[(k - keypad) % 4] / xc->enc_rate;
	return true;
}

static void inject_end(struct transcode *xc)
{
	xc->inj.active = false;
	xc->inj.paused = true;
	xc->st.dtmf_injected++;
}

/* The frame's samples before the digit's end become the tone, the rest silence. */
static void inject_tone(struct transcode *xc, int16_t *pcm)
{
	struct inject *j = &xc->inj;
	int32_t left = (int32_t)(j->end_ts - xc->out_ts);
	unsigned n = left <= 0 ? 0 : scale((uint32_t)left, xc->out_clock, xc->enc_rate);

	if (n > xc->frame)
		n = xc->frame;
	for (unsigned i = 0; i < n; i++, j->n++) {
		long v = lrint(j->amp * (sin(j->w1 * j->n) + sin(j->w2 * j->n)));

		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
	memset(pcm + n, 0, (xc->frame - n) * sizeof(*pcm));
}

/* An injected digit owns the frame: RFC 4733 packets instead of it (true), or the tone
 * written into it (false: encode it). */
static bool inject_frame(struct transcode *xc, int16_t *pcm)
{
	struct inject *j = &xc->inj;
	uint32_t fend = xc->out_ts + xc->frame_ticks;
	bool last;

	if (!j->active && !inject_start(xc))
		return false;
	last = (int32_t)(fend - j->end_ts) >= 0;
	if (xc->cfg.out.dtmf_pt < 0) {
		inject_tone(xc, pcm);
		if (last)
			inject_end(xc);
		return false;
	}
	if (last) {
		for (int i = 0; i < EVENT_END_COPIES; i++)
			emit_event(xc, j->ts, j->event, true, j->volume, j->end_ts - j->ts,
				   !j->sent && !i);
		inject_end(xc);
	} else {
		emit_event(xc, j->ts, j->event, false, j->volume, fend - j->ts, !j->sent);
		j->sent = true;
	}
	return true;
}

static void drain(struct transcode *xc)
{
	unsigned off = 0;

	while (xc->fifo_len - off >= xc->frame) {
		if (!inject_frame(xc, xc->fifo + off) && !event_frame(xc))
			encode_frame(xc, xc->fifo + off);
		off += xc->frame;
		xc->out_ts += xc->frame_ticks;
	}
	xc->fifo_len -= off;
	if (off && xc->fifo_len)
		memmove(xc->fifo, xc->fifo + off, xc->fifo_len * sizeof(*xc->fifo));
}

/* Appends PCM at the rate rs expects (enc_rate if rs is NULL), then emits packets. */
static void append(struct transcode *xc, struct resample *rs, const int16_t *pcm,
		   unsigned n)
{
	unsigned room = FIFO_CAP - xc->fifo_len;
	int m;

	if (!rs) {
		if (n > room)
			n = room;
		memcpy(xc->fifo + xc->fifo_len, pcm, n * sizeof(*pcm));
		xc->fifo_len += n;
	} else {
		m = resample_run(rs, pcm, n, xc->fifo + xc->fifo_len, room);
		if (m > 0)
			xc->fifo_len += (unsigned)m;
	}
	drain(xc);
}

/* Pads the partial frame with silence and sends it (before a jump or a resync). */
static void flush(struct transcode *xc)
{
	if (!xc->fifo_len)
		return;
	memset(xc->fifo + xc->fifo_len, 0, (xc->frame - xc->fifo_len) * sizeof(*xc->fifo));
	xc->fifo_len = xc->frame;
	drain(xc);
}

/* ---- in-band DTMF detection (DTMF_TO_EVENT) ---- */

static void dtmf_rt_cb(void *arg, int code, int level, int delay)
{
	struct transcode *xc = arg;
	struct det_event *d = xc->det.active ? &xc->det_next : &xc->det;
	int ev;

	(void)level;
	(void)delay;
	if (code) {
		ev = rfc4733_digit_event((char)code);
		if (ev < 0 || d->active)
			return;
		memset(d, 0, sizeof(*d));
		d->active = true;
		d->event = (uint8_t)ev;
		d->ts = xc->det_block_ts;
		return;
	}
	/* end of the digit: the newest one still running */
	d = xc->det_next.active ? &xc->det_next : &xc->det;
	if (d->active && !d->ending) {
		d->ending = true;
		d->end_ts = xc->det_block_ts;
		if ((int32_t)(d->end_ts - d->ts) <= 0)
			d->end_ts = d->ts + xc->frame_ticks;
	}
}

static void detect(struct transcode *xc, const int16_t *pcm, unsigned n)
{
	int m = (int)n;

	if (xc->rs_det) {
		m = resample_run(xc->rs_det, pcm, n, xc->aux, AUX_CAP);
		pcm = xc->aux;
	}
	xc->det_block_ts = xc->out_ts + fifo_ticks(xc);
	if (m > 0)
		dtmf_rx(xc->drx, pcm, m);
}

/* Decoded-rate PCM into the pipeline. n <= MAX_FRAME. */
static void feed(struct transcode *xc, const int16_t *pcm, unsigned n)
{
	if (xc->drx)
		detect(xc, pcm, n);
	append(xc, xc->rs, pcm, n);
}

/* ---- input timeline ---- */

/* A jump too long to fill: send what is pending, move the output timestamp by the
 * same amount, and mark the next packet as a talkspurt start. */
static void jump(struct transcode *xc, uint32_t ticks)
{
	uint32_t target = xc->out_ts + fifo_ticks(xc) + scale(ticks, xc->in_clock, xc->out_clock);

	flush(xc);
	if ((int32_t)(target - xc->out_ts) > 0)
		xc->out_ts = target;
	xc->marker = true;
	xc->in_ts += ticks;
}

/* Fills `ticks` of missing input: concealment if packets were lost, else silence
 * (silence suppression, or the gap after a generated tone). */
static void fill_gap(struct transcode *xc, uint32_t ticks, bool lost,
		     const uint8_t *next, size_t next_len)
{
	unsigned n = scale(ticks, xc->in_clock, xc->dec_rate);
	unsigned limit = xc->dec_rate * TRANSCODE_MAX_CONCEAL / 1000;
	int ret;

	if (!ticks)
		return;
	if (n > limit) {
		jump(xc, ticks);
		xc->silence_gap = false;
		return;
	}
	if (lost && !xc->silence_gap) {
		ret = codec_conceal(xc->dec, next, next_len, n, xc->pcm, MAX_FRAME);
		if (ret < 0)
			memset(xc->pcm, 0, n * sizeof(*xc->pcm));
		xc->st.concealed_ms += (uint64_t)n * 1000 / xc->dec_rate;
	} else {
		memset(xc->pcm, 0, n * sizeof(*xc->pcm));
	}
	xc->silence_gap = false;
	xc->in_ts += ticks;
	feed(xc, xc->pcm, n);
}

static void resync(struct transcode *xc, const struct transcode_in *in)
{
	if (xc->started)
		flush(xc);
	xc->started = true;
	xc->in_ssrc = in->ssrc;
	xc->in_seq = in->seq;
	xc->in_ts = in->ts;
	xc->in_last_ticks = 0;
	xc->tone_active = false;
	xc->silence_gap = false;
	rfc4733_rx_init(&xc->rx);
	xc->marker = true;
}

static int on_audio(struct transcode *xc, const struct transcode_in *in, bool lost)
{
	int32_t gap = (int32_t)(in->ts - xc->in_ts);
	unsigned skip = 0;
	int n;

	if (xc->tone_active) {
		xc->st.in_dropped++;    /* the event's tone stands in for this audio */
		return 0;
	}
	if (gap > 0)
		fill_gap(xc, (uint32_t)gap, lost, in->payload, in->len);
	n = codec_decode(xc->dec, in->payload, in->len, xc->pcm, xc->dec_max);
	if (n < 0) {
		xc->st.in_dropped++;
		return 0;
	}
	if (gap < 0) {
		/* overlaps what a tone or a jump already covered */
		skip = scale((uint32_t)-(int64_t)gap, xc->in_clock, xc->dec_rate);
		if (skip >= (unsigned)n)
			return 0;
	}
	xc->st.samples += (unsigned)n;
	xc->in_last_ticks = scale((unsigned)n, xc->dec_rate, xc->in_clock);
	xc->in_ts = in->ts + xc->in_last_ticks;
	feed(xc, xc->pcm + skip, (unsigned)n - skip);
	return 0;
}

/* ---- RFC 4733 input ---- */

static void tone_start(struct transcode *xc, const struct rfc4733_event *ev)
{
	char digit = rfc4733_event_digit(ev->event);
	int vol = ev->volume ? ev->volume : EVENT_VOLUME;

	dtmf_tx_init(xc->dtx);
	dtmf_tx_set_level(xc->dtx, -(vol > 36 ? 36 : vol), 0);
	/* the event's packets, not the generator, decide the tone's length */
	dtmf_tx_set_timing(xc->dtx, 10000, 0);
	if (digit)
		dtmf_tx_put(xc->dtx, &digit, 1);
}

static void tone_fill(struct transcode *xc, uint32_t ticks)
{
	unsigned n8 = scale(ticks, xc->in_clock, DTMF_RATE);

	xc->in_ts += ticks;
	while (n8) {
		unsigned c = n8 > AUX_CAP - 128 ? AUX_CAP - 128 : n8;
		int got = dtmf_tx(xc->dtx, xc->aux, (int)c);

		if (got < 0)
			got = 0;
		memset(xc->aux + got, 0, (c - (unsigned)got) * sizeof(*xc->aux));
		if (xc->dec_rate == DTMF_RATE)
			append(xc, xc->rs, xc->aux, c);
		else if (xc->enc_rate == DTMF_RATE)
			append(xc, NULL, xc->aux, c);
		else
			append(xc, xc->rs_tone, xc->aux, c);
		n8 -= c;
	}
}

static void event_to_tone(struct transcode *xc, const struct transcode_in *in,
			  const struct rfc4733_event *ev, unsigned flags, bool lost)
{
	int32_t d;

	if (flags & RFC4733_RX_START) {
		d = (int32_t)(in->ts - xc->in_ts);
		if (d > 0)
			fill_gap(xc, (uint32_t)d, lost, NULL, 0);
		tone_start(xc, ev);
		xc->ev_out_ts = map_ts(xc, in->ts);
		xc->tone_active = true;
	}
	if (!xc->tone_active)
		return;
	d = (int32_t)(in->ts + ev->duration - xc->in_ts);
	if (d > 0) {
		uint32_t cap = xc->in_clock / 1000 * FILL_CAP_MS;

		tone_fill(xc, (uint32_t)d > cap ? cap : (uint32_t)d);
	}
	if (flags & RFC4733_RX_END) {
		xc->tone_active = false;
		xc->silence_gap = true;
		report(xc, ev->event, xc->ev_out_ts, ev->duration, xc->in_clock, false);
	}
}

static void event_forward(struct transcode *xc, const struct transcode_in *in,
			  const struct rfc4733_event *ev, unsigned flags)
{
	if (flags & RFC4733_RX_START)
		xc->ev_out_ts = map_ts(xc, in->ts);
	emit_event(xc, xc->ev_out_ts, ev->event, ev->end, ev->volume,
		   scale(ev->duration, xc->in_clock, xc->out_clock),
		   flags & RFC4733_RX_START);
	if (flags & RFC4733_RX_END)
		report(xc, ev->event, xc->ev_out_ts, ev->duration, xc->in_clock, false);
}

static int on_event(struct transcode *xc, const struct transcode_in *in, bool lost)
{
	struct rfc4733_event ev;
	unsigned flags;

	if (rfc4733_parse(in->payload, in->len, &ev) || ev.event > 15) {
		xc->st.in_dropped++;
		return 0;
	}
	flags = rfc4733_rx_feed(&xc->rx, in->ts, &ev);
	if (xc->dtmf == DTMF_FORWARD) {
		/* retransmissions are forwarded too: they are the sender's redundancy */
		if (xc->rx.ts == in->ts && xc->rx.event == ev.event)
			event_forward(xc, in, &ev, flags);
		return 0;
	}
	if (flags)
		event_to_tone(xc, in, &ev, flags, lost);
	return 0;
}

/* ---- API ---- */

static int start(struct transcode *xc, struct transcode_out *out, unsigned max_out)
{
	if (!out || max_out < TRANSCODE_MAX_OUT)
		return -EINVAL;
	xc->ob = out;
	xc->on = 0;
	xc->omax = max_out;
	return 0;
}

int transcode_packet(struct transcode *xc, const struct transcode_in *in,
		     struct transcode_out *out, unsigned max_out)
{
	bool is_event;
	int16_t sg;
	int ret;

	if (!in || (!in->payload && in->len))
		return -EINVAL;
	ret = start(xc, out, max_out);
	if (ret)
		return ret;
	is_event = xc->cfg.in.dtmf_pt >= 0 && in->pt == xc->cfg.in.dtmf_pt;
	if (!is_event && in->pt != xc->cfg.in.pt)
		return -ENOMSG;
	xc->st.in_packets++;
	xc->st.in_bytes += in->len;
	sg = (int16_t)(in->seq - xc->in_seq);
	/* far behind is a restarted sender, not a late packet */
	if (!xc->started || in->ssrc != xc->in_ssrc || sg < -100) {
		resync(xc, in);
		sg = 0;
	}
	if (sg < 0) {
		xc->st.in_dropped++;
		return 0;
	}
	xc->in_seq = in->seq + 1;
	if (is_event)
		on_event(xc, in, sg > 0);
	else
		on_audio(xc, in, sg > 0);
	return (int)xc->on;
}

int transcode_lost(struct transcode *xc, const struct transcode_in *next,
		   struct transcode_out *out, unsigned max_out)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	uint32_t ticks;
	int ret = start(xc, out, max_out);

	if (ret)
		return ret;
	if (!xc->started)
		return 0;
	xc->in_seq++;
	if (xc->tone_active)
		return 0;
	ticks = xc->in_last_ticks ? xc->in_last_ticks : xc->in_clock / 1000 * 20;
	if (next && next->pt == xc->cfg.in.pt) {
		p = next->payload;
		len = next->len;
	}
	fill_gap(xc, ticks, true, p, len);
	return (int)xc->on;
}

int transcode_dtmf_inject(struct transcode *xc, uint8_t event, unsigned duration_ms,
			  unsigned volume, unsigned pause_ms)
{
	struct inject_digit *q;

	if (event > 15 || !duration_ms || duration_ms > 10000 || volume > 63 || pause_ms > 10000)
		return -EINVAL;
	if (xc->inj_len == TRANSCODE_INJECT_MAX)
		return -ENOBUFS;
	q = &xc->inj_q[(xc->inj_head + xc->inj_len++) % TRANSCODE_INJECT_MAX];
	q->event = event;
	q->volume = (uint8_t)volume;
	q->duration_ms = (uint16_t)duration_ms;
	q->pause_ms = (uint16_t)pause_ms;
	return 0;
}

void transcode_get_stats(const struct transcode *xc, struct transcode_stats *st)
{
	*st = xc->st;
}

/* ---- setup ---- */

static bool opus_rate(unsigned rate)
{
	return rate == 8000 || rate == 16000 || rate == 24000 || rate == 48000;
}

/* Opus runs at the other side's rate so that no resampler is needed. */
static void pick_rates(const struct transcode_cfg *cfg, struct codec_params *dp,
		       struct codec_params *ep)
{
	const struct codec_def *ic = cfg->in.codec, *oc = cfg->out.codec;
	unsigned want = ep->pcm_rate ? ep->pcm_rate : oc->sample_rate;

	if (!dp->pcm_rate)
		dp->pcm_rate = (ic->flags & CODEC_F_ANY_RATE) && opus_rate(want) ?
			       want : ic->sample_rate;
	if (!ep->pcm_rate)
		ep->pcm_rate = (oc->flags & CODEC_F_ANY_RATE) && opus_rate(dp->pcm_rate) ?
			       dp->pcm_rate : oc->sample_rate;
	dp->channels = 1;       /* libopus downmixes; the pipeline is mono */
}

static int setup_dtmf(struct transcode *xc)
{
	bool in_te = xc->cfg.in.dtmf_pt >= 0, out_te = xc->cfg.out.dtmf_pt >= 0;
	int ret;

	xc->dtmf = in_te ? (out_te ? DTMF_FORWARD : DTMF_TO_TONE) :
			   (out_te ? DTMF_TO_EVENT : DTMF_NONE);
	if (xc->dtmf == DTMF_TO_TONE) {
		xc->dtx = dtmf_tx_init(NULL);
		if (!xc->dtx)
			return -ENOMEM;
		if (xc->dec_rate != DTMF_RATE && xc->enc_rate != DTMF_RATE) {
			ret = resample_create(DTMF_RATE, xc->enc_rate, 1, &xc->rs_tone);
			if (ret)
				return ret;
		}
	}
	if (xc->dtmf == DTMF_TO_EVENT) {
		xc->drx = dtmf_rx_init(NULL, NULL, NULL);
		if (!xc->drx)
			return -ENOMEM;
		dtmf_rx_set_realtime_callback(xc->drx, dtmf_rt_cb, xc);
		if (xc->dec_rate != DTMF_RATE) {
			ret = resample_create(xc->dec_rate, DTMF_RATE, 1, &xc->rs_det);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int transcode_create(const struct transcode_cfg *cfg, struct transcode **out)
{
	struct codec_params dp, ep;
	struct transcode *xc;
	unsigned ptime;
	int ret;

	if (!cfg || !cfg->in.codec || !cfg->out.codec ||
	    !(cfg->in.codec->flags & CODEC_F_AUDIO) || !(cfg->out.codec->flags & CODEC_F_AUDIO) ||
	    cfg->in.dtmf_pt > 127 || cfg->out.dtmf_pt > 127)
		return -EINVAL;
	xc = calloc(1, sizeof(*xc));
	if (!xc)
		return -ENOMEM;
	xc->cfg = *cfg;
	dp = cfg->in.params;
	ep = cfg->out.params;
	pick_rates(cfg, &dp, &ep);
	ret = codec_dec_create(cfg->in.codec, &dp, &xc->dec);
	if (ret)
		goto fail;
	ret = codec_enc_create(cfg->out.codec, &ep, &xc->enc);
	if (ret)
		goto fail;
	xc->in_clock = cfg->in.codec->clock_rate;
	xc->out_clock = cfg->out.codec->clock_rate;
	xc->dec_rate = codec_dec_rate(xc->dec);
	xc->enc_rate = codec_enc_rate(xc->enc);
	xc->enc_ch = codec_enc_channels(xc->enc);
	xc->dec_max = xc->dec_rate * CODEC_MAX_PTIME / 1000;
	ptime = cfg->out.ptime ? cfg->out.ptime : cfg->out.codec->default_ptime;
	xc->frame = xc->enc_rate * ptime / 1000;
	xc->frame_ticks = xc->out_clock * ptime / 1000;
	ret = -EINVAL;
	if (!codec_frame_ok(cfg->out.codec, xc->enc_rate, xc->frame))
		goto fail;
	if (xc->dec_rate != xc->enc_rate) {
		ret = resample_create(xc->dec_rate, xc->enc_rate, 1, &xc->rs);
		if (ret)
			goto fail;
	}
	ret = setup_dtmf(xc);
	if (ret)
		goto fail;
	xc->out_seq = cfg->seq;
	xc->out_ts = cfg->ts;
	xc->marker = true;
	*out = xc;
	return 0;
fail:
	transcode_destroy(xc);
	return ret;
}

void transcode_destroy(struct transcode *xc)
{
	if (!xc)
		return;
	if (xc->drx)
		dtmf_rx_free(xc->drx);
	if (xc->dtx)
		dtmf_tx_free(xc->dtx);
	resample_destroy(xc->rs_tone);
	resample_destroy(xc->rs_det);
	resample_destroy(xc->rs);
	codec_enc_destroy(xc->enc);
	codec_dec_destroy(xc->dec);
	free(xc);
}

int transcode_peer_cmr(const struct transcode *xc)
{
	return codec_dec_cmr(xc->dec);
}

int transcode_set_mode(struct transcode *xc, unsigned mode)
{
	return codec_enc_set_mode(xc->enc, mode);
}
