/* libFuzzer target: trickle ICE SDP fragments (sdpfrag_parse) and what the daemon does
 * with them: every candidate through ice_parse_candidate() into a full and a lite
 * agent, then checks polled. Properties: the parse never reads past the input; every
 * string it returns lies inside the input; the counts stay within their limits; the
 * agents' tables stay within bounds and their checks are well-formed STUN. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/ice.h"
#include "sluice/sdpfrag.h"
#include "sluice/stun.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void inside(const char *base, size_t size, struct sdp_str s)
{
	if (!s.len)
		return;
	CHECK(s.s >= base && s.s + s.len <= base + size);
}

static void feed(struct ice_agent *a, const struct sdpfrag *f)
{
	struct ice_tx tx;
	struct stun_msg m;

	for (unsigned i = 0; i < f->n_media; i++)
		for (unsigned k = 0; k < f->media[i].n_cand; k++) {
			struct ice_cand c;

			if (!ice_parse_candidate(f->media[i].cand[k].s, f->media[i].cand[k].len, &c))
				ice_add_remote(a, &c);
		}
	CHECK(a->n_remote <= ICE_MAX_REMOTE && a->n_pairs <= ICE_MAX_PAIRS);
	for (uint64_t t = 0; t < 20000; t += 500)
		while (ice_poll(a, t, &tx) == 1) {
			CHECK(stun_parse(tx.buf, tx.len, &m) == 0);
			CHECK(m.type == STUN_BINDING_REQUEST);
			CHECK(tx.local < a->n_local);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdpfrag f;
	static struct ice_agent full, lite;
	const char *s = (const char *)data, *why = NULL;
	union sockaddr_u l4, l6;
	int ret;

	/* an exact-size copy, so that ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);

	CHECK(buf);
	memcpy(buf, s, size);
	ret = sdpfrag_parse(buf, size, &f, &why);
	CHECK(ret == 0 || ((ret == -EINVAL || ret == -E2BIG) && why && *why));
	if (ret) {
		free(buf);
		return 0;
	}
	CHECK(f.n_media <= SDPFRAG_MAX_MEDIA);
	inside(buf, size, f.ufrag);
	inside(buf, size, f.pwd);
	for (unsigned i = 0; i < f.n_media; i++) {
		const struct sdpfrag_media *m = &f.media[i];

		CHECK(m->n_cand <= SDPFRAG_MAX_CAND);
		CHECK(m->index >= -1 && m->index < (int)SDPFRAG_MAX_MEDIA);
		inside(buf, size, m->mid);
		inside(buf, size, m->ufrag);
		inside(buf, size, m->pwd);
		inside(buf, size, sdpfrag_ufrag(&f, i));
		for (unsigned k = 0; k < m->n_cand; k++)
			inside(buf, size, m->cand[k]);
	}
	netaddr_parse("127.0.0.1:30000", 0, false, &l4);
	netaddr_parse("[::1]:30000", 0, false, &l6);
	CHECK(ice_agent_init(&full, false, true, 2) == 0);
	CHECK(ice_agent_init(&lite, true, false, 2) == 0);
	for (int k = 0; k < 2; k++) {
		struct ice_agent *a = k ? &lite : &full;

		CHECK(ice_add_local(a, 1, &l4) >= 0);
		CHECK(ice_add_local(a, 2, &l4) >= 0);
		CHECK(ice_add_local(a, 1, &l6) >= 0);
		CHECK(ice_set_remote_creds(a, "peer", 4, "peerpasswordpeerpassword", 24) == 0);
		feed(a, &f);
	}
	free(buf);
	return 0;
}
