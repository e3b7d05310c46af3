"""Normalization of NG replies before the comparison: only what is random by nature.

- media ports the relay chose (anything in its own range): P<n>, numbered per address in
  order of first appearance, with "+1" for the port after a known one (a=rtcp), also
  as a candidate's rport;
- ICE ufrag, pwd and candidate foundations: U<n>, W<n>, F<n> in order of first appearance
  (so "the same value again" stays visible);
- SDES keys (inline:...), DTLS fingerprints: <key>, <fingerprint>;
- the loop-protection marker, whose name and value are the relay's own
  (a=rtpengine:ID, a=sluice:ID): a=<loop-marker>;
- delete/query replies: only "result" is compared (their statistics, timestamps and
  schema are outside this test);
- a publish reply's o= session id and version and its s=, which are the relay's own
  (the relay writes that answer itself): o=- S<n> S<n> ..., s=<relay>.
Everything else is compared as it is, line by line."""

import re


class Tokens:
	"""Per-transcript token tables, so the same random value maps to the same token."""

	def __init__(self, relay):
		self.relay = relay
		self.ports = {}         # (addr, port) -> token
		self.count = {}         # addr -> n
		self.names = {}         # (kind, value) -> token
		self.kinds = {}

	def port(self, addr, port):
		port = int(port)
		if not self.relay.in_range(port):
			return str(port)
		key = (addr, port)
		if key not in self.ports:
			prev = self.ports.get((addr, port - 1))
			if prev and "+" not in prev:
				self.ports[key] = prev + "+1"
			else:
				n = self.count.get(addr, 0) + 1
				self.count[addr] = n
				self.ports[key] = "P%d" % n
		return self.ports[key]

	def name(self, kind, value):
		key = (kind, value)
		if key not in self.names:
			n = self.kinds.get(kind, 0) + 1
			self.kinds[kind] = n
			self.names[key] = "%s%d" % (kind, n)
		return self.names[key]


def _conn(line):
	parts = line[2:].split()
	return parts[2].split("/")[0] if len(parts) >= 3 else "?"


def own_session(lines, tok):
	"""The o= numbers and s= of an SDP the relay wrote as its own (publish)."""
	res = []
	for line in lines:
		f = line.split(" ")
		if line.startswith("o=") and len(f) >= 3:
			f[1], f[2] = tok.name("S", f[1]), tok.name("S", f[2])
			line = " ".join(f)
		elif line.startswith("s="):
			line = "s=<relay>"
		res.append(line)
	return res


def sdp_lines(sdp, tok):
	"""SDP text -> list of normalized lines."""
	out = [l for l in sdp.replace("\r\n", "\n").split("\n") if l]
	# ports are numbered per address: the media's, which may follow its m= line
	res = []
	addr = "?"
	blocks = _media_addrs(out)
	mi = -1
	for line in out:
		if line.startswith("m="):
			mi += 1
			addr = blocks[mi]
			f = line.split(" ")
			p = f[1].split("/")
			p[0] = tok.port(addr, p[0])
			f[1] = "/".join(p)
			line = " ".join(f)
		elif line.startswith("a=rtcp:"):
			m = re.match(r"a=rtcp:(\d+)(.*)", line)
			if m:
				line = "a=rtcp:%s%s" % (tok.port(addr, m.group(1)), m.group(2))
		elif line.startswith("a=candidate:"):
			f = line[len("a=candidate:"):].split(" ")
			if len(f) >= 6:
				f[0] = tok.name("F", f[0])
				f[5] = tok.port(f[4], f[5])
				# a relay candidate's related address may be the relay's own
				for k in range(6, len(f) - 1):
					if f[k] == "rport" and k >= 2 and f[k - 2] == "raddr" and \
							f[k + 1].isdigit():
						f[k + 1] = tok.port(f[k - 1], f[k + 1])
				line = "a=candidate:" + " ".join(f)
		elif line.startswith("a=ice-ufrag:"):
			line = "a=ice-ufrag:" + tok.name("U", line[12:])
		elif line.startswith("a=ice-pwd:"):
			line = "a=ice-pwd:" + tok.name("W", line[10:])
		elif line.startswith("a=crypto:"):
			line = re.sub(r"inline:[A-Za-z0-9+/=]+", "inline:<key>", line)
		elif line.startswith("a=fingerprint:"):
			f = line.split(" ", 1)
			line = f[0] + " <fingerprint>"
		elif re.match(r"a=(rtpengine|sluice):", line):
			line = "a=<loop-marker>"
		res.append(line)
	return res


def _media_addrs(lines):
	"""Effective connection address of each m= section."""
	sess, addrs, cur = "?", [], None
	for line in lines:
		if line.startswith("m="):
			if cur is not None:
				addrs.append(cur)
			cur = sess
		elif line.startswith("c="):
			if cur is None:
				sess = _conn(line)
			else:
				cur = _conn(line)
	if cur is not None:
		addrs.append(cur)
	return addrs


STATS_COMMANDS = ("delete", "query")


def reply(command, rep, tok):
	"""NG reply dict -> list of text lines to compare."""
	if not isinstance(rep, dict):
		return ["<no reply: %r>" % (rep,)]
	if command in STATS_COMMANDS:
		return ["result: %s" % rep.get("result")]
	out = []
	for k in sorted(rep):
		v = rep[k]
		if k == "sdp" and isinstance(v, str):
			out.append("sdp:")
			lines = sdp_lines(v, tok)
			if command == "publish":
				lines = own_session(lines, tok)
			out += ["  " + l for l in lines]
		else:
			out.append("%s: %s" % (k, v))
	return out
