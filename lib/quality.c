/* Relay-side media quality (see quality.h). */
#include "sluice/quality.h"
#include "sluice/be.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "sluice/rtp.h"

static void rx_start(struct quality_rx *q, uint32_t ssrc, uint16_t seq, uint8_t pt)
{
	memset(q, 0, sizeof(*q));
	q->init = true;
	q->ssrc = ssrc;
	q->pt = pt;
	q->base_seq = seq;
	q->max_seq = seq;
	q->window = 1;
}

static void jitter(struct quality_rx *q, uint32_t ts, unsigned clock, int64_t now_us)
{
	int64_t transit, d;

	if (!clock)
		return;
	if (clock != q->clock) {        /* a new clock: a new baseline */
		q->clock = clock;
		q->have_transit = false;
	}
	transit = now_us * (int64_t)clock / 1000000 - (int64_t)ts;
	if (q->have_transit) {
		d = transit - q->transit;
		if (d < 0)
			d = -d;
		if (d < (int64_t)clock * 10)   /* beyond 10 s: a restart, not jitter */
			q->jitter16 += (uint32_t)d - ((q->jitter16 + 8) >> 4);
	}
	q->transit = transit;
	q->have_transit = true;
}

void quality_rtp(struct quality_rx *q, const uint8_t *p, size_t len, unsigned clock,
		 int64_t now_us)
{
	uint32_t ssrc;
	uint16_t seq, delta;
	uint8_t pt;

	if (len < 12 || (p[0] >> 6) != 2 || rtp_is_rtcp(p, len))
		return;
	ssrc = be_get32(p + 8);
	seq = (uint16_t)(p[2] << 8 | p[3]);
	pt = p[1] & 0x7f;
	if (!q->init || q->ssrc != ssrc) {
		rx_start(q, ssrc, seq, pt);
		q->received = 1;
		jitter(q, be_get32(p + 4), clock, now_us);
		return;
	}
	delta = (uint16_t)(seq - q->max_seq);
	if (delta == 0) {
		q->duplicates++;
		return;
	}
	if (delta < QUALITY_MAX_DROPOUT) {              /* in order, maybe with a gap */
		if (seq < q->max_seq)
			q->cycles += 1u << 16;
		q->max_seq = seq;
		q->window = delta >= 64 ? 1 : q->window << delta | 1;
	} else if (delta > 65535 - QUALITY_MAX_MISORDER) {      /* late: reordered or duplicate */
		uint16_t back = (uint16_t)(q->max_seq - seq);

		if (back < 64 && (q->window >> back & 1)) {
			q->duplicates++;
			return;
		}
		if (back < 64)
			q->window |= 1ull << back;
		q->reordered++;
	} else {                                /* a jump: the source restarted */
		uint64_t dups = q->duplicates, reord = q->reordered;

		rx_start(q, ssrc, seq, pt);
		q->duplicates = dups;
		q->reordered = reord;
	}
	q->received++;
	/* only the main payload type: telephone-event timestamps stand still */
	if (pt == q->pt)
		jitter(q, be_get32(p + 4), clock, now_us);
}

uint64_t quality_expected(const struct quality_rx *q)
{
	if (!q->init)
		return 0;
	return (uint64_t)q->cycles + q->max_seq - q->base_seq + 1;
}

int64_t quality_lost(const struct quality_rx *q)
{
	return (int64_t)quality_expected(q) - (int64_t)q->received;
}

double quality_jitter_ms(const struct quality_rx *q)
{
	if (!q->clock)
		return 0;
	return (double)(q->jitter16 >> 4) * 1000.0 / q->clock;
}

double quality_interval_loss(struct quality_rx *q)
{
	uint64_t exp = quality_expected(q), e = exp - q->expected_prior;
	uint64_t r = q->received - q->received_prior;

	q->expected_prior = exp;
	q->received_prior = q->received;
	if (!e || r >= e)
		return 0;
	return 100.0 * (double)(e - r) / (double)e;
}

/* ---- RTCP: round trip and the far end's view ---- */

void quality_rtcp_out(struct quality_rtt *r, const uint8_t *p, size_t len, int64_t now_us)
{
	if (len >= 28 && (p[0] >> 6) == 2 && p[1] == 200) {
		r->sr[r->next].ntp_mid = be_get32(p + 10);
		r->sr[r->next].at_us = now_us;
		r->next = (r->next + 1) % QUALITY_SR_SLOTS;
	}
}

void quality_rtcp_in(struct quality_rtt *r, const uint8_t *p, size_t len, int64_t now_us)
{
	const uint8_t *b;
	uint32_t lsr, dlsr;

	if (len < 8 || (p[0] >> 6) != 2 || (p[0] & 0x1f) == 0)
		return;
	if (p[1] == 200 && len >= 28 + 24)
		b = p + 28;
	else if (p[1] == 201 && len >= 8 + 24)
		b = p + 8;
	else
		return;
	r->have_report = true;
	r->fraction_lost = b[4];
	r->cumulative_lost = (int32_t)(be_get32(b + 4) << 8) >> 8;
	r->jitter = be_get32(b + 12);
	lsr = be_get32(b + 16);
	dlsr = be_get32(b + 20);
	if (!lsr)
		return;
	for (unsigned i = 0; i < QUALITY_SR_SLOTS; i++) {
		int64_t rtt;

		if (r->sr[i].ntp_mid != lsr || !r->sr[i].at_us)
			continue;
		rtt = now_us - r->sr[i].at_us - (int64_t)dlsr * 1000000 / 65536;
		if (rtt >= 0) {
			r->last_rtt_us = rtt;
			r->samples++;
		}
		return;
	}
}

/* ---- E-model ---- */

struct codec_imp { const char *name; double ie, bpl; };

/* Equipment impairment Ie and packet-loss robustness Bpl (G.113 Appendix I, with packet
 * loss concealment where the codec has it); wideband codecs on the narrowband scale. */
static const struct codec_imp codecs[] = {
	{ "PCMU", 0, 25.1 }, { "PCMA", 0, 25.1 }, { "G722", 0, 25.1 },
	{ "G729", 11, 19 }, { "opus", 0, 20 }, { "GSM", 20, 43 }, { "iLBC", 10, 32 },
	{ "speex", 10, 20 }, { "AMR", 5, 10 }, { "AMR-WB", 0, 10 },
};

unsigned quality_mos10(const char *codec, double loss_pct, double delay_ms)
{
	const struct codec_imp *c = &codecs[0];
	double ie_eff, id, r, mos;

	for (size_t i = 0; codec && i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (!strcasecmp(codec, codecs[i].name))
			c = &codecs[i];
	if (loss_pct < 0)
		loss_pct = 0;
	if (delay_ms < 0)
		delay_ms = 0;
	ie_eff = c->ie + (95 - c->ie) * loss_pct / (loss_pct + c->bpl);
	id = 0.024 * delay_ms + (delay_ms > 177.3 ? 0.11 * (delay_ms - 177.3) : 0);
	r = 93.2 - id - ie_eff;
	if (r <= 0)
		mos = 1;
	else if (r >= 100)
		mos = 4.5;
	else
		mos = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
	return (unsigned)lround(mos * 10);
}

void quality_mos_add(struct quality_mos *m, unsigned mos10)
{
	if (!m->samples || mos10 < m->min)
		m->min = mos10;
	if (mos10 > m->max)
		m->max = mos10;
	m->samples++;
	m->sum += mos10;
}
