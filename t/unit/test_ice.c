/* ice: lite answers (right / wrong credentials, role), candidate lines, two full
 * agents over an in-memory network with virtual time (completion, nomination, role
 * conflict, peer-reflexive learning, loss, failure), ICE restart, consent freshness
 * (keepalives, loss and recovery), candidates trickled after checks started. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
}

/* ---- two agents over an in-memory network ---- */

struct net {
	struct ice_agent *ag[2];
	uint64_t now;
	unsigned drop_first;            /* drop this many datagrams */
	unsigned delivered, dropped;
	int blackhole;                  /* datagrams to agent blackhole - 1 vanish */
};

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
	assert_true(n.now > 15000 && n.now < 17000);    /* 250+500+1000+2000+4000*3 */
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
