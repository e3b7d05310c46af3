/* Daemon-wide statistics: the `statistics` NG reply (stats_reply.c, rtpengine's schema)
 * and what it needs beyond plain counters (stats_sample.c):
 *
 * - a sample every second of the relayed packets, bytes and errors, split into what
 *   userspace and the kernel forwarded, which gives the current rates (and the
 *   bandwidth --max-bandwidth compares), and of every transcoder's input, per codec
 *   chain ("transcoders");
 * - at each call's end its duration, its average MOS (quality_track.h) and whether
 *   each of its media pairs carried nothing (zero-way) or one direction only (one-way);
 * - the interval figures (fewest and most calls, time of the calls that ended), from
 *   one `statistics` request to the next.
 *
 * The sample walks every call (O(streams), counters read from memory, the kernel's
 * from the shared table). Control thread only. */
#ifndef SLUICE_STATS_H
#define SLUICE_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/bencode.h"

struct daemon;
struct call;

#define STATS_MAX_CHAINS 32

struct stats_counts {
	uint64_t packets, bytes, errors;
};

struct stats_chain {                    /* one transcoding direction */
	char name[100];                 /* "PCMA/8000 -> PCMU/8000" */
	unsigned num;                   /* transcoders of this chain at the last sample */
	uint64_t packets, bytes, samples;       /* input since start, as sampled */
	uint64_t packetrate, byterate, samplerate;      /* input in the last second */
};

struct stats_state {
	struct stats_counts ended_kernel;       /* the kernel's share of the counters of
						   ended calls (daemon_totals.relayed_*) */
	uint64_t zeroway, oneway;               /* media pairs of ended calls */
	double duration_sum, duration_sq;       /* s and s² of ended calls */
	double mos_sum, mos_sq;                 /* average MOS of ended calls that had one */
	uint64_t mos_calls;
	struct stats_counts user, kernel;       /* totals at the last sample */
	struct stats_counts rate_user, rate_kernel;     /* per second, last sample */
	bool sampled;
	int64_t next_sample_us;
	double iv_duration;                     /* s of calls that ended in the interval */
	uint64_t iv_min_sessions, iv_max_sessions;
	bool iv_seen;
	struct stats_chain chain[STATS_MAX_CHAINS];
	unsigned n_chains;
};

/* Take the per-second sample when it is due (also closes the NG request rates). */
void stats_tick(struct daemon *d, int64_t now_mono_fine_us);
/* A call is going away (after its kernel counters were folded in). */
void stats_call_ended(struct daemon *d, struct call *c);
/* Received media, bytes per second, over the last whole second. */
uint64_t stats_bandwidth(const struct daemon *d);
/* The "statistics" dictionary and "result" into reply; a new interval begins. 0 or
 * -ENOMEM. */
int stats_reply(struct daemon *d, struct arena *a, struct bval *reply);
/* The same without "intervalstatistics", and the interval goes on: an operator's look
 * (the CLI) must not cut short the interval of whatever polls NG statistics. */
int stats_peek(struct daemon *d, struct arena *a, struct bval *reply);

#endif
