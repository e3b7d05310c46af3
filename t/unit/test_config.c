/* sluiced configuration: defaults, every option from the command line and from INI,
 * precedence, rtpengine compatibility (ignored options, [rtpengine] section, Debian's
 * packaged rtpengine.conf), and the errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/config.h"
#include "../../daemon/config_internal.h"

#define MAX_ARGS 80

struct res {
	int rc;
	struct config cfg;
	char err[512];
	char *warn;             /* everything written as warnings */
	size_t warnlen;
	char *dump;             /* config_dump() output when rc == 0 */
	size_t dumplen;
};

static void res_free(struct res *r)
{
	free(r->warn);
	free(r->dump);
	memset(r, 0, sizeof(*r));
}

/* argv = "sluiced" + args (NULL-terminated array). */
static void run_argv(struct res *r, const char *const *args)
{
	char *argv[MAX_ARGS];
	int argc = 0;
	FILE *w, *d;

	memset(r, 0, sizeof(*r));
	argv[argc++] = (char *)"sluiced";
	while (*args) {
		assert_true(argc < MAX_ARGS - 1);
		argv[argc++] = (char *)*args++;
	}
	argv[argc] = NULL;
	w = open_memstream(&r->warn, &r->warnlen);
	assert_non_null(w);
	r->rc = config_load_warn(&r->cfg, argc, argv, w, r->err, sizeof(r->err));
	fclose(w);
	d = open_memstream(&r->dump, &r->dumplen);
	assert_non_null(d);
	if (!r->rc)
		config_dump(&r->cfg, d);
	fclose(d);
}

/* Variadic form; a NULL ends the list. */
static void run(struct res *r, ...)
{
	const char *args[MAX_ARGS];
	va_list ap;
	int n = 0;

	va_start(ap, r);
	while ((args[n] = va_arg(ap, const char *)) != NULL)
		assert_true(++n < MAX_ARGS);
	va_end(ap);
	run_argv(r, args);
}

static void write_file(char *path, const char *content)
{
	int fd;

	strcpy(path, "/tmp/sluice-test-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static bool dump_has(const struct res *r, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\n%s\n", line);
	return r->dump && strstr(r->dump, want);
}

static const char *addr(const union sockaddr_u *a, char *buf)
{
	return netaddr_str(a, buf, NETADDR_STRLEN);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	struct res r;
	char b[NETADDR_STRLEN];

	(void)state;
	run(&r, "--config-file=none", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	assert_int_equal(r.warnlen, 0);
	assert_string_equal(r.cfg.config_file, "");
	assert_string_equal(r.cfg.config_section, "sluice");
	assert_int_equal(r.cfg.n_listen_ng, 1);
	assert_string_equal(addr(&r.cfg.listen_ng[0], b), "127.0.0.1:2223");
	assert_int_equal(r.cfg.n_listen_tcp_ng, 0);
	assert_int_equal(r.cfg.n_listen_http, 0);
	assert_int_equal(r.cfg.n_interfaces, 1);
	assert_string_equal(r.cfg.interfaces[0].name, "default");
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[0].local, b, sizeof(b)), "127.0.0.1");
	assert_true(netaddr_eq(&r.cfg.interfaces[0].local, &r.cfg.interfaces[0].advertised));
	assert_int_equal(r.cfg.port_min, 30000);
	assert_int_equal(r.cfg.port_max, 40000);
	assert_int_equal(r.cfg.timeout, 60);
	assert_int_equal(r.cfg.silent_timeout, 3600);
	assert_int_equal(r.cfg.final_timeout, 0);
	assert_int_equal(r.cfg.offer_timeout, 3600);
	assert_int_equal(r.cfg.delete_delay, 30);
	assert_int_equal(r.cfg.num_threads, sysconf(_SC_NPROCESSORS_ONLN));
	assert_int_equal(r.cfg.max_sessions, -1);          /* rtpengine: no limit */
	assert_true(r.cfg.max_load == 0 && r.cfg.max_cpu == 0);
	assert_int_equal(r.cfg.max_bandwidth, 0);
	assert_int_equal(r.cfg.table, 0);
	assert_int_equal(r.cfg.kernel, KERNEL_AUTO);
	assert_false(r.cfg.no_fallback);
	assert_int_equal(r.cfg.tos, -1);
	assert_int_equal(r.cfg.endpoint_learning, EL_HEURISTIC);
	assert_int_equal(r.cfg.n_ng_allow, 0);          /* NG from anywhere it listens */
	assert_int_equal(r.cfg.ng_cache_max_bytes, 64 << 20);
	assert_int_equal(r.cfg.ng_cache_max_entries, 131072);
	assert_false(r.cfg.foreground);
	assert_string_equal(r.cfg.pidfile, "");
	assert_int_equal(r.cfg.log_level, 6);
	assert_false(r.cfg.log_stderr);
	assert_string_equal(r.cfg.log_facility, "daemon");
	res_free(&r);
}

/* Without --config-file the default file is read only if it exists. */
static void test_default_file_optional(void **state)
{
	struct res r;

	(void)state;
	if (access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		skip();
	run(&r, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.cfg.config_file, "");
	res_free(&r);
}

/* ---- every implemented option, command line and INI ---- */

struct opt_case {
	const char *args[3];    /* command-line form */
	const char *ini;        /* the same as an INI line */
	const char *want;       /* line expected in config_dump() */
};

static const struct opt_case opt_cases[] = {
	{ { "--listen-ng=10.0.0.1:5000" }, "listen-ng = 10.0.0.1:5000",
	  "listen-ng = 10.0.0.1:5000" },
	{ { "-n", "[::1]:2224" }, "listen-ng = [::1]:2224", "listen-ng = [::1]:2224" },
	{ { "-n5000" }, "listen-ng = 5000", "listen-ng = 0.0.0.0:5000" },
	{ { "--listen-ng", "localhost:2225" }, "listen-ng = localhost:2225",
	  "listen-ng = 127.0.0.1:2225" },
	{ { "-N", "127.0.0.1:2230" }, "listen-tcp-ng = 127.0.0.1:2230",
	  "listen-tcp-ng = 127.0.0.1:2230" },
	{ { "--listen-tcp-ng=[::1]:2231" }, "listen-tcp-ng=[::1]:2231",
	  "listen-tcp-ng = [::1]:2231" },
	/* HTTP: a bare port stays on loopback */
	{ { "--listen-http=9101" }, "listen-http = 9101", "listen-http = 127.0.0.1:9101" },
	{ { "--listen-http=0.0.0.0:9102" }, "listen-http = 0.0.0.0:9102",
	  "listen-http = 0.0.0.0:9102" },
	{ { "--listen-http=[::1]:9103", "--listen-http=localhost:9104" },
	  "listen-http = [::1]:9103;localhost:9104",
	  "listen-http = [::1]:9103;127.0.0.1:9104" },
	{ { "--ng-allow=127.0.0.2/32" }, "ng-allow = 127.0.0.2/32", "ng-allow = 127.0.0.2/32" },
	{ { "--ng-allow", "::1" }, "ng-allow = [::1]", "ng-allow = ::1/128" },
	{ { "--ng-allow=10.0.0.0/8", "--ng-allow=2001:db8::/32" },
	  "ng-allow = 10.0.0.0/8 ; 2001:db8::/32", "ng-allow = 10.0.0.0/8;2001:db8::/32" },
	{ { "--ng-allow=192.0.2.7" }, "ng-allow = 192.0.2.7", "ng-allow = 192.0.2.7/32" },
	{ { "--ng-cache-max-bytes=1M" }, "ng-cache-max-bytes = 1m",
	  "ng-cache-max-bytes = 1048576" },
	{ { "--ng-cache-max-bytes", "300k" }, "ng-cache-max-bytes = 300K",
	  "ng-cache-max-bytes = 307200" },
	{ { "--ng-cache-max-bytes=16G" }, "ng-cache-max-bytes = 16g",
	  "ng-cache-max-bytes = 17179869184" },
	{ { "--ng-cache-max-bytes=12345" }, "ng-cache-max-bytes = 12345",
	  "ng-cache-max-bytes = 12345" },
	{ { "--ng-cache-max-bytes=0" }, "ng-cache-max-bytes = 0", "ng-cache-max-bytes = 0" },
	{ { "--ng-cache-max-entries=1000" }, "ng-cache-max-entries = 1000",
	  "ng-cache-max-entries = 1000" },
	{ { "--ng-cache-max-entries", "0" }, "ng-cache-max-entries = 0",
	  "ng-cache-max-entries = 0" },
	{ { "-i", "10.1.1.1" }, "interface = 10.1.1.1", "interface = default/10.1.1.1!10.1.1.1" },
	{ { "--interface=pub/10.1.1.1!203.0.113.5" }, "interface = pub/10.1.1.1!203.0.113.5",
	  "interface = pub/10.1.1.1!203.0.113.5" },
	{ { "--interface", "10.1.1.1!203.0.113.5" }, "interface = 10.1.1.1!203.0.113.5",
	  "interface = default/10.1.1.1!203.0.113.5" },
	{ { "-i", "2001:db8::1" }, "interface = 2001:db8::1",
	  "interface = default/2001:db8::1!2001:db8::1" },
	{ { "-iv6/[2001:db8::2]!2001:db8::3" }, "interface = v6/[2001:db8::2]!2001:db8::3",
	  "interface = v6/2001:db8::2!2001:db8::3" },
	{ { "-i", "any!192.0.2.1" }, "interface = any!192.0.2.1",
	  "interface = default/0.0.0.0!192.0.2.1" },
	{ { "-m", "31000" }, "port-min = 31000", "port-min = 31000" },
	{ { "--port-min=31001" }, "port-min = 31001", "port-min = 31002" },
	{ { "-M", "35000" }, "port-max = 35000", "port-max = 35000" },
	{ { "--port-max", "65535" }, "port-max = 65535", "port-max = 65535" },
	{ { "-o", "120" }, "timeout = 120", "timeout = 120" },
	{ { "--jitter-buffer=60" }, "jitter-buffer = 60", "jitter-buffer = 60" },
	{ { "--jitter-buffer", "0" }, "jitter-buffer = 0", "jitter-buffer = 0" },
	{ { "--timeout=0" }, "timeout = 0", "timeout = 60" },
	{ { "-s7200" }, "silent-timeout = 7200", "silent-timeout = 7200" },
	{ { "-a", "10800" }, "final-timeout = 10800", "final-timeout = 10800" },
	{ { "--offer-timeout", "0" }, "offer-timeout = 0", "offer-timeout = 0" },
	{ { "-d", "0" }, "delete-delay = 0", "delete-delay = 0" },
	{ { "--num-threads=4" }, "num-threads = 4", "num-threads = 4" },
	{ { "--num-threads=256" }, "num-threads = 256", "num-threads = 256" },
	{ { "--max-sessions=5000" }, "max-sessions = 5000", "max-sessions = 5000" },
	{ { "--max-sessions", "-1" }, "max-sessions = -1", "max-sessions = -1" },
	{ { "--max-sessions=0" }, "max-sessions = 0", "max-sessions = 0" },     /* drain */
	{ { "--max-load=2.5" }, "max-load = 2.5", "max-load = 2.5" },
	{ { "--max-load", "0.01" }, "max-load = 0.01", "max-load = 0.01" },
	{ { "--max-cpu=90" }, "max-cpu = 90", "max-cpu = 90" },
	{ { "--max-cpu", "12.75" }, "max-cpu = 12.75", "max-cpu = 12.75" },
	{ { "--max-bandwidth=125000" }, "max-bandwidth = 125000", "max-bandwidth = 125000" },
	{ { "--max-bandwidth=10M" }, "max-bandwidth = 10M", "max-bandwidth = 10485760" },
	{ { "-t", "0" }, "table = 0", "table = 0" },
	{ { "-t63" }, "table = 63", "table = 63" },
	{ { "--table", "-1" }, "table = -1", "table = -1" },
	{ { "--table=-1" }, "kernel = off", "kernel = off" },
	{ { "-t255" }, "table = 255", "table = 255" },
	{ { "--kernel=on" }, "kernel = on", "kernel = on" },
	{ { "--kernel", "off" }, "kernel = off", "kernel = off" },
	{ { "--kernel=auto" }, "kernel = auto", "kernel = auto" },
	{ { "--no-fallback" }, "kernel = on", "kernel = on" },
	{ { "-F" }, "no-fallback = true", "no-fallback = true" },
	{ { "--no-fallback" }, "no-fallback = 1", "no-fallback = true" },
	{ { "-T", "184" }, "tos = 184", "tos = 184" },
	{ { "--tos=0" }, "tos = 0", "tos = 0" },
	{ { "--tos=255" }, "tos = 255", "tos = 255" },
	{ { "--endpoint-learning=immediate" }, "endpoint-learning = immediate",
	  "endpoint-learning = immediate" },
	{ { "--endpoint-learning", "off" }, "endpoint-learning = off", "endpoint-learning = off" },
	{ { "--endpoint-learning=heuristic" }, "endpoint-learning = heuristic",
	  "endpoint-learning = heuristic" },
	{ { "--endpoint-learning=delayed" }, "endpoint-learning = delayed",
	  "endpoint-learning = delayed" },
	{ { "-f" }, "foreground = yes", "foreground = true" },
	{ { "--foreground" }, "foreground = TRUE", "foreground = true" },
	{ { "-p", "/run/sluice.pid" }, "pidfile = /run/sluice.pid", "pidfile = /run/sluice.pid" },
	{ { "--pidfile=/tmp/x y.pid" }, "pidfile = /tmp/x y.pid", "pidfile = /tmp/x y.pid" },
	{ { "-L7" }, "log-level = 7", "log-level = 7" },
	{ { "-L", "0" }, "log-level = 0", "log-level = 0" },
	{ { "--log-level=3" }, "log-level=3", "log-level = 3" },
	{ { "-E" }, "log-stderr = true", "log-stderr = true" },
	{ { "--log-stderr" }, "log-stderr = on", "log-stderr = true" },
	{ { "--log-facility=local3" }, "log-facility = local3", "log-facility = local3" },
	{ { "--log-facility", "local0" }, "log-facility = local0", "log-facility = local0" },
	{ { "--log-facility=daemon" }, "log-facility = daemon", "log-facility = daemon" },
};

static void test_options_cmdline(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		const struct opt_case *c = &opt_cases[i];
		const char *args[6] = { "--config-file=none" };
		struct res r;
		int n = 1, j;

		for (j = 0; j < 3 && c->args[j]; j++)
			args[n++] = c->args[j];
		args[n] = NULL;
		run_argv(&r, args);
		if (r.rc || !dump_has(&r, c->want) || r.warnlen)
			fail_msg("case %zu (%s): rc=%d err='%s' warn='%s', want '%s' in:\n%s", i,
				 c->args[0], r.rc, r.err, r.warn, c->want, r.dump);
		res_free(&r);
	}
}

static void test_options_ini(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		const struct opt_case *c = &opt_cases[i];
		char path[64], text[256], arg[96];
		struct res r;

		snprintf(text, sizeof(text), "# test\n[sluice]\n%s\n", c->ini);
		write_file(path, text);
		snprintf(arg, sizeof(arg), "--config-file=%s", path);
		run(&r, arg, NULL);
		unlink(path);
		if (r.rc || !dump_has(&r, c->want) || r.warnlen || strcmp(r.cfg.config_file, path))
			fail_msg("case %zu (%s): rc=%d err='%s' warn='%s', want '%s' in:\n%s", i,
				 c->ini, r.rc, r.err, r.warn, c->want, r.dump);
		res_free(&r);
	}
}

/* ---- lists, precedence ---- */

static void test_repeatable_cmdline(void **state)
{
	struct res r;
	char b[NETADDR_STRLEN];

	(void)state;
	run(&r, "--config-file=none", "-n", "127.0.0.1:3000", "--listen-ng=[::1]:3001",
	    "-n3002", "-N", "127.0.0.1:3003", "-N", "127.0.0.1:3004",
	    "-i", "int/10.0.0.1", "-i", "ext/10.0.0.2!198.51.100.7", "-i", "ext/2001:db8::9",
	    NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.n_listen_ng, 3);
	assert_string_equal(addr(&r.cfg.listen_ng[0], b), "127.0.0.1:3000");
	assert_string_equal(addr(&r.cfg.listen_ng[1], b), "[::1]:3001");
	assert_string_equal(addr(&r.cfg.listen_ng[2], b), "0.0.0.0:3002");
	assert_int_equal(r.cfg.n_listen_tcp_ng, 2);
	assert_string_equal(addr(&r.cfg.listen_tcp_ng[1], b), "127.0.0.1:3004");
	assert_int_equal(r.cfg.n_interfaces, 3);
	assert_string_equal(r.cfg.interfaces[0].name, "int");
	assert_string_equal(r.cfg.interfaces[1].name, "ext");
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[1].local, b, sizeof(b)), "10.0.0.2");
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[1].advertised, b, sizeof(b)),
			    "198.51.100.7");
	assert_string_equal(r.cfg.interfaces[2].name, "ext");
	assert_int_equal(r.cfg.interfaces[2].local.sa.sa_family, AF_INET6);
	assert_int_equal(netaddr_port(&r.cfg.interfaces[2].local), 0);
	res_free(&r);
}

static void test_ini_lists(void **state)
{
	struct res r;
	char path[64], arg[96], b[NETADDR_STRLEN];

	(void)state;
	write_file(path, "[sluice]\n"
		   "interface = internal/12.23.34.45; external/23.34.45.54!1.2.3.4 ;\n"
		   "listen-ng = 127.0.0.1:4000;[::1]:4001\n"
		   "listen-tcp-ng = 127.0.0.1:4002\n"
		   "listen-tcp-ng = 127.0.0.1:4003\n");     /* a repeated key replaces */
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.n_interfaces, 2);
	assert_string_equal(r.cfg.interfaces[0].name, "internal");
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[0].local, b, sizeof(b)), "12.23.34.45");
	assert_string_equal(r.cfg.interfaces[1].name, "external");
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[1].advertised, b, sizeof(b)),
			    "1.2.3.4");
	assert_int_equal(r.cfg.n_listen_ng, 2);
	assert_string_equal(addr(&r.cfg.listen_ng[1], b), "[::1]:4001");
	assert_int_equal(r.cfg.n_listen_tcp_ng, 1);
	assert_string_equal(addr(&r.cfg.listen_tcp_ng[0], b), "127.0.0.1:4003");
	res_free(&r);
}

static void test_precedence(void **state)
{
	struct res r;
	char path[64], arg[96], b[NETADDR_STRLEN];

	(void)state;
	write_file(path, "[sluice]\n"
		   "timeout = 100\n"
		   "port-min = 32000\n"
		   "log-level = 7\n"
		   "listen-ng = 127.0.0.1:5000;127.0.0.1:5001\n"
		   "interface = a/10.0.0.1;b/10.0.0.2\n"
		   "foreground = true\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	/* the file comes after the options on purpose: position does not matter */
	run(&r, "-o", "200", "-n", "127.0.0.1:6000", "-n", "127.0.0.1:6001", "-L4", arg, NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.timeout, 200);           /* cmdline over INI */
	assert_int_equal(r.cfg.log_level, 4);
	assert_int_equal(r.cfg.port_min, 32000);        /* INI over default */
	assert_true(r.cfg.foreground);
	assert_int_equal(r.cfg.port_max, 40000);        /* default */
	assert_int_equal(r.cfg.silent_timeout, 3600);
	assert_int_equal(r.cfg.n_listen_ng, 2);         /* cmdline list replaces INI list */
	assert_string_equal(addr(&r.cfg.listen_ng[0], b), "127.0.0.1:6000");
	assert_string_equal(addr(&r.cfg.listen_ng[1], b), "127.0.0.1:6001");
	assert_int_equal(r.cfg.n_interfaces, 2);        /* INI list kept */
	assert_string_equal(r.cfg.interfaces[1].name, "b");
	res_free(&r);
}

/* Default listen-ng / interface only when none was given anywhere. */
static void test_list_defaults_only_when_empty(void **state)
{
	struct res r;
	char b[NETADDR_STRLEN];

	(void)state;
	run(&r, "--config-file=none", "-n", "127.0.0.1:7000", "-i", "::1", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.n_listen_ng, 1);
	assert_string_equal(addr(&r.cfg.listen_ng[0], b), "127.0.0.1:7000");
	assert_int_equal(r.cfg.n_interfaces, 1);
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[0].local, b, sizeof(b)), "::1");
	res_free(&r);
}

/* A prefix with host bits is taken as its network, with one warning; the command line
 * replaces the INI list; the limit is counted over all values. */
static void test_ng_allow(void **state)
{
	const char *args[2 * CFG_MAX_NG_ALLOW + 4] = { "--config-file=none" };
	char vals[CFG_MAX_NG_ALLOW + 1][32], path[64], arg[96], b[CIDR_STRLEN];
	struct res r;
	int n = 1;

	(void)state;
	run(&r, "--config-file=none", "--ng-allow=192.168.1.10/24", NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(cidr_str(&r.cfg.ng_allow[0], b, sizeof(b)), "192.168.1.0/24");
	assert_string_equal(r.warn, "sluiced: warning: --ng-allow '192.168.1.10/24' has host "
			    "bits set; allowing 192.168.1.0/24\n");
	res_free(&r);

	write_file(path, "[sluice]\nng-allow = 10.0.0.0/8; 172.16.0.0/12\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.n_ng_allow, 2);
	res_free(&r);
	run(&r, arg, "--ng-allow=127.0.0.1", NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.n_ng_allow, 1);
	assert_string_equal(cidr_str(&r.cfg.ng_allow[0], b, sizeof(b)), "127.0.0.1/32");
	res_free(&r);

	for (int i = 0; i <= CFG_MAX_NG_ALLOW; i++) {
		snprintf(vals[i], sizeof(vals[i]), "--ng-allow=10.0.%d.0/24", i);
		args[n++] = vals[i];
	}
	args[n] = NULL;
	run_argv(&r, args);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "too many --ng-allow values (max 64)");
	res_free(&r);
	args[n - 1] = NULL;
	run_argv(&r, args);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.n_ng_allow, CFG_MAX_NG_ALLOW);
	res_free(&r);
}

static void test_any_interface(void **state)
{
	struct res r;
	char b[NETADDR_STRLEN];

	(void)state;
	run(&r, "--config-file=none", "-i", "any", NULL);
	assert_int_equal(r.rc, 0);
	assert_true(netaddr_is_any(&r.cfg.interfaces[0].local));
	assert_int_equal(r.cfg.interfaces[0].local.sa.sa_family, AF_INET);
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[0].advertised, b, sizeof(b)),
			    "127.0.0.1");
	assert_int_equal(count_lines(r.warn), 1);
	assert_non_null(strstr(r.warn, "sluiced: warning: interface 'any'"));
	res_free(&r);
}

/* ---- rtpengine-only options ---- */

struct rtpe_case {
	const char *args[4];
	const char *names[3];   /* options expected in the warnings, one line each */
};

static const struct rtpe_case rtpe_cases[] = {
	{ { "-g", "127.0.0.1:2003" }, { "graphite" } },
	{ { "-u2225" }, { "listen-udp" } },
	{ { "-l", "2226" }, { "listen-tcp" } },
	{ { "--listen-https=localhost:2226" }, { "listen-https" } },
	{ { "--codecs" }, { "codecs" } },
	{ { "--log-mark-prefix", "[" }, { "log-mark-prefix" } },
	{ { "--dtmf-digit-delay", "2500" }, { "dtmf-digit-delay" } },
	{ { "-y", "1" }, { "redis-delete-async" } },
	{ { "-qS" }, { "no-redis-required", "save-interface-ports" } },
	{ { "-fS", "-L7" }, { "save-interface-ports" } },
	{ { "--listen-udp=1", "--listen-udp=2" }, { "listen-udp" } },     /* warned once */
	{ { "--graphite", "-o" }, { "graphite" } },     /* "-o": the value */
};

static void check_warnings(const struct res *r, const char *const *names, size_t i)
{
	char line[160];
	unsigned n = 0;

	for (; n < 3 && names[n]; n++) {
		snprintf(line, sizeof(line),
			 "sluiced: warning: option --%s is not implemented by sluice, ignored\n",
			 names[n]);
		if (!r->warn || !strstr(r->warn, line))
			fail_msg("case %zu: missing '%s' in '%s'", i, line, r->warn);
	}
	if (count_lines(r->warn) != n)
		fail_msg("case %zu: %u warnings expected, got '%s'", i, n, r->warn);
}

static void test_rtpe_options_cmdline(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rtpe_cases) / sizeof(rtpe_cases[0]); i++) {
		const struct rtpe_case *c = &rtpe_cases[i];
		const char *args[8] = { "--config-file=none" };
		struct res r;
		int n = 1, j;

		for (j = 0; j < 4 && c->args[j]; j++)
			args[n++] = c->args[j];
		args[n] = NULL;
		run_argv(&r, args);
		if (r.rc)
			fail_msg("case %zu (%s): rc=%d err='%s'", i, c->args[0], r.rc, r.err);
		check_warnings(&r, c->names, i);
		res_free(&r);
	}
}

/* Every entry of the table works on the command line and in INI, warning once. */
static void test_rtpe_table_all(void **state)
{
	char path[64], arg[96], *text = NULL;
	size_t i, len = 0;
	FILE *f;
	struct res r;

	(void)state;
	for (i = 0; i < cfg_rtpe_nopts; i++) {
		const struct cfg_rtpe_opt *o = &cfg_rtpe_opts[i];
		char opt[64];
		const char *names[2] = { o->name, NULL };

		snprintf(opt, sizeof(opt), "--%s", o->name);
		if (o->takes_value)
			run(&r, "--config-file=none", opt, "1", NULL);
		else
			run(&r, "--config-file=none", opt, NULL);
		if (r.rc)
			fail_msg("%s: rc=%d err='%s'", opt, r.rc, r.err);
		check_warnings(&r, names, i);
		res_free(&r);
	}
	f = open_memstream(&text, &len);
	fprintf(f, "[sluice]\n");
	for (i = 0; i < cfg_rtpe_nopts; i++)
		fprintf(f, "%s = 1\n", cfg_rtpe_opts[i].name);
	fclose(f);
	write_file(path, text);
	free(text);
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(count_lines(r.warn), cfg_rtpe_nopts);
	res_free(&r);
}

/* The table matches `rtpengine --help` where the reference binary is installed. */
static void test_rtpe_table_matches_help(void **state)
{
	char line[512];
	unsigned seen = 0;
	FILE *p;

	(void)state;
	if (access("/usr/bin/rtpengine", X_OK))
		skip();
	p = popen("/usr/bin/rtpengine --help 2>&1", "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, "--"), *end;
		struct cfg_ref ref;

		if (!s || strncmp(line, "  -", 3))
			continue;
		s += 2;
		end = s + strcspn(s, "= \n");
		if (!cfg_lookup_long(s, (size_t)(end - s), &ref))
			fail_msg("rtpengine option --%.*s unknown to sluice", (int)(end - s), s);
		if (*end == '=' && !cfg_ref_takes_value(&ref))
			fail_msg("--%.*s should take a value", (int)(end - s), s);
		seen++;
	}
	pclose(p);
	assert_true(seen > 100);
}

/* --listen-cli: one address, a bare port on loopback, the last one wins, in INI too */
static void test_listen_cli(void **state)
{
	struct res r;
	char b[NETADDR_STRLEN], path[64], arg[96];

	(void)state;
	run(&r, "--config-file=none", NULL);
	assert_int_equal(r.cfg.listen_cli.sa.sa_family, 0);        /* default: none */
	assert_false(dump_has(&r, "listen-cli = 127.0.0.1:9900"));
	res_free(&r);
	run(&r, "--config-file=none", "-c", "9900", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.warnlen, 0);
	assert_string_equal(addr(&r.cfg.listen_cli, b), "127.0.0.1:9900");
	assert_true(dump_has(&r, "listen-cli = 127.0.0.1:9900"));
	res_free(&r);
	run(&r, "--config-file=none", "--listen-cli=9900", "--listen-cli=[::1]:9901", NULL);
	assert_string_equal(addr(&r.cfg.listen_cli, b), "[::1]:9901");
	res_free(&r);
	write_file(path, "[sluice]\nlisten-cli = 0.0.0.0:9902\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(addr(&r.cfg.listen_cli, b), "0.0.0.0:9902");
	res_free(&r);
	run(&r, arg, "--listen-cli=9903", NULL);                  /* command line wins */
	unlink(path);
	assert_string_equal(addr(&r.cfg.listen_cli, b), "127.0.0.1:9903");
	res_free(&r);
}

/* ---- errors ---- */

struct err_case {
	const char *args[4];
	const char *err;        /* exact, or prefix when it ends in '*' */
};

static const struct err_case err_cases[] = {
	{ { "--timeout=abc" }, "invalid value 'abc' for --timeout*" },
	{ { "--jitter-buffer=1001" }, "invalid value '1001' for --jitter-buffer*" },
	{ { "-o", "-5" }, "invalid value '-5' for --timeout*" },
	{ { "--timeout=" }, "invalid value '' for --timeout*" },
	{ { "-o", "12x" }, "invalid value '12x' for --timeout*" },
	{ { "-s", "99999999999999" }, "invalid value '99999999999999' for --silent-timeout*" },
	{ { "-m", "1023" }, "invalid value '1023' for --port-min*" },
	{ { "-M", "65536" }, "invalid value '65536' for --port-max*" },
	{ { "-m", "40000", "-M", "30000" }, "--port-min (40000) must be lower than --port-max (30000)" },
	{ { "-m", "30000", "-M", "30002" }, "port range 30000-30002 is too small (need at least 4 ports)" },
	{ { "-m", "30001", "-M", "30004" }, "port range 30002-30004 is too small (need at least 4 ports)" },
	{ { "--num-threads=257" }, "invalid value '257' for --num-threads*" },
	{ { "--num-threads=-1" }, "invalid value '-1' for --num-threads*" },
	{ { "-t", "256" }, "invalid value '256' for --table*" },
	{ { "--kernel=maybe" }, "invalid value 'maybe' for --kernel*" },
	{ { "--kernel=on", "--table=-1" }, "--kernel=on (or --no-fallback) needs --table >= 0*" },
	{ { "-t", "-2" }, "invalid value '-2' for --table*" },
	{ { "-T", "256" }, "invalid value '256' for --tos*" },
	{ { "-L8" }, "invalid value '8' for --log-level*" },
	{ { "--listen-cli=abc" }, "invalid value 'abc' for --listen-cli" },
	{ { "--listen-cli=127.0.0.1" }, "invalid value '127.0.0.1' for --listen-cli" },
	{ { "--log-facility=local8" }, "invalid value 'local8' for --log-facility" },
	{ { "--log-facility=user" }, "invalid value 'user' for --log-facility" },
	{ { "--endpoint-learning=always" }, "invalid value 'always' for --endpoint-learning" },
	{ { "--max-sessions=-2" }, "invalid value '-2' for --max-sessions" },
	{ { "--max-load=-1" }, "invalid value '-1' for --max-load" },
	{ { "--max-load=high" }, "invalid value 'high' for --max-load" },
	{ { "--max-cpu=" }, "invalid value '' for --max-cpu" },
	{ { "--max-cpu=50%" }, "invalid value '50%' for --max-cpu" },
	{ { "--max-bandwidth=-5" }, "invalid value '-5' for --max-bandwidth*" },
	{ { "-i", "eth0" }, "invalid value 'eth0' for --interface" },
	{ { "-i", "/10.0.0.1" }, "invalid value '/10.0.0.1' for --interface" },
	{ { "-i", "10.0.0.1!::1" }, "invalid value '10.0.0.1!::1' for --interface" },
	{ { "-i", "10.0.0.1!0.0.0.0" }, "invalid value '10.0.0.1!0.0.0.0' for --interface" },
	{ { "-i", "10.0.0.1!" }, "invalid value '10.0.0.1!' for --interface" },
	{ { "-i", "a-name-that-is-way-too-long-for-sluice/10.0.0.1" },
	  "invalid value 'a-name-that-is-way-too-long-for-sluice/10.0.0.1' for --interface" },
	{ { "-n", "abc" }, "invalid value 'abc' for --listen-ng" },
	{ { "-n", "10.0.0.1" }, "invalid value '10.0.0.1' for --listen-ng" },
	{ { "-n", "70000" }, "invalid value '70000' for --listen-ng" },
	{ { "-N", "[::1" }, "invalid value '[::1' for --listen-tcp-ng" },
	{ { "--ng-allow=10.0.0.0/33" }, "invalid value '10.0.0.0/33' for --ng-allow" },
	{ { "--ng-allow=" }, "invalid value '' for --ng-allow" },
	{ { "--ng-allow=localhost" }, "invalid value 'localhost' for --ng-allow" },
	{ { "--ng-allow=10.0.0.1:2223" }, "invalid value '10.0.0.1:2223' for --ng-allow" },
	{ { "--ng-allow=::1/129" }, "invalid value '::1/129' for --ng-allow" },
	{ { "--ng-cache-max-bytes=17G" },
	  "invalid value '17G' for --ng-cache-max-bytes (allowed: 0..16G)" },
	{ { "--ng-cache-max-bytes=-1" },
	  "invalid value '-1' for --ng-cache-max-bytes (allowed: 0..16G)" },
	{ { "--ng-cache-max-bytes=1MB" },
	  "invalid value '1MB' for --ng-cache-max-bytes (allowed: 0..16G)" },
	{ { "--ng-cache-max-bytes=99999999999999999999999" },
	  "invalid value '99999999999999999999999' for --ng-cache-max-bytes*" },
	{ { "--ng-cache-max-bytes=" }, "invalid value '' for --ng-cache-max-bytes*" },
	{ { "--ng-cache-max-bytes=K" }, "invalid value 'K' for --ng-cache-max-bytes*" },
	{ { "--ng-cache-max-entries=-1" }, "invalid value '-1' for --ng-cache-max-entries*" },
	{ { "--ng-cache-max-entries=16777217" },
	  "invalid value '16777217' for --ng-cache-max-entries*" },
	{ { "-p", "" }, NULL },     /* allowed: no pidfile */
	{ { "--bogus" }, "unknown option --bogus" },
	{ { "--bogus=1" }, "unknown option --bogus" },
	{ { "-Z" }, "unknown option -Z" },
	{ { "-fZ" }, "unknown option -Z" },
	{ { "--listen" }, "unknown option --listen" },
	{ { "-o" }, "option --timeout requires a value" },
	{ { "--timeout" }, "option --timeout requires a value" },
	{ { "--redis" }, "option --redis requires a value" },
	{ { "--foreground=yes" }, "option --foreground takes no value" },
	{ { "--codecs=1" }, "option --codecs takes no value" },
	{ { "stray" }, "unexpected argument 'stray'" },
	{ { "--", "stray" }, "unexpected argument 'stray'" },
	{ { "-" }, "unexpected argument '-'" },
	{ { "--config-file=/nonexistent/sluice.conf" },
	  "config file /nonexistent/sluice.conf: cannot open: No such file or directory" },
};

static bool err_matches(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n && want[n - 1] == '*')
		return !strncmp(got, want, n - 1);
	return !strcmp(got, want);
}

static void test_errors_cmdline(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		const char *args[8];
		struct res r;
		int n = 0, j;

		/* config-file first so that the last case overrides it */
		args[n++] = "--config-file=none";
		for (j = 0; j < 4 && c->args[j]; j++)
			args[n++] = c->args[j];
		args[n] = NULL;
		run_argv(&r, args);
		if (!c->err) {
			if (r.rc)
				fail_msg("case %zu: unexpected error '%s'", i, r.err);
		} else if (r.rc != -1 || !err_matches(r.err, c->err)) {
			fail_msg("case %zu: rc=%d err='%s', want '%s'", i, r.rc, r.err, c->err);
		}
		if (c->err && strchr(r.err, '\n'))
			fail_msg("case %zu: newline in error '%s'", i, r.err);
		res_free(&r);
	}
}

static void test_too_many(void **state)
{
	const char *args[2 * CFG_MAX_INTERFACES + 4] = { "--config-file=none" };
	char vals[CFG_MAX_INTERFACES + 1][32];
	struct res r;
	int n = 1, i;

	(void)state;
	for (i = 0; i <= CFG_MAX_LISTEN; i++) {
		snprintf(vals[i], sizeof(vals[i]), "127.0.0.1:%d", 3000 + i);
		args[n++] = "-n";
		args[n++] = vals[i];
	}
	args[n] = NULL;
	run_argv(&r, args);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "too many --listen-ng addresses (max 8)");
	res_free(&r);

	n = 1;
	for (i = 0; i <= CFG_MAX_INTERFACES; i++) {
		snprintf(vals[i], sizeof(vals[i]), "10.0.0.%d", i + 1);
		args[n++] = "-i";
		args[n++] = vals[i];
	}
	args[n] = NULL;
	run_argv(&r, args);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "too many --interface values (max 16)");
	res_free(&r);
}

/* INI content -> expected error; "@" in the expectation stands for the file path. */
struct ini_err_case {
	const char *text;
	const char *err;
	const char *args[2];    /* extra command-line arguments */
};

static const struct ini_err_case ini_err_cases[] = {
	{ "[sluice]\ntimeout = abc\n", "config file @ line 2: invalid value 'abc' for timeout*" },
	{ "[sluice]\n\n# x\ntable = 999\n", "config file @ line 4: invalid value '999' for table*" },
	{ "[sluice]\nforeground = maybe\n", "config file @ line 2: invalid value 'maybe' for foreground" },
	{ "[sluice]\nbogus = 1\n", "config file @ line 2: unknown option bogus" },
	{ "[sluice]\ninterface = 10.0.0.1;nope\n",
	  "config file @ line 2: invalid value 'nope' for interface" },
	{ "[sluice]\ninterface = ;\n", "config file @ line 2: invalid value ';' for interface" },
	{ "[sluice]\nlisten-ng =\n", "config file @ line 2: invalid value '' for listen-ng" },
	{ "[sluice]\nng-allow = 10.0.0.0/8;10.0.0.0/99\n",
	  "config file @ line 2: invalid value '10.0.0.0/99' for ng-allow" },
	{ "[sluice]\nng-cache-max-bytes = lots\n",
	  "config file @ line 2: invalid value 'lots' for ng-cache-max-bytes*" },
	{ "[sluice]\nconfig-file = /x\n",
	  "config file @ line 2: option config-file is only valid on the command line" },
	{ "[sluice]\nhelp = 1\n", "config file @ line 2: option help is only valid on the command line" },
	{ "[sluice\ntimeout = 1\n", "config file @ line 1: malformed section header" },
	{ "[sluice] x\n", "config file @ line 1: malformed section header" },
	{ "[ ]\n", "config file @ line 1: empty section name" },
	{ "[sluice]\ntimeout\n", "config file @ line 2: expected 'key = value'" },
	{ "[sluice]\n = 5\n", "config file @ line 2: missing key before '='" },
	{ "timeout = 5\n[sluice]\n", "config file @ line 1: key 'timeout' outside of a [section]" },
	/* syntax is checked in sections that are otherwise ignored too */
	{ "[sluice]\n[other]\nfoo\n", "config file @ line 3: expected 'key = value'" },
	{ "[other]\ntimeout = 5\n", "config file @: no [sluice] or [rtpengine] section" },
	{ "[sluice]\n", "config file @: section [mine] not found", { "--config-section=mine" } },
	{ "[sluice]\nport-min = 40000\nport-max = 30000\n",
	  "--port-min (40000) must be lower than --port-max (30000)" },
};

static void test_errors_ini(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ini_err_cases) / sizeof(ini_err_cases[0]); i++) {
		const struct ini_err_case *c = &ini_err_cases[i];
		char path[64], arg[96], want[256], *at;
		struct res r;

		write_file(path, c->text);
		snprintf(arg, sizeof(arg), "--config-file=%s", path);
		run(&r, arg, c->args[0], NULL);
		unlink(path);
		at = strchr(c->err, '@');
		if (at)
			snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - c->err), c->err, path,
				 at + 1);
		else
			snprintf(want, sizeof(want), "%s", c->err);
		if (r.rc != -1 || !err_matches(r.err, want))
			fail_msg("case %zu: rc=%d err='%s', want '%s'", i, r.rc, r.err, want);
		res_free(&r);
	}
}

/* ---- INI syntax and sections ---- */

static void test_ini_syntax(void **state)
{
	struct res r;
	char path[64], arg[96];

	(void)state;
	write_file(path, "# comment\n"
		   "; another comment\n"
		   "\n"
		   "   [sluice]   \r\n"
		   "\ttimeout\t=\t77 \r\n"
		   "  # indented comment\n"
		   "pidfile = /run/a#b;c.pid\n"         /* no inline comments, as GKeyFile */
		   "[other]\n"
		   "timeout = 1\n"
		   "whatever-key = ignored in other sections\n"
		   "[sluice]\n"                          /* a section may reopen */
		   "delete-delay = 5\n"
		   "pidfile =\n"                         /* empty: no pidfile */
		   "pidfile = /run/final.pid\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.warnlen, 0);
	assert_int_equal(r.cfg.timeout, 77);
	assert_int_equal(r.cfg.delete_delay, 5);
	assert_string_equal(r.cfg.pidfile, "/run/final.pid");
	res_free(&r);

	write_file(path, "# only comments\n\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.timeout, 60);
	res_free(&r);
}

static void test_sections(void **state)
{
	struct res r;
	char path[64], arg[96];

	(void)state;
	/* [rtpengine] is used when there is no [sluice] */
	write_file(path, "[rtpengine]\ntimeout = 11\n[other]\ntimeout = 12\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.timeout, 11);
	assert_string_equal(r.cfg.config_section, "rtpengine");
	res_free(&r);
	/* an explicit section */
	run(&r, arg, "--config-section=other", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.timeout, 12);
	assert_string_equal(r.cfg.config_section, "other");
	res_free(&r);
	/* explicit --config-section=sluice does not fall back */
	run(&r, arg, "--config-section", "sluice", NULL);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "section [sluice] not found"));
	res_free(&r);
	unlink(path);

	/* [sluice] wins over [rtpengine] */
	write_file(path, "[rtpengine]\ntimeout = 11\nbogus = 1\n[sluice]\ntimeout = 13\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.timeout, 13);
	assert_string_equal(r.cfg.config_section, "sluice");
	res_free(&r);
}

/* Debian 12's /etc/rtpengine/rtpengine.conf (rtpengine-daemon 10.5.3.5), verbatim. */
static const char debian_conf[] =
	"[rtpengine]\n\ntable = 0\n# no-fallback = false\n### for userspace forwarding only:\n"
	"# table = -1\n\n### a single interface:\n# interface = 123.234.345.456\n"
	"### separate multiple interfaces with semicolons:\n"
	"# interface = internal/12.23.34.45;external/23.34.45.54\n"
	"### for different advertised address:\n# interface = 12.23.34.45!23.34.45.56\n\n"
	"interface = any\n\n\n\nlisten-ng = localhost:2223\n# listen-tcp = 25060\n"
	"# listen-udp = 12222\n\n### interface for HTTP, WS and Prometheus\n"
	"# listen-http = 9101\nlisten-http = localhost:2225\n\n"
	"# listen-https = localhost:2226\n# https-cert =\n# https-key =\n\n"
	"listen-cli = localhost:2224\n\ntimeout = 60\nsilent-timeout = 3600\ntos = 184\n"
	"# control-tos = 184\n# delete-delay = 30\n# final-timeout = 10800\n"
	"# endpoint-learning = heuristic\n# reject-invalid-sdp = false\n\n"
	"# foreground = false\n# pidfile = /run/ngcp-rtpengine-daemon.pid\n"
	"# num-threads = 16\n# num-media-threads = 8\n# http-threads = 4\n\n"
	"port-min = 30000\nport-max = 40000\n# max-sessions = 5000\n\n"
	"# software-id = rtpengine\n# max-load = 5\n# max-cpu = 90\n"
	"# max-bandwidth = 10000000\n# scheduling = default\n# priority = -3\n"
	"# idle-scheduling = idle\n# idle-priority = 10\n\n"
	"recording-dir = /var/spool/rtpengine\nrecording-method = proc\n"
	"# recording-format = raw\n\n# redis = 127.0.0.1:6379/5\n"
	"# redis-write = password@12.23.34.45:6379/42\n# redis-num-threads = 8\n"
	"# no-redis-required = false\n# redis-expires = 86400\n"
	"# redis-allowed-errors = -1\n# redis-disable-time = 10\n"
	"# redis-cmd-timeout = 0\n# redis-connect-timeout = 1000\n\n"
	"# b2b-url = http://127.0.0.1:8090/\n# xmlrpc-format = 0\n# janus-secret = ABC123\n\n"
	"# log-level = 6\n# log-stderr = false\n# log-facility = daemon\n"
	"# log-facility-cdr = local0\n# log-facility-rtcp = local1\n# debug-srtp = false\n"
	"# log-srtp-keys = false\n# dtls-cert-cipher = prime256v1\n# dtls-rsa-key-size = 2048\n"
	"# dtls-mtu = 1200\n# dtls-signature = sha-256\n"
	"# dtls-ciphers = DEFAULT:!NULL:!aNULL:!SHA256:!SHA384:!aECDH:!AESGCM+AES256:!aPSK\n\n"
	"# graphite = 127.0.0.1:9006\n# graphite-interval = 60\n# graphite-prefix = foobar.\n\n"
	"# homer = 123.234.345.456:65432\n# homer-protocol = udp\n# homer-id = 2001\n\n"
	"# mysql-host = localhost\n# mysql-port = 3306\n# mysql-user = mysql\n"
	"# myser-pass = mysql\n# mysql-query = select data from voip.files where id = %llu\n\n"
	"# dtx-delay = 50\n# max-dtx = 600\n# dtx-buffer = 5\n# dtx-lag = 100\n"
	"# dtx-shift = 0\n# amr-dtx = native\n# dtx-cn-params = 60\n# silence-detect = 0.05\n"
	"# cn-payload = 60\n\n# sip-source = false\n# dtls-passive = false\n\n"
	"# mqtt-host = localhost\n# mqtt-port = 1883\n# mqtt-id =\n# mqtt-user = foo\n"
	"# mqtt-pass = bar\n# mqtt-capath =\n# mqtt-cafile =\n# mqtt-certfile =\n"
	"# mqtt-keyfile =\n# mqtt-publish-qos = 0\n# mqtt-publish-topic = rtpengine\n"
	"# mqtt-publish-interval = 5000\n# mqtt-publish-scope = media\n\n# mos = CQ\n"
	"# poller-per-thread = false\n# socket-cpu-affinity = -1\n\n"
	"[rtpengine-testing]\ntable = -1\ninterface = 10.15.20.121\nlisten-ng = 2223\n"
	"foreground = true\nlog-stderr = true\nlog-level = 7\n";

static void test_debian_rtpengine_conf(void **state)
{
	struct res r;
	char path[64], arg[96], b[NETADDR_STRLEN];

	(void)state;
	write_file(path, debian_conf);
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.cfg.config_section, "rtpengine");
	assert_int_equal(r.cfg.table, 0);
	assert_int_equal(r.cfg.tos, 184);
	assert_int_equal(r.cfg.timeout, 60);
	assert_int_equal(r.cfg.silent_timeout, 3600);
	assert_int_equal(r.cfg.port_min, 30000);
	assert_int_equal(r.cfg.port_max, 40000);
	assert_int_equal(r.cfg.n_listen_ng, 1);
	assert_string_equal(addr(&r.cfg.listen_ng[0], b), "127.0.0.1:2223");
	assert_int_equal(r.cfg.n_interfaces, 1);
	assert_true(netaddr_is_any(&r.cfg.interfaces[0].local));
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[0].advertised, b, sizeof(b)),
			    "127.0.0.1");
	assert_string_equal(addr(&r.cfg.listen_cli, b), "127.0.0.1:2224");   /* localhost:2224 */
	assert_int_equal(r.cfg.n_listen_http, 1);
	assert_string_equal(addr(&r.cfg.listen_http[0], b), "127.0.0.1:2225");
	/* recording-method proc and the "any" interface: two warnings, nothing else */
	assert_non_null(strstr(r.warn, "sluiced: warning: interface 'any' binds to all"));
	assert_non_null(strstr(r.warn, "sluiced: warning: recording-method 'proc' "));
	assert_string_equal(r.cfg.recording_dir, "/var/spool/rtpengine");
	assert_true(r.cfg.recording_proc);
	assert_int_equal(count_lines(r.warn), 2);
	res_free(&r);

	run(&r, arg, "--config-section=rtpengine-testing", NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.warnlen, 0);
	assert_int_equal(r.cfg.table, -1);
	assert_true(r.cfg.foreground);
	assert_true(r.cfg.log_stderr);
	assert_int_equal(r.cfg.log_level, 7);
	assert_string_equal(addr(&r.cfg.listen_ng[0], b), "0.0.0.0:2223");
	assert_string_equal(netaddr_ntop(&r.cfg.interfaces[0].local, b, sizeof(b)),
			    "10.15.20.121");
	res_free(&r);
}

/* ---- dump round trip, --help, --version ---- */

static void test_dump_roundtrip(void **state)
{
	struct res a, b;
	char path[64], arg[96];

	(void)state;
	run(&a, "--config-file=none", "-n", "[::1]:2300", "-n", "127.0.0.1:2301",
	    "-N", "127.0.0.1:2302", "-i", "x/10.0.0.1!192.0.2.1", "-i", "y/2001:db8::1",
	    "-m", "20001", "-M", "20100", "-o", "9", "-s", "8", "-a", "7", "--offer-timeout=6",
	    "-d", "5", "--num-threads=3", "--max-sessions=2", "-t", "1", "-F", "-T", "46",
	    "--endpoint-learning=off", "-f", "-p", "/run/p.pid", "-L2", "-E",
	    "--log-facility=local7", "-c", "[::1]:9900", NULL);
	assert_int_equal(a.rc, 0);
	write_file(path, a.dump);
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&b, arg, NULL);
	unlink(path);
	assert_int_equal(b.rc, 0);
	assert_string_equal(a.dump, b.dump);
	assert_true(dump_has(&a, "port-min = 20002"));
	assert_true(dump_has(&a, "interface = x/10.0.0.1!192.0.2.1;y/2001:db8::1!2001:db8::1"));
	res_free(&a);
	res_free(&b);
}

/* Runs config_load in a child (--help/--version exit); returns its stdout. */
static char *run_child(const char *opt, int *status)
{
	static char out[8192];
	int fds[2];
	ssize_t n, len = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char *argv[] = { (char *)"sluiced", (char *)opt, (char *)"--bogus", NULL };
		struct config cfg;
		char err[256];

		dup2(fds[1], 1);
		close(fds[0]);
		config_load(&cfg, 3, argv, err, sizeof(err));
		_exit(3);       /* not reached when --help/--version exit */
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - (size_t)len)) > 0)
		len += n;
	out[len] = '\0';
	close(fds[0]);
	waitpid(pid, status, 0);
	return out;
}

static void test_help_version(void **state)
{
	static const char *const names[] = { "--version", "-v" };
	int status, i;
	char *out;

	(void)state;
	for (i = 0; i < 2; i++) {
		out = run_child(names[i], &status);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_string_equal(out, "sluiced " SLUICE_VERSION "\n");
	}
	out = run_child("-h", &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, "Usage: sluiced"));
	assert_non_null(strstr(out, "-n, --listen-ng="));
	assert_non_null(strstr(out, "--endpoint-learning=heuristic|delayed|immediate|off"));
	assert_non_null(strstr(out, "-r, --redis=[PASSWORD@]IP:PORT/DB"));
	assert_non_null(strstr(out, "-k, --subscribe-keyspace=DB"));
	assert_null(strstr(out, "--graphite"));
	assert_string_equal(SLUICE_VERSION, "0.1.0");
}

/* --redis URLs: password, address, database; bad forms refused */
static void test_redis_url(void **state)
{
	static const struct { const char *s; int ok; const char *pw; const char *addr; unsigned db; }
	cases[] = {
		{ "127.0.0.1:6379", 1, "", "127.0.0.1:6379", 0 },
		{ "127.0.0.1:6379/3", 1, "", "127.0.0.1:6379", 3 },
		{ "s3cr@t@10.0.0.1:7000/15", 1, "s3cr@t", "10.0.0.1:7000", 15 },
		{ "[::1]:6380/1", 1, "", "[::1]:6380", 1 },
		{ "127.0.0.1", 0, "", "", 0 },                  /* no port */
		{ "127.0.0.1:6379/16", 0, "", "", 0 },          /* no such database */
		{ "127.0.0.1:6379/", 0, "", "", 0 },
		{ "127.0.0.1:6379/x", 0, "", "", 0 },
		{ "0.0.0.0:6379", 0, "", "", 0 },
		{ "pw@", 0, "", "", 0 },
		{ "redis.example:6379", 0, "", "", 0 },         /* no DNS */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_redis r;
		char a[NETADDR_STRLEN];
		int e = config_redis_parse(cases[i].s, &r);

		if (!cases[i].ok) {
			assert_int_equal(e, -EINVAL);
			continue;
		}
		assert_int_equal(e, 0);
		assert_string_equal(r.password, cases[i].pw);
		assert_string_equal(netaddr_str(&r.addr, a, sizeof(a)), cases[i].addr);
		assert_int_equal(r.db, cases[i].db);
	}
}

/* the Redis options from the INI file, the command line over it, the dump */
static void test_redis_options(void **state)
{
	char path[64], arg[96], a[NETADDR_STRLEN];
	struct res r;

	(void)state;
	run(&r, "--config-file=none", NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cfg.redis.addr.sa.sa_family, 0);
	assert_int_equal(r.cfg.redis_expires, 86400);
	assert_true(r.cfg.redis_instance[0] != '\0');          /* the host name */
	res_free(&r);
	write_file(path, "[sluice]\nredis = pw@127.0.0.1:6399/4\nredis-expires = 60\n"
		   "redis-instance = relay-x\nredis-num-threads = 4\n");
	snprintf(arg, sizeof(arg), "--config-file=%s", path);
	run(&r, arg, "-w", "10.0.0.1:7000", NULL);
	unlink(path);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.warn, "");
	assert_string_equal(addr(&r.cfg.redis.addr, a), "127.0.0.1:6399");
	assert_string_equal(r.cfg.redis.password, "pw");
	assert_int_equal(r.cfg.redis.db, 4);
	assert_string_equal(addr(&r.cfg.redis_write.addr, a), "10.0.0.1:7000");
	assert_int_equal(r.cfg.redis_write.db, 0);
	assert_int_equal(r.cfg.redis_expires, 60);
	assert_int_equal(r.cfg.redis_num_threads, 4);
	assert_string_equal(r.cfg.redis_instance, "relay-x");
	assert_true(dump_has(&r, "redis = pw@127.0.0.1:6399/4"));
	assert_true(dump_has(&r, "redis-write = 10.0.0.1:7000/0"));
	assert_true(dump_has(&r, "redis-instance = relay-x"));
	res_free(&r);
	run(&r, "--config-file=none", "--redis=127.0.0.1", NULL);
	assert_int_equal(r.rc, -1);
	res_free(&r);
	run(&r, "--config-file=none", "--redis-expires=0", NULL);
	assert_int_equal(r.rc, -1);
	res_free(&r);
	run(&r, "--config-file=none", "--redis-instance=a*", NULL);       /* a SCAN glob */
	assert_int_equal(r.rc, -1);
	res_free(&r);
	run(&r, "--config-file=none", "--redis-instance=a:b", NULL);
	assert_int_equal(r.rc, -1);
	res_free(&r);
}

/* --subscribe-keyspace: repeatable, lists, 0-15, only with --redis */
static void test_subscribe_keyspace(void **state)
{
	static const struct { const char *a, *b; int rc; uint16_t mask; } cases[] = {
		{ "--subscribe-keyspace=1", NULL, 0, 1u << 1 },
		{ "-k", "0", 0, 1u << 0 },
		{ "--subscribe-keyspace=1;2", "--subscribe-keyspace=15", 0, 0x8006 },
		{ "--subscribe-keyspace=3,4 5", NULL, 0, 0x38 },
		{ "--subscribe-keyspace=16", NULL, -1, 0 },
		{ "--subscribe-keyspace=", NULL, -1, 0 },
		{ "--subscribe-keyspace=1x", NULL, -1, 0 },
		{ "--subscribe-keyspace=-1", NULL, -1, 0 },
	};
	struct res r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&r, "--config-file=none", "--redis=127.0.0.1:6379", cases[i].a, cases[i].b,
		    NULL);
		if (r.rc != cases[i].rc || (!r.rc && r.cfg.subscribe_keyspace != cases[i].mask))
			fail_msg("case %zu: rc %d mask %#x", i, r.rc, r.cfg.subscribe_keyspace);
		if (!r.rc && cases[i].mask == 0x8006 && (!dump_has(&r, "subscribe-keyspace = 1") ||
		    !dump_has(&r, "subscribe-keyspace = 15")))
			fail_msg("case %zu: dump", i);
		res_free(&r);
	}
	run(&r, "--config-file=none", "--subscribe-keyspace=1", NULL);     /* no --redis */
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "needs --redis"));
	res_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_redis_url),
		cmocka_unit_test(test_redis_options),
		cmocka_unit_test(test_subscribe_keyspace),
		cmocka_unit_test(test_default_file_optional),
		cmocka_unit_test(test_options_cmdline),
		cmocka_unit_test(test_options_ini),
		cmocka_unit_test(test_repeatable_cmdline),
		cmocka_unit_test(test_ini_lists),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_list_defaults_only_when_empty),
		cmocka_unit_test(test_ng_allow),
		cmocka_unit_test(test_any_interface),
		cmocka_unit_test(test_listen_cli),
		cmocka_unit_test(test_rtpe_options_cmdline),
		cmocka_unit_test(test_rtpe_table_all),
		cmocka_unit_test(test_rtpe_table_matches_help),
		cmocka_unit_test(test_errors_cmdline),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_errors_ini),
		cmocka_unit_test(test_ini_syntax),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_debian_rtpengine_conf),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_help_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
