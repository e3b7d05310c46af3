/* The kernel table's owner in Redis (docs/ha.md, "Kernel forwarding across a restart"):
 * key sluice:kernel:<instance> holds {"table": N, "token": "<16 hex digits>"}, the
 * token this relay gave its kernel table. At restore it is read before the calls, so
 * that kernel_adopt_begin can tell whether the entries forwarding in the table are this
 * relay's; the token it keeps is written back. The key does not expire: calls renew
 * theirs at every change, but the owner is written only at start. */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon.h"
#include "kernel.h"
#include "sluice/log.h"

static char *owner_key(const struct config *cfg)
{
	char *k;

	return asprintf(&k, "sluice:kernel:%s", cfg->redis_instance) < 0 ? NULL : k;
}

/* A record that does not parse names no owner: the table is flushed, never trusted. */
static bool owner_parse(const char *buf, size_t len, int *table, uint64_t *token)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL, *t, *k;
	const char *hex;
	char *end;
	bool ok = false;

	if (o && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "table", &t) && json_object_is_type(t, json_type_int) &&
	    json_object_object_get_ex(o, "token", &k) && json_object_is_type(k, json_type_string)) {
		hex = json_object_get_string(k);
		*table = (int)json_object_get_int64(t);
		*token = strtoull(hex, &end, 16);
		ok = strlen(hex) == 16 && !*end && *table >= 0;
	}
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return ok;
}

void store_kernel_owner(struct daemon *d, redisContext *c)
{
	char *key, *val;
	redisReply *r;
	uint64_t token = 0;
	int table = -1;
	bool have = false;

	if (!d->kmod || !d->kadopt_pending || !(key = owner_key(d->cfg)))
		return;
	r = redisCommand(c, "GET %s", key);
	if (r && r->type == REDIS_REPLY_STRING) {
		have = owner_parse(r->str, r->len, &table, &token);
		if (!have)
			ilog(LOG_WARNING, "redis: key %s skipped: not a kernel owner record", key);
	}
	freeReplyObject(r);
	token = kernel_adopt_begin(d, have, table, token);
	if (!token || asprintf(&val, "{\"table\":%d,\"token\":\"%016" PRIx64 "\"}",
			       d->cfg->table, token) < 0) {
		free(key);
		return;
	}
	store_queue_persist(d->store, key, val);
}
