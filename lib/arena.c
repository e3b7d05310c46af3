/* Bump allocator: a singly linked list of chunks, newest first. Chunks start at
 * ARENA_CHUNK_MIN and double up to ARENA_CHUNK_MAX, so a request that builds a few
 * hundred nodes costs a handful of malloc calls; a single large request gets a chunk
 * of its own size. */
#include "sluice/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN      16
#define ARENA_CHUNK_MIN  4096
#define ARENA_CHUNK_MAX  (1024 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;                        /* usable bytes in data[] */
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void arena_init(struct arena *a, size_t limit)
{
	a->head = NULL;
	a->used = 0;
	a->total = 0;
	a->limit = limit;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
	a->total = 0;
}

static struct arena_chunk *arena_grow(struct arena *a, size_t need)
{
	size_t size = a->head ? a->head->size * 2 : ARENA_CHUNK_MIN;
	struct arena_chunk *c;

	if (size > ARENA_CHUNK_MAX)
		size = ARENA_CHUNK_MAX;
	if (size < need)
		size = need;
	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->size = size;
	c->next = a->head;
	a->head = c;
	a->used = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t rounded;
	void *p;

	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (a->limit && (rounded > a->limit || a->total > a->limit - rounded))
		return NULL;
	/* The tail of the current chunk is abandoned when a new one is needed: cheap, and
	 * the waste is bounded by one request per chunk. */
	if (!c || c->size - a->used < rounded) {
		c = arena_grow(a, rounded);
		if (!c)
			return NULL;
	}
	p = c->data + a->used;
	a->used += rounded;
	a->total += rounded;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
