/* Userspace data plane: worker threads, batched receive and send, deferred reclamation. */
#include "relay.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "call.h"
#include "daemon.h"
#include "latch.h"
#include "hep_sender.h"
#include "dtmf_delay.h"
#include "dtmf_trigger.h"
#include "media_block.h"
#include "media_delay.h"
#include "media_handler.h"
#include "play_dtmf.h"
#include "play_clock.h"
#include "subscribe.h"
#include "quality_track.h"
#include "rec.h"
#include "relay_uring.h"
#include "sluice/log.h"
#include "sluice/rtp.h"

#define BATCH       64
#define PKT_MAX     4096
#define MAX_EVENTS  128
#define MAX_WORKERS 256

#define LANES       2
#define SCRATCH     64              /* handler-made packets per batch before a flush */
#define TIMER_SLACK 1000            /* µs a timer may fire early: epoll waits in ms */
#define TIMER_BATCH 64              /* timers fired per loop iteration */

/* Packets queued for one destination (socket + peer address). */
struct out_batch {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	union sockaddr_u dest;
	struct stream *dst;             /* NULL = lane free */
	unsigned sock;                  /* dst's socket they leave from (stream_tx_sock) */
	int fd;
	unsigned n;
};

struct relay_emitter {
	struct worker *w;
	int64_t now;                    /* mono_fine_us of the batch being handled */
	struct out_batch lane[LANES];   /* usually one: the sink; two when RTCP is demuxed */
	unsigned scratch_used;
	const uint8_t *rec_pending;     /* relay_record_plain(): copied, not yet committed */
};

struct worker {
	struct relay *relay;
	unsigned idx;
	pthread_t thread;
	int epfd;
	int evfd;
	_Atomic uint64_t seq;           /* bumped after every batch of events (epoll), after
	                                   every round's submit (io_uring): see grace() */
	struct relay_uring *u;          /* io_uring backend; NULL: epoll + recvmmsg */
	const char *why;                /* why not io_uring, when asked for */
	_Atomic bool ready;             /* u decided (relay_start waits for it) */
	struct mmsghdr in[BATCH];
	struct iovec in_iov[BATCH];
	union sockaddr_u src[BATCH];
	struct relay_rx rx[BATCH];
	struct relay_emitter em;
	pthread_mutex_t tlock;          /* the armed timer list; taken after a call lock */
	struct relay_timer timers;      /* list head (sentinel) */
	_Atomic int64_t tnext;          /* no timer due before; INT64_MAX: none. Written
	                                   under tlock, read without it */
	uint8_t buf[BATCH][PKT_MAX];
	uint8_t scratch[SCRATCH][PKT_MAX];
};

struct deferred {
	struct deferred *next;
	void (*fn)(void *);
	void *arg;
	uint64_t seq[];                 /* worker sequence numbers when deferred */
};

struct relay {
	struct daemon *d;
	unsigned n;
	_Atomic bool stop;
	struct worker **w;
	struct deferred *pending;       /* control thread only */
	unsigned n_pending;
};

static void lane_flush(struct relay_emitter *e, struct out_batch *o)
{
	unsigned done = 0;

	if (e->w->u) {                  /* queued: the round's one submit sends them */
		for (unsigned i = 0; i < o->n; i++)
			relay_uring_send(e->w->u, o->fd, &o->dest, o->iov[i].iov_base,
					 o->iov[i].iov_len);
		o->n = 0;
		return;
	}
	/* The common case at 50 packets/s per stream: one packet. sendto() skips the
	 * per-message header copy that sendmmsg() does. */
	if (o->n == 1) {
		sendto(o->fd, o->iov[0].iov_base, o->iov[0].iov_len, MSG_DONTWAIT,
		       &o->dest.sa, netaddr_len(&o->dest));
		o->n = 0;
		return;
	}
	while (done < o->n) {
		int r = sendmmsg(o->fd, o->msg + done, o->n - done, MSG_DONTWAIT);
		/* Full socket buffer or unreachable peer: the rest is lost, never logged
		 * per packet. */
		if (r <= 0)
			break;
		done += (unsigned)r;
	}
	o->n = 0;
}

static void emit_flush(struct relay_emitter *e)
{
	for (int l = 0; l < LANES; l++) {
		if (e->lane[l].n)
			lane_flush(e, &e->lane[l]);
		e->lane[l].dst = NULL;
	}
	/* io_uring: the queued sends read scratch at the round's submit; reused after it */
	if (!e->w->u)
		e->scratch_used = 0;
	e->rec_pending = NULL;          /* a copy whose packet never left stays unpublished */
}

/* Every queued packet sent now: scratch is free again. false: not sent yet (io_uring's
 * completion queue overflows), scratch stays in use. */
static bool emit_drain(struct relay_emitter *e)
{
	emit_flush(e);
	if (e->w->u && !relay_uring_submit(e->w->u))
		return false;
	e->scratch_used = 0;
	return true;
}

static struct out_batch *lane_for(struct relay_emitter *e, struct stream *dst)
{
	struct out_batch *free_lane = NULL;

	for (int l = 0; l < LANES; l++) {
		if (e->lane[l].dst == dst)
			return &e->lane[l];
		if (!e->lane[l].dst && !free_lane)
			free_lane = &e->lane[l];
	}
	if (!free_lane) {               /* a third destination in one batch: rare */
		free_lane = &e->lane[LANES - 1];
		lane_flush(e, free_lane);
	}
	if (!stream_dest(dst, &free_lane->dest))
		return NULL;
	free_lane->dst = dst;
	free_lane->sock = stream_tx_sock(dst, &free_lane->dest);
	free_lane->fd = stream_sock_fd(dst, free_lane->sock);
	return free_lane;
}

static bool in_rx_buffer(const struct worker *w, const uint8_t *p)
{
	const uint8_t *lo = &w->buf[0][0];

	if (w->u)
		return relay_uring_owns(w->u, p);
	return p >= lo && p < lo + sizeof(w->buf);
}

/* The recording's copy of a packet leaving through lane o (transport stream o->dst). */
static void record_out(struct relay_emitter *e, const struct out_batch *o, const uint8_t *data,
		       size_t len)
{
	struct stream *t = o->dst;
	struct call *c = t->media->party->call;
	struct rec *r = e->w->relay->d->rec;

	if (e->rec_pending == data) {
		rec_commit(r, e->w->idx);
		e->rec_pending = NULL;
		return;
	}
	rec_packet(r, e->w->idx, c, t->media->party->idx, stream_sock_local(t, o->sock), &o->dest,
		   data, len);
}

void relay_record_plain(struct relay_emitter *e, struct stream *dst, const uint8_t *data,
			size_t len)
{
	struct call *c = dst->media->party->call;
	union sockaddr_u dest;

	e->rec_pending = NULL;
	if (!c->rec.sink)
		return;
	dst = stream_transport(dst);
	if (stream_dest(dst, &dest) &&
	    rec_prepare(e->w->relay->d->rec, e->w->idx, c, dst->media->party->idx,
			stream_sock_local(dst, stream_tx_sock(dst, &dest)), &dest, data, len))
		e->rec_pending = data;
}

static int emit(struct relay_emitter *e, struct stream *dst, const uint8_t *data, size_t len,
		bool copy);

int relay_emit(struct relay_emitter *e, struct stream *dst, const uint8_t *data, size_t len)
{
	return emit(e, dst, data, len, false);
}

int relay_emit_copy(struct relay_emitter *e, struct stream *dst, const uint8_t *data,
		    size_t len)
{
	return emit(e, dst, data, len, true);
}

static int emit(struct relay_emitter *e, struct stream *dst, const uint8_t *data, size_t len,
		bool copy)
{
	struct worker *w = e->w;
	struct out_batch *o;

	if (dst)
		dst = stream_transport(dst);
	if (!dst || dst->fd < 0 || !(o = lane_for(e, dst)))
		return -ENOENT;
	if (len > PKT_MAX)
		return -ENOBUFS;
	if (dst->media->party->call->rec.sink)
		record_out(e, o, data, len);
	if (len >= 28 && data[1] == 200)        /* an SR: its answer gives the RTT */
		quality_out(dst, data, len, e->now);
	if (copy || !in_rx_buffer(w, data)) {
		if (e->scratch_used == SCRATCH) {
			if (!emit_drain(e))
				return -ENOBUFS;
			if (!(o = lane_for(e, dst)))
				return -ENOENT;
		}
		memcpy(w->scratch[e->scratch_used], data, len);
		data = w->scratch[e->scratch_used++];
	}
	if (o->n == BATCH)
		lane_flush(e, o);
	o->iov[o->n] = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
	o->msg[o->n].msg_hdr = (struct msghdr){
		.msg_name = &o->dest, .msg_namelen = netaddr_len(&o->dest),
		.msg_iov = &o->iov[o->n], .msg_iovlen = 1,
	};
	o->n++;
	return 0;
}

/* Route one accepted packet: RTCP arriving multiplexed on an RTP socket goes to the
 * peer's RTCP destination when the peer does not multiplex. */
static struct stream *route(struct stream *s, const uint8_t *p, size_t len)
{
	struct stream *sink = s->sink;

	if (sink && s->component == COMP_RTP && s->media->rtcp_mux && !sink->media->rtcp_mux &&
	    rtp_is_rtcp(p, len))
		return &sink->media->rtcp;
	return sink;
}

void relay_deliver(struct relay_emitter *e, struct stream *t, uint8_t *p, size_t len,
		   size_t cap, int64_t now)
{
	if (t->media->n_subs && t->component == COMP_RTP)
		subscribe_fork(e, t, p, len);           /* copies (subscribe.h) */
	if (t->handler)
		t->handler->ops->packet(t->handler, t, p, len, cap, e, now);
	else
		relay_emit(e, route(t, p, len), p, len);
}

static void log_latch(const struct stream *s, const union sockaddr_u *src,
		      enum latch_verdict v)
{
	const struct party *p = s->media->party;
	char a[NETADDR_STRLEN];

	clog(LOG_INFO, p->call->callid, p->n_tags ? p->tags[0].tag : NULL,
	     "%s %s port %u: endpoint %s", v == LATCH_NEW ? "latched" : "re-latched",
	     s->component == COMP_RTP ? "RTP" : "RTCP", netaddr_port(&s->local),
	     netaddr_str(src, a, sizeof(a)));
}

/* The steps before a packet counts as the stream's media: the handler's look at it
 * (ICE checks), the latch rules, authentication (SRTP), and only then the latch moves.
 * false: consumed or dropped. Call lock held. */
static bool admit(struct stream *s, struct call *c, const union sockaddr_u *src,
		   uint8_t *p, size_t *len, int64_t now, enum endpoint_learning dflt)
{
	const struct stream_handler_ops *ops = s->handler ? s->handler->ops : NULL;
	struct latch_step st;
	bool was_confirmed = s->confirmed;

	if (ops && ops->early) {
		enum early_verdict e = ops->early(s->handler, s, src, p, *len, now);

		if (e != EARLY_PASS) {
			if (e == EARLY_DROP)
				s->stats.errors++;
			return false;
		}
	}
	latch_judge(s, src, now, latch_mode(s, dflt), &st);
	if (st.v == LATCH_FOREIGN) {
		latch_foreign(s, src, now);
		return false;
	}
	if (ops && ops->auth && ops->auth(s->handler, s, p, len)) {
		s->stats.errors++;
		return false;
	}
	latch_commit(s, src, &st, p, *len, now);
	if (st.v != LATCH_OK || s->confirmed != was_confirmed)
		c->kdirty = c->sdirty = true;   /* the control thread re-checks kernel entries
		                                   and writes the new state (store.h) */
	if (st.v != LATCH_OK && log_enabled(LOG_INFO))
		log_latch(s, src, st.v);
	return true;
}

static void timer_set(struct worker *w, struct stream *s, struct relay_timer *t,
		      uint8_t kind, int64_t due_us);

/* Decide and forward packets that arrived on socket ref->idx of stream ref->s, read at
 * now (mono_us) and, finer for jitter, at w->em.now. */
static void rx_handle(struct worker *w, const struct stream_ref *ref, const struct relay_rx *rx,
		      unsigned n, int64_t now)
{
	struct daemon *d = w->relay->d;
	struct stream *s = ref->s;
	struct call *c = s->media->party->call;
	const union sockaddr_u *local;
	unsigned k = ref->idx, use;

	pthread_mutex_lock(&c->lock);
	/* a further socket replaced while this batch was read (media_rebind): no longer the
	 * stream's, nor what socket k is now */
	use = k == 0 || (k <= s->n_xs && ref == &s->xs[k - 1].ref) ? n : 0;
	local = stream_sock_local(s, k);
	s->rx_sock = (uint8_t)k;
	for (unsigned i = 0; i < use; i++) {
		uint8_t *p = rx[i].p;
		size_t len = rx[i].len;

		if (rx[i].trunc) {
			s->stats.errors++;
			continue;
		}
		if (!admit(s, c, rx[i].src, p, &len, now, d->cfg->endpoint_learning))
			continue;
		/* the stream the packet belongs to: s, or a BUNDLE member of s's group */
		struct stream *t = s->media->bundle_tag ? bundle_demux(s, p, len) : s;

		if (!t) {
			s->stats.errors++;
			continue;
		}

		t->stats.packets++;
		t->stats.bytes += rx[i].len;    /* as received, SRTP tag included */
		t->last_packet_us = now;
		if (c->rec.sink)        /* as it arrived, decrypted: s has the real port */
			rec_packet(d->rec, w->idx, c, t->media->party->idx, rx[i].src,
				   local, p, len);
		quality_in(s, t, p, len, w->em.now);
		if (d->hep && (s->component == COMP_RTCP || rtp_is_rtcp(p, len)))
			hep_rtcp(d->hep, w->idx, c, rx[i].src, local, p, len);
		if (t->media->dtmf_delay)       /* NG DTMF-delay: digits due now (dtmf_delay.h) */
			dtmf_delay_due(t, w->em.now);
		/* a played digit is the operator's, not the side's media: no block applies */
		bool played = t->media->dtmf_play && play_dtmf_packet(t, p, &len);

		if (!played && t->media->party->trig)  /* NG DTMF triggers (dtmf_trigger.h) */
			dtmf_trigger_packet(t, p, len, w->em.now);
		if (!played && t->media->dtmf_delay) {
			int v = dtmf_delay_packet(t, p, &len, PKT_MAX, w->em.now);

			if (!v)
				continue;       /* else: as sent, or silence in the event's place */
		}
		/* NG play media (play_clock.h): the side's own media waits while it plays */
		if (t->media->media_play && play_clock_packet(t, p, len, now) < 0)
			continue;

		if (!played && t->media->party->opts.block &&
		    !media_block_pass(t, p, &len, PKT_MAX))
			continue;       /* NG block/silence media (media_block.h) */
		if (t->media->delay && media_delay_hold(t, p, len, w->em.now)) {
			/* NG delay-buffer (media_delay.h): armed at the head's time, every
			 * time (one uncontended lock): a timer unlinked by a socket's
			 * re-registration is armed again by the next packet */
			timer_set(w, t, &t->dtimer, RELAY_TIMER_DELAY, media_delay_next(t));
			continue;
		}
		relay_deliver(&w->em, t, p, len, PKT_MAX, now);
	}
	pthread_mutex_unlock(&c->lock);
	/* File descriptors stay open until the grace period ends: safe without the lock. */
	emit_flush(&w->em);
}

/* One receive batch on socket ref->idx of stream ref->s: read, decide, send. Returns how
 * many packets were read. */
static int stream_batch(struct worker *w, const struct stream_ref *ref)
{
	int n = recvmmsg(__atomic_load_n(&ref->fd, __ATOMIC_ACQUIRE), w->in, BATCH,
			 MSG_DONTWAIT, NULL);

	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		w->rx[i] = (struct relay_rx){
			.p = w->buf[i], .len = w->in[i].msg_len, .src = &w->src[i],
			.trunc = w->in[i].msg_hdr.msg_flags & MSG_TRUNC,
		};
	w->em.now = mono_fine_us();     /* arrival for jitter: finer than the tick */
	rx_handle(w, ref, w->rx, (unsigned)n, mono_us());
	for (int i = 0; i < n; i++)     /* recvmmsg shrank them to what it stored */
		w->in[i].msg_hdr.msg_namelen = sizeof(w->src[i]);
	return n;
}

/* Sockets are edge-triggered (no re-poll of drained sockets in epoll_wait), so read
 * until a short batch says the queue is empty. A flooded socket gets a few batches,
 * then is re-armed so the others are served too. */
static void stream_readable(struct worker *w, struct stream_ref *ref)
{
	for (int round = 0; round < 4; round++)
		if (stream_batch(w, ref) < BATCH)
			return;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = ref };
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, __atomic_load_n(&ref->fd, __ATOMIC_ACQUIRE), &ev);
}

/* ---- timers ---- */

static void timer_unlink(struct relay_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = t;
	t->armed = false;
}

static void timer_set(struct worker *w, struct stream *s, struct relay_timer *t,
		      uint8_t kind, int64_t due_us)
{
	pthread_mutex_lock(&w->tlock);
	if (due_us < 0 || !s->registered) {
		/* deregistered: relay_stream_del() already unlinked it, and the stream may
		 * be freed after this batch */
		if (t->armed)
			timer_unlink(t);
	} else {
		if (!t->armed) {
			t->next = &w->timers;
			t->prev = w->timers.prev;
			t->prev->next = t;
			w->timers.prev = t;
			t->armed = true;
		}
		t->kind = kind;
		t->due_us = due_us;
		if (due_us < atomic_load_explicit(&w->tnext, memory_order_relaxed))
			atomic_store_explicit(&w->tnext, due_us, memory_order_relaxed);
	}
	pthread_mutex_unlock(&w->tlock);
}

void relay_timer_set(struct relay_emitter *e, struct stream *s, int64_t due_us)
{
	timer_set(e->w, s, &s->timer, RELAY_TIMER_HANDLER, due_us);
}

void relay_play_timer_set(struct relay_emitter *e, struct stream *s, int64_t due_us)
{
	timer_set(e->w, s, &s->ptimer, RELAY_TIMER_PLAY, due_us);
}

static void worker_wake(struct worker *w);

void relay_play_timer_start(struct relay *r, struct stream *s, unsigned worker,
			    int64_t due_us)
{
	struct worker *w = r->w[worker % r->n];

	timer_set(w, s, &s->ptimer, RELAY_TIMER_PLAY, due_us);
	worker_wake(w);                 /* its wait was computed without this timer */
}

/* epoll_wait's timeout: -1 without armed timers. */
static int timer_timeout(struct worker *w)
{
	/* a timer the control thread arms (play media) wakes the worker after it lowered
	 * tnext, so the next wait sees it */
	int64_t next = atomic_load_explicit(&w->tnext, memory_order_relaxed), d;

	if (next == INT64_MAX)
		return -1;
	d = next - mono_fine_us();
	if (d <= TIMER_SLACK)
		return 0;
	return d > 1000000 ? 1000 : (int)((d + 999) / 1000);
}

/* Unlinks the due timers (at most TIMER_BATCH) and recomputes tnext. O(armed timers):
 * one per transcoded stream with buffered media on this worker. */
static unsigned timers_take(struct worker *w, int64_t now, struct stream **due,
			    int64_t *when, uint8_t *kind)
{
	struct relay_timer *t, *next;
	int64_t tnext = INT64_MAX;
	unsigned n = 0;

	if (atomic_load_explicit(&w->tnext, memory_order_relaxed) > now + TIMER_SLACK)
		return 0;
	pthread_mutex_lock(&w->tlock);
	for (t = w->timers.next; t != &w->timers; t = next) {
		next = t->next;
		if (t->due_us <= now + TIMER_SLACK && n < TIMER_BATCH) {
			kind[n] = t->kind;
			due[n] = (struct stream *)((char *)t - (t->kind == RELAY_TIMER_PLAY ?
				offsetof(struct stream, ptimer) : t->kind == RELAY_TIMER_DELAY ?
				offsetof(struct stream, dtimer) : offsetof(struct stream, timer)));
			when[n++] = t->due_us;
			timer_unlink(t);
		} else if (t->due_us < tnext) {
			tnext = t->due_us;
		}
	}
	atomic_store_explicit(&w->tnext, tnext, memory_order_relaxed);
	pthread_mutex_unlock(&w->tlock);
	return n;
}

/* The held packets of s that are due, on their way; the timer again for the next.
 * Epoll mode: each goes through its own receive buffer (free between batches), flushed
 * before they are reused. */
static void delay_fire(struct worker *w, struct stream *s, int64_t now)
{
	unsigned k = 0;
	size_t len;
	int64_t next;

	while ((len = media_delay_release(s, now, w->buf[k], PKT_MAX))) {
		relay_deliver(&w->em, s, w->buf[k], len, PKT_MAX, now);
		if (++k == BATCH) {
			emit_flush(&w->em);
			k = 0;
		}
	}
	if ((next = media_delay_next(s)) >= 0)
		timer_set(w, s, &s->dtimer, RELAY_TIMER_DELAY, next);
}

/* A stream taken here cannot be freed before this loop iteration ends: it was armed,
 * so not yet deregistered when taken, and the free waits for the worker's next seq. */
static void timers_run(struct worker *w)
{
	struct stream *due[TIMER_BATCH];
	int64_t when[TIMER_BATCH], now = mono_fine_us();
	uint8_t kind[TIMER_BATCH];
	unsigned n = timers_take(w, now, due, when, kind);

	w->em.now = now;
	for (unsigned i = 0; i < n; i++) {
		struct stream *s = due[i];
		struct call *c = s->media->party->call;

		pthread_mutex_lock(&c->lock);
		if (kind[i] == RELAY_TIMER_PLAY)
			play_clock_tick(s, &w->em, when[i] > now ? when[i] : now);
		else if (kind[i] == RELAY_TIMER_DELAY)
			delay_fire(w, s, now);
		else if (s->handler && s->handler->ops->timer)
			s->handler->ops->timer(s->handler, s, &w->em, when[i] > now ? when[i] : now);
		pthread_mutex_unlock(&c->lock);
	}
	if (n)
		emit_flush(&w->em);
}

static void epoll_loop(struct worker *w)
{
	struct epoll_event ev[MAX_EVENTS];

	while (!atomic_load(&w->relay->stop)) {
		int n = epoll_wait(w->epfd, ev, MAX_EVENTS, timer_timeout(w));

		for (int i = 0; i < n; i++) {
			if (!ev[i].data.ptr) {
				uint64_t v;
				ssize_t r = read(w->evfd, &v, sizeof(v));
				(void)r;
				continue;
			}
			stream_readable(w, ev[i].data.ptr);
		}
		timers_run(w);
		atomic_fetch_add(&w->seq, 1);
	}
}

/* A round's packets come from any of the worker's sockets; those of one socket in a row
 * are handled under one taking of their call's lock. */
static void uring_loop(struct worker *w)
{
	while (!atomic_load(&w->relay->stop)) {
		unsigned n = relay_uring_round(w->u, timer_timeout(w), w->rx, BATCH), j;
		int64_t now = mono_us();

		if (!relay_uring_pending(w->u)) {
			w->em.scratch_used = 0; /* the sends that read it went out */
			/* the kernel took every send of the last round and every arm and
			 * cancel of this one: the grace period may count this round */
			atomic_fetch_add(&w->seq, 1);
		}
		w->em.now = mono_fine_us();     /* the round's packets arrived before this */
		for (unsigned i = 0; i < n; i = j) {
			for (j = i + 1; j < n && w->rx[j].ref == w->rx[i].ref; j++)
				;
			rx_handle(w, w->rx[i].ref, &w->rx[i], j - i, now);
		}
		timers_run(w);
	}
}

/* The ring is made here: io_uring wants its submitter to be the thread that made it. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct config *cfg = w->relay->d->cfg;

	if (cfg->io_uring &&
	    relay_uring_new(&w->u, cfg->io_uring_buffers, PKT_MAX, w->evfd, &w->why))
		w->u = NULL;
	atomic_store(&w->ready, true);
	if (w->u)
		uring_loop(w);
	else
		epoll_loop(w);
	relay_uring_free(w->u);
	w->u = NULL;
	return NULL;
}

static void worker_wake(struct worker *w)
{
	uint64_t one = 1;
	ssize_t r = write(w->evfd, &one, sizeof(one));
	(void)r;
}

static void worker_free(struct worker *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	pthread_mutex_destroy(&w->tlock);
	free(w);
}

static struct worker *worker_new(struct relay *r, unsigned idx)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (!w)
		return NULL;
	w->relay = r;
	w->idx = idx;
	w->em.w = w;
	pthread_mutex_init(&w->tlock, NULL);
	w->timers.next = w->timers.prev = &w->timers;
	atomic_init(&w->tnext, INT64_MAX);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->evfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev)) {
		worker_free(w);
		return NULL;
	}
	for (unsigned i = 0; i < BATCH; i++) {
		w->in_iov[i] = (struct iovec){ .iov_base = w->buf[i], .iov_len = PKT_MAX };
		w->in[i].msg_hdr = (struct msghdr){
			.msg_name = &w->src[i], .msg_namelen = sizeof(w->src[i]),
			.msg_iov = &w->in_iov[i], .msg_iovlen = 1,
		};
	}
	return w;
}

/* Waits until every worker has decided its backend, and says which in one line. */
static void log_backend(struct relay *r)
{
	const char *why = NULL;
	unsigned nu = 0;

	for (unsigned i = 0; i < r->n; i++) {
		while (!atomic_load(&r->w[i]->ready))
			usleep(100);
		if (r->w[i]->u)
			nu++;
		else if (r->w[i]->why)
			why = r->w[i]->why;
	}
	if (!r->d->cfg->io_uring)
		ilog(LOG_INFO, "media I/O: recvmmsg/sendmmsg (io-uring off)");
	else if (nu == r->n)
		ilog(LOG_INFO, "media I/O: io_uring, %u receive buffers per thread%s",
		     r->d->cfg->io_uring_buffers, relay_uring_stamped(r->w[0]->u) ?
		     "; packets sorted by receive time (this kernel completes newest first)" : "");
	else
		ilog(LOG_WARNING, "io_uring unavailable (%s): media I/O falls back to "
		     "recvmmsg/sendmmsg on %u of %u threads", why ? why : "?", r->n - nu, r->n);
}

int relay_start(struct relay **out, struct daemon *d, unsigned n)
{
	struct relay *r;
	unsigned i;

	if (n == 0 || n > MAX_WORKERS)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->d = d;
	r->w = calloc(n, sizeof(*r->w));
	if (!r->w)
		goto fail;
	for (i = 0; i < n; i++) {
		r->w[i] = worker_new(r, i);
		if (!r->w[i])
			goto fail;
		if (pthread_create(&r->w[i]->thread, NULL, worker_main, r->w[i])) {
			worker_free(r->w[i]);
			r->w[i] = NULL;
			goto fail;
		}
		r->n++;
	}
	log_backend(r);
	*out = r;
	return 0;
fail:
	relay_stop(r);
	return -ENOMEM;
}

unsigned relay_workers(const struct relay *r)
{
	return r->n;
}

void relay_stop(struct relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	for (unsigned i = 0; i < r->n; i++) {
		worker_wake(r->w[i]);
		pthread_join(r->w[i]->thread, NULL);
	}
	while (r->pending) {
		struct deferred *df = r->pending;
		r->pending = df->next;
		df->fn(df->arg);
		free(df);
	}
	for (unsigned i = 0; i < r->n; i++)
		worker_free(r->w[i]);
	free(r->w);
	free(r);
}

/* Start reading a socket on worker w: 0 or -errno. */
static int sock_watch(struct worker *w, struct stream_ref *ref, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = ref };
	int err;

	if (!w->u)
		return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
	err = relay_uring_add(w->u, ref);
	if (!err)
		worker_wake(w);         /* armed in its next round */
	return err;
}

static void sock_unwatch(struct worker *w, struct stream_ref *ref, int fd)
{
	if (!w->u) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	relay_uring_del(w->u, ref);
	worker_wake(w);                 /* the receive holds the socket until cancelled */
}

int relay_stream_add(struct relay *r, struct stream *s, unsigned worker)
{
	struct worker *w = r->w[worker % r->n];
	int err;

	/* the tag follows socket 0 (media_rebind replaces it); a worker still in a batch of
	 * the old one may read either */
	s->ref.s = s;
	__atomic_store_n(&s->ref.fd, s->fd, __ATOMIC_RELEASE);
	/* under tlock: relay_timer_set() reads it on the worker */
	pthread_mutex_lock(&w->tlock);
	s->registered = true;
	pthread_mutex_unlock(&w->tlock);
	err = sock_watch(w, &s->ref, s->fd);
	if (err) {
		pthread_mutex_lock(&w->tlock);
		s->registered = false;
		pthread_mutex_unlock(&w->tlock);
	}
	return err;
}

void relay_stream_del(struct relay *r, struct stream *s, unsigned worker)
{
	struct worker *w = r->w[worker % r->n];

	if (!s->registered)
		return;
	sock_unwatch(w, &s->ref, s->fd);
	pthread_mutex_lock(&w->tlock);
	s->registered = false;
	if (s->timer.armed)
		timer_unlink(&s->timer);
	if (s->ptimer.armed)
		timer_unlink(&s->ptimer);
	if (s->dtimer.armed)
		timer_unlink(&s->dtimer);
	pthread_mutex_unlock(&w->tlock);
}

int relay_xsock_add(struct relay *r, struct stream_xsock *x, unsigned worker)
{
	int err = sock_watch(r->w[worker % r->n], &x->ref, x->ref.fd);

	if (!err)
		x->registered = true;
	return err;
}

void relay_xsock_del(struct relay *r, struct stream_xsock *x, unsigned worker)
{
	if (!x->registered)
		return;
	sock_unwatch(r->w[worker % r->n], &x->ref, x->ref.fd);
	x->registered = false;
}

/* Bumps of w->seq after a relay_defer() until nothing of w names what was deleted
 * before it. epoll: one, the end of the batch w was in (its sockets left the epoll set at
 * once). io_uring: two. A deleted socket leaves the ring in the worker's next round (its
 * receive cancelled), and sends queued in a round name their socket by number until the
 * next round's submit: the first bump ends the round w was in, and the second comes after
 * the submit of a round begun after the defer, which took the delete, cancelled the
 * receive (the port is free once closed) and sent what the round before queued (no send
 * leaves from a reused descriptor). */
static unsigned grace(const struct worker *w)
{
	return w->u ? 2 : 1;
}

int relay_defer(struct relay *r, void (*fn)(void *), void *arg)
{
	struct deferred *df = malloc(sizeof(*df) + r->n * sizeof(uint64_t));

	if (!df) {
		/* No memory for bookkeeping: wait out the grace period here instead. */
		for (unsigned i = 0; i < r->n; i++) {
			uint64_t s0 = atomic_load(&r->w[i]->seq);
			while (atomic_load(&r->w[i]->seq) - s0 < grace(r->w[i]) &&
			       !atomic_load(&r->stop)) {
				worker_wake(r->w[i]);
				usleep(1000);
			}
		}
		fn(arg);
		return -ENOMEM;
	}
	df->fn = fn;
	df->arg = arg;
	for (unsigned i = 0; i < r->n; i++)
		df->seq[i] = atomic_load(&r->w[i]->seq);
	df->next = r->pending;
	r->pending = df;
	r->n_pending++;
	return 0;
}

static bool grace_over(struct relay *r, const struct deferred *df, bool wake)
{
	bool over = true;

	for (unsigned i = 0; i < r->n; i++) {
		if (atomic_load(&r->w[i]->seq) - df->seq[i] >= grace(r->w[i]))
			continue;
		over = false;
		if (wake)
			worker_wake(r->w[i]);
	}
	return over;
}

unsigned relay_reclaim(struct relay *r)
{
	struct deferred **pp = &r->pending;

	while (*pp) {
		struct deferred *df = *pp;
		if (grace_over(r, df, true)) {
			*pp = df->next;
			df->fn(df->arg);
			free(df);
			r->n_pending--;
		} else {
			pp = &df->next;
		}
	}
	return r->n_pending;
}

unsigned relay_flush(struct relay *r)
{
	unsigned before = r->n_pending;

	for (int i = 0; i < 1000 && relay_reclaim(r); i++)
		usleep(100);
	return before - r->n_pending;
}
