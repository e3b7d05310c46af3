/* INI reader for sluiced: "[section]", "key = value", '#'/';' comment lines, blank
 * lines; surrounding whitespace trimmed, no inline comments and no quoting (as glib's
 * GKeyFile, which rtpengine uses). Two passes: the first checks syntax and finds the
 * section to use, the second applies that section's keys. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define FALLBACK_SECTION "rtpengine"

struct ini_line {
	bool is_section;
	char *name;                     /* section name or key */
	char *value;
};

struct ini_reader {
	struct cfg_ctx *ctx;
	FILE *f;
	char *buf;
	size_t cap;
};

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_line(struct cfg_ctx *ctx, char *s, struct ini_line *out)
{
	char *eq;

	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close || close[1])
			return cfg_error(ctx, "malformed section header");
		*close = '\0';
		out->is_section = true;
		out->name = trim(s + 1);
		if (!*out->name)
			return cfg_error(ctx, "empty section name");
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq)
		return cfg_error(ctx, "expected 'key = value'");
	*eq = '\0';
	out->is_section = false;
	out->name = trim(s);
	out->value = trim(eq + 1);
	if (!*out->name)
		return cfg_error(ctx, "missing key before '='");
	return 0;
}

/* 1 with *out filled, 0 at end of file, -1 on error (ctx->err set). */
static int ini_next(struct ini_reader *r, struct ini_line *out)
{
	struct cfg_ctx *ctx = r->ctx;

	while (getline(&r->buf, &r->cap, r->f) >= 0) {
		char *s;

		ctx->line++;
		s = trim(r->buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		return parse_line(ctx, s, out) ? -1 : 1;
	}
	if (ferror(r->f))
		return cfg_error(ctx, "read error: %s", strerror(errno));
	return 0;
}

static void ini_rewind(struct ini_reader *r)
{
	rewind(r->f);
	r->ctx->line = 0;
}

/* Pass 1: syntax, and which section to read. *use_section false: nothing to read. */
static int ini_pick_section(struct ini_reader *r, bool *use_section)
{
	struct cfg_ctx *ctx = r->ctx;
	char *want = ctx->cfg->config_section;
	bool in_section = false, any = false, found = false, fallback = false;
	struct ini_line l;
	int ret;

	while ((ret = ini_next(r, &l)) > 0) {
		if (!l.is_section) {
			if (!in_section)
				return cfg_error(ctx, "key '%s' outside of a [section]", l.name);
			continue;
		}
		in_section = any = true;
		found |= !strcmp(l.name, want);
		fallback |= !strcmp(l.name, FALLBACK_SECTION);
	}
	if (ret < 0)
		return -1;
	ctx->line = 0;
	*use_section = true;
	if (found)
		return 0;
	if (!any) {
		*use_section = false;   /* nothing but comments */
		return 0;
	}
	/* an rtpengine.conf works unchanged */
	if (!ctx->section_given && fallback) {
		strcpy(want, FALLBACK_SECTION);
		return 0;
	}
	if (ctx->section_given)
		return cfg_error(ctx, "section [%s] not found", want);
	return cfg_error(ctx, "no [%s] or [%s] section", want, FALLBACK_SECTION);
}

static int ini_apply_key(struct cfg_ctx *ctx, const struct ini_line *l)
{
	struct cfg_ref ref;

	if (!cfg_lookup_long(l->name, strlen(l->name), &ref))
		return cfg_error(ctx, "unknown option %s", l->name);
	return cfg_apply(ctx, &ref, l->value);
}

/* Pass 2: apply the keys of the chosen section (it may appear several times). */
static int ini_apply(struct ini_reader *r)
{
	const char *want = r->ctx->cfg->config_section;
	bool active = false;
	struct ini_line l;
	int ret;

	while ((ret = ini_next(r, &l)) > 0) {
		if (l.is_section)
			active = !strcmp(l.name, want);
		else if (active && ini_apply_key(r->ctx, &l))
			return -1;
	}
	return ret;
}

int cfg_ini_load(struct cfg_ctx *ctx, const char *path, bool must_exist)
{
	struct ini_reader r = { .ctx = ctx };
	bool use_section;
	int ret;

	ctx->file = path;
	ctx->line = 0;
	r.f = fopen(path, "r");
	if (!r.f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return cfg_error(ctx, "cannot open: %s", strerror(errno));
	}
	if (strlen(path) >= sizeof(ctx->cfg->config_file)) {
		ret = cfg_error(ctx, "path too long");
		goto out;
	}
	strcpy(ctx->cfg->config_file, path);
	ret = ini_pick_section(&r, &use_section);
	if (ret || !use_section)
		goto out;
	ini_rewind(&r);
	ret = ini_apply(&r);
out:
	free(r.buf);
	fclose(r.f);
	return ret;
}
