"""The man pages (`make man`: sluiced(8), sluice.conf(5), sluice-ng(1), sluice-ctl(1),
sluice-bench(1)) are made from the programs' own --help, and sluiced's from its option
table. This test fails when an option a program accepts has no entry in its page (or, for
sluiced, no help text or no key in sluice.conf(5)), and when groff warns about a page."""

import os
import re
import subprocess

import pytest

from conftest import REPO, SLUICED

BUILD = os.path.dirname(SLUICED)
PAGES = {"sluiced": "sluiced.8", "sluice.conf": "sluice.conf.5", "sluice-ng": "sluice-ng.1",
	 "sluice-ctl": "sluice-ctl.1", "sluice-bench": "sluice-bench.1"}
CMDLINE_ONLY = {"help", "version", "config-file", "config-section"}


@pytest.fixture(scope="module")
def pages():
	build = os.path.relpath(BUILD, REPO)
	for page in PAGES.values():		# made anew: a stale page proves nothing
		try:
			os.unlink(os.path.join(BUILD, "man", page))
		except FileNotFoundError:
			pass
	subprocess.run(["make", "-s", "BUILD=" + build, "man"], cwd=REPO, check=True,
		       stdout=subprocess.DEVNULL)
	out = {}
	for name, page in PAGES.items():
		with open(os.path.join(BUILD, "man", page)) as f:
			out[name] = f.read()
	return out


def _source(*parts):
	with open(os.path.join(REPO, *parts)) as f:
		return f.read()


def _daemon_options():
	"""(name, help) of every entry of sluiced's option table (daemon/config.c)."""
	src = _source("daemon", "config.c")
	table = src[src.index("static const struct cfg_opt cfg_opts[]"):]
	table = table[:table.index("\n};")]
	opts = re.findall(r'O_\w+\(\s*"([\w-]+)",(.*?)\),?\s*\n(?=\s*(?:O_\w+\(|#|/\*|$))',
			  table + "\n", re.S)
	assert len(opts) > 40, "option table not found in daemon/config.c"
	return [(name, rest) for name, rest in opts]


def _getopt_names(*parts):
	"""Long option names of the struct option arrays of a C source."""
	src, names = _source(*parts), []
	for m in re.finditer(r"struct option\s+\w+\[\]\s*=\s*\{(.*?)\n\s*\};", src, re.S):
		names += re.findall(r'\{\s*"([\w-]+)",', m.group(1))
	assert names, "no struct option entries in %s" % "/".join(parts)
	return set(names)


def _roff_has_option(page, name):
	return ("\\-\\-" + name.replace("-", "\\-")) in page or ("--" + name) in page


def test_sluiced_page_lists_every_option(pages):
	missing = [n for n, _ in _daemon_options() if not _roff_has_option(pages["sluiced"], n)]
	assert not missing, "options without an entry in sluiced(8): %s" % missing


def test_every_daemon_option_has_help(pages):
	bare = [n for n, rest in _daemon_options()
		if len(re.findall(r'"([^"]*)"', rest)) == 0 or
		len(" ".join(re.findall(r'"([^"]*)"', rest)).split()) < 3]
	assert not bare, "options without help text in daemon/config.c: %s" % bare


def test_conf_page_has_every_key(pages):
	keys = set(re.findall(r"^\.B ([\w\\-]+) = ", pages["sluice.conf"], re.M))
	keys = {k.replace("\\-", "-") for k in keys}
	missing = [n for n, _ in _daemon_options() if n not in CMDLINE_ONLY and n not in keys]
	assert not missing, "keys missing from sluice.conf(5): %s" % missing
	assert not keys & CMDLINE_ONLY


@pytest.mark.parametrize("prog,src", [
	("sluice-ng", ("utils", "sluice-ng", "sluice-ng.c")),
	("sluice-ctl", ("utils", "sluice-ctl", "sluice-ctl.c")),
	("sluice-bench", ("utils", "sluice-bench", "main.c")),
])
def test_tool_page_lists_every_option(pages, prog, src):
	missing = sorted(n for n in _getopt_names(*src) if not _roff_has_option(pages[prog], n))
	assert not missing, "options of %s without an entry in its man page: %s" % (prog, missing)


@pytest.mark.parametrize("page", sorted(PAGES.values()))
def test_page_renders_without_warnings(pages, page):
	r = subprocess.run(["man", "--warnings=all", "-l", os.path.join(BUILD, "man", page)],
			   capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80",
			   MAN_KEEP_FORMATTING="0"))
	assert r.returncode == 0, r.stderr
	assert r.stderr.strip() == "", r.stderr
	assert len(r.stdout.splitlines()) > 20
