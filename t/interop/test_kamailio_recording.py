"""A call recorded through Kamailio: rtpengine_manage("record-call=yes") with the relay's
--recording-dir, then the pcap it wrote is read back with tshark.

One call as in test_kamailio_baresip.py (caller 700 Hz, callee 1200 Hz, PCMU, ~4 s).
INTEROP_RELAY=rtpengine runs it against rtpengine's --recording-method=pcap, which writes
only the packets it received (two flows, no metadata JSON): the checks that need more are
sluiced's.

Checks: Kamailio's offer asked for the recording (the flag as the rtpengine module sends
it); the relay's query said the call was recorded and its streams forwarded in userspace
because of it; after the BYE the recording is one finished .pcap (no .tmp) plus its
metadata; tshark decodes the file as RTP in all four flows (caller -> relay, relay ->
callee, callee -> relay, relay -> caller), each with one SSRC, the caller's SSRC on its
two flows and the callee's on the other two, consecutive sequence numbers, no loss in
`-z rtp,streams`, and exactly as many packets per flow as the relay counted (the
relay's final stats in the delete reply: what it received from each phone and, as plain
forwarding, sent on to the other).
"""
import contextlib
import glob
import json
import os
import re
import subprocess

import pytest

import interop_scenario as S


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
	d = tmp_path_factory.mktemp("interop-rec-%s" % S.relay_kind())
	recdir = d / "recordings"
	args = ["--recording-dir=%s" % recdir, "--recording-method=pcap"]
	with contextlib.ExitStack() as stack:
		call = S.run_call(d, "record-call=yes", stack, [], relay_args=args)
	call.recdir = recdir
	return call


def _tshark_rtp(path):
	"""[(sport, dport, ssrc, seq)] of the RTP packets tshark finds in the pcap."""
	r = subprocess.run(["tshark", "-r", str(path), "-o", "rtp.heuristic_rtp:TRUE", "-Y", "rtp",
			    "-T", "fields", "-E", "separator=|", "-e", "udp.srcport", "-e",
			    "udp.dstport", "-e", "rtp.ssrc", "-e", "rtp.seq"],
			   capture_output=True, text=True, timeout=60)
	assert r.returncode == 0, r.stderr
	out = []
	for line in r.stdout.splitlines():
		sp, dp, ssrc, seq = line.split("|")
		out.append((int(sp), int(dp), int(ssrc, 16), int(seq)))
	return out


def _rtp_streams(path):
	"""tshark -z rtp,streams: {(sport, dport): (packets, lost)}."""
	r = subprocess.run(["tshark", "-r", str(path), "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z",
			    "rtp,streams"], capture_output=True, text=True, timeout=60)
	assert r.returncode == 0, r.stderr
	out = {}
	for line in r.stdout.splitlines():
		m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\S+\s+(\d+)\s+\S+\s+(\d+)\s+0x[0-9A-Fa-f]+\s+\S+"
			     r"\s+(\d+)\s+(-?\d+)", line)
		if m:
			sp, dp, n, lost = (int(x) for x in m.groups())
			out[(sp, dp)] = (n, lost)
	return out


def _files(call):
	pcaps = sorted(glob.glob(str(call.recdir / "pcaps" / "*")))
	metas = sorted(glob.glob(str(call.recdir / "metadata" / "*")))
	return pcaps, metas


def test_kamailio_asked_for_recording(rec):
	offer = next(m for m in rec.ng_requests if m.get("command") == "offer")
	# Kamailio 5.6 passes "record-call=yes" on as the key record-call
	assert offer.get("record-call") == "yes" or "record-call=yes" in offer.get("flags", []), \
		offer
	bad = [m for m in rec.ng_replies if m.get("result") not in ("ok", "pong")]
	assert not bad, bad
	assert not [m for m in rec.ng_replies if "warning" in m], rec.ng_replies


def test_relay_query_said_recorded(rec):
	if S.relay_kind() != "sluiced":
		pytest.skip("query's recording section is sluiced's")
	q = rec.query
	assert q.get("result") == "ok", q
	assert q["recording"]["state"] == "on" and q["recording"]["files"] == 1, q["recording"]
	assert q["recording"]["packets"] > 4 * S.MIN_PACKETS, q["recording"]
	rtp = [st for tag in q["tags"].values() for m in tag["medias"] for st in m["streams"]
	       if "RTCP" not in st.get("flags", [])]
	assert len(rtp) == 2, q
	for st in rtp:
		# "recording", or an earlier reason on a host without the module
		assert st["forwarding"] == "userspace", st
		assert st["not in kernel"] == "recording" or \
			st["not in kernel"].startswith("kernel module"), st


def test_one_finished_file_with_metadata(rec):
	pcaps, metas = _files(rec)
	assert len(pcaps) == 1 and pcaps[0].endswith(".pcap"), pcaps
	assert len(metas) == 1, metas
	if S.relay_kind() == "sluiced":
		assert metas[0].endswith(".meta"), metas
		assert os.stat(pcaps[0]).st_mode & 0o777 == 0o640
		m = json.loads(open(metas[0]).read())
		assert m["call-id"] == rec.call_id and m["pcap"] == os.path.basename(pcaps[0])
		# Kamailio's delete (delete-delay 0: the call ends at once)
		assert m["stopped-by"] in ("call deleted", "call ended"), m["stopped-by"]
		assert [s["command"] for s in m["sdp"]][:2] == ["offer", "answer"], m["sdp"]


def _flows(rows):
	out = {}
	for sp, dp, ssrc, seq in rows:
		out.setdefault((sp, dp), []).append((ssrc, seq))
	return out


def _one(flows, pred, what):
	got = [k for k in flows if pred(k)]
	assert len(got) == 1, "%s: %s among %s" % (what, got, sorted(flows))
	return got[0]


def test_pcap_is_rtp_both_directions(rec):
	pcaps, _ = _files(rec)
	assert pcaps, "no recording"
	f = _flows(_tshark_rtp(pcaps[0]))
	up_a = _one(f, lambda k: S._in(k[0], rec.caller_rtp), "caller -> relay")
	up_b = _one(f, lambda k: S._in(k[0], rec.callee_rtp), "callee -> relay")
	# rtpengine's pcap method writes only what it received; sluiced writes what it sent too
	sent_too = S.relay_kind() == "sluiced"
	if sent_too:
		down_a = _one(f, lambda k: S._in(k[1], rec.caller_rtp), "relay -> caller")
		down_b = _one(f, lambda k: S._in(k[1], rec.callee_rtp), "relay -> callee")
	assert len(f) == (4 if sent_too else 2), sorted(f)
	counts = {k: len(v) for k, v in f.items()}
	# 4 s of 20 ms packets: ~200 per flow
	assert all(n > 150 for n in counts.values()), counts
	ssrcs = {k: {s for s, _ in v} for k, v in f.items()}
	assert all(len(s) == 1 for s in ssrcs.values()), ssrcs
	assert ssrcs[up_a] != ssrcs[up_b], ssrcs
	if sent_too:
		# plain forwarding keeps the SSRC: the caller's goes to the callee and back
		assert ssrcs[up_a] == ssrcs[down_b] and ssrcs[up_b] == ssrcs[down_a], ssrcs
	for k, v in f.items():
		seqs = [q for _, q in v]
		gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if (b - a) & 0xFFFF != 1]
		assert not gaps, "%s: sequence gaps %s" % (k, gaps[:5])
	streams = _rtp_streams(pcaps[0])
	assert {k: v[0] for k, v in streams.items()} == counts, (streams, counts)
	assert all(lost == 0 for _, lost in streams.values()), streams

	# exactly what the relay counted: each phone's packets as received, and each one
	# forwarded to the other phone (the delete's reply holds the final counts)
	got = _delete_stats(rec)
	assert got == {up_a[0]: counts[up_a], up_b[0]: counts[up_b]}, (got, counts)
	if sent_too:
		assert counts[down_b] == counts[up_a] and counts[down_a] == counts[up_b], counts


def _delete_stats(call):
	"""{phone's RTP port: packets the relay received from it} from the delete's reply."""
	reqs = [m for m in call.ng_requests if m.get("command") == "delete"]
	assert reqs, "Kamailio sent no delete"
	rep = [m for m in call.ng_replies if "tags" in m and "totals" in m]
	assert rep, "no delete reply with stats"
	return S._rtp_streams(rep[-1])
