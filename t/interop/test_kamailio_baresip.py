"""Kamailio 5.6 (rtpengine module) + two baresip 1.0 UAs through the relay under test.

The relay is chosen by INTEROP_RELAY: "sluiced" (default; binary $SLUICED or
build/sluiced, a missing binary fails the run) or "rtpengine" (/usr/bin/rtpengine, the
reference). Each scenario below runs one call: the caller (700 Hz tone) dials the callee
(1200 Hz tone, auto-answer) through Kamailio, talks ~4 s and hangs up. Kamailio reaches
the relay through a recording UDP tap, so the NG messages it sent end up in ng-tap.log.
The transcode scenarios restrict each UA to one codec (baresip's audio_codecs): the
caller offers only PCMA, G.722 or Opus, the callee accepts only PCMU, and Kamailio's
flags make the relay mask the caller's codec and offer PCMU instead.

Run just this layer:  python3 -m pytest -q t/interop
"""
import contextlib
import signal

import pytest

import interop_harness as H
import interop_scenario as S

PCMU = "PCMU/8000/1"
# (Kamailio flags, caller's codec, callee's codec)
SCENARIOS = [
	pytest.param(("", PCMU, PCMU), id="default"),
	pytest.param(("trust-address replace-origin replace-session-connection ICE=remove RTP/AVP",
		      PCMU, PCMU), id="replace-origin"),
	pytest.param(("codec-mask-PCMA codec-transcode-PCMU", "PCMA/8000/1", PCMU),
		     id="transcode-PCMA-PCMU"),
	pytest.param(("codec-mask-G722 codec-transcode-PCMU", "G722/16000/1", PCMU),
		     id="transcode-G722-PCMU"),
	pytest.param(("codec-mask-opus codec-transcode-PCMU", "opus/48000/2", PCMU),
		     id="transcode-opus-PCMU"),
]


@pytest.fixture(scope="module", params=SCENARIOS)
def call(request, tmp_path_factory):
	d = tmp_path_factory.mktemp("interop-%s-%s" % (S.relay_kind(), request.param_index))
	procs = []
	flags, caller_codec, callee_codec = request.param
	with contextlib.ExitStack() as stack:
		return S.run_call(d, flags, stack, procs, caller_codec, callee_codec)


def _codec_name(codec):
	return codec.split("/")[0].lower()


def _has_codec(m, codec):
	"""m lists codec (by rtpmap, or by its static payload type)."""
	name = _codec_name(codec)
	static = {"pcmu": "0", "pcma": "8", "g722": "9"}
	for a in m["attrs"]:
		if a.startswith("rtpmap:"):
			pt, _, enc = a[7:].partition(" ")
			if pt in m["fmts"] and enc.split("/")[0].lower() == name:
				return True
	return static.get(name) in m["fmts"]


def _in_relay_range(port):
	return H.RELAY_PORT_MIN <= port <= H.RELAY_PORT_MAX


def _check_received_sdp(got, sent_by_peer, flags, who, codec, not_codec):
	assert got is not None, "%s received no SDP" % who
	assert sent_by_peer is not None, "peer of %s sent no SDP" % who
	sdp = H.parse_sdp(got["body"])
	peer = H.parse_sdp(sent_by_peer["body"])
	assert sdp["media"], "%s: SDP without m= line:\n%s" % (who, got["body"])
	assert len(sdp["media"]) == len(peer["media"])
	for m, pm in zip(sdp["media"], peer["media"]):
		assert H.sdp_media_addr(sdp, m) == H.RELAY_ADDR, \
			"%s: c= is not the relay:\n%s" % (who, got["body"])
		assert _in_relay_range(m["port"]), \
			"%s: m= port %d outside relay range:\n%s" % (who, m["port"], got["body"])
		assert m["port"] != pm["port"], "%s: got the peer's own media port" % who
		assert m["proto"] == "RTP/AVP"
		assert _has_codec(m, codec), "%s: %s missing:\n%s" % (who, codec, got["body"])
		if not_codec:
			assert not _has_codec(m, not_codec), \
				"%s: offered %s, which it does not have:\n%s" % (who, not_codec, got["body"])
		for a in m["attrs"]:
			assert not a.startswith(("candidate", "ice-ufrag", "ice-pwd")), \
				"%s: ICE attribute leaked: %s" % (who, a)
			if a.startswith("rtcp:"):
				assert _in_relay_range(int(a.split()[0][5:])), \
					"%s: a=%s outside relay range" % (who, a)
	if "replace-origin" in flags:
		assert H.origin_addr(sdp) == H.RELAY_ADDR, "%s: o= not replaced: %s" % (who, sdp["o"])
	else:
		assert sdp["o"] == peer["o"], "%s: o= changed without replace-origin" % who
	if "replace-session-connection" in flags:
		assert sdp["c_session"] == H.RELAY_ADDR


def test_sdp_points_at_relay(call):
	"""1. Each UA sees the relay (c=, o= with replace-origin, m= port in range)."""
	# callee: INVITE offer; caller: 200 OK answer
	offer = S.received_sdp(call.callee_msgs, call.ports["callee"], "INVITE")
	offer_sent = S.sent_sdp(call.caller_msgs, call.ports["caller"], "INVITE")
	transcode = call.caller_codec != call.callee_codec
	_check_received_sdp(offer, offer_sent, call.flags, "callee", call.callee_codec,
			    call.caller_codec if transcode else None)
	answer = S.received_sdp(call.caller_msgs, call.ports["caller"], "SIP/2.0 200")
	answer_sent = S.sent_sdp(call.callee_msgs, call.ports["callee"], "SIP/2.0 200")
	_check_received_sdp(answer, answer_sent, call.flags, "caller", call.caller_codec,
			    call.callee_codec if transcode else None)
	# the UAs offered their own ports, inside their configured ranges
	assert S._in(H.parse_sdp(offer_sent["body"])["media"][0]["port"], call.caller_rtp)
	assert S._in(H.parse_sdp(answer_sent["body"])["media"][0]["port"], call.callee_rtp)


def test_rtp_only_through_relay(call):
	"""2. Relay stats show media both ways; nothing went directly UA to UA."""
	assert call.query.get("result") == "ok", call.query
	streams = call.relay_streams
	caller = {p: n for p, n in streams.items() if S._in(p, call.caller_rtp)}
	callee = {p: n for p, n in streams.items() if S._in(p, call.callee_rtp)}
	assert caller and callee, "relay has no stream latched to each UA: %s" % streams
	assert max(caller.values()) > S.MIN_PACKETS, "from caller: %s" % streams
	assert max(callee.values()) > S.MIN_PACKETS, "from callee: %s" % streams

	pk = call.packets
	assert pk, "capture saw no packets at all"
	direct = [p for p in pk if (S._in(p[1], call.caller_rtp) and S._in(p[3], call.callee_rtp))
		  or (S._in(p[1], call.callee_rtp) and S._in(p[3], call.caller_rtp))]
	assert not direct, "%d packets went directly between the UAs, e.g. %s" % (
		len(direct), direct[:3])

	def count(src_rng, dst_rng):
		return sum(1 for p in pk if S._in(p[1], src_rng) and S._in(p[3], dst_rng)
			   and p[0] == p[2] == H.RELAY_ADDR)
	relay = (H.RELAY_PORT_MIN, H.RELAY_PORT_MAX)
	for name, rng in (("caller", call.caller_rtp), ("callee", call.callee_rtp)):
		up, down = count(rng, relay), count(relay, rng)
		assert up > S.MIN_PACKETS, "%s -> relay: only %d packets captured" % (name, up)
		assert down > S.MIN_PACKETS, "relay -> %s: only %d packets captured" % (name, down)
	others = [p for p in pk if not (_in_relay_range(p[1]) or _in_relay_range(p[3]))]
	assert not others, "UA media to/from non-relay ports: %s" % others[:3]


@pytest.mark.parametrize("side", ["caller", "callee"])
def test_audio_crosses(call, side):
	"""3. Each side recorded the tone the other side sent."""
	S.assert_heard_tone(call, side)


def test_transcoding_state(call):
	"""The relay transcodes exactly when the UAs share no codec, and says so per media
	in its query stats with the codec each side uses."""
	transcode = call.caller_codec != call.callee_codec
	codecs = {}
	for tag in (call.query.get("tags") or {}).values():
		for media in tag.get("medias") or []:
			assert ("transcoding" in media.get("flags", [])) == transcode, media
			codecs[_codec_name(media.get("codec", ""))] = media
	want = {_codec_name(call.caller_codec), _codec_name(call.callee_codec)}
	assert set(codecs) == want, "codecs in stats: %s, want %s" % (sorted(codecs), want)
	if transcode and S.relay_kind() == "sluiced":
		caller_media = codecs[_codec_name(call.caller_codec)]
		assert caller_media["transcoder"]["packets out"] > S.MIN_PACKETS, caller_media


def test_bye_deletes_call(call):
	"""4. After the BYE (through Kamailio) the relay no longer knows the call."""
	assert call.call_id in (call.list_during.get("calls") or []), call.list_during
	assert call.list_after.get("result") == "ok", call.list_after
	assert call.call_id not in (call.list_after.get("calls") or []), call.list_after
	assert not call.list_after.get("calls"), "calls left: %s" % call.list_after
	assert call.query_after.get("result") == "error", call.query_after


def test_ng_messages(call):
	"""Kamailio really drove the relay: offer, answer, delete, all answered ok."""
	cmds = [m.get("command") for m in call.ng_requests]
	for c in ("offer", "answer", "delete"):
		assert c in cmds, "Kamailio sent no %s: %s" % (c, cmds)
	assert cmds.index("offer") < cmds.index("answer") < cmds.index("delete")
	for m in call.ng_requests:
		if m.get("command") in ("offer", "answer", "delete"):
			assert m.get("call-id") == call.call_id
	bad = [m for m in call.ng_replies if m.get("result") not in ("ok", "pong")]
	assert not bad, "relay replied with errors: %s" % bad
	offer = next(m for m in call.ng_requests if m.get("command") == "offer")
	if "replace-origin" in call.flags:
		assert "origin" in offer.get("replace", []), offer
	# the rtpengine module logs unusable replies (bad cookie, missing sdp, errors)
	errs = [l for l in call.kamailio_log.splitlines()
		if "rtpengine" in l and ("ERROR" in l or "WARNING" in l)]
	assert not errs, "Kamailio's rtpengine module complained:\n" + "\n".join(errs[:10])


def test_relay_exits_cleanly(call):
	"""The relay survived the call and stopped cleanly on SIGTERM."""
	assert call.relay_alive_at_end, "relay died during the call"
	assert call.relay_rc in (0, -signal.SIGTERM), "relay exit status %s" % call.relay_rc
