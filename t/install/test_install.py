"""The install test (make test-install; t/install/run-vm.sh): the .deb packages on a
Debian 12 guest booted with systemd under qemu TCG, two boots of one disk. Each step the
guest reports becomes one test here; a step missing from results.txt fails."""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = os.environ.get("BUILD", "build")
OUT = ROOT / BUILD / "install-vm"

# in the order the guest runs them (t/install/guest.sh)
STEPS = [
    "install", "enabled", "start", "start_up", "call_kernel",
    "restart", "call_after_restart",
    "after_reboot", "call_after_reboot", "remove", "purge", "dmesg_clean",
]


@pytest.fixture(scope="module")
def vm():
    env = dict(os.environ, BUILD=BUILD)
    proc = subprocess.run([str(ROOT / "t/install/run-vm.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    results = {}
    path = OUT / "results.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            m = re.match(r"^(PASS|FAIL) (\S+?):?(?: (.*))?$", line)
            if m:
                results[m.group(2)] = (m.group(1) == "PASS", m.group(3) or "")
    return {"results": results, "proc": proc}


@pytest.mark.parametrize("name", STEPS)
def test_install_step(vm, name):
    res = vm["results"]
    if name not in res:
        tail = "\n".join(vm["proc"].stdout.splitlines()[-5:] + vm["proc"].stderr.splitlines()[-20:])
        pytest.fail(f"step {name} not reported by the guest\n{tail}")
    ok, why = res[name]
    assert ok, f"{name}: {why} (logs in {OUT})"


def test_no_unknown_steps(vm):
    unknown = sorted(set(vm["results"]) - set(STEPS))
    assert not unknown, f"the guest reported steps this file does not know: {unknown}"
