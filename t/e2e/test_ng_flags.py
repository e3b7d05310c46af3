"""rtpengine's offer/answer flags and keys (docs/ng.md, "Flags"): each implemented one
with its effect on the SDP, the media or query; an unsupported one named once."""

import re
import socket
import struct
import time

import pytest

from calls import Call, ok
from conftest import TARGET
from rtp import SDP, drain, recv_all, rtcp_sr

FP = ("a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:"
      "55:66:77:88:99:AA:BB:CC:DD:EE:FF:00")


def lines(sdp, prefix):
	return [l for l in sdp.text.split("\r\n") if l.startswith(prefix)]


def with_lines(sdp, *extra, after="a=rtpmap:101"):
	"""sdp with extra lines inserted after the first line starting with `after`."""
	out = []
	for l in sdp.split("\r\n"):
		out.append(l)
		if l.startswith(after):
			out += list(extra)
			after = "\0"
	return "\r\n".join(out)


# ---- TOS --------------------------------------------------------------------------

def recv_tos(sock, timeout=2.0):
	"""TOS bytes of the datagrams that arrive (IP_RECVTOS cmsg)."""
	sock.settimeout(timeout)
	out = []
	try:
		while True:
			_, anc, _, _ = sock.recvmsg(2048, socket.CMSG_SPACE(4))
			for level, typ, data in anc:
				if level == socket.IPPROTO_IP and typ == socket.IP_TOS:
					out.append(data[0])
			sock.settimeout(0.3)
	except (socket.timeout, BlockingIOError):
		pass
	return out


def send_and_tos(c, n=5):
	drain(c.b.rtp)
	for _ in range(n):
		c.a.rtp.sendto(c.a.next_rtp(), c.a_dest())
		time.sleep(0.01)
	return recv_tos(c.b.rtp)


def test_tos_on_the_wire(relay):
	"""TOS sets the IP TOS byte of the call's media (rtpengine 10.5's reading: an answer
	without the key or a negative value keeps it; an offer without it, or with 256 or
	more, goes back to the default: --tos, here none: 0)."""
	r = relay()
	c = Call(r)
	c.b.rtp.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
	c.offer(TOS=184)
	c.answer()
	assert send_and_tos(c) == [184] * 5
	c.offer(sdp=c.a.sdp(version=2), TOS=-1)
	c.answer(sdp=c.b.sdp(version=2))
	assert send_and_tos(c) == [184] * 5
	c.offer(sdp=c.a.sdp(version=3))
	c.answer(sdp=c.b.sdp(version=3))
	assert send_and_tos(c) == [0] * 5
	c.offer(sdp=c.a.sdp(version=4), TOS=46)
	c.answer(sdp=c.b.sdp(version=4), TOS=-1)
	assert send_and_tos(c) == [46] * 5
	c.offer(sdp=c.a.sdp(version=5), TOS=256)
	c.answer(sdp=c.b.sdp(version=5))
	assert send_and_tos(c) == [0] * 5
	ok(c.delete())
	c.close()


@pytest.mark.sluice_only
def test_tos_option_default(relay):
	"""--tos applies to userspace-forwarded media too, and TOS overrides it."""
	r = relay(tos=104)
	c = Call(r)
	c.b.rtp.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
	c.setup()
	assert send_and_tos(c) == [104] * 5
	c.offer(sdp=c.a.sdp(version=2), TOS=32)
	c.answer(sdp=c.b.sdp(version=2), TOS=32)
	assert send_and_tos(c) == [32] * 5
	ok(c.delete())
	c.close()


# ---- labels -----------------------------------------------------------------------

def test_labels_in_query(relay):
	"""from-label (as label) names the SDP's sender; set-label does not in offer/answer
	(rtpengine 10.5); query shows them; block media selects by label and to-label, and
	set-label there sets one."""
	r = relay()
	c = Call(r)
	c.offer(**{"from-label": "caller"})
	c.answer(**{"set-label": "ignored"})
	tags = ok(c.query())["tags"]
	assert tags[c.ftag]["label"] == "caller"
	assert "label" not in tags[c.ttag]
	c.answer(**{"from-label": "callee"})
	assert ok(c.query())["tags"][c.ttag]["label"] == "callee"
	m = {"command": "block media", "call-id": c.cid, "label": "caller", "to-label": "callee"}
	ok(r.ng.req(m))
	drain(c.b.rtp)
	for _ in range(5):
		c.a.rtp.sendto(c.a.next_rtp(), c.a_dest())
	assert recv_all(c.b.rtp, timeout=0.5) == []
	ok(c.delete())
	c.close()


# ---- SDP flags --------------------------------------------------------------------

def test_strip_extmap(relay):
	r = relay()
	c = Call(r)
	sdp = with_lines(c.a.sdp(), "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level")
	c.offer(sdp=sdp)
	assert len(lines(c.offer_reply, "a=extmap:")) == 1
	c.offer(sdp=sdp, flags=["strip-extmap"])
	assert lines(c.offer_reply, "a=extmap:") == []
	ok(c.delete())
	c.close()


def test_original_sendrecv(relay):
	"""With c=0.0.0.0 hold the relay says sendonly; original-sendrecv keeps sendrecv
	where the SDP had it."""
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(hold_zero=True))
	assert c.offer_reply.direction() == "sendonly"
	c.offer(sdp=c.a.sdp(hold_zero=True), flags=["original-sendrecv"])
	assert c.offer_reply.direction() == "sendrecv"
	ok(c.delete())
	c.close()


def test_replace_zero_address(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(hold_zero=True))
	assert c.offer_reply.mconn()[1] == "0.0.0.0"
	c.offer(sdp=c.a.sdp(hold_zero=True), replace=["zero-address"])
	assert c.offer_reply.mconn()[1] == "127.0.0.1"
	ok(c.delete())
	c.close()


def test_replace_sdp_version_and_username(relay):
	"""sdp-version: the version is the relay's, unchanged while the SDP is, +1 when it
	changes; username: the first one sent to that side stays."""
	r = relay()
	c = Call(r)
	kw = {"replace": ["sdp-version", "username"]}
	c.offer(sdp=c.a.sdp(version=7), **kw)
	assert c.offer_reply.origin["version"] == "7"
	c.offer(sdp=c.a.sdp(version=8), **kw)             # same SDP, new version
	assert c.offer_reply.origin["version"] == "7"
	c.offer(sdp=c.a.sdp(version=9, direction="sendonly").replace("o=- ", "o=bob "), **kw)
	assert c.offer_reply.origin["version"] == "8"
	assert c.offer_reply.text.split("\r\n")[1].startswith("o=- ")
	ok(c.delete())
	c.close()


@pytest.mark.sluice_only       # rtpengine 10.5 ignores the flag (its later versions do this)
def test_replace_session_name(relay):
	"""session-name: the s= line sent to a side stays the one of the first SDP it got
	with the flag (as username does for o=); without the flag s= passes unchanged."""
	r = relay()
	c = Call(r)
	kw = {"replace": ["session-name"]}
	c.offer(**kw)
	assert lines(c.offer_reply, "s=") == ["s=-"]
	c.offer(sdp=c.a.sdp(version=2).replace("s=-", "s=Talk"), **kw)
	assert lines(c.offer_reply, "s=") == ["s=-"]
	c.offer(sdp=c.a.sdp(version=3).replace("s=-", "s=Talk"))
	assert lines(c.offer_reply, "s=") == ["s=Talk"]
	# the other side has its own: the first answer it got
	c.answer(sdp=c.b.sdp().replace("s=-", "s=Callee"), **kw)
	assert lines(c.answer_reply, "s=") == ["s=Callee"]
	c.answer(sdp=c.b.sdp(version=2).replace("s=-", "s=Other"), **kw)
	assert lines(c.answer_reply, "s=") == ["s=Callee"]
	ok(c.delete())
	c.close()


def test_single_codec(relay):
	r = relay()
	c = Call(r)
	c.offer()
	c.answer(flags=["single-codec"])
	assert c.answer_reply.medias[0]["fmts"] == ["0", "101"]
	ok(c.delete())
	c.close()


def test_ice_optional_and_lite(relay):
	"""ICE=optional adds ICE where the SDP had none; ICE-lite=forward makes the relay a
	lite agent toward the answerer: a=ice-lite (rtpengine writes it too)."""
	r = relay()
	c = Call(r)
	c.offer(ICE="optional", **{"ICE-lite": "forward"})
	assert lines(c.offer_reply, "a=candidate:")
	assert lines(c.offer_reply, "a=ice-ufrag:")
	assert lines(c.offer_reply, "a=ice-lite") == ["a=ice-lite"]
	ok(c.delete())
	c.close()


# ---- rtcp-mux ---------------------------------------------------------------------

def test_rtcp_mux_reject(relay):
	"""rtcp-mux=reject: B is offered mux as A offered it, and takes it; A's mux is
	declined in the answer (a=rtcp names port+1, no a=rtcp-mux). A's RTCP, sent to that
	port, reaches B multiplexed on its RTP port; B's reaches A on A's RTCP port."""
	r = relay()
	c = Call(r)
	c.offer(sdp=with_lines(c.a.sdp(), "a=rtcp-mux"), **{"rtcp-mux": ["reject"]})
	assert lines(c.offer_reply, "a=rtcp-mux") == ["a=rtcp-mux"]
	c.answer(sdp=with_lines(c.b.sdp(), "a=rtcp-mux"))
	a = c.answer_reply
	assert lines(a, "a=rtcp-mux") == []
	assert a.rtcp_port() == a.port() + 1
	for s in (c.a.rtp, c.a.rtcp, c.b.rtp, c.b.rtcp):
		drain(s)
	sr_a, sr_b = rtcp_sr(0x1111), rtcp_sr(0x2222)
	c.a.rtcp.sendto(sr_a, c.a_dest(rtcp=True))
	assert [d for d, _ in recv_all(c.b.rtp, timeout=1, count=1)] == [sr_a]
	c.b.rtp.sendto(sr_b, c.b_dest())
	assert [d for d, _ in recv_all(c.a.rtcp, timeout=1, count=1)] == [sr_b]
	assert recv_all(c.b.rtcp, timeout=0.2) == []
	ok(c.delete())
	c.close()


# ---- SRTP flags -------------------------------------------------------------------

def test_sdes_key_parameters(relay):
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": "RTP/SAVP", "SDES": ["lifetime", "unencrypted_srtp"]})
	cr = lines(c.offer_reply, "a=crypto:")
	cm = [l for l in cr if " AES_CM_128_HMAC_SHA1_80 " in l][0]
	assert re.search(r"inline:[A-Za-z0-9+/]{40}\|2\^31 UNENCRYPTED_SRTP$", cm), cm
	ok(c.delete())
	c.close()


@pytest.mark.sluice_only
def test_sdes_key_padding(relay):
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": "RTP/SAVP",
		   "SDES": ["lifetime", "unencrypted_srtp", "pad", "only-AEAD_AES_128_GCM",
			    "only-AES_CM_128_HMAC_SHA1_80"]})
	cr = lines(c.offer_reply, "a=crypto:")
	assert len(cr) == 2
	gcm = [l for l in cr if "AEAD_AES_128_GCM" in l][0]
	# AEAD has no unencrypted mode (RFC 7714); its 28 key bytes end in "=="
	assert re.search(r"inline:[A-Za-z0-9+/]{38}==\|2\^31$", gcm), gcm
	c.offer(sdp=c.a.sdp(version=2), **{"transport-protocol": "RTP/SAVP",
					   "SDES": ["only-AEAD_AES_128_GCM"]})
	gcm = lines(c.offer_reply, "a=crypto:")[0]
	assert re.search(r"inline:[A-Za-z0-9+/]{38}$", gcm), gcm   # no padding by default
	ok(c.delete())
	c.close()


def dtls_offer(phone):
	sdp = phone.sdp(proto="UDP/TLS/RTP/SAVP")
	return with_lines(sdp, FP, "a=setup:actpass")


def test_dtls_fingerprint_and_reverse(relay):
	"""DTLS-fingerprint picks the hash of our a=fingerprint; DTLS-reverse=passive our
	role toward the DTLS offerer."""
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": "UDP/TLS/RTP/SAVP", "DTLS-fingerprint": "sha-1"})
	fp = lines(c.offer_reply, "a=fingerprint:")[0]
	assert re.fullmatch(r"a=fingerprint:sha-1 ([0-9A-F]{2}:){19}[0-9A-F]{2}", fp), fp
	ok(c.delete())
	c2 = Call(r)
	c2.offer(sdp=dtls_offer(c2.a), **{"transport-protocol": "RTP/AVP",
					  "DTLS-reverse": "passive"})
	c2.answer()
	assert lines(c2.answer_reply, "a=setup:") == ["a=setup:passive"]
	ok(c2.delete())
	c3 = Call(r)
	c3.offer(sdp=dtls_offer(c3.a), **{"transport-protocol": "RTP/AVP"})
	c3.answer()
	assert lines(c3.answer_reply, "a=setup:") == ["a=setup:active"]
	ok(c3.delete())
	for x in (c, c2, c3):
		x.close()


def osrtp_sdp(phone, version=None):
	return with_lines(phone.sdp(version=version),
			  "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
			  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")


def transports(q, tag_):
	return q["tags"][tag_]["medias"][0].get("transport", "plain")


def test_osrtp_offer(relay):
	"""OSRTP=offer: a plain offer goes on as RTP/AVP with our a=crypto; an answer that
	takes it makes that side SRTP while the offerer stays plain."""
	r = relay()
	c = Call(r)
	c.offer(OSRTP=["offer"])
	assert c.offer_reply.medias[0]["proto"] == "RTP/AVP"
	cr = [l for l in lines(c.offer_reply, "a=crypto:") if " AES_CM_128_HMAC_SHA1_80 " in l]
	assert len(cr) == 1
	tagn = cr[0].split()[0].split(":")[1]
	key = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
	c.answer(sdp=with_lines(c.b.sdp(), "a=crypto:%s AES_CM_128_HMAC_SHA1_80 %s" % (tagn, key)))
	assert lines(c.answer_reply, "a=crypto:") == []
	# media: A's plain RTP reaches B as SRTP (same header, encrypted payload, 80-bit tag)
	if TARGET != "sluiced":
		ok(c.delete())
		c.close()
		return          # the media part checks sluice's keys
	drain(c.b.rtp)
	sent = []
	for _ in range(5):
		sent.append(c.a.next_rtp())
		c.a.rtp.sendto(sent[-1], c.a_dest())
		time.sleep(0.01)
	got = [d for d, _ in recv_all(c.b.rtp, timeout=1, count=5)]
	assert len(got) == 5
	for p, g in zip(sent, got):
		assert len(g) == len(p) + 10 and g[:12] == p[:12] and g[12:len(p)] != p[12:]
	q = ok(c.query())
	if "transport" in q["tags"][c.ttag]["medias"][0]:      # sluice's query says it
		assert transports(q, c.ttag) == "SDES" and transports(q, c.ftag) == "plain"
	ok(c.delete())
	c.close()


def test_osrtp_accept(relay):
	"""An OSRTP offer to a plain answerer: without flags the offerer stays plain (its
	offer is not accepted); with OSRTP=accept it gets our key and SRTP."""
	r = relay()
	for flag, want in ((None, "plain"), (["accept"], "SDES")):
		c = Call(r)
		kw = {"OSRTP": flag} if flag else {}
		c.offer(sdp=osrtp_sdp(c.a), **kw)
		assert lines(c.offer_reply, "a=crypto:")    # passed on as OSRTP
		c.answer(**kw)
		assert bool(lines(c.answer_reply, "a=crypto:")) == (want == "SDES")
		q = ok(c.query())
		if "transport" in q["tags"][c.ftag]["medias"][0]:      # sluice: its own keys
			assert transports(q, c.ftag) == want
			assert "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR" not in c.offer_reply.text
		ok(c.delete())
		c.close()


# ---- generate-RTCP ----------------------------------------------------------------

def test_generate_rtcp(relay):
	"""generate-RTCP: RTCP is consumed, not forwarded; the relay sends its own."""
	r = relay()
	c = Call(r)
	c.offer(flags=["generate-RTCP"])
	c.answer()
	for s in (c.a.rtcp, c.b.rtcp):
		drain(s)
	for _ in range(10):
		c.a.rtp.sendto(c.a.next_rtp(), c.a_dest())
		c.b.rtp.sendto(c.b.next_rtp(), c.b_dest())
		time.sleep(0.02)
	sent = rtcp_sr(c.a.ssrc)
	c.a.rtcp.sendto(sent, c.a_dest(rtcp=True))
	got = [d for d, _ in recv_all(c.b.rtcp, timeout=1, idle=0.5)]
	assert sent not in got, "A's RTCP was forwarded"
	if TARGET != "sluiced":
		return          # rtpengine sends its own reports less often
	assert got, "B got no RTCP"
	for d in got:   # the relay's own SR + SDES (its CNAME), never A's packet
		assert d != sent and d[1] == 200
		off = 4 * (struct.unpack_from("!H", d, 2)[0] + 1)
		assert d[off + 1] == 202 and b"sluice" in d[off:], d
	assert "transcoding" in ok(c.query())["tags"][c.ftag]["medias"][0]["flags"]
	ok(c.delete())
	c.close()


# ---- unsupported ------------------------------------------------------------------

@pytest.mark.sluice_only
def test_unsupported_flag_notice_once(relay):
	"""A documented flag or key sluice does not implement is ignored and named in one
	NOTICE line per daemon lifetime, however often it is used."""
	r = relay()
	for i in range(3):
		c = Call(r)
		c.offer(flags=["NAT-wait", "pierce NAT"], OSRTP=["offer-legacy"],
			**{"xmlrpc-callback": "127.0.0.1", "media-echo": "both"})
		assert not lines(c.offer_reply, "a=crypto:")        # offer-legacy is not offer
		c.answer(flags=["NAT-wait"])
		ok(c.delete())
		c.close()
	time.sleep(0.2)
	log = r.log()
	for name in ("NAT-wait", "pierce-NAT", "OSRTP=offer-legacy", "xmlrpc-callback", "media-echo"):
		n = len(re.findall(r"NOTICE.*'%s' is not supported" % re.escape(name), log))
		assert n == 1, "%s named %d times" % (name, n)
	# implemented and obsolete flags are not named
	c = Call(r)
	c.offer(flags=["reorder-codecs", "port-latching", "strip-extmap"])
	ok(c.delete())
	c.close()
	time.sleep(0.2)
	assert "reorder-codecs' is not" not in r.log()
