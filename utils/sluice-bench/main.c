/* sluice-bench: load generator and benchmark for NG relays (sluiced, rtpengine).
 *
 *   plain  N calls: setup, idle RSS, media for warmup + duration, drain, delete, check
 *   ramp   add --step calls at a time until loss, p99 or relay CPU exceed their limits
 *   ctrl   offer+answer+delete cycles with --inflight cycles in flight
 *   transcode  plain with PCMU <-> Opus calls the relay transcodes (xcode.c)
 *   srtp   plain with SDES-SRTP callers (and callees with --srtp-b) (srtp.c)
 *   churn  new calls at a rate, the newest --alive kept, RSS and calls/s over time (churn.c)
 *
 * Exit status: 0 valid run, 1 the run is invalid (reasons printed), 2 usage or setup
 * failure before anything was measured. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include "sluice/version.h"
#include "bench.h"
#include "report.h"
#include "soak.h"

#define EXIT_INVALID 1
#define EXIT_USAGE   2
#define GRACE_NS     (300 * 1000000LL)   /* late packets of a window still count */

static void usage(FILE *f)
{
	fprintf(f,
"usage: sluice-bench plain|ramp|ctrl|transcode|srtp|churn|soak [options]\n"
"  --ng IP:PORT        relay's NG address (127.0.0.1:2223)\n"
"  --pid PID           relay process, for CPU and RSS from /proc\n"
"  --json              print JSON instead of the table\n"
"  --bind IP           address of our endpoints (127.0.0.1)\n"
"  --port-base N       first port of our endpoints (10000); keep it outside the relay's range\n"
"  --pps N             packets per second per stream (50)\n"
"  --payload N         UDP payload bytes incl. the 12-byte RTP header (172: PCMU 20 ms)\n"
"  --setup-inflight N  NG setup/teardown commands in flight (16)\n"
"  --ng-timeout MS     NG retransmit timeout (2000; 2 retransmits)\n"
"  --no-uring          send with send(2) instead of io_uring\n"
"  --transcode         (ramp) PCMU <-> Opus calls as in transcode mode: calls per core\n"
"  --record            offers carry record-call: yes (the relay records every call)\n"
"  --watch-dir DIR     window: growth of the files under DIR, bytes/s (the relay's\n"
"                      --recording-dir: its disk write rate)\n"
"  --help              this text; --version: the version\n"
"plain: --calls N (100) --warmup S (2) --duration S (10; 0 = setup and memory only)\n"
"ramp:  --step N (100) --max-calls N (2000) --warmup S --duration S (per step)\n"
"       --loss-limit PCT (1) --p99-limit MS (50) --cpu-limit PCT (95)\n"
"ctrl:  --inflight N (1) --cycles N (2000)\n"
"srtp:  as plain, the caller speaking SDES-SRTP (--srtp SUITE, default\n"
"       AES_CM_128_HMAC_SHA1_80), the callee plain RTP, or SRTP too with --srtp-b SUITE;\n"
"       --srtp / --srtp-b also work with plain and ramp\n"
"transcode: as plain, each call PCMU (caller) <-> Opus (callee) through the relay's\n"
"       transcoder (codec mask PCMU, transcode opus); real encoded audio, 50 pps;\n"
"       --codec NAME: the callee's codec instead of opus: AMR, AMR-WB, GSM, speex\n"
"churn: --rate N (2000) new calls/s, --alive N (100) answered calls kept (the oldest\n"
"       beyond is deleted), --duration S (60), --sample S (1) per time-series row;\n"
"       --setup-inflight N (default 64 here): calls being set up or deleted at most\n"
"soak:  --calls N (300) kept alive for --duration S (600), RTP + RTCP both ways,\n"
"       re-INVITEs, port changes, holds, abandoned calls (docs/soak.md); needs --pid\n"
"       --min-life S (2) --max-life S (20) --abandon-pct N (20) --warmup S (20 %%, >= 30)\n"
"       --relay-timeout S (5: the relay's --timeout) --gone-grace S (2.5)\n"
"       --settle-ms N (100) --rss-slope-limit KIB_PER_MIN (10; -1 report only)\n"
"       --port-pairs N (2000: our ports are port-base .. + 2N) --rss-csv FILE\n"
"       --idle-wait S (0: after the end, S s without calls, then RSS compared with the\n"
"       start) --idle-growth-limit KIB (1024; -1 report only)\n");
}

static void __attribute__((noreturn)) die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "sluice-bench: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(EXIT_USAGE);
}

static double num(const char *s, double min, double max, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		die_usage("bad value for", what);
	return v;
}

/* Defaults that depend on the mode: --calls, --duration, --warmup, --setup-inflight
 * (0 / -1: not given). */
static void mode_defaults(struct opts *o)
{
	bool soak = !strcmp(o->mode, "soak"), churn = !strcmp(o->mode, "churn");

	if (!o->calls)
		o->calls = soak ? 300 : 100;
	if (o->duration < 0)
		o->duration = soak ? 600 : churn ? 60 : 10;
	if (!o->setup_inflight)
		o->setup_inflight = churn ? 64 : 16;
	if (o->warmup < 0)
		o->warmup = !soak ? 2 : o->duration * 0.2 > 30 ? o->duration * 0.2 :
			    o->duration / 2 < 30 ? o->duration / 2 : 30;
	if (soak && o->min_life > o->max_life)
		die_usage("--min-life is above --max-life", NULL);
	if (soak && o->port_pairs < o->calls * 3)
		die_usage("--port-pairs must be at least 3 x --calls", NULL);
	if (soak && !o->pid)
		die_usage("soak needs the relay's --pid (RSS and fds)", NULL);
}

static void parse(struct opts *o, int argc, char **argv)
{
	enum { O_NG = 256, O_PID, O_CALLS, O_DUR, O_WARM, O_PPS, O_PAYLOAD, O_BIND, O_PBASE,
	       O_STEP, O_MAX, O_LOSS, O_P99, O_CPU, O_INFL, O_CYC, O_SETUP, O_JSON, O_NOURING, O_XCODE,
	       O_NGTO, O_RATE, O_ALIVE, O_SAMPLE, O_MINLIFE, O_MAXLIFE, O_ABANDON, O_RTIMEOUT,
	       O_GRACE, O_SETTLE, O_SLOPE, O_PAIRS, O_RSSCSV, O_IDLE, O_IDLELIM, O_RECORD,
	       O_WATCH, O_SRTP, O_SRTPB, O_XCODEC, O_HELP };
	static const struct option lo[] = {
		{ "ng", 1, NULL, O_NG }, { "pid", 1, NULL, O_PID }, { "calls", 1, NULL, O_CALLS },
		{ "duration", 1, NULL, O_DUR }, { "warmup", 1, NULL, O_WARM },
		{ "pps", 1, NULL, O_PPS }, { "payload", 1, NULL, O_PAYLOAD },
		{ "bind", 1, NULL, O_BIND }, { "port-base", 1, NULL, O_PBASE },
		{ "step", 1, NULL, O_STEP }, { "max-calls", 1, NULL, O_MAX },
		{ "loss-limit", 1, NULL, O_LOSS }, { "p99-limit", 1, NULL, O_P99 },
		{ "cpu-limit", 1, NULL, O_CPU }, { "inflight", 1, NULL, O_INFL },
		{ "cycles", 1, NULL, O_CYC }, { "setup-inflight", 1, NULL, O_SETUP },
		{ "json", 0, NULL, O_JSON }, { "no-uring", 0, NULL, O_NOURING },
		{ "transcode", 0, NULL, O_XCODE }, { "codec", 1, NULL, O_XCODEC },
		{ "ng-timeout", 1, NULL, O_NGTO }, { "help", 0, NULL, O_HELP },
		{ "rate", 1, NULL, O_RATE }, { "alive", 1, NULL, O_ALIVE },
		{ "sample", 1, NULL, O_SAMPLE },
		{ "min-life", 1, NULL, O_MINLIFE }, { "max-life", 1, NULL, O_MAXLIFE },
		{ "abandon-pct", 1, NULL, O_ABANDON }, { "relay-timeout", 1, NULL, O_RTIMEOUT },
		{ "gone-grace", 1, NULL, O_GRACE }, { "settle-ms", 1, NULL, O_SETTLE },
		{ "rss-slope-limit", 1, NULL, O_SLOPE }, { "port-pairs", 1, NULL, O_PAIRS },
		{ "rss-csv", 1, NULL, O_RSSCSV }, { "idle-wait", 1, NULL, O_IDLE },
		{ "idle-growth-limit", 1, NULL, O_IDLELIM },
		{ "record", 0, NULL, O_RECORD }, { "watch-dir", 1, NULL, O_WATCH },
		{ "srtp", 1, NULL, O_SRTP }, { "srtp-b", 1, NULL, O_SRTPB },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_NG:      o->ng = optarg; break;
		case O_PID:     o->pid = (int)num(optarg, 1, 1 << 30, "--pid"); break;
		case O_CALLS:   o->calls = (unsigned)num(optarg, 1, 100000, "--calls"); break;
		case O_DUR:     o->duration = num(optarg, 0, 86400, "--duration"); break;
		case O_WARM:    o->warmup = num(optarg, 0, 3600, "--warmup"); break;
		case O_PPS:     o->pps = (unsigned)num(optarg, 1, 1000, "--pps"); break;
		case O_PAYLOAD: o->payload = (unsigned)num(optarg, BENCH_HDR + BENCH_STAMP,
							   BENCH_PKT_MAX, "--payload"); break;
		case O_BIND:    o->bind = optarg; break;
		case O_PBASE:   o->port_base = (unsigned)num(optarg, 1024, 65000, "--port-base"); break;
		case O_STEP:    o->step = (unsigned)num(optarg, 1, 100000, "--step"); break;
		case O_MAX:     o->max_calls = (unsigned)num(optarg, 1, 100000, "--max-calls"); break;
		case O_LOSS:    o->ramp_loss_pct = num(optarg, 0, 100, "--loss-limit"); break;
		case O_P99:     o->ramp_p99_ms = num(optarg, 0, 1e6, "--p99-limit"); break;
		case O_CPU:     o->ramp_cpu_pct = num(optarg, 0, 1000, "--cpu-limit"); break;
		case O_INFL:    o->inflight = (unsigned)num(optarg, 1, 256, "--inflight"); break;
		case O_CYC:     o->cycles = (unsigned)num(optarg, 1, 1e9, "--cycles"); break;
		case O_SETUP:   o->setup_inflight = (unsigned)num(optarg, 1, 256, "--setup-inflight"); break;
		case O_NGTO:    o->ng_timeout_ms = (int)num(optarg, 10, 60000, "--ng-timeout"); break;
		case O_RATE:    o->rate = num(optarg, 1, 1e6, "--rate"); break;
		case O_ALIVE:   o->alive = (unsigned)num(optarg, 0, 100000, "--alive"); break;
		case O_SAMPLE:  o->sample = num(optarg, 0.1, 3600, "--sample"); break;
		case O_JSON:    o->json = true; break;
		case O_NOURING: o->no_uring = true; break;
		case O_XCODE:   o->transcode = true; break;
		case O_XCODEC:  o->xcodec = optarg; break;
		case O_RECORD:  o->record = true; break;
		case O_WATCH:   o->watch_dir = optarg; break;
		case O_SRTP:    o->srtp = optarg; break;
		case O_SRTPB:   o->srtp_b = optarg; break;
		case O_MINLIFE: o->min_life = num(optarg, 0.5, 3600, "--min-life"); break;
		case O_MAXLIFE: o->max_life = num(optarg, 0.5, 3600, "--max-life"); break;
		case O_ABANDON: o->abandon_pct = (unsigned)num(optarg, 0, 100, "--abandon-pct"); break;
		case O_RTIMEOUT: o->relay_timeout = (unsigned)num(optarg, 1, 3600, "--relay-timeout"); break;
		case O_GRACE:   o->gone_grace = num(optarg, 0, 600, "--gone-grace"); break;
		case O_SETTLE:  o->settle_ms = (unsigned)num(optarg, 0, 10000, "--settle-ms"); break;
		case O_SLOPE:   o->rss_slope_limit = num(optarg, -1, 1e9, "--rss-slope-limit"); break;
		case O_PAIRS:   o->port_pairs = (unsigned)num(optarg, 16, 30000, "--port-pairs"); break;
		case O_RSSCSV:  o->rss_csv = optarg; break;
		case O_IDLE:    o->idle_wait = num(optarg, 0, 3600, "--idle-wait"); break;
		case O_IDLELIM: o->idle_growth_limit = num(optarg, -1, 1e9, "--idle-growth-limit"); break;
		case O_HELP:    usage(stdout); exit(0);
		default:        usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind != argc - 1)
		die_usage("expected one mode: plain, ramp, ctrl, transcode or churn", NULL);
	o->mode = argv[optind];
	o->transcode |= !strcmp(o->mode, "transcode");
	if (!strcmp(o->mode, "srtp")) {
		o->mode = "plain";
		if (!o->srtp)
			o->srtp = "AES_CM_128_HMAC_SHA1_80";
	}
	if (strcmp(o->mode, "plain") && strcmp(o->mode, "ramp") && strcmp(o->mode, "ctrl") &&
	    strcmp(o->mode, "churn") && strcmp(o->mode, "soak") && !o->transcode)
		die_usage("unknown mode", o->mode);
	if ((o->srtp || o->srtp_b) && (o->transcode ||
					 (strcmp(o->mode, "plain") && strcmp(o->mode, "ramp"))))
		die_usage("--srtp works with plain, ramp and srtp", NULL);
	if (o->srtp && o->payload > BENCH_PKT_MAX - SRTPW_TAILROOM)
		die_usage("--payload too large for SRTP's tailroom", NULL);
	mode_defaults(o);
	if (o->transcode && o->pps != 50)
		die_usage("transcode mode sends 20 ms frames: --pps must be 50", NULL);
	if (8000 % o->pps)
		die_usage("--pps must divide 8000 (RTP clock)", NULL);
}

/* ---- helpers shared by the modes ---- */

static bool setup_done(struct bench *b)
{
	return b->pending == 0;
}

static void run_for(struct bench *b, double seconds)
{
	loop_run(b, mono_ns() + (int64_t)(seconds * 1e9), NULL);
}

/* Wait for pending NG work, bounded by the NG timeouts. */
static void settle(struct bench *b)
{
	loop_run(b, mono_ns() + 600 * 1000000000LL, setup_done);
}

struct phase {
	struct proc_sample relay0, relay1;
	struct proc_threads threads0, threads1;
	uint64_t self0, self1;
	int64_t t0, t1;
	int64_t dir0, dir1;             /* --watch-dir bytes (or -errno) */
};

static void phase_begin(struct bench *b, struct phase *p)
{
	proc_sample(b->o.pid, &p->relay0);
	proc_threads(b->o.pid, &p->threads0);
	p->self0 = self_cpu_ns();
	p->dir0 = b->o.watch_dir ? dir_bytes(b->o.watch_dir) : -ENOENT;
	p->t0 = mono_ns();
}

static void phase_end(struct bench *b, struct phase *p)
{
	proc_sample(b->o.pid, &p->relay1);
	proc_threads(b->o.pid, &p->threads1);
	p->self1 = self_cpu_ns();
	p->dir1 = b->o.watch_dir ? dir_bytes(b->o.watch_dir) : -ENOENT;
	p->t1 = mono_ns();
}

static double phase_relay_pct(const struct phase *p)
{
	if (!p->relay0.ok || !p->relay1.ok || p->t1 <= p->t0)
		return NAN;
	return 100.0 * (double)(p->relay1.cpu_ns - p->relay0.cpu_ns) / (double)(p->t1 - p->t0);
}

static double phase_self_pct(const struct phase *p)
{
	return p->t1 > p->t0 ? 100.0 * (double)(p->self1 - p->self0) / (double)(p->t1 - p->t0) : NAN;
}

/* Media window: warmup, then measure for duration; returns with the window closed and
 * its late packets (GRACE_NS) counted. Sending goes on. */
static void measure(struct bench *b, struct phase *p)
{
	int64_t now = mono_ns();

	memset(&b->win, 0, sizeof(b->win));
	b->win.t0 = now + (int64_t)(b->o.warmup * 1e9);
	b->win.t1 = b->win.t0 + (int64_t)(b->o.duration * 1e9);
	b->sched_lag_max = 0;
	loop_run(b, b->win.t0, NULL);
	phase_begin(b, p);
	loop_run(b, b->win.t1, NULL);
	phase_end(b, p);
	loop_run(b, b->win.t1 + GRACE_NS, NULL);
}

static double loss_pct(uint64_t sent, uint64_t recv)
{
	return sent ? 100.0 * (double)(sent > recv ? sent - recv : 0) / (double)sent : 0;
}

/* The relay's CPU per packet by thread name (threads that lived through the window). */
static void rep_threads(struct rep *r, const struct phase *p, uint64_t pkts)
{
	const struct proc_threads *a = &p->threads0, *z = &p->threads1;

	if (!a->ok || !z->ok || !pkts)
		return;
	rep_begin(r, "relay_threads_cpu_us_per_pkt");
	for (unsigned i = 0; i < z->n; i++)
		for (unsigned j = 0; j < a->n; j++)
			if (!strcmp(z->t[i].comm, a->t[j].comm) && z->t[i].cpu_ns >= a->t[j].cpu_ns)
				rep_f(r, z->t[i].comm, (double)(z->t[i].cpu_ns - a->t[j].cpu_ns) /
				      1e3 / (double)pkts, 3);
	rep_end(r);
}

static void rep_window(struct rep *r, struct bench *b, const struct phase *p)
{
	const struct window *w = &b->win;
	double secs = (double)(p->t1 - p->t0) / 1e9;
	double relay_cpu_s = p->relay0.ok && p->relay1.ok ?
			     (double)(p->relay1.cpu_ns - p->relay0.cpu_ns) / 1e9 : NAN;

	rep_begin(r, "window");
	rep_f(r, "seconds", secs, 3);
	rep_u64(r, "sent", w->sent);
	rep_u64(r, "received", w->recv);
	rep_f(r, "loss_pct", loss_pct(w->sent, w->recv), 4);
	rep_f(r, "forwarded_pps", (double)w->recv_arrival / secs, 0);
	rep_f(r, "latency_p50_us", (double)hist_quantile(&w->lat, 0.50) / 1e3, 1);
	rep_f(r, "latency_p99_us", (double)hist_quantile(&w->lat, 0.99) / 1e3, 1);
	rep_f(r, "latency_max_us", (double)w->lat.max / 1e3, 1);
	rep_f(r, "latency_app_p50_us", (double)hist_quantile(&w->lat_app, 0.50) / 1e3, 1);
	rep_f(r, "latency_app_p99_us", (double)hist_quantile(&w->lat_app, 0.99) / 1e3, 1);
	rep_f(r, "relay_cpu_s", relay_cpu_s, 3);
	rep_f(r, "relay_cpu_pct", phase_relay_pct(p), 1);
	rep_f(r, "relay_cpu_us_per_pkt", relay_cpu_s * 1e6 / (double)w->recv_arrival, 3);
	/* user time only: what the relay's own code (its SRTP, say) costs, without the
	 * kernel's share, which dominates and moves most on a shared machine */
	rep_f(r, "relay_user_us_per_pkt", p->relay0.ok && p->relay1.ok ?
	      (double)(p->relay1.user_ns - p->relay0.user_ns) / 1e3 / (double)w->recv_arrival :
	      NAN, 3);
	rep_f(r, "generator_cpu_pct", phase_self_pct(p), 1);
	rep_f(r, "generator_lag_max_us", (double)b->sched_lag_max / 1e3, 0);
	if (b->o.watch_dir) {
		bool ok = p->dir0 >= 0 && p->dir1 >= 0;

		rep_f(r, "dir_bytes_per_s", ok ? (double)(p->dir1 - p->dir0) / secs : NAN, 0);
		rep_f(r, "dir_bytes_per_pkt", ok && w->recv_arrival ?
		      (double)(p->dir1 - p->dir0) / (double)w->recv_arrival : NAN, 1);
	}
	rep_threads(r, p, w->recv_arrival);
	rep_end(r);
}

static void rep_packets(struct rep *r, struct bench *b)
{
	uint64_t sent = media_total(b, TOT_SENT), recv = media_total(b, TOT_RECV);

	rep_begin(r, "packets");
	rep_u64(r, "sent", sent);
	rep_u64(r, "received", recv);
	rep_u64(r, "lost", sent > recv ? sent - recv : 0);
	rep_f(r, "loss_pct", loss_pct(sent, recv), 4);
	rep_u64(r, "duplicates", media_total(b, TOT_DUPS));
	rep_u64(r, "reordered", media_total(b, TOT_REORD));
	rep_u64(r, "too_late", media_total(b, TOT_LATE));
	rep_u64(r, "misrouted", b->misrouted);
	rep_u64(r, "foreign", b->foreign + b->truncated);
	rep_u64(r, "send_errors", media_total(b, TOT_SEND_ERR));
	rep_u64(r, "recv_errors", b->recv_errors);
	rep_u64(r, "srtp_errors", b->srtp_errors);
	rep_u64(r, "payload_errors", b->payload_errors);
	rep_end(r);
}

static void rep_teardown(struct rep *r, struct bench *b)
{
	rep_begin(r, "delete");
	rep_u64(r, "ok", b->del_ok);
	rep_u64(r, "errors", b->del_err);
	rep_u64(r, "stats_mismatches", b->stats_mismatch);
	rep_u64(r, "stats_inconsistent", b->stats_inconsistent);
	rep_str(r, "first_mismatch", b->first_mismatch);
	rep_end(r);
}

void rep_lat(struct rep *r, const char *k, const struct hist *h)
{
	rep_begin(r, k);
	rep_u64(r, "n", h->n);
	rep_f(r, "p50_us", (double)hist_quantile(h, 0.50) / 1e3, 1);
	rep_f(r, "p99_us", (double)hist_quantile(h, 0.99) / 1e3, 1);
	rep_f(r, "max_us", (double)h->max / 1e3, 1);
	rep_end(r);
}

/* Reasons the run cannot be trusted, as one JSON array / table row each. */
static int verdict(struct rep *r, struct bench *b, bool strict_stats)
{
	char why[8][400];
	int n = 0;

	if (b->setup_err)
		snprintf(why[n++], sizeof(why[0]), "%u call setups failed (first: %s)",
			 b->setup_err, b->first_error);
	if (b->del_err)
		snprintf(why[n++], sizeof(why[0]), "%u deletes failed (first: %s)", b->del_err,
			 b->first_error);
	if (b->stats_inconsistent)
		snprintf(why[n++], sizeof(why[0]), "%llu calls with impossible relay stats (%s)",
			 (unsigned long long)b->stats_inconsistent, b->first_mismatch);
	if (strict_stats && b->stats_mismatch)
		snprintf(why[n++], sizeof(why[0]), "%llu calls whose relay stats differ from "
			 "what was sent (%s)", (unsigned long long)b->stats_mismatch,
			 b->first_mismatch);
	if (b->misrouted)
		snprintf(why[n++], sizeof(why[0]), "%llu packets arrived at the wrong endpoint",
			 (unsigned long long)b->misrouted);
	if (b->srtp_errors || b->payload_errors)
		snprintf(why[n++], sizeof(why[0]), "%llu SRTP packets from the relay did not "
			 "unprotect, %llu payloads were not what was sent",
			 (unsigned long long)b->srtp_errors, (unsigned long long)b->payload_errors);
	if (b->o.pid && kill(b->o.pid, 0))
		snprintf(why[n++], sizeof(why[0]), "relay pid %d is gone", b->o.pid);
	rep_bool(r, "valid", n == 0);
	rep_array(r, "invalid_reasons");
	for (int i = 0; i < n; i++)
		rep_str(r, NULL, why[i]);
	rep_array_end(r);
	return n ? EXIT_INVALID : 0;
}

static void rep_head(struct rep *r, struct bench *b)
{
	rep_begin(r, NULL);
	rep_str(r, "mode", b->o.mode);
	rep_str(r, "ng", b->o.ng);
	rep_u64(r, "relay_pid", (uint64_t)b->o.pid);
	rep_u64(r, "pps", b->o.pps);
	rep_u64(r, "payload", b->o.payload);
	rep_str(r, "send_path", media_uring(b) ? "io_uring" : "send");
	rep_bool(r, "record", b->o.record);
	rep_str(r, "srtp_caller", b->o.srtp ? b->o.srtp : "");
	rep_str(r, "srtp_callee", b->o.srtp_b ? b->o.srtp_b : "");
}

/* ---- modes ---- */

static int mode_plain(struct bench *b, struct rep *r)
{
	struct proc_sample before, idle, end;
	struct phase p = { 0 };
	int64_t t;
	unsigned n = b->o.calls;
	int ret;

	proc_sample(b->o.pid, &before);
	t = mono_ns();
	calls_setup(b, 0, n, false);
	settle(b);
	t = mono_ns() - t;
	run_for(b, 0.2);                 /* let the relay finish any deferred work */
	proc_sample(b->o.pid, &idle);
	for (unsigned i = 0; i < n && b->o.duration > 0; i++)
		if (b->calls[i].state == CALL_READY && media_call_start(b, &b->calls[i])) {
			bench_error(b, "call %u: cannot start media", i);
			b->calls[i].state = CALL_FAILED;
			b->setup_ok--;
			b->setup_err++;
		}
	if (b->o.duration > 0) {
		measure(b, &p);
		media_stop_sending(b);
		run_for(b, 0.3);         /* drain */
	}
	proc_sample(b->o.pid, &end);
	calls_delete_all(b);
	settle(b);

	rep_head(r, b);
	rep_u64(r, "calls", n);
	rep_f(r, "warmup_s", b->o.warmup, 1);
	rep_f(r, "duration_s", b->o.duration, 1);
	rep_begin(r, "setup");
	rep_u64(r, "ok", b->setup_ok);
	rep_u64(r, "errors", b->setup_err);
	rep_f(r, "seconds", (double)t / 1e9, 3);
	rep_f(r, "calls_per_s", (double)n / ((double)t / 1e9), 0);
	rep_end(r);
	rep_lat(r, "offer_latency", &b->lat_offer);
	rep_begin(r, "memory");
	rep_u64(r, "rss_kib_before", before.rss_kib);
	rep_u64(r, "rss_kib_idle_calls", idle.rss_kib);
	rep_u64(r, "rss_kib_end", end.rss_kib);
	rep_f(r, "kib_per_call", before.ok && idle.ok && b->setup_ok ?
	      ((double)idle.rss_kib - (double)before.rss_kib) / b->setup_ok : NAN, 2);
	rep_end(r);
	if (b->o.duration > 0) {
		rep_packets(r, b);
		rep_window(r, b, &p);
	}
	rep_teardown(r, b);
	/* A transcoding relay past its capacity drops on ingress (counted as loss): then
	 * only impossible stats make the run invalid, as in ramp. */
	ret = verdict(r, b, !(b->o.transcode && media_total(b, TOT_RECV) < media_total(b, TOT_SENT)));
	rep_end(r);
	return ret;
}

struct step {
	unsigned calls;
	double loss, p50_ms, p99_ms, relay_pct, gen_pct, us_per_pkt;
	const char *fail;
};

static int mode_ramp(struct bench *b, struct rep *r)
{
	struct step st[256];
	unsigned ns = 0, n = 0, held = 0;
	const char *limit = "max-calls";
	int ret;

	while (n < b->o.max_calls && ns < 256) {
		unsigned add = b->o.max_calls - n < b->o.step ? b->o.max_calls - n : b->o.step;
		struct step *s = &st[ns++];
		struct phase p = { 0 };
		uint64_t cpu;

		calls_setup(b, n, n + add, true);
		settle(b);
		n += add;
		memset(s, 0, sizeof(*s));
		s->calls = n;
		if (b->setup_err) {
			s->fail = "setup";
			limit = "setup errors";
			break;
		}
		measure(b, &p);
		cpu = p.relay0.ok && p.relay1.ok ? p.relay1.cpu_ns - p.relay0.cpu_ns : 0;
		s->loss = loss_pct(b->win.sent, b->win.recv);
		s->p50_ms = (double)hist_quantile(&b->win.lat, 0.5) / 1e6;
		s->p99_ms = (double)hist_quantile(&b->win.lat, 0.99) / 1e6;
		s->relay_pct = phase_relay_pct(&p);
		s->gen_pct = phase_self_pct(&p);
		s->us_per_pkt = b->win.recv_arrival ? (double)cpu / 1e3 / (double)b->win.recv_arrival : NAN;
		if (s->loss > b->o.ramp_loss_pct)
			s->fail = "loss";
		else if (s->p99_ms > b->o.ramp_p99_ms)
			s->fail = "p99";
		else if (s->relay_pct > b->o.ramp_cpu_pct)
			s->fail = "relay cpu";
		else if (s->gen_pct > 95)
			s->fail = "generator cpu";
		fprintf(stderr, "ramp: %5u calls  loss %7.3f %%  p50 %7.3f ms  p99 %8.3f ms  "
			"relay %5.1f %%  gen %5.1f %%  %s\n", n, s->loss, s->p50_ms, s->p99_ms,
			s->relay_pct, s->gen_pct, s->fail ? s->fail : "held");
		if (s->fail) {
			limit = s->fail;
			break;
		}
		held = n;
	}
	media_stop_sending(b);
	run_for(b, 0.3);
	calls_delete_all(b);
	settle(b);

	rep_head(r, b);
	rep_u64(r, "step", b->o.step);
	rep_u64(r, "max_calls", b->o.max_calls);
	rep_f(r, "warmup_s", b->o.warmup, 1);
	rep_f(r, "duration_s", b->o.duration, 1);
	rep_u64(r, "sustained_calls", held);
	rep_str(r, "limit", limit);
	rep_array(r, "steps");
	for (unsigned i = 0; i < ns; i++) {
		rep_begin(r, NULL);
		rep_u64(r, "calls", st[i].calls);
		rep_f(r, "loss_pct", st[i].loss, 4);
		rep_f(r, "p50_ms", st[i].p50_ms, 3);
		rep_f(r, "p99_ms", st[i].p99_ms, 3);
		rep_f(r, "relay_cpu_pct", st[i].relay_pct, 1);
		rep_f(r, "relay_cpu_us_per_pkt", st[i].us_per_pkt, 3);
		rep_f(r, "generator_cpu_pct", st[i].gen_pct, 1);
		rep_str(r, "result", st[i].fail ? st[i].fail : "held");
		rep_end(r);
	}
	rep_array_end(r);
	rep_packets(r, b);
	rep_teardown(r, b);
	/* past the breaking step the relay may drop on ingress: only impossible stats count */
	ret = verdict(r, b, false);
	rep_end(r);
	return ret;
}

static int mode_ctrl(struct bench *b, struct rep *r)
{
	struct phase p = { 0 };
	double secs;
	int ret;

	phase_begin(b, &p);
	for (unsigned i = 0; i < b->o.inflight && i < b->o.cycles; i++)
		calls_cycle_start(b, &b->calls[i]);
	settle(b);
	phase_end(b, &p);
	secs = (double)(p.t1 - p.t0) / 1e9;

	rep_head(r, b);
	rep_u64(r, "inflight", b->o.inflight);
	rep_u64(r, "cycles", calls_cycles_done);
	rep_u64(r, "errors", b->setup_err);
	rep_f(r, "seconds", secs, 3);
	rep_f(r, "calls_per_s", (double)calls_cycles_done / secs, 1);
	rep_lat(r, "offer", &b->lat_offer);
	rep_lat(r, "answer", &b->lat_answer);
	rep_lat(r, "delete", &b->lat_delete);
	rep_f(r, "relay_cpu_pct", phase_relay_pct(&p), 1);
	rep_f(r, "relay_cpu_us_per_call", p.relay0.ok && p.relay1.ok && calls_cycles_done ?
	      (double)(p.relay1.cpu_ns - p.relay0.cpu_ns) / 1e3 / (double)calls_cycles_done :
	      NAN, 1);
	rep_f(r, "generator_cpu_pct", phase_self_pct(&p), 1);
	ret = verdict(r, b, true);
	rep_end(r);
	return ret;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct rep r;
	unsigned cap;
	bool soak;
	int ret;
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("sluice-bench %s\n", SLUICE_VERSION);
		return 0;
	}

	if (!b)
		return EXIT_USAGE;
	b->o = (struct opts){
		.ng = "127.0.0.1:2223", .calls = 0, .duration = -1, .warmup = -1, .pps = 50,
		.payload = 172, .bind = "127.0.0.1", .port_base = 10000, .step = 100,
		.max_calls = 2000, .ramp_loss_pct = 1, .ramp_p99_ms = 50, .ramp_cpu_pct = 95,
		.inflight = 1, .cycles = 2000, .setup_inflight = 0, .ng_timeout_ms = 2000,
		.rate = 2000, .alive = 100, .sample = 1,
		.min_life = 2, .max_life = 20, .abandon_pct = 20, .relay_timeout = 5,
		.gone_grace = 2.5, .settle_ms = 100, .rss_slope_limit = 10, .port_pairs = 2000,
		.idle_growth_limit = 1024,
	};
	parse(&b->o, argc, argv);
	if (b->o.pid && kill(b->o.pid, 0))
		die_usage("no such process", "--pid");
	if (netaddr_parse_ip(b->o.bind, strlen(b->o.bind), 0, &b->bind_addr))
		die_usage("bad address", b->o.bind);
	b->next_port = b->o.port_base & ~1u;
	raise_nofile();

	soak = !strcmp(b->o.mode, "soak");      /* its own calls and phones (soak.h) */
	cap = !strcmp(b->o.mode, "plain") || !strcmp(b->o.mode, "transcode") ? b->o.calls :
	      !strcmp(b->o.mode, "ramp") ? b->o.max_calls :
	      !strcmp(b->o.mode, "churn") ? b->o.alive + b->o.setup_inflight + 1 : b->o.inflight;
	if (bsrtp_init(b))
		die_usage("--srtp / --srtp-b: unknown suite (or --srtp-b without --srtp)", NULL);
	if ((ret = ng_open(&b->ng, b->o.ng, b->o.ng_timeout_ms, 2)) ||
	    (!soak && ((ret = calls_alloc(b, cap)) || (ret = media_init(b)))) ||
	    (ret = loop_init(b)) || (b->o.transcode && (ret = xcode_init(b)))) {
		fprintf(stderr, "sluice-bench: setup: %s\n", strerror(-ret));
		return EXIT_USAGE;
	}
	rep_init(&r);
	if (!strcmp(b->o.mode, "plain") || !strcmp(b->o.mode, "transcode"))
		ret = mode_plain(b, &r);
	else if (!strcmp(b->o.mode, "ramp"))
		ret = mode_ramp(b, &r);
	else if (!strcmp(b->o.mode, "churn"))
		ret = mode_churn(b, &r);
	else if (soak)
		ret = mode_soak(b, &r);
	else
		ret = mode_ctrl(b, &r);
	rep_print(&r, stdout, b->o.json);
	if (ret)
		fprintf(stderr, "sluice-bench: INVALID run: %s\n",
			b->first_error[0] ? b->first_error : b->first_mismatch[0] ?
			b->first_mismatch : "see invalid_reasons");
	rep_free(&r);
	if (b->streams)
		bsrtp_free(b);
	media_free(b);
	ng_close(b->ng);
	return ret;
}
