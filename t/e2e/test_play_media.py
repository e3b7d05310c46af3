"""NG `play media` / `stop media`: a file (WAV here; anything libavformat reads) played to
one party. The party hears the announcement in its peer's packets: each keeps the peer's
SSRC, sequence number and timestamp, and carries the next 20 ms of the file in the
call's codec, for the announced duration; then the peer's own media again, byte for
byte. A plain-forwarded stream is in userspace ("playing media") only while it plays.
Into a PCMU call, a plain Opus call and a transcoded PCMU -> Opus call; stop media cuts
it short; --media-dir refuses a file outside its folders; a file that cannot be played
is an error and changes nothing."""

import os
import time
import wave

import numpy as np
import pytest

from calls import Call, err, ok
from rtp import drain, rtp_parse
from test_play_dtmf_plain import got, rtp_stream_of, send
from test_transcode import CODECS, decode, encode, fit, rtp_stream, setup_transcoded, te_sdp

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


def test_wav_into_pcmu_call(relay, tmp_path):
	"""1 s of 1 kHz (a 16 kHz WAV) played to B: duration 1000; A's next 50 packets reach
	B as the tone (same SSRC/seq/ts as A sent them), the 25 after are A's own bytes;
	A's stream is held in userspace only while it plays; B's direction is untouched."""
	r = relay()
	c = Call(r).setup()
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	rep = ok(play(c, c.ttag, file=wav(tmp_path / "tone.wav", 1.0)), "play media")
	assert rep["duration"] == 1000
	assert not_in_kernel(c, c.ftag) == "playing media"
	assert not_in_kernel(c, c.ttag) != "playing media"
	sent = send(c.a, c.a_dest(), 75, payload=b"\x55" * 160)
	recv = got(c.b.rtp, 75)
	assert len(recv) == 75
	for s, p in zip(sent, recv):
		s = rtp_parse(s)
		assert (p["seq"], p["ts"], p["ssrc"], p["pt"]) == (s["seq"], s["ts"], s["ssrc"], 0)
	assert all(p["payload"] != b"\x55" * 160 for p in recv[:50])
	assert [p["payload"] for p in recv[50:]] == [b"\x55" * 160] * 25
	is_tone(decode("PCMU", [p["payload"] for p in recv[:50]]), 8000, 0.8)
	assert not_in_kernel(c, c.ftag) != "playing media"
	# the other direction was never touched
	back = send(c.b, c.b_dest(), 5, payload=b"\x66" * 160)
	assert [p["payload"] for p in got(c.a.rtp, 5)] == [rtp_parse(x)["payload"] for x in back]
	assert "play media" in r.log()
	ok(c.delete())
	c.close()


def opus_sdp(phone):
	return te_sdp(phone, "opus", te=False)


def test_wav_into_plain_opus_call(relay, tmp_path):
	"""Both sides Opus, forwarded: A's Opus packets become 20 ms Opus frames of the tone
	that B decodes as 1 kHz for the announced 1.5 s (75 packets), then A's own again."""
	r = relay()
	c = Call(r)
	c.offer(sdp=opus_sdp(c.a))
	c.answer(sdp=opus_sdp(c.b))
	drain(c.b.rtp)
	rep = ok(play(c, c.ttag, file=wav(tmp_path / "tone.wav", 1.5, rate=8000)))
	assert rep["duration"] == 1500
	pt = CODECS["opus"][0]
	own = encode("opus", np.zeros(48000 * 2, dtype="<i2"))[:90]
	sent = rtp_stream(c.a, pt, own, 960)
	for i, p in enumerate(sent):
		c.a.rtp.sendto(p, c.a_dest())
		if i % 10 == 9:
			time.sleep(0.005)
	recv = got(c.b.rtp, 90)
	assert len(recv) == 90
	assert [p["seq"] for p in recv] == [rtp_parse(s)["seq"] for s in sent]
	assert [p["payload"] for p in recv[75:]] == own[75:]
	assert all(p["payload"] != o for p, o in zip(recv[:75], own))
	pcm = decode("opus", [p["payload"] for p in recv[:75]])
	is_tone(pcm, 48000, 1.2)
	ok(c.delete())
	c.close()


def test_wav_into_transcoded_opus_leg(relay, tmp_path):
	"""A speaks Opus, B PCMU (transcoded): played to A, B's PCMU packets carry the tone
	into the transcoder and A decodes 1 kHz from the Opus it receives."""
	r = relay()
	c = setup_transcoded(r, "opus")
	drain(c.a.rtp)
	ok(play(c, c.ftag, file=wav(tmp_path / "tone.wav", 1.0)))
	sent = rtp_stream(c.b, 0, [b"\xff" * 160] * 60, 160)
	for i, p in enumerate(sent):
		c.b.rtp.sendto(p, c.b_dest())
		if i % 10 == 9:
			time.sleep(0.005)
	recv = got(c.a.rtp, 60)
	assert len(recv) >= 55 and {p["pt"] for p in recv} == {CODECS["opus"][0]}
	pcm = decode("opus", [p["payload"] for p in recv[:50]])
	is_tone(pcm, 48000, 0.8)
	ok(c.delete())
	c.close()


def test_stop_media(relay, tmp_path):
	"""5 s announcement, stopped after 20 packets (400 ms): last-frame-pos is 6400 frames
	of the 16 kHz file, and A's own media reaches B again from the next packet."""
	r = relay()
	c = Call(r).setup()
	drain(c.b.rtp)
	ok(play(c, c.ttag, file=wav(tmp_path / "long.wav", 5.0)))
	send(c.a, c.a_dest(), 20, payload=b"\x55" * 160)
	first = got(c.b.rtp, 20)
	assert len(first) == 20 and all(p["payload"] != b"\x55" * 160 for p in first)
	rep = ok(stop(c, c.ttag), "stop media")
	assert rep["last-frame-pos"] == 6400
	assert not_in_kernel(c, c.ftag) != "playing media"
	send(c.a, c.a_dest(), 10, payload=b"\x55" * 160)
	assert [p["payload"] for p in got(c.b.rtp, 10)] == [b"\x55" * 160] * 10
	ok(c.delete())
	c.close()


def test_repeat_and_duration(relay, tmp_path):
	"""repeat-times 3 of a 200 ms file announces 600 ms; duration 500 caps it at 500."""
	r = relay()
	c = Call(r).setup()
	f = wav(tmp_path / "short.wav", 0.2)
	assert ok(play(c, c.ttag, file=f, **{"repeat-times": 3}))["duration"] == 600
	assert ok(play(c, c.ttag, file=f, **{"repeat-times": 3, "duration": 500}))["duration"] == 500
	drain(c.b.rtp)
	send(c.a, c.a_dest(), 30, payload=b"\x55" * 160)
	recv = got(c.b.rtp, 30)
	assert [p["payload"] == b"\x55" * 160 for p in recv] == [False] * 25 + [True] * 5
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
