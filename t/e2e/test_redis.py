"""Call state in Redis (docs/redis.md): a real redis-server on a loopback port of its own
(never the system one). Calls with media, SIGKILL, start again with the same --redis:
every call is restored on its ports and media flows both ways again with exact content
and counts; query and delete work, delete removes the key. Redis going away during
calls changes nothing for NG or media, is logged once and counted, and the state is
written again when it is back. A restored call whose port another socket holds is
dropped, reported, and its key removed."""

import json
import re
import shutil
import signal
import socket
import subprocess
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
	r = relay(**redis_opts(rd, "t1"))
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
		assert counts == [1 + 20], counts	# A sent 1 + 20 since the restart (not before)
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
		blocker.bind(x.b_dest())	# x's port toward B, held by someone else now
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
