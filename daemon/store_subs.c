/* Subscriptions in the call's Redis record: the subscribe requests and answers of the
 * subscribers still subscribed, replayed after the offer and answer at restore, so a
 * subscriber gets its copies again from the same port (store_pinned_port finds its
 * party by the to-tag, which each kept request names). */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "call_ops.h"
#include "ng_request.h"
#include "sluice/bencode.h"
#include "sluice/strbuf.h"

static void drop(struct store_hist *h, unsigned i)
{
	free(h->sub[i]);
	free(h->sub_tag[i]);
	memmove(h->sub + i, h->sub + i + 1, (h->n_sub - i - 1) * sizeof(h->sub[0]));
	memmove(h->sub_tag + i, h->sub_tag + i + 1, (h->n_sub - i - 1) * sizeof(h->sub_tag[0]));
	h->n_sub--;
}

void store_hist_sub(struct store_hist *h, char *json, const char *tag, bool request)
{
	char *t;

	/* a new request for a tag replaces what was kept of it; an unsubscribe forgets it */
	for (unsigned i = h->n_sub; request && i-- > 0;)
		if (!strcmp(h->sub_tag[i], tag))
			drop(h, i);
	if (!json)
		return;
	if (!(t = strdup(tag))) {
		free(json);
		return;
	}
	if (h->n_sub == STORE_MAX_SUB)
		drop(h, 0);             /* the oldest: its replay then fails alone (logged) */
	h->sub[h->n_sub] = json;
	h->sub_tag[h->n_sub++] = t;
}

void store_hist_sub_free(struct store_hist *h)
{
	while (h->n_sub)
		drop(h, h->n_sub - 1);
}

/* The newest subscriber party: the one a subscribe request without to-tag made. */
static const char *newest_subscriber(const struct call *c)
{
	const struct party *best = NULL;

	for (const struct party *p = c->parties; p; p = p->next)
		if (p->subscriber && p->n_tags && (!best || p->idx > best->idx))
			best = p;
	return best ? best->tags[0].tag : NULL;
}

/* tree as JSON, with "to-tag": tag added when it has none. */
static char *with_tag(const struct bval *tree, const char *tag, bool add)
{
	struct strbuf sb;
	json_object *o, *v;
	char *out = NULL;

	sb_init(&sb);
	if (bv_to_json(tree, &sb) || sb.len > STORE_NG_MAX) {
		sb_free(&sb);
		return NULL;
	}
	if (!add) {
		out = strndup(sb.buf, sb.len);
		sb_free(&sb);
		return out;
	}
	o = json_tokener_parse(sb.buf);
	sb_free(&sb);
	if (o && json_object_is_type(o, json_type_object) && (v = json_object_new_string(tag))) {
		json_object_object_add(o, "to-tag", v);
		out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(o);
	return out;
}

static int sub_kind(const char *cmd, size_t len)
{
	int i = ng_cmd_lookup(cmd, len);
	const char *s = i >= 0 ? ng_cmd_spelling((size_t)i) : "";

	return !strcmp(s, "subscribe request") ? 1 : !strcmp(s, "subscribe answer") ? 2 :
	       !strcmp(s, "unsubscribe") ? 3 : 0;
}

void store_sub_remember(struct call *c, const struct ng_request *req, const struct bval *tree)
{
	int kind = sub_kind(req->command.s, req->command.len);
	char tag[CALL_TAG_MAX];
	const char *made;
	char *json = NULL;

	if (!kind || (!c->store && !(c->store = calloc(1, sizeof(*c->store)))))
		return;
	if (req->to_tag.len && req->to_tag.len < sizeof(tag)) {
		memcpy(tag, req->to_tag.s, req->to_tag.len);
		tag[req->to_tag.len] = '\0';
	} else if (kind == 1 && !req->to_tag.len && (made = newest_subscriber(c))) {
		strcpy(tag, made);
	} else {
		return;
	}
	if (kind != 3 && !(json = with_tag(tree, tag, !req->to_tag.len)))
		return;
	store_hist_sub(c->store, json, tag, kind != 2);
}

bool store_sub_tag(const char *json, char *tag, size_t cap)
{
	json_object *o = json_tokener_parse(json), *cmd, *t;
	bool yes = o && json_object_object_get_ex(o, "command", &cmd) &&
		   json_object_is_type(cmd, json_type_string) &&
		   sub_kind(json_object_get_string(cmd), strlen(json_object_get_string(cmd))) &&
		   json_object_object_get_ex(o, "to-tag", &t) &&
		   json_object_is_type(t, json_type_string) &&
		   strlen(json_object_get_string(t)) < cap;

	if (yes)
		strcpy(tag, json_object_get_string(t));
	json_object_put(o);
	return yes;
}
