#!/usr/bin/python3
"""Forwarding CPU per packet in the test VM (issue 5): sluiced's kernel path, sluiced's
userspace path and rtpengine's userspace path at the same packet rate, one relay at a
time, in one boot (run by guest.sh in bench mode; `make bench-kernel`). Also the price
of recording a kernel-eligible call (issue 12): sluice-rec is sluice-kernel with every
call recorded (record-call: yes in the offers), which keeps its streams in userspace.

usage: bench_guest.py OUTDIR    env: BENCH_CALLS (50), BENCH_WARMUP (4 s),
       BENCH_DURATION (12 s),
       BENCH_RELAYS ("sluice-kernel sluice-user sluice-rec rtpengine
       sluice-kernel-srtp sluice-user-srtp rtpengine-srtp rtpengine-kernel
       rtpengine-kernel-srtp"; a -srtp relay is measured
       with sluice-bench srtp: the caller SDES AES_CM_128_HMAC_SHA1_80, the callee
       plain, every packet one decrypt or one encrypt; BENCH_SRTP_SUITE changes it)
       BENCH_BASE_DIR (run-vm.sh SLUICE_BENCH_BASE: a base's sluiced and module; then the
       relays are base-kernel and sluice-kernel in BENCH_ROUNDS (3) alternating rounds,
       the module swapped between them: the kernel path before and after a change)
       rtpengine-kernel, rtpengine-kernel-srtp: rtpengine with its own module
       (xt_RTPENGINE, built by run-vm.sh) and the rule Debian's rtpengine-iptables-setup
       adds (iptables -I rtpengine -p udp -j RTPENGINE --id 0); table 0 is deleted
       after each run. A relay named twice or more is measured in rounds: medians.
       BENCH_PERF=1: a perf profile of the relay's CPU per relay (perf-NAME.txt);
       BENCH_RTPE_LOG_LEVEL: rtpengine-kernel's --log-level (to see it kernelize)

Method (issue 5): the generator (sluice-bench, 50 pps per stream) runs on CPU 0, the
relay on CPU 1, and RPS steers loopback receive processing to CPU 1, so the kernel's
forwarding work is not charged to the sender's CPU. Inside the measured window the
whole guest's CPU time is wall x CPUs - idle (from /proc/stat: a softirq that runs while
a CPU is otherwise idle is missed by the non-idle fields) minus the generator's own CPU
(/proc/PID/stat); divided by the packets forwarded in the window. Every relay runs with
--endpoint-learning=immediate: rtpengine's default (delayed) keeps a stream in its
userspace for the first 3 s, which at 20 calls in this guest reaches into the window. "relay
sockets" is what reached the relay's own sockets in the window (UDP InDatagrams less
what the generator received): ~0 on a kernel path, which a kernel relay must show.
Writes bench.json and bench.txt into OUTDIR and prints one line per relay."""

import json
import os
import re
import subprocess
import sys
import time

OUT = sys.argv[1]
BUILD = os.path.dirname(OUT)
SLUICED = os.path.join(BUILD, "sluiced")
BENCH = os.path.join(BUILD, "sluice-bench")
RTPENGINE = "/usr/bin/rtpengine"
CALLS = int(os.environ.get("BENCH_CALLS", 50))
WARMUP = float(os.environ.get("BENCH_WARMUP", 4))
DURATION = float(os.environ.get("BENCH_DURATION", 12))
RELAYS = os.environ.get("BENCH_RELAYS", "sluice-kernel sluice-user sluice-rec rtpengine "
			"sluice-kernel-srtp sluice-user-srtp rtpengine-srtp rtpengine-kernel "
			"rtpengine-kernel-srtp").split()
SRTP_SUITE = os.environ.get("BENCH_SRTP_SUITE", "AES_CM_128_HMAC_SHA1_80")
# sluice-rec's --recording-dir: the guest's tmpfs (the 9p share would charge its own cost)
REC_DIR = "/tmp/bench-recording"
BASE = os.environ.get("BENCH_BASE_DIR")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
if BASE and "BENCH_RELAYS" not in os.environ:
	RELAYS = ["base-kernel", "sluice-kernel"] * ROUNDS
GEN_CPU, RELAY_CPU = 0, 1
NG_PORT = 2290
HZ = os.sysconf("SC_CLK_TCK")


def common(table):
	return ["--config-file=none", "--foreground", "--interface=127.0.0.1",
		"--listen-ng=127.0.0.1:%d" % NG_PORT, "--port-min=30000", "--port-max=39999",
		"--num-threads=1", "--log-level=5", "--delete-delay=0", "--log-stderr",
		"--table=%d" % table, "--endpoint-learning=immediate"]


def relay_argv(name):
	name = name[:-len("-srtp")] if name.endswith("-srtp") else name
	if name == "sluice-kernel":
		return [SLUICED] + common(0) + ["--kernel=on"]
	if name == "base-kernel":
		return [os.path.join(BASE, "src", "build", "sluiced")] + common(0) + ["--kernel=on"]
	if name == "sluice-user":
		return [SLUICED] + common(-1)
	if name == "sluice-rec":
		return [SLUICED] + common(0) + ["--kernel=on", "--recording-dir=" + REC_DIR]
	if name == "rtpengine":
		return [RTPENGINE] + common(-1)
	if name == "rtpengine-kernel":	# its own module (xt_RTPENGINE), no silent fallback
		return [RTPENGINE] + common(0) + ["--no-fallback"] + (
			["--log-level=" + os.environ["BENCH_RTPE_LOG_LEVEL"]]
			if "BENCH_RTPE_LOG_LEVEL" in os.environ else [])
	raise SystemExit("unknown relay " + name)


def cpu_stat():
	"""(wall seconds, idle seconds summed over CPUs, CPUs) now."""
	with open("/proc/stat") as f:
		f.readline()
		idle, n = 0, 0
		for line in f:
			if not re.match(r"cpu\d", line):
				break
			v = line.split()
			idle += int(v[4]) + int(v[5])	# idle + iowait
			n += 1
	return time.monotonic(), idle / HZ, n


def proc_cpu(pid):
	"""utime + stime (all threads) of pid, seconds."""
	with open("/proc/%d/stat" % pid) as f:
		v = f.read().rsplit(")", 1)[1].split()
	return (int(v[11]) + int(v[12])) / HZ


def ng_ping(timeout=10):
	import socket
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.settimeout(0.3)
	deadline = time.monotonic() + timeout
	try:
		while time.monotonic() < deadline:
			try:
				s.sendto(b"kb1 d7:command4:pinge", ("127.0.0.1", NG_PORT))
				if b"pong" in s.recv(1000):
					return True
			except OSError:
				time.sleep(0.2)
		return False
	finally:
		s.close()


def kernel_entries(name=""):
	if name.startswith("rtpengine-kernel"):	# one target per line after its header
		try:
			with open("/proc/rtpengine/0/list") as f:
				return sum(1 for line in f if line.startswith("local "))
		except OSError:
			return None
	try:
		with open("/proc/net/sluice/0/list") as f:
			return int(re.search(r"entries (\d+)", f.readline()).group(1))
	except (OSError, AttributeError):
		return None


RTPE_PROC = "/proc/rtpengine"


def rtpengine_module():
	"""xt_RTPENGINE, built by run-vm.sh for the guest's kernel, loaded once. Returns an
	error text or None. rtpengine 10.5 adds no firewall rule itself (it has no nftables
	options): Debian's rtpengine-iptables-setup does, with the iptables extension of
	rtpengine-iptables; rtpengine_rule() adds the same (iptables-nft: nf_tables +
	nft_compat, autoloaded)."""
	ko = os.path.join(OUT, "rtpe", "xt_RTPENGINE.ko")
	if os.path.exists(RTPE_PROC):
		return None
	if not os.path.exists(ko):
		return "rtpengine's kernel module not built (no /usr/src/rtpengine-*)"
	if not os.path.exists("/usr/lib/x86_64-linux-gnu/xtables/libxt_RTPENGINE.so"):
		return "no iptables extension RTPENGINE (install rtpengine-iptables)"
	deps = subprocess.run(["modinfo", "-F", "depends", ko], capture_output=True,
			      text=True).stdout.strip()
	for m in filter(None, deps.split(",")):	# x_tables
		subprocess.run(["modprobe", m], check=False)
	p = subprocess.run(["insmod", ko], capture_output=True, text=True)
	if p.returncode:
		return "insmod xt_RTPENGINE: " + p.stderr.strip()
	return None


def iptables(rule):
	p = subprocess.run(["iptables"] + rule, capture_output=True, text=True)
	return "iptables %s: %s" % (" ".join(rule), p.stderr.strip()) if p.returncode else None


def rtpengine_rule(on):
	"""The rules, only while an rtpengine-kernel relay runs: the other relays' packets
	pass no firewall hook. iptables-nft keeps them in nftables' table ip filter, which
	nothing else in the guest uses: off deletes it."""
	if not on:
		p = subprocess.run(["nft", "delete", "table", "ip", "filter"], capture_output=True,
				   text=True)
		return p.stderr.strip() if p.returncode else None
	err = iptables(["-N", "rtpengine"]) or \
		iptables(["-I", "rtpengine", "-p", "udp", "-j", "RTPENGINE", "--id", "0"]) or \
		iptables(["-I", "INPUT", "-p", "udp", "-j", "rtpengine"])
	if not err:
		with open(os.path.join(OUT, "rtpe-iptables.txt"), "w") as f:
			f.write(subprocess.run(["iptables", "-S"], capture_output=True,
					       text=True).stdout)
			f.write(subprocess.run(["nft", "list", "ruleset"], capture_output=True,
					       text=True).stdout)
	return err


def rtpengine_table_del():
	"""Removes table 0 after an rtpengine run (rtpengine leaves it behind; Debian's
	rtpengine-iptables-setup stop does the same). The daemon may take a moment to let
	go of its control file: retry."""
	for _ in range(50):
		if not os.path.exists(RTPE_PROC + "/0"):
			return True
		try:
			with open(RTPE_PROC + "/control", "w") as f:
				f.write("del 0\n")
		except OSError:
			time.sleep(0.1)
	return not os.path.exists(RTPE_PROC + "/0")


def udp_in():
	"""UDP datagrams delivered to sockets so far (/proc/net/snmp Udp: InDatagrams). In
	the window: the generator's receives plus the relay's; whatever exceeds what was
	forwarded reached the relay's sockets, i.e. was forwarded in userspace."""
	with open("/proc/net/snmp") as f:
		rows = [line.split() for line in f if line.startswith("Udp:")]
	return int(rows[1][rows[0].index("InDatagrams")])


def profile_start(name):
	"""BENCH_PERF=1: perf samples the relay's CPU (its process and the softirq that
	forwards in the kernel) during the window; TCG has no PMU, so the cpu-clock timer.
	Distorts the figures: a profiling boot, not a measuring one."""
	if os.environ.get("BENCH_PERF") != "1":
		return None
	return subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-c", "1000000", "-g",
				 "-C", str(RELAY_CPU), "-o",
				 os.path.join(OUT, "perf-%s.data" % name)],
				stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_end(prof, name):
	if not prof:
		return
	prof.send_signal(2)
	prof.wait(60)
	data = os.path.join(OUT, "perf-%s.data" % name)
	with open(os.path.join(OUT, "perf-%s.txt" % name), "w") as f:
		for how in (["--no-children", "--sort", "sym"], ["--no-children", "--sort", "dso"]):
			subprocess.run(["perf", "report", "--stdio", "-g", "none", "-i", data] + how,
				       stdout=f, stderr=subprocess.DEVNULL)


loaded = [os.path.join(OUT, "mod", "sluice.ko")]	# guest.sh loads this tree's module


def use_module(name):
	"""The module a relay runs with: the base's for base-kernel, else this tree's."""
	want = os.path.join(BASE, "mod", "sluice.ko") if name.startswith("base-") else \
		os.path.join(OUT, "mod", "sluice.ko")
	if loaded[0] == want:
		return
	subprocess.run(["rmmod", "sluice"], check=True)
	subprocess.run(["insmod", want], check=True)
	loaded[0] = want


def measured_entries():
	"""Kernel entries whose list line carries RTP quality figures (the module measures)."""
	try:
		with open("/proc/net/sluice/0/list") as f:
			return sum(1 for line in f if " ssrc " in line)
	except OSError:
		return None


def bench_args(name):
	"""sluice-bench options of a relay's run."""
	if name.endswith("-srtp"):
		return ["--srtp", SRTP_SUITE]
	return ["--record", "--watch-dir", REC_DIR] if name == "sluice-rec" else []


def run(name):
	use_module(name)
	rtpe_kernel = name.startswith("rtpengine-kernel")
	if rtpe_kernel:
		err = rtpengine_module()
		if err:
			return dict(relay=name, error=err)
		if not rtpengine_table_del():
			return dict(relay=name, error="table 0 of xt_RTPENGINE cannot be removed")
		err = rtpengine_rule(True)
		if err:
			rtpengine_rule(False)
			return dict(relay=name, error=err)
	log = open(os.path.join(OUT, "bench-%s.log" % name), "ab")
	relay = subprocess.Popen(["taskset", "-c", str(RELAY_CPU)] + relay_argv(name),
				 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
	res = dict(relay=name)
	try:
		if not ng_ping():
			res["error"] = "relay did not start (exit %r)" % relay.poll()
			return res
		mode = "srtp" if name.endswith("-srtp") else "plain"
		gen = subprocess.Popen(["taskset", "-c", str(GEN_CPU), BENCH, mode,
					"--calls", str(CALLS), "--warmup", str(WARMUP),
					"--duration", str(DURATION), "--ng", "127.0.0.1:%d" % NG_PORT,
					"--pid", str(relay.pid), "--port-base", "10000", "--json"] +
				       bench_args(name),
				       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
		# our window sits inside sluice-bench's (setup + warmup, then duration)
		time.sleep(WARMUP + 2.0)
		w0, i0, ncpu = cpu_stat()
		g0, r0 = proc_cpu(gen.pid), proc_cpu(relay.pid)
		u0 = udp_in()
		prof = profile_start(name)
		time.sleep(DURATION - 3.0)
		w1, i1, _ = cpu_stat()
		g1, r1 = proc_cpu(gen.pid), proc_cpu(relay.pid)
		u1 = udp_in()
		profile_end(prof, name)
		if rtpe_kernel:	# what the module held: the operator's view of it
			for f in ("status", "list"):
				subprocess.run("cat %s/0/%s >>%s/rtpe-%s.txt" % (RTPE_PROC, f, OUT, name),
					       shell=True)
		res["kernel_entries"] = kernel_entries(name)
		res["measured_entries"] = measured_entries()
		out, err = gen.communicate(timeout=120)
		if gen.returncode:
			res["error"] = "sluice-bench exit %d: %s" % (gen.returncode, err.strip()[-300:])
		bench = json.loads(out)
		win = bench["window"]
		secs = w1 - w0
		pkts = win["forwarded_pps"] * secs
		busy = secs * ncpu - (i1 - i0)
		res.update(seconds=round(secs, 2), pps=win["forwarded_pps"], loss_pct=win["loss_pct"],
			   busy_cpu_s=round(busy, 3), gen_cpu_s=round(g1 - g0, 3),
			   relay_proc_cpu_s=round(r1 - r0, 3),
			   us_per_pkt=round((busy - (g1 - g0)) * 1e6 / pkts, 1),
			   relay_proc_us_per_pkt=round((r1 - r0) * 1e6 / pkts, 1),
			   valid=bench.get("valid"), invalid_reasons=bench.get("invalid_reasons"))
		if rtpe_kernel and gen.returncode and all("relay stats" in why for why in
							  bench.get("invalid_reasons") or ["?"]):
			# rtpengine's delete reply lags its module's counters by the packets of
			# the last moments; not a forwarding error
			del res["error"]
			res["note"] = "rtpengine's delete stats lag its module: " + \
				bench["invalid_reasons"][0][:200]
		# the packets the relay's own sockets received: ~0 when a module forwards
		res["relay_socket_pps"] = max(0, round((u1 - u0) / secs - win["forwarded_pps"]))
		if "kernel" in name and res["relay_socket_pps"] > 0.1 * win["forwarded_pps"]:
			res["error"] = "%d of %d pkt/s reached the relay's sockets: not the kernel" \
				" path" % (res["relay_socket_pps"], win["forwarded_pps"])
		if name == "sluice-rec":
			res["rec_dir_bytes_per_s"] = win.get("dir_bytes_per_s")
			res["rec_writer_us_per_pkt"] = (win.get("relay_threads_cpu_us_per_pkt") or
							{}).get("sluice-rec")
		return res
	except Exception as e:
		res["error"] = "%s: %s" % (type(e).__name__, e)
		return res
	finally:
		relay.terminate()
		try:
			relay.wait(15)
		except subprocess.TimeoutExpired:
			relay.kill()
			relay.wait()
		log.close()
		if rtpe_kernel and not rtpengine_table_del():
			res.setdefault("error", "table 0 of xt_RTPENGINE left behind")
		if rtpe_kernel and rtpengine_rule(False):
			res.setdefault("error", "rtpengine's firewall rules cannot be removed")
		if name == "sluice-rec":	# the files: how many, how big; then free the tmpfs
			pcaps = os.path.join(REC_DIR, "pcaps")
			names = os.listdir(pcaps) if os.path.isdir(pcaps) else []
			res["rec_files"] = len(names)
			res["rec_bytes"] = sum(os.path.getsize(os.path.join(pcaps, n)) for n in names)
			subprocess.run(["rm", "-rf", REC_DIR])


def per_round(runs, a, b):
	"""a/b per round (the i-th run of each), when there are several."""
	pairs = list(zip(runs.get(a, []), runs.get(b, [])))
	if len(pairs) < 2:
		return ""
	return " (medians; rounds %s)" % " ".join("%.2f" % (x / y) if x and y else "-"
						   for x, y in pairs)


def median(v):
	v = sorted(v)
	return (v[len(v) // 2] + v[(len(v) - 1) // 2]) / 2


def before_after(results):
	"""base-kernel vs sluice-kernel: per round (each after its base) and of the medians."""
	per = {n: [r["us_per_pkt"] for r in results if r["relay"] == n and "us_per_pkt" in r]
	       for n in ("base-kernel", "sluice-kernel")}
	if not per["base-kernel"] or not per["sluice-kernel"]:
		return []
	rounds = ["%.3f" % (k / b) for b, k in zip(per["base-kernel"], per["sluice-kernel"])]
	mb, mk = median(per["base-kernel"]), median(per["sluice-kernel"])
	return ["  base %s" % os.environ.get("BENCH_BASE_REF", BASE),
		"  base-kernel   us/pkt %s  median %.1f" % (per["base-kernel"], mb),
		"  sluice-kernel us/pkt %s  median %.1f" % (per["sluice-kernel"], mk),
		"  sluice-kernel / base-kernel: rounds %s, medians %.3f" % (" ".join(rounds), mk / mb)]


def quality_cost(results):
	"""qcost.c's figure (the quality measurement's ns per packet, in a loop), as a share
	of the kernel path's whole-guest cost per packet measured here."""
	try:
		with open(os.path.join(OUT, "qcost.txt")) as f:
			m = re.search(r"sluice-qcost: (\d+) ns per packet \(.*", f.read())
	except OSError:
		m = None
	if not m:
		return ["  quality measurement alone: not measured (qcost.txt)"]
	k = [r["us_per_pkt"] for r in results if r["relay"] == "sluice-kernel" and "us_per_pkt" in r]
	share = " = %.2f %% of sluice-kernel's %.1f us/pkt" % (
		int(m.group(1)) / 10 / median(k), median(k)) if k else ""
	return ["  quality measurement alone: %s%s" % (m.group(0)[len("sluice-qcost: "):], share)]


def main():
	with open("/sys/class/net/lo/queues/rx-0/rps_cpus", "w") as f:
		f.write("%x\n" % (1 << RELAY_CPU))
	# the crypto modules both kernels' SRTP asks for, loaded before the first SRTP run:
	# a first request_module() from the guest (modprobe over 9p) takes seconds, during
	# which that run's streams would wait in userspace
	for m in ("ctr", "gcm", "ghash-generic", "sha1-ssse3", "aesni-intel"):
		subprocess.run(["modprobe", "-q", m], check=False)	# the last two: CPU permitting
	results = []
	for name in RELAYS:
		r = run(name)
		results.append(r)
		print("bench %s: %s" % (name, json.dumps(r)), flush=True)
	# a relay listed more than once (rounds): its median; None marks a failed round
	runs = {}
	for r in results:
		ok = "us_per_pkt" in r and not r.get("error")
		runs.setdefault(r["relay"], []).append(r["us_per_pkt"] if ok else None)
	by = {n: median([x for x in v if x is not None]) for n, v in runs.items()
	      if any(x is not None for x in v)}
	lines = ["kernel-bench: %d calls (%d packets/s forwarded), generator CPU %d, relay CPU %d,"
		 " RPS lo -> CPU %d, window %.0f s" % (CALLS, CALLS * 100, GEN_CPU, RELAY_CPU,
							RELAY_CPU, DURATION - 3)]
	for r in results:
		if "us_per_pkt" in r:
			lines.append("  %-21s %7.1f us/pkt (whole guest - generator)  relay process %6.1f"
				     " us/pkt  %6.0f pkt/s  loss %.3f %%  relay sockets %4d pkt/s%s" % (
					     r["relay"], r["us_per_pkt"], r["relay_proc_us_per_pkt"],
					     r["pps"], r["loss_pct"], r["relay_socket_pps"],
					     "" if not r.get("error") else "  (" + r["error"] + ")"))
		else:
			lines.append("  %-21s failed: %s" % (r["relay"], r.get("error")))
	k, u, e = by.get("sluice-kernel"), by.get("sluice-user"), by.get("rtpengine")
	rec = by.get("sluice-rec")
	if k and u:
		lines.append("  sluice kernel/userspace = %.2f (target < 0.40)" % (k / u))
	if k and rec:
		rr = next(r for r in results if r["relay"] == "sluice-rec")
		lines.append("  sluice recorded (userspace) / sluice kernel = %.2f; kernel entries while"
			     " recorded: %s; %s files, %.1f MB, %.2f MB/s written; writer thread %s"
			     " us/pkt" % (rec / k, rr.get("kernel_entries"), rr.get("rec_files"),
					  (rr.get("rec_bytes") or 0) / 1e6,
					  (rr.get("rec_dir_bytes_per_s") or 0) / 1e6,
					  rr.get("rec_writer_us_per_pkt")))
	if u and rec:
		lines.append("  sluice recorded / sluice userspace = %.2f" % (rec / u))
	if u and e:
		lines.append("  sluice userspace/rtpengine userspace = %.2f (target < 1)" % (u / e))
	ks, us, es = by.get("sluice-kernel-srtp"), by.get("sluice-user-srtp"), by.get("rtpengine-srtp")
	if ks and us:
		lines.append("  SRTP<->RTP (%s): sluice kernel/sluice userspace = %.2f" % (SRTP_SUITE,
											ks / us))
	if ks and es:
		lines.append("  SRTP<->RTP: sluice kernel/rtpengine userspace = %.2f" % (ks / es))
	eks = by.get("rtpengine-kernel-srtp")
	if ks and eks:
		lines.append("  SRTP<->RTP: sluice kernel/rtpengine kernel = %.2f%s" % (
			ks / eks, per_round(runs, "sluice-kernel-srtp", "rtpengine-kernel-srtp")))
	ek = by.get("rtpengine-kernel")
	if k and ek:
		lines.append("  plain: sluice kernel/rtpengine kernel = %.2f%s" % (
			k / ek, per_round(runs, "sluice-kernel", "rtpengine-kernel")))
	if ks and k and eks and ek:	# what the SRTP itself adds to each kernel path
		lines.append("  SRTP's own cost (srtp - plain): sluice %.1f us/pkt, rtpengine %.1f"
			     " us/pkt" % (ks - k, eks - ek))
	if len(runs.get("sluice-kernel", [])) > 1 or len(runs.get("sluice-kernel-srtp", [])) > 1:
		for n in sorted(by):
			lines.append("  %-21s rounds %s  median %.1f" % (n, runs[n], by[n]))
	lines += before_after(results)
	lines += quality_cost(results)
	text = "\n".join(lines) + "\n"
	print(text, end="")
	with open(os.path.join(OUT, "bench.txt"), "w") as f:
		f.write(text)
	with open(os.path.join(OUT, "bench.json"), "w") as f:
		json.dump(results, f, indent=1)
	# which implementations the kernels' SRTP ran on (AES instructions or C), for the record
	subprocess.run("grep -E '^(name|driver|priority)' /proc/crypto >%s/crypto.txt;"
		       " grep -m1 '^flags' /proc/cpuinfo >>%s/crypto.txt" % (OUT, OUT), shell=True)
	failed = sum(1 for r in results if "us_per_pkt" not in r or r.get("error"))
	return failed


if __name__ == "__main__":
	sys.exit(1 if main() else 0)
