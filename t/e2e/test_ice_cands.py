"""ICE host candidates on every address of a dual-stack interface (127.0.0.1 and ::1):
the candidates in SDP, in rtpengine's form and order; a check and media on the IPv6
candidate, answered and sent back from that socket; no extra sockets for plain calls;
every socket released after delete.

The test peer answers the checks sluiced may send itself (as a full agent it checks
back), so the tests hold for a lite and a full agent alike."""

import os
import time

import pytest

from calls import Call, ok, wait_for
from rtp import Phone, drain, recv_all, udp_socket
from secure_peer import stun_parse, stun_request, stun_success, xor_mapped

pytestmark = pytest.mark.sluice_only

DUAL = ("127.0.0.1", "::1")
PEER_UFRAG = "Fq4z"		# rtp.Phone.sdp(ice=True)
PEER_PWD = "mQ9ZbXmS8nE2cYzKpJ0Qe7Lx"


def cands(sdp, i=0):
	"""-> [(foundation, component, priority, address, port)] in SDP order."""
	out = []
	for v in sdp.attrs(i, "candidate"):
		f = v.split()
		assert f[2] == "UDP" and f[6:] == ["typ", "host"], v
		out.append((f[0], int(f[1]), int(f[3]), f[4], int(f[5])))
	return out


def fds(relay):
	return len(os.listdir("/proc/%d/fd" % relay.proc.pid))


def answer_checks(sock, data, addr):
	"""A binding request from sluiced: answer it as the peer. True if it was one."""
	msg = stun_parse(data)
	if not msg or msg["type"] != 0x0001:
		return False
	sock.sendto(stun_success(msg, PEER_PWD, addr[:2]), addr)
	return True


def serve(sock, timeout, count=None):
	"""Non-STUN datagrams reaching sock within timeout (until count of them), sluiced's
	checks answered on the way."""
	out = []
	deadline = time.monotonic() + timeout
	while (count is None or len(out) < count) and time.monotonic() < deadline:
		for data, addr in recv_all(sock, timeout=0.05):
			if not answer_checks(sock, data, addr) and not stun_parse(data):
				out.append((data, addr))
	return out


def check_from(sock, dest, user, pwd, use_candidate=True):
	"""A STUN check from sock to dest -> (response, address it came from)."""
	tid, req = stun_request(user, pwd, use_candidate=use_candidate)
	sock.sendto(req, dest)
	deadline = time.monotonic() + 2
	while time.monotonic() < deadline:
		for data, addr in recv_all(sock, timeout=0.1, count=1):
			if answer_checks(sock, data, addr):
				continue
			msg = stun_parse(data)
			assert msg and msg["tid"] == tid and msg["type"] == 0x0101, data
			return msg, addr
	raise AssertionError("no STUN response from %r" % (dest,))


def completed(c, socks):
	"""Wait (answering sluiced's checks on socks) until A's side is completed."""
	def done():
		for s in socks:
			serve(s, 0.05)
		return ok(c.query())["tags"][c.ftag]["medias"][0]["ICE"]["state"] == "completed"
	assert wait_for(done, 5), ok(c.query())["tags"][c.ftag]["medias"][0]["ICE"]


def ice_call(r):
	c = Call(r)
	c.offer(sdp=c.a.sdp(ice=True))
	c.answer()
	return c


def test_candidate_lines(relay):
	"""Toward A (answer) and toward B (offer, ICE by default since A offered it): a
	candidate per address and component, c= and m= on the first address; component 1's
	candidates before component 2's; local preference by address order; a foundation per
	address; the IPv6 candidate on ports of its own (RTCP = RTP + 1)."""
	r = relay(interfaces=DUAL)
	c = ice_call(r)
	for s in (c.answer_reply, c.offer_reply):
		assert s.mconn() == ("IP4", "127.0.0.1"), s.text
		got = cands(s)
		assert len(got) == 4, s.text
		f4, f6 = got[0][0], got[1][0]
		assert f4 != f6
		p6 = got[1][4]
		assert r.in_range(p6) and p6 % 2 == 0
		assert got == [(f4, 1, 2130706431, "127.0.0.1", s.port()),
			       (f6, 1, 2130706175, "::1", p6),
			       (f4, 2, 2130706430, "127.0.0.1", s.rtcp_port()),
			       (f6, 2, 2130706174, "::1", p6 + 1)], s.text
	# the IPv6 ports of the two sides are distinct sockets
	assert cands(c.answer_reply)[1][4] != cands(c.offer_reply)[1][4]
	c.close()


def test_ipv6_side_lists_ipv6_first(relay):
	"""An IPv6 caller's side lives on ::1: its candidates start there."""
	r = relay(interfaces=DUAL)
	c = Call(r, host="::1")
	c.offer(ICE="force")
	s = c.offer_reply
	assert s.mconn() == ("IP6", "::1"), s.text
	got = cands(s)
	assert [(g[1], g[2], g[3]) for g in got] == [
		(1, 2130706431, "::1"), (1, 2130706175, "127.0.0.1"),
		(2, 2130706430, "::1"), (2, 2130706174, "127.0.0.1")], s.text
	assert got[0][4] == s.port() and got[2][4] == s.rtcp_port()
	c.close()


def test_media_over_ipv6_candidate(relay):
	"""A (on IPv4 in its SDP) checks and nominates sluiced's ::1 candidates from IPv6
	sockets: the responses come from those sockets, media from B reaches A's IPv6
	socket from sluiced's ::1 RTP candidate, and A's media sent there reaches B."""
	r = relay(interfaces=DUAL)
	c = ice_call(r)
	got = cands(c.answer_reply)
	rtp6 = ("::1", got[1][4])
	rtcp6 = ("::1", got[3][4])
	uf = c.answer_reply.attrs(0, "ice-ufrag")[0]
	pw = c.answer_reply.attrs(0, "ice-pwd")[0]
	user = "%s:%s" % (uf, PEER_UFRAG)
	a6, a6c = udp_socket("::1"), udp_socket("::1")
	msg, src = check_from(a6, rtp6, user, pw)
	assert src[:2] == rtp6
	assert xor_mapped(msg) == a6.getsockname()[:2]
	msg, src = check_from(a6c, rtcp6, user, pw)
	assert src[:2] == rtcp6
	completed(c, (a6, a6c))
	ice = ok(c.query())["tags"][c.ftag]["medias"][0]["ICE"]
	assert (ice["selected address"], ice["selected port"]) == a6.getsockname()[:2]
	assert (ice["selected local address"], ice["selected local port"]) == rtp6
	assert ice["local candidates"] == 4
	# B -> A: out of sluiced's ::1 socket to A's IPv6 socket, nothing to A's SDP port
	drain(c.a.rtp)
	sent = c.b.send_rtp(c.b_dest(), n=10, pps=100)
	rx = serve(a6, 2, count=10)
	assert sorted(d for d, _ in rx) == sorted(sent)
	assert {a[:2] for _, a in rx} == {rtp6}
	assert serve(c.a.rtp, 0.3) == []
	# A -> B from the IPv6 pair: B gets it from sluiced's B-facing port
	drain(c.b.rtp)
	sent = []
	for _ in range(10):
		p = c.a.next_rtp()
		a6.sendto(p, rtp6)
		sent.append(p)
	rx = recv_all(c.b.rtp, timeout=2, count=10)
	assert sorted(d for d, _ in rx) == sorted(sent)
	assert {a for _, a in rx} == {c.b_dest()}
	st = ok(c.query())["tags"][c.ftag]["medias"][0]["streams"][0]["stats"]
	assert st["packets"] == 10
	a6.close()
	a6c.close()
	c.close()


def test_media_latches_on_ipv6_candidate(relay):
	"""No check at all: A's media to the ::1 candidate latches there (the first packet,
	endpoint learning), and B's media to A then leaves from that socket."""
	r = relay(interfaces=DUAL)
	c = ice_call(r)
	rtp6 = ("::1", cands(c.answer_reply)[1][4])
	a6 = udp_socket("::1")
	drain(c.b.rtp)
	sent = []
	for _ in range(5):
		p = c.a.next_rtp()
		a6.sendto(p, rtp6)
		sent.append(p)
	rx = recv_all(c.b.rtp, timeout=2, count=5)
	assert sorted(d for d, _ in rx) == sorted(sent)
	sent = c.b.send_rtp(c.b_dest(), n=5, pps=100)
	rx = serve(a6, 2, count=5)
	assert sorted(d for d, _ in rx) == sorted(sent)
	assert {a[:2] for _, a in rx} == {rtp6}
	st = ok(c.query())["tags"][c.ftag]["medias"][0]["streams"][0]
	assert (st["endpoint"]["address"], st["endpoint"]["port"]) == a6.getsockname()[:2]
	a6.close()
	c.close()


def test_nominated_address_of_same_family(relay):
	"""Two IPv4 addresses (127.0.0.1, 127.0.0.5): A nominates the second one; media to
	A leaves from that address, not from the first one of the family."""
	r = relay(interfaces=("127.0.0.1", "127.0.0.5"))
	c = ice_call(r)
	got = cands(c.answer_reply)
	assert [(g[1], g[2], g[3]) for g in got] == [
		(1, 2130706431, "127.0.0.1"), (1, 2130706175, "127.0.0.5"),
		(2, 2130706430, "127.0.0.1"), (2, 2130706174, "127.0.0.5")]
	rtp5, rtcp5 = ("127.0.0.5", got[1][4]), ("127.0.0.5", got[3][4])
	uf = c.answer_reply.attrs(0, "ice-ufrag")[0]
	pw = c.answer_reply.attrs(0, "ice-pwd")[0]
	user = "%s:%s" % (uf, PEER_UFRAG)
	nat, natc = udp_socket(), udp_socket()
	assert check_from(nat, rtp5, user, pw)[1] == rtp5
	assert check_from(natc, rtcp5, user, pw)[1] == rtcp5
	completed(c, (nat, natc))
	sent = c.b.send_rtp(c.b_dest(), n=5, pps=100)
	rx = serve(nat, 2, count=5)
	assert sorted(d for d, _ in rx) == sorted(sent)
	assert {a for _, a in rx} == {rtp5}
	nat.close()
	natc.close()
	c.close()


def test_side_moved_to_ipv6_at_answer(relay):
	"""ICE=force toward an IPv6 callee offered in IPv4: its answer moves its side to ::1
	(t/e2e/test_rebind.py). The re-offer then names ::1 first, on new ports for both
	addresses, with new credentials (a new ICE session, as rtpengine); the old sockets
	close: the call holds 3 pairs (the caller's side, without ICE, has one)."""
	r = relay(interfaces=DUAL)
	base = fds(r)
	c = Call(r, a=Phone("127.0.0.1", "caller"), b=Phone("::1", "callee"))
	c.offer(ICE="force")
	first = cands(c.offer_reply)
	uf1 = c.offer_reply.attrs(0, "ice-ufrag")[0]
	assert [g[3] for g in first] == ["127.0.0.1", "::1", "127.0.0.1", "::1"]
	c.answer()
	assert not c.answer_reply.attrs(0, "candidate")
	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1), ICE="force")
	s = c.offer_reply
	assert s.mconn() == ("IP6", "::1"), s.text
	got = cands(s)
	assert [(g[1], g[2], g[3]) for g in got] == [
		(1, 2130706431, "::1"), (1, 2130706175, "127.0.0.1"),
		(2, 2130706430, "::1"), (2, 2130706174, "127.0.0.1")], s.text
	assert got[0][4] == s.port() and got[2][4] == s.rtcp_port()
	assert got[0][4] != first[1][4] and got[1][4] != first[0][4]
	assert s.attrs(0, "ice-ufrag")[0] != uf1
	# the re-offer was not a restart of its own: the same session on a second re-offer
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 2), ICE="force")
	assert cands(c.offer_reply) == got
	assert wait_for(lambda: fds(r) == base + 6, 3), (fds(r), base)
	assert not wait_for(lambda: fds(r) != base + 6, 0.5), (fds(r), base)
	# B's media reaches A through the ::1 socket, A's reaches B from it
	sent = c.b.send_rtp(c.b_dest(), n=5, pps=100)
	rx = recv_all(c.a.rtp, timeout=2, count=5)
	assert sorted(d for d, _ in rx) == sorted(sent)
	ok(c.delete())
	assert wait_for(lambda: fds(r) == base, 3), (fds(r), base)
	c.close()


def test_sockets_plain_ice_and_released(relay):
	"""A plain call on the dual-stack interface opens one socket pair per side; an ICE
	call one more pair per side (the ::1 candidates); delete gives every one back, and
	their ports: with 4 pairs per address, call after call still gets all candidates."""
	r = relay(interfaces=DUAL, ports=8)
	base = fds(r)
	c = Call(r)
	c.setup()
	assert fds(r) == base + 4
	assert not c.offer_reply.attrs(0, "candidate")
	ok(c.delete())
	assert wait_for(lambda: fds(r) == base, 3), (fds(r), base)
	c.close()
	for n in range(4):
		c = ice_call(r)
		assert fds(r) == base + 8, n
		assert len(cands(c.offer_reply)) == 4 and len(cands(c.answer_reply)) == 4, n
		# a re-offer keeps the same candidates (the same sockets)
		before = cands(c.offer_reply)
		c.offer(sdp=c.a.sdp(ice=True, version=c.a.sess_ver + 1))
		assert cands(c.offer_reply) == before
		assert fds(r) == base + 8
		ok(c.delete())
		assert wait_for(lambda: fds(r) == base, 3), (n, fds(r), base)
		c.close()


def test_single_address_interface_unchanged(relay):
	"""With one address per interface nothing is added: two candidates, two sockets."""
	r = relay()
	base = fds(r)
	c = ice_call(r)
	assert [g[3] for g in cands(c.answer_reply)] == ["127.0.0.1", "127.0.0.1"]
	assert fds(r) == base + 4
	ok(c.delete())
	c.close()
