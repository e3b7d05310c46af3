/* NG reply cache: a chained hash table plus a FIFO in insertion order. Every entry gets
 * the same TTL, so insertion order is also expiry order, and the FIFO head is both the
 * next to expire and the oldest to evict. Each entry (header, key, reply) carries its
 * hash, so a resize never rehashes a key.
 *
 * Entries are not malloc'ed: they are appended to a log of mmap'ed blocks. Replies live
 * 60 s while most control-plane objects live a few seconds; mixed into one heap they pin
 * pages of it and the heap takes many minutes to settle. A block whose last entry is gone
 * is kept as a spare (MADV_FREE: the kernel may take its pages if it needs them) and
 * reused first, so the cache's resident memory follows the peak of its content rather
 * than every swing of the call rate; spares unused for SPARE_KEEP, and all of them once
 * the cache is empty, are unmapped.
 *
 * Replies are stored packed (ng_cache_pack.c): a third to a tenth of their size. */
#include "ng_cache.h"
#include "ng_cache_pack.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#define MIN_BUCKETS  64u
#define KEY_MAX      512                /* family tag + IPv6 + a generous cookie */
#define BLOCK_SIZE   (256u * 1024)      /* one mmap per ~170 offers at 1.5 KB a reply */
#define ALIGN        16u
#define SPARE_KEEP   (300 * 1000000LL)  /* us a spare block may wait to be reused */

/* A piece of the log; entries are bump-allocated from data[]. */
struct block {
	struct block *next;             /* newer; for a spare: the one freed before it */
	size_t size;                    /* of the mapping */
	size_t used;                    /* offset of the next entry in data[] */
	size_t live;                    /* entries not yet dropped */
	int64_t freed;                  /* spare since (monotonic us) */
	char data[] __attribute__((aligned(ALIGN)));
};

struct entry {
	struct entry *hnext;            /* hash chain */
	struct entry *fnext;            /* FIFO, oldest first */
	int64_t expires;
	uint64_t hash;
	uint32_t klen, rlen;            /* rlen: the reply's size */
	uint32_t slen;                  /* as stored: < rlen if packed */
	char data[];                    /* key (family tag, source IP, cookie), reply */
};

struct ng_cache {
	struct entry **buckets;
	size_t nbuckets;                /* power of two */
	size_t max_buckets;
	struct entry *fifo_head, *fifo_tail;
	struct block *blk_head, *blk_tail;  /* oldest, newest: the FIFO's entries in order */
	struct block *spares;           /* emptied blocks, most recently freed first */
	struct ng_pack *pack;
	int64_t now;                    /* of the latest call that had a clock */
	size_t count;
	uint64_t bytes;
	uint64_t raw_bytes;              /* the replies' own size */
	uint64_t max_bytes;
	size_t max_entries;
	int64_t ttl_us;
	uint64_t sip_k0, sip_k1;
	struct ng_cache_stats st;       /* counters; entries/bytes/buckets filled on read */
};

/* ---- SipHash-1-3: keyed, so remote clients cannot choose colliding cookies ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static uint64_t siphash13(uint64_t k0, uint64_t k1, const unsigned char *p, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, p + i, 8);   /* little-endian hosts; the value only needs to mix */
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < tail; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- keys and sizes ---- */

static size_t ip_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* Source IP (not port: a client may retransmit from another socket) and cookie. */
static size_t make_key(char *buf, const char *cookie, size_t clen,
		       const union sockaddr_u *from)
{
	size_t iplen = ip_len(from->sa.sa_family);
	const void *ip = iplen == 16 ? (const void *)&from->sin6.sin6_addr
				     : (const void *)&from->sin.sin_addr;

	if (1 + iplen + clen > KEY_MAX)
		return 0;
	buf[0] = (char)iplen;           /* family tag: v4 and v6 keys never collide */
	memcpy(buf + 1, ip, iplen);
	memcpy(buf + 1 + iplen, cookie, clen);
	return 1 + iplen + clen;
}

static size_t alloc_cost(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

size_t ng_cache_entry_cost(size_t cookie_len, int family, size_t reply_len)
{
	return alloc_cost(sizeof(struct entry) + 1 + ip_len(family) + cookie_len + reply_len);
}

/* ---- table ---- */

static size_t pow2_at_least(size_t n)
{
	size_t p = MIN_BUCKETS;

	while (p < n && p < ((size_t)1 << 30))
		p <<= 1;
	return p;
}

/* Move every entry into a table of n buckets; on -ENOMEM keep the old one (chains just
 * get longer). */
static void resize(struct ng_cache *c, size_t n)
{
	struct entry **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct entry *e = c->buckets[i], *next; e; e = next) {
			next = e->hnext;
			e->hnext = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(c->buckets);
	c->buckets = nb;
	c->nbuckets = n;
}

struct ng_cache *ng_cache_new(unsigned ttl_s, uint64_t max_bytes, size_t max_entries)
{
	struct ng_cache *c = calloc(1, sizeof(*c));
	uint64_t k[2];

	if (!c)
		return NULL;
	c->nbuckets = MIN_BUCKETS;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->pack = ng_pack_new();
	if (!c->buckets || !c->pack) {
		ng_pack_free(c->pack);
		free(c->buckets);
		free(c);
		return NULL;
	}
	c->ttl_us = (int64_t)ttl_s * 1000000;
	c->max_bytes = max_bytes;
	c->max_entries = max_entries;
	c->max_buckets = pow2_at_least(max_entries);
	if (getrandom(k, sizeof(k), 0) != sizeof(k)) {
		/* no entropy at all is unlikely; the table still works, only predictably */
		k[0] = (uint64_t)(uintptr_t)c * 0x9e3779b97f4a7c15ull;
		k[1] = (uint64_t)ttl_s ^ 0x243f6a8885a308d3ull;
	}
	c->sip_k0 = k[0];
	c->sip_k1 = k[1];
	return c;
}

/* ---- the log ---- */

static void block_unmap(struct block *b)
{
	munmap(b, b->size);
}

static struct block *block_map(size_t need)
{
	size_t size = sizeof(struct block) + need;
	struct block *b;
	void *p;

	size = size <= BLOCK_SIZE ? BLOCK_SIZE : (size + 4095) & ~(size_t)4095;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	b = p;
	b->size = size;
	return b;
}

/* A spare big enough for n bytes, most recently freed first (its pages are the likeliest
 * to be resident still). */
static struct block *take_spare(struct ng_cache *c, size_t n)
{
	struct block *b = c->spares;

	if (!b || n > b->size - sizeof(*b))
		return NULL;
	c->spares = b->next;
	return b;
}

static void unmap_spares(struct ng_cache *c, int64_t older_than)
{
	struct block **pp = &c->spares, *b;

	while ((b = *pp)) {
		if (b->freed <= older_than) {
			*pp = b->next;
			block_unmap(b);
		} else {
			pp = &b->next;
		}
	}
}

/* Room for n bytes (a multiple of ALIGN) at the end of the log, or NULL. */
static void *log_alloc(struct ng_cache *c, size_t n)
{
	struct block *b = c->blk_tail;
	void *p;

	if (!b || b->used + n > b->size - sizeof(*b)) {
		if (!(b = take_spare(c, n)) && !(b = block_map(n)))
			return NULL;
		b->next = NULL;
		b->used = b->live = 0;
		if (c->blk_tail)
			c->blk_tail->next = b;
		else
			c->blk_head = b;
		c->blk_tail = b;
	}
	p = b->data + b->used;
	b->used += n;
	b->live++;
	return p;
}

/* The oldest entry was dropped: it lived in the oldest block. */
static void log_release_head(struct ng_cache *c)
{
	struct block *b = c->blk_head;

	if (--b->live)
		return;
	if (b == c->blk_tail) {         /* the log is empty: start the block over */
		b->used = 0;
		return;
	}
	c->blk_head = b->next;
	if (b->size != BLOCK_SIZE) {    /* one outsized reply's */
		block_unmap(b);
		return;
	}
	madvise(b, b->size, MADV_FREE);
	b->freed = c->now;
	b->next = c->spares;
	c->spares = b;
}

static void unlink_hash(struct ng_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			return;
		}
}

/* Drop the oldest entry. */
static void drop_head(struct ng_cache *c)
{
	struct entry *e = c->fifo_head;

	c->fifo_head = e->fnext;
	if (!c->fifo_head)
		c->fifo_tail = NULL;
	unlink_hash(c, e);
	c->bytes -= alloc_cost(sizeof(*e) + e->klen + e->slen);
	c->raw_bytes -= e->rlen;
	c->count--;
	log_release_head(c);
}

static void maybe_shrink(struct ng_cache *c)
{
	if (c->nbuckets > MIN_BUCKETS && c->count < c->nbuckets / 8)
		resize(c, pow2_at_least(c->count * 2));
}

void ng_cache_expire(struct ng_cache *c, int64_t now)
{
	c->now = now;
	while (c->fifo_head && c->fifo_head->expires <= now) {
		drop_head(c);
		c->st.expired++;
	}
	maybe_shrink(c);
	if (!c->count && c->blk_head) {
		/* idle: nothing to keep resident for */
		block_unmap(c->blk_head);
		c->blk_head = c->blk_tail = NULL;
		unmap_spares(c, INT64_MAX);
	} else if (c->spares) {
		unmap_spares(c, now - SPARE_KEEP);
	}
}

void ng_cache_free(struct ng_cache *c)
{
	if (!c)
		return;
	while (c->fifo_head)
		drop_head(c);
	if (c->blk_head)
		block_unmap(c->blk_head);
	unmap_spares(c, INT64_MAX);
	ng_pack_free(c->pack);
	free(c->buckets);
	free(c);
}

const char *ng_cache_get(struct ng_cache *c, const char *cookie, size_t clen,
			 const union sockaddr_u *from, size_t *rlen, int64_t now)
{
	char key[KEY_MAX];
	size_t klen = make_key(key, cookie, clen, from);
	uint64_t h;

	if (!klen || !c->count)
		return NULL;
	h = siphash13(c->sip_k0, c->sip_k1, (const unsigned char *)key, klen);
	for (struct entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->klen == klen && !memcmp(e->data, key, klen) &&
		    e->expires > now) {
			const char *r = e->data + klen;

			if (e->slen < e->rlen && !(r = ng_pack_inflate(c->pack, r, e->slen,
								       e->rlen)))
				return NULL;    /* out of memory: answered anew */
			*rlen = e->rlen;
			c->st.hits++;
			return r;
		}
	return NULL;
}

void ng_cache_put(struct ng_cache *c, const char *cookie, size_t clen,
		  const union sockaddr_u *from, const char *reply, size_t rlen, int64_t now)
{
	char key[KEY_MAX];
	size_t klen = make_key(key, cookie, clen, from), cost, slen = rlen;
	const void *packed = ng_pack_deflate(c->pack, reply, rlen, &slen);
	struct entry *e, **b;

	if (!packed) {
		packed = reply;
		slen = rlen;
	}
	cost = alloc_cost(sizeof(*e) + klen + slen);
	if (!klen || rlen > UINT32_MAX || cost > c->max_bytes || !c->max_entries) {
		c->st.not_stored++;
		return;
	}
	ng_cache_expire(c, now);
	while (c->count && (c->count >= c->max_entries || c->bytes + cost > c->max_bytes)) {
		drop_head(c);
		c->st.evicted++;
	}
	if (!(e = log_alloc(c, cost))) {
		c->st.not_stored++;
		return;
	}
	memcpy(e->data, key, klen);
	memcpy(e->data + klen, packed, slen);
	e->klen = (uint32_t)klen;
	e->rlen = (uint32_t)rlen;
	e->slen = (uint32_t)slen;
	c->raw_bytes += rlen;
	e->expires = now + c->ttl_us;
	e->hash = siphash13(c->sip_k0, c->sip_k1, (const unsigned char *)key, klen);
	if (c->count + 1 > c->nbuckets && c->nbuckets < c->max_buckets)
		resize(c, c->nbuckets * 2);
	b = &c->buckets[e->hash & (c->nbuckets - 1)];
	e->hnext = *b;
	*b = e;
	e->fnext = NULL;
	if (c->fifo_tail)
		c->fifo_tail->fnext = e;
	else
		c->fifo_head = e;
	c->fifo_tail = e;
	c->count++;
	c->bytes += cost;
	c->st.stored++;
}

size_t ng_cache_count(const struct ng_cache *c)
{
	return c->count;
}

void ng_cache_get_stats(const struct ng_cache *c, struct ng_cache_stats *out)
{
	*out = c->st;
	out->entries = c->count;
	out->bytes = c->bytes;
	out->reply_bytes = c->raw_bytes;
	out->buckets = c->nbuckets;
}
