"""Smoke run of build/sluice-bench (the benchmark is not a timed test; this keeps the tool
itself correct): 20 calls for 2 s against a relay, zero loss, and the relay's delete
stats equal to the packets sent."""

import json
import os
import random
import subprocess

import pytest

from calls import ok
from conftest import REPO, sanitized

BENCH = os.environ.get("SLUICE_BENCH") or os.path.join(
	REPO, os.environ.get("BUILD", "build"), "sluice-bench")


def run_bench(relay, *args):
	if not os.access(BENCH, os.X_OK):
		pytest.fail("sluice-bench not built at %s (make)" % BENCH, pytrace=False)
	# our endpoints in 10000-19999, away from the relay ranges (42000+) and from other
	# e2e phones (20000-29999); busy ports are skipped by the tool
	base = 10000 + 2 * random.randrange(0, 4000)
	argv = [BENCH, *args, "--ng", "%s:%d" % relay.ng_addr, "--pid", str(relay.proc.pid),
		"--port-base", str(base), "--json"]
	p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
	try:
		res = json.loads(p.stdout)
	except ValueError:
		pytest.fail("no JSON from sluice-bench (exit %d):\n%s\n%s" % (p.returncode, p.stdout, p.stderr))
	return p.returncode, res, p.stderr


def test_plain_smoke(relay):
	r = relay()
	rc, res, err = run_bench(r, "plain", "--calls", "20", "--duration", "2", "--warmup", "0.5")
	assert rc == 0, "sluice-bench: %s %s" % (res.get("invalid_reasons"), err)
	assert res["valid"] is True and res["invalid_reasons"] == []
	assert res["setup"] == {**res["setup"], "ok": 20, "errors": 0}
	pk = res["packets"]
	# 20 calls x 2 streams x 50 pps x (0.5 s warmup + 2 s + 0.3 s grace), give or take a tick
	assert 5400 <= pk["sent"] <= 5800, pk
	assert pk["received"] == pk["sent"] and pk["lost"] == 0 and pk["loss_pct"] == 0, pk
	assert pk["duplicates"] == 0 and pk["misrouted"] == 0 and pk["foreign"] == 0, pk
	w = res["window"]
	assert w["sent"] > 0 and w["received"] == w["sent"], w
	assert 0 < w["latency_p50_us"] <= w["latency_p99_us"] <= w["latency_max_us"], w
	assert w["relay_cpu_s"] is not None and w["relay_cpu_us_per_pkt"] is not None
	d = res["delete"]
	assert d["ok"] == 20 and d["errors"] == 0, d
	assert d["stats_mismatches"] == 0 and d["stats_inconsistent"] == 0, d
	assert res["memory"]["rss_kib_idle_calls"] > 0


def test_ctrl_smoke(relay):
	r = relay()
	rc, res, err = run_bench(r, "ctrl", "--inflight", "4", "--cycles", "40")
	assert rc == 0, "sluice-bench: %s %s" % (res.get("invalid_reasons"), err)
	assert res["cycles"] == 40 and res["errors"] == 0, res
	for cmd in ("offer", "answer", "delete"):
		assert res[cmd]["n"] == 40 and 0 < res[cmd]["p50_us"] <= res[cmd]["p99_us"], res[cmd]
	assert res["calls_per_s"] > 0


def test_churn_smoke(relay):
	"""churn mode: at 200 calls/s with 20 kept for 3 s: the calls that completed were
	offered, answered and deleted, 20 were up at each sample, all deleted at the end."""
	r = relay()
	# 16 calls being set up at most (churn's default is 64): 20 kept + 2 x 16 pairs being
	# set up fit the slot's 100 port pairs also when the relay is slow (ASan)
	rc, res, err = run_bench(r, "churn", "--rate", "200", "--alive", "20", "--duration", "3",
				 "--setup-inflight", "16")
	assert rc == 0, "sluice-bench: %s" % err
	assert res["valid"] is True and res["setup_errors"] == 0 and res["delete_errors"] == 0
	# 200/s x 3 s, minus the 20 kept; an ASan relay completes fewer in the time
	assert (60 if sanitized() else 300) <= res["calls"] <= 600, res["calls"]
	# the 20 kept and any still being set up are deleted after the run
	assert res["alive_at_end"] == 20 and res["deleted_at_end"] >= 20
	assert res["offer"]["n"] == res["delete"]["n"] == res["calls"] + res["deleted_at_end"]
	samples = res["samples"]
	assert 2 <= len(samples) <= 4
	assert all(s["rss_kib"] > 0 and s["alive"] == 20 for s in samples), samples
	assert ok(r.ng.req({"command": "list"}))["calls"] == []


def test_bench_detects_wrong_stats(relay):
	"""The check must be able to fail: a relay already stopped gives no valid run."""
	r = relay()
	r.stop()
	argv = [BENCH, "plain", "--calls", "2", "--duration", "0.5", "--warmup", "0",
		"--ng", "%s:%d" % r.ng_addr, "--ng-timeout", "100", "--json"]
	p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
	assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
	res = json.loads(p.stdout)
	assert res["valid"] is False and res["setup"]["errors"] == 2
	assert any("setups failed" in x for x in res["invalid_reasons"])


@pytest.mark.sluice_only
def test_transcode_smoke(relay):
	"""transcode mode: PCMU <-> Opus calls through the relay's transcoder, every packet
	accounted for (outputs are matched to inputs by order)."""
	r = relay()
	rc, res, err = run_bench(r, "transcode", "--calls", "10", "--duration", "2", "--warmup", "0.5")
	assert rc == 0, "sluice-bench: %s %s" % (res.get("invalid_reasons"), err)
	assert res["mode"] == "transcode" and res["valid"] is True
	pk = res["packets"]
	assert 2700 <= pk["sent"] <= 2900, pk
	assert pk["received"] >= pk["sent"] - 10 * 2 * 2, pk	# a frame or so per stream in flight
	assert pk["misrouted"] == 0 and pk["foreign"] == 0 and pk["duplicates"] == 0, pk
	w = res["window"]
	assert w["received"] == w["sent"], w
	assert 0 < w["latency_p50_us"] < 20000, w
	assert res["delete"]["stats_mismatches"] == 0, res["delete"]
