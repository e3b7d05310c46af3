/* DTMF triggers (see dtmf_trigger.h). */
#include "dtmf_trigger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "ng_request.h"
#include "sluice/log.h"
#include "sluice/rfc4733.h"
#include "sluice/rtp.h"

#define DIGITS 16               /* trigger strings are at most this long */

struct dtmf_trigger {
	char on[DIGITS + 1], off[DIGITS + 1];   /* trigger, trigger-end ("" none) */
	int on_mode, off_mode;          /* enum dtmf_replace_mode, -2: no blocking */
	unsigned end_ms, end_digits;    /* 0: no limit */
	struct rfc4733_rx rx;
	char hist[DIGITS];              /* the last digits, oldest first */
	unsigned n_hist;
	bool active;                    /* the trigger's mode is on */
	int pending;                    /* -1 none; else switch to active = pending once
	                                   the digit that decided it is over */
	uint32_t pending_ts;            /* ... that digit's RTP timestamp */
	int64_t since_us;
	unsigned digits;                /* since it went on */
};

static void copy_digits(char *dst, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < DIGITS; i++)    /* 'a'-'d' as the events print them */
		dst[i] = s[i] >= 'a' && s[i] <= 'd' ? (char)(s[i] - 32) : s[i];
	dst[i] = '\0';
}

int dtmf_trigger_set(struct party *p, const struct ng_request *req)
{
	const __typeof__(req->dsec) *r = &req->dsec;
	struct dtmf_trigger *t = p->trig;

	if (!r->trigger[0] && !t)
		return 0;
	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return -ENOMEM;
		t->on_mode = 0;         /* drop */
		t->pending = -1;
		t->off_mode = -2;
		rfc4733_rx_init(&t->rx);
		p->trig = t;
	}
	if (r->trigger[0])
		copy_digits(t->on, r->trigger);
	if (r->trigger_end[0])
		copy_digits(t->off, r->trigger_end);
	if (r->trig_mode != -1)
		t->on_mode = r->trig_mode;
	if (r->trig_end_mode != -1)
		t->off_mode = r->trig_end_mode;
	if (r->trig_end_ms >= 0)
		t->end_ms = (unsigned)r->trig_end_ms;
	if (r->trig_end_digits >= 0)
		t->end_digits = (unsigned)r->trig_end_digits;
	return 0;
}

void dtmf_trigger_free(struct party *p)
{
	free(p->trig);
	p->trig = NULL;
}

bool dtmf_trigger_busy(const struct stream *s)
{
	const struct dtmf_trigger *t = s->media->party->trig;

	return s->component == COMP_RTP && t && t->on[0];
}

static void set_mode(struct party *p, int mode)
{
	if (mode == -2) {
		p->opts.block &= (uint8_t)~BLOCK_DTMF;
		return;
	}
	p->opts.dtmf_sec.mode = (uint8_t)mode;
	p->opts.block |= BLOCK_DTMF;
}

static void switch_to(struct party *p, struct dtmf_trigger *t, bool on, int64_t now_us)
{
	t->active = on;
	t->since_us = now_us;
	t->digits = 0;
	t->n_hist = 0;
	set_mode(p, on ? t->on_mode : t->off_mode);
	clog(LOG_INFO, p->call->callid, p->n_tags ? p->tags[0].tag : NULL,
	     "DTMF trigger: %s", on ? "blocking mode of DTMF-security-trigger" :
	     "blocking mode of DTMF-security-trigger-end");
}

/* The last digits end with s. */
static bool ends_with(const struct dtmf_trigger *t, const char *s)
{
	size_t n = strlen(s);

	return n && n <= t->n_hist && !memcmp(t->hist + t->n_hist - n, s, n);
}

/* A switch a digit decides waits until its packets are over (its end is sent three
 * times): the digit is treated as the mode before it said, all of it. */
static void decide(struct dtmf_trigger *t, bool on, uint32_t ts)
{
	t->pending = on;
	t->pending_ts = ts;
}

static void digit(struct dtmf_trigger *t, char d, uint32_t ts)
{
	if (t->n_hist == DIGITS) {
		memmove(t->hist, t->hist + 1, DIGITS - 1);
		t->n_hist--;
	}
	t->hist[t->n_hist++] = d;
	if (!t->active) {
		if (ends_with(t, t->on))
			decide(t, true, ts);
		return;
	}
	t->digits++;
	if (ends_with(t, t->off) || (t->end_digits && t->digits >= t->end_digits))
		decide(t, false, ts);
}

void dtmf_trigger_packet(struct stream *s, const uint8_t *p, size_t len, int64_t now_us)
{
	struct party *pa = s->media->party;
	struct dtmf_trigger *t = pa->trig;
	struct rfc4733_event ev;
	size_t off, plen;
	uint32_t ts;
	bool event;

	if (!t->on[0] || s->component != COMP_RTP || len < 12 || rtp_is_rtcp(p, len))
		return;
	ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	event = s->media->dtmf_pt >= 0 && (p[1] & 0x7f) == s->media->dtmf_pt &&
		!rtp_payload(p, len, &off, &plen) && rfc4733_parse(p + off, plen, &ev) >= 0;
	if (t->pending >= 0 && (!event || ts != t->pending_ts)) {
		switch_to(pa, t, t->pending, now_us);
		t->pending = -1;
	}
	if (t->active && t->pending < 0 && t->end_ms &&
	    now_us - t->since_us >= (int64_t)t->end_ms * 1000)
		switch_to(pa, t, false, now_us);
	if (event && rfc4733_rx_feed(&t->rx, ts, &ev) & RFC4733_RX_END)
		digit(t, rfc4733_event_digit(ev.event), ts);
}
