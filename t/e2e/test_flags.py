"""Flags as Kamailio sends them, IPv6."""

import re

from calls import Call, exchange, ok, same
from rtp import SDP

KAMAILIO_FLAGS = {	# "flags" scenario of the Kamailio capture, key order as on the wire
	"ICE": "remove",
	"flags": ["trust-address"],
	"replace": ["origin", "session-connection"],
	"transport-protocol": "RTP/AVP",
}


def foreign_session(sdp, addr="198.51.100.7"):
	"""o= and session c= name another host; the media-level c= keeps the phone's address."""
	lines = sdp.split("\r\n")
	out = []
	for l in lines:
		if l.startswith("o="):
			l = re.sub(r"IN IP4 \S+$", "IN IP4 " + addr, l)
		elif l.startswith("c=") and not any(x.startswith("m=") for x in out):
			mc, l = l, "c=IN IP4 " + addr
		out.append(l)
		if l.startswith("m="):
			out.append(mc)
	return "\r\n".join(out)


def test_kamailio_flags(relay):
	r = relay()
	c = Call(r)
	kw = dict(KAMAILIO_FLAGS, **{"received-from": ["IP4", "127.0.0.1"]})
	c.offer(sdp=foreign_session(c.a.sdp()), **kw)
	c.answer(sdp=foreign_session(c.b.sdp()), **kw)
	for s in (c.offer_reply, c.answer_reply):
		assert s.origin["addr"] == "127.0.0.1" and s.origin["family"] == "IP4"
		assert s.conn == ("IP4", "127.0.0.1")
		assert s.mconn() == ("IP4", "127.0.0.1")
		assert s.medias[0]["proto"] == "RTP/AVP"
		assert r.in_range(s.port())
		assert "198.51.100.7" not in s.text
	assert c.offer_reply.origin["id"] == str(c.a.sess_id)
	res = exchange(c, n=20, pps=100)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	ok(c.delete())
	c.close()


def test_origin_kept_without_replace(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=foreign_session(c.a.sdp()))
	assert c.offer_reply.origin["addr"] == "198.51.100.7"
	assert c.offer_reply.mconn() == ("IP4", "127.0.0.1")
	ok(c.delete())
	c.close()


def test_ice_remove(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(ice=True), ICE="remove")
	c.answer(sdp=c.b.sdp(ice=True), ICE="remove")
	for s in (c.offer_reply, c.answer_reply):
		for l in s.lines:
			assert not l.startswith(("a=candidate", "a=ice-", "a=end-of-candidates")), l
		assert r.in_range(s.port())
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	ok(c.delete())
	c.close()


def test_ipv6(relay):
	r = relay(interfaces=("127.0.0.1", "::1"))
	c = Call(r, host="::1")
	c.offer()
	c.answer()
	for s, orig in ((c.offer_reply, c.a.port), (c.answer_reply, c.b.port)):
		assert s.mconn() == ("IP6", "::1")
		assert r.in_range(s.port()) and s.port() % 2 == 0 and s.port() != orig
		assert s.rtcp_port() == s.port() + 1
	res = exchange(c, n=20, pps=100, rtcp=2)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	assert {a[:2] for _, a in res["got_b"]} == {("::1", c.b_dest()[1])}
	assert {a[:2] for _, a in res["got_a"]} == {("::1", c.a_dest()[1])}
	assert same(res["rtcp_got_b"], res["rtcp_a"]) and same(res["rtcp_got_a"], res["rtcp_b"])
	d = ok(c.delete())
	assert d["totals"]["RTP"]["packets"] == 40
	st = d["tags"][c.ftag]["medias"][0]["streams"][0]
	assert st["endpoint"]["family"] == "IPv6" and st["endpoint"]["address"] == "::1"
	c.close()


def test_ipv4_and_ipv6_legs_coexist(relay):
	"""With both families configured, an IPv4 call still gets the IPv4 address."""
	r = relay(interfaces=("127.0.0.1", "::1"))
	c4 = Call(r).setup()
	c6 = Call(r, host="::1").setup()
	assert c4.offer_reply.mconn() == ("IP4", "127.0.0.1")
	assert c6.offer_reply.mconn() == ("IP6", "::1")
	for c in (c4, c6):
		res = exchange(c, n=10, pps=0)
		assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
		ok(c.delete())
		c.close()
