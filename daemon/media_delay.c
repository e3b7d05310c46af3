/* The delay line of what a side sends (see media_delay.h). */
#include "media_delay.h"

#include <errno.h>

#include "call.h"
#include "sluice/delay_line.h"
#include "sluice/rtp.h"

int media_delay_set(struct media *m, unsigned ms)
{
	struct delay_line *dl;

	if (ms > MEDIA_DELAY_MAX_MS)
		ms = MEDIA_DELAY_MAX_MS;
	/* a line too small for the new delay is replaced while it is empty; one that
	 * still holds packets keeps them (it drops what does not fit, counted) */
	if (ms && (!m->delay || (m->delay_cap_ms < ms && delay_line_empty(m->delay)))) {
		if (delay_line_create(&dl, delay_line_bytes(ms)))
			return -ENOMEM;
		delay_line_free(m->delay);
		m->delay = dl;
		m->delay_cap_ms = ms;
	}
	m->delay_ms = ms;
	return 0;
}

void media_delay_free(struct media *m)
{
	delay_line_free(m->delay);
	m->delay = NULL;
}

bool media_delay_busy(const struct stream *s)
{
	const struct media *m = s->media;

	return s->component == COMP_RTP && m->delay &&
	       (m->delay_ms || !delay_line_empty(m->delay));
}

bool media_delay_hold(struct stream *t, const uint8_t *p, size_t len, int64_t now_us)
{
	struct media *m = t->media;

	if (!m->delay || t->component != COMP_RTP || rtp_is_rtcp(p, len))
		return false;
	if (!m->delay_ms && delay_line_empty(m->delay))
		return false;
	/* with the delay set back to 0, what follows queues behind what is held; a full
	 * line drops the packet (counted) */
	delay_line_push(m->delay, now_us + (int64_t)m->delay_ms * 1000, p, len);
	return true;
}

int64_t media_delay_next(struct stream *t)
{
	return t->media->delay ? delay_line_next(t->media->delay) : -1;
}

size_t media_delay_release(struct stream *t, int64_t now_us, uint8_t *buf, size_t cap)
{
	struct media *m = t->media;
	size_t n;

	if (!m->delay)
		return 0;
	n = delay_line_pop(m->delay, now_us, buf, cap);
	if (n && !m->delay_ms && delay_line_empty(m->delay))
		m->party->call->kdirty = true;  /* drained: the kernel may take it back */
	return n;
}
