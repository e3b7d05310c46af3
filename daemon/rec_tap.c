/* The media workers' side of recording (rec.h): one copy per packet into the worker's
 * own queue. Call lock held; no lock of ours, no allocation, no syscall. */
#include <string.h>
#include <time.h>

#include "call.h"
#include "rec_internal.h"

static struct rec_pkt *fill(struct rec *r, unsigned w, struct call *c, unsigned party,
			    const union sockaddr_u *src, const union sockaddr_u *dst,
			    const uint8_t *data, size_t len)
{
	struct rec_pkt *p;
	struct timespec ts;
	uint8_t flags = c->rec.ring ? REC_F_RING : 0;

	if (!c->rec.sink || (!c->rec.gen && !flags) || len > UINT16_MAX)
		return NULL;
	p = bytering_reserve(&r->q[w], sizeof(*p) + len);
	if (!p) {
		c->rec.drops++;
		atomic_fetch_add_explicit(&r->queue_drops, 1, memory_order_relaxed);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &ts);     /* vDSO: a pcap wants better than ticks */
	p->sink = c->rec.sink;
	p->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	p->gen = c->rec.gen;
	p->len = (uint16_t)len;
	p->party = (uint8_t)party;
	p->flags = flags;
	p->src = *src;
	p->dst = *dst;
	memcpy(p->data, data, len);
	return p;
}

void rec_packet(struct rec *r, unsigned w, struct call *c, unsigned party,
		const union sockaddr_u *src, const union sockaddr_u *dst,
		const uint8_t *data, size_t len)
{
	if (fill(r, w, c, party, src, dst, data, len))
		bytering_commit(&r->q[w]);
}

bool rec_prepare(struct rec *r, unsigned w, struct call *c, unsigned party,
		 const union sockaddr_u *src, const union sockaddr_u *dst,
		 const uint8_t *data, size_t len)
{
	return fill(r, w, c, party, src, dst, data, len) != NULL;
}

void rec_commit(struct rec *r, unsigned w)
{
	bytering_commit(&r->q[w]);
}
