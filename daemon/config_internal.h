/* Private to daemon/config*.c: the option registry and the parse context shared by the
 * command-line walker (config.c) and the INI reader (config_ini.c). */
#ifndef SLUICE_CONFIG_INTERNAL_H
#define SLUICE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum cfg_kind {
	CFG_BOOL,       /* bool at off; no value on the command line, true/false in INI */
	CFG_UINT,       /* unsigned at off, [min, max] */
	CFG_INT,        /* int at off, [min, max] */
	CFG_U16,        /* uint16_t at off, [min, max] */
	CFG_STR,        /* char[size] at off */
	CFG_FUNC,       /* parse() does it all */
	CFG_CMDLINE,    /* command line only, consumed before the INI file is read */
};

enum cfg_src { CFG_SRC_CMDLINE, CFG_SRC_INI };
enum cfg_list { CFG_L_NG, CFG_L_TCP_NG, CFG_L_HTTP, CFG_L_NG_ALLOW, CFG_L_IF, CFG_L_MEDIA_DIR, CFG_L_COUNT };

struct cfg_ctx;

struct cfg_opt {
	const char *name;
	char shortopt;
	enum cfg_kind kind;
	size_t off, size;
	long min, max;
	/* 0, or -EINVAL (caller reports "invalid value"), or -1 with ctx->err already set */
	int (*parse)(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
	const char *arg, *help;         /* for --help; arg NULL = takes no value */
};

/* Options rtpengine has and sluice accepts but ignores (names from `rtpengine --help`). */
struct cfg_rtpe_opt {
	const char *name;
	char shortopt;
	bool takes_value;
};

#define CFG_RTPE_MAX 160
extern const struct cfg_rtpe_opt cfg_rtpe_opts[];
extern const size_t cfg_rtpe_nopts;

/* What a name or short letter resolved to: exactly one of opt / rtpe is set. */
struct cfg_ref {
	const struct cfg_opt *opt;
	const struct cfg_rtpe_opt *rtpe;
};

struct cfg_ctx {
	struct config *cfg;
	FILE *warn;
	char *err;
	size_t errlen;
	enum cfg_src src;
	const char *file;               /* INI being read, for messages */
	unsigned line;
	bool early;                     /* pass 1: only CFG_CMDLINE options act */
	bool file_given, section_given;
	char file_arg[PATH_MAX];
	bool list_from_cmdline[CFG_L_COUNT];
	bool warned[CFG_RTPE_MAX];
};

bool cfg_lookup_long(const char *name, size_t len, struct cfg_ref *ref);
bool cfg_lookup_short(char c, struct cfg_ref *ref);
bool cfg_ref_takes_value(const struct cfg_ref *ref);
/* Apply one option occurrence from the current source; val NULL = none given. */
int cfg_apply(struct cfg_ctx *ctx, const struct cfg_ref *ref, const char *val);
/* Format into ctx->err, prefixed with "config file F line N: " while reading INI. */
int cfg_error(struct cfg_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Read the INI file; must_exist false: a missing file is silently skipped. */
int cfg_ini_load(struct cfg_ctx *ctx, const char *path, bool must_exist);
int cfg_args_walk(struct cfg_ctx *ctx, int argc, char **argv);

#endif
