"""Network namespaces for interop tests: create, run a command in, delete, and `inside()`,
which moves the calling thread into a namespace for a block.

inside() uses setns(2) on the calling thread only (Python 3.11 has no os.setns): sockets the
block opens and processes it starts (fork copies the calling thread's namespaces) live in
that namespace and stay there after the block. Threads started earlier are unaffected.
"""
import contextlib
import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
	if _libc.setns(fd, CLONE_NEWNET) != 0:
		e = ctypes.get_errno()
		raise OSError(e, "setns: %s" % os.strerror(e))


@contextlib.contextmanager
def inside(ns):
	"""The calling thread is in netns `ns` (a name from `ip netns add`) for the block,
	and back where it was afterwards, even when the block raises."""
	back = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
	try:
		fd = os.open("/run/netns/%s" % ns, os.O_RDONLY)
		try:
			_setns(fd)
		finally:
			os.close(fd)
		try:
			yield
		finally:
			_setns(back)
	finally:
		os.close(back)


def run(ns, *argv, check=True, stdin=None):
	"""argv inside ns (stdin: text fed to it); its output (stdout) as text."""
	r = subprocess.run(["ip", "netns", "exec", ns] + [str(a) for a in argv], input=stdin,
			   capture_output=True, text=True, timeout=20)
	if check and r.returncode != 0:
		raise AssertionError("in netns %s: %s -> %d\n%s%s" % (
			ns, " ".join(map(str, argv)), r.returncode, r.stdout, r.stderr))
	return r.stdout


def add(ns):
	subprocess.run(["ip", "netns", "add", ns], check=True, timeout=20)
	run(ns, "ip", "link", "set", "lo", "up")


def delete(ns):
	"""Removes ns (its interfaces and nftables go with it once no process is left in
	it). No error if it is already gone."""
	subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)
