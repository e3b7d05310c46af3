"""A WebRTC browser (headless Chromium driven by selenium) bridged by the relay to a plain
RTP/AVP PCMU endpoint, with the offer/answer going through the relay as Kamailio would
send it for WebRTC -> SIP.

    Chromium  --- page from a local http.server: getUserMedia (fake device playing a
      |           1 kHz WAV) + RTCPeerConnection, offering only Opus
      |  ICE (relay lite), DTLS-SRTP (relay is the client), rtcp-mux, Opus
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

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

PAGE = r"""<!doctype html>
<html><body><audio id="remote" autoplay></audio>
<script>
window.st = {offer: null, err: null, answered: false, ice: "new", conn: "new", stats: null};
let pc;
async function start() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: false});
    pc = new RTCPeerConnection({iceServers: []});
    pc.oniceconnectionstatechange = () => { st.ice = pc.iceConnectionState; };
    pc.onconnectionstatechange = () => { st.conn = pc.connectionState; };
    pc.ontrack = (ev) => {
      const a = document.getElementById("remote");
      a.srcObject = new MediaStream([ev.track]);
      a.play().catch((e) => { st.err = "play: " + e; });
    };
    const tr = pc.addTransceiver(stream.getAudioTracks()[0], {direction: "sendrecv"});
    const opus = RTCRtpReceiver.getCapabilities("audio").codecs
      .filter((c) => c.mimeType.toLowerCase() === "audio/opus");
    tr.setCodecPreferences(opus);
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
window.answer = async (sdp) => {
  try {
    await pc.setRemoteDescription({type: "answer", sdp: sdp});
    st.answered = true;
  } catch (e) { st.err = "answer: " + e; }
};
window.poll = async () => {
  const r = await pc.getStats();
  const o = {};
  r.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio")
      o.inbound = {packets: s.packetsReceived, level: s.audioLevel || 0,
                   energy: s.totalAudioEnergy || 0, codec: s.codecId};
    if (s.type === "outbound-rtp" && s.kind === "audio")
      o.outbound = {packets: s.packetsSent};
    if (s.type === "codec") o[s.id] = s.mimeType;
  });
  st.stats = o;
};
start();
</script></body></html>
"""


# ---------------------------------------------------------------- G.711 mu-law

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

class PlainPhone:
	"""RTP/AVP PCMU endpoint: sends PLAIN_TONE every 20 ms to the relay, keeps the PCMU
	payloads it receives (in arrival order, by sequence number)."""

	def __init__(self):
		for _ in range(50):
			self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
			self.rtp.bind(("127.0.0.1", 0))
			self.port = self.rtp.getsockname()[1]
			self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
			try:
				self.rtcp.bind(("127.0.0.1", self.port + 1))
				break
			except OSError:
				self.rtp.close()
				self.rtcp.close()
		self.rtp.settimeout(0.2)
		self.got = {}
		self.stop = threading.Event()
		self.threads = []

	def sdp(self):
		return "\r\n".join([
			"v=0", "o=- 1001 1 IN IP4 127.0.0.1", "s=plain", "c=IN IP4 127.0.0.1",
			"t=0 0", "m=audio %d RTP/AVP 0" % self.port, "a=rtpmap:0 PCMU/8000",
			"a=ptime:20", "a=sendrecv"]) + "\r\n"

	def start(self, dest):
		self.threads = [threading.Thread(target=self._send, args=(dest,), daemon=True),
				threading.Thread(target=self._recv, daemon=True)]
		for t in self.threads:
			t.start()

	def _send(self, dest):
		t = np.arange(8000 * 20) / 8000.0
		pcm = ulaw_encode(np.round(12000 * np.sin(2 * np.pi * PLAIN_TONE * t)))
		seq, ts, ssrc = 1000, 5000, 0x5107E
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
		while not self.stop.is_set():
			try:
				data = self.rtp.recv(4096)
			except socket.timeout:
				continue
			except OSError:
				return
			if len(data) < 12 or data[0] >> 6 != 2 or 72 <= (data[1] & 0x7F) <= 76:
				continue
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


def test_webrtc_browser_to_plain_pcmu(relay, page_url, browser):
	t_start = time.monotonic()
	browser.get(page_url)
	st = H.wait_until(lambda: (lambda s: s if s.get("offer") or s.get("err") else None)(
		js_state(browser)), 10, "the browser's offer")
	assert not st["err"], st["err"]
	offer = st["offer"]
	assert "UDP/TLS/RTP/SAVPF" in offer and "a=fingerprint" in offer and "opus/48000" in offer
	assert "PCMU" not in offer, "setCodecPreferences left other codecs in:\n" + offer
	print("browser candidates: %s" % [l for l in offer.splitlines() if l.startswith("a=cand")])

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
		browser.execute_script("return window.answer(arguments[0]);", ans)
		st = H.wait_until(lambda: (lambda s: s if s.get("answered") or s.get("err") else None)(
			js_state(browser)), 5, "setRemoteDescription")
		assert not st["err"], st["err"]

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
		assert relay.request("delete", **{"call-id": callid, "from-tag": ftag}) \
			.get("result") == "ok"
	finally:
		phone.close()
	assert time.monotonic() - t_start < 40
