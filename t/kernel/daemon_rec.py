#!/usr/bin/python3
"""Recording a kernel-eligible call (issue 12), run inside the test VM by guest.sh with
the module loaded: the real sluiced with --kernel=on and --recording-dir, the phones of
daemon_tests.py (A behind NAT in netns a, B in netns b; topology in guest.sh).

usage: daemon_rec.py RESULTS OUTDIR rec

  daemon_recording_leaves_kernel   a call forwarded in the kernel; `start recording`
      takes its streams out of the kernel, `stop recording` puts them back; media flows
      without loss across both, and the file holds exactly the packets sent between them
  daemon_record_call_never_in_kernel   record-call=yes in the offer: the call never
      enters the kernel and its file holds every packet of the call

The pcap files are read here (raw IPv4, linktype 101) and compared packet by packet,
payload included, with what the phones sent. Appends PASS/FAIL lines to RESULTS."""

import glob
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_tests as T  # noqa: E402  (reads RESULTS OUTDIR GROUP from argv)
from daemon_tests import expect  # noqa: E402

LINKTYPE_RAW, LINKTYPE_ETH = 101, 1


def read_pcap(path):
	"""[(src "ip:port", dst "ip:port", udp payload)] of the IPv4/UDP packets of a pcap."""
	with open(path, "rb") as f:
		data = f.read()
	expect(len(data) >= 24 and data[:4] == b"\xd4\xc3\xb2\xa1", "%s: not a pcap" % path)
	link = struct.unpack_from("<I", data, 20)[0]
	expect(link in (LINKTYPE_RAW, LINKTYPE_ETH), "%s: link type %d" % (path, link))
	l2 = 14 if link == LINKTYPE_ETH else 0
	out, off = [], 24
	while off + 16 <= len(data):
		incl = struct.unpack_from("<I", data, off + 8)[0]
		ip = data[off + 16 + l2:off + 16 + incl]
		off += 16 + incl
		expect(len(ip) >= 28 and ip[0] >> 4 == 4 and ip[9] == 17, "not IPv4/UDP")
		ihl = (ip[0] & 0xF) * 4
		sport, dport, ulen = struct.unpack_from("!HHH", ip, ihl)
		out.append(("%s:%d" % (socket.inet_ntoa(ip[12:16]), sport),
			    "%s:%d" % (socket.inet_ntoa(ip[16:20]), dport), ip[ihl + 8:ihl + ulen]))
	expect(off == len(data), "%s: %d bytes of a cut packet at the end" % (path, len(data) - off))
	return out


def flows(pkts):
	"""{(src, dst): [payload, ...]} in file order."""
	out = {}
	for src, dst, payload in pkts:
		out.setdefault((src, dst), []).append(payload)
	return out


def recording(rdir, timeout=5):
	"""The one finished pcap of rdir and its metadata (the writer renames the file once
	the recording ended)."""
	pcaps = T.wait_until(lambda: glob.glob(os.path.join(rdir, "pcaps", "*.pcap")), timeout)
	expect(len(pcaps or []) == 1, "recordings: %r" % os.listdir(os.path.join(rdir, "pcaps")))
	metas = T.wait_until(lambda: glob.glob(os.path.join(rdir, "metadata", "*.meta")), timeout)
	expect(len(metas or []) == 1, "metadata: %r" % metas)
	expect(not glob.glob(os.path.join(rdir, "pcaps", "*.tmp")), "a .tmp file is left")
	with open(metas[0]) as f:
		return pcaps[0], json.load(f)


def expect_recorded(pcap, a, b, pa, pb, want_a, want_b):
	"""The file holds exactly A's packets want_a (A -> relay port pa, then relay port pb ->
	B) and B's want_b (the other way), byte for byte, in order, and nothing else."""
	f = flows(read_pcap(pcap))
	ra, rb = "%s:%d" % (T.RELAY_IP, pa), "%s:%d" % (T.RELAY_IP, pb)
	pa_src, pb_src = "%s:%d" % (a.ip, a.rtp.getsockname()[1]), "%s:%d" % (b.ip, b.rtp.getsockname()[1])
	want = {(pa_src, ra): want_a, (rb, pb_src): want_a, (pb_src, rb): want_b,
		(ra, pa_src): want_b}
	counts = {k: len(v) for k, v in f.items()}
	expect(counts == {k: len(v) for k, v in want.items()},
	       "flows in the file %r, want %r" % (counts, {k: len(v) for k, v in want.items()}))
	for k, v in want.items():
		expect(f[k] == v, "%s -> %s: payloads differ from what was sent" % k)


def flow(pairs, n, pps, hooks):
	"""exchange() of daemon_tests with hooks: hooks[k]() runs before the k-th round (an
	NG command while media flows). Returns {i: (sent, got)}."""
	res = {i: ([], []) for i in range(len(pairs))}
	for _, rx in pairs:
		T.drain(rx.rtp)
	t0 = time.monotonic()
	for k in range(n):
		if k in hooks:
			hooks[k]()
		for i, (tx, rx) in enumerate(pairs):
			p = tx.packet()
			tx.rtp.sendto(p, tx.dest)
			res[i][0].append(p)
			T.drain(rx.rtp, res[i][1])
		d = t0 + (k + 1) / pps - time.monotonic()
		if d > 0:
			time.sleep(d)
	deadline = time.monotonic() + 0.5
	while time.monotonic() < deadline:
		for i, (_, rx) in enumerate(pairs):
			T.drain(rx.rtp, res[i][1])
		time.sleep(0.05)
	return res


def in_userspace_for_recording(c, ports):
	st = T.streams(c.query())
	for p in ports:
		expect(st[p]["forwarding"] == "userspace" and st[p].get("not in kernel") == "recording",
		       "port %d: %r / %r" % (p, st[p]["forwarding"], st[p].get("not in kernel")))
	return st


def new_call(name, **kw):
	rdir = os.path.join(T.OUT, name)
	d = T.Daemon(name, "--kernel=on", "--endpoint-learning=immediate",
		     "--recording-dir=" + rdir)
	a, b = T.Phone("a", "10.0.1.2", 5000, 6000), T.Phone("b", "10.0.2.2", 7000, 7000)
	return rdir, d, a, b, T.Call(d, a, b, **kw)


def daemon_recording_leaves_kernel():
	"""Issue 12: a kernel-forwarded call (kernel counters move, userspace's do not);
	`start recording` while media flows at 100 pps each way: its streams leave the kernel
	(query: not in kernel: recording; no kernel entries; userspace counts); `stop
	recording`: they go back (kernel counters move again). No packet is lost across the
	two moves, and the file holds exactly the packets sent after the start's reply and
	before the stop: A -> relay, relay -> B, B -> relay, relay -> A, payloads identical."""
	rdir, d, a, b, c = new_call("rec-start-stop")
	pa, pb = a.dest[1], b.dest[1]
	both = [(a, b), (b, a)]
	T.exchange([(a, b)], 1, settle=0.2)		# A latches first: B's media reaches it
	T.exchange(both, 20, pps=50)
	expect(T.wait_until(lambda: T.kernelized(c, (pa, pb)), 5, keepalive=T.trickle(both)),
	       "call not kernel-forwarded")

	kl0, st0 = T.klist()[0], T.streams(c.query())
	r = T.exchange(both, 100)
	T.check_delivery("kernel A->B", r[0][0], r[0][1], (T.RELAY_IP, pb))
	T.check_delivery("kernel B->A", r[1][0], r[1][1], (T.RELAY_IP, pa))
	kl1, st1 = T.klist()[0], T.streams(c.query())
	for p in (pa, pb):
		expect(kl1[p]["packets"] - kl0[p]["packets"] == 100, "port %d: kernel counted %d of 100"
		       % (p, kl1[p]["packets"] - kl0[p]["packets"]))
		expect(st1[p]["stats"]["packets"] - st0[p]["stats"]["packets"] == 100,
		       "port %d: query counted %d" % (p, st1[p]["stats"]["packets"] - st0[p]["stats"]["packets"]))

	mid = {}

	def start():
		r = d.req(c.base("start recording"))
		expect(r.get("result") == "ok", "start recording: %r" % r)

	def check_mid(k):
		def f():
			kl, _ = T.klist()
			expect(pa not in kl and pb not in kl, "kernel entries while recorded: %r" % kl)
			mid[k] = in_userspace_for_recording(c, (pa, pb))
		return f

	def stop():
		r = d.req(c.base("stop recording"))
		expect(r.get("result") == "ok", "stop recording: %r" % r)

	# rounds 0-49 in the kernel, 50-249 recorded (in userspace), 250-299 after the stop
	r = flow(both, 300, 100, {50: start, 100: check_mid(100), 200: check_mid(200), 250: stop})
	T.check_delivery("across start/stop A->B", r[0][0], r[0][1], (T.RELAY_IP, pb))
	T.check_delivery("across start/stop B->A", r[1][0], r[1][1], (T.RELAY_IP, pa))
	for p in (pa, pb):
		n = mid[200][p]["stats"]["packets"] - mid[100][p]["stats"]["packets"]
		expect(n == 100, "port %d: userspace counted %d of the 100 recorded packets" % (p, n))
	q = c.query()
	expect(q["recording"]["state"] == "off" and q["recording"]["files"] == 1, q["recording"])

	pcap, meta = recording(rdir)
	expect_recorded(pcap, a, b, pa, pb, r[0][0][50:250], r[1][0][50:250])
	expect(meta["stopped-by"] == "stop recording" and meta["packets"] == 800,
	       "metadata: %r" % {k: meta.get(k) for k in ("stopped-by", "packets")})
	q = c.query()
	expect(q["recording"]["packets"] == 800 and q["recording"]["drops"] == 0,
	       "query: %r" % q["recording"])

	# back in the kernel
	expect(T.wait_until(lambda: T.kernelized(c, (pa, pb)), 5, keepalive=T.trickle(both)),
	       "not back in the kernel after stop recording: %r" % {
		       p: s.get("not in kernel") for p, s in T.streams(c.query()).items()})
	kl2 = T.klist()[0]
	r = T.exchange(both, 100)
	T.check_delivery("kernel again A->B", r[0][0], r[0][1], (T.RELAY_IP, pb))
	T.check_delivery("kernel again B->A", r[1][0], r[1][1], (T.RELAY_IP, pa))
	kl3 = T.klist()[0]
	for p in (pa, pb):
		expect(kl3[p]["packets"] - kl2[p]["packets"] == 100, "port %d: kernel counted %d of 100"
		       " after the stop" % (p, kl3[p]["packets"] - kl2[p]["packets"]))
	c.delete()
	expect(len(glob.glob(os.path.join(rdir, "pcaps", "*"))) == 1, "a second file")
	expect(d.stop() == 0, "daemon exit code")


def daemon_record_call_never_in_kernel():
	"""Issue 12: record-call=yes in the offer (the key Kamailio's rtpengine_manage sends):
	a kernel-eligible call that never enters the kernel (no entry, reason "recording" in
	every query over 3 s of media, past latching), and after the delete its file holds
	every packet of the call, both directions, both legs, byte for byte."""
	rdir, d, a, b, c = new_call("rec-offer", offer_keys={"record-call": "yes"})
	pa, pb = a.dest[1], b.dest[1]
	q = c.query()
	expect(q["recording"]["state"] == "on", "query: %r" % q["recording"])
	in_userspace_for_recording(c, (pa, pb))
	both = [(a, b), (b, a)]
	r0 = T.exchange([(a, b)], 1, settle=0.2)
	sent_a, sent_b = list(r0[0][0]), []
	for i in range(3):
		r = T.exchange(both, 100)
		T.check_delivery("A->B %d" % i, r[0][0], r[0][1], (T.RELAY_IP, pb))
		T.check_delivery("B->A %d" % i, r[1][0], r[1][1], (T.RELAY_IP, pa))
		sent_a += r[0][0]
		sent_b += r[1][0]
		kl, _ = T.klist()
		expect(pa not in kl and pb not in kl, "kernel entries of a recorded call: %r" % kl)
		st = in_userspace_for_recording(c, (pa, pb))
		expect(st[pa]["stats"]["packets"] == len(sent_a) and
		       st[pb]["stats"]["packets"] == len(sent_b), "query counts %d/%d, sent %d/%d" % (
			       st[pa]["stats"]["packets"], st[pb]["stats"]["packets"], len(sent_a),
			       len(sent_b)))
	c.delete()
	pcap, meta = recording(rdir)
	expect_recorded(pcap, a, b, pa, pb, sent_a, sent_b)
	expect(meta["packets"] == 2 * (len(sent_a) + len(sent_b)), "metadata packets %r" %
	       meta.get("packets"))
	expect(d.stop() == 0, "daemon exit code")


GROUPS = {"rec": [daemon_recording_leaves_kernel, daemon_record_call_never_in_kernel]}


def main():
	for fn in GROUPS[T.GROUP]:
		T.scenario(fn)
	left = bool(T.Daemon.live)
	for d in list(T.Daemon.live):
		d.kill()
	if left:
		T.sh("nft", "delete", "table", "inet", "sluice_%d" % T.TABLE, check=False)


if __name__ == "__main__":
	main()
