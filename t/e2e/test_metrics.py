"""--listen-http: /ping, /stats, /metrics, 404/405, requests refused or timed out, and the
metrics a real call leaves (promtool check metrics; a real Prometheus scraping sluiced
and answering through its HTTP API). docs/metrics.md."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from rtp import free_tcp_port
from calls import Call, err, exchange, ok, wait_for
from conftest import REPO

pytestmark = pytest.mark.sluice_only

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def http_relay(relay, **opts):
	port = free_tcp_port()
	r = relay(listen_http="127.0.0.1:%d" % port, kernel="off", **opts)
	r.http = "http://127.0.0.1:%d" % port
	return r


def get(url, method="GET", data=None):
	"""(status, headers, body) of one request."""
	req = urllib.request.Request(url, method=method, data=data)
	try:
		with urllib.request.urlopen(req, timeout=10) as resp:
			return resp.status, resp.headers, resp.read().decode()
	except urllib.error.HTTPError as e:
		return e.code, e.headers, e.read().decode()


def scrape(r):
	status, headers, body = get(r.http + "/metrics")
	assert status == 200
	assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
	return body


def samples(text):
	"""{'name{labels}': value} of an exposition; labels as written."""
	out = {}
	for line in text.splitlines():
		if line and not line.startswith("#"):
			key, val = line.rsplit(" ", 1)
			out[key] = float(val)
	return out


def promtool_check(text):
	r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
			   capture_output=True, timeout=30)
	assert r.returncode == 0, "promtool: %s%s" % (r.stdout.decode(), r.stderr.decode())


IF = 'interface="default",address="127.0.0.1"'


def packets(m, proto, direction, what="packets"):
	return m['sluice_%s_total{%s,protocol="%s",direction="%s"}' % (what, IF, proto, direction)]


def raw_http(port, data, wait=10.0):
	"""Send raw bytes, return (everything the server sent, seconds until it closed)."""
	s = socket.create_connection(("127.0.0.1", port), timeout=wait)
	t0 = time.monotonic()
	if data:
		s.sendall(data)
	got = b""
	try:
		while True:
			chunk = s.recv(65536)
			if not chunk:
				break
			got += chunk
	except (socket.timeout, ConnectionResetError):
		pass
	s.close()
	return got, time.monotonic() - t0


def test_routes(relay):
	r = http_relay(relay)
	port = int(r.http.rsplit(":", 1)[1])
	# a client that sends half a request line and stalls: closed by the 5 s timeout
	slow = socket.create_connection(("127.0.0.1", port))
	slow.sendall(b"GET /metrics HTTP/1.1\r\nHo")
	t_slow = time.monotonic()

	assert get(r.http + "/ping")[0::2] == (200, "pong")
	assert get(r.http + "/ping?x=1")[0::2] == (200, "pong")
	for path in ("/", "/metric", "/metrics/x", "/ping/", "/../metrics"):
		assert get(r.http + path)[0] == 404, path
	status, headers, _ = get(r.http + "/metrics", method="POST", data=b"x")
	assert status == 405 and headers["Allow"] == "GET, HEAD"
	assert get(r.http + "/ping", method="DELETE")[0] == 405
	status, headers, body = get(r.http + "/metrics", method="HEAD")
	assert status == 200 and body == ""
	# a GET announcing a body is refused before it is read
	assert get(r.http + "/ping", data=b"hello")[0] == 413

	# /stats: the NG statistics reply, as JSON
	status, headers, body = get(r.http + "/stats")
	assert status == 200 and headers["Content-Type"] == "application/json"
	st = json.loads(body)
	assert st["result"] == "ok"
	ng = ok(r.ng.req({"command": "statistics"}))["statistics"]
	# all of NG statistics but the interval, which /stats leaves to NG
	assert set(st["statistics"]) == set(ng) - {"intervalstatistics"}
	assert {"currentstatistics", "totalstatistics", "interfaces", "ng"} <= set(ng)
	assert st["statistics"]["interfaces"] == ng["interfaces"]
	assert st["statistics"]["currentstatistics"]["sessionsown"] == 0
	assert ng["interfaces"][0]["ports"]["free"] == r.port_max - r.port_min + 1

	# oversized headers: 431; garbage: closed without an answer
	got, _ = raw_http(port, b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 +
			  b"\r\n\r\n")
	assert got.startswith(b"HTTP/1.1 431 "), got[:80]
	got, secs = raw_http(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64)
	assert b" 200 " not in got and secs < 6
	got, _ = raw_http(port, b"GARBAGE\r\n\r\n")
	assert b" 200 " not in got

	# the stalled client was cut off after about 5 s, without an answer
	slow.settimeout(10)
	assert slow.recv(100) == b""
	elapsed = time.monotonic() - t_slow
	assert 4 <= elapsed < 8, elapsed
	slow.close()
	assert r.alive() and get(r.http + "/ping")[0::2] == (200, "pong")


def test_http_port_in_use(relay):
	taken = socket.socket()
	taken.bind(("127.0.0.1", 0))
	taken.listen(1)
	r = relay(listen_http="127.0.0.1:%d" % taken.getsockname()[1], wait=False)
	assert r.proc.wait(5) == 1
	assert "cannot listen on HTTP 127.0.0.1:%d: Address already in use" % \
		taken.getsockname()[1] in r.log()
	taken.close()


def test_metrics_of_a_call(relay, tmp_path):
	r = http_relay(relay, recording_dir=str(tmp_path))
	m0 = samples(scrape(r))
	assert m0['sluice_build_info{version="0.1.0"}'] == 1
	assert m0["sluice_kernel_forwarding"] == 0
	assert m0['sluice_ports_free{%s}' % IF] == r.port_max - r.port_min + 1

	ok(r.ng.req({"command": "statistics"}))        # an NG statistics interval begins
	c = Call(r)
	c.offer(**{"record-call": "yes"})
	c.answer()
	res = exchange(c, n=30, pps=0, rtcp=2)
	assert len(res["got_a"]) == 30 and len(res["got_b"]) == 30
	# a second call, transcoded (PCMA offered, PCMU answered), never sends media
	t = Call(r)
	t.offer(sdp=t.a.sdp(codecs=(8, 101)), codec={"mask": ["PCMA"], "transcode": ["PCMU"]})
	t.answer(sdp=t.b.sdp(codecs=(0, 101)))
	err(r.ng.req({"command": "frobnicate", "call-id": "x"}))       # "unknown"
	r.ng.sock.send(b"c1 d7:command")        # undecodable: "invalid"
	wait_for(lambda: samples(scrape(r))['sluice_ng_requests_total{command="invalid"}'], 2)

	text = scrape(r)
	promtool_check(text)
	m = samples(text)
	assert m['sluice_sessions{state="answered"}'] == 2
	assert m['sluice_sessions{state="offered"}'] == 0
	assert m["sluice_sessions_own"] == 2
	# 2 calls x 2 sides x RTP+RTCP, all in userspace because --kernel=off
	assert m['sluice_streams{forwarding="userspace",reason="kernel_off"}'] == 8
	assert m['sluice_streams{forwarding="kernel"}'] == 0
	assert m['sluice_transcoded_streams{from="PCMA/8000",to="PCMU/8000"}'] == 1
	assert m['sluice_transcoded_streams{from="PCMU/8000",to="PCMA/8000"}'] == 1
	rtp_bytes = sum(map(len, res["sent_a"] + res["sent_b"]))
	rtcp_bytes = sum(map(len, res["rtcp_a"] + res["rtcp_b"]))
	assert packets(m, "rtp", "in") == 60 and packets(m, "rtp", "out") == 60
	assert packets(m, "rtcp", "in") == 4 and packets(m, "rtcp", "out") == 4
	assert packets(m, "rtp", "in", "bytes") == rtp_bytes
	assert packets(m, "rtcp", "out", "bytes") == rtcp_bytes
	assert m['sluice_ports_used{%s}' % IF] == 8
	assert m['sluice_ng_requests_total{command="offer"}'] == 2
	assert m['sluice_ng_requests_total{command="unknown"}'] == 1
	assert m['sluice_ng_errors_total{command="unknown"}'] == 1
	assert m['sluice_ng_errors_total{command="invalid"}'] == 1
	assert m['sluice_ng_errors_total{command="offer"}'] == 0
	assert m['sluice_ng_request_duration_seconds_count{command="answer"}'] == 2
	assert m['sluice_ng_request_duration_seconds_bucket{command="answer",le="+Inf"}'] == 2
	assert 0 < m['sluice_ng_request_duration_seconds_sum{command="answer"}'] < 1
	assert m["sluice_recordings_active"] == 1
	assert m['sluice_recording_dropped_total{reason="queue"}'] == 0

	# the scrapes and /stats did not begin a new statistics interval: the offers are
	# still in it
	assert get(r.http + "/stats")[0] == 200
	iv = ok(r.ng.req({"command": "statistics"}))["statistics"]["intervalstatistics"]
	assert float(iv["maxofferdelay"]) > 0
	iv = ok(r.ng.req({"command": "statistics"}))["statistics"]["intervalstatistics"]
	assert float(iv["maxofferdelay"]) == 0

	ok(c.delete())
	ok(t.delete())
	m = samples(scrape(r))
	# the finished calls' packets stay counted; the gauges are back to 0
	assert packets(m, "rtp", "in") == 60 and packets(m, "rtp", "out") == 60
	assert packets(m, "rtcp", "in") == 4
	assert packets(m, "rtp", "in", "bytes") == rtp_bytes
	assert m["sluice_sessions_own"] == 0
	assert sum(v for k, v in m.items() if k.startswith("sluice_sessions{")) == 0
	assert sum(v for k, v in m.items() if k.startswith("sluice_streams{")) == 0
	assert not [k for k in m if k.startswith("sluice_transcoded_streams")]
	assert m["sluice_sessions_created_total"] == 2
	assert m['sluice_sessions_ended_total{reason="deleted"}'] == 2
	assert m['sluice_ports_free{%s}' % IF] == r.port_max - r.port_min + 1
	assert m['sluice_ng_requests_total{command="delete"}'] == 2
	assert m["sluice_recordings_active"] == 0
	assert m["sluice_recording_files_total"] == 1
	assert m["sluice_recording_write_errors_total"] == 0

	def written():      # the writer thread may still be draining: until both agree
		n = ok(r.ng.req({"command": "statistics"}))["statistics"]["recording"]["packetswritten"]
		return n > 0 and samples(scrape(r))["sluice_recording_packets_total"] == n
	assert wait_for(written, 3)
	# same figures as NG statistics
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]["totalstatistics"]
	assert st["relayedpackets"] == packets(m, "rtp", "in") + packets(m, "rtcp", "in")
	text = scrape(r)
	promtool_check(text)
	# the Grafana dashboard in docs/ uses only metrics this exposition has
	dash = open(os.path.join(REPO, "docs", "grafana-sluice.json")).read()
	names = {re.sub(r"_(bucket|count|sum)$", "", n) for n in re.findall(r"sluice_[a-z_]+", dash)}
	have = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
	assert names and names <= have, sorted(names - have)
	c.close()
	t.close()


class Prometheus:
	"""A real Prometheus on loopback scraping one target every second."""

	def __init__(self, target):
		self.dir = tempfile.mkdtemp(prefix="e2e-prom-")
		self.port = free_tcp_port()
		cfg = os.path.join(self.dir, "prometheus.yml")
		with open(cfg, "w") as f:
			f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
				"scrape_configs:\n  - job_name: sluice\n    static_configs:\n"
				"      - targets: ['%s']\n" % target)
		self.log = open(os.path.join(self.dir, "log"), "w+")
		self.proc = subprocess.Popen(
			[PROMETHEUS, "--config.file=" + cfg,
			 "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
			 "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
			stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
		self.url = "http://127.0.0.1:%d" % self.port

	def ready(self, timeout=20):
		def up():
			try:
				return get(self.url + "/-/ready")[0] == 200
			except OSError:
				return False
		assert wait_for(up, timeout), "prometheus not ready:\n" + self.logtext()

	def query(self, q):
		"""[(labels, value)] of an instant query."""
		st, _, body = get(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
		assert st == 200, body
		res = json.loads(body)
		assert res["status"] == "success", body
		return [(x["metric"], float(x["value"][1])) for x in res["data"]["result"]]

	def value(self, q):
		"""The single value of q, or None while it has none."""
		res = self.query(q)
		return res[0][1] if len(res) == 1 else None

	def wait_value(self, q, want, timeout=15):
		got = wait_for(lambda: self.value(q) == want, timeout, step=0.25)
		assert got, "%s: %r, want %r\n%s" % (q, self.value(q), want, self.logtext())

	def logtext(self):
		self.log.flush()
		self.log.seek(0)
		return self.log.read()[-3000:]

	def stop(self):
		self.proc.terminate()
		try:
			self.proc.wait(10)
		except subprocess.TimeoutExpired:
			self.proc.kill()
			self.proc.wait()
		self.log.close()
		shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def prometheus():
	if not PROMETHEUS:
		pytest.fail("prometheus not installed (utils/install-deps.sh test)", pytrace=False)
	started = []

	def start(target):
		p = Prometheus(target)
		started.append(p)
		p.ready()
		return p

	yield start
	for p in started:
		p.stop()


def test_prometheus_scrapes(relay, prometheus):
	r = http_relay(relay)
	prom = prometheus(r.http.split("//", 1)[1])
	prom.wait_value('up{job="sluice"}', 1)
	assert prom.value("sluice_sessions_own") == 0

	c = Call(r).setup()
	prom.wait_value("sluice_sessions_own", 1)         # seen during the call
	prom.wait_value('sluice_sessions{state="answered"}', 1)
	# 5.5 s of paced G.711 each way: the relay takes a MOS sample every 5 s
	res = exchange(c, n=275, pps=50, rtcp=1)
	assert len(res["got_a"]) == 275 and len(res["got_b"]) == 275
	ok(c.delete())

	# after the call: its packets counted, the sessions gauges back to 0
	prom.wait_value("sluice_sessions_own", 0)
	prom.wait_value('sum(sluice_packets_total{protocol="rtp",direction="in"})', 550)
	prom.wait_value('sum(sluice_packets_total{protocol="rtp",direction="out"})', 550)
	prom.wait_value('sum(sluice_packets_total{protocol="rtcp"})', 4)
	prom.wait_value("sum(sluice_sessions)", 0)
	prom.wait_value("max_over_time(sluice_sessions_own[1m])", 1)
	prom.wait_value('sluice_sessions_ended_total{reason="deleted"}', 1)
	prom.wait_value('sluice_ng_requests_total{command="offer"}', 1)
	prom.wait_value('sluice_ng_request_duration_seconds_count{command="delete"}', 1)
	series = prom.query('sluice_packets_total{direction="in"}')
	assert {(s["interface"], s["address"], s["protocol"]) for s, _ in series} == {
		("default", "127.0.0.1", "rtp"), ("default", "127.0.0.1", "rtcp")}
	bytes_in = sum(map(len, res["sent_a"] + res["sent_b"]))
	prom.wait_value('sluice_bytes_total{protocol="rtp",direction="in"}', bytes_in)
	# the histograms are usable as ones
	q = 'histogram_quantile(0.5, sum by (le) (sluice_ng_request_duration_seconds_bucket))'
	assert 0 < prom.value(q) < 2.5
	# quality of the ended call: a clean G.711 call scores 4.4 (buckets ..4.3, 4.4..)
	prom.wait_value("sluice_call_mos_count", 1)
	assert prom.value('sluice_call_mos_bucket{le="4.4"}') == 1
	assert prom.value('sluice_call_mos_bucket{le="4.3"}') == 0
	assert prom.value("sluice_call_mos_sum") == 4.4
	assert prom.value("sluice_stream_mos_count") == 2         # one per side
	assert prom.value('sluice_stream_mos_bucket{le="4.4"}') == 2
	assert prom.value("sluice_stream_jitter_seconds_count") == 2
	assert prom.value('sluice_stream_jitter_seconds_bucket{le="0.05"}') == 2
	c.close()
