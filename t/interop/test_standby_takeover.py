"""Standby takeover (docs/ha.md): two sluiced in two network namespaces share a media
address; the test moves it from the first to the second after kill -9 of the first, as
keepalived would.

      ns stP: phones, NG client, redis-server 10.89.0.1 (bridge br0)
         |                              |
      veth (10.89.0.2)               veth (10.89.0.3)
      ns stA: relay A                ns stB: relay B (standby)
      --redis=.../1                  --redis=.../2 --subscribe-keyspace=1
      media 10.89.0.100 (at first)   media 10.89.0.100 (after the move)

Relay A carries N calls with media. B keeps them as foreign calls (statistics
sessionsforeign). kill -9 A; one call is taken over by an NG query to B before the
address comes (B binds its ports with IP_FREEBIND); then the address moves to B (the
phones' neighbour entry flushed, as a gratuitous ARP does) and B takes the other calls
over within a tick. Media then flows both ways through B with exact content, the takeover
time is measured (address moved -> first packet through, both ways, every call), A's keys
are gone and B's written; NG delete on B ends the calls and removes B's keys.

Run: python3 -m pytest -q t/interop/test_standby_takeover.py (root: ip netns).
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import netns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from calls import Call, exchange, ok, same  # noqa: E402
from ng import NG  # noqa: E402
from rtp import Phone  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
NS_P, NS_A, NS_B = "stP-%d" % os.getpid(), "stA-%d" % os.getpid(), "stB-%d" % os.getpid()
PHONES, ADDR_A, ADDR_B, MEDIA = "10.89.0.1", "10.89.0.2", "10.89.0.3", "10.89.0.100"
REDIS_PORT, NG_PORT = 16390, 22300
N_CALLS = 6

pytestmark = pytest.mark.skipif(not shutil.which("redis-server") or os.geteuid() != 0,
				reason="needs redis-server and root")


def sluiced():
	return os.environ.get("SLUICED") or str(REPO / "build" / "sluiced")


def topology():
	for ns in (NS_P, NS_A, NS_B):
		netns.add(ns)
	netns.run(NS_P, "ip", "link", "add", "br0", "type", "bridge")
	netns.run(NS_P, "ip", "addr", "add", PHONES + "/24", "dev", "br0")
	netns.run(NS_P, "ip", "link", "set", "br0", "up")
	for ns, addr, v in ((NS_A, ADDR_A, "va"), (NS_B, ADDR_B, "vb")):
		netns.run(NS_P, "ip", "link", "add", v, "type", "veth", "peer", "name", "eth0",
			  "netns", ns)
		netns.run(NS_P, "ip", "link", "set", v, "master", "br0", "up")
		netns.run(ns, "ip", "addr", "add", addr + "/24", "dev", "eth0")
		netns.run(ns, "ip", "link", "set", "eth0", "up")
	netns.run(NS_A, "ip", "addr", "add", MEDIA + "/24", "dev", "eth0")


class RelayProc:
	def __init__(self, ns, ng_addr, args, logdir):
		self.log_path = logdir / ("relay-%s.log" % ns)
		argv = [sluiced(), "--config-file=none", "--foreground", "--log-stderr",
			"--log-level=7", "--interface=" + MEDIA, "--listen-ng=%s:%d" % (ng_addr, NG_PORT),
			"--port-min=40000", "--port-max=40999", "--delete-delay=0", "--table=-1",
			"--num-threads=1"] + args
		with open(self.log_path, "w") as f:
			self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + argv,
						     stdin=subprocess.DEVNULL, stdout=f,
						     stderr=subprocess.STDOUT)
		with netns.inside(NS_P):
			self.ng = NG((ng_addr, NG_PORT))
		deadline = time.monotonic() + 10
		while True:
			assert self.proc.poll() is None, self.log()[-3000:]
			try:
				if self.ng.ping(timeout=0.2):
					break
			except (TimeoutError, OSError):
				pass
			assert time.monotonic() < deadline, self.log()[-3000:]
			time.sleep(0.05)

	def log(self):
		return self.log_path.read_text(errors="replace")

	def stats(self):
		return ok(self.ng.req({"command": "statistics"}))["statistics"]


def redis_cli(*args, db=1):
	r = netns.run(NS_P, "redis-cli", "-h", PHONES, "-p", REDIS_PORT, "-n", db, *args)
	return r.strip()


def keys(instance, db):
	out = redis_cli("--scan", "--pattern", "sluice:call:%s:*" % instance, db=db)
	return sorted(k for k in out.splitlines() if k)


def wait_for(pred, timeout, step=0.05):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		v = pred()
		if v:
			return v
		time.sleep(step)
	return pred()


@pytest.fixture
def net(tmp_path):
	procs = []
	try:
		topology()
		procs.append(subprocess.Popen(
			["ip", "netns", "exec", NS_P, "redis-server", "--port", str(REDIS_PORT),
			 "--bind", PHONES, "--save", "", "--appendonly", "no",
			 "--protected-mode", "no"], stdin=subprocess.DEVNULL,
			stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
		assert wait_for(lambda: subprocess.run(
			["ip", "netns", "exec", NS_P, "redis-cli", "-h", PHONES, "-p", str(REDIS_PORT),
			 "PING"], capture_output=True, text=True).stdout.strip() == "PONG", 5)
		yield procs, tmp_path
	finally:
		for p in procs:
			if p.poll() is None:
				p.kill()
				p.wait()
		for ns in (NS_P, NS_A, NS_B):
			netns.delete(ns)


def flowing(calls, t0, deadline):
	"""Send one packet each way of each call every 5 ms until each call has carried
	one each way; {cid: seconds from t0 until then}."""
	done = {}
	for c in calls:
		for s in (c.a.rtp, c.b.rtp):
			s.setblocking(False)
	got = {c.cid: [False, False] for c in calls}
	while len(done) < len(calls) and time.monotonic() < deadline:
		for c in calls:
			if c.cid in done:
				continue
			try:
				c.a.rtp.sendto(c.a.next_rtp(), c.a_dest())
				c.b.rtp.sendto(c.b.next_rtp(), c.b_dest())
			except OSError:
				pass
			for i, s in enumerate((c.b.rtp, c.a.rtp)):
				try:
					while True:
						s.recvfrom(2048)
						got[c.cid][i] = True
				except (BlockingIOError, ConnectionRefusedError):
					pass
			if all(got[c.cid]):
				done[c.cid] = time.monotonic() - t0
		time.sleep(0.005)
	for c in calls:
		for s in (c.a.rtp, c.b.rtp):
			s.setblocking(True)
	return done


def test_standby_takes_calls_over(net):
	procs, logdir = net
	a = RelayProc(NS_A, ADDR_A, ["--redis=%s:%d/1" % (PHONES, REDIS_PORT),
				     "--redis-instance=ra"], logdir)
	procs.append(a.proc)
	b = RelayProc(NS_B, ADDR_B, ["--redis=%s:%d/2" % (PHONES, REDIS_PORT),
				     "--redis-instance=rb", "--subscribe-keyspace=1"], logdir)
	procs.append(b.proc)
	calls = []
	with netns.inside(NS_P):
		for _ in range(N_CALLS):
			c = Call(a, a=Phone(PHONES, "caller"), b=Phone(PHONES, "callee"))
			calls.append(c.setup())
	try:
		with netns.inside(NS_P):
			for c in calls:
				res = exchange(c, n=10, pps=0)
				assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
		assert wait_for(lambda: len(keys("ra", 1)) == N_CALLS, 3), keys("ra", 1)
		# B knows them, as foreign calls, latches included (written within a second)
		cur = wait_for(lambda: (lambda s: s if s["sessionsforeign"] == N_CALLS else None)(
			b.stats()["currentstatistics"]), 3)
		assert cur and cur["sessionsown"] == 0 and cur["sessionstotal"] == N_CALLS, cur
		assert b.stats()["redis"]["foreign"] == N_CALLS
		assert "keyspace notifications turned on" in b.log()
		time.sleep(1.2)
		assert a.stats()["currentstatistics"]["sessionsown"] == N_CALLS

		a.proc.send_signal(signal.SIGKILL)
		assert a.proc.wait(5) == -signal.SIGKILL
		# the proxy fails over first: an NG request for a call takes it over at once
		first = calls[0]
		first.ng = b.ng
		q = ok(b.ng.req(first.base("query")), "query on the standby")
		assert set(q["tags"]) == {first.ftag, first.ttag}
		assert "call taken over from ra (NG query)" in b.log()

		# the address moves (keepalived); the phones learn where it is now
		t_move = time.monotonic()
		netns.run(NS_A, "ip", "addr", "del", MEDIA + "/24", "dev", "eth0")
		netns.run(NS_B, "ip", "addr", "add", MEDIA + "/24", "dev", "eth0")
		t_here = time.monotonic()	# the address is on B
		netns.run(NS_P, "ip", "neigh", "flush", "dev", "br0")
		with netns.inside(NS_P):
			done = flowing(calls, t_here, t_here + 5)
		assert sorted(done) == sorted(c.cid for c in calls), (done, b.log()[-3000:])
		takeover = max(done.values())
		print("takeover: address on the standby -> media both ways on all %d calls: "
		      "%.0f ms (first call %.0f ms); the move itself (3 ip commands) %.0f ms" % (
			      N_CALLS, takeover * 1000, min(done.values()) * 1000,
			      (t_here - t_move) * 1000))
		assert takeover < 1.0, done
		log = b.log()
		assert log.count("call taken over from ra (its address is here)") == N_CALLS - 1, log
		# exact content and counts through B
		with netns.inside(NS_P):
			for c in calls:
				c.ng = b.ng
				res = exchange(c, n=20, pps=0)
				assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
		st = b.stats()
		cur = st["currentstatistics"]
		assert (cur["sessionsown"], cur["sessionsforeign"]) == (N_CALLS, 0), cur
		assert st["redis"]["takeovers"] == N_CALLS and st["redis"]["foreign"] == 0
		assert wait_for(lambda: keys("ra", 1) == [], 3), keys("ra", 1)
		assert wait_for(lambda: len(keys("rb", 2)) == N_CALLS, 3), keys("rb", 2)

		for c in calls:
			d = ok(c.delete(), "delete on the standby")
			assert set(d["tags"]) == {c.ftag, c.ttag}
		assert b.stats()["currentstatistics"]["sessionsown"] == 0
		assert wait_for(lambda: keys("rb", 2) == [], 3), keys("rb", 2)
		with netns.inside(NS_P):
			res = exchange(calls[1], n=5, pps=0)
		assert not res["got_b"] and not res["got_a"]	# ended: nothing relayed
		b.proc.send_signal(signal.SIGTERM)
		assert b.proc.wait(5) == 0
		assert "[ERR" not in b.log() and "Sanitizer" not in b.log()
	finally:
		for c in calls:
			c.close()
