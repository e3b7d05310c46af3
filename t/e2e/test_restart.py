"""Crash and restart: sluiced is SIGKILLed while media flows on calls that hold every
port of its range, and started again with the same command line (same NG port, same
range). It must come up at once and answer ping, know none of the old calls, bind
every port of the range again (as many new calls as before fit, one more is refused
with "Ran out of ports"), and relay the new calls' media both ways with exact counts.
(The kernel side - stale forwarding entries flushed by the next start - is
t/kernel/daemon_tests.py: daemon_sigkill_restart_flushes.)"""

import signal
import threading
import time

import pytest

from calls import Call, err, exchange, ok, same, stream_stats
from conftest import Relay

N_CALLS = 10			# x 4 ports (RTP + RTCP per side) = the whole 40-port range


def blast(calls, stop, sent):
	"""Both sides of every call send RTP at 50 pps until stop; sent counts packets."""
	while not stop.is_set():
		for c in calls:
			for ph, dest in ((c.a, c.a_dest()), (c.b, c.b_dest())):
				try:
					ph.rtp.sendto(ph.next_rtp(), dest)
					sent[0] += 1
				except OSError:		# ICMP unreachable once the relay is gone
					pass
		time.sleep(0.02)


def drain_count(sock):
	sock.setblocking(False)
	n = 0
	try:
		while True:
			sock.recvfrom(65535)
			n += 1
	except (BlockingIOError, ConnectionRefusedError):
		pass
	finally:
		sock.setblocking(True)
	return n


@pytest.mark.sluice_only
def test_sigkill_during_media_then_restart(relay):
	r = relay(ports=4 * N_CALLS)
	old = [Call(r).setup() for _ in range(N_CALLS)]
	new = []
	r2 = None
	try:
		for c in old:
			res = exchange(c, n=5, pps=0)
			assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
		stop, sent = threading.Event(), [0]
		t = threading.Thread(target=blast, args=(old, stop, sent), daemon=True)
		t.start()
		time.sleep(0.5)
		# media is flowing through the relay right now
		got = sum(drain_count(c.a.rtp) + drain_count(c.b.rtp) for c in old)
		assert got > N_CALLS * 2 * 10, got
		r.proc.send_signal(signal.SIGKILL)
		assert r.proc.wait(5) == -signal.SIGKILL
		time.sleep(0.3)		# the phones go on sending at dead ports for a while
		stop.set()
		t.join(5)

		t0 = time.monotonic()
		r2 = Relay(r.argv, r.ng_addr, r.port_min, r.port_max)
		r2.wait_ready(timeout=5)
		assert time.monotonic() - t0 < 5
		assert r2.ng.ping() is True
		assert ok(r2.ng.req({"command": "list"}), "list")["calls"] == []
		for c in old:
			reason = err(r2.ng.req({"command": "query", "call-id": c.cid}), "query old call")
			assert reason == "Unknown call-id", reason

		# every port of the range binds again: the same number of calls fits, no more
		new = [Call(r2).setup() for _ in range(N_CALLS)]
		extra = Call(r2)
		try:
			reason = err(extra.offer(check=False), "offer past the range")
			assert reason == "Ran out of ports", reason
		finally:
			extra.close()
		ports = {c.a_dest()[1] for c in new} | {c.b_dest()[1] for c in new}
		assert len(ports) == 2 * N_CALLS and all(r2.in_range(p) for p in ports), ports

		for c in new:
			res = exchange(c, n=20, pps=200, rtcp=2)
			assert same(res["got_b"], res["sent_a"]), (len(res["got_b"]), c.cid)
			assert same(res["got_a"], res["sent_b"]), (len(res["got_a"]), c.cid)
			assert {a for _, a in res["got_b"]} == {c.b_dest()}
			assert {a for _, a in res["got_a"]} == {c.a_dest()}
			assert same(res["rtcp_got_b"], res["rtcp_a"]) and same(res["rtcp_got_a"], res["rtcp_b"])
			d = ok(c.delete(), "delete")
			for tag_ in (c.ftag, c.ttag):
				counts = sorted((("RTCP" in f), p, b) for _, p, b, f in stream_stats(d, tag_))
				assert counts == [(False, 20, 20 * 172), (True, 2, 28 + 32)], (tag_, counts)
		assert ok(r2.ng.req({"command": "list"}), "list")["calls"] == []
		log = r2.log()
		assert "[ERR" not in log and "[CRIT" not in log, log[-2000:]
		assert r2.stop() == 0
	finally:
		for c in old + new:
			c.close()
		if r2:
			r2.kill()
