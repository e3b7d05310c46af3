"""ICE in sluiced (lite agent toward an ICE peer): its own credentials and candidates in
SDP, STUN binding requests answered only with the right credentials (401 otherwise),
responses with MESSAGE-INTEGRITY, FINGERPRINT and the mapped address, and media
following the nominated pair."""

import time

import pytest

from calls import Call, ok, wait_for
from rtp import drain, recv_all, udp_socket
from secure_peer import (stun_check_integrity, stun_error_code, stun_parse, stun_request,
			 xor_mapped)

pytestmark = pytest.mark.sluice_only

PEER_UFRAG = "Fq4z"		# rtp.Phone.sdp(ice=True)


def media0(reply, tag_):
	return reply["tags"][tag_]["medias"][0]


def creds(sdp, i=0):
	return (sdp.attrs(i, "ice-ufrag") or sdp.attrs(None, "ice-ufrag"))[0], \
		(sdp.attrs(i, "ice-pwd") or sdp.attrs(None, "ice-pwd"))[0]


def check(sock, dest, username, pwd, **kw):
	tid, req = stun_request(username, pwd, **kw)
	sock.sendto(req, dest)
	got = recv_all(sock, timeout=2, count=1)
	assert got, "no STUN response"
	data = got[0][0]
	msg = stun_parse(data)
	assert msg and msg["tid"] == tid, data
	return msg, data


def ice_call(relay, **offer_kw):
	c = Call(relay)
	c.offer(sdp=c.a.sdp(ice=True), **offer_kw)
	c.answer()
	a = c.answer_reply
	assert a.attrs(None, "ice-lite") == [""], a.text
	return c


def test_ice_sdp_lines(relay):
	r = relay()
	c = ice_call(r)
	a, o = c.answer_reply, c.offer_reply
	uf, pw = creds(a)
	assert len(uf) >= 4 and len(pw) >= 22 and uf != PEER_UFRAG
	cands = [v.split() for v in a.attrs(0, "candidate")]
	# one host candidate per component, on sluiced's address and ports; none of A's
	assert sorted((int(f[1]), f[4], int(f[5]), f[7]) for f in cands) == \
		[(1, "127.0.0.1", a.port(), "host"), (2, "127.0.0.1", a.rtcp_port(), "host")]
	assert "192.0.2.7" not in a.text
	# default policy: the offer had ICE, so B is offered sluiced's ICE too
	assert creds(o)[0] != uf and o.attrs(0, "candidate")
	assert "192.0.2.7" not in o.text and "Fq4z" not in o.text
	c.close()


def test_ice_remove_toward_b(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(ice=True), ICE="remove")
	assert not any(l.startswith(("a=ice", "a=candidate")) for l in c.offer_reply.lines)
	c.close()


def test_ice_force_toward_plain_side(relay):
	r = relay()
	c = Call(r)
	c.offer(ICE="force")
	assert c.offer_reply.attrs(0, "candidate") and creds(c.offer_reply)
	c.close()


def test_stun_credentials(relay):
	r = relay()
	c = ice_call(r)
	uf, pw = creds(c.answer_reply)
	user = "%s:%s" % (uf, PEER_UFRAG)
	# right credentials: success, integrity with our password, our mapped address
	msg, data = check(c.a.rtp, c.a_dest(), user, pw)
	assert msg["type"] == 0x0101
	assert stun_check_integrity(data, pw)
	assert 0x8028 in msg["attrs"]
	assert xor_mapped(msg) == c.a.rtp.getsockname()
	# wrong password, wrong ufrag, no integrity at all: 401 (400 is allowed without MI)
	for u, p, kw, codes in [(user, "x" * 24, {}, (401,)),
				("nope:%s" % PEER_UFRAG, pw, {}, (401,)),
				(user, pw, {"integrity": False}, (400, 401))]:
		msg, _ = check(c.a.rtp, c.a_dest(), u, p, **kw)
		assert msg["type"] == 0x0111, (u, p, kw)
		assert stun_error_code(msg) in codes, (u, p, kw, stun_error_code(msg))
	q = ok(c.query())
	ice = media0(q, c.ftag)["ICE"]
	assert ice["checks answered"] == 1
	assert ice["checks unauthorized"] >= 2
	# STUN is not media: the RTP counters did not move
	assert media0(q, c.ftag)["streams"][0]["stats"]["packets"] == 0
	c.close()


def test_media_follows_nominated_pair(relay):
	"""A's checks come from another port than its SDP candidate (a NAT binding); once
	nominated there, media to A goes to that address."""
	r = relay()
	c = ice_call(r)
	uf, pw = creds(c.answer_reply)
	user = "%s:%s" % (uf, PEER_UFRAG)
	nat_rtp, nat_rtcp = udp_socket(), udp_socket()
	msg, _ = check(nat_rtp, c.a_dest(), user, pw, use_candidate=True)
	assert msg["type"] == 0x0101
	msg, _ = check(nat_rtcp, c.a_dest(rtcp=True), user, pw, use_candidate=True)
	assert msg["type"] == 0x0101
	q = ok(c.query())
	ice = media0(q, c.ftag)["ICE"]
	assert ice["state"] == "completed", ice
	assert ice["selected port"] == nat_rtp.getsockname()[1]
	# B -> A lands on the nominated socket, not on A's SDP port
	drain(c.a.rtp)
	sent = c.b.send_rtp(c.b_dest(), n=10, pps=100)
	got = recv_all(nat_rtp, timeout=2, count=10)
	assert sorted(d for d, _ in got) == sorted(sent)
	assert recv_all(c.a.rtp, timeout=0.3) == []
	# A -> B from the nominated address
	sent = []
	for _ in range(10):
		p = c.a.next_rtp()
		nat_rtp.sendto(p, c.a_dest())
		sent.append(p)
	got = recv_all(c.b.rtp, timeout=2, count=10)
	assert sorted(d for d, _ in got) == sorted(sent)
	nat_rtp.close()
	nat_rtcp.close()
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
	msg, _ = check(c.a.rtp, c.a_dest(), "%s:Zz99" % uf1, pw1)
	assert stun_error_code(msg) == 401
	msg, _ = check(c.a.rtp, c.a_dest(), "%s:Zz99" % uf2, pw2)
	assert msg["type"] == 0x0101
	c.close()


def test_full_ice_toward_lite_peer(relay):
	"""B answers as an ICE-lite endpoint: sluiced turns full and controlling toward B,
	sends authenticated checks to B's candidate from its timer, and nominates."""
	from secure_peer import stun_success
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
	c.close()
