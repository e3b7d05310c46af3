#!/usr/bin/python3
"""Runs every attack scenario of attack.py in every learning mode against sluiced and
against Debian's rtpengine, and prints a markdown table of what reached whom.

    /usr/bin/python3 t/e2e/attack_table.py [--relays sluiced,rtpengine] [--modes ...]
                                            [--scenarios 'race,flood,...']

Needs root (the scenarios run in a private network namespace, see attack.py). Each
relay runs as the e2e harness starts it (NG on 127.0.0.1:2300+n, never 2223; rtpengine
with --table=-1, userspace forwarding) plus --endpoint-learning=MODE. rtpengine's numbers
are measurements; the "as spec" column says whether a row matches what issue 11
specifies for sluiced (attack.SPEC)."""

import argparse
import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import attack  # noqa: E402
from conftest import Relay, next_slot, SLUICED, RTPENGINE  # noqa: E402

# (scenario, phase shown, what B sent toward A in that phase)
ROWS = [
	("race", "race"),
	("flood", "flood"),
	("late fresh SSRC", "in window"),
	("late fresh SSRC", "after window"),
	("late caller SSRC", "in window"),
	("late caller SSRC", "after window"),
	("rebind", "rebound"),
	("rebind + media-handover", "rebound"),
	("re-offer", "moved"),
	("SRTP forged", "forged first"),
	("SRTP forged", "forged after"),
]
# run together: each waits out the 3 s learning window, so they share the wait
CONCURRENT = ["late fresh SSRC", "late caller SSRC", "rebind", "rebind + media-handover",
	      "re-offer"]


def argv_for(kind, mode, ng_port, pmin, pmax):
	binary = SLUICED if kind == "sluiced" else RTPENGINE
	argv = [binary, "--config-file=none", "--foreground", "--log-stderr", "--log-level=6",
		"--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng_port,
		"--port-min=%d" % pmin, "--port-max=%d" % pmax, "--delete-delay=0",
		"--num-threads=2", "--endpoint-learning=%s" % mode]
	if kind == "rtpengine":
		argv.append("--table=-1")
	return argv


def run_mode(kind, mode, scenarios):
	ng, pmin = next_slot()
	r = Relay(argv_for(kind, mode, ng, pmin, pmin + 199), ("127.0.0.1", ng), pmin, pmin + 199)
	try:
		r.wait_ready()
		out = attack.run_concurrently({n: (lambda n=n: attack.SCENARIOS[n](r))
					       for n in scenarios if n in CONCURRENT})
		for n in scenarios:
			if n not in CONCURRENT:
				try:
					out[n] = attack.run_steady(lambda: attack.SCENARIOS[n](r))
				except Exception as e:	# shown in the table
					out[n] = e
		return out
	finally:
		r.stop()
		r.kill()


def cell(n, of):
	return "%d/%d" % (n, of)


def row(name, phase, mode, kind, res):
	if isinstance(res, BaseException):
		why = (str(res).splitlines() or [type(res).__name__])[0][:80]
		return "| %s, %s | %s | %s | error: %s |  |  |  |  |  | no |" % (name, phase, mode, kind, why)
	m = res["phases"].get(phase)
	b_sent = m["sent"]["callee"]
	to_a = m["to_caller"] + m.get("to_new_port", 0)
	to_a_s = cell(to_a, b_sent)
	if "to_new_port" in m:
		to_a_s += " (old %d, new %d)" % (m["to_caller"], m["to_new_port"])
	s_sent = m["sent"]["stranger"]
	inj = cell(m["injected"], s_sent) if s_sent else "-"
	if name == "flood":
		inj += " (%d before A's first)" % m["stranger_first"]
	if name == "SRTP forged":	# forged packets: anything at B is a forwarded forgery
		inj = cell(m["at_callee"], m["sent"]["caller"] + s_sent)
	bad = attack.mismatches(name, mode, res, phase)
	foreign = res.get("foreign")
	return "| %s, %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
		name, phase, mode, kind, to_a_s, cell(m["to_sdp"] + m["to_expected"], b_sent),
		cell(m["to_stranger"], b_sent), inj, cell(m["caller_fwd"], m["sent"]["caller"]),
		"-" if foreign is None else foreign, "yes" if not bad else "no")


HEADER = """| scenario, phase | mode | relay | B's packets to caller | to caller's SDP address | to stranger | stranger packets injected to callee | caller's packets to callee | foreign (query, whole call) | as spec |
|---|---|---|---|---|---|---|---|---|---|"""


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
	ap.add_argument("--relays", default="sluiced,rtpengine")
	ap.add_argument("--modes", default=",".join(attack.MODES))
	ap.add_argument("--scenarios", default=",".join(attack.SCENARIOS))
	ap.add_argument("--details", action="store_true", help="print every mismatch")
	a = ap.parse_args()
	if os.geteuid() != 0:
		sys.exit("attack_table.py needs root (it runs the scenarios in a network namespace)")
	relays, modes = a.relays.split(","), a.modes.split(",")
	scenarios = a.scenarios.split(",")
	results = {}
	sb = attack.Sandbox()
	sb.enter()
	t0 = time.monotonic()
	try:
		for kind in relays:
			for mode in modes:
				results[kind, mode] = run_mode(kind, mode, scenarios)
				print("  ran %s --endpoint-learning=%s (%.0f s)" % (kind, mode, time.monotonic() - t0),
				      file=sys.stderr, flush=True)
	finally:
		sb.close()
	print("%s, %s, %.0f s" % (" ".join(["/usr/bin/python3", "t/e2e/attack_table.py"] + sys.argv[1:]),
				  datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), time.monotonic() - t0))
	print()
	print(HEADER)
	for name, phase in ROWS:
		if name not in scenarios:
			continue
		for mode in modes:
			for kind in relays:
				print(row(name, phase, mode, kind, results[kind, mode][name]))
	if a.details:
		print()
		for (kind, mode), rs in results.items():
			for name, res in rs.items():
				if isinstance(res, BaseException):
					continue
				for d in attack.mismatches(name, mode, res):
					print("- %s %s %s: %s" % (kind, mode, name, d))


if __name__ == "__main__":
	main()
