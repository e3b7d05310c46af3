#!/usr/bin/env python3
"""Raw figures and sluice/rtpengine ratios from one run-bench.sh output directory.

usage: summary.py OUTDIR [RELAY ...]   (reads OUTDIR/RELAY-TEST.json for the tests in
$BENCH_TESTS, default all: mem plain ctrl1 ctrl32 ramp transcode xramp churn rec-off
rec-on srtp srtp-gcm srtp2 xc-amrwb xc-gsm)
"""

import json
import os
import sys


def load(out, relay, test):
	try:
		with open(os.path.join(out, "%s-%s.json" % (relay, test))) as f:
			return json.load(f)
	except (OSError, ValueError):
		return None


def get(d, *path):
	for p in path:
		if not isinstance(d, dict) or p not in d:
			return None
		d = d[p]
	return d


ROWS = [
	# label, test, path, format
	("plain: calls", "plain", ("calls",), "%d"),
	("plain: forwarded pkt/s", "plain", ("window", "forwarded_pps"), "%.0f"),
	("plain: loss %", "plain", ("packets", "loss_pct"), "%.4f"),
	("plain: latency p50 ms", "plain", ("window", "latency_p50_us"), "ms"),
	("plain: latency p99 ms", "plain", ("window", "latency_p99_us"), "ms"),
	("plain: relay CPU %", "plain", ("window", "relay_cpu_pct"), "%.1f"),
	("plain: relay CPU us/packet", "plain", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("plain: relay user CPU us/packet", "plain", ("window", "relay_user_us_per_pkt"), "%.3f"),
	("plain: generator CPU %", "plain", ("window", "generator_cpu_pct"), "%.1f"),
	("plain-hi: forwarded pkt/s", "plain-hi", ("window", "forwarded_pps"), "%.0f"),
	("plain-hi: loss %", "plain-hi", ("packets", "loss_pct"), "%.4f"),
	("plain-hi: latency p99 ms", "plain-hi", ("window", "latency_p99_us"), "ms"),
	("plain-hi: relay CPU us/packet", "plain-hi", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("plain-lo: forwarded pkt/s", "plain-lo", ("window", "forwarded_pps"), "%.0f"),
	("plain-lo: loss %", "plain-lo", ("packets", "loss_pct"), "%.4f"),
	("plain-lo: latency p99 ms", "plain-lo", ("window", "latency_p99_us"), "ms"),
	("plain-lo: relay CPU us/packet", "plain-lo", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("plain: delete stats mismatches", "plain", ("delete", "stats_mismatches"), "%d"),
	("ramp: sustained calls", "ramp", ("sustained_calls",), "%d"),
	("ramp: stopped by", "ramp", ("limit",), "%s"),
	("transcode ramp: sustained calls", "xramp", ("sustained_calls",), "%d"),
	("transcode ramp: stopped by", "xramp", ("limit",), "%s"),
	("ctrl 1: calls/s", "ctrl1", ("calls_per_s",), "%.0f"),
	("ctrl 1: offer p50 ms", "ctrl1", ("offer", "p50_us"), "ms"),
	("ctrl 32: calls/s", "ctrl32", ("calls_per_s",), "%.0f"),
	("ctrl 32: offer p50 ms", "ctrl32", ("offer", "p50_us"), "ms"),
	("ctrl 32: offer p99 ms", "ctrl32", ("offer", "p99_us"), "ms"),
	("ctrl 32: relay CPU us/call", "ctrl32", ("relay_cpu_us_per_call",), "%.1f"),
	("memory: KiB per idle call", "mem", ("memory", "kib_per_call"), "%.2f"),
	("transcode: calls (PCMU<->Opus)", "transcode", ("calls",), "%d"),
	("transcode: loss %", "transcode", ("window", "loss_pct"), "%.4f"),
	("transcode: latency p50 ms", "transcode", ("window", "latency_p50_us"), "ms"),
	("transcode: latency p99 ms", "transcode", ("window", "latency_p99_us"), "ms"),
	("transcode: relay CPU %", "transcode", ("window", "relay_cpu_pct"), "%.1f"),
	("transcode: relay CPU us/packet", "transcode", ("window", "relay_cpu_us_per_pkt"), "%.1f"),
	("xc-amrwb: calls (PCMU<->AMR-WB)", "xc-amrwb", ("calls",), "%d"),
	("xc-amrwb: loss %", "xc-amrwb", ("window", "loss_pct"), "%.4f"),
	("xc-amrwb: latency p99 ms", "xc-amrwb", ("window", "latency_p99_us"), "ms"),
	("xc-amrwb: relay CPU %", "xc-amrwb", ("window", "relay_cpu_pct"), "%.1f"),
	("xc-amrwb: relay CPU us/packet", "xc-amrwb", ("window", "relay_cpu_us_per_pkt"), "%.1f"),
	("xc-gsm: calls (PCMU<->GSM)", "xc-gsm", ("calls",), "%d"),
	("xc-gsm: loss %", "xc-gsm", ("window", "loss_pct"), "%.4f"),
	("xc-gsm: latency p99 ms", "xc-gsm", ("window", "latency_p99_us"), "ms"),
	("xc-gsm: relay CPU %", "xc-gsm", ("window", "relay_cpu_pct"), "%.1f"),
	("xc-gsm: relay CPU us/packet", "xc-gsm", ("window", "relay_cpu_us_per_pkt"), "%.1f"),
	("churn: calls/s (offer+answer+delete)", "churn", ("calls_per_s",), "%.0f"),
	("churn: calls/s, first third", "churn", ("calls_per_s_first_third",), "%.0f"),
	("churn: calls/s, last third", "churn", ("calls_per_s_last_third",), "%.0f"),
	("churn: relay CPU us/call, first third", "churn", ("relay_cpu_us_per_call_first_third",), "%.1f"),
	("churn: relay CPU us/call, last third", "churn", ("relay_cpu_us_per_call_last_third",), "%.1f"),
	("churn: relay RSS before, MiB", "churn", ("rss_kib_before",), "mib"),
	("churn: relay RSS max, MiB", "churn", ("rss_kib_max",), "mib"),
	("churn: relay RSS at the end, MiB", "churn", ("rss_kib_end",), "mib"),
	("churn: offer p99 ms", "churn", ("offer", "p99_us"), "ms"),
	("rec-off: calls", "rec-off", ("calls",), "%d"),
	("rec-off: forwarded pkt/s", "rec-off", ("window", "forwarded_pps"), "%.0f"),
	("rec-off: loss %", "rec-off", ("packets", "loss_pct"), "%.4f"),
	("rec-off: relay CPU us/packet", "rec-off", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("rec-on: calls (all recorded)", "rec-on", ("calls",), "%d"),
	("rec-on: forwarded pkt/s", "rec-on", ("window", "forwarded_pps"), "%.0f"),
	("rec-on: loss %", "rec-on", ("packets", "loss_pct"), "%.4f"),
	("rec-on: latency p99 ms", "rec-on", ("window", "latency_p99_us"), "ms"),
	("rec-on: relay CPU %", "rec-on", ("window", "relay_cpu_pct"), "%.1f"),
	("rec-on: relay CPU us/packet", "rec-on", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("rec-on: recording dir MB/s", "rec-on", ("window", "dir_bytes_per_s"), "mb"),
	("rec-on: recording bytes/packet", "rec-on", ("window", "dir_bytes_per_pkt"), "%.1f"),
	("srtp: calls (AES_CM_128_80 <-> RTP)", "srtp", ("calls",), "%d"),
	("srtp: forwarded pkt/s", "srtp", ("window", "forwarded_pps"), "%.0f"),
	("srtp: loss %", "srtp", ("packets", "loss_pct"), "%.4f"),
	("srtp: latency p50 ms", "srtp", ("window", "latency_p50_us"), "ms"),
	("srtp: latency p99 ms", "srtp", ("window", "latency_p99_us"), "ms"),
	("srtp: relay CPU %", "srtp", ("window", "relay_cpu_pct"), "%.1f"),
	("srtp: relay CPU us/packet", "srtp", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("srtp: relay user CPU us/packet", "srtp", ("window", "relay_user_us_per_pkt"), "%.3f"),
	("srtp-gcm: loss %", "srtp-gcm", ("packets", "loss_pct"), "%.4f"),
	("srtp-gcm: latency p99 ms", "srtp-gcm", ("window", "latency_p99_us"), "ms"),
	("srtp-gcm: relay CPU us/packet", "srtp-gcm", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("srtp-gcm: relay user CPU us/packet", "srtp-gcm", ("window", "relay_user_us_per_pkt"), "%.3f"),
	("srtp2 (CM_80 <-> GCM): loss %", "srtp2", ("packets", "loss_pct"), "%.4f"),
	("srtp2: latency p99 ms", "srtp2", ("window", "latency_p99_us"), "ms"),
	("srtp2: relay CPU us/packet", "srtp2", ("window", "relay_cpu_us_per_pkt"), "%.3f"),
	("srtp2: relay user CPU us/packet", "srtp2", ("window", "relay_user_us_per_pkt"), "%.3f"),
]

# label, test, path, target ratio, sluice must be <= (True) or >= (False) target x rtpengine
TARGETS = [
	("CPU us per forwarded packet (plain)", "plain", ("window", "relay_cpu_us_per_pkt"), 0.75, True),
	("calls sustained on one core (ramp)", "ramp", ("sustained_calls",), 1.6, False),
	("PCMU<->Opus calls on one core (ramp)", "xramp", ("sustained_calls",), 1.5, False),
	("calls/s, 32 in flight (ctrl)", "ctrl32", ("calls_per_s",), 2.0, False),
	("offer p50, 32 in flight (ctrl)", "ctrl32", ("offer", "p50_us"), 0.5, True),
	("memory per idle call", "mem", ("memory", "kib_per_call"), 0.5, True),
	# issue 6: >= 1.5 x the transcoded calls per core, i.e. <= 1/1.5 the CPU per packet
	("CPU us per transcoded packet", "transcode", ("window", "relay_cpu_us_per_pkt"), 0.67, True),
	# issue 11: control-plane churn (2000 calls/s, 100 alive) keeps RSS at or below rtpengine's
	("relay RSS max under churn", "churn", ("rss_kib_max",), 1.0, True),
	# issue 16: SRTP <-> RTP at <= 0.6 x rtpengine's CPU per packet (CM and GCM)
	("CPU us per packet, SRTP AES-CM <-> RTP", "srtp", ("window", "relay_cpu_us_per_pkt"), 0.6, True),
	("CPU us per packet, SRTP GCM <-> RTP", "srtp-gcm", ("window", "relay_cpu_us_per_pkt"), 0.6, True),
	("CPU us per packet, SRTP <-> SRTP", "srtp2", ("window", "relay_cpu_us_per_pkt"), 0.6, True),
	("user CPU us per packet, SRTP AES-CM", "srtp", ("window", "relay_user_us_per_pkt"), 0.6, True),
	("user CPU us per packet, SRTP GCM", "srtp-gcm", ("window", "relay_user_us_per_pkt"), 0.6, True),
	# issue 17: the libavcodec codecs, both relays through the same libavcodec: no worse
	("CPU us per packet, PCMU <-> AMR-WB", "xc-amrwb", ("window", "relay_cpu_us_per_pkt"), 1.0, True),
	("CPU us per packet, PCMU <-> GSM", "xc-gsm", ("window", "relay_cpu_us_per_pkt"), 1.0, True),
]


def fmt(v, f):
	if v is None:
		return "-"
	if f == "ms":
		return "%.3f" % (v / 1000.0)
	if f == "mib":
		return "%.1f" % (v / 1024.0)
	if f == "mb":
		return "%.2f" % (v / 1e6)
	if f == "%s":
		return str(v)
	try:
		return f % v
	except TypeError:
		return str(v)


def churn_series(data, relays, every=5):
	"""calls/s (mean over each `every` s) and relay RSS (at its end) over time, relays
	side by side."""
	series = {r: get(data[r]["churn"], "samples") or [] for r in relays}
	if not any(series.values()):
		return
	print("\n== churn over time (calls/s, relay CPU us per call, relay RSS MiB; %d s blocks)"
	      % every)
	print("%6s" % "t s" + "".join("%18s%8s%8s" % (r + " c/s", "us/c", "MiB") for r in relays))
	n = max(len(s) for s in series.values())
	for i in range(0, n - every + 1, every):
		row = "%6d" % (i + every)
		for r in relays:
			blk = series[r][i:i + every]
			rates = [x["calls_per_s"] for x in blk if isinstance(x.get("calls_per_s"), (int, float))]
			cost = [x["relay_cpu_us_per_call"] for x in blk
				if isinstance(x.get("relay_cpu_us_per_call"), (int, float))]
			row += "%18s%8s%8s" % (fmt(sum(rates) / len(rates) if rates else None, "%.0f"),
					       fmt(sum(cost) / len(cost) if cost else None, "%.0f"),
					       fmt(get(blk[-1], "rss_kib") if blk else None, "mib"))
		print(row)


def recording_cost(data, relays):
	"""Each relay against itself: CPU per forwarded packet with every call recorded over
	the same calls not recorded, and what the recording wrote."""
	print("\n== recording: each relay recording all calls vs not recording")
	print("%-14s %12s %12s %8s %14s %12s %12s" % ("", "us/pkt off", "us/pkt on", "on/off",
						       "writer us/pkt", "disk MB/s", "bytes/pkt"))
	for r in relays:
		off = get(data[r]["rec-off"], "window", "relay_cpu_us_per_pkt")
		on = get(data[r]["rec-on"], "window", "relay_cpu_us_per_pkt")
		ratio = on / off if isinstance(on, (int, float)) and isinstance(off, (int, float)) \
			and off else None
		# sluiced's writer thread (named sluice-rec): its share of "on", measured apart
		writer = get(data[r]["rec-on"], "window", "relay_threads_cpu_us_per_pkt", "sluice-rec")
		print("%-14s %12s %12s %8s %14s %12s %12s" % (
			r, fmt(off, "%.3f"), fmt(on, "%.3f"), fmt(ratio, "%.2f"), fmt(writer, "%.3f"),
			fmt(get(data[r]["rec-on"], "window", "dir_bytes_per_s"), "mb"),
			fmt(get(data[r]["rec-on"], "window", "dir_bytes_per_pkt"), "%.1f")))


def redis_cost(out, data, relays):
	"""Each relay with call state in Redis against itself without: control-plane calls/s
	(32 in flight), memory per idle call, and sluiced's write queue at its peak."""
	print("\n== call state in Redis: each relay with --redis vs without")
	# calls/s is wall clock: on a loaded host it follows the CPU share the relay gets
	# (more threads, more share); the relay's CPU per call does not
	print("%-10s %8s %8s %6s %9s %9s %6s %8s %8s %6s %10s" % (
		"", "calls/s", "calls/s", "on/", "us/call", "us/call", "on/", "KiB/call", "KiB/call",
		"on/", "queue peak"))
	print("%-10s %8s %8s %6s %9s %9s %6s %8s %8s %6s %10s" % (
		"", "off", "on", "off", "off", "on", "off", "off", "on", "off", "ctrl/mem"))
	for r in relays:
		c0 = get(data[r]["ctrl32"], "calls_per_s")
		c1 = get(data[r]["ctrl-redis"], "calls_per_s")
		m0 = get(data[r]["mem"], "memory", "kib_per_call")
		m1 = get(data[r]["mem-redis"], "memory", "kib_per_call")
		peak = []
		for t in ("ctrl-redis", "mem-redis"):
			try:
				with open("%s/%s-%s.stats.json" % (out, r, t)) as f:
					peak.append(json.load(f)["statistics"]["redis"]["queuemax"])
			except (OSError, ValueError, KeyError, TypeError):
				peak.append(None)

		def ratio(a, b):
			return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
				and b else None
		u0 = get(data[r]["ctrl32"], "relay_cpu_us_per_call")
		u1 = get(data[r]["ctrl-redis"], "relay_cpu_us_per_call")
		print("%-10s %8s %8s %6s %9s %9s %6s %8s %8s %6s %10s" % (
			r, fmt(c0, "%.0f"), fmt(c1, "%.0f"), fmt(ratio(c1, c0), "%.2f"),
			fmt(u0, "%.0f"), fmt(u1, "%.0f"), fmt(ratio(u1, u0), "%.2f"),
			fmt(m0, "%.2f"), fmt(m1, "%.2f"), fmt(ratio(m1, m0), "%.2f"),
			"/".join(fmt(p, "%d") for p in peak)))


# label, test, path: io_uring (sluiced) against recvmmsg/sendmmsg (sluiced-mmsg)
URING_ROWS = [
	("plain: CPU us/packet", "plain", ("window", "relay_cpu_us_per_pkt")),
	("plain: latency p99 ms", "plain", ("window", "latency_p99_us")),
	("plain-hi: CPU us/packet", "plain-hi", ("window", "relay_cpu_us_per_pkt")),
	("plain-hi: latency p99 ms", "plain-hi", ("window", "latency_p99_us")),
	("plain-lo: CPU us/packet", "plain-lo", ("window", "relay_cpu_us_per_pkt")),
	("plain-lo: latency p99 ms", "plain-lo", ("window", "latency_p99_us")),
	("ramp: sustained calls", "ramp", ("sustained_calls",)),
	("srtp: CPU us/packet", "srtp", ("window", "relay_cpu_us_per_pkt")),
	("srtp-gcm: CPU us/packet", "srtp-gcm", ("window", "relay_cpu_us_per_pkt")),
	("srtp2: CPU us/packet", "srtp2", ("window", "relay_cpu_us_per_pkt")),
	("transcode: CPU us/packet", "transcode", ("window", "relay_cpu_us_per_pkt")),
]


def uring_vs_mmsg(data, tests):
	print("\n== io_uring / recvmmsg+sendmmsg (sluiced-uring / sluiced-mmsg, issue 16)")
	for label, test, path in URING_ROWS:
		if test not in tests:
			continue
		s = get(data["sluiced-uring"][test], *path)
		m = get(data["sluiced-mmsg"][test], *path)
		ratio = s / m if isinstance(s, (int, float)) and isinstance(m, (int, float)) and m else None
		print("%-38s %10s %10s %8s" % (label, fmt(s, "%.3f"), fmt(m, "%.3f"), fmt(ratio, "%.2f")))


def main():
	out = sys.argv[1]
	relays = sys.argv[2:] or ["sluiced", "rtpengine"]
	tests = tuple(os.environ.get("BENCH_TESTS", "mem plain ctrl1 ctrl32 ramp transcode xramp "
				     "churn rec-off rec-on srtp srtp-gcm srtp2 ctrl-redis "
				     "mem-redis").split())
	data = {r: {t: load(out, r, t) for t in tests}
		for r in relays}

	print("\n== raw figures (%s)" % out)
	print("%-34s" % "" + "".join("%14s" % r for r in relays))
	for label, test, path, f in ROWS:
		if test not in tests:
			continue
		print("%-34s" % label + "".join("%14s" % fmt(get(data[r][test], *path), f)
						 for r in relays))
	invalid = []
	for r in relays:
		for t, d in data[r].items():
			if d is None:
				invalid.append("%s %s: no result" % (r, t))
			elif not d.get("valid"):
				invalid.append("%s %s: %s" % (r, t, "; ".join(d.get("invalid_reasons", []))))
	if "sluiced" in relays and "rtpengine" in relays and \
	   any(t[1] in tests for t in TARGETS):
		print("\n== ratios sluice/rtpengine (targets of issues 4, 6, 11, 16 and 17)")
		print("%-38s %10s %10s %8s %8s  %s" % ("", "sluiced", "rtpengine", "ratio", "target", ""))
		for label, test, path, target, le in TARGETS:
			if test not in tests:
				continue
			s = get(data["sluiced"][test], *path)
			e = get(data["rtpengine"][test], *path)
			ratio = s / e if isinstance(s, (int, float)) and isinstance(e, (int, float)) and e else None
			ok = ratio is not None and (ratio <= target if le else ratio >= target)
			print("%-38s %10s %10s %8s %8s  %s" % (
				label, fmt(s, "%.3f"), fmt(e, "%.3f"), fmt(ratio, "%.2f"),
				("<= " if le else ">= ") + "%.2f" % target, "met" if ok else "NOT met"))
		p = data["sluiced"].get("plain")
		if p:
			loss = get(p, "packets", "loss_pct")
			p99 = get(p, "window", "latency_p99_us")
			print("%-38s %10s %10s %8s %8s  %s" % (
				"sluiced plain: zero loss, p99 <= 2 ms", fmt(loss, "%.4f") + "%",
				"", "", "", "met" if loss == 0 and p99 is not None and p99 <= 2000
				else "NOT met (p99 %s ms)" % fmt(p99, "ms")))
	if "sluiced-uring" in relays and "sluiced-mmsg" in relays:
		uring_vs_mmsg(data, tests)
	if "churn" in tests:
		churn_series(data, relays)
	if "rec-off" in tests and "rec-on" in tests:
		recording_cost(data, relays)
	if all(t in tests for t in ("ctrl32", "ctrl-redis", "mem", "mem-redis")):
		redis_cost(out, data, relays)
	try:
		with open("%s/machine.txt" % out) as f:
			stalls = [l.strip() for l in f if "stalls over" in l]
		if stalls:
			print("\n== the relay CPU itself (sluice-stall; a p99 cannot beat these gaps)")
			for l in stalls:
				print("  " + l)
	except OSError:
		pass
	if invalid:
		print("\n== INVALID runs")
		for i in invalid:
			print("  " + i)
	return 1 if invalid else 0


if __name__ == "__main__":
	sys.exit(main())
