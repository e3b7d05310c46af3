/* SRTP/SRTCP (RFC 3711, RFC 6188, RFC 7714) for one direction of one stream: sluice's
 * own transform on OpenSSL's EVP (lib/srtp*.c, lib/srtp_internal.h says which file does
 * what).
 *
 * The prefix is srtpw_ for history (it wrapped libsrtp2, which owns the srtp_
 * namespace; libsrtp2 is now only the reference peer of the tests). A struct srtpw is
 * made at stream setup from a struct srtpw_key, which comes from SDES (sdes.h) or from
 * a DTLS-SRTP handshake (dtls.h). All keys, cipher contexts and per-SSRC state are made
 * by srtpw_init(); protect/unprotect work in place and allocate nothing.
 *
 * Suites: the twelve SDES suites rtpengine offers (AEAD_AES_256/128_GCM,
 * AES_256/192_CM_HMAC_SHA1_80/32, AES_CM_128_HMAC_SHA1_80/32, F8_128_HMAC_SHA1_80/32,
 * NULL_HMAC_SHA1_80/32). The _32 suites keep the 80-bit tag on SRTCP (RFC 4568 6.2,
 * RFC 6188 4); NULL_ suites authenticate without encrypting.
 *
 * Per SSRC (up to 16 per context, least recently used forgotten beyond): the ROC
 * estimate of RFC 3711 3.3.1, a replay window (SRTP: 128 indices or the key's WSH, at
 * most 256; SRTCP: 128), and the next SRTCP index to send.
 *
 * Errors (all functions): 0 on success, else
 *   -EINVAL      malformed packet (too short, not version 2, bad trailer) or bad key
 *   -EBADMSG     authentication failed (tampered, wrong key, or garbage)
 *   -EALREADY    replay: this index was seen already or is left of the replay window
 *   -ENOSPC      protect: fewer than srtpw_overhead() bytes of tailroom
 *   -ENOKEY      the packet's MKI is not ours
 *   -EKEYEXPIRED the key reached its usage limit (ROC 2^32 / SRTCP index 2^31)
 *   -ENOMEM, -ENOTSUP (UNENCRYPTED/UNAUTHENTICATED on an AEAD suite), -EIO (OpenSSL)
 *
 * Ownership: a struct srtpw belongs to whoever owns the stream; it is not thread safe
 * (one worker at a time, as all per-stream media state). */
#ifndef SLUICE_SRTP_H
#define SLUICE_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In the order rtpengine offers them (sdes_default_order follows it). */
enum srtpw_suite {
	SRTPW_SUITE_NONE = 0,
	SRTPW_AEAD_AES_256_GCM,
	SRTPW_AEAD_AES_128_GCM,
	SRTPW_AES_256_CM_HMAC_SHA1_80,
	SRTPW_AES_256_CM_HMAC_SHA1_32,
	SRTPW_AES_192_CM_HMAC_SHA1_80,
	SRTPW_AES_192_CM_HMAC_SHA1_32,
	SRTPW_AES_CM_128_HMAC_SHA1_80,
	SRTPW_AES_CM_128_HMAC_SHA1_32,
	SRTPW_F8_128_HMAC_SHA1_80,
	SRTPW_F8_128_HMAC_SHA1_32,
	SRTPW_NULL_HMAC_SHA1_80,
	SRTPW_NULL_HMAC_SHA1_32,
	SRTPW_SUITE_COUNT
};

enum srtpw_cipher {
	SRTPW_CIPHER_NULL = 0,          /* no encryption (NULL_HMAC_SHA1_*) */
	SRTPW_CIPHER_AES_CM,            /* AES counter mode, RFC 3711 4.1.1 / RFC 6188 */
	SRTPW_CIPHER_AES_F8,            /* AES f8-mode, RFC 3711 4.1.2 */
	SRTPW_CIPHER_AES_GCM,           /* AEAD, RFC 7714 */
};

struct srtpw_suite_info {
	const char *name;       /* SDES name, e.g. "AES_CM_128_HMAC_SHA1_80" */
	uint8_t key_len;        /* master key bytes (= session key bytes) */
	uint8_t salt_len;       /* master salt bytes (= session salt bytes) */
	uint8_t rtp_tag;        /* SRTP auth tag bytes (AEAD: GCM tag) */
	uint8_t rtcp_tag;       /* SRTCP auth tag bytes (_32 suites keep 80 bits here) */
	bool aead;
	enum srtpw_cipher cipher;
};

/* NULL for SRTPW_SUITE_NONE or out of range. */
const struct srtpw_suite_info *srtpw_suite_info(enum srtpw_suite s);
/* Case-sensitive exact match on the SDES name; SRTPW_SUITE_NONE if unknown. */
enum srtpw_suite srtpw_suite_by_name(const char *s, size_t len);

#define SRTPW_MASTER_MAX 46     /* key || salt, largest: AES_256_CM_* 32 + 14 */
#define SRTPW_MKI_MAX    4      /* MKI bytes we carry (SDES allows more; refused) */
/* Worst case bytes a protect call appends: tag 16 + MKI 4 + SRTCP index 4. */
#define SRTPW_TAILROOM   24

struct srtpw_key {
	enum srtpw_suite suite;
	uint8_t master[SRTPW_MASTER_MAX];   /* master key || master salt, per suite */
	uint8_t mki_len;                    /* 0: packets carry no MKI */
	uint32_t mki;                       /* MKI value, big endian on the wire */
	bool unencrypted_srtp;              /* SDES session parameters (AES-CM only) */
	bool unencrypted_srtcp;
	bool unauthenticated_srtp;
	uint16_t window;                    /* SRTP replay window in packets; 0 = 128;
	                                       64..256 used (larger: 256) */
};

enum srtpw_dir { SRTPW_OUTBOUND = 0, SRTPW_INBOUND };

struct srtpx_ctx;

struct srtpw {
	struct srtpx_ctx *ctx;       /* NULL when unset (lib/srtp_internal.h) */
	enum srtpw_suite suite;
	bool inbound;
	bool mki;
	uint8_t rtp_overhead;       /* bytes protect_rtp appends */
	uint8_t rtcp_overhead;      /* bytes protect_rtcp appends (incl. SRTCP index) */
};

/* Set up s for one direction (any SSRC). Setup-time only: allocates. Inbound
 * contexts check replay; outbound ones accept a repeated sequence number (a relay
 * forwards network duplicates) but refuse indices left of the window. -EINVAL (bad
 * suite or MKI length), -ENOTSUP, -ENOMEM, -EIO. */
int srtpw_init(struct srtpw *s, const struct srtpw_key *k, enum srtpw_dir dir);
/* Release; s becomes unset. Safe on an unset or zeroed struct. */
void srtpw_free(struct srtpw *s);
static inline bool srtpw_is_set(const struct srtpw *s) { return s->ctx != NULL; }

/* In place. pkt[0..*len) is the packet; cap is the buffer size (cap - *len is the
 * tailroom, which must be >= the overhead). On success *len is the new length. */
int srtpw_protect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap);
int srtpw_protect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap);
/* In place; *len shrinks to the plain packet. On failure the buffer content is
 * unspecified (an AEAD packet is decrypted before its tag is known bad) and must be
 * dropped; the context's state is unchanged. */
int srtpw_unprotect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len);
int srtpw_unprotect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len);

/* One SSRC's position in a context, to carry across a restart (docs/redis.md): the
 * highest SRTP index (ROC << 16 | SEQ) sent or seen, and the SRTCP index (inbound: the
 * highest seen; outbound: the last sent). */
struct srtpw_ssrc_state {
	uint32_t ssrc;
	bool has_rtp, has_rtcp;
	uint64_t rtp_index;             /* < 2^48 */
	uint32_t rtcp_index;            /* < 2^31 */
};
/* Up to max SSRCs of s (any order). */
unsigned srtpw_state_get(const struct srtpw *s, struct srtpw_ssrc_state *out, unsigned max);
/* Continue from st: the SSRC's ROC is then estimated from rtp_index (RFC 3711 3.3.1),
 * and an outbound context sends SRTCP from rtcp_index on. The replay window holds only
 * the index itself: a restored context does not know which older ones it saw.
 * -EINVAL (unset context, index out of range). Setup-time, like srtpw_init. */
int srtpw_state_set(struct srtpw *s, const struct srtpw_ssrc_state *st);

/* SSRCs this context forgot to make room for others (see srtp_replay.c). */
uint64_t srtpw_evicted(const struct srtpw *s);

/* Short name of an error code returned above, for stats/logs ("auth", "replay", ...). */
const char *srtpw_strerror(int err);

#endif
