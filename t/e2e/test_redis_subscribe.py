"""Subscriptions (media fork, test_subscribe.py) survive a restart with --redis: the
subscribe request (with the to-tag it made when the request named none) and answer are
kept in the call's record after its offer and answer, and replayed at start, so the
monitor gets its copies again from the same relay port without a new request; a
subscriber that unsubscribed is not restored."""

import shutil

import pytest

from calls import Call, ok, wait_for
from rtp import Phone, drain, recv_all, rtp_parse
from test_redis import Redis, redis, redis_opts, restart  # noqa: F401 (fixture)
from test_subscribe import monitor_sdp

pytestmark = [pytest.mark.sluice_only,
	      pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server")]


def subscribe(c, mon, to_tag=None):
	req = {"command": "subscribe request", "call-id": c.cid, "from-tags": [c.ftag]}
	if to_tag:
		req["to-tag"] = to_tag
	rep = ok(c.ng.req(req), "subscribe request")
	port = int(next(l for l in rep["sdp"].splitlines() if l.startswith("m=audio")).split()[1])
	ok(c.ng.req({"command": "subscribe answer", "call-id": c.cid, "to-tag": rep["to-tag"],
		     "sdp": monitor_sdp([mon.port])}), "subscribe answer")
	return rep["to-tag"], port


def a_to_b(c, mons, n=10):
	"""A sends n packets: B gets them, and each monitor its copies: {monitor: [(from
	port, seq)]}."""
	for s in [c.b.rtp] + [m.rtp for m in mons]:
		drain(s)
	sent = c.a.send_rtp(c.a_dest(), n=n, pps=0)
	assert sorted(d for d, _ in recv_all(c.b.rtp, timeout=2, count=n)) == sorted(sent)
	return {m: sorted((a[1], rtp_parse(d)["seq"]) for d, a in
			  recv_all(m.rtp, timeout=1, count=n, idle=0.5)) for m in mons}, \
		sorted(rtp_parse(p)["seq"] for p in sent)


def test_subscription_restored(relay, redis):
	rd = redis()
	r = relay(**redis_opts(rd, "sub1"))
	c = Call(r).setup()
	m1, m2 = Phone(name="mon1"), Phone(name="mon2")
	r2 = None
	try:
		tag1, port1 = subscribe(c, m1)                  # the relay names it
		tag2, _ = subscribe(c, m2, "mon-2")
		ok(c.ng.req({"command": "unsubscribe", "call-id": c.cid, "to-tag": tag2}))
		got, seqs = a_to_b(c, [m1, m2])
		assert got[m1] == [(port1, s) for s in seqs] and got[m2] == []
		key = "sluice:call:sub1:" + c.cid
		rec = wait_for(lambda: (lambda v: v if v and len(v["ng"]) == 4 else None)(rd.get(key)), 3)
		assert [(x["command"], x.get("to-tag")) for x in rec["ng"]] == \
			[("offer", None), ("answer", c.ttag), ("subscribe request", tag1),
			 ("subscribe answer", tag1)], rec["ng"]
		assert [tag1] in [p["tags"] for p in rec["parties"]]
		r2 = restart(r)
		r2.wait_ready()
		c.ng = r2.ng
		assert "redis: call restored" in r2.log()
		got, seqs = a_to_b(c, [m1, m2])
		assert got[m1] == [(port1, s) for s in seqs] and got[m2] == []
		q = ok(c.query())
		assert tag1 in q["tags"]
		ok(c.delete())
	finally:
		for x in (c, ):
			x.close()
		m1.close()
		m2.close()
		if r2:
			r2.kill()


def test_srtp_subscription_restored(relay, redis):
	"""An SDES-SRTP subscriber (test_subscribe_srtp.py) keeps its key across kill -9:
	the restored relay protects the copies with the key the monitor has, and the
	monitor's one SRTP session unprotects them before and after."""
	from test_subscribe_srtp import copies, subscribe_srtp
	rd = redis()
	r = relay(redis_update_interval=1, **redis_opts(rd, "sub2"))
	c = Call(r).setup()
	mon = Phone(name="mon")
	r2 = None
	try:
		ours = subscribe_srtp(c, mon)
		rx = ours.rx()
		sent = c.a.send_rtp(c.a_dest(), n=10, pps=0)
		assert [p["seq"] for p in copies(mon, rx, 10)] == [rtp_parse(x)["seq"] for x in sent]
		key = "sluice:call:sub2:" + c.cid
		assert wait_for(lambda: (lambda v: v and len(v["ng"]) == 4)(rd.get(key)), 3)
		r2 = restart(r)
		r2.wait_ready()
		c.ng = r2.ng
		drain(mon.rtp)
		sent = c.a.send_rtp(c.a_dest(), n=10, pps=0)
		got = copies(mon, rx, 10)
		assert [(p["seq"], p["payload"]) for p in got] == \
			[(rtp_parse(x)["seq"], rtp_parse(x)["payload"]) for x in sent]
		ok(c.delete())
	finally:
		c.close()
		mon.close()
		if r2:
			r2.kill()
