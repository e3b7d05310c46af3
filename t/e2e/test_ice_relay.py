"""ICE=force-relay (docs/ng.md, "SRTP, DTLS and ICE"): toward a side whose offer had no
ICE, the SDP keeps the sender's c= and m= port and adds the relay as ICE candidates of
type relay (as rtpengine documents and writes it). Media between the two sides goes
through the relay only once the side's ICE selected a pair with it: before that it is
withheld both ways and counted; a side that answers without ICE keeps the default path.

    A (plain) --offer, ICE=force-relay--> relay --c=/m= of A + relay candidates--> B
    B (ICE, controlled) <-- checks, USE-CANDIDATE -- relay (controlling)
    A --RTP--> relay --(selected pair only)--> B ; B --RTP--> relay --> A"""

import pytest

from calls import Call, ok, wait_for
from ice_peer import IcePeer
from rtp import Phone, drain, recv_all

B_UFRAG, B_PWD = "Bfll", "bbbbbbbbbbbbbbbbbbbbbbbb"
HOST1, HOST2 = 2130706431, 2130706430


def lines(sdp, prefix):
	return [l for l in sdp.lines if l.startswith(prefix)]


def relay_cands(sdp):
	"""[(component, address, port, fields)] of the a=candidate lines."""
	out = []
	for v in sdp.attrs(0, "candidate"):
		f = v.split()
		out.append((int(f[1]), f[4], int(f[5]), f))
	return out


def test_force_relay_sdp(relay):
	"""The offer to B names A's address and port, A's SDP had no a=rtcp and gets none;
	the relay adds ufrag/pwd and, per component and address, a relay candidate on its
	own port (type preference 0, the socket itself as raddr/rport). The answer to A is
	rewritten as usual (the relay's address and port)."""
	r = relay()
	c = Call(r, a=Phone("127.0.0.41", "caller"))     # not the relay's address
	c.offer(ICE="force-relay")
	o = c.offer_reply
	assert o.mconn()[1] == c.a.host and o.port() == c.a.port
	assert lines(o, "c=") == ["c=IN IP4 %s" % c.a.host]
	assert lines(o, "a=rtcp:") == []
	assert lines(o, "a=ice-ufrag:") and lines(o, "a=ice-pwd:")
	cands = relay_cands(o)
	assert sorted(k for k, _, _, _ in cands) == [1, 2]
	for comp, addr, port, f in cands:
		assert f[6:] == ["typ", "relay", "raddr", addr, "rport", str(port)], f
		assert r.in_range(port) and int(f[3]) >> 24 == 0, f
	(p1,) = [p for k, _, p, _ in cands if k == 1]
	assert [p for k, _, p, _ in cands if k == 2] == [p1 + 1]
	c.answer()
	a = c.answer_reply
	assert a.mconn()[1] == "127.0.0.1" and r.in_range(a.port())
	assert not lines(a, "a=candidate:")
	ok(c.delete())
	c.close()


def relay_call(r):
	"""A plain, ICE=force-relay toward B; B answers as a full ICE peer with one host
	candidate per component. -> (call, peer, relay's RTP candidate address)."""
	c = Call(r)
	c.offer(ICE="force-relay")
	o = c.offer_reply
	uf, pw = o.attrs(0, "ice-ufrag")[0], o.attrs(0, "ice-pwd")[0]
	(dest,) = [(a, p) for k, a, p, _ in relay_cands(o) if k == 1 and a == "127.0.0.1"]
	cands = [("1", 1, HOST1, c.b.rtp, "host"), ("1", 2, HOST2, c.b.rtcp, "host")]
	peer = IcePeer([c.b.rtp, c.b.rtcp], B_UFRAG, B_PWD, controlling=False)
	peer.set_remote(uf, pw)
	sdp = c.b.sdp().rstrip("\r\n").split("\r\n")
	sdp += ["a=ice-ufrag:" + B_UFRAG, "a=ice-pwd:" + B_PWD]
	for f, comp, prio, sock, typ in cands:
		host, port = sock.getsockname()[:2]
		sdp.append("a=candidate:%s %d UDP %d %s %d typ %s" % (f, comp, prio, host, port, typ))
	c.answer(sdp="\r\n".join(sdp) + "\r\n")
	return c, peer, dest


def ice_of(c, tag_):
	return ok(c.query())["tags"][tag_]["medias"][0]["ICE"]


@pytest.mark.sluice_only
def test_force_relay_media_after_selection(relay):
	"""Before B's ICE selected the relay (its checks unanswered so far), A's media is
	not sent to B and B's media to the relay is not sent to A: both counted. Once the
	relay (controlling) nominated the pair, media flows both ways through it."""
	r = relay()
	c, peer, dest = relay_call(r)
	sent = c.a.send_rtp(c.a_dest(), n=5, pps=100)
	c.b.send_rtp(dest, n=5, pps=100)
	assert recv_all(c.a.rtp, timeout=0.3) == []
	ice = ice_of(c, c.ttag)
	assert ice["candidates"] == "relay" and ice["state"] != "completed", ice
	assert ice["withheld before a selected pair"] == 10, ice
	# B answers the checks: the relay nominates, media to B goes to the selected pair
	assert peer.pump(5.0, lambda: {k.sock for k in peer.checks if k.use_candidate} ==
			 {c.b.rtp, c.b.rtcp})     # both components nominated
	assert wait_for(lambda: ice_of(c, c.ttag)["state"] == "completed", 2), ice_of(c, c.ttag)
	peer.pump(0.3)
	assert peer.rtp_to(c.b.rtp) == []           # nothing of the first 5 came late
	sent = c.a.send_rtp(c.a_dest(), n=10, pps=100)
	peer.pump(1.0, lambda: len(peer.rtp_to(c.b.rtp)) >= 10)
	assert sorted(peer.rtp_to(c.b.rtp)) == sorted(sent)
	drain(c.a.rtp)
	sent = c.b.send_rtp(dest, n=10, pps=100)
	assert sorted(d for d, _ in recv_all(c.a.rtp, timeout=1, count=10)) == sorted(sent)
	assert ice_of(c, c.ttag)["withheld before a selected pair"] == 10
	ok(c.delete())
	c.close()


@pytest.mark.sluice_only
def test_force_relay_answer_without_ice(relay):
	"""B answers without ICE: the relay's agent toward it goes, nothing is withheld; A's
	media reaches B through the relay (the answer to A names it), B's goes to A
	directly by the offer's c=/m= (not through the relay)."""
	r = relay()
	c = Call(r)
	c.offer(ICE="force-relay")
	c.answer()
	assert "ICE" not in ok(c.query())["tags"][c.ttag]["medias"][0]
	sent = c.a.send_rtp(c.a_dest(), n=5, pps=100)
	assert sorted(d for d, _ in recv_all(c.b.rtp, timeout=1, count=5)) == sorted(sent)
	assert c.b_dest() == (c.a.host, c.a.port)
	ok(c.delete())
	c.close()
