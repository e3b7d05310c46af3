/* Adaptive jitter buffer; the contract is in include/sluice/jitter.h. */
#include "sluice/jitter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_US       3000000     /* each of the two delay windows */
#define MARGIN_US       10000       /* added to the measured spread */
#define DELAY_JUMP_US   3000000     /* transit delay change that restarts estimation */
#define RELEASE_SHIFT   8           /* target decays by 1/256 of the excess per packet */
#define FAR_BEHIND      1000        /* sequence distance that means a restarted sender */

struct slot {
	bool used;
	struct jitter_pkt p;
};

struct win {
	bool have;
	int64_t min, max;
};

struct jitter {
	struct jitter_cfg cfg;
	bool started;
	uint32_t ssrc;
	uint16_t next_seq;              /* next to play */
	unsigned count;                 /* packets buffered */
	/* timestamp unwrapping: ext = ref_ext + (int32)(ts - ref_ts) */
	uint32_t ref_ts;
	int64_t ref_ext, max_ext;
	int64_t last_ext;               /* ext of the last played or lost packet */
	bool have_last;
	bool last_played;
	uint32_t step;                  /* ticks between consecutive packets */
	/* transit delay estimation */
	struct win cur, prev;
	uint64_t win_start;
	int64_t target_us;
	/* off mode: arrival-order ring */
	unsigned head, tail;
	struct jitter_stats st;
	struct slot slots[JITTER_SLOTS];
};

int jitter_create(const struct jitter_cfg *cfg, struct jitter **out)
{
	struct jitter *jb;

	if (!cfg || !cfg->clock_rate || (cfg->max_ms && cfg->min_ms > cfg->max_ms))
		return -EINVAL;
	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return -ENOMEM;
	jb->cfg = *cfg;
	jb->target_us = (int64_t)cfg->min_ms * 1000;
	jb->step = cfg->clock_rate / 50;
	*out = jb;
	return 0;
}

void jitter_destroy(struct jitter *jb)
{
	free(jb);
}

static int64_t ext_of(const struct jitter *jb, uint32_t ts)
{
	return jb->ref_ext + (int32_t)(ts - jb->ref_ts);
}

static int64_t ts_us(const struct jitter *jb, int64_t ext)
{
	return ext * 1000000 / (int64_t)jb->cfg.clock_rate;
}

static int64_t delay_min(const struct jitter *jb)
{
	if (jb->cur.have && jb->prev.have)
		return jb->cur.min < jb->prev.min ? jb->cur.min : jb->prev.min;
	return jb->cur.have ? jb->cur.min : jb->prev.min;
}

static int64_t delay_max(const struct jitter *jb)
{
	if (jb->cur.have && jb->prev.have)
		return jb->cur.max > jb->prev.max ? jb->cur.max : jb->prev.max;
	return jb->cur.have ? jb->cur.max : jb->prev.max;
}

static void estimate(struct jitter *jb, int64_t d, uint64_t now)
{
	int64_t lo = (int64_t)jb->cfg.min_ms * 1000, hi = (int64_t)jb->cfg.max_ms * 1000;
	int64_t want;

	if ((jb->cur.have || jb->prev.have) &&
	    (d < delay_min(jb) - DELAY_JUMP_US || d > delay_max(jb) + DELAY_JUMP_US))
		jb->cur.have = jb->prev.have = false;   /* sender jumped its timestamps */
	if (!jb->cur.have && !jb->prev.have)
		jb->win_start = now;
	if (now - jb->win_start >= WINDOW_US) {
		jb->prev = jb->cur;
		jb->cur.have = false;
		jb->win_start = now;
	}
	if (!jb->cur.have) {
		jb->cur.have = true;
		jb->cur.min = jb->cur.max = d;
	} else if (d < jb->cur.min) {
		jb->cur.min = d;
	} else if (d > jb->cur.max) {
		jb->cur.max = d;
	}
	want = delay_max(jb) - delay_min(jb) + MARGIN_US;
	want = want < lo ? lo : want > hi ? hi : want;
	if (want > jb->target_us)
		jb->target_us = want;
	else
		jb->target_us -= (jb->target_us - want) >> RELEASE_SHIFT;
}

static uint64_t due(const struct jitter *jb, int64_t ext)
{
	int64_t t = ts_us(jb, ext) + delay_min(jb) + jb->target_us;

	return t < 0 ? 0 : (uint64_t)t;
}

static void reset(struct jitter *jb, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
	for (unsigned i = 0; i < JITTER_SLOTS; i++)
		jb->slots[i].used = false;
	jb->count = 0;
	if (jb->started)
		jb->st.resets++;
	jb->started = true;
	jb->ssrc = ssrc;
	jb->next_seq = seq;
	jb->ref_ts = ts;
	jb->ref_ext = jb->max_ext = (int64_t)1 << 32;  /* keeps ext positive */
	jb->have_last = jb->last_played = false;
	jb->cur.have = jb->prev.have = false;
}

static int put_off(struct jitter *jb, struct jitter_pkt **p)
{
	if (jb->tail - jb->head >= JITTER_SLOTS) {
		jb->st.overflow++;
		return -ENOBUFS;
	}
	*p = &jb->slots[jb->tail++ % JITTER_SLOTS].p;
	return 0;
}

int jitter_put(struct jitter *jb, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
	       uint32_t ssrc, const uint8_t *payload, size_t len, uint64_t now_us)
{
	struct jitter_pkt *p;
	struct slot *s;
	int16_t diff;
	int64_t ext;
	int ret;

	if (len > JITTER_MAX_PAYLOAD || (len && !payload))
		return -EMSGSIZE;
	if (!jb->cfg.max_ms) {
		ret = put_off(jb, &p);
		if (ret)
			return ret;
		goto store;
	}
	if (!jb->started || ssrc != jb->ssrc)
		reset(jb, ssrc, seq, ts);
	diff = (int16_t)(seq - jb->next_seq);
	if (diff < -FAR_BEHIND || diff >= JITTER_SLOTS) {
		reset(jb, ssrc, seq, ts);
		diff = 0;
	}
	if (diff < 0) {
		/* too late to play, but its transit delay is what the target must cover:
		 * learning only from packets in time would let the target creep up by the
		 * margin at a time */
		estimate(jb, (int64_t)now_us - ts_us(jb, ext_of(jb, ts)), now_us);
		jb->st.late++;
		return -ETIME;
	}
	s = &jb->slots[seq % JITTER_SLOTS];
	if (s->used) {
		jb->st.duplicate++;
		return -EEXIST;
	}
	ext = ext_of(jb, ts);
	if (ext > jb->ref_ext) {
		jb->ref_ext = ext;
		jb->ref_ts = ts;
	}
	if (ext > jb->max_ext)
		jb->max_ext = ext;
	estimate(jb, (int64_t)now_us - ts_us(jb, ext), now_us);
	s->used = true;
	jb->count++;
	p = &s->p;
store:
	jb->st.put++;
	p->pt = pt;
	p->marker = marker;
	p->seq = seq;
	p->ts = ts;
	p->ssrc = ssrc;
	p->len = (uint16_t)len;
	if (len)
		memcpy(p->payload, payload, len);
	return 0;
}

/* Past max_ms of buffered media the oldest goes out regardless of its due time. */
static bool overfull(const struct jitter *jb, int64_t ext)
{
	return jb->max_ext - ext > (int64_t)jb->cfg.max_ms * jb->cfg.clock_rate / 1000;
}

static const struct jitter_pkt *next_buffered(const struct jitter *jb)
{
	for (unsigned k = 1; k < JITTER_SLOTS; k++) {
		uint16_t seq = (uint16_t)(jb->next_seq + k);
		const struct slot *s = &jb->slots[seq % JITTER_SLOTS];

		if (s->used && s->p.seq == seq)
			return &s->p;
	}
	return NULL;
}

static enum jitter_kind get_off(struct jitter *jb, struct jitter_out *o)
{
	if (jb->head == jb->tail)
		return JITTER_EMPTY;
	o->kind = JITTER_PACKET;
	o->pkt = &jb->slots[jb->head++ % JITTER_SLOTS].p;
	o->seq = o->pkt->seq;
	o->ts = o->pkt->ts;
	jb->st.played++;
	return JITTER_PACKET;
}

enum jitter_kind jitter_get(struct jitter *jb, uint64_t now_us, struct jitter_out *o)
{
	struct slot *s;
	int64_t ext;

	memset(o, 0, sizeof(*o));
	if (!jb->cfg.max_ms)
		return get_off(jb, o);
	if (!jb->started || !jb->count)
		return JITTER_EMPTY;
	s = &jb->slots[jb->next_seq % JITTER_SLOTS];
	if (s->used && s->p.seq == jb->next_seq) {
		ext = ext_of(jb, s->p.ts);
		if (now_us < due(jb, ext) && !overfull(jb, ext))
			return JITTER_EMPTY;
		/* learn the packet spacing from in-order neighbours */
		if (jb->have_last && jb->last_played && ext > jb->last_ext &&
		    ext - jb->last_ext < jb->cfg.clock_rate / 4)
			jb->step = (uint32_t)(ext - jb->last_ext);
		s->used = false;
		jb->count--;
		jb->last_ext = ext;
		jb->have_last = jb->last_played = true;
		jb->next_seq++;
		jb->st.played++;
		o->kind = JITTER_PACKET;
		o->pkt = &s->p;
		o->seq = s->p.seq;
		o->ts = s->p.ts;
		return JITTER_PACKET;
	}
	o->pkt = next_buffered(jb);
	if (jb->have_last)
		ext = jb->last_ext + jb->step;
	else            /* cannot happen: the anchor packet is always buffered first */
		ext = o->pkt ? ext_of(jb, o->pkt->ts) - jb->step : jb->max_ext;
	if (now_us < due(jb, ext) && !overfull(jb, ext)) {
		o->pkt = NULL;
		return JITTER_EMPTY;
	}
	o->kind = JITTER_LOST;
	o->seq = jb->next_seq++;
	o->ts = (uint32_t)(ext - jb->ref_ext + jb->ref_ts);
	jb->last_ext = ext;
	jb->have_last = true;
	jb->last_played = false;
	jb->st.lost++;
	return JITTER_LOST;
}

uint64_t jitter_next_due(const struct jitter *jb)
{
	const struct slot *s;
	int64_t ext;

	if (!jb->cfg.max_ms)
		return jb->head == jb->tail ? UINT64_MAX : 0;
	if (!jb->started || !jb->count)
		return UINT64_MAX;
	s = &jb->slots[jb->next_seq % JITTER_SLOTS];
	if (s->used && s->p.seq == jb->next_seq)
		ext = ext_of(jb, s->p.ts);
	else
		ext = jb->have_last ? jb->last_ext + jb->step : jb->max_ext;
	return overfull(jb, ext) ? 0 : due(jb, ext);
}

void jitter_get_stats(const struct jitter *jb, struct jitter_stats *st)
{
	*st = jb->st;
	st->target_ms = (unsigned)(jb->target_us / 1000);
}
