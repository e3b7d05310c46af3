/* sluiced configuration: the option registry, value parsers, defaults and the final
 * cross-option checks. The command-line walker and the INI reader (config_args.c,
 * config_ini.c) resolve names here and hand every occurrence to cfg_apply(). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config_internal.h"

#define DEFAULT_NG_PORT   2223
#define MAX_THREADS       256
/* NG reply cache: enough for the proxies' retransmission window (Kamailio and OpenSIPS
 * retry for about 6 s) at ~2000 calls/s of offer/answer/delete, bounded whatever the
 * rate (docs/ng-access.md). */
#define DEFAULT_NG_CACHE_BYTES   (64ull << 20)
#define DEFAULT_NG_CACHE_ENTRIES 131072
#define MAX_NG_CACHE_BYTES       (16ull << 30)
#define MAX_NG_CACHE_ENTRIES     (16u << 20)

static int parse_cmdline_only(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_listen(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_ng_allow(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_listen_cli(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_bytes(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_interface(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_max_sessions(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_float(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_learning(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_redis(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_instance(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_media_dir(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static int parse_keyspace(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);
static const char *const kernel_names[] = {
	[KERNEL_AUTO] = "auto", [KERNEL_ON] = "on", [KERNEL_OFF] = "off",
};

/* Index of val in names[n], or -1. */
static int name_index(const char *const *names, size_t n, const char *val)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return (int)i;
	return -1;
}

#define NAME_INDEX(names, val) name_index(names, sizeof(names) / sizeof(names[0]), val)

static int parse_kernel(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	int i = NAME_INDEX(kernel_names, val);

	(void)o;
	if (i < 0)
		return -EINVAL;
	ctx->cfg->kernel = (enum kernel_mode)i;
	return 0;
}

static int parse_facility(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val);

/* rtpengine's other method, "proc", feeds its kernel module and its recording daemon
 * (Debian's rtpengine.conf sets it): a config that has it still starts, without
 * recording, rather than writing pcaps where rtpengine-recording looks for its files. */
static int parse_rec_method(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	(void)o;
	if (!strcmp(val, "pcap")) {
		ctx->cfg->recording_proc = false;
	} else if (!strcmp(val, "proc")) {
		ctx->cfg->recording_proc = true;
		cfg_warn(ctx, "recording-method 'proc' (rtpengine's kernel recording) is not "
			 "supported; recording is off (use 'pcap')");
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_homer(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	(void)o;
	if (netaddr_parse(val, 0, false, &ctx->cfg->homer) || !netaddr_port(&ctx->cfg->homer))
		return -EINVAL;
	return 0;
}

static const char *const homer_proto_names[] = { "udp", "tcp" };

static int parse_homer_proto(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	int i = NAME_INDEX(homer_proto_names, val);

	(void)o;
	if (i < 0)
		return -EINVAL;
	ctx->cfg->homer_tcp = i == 1;
	return 0;
}

static const char *const rec_format_names[] = { [REC_FMT_RAW] = "raw", [REC_FMT_ETH] = "eth" };

static int parse_rec_format(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	int i = NAME_INDEX(rec_format_names, val);

	(void)o;
	if (i < 0)
		return -EINVAL;
	ctx->cfg->recording_format = (enum rec_format)i;
	return 0;
}

#define OFF(f)  offsetof(struct config, f)
#define SIZE(f) sizeof(((struct config *)0)->f)

#define O_CMD(n, s, a, h) \
	{ .name = n, .shortopt = s, .kind = CFG_CMDLINE, .parse = parse_cmdline_only, \
	  .arg = a, .help = h }
#define O_BOOL(n, s, f, h) \
	{ .name = n, .shortopt = s, .kind = CFG_BOOL, .off = OFF(f), .help = h }
#define O_NUM(n, s, k, f, lo, hi, a, h) \
	{ .name = n, .shortopt = s, .kind = k, .off = OFF(f), .min = lo, .max = hi, \
	  .arg = a, .help = h }
#define O_STR(n, s, f, a, h) \
	{ .name = n, .shortopt = s, .kind = CFG_STR, .off = OFF(f), .size = SIZE(f), \
	  .arg = a, .help = h }
#define O_FUNC(n, s, fn, f, a, h) \
	{ .name = n, .shortopt = s, .kind = CFG_FUNC, .parse = fn, .off = OFF(f), \
	  .arg = a, .help = h }

static const struct cfg_opt cfg_opts[] = {
	O_CMD("help", 'h', NULL, "Show this help and exit"),
	O_CMD("version", 'v', NULL, "Print the version and exit"),
	O_CMD("config-file", 0, "FILE",
	      "INI file to read (default " CONFIG_DEFAULT_FILE " if present; none = no file)"),
	O_CMD("config-section", 0, "STRING",
	      "INI section to use (default [sluice], else [rtpengine])"),
	O_FUNC("listen-ng", 'n', parse_listen, listen_ng, "[IP46|localhost:]PORT",
	       "UDP NG control address, repeatable (default 127.0.0.1:2223)"),
	O_FUNC("listen-tcp-ng", 'N', parse_listen, listen_tcp_ng, "[IP46|localhost:]PORT",
	       "TCP NG control address, repeatable"),
	O_FUNC("listen-cli", 'c', parse_listen_cli, listen_cli, "[IP46|localhost:]PORT",
	       "TCP address of the control CLI (rtpengine-ctl, sluice-ctl); a bare PORT "
	       "is 127.0.0.1 (default: none)"),
	O_FUNC("listen-http", 0, parse_listen, listen_http, "[IP46|localhost:]PORT",
	       "HTTP address for /metrics, /ping and /stats, repeatable (a bare PORT: "
	       "127.0.0.1; default: none)"),
	O_FUNC("ng-allow", 0, parse_ng_allow, ng_allow, "IP[/LEN]",
	       "Accept NG only from this address or prefix, repeatable (default: any)"),
	O_FUNC("ng-cache-max-bytes", 0, parse_bytes, ng_cache_max_bytes, "BYTES[K|M|G]",
	       "NG reply cache size bound, 0 = no cache (default 64M)"),
	O_NUM("ng-cache-max-entries", 0, CFG_UINT, ng_cache_max_entries, 0,
	      MAX_NG_CACHE_ENTRIES, "INT", "NG reply cache entry bound, 0 = no cache "
	      "(default 131072)"),
	O_FUNC("interface", 'i', parse_interface, interfaces, "[NAME/]IP[!IP]",
	       "Media interface, repeatable (default 127.0.0.1)"),
	O_NUM("port-min", 'm', CFG_U16, port_min, 1024, 65535, "INT",
	      "Lowest media port (default 30000)"),
	O_NUM("port-max", 'M', CFG_U16, port_max, 1024, 65535, "INT",
	      "Highest media port (default 40000)"),
	O_NUM("timeout", 'o', CFG_UINT, timeout, 0, INT_MAX, "SECS",
	      "Delete a call after this long without media (default 60)"),
	O_NUM("silent-timeout", 's', CFG_UINT, silent_timeout, 0, INT_MAX, "SECS",
	      "Same for calls on hold (default 3600)"),
	O_NUM("final-timeout", 'a', CFG_UINT, final_timeout, 0, INT_MAX, "SECS",
	      "Maximum call length, 0 = unlimited (default 0)"),
	O_NUM("offer-timeout", 0, CFG_UINT, offer_timeout, 0, INT_MAX, "SECS",
	      "Delete calls that got no answer, 0 = never (default 3600)"),
	O_NUM("delete-delay", 'd', CFG_UINT, delete_delay, 0, INT_MAX, "SECS",
	      "Keep a deleted call this long (default 30)"),
	O_NUM("num-threads", 0, CFG_UINT, num_threads, 0, MAX_THREADS, "INT",
	      "Media worker threads, 0 = online CPUs (default)"),
	O_BOOL("io-uring", 0, io_uring,
	       "Userspace media I/O through io_uring where the kernel has it (the default)"),
	O_BOOL("no-io-uring", 0, no_io_uring,
	       "Userspace media I/O with recvmmsg/sendmmsg instead of io_uring"),
	O_NUM("io-uring-buffers", 0, CFG_UINT, io_uring_buffers, 64, 32768, "INT",
	      "io_uring receive buffers per media thread, a power of 2 (default 512)"),
	O_FUNC("max-sessions", 0, parse_max_sessions, max_sessions, "INT",
	       "Refuse new calls at this many, -1 = unlimited (default), 0 = refuse all"),
	O_FUNC("max-load", 0, parse_float, max_load, "FLOAT",
	       "Refuse new calls while the 1-minute load average exceeds this, 0 = off"),
	O_FUNC("max-cpu", 0, parse_float, max_cpu, "FLOAT",
	       "Refuse new calls while CPU usage (percent) exceeds this, 0 = off"),
	O_FUNC("max-bandwidth", 0, parse_bytes, max_bandwidth, "BYTES[K|M|G]",
	       "Refuse new calls while received media exceeds this many bytes/s, 0 = off"),
	O_NUM("table", 't', CFG_INT, table, -1, 255, "INT",
	      "Kernel forwarding table, -1 = userspace only (default 0)"),
	O_FUNC("kernel", 0, parse_kernel, kernel, "auto|on|off",
	       "Kernel forwarding: auto = if the module is loaded (default)"),
	O_BOOL("no-fallback", 'F', no_fallback, "Refuse to start without the kernel module"),
	O_NUM("tos", 'T', CFG_INT, tos, -1, 255, "INT",
	      "IP TOS for media packets, -1 = leave (default -1)"),
	O_FUNC("endpoint-learning", 0, parse_learning, endpoint_learning,
	       "heuristic|delayed|immediate|off", "RTP endpoint learning (default heuristic)"),
	O_NUM("jitter-buffer", 0, CFG_UINT, jitter_buffer, 0, 1000, "MS",
	      "Jitter buffer of transcoded streams, adaptive 20..MS ms, 0 = off (default)"),
	O_FUNC("media-dir", 0, parse_media_dir, media_dirs, "DIR",
	       "play media reads files only below this folder, repeatable (default: any "
	       "file the daemon can read)"),
	O_STR("recording-dir", 0, recording_dir, "DIR",
	      "Folder for recordings and captures (pcaps/, metadata/, captures/); "
	      "unset = no recording"),
	O_FUNC("recording-method", 0, parse_rec_method, recording_proc, "pcap",
	       "How calls are recorded: pcap (the only method; proc = recording off)"),
	O_FUNC("recording-format", 0, parse_rec_format, recording_format, "raw|eth",
	       "Link layer of recorded pcap files (default raw)"),
	O_NUM("capture-ring", 0, CFG_UINT, capture_ring, 0, 300, "SECS",
	      "Keep the last SECS of every call in memory for the capture command, 0 = off "
	      "(default)"),
	O_NUM("capture-ring-mb", 0, CFG_UINT, capture_ring_mb, 1, 65536, "MB",
	      "Memory cap of the capture ring (default 64)"),
	O_FUNC("homer", 0, parse_homer, homer, "IP:PORT",
	       "Send RTCP and call-end quality reports as HEP v3 to this collector"),
	O_FUNC("homer-protocol", 0, parse_homer_proto, homer_tcp, "udp|tcp",
	       "Transport to the HEP collector (default udp)"),
	O_NUM("homer-id", 0, CFG_UINT, homer_id, 0, UINT32_MAX, "INT",
	      "HEP capture agent id (default 0)"),
	O_FUNC("redis", 'r', parse_redis, redis, "[PASSWORD@]IP:PORT/DB",
	       "Redis that keeps call state: calls are written there and restored from it "
	       "at start (docs/redis.md; default: none)"),
	O_FUNC("redis-write", 'w', parse_redis, redis_write, "[PASSWORD@]IP:PORT/DB",
	       "Write call state here instead (default: --redis)"),
	O_NUM("redis-num-threads", 0, CFG_UINT, redis_num_threads, 0, 256, "INT",
	      "Accepted for rtpengine; sluice writes from one thread"),
	O_NUM("redis-expires", 0, CFG_UINT, redis_expires, 1, INT_MAX, "SECS",
	      "Expiry of a call's Redis key, renewed at each write (default 86400)"),
	O_NUM("redis-update-interval", 0, CFG_UINT, redis_update_interval, 0, 86400, "SECS",
	      "Write a call with media again this often, so its counters and SRTP state "
	      "survive a crash (default 10; 0: only on changes)"),
	O_FUNC("redis-instance", 0, parse_instance, redis_instance, "NAME",
	      "Name of this relay's calls in Redis (sluice:call:NAME:CALL-ID; default: "
	      "the host name)"),
	O_FUNC("subscribe-keyspace", 'k', parse_keyspace, subscribe_keyspace, "DB",
	       "Standby: keep the calls other relays write to Redis database DB (0-15; "
	       "repeatable) and take them over when their address comes here (docs/ha.md)"),
	O_BOOL("foreground", 'f', foreground, "Do not fork to the background"),
	O_STR("pidfile", 'p', pidfile, "FILE", "Write the PID to this file"),
	O_NUM("log-level", 'L', CFG_INT, log_level, 0, 7, "INT",
	      "Syslog level 0-7 (default 6)"),
	O_BOOL("log-stderr", 'E', log_stderr, "Log to stderr instead of syslog"),
	O_FUNC("log-facility", 0, parse_facility, log_facility, "daemon|local0|...|local7",
	       "Syslog facility (default daemon)"),
};

#define N_OPTS (sizeof(cfg_opts) / sizeof(cfg_opts[0]))

/* ---- lookup ---- */

bool cfg_lookup_long(const char *name, size_t len, struct cfg_ref *ref)
{
	size_t i;

	ref->opt = NULL;
	ref->rtpe = NULL;
	for (i = 0; i < N_OPTS; i++)
		if (strlen(cfg_opts[i].name) == len && !strncmp(cfg_opts[i].name, name, len)) {
			ref->opt = &cfg_opts[i];
			return true;
		}
	for (i = 0; i < cfg_rtpe_nopts; i++)
		if (strlen(cfg_rtpe_opts[i].name) == len &&
		    !strncmp(cfg_rtpe_opts[i].name, name, len)) {
			ref->rtpe = &cfg_rtpe_opts[i];
			return true;
		}
	return false;
}

bool cfg_lookup_short(char c, struct cfg_ref *ref)
{
	size_t i;

	ref->opt = NULL;
	ref->rtpe = NULL;
	if (!c)
		return false;
	for (i = 0; i < N_OPTS; i++)
		if (cfg_opts[i].shortopt == c) {
			ref->opt = &cfg_opts[i];
			return true;
		}
	for (i = 0; i < cfg_rtpe_nopts; i++)
		if (cfg_rtpe_opts[i].shortopt == c) {
			ref->rtpe = &cfg_rtpe_opts[i];
			return true;
		}
	return false;
}

bool cfg_ref_takes_value(const struct cfg_ref *ref)
{
	if (ref->rtpe)
		return ref->rtpe->takes_value;
	return ref->opt->kind != CFG_BOOL && ref->opt->arg;
}

/* ---- messages ---- */

int cfg_error(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!ctx->errlen)
		return -1;
	if (ctx->src == CFG_SRC_INI && ctx->line)
		n = snprintf(ctx->err, ctx->errlen, "config file %s line %u: ", ctx->file, ctx->line);
	else if (ctx->src == CFG_SRC_INI)
		n = snprintf(ctx->err, ctx->errlen, "config file %s: ", ctx->file);
	if (n < 0 || (size_t)n >= ctx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

void cfg_warn(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!ctx->warn)
		return;
	fputs("sluiced: warning: ", ctx->warn);
	va_start(ap, fmt);
	vfprintf(ctx->warn, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->warn);
}

/* "--timeout" on the command line, "timeout" in the INI file */
static const char *dashes(const struct cfg_ctx *ctx)
{
	return ctx->src == CFG_SRC_INI ? "" : "--";
}

static int bad_value(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	return cfg_error(ctx, "invalid value '%s' for %s%s", val ? val : "", dashes(ctx), o->name);
}

/* ---- value parsers ---- */

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* GKeyFile accepts true/false/1/0; the rest is for humans. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = true, 0;
		if (!strcasecmp(s, no[i]))
			return *out = false, 0;
	}
	return -EINVAL;
}

static void *field(struct cfg_ctx *ctx, const struct cfg_opt *o)
{
	return (char *)ctx->cfg + o->off;
}

static int set_number(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	long v;

	if (parse_long(val, o->min, o->max, &v))
		return cfg_error(ctx, "invalid value '%s' for %s%s (allowed: %ld..%ld)",
				 val ? val : "", dashes(ctx), o->name, o->min, o->max);
	if (o->kind == CFG_UINT)
		*(unsigned *)field(ctx, o) = (unsigned)v;
	else if (o->kind == CFG_U16)
		*(uint16_t *)field(ctx, o) = (uint16_t)v;
	else
		*(int *)field(ctx, o) = (int)v;
	return 0;
}

static int set_value(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	bool b = true;

	switch (o->kind) {
	case CFG_BOOL:
		if (ctx->src == CFG_SRC_INI && parse_bool(val, &b))
			return -EINVAL;
		*(bool *)field(ctx, o) = b;
		return 0;
	case CFG_UINT:
	case CFG_INT:
	case CFG_U16:
		return set_number(ctx, o, val);
	case CFG_STR:
		/* empty is allowed: "pidfile =" in INI means none */
		if (strlen(val) >= o->size)
			return -EINVAL;
		strcpy(field(ctx, o), val);
		return 0;
	case CFG_FUNC:
	case CFG_CMDLINE:
		return o->parse(ctx, o, val);
	}
	return -EINVAL;
}

int cfg_apply(struct cfg_ctx *ctx, const struct cfg_ref *ref, const char *val)
{
	const struct cfg_opt *o = ref->opt;
	int ret;

	if (ref->rtpe) {
		size_t idx = (size_t)(ref->rtpe - cfg_rtpe_opts);

		if (!ctx->early && !ctx->warned[idx]) {
			ctx->warned[idx] = true;
			cfg_warn(ctx, "option --%s is not implemented by sluice, ignored",
				 ref->rtpe->name);
		}
		return 0;
	}
	if (o->kind == CFG_CMDLINE && ctx->src == CFG_SRC_INI)
		return cfg_error(ctx, "option %s is only valid on the command line", o->name);
	/* command-line-only options act in the early pass, all others in the main one */
	if (ctx->early != (o->kind == CFG_CMDLINE))
		return 0;
	ret = set_value(ctx, o, val);
	return ret == -EINVAL ? bad_value(ctx, o, val) : ret;
}

/* ---- option handlers ---- */

static void print_help(FILE *out)
{
	char left[64];
	size_t i;

	fprintf(out, "Usage: sluiced [OPTION...]\n"
		"RTP media relay and transcoder for SIP platforms, rtpengine-compatible.\n\n"
		"Options:\n");
	for (i = 0; i < N_OPTS; i++) {
		const struct cfg_opt *o = &cfg_opts[i];
		char sh[8] = "";

		if (o->shortopt)
			snprintf(sh, sizeof(sh), "-%c, ", o->shortopt);
		snprintf(left, sizeof(left), "%s--%s%s%s", sh, o->name,
			 o->arg ? "=" : "", o->arg ? o->arg : "");
		if (strlen(left) > 37)     /* two spaces at least: help2man splits there */
			fprintf(out, "  %s\n  %-38s %s\n", left, "", o->help);
		else
			fprintf(out, "  %-38s %s\n", left, o->help);
	}
	fprintf(out, "\nEvery option is also an INI key (without dashes) in section [%s].\n"
		"Other rtpengine options are accepted and ignored with a warning.\n",
		CONFIG_DEFAULT_SECTION);
}

static int parse_cmdline_only(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	if (!strcmp(o->name, "help")) {
		print_help(stdout);
		exit(0);
	}
	if (!strcmp(o->name, "version")) {
		printf("sluiced %s\n", SLUICE_VERSION);
		exit(0);
	}
	if (!strcmp(o->name, "config-file")) {
		if (!*val || strlen(val) >= sizeof(ctx->file_arg))
			return -EINVAL;
		strcpy(ctx->file_arg, val);
		ctx->file_given = true;
		return 0;
	}
	/* config-section */
	if (!*val || strlen(val) >= sizeof(ctx->cfg->config_section))
		return -EINVAL;
	strcpy(ctx->cfg->config_section, val);
	ctx->section_given = true;
	return 0;
}

/* A later source replaces a list wholesale, and so does each INI line (GKeyFile keeps
 * the last of repeated keys); repeats on the command line accumulate. */
static void list_begin(struct cfg_ctx *ctx, enum cfg_list which, unsigned *n)
{
	if (ctx->src == CFG_SRC_INI) {
		*n = 0;
	} else if (!ctx->list_from_cmdline[which]) {
		ctx->list_from_cmdline[which] = true;
		*n = 0;
	}
}

/* Calls item() for each element: the whole value on the command line, each
 * ';'-separated, trimmed, non-empty piece in INI (rtpengine.conf list syntax). */
static int for_each_item(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val,
			 int (*item)(struct cfg_ctx *, const struct cfg_opt *, const char *))
{
	char buf[512], *p, *next;
	unsigned n = 0;
	int ret;

	if (ctx->src != CFG_SRC_INI)
		return item(ctx, o, val);
	if (strlen(val) >= sizeof(buf))
		return bad_value(ctx, o, val);
	strcpy(buf, val);
	for (p = buf; p; p = next) {
		char *end;

		next = strchr(p, ';');
		if (next)
			*next++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*p)
			continue;
		ret = item(ctx, o, p);
		if (ret)
			return ret;
		n++;
	}
	return n ? 0 : bad_value(ctx, o, val);
}

/* The address lists of the listen-* options: where each keeps its addresses, and
 * what a bare PORT means (NG: all addresses, as rtpengine; HTTP: loopback only). */
static const struct {
	size_t off, n_off;
	enum cfg_list which;
	bool loopback;
} listen_lists[] = {
	{ OFF(listen_ng), OFF(n_listen_ng), CFG_L_NG, false },
	{ OFF(listen_tcp_ng), OFF(n_listen_tcp_ng), CFG_L_TCP_NG, false },
	{ OFF(listen_http), OFF(n_listen_http), CFG_L_HTTP, true },
};

static unsigned listen_list_of(const struct cfg_opt *o)
{
	unsigned i = 0;

	while (listen_lists[i].off != o->off)
		i++;
	return i;
}

static int listen_item(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	unsigned l = listen_list_of(o);
	union sockaddr_u *arr = (union sockaddr_u *)((char *)ctx->cfg + listen_lists[l].off);
	unsigned *n = (unsigned *)((char *)ctx->cfg + listen_lists[l].n_off);
	union sockaddr_u a;

	if (netaddr_parse(val, 0, listen_lists[l].loopback, &a) || !netaddr_port(&a))
		return bad_value(ctx, o, val);
	if (*n >= CFG_MAX_LISTEN)
		return cfg_error(ctx, "too many %s%s addresses (max %d)", dashes(ctx), o->name,
				 CFG_MAX_LISTEN);
	arr[(*n)++] = a;
	return 0;
}

static int parse_listen(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	unsigned l = listen_list_of(o);

	list_begin(ctx, listen_lists[l].which,
		   (unsigned *)((char *)ctx->cfg + listen_lists[l].n_off));
	return for_each_item(ctx, o, val, listen_item);
}

/* One address, as rtpengine: the last one given wins. A bare PORT is loopback only:
 * the CLI ends calls and changes the log level, and has no access list of its own. */
static int parse_listen_cli(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	union sockaddr_u a;

	(void)o;
	if (netaddr_parse(val, 0, true, &a) || !netaddr_port(&a))
		return -EINVAL;
	ctx->cfg->listen_cli = a;
	return 0;
}

static int ng_allow_item(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	struct config *cfg = ctx->cfg;
	char buf[CIDR_STRLEN];
	struct cidr c;
	bool host_bits;

	if (cidr_parse(val, &c, &host_bits))
		return bad_value(ctx, o, val);
	if (host_bits)
		cfg_warn(ctx, "%s%s '%s' has host bits set; allowing %s", dashes(ctx), o->name,
			 val, cidr_str(&c, buf, sizeof(buf)));
	if (cfg->n_ng_allow >= CFG_MAX_NG_ALLOW)
		return cfg_error(ctx, "too many %s%s values (max %d)", dashes(ctx), o->name,
				 CFG_MAX_NG_ALLOW);
	cfg->ng_allow[cfg->n_ng_allow++] = c;
	return 0;
}

static int parse_ng_allow(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	list_begin(ctx, CFG_L_NG_ALLOW, &ctx->cfg->n_ng_allow);
	return for_each_item(ctx, o, val, ng_allow_item);
}

/* Kept resolved (realpath), so that a file's resolved path can be compared to it. */
static int media_dir_item(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	struct config *cfg = ctx->cfg;
	char *real = realpath(val, NULL);

	if (!real)
		return cfg_error(ctx, "%s%s '%s': %s", dashes(ctx), o->name, val, strerror(errno));
	if (cfg->n_media_dirs >= CFG_MAX_MEDIA_DIRS || strlen(real) >= PATH_MAX) {
		free(real);
		return cfg_error(ctx, "too many %s%s values (max %d)", dashes(ctx), o->name,
				 CFG_MAX_MEDIA_DIRS);
	}
	strcpy(cfg->media_dirs[cfg->n_media_dirs++], real);
	free(real);
	return 0;
}

static int parse_media_dir(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	list_begin(ctx, CFG_L_MEDIA_DIR, &ctx->cfg->n_media_dirs);
	return for_each_item(ctx, o, val, media_dir_item);
}

/* Bits to shift by for a size suffix: none, K, M, G (binary, either case); -1 if bad. */
static int size_shift(const char *suffix)
{
	if (!*suffix)
		return 0;
	if (suffix[1])
		return -1;
	switch (*suffix) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	default:            return -1;
	}
}

/* "N", "NK", "NM", "NG". */
static int parse_bytes(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	unsigned long long v = 0;
	char *end = (char *)val;
	int shift;

	errno = 0;
	if (isdigit((unsigned char)*val))
		v = strtoull(val, &end, 10);
	shift = size_shift(end);
	if (end == val || errno || shift < 0 || v > (MAX_NG_CACHE_BYTES >> shift))
		return cfg_error(ctx, "invalid value '%s' for %s%s (allowed: 0..16G)", val,
				 dashes(ctx), o->name);
	*(uint64_t *)field(ctx, o) = v << shift;
	return 0;
}

/* Bare address of either family, "[v6]" allowed; "any" = 0.0.0.0. */
static int parse_if_addr(const char *s, size_t len, union sockaddr_u *out)
{
	if (len == 3 && !strncmp(s, "any", 3))
		return netaddr_parse_ip("0.0.0.0", 7, AF_INET, out);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		return netaddr_parse_ip(s + 1, len - 2, AF_INET6, out);
	return netaddr_parse_ip(s, len, 0, out);
}

/* "[NAME/]IP[!ADVERTISED]" */
static int parse_if_spec(const char *s, struct cfg_interface *ifc)
{
	const char *slash = strchr(s, '/'), *ip = s, *bang;

	memset(ifc, 0, sizeof(*ifc));
	strcpy(ifc->name, "default");
	if (slash) {
		size_t nlen = (size_t)(slash - s);

		if (!nlen || nlen >= sizeof(ifc->name) || memchr(s, '!', nlen))
			return -EINVAL;
		memcpy(ifc->name, s, nlen);
		ifc->name[nlen] = '\0';
		ip = slash + 1;
	}
	bang = strchr(ip, '!');
	if (parse_if_addr(ip, bang ? (size_t)(bang - ip) : strlen(ip), &ifc->local))
		return -EINVAL;
	if (!bang) {
		ifc->advertised = ifc->local;
		return 0;
	}
	if (parse_if_addr(bang + 1, strlen(bang + 1), &ifc->advertised) ||
	    netaddr_is_any(&ifc->advertised) ||
	    ifc->advertised.sa.sa_family != ifc->local.sa.sa_family)
		return -EINVAL;
	return 0;
}

static int interface_item(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	struct config *cfg = ctx->cfg;
	struct cfg_interface ifc;

	if (parse_if_spec(val, &ifc))
		return bad_value(ctx, o, val);
	/* a wildcard cannot go into SDP; keep Debian's "interface = any" working locally */
	if (netaddr_is_any(&ifc.advertised)) {
		bool v6 = ifc.local.sa.sa_family == AF_INET6;

		netaddr_parse_ip(v6 ? "::1" : "127.0.0.1", v6 ? 3 : 9, 0, &ifc.advertised);
		cfg_warn(ctx, "interface '%s' binds to all addresses and advertises %s; "
			 "use IP!ADVERTISED to advertise a reachable address",
			 val, v6 ? "::1" : "127.0.0.1");
	}
	if (cfg->n_interfaces >= CFG_MAX_INTERFACES)
		return cfg_error(ctx, "too many %sinterface values (max %d)", dashes(ctx),
				 CFG_MAX_INTERFACES);
	cfg->interfaces[cfg->n_interfaces++] = ifc;
	return 0;
}

static int parse_interface(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	list_begin(ctx, CFG_L_IF, &ctx->cfg->n_interfaces);
	return for_each_item(ctx, o, val, interface_item);
}

static int parse_max_sessions(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	long v;

	(void)o;
	if (parse_long(val, -1, INT_MAX, &v))
		return -EINVAL;
	ctx->cfg->max_sessions = (int)v;        /* rtpengine: -1 unlimited, 0 drains */
	return 0;
}

/* A non-negative decimal number ("2.5"); rtpengine's FLOAT options. */
static int parse_float(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	char *end;
	double v;

	if (!*val || isspace((unsigned char)*val))
		return -EINVAL;
	errno = 0;
	v = strtod(val, &end);
	if (errno || *end || !(v >= 0 && v <= 1e9))
		return -EINVAL;
	*(double *)field(ctx, o) = v;
	return 0;
}

static const char *const learning_names[] = {
	[EL_DELAYED] = "delayed", [EL_IMMEDIATE] = "immediate",
	[EL_OFF] = "off", [EL_HEURISTIC] = "heuristic",
};

int endpoint_learning_parse(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(learning_names) / sizeof(learning_names[0]); i++)
		if (strlen(learning_names[i]) == len && !memcmp(s, learning_names[i], len))
			return (int)i;
	return -1;
}

static int parse_learning(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	int el = endpoint_learning_parse(val, strlen(val));

	(void)o;
	if (el < 0)
		return -EINVAL;
	ctx->cfg->endpoint_learning = (enum endpoint_learning)el;
	return 0;
}

static int parse_facility(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	(void)o;
	if (strcmp(val, "daemon") &&
	    !(strlen(val) == 6 && !strncmp(val, "local", 5) && val[5] >= '0' && val[5] <= '7'))
		return -EINVAL;
	strcpy(ctx->cfg->log_facility, val);
	return 0;
}

int config_redis_parse(const char *s, struct cfg_redis *r)
{
	const char *at = strrchr(s, '@'), *slash;
	char host[NETADDR_STRLEN];
	size_t len;

	memset(r, 0, sizeof(*r));
	if (at) {
		if ((size_t)(at - s) >= sizeof(r->password))
			return -EINVAL;
		memcpy(r->password, s, (size_t)(at - s));
		s = at + 1;
	}
	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (!len || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	if (netaddr_parse(host, 0, false, &r->addr) || !netaddr_port(&r->addr) ||
	    netaddr_is_any(&r->addr))
		return -EINVAL;
	if (slash) {
		char *end;
		unsigned long db = strtoul(slash + 1, &end, 10);

		if (!slash[1] || *end || db > 15)
			return -EINVAL;
		r->db = (unsigned)db;
	}
	return 0;
}

static int parse_redis(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	struct cfg_redis *r = (struct cfg_redis *)((char *)ctx->cfg + o->off);

	return config_redis_parse(val, r);
}

/* Letters, digits, '.', '_', '-': the name goes into a SCAN pattern (no glob characters)
 * and a key (no ':'). */
static int parse_instance(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	size_t n = strlen(val);

	(void)o;
	if (!n || n >= sizeof(ctx->cfg->redis_instance) ||
	    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return -EINVAL;
	memcpy(ctx->cfg->redis_instance, val, n + 1);
	return 0;
}

/* Repeatable, and a list in one value ("1;2", "1,2", "1 2"): each adds a database. */
static int parse_keyspace(struct cfg_ctx *ctx, const struct cfg_opt *o, const char *val)
{
	uint16_t mask = 0;
	const char *p = val;

	(void)o;
	while (*p) {
		char *end;
		unsigned long db;

		p += strspn(p, ",; ");
		if (!*p)
			break;
		db = strtoul(p, &end, 10);
		if (end == p || db > 15 || (*end && !strchr(",; ", *end)))
			return -EINVAL;
		mask |= (uint16_t)(1u << db);
		p = end;
	}
	if (!mask)
		return -EINVAL;
	ctx->cfg->subscribe_keyspace |= mask;
	return 0;
}

/* ---- load ---- */

static void set_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->config_section, CONFIG_DEFAULT_SECTION);
	cfg->port_min = 30000;
	cfg->port_max = 40000;
	cfg->timeout = 60;
	cfg->silent_timeout = 3600;
	cfg->final_timeout = 0;
	cfg->offer_timeout = 3600;
	cfg->delete_delay = 30;
	cfg->max_sessions = -1;
	cfg->num_threads = 0;           /* resolved in finalize() */
	cfg->io_uring = true;           /* a kernel without what it needs falls back (relay.c) */
	cfg->io_uring_buffers = 512;
	cfg->table = 0;
	cfg->kernel = KERNEL_AUTO;
	cfg->tos = -1;
	cfg->endpoint_learning = EL_HEURISTIC;
	cfg->ng_cache_max_bytes = DEFAULT_NG_CACHE_BYTES;
	cfg->ng_cache_max_entries = DEFAULT_NG_CACHE_ENTRIES;
	cfg->capture_ring_mb = 64;
	cfg->redis_expires = 86400;
	cfg->redis_update_interval = 10;
	cfg->log_level = 6;
	strcpy(cfg->log_facility, "daemon");
}

/* The host name, up to its first character a key cannot take ("sluice" if none). */
static void default_instance(struct config *cfg)
{
	char h[256] = "";
	size_t n;

	if (gethostname(h, sizeof(h) - 1))
		h[0] = '\0';
	n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	if (n >= sizeof(cfg->redis_instance))
		n = sizeof(cfg->redis_instance) - 1;
	memcpy(cfg->redis_instance, h, n);
	cfg->redis_instance[n] = '\0';
	if (!n)
		strcpy(cfg->redis_instance, "sluice");
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static int check_ports(struct cfg_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	unsigned min = cfg->port_min + (cfg->port_min & 1);  /* RTP takes the even port */

	if (min >= cfg->port_max)
		return cfg_error(ctx, "--port-min (%u) must be lower than --port-max (%u)",
				 cfg->port_min, cfg->port_max);
	if (cfg->port_max - min + 1 < 4)
		return cfg_error(ctx, "port range %u-%u is too small (need at least 4 ports)",
				 min, cfg->port_max);
	cfg->port_min = (uint16_t)min;
	return 0;
}

/* Fill what no source gave and check what spans several options. */
static int finalize(struct cfg_ctx *ctx)
{
	struct config *cfg = ctx->cfg;

	if (!cfg->n_listen_ng) {
		netaddr_parse("127.0.0.1", DEFAULT_NG_PORT, true, &cfg->listen_ng[0]);
		cfg->n_listen_ng = 1;
	}
	if (!cfg->n_interfaces) {
		parse_if_spec("127.0.0.1", &cfg->interfaces[0]);
		cfg->n_interfaces = 1;
	}
	/* rtpengine treats 0 as "use the default" for these */
	if (!cfg->timeout)
		cfg->timeout = 60;
	if (!cfg->silent_timeout)
		cfg->silent_timeout = 3600;
	if (!cfg->num_threads)
		cfg->num_threads = online_cpus();
	if (cfg->no_io_uring)
		cfg->io_uring = false;
	if (cfg->io_uring_buffers & (cfg->io_uring_buffers - 1))
		return cfg_error(ctx, "--io-uring-buffers (%u) must be a power of 2",
				 cfg->io_uring_buffers);
	if (!cfg->redis_instance[0])
		default_instance(cfg);
	if (cfg->subscribe_keyspace && !cfg->redis.addr.sa.sa_family)
		return cfg_error(ctx, "--subscribe-keyspace needs --redis (the Redis to listen to)");
	/* rtpengine's spellings: --table=-1 is userspace only, --no-fallback insists */
	if (cfg->no_fallback && cfg->kernel == KERNEL_AUTO)
		cfg->kernel = KERNEL_ON;
	if (cfg->table < 0) {
		if (cfg->kernel == KERNEL_ON) {
			ctx->src = CFG_SRC_CMDLINE;
			ctx->line = 0;
			return cfg_error(ctx, "--kernel=on (or --no-fallback) needs --table >= 0");
		}
		cfg->kernel = KERNEL_OFF;
	}
	return check_ports(ctx);
}

static int load_file(struct cfg_ctx *ctx)
{
	int ret;

	ctx->src = CFG_SRC_INI;
	if (!ctx->file_given)
		ret = cfg_ini_load(ctx, CONFIG_DEFAULT_FILE, false);
	else if (strcmp(ctx->file_arg, "none"))
		ret = cfg_ini_load(ctx, ctx->file_arg, true);
	else
		ret = 0;
	ctx->src = CFG_SRC_CMDLINE;
	ctx->line = 0;
	return ret;
}

int config_load_warn(struct config *cfg, int argc, char **argv, FILE *warn,
		     char *err, size_t errlen)
{
	struct cfg_ctx ctx = {
		.cfg = cfg, .warn = warn, .err = err, .errlen = errlen,
		.src = CFG_SRC_CMDLINE, .early = true,
	};

	if (errlen)
		err[0] = '\0';
	set_defaults(cfg);
	/* early pass: --help, --version, --config-file/-section and unknown names */
	if (cfg_args_walk(&ctx, argc, argv))
		return -1;
	ctx.early = false;
	if (load_file(&ctx) || cfg_args_walk(&ctx, argc, argv) || finalize(&ctx))
		return -1;
	return 0;
}

int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	return config_load_warn(cfg, argc, argv, stderr, err, errlen);
}

/* ---- dump ---- */

static void dump_addrs(FILE *out, const char *key, const union sockaddr_u *a, unsigned n)
{
	char buf[NETADDR_STRLEN];
	unsigned i;

	if (!n)
		return;
	fprintf(out, "%s = ", key);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ";" : "", netaddr_str(&a[i], buf, sizeof(buf)));
	fputc('\n', out);
}

static void dump_cidrs(FILE *out, const char *key, const struct cidr *c, unsigned n)
{
	char buf[CIDR_STRLEN];

	if (!n)
		return;
	fprintf(out, "%s = ", key);
	for (unsigned i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ";" : "", cidr_str(&c[i], buf, sizeof(buf)));
	fputc('\n', out);
}

static void dump_interfaces(FILE *out, const struct config *cfg)
{
	char l[NETADDR_STRLEN], a[NETADDR_STRLEN];
	unsigned i;

	fprintf(out, "interface = ");
	for (i = 0; i < cfg->n_interfaces; i++) {
		const struct cfg_interface *ifc = &cfg->interfaces[i];

		fprintf(out, "%s%s/%s!%s", i ? ";" : "", ifc->name,
			netaddr_ntop(&ifc->local, l, sizeof(l)),
			netaddr_ntop(&ifc->advertised, a, sizeof(a)));
	}
	fputc('\n', out);
}

static void dump_redis(FILE *out, const char *key, const struct cfg_redis *r)
{
	char a[NETADDR_STRLEN];

	if (r->addr.sa.sa_family)
		fprintf(out, "%s = %s%s%s/%u\n", key, r->password, r->password[0] ? "@" : "",
			netaddr_str(&r->addr, a, sizeof(a)), r->db);
}

void config_dump(const struct config *cfg, FILE *out)
{
	fprintf(out, "[%s]\n", CONFIG_DEFAULT_SECTION);
	dump_addrs(out, "listen-ng", cfg->listen_ng, cfg->n_listen_ng);
	dump_addrs(out, "listen-tcp-ng", cfg->listen_tcp_ng, cfg->n_listen_tcp_ng);
	dump_addrs(out, "listen-cli", &cfg->listen_cli, cfg->listen_cli.sa.sa_family ? 1 : 0);
	dump_addrs(out, "listen-http", cfg->listen_http, cfg->n_listen_http);
	dump_cidrs(out, "ng-allow", cfg->ng_allow, cfg->n_ng_allow);
	fprintf(out, "ng-cache-max-bytes = %llu\nng-cache-max-entries = %u\n",
		(unsigned long long)cfg->ng_cache_max_bytes, cfg->ng_cache_max_entries);
	dump_interfaces(out, cfg);
	fprintf(out, "port-min = %u\nport-max = %u\n", cfg->port_min, cfg->port_max);
	for (unsigned i = 0; i < cfg->n_media_dirs; i++)
		fprintf(out, "%s%s", i ? "; " : "media-dir = ", cfg->media_dirs[i]);
	if (cfg->n_media_dirs)
		fputc('\n', out);
	fprintf(out, "timeout = %u\nsilent-timeout = %u\nfinal-timeout = %u\n"
		"offer-timeout = %u\ndelete-delay = %u\n", cfg->timeout, cfg->silent_timeout,
		cfg->final_timeout, cfg->offer_timeout, cfg->delete_delay);
	fprintf(out, "num-threads = %u\nmax-sessions = %d\n", cfg->num_threads,
		cfg->max_sessions);
	fprintf(out, "io-uring = %s\nio-uring-buffers = %u\n", cfg->io_uring ? "true" : "false",
		cfg->io_uring_buffers);
	fprintf(out, "max-load = %g\nmax-cpu = %g\nmax-bandwidth = %llu\n", cfg->max_load,
		cfg->max_cpu, (unsigned long long)cfg->max_bandwidth);
	fprintf(out, "table = %d\nkernel = %s\nno-fallback = %s\ntos = %d\n"
		"endpoint-learning = %s\n", cfg->table, kernel_names[cfg->kernel],
		cfg->no_fallback ? "true" : "false", cfg->tos,
		learning_names[cfg->endpoint_learning]);
	fprintf(out, "jitter-buffer = %u\n", cfg->jitter_buffer);
	if (cfg->recording_dir[0])
		fprintf(out, "recording-dir = %s\nrecording-method = %s\n", cfg->recording_dir,
			cfg->recording_proc ? "proc" : "pcap");
	if (cfg->homer.sa.sa_family != AF_UNSPEC) {
		char h[NETADDR_STRLEN];

		fprintf(out, "homer = %s\n", netaddr_str(&cfg->homer, h, sizeof(h)));
	}
	fprintf(out, "homer-protocol = %s\nhomer-id = %u\n", cfg->homer_tcp ? "tcp" : "udp",
		cfg->homer_id);
	fprintf(out, "recording-format = %s\ncapture-ring = %u\ncapture-ring-mb = %u\n",
		rec_format_names[cfg->recording_format], cfg->capture_ring, cfg->capture_ring_mb);
	dump_redis(out, "redis", &cfg->redis);
	dump_redis(out, "redis-write", &cfg->redis_write);
	fprintf(out, "redis-num-threads = %u\nredis-expires = %u\nredis-update-interval = %u\n"
		"redis-instance = %s\n", cfg->redis_num_threads, cfg->redis_expires,
		cfg->redis_update_interval, cfg->redis_instance);
	for (unsigned db = 0; db < 16; db++)
		if (cfg->subscribe_keyspace & (1u << db))
			fprintf(out, "subscribe-keyspace = %u\n", db);
	fprintf(out, "foreground = %s\npidfile = %s\n", cfg->foreground ? "true" : "false",
		cfg->pidfile);
	fprintf(out, "log-level = %d\nlog-stderr = %s\nlog-facility = %s\n", cfg->log_level,
		cfg->log_stderr ? "true" : "false", cfg->log_facility);
}
