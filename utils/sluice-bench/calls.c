/* Calls over NG: offer/answer with baresip-like SDP (as Kamailio's rtpengine module sends
 * it), teardown with the relay's per-tag packet counts checked against what was sent,
 * the offer-answer-delete cycles of ctrl mode, and the calls of churn mode. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/bencode.h"

uint64_t calls_cycles_done;

/* Setup/teardown progress: calls [cursor, end) still to start, at most window at once. */
static struct {
	struct bench *b;
	unsigned cursor, end;
	bool media;             /* start sending as soon as a call is answered */
	bool ctrl;              /* ctrl mode: no sockets at all */
	bool deleting;
	uint64_t cycles_started;
} cs;

void bench_error(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	if (b->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(b->first_error, sizeof(b->first_error), fmt, ap);
	va_end(ap);
}

uint64_t bench_rnd64(void)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)mono_ns() * 0x9e3779b97f4a7c15ull;
	return r;
}

int calls_alloc(struct bench *b, unsigned cap)
{
	b->calls = calloc(cap, sizeof(*b->calls));
	b->streams = calloc((size_t)cap * 2, sizeof(*b->streams));
	if (!b->calls || !b->streams)
		return -ENOMEM;
	b->cap_calls = cap;
	cs.b = b;
	for (unsigned i = 0; i < cap; i++) {
		struct call *c = &b->calls[i];

		c->idx = i;
		c->fd[0] = c->fd[1] = -1;
		snprintf(c->callid, sizeof(c->callid), "bench-%d-%u-%08" PRIx64, (int)getpid(), i,
			 bench_rnd64() & 0xffffffffu);
		snprintf(c->ftag, sizeof(c->ftag), "%016" PRIx64, bench_rnd64());
		snprintf(c->ttag, sizeof(c->ttag), "%016" PRIx64, bench_rnd64());
	}
	return 0;
}

/* Build and queue one NG command for call c. */
static int send_cmd(struct bench *b, struct call *c, const char *cmd, ng_cb cb)
{
	struct ng_cmd m = { .cmd = cmd, .callid = c->callid, .from_tag = c->ftag };
	struct strbuf sdp;
	int ret;

	sb_init(&sdp);
	if (strcmp(cmd, "delete")) {
		bool caller = !strcmp(cmd, "offer");
		struct stream *s = &b->streams[c->idx * 2 + (caller ? 0 : 1)];
		uint64_t r = bench_rnd64();

		if (b->o.transcode)
			xcode_sdp(&sdp, c->port[caller ? 0 : 1], s->ssrc, caller, r);
		else
			callmsg_sdp(&sdp, &(struct call_sdp){
				.port = c->port[caller ? 0 : 1], .ssrc = s->ssrc, .caller = caller,
				.sess_id = (uint32_t)(r & 0x7fffffff), .sess_ver = (uint32_t)(r >> 33) });
		if (bsrtp_side(b, caller ? 0 : 1) &&
		    bsrtp_own_key(b, c, caller ? 0 : 1, caller ? 1 : c->srtp_tag, &sdp)) {
			sb_free(&sdp);
			return -EINVAL;
		}
		m.sdp = &sdp;
		/* toward a plain callee the relay offers RTP/AVP (SRTP <-> RTP bridging) */
		m.transport_protocol = caller && bsrtp_side(b, 0) && !bsrtp_side(b, 1) ?
				       "RTP/AVP" : NULL;
		m.codec_transcode = b->o.transcode && caller;
		m.xcodec = b->o.transcode ? xcode_name() : NULL;
		m.record_call = b->o.record && caller;
	}
	if (!strcmp(cmd, "answer"))
		m.to_tag = c->ttag;
	c->t_cmd = mono_ns();
	ret = callmsg_send(b, &m, cb, c);
	sb_free(&sdp);
	return ret;
}

static struct bval *reply_ok(struct bench *b, struct call *c, const char *what,
			     const char *body, size_t len, int err)
{
	return callmsg_reply(b, what, c->callid, body, len, err, NULL);
}

static void pump(struct bench *b);
static void on_answer(void *ctx, const char *body, size_t len, int err);

static void call_failed(struct bench *b, struct call *c)
{
	c->state = CALL_FAILED;
	b->setup_err++;
	b->pending--;
}

static void on_offer(void *ctx, const char *body, size_t len, int err)
{
	struct call *c = ctx;
	struct bench *b = cs.b;
	struct bval *r = reply_ok(b, c, "offer", body, len, err);

	hist_add(&b->lat_offer, (uint64_t)(mono_ns() - c->t_cmd));
	if (!r || callmsg_dest(r, &c->relay_dst[1], NULL)) {
		if (r)
			bench_error(b, "offer %s: no usable SDP in reply", c->callid);
		call_failed(b, c);
	} else if (bsrtp_side(b, 1) && bsrtp_relay_key(b, c, 1, r, &c->srtp_tag)) {
		bench_error(b, "offer %s: no a=crypto of the callee's suite in reply", c->callid);
		call_failed(b, c);
	} else if (c->state = CALL_ANSWER, send_cmd(b, c, "answer", on_answer)) {
		bench_error(b, "answer %s: cannot send", c->callid);
		call_failed(b, c);
	}
	callmsg_reset();
	pump(b);
}

static void on_answer(void *ctx, const char *body, size_t len, int err)
{
	struct call *c = ctx;
	struct bench *b = cs.b;
	struct bval *r = reply_ok(b, c, "answer", body, len, err);

	hist_add(&b->lat_answer, (uint64_t)(mono_ns() - c->t_cmd));
	if (!r || callmsg_dest(r, &c->relay_dst[0], NULL)) {
		if (r)
			bench_error(b, "answer %s: no usable SDP in reply", c->callid);
		call_failed(b, c);
	} else if (bsrtp_side(b, 0) && bsrtp_relay_key(b, c, 0, r, NULL)) {
		bench_error(b, "answer %s: no a=crypto of the caller's suite in reply", c->callid);
		call_failed(b, c);
	} else {
		c->state = CALL_READY;
		b->setup_ok++;
		b->pending--;
		if (cs.media && media_call_start(b, c)) {
			bench_error(b, "call %s: cannot start media", c->callid);
			c->state = CALL_FAILED;
			b->setup_ok--;
			b->setup_err++;
		}
	}
	callmsg_reset();
	pump(b);
}

static int start_call(struct bench *b, struct call *c, ng_cb cb)
{
	for (int side = 0; side < 2; side++) {
		struct stream *s = &b->streams[c->idx * 2 + side];
		uint64_t r = bench_rnd64();

		s->id = c->idx * 2 + side;
		s->ssrc = (uint32_t)r;
		s->rtp_seq0 = (uint16_t)(r >> 32);
		s->rtp_ts0 = (uint32_t)(r >> 16);
		if (c->fd[side] < 0 && !cs.ctrl) {
			c->fd[side] = media_endpoint_open(b, c->idx * 2 + side, &c->port[side]);
			if (c->fd[side] < 0)
				return c->fd[side];
		} else if (cs.ctrl) {
			/* ctrl mode: no media, any port in our range will do */
			c->port[side] = (uint16_t)(b->o.port_base + (c->idx * 4 + side * 2) % 20000);
		}
	}
	c->state = CALL_OFFER;
	return send_cmd(b, c, "offer", cb);
}

static void on_delete(void *ctx, const char *body, size_t len, int err);

static void pump(struct bench *b)
{
	while (cs.cursor < cs.end && b->pending < b->o.setup_inflight) {
		struct call *c = &b->calls[cs.cursor++];
		int ret;

		b->pending++;
		if (cs.cursor > b->n_calls)
			b->n_calls = cs.cursor;
		if (cs.deleting) {
			if (c->state != CALL_READY && c->state != CALL_FAILED) {
				b->pending--;
				continue;
			}
			c->state = c->state == CALL_READY ? CALL_DELETE : CALL_DONE;
			ret = send_cmd(b, c, "delete", on_delete);
			if (ret) {
				bench_error(b, "delete %s: cannot send (%s)", c->callid,
					    strerror(-ret));
				b->del_err++;
				b->pending--;
			}
			continue;
		}
		ret = start_call(b, c, on_offer);
		if (ret) {
			bench_error(b, "call %u: cannot start (%s)", c->idx, strerror(-ret));
			call_failed(b, c);
		}
	}
}

void calls_setup(struct bench *b, unsigned from, unsigned to, bool media)
{
	cs.cursor = from;
	cs.end = to;
	cs.media = media;
	cs.deleting = false;
	pump(b);
}

static void check_stats(struct bench *b, struct call *c, struct bval *r)
{
	struct tag_stats ts[2];
	bool exact = true, consistent = true;

	if (callmsg_tag_stats(r, c->ftag, &ts[0]) || callmsg_tag_stats(r, c->ttag, &ts[1]) ||
	    callmsg_total_rtp(r, &c->relay_total)) {
		b->stats_inconsistent++;
		if (!b->first_mismatch[0])
			snprintf(b->first_mismatch, sizeof(b->first_mismatch),
				 "%s: delete reply lacks per-tag stats or totals", c->callid);
		return;
	}
	c->relay_pkts[0] = ts[0].packets[0];
	c->relay_pkts[1] = ts[1].packets[0];
	for (int side = 0; side < 2; side++) {
		const struct stream *s = &b->streams[c->idx * 2 + side];

		exact &= c->relay_pkts[side] == s->sent;
		/* the relay cannot have counted fewer than it delivered (a transcoder can:
		 * it conceals lost input), nor more than we sent */
		consistent &= (b->o.transcode || c->relay_pkts[side] >= s->recv) &&
			      c->relay_pkts[side] <= s->sent;
	}
	consistent &= c->relay_total == c->relay_pkts[0] + c->relay_pkts[1];
	if (!exact)
		b->stats_mismatch++;
	if (!consistent)
		b->stats_inconsistent++;
	if ((!exact || !consistent) && !b->first_mismatch[0])
		snprintf(b->first_mismatch, sizeof(b->first_mismatch),
			 "%s: relay counted A %" PRIu64 " B %" PRIu64 " total %" PRIu64
			 "; sent A %" PRIu64 " B %" PRIu64 ", delivered A %" PRIu64 " B %" PRIu64,
			 c->callid, c->relay_pkts[0], c->relay_pkts[1], c->relay_total,
			 b->streams[c->idx * 2].sent, b->streams[c->idx * 2 + 1].sent,
			 b->streams[c->idx * 2].recv, b->streams[c->idx * 2 + 1].recv);
}

static void on_delete(void *ctx, const char *body, size_t len, int err)
{
	struct call *c = ctx;
	struct bench *b = cs.b;
	struct bval *r = reply_ok(b, c, "delete", body, len, err);

	hist_add(&b->lat_delete, (uint64_t)(mono_ns() - c->t_cmd));
	b->pending--;
	if (!r) {
		/* cleanup of a call whose setup failed may well be refused */
		if (c->state == CALL_DELETE)
			b->del_err++;
	} else {
		b->del_ok++;
		if (c->state == CALL_DELETE)
			check_stats(b, c, r);
	}
	c->state = CALL_DONE;
	callmsg_reset();
	pump(b);
}

void calls_delete_all(struct bench *b)
{
	cs.cursor = 0;
	cs.end = b->n_calls;
	cs.deleting = true;
	pump(b);
}

/* ---- ctrl mode ---- */

static void cycle_next(struct bench *b, struct call *c);

static void on_cycle(void *ctx, const char *body, size_t len, int err)
{
	struct call *c = ctx;
	struct bench *b = cs.b;
	static const char *const names[] = { [CALL_OFFER] = "offer", [CALL_ANSWER] = "answer",
					     [CALL_DELETE] = "delete" };
	struct hist *h = c->state == CALL_OFFER ? &b->lat_offer :
			 c->state == CALL_ANSWER ? &b->lat_answer : &b->lat_delete;
	struct bval *r = reply_ok(b, c, names[c->state], body, len, err);

	hist_add(h, (uint64_t)(mono_ns() - c->t_cmd));
	callmsg_reset();
	if (!r) {
		b->setup_err++;
		if (c->state != CALL_DELETE) {
			/* clean up what the relay may hold, then go on */
			c->state = CALL_DELETE;
			if (!send_cmd(b, c, "delete", on_cycle))
				return;
		}
		cycle_next(b, c);
		return;
	}
	switch (c->state) {
	case CALL_OFFER:
		c->state = CALL_ANSWER;
		if (send_cmd(b, c, "answer", on_cycle))
			goto fail;
		return;
	case CALL_ANSWER:
		c->state = CALL_DELETE;
		if (send_cmd(b, c, "delete", on_cycle))
			goto fail;
		return;
	default:
		calls_cycles_done++;
		b->setup_ok++;
		cycle_next(b, c);
		return;
	}
fail:
	bench_error(b, "ctrl %s: cannot send", c->callid);
	b->setup_err++;
	cycle_next(b, c);
}

static void cycle_next(struct bench *b, struct call *c)
{
	if (cs.cycles_started >= b->o.cycles) {
		c->state = CALL_DONE;
		b->pending--;
		return;
	}
	cs.cycles_started++;
	snprintf(c->callid, sizeof(c->callid), "bench-%d-c%" PRIu64 "-%08" PRIx64,
		 (int)getpid(), cs.cycles_started, bench_rnd64() & 0xffffffffu);
	snprintf(c->ftag, sizeof(c->ftag), "%016" PRIx64, bench_rnd64());
	snprintf(c->ttag, sizeof(c->ttag), "%016" PRIx64, bench_rnd64());
	if (start_call(b, c, on_cycle)) {
		bench_error(b, "ctrl %s: cannot send offer", c->callid);
		b->setup_err++;
		c->state = CALL_DONE;
		b->pending--;
	}
}

void calls_cycle_start(struct bench *b, struct call *c)
{
	cs.media = false;
	cs.ctrl = true;
	b->pending++;
	cycle_next(b, c);
}

/* ---- churn mode: new calls at a rate, the oldest answered one deleted beyond a target ---- */

static struct {
	uint32_t *alive;                /* answered calls, oldest first (ring) */
	unsigned head, n;
	uint32_t *free_slot;            /* idle call slots (stack) */
	unsigned n_free;
	unsigned target;
	bool stopping;                  /* delete everything, start nothing */
} ch;

int calls_churn_init(struct bench *b, unsigned alive)
{
	ch.alive = calloc(b->cap_calls, sizeof(*ch.alive));
	ch.free_slot = calloc(b->cap_calls, sizeof(*ch.free_slot));
	if (!ch.alive || !ch.free_slot)
		return -ENOMEM;
	for (unsigned i = b->cap_calls; i-- > 0;)
		ch.free_slot[ch.n_free++] = i;
	ch.target = alive;
	cs.ctrl = true;                 /* no media sockets */
	cs.media = false;
	return 0;
}

unsigned calls_churn_alive(void)
{
	return ch.n;
}

static void on_churn(void *ctx, const char *body, size_t len, int err);

static void churn_release(struct bench *b, struct call *c)
{
	c->state = CALL_DONE;
	b->pending--;
	ch.free_slot[ch.n_free++] = c->idx;
}

/* Delete answered calls beyond the target (all of them when stopping). */
static void churn_trim(struct bench *b)
{
	while (ch.n > (ch.stopping ? 0 : ch.target)) {
		struct call *c = &b->calls[ch.alive[ch.head]];

		ch.head = (ch.head + 1) % b->cap_calls;
		ch.n--;
		b->pending++;
		c->state = CALL_DELETE;
		if (send_cmd(b, c, "delete", on_churn)) {
			bench_error(b, "churn %s: cannot send delete", c->callid);
			b->del_err++;
			churn_release(b, c);
		}
	}
}

static void churn_fail(struct bench *b, struct call *c)
{
	b->setup_err++;
	/* clean up whatever the relay holds of it */
	c->state = CALL_FAILED;
	if (send_cmd(b, c, "delete", on_churn))
		churn_release(b, c);
}

static void on_churn(void *ctx, const char *body, size_t len, int err)
{
	struct call *c = ctx;
	struct bench *b = cs.b;
	static const char *const names[] = { [CALL_OFFER] = "offer", [CALL_ANSWER] = "answer",
					     [CALL_DELETE] = "delete", [CALL_FAILED] = "cleanup" };
	struct hist *h = c->state == CALL_OFFER ? &b->lat_offer :
			 c->state == CALL_ANSWER ? &b->lat_answer : &b->lat_delete;
	bool okay = reply_ok(b, c, names[c->state], body, len, err) != NULL;

	hist_add(h, (uint64_t)(mono_ns() - c->t_cmd));
	callmsg_reset();
	switch (c->state) {
	case CALL_OFFER:
		c->state = CALL_ANSWER;
		if (!okay || send_cmd(b, c, "answer", on_churn))
			churn_fail(b, c);
		return;
	case CALL_ANSWER:
		if (!okay) {
			churn_fail(b, c);
			return;
		}
		b->setup_ok++;
		b->pending--;
		c->state = CALL_READY;
		ch.alive[(ch.head + ch.n) % b->cap_calls] = c->idx;
		ch.n++;
		churn_trim(b);
		return;
	case CALL_DELETE:
		if (okay) {
			b->del_ok++;
			calls_cycles_done++;
		} else {
			b->del_err++;
		}
		churn_release(b, c);
		return;
	default:                        /* cleanup delete of a failed call */
		churn_release(b, c);
		return;
	}
}

bool calls_churn_start(struct bench *b)
{
	struct call *c;

	if (ch.stopping || !ch.n_free)
		return false;
	c = &b->calls[ch.free_slot[--ch.n_free]];
	snprintf(c->callid, sizeof(c->callid), "bench-%d-h%" PRIu64 "-%08" PRIx64,
		 (int)getpid(), ++cs.cycles_started, bench_rnd64() & 0xffffffffu);
	snprintf(c->ftag, sizeof(c->ftag), "%016" PRIx64, bench_rnd64());
	snprintf(c->ttag, sizeof(c->ttag), "%016" PRIx64, bench_rnd64());
	b->pending++;
	if (start_call(b, c, on_churn)) {
		bench_error(b, "churn %s: cannot send offer", c->callid);
		b->setup_err++;
		churn_release(b, c);
		return false;
	}
	return true;
}

void calls_churn_stop(struct bench *b)
{
	ch.stopping = true;
	churn_trim(b);
}
