/* Prometheus text exposition writer (see sluice/promtext.h). */
#include "sluice/promtext.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIST_MAX_LABELS 7

static const char *const type_names[] = {
	[PROM_COUNTER] = "counter", [PROM_GAUGE] = "gauge", [PROM_HISTOGRAM] = "histogram",
};

/* HELP text escapes backslash and newline; label values also the double quote. */
static void put_escaped(struct strbuf *sb, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_puts(sb, "\\\\");
		else if (*s == '\n')
			sb_puts(sb, "\\n");
		else if (quote && *s == '"')
			sb_puts(sb, "\\\"");
		else
			sb_putc(sb, *s);
	}
}

void prom_family(struct strbuf *sb, const char *name, enum prom_type type, const char *help)
{
	sb_printf(sb, "# HELP %s ", name);
	put_escaped(sb, help, false);
	sb_printf(sb, "\n# TYPE %s %s\n", name, type_names[type]);
}

static void put_labels(struct strbuf *sb, const struct prom_label *l, unsigned n)
{
	if (!n)
		return;
	sb_putc(sb, '{');
	for (unsigned i = 0; i < n; i++) {
		sb_printf(sb, "%s%s=\"", i ? "," : "", l[i].name);
		put_escaped(sb, l[i].value ? l[i].value : "", true);
		sb_putc(sb, '"');
	}
	sb_putc(sb, '}');
}

/* The shortest text that reads back as v, and +Inf, -Inf, NaN as Prometheus spells
 * them. Returns buf. */
static const char *fmt_double(char *buf, size_t len, double v)
{
	if (isnan(v))
		return "NaN";
	if (isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

void prom_u64(struct strbuf *sb, const char *name, const struct prom_label *labels,
	      unsigned n, uint64_t value)
{
	sb_puts(sb, name);
	put_labels(sb, labels, n);
	sb_printf(sb, " %llu\n", (unsigned long long)value);
}

void prom_double(struct strbuf *sb, const char *name, const struct prom_label *labels,
		 unsigned n, double value)
{
	char buf[40];

	sb_puts(sb, name);
	put_labels(sb, labels, n);
	sb_printf(sb, " %s\n", fmt_double(buf, sizeof(buf), value));
}

void prom_histogram(struct strbuf *sb, const char *name, const struct prom_label *labels,
		    unsigned n, const struct prom_hist *h)
{
	struct prom_label l[HIST_MAX_LABELS + 1];
	char metric[128], le[40];
	uint64_t cum = 0;

	if (n > HIST_MAX_LABELS)
		n = HIST_MAX_LABELS;
	if (n)
		memcpy(l, labels, n * sizeof(*l));
	l[n].name = "le";
	snprintf(metric, sizeof(metric), "%s_bucket", name);
	for (unsigned i = 0; i <= h->n_bounds; i++) {
		cum += h->counts[i];
		l[n].value = i == h->n_bounds ? "+Inf" : fmt_double(le, sizeof(le), h->bounds[i]);
		prom_u64(sb, metric, l, n + 1, cum);
	}
	snprintf(metric, sizeof(metric), "%s_sum", name);
	prom_double(sb, metric, labels, n, h->sum);
	snprintf(metric, sizeof(metric), "%s_count", name);
	prom_u64(sb, metric, labels, n, cum);
}
