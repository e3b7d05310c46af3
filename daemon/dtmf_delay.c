/* DTMF withheld and played later (see dtmf_delay.h). */
#include "dtmf_delay.h"

#include <errno.h>
#include <stdlib.h>

#include "call.h"
#include "play_dtmf.h"
#include "sluice/dtmf_replace.h"
#include "sluice/rfc4733.h"
#include "sluice/rtp.h"
#include "transcode_handler.h"

#define PENDING 8               /* digits waiting for their time; more are dropped */

struct pending {
	int64_t due_us;
	uint8_t event, volume;
	uint16_t duration_ms;
};

struct dtmf_delay {
	unsigned ms;
	struct rfc4733_rx rx;           /* the side's event train, start/end once each */
	int64_t start_us;               /* arrival of the current event's first packet */
	struct dtmf_replace rep;        /* silence in place of the events */
	struct pending q[PENDING];
	unsigned head, n;
	uint64_t dropped;
};

int dtmf_delay_set(struct media *m, unsigned ms)
{
	if (ms > DTMF_DELAY_MAX_MS)
		ms = DTMF_DELAY_MAX_MS;
	if (!m->dtmf_delay && ms) {
		if (!(m->dtmf_delay = calloc(1, sizeof(*m->dtmf_delay))))
			return -ENOMEM;
		rfc4733_rx_init(&m->dtmf_delay->rx);
	}
	if (m->dtmf_delay)
		m->dtmf_delay->ms = ms;
	/* the player (plain streams) exists before the worker needs it: made here */
	if (ms && !m->transcoding)
		play_dtmf_plain_prepare(m);
	return 0;
}

void dtmf_delay_wire(struct call *c)
{
	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++)
			if (p->media[i] && p->media[i]->dtmf_delay &&
			    p->media[i]->dtmf_delay->ms && !p->media[i]->transcoding)
				play_dtmf_plain_prepare(p->media[i]);
	pthread_mutex_unlock(&c->lock);
}

void dtmf_delay_free(struct media *m)
{
	free(m->dtmf_delay);
	m->dtmf_delay = NULL;
}

bool dtmf_delay_busy(const struct stream *s)
{
	const struct dtmf_delay *dd = s->media->dtmf_delay;

	return s->component == COMP_RTP && dd && (dd->ms || dd->n);
}

/* What a blocking mode of the side makes of a delayed digit: -1 nothing. */
static int played_digit(const struct party *p, uint8_t event, struct dtmf_replace *rep)
{
	const struct dtmf_replace_cfg *c = &p->opts.dtmf_sec;

	if (!(p->opts.block & BLOCK_DTMF))
		return event;
	switch (c->mode) {
	case DTMF_REPLACE_ZERO:
		return 0;
	case DTMF_REPLACE_DIGIT:
		return c->digit;
	case DTMF_REPLACE_RANDOM:
		return (event + 1 + (rep->rng = rep->rng * 1103515245u + 12345u) % 15) % 16;
	default:
		return -1;
	}
}

static void play(struct media *m, const struct pending *pd)
{
	int ev = played_digit(m->party, pd->event, &m->dtmf_delay->rep);

	if (ev < 0)
		return;
	if (m->transcoding)
		xcode_inject_dtmf(m, (uint8_t)ev, pd->duration_ms, pd->volume, 0);
	else if (m->dtmf_play)
		play_dtmf_plain_queue(m, (uint8_t)ev, pd->duration_ms, pd->volume);
}

void dtmf_delay_due(struct stream *t, int64_t now_us)
{
	struct dtmf_delay *dd = t->media->dtmf_delay;
	bool played = false;

	while (dd->n && dd->q[dd->head].due_us <= now_us) {
		play(t->media, &dd->q[dd->head]);
		dd->head = (dd->head + 1) % PENDING;
		dd->n--;
		played = true;
	}
	if (played && !dd->n && !dd->ms)  /* the last one after DTMF-delay was turned off */
		t->media->party->call->kdirty = true;   /* the kernel may take it back */
}

/* The digit's end: played ms after its first packet arrived. */
static void note(struct dtmf_delay *dd, const struct rfc4733_event *ev, unsigned clock)
{
	struct pending *pd;
	unsigned ms = (unsigned)ev->duration * 1000 / (clock ? clock : 8000);

	if (dd->n == PENDING) {
		dd->dropped++;
		return;
	}
	pd = &dd->q[(dd->head + dd->n++) % PENDING];
	*pd = (struct pending){
		.due_us = dd->start_us + (int64_t)dd->ms * 1000, .event = ev->event,
		.volume = ev->volume, .duration_ms = (uint16_t)(ms < 40 ? 40 : ms),
	};
}

int dtmf_delay_packet(struct stream *t, uint8_t *p, size_t *len, size_t cap, int64_t now_us)
{
	static const struct dtmf_replace_cfg silence = { .mode = DTMF_REPLACE_SILENCE };
	struct media *m = t->media;
	struct dtmf_delay *dd = m->dtmf_delay;
	struct rfc4733_event ev;
	size_t off, plen;
	unsigned r;

	if (!dd->ms || t->component != COMP_RTP || *len < 12 || rtp_is_rtcp(p, *len) ||
	    m->dtmf_pt < 0 || (p[1] & 0x7f) != m->dtmf_pt)
		return -1;
	if (rtp_payload(p, *len, &off, &plen) || rfc4733_parse(p + off, plen, &ev) < 0)
		return 0;
	r = rfc4733_rx_feed(&dd->rx, (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
			    (uint32_t)p[6] << 8 | p[7], &ev);
	if (r & RFC4733_RX_START)
		dd->start_us = now_us;
	if (r & RFC4733_RX_END)
		note(dd, &ev, m->dtmf_clock);
	return dtmf_replace_packet(&dd->rep, &silence,
				   m->codec_pt == 0 || m->codec_pt == 8 ? m->codec_pt : -1,
				   p, len, cap);
}
