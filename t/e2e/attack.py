"""Attack scenarios of issue 11 (RTP Bleed / RTP Inject) against a running relay, shared
by test_security.py (asserts sluiced's behaviour) and attack_table.py (measures sluiced
and Debian's rtpengine side by side).

The call: a NAT'd caller A whose SDP says c=10.0.0.1 and port P, offered with
received-from 127.0.0.1 (what Kamailio sends); A's packets really come from
127.0.0.1:<another port> (the NAT). The callee B is on 127.0.0.1 and sends from the port
its SDP names. A stranger sits on 127.0.0.66 (or in a network namespace of its own) and
aims at the relay port A sends to (the one in the answer the relay gave A).

Everything runs inside a private network namespace (Sandbox): loopback only, with
10.0.0.1 on lo, so media the relay sends to A's SDP address (before a latch, or with
learning off) lands on a socket we count at, and no test packet can reach a real network.
Creating it needs root.

Every payload carries a marker byte (caller 0xAA, callee 0xBB, stranger 0x55), so what
the callee receives is split into the caller's packets and the stranger's ("injected").
Each scenario returns {phase: Measure} plus "foreign" (the query's "foreign packets" of
A's stream: sluiced only, None for a relay that has no such counter)."""

import ctypes
import os
import random
import socket
import subprocess
import threading
import time

from calls import Call, ok
from ng import NG
from rtp import Phone, drain, rtp_parse, udp_socket
from secure_peer import SdesKey, sdp_with

CALLER, CALLEE, STRANGER = 0xAA, 0xBB, 0x55
SDP_ADDR = "10.0.0.1"			# A's private SDP address (the 10.0.0.1)
NAT_ADDR = "127.0.0.1"			# received-from: where A's packets really come from
STRANGER_ADDR = "127.0.0.66"
MODES = ("heuristic", "delayed", "immediate", "off")
WINDOW = 3.0				# learning window of heuristic/delayed (spec)
PAST_WINDOW = WINDOW + 0.5		# "after the window", with room for a busy machine
SETTLE = 0.5				# wait after the last send before counting

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def marked(b):
	return lambda i: bytes([b]) * 160


def _sh(*argv):
	subprocess.run(argv, check=True, capture_output=True)


def _setns(path):
	fd = os.open(path, os.O_RDONLY)
	try:
		if _libc.setns(fd, CLONE_NEWNET):
			e = ctypes.get_errno()
			raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
	finally:
		os.close(fd)


# ---- network namespaces ----

class Sandbox:
	"""A network namespace with lo up and SDP_ADDR on lo. enter() moves the calling
	thread into it: relays it starts (fork) and sockets and threads it creates afterwards
	live there. leave() returns; close() deletes it (and any veth ending in it)."""

	def __init__(self):
		self.name = "sluice-atk-%d-%x" % (os.getpid(), random.getrandbits(24))
		self.peers = []
		self._home = None
		_sh("ip", "netns", "add", self.name)
		try:
			_sh("ip", "-n", self.name, "link", "set", "lo", "up")
			_sh("ip", "-n", self.name, "addr", "add", SDP_ADDR + "/32", "dev", "lo")
		except Exception:
			self.close()
			raise

	def enter(self):
		self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
		_setns("/run/netns/" + self.name)

	def leave(self):
		if self._home is not None:
			if _libc.setns(self._home, CLONE_NEWNET):
				raise OSError(ctypes.get_errno(), "setns back to the original netns")
			os.close(self._home)
			self._home = None

	def peer(self, ours="10.66.0.1", theirs="10.66.0.2"):
		"""Another namespace joined to this one by a veth pair: `ours` on this side,
		`theirs` on the other. Returns its name."""
		name = "%s-p%d" % (self.name, len(self.peers))
		here, there = "atk%d" % len(self.peers), "atkp%d" % len(self.peers)
		_sh("ip", "netns", "add", name)
		self.peers.append(name)
		_sh("ip", "-n", self.name, "link", "add", here, "type", "veth", "peer", "name", there,
		    "netns", name)
		_sh("ip", "-n", self.name, "addr", "add", ours + "/24", "dev", here)
		_sh("ip", "-n", self.name, "link", "set", here, "up")
		_sh("ip", "-n", name, "addr", "add", theirs + "/24", "dev", there)
		_sh("ip", "-n", name, "link", "set", there, "up")
		_sh("ip", "-n", name, "link", "set", "lo", "up")
		return name

	def close(self):
		self.leave()
		for n in self.peers + [self.name]:
			subprocess.run(["ip", "netns", "del", n], capture_output=True)
		self.peers = []


def ns_socket(ns, ip):
	"""A UDP socket bound to ip (random port of the phone range) inside netns ns: made by
	a thread that entered it (a socket keeps the namespace it was made in)."""
	res = {}

	def run():
		try:
			_setns("/run/netns/" + ns)
			res["s"] = udp_socket(ip)
		except Exception as e:	# handed to the caller
			res["e"] = e
	t = threading.Thread(target=run)
	t.start()
	t.join()
	if "e" in res:
		raise res["e"]
	return res["s"]


# ---- the call ----

def _sdp_port():
	"""An even port P with P, P+1 free on SDP_ADDR and on NAT_ADDR: sockets at A's SDP
	address (10.0.0.1:P, 'advertised') and at received-from + SDP port (127.0.0.1:P,
	'expected'), so media sent to either is counted."""
	for _ in range(500):
		p = random.randrange(20000, 29998, 2)
		socks = []
		try:
			for host in (SDP_ADDR, NAT_ADDR):
				for port in (p, p + 1):
					s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
					socks.append(s)
					s.bind((host, port))
			return p, socks
		except OSError:
			for s in socks:
				s.close()
	raise RuntimeError("no free SDP port pair")


def learning_kw(mode, how):
	"""NG keys choosing the learning mode per call: how = 'key' or 'flag'."""
	if how == "key":
		return {"endpoint-learning": mode}, []
	if how == "flag":
		return {}, ["endpoint-learning-" + mode]
	return {}, []


class Measure(dict):
	"""Packets counted in one phase: to_caller (at A's NAT socket), to_stranger,
	to_sdp (at 10.0.0.1:P), to_expected (at 127.0.0.1:P), caller_fwd (A's packets at
	B), injected (stranger's packets at B), at_callee (all at B), plus what was sent."""


class NatCall(Call):
	"""Call with the NAT'd caller, the callee, the counting sockets and a stranger.
	offer_kw and flags go into A's offers (not into B's answers)."""

	def __init__(self, relay, offer_kw=None, flags=(), stranger=None, proto="RTP/AVP", lines=()):
		a = Phone(NAT_ADDR, "caller")		# A's real sockets behind the NAT
		super().__init__(relay, a=a)
		self.ng = NG(relay.ng_addr)		# its own: calls run in threads at once
		self.sdp_port, self.sinks = _sdp_port()
		self.stranger = stranger or udp_socket(STRANGER_ADDR)
		self.offer_kw = dict(offer_kw or {})
		self.flags = list(flags)
		self.proto, self.lines = proto, list(lines)	# A's SDP: protocol, extra a= lines
		self.sent = dict(caller=0, callee=0, stranger=0)
		self._lock = threading.Lock()
		# the flood's sends and A's first packet take turns on this lock, so the number
		# of the stranger's packets queued at the relay before A's first is exact
		self.wire = threading.Lock()
		self.stranger_out = 0
		self.stranger_first = None
		self.drops0 = udp_drops()

	def caller_sdp(self, version=None):
		return sdp_with(self.a, self.proto, self.lines, port=self.sdp_port, host=SDP_ADDR,
				version=version)

	def start(self, **kw):
		"""offer (NAT'd, received-from) + answer."""
		kw = dict(self.offer_kw, **kw)
		kw["received-from"] = ["IP4", NAT_ADDR]
		if self.flags:
			kw["flags"] = self.flags
		self.offer(sdp=self.caller_sdp(), **kw)
		self.answer()
		return self

	def reinvite(self):
		"""re-offer from A (new o= version, same SDP) and B's answer."""
		kw = dict(self.offer_kw)
		kw["received-from"] = ["IP4", NAT_ADDR]
		if self.flags:
			kw["flags"] = self.flags
		self.offer(sdp=self.caller_sdp(version=self.a.sess_ver + 1), **kw)
		self.answer(sdp=self.b.sdp(version=self.b.sess_ver + 1))

	# -- sending --
	def add_sent(self, who, n):
		with self._lock:
			self.sent[who] += n

	def caller_send(self, n, pps=100, sock=None):
		sent = self.a.send_rtp(self.a_dest(), n=n, pps=pps, payload_fn=marked(CALLER), sock=sock)
		self.add_sent("caller", n)
		return sent

	def caller_send_after_flood(self, n, pps):
		"""caller_send, its first packet in turn with the flood's (stranger_first: how many
		of the stranger's packets the relay has queued before A's first)."""
		with self.wire:
			self.stranger_first = self.stranger_out
			self.caller_send(1, pps=0)
		time.sleep(1.0 / pps)
		self.caller_send(n - 1, pps)

	def callee_send(self, n, pps=500):
		self.b.send_rtp(self.b_dest(), n=n, pps=pps, payload_fn=marked(CALLEE))
		self.add_sent("callee", n)

	def stranger_send(self, n, pps=100, ssrc=None, seq=None, sock=None):
		"""n packets from the stranger to A's relay port; a fresh SSRC unless given."""
		sock = sock or self.stranger
		ssrc = random.getrandbits(32) if ssrc is None else ssrc
		seq = random.getrandbits(16) if seq is None else seq
		ts = random.getrandbits(32)
		t0 = time.monotonic()
		for i in range(n):
			seq, ts = (seq + 1) & 0xFFFF, (ts + 160) & 0xFFFFFFFF
			pkt = bytes([0x80, 0, seq >> 8, seq & 0xFF]) + ts.to_bytes(4, "big") + \
				ssrc.to_bytes(4, "big") + bytes([STRANGER]) * 160
			sock.sendto(pkt, self.a_dest())
			if pps:
				d = t0 + (i + 1) / pps - time.monotonic()
				if d > 0:
					time.sleep(d)
		self.add_sent("stranger", n)

	def stranger_flood(self, seconds, pps=1000, sock=None):
		"""pps packets/s for seconds, a fresh SSRC; sent in catch-up bursts each ms."""
		sock = sock or self.stranger
		ssrc, seq = random.getrandbits(32), random.getrandbits(16)
		t0, n = time.monotonic(), 0
		while True:
			el = time.monotonic() - t0
			if el >= seconds:
				break
			due = int(el * pps) + 1
			while n < due:
				seq = (seq + 1) & 0xFFFF
				pkt = bytes([0x80, 0, seq >> 8, seq & 0xFF, 0, 0, 0, 0]) + \
					ssrc.to_bytes(4, "big") + bytes([STRANGER]) * 160
				with self.wire:
					sock.sendto(pkt, self.a_dest())
					self.stranger_out += 1
				n += 1
			time.sleep(0.001)
		self.add_sent("stranger", n)

	# -- counting --
	def flush(self):
		for s in self.sockets():
			drain(s)
		with self._lock:
			self.sent = dict(caller=0, callee=0, stranger=0)

	def sockets(self):
		return [self.a.rtp, self.stranger, self.b.rtp, self.sinks[0], self.sinks[2]]

	def measure(self, settle=SETTLE, extra=None):
		"""Counts since the last measure()/flush(): waits `settle`, then reads every socket
		without blocking. extra: {name: socket} counted as to_<name>."""
		time.sleep(settle)
		at_b = _read(self.b.rtp)
		m = Measure(to_caller=len(_read(self.a.rtp)), to_stranger=len(_read(self.stranger)),
			    to_sdp=len(_read(self.sinks[0])), to_expected=len(_read(self.sinks[2])),
			    caller_fwd=sum(1 for d in at_b if _marker(d) == CALLER),
			    injected=sum(1 for d in at_b if _marker(d) == STRANGER),
			    at_callee=len(at_b))
		for k, s in (extra or {}).items():
			m["to_" + k] = len(_read(s))
		with self._lock:
			m["sent"] = dict(self.sent)
			self.sent = dict(caller=0, callee=0, stranger=0)
		drops = udp_drops()
		m["socket_drops"], self.drops0 = drops - self.drops0, drops
		return m

	def a_stream(self):
		"""The query's stream dict of the relay port A sends RTP to (None if absent)."""
		q = ok(self.query(), "query")
		port = self.a_dest()[1]
		for t in q.get("tags", {}).values():
			for md in t.get("medias", []):
				for st in md.get("streams", []):
					if st.get("local port") == port:
						return st, md
		return None, None

	def foreign(self):
		st, _ = self.a_stream()
		return None if st is None else st.get("foreign packets")

	def close(self):
		super().close()
		self.ng.close()
		for s in self.sinks:
			s.close()
		self.stranger.close()


def udp_drops():
	"""UDP datagrams dropped for a full receive buffer so far, in this process's network
	namespace (the sandbox): nonzero = the machine was too busy for exact counts."""
	with open("/proc/self/net/snmp") as f:
		rows = [l.split() for l in f if l.startswith("Udp:")]
	return int(rows[1][rows[0].index("RcvbufErrors")])


def _read(sock):
	out = []
	sock.setblocking(False)
	try:
		while True:
			out.append(sock.recvfrom(65535)[0])
	except (BlockingIOError, ConnectionRefusedError):
		pass
	finally:
		sock.setblocking(True)
	return out


def _marker(data):
	return data[12] if len(data) > 12 and rtp_parse(data) else None


def _thread(fn, *a, **kw):
	t = threading.Thread(target=fn, args=a, kwargs=kw)
	t.start()
	return t


# ---- scenarios: each returns {"phases": {name: Measure}, "foreign": int|None} ----

def race(relay, offer_kw=None, flags=(), stranger=None):
	"""The stranger sends 1 packet to A's relay port 50 ms before A's first; A sends 5;
	then B sends 50."""
	c = NatCall(relay, offer_kw, flags, stranger).start()
	try:
		c.stranger_send(1)
		time.sleep(0.05)
		c.caller_send(5, pps=100)
		time.sleep(0.05)
		c.callee_send(50)
		m = c.measure()
		m["stranger_first"] = 1
		return dict(phases={"race": m}, foreign=c.foreign())
	finally:
		c.close()


def flood(relay, offer_kw=None, flags=(), stranger=None):
	"""The stranger floods A's relay port at 1000 pps for 1 s; A starts 100 ms into it
	(40 packets at 50 pps), B 100 ms later (50 packets at 100 pps)."""
	c = NatCall(relay, offer_kw, flags, stranger).start()
	try:
		ts = _thread(c.stranger_flood, 1.0)
		time.sleep(0.1)
		ta = _thread(c.caller_send_after_flood, 40, 50)
		time.sleep(0.1)
		c.callee_send(50, pps=100)
		ta.join()
		ts.join()
		m = c.measure()
		m["stranger_first"] = c.stranger_first
		return dict(phases={"flood": m}, foreign=c.foreign())
	finally:
		c.close()


def _latch(c):
	"""A sends 5 packets (the latch); B answers with 5 that must reach A: returns the
	monotonic time of A's first packet and the SSRC B saw from A."""
	t0 = time.monotonic()
	sent = c.caller_send(5, pps=100)
	time.sleep(0.05)
	c.callee_send(5)
	m = c.measure(settle=0.3)
	return t0, rtp_parse(sent[0])["ssrc"], m


def late(relay, ssrc="fresh", offer_kw=None, flags=(), stranger=None):
	"""After A's latch: 20 stranger packets (a fresh SSRC, or A's SSRC read off what B got
	and A's next sequence numbers) interleaved with 10 of A's, then 20 of B's; once inside
	the learning window, once after it."""
	c = NatCall(relay, offer_kw, flags, stranger).start()
	try:
		t0, a_ssrc, m0 = _latch(c)
		phases = {"latch": m0}
		for phase, at in (("in window", 0.4), ("after window", PAST_WINDOW)):
			time.sleep(max(0, t0 + at - time.monotonic()))
			kw = {}
			if ssrc == "caller":
				kw = dict(ssrc=a_ssrc, seq=c.a.seq)
			ts = _thread(c.stranger_send, 20, 200, **kw)
			c.caller_send(10, pps=100)
			ts.join()
			c.callee_send(20)
			phases[phase] = c.measure()
		return dict(phases=phases, foreign=c.foreign())
	finally:
		c.close()


def rebind(relay, handover=False, offer_kw=None, flags=(), stranger=None):
	"""After A's latch is fixed (past the window), A's NAT mapping changes: A's packets
	come from a new port of the same address. 10 from there, then 10 from B."""
	flags = list(flags) + (["media-handover"] if handover else [])
	c = NatCall(relay, offer_kw, flags, stranger).start()
	new = udp_socket(NAT_ADDR)
	try:
		t0, _, m0 = _latch(c)
		time.sleep(max(0, t0 + PAST_WINDOW - time.monotonic()))
		c.caller_send(10, pps=100, sock=new)
		time.sleep(0.05)
		c.callee_send(10)
		m = c.measure(extra={"new_port": new})
		return dict(phases={"latch": m0, "rebound": m}, foreign=c.foreign())
	finally:
		new.close()
		c.close()


def reoffer(relay, offer_kw=None, flags=(), stranger=None):
	"""After A's latch is fixed, A re-INVITEs (same SDP, new version) and B answers: B's
	next 5 still go to A's old port; then A sends 10 from a new port, then B 10."""
	c = NatCall(relay, offer_kw, flags, stranger).start()
	new = udp_socket(NAT_ADDR)
	try:
		t0, _, m0 = _latch(c)
		time.sleep(max(0, t0 + PAST_WINDOW - time.monotonic()))
		c.reinvite()
		c.callee_send(5)
		m1 = c.measure(extra={"new_port": new})
		c.caller_send(10, pps=100, sock=new)
		time.sleep(0.05)
		c.callee_send(10)
		m2 = c.measure(extra={"new_port": new})
		return dict(phases={"latch": m0, "re-offer": m1, "moved": m2}, foreign=c.foreign())
	finally:
		new.close()
		c.close()


def srtp_forged(relay, offer_kw=None, flags=(), stranger=None):
	"""A speaks SDES-SRTP (AES_CM_128_HMAC_SHA1_80), B plain RTP. Forged packets (A's
	header, a broken auth tag) come from A's NAT socket, from A's address at its SDP port
	(the best-ranked source there is) and from the stranger, 3 each: before A's first
	genuine packet ("forged first", then B sends 5), and after A's 5 genuine ones
	("forged after", then B sends 10). Also returns the query's SRTP dict and the stream
	stats of A's relay port."""
	key = SdesKey("AES_CM_128_HMAC_SHA1_80")
	kw = dict(offer_kw or {}, **{"transport-protocol": "RTP/AVP"})
	c = NatCall(relay, kw, flags, stranger, proto="RTP/SAVP", lines=[key.line()]).start()
	tx = key.tx()
	at_expected = c.sinks[2]		# 127.0.0.1:P: rank 0 if it were believed

	def forge(sock):
		bad = bytearray(tx.protect(c.a.next_rtp(marked(CALLER)(0))))
		bad[-1] ^= 0xFF			# the last byte of the HMAC tag
		sock.sendto(bytes(bad), c.a_dest())

	def forge_all():
		for sock, who in ((c.a.rtp, "caller"), (at_expected, "caller"), (c.stranger, "stranger")):
			for _ in range(3):
				forge(sock)
				c.add_sent(who, 1)
		time.sleep(0.05)
	try:
		phases = {}
		forge_all()
		c.callee_send(5)
		phases["forged first"] = c.measure()
		for _ in range(5):
			c.a.rtp.sendto(tx.protect(c.a.next_rtp(marked(CALLER)(0))), c.a_dest())
			time.sleep(0.01)
		c.add_sent("caller", 5)
		time.sleep(0.05)
		c.callee_send(10)
		phases["genuine"] = c.measure()
		forge_all()
		c.callee_send(10)
		phases["forged after"] = c.measure()
		st, md = c.a_stream()
		return dict(phases=phases, foreign=None if st is None else st.get("foreign packets"),
			    srtp=(md or {}).get("SRTP"), stats=(st or {}).get("stats"))
	finally:
		c.close()


def socket_drops(res):
	return sum(m.get("socket_drops", 0) for m in res["phases"].values())


def run_steady(fn):
	"""fn() again (once) if a receive buffer overflowed while it ran: the counts of such a
	run say nothing about the relay's rules."""
	res = fn()
	return fn() if socket_drops(res) else res


def run_concurrently(jobs):
	"""jobs: {name: callable} -> {name: result or the exception it raised}, all run in
	threads at once (scenarios that wait out the learning window share the wait)."""
	out = {}

	def run(name, fn):
		try:
			out[name] = fn()
		except BaseException as e:	# handed to whoever reads the result
			out[name] = e
	ts = [_thread(run, n, f) for n, f in jobs.items()]
	for t in ts:
		t.join()
	return out


# ---- what the spec (issue 11) says sluiced does ----

KEYS = ("to_caller", "to_stranger", "to_sdp", "to_expected", "caller_fwd", "injected",
	"at_callee")


def _m(**kw):
	"""A full expected Measure: unnamed counts are 0; at_callee = caller_fwd + injected."""
	d = {k: 0 for k in KEYS}
	d.update(kw)
	if "at_callee" not in kw:
		d["at_callee"] = d["caller_fwd"] + d["injected"]
	return d


def _to_a(mode, n, **kw):
	"""n of B's packets reach A: at A's latched source, or at its SDP address (off)."""
	return _m(**{"to_sdp" if mode == "off" else "to_caller": n}, **kw)


# The stranger's packets that arrive before the caller's first one reach the callee in
# heuristic/delayed mode: the stranger holds the latch until the caller's first packet
# takes it over (docs/security.md: a racing stranger can inject until the phone speaks,
# never after; strict-source forbids even that). Exactly those are forwarded, every later
# one is counted as foreign.
HOLDER_BEFORE_CALLER_FORWARDED = True


def _race(mode, sent):
	if mode == "immediate":		# the first packet latches for good: the stranger's
		return {"race": _m(to_stranger=50, injected=1)}, 5
	if mode != "off" and HOLDER_BEFORE_CALLER_FORWARDED:
		return {"race": _to_a(mode, 50, caller_fwd=5, injected=1)}, 0
	return {"race": _to_a(mode, 50, caller_fwd=5)}, 1


def _flood(mode, sent):
	s = sent["flood"]["sent"]["stranger"]
	if mode == "immediate":
		return {"flood": _m(to_stranger=50, injected=s)}, 40
	if mode != "off" and HOLDER_BEFORE_CALLER_FORWARDED:
		first = sent["flood"]["stranger_first"]
		return {"flood": _to_a(mode, 50, caller_fwd=40, injected=first)}, s - first
	return {"flood": _to_a(mode, 50, caller_fwd=40)}, s


def _late(mode, sent):
	return {"latch": _to_a(mode, 5, caller_fwd=5),
		"in window": _to_a(mode, 20, caller_fwd=10),
		"after window": _to_a(mode, 20, caller_fwd=10)}, 40


def _rebind(handover):
	def f(mode, sent):
		ph = {"latch": _to_a(mode, 5, caller_fwd=5)}
		if mode == "off":		# no latch: A's address is enough, B's media to the SDP
			ph["rebound"] = _m(to_sdp=10, caller_fwd=10, to_new_port=0)
			return ph, 0
		if handover:
			ph["rebound"] = _m(to_new_port=10, caller_fwd=10)
			return ph, 0
		ph["rebound"] = _m(to_caller=10, to_new_port=0)
		return ph, 10
	return f


def _reoffer(mode, sent):
	if mode == "off":
		return {"latch": _m(to_sdp=5, caller_fwd=5), "re-offer": _m(to_sdp=5, to_new_port=0),
			"moved": _m(to_sdp=10, caller_fwd=10, to_new_port=0)}, 0
	return {"latch": _m(to_caller=5, caller_fwd=5), "re-offer": _m(to_caller=5, to_new_port=0),
		"moved": _m(to_new_port=10, caller_fwd=10)}, 0


def _srtp(mode, sent):
	"""Nothing latched before A's first genuine packet: B's media goes to A's SDP address.
	A forged packet from a source that could take the latch is an auth failure; one from a
	source the latch rules refuse anyway is foreign (no crypto work for it): the stranger's
	after A's latch (and always with off), A's address at its SDP port once the latch is
	fixed (immediate)."""
	foreign = {"heuristic": 3, "delayed": 3, "immediate": 6, "off": 6}[mode]
	return {"forged first": _m(to_sdp=5),
		"genuine": _to_a(mode, 10, caller_fwd=5),
		"forged after": _to_a(mode, 10)}, foreign


SPEC = {"race": _race, "flood": _flood, "late fresh SSRC": _late, "late caller SSRC": _late,
	"rebind": _rebind(False), "rebind + media-handover": _rebind(True),
	"re-offer": _reoffer, "SRTP forged": _srtp}


def mismatches(name, mode, res, phase=None):
	"""Where result res of scenario `name` run in learning mode `mode` differs from the
	spec: a list of 'phase: key expected X, got Y' (empty = as specified); only `phase`
	if given. foreign (whole call) is compared when the relay reports it."""
	phases, foreign = SPEC[name](mode, res["phases"])
	out = []
	for ph, exp in phases.items():
		if phase is not None and ph != phase:
			continue
		got = res["phases"].get(ph)
		if got is None:
			out.append("%s: phase missing" % ph)
			continue
		for k, v in exp.items():
			if got.get(k) != v:
				out.append("%s: %s expected %s, got %s" % (ph, k, v, got.get(k)))
		if got.get("socket_drops"):
			out.append("%s: %d datagrams dropped at full receive buffers in the sandbox "
				   "(machine too busy; counts not exact)" % (ph, got["socket_drops"]))
	if res.get("foreign") is not None and res["foreign"] != foreign:
		out.append("foreign packets expected %d, got %s" % (foreign, res["foreign"]))
	return out


SCENARIOS = {
	"race": race,
	"flood": flood,
	"late fresh SSRC": lambda r, **kw: late(r, "fresh", **kw),
	"late caller SSRC": lambda r, **kw: late(r, "caller", **kw),
	"rebind": lambda r, **kw: rebind(r, False, **kw),
	"rebind + media-handover": lambda r, **kw: rebind(r, True, **kw),
	"re-offer": reoffer,
	"SRTP forged": srtp_forged,
}
