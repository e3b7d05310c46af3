"""A full ICE agent (RFC 8445) written with Python sockets, to face sluiced in e2e
tests: it answers the binding requests sluiced sends (checking USERNAME and
MESSAGE-INTEGRITY with its own password, answering with XOR-MAPPED-ADDRESS, integrity
and FINGERPRINT), sends checks of its own (controlling or controlled, with or without
USE-CANDIDATE), and records everything it saw for the test to assert on: each check
with its arrival time, each response, and the media (non-STUN) that arrived."""

import select
import struct
import time

from secure_peer import (stun_check_fingerprint, stun_check_integrity, stun_error,
			 stun_parse, stun_request, stun_success)

BINDING_REQUEST, BINDING_SUCCESS, BINDING_ERROR = 0x0001, 0x0101, 0x0111
USERNAME, PRIORITY, USE_CANDIDATE = 0x0006, 0x0024, 0x0025
ICE_CONTROLLED, ICE_CONTROLLING = 0x8029, 0x802A


class Check:
	"""A binding request sluiced sent to one of our sockets."""

	def __init__(self, t, sock, data, msg, src):
		self.t, self.sock, self.data, self.msg, self.src = t, sock, data, msg, src
		self.tid = msg["tid"]
		a = msg["attrs"]
		self.username = a.get(USERNAME, b"").decode(errors="replace")
		self.use_candidate = USE_CANDIDATE in a
		self.controlling = ICE_CONTROLLING in a
		self.controlled = ICE_CONTROLLED in a
		role = a.get(ICE_CONTROLLING) or a.get(ICE_CONTROLLED)
		self.tiebreaker = struct.unpack("!Q", role)[0] if role and len(role) == 8 else None
		self.priority = struct.unpack("!I", a[PRIORITY])[0] if PRIORITY in a else None
		self.fingerprint_ok = stun_check_fingerprint(data)


class IcePeer:
	"""One ICE endpoint with one socket per local candidate (socks). answer: how to
	answer sluiced's checks: "ok" (success), None (drop them), an error code, or a
	function of the Check giving one of those."""

	def __init__(self, socks, ufrag, pwd, controlling, tiebreaker=1 << 62):
		self.socks = list(socks)
		self.ufrag, self.pwd = ufrag, pwd
		self.controlling, self.tiebreaker = controlling, tiebreaker
		self.rufrag = self.rpwd = None
		self.answer = "ok"
		self.checks = []                # Check, in arrival order (integrity verified)
		self.bad = []                   # binding requests that failed our checks
		self.responses = {}             # tid -> (parsed, raw, src, sock)
		self.media = []                 # (sock, data, src) of everything not STUN

	def set_remote(self, ufrag, pwd):
		self.rufrag, self.rpwd = ufrag, pwd

	def check(self, sock, dest, use_candidate=False, controlling=None, tiebreaker=None):
		"""Send a check to dest from sock; returns its transaction id."""
		ctl = self.controlling if controlling is None else controlling
		tid, req = stun_request("%s:%s" % (self.rufrag, self.ufrag), self.rpwd,
					controlling=ctl, use_candidate=use_candidate,
					tiebreaker=self.tiebreaker if tiebreaker is None else tiebreaker)
		sock.sendto(req, dest)
		return tid

	def _request(self, sock, data, msg, src):
		c = Check(time.monotonic(), sock, data, msg, src)
		if not (c.username == "%s:%s" % (self.ufrag, self.rufrag) and
			stun_check_integrity(data, self.pwd) and c.fingerprint_ok):
			self.bad.append(c)
			return
		self.checks.append(c)
		ans = self.answer(c) if callable(self.answer) else self.answer
		if ans == "ok":
			sock.sendto(stun_success(msg, self.pwd, src), src)
		elif ans:
			sock.sendto(stun_error(msg, ans, self.pwd), src)

	def pump(self, secs, until=None):
		"""Receive (and answer) for secs, or until until() is true."""
		deadline = time.monotonic() + secs
		while until is None or not until():
			left = deadline - time.monotonic()
			if left <= 0:
				break
			r, _, _ = select.select(self.socks, [], [], min(left, 0.05))
			for sock in r:
				try:
					data, src = sock.recvfrom(65535)
				except (BlockingIOError, ConnectionRefusedError):
					continue
				self.feed(sock, data, src)
		return until() if until else None

	def feed(self, sock, data, src):
		"""One datagram that arrived on sock (e.g. from DtlsPeer.handshake's on_other)."""
		msg = stun_parse(data) if data and data[0] < 4 else None
		if not msg:
			self.media.append((sock, data, src))
		elif msg["type"] == BINDING_REQUEST:
			self._request(sock, data, msg, src)
		elif msg["type"] in (BINDING_SUCCESS, BINDING_ERROR):
			self.responses[msg["tid"]] = (msg, data, src, sock)

	def on_other(self, sock):
		"""A callback for DtlsPeer.handshake(on_other=...): STUN on sock is handled."""
		return lambda data, src: self.feed(sock, data, src)

	def response(self, tid, secs=2.0):
		"""Wait for the response to our check tid: (parsed, raw, src, sock) or None."""
		self.pump(secs, lambda: tid in self.responses)
		return self.responses.get(tid)

	def checks_to(self, sock):
		return [c for c in self.checks if c.sock is sock]

	def rtp_to(self, sock):
		return [d for s, d, _ in self.media if s is sock and len(d) >= 12 and d[0] >> 6 == 2]


def ice_nominate(sock, dest, ufrag, pwd, rufrag, rpwd, timeout=3.0):
	"""Play the controlling full peer on one socket until sluiced has the pair sock <->
	dest selected: a USE-CANDIDATE check to dest, and sluiced's checks answered (its
	check on the pair, ordinary or triggered, makes the pair valid for it). Returns the
	IcePeer, to go on answering (on_other) during a DTLS handshake."""
	peer = IcePeer([sock], ufrag, pwd, controlling=True)
	peer.set_remote(rufrag, rpwd)
	tid = peer.check(sock, dest, use_candidate=True)
	peer.pump(timeout, lambda: tid in peer.responses and
		  any(k.src == dest for k in peer.checks))
	got = peer.responses.get(tid)
	assert got and got[0]["type"] == BINDING_SUCCESS, "no success response: %r" % (got,)
	assert any(k.src == dest for k in peer.checks), "sluiced sent no check to the pair"
	return peer
