/* NG reply cache: hash table plus a FIFO in insertion order (insertion order is expiry
 * order because every entry gets the same TTL). */
#include "ng_cache.h"

#include <stdlib.h>
#include <string.h>

#define NBUCKETS 4096

struct entry {
	struct entry *hnext;
	struct entry *fnext;
	int64_t expires;
	size_t klen, rlen;
	char *reply;
	char key[];                     /* source IP bytes, then cookie */
};

struct ng_cache {
	struct entry *buckets[NBUCKETS];
	struct entry *fifo_head, *fifo_tail;
	size_t count;
	int64_t ttl_us;
};

static size_t make_key(char *buf, size_t cap, const char *cookie, size_t clen,
		       const union sockaddr_u *from)
{
	const void *ip = from->sa.sa_family == AF_INET6 ? (const void *)&from->sin6.sin6_addr
							: (const void *)&from->sin.sin_addr;
	size_t iplen = from->sa.sa_family == AF_INET6 ? 16 : 4;

	if (1 + iplen + clen > cap)
		return 0;
	buf[0] = (char)iplen;           /* family tag: v4 and v6 keys never collide */
	memcpy(buf + 1, ip, iplen);
	memcpy(buf + 1 + iplen, cookie, clen);
	return 1 + iplen + clen;
}

static unsigned bucket(const char *k, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h % NBUCKETS;
}

struct ng_cache *ng_cache_new(unsigned ttl_s)
{
	struct ng_cache *c = calloc(1, sizeof(*c));

	if (c)
		c->ttl_us = (int64_t)ttl_s * 1000000;
	return c;
}

static void unlink_hash(struct ng_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[bucket(e->key, e->klen)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			return;
		}
}

void ng_cache_expire(struct ng_cache *c, int64_t now)
{
	while (c->fifo_head && c->fifo_head->expires <= now) {
		struct entry *e = c->fifo_head;
		c->fifo_head = e->fnext;
		if (!c->fifo_head)
			c->fifo_tail = NULL;
		unlink_hash(c, e);
		free(e->reply);
		free(e);
		c->count--;
	}
}

void ng_cache_free(struct ng_cache *c)
{
	if (!c)
		return;
	ng_cache_expire(c, INT64_MAX);
	free(c);
}

const char *ng_cache_get(struct ng_cache *c, const char *cookie, size_t clen,
			 const union sockaddr_u *from, size_t *rlen, int64_t now)
{
	char key[512];
	size_t klen = make_key(key, sizeof(key), cookie, clen, from);

	if (!klen)
		return NULL;
	for (struct entry *e = c->buckets[bucket(key, klen)]; e; e = e->hnext)
		if (e->klen == klen && !memcmp(e->key, key, klen) && e->expires > now) {
			*rlen = e->rlen;
			return e->reply;
		}
	return NULL;
}

void ng_cache_put(struct ng_cache *c, const char *cookie, size_t clen,
		  const union sockaddr_u *from, const char *reply, size_t rlen, int64_t now)
{
	char key[512];
	size_t klen = make_key(key, sizeof(key), cookie, clen, from);
	struct entry *e;
	unsigned b;

	if (!klen || !(e = malloc(sizeof(*e) + klen)))
		return;
	e->reply = malloc(rlen ? rlen : 1);
	if (!e->reply) {
		free(e);
		return;
	}
	memcpy(e->reply, reply, rlen);
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->rlen = rlen;
	e->expires = now + c->ttl_us;
	b = bucket(key, klen);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	e->fnext = NULL;
	if (c->fifo_tail)
		c->fifo_tail->fnext = e;
	else
		c->fifo_head = e;
	c->fifo_tail = e;
	c->count++;
}

size_t ng_cache_count(const struct ng_cache *c)
{
	return c->count;
}
