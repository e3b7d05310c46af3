/* STUN (RFC 5389 / 8489) for ICE connectivity checks: bounded parse, build, short-term
 * credential MESSAGE-INTEGRITY (HMAC-SHA1), FINGERPRINT (CRC-32 ^ 0x5354554e), and the
 * RFC 7983 first-byte demultiplexer for a port shared by STUN, DTLS and SRTP.
 *
 * Only what ICE needs is understood: USERNAME, MESSAGE-INTEGRITY, FINGERPRINT,
 * XOR-MAPPED-ADDRESS, PRIORITY, USE-CANDIDATE, ICE-CONTROLLED/-CONTROLLING, ERROR-CODE,
 * UNKNOWN-ATTRIBUTES; other attributes are skipped (comprehension-required ones are
 * listed in unknown[] so a server can answer 420). Cost: parse is O(attributes), no
 * allocation; integrity costs one HMAC-SHA1 (OpenSSL's one-shot HMAC(), which may
 * allocate inside OpenSSL; STUN is paced control traffic, not the media path). */
#ifndef SLUICE_STUN_H
#define SLUICE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/netaddr.h"

#define STUN_HDR_LEN    20
#define STUN_MAGIC      0x2112A442u
#define STUN_MAX_LEN    1280    /* messages longer than this are refused */
#define STUN_TID_LEN    12
#define STUN_MI_LEN     20      /* HMAC-SHA1 */

/* method | class bits, as on the wire */
#define STUN_BINDING_REQUEST    0x0001
#define STUN_BINDING_INDICATION 0x0011
#define STUN_BINDING_SUCCESS    0x0101
#define STUN_BINDING_ERROR      0x0111

#define STUN_A_MAPPED_ADDRESS     0x0001
#define STUN_A_USERNAME           0x0006
#define STUN_A_MESSAGE_INTEGRITY  0x0008
#define STUN_A_ERROR_CODE         0x0009
#define STUN_A_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_A_XOR_MAPPED_ADDRESS 0x0020
#define STUN_A_PRIORITY           0x0024
#define STUN_A_USE_CANDIDATE      0x0025
#define STUN_A_SOFTWARE           0x8022
#define STUN_A_FINGERPRINT        0x8028
#define STUN_A_ICE_CONTROLLED     0x8029
#define STUN_A_ICE_CONTROLLING    0x802A

#define STUN_USERNAME_MAX 513   /* RFC 8489 14.3 */
#define STUN_UNKNOWN_MAX  4

struct stun_msg {
	uint16_t type;                  /* e.g. STUN_BINDING_REQUEST */
	uint8_t tid[STUN_TID_LEN];
	const uint8_t *raw;             /* the parsed datagram (not copied) */
	size_t len;                     /* its length: 20 + header length */

	const char *username;           /* into raw, NULL if absent; not NUL-terminated */
	size_t username_len;
	bool has_priority;
	uint32_t priority;
	bool use_candidate;
	bool controlling, controlled;   /* ICE-CONTROLLING / ICE-CONTROLLED present */
	uint64_t tiebreaker;            /* of whichever of the two came first */
	bool has_mapped;                /* XOR-MAPPED-ADDRESS (or plain MAPPED-ADDRESS) */
	union sockaddr_u mapped;
	bool has_error;
	uint16_t error_code;            /* 300..699 */
	const char *reason;             /* into raw, not NUL-terminated */
	size_t reason_len;
	size_t mi_off;                  /* offset of the MESSAGE-INTEGRITY attribute, 0 = none */
	bool has_fingerprint;           /* present (and, since parse succeeded, correct) */
	unsigned n_unknown;             /* comprehension-required attributes not understood */
	uint16_t unknown[STUN_UNKNOWN_MAX];
};

/* Cheap test: could p be STUN (RFC 7983 first byte 0..3, magic cookie, sane length)? */
bool stun_is_stun(const uint8_t *p, size_t len);

/* Parse and check framing: top bits zero, magic cookie, length a multiple of 4 that
 * matches len, attributes within bounds, FINGERPRINT (if any) last and correct,
 * only FINGERPRINT after MESSAGE-INTEGRITY (later ones are ignored, per RFC).
 * m keeps pointers into p. Returns 0, -EINVAL (not STUN / malformed), -EMSGSIZE (past
 * STUN_MAX_LEN) or -EBADMSG (FINGERPRINT wrong). */
int stun_parse(const uint8_t *p, size_t len, struct stun_msg *m);

/* Check MESSAGE-INTEGRITY with a short-term key (the ICE password as is).
 * 0, -ENOENT (no MESSAGE-INTEGRITY), -EACCES (mismatch). */
int stun_check_integrity(const struct stun_msg *m, const void *key, size_t key_len);

/* True if the username is exactly "<local>:<anything>" (an ICE check for us). */
bool stun_username_is_for(const struct stun_msg *m, const char *local_ufrag);

/* Building: attributes are appended in call order; integrity then fingerprint last.
 * Errors are sticky (first one kept) and reported by stun_finish(). */
struct stun_builder {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

void stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
		     const uint8_t tid[STUN_TID_LEN]);
void stun_add_username(struct stun_builder *b, const char *s, size_t len);
void stun_add_priority(struct stun_builder *b, uint32_t prio);
void stun_add_use_candidate(struct stun_builder *b);
void stun_add_ice_role(struct stun_builder *b, bool controlling, uint64_t tiebreaker);
void stun_add_xor_mapped(struct stun_builder *b, const union sockaddr_u *addr);
/* ERROR-CODE: code 300..699; reason NUL-terminated UTF-8 (may be NULL: a default). */
void stun_add_error(struct stun_builder *b, uint16_t code, const char *reason);
void stun_add_unknown(struct stun_builder *b, const uint16_t *types, unsigned n);
void stun_add_software(struct stun_builder *b, const char *s);
void stun_add_integrity(struct stun_builder *b, const void *key, size_t key_len);
void stun_add_fingerprint(struct stun_builder *b);
/* Returns the message length (> 0) or the first error: -ENOSPC, -EINVAL. */
int stun_finish(struct stun_builder *b);

/* A fresh random transaction id (OpenSSL RAND_bytes). 0 or -EIO. */
int stun_new_tid(uint8_t tid[STUN_TID_LEN]);

/* RFC 7983 first-byte demultiplexing of a port shared by ICE, DTLS and (S)RTP. */
enum stun_demux { STUN_DEMUX_OTHER = 0, STUN_DEMUX_STUN, STUN_DEMUX_DTLS, STUN_DEMUX_RTP };
enum stun_demux stun_demux(const uint8_t *p, size_t len);

#endif
