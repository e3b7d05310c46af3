#!/usr/bin/python3
"""Differential test: the corpus (corpus.py) sent to sluiced and to Debian's rtpengine,
replies normalized (normalize.py) and compared; RTP compared for the media cases
(media.py).

usage: run.py [-v] [-k SUBSTRING] [--show-all]
  SLUICED (default build/sluiced), RTPENGINE (default /usr/bin/rtpengine).

Prints the diff of each differing case, then "N identical, M differ", whether the
target of MIN_IDENTICAL identical is met, and the closing line "diff: P passed, F
failed", where a case passes if it is identical or differs only in ways listed in
known.py (each documented in docs/rtpengine-differences.md, as deliberate or as a gap).
Exits non-zero if a case fails or nothing was collected; 77 (skipped) if rtpengine is
not installed."""

import argparse
import difflib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REPO = os.path.dirname(os.path.dirname(HERE))

import corpus  # noqa: E402
import known  # noqa: E402
import media  # noqa: E402
import normalize  # noqa: E402
from relays import start_pair  # noqa: E402

MIN_IDENTICAL = 0.95
# the endpoints' ports in the SDP of the cases without media: nothing listens there, yet
# both relays send to them (ICE checks to the WebRTC base's candidates, DTLS as the
# client), so they stay clear of every other test's ports: the interop user agents'
# 30000-31999 (t/interop/interop_scenario.py), whose calls may run at the same time,
# the phones' 20000-29999, the soaks' 36000-40999, the e2e slots' 41000+
FIXED_PORTS = {"A": 34000, "A1": 34002, "B": 35000, "B1": 35002}


def fill(sdp, ports):
	for k in sorted(ports, key=len, reverse=True):
		sdp = sdp.replace("{%s}" % k, str(ports[k]))
	return sdp


def run_case(relay, case, n):
	"""-> list of normalized lines: every request's reply (and the media part)."""
	tok = normalize.Tokens(relay)
	cid = "diff-%d-%s" % (n, case.name)
	ep = None
	ports = dict(FIXED_PORTS)
	if case.media:
		_, _, aa, ba = corpus.BASES[case.name.split("/")[0]]
		ep = {"a": media.Endpoint(aa), "b": media.Endpoint(ba)}
		ports.update(A=ep["a"].port, A1=ep["a"].port + 2, B=ep["b"].port, B1=ep["b"].port + 2)
	out = []
	sdp_to = {}
	try:
		for i, (cmd, side, sdp, keys) in enumerate(case.steps):
			# an offer's from-tag is its sender's; an answer's is the offerer's
			me, other = "tag-" + side, "tag-" + ("b" if side == "a" else "a")
			ftag, ttag = (other, me) if cmd == "answer" else (me, other)
			msg = {"command": cmd, "call-id": cid, "from-tag": ftag}
			if cmd != "publish" and (cmd != "offer" or i > 0):
				msg["to-tag"] = ttag
			if sdp is not None:
				msg["sdp"] = fill(sdp, ports)
			msg.update(keys)
			try:
				rep = relay.ng.req(msg, timeout=3)
			except TimeoutError:
				rep = None
			out.append("#%d %s from %s:" % (i + 1, cmd, side))
			out += ["  " + l for l in normalize.reply(cmd, rep, tok)]
			if isinstance(rep, dict) and isinstance(rep.get("sdp"), str):
				if not rep["sdp"].endswith("\r\n"):
					out.append("  <sdp does not end in CRLF>")
				# the offer's SDP goes to the other side, the answer's to the offerer
				sdp_to["b" if side == "a" else "a"] = rep["sdp"]
			if ep and cmd == "answer" and len(sdp_to) == 2:
				out += media.exchange(ep, sdp_to)
	finally:
		if ep:
			for e in ep.values():
				e.close()
	return out


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("-k", default="", help="only cases whose name contains this")
	ap.add_argument("-v", action="store_true", help="print every case's transcript")
	ap.add_argument("--raw", action="store_true", help="diffs without known.py filtering")
	a = ap.parse_args()

	rtpengine = os.environ.get("RTPENGINE", "/usr/bin/rtpengine")
	sluiced = os.environ.get("SLUICED") or os.path.join(REPO, "build", "sluiced")
	if not os.access(rtpengine, os.X_OK):
		print("diff: rtpengine not installed at %s (package rtpengine-daemon): skipped"
		      % rtpengine)
		return 77
	if not os.access(sluiced, os.X_OK):
		print("diff: sluiced not found at %s: build it (make)" % sluiced)
		return 1
	cases = [c for c in corpus.cases() if a.k in c.name]
	if not cases:
		print("diff: no cases collected")
		print("diff: 0 passed, 1 failed")
		return 1

	t0 = time.monotonic()
	rtpe, slu = start_pair(sluiced, rtpengine)
	identical = documented = 0
	failed = []
	kinds = {}
	try:
		for n, case in enumerate(cases):
			want = run_case(rtpe, case, n)
			got = run_case(slu, case, n)
			if a.v:
				print("=== %s\n%s" % (case.name, "\n".join(got)))
			if want == got:
				identical += 1
				continue
			reasons = None if a.raw else known.explain(case.name, want, got)
			if reasons:
				documented += 1
				for k in reasons:
					kinds[k] = kinds.get(k, 0) + 1
				print("--- %s: differs as documented (%s)" % (case.name, ", ".join(reasons)))
				continue
			failed.append(case.name)
			print("--- %s: DIFFERS (- rtpengine, + sluiced)" % case.name)
			for l in difflib.unified_diff(want, got, "rtpengine", "sluiced", n=3, lineterm=""):
				print("   " + l)
		for r in (rtpe, slu):
			if r.proc.poll() is not None:
				failed.append("%s exited with %d" % (r.name, r.proc.returncode))
	finally:
		rtpe.stop()
		slu.stop()

	total = len(cases)
	differ = total - identical
	print()
	for kind in ("deliberate", "gap"):
		ids = sorted(k for k in kinds if k.startswith(kind + ":"))
		if ids:
			print("%s: %s" % (kind, ", ".join("%s (%d)" % (k.split(":")[1], kinds[k])
							  for k in ids)))
	print("%d identical, %d differ (%d of them only as documented in "
	      "docs/rtpengine-differences.md), %d cases, %.1f s"
	      % (identical, differ, documented, total, time.monotonic() - t0))
	print("target %d %% identical: %s (%.1f %%)" % (MIN_IDENTICAL * 100,
	      "met" if identical >= MIN_IDENTICAL * total else "not met",
	      100.0 * identical / total))
	passed = identical + documented
	print("diff: %d passed, %d failed" % (passed, len(failed)))
	return 0 if not failed else 1


if __name__ == "__main__":
	sys.exit(main())
