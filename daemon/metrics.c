/* The exposition: the daemon's own counters (calls ended, NG server, ports, load
 * limits), the walk of live calls (metrics_media.c), NG latencies (metrics_ng.c),
 * quality (metrics_quality.c), the recording's figures as `statistics` shows them, and
 * the process. Nothing here changes state: a scrape never begins a new `statistics`
 * interval. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "load_limit.h"
#include "metrics_internal.h"
#include "ng_server.h"
#include "rec.h"
#include "relay.h"
#include "store.h"

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	free(m);
}

/* An integer member of a statistics dictionary, 0 if absent. */
static int64_t metrics_stat(const struct bval *dict, const char *key)
{
	const struct bval *v = dict ? bv_dict_get(dict, key) : NULL;

	return v && v->type == BV_INT ? v->i : 0;
}

/* One sample of a family with no labels. */
static void single(struct strbuf *sb, const char *name, enum prom_type type, const char *help,
		   int64_t v)
{
	prom_family(sb, name, type, help);
	prom_u64(sb, name, NULL, 0, v > 0 ? (uint64_t)v : 0);
}

static void render_info(const struct daemon *d, struct strbuf *sb)
{
	struct prom_label l = { "version", SLUICE_VERSION };

	prom_family(sb, "sluice_build_info", PROM_GAUGE, "Always 1; the version as a label");
	prom_u64(sb, "sluice_build_info", &l, 1, 1);
	single(sb, "sluice_kernel_forwarding", PROM_GAUGE,
	       "1 if the kernel module forwards media for this instance, 0 if userspace only",
	       d->kmod != NULL);
}

static void render_sessions(const struct daemon *d, struct strbuf *sb)
{
	const struct daemon_totals *t = &d->totals;
	const struct { uint64_t v; const char *reason; } ended[] = {
		{ t->regular_terminated, "deleted" }, { t->timeout_sessions, "timeout" },
		{ t->silent_timeout_sessions, "silent_timeout" },
		{ t->final_timeout_sessions, "final_timeout" },
		{ t->offer_timeout_sessions, "offer_timeout" },
		{ t->forced_terminated, "forced" },
	};
	struct prom_label l;

	single(sb, "sluice_sessions_created_total", PROM_COUNTER, "Calls created since start",
	       (int64_t)(t->managed_sessions + d->reg.count));
	prom_family(sb, "sluice_sessions_ended_total", PROM_COUNTER,
		    "Calls removed since start, by why they ended");
	for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++) {
		l = (struct prom_label){ "reason", ended[i].reason };
		prom_u64(sb, "sluice_sessions_ended_total", &l, 1, ended[i].v);
	}
	prom_family(sb, "sluice_sessions_rejected_total", PROM_COUNTER,
		    "New calls refused, by the limit reached (--max-sessions, --max-load, "
		    "--max-cpu, --max-bandwidth)");
	for (int k = 0; k < LOAD_N; k++) {
		l = (struct prom_label){ "limit", load_kind_name((enum load_kind)k) };
		prom_u64(sb, "sluice_sessions_rejected_total", &l, 1, d->load.refused[k]);
	}
}

/* Free and used ports per interface (interfaces on one address share a pool). */
static void render_ports(struct daemon *d, struct strbuf *sb)
{
	static const char *const names[2] = { "sluice_ports_free", "sluice_ports_used" };
	static const char *const help[2] = {
		"Media ports new streams can take, per interface (interfaces on the same "
		"address share one pool)",
		"Media ports held by calls, per interface",
	};
	char addr[NETADDR_STRLEN];

	if (d->relay)
		relay_flush(d->relay);          /* ports of just-deleted calls are free */
	for (int k = 0; k < 2; k++) {
		prom_family(sb, names[k], PROM_GAUGE, help[k]);
		for (unsigned i = 0; i < d->n_ifaces; i++) {
			const struct port_pool *p = d->ifaces[i].pool_ref;
			uint64_t total = 2ull * port_pool_total_pairs(p);
			uint64_t free_ports = 2ull * port_pool_free_pairs(p);
			struct prom_label l[2] = {
				{ "interface", d->ifaces[i].name },
				{ "address", netaddr_ntop(&d->ifaces[i].local, addr, sizeof(addr)) },
			};

			prom_u64(sb, names[k], l, 2, k ? total - free_ports : free_ports);
		}
	}
}

/* The NG server's own figures (as statistics "ng"). */
static void render_ng_server(const struct daemon *d, struct strbuf *sb)
{
	struct ng_server_stats st = { 0 };
	struct prom_label l;

	if (d->ng)
		ng_server_get_stats(d->ng, &st);
	single(sb, "sluice_ng_retransmissions_total", PROM_COUNTER,
	       "NG requests answered from the reply cache (retransmissions, not executed "
	       "again)", (int64_t)st.cache.hits);
	prom_family(sb, "sluice_ng_denied_total", PROM_COUNTER,
		    "NG datagrams and TCP connections refused by --ng-allow");
	l = (struct prom_label){ "kind", "datagram" };
	prom_u64(sb, "sluice_ng_denied_total", &l, 1, st.denied_datagrams);
	l.value = "connection";
	prom_u64(sb, "sluice_ng_denied_total", &l, 1, st.denied_connections);
	single(sb, "sluice_ng_oversized_replies_total", PROM_COUNTER,
	       "UDP replies too large for a datagram, answered with an error instead",
	       (int64_t)st.oversized_replies);
	single(sb, "sluice_ng_cache_evictions_total", PROM_COUNTER,
	       "Cached NG replies dropped before their 60 s to stay within "
	       "--ng-cache-max-bytes/-entries (a retransmission of one would run again)",
	       (int64_t)st.cache.evicted);
	single(sb, "sluice_ng_cache_entries", PROM_GAUGE, "NG replies in the cache",
	       (int64_t)st.cache.entries);
	single(sb, "sluice_ng_cache_bytes", PROM_GAUGE,
	       "Bytes the NG reply cache holds, as counted against --ng-cache-max-bytes",
	       (int64_t)st.cache.bytes);
	single(sb, "sluice_ng_tcp_connections", PROM_GAUGE, "Open NG TCP connections",
	       st.tcp_connections);
}

/* Recording and capture ring: what statistics "recording" shows (when either is on). */
static void render_recording(struct daemon *d, struct strbuf *sb)
{
	const struct bval *r;
	struct prom_label l;
	struct arena a;

	if (!d->rec)
		return;
	arena_init(&a, 0);
	if (!(r = rec_statistics(d, &a))) {
		arena_reset(&a);
		return;
	}
	single(sb, "sluice_recordings_active", PROM_GAUGE, "Calls being recorded (or paused)",
	       metrics_stat(r, "activerecordings"));
	single(sb, "sluice_recording_files_total", PROM_COUNTER, "pcap files opened",
	       metrics_stat(r, "files"));
	single(sb, "sluice_recording_packets_total", PROM_COUNTER,
	       "Packets written to recording files", metrics_stat(r, "packetswritten"));
	single(sb, "sluice_recording_write_errors_total", PROM_COUNTER,
	       "Failed writes of recording files (disk full, I/O error)",
	       metrics_stat(r, "writeerrors"));
	prom_family(sb, "sluice_recording_dropped_total", PROM_COUNTER,
		    "Packet copies lost to recording: queue = a media thread's queue to the "
		    "writer was full, ring = pushed out of the capture ring by its memory cap");
	l = (struct prom_label){ "reason", "queue" };
	prom_u64(sb, "sluice_recording_dropped_total", &l, 1,
		 (uint64_t)metrics_stat(r, "queuedrops"));
	l.value = "ring";
	prom_u64(sb, "sluice_recording_dropped_total", &l, 1,
		 (uint64_t)metrics_stat(r, "ringdrops"));
	single(sb, "sluice_captures_total", PROM_COUNTER, "capture commands written to files",
	       metrics_stat(r, "captures"));
	single(sb, "sluice_capture_ring_bytes", PROM_GAUGE,
	       "Memory the capture ring holds, in bytes", metrics_stat(r, "ringbytes"));
	arena_reset(&a);
}

/* Call state in Redis (store.h), when --redis is given. */
static void render_redis(const struct daemon *d, struct strbuf *sb)
{
	struct store_stats st;
	struct prom_label l = { "op", "set" };

	if (!d->store)
		return;
	store_stats_get(d, &st);
	single(sb, "sluice_redis_up", PROM_GAUGE, "1 while the Redis writer is connected", st.up);
	prom_family(sb, "sluice_redis_writes_total", PROM_COUNTER,
		    "Call state commands Redis confirmed: set = a call written, del = removed");
	prom_u64(sb, "sluice_redis_writes_total", &l, 1, st.writes);
	l.value = "del";
	prom_u64(sb, "sluice_redis_writes_total", &l, 1, st.deletes);
	single(sb, "sluice_redis_errors_total", PROM_COUNTER,
	       "Redis commands refused or lost with their connection", (int64_t)st.errors);
	single(sb, "sluice_redis_outages_total", PROM_COUNTER,
	       "Times Redis became unreachable", (int64_t)st.outages);
	single(sb, "sluice_redis_dropped_total", PROM_COUNTER,
	       "Call state updates lost to a full write queue", (int64_t)st.dropped);
	single(sb, "sluice_redis_queue", PROM_GAUGE, "Calls with an update waiting to be "
	       "written", (int64_t)st.queued);
	single(sb, "sluice_redis_queue_max", PROM_GAUGE, "Peak of sluice_redis_queue",
	       (int64_t)st.queue_max);
	prom_family(sb, "sluice_redis_restore_total", PROM_COUNTER,
		    "Calls read back at start: restored, dropped (ports taken, replay refused), "
		    "skipped (a key that does not parse)");
	l.value = "restored";
	l.name = "result";
	prom_u64(sb, "sluice_redis_restore_total", &l, 1, st.restored);
	l.value = "dropped";
	prom_u64(sb, "sluice_redis_restore_total", &l, 1, st.restore_dropped);
	l.value = "skipped";
	prom_u64(sb, "sluice_redis_restore_total", &l, 1, st.restore_skipped);
	if (!d->cfg->subscribe_keyspace)
		return;
	single(sb, "sluice_redis_foreign_calls", PROM_GAUGE, "Other relays' calls kept by this "
	       "standby (--subscribe-keyspace)", (int64_t)st.foreign);
	single(sb, "sluice_redis_foreign_skipped_total", PROM_COUNTER, "Other relays' call "
	       "records refused (do not parse, other version, ports or interfaces not here)",
	       (int64_t)st.foreign_skipped);
	single(sb, "sluice_redis_takeovers_total", PROM_COUNTER, "Foreign calls taken over",
	       (int64_t)st.takeovers);
}

int metrics_render(struct daemon *d, struct strbuf *out)
{
	static const struct metrics none;
	const struct metrics *m = d->metrics ? d->metrics : &none;
	int e;

	render_info(d, out);
	render_sessions(d, out);
	e = metrics_render_media(d, out);
	render_ports(d, out);
	metrics_render_ng(m, out);
	render_ng_server(d, out);
	render_recording(d, out);
	render_redis(d, out);
	metrics_render_quality(m, out);
	metrics_render_process(d, out);
	return e ? e : out->oom ? -ENOMEM : 0;
}
