/* Call registry: call-id -> call. Control thread only, so no lock. O(1) expected
 * lookup; the table doubles when the load factor passes 1. */
#ifndef SLUICE_REGISTRY_H
#define SLUICE_REGISTRY_H

#include <stddef.h>

struct call;

struct registry {
	struct call **buckets;
	size_t n_buckets;
	size_t count;
	struct call *head;              /* all calls, newest first */
};

int registry_init(struct registry *r);
void registry_destroy(struct registry *r);
struct call *registry_find(const struct registry *r, const char *callid, size_t len);
int registry_add(struct registry *r, struct call *c);       /* 0 or -ENOMEM */
void registry_remove(struct registry *r, struct call *c);

#endif
