"""A standby's foreign calls (--subscribe-keyspace, docs/ha.md), on loopback: a real
redis-server with a password, the primary writing database 5, the standby writing 6 and
subscribed to 5. The standby's media address (192.0.2.1) is not on this host, so the
calls stay foreign until an NG request takes one over (no media is sent to it).

Checked: the standby counts the primary's calls (sessionsforeign), forgets a deleted one
and an expired one (a crashed relay's keys expire), skips bad records with one line each
and counts them (not JSON, another version, a port outside its range, an interface it
does not have, a key whose call-id differs), takes a call over on an NG request (answers
it, writes it under its own name, deletes the primary's key in the other database), and
a wrong password is refused and reported."""

import json
import re
import shutil
import signal
import subprocess

import pytest

from calls import Call, ok, wait_for
from conftest import relay_argv
from rtp import free_tcp_port

PASSWORD = "s3cret"

pytestmark = [pytest.mark.sluice_only,
	      pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server")]


class Redis:
	def __init__(self):
		self.port = free_tcp_port()
		self.proc = subprocess.Popen(
			["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
			 "--save", "", "--appendonly", "no", "--requirepass", PASSWORD],
			stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
		assert wait_for(lambda: self.cmd(0, "PING") == "PONG", 5), "redis-server did not start"

	def cmd(self, db, *args):
		r = subprocess.run(["redis-cli", "-p", str(self.port), "-a", PASSWORD,
				    "--no-auth-warning", "-n", str(db)] + [str(a) for a in args],
				   capture_output=True, text=True, timeout=5)
		return r.stdout.strip() if r.returncode == 0 else None

	def keys(self, db, instance):
		out = self.cmd(db, "--scan", "--pattern", "sluice:call:%s:*" % instance)
		return sorted(k for k in (out or "").splitlines() if k)

	def stop(self):
		if self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()


@pytest.fixture
def redis():
	r = Redis()
	yield r
	r.stop()


def url(rd, db, pw=PASSWORD):
	return "%s@127.0.0.1:%d/%d" % (pw, rd.port, db)


def rstats(r):
	return ok(r.ng.req({"command": "statistics"}))["statistics"]


def foreign(r):
	return rstats(r)["currentstatistics"]["sessionsforeign"]


def test_standby_foreign_calls(relay, redis):
	rd = redis
	p = relay(interfaces=("pub/127.0.0.1",), redis=url(rd, 5), redis_instance="p1")
	# the standby: the primary's port range, its media address elsewhere
	s = relay(argv=lambda b, ng, lo, hi: relay_argv(
		ng, p.port_min, p.port_max, ("pub/192.0.2.1",), redis=url(rd, 6),
		redis_instance="s1", subscribe_keyspace=5))
	calls = [Call(p).setup() for _ in range(3)]
	try:
		assert wait_for(lambda: len(rd.keys(5, "p1")) == 3, 3)
		assert wait_for(lambda: foreign(s) == 3, 3), rstats(s)
		cur = rstats(s)["currentstatistics"]
		assert (cur["sessionsown"], cur["sessionstotal"]) == (0, 3), cur
		assert "keyspace notifications turned on" in s.log()
		assert "connected, call state is written" in s.log()	# AUTH, SELECT 6

		# a deleted call is forgotten
		ok(calls[0].delete(), "delete")
		assert wait_for(lambda: foreign(s) == 2, 3), rstats(s)

		# bad records: skipped, one line each, counted
		rec = json.loads(rd.cmd(5, "GET", "sluice:call:p1:" + calls[1].cid))
		bad = {}
		bad["x1:nojson"] = "{not json"
		v2 = dict(rec, version=2)
		bad["x1:" + rec["call-id"]] = json.dumps(v2)
		far = json.loads(json.dumps(rec))
		far["parties"][0]["media"][0]["port"] = p.port_max + 101
		bad["x2:" + rec["call-id"]] = json.dumps(far)
		nif = json.loads(json.dumps(rec))
		nif["parties"][1]["media"][0]["interface"] = "elsewhere"
		bad["x3:" + rec["call-id"]] = json.dumps(nif)
		bad["x4:other-call-id"] = json.dumps(rec)
		for k, v in bad.items():
			assert rd.cmd(5, "SET", "sluice:call:" + k, v) == "OK"
		st = wait_for(lambda: (lambda r: r if r["foreignskipped"] == 5 else None)(
			rstats(s)["redis"]), 3)
		assert st and st["foreign"] == 2, rstats(s)["redis"]
		log = s.log()
		for k, why in (("x1:nojson", "malformed JSON"),
			       ("x1:" + rec["call-id"], "record of another version"),
			       ("x2:" + rec["call-id"], "names a port outside the port range"),
			       ("x3:" + rec["call-id"], "names an interface this relay does not have"),
			       ("x4:other-call-id", "call-id differs from the key's")):
			line = "redis: foreign key sluice:call:%s skipped: %s" % (k, why)
			assert log.count(line) == 1, (line, log[-3000:])

		# a crashed relay's keys expire: the standby forgets them
		p2 = relay(argv=lambda b, ng, lo, hi: relay_argv(
			ng, p.port_min, p.port_max, ("pub/127.0.0.1",), redis=url(rd, 5),
			redis_instance="p2", redis_expires=1))
		c2 = Call(p2).setup()
		assert wait_for(lambda: foreign(s) == 3, 3), rstats(s)
		p2.proc.send_signal(signal.SIGKILL)
		p2.proc.wait(5)
		assert wait_for(lambda: rd.keys(5, "p2") == [], 5)
		assert wait_for(lambda: foreign(s) == 2, 3), rstats(s)
		c2.close()

		# an NG request takes a call over: answered, ours now, theirs deleted
		c = calls[1]
		c.ng = s.ng
		q = ok(c.query(), "query on the standby")
		assert set(q["tags"]) == {c.ftag, c.ttag}
		assert "call taken over from p1 (NG query)" in s.log()
		cur = rstats(s)["currentstatistics"]
		assert (cur["sessionsown"], cur["sessionsforeign"]) == (1, 1), cur
		assert rstats(s)["redis"]["takeovers"] == 1
		assert wait_for(lambda: rd.keys(6, "s1") == ["sluice:call:s1:" + c.cid], 3)
		assert wait_for(lambda: rd.keys(5, "p1") == ["sluice:call:p1:" + calls[2].cid], 3)
		# the standby's ports for it are the primary's
		got = sorted(st_["local port"] for t in q["tags"].values()
			     for m in t["medias"] for st_ in m["streams"])
		want = sorted(x["port"] + k for pt in rec["parties"] for x in pt["media"]
			      for k in (0, 1))
		assert got == want, (got, want)
		ok(c.delete(), "delete on the standby")
		assert wait_for(lambda: rd.keys(6, "s1") == [], 3)
		assert p.stop() == 0 and s.stop() == 0
		for r in (p, s):
			assert "[ERR" not in r.log() and not re.search("Sanitizer", r.log())
	finally:
		for c in calls:
			c.close()


def test_wrong_password_reported(relay, redis):
	r = relay(redis=url(redis, 5, pw="wrong"), redis_instance="w1")
	c = Call(r).setup()		# NG is not held up
	try:
		assert wait_for(lambda: "AUTH refused" in r.log(), 3), r.log()[-2000:]
		st = rstats(r)["redis"]
		assert st["connected"] == 0 and st["writes"] == 0, st
		assert redis.keys(5, "w1") == []
	finally:
		c.close()
