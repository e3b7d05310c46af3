"""Basic call flow: SDP rewrite, media both ways, symmetric RTP, stats in query/delete."""

from calls import Call, exchange, ok, payloads, same, stream_stats


def check_relay_sdp(relay, sdp, original):
	"""Rewritten SDP points at the relay: its address, an even port in its range, rtcp+1."""
	assert sdp.mconn() == ("IP4", "127.0.0.1")
	port = sdp.port()
	assert relay.in_range(port), "port %d not in %d-%d" % (port, relay.port_min, relay.port_max)
	assert port % 2 == 0
	assert port != original
	assert sdp.rtcp_port() == port + 1
	assert sdp.medias[0]["proto"] == "RTP/AVP"
	assert sdp.medias[0]["fmts"] == ["0", "8", "101"]
	assert "rtpmap:0 PCMU/8000" in sdp.attrs(0)
	assert "rtpmap:101 telephone-event/8000" in sdp.attrs(0)
	assert sdp.direction() == "sendrecv"


def test_basic_call(relay):
	r = relay()
	c = Call(r)
	c.offer()
	check_relay_sdp(r, c.offer_reply, c.a.port)
	# the rest of A's SDP survives
	assert c.offer_reply.origin["id"] == str(c.a.sess_id)
	assert "ptime:20" in c.offer_reply.attrs(0)
	c.answer()
	check_relay_sdp(r, c.answer_reply, c.b.port)
	assert c.answer_reply.port() != c.offer_reply.port()

	res = exchange(c, n=50, pps=50, rtcp=2)
	# every packet arrives, byte-identical, in order, from the relay port the peer was told
	assert payloads(res["got_b"]) == res["sent_a"]
	assert payloads(res["got_a"]) == res["sent_b"]
	assert {addr for _, addr in res["got_b"]} == {c.b_dest()}
	assert {addr for _, addr in res["got_a"]} == {c.a_dest()}
	assert payloads(res["rtcp_got_b"]) == res["rtcp_a"]
	assert payloads(res["rtcp_got_a"]) == res["rtcp_b"]
	assert {addr for _, addr in res["rtcp_got_b"]} == {c.b_dest(rtcp=True)}
	assert {addr for _, addr in res["rtcp_got_a"]} == {c.a_dest(rtcp=True)}

	d = ok(c.delete(), "delete")
	n_rtp = len(res["sent_a"]) + len(res["sent_b"])
	bytes_rtp = sum(map(len, res["sent_a"] + res["sent_b"]))
	n_rtcp = len(res["rtcp_a"]) + len(res["rtcp_b"])
	bytes_rtcp = sum(map(len, res["rtcp_a"] + res["rtcp_b"]))
	assert d["totals"]["RTP"]["packets"] == n_rtp
	assert d["totals"]["RTP"]["bytes"] == bytes_rtp
	assert d["totals"]["RTCP"]["packets"] == n_rtcp
	assert d["totals"]["RTCP"]["bytes"] == bytes_rtcp
	assert set(d["tags"]) == {c.ftag, c.ttag}

	# per tag: stream stats count what that side sent; "local port" is where it sent to
	sa = stream_stats(d, c.ftag)
	sb = stream_stats(d, c.ttag)
	assert [s[:3] for s in sa] == [
		(c.a_dest()[1], 50, sum(map(len, res["sent_a"]))),
		(c.a_dest(rtcp=True)[1], 2, sum(map(len, res["rtcp_a"])))]
	assert [s[:3] for s in sb] == [
		(c.b_dest()[1], 50, sum(map(len, res["sent_b"]))),
		(c.b_dest(rtcp=True)[1], 2, sum(map(len, res["rtcp_b"])))]
	ep = d["tags"][c.ftag]["medias"][0]["streams"][0]["endpoint"]
	assert (ep["address"], ep["port"]) == ("127.0.0.1", c.a.port)
	ep = d["tags"][c.ttag]["medias"][0]["streams"][0]["endpoint"]
	assert (ep["address"], ep["port"]) == ("127.0.0.1", c.b.port)

	# gone afterwards
	q = c.query()
	assert q["result"] == "error"
	c.close()


def test_query_mid_call(relay):
	r = relay()
	c = Call(r).setup()
	res1 = exchange(c, n=20, pps=0)
	assert len(res1["got_b"]) == 20 and len(res1["got_a"]) == 20
	q = ok(c.query(), "query")
	assert q["totals"]["RTP"]["packets"] == 40
	assert q["totals"]["RTP"]["bytes"] == sum(map(len, res1["sent_a"] + res1["sent_b"]))
	assert stream_stats(q, c.ftag)[0][1] == 20
	assert stream_stats(q, c.ttag)[0][1] == 20
	res2 = exchange(c, n=30, pps=0)
	assert len(res2["got_b"]) == 30
	q = ok(c.query(), "query")
	assert q["totals"]["RTP"]["packets"] == 100
	# query does not end the call
	res3 = exchange(c, n=5, pps=0)
	assert same(res3["got_b"], res3["sent_a"])
	d = ok(c.delete(), "delete")
	assert d["totals"]["RTP"]["packets"] == 110
	assert stream_stats(d, c.ftag)[0][1] == 55
	assert stream_stats(d, c.ttag)[0][1] == 55
	c.close()
