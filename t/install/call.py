#!/usr/bin/python3
"""One call through the packaged relay in the install test's guest (guest.sh): offer and
answer with the packaged sluice-ng, 300 RTP packets each way on loopback, then asserts
that every packet arrived once from the relay's port, that `query` counts them all and
says "forwarding": "kernel" for both RTP streams, and that the module's table 0 list
shows the kernel's share; deletes the call and checks its kernel entries are gone.
usage: call.py LABEL (names the call)"""
import json
import re
import select
import socket
import struct
import subprocess
import sys
import time

LABEL = sys.argv[1]
N, PPS = 300, 150
LIST = "/proc/net/sluice/0/list"
CALL = "install-" + LABEL


def ng(*args):
	p = subprocess.run(["sluice-ng", "--compact"] + list(args), capture_output=True,
			   text=True, timeout=10)
	if p.returncode:
		sys.exit("sluice-ng %s: exit %d: %s" % (args[0], p.returncode, p.stderr))
	r = json.loads(p.stdout)
	if r.get("result") != "ok":
		sys.exit("sluice-ng %s: %r" % (args[0], r))
	return r


def sdp(port):
	return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n" % port)


def relay_port(reply):
	return int(re.search(r"m=audio (\d+) ", reply["sdp"]).group(1))


def phone(port):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
	s.bind(("127.0.0.1", port))
	s.setblocking(False)
	return s


def drain(s, got):
	while select.select([s], [], [], 0)[0]:
		got.append(s.recvfrom(2048))


def klist():
	"""{local port: kernel packets} of table 0's entries, and the entry count."""
	lines = open(LIST).read().splitlines()
	entries = int(re.match(r"instance \d+ capacity \d+ entries (\d+)", lines[0]).group(1))
	out = {}
	for l in lines[1:]:
		f = l.split()
		kv = dict(zip(f[5::2], f[6::2]))
		out[int(f[1].rsplit(":", 1)[1])] = int(kv["packets"])
	return out, entries


def main():
	a, b = phone(20000), phone(20010)
	to_b = relay_port(ng("offer", "--call-id=" + CALL, "--from-tag=a", "--sdp=" + sdp(20000)))
	to_a = relay_port(ng("answer", "--call-id=" + CALL, "--from-tag=a", "--to-tag=b",
			     "--sdp=" + sdp(20010)))
	sent = {0: [], 1: []}
	got = {0: [], 1: []}
	t0 = time.monotonic()
	for k in range(N):
		for i, (tx, dst, rx) in enumerate(((a, to_a, b), (b, to_b, a))):
			p = struct.pack("!BBHII", 0x80, 0, k, 160 * k, 0x1000 + i) + bytes([i]) * 160
			tx.sendto(p, ("127.0.0.1", dst))
			sent[i].append(p)
			drain(rx, got[i])
		d = t0 + (k + 1) / PPS - time.monotonic()
		if d > 0:
			time.sleep(d)
	end = time.monotonic() + 0.5
	while time.monotonic() < end:
		drain(b, got[0])
		drain(a, got[1])
		time.sleep(0.05)
	errors = []
	for i, src in ((0, to_b), (1, to_a)):	# A->B arrives from the port B sends to
		data = sorted(d for d, _ in got[i])
		if data != sorted(sent[i]):
			errors.append("direction %d: %d of %d packets arrived intact" % (i, len(data), N))
		bad = [addr for _, addr in got[i] if addr != ("127.0.0.1", src)]
		if bad:
			errors.append("direction %d: from %s, not the relay port %d" % (i, bad[0], src))
	q = ng("query", "--call-id=" + CALL)
	rtp = {}
	for t in q["tags"].values():
		for m in t["medias"]:
			for s in m["streams"]:
				if "RTP" in s["flags"]:
					rtp[s["local port"]] = s
	kl, entries = klist()
	for port in (to_a, to_b):
		s = rtp.get(port)
		if not s:
			errors.append("query: no RTP stream on port %d" % port)
			continue
		if s["forwarding"] != "kernel":
			errors.append("query port %d: forwarding %s (%s)" % (port, s["forwarding"],
									   s.get("not in kernel")))
		if s["stats"]["packets"] != N:
			errors.append("query port %d: %d packets, sent %d" % (port, s["stats"]["packets"], N))
		if kl.get(port, 0) < N // 4:	# the rest went through userspace until latched
			errors.append("kernel forwarded %d of %d packets on port %d" % (kl.get(port, 0), N, port))
	print("call %s: relay ports %d/%d, query packets %s, kernel packets %s of %d each way" %
	      (LABEL, to_a, to_b, [rtp[p]["stats"]["packets"] for p in (to_a, to_b) if p in rtp],
	       [kl.get(p, 0) for p in (to_a, to_b)], N))
	ng("delete", "--call-id=" + CALL, "--from-tag=a", "--delete-delay=0")
	time.sleep(0.3)
	kl, entries = klist()
	if entries:
		errors.append("%d kernel entries left after delete" % entries)
	for e in errors:
		print("FAIL:", e)
	return 1 if errors else 0


if __name__ == "__main__":
	sys.exit(main())
