"""One complete call: relay + Kamailio + two baresip UAs, caller hangs up after ~4 s.

run_call() drives the call, stops every process, and returns what the assertions need
(SDPs as received, relay stats, NG traffic, pcap summary, recorded audio).
"""
import contextlib
import os
import subprocess
import time
from pathlib import Path

import interop_harness as H

CALLER_TONE, CALLEE_TONE = 700, 1200
CALLER_RTP = (30000, 30099)
CALLEE_RTP = (31000, 31099)
CALL_SECONDS = 4.0
MIN_PACKETS = 100


def relay_kind():
	return os.environ.get("INTEROP_RELAY", "sluiced")


class Result:
	pass


class Loopback:
	"""Where the parties are: by default all on 127.0.0.1 of the calling thread's
	network namespace. A NAT case (test_kamailio_baresip_nat.py) overrides it."""
	relay_addr = kamailio_addr = caller_addr = callee_addr = "127.0.0.1"
	kamailio_defines = ()		# kamailio -A NAME, for #!ifdef NAME in kamailio.cfg
	# more captures: (name, iface, f: f() is the context to start it in, bpf, marker);
	# marker: (src address, (dst address, port)) for H.mark_capture_end
	captures = ()

	def caller_side(self):
		"""Context in which the caller UA is started and its ctrl_tcp reached."""
		return contextlib.nullcontext()


def _start_net_captures(net, d, r, stack):
	"""The captures the topology adds to the one on lo: {name: Proc}."""
	caps = {}
	for name, iface, where, bpf, _ in net.captures:
		with where():
			caps[name] = H.start_capture(name, d, str(d / ("%s.pcap" % name)), bpf, iface)
		r.procs.append(caps[name])
		stack.callback(caps[name].stop)
	return caps


def _finish_net_captures(net, d, caps):
	"""Once the media has stopped: a marker through each capture, then stop it; returns
	{name: [(src, sport, dst, dport, len, time)]}."""
	for name, _, where, _, (src, dst) in net.captures:
		with where():
			H.mark_capture_end(d / ("%s.pcap" % name), src, dst)
		caps[name].stop()
	return {n: H.read_pcap_udp(d / ("%s.pcap" % n), with_time=True) for n in caps}


def _rtp_streams(query):
	"""{endpoint port: packets} for the RTP streams of an NG query reply."""
	out = {}
	for tag in (query.get("tags") or {}).values():
		for media in tag.get("medias") or []:
			for st in media.get("streams") or []:
				if "RTCP" in (st.get("flags") or []):
					continue
				ep = st.get("endpoint") or {}
				if "port" in ep:
					out[int(ep["port"])] = int((st.get("stats") or {}).get("packets", 0))
	return out


def _pcm_format(codec):
	"""rate and channels of an audio_codecs entry such as "G722/16000/1"."""
	f = codec.split("/")
	return dict(rate=int(f[1]) if len(f) > 1 else 8000,
		    channels=int(f[2]) if len(f) > 2 else 1)


def _in(port, rng):
	return rng[0] <= port <= rng[1]


# the second relay of a set (relay_b): its own media range
RELAY_B_PORTS = (45000, 45999)


def run_call(d, rtp_flags, stack, procs, caller_codec="PCMU/8000/1",
	     callee_codec="PCMU/8000/1", net=None, relay_args=(), relay_b_args=None,
	     relay_setup=None, during=None):
	"""net: where the parties are (Loopback() if None); relay_args: more relay options.
	relay_b_args: not None = a second relay (those options, media RELAY_B_PORTS) behind
	its own tap, after the first in Kamailio's set, which always picks the first first
	(weights 256 and 1 against its call-id hash, 0..255); the query and lists are then
	the second's, the first's lists are r.list_a_*. relay_setup(ng): run against the first
	relay once it answers (e.g. to fill it to its --max-sessions). during(r, ng, caller_ctl,
	callee_ctl): run once media flows both ways, before the call's ~4 s are up (the call
	lasts as long as it takes)."""
	net = net or Loopback()
	d = Path(d)
	r = Result()
	r.dir = d
	r.flags = rtp_flags
	r.caller_codec, r.callee_codec = caller_codec, callee_codec
	r.relay_kind = relay_kind()
	r.procs = procs
	H.set_current(d, procs)

	taken = set()

	def port(pref, **kw):
		p = H.pick_port(pref, taken=taken, **kw)
		taken.update(range(p, p + kw.get("span", 1)))
		return p

	ng_port = port(2350)
	tap_port = port(2352)
	sip_k = port(15060)
	sip_caller = port(15070, span=2, tcp=True)	# baresip: UDP+TCP, TLS on +1
	sip_callee = port(15080, span=2, tcp=True)
	ctrl_caller = port(15170, tcp=True)
	ctrl_callee = port(15180, tcp=True)
	r.ports = dict(ng=ng_port, tap=tap_port, kamailio=sip_k, caller=sip_caller,
		       callee=sip_callee)
	r.caller_rtp, r.callee_rtp = CALLER_RTP, CALLEE_RTP

	def proc(name, argv, **kw):
		p = H.Proc(name, argv, d, **kw)
		r.procs.append(p)
		stack.callback(p.stop)
		return p

	# relay, then the NG tap Kamailio talks through
	relay = proc("relay", H.relay_argv(r.relay_kind, ng_port, net.relay_addr, relay_args))
	ng = H.ngclient.NGClient(port=ng_port, timeout=0.3, retries=1)
	H.wait_until(lambda: relay.check_alive() or ng.ping(), 10, "relay to answer NG ping")
	ng = H.ngclient.NGClient(port=ng_port, timeout=1.0, retries=3)
	tap = H.NGTap(tap_port, ng_port, d / "ng-tap.log")
	stack.callback(tap.close)
	r.tap = tap
	socks = None
	if relay_setup:
		relay_setup(ng)
	if relay_b_args is not None:
		ng_b, tap_b_port = port(2360), port(2362)
		relay_b = proc("relay-b", H.relay_argv(r.relay_kind, ng_b, net.relay_addr,
						       relay_b_args, RELAY_B_PORTS))
		ng_a = ng
		ng = H.ngclient.NGClient(port=ng_b, timeout=0.3, retries=1)
		H.wait_until(lambda: relay_b.check_alive() or ng.ping(), 10,
			     "second relay to answer NG ping")
		ng = H.ngclient.NGClient(port=ng_b, timeout=1.0, retries=3)
		r.tap_b = H.NGTap(tap_b_port, ng_b, d / "ng-tap-b.log")
		stack.callback(r.tap_b.close)
		socks = "udp:127.0.0.1:%d=256 udp:127.0.0.1:%d=1" % (tap_port, tap_b_port)

	# kamailio
	cfg = d / "kamailio.cfg"
	H.render_kamailio_cfg(cfg, sip_k, tap_port, sip_callee, rtp_flags, net.kamailio_addr,
			      net.callee_addr, socks)
	rundir = d / "kamailio-run"
	rundir.mkdir()
	defines = [a for n in net.kamailio_defines for a in ("-A", n)]
	chk = subprocess.run([H.KAMAILIO, "-c", "-f", str(cfg)] + defines, capture_output=True,
			     text=True, timeout=20)
	assert chk.returncode == 0, "kamailio -c rejected the config:\n" + chk.stdout + chk.stderr
	kam = proc("kamailio", [H.KAMAILIO, "-f", cfg, "-DD", "-E", "-T", "-S", "-m", "64",
				"-M", "8", "-Y", rundir, "-P", rundir / "kamailio.pid",
				"-w", rundir] + defines)
	H.wait_until(lambda: kam.check_alive() or H.sip_options_ok(sip_k, addr=net.kamailio_addr),
		     15, "kamailio to answer OPTIONS")

	# capture of everything to/from the UAs' media ports
	bpf = "udp and (portrange %d-%d or portrange %d-%d)" % (CALLER_RTP + CALLEE_RTP)
	cap = H.start_capture("capture", d, str(d / "ua-media.pcap"), bpf)
	r.procs.append(cap)
	stack.callback(cap.stop)
	caps = _start_net_captures(net, d, r, stack)

	# UAs
	H.make_tone_wav(d / "tone700.wav", CALLER_TONE, **_pcm_format(caller_codec))
	H.make_tone_wav(d / "tone1200.wav", CALLEE_TONE, **_pcm_format(callee_codec))
	H.write_baresip_config(d / "callee", "callee", sip_callee, ctrl_callee, CALLEE_RTP,
			       d / "tone1200.wav", d / "callee-rec", callee_codec, net.callee_addr)
	H.write_baresip_config(d / "caller", "caller", sip_caller, ctrl_caller, CALLER_RTP,
			       d / "tone700.wav", d / "caller-rec", caller_codec, net.caller_addr)
	callee = proc("callee", [H.BARESIP, "-f", d / "callee", "-s"])
	with net.caller_side():
		caller = proc("caller", [H.BARESIP, "-f", d / "caller", "-s"])
	callee_ctl = H.BaresipCtl(ctrl_callee, timeout=10)
	stack.callback(callee_ctl.close)
	with net.caller_side():
		caller_ctl = H.BaresipCtl(ctrl_caller, timeout=10)
	stack.callback(caller_ctl.close)

	caller_ctl.command("dial", "sip:callee@%s:%d" % (net.kamailio_addr, sip_k))
	est = caller_ctl.wait_event("CALL_ESTABLISHED", 10)
	callee_ctl.wait_event("CALL_ESTABLISHED", 5)
	t0 = time.monotonic()
	r.call_id = est.get("id")
	assert r.call_id, "CALL_ESTABLISHED without a call id: %r" % est

	# let media run; wait for enough packets each way, then until the call is ~4 s old
	def enough():
		q = ng.request("query", **{"call-id": r.call_id})
		s = _rtp_streams(q)
		return q if len(s) >= 2 and all(v > MIN_PACKETS for v in s.values()) else None
	try:
		H.wait_until(enough, CALL_SECONDS + 4, "relay stats > %d packets each way"
			     % MIN_PACKETS, interval=0.25)
	except AssertionError:
		pass	# judged by the test from r.query below
	if during:
		during(r, ng, caller_ctl, callee_ctl)
	time.sleep(max(0.0, t0 + CALL_SECONDS - time.monotonic()))
	r.list_during = ng.request("list")
	if relay_b_args is not None and relay.alive():   # relay_setup may have killed it
		r.list_a_during = ng_a.request("list")
	r.query = ng.request("query", **{"call-id": r.call_id})
	r.relay_streams = _rtp_streams(r.query)

	caller_ctl.command("hangup")
	caller_ctl.wait_event("CALL_CLOSED", 5)
	callee_ctl.wait_event("CALL_CLOSED", 5)

	def gone():
		lst = ng.request("list")
		return lst if r.call_id not in (lst.get("calls") or []) else None
	try:
		r.list_after = H.wait_until(gone, 5, "call to leave the relay's list", interval=0.1)
	except AssertionError:
		r.list_after = ng.request("list")
	r.query_after = ng.request("query", **{"call-id": r.call_id})
	r.relay_alive_at_end = relay.alive()
	if relay_b_args is not None and relay.alive():
		r.list_a_after = ng_a.request("list")
		r.stats_a = ng_a.request("statistics")
	if relay_b_args is not None:
		r.relay_b_alive_at_end = relay_b.alive()

	# stop everything (UAs first: their traces are flushed at exit)
	for p in (caller, callee, cap, kam):
		p.stop()
	r.captures = _finish_net_captures(net, d, caps)
	r.relay_rc = relay.stop()
	tap.close()
	if relay_b_args is not None:
		r.relay_b_log = relay_b.text()
		r.stats_b = ng.request("statistics")
		r.relay_b_rc = relay_b.stop()
		r.tap_b.close()
		r.ng_requests_b, r.ng_replies_b = r.tap_b.requests(), r.tap_b.replies()
	r.kamailio_log = kam.text()

	r.caller_msgs = H.parse_sip_trace(caller.raw())
	r.callee_msgs = H.parse_sip_trace(callee.raw())
	r.packets = H.read_pcap_udp(d / "ua-media.pcap")
	r.caller_wav = _one(d / "caller-rec", "*-dec.wav")
	r.callee_wav = _one(d / "callee-rec", "*-dec.wav")
	r.ng_requests = tap.requests()
	r.ng_replies = tap.replies()
	return r


def _one(folder, pattern):
	files = sorted(Path(folder).glob(pattern))
	assert len(files) == 1, "expected one %s in %s, found %s" % (pattern, folder, files)
	return files[0]


def received_sdp(msgs, local_sip_port, want):
	"""SDP body of the first message received on local_sip_port whose first line
	starts with `want` (e.g. "INVITE", "SIP/2.0 200")."""
	for m in msgs:
		if m["dst"].endswith(":%d" % local_sip_port) and m["first"].startswith(want) \
		   and m["body"]:
			return m
	return None


def sent_sdp(msgs, local_sip_port, want):
	for m in msgs:
		if m["src"].endswith(":%d" % local_sip_port) and m["first"].startswith(want) \
		   and m["body"]:
			return m
	return None


def assert_heard_tone(call, side):
	"""side ("caller" / "callee") recorded the tone the other side sent."""
	wav = call.caller_wav if side == "caller" else call.callee_wav
	want = CALLEE_TONE if side == "caller" else CALLER_TONE
	freq, rms, purity, secs = H.analyse_wav(wav)
	assert secs > 2.0, "%s recorded only %.2f s" % (side, secs)
	assert rms > 1000, "%s: recording is (near) silence, rms %.1f" % (side, rms)
	assert abs(freq - want) <= 20, "%s heard %.1f Hz, expected %d" % (side, freq, want)
	assert purity > 0.5, "%s: only %.0f%% of energy at %.0f Hz" % (side, purity * 100, freq)
