"""Port exhaustion under load: a 100-port media range (50 RTP/RTCP pairs, 2 per call:
one per side) and 60 calls offered one after the other while an early call carries
media. Exactly the calls that fit are set up; every other one gets an error whose
error-reason says "Ran out of ports" (rtpengine's wording) and leaves no call behind;
the early call's media is untouched (exact packet counts, both ways); statistics show
the range full; after deleting calls their ports serve new calls again.
"""

import threading
import time

from calls import Call, exchange, ok, same
from rtp import recv_all

PORTS = 100
OFFERS = 60


def _setup(r):
	"""Offer + answer one call: (Call, None) or (None, error-reason)."""
	c = Call(r)
	o = c.offer(check=False)
	if o.get("result") == "ok":
		a = c.answer(check=False)
		if a.get("result") == "ok":
			return c, None
		reason = a.get("error-reason")
		ok(c.delete(), "delete of the half-set-up call")
	else:
		reason = o.get("error-reason")
	c.close()
	return None, reason


def _ports(r):
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	return [i for i in st["interfaces"] if i["address"] == "127.0.0.1"][0]["ports"]


def _retry_setup(r, tries=30):
	# rtpengine frees closed sockets from its main loop, a moment after a delete
	for _ in range(tries):
		c, reason = _setup(r)
		if c:
			return c, None
		time.sleep(0.1)
	return None, reason


def test_port_exhaustion_under_load(relay):
	r = relay(ports=PORTS)
	early = Call(r).setup()
	sent, stop = [], threading.Event()

	def talk():				# 100 pps A -> B during the whole run
		while not stop.is_set():
			sent.extend(early.a.send_rtp(early.a_dest(), n=1, pps=0))
			time.sleep(0.01)

	th = threading.Thread(target=talk)
	th.start()
	live, reasons = [early], []
	try:
		while len(sent) < 5:
			time.sleep(0.01)
		for _ in range(OFFERS - 1):
			c, reason = _setup(r)
			if c:
				live.append(c)
			else:
				reasons.append(reason)
		while len(sent) < 50:
			time.sleep(0.01)
	finally:
		stop.set()
		th.join()

	# exactly the calls that fit, and a clear error for every other one
	assert len(live) == PORTS // 4, "%d calls set up in %d ports" % (len(live), PORTS)
	assert len(reasons) == OFFERS - PORTS // 4
	bad = [x for x in reasons if not isinstance(x, str) or "Ran out of ports" not in x]
	assert not bad, "unclear error reasons: %r" % bad[:3]
	assert sorted(ok(r.ng.req({"command": "list"}))["calls"]) == sorted(c.cid for c in live)
	ports = _ports(r)
	assert ports["totals"] == PORTS and ports["free"] == 0 and ports["used"] == PORTS

	# the early call was never disturbed: every packet sent during the run arrived
	got = recv_all(early.b.rtp, timeout=2, count=len(sent))
	assert len(sent) >= 50
	assert len(got) == len(sent) and same(got, sent)
	res = exchange(early, n=20, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	q = ok(early.query())
	assert sum(st["stats"]["packets"] for st in q["tags"][early.ftag]["medias"][0]["streams"]) \
		== len(sent) + 20

	# deleting 10 calls frees exactly room for 10 new ones
	for c in live[1:11]:
		ok(c.delete())
		c.close()
	live = [live[0]] + live[11:]
	fresh = []
	for _ in range(10):
		c, reason = _retry_setup(r)
		assert c, "no call set up after deleting calls: %r" % reason
		fresh.append(c)
	c, reason = _setup(r)
	assert c is None and "Ran out of ports" in reason
	res = exchange(fresh[-1], n=20, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])

	# and everything back once all are gone
	for c in live + fresh:
		ok(c.delete())
		c.close()
	for _ in range(30):
		if _ports(r)["free"] == PORTS:
			break
		time.sleep(0.1)
	assert _ports(r)["free"] == PORTS
	assert ok(r.ng.req({"command": "list"}))["calls"] == []
