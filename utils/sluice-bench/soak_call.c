/* One soak call's life over NG, driven by replies and by soak_calls_tick():
 *
 *   IDLE -> OFFER -> ANSWER -> TALK -(action)-> ... -> TALK -> STOPPING -> DELETE -> IDLE
 *                                                              \-> (abandoned) IDLE
 * Actions, one at a time, each ending in TALK again:
 *   re-INVITE       re-offer/answer with the same ports, media keeps flowing
 *   port change     the mover pauses (see below), offers a new port pair, and sends
 *                   from it once the answer is in
 *   hold (sendonly) a=sendonly / a=recvonly: the held side stops sending until resumed
 *   hold (0.0.0.0)  both pause, c=0.0.0.0; both send again after the resume
 * Either side may send the re-offer (the callee's carries its own tag as from-tag).
 * The end: both phones stop and pause, then delete and compare the relay's per-stream
 * counters with what was sent, or (abandoned) just go away; `timeout + grace` later a
 * query must find the call gone.
 * A pause is `settle` plus the wait until the last packet of each stopped phone has
 * reached the other phone, so nothing is in flight when the next request goes out. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "soak.h"
#include "sluice/bencode.h"

#define SEC    1000000000LL
#define NG_ROOM 240             /* leave a few of ng.c's 256 slots free */

static struct bench *B;         /* for the NG callbacks (set by soak_calls_tick) */

static int64_t rnd_ns(double lo, double hi)
{
	return (int64_t)((lo + (hi - lo) * (double)(bench_rnd64() >> 11) / 9007199254740992.0) * 1e9);
}

static int64_t settle_ns(const struct bench *b)
{
	return (int64_t)b->o.settle_ms * 1000000;
}

static void set_media(struct scall *c, bool a, bool b)
{
	c->ph[0].sending = a;
	c->ph[1].sending = b;
}

/* Senders are stopped (by the caller): wait `settle`, then until what they sent is
 * through the relay (flushed()), before the next request. */
static void pause_in(struct bench *b, struct scall *c, enum soak_state st, int64_t now)
{
	c->st = st;
	c->paused_at = now;
	c->at = now + settle_ns(b);
}

/* Both conditions of pause_in() met for the phones in `sides` (bit 0 A, bit 1 B)? The
 * wait for packets in flight is bounded by SOAK_DRAIN_MAX (a lost packet never
 * arrives); how long it took is reported, as the relay's lag. */
static bool flushed(struct bench *b, struct scall *c, unsigned sides, int64_t now)
{
	struct soak_counts *k = &b->soak->k;
	bool done = now >= c->at;

	for (int side = 0; side < 2 && done; side++)
		done = !(sides & (1u << side)) || soak_drained(c, side);
	if (!done && now - c->paused_at < SOAK_DRAIN_MAX)
		return false;
	if (now >= c->at) {
		k->drain_timeouts += !done;
		k->slow_drains += now - c->at > 20000000;      /* two ticks late */
		if (now - c->paused_at > k->drain_max)
			k->drain_max = now - c->paused_at;
	}
	return now >= c->at;
}

static void talk(struct scall *c, int64_t now)
{
	c->act = A_NONE;
	c->st = S_TALK;
	c->next_action_at = now + rnd_ns(1.0, 4.0);
}

static void finish(struct bench *b, struct scall *c)
{
	soak_phone_close(b, &c->ph[0]);
	soak_phone_close(b, &c->ph[1]);
	c->st = S_IDLE;
}

/* Something failed (bench_error has said what): a call the relay may hold is deleted
 * unchecked. */
static void fail(struct bench *b, struct scall *c, bool relay_has_it)
{
	b->soak->k.failed++;
	c->failed = true;
	set_media(c, false, false);
	if (!relay_has_it) {
		finish(b, c);
		return;
	}
	pause_in(b, c, S_STOPPING, mono_ns());
	c->at = c->paused_at;           /* delete at once, nothing to check */
}

static void on_offer(void *ctx, const char *body, size_t len, int err);
static void on_answer(void *ctx, const char *body, size_t len, int err);
static void on_delete(void *ctx, const char *body, size_t len, int err);

/* The offer of c->offerer, or the answer of its peer, with the phone's current SDP. */
static int send_oa(struct bench *b, struct scall *c, bool offer, bool initial)
{
	int o = c->offerer, side = offer ? o : o ^ 1;
	struct phone *p = &c->ph[side];
	struct ng_cmd m = { .cmd = offer ? "offer" : "answer", .callid = c->callid,
			    .from_tag = c->tag[o], .to_tag = initial && offer ? NULL : c->tag[o ^ 1] };
	struct strbuf sdp;
	int ret;

	sb_init(&sdp);
	callmsg_sdp(&sdp, &(struct call_sdp){
		.port = soak_phone_port(p), .ssrc = p->ssrc, .caller = side == 0, .dir = p->dir,
		.hold_zero = p->hold_zero, .sess_id = p->sess_id, .sess_ver = ++p->sess_ver });
	m.sdp = &sdp;
	ret = callmsg_send(b, &m, offer ? on_offer : on_answer, c);
	sb_free(&sdp);
	if (!ret)
		c->st = offer ? (initial ? S_OFFER : S_REOFFER) : (initial ? S_ANSWER : S_REANSWER);
	return ret;
}

static void start_call(struct bench *b, struct scall *c)
{
	struct soak *s = b->soak;
	int ret;

	for (int side = 0; side < 2; side++)
		soak_phone_reset(&c->ph[side]);
	c->serial = ++s->serial;
	snprintf(c->callid, sizeof(c->callid), "soak-%d-%" PRIu32 "-%08" PRIx64, (int)getpid(),
		 c->serial, bench_rnd64() & 0xffffffffu);
	snprintf(c->tag[0], sizeof(c->tag[0]), "%016" PRIx64, bench_rnd64());
	snprintf(c->tag[1], sizeof(c->tag[1]), "%016" PRIx64, bench_rnd64());
	c->abandon = bench_rnd64() % 100 < b->o.abandon_pct;
	c->story[0] = 0;
	c->failed = false;
	c->act = A_NONE;
	c->offerer = 0;
	if ((ret = soak_phone_open(b, c, 0)) || (ret = soak_phone_open(b, c, 1)) ||
	    (ret = send_oa(b, c, true, true))) {
		bench_error(b, "call %s: cannot start (%s)", c->callid, strerror(-ret));
		fail(b, c, false);
		return;
	}
	s->k.started++;
}

static void on_offer(void *ctx, const char *body, size_t len, int err)
{
	struct scall *c = ctx;
	struct bench *b = B;
	int o = c->offerer;
	bool initial = c->st == S_OFFER;
	struct bval *r = callmsg_reply(b, "offer", c->callid, body, len, err, NULL);

	/* the answerer learns where to send from the offer as the relay rewrote it */
	if (!r || callmsg_dest(r, &c->ph[o ^ 1].dst[K_RTP], &c->ph[o ^ 1].dst[K_RTCP])) {
		if (r)
			bench_error(b, "offer %s: no usable SDP in reply", c->callid);
		fail(b, c, true);
		goto out;
	}
	if (c->act == A_HOLD && c->phase == 0)
		c->ph[o ^ 1].sending = false;   /* held: recvonly */
	c->ph[o ^ 1].dir = c->act == A_HOLD && c->phase == 0 ? "recvonly" : NULL;
	if (send_oa(b, c, false, initial)) {
		bench_error(b, "answer %s: cannot send", c->callid);
		fail(b, c, true);
	}
out:
	callmsg_reset();
}

static void after_answer(struct bench *b, struct scall *c, int64_t now)
{
	int o = c->offerer;

	switch (c->act) {
	case A_NONE:            /* the call is set up */
		b->soak->k.setup_ok++;
		set_media(c, true, true);
		c->end_at = now + rnd_ns(b->o.min_life, b->o.max_life);
		break;
	case A_REINVITE:
		break;
	case A_MOVE:
		soak_phone_switch(&c->ph[c->mover], now);
		c->ph[c->mover].sending = true;
		break;
	case A_HOLD:
	case A_HOLD_ZERO:
		if (c->phase == 0) {
			c->st = S_HELD;
			c->at = now + rnd_ns(0.5, 2.0);
			return;
		}
		c->ph[o ^ 1].sending = true;
		c->ph[o].sending = true;
		break;
	default:
		break;
	}
	talk(c, now);
}

static void on_answer(void *ctx, const char *body, size_t len, int err)
{
	struct scall *c = ctx;
	struct bench *b = B;
	struct bval *r = callmsg_reply(b, "answer", c->callid, body, len, err, NULL);

	if (!r || callmsg_dest(r, &c->ph[c->offerer].dst[K_RTP], &c->ph[c->offerer].dst[K_RTCP])) {
		if (r)
			bench_error(b, "answer %s: no usable SDP in reply", c->callid);
		fail(b, c, true);
	} else {
		after_answer(b, c, mono_ns());
	}
	callmsg_reset();
}

/* One word per action in c->story: kind letter, offerer (A B), mover for a port change. */
static void tell(struct scall *c)
{
	size_t n = strlen(c->story);
	char w[4] = { "-RMHZ"[c->act], "AB"[c->offerer], c->act == A_MOVE ? "ab"[c->mover] : 0 };

	if (n + 5 < sizeof(c->story))
		snprintf(c->story + n, sizeof(c->story) - n, "%s%s", n ? " " : "", w);
}

static void start_action(struct bench *b, struct scall *c, int64_t now)
{
	uint64_t r = bench_rnd64();

	c->act = (enum soak_action)(A_REINVITE + r % (A__N - A_REINVITE));
	c->offerer = (int)(r >> 8) & 1;
	c->mover = (int)(r >> 9) & 1;
	c->phase = 0;
	b->soak->k.actions[c->act]++;
	tell(c);
	switch (c->act) {
	case A_MOVE:            /* nothing of the old pair in flight when the new is offered */
		c->ph[c->mover].sending = false;
		pause_in(b, c, S_PAUSE, now);
		return;
	case A_HOLD_ZERO:
		set_media(c, false, false);
		c->ph[c->offerer].hold_zero = true;
		pause_in(b, c, S_PAUSE, now);
		return;
	case A_HOLD:
		c->ph[c->offerer].dir = "sendonly";
		break;
	default:
		break;
	}
	if (send_oa(b, c, true, false)) {
		bench_error(b, "re-offer %s: cannot send", c->callid);
		fail(b, c, true);
	}
}

static void paused(struct bench *b, struct scall *c)
{
	int ret = c->act == A_MOVE ? soak_phone_move(b, c, c->mover) : 0;

	if (ret)
		bench_error(b, "call %s: no port pair for a port change (%s)", c->callid,
			    strerror(-ret));
	if (ret || send_oa(b, c, true, false)) {
		bench_error(b, "re-offer %s: cannot send", c->callid);
		fail(b, c, true);
	}
}

static void resume(struct bench *b, struct scall *c)
{
	c->phase = 1;
	c->ph[c->offerer].dir = NULL;
	c->ph[c->offerer].hold_zero = false;
	if (send_oa(b, c, true, false)) {
		bench_error(b, "resume offer %s: cannot send", c->callid);
		fail(b, c, true);
	}
}

/* ---- the end: delete and check, or abandon ---- */

static void check_side(struct bench *b, struct scall *c, struct bval *r, int side)
{
	struct soak *s = b->soak;
	const struct phone *p = &c->ph[side];
	struct tag_stats ts;
	bool ok = !callmsg_tag_stats(r, c->tag[side], &ts);

	for (int k = 0; ok && k < 2; k++)
		ok = ts.packets[k] == p->sent[k] && ts.bytes[k] == p->bytes[k];
	for (int k = 0; k < 2; k++)
		s->k.dup_suspect += c->ph[side ^ 1].recv[k] > p->sent[k];
	if (ok)
		return;
	s->k.stats_mismatch++;
	if (!s->first_mismatch[0])
		snprintf(s->first_mismatch, sizeof(s->first_mismatch),
			 "%s side %c: relay counted RTP %" PRIu64 "/%" PRIu64 " B (%" PRIu64
			 " errors), RTCP %" PRIu64 "/%" PRIu64 " B (%" PRIu64 " errors); sent RTP %"
			 PRIu64 "/%" PRIu64 " B, RTCP %" PRIu64 "/%" PRIu64 " B; actions [%s]",
			 c->callid, side ? 'B' : 'A', ts.packets[0], ts.bytes[0], ts.errors[0],
			 ts.packets[1], ts.bytes[1], ts.errors[1], p->sent[0], p->bytes[0],
			 p->sent[1], p->bytes[1], c->story);
}

static void on_delete(void *ctx, const char *body, size_t len, int err)
{
	struct scall *c = ctx;
	struct bench *b = B;
	struct soak *s = b->soak;
	struct bval *r = callmsg_reply(b, "delete", c->callid, body, len, err,
				       c->failed ? &(const char *){ NULL } : NULL);

	if (!c->failed) {
		if (!r) {
			s->k.failed++;
		} else {
			s->k.deleted++;
			s->k.stats_checked++;
			check_side(b, c, r, 0);
			check_side(b, c, r, 1);
		}
	}
	finish(b, c);
	callmsg_reset();
}

static void abandon(struct bench *b, struct scall *c, int64_t now)
{
	struct soak *s = b->soak;
	struct soak_gone *g;

	s->k.abandoned++;
	if (s->gone_len == s->gone_cap) {
		bench_error(b, "abandon queue full (%u)", s->gone_cap);
		s->k.gone_unclear++;
	} else {
		g = &s->gone[(s->gone_head + s->gone_len++) % s->gone_cap];
		memcpy(g->callid, c->callid, sizeof(g->callid));
		/* media stopped `settle` ago; the relay scans for timeouts once a second */
		g->check_at = now - settle_ns(b) + (int64_t)b->o.relay_timeout * SEC +
			      (int64_t)(b->o.gone_grace * 1e9);
		g->state = 0;
	}
	finish(b, c);
}

static void stopped(struct bench *b, struct scall *c, int64_t now)
{
	struct ng_cmd m = { .cmd = "delete", .callid = c->callid, .from_tag = c->tag[0] };

	if (c->abandon && !c->failed) {
		abandon(b, c, now);
		return;
	}
	if (callmsg_send(b, &m, on_delete, c)) {
		bench_error(b, "delete %s: cannot send", c->callid);
		b->soak->k.failed += !c->failed;
		finish(b, c);
		return;
	}
	c->st = S_DELETE;
}

/* ---- abandoned calls: gone after the relay's timeout? ---- */

static void on_gone(void *ctx, const char *body, size_t len, int err)
{
	struct soak_gone *g = ctx;
	struct soak *s = B->soak;
	const char *reason = NULL;
	struct bval *r = callmsg_reply(B, "query", g->callid, body, len, err, &reason);

	if (r) {
		s->k.gone_alive++;
		if (!s->first_alive[0])
			snprintf(s->first_alive, sizeof(s->first_alive), "%s still known %.1f s "
				 "after its media stopped", g->callid,
				 B->o.relay_timeout + B->o.gone_grace);
	} else if (reason && strstr(reason, "Unknown call")) {
		s->k.gone_ok++;
	} else {
		s->k.gone_unclear++;
		if (reason)
			bench_error(B, "query %s: unexpected error %s", g->callid, reason);
	}
	g->state = 2;
	callmsg_reset();
}

static void gone_tick(struct bench *b, int64_t now)
{
	struct soak *s = b->soak;

	while (s->gone_len && s->gone[s->gone_head].state == 2) {
		s->gone_head = (s->gone_head + 1) % s->gone_cap;
		s->gone_len--;
	}
	for (unsigned i = 0; i < s->gone_len; i++) {
		struct soak_gone *g = &s->gone[(s->gone_head + i) % s->gone_cap];
		struct ng_cmd m = { .cmd = "query", .callid = g->callid };

		if (g->check_at > now)
			break;          /* queued in check_at order */
		if (g->state || ng_inflight(b->ng) >= NG_ROOM)
			continue;
		if (callmsg_send(b, &m, on_gone, g)) {
			s->k.gone_unclear++;
			g->state = 2;
		} else {
			g->state = 1;
		}
	}
}

/* ---- timers ---- */

static void call_tick(struct bench *b, struct scall *c, int64_t now)
{
	struct soak *s = b->soak;

	soak_phone_expire(b, &c->ph[0], now);
	soak_phone_expire(b, &c->ph[1], now);
	switch (c->st) {
	case S_IDLE:
		if (!s->stopping && ng_inflight(b->ng) < b->o.setup_inflight)
			start_call(b, c);
		break;
	case S_TALK:
		if (now >= c->end_at || s->stopping) {
			set_media(c, false, false);
			pause_in(b, c, S_STOPPING, now);
		} else if (now >= c->next_action_at && ng_inflight(b->ng) < NG_ROOM) {
			if (c->end_at - now > 3 * SEC)
				start_action(b, c, now);
			else
				c->next_action_at = c->end_at;
		}
		break;
	case S_PAUSE:
		if (ng_inflight(b->ng) < NG_ROOM &&
		    flushed(b, c, c->act == A_MOVE ? 1u << c->mover : 3, now))
			paused(b, c);
		break;
	case S_HELD:
		if (now >= c->at && ng_inflight(b->ng) < NG_ROOM)
			resume(b, c);
		break;
	case S_STOPPING:
		if (ng_inflight(b->ng) < NG_ROOM && flushed(b, c, c->failed ? 0 : 3, now))
			stopped(b, c, now);
		break;
	default:                /* a request in flight */
		break;
	}
}

void soak_calls_tick(struct bench *b, int64_t now)
{
	struct soak *s = b->soak;

	B = b;
	s->stopping = now >= s->t_stop;
	for (unsigned i = 0; i < s->n; i++)
		call_tick(b, &s->calls[i], now);
	gone_tick(b, now);
}

bool soak_calls_idle(struct bench *b)
{
	const struct soak *s = b->soak;

	for (unsigned i = 0; i < s->n; i++)
		if (s->calls[i].st != S_IDLE)
			return false;
	for (unsigned i = 0; i < s->gone_len; i++)
		if (s->gone[(s->gone_head + i) % s->gone_cap].state != 2)
			return false;
	return true;
}
