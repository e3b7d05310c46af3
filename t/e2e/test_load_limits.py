"""Load limits as rtpengine's: --max-sessions, --max-load, --max-cpu, --max-bandwidth.

A new call's offer is refused while a limit is reached: `result: load limit` (and a
`message` naming the limit) to a client that sent `supports: [load limit]` (Kamailio's
rtpengine module does), else `result: error` with rtpengine's error-reason "Parallel
session limit reached" for every limit (the text older proxies match to try their next
relay). Re-offers and answers of calls that exist are never refused. Refusals count in
`rejectedsessions` (sluiced: every limit; rtpengine 10.5: --max-sessions only) and, in
sluiced, per limit under `loadlimits`.

Load and CPU are forced with a tiny limit and a busy process; bandwidth with paced RTP
(50 packets/s of 172 bytes = 8600 bytes/s).
"""

import os
import subprocess
import sys
import threading
import time

import pytest

from calls import Call, err, ok
from conftest import TARGET

SUPPORTS = {"supports": ["load limit"]}
SESSION_ERROR = "Parallel session limit reached"


def refused(c, message):
	"""c's offer is refused, with and without `supports`; nothing is created."""
	r = c.offer(check=False, **SUPPORTS)
	assert r == {"result": "load limit", "message": message}, r
	r = c.offer(check=False)
	assert err(r, "offer") == SESSION_ERROR
	q = c.query()
	assert q["result"] == "error", "a refused call was created: %r" % q


def stats(r):
	return ok(r.ng.req({"command": "statistics"}))["statistics"]


class Busy:
	"""A process spinning on one CPU for `seconds` (load average and CPU usage up)."""

	def __init__(self, seconds):
		self.p = subprocess.Popen([sys.executable, "-c",
					   "import time\nt=time.monotonic()+%f\n"
					   "while time.monotonic()<t: pass" % seconds])

	def stop(self):
		self.p.kill()
		self.p.wait()


def loadavg():
	with open("/proc/loadavg") as f:
		return float(f.read().split()[0])


def test_max_sessions(relay):
	r = relay(max_sessions=2)
	calls = [Call(r).setup(), Call(r)]
	calls[1].offer(**SUPPORTS)			# an offered call counts too
	new = Call(r)
	refused(new, SESSION_ERROR)
	# the calls that exist go on: re-offer (re-INVITE) and answer
	assert "sdp" in ok(calls[0].offer(**SUPPORTS), "re-offer at the limit")
	ok(calls[1].answer(**SUPPORTS), "answer at the limit")
	assert sorted(ok(r.ng.req({"command": "list"}))["calls"]) == sorted(c.cid for c in calls)
	st = stats(r)
	assert st["totalstatistics"]["rejectedsessions"] == 2
	assert st["currentstatistics"]["sessionsown"] == 2
	# a freed slot admits a new call again
	ok(calls[0].delete())
	new.setup(**SUPPORTS)
	for c in calls + [new]:
		c.close()


def test_max_sessions_zero_refuses_all(relay):
	"""rtpengine's drain mode: 0 refuses every new call (-1, the default, none)."""
	r = relay(max_sessions=0)
	c = Call(r)
	refused(c, SESSION_ERROR)
	assert stats(r)["totalstatistics"]["rejectedsessions"] == 2
	c.close()


@pytest.mark.sluice_only
def test_refusals_per_limit(relay):
	r = relay(max_sessions=0)
	c = Call(r)
	refused(c, SESSION_ERROR)
	ll = stats(r)["loadlimits"]
	assert ll["maxsessions"] == 0
	assert ll["refused"] == {"sessions": 2, "load": 0, "cpu": 0, "bandwidth": 0}
	c.close()


def test_max_load(relay):
	busy = None
	if loadavg() < 0.05:			# an idle machine: raise the 1-minute average
		busy = Busy(20)
		deadline = time.monotonic() + 20
		while loadavg() < 0.05 and time.monotonic() < deadline:
			time.sleep(0.5)
	try:
		assert loadavg() >= 0.05, "could not raise the load average"
		r = relay(max_load=0.01)
		high = relay(max_load=100000)
		time.sleep(1.5)				# the average is sampled every second
		c = Call(r)
		refused(c, "Load limit exceeded")
		Call(high).setup(**SUPPORTS).close()
	finally:
		if busy:
			busy.stop()
	if TARGET == "sluiced":
		ll = stats(r)["loadlimits"]
		assert ll["refused"]["load"] == 2
		assert float(ll["load"]) >= 0.01
		assert stats(r)["totalstatistics"]["rejectedsessions"] == 2
	c.close()


def test_max_cpu(relay):
	r = relay(max_cpu=0.01)			# percent: anything running exceeds it
	# usage never exceeds 100 % (rtpengine 10.5 refuses at 100 % of both CPUs busy,
	# which a shared test machine reaches)
	high = relay(max_cpu=100) if TARGET == "sluiced" else None
	busy = Busy(4)
	try:
		time.sleep(1.5)				# two samples 0.5 s apart give a figure
		c = Call(r)
		refused(c, "CPU usage limit exceeded")
		if high:
			Call(high).setup(**SUPPORTS).close()
	finally:
		busy.stop()
	if TARGET == "sluiced":
		ll = stats(r)["loadlimits"]
		assert ll["refused"]["cpu"] == 2
		assert float(ll["cpu"]) > 0.01
	c.close()


def paced(c, seconds, pps=50):
	"""A sends to B at pps (160-byte payloads: 172 bytes a packet) for seconds, in the
	background."""
	t = threading.Thread(target=c.a.send_rtp, args=(c.a_dest(),),
			     kwargs=dict(n=int(seconds * pps), pps=pps))
	t.start()
	return t


def test_max_bandwidth(relay):
	r = relay(max_bandwidth=5000)
	c = Call(r).setup()
	t = paced(c, 3.0)
	try:
		time.sleep(1.8)				# sampled every second, received bytes
		new = Call(r)
		refused(new, "Bandwidth limit exceeded")
		# the call that is busy may still re-negotiate
		ok(c.offer(**SUPPORTS), "re-offer over the bandwidth limit")
		if TARGET == "sluiced":
			st = stats(r)
			assert 6000 <= st["currentstatistics"]["byterate"] <= 11000, st["currentstatistics"]
			assert st["loadlimits"]["bandwidth"] == st["currentstatistics"]["byterate"]
	finally:
		t.join()
	# media stopped: within two samples the rate is 0 and new calls are welcome again
	time.sleep(2.2)
	new.setup(**SUPPORTS)
	if TARGET == "sluiced":
		st = stats(r)
		assert st["currentstatistics"]["byterate"] == 0
		assert st["loadlimits"]["refused"]["bandwidth"] == 2
		assert st["totalstatistics"]["rejectedsessions"] == 2
	c.close()
	new.close()


def test_bandwidth_under_limit(relay):
	r = relay(max_bandwidth=20000)
	c = Call(r).setup()
	t = paced(c, 2.5)
	try:
		time.sleep(1.8)
		Call(r).setup(**SUPPORTS).close()
	finally:
		t.join()
	c.close()
