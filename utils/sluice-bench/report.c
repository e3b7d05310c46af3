/* JSON + table emitter for the results. */
#include <math.h>
#include <string.h>

#include "report.h"

void rep_init(struct rep *r)
{
	memset(r, 0, sizeof(*r));
	sb_init(&r->json);
	sb_init(&r->table);
	r->first[0] = true;
}

void rep_free(struct rep *r)
{
	sb_free(&r->json);
	sb_free(&r->table);
}

static void json_str(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_putc(sb, (char)c);
	}
	sb_putc(sb, '"');
}

static void key(struct rep *r, const char *k)
{
	if (!r->first[r->depth])
		sb_putc(&r->json, ',');
	r->first[r->depth] = false;
	if (k && !r->in_array[r->depth]) {
		json_str(&r->json, k);
		sb_putc(&r->json, ':');
	}
}

/* "a.b[2].c" for the table. */
static void row(struct rep *r, const char *k, const char *val)
{
	char name[160];
	size_t n = 0;

	name[0] = 0;
	for (unsigned d = 1; d <= r->depth && n < sizeof(name); d++) {
		if (r->in_array[d - 1])
			n += (size_t)snprintf(name + n, sizeof(name) - n, "[%u]", r->index[d - 1]);
		else if (r->path[d])
			n += (size_t)snprintf(name + n, sizeof(name) - n, "%s%s", n ? "." : "",
					      r->path[d]);
	}
	if (n < sizeof(name))
		snprintf(name + n, sizeof(name) - n, "%s%s", n ? "." : "", k ? k : "");
	sb_printf(&r->table, "  %-34s %s\n", name, val);
}

void rep_begin(struct rep *r, const char *k)
{
	if (r->depth > 0 || !r->first[0] || k)
		key(r, k);
	sb_putc(&r->json, '{');
	if (r->depth + 1 < REP_DEPTH) {
		r->depth++;
		r->first[r->depth] = true;
		r->in_array[r->depth] = false;
		r->path[r->depth] = k;
	}
}

void rep_end(struct rep *r)
{
	sb_putc(&r->json, '}');
	if (r->depth) {
		r->depth--;
		if (r->in_array[r->depth])
			r->index[r->depth]++;
	}
}

void rep_array(struct rep *r, const char *k)
{
	key(r, k);
	sb_putc(&r->json, '[');
	if (r->depth + 1 < REP_DEPTH) {
		r->depth++;
		r->first[r->depth] = true;
		r->in_array[r->depth] = true;
		r->index[r->depth] = 0;
		r->path[r->depth] = k;
	}
}

void rep_array_end(struct rep *r)
{
	sb_putc(&r->json, ']');
	if (r->depth)
		r->depth--;
}

void rep_u64(struct rep *r, const char *k, uint64_t v)
{
	char buf[32];

	key(r, k);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	sb_puts(&r->json, buf);
	row(r, k, buf);
}

void rep_f(struct rep *r, const char *k, double v, int decimals)
{
	char buf[64];

	key(r, k);
	if (!isfinite(v)) {
		sb_puts(&r->json, "null");
		row(r, k, "-");
		return;
	}
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	sb_puts(&r->json, buf);
	row(r, k, buf);
}

void rep_str(struct rep *r, const char *k, const char *s)
{
	key(r, k);
	json_str(&r->json, s ? s : "");
	row(r, k, s ? s : "");
}

void rep_bool(struct rep *r, const char *k, bool v)
{
	key(r, k);
	sb_puts(&r->json, v ? "true" : "false");
	row(r, k, v ? "yes" : "no");
}

void rep_print(struct rep *r, FILE *f, bool json)
{
	if (json) {
		fwrite(r->json.buf, 1, r->json.len, f);
		fputc('\n', f);
	} else {
		fwrite(r->table.buf, 1, r->table.len, f);
	}
	fflush(f);
}
