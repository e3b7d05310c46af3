"""NG `play DTMF` on plainly forwarded calls: the sender's own packets carry the digit
(RFC 4733 events when both sides have telephone-event, in-band G.711 tones otherwise),
no packet added or removed, SSRC, sequence numbers and audio timestamps untouched; the
stream is forwarded in userspace while digits are queued or playing. Other codecs
without telephone-event get an error and their media is left alone. SRTP sides get the
digit in the decrypted packet, then protected as usual."""

import time

import numpy as np
import pytest

from calls import Call, err, ok
from rtp import drain, recv_all, rtp_parse
from secure_peer import SdesKey, sdp_with
from test_transcode import decode, tool

pytestmark = pytest.mark.sluice_only

TE = 101
SILENCE_U = b"\xff" * 160


def play(c, tag, **kw):
	m = c.base("play DTMF", **kw)
	m["from-tag"] = tag
	return c.ng.req(m)


def send(phone, dest, n, pt=0, payload=None, protect=None):
	"""n packets of 20 ms (ts step 160); returns them as sent (before protect)."""
	out = []
	for i in range(n):
		p = phone.next_rtp(payload if payload is not None else bytes([i & 0x7f]) * 160, pt=pt)
		phone.rtp.sendto(protect(p) if protect else p, dest)
		out.append(p)
		if i % 10 == 9:
			time.sleep(0.005)       # the relay keeps up; no socket overflow
	return out


def got(sock, n, unprotect=None):
	out = []
	for d, _ in recv_all(sock, timeout=2, count=n, idle=0.5):
		out.append(rtp_parse(unprotect(d) if unprotect else d))
	return out


def rtp_stream_of(q, tag):
	return q["tags"][tag]["medias"][0]["streams"][0]


def events(pkts):
	"""[(marker, ts, event, end, volume, duration)] of the telephone-event packets."""
	return [(p["marker"], p["ts"], p["payload"][0], bool(p["payload"][1] & 0x80),
		 p["payload"][1] & 0x3f, int.from_bytes(p["payload"][2:4], "big"))
		for p in pkts if p["pt"] == TE]


def continuous(sent, recv):
	"""Same SSRC and sequence numbers as sent, one for one."""
	assert len(recv) == len(sent), "%d sent, %d received" % (len(sent), len(recv))
	s = [rtp_parse(x) for x in sent]
	assert [p["seq"] for p in recv] == [p["seq"] for p in s]
	assert {p["ssrc"] for p in recv} == {s[0]["ssrc"]}
	for a, b in zip(recv, recv[1:]):
		assert (b["seq"] - a["seq"]) & 0xFFFF == 1


def train(ts0, event, volume, slots):
	"""The expected RFC 4733 train of a digit covering `slots` 20 ms packets."""
	dur = 160 * slots
	upd = [(i == 0, ts0, event, False, volume, 160 * (i + 1)) for i in range(slots - 1)]
	return upd + [(slots == 1, ts0, event, True, volume, dur)] + \
		[(False, ts0, event, True, volume, dur)] * 2


def test_events_on_plain_pcmu(relay):
	"""PCMU + telephone-event on both sides: digit 5 of 200 ms from A reaches B as 12
	event packets in the slots of A's audio (marker on the first, the first slot's
	timestamp throughout, duration 160..1600, end bit on the last three, volume 12);
	the audio before and after is A's, byte for byte; the stream is in userspace
	("playing DTMF") only while the digit is queued or playing."""
	r = relay()
	c = Call(r).setup()
	drain(c.b.rtp)
	before = send(c.a, c.a_dest(), 5)
	assert [p["payload"] for p in got(c.b.rtp, 5)] == [rtp_parse(x)["payload"] for x in before]
	st = rtp_stream_of(ok(c.query()), c.ftag)
	assert st.get("not in kernel") != "playing DTMF", st
	ok(play(c, c.ftag, digit="5", duration=200, volume=-12), "play DTMF 5")
	st = rtp_stream_of(ok(c.query()), c.ftag)
	assert st["forwarding"] == "userspace" and st["not in kernel"] == "playing DTMF", st
	# B's side is not playing: its stream is not held for it
	assert rtp_stream_of(ok(c.query()), c.ttag).get("not in kernel") != "playing DTMF"
	sent = send(c.a, c.a_dest(), 20)
	recv = got(c.b.rtp, 20)
	continuous(sent, recv)
	ts0 = rtp_parse(sent[0])["ts"]
	assert events(recv) == train(ts0, 5, 12, 10), events(recv)
	assert all(p["pt"] == TE and len(p["payload"]) == 4 for p in recv[:12])
	for s, p in zip(sent[12:], recv[12:]):
		s = rtp_parse(s)
		assert (p["pt"], p["ts"], p["payload"], p["marker"]) == (0, s["ts"], s["payload"], False)
	st = rtp_stream_of(ok(c.query()), c.ftag)
	assert st.get("not in kernel") != "playing DTMF", st
	assert "play DTMF digit 5, 200 ms, -12 dBm0, pause 100 ms (1 media)" in r.log()
	ok(c.delete())
	c.close()


def test_events_queue_in_order_both_directions(relay):
	"""Two digits queued from A play in order with the pause between them (counted in
	A's timestamps: 100 ms after the first digit ends); B's digit goes the other way."""
	r = relay()
	c = Call(r).setup()
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	ok(play(c, c.ftag, digit="1", duration=100, pause=100))
	ok(play(c, c.ftag, code=11, duration=120, volume=-20, pause=100))
	ok(play(c, c.ttag, digit="D", duration=100))
	sent = send(c.a, c.a_dest(), 25)
	recv = got(c.b.rtp, 25)
	continuous(sent, recv)
	ts = [rtp_parse(x)["ts"] for x in sent]
	# 1: slots 0-6 (end at 4), pause until 100 ms after its end: slots 7-9 audio;
	# #: 120 ms from slot 10 (end at 15), 16-17 repeat the end
	assert [p["pt"] for p in recv] == [TE] * 7 + [0] * 3 + [TE] * 8 + [0] * 7
	assert events(recv) == train(ts[0], 1, 8, 5) + train(ts[10], 11, 20, 6)
	sent_b = send(c.b, c.b_dest(), 10)
	recv_b = got(c.a.rtp, 10)
	continuous(sent_b, recv_b)
	assert events(recv_b) == train(rtp_parse(sent_b[0])["ts"], 15, 8, 5)
	ok(c.delete())
	c.close()


def test_inband_on_pcmu_without_telephone_event(relay):
	"""Without telephone-event the digits become tones inside A's PCMU payloads: spandsp
	hears "7" then "3#" queued with their pauses, in exactly the slots the digits and
	pauses cover; every other payload is A's silence; nothing but PCMU arrives."""
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(codecs=(0, 8)))
	c.answer(sdp=c.b.sdp(codecs=(0,)))
	drain(c.b.rtp)
	ok(play(c, c.ftag, digit="7", duration=200))
	sent = send(c.a, c.a_dest(), 15, payload=SILENCE_U)
	recv = got(c.b.rtp, 15)
	continuous(sent, recv)
	assert {p["pt"] for p in recv} == {0}
	changed = [i for i, p in enumerate(recv) if p["payload"] != SILENCE_U]
	assert changed == list(range(10)), changed
	assert [p["ts"] for p in recv] == [rtp_parse(x)["ts"] for x in sent]
	heard = tool("dtmf-detect", data=decode("PCMU", [p["payload"] for p in recv])
		     .astype("<i2").tobytes()).decode().strip()
	assert heard == "7", "B heard %r" % heard

	ok(play(c, c.ftag, digit="3", duration=100, pause=200))
	ok(play(c, c.ftag, digit="#", duration=100))
	sent = send(c.a, c.a_dest(), 25, payload=SILENCE_U)
	recv = got(c.b.rtp, 25)
	continuous(sent, recv)
	changed = [i for i, p in enumerate(recv) if p["payload"] != SILENCE_U]
	assert changed == list(range(5)) + list(range(15, 20)), changed
	pcm = decode("PCMU", [p["payload"] for p in recv])
	heard = tool("dtmf-detect", data=pcm.astype("<i2").tobytes()).decode().strip()
	assert heard == "3#", "B heard %r" % heard
	# the command's level: each tone at -8 dBm0 (0 dBm0 a sine 3.14 dB below full
	# scale), so the two together have an RMS of one tone's peak
	rms = float(np.sqrt(np.mean(pcm[:800] ** 2)))
	want = 32767 * 10 ** ((-8 - 3.14) / 20)
	assert abs(rms - want) < 0.03 * want, (rms, want)
	ok(c.delete())
	c.close()


def test_other_codec_without_telephone_event_is_an_error(relay):
	"""G.722 only, no telephone-event: an error reply, and A's media passes as sent."""
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(codecs=(9,)))
	c.answer(sdp=c.b.sdp(codecs=(9,)))
	drain(c.b.rtp)
	reason = err(play(c, c.ftag, digit="1"), "G.722 without telephone-event")
	assert "telephone-event" in reason and "G.711" in reason, reason
	sent = send(c.a, c.a_dest(), 10, pt=9)
	recv = got(c.b.rtp, 10)
	continuous(sent, recv)
	assert [(p["pt"], p["payload"]) for p in recv] == \
		[(9, rtp_parse(x)["payload"]) for x in sent]
	assert rtp_stream_of(ok(c.query()), c.ftag).get("not in kernel") != "playing DTMF"
	ok(c.delete())
	c.close()


def test_srtp_side_gets_events_protected(relay):
	"""SRTP (A) <-> RTP (B): B's digit is written into B's plain packets, then
	protected for A (A's libsrtp accepts every packet: the index is continuous); A's
	digit is written into A's packets after they are decrypted, and B gets them plain."""
	r = relay()
	c = Call(r)
	ka = SdesKey("AES_CM_128_HMAC_SHA1_80")
	c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [ka.line()]), **{"transport-protocol": "RTP/AVP"})
	c.answer()
	ks = [SdesKey.parse(v) for v in c.answer_reply.attrs(0, "crypto")][0]
	tx_a, rx_a = ka.tx(), ks.rx()
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	ok(play(c, c.ttag, digit="4", duration=100))
	sent_b = send(c.b, c.b_dest(), 12)
	recv_a = got(c.a.rtp, 12, unprotect=rx_a.unprotect)
	continuous(sent_b, recv_a)
	assert events(recv_a) == train(rtp_parse(sent_b[0])["ts"], 4, 8, 5)
	assert [p["payload"] for p in recv_a[7:]] == [rtp_parse(x)["payload"] for x in sent_b[7:]]
	ok(play(c, c.ftag, digit="9", duration=100))
	sent_a = send(c.a, c.a_dest(), 12, protect=tx_a.protect)
	recv_b = got(c.b.rtp, 12)
	continuous(sent_a, recv_b)
	assert events(recv_b) == train(rtp_parse(sent_a[0])["ts"], 9, 8, 5)
	ok(c.delete())
	c.close()
