/* MOS and jitter distributions of ended calls (the figures quality_track.h keeps per
 * stream), observed once per call as it is destroyed: proper Prometheus histograms
 * whose rate over a window describes the calls that ended in it. */
#include "call.h"
#include "metrics_internal.h"
#include "quality_track.h"

/* MOS x10: the E-model gives 10..45, a clean G.711 call 44 */
static const unsigned mos_bounds10[METRICS_MOS_BOUNDS] = {
	10, 20, 25, 30, 35, 38, 40, 42, 43, 44,
};
static const double jitter_bounds_ms[METRICS_JIT_BOUNDS] = {
	1, 2, 5, 10, 20, 30, 50, 100, 200, 500,
};

static void observe_mos(uint64_t *counts, uint64_t *sum10, unsigned mos10)
{
	unsigned b = 0;

	while (b < METRICS_MOS_BOUNDS && mos10 > mos_bounds10[b])
		b++;
	counts[b]++;
	*sum10 += mos10;
}

static void observe_jitter(struct metrics_quality *q, double ms)
{
	unsigned b = 0;

	while (b < METRICS_JIT_BOUNDS && ms > jitter_bounds_ms[b])
		b++;
	q->jitter[b]++;
	q->jitter_sum_ms += ms;
}

void metrics_quality_ended(struct metrics_quality *q, const struct call *c)
{
	unsigned lowest, average;

	quality_call_mos(c, &lowest, &average);
	if (average)
		observe_mos(q->call_mos, &q->call_mos_sum10, average);
	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct stream *s = p->media[i] ? &p->media[i]->rtp : NULL;

			if (!s || !s->qrx.init)
				continue;
			if (s->mos.samples)
				observe_mos(q->stream_mos, &q->stream_mos_sum10,
					    (unsigned)(s->mos.sum / s->mos.samples));
			/* two packets make a transit difference; no clock, no jitter */
			if (s->qrx.clock && s->qrx.received >= 2)
				observe_jitter(q, quality_jitter_ms(&s->qrx));
		}
}

static void render_mos(struct strbuf *sb, const char *name, const char *help,
		       const uint64_t *counts, uint64_t sum10)
{
	double bounds[METRICS_MOS_BOUNDS];
	struct prom_hist h = { bounds, METRICS_MOS_BOUNDS, counts, (double)sum10 / 10 };

	for (unsigned b = 0; b < METRICS_MOS_BOUNDS; b++)
		bounds[b] = mos_bounds10[b] / 10.0;
	prom_family(sb, name, PROM_HISTOGRAM, help);
	prom_histogram(sb, name, NULL, 0, &h);
}

void metrics_render_quality(const struct metrics *m, struct strbuf *sb)
{
	const struct metrics_quality *q = &m->quality;
	double bounds[METRICS_JIT_BOUNDS];
	struct prom_hist h = { bounds, METRICS_JIT_BOUNDS, q->jitter, q->jitter_sum_ms / 1000 };

	render_mos(sb, "sluice_call_mos", "Average MOS (E-model, 1 to 4.5) of each ended "
		   "call that carried RTP", q->call_mos, q->call_mos_sum10);
	render_mos(sb, "sluice_stream_mos", "Average MOS of each RTP stream of ended calls "
		   "(one per side and media section)", q->stream_mos, q->stream_mos_sum10);
	for (unsigned b = 0; b < METRICS_JIT_BOUNDS; b++)
		bounds[b] = jitter_bounds_ms[b] / 1000;
	prom_family(sb, "sluice_stream_jitter_seconds", PROM_HISTOGRAM,
		    "Interarrival jitter (RFC 3550) of each RTP stream of ended calls, as "
		    "received by the relay, at the call's end");
	prom_histogram(sb, "sluice_stream_jitter_seconds", NULL, 0, &h);
}
