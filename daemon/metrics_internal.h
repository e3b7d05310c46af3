/* Shared by daemon/metrics_*.c only: the counters the control thread keeps and the
 * parts of the exposition each file renders. */
#ifndef SLUICE_METRICS_INTERNAL_H
#define SLUICE_METRICS_INTERNAL_H

#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "sluice/bencode.h"
#include "sluice/promtext.h"

#define METRICS_NG_SLOTS    16          /* enum ng_cmd values, then "invalid" */
#define METRICS_NG_INVALID  (METRICS_NG_SLOTS - 1)
#define METRICS_LAT_BOUNDS  14          /* NG latency histogram buckets, +Inf apart */

struct daemon;

struct metrics_ng_cmd {
	uint64_t requests, errors;
	uint64_t buckets[METRICS_LAT_BOUNDS + 1];
	uint64_t sum_us;
};

enum { METRICS_IN = 0, METRICS_OUT = 1 };

struct metrics_counters {
	uint64_t packets, bytes, errors;
};

/* One interface's packet counters: [direction][component - 1] (COMP_RTP, COMP_RTCP),
 * and foreign packets dropped on its ports. */
struct metrics_iface {
	struct metrics_counters c[2][2];
	uint64_t foreign;
};

struct metrics {
	struct metrics_ng_cmd ng[METRICS_NG_SLOTS];
	struct metrics_iface ended[CFG_MAX_INTERFACES];     /* of destroyed calls */
};

/* metrics_ng.c: NG request counters and latency histograms. */
void metrics_render_ng(const struct metrics *m, struct strbuf *sb);

/* metrics_media.c: sessions by state, streams by forwarding mode, packets per
 * interface, transcoded streams, foreign drops; reads every live call. */
int metrics_render_media(struct daemon *d, struct strbuf *sb);

/* The label metrics_render_media() gives stream s in sluice_streams{reason}: "kernel",
 * or why it is not in the kernel. Call lock held. */
struct stream;
const char *metrics_fwd_reason(const struct daemon *d, const struct stream *s);

/* metrics_process.c: process_* metrics as Prometheus client libraries name them. */
void metrics_render_process(const struct daemon *d, struct strbuf *sb);

/* An integer member of a dictionary of the statistics reply, 0 if absent. */
int64_t metrics_stat(const struct bval *dict, const char *key);

#endif
