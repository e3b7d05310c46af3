/* RFC 4733 telephone-event payload and receiver state. */
#include "sluice/rfc4733.h"

#include <errno.h>
#include <string.h>

int rfc4733_parse(const uint8_t *p, size_t len, struct rfc4733_event *ev)
{
	if (!p || len < RFC4733_LEN)
		return -EINVAL;
	ev->event = p[0];
	ev->end = p[1] & 0x80;
	ev->volume = p[1] & 0x3f;
	ev->duration = (uint16_t)(p[2] << 8 | p[3]);
	return 0;
}

int rfc4733_build(const struct rfc4733_event *ev, uint8_t *out, size_t size)
{
	if (ev->volume > 63)
		return -EINVAL;
	if (size < RFC4733_LEN)
		return -ENOSPC;
	out[0] = ev->event;
	out[1] = (uint8_t)((ev->end ? 0x80 : 0) | ev->volume);
	out[2] = (uint8_t)(ev->duration >> 8);
	out[3] = (uint8_t)ev->duration;
	return RFC4733_LEN;
}

static const char digits[] = "0123456789*#ABCD";

int rfc4733_digit_event(char digit)
{
	const char *p;

	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	p = digit ? strchr(digits, digit) : NULL;
	return p ? (int)(p - digits) : -EINVAL;
}

char rfc4733_event_digit(unsigned event)
{
	return event < 16 ? digits[event] : 0;
}

void rfc4733_rx_init(struct rfc4733_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

unsigned rfc4733_rx_feed(struct rfc4733_rx *rx, uint32_t ts, const struct rfc4733_event *ev)
{
	unsigned r = 0;

	if (rx->have && ts == rx->ts && ev->event == rx->event) {
		if (rx->ended)
			return 0;
		if (ev->end)
			r = RFC4733_RX_END;
		else if (ev->duration > rx->duration)
			r = RFC4733_RX_UPDATE;
		else
			return 0;
	} else {
		/* an event older than the current one is a late retransmission */
		if (rx->have && (int32_t)(ts - rx->ts) < 0)
			return 0;
		r = RFC4733_RX_START | (ev->end ? RFC4733_RX_END : 0);
		rx->have = true;
		rx->ts = ts;
		rx->event = ev->event;
		rx->duration = 0;
	}
	rx->ended = ev->end;
	if (ev->duration > rx->duration)
		rx->duration = ev->duration;
	return r;
}
