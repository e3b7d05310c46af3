#!/usr/bin/python3
"""Kernel forwarding across a restart (issue 15, docs/ha.md), run inside the test VM by
guest.sh with the module loaded: the real sluiced with --kernel=on and --redis (a
redis-server of its own on the guest's loopback), the phones of daemon_tests.py (A behind
NAT in netns a, B in netns b; topology in guest.sh).

usage: daemon_hitless.py RESULTS OUTDIR hitless

  daemon_hitless_sigkill_restart   three kernel-forwarded calls with a steady stream both
      ways; kill -9, start again with the same --redis: not one packet lost, the entries
      keep their slots and their counters continue; a fourth call whose key was removed
      from Redis is not restored and its entries are withdrawn
  daemon_hitless_sigterm_restart   the same across a clean stop and start (what
      `systemctl restart` does); then delete ends each call and removes its entries
  daemon_hitless_foreign_token_flushes   Redis names another owner token: the restart
      flushes the table instead of adopting it, and the restored call is pushed afresh

Appends PASS/FAIL lines to RESULTS; prints the figures (packets lost, restart time)."""

import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_tests as T  # noqa: E402  (reads RESULTS OUTDIR GROUP from argv)
from daemon_tests import expect  # noqa: E402

REDIS_PORT = 2297
INSTANCE = "khitless"
PPS = 100			# per direction and call
OWNER_KEY = "sluice:kernel:" + INSTANCE


class Redis:
	proc = None

	@classmethod
	def start(cls):
		if cls.proc and cls.proc.poll() is None:
			return
		cls.proc = subprocess.Popen(
			["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
			 "--appendonly", "no", "--protected-mode", "no", "--dir", T.OUT],
			stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
		ok = T.wait_until(lambda: cls.cmd("PING") == "PONG", 10)
		expect(ok, "redis-server did not start")

	@staticmethod
	def cmd(*args):
		p = subprocess.run(["redis-cli", "-p", str(REDIS_PORT)] + list(args),
				   capture_output=True, text=True, timeout=10)
		return p.stdout.strip() if p.returncode == 0 else None

	@classmethod
	def stop(cls):
		if cls.proc and cls.proc.poll() is None:
			cls.proc.kill()
			cls.proc.wait()


def daemon(name):
	d = T.Daemon(name, "--kernel=on", "--endpoint-learning=immediate",
		     "--redis=127.0.0.1:%d/0" % REDIS_PORT, "--redis-instance=" + INSTANCE,
		     keep=True, wait=False)
	d.wait_ready(timeout=90)	# forwarding never waits for it: see across()
	return d


def record_settled(call):
	"""The call's record has both sides' RTP endpoints learned and confirmed."""
	raw = Redis.cmd("GET", "sluice:call:%s:%s" % (INSTANCE, call.cid))
	if not raw:
		return False
	rec = json.loads(raw)
	rtp = [m["rtp"] for p in rec["parties"] for m in p["media"]]
	return len(rtp) == 2 and all(r.get("latched") and r.get("confirmed") for r in rtp)


class State:
	"""What the chain's scenarios share."""
	d = None
	calls = []		# [(Call, a, b)] restored across each restart
	ok = False


def new_calls(d, n, first):
	out = []
	for i in range(first, first + n):
		a = T.Phone("a", "10.0.1.2", 5000 + 10 * i, 6000 + 10 * i, keep=True)
		b = T.Phone("b", "10.0.2.2", 7000 + 10 * i, 7000 + 10 * i, keep=True)
		out.append((T.Call(d, a, b), a, b))
	pairs = [pr for _, a, b in out for pr in ((a, b), (b, a))]
	T.exchange(pairs, 10, pps=50)
	ok = T.wait_until(lambda: all(T.kernelized(c, (a.dest[1], b.dest[1])) for c, a, b in out),
			  8, keepalive=T.trickle(pairs))
	expect(ok, "calls not kernel-forwarded")
	ok = T.wait_until(lambda: all(record_settled(c) for c, _, _ in out), 5)
	expect(ok, "records in Redis lack the learned endpoints")
	return out


def across(calls, action, before=1.0, after=2.0):
	"""A steady stream (PPS each way, every call) from `before` s ahead of action() until
	`after` s past its end, however long it takes (a loaded TCG guest can take many
	seconds to start a process; the kernel forwards meanwhile). Returns ({relay port:
	(sent, got, receiver)}, seconds action() took)."""
	pairs = [pr for _, a, b in calls for pr in ((a, b), (b, a))]
	acc = {i: ([], []) for i in range(len(pairs))}
	stop = threading.Event()
	took = []

	def run():
		for _, rx in pairs:
			T.drain(rx.rtp)
		t0, k = time.monotonic(), 0
		while not stop.is_set():
			for i, (tx, rx) in enumerate(pairs):
				p = tx.packet()
				tx.rtp.sendto(p, tx.dest)
				acc[i][0].append(p)
				T.drain(rx.rtp, acc[i][1])
			k += 1
			d = t0 + k / PPS - time.monotonic()
			if d > 0:
				time.sleep(d)
		deadline = time.monotonic() + 1.0	# what is still on its way
		while time.monotonic() < deadline:
			for i, (_, rx) in enumerate(pairs):
				T.drain(rx.rtp, acc[i][1])
			time.sleep(0.05)
	t = threading.Thread(target=run)
	t.start()
	try:
		time.sleep(before)
		t0 = time.monotonic()
		action()
		took.append(time.monotonic() - t0)
		time.sleep(after)
	finally:
		stop.set()
		t.join()
	out = {}
	for i, (tx, rx) in enumerate(pairs):
		out[tx.dest[1]] = (acc[i][0], acc[i][1], rx)
	return out, took[0]


def check_lossless(label, res):
	"""Every packet of every direction delivered once, byte-identical, from the relay."""
	lost = sum(len(s) - len(g) for s, g, _ in res.values())
	sent = sum(len(s) for s, _, _ in res.values())
	print("  %s: %d packets sent, %d lost" % (label, sent, lost), flush=True)
	for port, (s, g, rx) in res.items():
		src = (T.RELAY_IP, rx.dest[1])
		T.check_delivery("%s, to relay port %d" % (label, port), s, g, src)
	return sent


def check_adopted(label, kl0, kl1, res):
	"""Same slot, counters continued by exactly what was sent meanwhile."""
	for port, (s, _, _) in res.items():
		expect(port in kl1, "%s: no entry for port %d after the restart" % (label, port))
		expect(kl1[port]["slot"] == kl0[port]["slot"], "%s: port %d moved from slot %d to "
		       "%d (re-added, not adopted)" % (label, port, kl0[port]["slot"], kl1[port]["slot"]))
		d = kl1[port]["packets"] - kl0[port]["packets"]
		expect(d == len(s), "%s: port %d: kernel counted %d of %d sent across the restart" %
		       (label, port, d, len(s)))


def adopted_line(d):
	m = re.findall(r"kernel: (\d+) entr(?:y|ies) adopted by restored calls, (\d+) withdrawn",
		       d.log())
	return tuple(int(x) for x in m[-1]) if m else None


def daemon_hitless_sigkill_restart():
	Redis.start()
	Redis.cmd("FLUSHALL")
	d = State.d = daemon("hitless-1")
	State.calls = new_calls(d, 3, 0)
	orphan = new_calls(d, 1, 3)[0]
	expect(Redis.cmd("DEL", "sluice:call:%s:%s" % (INSTANCE, orphan[0].cid)) == "1",
	       "could not remove the fourth call's key")
	expect(Redis.cmd("GET", OWNER_KEY), "no kernel owner record in Redis")
	kl0, n0 = T.klist()
	expect(n0 == 8, "%d entries before the kill, want 8" % n0)

	def restart():
		State.d.kill()
		State.d = daemon("hitless-2")
		for call, _, _ in State.calls + [orphan]:
			call.d = State.d
	res, took = across(State.calls, restart)
	print("  kill -9 to NG answering again: %.2f s" % took, flush=True)
	check_lossless("kill -9 + restart", res)
	kl1, n1 = T.klist()
	check_adopted("kill -9 + restart", kl0, kl1, res)
	expect(adopted_line(State.d) == (6, 2), "log: %r, want 6 adopted, 2 withdrawn" %
	       (adopted_line(State.d),))
	c, a, b = orphan
	for p in (a.dest[1], b.dest[1]):
		expect(p not in kl1, "entry of the unrestored call (port %d) left" % p)
	expect(n1 == 6, "%d entries after the restore, want 6" % n1)
	r = T.exchange([(a, b), (b, a)], 10, settle=0.5)
	expect(not r[0][1] and not r[1][1], "the unrestored call still forwards")
	expect(c.gone(), "the unrestored call answers query")
	a.close()
	b.close()
	for c, a, b in State.calls:
		st = T.streams(c.query())
		for p in (a.dest[1], b.dest[1]):
			expect(st[p]["forwarding"] == "kernel", "port %d after restart: %r" % (p, st[p]))
			expect(st[p]["stats"]["packets"] >= kl1[p]["packets"],
			       "port %d: query counts %d, the kernel alone %d" %
			       (p, st[p]["stats"]["packets"], kl1[p]["packets"]))
	State.ok = True


def daemon_hitless_sigterm_restart():
	expect(State.ok, "needs daemon_hitless_sigkill_restart")
	State.ok = False
	kl0, _ = T.klist()

	def restart():
		expect(State.d.stop() == 0, "exit code of the clean stop")
		State.d = daemon("hitless-3")
		for call, _, _ in State.calls:
			call.d = State.d
	res, took = across(State.calls, restart)
	print("  SIGTERM to NG answering again: %.2f s" % took, flush=True)
	check_lossless("SIGTERM + restart", res)
	kl1, _ = T.klist()
	check_adopted("SIGTERM + restart", kl0, kl1, res)
	expect(adopted_line(State.d) == (6, 0), "log: %r, want 6 adopted, 0 withdrawn" %
	       (adopted_line(State.d),))
	# delete works on adopted entries: the reply counts the kernel's packets, and the
	# entries go
	for c, a, b in State.calls[1:]:
		st = T.streams(c.delete())
		for p in (a.dest[1], b.dest[1]):
			expect(st[p]["stats"]["packets"] >= kl1[p]["packets"],
			       "delete port %d: %d packets, kernel %d" % (p, st[p]["stats"]["packets"],
									 kl1[p]["packets"]))
		kl, _ = T.klist()
		expect(a.dest[1] not in kl and b.dest[1] not in kl, "entries left after delete")
		r = T.exchange([(a, b), (b, a)], 10, settle=0.5)
		expect(not r[0][1] and not r[1][1], "a deleted call still forwards")
		a.close()
		b.close()
	State.calls = State.calls[:1]
	expect(T.kentries() == 2, "entries left: %r" % T.kentries())
	State.ok = True


def daemon_hitless_foreign_token_flushes():
	expect(State.ok, "needs daemon_hitless_sigterm_restart")
	c, a, b = State.calls[0]
	kl0, _ = T.klist()
	State.d.kill()
	Redis.cmd("SET", OWNER_KEY, '{"table":%d,"token":"00000000000000aa"}' % T.TABLE)
	State.d = c.d = daemon("hitless-4")
	expect("another owner token" in State.d.log(), "no flush logged for a foreign token")
	expect(adopted_line(State.d) is None, "adopted entries of a foreign token")
	kl1, n = T.klist()
	expect(n == 2, "%d entries after the restore, want the restored call's 2" % n)
	for p in (a.dest[1], b.dest[1]):
		expect(kl1[p]["packets"] < kl0[p]["packets"], "port %d: counters continued (%d -> %d):"
		       " entry not flushed" % (p, kl0[p]["packets"], kl1[p]["packets"]))
	r = T.exchange([(a, b), (b, a)], 20, settle=0.5)
	T.check_delivery("after the flush A->B", r[0][0], r[0][1], (T.RELAY_IP, b.dest[1]))
	T.check_delivery("after the flush B->A", r[1][0], r[1][1], (T.RELAY_IP, a.dest[1]))
	owner = json.loads(Redis.cmd("GET", OWNER_KEY) or "{}")
	expect(owner.get("token") not in (None, "00000000000000aa"), "owner not renewed: %r" % owner)
	c.delete()
	a.close()
	b.close()


def main():
	for fn in (daemon_hitless_sigkill_restart, daemon_hitless_sigterm_restart,
		   daemon_hitless_foreign_token_flushes):
		T.scenario(fn)
	for d in list(T.Daemon.live):
		d.kill()
	for p in list(T.Phone.live):
		p.close()
	Redis.stop()
	# the handover left the table and its rule: a daemon without --redis clears them
	try:
		T.Daemon("hitless-cleanup", "--kernel=on").stop()
	except T.Fail as e:
		print("cleanup: %s" % e, flush=True)
	T.sh("nft", "delete", "table", "inet", "sluice_%d" % T.TABLE, check=False)


if __name__ == "__main__":
	main()
