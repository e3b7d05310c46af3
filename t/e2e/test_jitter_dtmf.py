"""The jitter buffer of transcoded streams (--jitter-buffer=MS) and the NG `play DTMF`
command, through sluiced with real encoded audio (helpers from test_transcode.py)."""

import random
import time

import numpy as np
import pytest

from calls import Call, err, ok
from rtp import drain
from test_transcode import (CODECS, TE, blast, check_stream, decode, encode, events_of, fit,
			    pcm_rate, received, rtp_stream, setup_transcoded, signal, tool)

pytestmark = pytest.mark.sluice_only


def jittered_schedule(pkts, jitter_ms, reorder, seed):
	"""(send time, packet) in send order: packets on a 20 ms grid, each delayed by a
	uniform 0..jitter_ms, and `reorder` of them delayed past their successor (as
	test_jitter.c models it: reordering never makes a packet early)."""
	rnd = random.Random(seed)
	at = [k * 0.02 + rnd.uniform(0, jitter_ms / 1000.0) for k in range(len(pkts))]
	i = 0
	while i < len(at) - 1:
		if rnd.random() < reorder:
			at[i] = max(at[i], at[i + 1] + 0.001)
			i += 2
		else:
			i += 1
	return sorted(zip(at, pkts), key=lambda x: x[0])


def send_paced(sock, dest, sched):
	t0 = time.monotonic()
	for at, p in sched:
		d = t0 + at - time.monotonic()
		if d > 0:
			time.sleep(d)
		sock.sendto(p, dest)


def out_of_order(sched):
	"""Packets sent after one with a higher sequence number (mod 2^16)."""
	n, top = 0, None
	for _, p in sched:
		seq = int.from_bytes(p[2:4], "big")
		if top is not None and ((seq - top) & 0xFFFF) >= 0x8000:
			n += 1
		else:
			top = seq
	return n


def jitter_run(r, codec="PCMA"):
	"""3 s of a 1004 Hz tone from A (codec, to PCMU at B) with 10 % reordering and
	0-50 ms jitter: (packets sent, out-of-order count, what B got, A's transcoder
	stats)."""
	c = setup_transcoded(r, codec)
	pt, _, clock = CODECS[codec]
	pkts = rtp_stream(c.a, pt, encode(codec, signal("tone", pcm_rate(codec), 3)),
			  clock // 50)
	sched = jittered_schedule(pkts, 50, 0.10, seed=4733)
	drain(c.b.rtp)
	send_paced(c.a.rtp, c.a_dest(), sched)
	at_b = received(c.b.rtp)
	st = ok(c.query())["tags"][c.ftag]["medias"][0]["transcoder"]
	ok(c.delete())
	c.close()
	return len(pkts), out_of_order(sched), at_b, st


@pytest.mark.parametrize("codec", ["PCMA", "opus"])
def test_jitter_buffer_reorders(relay, codec):
	"""With --jitter-buffer=100 a reordered, jittered stream comes out of the transcoder
	complete and in order: consecutive sequence numbers and timestamps, every input
	packet used (none late, none concealed beyond warm-up), the tone intact."""
	n, ooo, at_b, st = jitter_run(relay(jitter_buffer=100), codec)
	assert ooo >= n // 10, "only %d of %d packets out of order" % (ooo, n)
	check_stream(at_b, 0, 160)
	assert n - 2 <= len(at_b) <= n + 2, "%d packets out for %d in" % (len(at_b), n)
	# only while the buffer learns the delay (test_jitter.c: none after warm-up)
	assert st["jitter late"] <= 3 and st["jitter lost"] <= 3, st
	assert st["packets in"] + st["jitter late"] == n, st
	assert st["concealed ms"] <= 60, st
	assert 20 <= st["jitter buffer ms"] <= 100, st
	snr, _, peak = fit(decode("PCMU", [p["payload"] for p in at_b]), 8000, (1004,),
			   start=0.5, secs=2)
	print("jitter buffer %s: %d/%d out of order in, %d out, target %d ms, lost %d, "
	      "SNR %.1f dB, peak %.0f Hz" % (codec, ooo, n, len(at_b), st["jitter buffer ms"],
					     st["jitter lost"], snr, peak))
	# one concealed 20 ms packet in the window costs about 9 dB of a clean PCMA->PCMU
	# tone's 36 dB; the control run below, with ~40 concealed, stays far below.
	# Opus: test_transcode.py's floor.
	lim = 25 if codec == "PCMA" else 15
	assert snr >= lim and abs(peak - 1004) <= 5, "SNR %.1f dB, peak %.0f Hz" % (snr, peak)


def test_without_jitter_buffer_drops_late(relay):
	"""The control: the same traffic without the buffer loses the reordered packets
	(concealed, then dropped as late), so the test above measures the buffer."""
	n, ooo, at_b, st = jitter_run(relay())
	check_stream(at_b, 0, 160)      # still continuous: the transcoder conceals
	assert "jitter late" not in st
	assert st["packets dropped"] >= ooo // 2, st
	assert st["concealed ms"] >= 20 * (ooo // 2), st
	snr, _, _ = fit(decode("PCMU", [p["payload"] for p in at_b]), 8000, (1004,),
			start=0.5, secs=2)
	print("no jitter buffer: %d/%d out of order in, %d dropped, SNR %.1f dB"
	      % (ooo, n, st["packets dropped"], snr))
	assert snr < 25


def play(c, **kw):
	return c.ng.req(c.base("play DTMF", **kw))


@pytest.mark.parametrize("te", [False, True], ids=["inband", "rfc4733"])
def test_play_dtmf(relay, te):
	"""play DTMF "5" then "#" (as code 11) from A's side of a PCMA <-> PCMU call: B gets
	them as in-band tones that spandsp decodes (no telephone-event) or as RFC 4733
	events; then "7" from B's side reaches A."""
	r = relay()
	c = setup_transcoded(r, "PCMA", te=te)
	ok(play(c, digit="5"), "play DTMF 5")
	ok(play(c, code=11, duration=200, volume=-10), "play DTMF #")
	silence_a = rtp_stream(c.a, 8, encode("PCMA", np.zeros(16000, dtype="<i2")), 160)
	drain(c.b.rtp)
	blast(c.a.rtp, c.a_dest(), silence_a)
	at_b = received(c.b.rtp)
	if te:
		assert events_of(at_b, TE) == "5#", events_of(at_b, TE)
		ends = [p for p in at_b if p["pt"] == TE and p["payload"][1] & 0x80]
		assert len(ends) == 6
		assert {(p["payload"][0], int.from_bytes(p["payload"][2:4], "big")) for p in ends} \
			== {(5, 2000), (11, 1600)}
		audio = [p for p in at_b if p["pt"] == 0]
		assert len(audio) >= 100 - 25 - 20 - 2
	else:
		check_stream(at_b, 0, 160)
		pcm = decode("PCMU", [p["payload"] for p in at_b])
		heard = tool("dtmf-detect", data=pcm.astype("<i2").tobytes()).decode().strip()
		assert heard == "5#", "B heard %r" % heard
	q = ok(c.query())
	assert q["tags"][c.ftag]["medias"][0]["transcoder"]["DTMF injected"] == 2
	assert q["tags"][c.ftag]["medias"][0]["transcoder"]["DTMF events"] == 0
	assert "play DTMF digit 5, 250 ms, -8 dBm0" in r.log()

	if not te:
		m = c.base("play DTMF", digit="7")
		m["from-tag"] = c.ttag
		ok(c.ng.req(m), "play DTMF from B")
		silence_b = rtp_stream(c.b, 0, encode("PCMU", np.zeros(8000, dtype="<i2")), 160)
		drain(c.a.rtp)
		blast(c.b.rtp, c.b_dest(), silence_b)
		at_a = received(c.a.rtp)
		check_stream(at_a, 8, 160)
		pcm = decode("PCMA", [p["payload"] for p in at_a])
		heard = tool("dtmf-detect", data=pcm.astype("<i2").tobytes()).decode().strip()
		assert heard == "7", "A heard %r" % heard
	ok(c.delete())
	c.close()


def test_play_dtmf_errors(relay):
	"""Plain forwarded media without telephone-event or G.711 cannot take injected
	digits (test_play_dtmf_plain.py has the plain calls that can); bad digits, unknown
	calls and parties are errors."""
	r = relay()
	p = Call(r)
	p.offer(sdp=p.a.sdp(codecs=(9,)))
	p.answer(sdp=p.b.sdp(codecs=(9,)))
	assert "telephone-event" in err(play(p, digit="1"), "plain G.722 call")
	x = setup_transcoded(r, "PCMA")
	assert err(play(x, digit="X"))
	assert err(play(x, code=16))
	assert err(play(x))
	m = x.base("play DTMF", digit="1")
	m["from-tag"] = "nobody"
	assert err(x.ng.req(m))
	m = x.base("play DTMF", digit="1")
	m["call-id"] = "no-such-call"
	assert err(x.ng.req(m))
	ok(play(x, digit="d"))          # lower case A-D taken too
	for call in (p, x):
		ok(call.delete())
		call.close()


def test_inject_dtmf_flag(relay):
	"""rtpengine's "inject DTMF" flag makes a same-codec call transcoded, so play DTMF
	works on it."""
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(codecs=(0,)), flags=["inject DTMF"])
	c.answer(sdp=c.b.sdp(codecs=(0,)), flags=["inject DTMF"])
	q = ok(c.query())
	assert "transcoding" in q["tags"][c.ftag]["medias"][0]["flags"], q
	ok(play(c, digit="9"))
	drain(c.b.rtp)
	blast(c.a.rtp, c.a_dest(),
	      rtp_stream(c.a, 0, encode("PCMU", np.zeros(8000, dtype="<i2")), 160))
	at_b = received(c.b.rtp)
	check_stream(at_b, 0, 160)
	pcm = decode("PCMU", [p["payload"] for p in at_b])
	heard = tool("dtmf-detect", data=pcm.astype("<i2").tobytes()).decode().strip()
	assert heard == "9", "B heard %r" % heard
	ok(c.delete())
	c.close()


def test_jitter_buffer_call_churn(relay):
	"""Calls deleted (or re-answered) while their buffers hold media and their timers are
	armed: the relay keeps running and later calls still play out (run under
	SANITIZE=1 this is the use-after-free check of the timer list)."""
	r = relay(jitter_buffer=200, num_threads=1)
	pkts_pcm = encode("PCMA", signal("tone", 8000, 1))
	for i in range(12):
		c = setup_transcoded(r, "PCMA")
		blast(c.a.rtp, c.a_dest(), rtp_stream(c.a, 8, pkts_pcm[:10], 160), pause=0)
		if i % 3 == 1:          # replace the handlers (plain PCMU both ways) first
			c.answer(sdp=c.b.sdp(codecs=(8,)))
		ok(c.delete())
		c.close()
	assert r.ng.ping()
	n, _, at_b, st = jitter_run(r)
	check_stream(at_b, 0, 160)
	assert st["packets in"] + st["jitter late"] == n


def test_jitter_buffer_ssrc_change_and_wrap(relay):
	"""Through the buffer: the sequence number wraps, then the sender restarts with a
	new SSRC, sequence and timestamp base; the output stays one continuous stream (the
	buffer drops what it held of the old SSRC: at most its delay)."""
	r = relay(jitter_buffer=60)
	c = setup_transcoded(r, "PCMA")
	payloads = encode("PCMA", signal("tone", 8000, 2))
	c.a.seq = 65480                         # wraps after 55 packets
	first = rtp_stream(c.a, 8, payloads[:70], 160)
	c.a.ssrc ^= 0x5A5A5A5A
	c.a.seq = 1000
	c.a.ts = (c.a.ts + 987654) & 0xFFFFFFFF
	second = rtp_stream(c.a, 8, payloads[70:], 160)
	drain(c.b.rtp)
	send_paced(c.a.rtp, c.a_dest(), [(i * 0.02, p) for i, p in enumerate(first + second)])
	at_b = received(c.b.rtp)
	check_stream(at_b, 0, 160)
	assert 100 - 4 <= len(at_b) <= 100, len(at_b)
	st = ok(c.query())["tags"][c.ftag]["medias"][0]["transcoder"]
	assert st["jitter late"] == 0 and st["jitter lost"] == 0, st
	pcm = decode("PCMU", [p["payload"] for p in at_b])
	for start, secs in ((0.2, 1.0), (1.5, 0.4)):   # each side of the SSRC change
		snr, _, peak = fit(pcm, 8000, (1004,), start=start, secs=secs)
		assert snr >= 30 and abs(peak - 1004) <= 10, \
			"at %.1f s: SNR %.1f dB, peak %.0f Hz" % (start, snr, peak)
	ok(c.delete())
	c.close()
