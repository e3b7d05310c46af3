/* RFC 4733 telephone-event payloads (DTMF named events 0-15): parse, build, and a small
 * per-stream receiver state that turns the redundant packet train of one event (start
 * with marker, duration updates, end sent three times) into start/update/end once each. */
#ifndef SLUICE_RFC4733_H
#define SLUICE_RFC4733_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFC4733_LEN 4

struct rfc4733_event {
	uint8_t event;          /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D' */
	bool end;
	uint8_t volume;         /* 0..63, -dBm0 */
	uint16_t duration;      /* in the telephone-event clock (usually 8 kHz) */
};

/* Reads the first event block (len >= 4; a longer payload is allowed, the rest is
 * ignored). -EINVAL if shorter. */
int rfc4733_parse(const uint8_t *p, size_t len, struct rfc4733_event *ev);
/* Writes 4 bytes. -EINVAL for volume > 63, -ENOSPC if size < 4. Returns 4. */
int rfc4733_build(const struct rfc4733_event *ev, uint8_t *out, size_t size);
/* '0'-'9', '*', '#', 'A'-'D' (either case) -> event code; -EINVAL otherwise. */
int rfc4733_digit_event(char digit);
/* Event code -> digit, 0 for codes beyond 15. */
char rfc4733_event_digit(unsigned event);

#define RFC4733_RX_START   0x1  /* first packet of a new event seen */
#define RFC4733_RX_UPDATE  0x2  /* longer duration of the current event */
#define RFC4733_RX_END     0x4  /* first end packet of the current event */

struct rfc4733_rx {
	bool have;              /* an event was seen */
	bool ended;
	uint32_t ts;            /* RTP timestamp of the current event */
	uint8_t event;
	uint16_t duration;
};

void rfc4733_rx_init(struct rfc4733_rx *rx);
/* Classifies one packet with RTP timestamp ts: a mask of RFC4733_RX_* (START|END for a
 * lone end packet of an unseen event), 0 for a retransmission or a stale event. */
unsigned rfc4733_rx_feed(struct rfc4733_rx *rx, uint32_t ts, const struct rfc4733_event *ev);

#endif
