#!/usr/bin/python3
"""Restore time of calls kept in Redis (docs/redis.md): start a redis-server on a free
loopback port of its own and a sluiced with --redis, set up N calls and send media on
each (so every side is latched), SIGKILL sluiced, start it again with the same command
line, and measure from that start until (a) NG answers ping and (b) media of every call
went through both ways again (one packet each way per call, checked in call order).

  usage: utils/bench/redis_restore.py [N_CALLS=100]
  environment: SLUICED=build/sluiced, RESTORE_NG_PORT=2289, RESTORE_PORT_MIN=10000
"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "t", "e2e"))

from calls import Call, exchange, same  # noqa: E402
from conftest import Relay  # noqa: E402
from rtp import free_tcp_port  # noqa: E402


def main():
	n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
	sluiced = os.environ.get("SLUICED", os.path.join(REPO, "build", "sluiced"))
	ng = int(os.environ.get("RESTORE_NG_PORT", "2289"))
	pmin = int(os.environ.get("RESTORE_PORT_MIN", "10000"))
	pmax = pmin + 4 * n + 99
	rport = free_tcp_port()
	redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
				  "--save", "", "--appendonly", "no"],
				 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	argv = [sluiced, "--config-file=none", "--foreground", "--log-stderr", "--log-level=5",
		"--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng, "--port-min=%d" % pmin,
		"--port-max=%d" % pmax, "--num-threads=2", "--delete-delay=0", "--table=-1",
		"--redis=127.0.0.1:%d/0" % rport, "--redis-instance=bench"]
	calls, r = [], None
	try:
		time.sleep(0.3)
		r = Relay(argv, ("127.0.0.1", ng), pmin, pmax)
		r.wait_ready()
		calls = [Call(r).setup() for _ in range(n)]
		for c in calls:
			res = exchange(c, n=2, pps=0)
			assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
		time.sleep(1.5)         # the latches are written once a second
		r.proc.send_signal(signal.SIGKILL)
		r.proc.wait()
		t0 = time.monotonic()
		r = Relay(argv, ("127.0.0.1", ng), pmin, pmax)
		r.wait_ready(timeout=30)
		t_ng = time.monotonic() - t0
		for c in calls:
			c.ng = r.ng
			res = exchange(c, n=1, pps=0)
			assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"]), c.cid
		t_media = time.monotonic() - t0
		log = r.log()
		line = [x for x in log.splitlines() if "call(s) restored" in x]
		print("calls %d: NG answers after %.3f s, media of every call flows again after "
		      "%.3f s; %s" % (n, t_ng, t_media, line[-1].split("redis: ")[-1] if line else "?"))
	finally:
		for c in calls:
			c.close()
		if r:
			r.kill()
		redis.kill()
		redis.wait()


if __name__ == "__main__":
	main()
