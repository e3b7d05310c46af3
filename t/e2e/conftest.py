"""e2e fixtures: start the relay under test (sluiced or the reference rtpengine).

E2E_TARGET=sluiced (default): runs $SLUICED (default <repo>/build/sluiced).
E2E_TARGET=rtpengine: runs $RTPENGINE (default /usr/bin/rtpengine) with --table=-1;
tests marked sluice_only are skipped (E2E_RUN_SLUICE_ONLY=1 runs them anyway, to compare).
E2E_SLUICED_ARGS="--io-uring": options added to every sluiced command line.
Each relay gets its own NG port (2300+n) and media range (42000+200n .. +199). Under
pytest-xdist (t/run-tests.sh runs e2e files in parallel workers) worker k of W takes the
slots n with n % W == k, so two workers never race for one slot; as root each worker
also runs in a network namespace of its own (E2E_NETNS=0: not), so no other process's
ephemeral ports (32768-60999, inside the slots' media ranges) land in a relay's range.
"""

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from ng import NG  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
TARGET = os.environ.get("E2E_TARGET", "sluiced")
SLUICED = os.environ.get("SLUICED") or os.path.join(REPO, "build", "sluiced")
RTPENGINE = os.environ.get("RTPENGINE", "/usr/bin/rtpengine")

MAX_SLOTS = 117			# 42000 + 117*200 < 65535
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
_WORKERS = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
_MY_SLOTS = [n for n in range(MAX_SLOTS) if n % _WORKERS == _WORKER]
_slot = itertools.cycle(_MY_SLOTS)


def _own_netns():
	"""Move this xdist worker into a new network namespace with loopback up."""
	import ctypes
	CLONE_NEWNET = 0x40000000
	libc = ctypes.CDLL(None, use_errno=True)
	if libc.unshare(CLONE_NEWNET) != 0:
		return "unshare: %s" % os.strerror(ctypes.get_errno())
	p = subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, text=True)
	return p.stderr.strip() if p.returncode else None


def pytest_configure(config):
	if os.environ.get("PYTEST_XDIST_WORKER") and os.geteuid() == 0 and \
			os.environ.get("E2E_NETNS", "1") != "0":
		err = _own_netns()
		if err:
			raise pytest.UsageError("e2e worker network namespace: " + err)
	config.addinivalue_line("markers", "sluice_only: behaviour specific to sluiced; skipped for rtpengine")


def pytest_collection_modifyitems(config, items):
	if TARGET == "sluiced" or os.environ.get("E2E_RUN_SLUICE_ONLY"):
		return
	skip = pytest.mark.skip(reason="sluice_only test, E2E_TARGET=%s" % TARGET)
	for it in items:
		if "sluice_only" in it.keywords:
			it.add_marker(skip)


def binary():
	if TARGET == "rtpengine":
		return RTPENGINE
	if TARGET != "sluiced":
		pytest.fail("E2E_TARGET must be 'sluiced' or 'rtpengine', not %r" % TARGET)
	if not os.access(SLUICED, os.X_OK):
		pytest.fail("sluiced binary not found at %s: build it (make) or set SLUICED=/path, "
			    "or run with E2E_TARGET=rtpengine" % SLUICED, pytrace=False)
	return SLUICED


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


def next_slot():
	"""(ng_port, media_min) of a slot whose NG port and media ports are all free right now
	(another relay on this machine may be using part of the range)."""
	# round robin: a slot is used again once its relay is gone (the check below)
	for _ in _MY_SLOTS:
		n = next(_slot)
		ng, pmin = 2300 + n, 42000 + 200 * n
		if _udp_free("127.0.0.1", ng) and \
				all(_udp_free("127.0.0.1", p) for p in range(pmin, pmin + 200)):
			return ng, pmin
	raise RuntimeError("out of e2e port slots")


def _opt_args(opts):
	out = []
	for k, v in opts.items():
		name = "--" + k.replace("_", "-")
		if v is True:
			out.append(name)
		elif v is False or v is None:
			continue
		elif isinstance(v, (list, tuple)):
			out += ["%s=%s" % (name, x) for x in v]
		else:
			out.append("%s=%s" % (name, v))
	return out


class Relay:
	def __init__(self, argv, ng_addr, port_min, port_max):
		self.argv = argv
		self.ng_addr = ng_addr
		self.ng_port = ng_addr[1]
		self.port_min, self.port_max = port_min, port_max
		self.logf = tempfile.TemporaryFile(prefix="e2e-relay-")
		self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.logf,
					     stderr=subprocess.STDOUT)
		self.ng = NG(ng_addr)
		self.returncode = None

	def log(self):
		"""Everything the daemon wrote to stdout/stderr so far."""
		self.logf.flush()
		self.logf.seek(0)
		return self.logf.read().decode("utf-8", "replace")

	def wait_ready(self, timeout=5.0):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				raise RuntimeError("relay exited with %d before answering ping:\n%s"
						   % (self.proc.returncode, self.log()[-3000:]))
			try:
				if self.ng.ping(timeout=0.2):
					return
			except (TimeoutError, OSError):
				pass
			time.sleep(0.05)
		raise RuntimeError("relay did not answer ping within %.0f s:\n%s"
				   % (timeout, self.log()[-3000:]))

	def alive(self):
		return self.proc.poll() is None

	def stop(self, timeout=5.0):
		"""SIGTERM, wait, return the exit code (SIGKILL after timeout)."""
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(timeout)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.returncode = self.proc.returncode
		return self.returncode

	def kill(self):
		if self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()
		self.ng.close()
		self.logf.close()

	# convenience: where media for this relay's interfaces comes from
	def in_range(self, port):
		return self.port_min <= port <= self.port_max


SANITIZER_RE = r"(ERROR: (Address|Leak)Sanitizer|runtime error:|ThreadSanitizer)"


def relay_argv(ng_port, port_min, port_max, interfaces=("127.0.0.1",), extra=(), **opts):
	argv = [binary(), "--config-file=none", "--foreground", "--log-stderr", "--log-level=7"]
	argv += ["--interface=%s" % i for i in interfaces]
	argv += ["--listen-ng=127.0.0.1:%d" % ng_port, "--port-min=%d" % port_min,
		 "--port-max=%d" % port_max]
	base = {"delete_delay": 0, "num_threads": 2}
	base.update(opts)
	argv += _opt_args(base)
	if TARGET == "rtpengine":
		# userspace forwarding; latch on the first packet as sluiced does (rtpengine's
		# default "delayed" learning keeps using the SDP address for ~3 s)
		argv += ["--table=-1", "--endpoint-learning=immediate"]
	if TARGET == "sluiced" and os.environ.get("E2E_SLUICED_ARGS"):
		# e.g. --io-uring: the whole suite on the other media I/O path (make test
		# runs the relay-heavy files so, t/run-tests.sh)
		argv += os.environ["E2E_SLUICED_ARGS"].split()
	return argv + list(extra)


def sanitized(path=None):
	"""Is the daemon under test (or path) an ASan/UBSan build (make SANITIZE=1)? It is
	several times slower: tests that measure a rate allow for that."""
	try:
		out = subprocess.run(["ldd", path or binary()], capture_output=True, text=True).stdout
	except OSError:
		return False
	return "libasan" in out or "libubsan" in out


@pytest.fixture
def relay():
	"""relay(ports=200, interfaces=('127.0.0.1',), extra=[...], wait=True, argv=None,
	**opts) -> Relay, started and answering ping (if wait).

	opts become --key-with-dashes=value (True -> bare flag); ports caps the media range
	size (the range always starts at the slot's base); argv(binary, ng_port, port_min,
	port_max) -> list replaces the whole command line. Killed at teardown."""
	started = []

	def start(ports=200, interfaces=("127.0.0.1",), extra=(), wait=True, argv=None, **opts):
		ng_port, pmin = next_slot()
		pmax = pmin + min(ports, 200) - 1
		if argv is None:
			argv = relay_argv(ng_port, pmin, pmax, interfaces, extra, **opts)
		else:
			argv = argv(binary(), ng_port, pmin, pmax)
		r = Relay(argv, ("127.0.0.1", ng_port), pmin, pmax)
		started.append(r)
		if wait:
			r.wait_ready()
		return r

	yield start
	# A clean SIGTERM lets LeakSanitizer run; any sanitizer report fails the test (the
	# daemon may be built with make SANITIZE=1).
	reports = []
	for r in started:
		r.stop()
		log = r.log()
		r.kill()
		if TARGET == "sluiced" and re.search(SANITIZER_RE, log):
			reports.append(log[-6000:])
	if reports:
		pytest.fail("sanitizer report in relay log:\n" + "\n----\n".join(reports))

