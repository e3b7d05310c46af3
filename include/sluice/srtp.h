/* SRTP/SRTCP (RFC 3711, RFC 7714) for one direction of one stream, over libsrtp2.
 *
 * The prefix is srtpw_ ("wrapper") because libsrtp2 owns the srtp_ namespace.
 * A struct srtpw is made at stream setup from a struct srtpw_key, which comes from
 * SDES (sdes.h) or from a DTLS-SRTP handshake (dtls.h). Protect/unprotect work in
 * place; this wrapper allocates nothing per packet, libsrtp2 allocates once per new
 * SSRC (after the first packet of that SSRC authenticated). Cost note: Debian's
 * libsrtp2 2.5 is built on NSS, which mallocs inside every cipher/HMAC call
 * (measured: 8 per AES-CM packet, 2 per AEAD packet); a libsrtp2 built on its own or
 * OpenSSL's crypto would not.
 *
 * Errors (all functions): 0 on success, else
 *   -EINVAL      malformed packet (too short, not version 2, bad trailer) or bad key
 *   -EBADMSG     authentication failed (tampered, wrong key, or garbage)
 *   -EALREADY    replay: this index was seen already or is left of the replay window
 *   -ENOSPC      protect: fewer than srtpw_overhead() bytes of tailroom
 *   -ENOKEY      the packet's MKI is not ours
 *   -EKEYEXPIRED the key reached its usage limit (2^48 RTP / 2^31 RTCP packets)
 *   -ENOMEM, -ENOTSUP (suite or option libsrtp2 cannot do), -EIO (anything else)
 *
 * Ownership: a struct srtpw belongs to whoever owns the stream; it is not thread safe
 * (one worker at a time, as all per-stream media state). */
#ifndef SLUICE_SRTP_H
#define SLUICE_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum srtpw_suite {
	SRTPW_SUITE_NONE = 0,
	SRTPW_AES_CM_128_HMAC_SHA1_80,
	SRTPW_AES_CM_128_HMAC_SHA1_32,
	SRTPW_AEAD_AES_128_GCM,
	SRTPW_AEAD_AES_256_GCM,
	SRTPW_SUITE_COUNT
};

struct srtpw_suite_info {
	const char *name;       /* SDES name, e.g. "AES_CM_128_HMAC_SHA1_80" */
	uint8_t key_len;        /* master key bytes */
	uint8_t salt_len;       /* master salt bytes */
	uint8_t rtp_tag;        /* SRTP auth tag bytes (AEAD: GCM tag) */
	uint8_t rtcp_tag;       /* SRTCP auth tag bytes (_32 suites keep 80 bits here) */
	bool aead;
};

/* NULL for SRTPW_SUITE_NONE or out of range. */
const struct srtpw_suite_info *srtpw_suite_info(enum srtpw_suite s);
/* Case-sensitive exact match on the SDES name; SRTPW_SUITE_NONE if unknown. */
enum srtpw_suite srtpw_suite_by_name(const char *s, size_t len);

#define SRTPW_MASTER_MAX 44     /* key || salt, largest: AEAD_AES_256_GCM 32 + 12 */
#define SRTPW_MKI_MAX    4      /* MKI bytes we carry (SDES allows more; refused) */
/* Worst case bytes a protect call appends: tag 16 + MKI 4 + SRTCP index 4. */
#define SRTPW_TAILROOM   24

struct srtpw_key {
	enum srtpw_suite suite;
	uint8_t master[SRTPW_MASTER_MAX];   /* master key || master salt, per suite */
	uint8_t mki_len;                    /* 0: packets carry no MKI; not with
	                                       AES_CM_128_HMAC_SHA1_32 (libsrtp2 2.5
	                                       misplaces its SRTCP MKI): -ENOTSUP */
	uint32_t mki;                       /* MKI value, big endian on the wire */
	bool unencrypted_srtp;              /* SDES session parameters (AES-CM only) */
	bool unencrypted_srtcp;
	bool unauthenticated_srtp;
	uint16_t window;                    /* replay window in packets; 0 = 128 */
};

enum srtpw_dir { SRTPW_OUTBOUND = 0, SRTPW_INBOUND };

struct srtpw {
	void *ctx;                  /* libsrtp2 srtp_t, NULL when unset */
	enum srtpw_suite suite;
	bool inbound;
	bool mki;
	uint8_t rtp_overhead;       /* bytes protect_rtp appends */
	uint8_t rtcp_overhead;      /* bytes protect_rtcp appends (incl. SRTCP index) */
};

/* Set up s for one direction (any SSRC). Setup-time only: allocates. Inbound
 * contexts check replay; outbound ones accept a repeated sequence number (a relay
 * forwards network duplicates) but refuse indices left of the window. */
int srtpw_init(struct srtpw *s, const struct srtpw_key *k, enum srtpw_dir dir);
/* Release; s becomes unset. Safe on an unset or zeroed struct. */
void srtpw_free(struct srtpw *s);
static inline bool srtpw_is_set(const struct srtpw *s) { return s->ctx != NULL; }

/* In place. pkt[0..*len) is the packet; cap is the buffer size (cap - *len is the
 * tailroom, which must be >= the overhead). On success *len is the new length. */
int srtpw_protect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap);
int srtpw_protect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len, size_t cap);
/* In place; *len shrinks to the plain packet. On failure the buffer content is
 * unspecified (libsrtp2 may have decrypted part of it) and must be dropped. */
int srtpw_unprotect_rtp(struct srtpw *s, uint8_t *pkt, size_t *len);
int srtpw_unprotect_rtcp(struct srtpw *s, uint8_t *pkt, size_t *len);

/* Short name of an error code returned above, for stats/logs ("auth", "replay", ...). */
const char *srtpw_strerror(int err);

#endif
