/* ice: lite answers (right / wrong credentials, role), candidate lines, two full
 * agents over an in-memory network with virtual time (completion, nomination, role
 * conflict, peer-reflexive learning, loss, failure), ICE restart, consent freshness
 * (keepalives, loss and recovery), candidates trickled after checks started; the check
 * list of N local x M remote candidates (order, pacing, RTO, the checks' attributes),
 * regular nomination, switching lite <-> full, a nomination moved after completion. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/ice.h"

static union sockaddr_u addr(const char *s)
{
	union sockaddr_u a;

	assert_int_equal(netaddr_parse(s, 0, false, &a), 0);
	return a;
}

/* A peer's check for agent a (username "a.ufrag:peer"), keyed with pwd. */
static size_t peer_check(uint8_t *buf, size_t cap, const char *ufrag, const char *pwd,
			 bool controlling, uint64_t tb, bool use_cand, uint8_t tid[12])
{
	char user[64];
	struct stun_builder b;
	int n;

	snprintf(user, sizeof(user), "%s:peer", ufrag);
	assert_int_equal(stun_new_tid(tid), 0);
	stun_build_init(&b, buf, cap, STUN_BINDING_REQUEST, tid);
	stun_add_username(&b, user, strlen(user));
	stun_add_priority(&b, 1845501695);
	stun_add_ice_role(&b, controlling, tb);
	if (use_cand)
		stun_add_use_candidate(&b);
	stun_add_integrity(&b, pwd, strlen(pwd));
	stun_add_fingerprint(&b);
	n = stun_finish(&b);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_lite_answers(void **state)
{
	struct ice_agent a;
	struct ice_tx tx;
	struct stun_msg m;
	union sockaddr_u local = addr("127.0.0.1:30000"), from = addr("127.0.0.1:40000"), sel;
	uint8_t pkt[512], tid[12];
	size_t n;
	unsigned li;

	(void)state;
	assert_int_equal(ice_agent_init(&a, true, true, 1), 0);
	assert_false(a.controlling);            /* lite is always controlled */
	assert_int_equal(strlen(a.ufrag), ICE_UFRAG_LEN);
	assert_int_equal(strlen(a.pwd), ICE_PWD_LEN);
	assert_int_equal(ice_add_local(&a, 1, &local), 0);
	assert_int_equal(ice_poll(&a, 0, &tx), 0);
	assert_true(ice_next_timeout(&a) == UINT64_MAX);

	/* right credentials, not yet nominated */
	n = peer_check(pkt, sizeof(pkt), a.ufrag, a.pwd, true, 99, false, tid);
	assert_int_equal(ice_input(&a, 0, &from, pkt, n, 1000, &tx), 1);
	assert_int_equal(tx.local, 0);
	assert_true(netaddr_eq(&tx.to, &from));
	assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_memory_equal(m.tid, tid, 12);
	assert_true(m.has_mapped);
	assert_true(netaddr_eq(&m.mapped, &from));
	assert_true(m.has_fingerprint);
	assert_int_equal(stun_check_integrity(&m, a.pwd, strlen(a.pwd)), 0);
	assert_int_equal(ice_selected(&a, 1, NULL, NULL), -ENOENT);
	assert_int_equal(a.state, ICE_CHECKING);

	/* USE-CANDIDATE selects the pair */
	ice_take_events(&a);
	n = peer_check(pkt, sizeof(pkt), a.ufrag, a.pwd, true, 99, true, tid);
	assert_int_equal(ice_input(&a, 0, &from, pkt, n, 1020, &tx), 1);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(ice_take_events(&a), ICE_EV_STATE | ICE_EV_SELECTED);
	assert_int_equal(ice_selected(&a, 1, &li, &sel), 0);
	assert_int_equal(li, 0);
	assert_true(netaddr_eq(&sel, &from));
	assert_int_equal(a.stats.req_ok, 2);
	/* lite: no consent checks of its own, ever */
	assert_int_equal(ice_poll(&a, 100000, &tx), 0);
	assert_true(ice_next_timeout(&a) == UINT64_MAX);
	assert_int_equal(a.stats.checks_sent, 0);

	/* roaming: a nomination from elsewhere moves the selection */
	from = addr("127.0.0.1:40002");
	n = peer_check(pkt, sizeof(pkt), a.ufrag, a.pwd, true, 99, true, tid);
	assert_int_equal(ice_input(&a, 0, &from, pkt, n, 1040, &tx), 1);
	assert_int_equal(ice_take_events(&a), ICE_EV_SELECTED);
	assert_int_equal(ice_selected(&a, 1, NULL, &sel), 0);
	assert_true(netaddr_eq(&sel, &from));
}

static void expect_error(struct ice_agent *a, const uint8_t *pkt, size_t n, uint16_t code,
			 bool with_mi)
{
	union sockaddr_u from = addr("[::1]:40000");
	struct ice_tx tx;
	struct stun_msg m;

	assert_int_equal(ice_input(a, 0, &from, pkt, n, 5, &tx), 1);
	assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_ERROR);
	assert_true(m.has_error);
	assert_int_equal(m.error_code, code);
	assert_false(m.has_mapped);
	assert_int_equal(stun_check_integrity(&m, a->pwd, strlen(a->pwd)), with_mi ? 0 : -ENOENT);
}

static void test_lite_refuses(void **state)
{
	struct ice_agent a;
	union sockaddr_u local = addr("[::1]:30000");
	uint8_t pkt[512], tid[12];
	struct stun_builder b;
	size_t n;

	(void)state;
	assert_int_equal(ice_agent_init(&a, true, false, 1), 0);
	assert_int_equal(ice_add_local(&a, 1, &local), 0);

	n = peer_check(pkt, sizeof(pkt), a.ufrag, "wrong-password-123456789", true, 1, true, tid);
	expect_error(&a, pkt, n, 401, false);
	n = peer_check(pkt, sizeof(pkt), "nope", a.pwd, true, 1, true, tid);
	expect_error(&a, pkt, n, 401, false);
	assert_int_equal(a.stats.req_unauth, 2);

	/* no MESSAGE-INTEGRITY */
	stun_build_init(&b, pkt, sizeof(pkt), STUN_BINDING_REQUEST, tid);
	stun_add_username(&b, "x:y", 3);
	n = (size_t)stun_finish(&b);
	expect_error(&a, pkt, n, 400, false);

	/* a full peer that also claims the controlled role is told to switch */
	n = peer_check(pkt, sizeof(pkt), a.ufrag, a.pwd, false, 1, false, tid);
	expect_error(&a, pkt, n, 487, true);

	assert_int_equal(ice_selected(&a, 1, NULL, NULL), -ENOENT);
	assert_int_equal(a.state, ICE_NEW);
	assert_int_equal(a.stats.req_ok, 0);

	/* junk is dropped without an answer */
	memset(pkt, 0x80, 40);
	assert_int_equal(ice_input(&a, 0, &local, pkt, 40, 5, NULL), -EINVAL);
	assert_int_equal(ice_input(&a, 3, &local, pkt, n, 5, NULL), -EINVAL);
}

static void test_candidates(void **state)
{
	static const struct {
		const char *v;
		int ret;
		const char *ip;
		uint16_t port;
		uint8_t comp;
		enum ice_cand_type type;
		uint32_t prio;
	} cases[] = {
		{ "842163049 1 udp 1677729535 203.0.113.7 54400 typ srflx raddr 0.0.0.0 rport 0 "
		  "generation 0 network-cost 999", 0, "203.0.113.7", 54400, 1, ICE_CAND_SRFLX, 1677729535 },
		{ "1 2 UDP 2130706430 2001:db8::5 9 typ host", 0, "2001:db8::5", 9, 2, ICE_CAND_HOST, 2130706430 },
		{ "abc 1 UDP 16777215 198.51.100.1 3478 typ relay raddr 1.2.3.4 rport 5", 0,
		  "198.51.100.1", 3478, 1, ICE_CAND_RELAY, 16777215 },
		{ "1 1 TCP 2128609279 10.0.0.1 9 typ host tcptype active", -ENOTSUP },
		{ "1 1 UDP 2113937151 0b8e7a3c-6f12-4b0d.local 54321 typ host", -ENOTSUP },
		{ "1 1 UDP 2113937151 10.0.0.1 54321 typ nope", -EINVAL },
		{ "1 1 UDP 2113937151 10.0.0.1 54321", -EINVAL },
		{ "1 1 UDP 2113937151 10.0.0.1 65536 typ host", -EINVAL },
		{ "1 0 UDP 2113937151 10.0.0.1 5 typ host", -EINVAL },
		{ "1 1 UDP 4294967296 10.0.0.1 5 typ host", -EINVAL },
		{ "123456789012345678901234567890123 1 UDP 1 10.0.0.1 5 typ host", -EINVAL },
		{ "", -EINVAL },
	};
	struct ice_agent a;
	struct ice_cand c;
	char buf[ICE_CAND_MAX], ip[64];
	union sockaddr_u l1 = addr("203.0.113.1:30000"), l2 = addr("203.0.113.1:30001"),
		l3 = addr("[2001:db8::1]:30000");

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = ice_parse_candidate(cases[i].v, strlen(cases[i].v), &c);

		if (ret != cases[i].ret)
			fail_msg("case %u '%s': %d want %d", i + 1, cases[i].v, ret, cases[i].ret);
		if (ret)
			continue;
		assert_string_equal(netaddr_ntop(&c.addr, ip, sizeof(ip)), cases[i].ip);
		assert_int_equal(netaddr_port(&c.addr), cases[i].port);
		assert_int_equal(c.component, cases[i].comp);
		assert_int_equal(c.type, cases[i].type);
		assert_int_equal(c.priority, cases[i].prio);
	}

	assert_int_equal(ice_agent_init(&a, false, true, 2), 0);
	assert_int_equal(ice_add_local(&a, 1, &l1), 0);
	assert_int_equal(ice_add_local(&a, 2, &l2), 1);
	assert_int_equal(ice_add_local(&a, 1, &l3), 2);
	assert_int_equal(ice_add_local(&a, 3, &l3), -EINVAL);
	/* RFC 8445 5.1.2.1: (2^24)*126 + (2^8)*local_pref + (256 - component); the local
	 * preference goes by base address (65535 for the first), the foundation is
	 * rtpengine-like (16 letters and digits), the same for one address */
	assert_true(ice_format_candidate(&a, 0, buf, sizeof(buf)) > 0);
	assert_int_equal(strspn(buf, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"), 16);
	assert_string_equal(buf + 16, " 1 UDP 2130706431 203.0.113.1 30000 typ host");
	assert_true(ice_format_candidate(&a, 1, buf, sizeof(buf)) > 0);
	assert_string_equal(buf + 16, " 2 UDP 2130706430 203.0.113.1 30001 typ host");
	assert_string_equal(a.local[0].foundation, a.local[1].foundation);
	assert_true(ice_format_candidate(&a, 2, buf, sizeof(buf)) > 0);
	assert_string_equal(buf + 16, " 1 UDP 2130706175 2001:db8::1 30000 typ host");
	assert_int_equal(strlen(a.local[2].foundation), 16);
	assert_string_not_equal(a.local[0].foundation, a.local[2].foundation);
	assert_int_equal(ice_format_candidate(&a, 3, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ice_format_candidate(&a, 0, buf, 10), -ENOSPC);
	/* and our own lines parse back */
	assert_true(ice_format_candidate(&a, 2, buf, sizeof(buf)) > 0);
	assert_int_equal(ice_parse_candidate(buf, strlen(buf), &c), 0);
	assert_true(netaddr_eq(&c.addr, &l3));
	assert_int_equal(c.priority, a.local[2].priority);

	/* relay candidates (ICE=force-relay): type preference 0, the socket itself as the
	 * related address; the longest form fits ICE_CAND_MAX */
	assert_int_equal(ice_agent_init(&a, false, true, 2), 0);
	assert_int_equal(ice_add_local_type(&a, 1, &l1, ICE_CAND_RELAY), 0);
	assert_int_equal(ice_add_local_type(&a, 2, &l3, ICE_CAND_RELAY), 1);
	assert_int_equal(ice_add_local_type(&a, 1, &l1, ICE_CAND_SRFLX), -EINVAL);
	assert_true(ice_format_candidate(&a, 0, buf, sizeof(buf)) > 0);
	assert_string_equal(buf + 16, " 1 UDP 16777215 203.0.113.1 30000 typ relay "
			    "raddr 203.0.113.1 rport 30000");
	assert_true(ice_format_candidate(&a, 1, buf, sizeof(buf)) > 0);
	assert_string_equal(buf + 16, " 2 UDP 16776958 2001:db8::1 30000 typ relay "
			    "raddr 2001:db8::1 rport 30000");
	assert_int_equal(ice_parse_candidate(buf, strlen(buf), &c), 0);
	assert_int_equal(c.type, ICE_CAND_RELAY);
	assert_int_equal(c.priority, a.local[1].priority);
	l3 = addr("[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	assert_true(ice_add_local_type(&a, 2, &l3, ICE_CAND_RELAY) >= 0);
	memset(a.local[2].foundation, 'x', ICE_FOUNDATION_MAX);
	a.local[2].foundation[ICE_FOUNDATION_MAX] = '\0';
	a.local[2].priority = 4294967295u;
	assert_true(ice_format_candidate(&a, 2, buf, sizeof(buf)) > 0);
}

/* ---- two agents over an in-memory network ---- */

struct net {
	struct ice_agent *ag[2];
	uint64_t now;
	unsigned drop_first;            /* drop this many datagrams */
	unsigned delivered, dropped;
	int blackhole;                  /* datagrams to agent blackhole - 1 vanish */
	unsigned use_cand[2];           /* USE-CANDIDATE checks each agent sent ... */
	unsigned use_cand_early;        /* ... on a pair that was not valid yet */
};

/* Note the nominations agent k sends: each must be on a pair already valid (regular
 * nomination, RFC 8445 8.1.1). */
static void watch(struct net *n, int k, const struct ice_tx *tx)
{
	struct ice_agent *a = n->ag[k];
	struct stun_msg m;

	if (stun_parse(tx->buf, tx->len, &m) || m.type != STUN_BINDING_REQUEST || !m.use_candidate)
		return;
	n->use_cand[k]++;
	for (unsigned i = 0; i < a->n_pairs; i++)
		if (a->pairs[i].local == tx->local &&
		    netaddr_eq(&a->remote[a->pairs[i].remote].addr, &tx->to) && !a->pairs[i].valid)
			n->use_cand_early++;
}

static int find_agent(struct net *n, const union sockaddr_u *to, unsigned *li)
{
	for (int k = 0; k < 2; k++)
		for (unsigned i = 0; i < n->ag[k]->n_local; i++)
			if (netaddr_eq(&n->ag[k]->local[i].addr, to)) {
				*li = i;
				return k;
			}
	return -1;
}

/* Deliver one datagram from agent k, then its answer (if any), recursively. */
static void deliver(struct net *n, int k, const struct ice_tx *tx)
{
	const union sockaddr_u *from = &n->ag[k]->local[tx->local].addr;
	struct ice_tx reply;
	unsigned li = 0;
	int d;

	watch(n, k, tx);
	if (n->drop_first) {
		n->drop_first--;
		n->dropped++;
		return;
	}
	d = find_agent(n, &tx->to, &li);
	if (d < 0 || d == n->blackhole - 1) {   /* nobody there, or cut off */
		n->dropped++;
		return;
	}
	n->delivered++;
	if (ice_input(n->ag[d], li, from, tx->buf, tx->len, n->now, &reply) == 1)
		deliver(n, d, &reply);
}

/* Run until both agents are done (completed/failed) or limit_ms of virtual time. */
static void run(struct net *n, uint64_t limit_ms)
{
	struct ice_tx tx;

	while (n->now < limit_ms) {
		uint64_t next = UINT64_MAX;
		bool done = true;

		for (int k = 0; k < 2; k++)
			while (ice_poll(n->ag[k], n->now, &tx) == 1)
				deliver(n, k, &tx);
		for (int k = 0; k < 2; k++) {
			uint64_t t = ice_next_timeout(n->ag[k]);

			if (t < next)
				next = t;
			if (n->ag[k]->state != ICE_COMPLETED && n->ag[k]->state != ICE_FAILED)
				done = false;
		}
		if (done || next == UINT64_MAX)
			break;
		assert_true(next > n->now);     /* no busy loop: a due timer was served */
		n->now = next;
	}
}

/* Run both agents until `until` (virtual ms), never stopping early. */
static void advance(struct net *n, uint64_t until)
{
	struct ice_tx tx;

	for (;;) {
		uint64_t next = UINT64_MAX;

		for (int k = 0; k < 2; k++)
			while (ice_poll(n->ag[k], n->now, &tx) == 1)
				deliver(n, k, &tx);
		for (int k = 0; k < 2; k++) {
			uint64_t t = ice_next_timeout(n->ag[k]);

			if (t < next)
				next = t;
		}
		if (next > until)
			break;
		assert_true(next > n->now);
		n->now = next;
	}
	n->now = until;
}

static void setup_pair(struct ice_agent *a, struct ice_agent *b, bool a_ctl, bool b_ctl,
		       unsigned n_comp, bool b_knows_a)
{
	static const char *aaddr[] = { "127.0.0.1:31000", "127.0.0.1:31001", "[::1]:31000" };
	static const char *baddr[] = { "127.0.0.1:32000", "127.0.0.1:32001", "[::1]:32000" };
	struct ice_cand c;
	char line[ICE_CAND_MAX];

	assert_int_equal(ice_agent_init(a, false, a_ctl, n_comp), 0);
	assert_int_equal(ice_agent_init(b, false, b_ctl, n_comp), 0);
	for (unsigned i = 0; i < 3; i++) {
		unsigned comp = i == 1 ? 2 : 1;
		union sockaddr_u x = addr(aaddr[i]), y = addr(baddr[i]);

		if (comp > n_comp)
			continue;
		assert_true(ice_add_local(a, comp, &x) >= 0);
		assert_true(ice_add_local(b, comp, &y) >= 0);
	}
	/* exchange through the SDP text forms, as the relay will */
	assert_int_equal(ice_set_remote_creds(a, b->ufrag, strlen(b->ufrag), b->pwd, strlen(b->pwd)), 0);
	assert_int_equal(ice_set_remote_creds(b, a->ufrag, strlen(a->ufrag), a->pwd, strlen(a->pwd)), 0);
	for (unsigned i = 0; i < b->n_local; i++) {
		assert_true(ice_format_candidate(b, i, line, sizeof(line)) > 0);
		assert_int_equal(ice_parse_candidate(line, strlen(line), &c), 0);
		assert_int_equal(ice_add_remote(a, &c), 0);
	}
	for (unsigned i = 0; b_knows_a && i < a->n_local; i++) {
		assert_true(ice_format_candidate(a, i, line, sizeof(line)) > 0);
		assert_int_equal(ice_parse_candidate(line, strlen(line), &c), 0);
		assert_int_equal(ice_add_remote(b, &c), 0);
	}
}

/* Both completed, and each one's selected pair is the mirror of the other's. */
static void check_completed(struct ice_agent *a, struct ice_agent *b)
{
	assert_string_equal(ice_state_name(a->state), "completed");
	assert_string_equal(ice_state_name(b->state), "completed");
	for (unsigned c = 1; c <= a->n_comp; c++) {
		unsigned la, lb;
		union sockaddr_u ra, rb;

		assert_int_equal(ice_selected(a, c, &la, &ra), 0);
		assert_int_equal(ice_selected(b, c, &lb, &rb), 0);
		assert_true(netaddr_eq(&ra, &b->local[lb].addr));
		assert_true(netaddr_eq(&rb, &a->local[la].addr));
		assert_int_equal(a->local[la].component, c);
	}
	assert_true(a->controlling != b->controlling);
}

static void test_full_two_agents(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 1000, 0, 0, 0, 0 };
	union sockaddr_u r;

	(void)state;
	setup_pair(&a, &b, true, false, 2, true);
	assert_int_equal(a.n_pairs, 3);         /* v4 comp1, v4 comp2, v6 comp1 */
	assert_int_equal(a.state, ICE_CHECKING);
	run(&n, 20000);
	check_completed(&a, &b);
	assert_int_equal(ice_take_events(&a) & (ICE_EV_STATE | ICE_EV_SELECTED),
			 ICE_EV_STATE | ICE_EV_SELECTED);
	assert_int_equal(a.stats.req_unauth + b.stats.req_unauth, 0);
	assert_true(a.stats.checks_sent >= 3 && b.stats.checks_sent >= 3);
	assert_true(n.now < 2000);              /* no retransmission was needed */
	/* regular nomination: one USE-CANDIDATE check per component, each on a pair that
	 * was valid already; the controlled agent never sends one */
	assert_int_equal(n.use_cand[0], 2);
	assert_int_equal(n.use_cand[1], 0);
	assert_int_equal(n.use_cand_early, 0);
	/* nominated pair of component 1 is the higher-priority one (IPv4 added first) */
	assert_int_equal(ice_selected(&a, 1, NULL, &r), 0);
	assert_int_equal(r.sa.sa_family, AF_INET);
	assert_int_equal(netaddr_port(&r), 32000);
}

static void test_full_loss_and_prflx(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 4, 0, 0, 0 };

	(void)state;
	/* b has no candidates of a: it learns them as peer-reflexive from a's checks;
	 * the first datagrams are lost and must be retransmitted */
	setup_pair(&a, &b, true, false, 1, false);
	assert_int_equal(b.n_pairs, 0);
	run(&n, 30000);
	check_completed(&a, &b);
	assert_true(b.n_remote >= 1);       /* a may stop checking once completed */
	assert_int_equal(b.remote[0].type, ICE_CAND_PRFLX);
	assert_int_equal(n.dropped, 4);
}

static void test_full_role_conflict(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };

	(void)state;
	/* both think they are controlling: b has the larger tiebreaker and answers a's
	 * first check with 487; a switches */
	setup_pair(&a, &b, true, true, 1, true);
	a.tiebreaker = 1;
	b.tiebreaker = 2;
	run(&n, 20000);
	check_completed(&a, &b);
	assert_true(b.controlling);
	assert_int_equal(b.stats.req_bad, 1);
	assert_int_equal(a.stats.resp_err, 1);
	assert_true(ice_take_events(&a) & ICE_EV_ROLE);
	assert_false(ice_take_events(&b) & ICE_EV_ROLE);

	/* both controlled, a larger: b refuses a's check with 487, a takes control */
	n.now = 0;
	setup_pair(&a, &b, false, false, 2, true);
	a.tiebreaker = 2;
	b.tiebreaker = 1;
	run(&n, 20000);
	check_completed(&a, &b);
	assert_true(a.controlling);
	assert_int_equal(b.stats.req_bad, 1);
	assert_true(ice_take_events(&a) & ICE_EV_ROLE);

	/* both controlling, a larger: b gives in silently when a's check arrives */
	n.now = 0;
	setup_pair(&a, &b, true, true, 1, true);
	a.tiebreaker = 2;
	b.tiebreaker = 1;
	run(&n, 20000);
	check_completed(&a, &b);
	assert_true(a.controlling);
	assert_int_equal(a.stats.req_bad + b.stats.req_bad, 0);
	assert_true(ice_take_events(&b) & ICE_EV_ROLE);
}

static void test_full_fails(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 2 };

	(void)state;
	/* nothing reaches b: both of a's pairs time out */
	setup_pair(&a, &b, true, false, 1, false);
	run(&n, 60000);
	assert_int_equal(a.state, ICE_FAILED);
	assert_int_equal(a.n_pairs, 2);
	assert_int_equal(a.pairs[0].state, ICE_PAIR_FAILED);
	assert_int_equal(a.pairs[1].state, ICE_PAIR_FAILED);
	assert_int_equal(a.stats.checks_sent, 2 * ICE_MAX_TX);
	assert_int_equal(n.dropped, 2 * ICE_MAX_TX);
	/* RTO 500, doubling to 1600: 500 + 1000 + 5 x 1600 after the first check; the
	 * second pair started one Ta later */
	assert_int_equal(n.now, 9500 + ICE_TA_MS);
	assert_int_equal(ice_selected(&a, 1, NULL, NULL), -ENOENT);
	assert_int_equal(b.state, ICE_NEW);
}

static void test_restart(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	char ufrag[ICE_UFRAG_LEN + 1], pwd[ICE_PWD_LEN + 1];

	(void)state;
	setup_pair(&a, &b, true, false, 1, true);
	run(&n, 20000);
	check_completed(&a, &b);
	ice_take_events(&a);
	strcpy(ufrag, a.ufrag);
	strcpy(pwd, a.pwd);

	/* same credentials again (a re-offer without restart): nothing changes */
	assert_int_equal(ice_set_remote_creds(&a, b.ufrag, strlen(b.ufrag), b.pwd, strlen(b.pwd)), 0);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(ice_take_events(&a), 0);

	/* b restarts: new credentials; a must restart as well */
	assert_int_equal(ice_restart(&b), 0);
	assert_int_equal(ice_set_remote_creds(&a, b.ufrag, strlen(b.ufrag), b.pwd, strlen(b.pwd)), 1);
	assert_int_equal(ice_take_events(&a), ICE_EV_RESTART | ICE_EV_STATE | ICE_EV_SELECTED);
	assert_string_not_equal(a.ufrag, ufrag);
	assert_string_not_equal(a.pwd, pwd);
	assert_int_equal(a.state, ICE_NEW);
	assert_int_equal(a.n_remote, 0);
	assert_int_equal(ice_selected(&a, 1, NULL, NULL), -ENOENT);
	assert_int_equal(ice_set_remote_creds(&a, "", 0, "x", 1), -EINVAL);
	assert_int_equal(ice_set_remote_creds(&a, "a b", 3, "x", 1), -EINVAL);

	/* and they connect again with the new credentials and candidates */
	assert_int_equal(ice_set_remote_creds(&b, a.ufrag, strlen(a.ufrag), a.pwd, strlen(a.pwd)), 0);
	b.n_remote = 0;
	b.n_pairs = 0;
	for (unsigned i = 0; i < b.n_local; i++)
		assert_int_equal(ice_add_remote(&a, &b.local[i]), 0);
	for (unsigned i = 0; i < a.n_local; i++)
		assert_int_equal(ice_add_remote(&b, &a.local[i]), 0);
	n.now += 1000;
	run(&n, n.now + 20000);
	check_completed(&a, &b);
}

/* After selection the full agent checks consent on the selected pair every 4-6 s,
 * the peer answers, and nothing changes state. */
static void test_consent_keepalive(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	uint64_t t0;
	uint32_t sent = 0, resp;

	(void)state;
	setup_pair(&a, &b, true, false, 2, true);
	run(&n, 20000);
	check_completed(&a, &b);
	ice_take_events(&a);
	t0 = n.now;
	resp = a.stats.resp_ok;
	/* each component's first check is 4-6 s after its own selection (at or before t0) */
	for (unsigned c = 0; c < 2; c++) {
		assert_true(a.consent[c].fresh_ms <= t0);
		assert_true(a.consent[c].next_ms >= a.consent[c].fresh_ms + 4000);
		assert_true(a.consent[c].next_ms <= a.consent[c].fresh_ms + 6000);
	}
	assert_true(ice_next_timeout(&a) > t0 && ice_next_timeout(&a) <= t0 + 6000);
	/* step through 60 s, one consent check at a time */
	while (n.now < t0 + 60000) {
		advance(&n, ice_next_timeout(&a));
		if (a.stats.consent_sent == sent)
			continue;
		/* one per component, each on its own randomised schedule */
		sent = a.stats.consent_sent;
		assert_int_equal(a.state, ICE_COMPLETED);
	}
	/* 2 components x 60 s / (4..6 s) */
	assert_true(a.stats.consent_sent >= 2 * 10 - 2 && a.stats.consent_sent <= 2 * 15 + 2);
	assert_int_equal(a.stats.resp_ok - resp, a.stats.consent_sent);
	assert_int_equal(a.stats.consent_lost, 0);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(b.state, ICE_COMPLETED);
	assert_int_equal(ice_take_events(&a), 0);
	for (unsigned c = 0; c < 2; c++) {
		assert_false(a.consent[c].lost);
		assert_true(n.now - a.consent[c].fresh_ms <= 6000);
	}
	assert_int_equal(b.stats.req_unauth, 0);
	/* the controlled full agent checks consent too */
	assert_true(b.stats.consent_sent >= 2 * 10 - 2);
}

/* Consent checks, taken one by one from a's poll: on the selected pair, without
 * USE-CANDIDATE, 4-6 s apart, one per interval; 50 intervals are not all alike. */
static void test_consent_interval(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	struct ice_tx tx;
	struct stun_msg m;
	union sockaddr_u rsel;
	uint64_t prev, t, lo = UINT64_MAX, hi = 0;
	unsigned lsel;

	(void)state;
	setup_pair(&a, &b, true, false, 1, true);
	run(&n, 20000);
	check_completed(&a, &b);
	assert_int_equal(ice_selected(&a, 1, &lsel, &rsel), 0);
	prev = n.now;
	for (int i = 0; i < 50; i++) {
		t = ice_next_timeout(&a);
		assert_true(t > n.now);
		n.now = t;
		assert_int_equal(ice_poll(&a, n.now, &tx), 1);
		assert_int_equal(ice_poll(&a, n.now, &tx), 0);
		if (n.now - prev < lo)
			lo = n.now - prev;
		if (n.now - prev > hi)
			hi = n.now - prev;
		prev = n.now;
		a.consent[0].fresh_ms = n.now;  /* as if answered */
	}
	assert_true(lo >= 4000 && hi <= 6000 && hi - lo >= 200);
	assert_int_equal(a.stats.consent_sent, 50);
	/* the last one as it went out */
	assert_int_equal(tx.local, lsel);
	assert_true(netaddr_eq(&tx.to, &rsel));
	assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_false(m.use_candidate);
	assert_true(stun_username_is_for(&m, b.ufrag));
	assert_int_equal(stun_check_integrity(&m, b.pwd, strlen(b.pwd)), 0);
}

/* No response for ICE_CONSENT_LOST_MS: disconnected (event raised); checks go on and a
 * response makes it completed again. */
static void test_consent_lost(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	uint64_t fresh;
	uint32_t sent;

	(void)state;
	setup_pair(&a, &b, true, false, 1, true);
	run(&n, 20000);
	check_completed(&a, &b);
	advance(&n, n.now + 7000);              /* one good consent round */
	assert_true(a.stats.consent_sent >= 1);
	ice_take_events(&a);
	fresh = a.consent[0].fresh_ms;
	assert_true(fresh > 0 && fresh <= n.now);
	n.blackhole = 2;                        /* b is gone */
	advance(&n, fresh + ICE_CONSENT_LOST_MS - 1);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(a.consent[0].fresh_ms, fresh);
	sent = a.stats.consent_sent;
	assert_true(sent >= 2);                 /* checks went on, unanswered */
	advance(&n, fresh + ICE_CONSENT_LOST_MS);
	assert_int_equal(a.state, ICE_DISCONNECTED);
	assert_string_equal(ice_state_name(a.state), "disconnected");
	assert_int_equal(ice_take_events(&a), ICE_EV_STATE);
	assert_int_equal(a.stats.consent_lost, 1);
	assert_int_equal(ice_selected(&a, 1, NULL, NULL), 0);  /* the caller decides */
	/* still checking while disconnected */
	advance(&n, n.now + 13000);
	assert_true(a.stats.consent_sent >= sent + 2);
	assert_int_equal(a.state, ICE_DISCONNECTED);
	assert_int_equal(a.stats.consent_lost, 1);
	/* b is back: the next answered check restores the state */
	n.blackhole = 0;
	advance(&n, n.now + 6000);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(ice_take_events(&a), ICE_EV_STATE);
	assert_true(n.now - a.consent[0].fresh_ms <= 6000);
	/* an ICE restart stops consent until a new selection */
	assert_int_equal(ice_restart(&a), 0);
	assert_true(ice_next_timeout(&a) == UINT64_MAX);
}

/* Trickle: candidates that arrive after the checks started, even after they all
 * failed, are paired and checked. */
static void test_trickle_after_checks(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	union sockaddr_u la = addr("127.0.0.1:31000"), lb = addr("127.0.0.1:32000");
	struct ice_cand bogus, c;
	char line[ICE_CAND_MAX];

	(void)state;
	assert_int_equal(ice_agent_init(&a, false, true, 1), 0);
	assert_int_equal(ice_agent_init(&b, false, false, 1), 0);
	assert_int_equal(ice_add_local(&a, 1, &la), 0);
	assert_int_equal(ice_add_local(&b, 1, &lb), 0);
	assert_int_equal(ice_set_remote_creds(&a, b.ufrag, strlen(b.ufrag), b.pwd, strlen(b.pwd)), 0);
	assert_int_equal(ice_set_remote_creds(&b, a.ufrag, strlen(a.ufrag), a.pwd, strlen(a.pwd)), 0);
	/* the SDP had one unreachable candidate: every check fails */
	assert_int_equal(ice_parse_candidate("1 1 UDP 2130706431 127.0.0.1 39999 typ host", 43,
					     &bogus), 0);
	assert_int_equal(ice_add_remote(&a, &bogus), 0);
	run(&n, 60000);
	assert_int_equal(a.state, ICE_FAILED);
	assert_true(ice_next_timeout(&a) == UINT64_MAX);
	ice_take_events(&a);

	/* b's candidate trickles in: checking again, and it connects */
	assert_true(ice_format_candidate(&b, 0, line, sizeof(line)) > 0);
	assert_int_equal(ice_parse_candidate(line, strlen(line), &c), 0);
	assert_int_equal(ice_add_remote(&a, &c), 0);
	assert_int_equal(a.n_pairs, 2);
	assert_int_equal(a.state, ICE_CHECKING);
	assert_int_equal(ice_take_events(&a), ICE_EV_STATE);
	assert_true(ice_next_timeout(&a) <= n.now + ICE_TA_MS);
	run(&n, n.now + 20000);
	check_completed(&a, &b);
	assert_int_equal(b.remote[0].type, ICE_CAND_PRFLX);     /* b had no candidate of a */

	/* and one more in the middle of checking: paired at once, checked next */
	assert_int_equal(ice_restart(&a), 0);
	assert_int_equal(ice_set_remote_creds(&a, b.ufrag, strlen(b.ufrag), b.pwd, strlen(b.pwd)), 0);
	assert_int_equal(ice_add_remote(&a, &bogus), 0);
	advance(&n, n.now + 1000);
	assert_int_equal(a.state, ICE_CHECKING);
	assert_int_equal(ice_add_remote(&a, &c), 0);
	assert_int_equal(a.n_pairs, 2);
	assert_int_equal(a.pairs[1].state, ICE_PAIR_WAITING);
}


/* Pair priority per RFC 8445 6.1.2.3, computed here on its own: G the controlling
 * side's candidate priority, D the controlled side's. */
static uint64_t rfc_pair_prio(uint32_t g, uint32_t d)
{
	uint64_t lo = g < d ? g : d, hi = g > d ? g : d;

	return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

static struct ice_cand rcand(const char *a, unsigned comp, uint32_t prio)
{
	struct ice_cand c;

	memset(&c, 0, sizeof(c));
	c.addr = addr(a);
	c.component = (uint8_t)comp;
	c.priority = prio;
	c.type = ICE_CAND_HOST;
	strcpy(c.foundation, "x");
	return c;
}

/* N local x M remote: pairs only within a component and an address family; checks go
 * out one per Ta in descending pair priority, each built right (USERNAME, role with
 * tiebreaker, PRIORITY, integrity with the peer's password, FINGERPRINT, no
 * USE-CANDIDATE yet); the first retransmission comes at max(500 ms, Ta x checks). */
static void test_checklist_order_and_pacing(void **state)
{
	static const char *locals[][2] = { { "1", "127.0.0.1:31000" }, { "1", "127.0.0.2:31000" },
					   { "2", "127.0.0.1:31001" }, { "1", "[::1]:31000" } };
	static const struct { const char *a; unsigned comp; uint32_t prio; } remotes[] = {
		{ "127.0.0.9:41002", 1, 1694498815 }, { "127.0.0.1:41000", 1, 2130706431 },
		{ "127.0.0.10:41004", 1, 16777215 }, { "127.0.0.1:41001", 2, 2130706430 },
		{ "[::1]:41000", 1, 2130706175 },
	};
	struct ice_agent a;
	struct ice_tx tx;
	struct stun_msg m;
	uint64_t prev = UINT64_MAX, t;
	uint8_t first_tid[STUN_TID_LEN];
	unsigned sent = 0;

	(void)state;
	assert_int_equal(ice_agent_init(&a, false, true, 2), 0);
	a.tiebreaker = 0x0102030405060708ull;
	for (unsigned i = 0; i < 4; i++) {
		union sockaddr_u la = addr(locals[i][1]);

		assert_int_equal(ice_add_local(&a, (unsigned)atoi(locals[i][0]), &la), (int)i);
	}
	assert_int_equal(ice_find_local(&a, 2, &a.local[2].addr), 2);
	assert_int_equal(ice_find_local(&a, 1, &a.local[2].addr), -ENOENT);
	assert_int_equal(ice_set_remote_creds(&a, "peer", 4, "peerpassword0123456789", 22), 0);
	for (unsigned i = 0; i < 5; i++) {
		struct ice_cand c = rcand(remotes[i].a, remotes[i].comp, remotes[i].prio);

		assert_int_equal(ice_add_remote(&a, &c), 0);
	}
	/* v4 comp 1: 2 x 3, comp 2: 1 x 1, v6 comp 1: 1 x 1 */
	assert_int_equal(a.n_pairs, 8);
	assert_int_equal(a.state, ICE_CHECKING);
	for (t = 1000; sent < a.n_pairs; t += ICE_TA_MS) {
		const struct ice_pair *p = NULL;
		uint64_t prio;

		assert_int_equal(ice_poll(&a, t, &tx), 1);
		assert_int_equal(ice_poll(&a, t, &tx), 0);      /* one per Ta */
		assert_true(ice_next_timeout(&a) == t + ICE_TA_MS || sent + 1 == a.n_pairs);
		for (unsigned i = 0; i < a.n_pairs; i++)
			if (a.pairs[i].local == tx.local &&
			    netaddr_eq(&a.remote[a.pairs[i].remote].addr, &tx.to))
				p = &a.pairs[i];
		assert_non_null(p);
		assert_int_equal(p->state, ICE_PAIR_IN_PROGRESS);
		prio = rfc_pair_prio(a.local[p->local].priority, a.remote[p->remote].priority);
		assert_true(prio <= prev);              /* descending */
		prev = prio;
		assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
		assert_int_equal(m.type, STUN_BINDING_REQUEST);
		assert_int_equal(m.username_len, 4 + 1 + ICE_UFRAG_LEN);
		assert_memory_equal(m.username, "peer:", 5);
		assert_memory_equal(m.username + 5, a.ufrag, ICE_UFRAG_LEN);
		assert_true(m.controlling && !m.controlled && !m.use_candidate);
		assert_true(m.tiebreaker == 0x0102030405060708ull);
		assert_true(m.has_priority);
		assert_int_equal(m.priority, (110u << 24) | (a.local[p->local].priority & 0xffff00) |
				 (256u - a.local[p->local].component));
		assert_true(m.has_fingerprint);
		assert_int_equal(stun_check_integrity(&m, "peerpassword0123456789", 22), 0);
		if (!sent)
			memcpy(first_tid, m.tid, STUN_TID_LEN);
		sent++;
	}
	/* the first check went out at 1000 with 8 pairs to check: RTO max(500, 8 x 20) */
	assert_true(ice_next_timeout(&a) == 1500);
	assert_int_equal(ice_poll(&a, 1499, &tx), 0);
	assert_int_equal(ice_poll(&a, 1500, &tx), 1);
	assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
	assert_memory_equal(m.tid, first_tid, STUN_TID_LEN);    /* same transaction */
	assert_int_equal(a.stats.checks_sent, 9);

	/* a long list waits longer: 30 pairs, Ta x 30 = 600 ms */
	assert_int_equal(ice_agent_init(&a, false, false, 1), 0);
	{
		union sockaddr_u la = addr("127.0.0.1:31000");

		assert_int_equal(ice_add_local(&a, 1, &la), 0);
	}
	assert_int_equal(ice_set_remote_creds(&a, "peer", 4, "peerpassword0123456789", 22), 0);
	for (unsigned i = 0; i < 30; i++) {
		char buf[32];
		struct ice_cand c;

		snprintf(buf, sizeof(buf), "127.0.1.%u:40000", i + 1);
		c = rcand(buf, 1, 1000 + i);
		assert_int_equal(ice_add_remote(&a, &c), 0);
	}
	assert_int_equal(ice_poll(&a, 0, &tx), 1);
	assert_true(a.pairs[29].state == ICE_PAIR_IN_PROGRESS);        /* highest first */
	assert_int_equal(a.pairs[29].rto_ms, 30 * ICE_TA_MS);
}

/* lite <-> full in place: a lite agent that was nominated turns full: it pairs the
 * candidates it knows, keeps the selection and starts consent; back to lite it drops
 * the list and answers only. The role follows (lite: controlled; full toward a lite
 * peer: controlling). */
static void test_set_mode(void **state)
{
	struct ice_agent a;
	struct ice_tx tx;
	union sockaddr_u la = addr("127.0.0.1:30000"), from = addr("127.0.0.1:40000"), sel;
	struct ice_cand c = rcand("127.0.0.1:40000", 1, 2130706431);
	struct stun_msg m;
	uint8_t pkt[512], tid[12];
	size_t n;

	(void)state;
	assert_int_equal(ice_agent_init(&a, true, false, 1), 0);
	assert_int_equal(ice_add_local(&a, 1, &la), 0);
	assert_int_equal(ice_set_remote_creds(&a, "peer", 4, "peerpassword0123456789", 22), 0);
	assert_int_equal(ice_add_remote(&a, &c), 0);
	assert_int_equal(a.n_pairs, 0);                 /* lite: no check list */
	n = peer_check(pkt, sizeof(pkt), a.ufrag, a.pwd, true, 99, true, tid);
	assert_int_equal(ice_input(&a, 0, &from, pkt, n, 100, &tx), 1);
	assert_int_equal(a.state, ICE_COMPLETED);
	ice_take_events(&a);

	ice_set_mode(&a, false, true);
	assert_false(a.lite);
	assert_true(a.controlling);
	assert_int_equal(ice_take_events(&a), ICE_EV_ROLE);
	assert_int_equal(a.n_pairs, 1);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(ice_selected(&a, 1, NULL, &sel), 0);
	assert_true(netaddr_eq(&sel, &from));
	/* consent starts at the next poll: fresh from then, first check 4-6 s later */
	assert_true(ice_next_timeout(&a) == 0);
	assert_int_equal(ice_poll(&a, 2000, &tx), 0);
	assert_true(ice_next_timeout(&a) >= 6000 && ice_next_timeout(&a) <= 8000);
	assert_int_equal(ice_poll(&a, ice_next_timeout(&a), &tx), 1);
	assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
	assert_true(m.controlling && !m.use_candidate);
	assert_true(netaddr_eq(&tx.to, &from));
	assert_int_equal(a.stats.consent_sent, 1);

	ice_set_mode(&a, true, true);                   /* a lite agent never controls */
	assert_true(a.lite);
	assert_false(a.controlling);
	assert_int_equal(a.n_pairs, 0);
	assert_true(ice_next_timeout(&a) == UINT64_MAX);
	assert_int_equal(ice_poll(&a, 100000, &tx), 0);
	assert_int_equal(ice_selected(&a, 1, NULL, NULL), 0);

	/* facing a lite peer a full agent controls whatever it is told */
	ice_set_remote_lite(&a);
	assert_false(a.controlling);
	ice_set_mode(&a, false, false);
	assert_true(a.controlling);
}

/* After completion a controlled agent checks nothing new, except a pair the
 * controlling peer nominates anew (it moved): that one is checked at once and, valid,
 * becomes the selected pair. */
static void test_nomination_moves_after_completion(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	union sockaddr_u moved = addr("127.0.0.1:31999"), sel;
	struct ice_tx tx, reply;
	struct stun_msg m;
	struct stun_builder sb;
	uint8_t pkt[512], tid[12];
	size_t len;
	int r;

	(void)state;
	setup_pair(&a, &b, true, false, 1, true);
	run(&n, 20000);
	check_completed(&a, &b);
	ice_take_events(&b);
	/* a plain check from elsewhere: answered, nothing checked back */
	len = peer_check(pkt, sizeof(pkt), b.ufrag, b.pwd, true, a.tiebreaker, false, tid);
	assert_int_equal(ice_input(&b, 0, &moved, pkt, len, n.now, &tx), 1);
	assert_int_equal(ice_poll(&b, n.now + 1000, &tx), 0);
	/* the same with USE-CANDIDATE: b checks it back at once */
	len = peer_check(pkt, sizeof(pkt), b.ufrag, b.pwd, true, a.tiebreaker, true, tid);
	assert_int_equal(ice_input(&b, 0, &moved, pkt, len, n.now + 1000, &tx), 1);
	assert_int_equal(ice_selected(&b, 1, NULL, &sel), 0);
	assert_false(netaddr_eq(&sel, &moved));         /* not before b's own check */
	assert_int_equal(ice_poll(&b, n.now + 1000, &tx), 1);
	assert_true(netaddr_eq(&tx.to, &moved));
	assert_int_equal(stun_parse(tx.buf, tx.len, &m), 0);
	assert_true(m.controlled && !m.use_candidate);
	/* answer it as the peer would, from the moved address */
	stun_build_init(&sb, pkt, sizeof(pkt), STUN_BINDING_SUCCESS, m.tid);
	stun_add_xor_mapped(&sb, &b.local[0].addr);
	stun_add_integrity(&sb, a.pwd, strlen(a.pwd));
	stun_add_fingerprint(&sb);
	r = stun_finish(&sb);
	assert_true(r > 0);
	assert_int_equal(ice_input(&b, 0, &moved, pkt, (size_t)r, n.now + 1010, &reply), 0);
	assert_int_equal(ice_take_events(&b), ICE_EV_SELECTED);
	assert_int_equal(ice_selected(&b, 1, NULL, &sel), 0);
	assert_true(netaddr_eq(&sel, &moved));
	assert_int_equal(b.state, ICE_COMPLETED);
}

/* Regular nomination waits for a better pair: the best candidate of b is unreachable,
 * so a nominates the valid one ICE_NOMINATE_WAIT_MS after it became valid (while the
 * better pair is still being retransmitted), once, and b selects it. */
static void test_nomination_waits_for_better(void **state)
{
	struct ice_agent a, b;
	struct net n = { { &a, &b }, 0, 0, 0, 0, 0 };
	union sockaddr_u la = addr("127.0.0.1:31000"), lb = addr("127.0.0.1:32000"), sel;
	struct ice_cand dead = rcand("127.0.0.1:39999", 1, 2130706431),
		real = rcand("127.0.0.1:32000", 1, 2000000000);

	(void)state;
	assert_int_equal(ice_agent_init(&a, false, true, 1), 0);
	assert_int_equal(ice_agent_init(&b, false, false, 1), 0);
	assert_int_equal(ice_add_local(&a, 1, &la), 0);
	assert_int_equal(ice_add_local(&b, 1, &lb), 0);
	assert_int_equal(ice_set_remote_creds(&a, b.ufrag, strlen(b.ufrag), b.pwd, strlen(b.pwd)), 0);
	assert_int_equal(ice_set_remote_creds(&b, a.ufrag, strlen(a.ufrag), a.pwd, strlen(a.pwd)), 0);
	assert_int_equal(ice_add_remote(&a, &dead), 0);
	assert_int_equal(ice_add_remote(&a, &real), 0);
	/* 0: the dead pair is checked first; 20: the real one, valid at once */
	advance(&n, ICE_TA_MS + ICE_NOMINATE_WAIT_MS - 1);
	assert_int_equal(a.valid_since[0], ICE_TA_MS);
	assert_int_equal(n.use_cand[0], 0);
	assert_int_equal(a.pairs[0].state, ICE_PAIR_IN_PROGRESS);      /* dead, retried */
	assert_true(a.pairs[0].tx >= 2);
	assert_int_equal(ice_next_timeout(&a), ICE_TA_MS + ICE_NOMINATE_WAIT_MS);
	advance(&n, ICE_TA_MS + ICE_NOMINATE_WAIT_MS);
	assert_int_equal(n.use_cand[0], 1);
	assert_int_equal(n.use_cand_early, 0);
	assert_int_equal(a.state, ICE_COMPLETED);
	assert_int_equal(b.state, ICE_COMPLETED);
	assert_int_equal(ice_selected(&a, 1, NULL, &sel), 0);
	assert_true(netaddr_eq(&sel, &lb));
	/* the dead pair is not nominated later, even when it would answer now */
	advance(&n, 20000);
	assert_int_equal(n.use_cand[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lite_answers),
		cmocka_unit_test(test_lite_refuses),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_full_two_agents),
		cmocka_unit_test(test_full_loss_and_prflx),
		cmocka_unit_test(test_full_role_conflict),
		cmocka_unit_test(test_full_fails),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_consent_keepalive),
		cmocka_unit_test(test_consent_interval),
		cmocka_unit_test(test_consent_lost),
		cmocka_unit_test(test_trickle_after_checks),
		cmocka_unit_test(test_checklist_order_and_pacing),
		cmocka_unit_test(test_set_mode),
		cmocka_unit_test(test_nomination_moves_after_completion),
		cmocka_unit_test(test_nomination_waits_for_better),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
