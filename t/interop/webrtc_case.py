"""A WebRTC browser (headless Chromium driven by selenium) bridged by the relay to a plain
RTP/AVP PCMU endpoint, with the offer/answer going through the relay as Kamailio would
send it for WebRTC -> SIP.

    Chromium  --- page from a local http.server: getUserMedia (fake device playing a
      |           1 kHz WAV) + RTCPeerConnection, offering only Opus
      |  ICE (both full, browser controlling), DTLS-SRTP (relay is the client), rtcp-mux, Opus
    relay     --- NG offer: RTP/AVP, ICE=remove, rtcp-mux-demux, codec-mask-opus,
      |           codec-transcode-PCMU; NG answer: back to UDP/TLS/RTP/SAVPF + Opus
      |  plain RTP/AVP, PCMU
    endpoint  --- python: answers PCMU, sends 440 Hz, records what it receives

Checks: the endpoint hears the browser's 1 kHz (FFT of the decoded PCMU), and the
browser's getStats shows inbound-rtp audio with > 50 packets and audioLevel > 0.01 (the
remote stream plays in an <audio> element; audioLevel stays 0 otherwise). Every wait is
bounded; the whole test takes ~10 s. Skipped only when chromium is not installed
(utils/install-deps.sh test installs chromium, chromium-driver and python3-selenium).
"""
import collections
import functools
import http.server
import os
import shutil
import socket
import threading
import time
import wave

import numpy as np
import pytest

import interop_harness as H
import interop_scenario as S
import ngclient

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium")
					else None)
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
BROWSER_TONE, PLAIN_TONE = 1000, 440
AUDIO_SSRC, VIDEO_SSRC = 0x5107E, 0x5107F        # the plain side's own, in its a=ssrc lines
MIN_VIDEO = 30                                  # VP8 packets each way

# set by test_webrtc.py for a namespace with nothing but lo: Chromium then gathers only
# with --allow-loopback-in-peer-connection, and ICE must run loopback to loopback
LOOPBACK_ONLY = os.environ.get("SLUICE_WEBRTC_LOOPBACK_ONLY") == "1"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

PAGE = r"""<!doctype html>
<html><body><audio id="remote" autoplay></audio><video id="rvideo" autoplay muted></video>
<script>
// index.html?video=1: camera too (Chromium's fake device), VP8 only, BUNDLEd with the audio
const VIDEO = new URLSearchParams(location.search).get("video") === "1";
window.st = {offer: null, err: null, answered: false, ice: "new", conn: "new", stats: null};
let pc;
function only(kind, mime, tr) {
  tr.setCodecPreferences(RTCRtpReceiver.getCapabilities(kind).codecs
    .filter((c) => c.mimeType.toLowerCase() === mime));
}
async function start() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true,
      video: VIDEO ? {width: 320, height: 240, frameRate: 15} : false});
    pc = new RTCPeerConnection({iceServers: []});
    pc.oniceconnectionstatechange = () => { st.ice = pc.iceConnectionState; };
    pc.onconnectionstatechange = () => { st.conn = pc.connectionState; };
    pc.ontrack = (ev) => {
      const el = document.getElementById(ev.track.kind === "video" ? "rvideo" : "remote");
      el.srcObject = new MediaStream([ev.track]);
      el.play().catch((e) => { st.err = "play: " + e; });
    };
    only("audio", "audio/opus",
         pc.addTransceiver(stream.getAudioTracks()[0], {direction: "sendrecv"}));
    if (VIDEO)
      only("video", "video/vp8",
           pc.addTransceiver(stream.getVideoTracks()[0], {direction: "sendrecv"}));
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === "complete") done();
      };
      setTimeout(done, 3000);
    });
    st.offer = pc.localDescription.sdp;
  } catch (e) { st.err = "start: " + e; }
}
// index.html?answer=1: the browser answers an offer instead (window.takeOffer)
window.takeOffer = async (sdp) => {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true});
    pc = new RTCPeerConnection({iceServers: []});
    pc.oniceconnectionstatechange = () => { st.ice = pc.iceConnectionState; };
    pc.onconnectionstatechange = () => { st.conn = pc.connectionState; };
    pc.ontrack = (ev) => {
      const el = document.getElementById("remote");
      el.srcObject = new MediaStream([ev.track]);
      el.play().catch((e) => { st.err = "play: " + e; });
    };
    await pc.setRemoteDescription({type: "offer", sdp: sdp});
    const tr = pc.getTransceivers()[0];
    await tr.sender.replaceTrack(stream.getAudioTracks()[0]);
    tr.direction = "sendrecv";
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === "complete") done();
      };
      setTimeout(done, 3000);
    });
    st.answer = pc.localDescription.sdp;
  } catch (e) { st.err = "takeOffer: " + e; }
};
window.answer = async (sdp) => {
  try {
    await pc.setRemoteDescription({type: "answer", sdp: sdp});
    st.answered = true;
  } catch (e) { st.err = "answer: " + e; }
};
window.poll = async () => {
  const r = await pc.getStats();
  const o = {transports: 0};
  r.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio")
      o.inbound = {packets: s.packetsReceived, level: s.audioLevel || 0,
                   energy: s.totalAudioEnergy || 0, codec: s.codecId, ssrc: s.ssrc,
                   samples: s.totalSamplesReceived || 0, concealed: s.concealedSamples || 0};
    if (s.type === "outbound-rtp" && s.kind === "audio")
      o.outbound = {packets: s.packetsSent};
    if (s.type === "inbound-rtp" && s.kind === "video")
      o.vinbound = {packets: s.packetsReceived, decoded: s.framesDecoded || 0,
                    keyframes: s.keyFramesDecoded || 0, ssrc: s.ssrc, codec: s.codecId};
    if (s.type === "outbound-rtp" && s.kind === "video")
      o.voutbound = {packets: s.packetsSent, encoded: s.framesEncoded || 0, ssrc: s.ssrc};
    if (s.type === "transport") o.transports++;
    if (s.type === "codec") o[s.id] = s.mimeType;
  });
  st.stats = o;
};
if (new URLSearchParams(location.search).get("answer") !== "1") start();
</script></body></html>
"""


# ---------------------------------------------------------------- G.711 mu-law


def datagrams(sock, stop):
	"""What sock receives until stop is set or the socket is closed (sock has a timeout,
	so stop is seen within it)."""
	while not stop.is_set():
		try:
			yield sock.recv(4096)
		except socket.timeout:
			continue
		except OSError:
			return

def ulaw_encode(x):
	s = x.astype(np.int32)
	sign = (s < 0).astype(np.int32)
	mag = np.minimum(np.abs(s), 32635) + 0x84
	exp = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
	mant = (mag >> (exp + 3)) & 0x0F
	return (~((sign << 7) | (exp << 4) | mant) & 0xFF).astype(np.uint8)


def ulaw_decode(u):
	u = ~np.frombuffer(u, dtype=np.uint8).astype(np.int32) & 0xFF
	exp = (u >> 4) & 7
	mag = (((u & 0x0F) << 3) + 0x84 << exp) - 0x84
	return np.where(u & 0x80, -mag, mag).astype(float)


def peak_of(pcm, rate):
	"""(peak Hz, fraction of the energy within +-20 Hz of it)."""
	spec = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm)))) ** 2
	freqs = np.fft.rfftfreq(len(pcm), 1.0 / rate)
	spec[0] = 0
	peak = float(freqs[int(spec.argmax())])
	band = spec[(freqs > peak - 20) & (freqs < peak + 20)].sum() / max(spec.sum(), 1e-9)
	return peak, float(band)


# ---------------------------------------------------------------- the plain endpoint

def rtp_pair():
	"""Two UDP sockets on 127.0.0.1, RTP on an even port and RTCP on the next."""
	for _ in range(50):
		rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		rtp.bind(("127.0.0.1", 0))
		port = rtp.getsockname()[1]
		rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		try:
			rtcp.bind(("127.0.0.1", port + 1))
			rtp.settimeout(0.2)
			return rtp, rtcp, port
		except OSError:
			rtp.close()
			rtcp.close()
	raise RuntimeError("no RTP/RTCP port pair")


class PlainPhone:
	"""RTP/AVP PCMU endpoint: sends PLAIN_TONE every 20 ms to the relay, keeps the PCMU
	payloads it receives (in arrival order, by sequence number) and counts every RTP
	packet by payload type."""

	def __init__(self):
		self.rtp, self.rtcp, self.port = rtp_pair()
		self.got = {}
		self.pts = collections.Counter()
		self.stop = threading.Event()
		self.threads = []

	def sdp(self, video=None):
		lines = ["v=0", "o=- 1001 1 IN IP4 127.0.0.1", "s=plain", "c=IN IP4 127.0.0.1",
			 "t=0 0", "m=audio %d RTP/AVP 0" % self.port, "a=rtpmap:0 PCMU/8000",
			 "a=ptime:20", "a=sendrecv", "a=ssrc:%d cname:plain" % AUDIO_SSRC]
		if video:
			lines += video.sdp_lines()
		return "\r\n".join(lines) + "\r\n"

	def start(self, dest):
		self.threads = [threading.Thread(target=self._send, args=(dest,), daemon=True),
				threading.Thread(target=self._recv, daemon=True)]
		for t in self.threads:
			t.start()

	def _send(self, dest):
		t = np.arange(8000 * 20) / 8000.0
		pcm = ulaw_encode(np.round(12000 * np.sin(2 * np.pi * PLAIN_TONE * t)))
		seq, ts, ssrc = 1000, 5000, AUDIO_SSRC
		t0 = time.monotonic()
		for i in range(len(pcm) // 160):
			if self.stop.is_set():
				return
			hdr = bytes([0x80, 0x80 if i == 0 else 0]) + (seq & 0xFFFF).to_bytes(2, "big") + \
				(ts & 0xFFFFFFFF).to_bytes(4, "big") + ssrc.to_bytes(4, "big")
			self.rtp.sendto(hdr + pcm[160 * i:160 * (i + 1)].tobytes(), dest)
			seq, ts = seq + 1, ts + 160
			d = t0 + (i + 1) * 0.02 - time.monotonic()
			if d > 0:
				time.sleep(d)

	def _recv(self):
		for data in datagrams(self.rtp, self.stop):
			if len(data) < 12 or data[0] >> 6 != 2 or 72 <= (data[1] & 0x7F) <= 76:
				continue
			self.pts[data[1] & 0x7F] += 1
			if data[1] & 0x7F == 0:
				self.got[int.from_bytes(data[2:4], "big")] = data[12:]

	def pcm(self):
		seqs = sorted(self.got)
		if seqs and seqs[-1] - seqs[0] > 0x8000:        # wrapped: order by unwrapped seq
			seqs = sorted(self.got, key=lambda s: (s - seqs[-1]) & 0xFFFF)
		return ulaw_decode(b"".join(self.got[s] for s in seqs))

	def close(self):
		self.stop.set()
		for t in self.threads:
			t.join(2)
		self.rtp.close()
		self.rtcp.close()


def rtp_payload(data):
	"""The payload of an RTP packet: after CSRCs and header extension, before padding."""
	off = 12 + 4 * (data[0] & 0x0F)
	if data[0] & 0x10:
		off += 4 + 4 * int.from_bytes(data[off + 2:off + 4], "big")
	end = len(data) - (data[-1] if data[0] & 0x20 else 0)
	return data[off:end]


def vp8_frame_start(payload):
	"""RFC 7741 payload descriptor: None if it is malformed (reserved bits set, too
	short), else the VP8 payload after it when the packet starts a frame (S=1, PID 0),
	else b"". """
	if not payload or payload[0] & 0x48:
		return None
	i = 1
	if payload[0] & 0x80:                           # X: extension byte I L T K
		if len(payload) < 2:
			return None
		x, i = payload[1], 2
		if x & 0x80:                            # I: picture ID, 7 or 15 bits
			i += 2 if len(payload) > i and payload[i] & 0x80 else 1
		i += 1 if x & 0x40 else 0               # L: TL0PICIDX
		i += 1 if x & 0x30 else 0               # T/K: TID Y KEYIDX
	if len(payload) <= i:
		return None
	return payload[i:] if payload[0] & 0x17 == 0x10 else b""


def vp8_is_keyframe(frame):
	"""Frame tag with P=0 (key frame) followed by the start code 9d 01 2a."""
	return len(frame) >= 10 and not frame[0] & 1 and frame[3:6] == b"\x9d\x01\x2a"


class RtcpLog:
	"""Reads an RTCP socket: counts (packet type, sender SSRC) over each compound."""

	def __init__(self, sock):
		self.sock = sock
		self.seen = collections.Counter()
		self.stop = threading.Event()
		self.thread = threading.Thread(target=self._run, daemon=True)
		self.thread.start()

	def _run(self):
		self.sock.settimeout(0.2)
		for data in datagrams(self.sock, self.stop):
			i = 0
			while i + 8 <= len(data) and data[i] >> 6 == 2:
				self.seen[(data[i + 1], int.from_bytes(data[i + 4:i + 8], "big"))] += 1
				i += 4 * (int.from_bytes(data[i + 2:i + 4], "big") + 1)

	def senders(self, pt=None):
		return {s for (t, s) in self.seen if pt is None or t == pt}

	def close(self):
		self.stop.set()
		self.thread.join(2)


class PlainVideo:
	"""The plain side's video socket (RTP/AVP, VP8 at the browser's payload type): counts
	what arrives by payload type, checks the VP8 payload descriptors, and echoes each VP8
	packet back to the relay with the SSRC replaced by its own signalled VIDEO_SSRC."""

	def __init__(self, pt):
		self.pt = pt
		self.rtp, self.rtcp, self.port = rtp_pair()
		self.pts = collections.Counter()
		self.ssrcs = collections.Counter()
		self.frames = self.keyframes = self.bad = self.echoed = 0
		self.stop = threading.Event()
		self.thread = None

	def sdp_lines(self):
		return ["m=video %d RTP/AVP %d" % (self.port, self.pt),
			"a=rtpmap:%d VP8/90000" % self.pt, "a=sendrecv",
			"a=ssrc:%d cname:plain" % VIDEO_SSRC]

	def start(self, dest):
		self.thread = threading.Thread(target=self._run, args=(dest,), daemon=True)
		self.thread.start()

	def _run(self, dest):
		for data in datagrams(self.rtp, self.stop):
			if len(data) < 13 or data[0] >> 6 != 2:
				continue
			pt = data[1] & 0x7F
			self.pts[pt] += 1
			if pt != self.pt:
				continue
			self.ssrcs[int.from_bytes(data[8:12], "big")] += 1
			frame = vp8_frame_start(rtp_payload(data))
			if frame is None:
				self.bad += 1
				continue
			if frame:
				self.frames += 1
				self.keyframes += vp8_is_keyframe(frame)
			self.rtp.sendto(data[:8] + VIDEO_SSRC.to_bytes(4, "big") + data[12:], dest)
			self.echoed += 1

	def close(self):
		self.stop.set()
		if self.thread:
			self.thread.join(2)
		self.rtp.close()
		self.rtcp.close()


# ---------------------------------------------------------------- fixtures

def make_wav(path, freq, seconds=30, rate=48000):
	t = np.arange(seconds * rate) / rate
	pcm = (0.5 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
	with wave.open(str(path), "wb") as w:
		w.setnchannels(1)
		w.setsampwidth(2)
		w.setframerate(rate)
		w.writeframes(pcm.tobytes())


@pytest.fixture
def page_url(tmp_path):
	(tmp_path / "index.html").write_text(PAGE)
	handler = functools.partial(_QuietHandler, directory=str(tmp_path))
	srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
	th = threading.Thread(target=srv.serve_forever, daemon=True)
	th.start()
	yield "http://127.0.0.1:%d/index.html" % srv.server_address[1]
	srv.shutdown()
	srv.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
	def log_message(self, *a):
		pass


@pytest.fixture
def relay(tmp_path):
	ng_port = H.pick_port(2360)
	proc = H.Proc("relay", H.relay_argv(S.relay_kind(), ng_port), tmp_path)
	H.set_current(str(tmp_path), [proc])
	ng = ngclient.NGClient(port=ng_port, timeout=1.0)
	try:
		H.wait_until(lambda: proc.check_alive() or ng.ping(), 10, "relay NG ping")
		yield ng
	finally:
		rc = proc.stop()
		assert rc == 0, "relay exited with %s:\n%s" % (rc, proc.tail(60))


@pytest.fixture
def browser(tmp_path):
	from selenium import webdriver
	from selenium.webdriver.chrome.service import Service

	wav = tmp_path / "tone-1k.wav"
	make_wav(wav, BROWSER_TONE)
	opts = webdriver.ChromeOptions()
	opts.binary_location = CHROMIUM
	for a in ("--headless", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
		  "--use-fake-ui-for-media-stream", "--use-file-for-fake-audio-capture=%s" % wav,
		  "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
		  "--disable-component-update", "--disable-sync", "--no-first-run",
		  "--user-data-dir=%s" % (tmp_path / "profile")):
		opts.add_argument(a)
	for a in LOOPBACK_ONLY and ("--allow-loopback-in-peer-connection",) or ():
		opts.add_argument(a)
	svc = Service(executable_path=CHROMEDRIVER, log_path=str(tmp_path / "chromedriver.log"))
	drv = webdriver.Chrome(service=svc, options=opts)
	try:
		drv.set_page_load_timeout(10)
		drv.set_script_timeout(10)
		yield drv
	finally:
		drv.quit()


# ---------------------------------------------------------------- the test

def js_state(drv):
	return drv.execute_script("return window.st || {};")


def give_answer(drv, ans):
	"""setRemoteDescription(answer) in the page; fails on the browser's error."""
	drv.execute_script("return window.answer(arguments[0]);", ans)
	st = H.wait_until(lambda: (lambda s: s if s.get("answered") or s.get("err") else None)(
		js_state(drv)), 5, "setRemoteDescription")
	assert not st["err"], st["err"]


def test_webrtc_browser_to_plain_pcmu(relay, page_url, browser):
	t_start = time.monotonic()
	browser.get(page_url)
	st = H.wait_until(lambda: (lambda s: s if s.get("offer") or s.get("err") else None)(
		js_state(browser)), 10, "the browser's offer")
	assert not st["err"], st["err"]
	offer = st["offer"]
	assert "UDP/TLS/RTP/SAVPF" in offer and "a=fingerprint" in offer and "opus/48000" in offer
	assert "PCMU" not in offer, "setCodecPreferences left other codecs in:\n" + offer
	cands = [l for l in offer.splitlines() if l.startswith("a=cand")]
	print("browser candidates: %s" % cands)
	if LOOPBACK_ONLY:
		assert cands and all(" 127.0.0.1 " in l for l in cands), cands

	callid, ftag, ttag = "webrtc-%s" % os.urandom(6).hex(), "browser", "plain"
	# what Kamailio's rtpengine module sends for "ICE=remove RTP/AVP rtcp-mux-demux
	# codec-mask-opus codec-transcode-PCMU replace-origin replace-session-connection"
	r = relay.request("offer", **{"call-id": callid, "from-tag": ftag, "sdp": offer,
		"ICE": "remove", "transport-protocol": "RTP/AVP", "rtcp-mux": ["demux"],
		"codec": {"mask": ["opus"], "transcode": ["PCMU"]},
		"replace": ["origin", "session-connection"]})
	assert r.get("result") == "ok", r
	text = r["sdp"]
	m_line = [l for l in text.splitlines() if l.startswith("m=audio")][0].split()
	assert m_line[2] == "RTP/AVP" and m_line[3] == "0", text
	for absent in ("a=candidate", "a=fingerprint", "a=ice-ufrag", "opus", "a=crypto"):
		assert absent not in text, "%s toward the plain side:\n%s" % (absent, text)
	c_addr = [l for l in text.splitlines() if l.startswith("c=")][-1].split()[2]
	dest = (c_addr, int(m_line[1]))

	phone = PlainPhone()
	try:
		r = relay.request("answer", **{"call-id": callid, "from-tag": ftag, "to-tag": ttag,
					       "sdp": phone.sdp(), "replace": ["origin",
					       "session-connection"]})
		assert r.get("result") == "ok", r
		ans = r["sdp"]
		am = [l for l in ans.splitlines() if l.startswith("m=audio")][0].split()
		assert am[2] == "UDP/TLS/RTP/SAVPF", ans
		for need in ("a=candidate", "a=fingerprint:sha-256", "a=ice-ufrag", "a=rtcp-mux",
			     "opus/48000/2", "a=setup:active"):
			assert need in ans, "%s missing toward the browser:\n%s" % (need, ans)
		assert "PCMU" not in ans, ans

		phone.start(dest)
		give_answer(browser, ans)

		def heard():
			browser.execute_script("window.poll();")
			s = js_state(browser)
			inb = (s.get("stats") or {}).get("inbound") or {}
			return s if inb.get("packets", 0) > 50 and inb.get("level", 0) > 0.01 and \
				len(phone.got) >= 150 else None
		try:
			st = H.wait_until(heard, 15, "media both ways", interval=0.25)
		except AssertionError:
			s = js_state(browser)
			q = relay.request("query", **{"call-id": callid, "from-tag": ftag})
			raise AssertionError("no media both ways: browser %r, plain side got %d "
					     "packets, query %r" % (s, len(phone.got), q))
		stats = st["stats"]
		print("browser: ice %s, connection %s, stats %r; plain side: %d packets"
		      % (st["ice"], st["conn"], stats, len(phone.got)))
		assert stats.get(stats["inbound"]["codec"], "").lower() == "audio/opus", stats
		assert stats["outbound"]["packets"] > 50

		pcm = phone.pcm()[4000:]                # skip the first 0.5 s
		peak, band = peak_of(pcm, 8000)
		print("plain side: %.2f s of audio, peak %.0f Hz, %.0f%% of the energy near it"
		      % (len(pcm) / 8000, peak, 100 * band))
		assert abs(peak - BROWSER_TONE) <= 20, "plain side heard %.0f Hz" % peak
		assert band > 0.5, "tone too weak against noise: %.2f" % band

		if S.relay_kind() == "sluiced":         # sluiced's query format (docs/ng.md)
			q = relay.request("query", **{"call-id": callid, "from-tag": ftag})
			mb = q["tags"][ftag]["medias"][0]
			mp = q["tags"][ttag]["medias"][0]
			assert "transcoding" in mb["flags"] and "transcoding" in mp["flags"], q
			assert mb["transport"] == "DTLS" and mb["DTLS"]["state"] == "connected", mb
			assert mb["SRTP"]["unprotected"] > 50 and mb["SRTP"]["protected"] > 50, mb
			assert mb["ICE"]["checks answered"] > 0, mb
			# full ICE: the browser offered, so sluiced is controlled and checks too
			assert mb["ICE"]["mode"] == "controlled" and mb["ICE"]["checks sent"] > 0, mb
			assert mb["ICE"]["responses ok"] > 0 and mb["ICE"]["state"] == "completed", mb
			assert mb["ICE"]["selected address"] == \
				("127.0.0.1" if LOOPBACK_ONLY else "192.0.2.2"), mb
		assert relay.request("delete", **{"call-id": callid, "from-tag": ftag}) \
			.get("result") == "ok"
	finally:
		phone.close()
	assert time.monotonic() - t_start < 40


# ---------------------------------------------------------------- audio + video, BUNDLE

def sections(sdp):
	"""[(m= line fields, [attribute lines])] per media section, session level first with
	fields None."""
	out = [(None, [])]
	for l in sdp.splitlines():
		if l.startswith("m="):
			out.append((l[2:].split(), []))
		elif l:
			out[-1][1].append(l)
	return out


def attr(lines, name):
	return [l.split(":", 1)[1] for l in lines if l.startswith("a=%s:" % name)]


def rtpmap_pt(lines, enc):
	for v in attr(lines, "rtpmap"):
		pt, _, rest = v.partition(" ")
		if rest.lower().startswith(enc.lower() + "/"):
			return int(pt)
	return None


def test_webrtc_bundle_audio_video(relay, page_url, browser):
	"""Chromium sends audio and video over one BUNDLE transport; the relay splits it
	toward a plain endpoint with an audio (PCMU, transcoded) and a video (VP8) port, and
	answers the browser with BUNDLE. The plain side echoes the video back. The browser's
	video RTCP (its SR) reaches the plain video RTCP port, never the audio one."""
	t_start = time.monotonic()
	browser.get(page_url + "?video=1")
	st = H.wait_until(lambda: (lambda s: s if s.get("offer") or s.get("err") else None)(
		js_state(browser)), 10, "the browser's offer")
	assert not st["err"], st["err"]
	offer = st["offer"]
	osec = sections(offer)
	assert [m[0] for m, _ in osec[1:]] == ["audio", "video"], offer
	omids = [attr(a, "mid")[0] for _, a in osec[1:]]
	assert "a=group:BUNDLE %s" % " ".join(omids) in offer, offer
	vp8 = rtpmap_pt(osec[2][1], "VP8")
	assert vp8 is not None and "H264" not in offer and "VP9" not in offer, offer

	callid, ftag, ttag = "webrtc-av-%s" % os.urandom(6).hex(), "browser", "plain"
	r = relay.request("offer", **{"call-id": callid, "from-tag": ftag, "sdp": offer,
		"ICE": "remove", "transport-protocol": "RTP/AVP", "rtcp-mux": ["demux"],
		"codec": {"mask": ["opus"], "transcode": ["PCMU"]},
		"replace": ["origin", "session-connection"]})
	assert r.get("result") == "ok", r
	text = r["sdp"]
	psec = sections(text)
	assert [m[0] for m, _ in psec[1:]] == ["audio", "video"], text
	(am, _), (vm, vattrs) = psec[1:]
	assert am[2] == "RTP/AVP" and am[3:] == ["0"], text
	# codec-transcode-PCMU is an audio codec: the video section keeps only VP8
	assert vm[2] == "RTP/AVP" and vm[3:] == [str(vp8)] and rtpmap_pt(vattrs, "VP8") == vp8, text
	# a plain answerer knows no BUNDLE: each section needs a port of its own
	assert am[1] != vm[1], "one port for audio and video toward the plain side:\n" + text
	for absent in ("a=candidate", "a=fingerprint", "a=ice-ufrag", "opus", "a=crypto"):
		assert absent not in text, "%s toward the plain side:\n%s" % (absent, text)
	c_addr = [l for l in text.splitlines() if l.startswith("c=")][-1].split()[2]

	b_assrc, b_vssrc = (int(attr(a, "ssrc")[0].split()[0]) for _, a in osec[1:])
	phone, video = PlainPhone(), PlainVideo(vp8)
	artcp, vrtcp = RtcpLog(phone.rtcp), RtcpLog(video.rtcp)
	try:
		r = relay.request("answer", **{"call-id": callid, "from-tag": ftag, "to-tag": ttag,
					       "sdp": phone.sdp(video), "replace": ["origin",
					       "session-connection"]})
		assert r.get("result") == "ok", r
		ans = r["sdp"]
		bsec = sections(ans)
		assert [m[0] for m, _ in bsec[1:]] == ["audio", "video"], ans
		(bam, baattrs), (bvm, bvattrs) = bsec[1:]
		assert bam[2] == bvm[2] == "UDP/TLS/RTP/SAVPF", ans
		amids = [(attr(baattrs, "mid") or [None])[0], (attr(bvattrs, "mid") or [None])[0]]
		assert amids == omids, "answer mids %s, offer's %s:\n%s" % (amids, omids, ans)
		groups = attr(bsec[0][1], "group")
		assert "BUNDLE %s" % " ".join(omids) in groups, \
			"no a=group:BUNDLE %s toward the browser:\n%s" % (" ".join(omids), ans)
		assert bam[1] == bvm[1], "BUNDLEd sections on different ports:\n" + ans
		assert rtpmap_pt(baattrs, "opus") is not None and "PCMU" not in ans, ans
		assert bvm[3:] == [str(vp8)] and rtpmap_pt(bvattrs, "VP8") == vp8, ans
		for need in ("a=candidate", "a=fingerprint:sha-256", "a=ice-ufrag", "a=rtcp-mux",
			     "a=setup:active"):
			assert need in ans, "%s missing toward the browser:\n%s" % (need, ans)

		phone.start((c_addr, int(am[1])))
		video.start((c_addr, int(vm[1])))
		give_answer(browser, ans)

		def flowing():
			browser.execute_script("window.poll();")
			s = js_state(browser)
			stats = s.get("stats") or {}
			inb, vin = stats.get("inbound") or {}, stats.get("vinbound") or {}
			return s if inb.get("packets", 0) > 50 and inb.get("level", 0) > 0.01 and \
				vin.get("packets", 0) >= MIN_VIDEO and vin.get("decoded", 0) > 0 and \
				len(phone.got) >= 150 and video.frames >= 10 and \
				b_vssrc in vrtcp.senders(200) else None
		try:
			st = H.wait_until(flowing, 15, "audio and video both ways", interval=0.25)
		except AssertionError:
			s = js_state(browser)
			q = relay.request("query", **{"call-id": callid, "from-tag": ftag})
			raise AssertionError(
				"no audio+video both ways: browser %r; plain audio got %d PCMU (by PT "
				"%r), plain video got by PT %r, %d frames, %d bad, %d echoed, RTCP "
				"(type, sender) %r; query %r"
				% (s, len(phone.got), dict(phone.pts), dict(video.pts), video.frames,
				   video.bad, video.echoed, dict(vrtcp.seen), q))
		stats = st["stats"]
		print("RTCP at the plain audio port %r, video port %r; browser audio %d video %d" % (
			dict(artcp.seen), dict(vrtcp.seen), b_assrc, b_vssrc))
		print("browser: ice %s, connection %s, stats %r; plain audio %r, video %r "
		      "(%d frames, %d key frames, %d echoed)" % (st["ice"], st["conn"], stats,
		      dict(phone.pts), dict(video.pts), video.frames, video.keyframes, video.echoed))
		assert stats["transports"] == 1, "browser did not bundle: %r" % stats
		assert stats.get(stats["inbound"]["codec"], "").lower() == "audio/opus", stats
		assert stats.get(stats["vinbound"]["codec"], "").lower() == "video/vp8", stats
		assert stats["vinbound"]["ssrc"] == VIDEO_SSRC, stats
		assert stats["outbound"]["packets"] > 50 and stats["voutbound"]["packets"] >= MIN_VIDEO

		# each plain socket got its own medium only, RTCP too (the audio port's is the
		# relay's own: RTCP does not cross the transcoder)
		assert b_assrc not in vrtcp.senders() and b_vssrc not in artcp.senders(), \
			"RTCP (type, sender) at audio %r, video %r" % (dict(artcp.seen),
								   dict(vrtcp.seen))
		assert set(phone.pts) == {0}, "plain audio socket got PTs %r" % dict(phone.pts)
		assert set(video.pts) == {vp8}, "plain video socket got PTs %r" % dict(video.pts)
		assert video.pts[vp8] >= MIN_VIDEO and video.bad == 0, \
			"%d VP8 packets, %d with a bad descriptor" % (video.pts[vp8], video.bad)
		assert video.keyframes >= 1, "no VP8 key frame among %d frames" % video.frames
		assert len(video.ssrcs) == 1 and VIDEO_SSRC not in video.ssrcs, dict(video.ssrcs)

		pcm = phone.pcm()[4000:]
		peak, band = peak_of(pcm, 8000)
		print("plain side: %.2f s of audio, peak %.0f Hz, %.0f%% of the energy near it"
		      % (len(pcm) / 8000, peak, 100 * band))
		assert abs(peak - BROWSER_TONE) <= 20, "plain side heard %.0f Hz" % peak
		assert band > 0.5, "tone too weak against noise: %.2f" % band
		assert relay.request("delete", **{"call-id": callid, "from-tag": ftag}) \
			.get("result") == "ok"
	finally:
		artcp.close()
		vrtcp.close()
		phone.close()
		video.close()
	assert time.monotonic() - t_start < 40


# ---------------------------------------------------------------- the browser answers

def test_webrtc_plain_to_browser(relay, page_url, browser):
	"""The plain phone calls the browser: the relay offers the browser ICE (full,
	controlling: it nominates), DTLS-SRTP (actpass; the browser answers active) and
	rtcp-mux on PCMU; the browser answers. Media both ways, and the relay's ICE agent
	toward the browser is the controlling one that selected the pair."""
	t_start = time.monotonic()
	browser.get(page_url + "?answer=1")
	phone = PlainPhone()
	callid, ftag, ttag = "webrtc-%s" % os.urandom(6).hex(), "plain", "browser"
	try:
		r = relay.request("offer", **{"call-id": callid, "from-tag": ftag, "sdp": phone.sdp(),
			"ICE": "force", "transport-protocol": "UDP/TLS/RTP/SAVPF",
			"rtcp-mux": ["offer"], "replace": ["origin", "session-connection"]})
		assert r.get("result") == "ok", r
		offer = r["sdp"]
		for need in ("a=candidate", "a=fingerprint:sha-256", "a=ice-ufrag", "a=rtcp-mux",
			     "a=setup:actpass", "UDP/TLS/RTP/SAVPF"):
			assert need in offer, "%s missing toward the browser:\n%s" % (need, offer)
		assert "a=ice-lite" not in offer, offer
		browser.execute_script("window.takeOffer(arguments[0]);", offer)
		st = H.wait_until(lambda: (lambda s: s if s.get("answer") or s.get("err") else None)(
			js_state(browser)), 10, "the browser's answer")
		assert not st["err"], st["err"]
		ans = st["answer"]
		print("browser answer candidates: %s" % [l for l in ans.splitlines()
							 if l.startswith("a=cand")])
		r = relay.request("answer", **{"call-id": callid, "from-tag": ftag, "to-tag": ttag,
					       "sdp": ans, "replace": ["origin", "session-connection"]})
		assert r.get("result") == "ok", r
		text = r["sdp"]
		m_line = [l for l in text.splitlines() if l.startswith("m=audio")][0].split()
		assert m_line[2] == "RTP/AVP" and "a=candidate" not in text, text
		c_addr = [l for l in text.splitlines() if l.startswith("c=")][-1].split()[2]
		phone.start((c_addr, int(m_line[1])))

		def heard():
			browser.execute_script("window.poll();")
			s = js_state(browser)
			inb = (s.get("stats") or {}).get("inbound") or {}
			return s if inb.get("packets", 0) > 50 and inb.get("level", 0) > 0.01 and \
				len(phone.got) >= 150 else None
		try:
			st = H.wait_until(heard, 15, "media both ways", interval=0.25)
		except AssertionError:
			q = relay.request("query", **{"call-id": callid, "from-tag": ftag})
			raise AssertionError("no media both ways: browser %r, plain side got %d "
					     "packets, query %r" % (js_state(browser), len(phone.got), q))
		print("browser: ice %s, connection %s, stats %r; plain side: %d packets"
		      % (st["ice"], st["conn"], st["stats"], len(phone.got)))
		pcm = phone.pcm()[4000:]
		peak, band = peak_of(pcm, 8000)
		assert abs(peak - BROWSER_TONE) <= 20, "plain side heard %.0f Hz" % peak
		if S.relay_kind() == "sluiced":
			q = relay.request("query", **{"call-id": callid, "from-tag": ftag})
			mb = q["tags"][ttag]["medias"][0]
			assert mb["DTLS"]["state"] == "connected", mb
			ice = mb["ICE"]
			assert ice["mode"] == "controlling" and ice["state"] == "completed", ice
			assert ice["checks sent"] > 0 and ice["responses ok"] > 0, ice
			assert ice["selected address"] == \
				("127.0.0.1" if LOOPBACK_ONLY else "192.0.2.2"), ice
		assert relay.request("delete", **{"call-id": callid, "from-tag": ftag}) \
			.get("result") == "ok"
	finally:
		phone.close()
	assert time.monotonic() - t_start < 40
