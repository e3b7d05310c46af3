"""Call-level helpers shared by the e2e tests: one Call = caller A, callee B, one relay."""

import os
import random
import time

from rtp import SDP, Phone, drain, recv_all


def tag():
	return "%016x" % random.getrandbits(64)


def call_id():
	return "e2e-%d-%012x" % (os.getpid(), random.getrandbits(48))


def ok(reply, what=""):
	assert reply.get("result") == "ok", "%s failed: %r" % (what, reply)
	return reply


def err(reply, what=""):
	assert reply.get("result") == "error", "%s: expected error, got %r" % (what, reply)
	reason = reply.get("error-reason")
	assert isinstance(reason, str) and reason.strip(), "%s: empty error-reason: %r" % (what, reply)
	return reason


class Call:
	def __init__(self, relay, a=None, b=None, cid=None, host="127.0.0.1"):
		self.relay = relay
		self.ng = relay.ng
		self.a = a or Phone(host, "caller")
		self.b = b or Phone(host, "callee")
		self.cid = cid or call_id()
		self.ftag = tag()
		self.ttag = tag()
		self.offer_reply = None		# SDP A's offer became: what B sees; B sends here
		self.answer_reply = None	# SDP B's answer became: what A sees; A sends here

	def base(self, command, **kw):
		m = {"command": command, "call-id": self.cid, "from-tag": self.ftag}
		m.update(kw)
		return m

	def offer(self, sdp=None, check=True, **kw):
		sdp = sdp if sdp is not None else self.a.sdp()
		r = self.ng.req(self.base("offer", sdp=sdp, **kw))
		if check:
			ok(r, "offer")
		if r.get("result") == "ok" and "sdp" in r:
			self.offer_reply = SDP(r["sdp"])
		return r

	def answer(self, sdp=None, to_tag=None, check=True, **kw):
		sdp = sdp if sdp is not None else self.b.sdp()
		m = self.base("answer", sdp=sdp, **kw)
		m["to-tag"] = to_tag or self.ttag
		r = self.ng.req(m)
		if check:
			ok(r, "answer")
		if r.get("result") == "ok" and "sdp" in r:
			self.answer_reply = SDP(r["sdp"])
		return r

	def setup(self, **kw):
		self.offer(**kw)
		self.answer(**kw)
		return self

	def query(self):
		return self.ng.req(self.base("query"))

	def delete(self, **kw):
		return self.ng.req(self.base("delete", **kw))

	# where each side sends media
	def a_dest(self, rtcp=False):
		s = self.answer_reply
		return (s.mconn()[1], s.rtcp_port() if rtcp else s.port())

	def b_dest(self, rtcp=False):
		s = self.offer_reply
		return (s.mconn()[1], s.rtcp_port() if rtcp else s.port())

	def close(self):
		self.a.close()
		self.b.close()


def exchange(call, n=50, pps=50, rtcp=0):
	"""A and B each send n RTP packets (interleaved) and rtcp RTCP packets; return
	(sent_a, sent_b, got_at_b, got_at_a) with got_* as lists of (data, addr) for RTP
	and the RTCP lists in a dict under key 'rtcp'."""
	a, b = call.a, call.b
	for s in (a.rtp, a.rtcp, b.rtp, b.rtcp):
		drain(s)
	sent_a, sent_b = [], []
	t0 = time.monotonic()
	for i in range(n):
		pa = a.next_rtp()
		pb = b.next_rtp()
		a.rtp.sendto(pa, call.a_dest())
		b.rtp.sendto(pb, call.b_dest())
		sent_a.append(pa)
		sent_b.append(pb)
		if pps:
			d = t0 + (i + 1) / pps - time.monotonic()
			if d > 0:
				time.sleep(d)
	ra = a.send_rtcp(call.a_dest(rtcp=True), rtcp) if rtcp else []
	rb = b.send_rtcp(call.b_dest(rtcp=True), rtcp) if rtcp else []
	got_b = recv_all(b.rtp, timeout=2, count=n)
	got_a = recv_all(a.rtp, timeout=2, count=n)
	res = dict(sent_a=sent_a, sent_b=sent_b, got_b=got_b, got_a=got_a,
		   rtcp_a=ra, rtcp_b=rb, rtcp_got_b=[], rtcp_got_a=[])
	if rtcp:
		res["rtcp_got_b"] = recv_all(b.rtcp, timeout=2, count=rtcp)
		res["rtcp_got_a"] = recv_all(a.rtcp, timeout=2, count=rtcp)
	return res


def payloads(got):
	return [d for d, _ in got]


def stream_stats(reply, tag_):
	"""[(local port, packets, bytes, flags)] of each stream of tag_'s first media."""
	t = reply["tags"][tag_]
	out = []
	for st in t["medias"][0]["streams"]:
		out.append((st["local port"], st["stats"]["packets"], st["stats"]["bytes"], st.get("flags", [])))
	return out


def wait_for(pred, timeout, step=0.1):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		v = pred()
		if v:
			return v
		time.sleep(step)
	return pred()


def same(got, sent):
	"""Same datagrams regardless of order (the reference relay reorders bursts across
	its worker threads). got: [(data, addr)] or [data]."""
	g = [x[0] if isinstance(x, tuple) else x for x in got]
	return sorted(g) == sorted(sent)
