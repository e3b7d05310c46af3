/* SRTP in the sluice kernel module (ABI 4, included by kernel_abi.h).
 *
 * A slot may carry two SRTP transforms: `decrypt` for the packets arriving on the
 * entry's local address (SRTP -> RTP) and `encrypt` for the packets it sends
 * (RTP -> SRTP); either may be SLUICE_SRTP_NONE (SRTP <-> SRTP with two keys sets
 * both). The daemon derives the session keys (RFC 3711 4.3, key derivation rate 0)
 * and hands the module those, never the master key.
 *
 * Order: SLUICE_CMD_SRTP_SET on the slot, then ADD (or UPDATE) with SLUICE_SF_SRTP. A
 * second SRTP_SET replaces keys and state at once (rekey on re-INVITE). The SRTP of a
 * slot outlives DEL (so the state can be read back after the last packet); SRTP_DEL,
 * FLUSH and the instance's end free it.
 *
 * Packet path of a SLUICE_SF_SRTP entry:
 *   - RTCP (second byte 192..223), what is not RTP by its first byte (RFC 7983: STUN,
 *     DTLS, ZRTP), an SSRC other than the one the transform follows, and any packet
 *     while the slot has no SRTP: handed to userspace unchanged (counted in
 *     `passed`). SRTCP stays in userspace.
 *   - decrypt: the packet index is estimated from the state (RFC 3711 3.3.1), checked
 *     against the replay window (SLUICE_SRTP_WINDOW indices), authenticated, decrypted
 *     and its tag removed. Bad tag: dropped, `auth_failed`; replay: dropped,
 *     `replayed`; too short for its header and tag: dropped, `malformed`. Those drops
 *     also count in struct sluice_stats.errors.
 *   - encrypt: the index of the packet's sequence number is estimated the same way
 *     (the sender's ROC follows its wraps), the payload encrypted, the tag appended.
 *   No MKI; the suites' default session parameters (encrypted and authenticated).
 *
 * State read-back: /proc/net/sluice/<id>/srtp, pread() of sizeof(struct
 * sluice_srtp_state) at offset slot * sizeof(struct sluice_srtp_state); ENOENT if the
 * slot has no SRTP, ERANGE past the capacity, EINVAL for another size/offset.
 *
 * SRTP_SET errors (besides the common ones): EINVAL for an unknown suite, both suites
 * NONE, key bytes beyond the suite's lengths not zero, an auth key on a GCM suite,
 * valid not 0/1, window bits without valid, a non-zero roc/seq/ssrc without valid;
 * ENOMEM; ENOENT if the kernel lacks a crypto algorithm (ctr(aes), hmac(sha1),
 * gcm(aes)). ADD/UPDATE with SLUICE_SF_SRTP on a slot without SRTP: ENOKEY. */
#ifndef SLUICE_KERNEL_SRTP_ABI_H
#define SLUICE_KERNEL_SRTP_ABI_H

#include <linux/types.h>

enum sluice_srtp_suite {
	SLUICE_SRTP_NONE = 0,
	SLUICE_SRTP_AES_CM_128_HMAC_SHA1_80 = 1,	/* key 16, salt 14, auth 20, tag 10 */
	SLUICE_SRTP_AES_CM_128_HMAC_SHA1_32 = 2,	/* key 16, salt 14, auth 20, tag 4 */
	SLUICE_SRTP_AEAD_AES_128_GCM = 3,		/* key 16, salt 12, tag 16 (RFC 7714) */
	SLUICE_SRTP_AEAD_AES_256_GCM = 4,		/* key 32, salt 12, tag 16 */
	SLUICE_SRTP_SUITES
};

#define SLUICE_SRTP_WINDOW	128u	/* decrypt replay window, in packet indices */

/* Where one direction's SSRC stands: the highest packet index (ROC << 16 | seq)
 * received (decrypt) or sent (encrypt). valid 0: no packet yet; the first packet that
 * authenticates (decrypt) or arrives (encrypt) binds the SSRC at ROC 0. */
struct sluice_srtp_index {
	__u32	ssrc;
	__u32	roc;
	__u16	seq;
	__u8	valid;		/* 0 or 1 */
	__u8	pad;		/* 0 */
	__u32	pad2;		/* 0 */
	__u64	window[2];	/* decrypt: bit i of window[i / 64] = index top - i was
				 * received (bit 0: the top itself); encrypt: 0 */
};

struct sluice_srtp_key {
	__u8	suite;		/* enum sluice_srtp_suite */
	__u8	pad[7];		/* 0 */
	__u8	key[32];	/* session encryption key, the suite's length, rest 0 */
	__u8	salt[16];	/* session salt: 14 bytes (AES-CM) or 12 (GCM), rest 0 */
	__u8	auth[20];	/* session authentication key (AES-CM suites), GCM: 0 */
	__u32	pad2;		/* 0 */
	struct sluice_srtp_index idx;	/* the state to continue from */
};

struct sluice_msg_srtp {
	struct sluice_msg_hdr	hdr;
	__u32			slot;	/* < capacity */
	__u32			pad;	/* 0 */
	struct sluice_srtp_key	decrypt;	/* arriving SRTP -> RTP; NONE: as it is */
	struct sluice_srtp_key	encrypt;	/* leaving RTP -> SRTP; NONE: as it is */
};

/* What the srtp file reads for one slot. Counters count from the SRTP_SET. */
struct sluice_srtp_state {
	__u8	decrypt_suite;
	__u8	encrypt_suite;
	__u8	pad[6];
	struct sluice_srtp_index decrypt;
	struct sluice_srtp_index encrypt;
	__u64	decrypted;	/* forwarded after decrypting */
	__u64	encrypted;	/* forwarded after encrypting */
	__u64	auth_failed;	/* dropped: tag did not verify */
	__u64	replayed;	/* dropped: index seen already or left of the window */
	__u64	malformed;	/* dropped: too short, or no memory */
	__u64	passed;		/* handed to userspace: RTCP, not RTP, another SSRC */
};

SLUICE_ABI_ASSERT(sizeof(struct sluice_srtp_index) == 32, "abi: srtp_index");
SLUICE_ABI_ASSERT(sizeof(struct sluice_srtp_key) == 112, "abi: srtp_key");
SLUICE_ABI_ASSERT(sizeof(struct sluice_msg_srtp) == 248, "abi: msg_srtp");
SLUICE_ABI_ASSERT(sizeof(struct sluice_srtp_state) == 120, "abi: srtp_state");

#endif
