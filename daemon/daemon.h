/* The daemon context: everything sluiced owns, passed explicitly (no globals). */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "load_limit.h"
#include "ports.h"
#include "registry.h"
#include "sluice/netaddr.h"
#include "sluice/sdp.h"
#include "stats.h"

struct relay;
struct ng_server;
struct dtls_cert;
struct trickle_pending;
struct rec;
struct hep;
struct ng_stats;
struct cli;
struct metrics;
struct http;

/* A media interface: where sockets bind and what SDP advertises. */
struct iface {
	char name[CFG_NAME_MAX];
	union sockaddr_u local;
	union sockaddr_u advertised;
	char adv_str[SDP_ADDR_MAX];     /* advertised address as text for SDP */
	enum sdp_af af;
	struct port_pool pool;          /* shared by ifaces with the same local address */
	struct port_pool *pool_ref;
};

struct daemon_totals {                  /* since start; control thread only */
	uint64_t managed_sessions;
	uint64_t rejected_sessions;
	uint64_t timeout_sessions;
	uint64_t silent_timeout_sessions;
	uint64_t final_timeout_sessions;
	uint64_t offer_timeout_sessions;
	uint64_t regular_terminated;
	uint64_t forced_terminated;
	uint64_t relayed_packets, relayed_bytes, relayed_errors;    /* of deleted calls */
	uint64_t ng_requests, ng_errors;
};

/* Calls with ICE checks due before the next tick (ice_timer.h). Control thread. */
#define ICE_HOT_MAX 256
struct ice_hot {
	struct call *calls[ICE_HOT_MAX];
	unsigned n;
	int64_t due_us;                 /* earliest work due among them (mono_us) */
};

struct daemon {
	const struct config *cfg;
	struct iface ifaces[CFG_MAX_INTERFACES];
	unsigned n_ifaces;
	struct registry reg;
	struct relay *relay;
	struct ng_server *ng;
	struct cli *cli;                /* --listen-cli (cli.h); NULL: none */
	struct daemon_totals totals;
	int64_t started_us;
	char instance_id[24];           /* loop-protect marker */
	struct kmod *kmod;              /* NULL: userspace forwarding only */
	struct kernel_adopt *kadopt;    /* entries of the previous run, during the restore */
	bool kadopt_pending;            /* table opened unflushed: adopt or flush at restore */
	bool khandover;                 /* stopping: leave the entries to the next start */
	struct rec *rec;                /* recording and capture ring; NULL: off (rec.h) */
	struct hep *hep;                /* HEP to Homer; NULL: off (hep_sender.h) */
	struct metrics *metrics;        /* Prometheus counters (metrics.h); NULL: none */
	struct http *http;              /* --listen-http (http.h); NULL: none */
	struct store *store;            /* call state in Redis (store.h); NULL: none */
	char kernel_state[96];          /* why not, or "kernel table N", for logs and query */
	struct dtls_cert *dtls_cert;    /* DTLS-SRTP certificate, made at start (read-only) */
	struct trickle_pending *trickle_q;      /* fragments before their call (ice_trickle.c) */
	unsigned n_trickle_q;
	struct ice_hot ice_hot;         /* ICE pacing between ticks (ice_timer.h) */
	struct load_state load;         /* load limits: samples, refusals (load_limit.h) */
	struct stats_state stats;       /* statistics beyond counters (stats.h) */
	struct ng_stats *ngstats;       /* NG per proxy and command (ng_stats.h); NULL:
	                                   not kept */
	int argc;                       /* the command line, to read the config again */
	char **argv;                    /* (SIGHUP, log_reload.h) */
	uint64_t ng_unsup_noticed[2];   /* unsupported NG flags already named in a NOTICE
	                                   (NG_UNSUP_WORDS, ng_unsupported.c) */
};

int64_t now_us(void);                  /* CLOCK_REALTIME, µs */
int64_t mono_us(void);                 /* CLOCK_MONOTONIC_COARSE, µs: packet stamps */
int64_t mono_fine_us(void);            /* CLOCK_MONOTONIC, µs: timers, jitter buffers */
/* Threads that wait with a timeout: a condition on CLOCK_MONOTONIC (immune to clock
 * steps), and the deadline ms from now on that clock for pthread_cond_timedwait. */
void mono_cond_init(pthread_cond_t *c);
struct timespec mono_deadline(unsigned ms);

#endif
