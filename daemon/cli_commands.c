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
#include "relay.h"
#include "sluice/arena.h"
#include "sluice/bencode.h"
#include "stats.h"
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
};

/* Call lock held. */
static void media_mix(const struct media *m, struct call_mix *x)
{
	if (m->rtp.local.sa.sa_family == AF_INET6)
		x->v6++;
	else
		x->v4++;
	x->transcoded += m->transcoding;
}

static void call_mix(struct call *c, struct call_mix *x)
{
	pthread_mutex_lock(&c->lock);
	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++)
			if (p->media[i] && p->media[i]->ports_open)
				media_mix(p->media[i], x);
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

		call_mix(c, &x);
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
		if (!p->pub_answerer)   /* publish's stand-in (publish.h), as in query */
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

/* list totals: the NG statistics (stats_peek: the interval is left alone) under
 * rtpengine's labels. */
struct total_row {
	const char *label, *key, *unit;
};

static const struct total_row current_rows[] = {
	{ "Owned sessions", "sessionsown", "" },
	{ "Foreign sessions", "sessionsforeign", "" },
	{ "Total sessions", "sessionstotal", "" },
	{ "Transcoded media", "transcodedmedia", "" },
	{ "Packets per second (userspace)", "packetrate_user", "" },
	{ "Bytes per second (userspace)", "byterate_user", "" },
	{ "Errors per second (userspace)", "errorrate_user", "" },
	{ "Packets per second (kernel)", "packetrate_kernel", "" },
	{ "Bytes per second (kernel)", "byterate_kernel", "" },
	{ "Errors per second (kernel)", "errorrate_kernel", "" },
	{ "Packets per second (total)", "packetrate", "" },
	{ "Bytes per second (total)", "byterate", "" },
	{ "Errors per second (total)", "errorrate", "" },
	{ "Userspace-only media streams", "media_userspace", "" },
	{ "Kernel-only media streams", "media_kernel", "" },
	{ "Mixed kernel/userspace media streams", "media_mixed", "" },
	{ NULL, NULL, NULL },
};

static const struct total_row total_rows[] = {
	{ "Uptime of rtpengine", "uptime", " seconds" },
	{ "Total managed sessions", "managedsessions", "" },
	{ "Total rejected sessions", "rejectedsessions", "" },
	{ "Total timed-out sessions via TIMEOUT", "timeoutsessions", "" },
	{ "Total timed-out sessions via SILENT_TIMEOUT", "silenttimeoutsessions", "" },
	{ "Total timed-out sessions via FINAL_TIMEOUT", "finaltimeoutsessions", "" },
	{ "Total timed-out sessions via OFFER_TIMEOUT", "offertimeoutsessions", "" },
	{ "Total regular terminated sessions", "regularterminatedsessions", "" },
	{ "Total forced terminated sessions", "forcedterminatedsessions", "" },
	{ "Total relayed packets (userspace)", "relayedpackets_user", "" },
	{ "Total relayed packet errors (userspace)", "relayedpacketerrors_user", "" },
	{ "Total relayed bytes (userspace)", "relayedbytes_user", "" },
	{ "Total relayed packets (kernel)", "relayedpackets_kernel", "" },
	{ "Total relayed packet errors (kernel)", "relayedpacketerrors_kernel", "" },
	{ "Total relayed bytes (kernel)", "relayedbytes_kernel", "" },
	{ "Total relayed packets", "relayedpackets", "" },
	{ "Total relayed packet errors", "relayedpacketerrors", "" },
	{ "Total relayed bytes", "relayedbytes", "" },
	{ "Total number of streams with no relayed packets", "zerowaystreams", "" },
	{ "Total number of 1-way streams", "onewaystreams", "" },
	{ "Average call duration", "avgcallduration", " seconds" },
	{ "Total calls duration", "totalcallsduration", " seconds" },
	{ "Total calls duration squared", "totalcallsduration2", " seconds squared" },
	{ "Total calls duration standard deviation", "totalcallsduration_stddev", " seconds" },
	{ NULL, NULL, NULL },
};

static const struct total_row mos_rows[] = {
	{ "Sum of all MOS values sampled", "mos_total", "" },
	{ "Sum of all MOS square values sampled", "mos2_total", "" },
	{ "Total number of MOS samples", "mos_samples_total", "" },
	{ "Average MOS", "mos_average", "" },
	{ "MOS standard deviation", "mos_stddev", "" },
	{ NULL, NULL, NULL },
};

static void total_rows_out(const struct bval *dict, const struct total_row *rows,
			   struct strbuf *o)
{
	for (; rows->label; rows++) {
		const struct bval *v = bv_dict_get(dict, rows->key);

		/* " %-48s:" is rtpengine's column; longer labels push the value right */
		sb_printf(o, " %-48s:", rows->label);
		if (v && v->type == BV_INT)
			sb_printf(o, "%" PRId64, v->i);
		else if (v && v->type == BV_STR)
			sb_printf(o, "%.*s", (int)v->str.len, v->str.s);
		else
			sb_putc(o, '0');
		sb_printf(o, "%s\n", rows->unit);
	}
}

static void list_totals(struct daemon *d, struct strbuf *o)
{
	struct arena a;
	struct bval *reply, *st;

	arena_init(&a, 0);
	reply = bv_new_dict(&a);
	if (!reply || stats_peek(d, &a, reply) || !(st = bv_dict_get(reply, "statistics"))) {
		sb_puts(o, "Out of memory.\n");
		arena_reset(&a);
		return;
	}
	sb_puts(o, "\nStatistics over currently running sessions:\n\n");
	total_rows_out(bv_dict_get(st, "currentstatistics"), current_rows, o);
	sb_puts(o, "\nTotal statistics (does not include current running sessions):\n\n");
	total_rows_out(bv_dict_get(st, "totalstatistics"), total_rows, o);
	sb_puts(o, "\n\nMOS statistics:\n\n");
	total_rows_out(bv_dict_get(st, "mos"), mos_rows, o);
	arena_reset(&a);
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
