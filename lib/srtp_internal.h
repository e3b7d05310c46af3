/* The pieces of sluice's SRTP transform (lib/srtp*.c); not an API outside lib/.
 *
 *   srtp.c         the srtpw_* API: set-up, per-packet protect/unprotect flow
 *   srtpx_kdf.c     RFC 3711 4.3 key derivation (AES-CM PRF, RFC 6188 / 7714 keys)
 *   srtpx_cipher.c  AES-CM, AES-F8, AES-GCM on OpenSSL EVP contexts keyed at set-up
 *   srtp_auth.c    HMAC-SHA1 with the key's pads hashed once per key
 *   srtp_replay.c  per-SSRC state: index (ROC) estimation, replay windows
 *
 * Everything here is made at set-up; the packet path only uses what it finds. */
#ifndef SLUICE_SRTP_INTERNAL_H
#define SLUICE_SRTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "sluice/srtp.h"

/* ---- srtpx_kdf.c ---- */

#define SRTPX_LABEL_RTP_KEY   0
#define SRTPX_LABEL_RTP_AUTH  1
#define SRTPX_LABEL_RTP_SALT  2
#define SRTPX_LABEL_RTCP_KEY  3
#define SRTPX_LABEL_RTCP_AUTH 4
#define SRTPX_LABEL_RTCP_SALT 5

/* RFC 3711 4.3.1/4.3.3 with key_derivation_rate 0: out = AES-CM(master key,
 * IV = (master salt XOR label << 48) << 16), len bytes of keystream. The master key
 * is 16, 24 or 32 bytes (AES-128/192/256: RFC 6188 4.1); a 12-byte salt (the GCM
 * suites, RFC 7714 11) is used as the first 12 of 14 bytes, the last two zero.
 * Returns 0 or -EINVAL / -EIO. Set-up only. */
int srtpx_kdf(const uint8_t *mkey, size_t mkey_len, const uint8_t *msalt, size_t msalt_len,
	     uint8_t label, uint8_t *out, size_t len);

/* ---- srtp_auth.c ---- */

#define SRTPX_SHA1_LEN 20

struct srtpx_hmac {
	SHA_CTX inner, outer;           /* after hashing key ^ ipad / key ^ opad */
};

/* Key up to 64 bytes (the session auth key is 20). */
void srtpx_hmac_init(struct srtpx_hmac *h, const uint8_t *key, size_t len);
/* HMAC-SHA1 over a || b (b: the ROC for SRTP, NULL for SRTCP) into out[20]. */
void srtpx_hmac(const struct srtpx_hmac *h, const uint8_t *a, size_t alen, const uint8_t *b,
	       size_t blen, uint8_t out[SRTPX_SHA1_LEN]);
void srtpx_hmac_clear(struct srtpx_hmac *h);

/* ---- srtpx_cipher.c ---- */

/* One direction-and-protocol's cipher (SRTP or SRTCP of one srtpw). */
struct srtpx_cipher {
	enum srtpw_cipher kind;
	EVP_CIPHER_CTX *ctx;            /* CM: AES-CTR(k_e); F8: AES-CBC(k_e); GCM: AES-GCM(k_e) */
	EVP_CIPHER_CTX *f8_iv;          /* F8: AES-ECB(k_e XOR m), makes IV' */
	uint8_t salt[14];               /* session salt: 14 bytes, 12 for GCM */
};

/* NULL kind: nothing to key. decrypt: an inbound GCM context (CTR and F8 are their
 * own inverse). 0, -EINVAL, -EIO. */
int srtpx_cipher_init(struct srtpx_cipher *c, enum srtpw_cipher kind, const uint8_t *key,
		     size_t klen, const uint8_t *salt, size_t slen, bool decrypt);
void srtpx_cipher_free(struct srtpx_cipher *c);

/* AES-CM (RFC 3711 4.1.1): XOR p[0..len) with the keystream of (SSRC, 48-bit index). */
int srtpx_cm_crypt(struct srtpx_cipher *c, uint32_t ssrc, uint64_t index, uint8_t *p,
		  size_t len);
/* AES-F8 (RFC 3711 4.1.2): XOR p[0..len) with the keystream of the 16-byte IV. */
int srtpx_f8_crypt(struct srtpx_cipher *c, const uint8_t iv[16], uint8_t *p, size_t len);
/* AES-GCM (RFC 7714): iv = salt XOR the 12 bytes given; aad = a1 || a2 (a2 may be
 * NULL); p[0..len) encrypted in place, tag written / checked. open: -EBADMSG when the
 * tag does not match (p then holds garbage). */
int srtpx_gcm_seal(struct srtpx_cipher *c, const uint8_t nonce[12], const uint8_t *a1,
		  size_t a1len, const uint8_t *a2, size_t a2len, uint8_t *p, size_t len,
		  uint8_t tag[16]);
int srtpx_gcm_open(struct srtpx_cipher *c, const uint8_t nonce[12], const uint8_t *a1,
		  size_t a1len, const uint8_t *a2, size_t a2len, uint8_t *p, size_t len,
		  const uint8_t tag[16]);

/* ---- srtp_replay.c ---- */

#define SRTPX_SLOTS        16    /* SSRCs remembered per context (LRU beyond) */
#define SRTPX_WIN_BITS     256   /* largest SRTP replay window */
#define SRTPX_RTCP_WIN_BITS    128   /* SRTCP replay window */

/* A replay window over one index space: the highest index seen and which of the
 * indices below it were seen (ring bitmap, bit = index mod size). */
struct srtpx_win {
	uint64_t top;
	bool any;
};

/* One SSRC's state in one srtpw. */
struct srtpx_stream {
	uint32_t ssrc;
	bool used;
	uint64_t lru;                   /* context clock at last use */
	struct srtpx_win rtp;            /* 48-bit index: ROC << 16 | SEQ */
	uint64_t rtp_bits[SRTPX_WIN_BITS / 64];
	struct srtpx_win rtcp;           /* 31-bit SRTCP index */
	uint64_t rtcp_bits[SRTPX_RTCP_WIN_BITS / 64];
	uint32_t rtcp_next;             /* outbound: next SRTCP index to send */
};

enum srtpx_seen { SRTPX_NEW = 0, SRTPX_SEEN, SRTPX_OLD };

/* RFC 3711 3.3.1 / Appendix A: the 48-bit index of seq given the highest index seen
 * (w->any false: the first packet, ROC 0). A guess of ROC -1 is read as ROC 0; -1
 * past ROC 2^32 - 1 (key exhausted). */
int64_t srtpx_rtp_index(const struct srtpx_win *w, uint16_t seq);
/* Where idx stands in a window of `size` indices (size <= bits of the bitmap). */
enum srtpx_seen srtpx_win_check(const struct srtpx_win *w, const uint64_t *bits,
			      unsigned nbits, unsigned size, uint64_t idx);
/* Record idx as seen (moves the top if idx is above it). */
void srtpx_win_add(struct srtpx_win *w, uint64_t *bits, unsigned nbits, uint64_t idx);

/* The context's SSRC table (in struct srtpx_ctx). */
struct srtpx_streams {
	struct srtpx_stream slot[SRTPX_SLOTS];
	uint64_t clock;
	unsigned last;                  /* slot of the last hit */
	uint64_t evicted;               /* SSRCs forgotten to make room */
};

/* The state of ssrc, or NULL. */
struct srtpx_stream *srtpx_stream_find(struct srtpx_streams *t, uint32_t ssrc);
/* The state of ssrc, made (zeroed) in a free or the least recently used slot. */
struct srtpx_stream *srtpx_stream_take(struct srtpx_streams *t, uint32_t ssrc);

/* ---- srtp.c: the context behind struct srtpw ---- */

struct srtpx_dir {                       /* SRTP or SRTCP of one context */
	struct srtpx_cipher cipher;
	struct srtpx_hmac auth;          /* not for GCM */
	bool encrypt;                   /* false: UNENCRYPTED_SRTP / _SRTCP, or NULL cipher */
	uint8_t tag_len;                /* 0: UNAUTHENTICATED_SRTP */
};

struct srtpx_ctx {
	const struct srtpw_suite_info *si;
	bool inbound;
	uint16_t window;                /* SRTP replay window, <= SRTPX_WIN_BITS */
	uint8_t mki_len;
	uint8_t mki[SRTPW_MKI_MAX];
	struct srtpx_dir rtp, rtcp;
	struct srtpx_streams ssrcs;
};

#endif
