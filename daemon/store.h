/* Call state in Redis (docs/redis.md): each call that matters for a restart is written
 * as one JSON record (store_record.h) under sluice:call:<instance>:<call-id>, by one
 * writer thread (store_writer.c) fed through a bounded, coalescing queue, so neither NG
 * nor media ever waits on Redis. At start the calls of this instance are read back and
 * re-created (store_restore.c): same ports, NG requests replayed, latches restored.
 *
 * All functions are for the control thread; each is a no-op without --redis. */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"

struct daemon;
struct bval;
struct ng_request;
struct iface;

struct store_stats {
	bool enabled, up;
	uint64_t writes, deletes;       /* commands Redis confirmed */
	uint64_t errors;                /* commands or connections that failed */
	uint64_t outages;               /* times Redis became unreachable */
	uint64_t dropped;               /* updates lost to a full queue */
	uint64_t queued, queue_max;     /* queue depth now, and its peak */
	uint64_t restored, restore_dropped, restore_skipped;
	uint64_t foreign;               /* other relays' calls kept (--subscribe-keyspace) */
	uint64_t foreign_skipped;       /* their records refused */
	uint64_t takeovers;             /* foreign calls taken over */
};

/* Start the writer (connects in the background). 0, or -1 with err. */
int store_start(struct daemon *d, char *err, size_t errlen);
/* Flush what is queued (bounded wait) and stop the writer. */
void store_stop(struct daemon *d);
/* An NG command with effects succeeded: remember offer/answer requests for replay and
 * queue the call's record (delete: its removal, once the call is gone). */
void store_ng_done(struct daemon *d, const struct ng_request *req, const struct bval *tree);
/* Queue the current state of c (latching changed). */
void store_call_changed(struct daemon *d, struct call *c);
/* Once a second per call (timeouts): a call whose counters moved is written again
 * every --redis-update-interval, so counters and SRTP rollover counters survive a
 * crash. now: mono_us(). */
void store_call_tick(struct daemon *d, struct call *c, int64_t now);
/* A clean stop, before the calls are closed: their last state is written. */
void store_shutdown(struct daemon *d);
/* c is being destroyed: its key goes, unless the daemon is only shutting down. */
void store_call_gone(struct daemon *d, struct call *c, enum call_end why);
void store_stats_get(const struct daemon *d, struct store_stats *out);
/* The statistics "redis" dictionary (docs/redis.md). */
struct arena;
struct bval *store_statistics(const struct daemon *d, struct arena *a);

/* Restore the calls of this instance from --redis. Before NG is served. */
void store_restore(struct daemon *d);
/* While restoring: the port the record gives media idx of p. 0 with *port, -ENOENT
 * when not restoring, -EADDRNOTAVAIL when the record has none. */
int store_pinned_port(struct daemon *d, const struct party *p, unsigned idx, uint16_t *port);

/* --subscribe-keyspace (docs/ha.md): an NG request is about to run; if it names a
 * foreign call, take that call over first, so the request finds it. */
void store_foreign_ng(struct daemon *d, const struct ng_request *req);
/* Each tick: after a Redis outage queue every call again (Redis may have lost them);
 * a standby takes over the foreign calls whose addresses have come to this host. */
void store_tick(struct daemon *d);
void store_foreign_tick(struct daemon *d);

#endif
