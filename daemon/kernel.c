/* Kernel fast path glue (see kernel.h). */
#include "kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_ops.h"
#include "daemon.h"
#include "latch.h"
#include "nft.h"
#include "dtmf_delay.h"
#include "dtmf_trigger.h"
#include "media_delay.h"
#include "play_dtmf.h"
#include "play_clock.h"
#include "rec.h"
#include "sluice/kmod.h"
#include "sluice/kmod_srtp.h"
#include "sluice/log.h"

int kernel_start(struct daemon *d, char *err, size_t errlen)
{
	const struct config *cfg = d->cfg;
	int e;

	if (cfg->kernel == KERNEL_OFF) {
		snprintf(d->kernel_state, sizeof(d->kernel_state), "kernel forwarding off");
		return 0;
	}
	/* exclusive: a second sluiced on the same table must not flush the first's. With
	 * calls to restore, the entries of our previous run keep forwarding until the
	 * restore adopts or withdraws them (kernel_adopt.c). */
	d->kadopt_pending = kernel_adopt_wanted(d);
	e = kmod_open(&d->kmod, (unsigned)cfg->table, 0,
		      KMOD_OPEN_EXCL | (d->kadopt_pending ? 0 : KMOD_OPEN_FLUSH));
	if (!e) {
		e = sluice_nft_install((unsigned)cfg->table, NULL);
		if (e) {
			kmod_close(d->kmod, false);
			d->kmod = NULL;
		}
	}
	if (e) {
		snprintf(d->kernel_state, sizeof(d->kernel_state), "%s",
			 e == -ENOENT ? "kernel module not loaded" :
			 e == -EBUSY ? "kernel table in use by another sluiced" :
			 e == -EPROTO ? "kernel module of another version (reload it)" :
			 "kernel module unusable");
		if (cfg->kernel == KERNEL_ON) {
			snprintf(err, errlen, "--kernel=on: %s (table %d): %s", d->kernel_state,
				 cfg->table, strerror(-e));
			return e;
		}
		snprintf(d->kernel_state + strlen(d->kernel_state),
			 sizeof(d->kernel_state) - strlen(d->kernel_state), " (%s)", strerror(-e));
		return 0;
	}
	snprintf(d->kernel_state, sizeof(d->kernel_state), "kernel table %d", cfg->table);
	return 0;
}

void kernel_handover(struct daemon *d)
{
	d->khandover = d->kmod && kernel_adopt_wanted(d) && kmod_token(d->kmod);
}

void kernel_stop(struct daemon *d)
{
	if (!d->kmod)
		return;
	/* a start that failed before its restore decided leaves the table as it found it */
	if (d->khandover || d->kadopt_pending) {
		if (d->khandover)
			ilog(LOG_NOTICE, "kernel: %u entr%s of table %d left forwarding for the "
			     "next start", kmod_used(d->kmod), kmod_used(d->kmod) == 1 ? "y" : "ies",
			     d->cfg->table);
		kmod_close(d->kmod, false);
		d->kmod = NULL;
		return;
	}
	sluice_nft_remove((unsigned)d->cfg->table);
	kmod_close(d->kmod, true);
	d->kmod = NULL;
}

void kernel_read(const struct call *c, const struct stream *s, struct stream_stats *add,
		 int64_t *last)
{
	struct kmod_counters k;

	memset(add, 0, sizeof(*add));
	*last = 0;
	if (!c->kmod || s->kslot < 0 || kmod_read(c->kmod, s->kslot, &k))
		return;
	add->packets = k.packets;
	add->bytes = k.bytes;
	add->errors = k.errors;
	/* A foreign source is counted here only where the kernel drops it; passed on,
	 * userspace counts it (latch.c). */
	if (s->kpushed && !(s->kpushed->flags & SLUICE_SF_MISMATCH_PASS))
		add->foreign = k.mismatch;
	*last = (int64_t)(k.last_ns / 1000);
}

/* The kernel's record of the last dropped stranger, if it is newer than userspace's:
 * mono µs of it, or 0. */
static int64_t kernel_foreign(const struct call *c, const struct stream *s,
			      union sockaddr_u *src)
{
	struct kmod_counters k;
	int64_t t;

	if (!c->kmod || s->kslot < 0 || kmod_read(c->kmod, s->kslot, &k) ||
	    !k.last_mismatch_ns || k.last_mismatch.sa.sa_family == AF_UNSPEC)
		return 0;
	t = (int64_t)(k.last_mismatch_ns / 1000);
	if (t <= s->last_foreign_us)
		return 0;
	*src = k.last_mismatch;
	return t;
}

bool kernel_last_foreign(const struct call *c, const struct stream *s, union sockaddr_u *src)
{
	if (kernel_foreign(c, s, src))
		return true;
	*src = s->last_foreign;
	return s->last_foreign_us != 0;
}

/* Only forwarding between two known, settled endpoints goes to the kernel, plain or
 * with SRTP the module does (kernel_srtp.c: x and *srtp, x NULL for the verdict only). */
static const char *ineligible(const struct daemon *d, const struct stream *s,
			      union sockaddr_u *dest, struct kmod_srtp *x, bool *srtp)
{
	const struct stream *sink = s->sink;
	const char *why;

	/* before the module's absence: it is what the operator asked for, and it ends */
	if (play_dtmf_busy(s))
		return "playing DTMF";
	if ((why = play_clock_why(s)))
		return why;
	if (media_delay_busy(s))
		return "delay buffer";
	if (dtmf_delay_busy(s))
		return "DTMF delay";
	if (dtmf_trigger_busy(s))
		return "DTMF trigger";
	if (s->component == COMP_RTP && s->media->n_subs)
		return "copied to a subscriber";
	if (!d->kmod)
		return d->kernel_state;
	if (s->media->party->call->deleted)
		return "call deleted";
	if ((why = rec_kernel_why(s->media->party->call)))
		return why;
	if (s->media->party->opts.block)
		return "media blocked or silenced";
	if (!sink)
		return s->handler ? "needs userspace processing (transcoding or SRTP)" :
				    "no peer yet";
	/* the kernel receives on and sends from socket 0's address only */
	if (s->n_xs || sink->n_xs)
		return "ICE candidates on several addresses";
	if (s->media->bundle || s->media->bundle_tag || sink->media->bundle ||
	    sink->media->bundle_tag)
		return "BUNDLE (demultiplexed in userspace)";
	if (s->component == COMP_RTP && s->media->rtcp_mux && !sink->media->rtcp_mux)
		return "RTCP demultiplexing";
	if ((why = kernel_srtp_plan(s, x, srtp)))
		return why;
	if (!s->latched || !s->confirmed)
		return "waiting for latching";
	if (!stream_dest(sink, dest))
		return "peer address unknown";
	return NULL;
}

const char *kernel_why_not(const struct daemon *d, const struct stream *s)
{
	static __thread char buf[96];
	union sockaddr_u dest;
	const char *why;
	bool srtp;

	if (s->kslot >= 0)
		return NULL;
	why = ineligible(d, s, &dest, NULL, &srtp);
	if (why)
		return why;
	if (s->kerr) {
		snprintf(buf, sizeof(buf), "push refused: %s", strerror(-s->kerr));
		return buf;
	}
	return "pending";
}

static void fold_counters(struct stream *s)
{
	struct stream_stats k;
	union sockaddr_u src;
	int64_t last, t;

	kernel_read(s->media->party->call, s, &k, &last);
	s->stats.packets += k.packets;
	s->stats.bytes += k.bytes;
	s->stats.errors += k.errors;
	s->stats.foreign += k.foreign;
	s->kfolded.packets += k.packets;
	s->kfolded.bytes += k.bytes;
	s->kfolded.errors += k.errors;
	s->kforeign = 0;
	if (last > s->last_packet_us)
		s->last_packet_us = last;
	t = kernel_foreign(s->media->party->call, s, &src);
	if (t) {
		s->last_foreign = src;
		s->last_foreign_us = t;
	}
}

static void withdraw(struct daemon *d, struct stream *s)
{
	if (s->kslot < 0)
		return;
	/* Counters stay readable after the delete: reading them last also counts the
	 * packets forwarded while it was on its way. A handover keeps the entry, and its
	 * SRTP state in the module. */
	if (!d->khandover) {
		kmod_del(d->kmod, s->kslot);
		kernel_srtp_handback(d, s, true);
	}
	fold_counters(s);
	kernel_quality_fold(s->media->party->call, s, mono_fine_us());
	s->kslot = -1;
	free(s->kpushed);
	s->kpushed = NULL;
}

/* Call lock held. */
static void sync_stream(struct daemon *d, struct stream *s)
{
	union sockaddr_u dest;
	struct kmod_stream ks;
	struct kmod_srtp x;
	bool srtp = false;
	const char *why = ineligible(d, s, &dest, &x, &srtp);
	uint32_t jitter16;
	int r;

	if (why) {
		if (d->kmod)
			withdraw(d, s);
		return;
	}
	memset(&ks, 0, sizeof(ks));
	ks.local = s->local;
	ks.expect_src = s->endpoint;
	/* Only a fixed latch is pushed: other sources are foreign, and the kernel drops
	 * them itself, unless media-handover lets the latch follow them (latch.h). */
	ks.flags = s->media->party->opts.media_handover &&
		   !s->media->party->opts.strict_source ? SLUICE_SF_MISMATCH_PASS : 0;
	ks.out_src = s->sink->local;
	ks.out_dst = dest;
	if (s->media->party->call->tos >= 0) {     /* NG TOS, else --tos */
		ks.flags |= SLUICE_SF_SET_TOS;
		ks.tos = (uint8_t)s->media->party->call->tos;
	}
	kernel_quality_push(s, &ks);
	/* the jitter so far seeds a new entry only; an update keeps measuring */
	jitter16 = ks.jitter16;
	ks.jitter16 = 0;
	kernel_adopt_claim(d, s);       /* restart: our previous run's entry, if any */
	if (srtp)
		ks.flags |= SLUICE_SF_SRTP;
	/* new keys (re-INVITE): a new entry; the old keys' index means nothing to the new
	 * contexts, only their counts are kept */
	if (s->kslot >= 0 && kernel_srtp_changed(s, &x, srtp)) {
		kernel_srtp_handback(d, s, false);
		withdraw(d, s);
	}
	if (s->kslot >= 0) {
		if (!memcmp(s->kpushed, &ks, sizeof(ks)))
			return;
		r = kmod_update(d->kmod, s->kslot, &ks);
	} else {
		struct kmod_stream add = ks;

		if (!s->kpushed && !(s->kpushed = malloc(sizeof(*s->kpushed))))
			return;
		add.jitter16 = jitter16;
		r = srtp ? kernel_srtp_add(d, s, &add, &x) : kmod_add(d->kmod, &add);
		if (r >= 0) {
			s->kslot = r;
			memset(&s->kq, 0, sizeof(s->kq));
		}
	}
	if (r < 0) {
		if (s->kerr != r)
			clog(LOG_WARNING, s->media->party->call->callid, NULL,
			     "kernel refused stream on port %u: %s", netaddr_port(&s->local),
			     strerror(-r));
		s->kerr = r;
		withdraw(d, s);
		return;
	}
	s->kerr = 0;
	*s->kpushed = ks;
}

void kernel_sync_call(struct daemon *d, struct call *c)
{
	if (!d->kmod)
		return;
	pthread_mutex_lock(&c->lock);
	c->kdirty = false;
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			if (!p->media[i])
				continue;
			sync_stream(d, &p->media[i]->rtp);
			sync_stream(d, &p->media[i]->rtcp);
		}
	pthread_mutex_unlock(&c->lock);
}

/* Strangers the kernel dropped never reach the workers: log them from here. */
static void watch_stream(const struct call *c, struct stream *s, int64_t now)
{
	struct kmod_counters k;

	if (s->kslot < 0 || !s->kpushed || (s->kpushed->flags & SLUICE_SF_MISMATCH_PASS) ||
	    kmod_read(c->kmod, s->kslot, &k) || k.mismatch == s->kforeign)
		return;
	s->kforeign = k.mismatch;
	latch_log_foreign(s, &k.last_mismatch, now);
}

void kernel_watch_foreign(struct daemon *d, struct call *c, int64_t now)
{
	if (!d->kmod || !c->kmod)
		return;
	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			if (!p->media[i])
				continue;
			watch_stream(c, &p->media[i]->rtp, now);
			watch_stream(c, &p->media[i]->rtcp, now);
		}
	pthread_mutex_unlock(&c->lock);
}

void kernel_release_media(struct daemon *d, struct media *m)
{
	pthread_mutex_lock(&m->party->call->lock);
	if (d->kmod) {
		withdraw(d, &m->rtp);
		withdraw(d, &m->rtcp);
	}
	pthread_mutex_unlock(&m->party->call->lock);
}

void kernel_release_call(struct daemon *d, struct call *c)
{
	pthread_mutex_lock(&c->lock);
	for (struct party *p = c->parties; p; p = p->next)
		for (unsigned i = 0; i < p->n_media; i++) {
			if (!p->media[i])
				continue;
			if (d->kmod) {
				withdraw(d, &p->media[i]->rtp);
				withdraw(d, &p->media[i]->rtcp);
			}
		}
	pthread_mutex_unlock(&c->lock);
}
