"""Call state in Redis (docs/redis.md): a real redis-server on a loopback port of its own
(never the system one). Calls with media, SIGKILL, start again with the same --redis:
every call is restored on its ports and media flows both ways again with exact content
and counts; counters continue; query and delete work, delete removes the key. With a
steady stream on 20 calls (plain, transcoded, SRTP whose sequence numbers wrapped) the
packets lost across kill -9 are measured per direction, and SRTP goes on with the right
rollover counter. Redis going away during
calls changes nothing for NG or media, is logged once and counted, and the state is
written again when it is back. A restored call whose port another socket holds is
dropped, reported, and its key removed."""

import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from calls import Call, exchange, ok, same, stream_stats, wait_for
from conftest import SANITIZER_RE, Relay
from rtp import free_tcp_port, recv_all, rtp_parse
from secure_peer import SdesKey, sdp_with

N_CALLS = 20

pytestmark = [pytest.mark.sluice_only,
	      pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server")]


class Redis:
	def __init__(self, port=None):
		self.port = port or free_tcp_port()
		self.proc = subprocess.Popen(
			["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
			 "--save", "", "--appendonly", "no", "--protected-mode", "no"],
			stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
		assert wait_for(lambda: self.cmd("PING") == "PONG", 5), "redis-server did not start"

	def cmd(self, *args):
		try:
			r = subprocess.run(["redis-cli", "-p", str(self.port), "-n", "2"] + list(args),
					   capture_output=True, text=True, timeout=5)
		except subprocess.TimeoutExpired:
			return None
		return r.stdout.strip() if r.returncode == 0 else None

	def keys(self, instance):
		out = self.cmd("--scan", "--pattern", "sluice:call:%s:*" % instance)
		return sorted(k for k in (out or "").splitlines() if k)

	def get(self, key):
		out = self.cmd("GET", key)
		return json.loads(out) if out else None

	def stop(self):
		if self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()


@pytest.fixture
def redis():
	started = []

	def start(port=None):
		r = Redis(port)
		started.append(r)
		return r
	yield start
	for r in started:
		r.stop()


def redis_opts(rd, instance):
	return {"redis": "127.0.0.1:%d/2" % rd.port, "redis_instance": instance}


def both_ways(c, n=10):
	res = exchange(c, n=n, pps=0)
	return same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])


def restart(r):
	r.proc.send_signal(signal.SIGKILL)
	assert r.proc.wait(5) == -signal.SIGKILL
	r2 = Relay(r.argv, r.ng_addr, r.port_min, r.port_max)
	return r2


def clean_stop(r):
	"""SIGTERM a relay the test started itself; exit 0, no sanitizer report."""
	assert r.stop() == 0
	log = r.log()
	assert not re.search(SANITIZER_RE, log), log[-6000:]
	assert "[ERR" not in log and "[CRIT" not in log, log[-3000:]


def test_restore_after_sigkill(relay, redis):
	rd = redis()
	r = relay(redis_update_interval=1, **redis_opts(rd, "t1"))
	calls = [Call(r).setup() for _ in range(N_CALLS)]
	r2 = None
	try:
		calls[1].setup()		# a re-INVITE, answered
		calls[2].setup()
		calls[2].offer()		# ... and one still waiting for its answer
		for c in calls:
			assert both_ways(c), c.cid
		keys = wait_for(lambda: len(rd.keys("t1")) == N_CALLS and rd.keys("t1"), 3)
		assert keys == sorted("sluice:call:t1:" + c.cid for c in calls)
		# the latches are written within the second the control thread scans them
		rec = wait_for(lambda: (lambda v: v if v["parties"][0]["media"][0]["rtp"]["latched"]
					 else None)(rd.get("sluice:call:t1:" + calls[0].cid)), 3)
		assert rec["call-id"] == calls[0].cid and rec["version"] == 1
		# the counters follow within --redis-update-interval (1 s here)
		rec = wait_for(lambda: (lambda v: v if v["parties"][0]["media"][0]["rtp"].get("stats",
					 [0])[0] == 10 else None)(rd.get("sluice:call:t1:" + calls[0].cid)), 4)
		assert rec, rd.get("sluice:call:t1:" + calls[0].cid)["parties"][0]["media"][0]["rtp"]
		assert [p["tags"] for p in rec["parties"]] == [[calls[0].ftag], [calls[0].ttag]]
		assert [x["command"] for x in rec["ng"]] == ["offer", "answer"]
		for i, want in ((1, ["offer", "answer"]), (2, ["offer", "answer", "offer"])):
			rec = rd.get("sluice:call:t1:" + calls[i].cid)
			assert [x["command"] for x in rec["ng"]] == want, (i, rec["ng"])
		ttl = int(rd.cmd("TTL", "sluice:call:t1:" + calls[0].cid))
		assert 86000 < ttl <= 86400, ttl

		t0 = time.monotonic()
		r2 = restart(r)
		r2.wait_ready()
		for c in calls:
			c.ng = r2.ng
			assert both_ways(c, n=1), c.cid
		restore_s = time.monotonic() - t0
		log = r2.log()
		assert log.count("redis: call restored") == N_CALLS, log[-3000:]
		assert "redis: %d call(s) restored, 0 dropped" % N_CALLS in log
		# exact content and counts on the restored calls
		for c in calls:
			res = exchange(c, n=20, pps=0, rtcp=2)
			assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
			assert same(res["rtcp_got_b"], res["rtcp_a"]) and same(res["rtcp_got_a"], res["rtcp_b"])
			q = ok(c.query(), "query")
			assert set(q["tags"]) == {c.ftag, c.ttag}
		st = ok(r2.ng.req({"command": "statistics"}))["statistics"]["redis"]
		assert st["restored"] == N_CALLS and st["restoredropped"] == 0, st
		d = ok(calls[0].delete(), "delete")
		counts = sorted(p for _, p, _, f in stream_stats(d, calls[0].ftag) if "RTCP" not in f)
		assert counts == [10 + 1 + 20], counts	# counters continue: 10 before, 1 + 20 after
		assert wait_for(lambda: "sluice:call:t1:" + calls[0].cid not in rd.keys("t1"), 3)
		assert len(rd.keys("t1")) == N_CALLS - 1
		print("restore: %d calls, media again after %.3f s" % (N_CALLS, restore_s))
		# a graceful stop keeps the keys (a restart restores them)
		clean_stop(r2)
		assert len(rd.keys("t1")) == N_CALLS - 1
	finally:
		for c in calls:
			c.close()
		if r2:
			r2.kill()


def srtp_call(r):
	"""A speaks SDES-SRTP, B plain RTP: (call, A's key, sluice's key toward A)."""
	c = Call(r)
	ka = SdesKey("AES_CM_128_HMAC_SHA1_80")
	c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [ka.line()]), **{"transport-protocol": "RTP/AVP"})
	c.answer()
	ours = [SdesKey.parse(v) for v in c.answer_reply.attrs(0, "crypto")]
	assert len(ours) == 1
	return c, ka, ours[0]


def srtp_both_ways(c, tx_a, rx_a, n=10):
	sent = []
	for _ in range(n):
		p = c.a.next_rtp()
		c.a.rtp.sendto(tx_a.protect(p), c.a_dest())
		sent.append(p)
	got = recv_all(c.b.rtp, timeout=2, count=n)
	sent_b = c.b.send_rtp(c.b_dest(), n=n, pps=0)
	got_a = recv_all(c.a.rtp, timeout=2, count=n)
	return (sorted(d for d, _ in got) == sorted(sent) and
		sorted(rx_a.unprotect(d) for d, _ in got_a) == sorted(sent_b))


def transcoded_call(r):
	"""A sends PCMA only, B takes PCMU only: sluice transcodes."""
	c = Call(r)
	c.offer(sdp=c.a.sdp(codecs=(8,)), codec={"mask": ["PCMA"], "transcode": ["PCMU"]})
	c.answer(sdp=c.b.sdp(codecs=(0,)))
	return c


def transcoded_flows(c, n=10):
	"""A's PCMA reaches B as PCMU, one packet out for each in."""
	for _ in range(n):
		c.a.rtp.sendto(c.a.next_rtp(pt=8, payload=b"\xd5" * 160), c.a_dest())
	got = recv_all(c.b.rtp, timeout=2, count=n)
	return len(got) == n and {rtp_parse(d)["pt"] for d, _ in got} == {0}


def test_restore_srtp_and_transcoded(relay, redis, tmp_path):
	rd = redis()
	r = relay(recording_dir=str(tmp_path), **redis_opts(rd, "t4"))
	s, ka, ks = srtp_call(r)
	t = transcoded_call(r)
	ok(r.ng.req(t.base("start recording")))
	tx_a, rx_a = ka.tx(), ks.rx()
	r2 = None
	try:
		assert srtp_both_ways(s, tx_a, rx_a)
		assert transcoded_flows(t)
		assert wait_for(lambda: len(rd.keys("t4")) == 2, 3)
		time.sleep(1.1)			# latches written (once a second)
		r2 = restart(r)
		r2.wait_ready()
		s.ng = t.ng = r2.ng
		# the same SRTP session objects: sluice kept its key toward A
		assert srtp_both_ways(s, tx_a, rx_a)
		assert transcoded_flows(t)
		q = ok(s.query(), "query")["tags"][s.ftag]["medias"][0]
		assert q["transport"] == "SDES", q
		q = ok(t.query(), "query")["tags"][t.ftag]["medias"][0]
		assert q["transcoder"]["output codec"] == "PCMU/8000", q
		# t was being recorded: it records on, into a new file
		st = ok(r2.ng.req({"command": "statistics"}))["statistics"]["recording"]
		assert st["activerecordings"] == 1 and st["files"] == 1, st
		assert "redis: recording resumed" in r2.log()
		# what the restored daemon wrote restores again: a second crash
		time.sleep(1.1)
		r3 = restart(r2)
		r2 = r3
		r3.wait_ready()
		s.ng = t.ng = r3.ng
		assert srtp_both_ways(s, tx_a, rx_a)
		assert transcoded_flows(t)
		assert "redis: 2 call(s) restored, 0 dropped" in r3.log()
		clean_stop(r3)
	finally:
		s.close()
		t.close()
		if r2:
			r2.kill()


def test_redis_down_during_calls(relay, redis):
	rd = redis()
	r = relay(**redis_opts(rd, "t2"))
	a = Call(r).setup()
	try:
		assert both_ways(a)
		assert wait_for(lambda: rd.keys("t2") == ["sluice:call:t2:" + a.cid], 3)
		time.sleep(1.2)			# a's latches written: nothing of a stays queued
		port = rd.port
		rd.stop()
		b = Call(r).setup()		# NG is not held up by the missing Redis
		t0 = time.monotonic()
		for _ in range(3):
			assert both_ways(a) and both_ways(b)
		assert time.monotonic() - t0 < 3
		st = wait_for(lambda: (lambda s: s if s["outages"] == 1 else None)(
			ok(r.ng.req({"command": "statistics"}))["statistics"]["redis"]), 5)
		assert st["connected"] == 0, st
		time.sleep(1.5)			# several reconnect attempts: still one line
		assert r.log().count("unreachable: call state is queued") == 1, r.log()[-2000:]
		rd2 = redis(port)		# empty: every call is written again
		assert wait_for(lambda: sorted(rd2.keys("t2")) ==
				sorted("sluice:call:t2:" + c.cid for c in (a, b)), 8)
		assert r.log().count("connected, call state is written") == 2	# start, back
		st = ok(r.ng.req({"command": "statistics"}))["statistics"]["redis"]
		assert st["connected"] == 1 and st["outages"] == 1, st
		ok(b.delete(), "delete")
		assert wait_for(lambda: rd2.keys("t2") == ["sluice:call:t2:" + a.cid], 3)
		m = r.ng.req({"command": "statistics"})
		assert m["result"] == "ok"
	finally:
		a.close()


def try_bind(sock, addr):
	try:
		sock.bind(addr)
		return True
	except OSError:
		return False


def test_restored_port_taken(relay, redis):
	rd = redis()
	r = relay(**redis_opts(rd, "t3"))
	x, y = Call(r).setup(), Call(r).setup()
	blocker, r2 = None, None
	try:
		assert both_ways(x) and both_ways(y)
		assert wait_for(lambda: len(rd.keys("t3")) == 2, 3)
		r.proc.send_signal(signal.SIGKILL)
		r.proc.wait(5)
		blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		# x's port toward B, held by someone else now. The killed relay's io_uring
		# receives hold its sockets until the kernel tears the ring down in a worker of
		# its own, a few ms after the process is gone
		assert wait_for(lambda: try_bind(blocker, x.b_dest()), 2)
		r2 = Relay(r.argv, r.ng_addr, r.port_min, r.port_max)
		r2.wait_ready()
		y.ng = x.ng = r2.ng
		assert both_ways(y)
		log = r2.log()
		assert "redis: call dropped, not restored" in log and x.cid in log, log[-2000:]
		assert "one of its ports (%d" % x.b_dest()[1] in log or \
			"%d)" % x.b_dest()[1] in log, log[-2000:]
		assert "redis: 1 call(s) restored, 1 dropped" in log
		assert r2.ng.req(x.base("query"))["result"] == "error"
		assert wait_for(lambda: rd.keys("t3") == ["sluice:call:t3:" + y.cid], 3)
		clean_stop(r2)
	finally:
		if blocker:
			blocker.close()
		x.close()
		y.close()
		if r2:
			r2.kill()


class Flow:
	"""One direction of one call in the steady stream of test_restart_gap: who sends to
	which relay port, who receives, and how a packet is made and recognised."""

	def __init__(self, kind, tx, dest, rx, protect=None, unprotect=None, pt=0):
		self.kind, self.tx, self.dest, self.rx = kind, tx, dest, rx
		self.protect, self.unprotect, self.pt = protect, unprotect, pt
		self.sent = self.got = self.bad = 0

	def send(self):
		p = self.tx.next_rtp(pt=self.pt, payload=(b"\xd5" if self.pt == 8 else b"\xff") * 160)
		self.tx.rtp.sendto(self.protect(p) if self.protect else p, self.dest)
		self.sent += 1

	def receive(self):
		self.rx.rtp.setblocking(False)
		try:
			while True:
				data, _ = self.rx.rtp.recvfrom(65535)
				if self.unprotect:
					try:
						self.unprotect(data)
					except Exception:	# not decryptable: a wrong ROC or key
						self.bad += 1
						continue
				self.got += 1
		except (BlockingIOError, ConnectionRefusedError):
			pass
		finally:
			self.rx.rtp.setblocking(True)


def stream(flows, secs, pps=50):
	t0 = time.monotonic()
	for k in range(int(secs * pps)):
		for f in flows:
			f.send()
		for f in flows:
			f.receive()
		d = t0 + (k + 1) / pps - time.monotonic()
		if d > 0:
			time.sleep(d)


def test_restart_gap(relay, redis):
	"""20 calls (14 plain, 3 transcoded, 3 SDES-SRTP <-> RTP) with a steady stream both
	ways (50 packets/s each): kill -9 and start again. Every direction flows again, the
	packets lost are those of the gap only (printed per kind), counters continue, and
	the SRTP calls, whose sequence numbers wrapped before the kill, go on with the right
	rollover counter in both directions (a fresh context would guess ROC 0 and every
	packet would fail authentication)."""
	rd = redis()
	r = relay(redis_update_interval=1, **redis_opts(rd, "t5"))
	calls, flows = [], []
	r2 = None
	try:
		for _ in range(14):
			c = Call(r).setup()
			calls.append(("plain", c, None, None))
			flows += [Flow("plain", c.a, c.a_dest(), c.b), Flow("plain", c.b, c.b_dest(), c.a)]
		for _ in range(3):
			c = transcoded_call(r)
			calls.append(("transcoded", c, None, None))
			flows += [Flow("transcoded", c.a, c.a_dest(), c.b, pt=8),
				  Flow("transcoded", c.b, c.b_dest(), c.a)]
		for _ in range(3):
			c, ka, ks = srtp_call(r)
			tx_a, rx_a = ka.tx(), ks.rx()
			c.a.seq = c.b.seq = 65535 - 40		# both wrap within the first second
			calls.append(("srtp", c, tx_a, rx_a))
			flows += [Flow("srtp", c.a, c.a_dest(), c.b, protect=tx_a.protect),
				  Flow("srtp", c.b, c.b_dest(), c.a, unprotect=rx_a.unprotect)]
		stream(flows, 2.0)
		time.sleep(0.2)
		for f in flows:
			f.receive()
			assert f.got == f.sent and not f.bad, (f.kind, f.sent, f.got, f.bad)
		before = {id(f): (f.sent, f.got) for f in flows}
		assert all(c.a.seq < 1000 and c.b.seq < 1000 for k, c, _, _ in calls if k == "srtp")
		t0 = time.monotonic()
		r.proc.send_signal(signal.SIGKILL)
		r.proc.wait(5)
		r2 = Relay(r.argv, r.ng_addr, r.port_min, r.port_max)
		done = []

		def restart():
			r2.wait_ready()
			done.append(time.monotonic() - t0)
		th = threading.Thread(target=restart)
		th.start()
		stream(flows, 3.0)
		th.join()
		time.sleep(0.3)
		for f in flows:
			f.receive()
		assert done, "restarted relay did not answer"
		lost = {}
		for f in flows:
			s0, g0 = before[id(f)]
			lost.setdefault(f.kind, []).append((f.sent - s0) - (f.got - g0))
			assert not f.bad, "%s: %d packets not decryptable after the restart" % (f.kind, f.bad)
		for kind, l in lost.items():
			print("restart gap, %s: packets lost per direction min %d max %d (%d directions, "
			      "50 packets/s; NG answered %.2f s after the kill)" % (kind, min(l), max(l),
										 len(l), done[0]))
			# the gap only: what was sent while no daemon listened, and a little
			assert max(l) <= 50 * (done[0] + 0.6), (kind, l)
		# exact afterwards, every kind, both ways; SRTP across the wrapped ROC
		for kind, c, tx_a, rx_a in calls:
			c.ng = r2.ng
			if kind == "plain":
				assert both_ways(c, n=10), c.cid
			elif kind == "transcoded":
				assert transcoded_flows(c), c.cid
			else:
				assert srtp_both_ways(c, tx_a, rx_a), c.cid
		# counters continue: the first plain call's A stream counts what A sent before
		# the kill (as of the record, written each second) and after
		c = calls[0][1]
		fa = [f for f in flows if f.tx is c.a][0]
		s0, g0 = before[id(fa)]
		since = (fa.sent - s0) - ((fa.sent - s0) - (fa.got - g0)) + 10	# relayed after
		counts = [p for _, p, _, fl in stream_stats(ok(c.query()), c.ftag) if "RTCP" not in fl]
		assert len(counts) == 1 and since + 25 <= counts[0] <= fa.sent + 10, (counts, since)
		clean_stop(r2)
	finally:
		for _, c, _, _ in calls:
			c.close()
		if r2:
			r2.kill()
