"""NG over TCP (same framing as UDP) and advertised addresses behind NAT (IP!PUBLIC)."""

import socket
import time

from calls import Call, exchange, ok, same
from conftest import relay_argv
from ng import decode_payload, encode_msg, new_cookie, split_reply
from rtp import SDP


def _tcp_relay(relay):
	return relay(argv=lambda b, port, pmin, pmax: relay_argv(port, pmin, pmax) +
		     ["--listen-tcp-ng=127.0.0.1:%d" % port])


def _read_replies(sock, n, timeout=3.0):
	"""Read until n complete replies arrived; returns them as (cookie, dict)."""
	sock.settimeout(timeout)
	buf, out = b"", []
	deadline = time.monotonic() + timeout
	while len(out) < n and time.monotonic() < deadline:
		buf += sock.recv(65536)
		while True:
			ck, payload = split_reply(buf)
			if ck is None:
				break
			try:
				d = decode_payload(payload)
			except Exception:
				break			# incomplete
			out.append((ck, d))
			buf = b""			# replies are read one at a time below
			break
	return out


def test_tcp_ng_bencode_and_json(relay):
	r = _tcp_relay(relay)
	with socket.create_connection(("127.0.0.1", r.ng_port), timeout=3) as s:
		for js in (False, True):
			ck = new_cookie()
			s.sendall(encode_msg({"command": "ping"}, ck, json=js))
			[(rck, d)] = _read_replies(s, 1)
			assert rck == ck and d == {"result": "pong"}


def test_tcp_ng_split_and_pipelined(relay):
	"""A message split across writes is assembled; two in one write get two replies."""
	r = _tcp_relay(relay)
	c = Call(r)
	offer = encode_msg({"command": "offer", "call-id": c.cid, "from-tag": c.ftag,
			    "sdp": c.a.sdp()}, "tcp-offer-1")
	with socket.create_connection(("127.0.0.1", r.ng_port), timeout=3) as s:
		s.sendall(offer[:40])
		time.sleep(0.2)
		s.sendall(offer[40:])
		[(ck, d)] = _read_replies(s, 1)
		assert ck == "tcp-offer-1" and d["result"] == "ok"
		assert r.in_range(SDP(d["sdp"]).port())
		two = encode_msg({"command": "ping"}, "p1") + encode_msg({"command": "list"}, "p2")
		s.sendall(two)
		raw, deadline = b"", time.monotonic() + 3
		while time.monotonic() < deadline and not (b"p1 " in raw and b"p2 " in raw):
			raw += s.recv(65536)
		assert raw.startswith(b"p1 d6:result4:ponge"), raw
		assert raw[len(b"p1 d6:result4:ponge"):].startswith(b"p2 d5:callsl"), raw
	# the call made over TCP is visible over UDP too
	assert c.cid in ok(r.ng.req({"command": "list"}))["calls"]
	c.close()


def test_advertised_address_behind_nat(relay):
	"""--interface=LOCAL!PUBLIC binds on LOCAL and writes PUBLIC into the SDP."""
	public = "203.0.113.7"
	r = relay(interfaces=("127.0.0.1!%s" % public,))
	c = Call(r)
	c.offer()
	sdp = c.offer_reply
	assert sdp.mconn() == ("IP4", public)
	assert r.in_range(sdp.port())
	# media still flows through the local address
	c.answer()
	# never send to the public address: the relay listens on the local one
	c.a_dest = lambda rtcp=False: ("127.0.0.1", c.answer_reply.port() + rtcp)
	c.b_dest = lambda rtcp=False: ("127.0.0.1", c.offer_reply.port() + rtcp)
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	ok(c.delete())
	c.close()
