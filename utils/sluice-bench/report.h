/* Results as JSON (--json) and as a human table, written by the same calls: each leaf
 * becomes a JSON member and a "section.key  value" row. */
#ifndef SLUICE_BENCH_REPORT_H
#define SLUICE_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/strbuf.h"

#define REP_DEPTH 8

struct rep {
	struct strbuf json, table;
	unsigned depth;
	bool first[REP_DEPTH];
	bool in_array[REP_DEPTH];
	const char *path[REP_DEPTH];
	unsigned index[REP_DEPTH];
};

void rep_init(struct rep *r);
void rep_free(struct rep *r);
void rep_begin(struct rep *r, const char *key);         /* object; key NULL in arrays */
void rep_end(struct rep *r);
void rep_array(struct rep *r, const char *key);
void rep_array_end(struct rep *r);
void rep_u64(struct rep *r, const char *key, uint64_t v);
void rep_f(struct rep *r, const char *key, double v, int decimals);
void rep_str(struct rep *r, const char *key, const char *s);
void rep_bool(struct rep *r, const char *key, bool v);
/* Write the JSON (one line) or the table to f. */
void rep_print(struct rep *r, FILE *f, bool json);

#endif
