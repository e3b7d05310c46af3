#!/usr/bin/env bash
# Runs the test layers and prints one summary. Any failure, or a layer that collected
# nothing, makes the run fail.   usage: run-tests.sh [unit|e2e|e2e-serial|e2e-mmsg|diff|interop|kernel|install ...]
# e2e runs sluiced with its default media I/O (io_uring, where the kernel has it); e2e-mmsg
# runs the relay-heavy files again with --no-io-uring (recvmmsg/sendmmsg), so both paths
# stay tested.
# The e2e files run in E2E_WORKERS parallel pytest-xdist workers (default 4; the tests
# mostly wait on timers), except E2E_SERIAL (layer e2e-serial), which measure load or
# rates and run alone at the end. When a run has the qemu layers (kernel, install) and others, the qemu ones
# run in a second lane beside the rest; TEST_LANES=1 runs every layer one after another.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD SLUICED="$PWD/$BUILD/sluiced" SLUICE_NG="$PWD/$BUILD/sluice-ng"
layers=("$@")
[ ${#layers[@]} -eq 0 ] && layers=(unit e2e e2e-mmsg diff interop kernel install e2e-serial)
# the files whose packets go through the userspace relay in most ways: plain, SRTP,
# rebinding, BUNDLE, transcoding with timers, DTMF
MMSG_FILES=(t/e2e/test_media.py t/e2e/test_srtp.py t/e2e/test_rebind.py t/e2e/test_bundle.py
	    t/e2e/test_jitter_srtp.py)

E2E_SERIAL=(t/e2e/test_soak.py t/e2e/test_bench_smoke.py
	    t/e2e/test_delay_dtmf_security.py)   # measures packet delays to the ms
E2E_WORKERS=${E2E_WORKERS:-4}
if ! /usr/bin/python3 -c 'import xdist' 2>/dev/null; then
	echo "e2e: python3-pytest-xdist missing (utils/install-deps.sh test): one worker" >&2
	E2E_WORKERS=1
fi
xdist=()
[ "$E2E_WORKERS" -gt 1 ] && xdist=(-n "$E2E_WORKERS" --dist loadfile)

tot_pass=0 tot_fail=0 summary=""
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

add() { # layer passed failed   (the layer's wall time from $SECONDS since it started)
	tot_pass=$((tot_pass + $2)); tot_fail=$((tot_fail + $3))
	summary+=$(printf '  %-10s %4d passed, %d failed  (%d s)' "$1" "$2" "$3" \
		$((SECONDS - ${layer_t0:-0})))$'\n'
}

run_unit() {
	local p=0 f=0 bins=("$BUILD"/t/test_*)
	if [ ! -x "${bins[0]}" ]; then add unit 0 1; echo "unit: no test binaries" >&2; return; fi
	for b in "${bins[@]}"; do
		"$b" >"$out/u.log" 2>&1; rc=$?
		cat "$out/u.log"
		n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out/u.log" | tail -1)
		m=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out/u.log" | tail -1)
		p=$((p + ${n:-0})); f=$((f + ${m:-0}))
		if [ $rc -ne 0 ] && [ "${m:-0}" -eq 0 ]; then f=$((f + 1)); echo "unit: $b exited $rc" >&2; fi
	done
	add unit $p $f
}

run_pytest() { # layer dir|files...
	local xml="$out/$1.xml" layer=$1
	shift
	if [ ! -e "$1" ]; then add "$layer" 0 1; return; fi
	/usr/bin/python3 -m pytest -q -rfEs -p no:cacheprovider --junitxml="$xml" "$@"
	rc=$?
	read -r p f < <(/usr/bin/python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    r = ET.parse(sys.argv[1]).getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    t, fl, er, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(t - fl - er - sk, fl + er)
except Exception:
    print(0, 1)
PY
)
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$layer: no tests collected" >&2; fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	add "$layer" "$p" "$f"
}

run_diff() { # the differential test against rtpengine (t/diff/run.py)
	/usr/bin/python3 t/diff/run.py >"$out/d.log" 2>&1; rc=$?
	cat "$out/d.log"
	if [ $rc -eq 77 ]; then add diff 0 0; echo "diff: skipped (rtpengine-daemon not installed)"; return; fi
	read -r p f < <(sed -n 's/^diff: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out/d.log" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "diff: no cases run" >&2; fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	add diff "$p" "$f"
}

run_e2e() {
	local ign=()
	for f in "${E2E_SERIAL[@]}"; do ign+=(--ignore="$f"); done
	run_pytest e2e t/e2e "${ign[@]}" "${xdist[@]}"
}

run_layer() {
	echo "=== $1 ==="
	layer_t0=$SECONDS
	case "$1" in
	unit) run_unit ;;
	e2e) run_e2e ;;
	e2e-serial) run_pytest e2e-serial "${E2E_SERIAL[@]}" ;;
	e2e-mmsg) E2E_SLUICED_ARGS=--no-io-uring run_pytest e2e-mmsg "${MMSG_FILES[@]}" "${xdist[@]}" ;;
	diff) run_diff ;;
	interop) run_pytest interop t/interop ;;
	kernel) run_pytest kernel t/kernel ;;
	install) run_pytest install t/install ;;
	*) echo "unknown layer $1" >&2; add "$1" 0 1 ;;
	esac
}

fg=() bg=() last=()
for l in "${layers[@]}"; do
	case "$l" in kernel|install) bg+=("$l") ;; e2e-serial) last+=("$l") ;; *) fg+=("$l") ;; esac
done
if [ "${TEST_LANES:-2}" -lt 2 ] || [ ${#fg[@]} -eq 0 ] || [ ${#bg[@]} -eq 0 ]; then
	fg=("${layers[@]}") bg=() last=()
fi
if [ ${#bg[@]} -gt 0 ]; then
	echo "=== ${bg[*]}: in a second lane (output after the others) ==="
	(
		tot_pass=0 tot_fail=0 summary=""
		for l in "${bg[@]}"; do run_layer "$l"; done
		printf '%s' "$summary" >"$out/bg.summary"
		echo "$tot_pass $tot_fail" >"$out/bg.counts"
	) >"$out/bg.log" 2>&1 &
	bg_pid=$!
fi
for l in "${fg[@]}"; do run_layer "$l"; done
if [ ${#bg[@]} -gt 0 ]; then
	wait "$bg_pid"
	cat "$out/bg.log"
	if read -r p f <"$out/bg.counts" 2>/dev/null; then
		tot_pass=$((tot_pass + p)); tot_fail=$((tot_fail + f))
		summary+=$(cat "$out/bg.summary")$'\n'
	else
		tot_fail=$((tot_fail + 1)); summary+="  ${bg[*]}: the lane ended without a result"$'\n'
	fi
fi
for l in "${last[@]}"; do run_layer "$l"; done

echo
echo "=== summary ==="
printf '%s' "$summary"
echo "tests: $tot_pass passed, $tot_fail failed in $SECONDS s"
[ "$tot_fail" -eq 0 ]
