"""Churn soak, short (docs/soak.md; `make soak` is the 600 s run): sluice-bench soak
keeps 300 calls alive for SOAK_SECONDS (40 here) with RTP + RTCP both ways, re-INVITEs,
port changes, holds and abandoned calls, against a relay with --timeout=5
--delete-delay=0, and the test asserts on its JSON report: no misrouted packet, every
delete's counters equal to what was sent, abandoned calls gone after the timeout, the
relay's fds back to the start. The RSS slope is reported, not enforced here: within 40 s
the relay's NG reply cache (60 s TTL) is still filling; `make soak` enforces it."""

import json
import os
import subprocess

import pytest

from conftest import REPO, TARGET

BENCH = os.environ.get("SLUICE_BENCH") or os.path.join(
	REPO, os.environ.get("BUILD", "build"), "sluice-bench")
SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "40"))
CALLS = 300
# A range of its own, away from the e2e slots (42000+), e2e phones (20000-29999),
# sluice-bench smoke (10000-18000) and `make soak` (3000-4999, 6000-8999); busy ports
# (ephemeral ones of other programs) are skipped by the relay and by the tool.
RELAY_PORTS = (36000, 38999)
GEN_BASE, GEN_PAIRS = 39000, 1000


def soak_relay(relay, timeout, threads=2):
	lo, hi = RELAY_PORTS

	def argv(binary, ng_port, _pmin, _pmax):
		a = [binary, "--config-file=none", "--foreground", "--log-stderr", "--log-level=5",
		     "--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng_port,
		     "--port-min=%d" % lo, "--port-max=%d" % hi, "--timeout=%d" % timeout,
		     "--delete-delay=0", "--num-threads=%d" % threads]
		if TARGET == "rtpengine":
			a += ["--table=-1"]
		return a
	return relay(argv=argv)


def run_soak(r, *args, limit=None):
	if not os.access(BENCH, os.X_OK):
		pytest.fail("sluice-bench not built at %s (make)" % BENCH, pytrace=False)
	argv = [BENCH, "soak", "--ng", "%s:%d" % r.ng_addr, "--pid", str(r.proc.pid),
		"--port-base", str(GEN_BASE), "--port-pairs", str(GEN_PAIRS), "--json", *args]
	p = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
	try:
		res = json.loads(p.stdout)
	except ValueError:
		pytest.fail("no JSON from sluice-bench soak (exit %d):\n%s\n%s"
			    % (p.returncode, p.stdout, p.stderr))
	return p.returncode, res


@pytest.mark.sluice_only
def test_soak_churn(relay):
	r = soak_relay(relay, timeout=5)
	rc, res = run_soak(r, "--calls", str(CALLS), "--duration", str(SOAK_SECONDS),
			   "--relay-timeout", "5", "--rss-slope-limit", "-1",
			   limit=SOAK_SECONDS + 120)
	assert rc == 0 and res["valid"] is True, res["invalid_reasons"]
	ch, pk, ct, ab, mem, fds = (res[k] for k in ("churn", "packets", "counters",
						     "abandoned_calls", "memory", "fds"))
	# churn: 300 alive all along (after the warm-up), calls ending and starting
	assert ch["failed"] == 0 and ch["first_error"] == "", ch
	assert ch["concurrent_min"] >= CALLS - 5, ch
	# mean life ~11 s plus the re-INVITEs: well over 300 calls in 40 s
	assert ch["started"] >= CALLS + CALLS * SOAK_SECONDS // 30, ch
	assert ch["set_up"] == ch["started"], ch
	assert ch["deleted"] + ch["abandoned"] == ch["started"], ch
	assert ch["abandoned"] >= ch["started"] // 10, ch		# 20 % drawn
	for k in ("reinvites", "port_changes", "holds_sendonly", "holds_zero"):
		assert ch[k] >= 50, (k, ch)
	# media both ways on every call, nothing misrouted
	assert pk["rtp_sent"] >= CALLS * 2 * 50 * SOAK_SECONDS * 0.8, pk
	assert pk["rtcp_sent"] >= CALLS * 2 * SOAK_SECONDS * 0.8, pk
	assert pk["rtp_received"] <= pk["rtp_sent"], pk
	assert pk["rtp_loss_pct"] < 1, pk
	assert pk["misrouted"] == 0 and pk["wrong_source"] == 0 and pk["foreign"] == 0, pk
	assert pk["duplicate_suspects"] == 0, pk
	# every delete's per-stream packets and bytes equal what was sent
	assert ct["deletes_checked"] == ch["deleted"] and ct["mismatches"] == 0, ct
	# abandoned calls ended by the relay's timeout, nothing left at the end
	assert ab["gone"] == ch["abandoned"] and ab["still_alive"] == 0 and ab["unclear"] == 0, ab
	assert ab["listed_at_end"] == 0, ab
	assert fds["start"] > 0 and fds["end"] == fds["start"], fds
	assert mem["slope_samples"] >= SOAK_SECONDS // 2 - 2, mem
	assert mem["rss_slope_kib_per_min"] is not None, mem
	assert r.alive()


@pytest.mark.sluice_only
def test_soak_detects_calls_that_outlive_the_timeout(relay):
	"""The checks can fail: told the relay's timeout is 1 s when it is 60 s, the
	abandoned calls are still there when queried, and the run is invalid."""
	r = soak_relay(relay, timeout=60, threads=1)
	rc, res = run_soak(r, "--calls", "10", "--duration", "4", "--warmup", "1",
			   "--min-life", "1", "--max-life", "1.5", "--abandon-pct", "50",
			   "--relay-timeout", "1", "--gone-grace", "0.5", "--rss-slope-limit", "-1",
			   limit=60)
	assert rc == 1 and res["valid"] is False, res
	ab = res["abandoned_calls"]
	assert res["churn"]["abandoned"] > 0 and ab["still_alive"] == res["churn"]["abandoned"], ab
	assert ab["gone"] == 0 and ab["listed_at_end"] == ab["still_alive"], ab
	assert any("still alive" in x for x in res["invalid_reasons"]), res["invalid_reasons"]
	assert any("list shows" in x for x in res["invalid_reasons"]), res["invalid_reasons"]
	# everything else held
	assert res["counters"]["mismatches"] == 0 and res["packets"]["misrouted"] == 0
	assert res["fds"]["end"] > res["fds"]["start"]	# the living calls' sockets
