"""Transcoding through sluiced: codec flags as Kamailio sends them, real encoded audio
in and out, SNR per codec pair, DTMF between RFC 4733 and in-band, ptime conversion,
RTCP on transcoded legs, and a plain call next to a transcoded one.

Audio is encoded and decoded with build/t/sluice-audio (t/tools/sluice-audio.c), which
uses the same codec libraries as sluiced; the measurements are numpy least-squares
fits of the known tone frequencies over whole seconds (so codec delay and phase do not
matter). The SNR table is printed (pytest -s, or see the captured output)."""

import os
import struct
import subprocess
import time

import numpy as np
import pytest

from calls import Call, ok, same
from conftest import REPO
from rtp import Phone, drain, recv_all, rtcp_sr, rtp_packet, rtp_parse

pytestmark = pytest.mark.sluice_only

TOOL = os.environ.get("SLUICE_AUDIO") or os.path.join(
	REPO, os.environ.get("BUILD", "build"), "t", "sluice-audio")

# caller codec -> (payload type, rtpmap, RTP clock)
CODECS = {
	"PCMU": (0, "PCMU/8000", 8000),
	"PCMA": (8, "PCMA/8000", 8000),
	"G722": (9, "G722/8000", 8000),
	"G729": (18, "G729/8000", 8000),
	"opus": (96, "opus/48000/2", 48000),
}
# SNR floors (dB) of X -> PCMU and PCMU -> X: each codec's own round trip less a
# cascade allowance (as t/unit/test_transcode.c), tone and multi-tone
LIMITS = {"PCMA": (30, 30), "G722": (30, 30), "opus": (15, 12), "G729": (12, 6)}
SIGNALS = {"tone": ((1004,), (8000,)), "multi": ((404, 1004, 2204), (4000, 4000, 4000))}
SECONDS = 3
TE = 101
DIGITS = "0123456789*#ABCD"
SNR_TABLE = []


def tool(*args, data=b""):
	if not os.access(TOOL, os.X_OK):
		pytest.fail("%s missing: run make" % TOOL, pytrace=False)
	r = subprocess.run([TOOL] + [str(a) for a in args], input=data, capture_output=True,
			   timeout=60)
	assert r.returncode == 0, "sluice-audio %s: %s" % (args, r.stderr.decode())
	return r.stdout


def pcm_rate(codec):
	return int(tool("rate", codec))


def signal(kind, rate, secs=SECONDS):
	freqs, amps = SIGNALS[kind]
	t = np.arange(int(rate * secs)) / rate
	x = sum(a * np.sin(2 * np.pi * f * t) for f, a in zip(freqs, amps))
	return np.round(x).astype("<i2")


def frames(blob):
	out, i = [], 0
	while i + 2 <= len(blob):
		n = struct.unpack_from("!H", blob, i)[0]
		out.append(blob[i + 2:i + 2 + n])
		i += 2 + n
	return out


def encode(codec, pcm, ptime=20):
	return frames(tool("encode", codec, ptime, data=pcm.tobytes()))


def decode(codec, payloads):
	blob = b"".join(struct.pack("!H", len(p)) + p for p in payloads)
	return np.frombuffer(tool("decode", codec, data=blob), dtype="<i2").astype(float)


def fit(x, rate, freqs, start=0.5, secs=2):
	"""(SNR dB, [amplitude per tone], peak frequency) of x[start:start+secs]."""
	a, n = int(start * rate), int(secs * rate)
	assert len(x) >= a + n, "only %.2f s of audio received" % (len(x) / rate)
	y = x[a:a + n]
	t = np.arange(n) / rate
	cols = []
	for f in freqs:
		cols += [np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)]
	m = np.array(cols).T
	coef, *_ = np.linalg.lstsq(m, y, rcond=None)
	model = m @ coef
	res = y - model
	snr = 10 * np.log10(np.sum(model ** 2) / max(np.sum(res ** 2), 1e-9))
	amps = [float(np.hypot(coef[2 * i], coef[2 * i + 1])) for i in range(len(freqs))]
	spec = np.abs(np.fft.rfft(y * np.hanning(n)))
	peak = float(np.fft.rfftfreq(n, 1.0 / rate)[int(spec.argmax())])
	return snr, amps, peak


def te_sdp(phone, codec, te=True, ptime=20):
	"""SDP offering one codec (+ telephone-event/8000 at 101 for 8 kHz codecs)."""
	pt, rtpmap, clock = CODECS[codec]
	fmts = [pt] + ([TE] if te and clock == 8000 else [])
	lines = ["v=0", "o=- %d %d IN IP4 127.0.0.1" % (phone.sess_id, phone.sess_ver), "s=-",
		 "c=IN IP4 127.0.0.1", "t=0 0",
		 "m=audio %d RTP/AVP %s" % (phone.port, " ".join(map(str, fmts))),
		 "a=rtpmap:%d %s" % (pt, rtpmap)]
	if codec == "G729":
		lines.append("a=fmtp:18 annexb=no")
	if TE in fmts:
		lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"]
	lines += ["a=sendrecv", "a=ptime:%d" % ptime]
	return "\r\n".join(lines) + "\r\n"


def rtp_stream(phone, pt, payloads, step, marker_first=True):
	pkts = []
	for i, p in enumerate(payloads):
		phone.seq = (phone.seq + 1) & 0xFFFF
		pkts.append(rtp_packet(pt, phone.seq, phone.ts, phone.ssrc, p,
				       marker=marker_first and i == 0))
		phone.ts = (phone.ts + step) & 0xFFFFFFFF
	return pkts


def blast(sock, dest, pkts, burst=25, pause=0.01):
	"""Faster than real time (the transcoder follows RTP timestamps, not arrival)."""
	for i in range(0, len(pkts), burst):
		for p in pkts[i:i + burst]:
			sock.sendto(p, dest)
		time.sleep(pause)


def received(sock, count=None, timeout=4):
	got = [rtp_parse(d) for d, _ in recv_all(sock, timeout=timeout, count=count, idle=0.7)]
	return [g for g in got if g]


def check_stream(pkts, pt, step):
	"""One SSRC, consecutive sequence numbers, timestamps advancing by step."""
	assert pkts, "nothing received"
	assert {p["pt"] for p in pkts} == {pt}, "payload types %s" % {p["pt"] for p in pkts}
	assert len({p["ssrc"] for p in pkts}) == 1
	for a, b in zip(pkts, pkts[1:]):
		assert (b["seq"] - a["seq"]) & 0xFFFF == 1, "sequence gap %d -> %d" % (a["seq"], b["seq"])
		assert (b["ts"] - a["ts"]) & 0xFFFFFFFF == step, "ts step %d" % ((b["ts"] - a["ts"]) & 0xFFFFFFFF)


def setup_transcoded(r, codec, b_codec="PCMU", te=True, flags=None):
	"""A offers only `codec`, B answers only `b_codec`; flags mask A's codec and add B's."""
	c = Call(r)
	flags = flags or {"codec": {"mask": [codec], "transcode": [b_codec]}}
	c.offer(sdp=te_sdp(c.a, codec, te), **flags)
	c.answer(sdp=te_sdp(c.b, b_codec, te))
	return c


@pytest.mark.parametrize("kind", ["tone", "multi"])
@pytest.mark.parametrize("codec", ["PCMA", "G722", "opus", "G729"])
def test_codec_pair(relay, codec, kind):
	"""codec -> PCMU (A to B) and PCMU -> codec (B to A) in one call, both at once."""
	r = relay()
	c = setup_transcoded(r, codec)
	a_pt, _, a_clock = CODECS[codec]
	off, ans = c.offer_reply, c.answer_reply
	assert off.medias[0]["fmts"][0] == "0", off.text
	assert str(a_pt) not in off.medias[0]["fmts"], "masked codec still offered: " + off.text
	assert "0 PCMU/8000" in off.attrs(0, "rtpmap")
	assert ans.medias[0]["fmts"][0] == str(a_pt), ans.text
	assert "0" not in ans.medias[0]["fmts"], "A hears a codec it did not offer: " + ans.text

	freqs, amps = SIGNALS[kind]
	a_rate, u_rate = pcm_rate(codec), pcm_rate("PCMU")
	a_pkts = rtp_stream(c.a, a_pt, encode(codec, signal(kind, a_rate)), a_clock // 50)
	b_pkts = rtp_stream(c.b, 0, encode("PCMU", signal(kind, u_rate)), 160)
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	blast(c.a.rtp, c.a_dest(), a_pkts[:1])
	blast(c.b.rtp, c.b_dest(), b_pkts[:1])
	time.sleep(0.05)
	for i in range(1, len(a_pkts), 25):
		blast(c.a.rtp, c.a_dest(), a_pkts[i:i + 25], pause=0)
		blast(c.b.rtp, c.b_dest(), b_pkts[i:i + 25])
	at_b = received(c.b.rtp)
	at_a = received(c.a.rtp)
	check_stream(at_b, 0, 160)
	check_stream(at_a, a_pt, a_clock // 50)

	for name, got, dec, rate in (("%s->PCMU" % codec, at_b, "PCMU", u_rate),
				     ("PCMU->%s" % codec, at_a, codec, a_rate)):
		pcm = decode(dec, [p["payload"] for p in got])
		snr, amp, peak = fit(pcm, rate, freqs)
		level = 20 * np.log10(max(sum(amp), 1e-9) / sum(amps))
		lim = LIMITS[codec][0 if kind == "tone" else 1]
		SNR_TABLE.append((name, kind, snr, peak, level))
		print("%-12s %-6s SNR %5.1f dB  peak %6.0f Hz  level %+5.2f dB  (%d packets)"
		      % (name, kind, snr, peak, level, len(got)))
		assert snr >= lim, "%s %s: SNR %.1f dB < %d" % (name, kind, snr, lim)
		assert abs(level) <= 2, "%s %s: level %+.2f dB" % (name, kind, level)
		if kind == "tone":
			assert abs(peak - 1004) <= 5, "%s: peak at %.0f Hz" % (name, peak)
		else:
			assert min(amp) / max(amp) > 0.6, "%s: tone amplitudes %s" % (name, amp)

	q = ok(c.query(), "query")
	ma = q["tags"][c.ftag]["medias"][0]
	mb = q["tags"][c.ttag]["medias"][0]
	assert ma["codec"] == CODECS[codec][1] and "transcoding" in ma["flags"]
	assert mb["codec"] == "PCMU/8000" and "transcoding" in mb["flags"]
	assert ma["transcoder"]["output codec"] == "PCMU/8000"
	assert ma["transcoder"]["packets in"] == len(a_pkts)
	ok(c.delete())
	c.close()


def test_snr_report():
	"""Prints the SNR table of the pairs above (runs after them)."""
	if not SNR_TABLE:
		pytest.skip("no codec pair ran")
	print("\nSNR through sluiced (decoded output, 20 ms ptime):")
	print("  %-12s %-6s %7s %8s %8s" % ("pair", "signal", "SNR dB", "peak Hz", "level"))
	for name, kind, snr, peak, level in SNR_TABLE:
		print("  %-12s %-6s %7.1f %8.0f %+8.2f" % (name, kind, snr, peak, level))


def test_sample_offer_answer(relay):
	"""The ng-samples "transcode" scenario: A offers 8 101 with mask PCMA + transcode
	PCMU; B is offered 0 101 with a PCMU rtpmap, A is answered 8 101; stats say who
	uses which codec."""
	r = relay()
	c = Call(r)
	sdp = c.a.sdp(codecs=(8, 101))
	c.offer(sdp=sdp, codec={"mask": ["PCMA"], "transcode": ["PCMU"]})
	o = c.offer_reply
	assert o.medias[0]["fmts"] == ["0", "101"], o.text
	assert sorted(o.attrs(0, "rtpmap")) == ["0 PCMU/8000", "101 telephone-event/8000"]
	assert o.attrs(0, "fmtp") == ["101 0-15"]
	c.answer(sdp=c.b.sdp(codecs=(0, 101)))
	a = c.answer_reply
	assert a.medias[0]["fmts"] == ["8", "101"], a.text
	assert sorted(a.attrs(0, "rtpmap")) == ["101 telephone-event/8000", "8 PCMA/8000"]
	q = ok(c.query())
	assert q["tags"][c.ftag]["medias"][0]["codec"] == "PCMA/8000"
	assert q["tags"][c.ttag]["medias"][0]["codec"] == "PCMU/8000"
	for t in (c.ftag, c.ttag):
		assert "transcoding" in q["tags"][t]["medias"][0]["flags"]
	ok(c.delete())
	c.close()


def test_string_flags_and_plain_forward(relay):
	"""codec-* string flags work too; when B picks a codec A offered there is no
	transcoding (bytes arrive unchanged)."""
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(codecs=(8, 101)), flags=["codec-transcode-PCMU"])
	assert c.offer_reply.medias[0]["fmts"] == ["8", "0", "101"], c.offer_reply.text
	c.answer(sdp=c.b.sdp(codecs=(8, 101)))
	assert c.answer_reply.medias[0]["fmts"] == ["8", "101"]
	sent = c.a.send_rtp(c.a_dest(), n=10, pps=0)
	assert same(recv_all(c.b.rtp, timeout=1, count=10), sent)
	q = ok(c.query())
	assert "transcoding" not in q["tags"][c.ftag]["medias"][0]["flags"]
	ok(c.delete())
	c.close()


def rfc4733_train(phone, digits, ts_step=160, on_slots=5, off_slots=5):
	"""PCMU silence with telephone-event digits: per digit on_slots event packets
	(start with marker, durations growing, end sent 3 times) then off_slots audio."""
	silence = b"\xff" * 160
	pkts = []

	def put(pt, ts, payload, marker=False):
		phone.seq = (phone.seq + 1) & 0xFFFF
		pkts.append(rtp_packet(pt, phone.seq, ts, phone.ssrc, payload, marker=marker))

	for _ in range(10):
		put(0, phone.ts, silence)
		phone.ts += ts_step
	for d in digits:
		ev = DIGITS.index(d)
		start = phone.ts
		for k in range(on_slots):
			end = k == on_slots - 1
			dur = ts_step * (k + 1)
			for _ in range(3 if end else 1):
				put(TE, start, struct.pack("!BBH", ev, (0x80 if end else 0) | 10, dur), k == 0)
		phone.ts = start + ts_step * on_slots
		for _ in range(off_slots):
			put(0, phone.ts, silence)
			phone.ts += ts_step
	for _ in range(10):
		put(0, phone.ts, silence)
		phone.ts += ts_step
	return pkts


def events_of(pkts, pt):
	"""Digits of an RFC 4733 packet train, one per event (by timestamp)."""
	seen, out = set(), []
	for p in pkts:
		if p["pt"] != pt:
			continue
		ev = p["payload"][0]
		if p["ts"] not in seen:
			seen.add(p["ts"])
			out.append(DIGITS[ev] if ev < 16 else "?")
	return "".join(out)


def test_dtmf_both_ways(relay):
	"""A (PCMU + telephone-event) <-> B (PCMA, no telephone-event): A's RFC 4733 digits
	reach B as in-band tones spandsp decodes to the same sequence; B's in-band tones
	reach A as RFC 4733 events; each event is logged once."""
	r = relay()
	c = Call(r)
	c.offer(sdp=te_sdp(c.a, "PCMU"), codec={"transcode": ["PCMA"]})
	c.answer(sdp=te_sdp(c.b, "PCMA", te=False))
	assert c.answer_reply.medias[0]["fmts"] == ["0", "101"], c.answer_reply.text

	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	blast(c.a.rtp, c.a_dest(), rfc4733_train(c.a, DIGITS))
	at_b = received(c.b.rtp)
	check_stream(at_b, 8, 160)
	heard = tool("dtmf-detect", data=decode("PCMA", [p["payload"] for p in at_b])
		     .astype("<i2").tobytes()).decode().strip()
	assert heard == DIGITS, "B heard %r" % heard

	tones = np.frombuffer(tool("dtmf-gen", DIGITS, 100, 100, 10), dtype="<i2")
	tones = np.concatenate([np.zeros(1600, dtype="<i2"), tones])
	tones = tones[:len(tones) // 160 * 160]
	blast(c.b.rtp, c.b_dest(), rtp_stream(c.b, 8, encode("PCMA", tones), 160))
	at_a = received(c.a.rtp)
	got = events_of(at_a, TE)
	assert got == DIGITS, "A got events %r" % got
	ends = [p for p in at_a if p["pt"] == TE and p["payload"][1] & 0x80]
	assert len(ends) >= 3 * len(DIGITS)

	log = r.log()
	for d in DIGITS:
		assert "DTMF digit %s, duration" % d in log, "no log line for %s" % d
	assert log.count("RFC 4733, media 1") == len(DIGITS), log[-3000:]
	assert log.count("in-band, media 1") == len(DIGITS)
	q = ok(c.query())
	assert q["tags"][c.ftag]["medias"][0]["transcoder"]["DTMF events"] == len(DIGITS)
	assert q["tags"][c.ttag]["medias"][0]["transcoder"]["DTMF events"] == len(DIGITS)
	ok(c.delete())
	c.close()


def test_ptime_conversion(relay):
	"""ptime=40 in the offer: B is offered a=ptime:40 and gets 40 ms packets of A's
	20 ms PCMU (repacketised, not re-encoded differently)."""
	r = relay()
	c = Call(r)
	c.offer(sdp=te_sdp(c.a, "PCMU", te=False), ptime=40)
	assert c.offer_reply.attrs(0, "ptime") == ["40"], c.offer_reply.text
	c.answer(sdp=te_sdp(c.b, "PCMU", te=False))
	pcm = signal("tone", 8000, 2)
	blast(c.a.rtp, c.a_dest(), rtp_stream(c.a, 0, encode("PCMU", pcm), 160))
	at_b = received(c.b.rtp)
	check_stream(at_b, 0, 320)
	assert {len(p["payload"]) for p in at_b} == {320}
	assert 45 <= len(at_b) <= 50
	snr, _, peak = fit(decode("PCMU", [p["payload"] for p in at_b]), 8000, (1004,),
			   start=0.25, secs=1)
	assert snr > 30 and abs(peak - 1004) <= 5
	ok(c.delete())
	c.close()


def test_rtcp_on_transcoded_leg(relay):
	"""RTCP is not forwarded across the transcoder; each side gets sluice's own SR
	(sender SSRC = the SSRC of the RTP it receives) with a report block about the
	stream it sends."""
	r = relay()
	c = setup_transcoded(r, "PCMA")
	for s in (c.a.rtcp, c.b.rtcp):
		drain(s)
	a_pkts = rtp_stream(c.a, 8, encode("PCMA", signal("tone", 8000, 1)), 160)
	b_pkts = rtp_stream(c.b, 0, encode("PCMU", signal("tone", 8000, 1)), 160)
	# B first: the first SR to B (sent with the first packet to B) then has a report
	# block about B's stream
	blast(c.b.rtp, c.b_dest(), b_pkts)
	time.sleep(0.1)
	blast(c.a.rtp, c.a_dest(), a_pkts)
	c.a.rtcp.sendto(rtcp_sr(c.a.ssrc), c.a_dest(rtcp=True))
	at_b = received(c.b.rtp)
	at_a = received(c.a.rtp)
	rt_a = [d for d, _ in recv_all(c.a.rtcp, timeout=1, idle=0.5)]
	assert [d[1] for d in rt_a] == [200], "A: %s" % rt_a
	assert struct.unpack_from("!I", rt_a[0], 4)[0] == at_a[0]["ssrc"]
	rt_b = [d for d, _ in recv_all(c.b.rtcp, timeout=1, idle=0.5)]
	assert rt_b, "B got no RTCP"
	for d in rt_b:
		assert d[1] == 200, "B got RTCP type %d (forwarded?)" % d[1]
		ssrc = struct.unpack_from("!I", d, 4)[0]
		assert ssrc == at_b[0]["ssrc"] and ssrc != c.a.ssrc
	sr = rt_b[-1]
	assert sr[0] & 0x1f == 1, "SR without a report block"
	assert struct.unpack_from("!I", sr, 28)[0] == c.b.ssrc
	assert struct.unpack_from("!I", sr, 28 + 4)[0] & 0xffffff == 0, "B's stream lost packets?"
	q = ok(c.query())
	assert q["tags"][c.ftag]["medias"][0]["transcoder"]["RTCP received"] == 1
	ok(c.delete())
	c.close()


def test_transcoded_and_plain_side_by_side(relay):
	"""A transcoded call and a plain call on one relay both carry their media."""
	r = relay()
	x = setup_transcoded(r, "PCMA")
	p = Call(r).setup()
	pcm = signal("tone", 8000, 2)
	x_pkts = rtp_stream(x.a, 8, encode("PCMA", pcm), 160)
	sent = p.a.send_rtp(p.a_dest(), n=50, pps=0)
	blast(x.a.rtp, x.a_dest(), x_pkts)
	sent_b = p.b.send_rtp(p.b_dest(), n=50, pps=0)
	assert same(recv_all(p.b.rtp, timeout=2, count=50), sent)
	assert same(recv_all(p.a.rtp, timeout=2, count=50), sent_b)
	at_b = received(x.b.rtp)
	check_stream(at_b, 0, 160)
	snr, _, _ = fit(decode("PCMU", [q["payload"] for q in at_b]), 8000, (1004,),
			start=0.25, secs=1)
	assert snr > 30
	q = ok(p.query())
	assert "transcoding" not in q["tags"][p.ftag]["medias"][0]["flags"]
	assert "transcoder" not in q["tags"][p.ftag]["medias"][0]
	for call in (x, p):
		ok(call.delete())
		call.close()


def test_transcoded_ssrc_is_the_signalled_one(relay):
	"""The transcoder's output SSRC is the one the sender's SDP announced (a=ssrc), so a
	receiver that only takes signalled SSRCs (a browser) accepts it; without a=ssrc it
	is a fresh one, and in both cases it stays put when the sender's SSRC changes."""
	r = relay()
	c = Call(r)
	c.offer(sdp=te_sdp(c.a, "PCMA", True) + "a=ssrc:3735928559 cname:caller\r\n",
		codec={"mask": ["PCMA"], "transcode": ["PCMU"]})
	assert c.offer_reply.attrs(0, "ssrc") == ["3735928559 cname:caller"]
	c.answer(sdp=te_sdp(c.b, "PCMU", True))
	a_pkts = rtp_stream(c.a, 8, encode("PCMA", signal("tone", 8000, 0.4)), 160)
	b_pkts = rtp_stream(c.b, 0, encode("PCMU", signal("tone", 8000, 0.4)), 160)
	blast(c.a.rtp, c.a_dest(), a_pkts)
	c.a.ssrc ^= 0x5a5a
	blast(c.a.rtp, c.a_dest(), rtp_stream(c.a, 8, encode("PCMA", signal("tone", 8000, 0.4)),
					     160))
	blast(c.b.rtp, c.b_dest(), b_pkts)
	at_b, at_a = received(c.b.rtp), received(c.a.rtp)
	assert at_b and {p["ssrc"] for p in at_b} == {3735928559}
	assert at_a and len({p["ssrc"] for p in at_a}) == 1
	assert at_a[0]["ssrc"] != c.b.ssrc          # B announced none: a fresh one
	c.close()
