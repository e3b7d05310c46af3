/* libFuzzer target: STUN parse + integrity, and the ICE agent answering it.
 * Properties: parse never crashes or reads past the input; anything parsed with a
 * first byte 0..3 passes stun_is_stun(); integrity checks return only documented
 * codes; the agent (lite and full, switched between the two now and then) answers
 * with well-formed STUN carrying a correct FINGERPRINT. The input is
 * also re-signed with the agent's password (so the fuzzer reaches the authenticated
 * paths it could never find by guessing an HMAC). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>

#include "sluice/ice.h"
#include "sluice/stun.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void feed(struct ice_agent *a, const uint8_t *p, size_t n)
{
	union sockaddr_u from;
	struct ice_tx tx;
	struct stun_msg m;
	int ret;

	netaddr_parse(n & 1 ? "[::1]:4000" : "127.0.0.1:4000", 0, false, &from);
	ret = ice_input(a, 0, &from, p, n, 1000, &tx);
	CHECK(ret <= 1);
	if (ret == 1) {
		CHECK(stun_parse(tx.buf, tx.len, &m) == 0);
		CHECK(m.has_fingerprint);
		CHECK(m.type == STUN_BINDING_SUCCESS || m.type == STUN_BINDING_ERROR);
	}
	while (ice_poll(a, 1000 + n, &tx) == 1)
		CHECK(stun_parse(tx.buf, tx.len, &m) == 0);
}

/* Recompute MESSAGE-INTEGRITY over p[0..mi_off) with key and cut what follows. */
static size_t resign(uint8_t *p, size_t mi_off, const char *key)
{
	unsigned int olen;

	p[2] = (uint8_t)((mi_off + 24 - 20) >> 8);
	p[3] = (uint8_t)(mi_off + 24 - 20);
	HMAC(EVP_sha1(), key, (int)strlen(key), p, mi_off, p + mi_off + 4, &olen);
	return mi_off + 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ice_agent lite, full;
	static bool init;
	struct stun_msg m;
	uint8_t copy[STUN_MAX_LEN];
	int ret;

	if (!init) {
		union sockaddr_u l;

		netaddr_parse("127.0.0.1:3000", 0, false, &l);
		CHECK(ice_agent_init(&lite, true, false, 1) == 0);
		CHECK(ice_agent_init(&full, false, true, 2) == 0);
		ice_add_local(&lite, 1, &l);
		ice_add_local(&full, 1, &l);
		ice_set_remote_creds(&full, "peer", 4, "peerpasswordpeerpassword", 24);
		strcpy(lite.ufrag, "lite");
		strcpy(full.ufrag, "full");
		init = true;
	}
	if (full.n_pairs >= ICE_MAX_PAIRS - 2 || full.n_remote >= ICE_MAX_REMOTE - 1) {
		/* keep the full agent learning: start over when its tables fill up */
		full.n_remote = full.n_pairs = 0;
	}

	ret = stun_parse(data, size, &m);
	CHECK(ret == 0 || ret == -EINVAL || ret == -EMSGSIZE || ret == -EBADMSG);
	if (!ret) {
		int r2 = stun_check_integrity(&m, "key", 3);

		CHECK(stun_is_stun(data, size) == (data[0] < 4));  /* RFC 7983 range */
		CHECK(m.username_len <= STUN_USERNAME_MAX);
		CHECK(r2 == 0 || r2 == -ENOENT || r2 == -EACCES);
	}
	feed(&lite, data, size);
	feed(&full, data, size);
	/* now and then a mode switch of the full agent and back, in either role (an
	 * operator's ICE-lite key mid-call): the tables must stay consistent */
	if (size % 13 == 0) {
		ice_set_mode(&full, true, false);
		feed(&full, data, size);
		ice_set_mode(&full, false, size & 1);
	}

	if (!ret && m.mi_off && m.mi_off + 24 <= sizeof(copy)) {
		memcpy(copy, data, m.mi_off + 24);
		feed(&lite, copy, resign(copy, m.mi_off, lite.pwd));
		memcpy(copy, data, m.mi_off + 24);
		feed(&full, copy, resign(copy, m.mi_off, full.pwd));
		memcpy(copy, data, m.mi_off + 24);
		feed(&full, copy, resign(copy, m.mi_off, full.rpwd));   /* as a response */
	}
	return 0;
}
