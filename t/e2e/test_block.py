"""NG block/unblock DTMF, block/unblock media, silence/unsilence media: what one side (or
every side) sends is held back or silenced, the other direction and RTCP untouched, and
the un- commands bring it back; start/stop forwarding answer a clear error."""

import pytest

from calls import Call, err, ok
from rtp import drain, recv_all, rtp_packet, rtp_parse

pytestmark = pytest.mark.sluice_only


def send(c, phone, dest, n, pt=0, payload=None):
	out = []
	for _ in range(n):
		pkt = phone.next_rtp(payload if payload is not None else bytes(range(160)), pt=pt)
		phone.rtp.sendto(pkt, dest)
		out.append(pkt)
	return out


def got(sock, n):
	return [rtp_parse(d) for d, _ in recv_all(sock, timeout=0.6, count=n, idle=0.3)]


def cmd(c, name, **kw):
	m = {"command": name, "call-id": c.cid}
	m.update(kw)
	return c.ng.req(m)


def test_block_dtmf_and_media(relay):
	r = relay()
	c = Call(r).setup()
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	send(c, c.a, c.a_dest(), 5)
	assert len(got(c.b.rtp, 5)) == 5
	ok(cmd(c, "block DTMF", **{"from-tag": c.ftag}))
	send(c, c.a, c.a_dest(), 5, pt=101, payload=b"\x05\x0a\x00\xa0")   # DTMF events
	send(c, c.a, c.a_dest(), 5)
	g = got(c.b.rtp, 10)
	assert [p["pt"] for p in g] == [0] * 5, g              # audio only
	# B's media and B's DTMF are not A's: untouched
	send(c, c.b, c.b_dest(), 3, pt=101, payload=b"\x05\x0a\x00\xa0")
	assert len(got(c.a.rtp, 3)) == 3
	ok(cmd(c, "unblock DTMF", **{"from-tag": c.ftag}))
	send(c, c.a, c.a_dest(), 4, pt=101, payload=b"\x05\x0a\x00\xa0")
	assert [p["pt"] for p in got(c.b.rtp, 4)] == [101] * 4

	ok(cmd(c, "block media"))                              # every side
	send(c, c.a, c.a_dest(), 5)
	send(c, c.b, c.b_dest(), 5)
	send(c, c.a, c.a_dest(), 2, pt=101, payload=b"\x05\x0a\x00\xa0")
	assert [p["pt"] for p in got(c.b.rtp, 7)] == [101, 101]   # DTMF passes media blocks
	assert got(c.a.rtp, 5) == []
	# RTCP is never blocked
	c.a.rtcp.sendto(b"\x80\xc8\x00\x06" + bytes(24), c.a_dest(rtcp=True))
	assert len(recv_all(c.b.rtcp, timeout=1, count=1)) == 1
	ok(cmd(c, "unblock media"))
	send(c, c.a, c.a_dest(), 5)
	send(c, c.b, c.b_dest(), 5)
	assert len(got(c.b.rtp, 5)) == 5 and len(got(c.a.rtp, 5)) == 5
	c.close()


def test_silence_media_g711(relay):
	r = relay()
	c = Call(r).setup()
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	ok(cmd(c, "silence media", **{"from-tag": c.ftag}))
	sent = send(c, c.a, c.a_dest(), 5)                          # PCMU
	g = got(c.b.rtp, 5)
	assert len(g) == 5
	assert all(p["payload"] == b"\xff" * 160 for p in g)        # µ-law silence
	assert [p["seq"] for p in g] == [rtp_parse(x)["seq"] for x in sent]
	send(c, c.b, c.b_dest(), 3)                                 # B is not silenced
	assert all(p["payload"] == bytes(range(160)) for p in got(c.a.rtp, 3))
	send(c, c.a, c.a_dest(), 3, pt=8)                           # A-law silence
	assert all(p["payload"] == b"\xd5" * 160 for p in got(c.b.rtp, 3))
	ok(cmd(c, "unsilence media", **{"from-tag": c.ftag}))
	send(c, c.a, c.a_dest(), 3)
	assert all(p["payload"] == bytes(range(160)) for p in got(c.b.rtp, 3))
	c.close()


def test_errors(relay):
	r = relay()
	c = Call(r).setup()
	assert "Unknown call party" in err(cmd(c, "block media", **{"from-tag": "nobody"}))
	assert "Unknown call-id" in err(c.ng.req({"command": "block DTMF", "call-id": "nope"}))
	assert "proc recording" in err(cmd(c, "start forwarding"))
	assert "proc recording" in err(cmd(c, "stop forwarding"))
	c.close()
