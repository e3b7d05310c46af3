"""Malformed-NG flood: 100 000 mutated bencode/JSON datagrams against a real relay.

Every datagram that has a cookie must be answered under that cookie with a well-formed
reply (an error, or ok/pong where the mutation happened to leave a valid request); one
without a cookie (no space) gets nothing. Categories: random bytes, random after 'd'/'{',
truncated messages, huge and overflowing string lengths and integers, deep nesting, a
wrong type for every key the daemon reads (one or several at a time, bencode and JSON),
byte flips/inserts/deletes of valid messages, odd dictionaries (duplicate, empty,
non-string keys), empty payloads, oversized datagrams, a few valid requests.

Requests are sent with up to WINDOW in flight (and at most WINDOW_BYTES outstanding, so
the relay's socket buffer never overflows); a missing reply is retransmitted (same
cookie) before it counts as lost. The relay's VmRSS is read after a warm-up of 5 000
datagrams and again at the end: growth must stay within 1 MiB. The reply cache is capped
small for this run (--ng-cache-max-bytes) so that it is full after the warm-up: growth
beyond it would be a leak; the statistics show the cap held. A call set up before the
flood keeps forwarding, and a new call works after it. Under ASan (SLUICED=build-san/
sluiced) the RSS check is skipped (ASan's quarantine holds freed memory) and the
harness fails the test on any sanitizer report.

NG_ABUSE_SEED and NG_ABUSE_COUNT override the seed (reproduce a failure) and the count.
"""

import json
import os
import random
import socket
import subprocess
import time

import pytest

from calls import Call, exchange, ok, same
from conftest import sanitized as is_sanitized
from ng import bencode, decode_payload, split_reply

SEED = int(os.environ.get("NG_ABUSE_SEED", "20261206"))
COUNT = int(os.environ.get("NG_ABUSE_COUNT", "100000"))
WARMUP = 5000
WINDOW = 64
WINDOW_BYTES = 96 * 1024		# the relay's receive buffer (rmem_default ~208 KiB) counts
BIG = 16 * 1024			# kernel overhead too: a datagram above BIG goes alone
CACHE_CAP = 256 * 1024
POOL = 4			# call-ids / tags the mutated commands use: bounded state

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\na=ptime:20\r\n")

# Keys that name a call or a side: a mutation that left them valid strings would create
# new calls at random and the state (not a leak) would grow with the run; they only ever
# get non-string wrong values, and byte flips never touch them (they lead the message).
IDENTITY = ("call-id", "from-tag", "to-tag")

# every key the daemon reads (daemon/ng_request.c, ng_codec_flags.c, ng_crypto_flags.c)
KEYS = ["command", "call-id", "from-tag", "to-tag", "via-branch", "sdp", "label",
	"transport-protocol", "media-address", "address-family", "ICE", "flags", "replace",
	"rtcp-mux", "direction", "received-from", "codec", "ptime", "ptime-reverse", "SDES",
	"DTLS", "delete-delay", "code", "digit", "duration", "volume", "pause"]

COMMANDS = ["offer", "answer", "delete", "query", "list", "statistics", "ping", "play DTMF"]


class Gen:
	"""Seeded source of (category, payload, must_be_error) tuples."""

	def __init__(self, seed):
		self.rng = random.Random(seed)
		r = self.rng
		self.cats = [
			(self.random_bytes, 8), (self.random_after_d, 6), (self.random_json, 4),
			(self.truncated, 10), (self.huge_length, 8), (self.bad_int, 4),
			(self.deep, 6), (self.wrong_type, 20), (self.multi_wrong, 8),
			(self.flipped, 12), (self.odd_dict, 5), (self.empty, 1), (self.valid, 4),
		]
		self.weights = [w for _, w in self.cats]
		self.pool_ids = ["abuse-call-%d" % i for i in range(POOL)]
		self.pool_tags = ["abuse-tag-%d" % i for i in range(POOL)]
		self.r = r

	# ---- building blocks
	def template(self, cmd=None):
		r = self.r
		cmd = cmd or r.choice(COMMANDS)
		m = {}
		if cmd in ("offer", "answer", "delete", "query", "play DTMF"):
			m["call-id"] = r.choice(self.pool_ids)
			m["from-tag"] = r.choice(self.pool_tags)
		if cmd == "answer" or (cmd == "delete" and r.random() < 0.3):
			m["to-tag"] = r.choice(self.pool_tags)
		m["command"] = cmd
		if cmd in ("offer", "answer"):
			m["sdp"] = SDP
			m["flags"] = r.sample(["trust-address", "symmetric", "strict-source",
					       "loop-protect", "codec-strip-PCMA", "SDES-off",
					       "port-latching", "asymmetric", "replace-origin"], 3)
			m["replace"] = ["origin", "session-connection"]
			m["received-from"] = ["IP4", "127.0.0.1"]
			if r.random() < 0.5:
				m["codec"] = {"strip": ["PCMA"], "mask": ["G722"], "transcode": ["PCMU"]}
			if r.random() < 0.3:
				m["rtcp-mux"] = ["offer"]
				m["ICE"] = "remove"
				m["transport-protocol"] = "RTP/AVP"
			if r.random() < 0.2:
				m["direction"] = ["default", "default"]
				m["label"] = "a"
		if cmd == "delete" and r.random() < 0.5:
			m["delete-delay"] = 0
		if cmd == "play DTMF":
			m.update({"code": "5", "duration": 100, "volume": 10, "pause": 100})
		return m

	def wrong_value(self, key=None):
		r = self.r
		if key in IDENTITY:
			# JSON numbers beyond 64 bits arrive as text (a valid call-id): none here
			return r.choice([0, -1, 2**31, [], ["x"], {"x": "y"}, [[1]]])
		k = r.randrange(11)
		if k == 0:
			return r.choice([0, -1, 1, 2**31, -2**31, 2**63 - 1, -2**63, 10**30])
		if k == 1:
			return [r.choice(["x", 1, {}, []]) for _ in range(r.randrange(4))]
		if k == 2:
			return {"x": r.choice([1, "y", [1]]), "": ""}
		if k == 3:
			return ""
		if k == 4:
			return "x" * r.choice([1000, 5000, 20000])
		if k == 5:
			return bytes(r.getrandbits(8) for _ in range(r.randrange(1, 40)))
		if k == 6:
			return [[[["deep"]]]]
		if k == 7:
			return ["IP4"] if r.random() < 0.5 else ["IP9", "::1", "x"]
		if k == 8:
			return {"strip": {"x": 1}, "mask": 5, "transcode": [[1]], "set": ["opus/0/999"]}
		if k == 9:
			return "\x00\xff\x7f"
		return r.choice(["-1", "99999999999999999999", "0x10", "1e3", " 5", "PCMU/0"])

	def encode(self, m, use_json=None):
		r = self.r
		if use_json is None:
			use_json = r.random() < 0.3
		if use_json:
			return json.dumps(_jsonable(m)).encode("utf-8", "surrogatepass")
		return bencode(m)

	# ---- categories: each returns (payload, must_be_error)
	def random_bytes(self):
		n = self.r.randrange(0, 400)
		b = self.r.randbytes(n)
		while b[:1] in (b"d", b"{"):
			b = bytes([self.r.randrange(0x21, 0x7b)]) + b[1:]
		return b, True

	def random_after_d(self):
		b = self.r.randbytes(self.r.randrange(0, 200))
		return b"d" + b, b[:1] != b"e"		# "de": an empty dict, still an error

	def random_json(self):
		r = self.r
		alphabet = b'{}[]":,0123456789.-+eEtrufalsn \\u"abc'
		return b"{" + bytes(r.choice(alphabet) for _ in range(r.randrange(0, 120))), True

	def truncated(self):
		full = self.encode(self.template())
		return full[:self.r.randrange(1, len(full))], True

	def huge_length(self):
		r = self.r
		lens = [b"99999999", b"4294967296", b"18446744073709551616", b"65536", b"65535",
			b"2147483648", b"9" * 40, b"-1", b"00000000001", b"+5"]
		L = r.choice(lens)
		forms = [b"d" + L + b":command4:pinge",
			 b"d7:command" + L + b":ping",
			 b"d7:command4:ping3:sdp" + L + b":v=0e",
			 b"l" + L + b":x",
			 L + b":",
			 b"d7:command5:offer7:call-id" + L + b":x8:from-tag1:te"]
		return r.choice(forms), True

	def bad_int(self):
		r = self.r
		ints = [b"i-0e", b"i00e", b"ie", b"i99999999999999999999e", b"i-9223372036854775809e",
			b"i9223372036854775808e", b"i1.5e", b"i 5e", b"i5", b"i--1e", b"i+1e"]
		v = r.choice(ints)
		forms = [b"d7:command6:delete7:call-id1:x12:delete-delay" + v + b"e",
			 b"d7:command9:play DTMF7:call-id1:x8:from-tag1:t4:code" + v + b"e",
			 b"d7:command4:ping1:x" + v + b"e", v]
		# whether a borderline integer (i-0e, 20 digits) is refused is the parser's call:
		# only a well-formed reply is required
		return r.choice(forms), False

	def deep(self):
		r = self.r
		depth = r.choice([10, 64, 100, 1000, 5000, 20000])
		kind = r.randrange(6)
		if kind == 0:
			return b"l" * depth + b"e" * depth, True
		if kind == 1:
			return b"d1:a" * depth + b"i1e" + b"e" * depth, True
		if kind == 2:
			return b"d7:command4:ping5:flags" + b"l" * depth + b"e" * depth + b"e", \
				depth > 64
		if kind == 3:
			return b"[" * depth + b"]" * depth, True
		if kind == 4:
			return b'{"command":"ping","x":' + b"[" * depth + b"]" * depth + b"}", depth > 64
		return b"l" * depth, True

	def wrong_type(self):
		m = self.template()
		keys = KEYS if self.r.random() < 0.7 else list(m)
		k = self.r.choice(keys)
		m[k] = self.wrong_value(k)
		return self.encode(m), False

	def multi_wrong(self):
		m = self.template()
		for k in self.r.sample(KEYS, self.r.randrange(2, 8)):
			m[k] = self.wrong_value(k)
		return self.encode(m), False

	def flipped(self):
		r = self.r
		m = self.template()
		use_json = r.random() < 0.3
		ident = {k: m[k] for k in IDENTITY if k in m}
		b = bytearray(self.encode(m, use_json))
		# flips start after the identity keys (the encoding of ident minus its closer)
		start = len(self.encode(ident, use_json)) - 1 if ident else 1
		for _ in range(r.randrange(1, 9)):
			if len(b) <= start + 1:
				break
			op, i = r.randrange(3), r.randrange(start, len(b))
			if op == 0:
				b[i] = r.getrandbits(8)
			elif op == 1:
				b.insert(i, r.choice(b"0123456789:deli{}[]\",\x00"))
			elif len(b) > 1:
				del b[i]
		return bytes(b), False

	def odd_dict(self):
		r = self.r
		forms = [b"d7:command4:ping7:command5:offere",			# duplicate key
			 b"d0:0:7:command4:pinge",					# empty key
			 b"di1e1:x7:command4:pinge",					# int key
			 b"dl1:xe1:x7:command4:pinge",					# list key
			 b"d7:command4:ping1:xe",					# key without value
			 b"d7:command4:pingee",						# trailing bytes
			 b"d7:command4:pinge" + b"x" * 100,
			 b'{"command":"ping","command":"offer"}',
			 b'{"":"","command":"ping"}',
			 b'{"command":"ping"} {"command":"ping"}',
			 b'{"command":"\\u0000ping"}', b'{"command":"p\\ud800ing"}',
			 b'{"command":"ping",}', b"{'command':'ping'}", b'{"command":null}',
			 b'{"command":true}', b'{"command":1e999}']
		f = r.choice(forms)
		return f, False

	def empty(self):
		return b"", True

	def valid(self):
		m = self.template(self.r.choice(["ping", "list", "query", "delete", "offer",
						 "statistics"]))
		return self.encode(m), False

	def next(self):
		fn = self.r.choices(self.cats, weights=self.weights)[0][0]
		payload, must = fn()
		if len(payload) > 65000:	# stay sendable (UDP); a cut message is still broken
			payload, must = payload[:65000], True
		return fn.__name__, payload, must


def _answer_sdp(pt, rtpmap, te):
	return SDP.replace("m=audio 20000 RTP/AVP 0 8 101", "m=audio 20002 RTP/AVP %d%s"
			   % (pt, " 101" if te else "")).replace(
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n", "a=rtpmap:%d %s\r\n" % (pt, rtpmap))


def prime(ng):
	"""Take every code path the flood can reach once before the first RSS sample, so that
	one-time allocations (codec libraries set up on the first transcoded answer, the
	first DTMF) are not taken for growth: transcoded answers to PCMU, PCMA and G.722
	offers, with and without telephone-event, a DTMF, a delete."""
	for i, (pt, rtpmap, te) in enumerate([(0, "PCMU/8000", False), (8, "PCMA/8000", True),
					      (9, "G722/8000", False)]):
		cid = "abuse-prime-%d" % i
		o = {"command": "offer", "call-id": cid, "from-tag": "f", "sdp": SDP,
		     "codec": {"transcode": ["G722", "PCMA"]}}
		ok(ng.req(o), "prime offer")
		ok(ng.req({"command": "answer", "call-id": cid, "from-tag": "f", "to-tag": "t",
			   "sdp": _answer_sdp(pt, rtpmap, te)}), "prime answer")
		ng.req({"command": "play DTMF", "call-id": cid, "from-tag": "f", "code": "5"})
		ok(ng.req({"command": "delete", "call-id": cid, "from-tag": "f"}), "prime delete")


def _cost(dgram):
	"""What a datagram in flight is counted as against WINDOW_BYTES."""
	return len(dgram) + 1024 if len(dgram) <= BIG else WINDOW_BYTES


def _jsonable(v):
	if isinstance(v, bytes):
		return v.decode("utf-8", "surrogateescape")
	if isinstance(v, dict):
		return {k: _jsonable(x) for k, x in v.items()}
	if isinstance(v, list):
		return [_jsonable(x) for x in v]
	return v


def _rss_kib(pid):
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])
	raise AssertionError("no VmRSS for pid %d" % pid)


class Flood:
	"""Windowed sender: every cookie'd datagram tracked until its reply arrives."""

	def __init__(self, addr, gen):
		self.addr, self.gen = addr, gen
		self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
		self.sock.bind(("127.0.0.1", 0))
		self.sock.connect(addr)
		self.out = {}			# cookie -> [datagram, sent_at, tries, category, must]
		self.out_bytes = 0
		self.n = 0
		self.stats = {"sent": 0, "cookie": 0, "no_cookie": 0, "replies": 0, "error": 0,
			      "ok": 0, "pong": 0, "retransmits": 0, "lost": 0, "unexpected": 0}
		self.bad = []			# (category, datagram head, problem)

	def _next_datagram(self):
		cat, payload, must = self.gen.next()
		self.n += 1
		if self.gen.r.random() < 0.01:
			# no cookie: nothing to answer; strip every space
			return None, cat, payload.replace(b" ", b"_") or b"x", False
		ck = ("ab%d" % self.n).encode()
		return ck, cat, ck + b" " + payload, must

	def _send(self, ck, dgram, cat, must):
		try:
			self.sock.send(dgram)
		except OSError as e:
			if len(dgram) <= 65507:
				raise
			# the kernel refuses datagrams over the UDP limit: not the relay's business
			self.stats["oversize"] = self.stats.get("oversize", 0) + 1
			return
		self.stats["sent"] += 1
		if ck is None:
			self.stats["no_cookie"] += 1
			return
		self.stats["cookie"] += 1
		self.out[ck] = [dgram, time.monotonic(), 1, cat, must]
		self.out_bytes += _cost(dgram)

	def _check(self, data):
		ck, payload = split_reply(data)
		ent = self.out.pop(ck.encode("utf-8", "surrogateescape") if ck else b"", None)
		if ent is None:
			self.stats["unexpected"] += 1
			if len(self.bad) < 20:
				self.bad.append(("?", data[:60], "reply to no outstanding cookie"))
			return
		self.out_bytes -= _cost(ent[0])
		self.stats["replies"] += 1
		try:
			d = decode_payload(payload)
			res = d.get("result")
		except Exception as e:		# noqa: BLE001 - any decode failure is a finding
			d, res = None, "undecodable: %s" % e
		if res == "error" and isinstance(d.get("error-reason"), str) and d["error-reason"]:
			self.stats["error"] += 1
		elif res in ("ok", "pong") and not ent[4]:
			self.stats[res] += 1
		elif len(self.bad) < 20:
			self.bad.append((ent[3], ent[0][:80], "reply %r" % (data[:120],)))
		else:
			self.bad.append(None)

	def _recv(self, timeout):
		self.sock.settimeout(timeout)
		try:
			data = self.sock.recv(70000)
		except socket.timeout:
			return False
		self._check(data)
		self.sock.setblocking(False)
		try:
			while True:
				self._check(self.sock.recv(70000))
		except (BlockingIOError, InterruptedError):
			pass
		return True

	def _retransmit(self):
		now = time.monotonic()
		for ck, ent in list(self.out.items()):
			if now - ent[1] < 1.0:
				continue
			if ent[2] >= 4:
				self.stats["lost"] += 1
				del self.out[ck]
				self.out_bytes -= _cost(ent[0])
				if len(self.bad) < 20:
					self.bad.append((ent[3], ent[0][:80], "no reply after 4 tries"))
				continue
			ent[1], ent[2] = now, ent[2] + 1
			self.stats["retransmits"] += 1
			self.sock.send(ent[0])

	def run(self, count):
		last_rt = time.monotonic()
		for _ in range(count):
			ck, cat, dgram, must = self._next_datagram()
			while self.out and (len(self.out) >= WINDOW or len(dgram) > BIG or
					    self.out_bytes + _cost(dgram) > WINDOW_BYTES):
				if not self._recv(0.25) or time.monotonic() - last_rt > 0.5:
					self._retransmit()
					last_rt = time.monotonic()
			self._send(ck, dgram, cat, must)
		self.drain()

	def drain(self):
		deadline = time.monotonic() + 10
		while self.out and time.monotonic() < deadline:
			if not self._recv(0.25):
				self._retransmit()

	def close(self):
		self.sock.close()


@pytest.mark.sluice_only
def test_ng_malformed_flood(relay):
	r = relay(ng_cache_max_bytes=CACHE_CAP)
	sanitized = is_sanitized(r.argv[0])
	live = Call(r).setup()
	res = exchange(live, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])

	gen = Gen(SEED)
	fl = Flood(r.ng_addr, gen)
	t0 = time.monotonic()
	prime(r.ng)
	fl.run(min(WARMUP, COUNT))
	time.sleep(0.2)
	rss0 = _rss_kib(r.proc.pid)
	fl.run(max(COUNT - WARMUP, 0))
	time.sleep(0.2)
	rss1 = _rss_kib(r.proc.pid)
	secs = time.monotonic() - t0
	fl.close()
	st = fl.stats
	print("ng flood: seed %d, %d datagrams in %.1f s (%.0f/s): %r; VmRSS %d -> %d KiB (%+d)"
	      % (SEED, st["sent"], secs, st["sent"] / secs, st, rss0, rss1, rss1 - rss0))

	assert r.alive(), "relay died during the flood:\n" + r.log()[-3000:]
	bad = [b for b in fl.bad if b]
	assert not fl.bad, "%d bad answers (seed %d), first: %r" % (len(fl.bad), SEED, bad[:5])
	assert st["lost"] == 0 and st["unexpected"] == 0
	# every datagram with a cookie answered exactly once; none without
	assert st["replies"] == st["cookie"]
	assert st["error"] + st["ok"] + st["pong"] == st["cookie"]
	assert st["sent"] + st.get("oversize", 0) == COUNT
	assert st["no_cookie"] > 0 and st["error"] > 0.8 * st["cookie"]

	ng = ok(r.ng.req({"command": "statistics"}))["statistics"]["ng"]
	assert ng["cachebytes"] <= CACHE_CAP and ng["cachemaxbytes"] == CACHE_CAP
	assert ng["cacheevictions"] > 0, "the flood never filled the capped cache: %r" % ng
	if not sanitized:
		assert rss1 - rss0 <= 1024, "VmRSS grew by %d KiB after the warm-up" % (rss1 - rss0)

	# the call set up before keeps forwarding; a new one works; only the pool is left
	res = exchange(live, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	calls = ok(r.ng.req({"command": "list"}))["calls"]
	assert set(calls) - set(gen.pool_ids) == {live.cid}
	fresh = Call(r).setup()
	res = exchange(fresh, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	for c in (live, fresh):
		ok(c.delete())
		c.close()
