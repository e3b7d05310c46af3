"""DTLS-SRTP through sluiced: an OpenSSL test peer (python3-openssl) completes the
handshake with sluiced in either role, checks sluiced's certificate against the SDP
fingerprint, then exchanges SRTP (libsrtp2) both ways with a plain RTP/AVP side.
Without rtcp-mux the RTCP port runs a handshake of its own (RFC 5764 4.1) whose keys,
not the RTP ones, protect SRTCP there."""

import time

import pytest

from calls import Call, err, ok, wait_for
from rtp import recv_all
from pylibsrtp import Error as SrtpError
from rtp import rtcp_rr, rtcp_sr
from secure_peer import DtlsPeer, make_cert, sdp_with

pytestmark = pytest.mark.sluice_only

DTLS = "UDP/TLS/RTP/SAVP"


def media0(reply, tag_):
	return reply["tags"][tag_]["medias"][0]


def fp_of(sdp, i=0):
	v = sdp.attrs(i, "fingerprint") or sdp.attrs(None, "fingerprint")
	return v[0] if v else None


def exchange_srtp(srtp_phone, srtp_dest, tx, rx, plain_phone, plain_dest, n=20):
	# SRTP side -> plain side
	sent = []
	for _ in range(n):
		p = srtp_phone.next_rtp()
		srtp_phone.rtp.sendto(tx.protect(p), srtp_dest)
		sent.append(p)
		time.sleep(0.01)
	got = recv_all(plain_phone.rtp, timeout=2, count=n)
	assert sorted(d for d, _ in got) == sorted(sent)
	# plain side -> SRTP side
	sent = plain_phone.send_rtp(plain_dest, n=n, pps=100)
	got = recv_all(srtp_phone.rtp, timeout=2, count=n)
	assert len(got) == n
	assert sorted(rx.unprotect(d) for d, _ in got) == sorted(sent)


def test_dtls_offerer_sluice_active(relay):
	"""A offers DTLS actpass; sluiced answers active and starts the handshake."""
	r = relay()
	c = Call(r)
	peer = DtlsPeer(c.a.rtp, client=False)
	c.offer(sdp=sdp_with(c.a, DTLS, ["a=fingerprint:" + peer.fingerprint, "a=setup:actpass"]),
		**{"transport-protocol": "RTP/AVP"})
	o = c.offer_reply
	assert o.medias[0]["proto"] == "RTP/AVP" and not fp_of(o) and not o.attrs(0, "setup")
	c.answer()
	a = c.answer_reply
	assert a.medias[0]["proto"] == DTLS
	assert a.attrs(0, "setup") == ["active"]
	assert fp_of(a).startswith("sha-256 ")
	assert peer.handshake(c.a_dest(), timeout=5), "handshake did not complete"
	assert peer.peer_fingerprint() == fp_of(a)
	tx, rx = peer.srtp()
	q = wait_for(lambda: (lambda q: q if media0(q, c.ftag).get("crypto suite") ==
			      "AES_CM_128_HMAC_SHA1_80" else None)(ok(c.query())), 2)
	assert q, "sluiced did not key SRTP after the handshake"
	m = media0(q, c.ftag)
	assert m["transport"] == "DTLS"
	assert m["DTLS"] == {"state": "connected", "role": "client", "setup": "active"}
	exchange_srtp(c.a, c.a_dest(), tx, rx, c.b, c.b_dest())
	c.close()


def test_dtls_answerer_client_sluice_passive(relay):
	"""Plain A, DTLS toward B: sluiced offers actpass, B answers active (client)."""
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": DTLS})
	o = c.offer_reply
	assert o.medias[0]["proto"] == DTLS and o.attrs(0, "setup") == ["actpass"]
	peer = DtlsPeer(c.b.rtp, client=True)
	c.answer(sdp=sdp_with(c.b, DTLS, ["a=fingerprint:" + peer.fingerprint, "a=setup:active"]))
	assert c.answer_reply.medias[0]["proto"] == "RTP/AVP"
	assert not fp_of(c.answer_reply)
	assert peer.handshake(c.b_dest(), timeout=5)
	assert peer.peer_fingerprint() == fp_of(o)
	tx, rx = peer.srtp()
	assert wait_for(lambda: media0(ok(c.query()), c.ttag)["DTLS"]["state"] == "connected", 2)
	m = media0(ok(c.query()), c.ttag)
	assert m["DTLS"]["role"] == "server"
	exchange_srtp(c.b, c.b_dest(), tx, rx, c.a, c.a_dest())
	c.close()


def test_dtls_flag_passive(relay):
	"""DTLS=passive in an offer: the offer still says actpass (RFC 5763 5: an offerer
	does; rtpengine writes it too), the answerer's active makes sluiced the server."""
	r = relay()
	c = Call(r)
	c.offer(DTLS="passive", **{"transport-protocol": DTLS})
	assert c.offer_reply.attrs(0, "setup") == ["actpass"]
	peer = DtlsPeer(c.b.rtp, client=True)
	c.answer(sdp=sdp_with(c.b, DTLS, ["a=fingerprint:" + peer.fingerprint, "a=setup:active"]))
	assert peer.handshake(c.b_dest(), timeout=5)
	assert media0(ok(c.query()), c.ttag)["DTLS"]["role"] == "server"
	c.close()


@pytest.mark.parametrize("pref, role", [(None, "client"), ("passive", "server")])
def test_dtls_actpass_answer(relay, pref, role):
	"""An answer that says actpass (RFC 5763 wants active or passive; rtpengine accepts
	it) leaves the role to sluiced: active (its hello starts the handshake whatever the
	peer waits for), or passive if DTLS=passive asked for it; one NOTICE names the call.
	The handshake completes and SRTP flows both ways."""
	r = relay()
	c = Call(r)
	kw = {"DTLS": pref} if pref else {}
	c.offer(**{"transport-protocol": DTLS}, **kw)
	peer = DtlsPeer(c.b.rtp, client=role == "server")
	c.answer(sdp=sdp_with(c.b, DTLS, ["a=fingerprint:" + peer.fingerprint, "a=setup:actpass"]))
	assert c.answer_reply.medias[0]["proto"] == "RTP/AVP"
	assert peer.handshake(c.b_dest(), timeout=5), "handshake did not complete"
	assert peer.peer_fingerprint() == fp_of(c.offer_reply)
	assert wait_for(lambda: media0(ok(c.query()), c.ttag)["DTLS"]["state"] == "connected", 2)
	assert media0(ok(c.query()), c.ttag)["DTLS"]["role"] == role
	tx, rx = peer.srtp()
	exchange_srtp(c.b, c.b_dest(), tx, rx, c.a, c.a_dest())
	time.sleep(0.1)
	notes = [l for l in r.log().splitlines() if "a=setup:actpass" in l and c.cid in l]
	assert len(notes) == 1 and "NOTICE" in notes[0], notes
	c.close()


def test_dtls_wrong_fingerprint_fails(relay):
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": DTLS})
	peer = DtlsPeer(c.b.rtp, client=True)
	other = DtlsPeer(c.b.rtcp, client=True)     # a different certificate
	c.answer(sdp=sdp_with(c.b, DTLS, ["a=fingerprint:" + other.fingerprint, "a=setup:active"]))
	peer.handshake(c.b_dest(), timeout=2)
	st = wait_for(lambda: media0(ok(c.query()), c.ttag)["DTLS"]["state"] == "failed", 2)
	assert st, media0(ok(c.query()), c.ttag)
	# no keys: media from A does not reach B
	c.a.send_rtp(c.a_dest(), n=5, pps=0)
	assert recv_all(c.b.rtp, timeout=0.5) == []
	c.close()


def test_dtls_off_with_udp_tls_offers_sdes(relay):
	"""DTLS=off on UDP/TLS: an SDES-only offer, as rtpengine's; with SDES-off too, an
	error."""
	r = relay()
	c = Call(r)
	c.offer(DTLS="off", **{"transport-protocol": DTLS})
	o = c.offer_reply
	assert o.medias[0]["proto"] == DTLS
	assert len(o.attrs(0, "crypto")) == 12 and not fp_of(o) and not o.attrs(0, "setup")
	c2 = Call(r)
	reason = err(c2.offer(check=False, DTLS="off", flags=["SDES-off"],
			      **{"transport-protocol": DTLS}), "DTLS=off SDES-off")
	assert "SDES" in reason and "DTLS" in reason
	c.close()
	c2.close()


def test_dtls_on_savp(relay):
	"""Plain A, RTP/SAVP toward B: sluiced offers SDES and DTLS (as rtpengine); B answers
	RTP/SAVP with a fingerprint and no a=crypto, so that side is DTLS-SRTP."""
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": "RTP/SAVP"})
	o = c.offer_reply
	assert o.medias[0]["proto"] == "RTP/SAVP"
	assert len(o.attrs(0, "crypto")) == 12 and o.attrs(0, "setup") == ["actpass"]
	peer = DtlsPeer(c.b.rtp, client=True)
	c.answer(sdp=sdp_with(c.b, "RTP/SAVP", ["a=fingerprint:" + peer.fingerprint,
						 "a=setup:active"]))
	assert c.answer_reply.medias[0]["proto"] == "RTP/AVP"
	assert peer.handshake(c.b_dest(), timeout=5)
	assert peer.peer_fingerprint() == fp_of(o)
	tx, rx = peer.srtp()
	assert wait_for(lambda: media0(ok(c.query()), c.ttag)["DTLS"]["state"] == "connected", 2)
	assert media0(ok(c.query()), c.ttag)["transport"] == "DTLS"
	exchange_srtp(c.b, c.b_dest(), tx, rx, c.a, c.a_dest())
	c.close()


def test_dtls_offer_on_savp_answered_with_dtls(relay):
	"""An RTP/SAVP offer with a fingerprint (and a=crypto too) is DTLS: the answer says
	a=setup:active with our fingerprint on RTP/SAVP, no a=crypto, and sluiced runs the
	handshake as the client."""
	r = relay()
	c = Call(r)
	peer = DtlsPeer(c.a.rtp, client=False)
	key = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
	c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [key, "a=fingerprint:" + peer.fingerprint,
						"a=setup:actpass"]),
		**{"transport-protocol": "RTP/AVP"})
	c.answer()
	a = c.answer_reply
	assert a.medias[0]["proto"] == "RTP/SAVP"
	assert a.attrs(0, "setup") == ["active"] and not a.attrs(0, "crypto")
	assert peer.handshake(c.a_dest(), timeout=5)
	tx, rx = peer.srtp()
	assert wait_for(lambda: media0(ok(c.query()), c.ftag)["DTLS"]["state"] == "connected", 2)
	exchange_srtp(c.a, c.a_dest(), tx, rx, c.b, c.b_dest())
	c.close()


def test_osrtp_offer_answered_with_dtls(relay):
	"""OSRTP=offer carries DTLS too (as rtpengine's): an RTP/AVP answer with a
	fingerprint makes that side DTLS-SRTP; the offerer stays plain."""
	r = relay()
	c = Call(r)
	c.offer(OSRTP=["offer"])
	o = c.offer_reply
	assert o.medias[0]["proto"] == "RTP/AVP" and o.attrs(0, "setup") == ["actpass"]
	peer = DtlsPeer(c.b.rtp, client=True)
	c.answer(sdp=sdp_with(c.b, "RTP/AVP", ["a=fingerprint:" + peer.fingerprint,
						"a=setup:active"]))
	assert c.answer_reply.medias[0]["proto"] == "RTP/AVP"
	assert not c.answer_reply.attrs(0, "crypto") and not fp_of(c.answer_reply)
	assert peer.handshake(c.b_dest(), timeout=5)
	tx, rx = peer.srtp()
	assert wait_for(lambda: media0(ok(c.query()), c.ttag)["DTLS"]["state"] == "connected", 2)
	exchange_srtp(c.b, c.b_dest(), tx, rx, c.a, c.a_dest())
	c.close()


def test_sdes_on_udp_tls(relay):
	"""Plain A, UDP/TLS toward B: B answers with a=crypto (one of our tags) and no
	fingerprint, so that side is SDES-SRTP."""
	from secure_peer import SdesKey
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": DTLS})
	o = c.offer_reply
	lines = {v.split()[1]: v for v in o.attrs(0, "crypto")}
	ours = SdesKey.parse(lines["AEAD_AES_128_GCM"])
	kb = SdesKey("AEAD_AES_128_GCM", tag=ours.tag)
	c.answer(sdp=sdp_with(c.b, DTLS, [kb.line()]))
	assert wait_for(lambda: media0(ok(c.query()), c.ttag)["transport"] == "SDES", 1)
	exchange_srtp(c.b, c.b_dest(), kb.tx(), ours.rx(), c.a, c.a_dest())
	c.close()


def test_dtls_offer_without_fingerprint_is_an_error(relay):
	r = relay()
	c = Call(r)
	reason = err(c.offer(sdp=sdp_with(c.a, DTLS, ["a=setup:actpass"]), check=False,
			     **{"transport-protocol": "RTP/AVP"}), "no fingerprint")
	assert "fingerprint" in reason
	c.close()


def webrtc_sdp(phone, peer, port=9):
	"""A browser-like offer: ICE, rtcp-mux, UDP/TLS/RTP/SAVPF, c=0.0.0.0, BUNDLE, mid."""
	h = phone.host
	return "\r\n".join([
		"v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
		"a=group:BUNDLE 0", "a=msid-semantic: WMS stream1",
		"m=audio %d UDP/TLS/RTP/SAVPF 0 8" % port, "c=IN IP4 0.0.0.0",
		"a=rtcp:9 IN IP4 0.0.0.0",
		"a=candidate:1 1 udp 2122260223 %s %d typ host generation 0" % (h, phone.port),
		"a=ice-ufrag:WbRt", "a=ice-pwd:x9cml/YzichV2+XlhiMu8gQq",
		"a=ice-options:trickle",
		"a=fingerprint:" + peer.fingerprint, "a=setup:actpass", "a=mid:0",
		"a=sendrecv", "a=rtcp-mux", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		"a=ssrc:1001 cname:abc"]) + "\r\n"


def test_webrtc_like_offer_to_plain(relay):
	"""ICE + DTLS + rtcp-mux toward A, plain RTP/AVP toward B: sluiced starts DTLS only
	after A's ICE check nominated a pair, then SRTP and SRTCP share one port."""
	from ice_peer import ice_nominate
	from rtp import rtcp_sr
	from secure_peer import stun_parse
	r = relay()
	c = Call(r)
	peer = DtlsPeer(c.a.rtp, client=False)
	c.offer(sdp=webrtc_sdp(c.a, peer), ICE="remove", **{"transport-protocol": "RTP/AVP",
							    "rtcp-mux": ["demux"]})
	o = c.offer_reply
	assert o.medias[0]["proto"] == "RTP/AVP" and not o.attrs(0, "rtcp-mux")
	assert not o.attrs(0, "candidate")
	assert o.attrs(None, "group") == ["BUNDLE 0"]	# passed on: B may bundle too
	c.answer()
	a = c.answer_reply
	assert a.medias[0]["proto"] == "UDP/TLS/RTP/SAVPF"
	assert a.attrs(0, "rtcp-mux") == [""] and a.attrs(0, "mid") == ["0"]
	assert a.attrs(None, "group") == ["BUNDLE 0"]               # a group of one
	assert a.attrs(0, "setup") == ["active"]
	cands = a.attrs(0, "candidate")
	assert len(cands) == 1 and cands[0].split()[1] == "1"      # one component with mux
	assert a.direction() != "sendonly"                           # c=0.0.0.0 is not hold
	uf = a.attrs(0, "ice-ufrag")[0]
	pw = a.attrs(0, "ice-pwd")[0]
	# no DTLS before ICE: only sluiced's connectivity checks arrive yet
	early = [d for d, _ in recv_all(c.a.rtp, timeout=0.4)]
	assert all(stun_parse(d) and stun_parse(d)["type"] == 0x0001 for d in early), early
	ice = ice_nominate(c.a.rtp, c.a_dest(), "WbRt", "x9cml/YzichV2+XlhiMu8gQq", uf, pw)
	assert peer.handshake(c.a_dest(), timeout=5, on_other=ice.on_other(c.a.rtp))
	tx, rx = peer.srtp()
	assert wait_for(lambda: media0(ok(c.query()), c.ftag)["DTLS"]["state"] == "connected", 2)
	exchange_srtp(c.a, c.a_dest(), tx, rx, c.b, c.b_dest())
	# SRTCP on the muxed port comes out as plain RTCP on B's RTCP port (demux)
	sr = rtcp_sr(c.a.ssrc, pkts=3, octets=480)
	c.a.rtp.sendto(tx.protect_rtcp(sr), c.a_dest())
	got = recv_all(c.b.rtcp, timeout=2, count=1)
	assert [d for d, _ in got] == [sr]
	c.close()


# ---- without rtcp-mux: one DTLS association per component ----

def handshake_both(peers, dests):
	"""Run the RTP, then the RTCP endpoint's handshake; (tx, rx) of each."""
	for p, d in zip(peers, dests):
		assert p.handshake(d, timeout=5), "handshake on %r did not complete" % (d,)
	return [p.srtp() for p in peers]


def unprotects(rx, data):
	try:
		return rx.unprotect_rtcp(data)
	except SrtpError:
		return None


def check_srtcp(c, srtp_phone, srtp_dest, keys, plain_phone, plain_dest, tag_):
	"""SRTCP keyed by the RTCP handshake on the RTCP ports, both ways, byte-exact; the
	RTP handshake's keys neither open nor make what passes there."""
	(rtp_tx, rtp_rx), (rtcp_tx, rtcp_rx) = keys
	# SRTP side -> plain side: decrypted, byte-exact, on the plain side's RTCP port
	sr = rtcp_sr(srtp_phone.ssrc, pkts=7, octets=1120)
	srtp_phone.rtcp.sendto(rtcp_tx.protect_rtcp(sr), srtp_dest)
	assert [d for d, _ in recv_all(plain_phone.rtcp, timeout=2, count=1)] == [sr]
	# SRTCP made with the RTP handshake's keys is refused on the RTCP port (its SRTCP
	# index past the one seen, so that it fails authentication, not the replay check)
	before = media0(ok(c.query()), tag_)["SRTP"]["auth failures"]
	for k in range(3):
		wrong = rtp_tx.protect_rtcp(rtcp_sr(srtp_phone.ssrc, pkts=8 + k))
	srtp_phone.rtcp.sendto(wrong, srtp_dest)
	assert recv_all(plain_phone.rtcp, timeout=0.5) == []
	assert wait_for(lambda: media0(ok(c.query()), tag_)["SRTP"]["auth failures"] ==
			before + 1, 2), media0(ok(c.query()), tag_)["SRTP"]
	# plain side -> SRTP side: protected with the RTCP handshake's keys only
	rr = rtcp_rr(plain_phone.ssrc, report_ssrc=srtp_phone.ssrc)
	plain_phone.rtcp.sendto(rr, plain_dest)
	got = recv_all(srtp_phone.rtcp, timeout=2, count=1)
	assert len(got) == 1 and got[0][0] != rr
	assert unprotects(rtp_rx, got[0][0]) is None, "SRTCP keyed by the RTP handshake"
	assert unprotects(rtcp_rx, got[0][0]) == rr


def test_dtls_no_mux_offerer_two_handshakes(relay):
	"""A offers DTLS actpass without rtcp-mux: sluiced answers active and runs a client
	handshake on A's RTP port and another on its RTCP port; A serves both with one
	certificate."""
	r = relay()
	c = Call(r)
	cert = make_cert()
	peers = [DtlsPeer(c.a.rtp, client=False, cert=cert),
		 DtlsPeer(c.a.rtcp, client=False, cert=cert)]
	c.offer(sdp=sdp_with(c.a, DTLS, ["a=fingerprint:" + cert[2], "a=setup:actpass"]),
		**{"transport-protocol": "RTP/AVP"})
	c.answer()
	a = c.answer_reply
	assert not a.attrs(0, "rtcp-mux") and a.attrs(0, "setup") == ["active"]
	assert c.a_dest(rtcp=True)[1] == c.a_dest()[1] + 1
	keys = handshake_both(peers, [c.a_dest(), c.a_dest(rtcp=True)])
	for p in peers:
		assert p.peer_fingerprint() == fp_of(a)
	# two associations: different keys
	assert peers[0].conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 60) != \
		peers[1].conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 60)
	q = wait_for(lambda: (lambda m: m if m.get("DTLS RTCP", {}).get("state") == "connected"
			      else None)(media0(ok(c.query()), c.ftag)), 2)
	assert q, media0(ok(c.query()), c.ftag)
	assert q["DTLS"] == {"state": "connected", "role": "client", "setup": "active"}
	assert q["DTLS RTCP"] == {"state": "connected", "role": "client",
				  "crypto suite": "AES_CM_128_HMAC_SHA1_80"}
	exchange_srtp(c.a, c.a_dest(), keys[0][0], keys[0][1], c.b, c.b_dest())
	check_srtcp(c, c.a, c.a_dest(rtcp=True), keys, c.b, c.b_dest(rtcp=True), c.ftag)
	c.close()


def test_dtls_no_mux_answerer_client_two_handshakes(relay):
	"""Plain A, DTLS toward B without rtcp-mux: B answers active and starts a handshake
	on each of its ports; sluiced serves both."""
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": DTLS})
	o = c.offer_reply
	assert o.medias[0]["proto"] == DTLS and not o.attrs(0, "rtcp-mux")
	cert = make_cert()
	peers = [DtlsPeer(c.b.rtp, client=True, cert=cert),
		 DtlsPeer(c.b.rtcp, client=True, cert=cert)]
	c.answer(sdp=sdp_with(c.b, DTLS, ["a=fingerprint:" + cert[2], "a=setup:active"]))
	keys = handshake_both(peers, [c.b_dest(), c.b_dest(rtcp=True)])
	for p in peers:
		assert p.peer_fingerprint() == fp_of(o)
	assert wait_for(lambda: media0(ok(c.query()), c.ttag).get("DTLS RTCP", {}).get("state")
			== "connected", 2)
	m = media0(ok(c.query()), c.ttag)
	assert m["DTLS"]["role"] == "server" and m["DTLS RTCP"]["role"] == "server"
	exchange_srtp(c.b, c.b_dest(), keys[0][0], keys[0][1], c.a, c.a_dest())
	check_srtcp(c, c.b, c.b_dest(rtcp=True), keys, c.a, c.a_dest(rtcp=True), c.ttag)
	c.close()


def test_dtls_rtcp_handshake_follows_mux(relay):
	"""The RTCP port's own handshake exists only while the side does not multiplex. A
	offers a=rtcp-mux; the answer to A keeps it (demux) or not (reject; B declining)."""
	r = relay()
	for flags, mux in ((["demux"], True), (["reject"], False), ([], False)):
		c = Call(r)
		peer = DtlsPeer(c.a.rtp, client=False)
		c.offer(sdp=sdp_with(c.a, DTLS, ["a=fingerprint:" + peer.fingerprint,
						  "a=setup:actpass", "a=rtcp-mux"]),
			**{"transport-protocol": "RTP/AVP", "rtcp-mux": flags})
		c.answer()
		assert bool(c.answer_reply.attrs(0, "rtcp-mux")) == mux, flags
		m = media0(ok(c.query()), c.ftag)
		assert m["DTLS"]["role"] == "client"
		assert ("DTLS RTCP" in m) != mux, (flags, m)
		if not mux:
			assert m["DTLS RTCP"]["role"] == "client"
		c.close()
