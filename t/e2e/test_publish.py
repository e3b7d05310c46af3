"""NG `publish` (WebRTC-SFU style, rtpengine's semantics): a publisher sends its offer
and the relay answers it itself, as the receiving end: recvonly (inactive when the
publisher does not send), the offer's first codec only (no telephone-event), its own
ports, keys, fingerprint and ICE as the offer asks. The publisher's media goes nowhere
until subscribers take it with `subscribe request` (from-tag = the publisher's tag) /
`subscribe answer`; `unsubscribe` stops one; `delete` ends all. The SDP checks run
against rtpengine too (E2E_TARGET=rtpengine)."""

import time

import pytest

from conftest import TARGET
from calls import call_id, err, ok, tag
from rtp import SDP, Phone, drain, rtp_parse
from secure_peer import DtlsPeer, SdesKey, sdp_with
from test_play_dtmf_plain import got


def publisher_sdp(phone, codecs=(8, 0, 101), direction="sendonly", **kw):
	return phone.sdp(codecs=codecs, direction=direction, **kw)


def subscriber_sdp(phone, codec=8):
	return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio %d RTP/AVP %d\r\na=recvonly\r\n" % (phone.port, codec))


class Pub:
	"""One publisher on relay r: its phone, call-id, tag, and the answer's SDP."""

	def __init__(self, r, phone=None):
		self.r, self.ng = r, r.ng
		self.phone = phone or Phone(name="publisher")
		self.cid, self.tag = call_id(), tag()

	def publish(self, sdp=None, check=True, **kw):
		m = {"command": "publish", "call-id": self.cid, "from-tag": self.tag,
		     "sdp": sdp if sdp is not None else publisher_sdp(self.phone)}
		m.update(kw)
		rep = self.ng.req(m)
		if check:
			ok(rep, "publish")
			self.answer = SDP(rep["sdp"])
		return rep

	def dest(self):
		return ("127.0.0.1", self.answer.port())

	def subscribe(self, phone, to_tag):
		return self.subscribe_codec(phone, to_tag, 8)

	def subscribe_codec(self, phone, to_tag, codec):
		rep = ok(self.ng.req({"command": "subscribe request", "call-id": self.cid,
				      "from-tag": self.tag, "to-tag": to_tag}), "subscribe request")
		ok(self.ng.req({"command": "subscribe answer", "call-id": self.cid, "to-tag": to_tag,
				"sdp": subscriber_sdp(phone, codec)}), "subscribe answer")
		return rep

	def send(self, n, pt=8):
		"""n RTP packets at 500 per second (rtpengine's userspace path loses some of a
		burst)."""
		sent = []
		for i in range(n):
			p = self.phone.next_rtp(bytes([i & 0xff]) * 160, pt=pt)
			self.phone.rtp.sendto(p, self.dest())
			sent.append(rtp_parse(p))
			time.sleep(0.002)
		return sent


def mline(sdp):
	"""The fields of the first m= line after the port: [proto, formats...]."""
	return [l for l in sdp.lines if l.startswith("m=")][0].split()[2:]


def fields(pkts):
	return [(p["pt"], p["seq"], p["ts"], p["ssrc"], p["payload"]) for p in pkts]


def test_publish_answer_sdp(relay):
	r = relay()
	pub = Pub(r)
	pub.publish()
	a = pub.answer
	assert a.text.count("m=audio ") == 1, a.text
	assert mline(a) == ["RTP/AVP", "8"], a.text                # the first codec only
	assert r.in_range(a.port()) and a.port() != pub.phone.port
	assert a.direction() == "recvonly"
	assert a.attrs(0, "rtpmap") == ["8 PCMA/8000"], a.text    # no telephone-event
	assert a.rtcp_port() == a.port() + 1
	assert a.mconn() == ("IP4", "127.0.0.1"), a.text
	assert not a.attrs(0, "crypto") and not a.attrs(0, "ice-ufrag")
	# a second publish on the same tag is a re-offer: same ports, same answer
	port = a.port()
	pub.publish(publisher_sdp(pub.phone, codecs=(0, 8)))
	assert pub.answer.port() == port
	assert pub.answer.attrs(0, "rtpmap") == ["0 PCMU/8000"]
	# codec flags: strip removes a codec from the choice (rtpengine 10.5 takes the first
	# whatever strip says: rtpengine-differences.md), mask does not
	p3 = Pub(r)
	p3.publish(codec={"strip": ["PCMA"]})
	if TARGET == "sluiced":
		assert mline(p3.answer) == ["RTP/AVP", "0"], p3.answer.text
	p4 = Pub(r)
	p4.publish(codec={"mask": ["PCMA"]})
	assert mline(p4.answer) == ["RTP/AVP", "8"], p4.answer.text
	# a publisher that does not send gets an inactive answer
	p2 = Pub(r)
	p2.publish(publisher_sdp(p2.phone, direction="recvonly"))
	assert p2.answer.direction() == "inactive"


def test_publish_sdes_and_dtls_answers(relay):
	r = relay()
	key = SdesKey()
	pub = Pub(r)
	pub.publish(sdp_with(pub.phone, "RTP/SAVP", [key.line()], codecs=(0,)))
	a = pub.answer
	assert mline(a) == ["RTP/SAVP", "0"], a.text
	ours = [SdesKey.parse(v) for v in a.attrs(0, "crypto")]
	assert len(ours) == 1 and ours[0].suite == key.suite and ours[0].key != key.key
	# WebRTC: DTLS, ICE, rtcp-mux, a=mid, opus
	ph = Phone(name="webrtc")
	sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	       "m=audio %d UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 127.0.0.1\r\n"
	       "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
	       "a=mid:0\r\na=rtcp-mux\r\na=setup:actpass\r\na=fingerprint:sha-256 %s\r\n"
	       "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
	       "a=candidate:1 1 UDP 2130706431 127.0.0.1 %d typ host\r\na=sendonly\r\n"
	       % (ph.port, ":".join(["AB"] * 32), ph.port))
	w = Pub(r, ph)
	w.publish(sdp)
	a = w.answer
	assert mline(a) == ["UDP/TLS/RTP/SAVPF", "111"], a.text
	assert a.attrs(0, "rtpmap") == ["111 opus/48000/2"]
	assert a.attrs(0, "fmtp") == ["111 minptime=10;useinbandfec=1"]
	assert a.attrs(0, "mid") == ["0"] and a.attrs(0, "rtcp-mux") == [""]
	assert a.attrs(0, "setup") == ["active"] and len(a.attrs(0, "fingerprint")) == 1
	assert a.attrs(0, "ice-ufrag") and a.attrs(0, "ice-pwd")
	cands = a.attrs(0, "candidate")
	assert cands and all(" %d typ host" % a.port() in c for c in cands), cands
	assert a.direction() == "recvonly" and a.rtcp_port() == a.port()


def test_publish_errors(relay):
	r = relay()
	pub = Pub(r)
	assert "SDP" in err(pub.publish(sdp="", check=False), "publish without SDP")
	rep = r.ng.req({"command": "publish", "call-id": pub.cid, "from-tag": pub.tag})
	assert "SDP" in err(rep, "publish without SDP")
	rep = r.ng.req({"command": "subscribe request", "call-id": call_id(), "from-tag": pub.tag})
	assert "call" in err(rep, "subscribe to an unknown call").lower()
	if TARGET == "sluiced":         # rtpengine keeps an empty call from the first one
		assert ok(r.ng.req({"command": "list"}))["calls"] == []


@pytest.mark.sluice_only
def test_publish_on_a_call_party_is_refused(relay):
	"""A from-tag that is one side of an offer/answer call is not a publisher."""
	r = relay()
	ph = Phone(name="a")
	cid, ftag = call_id(), tag()
	ok(r.ng.req({"command": "offer", "call-id": cid, "from-tag": ftag, "sdp": ph.sdp()}))
	rep = r.ng.req({"command": "publish", "call-id": cid, "from-tag": ftag,
			"sdp": publisher_sdp(ph)})
	assert "publisher" in err(rep, "publish on an offerer's tag")


def test_publisher_media_to_two_subscribers(relay):
	r = relay()
	pub = Pub(r)
	pub.publish()
	s1, s2 = Phone(name="sub1"), Phone(name="sub2")
	# before anyone subscribes, the publisher's media goes nowhere (nothing comes back)
	pub.send(5)
	rep = pub.subscribe(s1, "sub-1")
	text = rep["sdp"]
	assert rep["from-tag"] == pub.tag and rep["to-tag"] == "sub-1"
	assert "m=audio " in text and " RTP/AVP 8\r\n" in text and "a=sendonly" in text, text
	assert "telephone-event" not in text, text                 # what the relay took
	pub.subscribe(s2, "sub-2")
	for s in (s1.rtp, s2.rtp, pub.phone.rtp):
		drain(s)
	sent = pub.send(25)
	g1, g2 = got(s1.rtp, 25), got(s2.rtp, 25)
	assert fields(g1) == fields(sent) and fields(g2) == fields(sent)
	seqs = [p["seq"] for p in g1]
	assert all((b - a) & 0xffff == 1 for a, b in zip(seqs, seqs[1:]))
	assert got(s1.rtp, 1) == [] and got(s2.rtp, 1) == []       # one copy each
	assert got(pub.phone.rtp, 1) == []                          # nothing back
	# query: the publisher (and its subscribers), its packets counted
	q = ok(r.ng.req({"command": "query", "call-id": pub.cid}), "query")
	assert pub.tag in q["tags"]
	st = q["tags"][pub.tag]["medias"][0]["streams"][0]
	assert st["stats"]["packets"] == 30, st
	# unsubscribe stops one
	ok(r.ng.req({"command": "unsubscribe", "call-id": pub.cid, "to-tag": "sub-1"}))
	sent = pub.send(10)
	assert got(s1.rtp, 10) == []
	assert fields(got(s2.rtp, 10)) == fields(sent)
	# delete ends all
	ok(r.ng.req({"command": "delete", "call-id": pub.cid, "from-tag": pub.tag}))
	pub.send(10)
	assert got(s2.rtp, 10) == [] and got(s1.rtp, 1) == []
	if TARGET == "sluiced":         # rtpengine keeps the subscribers' parties
		err(r.ng.req({"command": "query", "call-id": pub.cid}), "query after delete")
	# delete of the whole call (no from-tag)
	p2 = Pub(r)
	p2.publish()
	p2.subscribe(s1, "sub-3")
	drain(s1.rtp)
	sent = p2.send(5)
	assert fields(got(s1.rtp, 5)) == fields(sent)
	ok(r.ng.req({"command": "delete", "call-id": p2.cid}))
	p2.send(5)
	assert got(s1.rtp, 5) == []
	err(r.ng.req({"command": "query", "call-id": p2.cid}), "query after delete")


@pytest.mark.sluice_only
def test_srtp_publisher_to_plain_subscriber(relay):
	"""An SDES publisher's SRTP is unprotected with its key: the subscriber gets RTP.
	(rtpengine offers a subscriber the publisher's own transport, RTP/SAVP here;
	sluice's subscriptions are plain RTP, subscribe.h.)"""
	r = relay()
	key = SdesKey()
	pub = Pub(r)
	pub.publish(sdp_with(pub.phone, "RTP/SAVP", [key.line()], codecs=(0,)))
	sub = Phone(name="sub")
	rep = pub.subscribe_codec(sub, "sub-srtp", 0)
	assert " RTP/AVP 0\r\n" in rep["sdp"] and "a=crypto" not in rep["sdp"], rep["sdp"]
	drain(sub.rtp)
	tx, sent = key.tx(), []
	for i in range(20):
		p = pub.phone.next_rtp(bytes([i]) * 160, pt=0)
		pub.phone.rtp.sendto(tx.protect(p), pub.dest())
		sent.append(rtp_parse(p))
		time.sleep(0.002)
	assert fields(got(sub.rtp, 20)) == fields(sent)


@pytest.mark.sluice_only
def test_dtls_publisher_to_subscriber(relay):
	"""A DTLS-SRTP publisher: sluice answers active, completes the handshake, and the
	subscriber gets the publisher's RTP unprotected, and nothing of the handshake."""
	r = relay()
	pub = Pub(r)
	sub = Phone(name="sub")
	peer = DtlsPeer(pub.phone.rtp, client=False)
	pub.publish(sdp_with(pub.phone, "UDP/TLS/RTP/SAVP",
			     ["a=fingerprint:" + peer.fingerprint, "a=setup:actpass"], codecs=(0,)))
	a = pub.answer
	assert a.attrs(0, "setup") == ["active"] and a.direction() == "recvonly"
	pub.subscribe_codec(sub, "sub-dtls", 0)
	drain(sub.rtp)
	assert peer.handshake(pub.dest(), timeout=5), "handshake did not complete"
	assert "sha-256 " + peer.peer_fingerprint().split(" ", 1)[1] == a.attrs(0, "fingerprint")[0]
	tx, _ = peer.srtp()
	time.sleep(0.2)                 # sluice keys its side when the handshake ends
	sent = []
	for i in range(20):
		p = pub.phone.next_rtp(bytes([i]) * 160, pt=0)
		pub.phone.rtp.sendto(tx.protect(p), pub.dest())
		sent.append(rtp_parse(p))
		time.sleep(0.005)
	assert fields(got(sub.rtp, 20)) == fields(sent)     # RTP only: no DTLS record
	assert got(sub.rtp, 1) == []


@pytest.mark.sluice_only
def test_publish_in_cli_sessions(relay):
	"""rtpengine-ctl's `list sessions CALLID` shows the publisher as its tag and nothing
	of the stand-in answerer the relay answers through (as query does)."""
	from test_ctl import cli_relay, rctl
	r, port = cli_relay(relay)
	pub = Pub(r)
	pub.publish()
	out = rctl(port, "list", "sessions", pub.cid)
	tags = [l for l in out.splitlines() if l.startswith("--- Tag ")]
	assert len(tags) == 1 and ("'%s'" % pub.tag) in tags[0] and "FROM_TAG" in tags[0], out
	assert "UNKNOWN" not in out, out
