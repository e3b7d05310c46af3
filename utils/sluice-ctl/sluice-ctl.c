/* sluice-ctl: control a running sluiced over its CLI socket (--listen-cli).
 *
 * It speaks the same protocol as rtpengine-ctl (one request line per TCP connection,
 * the reply until the daemon closes) and sends sluice's "json ..." commands, whose JSON
 * replies it prints as tables (render.c) or, with --json, as they are.
 *
 * Exit status: 0 ok, 1 the daemon answered with an error (unknown call-id...), 2 usage,
 * connection, timeout or an undecodable reply (one line on stderr). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "sluice/version.h"
#include "sluice/netaddr.h"
#include "sluice/strbuf.h"
#include "sluice_ctl.h"

#define CLI_DEFAULT_PORT 9900
#define DEFAULT_CONFIG   "/etc/sluice/sluice.conf"
#define MAX_REPLY        (256u << 20)
#define EXIT_ERR_RESULT  1
#define EXIT_FAIL        2

/* GNU style, so that help2man makes the man page of it (make man). */
static const char usage_text[] =
"Usage: sluice-ctl [-s [IP:]PORT] [-c FILE] [-j] [-t SECS] COMMAND [ARG]\n"
"Inspect and control a running sluiced through its control CLI (--listen-cli), the\n"
"socket rtpengine-ctl also talks to. Prints human tables, or the daemon's JSON with\n"
"--json.\n"
"\n"
"Commands:\n"
"  list                 calls: age, state, parties, codecs, MOS, forwarding (kernel\n"
"                       or userspace, and why not in the kernel)\n"
"  show CALLID          one call: every party, media and stream with its endpoints,\n"
"                       counters, quality (loss, jitter, RTT, MOS) and why it is not\n"
"                       in the kernel\n"
"  totals               the daemon's statistics (as NG 'statistics')\n"
"  interfaces           media interfaces and their ports used and free\n"
"  terminate CALLID     end a call now and free its ports\n"
"  terminate all        end every call\n"
"  loglevel [0-7]       print, or set, the daemon's log level (syslog levels)\n"
"  raw WORD...          send an rtpengine-ctl command as is, print the text reply\n"
"                       (e.g. raw list totals)\n"
"\n"
"Options:\n"
"  -s, --server=[IP:]PORT   the CLI address; a bare PORT is 127.0.0.1. Default: the\n"
"                           listen-cli of the config file, else 127.0.0.1:9900\n"
"  -c, --config-file=FILE   where to look for listen-cli ([sluice] section, else\n"
"                           [rtpengine]); default " DEFAULT_CONFIG "\n"
"  -j, --json               print the JSON reply (pretty) instead of tables\n"
"  -t, --timeout=SECS       give up after this long (default 5)\n"
"  -h, --help               this text\n"
"      --version            print the version\n"
"\n"
"Exit status:\n"
"  0 done; 1 the daemon refused (e.g. unknown call-id); 2 usage, connection,\n"
"  timeout or an undecodable reply.\n"
"\n"
"Examples:\n"
"  sluice-ctl -s 9900 list\n"
"  sluice-ctl show 'a84b4c76e66710@pc33.example.com'\n"
"  sluice-ctl --json totals | jq .statistics.currentstatistics\n"
"  sluice-ctl loglevel 7\n";

struct opts {
	const char *server;
	const char *config;
	bool json;
	int timeout_ms;
};

static void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sluice-ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

/* listen-cli from the config file: [sluice] first, else [rtpengine] (as sluiced). */
static bool config_listen(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	char line[512], sect[64] = "";
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *eq, *v, *e;

		if (*p == '[') {
			snprintf(sect, sizeof(sect), "%.*s", (int)strcspn(p + 1, "]"), p + 1);
			continue;
		}
		if ((strcmp(sect, "sluice") && strcmp(sect, "rtpengine")) ||
		    strncmp(p, "listen-cli", 10) || !(eq = strchr(p, '=')))
			continue;
		if (strspn(p + 10, " \t") != (size_t)(eq - p - 10))
			continue;
		v = eq + 1 + strspn(eq + 1, " \t");
		for (e = v + strlen(v); e > v && strchr(" \t\r\n", e[-1]); e--)
			;
		if (found && strcmp(sect, "sluice"))
			continue;       /* [sluice] already gave it */
		snprintf(out, outlen, "%.*s", (int)(e - v), v);
		found = true;
	}
	fclose(f);
	return found;
}

static int connect_to(const struct opts *o)
{
	char from_cfg[256], shown[NETADDR_STRLEN];
	const char *spec = o->server;
	union sockaddr_u a;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	if (!spec)
		spec = config_listen(o->config, from_cfg, sizeof(from_cfg)) ? from_cfg :
		       "127.0.0.1";
	if (netaddr_parse(spec, CLI_DEFAULT_PORT, true, &a) || !netaddr_port(&a))
		fail("bad server address '%s' (want [IP:]PORT)", spec);
	if (netaddr_is_any(&a)) {       /* listening on all addresses: ask over loopback */
		uint16_t port = netaddr_port(&a);
		bool v6 = a.sa.sa_family == AF_INET6;

		netaddr_parse_ip(v6 ? "::1" : "127.0.0.1", v6 ? 3 : 9, 0, &a);
		netaddr_set_port(&a, port);
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	netaddr_str(&a, shown, sizeof(shown));
	if (connect(fd, &a.sa, netaddr_len(&a)) && errno != EINPROGRESS)
		fail("cannot connect to sluiced's CLI at %s: %s", shown, strerror(errno));
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, o->timeout_ms) != 1)
		fail("cannot connect to sluiced's CLI at %s: timeout", shown);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err)
		fail("cannot connect to sluiced's CLI at %s: %s", shown, strerror(err));
	return fd;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request line out, the whole reply (until the daemon closes) in. */
static void request(const struct opts *o, const char *line, struct strbuf *reply)
{
	int fd = connect_to(o);
	int64_t deadline = ms_now() + o->timeout_ms;
	size_t off = 0, len = strlen(line);

	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - ms_now())) != 1)
			fail("timeout sending the request");
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			fail("send: %s", strerror(errno));
		off += n > 0 ? (size_t)n : 0;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[65536];
		int left = (int)(deadline - ms_now());
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1)
			fail("timeout waiting for the reply (is it sluiced's --listen-cli?)");
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN)
			fail("recv: %s", strerror(errno));
		if (n > 0 && (sb_append(reply, buf, (size_t)n) || reply->len > MAX_REPLY))
			fail("reply too large");
	}
	close(fd);
}

/* "json list" etc. from the command words; raw passes them through. */
static void build_line(int argc, char **argv, struct strbuf *line, bool *raw)
{
	static const struct { const char *cmd; int min, max; } cmds[] = {
		{ "list", 0, 0 }, { "show", 1, 1 }, { "totals", 0, 0 }, { "interfaces", 0, 0 },
		{ "terminate", 1, 1 }, { "loglevel", 0, 1 },
	};
	int nargs = argc - 1;

	*raw = !strcmp(argv[0], "raw");
	if (*raw) {
		if (nargs < 1)
			fail("raw needs a command, e.g. 'raw list totals'");
	} else {
		size_t i;

		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[0], cmds[i].cmd))
				break;
		if (i == sizeof(cmds) / sizeof(cmds[0]))
			fail("unknown command '%s' (see --help)", argv[0]);
		if (nargs < cmds[i].min || nargs > cmds[i].max)
			fail("wrong number of arguments for '%s' (see --help)", argv[0]);
		sb_puts(line, "json ");
	}
	for (int i = *raw; i < argc; i++) {
		if (strpbrk(argv[i], " \t\r\n"))
			fail("argument '%s' contains a blank or a line end", argv[i]);
		sb_printf(line, "%s%s", i > *raw ? " " : "", argv[i]);
	}
	sb_putc(line, '\n');
}

static int print_reply(const struct opts *o, const char *cmd, struct strbuf *reply)
{
	json_object *j = json_tokener_parse(reply->buf ? reply->buf : "");
	json_object *res = NULL;
	int rc;

	if (!j || !json_object_is_type(j, json_type_object))
		fail("undecodable reply (is it sluiced's --listen-cli?): %.200s",
		     reply->buf ? reply->buf : "");
	json_object_object_get_ex(j, "result", &res);
	rc = res && !strcmp(json_object_get_string(res), "ok") ? 0 : EXIT_ERR_RESULT;
	if (o->json) {
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (rc) {
		json_object *why = NULL;

		json_object_object_get_ex(j, "error-reason", &why);
		fprintf(stderr, "sluice-ctl: %s\n", why ? json_object_get_string(why) : "failed");
	} else {
		ctl_render(cmd, j, stdout);
	}
	json_object_put(j);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "config-file", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .config = DEFAULT_CONFIG, .timeout_ms = 5000 };
	struct strbuf line, reply;
	bool raw;
	int c, rc;
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("sluice-ctl %s\n", SLUICE_VERSION);
		return 0;
	}

	while ((c = getopt_long(argc, argv, "+s:c:jt:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 'c': o.config = optarg; break;
		case 'j': o.json = true; break;
		case 't':
			o.timeout_ms = atoi(optarg) * 1000;
			if (o.timeout_ms <= 0)
				fail("bad timeout '%s'", optarg);
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return EXIT_FAIL;
		}
	}
	if (optind >= argc) {
		fputs("usage: sluice-ctl [-s [IP:]PORT] [-j] COMMAND [ARG]   (see --help)\n", stderr);
		return EXIT_FAIL;
	}
	sb_init(&line);
	sb_init(&reply);
	build_line(argc - optind, argv + optind, &line, &raw);
	request(&o, line.buf, &reply);
	if (raw) {
		fwrite(reply.buf ? reply.buf : "", 1, reply.len, stdout);
		rc = 0;
	} else {
		rc = print_reply(&o, argv[optind], &reply);
	}
	sb_free(&line);
	sb_free(&reply);
	return rc;
}
