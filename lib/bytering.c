/* SPSC record ring (see bytering.h). Each record is preceded by an 8-byte header that
 * holds its length; a header with PAD set skips to the start of the buffer. head and
 * tail count bytes ever written/read, so full and empty need no extra flag. */
#include "sluice/bytering.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HDR     8u
#define PAD     (1ull << 63)

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int bytering_init(struct bytering *r, size_t size)
{
	size_t s = 4096;

	while (s < size && s < ((size_t)1 << 40))
		s <<= 1;
	memset(r, 0, sizeof(*r));
	if (!(r->buf = aligned_alloc(64, s)))
		return -ENOMEM;
	r->size = s;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void bytering_free(struct bytering *r)
{
	free(r->buf);
	r->buf = NULL;
}

size_t bytering_max_record(const struct bytering *r)
{
	return r->size / 2 - HDR;
}

void *bytering_reserve(struct bytering *r, size_t len)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t need = HDR + align8(len), off = head & (r->size - 1), skip = 0;

	if (len > bytering_max_record(r))
		return NULL;
	if (off + need > r->size)
		skip = r->size - off;   /* padding to the end, record at offset 0 */
	if (head + skip + need - tail > r->size)
		return NULL;
	if (skip) {
		/* skip >= 8: every record is a multiple of 8 and the size a power of two */
		*(uint64_t *)(r->buf + off) = PAD | skip;
		off = 0;
	}
	*(uint64_t *)(r->buf + off) = len;
	r->resv_start = head + skip;
	r->resv_end = head + skip + need;
	return r->buf + off + HDR;
}

void bytering_commit(struct bytering *r)
{
	atomic_store_explicit(&r->head, r->resv_end, memory_order_release);
}

const void *bytering_peek(struct bytering *r, size_t *len)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t h;

	if (tail == head)
		return NULL;
	h = *(const uint64_t *)(r->buf + (tail & (r->size - 1)));
	if (h & PAD) {
		tail += h & ~PAD;
		atomic_store_explicit(&r->tail, tail, memory_order_release);
		if (tail == head)
			return NULL;
		h = *(const uint64_t *)(r->buf + (tail & (r->size - 1)));
	}
	*len = (size_t)h;
	return r->buf + (tail & (r->size - 1)) + HDR;
}

void bytering_pop(struct bytering *r)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t h = *(const uint64_t *)(r->buf + (tail & (r->size - 1)));

	atomic_store_explicit(&r->tail, tail + HDR + align8((size_t)h), memory_order_release);
}
