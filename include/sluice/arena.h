/* Bump allocator for request-scoped data: one NG request, its decoded tree and its reply
 * live in one arena and are freed together. Not thread-safe; one arena per request. */
#ifndef SLUICE_ARENA_H
#define SLUICE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;   /* newest chunk first */
	size_t used;                /* bytes handed out from head */
	size_t total;               /* bytes handed out overall (for limits) */
	size_t limit;               /* 0 = unlimited; else arena_alloc fails past it */
};

/* Initialise an empty arena; limit caps the total bytes (0 = no cap). */
void arena_init(struct arena *a, size_t limit);
/* Free every chunk; the arena is empty and reusable afterwards. */
void arena_reset(struct arena *a);
/* 16-byte aligned, uninitialised memory; NULL when out of memory or past the limit. */
void *arena_alloc(struct arena *a, size_t n);
/* Zeroed memory. */
void *arena_zalloc(struct arena *a, size_t n);
/* Copy of s[0..len) plus a NUL terminator. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
