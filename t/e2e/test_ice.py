"""ICE in sluiced: a full agent (RFC 8445) toward every side that does ICE, facing a
full ICE peer written in Python (ice_peer.py).

- SDP: sluiced's own credentials and host candidates, no a=ice-lite (as rtpengine);
- as controlled agent (the side offered): no checks before the answer, then paced
  checks to each of the side's candidates in pair priority order, with USERNAME
  "their-ufrag:our-ufrag", the side's password as MESSAGE-INTEGRITY key,
  ICE-CONTROLLED, PRIORITY and FINGERPRINT; the side's checks are answered (401 for
  wrong credentials) and trigger a check back (a peer-reflexive candidate), and the
  pair the side nominates carries the media;
- as controlling agent (sluiced sent the offer): checks, then USE-CANDIDATE on the best
  valid pair only (regular nomination), media to it;
- role conflicts (487) both ways, retransmissions of an unanswered check;
- the ICE-lite key (forward, backward, off) and a lite peer."""

import time

import pytest

from calls import Call, ok, wait_for
from ice_peer import IcePeer
from rtp import drain, recv_all, udp_socket
from secure_peer import stun_check_integrity, stun_error_code, stun_parse, stun_success

pytestmark = pytest.mark.sluice_only

A_UFRAG, A_PWD = "Fq4z", "mQ9ZbXmS8nE2cYzKpJ0Qe7Lx"      # rtp.Phone.sdp(ice=True)
B_UFRAG, B_PWD = "Bfll", "bbbbbbbbbbbbbbbbbbbbbbbb"
HOST1, HOST2, SRFLX = 2130706431, 2130706430, 1694498815


def prflx_priority(comp):
	"""The PRIORITY sluiced's checks carry: peer-reflexive type preference 110, the
	local preference of its first address (65535), 256 - component."""
	return 110 << 24 | 65535 << 8 | (256 - comp)


def media0(reply, tag_):
	return reply["tags"][tag_]["medias"][0]


def ice_state(c, tag_):
	return media0(ok(c.query()), tag_)["ICE"]


def creds(sdp, i=0):
	return (sdp.attrs(i, "ice-ufrag") or sdp.attrs(None, "ice-ufrag"))[0], \
		(sdp.attrs(i, "ice-pwd") or sdp.attrs(None, "ice-pwd"))[0]


def ice_sdp(phone, ufrag, pwd, cands, mux=False, lite=False):
	"""phone.sdp() with ICE: cands are (foundation, component, priority, socket, type)."""
	lines = phone.sdp().rstrip("\r\n").split("\r\n")
	if lite:
		lines.insert(lines.index("t=0 0") + 1, "a=ice-lite")
	if mux:
		lines.append("a=rtcp-mux")
	lines += ["a=ice-ufrag:" + ufrag, "a=ice-pwd:" + pwd]
	for f, comp, prio, sock, typ in cands:
		host, port = sock.getsockname()[:2]
		lines.append("a=candidate:%s %d UDP %d %s %d typ %s" % (f, comp, prio, host, port, typ))
	return "\r\n".join(lines) + "\r\n"


def answered_check(peer, sock, dest, **kw):
	"""Our check from sock to dest and sluiced's response to it (checks sluiced sends
	meanwhile are answered and kept)."""
	tid = peer.check(sock, dest, **kw)
	got = peer.response(tid)
	assert got, "no STUN response from sluiced"
	return got


def ice_call(relay, **offer_kw):
	"""A offers full ICE with its two host candidates; B is plain."""
	c = Call(relay)
	c.offer(sdp=c.a.sdp(ice=True), **offer_kw)
	c.answer()
	return c


def test_ice_sdp_lines(relay):
	r = relay()
	c = ice_call(r)
	a, o = c.answer_reply, c.offer_reply
	# full ICE both ways: no a=ice-lite at session or media level (as rtpengine)
	for s in (a, o):
		assert "a=ice-lite" not in s.text, s.text
	uf, pw = creds(a)
	assert len(uf) >= 4 and len(pw) >= 22 and uf != A_UFRAG
	cands = [v.split() for v in a.attrs(0, "candidate")]
	# one host candidate per component, on sluiced's address and ports; none of A's
	assert sorted((int(f[1]), f[4], int(f[5]), f[7]) for f in cands) == \
		[(1, "127.0.0.1", a.port(), "host"), (2, "127.0.0.1", a.rtcp_port(), "host")]
	assert "127.0.0.7" not in a.text
	# default policy: the offer had ICE, so B is offered sluiced's ICE too
	assert creds(o)[0] != uf and o.attrs(0, "candidate")
	assert "127.0.0.7" not in o.text and "Fq4z" not in o.text
	c.close()


def test_ice_remove_toward_b(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(ice=True), ICE="remove")
	assert not any(l.startswith(("a=ice", "a=candidate")) for l in c.offer_reply.lines)
	c.close()


def test_ice_remove_both_ways_trickle(relay):
	"""ICE=remove in offer and answer: no ICE toward either side; toward the offerer,
	which trickles, only a=ice-options:trickle and a=end-of-candidates remain, without
	credentials or candidates (as rtpengine writes it), and media flows by c=/m=."""
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(ice=True) + "a=ice-options:trickle\r\n", ICE="remove")
	assert not [l for l in c.offer_reply.lines if l.startswith(("a=ice", "a=candidate",
								     "a=end-of-candidates"))]
	c.answer(ICE="remove")
	a = c.answer_reply
	assert [l for l in a.lines if l.startswith(("a=ice", "a=candidate", "a=end-of"))] == \
		["a=ice-options:trickle", "a=end-of-candidates"]
	sent = c.a.send_rtp(c.a_dest(), n=5, pps=100)
	assert sorted(d for d, _ in recv_all(c.b.rtp, timeout=1, count=5)) == sorted(sent)
	c.close()


def test_ice_force_toward_plain_side(relay):
	r = relay()
	c = Call(r)
	c.offer(ICE="force")
	assert c.offer_reply.attrs(0, "candidate") and creds(c.offer_reply)
	assert "a=ice-lite" not in c.offer_reply.text
	c.close()


def test_stun_credentials(relay):
	r = relay()
	c = ice_call(r)
	uf, pw = creds(c.answer_reply)
	peer = IcePeer([c.a.rtp, c.a.rtcp], A_UFRAG, A_PWD, controlling=True)
	peer.set_remote(uf, pw)
	# right credentials: success, integrity with sluiced's password, our mapped address
	msg, data, src, _ = answered_check(peer, c.a.rtp, c.a_dest())
	assert msg["type"] == 0x0101 and src == c.a_dest()
	assert stun_check_integrity(data, pw)
	assert 0x8028 in msg["attrs"]
	from secure_peer import xor_mapped
	assert xor_mapped(msg) == c.a.rtp.getsockname()
	# wrong password, wrong ufrag, no integrity at all: 401 (400 is allowed without MI)
	for rufrag, rpwd, codes in [(uf, "x" * 24, (401,)), ("nope", pw, (401,))]:
		peer.set_remote(rufrag, rpwd)
		msg, _, _, _ = answered_check(peer, c.a.rtp, c.a_dest())
		assert msg["type"] == 0x0111 and stun_error_code(msg) in codes, (rufrag, rpwd)
	from secure_peer import stun_request
	tid, req = stun_request("%s:%s" % (uf, A_UFRAG), pw, integrity=False)
	c.a.rtp.sendto(req, c.a_dest())
	msg = peer.response(tid)[0]
	assert msg["type"] == 0x0111 and stun_error_code(msg) in (400, 401)
	ice = ice_state(c, c.ftag)
	assert ice["checks answered"] == 1
	assert ice["checks unauthorized"] >= 2
	assert ice["mode"] == "controlled"
	# STUN is not media: the RTP counters did not move
	assert media0(ok(c.query()), c.ftag)["streams"][0]["stats"]["packets"] == 0
	c.close()


def test_controlled_checks_triggered_and_nominated(relay):
	"""A offered: sluiced is controlled toward A. No checks before the answer; then one
	check per A candidate, paced, in pair priority order, correctly built. A nominates a
	pair from a NAT binding (a peer-reflexive candidate): sluiced checks it back
	(triggered), selects it, and media to A goes there."""
	r = relay()
	c = Call(r)
	x = udp_socket()                # A's third candidate, of lower priority
	nat = udp_socket()              # A's NAT binding, not in SDP
	peer = IcePeer([c.a.rtp, c.a.rtcp, x, nat], A_UFRAG, A_PWD, controlling=True)
	c.offer(sdp=ice_sdp(c.a, A_UFRAG, A_PWD, [("1", 1, HOST1, c.a.rtp, "host"),
						  ("1", 2, HOST2, c.a.rtcp, "host"),
						  ("2", 1, SRFLX, x, "srflx")]))
	peer.pump(0.4)
	assert peer.checks == [], "checks before sluiced's answer reached A"
	c.answer()
	uf, pw = creds(c.answer_reply)
	peer.set_remote(uf, pw)
	peer.pump(2.0, lambda: len({id(k.sock) for k in peer.checks}) == 3)
	assert peer.bad == [], [k.username for k in peer.bad]
	first = {}
	for k in peer.checks:
		first.setdefault(id(k.sock), k)
	order = sorted(first.values(), key=lambda k: k.t)
	assert [k.sock for k in order] == [c.a.rtp, c.a.rtcp, x]
	gaps = [b.t - a.t for a, b in zip(order, order[1:])]
	# Ta = 20 ms: paced by the ICE timer, not by the 100 ms tick
	assert all(0.012 <= g <= 0.07 for g in gaps), gaps
	for k in order:
		assert k.username == "%s:%s" % (A_UFRAG, uf)
		assert k.controlled and not k.controlling and not k.use_candidate
		assert k.fingerprint_ok
		assert k.src == c.a_dest(rtcp=k.sock is c.a.rtcp)
	assert order[0].priority == prflx_priority(1) and order[1].priority == prflx_priority(2)
	ice = ice_state(c, c.ftag)
	assert ice["mode"] == "controlled" and ice["state"] in ("checking", "connected"), ice
	# A nominates from its NAT binding: answered, checked back, selected
	msg, _, _, _ = answered_check(peer, nat, c.a_dest(), use_candidate=True)
	assert msg["type"] == 0x0101
	peer.pump(1.0, lambda: peer.checks_to(nat))
	back = peer.checks_to(nat)
	assert back and back[0].username == "%s:%s" % (A_UFRAG, uf) and not back[0].use_candidate
	msg, _, _, _ = answered_check(peer, c.a.rtcp, c.a_dest(rtcp=True), use_candidate=True)
	assert msg["type"] == 0x0101
	assert wait_for(lambda: ice_state(c, c.ftag)["state"] == "completed", 2), ice_state(c, c.ftag)
	ice = ice_state(c, c.ftag)
	assert ice["selected port"] == nat.getsockname()[1], ice
	assert ice["remote candidates"] == 4             # three from SDP, one peer-reflexive
	# B -> A lands on the nominated socket, not on A's SDP port
	peer.media.clear()
	sent = c.b.send_rtp(c.b_dest(), n=10, pps=100)
	peer.pump(1.0, lambda: len(peer.rtp_to(nat)) >= 10)
	assert sorted(peer.rtp_to(nat)) == sorted(sent)
	assert peer.rtp_to(c.a.rtp) == []
	# A -> B from the nominated address
	sent = []
	for _ in range(10):
		p = c.a.next_rtp()
		nat.sendto(p, c.a_dest())
		sent.append(p)
	got = recv_all(c.b.rtp, timeout=2, count=10)
	assert sorted(d for d, _ in got) == sorted(sent)
	for s in (x, nat):
		s.close()
	c.close()


def controlling_call(relay, b_cands, peer_kw=None, **offer_kw):
	"""Plain A, ICE forced toward B with rtcp-mux: sluiced offers, so it controls toward
	B. B answers with b_cands(c) and is an IcePeer (returned, remote creds set)."""
	c = Call(relay)
	c.offer(ICE="force", **{"rtcp-mux": ["require"]}, **offer_kw)
	uf, pw = creds(c.offer_reply)
	cands = b_cands(c)
	peer = IcePeer([s for _, _, _, s, _ in cands], B_UFRAG, B_PWD, controlling=False,
		       **(peer_kw or {}))
	peer.set_remote(uf, pw)
	return c, peer, cands


def test_controlling_nominates_best_pair(relay):
	"""sluiced offered: it controls toward B. B's better candidate (b2) never answers,
	its other one does: sluiced checks both, best first, waits a while for the better
	pair, then nominates the valid one with USE-CANDIDATE (regular nomination), and
	media goes there."""
	r = relay()
	b2 = udp_socket()
	c, peer, cands = controlling_call(r, lambda c: [("1", 1, HOST1 - 2000, c.b.rtp, "host"),
							("2", 1, HOST1, b2, "host")])
	peer.answer = lambda k: "ok" if k.sock is c.b.rtp else None
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, cands, mux=True))
	uf = creds(c.offer_reply)[0]
	peer.pump(3.0, lambda: any(k.use_candidate for k in peer.checks))
	assert peer.bad == [], [k.username for k in peer.bad]
	assert peer.checks, "no checks from sluiced"
	for k in peer.checks:
		assert k.username == "%s:%s" % (B_UFRAG, uf) and k.controlling and not k.controlled
		assert k.priority == prflx_priority(1) and k.fingerprint_ok
	assert [k.sock for k in peer.checks[:2]] == [b2, c.b.rtp]       # best pair first
	nom = [k for k in peer.checks if k.use_candidate]
	assert len(nom) == 1 and nom[0].sock is c.b.rtp, [(k.sock.getsockname(), k.use_candidate)
							   for k in peer.checks]
	# the nomination waited ~0.5 s for the better pair, which was retransmitted meanwhile
	wait = nom[0].t - peer.checks[1].t
	assert 0.45 <= wait <= 0.7, wait
	assert [k for k in peer.checks if k.sock is b2 and k.t < nom[0].t][1:], "no retransmission"
	assert wait_for(lambda: ice_state(c, c.ttag)["state"] == "completed", 2), ice_state(c, c.ttag)
	ice = ice_state(c, c.ttag)
	assert ice["mode"] == "controlling" and ice["selected port"] == c.b.port, ice
	# B's own checks (controlled) are answered too
	msg, _, _, _ = answered_check(peer, c.b.rtp, c.b_dest())
	assert msg["type"] == 0x0101
	peer.media.clear()
	sent = c.a.send_rtp(c.a_dest(), n=10, pps=100)
	peer.pump(1.0, lambda: len(peer.rtp_to(c.b.rtp)) >= 10)
	assert sorted(peer.rtp_to(c.b.rtp)) == sorted(sent)
	assert peer.rtp_to(b2) == []
	b2.close()
	c.close()


def test_role_conflict_487(relay):
	"""B claims the controlling role as well, with a larger tiebreaker: it answers
	sluiced's first check with 487; sluiced turns controlled, checks again with
	ICE-CONTROLLED, and takes B's nomination."""
	r = relay()
	state = {"n": 0}

	def answer(k):
		state["n"] += 1
		return 487 if state["n"] == 1 else "ok"

	c, peer, cands = controlling_call(r, lambda c: [("1", 1, HOST1, c.b.rtp, "host")],
					  peer_kw={"tiebreaker": (1 << 64) - 1})
	peer.controlling = True
	peer.answer = answer
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, cands, mux=True))
	peer.pump(2.0, lambda: len(peer.checks) >= 2)
	assert len(peer.checks) >= 2, [k.msg for k in peer.checks]
	assert peer.checks[0].controlling and peer.checks[1].controlled
	assert not any(k.use_candidate for k in peer.checks)
	assert ice_state(c, c.ttag)["mode"] == "controlled"
	msg, _, _, _ = answered_check(peer, c.b.rtp, c.b_dest(), use_candidate=True)
	assert msg["type"] == 0x0101
	assert wait_for(lambda: ice_state(c, c.ttag)["state"] == "completed", 2), ice_state(c, c.ttag)
	c.close()


def test_role_conflict_we_win(relay):
	"""B (answerer) claims controlling with a smaller tiebreaker than sluiced's: its check
	gets 487 and sluiced stays controlling; with a larger one sluiced gives in."""
	r = relay()
	c, peer, cands = controlling_call(r, lambda c: [("1", 1, HOST1, c.b.rtp, "host")])
	peer.answer = None              # keep sluiced from nominating meanwhile
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, cands, mux=True))
	peer.pump(1.0, lambda: peer.checks)
	tb = peer.checks[0].tiebreaker
	assert peer.checks[0].controlling and tb is not None
	if tb == 0:
		pytest.skip("sluiced drew tiebreaker 0")
	msg, _, _, _ = answered_check(peer, c.b.rtp, c.b_dest(), controlling=True, tiebreaker=tb - 1)
	assert msg["type"] == 0x0111 and stun_error_code(msg) == 487
	assert ice_state(c, c.ttag)["mode"] == "controlling"
	if tb == (1 << 64) - 1:
		pytest.skip("sluiced drew the largest tiebreaker")
	msg, _, _, _ = answered_check(peer, c.b.rtp, c.b_dest(), controlling=True, tiebreaker=tb + 1)
	assert msg["type"] == 0x0101
	assert ice_state(c, c.ttag)["mode"] == "controlled"
	c.close()


def test_retransmissions(relay):
	"""An unanswered check is sent again with the same transaction id after 0.5, 1 and
	1.6 s (RTO doubling, capped); answering a retransmission makes the pair valid."""
	r = relay()
	c, peer, cands = controlling_call(r, lambda c: [("1", 1, HOST1, c.b.rtp, "host")])
	peer.answer = lambda k: "ok" if len(peer.checks) >= 4 else None
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, cands, mux=True))
	peer.pump(5.0, lambda: any(k.use_candidate for k in peer.checks))
	tx = [k for k in peer.checks if k.tid == peer.checks[0].tid]
	assert len(tx) == 4, [(k.t, k.tid) for k in peer.checks]
	gaps = [b.t - a.t for a, b in zip(tx, tx[1:])]
	for g, want in zip(gaps, (0.5, 1.0, 1.6)):
		assert want - 0.05 <= g <= want + 0.12, gaps
	assert any(k.use_candidate for k in peer.checks)
	assert wait_for(lambda: ice_state(c, c.ttag)["state"] == "completed", 2), ice_state(c, c.ttag)
	c.close()


@pytest.mark.parametrize("value", ["forward", "backward"])
def test_ice_lite_key(relay, value):
	"""ICE-lite=forward: sluiced is lite toward B (a=ice-lite in the offer, no checks of
	its own, B's nomination selects at once) and full toward A; backward the other way;
	later offers keep it until ICE-lite=off."""
	r = relay()
	c = Call(r)
	apeer = IcePeer([c.a.rtp, c.a.rtcp], A_UFRAG, A_PWD, controlling=True)
	a_sdp = ice_sdp(c.a, A_UFRAG, A_PWD, [("1", 1, HOST1, c.a.rtp, "host"),
					      ("1", 2, HOST2, c.a.rtcp, "host")])
	c.offer(sdp=a_sdp, **{"ICE-lite": value})
	o = c.offer_reply
	# the side facing lite sluiced controls; the other is controlled as answerer
	bpeer = IcePeer([c.b.rtp, c.b.rtcp], B_UFRAG, B_PWD, controlling=value == "forward")
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, [("1", 1, HOST1, c.b.rtp, "host"),
						   ("1", 2, HOST2, c.b.rtcp, "host")]))
	a = c.answer_reply
	lite, full = (o, a) if value == "forward" else (a, o)
	assert lite.attrs(None, "ice-lite") == [""] and "a=ice-lite" not in full.text
	apeer.set_remote(*creds(a))
	bpeer.set_remote(*creds(o))
	both = lambda: apeer.pump(0.05) or bpeer.pump(0.05)  # noqa: E731
	deadline = time.monotonic() + 1.5
	while time.monotonic() < deadline:
		both()
	lpeer, fpeer = (bpeer, apeer) if value == "forward" else (apeer, bpeer)
	ltag, ftag = (c.ttag, c.ftag) if value == "forward" else (c.ftag, c.ttag)
	ltx = c.b if value == "forward" else c.a
	assert lpeer.checks == [], "a lite agent sent checks"
	assert fpeer.checks, "no checks toward the full side"
	assert ice_state(c, ltag)["mode"] == "lite"
	assert ice_state(c, ftag)["mode"] != "lite"
	# the lite side's nomination selects at once
	dest = c.b_dest() if value == "forward" else c.a_dest()
	msg, _, _, _ = answered_check(lpeer, ltx.rtp, dest, use_candidate=True)
	assert msg["type"] == 0x0101
	assert ice_state(c, ltag)["selected port"] == ltx.port
	# kept by a re-offer without the key, undone by ICE-lite=off
	c.offer(sdp=a_sdp)
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, [("1", 1, HOST1, c.b.rtp, "host")]))
	assert "a=ice-lite" in (c.offer_reply if value == "forward" else c.answer_reply).text
	c.offer(sdp=a_sdp, **{"ICE-lite": "off"})
	c.answer(sdp=ice_sdp(c.b, B_UFRAG, B_PWD, [("1", 1, HOST1, c.b.rtp, "host")]))
	for s in (c.offer_reply, c.answer_reply):
		assert "a=ice-lite" not in s.text
	assert ice_state(c, ltag)["mode"] != "lite"
	c.close()


def test_ice_restart_on_reoffer(relay):
	r = relay()
	c = ice_call(r)
	uf1, pw1 = creds(c.answer_reply)
	sdp = c.a.sdp(ice=True, version=c.a.sess_ver + 1).replace(
		"a=ice-ufrag:Fq4z", "a=ice-ufrag:Zz99").replace(
		"a=ice-pwd:mQ9ZbXmS8nE2cYzKpJ0Qe7Lx", "a=ice-pwd:aaaaBBBBccccDDDDeeeeFFFF")
	c.offer(sdp=sdp)
	c.answer()
	uf2, pw2 = creds(c.answer_reply)
	assert (uf2, pw2) != (uf1, pw1)
	peer = IcePeer([c.a.rtp], "Zz99", "aaaaBBBBccccDDDDeeeeFFFF", controlling=True)
	peer.set_remote(uf1, pw1)
	msg, _, _, _ = answered_check(peer, c.a.rtp, c.a_dest())
	assert stun_error_code(msg) == 401
	peer.set_remote(uf2, pw2)
	msg, _, _, _ = answered_check(peer, c.a.rtp, c.a_dest())
	assert msg["type"] == 0x0101
	# sluiced checks A again, with the new credentials, as controlled agent
	peer.pump(1.0, lambda: peer.checks)
	assert peer.checks and peer.checks[0].username == "Zz99:%s" % uf2
	assert peer.checks[0].controlled
	c.close()


def test_full_ice_toward_lite_peer(relay):
	"""B answers as an ICE-lite endpoint: sluiced is full and controlling toward B,
	sends authenticated checks to B's candidate from its timer, and nominates."""
	r = relay()
	c = Call(r)
	c.offer(ICE="force", **{"rtcp-mux": ["require"]})
	assert c.offer_reply.attrs(0, "rtcp-mux") == [""]
	uf_s, pw_s = creds(c.offer_reply)
	pw_b = "bbbbbbbbbbbbbbbbbbbbbbbb"
	b_sdp = c.b.sdp().rstrip("\r\n") + "\r\n" + "\r\n".join([
		"a=rtcp-mux", "a=ice-lite", "a=ice-ufrag:Blte", "a=ice-pwd:" + pw_b,
		"a=candidate:1 1 UDP 2130706431 127.0.0.1 %d typ host" % c.b.port]) + "\r\n"
	c.answer(sdp=b_sdp)
	seen = []
	deadline = time.monotonic() + 4
	while time.monotonic() < deadline:
		got = recv_all(c.b.rtp, timeout=0.5, count=1)
		if not got:
			continue
		data, addr = got[0]
		msg = stun_parse(data)
		if not msg or msg["type"] != 0x0001:
			continue
		assert msg["attrs"][0x0006] == ("Blte:%s" % uf_s).encode()
		assert stun_check_integrity(data, pw_b)
		assert 0x802A in msg["attrs"]                  # ICE-CONTROLLING
		seen.append(0x0025 in msg["attrs"])            # USE-CANDIDATE
		c.b.rtp.sendto(stun_success(msg, pw_b, addr), addr)
		if seen[-1]:
			break
	assert seen and seen[-1], "no nomination (checks seen: %r)" % seen
	done = lambda: media0(ok(c.query()), c.ttag)["ICE"]["state"] == "completed"  # noqa: E731
	assert wait_for(done, 2), repr((seen, media0(ok(c.query()), c.ttag)["ICE"]))
	ice = media0(ok(c.query()), c.ttag)["ICE"]
	assert ice["mode"] == "controlling" and ice["selected port"] == c.b.port, ice
	assert ice["responses ok"] >= 2
	drain(c.b.rtp)
	c.close()
