/* DTLS-SRTP endpoint: OpenSSL driven through a datagram-preserving in-memory BIO. */
#include "sluice/dtls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:" \
		      "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"
#define TIMER_FIRST_US  400000u     /* OpenSSL's default is 1 s */
#define TIMER_MAX_US    6400000u

struct dtls_cert {
	EVP_PKEY *key;
	X509 *x509;
	SSL_CTX *ctx;
	char fp[DTLS_HASH_SHA512 + 1][DTLS_FP_MAX];     /* a=fingerprint per hash */
};

struct dtls {
	SSL *ssl;
	bool client, started;
	enum dtls_state state;
	bool have_fp;
	struct dtls_fp fp;
	/* the datagram being fed to OpenSSL (read side of the BIO) */
	const uint8_t *in;
	size_t in_len;
	/* datagrams OpenSSL wrote, in order, until popped */
	uint8_t out[DTLS_OUT_MAX];
	uint16_t dg_len[DTLS_OUT_DGRAMS];
	unsigned n_dg, next_dg;
	size_t out_used, out_pos;
};

/* ---- the BIO: each write is one datagram, each read returns the current datagram ---- */

static pthread_once_t bio_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_meth;

static int bio_write(BIO *b, const char *data, int len)
{
	struct dtls *d = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0 || d->n_dg >= DTLS_OUT_DGRAMS || (size_t)len > sizeof(d->out) - d->out_used)
		return -1;      /* dropped: retransmission recovers */
	memcpy(d->out + d->out_used, data, (size_t)len);
	d->out_used += (size_t)len;
	d->dg_len[d->n_dg++] = (uint16_t)len;
	return len;
}

static int bio_read(BIO *b, char *buf, int size)
{
	struct dtls *d = BIO_get_data(b);
	size_t n;

	BIO_clear_retry_flags(b);
	if (!d->in_len) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = d->in_len < (size_t)size ? d->in_len : (size_t)size;   /* datagram semantics */
	memcpy(buf, d->in, n);
	d->in_len = 0;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct dtls *d = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING:
		return d ? (long)d->in_len : 0;
	case BIO_CTRL_WPENDING:
		return 0;
	case BIO_CTRL_DGRAM_QUERY_MTU:
		return DTLS_MTU;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return 28;      /* IPv4 + UDP; SSL_OP_NO_QUERY_MTU makes it moot */
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_init_once(void)
{
	bio_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice-dtls");
	if (!bio_meth)
		return;
	BIO_meth_set_write(bio_meth, bio_write);
	BIO_meth_set_read(bio_meth, bio_read);
	BIO_meth_set_ctrl(bio_meth, bio_ctrl);
	BIO_meth_set_create(bio_meth, bio_create);
}

/* ---- fingerprints ---- */

static const struct {
	const char *name;
	enum dtls_hash hash;
	uint8_t len;
} hashes[] = {
	{ "sha-1", DTLS_HASH_SHA1, 20 },
	{ "sha-224", DTLS_HASH_SHA224, 28 },
	{ "sha-256", DTLS_HASH_SHA256, 32 },
	{ "sha-384", DTLS_HASH_SHA384, 48 },
	{ "sha-512", DTLS_HASH_SHA512, 64 },
};

static const EVP_MD *hash_md(enum dtls_hash h)
{
	switch (h) {
	case DTLS_HASH_SHA1:   return EVP_sha1();
	case DTLS_HASH_SHA224: return EVP_sha224();
	case DTLS_HASH_SHA256: return EVP_sha256();
	case DTLS_HASH_SHA384: return EVP_sha384();
	case DTLS_HASH_SHA512: return EVP_sha512();
	default:               return NULL;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dtls_fingerprint_parse(const char *s, size_t len, struct dtls_fp *out)
{
	const char *sp = memchr(s, ' ', len), *h;
	struct dtls_fp fp;
	size_t nlen, hlen;

	memset(&fp, 0, sizeof(fp));
	if (!sp)
		return -EINVAL;
	nlen = (size_t)(sp - s);
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strlen(hashes[i].name) == nlen && !strncasecmp(s, hashes[i].name, nlen)) {
			fp.hash = hashes[i].hash;
			fp.len = hashes[i].len;
		}
	if (fp.hash == DTLS_HASH_NONE)
		return -ENOTSUP;
	h = sp;
	while (h < s + len && *h == ' ')
		h++;
	hlen = (size_t)(s + len - h);
	while (hlen && (h[hlen - 1] == ' ' || h[hlen - 1] == '\t'))
		hlen--;
	if (hlen != (size_t)fp.len * 3 - 1)
		return -EINVAL;
	for (size_t i = 0; i < fp.len; i++) {
		int hi = hexval(h[3 * i]), lo = hexval(h[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i + 1 < fp.len && h[3 * i + 2] != ':'))
			return -EINVAL;
		fp.md[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = fp;
	return 0;
}

static bool cert_matches(X509 *x, const struct dtls_fp *fp)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const EVP_MD *m = hash_md(fp->hash);

	return m && X509_digest(x, m, md, &n) == 1 && n == fp->len &&
	       !CRYPTO_memcmp(md, fp->md, n);
}

/* ---- certificate ---- */

static int verify_cb(int preverify_ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;

	(void)preverify_ok;     /* self-signed by design: the fingerprint is the trust */
	if (!d || X509_STORE_CTX_get_error_depth(xs) != 0 || !d->have_fp)
		return 1;
	return cert_matches(X509_STORE_CTX_get_current_cert(xs), &d->fp) ? 1 : 0;
}

static int make_x509(struct dtls_cert *c)
{
	X509_NAME *name;
	uint64_t serial;

	c->x509 = X509_new();
	if (!c->x509 || RAND_bytes((uint8_t *)&serial, sizeof(serial)) != 1)
		return -EIO;
	serial &= INT64_MAX;
	name = X509_get_subject_name(c->x509);
	if (!X509_set_version(c->x509, X509_VERSION_3) ||
	    !ASN1_INTEGER_set_int64(X509_get_serialNumber(c->x509), (int64_t)serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c->x509), -86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c->x509), 365L * 86400) ||
	    !X509_set_pubkey(c->x509, c->key) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"sluice", -1, -1, 0) ||
	    !X509_set_issuer_name(c->x509, name) ||
	    !X509_sign(c->x509, c->key, EVP_sha256()))
		return -EIO;
	return 0;
}

static int make_ctx(struct dtls_cert *c)
{
	c->ctx = SSL_CTX_new(DTLS_method());
	if (!c->ctx)
		return -EIO;
	if (SSL_CTX_use_certificate(c->ctx, c->x509) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ctx, c->key) != 1 ||
	    SSL_CTX_check_private_key(c->ctx) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(c->ctx, SRTP_PROFILES) != 0)    /* 0 = success */
		return -EIO;
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_verify_depth(c->ctx, 4);
	return 0;
}

int dtls_cert_new(struct dtls_cert **out)
{
	struct dtls_cert *c = calloc(1, sizeof(*c));
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int ret = -EIO;

	if (!c)
		return -ENOMEM;
	c->key = EVP_EC_gen("P-256");
	if (!c->key)
		goto fail;
	ret = make_x509(c);
	if (ret)
		goto fail;
	ret = make_ctx(c);
	if (ret)
		goto fail;
	for (size_t h = 0; h < sizeof(hashes) / sizeof(hashes[0]); h++) {
		char *fp = c->fp[hashes[h].hash];
		size_t at = strlen(hashes[h].name) + 1;

		if (X509_digest(c->x509, hash_md(hashes[h].hash), md, &n) != 1 ||
		    n != hashes[h].len) {
			ret = -EIO;
			goto fail;
		}
		snprintf(fp, DTLS_FP_MAX, "%s ", hashes[h].name);
		for (unsigned i = 0; i < n; i++)
			snprintf(fp + at + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	}
	*out = c;
	return 0;
fail:
	ERR_clear_error();
	dtls_cert_free(c);
	return ret;
}

void dtls_cert_free(struct dtls_cert *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	free(c);
}

const char *dtls_cert_fingerprint(const struct dtls_cert *c)
{
	return c->fp[DTLS_HASH_SHA256];
}

const char *dtls_cert_fingerprint_hash(const struct dtls_cert *c, enum dtls_hash h)
{
	return h > DTLS_HASH_NONE && h <= DTLS_HASH_SHA512 ? c->fp[h] : c->fp[DTLS_HASH_SHA256];
}

int dtls_hash_parse(const char *s, size_t len, enum dtls_hash *out)
{
	for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strlen(hashes[i].name) == len && !strncasecmp(s, hashes[i].name, len)) {
			*out = hashes[i].hash;
			return 0;
		}
	return -ENOTSUP;
}

/* ---- a=setup ---- */

static const char *const setup_names[] = {
	[DTLS_SETUP_ACTIVE] = "active", [DTLS_SETUP_PASSIVE] = "passive",
	[DTLS_SETUP_ACTPASS] = "actpass", [DTLS_SETUP_HOLDCONN] = "holdconn",
};

int dtls_setup_parse(const char *s, size_t len, enum dtls_setup *out)
{
	for (int i = DTLS_SETUP_ACTIVE; i <= DTLS_SETUP_HOLDCONN; i++)
		if (strlen(setup_names[i]) == len && !strncasecmp(s, setup_names[i], len)) {
			*out = (enum dtls_setup)i;
			return 0;
		}
	return -EINVAL;
}

const char *dtls_setup_name(enum dtls_setup s)
{
	return s >= DTLS_SETUP_ACTIVE && s <= DTLS_SETUP_HOLDCONN ? setup_names[s] : NULL;
}

int dtls_setup_answer(enum dtls_setup offered, enum dtls_setup *ours, bool *client)
{
	switch (offered) {
	case DTLS_SETUP_NONE:
	case DTLS_SETUP_ACTPASS:
	case DTLS_SETUP_PASSIVE:
		*ours = DTLS_SETUP_ACTIVE;
		*client = true;
		return 0;
	case DTLS_SETUP_ACTIVE:
		*ours = DTLS_SETUP_PASSIVE;
		*client = false;
		return 0;
	default:
		return -EINVAL;
	}
}

int dtls_setup_resolve(enum dtls_setup ours, enum dtls_setup answered, bool *client)
{
	if (answered == DTLS_SETUP_NONE)
		answered = DTLS_SETUP_ACTIVE;
	if (answered == DTLS_SETUP_ACTIVE &&
	    (ours == DTLS_SETUP_ACTPASS || ours == DTLS_SETUP_PASSIVE)) {
		*client = false;
		return 0;
	}
	if (answered == DTLS_SETUP_PASSIVE &&
	    (ours == DTLS_SETUP_ACTPASS || ours == DTLS_SETUP_ACTIVE)) {
		*client = true;
		return 0;
	}
	return -EINVAL;
}

/* ---- endpoint ---- */

static unsigned int timer_cb(SSL *ssl, unsigned int timer_us)
{
	(void)ssl;
	if (!timer_us)
		return TIMER_FIRST_US;
	return timer_us >= TIMER_MAX_US / 2 ? TIMER_MAX_US : timer_us * 2;
}

int dtls_new(struct dtls **out, const struct dtls_cert *cert, bool client)
{
	struct dtls *d;
	BIO *bio;

	pthread_once(&bio_once, bio_init_once);
	if (!bio_meth)
		return -EIO;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->client = client;
	d->ssl = SSL_new(cert->ctx);
	bio = BIO_new(bio_meth);
	if (!d->ssl || !bio) {
		BIO_free(bio);
		SSL_free(d->ssl);
		free(d);
		ERR_clear_error();
		return -ENOMEM;
	}
	BIO_set_data(bio, d);
	SSL_set_bio(d->ssl, bio, bio);
	SSL_set_app_data(d->ssl, d);
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(d->ssl, DTLS_MTU);
	DTLS_set_timer_cb(d->ssl, timer_cb);
	if (client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	*out = d;
	return 0;
}

void dtls_free(struct dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);       /* frees the BIO */
	free(d);
}

static int fail(struct dtls *d, int err)
{
	d->state = DTLS_FAILED;
	ERR_clear_error();
	return err;
}

/* Handshake finished: a profile must be agreed and the certificate must match. */
static int finish(struct dtls *d)
{
	X509 *peer;
	bool ok;

	if (!SSL_get_selected_srtp_profile(d->ssl))
		return fail(d, -ENOTSUP);
	if (!d->have_fp) {
		d->state = DTLS_UNVERIFIED;
		return 0;
	}
	peer = SSL_get1_peer_certificate(d->ssl);
	ok = peer && cert_matches(peer, &d->fp);
	X509_free(peer);
	if (!ok)
		return fail(d, -EKEYREJECTED);
	d->state = DTLS_CONNECTED;
	return 0;
}

int dtls_set_remote_fingerprint(struct dtls *d, const struct dtls_fp *fp)
{
	if (!hash_md(fp->hash) || fp->len > sizeof(fp->md))
		return -EINVAL;
	d->fp = *fp;
	d->have_fp = true;
	if (d->state == DTLS_UNVERIFIED)
		return finish(d);
	return 0;
}

/* Run the handshake one step. */
static int step(struct dtls *d)
{
	int r, e;

	r = SSL_do_handshake(d->ssl);
	if (r == 1)
		return finish(d);
	e = SSL_get_error(d->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		return 0;
	}
	/* a fingerprint mismatch shows up as a verify failure */
	if (SSL_get_verify_result(d->ssl) != X509_V_OK && d->have_fp)
		return fail(d, -EKEYREJECTED);
	return fail(d, -EPROTO);
}

int dtls_start(struct dtls *d)
{
	if (!d->client || d->started)
		return 0;
	d->started = true;
	return step(d);
}

int dtls_input(struct dtls *d, const uint8_t *pkt, size_t len)
{
	uint8_t junk[2048];
	int ret = 0, r;

	if (d->state == DTLS_FAILED || d->state == DTLS_CLOSED)
		return -EPROTO;
	if (len == 0 || len > 65535)
		return -EINVAL;
	d->started = true;
	d->in = pkt;
	d->in_len = len;
	if (d->state == DTLS_HANDSHAKE) {
		ret = step(d);
	} else {
		/* after the handshake: the peer's retransmitted Finished, alerts, app data */
		while ((r = SSL_read(d->ssl, junk, sizeof(junk))) > 0)
			;
		switch (SSL_get_error(d->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			break;
		case SSL_ERROR_ZERO_RETURN:
			d->state = DTLS_CLOSED;
			break;
		default:
			ret = fail(d, -EPROTO);
		}
		ERR_clear_error();
	}
	d->in_len = 0;
	d->in = NULL;
	return ret;
}

int dtls_pop(struct dtls *d, const uint8_t **pkt, size_t *len)
{
	if (d->next_dg >= d->n_dg) {
		d->n_dg = d->next_dg = 0;
		d->out_used = d->out_pos = 0;
		return 0;
	}
	*pkt = d->out + d->out_pos;
	*len = d->dg_len[d->next_dg];
	d->out_pos += *len;
	d->next_dg++;
	return 1;
}

long dtls_timeout_ms(struct dtls *d)
{
	struct timeval tv;

	if (d->state != DTLS_HANDSHAKE || !DTLSv1_get_timeout(d->ssl, &tv))
		return -1;
	return tv.tv_sec * 1000L + (tv.tv_usec + 999) / 1000;
}

int dtls_handle_timeout(struct dtls *d)
{
	if (d->state != DTLS_HANDSHAKE)
		return 0;
	if (DTLSv1_handle_timeout(d->ssl) < 0)
		return fail(d, -ETIMEDOUT);
	ERR_clear_error();
	return 0;
}

enum dtls_state dtls_state(const struct dtls *d)
{
	return d->state;
}

const char *dtls_state_name(enum dtls_state s)
{
	switch (s) {
	case DTLS_HANDSHAKE:  return "handshake";
	case DTLS_UNVERIFIED: return "unverified";
	case DTLS_CONNECTED:  return "connected";
	case DTLS_FAILED:     return "failed";
	case DTLS_CLOSED:     return "closed";
	}
	return "?";
}

static enum srtpw_suite profile_suite(unsigned long id)
{
	switch (id) {
	case SRTP_AES128_CM_SHA1_80: return SRTPW_AES_CM_128_HMAC_SHA1_80;
	case SRTP_AES128_CM_SHA1_32: return SRTPW_AES_CM_128_HMAC_SHA1_32;
	case SRTP_AEAD_AES_128_GCM:  return SRTPW_AEAD_AES_128_GCM;
	case SRTP_AEAD_AES_256_GCM:  return SRTPW_AEAD_AES_256_GCM;
	default:                     return SRTPW_SUITE_NONE;
	}
}

int dtls_srtp_keys(struct dtls *d, struct srtpw_key *tx, struct srtpw_key *rx)
{
	static const char label[] = "EXTRACTOR-dtls_srtp";
	SRTP_PROTECTION_PROFILE *prof;
	const struct srtpw_suite_info *si;
	uint8_t km[2 * SRTPW_MASTER_MAX];
	size_t kl, sl;
	const uint8_t *ck, *sk, *cs, *ss;

	if (d->state != DTLS_CONNECTED)
		return -EAGAIN;
	prof = SSL_get_selected_srtp_profile(d->ssl);
	si = prof ? srtpw_suite_info(profile_suite(prof->id)) : NULL;
	if (!si)
		return -ENOTSUP;
	kl = si->key_len;
	sl = si->salt_len;
	if (SSL_export_keying_material(d->ssl, km, 2 * (kl + sl), label, sizeof(label) - 1,
				       NULL, 0, 0) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	/* RFC 5764 4.2: client key, server key, client salt, server salt */
	ck = km;
	sk = km + kl;
	cs = km + 2 * kl;
	ss = km + 2 * kl + sl;
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	tx->suite = rx->suite = profile_suite(prof->id);
	memcpy(tx->master, d->client ? ck : sk, kl);
	memcpy(tx->master + kl, d->client ? cs : ss, sl);
	memcpy(rx->master, d->client ? sk : ck, kl);
	memcpy(rx->master + kl, d->client ? ss : cs, sl);
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}
