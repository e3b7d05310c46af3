"""Interop layer: Kamailio 5.6 + two baresip UAs through the relay chosen by
INTEROP_RELAY (sluiced, the default, or rtpengine). See test_kamailio_baresip.py."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interop_harness import CURRENT  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	outcome = yield
	rep = outcome.get_result()
	if not rep.failed or CURRENT["dir"] is None:
		return
	if CURRENT["shown"]:
		rep.sections.append(("interop logs", "see the first failure of this scenario; "
				     "logs kept in %s" % CURRENT["dir"]))
		return
	CURRENT["shown"] = True
	rep.sections.append(("interop logs", "kept in %s" % CURRENT["dir"]))
	for p in CURRENT["procs"]:
		rep.sections.append(("log: %s (%s)" % (p.name, p.log), p.tail(150)))
	tap = Path(CURRENT["dir"]) / "ng-tap.log"
	if tap.exists():
		rep.sections.append(("NG messages (%s)" % tap, tap.read_text()[-20000:]))
