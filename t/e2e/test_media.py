"""Latching, strict-source, re-INVITE, forking, hold."""

import time

import pytest

from calls import Call, exchange, ok, payloads, same
from rtp import SDP, Phone, drain, recv_all, udp_socket


def marked(tag_byte, n):
	"""payload_fn giving 160-byte payloads all made of one marker byte."""
	return lambda i: bytes([tag_byte]) * 160


def test_latching(relay):
	r = relay()
	c = Call(r).setup()
	y = udp_socket()			# A's NAT: real source differs from SDP
	pkt = c.a.next_rtp()
	y.sendto(pkt, c.a_dest())
	got = recv_all(c.b.rtp, timeout=1, count=1)
	assert payloads(got) == [pkt]
	time.sleep(0.05)
	sent = c.b.send_rtp(c.b_dest(), n=10, pps=0)
	got_y = recv_all(y, timeout=1, count=10)
	assert same(got_y, sent)
	assert {a for _, a in got_y} == {c.a_dest()}
	assert recv_all(c.a.rtp, timeout=0.2) == []
	ok(c.delete())
	y.close()
	c.close()


def _stranger_run(c, stranger, ssrc=None):
	"""A latches, then A and a stranger interleave packets to A's relay port; returns
	what B received."""
	a_pkts = c.a.send_rtp(c.a_dest(), n=5, pps=0, payload_fn=marked(0xAA, 5))
	assert same(recv_all(c.b.rtp, timeout=1, count=5), a_pkts)
	time.sleep(0.05)
	sent_a, sent_s = [], []
	for i in range(20):
		sent_a += c.a.send_rtp(c.a_dest(), n=1, pps=0, payload_fn=marked(0xAA, 1))
		sent_s += c.a.send_rtp(c.a_dest(), n=1, pps=0, payload_fn=marked(0x55, 1),
				       sock=stranger, ssrc=ssrc if ssrc is not None else 0x0BADBEEF)
		time.sleep(0.005)
	got = payloads(recv_all(c.b.rtp, timeout=0.5, idle=0.3))
	return sent_a, sent_s, got


def test_strict_source(relay):
	r = relay()
	c = Call(r)
	c.offer(flags=["strict-source"])
	c.answer(flags=["strict-source"])
	stranger = udp_socket()
	sent_a, sent_s, got = _stranger_run(c, stranger)
	assert [p for p in got if p[12:13] == b"\x55"] == []
	assert same(got, sent_a)
	# media toward A still goes to A, not to the stranger
	sent_b = c.b.send_rtp(c.b_dest(), n=5, pps=0)
	assert same(recv_all(c.a.rtp, timeout=1, count=5), sent_b)
	assert recv_all(stranger, timeout=0.2) == []
	ok(c.delete())
	stranger.close()
	c.close()


@pytest.mark.sluice_only
def test_foreign_ssrc_cannot_inject(relay):
	"""Without strict-source: a non-latched source is dropped unless it carries the
	latched SSRC."""
	r = relay()
	c = Call(r).setup()
	stranger = udp_socket()
	sent_a, sent_s, got = _stranger_run(c, stranger)
	assert [p for p in got if p[12:13] == b"\x55"] == []
	assert same(got, sent_a)
	ok(c.delete())
	stranger.close()
	c.close()


def _rtp_stream(c, tag_):
	return c.query()["tags"][tag_]["medias"][0]["streams"][0]


@pytest.mark.sluice_only
def test_nat_rebinding_same_ssrc_is_foreign(relay):
	"""Same SSRC from a new source port once the latch is fixed: the SSRC is no secret
	(it is forwarded to the other side), so it moves nothing: dropped, counted, and B's
	media keeps going to A's latched port."""
	r = relay()
	c = Call(r).setup()
	a_pkts = c.a.send_rtp(c.a_dest(), n=5, pps=0)
	assert same(recv_all(c.b.rtp, timeout=1, count=5), a_pkts)
	newsock = udp_socket()
	c.a.send_rtp(c.a_dest(), n=5, pps=0, sock=newsock)	# same SSRC
	assert recv_all(c.b.rtp, timeout=0.3) == []
	sent_b = c.b.send_rtp(c.b_dest(), n=10, pps=0)
	assert same(recv_all(c.a.rtp, timeout=1, count=10), sent_b)
	assert recv_all(newsock, timeout=0.2) == []
	st = _rtp_stream(c, c.ftag)
	assert st["foreign packets"] == 5
	assert st["stats"]["packets"] == 5
	lf = st["last foreign source"]
	assert (lf["address"], lf["port"]) == newsock.getsockname()
	# one log line per stream per 10 s: the first drop, not the next four
	lines = [l for l in r.log().splitlines() if "foreign packet" in l]
	assert len(lines) == 1, lines
	assert "dropped 1 foreign packet on RTP port %d, last from 127.0.0.1:%d" % (
		st["local port"], newsock.getsockname()[1]) in lines[0], lines
	assert c.cid in lines[0]
	ok(c.delete())
	newsock.close()
	c.close()


@pytest.mark.sluice_only
def test_nat_rebinding_media_handover(relay):
	"""media-handover: a fixed latch follows the new source."""
	r = relay()
	c = Call(r).setup(flags=["media-handover"])
	a_pkts = c.a.send_rtp(c.a_dest(), n=5, pps=0)
	assert same(recv_all(c.b.rtp, timeout=1, count=5), a_pkts)
	newsock = udp_socket()
	moved = c.a.send_rtp(c.a_dest(), n=5, pps=0, sock=newsock)
	assert same(recv_all(c.b.rtp, timeout=1, count=5), moved)
	time.sleep(0.05)
	sent_b = c.b.send_rtp(c.b_dest(), n=10, pps=0)
	assert same(recv_all(newsock, timeout=1, count=10), sent_b)
	assert recv_all(c.a.rtp, timeout=0.2) == []
	st = _rtp_stream(c, c.ftag)
	assert "media handover" in st["flags"]
	assert st["foreign packets"] == 0
	ok(c.delete())
	newsock.close()
	c.close()


def test_reinvite_same_endpoint(relay):
	"""re-INVITE with a new o= version and unchanged media: same relay ports both ways."""
	r = relay()
	c = Call(r).setup()
	p_off, p_ans = c.offer_reply.port(), c.answer_reply.port()
	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1))
	assert c.offer_reply.port() == p_off
	assert c.offer_reply.origin["version"] == str(c.a.sess_ver)
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	assert c.answer_reply.port() == p_ans
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"])
	assert same(res["got_a"], res["sent_b"])
	ok(c.delete())
	c.close()


def _reinvite_moved(relay, **flags):
	r = relay()
	c = Call(r).setup(**flags)
	res = exchange(c, n=5, pps=0)
	assert same(res["got_a"], res["sent_b"])
	p_off, p_ans = c.offer_reply.port(), c.answer_reply.port()
	# re-INVITE from A: new o= version, A moved to a new port (same SSRC)
	a2 = Phone(name="caller", ssrc=c.a.ssrc)
	a2.sess_id = c.a.sess_id
	c.offer(sdp=a2.sdp(version=c.a.sess_ver + 1), **flags)
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1), **flags)
	old_a, c.a = c.a, a2
	# B talks first: the relay must already aim at A's new SDP address
	sent_b = c.b.send_rtp(c.b_dest(), n=5, pps=0)
	assert same(recv_all(a2.rtp, timeout=1, count=5), sent_b)
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"])
	assert same(res["got_a"], res["sent_b"])
	assert recv_all(old_a.rtp, timeout=0.2) == []
	ok(c.delete())
	old_a.close()
	c.close()
	return (p_off, p_ans), (c.offer_reply.port(), c.answer_reply.port())


def test_reinvite_moved_endpoint(relay):
	"""A re-INVITEs with a new media port: media follows A's new port. (rtpengine hands
	out a new relay port toward B in this case unless port-latching is set.)"""
	_reinvite_moved(relay)


def test_reinvite_moved_port_latching(relay):
	before, after = _reinvite_moved(relay, flags=["port-latching"])
	assert before == after


@pytest.mark.sluice_only
def test_reinvite_moved_keeps_ports(relay):
	"""sluiced keeps its relay ports for the life of a call leg, even when the peer moves."""
	before, after = _reinvite_moved(relay)
	assert before == after


def test_forked_answer(relay):
	r = relay()
	c = Call(r)
	c.offer()
	t1, t2 = "fork1-" + c.ttag, "fork2-" + c.ttag
	b2 = Phone(name="callee2")
	c.answer(to_tag=t1)
	c.answer(sdp=b2.sdp(), to_tag=t2)
	c.ttag = t2
	b1 = c.b
	c.b = b2
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"])
	assert same(res["got_a"], res["sent_b"])
	assert recv_all(b1.rtp, timeout=0.2) == []
	q = ok(c.query(), "query")
	assert {c.ftag, t1, t2} <= set(q["tags"])
	# deleting the losing branch keeps the call
	ok(c.ng.req(c.base("delete", **{"to-tag": t1})), "delete branch")
	q = ok(c.query(), "query after branch delete")
	assert c.ftag in q["tags"]
	ok(c.delete(), "final delete")
	assert c.query()["result"] == "error"
	b1.close()
	c.close()


def test_hold_sendonly(relay):
	r = relay()
	c = Call(r).setup()
	p_off, p_ans = c.offer_reply.port(), c.answer_reply.port()
	c.offer(sdp=c.a.sdp(direction="sendonly", version=c.a.sess_ver + 1))
	assert c.offer_reply.port() == p_off
	assert c.offer_reply.direction() == "sendonly"
	c.answer(sdp=c.b.sdp(direction="recvonly", version=c.b.sess_ver + 1))
	assert c.answer_reply.port() == p_ans
	assert c.answer_reply.direction() == "recvonly"
	# resume
	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1))
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	assert (c.offer_reply.port(), c.answer_reply.port()) == (p_off, p_ans)
	assert c.offer_reply.direction() == c.answer_reply.direction() == "sendrecv"
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"])
	assert same(res["got_a"], res["sent_b"])
	ok(c.delete())
	c.close()


def test_hold_zero_address(relay):
	"""Old-style hold (c=0.0.0.0): the null address is passed on (not replaced by the relay
	address), the relay port stays, and the stream is marked sendonly; resuming restores
	the relay address and media flows again."""
	r = relay()
	c = Call(r).setup()
	p_off, p_ans = c.offer_reply.port(), c.answer_reply.port()
	c.offer(sdp=c.a.sdp(hold_zero=True, version=c.a.sess_ver + 1))
	assert c.offer_reply.mconn() == ("IP4", "0.0.0.0")
	assert c.offer_reply.port() == p_off
	assert c.offer_reply.direction() == "sendonly"
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	assert c.answer_reply.port() == p_ans
	assert c.answer_reply.mconn() == ("IP4", "127.0.0.1")
	c.offer(sdp=c.a.sdp(version=c.a.sess_ver + 1))
	c.answer(sdp=c.b.sdp(version=c.b.sess_ver + 1))
	assert c.offer_reply.mconn() == ("IP4", "127.0.0.1")
	assert (c.offer_reply.port(), c.answer_reply.port()) == (p_off, p_ans)
	res = exchange(c, n=10, pps=100)
	assert same(res["got_b"], res["sent_a"])
	assert same(res["got_a"], res["sent_b"])
	ok(c.delete())
	c.close()
