#!/usr/bin/python3
"""Daemon-level kernel scenarios (issue 5), run inside the test VM by guest.sh: the real
sluiced steering the real module, phones in network namespaces (topology in guest.sh).

usage: daemon_tests.py RESULTS OUTDIR fallback|main|unload

  fallback  (module not loaded) --kernel=auto relays in userspace, --kernel=on refuses
  main      (module loaded) forwarding, stats, delete, timeouts, a stream kept in
            userspace beside a kernel one, NAT rebinding, SIGKILL + restart, a stranger
            at a kernel-forwarded stream
  unload    rmmod with live entries after a clean exit and after SIGKILL (reloads the
            module afterwards)

Phone A (netns a, 10.0.1.2) is behind NAT: its SDP says port 5000 but it sends from
6000. A stranger shares A's network (netns a, 10.0.1.66). Phone B (netns b, 10.0.2.2) sends from the port its SDP names. The relay has one
media address, 10.0.1.1; B reaches it through its default route.
Appends "PASS name" / "FAIL name: why" lines to RESULTS; daemon logs land in OUTDIR."""

import ctypes
import os
import platform
import random
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "t", "e2e"))
from ng import NG  # noqa: E402
from rtp import rtp_packet  # noqa: E402

RESULTS, OUT, GROUP = sys.argv[1], sys.argv[2], sys.argv[3]
SLUICED = os.environ.get("SLUICED", os.path.join(OUT, "sluiced"))
# options for every daemon, e.g. --no-io-uring (run-vm.sh SLUICE_KTEST_DAEMON_ARGS)
EXTRA_ARGS = shlex.split(os.environ.get("SLUICE_KTEST_DAEMON_ARGS", ""))
KO = os.path.join(OUT, "mod", "sluice.ko")
NG_PORT = 2290
RELAY_IP = "10.0.1.1"
PORTS = (32000, 32999)
TABLE = 0
LIST = "/proc/net/sluice/%d/list" % TABLE

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


class Fail(Exception):
	pass


def expect(cond, why):
	if not cond:
		raise Fail(why)


def report(name, ok, why=""):
	line = "PASS %s" % name if ok else "FAIL %s: %s" % (name, " ".join(str(why).split()))
	print(line, flush=True)
	with open(RESULTS, "a") as f:
		f.write(line + "\n")


def scenario(fn):
	"""Runs fn(), one PASS/FAIL line named after it; cleans up daemons it left."""
	name = fn.__name__
	t0 = time.monotonic()
	ok = False
	try:
		fn()
		ok = True
		report(name, True)
	except Fail as e:
		report(name, False, e)
	except Exception as e:  # a crash in the test is a failure, with its cause
		report(name, False, "%s: %s" % (type(e).__name__, e))
	finally:
		# what a chain's next scenario needs survives a pass, nothing survives a failure
		for d in list(Daemon.live):
			if not (ok and d.keep):
				d.kill()
		for p in list(Phone.live):
			if not (ok and p.keep):
				p.close()
		if not ok:	# a killed daemon's rule would pin the module for later scenarios
			sh("nft", "delete", "table", "inet", "sluice_%d" % TABLE, check=False)
		print("  (%s: %.1f s)" % (name, time.monotonic() - t0), flush=True)


def sh(*argv, check=True):
	p = subprocess.run(argv, capture_output=True, text=True)
	if check and p.returncode:
		raise Fail("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
	return p


# ---- namespaces, phones ----

def ns_socket(ns, ip, port):
	"""A UDP socket bound in netns `ns`: created by a thread that entered the namespace
	(a network namespace is per thread; the socket keeps it)."""
	res = {}

	def run():
		try:
			fd = os.open("/run/netns/" + ns, os.O_RDONLY)
			if libc.setns(fd, CLONE_NEWNET):
				raise OSError(ctypes.get_errno(), "setns " + ns)
			os.close(fd)
			s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
			s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
			s.bind((ip, port))
			res["s"] = s
		except Exception as e:
			res["e"] = e
	t = threading.Thread(target=run)
	t.start()
	t.join()
	if "e" in res:
		raise res["e"]
	return res["s"]


class Phone:
	live = []

	def __init__(self, ns, ip, sdp_port, src_port, rtcp=False, keep=False):
		self.ns, self.ip, self.sdp_port = ns, ip, sdp_port
		self.keep = keep	# outlives the scenario that made it (a chain's first)
		self.rtp = self.rtcp = None
		Phone.live.append(self)
		self.rtp = ns_socket(ns, ip, src_port)
		self.rtcp = ns_socket(ns, ip, src_port + 1) if rtcp else None
		self.ssrc = random.getrandbits(32)
		self.seq = random.getrandbits(16)
		self.ts = random.getrandbits(32)
		self.pt = 0			# payload type sent (8 once the SDP says PCMA)
		self.dest = None		# relay address this phone sends RTP to
		self.dest_rtcp = None

	def sdp(self, mux=False, pcma=False):
		pt, name = (8, "PCMA") if pcma else (0, "PCMU")
		self.pt = pt
		lines = ["v=0", "o=- 1 1 IN IP4 %s" % self.ip, "s=-", "c=IN IP4 %s" % self.ip,
			 "t=0 0", "m=audio %d RTP/AVP %d 101" % (self.sdp_port, pt),
			 "a=rtpmap:%d %s/8000" % (pt, name),
			 "a=rtpmap:101 telephone-event/8000", "a=sendrecv"]
		if mux:
			lines.append("a=rtcp-mux")
		return "\r\n".join(lines) + "\r\n"

	def packet(self):
		"""Next RTP packet: 160 bytes of payload, unique per call of this method."""
		self.seq = (self.seq + 1) & 0xFFFF
		self.ts = (self.ts + 160) & 0xFFFFFFFF
		body = struct.pack("!IH", self.ssrc, self.seq) + os.urandom(154)
		return rtp_packet(self.pt, self.seq, self.ts, self.ssrc, body)

	def rebind(self, src_port):
		"""NAT rebinding: same phone (same SSRC), new source port."""
		self.rtp.close()
		self.rtp = ns_socket(self.ns, self.ip, src_port)

	def close(self):
		for s in (self.rtp, self.rtcp):
			if s:
				s.close()
		if self in Phone.live:
			Phone.live.remove(self)


def drain(sock, into=None):
	sock.setblocking(False)
	try:
		while True:
			data, addr = sock.recvfrom(65535)
			if into is not None:
				into.append((data, addr))
	except (BlockingIOError, ConnectionRefusedError):
		pass
	finally:
		sock.setblocking(True)
	return into


def exchange(pairs, n, pps=100, settle=0.5):
	"""pairs: [(sender Phone, receiver Phone)]. Each sender sends n RTP packets to its
	relay port at pps; returns {i: (sent, got)} with got = [(data, addr)] collected by
	the receiver's RTP socket (drained while sending, so buffers never overflow)."""
	res = {i: ([], []) for i in range(len(pairs))}
	for _, rx in pairs:
		drain(rx.rtp)
	t0 = time.monotonic()
	for k in range(n):
		for i, (tx, rx) in enumerate(pairs):
			p = tx.packet()
			tx.rtp.sendto(p, tx.dest)
			res[i][0].append(p)
			drain(rx.rtp, res[i][1])
		d = t0 + (k + 1) / pps - time.monotonic()
		if d > 0:
			time.sleep(d)
	deadline = time.monotonic() + settle
	while time.monotonic() < deadline:
		for i, (_, rx) in enumerate(pairs):
			drain(rx.rtp, res[i][1])
		time.sleep(0.05)
	return res


def check_delivery(label, sent, got, src):
	"""Every packet arrived once, byte-identical, from the relay address src."""
	expect(len(got) == len(sent), "%s: %d of %d packets arrived" % (label, len(got), len(sent)))
	expect(sorted(d for d, _ in got) == sorted(sent), "%s: payload differs" % label)
	bad = [a for _, a in got if a != src]
	expect(not bad, "%s: packets came from %s, not the relay port %s" % (label, bad[:1], src))


# ---- the daemon ----

class Daemon:
	live = []

	def __init__(self, name, *args, table=TABLE, wait=True, keep=False, ng_port=NG_PORT,
		     ports=PORTS):
		self.name = name
		self.keep = keep	# outlives the scenario that started it (a chain's first)
		self.argv = [SLUICED, "--config-file=none", "--foreground", "--log-stderr",
			     "--log-level=7", "--interface=" + RELAY_IP,
			     "--listen-ng=127.0.0.1:%d" % ng_port, "--port-min=%d" % ports[0],
			     "--port-max=%d" % ports[1], "--num-threads=1", "--delete-delay=0",
			     "--table=%d" % table] + list(args) + EXTRA_ARGS
		self.logpath = os.path.join(OUT, "daemon-%s.log" % name)
		self.logf = open(self.logpath, "ab")
		self.logf.write(("=== %s\n" % " ".join(self.argv)).encode())
		self.logf.flush()
		self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.logf,
					     stderr=subprocess.STDOUT)
		Daemon.live.append(self)
		self.ng = NG(("127.0.0.1", ng_port))
		if wait:
			self.wait_ready()

	def log(self):
		with open(self.logpath, errors="replace") as f:
			return f.read()

	def wait_ready(self, timeout=15):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise Fail("sluiced %s exited %d: %s" % (self.name, self.proc.returncode,
									 self.log()[-400:]))
			try:
				if self.ng.ping(timeout=0.3):
					return
			except (TimeoutError, OSError):
				pass
			time.sleep(0.1)
		raise Fail("sluiced %s does not answer ping" % self.name)

	def _gone(self):
		if self in Daemon.live:
			Daemon.live.remove(self)
		self.ng.close()
		self.logf.close()

	def stop(self, timeout=15):
		"""SIGTERM; returns the exit code."""
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
				self._gone()
				raise Fail("sluiced %s ignored SIGTERM for %d s" % (self.name, timeout))
		self._gone()
		return self.proc.returncode

	def kill(self):
		if self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()
		self._gone()

	def req(self, msg):
		r = self.ng.req(msg, timeout=5)
		return r


class Call:
	"""A (offerer, NAT'd) <-> B through the daemon d."""

	def __init__(self, d, a, b, offer_flags=(), mux=None, transcode=False, offer_keys=None):
		self.d, self.a, self.b = d, a, b
		self.cid = "ktest-%012x" % random.getrandbits(48)
		self.ftag, self.ttag = "a%08x" % random.getrandbits(32), "b%08x" % random.getrandbits(32)
		msg = self.base("offer", sdp=a.sdp(mux=bool(mux), pcma=transcode))
		if transcode:           # A speaks only PCMA, B only PCMU: sluice converts
			msg["codec"] = {"mask": ["PCMA"], "transcode": ["PCMU"]}
		if offer_flags:
			msg["flags"] = list(offer_flags)
		if mux:
			msg["rtcp-mux"] = list(mux)
		msg.update(offer_keys or {})
		r = d.req(msg)
		expect(r.get("result") == "ok", "offer: %r" % r)
		b.dest, b.dest_rtcp = sdp_dest(r["sdp"])
		m = self.base("answer", sdp=b.sdp())
		m["to-tag"] = self.ttag
		r = d.req(m)
		expect(r.get("result") == "ok", "answer: %r" % r)
		a.dest, a.dest_rtcp = sdp_dest(r["sdp"])

	def base(self, cmd, **kw):
		m = {"command": cmd, "call-id": self.cid, "from-tag": self.ftag}
		m.update(kw)
		return m

	def query(self):
		r = self.d.req(self.base("query"))
		expect(r.get("result") == "ok", "query: %r" % r)
		return r

	def delete(self):
		r = self.d.req(self.base("delete"))
		expect(r.get("result") == "ok", "delete: %r" % r)
		return r

	def gone(self):
		r = self.d.req(self.base("query"))
		return r.get("result") == "error"


def sdp_dest(sdp):
	ip = re.search(r"^c=IN IP4 (\S+)", sdp, re.M).group(1)
	port = int(re.search(r"^m=audio (\d+)", sdp, re.M).group(1))
	m = re.search(r"^a=rtcp:(\d+)", sdp, re.M)
	return (ip, port), (ip, int(m.group(1)) if m else port + 1)


def streams(reply):
	"""{local port: stream dict} over every stream of the call."""
	out = {}
	for t in reply["tags"].values():
		for m in t["medias"]:
			for s in m["streams"]:
				out[s["local port"]] = s
	return out


def klist():
	"""{local port: {slot, flags, packets, bytes, errors, mismatch, mismatch_from,
	expect, out_dst}} of instance TABLE's kernel entries, and the entry count the module
	reports."""
	with open(LIST) as f:
		lines = f.read().splitlines()
	m = re.match(r"instance \d+ capacity \d+ entries (\d+)", lines[0])
	entries = int(m.group(1))
	out = {}
	for l in lines[1:]:
		f = l.split()
		# slot local expect out_src out_dst flags F packets N bytes N errors N mismatch N
		# [mismatch_from A:P]
		port = int(f[1].rsplit(":", 1)[1])
		kv = dict(zip(f[5::2], f[6::2]))
		out[port] = dict(slot=int(f[0]), expect=f[2], out_src=f[3], out_dst=f[4],
				 flags=int(kv["flags"], 16), mismatch_from=kv.get("mismatch_from"),
				 **{k: int(kv[k]) for k in ("packets", "bytes", "errors", "mismatch")})
	return out, entries


def kentries():
	try:
		return klist()[1]
	except FileNotFoundError:
		return None


def wait_until(pred, timeout, step=0.2, keepalive=None):
	"""Polls pred() until true; keepalive() runs between polls (media that must keep
	flowing while we wait)."""
	deadline = time.monotonic() + timeout
	while True:
		v = pred()
		if v or time.monotonic() >= deadline:
			return v
		if keepalive:
			keepalive()
		time.sleep(step)


def kernelized(call, ports):
	st = streams(call.query())
	return all(st[p]["forwarding"] == "kernel" for p in ports)


def trickle(pairs):
	"""One packet per sender (keeps latching/learning going while we wait)."""
	def f():
		for tx, rx in pairs:
			tx.rtp.sendto(tx.packet(), tx.dest)
			drain(rx.rtp)
	return f


def dmesg_clean():
	bad = [l for l in sh("dmesg").stdout.splitlines()
	       if re.search(r"BUG:|WARNING:|Oops|Call Trace", l)]
	expect(not bad, "dmesg: %s" % bad[:2])


# ---- scenarios, module absent ----

def daemon_fallback_auto_userspace():
	"""5: --kernel=auto without the module: says so, relays in userspace."""
	expect(not os.path.exists("/proc/net/sluice"), "module unexpectedly loaded")
	d = Daemon("fallback-auto", "--kernel=auto", "--endpoint-learning=immediate")
	log = d.log()
	expect("media forwarding: userspace only" in log, "no 'userspace only' in the log")
	if not EXTRA_ARGS:	# the default media I/O; 6.1 completes receives newest first
		expect("media I/O: io_uring" in log, "not io_uring by default: %s" % log[-300:])
		expect(not platform.release().startswith("6.1.") or
		       "sorted by receive time" in log, "6.1 without sorting by receive time")
	a, b = Phone("a", "10.0.1.2", 5000, 6000), Phone("b", "10.0.2.2", 7000, 7000)
	try:
		c = Call(d, a, b)
		r = exchange([(a, b), (b, a)], 50)
		check_delivery("A->B", r[0][0], r[0][1], (RELAY_IP, b.dest[1]))
		check_delivery("B->A", r[1][0], r[1][1], (RELAY_IP, a.dest[1]))
		st = streams(c.query())
		for port in (a.dest[1], b.dest[1]):
			s = st[port]
			expect(s["forwarding"] == "userspace", "port %d: %r" % (port, s["forwarding"]))
			expect("not loaded" in s.get("not in kernel", ""),
			       "port %d: reason %r" % (port, s.get("not in kernel")))
			expect(s["stats"]["packets"] == 50, "port %d: %r" % (port, s["stats"]))
		c.delete()
		expect(d.stop() == 0, "exit code")
	finally:
		a.close()
		b.close()


def daemon_kernel_on_refuses_without_module():
	"""5: --kernel=on (and --no-fallback) without the module: clear error, no start."""
	for name, arg in (("kernel-on", "--kernel=on"), ("no-fallback", "--no-fallback")):
		d = Daemon(name, arg, wait=False)
		try:
			rc = d.proc.wait(10)
		except subprocess.TimeoutExpired:
			raise Fail("%s: still running without the module" % arg)
		d._gone()
		log = d.log()
		expect(rc != 0, "%s: exit code 0" % arg)
		expect(re.search(r"kernel=on: kernel module not loaded", log),
		       "%s: no clear error: %s" % (arg, log[-300:]))


# ---- scenarios, module loaded ----

class Main:
	"""State shared by scenarios 1-3 (one call, default endpoint learning)."""
	d = call = a = b = None
	sent = {}		# relay port -> packets sent to it in total


def daemon_kernel_forwarding():
	"""1: after latching (default delayed learning: the NAT'd side is confirmed 3 s after
	its first packet) the kernel forwards: userspace counters stop, kernel counters
	match, payload identical, query says "kernel"."""
	d = Main.d = Daemon("main", "--kernel=on", keep=True)
	expect("media forwarding: kernel table %d" % TABLE in d.log(), "startup log line")
	expect(sh("nft", "list", "tables").stdout.find("sluice_%d" % TABLE) >= 0,
	       "nft table sluice_%d missing" % TABLE)
	a = Main.a = Phone("a", "10.0.1.2", 5000, 6000, rtcp=True, keep=True)
	b = Main.b = Phone("b", "10.0.2.2", 7000, 7000, rtcp=True, keep=True)
	c = Main.call = Call(d, a, b)
	pa, pb = a.dest[1], b.dest[1]
	sent = Main.sent = {pa: 0, pb: 0}
	st = streams(c.query())
	expect(st[pa]["not in kernel"] == "waiting for latching", "before media: %r" % st[pa])

	# latching, in userspace
	r = exchange([(a, b), (b, a)], 100, pps=50)
	sent[pa] += 100
	sent[pb] += 100
	check_delivery("latching A->B", r[0][0], r[0][1], (RELAY_IP, pb))
	check_delivery("latching B->A", r[1][0], r[1][1], (RELAY_IP, pa))
	n = [0]

	def keep():
		trickle([(a, b), (b, a)])()
		n[0] += 1
	ok = wait_until(lambda: kernelized(c, (pa, pb)), 8, keepalive=keep)
	sent[pa] += n[0]
	sent[pb] += n[0]
	expect(ok, "not kernel-forwarded after latching: %r" % {
		p: s.get("not in kernel") for p, s in streams(c.query()).items()})
	kl, entries = klist()
	expect(pa in kl and pb in kl, "no kernel entries for ports %d/%d: %r" % (pa, pb, kl))
	expect(kl[pa]["expect"] == "10.0.1.2:6000", "A entry expects %s" % kl[pa]["expect"])
	expect(kl[pb]["out_dst"] == "10.0.1.2:6000", "A's media goes to %s" % kl[pb]["out_dst"])

	# RTCP latches and goes to the kernel too
	for _ in range(3):
		a.rtcp.sendto(b"\x80\xc9\x00\x01" + struct.pack("!I", a.ssrc), a.dest_rtcp)
		b.rtcp.sendto(b"\x80\xc9\x00\x01" + struct.pack("!I", b.ssrc), b.dest_rtcp)
		time.sleep(0.05)
	def rr():
		for p in (a, b):
			p.rtcp.sendto(b"\x80\xc9\x00\x01" + struct.pack("!I", p.ssrc), p.dest_rtcp)
	ok = wait_until(lambda: kernelized(c, (a.dest_rtcp[1], b.dest_rtcp[1])), 8, keepalive=rr)
	expect(ok, "RTCP not kernel-forwarded: %r" % {
		p: s.get("not in kernel") for p, s in streams(c.query()).items()})

	def user(st, kl, p):
		return st[p]["stats"]["packets"] - kl[p]["packets"]
	st0, (kl0, _) = streams(c.query()), klist()
	r = exchange([(a, b), (b, a)], 300)
	sent[pa] += 300
	sent[pb] += 300
	st1, (kl1, _) = streams(c.query()), klist()
	check_delivery("kernel A->B", r[0][0], r[0][1], (RELAY_IP, pb))
	check_delivery("kernel B->A", r[1][0], r[1][1], (RELAY_IP, pa))
	for p in (pa, pb):
		expect(kl1[p]["packets"] - kl0[p]["packets"] == 300,
		       "port %d: kernel counted %d of 300" % (p, kl1[p]["packets"] - kl0[p]["packets"]))
		expect(kl1[p]["bytes"] - kl0[p]["bytes"] == 300 * 172,
		       "port %d: kernel bytes %d" % (p, kl1[p]["bytes"] - kl0[p]["bytes"]))
		expect(user(st1, kl1, p) == user(st0, kl0, p),
		       "port %d: userspace counted %d more" % (p, user(st1, kl1, p) - user(st0, kl0, p)))
		expect(st1[p]["forwarding"] == "kernel" and "not in kernel" not in st1[p]
		       and "kernelized" in st1[p]["flags"], "port %d: %r" % (p, st1[p]))
		expect(kl1[p]["mismatch"] == 0 and kl1[p]["errors"] == 0, "port %d: %r" % (p, kl1[p]))


def daemon_stats_include_kernel():
	"""3: query and delete totals = every packet sent (userspace + kernel)."""
	expect(Main.call, "needs daemon_kernel_forwarding")
	c = Main.call
	kl, _ = klist()
	for p, n in Main.sent.items():
		s = streams(c.query())[p]["stats"]
		expect(s["packets"] == n, "query port %d: %d packets, sent %d" % (p, s["packets"], n))
		expect(s["bytes"] == n * 172, "query port %d: %d bytes" % (p, s["bytes"]))
		expect(kl[p]["packets"] >= 300 and kl[p]["packets"] < n,
		       "kernel share of port %d: %d of %d" % (p, kl[p]["packets"], n))
	q = c.query()
	total = sum(Main.sent.values())
	expect(q["totals"]["RTP"]["packets"] == total, "query totals %r, sent %d" %
	       (q["totals"]["RTP"], total))
	# in flight during the delete: the reply must still count everything sent before it
	r = exchange([(Main.a, Main.b), (Main.b, Main.a)], 20)
	for p in Main.sent:
		Main.sent[p] += 20
	r = c.delete()
	st = streams(r)
	for p, n in Main.sent.items():
		expect(st[p]["stats"]["packets"] == n, "delete port %d: %d packets, sent %d" %
		       (p, st[p]["stats"]["packets"], n))
	expect(r["totals"]["RTP"]["packets"] == total + 40, "delete totals %r" % r["totals"]["RTP"])


def daemon_delete_removes_entries():
	"""2: after delete the call's kernel entries are gone and its ports forward nothing."""
	expect(Main.call and Main.call.gone(), "needs a deleted call (daemon_stats_include_kernel)")
	a, b = Main.a, Main.b
	kl, entries = klist()
	expect(entries == 0 and not kl, "entries left after delete: %d %r" % (entries, kl))
	r = exchange([(a, b), (b, a)], 30, settle=1.0)
	expect(not r[0][1] and not r[1][1], "forwarded after delete: %d/%d" %
	       (len(r[0][1]), len(r[1][1])))
	kl, entries = klist()
	expect(entries == 0, "entries came back: %d" % entries)
	expect(Main.d.stop() == 0, "daemon exit code")
	expect(not os.path.exists("/proc/net/sluice/%d" % TABLE), "instance left after clean exit")
	expect("sluice_%d" % TABLE not in sh("nft", "list", "tables").stdout,
	       "nft table left after clean exit")
	a.close()
	b.close()


def daemon_timeout_kernel_streams():
	"""4: --timeout=3: a kernel-forwarded call with media lives on, a silent one ends,
	and the first ends too once its (kernel) media stops."""
	d = Daemon("timeout", "--kernel=on", "--timeout=3", "--endpoint-learning=immediate")
	a1, b1 = Phone("a", "10.0.1.2", 5000, 6000), Phone("b", "10.0.2.2", 7000, 7000)
	a2, b2 = Phone("a", "10.0.1.2", 5010, 6010), Phone("b", "10.0.2.2", 7010, 7010)
	try:
		c1, c2 = Call(d, a1, b1), Call(d, a2, b2)
		both = [(a1, b1), (b1, a1), (a2, b2), (b2, a2)]
		exchange(both, 20, pps=50)
		ok = wait_until(lambda: kernelized(c1, (a1.dest[1], b1.dest[1])), 5,
				keepalive=trickle(both[:2]))
		expect(ok, "call 1 not kernel-forwarded")
		kl0, _ = klist()
		# call 1: media for 7 s; call 2: silent
		t0 = time.monotonic()
		gone2 = None
		while time.monotonic() - t0 < 7:
			exchange(both[:2], 10, pps=50, settle=0)
			if gone2 is None and c2.gone():
				gone2 = time.monotonic() - t0
		expect(not c1.gone(), "call 1 timed out while its media flowed in the kernel")
		expect(gone2 is not None, "silent call 2 did not time out within 7 s")
		kl1, _ = klist()
		kp = kl1[a1.dest[1]]["packets"] - kl0[a1.dest[1]]["packets"]
		expect(kp >= 300, "call 1 media not in the kernel: %d packets" % kp)
		# now call 1's media stops: it must end too
		t1 = time.monotonic()
		expect(wait_until(c1.gone, 8, step=0.5), "call 1 did not time out after media stopped")
		expect(time.monotonic() - t1 >= 2.5, "call 1 ended too early")
		expect(kentries() == 0, "kernel entries left after timeouts")
		expect(re.search(r"call removed \(RTP timeout\)", d.log()), "no timeout in the log")
		expect(d.stop() == 0, "daemon exit code")
	finally:
		for p in (a1, b1, a2, b2):
			p.close()


class Shared:
	d = None


def daemon_userspace_stream_beside_kernel():
	"""6: a transcoded call, and one that needs RTCP demultiplexing, keep those streams in
	userspace, with the reason in query, while a plain call beside them is
	kernel-forwarded."""
	d = Shared.d = Daemon("mixed", "--kernel=on", "--endpoint-learning=immediate", keep=True)
	a1, b1 = Phone("a", "10.0.1.2", 5000, 6000, keep=True), Phone("b", "10.0.2.2", 7000, 7000, keep=True)
	a2, b2 = Phone("a", "10.0.1.2", 5010, 6010, keep=True), Phone("b", "10.0.2.2", 7010, 7010, keep=True)
	plain = Call(d, a1, b1)
	mux = Call(d, a2, b2, mux=["demux"])
	both = [(a1, b1), (b1, a1), (a2, b2), (b2, a2)]
	exchange(both, 20, pps=50)
	ok = wait_until(lambda: kernelized(plain, (a1.dest[1], b1.dest[1])), 5,
			keepalive=trickle(both))
	expect(ok, "plain call not kernel-forwarded")
	st = streams(mux.query())
	s = st[a2.dest[1]]
	expect(s["forwarding"] == "userspace", "muxed stream: %r" % s["forwarding"])
	expect(s.get("not in kernel") == "RTCP demultiplexing", "reason %r" % s.get("not in kernel"))
	expect(a2.dest[1] not in klist()[0], "muxed stream has a kernel entry")
	kl0, _ = klist()
	st0 = streams(mux.query())
	r = exchange(both, 100)
	check_delivery("mux A->B", r[2][0], r[2][1], (RELAY_IP, b2.dest[1]))
	check_delivery("plain A->B", r[0][0], r[0][1], (RELAY_IP, b1.dest[1]))
	st1 = streams(mux.query())
	p = a2.dest[1]
	expect(st1[p]["stats"]["packets"] - st0[p]["stats"]["packets"] == 100,
	       "muxed stream did not count its packets in userspace")
	kl1, _ = klist()
	expect(kl1[a1.dest[1]]["packets"] - kl0[a1.dest[1]]["packets"] == 100,
	       "plain call's packets not counted by the kernel")
	a3, b3 = Phone("a", "10.0.1.2", 5020, 6020), Phone("b", "10.0.2.2", 7020, 7020)
	xc = Call(d, a3, b3, transcode=True)
	pair = [(a3, b3), (b3, a3)]
	r = exchange(pair, 50, pps=50)
	st = streams(xc.query())
	for port in (a3.dest[1], b3.dest[1]):
		s = st[port]
		expect(s["forwarding"] == "userspace", "transcoded stream: %r" % s["forwarding"])
		expect("transcoding" in (s.get("not in kernel") or ""),
		       "transcoded stream reason %r" % s.get("not in kernel"))
		expect(port not in klist()[0], "transcoded stream has a kernel entry")
	expect(len(r[0][1]) >= 45 and len(r[1][1]) >= 45,
	       "transcoded call relayed %d/%d of 50 packets each way" % (len(r[0][1]), len(r[1][1])))
	expect(all(d[1] & 0x7F == 0 for d, _ in r[0][1]), "B did not get PCMU (PT 0)")
	expect(all(d[1] & 0x7F == 8 for d, _ in r[1][1]), "A did not get PCMA (PT 8)")
	xc.delete()
	for p_ in (a3, b3):
		p_.close()
	Shared.calls = [(plain, a1, b1), (mux, a2, b2)]


def first_daemon_untouched(before, a, b):
	"""The first daemon's entries and nft table are as they were, and its call is still
	forwarded by the kernel."""
	expect(kentries() == before, "entries %r -> %r" % (before, kentries()))
	expect("sluice_%d" % TABLE in sh("nft", "list", "tables").stdout, "nft table removed")
	kl0, _ = klist()
	r = exchange([(a, b), (b, a)], 50)
	check_delivery("A->B", r[0][0], r[0][1], (RELAY_IP, b.dest[1]))
	kl1, _ = klist()
	expect(kl1[a.dest[1]]["packets"] - kl0[a.dest[1]]["packets"] == 50, "not kernel-forwarded")


def daemon_second_daemon_harmless():
	"""A second sluiced started by mistake (same NG port, same table) fails on the NG
	address before touching the kernel: the first one's entries stay and forward."""
	d = Shared.d
	expect(d and d.proc.poll() is None, "needs the daemon of scenario 6")
	plain, a, b = Shared.calls[0]
	before = kentries()
	expect(before and before >= 2, "no live entries: %r" % before)
	d2 = Daemon("second", "--kernel=on", wait=False)
	try:
		rc = d2.proc.wait(10)
	except subprocess.TimeoutExpired:
		raise Fail("second daemon on the same NG port is running")
	d2._gone()
	expect(rc != 0, "second daemon exit code 0")
	expect("Address already in use" in d2.log(), "no clear error: %s" % d2.log()[-300:])
	first_daemon_untouched(before, a, b)
	expect(d.req({"command": "ping"}).get("result") == "pong", "first daemon does not answer")


def daemon_second_daemon_same_table():
	"""A second sluiced on another NG port but the same --table: the first one owns the
	kernel instance (a lock on it), so --kernel=on refuses to start and --kernel=auto
	runs in userspace; neither flushes or removes the first one's entries."""
	d = Shared.d
	expect(d and d.proc.poll() is None, "needs the daemon of scenario 6")
	plain, a, b = Shared.calls[0]
	before = kentries()
	expect(before and before >= 2, "no live entries: %r" % before)
	other = dict(ng_port=NG_PORT + 1, ports=(PORTS[1] + 1, PORTS[1] + 200))
	d2 = Daemon("same-table-on", "--kernel=on", wait=False, **other)
	try:
		rc = d2.proc.wait(10)
	except subprocess.TimeoutExpired:
		d2.kill()
		raise Fail("--kernel=on daemon on a table in use is running")
	d2._gone()
	expect(rc != 0, "exit code 0")
	expect("in use by another sluiced" in d2.log(), "no clear error: %s" % d2.log()[-300:])
	expect(kentries() == before, "entries %r -> %r" % (before, kentries()))
	d3 = Daemon("same-table-auto", "--kernel=auto", **other)
	expect("in use by another sluiced" in d3.log(), "auto: %s" % d3.log()[-300:])
	expect(d3.stop() == 0, "auto daemon did not exit cleanly")
	first_daemon_untouched(before, a, b)


def daemon_nat_rebinding_relatch():
	"""9: A's NAT rebinds (new source port, same SSRC) once the latch is fixed: the kernel
	drops those packets itself and counts them as foreign (the SSRC is no secret, it
	moves nothing); the entry is untouched. A re-INVITE (re-offer) from A reopens
	learning: the new port is latched, pushed, and media flows in the kernel again."""
	expect(Shared.d and Shared.d.proc.poll() is None, "needs the daemon of scenario 6")
	plain, a, b = Shared.calls[0]
	pa, pb = a.dest[1], b.dest[1]
	kl0, _ = klist()
	expect(kl0[pa]["expect"] == "10.0.1.2:6000", "before: %r" % kl0[pa])
	f0 = streams(plain.query())[pa]["foreign packets"]
	a.rebind(6100)
	for _ in range(20):
		a.rtp.sendto(a.packet(), a.dest)
	ok = wait_until(lambda: klist()[0][pa]["mismatch"] - kl0[pa]["mismatch"] == 20, 5)
	expect(ok, "the kernel did not count 20 foreign packets: %r" % klist()[0].get(pa))
	kl1, _ = klist()
	expect(kl1[pa]["expect"] == "10.0.1.2:6000", "entry moved by a stranger: %r" % kl1[pa])
	expect(kl1[pa]["packets"] == kl0[pa]["packets"], "foreign packets were forwarded")
	expect(kl1[pb]["out_dst"] == "10.0.1.2:6000", "B's media moved to %s" % kl1[pb]["out_dst"])
	st = streams(plain.query())[pa]
	expect(st["foreign packets"] - f0 == 20, "query foreign %r" % st["foreign packets"])
	expect(st["forwarding"] == "kernel", "stream left the kernel: %r" % st.get("not in kernel"))
	# the re-INVITE: same SDP again from A, and B's answer
	r = Shared.d.req(plain.base("offer", sdp=a.sdp()))
	expect(r.get("result") == "ok", "re-offer: %r" % r)
	m = plain.base("answer", sdp=b.sdp())
	m["to-tag"] = plain.ttag
	r = Shared.d.req(m)
	expect(r.get("result") == "ok", "re-answer: %r" % r)
	ok = wait_until(lambda: klist()[0].get(pa, {}).get("expect") == "10.0.1.2:6100", 5,
			keepalive=trickle([(a, b), (b, a)]))
	expect(ok, "kernel entry not updated after the re-offer: %r" % klist()[0].get(pa))
	ok = wait_until(lambda: kernelized(plain, (pa, pb)), 5, keepalive=trickle([(a, b), (b, a)]))
	expect(ok, "not back in the kernel after the re-offer")
	kl1, _ = klist()
	expect(kl1[pb]["out_dst"] == "10.0.1.2:6100", "B's media goes to %s" % kl1[pb]["out_dst"])
	st0 = streams(plain.query())
	r = exchange([(a, b), (b, a)], 100)
	check_delivery("after rebind A->B", r[0][0], r[0][1], (RELAY_IP, pb))
	check_delivery("after rebind B->A", r[1][0], r[1][1], (RELAY_IP, pa))
	kl2, _ = klist()
	st1 = streams(plain.query())
	for p in (pa, pb):
		expect(kl2[p]["packets"] - kl1[p]["packets"] == 100, "port %d: kernel %d of 100" %
		       (p, kl2[p]["packets"] - kl1[p]["packets"]))
		expect(st1[p]["stats"]["packets"] - st0[p]["stats"]["packets"] == 100,
		       "port %d: query counted %d" % (p, st1[p]["stats"]["packets"] - st0[p]["stats"]["packets"]))
		expect(st1[p]["stats"]["errors"] == 0, "port %d: errors %r" % (p, st1[p]["stats"]))
	expect(st1[pa]["endpoint"]["port"] == 6100, "query endpoint %r" % st1[pa]["endpoint"])


def daemon_sigkill_restart_flushes():
	"""7: SIGKILL leaves the instance's entries behind; the next start flushes them."""
	d = Shared.d
	expect(d and d.proc.poll() is None, "needs the daemon of scenario 6")
	before = kentries()
	expect(before and before >= 2, "no live entries before the kill: %r" % before)
	d.kill()
	expect(kentries() == before, "entries changed by the kill itself: %r" % kentries())
	d2 = Daemon("restarted", "--kernel=on", "--endpoint-learning=immediate")
	expect(kentries() == 0, "stale entries after restart: %r" % kentries())
	with open(LIST) as f:
		lines = f.read().splitlines()
	expect(len(lines) == 1, "list shows entries: %r" % lines[1:3])
	# the stale ports forward nothing any more
	for call, a, b in Shared.calls:
		r = exchange([(a, b)], 10, settle=0.5)
		expect(not r[0][1], "stale entry still forwards")
		a.close()
		b.close()
	# and the restarted daemon works with the kernel
	a, b = Phone("a", "10.0.1.2", 5000, 6000), Phone("b", "10.0.2.2", 7000, 7000)
	try:
		c = Call(d2, a, b)
		exchange([(a, b), (b, a)], 10, pps=50)
		ok = wait_until(lambda: kernelized(c, (a.dest[1], b.dest[1])), 5,
				keepalive=trickle([(a, b), (b, a)]))
		expect(ok, "restarted daemon does not kernel-forward")
		r = exchange([(a, b), (b, a)], 50)
		check_delivery("restarted A->B", r[0][0], r[0][1], (RELAY_IP, b.dest[1]))
		expect(d2.stop() == 0, "exit code")
	finally:
		a.close()
		b.close()


def kstats(slot):
	"""One slot's counters through the kmod API (sluice-ktest stats: kmod_read() on a
	second, read-only handle): {packets, mismatch, last_mismatch, last_mismatch_ns,
	now_ns, ...}, numbers as int."""
	p = sh(os.path.join(OUT, "sluice-ktest"), "-", "stats", str(TABLE), str(slot))
	kv = dict(w.split("=", 1) for w in p.stdout.split())
	return {k: (v if k == "last_mismatch" else int(v)) for k, v in kv.items()}


class Stranger:
	"""State of daemon_stranger_at_kernel_stream for the query check after it."""
	d = call = a = b = None
	ok = False		# the first scenario passed: its call is still up
	n = 0			# stranger packets sent
	sent_a = 0		# A's packets sent after the stream went to the kernel
	st0 = None		# query stream dict of A's port before the stranger


STRANGER = ("10.0.1.66", 4000)	# in netns a: same network as the caller, another host


def daemon_stranger_at_kernel_stream():
	"""Issue 11: a stranger (another address on the caller's network) sends RTP to the
	caller's relay port once that stream is kernel-forwarded, half with a fresh SSRC,
	half with the caller's, while both phones talk: the callee gets exactly the caller's
	packets, the stranger gets nothing, the latch and the kernel entry do not move, and
	the module counted every stranger packet as a mismatch, with the stranger as the last
	mismatching source (read through the kmod API and the list file). A fixed latch
	without media-handover is pushed without MISMATCH_PASS: the module drops the
	stranger's packets itself."""
	d = Stranger.d = Daemon("stranger", "--kernel=on", "--endpoint-learning=immediate", keep=True)
	a = Stranger.a = Phone("a", "10.0.1.2", 5000, 6000, keep=True)
	b = Stranger.b = Phone("b", "10.0.2.2", 7000, 7000, keep=True)
	s = Phone("a", STRANGER[0], 5000, STRANGER[1])
	c = Stranger.call = Call(d, a, b)
	pa, pb = a.dest[1], b.dest[1]
	exchange([(a, b), (b, a)], 20, pps=50)
	ok = wait_until(lambda: kernelized(c, (pa, pb)), 5, keepalive=trickle([(a, b), (b, a)]))
	expect(ok, "call not kernel-forwarded")
	kl0, _ = klist()
	expect(kl0[pa]["expect"] == "10.0.1.2:6000", "A's entry expects %s" % kl0[pa]["expect"])
	expect(not kl0[pa]["flags"] & 1, "A's entry passes strangers to userspace (flags %#x)" %
	       kl0[pa]["flags"])
	k0 = kstats(kl0[pa]["slot"])
	expect(k0["mismatch"] == 0 and k0["last_mismatch"] == "none",
	       "mismatch record before the stranger: %r" % k0)
	Stranger.st0 = streams(c.query())[pa]

	# the stranger, interleaved with both phones; its packets are its own (payload) but
	# the second half carries A's SSRC, sequence and timestamp
	n = Stranger.n = 40
	got_b, got_a, got_s, sent_a, sent_b = [], [], [], [], []
	t0 = time.monotonic_ns()
	for k in range(n):
		if k < n // 2:
			p = s.packet()
		else:
			s.ssrc, s.seq, s.ts = a.ssrc, a.seq, a.ts
			p = s.packet()
		s.rtp.sendto(p, a.dest)
		pk = a.packet()
		a.rtp.sendto(pk, a.dest)
		sent_a.append(pk)
		pk = b.packet()
		b.rtp.sendto(pk, b.dest)
		sent_b.append(pk)
		drain(b.rtp, got_b)
		drain(a.rtp, got_a)
		drain(s.rtp, got_s)
		time.sleep(0.01)
	deadline = time.monotonic() + 0.8
	while time.monotonic() < deadline:
		drain(b.rtp, got_b)
		drain(a.rtp, got_a)
		drain(s.rtp, got_s)
		time.sleep(0.05)
	Stranger.sent_a = len(sent_a)
	check_delivery("callee (A->B)", sent_a, got_b, (RELAY_IP, pb))
	check_delivery("caller (B->A)", sent_b, got_a, (RELAY_IP, pa))
	expect(not got_s, "the stranger received %d packets" % len(got_s))

	kl1, _ = klist()
	expect(kl1[pa]["expect"] == "10.0.1.2:6000", "A's entry now expects %s" % kl1[pa]["expect"])
	expect(kl1[pb]["out_dst"] == "10.0.1.2:6000", "B's media now goes to %s" % kl1[pb]["out_dst"])
	expect(kernelized(c, (pa, pb)), "not kernel-forwarded after the stranger: %r" % {
		p_: s_.get("not in kernel") for p_, s_ in streams(c.query()).items()})
	k1 = kstats(kl1[pa]["slot"])
	expect(k1["packets"] - k0["packets"] == len(sent_a),
	       "kernel forwarded %d of A's %d packets" % (k1["packets"] - k0["packets"], len(sent_a)))
	expect(k1["mismatch"] == n, "module mismatch %d, stranger sent %d" % (k1["mismatch"], n))
	expect(k1["last_mismatch"] == "%s:%d" % STRANGER,
	       "last mismatching source %s, want %s:%d" % ((k1["last_mismatch"],) + STRANGER))
	expect(t0 - 50_000_000 <= k1["last_mismatch_ns"] <= k1["now_ns"],
	       "last mismatch at %d, stranger sent from %d to %d" % (k1["last_mismatch_ns"], t0,
								     k1["now_ns"]))
	expect(kl1[pa]["mismatch"] == n and kl1[pa]["mismatch_from"] == "%s:%d" % STRANGER,
	       "list file: %r" % kl1[pa])
	expect(kl1[pb]["mismatch"] == 0, "B's entry counted mismatches: %r" % kl1[pb])
	s.close()
	Stranger.ok = True


def daemon_stranger_foreign_in_query():
	"""Issue 11 (spec "Foreign packets"): after daemon_stranger_at_kernel_stream, query
	shows the stranger's packets on the caller's stream as "foreign packets" (userspace
	drops + kernel drops, each counted once) with the stranger as "last foreign source",
	and not in the stream's packets/bytes."""
	expect(Stranger.ok, "needs daemon_stranger_at_kernel_stream")
	c, a, b = Stranger.call, Stranger.a, Stranger.b
	pa, pb = a.dest[1], b.dest[1]
	st = streams(c.query())
	sa = st[pa]
	expect("foreign packets" in sa, "query has no \"foreign packets\": %r" % sorted(sa))
	expect(sa["foreign packets"] == Stranger.n, "foreign packets %r, stranger sent %d" %
	       (sa["foreign packets"], Stranger.n))
	want = {"family": "IPv4", "address": STRANGER[0], "port": STRANGER[1]}
	expect(sa.get("last foreign source") == want, "last foreign source %r, want %r" %
	       (sa.get("last foreign source"), want))
	expect(st[pb].get("foreign packets", 0) == 0, "B's stream: foreign packets %r" %
	       st[pb].get("foreign packets"))
	dp = sa["stats"]["packets"] - Stranger.st0["stats"]["packets"]
	expect(dp == Stranger.sent_a, "A's stream counted %d packets, A sent %d" % (dp, Stranger.sent_a))
	expect(sa["stats"]["bytes"] - Stranger.st0["stats"]["bytes"] == Stranger.sent_a * 172,
	       "A's stream bytes include the stranger's")
	expect(sa["stats"]["errors"] == Stranger.st0["stats"]["errors"],
	       "A's stream errors %d -> %d: foreign packets are counted there only" %
	       (Stranger.st0["stats"]["errors"], sa["stats"]["errors"]))
	c.delete()
	expect(Stranger.d.stop() == 0, "daemon exit code")
	a.close()
	b.close()


def live_daemon(name):
	"""A daemon with one kernel-forwarded call; returns (daemon, phones)."""
	d = Daemon(name, "--kernel=on", "--endpoint-learning=immediate")
	a, b = Phone("a", "10.0.1.2", 5000, 6000), Phone("b", "10.0.2.2", 7000, 7000)
	c = Call(d, a, b)
	exchange([(a, b), (b, a)], 10, pps=50)
	ok = wait_until(lambda: kernelized(c, (a.dest[1], b.dest[1])), 5,
			keepalive=trickle([(a, b), (b, a)]))
	expect(ok, "call not kernel-forwarded")
	expect(kentries() >= 2, "no entries")
	return d, (a, b)


def daemon_unload_after_clean_exit():
	"""8: a daemon with live kernel calls exits (SIGTERM); rmmod is clean."""
	d, phones = live_daemon("unload-clean")
	try:
		expect(d.stop() == 0, "exit code")
		expect(not os.path.exists("/proc/net/sluice/%d" % TABLE), "instance left")
		sh("rmmod", "sluice")
		expect(not os.path.exists("/proc/net/sluice"), "/proc/net/sluice left")
		dmesg_clean()
	finally:
		for p in phones:
			p.close()
		if not os.path.exists("/proc/net/sluice"):
			sh("insmod", KO)


def daemon_unload_after_sigkill():
	"""8: SIGKILL with live entries: the rule pins the module; once the nft table is
	removed, rmmod with the entries still present is clean."""
	d, phones = live_daemon("unload-kill")
	try:
		d.kill()
		expect(kentries() >= 2, "entries gone before rmmod")
		expect(sh("rmmod", "sluice", check=False).returncode != 0,
		       "rmmod succeeded while the daemon's rule uses the module")
		sh("nft", "delete", "table", "inet", "sluice_%d" % TABLE)
		sh("rmmod", "sluice")
		expect(not os.path.exists("/proc/net/sluice"), "/proc/net/sluice left")
		dmesg_clean()
	finally:
		for p in phones:
			p.close()
		if not os.path.exists("/proc/net/sluice"):
			sh("insmod", KO)


GROUPS = {
	"fallback": [daemon_fallback_auto_userspace, daemon_kernel_on_refuses_without_module],
	"main": [daemon_kernel_forwarding, daemon_stats_include_kernel,
		 daemon_delete_removes_entries, daemon_timeout_kernel_streams,
		 daemon_userspace_stream_beside_kernel, daemon_second_daemon_harmless,
		 daemon_second_daemon_same_table,
		 daemon_nat_rebinding_relatch,
		 daemon_sigkill_restart_flushes,
		 daemon_stranger_at_kernel_stream, daemon_stranger_foreign_in_query],
	"unload": [daemon_unload_after_clean_exit, daemon_unload_after_sigkill],
}


def main():
	for fn in GROUPS[GROUP]:
		scenario(fn)
	left = bool(Daemon.live)
	for d in list(Daemon.live):
		d.kill()
	if left:	# a failed chain: its killed daemon's rule would pin the module
		sh("nft", "delete", "table", "inet", "sluice_%d" % TABLE, check=False)


if __name__ == "__main__":
	main()
