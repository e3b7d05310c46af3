"""RTP/RTCP packet builders, a softphone-like endpoint (Phone) and a tiny SDP reader."""

import random
import socket
import struct
import time

RTP_HDR = struct.Struct("!BBHII")


def rtp_packet(pt=0, seq=0, ts=0, ssrc=0x12345678, payload=b"", marker=False):
	"""RTP v2, no CSRC/extension/padding."""
	return RTP_HDR.pack(0x80, (0x80 if marker else 0) | (pt & 0x7F), seq & 0xFFFF,
			    ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


def rtp_parse(data):
	"""-> dict(pt, seq, ts, ssrc, marker, payload) or None if not RTP v2."""
	if len(data) < 12 or data[0] >> 6 != 2:
		return None
	b0, b1, seq, ts, ssrc = RTP_HDR.unpack_from(data)
	off = 12 + 4 * (b0 & 0x0F)
	return dict(pt=b1 & 0x7F, marker=bool(b1 & 0x80), seq=seq, ts=ts, ssrc=ssrc,
		    payload=data[off:])


def _rr_block(ssrc, lost=0, ext_seq=0, jitter=0):
	return struct.pack("!IIIIII", ssrc, lost & 0xFFFFFF, ext_seq, jitter, 0, 0)


def rtcp_sr(ssrc, ntp=None, rtp_ts=0, pkts=0, octets=0, report_ssrc=None):
	"""Sender report (PT 200), optionally with one report block."""
	if ntp is None:
		now = time.time() + 2208988800
		ntp = (int(now) << 32) | int((now % 1) * (1 << 32))
	blocks = _rr_block(report_ssrc) if report_ssrc is not None else b""
	rc = 1 if blocks else 0
	body = struct.pack("!IQIII", ssrc, ntp, rtp_ts, pkts, octets) + blocks
	return struct.pack("!BBH", 0x80 | rc, 200, (len(body) + 4) // 4 - 1) + body


def rtcp_rr(ssrc, report_ssrc=None):
	"""Receiver report (PT 201)."""
	blocks = _rr_block(report_ssrc) if report_ssrc is not None else b""
	rc = 1 if blocks else 0
	body = struct.pack("!I", ssrc) + blocks
	return struct.pack("!BBH", 0x80 | rc, 201, (len(body) + 4) // 4 - 1) + body


# Phones live in 20000-29999 (like baresip's ports in the captures): outside the relays'
# media ranges (42000+), which ephemeral port 0 binds could otherwise land in.
PHONE_PORTS = (20000, 29999)


def _bind_pair(family, host):
	"""Two UDP sockets on an even port P and P+1."""
	for _ in range(500):
		p = random.randrange(PHONE_PORTS[0], PHONE_PORTS[1], 2)
		a = socket.socket(family, socket.SOCK_DGRAM)
		b = socket.socket(family, socket.SOCK_DGRAM)
		try:
			a.bind((host, p))
			b.bind((host, p + 1))
			return a, b
		except OSError:
			a.close()
			b.close()
	raise RuntimeError("no free even/odd UDP port pair")


class Phone:
	"""One SIP endpoint's media side: RTP on an even port, RTCP on port+1."""

	def __init__(self, host="127.0.0.1", name="phone", ssrc=None):
		self.host = host
		self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
		self.rtp, self.rtcp = _bind_pair(self.family, host)
		self.port = self.rtp.getsockname()[1]
		self.name = name
		self.ssrc = ssrc if ssrc is not None else random.getrandbits(32)
		self.seq = random.getrandbits(16)
		self.ts = random.getrandbits(32)
		self.sess_id = random.randint(10**6, 2**31)
		self.sess_ver = random.randint(10**6, 2**31)
		for s in (self.rtp, self.rtcp):
			s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

	def close(self):
		self.rtp.close()
		self.rtcp.close()

	@property
	def ipv(self):
		return "IP6" if self.family == socket.AF_INET6 else "IP4"

	def sdp(self, port=None, host=None, medias=1, direction="sendrecv", hold_zero=False,
		ice=False, version=None, codecs=(0, 8, 101), proto="RTP/AVP"):
		"""baresip-like SDP. medias: number of audio m= lines (ports port, port+2...)."""
		port = self.port if port is None else port
		host = host or self.host
		ipv = "IP6" if ":" in host else "IP4"
		chost = ("::" if ipv == "IP6" else "0.0.0.0") if hold_zero else host
		if version is not None:
			self.sess_ver = version
		names = {0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000", 101: "telephone-event/8000"}
		lines = ["v=0",
			 "o=- %d %d IN %s %s" % (self.sess_id, self.sess_ver, ipv, host),
			 "s=-", "c=IN %s %s" % (ipv, chost), "t=0 0", "a=tool:baresip 1.0.0"]
		for i in range(medias):
			mport = 0 if port == 0 else port + 2 * i
			lines.append("m=audio %d %s %s" % (mport, proto, " ".join(map(str, codecs))))
			for c in codecs:
				lines.append("a=rtpmap:%d %s" % (c, names.get(c, "PCMU/8000")))
			if 101 in codecs:
				lines.append("a=fmtp:101 0-15")
			if direction:
				lines.append("a=" + direction)
			lines.append("a=label:%d" % (i + 1))
			if ice:
				lines += ["a=ice-ufrag:Fq4z", "a=ice-pwd:mQ9ZbXmS8nE2cYzKpJ0Qe7Lx",
					  "a=candidate:1 1 UDP 2130706431 %s %d typ host" % (host, mport),
					  "a=candidate:1 2 UDP 2130706430 %s %d typ host" % (host, mport + 1),
					  "a=candidate:2 1 UDP 1694498815 127.0.0.7 %d typ srflx raddr %s rport %d"
					  % (mport + 10000, host, mport)]
			lines += ["a=ssrc:%d cname:sip:%s@%s" % (self.ssrc, self.name, host),
				  "a=minptime:20", "a=ptime:20"]
		return "\r\n".join(lines) + "\r\n"

	def next_rtp(self, payload=None, pt=0, ssrc=None):
		self.seq = (self.seq + 1) & 0xFFFF
		self.ts = (self.ts + 160) & 0xFFFFFFFF
		if payload is None:
			payload = bytes(random.getrandbits(8) for _ in range(160))
		return rtp_packet(pt, self.seq, self.ts, self.ssrc if ssrc is None else ssrc, payload)

	def send_rtp(self, dest, n=50, pps=50, payload_fn=None, sock=None, ssrc=None):
		"""Send n RTP packets to dest at pps (0 = burst). Returns the list of packets sent."""
		sock = sock or self.rtp
		sent = []
		t0 = time.monotonic()
		for i in range(n):
			pl = payload_fn(i) if payload_fn else None
			pkt = self.next_rtp(pl, ssrc=ssrc)
			sock.sendto(pkt, dest)
			sent.append(pkt)
			if pps:
				delay = t0 + (i + 1) / pps - time.monotonic()
				if delay > 0:
					time.sleep(delay)
		return sent

	def send_rtcp(self, dest, n=2, sock=None):
		sock = sock or self.rtcp
		sent = []
		for i in range(n):
			pkt = rtcp_sr(self.ssrc, rtp_ts=self.ts, pkts=i * 10, octets=i * 1720) if i % 2 == 0 \
				else rtcp_rr(self.ssrc, report_ssrc=0xDEADBEEF)
			sock.sendto(pkt, dest)
			sent.append(pkt)
		return sent


def recv_all(sock, timeout=1.0, count=None, idle=None):
	"""Collect (data, addr) from sock until count datagrams, or until timeout overall,
	or (if idle) no datagram for idle seconds."""
	out = []
	deadline = time.monotonic() + timeout
	while count is None or len(out) < count:
		left = deadline - time.monotonic()
		if left <= 0:
			break
		sock.settimeout(min(left, idle) if idle else left)
		try:
			data, addr = sock.recvfrom(65535)
		except socket.timeout:
			if idle:
				break
			continue
		except ConnectionRefusedError:
			continue
		out.append((data, addr))
	return out


def drain(sock):
	sock.setblocking(False)
	try:
		while True:
			sock.recvfrom(65535)
	except (BlockingIOError, ConnectionRefusedError):
		pass
	finally:
		sock.setblocking(True)


def free_tcp_port(host="127.0.0.1"):
	"""A TCP port nobody listens on right now (for a daemon's CLI or HTTP listener)."""
	s = socket.socket()
	s.bind((host, 0))
	port = s.getsockname()[1]
	s.close()
	return port


def udp_socket(host="127.0.0.1"):
	"""A lone UDP socket in the phone port range (NAT'd source, stranger...)."""
	fam = socket.AF_INET6 if ":" in host else socket.AF_INET
	for _ in range(500):
		s = socket.socket(fam, socket.SOCK_DGRAM)
		try:
			s.bind((host, random.randint(*PHONE_PORTS)))
			return s
		except OSError:
			s.close()
	raise RuntimeError("no free UDP port")


class SDP:
	"""Just enough SDP reading for assertions."""

	def __init__(self, text):
		self.text = text
		self.lines = [l for l in text.replace("\r\n", "\n").split("\n") if l]
		self.session = []
		self.medias = []
		cur = self.session
		for l in self.lines:
			if l.startswith("m="):
				f = l[2:].split()
				m = dict(type=f[0], port=int(f[1]), proto=f[2], fmts=f[3:], lines=[])
				self.medias.append(m)
				cur = m["lines"]
			cur.append(l)

	@staticmethod
	def _conn(lines):
		for l in lines:
			if l.startswith("c="):
				f = l[2:].split()
				return f[1], f[2]
		return None

	@property
	def origin(self):
		for l in self.session:
			if l.startswith("o="):
				f = l[2:].split()
				return dict(user=f[0], id=f[1], version=f[2], family=f[4], addr=f[5])
		return None

	@property
	def conn(self):
		"""Session-level c= (family, addr) or None."""
		return self._conn(self.session)

	def mconn(self, i=0):
		"""Effective connection (family, addr) of media i."""
		return self._conn(self.medias[i]["lines"]) or self.conn

	def port(self, i=0):
		return self.medias[i]["port"]

	def attrs(self, i=None, name=None):
		"""a= values of media i (session if None), optionally only attribute 'name'."""
		src = self.session if i is None else self.medias[i]["lines"]
		out = []
		for l in src:
			if not l.startswith("a="):
				continue
			v = l[2:]
			if name is None:
				out.append(v)
			elif v == name or v.startswith(name + ":"):
				out.append(v[len(name) + 1:] if v != name else "")
		return out

	def rtcp_port(self, i=0):
		a = self.attrs(i, "rtcp")
		return int(a[0].split()[0]) if a else None

	def direction(self, i=0):
		for d in ("sendrecv", "sendonly", "recvonly", "inactive"):
			if self.attrs(i, d) or self.attrs(None, d):
				return d
		return None
