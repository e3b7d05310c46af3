"""Media part of the differential test: the same RTP in, compare the RTP out.

After the answer of a media case both endpoints send 10 RTP packets (20 ms apart, each
side in the first payload type of the SDP the relay gave it), and what each endpoint
receives is recorded as (payload type, SSRC, sequence, timestamp, marker, payload
length). A relay may choose its own SSRC, sequence and timestamp base when it
transcodes (rtpengine does): those are written relative to the first packet received,
and an SSRC or base equal to the sender's is written "=in", so only what is random is
hidden."""

import os
import random
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

from rtp import rtp_packet, rtp_parse  # noqa: E402

N_PACKETS = 10
SSRC = {"a": 0x11112222, "b": 0x33334444}
SEQ0 = {"a": 1000, "b": 5000}
TS0 = {"a": 160000, "b": 800000}
# payload of 20 ms at 8 kHz per codec name (silence); 160 bytes for the G.711 pair
PAYLOAD = {0: b"\xff" * 160, 8: b"\xd5" * 160, 9: b"\x00" * 160}


class Endpoint:
	"""An RTP/RTCP socket pair of one side on its SDP address (caller/callee)."""

	def __init__(self, addr):
		fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
		for _ in range(200):
			p = random.randrange(20000, 29998, 2)
			a, b = socket.socket(fam, socket.SOCK_DGRAM), socket.socket(fam, socket.SOCK_DGRAM)
			try:
				a.bind((addr, p))
				b.bind((addr, p + 1))
			except OSError:
				a.close()
				b.close()
				continue
			self.addr, self.port, self.rtp, self.rtcp = addr, p, a, b
			return
		raise RuntimeError("no free port pair on %s" % addr)

	def close(self):
		self.rtp.close()
		self.rtcp.close()


def first_pt(sdp):
	for line in sdp.split("\r\n"):
		if line.startswith("m=audio"):
			return int(line.split()[3])
	return 0


def media_dest(sdp):
	"""(addr, port) of the first audio stream of an SDP (the relay's, for the receiver)."""
	sess = addr = None
	port = None
	in_audio = False
	for line in sdp.split("\r\n"):
		if line.startswith("c="):
			if in_audio:
				addr = line.split()[2]
			elif port is None:
				sess = line.split()[2]
		elif line.startswith("m="):
			if in_audio:
				break
			in_audio = line.startswith("m=audio")
			if in_audio:
				port = int(line.split()[1])
				addr = sess
	return addr, port


def _recv_all(sock, deadline):
	out = []
	while True:
		left = deadline - time.monotonic()
		if left <= 0:
			return out
		sock.settimeout(left)
		try:
			out.append(sock.recv(2048))
		except (socket.timeout, ConnectionRefusedError):
			return out


def _describe(pkts, side):
	"""Received packets -> lines (see the module comment)."""
	lines = []
	first = None
	for raw in pkts:
		p = rtp_parse(raw)
		if p is None:
			lines.append("non-RTP %d bytes" % len(raw))
			continue
		if first is None:
			first = p
		sender = "b" if side == "a" else "a"
		ssrc = "=in" if p["ssrc"] == SSRC[sender] else "S"
		seq0 = "=in" if first["seq"] == SEQ0[sender] else "X"
		ts0 = "=in" if first["ts"] == TS0[sender] else "T"
		lines.append("pt=%d ssrc=%s seq=%s%+d ts=%s%+d marker=%d len=%d" % (
			p["pt"], ssrc, seq0, (p["seq"] - first["seq"]) & 0xFFFF, ts0,
			(p["ts"] - first["ts"]) & 0xFFFFFFFF, p["marker"], len(p["payload"])))
	return lines or ["nothing received"]


def exchange(ep, sdp_to):
	"""ep: {"a": Endpoint, "b": Endpoint}; sdp_to: {"a": SDP the relay sent to a, "b": ...}.
	-> lines describing what each side received."""
	dest = {s: media_dest(sdp_to[s]) for s in "ab"}
	pt = {s: first_pt(sdp_to[s]) for s in "ab"}
	for s in "ab":
		if dest[s][1] is None:
			return ["side %s: no audio stream in its SDP" % s]
		if (":" in dest[s][0]) != (":" in ep[s].addr):
			return ["side %s: relay's address %s is not of its family" % (s, dest[s][0])]
	for i in range(N_PACKETS):
		for s in "ab":
			payload = PAYLOAD.get(pt[s], b"\x00" * 160)
			pkt = rtp_packet(pt=pt[s], seq=SEQ0[s] + i, ts=TS0[s] + 160 * i,
					 ssrc=SSRC[s], payload=payload, marker=(i == 0))
			ep[s].rtp.sendto(pkt, dest[s])
		time.sleep(0.02)
	deadline = time.monotonic() + 0.3
	out = []
	for s in "ab":
		out.append("media to %s:" % s)
		out += ["  " + l for l in _describe(_recv_all(ep[s].rtp, deadline), s)]
	return out
