"""HEP v3 to Homer: a receiver in the test decodes the packets chunk by chunk (HEP v3:
"HEP3", total length, then vendor/type/length chunks) and finds the RTCP (JSON, type 5)
and the call-end quality report (JSON, type 32), both correlated by the call-id."""

import json
import os
import socket
import struct
import time

import pytest

from calls import Call, ok
from rtp import recv_all, rtcp_rr, rtcp_sr

pytestmark = pytest.mark.sluice_only


def hep_decode(buf):
	assert buf[:4] == b"HEP3", buf[:8]
	total = struct.unpack_from("!H", buf, 4)[0]
	assert total == len(buf)
	chunks, off = {}, 6
	while off < total:
		vendor, typ, ln = struct.unpack_from("!HHH", buf, off)
		assert vendor == 0 and ln >= 6 and off + ln <= total
		chunks[typ] = buf[off + 6:off + ln]
		off += ln
	assert off == total
	return chunks


def collector(proto="udp"):
	if proto == "udp":
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	else:
		s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.bind(("127.0.0.1", 0))
	if proto == "tcp":
		s.listen(1)
	return s


def read_udp(s, until, timeout=5):
	out = []
	s.settimeout(0.2)
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline and not until(out):
		try:
			out.append(hep_decode(s.recv(65535)))
		except socket.timeout:
			pass
	return out


def read_tcp(conn, until, timeout=5):
	out, buf = [], b""
	conn.settimeout(0.2)
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline and not until(out):
		try:
			data = conn.recv(65535)
		except socket.timeout:
			continue
		if not data:
			break
		buf += data
		while len(buf) >= 6 and len(buf) >= struct.unpack_from("!H", buf, 4)[0]:
			n = struct.unpack_from("!H", buf, 4)[0]
			out.append(hep_decode(buf[:n]))
			buf = buf[n:]
	return out


def kinds(msgs, proto):
	return [m for m in msgs if m[0x000b] == bytes([proto])]


def run_call(r):
	c = Call(r).setup()
	for _ in range(20):
		c.a.rtp.sendto(c.a.next_rtp(), c.a_dest())
		c.b.rtp.sendto(c.b.next_rtp(), c.b_dest())
	recv_all(c.b.rtp, timeout=1, count=20)
	recv_all(c.a.rtp, timeout=1, count=20)
	c.a.rtcp.sendto(rtcp_sr(c.a.ssrc, rtp_ts=1234, pkts=20, octets=3440,
				report_ssrc=c.b.ssrc), c.a_dest(rtcp=True))
	c.b.rtcp.sendto(rtcp_rr(c.b.ssrc, report_ssrc=c.a.ssrc), c.b_dest(rtcp=True))
	recv_all(c.b.rtcp, timeout=1, count=1)
	recv_all(c.a.rtcp, timeout=1, count=1)
	return c


def check(msgs, c):
	rtcp = kinds(msgs, 5)
	assert len(rtcp) == 2, msgs
	for m in rtcp:
		assert m[0x0011].decode() == c.cid                  # correlation: the call-id
		assert m[0x0001] == b"\x02" and m[0x0002] == b"\x11"
		assert struct.unpack("!I", m[0x000c])[0] == 2001    # --homer-id
		assert socket.inet_ntoa(m[0x0003]) == "127.0.0.1"
	sr = [json.loads(m[0x000f]) for m in rtcp if json.loads(m[0x000f])["type"] == 200][0]
	assert sr["ssrc"] == c.a.ssrc and sr["sender_information"]["packets"] == 20
	assert sr["sender_information"]["octets"] == 3440
	assert sr["report_blocks"][0]["source_ssrc"] == c.b.ssrc
	src_ports = {struct.unpack("!H", m[0x0007])[0] for m in rtcp}
	assert src_ports == {c.a.port + 1, c.b.port + 1}        # as the phones sent them
	qos = kinds(msgs, 32)
	assert len(qos) == 1
	rep = json.loads(qos[0][0x000f])
	assert qos[0][0x0011].decode() == c.cid and rep["CORRELATION_ID"] == c.cid
	assert {s["SSRC"] for s in rep["STREAMS"]} == {c.a.ssrc, c.b.ssrc}
	assert all(s["PACKETS_LOST"] == 0 and s["PACKETS_EXPECTED"] == 20 for s in rep["STREAMS"])


def test_hep_udp(relay):
	col = collector("udp")
	r = relay(homer="127.0.0.1:%d" % col.getsockname()[1], homer_id=2001)
	c = run_call(r)
	ok(c.delete())
	msgs = read_udp(col, lambda m: kinds(m, 32))
	check(msgs, c)
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]["homer"]
	assert st["sent"] == 3 and st["dropped"] == 0 and st["queuedrops"] == 0
	c.close()
	col.close()


def test_hep_tcp_and_collector_down(relay):
	col = collector("tcp")
	port = col.getsockname()[1]
	r = relay(homer="127.0.0.1:%d" % port, homer_protocol="tcp", homer_id=2001)
	c = run_call(r)
	conn, _ = col.accept()
	ok(c.delete())
	check(read_tcp(conn, lambda m: kinds(m, 32)), c)
	conn.close()
	col.close()
	# the collector is gone: media goes on, messages are dropped and counted, one line
	c2 = run_call(r)
	ok(c2.delete())
	time.sleep(0.5)
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]["homer"]
	assert st["dropped"] + st["senderrors"] >= 1
	assert len([l for l in r.log().splitlines() if "cannot reach the collector" in l]) == 1
	c.close()
	c2.close()


def cpu_s(pid):
	f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
	return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def test_hep_thread_idles(relay):
	"""With nothing to send, the HEP thread sleeps (it must not spin on its wait)."""
	col = collector("udp")
	r = relay(homer="127.0.0.1:%d" % col.getsockname()[1])
	time.sleep(0.3)
	before = cpu_s(r.proc.pid)
	time.sleep(2)
	assert cpu_s(r.proc.pid) - before < 0.1
	col.close()
