"""Minimal NG (rtpengine control protocol) client: bencode over UDP with a cookie.

Kept self-contained on purpose: the interop layer must not depend on other test layers.
"""
import os
import socket


def bencode(obj):
	if isinstance(obj, bool):
		obj = int(obj)
	if isinstance(obj, int):
		return b"i%de" % obj
	if isinstance(obj, str):
		obj = obj.encode()
	if isinstance(obj, (bytes, bytearray)):
		return b"%d:%s" % (len(obj), bytes(obj))
	if isinstance(obj, (list, tuple)):
		return b"l" + b"".join(bencode(x) for x in obj) + b"e"
	if isinstance(obj, dict):
		out = b"d"
		for k in sorted(obj, key=lambda k: k.encode() if isinstance(k, str) else k):
			out += bencode(k) + bencode(obj[k])
		return out + b"e"
	raise TypeError("cannot bencode %r" % type(obj))


def bdecode(data):
	"""Decode one bencoded value; byte strings come back as str when they are UTF-8."""
	val, pos = _bdec(data, 0)
	if pos != len(data):
		raise ValueError("trailing data after bencoded value")
	return val


def _bdec(d, i):
	c = d[i:i + 1]
	if c == b"i":
		j = d.index(b"e", i)
		return int(d[i + 1:j]), j + 1
	if c == b"l":
		i += 1
		out = []
		while d[i:i + 1] != b"e":
			v, i = _bdec(d, i)
			out.append(v)
		return out, i + 1
	if c == b"d":
		i += 1
		out = {}
		while d[i:i + 1] != b"e":
			k, i = _bdec(d, i)
			v, i = _bdec(d, i)
			out[k] = v
		return out, i + 1
	if c.isdigit():
		j = d.index(b":", i)
		n = int(d[i:j])
		s = d[j + 1:j + 1 + n]
		if len(s) != n:
			raise ValueError("truncated string")
		try:
			return s.decode(), j + 1 + n
		except UnicodeDecodeError:
			return s, j + 1 + n
	raise ValueError("bad bencode at offset %d" % i)


class NGClient:
	def __init__(self, host="127.0.0.1", port=2223, timeout=1.0, retries=3):
		self.addr = (host, port)
		self.timeout = timeout
		self.retries = retries

	def request(self, cmd, **params):
		"""Send one command; return the decoded reply dict. Raises TimeoutError."""
		msg = dict(params)
		msg["command"] = cmd
		cookie = os.urandom(6).hex().encode()
		pkt = cookie + b" " + bencode(msg)
		with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
			s.settimeout(self.timeout)
			for _ in range(self.retries):
				s.sendto(pkt, self.addr)
				try:
					while True:
						data, _ = s.recvfrom(65535)
						ck, _, body = data.partition(b" ")
						if ck == cookie:
							return bdecode(body)
				except socket.timeout:
					continue
		raise TimeoutError("no NG reply to %r from %s:%d" % (cmd, *self.addr))

	def ping(self):
		try:
			return self.request("ping").get("result") == "pong"
		except (TimeoutError, OSError, ValueError):
			return False
