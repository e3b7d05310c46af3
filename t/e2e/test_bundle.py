"""BUNDLE (RFC 8843) through sluiced: audio and video of one side over one port.

A side that offers a=group:BUNDLE gets an answer with one port for the group, its group
line and a=mid on every section; the other side gets the group passed on with a port per
section and bundles only if its own answer says so. Packets on the shared port go to the
section they belong to (payload type for RTP, sender SSRC for RTCP)."""

import time

import pytest

from calls import Call, ok, wait_for
from rtp import Phone, drain, recv_all, rtcp_sr, rtp_packet, rtp_parse
from ice_peer import ice_nominate
from secure_peer import DtlsPeer

pytestmark = pytest.mark.sluice_only

A_SSRC, V_SSRC = 0x1111, 0x2222


def offer_sdp(phone, proto="RTP/AVP", video_port=None, extra_a=(), extra_v=(),
	      group="a v", session=()):
	"""Audio (PCMU) + video (PT 96) offered with BUNDLE from one phone: audio on the
	phone's port, video on video_port (RFC 8843 initial offer: a port per section)."""
	h = phone.host
	vp = phone.port + 2 if video_port is None else video_port
	return "\r\n".join([
		"v=0", "o=- 1 1 IN IP4 %s" % h, "s=-", "c=IN IP4 %s" % h, "t=0 0",
		"a=group:BUNDLE %s" % group] + list(session) + [
		"m=audio %d %s 0" % (phone.port, proto), "a=mid:a", "a=rtcp-mux",
		"a=rtpmap:0 PCMU/8000"] + list(extra_a) + [
		"m=video %d %s 96" % (vp, proto), "a=mid:v", "a=rtcp-mux",
		"a=rtpmap:96 VP8/90000"] + list(extra_v)) + "\r\n"


def plain_answer(aud, vid, video_port=None):
	"""A legacy answerer: a phone per section, no BUNDLE, no mid, no rtcp-mux."""
	return "\r\n".join([
		"v=0", "o=- 2 1 IN IP4 %s" % aud.host, "s=-", "c=IN IP4 %s" % aud.host, "t=0 0",
		"m=audio %d RTP/AVP 0" % aud.port, "a=rtpmap:0 PCMU/8000",
		"m=video %d RTP/AVP 96" % (vid.port if video_port is None else video_port),
		"a=rtpmap:96 VP8/90000"]) + "\r\n"


def dest(sdp, i):
	return (sdp.mconn(i)[1], sdp.port(i))


def rtcp_dest(sdp, i):
	return (sdp.mconn(i)[1], sdp.rtcp_port(i))


def media(reply, tag_, i):
	return reply["tags"][tag_]["medias"][i]


def send_av(sock, to, n, protect=lambda p: p):
	"""n audio + n video packets, interleaved, from one socket; returns both lists."""
	aud, vid = [], []
	for k in range(n):
		a = rtp_packet(0, k, k * 160, A_SSRC, b"\xa5" * 160)
		v = rtp_packet(96, k, k * 3000, V_SSRC, b"\x90\x00" + bytes([k]) * 300)
		sock.sendto(protect(a), to)
		sock.sendto(protect(v), to)
		aud.append(a)
		vid.append(v)
		time.sleep(0.005)
	return aud, vid


def check_answer_bundled(ans):
	assert ans.attrs(None, "group") == ["BUNDLE a v"]
	assert ans.port(0) == ans.port(1) != 0
	for i, mid in ((0, "a"), (1, "v")):
		assert ans.attrs(i, "mid") == [mid]
		assert ans.attrs(i, "rtcp-mux") == [""]
		assert ans.rtcp_port(i) in (None, ans.port(0))


def test_bundle_offerer_to_legacy_answerer(relay):
	"""A bundles, B is a plain phone per section: one port toward A, two toward B."""
	r = relay()
	c = Call(r)
	bv = Phone(name="callee-video")
	try:
		c.offer(sdp=offer_sdp(c.a))
		o = c.offer_reply
		assert o.attrs(None, "group") == ["BUNDLE a v"]     # B may bundle too
		assert o.port(0) != o.port(1)                       # initial offer: a port each
		assert o.attrs(0, "mid") == ["a"] and o.attrs(1, "mid") == ["v"]
		c.answer(sdp=plain_answer(c.b, bv))
		ans = c.answer_reply
		check_answer_bundled(ans)
		shared = dest(ans, 0)

		# A -> B: one socket, demultiplexed by payload type
		aud, vid = send_av(c.a.rtp, shared, 20)
		got_a = recv_all(c.b.rtp, timeout=2, count=20)
		got_v = recv_all(bv.rtp, timeout=2, count=20)
		assert [d for d, _ in got_a] == aud
		assert [d for d, _ in got_v] == vid
		q = ok(c.query())
		ma, mv = media(q, c.ftag, 0), media(q, c.ftag, 1)
		assert "BUNDLE" in ma["flags"] and "BUNDLE" in mv["flags"]
		assert ma["BUNDLE transport"] == mv["BUNDLE transport"] == 1
		assert ma["mid"] == "a" and mv["mid"] == "v"
		assert ma["streams"][0]["stats"]["packets"] == 20
		assert mv["streams"][0]["stats"]["packets"] == 20
		assert ma["streams"][0]["forwarding"] == "userspace"

		# B -> A: both sections come out of the one port A knows
		drain(c.a.rtp)
		c.b.send_rtp(dest(o, 0), n=10, pps=200)
		bv.send_rtp(dest(o, 1), n=10, pps=200, ssrc=0x3333)
		got = recv_all(c.a.rtp, timeout=2, count=20)
		assert len(got) == 20
		assert {addr[1] for _, addr in got} == {shared[1]}
		assert sorted(rtp_parse(d)["ssrc"] for d, _ in got).count(0x3333) == 10

		# RTCP from A, muxed: to the RTCP port of the section whose sender it names
		sr_v = rtcp_sr(V_SSRC, pkts=20)
		sr_a = rtcp_sr(A_SSRC, pkts=20)
		c.a.rtp.sendto(sr_v, shared)
		c.a.rtp.sendto(sr_a, shared)
		assert [d for d, _ in recv_all(bv.rtcp, timeout=2, count=1)] == [sr_v]
		assert [d for d, _ in recv_all(c.b.rtcp, timeout=2, count=1)] == [sr_a]
		# RTCP from B's video RTCP port reaches A on the shared port
		sr_b = rtcp_sr(0x3333, pkts=10)
		bv.rtcp.sendto(sr_b, rtcp_dest(o, 1))
		got = recv_all(c.a.rtp, timeout=2, count=1)
		assert [d for d, _ in got] == [sr_b] and got[0][1][1] == shared[1]
	finally:
		bv.close()
		c.close()


def test_bundle_both_sides(relay):
	"""B answers with BUNDLE as well: each side sends everything to one port."""
	r = relay()
	c = Call(r)
	try:
		c.offer(sdp=offer_sdp(c.a))
		o = c.offer_reply
		# B bundles onto the offer's tagged section (first mid): same port twice
		c.answer(sdp=offer_sdp(c.b, video_port=c.b.port))
		ans = c.answer_reply
		check_answer_bundled(ans)
		aud, vid = send_av(c.a.rtp, dest(ans, 0), 15)
		got = recv_all(c.b.rtp, timeout=2, count=30)
		assert sorted(d for d, _ in got) == sorted(aud + vid)
		assert {addr[1] for _, addr in got} == {o.port(0)}
		drain(c.a.rtp)
		aud, vid = send_av(c.b.rtp, dest(o, 0), 15)
		got = recv_all(c.a.rtp, timeout=2, count=30)
		assert sorted(d for d, _ in got) == sorted(aud + vid)
		q = ok(c.query())
		for t in (c.ftag, c.ttag):
			assert media(q, t, 1)["streams"][0]["stats"]["packets"] == 15
			assert media(q, t, 1)["BUNDLE transport"] == 1
	finally:
		c.close()


def test_bundle_only_section(relay):
	"""RFC 8843 bundle-only (port 0 + a=bundle-only): a real port toward B, none of
	the attribute; toward A the group's port."""
	r = relay()
	c = Call(r)
	bv = Phone(name="callee-video")
	try:
		c.offer(sdp=offer_sdp(c.a, video_port=0, extra_v=["a=bundle-only"]))
		o = c.offer_reply
		assert o.port(1) != 0 and o.port(1) != o.port(0)
		assert not o.attrs(1, "bundle-only")
		c.answer(sdp=plain_answer(c.b, bv))
		check_answer_bundled(c.answer_reply)
		aud, vid = send_av(c.a.rtp, dest(c.answer_reply, 0), 5)
		assert [d for d, _ in recv_all(bv.rtp, timeout=2, count=5)] == vid
		assert [d for d, _ in recv_all(c.b.rtp, timeout=2, count=5)] == aud
	finally:
		bv.close()
		c.close()


def test_bundle_member_rejected(relay):
	"""B rejects the video: the answer's group names only the audio."""
	r = relay()
	c = Call(r)
	try:
		c.offer(sdp=offer_sdp(c.a))
		c.answer(sdp=plain_answer(c.b, c.b, video_port=0))
		ans = c.answer_reply
		assert ans.port(1) == 0 and ans.port(0) != 0
		assert ans.attrs(None, "group") == ["BUNDLE a"]
		aud, vid = send_av(c.a.rtp, dest(ans, 0), 5)
		assert [d for d, _ in recv_all(c.b.rtp, timeout=2, count=5)] == aud
	finally:
		c.close()


def test_no_bundle_offer_answer_has_no_group(relay):
	"""Without BUNDLE in the offer nothing is grouped, even if B's answer says so."""
	r = relay()
	c = Call(r)
	try:
		sdp = offer_sdp(c.a).replace("a=group:BUNDLE a v\r\n", "")
		c.offer(sdp=sdp)
		c.answer(sdp=offer_sdp(c.b, video_port=c.b.port))
		ans = c.answer_reply
		assert not ans.attrs(None, "group") and ans.port(0) != ans.port(1)
	finally:
		c.close()


def webrtc_av(phone, peer):
	ice = ["a=ice-ufrag:WbRt", "a=ice-pwd:x9cml/YzichV2+XlhiMu8gQq",
	       "a=fingerprint:" + peer.fingerprint, "a=setup:actpass",
	       "a=candidate:1 1 udp 2122260223 %s %d typ host" % (phone.host, phone.port)]
	return offer_sdp(phone, "UDP/TLS/RTP/SAVPF", video_port=phone.port, extra_a=ice,
			 extra_v=ice)


def test_bundle_dtls_ice_to_plain(relay):
	"""A WebRTC-like side bundles audio and video over one ICE/DTLS transport; B is
	plain with a port per section. One handshake, one SRTP session for both."""
	r = relay()
	c = Call(r)
	bv = Phone(name="callee-video")
	peer = DtlsPeer(c.a.rtp, client=False)
	try:
		c.offer(sdp=webrtc_av(c.a, peer), **{"transport-protocol": "RTP/AVP",
						     "rtcp-mux": ["demux"]})
		o = c.offer_reply
		assert o.medias[0]["proto"] == o.medias[1]["proto"] == "RTP/AVP"
		assert not o.attrs(0, "fingerprint") and not o.attrs(1, "fingerprint")
		# ICE toward B as for any offer with ICE: a port and an agent per section
		assert o.attrs(0, "ice-ufrag") and o.attrs(1, "ice-ufrag")
		c.answer(sdp=plain_answer(c.b, bv))
		ans = c.answer_reply
		check_answer_bundled(ans)
		for i in (0, 1):
			assert ans.medias[i]["proto"] == "UDP/TLS/RTP/SAVPF"
		# the same transport described in both sections
		for name in ("ice-ufrag", "ice-pwd", "fingerprint", "setup", "candidate"):
			assert ans.attrs(0, name) == ans.attrs(1, name) != []
		assert len(ans.attrs(0, "candidate")) == 1
		shared = dest(ans, 0)
		uf, pw = ans.attrs(0, "ice-ufrag")[0], ans.attrs(0, "ice-pwd")[0]
		ice = ice_nominate(c.a.rtp, shared, "WbRt", "x9cml/YzichV2+XlhiMu8gQq", uf, pw)
		assert peer.handshake(shared, timeout=5, on_other=ice.on_other(c.a.rtp))
		tx, rx = peer.srtp()
		q = wait_for(lambda: (lambda q: q if media(q, c.ftag, 1).get("DTLS", {}).get("state")
				      == "connected" else None)(ok(c.query())), 3)
		assert q, "the video section does not share the audio section's DTLS"
		assert media(q, c.ftag, 0)["DTLS"]["state"] == "connected"

		aud, vid = send_av(c.a.rtp, shared, 20, protect=tx.protect)
		assert [d for d, _ in recv_all(c.b.rtp, timeout=2, count=20)] == aud
		assert [d for d, _ in recv_all(bv.rtp, timeout=2, count=20)] == vid
		drain(c.a.rtp)
		sent_a = c.b.send_rtp(dest(o, 0), n=10, pps=200)
		sent_v = bv.send_rtp(dest(o, 1), n=10, pps=200, ssrc=0x3333)
		got = recv_all(c.a.rtp, timeout=2, count=20)
		assert sorted(rx.unprotect(d) for d, _ in got) == sorted(sent_a + sent_v)
		q = ok(c.query())
		srtp = media(q, c.ftag, 1)["SRTP"]                 # the group's one session
		assert srtp["unprotected"] == 40 and srtp["protected"] == 20
		assert srtp["auth failures"] == 0
		assert media(q, c.ftag, 1)["streams"][0]["stats"]["packets"] == 20
	finally:
		bv.close()
		c.close()


def test_bundle_trickle_goes_to_the_group_transport(relay):
	"""A candidate trickled for the video mid of a bundled side lands in the group's
	one ICE agent (the audio section's)."""
	r = relay()
	c = Call(r)
	bv = Phone(name="callee-video")
	peer = DtlsPeer(c.a.rtp, client=False)
	try:
		c.offer(sdp=webrtc_av(c.a, peer), **{"transport-protocol": "RTP/AVP"})
		c.answer(sdp=plain_answer(c.b, bv))
		before = media(ok(c.query()), c.ftag, 0)["ICE"]["remote candidates"]
		frag = "a=ice-ufrag:WbRt\r\na=mid:v\r\n" \
		       "a=candidate:9 1 udp 2122260223 127.0.0.1 40010 typ host\r\n"
		rep = ok(c.ng.req({"command": "offer", "call-id": c.cid, "from-tag": c.ftag,
				   "sdp": frag, "flags": ["fragment"]}))
		assert "warning" not in rep, rep
		q = ok(c.query())
		assert media(q, c.ftag, 0)["ICE"]["remote candidates"] == before + 1
		assert media(q, c.ftag, 1)["ICE"]["remote candidates"] == before + 1  # same agent
	finally:
		bv.close()
		c.close()


def test_bundle_tagged_rejected_members_stand_alone(relay):
	"""B rejects the audio, the group's tagged section: the group is not answered and
	the video gets a transport of its own, with the ICE credentials of A's offer."""
	r = relay()
	c = Call(r)
	bv = Phone(name="callee-video")
	peer = DtlsPeer(c.a.rtp, client=False)
	try:
		c.offer(sdp=webrtc_av(c.a, peer), ICE="remove", **{"transport-protocol": "RTP/AVP"})
		c.answer(sdp=plain_answer(c.b, bv).replace("m=audio %d " % c.b.port, "m=audio 0 "))
		ans = c.answer_reply
		assert ans.port(0) == 0 and ans.port(1) != 0 and not ans.attrs(None, "group")
		assert ans.attrs(1, "setup") == ["active"] and ans.attrs(1, "fingerprint")
		uf, pw = ans.attrs(1, "ice-ufrag")[0], ans.attrs(1, "ice-pwd")[0]
		ice = ice_nominate(c.a.rtp, dest(ans, 1), "WbRt", "x9cml/YzichV2+XlhiMu8gQq", uf, pw)
		assert peer.handshake(dest(ans, 1), timeout=5, on_other=ice.on_other(c.a.rtp))
		tx, rx = peer.srtp()
		v = rtp_packet(96, 1, 3000, V_SSRC, b"\x90\x00" + b"v" * 100)
		c.a.rtp.sendto(tx.protect(v), dest(ans, 1))
		assert [d for d, _ in recv_all(bv.rtp, timeout=2, count=1)] == [v]
	finally:
		bv.close()
		c.close()
