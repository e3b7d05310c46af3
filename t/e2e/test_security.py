"""Attack tests of issue 11 (RTP Bleed / RTP Inject): a NAT'd caller (SDP 10.0.0.1,
received-from 127.0.0.1, packets from another port), a callee, and a stranger on
127.0.0.66 or in a network namespace of its own. Every test asserts exact packet counts
at the caller, the callee, the stranger and the caller's SDP address, and the query's
"foreign packets" of the caller's relay port. Scenarios and the expected outcome per
learning mode are in attack.py (also run by attack_table.py against rtpengine).

The whole module runs inside a private network namespace (attack.Sandbox: the caller's
SDP address 10.0.0.1 is on its lo, so nothing the relay sends there leaves the machine),
which needs root; without root every test is skipped."""

import os
import re

import pytest

import attack
from attack import MODES, SCENARIOS, Sandbox, mismatches, ns_socket, run_steady
from conftest import SANITIZER_RE, Relay, next_slot, relay_argv

pytestmark = pytest.mark.sluice_only


@pytest.fixture(scope="module")
def sandbox():
	if os.geteuid() != 0:
		pytest.skip("needs root: the attack scenarios run in a network namespace of their own "
			    "(ip netns), so that media to the caller's SDP address 10.0.0.1 stays local")
	sb = Sandbox()
	sb.enter()
	yield sb
	sb.close()


def assert_spec(name, mode, res):
	bad = mismatches(name, mode, res)
	if res["foreign"] is None:
		bad.append("query: no 'foreign packets' on the caller's relay port")
	assert not bad, "%s, endpoint learning %s:\n  %s\nmeasured: %s (foreign %s)" % (
		name, mode, "\n  ".join(bad),
		{k: dict(v) for k, v in res["phases"].items()}, res["foreign"])


# ---- every learning mode: the race and the flood ----

def start(relay, mode, how):
	"""A relay and the offer keys that make `mode` the caller's learning mode: the daemon
	option, or the per-call NG key / flag on a daemon set to another mode (immediate,
	or the default for immediate itself)."""
	if how == "option":
		return relay(endpoint_learning=mode), {}, []
	r = relay(endpoint_learning="immediate") if mode != "immediate" else relay()
	kw, flags = attack.learning_kw(mode, how)
	return r, kw, flags


VARIANTS = [(m, "option") for m in MODES] + [(m, "key") for m in MODES] + \
	[("heuristic", "flag"), ("off", "flag")]


@pytest.mark.parametrize("scenario", ["race", "flood"])
@pytest.mark.parametrize("mode,how", VARIANTS, ids=["%s-%s" % v for v in VARIANTS])
def test_learning_mode(sandbox, relay, scenario, mode, how):
	"""race: a stranger's packet 50 ms before the caller's first; flood: 1000 pps from the
	stranger, starting 100 ms before the caller. heuristic/delayed: the caller wins (better
	rank), nothing of the stranger's reaches the callee; immediate: the first packet wins
	for good (the stranger: documented); off: media to the SDP address only."""
	r, kw, flags = start(relay, mode, how)
	assert_spec(scenario, mode, run_steady(lambda: SCENARIOS[scenario](r, offer_kw=kw, flags=flags)))


def test_default_is_heuristic(sandbox, relay):
	"""No option, no key: the racing stranger loses."""
	r = relay()
	assert_spec("race", "heuristic", run_steady(lambda: SCENARIOS["race"](r)))


@pytest.mark.parametrize("scenario", ["race", "flood"])
def test_strict_source_no_injection(sandbox, relay, scenario):
	"""strict-source: a stranger (rank 2) never latches, not even first, so none of its
	packets reaches the callee, not even those sent before the caller's first one; all of
	them are foreign. The caller (the SIP source's address) latches and gets everything."""
	r = relay()
	res = run_steady(lambda: SCENARIOS[scenario](r, flags=["strict-source"]))
	got = res["phases"][scenario]
	if scenario == "race":
		exp, foreign = attack._to_a("heuristic", 50, caller_fwd=5), 1
	else:
		exp = attack._to_a("heuristic", 50, caller_fwd=40)
		foreign = got["sent"]["stranger"]
		assert foreign >= 900, "the flood sent only %d packets" % foreign
	bad = ["%s expected %s, got %s" % (k, v, got.get(k)) for k, v in exp.items() if got.get(k) != v]
	assert not bad, "strict-source %s: %s (measured %s)" % (scenario, bad, got)
	assert res["foreign"] == foreign, "foreign %s, want %d" % (res["foreign"], foreign)


# ---- after the latch: late strangers, NAT rebinding, re-offer ----

WINDOW_SCENARIOS = ["late fresh SSRC", "late caller SSRC", "rebind", "rebind + media-handover",
		    "re-offer"]


@pytest.fixture(scope="module")
def window_results(sandbox):
	"""The scenarios that wait out the 3 s learning window, run at once on one relay with
	the default learning mode: {name: result or exception}."""
	ng, pmin = next_slot()
	r = Relay(relay_argv(ng, pmin, pmin + 199), ("127.0.0.1", ng), pmin, pmin + 199)
	try:
		r.wait_ready()
		res = attack.run_concurrently({n: (lambda n=n: SCENARIOS[n](r)) for n in WINDOW_SCENARIOS})
	finally:
		r.stop()
		log = r.log()
		r.kill()
	res["sanitizer"] = log[-6000:] if re.search(SANITIZER_RE, log) else None
	return res


def window_case(results, name):
	assert results["sanitizer"] is None, "sanitizer report in relay log:\n" + results["sanitizer"]
	res = results[name]
	if isinstance(res, BaseException):
		raise res
	assert_spec(name, "heuristic", res)
	return res


def test_late_stranger_fresh_ssrc(window_results):
	"""After the caller's latch, in the window and after it: the stranger's 20 packets are
	dropped and counted, the callee's go to the caller."""
	window_case(window_results, "late fresh SSRC")


def test_late_stranger_with_callers_ssrc(window_results):
	"""The same with the caller's SSRC and sequence numbers (read off what the callee
	received): the SSRC never moves a latch."""
	window_case(window_results, "late caller SSRC")


def test_nat_rebinding_without_handover(window_results):
	"""The caller's packets come from a new port after the latch is fixed: dropped
	(foreign), the callee's media stays on the old port."""
	window_case(window_results, "rebind")


def test_nat_rebinding_with_media_handover(window_results):
	"""With media-handover in the offer the latch follows the new port."""
	window_case(window_results, "rebind + media-handover")


def test_reoffer_reopens_learning(window_results):
	"""A re-offer (re-INVITE) reopens learning: the old endpoint until the next packet,
	then the caller's new port, without media-handover."""
	window_case(window_results, "re-offer")


# ---- SRTP: forged packets ----

def test_srtp_forged_packets(sandbox, relay):
	"""SDES AES_CM_128_HMAC_SHA1_80: packets with a broken auth tag from the caller's NAT
	socket, from the caller's address at its SDP port and from the stranger, before and
	after the caller's first genuine packet: never forwarded, no latch (the callee's media
	goes to the SDP address, then to the genuine source). Each is counted once: as an
	auth failure, or as foreign where the source could not have taken the latch anyway
	(the stranger's 3 after the caller's latch)."""
	r = relay()
	res = run_steady(lambda: SCENARIOS["SRTP forged"](r))
	assert_spec("SRTP forged", "heuristic", res)
	assert res["srtp"] is not None, "query: no SRTP dict on the caller's media"
	assert res["srtp"]["auth failures"] == 15, res["srtp"]
	assert res["stats"]["packets"] == 5, res["stats"]		# the genuine ones only
	assert res["stats"]["errors"] == 15, res["stats"]


# ---- the stranger in a network namespace of its own ----

def test_stranger_in_own_netns(sandbox, relay):
	"""The stranger at 10.66.0.2 in another namespace, over a veth pair to the relay's
	10.66.0.1: the race and the flood as in heuristic mode."""
	peer = sandbox.peer("10.66.0.1", "10.66.0.2")
	r = relay(interfaces=("10.66.0.1",))
	res = attack.run_concurrently({
		n: (lambda n=n: run_steady(lambda: SCENARIOS[n](r, stranger=ns_socket(peer, "10.66.0.2"))))
		for n in ("race", "flood")})
	for n in ("race", "flood"):
		if isinstance(res[n], BaseException):
			raise res[n]
		assert_spec(n, "heuristic", res[n])
