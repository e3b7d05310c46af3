"""Transcoding to and from the libavcodec codecs through sluiced (issue 17): GSM,
speex at 8/16/32 kHz, G.723.1, L16, AMR and AMR-WB in both RFC 4867 payload formats,
each against PCMU with real encoded audio both ways (tone and three tones, SNR per
direction as test_transcode.py measures it), the offer side (PCMU caller, codec added
with transcode), AMR's wire format, mode-set and CMR, and the error a proxy gets when it
asks for a codec this libavcodec cannot produce.

AMR and AMR-WB need Debian's libavcodec-extra (opencore-amr, vo-amrwbenc); without it
their cases skip and say so. The SNR table is printed (pytest -s)."""

import socket
import struct
import subprocess
import time

import numpy as np
import pytest

from calls import Call, err, ok
from rtp import drain, recv_all, rtp_parse
from test_transcode import (SECONDS, SIGNALS, TOOL, blast, check_stream, fit, frames,
			    rtp_stream, signal, tool)

pytestmark = pytest.mark.sluice_only

# name -> (payload type, rtpmap, RTP clock, fmtp or None, tool codec name, ptime)
CODECS = {
	"GSM": (3, "GSM/8000", 8000, None, "GSM", 20),
	"speex": (97, "speex/8000", 8000, None, "speex/8000", 20),
	"speex-wb": (98, "speex/16000", 16000, None, "speex/16000", 20),
	"speex-uwb": (99, "speex/32000", 32000, None, "speex/32000", 20),
	"G723": (4, "G723/8000", 8000, None, "G723", 30),
	"L16": (96, "L16/8000", 8000, None, "L16/8000", 20),
	"L16-16k": (96, "L16/16000", 16000, None, "L16/16000", 20),
	"AMR": (100, "AMR/8000", 8000, None, "AMR", 20),
	"AMR-oa": (100, "AMR/8000", 8000, "octet-align=1", "AMR", 20),
	"AMR-WB": (102, "AMR-WB/16000", 16000, None, "AMR-WB", 20),
	"AMR-WB-oa": (102, "AMR-WB/16000", 16000, "octet-align=1", "AMR-WB", 20),
}
# SNR floors (dB), tone / three tones, for X -> PCMU and PCMU -> X: 4-6 dB under what
# Debian 12's libraries measure through sluiced (GSM 21/10, speex 34/28, speex-wb/uwb
# 37/31, G.723.1 27/22, L16 39/37 (G.711 limits it), AMR 31/23, AMR-WB 27/18)
LIMITS = {"GSM": (16, 7), "speex": (29, 23), "speex-wb": (32, 26), "speex-uwb": (32, 26),
	  "G723": (22, 17), "L16": (35, 33), "L16-16k": (35, 33), "AMR": (26, 18),
	  "AMR-oa": (26, 18), "AMR-WB": (22, 14), "AMR-WB-oa": (22, 14)}
SNR_TABLE = []


def received(sock, count=None):
	"""Parsed RTP until count packets arrived, or 2 s without any: a loaded host (or an
	ASan build) may pause the relay longer than test_transcode's 0.7 s, and with count
	the normal case does not wait at all."""
	got = [rtp_parse(d) for d, _ in recv_all(sock, timeout=10, count=count, idle=2.0)]
	return [g for g in got if g]


def available(codec):
	"""None, or why this sluice-audio / libavcodec cannot do codec."""
	r = subprocess.run([TOOL, "available", CODECS[codec][4]], capture_output=True)
	return None if r.returncode == 0 else r.stdout.decode().strip()


def need(codec):
	why = available(codec)
	if why:
		pytest.skip(why)


def sdp_for(phone, codec, ptime=None):
	pt, rtpmap, _, fmtp, _, dflt = CODECS[codec]
	lines = ["v=0", "o=- %d %d IN IP4 127.0.0.1" % (phone.sess_id, phone.sess_ver), "s=-",
		 "c=IN IP4 127.0.0.1", "t=0 0", "m=audio %d RTP/AVP %d" % (phone.port, pt),
		 "a=rtpmap:%d %s" % (pt, rtpmap)]
	if fmtp:
		lines.append("a=fmtp:%d %s" % (pt, fmtp))
	lines += ["a=sendrecv", "a=ptime:%d" % (ptime or dflt)]
	return "\r\n".join(lines) + "\r\n"


def encode(codec, pcm):
	_, _, _, fmtp, name, ptime = CODECS[codec]
	return frames(tool("encode", name, ptime, *([fmtp] if fmtp else []), data=pcm.tobytes()))


def decode(codec, payloads):
	_, _, _, fmtp, name, _ = CODECS[codec]
	blob = b"".join(struct.pack("!H", len(p)) + p for p in payloads)
	return np.frombuffer(tool("decode", name, *([fmtp] if fmtp else []), data=blob),
			     dtype="<i2").astype(float)


def rate_of(codec):
	return int(tool("rate", CODECS[codec][4]))


def pcmu_sdp(phone):
	return ("v=0\r\no=- %d %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=ptime:20\r\n"
		% (phone.sess_id, phone.sess_ver, phone.port))


def setup_call(r, codec, offer_side):
	"""offer_side False: A speaks codec, B PCMU (mask codec, transcode PCMU).
	True: A speaks PCMU, B codec (transcode codec: the offer adds it)."""
	c = Call(r)
	name = CODECS[codec][1].split("/")[0]
	if offer_side:
		c.offer(sdp=pcmu_sdp(c.a), codec={"mask": ["PCMU"], "transcode": [CODECS[codec][1]]})
		c.answer(sdp=sdp_for(c.b, codec))
	else:
		c.offer(sdp=sdp_for(c.a, codec), codec={"mask": [name], "transcode": ["PCMU"]})
		c.answer(sdp=pcmu_sdp(c.b))
	return c


def big_rcvbuf(sock):
	"""3 s of L16/16000 (150 x 652 bytes) waits in the phone's socket until the test
	reads it, more than the default 208 KiB hold; root may force a larger buffer."""
	for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
		try:
			sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
			return
		except OSError:
			continue


def run_pair(r, codec, kind, offer_side=False):
	"""Both directions at once; returns {direction: (snr, peak, level, packets)}."""
	c = setup_call(r, codec, offer_side)
	for s in (c.a.rtp, c.b.rtp):
		big_rcvbuf(s)
	pt, _, clock, _, _, ptime = CODECS[codec]
	x_side, u_side = (c.b, c.a) if offer_side else (c.a, c.b)
	x_dest, u_dest = (c.b_dest(), c.a_dest()) if offer_side else (c.a_dest(), c.b_dest())
	freqs, amps = SIGNALS[kind]
	x_rate = rate_of(codec)
	x_pkts = rtp_stream(x_side, pt, encode(codec, signal(kind, x_rate)), clock * ptime // 1000)
	u_pkts = rtp_stream(u_side, 0, [bytes(p) for p in
					 frames(tool("encode", "PCMU", 20,
						     data=signal(kind, 8000).tobytes()))], 160)
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	blast(x_side.rtp, x_dest, x_pkts[:1])
	blast(u_side.rtp, u_dest, u_pkts[:1])
	time.sleep(0.05)
	for i in range(1, max(len(x_pkts), len(u_pkts)), 25):
		blast(x_side.rtp, x_dest, x_pkts[i:i + 25], pause=0)
		blast(u_side.rtp, u_dest, u_pkts[i:i + 25])
	# all but the last two packets of each direction: no idle wait for the tail
	at_u = received(u_side.rtp, count=SECONDS * 50 - 2)
	at_x = received(x_side.rtp, count=SECONDS * 1000 // ptime - 2)
	check_stream(at_u, 0, 160)
	check_stream(at_x, pt, clock * ptime // 1000)
	res = {}
	for name, got, dec, rate in (("%s->PCMU" % codec, at_u, None, 8000),
				     ("PCMU->%s" % codec, at_x, codec, x_rate)):
		pays = [p["payload"] for p in got]
		pcm = decode(dec, pays) if dec else np.frombuffer(
			tool("decode", "PCMU", data=b"".join(struct.pack("!H", len(p)) + p
							    for p in pays)), dtype="<i2").astype(float)
		snr, amp, peak = fit(pcm, rate, freqs)
		level = 20 * np.log10(max(sum(amp), 1e-9) / sum(amps))
		res[name] = (snr, amp, peak, level, got)
	q = ok(c.query(), "query")
	tx = q["tags"][c.ftag]["medias"][0]
	assert "transcoding" in tx["flags"], tx
	ok(c.delete())
	c.close()
	return res


def check(codec, kind, res, offer_side=False):
	lim = LIMITS[codec][0 if kind == "tone" else 1]
	for name, (snr, amp, peak, level, got) in res.items():
		SNR_TABLE.append((name + (" (offer)" if offer_side else ""), kind, snr, peak, level))
		print("%-22s %-6s SNR %5.1f dB  peak %6.0f Hz  level %+5.2f dB  (%d packets)"
		      % (name, kind, snr, peak, level, len(got)))
		assert snr >= lim, "%s %s: SNR %.1f dB < %d" % (name, kind, snr, lim)
		assert abs(level) <= 3, "%s %s: level %+.2f dB" % (name, kind, level)
		if kind == "tone":
			assert abs(peak - 1004) <= 5, "%s: peak at %.0f Hz" % (name, peak)
		else:
			assert min(amp) / max(amp) > 0.5, "%s: tone amplitudes %s" % (name, amp)
		# every packet of the stream arrived: SECONDS of audio at the output ptime
		step = 20 if name.endswith("PCMU") else CODECS[codec][5]
		assert len(got) >= SECONDS * 1000 // step - 2, "%s: %d packets" % (name, len(got))


# AMR-oa and AMR-WB (bandwidth-efficient) are measured in test_amr_wire_format, L16/8000
# stands for L16's rates: each call here costs seconds of make test
PAIRS = ["GSM", "speex", "speex-wb", "speex-uwb", "G723", "L16", "AMR", "AMR-WB-oa"]


@pytest.mark.parametrize("codec", PAIRS)
def test_codec_pair(relay, codec):
	"""codec -> PCMU (A to B) and PCMU -> codec (B to A) in one call, both at once; a
	1004 Hz tone in one call, then three tones in another (one relay for both)."""
	need(codec)
	r = relay()
	for kind in ("tone", "multi"):
		check(codec, kind, run_pair(r, codec, kind), False)


@pytest.mark.parametrize("codec", ["G723", "AMR-WB-oa"])
def test_codec_pair_offer_side(relay, codec):
	"""A speaks PCMU and the offer adds codec (transcode flag); B answers only codec."""
	need(codec)
	check(codec, "tone", run_pair(relay(), codec, "tone", True), True)


def amr_toc(payload, oa):
	"""(CMR, first frame type) of an RFC 4867 payload."""
	if oa:
		return payload[0] >> 4, (payload[1] >> 3) & 15
	return payload[0] >> 4, ((payload[0] & 7) << 1) | (payload[1] >> 7)


# codec, its phone's fmtp, payload bytes and frame type sluiced must send, SNR floor
WIRE = [("AMR", None, 32, 7, 26), ("AMR-oa", None, 33, 7, 26),
	("AMR", "mode-set=0,2", 16, 2, 12), ("AMR-WB", None, 61, 8, 22),
	("AMR-WB-oa", "octet-align=1; mode-set=2", 34, 2, 20)]


def test_amr_wire_format(relay):
	"""What sluiced sends an AMR phone: the payload format (bandwidth-efficient or
	octet-aligned) and the highest mode of the mode-set the phone's SDP allows (12.2 /
	23.85 kbit/s by default); the audio decodes to the tone sent (one relay, a call per
	case)."""
	need("AMR")
	r = relay()
	u = [bytes(p) for p in frames(tool("encode", "PCMU", 20,
					   data=signal("tone", 8000, 2).tobytes()))]
	for codec, fmtp, size, ft, floor in WIRE:
		saved = CODECS[codec]
		CODECS[codec] = saved[:3] + (fmtp or saved[3],) + saved[4:]
		try:
			c = setup_call(r, codec, False)
			drain(c.a.rtp)
			blast(c.b.rtp, c.b_dest(), rtp_stream(c.b, 0, u, 160))
			got = received(c.a.rtp, count=98)
			assert len(got) >= 95, "%s %s: %d packets" % (codec, fmtp, len(got))
			oa = "octet-align=1" in (CODECS[codec][3] or "")
			for p in got:
				assert len(p["payload"]) == size, "%s %s: payload %d bytes" % (
					codec, fmtp, len(p["payload"]))
				assert amr_toc(p["payload"], oa) == (15, ft), p["payload"][:2].hex()
			pcm = decode(codec, [p["payload"] for p in got])
			rate = rate_of(codec)
			snr, _, peak = fit(pcm, rate, (1004,), start=0.5, secs=1)
			SNR_TABLE.append(("PCMU->%s %s" % (codec, fmtp or ""), "tone", snr, peak, 0.0))
			assert snr >= floor and abs(peak - 1004) <= 5, "%s %s: SNR %.1f, peak %.0f" % (
				codec, fmtp, snr, peak)
			ok(c.delete())
			c.close()
		finally:
			CODECS[codec] = saved


def test_amr_cmr(relay):
	"""A phone's CMR (in the packets it sends) sets the mode of what it receives."""
	need("AMR")
	r = relay()
	c = setup_call(r, "AMR", False)
	pt = CODECS["AMR"][0]
	a_pay = encode("AMR", signal("tone", 8000, 1))
	# ask for mode 2 (5.90 kbit/s): CMR is the first 4 bits
	a_pay = [bytes([(p[0] & 0x0f) | 2 << 4]) + p[1:] for p in a_pay]
	u = [bytes(p) for p in frames(tool("encode", "PCMU", 20,
					   data=signal("tone", 8000, 2).tobytes()))]
	drain(c.a.rtp)
	blast(c.a.rtp, c.a_dest(), rtp_stream(c.a, pt, a_pay[:10], 160))
	time.sleep(0.2)
	blast(c.b.rtp, c.b_dest(), rtp_stream(c.b, 0, u, 160))
	got = received(c.a.rtp, count=98)
	fts = [amr_toc(p["payload"], False)[1] for p in got]
	assert len(got) >= 90 and set(fts) == {2}, fts
	ok(c.delete())
	c.close()


@pytest.mark.parametrize("codec", ["iLBC", "AMR", "AMR-WB"])
def test_unavailable_codec_is_an_error(relay, codec):
	"""A transcode flag naming a codec this libavcodec cannot produce gets an error
	reply that names it and says why; the call is not created."""
	name = {"iLBC": "iLBC", "AMR": "AMR", "AMR-WB": "AMR-WB"}[codec]
	r = subprocess.run([TOOL, "available", name], capture_output=True)
	if r.returncode == 0:
		pytest.skip("%s is available here" % name)
	why = r.stdout.decode().strip()
	relay_ = relay()
	c = Call(relay_)
	rep = c.offer(sdp=pcmu_sdp(c.a), check=False, codec={"transcode": [name]})
	reason = err(rep, "offer with transcode-" + name)
	assert reason == why, reason
	assert reason.startswith(name + " not available"), reason
	rep = c.offer(sdp=pcmu_sdp(c.a), check=False, flags=["codec-transcode-" + name])
	assert err(rep) == why
	q = c.query()
	assert q.get("result") == "error", q
	# and a codec sluice has never heard of is ignored, as rtpengine does
	ok(c.offer(sdp=pcmu_sdp(c.a), codec={"transcode": ["NOSUCH"]}))
	ok(c.delete())
	c.close()


def test_startup_line(relay):
	"""sluiced says at start which codecs it has and why not the others."""
	r = relay()
	deadline = time.time() + 3
	while time.time() < deadline and "codecs available:" not in r.log():
		time.sleep(0.05)
	line = [ln for ln in r.log().splitlines() if "codecs available:" in ln]
	assert line, r.log()[-2000:]
	assert " GSM speex/16000 speex/8000 speex/32000 G723 L16/8000" in line[0], line[0]
	assert "iLBC not available" in line[0], line[0]
	if available("AMR"):
		assert "AMR not available: " in line[0] and "libavcodec-extra" in line[0]
	else:
		assert " AMR AMR-WB" in line[0], line[0]


def test_snr_report():
	"""Prints the SNR table of the pairs above (runs after them)."""
	if not SNR_TABLE:
		pytest.skip("no codec pair ran")
	print("\nSNR through sluiced, libavcodec codecs <-> PCMU:")
	print("  %-40s %-6s %7s %8s %8s" % ("pair", "signal", "SNR dB", "peak Hz", "level"))
	for name, kind, snr, peak, level in SNR_TABLE:
		print("  %-40s %-6s %7.1f %8.0f %+8.2f" % (name, kind, snr, peak, level))
