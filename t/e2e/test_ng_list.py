"""`list` with `limit`, and replies that do not fit a datagram.

rtpengine 10.5's `list`: at most `limit` call-ids (default 32; a string of digits counts,
anything else is the default; a negative limit is an error "invalid limit, must be >=
0"). A reply larger than a UDP datagram (65507 bytes) is lost by rtpengine without a
trace; sluiced answers an error that says so (and counts it, statistics "ng" /
"oversizedreplies"). Over TCP NG (--listen-tcp-ng, the same framing) any size goes
through, also to a client that reads slowly.
"""

import socket
import time

import pytest

from calls import Call, err, ok
from conftest import relay_argv
from ng import _dec, encode_msg, split_reply

BIG_ID = 1500			# bytes of call-id: 45 calls make a 68 kB list
HUGE_ID = 20000			# 45 calls: a 900 kB list, more than a socket buffer holds


def offered(r, n, id_len=0):
	"""n calls, each offered only; call-ids padded to id_len bytes."""
	calls = []
	for i in range(n):
		c = Call(r)
		if id_len:
			c.cid = (c.cid + "-%03d-" % i).ljust(id_len, "x")
		c.offer()
		calls.append(c)
	return calls


def listing(r, **kw):
	return r.ng.req(dict(command="list", **kw))


def test_list_limit(relay):
	r = relay()
	calls = offered(r, 40)
	ids = {c.cid for c in calls}
	got = ok(listing(r))["calls"]
	assert len(got) == 32 and len(set(got)) == 32 and set(got) <= ids	# the default
	for limit, n in ((5, 5), (0, 0), ("7", 7), (1000, 40), (40, 40), (39, 39)):
		got = ok(listing(r, limit=limit))["calls"]
		assert len(got) == n and len(set(got)) == n and set(got) <= ids, (limit, got)
	assert len(ok(listing(r, limit="abc"))["calls"]) == 32
	assert err(listing(r, limit=-1)) == "invalid limit, must be >= 0"
	for c in calls:
		c.close()


def tcp_relay(relay):
	return relay(argv=lambda b, port, pmin, pmax: relay_argv(port, pmin, pmax) +
		     ["--listen-tcp-ng=127.0.0.1:%d" % port])


def read_reply(sock, timeout=5.0, buf=b""):
	"""One complete bencoded reply from a TCP stream, buf: bytes already read: (cookie,
	dict, its raw bytes, the bytes after it)."""
	sock.settimeout(timeout)
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if buf:
			ck, payload = split_reply(buf)
			try:
				d, end = _dec(payload, 0)
			except (ValueError, IndexError):
				pass			# incomplete
			else:
				n = len(ck) + 1 + end
				return ck, d, buf[:n], buf[n:]
		chunk = sock.recv(1 << 20)
		if not chunk:
			break
		buf += chunk
	raise AssertionError("no complete reply over TCP (%d bytes)" % len(buf))


@pytest.mark.sluice_only
def test_list_too_large_for_udp(relay):
	r = tcp_relay(relay)
	calls = offered(r, 45, BIG_ID)
	for js in (False, True):
		reply = r.ng.req({"command": "list", "limit": 1000}, json=js)
		reason = err(reply, "list")
		assert "too large for a UDP datagram" in reason and "TCP" in reason, reason
		assert r.ng.last_raw.split(b" ", 1)[1][:1] == (b"{" if js else b"d")
	# what fits is answered as usual
	assert len(ok(listing(r, limit=40))["calls"]) == 40
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	assert st["ng"]["oversizedreplies"] == 2
	assert "does not fit a datagram" in r.log()
	for c in calls:
		c.close()


def test_tcp_list_beyond_a_datagram(relay):
	r = tcp_relay(relay)
	calls = offered(r, 45, BIG_ID)
	with socket.create_connection(("127.0.0.1", r.ng_port), timeout=3) as s:
		s.sendall(encode_msg({"command": "list", "limit": 1000}, "big"))
		ck, d, raw, rest = read_reply(s)
		assert ck == "big" and len(raw) > 65507 and rest == b""
		assert sorted(d["calls"]) == sorted(c.cid for c in calls)
	for c in calls:
		c.close()


@pytest.mark.sluice_only
def test_tcp_large_replies_slow_reader(relay):
	"""Eight 900 kB replies (7 MB, more than socket buffers hold) to a client with a
	4 kB receive buffer that waits before reading, then a ping behind them: all arrive
	whole and in order (the relay keeps what the socket does not take and writes it as
	the client reads). rtpengine 10.5 stops sending after the third reply here."""
	r = tcp_relay(relay)
	calls = offered(r, 45, HUGE_ID)
	ids = sorted(c.cid for c in calls)
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	s.connect(("127.0.0.1", r.ng_port))
	try:
		s.sendall(b"".join(encode_msg({"command": "list", "limit": 1000}, "slow%d" % i)
				   for i in range(8)) + encode_msg({"command": "ping"}, "last"))
		time.sleep(0.5)
		rest = b""
		for i in range(8):
			ck, d, raw, rest = read_reply(s, timeout=10, buf=rest)
			assert ck == "slow%d" % i and len(raw) > 45 * HUGE_ID
			assert sorted(d["calls"]) == ids
		ck, d, raw, rest = read_reply(s, buf=rest)
		assert (ck, d, rest) == ("last", {"result": "pong"}, b"")
	finally:
		s.close()
	assert r.ng.ping()
	for c in calls:
		c.close()
