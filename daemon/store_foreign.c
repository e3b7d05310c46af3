/* A standby's view of the other relays' calls (--subscribe-keyspace, docs/ha.md).
 *
 * One thread listens to Redis keyspace notifications of the subscribed databases and
 * keeps each call another relay writes there as a foreign call: its record's text,
 * checked when it arrives (parses, this version, interfaces and ports this relay has),
 * and nothing else — no call object, no port, no forwarding. On (re)connect the thread
 * lists the databases (SCAN) so that it also knows the calls written before it listened,
 * and forgets those gone meanwhile.
 *
 * The control thread takes a foreign call over (store_restore_call: the same replay as
 * a restart) when an NG request names it, or when the addresses of all its interfaces
 * have become local (the floating address moved here), checked every tick while there
 * are foreign calls. The taken call is written under this relay's instance and the
 * other relay's key deleted.
 *
 * Lock: sub->mu guards the table, the counters, fd and stop. The thread's two hiredis
 * contexts are its own. */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "call_ops.h"
#include "daemon.h"
#include "ng_request.h"
#include "sluice/log.h"

#define FG_HASH         4096
#define KEY_PREFIX      "sluice:call:"
#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  5000
#define NOTIFY_NEEDED   "K$gx"  /* keyspace events of SET, DEL, expiry */

struct fcall {
	struct fcall *hnext;
	char *key;                      /* sluice:call:<instance>:<call-id> */
	const char *instance;           /* its relay (inside inst) */
	const char *callid;             /* inside key */
	char *inst;                     /* the instance name, NUL-terminated */
	char *json;                     /* the record, checked */
	unsigned db;
	uint32_t ifmask;                /* its interfaces (indexes in d->ifaces) */
	bool seen;                      /* mark of a resync */
};

struct store_sub {
	struct daemon *d;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int fd;                         /* the subscription's socket; -1 none */
	struct fcall *tab[FG_HASH];
	size_t n;
	uint64_t skipped, takeovers;
	bool notify_warned;
};

static unsigned hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % FG_HASH;
}

static void fcall_free(struct fcall *f)
{
	if (!f)
		return;
	free(f->key);
	free(f->inst);
	free(f->json);
	free(f);
}

/* "sluice:call:<instance>:<call-id>": 0 with the parts' offsets, or -EINVAL. */
static int key_split(const char *key, size_t *inst_len, const char **callid)
{
	const char *p = key + strlen(KEY_PREFIX), *colon;

	if (strncmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) || !(colon = strchr(p, ':')) ||
	    colon == p || !colon[1])
		return -EINVAL;
	*inst_len = (size_t)(colon - p);
	*callid = colon + 1;
	return 0;
}

static bool own_key(const struct store_sub *sub, const char *key)
{
	const char *inst = sub->d->cfg->redis_instance, *callid;
	size_t n;

	return !key_split(key, &n, &callid) && n == strlen(inst) &&
	       !memcmp(key + strlen(KEY_PREFIX), inst, n);
}

/* The entry of key in db (mu held). */
static struct fcall **slot_by_key(struct store_sub *sub, const char *key, unsigned db)
{
	const char *callid;
	size_t n;
	struct fcall **pp;

	if (key_split(key, &n, &callid))
		return NULL;
	for (pp = &sub->tab[hash(callid)]; *pp; pp = &(*pp)->hnext)
		if ((*pp)->db == db && !strcmp((*pp)->key, key))
			return pp;
	return pp;
}

static void forget(struct store_sub *sub, const char *key, unsigned db)
{
	struct fcall **pp, *f = NULL;

	pthread_mutex_lock(&sub->mu);
	pp = slot_by_key(sub, key, db);
	if (pp && (f = *pp)) {
		*pp = f->hnext;
		sub->n--;
	}
	pthread_mutex_unlock(&sub->mu);
	fcall_free(f);
}

static void forget(struct store_sub *sub, const char *key, unsigned db);

/* A record not to trust: what was kept of its key is outdated too. */
static void skip(struct store_sub *sub, const char *key, unsigned db, const char *why)
{
	forget(sub, key, db);
	ilog(LOG_WARNING, "redis: foreign key %s skipped: %s", key, why);
	pthread_mutex_lock(&sub->mu);
	sub->skipped++;
	pthread_mutex_unlock(&sub->mu);
}

/* A record of key arrived (thread): check it and keep it, replacing what was kept. */
static void learn(struct store_sub *sub, const char *key, unsigned db, const char *val,
		  size_t len)
{
	struct store_call r;
	struct fcall *f, **pp;
	const char *err, *callid;
	uint32_t ifmask;
	size_t n;

	if (key_split(key, &n, &callid))
		return skip(sub, key, db, "not a call key");
	if (store_call_from_json(val, len, &r, &err))
		return skip(sub, key, db, err);
	if (strcmp(r.callid, callid))
		err = "call-id differs from the key's";
	else if (!store_record_check(sub->d, &r, &ifmask, &err))
		err = NULL;
	store_call_free(&r);
	if (err)
		return skip(sub, key, db, err);
	if (!(f = calloc(1, sizeof(*f))) || !(f->key = strdup(key)) ||
	    !(f->inst = strndup(key + strlen(KEY_PREFIX), n)) || !(f->json = strndup(val, len))) {
		fcall_free(f);
		return;
	}
	f->instance = f->inst;
	f->callid = f->key + (callid - key);
	f->db = db;
	f->ifmask = ifmask;
	f->seen = true;
	pthread_mutex_lock(&sub->mu);
	pp = slot_by_key(sub, key, db);
	if (*pp) {
		f->hnext = (*pp)->hnext;
		fcall_free(*pp);
	} else {
		sub->n++;
	}
	*pp = f;
	pthread_mutex_unlock(&sub->mu);
}

/* ---- the thread's Redis side ---- */

struct conn {
	redisContext *cmd, *sub;
	int cmd_db;                     /* database cmd has selected, -1 unknown */
};

static int select_db(struct conn *c, unsigned db)
{
	redisReply *r;

	if (c->cmd_db == (int)db)
		return 0;
	r = redisCommand(c->cmd, "SELECT %u", db);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return -EIO;
	}
	freeReplyObject(r);
	c->cmd_db = (int)db;
	return 0;
}

/* GET key (db) and learn it; a key gone meanwhile is forgotten. */
static int fetch(struct store_sub *sub, struct conn *c, const char *key, unsigned db)
{
	redisReply *r;

	if (select_db(c, db) || !(r = redisCommand(c->cmd, "GET %s", key)))
		return -EIO;
	if (r->type == REDIS_REPLY_STRING)
		learn(sub, key, db, r->str, r->len);
	else
		forget(sub, key, db);
	freeReplyObject(r);
	return 0;
}

/* Keyspace notifications must be on for this to work: turn on what is missing. A Redis
 * that refuses CONFIG (a managed one) is named in the log, once. */
static void enable_notify(struct store_sub *sub, struct conn *c)
{
	redisReply *r = redisCommand(c->cmd, "CONFIG GET notify-keyspace-events");
	char want[64] = "";
	const char *have = "";

	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING)
		have = r->element[1]->str;
	snprintf(want, sizeof(want), "%s", have);
	for (const char *p = NOTIFY_NEEDED; *p; p++) {
		size_t n = strlen(want);

		if (!strchr(want, *p) && (*p == 'K' || !strchr(want, 'A')) && n < sizeof(want) - 1) {
			want[n] = *p;
			want[n + 1] = '\0';
		}
	}
	if (r && !strcmp(want, have)) {
		freeReplyObject(r);
		return;
	}
	freeReplyObject(r);
	r = redisCommand(c->cmd, "CONFIG SET notify-keyspace-events %s", want);
	if (r && r->type != REDIS_REPLY_ERROR) {
		ilog(LOG_NOTICE, "redis: keyspace notifications turned on "
		     "(notify-keyspace-events %s)", want);
	} else if (!sub->notify_warned) {
		ilog(LOG_WARNING, "redis: cannot turn keyspace notifications on (%s): configure "
		     "Redis with notify-keyspace-events %s, else this standby only learns calls "
		     "when it (re)connects", r ? r->str : c->cmd->errstr, NOTIFY_NEEDED);
		sub->notify_warned = true;
	}
	freeReplyObject(r);
}

static int subscribe(struct store_sub *sub, struct conn *c)
{
	uint16_t mask = sub->d->cfg->subscribe_keyspace;
	struct timeval none = { 0, 0 };

	for (unsigned db = 0; db < 16; db++)
		if (mask & (1u << db))
			redisAppendCommand(c->sub, "PSUBSCRIBE __keyspace@%u__:" KEY_PREFIX "*", db);
	for (unsigned db = 0; db < 16; db++) {
		redisReply *r;

		if (!(mask & (1u << db)))
			continue;
		if (redisGetReply(c->sub, (void **)&r) != REDIS_OK)
			return -EIO;
		freeReplyObject(r);
	}
	redisSetTimeout(c->sub, none);  /* events may be minutes apart */
	redisEnableKeepAlive(c->sub);
	return 0;
}

/* Learn every foreign key of db, forget what is no longer there. */
static int resync(struct store_sub *sub, struct conn *c, unsigned db)
{
	char cursor[32] = "0";

	pthread_mutex_lock(&sub->mu);
	for (unsigned h = 0; h < FG_HASH; h++)
		for (struct fcall *f = sub->tab[h]; f; f = f->hnext)
			if (f->db == db)
				f->seen = false;
	pthread_mutex_unlock(&sub->mu);
	if (select_db(c, db))
		return -EIO;
	do {
		redisReply *r = redisCommand(c->cmd, "SCAN %s MATCH " KEY_PREFIX "* COUNT 1000",
					     cursor);

		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const redisReply *k = r->element[1]->element[i];

			if (k->type == REDIS_REPLY_STRING && !own_key(sub, k->str) &&
			    fetch(sub, c, k->str, db)) {
				freeReplyObject(r);
				return -EIO;
			}
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0"));
	pthread_mutex_lock(&sub->mu);
	for (unsigned h = 0; h < FG_HASH; h++)
		for (struct fcall **pp = &sub->tab[h]; *pp;) {
			struct fcall *f = *pp;

			if (f->db != db || f->seen) {
				pp = &f->hnext;
				continue;
			}
			*pp = f->hnext;
			sub->n--;
			fcall_free(f);
		}
	pthread_mutex_unlock(&sub->mu);
	return 0;
}

/* One notification: ["pmessage", pattern, "__keyspace@N__:KEY", event]. */
static int event(struct store_sub *sub, struct conn *c, const redisReply *r)
{
	const char *ch, *key, *ev;
	unsigned db;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[2]->type != REDIS_REPLY_STRING || r->element[3]->type != REDIS_REPLY_STRING)
		return 0;
	ch = r->element[2]->str;
	ev = r->element[3]->str;
	if (sscanf(ch, "__keyspace@%u__:", &db) != 1 || db > 15 || !(key = strchr(ch, ':')))
		return 0;
	key++;
	if (own_key(sub, key))
		return 0;
	if (!strcmp(ev, "set"))
		return fetch(sub, c, key, db);
	if (!strcmp(ev, "del") || !strcmp(ev, "expired") || !strcmp(ev, "evicted"))
		forget(sub, key, db);
	return 0;
}

static void session(struct store_sub *sub, struct conn *c)
{
	redisReply *r;

	enable_notify(sub, c);
	if (subscribe(sub, c))
		return;
	pthread_mutex_lock(&sub->mu);
	sub->fd = sub->stop ? -1 : c->sub->fd;
	pthread_mutex_unlock(&sub->mu);
	if (sub->fd < 0)
		return;
	for (unsigned db = 0; db < 16; db++)
		if ((sub->d->cfg->subscribe_keyspace & (1u << db)) && resync(sub, c, db))
			return;
	pthread_mutex_lock(&sub->mu);
	size_t n = sub->n;
	pthread_mutex_unlock(&sub->mu);
	ilog(LOG_NOTICE, "redis: standby: %zu foreign call(s) known, listening for more", n);
	while (redisGetReply(c->sub, (void **)&r) == REDIS_OK) {
		int e = event(sub, c, r);

		freeReplyObject(r);
		if (e)
			return;
	}
}

static void *sub_main(void *arg)
{
	struct store_sub *sub = arg;
	unsigned backoff = BACKOFF_MIN_MS;
	bool first = true;

	pthread_mutex_lock(&sub->mu);
	while (!sub->stop) {
		struct conn c = { .cmd_db = -1 };
		int64_t t0 = mono_fine_us();

		pthread_mutex_unlock(&sub->mu);
		c.cmd = store_connect(&sub->d->cfg->redis, "subscribe", !first);
		c.sub = c.cmd ? store_connect(&sub->d->cfg->redis, "subscribe", !first) : NULL;
		first = false;
		if (c.cmd && c.sub)
			session(sub, &c);
		if (c.sub)
			redisFree(c.sub);
		if (c.cmd)
			redisFree(c.cmd);
		pthread_mutex_lock(&sub->mu);
		sub->fd = -1;
		if (sub->stop)
			break;
		if (mono_fine_us() - t0 > 10 * 1000000LL)
			backoff = BACKOFF_MIN_MS;       /* it was up a while: a new outage */
		if (backoff == BACKOFF_MIN_MS)
			ilog(LOG_WARNING, "redis: standby: keyspace subscription lost, reconnecting");
		struct timespec ts = mono_deadline(backoff);

		pthread_cond_timedwait(&sub->cv, &sub->mu, &ts);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	pthread_mutex_unlock(&sub->mu);
	return NULL;
}

int store_foreign_start(struct daemon *d)
{
	struct store_sub *sub;

	if (!d->store || !d->cfg->subscribe_keyspace)
		return 0;
	if (!(sub = calloc(1, sizeof(*sub))))
		return -ENOMEM;
	sub->d = d;
	sub->fd = -1;
	pthread_mutex_init(&sub->mu, NULL);
	mono_cond_init(&sub->cv);
	if (pthread_create(&sub->th, NULL, sub_main, sub)) {
		pthread_mutex_destroy(&sub->mu);
		pthread_cond_destroy(&sub->cv);
		free(sub);
		return -EAGAIN;
	}
	d->store->sub = sub;
	return 0;
}

void store_foreign_stop(struct store *s)
{
	struct store_sub *sub = s->sub;

	if (!sub)
		return;
	pthread_mutex_lock(&sub->mu);
	sub->stop = true;
	if (sub->fd >= 0)
		shutdown(sub->fd, SHUT_RDWR);   /* ends the blocking read */
	pthread_cond_signal(&sub->cv);
	pthread_mutex_unlock(&sub->mu);
	pthread_join(sub->th, NULL);
	for (unsigned h = 0; h < FG_HASH; h++)
		while (sub->tab[h]) {
			struct fcall *f = sub->tab[h];

			sub->tab[h] = f->hnext;
			fcall_free(f);
		}
	pthread_mutex_destroy(&sub->mu);
	pthread_cond_destroy(&sub->cv);
	free(sub);
	s->sub = NULL;
}

void store_foreign_stats(struct store *s, struct store_stats *out)
{
	struct store_sub *sub = s->sub;

	if (!sub)
		return;
	pthread_mutex_lock(&sub->mu);
	out->foreign = sub->n;
	out->foreign_skipped = sub->skipped;
	out->takeovers = sub->takeovers;
	pthread_mutex_unlock(&sub->mu);
}

/* ---- takeover (control thread) ---- */

static void take_over(struct daemon *d, struct fcall *f, const char *why)
{
	struct store_call r;
	const char *err;
	int ok = 0;

	if (!store_call_from_json(f->json, strlen(f->json), &r, &err)) {
		ok = store_restore_call(d, &r, f->key, (int)f->db);
		store_call_free(&r);
	}
	if (ok) {
		clog(LOG_NOTICE, f->callid, NULL, "redis: call taken over from %s (%s)",
		     f->instance, why);
		store_queue_db(d->store, f->key, NULL, (int)f->db);   /* theirs no more */
		f->key = NULL;
		pthread_mutex_lock(&d->store->sub->mu);
		d->store->sub->takeovers++;
		pthread_mutex_unlock(&d->store->sub->mu);
	}
	fcall_free(f);
}

void store_foreign_ng(struct daemon *d, const struct ng_request *req)
{
	struct store_sub *sub = d->store ? d->store->sub : NULL;
	struct fcall **pp, *f = NULL;
	char id[STORE_CALLID_MAX], why[48];

	if (!sub || !req->call_id.len || req->call_id.len >= sizeof(id) ||
	    call_find(d, req->call_id.s, req->call_id.len))
		return;
	memcpy(id, req->call_id.s, req->call_id.len);
	id[req->call_id.len] = '\0';
	pthread_mutex_lock(&sub->mu);
	for (pp = &sub->tab[hash(id)]; *pp && strcmp((*pp)->callid, id);)
		pp = &(*pp)->hnext;
	if ((f = *pp)) {
		*pp = f->hnext;
		sub->n--;
	}
	pthread_mutex_unlock(&sub->mu);
	if (!f)
		return;
	snprintf(why, sizeof(why), "NG %s", ng_cmd_name(req->cmd));
	take_over(d, f, why);
}

/* Whether the address of ifc is on this host now (a bind without IP_FREEBIND). */
static bool addr_local(const struct iface *ifc)
{
	union sockaddr_u a = ifc->local;
	int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	netaddr_set_port(&a, 0);
	yes = !bind(fd, &a.sa, netaddr_len(&a));
	close(fd);
	return yes;
}

void store_foreign_tick(struct daemon *d)
{
	struct store_sub *sub = d->store ? d->store->sub : NULL;
	struct fcall *due = NULL;
	uint32_t used = 0, local = 0;

	if (!sub)
		return;
	pthread_mutex_lock(&sub->mu);
	for (unsigned h = 0; sub->n && h < FG_HASH; h++)
		for (struct fcall *f = sub->tab[h]; f; f = f->hnext)
			used |= f->ifmask;
	pthread_mutex_unlock(&sub->mu);
	for (unsigned k = 0; k < d->n_ifaces; k++)
		if ((used & (1u << k)) && addr_local(&d->ifaces[k]))
			local |= 1u << k;
	if (!local)
		return;
	pthread_mutex_lock(&sub->mu);
	for (unsigned h = 0; h < FG_HASH; h++)
		for (struct fcall **pp = &sub->tab[h]; *pp;) {
			struct fcall *f = *pp;

			if (f->ifmask & ~local) {
				pp = &f->hnext;
				continue;
			}
			*pp = f->hnext;
			sub->n--;
			f->hnext = due;
			due = f;
		}
	pthread_mutex_unlock(&sub->mu);
	while (due) {
		struct fcall *f = due;

		due = f->hnext;
		take_over(d, f, "its address is here");
	}
}
