/* The media engine: every endpoint has its own UDP socket (distinct source ports, as
 * phones), connected to its relay port once the call is answered. Sends are paced on a
 * wheel of WHEEL_SLOTS slots per packet interval (stream i sends in slot i % WHEEL_SLOTS,
 * so any number of streams is spread evenly), and one slot's packets - each from a
 * different socket - go to the kernel in one io_uring submission. Receives use epoll and
 * recvmmsg. Each packet carries stream id, sequence and send time, so the receiver
 * counts loss, duplicates and reordering exactly and measures one-way latency. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define RX_BATCH   16
#define RING_SIZE  4096

struct media {
	struct io_uring ring;
	bool uring;
	bool sending;
	unsigned active_max;            /* streams [0, active_max) may be active */
	int64_t period;                 /* ns between two packets of a stream */
	int64_t next_due;               /* when the next slot is due */
	unsigned slot;
	unsigned queued;                /* SQEs not yet submitted */
	struct mmsghdr rx[RX_BATCH];
	/* SCM_TIMESTAMPNS of each received packet */
	union { char buf[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } rx_ctl[RX_BATCH];
	int64_t real_to_mono;           /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	struct iovec rx_iov[RX_BATCH];
	uint8_t rx_buf[RX_BATCH][BENCH_PKT_MAX];
};

int media_init(struct bench *b)
{
	struct media *m = calloc(1, sizeof(*m));
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER };

	if (!m)
		return -ENOMEM;
	b->media = m;
	m->period = 1000000000LL / b->o.pps;
	for (unsigned i = 0; i < RX_BATCH; i++) {
		m->rx_iov[i] = (struct iovec){ .iov_base = m->rx_buf[i], .iov_len = BENCH_PKT_MAX };
		m->rx[i].msg_hdr = (struct msghdr){ .msg_iov = &m->rx_iov[i], .msg_iovlen = 1 };
	}
	{
		struct timespec r, mo;

		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &mo);
		m->real_to_mono = (r.tv_sec - mo.tv_sec) * 1000000000LL + (r.tv_nsec - mo.tv_nsec);
	}
	if (!b->o.no_uring) {
		if (io_uring_queue_init_params(RING_SIZE, &m->ring, &p) == 0)
			m->uring = true;
		else if (io_uring_queue_init(RING_SIZE, &m->ring, 0) == 0)
			m->uring = true;
	}
	return 0;
}

void media_free(struct bench *b)
{
	struct media *m = b->media;

	if (!m)
		return;
	if (m->uring)
		io_uring_queue_exit(&m->ring);
	free(m);
	b->media = NULL;
}

bool media_uring(const struct bench *b)
{
	return b->media && b->media->uring;
}

int media_endpoint_open(struct bench *b, uint32_t ep, uint16_t *port)
{
	union sockaddr_u a = b->bind_addr;
	int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* even ports, RTCP's odd neighbour left free; busy ones are skipped */
	for (; b->next_port + 1 <= 65535; b->next_port += 2) {
		netaddr_set_port(&a, (uint16_t)b->next_port);
		if (!bind(fd, &a.sa, netaddr_len(&a)))
			break;
		if (errno != EADDRINUSE && errno != EACCES) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	if (b->next_port + 1 > 65535) {
		close(fd);
		return -EADDRNOTAVAIL;
	}
	*port = (uint16_t)b->next_port;
	b->next_port += 2;
	if (loop_add_fd(b, fd, ep)) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void stream_prepare(struct bench *b, struct stream *s)
{
	uint8_t *p = s->buf;

	memset(p, 0xff, b->o.payload);         /* PCMU silence */
	p[0] = 0x80;
	put32(p + 8, s->ssrc);
	put32(p + BENCH_HDR, BENCH_MAGIC);
	put32(p + BENCH_HDR + 4, s->id);
	s->active = true;
}

int media_call_start(struct bench *b, struct call *c)
{
	struct media *m = b->media;

	for (int side = 0; side < 2; side++) {
		struct stream *s = &b->streams[c->idx * 2 + side];

		if (connect(c->fd[side], &c->relay_dst[side].sa, netaddr_len(&c->relay_dst[side])))
			return -errno;
		stream_prepare(b, s);
		if (s->id + 1 > m->active_max)
			m->active_max = s->id + 1;
	}
	if (!m->sending) {
		m->sending = true;
		m->next_due = mono_ns();
		m->slot = 0;
	}
	return 0;
}

void media_stop_sending(struct bench *b)
{
	b->media->sending = false;
}

static void reap(struct bench *b)
{
	struct media *m = b->media;
	struct io_uring_cqe *cqe[256];
	unsigned n;

	while ((n = io_uring_peek_batch_cqe(&m->ring, cqe, 256)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct stream *s = &b->streams[cqe[i]->user_data];

			s->in_flight = false;
			if (cqe[i]->res < 0)
				s->send_errors++;
		}
		io_uring_cq_advance(&m->ring, n);
	}
}

static void flush(struct bench *b)
{
	struct media *m = b->media;

	if (m->queued) {
		io_uring_submit(&m->ring);
		m->queued = 0;
	}
	reap(b);
}

static void send_one(struct bench *b, struct stream *s, int64_t now)
{
	struct media *m = b->media;
	struct call *c = &b->calls[s->id / 2];
	uint8_t *p = s->buf;
	uint32_t seq = s->seq++;
	size_t len = b->o.payload;

	if (s->in_flight) {             /* previous send still queued in the kernel */
		s->send_errors++;
		return;
	}
	p[2] = (uint8_t)((s->rtp_seq0 + seq) >> 8);
	p[3] = (uint8_t)(s->rtp_seq0 + seq);
	if (b->o.transcode) {
		len = xcode_packet(s, seq, p);
		s->sent_at[seq % XC_RING] = now;
	} else {
		p[1] = seq ? 0 : 0x80;  /* marker on the first packet, PT 0 (PCMU) */
		put32(p + 4, s->rtp_ts0 + seq * (8000 / b->o.pps));
		put32(p + BENCH_HDR, BENCH_MAGIC);      /* again: SRTP encrypted it in place */
		put32(p + BENCH_HDR + 4, s->id);
		put32(p + BENCH_HDR + 8, seq);
		memcpy(p + BENCH_HDR + 12, &now, 8);
		if (bsrtp_side(b, 0))
			bsrtp_fill(p, len, seq);
	}
	if (bsrtp_protect(s, p, &len)) {        /* in place: s->buf is ours until sent */
		s->send_errors++;
		return;
	}
	s->sent++;
	if (b->win.t1 && now >= b->win.t0 && now < b->win.t1)
		b->win.sent++;
	if (!m->uring) {
		if (send(c->fd[s->id & 1], p, len, MSG_DONTWAIT) < 0)
			s->send_errors++;
		return;
	}
	for (;;) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&m->ring);

		if (sqe) {
			io_uring_prep_send(sqe, c->fd[s->id & 1], p, len, MSG_DONTWAIT);
			sqe->user_data = s->id;
			s->in_flight = true;
			m->queued++;
			return;
		}
		flush(b);
	}
}

void media_send_due(struct bench *b, int64_t now)
{
	struct media *m = b->media;
	int64_t slot_len = m->period / WHEEL_SLOTS;
	bool any = false;

	if (!m->sending)
		return;
	while (m->next_due <= now) {
		int64_t ts = mono_ns();

		if (now - m->next_due > b->sched_lag_max)
			b->sched_lag_max = now - m->next_due;
		for (unsigned i = m->slot; i < m->active_max; i += WHEEL_SLOTS)
			if (b->streams[i].active)
				send_one(b, &b->streams[i], ts);
		any = true;
		m->slot = (m->slot + 1) % WHEEL_SLOTS;
		m->next_due += slot_len;
	}
	if (any && m->uring)
		flush(b);
}

int64_t media_next_due(const struct bench *b)
{
	return b->media->sending ? b->media->next_due : 0;
}

/* First copy of seq in stream s? Keeps a SEQ_WINDOW-packet bitmap behind the highest. */
static bool seq_note(struct stream *s, uint32_t seq)
{
	uint64_t bit = 1ull << (seq % 64);
	uint64_t *w = &s->seen[(seq % SEQ_WINDOW) / 64];

	if (seq >= s->highest) {
		if (seq - s->highest >= SEQ_WINDOW) {
			memset(s->seen, 0, sizeof(s->seen));
		} else {
			for (uint32_t x = s->highest; x < seq; x++)
				s->seen[(x % SEQ_WINDOW) / 64] &= ~(1ull << (x % 64));
			*w &= ~bit;
		}
		s->highest = seq + 1;
		*w |= bit;
		return true;
	}
	if (s->highest - seq > SEQ_WINDOW) {
		s->too_late++;
		return false;
	}
	if (*w & bit) {
		s->dups++;
		return false;
	}
	*w |= bit;
	s->reordered++;
	return true;
}

static void rx_packet(struct bench *b, uint32_t ep, uint8_t *p, size_t len, int64_t now,
		      int64_t arrived)
{
	struct window *win = &b->win;
	struct stream *s;
	uint32_t id, seq;
	int64_t sent_at;

	if (bsrtp_unprotect(&b->streams[ep], p, &len)) {
		b->srtp_errors++;
		return;
	}
	if (b->o.transcode) {
		if (!xcode_rx(b, ep, p, len, now, &seq, &sent_at))
			return;
		id = ep ^ 1;
	} else if (len < BENCH_HDR + BENCH_STAMP || get32(p + BENCH_HDR) != BENCH_MAGIC) {
		b->foreign++;
		return;
	} else {
		id = get32(p + BENCH_HDR + 4);
		seq = get32(p + BENCH_HDR + 8);
		memcpy(&sent_at, p + BENCH_HDR + 12, 8);
		if (bsrtp_side(b, 0) && !bsrtp_check(p, len, seq)) {
			b->payload_errors++;
			return;
		}
	}
	if (id != (ep ^ 1)) {           /* must come from the other side of the same call */
		b->misrouted++;
		return;
	}
	s = &b->streams[id];
	if (win->t1 && now >= win->t0 && now < win->t1)
		win->recv_arrival++;
	if (!seq_note(s, seq))
		return;
	s->recv++;
	if (win->t1 && sent_at && sent_at >= win->t0 && sent_at < win->t1) {
		win->recv++;
		hist_add(&win->lat, (uint64_t)(arrived - sent_at));
		hist_add(&win->lat_app, (uint64_t)(now - sent_at));
	}
}

/* The kernel's receive time of a packet on the monotonic clock; now if absent (or if
 * the clocks were stepped so that it would lie in the future). */
static int64_t rx_stamp(const struct media *m, struct msghdr *h, int64_t now)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			int64_t t;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			t = ts.tv_sec * 1000000000LL + ts.tv_nsec - m->real_to_mono;
			return t <= now ? t : now;
		}
	}
	return now;
}

void media_readable(struct bench *b, uint32_t ep)
{
	struct media *m = b->media;
	int fd = b->calls[ep / 2].fd[ep & 1];

	for (;;) {
		for (int i = 0; i < RX_BATCH; i++) {
			m->rx[i].msg_hdr.msg_control = m->rx_ctl[i].buf;
			m->rx[i].msg_hdr.msg_controllen = sizeof(m->rx_ctl[i].buf);
		}
		int n = recvmmsg(fd, m->rx, RX_BATCH, MSG_DONTWAIT, NULL);
		int64_t now = mono_ns();

		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				b->recv_errors++;   /* e.g. ICMP port unreachable, reported once */
			return;
		}
		for (int i = 0; i < n; i++) {
			if (m->rx[i].msg_hdr.msg_flags & MSG_TRUNC)
				b->truncated++;
			else
				rx_packet(b, ep, m->rx_buf[i], m->rx[i].msg_len, now,
					  rx_stamp(m, &m->rx[i].msg_hdr, now));
		}
		if (n < RX_BATCH)
			return;
	}
}

uint64_t media_total(const struct bench *b, int what)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < b->n_calls * 2; i++) {
		const struct stream *s = &b->streams[i];

		switch (what) {
		case TOT_SENT:     t += s->sent; break;
		case TOT_RECV:     t += s->recv; break;
		case TOT_DUPS:     t += s->dups; break;
		case TOT_REORD:    t += s->reordered; break;
		case TOT_LATE:     t += s->too_late; break;
		case TOT_SEND_ERR: t += s->send_errors; break;
		}
	}
	return t;
}
