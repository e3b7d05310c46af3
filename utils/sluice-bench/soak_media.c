/* The soak phones: UDP socket pairs from a port pool, RTP paced on a wheel (phone i
 * sends in slot i % WHEEL_SLOTS of each packet interval) with one RTCP compound a
 * second, sent with sendto() from the socket the phone advertised (symmetric RTP), and
 * the receive checks: every datagram must carry this call's serial, the other side,
 * the socket's kind (RTP/RTCP), and come from the relay address this phone was told in
 * SDP. Sockets are not connected, so a packet from the wrong source is seen, not
 * filtered by the kernel. Nothing here allocates after soak_media_init(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "soak.h"

#define RX_BATCH 16

struct soak_rx {
	struct mmsghdr m[RX_BATCH];
	struct iovec iov[RX_BATCH];
	union sockaddr_u from[RX_BATCH];
	uint8_t buf[RX_BATCH][BENCH_PKT_MAX];
	uint8_t tx[BENCH_PKT_MAX];
};

static struct soak_rx *rx;

int soak_media_init(struct bench *b)
{
	struct soak *s = b->soak;

	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	for (unsigned i = 0; i < RX_BATCH; i++) {
		rx->iov[i] = (struct iovec){ .iov_base = rx->buf[i], .iov_len = BENCH_PKT_MAX };
		rx->m[i].msg_hdr = (struct msghdr){ .msg_iov = &rx->iov[i], .msg_iovlen = 1 };
	}
	memset(rx->tx, 0xff, sizeof(rx->tx));   /* PCMU silence */
	s->pool_cap = b->o.port_pairs;
	s->pool = calloc(s->pool_cap, sizeof(*s->pool));
	if (!s->pool)
		return -ENOMEM;
	for (unsigned i = 0; i < s->pool_cap; i++)
		s->pool[i] = (uint16_t)((b->o.port_base & ~1u) + 2 * i);
	s->pool_len = s->pool_cap;
	s->period = 1000000000LL / b->o.pps;
	return 0;
}

void soak_media_free(struct bench *b)
{
	free(rx);
	rx = NULL;
	free(b->soak->pool);
}

static void pool_put(struct soak *s, uint16_t port)
{
	s->pool[(s->pool_head + s->pool_len++) % s->pool_cap] = port;
}

static uint16_t pool_get(struct soak *s)
{
	uint16_t p = s->pool[s->pool_head];

	s->pool_head = (s->pool_head + 1) % s->pool_cap;
	s->pool_len--;
	return p;
}

static int bind_one(struct bench *b, uint16_t port)
{
	union sockaddr_u a = b->bind_addr;
	int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	netaddr_set_port(&a, port);
	if (bind(fd, &a.sa, netaddr_len(&a))) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static uint32_t tag_of(const struct scall *c, int side, int pair, int kind)
{
	return c->slot << SOAK_TAG_BITS | (uint32_t)side << 2 | (uint32_t)pair << 1 | (uint32_t)kind;
}

/* Pair `pair` of phone `side`: an even port from the pool and the odd one above it
 * (someone else's busy port goes back to the pool's tail). */
static int pair_open(struct bench *b, struct scall *c, int side, int pair)
{
	struct soak *s = b->soak;
	struct phone *p = &c->ph[side];

	for (unsigned tries = s->pool_len; tries; tries--) {
		uint16_t port = pool_get(s);
		int rtp = bind_one(b, port), rtcp = rtp < 0 ? rtp : bind_one(b, (uint16_t)(port + 1));
		int err = rtp < 0 ? rtp : rtcp;

		if (err >= 0) {
			err = loop_add_fd(b, rtp, tag_of(c, side, pair, K_RTP));
			if (!err)
				err = loop_add_fd(b, rtcp, tag_of(c, side, pair, K_RTCP));
			if (!err) {
				p->fd[pair][K_RTP] = rtp;
				p->fd[pair][K_RTCP] = rtcp;
				p->port[pair] = port;
				return 0;
			}
		}
		if (rtp >= 0)
			close(rtp);
		if (rtcp >= 0)
			close(rtcp);
		pool_put(s, port);
		if (err != -EADDRINUSE)
			return err;
		s->k.port_busy++;       /* someone else's: try the next pair */
	}
	return -EADDRNOTAVAIL;
}

static void pair_close(struct bench *b, struct phone *p, int pair)
{
	if (p->fd[pair][K_RTP] < 0)
		return;
	close(p->fd[pair][K_RTP]);      /* closing also leaves the epoll set */
	close(p->fd[pair][K_RTCP]);
	p->fd[pair][K_RTP] = p->fd[pair][K_RTCP] = -1;
	pool_put(b->soak, p->port[pair]);
}

void soak_phone_reset(struct phone *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->fd, 0xff, sizeof(p->fd));
}

int soak_phone_open(struct bench *b, struct scall *c, int side)
{
	struct phone *p = &c->ph[side];
	uint64_t r = bench_rnd64();

	soak_phone_reset(p);
	p->ssrc = (uint32_t)r;
	p->seq0 = (uint16_t)(r >> 32);
	p->ts0 = (uint32_t)(r >> 16);
	r = bench_rnd64();
	p->sess_id = (uint32_t)(r & 0x7fffffff);
	p->sess_ver = (uint32_t)(r >> 40);
	return pair_open(b, c, side, 0);
}

void soak_phone_close(struct bench *b, struct phone *p)
{
	pair_close(b, p, 0);
	pair_close(b, p, 1);
	p->sending = false;
	p->moving = false;
	p->old_until = 0;
}

int soak_phone_move(struct bench *b, struct scall *c, int side)
{
	struct phone *p = &c->ph[side];
	int ret;

	pair_close(b, p, p->cur ^ 1);
	p->old_until = 0;
	ret = pair_open(b, c, side, p->cur ^ 1);
	p->moving = ret == 0;
	return ret;
}

void soak_phone_switch(struct phone *p, int64_t now)
{
	if (!p->moving)
		return;
	p->moving = false;
	p->cur ^= 1;
	p->old_until = now + 1000000000LL;
}

void soak_phone_expire(struct bench *b, struct phone *p, int64_t now)
{
	if (p->old_until && now >= p->old_until) {
		pair_close(b, p, p->cur ^ 1);
		p->old_until = 0;
	}
}

uint16_t soak_phone_port(const struct phone *p)
{
	return p->port[p->moving ? p->cur ^ 1 : p->cur];
}

/* ---- sending ---- */

static void stamp(uint8_t *q, const struct scall *c, int side, int kind, uint32_t seq)
{
	int64_t now = mono_ns();

	put32(q, SOAK_MAGIC);
	put32(q + 4, c->serial);
	put32(q + 8, (uint32_t)side << 8 | (uint32_t)kind);
	put32(q + 12, seq);
	memcpy(q + 16, &now, 8);
}

static void send_pkt(struct bench *b, struct phone *p, int kind, const uint8_t *buf, size_t len)
{
	struct soak *s = b->soak;

	if (sendto(p->fd[p->cur][kind], buf, len, MSG_DONTWAIT, &p->dst[kind].sa,
		   netaddr_len(&p->dst[kind])) != (ssize_t)len) {
		s->k.send_errors++;     /* not sent, so not expected at the relay either */
		return;
	}
	p->sent[kind]++;
	p->bytes[kind] += len;
	s->k.sent[kind]++;
}

static void send_rtp(struct bench *b, struct scall *c, int side)
{
	struct phone *p = &c->ph[side];
	uint8_t *q = rx->tx;
	uint32_t seq = p->seq++;

	q[0] = 0x80;
	q[1] = seq ? 0 : 0x80;          /* marker on the first packet, PT 0 (PCMU) */
	q[2] = (uint8_t)((p->seq0 + seq) >> 8);
	q[3] = (uint8_t)(p->seq0 + seq);
	put32(q + 4, p->ts0 + seq * (8000 / b->o.pps));
	put32(q + 8, p->ssrc);
	stamp(q + BENCH_HDR, c, side, K_RTP, seq);
	send_pkt(b, p, K_RTP, q, b->o.payload);
}

/* SR (no report block) + APP "SLSK" whose data is the stamp after its name. */
static void send_rtcp(struct bench *b, struct scall *c, int side)
{
	struct phone *p = &c->ph[side];
	uint8_t q[SOAK_RTCP_LEN];

	memset(q, 0, sizeof(q));
	q[0] = 0x80;
	q[1] = 200;
	q[3] = 6;                       /* length in words - 1 */
	put32(q + 4, p->ssrc);
	put32(q + 20, p->ts0 + p->seq * (8000 / b->o.pps));
	put32(q + 24, p->seq);
	q[28] = 0x80;
	q[29] = 204;
	q[31] = (SOAK_RTCP_LEN - 28) / 4 - 1;
	put32(q + 32, p->ssrc);
	stamp(q + 36, c, side, K_RTCP, p->rtcp_seq++);
	send_pkt(b, p, K_RTCP, q, sizeof(q));
}

void soak_send_due(struct bench *b, int64_t now)
{
	struct soak *s = b->soak;
	unsigned phones = s->n * 2;

	if (!s->next_due)
		s->next_due = now;
	while (s->next_due <= now) {
		for (unsigned i = s->slot; i < phones; i += WHEEL_SLOTS) {
			struct scall *c = &s->calls[i / 2];
			struct phone *p = &c->ph[i & 1];

			if (!p->sending)
				continue;
			/* one RTCP compound per second, half a second after the first RTP */
			if (p->seq % b->o.pps == b->o.pps / 2)
				send_rtcp(b, c, (int)(i & 1));
			send_rtp(b, c, (int)(i & 1));
		}
		s->slot = (s->slot + 1) % WHEEL_SLOTS;
		s->next_due += s->period / WHEEL_SLOTS;
	}
}

int64_t soak_next_due(const struct bench *b)
{
	return b->soak->next_due;
}

/* ---- receiving ---- */

static void misroute(struct bench *b, const struct scall *c, int side, int kind,
		     const char *why, const union sockaddr_u *from)
{
	struct soak *s = b->soak;
	char a[NETADDR_STRLEN], w[NETADDR_STRLEN];

	if (s->first_misroute[0])
		return;
	snprintf(s->first_misroute, sizeof(s->first_misroute),
		 "%s at %s %s of %s (from %s, told %s; actions [%s])", why, side ? "B" : "A",
		 kind ? "RTCP" : "RTP", c->callid, netaddr_str(from, a, sizeof(a)),
		 netaddr_str(&c->ph[side].dst[kind], w, sizeof(w)), c->story);
}

/* The stamp of a datagram: after the RTP header, or in the APP packet that follows
 * the SR of an RTCP compound. NULL if it carries none. */
static const uint8_t *find_stamp(const uint8_t *d, size_t len, int kind)
{
	size_t first;

	if (kind == K_RTP)
		return len >= BENCH_HDR + SOAK_STAMP && get32(d + BENCH_HDR) == SOAK_MAGIC ?
		       d + BENCH_HDR : NULL;
	if (len < 4)
		return NULL;
	first = ((size_t)d[2] << 8 | d[3]) * 4 + 4;
	if (len < first + 8 + SOAK_STAMP || d[first + 1] != 204)
		return NULL;
	d += first + 8;
	return get32(d) == SOAK_MAGIC ? d : NULL;
}

static void rx_one(struct bench *b, struct scall *c, int side, int kind, const uint8_t *d,
		   size_t len, const union sockaddr_u *from, int64_t now)
{
	struct soak *s = b->soak;
	struct phone *p = &c->ph[side];
	const uint8_t *st = find_stamp(d, len, kind);
	uint32_t who, seq;
	int64_t sent_at;

	if (!st) {
		s->k.foreign++;
		misroute(b, c, side, kind, "a datagram without our stamp", from);
		return;
	}
	who = get32(st + 8);
	if (get32(st + 4) != c->serial || who != ((uint32_t)(side ^ 1) << 8 | (uint32_t)kind)) {
		s->k.misrouted++;
		misroute(b, c, side, kind, "a packet of another call, side or kind", from);
		return;
	}
	if (!netaddr_eq(from, &p->dst[kind])) {
		s->k.wrong_source++;
		misroute(b, c, side, kind, "a packet from an address not told in SDP", from);
		return;
	}
	p->recv[kind]++;
	s->k.recv[kind]++;
	seq = get32(st + 12);
	if (seq >= p->rx_next[kind])
		p->rx_next[kind] = seq + 1;
	memcpy(&sent_at, st + 16, 8);
	if (kind == K_RTP && sent_at > 0 && sent_at <= now) {
		hist_add(&s->lat, (uint64_t)(now - sent_at));
		s->k.late += now - sent_at > (int64_t)b->o.settle_ms * 1000000;
	}
}

bool soak_drained(const struct scall *c, int side)
{
	const struct phone *p = &c->ph[side], *peer = &c->ph[side ^ 1];

	return peer->rx_next[K_RTP] >= p->seq && peer->rx_next[K_RTCP] >= p->rtcp_seq;
}

void soak_readable(struct bench *b, uint32_t tag)
{
	struct soak *s = b->soak;
	uint32_t slot = tag >> SOAK_TAG_BITS;
	int side = (tag >> 2) & 1, pair = (tag >> 1) & 1, kind = tag & 1;
	struct scall *c;
	int64_t now;
	int fd, n;

	if (slot >= s->n)
		return;
	c = &s->calls[slot];
	fd = c->ph[side].fd[pair][kind];
	if (fd < 0)
		return;                 /* closed earlier in this batch of events */
	do {
		for (int i = 0; i < RX_BATCH; i++) {
			rx->m[i].msg_hdr.msg_name = &rx->from[i];
			rx->m[i].msg_hdr.msg_namelen = sizeof(rx->from[i]);
		}
		n = recvmmsg(fd, rx->m, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			s->k.recv_errors++;
		now = mono_ns();
		for (int i = 0; i < n; i++)
			rx_one(b, c, side, kind, rx->buf[i], rx->m[i].msg_len, &rx->from[i], now);
	} while (n == RX_BATCH);
}
