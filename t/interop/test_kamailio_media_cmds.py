"""The rtpengine module's media functions of Kamailio 5.6 on one plain call.

    test --MESSAGE (X-Media-Cmd, X-Media-Flags)--> Kamailio --NG--> relay
    caller baresip (PCMU + telephone-event, 700 Hz) -> relay -> callee baresip

The `default` call of test_kamailio_baresip.py (PCMU/8000 with telephone-event 101 on
both sides); kamailio.cfg with `-A WITH_MEDIA_CMDS` has a route in which a SIP MESSAGE
carrying the call's Call-ID and the caller's From tag runs one of the module's
functions: block_dtmf, unblock_dtmf, block_media, unblock_media, silence_media,
unsilence_media (flag "directional": the caller's side only), play_dtmf (the From
tag's side: "the party generating the event") and play_media (the From tag's party
hears it). Kamailio 5.6's module has all of them (also start/stop_forwarding and
stop_media, which this test leaves out). One after
the other, during the call:

  block_dtmf, the caller sends DTMF 1   the callee gets no event 1 (the caller sent it)
  unblock_dtmf, the caller sends 2      the callee gets event 2 and reports it
  block_media for 0.6 s                 no caller audio reaches the callee meanwhile
  silence_media for 0.6 s               the callee gets PCMU silence (0xff) meanwhile
  play_dtmf code=5 duration=200 volume=-12
                                        the callee gets the RFC 4733 train in the slots
                                        of the caller's audio and reports digit 5
  play_media file=<1 s of 1 kHz, WAV>   the caller (the From tag's party) hears the tone
                                        for 1 s, 50 packets the relay sends on its own
                                        clock in the callee's stream, then the callee's
                                        own audio again, renumbered to follow

Checks read the capture of the UAs' media (every caller packet matched by sequence
number to what the callee got) and the callee's ctrl_tcp events; ~10 s.
INTEROP_RELAY=rtpengine: rtpengine 10.5 answers play_dtmf's `play DTMF` with ok but
plays nothing into a plain call (only into one made transcoded with `inject DTMF`), so
the play_dtmf checks are sluiced's, and so are play_media's (rtpengine plays from its
own player in a stream of its own, the callee's packets going on alongside).
"""
import contextlib
import random
import socket
import time
import wave

import numpy as np

import pytest

import interop_harness as H
import interop_scenario as S

PHASE = 0.6             # s each block / silence lasts
TE = 101
TONE = {}               # "path": the WAV play_media plays (written by the fixture)


class MediaCmdNet(S.Loopback):
	kamailio_defines = ("WITH_MEDIA_CMDS",)


def kam_command(sip_port, call_id, from_tag, cmd, flags=""):
	"""Sends the MESSAGE, returns Kamailio's status code."""
	branch = "z9hG4bK-%016x" % random.getrandbits(64)
	with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
		s.bind(("127.0.0.1", 0))
		s.settimeout(3)
		port = s.getsockname()[1]
		hdrs = [
			"MESSAGE sip:callee@127.0.0.1:%d SIP/2.0" % sip_port,
			"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (port, branch),
			"Max-Forwards: 70",
			"From: <sip:caller@127.0.0.1>;tag=%s" % from_tag,
			"To: <sip:callee@127.0.0.1>",
			"Call-ID: %s" % call_id,
			"CSeq: %d MESSAGE" % random.randint(1, 10**6),
			"X-Media-Cmd: %s" % cmd,
		] + (["X-Media-Flags: %s" % flags] if flags else []) + ["Content-Length: 0", "", ""]
		s.sendto("\r\n".join(hdrs).encode(), ("127.0.0.1", sip_port))
		while True:
			data = s.recv(65535).decode(errors="replace")
			if branch in data and data.startswith("SIP/2.0 "):
				return int(data.split()[1])


def drive(r, ng, caller_ctl, callee_ctl):
	"""The commands, each with the wall time it was answered at (pcap timestamps), its
	SIP reply code and the wall time it was sent at."""
	offer = next(m for m in r.tap.requests() if m.get("command") == "offer")
	cid, ftag = offer["call-id"], offer["from-tag"]
	r.marks = {}

	def cmd(name, flags=""):
		sent = time.time()
		code = kam_command(r.ports["kamailio"], cid, ftag, name, flags)
		r.marks[name] = (time.time(), code, sent)

	cmd("block_dtmf", "directional")
	caller_ctl.command("sndcode", "1")
	time.sleep(PHASE)
	cmd("unblock_dtmf", "directional")
	caller_ctl.command("sndcode", "2")
	time.sleep(PHASE)
	cmd("block_media", "directional")
	time.sleep(PHASE)
	cmd("unblock_media", "directional")
	time.sleep(0.3)
	cmd("silence_media", "directional")
	time.sleep(PHASE)
	cmd("unsilence_media", "directional")
	time.sleep(0.3)
	cmd("play_dtmf", "code=5 duration=200 volume=-12")
	r.query_playing = ng.request("query", **{"call-id": cid})
	time.sleep(PHASE)
	r.query_after_play = ng.request("query", **{"call-id": cid})
	cmd("play_media", "file=%s" % TONE["path"])
	time.sleep(1.6)
	r.callee_events = list(callee_ctl.events)
	r.marks["hangup"] = (time.time(), None)   # the call is deleted from here on


@pytest.fixture(scope="module")
def call(tmp_path_factory):
	d = tmp_path_factory.mktemp("interop-mediacmds-%s" % S.relay_kind())
	TONE["path"] = _tone_wav(d / "tone.wav")
	with contextlib.ExitStack() as stack:
		c = S.run_call(d, "", stack, [], net=MediaCmdNet(), during=drive)
	c.rtp = _rtp_flows(c)
	return c


def _tone_wav(path, secs=1.0, rate=8000):
	t = np.arange(int(rate * secs)) / rate
	with wave.open(str(path), "wb") as w:
		w.setnchannels(1)
		w.setsampwidth(2)
		w.setframerate(rate)
		w.writeframes(np.round(12000 * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes())
	return str(path)


def _ulaw(payload):
	"""G.711 mu-law to linear (ITU-T G.711)."""
	u = ~np.frombuffer(payload, dtype=np.uint8).astype(np.int32) & 0xff
	mag = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)
	return np.where(u & 0x80, 0x84 - mag, mag - 0x84).astype(float)


def _rtp_flows(c):
	"""{"up": caller -> relay, "down": relay -> callee, "b_up": callee -> relay,
	"a_down": relay -> caller}: {seq: (time, pt, marker, ts, payload)} of the RTP
	(RTCP left out)."""
	flows = {"up": {}, "down": {}, "b_up": {}, "a_down": {}}
	for src, sp, dst, dp, _, t, data in H.read_pcap_udp(c.dir / "ua-media.pcap", True, True):
		if len(data) < 12 or data[0] >> 6 != 2 or 192 <= data[1] <= 223:
			continue
		if S._in(sp, S.CALLER_RTP):
			key = "up"
		elif S._in(dp, S.CALLEE_RTP) and not S._in(sp, S.CALLER_RTP):
			key = "down"
		elif S._in(sp, S.CALLEE_RTP):
			key = "b_up"
		elif S._in(dp, S.CALLER_RTP):
			key = "a_down"
		else:
			continue
		seq = int.from_bytes(data[2:4], "big")
		flows[key][seq] = (t, data[1] & 0x7f, bool(data[1] & 0x80),
				   int.from_bytes(data[4:8], "big"), data[12:])
	return flows


def _window(c, start, end, flow):
	"""seqs of a flow captured between the answers to two commands (with margins)."""
	t0, t1 = c.marks[start][0] + 0.1, c.marks[end][0] - 0.05
	return sorted(s for s, v in c.rtp[flow].items() if t0 <= v[0] <= t1)


def _events(c, flow, event):
	return {s: v for s, v in c.rtp[flow].items() if v[1] == TE and v[4][0] == event}


def _dtmf_reported(c, digit):
	return [e for e in c.callee_events if e.get("type") == "CALL_DTMF_START"
		and digit in str(e.get("param", ""))]


def test_kamailio_sent_the_commands(call):
	"""Each MESSAGE got 200 (the relay answered ok), and the module sent the NG
	command rtpengine spells, for the caller's From tag."""
	want = {"block_dtmf": "block DTMF", "unblock_dtmf": "unblock DTMF",
		"block_media": "block media", "unblock_media": "unblock media",
		"silence_media": "silence media", "unsilence_media": "unsilence media",
		"play_dtmf": "play DTMF", "play_media": "play media"}
	for fn, ng_cmd in want.items():
		assert call.marks[fn][1] == 200, (fn, call.marks[fn])
		reqs = [m for m in call.ng_requests if m.get("command") == ng_cmd]
		assert len(reqs) == 1, (ng_cmd, reqs)
		assert reqs[0]["call-id"] == call.call_id and reqs[0].get("from-tag"), reqs[0]
	play = next(m for m in call.ng_requests if m.get("command") == "play DTMF")
	assert str(play.get("code")) == "5" and str(play.get("duration")) == "200", play
	assert "Relay Command Failed" not in call.kamailio_log or S.relay_kind() != "sluiced"


def test_blocked_dtmf_does_not_arrive(call):
	"""The caller's digit 1 left the caller while DTMF was blocked and never reached
	the callee; digit 2, after unblock_dtmf, did, and baresip reported it."""
	up1 = _events(call, "up", 1)
	assert up1, "the caller sent no event 1 (premise)"
	assert all(call.marks["block_dtmf"][0] <= v[0] <= call.marks["unblock_dtmf"][0]
		   for v in up1.values())
	assert not _events(call, "down", 1)
	assert not _dtmf_reported(call, "1"), call.callee_events
	up2, down2 = _events(call, "up", 2), _events(call, "down", 2)
	assert up2 and set(down2) == set(up2), (sorted(up2), sorted(down2))
	assert _dtmf_reported(call, "2"), [e.get("type") for e in call.callee_events]


def test_blocked_media_stops(call):
	"""While media was blocked the callee got none of the caller's audio; every caller
	packet that did not arrive was sent while it was blocked."""
	up = _window(call, "block_media", "unblock_media", "up")
	assert len(up) >= 20, "caller sent only %d packets while blocked" % len(up)
	assert not set(up) & set(call.rtp["down"]), "audio reached the callee while blocked"
	t0, t1 = call.marks["block_media"][0] - 0.05, call.marks["unblock_media"][0] + 0.05
	# (the caller's events blocked by block_dtmf aside)
	# (and what the caller sent while the call was being hung up and deleted)
	lost = [s for s, v in call.rtp["up"].items() if s not in call.rtp["down"] and v[1] != TE
		and v[0] < call.marks["hangup"][0] - 0.05]
	assert lost and all(t0 <= call.rtp["up"][s][0] <= t1 for s in lost), \
		[(s, call.rtp["up"][s][0]) for s in lost if not t0 <= call.rtp["up"][s][0] <= t1]
	after = [s for s, v in call.rtp["up"].items()
		 if call.marks["unblock_media"][0] + 0.1 < v[0] < call.marks["hangup"][0] - 0.05]
	assert after and all(s in call.rtp["down"] for s in after)


def test_silenced_media_arrives_as_pcmu_silence(call):
	"""While silenced, the caller's PCMU packets reached the callee with the same
	sequence numbers and timestamps and a payload of PCMU silence; the packets the
	relay changed are exactly those (plus the played digit)."""
	silent = _window(call, "silence_media", "unsilence_media", "down")
	assert len(silent) >= 20, len(silent)
	for s in silent:
		d, u = call.rtp["down"][s], call.rtp["up"][s]
		assert d[1] == 0 and d[4] == b"\xff" * len(u[4]) and d[3] == u[3], s
		assert u[4] != d[4]             # the caller's tone
	t0, t1 = call.marks["silence_media"][0] - 0.05, call.marks["unsilence_media"][0] + 0.05
	changed = [s for s, d in call.rtp["down"].items()
		   if s in call.rtp["up"] and d[4] != call.rtp["up"][s][4]]
	odd = [s for s in changed if not t0 <= call.rtp["up"][s][0] <= t1
	       and call.rtp["down"][s][1] != TE]
	assert not odd, odd


def test_played_dtmf_arrives_as_events(call):
	"""play_dtmf from the caller's side: the callee got digit 5 as an RFC 4733 train in
	the slots of the caller's own audio packets (same sequence numbers): marker on the
	first, its timestamp throughout, duration 160..1600, the end three times, volume 12;
	baresip reported the digit; the caller's stream was in userspace while it played."""
	if S.relay_kind() != "sluiced":
		pytest.skip("rtpengine plays DTMF into transcoded calls only (it answers ok)")
	down = _events(call, "down", 5)
	seqs = sorted(down)
	assert len(seqs) == 12 and seqs[-1] - seqs[0] == 11, seqs
	first = call.rtp["up"][seqs[0]]
	for i, s in enumerate(seqs):
		_, pt, marker, ts, pay = down[s]
		assert call.rtp["up"][s][1] == 0, "slot %d was not caller audio" % s
		dur = int.from_bytes(pay[2:4], "big")
		end = bool(pay[1] & 0x80)
		assert (pt, marker, ts, pay[0], pay[1] & 0x3f, end, dur, len(pay)) == \
			(TE, i == 0, first[3], 5, 12, i >= 9, min(160 * (i + 1), 1600), 4), (i, down[s])
	assert not _events(call, "up", 5)
	assert _dtmf_reported(call, "5"), [e.get("type") for e in call.callee_events]
	ftag = next(m for m in call.ng_requests if m.get("command") == "offer")["from-tag"]
	st = call.query_playing["tags"][ftag]["medias"][0]["streams"][0]
	assert st["forwarding"] == "userspace" and st["not in kernel"] == "playing DTMF", st
	st = call.query_after_play["tags"][ftag]["medias"][0]["streams"][0]
	assert st.get("not in kernel") != "playing DTMF", st


def test_played_media_reaches_the_caller(call):
	"""play_media with the caller's From tag and file=: from the request on, the caller
	gets one stream in the callee's SSRC whose sequence numbers neither skip nor repeat:
	the callee's packets, then the relay's own 50 of 20 ms (marker on the first,
	timestamps stepping 160) carrying 1 kHz for the announced second, then the callee's
	own payloads again, shifted by one constant offset (sequence number and timestamp)
	and never more than 50 ms after the callee sent them."""
	play = next(m for m in call.ng_requests if m.get("command") == "play media")
	assert play.get("file") == TONE["path"] and play.get("from-tag"), play
	if S.relay_kind() != "sluiced":
		pytest.skip("rtpengine plays from its own player (its own SSRC, the callee's "
			    "packets alongside)")
	_, _, sent = call.marks["play_media"]
	down, up = call.rtp["a_down"], call.rtp["b_up"]
	end = call.marks["hangup"][0] - 0.05
	seqs = [s for _, s in sorted((v[0], s) for s, v in down.items() if sent < v[0] < end)]
	assert [(b - a) & 0xFFFF for a, b in zip(seqs, seqs[1:])] == [1] * (len(seqs) - 1)
	i = next(k for k, s in enumerate(seqs) if down[s][2])
	assert all(s in up and down[s][4] == up[s][4] for s in seqs[:i]), "played late"
	assert down[seqs[i]][0] - sent < 0.3, "played late"
	played = seqs[i:i + 50]
	assert all(down[s][1] == 0 for s in played)
	assert [(down[b][3] - down[a][3]) & 0xFFFFFFFF for a, b in zip(played, played[1:])] == \
		[160] * 49
	x = np.concatenate([_ulaw(down[s][4]) for s in played])
	spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
	peak = np.fft.rfftfreq(len(x), 1 / 8000)[int(spec.argmax())]
	assert abs(peak - 1000) < 10, peak
	rest = seqs[i + 50:]
	assert len(rest) > 5 and down[rest[0]][2], rest[:3]
	# the callee's packet each one is: the last it sent before it arrived
	first = max((v[0], s) for s, v in up.items() if v[0] <= down[rest[0]][0])[1]
	off = (rest[0] - first) & 0xFFFF
	toff = (down[rest[0]][3] - up[first][3]) & 0xFFFFFFFF
	for s in rest:
		u = up[(s - off) & 0xFFFF]
		assert (down[s][4], (down[s][3] - u[3]) & 0xFFFFFFFF) == (u[4], toff), s
		assert 0 <= down[s][0] - u[0] < 0.05, s
