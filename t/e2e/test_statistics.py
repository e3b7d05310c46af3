"""`statistics`: rtpengine's schema, and values that follow what the relay does.

rtpengine_statistics_keys.txt lists every key path (and value type) of rtpengine 10.5's
reply during a transcoded call with media; sluiced's reply must have all of them (it
adds its own "ng" and "loadlimits"). The values: sessions, transcoded media and the
transcoders per codec chain, packet/byte rates (sampled every second), relayed totals
split userspace/kernel, zero-way and one-way media of ended calls, call durations and
MOS,
per-proxy control counters, and (sluiced; rtpengine fills these only with graphite) the
interval figures from one statistics request to the next.
"""

import math
import threading
import time
from pathlib import Path

import pytest

from calls import Call, exchange, ok, wait_for

KEYS = Path(__file__).resolve().parent / "rtpengine_statistics_keys.txt"


def stats(r):
	return ok(r.ng.req({"command": "statistics"}))["statistics"]


def key_types(v, path="", out=None):
	"""{path: 'int'|'str'|'list'} over the whole tree; list elements merge as '[]'."""
	out = {} if out is None else out
	if isinstance(v, dict):
		for k, x in v.items():
			key_types(x, path + "/" + k, out)
	elif isinstance(v, list):
		if not v:
			out.setdefault(path + "[]", "list")
		for x in v:
			key_types(x, path + "[]", out)
	else:
		out[path] = "int" if isinstance(v, int) else "str"
	return out


def transcoded(r):
	"""A offers PCMU (and the relay adds PCMA), B takes only PCMA."""
	c = Call(r)
	c.offer(sdp=c.a.sdp(codecs=(0,)), codec={"transcode": ["PCMA"]})
	c.answer(sdp=c.b.sdp(codecs=(8,)))
	return c


def send(c, n, pps=50):
	"""A -> B, n packets of 160 bytes of payload."""
	return c.a.send_rtp(c.a_dest(), n=n, pps=pps, payload_fn=lambda i: b"\xff" * 160)


def test_schema_as_rtpengine(relay):
	r = relay()
	c = transcoded(r)
	t = threading.Thread(target=send, args=(c, 100))	# rates: rtpengine lists a
	t.start()						# transcoder's only while it runs
	time.sleep(1.5)
	got = key_types(ok(r.ng.req({"command": "statistics"})))
	t.join()
	want = [l.split(None, 1) for l in KEYS.read_text().splitlines() if l and not l.startswith("#")]
	assert len(want) > 250
	missing = [p for t, p in want if p not in got]
	assert not missing, "keys of rtpengine's reply missing: %s" % missing
	wrong = [(p, t, got[p]) for t, p in want if got[p] != t]
	assert not wrong, "value types differ (path, rtpengine, this relay): %s" % wrong
	c.close()


def chain(st, name):
	found = [t for t in st["transcoders"] if t["chain"] == name]
	assert len(found) == 1, st["transcoders"]
	return found[0]


def test_transcoded_media_and_chains(relay):
	r = relay()
	plain = Call(r).setup()
	c = transcoded(r)
	send(c, 40)
	exchange(plain, n=5, pps=0)
	time.sleep(1.2)
	st = stats(r)
	assert st["currentstatistics"]["transcodedmedia"] == 2	# both sides of one m= line
	fwd = chain(st, "PCMU/8000 -> PCMA/8000")
	assert (fwd["num"], fwd["packets"], fwd["bytes"], fwd["samples"]) == (1, 40, 6400, 6400)
	assert chain(st, "PCMA/8000 -> PCMU/8000")["packets"] == 0
	ok(c.delete())
	# rtpengine updates the figure from its timer, sluiced at once
	assert wait_for(lambda: stats(r)["currentstatistics"]["transcodedmedia"] == 0, 3)
	plain.close()
	c.close()


@pytest.mark.sluice_only
def test_transcoded_media_without_packets(relay):
	"""sluiced counts a transcoded media once the answer set it up (rtpengine only once
	media flowed)."""
	r = relay()
	c = transcoded(r)
	assert stats(r)["currentstatistics"]["transcodedmedia"] == 2
	time.sleep(1.2)
	fwd = chain(stats(r), "PCMU/8000 -> PCMA/8000")
	assert (fwd["num"], fwd["packets"], fwd["packetrate"]) == (1, 0, 0)
	c.close()


def test_rates_totals_and_ended_calls(relay):
	r = relay()
	one_way = Call(r).setup()
	zero_way = Call(r).setup()
	two_way = Call(r).setup()
	t = threading.Thread(target=send, args=(one_way, 150))	# 3 s at 50 packets/s
	t.start()
	time.sleep(1.8)
	cur = stats(r)["currentstatistics"]
	t.join()
	assert 35 <= cur["packetrate"] <= 65, cur
	assert 35 * 172 <= cur["byterate"] <= 65 * 172, cur
	assert cur["packetrate"] == cur["packetrate_user"] + cur["packetrate_kernel"]
	assert cur["byterate"] == cur["byterate_user"] + cur["byterate_kernel"]
	assert cur["errorrate"] == 0
	# media being forwarded: only the one-way call's sending side has had packets
	assert cur["media_userspace"] + cur["media_kernel"] + cur["media_mixed"] == 1, cur
	exchange(two_way, n=5, pps=0)
	for c in (one_way, zero_way, two_way):		# lasting d, d + 1 and d + 2 s
		ok(c.delete())
		time.sleep(1.0)
	tot = stats(r)["totalstatistics"]
	assert tot["managedsessions"] == 3
	assert tot["relayedpackets"] == 150 + 10
	assert tot["relayedbytes"] == 160 * 172
	for k in ("relayedpackets", "relayedbytes", "relayedpacketerrors"):
		assert tot[k] == tot[k + "_user"] + tot[k + "_kernel"], (k, tot)
	assert (tot["zerowaystreams"], tot["onewaystreams"]) == (1, 1)
	total = float(tot["totalcallsduration"])
	assert 3 * 3.0 + 3 <= total <= 3 * 6.0 + 3
	avg = float(tot["avgcallduration"])
	assert abs(avg - total / 3) < 1e-5
	sq = float(tot["totalcallsduration2"])
	sd = float(tot["totalcallsduration_stddev"])
	assert abs(sd - math.sqrt(sq / 3 - avg * avg)) < 0.01
	assert abs(sd - math.sqrt(2 / 3)) < 0.15		# population deviation of d, d+1, d+2
	assert isinstance(tot["uptime"], str) and int(tot["uptime"]) >= 3
	for c in (one_way, zero_way, two_way):
		c.close()


def test_control_statistics(relay):
	r = relay()
	c = Call(r).setup()
	bad = r.ng.req({"command": "offer", "call-id": "x", "from-tag": "y"})	# no SDP
	assert bad["result"] == "error"
	ok(c.delete())
	stats(r)
	cs = stats(r)["controlstatistics"]
	[p] = [p for p in cs["proxies"] if p["proxy"] == "127.0.0.1"]
	assert (p["offercount"], p["answercount"], p["deletecount"]) == (2, 1, 1)
	assert p["statscount"] == 1
	assert p["errorcount"] == 1
	assert float(p["offerduration"]) > 0 and p["querycount"] == 0
	assert (cs["totaloffercount"], cs["totalanswercount"], cs["totalstatscount"]) == (2, 1, 1)
	c.close()


@pytest.mark.sluice_only
def test_mos_of_ended_calls(relay):
	"""A clean G.711 call measured for 5 s (one MOS sample, 4.4: docs/quality.md); a call
	without media adds nothing. rtpengine takes MOS from the phones' RTCP only."""
	r = relay()
	c = Call(r).setup()
	silent = Call(r).setup()
	ta = threading.Thread(target=c.a.send_rtp, args=(c.a_dest(),), kwargs=dict(n=290))
	tb = threading.Thread(target=c.b.send_rtp, args=(c.b_dest(),), kwargs=dict(n=290))
	ta.start()
	tb.start()
	ta.join()
	tb.join()
	for x in (c, silent):
		ok(x.delete())
	m = stats(r)["mos"]
	assert m == {"mos_total": "4.400000", "mos2_total": "19.360000", "mos_samples_total": 1,
		     "mos_average": "4.400000", "mos_stddev": "0.000000"}, m
	c.close()
	silent.close()


@pytest.mark.sluice_only
def test_interval_statistics(relay):
	r = relay()
	stats(r)					# an interval begins
	calls = [Call(r) for _ in range(3)]
	for c in calls:
		c.offer()
	time.sleep(2.5)					# whole seconds, some without offers
	iv = stats(r)["intervalstatistics"]
	lo, hi, avg = (float(iv[k + "offerdelay"]) for k in ("min", "max", "avg"))
	assert 0 < lo <= avg <= hi < 1, iv
	assert iv["minanswerdelay"] == iv["maxanswerdelay"] == "0.000000"
	assert (iv["minmanagedsessions"], iv["maxmanagedsessions"]) == (0, 3)
	assert int(iv["maxofferrequestrate"]) >= 1 and iv["minofferrequestrate"] == "0"
	ok(calls[0].delete())
	iv = stats(r)["intervalstatistics"]		# the next interval: no offers
	assert iv["maxofferdelay"] == "0.000000" and iv["maxofferrequestrate"] == "0"
	assert (iv["minmanagedsessions"], iv["maxmanagedsessions"]) == (2, 3)
	assert float(iv["totalcallsduration"]) >= 2.5
	for c in calls:
		c.close()


def test_interface_ports(relay):
	r = relay()
	c = Call(r).setup()
	[i] = [i for i in stats(r)["interfaces"] if i["address"] == "127.0.0.1"]
	p = i["ports"]
	assert p["used_pct"] == "%.2f" % (100.0 * p["used"] / p["totals"])
	assert r.port_min <= p["last"] <= r.port_max
	c.close()
