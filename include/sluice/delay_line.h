/* A delay line: packets held back for a while and released in arrival order at the
 * time each was given (the NG `delay-buffer` of a stream).
 *
 * The storage is one byte ring sized at creation: pushing and releasing copy bytes and
 * allocate nothing. A packet that does not fit is dropped and counted (the ring is
 * sized for the delay at a generous audio bitrate; see delay_line_bytes()). Release
 * times never go back: a packet is due no earlier than the one before it, so a delay
 * that shrinks keeps the order and lets the queue drain.
 *
 * Threads: calls on one line must not run concurrently (the daemon holds the call
 * lock). */
#ifndef SLUICE_DELAY_LINE_H
#define SLUICE_DELAY_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct delay_line;

/* Ring size for delay_ms of media: 96 bytes per ms (about 64 packets of 1500 bytes
 * per second plus headers), at least 64 KiB, at most 8 MiB. */
size_t delay_line_bytes(unsigned delay_ms);
/* -ENOMEM. bytes is rounded up to a power of two. */
int delay_line_create(struct delay_line **out, size_t bytes);
void delay_line_free(struct delay_line *dl);
/* Holds a copy of pkt until due_us (raised to the last packet's due time if earlier).
 * 0, or -ENOBUFS (full: dropped and counted). */
int delay_line_push(struct delay_line *dl, int64_t due_us, const uint8_t *pkt, size_t len);
/* Due time of the oldest packet; -1 when empty. */
int64_t delay_line_next(struct delay_line *dl);
/* Moves the oldest packet into buf if it is due at now_us. Its length, or 0 when none
 * is due (or it does not fit cap: then it is dropped and counted). */
size_t delay_line_pop(struct delay_line *dl, int64_t now_us, uint8_t *buf, size_t cap);
bool delay_line_empty(const struct delay_line *dl);
/* Packets held now; packets dropped (full ring) since creation. */
unsigned delay_line_held(const struct delay_line *dl);
uint64_t delay_line_dropped(const struct delay_line *dl);

#endif
