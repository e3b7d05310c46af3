/* Shared by the store_* files (store.h is the public side). */
#ifndef SLUICE_STORE_INTERNAL_H
#define SLUICE_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "store.h"
#include "store_record.h"

#define STORE_QUEUE_MAX 65536           /* calls with an update waiting */
#define STORE_HASH      4096            /* buckets of the queue's key index */
#define STORE_BATCH     128             /* commands per pipelined round trip */

struct store_item {
	struct store_item *next;        /* FIFO */
	struct store_item *hnext;       /* key index chain */
	char *key;
	char *val;                      /* JSON record; NULL: DEL */
	bool persist;                   /* SET without expiry (store_queue_persist) */
	int db;                         /* -1: the target's; else another database (a
	                                   foreign call's key, deleted at takeover) */
};

/* Lock: mu guards the queue, the index and the counters; the hiredis context is the
 * writer thread's alone. */
struct store {
	const struct config *cfg;
	struct cfg_redis target;        /* --redis-write, else --redis */
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct store_item *head, *tail;
	struct store_item *idx[STORE_HASH];
	struct store_stats st;
	bool full_logged;
	bool state_known;               /* up/down logged at least once */
	bool rewrite;                   /* back after an outage: write every call again */
	const struct store_call *pin;   /* record being replayed (store_restore.c) */
	struct store_sub *sub;          /* --subscribe-keyspace (store_foreign.c); NULL */
};

/* NG requests of one call kept for replay (store.c): offers and answers, and the
 * subscriptions (subscribe request with the to-tag it made, subscribe answer) of the
 * subscribers still subscribed, replayed after them. */
struct store_hist {
	char *ng[STORE_MAX_NG];
	bool offer[STORE_MAX_NG];
	unsigned n;
	char *sub[STORE_MAX_SUB];
	char *sub_tag[STORE_MAX_SUB];   /* the subscriber's to-tag of each */
	unsigned n_sub;
	int64_t written_us;             /* mono_us of the last record queued */
	uint64_t written_packets;       /* the call's packets then (store_call_tick) */
};

/* "sluice:call:<instance>:<call-id>" (malloc'd) */
char *store_key(const struct config *cfg, const char *callid);
/* Queue key := val (val NULL: delete), replacing an update of key still queued. Takes
 * ownership of key and val. */
void store_queue(struct store *s, char *key, char *val);
/* The same for a key that must not expire (the kernel table's owner). */
void store_queue_persist(struct store *s, char *key, char *val);
/* The same in database db (-1: the target's). */
void store_queue_db(struct store *s, char *key, char *val, int db);
/* Restore: what Redis says of the kernel table's owner goes to kernel_adopt_begin,
 * and the owner it keeps is written back (store_kernel.c). */
void store_kernel_owner(struct daemon *d, redisContext *c);
/* Connect, AUTH and SELECT; NULL with a logged reason (why: "write", "restore"). */
redisContext *store_connect(const struct cfg_redis *t, const char *why, bool quiet);
int store_writer_start(struct store *s);
void store_writer_stop(struct store *s);
/* store_subs.c: keep a subscription request (JSON, the subscriber's to-tag) in h;
 * request: a subscribe request or unsubscribe, which first forget what was kept of the
 * tag; json NULL (unsubscribe): nothing added. Takes ownership of json. */
void store_hist_sub(struct store_hist *h, char *json, const char *tag, bool request);
void store_hist_sub_free(struct store_hist *h);
/* A successful subscribe request / answer / unsubscribe of c: into c's history. */
void store_sub_remember(struct call *c, const struct ng_request *req,
			const struct bval *tree);
/* json is a kept subscription request: its to-tag into tag (cap bytes). */
bool store_sub_tag(const char *json, char *tag, size_t cap);
/* Fill a record from c (control thread). 0 or -ENOMEM. */
int store_snapshot(struct call *c, struct store_call *out);
/* Whether r can live here: each media on an interface this relay has (*ifmask: their
 * indexes in d->ifaces), its ports inside the port range, an NG request to replay.
 * 0, or -EINVAL with a static *err. Read-only on d: any thread. */
int store_record_check(const struct daemon *d, const struct store_call *r, uint32_t *ifmask,
		       const char **err);
/* Re-create the call of r (store_restore.c): 1 restored, 0 dropped (logged; key, in
 * database db, -1: ours, deleted). Control thread. */
int store_restore_call(struct daemon *d, const struct store_call *r, const char *key, int db);

/* --subscribe-keyspace (store_foreign.c) */
int store_foreign_start(struct daemon *d);
void store_foreign_stop(struct store *s);
void store_foreign_stats(struct store *s, struct store_stats *out);

#endif
