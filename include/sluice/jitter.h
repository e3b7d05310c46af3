/* Adaptive jitter buffer for one received RTP stream (the input of a transcoder).
 *
 * Packets are stored by sequence number and played out in order at
 *     due(ts) = ts in microseconds + minimum transit delay + target delay,
 * where both delays are measured from the packets themselves: the transit delay
 * (arrival time minus timestamp) is tracked as a windowed minimum and maximum over the
 * last 3..6 s, and the target is their spread plus a margin, clamped to
 * [min_ms, max_ms]. It rises at once and decays slowly. Because the minimum follows the
 * newest arrivals, sender clock drift moves the playout point with it.
 *
 * A missing packet is declared lost (for the decoder to conceal) once its due time has
 * passed and a later packet is waiting; packets arriving after that are late and
 * dropped, as are duplicates. A new SSRC, or a sequence number far outside the window,
 * resets the buffer. When the buffered span exceeds max_ms, packets are released
 * early to bound the delay.
 *
 * Time is passed in by the caller (microseconds on any monotonic clock), so the buffer
 * never reads a clock and is deterministic under test. max_ms == 0 turns the buffer off:
 * packets come out immediately in arrival order. No allocation after jitter_create(). */
#ifndef SLUICE_JITTER_H
#define SLUICE_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JITTER_SLOTS        128     /* packets held at most */
#define JITTER_MAX_PAYLOAD  1500

struct jitter_cfg {
	unsigned min_ms;        /* lower bound of the target delay, e.g. 20 */
	unsigned max_ms;        /* upper bound and delay cap, e.g. 200; 0 = off */
	unsigned clock_rate;    /* RTP clock of the stream */
};

struct jitter_pkt {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint16_t len;
	uint8_t payload[JITTER_MAX_PAYLOAD];
};

enum jitter_kind { JITTER_EMPTY = 0, JITTER_PACKET, JITTER_LOST };

struct jitter_out {
	enum jitter_kind kind;
	/* PACKET: the packet. LOST: the next buffered packet, if any (for Opus FEC; it is
	 * still returned later). Points into the buffer: valid until the next put/get. */
	const struct jitter_pkt *pkt;
	uint16_t seq;           /* LOST: the missing sequence number */
	uint32_t ts;            /* LOST: its predicted timestamp */
};

struct jitter_stats {
	uint64_t put, played, lost, late, duplicate, resets, overflow;
	unsigned target_ms;     /* current target delay */
};

struct jitter;

/* -EINVAL (no clock, min > max), -ENOMEM. */
int jitter_create(const struct jitter_cfg *cfg, struct jitter **out);
void jitter_destroy(struct jitter *jb);

/* Stores a packet that arrived at now_us. 0; -ETIME late (its turn has passed);
 * -EEXIST duplicate; -EMSGSIZE payload too long; -ENOBUFS off-mode queue full. */
int jitter_put(struct jitter *jb, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
	       uint32_t ssrc, const uint8_t *payload, size_t len, uint64_t now_us);
/* Next playout step at now_us: EMPTY (nothing due), PACKET or LOST. Call until EMPTY. */
enum jitter_kind jitter_get(struct jitter *jb, uint64_t now_us, struct jitter_out *out);
/* Earliest time at which jitter_get() may return something; UINT64_MAX when empty. */
uint64_t jitter_next_due(const struct jitter *jb);
void jitter_get_stats(const struct jitter *jb, struct jitter_stats *st);

#endif
