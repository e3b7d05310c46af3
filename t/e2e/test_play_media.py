"""NG `play media` / `stop media`: a file (WAV here; anything libavformat reads) played to
one party on the relay's own clock: a packet every 20 ms from the media worker, in the
stream of the party's peer (its SSRC, sequence numbers and timestamps going on; a fresh
stream when the peer never sent), for the announced duration, whether the peer sends
or not. The peer's own packets wait meanwhile and come after it renumbered, so the
receiver sees no gap and no step back. Into a PCMU call whose caller never sends (and
one on hold: test_play_media_hold.py), a call whose caller talks throughout, a plain Opus call, a transcoded
PCMU -> Opus leg and an SRTP leg; repeat-times; stop media cuts it short; --media-dir
refuses a file outside its folders; a file that cannot be played is an error and
changes nothing."""

import os
import threading
import time
import wave

import numpy as np
import pytest

from calls import Call, err, ok
from rtp import drain, rtp_parse
from secure_peer import SdesKey, sdp_with
from test_play_dtmf_plain import got, rtp_stream_of, send
from test_transcode import CODECS, decode, fit, setup_transcoded, te_sdp

pytestmark = pytest.mark.sluice_only


def wav(path, secs, rate=16000, freq=1000, amp=12000):
	t = np.arange(int(rate * secs)) / rate
	x = np.round(amp * np.sin(2 * np.pi * freq * t)).astype("<i2")
	with wave.open(str(path), "wb") as w:
		w.setnchannels(1)
		w.setsampwidth(2)
		w.setframerate(rate)
		w.writeframes(x.tobytes())
	return str(path)


def play(c, tag, **kw):
	m = c.base("play media", **kw)
	m["from-tag"] = tag
	return c.ng.req(m)


def stop(c, tag):
	m = c.base("stop media")
	m["from-tag"] = tag
	return c.ng.req(m)


def not_in_kernel(c, sender_tag):
	return rtp_stream_of(ok(c.query()), sender_tag).get("not in kernel")


def is_tone(pcm, rate, secs):
	"""1 kHz dominates: the fit's SNR and the spectrum's peak."""
	snr, amps, peak = fit(pcm, rate, (1000,), start=0.1, secs=secs)
	assert abs(peak - 1000) <= 10 and snr > 15, (snr, amps, peak)
	return snr


def timed(sock, unprotect=None, timeout=3.0, idle=0.5):
	"""[(arrival s, parsed)] until idle s without a packet."""
	out = []
	deadline = time.monotonic() + timeout
	sock.settimeout(idle)
	while time.monotonic() < deadline:
		try:
			d, _ = sock.recvfrom(65535)
		except OSError:
			break
		out.append((time.monotonic(), rtp_parse(unprotect(d) if unprotect else d)))
	return out


def one_stream(pk, pt, step):
	"""One SSRC, payload type pt, sequence numbers and timestamps stepping by one
	frame, the marker on the first only."""
	assert len({p["ssrc"] for p in pk}) == 1 and {p["pt"] for p in pk} == {pt}, pk[:3]
	assert [(b["seq"] - a["seq"]) & 0xFFFF for a, b in zip(pk, pk[1:])] == [1] * (len(pk) - 1)
	assert [(b["ts"] - a["ts"]) & 0xFFFFFFFF for a, b in zip(pk, pk[1:])] == \
		[step] * (len(pk) - 1)
	assert [p["marker"] for p in pk] == [True] + [False] * (len(pk) - 1)


def paced(arr, n):
	"""n packets at 50/s: the span of n - 1 intervals of 20 ms, within 15 %."""
	span = arr[-1][0] - arr[0][0]
	assert len(arr) == n and abs(span - (n - 1) * 0.02) < 0.15 * (n - 1) * 0.02 + 0.01, \
		(len(arr), span)


def test_silent_caller_hears_nothing_but_callee_gets_it(relay, tmp_path):
	"""A never sends: played to B, 1 s of 1 kHz arrives as exactly 50 PCMU packets at
	50/s, one stream stepping 1/160, B decodes the tone; A's stream is in userspace
	("playing media") only while it plays. A's own packets after it pass as they are
	(a new source: A's SSRC), and B's direction is untouched."""
	r = relay()
	c = Call(r).setup()
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	rep = ok(play(c, c.ttag, file=wav(tmp_path / "tone.wav", 1.0)), "play media")
	assert rep["duration"] == 1000
	assert not_in_kernel(c, c.ftag) == "playing media"
	assert not_in_kernel(c, c.ttag) != "playing media"
	arr = timed(c.b.rtp)
	pk = [p for _, p in arr]
	paced(arr, 50)
	one_stream(pk, 0, 160)
	assert pk[0]["ssrc"] != c.a.ssrc
	is_tone(decode("PCMU", [p["payload"] for p in pk]), 8000, 0.8)
	assert "play media" not in not_in_kernel(c, c.ftag)
	sent = send(c.a, c.a_dest(), 10, payload=b"\x55" * 160)
	assert [(p["ssrc"], p["seq"], p["ts"], p["payload"]) for p in got(c.b.rtp, 10)] == \
		[(x["ssrc"], x["seq"], x["ts"], x["payload"]) for x in map(rtp_parse, sent)]
	back = send(c.b, c.b_dest(), 5, payload=b"\x66" * 160)
	assert [p["payload"] for p in got(c.a.rtp, 5)] == [rtp_parse(x)["payload"] for x in back]
	assert "play media" in r.log()
	ok(c.delete())
	c.close()


def talk(c, secs, out):
	"""A sends 20 ms PCMU packets of 0x55 at 50/s for secs (in a thread)."""
	t0 = time.monotonic()
	for i in range(int(secs * 50)):
		p = c.a.next_rtp(b"\x55" * 160)
		c.a.rtp.sendto(p, c.a_dest())
		out.append(p)
		d = t0 + (i + 1) / 50 - time.monotonic()
		if d > 0:
			time.sleep(d)


def test_talking_caller_resumes_without_a_gap(relay, tmp_path):
	"""A talks for 3 s; 1 s is played to B from 0.6 s, and 0.2 s more from 2.2 s: B gets
	one stream in A's SSRC whose sequence numbers never skip nor repeat: A's packets,
	50 of the tone (marker on the first), A's own payloads again (marker on the first),
	each shifted by one constant offset, 10 more of the tone, A's again (shifted anew);
	A's packets meanwhile never reach B."""
	r = relay()
	c = Call(r).setup()
	drain(c.b.rtp)
	sent = []
	th = threading.Thread(target=talk, args=(c, 3.0, sent))
	th.start()
	f = wav(tmp_path / "tone.wav", 1.0)
	time.sleep(0.6)
	ok(play(c, c.ttag, file=f))
	time.sleep(1.6)
	ok(play(c, c.ttag, file=f, duration=200))
	arr = timed(c.b.rtp, timeout=5)
	th.join()
	pk = [p for _, p in arr]
	assert {p["ssrc"] for p in pk} == {c.a.ssrc}
	assert [(b["seq"] - a["seq"]) & 0xFFFF for a, b in zip(pk, pk[1:])] == [1] * (len(pk) - 1)
	own = [p["payload"] == b"\x55" * 160 for p in pk]
	i = own.index(False)
	j = own.index(False, i + 50)
	n2 = len(pk) - j - own[::-1].index(False)       # the second run's length
	assert own == [True] * i + [False] * 50 + [True] * (j - i - 50) + [False] * n2 + \
		[True] * (len(pk) - j - n2), own
	assert n2 == 10 and j - i - 50 > 20
	assert [k for k, p in enumerate(pk) if p["marker"]] == [i, i + 50, j, j + 10]
	for run in (pk[i:i + 50], pk[j:j + 10]):
		one_stream(run, 0, 160)
	is_tone(decode("PCMU", [p["payload"] for p in pk[i:i + 50]]), 8000, 0.8)
	before = [rtp_parse(x) for x in sent[:i]]
	assert [(p["seq"], p["ts"]) for p in pk[:i]] == [(x["seq"], x["ts"]) for x in before]
	# A's packets between and after: consecutive ones it sent (timestamps step 160 as
	# it sent them), each run shifted by one offset fixed at its first (marker)
	for run in (pk[i + 50:j], pk[j + 10:]):
		assert [(b["ts"] - a["ts"]) & 0xFFFFFFFF for a, b in zip(run, run[1:])] == \
			[160] * (len(run) - 1)
	tail = [rtp_parse(x) for x in sent[-(len(pk) - j - 10):]]
	assert len({((p["seq"] - x["seq"]) & 0xFFFF, (p["ts"] - x["ts"]) & 0xFFFFFFFF)
		    for p, x in zip(pk[j + 10:], tail)}) == 1
	# those sent while it played never reached B: about the 60 it replaced
	assert 55 <= len(sent) - (len(pk) - 60) <= 65, (len(sent), len(pk))
	ok(c.delete())
	c.close()


def opus_sdp(phone):
	return te_sdp(phone, "opus", te=False)


def test_wav_into_plain_opus_call(relay, tmp_path):
	"""Both sides Opus, forwarded, A silent: 1.5 s played to B arrive as 75 Opus packets
	(timestamps stepping 960) that B decodes as 1 kHz."""
	r = relay()
	c = Call(r)
	c.offer(sdp=opus_sdp(c.a))
	c.answer(sdp=opus_sdp(c.b))
	drain(c.b.rtp)
	rep = ok(play(c, c.ttag, file=wav(tmp_path / "tone.wav", 1.5, rate=8000)))
	assert rep["duration"] == 1500
	arr = timed(c.b.rtp)
	pk = [p for _, p in arr]
	paced(arr, 75)
	one_stream(pk, CODECS["opus"][0], 960)
	is_tone(decode("opus", [p["payload"] for p in pk]), 48000, 1.2)
	ok(c.delete())
	c.close()


def test_wav_into_transcoded_opus_leg(relay, tmp_path):
	"""A speaks Opus, B PCMU (transcoded), B silent: played to A, the relay's PCMU
	frames go through the transcoder and A decodes 1 kHz from 50 Opus packets."""
	r = relay()
	c = setup_transcoded(r, "opus")
	drain(c.a.rtp)
	ok(play(c, c.ftag, file=wav(tmp_path / "tone.wav", 1.0)))
	pk = [p for _, p in timed(c.a.rtp)]
	assert len(pk) == 50 and {p["pt"] for p in pk} == {CODECS["opus"][0]}
	assert [(b["seq"] - a["seq"]) & 0xFFFF for a, b in zip(pk, pk[1:])] == [1] * 49
	pcm = decode("opus", [p["payload"] for p in pk])
	is_tone(pcm, 48000, 0.8)
	ok(c.delete())
	c.close()


def test_wav_into_srtp_leg(relay, tmp_path):
	"""B speaks SDES-SRTP (RTP/SAVP), A plain and silent: played to B, 50 packets
	protected with the relay's key, which B unprotects and decodes as the tone."""
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": "RTP/SAVP"})
	ours = next(k for k in map(SdesKey.parse, c.offer_reply.attrs(0, "crypto"))
		    if k.suite == "AES_CM_128_HMAC_SHA1_80")
	c.answer(sdp=sdp_with(c.b, "RTP/SAVP", [SdesKey(ours.suite, ours.tag).line()]))
	drain(c.b.rtp)
	ok(play(c, c.ttag, file=wav(tmp_path / "tone.wav", 1.0)))
	rx = ours.rx()
	pk = [p for _, p in timed(c.b.rtp, unprotect=rx.unprotect)]
	assert len(pk) == 50
	one_stream(pk, 0, 160)
	is_tone(decode("PCMU", [p["payload"] for p in pk]), 8000, 0.8)
	ok(c.delete())
	c.close()


def test_stop_media(relay, tmp_path):
	"""5 s announcement to B, stopped after about 0.4 s: B got exactly as many packets
	as last-frame-pos says (320 frames of the 16 kHz file each) and nothing more; A's
	media reaches B afterwards."""
	r = relay()
	c = Call(r).setup()
	drain(c.b.rtp)
	ok(play(c, c.ttag, file=wav(tmp_path / "long.wav", 5.0)))
	time.sleep(0.4)
	rep = ok(stop(c, c.ttag), "stop media")
	assert not_in_kernel(c, c.ftag) != "playing media"
	pk = [p for _, p in timed(c.b.rtp)]
	assert 10 <= len(pk) <= 40 and rep["last-frame-pos"] == 320 * len(pk), \
		(len(pk), rep)
	one_stream(pk, 0, 160)
	send(c.a, c.a_dest(), 10, payload=b"\x55" * 160)
	assert [p["payload"] for p in got(c.b.rtp, 10)] == [b"\x55" * 160] * 10
	ok(c.delete())
	c.close()


def test_replaced_mid_play(relay, tmp_path):
	"""A second play media while one plays replaces it on the same clock: B's one
	stream goes on without a gap or a second marker, and ends when the second (200 ms:
	10 packets) does."""
	r = relay()
	c = Call(r).setup()
	drain(c.b.rtp)
	ok(play(c, c.ttag, file=wav(tmp_path / "long.wav", 2.0)))
	time.sleep(0.3)
	ok(play(c, c.ttag, file=wav(tmp_path / "short.wav", 0.2)))
	arr = timed(c.b.rtp)
	pk = [p for _, p in arr]
	assert 18 <= len(pk) <= 30, len(pk)
	one_stream(pk, 0, 160)
	assert arr[-1][0] - arr[0][0] < 0.65
	ok(c.delete())
	c.close()


def test_repeat_and_duration(relay, tmp_path):
	"""repeat-times 3 of a 200 ms file announces 600 ms and plays 30 packets; duration
	500 caps it at 500 ms: 25 packets."""
	r = relay()
	c = Call(r).setup()
	f = wav(tmp_path / "short.wav", 0.2)
	drain(c.b.rtp)
	assert ok(play(c, c.ttag, file=f, **{"repeat-times": 3}))["duration"] == 600
	pk = [p for _, p in timed(c.b.rtp)]
	assert len(pk) == 30
	one_stream(pk, 0, 160)
	assert ok(play(c, c.ttag, file=f, **{"repeat-times": 3, "duration": 500}))["duration"] == 500
	pk2 = [p for _, p in timed(c.b.rtp)]
	assert len(pk2) == 25
	# the second announcement goes on in the same stream
	assert {p["ssrc"] for p in pk2} == {pk[0]["ssrc"]}
	assert (pk2[0]["seq"] - pk[-1]["seq"]) & 0xFFFF == 1
	ok(c.delete())
	c.close()


def test_media_dir(relay, tmp_path):
	"""With --media-dir only files below it play: one outside, or a symlink inside that
	points outside, is refused with a clear reason, and nothing changes (A's media goes
	on reaching B untouched); a missing or corrupt file is an error too."""
	allowed = tmp_path / "allowed"
	allowed.mkdir()
	inside = wav(allowed / "ok.wav", 0.2)
	outside = wav(tmp_path / "secret.wav", 0.2)
	os.symlink(outside, allowed / "link.wav")
	(allowed / "junk.wav").write_bytes(b"this is not audio" * 100)
	r = relay(media_dir=str(allowed))
	assert "play media: files below %s" % allowed in r.log()
	c = Call(r).setup()
	for f in (outside, str(allowed / "link.wav"), str(allowed / ".." / "secret.wav")):
		assert "outside" in err(play(c, c.ttag, file=f), f)
	assert "open" in err(play(c, c.ttag, file=str(allowed / "missing.wav")))
	assert "media file" in err(play(c, c.ttag, file=str(allowed / "junk.wav"))).lower()
	assert not_in_kernel(c, c.ftag) != "playing media"
	drain(c.b.rtp)
	send(c.a, c.a_dest(), 5, payload=b"\x55" * 160)
	assert [p["payload"] for p in got(c.b.rtp, 5)] == [b"\x55" * 160] * 5
	assert ok(play(c, c.ttag, file=inside))["duration"] == 200
	ok(c.delete())
	c.close()


def test_errors_and_notice(relay, tmp_path):
	"""Without --media-dir the start-up log says any file may be read; unknown call, no
	party, no file are errors; a blob (the file's bytes in the message) plays; to-tag
	alone names the party."""
	r = relay()
	assert "play media: any file" in r.log()
	c = Call(r).setup()
	f = wav(tmp_path / "t.wav", 0.4)
	assert "call-id" in err(c.ng.req({"command": "play media", "call-id": "nope",
					  "from-tag": "x", "file": f}))
	assert "party" in err(play(c, "no-such-tag", file=f)).lower()
	assert "file" in err(play(c, c.ttag)).lower()
	with open(f, "rb") as fh:
		assert ok(play(c, c.ttag, blob=fh.read()))["duration"] == 400
	# the party named by to-tag alone (no from-tag)
	assert ok(c.ng.req({"command": "play media", "call-id": c.cid, "to-tag": c.ttag,
			    "file": f}))["duration"] == 400
	assert "selected" in err(c.ng.req({"command": "play media", "call-id": c.cid,
					   "file": f}))
	ok(c.delete())
	c.close()
