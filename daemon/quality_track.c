/* Relay-side quality per stream (see quality_track.h). */
#include "quality_track.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "sluice/rtp.h"

#define SAMPLE_US       5000000         /* one MOS sample per stream every 5 s */

/* The stream whose socket carries RTCP with m's peer. */
static const struct stream *rtcp_of(const struct media *m)
{
	return m->rtcp_mux ? &m->rtp : &m->rtcp;
}

/* "PCMU/8000" -> "PCMU" */
static void codec_name(const struct media *m, char *out, size_t len)
{
	size_t n = strcspn(m->codec, "/");

	if (n >= len)
		n = len - 1;
	memcpy(out, m->codec, n);
	out[n] = '\0';
}

static unsigned delay_ms(const struct stream *t)
{
	const struct quality_rtt *r = &rtcp_of(t->media)->qrtt;
	double d = 2 * quality_jitter_ms(&t->qrx);      /* a jitter buffer's worth */

	if (r->samples)
		d += (double)r->last_rtt_us / 2000.0;
	return (unsigned)d;
}

static void sample(struct stream *t)
{
	char codec[CALL_CODEC_MAX];
	double loss = quality_interval_loss(&t->qrx);

	codec_name(t->media, codec, sizeof(codec));
	quality_mos_add(&t->mos, quality_mos10(codec, loss, delay_ms(t)));
}

void quality_in(struct stream *s, struct stream *t, const uint8_t *p, size_t len,
		int64_t now)
{
	if (s->component == COMP_RTCP || rtp_is_rtcp(p, len)) {
		quality_rtcp_in(&s->qrtt, p, len, now);
		return;
	}
	quality_rtp(&t->qrx, p, len, t->media->clock, now);
	quality_tick(t, now);
}

void quality_tick(struct stream *t, int64_t now)
{
	if (!t->q_next_us) {
		t->q_next_us = now + SAMPLE_US;
	} else if (now >= t->q_next_us) {
		sample(t);
		t->q_next_us = now + SAMPLE_US;
	}
}

void quality_out(struct stream *s, const uint8_t *p, size_t len, int64_t now)
{
	if (len >= 28 && p[1] == 200 && (s->component == COMP_RTCP || rtp_is_rtcp(p, len)))
		quality_rtcp_out(&s->qrtt, p, len, now);
}

static void mos_fields(struct arena *a, struct bval *d, const struct quality_mos *m)
{
	if (!m->samples)
		return;
	bv_dict_add_int(a, d, "average MOS", (int64_t)(m->sum / m->samples));
	bv_dict_add_int(a, d, "lowest MOS", m->min);
	bv_dict_add_int(a, d, "highest MOS", m->max);
	bv_dict_add_int(a, d, "MOS samples", (int64_t)m->samples);
}

struct bval *quality_stream_dict(struct arena *a, const struct stream *s)
{
	const struct quality_rx *q = &s->qrx;
	const struct quality_rtt *r = &rtcp_of(s->media)->qrtt;
	struct bval *d;

	if (!q->init || s->component != COMP_RTP)
		return NULL;
	d = bv_new_dict(a);
	bv_dict_add_int(a, d, "SSRC", q->ssrc);
	bv_dict_add_int(a, d, "packets expected", (int64_t)quality_expected(q));
	bv_dict_add_int(a, d, "packets lost", quality_lost(q));
	bv_dict_add_int(a, d, "duplicates", (int64_t)q->duplicates);
	bv_dict_add_int(a, d, "reordered", (int64_t)q->reordered);
	/* µs, integers: bencode has no fractions */
	bv_dict_add_int(a, d, "jitter us", (int64_t)(quality_jitter_ms(q) * 1000));
	if (r->samples)
		bv_dict_add_int(a, d, "round-trip time us", r->last_rtt_us);
	if (r->have_report) {
		struct bval *f = bv_new_dict(a);

		bv_dict_add_int(a, f, "fraction lost", r->fraction_lost);
		bv_dict_add_int(a, f, "packets lost", r->cumulative_lost);
		bv_dict_add_int(a, f, "jitter", r->jitter);
		bv_dict_add(a, d, "far end report", f);
	}
	mos_fields(a, d, &s->mos);
	return d;
}

json_object *quality_stream_json(const struct stream *s)
{
	const struct quality_rx *q = &s->qrx;
	const struct quality_rtt *r = &rtcp_of(s->media)->qrtt;
	const struct party *p = s->media->party;
	json_object *o = json_object_new_object();

	if (p->n_tags)
		json_object_object_add(o, "TAG", json_object_new_string(p->tags[0].tag));
	json_object_object_add(o, "SSRC", json_object_new_int64(q->ssrc));
	json_object_object_add(o, "CODEC", json_object_new_string(s->media->codec));
	json_object_object_add(o, "PACKETS_EXPECTED", json_object_new_int64((int64_t)quality_expected(q)));
	json_object_object_add(o, "PACKETS_LOST", json_object_new_int64(quality_lost(q)));
	json_object_object_add(o, "DUPLICATES", json_object_new_int64((int64_t)q->duplicates));
	json_object_object_add(o, "REORDERED", json_object_new_int64((int64_t)q->reordered));
	json_object_object_add(o, "JITTER_MS", json_object_new_double(quality_jitter_ms(q)));
	if (r->samples)
		json_object_object_add(o, "RTT_MS", json_object_new_double(r->last_rtt_us / 1000.0));
	if (s->mos.samples) {
		json_object_object_add(o, "MOS_AVG", json_object_new_double(
			(double)s->mos.sum / (double)s->mos.samples / 10.0));
		json_object_object_add(o, "MOS_MIN", json_object_new_double(s->mos.min / 10.0));
		json_object_object_add(o, "MOS_MAX", json_object_new_double(s->mos.max / 10.0));
	}
	return o;
}

/* rtpengine's shape: per SSRC, "average/lowest/highest MOS" dicts with MOS x10. */
static void ssrc_entry(struct arena *a, struct bval *ssrcs, const struct stream *s)
{
	const struct quality_rx *q = &s->qrx;
	const struct quality_rtt *r = &rtcp_of(s->media)->qrtt;
	struct bval *e = bv_new_dict(a), *avg = bv_new_dict(a), *lo = bv_new_dict(a),
		    *hi = bv_new_dict(a);
	char key[16];
	uint64_t exp = quality_expected(q);
	int64_t lost = quality_lost(q);

	snprintf(key, sizeof(key), "%u", (unsigned)q->ssrc);
	bv_dict_add_int(a, avg, "MOS", s->mos.samples ? (int64_t)(s->mos.sum / s->mos.samples) : 0);
	bv_dict_add_int(a, avg, "samples", (int64_t)s->mos.samples);
	bv_dict_add_int(a, avg, "packet loss", exp && lost > 0 ? (int64_t)(lost * 100 / (int64_t)exp) : 0);
	bv_dict_add_int(a, avg, "jitter", (int64_t)quality_jitter_ms(q));
	bv_dict_add_int(a, avg, "round-trip time", r->samples ? r->last_rtt_us : 0);
	bv_dict_add_int(a, lo, "MOS", s->mos.min);
	bv_dict_add_int(a, hi, "MOS", s->mos.max);
	bv_dict_add(a, e, "average MOS", avg);
	bv_dict_add(a, e, "lowest MOS", lo);
	bv_dict_add(a, e, "highest MOS", hi);
	bv_dict_add_int(a, e, "packets lost", lost);
	bv_dict_add(a, ssrcs, key, e);
}

#define EACH_RTP(c, s, body) \
	for (const struct party *p_ = (c)->parties; p_; p_ = p_->next) \
		for (unsigned i_ = 0; i_ < p_->n_media; i_++) { \
			const struct stream *s = p_->media[i_] ? &p_->media[i_]->rtp : NULL; \
			if (s && s->qrx.init) \
				body; \
		}

void quality_ssrc_section(struct arena *a, struct bval *reply, const struct call *c)
{
	struct bval *ssrcs = bv_new_dict(a);
	unsigned n = 0;

	EACH_RTP(c, s, { ssrc_entry(a, ssrcs, s); n++; });
	if (n)
		bv_dict_add(a, reply, "SSRC", ssrcs);
}

void quality_call_mos(const struct call *c, unsigned *lowest, unsigned *average)
{
	uint64_t sum = 0, n = 0;

	*lowest = *average = 0;
	EACH_RTP(c, s, {
		if (s->mos.samples) {
			if (!n || s->mos.min < *lowest)
				*lowest = s->mos.min;
			sum += s->mos.sum;
			n += s->mos.samples;
		}
	});
	if (n)
		*average = (unsigned)(sum / n);
}
