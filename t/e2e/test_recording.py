"""Recording (--recording-dir, pcap method) and the capture ring: pcap files read back with
tshark, counted per direction against what the phones sent, sequence numbers continuous,
SRTP recorded decrypted, transcoded calls with both legs (and the tone on the µ-law leg),
start/stop/pause intervals, file names from hostile call-ids, a full disk, the capture
command and the ring's memory cap."""

import glob
import json
import os
import re
import shlex
import struct
import subprocess
import time

import numpy as np
import pytest

from calls import Call, err, exchange, ok, wait_for
from conftest import relay_argv
from rtp import Phone, drain, recv_all
from test_srtp import send_plain, send_srtp, srtp_to_plain_setup
from test_transcode import (CODECS, blast, decode, encode, fit, pcm_rate, received,
			    rtp_stream, setup_transcoded, signal)

pytestmark = pytest.mark.sluice_only

FIELDS = ("src", "src6", "sport", "dst", "dst6", "dport", "ssrc", "seq", "pt", "rtcp",
	  "payload")


def tshark_rows(path):
	"""One dict per packet of the pcap, decoded by tshark (RTP/RTCP by heuristics)."""
	cmd = ["tshark", "-r", path, "-o", "rtp.heuristic_rtp:TRUE", "-o",
	       "rtcp.heuristic_rtcp:TRUE", "-T", "fields", "-E", "separator=|", "-E",
	       "occurrence=f"]
	for f in ("ip.src", "ipv6.src", "udp.srcport", "ip.dst", "ipv6.dst", "udp.dstport",
		  "rtp.ssrc", "rtp.seq", "rtp.p_type", "rtcp.pt", "rtp.payload"):
		cmd += ["-e", f]
	r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
	assert r.returncode == 0, r.stderr
	rows = []
	for line in r.stdout.splitlines():
		row = dict(zip(FIELDS, line.split("|")))
		row["src"] = row["src"] or row["src6"]
		row["dst"] = row["dst"] or row["dst6"]
		row["sport"], row["dport"] = int(row["sport"]), int(row["dport"])
		row["payload"] = bytes.fromhex(row["payload"].replace(":", ""))
		rows.append(row)
	return rows


def flows(rows, kind="rtp"):
	"""{(sport, dport): [rows]} of RTP (or RTCP) packets."""
	out = {}
	for r in rows:
		if (kind == "rtp" and r["ssrc"]) or (kind == "rtcp" and r["rtcp"] and not r["ssrc"]):
			out.setdefault((r["sport"], r["dport"]), []).append(r)
	return out


def check_continuous(rows):
	"""One SSRC per flow, consecutive sequence numbers."""
	assert len({r["ssrc"] for r in rows}) == 1
	seqs = [int(r["seq"]) for r in rows]
	for a, b in zip(seqs, seqs[1:]):
		assert (b - a) & 0xFFFF == 1, "sequence gap %d -> %d" % (a, b)


def rtp_streams_lost(path):
	"""tshark -z rtp,streams: [(sport, dport, packets, lost)]."""
	r = subprocess.run(["tshark", "-r", path, "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z",
			    "rtp,streams"], capture_output=True, text=True, timeout=60)
	assert r.returncode == 0, r.stderr
	out = []
	for line in r.stdout.splitlines():
		m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\S+\s+(\d+)\s+\S+\s+(\d+)\s+0x[0-9A-Fa-f]+\s+\S+"
			     r"\s+(\d+)\s+(-?\d+)", line)
		if m:
			out.append(tuple(int(x) for x in m.groups()))
	return out


def wait_file(pattern, n=1, timeout=5):
	"""The files matching pattern once there are (at least) n of them."""
	got = wait_for(lambda: len(glob.glob(pattern)) >= n and sorted(glob.glob(pattern)), timeout)
	assert got, "fewer than %d files match %s" % (n, pattern)
	return got


def rec_relay(relay, tmp_path, **opts):
	return relay(recording_dir=str(tmp_path), **opts)


def payload_of(pkt):
	return pkt[12:]


def ports(c):
	"""(A's port, relay port A sends to, B's port, relay port B sends to)."""
	return c.a.port, c.a_dest()[1], c.b.port, c.b_dest()[1]


def test_plain_call_both_directions(relay, tmp_path):
	r = rec_relay(relay, tmp_path)
	c = Call(r)
	# as Kamailio's rtpengine_manage("record-call=yes") sends it
	c.offer(flags=["record-call=yes"], metadata="customer=42")
	c.answer()
	q = ok(c.query())
	assert q["recording"]["state"] == "on"
	assert q["tags"][c.ftag]["medias"][0]["streams"][0]["forwarding"] == "userspace"
	res = exchange(c, n=60, pps=100, rtcp=2)
	assert len(res["got_a"]) == 60 and len(res["got_b"]) == 60
	ok(c.delete())
	pcap, = wait_file(str(tmp_path / "pcaps" / "*.pcap"))
	meta, = wait_file(str(tmp_path / "metadata" / "*.meta"))
	assert not glob.glob(str(tmp_path / "pcaps" / "*.tmp"))
	assert os.stat(pcap).st_mode & 0o777 == 0o640

	a, ra, b, rb = ports(c)
	rows = tshark_rows(pcap)
	f = flows(rows)
	assert {k: len(v) for k, v in f.items()} == {(a, ra): 60, (rb, b): 60, (b, rb): 60,
						     (ra, a): 60}
	for k, v in f.items():
		check_continuous(v)
		assert {x["src"] for x in v} == {"127.0.0.1"}
	assert [x["payload"] for x in f[(a, ra)]] == [payload_of(p) for p in res["sent_a"]]
	assert [x["payload"] for x in f[(rb, b)]] == [payload_of(p) for p in res["sent_a"]]
	rt = {k: len(v) for k, v in flows(rows, "rtcp").items()}
	assert rt == {(a + 1, ra + 1): 2, (rb + 1, b + 1): 2, (b + 1, rb + 1): 2, (ra + 1, a + 1): 2}
	streams = rtp_streams_lost(pcap)
	assert len(streams) == 4 and all(s[2] == 60 and s[3] == 0 for s in streams), streams

	m = json.load(open(meta))
	assert m["call-id"] == c.cid and m["metadata"] == "customer=42"
	assert m["pcap"] == os.path.basename(pcap) and m["packets"] == 4 * 60 + 8
	assert [s["command"] for s in m["sdp"]] == ["offer", "answer"]
	assert m["sdp"][0]["received"].startswith("v=0") and "m=audio %d" % ra in m["sdp"][1]["sent"]
	assert {t for p in m["parties"] for t in p["tags"]} == {c.ftag, c.ttag}
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]["recording"]
	assert st["files"] == 1 and st["packetswritten"] == 4 * 60 + 8 and st["queuedrops"] == 0
	c.close()


def test_srtp_leg_recorded_decrypted(relay, tmp_path):
	r = rec_relay(relay, tmp_path)
	c, ka, ks = srtp_to_plain_setup(r)
	ok(r.ng.req(c.base("start recording")))
	sent_a = send_srtp(c, c.a, ka.tx(), c.a_dest(), n=30)
	assert len(recv_all(c.b.rtp, timeout=2, count=30)) == 30
	sent_b = send_plain(c.b, c.b_dest(), n=30)
	rx = ks.rx()
	got_a = recv_all(c.a.rtp, timeout=2, count=30)
	assert sorted(rx.unprotect(d) for d, _ in got_a) == sorted(sent_b)
	ok(r.ng.req(c.base("stop recording")))
	pcap, = wait_file(str(tmp_path / "pcaps" / "*.pcap"))
	a, ra, b, rb = ports(c)
	f = flows(tshark_rows(pcap))
	assert {k: len(v) for k, v in f.items()} == {(a, ra): 30, (rb, b): 30, (b, rb): 30,
						     (ra, a): 30}
	# plain RTP on the SRTP leg: what A protected, and what sluice protected for A
	assert [x["payload"] for x in f[(a, ra)]] == [payload_of(p) for p in sent_a]
	assert [x["payload"] for x in f[(ra, a)]] == [payload_of(p) for p in sent_b]
	for v in f.values():
		check_continuous(v)
	c.close()


def test_transcoded_call_both_legs_and_tone(relay, tmp_path):
	r = rec_relay(relay, tmp_path)
	c = setup_transcoded(r, "PCMA")
	ok(r.ng.req(c.base("start recording")))
	a_pkts = rtp_stream(c.a, 8, encode("PCMA", signal("tone", pcm_rate("PCMA"))), 160)
	b_pkts = rtp_stream(c.b, 0, encode("PCMU", signal("tone", pcm_rate("PCMU"))), 160)
	for s in (c.a.rtp, c.b.rtp):
		drain(s)
	for i in range(0, len(a_pkts), 25):
		blast(c.a.rtp, c.a_dest(), a_pkts[i:i + 25], pause=0)
		blast(c.b.rtp, c.b_dest(), b_pkts[i:i + 25])
	at_b = received(c.b.rtp)
	at_a = received(c.a.rtp)
	assert len(at_b) > 100 and len(at_a) > 100
	ok(c.delete())
	pcap, = wait_file(str(tmp_path / "pcaps" / "*.pcap"))
	a, ra, b, rb = ports(c)
	rows = tshark_rows(pcap)
	f = flows(rows)
	# what each side sent (its own codec) and what each side received (its codec)
	assert len(f[(a, ra)]) == len(a_pkts) and len(f[(b, rb)]) == len(b_pkts)
	assert len(f[(rb, b)]) == len(at_b) and len(f[(ra, a)]) == len(at_a)
	assert {x["pt"] for x in f[(a, ra)]} == {"8"} and {x["pt"] for x in f[(rb, b)]} == {"0"}
	assert {x["pt"] for x in f[(ra, a)]} == {"8"}
	for v in f.values():
		check_continuous(v)
	# the recorded µ-law leg carries A's 1 kHz tone
	pcm = decode("PCMU", [x["payload"] for x in f[(rb, b)]])
	snr, amp, peak = fit(pcm, pcm_rate("PCMU"), (1004,))
	assert abs(peak - 1004) <= 5 and snr >= 25, (peak, snr)
	c.close()


def test_start_pause_resume_stop_intervals(relay, tmp_path):
	r = rec_relay(relay, tmp_path)
	c = Call(r).setup()
	a, ra, b, rb = ports(c)

	def burst(n):
		res = exchange(c, n=n, pps=0)
		assert len(res["got_a"]) == n and len(res["got_b"]) == n

	burst(10)                                       # before: not recorded
	ok(r.ng.req(c.base("start recording")))
	assert ok(c.query())["recording"]["state"] == "on"
	burst(20)
	ok(r.ng.req(c.base("pause recording")))
	assert ok(c.query())["recording"]["state"] == "paused"
	burst(10)                                       # paused: not recorded
	ok(r.ng.req(c.base("start recording")))         # resumes the same file
	burst(15)
	ok(r.ng.req(c.base("stop recording")))
	assert ok(c.query())["recording"]["state"] == "off"
	burst(5)                                        # stopped: not recorded
	ok(r.ng.req(c.base("start recording")))         # a new file
	burst(7)
	q = ok(c.query())
	assert q["recording"]["files"] == 2 and q["recording"]["file"].endswith("-2.pcap")
	ok(c.delete())
	first, second = wait_file(str(tmp_path / "pcaps" / "*.pcap"), n=2)
	if first.endswith("-2.pcap"):
		first, second = second, first
	for path, n in ((first, 35), (second, 7)):
		f = flows(tshark_rows(path))
		assert {k: len(v) for k, v in f.items()} == {(a, ra): n, (rb, b): n, (b, rb): n,
							     (ra, a): n}, path
	assert len(wait_file(str(tmp_path / "metadata" / "*.meta"), n=2)) == 2
	c.close()


def test_hostile_call_id_gives_a_safe_name(relay, tmp_path):
	r = rec_relay(relay, tmp_path)
	cid = "../../../etc/passwd\x01\x1b[31m\n..\\x/ \xff.."
	c = Call(r, cid=cid)
	c.offer(**{"record-call": "yes"})
	c.answer()
	exchange(c, n=5, pps=0)
	ok(c.delete())
	wait_file(str(tmp_path / "pcaps" / "*.pcap"))
	names = os.listdir(tmp_path / "pcaps")
	assert len(names) == 1
	name = names[0]
	assert re.fullmatch(r"[A-Za-z0-9_+=@.-]+\.pcap", name) and ".." not in name, name
	assert not name.startswith(".")
	assert os.listdir(tmp_path) and not os.path.exists("/etc/passwd.pcap")
	meta, = wait_file(str(tmp_path / "metadata" / "*.meta"))
	assert json.load(open(meta))["call-id"] == cid
	c.close()


def cpu_seconds(pid):
	"""utime + stime of all of pid's threads."""
	with open("/proc/%d/stat" % pid) as f:
		v = f.read().rsplit(")", 1)[1].split()
	return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_writer_sleeps(relay, tmp_path):
	"""The writer thread waits between its 10 ms drains: a relay with --recording-dir and
	a recorded but silent call uses next to no CPU (a wait on the wrong clock made the
	writer spin: ~0.75 CPU)."""
	r = rec_relay(relay, tmp_path)
	c = Call(r)
	c.offer(**{"record-call": "yes"})
	c.answer()
	assert ok(c.query())["recording"]["state"] == "on"
	time.sleep(0.5)
	t0 = cpu_seconds(r.proc.pid)
	time.sleep(2)
	used = cpu_seconds(r.proc.pid) - t0
	assert used < 0.1, "idle relay used %.2f s of CPU in 2 s" % used
	ok(c.delete())
	c.close()


def test_not_configured_and_bad_values(relay):
	r = relay()
	c = Call(r)
	rep = c.offer(**{"record-call": "yes"})
	assert "Recording is not configured" in rep.get("warning", "")
	c.answer()
	assert "--recording-dir" in err(r.ng.req(c.base("start recording")))
	assert "--capture-ring" in err(r.ng.req(c.base("capture")))
	assert "record-call" in err(r.ng.req(c.base("offer", sdp=c.a.sdp(),
						     **{"record-call": "maybe"})))
	c.close()


def test_disk_full_stops_recording_not_the_call(relay, tmp_path):
	"""--recording-dir on a 1 MiB tmpfs, in a mount namespace of the relay's own."""
	d = str(tmp_path / "small")
	os.mkdir(d)

	def argv(binary, ng, pmin, pmax):
		inner = relay_argv(ng, pmin, pmax, recording_dir=d)
		return ["unshare", "-m", "--propagation", "private", "sh", "-c",
			"mount -t tmpfs -o size=1m sluice-e2e %s && exec %s" % (shlex.quote(d),
										 shlex.join(inner))]
	r = relay(argv=argv)
	c = Call(r)
	c.offer(**{"record-call": "yes"})
	c.answer()
	sent, got = 0, 0
	big = bytes(1000)
	for _ in range(12):                    # ~ 2.5 MB of copies into 1 MiB
		for i in range(100):
			c.a.rtp.sendto(c.a.next_rtp(big), c.a_dest())
			sent += 1
			if i % 10 == 9:         # no burst beyond the sockets' buffers
				time.sleep(0.005)
		got += len(recv_all(c.b.rtp, timeout=2, count=100))
	assert got == sent, "the call lost media: %d of %d" % (got, sent)
	q = ok(c.query())
	assert q["recording"]["error"] == "No space left on device", q["recording"]
	log = r.log()
	assert len(re.findall(r"No space left on device: recording stopped", log)) == 1, log[-2000:]
	# the file written until the disk filled is a pcap tshark reads
	root = "/proc/%d/root%s/pcaps" % (r.proc.pid, d)
	names = wait_for(lambda: [n for n in os.listdir(root) if n.endswith(".pcap")], 5)
	assert len(names) == 1 and names[0].endswith(".pcap"), names
	n = len(tshark_rows(os.path.join(root, names[0])))
	assert 300 < n < 2 * sent
	c.close()


def test_capture_ring_last_seconds(relay, tmp_path):
	"""10 s of media, a 4 s ring: the capture spans the last 4 s, both directions."""
	r = rec_relay(relay, tmp_path, capture_ring=4)
	c = Call(r).setup()
	q = ok(c.query())
	assert q["tags"][c.ftag]["medias"][0]["streams"][0]["forwarding"] == "userspace"
	res = exchange(c, n=500, pps=50)
	assert len(res["got_b"]) == 500
	rep = ok(r.ng.req({"command": "capture", "call-id": c.cid}))      # all parties
	# one party only (what A sent and what A received), before the ring ages out
	rep_a = ok(r.ng.req(c.base("capture")))
	path = rep["file"]
	assert path.startswith(str(tmp_path / "captures")) and os.path.exists(path)
	span = (rep["last-packet-ms"] - rep["first-packet-ms"]) / 1000
	assert 3.5 <= span <= 4.5, span
	a, ra, b, rb = ports(c)
	f = flows(tshark_rows(path))
	assert set(f) == {(a, ra), (rb, b), (b, rb), (ra, a)}
	for v in f.values():
		assert 175 <= len(v) <= 225, len(v)
		check_continuous(v)
	assert rep["packets"] == sum(len(v) for v in f.values())
	assert set(flows(tshark_rows(rep_a["file"]))) == {(a, ra), (ra, a)}
	assert "Unknown from-tag" in err(r.ng.req(c.base("capture", **{"from-tag": "nope"})))
	# after delete, until the delete-delay ends, the ring is still there
	ok(c.delete(**{"delete-delay": 5}))
	ok(r.ng.req({"command": "capture", "call-id": c.cid}))
	c.close()


def rss_kib(pid):
	for line in open("/proc/%d/status" % pid):
		if line.startswith("VmRSS:"):
			return int(line.split()[1])
	return 0


# 200 calls need 800 ports: a range of their own, away from the e2e slots (42000+), the
# phones (20000-29999), the soak test (36000-40999) and the interop relays' (30000-31999,
# 46000-46999)
CAP_PORTS = (41000, 41999)


def test_capture_ring_memory_cap_200_calls(relay, tmp_path):
	"""200 calls ringing, ~70 MB of packets into a 2 MB ring: memory stays at the cap."""
	r = relay(argv=lambda binary, ng, pmin, pmax: relay_argv(
		ng, CAP_PORTS[0], CAP_PORTS[1], recording_dir=str(tmp_path), capture_ring=300,
		capture_ring_mb=2))
	calls = []
	for _ in range(200):
		c = Call(r).setup()
		calls.append(c)
	before = rss_kib(r.proc.pid)
	big = bytes(1000)
	for rnd in range(16):
		for c in calls:
			for _ in range(5):
				c.a.rtp.sendto(c.a.next_rtp(big), c.a_dest())
				c.b.rtp.sendto(c.b.next_rtp(big), c.b_dest())
		for c in calls:
			drain(c.a.rtp)
			drain(c.b.rtp)
		time.sleep(0.05)
	time.sleep(0.5)
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]["recording"]
	grown = (rss_kib(r.proc.pid) - before) / 1024
	print("ring %d bytes (cap %d), %d drops; RSS +%.1f MiB" % (st["ringbytes"], 2 << 20,
								    st["ringdrops"], grown))
	assert st["ringbytes"] <= 2 << 20 and st["ringmaxbytes"] == 2 << 20, st
	assert st["ringdrops"] > 0, st
	# without the cap the ring alone would hold ~70 MB; the queues are 4 MiB per worker
	assert grown < 16, "RSS grew by %.1f MiB" % grown
	rep = ok(r.ng.req({"command": "capture", "call-id": calls[-1].cid}))
	assert rep["packets"] > 0
	for c in calls:
		c.close()


def test_bundle_and_rtcp_mux_keep_their_real_ports(relay, tmp_path):
	"""A bundles audio and video with rtcp-mux on one port, B is a plain phone per
	section: A's flows are recorded on the one shared port (RTP of both sections and the
	muxed RTCP), B's on their own ports."""
	from test_bundle import A_SSRC, V_SSRC, dest, offer_sdp, plain_answer, send_av

	r = rec_relay(relay, tmp_path)
	c = Call(r)
	bv = Phone(name="callee-video")
	c.offer(sdp=offer_sdp(c.a), **{"record-call": "yes"})
	c.answer(sdp=plain_answer(c.b, bv))
	shared = dest(c.answer_reply, 0)
	aud, vid = send_av(c.a.rtp, shared, 10)
	assert len(recv_all(c.b.rtp, timeout=2, count=10)) == 10
	assert len(recv_all(bv.rtp, timeout=2, count=10)) == 10
	c.a.rtp.sendto(b"\x80\xc8\x00\x06" + A_SSRC.to_bytes(4, "big") + bytes(20), shared)
	assert len(recv_all(c.b.rtcp, timeout=2, count=1)) == 1
	ok(c.delete())
	pcap, = wait_file(str(tmp_path / "pcaps" / "*.pcap"))
	rows = tshark_rows(pcap)
	from_a = [x for x in rows if x["sport"] == c.a.port]
	assert {x["dport"] for x in from_a} == {shared[1]}
	assert sorted(int(x["ssrc"], 16) for x in from_a if x["ssrc"]) == [A_SSRC] * 10 + [V_SSRC] * 10
	assert len([x for x in from_a if x["rtcp"] and not x["ssrc"]]) == 1     # muxed RTCP
	o = c.offer_reply
	assert {x["sport"] for x in rows if x["dport"] == bv.port} == {dest(o, 1)[1]}
	assert {x["sport"] for x in rows if x["dport"] == c.b.port} == {dest(o, 0)[1]}
	assert {x["sport"] for x in rows if x["dport"] == c.b.port + 1} == {dest(o, 0)[1] + 1}
	bv.close()
	c.close()
