/* "json ..." CLI commands: what sluice-ctl asks, answered as one JSON object each.
 * show and totals are the NG query and statistics replies, so the two interfaces never
 * disagree; list is a per-call summary that NG has no command for. */
#include <stdio.h>
#include <string.h>

#include "call_ops.h"
#include "call_stats.h"
#include "cli_internal.h"
#include "kernel.h"
#include "quality_track.h"
#include "rec.h"
#include "relay.h"
#include "stats.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/log.h"

#define JSON_ARENA_LIMIT (256u << 20)   /* a listing of ~1M calls */
#define MAX_REASONS      4              /* distinct "not in kernel" reasons per call */

struct reasons {
	const char *why[MAX_REASONS];
	unsigned n;
};

static void reason_add(struct reasons *r, const char *why)
{
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->why[i], why))
			return;
	if (r->n < MAX_REASONS)
		r->why[r->n++] = why;
}

/* Call lock held. Counts the call's streams by where they run; the reasons point
 * into the arena (kernel_why_not may return a per-thread buffer). */
static void forwarding(struct daemon *d, struct arena *a, const struct call *c,
		       struct bval *dict)
{
	struct reasons r = { .n = 0 };
	unsigned kern = 0, user = 0;
	struct bval *why = bv_new_list(a);

	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct media *m = p->media[i];

			if (!m || !m->ports_open)
				continue;
			for (const struct stream *s = &m->rtp; s; s = s == &m->rtp ? &m->rtcp : NULL) {
				const char *w = kernel_why_not(d, s);

				if (!w) {
					kern++;
					continue;
				}
				user++;
				reason_add(&r, arena_strndup(a, w, strlen(w)));
			}
		}
	bv_dict_add_str(a, dict, "forwarding", !user ? (kern ? "kernel" : "none") :
			!kern ? "userspace" : "mixed");
	bv_dict_add_int(a, dict, "kernel streams", kern);
	bv_dict_add_int(a, dict, "userspace streams", user);
	for (unsigned i = 0; i < r.n; i++)
		if (r.why[i])
			bv_list_add(why, bv_new_strz(a, r.why[i]));
	bv_dict_add(a, dict, "not in kernel", why);
}

/* Call lock held. */
static struct bval *party_summary(struct arena *a, const struct party *p)
{
	struct bval *d = bv_new_dict(a), *codecs = bv_new_list(a);

	bv_dict_add_str(a, d, "tag", p->n_tags ? p->tags[0].tag : "");
	if (p->label[0])
		bv_dict_add_str(a, d, "label", p->label);
	for (unsigned i = 0; i < p->n_media; i++)
		if (p->media[i])
			bv_list_add(codecs, bv_new_strz(a, p->media[i]->codec[0] ?
							 p->media[i]->codec : "-"));
	bv_dict_add(a, d, "codecs", codecs);
	return d;
}

static struct bval *call_summary(struct daemon *d, struct arena *a, struct call *c)
{
	struct bval *e = bv_new_dict(a), *parties = bv_new_list(a);
	struct stream_stats rtp, rtcp;
	unsigned low, avg;
	int64_t last;

	call_totals(c, &rtp, &rtcp, &last);
	bv_dict_add(a, e, "call-id", bv_new_str(a, c->callid, c->callid_len));
	bv_dict_add_int(a, e, "created", c->created_us / 1000000);
	bv_dict_add_int(a, e, "age", (now_us() - c->created_us) / 1000000);
	bv_dict_add_str(a, e, "state", c->deleted ? "deleted" : c->answered ? "answered" :
			"offered");
	pthread_mutex_lock(&c->lock);
	for (const struct party *p = c->parties; p; p = p->next)
		bv_list_add(parties, party_summary(a, p));
	forwarding(d, a, c, e);
	quality_call_mos(c, &low, &avg);
	pthread_mutex_unlock(&c->lock);
	bv_dict_add(a, e, "parties", parties);
	if (avg) {              /* x10, as in query's SSRC section */
		bv_dict_add_int(a, e, "average MOS", avg);
		bv_dict_add_int(a, e, "lowest MOS", low);
	}
	bv_dict_add_int(a, e, "packets", (int64_t)(rtp.packets + rtcp.packets));
	bv_dict_add_int(a, e, "bytes", (int64_t)(rtp.bytes + rtcp.bytes));
	return e;
}

static int j_list(struct daemon *d, struct arena *a, struct bval *r)
{
	struct bval *calls = bv_new_list(a);

	for (struct call *c = d->reg.head; c; c = c->lnext)
		bv_list_add(calls, call_summary(d, a, c));
	bv_dict_add(a, r, "calls", calls);
	bv_dict_add_int(a, r, "count", (int64_t)d->reg.count);
	return 0;
}

static int j_show(struct daemon *d, struct arena *a, struct bval *r, const char *id,
		  const char **err)
{
	struct call *c = call_find(d, id, strlen(id));

	if (!c) {
		*err = "Unknown call-id";
		return -1;
	}
	bv_dict_add(a, r, "call-id", bv_new_str(a, c->callid, c->callid_len));
	bv_dict_add(a, r, "summary", call_summary(d, a, c));
	call_stats_add(d, c, a, r);
	rec_query(d, c, a, r);
	return 0;
}

/* The NG statistics (without the interval: stats.h); key picks one member of it (NULL:
 * all). */
static int j_statistics(struct daemon *d, struct arena *a, struct bval *r, const char *key,
			const char **err)
{
	struct bval *ng = bv_new_dict(a), *st;

	if (stats_peek(d, a, ng) || !(st = bv_dict_get(ng, "statistics"))) {
		*err = "out of memory";
		return -1;
	}
	if (!key) {
		bv_dict_add(a, r, "statistics", st);
		return 0;
	}
	bv_dict_add(a, r, key, bv_dict_get(st, key));
	return 0;
}

static int j_terminate(struct daemon *d, struct arena *a, struct bval *r, const char *id,
		       const char **err)
{
	struct call *c;
	unsigned n = 1;

	if (!strcmp(id, "all")) {
		n = cli_terminate_all(d);
	} else if ((c = call_find(d, id, strlen(id)))) {
		cli_terminate_call(d, c);
	} else {
		*err = "Unknown call-id";
		return -1;
	}
	relay_flush(d->relay);          /* the reply means: its ports are free */
	ilog(LOG_NOTICE, "CLI: %u call%s terminated by operator", n, n == 1 ? "" : "s");
	bv_dict_add_int(a, r, "terminated", n);
	return 0;
}

static int j_loglevel(struct daemon *d, struct arena *a, struct bval *r, const char *arg,
		      const char **err)
{
	int old = log_get_level(), level;

	if (arg) {
		if ((level = cli_parse_level(arg)) < 0) {
			*err = "log level must be 0-7";
			return -1;
		}
		cli_set_log_level(d, level, "CLI");
		bv_dict_add_int(a, r, "previous", old);
	}
	bv_dict_add_int(a, r, "loglevel", log_get_level());
	return 0;
}

static int dispatch(struct daemon *d, const struct cli_args *x, struct arena *a,
		    struct bval *r, const char **err)
{
	const char *cmd = x->n > 1 ? x->v[1] : "", *arg = x->n > 2 ? x->v[2] : NULL;

	if (!strcmp(cmd, "list"))
		return j_list(d, a, r);
	if (!strcmp(cmd, "show") && arg)
		return j_show(d, a, r, arg, err);
	if (!strcmp(cmd, "totals"))
		return j_statistics(d, a, r, NULL, err);
	if (!strcmp(cmd, "interfaces"))
		return j_statistics(d, a, r, "interfaces", err);
	if (!strcmp(cmd, "terminate") && arg)
		return j_terminate(d, a, r, arg, err);
	if (!strcmp(cmd, "loglevel"))
		return j_loglevel(d, a, r, arg, err);
	*err = "usage: json list | show CALLID | totals | interfaces | terminate CALLID|all | "
	       "loglevel [0-7]";
	return -1;
}

void cli_json(struct daemon *d, const struct cli_args *x, struct strbuf *out)
{
	struct arena a;
	struct bval *r;
	const char *err = NULL;

	arena_init(&a, JSON_ARENA_LIMIT);
	r = bv_new_dict(&a);
	if (r && dispatch(d, x, &a, r, &err)) {
		arena_reset(&a);
		arena_init(&a, 0);
		r = bv_new_dict(&a);
		bv_dict_add_str(&a, r, "result", "error");
		bv_dict_add_str(&a, r, "error-reason", err ? err : "failed");
	} else if (r) {
		bv_dict_add_str(&a, r, "result", "ok");
	}
	if (!r || bv_to_json(r, out))
		sb_puts(out, "{\"result\":\"error\",\"error-reason\":\"out of memory\"}");
	sb_putc(out, '\n');
	arena_reset(&a);
}
