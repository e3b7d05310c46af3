"""A subscriber that speaks SDES-SRTP: `subscribe request` with transport-protocol
RTP/SAVP offers RTP/SAVP with the relay's a=crypto lines (no DTLS); the monitor answers
one of them; each copy of the caller's plain packets then reaches it protected with
that key, and it unprotects them to exactly what the caller sent (sequence numbers,
SSRC, payload). An SRTP caller's packets are decrypted and protected again for the
monitor with its own key."""

import pytest

from calls import Call, ok
from rtp import Phone, drain, recv_all, rtp_parse
from secure_peer import SdesKey, sdp_with
from test_subscribe import send_payloads, tone

pytestmark = pytest.mark.sluice_only


def srtp_monitor_sdp(port, key):
	return "\r\n".join(["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1",
			    "t=0 0", "m=audio %d RTP/SAVP 0" % port, "a=recvonly",
			    key.line()]) + "\r\n"


def subscribe_srtp(c, mon, to_tag="mon-s", suite="AES_CM_128_HMAC_SHA1_80"):
	"""The relay's key toward the monitor."""
	rep = ok(c.ng.req({"command": "subscribe request", "call-id": c.cid,
			   "from-tag": c.ftag, "to-tag": to_tag,
			   "transport-protocol": "RTP/SAVP"}), "subscribe request")
	lines = rep["sdp"].splitlines()
	assert any(l.startswith("m=audio ") and " RTP/SAVP " in l for l in lines), rep["sdp"]
	assert not any(l.startswith("a=fingerprint") for l in lines), rep["sdp"]
	keys = [SdesKey.parse(l.split(":", 1)[1]) for l in lines if l.startswith("a=crypto:")]
	ours = next(k for k in keys if k.suite == suite)
	ok(c.ng.req({"command": "subscribe answer", "call-id": c.cid, "to-tag": to_tag,
		     "sdp": srtp_monitor_sdp(mon.port, SdesKey(suite, ours.tag))}),
	   "subscribe answer")
	return ours


def copies(mon, rx, n):
	return [rtp_parse(rx.unprotect(d)) for d, _ in recv_all(mon.rtp, timeout=2, count=n,
								  idle=0.5)]


def test_srtp_monitor_of_plain_call(relay):
	r = relay()
	c = Call(r).setup()
	mon = Phone(name="mon")
	try:
		ours = subscribe_srtp(c, mon)
		rx = ours.rx()
		for s in (c.b.rtp, mon.rtp):
			drain(s)
		sent = [rtp_parse(p) for p in send_payloads(c.a, c.a_dest(), tone(1000, 20))]
		got = copies(mon, rx, 20)
		assert [(p["seq"], p["ssrc"], p["payload"]) for p in got] == \
			[(p["seq"], p["ssrc"], p["payload"]) for p in sent]
		# the call's own leg is unchanged, plain
		assert [rtp_parse(d)["payload"] for d, _ in recv_all(c.b.rtp, timeout=2, count=20)] \
			== [p["payload"] for p in sent]
		q = ok(c.query())
		assert q["tags"]["mon-s"]["medias"][0]["protocol"] == "RTP/SAVP"
		ok(c.delete())
	finally:
		c.close()
		mon.close()


def test_srtp_monitor_of_srtp_caller(relay):
	"""A speaks SRTP with its own key: the monitor gets A's packets under the relay's
	key toward it, not A's."""
	r = relay()
	c = Call(r)
	ka = SdesKey("AES_CM_128_HMAC_SHA1_80")
	c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [ka.line()]), **{"transport-protocol": "RTP/AVP"})
	c.answer()
	mon = Phone(name="mon")
	try:
		ours = subscribe_srtp(c, mon)
		assert ours.key != ka.key
		rx, tx = ours.rx(), ka.tx()
		drain(mon.rtp)
		sent = []
		for pl in tone(440, 10):
			p = c.a.next_rtp(pl)
			c.a.rtp.sendto(tx.protect(p), c.a_dest())
			sent.append(rtp_parse(p))
		got = copies(mon, rx, 10)
		assert [(p["seq"], p["payload"]) for p in got] == [(p["seq"], p["payload"]) for p in sent]
		ok(c.delete())
	finally:
		c.close()
		mon.close()
