/* Command-line walker: glib-style long (--opt=v, --opt v) and short (-L7, -L 7, -fE)
 * options, resolved against the registry and handed to cfg_apply(). Runs twice: the
 * early pass only acts on --help/--version/--config-*, the main one on the rest. */
#include <string.h>

#include "config_internal.h"

static const char *ref_name(const struct cfg_ref *ref)
{
	return ref->rtpe ? ref->rtpe->name : ref->opt->name;
}

static int walk_long(struct cfg_ctx *ctx, const char *s, int argc, char **argv, int *i)
{
	const char *eq = strchr(s, '=');
	int len = eq ? (int)(eq - s) : (int)strlen(s);
	const char *val = NULL;
	struct cfg_ref ref;

	if (!cfg_lookup_long(s, (size_t)len, &ref))
		return cfg_error(ctx, "unknown option --%.*s", len, s);
	if (!cfg_ref_takes_value(&ref)) {
		if (eq)
			return cfg_error(ctx, "option --%.*s takes no value", len, s);
	} else if (eq) {
		val = eq + 1;
	} else if (*i < argc) {
		val = argv[(*i)++];     /* may start with '-': "--table -1" */
	} else {
		return cfg_error(ctx, "option --%.*s requires a value", len, s);
	}
	return cfg_apply(ctx, &ref, val);
}

/* A group of short flags; the first one taking a value ends the group. */
static int walk_short(struct cfg_ctx *ctx, const char *s, int argc, char **argv, int *i)
{
	struct cfg_ref ref;
	int ret;

	for (; *s; s++) {
		if (!cfg_lookup_short(*s, &ref))
			return cfg_error(ctx, "unknown option -%c", *s);
		if (!cfg_ref_takes_value(&ref)) {
			ret = cfg_apply(ctx, &ref, NULL);
			if (ret)
				return ret;
			continue;
		}
		if (s[1])
			return cfg_apply(ctx, &ref, s + 1);
		if (*i < argc)
			return cfg_apply(ctx, &ref, argv[(*i)++]);
		return cfg_error(ctx, "option --%s requires a value", ref_name(&ref));
	}
	return 0;
}

int cfg_args_walk(struct cfg_ctx *ctx, int argc, char **argv)
{
	int i = 1, ret;

	while (i < argc) {
		const char *a = argv[i++];

		if (!strcmp(a, "--")) {
			if (i < argc)
				return cfg_error(ctx, "unexpected argument '%s'", argv[i]);
			break;
		}
		if (a[0] != '-' || !a[1])
			return cfg_error(ctx, "unexpected argument '%s'", a);
		if (a[1] == '-')
			ret = walk_long(ctx, a + 2, argc, argv, &i);
		else
			ret = walk_short(ctx, a + 1, argc, argv, &i);
		if (ret)
			return ret;
	}
	return 0;
}
