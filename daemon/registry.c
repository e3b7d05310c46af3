/* Call registry hash table. */
#include "registry.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;       /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

int registry_init(struct registry *r)
{
	memset(r, 0, sizeof(*r));
	r->n_buckets = 1024;
	r->buckets = calloc(r->n_buckets, sizeof(*r->buckets));
	return r->buckets ? 0 : -ENOMEM;
}

void registry_destroy(struct registry *r)
{
	free(r->buckets);
	memset(r, 0, sizeof(*r));
}

struct call *registry_find(const struct registry *r, const char *callid, size_t len)
{
	struct call *c = r->buckets[hash(callid, len) & (r->n_buckets - 1)];

	for (; c; c = c->hnext)
		if (c->callid_len == len && !memcmp(c->callid, callid, len))
			return c;
	return NULL;
}

static void grow(struct registry *r)
{
	size_t n = r->n_buckets * 2;
	struct call **b = calloc(n, sizeof(*b));

	if (!b)
		return;                 /* keep the old table: slower, still correct */
	for (struct call *c = r->head; c; c = c->lnext) {
		size_t i = hash(c->callid, c->callid_len) & (n - 1);
		c->hnext = b[i];
		b[i] = c;
	}
	free(r->buckets);
	r->buckets = b;
	r->n_buckets = n;
}

int registry_add(struct registry *r, struct call *c)
{
	size_t i = hash(c->callid, c->callid_len) & (r->n_buckets - 1);

	c->hnext = r->buckets[i];
	r->buckets[i] = c;
	c->lprev = NULL;
	c->lnext = r->head;
	if (r->head)
		r->head->lprev = c;
	r->head = c;
	if (++r->count > r->n_buckets)
		grow(r);
	return 0;
}

void registry_remove(struct registry *r, struct call *c)
{
	struct call **pp = &r->buckets[hash(c->callid, c->callid_len) & (r->n_buckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		r->head = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	c->hnext = c->lnext = c->lprev = NULL;
	r->count--;
}
