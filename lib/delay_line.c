/* Delay line over a byte ring (see sluice/delay_line.h). */
#include "sluice/delay_line.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/bytering.h"

struct rec_hdr {                        /* one held packet: header, then its bytes */
	int64_t due_us;
	uint32_t len;
	uint32_t pad;
};

struct delay_line {
	struct bytering ring;
	int64_t last_due;
	unsigned held;
	uint64_t dropped;
};

size_t delay_line_bytes(unsigned delay_ms)
{
	size_t b = (size_t)delay_ms * 96;

	if (b < 64 * 1024)
		return 64 * 1024;
	return b > 8u << 20 ? 8u << 20 : b;
}

int delay_line_create(struct delay_line **out, size_t bytes)
{
	struct delay_line *dl = calloc(1, sizeof(*dl));

	if (!dl)
		return -ENOMEM;
	if (bytering_init(&dl->ring, bytes)) {
		free(dl);
		return -ENOMEM;
	}
	dl->last_due = INT64_MIN;
	*out = dl;
	return 0;
}

void delay_line_free(struct delay_line *dl)
{
	if (!dl)
		return;
	bytering_free(&dl->ring);
	free(dl);
}

int delay_line_push(struct delay_line *dl, int64_t due_us, const uint8_t *pkt, size_t len)
{
	struct rec_hdr *h;

	if (len > UINT32_MAX ||
	    !(h = bytering_reserve(&dl->ring, sizeof(*h) + len))) {
		dl->dropped++;
		return -ENOBUFS;
	}
	if (due_us < dl->last_due)
		due_us = dl->last_due;
	*h = (struct rec_hdr){ .due_us = due_us, .len = (uint32_t)len };
	memcpy(h + 1, pkt, len);
	bytering_commit(&dl->ring);
	dl->last_due = due_us;
	dl->held++;
	return 0;
}

int64_t delay_line_next(struct delay_line *dl)
{
	size_t len;
	const struct rec_hdr *h = bytering_peek(&dl->ring, &len);

	return h ? h->due_us : -1;
}

size_t delay_line_pop(struct delay_line *dl, int64_t now_us, uint8_t *buf, size_t cap)
{
	size_t len, n;
	const struct rec_hdr *h = bytering_peek(&dl->ring, &len);

	if (!h || h->due_us > now_us)
		return 0;
	n = h->len;
	if (n <= cap)
		memcpy(buf, h + 1, n);
	else
		dl->dropped++;
	bytering_pop(&dl->ring);
	dl->held--;
	return n <= cap ? n : 0;
}

bool delay_line_empty(const struct delay_line *dl)
{
	return dl->held == 0;
}

unsigned delay_line_held(const struct delay_line *dl)
{
	return dl->held;
}

uint64_t delay_line_dropped(const struct delay_line *dl)
{
	return dl->dropped;
}
