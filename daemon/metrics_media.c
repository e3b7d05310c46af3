/* What the live calls hold: sessions by state, streams by forwarding mode, packets per
 * interface (with the ended calls' counters), transcoded streams per codec pair. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "call_ops.h"
#include "daemon.h"
#include "kernel.h"
#include "metrics_internal.h"

#define MAX_PAIRS 64            /* distinct codec pairs listed; the rest is "other" */

enum fwd {
	FWD_KERNEL, FWD_KERNEL_OFF, FWD_KERNEL_UNAVAILABLE, FWD_CALL_DELETED, FWD_RECORDING,
	FWD_CAPTURE_RING, FWD_BLOCKED, FWD_TRANSCODING, FWD_SECURE, FWD_PROCESSING, FWD_NO_PEER,
	FWD_BUNDLE, FWD_RTCP_DEMUX, FWD_LATCHING, FWD_NO_PEER_ADDRESS, FWD_REFUSED,
	FWD_PENDING, FWD_OTHER, FWD_N
};

static const char *const fwd_names[FWD_N] = {
	[FWD_KERNEL] = "kernel", [FWD_KERNEL_OFF] = "kernel_off",
	[FWD_KERNEL_UNAVAILABLE] = "kernel_unavailable", [FWD_CALL_DELETED] = "call_deleted",
	[FWD_RECORDING] = "recording", [FWD_CAPTURE_RING] = "capture_ring",
	[FWD_BLOCKED] = "blocked",
	[FWD_TRANSCODING] = "transcoding", [FWD_SECURE] = "secure",
	[FWD_PROCESSING] = "processing", [FWD_NO_PEER] = "no_peer", [FWD_BUNDLE] = "bundle",
	[FWD_RTCP_DEMUX] = "rtcp_demux", [FWD_LATCHING] = "latching",
	[FWD_NO_PEER_ADDRESS] = "no_peer_address", [FWD_REFUSED] = "kernel_refused",
	[FWD_PENDING] = "pending", [FWD_OTHER] = "other",
};

/* kernel_why_not()'s reasons (kernel.c, rec_kernel_why()) by how they begin */
static const struct { const char *prefix; enum fwd f; } why_map[] = {
	{ "call deleted", FWD_CALL_DELETED }, { "recording", FWD_RECORDING },
	{ "capture ring", FWD_CAPTURE_RING }, { "media blocked", FWD_BLOCKED },
	{ "needs userspace processing", FWD_PROCESSING },
	{ "no peer yet", FWD_NO_PEER }, { "BUNDLE", FWD_BUNDLE },
	{ "RTCP demultiplexing", FWD_RTCP_DEMUX }, { "waiting for latching", FWD_LATCHING },
	{ "peer address unknown", FWD_NO_PEER_ADDRESS }, { "push refused", FWD_REFUSED },
	{ "pending", FWD_PENDING },
};

enum { ST_OFFERED, ST_ANSWERED, ST_DELETED, ST_N };
static const char *const state_names[ST_N] = { "offered", "answered", "deleted" };

struct pair {
	char from[CALL_CODEC_MAX], to[CALL_CODEC_MAX];
	uint64_t n;
};

struct tally {
	struct metrics_iface ifc[CFG_MAX_INTERFACES];
	uint64_t fwd[FWD_N];
	uint64_t states[ST_N];
	uint64_t own;                           /* calls not deleted */
	struct pair pairs[MAX_PAIRS + 1];       /* the last one: "other" */
	unsigned n_pairs;
};

static enum fwd fwd_of(const struct daemon *d, const struct stream *s)
{
	const char *why = kernel_why_not(d, s);
	const struct stream *k = s->sink;
	enum fwd f = FWD_OTHER;

	if (!why)
		return FWD_KERNEL;
	if (!d->kmod)
		return d->cfg->kernel == KERNEL_OFF ? FWD_KERNEL_OFF : FWD_KERNEL_UNAVAILABLE;
	for (size_t i = 0; i < sizeof(why_map) / sizeof(why_map[0]); i++)
		if (!strncmp(why, why_map[i].prefix, strlen(why_map[i].prefix))) {
			f = why_map[i].f;
			break;
		}
	if (f != FWD_PROCESSING)
		return f;
	if (s->media->transcoding || (k && k->media->transcoding))
		return FWD_TRANSCODING;
	if (s->media->sec || (k && k->media->sec))
		return FWD_SECURE;
	return FWD_PROCESSING;
}

const char *metrics_fwd_reason(const struct daemon *d, const struct stream *s)
{
	return fwd_names[fwd_of(d, s)];
}

static unsigned iface_idx(const struct daemon *d, const struct media *m)
{
	ptrdiff_t i = m->iface - d->ifaces;

	return i >= 0 && i < (ptrdiff_t)d->n_ifaces ? (unsigned)i : 0;
}

/* In: what the stream received, on its own interface. Out: the same packets, on the
 * interface of the stream they are relayed from (its sink). Call lock held. */
static void count_stream(const struct daemon *d, const struct stream *s,
			 struct metrics_iface *ifc)
{
	unsigned comp = s->component == COMP_RTCP;
	struct metrics_iface *f = &ifc[iface_idx(d, s->media)];
	struct metrics_counters *in = &f->c[METRICS_IN][comp], *out;
	struct stream_stats st;
	int64_t last;

	stream_read_stats(s, &st, &last);
	in->packets += st.packets;
	in->bytes += st.bytes;
	in->errors += st.errors;
	f->foreign += st.foreign;
	if (!s->sink)
		return;
	out = &ifc[iface_idx(d, s->sink->media)].c[METRICS_OUT][comp];
	out->packets += st.packets;
	out->bytes += st.bytes;
}

static void count_pair(struct tally *t, const struct media *m)
{
	const struct party *peer = m->party->peer;
	const struct media *pm = peer && m->index <= peer->n_media ?
				 peer->media[m->index - 1] : NULL;
	struct pair *p = t->pairs;

	if (!m->transcoding || !pm)
		return;
	for (; p < t->pairs + t->n_pairs; p++)
		if (!strcmp(p->from, m->codec) && !strcmp(p->to, pm->codec))
			break;
	if (p == t->pairs + t->n_pairs) {
		if (t->n_pairs == MAX_PAIRS) {
			p = &t->pairs[MAX_PAIRS];
			strcpy(p->from, "other");
			strcpy(p->to, "other");
		} else {
			t->n_pairs++;
			memcpy(p->from, m->codec, sizeof(p->from));
			memcpy(p->to, pm->codec, sizeof(p->to));
		}
	}
	p->n++;
}

/* Every stream of c into ifc; with t, also modes and codec pairs. Call lock held. */
static void walk_call(const struct daemon *d, const struct call *c, struct metrics_iface *ifc,
		      struct tally *t)
{
	for (const struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			const struct media *m = p->media[i];

			if (!m)
				continue;
			count_stream(d, &m->rtp, ifc);
			count_stream(d, &m->rtcp, ifc);
			if (!t)
				continue;
			t->fwd[fwd_of(d, &m->rtp)]++;
			t->fwd[fwd_of(d, &m->rtcp)]++;
			count_pair(t, m);
		}
}

void metrics_call_ended(struct daemon *d, struct call *c)
{
	if (!d->metrics)
		return;
	pthread_mutex_lock(&c->lock);
	walk_call(d, c, d->metrics->ended, NULL);
	metrics_quality_ended(&d->metrics->quality, c);
	pthread_mutex_unlock(&c->lock);
}

static void tally_calls(struct daemon *d, struct tally *t)
{
	if (d->metrics)
		memcpy(t->ifc, d->metrics->ended, sizeof(t->ifc));
	for (struct call *c = d->reg.head; c; c = c->lnext) {
		t->states[c->deleted ? ST_DELETED : c->answered ? ST_ANSWERED : ST_OFFERED]++;
		t->own += !c->deleted;
		pthread_mutex_lock(&c->lock);
		walk_call(d, c, t->ifc, t);
		pthread_mutex_unlock(&c->lock);
	}
}

static void render_streams(const struct tally *t, struct strbuf *sb)
{
	prom_family(sb, "sluice_sessions_own", PROM_GAUGE,
		    "Calls this instance runs now (not deleted): statistics' sessionsown");
	prom_u64(sb, "sluice_sessions_own", NULL, 0, t->own);
	prom_family(sb, "sluice_sessions", PROM_GAUGE,
		    "Calls in the registry by state: offered (no answer yet), answered, "
		    "deleted (kept for delete-delay)");
	for (unsigned i = 0; i < ST_N; i++) {
		struct prom_label l = { "state", state_names[i] };
		prom_u64(sb, "sluice_sessions", &l, 1, t->states[i]);
	}
	prom_family(sb, "sluice_streams", PROM_GAUGE,
		    "RTP and RTCP streams of live calls by forwarding path; for userspace, "
		    "the reason they are not forwarded in the kernel");
	for (unsigned i = 0; i < FWD_N; i++) {
		struct prom_label l[2] = {
			{ "forwarding", i == FWD_KERNEL ? "kernel" : "userspace" },
			{ "reason", fwd_names[i] },
		};
		prom_u64(sb, "sluice_streams", l, i == FWD_KERNEL ? 1 : 2, t->fwd[i]);
	}
	prom_family(sb, "sluice_transcoded_streams", PROM_GAUGE,
		    "Transcoded directions of live calls, by codec received and codec sent");
	for (unsigned i = 0; i <= MAX_PAIRS; i++) {
		const struct pair *p = &t->pairs[i];
		struct prom_label l[2] = { { "from", p->from }, { "to", p->to } };

		if (i < t->n_pairs || (i == MAX_PAIRS && p->n))
			prom_u64(sb, "sluice_transcoded_streams", l, 2, p->n);
	}
}

/* One family over every interface, direction and component. field: offset of the
 * counter in struct metrics_counters; in_only: no "direction" label (errors). */
static void render_iface_family(const struct daemon *d, const struct tally *t,
				struct strbuf *sb, const char *name, size_t field, bool in_only)
{
	static const char *const dirs[2] = { "in", "out" };
	static const char *const comps[2] = { "rtp", "rtcp" };
	char addr[NETADDR_STRLEN];

	for (unsigned i = 0; i < d->n_ifaces; i++) {
		netaddr_ntop(&d->ifaces[i].local, addr, sizeof(addr));
		for (unsigned dir = 0; dir < (in_only ? 1u : 2u); dir++)
			for (unsigned c = 0; c < 2; c++) {
				const struct metrics_counters *k = &t->ifc[i].c[dir][c];
				struct prom_label l[4] = {
					{ "interface", d->ifaces[i].name }, { "address", addr },
					{ "protocol", comps[c] }, { "direction", dirs[dir] },
				};

				prom_u64(sb, name, l, in_only ? 3 : 4,
					 *(const uint64_t *)((const char *)k + field));
			}
	}
}

static void render_ifaces(const struct daemon *d, const struct tally *t, struct strbuf *sb)
{
	char addr[NETADDR_STRLEN];

	prom_family(sb, "sluice_packets_total", PROM_COUNTER,
		    "Media packets per interface: in = received on its ports, out = relayed "
		    "from its ports (counted on receipt)");
	render_iface_family(d, t, sb, "sluice_packets_total",
			    offsetof(struct metrics_counters, packets), false);
	prom_family(sb, "sluice_bytes_total", PROM_COUNTER,
		    "Media bytes (UDP payload, as received) per interface, as "
		    "sluice_packets_total");
	render_iface_family(d, t, sb, "sluice_bytes_total",
			    offsetof(struct metrics_counters, bytes), false);
	prom_family(sb, "sluice_packet_errors_total", PROM_COUNTER,
		    "Received packets dropped as invalid (truncated, failed SRTP "
		    "authentication, unknown BUNDLE stream...) per interface");
	render_iface_family(d, t, sb, "sluice_packet_errors_total",
			    offsetof(struct metrics_counters, errors), true);
	prom_family(sb, "sluice_foreign_packets_total", PROM_COUNTER,
		    "Packets dropped because their source is not the stream's peer");
	for (unsigned i = 0; i < d->n_ifaces; i++) {
		struct prom_label l[2] = {
			{ "interface", d->ifaces[i].name },
			{ "address", netaddr_ntop(&d->ifaces[i].local, addr, sizeof(addr)) },
		};
		prom_u64(sb, "sluice_foreign_packets_total", l, 2, t->ifc[i].foreign);
	}
}

int metrics_render_media(struct daemon *d, struct strbuf *sb)
{
	struct tally *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	tally_calls(d, t);
	render_streams(t, sb);
	render_ifaces(d, t, sb);
	free(t);
	return 0;
}
