/* Userspace control of the sluice kernel module (one instance = one table id).
 *
 * Lifecycle for the daemon:
 *   kmod_open(&k, id, capacity, KMOD_OPEN_FLUSH)   at start (creates the instance if
 *                                                   missing; flushes stale entries)
 *   sluice_nft_install(id, ...)                     (daemon/nft.h) rule -> module
 *   slot = kmod_add(k, &stream)                     push a stream; keep the slot
 *   kmod_update(k, slot, &stream)                   re-latch / re-INVITE (counters kept)
 *   kmod_read(k, slot, &ctr)                        counters, no system call
 *   kmod_read_quality(k, slot, &seg)                RTP quality (SLUICE_SF_QUALITY)
 *   kmod_del(k, slot)                               counters stay readable until the slot
 *                                                   is handed out again
 *   sluice_nft_remove(id); kmod_close(k, true)      clean exit (true: destroy instance)
 *
 * Threads: the handle has one owner for add/update/del/flush (slot bookkeeping is not
 * locked); kmod_read()/kmod_stats() only read the shared mapping and may be called from
 * any thread while the handle is open.
 * All functions return 0 (or a slot >= 0) on success and -errno on failure; the errno
 * values of the module are listed in sluice/kernel_abi.h. */
#ifndef SLUICE_KMOD_H
#define SLUICE_KMOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sluice/kernel_abi.h>
#include <sluice/netaddr.h>
#include <sluice/quality.h>

struct kmod;

#define KMOD_PROC_DIR		"/proc/net/sluice"	/* per network namespace */
#define KMOD_DEFAULT_CAPACITY	65536u

/* kmod_open() flags */
#define KMOD_OPEN_FLUSH		0x1u	/* delete entries left by a previous run */
#define KMOD_OPEN_NOCREATE	0x2u	/* fail with -ENOENT if the instance does not exist */
#define KMOD_OPEN_EXCL		0x4u	/* one owner at a time: -EBUSY while another process
					   of this network namespace holds the instance open
					   with this flag (released when it exits, however) */

/* One direction of a stream: packets arriving on `local` are sent from `out_src` to
 * `out_dst`. All addresses are AF_INET or AF_INET6 with a port; expect_src may be
 * AF_UNSPEC (any source accepted). local/expect_src share a family, out_src/out_dst
 * share one; the two pairs may differ (IPv4 <-> IPv6 bridging). */
struct kmod_stream {
	union sockaddr_u	local;		/* the relay socket receiving this direction */
	union sockaddr_u	expect_src;	/* latched peer, or AF_UNSPEC = any source */
	union sockaddr_u	out_src;	/* the sink's relay socket (packets leave from it) */
	union sockaddr_u	out_dst;	/* the sink's endpoint */
	unsigned int		flags;		/* SLUICE_SF_MISMATCH_PASS | SLUICE_SF_SET_TOS |
						   SLUICE_SF_QUALITY */
	uint8_t			tos;		/* with SLUICE_SF_SET_TOS */
	uint32_t		clock_rate;	/* with SLUICE_SF_QUALITY: RTP clock (Hz), 0 none */
	uint32_t		jitter16;	/* with a clock_rate: kmod_add() continues the
						   jitter estimate from it (quality_rx.jitter16) */
};

struct kmod_counters {
	uint64_t	packets;	/* forwarded by the kernel */
	uint64_t	bytes;		/* forwarded UDP payload bytes */
	uint64_t	errors;		/* matched but not forwarded */
	uint64_t	mismatch;	/* wrong source (dropped, or passed to userspace) */
	uint64_t	last_ns;	/* CLOCK_MONOTONIC ns of the last forwarded packet, 0 never */
	uint32_t	gen;		/* changes on every add/update/del of the slot */
	bool		active;		/* the slot holds an entry */
	/* The source of a recent mismatching packet (the last one, unless several arrived
	 * on different CPUs at once) and when, recorded by the kernel without a system
	 * call. AF_UNSPEC / 0 when none since the slot was added (or, rarely, when the
	 * record kept changing under KMOD_SEQ_TRIES reads: the next read gets it). */
	union sockaddr_u last_mismatch;
	uint64_t	last_mismatch_ns;	/* CLOCK_MONOTONIC ns (coarse), 0 = none */
};

/* Reads of the mismatch record before kmod_read() gives up on it (it is rewritten only
 * by packets of a mismatching source, so one retry is rare and 64 in a row means a
 * flood on several CPUs). */
#define KMOD_SEQ_TRIES	64

/* Is the module loaded (in this network namespace's view)? */
bool kmod_available(void);

/* Opens instance `id` (< SLUICE_MAX_INSTANCES), creating it with `capacity` slots
 * (0 = KMOD_DEFAULT_CAPACITY) unless it exists (then its own capacity is used), and maps
 * its counters. -ENOENT: module not loaded (or KMOD_OPEN_NOCREATE and no instance);
 * -EBUSY: KMOD_OPEN_EXCL and another owner (checked before any flush). */
int kmod_open(struct kmod **out, unsigned int id, unsigned int capacity, unsigned int flags);
/* Unmaps and closes; destroy: also removes the instance and its entries. NULL is a no-op. */
void kmod_close(struct kmod *k, bool destroy);
/* Removes instance `id` without opening it. -ENOENT if absent. */
int kmod_destroy(unsigned int id);

unsigned int kmod_id(const struct kmod *k);
unsigned int kmod_capacity(const struct kmod *k);
unsigned int kmod_used(const struct kmod *k);	/* slots in use by this handle */

/* Pushes a stream; returns its slot (>= 0). Slots are handed out next-fit, so a freed
 * slot is reused as late as possible. -EEXIST: `local` already pushed; -ENOSPC: full;
 * -EINVAL: bad address/flags. */
int kmod_add(struct kmod *k, const struct kmod_stream *s);
/* Replaces the stream in `slot` atomically; counters continue. */
int kmod_update(struct kmod *k, int slot, const struct kmod_stream *s);
int kmod_del(struct kmod *k, int slot);
/* Deletes every entry of the instance (also ones this handle did not add). */
int kmod_flush(struct kmod *k);

/* Adopting a killed predecessor's entries (open without KMOD_OPEN_FLUSH):
 * the instance's owner token (struct sluice_stats_hdr.token; 0: never set, or a module
 * without SLUICE_CMD_SET_TOKEN), and setting it (-EOPNOTSUPP from such a module). */
uint64_t kmod_token(const struct kmod *k);
int kmod_set_token(struct kmod *k, uint64_t token);
/* One entry of the instance as the module lists it (/proc/.../list). */
struct kmod_entry {
	int			slot;
	union sockaddr_u	local;
};
/* The instance's entries, in slot order: *out (malloc'd, the caller frees; NULL when
 * there are none) and their number, or -errno. O(entries) text parsing: for a start. */
int kmod_entries(const struct kmod *k, struct kmod_entry **out, unsigned int *n);
/* Takes over an entry this handle did not add (its slot counts as used: kmod_update
 * and kmod_del work on it). -ERANGE; -ENOENT if the slot holds no entry. */
int kmod_adopt(struct kmod *k, int slot);

/* Consistent-enough snapshot of one slot's counters (each field read atomically; the
 * mismatch source and its time as one, under the module's sequence counter). */
int kmod_read(const struct kmod *k, int slot, struct kmod_counters *out);
/* The same from any struct sluice_stats (exposed for tests). */
void kmod_read_stats(const volatile struct sluice_stats *st, struct kmod_counters *out);
/* The slot's RTP quality line as one consistent copy (the module's sequence counter,
 * KMOD_SEQ_TRIES reads at most). 0; -ERANGE; -EAGAIN: the module kept rewriting it. */
int kmod_read_quality(const struct kmod *k, int slot, struct quality_seg *out);
/* The same from any struct sluice_stats (exposed for tests). */
int kmod_read_quality_stats(const volatile struct sluice_stats *st, struct quality_seg *out);
/* The slot's shared counters (read-only mapping), NULL if out of range. */
const volatile struct sluice_stats *kmod_stats(const struct kmod *k, int slot);

/* Converts a stream to the ABI form (exposed for tests). -EINVAL on a bad family. */
int kmod_stream_to_abi(const struct kmod_stream *s, struct sluice_stream *out);
/* Writes a raw message to the instance's control file, for tests that feed the module
 * garbage. Returns 0 or -errno. */
int kmod_write_raw(struct kmod *k, const void *msg, size_t len);
/* Same, on the namespace-wide control file (instance create/destroy). */
int kmod_write_raw_global(const void *msg, size_t len);

#endif
