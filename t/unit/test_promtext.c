/* Prometheus text exposition writer: exact bytes of families, samples, escaping,
 * number formatting and cumulative histograms. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/promtext.h"

static void test_family(void **state)
{
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	prom_family(&sb, "sluice_x_total", PROM_COUNTER, "Packets \\ dropped\nsecond line");
	prom_family(&sb, "sluice_y", PROM_GAUGE, "A \"gauge\"");
	prom_family(&sb, "sluice_z_seconds", PROM_HISTOGRAM, "Latency");
	assert_string_equal(sb.buf,
		"# HELP sluice_x_total Packets \\\\ dropped\\nsecond line\n"
		"# TYPE sluice_x_total counter\n"
		"# HELP sluice_y A \"gauge\"\n"          /* quotes are not escaped in HELP */
		"# TYPE sluice_y gauge\n"
		"# HELP sluice_z_seconds Latency\n"
		"# TYPE sluice_z_seconds histogram\n");
	sb_free(&sb);
}

static void test_samples(void **state)
{
	static const struct prom_label two[] = {
		{ "interface", "pub\"lic" }, { "address", "a\\b\nc" },
	};
	static const struct prom_label empty[] = { { "reason", NULL } };
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	prom_u64(&sb, "m", NULL, 0, 0);
	prom_u64(&sb, "m", two, 2, UINT64_MAX);
	prom_u64(&sb, "m", empty, 1, 7);
	assert_string_equal(sb.buf,
		"m 0\n"
		"m{interface=\"pub\\\"lic\",address=\"a\\\\b\\nc\"} 18446744073709551615\n"
		"m{reason=\"\"} 7\n");
	sb_free(&sb);
}

static void test_doubles(void **state)
{
	static const struct { double v; const char *want; } v[] = {
		{ 0, "g 0\n" }, { 1, "g 1\n" }, { 0.1, "g 0.1\n" }, { 0.0001, "g 0.0001\n" },
		{ 0.00025, "g 0.00025\n" }, { 1.5, "g 1.5\n" }, { 1700000000.25, "g 1700000000.25\n" },
		{ 1e-9, "g 1e-09\n" }, { -2, "g -2\n" }, { 1.0 / 3, "g 0.3333333333333333\n" },
		{ INFINITY, "g +Inf\n" }, { -INFINITY, "g -Inf\n" }, { NAN, "g NaN\n" },
	};
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sb_reset(&sb);
		prom_double(&sb, "g", NULL, 0, v[i].v);
		if (strcmp(sb.buf, v[i].want))
			fail_msg("case %zu: got '%s' want '%s'", i, sb.buf, v[i].want);
	}
	sb_free(&sb);
}

static void test_histogram(void **state)
{
	static const double bounds[] = { 0.001, 0.01, 0.1 };
	static const uint64_t counts[] = { 3, 0, 2, 1 };
	static const struct prom_label l[] = { { "command", "offer" } };
	const struct prom_hist h = { bounds, 3, counts, 0.5 };
	static const uint64_t none[] = { 0, 0, 0, 0 };
	const struct prom_hist empty = { bounds, 3, none, 0 };
	struct strbuf sb;

	(void)state;
	sb_init(&sb);
	prom_histogram(&sb, "lat_seconds", l, 1, &h);
	prom_histogram(&sb, "e", NULL, 0, &empty);
	assert_string_equal(sb.buf,
		"lat_seconds_bucket{command=\"offer\",le=\"0.001\"} 3\n"
		"lat_seconds_bucket{command=\"offer\",le=\"0.01\"} 3\n"
		"lat_seconds_bucket{command=\"offer\",le=\"0.1\"} 5\n"
		"lat_seconds_bucket{command=\"offer\",le=\"+Inf\"} 6\n"
		"lat_seconds_sum{command=\"offer\"} 0.5\n"
		"lat_seconds_count{command=\"offer\"} 6\n"
		"e_bucket{le=\"0.001\"} 0\n"
		"e_bucket{le=\"0.01\"} 0\n"
		"e_bucket{le=\"0.1\"} 0\n"
		"e_bucket{le=\"+Inf\"} 0\n"
		"e_sum 0\n"
		"e_count 0\n");
	sb_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
