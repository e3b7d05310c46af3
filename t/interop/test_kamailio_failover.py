"""Two sluiced in one Kamailio rtpengine set, sharing a Redis; the first dies.

    caller baresip -> Kamailio (rtpengine_sock "udp:tapA=256 udp:tapB=1") -> callee baresip
                         |  offer (no reply)            ^ offer, answer, delete
                         v                              |
               tap A -> relay A: a call of its own,   tap B -> relay B: --subscribe-keyspace
                        then kill -9                           (same media address, ports)

Relay A makes a call of its own (written to Redis database 3), then is killed. Relay B
starts subscribed to database 3: A's call is foreign to it, and since their shared media
address is here (loopback) B takes it over at once. Kamailio still picks A first for the
new call; A does not answer, Kamailio disables it and sends the same offer to B, and the
call (answer, media both ways, BYE) goes through B.

Run: python3 -m pytest -q t/interop/test_kamailio_failover.py
"""
import contextlib
import shutil
import signal
import subprocess
import time

import pytest

import interop_harness as H
import interop_scenario as S

OTHER_CALL = "a-call-of-relay-a"

pytestmark = [pytest.mark.skipif(not shutil.which("redis-server"), reason="no redis-server"),
	      pytest.mark.skipif(S.relay_kind() != "sluiced", reason="sluice's Redis state")]


def redis_keys(port, db):
	out = subprocess.run(["redis-cli", "-p", str(port), "-n", str(db), "--scan", "--pattern",
			      "sluice:call:*"], capture_output=True, text=True, timeout=5).stdout
	return sorted(k for k in out.splitlines() if k)


@pytest.fixture(scope="module")
def call(tmp_path_factory):
	d = tmp_path_factory.mktemp("interop-failover")
	port = H.pick_port(16400, tcp=True)
	procs = []
	with contextlib.ExitStack() as stack:
		rd = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
				       "--save", "", "--appendonly", "no"],
				      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
				      stderr=subprocess.DEVNULL)
		stack.callback(lambda: (rd.kill(), rd.wait()))
		H.wait_until(lambda: subprocess.run(["redis-cli", "-p", str(port), "PING"],
						    capture_output=True, text=True).stdout.strip()
			     == "PONG", 5, "redis-server to answer")
		keys = {}

		def kill_a(ng):
			sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
			       "t=0 0\r\nm=audio 29990 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
			r = ng.request("offer", **{"call-id": OTHER_CALL, "from-tag": "x", "sdp": sdp})
			assert r.get("result") == "ok", r
			keys["a"] = H.wait_until(lambda: redis_keys(port, 3), 3, "A's key in Redis")
			procs[0].stop(timeout=5, sig=signal.SIGKILL)       # relay A
			keys["killed_at"] = time.monotonic()

		same_ports = ["--port-min=%d" % H.RELAY_PORT_MIN, "--port-max=%d" % H.RELAY_PORT_MAX]
		r = S.run_call(d, "", stack, procs,
			       relay_args=["--redis=127.0.0.1:%d/3" % port, "--redis-instance=ka"],
			       relay_b_args=["--redis=127.0.0.1:%d/4" % port, "--redis-instance=kb",
					     "--subscribe-keyspace=3"] + same_ports,
			       relay_setup=kill_a)
		r.keys_a = keys["a"]
		r.keys_end = (redis_keys(port, 3), redis_keys(port, 4))
		return r


def _for_call(msgs, call_id):
	return [m for m in msgs if m.get("call-id") == call_id]


def test_first_relay_is_dead(call):
	assert call.keys_a == ["sluice:call:ka:" + OTHER_CALL]
	assert not call.relay_alive_at_end and call.relay_rc == -signal.SIGKILL
	# Kamailio tried A (its ping at start, or the offer) and got nothing back; nothing
	# but that offer of the new call went to A
	reqs = _for_call(call.ng_requests, call.call_id)
	assert {m.get("command") for m in reqs} <= {"offer"}, reqs
	assert not [m for m in call.ng_replies if "sdp" in m], call.ng_replies


def test_second_relay_carries_the_new_call(call):
	reqs = _for_call(call.ng_requests_b, call.call_id)
	cmds = [m.get("command") for m in reqs]
	assert cmds[0] == "offer" and "answer" in cmds and "delete" in cmds, cmds
	bad = [m for m in call.ng_replies_b if m.get("result") not in ("ok", "pong")]
	assert not bad, bad
	assert call.call_id in (call.list_during.get("calls") or []), call.list_during
	assert call.call_id not in (call.list_after.get("calls") or []), call.list_after
	streams = call.relay_streams
	caller = [n for p, n in streams.items() if S._in(p, call.caller_rtp)]
	callee = [n for p, n in streams.items() if S._in(p, call.callee_rtp)]
	assert caller and max(caller) > S.MIN_PACKETS, streams
	assert callee and max(callee) > S.MIN_PACKETS, streams


def test_second_relay_took_the_first_ones_call_over(call):
	assert "call taken over from ka (its address is here)" in call.relay_b_log
	assert OTHER_CALL in (call.list_during.get("calls") or []), call.list_during
	red = call.stats_b["statistics"]["redis"]
	assert red["takeovers"] == 1 and red["foreign"] == 0, red
	# A's key went with the takeover; B's own (the taken call) stays after a clean stop
	assert call.keys_end == ([], ["sluice:call:kb:" + OTHER_CALL]), call.keys_end


@pytest.mark.parametrize("side", ["caller", "callee"])
def test_audio_crosses(call, side):
	S.assert_heard_tone(call, side)


def test_kamailio_failed_over(call):
	log = call.kamailio_log
	a = "RTPEngine <udp:127.0.0.1:%d>" % call.ports["tap"]
	assert 'timeout waiting reply for command "offer" from ' + a in log or \
		"proxy did not respond to ping" in log, log[-3000:]
	assert call.relay_b_alive_at_end and call.relay_b_rc in (0, -signal.SIGTERM)
