/* DTLS-SRTP (RFC 5763/5764) over OpenSSL, without sockets.
 *
 * A struct dtls_cert (self-signed EC P-256 certificate, its SSL_CTX and the sha-256
 * fingerprint for a=fingerprint) is made once at daemon start and shared read-only by
 * all streams and threads. A struct dtls is one endpoint of one stream, made at setup:
 * the caller feeds it received DTLS datagrams (dtls_input), sends what dtls_pop()
 * yields, and calls dtls_handle_timeout() when dtls_timeout_ms() says so
 * (retransmission; OpenSSL keeps that timer on the wall clock). When dtls_state() is
 * DTLS_CONNECTED the handshake is done, the peer's certificate matched the
 * a=fingerprint given with dtls_set_remote_fingerprint(), and dtls_srtp_keys() gives
 * both directions' SRTP keys (RFC 5764 4.2, "EXTRACTOR-dtls_srtp").
 *
 * Errors: 0 or -errno: -EINVAL (bad argument / not a DTLS datagram), -ENOMEM,
 * -EPROTO (handshake failed), -EKEYREJECTED (certificate does not match the
 * fingerprint), -ENOTSUP (no SRTP profile agreed), -EAGAIN (not connected yet),
 * -ETIMEDOUT (peer silent through all retransmissions), -EIO (OpenSSL). */
#ifndef SLUICE_DTLS_H
#define SLUICE_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/srtp.h"

#define DTLS_FP_MAX        208      /* "sha-512 " + 64 hex pairs with colons (199), NUL */
#define DTLS_MTU           1200     /* largest datagram we emit */
#define DTLS_OUT_MAX       16384    /* bytes of datagrams queued until popped */
#define DTLS_OUT_DGRAMS    32

struct dtls_cert;
struct dtls;

/* ---- certificate (process-wide) ---- */

/* Generate key and self-signed certificate (valid from a day ago for a year). */
int dtls_cert_new(struct dtls_cert **out);
void dtls_cert_free(struct dtls_cert *c);
/* The a=fingerprint value, e.g. "sha-256 4A:AD:...". */
const char *dtls_cert_fingerprint(const struct dtls_cert *c);

/* ---- SDP helpers ---- */

enum dtls_setup { DTLS_SETUP_NONE = 0, DTLS_SETUP_ACTIVE, DTLS_SETUP_PASSIVE,
		  DTLS_SETUP_ACTPASS, DTLS_SETUP_HOLDCONN };

/* a=setup value; 0 or -EINVAL. */
int dtls_setup_parse(const char *s, size_t len, enum dtls_setup *out);
const char *dtls_setup_name(enum dtls_setup s);     /* NULL for NONE */
/* We answer an offer whose a=setup was `offered` (NONE if absent): our a=setup and
 * whether we are the DTLS client. actpass / absent -> active (RFC 5763 5: the
 * answerer should be active), active -> passive, passive -> active; holdconn -EINVAL. */
int dtls_setup_answer(enum dtls_setup offered, enum dtls_setup *ours, bool *client);
/* We offered `ours` (normally actpass) and the answer says `answered` (NONE if absent,
 * which RFC 4145 reads as active). Whether we are the client; -EINVAL if incompatible. */
int dtls_setup_resolve(enum dtls_setup ours, enum dtls_setup answered, bool *client);

enum dtls_hash { DTLS_HASH_NONE = 0, DTLS_HASH_SHA1, DTLS_HASH_SHA224, DTLS_HASH_SHA256,
		 DTLS_HASH_SHA384, DTLS_HASH_SHA512 };

struct dtls_fp {
	enum dtls_hash hash;
	uint8_t len;
	uint8_t md[64];
};

/* The a=fingerprint value with another hash ("sha-1 ...", ...; NONE: sha-256). */
const char *dtls_cert_fingerprint_hash(const struct dtls_cert *c, enum dtls_hash h);
/* A hash name as a=fingerprint writes it ("sha-1" ... "sha-512", any case). 0 or
 * -ENOTSUP. */
int dtls_hash_parse(const char *s, size_t len, enum dtls_hash *out);

/* a=fingerprint value ("sha-256 AB:CD:..."; hash name case-insensitive, hex either
 * case). 0, -EINVAL (malformed, wrong length for the hash), -ENOTSUP (md5, md2...). */
int dtls_fingerprint_parse(const char *s, size_t len, struct dtls_fp *out);

/* ---- one endpoint ---- */

enum dtls_state {
	DTLS_HANDSHAKE = 0,     /* in progress (or not started) */
	DTLS_UNVERIFIED,        /* handshake done, no fingerprint to check it against yet */
	DTLS_CONNECTED,         /* done and verified: keys available */
	DTLS_FAILED,
	DTLS_CLOSED,            /* peer sent close_notify */
};

/* client: we send ClientHello (a=setup:active). Allocates (setup time only). */
int dtls_new(struct dtls **out, const struct dtls_cert *cert, bool client);
void dtls_free(struct dtls *d);
/* Set (or replace) the peer's a=fingerprint. If the handshake is already done the
 * check runs now: 0 (connected) or -EKEYREJECTED (failed). */
int dtls_set_remote_fingerprint(struct dtls *d, const struct dtls_fp *fp);
/* Client: queue the ClientHello (pop it). Server: nothing. Idempotent. */
int dtls_start(struct dtls *d);
/* A datagram from the peer; responses are queued for dtls_pop(). Application data
 * after the handshake is read and discarded. Returns 0, or the error that just made
 * the endpoint fail (further input then returns -EPROTO). */
int dtls_input(struct dtls *d, const uint8_t *pkt, size_t len);
/* Next queued datagram: 1 with *pkt and *len (valid until the next call on d), 0 if none. */
int dtls_pop(struct dtls *d, const uint8_t **pkt, size_t *len);
/* Milliseconds until dtls_handle_timeout() is due (0: now), -1 if no timer runs. */
long dtls_timeout_ms(struct dtls *d);
/* Retransmit the last flight if its timer expired (queues datagrams). 0 or -ETIMEDOUT. */
int dtls_handle_timeout(struct dtls *d);
enum dtls_state dtls_state(const struct dtls *d);
const char *dtls_state_name(enum dtls_state s);
/* SRTP keys for our sending (tx) and receiving (rx) contexts. 0, -EAGAIN (not
 * DTLS_CONNECTED), -ENOTSUP (no profile agreed), -EIO. */
int dtls_srtp_keys(struct dtls *d, struct srtpw_key *tx, struct srtpw_key *rx);

#endif
