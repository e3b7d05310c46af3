/* Shared by daemon/metrics_*.c only: the counters the control thread keeps and the
 * parts of the exposition each file renders. */
#ifndef SLUICE_METRICS_INTERNAL_H
#define SLUICE_METRICS_INTERNAL_H

#include <stdint.h>

#include "config.h"
#include "metrics.h"
#include "sluice/promtext.h"

#define METRICS_NG_SLOTS    32          /* ng_cmd_spelling() names, "unknown", "invalid" */
#define METRICS_LAT_BOUNDS  14          /* NG latency histogram buckets, +Inf apart */
#define METRICS_MOS_BOUNDS  10          /* MOS histogram buckets, +Inf apart */
#define METRICS_JIT_BOUNDS  10          /* jitter histogram buckets, +Inf apart */

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

/* Quality of ended calls and their streams (metrics_quality.c). */
struct metrics_quality {
	uint64_t call_mos[METRICS_MOS_BOUNDS + 1], stream_mos[METRICS_MOS_BOUNDS + 1];
	uint64_t jitter[METRICS_JIT_BOUNDS + 1];
	uint64_t call_mos_sum10, stream_mos_sum10;      /* MOS x10 */
	double jitter_sum_ms;
};

struct metrics {
	struct metrics_ng_cmd ng[METRICS_NG_SLOTS];
	struct metrics_iface ended[CFG_MAX_INTERFACES];     /* of destroyed calls */
	struct metrics_quality quality;
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

/* metrics_quality.c: MOS and jitter of call c, which is ending, into q. Call lock
 * held. */
struct call;
void metrics_quality_ended(struct metrics_quality *q, const struct call *c);
void metrics_render_quality(const struct metrics *m, struct strbuf *sb);

/* metrics_process.c: process_* metrics as Prometheus client libraries name them. */
void metrics_render_process(const struct daemon *d, struct strbuf *sb);

#endif
