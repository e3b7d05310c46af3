"""A side moved to another interface at the answer, as rtpengine does it: the answerer's
side when it answers in another address family than it was offered in, either side when
the answer's `direction` names another interface for it. The side gets new ports there
(the old ones close), media is sent from them at once, and the next SDP toward that
side names them.

rtpengine 10.5 writes the same SDP but keeps sending a moved side's media from its old
socket, and sends nothing to an IPv6 callee answering an IPv4 offer
(docs/rtpengine-differences.md): these tests are sluiced's."""

import pytest

from calls import Call, ok, same
from rtp import Phone, recv_all


def _flow(src, dest, dst_phone, n=10):
	sent = src.send_rtp(dest, n=n, pps=0)
	got = recv_all(dst_phone.rtp, timeout=2, count=n)
	return sent, got


@pytest.mark.sluice_only
def test_answer_in_other_family(relay):
	"""IPv4 caller, IPv6 callee that the offer reached in IPv4: after the answer the
	relay sends to the callee from ::1, and the re-offer names the ::1 port."""
	r = relay(interfaces=("127.0.0.1", "::1"))
	c = Call(r, a=Phone("127.0.0.1", "caller"), b=Phone("::1", "callee"))
	c.offer()
	assert c.offer_reply.mconn()[1] == "127.0.0.1"
	c.answer()
	assert c.answer_reply.mconn()[1] == "127.0.0.1"	# the caller's side stays

	sent, got = _flow(c.a, c.a_dest(), c.b)
	assert same(got, sent), "caller -> IPv6 callee after the answer"
	relay_v6 = {addr[0] for _, addr in got}
	assert relay_v6 == {"::1"}, relay_v6
	b_side_port = {addr[1] for _, addr in got}

	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1))
	assert c.offer_reply.mconn()[1] == "::1"
	# the port on ::1 comes from that address's own pool: it may have the old number
	assert {c.offer_reply.port()} == b_side_port
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	sent, got = _flow(c.b, c.b_dest(), c.a)
	assert same(got, sent), "IPv6 callee -> caller through the ::1 port"
	q = ok(c.query())
	b_streams = q["tags"][c.ttag]["medias"][0]["streams"]
	assert b_streams[0]["local address"] == "::1"
	assert b_streams[0]["local port"] == c.offer_reply.port()
	ok(c.delete())
	c.close()


@pytest.mark.sluice_only
def test_answer_direction_moves_both_sides(relay):
	"""Offer direction [int, ext] puts the caller's side on int and the callee's on ext;
	an answer that says [int, ext] again (its own side first) moves the callee's side to
	int and the caller's to ext: the answer names ext to the caller, media flows."""
	r = relay(interfaces=("int/127.0.0.2", "ext/127.0.0.3"))
	c = Call(r)
	c.offer(direction=["int", "ext"])
	assert c.offer_reply.mconn()[1] == "127.0.0.3"
	c.answer(direction=["int", "ext"])
	assert c.answer_reply.mconn()[1] == "127.0.0.3"

	sent, got = _flow(c.a, c.a_dest(), c.b)
	assert same(got, sent)
	assert {addr[0] for _, addr in got} == {"127.0.0.2"}	# the callee's side is on int

	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1))
	assert c.offer_reply.mconn()[1] == "127.0.0.2"
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	sent, got = _flow(c.b, c.b_dest(), c.a)
	assert same(got, sent)
	assert {addr[0] for _, addr in got} == {"127.0.0.3"}
	ok(c.delete())
	c.close()


@pytest.mark.sluice_only
def test_answer_same_interface_keeps_ports(relay):
	"""An answer in the family it was offered in, with the direction reversed as
	proxies send it, moves nothing: the ports of the offer stay."""
	r = relay(interfaces=("int/127.0.0.2", "ext/127.0.0.3"))
	c = Call(r)
	c.offer(direction=["int", "ext"])
	port_b = c.offer_reply.port()
	c.answer(direction=["ext", "int"])
	assert c.answer_reply.mconn()[1] == "127.0.0.2"
	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1))
	assert (c.offer_reply.mconn()[1], c.offer_reply.port()) == ("127.0.0.3", port_b)
	ok(c.delete())
	c.close()
