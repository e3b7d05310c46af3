/* Prometheus text exposition format (version 0.0.4) writer.
 *
 * A metric family is written as its "# HELP" and "# TYPE" lines followed by all its
 * samples, contiguous: the caller writes prom_family() once, then one prom_*() per
 * label set. Label values are escaped (\\, \", \n); names are the caller's constants
 * and must already match [a-zA-Z_:][a-zA-Z0-9_:]*. Every call appends to sb; an
 * allocation failure is sticky in sb->oom. */
#ifndef SLUICE_PROMTEXT_H
#define SLUICE_PROMTEXT_H

#include <stdint.h>

#include "sluice/strbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

struct prom_label {
	const char *name;
	const char *value;
};

/* Histogram with fixed upper bounds (ascending, +Inf implied after the last):
 * counts[i] is the number of observations in bucket i alone (not cumulative),
 * counts[n_bounds] those above the last bound. Bounds and sum are in the unit the
 * exposition uses (seconds for durations). */
struct prom_hist {
	const double *bounds;
	unsigned n_bounds;
	const uint64_t *counts;         /* n_bounds + 1 entries */
	double sum;
};

/* "# HELP name help" and "# TYPE name type". */
void prom_family(struct strbuf *sb, const char *name, enum prom_type type, const char *help);
/* One sample: name{labels} value. n may be 0 (labels then unused). */
void prom_u64(struct strbuf *sb, const char *name, const struct prom_label *labels,
	      unsigned n, uint64_t value);
void prom_double(struct strbuf *sb, const char *name, const struct prom_label *labels,
		 unsigned n, double value);
/* name_bucket{labels,le="..."} (cumulative), name_sum and name_count. At most 7 labels. */
void prom_histogram(struct strbuf *sb, const char *name, const struct prom_label *labels,
		    unsigned n, const struct prom_hist *h);

#endif
