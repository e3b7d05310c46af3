/* dtls: certificate and fingerprints, a=setup rules, client and server handshaking in
 * memory, identical exported keys, SRTP both ways with them, wrong / late
 * fingerprints, retransmission after loss, junk input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sluice/dtls.h"

static struct dtls_cert *cert_a, *cert_b;

static int setup(void **state)
{
	(void)state;
	if (dtls_cert_new(&cert_a) || dtls_cert_new(&cert_b))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dtls_cert_free(cert_a);
	dtls_cert_free(cert_b);
	return 0;
}

static struct dtls_fp fp_of(const struct dtls_cert *c)
{
	const char *s = dtls_cert_fingerprint(c);
	struct dtls_fp fp;

	assert_int_equal(dtls_fingerprint_parse(s, strlen(s), &fp), 0);
	return fp;
}

static void test_cert_fingerprint(void **state)
{
	const char *s = dtls_cert_fingerprint(cert_a);
	struct dtls_fp fp, fp2;
	char lower[DTLS_FP_MAX];

	(void)state;
	assert_int_equal(strlen(s), 8 + 32 * 3 - 1);
	assert_memory_equal(s, "sha-256 ", 8);
	for (int i = 0; i < 32; i++) {
		assert_true(strchr("0123456789ABCDEF", s[8 + 3 * i]) != NULL);
		if (i < 31)
			assert_int_equal(s[8 + 3 * i + 2], ':');
	}
	assert_string_not_equal(s, dtls_cert_fingerprint(cert_b));
	fp = fp_of(cert_a);
	assert_int_equal(fp.hash, DTLS_HASH_SHA256);
	assert_int_equal(fp.len, 32);

	/* case-insensitive name and hex, trailing blank tolerated */
	snprintf(lower, sizeof(lower), "SHA-256 %s ", s + 8);
	for (char *p = lower + 8; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	assert_int_equal(dtls_fingerprint_parse(lower, strlen(lower), &fp2), 0);
	assert_memory_equal(fp.md, fp2.md, 32);

	/* every hash a=fingerprint may name (NG DTLS-fingerprint): well formed, its length */
	static const struct { const char *n; enum dtls_hash h; unsigned len; } hs[] = {
		{ "sha-1", DTLS_HASH_SHA1, 20 }, { "SHA-224", DTLS_HASH_SHA224, 28 },
		{ "sha-256", DTLS_HASH_SHA256, 32 }, { "sha-384", DTLS_HASH_SHA384, 48 },
		{ "sha-512", DTLS_HASH_SHA512, 64 },
	};
	for (unsigned i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		enum dtls_hash h;
		const char *f;

		assert_int_equal(dtls_hash_parse(hs[i].n, strlen(hs[i].n), &h), 0);
		assert_int_equal(h, hs[i].h);
		f = dtls_cert_fingerprint_hash(cert_a, h);
		assert_int_equal(dtls_fingerprint_parse(f, strlen(f), &fp2), 0);
		assert_int_equal(fp2.hash, h);
		assert_int_equal(fp2.len, hs[i].len);
	}
	assert_string_equal(dtls_cert_fingerprint_hash(cert_a, DTLS_HASH_NONE), s);
	assert_int_equal(dtls_hash_parse("md5", 3, &fp2.hash), -ENOTSUP);
	assert_int_equal(dtls_fingerprint_parse("sha-256", 7, &fp2), -EINVAL);
	assert_int_equal(dtls_fingerprint_parse("md5 AB:CD", 9, &fp2), -ENOTSUP);
	assert_int_equal(dtls_fingerprint_parse("sha-1 AB:CD", 11, &fp2), -EINVAL);
	assert_int_equal(dtls_fingerprint_parse(s, strlen(s) - 3, &fp2), -EINVAL);
	snprintf(lower, sizeof(lower), "%s", s);
	lower[20] = 'G';
	assert_int_equal(dtls_fingerprint_parse(lower, strlen(lower), &fp2), -EINVAL);
	lower[20] = s[20];
	lower[10] = '-';
	assert_int_equal(dtls_fingerprint_parse(lower, strlen(lower), &fp2), -EINVAL);
}

static void test_setup_roles(void **state)
{
	enum dtls_setup s, ours;
	bool client;

	(void)state;
	assert_int_equal(dtls_setup_parse("actpass", 7, &s), 0);
	assert_int_equal(s, DTLS_SETUP_ACTPASS);
	assert_int_equal(dtls_setup_parse("PASSIVE", 7, &s), 0);
	assert_int_equal(s, DTLS_SETUP_PASSIVE);
	assert_int_equal(dtls_setup_parse("act", 3, &s), -EINVAL);
	assert_string_equal(dtls_setup_name(DTLS_SETUP_HOLDCONN), "holdconn");
	assert_null(dtls_setup_name(DTLS_SETUP_NONE));

	assert_int_equal(dtls_setup_answer(DTLS_SETUP_ACTPASS, &ours, &client), 0);
	assert_true(ours == DTLS_SETUP_ACTIVE && client);
	assert_int_equal(dtls_setup_answer(DTLS_SETUP_NONE, &ours, &client), 0);
	assert_true(ours == DTLS_SETUP_ACTIVE && client);
	assert_int_equal(dtls_setup_answer(DTLS_SETUP_ACTIVE, &ours, &client), 0);
	assert_true(ours == DTLS_SETUP_PASSIVE && !client);
	assert_int_equal(dtls_setup_answer(DTLS_SETUP_PASSIVE, &ours, &client), 0);
	assert_true(ours == DTLS_SETUP_ACTIVE && client);
	assert_int_equal(dtls_setup_answer(DTLS_SETUP_HOLDCONN, &ours, &client), -EINVAL);

	assert_int_equal(dtls_setup_resolve(DTLS_SETUP_ACTPASS, DTLS_SETUP_ACTIVE, &client), 0);
	assert_false(client);
	assert_int_equal(dtls_setup_resolve(DTLS_SETUP_ACTPASS, DTLS_SETUP_PASSIVE, &client), 0);
	assert_true(client);
	assert_int_equal(dtls_setup_resolve(DTLS_SETUP_ACTPASS, DTLS_SETUP_NONE, &client), 0);
	assert_false(client);
	assert_int_equal(dtls_setup_resolve(DTLS_SETUP_ACTPASS, DTLS_SETUP_ACTPASS, &client), -EINVAL);
	assert_int_equal(dtls_setup_resolve(DTLS_SETUP_ACTIVE, DTLS_SETUP_ACTIVE, &client), -EINVAL);
}

/* Move datagrams both ways until nothing moves; drop the first `drop` of them. */
static unsigned pump(struct dtls *c, struct dtls *s, unsigned *drop)
{
	struct dtls *ends[2] = { c, s };
	unsigned moved = 0;
	bool any = true;

	while (any) {
		any = false;
		for (int k = 0; k < 2; k++) {
			const uint8_t *p;
			size_t len;

			while (dtls_pop(ends[k], &p, &len) == 1) {
				assert_true(len > 0 && len <= DTLS_MTU);
				any = true;
				moved++;
				if (drop && *drop) {
					(*drop)--;
					continue;
				}
				dtls_input(ends[1 - k], p, len);
			}
		}
	}
	return moved;
}

static void handshake(struct dtls **c, struct dtls **s, bool fps)
{
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);

	assert_int_equal(dtls_new(c, cert_a, true), 0);
	assert_int_equal(dtls_new(s, cert_b, false), 0);
	if (fps) {
		assert_int_equal(dtls_set_remote_fingerprint(*c, &fb), 0);
		assert_int_equal(dtls_set_remote_fingerprint(*s, &fa), 0);
	}
	assert_int_equal(dtls_timeout_ms(*s), -1);
	assert_int_equal(dtls_start(*c), 0);
	assert_true(dtls_timeout_ms(*c) >= 0);
	assert_true(pump(*c, *s, NULL) >= 4);
}

static size_t mkrtp(uint8_t *buf, uint16_t seq)
{
	static const uint8_t hdr[12] = { 0x80, 0x00, 0, 0, 0, 0, 0, 160, 0x12, 0x34, 0x56, 0x78 };

	memcpy(buf, hdr, 12);
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	for (int i = 0; i < 160; i++)
		buf[12 + i] = (uint8_t)(i ^ seq);
	return 172;
}

/* from's tx key must decrypt with to's rx key (RTP and RTCP) */
static void srtp_oneway(const struct srtpw_key *tx, const struct srtpw_key *rx)
{
	static const uint8_t rr[8] = { 0x80, 201, 0, 1, 0x12, 0x34, 0x56, 0x78 };
	struct srtpw s, r;
	uint8_t buf[256], plain[256];
	size_t len, plen;

	assert_int_equal(srtpw_init(&s, tx, SRTPW_OUTBOUND), 0);
	assert_int_equal(srtpw_init(&r, rx, SRTPW_INBOUND), 0);
	for (uint16_t seq = 1; seq < 20; seq++) {
		plen = mkrtp(plain, seq);
		memcpy(buf, plain, plen);
		len = plen;
		assert_int_equal(srtpw_protect_rtp(&s, buf, &len, sizeof(buf)), 0);
		assert_int_equal(srtpw_unprotect_rtp(&r, buf, &len), 0);
		assert_int_equal(len, plen);
		assert_memory_equal(buf, plain, plen);
	}
	memcpy(buf, rr, 8);
	len = 8;
	assert_int_equal(srtpw_protect_rtcp(&s, buf, &len, sizeof(buf)), 0);
	assert_int_equal(srtpw_unprotect_rtcp(&r, buf, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(buf, rr, 8);
	srtpw_free(&s);
	srtpw_free(&r);
}

static void test_handshake_keys_srtp(void **state)
{
	struct dtls *c, *s;
	struct srtpw_key ctx_, crx, stx, srx;
	const struct srtpw_suite_info *si;

	(void)state;
	handshake(&c, &s, true);
	assert_string_equal(dtls_state_name(dtls_state(c)), "connected");
	assert_string_equal(dtls_state_name(dtls_state(s)), "connected");
	assert_int_equal(dtls_timeout_ms(c), -1);
	assert_int_equal(dtls_srtp_keys(c, &ctx_, &crx), 0);
	assert_int_equal(dtls_srtp_keys(s, &stx, &srx), 0);
	si = srtpw_suite_info(ctx_.suite);
	assert_non_null(si);
	/* the first profile both offer: AEAD_AES_128_GCM */
	assert_int_equal(ctx_.suite, SRTPW_AEAD_AES_128_GCM);
	assert_int_equal(srx.suite, ctx_.suite);
	assert_memory_equal(ctx_.master, srx.master, si->key_len + si->salt_len);
	assert_memory_equal(crx.master, stx.master, si->key_len + si->salt_len);
	assert_memory_not_equal(ctx_.master, crx.master, si->key_len + si->salt_len);
	srtp_oneway(&ctx_, &srx);
	srtp_oneway(&stx, &crx);
	/* keys of one direction do not open the other */
	{
		struct srtpw s1, r1;
		uint8_t buf[256];
		size_t len = mkrtp(buf, 7);

		assert_int_equal(srtpw_init(&s1, &ctx_, SRTPW_OUTBOUND), 0);
		assert_int_equal(srtpw_init(&r1, &crx, SRTPW_INBOUND), 0);
		assert_int_equal(srtpw_protect_rtp(&s1, buf, &len, sizeof(buf)), 0);
		assert_int_equal(srtpw_unprotect_rtp(&r1, buf, &len), -EBADMSG);
		srtpw_free(&s1);
		srtpw_free(&r1);
	}

	/* after the handshake, junk and app data are harmless */
	{
		static const uint8_t junk[30] = { 23, 0xfe, 0xfd, 0, 1 };
		assert_int_equal(dtls_input(s, junk, sizeof(junk)), 0);
		assert_int_equal(dtls_state(s), DTLS_CONNECTED);
	}
	dtls_free(c);
	dtls_free(s);
}

static void test_wrong_fingerprint(void **state)
{
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct srtpw_key tx, rx;
	struct dtls *c, *s;

	(void)state;
	/* the server expects another certificate from the client */
	fa.md[5] ^= 1;
	assert_int_equal(dtls_new(&c, cert_a, true), 0);
	assert_int_equal(dtls_new(&s, cert_b, false), 0);
	dtls_set_remote_fingerprint(c, &fb);
	dtls_set_remote_fingerprint(s, &fa);
	dtls_start(c);
	pump(c, s, NULL);
	assert_int_equal(dtls_state(s), DTLS_FAILED);
	assert_int_not_equal(dtls_state(c), DTLS_CONNECTED);
	assert_int_equal(dtls_srtp_keys(s, &tx, &rx), -EAGAIN);
	assert_int_equal(dtls_srtp_keys(c, &tx, &rx), -EAGAIN);
	dtls_free(c);
	dtls_free(s);

	/* the client expects the server's certificate to be cert_a's */
	fa = fp_of(cert_a);
	assert_int_equal(dtls_new(&c, cert_a, true), 0);
	assert_int_equal(dtls_new(&s, cert_b, false), 0);
	dtls_set_remote_fingerprint(c, &fa);
	dtls_set_remote_fingerprint(s, &fa);
	dtls_start(c);
	pump(c, s, NULL);
	assert_int_equal(dtls_state(c), DTLS_FAILED);
	assert_int_not_equal(dtls_state(s), DTLS_CONNECTED);
	assert_int_equal(dtls_input(c, (const uint8_t *)"\x16\xfe\xfd", 3), -EPROTO);
	dtls_free(c);
	dtls_free(s);
}

static void test_late_fingerprint(void **state)
{
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct srtpw_key tx, rx;
	struct dtls *c, *s;

	(void)state;
	/* handshake before the SDP with the fingerprint arrived */
	handshake(&c, &s, false);
	assert_int_equal(dtls_state(c), DTLS_UNVERIFIED);
	assert_int_equal(dtls_state(s), DTLS_UNVERIFIED);
	assert_int_equal(dtls_srtp_keys(c, &tx, &rx), -EAGAIN);
	assert_int_equal(dtls_set_remote_fingerprint(c, &fb), 0);
	assert_int_equal(dtls_state(c), DTLS_CONNECTED);
	assert_int_equal(dtls_srtp_keys(c, &tx, &rx), 0);
	fb.md[0] ^= 0x80;       /* not the client's certificate */
	assert_int_equal(dtls_set_remote_fingerprint(s, &fb), -EKEYREJECTED);
	assert_int_equal(dtls_state(s), DTLS_FAILED);
	assert_int_equal(dtls_srtp_keys(s, &tx, &rx), -EAGAIN);
	(void)fa;
	dtls_free(c);
	dtls_free(s);
}

static void test_retransmit(void **state)
{
	struct dtls_fp fa = fp_of(cert_a), fb = fp_of(cert_b);
	struct dtls *c, *s;
	const uint8_t *p;
	size_t len;
	unsigned drop = 1;
	long ms;

	(void)state;
	assert_int_equal(dtls_new(&c, cert_a, true), 0);
	assert_int_equal(dtls_new(&s, cert_b, false), 0);
	dtls_set_remote_fingerprint(c, &fb);
	dtls_set_remote_fingerprint(s, &fa);

	/* junk before the ClientHello is ignored by the server */
	{
		static const uint8_t junk[] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2 };
		assert_int_equal(dtls_input(s, junk, sizeof(junk)), 0);
		assert_int_equal(dtls_state(s), DTLS_HANDSHAKE);
		assert_int_equal(dtls_input(s, junk, 0), -EINVAL);
	}

	dtls_start(c);
	pump(c, s, &drop);                      /* the ClientHello is lost */
	assert_int_equal(drop, 0);
	assert_int_equal(dtls_state(c), DTLS_HANDSHAKE);
	ms = dtls_timeout_ms(c);
	assert_true(ms > 0 && ms <= 400);
	assert_int_equal(dtls_handle_timeout(c), 0);   /* not due yet: nothing */
	assert_int_equal(dtls_pop(c, &p, &len), 0);
	usleep((useconds_t)(ms + 20) * 1000);
	assert_int_equal(dtls_timeout_ms(c), 0);
	assert_int_equal(dtls_handle_timeout(c), 0);
	assert_int_equal(dtls_pop(c, &p, &len), 1);    /* the ClientHello again */
	assert_int_equal(p[0], 22);
	dtls_input(s, p, len);
	pump(c, s, NULL);
	assert_int_equal(dtls_state(c), DTLS_CONNECTED);
	assert_int_equal(dtls_state(s), DTLS_CONNECTED);
	dtls_free(c);
	dtls_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_fingerprint),
		cmocka_unit_test(test_setup_roles),
		cmocka_unit_test(test_handshake_keys_srtp),
		cmocka_unit_test(test_wrong_fingerprint),
		cmocka_unit_test(test_late_fingerprint),
		cmocka_unit_test(test_retransmit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
