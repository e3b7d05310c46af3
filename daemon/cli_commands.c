/* The CLI commands rtpengine-ctl sends, answered in rtpengine's text formats (labels,
 * column widths, messages) so that scripts written for rtpengine-ctl keep working.
 * What sluice does not have (Redis keyspaces, foreign calls, per-subsystem log levels)
 * is said plainly. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_ops.h"
#include "cli_internal.h"
#include "kernel.h"
#include "relay.h"
#include "sluice/log.h"

/* rtpengine's log subsystems: sluice has one level, which governs all of them. */
static const char *const subsystems[] = {
	"core", "spandsp", "ffmpeg", "transcoding", "codec", "rtcp", "ice", "crypto", "srtp",
	"internals", "http", "control", "dtx",
};
#define N_SUBSYSTEMS (sizeof(subsystems) / sizeof(subsystems[0]))

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

static int64_t wall_s(int64_t mono)
{
	if (!mono)
		return 0;
	return (now_us() - (mono_us() - mono)) / 1000000;
}

/* ---- shared with cli_json.c ---- */

void cli_terminate_call(struct daemon *d, struct call *c)
{
	call_destroy(d, c, CALL_END_OPERATOR);
}

unsigned cli_terminate_all(struct daemon *d)
{
	unsigned n = 0;

	while (d->reg.head) {
		cli_terminate_call(d, d->reg.head);
		n++;
	}
	return n;
}

int cli_parse_level(const char *s)
{
	if (!s || s[0] < '0' || s[0] > '7' || s[1])
		return -1;
	return s[0] - '0';
}

void cli_set_log_level(struct daemon *d, int level, const char *who)
{
	int old = log_set_level(level);

	(void)d;
	/* at NOTICE, seen whichever way the level went unless it went below NOTICE */
	ilog(LOG_NOTICE, "log level %d -> %d (%s)", old, level, who);
}

/* ---- what the listings count ---- */

struct call_mix {
	unsigned v4, v6;                /* media sections of each family */
	unsigned transcoded;            /* media sections being transcoded */
	unsigned kernel, user;          /* streams by where they run */
};

/* Call lock held. */
static void media_mix(struct daemon *d, const struct media *m, struct call_mix *x)
{
	bool k1 = !kernel_why_not(d, &m->rtp), k2 = !kernel_why_not(d, &m->rtcp);

	if (m->rtp.local.sa.sa_family == AF_INET6)
		x->v6++;
	else
		x->v4++;
	x->transcoded += m->transcoding;
	x->kernel += k1 + k2;
	x->user += !k1 + !k2;
}

static void call_mix(struct daemon *d, struct call *c, struct call_mix *x)
{
	pthread_mutex_lock(&c->lock);
	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++)
			if (p->media[i] && p->media[i]->ports_open)
				media_mix(d, p->media[i], x);
	pthread_mutex_unlock(&c->lock);
}

static unsigned live_calls(const struct daemon *d)
{
	unsigned n = 0;

	for (const struct call *c = d->reg.head; c; c = c->lnext)
		n += !c->deleted;
	return n;
}

/* ---- list ---- */

static void list_numsessions(struct daemon *d, struct strbuf *o)
{
	unsigned v4 = 0, v6 = 0, mixed = 0, xcode = 0, live = live_calls(d);

	for (struct call *c = d->reg.head; c; c = c->lnext) {
		struct call_mix x = { 0 };

		call_mix(d, c, &x);
		xcode += x.transcoded;
		if (x.v4 && x.v6)
			mixed++;
		else if (x.v4)
			v4++;
		else if (x.v6)
			v6++;
	}
	sb_printf(o, "Current sessions own: %u\nCurrent sessions foreign: 0\n"
		  "Current sessions total: %u\nCurrent transcoded media: %u\n"
		  "Current sessions ipv4 only media: %u\nCurrent sessions ipv6 only media: %u\n"
		  "Current sessions ip mixed  media: %u\n", live, live, xcode, v4, v6, mixed);
}

static void session_line(const struct call *c, struct strbuf *o)
{
	/* sluice does not keep the proxy's address with the call: "-" */
	sb_printf(o, "callid: %60s | deletionmark:%4s | created:%12" PRId64 " | proxy:- | "
		  "redis_keyspace:0 | foreign:no\n", c->callid, c->deleted ? "yes" : "no",
		  c->created_us / 1000000);
}

static void stream_line(struct daemon *d, const struct stream *s, struct strbuf *o)
{
	char l[NETADDR_STRLEN], r[NETADDR_STRLEN] = "";
	const union sockaddr_u *peer = s->latched ? &s->endpoint :
				       s->has_advertised ? &s->advertised : NULL;
	struct stream_stats st;
	int64_t last;

	(void)d;
	stream_read_stats(s, &st, &last);
	if (peer)
		netaddr_ntop(peer, r, sizeof(r));
	sb_printf(o, "-------- Port %15s:%-5u <> %15s:%-5u%s, SSRC %" PRIx32 ", %" PRIu64 " p, %"
		  PRIu64 " b, %" PRIu64 " e, %" PRId64 " ts\n",
		  netaddr_ntop(&s->local, l, sizeof(l)), netaddr_port(&s->local), r,
		  peer ? netaddr_port(peer) : 0, s->component == COMP_RTCP ? " (RTCP)" : "",
		  s->has_ssrc ? s->ssrc : 0, st.packets, st.bytes, st.errors, wall_s(last));
}

static void party_block(struct daemon *d, const struct party *p, struct strbuf *o)
{
	const char *tag = p->n_tags ? p->tags[0].tag : "";
	const char *peer = p->peer && p->peer->n_tags ? p->peer->tags[0].tag : "";

	sb_printf(o, "--- Tag '%s', type: %s, label '%s', branch '%s', callduration %.6f\n",
		  tag, !p->n_tags ? "UNKNOWN" : p->idx == 0 ? "FROM_TAG" : "TO_TAG", p->label,
		  p->n_tags ? p->tags[0].via_branch : "",
		  (double)(now_us() - p->created_us) / 1e6);
	sb_printf(o, "---     subscribed to '%s'\n---     subscription of '%s'\n", peer, peer);
	for (unsigned i = 0; i < p->n_media; i++) {
		const struct media *m = p->media[i];

		if (!m)
			continue;
		sb_printf(o, "------ Media #%u (%s over %s) using %s\n", m->index, m->type,
			  m->proto, m->codec[0] ? m->codec : "unknown codec");
		if (!m->ports_open)
			continue;
		stream_line(d, &m->rtp, o);
		stream_line(d, &m->rtcp, o);
	}
}

static void session_detail(struct daemon *d, struct call *c, struct strbuf *o)
{
	sb_printf(o, "\ncallid: %s\ndeletionmark: %s\ncreated: %" PRId64 "\nproxy: -\ntos: %d\n"
		  "last_signal: %" PRId64 "\nredis_keyspace: 0\nforeign: no\n\n", c->callid,
		  c->deleted ? "yes" : "no", c->created_us / 1000000,
		  d->cfg->tos < 0 ? 0 : d->cfg->tos, wall_s(c->last_signal_us));
	pthread_mutex_lock(&c->lock);
	for (const struct party *p = c->parties; p; p = p->next)
		party_block(d, p, o);
	pthread_mutex_unlock(&c->lock);
	sb_putc(o, '\n');
}

static void list_sessions(struct daemon *d, const char *which, struct strbuf *o)
{
	if (is(which, "all") || is(which, "own")) {
		for (const struct call *c = d->reg.head; c; c = c->lnext)
			session_line(c, o);
		if (!d->reg.head)
			sb_puts(o, is(which, "all") ? "No sessions on this media relay.\n" :
				"No own sessions on this media relay.\n");
	} else if (is(which, "foreign")) {
		sb_puts(o, "No foreign sessions on this media relay.\n");
	} else {
		struct call *c = call_find(d, which, strlen(which));

		if (c)
			session_detail(d, c, o);
		else
			sb_printf(o, "\nCall ID not found (%s).\n\n", which);
	}
}

#define ROW(o, label, fmt, ...) sb_printf(o, " %-48s:" fmt "\n", label, __VA_ARGS__)

static void list_totals(struct daemon *d, struct strbuf *o)
{
	const struct daemon_totals *t = &d->totals;
	unsigned live = live_calls(d), xcode = 0, kern = 0, user = 0, mixed = 0;

	/* as rtpengine, the media "streams" counted here are calls, by where their
	 * streams run */
	for (struct call *c = d->reg.head; c; c = c->lnext) {
		struct call_mix x = { 0 };

		call_mix(d, c, &x);
		xcode += x.transcoded;
		kern += x.kernel && !x.user;
		user += x.user && !x.kernel;
		mixed += x.user && x.kernel;
	}
	sb_puts(o, "\nStatistics over currently running sessions:\n\n");
	ROW(o, "Owned sessions", "%u", live);
	ROW(o, "Foreign sessions", "%u", 0);
	ROW(o, "Total sessions", "%u", live);
	ROW(o, "Transcoded media", "%u", xcode);
	ROW(o, "Userspace-only media streams", "%u", user);
	ROW(o, "Kernel-only media streams", "%u", kern);
	ROW(o, "Mixed kernel/userspace media streams", "%u", mixed);
	sb_puts(o, "\nTotal statistics (does not include current running sessions):\n\n");
	ROW(o, "Uptime of rtpengine", "%" PRId64 " seconds", (now_us() - d->started_us) / 1000000);
	ROW(o, "Total managed sessions", "%" PRIu64, t->managed_sessions);
	ROW(o, "Total rejected sessions", "%" PRIu64, t->rejected_sessions);
	ROW(o, "Total timed-out sessions via TIMEOUT", "%" PRIu64, t->timeout_sessions);
	ROW(o, "Total timed-out sessions via SILENT_TIMEOUT", "%" PRIu64,
	    t->silent_timeout_sessions);
	ROW(o, "Total timed-out sessions via FINAL_TIMEOUT", "%" PRIu64,
	    t->final_timeout_sessions);
	ROW(o, "Total timed-out sessions via OFFER_TIMEOUT", "%" PRIu64,
	    t->offer_timeout_sessions);
	ROW(o, "Total regular terminated sessions", "%" PRIu64, t->regular_terminated);
	ROW(o, "Total forced terminated sessions", "%" PRIu64, t->forced_terminated);
	ROW(o, "Total relayed packets", "%" PRIu64, t->relayed_packets);
	ROW(o, "Total relayed packet errors", "%" PRIu64, t->relayed_errors);
	ROW(o, "Total relayed bytes", "%" PRIu64, t->relayed_bytes);
	sb_puts(o, "\nControl statistics:\n\n");
	ROW(o, "NG requests", "%" PRIu64, t->ng_requests);
	ROW(o, "NG errors", "%" PRIu64, t->ng_errors);
}

static void list_interfaces(struct daemon *d, struct strbuf *o)
{
	relay_flush(d->relay);          /* ports of calls ended a moment ago are free */
	for (unsigned i = 0; i < d->n_ifaces; i++) {
		const struct iface *f = &d->ifaces[i];
		const struct port_pool *p = f->pool_ref;
		unsigned total = 2 * port_pool_total_pairs(p);
		unsigned used = total - 2 * port_pool_free_pairs(p);
		char ip[NETADDR_STRLEN];

		sb_printf(o, "Interface '%s' address '%s' (%s)\n Port range: %u - %u\n"
			  " Ports used: %5u / %5u (%5.1f%%)\n", f->name,
			  netaddr_ntop(&f->local, ip, sizeof(ip)),
			  f->local.sa.sa_family == AF_INET6 ? "IPv6" : "IPv4", p->min, p->max,
			  used, total, total ? 100.0 * used / total : 0.0);
	}
}

static void list_loglevel(const char *sys, struct strbuf *o)
{
	int level = log_get_level();

	if (sys) {
		for (size_t i = 0; i < N_SUBSYSTEMS; i++)
			if (is(sys, subsystems[i]))
				sb_printf(o, "%d\n", level);
		return;
	}
	for (size_t i = 0; i < N_SUBSYSTEMS; i++)
		sb_printf(o, "%s = %d\n", subsystems[i], level);
}

static void cmd_list(struct daemon *d, const struct cli_args *a, struct strbuf *o)
{
	const char *what = a->v[1], *arg = a->n > 2 ? a->v[2] : NULL;

	if (a->n < 2)
		sb_puts(o, "More parameters required.\n");
	else if (is(what, "numsessions"))
		list_numsessions(d, o);
	else if (is(what, "sessions") && arg)
		list_sessions(d, arg, o);
	else if (is(what, "totals"))
		list_totals(d, o);
	else if (is(what, "interfaces"))
		list_interfaces(d, o);
	else if (is(what, "loglevel"))
		list_loglevel(arg, o);
	else if (is(what, "maxsessions"))
		sb_printf(o, "Maximum sessions configured on rtpengine: %d\n",
			  d->cfg->max_sessions ? (int)d->cfg->max_sessions : -1);
	else if (is(what, "timeout"))
		sb_printf(o, "TIMEOUT=%u\n", d->cfg->timeout);
	else if (is(what, "sessions"))
		sb_puts(o, "More parameters required.\n");
	else
		sb_printf(o, "Unknown or incomplete command::list %s\n", what);
}

/* ---- terminate, set ---- */

static void cmd_terminate(struct daemon *d, const struct cli_args *a, struct strbuf *o)
{
	const char *what = a->v[1];
	struct call *c;

	if (a->n < 2) {
		sb_puts(o, "More parameters required.\n");
	} else if (is(what, "all") || is(what, "own")) {
		unsigned n = cli_terminate_all(d);

		relay_flush(d->relay);
		ilog(LOG_NOTICE, "CLI: %u call%s terminated by operator", n, n == 1 ? "" : "s");
		sb_puts(o, is(what, "all") ? "All calls terminated by operator.\n" :
			"All own calls terminated by operator.\n");
	} else if (is(what, "foreign")) {
		sb_puts(o, "All foreign calls terminated by operator.\n");
	} else if ((c = call_find(d, what, strlen(what)))) {
		cli_terminate_call(d, c);
		relay_flush(d->relay);
		sb_printf(o, "\nCall Id (%s) successfully terminated by operator.\n\n", what);
	} else {
		sb_printf(o, "\nCall Id not found (%s).\n\n", what);
	}
}

static void cmd_set(struct daemon *d, const struct cli_args *a, struct strbuf *o)
{
	int level;

	if (a->n < 3 || !is(a->v[1], "loglevel")) {
		sb_puts(o, a->n < 3 ? "More parameters required.\n" :
			"sluice's CLI can set only: loglevel <0-7>\n");
		return;
	}
	if (a->n > 3) {
		sb_puts(o, "sluice has one log level for all subsystems: use 'set loglevel "
			"<0-7>'\n");
		return;
	}
	if ((level = cli_parse_level(a->v[2])) < 0) {
		sb_printf(o, "Invalid log level '%s' (0-7)\n", a->v[2]);
		return;
	}
	cli_set_log_level(d, level, "CLI");
	sb_printf(o, "Success setting loglevel to %d\n", level);
}

static void cmd_help(struct strbuf *o)
{
	sb_puts(o, "Available sub-commands at this level:\n\tlist\n\tterminate\n\tset\n\tget\n"
		"\tksadd\n\tksrm\n\tkslist\n\tjson\n");
}

static void split(char *line, struct cli_args *a)
{
	char *save = NULL;

	a->n = 0;
	for (char *t = strtok_r(line, " \t", &save); t && a->n < CLI_MAX_ARGS;
	     t = strtok_r(NULL, " \t", &save))
		a->v[a->n++] = t;
}

void cli_command(struct daemon *d, char *line, struct strbuf *out)
{
	struct cli_args a;
	char orig[128];

	snprintf(orig, sizeof(orig), "%s", line);
	split(line, &a);
	if (!a.n)
		sb_puts(out, "More parameters required.\n");
	else if (is(a.v[0], "list") || is(a.v[0], "get"))
		cmd_list(d, &a, out);
	else if (is(a.v[0], "terminate"))
		cmd_terminate(d, &a, out);
	else if (is(a.v[0], "set"))
		cmd_set(d, &a, out);
	else if (is(a.v[0], "json"))
		cli_json(d, &a, out);
	else if (is(a.v[0], "ksadd") || is(a.v[0], "ksrm") || is(a.v[0], "kslist"))
		sb_puts(out, "Not supported: sluice keeps no Redis keyspaces.\n");
	else if (is(a.v[0], "help"))
		cmd_help(out);
	else
		sb_printf(out, "Unknown or incomplete command::%s\n", orig);
}
