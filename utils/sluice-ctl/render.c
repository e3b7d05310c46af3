/* Human renderings of sluiced's "json ..." CLI replies: aligned tables for lists,
 * indented blocks for one call, "key value" lines for statistics. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/strbuf.h"
#include "sluice_ctl.h"

#define MAX_COLS 8
#define MOS_LEN  48

/* ---- JSON access that tolerates absent members ---- */

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *jstr(json_object *o, const char *key, const char *def)
{
	json_object *v = jget(o, key);

	return v ? json_object_get_string(v) : def;
}

static int64_t jint(json_object *o, const char *key, int64_t def)
{
	json_object *v = jget(o, key);

	return v ? json_object_get_int64(v) : def;
}

static size_t jlen(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* ---- a table: rows of cells, columns as wide as their widest cell ---- */

struct table {
	unsigned ncols, nrows;
	char **cells;                   /* nrows x ncols, owned */
	size_t width[MAX_COLS];
};

static void table_row(struct table *t, const char *const *cells)
{
	char **nc = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*nc));

	if (!nc)
		return;
	t->cells = nc;
	for (unsigned i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "");
		size_t w = c ? strlen(c) : 0;

		t->cells[t->nrows * t->ncols + i] = c;
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
}

/* The last column is not padded: it holds free text (reasons). */
static void table_print(struct table *t, FILE *out)
{
	for (unsigned r = 0; r < t->nrows; r++) {
		for (unsigned i = 0; i < t->ncols; i++) {
			const char *c = t->cells[r * t->ncols + i];

			if (i + 1 < t->ncols)
				fprintf(out, "%-*s  ", (int)t->width[i], c ? c : "");
			else
				fprintf(out, "%s\n", c ? c : "");
		}
	}
	for (unsigned i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* ---- formatting ---- */

static void fmt_age(int64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
}

/* MOS arrives x10 (as in rtpengine's SSRC section). */
static void fmt_mos(int64_t x10, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 ".%" PRId64, x10 / 10, x10 % 10);
}

/* "kernel", or "userspace: why; why" (a call lists its streams' reasons) */
static void fmt_forwarding(json_object *o, struct strbuf *sb)
{
	json_object *why = jget(o, "not in kernel");

	sb_puts(sb, jstr(o, "forwarding", "-"));
	if (why && json_object_is_type(why, json_type_string))    /* a stream's: one */
		sb_printf(sb, ": %s", json_object_get_string(why));
	for (size_t i = 0; i < jlen(why); i++)
		sb_printf(sb, "%s%s", i ? "; " : ": ",
			  json_object_get_string(json_object_array_get_idx(why, i)));
}

/* ---- list ---- */

static void list_row(struct table *t, json_object *c)
{
	json_object *parties = jget(c, "parties");
	char age[32], mos[96] = "-", lo[MOS_LEN], np[16];
	struct strbuf codecs, fwd;

	sb_init(&codecs);
	sb_init(&fwd);
	fmt_age(jint(c, "age", 0), age, sizeof(age));
	snprintf(np, sizeof(np), "%zu", jlen(parties));
	for (size_t i = 0; i < jlen(parties); i++) {
		json_object *cs = jget(json_object_array_get_idx(parties, i), "codecs");

		sb_puts(&codecs, i ? " <> " : "");
		for (size_t k = 0; k < jlen(cs); k++)
			sb_printf(&codecs, "%s%s", k ? "," : "",
				  json_object_get_string(json_object_array_get_idx(cs, k)));
	}
	if (jget(c, "average MOS")) {
		fmt_mos(jint(c, "average MOS", 0), mos, sizeof(mos));
		fmt_mos(jint(c, "lowest MOS", 0), lo, sizeof(lo));
		snprintf(mos + strlen(mos), sizeof(mos) - strlen(mos), " (low %s)", lo);
	}
	fmt_forwarding(c, &fwd);
	table_row(t, (const char *[]){ jstr(c, "call-id", "?"), age, jstr(c, "state", "?"), np,
				       codecs.buf ? codecs.buf : "-", mos, fwd.buf });
	sb_free(&codecs);
	sb_free(&fwd);
}

static void render_list(json_object *r, FILE *out)
{
	json_object *calls = jget(r, "calls");
	struct table t = { .ncols = 7 };

	table_row(&t, (const char *[]){ "CALL-ID", "AGE", "STATE", "PARTIES", "CODECS", "MOS",
					"FORWARDING" });
	for (size_t i = 0; i < jlen(calls); i++)
		list_row(&t, json_object_array_get_idx(calls, i));
	table_print(&t, out);
	fprintf(out, "%zu call%s\n", jlen(calls), jlen(calls) == 1 ? "" : "s");
}

/* ---- show ---- */

static void fmt_addr(json_object *a, char *buf, size_t len)
{
	const char *ip = jstr(a, "address", NULL);

	if (!ip)
		snprintf(buf, len, "-");
	else if (strchr(ip, ':'))
		snprintf(buf, len, "[%s]:%" PRId64, ip, jint(a, "port", 0));
	else
		snprintf(buf, len, "%s:%" PRId64, ip, jint(a, "port", 0));
}

static void show_quality(json_object *q, FILE *out)
{
	json_object *far = jget(q, "far end report");
	char mos[MOS_LEN], lo[MOS_LEN], hi[MOS_LEN];

	fprintf(out, "            quality: SSRC %08" PRIx64 ", %" PRId64 " expected, %" PRId64
		" lost, %" PRId64 " duplicates, %" PRId64 " reordered, jitter %.2f ms",
		jint(q, "SSRC", 0), jint(q, "packets expected", 0), jint(q, "packets lost", 0),
		jint(q, "duplicates", 0), jint(q, "reordered", 0),
		(double)jint(q, "jitter us", 0) / 1000.0);
	if (jget(q, "round-trip time us"))
		fprintf(out, ", RTT %.1f ms", (double)jint(q, "round-trip time us", 0) / 1000.0);
	if (jget(q, "average MOS")) {
		fmt_mos(jint(q, "average MOS", 0), mos, sizeof(mos));
		fmt_mos(jint(q, "lowest MOS", 0), lo, sizeof(lo));
		fmt_mos(jint(q, "highest MOS", 0), hi, sizeof(hi));
		fprintf(out, ", MOS %s (%s-%s)", mos, lo, hi);
	}
	fputc('\n', out);
	if (far)
		fprintf(out, "            far end reports: %" PRId64 " lost, fraction %" PRId64
			"/256, jitter %" PRId64 " (RTP clock units)\n", jint(far, "packets lost", 0),
			jint(far, "fraction lost", 0), jint(far, "jitter", 0));
}

static void show_stream(json_object *s, FILE *out)
{
	json_object *st = jget(s, "stats"), *flags = jget(s, "flags");
	const char *kind = jlen(flags) ? json_object_get_string(json_object_array_get_idx(flags,
											  0)) : "?";
	char local[64], peer[64], lf[64];
	struct strbuf fwd;

	sb_init(&fwd);
	snprintf(local, sizeof(local), strchr(jstr(s, "local address", ""), ':') ?
		 "[%s]:%" PRId64 : "%s:%" PRId64, jstr(s, "local address", "?"),
		 jint(s, "local port", 0));
	fmt_addr(jget(s, "endpoint"), peer, sizeof(peer));
	fmt_forwarding(s, &fwd);
	fprintf(out, "      %-4s  %s <> %s  %" PRId64 " packets, %" PRId64 " bytes, %" PRId64
		" errors, %" PRId64 " foreign\n", kind, local, peer, jint(st, "packets", 0),
		jint(st, "bytes", 0), jint(st, "errors", 0), jint(s, "foreign packets", 0));
	fprintf(out, "            forwarding: %s\n", fwd.buf);
	if (jget(s, "last foreign source")) {
		fmt_addr(jget(s, "last foreign source"), lf, sizeof(lf));
		fprintf(out, "            last foreign source: %s\n", lf);
	}
	if (jget(s, "quality"))
		show_quality(jget(s, "quality"), out);
	sb_free(&fwd);
}

static void show_media(json_object *m, FILE *out)
{
	json_object *streams = jget(m, "streams"), *flags = jget(m, "flags");

	fprintf(out, "    media %" PRId64 ": %s %s %s", jint(m, "index", 0), jstr(m, "type", "?"),
		jstr(m, "protocol", "?"), jstr(m, "codec", "(no codec yet)"));
	for (size_t i = 0; i < jlen(flags); i++)
		fprintf(out, "%s%s", i ? " " : "  [",
			json_object_get_string(json_object_array_get_idx(flags, i)));
	fputs(jlen(flags) ? "]\n" : "\n", out);
	for (size_t i = 0; i < jlen(streams); i++)
		show_stream(json_object_array_get_idx(streams, i), out);
}

static void render_show(json_object *r, FILE *out)
{
	json_object *sum = jget(r, "summary"), *tags = jget(r, "tags");
	time_t created = (time_t)jint(r, "created", 0);
	char when[32] = "?", age[32], mos[MOS_LEN], lo[MOS_LEN];
	struct strbuf fwd;
	struct tm tm;

	sb_init(&fwd);
	if (localtime_r(&created, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fmt_age(jint(sum, "age", 0), age, sizeof(age));
	fmt_forwarding(sum, &fwd);
	fprintf(out, "call %s\n  state %s, created %s (%s ago)\n  forwarding %s\n",
		jstr(r, "call-id", "?"), jstr(sum, "state", "?"), when, age, fwd.buf);
	if (jget(sum, "average MOS")) {
		fmt_mos(jint(sum, "average MOS", 0), mos, sizeof(mos));
		fmt_mos(jint(sum, "lowest MOS", 0), lo, sizeof(lo));
		fprintf(out, "  MOS average %s, lowest %s\n", mos, lo);
	}
	json_object_object_foreach(tags, tag, party) {
		json_object *medias = jget(party, "medias");

		fprintf(out, "  party '%s'", tag);
		if (jget(party, "label"))
			fprintf(out, " label '%s'", jstr(party, "label", ""));
		if (jget(party, "in dialogue with"))
			fprintf(out, ", in dialogue with '%s'", jstr(party, "in dialogue with", ""));
		fputc('\n', out);
		for (size_t i = 0; i < jlen(medias); i++)
			show_media(json_object_array_get_idx(medias, i), out);
	}
	sb_free(&fwd);
}

/* ---- totals, interfaces ---- */

static void print_tree(json_object *o, int depth, FILE *out)
{
	json_object_object_foreach(o, key, v) {
		if (json_object_is_type(v, json_type_object)) {
			fprintf(out, "%*s%s:\n", depth * 2, "", key);
			print_tree(v, depth + 1, out);
		} else if (json_object_is_type(v, json_type_array)) {
			fprintf(out, "%*s%s:\n", depth * 2, "", key);
			for (size_t i = 0; i < jlen(v); i++) {
				json_object *e = json_object_array_get_idx(v, i);

				if (json_object_is_type(e, json_type_object)) {
					fprintf(out, "%*s-\n", depth * 2 + 2, "");
					print_tree(e, depth + 2, out);
				} else {
					fprintf(out, "%*s- %s\n", depth * 2 + 2, "",
						json_object_get_string(e));
				}
			}
		} else {
			fprintf(out, "%*s%-*s %s\n", depth * 2, "", 30 - depth * 2, key,
				json_object_get_string(v));
		}
	}
}

static void render_interfaces(json_object *r, FILE *out)
{
	json_object *ifs = jget(r, "interfaces");
	struct table t = { .ncols = 7 };

	table_row(&t, (const char *[]){ "NAME", "ADDRESS", "ADVERTISED", "PORTS", "USED", "FREE",
					"TOTAL" });
	for (size_t i = 0; i < jlen(ifs); i++) {
		json_object *f = json_object_array_get_idx(ifs, i), *p = jget(f, "ports");
		char range[32], used[16], fr[16], tot[16];

		snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, jint(p, "min", 0),
			 jint(p, "max", 0));
		snprintf(used, sizeof(used), "%" PRId64, jint(p, "used", 0));
		snprintf(fr, sizeof(fr), "%" PRId64, jint(p, "free", 0));
		snprintf(tot, sizeof(tot), "%" PRId64, jint(p, "totals", 0));
		table_row(&t, (const char *[]){ jstr(f, "name", "?"), jstr(f, "address", "?"),
						jstr(f, "advertised", "?"), range, used, fr, tot });
	}
	table_print(&t, out);
}

void ctl_render(const char *cmd, json_object *r, FILE *out)
{
	if (!strcmp(cmd, "list")) {
		render_list(r, out);
	} else if (!strcmp(cmd, "show")) {
		render_show(r, out);
	} else if (!strcmp(cmd, "totals")) {
		print_tree(jget(r, "statistics"), 0, out);
	} else if (!strcmp(cmd, "interfaces")) {
		render_interfaces(r, out);
	} else if (!strcmp(cmd, "terminate")) {
		int64_t n = jint(r, "terminated", 0);

		fprintf(out, "terminated %" PRId64 " call%s\n", n, n == 1 ? "" : "s");
	} else if (!strcmp(cmd, "loglevel")) {
		if (jget(r, "previous"))
			fprintf(out, "log level %" PRId64 " (was %" PRId64 ")\n",
				jint(r, "loglevel", -1), jint(r, "previous", -1));
		else
			fprintf(out, "log level %" PRId64 "\n", jint(r, "loglevel", -1));
	}
}
