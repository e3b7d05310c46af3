"""Quality measured by the relay itself: loss, reordering and duplicates from sequence
numbers, RFC 3550 jitter, the far end's RTCP report and the round-trip time from SR/RR,
and MOS, in query, in delete's "SSRC" section and in the call-end log line."""

import struct
import time

import pytest

from calls import Call, ok
from rtp import recv_all, rtp_packet

pytestmark = pytest.mark.sluice_only

PPS = 50
N = 300                                 # 6 s: one MOS sample (every 5 s)


def run_schedule(events):
	"""events: [(t_offset_s, sock, data, dest)] sent at their time. Returns
	[(send time, data)] in the order sent (the machine's timing, not the plan's)."""
	t0 = time.monotonic()
	sent = []
	for t, sock, data, dest in sorted(events, key=lambda e: e[0]):
		d = t0 + t - time.monotonic()
		if d > 0:
			time.sleep(d)
		sock.sendto(data, dest)
		sent.append((time.monotonic(), data))
	return sent


def rfc3550_jitter_ms(arrivals, clock=8000):
	"""The A.8 estimator over [(arrival s, rtp packet)] in arrival order: what an ideal
	receiver next to the sender would report."""
	j, last = 0.0, None
	for at, pkt in arrivals:
		ts = struct.unpack_from("!I", pkt, 4)[0]
		transit = at * clock - ts
		if last is not None:
			j += (abs(transit - last) - j) / 16
		last = transit
	return j * 1000 / clock


def media_q(reply, tag):
	return reply["tags"][tag]["medias"][0]["streams"][0]["quality"]


def rr_packet(ssrc, about, lsr, dlsr, fraction=25, lost=42, jitter=80):
	return struct.pack("!BBHI", 0x81, 201, 7, ssrc) + struct.pack(
		"!IIIIII", about, fraction << 24 | lost, 0, jitter, lsr, dlsr)


def sr_packet(ssrc, ntp_sec, ntp_frac):
	return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, ntp_sec, ntp_frac, 0, 0, 0)


def test_loss_reorder_jitter_without_rtcp(relay):
	r = relay()
	c = Call(r).setup()
	a, b = c.a, c.b
	events, lost, swapped = [], 0, 0
	seq_a, seq_b = a.seq, b.seq
	for i in range(N):
		t = i / PPS
		# A -> B: every 20th packet lost (5 %), 10 neighbour pairs swapped
		if i % 20 == 10:
			lost += 1
		else:
			when = t + (0.021 if i % 29 == 3 and swapped < 10 else 0)
			if when != t:
				swapped += 1
			events.append((when, a.rtp, rtp_packet(0, (seq_a + i) & 0xFFFF,
							      (a.ts + 160 * i) & 0xFFFFFFFF, a.ssrc,
							      bytes(160)), c.a_dest()))
		# B -> A: no loss, network delay alternating 0 / 30 ms: jitter 30 ms, and as
		# packets are 20 ms apart every delayed one arrives after its successor
		events.append((t + (0.030 if i % 2 else 0), b.rtp,
			       rtp_packet(0, (seq_b + i) & 0xFFFF, (b.ts + 160 * i) & 0xFFFFFFFF,
					  b.ssrc, bytes(160)), c.b_dest()))
	sent = run_schedule(events)
	want_jb = rfc3550_jitter_ms([(t, d) for t, d in sent
				     if struct.unpack_from("!I", d, 8)[0] == b.ssrc])
	want_ja = rfc3550_jitter_ms([(t, d) for t, d in sent
				     if struct.unpack_from("!I", d, 8)[0] == a.ssrc])
	recv_all(c.b.rtp, timeout=1, count=N - lost)
	recv_all(c.a.rtp, timeout=1, count=N)
	q = ok(c.query())
	qa, qb = media_q(q, c.ftag), media_q(q, c.ttag)
	assert qa["SSRC"] == a.ssrc and qb["SSRC"] == b.ssrc
	assert qa["packets lost"] == lost and qa["packets expected"] == N
	assert qa["reordered"] == swapped == 10 and qa["duplicates"] == 0
	assert qb["packets lost"] == 0 and qb["reordered"] == (N - 1) // 2
	jb = qb["jitter us"] / 1000
	# 30 ms injected (less what the sender's sleeps blur); the relay's figure within
	# 5 % of what the RFC 3550 estimator gives on the real send times
	assert 25 <= want_jb <= 31, want_jb
	assert abs(jb - want_jb) <= 0.05 * want_jb, (jb, want_jb)
	ja = qa["jitter us"] / 1000                     # steady, apart from the swaps
	assert abs(ja - want_ja) <= max(0.05 * want_ja, 0.5), (ja, want_ja)
	assert "round-trip time us" not in qa and "far end report" not in qa
	# one MOS sample each after 5 s: 5 % loss costs G.711 half a point
	assert qa["MOS samples"] >= 1 and qb["MOS samples"] >= 1
	assert 36 <= qa["average MOS"] <= 40, qa
	assert 42 <= qb["average MOS"] <= 44, qb
	d = ok(c.delete())
	ss = d["SSRC"]
	assert set(ss) == {str(a.ssrc), str(b.ssrc)}
	ea = ss[str(a.ssrc)]
	assert ea["average MOS"]["MOS"] == qa["average MOS"] and ea["lowest MOS"]["MOS"] <= ea["highest MOS"]["MOS"]
	assert ea["packets lost"] == lost and ea["average MOS"]["packet loss"] == 5
	log = wait_log(r, "call removed")
	assert "MOS average" in log
	c.close()


def wait_log(r, what, timeout=2):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		lines = [l for l in r.log().splitlines() if what in l]
		if lines:
			return lines[-1]
		time.sleep(0.05)
	return ""


def test_rtt_and_far_end_report_from_rtcp(relay):
	r = relay()
	c = Call(r).setup()
	a, b = c.a, c.b
	# media both ways so the streams are latched
	for _ in range(5):
		a.rtp.sendto(a.next_rtp(), c.a_dest())
		b.rtp.sendto(b.next_rtp(), c.b_dest())
	recv_all(a.rtp, timeout=1, count=5)
	recv_all(b.rtp, timeout=1, count=5)
	rtts = []
	for k in range(3):
		# B's SR reaches A through the relay; A answers 80 ms later claiming it held the
		# SR for 30 ms: the relay sees a round trip of 50 ms on A's leg
		ntp_sec, ntp_frac = 0x1000 + k, 0x23450000
		b.rtcp.sendto(sr_packet(b.ssrc, ntp_sec, ntp_frac), c.b_dest(rtcp=True))
		got = recv_all(a.rtcp, timeout=1, count=1)
		assert got and got[0][0][1] == 200
		time.sleep(0.080)
		lsr = (ntp_sec & 0xFFFF) << 16 | ntp_frac >> 16
		a.rtcp.sendto(rr_packet(a.ssrc, b.ssrc, lsr, int(0.030 * 65536)), c.a_dest(rtcp=True))
		recv_all(b.rtcp, timeout=1, count=1)
		time.sleep(0.05)
		rtts.append(media_q(ok(c.query()), c.ftag).get("round-trip time us"))
	assert all(x is not None for x in rtts), rtts
	for x in rtts:
		assert 45000 <= x <= 65000, rtts
	fe = media_q(ok(c.query()), c.ftag)["far end report"]
	assert fe == {"fraction lost": 25, "packets lost": 42, "jitter": 80}
	c.close()
