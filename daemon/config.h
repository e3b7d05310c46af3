/* sluiced configuration: defaults < INI file < command line, then frozen.
 *
 * Option names follow rtpengine's so an operator can switch by changing the binary
 * name. Options rtpengine has and sluice does not implement are accepted with a
 * one-line warning; unknown options and bad values are fatal with a one-line error. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/cidr.h"
#include "sluice/netaddr.h"
#include "sluice/version.h"
#define CONFIG_DEFAULT_FILE "/etc/sluice/sluice.conf"
#define CONFIG_DEFAULT_SECTION "sluice"

#define CFG_MAX_LISTEN      8
#define CFG_MAX_INTERFACES  16
#define CFG_NAME_MAX        32
#define CFG_MAX_NG_ALLOW    64
#define CFG_MAX_MEDIA_DIRS  8

enum endpoint_learning { EL_DELAYED = 0, EL_IMMEDIATE, EL_OFF, EL_HEURISTIC };
enum kernel_mode { KERNEL_AUTO = 0, KERNEL_ON, KERNEL_OFF };
enum rec_format { REC_FMT_RAW = 0, REC_FMT_ETH };

struct cfg_interface {
	char name[CFG_NAME_MAX];        /* logical name; "default" when not given */
	union sockaddr_u local;         /* address to bind media sockets to (port 0) */
	union sockaddr_u advertised;    /* address written into SDP (== local unless IP!ADV) */
};

struct cfg_redis {                      /* --redis / --redis-write: [PASSWORD@]IP:PORT/DB */
	union sockaddr_u addr;          /* family 0: not given */
	unsigned db;
	char password[128];             /* "" = no AUTH */
};

struct config {
	char config_file[PATH_MAX];     /* "" when none was read */
	char config_section[CFG_NAME_MAX];

	union sockaddr_u listen_ng[CFG_MAX_LISTEN];       /* UDP NG */
	unsigned n_listen_ng;
	union sockaddr_u listen_tcp_ng[CFG_MAX_LISTEN];   /* TCP NG */
	unsigned n_listen_tcp_ng;
	union sockaddr_u listen_cli;    /* control CLI (TCP, docs/cli.md); family 0: none */
	union sockaddr_u listen_http[CFG_MAX_LISTEN];     /* HTTP: /metrics, /ping, /stats */
	unsigned n_listen_http;
	struct cidr ng_allow[CFG_MAX_NG_ALLOW];   /* NG sources allowed; none = any */
	unsigned n_ng_allow;
	uint64_t ng_cache_max_bytes;    /* reply cache bound, bytes; 0 = no cache */
	unsigned ng_cache_max_entries;  /* reply cache bound, entries; 0 = no cache */

	struct cfg_interface interfaces[CFG_MAX_INTERFACES];
	unsigned n_interfaces;
	uint16_t port_min, port_max;

	unsigned timeout;               /* s, no RTP on a call -> delete */
	unsigned silent_timeout;        /* s, same for calls on hold / one-way */
	unsigned final_timeout;         /* s, cap on call length; 0 = off */
	unsigned offer_timeout;         /* s, call with an offer but no answer; 0 = off */
	unsigned delete_delay;          /* s, keep a deleted call this long */
	unsigned num_threads;           /* media worker threads; default: online CPUs */
	bool io_uring;                  /* userspace media I/O through io_uring if the kernel
	                                   has it (relay_uring.h); false: recvmmsg/sendmmsg */
	bool no_io_uring;               /* --no-io-uring: resolved into io_uring */
	unsigned io_uring_buffers;      /* receive buffers per media thread, power of 2 */
	int max_sessions;               /* new calls refused at this many; -1 = no limit,
	                                   0 = refuse all (drain), as rtpengine */
	double max_load;                /* 1-minute load average; 0 = no limit */
	double max_cpu;                 /* CPU usage, percent of all CPUs; 0 = no limit */
	uint64_t max_bandwidth;         /* received media, bytes/s; 0 = no limit */
	int table;                      /* kernel table (instance id); -1 = userspace only */
	enum kernel_mode kernel;        /* effective: table -1 -> OFF, no-fallback -> ON */
	bool no_fallback;               /* refuse to start without kernel module */
	int tos;                        /* IP TOS for media; -1 = leave */
	enum endpoint_learning endpoint_learning;
	unsigned jitter_buffer;         /* ms, max delay of transcoded streams' buffer; 0 = off */
	char media_dirs[CFG_MAX_MEDIA_DIRS][PATH_MAX];  /* play media "file" only below
	                                   these (resolved) folders; none = any file */
	unsigned n_media_dirs;
	char recording_dir[PATH_MAX];   /* "" = recording off (rec.h, docs/recording.md) */
	enum rec_format recording_format;
	bool recording_proc;            /* --recording-method=proc: unsupported, recording off */
	unsigned capture_ring;          /* s of every call kept in memory; 0 = off */
	unsigned capture_ring_mb;       /* the ring's memory cap */
	union sockaddr_u homer;         /* HEP collector; AF_UNSPEC: none (hep_sender.h) */
	bool homer_tcp;
	unsigned homer_id;

	struct cfg_redis redis;         /* call state read at start, and written (store.h) */
	struct cfg_redis redis_write;   /* where it is written; family 0: --redis */
	unsigned redis_num_threads;     /* accepted; one writer thread (docs/redis.md) */
	unsigned redis_expires;         /* TTL of a call's key, s */
	unsigned redis_update_interval; /* rewrite a call whose media moved, s; 0 never */
	char redis_instance[64];        /* key prefix sluice:call:<instance>: */
	uint16_t subscribe_keyspace;    /* bit n: keep the calls of database n as foreign
	                                   calls (store_foreign.c); 0: not a standby */

	bool foreground;
	char pidfile[PATH_MAX];
	int log_level;                  /* syslog 0-7, default 6 */
	bool log_stderr;
	char log_facility[16];          /* "daemon", "local0".."local7" */
};

/* Fill cfg from defaults, the INI file (--config-file, default /etc/sluice/sluice.conf
 * if present; "none" = no file) and argv. Returns 0, or -1 with a one-line message
 * naming the offending option in err. Warnings for accepted-but-unimplemented rtpengine
 * options are printed to stderr as one line each. --help/--version print and exit(0). */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);
/* Same, with warnings written to warn (one line each, "sluiced: warning: ..."). */
int config_load_warn(struct config *cfg, int argc, char **argv, FILE *warn,
		     char *err, size_t errlen);
/* Write the effective configuration as an INI [sluice] section that config_load reads
 * back to the same configuration. */
void config_dump(const struct config *cfg, FILE *out);
/* "heuristic", "delayed", "immediate", "off" (len bytes) -> enum endpoint_learning, or -1. */
int endpoint_learning_parse(const char *s, size_t len);
/* "[PASSWORD@]IP:PORT/DB" (DB optional, default 0) -> r. 0 or -EINVAL. */
int config_redis_parse(const char *s, struct cfg_redis *r);

#endif
