/* Single-producer single-consumer ring of variable-length records, lock-free.
 *
 * The producer reserves room for a record, writes it, and commits it; a reservation
 * that is not committed is simply overwritten by the next one, so a producer can
 * prepare a record and drop it without cost (e.g. when the packet it describes is not
 * sent after all). The consumer peeks the oldest record and pops it. Records are
 * 8-byte aligned and never wrap: a record that does not fit before the end of the
 * buffer starts at its beginning (the skipped tail is a padding record). */
#ifndef SLUICE_BYTERING_H
#define SLUICE_BYTERING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct bytering {
	uint8_t *buf;
	size_t size;                    /* power of two */
	_Atomic uint64_t head;          /* bytes committed, ever (producer writes) */
	_Atomic uint64_t tail;          /* bytes consumed, ever (consumer writes) */
	uint64_t resv_end;              /* producer: head after the pending reservation */
	uint64_t resv_start;            /* producer: where the pending record starts */
};

/* size is rounded up to a power of two, at least 4096. 0 or -ENOMEM. */
int bytering_init(struct bytering *r, size_t size);
void bytering_free(struct bytering *r);
/* Largest record that can ever fit. */
size_t bytering_max_record(const struct bytering *r);

/* Producer. Room for len bytes (8-byte aligned), or NULL when the ring is full. */
void *bytering_reserve(struct bytering *r, size_t len);
/* Publish the last reservation to the consumer. */
void bytering_commit(struct bytering *r);

/* Consumer. The oldest record and its length, or NULL when empty. */
const void *bytering_peek(struct bytering *r, size_t *len);
/* Drop the record peek returned. */
void bytering_pop(struct bytering *r);

#endif
