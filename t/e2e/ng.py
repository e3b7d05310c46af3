"""Minimal NG protocol client for the e2e tests.

Wire format: "<cookie> <payload>" over UDP, payload is bencode (default) or JSON.

Decoding choice: bencode byte strings are returned as ``str`` decoded as UTF-8 with
``surrogateescape``, so every reply is lossless (``s.encode('utf-8', 'surrogateescape')``
gives the exact bytes back) and tests can compare with ordinary string literals.
Dictionaries keep wire order (Python dicts are ordered); keys are str as well.
Encoding accepts str (UTF-8, surrogateescape), bytes, int, bool (as 0/1), list/tuple, dict.
"""

import itertools
import json as _json
import os
import random
import socket
import time


class BencodeError(ValueError):
	pass


def _enc(obj, out):
	if isinstance(obj, bool):
		obj = int(obj)
	if isinstance(obj, int):
		out += b"i%de" % obj
	elif isinstance(obj, str):
		b = obj.encode("utf-8", "surrogateescape")
		out += b"%d:" % len(b) + b
	elif isinstance(obj, (bytes, bytearray)):
		out += b"%d:" % len(obj) + bytes(obj)
	elif isinstance(obj, (list, tuple)):
		out += b"l"
		for v in obj:
			_enc(v, out)
		out += b"e"
	elif isinstance(obj, dict):
		out += b"d"
		for k, v in obj.items():
			_enc(k, out)
			_enc(v, out)
		out += b"e"
	else:
		raise TypeError("cannot bencode %r" % type(obj))


def bencode(obj):
	out = bytearray()
	_enc(obj, out)
	return bytes(out)


def _dec(buf, i):
	if i >= len(buf):
		raise BencodeError("truncated at %d" % i)
	c = buf[i]
	if c == ord("i"):
		j = buf.index(b"e", i)
		return int(buf[i + 1:j]), j + 1
	if c == ord("l"):
		i += 1
		lst = []
		while True:
			if i >= len(buf):
				raise BencodeError("unterminated list")
			if buf[i] == ord("e"):
				return lst, i + 1
			v, i = _dec(buf, i)
			lst.append(v)
	if c == ord("d"):
		i += 1
		d = {}
		while True:
			if i >= len(buf):
				raise BencodeError("unterminated dict")
			if buf[i] == ord("e"):
				return d, i + 1
			k, i = _dec(buf, i)
			if not isinstance(k, str):
				raise BencodeError("non-string key")
			d[k], i = _dec(buf, i)
	if ord("0") <= c <= ord("9"):
		j = buf.index(b":", i)
		n = int(buf[i:j])
		s = buf[j + 1:j + 1 + n]
		if len(s) != n:
			raise BencodeError("truncated string")
		return s.decode("utf-8", "surrogateescape"), j + 1 + n
	raise BencodeError("bad byte %r at %d" % (chr(c), i))


def bdecode(buf):
	"""Decode one bencoded value; trailing bytes are an error."""
	try:
		v, i = _dec(bytes(buf), 0)
	except (ValueError, IndexError) as e:
		raise BencodeError(str(e))
	if i != len(buf):
		raise BencodeError("%d trailing bytes" % (len(buf) - i))
	return v


_ctr = itertools.count(1)
_pfx = "%d%04x" % (os.getpid(), random.getrandbits(16))


def new_cookie():
	"""A cookie unique within this test run (and very likely across runs)."""
	return "%s_%d" % (_pfx, next(_ctr))


def split_reply(data):
	"""b'cookie payload' -> (cookie str, payload bytes); no space -> (None, data)."""
	sp = data.find(b" ")
	if sp < 0:
		return None, data
	return data[:sp].decode("utf-8", "surrogateescape"), data[sp + 1:]


def encode_msg(msg, ck, json=False):
	if json:
		body = _json.dumps(msg).encode()
	else:
		body = bencode(msg)
	return ck.encode() + b" " + body


def decode_payload(payload):
	"""Reply payload -> dict; JSON if it starts with '{', bencode otherwise."""
	if payload[:1] == b"{":
		return _json.loads(payload.decode("utf-8", "surrogateescape"))
	return bdecode(payload)


class NG:
	"""NG client bound to one relay address. addr: (host, port)."""

	def __init__(self, addr):
		self.addr = addr
		fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
		self.sock = socket.socket(fam, socket.SOCK_DGRAM)
		self.sock.connect(addr)
		self.last_raw = None		# raw bytes of the last reply seen by req()

	def close(self):
		self.sock.close()

	def _drain(self):
		self.sock.setblocking(False)
		try:
			while True:
				self.sock.recv(65535)
		except (BlockingIOError, ConnectionRefusedError):
			pass
		finally:
			self.sock.setblocking(True)

	def send_raw(self, data):
		self.sock.send(data)

	def recv_raw(self, timeout=2):
		"""Next datagram from the relay, or None on timeout."""
		self.sock.settimeout(timeout)
		try:
			return self.sock.recv(65535)
		except (socket.timeout, ConnectionRefusedError):
			return None

	def raw(self, data, timeout=2):
		"""Send raw bytes, return the first reply datagram (None on timeout)."""
		self._drain()
		self.send_raw(data)
		return self.recv_raw(timeout)

	def req_raw(self, msg, cookie=None, json=False, timeout=2):
		"""Send msg, return the raw payload (bytes after 'cookie ') of the matching reply."""
		ck = cookie if cookie is not None else new_cookie()
		self.sock.send(encode_msg(msg, ck, json))
		deadline = time.monotonic() + timeout
		while True:
			left = deadline - time.monotonic()
			if left <= 0:
				raise TimeoutError("no NG reply to %r (cookie %s)" % (msg.get("command"), ck))
			data = self.recv_raw(left)
			if data is None:
				continue
			rck, payload = split_reply(data)
			if rck == ck:
				self.last_raw = data
				return payload

	def req(self, msg, cookie=None, json=False, timeout=2):
		"""Send one NG request, return the decoded reply dict."""
		return decode_payload(self.req_raw(msg, cookie, json, timeout))

	def ping(self, timeout=2):
		return self.req({"command": "ping"}, timeout=timeout).get("result") == "pong"
