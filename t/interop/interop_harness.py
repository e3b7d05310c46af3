"""Process, SIP-trace, SDP, pcap and audio helpers for the Kamailio + baresip interop test.

Every external program runs in its own session (process group) so that teardown can kill
it together with its children; its output goes to a log file in the test's temp dir.
"""
import errno
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import wave
from pathlib import Path

import ngclient

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

RELAY_ADDR = "127.0.0.1"
RELAY_PORT_MIN, RELAY_PORT_MAX = 46000, 46999
KAMAILIO = "/usr/sbin/kamailio"
KAMAILIO_MPATH = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
BARESIP = "/usr/bin/baresip"
BARESIP_MODULES = "/usr/lib/baresip/modules"
RTPENGINE = "/usr/bin/rtpengine"

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Logs of the scenario running or run last; conftest attaches them to failing reports.
CURRENT = {"dir": None, "procs": [], "shown": False}


def set_current(d, procs):
	CURRENT.update(dir=d, procs=procs, shown=False)


def wait_until(pred, timeout, what, interval=0.05):
	"""Poll pred() until it returns a true value (which is returned) or fail."""
	end = time.monotonic() + timeout
	while True:
		v = pred()
		if v:
			return v
		if time.monotonic() > end:
			raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
		time.sleep(interval)


# ---------------------------------------------------------------- ports

def _can_bind(port, udp=True, tcp=False):
	kinds = ([socket.SOCK_DGRAM] if udp else []) + ([socket.SOCK_STREAM] if tcp else [])
	for kind in kinds:
		s = socket.socket(socket.AF_INET, kind)
		try:
			if kind == socket.SOCK_STREAM:
				s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			s.bind(("127.0.0.1", port))
		except OSError:
			return False
		finally:
			s.close()
	return True


def pick_port(preferred, span=1, tcp=False, taken=()):
	"""The preferred port if it (and the span-1 ports after it) is free, else a nearby
	free one. Ports 2223 and 5060 are never handed out."""
	for base in [preferred] + list(range(preferred + 100, preferred + 2000, 7)):
		ports = range(base, base + span)
		if any(p in (2223, 5060) or p in taken for p in ports):
			continue
		if all(_can_bind(p, udp=True, tcp=tcp) for p in ports):
			return base
	raise RuntimeError("no free port near %d" % preferred)


# ---------------------------------------------------------------- processes

class Proc:
	"""A child in its own process group, output to logdir/NAME.log."""

	def __init__(self, name, argv, logdir, cwd=None, env=None):
		self.name = name
		self.argv = [str(a) for a in argv]
		self.log = Path(logdir) / ("%s.log" % name)
		self._fh = open(self.log, "wb")
		self._fh.write(("$ %s\n" % " ".join(self.argv)).encode())
		self._fh.flush()
		self.p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._fh,
					  stderr=subprocess.STDOUT, cwd=cwd, env=env,
					  start_new_session=True)
		self.pgid = self.p.pid

	def alive(self):
		return self.p.poll() is None

	def check_alive(self):
		if not self.alive():
			raise AssertionError("%s exited early with status %s; log:\n%s"
					     % (self.name, self.p.returncode, self.tail(60)))

	def stop(self, timeout=5.0, sig=signal.SIGTERM):
		"""Signal the whole group, wait, then SIGKILL whatever is left. Idempotent."""
		if self.p.returncode is None:
			self._killpg(sig)
			try:
				self.p.wait(timeout)
			except subprocess.TimeoutExpired:
				self._killpg(signal.SIGKILL)
				self.p.wait(5)
		# children that outlived the leader (kamailio workers, dumpcap under tshark)
		self._killpg(signal.SIGKILL)
		if not self._fh.closed:
			self._fh.close()
		return self.p.returncode

	def _killpg(self, sig):
		try:
			os.killpg(self.pgid, sig)
		except ProcessLookupError:
			pass
		except PermissionError:
			pass

	def raw(self):
		try:
			return self.log.read_bytes().decode(errors="replace")
		except OSError:
			return ""

	def text(self):
		return ANSI.sub("", self.raw())

	# per-packet and status chatter that would push everything useful out of a tail
	NOISE = ("audio=", "Handling packet", "Forward to sink", "timer run time")

	def tail(self, n=150):
		lines = [l for l in self.text().splitlines()
			 if not any(x in l for x in self.NOISE)]
		return "\n".join(lines[-n:])


# ---------------------------------------------------------------- relay

def relay_argv(kind, ng_port, media_addr=RELAY_ADDR, extra=(),
	       ports=(RELAY_PORT_MIN, RELAY_PORT_MAX)):
	"""Media on media_addr, NG on 127.0.0.1:ng_port; extra: options both relays know
	(e.g. --endpoint-learning=...)."""
	common = ["--config-file=none", "--foreground", "--log-stderr", "--log-level=7",
		  "--interface=%s" % media_addr, "--listen-ng=%s:%d" % (RELAY_ADDR, ng_port),
		  "--port-min=%d" % ports[0], "--port-max=%d" % ports[1],
		  "--delete-delay=0"] + list(extra)
	if kind == "rtpengine":
		return [RTPENGINE] + common + ["--table=-1"]
	if kind == "sluiced":
		binary = os.environ.get("SLUICED") or str(REPO / "build" / "sluiced")
		if not os.access(binary, os.X_OK):
			import pytest	# a missing relay fails the layer, it never skips it
			pytest.fail("INTEROP_RELAY=sluiced but %s is missing or not executable "
				    "(run make, set SLUICED=..., or INTEROP_RELAY=rtpengine)" % binary,
				    pytrace=False)
		return [binary] + common
	raise AssertionError("unknown INTEROP_RELAY=%r (want sluiced or rtpengine)" % kind)


class NGTap:
	"""UDP pass-through between Kamailio and the relay that records every NG message
	(decoded) so the test can check, and report, what the proxy really sent."""

	def __init__(self, listen_port, relay_port, logpath):
		self.relay = ("127.0.0.1", relay_port)
		self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		self.front.bind(("127.0.0.1", listen_port))
		self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		self.back.bind(("127.0.0.1", 0))
		self.port = listen_port
		self.messages = []	# (direction, cookie, decoded-or-raw)
		self.peers = {}		# cookie -> kamailio address
		self.logpath = Path(logpath)
		self._log = open(self.logpath, "w")
		self._stop = False
		self._lock = threading.Lock()
		self._t = threading.Thread(target=self._run, daemon=True)
		self._t.start()

	def _record(self, direction, data):
		cookie, _, body = data.partition(b" ")
		try:
			msg = ngclient.bdecode(body)
		except Exception:
			msg = body
		with self._lock:
			self.messages.append((direction, cookie.decode(errors="replace"), msg))
			self._log.write("%s %s %s\n" % (direction, cookie.decode(errors="replace"),
							json.dumps(msg, default=repr)))
			self._log.flush()
		return cookie

	def _run(self):
		while not self._stop:
			try:
				r, _, _ = select.select([self.front, self.back], [], [], 0.1)
			except (OSError, ValueError):
				return
			for s in r:
				try:
					data, addr = s.recvfrom(65535)
				except OSError:
					continue
				if s is self.front:
					cookie = self._record("->", data)
					self.peers[cookie] = addr
					self.back.sendto(data, self.relay)
				else:
					cookie = self._record("<-", data)
					peer = self.peers.get(cookie)
					if peer:
						self.front.sendto(data, peer)

	def requests(self):
		with self._lock:
			return [m for d, _, m in self.messages if d == "->" and isinstance(m, dict)]

	def replies(self):
		with self._lock:
			return [m for d, _, m in self.messages if d == "<-" and isinstance(m, dict)]

	def close(self):
		self._stop = True
		self._t.join(2)
		self.front.close()
		self.back.close()
		self._log.close()


# ---------------------------------------------------------------- kamailio

def render_kamailio_cfg(dest, sip_port, ng_port, callee_port, rtp_flags, sip_addr="127.0.0.1",
			callee_addr="127.0.0.1", ng_socks=None):
	"""ng_socks: the rtpengine_sock value (default: the one relay at 127.0.0.1:ng_port)."""
	text = (HERE / "kamailio.cfg").read_text()
	socks = ng_socks or "udp:127.0.0.1:%d" % ng_port
	for k, v in {"SIP_ADDR": sip_addr, "SIP_PORT": sip_port, "NG_SOCKS": socks,
		     "CALLEE_ADDR": callee_addr, "CALLEE_PORT": callee_port, "RTP_FLAGS": rtp_flags,
		     "MPATH": KAMAILIO_MPATH}.items():
		text = text.replace("@%s@" % k, str(v))
	left = re.findall(r"@[A-Z_]+@", text)
	if left:
		raise AssertionError("unfilled placeholders in kamailio.cfg: %s" % left)
	Path(dest).write_text(text)


def sip_options_ok(port, timeout=0.3, addr="127.0.0.1"):
	"""True once a SIP server on addr:port answers OPTIONS with 200."""
	with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
		s.bind((addr, 0))
		lport = s.getsockname()[1]
		branch = "z9hG4bK" + os.urandom(6).hex()
		msg = ("OPTIONS sip:{a}:{p} SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP {a}:{l};branch={b};rport\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <sip:probe@{a}:{l}>;tag={t}\r\n"
		       "To: <sip:{a}:{p}>\r\n"
		       "Call-ID: probe-{b}\r\n"
		       "CSeq: 1 OPTIONS\r\n"
		       "Content-Length: 0\r\n\r\n").format(a=addr, p=port, l=lport, b=branch,
							   t=os.urandom(4).hex())
		s.settimeout(timeout)
		try:
			s.sendto(msg.encode(), (addr, port))
			data, _ = s.recvfrom(65535)
		except OSError:
			return False
		return data.startswith(b"SIP/2.0 200")


# ---------------------------------------------------------------- baresip

BARESIP_CONFIG = """\
# generated by t/interop/interop_harness.py
poll_method		epoll
sip_listen		{addr}:{sip_port}
call_local_timeout	20
call_max_calls		1
audio_player		aubridge,nil
audio_source		aufile,{wav}
audio_alert		aubridge,nil
audio_level		no
ausrc_format		s16
auplay_format		s16
auenc_format		s16
audec_format		s16
audio_buffer		20-160
rtp_ports		{rtp_min}-{rtp_max}
rtcp_mux		no
jitter_buffer_delay	5-10
rtp_stats		no
net_interface		{addr}
module_path		{modules}
module			g711.so
{extra_modules}module			sndfile.so
module			aufile.so
module			aubridge.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:{ctrl_port}
snd_path		{rec_dir}
statmode_default	off
"""


# codec modules beyond g711.so, by the name used in an account's audio_codecs
CODEC_MODULES = {"G722": "g722.so", "opus": "opus.so"}


def write_baresip_config(cfgdir, user, sip_port, ctrl_port, rtp_range, wav, rec_dir,
			 codec="PCMU/8000/1", addr="127.0.0.1"):
	"""Config dir for one UA: UDP SIP on addr:sip_port (baresip also opens TCP there and
	TLS on sip_port+1) and media on addr, one audio codec (PCMU by default), aufile
	source, received audio dumped by sndfile; ctrl_tcp on 127.0.0.1:ctrl_port."""
	cfgdir = Path(cfgdir)
	cfgdir.mkdir(parents=True, exist_ok=True)
	Path(rec_dir).mkdir(parents=True, exist_ok=True)
	(cfgdir / "config").write_text(BARESIP_CONFIG.format(
		addr=addr, sip_port=sip_port, wav=wav, rtp_min=rtp_range[0], rtp_max=rtp_range[1],
		modules=BARESIP_MODULES, ctrl_port=ctrl_port, rec_dir=rec_dir,
		extra_modules="".join("module\t\t\t%s\n" % m for n, m in CODEC_MODULES.items()
				      if codec.split("/")[0] == n)))
	(cfgdir / "accounts").write_text(
		"<sip:%s@%s:%d>;regint=0;answermode=auto;"
		"audio_codecs=%s\n" % (user, addr, sip_port, codec))
	(cfgdir / "contacts").write_text("")


class BaresipCtl:
	"""ctrl_tcp client: netstring-framed JSON commands, responses and events."""

	def __init__(self, port, timeout=5.0):
		self.sock = wait_until(lambda: self._connect(port), timeout,
				       "baresip ctrl_tcp on port %d" % port)
		self.events = []
		self._responses = queue.Queue()
		self._cond = threading.Condition()
		self._t = threading.Thread(target=self._reader, daemon=True)
		self._t.start()
		self._n = 0

	@staticmethod
	def _connect(port):
		try:
			return socket.create_connection(("127.0.0.1", port), timeout=0.5)
		except OSError:
			return None

	def _reader(self):
		buf = b""
		self.sock.settimeout(None)
		while True:
			try:
				d = self.sock.recv(65536)
			except OSError:
				d = b""
			if not d:
				with self._cond:
					self._cond.notify_all()
				return
			buf += d
			while True:
				m = re.match(rb"(\d+):", buf)
				if not m:
					break
				n = int(m.group(1))
				start = m.end()
				if len(buf) < start + n + 1:
					break
				payload = buf[start:start + n]
				buf = buf[start + n + 1:]
				try:
					obj = json.loads(payload)
				except ValueError:
					continue
				if obj.get("response"):
					self._responses.put(obj)
				else:
					with self._cond:
						self.events.append(obj)
						self._cond.notify_all()

	def command(self, cmd, params="", timeout=5.0):
		self._n += 1
		token = "t%d" % self._n
		payload = json.dumps({"command": cmd, "params": params, "token": token}).encode()
		self.sock.sendall(b"%d:%s," % (len(payload), payload))
		end = time.monotonic() + timeout
		while True:
			try:
				r = self._responses.get(timeout=max(0.01, end - time.monotonic()))
			except queue.Empty:
				raise AssertionError("no ctrl_tcp response to %s" % cmd)
			if r.get("token") == token:
				if not r.get("ok"):
					raise AssertionError("baresip %s %s failed: %s"
							     % (cmd, params, r.get("data")))
				return r

	def wait_event(self, etype, timeout):
		end = time.monotonic() + timeout
		with self._cond:
			while True:
				for e in self.events:
					if e.get("type") == etype:
						return e
				left = end - time.monotonic()
				if left <= 0:
					raise AssertionError(
						"no %s event within %.1fs; events: %s" % (
							etype, timeout, [e.get("type") for e in self.events]))
				self._cond.wait(left)

	def close(self):
		try:
			self.sock.close()
		except OSError:
			pass


# ---------------------------------------------------------------- SIP trace / SDP

# baresip -s prints each message as ESC[36;1m "#" NL "UDP src -> dst" NL message ESC[;m
_TRACE = re.compile(r"\x1b\[36;1m#\n(UDP|TCP|TLS) (\S+) -> (\S+)\n(.*?)\x1b\[;m", re.S)


def parse_sip_trace(raw):
	"""SIP messages from a `baresip -s` log: list of dicts with src, dst, first,
	headers (lower-case name -> list of values) and body."""
	out = []
	for m in _TRACE.finditer(raw):
		proto, src, dst, msg = m.groups()
		msg = msg.replace("\r\n", "\n")
		head, _, body = msg.partition("\n\n")
		lines = head.split("\n")
		hdrs = {}
		for l in lines[1:]:
			k, sep, v = l.partition(":")
			if sep:
				hdrs.setdefault(k.strip().lower(), []).append(v.strip())
		clen = int(hdrs.get("content-length", ["0"])[0] or 0)
		out.append({"proto": proto, "src": src, "dst": dst, "first": lines[0],
			    "headers": hdrs, "body": body[:clen] if clen else ""})
	return out


def parse_sdp(body):
	sdp = {"o": None, "c_session": None, "media": [], "lines": []}
	cur = None
	for line in body.replace("\r\n", "\n").split("\n"):
		if len(line) < 2 or line[1] != "=":
			continue
		sdp["lines"].append(line)
		k, v = line[0], line[2:]
		if k == "o":
			sdp["o"] = v
		elif k == "m":
			f = v.split()
			cur = {"type": f[0], "port": int(f[1]), "proto": f[2], "fmts": f[3:],
			       "c": None, "attrs": []}
			sdp["media"].append(cur)
		elif k == "c":
			addr = v.split()[2].split("/")[0]
			if cur is None:
				sdp["c_session"] = addr
			else:
				cur["c"] = addr
		elif k == "a" and cur is not None:
			cur["attrs"].append(v)
	return sdp


def sdp_media_addr(sdp, m):
	return m["c"] or sdp["c_session"]


def origin_addr(sdp):
	return sdp["o"].split()[5] if sdp["o"] else None


# ---------------------------------------------------------------- capture

def start_capture(name, logdir, pcap, bpf, iface="lo"):
	"""dumpcap (from the tshark package) on iface of the calling thread's network
	namespace; returns once the capture is live."""
	tool = shutil.which("dumpcap")
	if tool:
		argv = [tool, "-i", iface, "-f", bpf, "-P", "-w", pcap]
	else:
		argv = [shutil.which("tshark") or "/usr/bin/tshark", "-i", iface, "-f", bpf,
			"-F", "pcap", "-w", pcap, "-q"]
	p = Proc(name, argv, logdir)
	wait_until(lambda: (p.check_alive() or "Capturing on" in p.text()) and Path(pcap).exists(),
		   10, "packet capture to start")
	return p


def mark_capture_end(pcap, src, dst, timeout=5.0):
	"""Packets dumpcap has not yet written when it is stopped are lost (seen: the last
	0.1-0.2 s of a call). Send a marker datagram from address src to dst (address, port)
	through the captured interface until the file shows it: everything captured before
	it is in the file then. Call in the capture's network namespace."""
	with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
		s.bind((src, 0))

		def seen():
			s.sendto(b"end of capture", dst)
			return any((p[2], p[3]) == dst for p in read_pcap_udp(pcap))
		wait_until(seen, timeout, "marker to %s:%d in %s" % (dst + (pcap,)), interval=0.2)


def read_pcap_udp(path, with_time=False, with_payload=False):
	"""(src_ip, sport, dst_ip, dport, payload_len) for each IPv4/UDP packet of a
	classic pcap file (Ethernet, Linux cooked v1/v2 or raw IP link types); with_time
	appends the capture time (seconds, float) to each tuple, then with_payload the UDP
	payload (bytes, as far as captured)."""
	data = Path(path).read_bytes()
	if len(data) < 24:
		return []
	magic = data[:4]
	if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
		e = "<"
	elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
		e = ">"
	else:
		raise AssertionError("%s is not a classic pcap file" % path)
	linktype = struct.unpack(e + "I", data[20:24])[0]
	l2 = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0}.get(linktype)
	if l2 is None:
		raise AssertionError("unsupported pcap link type %d" % linktype)
	out = []
	off = 24
	while off + 16 <= len(data):
		sec, frac, incl = struct.unpack(e + "III", data[off:off + 12])
		pkt = data[off + 16:off + 16 + incl]
		off += 16 + incl
		ip = pkt[l2:]
		if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
			continue
		ihl = (ip[0] & 0xF) * 4
		src = socket.inet_ntoa(ip[12:16])
		dst = socket.inet_ntoa(ip[16:20])
		sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
		rec = (src, sport, dst, dport, ulen - 8)
		if with_time:
			rec += (sec + frac / _frac_unit(magic),)
		if with_payload:
			rec += (ip[ihl + 8:ihl + ulen],)
		out.append(rec)
	return out


def _frac_unit(magic):
	"""pcap timestamps: microseconds, or nanoseconds for the 0xa1b23c4d magic."""
	return 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6


# ---------------------------------------------------------------- audio

def make_tone_wav(path, freq, seconds=10.0, rate=8000, amp=0.5, channels=1):
	"""aufile in baresip 1.0 does not resample: rate and channels must be the codec's."""
	import numpy as np
	t = np.arange(int(seconds * rate)) / rate
	pcm = (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
	pcm = np.repeat(pcm, channels)
	with wave.open(str(path), "wb") as w:
		w.setnchannels(channels)
		w.setsampwidth(2)
		w.setframerate(rate)
		w.writeframes(pcm.tobytes())


def analyse_wav(path, skip=0.5):
	"""(dominant frequency Hz, RMS, fraction of energy within +-20 Hz of it, seconds)."""
	import numpy as np
	with wave.open(str(path), "rb") as w:
		rate = w.getframerate()
		ch = w.getnchannels()
		assert ch in (1, 2) and w.getsampwidth() == 2, "%s: expected s16" % path
		a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
	a = a[::ch]	# Opus decodes to stereo: the first channel is enough
	a = a[int(skip * rate):]
	if len(a) < rate // 2:
		return 0.0, 0.0, 0.0, len(a) / rate
	spec = np.abs(np.fft.rfft(a * np.hanning(len(a)))) ** 2
	freqs = np.fft.rfftfreq(len(a), 1.0 / rate)
	spec[0] = 0
	peak = float(freqs[int(spec.argmax())])
	band = spec[(freqs > peak - 20) & (freqs < peak + 20)].sum() / max(spec.sum(), 1e-9)
	return peak, float(np.sqrt(np.mean(a ** 2))), float(band), len(a) / rate
