/* Reply cache for NG retransmissions: a request whose cookie (from the same source
 * address) was answered within the TTL gets the identical reply again and is never
 * executed twice.
 *
 * Bounded: at most max_entries replies and max_bytes bytes (replies as stored, packed
 * when that makes them smaller; entry header included, 16-byte aligned), whatever the
 * request rate; when full, the oldest reply is evicted first (a retransmission of an evicted cookie would then be executed again: the
 * documented trade-off, see docs/ng-access.md). The hash table grows and shrinks with
 * the number of entries (load <= 1) and is keyed with a random secret, so chosen cookies
 * cannot pile into one chain. Control thread only; get and put O(1) amortised, a
 * resize O(entries). */
#ifndef SLUICE_NG_CACHE_H
#define SLUICE_NG_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

struct ng_cache;

struct ng_cache_stats {
	size_t entries;
	uint64_t bytes;                 /* as counted against max_bytes (packed) */
	uint64_t reply_bytes;           /* the same replies unpacked */
	size_t buckets;                 /* hash table size now */
	uint64_t hits;                  /* replies served from the cache */
	uint64_t stored;
	uint64_t evicted;               /* dropped before their TTL to stay in bounds */
	uint64_t expired;               /* dropped at their TTL */
	uint64_t not_stored;            /* larger than the whole cache, or out of memory */
};

/* NULL on -ENOMEM. max_bytes or max_entries 0: nothing is ever stored. */
struct ng_cache *ng_cache_new(unsigned ttl_s, uint64_t max_bytes, size_t max_entries);
void ng_cache_free(struct ng_cache *c);
/* The cached reply for (cookie, source IP), or NULL. Valid until the next get, put,
 * expire or free. */
const char *ng_cache_get(struct ng_cache *c, const char *cookie, size_t clen,
			 const union sockaddr_u *from, size_t *rlen, int64_t now_mono_us);
/* Store a reply (copied), evicting the oldest entries as needed. Best effort: skipped
 * (and counted) when it cannot fit at all or on -ENOMEM. */
void ng_cache_put(struct ng_cache *c, const char *cookie, size_t clen,
		  const union sockaddr_u *from, const char *reply, size_t rlen,
		  int64_t now_mono_us);
void ng_cache_expire(struct ng_cache *c, int64_t now_mono_us);
size_t ng_cache_count(const struct ng_cache *c);
void ng_cache_get_stats(const struct ng_cache *c, struct ng_cache_stats *out);
/* Bytes one entry is counted as (header, key, reply as stored, rounded to 16): a reply
 * that packs is stored in fewer than its own bytes. */
size_t ng_cache_entry_cost(size_t cookie_len, int family, size_t reply_len);

#endif
