#!/usr/bin/python3
"""SRTP streams forwarded by the module (issue 16), run inside the test VM by guest.sh
with the module loaded: the real sluiced (--kernel=on) bridging SDES-SRTP phone A
(libsrtp2 through python3-pylibsrtp: an independent SRTP) to plain phone B, on the
phones and topology of daemon_tests.py.

usage: daemon_srtp.py RESULTS OUTDIR srtp

  daemon_srtp_sdes_in_kernel   AES_CM_128_HMAC_SHA1_80 (the GCM suites at module level,
      sluice-ktest srtp): after a
      userspace start, both directions move to the kernel ("not in kernel" gone, entries
      with the SRTP flag), sequence numbers cross 65535 there; B gets A's packets
      byte-exact, A unprotects B's with the key of the answer, and the libsrtp2 sessions
      carry on across the move (no index lost); a tampered and a replayed packet are
      dropped by the module and counted in query
  daemon_srtp_rekey_reinvite   a re-INVITE with a new a=crypto key: the old key's
      packets are refused, the new key's forwarded, the stream back in the kernel

Appends PASS/FAIL lines to RESULTS."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_tests as T  # noqa: E402  (reads RESULTS OUTDIR GROUP from argv)
from daemon_tests import expect  # noqa: E402
from secure_peer import SdesKey  # noqa: E402

SRTP_FLAG = 0x80		# SLUICE_SF_SRTP


def sdp_savp(phone, key):
	s = phone.sdp().replace("RTP/AVP", "RTP/SAVP")
	return s + key.line() + "\r\n"


class SrtpCall(T.Call):
	"""A (SDES-SRTP, offerer, NAT'd) <-> B (plain RTP) through d."""

	def __init__(self, d, a, b, ka):
		self.d, self.a, self.b = d, a, b
		self.cid = "ksrtp-%012x" % T.random.getrandbits(48)
		self.ftag, self.ttag = "a%08x" % T.random.getrandbits(32), "b%08x" % T.random.getrandbits(32)
		self.negotiate(ka)

	def negotiate(self, ka):
		msg = self.base("offer", sdp=sdp_savp(self.a, ka))
		msg["transport-protocol"] = "RTP/AVP"
		r = self.d.req(msg)
		expect(r.get("result") == "ok", "offer: %r" % r)
		expect("a=crypto" not in r["sdp"], "B was offered SRTP")
		self.b.dest, self.b.dest_rtcp = T.sdp_dest(r["sdp"])
		m = self.base("answer", sdp=self.b.sdp())
		m["to-tag"] = self.ttag
		r = self.d.req(m)
		expect(r.get("result") == "ok", "answer: %r" % r)
		self.a.dest, self.a.dest_rtcp = T.sdp_dest(r["sdp"])
		lines = re.findall(r"^a=crypto:(.*)$", r["sdp"], re.M)
		expect(len(lines) == 1, "answer's a=crypto: %r" % lines)
		self.ks = SdesKey.parse(lines[0].strip())


class Flow:
	"""A's SRTP (tx with A's key) and B's plain RTP, checked at the other end: B must get
	A's plain packets, A must unprotect what it gets (rx with sluice's key) to B's."""

	def __init__(self, call, ka):
		self.c, self.tx, self.rx = call, ka.tx(), call.ks.rx()

	def run(self, n, pps=100, label=""):
		a, b = self.c.a, self.c.b
		sent_a, sent_b, got_a, got_b = [], [], [], []
		for i in range(n):
			p = a.packet()
			a.rtp.sendto(self.tx.protect(p), a.dest)
			sent_a.append(p)
			q = b.packet()
			b.rtp.sendto(q, b.dest)
			sent_b.append(q)
			T.drain(b.rtp, got_b)
			T.drain(a.rtp, got_a)
			T.time.sleep(1.0 / pps)
		T.time.sleep(0.5)
		T.drain(b.rtp, got_b)
		T.drain(a.rtp, got_a)
		expect(sorted(d for d, _ in got_b) == sorted(sent_a),
		       "%s A->B: %d of %d arrived, or changed" % (label, len(got_b), n))
		plain = []
		for d, _ in got_a:
			expect(d not in sent_b, "%s B->A: a packet left unencrypted" % label)
			try:
				plain.append(self.rx.unprotect(d))
			except Exception as e:
				raise T.Fail("%s B->A: A cannot unprotect a packet: %s" % (label, e))
		expect(sorted(plain) == sorted(sent_b),
		       "%s B->A: %d of %d arrived, or changed" % (label, len(plain), n))


def in_kernel(call):
	st = T.streams(call.query())
	return all(st[p[1]]["forwarding"] == "kernel" and "not in kernel" not in st[p[1]]
		   for p in (call.a.dest, call.b.dest))


def one_suite(d, suite, sport):
	a = T.Phone("a", "10.0.1.2", sport, sport + 1000)
	b = T.Phone("b", "10.0.2.2", sport + 2000, sport + 2000)
	a.seq, b.seq = 65380, 65390	# the wrap comes while the kernel forwards
	ka = SdesKey(suite)
	c = SrtpCall(d, a, b, ka)
	f = Flow(c, ka)
	f.run(20, label="userspace")
	ok = T.wait_until(lambda: in_kernel(c), 5,
			  keepalive=lambda: f.run(2, label="keepalive"))
	expect(ok, "%s: not in kernel: %r" % (suite, {p: s.get("not in kernel")
						       for p, s in T.streams(c.query()).items()}))
	kl0, _ = T.klist()
	for p in (a.dest[1], b.dest[1]):
		expect(p in kl0 and kl0[p]["flags"] & SRTP_FLAG, "%s: entry %r" % (suite, kl0.get(p)))
	f.run(200, pps=200, label=suite + " kernel")
	expect(a.seq < 1000 and b.seq < 1000, "the sequence numbers did not wrap")
	kl1, _ = T.klist()
	for p in (a.dest[1], b.dest[1]):
		expect(kl1[p]["packets"] - kl0[p]["packets"] == 200,
		       "%s: port %d kernel packets %d -> %d" % (suite, p, kl0[p]["packets"],
							       kl1[p]["packets"]))
	# tampered and replayed: the module drops them, query counts them
	q0 = c.query()
	m0 = q0["tags"][c.ftag]["medias"][0]["SRTP"]
	good = f.tx.protect(a.packet())
	bad = bytearray(f.tx.protect(a.packet()))
	bad[20] ^= 1
	T.drain(b.rtp)
	a.rtp.sendto(good, a.dest)
	a.rtp.sendto(bytes(bad), a.dest)
	a.rtp.sendto(good, a.dest)
	T.time.sleep(0.3)
	got = T.drain(b.rtp, [])
	expect(len(got) == 1, "%s: %d packets of good+tampered+replay arrived, want 1" %
	       (suite, len(got)))
	m1 = c.query()["tags"][c.ftag]["medias"][0]["SRTP"]
	expect(m1["auth failures"] - m0["auth failures"] == 1 and
	       m1["replays"] - m0["replays"] == 1 and
	       m1["unprotected"] - m0["unprotected"] == 1,
	       "%s: query SRTP %r -> %r" % (suite, m0, m1))
	expect(m1["unprotected"] >= 221, "%s: unprotected %d" % (suite, m1["unprotected"]))
	c.delete()
	a.close()
	b.close()


def daemon_srtp_sdes_in_kernel():
	d = T.Daemon("srtp", "--kernel=on", "--endpoint-learning=immediate")
	one_suite(d, "AES_CM_128_HMAC_SHA1_80", 5100)	# GCM: ksrtp.c (guest time is short)
	expect(T.kentries() == 0, "entries left after delete: %r" % T.kentries())
	expect(d.stop() == 0, "daemon exit code")


def daemon_srtp_rekey_reinvite():
	d = T.Daemon("srtp-rekey", "--kernel=on", "--endpoint-learning=immediate")
	a = T.Phone("a", "10.0.1.2", 5120, 6120)
	b = T.Phone("b", "10.0.2.2", 7120, 7120)
	k1 = SdesKey("AES_CM_128_HMAC_SHA1_80")
	c = SrtpCall(d, a, b, k1)
	f = Flow(c, k1)
	f.run(20, label="key 1")
	expect(T.wait_until(lambda: in_kernel(c), 5, keepalive=lambda: f.run(2)),
	       "key 1: not in kernel")
	f.run(50, label="key 1 kernel")
	k2 = SdesKey("AES_CM_128_HMAC_SHA1_80", key=os.urandom(30))
	c.negotiate(k2)
	old = Flow(c, k1)
	old.tx = f.tx			# A's old session, as if it missed the re-INVITE
	T.drain(b.rtp)
	a.rtp.sendto(old.tx.protect(a.packet()), a.dest)
	T.time.sleep(0.3)
	expect(T.drain(b.rtp, []) == [], "the old key's packet was forwarded")
	f2 = Flow(c, k2)
	f2.run(20, label="key 2")
	expect(T.wait_until(lambda: in_kernel(c), 5, keepalive=lambda: f2.run(2)),
	       "key 2: not back in kernel")
	f2.run(50, label="key 2 kernel")
	c.delete()
	a.close()
	b.close()
	expect(d.stop() == 0, "daemon exit code")


def main():
	for fn in (daemon_srtp_sdes_in_kernel, daemon_srtp_rekey_reinvite):
		T.scenario(fn)
	left = bool(T.Daemon.live)
	for d in list(T.Daemon.live):
		d.kill()
	if left:
		T.sh("nft", "delete", "table", "inet", "sluice_%d" % T.TABLE, check=False)


if __name__ == "__main__":
	main()
