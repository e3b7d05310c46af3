/* NG control statistics in rtpengine's shape: per proxy (source address) how many
 * requests of each command it sent, their total processing time and how many were
 * answered with an error ("controlstatistics"), and per command the shortest, longest
 * and average processing time and the lowest, highest and average requests per second
 * of the current interval ("intervalstatistics"; an interval runs from one
 * `statistics` request to the next). Commands are rtpengine's 24 (its names, whether
 * sluice implements them or not); others count only as errors. Control thread only. */
#ifndef SLUICE_NG_STATS_H
#define SLUICE_NG_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/bencode.h"
#include "sluice/netaddr.h"

#define NG_STATS_N_CMDS      24
/* Sources counted one by one; the rest share one entry, "other" (NG may be open to
 * many addresses: the reply must stay bounded, and fit a datagram). */
#define NG_STATS_MAX_PROXIES 32

struct ng_stats_proxy {
	union sockaddr_u addr;          /* port 0 */
	uint64_t count[NG_STATS_N_CMDS];
	uint64_t dur_us[NG_STATS_N_CMDS];
	uint64_t errors;
};

struct ng_stats_interval {              /* one command since the interval began */
	uint64_t count;
	int64_t sum_us, min_us, max_us;
	uint64_t rate_min, rate_max, rate_sum;  /* requests in each whole second */
};

struct ng_stats {
	struct ng_stats_proxy proxy[NG_STATS_MAX_PROXIES];
	unsigned n_proxies;
	struct ng_stats_proxy other;
	bool other_used;
	uint64_t total[NG_STATS_N_CMDS];
	uint32_t this_second[NG_STATS_N_CMDS];
	struct ng_stats_interval iv[NG_STATS_N_CMDS];
	unsigned iv_seconds;            /* whole seconds in the interval */
};

/* One answered request: cmd as the request spelled it, the time it took, whether the
 * answer was result "error". */
void ng_stats_record(struct ng_stats *s, const char *cmd, size_t len,
		     const union sockaddr_u *from, int64_t dur_us, bool error);
/* Once a second: close the second's request counts into the interval's rates. */
void ng_stats_second(struct ng_stats *s);
/* "controlstatistics" into dict. */
void ng_stats_add_control(const struct ng_stats *s, struct arena *a, struct bval *dict);
/* The per-command keys of "intervalstatistics" into dict; then a new interval begins. */
void ng_stats_add_interval(struct ng_stats *s, struct arena *a, struct bval *dict);

#endif
