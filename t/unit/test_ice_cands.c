/* Host candidates on every address of a logical interface: which addresses and in what
 * order (media_socks_peers), the candidates an agent gets for them and their SDP lines
 * (ice_cands.c, the form rtpengine writes), the mapping between candidates and sockets,
 * and the socket media leaves from (stream_tx_sock, latching). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/daemon.h"
#include "../../daemon/latch.h"
#include "../../daemon/media_socks.h"
#include "../../daemon/secure.h"
#include "sluice/strbuf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* name/address as --interface takes them */
static const char *const conf[] = {
	"127.0.0.1", "::1", "int/127.0.0.2", "127.0.0.5", "::2", "ext/::3", "ext/127.0.0.3",
};

static struct iface ifs[ARRAY_SIZE(conf)];

static void addr(const char *s, union sockaddr_u *out)
{
	assert_int_equal(netaddr_parse_ip(s, strlen(s), 0, out), 0);
}

static void setup_ifaces(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(conf); i++) {
		const char *sl = strchr(conf[i], '/');

		memset(&ifs[i], 0, sizeof(ifs[i]));
		snprintf(ifs[i].name, sizeof(ifs[i].name), "%.*s", sl ? (int)(sl - conf[i]) : 7,
			 sl ? conf[i] : "default");
		addr(sl ? sl + 1 : conf[i], &ifs[i].local);
		ifs[i].advertised = ifs[i].local;
	}
}

struct peers_vec {
	unsigned primary;               /* index into conf */
	unsigned max;
	unsigned found;
	int want[4];                    /* indexes into conf, -1 end */
};

static const struct peers_vec peers_vecs[] = {
	/* 0: IPv4 first: the other IPv4 address, then IPv6 in configuration order */
	{ 0, 4, 3, { 3, 1, 4, -1 } },
	/* 1: IPv6 first: its family, then IPv4 */
	{ 1, 4, 3, { 4, 0, 3, -1 } },
	/* 2: a later address of the family as primary: the earlier one follows it */
	{ 3, 4, 3, { 0, 1, 4, -1 } },
	/* 3: an interface with one address */
	{ 2, 4, 0, { -1 } },
	/* 4: two families under another name */
	{ 5, 4, 1, { 6, -1 } },
	{ 6, 4, 1, { 5, -1 } },
	/* 6: capped: the count says how many there are */
	{ 0, 2, 3, { 3, 1, -1 } },
};

static void test_peers_order(void **state)
{
	(void)state;
	setup_ifaces();
	for (size_t i = 0; i < ARRAY_SIZE(peers_vecs); i++) {
		const struct peers_vec *v = &peers_vecs[i];
		const struct iface *out[4] = { 0 };
		unsigned n = media_socks_peers(ifs, ARRAY_SIZE(ifs), &ifs[v->primary], out, v->max);

		assert_int_equal(n, v->found);
		for (unsigned k = 0; k < 4 && v->want[k] >= 0; k++) {
			if (out[k] != &ifs[v->want[k]])
				fail_msg("vec %zu: peer %u is %s, want %s", i, k,
					 out[k] ? out[k]->name : "none", conf[v->want[k]]);
		}
	}
}

/* A media of the default interface on 127.0.0.1:30000, with sockets on 127.0.0.5:30100
 * and ::1:30200 (no real sockets: fds -1). */
struct fixture {
	struct call c;
	struct party p;
	struct media m;
	struct media_xsocks xs;
	struct secure_media *sm;
};

static void fixture_init(struct fixture *f, unsigned n_xs)
{
	static const unsigned peer[] = { 3, 1 };
	static const uint16_t port[] = { 30100, 30200 };

	setup_ifaces();
	memset(f, 0, sizeof(*f));
	f->p.call = &f->c;
	f->c.learning = -1;
	f->m.party = &f->p;
	f->m.index = 1;
	f->m.iface = &ifs[0];
	f->m.port = 30000;
	f->m.rtp.media = f->m.rtcp.media = &f->m;
	f->m.rtp.component = COMP_RTP;
	f->m.rtcp.component = COMP_RTCP;
	f->m.rtp.local = ifs[0].local;
	netaddr_set_port(&f->m.rtp.local, 30000);
	f->m.rtcp.local = ifs[0].local;
	netaddr_set_port(&f->m.rtcp.local, 30001);
	for (unsigned k = 0; k < n_xs; k++) {
		f->xs.iface[k] = &ifs[peer[k]];
		f->xs.port[k] = port[k];
		f->xs.rtp[k] = (struct stream_xsock){ .ref = { &f->m.rtp, -1, (uint8_t)(k + 1) },
						      .local = ifs[peer[k]].local };
		f->xs.rtcp[k] = (struct stream_xsock){ .ref = { &f->m.rtcp, -1, (uint8_t)(k + 1) },
						       .local = ifs[peer[k]].local };
		netaddr_set_port(&f->xs.rtp[k].local, port[k]);
		netaddr_set_port(&f->xs.rtcp[k].local, (uint16_t)(port[k] + 1));
	}
	f->xs.n = n_xs;
	if (n_xs) {
		f->m.xsocks = &f->xs;
		f->m.rtp.xs = f->xs.rtp;
		f->m.rtcp.xs = f->xs.rtcp;
		f->m.rtp.n_xs = f->m.rtcp.n_xs = (uint8_t)n_xs;
	}
	f->sm = secure_get(&f->m);
	assert_non_null(f->sm);
	f->sm->ice = calloc(1, sizeof(*f->sm->ice));
	assert_non_null(f->sm->ice);
	assert_int_equal(ice_agent_init(f->sm->ice, true, false, ICE_MAX_COMP), 0);
}

static void fixture_free(struct fixture *f)
{
	secure_free(f->sm);
}

/* Splits "a=candidate:F C UDP PRIO IP PORT typ host\r\n" lines. */
struct cand_line {
	char foundation[40], ip[48], typ[16];
	unsigned comp, port;
	uint32_t prio;
};

static unsigned parse_lines(const char *s, struct cand_line *out, unsigned max)
{
	unsigned n = 0;

	while (*s) {
		const char *eol = strstr(s, "\r\n");
		int used = 0;

		assert_non_null(eol);
		assert_true(n < max);
		assert_int_equal(sscanf(s, "a=candidate:%39s %u UDP %u %47s %u typ %15s%n",
					out[n].foundation, &out[n].comp, &out[n].prio, out[n].ip,
					&out[n].port, out[n].typ, &used), 6);
		assert_ptr_equal(s + used, eol);
		n++;
		s = eol + 2;
	}
	return n;
}

struct want_cand {
	unsigned comp;
	uint32_t prio;
	const char *ip;
	unsigned port;
};

/* rtpengine's lines for the fixture: component by component, addresses in order, local
 * preference 65535, 65534, ... */
static const struct want_cand want_both[] = {
	{ 1, 2130706431, "127.0.0.1", 30000 }, { 1, 2130706175, "127.0.0.5", 30100 },
	{ 1, 2130705919, "::1", 30200 },
	{ 2, 2130706430, "127.0.0.1", 30001 }, { 2, 2130706174, "127.0.0.5", 30101 },
	{ 2, 2130705918, "::1", 30201 },
};

static void check_lines(struct secure_media *sm, const struct want_cand *w, unsigned n)
{
	struct cand_line got[8];
	struct strbuf sb;
	unsigned i, j;

	sb_init(&sb);
	ice_cands_sdp(sm, &sb);
	assert_int_equal(parse_lines(sb.buf ? sb.buf : "", got, 8), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(got[i].comp, w[i].comp);
		assert_int_equal(got[i].prio, w[i].prio);
		assert_string_equal(got[i].ip, w[i].ip);
		assert_int_equal(got[i].port, w[i].port);
		assert_string_equal(got[i].typ, "host");
		/* one foundation per address, 16 letters and digits */
		assert_int_equal(strlen(got[i].foundation), 16);
		for (j = 0; j < i; j++)
			assert_int_equal(!strcmp(got[i].foundation, got[j].foundation),
					 !strcmp(got[i].ip, got[j].ip));
	}
	sb_free(&sb);
}

static void test_candidates(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 2);
	assert_int_equal(ice_cands_add(f.sm), 0);
	assert_int_equal(f.sm->ice->n_local, 6);
	check_lines(f.sm, want_both, ARRAY_SIZE(want_both));
	/* rtcp-mux settled: component 1 only */
	f.sm->ice->n_comp = 1;
	check_lines(f.sm, want_both, 3);
	fixture_free(&f);
}

static void test_single_address(void **state)
{
	static const struct want_cand w[] = {
		{ 1, 2130706431, "127.0.0.1", 30000 }, { 2, 2130706430, "127.0.0.1", 30001 },
	};
	struct fixture f;

	(void)state;
	fixture_init(&f, 0);
	assert_int_equal(ice_cands_add(f.sm), 0);
	check_lines(f.sm, w, ARRAY_SIZE(w));
	fixture_free(&f);
}

/* Every candidate names exactly one socket, and back. */
static void test_socket_mapping(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 2);
	assert_int_equal(ice_cands_add(f.sm), 0);
	for (unsigned c = 0; c < 2; c++) {
		struct stream *s = c ? &f.m.rtcp : &f.m.rtp;

		for (unsigned k = 0; k < 3; k++) {
			int li = ice_cands_local(f.sm, s, k);
			unsigned back = 99;

			assert_true(li >= 0);
			assert_ptr_equal(ice_cands_socket(f.sm, (unsigned)li, &back), s);
			assert_int_equal(back, k);
			/* the agent's candidate is that socket's address */
			assert_true(netaddr_eq(&f.sm->ice->local[li].addr, stream_sock_local(s, k)));
		}
		assert_int_equal(ice_cands_local(f.sm, s, 3), -1);
	}
	assert_null(ice_cands_socket(f.sm, 6, &(unsigned){ 0 }));
	ice_cands_reset(&f.sm->cands);
	assert_int_equal(ice_cands_local(f.sm, &f.m.rtp, 0), -1);
	assert_null(ice_cands_socket(f.sm, 0, &(unsigned){ 0 }));
	fixture_free(&f);
}

/* The media moved to ::1 (media_rebind): a new session toward the side, with the new
 * sockets' candidates, the peer's credentials and candidates kept; the foundation of an
 * address depends on the section's family. */
static void test_rebound(void **state)
{
	static const struct want_cand w[] = {
		{ 1, 2130706431, "::1", 31000 }, { 1, 2130706175, "127.0.0.1", 31100 },
		{ 2, 2130706430, "::1", 31001 }, { 2, 2130706174, "127.0.0.1", 31101 },
	};
	char uf[ICE_UFRAG_LEN + 1], f4[ICE_FOUNDATION_MAX + 1];
	struct ice_cand rc = { .component = 1, .priority = 100, .type = ICE_CAND_HOST,
			       .foundation = "x" };
	struct fixture f;

	(void)state;
	fixture_init(&f, 2);
	assert_int_equal(ice_agent_init(f.sm->ice, false, true, ICE_MAX_COMP), 0);  /* full */
	assert_int_equal(ice_cands_add(f.sm), 0);
	assert_int_equal(ice_set_remote_creds(f.sm->ice, "peer", 4, "0123456789abcdefghijkl", 22),
			 0);
	addr("::1", &rc.addr);
	netaddr_set_port(&rc.addr, 40000);
	assert_int_equal(ice_add_remote(f.sm->ice, &rc), 0);
	memcpy(uf, f.sm->ice->ufrag, sizeof(uf));
	memcpy(f4, f.sm->ice->local[f.sm->cands.idx[0][0]].foundation, sizeof(f4));
	/* socket 0 now on ::1:31000, one further socket on 127.0.0.1:31100 */
	f.m.iface = &ifs[1];
	f.m.port = 31000;
	f.xs.iface[0] = &ifs[0];
	f.xs.port[0] = 31100;
	f.xs.n = 1;
	f.m.rtp.n_xs = f.m.rtcp.n_xs = 1;
	assert_int_equal(ice_cands_rebound(f.sm), 0);
	assert_string_not_equal(f.sm->ice->ufrag, uf);
	assert_string_equal(f.sm->ice_ufrag, f.sm->ice->ufrag);
	assert_string_equal(f.sm->ice_pwd, f.sm->ice->pwd);
	assert_string_equal(f.sm->ice->rufrag, "peer");
	assert_int_equal(f.sm->ice->n_remote, 1);
	assert_int_equal(f.sm->ice->n_local, 4);
	assert_int_equal(f.sm->ice->n_pairs, 1);        /* the new ::1 RTP one with the peer's */
	assert_int_equal(ice_cands_local(f.sm, &f.m.rtp, 2), -1);
	check_lines(f.sm, w, ARRAY_SIZE(w));
	assert_string_not_equal(f.sm->ice->local[f.sm->cands.idx[0][1]].foundation, f4);
	/* no agent: the stored credentials go, the next agent makes new ones */
	free(f.sm->ice);
	f.sm->ice = NULL;
	assert_int_equal(ice_cands_rebound(f.sm), 0);
	assert_string_equal(f.sm->ice_ufrag, "");
	assert_int_equal(ice_cands_rebound(NULL), 0);
	fixture_free(&f);
}

struct tx_vec {
	uint8_t tx_sock;
	const char *dest;
	unsigned want;
};

static const struct tx_vec tx_vecs[] = {
	{ 0, "192.0.2.1:5000", 0 },
	{ 0, "[2001:db8::1]:5000", 2 },         /* IPv6 peer: the first IPv6 socket */
	{ 1, "192.0.2.1:5000", 1 },             /* heard on 127.0.0.5 */
	{ 2, "[2001:db8::1]:5000", 2 },
	{ 2, "192.0.2.1:5000", 0 },             /* family changed (new SDP): first IPv4 */
	{ 9, "192.0.2.1:5000", 0 },             /* out of range: socket 0 */
};

static void test_tx_socket(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f, 2);
	for (size_t i = 0; i < ARRAY_SIZE(tx_vecs); i++) {
		union sockaddr_u d;

		assert_int_equal(netaddr_parse(tx_vecs[i].dest, 0, false, &d), 0);
		f.m.rtp.tx_sock = tx_vecs[i].tx_sock;
		if (stream_tx_sock(&f.m.rtp, &d) != tx_vecs[i].want)
			fail_msg("vec %zu: socket %u, want %u", i, stream_tx_sock(&f.m.rtp, &d),
				 tx_vecs[i].want);
	}
	fixture_free(&f);
}

/* Media latching on socket 2 (::1) is answered from there; a reset goes back to 0. */
static void test_latch_socket(void **state)
{
	struct fixture f;
	union sockaddr_u src, d;
	uint8_t rtp[12] = { 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };

	(void)state;
	fixture_init(&f, 2);
	assert_int_equal(netaddr_parse("[::1]:40000", 0, false, &src), 0);
	f.m.rtp.advertised = src;
	f.m.rtp.has_advertised = true;
	f.m.rtp.rx_sock = 2;
	assert_int_equal(latch_packet(&f.m.rtp, &src, rtp, sizeof(rtp), 1000000, EL_IMMEDIATE),
			 LATCH_NEW);
	assert_int_equal(f.m.rtp.tx_sock, 2);
	assert_true(stream_dest(&f.m.rtp, &d) && netaddr_eq(&d, &src));
	assert_int_equal(stream_tx_sock(&f.m.rtp, &d), 2);
	/* the same source heard on socket 0 later does not move it */
	f.m.rtp.rx_sock = 0;
	assert_int_equal(latch_packet(&f.m.rtp, &src, rtp, sizeof(rtp), 1001000, EL_IMMEDIATE),
			 LATCH_OK);
	assert_int_equal(f.m.rtp.tx_sock, 2);
	latch_reset(&f.m.rtp);
	assert_int_equal(f.m.rtp.tx_sock, 0);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peers_order),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_single_address),
		cmocka_unit_test(test_socket_mapping),
		cmocka_unit_test(test_rebound),
		cmocka_unit_test(test_tx_socket),
		cmocka_unit_test(test_latch_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
