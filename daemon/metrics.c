/* The exposition: what NG `statistics` reports (sessions, ports, the NG server,
 * recording) taken from its own reply, so /metrics and /stats never disagree, then the
 * walk of live calls (metrics_media.c), the NG latencies (metrics_ng.c), the process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "metrics_internal.h"
#include "ng_commands.h"
#include "ng_request.h"

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	free(m);
}

int64_t metrics_stat(const struct bval *dict, const char *key)
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

static void render_sessions(const struct daemon *d, const struct bval *st, struct strbuf *sb)
{
	static const struct { const char *key, *reason; } ended[] = {
		{ "regularterminatedsessions", "deleted" }, { "timeoutsessions", "timeout" },
		{ "silenttimeoutsessions", "silent_timeout" },
		{ "finaltimeoutsessions", "final_timeout" },
		{ "offertimeoutsessions", "offer_timeout" },
		{ "forcedterminatedsessions", "forced" },
	};
	const struct bval *cur = bv_dict_get(st, "currentstatistics");
	const struct bval *tot = bv_dict_get(st, "totalstatistics");

	single(sb, "sluice_sessions_own", PROM_GAUGE,
	       "Calls this instance runs (not deleted)", metrics_stat(cur, "sessionsown"));
	single(sb, "sluice_sessions_foreign", PROM_GAUGE,
	       "Calls of other instances known here (always 0 without a shared store)",
	       metrics_stat(cur, "sessionsforeign"));
	single(sb, "sluice_sessions_created_total", PROM_COUNTER, "Calls created since start",
	       metrics_stat(tot, "managedsessions") + (int64_t)d->reg.count);
	prom_family(sb, "sluice_sessions_ended_total", PROM_COUNTER,
		    "Calls removed since start, by why they ended");
	for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++) {
		struct prom_label l = { "reason", ended[i].reason };
		int64_t v = metrics_stat(tot, ended[i].key);

		prom_u64(sb, "sluice_sessions_ended_total", &l, 1, v > 0 ? (uint64_t)v : 0);
	}
	single(sb, "sluice_sessions_rejected_total", PROM_COUNTER,
	       "New calls refused (--max-sessions)", metrics_stat(tot, "rejectedsessions"));
}

/* Port figures per interface, from the statistics "interfaces" list (one entry per
 * d->ifaces, in order). */
static void render_ports(const struct daemon *d, const struct bval *st, struct strbuf *sb)
{
	static const char *const names[2] = { "sluice_ports_free", "sluice_ports_used" };
	static const char *const keys[2] = { "free", "used" };
	static const char *const help[2] = {
		"Media ports new streams can take, per interface (interfaces on the same "
		"address share one pool)",
		"Media ports held by calls, per interface",
	};
	const struct bval *list = bv_dict_get(st, "interfaces");
	char addr[NETADDR_STRLEN];

	for (int k = 0; k < 2; k++) {
		const struct bval *e = list && list->type == BV_LIST ? list->c.first : NULL;

		prom_family(sb, names[k], PROM_GAUGE, help[k]);
		for (unsigned i = 0; i < d->n_ifaces && e; i++, e = e->next) {
			struct prom_label l[2] = {
				{ "interface", d->ifaces[i].name },
				{ "address", netaddr_ntop(&d->ifaces[i].local, addr, sizeof(addr)) },
			};
			int64_t v = metrics_stat(bv_dict_get(e, "ports"), keys[k]);

			prom_u64(sb, names[k], l, 2, v > 0 ? (uint64_t)v : 0);
		}
	}
}

/* The NG server's own figures (statistics "ng"). */
static void render_ng_server(const struct bval *st, struct strbuf *sb)
{
	const struct bval *ng = bv_dict_get(st, "ng");
	struct prom_label l;

	single(sb, "sluice_ng_retransmissions_total", PROM_COUNTER,
	       "NG requests answered from the reply cache (retransmissions, not executed "
	       "again)", metrics_stat(ng, "cachehits"));
	prom_family(sb, "sluice_ng_denied_total", PROM_COUNTER,
		    "NG datagrams and TCP connections refused by --ng-allow");
	l = (struct prom_label){ "kind", "datagram" };
	prom_u64(sb, "sluice_ng_denied_total", &l, 1,
		 (uint64_t)metrics_stat(ng, "denieddatagrams"));
	l.value = "connection";
	prom_u64(sb, "sluice_ng_denied_total", &l, 1,
		 (uint64_t)metrics_stat(ng, "deniedconnections"));
	single(sb, "sluice_ng_cache_evictions_total", PROM_COUNTER,
	       "Cached NG replies dropped before their 60 s to stay within "
	       "--ng-cache-max-bytes/-entries (a retransmission of one would run again)",
	       metrics_stat(ng, "cacheevictions"));
	single(sb, "sluice_ng_cache_entries", PROM_GAUGE, "NG replies in the cache",
	       metrics_stat(ng, "cacheentries"));
	single(sb, "sluice_ng_cache_bytes", PROM_GAUGE,
	       "Bytes the NG reply cache holds, as counted against --ng-cache-max-bytes",
	       metrics_stat(ng, "cachebytes"));
	single(sb, "sluice_ng_tcp_connections", PROM_GAUGE, "Open NG TCP connections",
	       metrics_stat(ng, "tcpconnections"));
}

/* Recording and capture ring (statistics "recording"; absent when both are off). */
static void render_recording(const struct bval *st, struct strbuf *sb)
{
	const struct bval *r = bv_dict_get(st, "recording");
	struct prom_label l;

	if (!r)
		return;
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
}

/* ---- per-stream quality: MOS and jitter distributions ----
 * Placeholder for daemon/quality_*.c (per-stream loss, jitter, RTT, MOS; not merged
 * yet). Planned families, docs/metrics.md "Quality":
 *   sluice_stream_mos              histogram, MOS of live streams (E-model, 1..4.5)
 *   sluice_stream_jitter_seconds   histogram, interarrival jitter of live streams
 *   sluice_call_mos                histogram, a call's average MOS when it ends
 * Rendered here, from what the quality module keeps per stream, under the call lock
 * as metrics_media.c reads the counters. */
static void render_quality(struct daemon *d, struct strbuf *sb)
{
	(void)d;
	(void)sb;
}

int metrics_render(struct daemon *d, struct strbuf *out)
{
	static const struct metrics none;
	struct ng_request req = { .cmd = NG_STATISTICS };
	const char *err = NULL;
	struct bval *reply, *st;
	struct arena a;
	int e;

	arena_init(&a, 0);
	reply = bv_new_dict(&a);
	if (!reply || ng_command(d, &req, &a, reply, &err) ||
	    !(st = bv_dict_get(reply, "statistics"))) {
		arena_reset(&a);
		return -ENOMEM;
	}
	render_info(d, out);
	render_sessions(d, st, out);
	e = metrics_render_media(d, out);
	render_ports(d, st, out);
	metrics_render_ng(d->metrics ? d->metrics : &none, out);
	render_ng_server(st, out);
	render_recording(st, out);
	render_quality(d, out);
	metrics_render_process(d, out);
	arena_reset(&a);
	return e ? e : out->oom ? -ENOMEM : 0;
}
