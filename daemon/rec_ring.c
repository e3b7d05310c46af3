/* The capture ring's memory (writer thread only): packet copies in fixed-size chunks.
 * Each call's chunks form a list, oldest first; every chunk in use is also on one
 * global list in the order it was taken, so when --capture-ring-mb is reached the
 * oldest chunk of all is taken back first, whichever call it belongs to. Chunks whose
 * newest packet is older than --capture-ring seconds are given back as packets come. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rec_internal.h"

#define CHUNK_SIZE      (32 * 1024)
#define FREE_KEEP       16              /* empty chunks kept for reuse */

struct ring_chunk {
	struct ring_chunk *next, *prev; /* the call's list */
	struct ring_chunk *gnext, *gprev;       /* the global list */
	struct rec_sink *sink;
	size_t used;
	unsigned packets;
	int64_t newest_ns;
	uint8_t data[] __attribute__((aligned(8)));
};

#define CHUNK_ROOM (CHUNK_SIZE - sizeof(struct ring_chunk))

size_t ring_chunks_for(uint64_t bytes)
{
	return (size_t)(bytes / CHUNK_SIZE);
}

static size_t pkt_size(const struct rec_pkt *p)
{
	return (sizeof(*p) + p->len + 7) & ~(size_t)7;
}

static void unlink_chunk(struct rec *r, struct ring_chunk *c)
{
	struct rec_sink *s = c->sink;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->ring_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->ring_tail = c->prev;
	if (c->gprev)
		c->gprev->gnext = c->gnext;
	else
		r->ring_old = c->gnext;
	if (c->gnext)
		c->gnext->gprev = c->gprev;
	else
		r->ring_new = c->gprev;
	atomic_fetch_sub(&s->ring_packets, c->packets);
	r->ring_chunks--;
	atomic_store(&r->ring_bytes, r->ring_chunks * (uint64_t)CHUNK_SIZE);
}

static void put_chunk(struct rec *r, struct ring_chunk *c)
{
	size_t kept = 0;

	for (struct ring_chunk *f = r->ring_free; f && kept < FREE_KEEP; f = f->next)
		kept++;
	if (kept >= FREE_KEEP) {
		free(c);
		return;
	}
	c->next = r->ring_free;
	r->ring_free = c;
}

static struct ring_chunk *new_chunk(struct rec *r, struct rec_sink *s)
{
	struct ring_chunk *c;

	/* at the cap: the oldest chunk of all goes, and its packets count as dropped */
	while (r->ring_chunks >= r->ring_max_chunks && r->ring_old) {
		c = r->ring_old;
		atomic_fetch_add(&r->ring_drops, c->packets);
		unlink_chunk(r, c);
		put_chunk(r, c);
	}
	if (r->ring_max_chunks == 0)
		return NULL;
	if ((c = r->ring_free))
		r->ring_free = c->next;
	else if (!(c = malloc(CHUNK_SIZE)))
		return NULL;
	memset(c, 0, sizeof(*c));
	c->sink = s;
	c->prev = s->ring_tail;
	if (s->ring_tail)
		s->ring_tail->next = c;
	else
		s->ring_head = c;
	s->ring_tail = c;
	c->gprev = r->ring_new;
	if (r->ring_new)
		r->ring_new->gnext = c;
	else
		r->ring_old = c;
	r->ring_new = c;
	r->ring_chunks++;
	atomic_store(&r->ring_bytes, r->ring_chunks * (uint64_t)CHUNK_SIZE);
	return c;
}

void ring_trim(struct rec *r, struct rec_sink *s, int64_t now_ns)
{
	/* the tail chunk stays: it is being filled */
	while (s->ring_head && s->ring_head != s->ring_tail &&
	       s->ring_head->newest_ns < now_ns - r->ring_ns) {
		struct ring_chunk *c = s->ring_head;

		unlink_chunk(r, c);
		put_chunk(r, c);
	}
}

void ring_add(struct rec *r, struct rec_sink *s, const struct rec_pkt *p, int64_t now_ns)
{
	size_t n = pkt_size(p);
	struct ring_chunk *c = s->ring_tail;

	if (n > CHUNK_ROOM)
		return;
	ring_trim(r, s, now_ns);
	if (!c || c->used + n > CHUNK_ROOM) {
		if (!(c = new_chunk(r, s))) {
			atomic_fetch_add(&r->ring_drops, 1);
			return;
		}
	}
	memcpy(c->data + c->used, p, sizeof(*p) + p->len);
	c->used += n;
	c->packets++;
	c->newest_ns = p->time_ns;
	atomic_fetch_add(&s->ring_packets, 1);
}

void ring_release(struct rec *r, struct rec_sink *s)
{
	while (s->ring_head) {
		struct ring_chunk *c = s->ring_head;

		unlink_chunk(r, c);
		put_chunk(r, c);
	}
}

void ring_free_all(struct rec *r)
{
	while (r->ring_free) {
		struct ring_chunk *c = r->ring_free;

		r->ring_free = c->next;
		free(c);
	}
}

int ring_dump(struct rec *r, struct rec_sink *s, struct pcapw *w, int party, int64_t now_ns,
	      struct rec_capture *cap)
{
	int64_t from = now_ns - r->ring_ns;

	for (struct ring_chunk *c = s->ring_head; c; c = c->next) {
		if (c->newest_ns < from)
			continue;
		for (size_t off = 0; off < c->used;) {
			const struct rec_pkt *p = (const struct rec_pkt *)(c->data + off);
			int e;

			off += pkt_size(p);
			if (p->time_ns < from || (party >= 0 && p->party != party))
				continue;
			e = pcapw_write(w, p->time_ns, &p->src, &p->dst, p->data, p->len);
			if (e == -EINVAL)
				continue;
			if (e)
				return e;
			if (!cap->packets++)
				cap->first_ns = p->time_ns;
			cap->last_ns = p->time_ns;
		}
	}
	return 0;
}
