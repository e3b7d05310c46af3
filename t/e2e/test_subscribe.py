"""Media fork: NG `subscribe request` / `subscribe answer` / `unsubscribe`. A third
endpoint (a monitor) subscribed to both parties of a running call receives a copy of
each direction on its own port (same SSRC, sequence numbers and payload as the party
sent), which it decodes to the tone that party sends; the call itself goes on
unchanged; sources are in userspace while copied; unsubscribe stops the copies."""

import time

import numpy as np
import pytest

from calls import Call, err, ok
from rtp import Phone, drain, rtp_parse
from test_play_dtmf_plain import got, rtp_stream_of
from test_transcode import decode, encode, fit

pytestmark = pytest.mark.sluice_only


def tone(freq, n_pkts):
	"""PCMU payloads of 20 ms of freq."""
	t = np.arange(160 * n_pkts) / 8000
	pcm = np.round(10000 * np.sin(2 * np.pi * freq * t)).astype("<i2")
	return encode("PCMU", pcm)


def monitor_sdp(ports, codecs="0"):
	lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
	for p in ports:
		lines += ["m=audio %d RTP/AVP %s" % (p, codecs), "a=recvonly"]
	return "\r\n".join(lines) + "\r\n"


def send_payloads(phone, dest, payloads):
	sent = []
	for i, pl in enumerate(payloads):
		p = phone.next_rtp(pl)
		phone.rtp.sendto(p, dest)
		sent.append(p)
		if i % 10 == 9:
			time.sleep(0.005)
	return sent


def peak(payloads):
	x = decode("PCMU", payloads)
	_, _, f = fit(x, 8000, (1000, 440), start=0.05, secs=0.3)
	return f


def test_monitor_gets_both_directions(relay):
	r = relay()
	c = Call(r).setup()
	m1, m2 = Phone(name="mon1"), Phone(name="mon2")
	req = {"command": "subscribe request", "call-id": c.cid,
	       "from-tags": [c.ftag, c.ttag], "to-tag": "monitor-1"}
	rep = ok(c.ng.req(req), "subscribe request")
	assert rep["to-tag"] == "monitor-1" and rep["from-tags"] == [c.ftag, c.ttag]
	text = rep["sdp"]
	assert text.count("m=audio ") == 2 and text.count("a=sendonly") == 2, text
	assert "a=rtpmap:0 PCMU/8000" in text and "telephone-event/8000" in text, text
	ports = [int(l.split()[1]) for l in text.splitlines() if l.startswith("m=audio")]
	assert all(r.in_range(p) for p in ports) and len(set(ports)) == 2, ports
	ans = {"command": "subscribe answer", "call-id": c.cid, "to-tag": "monitor-1",
	       "sdp": monitor_sdp([m1.port, m2.port])}
	ok(c.ng.req(ans), "subscribe answer")
	assert rtp_stream_of(ok(c.query()), c.ftag)["not in kernel"] == "copied to a subscriber"
	for s in (c.a.rtp, c.b.rtp, m1.rtp, m2.rtp):
		drain(s)
	a_sent = send_payloads(c.a, c.a_dest(), tone(1000, 25))
	b_sent = send_payloads(c.b, c.b_dest(), tone(440, 25))
	for mon, sent, peer in ((m1, a_sent, c.b), (m2, b_sent, c.a)):
		copy = got(mon.rtp, 25)
		call_leg = got(peer.rtp, 25)
		want = [rtp_parse(x) for x in sent]
		for g in (copy, call_leg):
			assert [(p["seq"], p["ssrc"], p["payload"]) for p in g] == \
				[(w["seq"], w["ssrc"], w["payload"]) for w in want]
	assert got(m1.rtp, 1) == [] and got(m2.rtp, 1) == []   # one copy each, no more
	# decodable: each copy is its party's tone
	a2 = send_payloads(c.a, c.a_dest(), tone(1000, 25))
	b2 = send_payloads(c.b, c.b_dest(), tone(440, 25))
	assert abs(peak([p["payload"] for p in got(m1.rtp, 25)]) - 1000) < 10
	assert abs(peak([p["payload"] for p in got(m2.rtp, 25)]) - 440) < 10
	assert len(a2) == len(b2) == 25
	# unsubscribe: no more copies, the call goes on
	ok(c.ng.req({"command": "unsubscribe", "call-id": c.cid, "to-tag": "monitor-1"}))
	for s in (c.b.rtp, m1.rtp):
		drain(s)
	send_payloads(c.a, c.a_dest(), tone(1000, 10))
	assert len(got(c.b.rtp, 10)) == 10
	assert got(m1.rtp, 1) == []
	assert rtp_stream_of(ok(c.query()), c.ftag).get("not in kernel") != "copied to a subscriber"
	ok(c.delete())
	c.close()
	m1.close()
	m2.close()


def test_subscribe_errors(relay):
	"""Unknown call, unknown party, no party named, an answer for an unknown to-tag,
	an answer that accepts none of the source's codecs, publish on a call party's tag."""
	r = relay()
	c = Call(r).setup()
	base = {"call-id": c.cid}
	assert "call-id" in err(c.ng.req({"command": "subscribe request", "call-id": "nope",
					  "from-tag": c.ftag}))
	assert "party" in err(c.ng.req(dict(base, command="subscribe request",
					     **{"from-tag": "nobody"}))).lower()
	assert "selected" in err(c.ng.req(dict(base, command="subscribe request"))).lower()
	assert "subscription" in err(c.ng.req(dict(base, command="subscribe answer",
						    sdp=monitor_sdp([4000]),
						    **{"to-tag": "nope"}))).lower()
	rep = ok(c.ng.req(dict(base, command="subscribe request", all="all")))
	assert rep["from-tags"] == [c.ftag, c.ttag] and len(rep["to-tag"]) == 16
	m = Phone(name="mon")
	reason = err(c.ng.req(dict(base, command="subscribe answer", sdp=monitor_sdp(
		[m.port, m.port + 2], codecs="9"), **{"to-tag": rep["to-tag"]})))
	assert "codecs" in reason, reason
	assert "publisher" in err(c.ng.req(dict(base, command="publish", sdp=c.a.sdp(),
						**{"from-tag": c.ftag})))
	ok(c.delete())
	c.close()
	m.close()


def test_subscriber_in_its_own_codec(relay):
	"""codec transcode opus in the request adds Opus to the offer; a monitor that answers
	Opus only gets the caller's PCMU as Opus (its own payload type 96 and SSRC, 20 ms
	packets, ts step 960) that decodes to the caller's 1 kHz, with allow-transcoding;
	without the flag the answer is refused."""
	r = relay()
	c = Call(r).setup()
	mon = Phone(name="mon")
	req = {"command": "subscribe request", "call-id": c.cid, "from-tag": c.ftag,
	       "to-tag": "mon-opus", "codec": {"transcode": ["opus"]}}
	rep = ok(c.ng.req(req))
	assert rep["from-tag"] == c.ftag
	mline = [l for l in rep["sdp"].splitlines() if l.startswith("m=audio")]
	assert mline[0].split()[3:] == ["0", "8", "101", "96"], mline
	assert "a=rtpmap:96 opus/48000/2" in rep["sdp"]
	ans_sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		   "m=audio %d RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=recvonly\r\n" % mon.port)
	ans = {"command": "subscribe answer", "call-id": c.cid, "to-tag": "mon-opus", "sdp": ans_sdp}
	assert "allow-transcoding" in err(c.ng.req(ans))
	ok(c.ng.req(dict(ans, flags=["allow-transcoding"])))
	drain(mon.rtp)
	sent = send_payloads(c.a, c.a_dest(), tone(1000, 50))
	copies = got(mon.rtp, 50)
	assert len(copies) >= 45, len(copies)
	assert {p["pt"] for p in copies} == {96}
	assert len({p["ssrc"] for p in copies}) == 1 and copies[0]["ssrc"] != rtp_parse(sent[0])["ssrc"]
	for a, b in zip(copies, copies[1:]):
		assert (b["seq"] - a["seq"]) & 0xFFFF == 1 and (b["ts"] - a["ts"]) & 0xFFFFFFFF == 960
	x = decode("opus", [p["payload"] for p in copies])
	_, _, f = fit(x, 48000, (1000,), start=0.2, secs=0.5)
	assert abs(f - 1000) < 10, f
	# the call's own leg is untouched
	assert len(got(c.b.rtp, 50)) == 50
	ok(c.delete())
	c.close()
	mon.close()
