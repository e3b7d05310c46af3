"""Two relays in one Kamailio rtpengine set; the first is at its --max-sessions.

    caller baresip -> Kamailio (rtpengine_sock "udp:tapA=256 udp:tapB=1") -> callee baresip
                         |  offer                      ^ offer, answer, delete
                         v                             |
               tap A -> relay A (--max-sessions=1,    tap B -> relay B (no limit,
                        one call already made)                 media 45000-45999)

Kamailio picks relay A first for every call-id (its hash is 0..255, A's weight 256).
Relay A answers Kamailio's offer (which carries `supports: [load limit]`) with `result:
load limit`; Kamailio then sends the same offer to relay B, and the call (answer,
media, BYE) goes through B. Relay A keeps only the call it had.

Run: python3 -m pytest -q t/interop/test_kamailio_load_limit.py (INTEROP_RELAY=rtpengine
for the reference: the same checks pass).
"""
import contextlib
import signal

import pytest

import interop_harness as H
import interop_scenario as S

OTHER_CALL = "already-here"


def fill_relay_a(ng):
	"""The call that puts relay A at --max-sessions=1."""
	sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	       "m=audio 29990 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
	r = ng.request("offer", **{"call-id": OTHER_CALL, "from-tag": "x", "sdp": sdp})
	assert r.get("result") == "ok", r


@pytest.fixture(scope="module")
def call(tmp_path_factory):
	d = tmp_path_factory.mktemp("interop-loadlimit-%s" % S.relay_kind())
	procs = []
	with contextlib.ExitStack() as stack:
		return S.run_call(d, "", stack, procs, relay_args=["--max-sessions=1"],
				  relay_b_args=[], relay_setup=fill_relay_a)


def _for_call(msgs, call_id):
	return [m for m in msgs if m.get("call-id") == call_id]


def test_first_relay_refuses_with_load_limit(call):
	reqs = _for_call(call.ng_requests, call.call_id)
	assert [m.get("command") for m in reqs] == ["offer"], reqs
	assert "load limit" in reqs[0].get("supports", []), reqs[0]
	replies = [m for m in call.ng_replies if m.get("result") not in ("pong",)
		   and "sdp" not in m]
	assert {"result": "load limit", "message": "Parallel session limit reached"} in replies, \
		call.ng_replies
	# nothing of this call stayed on relay A; its own call is untouched
	assert call.list_a_during.get("calls") == [OTHER_CALL], call.list_a_during
	assert call.list_a_after.get("calls") == [OTHER_CALL], call.list_a_after
	assert call.stats_a["statistics"]["totalstatistics"]["rejectedsessions"] == 1


def test_second_relay_carries_the_call(call):
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
	# the UAs' media went to relay B's ports only
	relay_b = [p for p in call.packets if S._in(p[3], S.RELAY_B_PORTS)]
	relay_a = [p for p in call.packets
		   if S._in(p[3], (H.RELAY_PORT_MIN, H.RELAY_PORT_MAX))]
	assert len(relay_b) > 2 * S.MIN_PACKETS and not relay_a, (len(relay_b), relay_a[:3])


@pytest.mark.parametrize("side", ["caller", "callee"])
def test_audio_crosses(call, side):
	S.assert_heard_tone(call, side)


def test_kamailio_tried_the_next_relay(call):
	log = call.kamailio_log
	assert "has reached its load limit" in log, log[-3000:]
	errs = [l for l in log.splitlines() if "rtpengine" in l and "ERROR" in l]
	assert not errs, "\n".join(errs[:10])


def test_relays_exit_cleanly(call):
	assert call.relay_alive_at_end and call.relay_b_alive_at_end
	assert call.relay_rc in (0, -signal.SIGTERM) and call.relay_b_rc in (0, -signal.SIGTERM)
