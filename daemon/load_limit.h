/* Load limits, as rtpengine's: --max-sessions, --max-load, --max-cpu, --max-bandwidth.
 *
 * A new call (an offer whose call-id is unknown) is refused while one limit is reached;
 * re-offers and answers of existing calls never are. The samples the checks compare come
 * from the housekeeping tick, so an offer costs no system call: the 1-minute load
 * average every second (/proc/loadavg), CPU usage over the last 0.5 s (/proc/stat,
 * all CPUs), and the bandwidth of received media over the last second (the per-second
 * statistics sample, stats.h). Control thread only. */
#ifndef SLUICE_LOAD_LIMIT_H
#define SLUICE_LOAD_LIMIT_H

#include <stdint.h>

struct daemon;

enum load_kind { LOAD_SESSIONS, LOAD_LOAD, LOAD_CPU, LOAD_BANDWIDTH, LOAD_N };

struct load_state {
	double loadavg;                 /* 1-minute load average, last sample */
	double cpu_pct;                 /* CPU usage, percent, last 0.5 s */
	uint64_t cpu_busy, cpu_total;   /* /proc/stat jiffies at the last sample */
	int64_t next_cpu_us, next_load_us;      /* mono_fine_us of the next samples */
	uint64_t refused[LOAD_N];       /* new calls refused, per limit */
	uint64_t unlogged;              /* refusals since the last log line */
	int64_t logged_us;              /* mono_us of that line */
};

/* rtpengine's error-reason when a limit refuses a call: proxies (Kamailio, OpenSIPS)
 * that did not announce `supports: [load limit]` recognise this exact text and try
 * the next relay of their set. */
#define LOAD_LIMIT_ERROR "Parallel session limit reached"

/* Take the samples that are due. */
void load_tick(struct daemon *d, int64_t now_mono_fine_us);
/* May a new call be created now? NULL: yes. Otherwise the refusal is counted and the
 * reason returned ("Load limit exceeded", ...; static). */
const char *load_refuse(struct daemon *d);
/* Name of a limit for statistics and logs ("sessions", "load", "cpu", "bandwidth"). */
const char *load_kind_name(enum load_kind k);

#endif
