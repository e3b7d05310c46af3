/* Per-SSRC SRTP state: the packet index (ROC) estimate of RFC 3711 3.3.1 and the replay
 * windows of 3.3.2, in a fixed table of SSRCs per context.
 *
 * Table policy: SRTPX_SLOTS SSRCs, looked up linearly (the last hit first); when full,
 * the least recently used is forgotten (counted in `evicted`). An inbound context only
 * takes a slot for a packet that authenticated, so strangers cannot push real SSRCs
 * out. What forgetting costs: a forgotten SSRC that comes back starts over (ROC 0, an
 * empty window), as after a key change; libsrtp2 instead keeps every SSRC it ever saw,
 * allocating for each. */
#include "srtp_internal.h"

#include <string.h>

int64_t srtpx_rtp_index(const struct srtpx_win *w, uint16_t seq)
{
	int64_t roc, s_l, v;

	if (!w->any)
		return seq;
	roc = (int64_t)(w->top >> 16);
	s_l = (int64_t)(w->top & 0xffff);
	/* Appendix A, signed arithmetic */
	if (s_l < 32768)
		v = (int64_t)seq - s_l > 32768 ? roc - 1 : roc;
	else
		v = s_l - 32768 > (int64_t)seq ? roc + 1 : roc;
	/* ROC -1 would be before the stream began: while ROC is 0 every SEQ is read in
	 * ROC 0, a jump forward or a straggler (libsrtp2 does the same) */
	if (v < 0)
		v = 0;
	if (v > 0xffffffffll)
		return -1;
	return v << 16 | seq;
}

enum srtpx_seen srtpx_win_check(const struct srtpx_win *w, const uint64_t *bits,
			      unsigned nbits, unsigned size, uint64_t idx)
{
	uint64_t pos;

	if (!w->any || idx > w->top)
		return SRTPX_NEW;
	if (w->top - idx >= size)
		return SRTPX_OLD;
	pos = idx % nbits;
	return bits[pos / 64] >> (pos % 64) & 1 ? SRTPX_SEEN : SRTPX_NEW;
}

static void clear_bit(uint64_t *bits, unsigned nbits, uint64_t idx)
{
	uint64_t pos = idx % nbits;

	bits[pos / 64] &= ~(1ull << (pos % 64));
}

void srtpx_win_add(struct srtpx_win *w, uint64_t *bits, unsigned nbits, uint64_t idx)
{
	uint64_t pos;

	if (!w->any || (idx > w->top && idx - w->top >= nbits)) {
		memset(bits, 0, nbits / 8);
		w->top = idx;
		w->any = true;
	} else if (idx > w->top) {
		/* the indices between the old top and idx become unseen (< nbits of them) */
		for (uint64_t i = w->top + 1; i < idx; i++)
			clear_bit(bits, nbits, i);
		w->top = idx;
	} else if (w->top - idx >= nbits) {
		return;                 /* older than the bitmap: srtpx_win_check said OLD */
	}
	pos = idx % nbits;
	bits[pos / 64] |= 1ull << (pos % 64);
}

struct srtpx_stream *srtpx_stream_find(struct srtpx_streams *t, uint32_t ssrc)
{
	struct srtpx_stream *s = &t->slot[t->last];

	if (s->used && s->ssrc == ssrc)
		goto hit;
	for (unsigned i = 0; i < SRTPX_SLOTS; i++) {
		s = &t->slot[i];
		if (s->used && s->ssrc == ssrc) {
			t->last = i;
			goto hit;
		}
	}
	return NULL;
hit:
	s->lru = ++t->clock;
	return s;
}

struct srtpx_stream *srtpx_stream_take(struct srtpx_streams *t, uint32_t ssrc)
{
	struct srtpx_stream *s = srtpx_stream_find(t, ssrc);
	unsigned victim = 0;

	if (s)
		return s;
	for (unsigned i = 0; i < SRTPX_SLOTS; i++) {
		if (!t->slot[i].used) {
			victim = i;
			goto take;
		}
		if (t->slot[i].lru < t->slot[victim].lru)
			victim = i;
	}
	t->evicted++;
take:
	s = &t->slot[victim];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->ssrc = ssrc;
	s->lru = ++t->clock;
	t->last = victim;
	return s;
}
