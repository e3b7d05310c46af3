/* SDES (RFC 4568): the a=crypto attribute, parsed, formatted and generated.
 *
 * Strings are attribute values as sdp_attr() returns them: the text after "a=crypto:",
 * e.g. "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4".
 * Keys are validated against the suite: the inline base64 must decode to exactly the
 * suite's master key + salt length (padding optional). The module knows nothing of
 * offers and answers: which suites to offer and which line to accept is daemon
 * policy, helped by sdes_default_order[] and sdes_choose(). */
#ifndef SLUICE_SDES_H
#define SLUICE_SDES_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/srtp.h"

#define SDES_TAG_MAX   999999999u   /* 1*9DIGIT */
#define SDES_VALUE_MAX 160          /* longest value sdes_format() writes, with NUL */

struct sdes_crypto {
	uint32_t tag;
	struct srtpw_key key;       /* suite, key || salt, MKI, session parameters */
	uint64_t lifetime;          /* packets; 0 = not given */
	bool pad;                   /* sdes_format keeps base64 '=' padding (RFC 4568 6.1
	                               is read both ways; without it, as rtpengine) */
};

/* Order in which to offer suites toward an answerer: every suite srtp.h knows, in
 * rtpengine's order (AEAD first, then counter mode from the longest key, F8, NULL), so
 * that an SDP sluice writes is the SDP rtpengine writes. The daemon puts the lines an
 * SDES offerer sent first (crypto_policy.c). */
#define SDES_N_SUITES (SRTPW_SUITE_COUNT - 1)
extern const enum srtpw_suite sdes_default_order[SDES_N_SUITES];

/* Bit for a suite in the masks below, e.g. SDES_BIT(SRTPW_AEAD_AES_128_GCM). */
#define SDES_BIT(s)   (1u << (s))
#define SDES_ALL      ((1u << SRTPW_SUITE_COUNT) - 2u)     /* every suite, not NONE */

/* Parse one value. Returns 0, or
 *   -EINVAL   malformed (bad tag, base64, key length for the suite, lifetime, MKI)
 *   -ENOTSUP  well formed but not usable here: unknown suite, key method other than
 *             inline, several keys, MKI longer than 4 bytes, KDR other than 0, FEC_*,
 *             an unknown session parameter without the '-' (ignorable) prefix, or
 *             UNENCRYPTED/UNAUTHENTICATED on an AEAD suite.
 * The caller skips lines that fail (an answer picks another line). Never reads past
 * len; out is fully written only on success. */
int sdes_parse(const char *s, size_t len, struct sdes_crypto *out);

/* Write the value (no "a=crypto:") into buf, NUL-terminated. Returns its length, or
 * -EINVAL for an invalid struct, -ENOSPC if size is too small (SDES_VALUE_MAX is
 * always enough). */
int sdes_format(const struct sdes_crypto *c, char *buf, size_t size);

/* Fill c with a fresh random key (OpenSSL RAND_bytes) for suite, no MKI, no lifetime,
 * no session parameters. 0, -EINVAL (suite/tag) or -EIO (RNG failure). */
int sdes_generate(struct sdes_crypto *c, uint32_t tag, enum srtpw_suite suite);

/* Index of the first of offers[0..n) whose suite is in the mask (offerer's order, as
 * RFC 4568 asks of the answerer), or -ENOENT. */
int sdes_choose(const struct sdes_crypto *offers, unsigned n, unsigned mask);

#endif
