/* NG requests per command: counts, errors and a latency histogram. */
#include <string.h>

#include "metrics_internal.h"
#include "ng_request.h"

/* µs; a plain offer takes ~100 µs, one with transcoding or DTLS set-up a few ms */
static const int64_t lat_bounds_us[METRICS_LAT_BOUNDS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000,
};

/* Slots: the known command names, then "unknown", then "invalid". */
static unsigned n_known(void)
{
	size_t n = ng_cmd_count();

	return n > METRICS_NG_SLOTS - 2 ? METRICS_NG_SLOTS - 2 : (unsigned)n;
}

void metrics_ng_request(struct metrics *m, const char *cmd, size_t len, bool error,
			int64_t dur_us)
{
	struct metrics_ng_cmd *c;
	unsigned b = 0, k = n_known();
	int i;

	if (!m)
		return;
	i = cmd ? ng_cmd_lookup(cmd, len) : -1;
	c = &m->ng[!cmd ? k + 1 : i < 0 || (unsigned)i >= k ? k : (unsigned)i];
	if (dur_us < 0)
		dur_us = 0;
	while (b < METRICS_LAT_BOUNDS && dur_us > lat_bounds_us[b])
		b++;
	c->requests++;
	c->errors += error;
	c->buckets[b]++;
	c->sum_us += (uint64_t)dur_us;
}

/* The label of slot i, or NULL past the last one. */
static const char *slot_name(unsigned i)
{
	unsigned k = n_known();

	return i < k ? ng_cmd_spelling(i) : i == k ? "unknown" : i == k + 1 ? "invalid" : NULL;
}

static void render_counts(const struct metrics *m, struct strbuf *sb, const char *name,
			  bool errors)
{
	for (unsigned i = 0; i < METRICS_NG_SLOTS; i++) {
		struct prom_label l = { "command", slot_name(i) };

		if (l.value)
			prom_u64(sb, name, &l, 1, errors ? m->ng[i].errors : m->ng[i].requests);
	}
}

void metrics_render_ng(const struct metrics *m, struct strbuf *sb)
{
	double bounds[METRICS_LAT_BOUNDS];

	prom_family(sb, "sluice_ng_requests_total", PROM_COUNTER,
		    "NG requests handled, by command (retransmissions answered from the "
		    "reply cache not included)");
	render_counts(m, sb, "sluice_ng_requests_total", false);
	prom_family(sb, "sluice_ng_errors_total", PROM_COUNTER,
		    "NG requests answered with result=error, by command");
	render_counts(m, sb, "sluice_ng_errors_total", true);
	for (unsigned b = 0; b < METRICS_LAT_BOUNDS; b++)
		bounds[b] = (double)lat_bounds_us[b] / 1e6;
	prom_family(sb, "sluice_ng_request_duration_seconds", PROM_HISTOGRAM,
		    "Time from receiving an NG request to its encoded reply, by command");
	for (unsigned i = 0; i < METRICS_NG_SLOTS; i++) {
		const struct metrics_ng_cmd *c = &m->ng[i];
		struct prom_label l = { "command", slot_name(i) };
		struct prom_hist h = { bounds, METRICS_LAT_BOUNDS, c->buckets,
				       (double)c->sum_us / 1e6 };

		if (l.value)
			prom_histogram(sb, "sluice_ng_request_duration_seconds", &l, 1, &h);
	}
}
