/* churn mode: control-plane churn at a steady rate, as a proxy under load produces it.
 * New calls (offer + answer) start at --rate per second; once answered, a call joins the
 * --alive newest; the oldest beyond that is deleted. So the relay sees about 3 x rate NG
 * requests per second with --alive calls up, for --duration seconds. Every --sample
 * seconds a row: completed calls/s, NG replies/s, the relay's VmRSS and CPU. The rate is
 * a ceiling: with --setup-inflight calls already being set up or deleted no new one
 * starts, so a relay that slows down shows it as a lower calls/s, not as a backlog. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "report.h"

#define SLICE_NS 1000000LL              /* loop slice: 1 ms */

struct sample {
	double t;                       /* s since start, end of the interval */
	double calls_per_s;
	double replies_per_s;
	uint64_t rss_kib;
	double relay_cpu_pct;
	double relay_us_per_call;       /* relay CPU per completed call: load-independent */
	double gen_cpu_pct;             /* ours: above ~95 % the generator is the limit */
	unsigned alive;
	unsigned errors;
};

struct churn_run {
	struct sample *s;
	unsigned n, cap;
	int64_t t0, last_t;
	uint64_t last_calls, last_replies;
	struct proc_sample last_proc;
	uint64_t last_self;
};

static uint64_t replies(const struct bench *b)
{
	return b->lat_offer.n + b->lat_answer.n + b->lat_delete.n;
}

static void take_sample(struct bench *b, struct churn_run *cr, int64_t now)
{
	struct proc_sample p = { 0 };
	double dt = (double)(now - cr->last_t) / 1e9;
	struct sample *s;

	if (cr->n >= cr->cap)
		return;
	s = &cr->s[cr->n++];
	proc_sample(b->o.pid, &p);
	s->t = (double)(now - cr->t0) / 1e9;
	s->calls_per_s = (double)(calls_cycles_done - cr->last_calls) / dt;
	s->replies_per_s = (double)(replies(b) - cr->last_replies) / dt;
	s->rss_kib = p.ok ? p.rss_kib : 0;
	s->relay_cpu_pct = p.ok && cr->last_proc.ok ?
			   100.0 * (double)(p.cpu_ns - cr->last_proc.cpu_ns) /
			   (double)(p.at_ns - cr->last_proc.at_ns) : NAN;
	s->relay_us_per_call = p.ok && cr->last_proc.ok && calls_cycles_done > cr->last_calls ?
			       (double)(p.cpu_ns - cr->last_proc.cpu_ns) / 1e3 /
			       (double)(calls_cycles_done - cr->last_calls) : NAN;
	s->gen_cpu_pct = 100.0 * (double)(self_cpu_ns() - cr->last_self) / (dt * 1e9);
	s->alive = calls_churn_alive();
	s->errors = b->setup_err + b->del_err;
	fprintf(stderr, "churn: %6.1f s  %7.0f calls/s  %7.0f NG/s  relay RSS %8llu KiB  "
		"CPU %5.1f %% %6.1f us/call  gen %5.1f %%  alive %4u  errors %u\n", s->t,
		s->calls_per_s, s->replies_per_s, (unsigned long long)s->rss_kib, s->relay_cpu_pct,
		s->relay_us_per_call, s->gen_cpu_pct, s->alive, s->errors);
	cr->last_t = now;
	cr->last_calls = calls_cycles_done;
	cr->last_replies = replies(b);
	cr->last_proc = p;
	cr->last_self = self_cpu_ns();
}

/* Mean of a field over the samples whose interval ends in (from, to]. */
static double mean_of(const struct churn_run *cr, size_t field, double from, double to)
{
	double sum = 0;
	unsigned n = 0;

	for (unsigned i = 0; i < cr->n; i++) {
		double v = *(const double *)((const char *)&cr->s[i] + field);

		if (cr->s[i].t > from && cr->s[i].t <= to + 1e-9 && !isnan(v)) {
			sum += v;
			n++;
		}
	}
	return n ? sum / n : NAN;
}

#define MEAN(cr, f, from, to) mean_of(cr, offsetof(struct sample, f), from, to)

static void run(struct bench *b, struct churn_run *cr)
{
	int64_t interval = (int64_t)(b->o.sample * 1e9), end, next_sample, last;
	double tokens = 1, burst = b->o.rate / 20 > 1 ? b->o.rate / 20 : 1;

	cr->t0 = cr->last_t = last = mono_ns();
	end = cr->t0 + (int64_t)(b->o.duration * 1e9);
	next_sample = cr->t0 + interval;
	proc_sample(b->o.pid, &cr->last_proc);
	cr->last_self = self_cpu_ns();
	for (int64_t now = cr->t0; now < end; now = mono_ns()) {
		tokens += b->o.rate * (double)(now - last) / 1e9;
		if (tokens > burst)
			tokens = burst;
		last = now;
		while (tokens >= 1 && b->pending < b->o.setup_inflight && calls_churn_start(b))
			tokens -= 1;
		loop_run(b, now + SLICE_NS, NULL);
		if (mono_ns() >= next_sample) {
			take_sample(b, cr, mono_ns());
			next_sample += interval;
		}
	}
}

static bool idle(struct bench *b)
{
	return b->pending == 0;
}

int mode_churn(struct bench *b, struct rep *r)
{
	struct churn_run cr = { 0 };
	struct proc_sample before = { 0 }, after = { 0 };
	double secs = b->o.duration, third = secs / 3;
	uint64_t rss_max = 0, done;
	unsigned left;
	int ret;

	cr.cap = (unsigned)(secs / b->o.sample) + 4;
	cr.s = calloc(cr.cap, sizeof(*cr.s));
	if (!cr.s || calls_churn_init(b, b->o.alive))
		return 2;
	proc_sample(b->o.pid, &before);
	run(b, &cr);
	done = calls_cycles_done;       /* completed within --duration */
	left = calls_churn_alive();
	calls_churn_stop(b);
	loop_run(b, mono_ns() + 60 * 1000000000LL, idle);
	proc_sample(b->o.pid, &after);
	for (unsigned i = 0; i < cr.n; i++)
		rss_max = cr.s[i].rss_kib > rss_max ? cr.s[i].rss_kib : rss_max;

	rep_begin(r, NULL);
	rep_str(r, "mode", b->o.mode);
	rep_str(r, "ng", b->o.ng);
	rep_u64(r, "relay_pid", (uint64_t)b->o.pid);
	rep_f(r, "rate", b->o.rate, 0);
	rep_u64(r, "alive", b->o.alive);
	rep_f(r, "duration_s", secs, 1);
	rep_u64(r, "calls", done);
	rep_u64(r, "deleted_at_end", calls_cycles_done - done);
	rep_u64(r, "alive_at_end", left);
	rep_u64(r, "setup_errors", b->setup_err);
	rep_u64(r, "delete_errors", b->del_err);
	rep_f(r, "calls_per_s", (double)done / secs, 1);
	rep_f(r, "calls_per_s_first_third", MEAN(&cr, calls_per_s, 0, third), 1);
	rep_f(r, "calls_per_s_last_third", MEAN(&cr, calls_per_s, 2 * third, secs), 1);
	rep_f(r, "relay_cpu_us_per_call_first_third", MEAN(&cr, relay_us_per_call, 0, third), 1);
	rep_f(r, "relay_cpu_us_per_call_last_third",
	      MEAN(&cr, relay_us_per_call, 2 * third, secs), 1);
	rep_u64(r, "rss_kib_before", before.rss_kib);
	rep_u64(r, "rss_kib_max", rss_max);
	rep_u64(r, "rss_kib_end", cr.n ? cr.s[cr.n - 1].rss_kib : 0);
	rep_u64(r, "rss_kib_after_delete", after.rss_kib);
	rep_lat(r, "offer", &b->lat_offer);
	rep_lat(r, "delete", &b->lat_delete);
	rep_array(r, "samples");
	for (unsigned i = 0; i < cr.n; i++) {
		rep_begin(r, NULL);
		rep_f(r, "t", cr.s[i].t, 1);
		rep_f(r, "calls_per_s", cr.s[i].calls_per_s, 0);
		rep_f(r, "ng_per_s", cr.s[i].replies_per_s, 0);
		rep_u64(r, "rss_kib", cr.s[i].rss_kib);
		rep_f(r, "relay_cpu_pct", cr.s[i].relay_cpu_pct, 1);
		rep_f(r, "relay_cpu_us_per_call", cr.s[i].relay_us_per_call, 1);
		rep_f(r, "generator_cpu_pct", cr.s[i].gen_cpu_pct, 1);
		rep_u64(r, "alive", cr.s[i].alive);
		rep_end(r);
	}
	rep_array_end(r);
	ret = b->setup_err || b->del_err ? 1 : 0;
	rep_bool(r, "valid", ret == 0);
	rep_end(r);
	free(cr.s);
	return ret;
}
