"""--ng-allow: NG only from the listed prefixes.

A relay with --ng-allow=127.0.0.2/32 answers a client bound to 127.0.0.2 and stays
silent to one bound to 127.0.0.1 (UDP: no reply at all; TCP: the connection is closed
before anything is read), a denied offer creates nothing, every denial is counted in
statistics ("ng": denieddatagrams / deniedconnections), and the log has one line for a
burst (rate-limited, at most one per 10 s). IPv6 sources are checked the same way.
"""

import socket
import time

import pytest

from calls import Call, ok
from ng import bencode, decode_payload, new_cookie, split_reply

pytestmark = pytest.mark.sluice_only		# rtpengine has no --ng-allow


class Client:
	"""NG over UDP from a chosen source address."""

	def __init__(self, src, dst):
		fam = socket.AF_INET6 if ":" in src else socket.AF_INET
		self.sock = socket.socket(fam, socket.SOCK_DGRAM)
		self.sock.bind((src, 0))
		self.sock.connect(dst)

	def req(self, msg, timeout=1.0):
		"""The decoded reply, or None when nothing came back within timeout."""
		ck = new_cookie()
		self.sock.send(ck.encode() + b" " + bencode(msg))
		deadline = time.monotonic() + timeout
		while True:
			left = deadline - time.monotonic()
			if left <= 0:
				return None
			self.sock.settimeout(left)
			try:
				data = self.sock.recv(65535)
			except (socket.timeout, ConnectionRefusedError):
				return None
			rck, payload = split_reply(data)
			if rck == ck:
				return decode_payload(payload)

	def close(self):
		self.sock.close()


def _start(relay, extra=(), **opts):
	"""A relay whose NG is only open to 127.0.0.2 (the fixture's own ping would be
	denied): readiness is checked from 127.0.0.2."""
	r = relay(wait=False, ng_allow="127.0.0.2/32", extra=extra, **opts)
	good = Client("127.0.0.2", r.ng_addr)
	deadline = time.monotonic() + 5
	while time.monotonic() < deadline:
		assert r.alive(), r.log()[-2000:]
		if good.req({"command": "ping"}, timeout=0.2):
			return r, good
	raise AssertionError("relay did not answer 127.0.0.2:\n" + r.log()[-2000:])


def _ng_stats(client):
	return ok(client.req({"command": "statistics"}))["statistics"]["ng"]


def test_ng_allow_udp(relay):
	r, good = _start(relay)
	bad = Client("127.0.0.1", r.ng_addr)
	try:
		assert good.req({"command": "ping"}) == {"result": "pong"}
		for _ in range(5):
			assert bad.req({"command": "ping"}, timeout=0.3) is None
		# a denied offer is not executed
		c = Call(r)
		assert bad.req(c.base("offer", sdp=c.a.sdp()), timeout=0.3) is None
		assert ok(good.req({"command": "list"}))["calls"] == []
		ng = _ng_stats(good)
		assert ng["denieddatagrams"] == 6
		assert ng["deniedconnections"] == 0
		# the allowed source still does everything
		o = good.req(c.base("offer", sdp=c.a.sdp()))
		assert ok(o)["sdp"].startswith("v=0")
		assert ok(good.req({"command": "list"}))["calls"] == [c.cid]
		assert _ng_stats(good)["denieddatagrams"] == 6
		c.close()
		# one log line for the burst, naming the source
		lines = [l for l in r.log().splitlines() if "NG: denied" in l]
		assert len(lines) == 1, lines
		assert "last from 127.0.0.1:" in lines[0]
		assert any("NG: accepting requests only from 127.0.0.2/32" in l
			   for l in r.log().splitlines())
	finally:
		good.close()
		bad.close()


def test_ng_allow_tcp(relay):
	# TCP NG on the UDP port's number (the slot check covers UDP; nothing else here
	# listens on TCP in that range)
	r = relay(wait=False, argv=lambda b, ng, lo, hi: [
		b, "--config-file=none", "--foreground", "--log-stderr", "--log-level=7",
		"--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng,
		"--listen-tcp-ng=127.0.0.1:%d" % ng, "--port-min=%d" % lo, "--port-max=%d" % hi,
		"--ng-allow=127.0.0.2/32", "--table=-1"])
	good = Client("127.0.0.2", r.ng_addr)
	try:
		deadline = time.monotonic() + 5
		while not good.req({"command": "ping"}, timeout=0.2):
			assert time.monotonic() < deadline, r.log()[-2000:]
		msg = b"tcp1 " + bencode({"command": "ping"})
		# allowed: answered over TCP
		t = socket.create_connection(r.ng_addr, timeout=2, source_address=("127.0.0.2", 0))
		t.sendall(msg)
		assert t.recv(100) == b"tcp1 d6:result4:ponge"
		t.close()
		# denied: closed without a byte of reply
		for _ in range(3):
			t = socket.create_connection(r.ng_addr, timeout=2,
						     source_address=("127.0.0.1", 0))
			try:
				t.sendall(msg)
				data = t.recv(100)
			except ConnectionResetError:
				data = b""
			finally:
				t.close()
			assert data == b""
		ng = _ng_stats(good)
		assert ng["deniedconnections"] == 3
		assert ng["denieddatagrams"] == 0
	finally:
		good.close()


def _has_ipv6_loopback():
	try:
		s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
		s.bind(("::1", 0))
		s.close()
		return True
	except OSError:
		return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no ::1")
def test_ng_allow_ipv6(relay):
	"""NG on [::1] too: ::1 is denied until it is listed; prefixes of either family mix."""
	def argv(allow):
		return lambda b, ng, lo, hi: [
			b, "--config-file=none", "--foreground", "--log-stderr", "--log-level=7",
			"--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng,
			"--listen-ng=[::1]:%d" % ng, "--port-min=%d" % lo, "--port-max=%d" % hi,
			"--table=-1"] + ["--ng-allow=%s" % a for a in allow]

	for allow, v6_ok in [(["127.0.0.2/32"], False), (["127.0.0.2", "::1/128"], True),
			     (["127.0.0.0/30", "::/0"], True)]:
		r = relay(wait=False, argv=argv(allow))
		good, v6 = Client("127.0.0.2", r.ng_addr), None
		try:
			deadline = time.monotonic() + 5
			while not good.req({"command": "ping"}, timeout=0.2):
				assert time.monotonic() < deadline, r.log()[-2000:]
			v6 = Client("::1", ("::1", r.ng_port))
			got = v6.req({"command": "ping"}, timeout=0.5)
			assert (got == {"result": "pong"}) == v6_ok, (allow, got)
			assert _ng_stats(good)["denieddatagrams"] == (0 if v6_ok else 1)
		finally:
			good.close()
			if v6:
				v6.close()
		r.stop()
