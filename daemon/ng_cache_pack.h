/* Packing of cached NG replies: raw deflate (zlib) with a preset dictionary of the
 * strings NG replies are made of, so that a 400-byte offer reply or a 2 KB delete reply
 * is kept in a fraction of its size. One deflate and one inflate stream, set up once and
 * reset per reply: nothing is allocated per reply. Control thread only. */
#ifndef SLUICE_NG_CACHE_PACK_H
#define SLUICE_NG_CACHE_PACK_H

#include <stddef.h>

struct ng_pack;

/* NULL on -ENOMEM. */
struct ng_pack *ng_pack_new(void);
void ng_pack_free(struct ng_pack *p);
/* The packed form of in[0..n), valid until the next call on p, or NULL when packing
 * would not make it smaller (or failed): the caller then keeps it as it is. */
const void *ng_pack_deflate(struct ng_pack *p, const void *in, size_t n, size_t *zlen);
/* Unpack what ng_pack_deflate made of an n-byte input; NULL if it does not unpack to
 * exactly n bytes. Valid until the next call on p. */
const char *ng_pack_inflate(struct ng_pack *p, const void *z, size_t zlen, size_t n);

#endif
