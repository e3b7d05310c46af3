/* Statistics that need sampling or a look at a call as it ends (stats.h). */
#include "stats.h"

#include <stdio.h>
#include <string.h>

#include "call.h"
#include "daemon.h"
#include "kernel.h"
#include "ng_stats.h"
#include "quality_track.h"
#include "transcode_handler.h"

#define SAMPLE_US 1000000

static void counts_add(struct stats_counts *t, uint64_t p, uint64_t b, uint64_t e)
{
	t->packets += p;
	t->bytes += b;
	t->errors += e;
}

/* A stream's counters split by who forwarded: userspace's stats hold the kernel's
 * folded share (kfolded), the kernel's live share is read from the shared table. Call
 * lock held. */
static void stream_split(const struct call *c, const struct stream *s,
			 struct stats_counts *user, struct stats_counts *kern)
{
	struct stream_stats k;
	int64_t last;

	kernel_read(c, s, &k, &last);
	counts_add(user, s->stats.packets - s->kfolded.packets,
		   s->stats.bytes - s->kfolded.bytes, s->stats.errors - s->kfolded.errors);
	counts_add(kern, s->kfolded.packets + k.packets, s->kfolded.bytes + k.bytes,
		   s->kfolded.errors + k.errors);
}

static struct stats_chain *chain_of(struct stats_state *st, const char *name)
{
	struct stats_chain *ch;

	for (unsigned i = 0; i < st->n_chains; i++)
		if (!strcmp(st->chain[i].name, name))
			return &st->chain[i];
	if (st->n_chains == STATS_MAX_CHAINS)
		return NULL;            /* codecs are few: not reached in practice */
	ch = &st->chain[st->n_chains++];
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	return ch;
}

static void sample_call(struct stats_state *st, struct call *c, struct stats_counts *user,
			struct stats_counts *kern)
{
	struct xcode_sample xs;
	struct stats_chain *ch;

	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			struct media *m = p->media[i];

			if (!m)
				continue;
			stream_split(c, &m->rtp, user, kern);
			stream_split(c, &m->rtcp, user, kern);
			if (!m->transcoding || !xcode_sample(m, &xs) ||
			    !(ch = chain_of(st, xs.chain)))
				continue;
			ch->num++;
			ch->packets += xs.packets;
			ch->bytes += xs.bytes;
			ch->samples += xs.samples;
			ch->packetrate += xs.packets;
			ch->byterate += xs.bytes;
			ch->samplerate += xs.samples;
		}
	pthread_mutex_unlock(&c->lock);
}

static uint64_t per_sec(uint64_t now, uint64_t before, double secs)
{
	return now > before ? (uint64_t)((double)(now - before) / secs + 0.5) : 0;
}

static void set_rates(struct stats_counts *rate, const struct stats_counts *now,
		      const struct stats_counts *before, double secs)
{
	rate->packets = per_sec(now->packets, before->packets, secs);
	rate->bytes = per_sec(now->bytes, before->bytes, secs);
	rate->errors = per_sec(now->errors, before->errors, secs);
}

static void interval_sessions(struct stats_state *st, uint64_t n)
{
	if (!st->iv_seen || n < st->iv_min_sessions)
		st->iv_min_sessions = n;
	if (n > st->iv_max_sessions)
		st->iv_max_sessions = n;
	st->iv_seen = true;
}

static void sample(struct daemon *d, double secs)
{
	struct stats_state *st = &d->stats;
	const struct daemon_totals *t = &d->totals;
	struct stats_counts user = { 0 }, kern = st->ended_kernel;
	uint64_t live = 0;

	for (unsigned i = 0; i < st->n_chains; i++) {
		struct stats_chain *ch = &st->chain[i];

		ch->num = 0;
		ch->packetrate = ch->byterate = ch->samplerate = 0;
	}
	counts_add(&user, t->relayed_packets - kern.packets, t->relayed_bytes - kern.bytes,
		   t->relayed_errors - kern.errors);
	for (struct call *c = d->reg.head; c; c = c->lnext) {
		live += !c->deleted;
		sample_call(st, c, &user, &kern);
	}
	for (unsigned i = 0; i < st->n_chains; i++) {
		struct stats_chain *ch = &st->chain[i];

		ch->packetrate = (uint64_t)((double)ch->packetrate / secs + 0.5);
		ch->byterate = (uint64_t)((double)ch->byterate / secs + 0.5);
		ch->samplerate = (uint64_t)((double)ch->samplerate / secs + 0.5);
	}
	if (st->sampled) {
		set_rates(&st->rate_user, &user, &st->user, secs);
		set_rates(&st->rate_kernel, &kern, &st->kernel, secs);
	}
	st->user = user;
	st->kernel = kern;
	st->sampled = true;
	interval_sessions(st, live);
}

void stats_tick(struct daemon *d, int64_t now)
{
	struct stats_state *st = &d->stats;
	int64_t last = st->next_sample_us - SAMPLE_US;

	if (now < st->next_sample_us)
		return;
	sample(d, st->next_sample_us && now > last ? (double)(now - last) / 1e6 : 1.0);
	if (d->ngstats)
		ng_stats_second(d->ngstats);
	st->next_sample_us = now + SAMPLE_US;
}

uint64_t stats_bandwidth(const struct daemon *d)
{
	return d->stats.rate_user.bytes + d->stats.rate_kernel.bytes;
}

/* Is p listed before q among the call's parties? */
static bool listed_first(const struct call *c, const struct party *p, const struct party *q)
{
	for (const struct party *x = c->parties; x; x = x->next)
		if (x == p || x == q)
			return x == p;
	return true;
}

/* Media pairs (a side's m= line and its peer's) that carried nothing, or one way only.
 * Counted from the receiving RTP streams; a side without a peer is a pair on its own. */
static void count_ways(struct stats_state *st, const struct call *c)
{
	for (const struct party *p = c->parties; p; p = p->next) {
		const struct party *q = p->peer;

		if (q && !listed_first(c, p, q))
			continue;       /* the pair is counted from q */
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct media *a = p->media[i];
			const struct media *b = q && i < q->n_media ? q->media[i] : NULL;
			bool in_a = a && a->rtp.stats.packets, in_b = b && b->rtp.stats.packets;

			if (!a && !b)
				continue;
			if (!in_a && !in_b)
				st->zeroway++;
			else if (!in_a || !in_b)
				st->oneway++;
		}
	}
}

void stats_call_ended(struct daemon *d, struct call *c)
{
	struct stats_state *st = &d->stats;
	double secs = (double)(now_us() - c->created_us) / 1e6;
	unsigned mos_low, mos_avg;

	if (secs < 0)
		secs = 0;
	st->duration_sum += secs;
	st->duration_sq += secs * secs;
	st->iv_duration += secs;
	pthread_mutex_lock(&c->lock);
	/* the kernel's entries are gone: all its counts are folded into kfolded */
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct media *m = p->media[i];

			if (!m)
				continue;
			counts_add(&st->ended_kernel, m->rtp.kfolded.packets, m->rtp.kfolded.bytes,
				   m->rtp.kfolded.errors);
			counts_add(&st->ended_kernel, m->rtcp.kfolded.packets,
				   m->rtcp.kfolded.bytes, m->rtcp.kfolded.errors);
		}
	count_ways(st, c);
	quality_call_mos(c, &mos_low, &mos_avg);
	pthread_mutex_unlock(&c->lock);
	if (mos_avg) {          /* x10 */
		st->mos_sum += mos_avg / 10.0;
		st->mos_sq += (mos_avg / 10.0) * (mos_avg / 10.0);
		st->mos_calls++;
	}
}
