/* Prometheus metrics (the exposition served at /metrics, docs/metrics.md).
 *
 * Everything here belongs to the control thread: NG requests are counted and timed as
 * ng_control handles them, a destroyed call's counters are folded in before its memory
 * goes, and the exposition is rendered when the HTTP listener asks for it (http.h hands
 * the request to the control thread). Rendering reads live calls as NG `statistics`
 * does: each call's lock held only while its streams are read, nothing of the media
 * path is touched. Cost O(calls + streams) per scrape. */
#ifndef SLUICE_METRICS_H
#define SLUICE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/strbuf.h"

struct daemon;
struct call;
struct metrics;

/* NULL on -ENOMEM (then nothing is counted and metrics_render() still works). */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* One NG request answered (replies from the retransmission cache are not requests):
 * cmd[0..len) is its "command" as sent (any command sluice does not know counts as
 * "unknown"), NULL when the message could not be decoded at all; error: the reply was
 * an error; dur_us: from receipt to the reply. m may be NULL. */
void metrics_ng_request(struct metrics *m, const char *cmd, size_t len, bool error,
			int64_t dur_us);

/* Call c is being destroyed (kernel counters already folded into its streams): keep
 * its packet counters in the per-interface totals. Takes the call lock. */
void metrics_call_ended(struct daemon *d, struct call *c);

/* The whole exposition (text format 0.0.4) into out. 0 or -ENOMEM. */
int metrics_render(struct daemon *d, struct strbuf *out);

#endif
