/* Pipelined NG client: many requests in flight on one UDP socket, matched to replies by
 * cookie ("RUN_SLOT_GEN"; RUN is random per process, since relays cache replies by
 * cookie), retransmitted with the same cookie on timeout (relays answer a
 * repeated cookie from their cache). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "sluice/ngwire.h"

#define NG_SLOTS   256
#define NG_MSG_MAX 4096

struct ng_req {
	bool used;
	uint32_t gen;
	int tries;
	int64_t sent_at;
	ng_cb cb;
	void *ctx;
	size_t len;
	char msg[NG_MSG_MAX];
};

struct ng_client {
	int fd;
	uint32_t run;
	int timeout_ms, retries;
	unsigned inflight;
	uint64_t timeouts;
	unsigned free_top;
	unsigned free[NG_SLOTS];
	struct ng_req req[NG_SLOTS];
	char rx[NGWIRE_MAX_DGRAM + 1];
};

int ng_open(struct ng_client **out, const char *server, int timeout_ms, int retries)
{
	struct ng_client *ng;
	union sockaddr_u srv;
	int sz = 4 << 20;

	if (netaddr_parse(server, 2223, true, &srv))
		return -EINVAL;
	ng = calloc(1, sizeof(*ng));
	if (!ng)
		return -ENOMEM;
	ng->timeout_ms = timeout_ms;
	if (getrandom(&ng->run, sizeof(ng->run), 0) != sizeof(ng->run))
		ng->run = (uint32_t)mono_ns() ^ (uint32_t)getpid();
	ng->retries = retries;
	for (unsigned i = 0; i < NG_SLOTS; i++)
		ng->free[ng->free_top++] = NG_SLOTS - 1 - i;
	ng->fd = socket(srv.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ng->fd < 0)
		goto fail;
	/* delete replies of many calls can arrive back to back */
	setsockopt(ng->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (connect(ng->fd, &srv.sa, netaddr_len(&srv)))
		goto fail;
	*out = ng;
	return 0;
fail:
	{
		int e = -errno;
		ng_close(ng);
		return e;
	}
}

void ng_close(struct ng_client *ng)
{
	if (!ng)
		return;
	if (ng->fd >= 0)
		close(ng->fd);
	free(ng);
}

int ng_fd(const struct ng_client *ng)
{
	return ng->fd;
}

unsigned ng_inflight(const struct ng_client *ng)
{
	return ng->inflight;
}

uint64_t ng_timeouts(const struct ng_client *ng)
{
	return ng->timeouts;
}

static void finish(struct ng_client *ng, unsigned slot, const char *body, size_t len, int err)
{
	struct ng_req *r = &ng->req[slot];
	ng_cb cb = r->cb;
	void *ctx = r->ctx;

	r->used = false;
	ng->free[ng->free_top++] = slot;
	ng->inflight--;
	cb(ctx, body, len, err);        /* may queue the next request */
}

static void transmit(struct ng_client *ng, struct ng_req *r)
{
	r->sent_at = mono_ns();
	r->tries++;
	/* a full socket buffer just means the retransmit timer will try again */
	if (send(ng->fd, r->msg, r->len, 0) < 0 && errno != EAGAIN && errno != ECONNREFUSED)
		r->sent_at = 0;
}

int ng_send(struct ng_client *ng, const struct strbuf *body, ng_cb cb, void *ctx)
{
	struct ng_req *r;
	unsigned slot;
	int n;

	if (!ng->free_top)
		return -EBUSY;
	slot = ng->free[--ng->free_top];
	r = &ng->req[slot];
	r->gen++;
	n = snprintf(r->msg, NG_MSG_MAX, "%08x_%u_%u ", ng->run, slot, r->gen);
	if (body->oom || (size_t)n + body->len > NG_MSG_MAX) {
		ng->free[ng->free_top++] = slot;
		return -EMSGSIZE;
	}
	memcpy(r->msg + n, body->buf, body->len);
	r->len = (size_t)n + body->len;
	r->used = true;
	r->tries = 0;
	r->cb = cb;
	r->ctx = ctx;
	ng->inflight++;
	transmit(ng, r);
	return 0;
}

void ng_poll(struct ng_client *ng)
{
	for (;;) {
		ssize_t n = recv(ng->fd, ng->rx, sizeof(ng->rx) - 1, MSG_DONTWAIT);
		struct ngwire_msg m;
		unsigned slot, gen, run;
		char ck[32];

		if (n < 0)
			return;         /* EAGAIN, or an ICMP error: timeouts handle it */
		if (ngwire_split(ng->rx, (size_t)n, &m) || m.cookie_len >= sizeof(ck))
			continue;
		memcpy(ck, m.cookie, m.cookie_len);
		ck[m.cookie_len] = 0;
		if (sscanf(ck, "%x_%u_%u", &run, &slot, &gen) != 3 || run != ng->run ||
		    slot >= NG_SLOTS ||
		    !ng->req[slot].used || ng->req[slot].gen != gen)
			continue;       /* stale duplicate of an answered request */
		finish(ng, slot, m.body, m.body_len, 0);
	}
}

void ng_tick(struct ng_client *ng, int64_t now)
{
	int64_t to = (int64_t)ng->timeout_ms * 1000000;

	if (!ng->inflight)
		return;
	for (unsigned i = 0; i < NG_SLOTS; i++) {
		struct ng_req *r = &ng->req[i];

		if (!r->used || now - r->sent_at < to)
			continue;
		if (r->tries > ng->retries) {
			ng->timeouts++;
			finish(ng, i, NULL, 0, -ETIMEDOUT);
			continue;
		}
		transmit(ng, r);
	}
}
