"""Start sluiced and Debian's rtpengine side by side for the differential test.

Both get the same command line (the one t/e2e/conftest.py uses for rtpengine: no config
file, foreground, userspace forwarding, immediate endpoint learning) and the same media
interfaces on loopback, so their SDP can be compared without rewriting addresses:

    default: 127.0.0.1 and ::1     int: 127.0.0.2     ext: 127.0.0.3

Only the NG port and the media port range differ (each relay gets its own slot, checked
free first: other test runs may be using some)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

from ng import NG  # noqa: E402

INTERFACES = ("127.0.0.1", "::1", "int/127.0.0.2", "ext/127.0.0.3")
NG_PORTS = range(2450, 2500)	# never 2223 (a production rtpengine's port)
# slots of 400 ports in 18200 .. 19799: clear of the e2e slots (42000+), e2e phones
# (20000-29999), sluice-bench smoke (10000-18000), the soaks (3000-8999, 36000-40999)
MEDIA_BASE = 18200
MEDIA_SLOT = 400
MEDIA_SLOTS = 4


def _udp_free(host, port):
	fam = socket.AF_INET6 if ":" in host else socket.AF_INET
	s = socket.socket(fam, socket.SOCK_DGRAM)
	try:
		s.bind((host, port))
		return True
	except OSError:
		return False
	finally:
		s.close()


def _range_free(pmin, pmax):
	hosts = [i.split("/")[-1] for i in INTERFACES]
	return all(_udp_free(h, p) for p in range(pmin, pmax + 1, 7) for h in hosts)


class Relay:
	"""One daemon: name, NG client, media port range."""

	def __init__(self, name, binary, ng_port, pmin, pmax, log_level=6):
		self.name = name
		self.port_min, self.port_max = pmin, pmax
		argv = [binary, "--config-file=none", "--foreground", "--log-stderr",
			"--log-level=%d" % log_level, "--table=-1", "--endpoint-learning=immediate",
			"--listen-ng=127.0.0.1:%d" % ng_port, "--port-min=%d" % pmin,
			"--port-max=%d" % pmax, "--delete-delay=0", "--num-threads=2"]
		argv += ["--interface=%s" % i for i in INTERFACES]
		self.argv = argv
		self.logf = tempfile.TemporaryFile(prefix="diff-%s-" % name)
		self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
					     stderr=subprocess.STDOUT)
		self.ng = NG(("127.0.0.1", ng_port))

	def in_range(self, port):
		return self.port_min <= port <= self.port_max

	def log(self):
		self.logf.flush()
		self.logf.seek(0)
		return self.logf.read().decode("utf-8", "replace")

	def wait_ready(self, timeout=10.0):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise RuntimeError("%s exited with %d:\n%s" % (self.name,
						   self.proc.returncode, self.log()[-3000:]))
			try:
				if self.ng.ping(timeout=0.2):
					return
			except (TimeoutError, OSError):
				pass
			time.sleep(0.05)
		raise RuntimeError("%s did not answer ping:\n%s" % (self.name, self.log()[-3000:]))

	def stop(self):
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(5)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.ng.close()
		self.logf.close()


def start_pair(sluiced, rtpengine):
	"""-> (rtpengine Relay, sluiced Relay), both answering ping."""
	ng = [p for p in NG_PORTS if _udp_free("127.0.0.1", p)]
	slots = []
	for n in range(MEDIA_SLOTS):
		pmin = MEDIA_BASE + n * MEDIA_SLOT
		if _range_free(pmin, pmin + MEDIA_SLOT - 1):
			slots.append(pmin)
		if len(slots) == 2:
			break
	if len(ng) < 2 or len(slots) < 2:
		raise RuntimeError("no free NG ports / media ranges for the differential test")
	relays = []
	try:
		for (name, binary), port, pmin in zip((("rtpengine", rtpengine), ("sluiced", sluiced)),
						     ng, slots):
			relays.append(Relay(name, binary, port, pmin, pmin + MEDIA_SLOT - 1))
		for r in relays:
			r.wait_ready()
	except Exception:
		for r in relays:
			r.stop()
		raise
	return relays[0], relays[1]
