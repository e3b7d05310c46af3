/* sluice-ng: send one NG command to sluiced (or rtpengine) and print the reply as JSON.
 *
 * Exit status: 0 result ok/pong, 1 any other result (the reply is still printed),
 * 2 usage, network, timeout or undecodable reply (one line on stderr). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sluice/version.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "sluice/netaddr.h"
#include "sluice/ngwire.h"
#include "sluice/strbuf.h"

#define NG_DEFAULT_PORT  2223
#define SDP_MAX          (1024 * 1024)
#define EXIT_RESULT_ERR  1
#define EXIT_FAIL        2

struct opts {
	const char *server;
	bool json;
	bool compact;
	int timeout_ms;
	int retries;
	const char *command;
	const char *raw;            /* JSON text of "raw" */
	bool raw_verbatim;          /* raw and no request options: send raw as is */
};

enum {
	O_SERVER = 256, O_JSON, O_COMPACT, O_TIMEOUT, O_RETRIES, O_HELP,
	O_STR, O_LIST, O_SDP, O_SDP_FILE, O_INT, O_RECEIVED_FROM, O_SET, O_SET_INT,
};

/* Request options: the NG key is the option name itself. */
static const struct option longopts[] = {
	{ "server", required_argument, NULL, O_SERVER },
	{ "json", no_argument, NULL, O_JSON },
	{ "compact", no_argument, NULL, O_COMPACT },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "help", no_argument, NULL, O_HELP },
	{ "call-id", required_argument, NULL, O_STR },
	{ "from-tag", required_argument, NULL, O_STR },
	{ "to-tag", required_argument, NULL, O_STR },
	{ "via-branch", required_argument, NULL, O_STR },
	{ "ICE", required_argument, NULL, O_STR },
	{ "transport-protocol", required_argument, NULL, O_STR },
	{ "media-address", required_argument, NULL, O_STR },
	{ "address-family", required_argument, NULL, O_STR },
	{ "label", required_argument, NULL, O_STR },
	{ "flag", required_argument, NULL, O_LIST },
	{ "replace", required_argument, NULL, O_LIST },
	{ "direction", required_argument, NULL, O_LIST },
	{ "rtcp-mux", required_argument, NULL, O_LIST },
	{ "sdp", required_argument, NULL, O_SDP },
	{ "sdp-file", required_argument, NULL, O_SDP_FILE },
	{ "delete-delay", required_argument, NULL, O_INT },
	{ "received-from", required_argument, NULL, O_RECEIVED_FROM },
	{ "set", required_argument, NULL, O_SET },
	{ "set-int", required_argument, NULL, O_SET_INT },
	{ NULL, 0, NULL, 0 },
};

/* GNU style, so that help2man makes the man page of it (make man). */
static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice-ng [GLOBAL OPTION...] COMMAND [REQUEST OPTION...]\n"
"  or:  sluice-ng [GLOBAL OPTION...] raw 'JSON-DICT' [REQUEST OPTION...]\n"
"Send one NG request to sluiced (or rtpengine) and print the reply as JSON.\n"
"COMMAND is ping, offer, answer, delete, query, list, statistics, capture,\n"
"'start recording', 'stop recording', 'pause recording', or any word (sent as is).\n"
"\n"
"Global options:\n"
"  --server=IP:PORT         the relay's NG address (default 127.0.0.1:%d)\n"
"  --json                   send the request as JSON instead of bencode\n"
"  --compact                print the reply on one line\n"
"  --timeout=MS             wait this long for a reply before retransmitting\n"
"                           (default 1000)\n"
"  --retries=N              retransmissions with the same cookie (default 0)\n"
"  --help                   this text\n"
"  --version                print the version\n"
"\n"
"Request options (each becomes the NG key of its name):\n"
"  --call-id=X, --from-tag=X, --to-tag=X, --via-branch=X, --label=X\n"
"                           the call and the side\n"
"  --sdp=TEXT|-             the SDP (- reads standard input)\n"
"  --sdp-file=FILE|-        the SDP from a file\n"
"  --flag=F                 an entry of \"flags\" (repeatable)\n"
"  --replace=X, --direction=X, --rtcp-mux=X\n"
"                           an entry of that list (repeatable)\n"
"  --ICE=X, --transport-protocol=X, --media-address=X, --address-family=X\n"
"                           that key as a string\n"
"  --delete-delay=N         an integer key\n"
"  --received-from='IP4 ADDRESS'\n"
"                           the SIP source, as [family, address]\n"
"  --set=KEY=VALUE          any other string key\n"
"  --set-int=KEY=N          any other integer key\n"
"\n"
"Exit status:\n"
"  0 result ok or pong; 1 another result (error, load limit); 2 usage, network,\n"
"  timeout or an undecodable reply.\n",
		NG_DEFAULT_PORT);
}

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fputs("sluice-ng: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

static long parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s: bad number '%s'", what, s);
	return v;
}

/* Whole file or stdin ("-") into sb, capped at SDP_MAX. */
static void read_all(const char *path, struct strbuf *sb)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char buf[8192];
	size_t n;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (sb->len + n > SDP_MAX)
			die("%s: larger than %d bytes", path, SDP_MAX);
		sb_append(sb, buf, n);
	}
	if (ferror(f))
		die("%s: read error", path);
	if (f != stdin)
		fclose(f);
}

/* The list under key, created on first use. */
static struct bval *dict_list(struct arena *a, struct bval *req, const char *key)
{
	struct bval *l = bv_dict_get(req, key);

	if (l && l->type == BV_LIST)
		return l;
	if (l)
		die("--%s: key '%s' already set to a non-list value", key, key);
	return bv_dict_add(a, req, key, bv_new_list(a));
}

static void add_kv(struct arena *a, struct bval *req, const char *arg, bool is_int)
{
	const char *eq = strchr(arg, '=');
	char *key;

	if (!eq || eq == arg)
		die("--set%s: expected KEY=VALUE, got '%s'", is_int ? "-int" : "", arg);
	key = arena_strndup(a, arg, (size_t)(eq - arg));
	if (is_int) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(eq + 1, &end, 10);
		if (errno || end == eq + 1 || *end)
			die("--set-int: bad number in '%s'", arg);
		bv_dict_add_int(a, req, key, v);
	} else {
		bv_dict_add_str(a, req, key, eq + 1);
	}
}

/* Fold one request option into req; name is the long option's name. */
static void add_option(struct arena *a, struct bval *req, int kind, const char *name,
		       const char *arg)
{
	struct strbuf sdp;
	struct bval *l;
	const char *sp;

	switch (kind) {
	case O_STR:
		bv_dict_add_str(a, req, name, arg);
		break;
	case O_LIST:
		/* --flag goes into "flags"; the others keep their name */
		l = dict_list(a, req, strcmp(name, "flag") ? name : "flags");
		bv_list_add(l, bv_new_strz(a, arg));
		break;
	case O_SDP:
	case O_SDP_FILE:
		if (bv_dict_get(req, "sdp"))
			die("--%s: SDP given twice", name);
		if (kind == O_SDP && strcmp(arg, "-")) {
			bv_dict_add_str(a, req, "sdp", arg);
			break;
		}
		sb_init(&sdp);
		read_all(arg, &sdp);
		bv_dict_add(a, req, "sdp", bv_new_str(a, sdp.buf, sdp.len));
		sb_free(&sdp);
		break;
	case O_INT:
		bv_dict_add_int(a, req, name, parse_num(arg, 0, INT32_MAX, name));
		break;
	case O_RECEIVED_FROM:
		sp = strchr(arg, ' ');
		if (!sp || sp == arg || !sp[1])
			die("--received-from: expected 'IP4 ADDRESS' or 'IP6 ADDRESS'");
		l = bv_dict_add(a, req, "received-from", bv_new_list(a));
		bv_list_add(l, bv_new_str(a, arg, (size_t)(sp - arg)));
		bv_list_add(l, bv_new_strz(a, sp + 1));
		break;
	case O_SET:
	case O_SET_INT:
		add_kv(a, req, arg, kind == O_SET_INT);
		break;
	}
}

/* Parse argv into opts and the request dictionary. Request options are collected first
 * and applied once the command (or the raw JSON) is known, so order does not matter. */
static struct bval *build_request(struct arena *a, int argc, char **argv, struct opts *o)
{
	struct { int kind; const char *name, *arg; } pend[256];
	unsigned npend = 0, i;
	struct bval *req;
	int c, idx;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:", longopts, &idx)) != -1 || optind < argc) {
		if (c == -1) {
			/* positional: COMMAND, then the JSON of "raw"; options may follow */
			if (!o->command)
				o->command = argv[optind];
			else if (!strcmp(o->command, "raw") && !o->raw)
				o->raw = argv[optind];
			else
				die("unexpected argument '%s' (try --help)", argv[optind]);
			optind++;
			continue;
		}
		switch (c) {
		case O_SERVER:  o->server = optarg; break;
		case O_JSON:    o->json = true; break;
		case O_COMPACT: o->compact = true; break;
		case O_TIMEOUT: o->timeout_ms = (int)parse_num(optarg, 1, 3600000, "--timeout"); break;
		case O_RETRIES: o->retries = (int)parse_num(optarg, 0, 100, "--retries"); break;
		case O_HELP:    usage(stdout); exit(0);
		case ':':       die("%s needs an argument", argv[optind - 1]);
		case '?':       die("unknown option '%s' (try --help)", argv[optind - 1]);
		default:
			if (npend == sizeof(pend) / sizeof(pend[0]))
				die("too many options");
			pend[npend].kind = c;
			pend[npend].name = longopts[idx].name;
			pend[npend].arg = optarg;
			npend++;
		}
	}
	if (!o->command)
		die("no command given (try --help)");

	if (!strcmp(o->command, "raw")) {
		if (!o->raw)
			die("raw: no JSON document given");
		if (bv_from_json(a, o->raw, strlen(o->raw), &req))
			die("raw: not valid JSON");
		if (req->type != BV_DICT)
			die("raw: the JSON document must be an object");
		o->raw_verbatim = npend == 0;
	} else {
		req = bv_new_dict(a);
		if (!bv_dict_add_str(a, req, "command", o->command))
			die("out of memory");
	}
	for (i = 0; i < npend; i++)
		add_option(a, req, pend[i].kind, pend[i].name, pend[i].arg);
	return req;
}

static void make_cookie(char *buf, size_t len)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)clock();
	snprintf(buf, len, "%d_%08" PRIx32, (int)getpid(), r);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send msg, wait for the datagram carrying our cookie; resend on timeout. Returns the
 * reply length, or exits with a message. */
static size_t exchange(const struct opts *o, const struct strbuf *msg, const char *cookie,
		       char *reply, size_t cap, struct ngwire_msg *m)
{
	union sockaddr_u srv;
	char name[NETADDR_STRLEN];
	int fd, attempt;

	if (netaddr_parse(o->server, NG_DEFAULT_PORT, true, &srv))
		die("--server: cannot parse '%s'", o->server);
	netaddr_str(&srv, name, sizeof(name));
	if (msg->len > NGWIRE_MAX_DGRAM)
		die("request of %zu bytes does not fit a datagram", msg->len);
	fd = socket(srv.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* connected: only the server's datagrams arrive, and ICMP errors are reported */
	if (connect(fd, &srv.sa, netaddr_len(&srv)))
		die("connect %s: %s", name, strerror(errno));

	for (attempt = 0; attempt <= o->retries; attempt++) {
		int64_t deadline = now_ms() + o->timeout_ms;

		if (send(fd, msg->buf, msg->len, 0) < 0)
			die("send to %s: %s", name, strerror(errno));
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			int64_t left = deadline - now_ms();
			ssize_t n;

			if (left <= 0)
				break;
			if (poll(&p, 1, (int)left) < 0) {
				if (errno == EINTR)
					continue;
				die("poll: %s", strerror(errno));
			}
			if (!(p.revents & (POLLIN | POLLERR)))
				continue;
			n = recv(fd, reply, cap, 0);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				die("receive from %s: %s", name, strerror(errno));
			}
			/* a stray or stale datagram: keep waiting for ours */
			if (ngwire_split(reply, (size_t)n, m) || m->cookie_len != strlen(cookie) ||
			    memcmp(m->cookie, cookie, m->cookie_len))
				continue;
			close(fd);
			return (size_t)n;
		}
	}
	die("no reply from %s after %d attempt%s of %d ms", name, o->retries + 1,
	    o->retries ? "s" : "", o->timeout_ms);
}

int main(int argc, char **argv)
{
	struct opts o = { .server = "127.0.0.1:2223", .timeout_ms = 1000 };
	static char reply[NGWIRE_MAX_DGRAM + 1];
	char cookie[48];
	struct ngwire_msg m;
	struct strbuf msg, out;
	struct arena a;
	struct bval *req, *rep, *result;
	int ret;
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("sluice-ng %s\n", SLUICE_VERSION);
		return 0;
	}

	arena_init(&a, 0);
	sb_init(&msg);
	sb_init(&out);
	req = build_request(&a, argc, argv, &o);
	make_cookie(cookie, sizeof(cookie));

	/* raw JSON without extra options goes out byte for byte as the user wrote it */
	if (o.raw_verbatim && o.json) {
		sb_puts(&msg, cookie);
		sb_putc(&msg, ' ');
		ret = sb_puts(&msg, o.raw);
	} else {
		ret = ngwire_build(&msg, cookie, strlen(cookie), req, o.json);
	}
	if (ret)
		die("out of memory");

	exchange(&o, &msg, cookie, reply, sizeof(reply) - 1, &m);
	ret = ngwire_decode(&a, m.body, m.body_len, &rep, NULL);
	if (ret)
		die("undecodable reply (%s)", strerror(-ret));
	ret = o.compact ? bv_to_json(rep, &out) : bv_to_json_pretty(rep, &out);
	if (ret)
		die("out of memory");
	sb_putc(&out, '\n');
	fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout))
		die("stdout: %s", strerror(errno));

	result = bv_dict_get(rep, "result");
	ret = bv_str_eq(result, "ok") || bv_str_eq(result, "pong") ? 0 : EXIT_RESULT_ERR;
	sb_free(&msg);
	sb_free(&out);
	arena_reset(&a);
	return ret;
}
