/* The ABI between sluiced (lib/kmod.c) and the sluice kernel module.
 *
 * One header, included by both sides: fixed-width types only, explicit padding, every
 * reserved/pad field must be zero (the module refuses anything else, so the fields can
 * get a meaning later without a version bump being ambiguous).
 *
 * Files (per network namespace, so two daemons in two netns never share ids):
 *   /proc/net/sluice/control       write: struct sluice_msg_instance (create/destroy)
 *   /proc/net/sluice/<id>/control  write: one struct sluice_msg_* per write() call
 *   /proc/net/sluice/<id>/stats    mmap (read-only, shared): struct sluice_stats_hdr
 *                                  followed by capacity x struct sluice_stats
 *   /proc/net/sluice/<id>/list     read: text dump of the entries (debugging): a line
 *                                  "instance I capacity C entries N", then per entry
 *                                  "SLOT LOCAL EXPECT OUT_SRC OUT_DST flags F packets N
 *                                  bytes N errors N mismatch N [mismatch_from A:P]
 *                                  [ssrc X expected N received N duplicates N
 *                                  reordered N jitter16 N clock N]" (the rtp part once
 *                                  a SLUICE_SF_QUALITY entry measured RTP; ssrc in hex)
 * An nftables rule "sluice instance <id>" (expression name "sluice", attribute
 * SLUICE_NFTA_INSTANCE) hands UDP packets to instance <id>; see daemon/nft.c.
 *
 * write() returns the full message length on success or fails with errno:
 *   EPROTO      hdr.version != SLUICE_ABI_VERSION
 *   EINVAL      length mismatch, non-zero reserved/pad, bad family, port 0, address
 *               0.0.0.0/::, bad flags, expect_src family != local family,
 *               out_src family != out_dst family, clock_rate > SLUICE_MAX_CLOCK_RATE,
 *               clock_rate or jitter16 != 0 without SLUICE_SF_QUALITY, jitter16 != 0
 *               with clock_rate 0
 *   EOPNOTSUPP  unknown cmd
 *   ERANGE      slot >= capacity, instance id or capacity out of range
 *   EBUSY       ADD to an occupied slot
 *   EEXIST      ADD/UPDATE whose local address is already used by another slot;
 *               CREATE of an existing instance
 *   ENOENT      UPDATE/DEL of an empty slot; DESTROY of a missing instance
 *   (SET_TOKEN takes any token, 0 included; only its length is checked)
 *   ENOMEM      CREATE could not allocate the instance
 *   EFAULT      the buffer is not readable
 *   EPERM       the file was opened without CAP_NET_ADMIN over the netns
 * One message per write(): writev() hands each iovec over as a write of its own.
 * Files of a destroyed instance fail with EIO (writes, mmap); an existing stats mapping
 * stays readable. t/kernel/kabuse.c holds all of this to account.
 */
#ifndef SLUICE_KERNEL_ABI_H
#define SLUICE_KERNEL_ABI_H

#include <linux/types.h>

#define SLUICE_ABI_VERSION	4u	/* 2: last mismatching source in struct sluice_stats;
					 * 3: RTP quality (struct sluice_quality, a third line
					 *    per stats slot; clock_rate/jitter16 per stream);
					 * 4: SRTP (SLUICE_CMD_SRTP_*, SLUICE_SF_SRTP, the
					 *    srtp file), additive */

#define SLUICE_MAX_INSTANCES	256u	/* instance ids 0..255 */
#define SLUICE_MAX_CAPACITY	262144u	/* streams (stats slots) per instance */

/* nftables expression "sluice": attributes inside NFTA_EXPR_DATA */
#define SLUICE_NFT_EXPR_NAME	"sluice"
enum {
	SLUICE_NFTA_UNSPEC,
	SLUICE_NFTA_INSTANCE,		/* u32, network byte order, < SLUICE_MAX_INSTANCES */
	__SLUICE_NFTA_MAX
};
#define SLUICE_NFTA_MAX		(__SLUICE_NFTA_MAX - 1)

enum sluice_cmd {
	SLUICE_CMD_INSTANCE_CREATE = 1,	/* struct sluice_msg_instance, on .../sluice/control */
	SLUICE_CMD_INSTANCE_DESTROY = 2,	/* struct sluice_msg_instance, on .../sluice/control */
	SLUICE_CMD_ADD = 3,		/* struct sluice_msg_stream */
	SLUICE_CMD_UPDATE = 4,		/* struct sluice_msg_stream: replaces slot's entry, keeps counters */
	SLUICE_CMD_DEL = 5,		/* struct sluice_msg_slot */
	SLUICE_CMD_FLUSH = 6,		/* struct sluice_msg_hdr: delete every entry of the instance */
	SLUICE_CMD_SET_TOKEN = 7,	/* struct sluice_msg_token: the owner's token (below) */
	SLUICE_CMD_SRTP_SET = 16,	/* struct sluice_msg_srtp: the slot's SRTP keys and state
					 * (sluice_srtp_abi.h); replaces earlier ones (rekey) */
	SLUICE_CMD_SRTP_DEL = 17,	/* struct sluice_msg_slot: forget the slot's SRTP */
};

struct sluice_msg_hdr {
	__u32	version;	/* SLUICE_ABI_VERSION */
	__u16	cmd;		/* enum sluice_cmd */
	__u16	len;		/* sizeof the whole message; must equal the write() length */
	__u32	reserved;	/* 0 */
	__u32	pad;		/* 0 */
};

#define SLUICE_FAMILY_NONE	0	/* only in expect_src: accept any source */
#define SLUICE_FAMILY_INET	4
#define SLUICE_FAMILY_INET6	6

struct sluice_addr {
	__u8	family;		/* SLUICE_FAMILY_* */
	__u8	pad0;		/* 0 */
	__u16	port;		/* network byte order, != 0 */
	__u32	pad1;		/* 0 */
	__u8	addr[16];	/* network byte order; IPv4 uses addr[0..3], rest 0 */
};

/* stream flags */
#define SLUICE_SF_MISMATCH_PASS	0x1u	/* source mismatch: hand the packet to userspace
					 * (so the daemon can re-latch) instead of dropping it */
#define SLUICE_SF_SET_TOS	0x2u	/* write tos into the IPv4 TOS / IPv6 traffic class;
					 * otherwise the received value is kept */
#define SLUICE_SF_QUALITY	0x4u	/* measure the RTP forwarded (struct sluice_quality):
					 * loss, duplicates, reordering, and with clock_rate
					 * the interarrival jitter. RTCP (RFC 5761 second byte
					 * 192..223) and non-RTP packets are not measured. */
#define SLUICE_SF_SRTP		0x80u	/* decrypt and/or encrypt with the slot's SRTP
					 * (SLUICE_CMD_SRTP_SET, set before the ADD);
					 * see sluice_srtp_abi.h */
#define SLUICE_SF_ALL		(SLUICE_SF_MISMATCH_PASS | SLUICE_SF_SET_TOS | SLUICE_SF_QUALITY | \
				 SLUICE_SF_SRTP)

#define SLUICE_MAX_CLOCK_RATE	1000000u	/* Hz; RTP clocks are 8000..90000 */

struct sluice_stream {
	struct sluice_addr local;	/* match: UDP to this address/port (the relay socket) */
	struct sluice_addr expect_src;	/* SLUICE_FAMILY_NONE = any source */
	struct sluice_addr out_src;	/* rewrite: send from here (the peer's relay socket) */
	struct sluice_addr out_dst;	/* rewrite: send to here; family may differ from local */
	__u32	flags;			/* SLUICE_SF_* */
	__u8	tos;
	__u8	pad[3];			/* 0 */
	__u32	clock_rate;		/* SLUICE_SF_QUALITY: RTP clock of the payload (Hz),
					 * for the jitter; 0 = loss only */
	__u32	jitter16;		/* ADD with SLUICE_SF_QUALITY: the jitter estimate
					 * to continue from (struct sluice_quality.jitter16,
					 * e.g. what userspace measured so far); UPDATE:
					 * ignored, the measurement continues */
};

struct sluice_msg_stream {
	struct sluice_msg_hdr	hdr;
	__u32			slot;	/* < capacity; index into the stats array */
	__u32			pad;	/* 0 */
	struct sluice_stream	stream;
};

struct sluice_msg_slot {
	struct sluice_msg_hdr	hdr;
	__u32			slot;
	__u32			pad;	/* 0 */
};

/* The owner token of an instance: an opaque value the daemon sets and reads back from
 * struct sluice_stats_hdr.token, so that a restarting daemon can tell its own entries
 * (left forwarding while it was down) from anyone else's and adopt them instead of
 * flushing (docs/ha.md). The module only stores it: 0 at CREATE, kept by FLUSH.
 * Added without a version bump: a module without it refuses SET_TOKEN with EOPNOTSUPP
 * and its header reads 0, which no owner uses. */
struct sluice_msg_token {
	struct sluice_msg_hdr	hdr;
	__u64			token;
};

struct sluice_msg_instance {
	struct sluice_msg_hdr	hdr;
	__u32			id;		/* < SLUICE_MAX_INSTANCES */
	__u32			capacity;	/* CREATE: 1..SLUICE_MAX_CAPACITY; DESTROY: 0 */
};

/* Shared statistics memory: header, then capacity slots. The module writes, userspace
 * only reads (the mapping is read-only). Counters are 64-bit and written atomically, so
 * a plain aligned 64-bit load sees a consistent value. */
#define SLUICE_STATS_MAGIC	0x534c4353u	/* "SLCS" */

struct sluice_stats_hdr {
	__u32	magic;		/* SLUICE_STATS_MAGIC */
	__u32	version;	/* SLUICE_ABI_VERSION */
	__u32	instance;
	__u32	capacity;	/* number of struct sluice_stats after this header */
	__u32	slot_size;	/* sizeof(struct sluice_stats) */
	__u32	hdr_size;	/* sizeof(struct sluice_stats_hdr) */
	__u64	token;		/* SLUICE_CMD_SET_TOKEN's value, 0 until set */
	__u64	reserved[4];
};

/* RTP quality of one stream as the module measures it (SLUICE_SF_QUALITY): the
 * receiver statistics of RFC 3550 A.1/A.3/A.8 for the stream's current source, written
 * per RTP packet. Several fields belong together, so the line is guarded by a sequence
 * counter with the same protocol as the mismatch record (below): the module makes seq
 * odd with a compare-and-swap, updates, and makes it even with a release store; a
 * packet that finds it odd (another CPU measuring the same stream at that moment) is
 * not measured but counted in `busy` (atomically, outside the protocol). A reader copies
 * the line between two loads of seq and retries while it is odd or changed.
 *
 * An "epoch" is one run of the state machine: it starts with the first RTP packet after
 * ADD and starts over on a new SSRC or a sequence jump (>= SLUICE_Q_MAX_DROPOUT ahead
 * and not <= SLUICE_Q_MAX_MISORDER behind): ssrc, ext_max, base_seq, received and the
 * jitter's transit belong to the epoch; duplicates, reordered and busy count from ADD;
 * jitter16 carries on. UPDATE keeps the whole line; ADD clears it (jitter16 = the
 * stream's jitter16). The reader's figures:
 *   expected = ext_max - base_seq + 1 (u32 arithmetic), lost = expected - received,
 *   jitter = (jitter16 >> 4) / clock_rate seconds. */
#define SLUICE_Q_MAX_DROPOUT	3000u
#define SLUICE_Q_MAX_MISORDER	100u
#define SLUICE_QF_TRANSIT	0x1u	/* transit holds the previous packet's */

struct sluice_quality {
	__u32	seq;		/* odd while the module writes this line */
	__u32	epoch;		/* 0 = no RTP measured since ADD; +1 per start (above) */
	__u32	ssrc;
	__u32	ext_max;	/* highest sequence number, extended: cycles << 16 | seq */
	__u16	base_seq;	/* the epoch's first sequence number */
	__u8	pt;		/* payload type jitter is measured on (the epoch's first) */
	__u8	flags;		/* SLUICE_QF_* */
	__u32	clock_rate;	/* Hz transit and jitter16 are in (the entry's) */
	__u64	received;	/* distinct packets of the epoch */
	__u64	window;		/* bit i: ext_max - i was received (duplicates) */
	__u32	duplicates;	/* since ADD */
	__u32	reordered;	/* since ADD: arrived after a later one */
	__u32	transit;	/* arrival (clock units, the CPU's clock) - RTP timestamp */
	__u32	jitter16;	/* RFC 3550 A.8 interarrival jitter x 16, clock units */
	__u32	busy;		/* since ADD: RTP packets not measured (see above) */
	__u32	pad;
};

/* One slot: three cache lines (the mapping is page aligned and the header is 64 bytes),
 * so the forward path writes the first one per packet, the third per RTP packet of a
 * measured stream, the second only on a source mismatch; neighbouring slots never share
 * a line.
 *
 * The last mismatching source (mismatch_src, mismatch_ns) is wider than one atomic
 * store, so it is guarded by a sequence counter: the module makes mismatch_seq odd with
 * a compare-and-swap (a packet that finds it odd, i.e. another CPU recording at the
 * same moment, records nothing), writes both fields, then makes it even again with a
 * release store. A reader copies the fields between two loads of mismatch_seq:
 *     s1 = load_acquire(mismatch_seq); if (s1 & 1) retry;
 *     copy mismatch_src, mismatch_ns; acquire fence;
 *     if (load(mismatch_seq) != s1) retry;
 * and bounds its retries (lib/kmod.c: kmod_read). */
struct sluice_stats {
	/* line 1: written per packet */
	__u64	packets;	/* forwarded */
	__u64	bytes;		/* forwarded UDP payload bytes */
	__u64	errors;		/* matched but not forwarded: no route, no memory, bad checksum */
	__u64	mismatch;	/* source did not match expect_src (dropped or passed) */
	__u64	last_ns;	/* CLOCK_MONOTONIC ns of the last forwarded packet, 0 = never */
	__u32	gen;		/* bumped by ADD (counters reset there), UPDATE and DEL */
	__u32	active;		/* 1 while the slot holds an entry */
	__u64	reserved[2];
	/* line 2: written only when a source mismatches */
	__u32	mismatch_seq;	/* odd while mismatch_src/mismatch_ns are being written */
	__u32	pad;
	__u64	mismatch_ns;	/* CLOCK_MONOTONIC ns (coarse) of the last recorded mismatch,
				 * 0 = none since ADD */
	struct sluice_addr mismatch_src; /* its source; family SLUICE_FAMILY_NONE = none */
	__u64	reserved2[3];
	/* line 3: written per RTP packet of a SLUICE_SF_QUALITY entry */
	struct sluice_quality quality;
};

#ifdef __cplusplus
#define SLUICE_ABI_ASSERT(c, m) static_assert(c, m)
#else
#define SLUICE_ABI_ASSERT(c, m) _Static_assert(c, m)
#endif
SLUICE_ABI_ASSERT(sizeof(struct sluice_msg_hdr) == 16, "abi: msg_hdr");
SLUICE_ABI_ASSERT(sizeof(struct sluice_addr) == 24, "abi: addr");
SLUICE_ABI_ASSERT(sizeof(struct sluice_stream) == 112, "abi: stream");
SLUICE_ABI_ASSERT(sizeof(struct sluice_msg_stream) == 136, "abi: msg_stream");
SLUICE_ABI_ASSERT(sizeof(struct sluice_msg_slot) == 24, "abi: msg_slot");
SLUICE_ABI_ASSERT(sizeof(struct sluice_msg_instance) == 24, "abi: msg_instance");
SLUICE_ABI_ASSERT(sizeof(struct sluice_msg_token) == 24, "abi: msg_token");
SLUICE_ABI_ASSERT(sizeof(struct sluice_stats_hdr) == 64, "abi: stats_hdr");
SLUICE_ABI_ASSERT(sizeof(struct sluice_quality) == 64, "abi: quality");
SLUICE_ABI_ASSERT(sizeof(struct sluice_stats) == 192, "abi: stats");
SLUICE_ABI_ASSERT(__builtin_offsetof(struct sluice_stats, quality) == 128,
		  "abi: stats line 3 is the quality");
SLUICE_ABI_ASSERT(__builtin_offsetof(struct sluice_quality, received) % 8 == 0,
		  "abi: quality received aligned");
SLUICE_ABI_ASSERT(__builtin_offsetof(struct sluice_stats, mismatch_seq) == 64,
		  "abi: stats line 2 starts with mismatch_seq");
SLUICE_ABI_ASSERT(__builtin_offsetof(struct sluice_stats, mismatch_ns) % 8 == 0,
		  "abi: stats mismatch_ns aligned");
SLUICE_ABI_ASSERT(__builtin_offsetof(struct sluice_stats, mismatch_src) == 80,
		  "abi: stats mismatch_src");

#include <sluice/kernel_srtp_abi.h>	/* SRTP in the module: ABI 4, additive */

#endif
