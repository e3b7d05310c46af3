"""The corpus of the differential test: a few base SDP pairs times flag sets times call
sequences, as data. cases() returns the list of Case.

A Case is a name and a list of steps; each step is (command, side, sdp, keys):
  command  "offer" | "answer" | "delete" | "query" | "publish" (the caller's offer, no
           to-tag: the relay answers it itself)
  side     "a" (the caller, from-tag) or "b" (the callee): who sends the SDP. An offer
           from "b" is a re-INVITE by the callee (from-tag and to-tag swapped).
  sdp      SDP text (CRLF) or None; "{A}" / "{B}" stand for the media port of the
           caller's / callee's endpoint ("{A1}" .. for further m= lines) and are filled
           by the runner (fixed numbers, or real sockets for the media part).
  keys     further NG keys (flags, replace, ICE, codec, direction, ...).
Endpoint addresses are loopback only: 127.0.0.11 (caller), 127.0.0.12 (callee), ::1; the
fixed ports (run.py FIXED_PORTS) are clear of other tests' ranges: both relays send ICE
checks to the WebRTC base's candidates."""

import itertools


def _sdp(*lines):
	return "".join(l + "\r\n" for l in lines)


def _o(addr, sess="4711", ver="1"):
	fam = "IP6" if ":" in addr else "IP4"
	return "o=- %s %s IN %s %s" % (sess, ver, fam, addr)


def _c(addr):
	return "c=IN %s %s" % ("IP6" if ":" in addr else "IP4", addr)


# --- base SDPs: (offer(addr, port tag, version), answer(addr, port tag, version)) -----

def baresip(addr, p, ver="1", dirn="sendrecv", extra_m=False, hold=False):
	caddr = ("0.0.0.0" if ":" not in addr else "::") if hold else addr
	lines = ["v=0", _o(addr, "1939969165", ver), "s=-", _c(caddr), "t=0 0",
		 "a=tool:baresip 1.0.0",
		 "m=audio {%s} RTP/AVP 0 8 101" % p,
		 "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		 "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
		 "a=%s" % dirn, "a=label:1", "a=rtcp-rsize",
		 "a=ssrc:3271084334 cname:sip:caller@127.0.0.1:5080",
		 "a=minptime:20", "a=ptime:20"]
	if extra_m:
		lines += ["m=video {%s1} RTP/AVP 96" % p, "a=rtpmap:96 H264/90000",
			  "a=fmtp:96 packetization-mode=1", "a=%s" % dirn, "a=label:2"]
	return _sdp(*lines)


def phone(addr, p, ver="1", dirn=None, extra_m=False, hold=False):
	"""A desk phone: media-level c=, several codecs, static types without a=rtpmap."""
	caddr = ("0.0.0.0" if ":" not in addr else "::") if hold else addr
	lines = ["v=0", _o(addr, "8841", ver), "s=SIP Call", "t=0 0",
		 "m=audio {%s} RTP/AVP 9 0 8 18 101" % p, _c(caddr),
		 "a=rtpmap:18 G729/8000", "a=fmtp:18 annexb=no",
		 "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=ptime:20"]
	if dirn:
		lines.append("a=%s" % dirn)
	if extra_m:
		lines += ["m=video {%s1} RTP/AVP 99" % p, _c(caddr), "a=rtpmap:99 H264/90000"]
		if dirn:
			lines.append("a=%s" % dirn)
	return _sdp(*lines)


def phone_answer(addr, p, ver="1", dirn=None, extra_m=False, hold=False):
	caddr = ("0.0.0.0" if ":" not in addr else "::") if hold else addr
	lines = ["v=0", _o(addr, "9932", ver), "s=SIP Call", _c(caddr), "t=0 0",
		 "m=audio {%s} RTP/AVP 0 101" % p,
		 "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
		 "a=fmtp:101 0-15", "a=ptime:20"]
	if dirn:
		lines.append("a=%s" % dirn)
	if extra_m:
		lines += ["m=video {%s1} RTP/AVP 99" % p, "a=rtpmap:99 H264/90000"]
		if dirn:
			lines.append("a=%s" % dirn)
	return _sdp(*lines)


def sdes_phone(addr, p, ver="1", dirn="sendrecv", extra_m=False, hold=False):
	caddr = ("0.0.0.0" if ":" not in addr else "::") if hold else addr
	lines = ["v=0", _o(addr, "5522", ver), "s=-", _c(caddr), "t=0 0",
		 "m=audio {%s} RTP/SAVP 0 8 101" % p,
		 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
		 "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
		 "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", "a=%s" % dirn]
	return _sdp(*lines)


def osrtp_phone(addr, p, ver="1", dirn="sendrecv", extra_m=False, hold=False):
	"""An OSRTP endpoint (RFC 8643): RTP/AVP with an a=crypto line."""
	return sdes_phone(addr, p, ver, dirn).replace("RTP/SAVP", "RTP/AVP")


FP = ("a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:"
      "55:66:77:88:99:AA:BB:CC:DD:EE:FF:00")


def webrtc(addr, p, ver="2", dirn="sendrecv", extra_m=False, hold=False, setup="actpass"):
	"""Chromium-like: DTLS, ICE with one host candidate, rtcp-mux, opus first."""
	lines = ["v=0", _o(addr, "4611731400430051336", ver), "s=-", "t=0 0",
		 "a=extmap-allow-mixed", "a=msid-semantic: WMS stream0",
		 "m=audio {%s} UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126" % p,
		 _c(addr), "a=rtcp:9 IN IP4 0.0.0.0",
		 "a=candidate:1467250027 1 udp 2122260223 %s {%s} typ host generation 0" % (addr, p),
		 "a=ice-ufrag:Xh4s", "a=ice-pwd:k9Pz0vZ3eT1aB2cD3eF4gH5i", "a=ice-options:trickle",
		 FP, "a=setup:%s" % setup, "a=mid:0",
		 "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
		 "a=%s" % dirn, "a=msid:stream0 track0", "a=rtcp-mux",
		 "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc",
		 "a=fmtp:111 minptime=10;useinbandfec=1",
		 "a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111", "a=rtpmap:9 G722/8000",
		 "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:13 CN/8000",
		 "a=rtpmap:110 telephone-event/48000", "a=rtpmap:126 telephone-event/8000",
		 "a=ssrc:1111 cname:abc"]
	return _sdp(*lines)


def webrtc_answer(addr, p, ver="2", dirn="sendrecv", extra_m=False, hold=False):
	return webrtc(addr, p, ver, dirn, setup="active")


BASES = {
	# name: (offer builder, answer builder, caller addr, callee addr)
	"baresip": (baresip, baresip, "127.0.0.11", "127.0.0.12"),
	"phone": (phone, phone_answer, "127.0.0.11", "127.0.0.12"),
	"ipv6": (phone, phone_answer, "::1", "::1"),
	"mixed": (baresip, phone_answer, "127.0.0.11", "::1"),
	"sdes": (sdes_phone, sdes_phone, "127.0.0.11", "127.0.0.12"),
	"webrtc": (webrtc, webrtc_answer, "127.0.0.11", "127.0.0.12"),
	# gateways: an SRTP caller, a plain RTP callee
	"webrtc-gw": (webrtc, baresip, "127.0.0.11", "127.0.0.12"),
	"sdes-gw": (sdes_phone, baresip, "127.0.0.11", "127.0.0.12"),
	# OSRTP: a plain caller and an OSRTP callee; an OSRTP caller and a plain callee
	"osrtp": (baresip, osrtp_phone, "127.0.0.11", "127.0.0.12"),
	"osrtp-in": (osrtp_phone, baresip, "127.0.0.11", "127.0.0.12"),
}


# --- flag sets: (name, offer keys, answer keys, bases it applies to) ----------------------

PLAIN = ("baresip", "phone", "ipv6", "mixed")
ALLB = PLAIN + ("sdes", "webrtc")

FLAGSETS = [
	("none", {}, {}, ALLB + ("osrtp-in",)),
	("trust", {"flags": ["trust-address"]}, {"flags": ["trust-address"]}, ALLB),
	("sip-source", {"flags": ["SIP-source-address"], "received-from": ["IP4", "127.0.0.21"]},
	 {}, PLAIN),
	("symmetric", {"flags": ["symmetric"]}, {}, ("baresip",)),
	("asymmetric", {"flags": ["asymmetric"]}, {}, ("baresip",)),
	("media-address", {"media-address": "127.0.0.31"}, {}, ("baresip", "phone")),
	("repl-origin", {"replace": ["origin"]}, {"replace": ["origin"]}, ALLB),
	("repl-sessconn", {"replace": ["session-connection"]}, {}, PLAIN),
	("repl-both", {"replace": ["origin", "session-connection"]},
	 {"replace": ["origin", "session-connection"]}, PLAIN),
	("repl-sdpver", {"replace": ["sdp-version"]}, {}, ("baresip", "phone")),
	("repl-username", {"replace": ["username"]}, {}, ("baresip", "phone")),
	("repl-zero", {"replace": ["zero-address"]}, {}, ("baresip", "phone")),
	("repl-sessname", {"replace": ["session-name"]}, {}, ("baresip", "phone")),
	("repl-origin-full", {"replace": ["origin-full"]}, {}, ("baresip", "phone")),
	("ice-force", {"ICE": "force"}, {}, PLAIN),
	("ice-remove", {"ICE": "remove"}, {"ICE": "remove"}, ("webrtc",)),
	("ice-optional", {"ICE": "optional"}, {}, ("baresip", "webrtc")),
	("ice-force-relay", {"ICE": "force-relay"}, {}, ("baresip",)),
	("avp", {"transport-protocol": "RTP/AVP", "ICE": "remove"}, {},
	 ("webrtc-gw", "sdes-gw")),
	("savp", {"transport-protocol": "RTP/SAVP"}, {"transport-protocol": "RTP/AVP"},
	 ("baresip", "phone")),
	("savpf", {"transport-protocol": "UDP/TLS/RTP/SAVPF", "ICE": "force",
		   "rtcp-mux": ["offer"]}, {"transport-protocol": "RTP/AVP"}, ("baresip",)),
	("avpf", {"transport-protocol": "RTP/AVPF"}, {}, ("baresip",)),
	("sdes-off", {"SDES": ["off"], "transport-protocol": "RTP/SAVP"}, {}, ("baresip",)),
	("sdes-only", {"SDES": ["only-AES_CM_128_HMAC_SHA1_80"],
		       "transport-protocol": "RTP/SAVP"}, {}, ("baresip",)),
	("sdes-no", {"SDES": ["no-AES_CM_128_HMAC_SHA1_32"]}, {}, ("sdes",)),
	("dtls-off", {"DTLS": "off"}, {}, ("webrtc",)),
	("dtls-passive", {"DTLS": "passive"}, {}, ("webrtc",)),
	("mux-offer", {"rtcp-mux": ["offer"]}, {}, PLAIN),
	("mux-demux", {"rtcp-mux": ["demux"]}, {}, ("webrtc",)),
	("mux-accept", {"rtcp-mux": ["accept"]}, {}, ("webrtc",)),
	("mux-reject", {"rtcp-mux": ["reject"]}, {}, ("webrtc",)),
	("mux-require", {"rtcp-mux": ["require"]}, {}, ("baresip",)),
	("no-rtcp-attr", {"flags": ["no-rtcp-attribute"]}, {}, ("baresip", "phone")),
	("full-rtcp-attr", {"flags": ["full-rtcp-attribute"]}, {}, ("baresip", "phone")),
	("strip-pcma", {"codec": {"strip": ["PCMA"]}}, {}, ("baresip", "phone", "webrtc")),
	("strip-all-except", {"codec": {"strip": ["all"], "except": ["PCMU"]}}, {},
	 ("baresip", "phone")),
	("mask-all-except", {"codec": {"mask": ["all"], "except": ["PCMU"]}}, {}, ("phone",)),
	("strip-all", {"codec": {"strip": ["all"], "offer": ["PCMA"]}}, {}, ("phone",)),
	("offer-codec", {"codec": {"offer": ["PCMA"]}}, {}, ("baresip", "phone")),
	("mask-pcmu", {"codec": {"mask": ["PCMU"]}}, {}, ("baresip", "phone")),
	("transcode-g722", {"codec": {"transcode": ["G722"]}}, {}, ("baresip",)),
	("mask-transcode", {"codec": {"mask": ["PCMA"], "transcode": ["PCMU"]}}, {},
	 ("baresip",)),
	("transcode-dtmf", {"codec": {"transcode": ["telephone-event"]}}, {}, ("phone",)),
	("ptime", {"ptime": 30}, {}, ("baresip", "phone")),
	("ptime-answer", {}, {"ptime": 40}, ("baresip",)),
	("label", {"label": "caller", "set-label": "caller"}, {"label": "callee"}, ("baresip",)),
	# the answer names the interfaces from its own sender's side, as rtpengine reads them
	("dir-int-ext", {"direction": ["int", "ext"]}, {"direction": ["ext", "int"]},
	 ("baresip", "phone")),
	("dir-same-answer", {"direction": ["int", "ext"]}, {"direction": ["int", "ext"]},
	 ("baresip",)),
	("dir-ext-int", {"direction": ["ext", "int"]}, {}, ("baresip",)),
	("dir-ice", {"direction": ["int", "ext"], "ICE": "force"}, {}, ("baresip",)),
	("af-ip6", {"address-family": "IP6"}, {}, ("baresip", "phone")),
	("af-ip4", {"address-family": "IP4"}, {}, ("ipv6",)),
	("loop-protect", {"flags": ["loop-protect"]}, {}, ("baresip",)),
	("strict-source", {"flags": ["strict-source"]}, {}, ("baresip",)),
	("received-from", {"received-from": ["IP4", "127.0.0.11"]}, {}, ("baresip", "phone")),
	("trust-origin", {"flags": ["trust-address"], "replace": ["origin"]}, {}, ("ipv6",)),
	("no-codec-flags-answer", {}, {"codec": {"strip": ["PCMA"]}}, ("baresip",)),
	("no-port-latch", {"flags": ["port-latching"]}, {}, ("baresip",)),
	# the flags of issue 13 part 4 (docs/ng.md, "Flags")
	("strip-extmap", {"flags": ["strip-extmap"]}, {}, ("webrtc",)),
	("orig-sendrecv", {"flags": ["original-sendrecv"]}, {}, ("baresip", "phone")),
	("single-codec", {}, {"flags": ["single-codec"]}, ("baresip", "phone")),
	("codec-noops", {"flags": ["reorder-codecs", "asymmetric-codecs"]},
	 {"flags": ["symmetric-codecs", "allow-transcoding"]}, ("baresip",)),
	("tos", {"TOS": 184}, {"TOS": 184}, ("baresip",)),
	("generate-rtcp", {"flags": ["generate-RTCP"]}, {}, ("baresip",)),
	("dtls-reverse", {"DTLS-reverse": "passive"}, {}, ("webrtc",)),
	("dtls-reverse-ans", {}, {"DTLS-reverse": "passive"}, ("webrtc",)),
	("dtls-fp-sha1", {"DTLS-fingerprint": "sha-1"}, {}, ("webrtc",)),
	("sdes-pad", {"SDES": ["pad"], "transport-protocol": "RTP/SAVP"},
	 {"transport-protocol": "RTP/AVP"}, ("baresip",)),
	("sdes-lifetime", {"SDES": ["lifetime"], "transport-protocol": "RTP/SAVP"}, {"transport-protocol": "RTP/AVP"},
	 ("baresip",)),
	("sdes-unenc", {"flags": ["SDES-unencrypted_srtp", "SDES-unencrypted_srtcp"],
			"transport-protocol": "RTP/SAVP"}, {"transport-protocol": "RTP/AVP"},
	 ("baresip",)),
	("osrtp-offer", {"OSRTP": ["offer"]}, {}, ("osrtp", "baresip")),
	("osrtp-accept", {"OSRTP": ["accept"]}, {"OSRTP": ["accept"]}, ("osrtp-in",)),
	("ice-lite-fwd", {"ICE": "force", "ICE-lite": "forward"}, {}, ("baresip",)),
	("from-label", {"from-label": "caller"}, {"set-label": "callee"}, ("baresip",)),
	# delay-buffer, DTMF-delay, DTMF-security: media only, the SDP as without them
	("delay-buffer", {"delay-buffer": 200}, {"delay-buffer": 100}, ("baresip",)),
	("dtmf-security", {"DTMF-security": "tone", "volume": -20, "frequency": 700,
			   "DTMF-delay": 300}, {"DTMF-security": "silence"}, ("baresip",)),
]


# --- call sequences --------------------------------------------------------------------

def seq_oa(b, ok, ak, extra_m=False):
	off, ans, aa, ba = BASES[b]
	return [("offer", "a", off(aa, "A", extra_m=extra_m), ok),
		("answer", "b", ans(ba, "B", extra_m=extra_m), ak),
		("delete", "a", None, {})]


def seq_reinvite(b, ok, ak):
	"""Offer, answer, the caller re-INVITEs with the same SDP (version + 1)."""
	off, ans, aa, ba = BASES[b]
	return [("offer", "a", off(aa, "A"), ok), ("answer", "b", ans(ba, "B"), ak),
		("offer", "a", off(aa, "A", ver="2"), ok), ("answer", "b", ans(ba, "B", ver="2"), ak),
		("delete", "a", None, {})]


def seq_hold(b, ok, ak, zero=False):
	"""Caller puts the call on hold (sendonly, or c=0.0.0.0) and resumes."""
	off, ans, aa, ba = BASES[b]
	hold = off(aa, "A", ver="2", hold=True) if zero else off(aa, "A", ver="2", dirn="sendonly")
	return [("offer", "a", off(aa, "A"), ok), ("answer", "b", ans(ba, "B"), ak),
		("offer", "a", hold, ok), ("answer", "b", ans(ba, "B", ver="2", dirn="recvonly"), ak),
		("offer", "a", off(aa, "A", ver="3"), ok), ("answer", "b", ans(ba, "B", ver="3"), ak),
		("delete", "a", None, {})]


def seq_add_stream(b, ok, ak):
	"""Re-offer that adds a video m= line."""
	off, ans, aa, ba = BASES[b]
	return [("offer", "a", off(aa, "A"), ok), ("answer", "b", ans(ba, "B"), ak),
		("offer", "a", off(aa, "A", ver="2", extra_m=True), ok),
		("answer", "b", ans(ba, "B", ver="2", extra_m=True), ak), ("delete", "a", None, {})]


def seq_callee_reinvite(b, ok, ak):
	off, ans, aa, ba = BASES[b]
	return [("offer", "a", off(aa, "A"), ok), ("answer", "b", ans(ba, "B"), ak),
		("offer", "b", ans(ba, "B", ver="2"), {}), ("answer", "a", off(aa, "A", ver="2"), {}),
		("delete", "a", None, {})]


def seq_publish(b, ok, ak):
	"""The caller's offer as a publish (the relay answers it), again (a re-publish)."""
	off, _, aa, _ = BASES[b]
	return [("publish", "a", off(aa, "A"), ok), ("publish", "a", off(aa, "A", ver="2"), ok),
		("delete", "a", None, {})]


class Case:
	def __init__(self, name, steps, media=False):
		self.name, self.steps, self.media = name, steps, media


# flag sets whose calls also carry RTP in the media part (plain RTP both ways)
MEDIA = {("baresip", "none"), ("baresip", "trust"), ("baresip", "mask-transcode"),
	 ("baresip", "transcode-g722"), ("phone", "none"), ("ipv6", "none"),
	 ("mixed", "none"), ("baresip", "symmetric"), ("baresip", "strip-pcma"),
	 ("phone", "strip-all-except"), ("baresip", "label"), ("baresip", "repl-both")}

SEQS = [("oa", seq_oa), ("reinv", seq_reinvite), ("hold", seq_hold),
	("hold0", lambda b, ok, ak: seq_hold(b, ok, ak, zero=True)),
	("addm", seq_add_stream), ("callee", seq_callee_reinvite),
	("twom", lambda b, ok, ak: seq_oa(b, ok, ak, extra_m=True)), ("pub", seq_publish)]

# which sequences each flag set runs with (all bases it applies to): "oa" for all; the
# others for the flag sets where the re-offer behaviour is what is being tested
SEQ_FLAGS = {
	"reinv": {"none", "trust", "repl-origin", "repl-sdpver", "ice-force", "savp", "label",
		  "strip-pcma", "mask-transcode", "dir-int-ext", "ptime"},
	"hold": {"none", "trust", "dir-int-ext", "ice-force"},
	"hold0": {"none", "repl-zero", "orig-sendrecv"},
	"addm": {"none", "dir-int-ext", "dir-ext-int", "ice-force"},
	"callee": {"none", "dir-int-ext", "mask-transcode"},
	"twom": {"none", "ice-force", "mux-offer", "repl-both"},
	"pub": {"none", "strip-pcma", "dtls-passive", "sdes-no", "label", "mask-pcmu", "ptime",
		"strip-all-except"},
}
NO_EXTRA_M = {"sdes", "webrtc", "webrtc-gw", "sdes-gw", "osrtp", "osrtp-in"}


def cases():
	out = []
	for (fname, ok, ak, bases), (sname, seq) in itertools.product(FLAGSETS, SEQS):
		for b in bases:
			if sname != "oa" and fname not in SEQ_FLAGS[sname]:
				continue
			if sname in ("addm", "twom") and b in NO_EXTRA_M:
				continue
			media = sname == "oa" and (b, fname) in MEDIA
			out.append(Case("%s/%s/%s" % (b, fname, sname), seq(b, ok, ak), media))
	return out


if __name__ == "__main__":
	for c in cases():
		print(c.name, "(media)" if c.media else "")
	print(len(cases()), "cases")
