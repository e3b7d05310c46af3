/* io_uring backend of a media worker: multishot receives into provided buffers, sends
 * batched into the submit that also waits for the next completions. */
#include "relay_uring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "call.h"

#define RING_SQ   256           /* SQEs between two submits: sends, arms, cancels */
#define RING_CQ   8192          /* completions: a burst on every socket of the worker */
#define BGID      0
#define PARK_ROUNDS 16          /* a parked receive waits at most this many rounds */
#define NAME_ROOM 32            /* >= sizeof(union sockaddr_u); keeps the payload aligned */
#define CTRL_ROOM CMSG_SPACE(sizeof(struct timespec))  /* SCM_TIMESTAMPNS, when stamped */
#define HDR_ROOM  (sizeof(struct io_uring_recvmsg_out) + NAME_ROOM + CTRL_ROOM)
#define RX_MAX    64            /* packets handed out per round */

/* user_data of what is not a slot (slots are pointers, never this small) */
enum { TAG_WAKE = 1, TAG_SEND, TAG_CANCEL, TAG_PROBE };

/* One socket's multishot receive. */
struct slot {
	_Atomic(struct stream_ref *) ref; /* NULL once relay_uring_del() ran */
	int fd;
	/* under qlock */
	bool queued, dead;
	struct slot *qnext;
	struct slot *prev, *next;       /* every live slot, for relay_uring_free() */
	/* worker only */
	bool armed;                     /* a completion with F_MORE clear is still due */
	bool gone;                      /* the worker has seen dead */
	bool cancelling, in_settle, parked;
	struct slot *tnext;
};

/* A queued send: the kernel reads the header at submit. */
struct send_msg {
	struct msghdr mh;
	struct iovec iov;
	union sockaddr_u dest;
};

struct relay_uring {
	struct io_uring ring;
	int wake_fd;
	bool wake_armed;
	struct msghdr rx_tmpl;          /* what each receive reserves: the name, and the
	                                   receive time when stamped */
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	size_t stride;                  /* bytes per buffer, all given to the kernel */
	unsigned n_bufs;
	uint16_t *held;                 /* buffers handed out: back after the next submit */
	unsigned n_held;
	struct send_msg sq[RING_SQ];
	unsigned n_sq;
	struct slot *settle;            /* worker: slots to arm, cancel or free next round */
	struct slot *parked, **parked_tail; /* ended out of buffers: re-armed once the
	                                   completions that hold buffers are drained */
	unsigned park_rounds;
	unsigned setup_flags;           /* what ring_init() chose */
	bool stamp;                     /* rounds sorted by receive time (probe_order()) */
	int64_t t[RX_MAX], t_tmp[RX_MAX];  /* receive times of the round's packets, ns */
	struct relay_rx rx_tmp[RX_MAX];

	pthread_mutex_t qlock;          /* guards queue, all, and slots' queued/dead/qnext */
	struct slot *queue;             /* control thread -> worker */
	_Atomic bool queue_set;
	struct slot all;                /* sentinel */
};

/* Submit what is queued. The send headers are free again only if the kernel took every
 * entry (it takes none while its completion queue overflows: they stay, and so do the
 * buffers they read). */
static bool submit_now(struct relay_uring *u)
{
	io_uring_submit(&u->ring);
	if (io_uring_sq_ready(&u->ring))
		return false;
	u->n_sq = 0;
	return true;
}

static struct io_uring_sqe *get_sqe(struct relay_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {                     /* SQ full: send what is queued now */
		submit_now(u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static uint8_t *buf_at(const struct relay_uring *u, unsigned id)
{
	return u->bufs + (size_t)id * u->stride;
}

/* Give the buffers of the last round back to the kernel: the sends that read them were
 * submitted. */
static void give_back(struct relay_uring *u)
{
	int mask = io_uring_buf_ring_mask(u->n_bufs);

	for (unsigned i = 0; i < u->n_held; i++)
		io_uring_buf_ring_add(u->br, buf_at(u, u->held[i]), (unsigned)u->stride,
				      u->held[i], mask, (int)i);
	io_uring_buf_ring_advance(u->br, (int)u->n_held);
	u->n_held = 0;
}

static void arm_recv(struct relay_uring *u, struct slot *s)
{
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &u->rx_tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data(sqe, s);
	s->armed = true;
}

static void arm_wake(struct relay_uring *u)
{
	struct io_uring_sqe *sqe = get_sqe(u);

	if (!sqe)
		return;
	io_uring_prep_poll_multishot(sqe, u->wake_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, TAG_WAKE);
	u->wake_armed = true;
}

static void slot_free(struct relay_uring *u, struct slot *s)
{
	pthread_mutex_lock(&u->qlock);
	s->prev->next = s->next;
	s->next->prev = s->prev;
	pthread_mutex_unlock(&u->qlock);
	free(s);
}

static void settle_push(struct relay_uring *u, struct slot *s)
{
	if (s->in_settle || s->parked)  /* a parked one is settled when unparked */
		return;
	s->in_settle = true;
	s->tnext = u->settle;
	u->settle = s;
}

/* Bring a slot to what it should be: live and armed, or cancelled, or freed. */
static void settle(struct relay_uring *u, struct slot *s)
{
	struct io_uring_sqe *sqe;

	if (!s->gone) {
		if (!s->armed)
			arm_recv(u, s);
		return;
	}
	if (!s->armed) {                /* its last completion has been seen */
		slot_free(u, s);
		return;
	}
	if (s->cancelling || !(sqe = get_sqe(u)))
		return;
	io_uring_prep_cancel(sqe, s, 0);
	io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	s->cancelling = true;
}

static void take_queue(struct relay_uring *u)
{
	struct slot *s, *next;

	if (!atomic_load_explicit(&u->queue_set, memory_order_acquire))
		return;
	pthread_mutex_lock(&u->qlock);
	s = u->queue;
	u->queue = NULL;
	atomic_store_explicit(&u->queue_set, false, memory_order_relaxed);
	for (; s; s = next) {
		next = s->qnext;
		s->queued = false;
		s->gone = s->dead;
		settle_push(u, s);
	}
	pthread_mutex_unlock(&u->qlock);
}

/* A receive that ran out of buffers waits: re-armed while the buffers are still out
 * (held by completions not yet handled), it would end again at once, and each round
 * would re-arm every such socket. Its packets wait in the socket meanwhile. */
static void park(struct relay_uring *u, struct slot *s)
{
	if (s->parked)
		return;
	s->parked = true;
	s->tnext = NULL;
	*u->parked_tail = s;
	u->parked_tail = &s->tnext;
}

/* Called when the completion queue was drained (buffers back but the last round's), or
 * after PARK_ROUNDS rounds: oldest first. */
static void unpark(struct relay_uring *u)
{
	struct slot *s = u->parked, *next;

	u->parked = NULL;
	u->parked_tail = &u->parked;
	u->park_rounds = 0;
	for (; s; s = next) {
		next = s->tnext;
		s->parked = false;
		settle_push(u, s);
	}
}

static void settle_all(struct relay_uring *u)
{
	struct slot *s = u->settle, *next;

	u->settle = NULL;
	for (; s; s = next) {
		next = s->tnext;
		s->in_settle = false;
		settle(u, s);
	}
}

static void drain_wake(struct relay_uring *u)
{
	uint64_t v;
	ssize_t r = read(u->wake_fd, &v, sizeof(v));

	(void)r;
}

/* SCM_TIMESTAMPNS of a received packet in ns; 0 if it has none. */
static int64_t rx_stamp(struct relay_uring *u, struct io_uring_recvmsg_out *o)
{
	struct cmsghdr *c;
	struct timespec ts;

	for (c = io_uring_recvmsg_cmsg_firsthdr(o, &u->rx_tmpl); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &u->rx_tmpl, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return 0;
}

/* One receive completion: a packet in rx (true; its receive time in *t when stamped), or
 * nothing to hand out. */
static bool recv_cqe(struct relay_uring *u, struct slot *s, const struct io_uring_cqe *cqe,
		     struct relay_rx *rx, int64_t *t)
{
	struct stream_ref *ref = atomic_load_explicit(&s->ref, memory_order_acquire);
	struct io_uring_recvmsg_out *o;
	unsigned id;
	uint8_t *b;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		s->armed = false;       /* ended (cancelled, out of buffers): re-arm or free */
		if (cqe->res == -ENOBUFS)
			park(u, s);
		else
			settle_push(u, s);
	}
	if (!(cqe->flags & IORING_CQE_F_BUFFER))
		return false;
	id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	u->held[u->n_held++] = (uint16_t)id;
	b = buf_at(u, id);
	if (cqe->res <= 0 || !ref || !(o = io_uring_recvmsg_validate(b, cqe->res, &u->rx_tmpl)))
		return false;
	rx->ref = ref;
	rx->p = io_uring_recvmsg_payload(o, &u->rx_tmpl);
	rx->len = io_uring_recvmsg_payload_length(o, cqe->res, &u->rx_tmpl);
	rx->src = io_uring_recvmsg_name(o);
	rx->trunc = o->flags & MSG_TRUNC;
	if (u->stamp)
		*t = rx_stamp(u, o);
	return true;
}

/* Stable merge of the sorted runs [lo, mid) and [mid, hi) of (a, ta) into (b, tb). */
static void merge(const struct relay_rx *a, const int64_t *ta, struct relay_rx *b, int64_t *tb,
		  unsigned lo, unsigned mid, unsigned hi)
{
	unsigned i = lo, j = mid;

	for (unsigned k = lo; k < hi; k++) {
		unsigned from = i < mid && (j == hi || ta[i] <= ta[j]) ? i++ : j++;

		b[k] = a[from];
		tb[k] = ta[from];
	}
}

/* The round's packets in the order they arrived, those of one socket staying in theirs
 * (stable). Bottom-up merge sort: on a kernel that posts completions newest first every
 * socket's packets are one run and the runs come reversed, insertion sort's worst case. */
static void sort_by_arrival(struct relay_uring *u, struct relay_rx *rx, unsigned n)
{
	struct relay_rx *a = rx, *b = u->rx_tmp, *rs;
	int64_t *ta = u->t, *tb = u->t_tmp, *ts;
	unsigned i;

	for (i = 1; i < n && ta[i - 1] <= ta[i]; i++)
		;
	if (i >= n)
		return;                 /* in order already */
	for (unsigned w = 1; w < n; w *= 2) {
		for (unsigned lo = 0; lo < n; lo += 2 * w)
			merge(a, ta, b, tb, lo, lo + w < n ? lo + w : n, lo + 2 * w < n ? lo + 2 * w : n);
		rs = a, a = b, b = rs;
		ts = ta, ta = tb, tb = ts;
	}
	if (a != rx)
		memcpy(rx, a, n * sizeof(*rx));
}

unsigned relay_uring_round(struct relay_uring *u, int timeout_ms, struct relay_rx *rx,
			   unsigned max)
{
	struct __kernel_timespec ts, *tsp = NULL;
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0, n = 0;

	if (max > RX_MAX)
		max = RX_MAX;
	take_queue(u);
	if (u->parked && (!io_uring_cq_ready(&u->ring) || ++u->park_rounds >= PARK_ROUNDS))
		unpark(u);
	settle_all(u);
	if (!u->wake_armed)
		arm_wake(u);
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	/* one io_uring_enter: this round's sends and arms go out, then the wait */
	io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, tsp, NULL);
	if (!io_uring_sq_ready(&u->ring)) {
		u->n_sq = 0;
		give_back(u);
	}
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t ud = cqe->user_data;

		if (n == max)
			break;          /* the rest next round */
		seen++;
		if (ud == TAG_WAKE) {
			drain_wake(u);
			if (!(cqe->flags & IORING_CQE_F_MORE))
				u->wake_armed = false;
		} else if (ud > TAG_PROBE) {
			n += recv_cqe(u, (struct slot *)(uintptr_t)ud, cqe, &rx[n], &u->t[n]);
		}
		/* TAG_SEND: a failed send (skipped when it worked); dropped, as sendmmsg's */
	}
	io_uring_cq_advance(&u->ring, seen);
	if (u->stamp && n > 1)
		sort_by_arrival(u, rx, n);
	return n;
}

void relay_uring_send(struct relay_uring *u, int fd, const union sockaddr_u *dest,
		      const void *data, size_t len)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	struct send_msg *m;

	/* n_sq < RING_SQ: each queued send holds one of the ring's RING_SQ SQEs */
	if (!sqe || u->n_sq == RING_SQ)
		return;
	m = &u->sq[u->n_sq++];
	m->dest = *dest;
	m->iov = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
	m->mh = (struct msghdr){ .msg_name = &m->dest, .msg_namelen = netaddr_len(dest),
				 .msg_iov = &m->iov, .msg_iovlen = 1 };
	/* MSG_DONTWAIT: never parked for later, so the data is read during the submit */
	io_uring_prep_sendmsg(sqe, fd, &m->mh, MSG_DONTWAIT);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, TAG_SEND);
}

bool relay_uring_submit(struct relay_uring *u)
{
	return !io_uring_sq_ready(&u->ring) || submit_now(u);
}

bool relay_uring_pending(const struct relay_uring *u)
{
	return io_uring_sq_ready(&u->ring) != 0;
}

bool relay_uring_owns(const struct relay_uring *u, const uint8_t *p)
{
	return p >= u->bufs && p < u->bufs + (size_t)u->n_bufs * u->stride;
}

int relay_uring_add(struct relay_uring *u, struct stream_ref *ref)
{
	struct slot *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	atomic_init(&s->ref, ref);
	s->fd = __atomic_load_n(&ref->fd, __ATOMIC_ACQUIRE);
	if (u->stamp)                   /* the receive time orders the rounds */
		setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	pthread_mutex_lock(&u->qlock);
	s->next = u->all.next;
	s->prev = &u->all;
	s->next->prev = s;
	u->all.next = s;
	s->queued = true;
	s->qnext = u->queue;
	u->queue = s;
	atomic_store_explicit(&u->queue_set, true, memory_order_release);
	pthread_mutex_unlock(&u->qlock);
	ref->rx_slot = s;
	return 0;
}

void relay_uring_del(struct relay_uring *u, struct stream_ref *ref)
{
	struct slot *s = ref->rx_slot;

	if (!s)
		return;
	ref->rx_slot = NULL;
	atomic_store_explicit(&s->ref, NULL, memory_order_release);
	pthread_mutex_lock(&u->qlock);
	s->dead = true;
	if (!s->queued) {
		s->queued = true;
		s->qnext = u->queue;
		u->queue = s;
	}
	atomic_store_explicit(&u->queue_set, true, memory_order_release);
	pthread_mutex_unlock(&u->qlock);
}

/* ---- setup ---- */

/* The fastest setup the kernel takes: completions posted only while the worker waits
 * in the ring, one wake for what arrived meanwhile (DEFER_TASKRUN, 6.1), else no
 * interrupt of the worker for them (COOP_TASKRUN, 5.19), else plain. (DEFER_TASKRUN was
 * off for a while: the 6.1 guest's lost packets blamed on it were the completion order,
 * probe_order().) */
static int ring_init(struct relay_uring *u)
{
	static const unsigned flags[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int err = -EINVAL;

	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct io_uring_params p = { .flags = flags[i] | IORING_SETUP_CQSIZE,
					     .cq_entries = RING_CQ };

		err = io_uring_queue_init_params(RING_SQ, &u->ring, &p);
		if (!err) {
			u->setup_flags = flags[i];
			if (!(p.features & IORING_FEAT_EXT_ARG) ||
			    !(p.features & IORING_FEAT_CQE_SKIP)) {
				io_uring_queue_exit(&u->ring);
				return -EOPNOTSUPP;
			}
			return 0;
		}
		if (err != -EINVAL)
			return err;
	}
	return err;
}

static int bufs_init(struct relay_uring *u, unsigned n_bufs, size_t pkt_max)
{
	struct io_uring_buf_reg reg = { .ring_entries = n_bufs, .bgid = BGID };
	void *ring_mem;
	int err;

	u->n_bufs = n_bufs;
	u->stride = (HDR_ROOM + pkt_max + 63) & ~(size_t)63;
	u->held = calloc(n_bufs, sizeof(*u->held));
	u->bufs = aligned_alloc(64, (size_t)n_bufs * u->stride);
	if (posix_memalign(&ring_mem, 4096, n_bufs * sizeof(struct io_uring_buf)))
		ring_mem = NULL;
	u->br = ring_mem;
	if (!u->held || !u->bufs || !u->br)
		return -ENOMEM;
	reg.ring_addr = (uintptr_t)u->br;
	err = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (err)
		return err;
	io_uring_buf_ring_init(u->br);
	for (unsigned i = 0; i < n_bufs; i++)
		u->held[u->n_held++] = (uint16_t)i;
	give_back(u);
	return 0;
}

/* Does this kernel take a multishot recvmsg (6.0)? Armed on an unbound socket, then
 * cancelled: -EINVAL says no. No packet is sent. */
static int probe_multishot(struct relay_uring *u)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), res = -EINVAL;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	if (fd < 0)
		return -errno;
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_recvmsg_multishot(sqe, fd, &u->rx_tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, TAG_PROBE);
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_cancel64(sqe, TAG_PROBE, 0);
	io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	io_uring_submit(&u->ring);
	for (int seen = 0; seen < 2 && !io_uring_wait_cqe(&u->ring, &cqe); seen++) {
		if (cqe->user_data == TAG_PROBE)
			res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
	}
	close(fd);
	return res == -ECANCELED ? 0 : res < 0 ? res : -EINVAL;
}

#define ORDER_SOCKS 3

static int loopback_socket(union sockaddr_u *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	*a = (union sockaddr_u){ .sin = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) } };
	if (fd >= 0 && (bind(fd, &a->sa, sizeof(a->sin)) || getsockname(fd, &a->sa, &len))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Busy for about a millisecond without a system call: packets delivered through another
 * CPU (RPS on lo) arrive meanwhile, and no task work runs. */
static void spin_1ms(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < 1000000);
}

/* The receives armed on the sockets of fd, then one packet to each, in order, in one
 * sendmmsg: their completions are posted together when the task work runs. true: they
 * came in the order sent. */
static bool order_kept(struct io_uring *r, const int *fd, const union sockaddr_u *a, int tx)
{
	static const char ping[ORDER_SOCKS] = "012";
	struct mmsghdr m[ORDER_SOCKS] = { 0 };
	struct iovec iov[ORDER_SOCKS];
	char buf[ORDER_SOCKS][4];
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { .tv_nsec = 200000000 };
	unsigned head, k = 0;
	bool kept = true;

	for (int i = 0; i < ORDER_SOCKS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(r);

		io_uring_prep_recv(sqe, fd[i], buf[i], sizeof(buf[i]), 0);
		io_uring_sqe_set_data64(sqe, (uint64_t)i);
		iov[i] = (struct iovec){ .iov_base = (void *)&ping[i], .iov_len = 1 };
		m[i].msg_hdr = (struct msghdr){ .msg_name = (void *)&a[i], .msg_namelen = sizeof(a[i].sin),
						.msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	if (io_uring_submit(r) != ORDER_SOCKS || sendmmsg(tx, m, ORDER_SOCKS, 0) != ORDER_SOCKS)
		return false;
	spin_1ms();
	io_uring_submit_and_wait_timeout(r, &cqe, ORDER_SOCKS, &ts, NULL);
	io_uring_for_each_cqe(r, head, cqe) {
		kept &= cqe->res == 1 && cqe->user_data == k;
		k++;
	}
	io_uring_cq_advance(r, k);
	return kept && k == ORDER_SOCKS;
}

/* Does this kernel post the completions of several sockets in the order their packets
 * arrived? 6.1 runs the task work that posts them newest first, so a round would hand
 * out the packets of the socket that received last first: a call's first packet from B
 * before A's that came earlier, sent to A's address from the SDP because A is not
 * latched yet. Such a kernel gets its rounds sorted by receive time. Unsure (no
 * loopback): false. */
static bool probe_order(const struct relay_uring *u)
{
	struct io_uring r;
	union sockaddr_u a[ORDER_SOCKS];
	int fd[ORDER_SOCKS], tx = -1, n = 0;
	bool kept = false;

	if (io_uring_queue_init(2 * ORDER_SOCKS, &r, u->setup_flags))
		return false;
	while (n < ORDER_SOCKS && (fd[n] = loopback_socket(&a[n])) >= 0)
		n++;
	if (n == ORDER_SOCKS && (tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0)
		kept = order_kept(&r, fd, a, tx);
	if (tx >= 0)
		close(tx);
	while (n--)
		close(fd[n]);
	io_uring_queue_exit(&r);
	return kept;
}

int relay_uring_new(struct relay_uring **out, unsigned n_bufs, size_t pkt_max, int wake_fd,
		    const char **why)
{
	struct relay_uring *u = calloc(1, sizeof(*u));
	int err;

	if (!u) {
		*why = "no memory";
		return -ENOMEM;
	}
	u->wake_fd = wake_fd;
	u->all.next = u->all.prev = &u->all;
	u->parked_tail = &u->parked;
	pthread_mutex_init(&u->qlock, NULL);
	u->rx_tmpl.msg_namelen = NAME_ROOM;
	err = ring_init(u);
	if (err) {
		*why = err == -EOPNOTSUPP ? "kernel lacks EXT_ARG or CQE_SKIP (5.17)"
		     : err == -ENOSYS     ? "no io_uring in this kernel"
		     : err == -EPERM      ? "io_uring not permitted: seccomp, or sysctl "
					    "kernel.io_uring_disabled"
					  : "io_uring_setup failed";
		pthread_mutex_destroy(&u->qlock);
		free(u);
		return err;
	}
	err = bufs_init(u, n_bufs, pkt_max);
	if (err)
		*why = "no provided buffer ring (5.19)";
	else if ((err = probe_multishot(u)))
		*why = "no multishot recvmsg (6.0)";
	if (err) {
		relay_uring_free(u);
		return err;
	}
	if (!probe_order(u))
		relay_uring_set_stamped(u);
	*out = u;
	return 0;
}

bool relay_uring_stamped(const struct relay_uring *u)
{
	return u->stamp;
}

void relay_uring_set_stamped(struct relay_uring *u)
{
	u->stamp = true;
	u->rx_tmpl.msg_controllen = CTRL_ROOM;  /* read by the receives armed from now on */
}

void relay_uring_free(struct relay_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);  /* cancels what is armed; nothing reads slots after */
	while (u->all.next != &u->all) {
		struct slot *s = u->all.next;
		u->all.next = s->next;
		free(s);
	}
	pthread_mutex_destroy(&u->qlock);
	free(u->br);
	free(u->bufs);
	free(u->held);
	free(u);
}
