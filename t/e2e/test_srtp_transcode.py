"""SRTP and transcoding on one call: decrypt -> transcode -> encrypt with the other
side's keys. An SDES-SRTP Opus side and a plain RTP/AVP PCMU side, in both offer
directions; each side sends a tone, the other side must decode it (numpy fit of the
known frequency, see test_transcode.py), and the SRTP side's packets and the
transcoder's RTCP reports toward it must be protected with sluice's key."""

import time

import numpy as np
import pytest

from calls import Call, ok
from rtp import drain, recv_all, rtp_parse
from secure_peer import SdesKey
from test_transcode import (CODECS, blast, check_stream, decode, encode, fit, pcm_rate,
			    rtp_stream, te_sdp)

pytestmark = pytest.mark.sluice_only

SECS = 3
TONE = {"opus": 1004, "PCMU": 440}      # what each side sends
MIN_SNR = {"opus": 12, "PCMU": 12}      # at the receiver of the named codec's side


def tone(freq, rate, secs=SECS):
	t = np.arange(int(rate * secs)) / rate
	return np.round(8000 * np.sin(2 * np.pi * freq * t)).astype("<i2")


def savp(sdp, key):
	"""An RTP/AVP SDP of te_sdp() turned into RTP/SAVP with key's a=crypto line."""
	return sdp.replace(" RTP/AVP ", " RTP/SAVP ") + key.line() + "\r\n"


def media0(reply, tag_):
	return reply["tags"][tag_]["medias"][0]


def crypto_of(sdp):
	lines = [SdesKey.parse(v) for v in sdp.attrs(0, "crypto")]
	assert len(lines) == 1, sdp.text
	return lines[0]


class Side:
	"""One side's phone, codec and SRTP sessions (tx/rx None: plain)."""

	def __init__(self, phone, codec, dest, tx=None, rx=None):
		self.phone, self.codec, self.dest, self.tx, self.rx = phone, codec, dest, tx, rx
		self.pt, _, self.clock = CODECS[codec]
		self.rate = pcm_rate(codec)

	def packets(self):
		pkts = rtp_stream(self.phone, self.pt, encode(self.codec, tone(TONE[self.codec], self.rate)),
				  self.clock // 50)
		return [self.tx.protect(p) for p in pkts] if self.tx else pkts

	def received(self):
		raw = [d for d, _ in recv_all(self.phone.rtp, timeout=4, idle=0.7)]
		if self.rx:
			# every packet must authenticate with sluice's key (raises otherwise)
			raw = [self.rx.unprotect(d) for d in raw]
		return [p for p in map(rtp_parse, raw) if p]


def run_media(x, y):
	"""x and y send their tones at once (faster than real time); each checks the other's."""
	px, py = x.packets(), y.packets()
	for s in (x.phone.rtp, x.phone.rtcp, y.phone.rtp, y.phone.rtcp):
		drain(s)
	blast(x.phone.rtp, x.dest, px[:1])
	blast(y.phone.rtp, y.dest, py[:1])
	time.sleep(0.05)
	for i in range(1, max(len(px), len(py)), 25):
		blast(x.phone.rtp, x.dest, px[i:i + 25], pause=0)
		blast(y.phone.rtp, y.dest, py[i:i + 25])
	at_x, at_y = x.received(), y.received()
	for me, other, got in ((x, y, at_x), (y, x, at_y)):
		check_stream(got, me.pt, me.clock // 50)
		pcm = decode(me.codec, [p["payload"] for p in got])
		snr, _, peak = fit(pcm, me.rate, (TONE[other.codec],))
		print("%s -> %s: %d packets, SNR %.1f dB, peak %.0f Hz"
		      % (other.codec, me.codec, len(got), snr, peak))
		assert abs(peak - TONE[other.codec]) < 15, "%s side heard %.0f Hz" % (me.codec, peak)
		assert snr > MIN_SNR[me.codec], "%s side: SNR %.1f dB" % (me.codec, snr)
	return len(px), len(py), len(at_x), len(at_y)


def check_rtcp(side):
	"""The transcoder's first SR toward side (sent with its first packet): SRTCP on an
	SRTP side, plain on a plain one."""
	got = [d for d, _ in recv_all(side.phone.rtcp, timeout=1, count=1)]
	assert got, "no RTCP report from the transcoder"
	sr = side.rx.unprotect_rtcp(got[0]) if side.rx else got[0]
	assert sr[1] == 200, "not an SR: %r" % sr[:8]


def test_srtp_opus_offerer_to_plain_pcmu(relay):
	r = relay()
	c = Call(r)
	ka = SdesKey()
	c.offer(sdp=savp(te_sdp(c.a, "opus", te=False), ka), codec={"mask": ["opus"],
		"transcode": ["PCMU"]}, **{"transport-protocol": "RTP/AVP"})
	o = c.offer_reply
	assert o.medias[0]["proto"] == "RTP/AVP" and o.medias[0]["fmts"] == ["0"], o.text
	assert not o.attrs(0, "crypto")
	c.answer(sdp=te_sdp(c.b, "PCMU", te=False))
	a = c.answer_reply
	assert a.medias[0]["proto"] == "RTP/SAVP" and a.medias[0]["fmts"] == ["96"], a.text
	ks = crypto_of(a)
	assert ks.tag == ka.tag and ks.key != ka.key
	x = Side(c.a, "opus", c.a_dest(), tx=ka.tx(), rx=ks.rx())
	y = Side(c.b, "PCMU", c.b_dest())
	# a tampered packet toward the transcoder is dropped and counted
	bad = bytearray(ka.tx().protect(c.a.next_rtp(pt=96, payload=b"\xf8\xff\xfe")))
	bad[14] ^= 1
	c.a.rtp.sendto(bytes(bad), c.a_dest())
	sent_x, sent_y, got_x, got_y = run_media(x, y)
	check_rtcp(x)
	check_rtcp(y)
	q = ok(c.query(), "query")
	ma, mb = media0(q, c.ftag), media0(q, c.ttag)
	assert ma["transport"] == "SDES" and "transcoding" in ma.get("flags", []), ma
	assert ma["transcoder"]["input codec"].startswith("opus"), ma["transcoder"]
	assert ma["SRTP"]["unprotected"] == sent_x and ma["SRTP"]["auth failures"] == 1
	assert ma["SRTP"]["protected"] >= got_x + 1          # + the SRTCP report
	assert mb["transcoder"]["packets out"] == got_x
	c.close()


def test_plain_pcmu_offerer_to_srtp_opus(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=te_sdp(c.a, "PCMU", te=False), codec={"mask": ["PCMU"], "transcode": ["opus"]},
		**{"transport-protocol": "RTP/SAVP", "SDES": ["only-AES_CM_128_HMAC_SHA1_80"]})
	o = c.offer_reply
	assert o.medias[0]["proto"] == "RTP/SAVP", o.text
	ks = crypto_of(o)
	opus_pt = int(o.medias[0]["fmts"][0])
	assert "opus/48000/2" in o.attrs(0, "rtpmap")[0], o.text
	kb = SdesKey(ks.suite, tag=ks.tag)
	b_sdp = te_sdp(c.b, "opus", te=False).replace(" 96\r\n", " %d\r\n" % opus_pt)
	b_sdp = b_sdp.replace("rtpmap:96 ", "rtpmap:%d " % opus_pt)
	c.answer(sdp=savp(b_sdp, kb))
	a = c.answer_reply
	assert a.medias[0]["proto"] == "RTP/AVP" and a.medias[0]["fmts"] == ["0"], a.text
	assert not a.attrs(0, "crypto")
	x = Side(c.a, "PCMU", c.a_dest())
	y = Side(c.b, "opus", c.b_dest(), tx=kb.tx(), rx=ks.rx())
	y.pt = opus_pt
	sent_x, sent_y, got_x, got_y = run_media(x, y)
	check_rtcp(y)
	q = ok(c.query(), "query")
	mb = media0(q, c.ttag)
	assert mb["transport"] == "SDES" and mb["SRTP"]["unprotected"] == sent_y
	assert mb["SRTP"]["protected"] >= got_y + 1
	c.close()


def test_srtp_with_payload_types_renumbered(relay):
	"""Same codec, numbered differently by the answerer: the PT remap runs between
	decrypt and encrypt too."""
	r = relay()
	c = Call(r)
	ka = SdesKey()
	c.offer(sdp=savp(te_sdp(c.a, "opus", te=False), ka), codec={"transcode": ["PCMU"]},
		**{"transport-protocol": "RTP/AVP"})
	assert c.offer_reply.medias[0]["fmts"] == ["96", "0"], c.offer_reply.text
	b_sdp = te_sdp(c.b, "opus", te=False).replace(" 96\r\n", " 111\r\n")
	c.answer(sdp=b_sdp.replace("rtpmap:96 ", "rtpmap:111 "))
	a = c.answer_reply
	assert a.medias[0]["proto"] == "RTP/SAVP" and a.medias[0]["fmts"] == ["96"], a.text
	ks = crypto_of(a)
	tx_a, rx_a = ka.tx(), ks.rx()
	sent = [c.a.next_rtp(pt=96) for _ in range(10)]
	for p in sent:
		c.a.rtp.sendto(tx_a.protect(p), c.a_dest())
	got = [rtp_parse(d) for d, _ in recv_all(c.b.rtp, timeout=2, count=len(sent))]
	assert sorted((g["pt"], g["seq"], g["payload"]) for g in got) == \
		sorted((111, s["seq"], s["payload"]) for s in map(rtp_parse, sent))
	sent_b = [c.b.next_rtp(pt=111) for _ in range(10)]
	for p in sent_b:
		c.b.rtp.sendto(p, c.b_dest())
	got = [rtp_parse(rx_a.unprotect(d)) for d, _ in recv_all(c.a.rtp, timeout=2,
								  count=len(sent_b))]
	assert sorted((g["pt"], g["seq"], g["payload"]) for g in got) == \
		sorted((96, s["seq"], s["payload"]) for s in map(rtp_parse, sent_b))
	q = ok(c.query(), "query")
	ma = media0(q, c.ftag)
	assert "transcoding" not in ma["flags"]
	assert ma["SRTP"]["unprotected"] == 10 and ma["SRTP"]["protected"] == 10
	c.close()
