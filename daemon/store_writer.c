/* The writer thread: takes queued updates in batches, pipelines them to Redis, and
 * reconnects with backoff. Redis being away costs nothing but this thread's time: the
 * queue keeps the latest state of each call (bounded), and is written when Redis is
 * back. One line is logged when Redis goes away and one when it is back. */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "sluice/log.h"

#define BACKOFF_MIN_MS  100
#define BACKOFF_MAX_MS  5000

static unsigned key_hash(const char *k)
{
	unsigned h = 5381;

	while (*k)
		h = h * 33 + (unsigned char)*k++;
	return h % STORE_HASH;
}

static struct store_item **idx_slot(struct store *s, const char *key, int db)
{
	struct store_item **pp = &s->idx[key_hash(key)];

	while (*pp && (strcmp((*pp)->key, key) || (*pp)->db != db))
		pp = &(*pp)->hnext;
	return pp;
}

static void item_free(struct store_item *it)
{
	free(it->key);
	free(it->val);
	free(it);
}

static void queue_item(struct store *s, char *key, char *val, int db, bool persist)
{
	struct store_item **pp, *it;

	if (db == (int)s->target.db)
		db = -1;
	pthread_mutex_lock(&s->mu);
	pp = idx_slot(s, key, db);
	if (*pp) {                      /* coalesce: only the latest state is written */
		free((*pp)->val);
		(*pp)->val = val;
		(*pp)->persist = persist;
		pthread_mutex_unlock(&s->mu);
		free(key);
		return;
	}
	if (s->st.queued >= STORE_QUEUE_MAX || !(it = calloc(1, sizeof(*it)))) {
		s->st.dropped++;
		if (!s->full_logged)
			ilog(LOG_WARNING, "redis: write queue full (%u calls waiting): updates "
			     "dropped until it drains", STORE_QUEUE_MAX);
		s->full_logged = true;
		pthread_mutex_unlock(&s->mu);
		free(key);
		free(val);
		return;
	}
	it->key = key;
	it->val = val;
	it->persist = persist;
	it->db = db;
	*pp = it;
	if (s->tail)
		s->tail->next = it;
	else
		s->head = it;
	s->tail = it;
	if (++s->st.queued > s->st.queue_max)
		s->st.queue_max = s->st.queued;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void store_queue(struct store *s, char *key, char *val)
{
	queue_item(s, key, val, -1, false);
}

void store_queue_db(struct store *s, char *key, char *val, int db)
{
	queue_item(s, key, val, db, false);
}

void store_queue_persist(struct store *s, char *key, char *val)
{
	queue_item(s, key, val, -1, true);
}

/* Up to STORE_BATCH items off the queue (mu held). */
static unsigned take(struct store *s, struct store_item **batch)
{
	unsigned n = 0;

	while (s->head && n < STORE_BATCH) {
		struct store_item *it = s->head;

		s->head = it->next;
		if (!s->head)
			s->tail = NULL;
		*idx_slot(s, it->key, it->db) = it->hnext;
		it->next = it->hnext = NULL;
		s->st.queued--;
		batch[n++] = it;
	}
	if (s->st.queued < STORE_QUEUE_MAX / 2)
		s->full_logged = false;
	return n;
}

/* Unwritten items go back to the front, unless a newer update of their key came. */
static void requeue(struct store *s, struct store_item **batch, unsigned from, unsigned n)
{
	pthread_mutex_lock(&s->mu);
	for (unsigned i = n; i-- > from;) {
		struct store_item *it = batch[i], **pp = idx_slot(s, it->key, it->db);

		if (*pp) {
			item_free(it);
			continue;
		}
		*pp = it;
		it->next = s->head;
		s->head = it;
		if (!s->tail)
			s->tail = it;
		s->st.queued++;
	}
	pthread_mutex_unlock(&s->mu);
}

redisContext *store_connect(const struct cfg_redis *t, const char *why, bool quiet)
{
	struct timeval tv = { 1, 0 };
	char ip[NETADDR_STRLEN];
	redisContext *c;
	redisReply *r;

	netaddr_ntop(&t->addr, ip, sizeof(ip));
	c = redisConnectWithTimeout(ip, netaddr_port(&t->addr), tv);
	if (!c || c->err) {
		if (!quiet)
			ilog(LOG_WARNING, "redis (%s): cannot connect to %s port %u: %s", why, ip,
			     netaddr_port(&t->addr), c ? c->errstr : "out of memory");
		goto fail;
	}
	tv.tv_sec = 2;
	redisSetTimeout(c, tv);
	if (t->password[0]) {
		r = redisCommand(c, "AUTH %s", t->password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			if (!quiet)
				ilog(LOG_WARNING, "redis (%s): AUTH refused: %s", why,
				     r ? r->str : c->errstr);
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "SELECT %u", t->db);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (!quiet)
			ilog(LOG_WARNING, "redis (%s): SELECT %u refused: %s", why, t->db,
			     r ? r->str : c->errstr);
		freeReplyObject(r);
		goto fail;
	}
	freeReplyObject(r);
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}

/* Pipeline the batch. Returns how many were confirmed before a connection error
 * (n: all). A command Redis refuses is counted and dropped. */
static unsigned write_batch(struct store *s, redisContext *c, struct store_item **b,
			    unsigned n)
{
	uint64_t w = 0, dl = 0, err = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (b[i]->db >= 0)      /* another database, for this one command */
			redisAppendCommand(c, "SELECT %d", b[i]->db);
		if (b[i]->val && b[i]->persist)
			redisAppendCommand(c, "SET %s %s", b[i]->key, b[i]->val);
		else if (b[i]->val)
			redisAppendCommand(c, "SET %s %s EX %u", b[i]->key, b[i]->val,
					   s->cfg->redis_expires);
		else
			redisAppendCommand(c, "DEL %s", b[i]->key);
		if (b[i]->db >= 0)
			redisAppendCommand(c, "SELECT %u", s->target.db);
	}
	for (i = 0; i < n; i++) {
		redisReply *r[3] = { NULL };
		unsigned k, nr = b[i]->db >= 0 ? 3 : 1, at = b[i]->db >= 0;

		for (k = 0; k < nr && redisGetReply(c, (void **)&r[k]) == REDIS_OK; k++)
			;
		if (k == nr) {
			if (r[at]->type == REDIS_REPLY_ERROR)
				err++;
			else if (b[i]->val)
				w++;
			else
				dl++;
		}
		for (unsigned j = 0; j < k; j++)
			freeReplyObject(r[j]);
		if (k < nr)
			break;
	}
	pthread_mutex_lock(&s->mu);
	s->st.writes += w;
	s->st.deletes += dl;
	s->st.errors += err + (i < n);
	pthread_mutex_unlock(&s->mu);
	return i;
}

static void set_up(struct store *s, bool up)
{
	char a[NETADDR_STRLEN];

	pthread_mutex_lock(&s->mu);
	if (s->st.up != up || !s->state_known) {
		s->state_known = true;
		s->st.up = up;
		if (!up)
			s->st.outages++;
		else if (s->st.outages)
			s->rewrite = true;      /* the Redis that is back may have lost them */
		ilog(up ? LOG_NOTICE : LOG_WARNING, "redis %s: %s",
		     netaddr_str(&s->target.addr, a, sizeof(a)), up ?
		     "connected, call state is written" :
		     "unreachable: call state is queued until it is back");
	}
	pthread_mutex_unlock(&s->mu);
}

/* Wait ms or until stopped (mu held). */
static void nap(struct store *s, unsigned ms)
{
	struct timespec ts = mono_deadline(ms);

	if (!s->stop)
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void *writer(void *arg)
{
	struct store *s = arg;
	struct store_item *batch[STORE_BATCH];
	redisContext *c = NULL;
	unsigned backoff = BACKOFF_MIN_MS, n, done;
	bool first = true;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stop && c)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop && (!s->head || !c))
			break;
		if (!c) {
			pthread_mutex_unlock(&s->mu);
			/* why is logged at the first attempt only (a wrong password, a
			 * wrong address): an outage later is one line, from set_up() */
			c = store_connect(&s->target, "write", !first);
			if (c) {
				set_up(s, true);
				backoff = BACKOFF_MIN_MS;
			} else {
				set_up(s, false);       /* logs only a change */
			}
			first = false;
			pthread_mutex_lock(&s->mu);
			if (!c) {
				nap(s, backoff);
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			}
			continue;
		}
		n = take(s, batch);
		pthread_mutex_unlock(&s->mu);
		done = write_batch(s, c, batch, n);
		for (unsigned i = 0; i < done; i++)
			item_free(batch[i]);
		if (done < n) {
			requeue(s, batch, done, n);
			redisFree(c);
			c = NULL;
			set_up(s, false);
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	if (c)
		redisFree(c);
	return NULL;
}

int store_writer_start(struct store *s)
{
	mono_cond_init(&s->cv);
	pthread_mutex_init(&s->mu, NULL);
	if (pthread_create(&s->th, NULL, writer, s))
		return -1;
	s->started = true;
	return 0;
}

void store_writer_stop(struct store *s)
{
	struct store_item *it;

	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	while ((it = s->head)) {
		s->head = it->next;
		item_free(it);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
}
