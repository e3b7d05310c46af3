"""Test peers for SRTP: SDES keys and SRTP sessions (libsrtp2 through python3-pylibsrtp),
DTLS-SRTP endpoints (OpenSSL through python3-openssl), and STUN binding requests with
short-term credentials (hmac + crc32, RFC 5389)."""

import base64
import binascii
import hashlib
import hmac
import os
import socket
import struct
import time
import zlib

from pylibsrtp import Policy, Session

SUITES = {
	# name: (pylibsrtp profile, master key + salt bytes)
	"AES_CM_128_HMAC_SHA1_80": (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30),
	"AES_CM_128_HMAC_SHA1_32": (Policy.SRTP_PROFILE_AES128_CM_SHA1_32, 30),
	"AEAD_AES_128_GCM": (Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28),
	"AEAD_AES_256_GCM": (Policy.SRTP_PROFILE_AEAD_AES_256_GCM, 44),
}


class SdesKey:
	def __init__(self, suite="AES_CM_128_HMAC_SHA1_80", tag=1, key=None):
		self.suite = suite
		self.tag = tag
		self.key = key or os.urandom(SUITES[suite][1])

	def line(self):
		return "a=crypto:%d %s inline:%s" % (self.tag, self.suite,
						     base64.b64encode(self.key).decode())

	@staticmethod
	def parse(value):
		"""a=crypto value (after 'crypto:') -> SdesKey."""
		f = value.split()
		b64 = f[2].split(":", 1)[1].split("|")[0]
		b64 += "=" * (-len(b64) % 4)
		return SdesKey(f[1], int(f[0]), base64.b64decode(b64))

	def tx(self):
		return Session(Policy(key=self.key, ssrc_type=Policy.SSRC_ANY_OUTBOUND,
				      srtp_profile=SUITES[self.suite][0]))

	def rx(self):
		return Session(Policy(key=self.key, ssrc_type=Policy.SSRC_ANY_INBOUND,
				      srtp_profile=SUITES[self.suite][0]))


def sdp_with(phone, proto, extra=(), **kw):
	"""phone.sdp() with another protocol and extra media-level a= lines."""
	s = phone.sdp(proto=proto, **kw)
	lines = s.rstrip("\r\n").split("\r\n")
	return "\r\n".join(lines + list(extra)) + "\r\n"


# ---- STUN ----

MAGIC = 0x2112A442


def _attr(t, v):
	return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def stun_request(username, pwd, tid=None, priority=0x6e7f00ff, controlling=True,
		 use_candidate=False, integrity=True, tiebreaker=None):
	"""A binding request with USERNAME, PRIORITY, ICE-CONTROLLING (or -CONTROLLED),
	MESSAGE-INTEGRITY, FINGERPRINT. Returns (tid, bytes)."""
	tid = tid or os.urandom(12)
	attrs = _attr(0x0006, username.encode())
	attrs += _attr(0x0024, struct.pack("!I", priority))
	tb = os.urandom(8) if tiebreaker is None else struct.pack("!Q", tiebreaker)
	attrs += _attr(0x802A if controlling else 0x8029, tb)
	if use_candidate:
		attrs += _attr(0x0025, b"")
	if integrity:
		hdr = struct.pack("!HHI", 0x0001, len(attrs) + 24, MAGIC) + tid
		mac = hmac.new(pwd.encode(), hdr + attrs, hashlib.sha1).digest()
		attrs += _attr(0x0008, mac)
	hdr = struct.pack("!HHI", 0x0001, len(attrs) + 8, MAGIC) + tid
	crc = (zlib.crc32(hdr + attrs) ^ 0x5354554E) & 0xFFFFFFFF
	attrs += _attr(0x8028, struct.pack("!I", crc))
	return tid, struct.pack("!HHI", 0x0001, len(attrs), MAGIC) + tid + attrs


def stun_success(req, pwd, mapped):
	"""Binding success response to parsed request req: XOR-MAPPED-ADDRESS of mapped
	(ip, port), MESSAGE-INTEGRITY with pwd, FINGERPRINT."""
	port = mapped[1] ^ (MAGIC >> 16)
	if ":" in mapped[0]:	# IPv6: XORed with the magic cookie and the transaction id
		key = struct.pack("!I", MAGIC) + req["tid"]
		ip6 = socket.inet_pton(socket.AF_INET6, mapped[0])
		attrs = _attr(0x0020, struct.pack("!BBH", 0, 2, port) + bytes(a ^ b for a, b in zip(ip6, key)))
	else:
		ip = struct.unpack("!I", socket.inet_aton(mapped[0]))[0] ^ MAGIC
		attrs = _attr(0x0020, struct.pack("!BBHI", 0, 1, port, ip))
	hdr = struct.pack("!HHI", 0x0101, len(attrs) + 24, MAGIC) + req["tid"]
	attrs += _attr(0x0008, hmac.new(pwd.encode(), hdr + attrs, hashlib.sha1).digest())
	hdr = struct.pack("!HHI", 0x0101, len(attrs) + 8, MAGIC) + req["tid"]
	crc = (zlib.crc32(hdr + attrs) ^ 0x5354554E) & 0xFFFFFFFF
	attrs += _attr(0x8028, struct.pack("!I", crc))
	return struct.pack("!HHI", 0x0101, len(attrs), MAGIC) + req["tid"] + attrs


def stun_error(req, code, pwd):
	"""Binding error response (e.g. 487 Role Conflict) to parsed request req, with
	MESSAGE-INTEGRITY with pwd and FINGERPRINT."""
	attrs = _attr(0x0009, struct.pack("!HBB", 0, code // 100, code % 100) +
		      (b"Role Conflict" if code == 487 else b"Error"))
	hdr = struct.pack("!HHI", 0x0111, len(attrs) + 24, MAGIC) + req["tid"]
	attrs += _attr(0x0008, hmac.new(pwd.encode(), hdr + attrs, hashlib.sha1).digest())
	hdr = struct.pack("!HHI", 0x0111, len(attrs) + 8, MAGIC) + req["tid"]
	crc = (zlib.crc32(hdr + attrs) ^ 0x5354554E) & 0xFFFFFFFF
	attrs += _attr(0x8028, struct.pack("!I", crc))
	return struct.pack("!HHI", 0x0111, len(attrs), MAGIC) + req["tid"] + attrs


def stun_check_fingerprint(data):
	"""True if the message ends with a FINGERPRINT attribute that is right."""
	if len(data) < 28 or struct.unpack_from("!HH", data, len(data) - 8) != (0x8028, 4):
		return False
	want = (zlib.crc32(data[:-8]) ^ 0x5354554E) & 0xFFFFFFFF
	return struct.unpack_from("!I", data, len(data) - 4)[0] == want


def stun_parse(data):
	"""-> dict(type, tid, attrs={type: value}) or None."""
	if len(data) < 20:
		return None
	t, ln, magic = struct.unpack_from("!HHI", data)
	if magic != MAGIC or 20 + ln != len(data):
		return None
	attrs, off = {}, 20
	while off + 4 <= len(data):
		at, al = struct.unpack_from("!HH", data, off)
		attrs[at] = data[off + 4:off + 4 + al]
		off += 4 + al + (-al % 4)
	return dict(type=t, tid=data[8:20], attrs=attrs)


def stun_error_code(msg):
	v = msg["attrs"].get(0x0009)
	return None if v is None else (v[2] & 7) * 100 + v[3]


def stun_check_integrity(data, pwd):
	"""True if MESSAGE-INTEGRITY of a parsed response verifies with pwd."""
	off = 20
	while off + 4 <= len(data):
		at, al = struct.unpack_from("!HH", data, off)
		if at == 0x0008:
			hdr = struct.pack("!HH", struct.unpack_from("!H", data)[0], off - 20 + 24) + data[4:20]
			mac = hmac.new(pwd.encode(), hdr + data[20:off], hashlib.sha1).digest()
			return mac == data[off + 4:off + 24]
		off += 4 + al + (-al % 4)
	return False


def xor_mapped(msg):
	v = msg["attrs"].get(0x0020)
	if not v:
		return None
	port = struct.unpack_from("!H", v, 2)[0] ^ (MAGIC >> 16)
	if v[1] == 0x02:	# IPv6: XORed with the magic cookie and the transaction id
		key = struct.pack("!I", MAGIC) + msg["tid"]
		return socket.inet_ntop(socket.AF_INET6, bytes(a ^ b for a, b in zip(v[4:20], key))), port
	ip = struct.unpack_from("!I", v, 4)[0] ^ MAGIC
	return socket.inet_ntoa(struct.pack("!I", ip)), port


# ---- DTLS ----

def make_cert():
	"""(key PEM, cert PEM, 'sha-256 AA:BB:..') of a fresh self-signed EC certificate."""
	import datetime
	from cryptography import x509
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import ec
	from cryptography.x509.oid import NameOID

	key = ec.generate_private_key(ec.SECP256R1())
	name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e2e-peer")])
	now = datetime.datetime.utcnow()
	cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
		.public_key(key.public_key()).serial_number(x509.random_serial_number())
		.not_valid_before(now - datetime.timedelta(days=1))
		.not_valid_after(now + datetime.timedelta(days=30))
		.sign(key, hashes.SHA256()))
	der = cert.public_bytes(serialization.Encoding.DER)
	fp = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
	return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
				  serialization.NoEncryption()),
		cert.public_bytes(serialization.Encoding.PEM), "sha-256 " + fp)


class DtlsPeer:
	"""One DTLS-SRTP endpoint over a UDP socket, memory BIOs, SRTP_AES128_CM_SHA1_80.
	cert: make_cert()'s tuple, to share one certificate (one a=fingerprint) between the
	RTP and the RTCP component's endpoints; None: a fresh one."""

	PROFILE = b"SRTP_AES128_CM_SHA1_80"

	def __init__(self, sock, client, cert=None):
		from OpenSSL import SSL, crypto
		self.sock = sock
		self.client = client
		self.cert = cert or make_cert()
		key_pem, cert_pem, self.fingerprint = self.cert
		ctx = SSL.Context(SSL.DTLS_METHOD)
		ctx.use_privatekey(crypto.load_privatekey(crypto.FILETYPE_PEM, key_pem))
		ctx.use_certificate(crypto.load_certificate(crypto.FILETYPE_PEM, cert_pem))
		ctx.set_tlsext_use_srtp(self.PROFILE)
		ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *a: True)
		self.conn = SSL.Connection(ctx, None)
		if client:
			self.conn.set_connect_state()
		else:
			self.conn.set_accept_state()
		self.done = False
		self.failed = False
		self.SSL = SSL

	def _flush(self, dest):
		while True:
			try:
				data = self.conn.bio_read(65536)
			except self.SSL.WantReadError:
				return
			if not data:
				return
			self.sock.sendto(data, dest)

	def _step(self, dest):
		try:
			self.conn.do_handshake()
			self.done = True
		except self.SSL.WantReadError:
			pass
		except self.SSL.Error:		# e.g. the relay refused our certificate
			self.failed = True
		self._flush(dest)

	def handshake(self, dest, timeout=5.0, on_other=None):
		"""Run the handshake against dest. Datagrams that are not DTLS go to on_other."""
		deadline = time.monotonic() + timeout
		if self.client:
			self._step(dest)
		last = time.monotonic()
		while not self.done and not self.failed and time.monotonic() < deadline:
			self.sock.settimeout(0.2)
			try:
				data, addr = self.sock.recvfrom(65536)
			except socket.timeout:
				if self.client and time.monotonic() - last > 1.0:
					self.conn.DTLSv1_handle_timeout() if hasattr(self.conn, "DTLSv1_handle_timeout") else None
					self._flush(dest)
					last = time.monotonic()
				continue
			if not (20 <= data[0] <= 63):
				if on_other:
					on_other(data, addr)
				continue
			self.conn.bio_write(data)
			self._step(dest)
		if self.done:		# the last flight (e.g. server Finished)
			self._flush(dest)
		return self.done

	def peer_fingerprint(self):
		der = self.conn.get_peer_certificate().to_cryptography().public_bytes(
			__import__("cryptography.hazmat.primitives.serialization",
				   fromlist=["Encoding"]).Encoding.DER)
		return "sha-256 " + ":".join("%02X" % b for b in hashlib.sha256(der).digest())

	def srtp(self):
		"""(tx Session, rx Session) from the exported keying material (RFC 5764 4.2)."""
		km = self.conn.export_keying_material(b"EXTRACTOR-dtls_srtp", 2 * 30)
		ck, sk, cs, ss = km[0:16], km[16:32], km[32:46], km[46:60]
		mine, theirs = (ck + cs, sk + ss) if self.client else (sk + ss, ck + cs)
		prof = Policy.SRTP_PROFILE_AES128_CM_SHA1_80
		tx = Session(Policy(key=mine, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=prof))
		rx = Session(Policy(key=theirs, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=prof))
		return tx, rx
