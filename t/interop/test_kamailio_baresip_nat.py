"""Kamailio + baresip with the caller behind a NAT: a real phone must still work.

  ns PHONE                     ns ROUTER (NAT)                          ns PUBLIC
  caller baresip               ip_forward=1                             relay (media 203.0.113.2,
  SIP 10.0.0.2:15070           nft: UDP out of r-pub masquerade to        NG 127.0.0.1)
  RTP 10.0.0.2:30000+          203.0.113.1:20000-20999 (random)         Kamailio 203.0.113.2:15060
  SDP c=10.0.0.2               forward from r-pub: conntrack replies      (WITH_NAT: force_rport,
                               only, the rest counted and dropped         fix_nated_contact)
  phone0 10.0.0.2/24 --veth-- r-phone 10.0.0.1/24                       NG tap 127.0.0.1
  default via 10.0.0.1         r-pub 203.0.113.1/24 --veth-- pub0 203.0.113.2/24
                                                             default via 203.0.113.1
                                                             callee baresip 203.0.113.2:15080
                                                             (RTP 31000+, over lo)

The caller's SDP says c=10.0.0.2 port 3000x; its SIP and RTP reach Kamailio and the relay
from 203.0.113.1 and a port the NAT drew from 20000-20999. Kamailio's rtpengine module sends
what it sends by default (received-from = the SIP source 203.0.113.1, no flags). The relay
runs with its default endpoint learning, then with --endpoint-learning=delayed and
immediate (one call each, ~7 s per call). Captures: pub0 (the public wire, after NAT),
phone0 (the private wire, before NAT) and lo of PUBLIC (callee <-> relay). The callee
signals 203.0.113.2, not 127.0.0.1: baresip binds its RTP socket to the wildcard address,
so with c=127.0.0.1 its packets to the relay's 203.0.113.2 would leave from 203.0.113.2,
an address its SDP never named.

Checks: the call is set up and each side hears the other's tone (FFT); the relay's query
shows the caller's RTP stream latched to 203.0.113.1:<NAT port>, never 10.0.0.2; packets
both ways > 100; no foreign packets on the caller's streams; the relay's packets toward
the caller go to the NAT mapping only -- before the phone's first packet the relay can
only send to the SDP address (10.0.0.2, which the router drops and counts), and once it
has sent to the mapping it never sends anywhere else; the router dropped exactly those.

Needs root (ip netns, nft, dumpcap) and the Debian nftables package. Everything lives in
namespaces the test creates and deletes (also on failure); their names end in the pid.
"""
import contextlib
import os
import signal

import pytest

import interop_harness as H
import interop_scenario as S
import nat_topology as N
import netns

MODES = [pytest.param((), id="learning-default"),
	 pytest.param(("--endpoint-learning=delayed",), id="learning-delayed"),
	 pytest.param(("--endpoint-learning=immediate",), id="learning-immediate")]
# Before the phone's first packet the relay can only send to the SDP address. It may
# still do so a moment after that packet went by the capture (a packet of the callee
# read first, a busy machine), but not later than this (0.5 s: 25 packets at 20 ms).
LATCH_SLACK = 0.5
BYE_RACE = 0.05


class NatNet(S.Loopback):
	"""run_call() parties for the topology above; run_call runs inside PUBLIC."""
	relay_addr = kamailio_addr = N.PUBLIC_ADDR
	caller_addr = N.PHONE_ADDR
	callee_addr = N.PUBLIC_ADDR
	kamailio_defines = ("WITH_NAT",)

	def __init__(self, topo):
		self.topo = topo
		# markers to the router's own address (port 9, discard): neither forwarded
		# nor NATed, so no counter but the capture sees them
		self.captures = (("public-wire", "pub0", contextlib.nullcontext, "udp",
				  (N.PUBLIC_ADDR, (N.ROUTER_PUBLIC, 9))),
				 ("private-wire", "phone0", self.caller_side, "udp",
				  (N.PHONE_ADDR, (N.ROUTER_PRIVATE, 9))))

	def caller_side(self):
		return netns.inside(self.topo.phone)


@pytest.fixture(scope="module", params=MODES)
def call(request, tmp_path_factory):
	assert os.geteuid() == 0, "needs root (ip netns, nft, packet capture)"
	d = tmp_path_factory.mktemp("interop-nat-%s-%s" % (S.relay_kind(), request.param_index))
	topo = N.NatTopology()
	try:
		topo.create()
		with contextlib.ExitStack() as stack, netns.inside(topo.public):
			r = S.run_call(d, "", stack, [], net=NatNet(topo), relay_args=request.param)
		r.router_counters = topo.counters()
		(d / "nat-router.txt").write_text("counters %s\n%s" % (r.router_counters,
									 topo.conntrack()))
		return r
	finally:
		topo.delete()


# ---------------------------------------------------------------- what the call did

def _addr(ep):
	return (ep.get("address"), int(ep.get("port", 0)))


def _sdp_port_pair(msg):
	"""(address, RTP port, RTCP port) of the first m= of a SIP message's SDP."""
	sdp = H.parse_sdp(msg["body"])
	m = sdp["media"][0]
	rtcp = next((int(a.split()[0][5:]) for a in m["attrs"] if a.startswith("rtcp:")),
		    m["port"] + 1)
	return H.sdp_media_addr(sdp, m), m["port"], rtcp


class Sides:
	"""The ports that matter: what the caller signalled (c=10.0.0.2, its port), where the
	relay told it to send (the answer it received), and the same for the callee."""

	def __init__(self, call):
		offer = S.sent_sdp(call.caller_msgs, call.ports["caller"], "INVITE")
		answer = S.received_sdp(call.caller_msgs, call.ports["caller"], "SIP/2.0 200")
		to_callee = S.received_sdp(call.callee_msgs, call.ports["callee"], "INVITE")
		from_callee = S.sent_sdp(call.callee_msgs, call.ports["callee"], "SIP/2.0 200")
		assert offer and answer and to_callee and from_callee, "SDP missing in the traces"
		self.phone_addr, self.phone_rtp, self.phone_rtcp = _sdp_port_pair(offer)
		self.relay_addr, self.relay_rtp, self.relay_rtcp = _sdp_port_pair(answer)
		self.relay_addr_callee, self.relay_rtp_callee, _ = _sdp_port_pair(to_callee)
		self.callee_addr, self.callee_rtp, _ = _sdp_port_pair(from_callee)


def _streams(reply):
	"""{relay local port: stream dict} over all tags of a query/delete reply."""
	out = {}
	for tag in (reply.get("tags") or {}).values():
		for media in tag.get("medias") or []:
			for st in media.get("streams") or []:
				out[int(st.get("local port", 0))] = st
	return out


def _packets(st):
	return int((st.get("stats") or {}).get("packets", 0))


def _in_relay_range(port):
	return H.RELAY_PORT_MIN <= port <= H.RELAY_PORT_MAX


def _public(call):
	return call.captures["public-wire"]


def _mapping(call, relay_port):
	"""The sources the public wire saw sending to relay_port (after NAT)."""
	return {(p[0], p[1]) for p in _public(call) if (p[2], p[3]) == (N.PUBLIC_ADDR, relay_port)}


# ---------------------------------------------------------------- tests

def test_phone_is_behind_the_nat(call):
	"""The premise: the phone signals 10.0.0.2, Kamailio sees 203.0.113.1 and tells the
	relay so with received-from only (the rtpengine module's default), and rewrote the
	phone's Contact to the NAT's mapping (fix_nated_contact)."""
	sides = Sides(call)
	assert (sides.phone_addr, sides.relay_addr) == (N.PHONE_ADDR, N.PUBLIC_ADDR)
	assert S._in(sides.phone_rtp, call.caller_rtp)
	offer = next(m for m in call.ng_requests if m.get("command") == "offer")
	assert offer.get("received-from") == ["IP4", N.ROUTER_PUBLIC], offer
	assert set(offer) <= {"supports", "sdp", "call-id", "received-from", "from-tag",
			      "command"}, "Kamailio sent more than its defaults: %s" % sorted(offer)
	answer = next(m for m in call.ng_requests if m.get("command") == "answer")
	assert answer.get("received-from") == ["IP4", N.PUBLIC_ADDR], answer
	invite = S.received_sdp(call.callee_msgs, call.ports["callee"], "INVITE")
	contact = invite["headers"]["contact"][0]
	assert "@%s:" % N.ROUTER_PUBLIC in contact, "Contact not fixed: %s" % contact
	assert "received=%s" % N.ROUTER_PUBLIC in invite["headers"]["via"][-1], invite["headers"]


def test_relay_latched_to_nat_mapping(call):
	"""The query shows the caller's streams latched to 203.0.113.1:<NAT port> (the port
	the public wire saw, not the SDP's), > 100 packets each way, no foreign packets."""
	sides = Sides(call)
	assert call.query.get("result") == "ok", call.query
	streams = _streams(call.query)
	rtp = streams.get(sides.relay_rtp)
	assert rtp, "no stream on relay port %d: %s" % (sides.relay_rtp, sorted(streams))
	seen = _mapping(call, sides.relay_rtp)
	assert len(seen) == 1, "caller's RTP reached the relay from %s" % seen
	(nat_addr, nat_port), = seen
	assert nat_addr == N.ROUTER_PUBLIC and N.NAT_PORTS[0] <= nat_port <= N.NAT_PORTS[1]
	assert _addr(rtp["endpoint"]) == (N.ROUTER_PUBLIC, nat_port), \
		"caller's RTP latched to %s, the NAT mapping is %s:%d" % (
			rtp["endpoint"], N.ROUTER_PUBLIC, nat_port)
	assert _packets(rtp) > S.MIN_PACKETS, rtp

	callee = streams.get(sides.relay_rtp_callee)
	assert callee and _addr(callee["endpoint"]) == (sides.callee_addr, sides.callee_rtp), \
		callee
	assert _packets(callee) > S.MIN_PACKETS, callee

	rtcp = streams.get(sides.relay_rtcp)
	rtcp_seen = _mapping(call, sides.relay_rtcp)
	assert len(rtcp_seen) <= 1, "caller's RTCP reached the relay from %s" % rtcp_seen
	if rtcp_seen and S.relay_kind() == "sluiced":
		assert _addr(rtcp["endpoint"]) == next(iter(rtcp_seen)), rtcp
	if S.relay_kind() == "sluiced":
		for st in (rtp, rtcp):
			assert st.get("foreign packets") == 0, \
				"foreign packets on the caller's stream: %s" % st


def test_final_counts_match_the_wire(call):
	"""The delete's stats count every caller packet the public wire carried to the relay
	until the BYE, and no more than it carried. baresip sends the BYE before its last
	RTP packet, which then meets a deleted call; packets in the last BYE_RACE seconds
	before the BYE may still be queued at the relay when Kamailio's delete comes."""
	sides = Sides(call)
	delete = [r for r in call.ng_replies if "tags" in r]
	assert delete, "no stats in any NG reply"
	st = _streams(delete[-1]).get(sides.relay_rtp)
	assert st, "no stream on relay port %d in the delete's stats" % sides.relay_rtp
	wire = [p[5] for p in _public(call) if (p[2], p[3]) == (N.PUBLIC_ADDR, sides.relay_rtp)]
	sip = [p[5] for p in _public(call) if p[0] == N.ROUTER_PUBLIC and
	       (p[2], p[3]) == (N.PUBLIC_ADDR, call.ports["kamailio"])]
	bye = sip[-1]	# INVITE, ACK, BYE: the phone's last request
	sure = sum(1 for t in wire if t < bye - BYE_RACE)
	assert sure <= _packets(st) <= len(wire), \
		"relay counted %d; the wire carried %d, %d of them %.2f s before the BYE" % (
			_packets(st), len(wire), sure, BYE_RACE)


@pytest.mark.parametrize("component", ["RTP", "RTCP"])
def test_media_to_caller_goes_to_nat_mapping_only(call, component):
	"""Everything the relay sent from the caller's port went to the NAT mapping, except
	what it sent to the SDP address before the phone's first packet arrived; the router
	dropped exactly those (nothing else unsolicited); the phone got > 100 RTP packets
	from the relay on its own address and port."""
	sides = Sides(call)
	port = sides.relay_rtp if component == "RTP" else sides.relay_rtcp
	phone_port = sides.phone_rtp if component == "RTP" else sides.phone_rtcp
	inbound = [p for p in _public(call) if (p[2], p[3]) == (N.PUBLIC_ADDR, port)]
	outbound = [p for p in _public(call) if (p[0], p[1]) == (N.PUBLIC_ADDR, port)]
	if component == "RTP":
		assert len(inbound) > S.MIN_PACKETS and len(outbound) > S.MIN_PACKETS, \
			"public wire: %d in, %d out" % (len(inbound), len(outbound))
	mapping = _mapping(call, port)
	dests = [(p[2], p[3]) for p in outbound]
	early = [p for p in outbound if (p[2], p[3]) not in mapping]
	assert all((p[2], p[3]) == (N.PHONE_ADDR, phone_port) for p in early), \
		"relay sent to %s" % sorted({(p[2], p[3]) for p in early})
	assert len(early) <= LATCH_SLACK / 0.02, "%d packets to the SDP address" % len(early)
	if early and inbound:
		first_in = inbound[0][5]
		late = [p for p in early if p[5] > first_in + LATCH_SLACK]
		assert not late, "%d packets to the SDP address, %.3f s after the phone's first" % (
			len(late), late[0][5] - first_in)
	mapped = [i for i, d in enumerate(dests) if d in mapping]
	assert not mapped or all(d in mapping for d in dests[mapped[0]:]), \
		"the relay went back to the SDP address after using the mapping"
	print("%s: %d packets to the SDP address %s:%d before the latch, %d to %s" % (
		component, len(early), N.PHONE_ADDR, phone_port, len(mapped), sorted(mapping)))
	if component == "RTP":
		private = call.captures["private-wire"]
		got = sum(1 for p in private if (p[0], p[1], p[2], p[3]) ==
			  (N.PUBLIC_ADDR, sides.relay_rtp, N.PHONE_ADDR, sides.phone_rtp))
		assert got > S.MIN_PACKETS, "phone got %d packets from the relay" % got


def test_router_dropped_only_presumed_sends(call):
	"""The NAT router's unsolicited-drop counter equals the packets the public wire
	carried to the private address (the relay's pre-latch sends): nothing else came from
	the public side without a mapping. Its mappings are exactly the phone's sources the
	public wire saw (SIP, RTP, and RTCP if baresip sent any)."""
	to_private = sum(1 for p in _public(call) if p[2] == N.PHONE_ADDR)
	assert call.router_counters.get("unsolicited") == to_private, \
		"router dropped %s, public wire carried %d to %s" % (
			call.router_counters, to_private, N.PHONE_ADDR)
	sources = {p[1] for p in _public(call) if p[0] == N.ROUTER_PUBLIC}
	assert len(sources) >= 2 and call.router_counters.get("mappings") == len(sources), \
		"router made %s mappings, the public wire saw ports %s" % (
			call.router_counters, sorted(sources))


@pytest.mark.parametrize("side", ["caller", "callee"])
def test_audio_crosses(call, side):
	"""Each side recorded the tone the other side sent."""
	S.assert_heard_tone(call, side)


def test_callee_media_on_loopback(call):
	"""The callee (PUBLIC's own address, over lo, no NAT) sent to and got from the
	relay only, from and to the port its SDP named."""
	sides = Sides(call)
	pk = call.packets
	callee = (N.PUBLIC_ADDR, sides.callee_rtp)
	relay = (N.PUBLIC_ADDR, sides.relay_rtp_callee)
	up = sum(1 for p in pk if ((p[0], p[1]), (p[2], p[3])) == (callee, relay))
	down = sum(1 for p in pk if ((p[0], p[1]), (p[2], p[3])) == (relay, callee))
	assert up > S.MIN_PACKETS and down > S.MIN_PACKETS, "callee: %d up, %d down" % (up, down)
	others = [p for p in pk if not (_in_relay_range(p[1]) or _in_relay_range(p[3]))]
	assert not others, "callee media not through the relay: %s" % others[:3]


def test_call_ends_cleanly(call):
	"""BYE through Kamailio deleted the call; no module errors; the relay exits cleanly."""
	cmds = [m.get("command") for m in call.ng_requests]
	assert cmds.count("offer") == 1 and "answer" in cmds and "delete" in cmds, cmds
	bad = [m for m in call.ng_replies if m.get("result") not in ("ok", "pong")]
	assert not bad, "relay replied with errors: %s" % bad
	assert call.call_id not in (call.list_after.get("calls") or []), call.list_after
	errs = [l for l in call.kamailio_log.splitlines()
		if "rtpengine" in l and ("ERROR" in l or "WARNING" in l)]
	assert not errs, "Kamailio's rtpengine module complained:\n" + "\n".join(errs[:10])
	assert call.relay_alive_at_end, "relay died during the call"
	assert call.relay_rc in (0, -signal.SIGTERM), "relay exit status %s" % call.relay_rc
