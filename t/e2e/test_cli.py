"""sluiced command line: errors, rtpengine compatibility, clean shutdown."""

import re
import subprocess

import pytest

from calls import Call, exchange, ok, same
from conftest import binary

pytestmark = pytest.mark.sluice_only


def run_fail(*args):
	p = subprocess.run([binary(), "--config-file=none", *args], stdin=subprocess.DEVNULL,
			   capture_output=True, timeout=5)
	out = (p.stdout + p.stderr).decode("utf-8", "replace")
	return p.returncode, [l for l in out.splitlines() if l.strip()]


def test_unknown_option():
	rc, lines = run_fail("--no-such-option")
	assert rc != 0
	assert len(lines) == 1, lines
	assert "no-such-option" in lines[0]


def test_bad_option_value():
	rc, lines = run_fail("--foreground", "--timeout=abc")
	assert rc != 0
	assert len(lines) == 1, lines
	assert "timeout" in lines[0] and "abc" in lines[0]


def test_rtpengine_only_option_warns(relay):
	r = relay(extra=["--graphite=127.0.0.1:9006"])
	assert r.ng.ping()
	hits = [l for l in r.log().splitlines() if "graphite" in l]
	assert len(hits) == 1, hits
	assert "warn" in hits[0].lower()


def test_rtpengine_command_line(relay):
	"""A typical rtpengine invocation (short options, separate values) just works."""
	def argv(bin_, ng, pmin, pmax):
		return [bin_, "-i", "127.0.0.1", "-n", "127.0.0.1:%d" % ng, "-m", str(pmin),
			"-M", str(pmax), "-f", "-E", "-L", "7", "-t", "-1", "--delete-delay", "0"]
	r = relay(argv=argv)
	c = Call(r).setup()
	assert r.in_range(c.offer_reply.port())
	res = exchange(c, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	c.close()


def test_sigterm_shutdown(relay):
	r = relay()
	calls = [Call(r).setup() for _ in range(2)]
	assert r.stop() == 0
	lines = [l for l in r.log().splitlines() if "shutdown" in l.lower()]
	assert lines, "no shutdown log line"
	assert any(re.search(r"\b2\b", l) for l in lines), lines
	for c in calls:
		c.close()
