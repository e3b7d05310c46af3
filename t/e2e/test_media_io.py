"""The two userspace media I/O paths (--io-uring, the default, and --no-io-uring): the
start-up line names the one in use, many calls forward every packet in bursts, and the
ports of deleted calls can be taken again at once (a receive still armed on a deleted
call's socket would keep its port bound)."""

import os

import pytest

from calls import Call, ok, same
from rtp import recv_all

pytestmark = pytest.mark.sluice_only

PATHS = {
	"uring": (["--io-uring"], ("media I/O: io_uring", "io_uring unavailable (")),
	"mmsg": (["--no-io-uring"], ("media I/O: recvmmsg/sendmmsg (io-uring off)",)),
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_startup_line(relay, path):
	extra, lines = PATHS[path]
	if path == "uring" and "--no-io-uring" in os.environ.get("E2E_SLUICED_ARGS", ""):
		pytest.skip("E2E_SLUICED_ARGS turns io_uring off")
	r = relay(extra=extra)
	log = r.log()
	assert sum(log.count(x) for x in lines) == 1, log[-2000:]


@pytest.mark.parametrize("path", sorted(PATHS))
def test_many_calls_bursts(relay, path):
	"""20 calls, both sides of each bursting 40 packets with no pause: every packet
	arrives at the other side, and the relay's counters say so exactly."""
	r = relay(extra=PATHS[path][0])
	calls = [Call(r).setup() for _ in range(20)]
	sent = {}
	for c in calls:		# all bursts go out before anything is read
		sent[c] = (c.a.send_rtp(c.a_dest(), n=40, pps=0), c.b.send_rtp(c.b_dest(), n=40, pps=0))
	for c in calls:
		sa, sb = sent[c]
		assert same(recv_all(c.b.rtp, timeout=2, count=40), sa)
		assert same(recv_all(c.a.rtp, timeout=2, count=40), sb)
	for c in calls:
		rep = ok(c.delete())
		assert rep["totals"]["RTP"]["packets"] == 80, rep["totals"]
		c.close()


@pytest.mark.parametrize("path", sorted(PATHS))
def test_ports_reused_after_delete(relay, path):
	"""A range of 8 ports holds two calls: ten rounds of two calls set up, used and
	deleted only work if every deleted call's sockets are really closed."""
	r = relay(ports=8, extra=PATHS[path][0])
	for _ in range(10):
		calls = [Call(r).setup() for _ in range(2)]
		for c in calls:
			sa = c.a.send_rtp(c.a_dest(), n=5, pps=0)
			assert same(recv_all(c.b.rtp, timeout=2, count=5), sa)
			ok(c.delete())
			c.close()
