"""The control CLI (--listen-cli): Debian's real rtpengine-ctl and sluice-ctl against the
daemon, a hostile client, and SIGHUP re-reading the log level (docs/cli.md).

The rtpengine-ctl tests are not sluice_only: E2E_TARGET=rtpengine runs them against
rtpengine itself, which shows the formats asserted here are rtpengine's."""

import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from rtp import free_tcp_port
from calls import Call, exchange, wait_for
from conftest import REPO, TARGET

RTPENGINE_CTL = "/usr/bin/rtpengine-ctl"
SLUICE_CTL = os.path.join(REPO, os.environ.get("BUILD", "build"), "sluice-ctl")
N = 20                                  # packets each way of a call's exchange
PKT = 12 + 160                          # RTP header + 20 ms of PCMU, as Phone sends


def cli_relay(relay, **kw):
	"""A relay with its CLI on a free loopback port; returns (relay, port)."""
	port = free_tcp_port()
	extra = list(kw.pop("extra", ())) + ["--listen-cli=127.0.0.1:%d" % port]
	return relay(extra=extra, **kw), port


def rctl(port, *words):
	if not os.access(RTPENGINE_CTL, os.X_OK):
		pytest.skip("rtpengine-ctl not installed (utils/install-deps.sh test: rtpengine-utils)")
	p = subprocess.run([RTPENGINE_CTL, "-ip", "127.0.0.1", "-port", str(port), *words],
			   capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
	assert p.returncode == 0, p.stderr
	return p.stdout.decode()


def sctl(port, *args, rc=0):
	p = subprocess.run([SLUICE_CTL, "-s", "127.0.0.1:%d" % port, *args], capture_output=True,
			   timeout=10, stdin=subprocess.DEVNULL)
	assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
	return p.stdout.decode()


def sjson(port, *args, rc=0):
	return json.loads(sctl(port, "--json", *args, rc=rc))


def rows(text):
	"""' Label    :value' lines of list totals -> {label: value}."""
	out = {}
	for line in text.splitlines():
		m = re.match(r"^ (\S.*?)\s*:(.*)$", line)
		if m:
			out[m.group(1)] = m.group(2)
	return out


def relay_ports(c):
	"""The relay's RTP and RTCP ports of both sides of a call."""
	a, b = c.answer_reply.port(), c.offer_reply.port()
	return [a, a + 1, b, b + 1]


def udp_bindable(port):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	try:
		s.bind(("127.0.0.1", port))
		return True
	except OSError:
		return False
	finally:
		s.close()


def offer_logged(r, cid):
	return any(cid in l and "offer processed" in l for l in r.log().splitlines())


# ---- rtpengine-ctl ----

def test_rtpengine_ctl_sessions(relay):
	r, port = cli_relay(relay)
	c1, c2 = Call(r).setup(), Call(r).setup()
	res = exchange(c1, n=N, pps=0)
	assert len(res["got_a"]) == N and len(res["got_b"]) == N

	out = rctl(port, "list", "numsessions")
	assert "Current sessions own: 2\n" in out
	assert "Current sessions foreign: 0\n" in out
	assert "Current sessions total: 2\n" in out
	assert "Current sessions ipv4 only media: 2\n" in out
	assert "Current sessions ipv6 only media: 0\n" in out

	out = rctl(port, "list", "sessions", "all")
	lines = out.splitlines()
	assert len(lines) == 2, out
	for c in (c1, c2):
		assert any(re.match(r"^callid: +%s \| deletionmark: +no \| created: +\d+ \|" %
				    re.escape(c.cid), l) for l in lines), out
	assert len(rctl(port, "list", "sessions", "own").splitlines()) == 2

	out = rctl(port, "list", "sessions", c1.cid)
	assert "\ncallid: %s\n" % c1.cid in out
	assert "deletionmark: no\n" in out
	assert "--- Tag '%s', type: FROM_TAG" % c1.ftag in out
	assert "--- Tag '%s', type: TO_TAG" % c1.ttag in out
	assert out.count("------ Media #1 (audio over RTP/AVP) using PCMU/8000") == 2, out
	# every side received N packets on its RTP port, nothing on RTCP
	rtp = re.findall(r"-------- Port +127\.0\.0\.1:(\d+) <> +127\.0\.0\.1:(\d+), SSRC [0-9a-f]+, "
			 r"(\d+) p, (\d+) b, (\d+) e", out)
	assert sorted((int(p), int(b), int(e)) for _, _, p, b, e in rtp) == [(N, N * PKT, 0)] * 2, out
	assert {int(l) for l, _, _, _, _ in rtp} == {c1.answer_reply.port(), c1.offer_reply.port()}
	assert {int(e) for _, e, _, _, _ in rtp} == {c1.a.port, c1.b.port}
	assert out.count("(RTCP), SSRC 0, 0 p, 0 b, 0 e") == 2, out
	assert "Call ID not found (nosuch)." in rctl(port, "list", "sessions", "nosuch")
	for c in (c1, c2):
		c.close()


def test_rtpengine_ctl_totals_and_terminate(relay):
	r, port = cli_relay(relay)
	c1, c2, c3 = Call(r).setup(), Call(r).setup(), Call(r).setup()
	exchange(c1, n=N, pps=0)
	t = rows(rctl(port, "list", "totals"))
	assert t["Owned sessions"] == "3" and t["Total sessions"] == "3", t
	assert t["Foreign sessions"] == "0" and t["Transcoded media"] == "0", t
	assert t["Total managed sessions"] == "0", t
	used0 = re.search(r"Ports used: +(\d+) / +(\d+)", rctl(port, "list", "interfaces"))
	assert used0 and int(used0.group(1)) == 12, used0      # 3 calls x 2 sides x RTP+RTCP

	out = rctl(port, "terminate", c1.cid)
	assert "Call Id (%s) successfully terminated by operator." % c1.cid in out
	reply = c1.query()
	assert reply.get("result") == "error", reply
	assert all(udp_bindable(p) for p in relay_ports(c1)), relay_ports(c1)
	used = re.search(r"Ports used: +(\d+) / +(\d+)", rctl(port, "list", "interfaces"))
	assert int(used.group(1)) == 8 and used.group(2) == used0.group(2)
	assert "Call Id not found (%s)." % c1.cid in rctl(port, "terminate", c1.cid)

	t = rows(rctl(port, "list", "totals"))
	assert t["Owned sessions"] == "2", t
	assert t["Total managed sessions"] == "1", t
	assert t["Total forced terminated sessions"] == "1", t
	assert t["Total relayed packets"].strip() == str(2 * N), t
	assert int(t["Total relayed packets (userspace)"]) + \
		int(t["Total relayed packets (kernel)"]) == 2 * N, t
	assert t["Uptime of rtpengine"].endswith(" seconds"), t
	assert "Average MOS" in t and "Total number of MOS samples" in t, t
	assert t["Total relayed bytes"].strip() == str(2 * N * PKT), t

	assert "All calls terminated by operator." in rctl(port, "terminate", "all")
	assert "Current sessions total: 0" in rctl(port, "list", "numsessions")
	assert "No sessions on this media relay." in rctl(port, "list", "sessions", "all")
	for c in (c2, c3):
		assert c.query().get("result") == "error"
		assert all(udp_bindable(p) for p in relay_ports(c))
	# the freed ports serve new calls
	c4 = Call(r).setup()
	res = exchange(c4, n=5, pps=0)
	assert len(res["got_a"]) == 5 and len(res["got_b"]) == 5
	for c in (c1, c2, c3, c4):
		c.close()


def test_rtpengine_ctl_loglevel(relay):
	r, port = cli_relay(relay, extra=["--log-level=5"])
	assert re.search(r"^core = 5$", rctl(port, "get", "loglevel"), re.M)
	assert "Success setting loglevel to 6" in rctl(port, "set", "loglevel", "6")
	out = rctl(port, "get", "loglevel")
	assert re.search(r"^core = 6$", out, re.M), out
	assert rctl(port, "get", "loglevel", "core") == "6\n"
	if TARGET == "rtpengine":
		return                          # its log lines are its own
	assert rctl(port, "set", "loglevel", "5") == "Success setting loglevel to 5\n"
	c1 = Call(r)
	c1.offer()
	time.sleep(0.2)
	assert not offer_logged(r, c1.cid)      # INFO is below level 5
	assert "Success setting loglevel to 6" in rctl(port, "set", "loglevel", "6")
	c2 = Call(r)
	c2.offer()
	assert wait_for(lambda: offer_logged(r, c2.cid), 2)
	assert "Success setting loglevel to 5" in rctl(port, "set", "loglevel", "5")
	c3 = Call(r)
	c3.offer()
	time.sleep(0.2)
	assert not offer_logged(r, c3.cid)
	for c in (c1, c2, c3):
		c.close()


@pytest.mark.sluice_only
def test_cli_unsupported_and_unknown(relay):
	r, port = cli_relay(relay)
	assert "Not supported" in rctl(port, "ksadd", "keyspace", "1")
	assert "Not supported" in rctl(port, "kslist")
	assert rctl(port, "bogus").startswith("Unknown or incomplete command::bogus")
	assert "Invalid log level" in rctl(port, "set", "loglevel", "9")


# ---- hostile clients ----

def raw_request(port, data, wait=8.0):
	s = socket.create_connection(("127.0.0.1", port))
	s.settimeout(wait)
	t0 = time.monotonic()
	if data:
		s.sendall(data)
	out = b""
	try:
		while True:
			d = s.recv(65536)
			if not d:
				break
			out += d
	finally:
		s.close()
	return out, time.monotonic() - t0


@pytest.mark.sluice_only
def test_cli_hostile_requests(relay):
	r, port = cli_relay(relay)
	c = Call(r).setup()
	out, _ = raw_request(port, b"x" * 100000 + b"\n")
	assert out == b"Request too long (at most 4095 bytes).\n", out[:100]
	out, _ = raw_request(port, b"list \x01numsessions\n")
	assert out.startswith(b"Malformed request"), out
	# a slow client holds a slot, not the daemon: NG, the CLI and media go on meanwhile
	slow = socket.create_connection(("127.0.0.1", port))
	slow.sendall(b"list num")
	t0 = time.monotonic()
	assert r.ng.ping()
	assert "Current sessions own: 1" in rctl(port, "list", "numsessions")
	res = exchange(c, n=N, pps=0)
	assert len(res["got_a"]) == N and len(res["got_b"]) == N
	slow.settimeout(8)
	got = b""
	while True:
		d = slow.recv(1000)
		if not d:
			break
		got += d
	waited = time.monotonic() - t0
	slow.close()
	assert got == b"Timeout: no complete request line.\n", got
	assert 4.0 <= waited <= 7.0, waited
	# more connections than slots: the extra ones are closed, the daemon stays fine
	idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
	time.sleep(0.3)
	for s in idle:
		s.close()
	assert wait_for(lambda: "Current sessions own: 1" in rctl(port, "list", "numsessions"), 3)
	assert "slots busy" in r.log()
	c.close()


# ---- sluice-ctl ----

@pytest.mark.sluice_only
def test_sluice_ctl(relay):
	r, port = cli_relay(relay, extra=["--log-level=6"])
	c1, c2 = Call(r).setup(), Call(r).setup()
	exchange(c1, n=N, pps=0)

	j = sjson(port, "list")
	assert j["result"] == "ok" and j["count"] == 2
	calls = {x["call-id"]: x for x in j["calls"]}
	assert set(calls) == {c1.cid, c2.cid}
	e = calls[c1.cid]
	assert e["state"] == "answered"
	assert [p["tag"] for p in e["parties"]] == [c1.ftag, c1.ttag]
	assert [p["codecs"] for p in e["parties"]] == [["PCMU/8000"], ["PCMU/8000"]]
	assert e["packets"] == 2 * N and e["bytes"] == 2 * N * PKT
	assert e["kernel streams"] + e["userspace streams"] == 4
	if e["forwarding"] != "kernel":
		assert e["not in kernel"], e               # userspace is explained

	table = sctl(port, "list")
	lines = table.splitlines()
	assert lines[0].split() == ["CALL-ID", "AGE", "STATE", "PARTIES", "CODECS", "MOS",
				    "FORWARDING"]
	row = next(l for l in lines if l.startswith(c1.cid))
	assert "answered" in row and "PCMU/8000 <> PCMU/8000" in row
	assert lines[-1] == "2 calls"

	j = sjson(port, "show", c1.cid)
	assert j["call-id"] == c1.cid and set(j["tags"]) == {c1.ftag, c1.ttag}
	for tag in (c1.ftag, c1.ttag):
		rtp = j["tags"][tag]["medias"][0]["streams"][0]
		assert rtp["stats"] == {"packets": N, "bytes": N * PKT, "errors": 0}
		assert rtp["forwarding"] in ("kernel", "userspace")
		assert rtp["quality"]["packets expected"] == N
		assert rtp["quality"]["packets lost"] == 0
	text = sctl(port, "show", c1.cid)
	assert text.startswith("call %s\n" % c1.cid)
	assert text.count("%d packets, %d bytes, 0 errors, 0 foreign" % (N, N * PKT)) == 2, text
	assert text.count("quality: SSRC") == 2 and "forwarding:" in text
	assert sjson(port, "show", "nosuch", rc=1)["error-reason"] == "Unknown call-id"

	ifs = sjson(port, "interfaces")["interfaces"]
	assert len(ifs) == 1 and ifs[0]["ports"]["used"] == 8
	tot = sjson(port, "totals")["statistics"]
	assert tot["currentstatistics"]["sessionsown"] == 2

	assert sctl(port, "terminate", c1.cid) == "terminated 1 call\n"
	assert c1.query().get("result") == "error"
	assert all(udp_bindable(p) for p in relay_ports(c1))
	assert sjson(port, "interfaces")["interfaces"][0]["ports"]["used"] == 4
	sctl(port, "terminate", c1.cid, rc=1)
	assert sjson(port, "list")["count"] == 1

	assert sctl(port, "loglevel") == "log level 6\n"
	assert sctl(port, "loglevel", "7") == "log level 7 (was 6)\n"
	assert sjson(port, "loglevel")["loglevel"] == 7
	sctl(port, "loglevel", "8", rc=1)
	assert "log level 6 -> 7 (CLI)" in r.log()

	assert sctl(port, "terminate", "all") == "terminated 1 call\n"
	assert sjson(port, "list")["count"] == 0
	assert sctl(port, "list").splitlines()[-1] == "0 calls"
	assert "Current sessions own: 0" in sctl(port, "raw", "list", "numsessions")
	for c in (c1, c2):
		c.close()


@pytest.mark.sluice_only
def test_sluice_ctl_help_and_errors(tmp_path):
	p = subprocess.run([SLUICE_CTL, "--help"], capture_output=True, timeout=5)
	assert p.returncode == 0
	out = p.stdout.decode()
	for word in ("Usage: sluice-ctl", "Commands:", "Options:", "Exit status:",
		     "terminate CALLID", "loglevel [0-7]", "--json"):
		assert word in out, word
	port = free_tcp_port()                  # nobody listens there
	p = subprocess.run([SLUICE_CTL, "-s", str(port), "list"], capture_output=True, timeout=5)
	assert p.returncode == 2 and b"cannot connect" in p.stderr
	p = subprocess.run([SLUICE_CTL, "frobnicate"], capture_output=True, timeout=5)
	assert p.returncode == 2 and b"unknown command" in p.stderr
	# the address comes from the config file's listen-cli when -s is not given
	conf = tmp_path / "sluice.conf"
	conf.write_text("[sluice]\nlisten-cli = 127.0.0.1:%d\n" % port)
	p = subprocess.run([SLUICE_CTL, "-c", str(conf), "list"], capture_output=True, timeout=5)
	assert p.returncode == 2 and ("at 127.0.0.1:%d" % port).encode() in p.stderr, p.stderr


# ---- SIGHUP ----

@pytest.mark.sluice_only
def test_sighup_rereads_log_level(relay, tmp_path):
	conf = tmp_path / "sluice.conf"
	cli = free_tcp_port()
	conf.write_text("[sluice]\nlog-level = 5\nlisten-cli = 127.0.0.1:%d\n" % cli)

	def argv(bin_, ng, pmin, pmax):
		# no --log-level here: it would win over the file, at start as on SIGHUP
		return [bin_, "--config-file=%s" % conf, "--foreground", "--log-stderr",
			"--interface=127.0.0.1", "--listen-ng=127.0.0.1:%d" % ng,
			"--port-min=%d" % pmin, "--port-max=%d" % pmax, "--delete-delay=0"]
	r = relay(argv=argv)
	c1 = Call(r)
	c1.offer()
	assert sjson(cli, "loglevel")["loglevel"] == 5
	conf.write_text("[sluice]\nlog-level = 6\nlisten-cli = 127.0.0.1:%d\n" % cli)
	r.proc.send_signal(signal.SIGHUP)
	assert wait_for(lambda: "SIGHUP: log reopened, log level 5 -> 6" in r.log(), 3), r.log()
	assert sjson(cli, "loglevel")["loglevel"] == 6
	c2 = Call(r)
	c2.offer()
	assert wait_for(lambda: offer_logged(r, c2.cid), 2)
	assert not offer_logged(r, c1.cid)
	# a file that no longer parses keeps the level, and says so
	conf.write_text("[sluice]\nlog-level = loud\n")
	r.proc.send_signal(signal.SIGHUP)
	assert wait_for(lambda: "configuration not read" in r.log(), 3), r.log()
	assert sjson(cli, "loglevel")["loglevel"] == 6
	assert r.alive() and r.ng.ping()
	for c in (c1, c2):
		c.close()
