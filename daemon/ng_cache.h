/* Reply cache for NG retransmissions: a request whose cookie (from the same source
 * address) was answered within the TTL gets the identical reply again and is never
 * executed twice. Control thread only. Insert and lookup O(1); expiry walks the FIFO. */
#ifndef SLUICE_NG_CACHE_H
#define SLUICE_NG_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

struct ng_cache;

struct ng_cache *ng_cache_new(unsigned ttl_s);
void ng_cache_free(struct ng_cache *c);
/* The cached reply for (cookie, source IP), or NULL. */
const char *ng_cache_get(struct ng_cache *c, const char *cookie, size_t clen,
			 const union sockaddr_u *from, size_t *rlen, int64_t now_mono_us);
/* Store a reply (copied). Best effort: silently skipped on -ENOMEM. */
void ng_cache_put(struct ng_cache *c, const char *cookie, size_t clen,
		  const union sockaddr_u *from, const char *reply, size_t rlen,
		  int64_t now_mono_us);
void ng_cache_expire(struct ng_cache *c, int64_t now_mono_us);
size_t ng_cache_count(const struct ng_cache *c);

#endif
