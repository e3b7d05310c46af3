#!/usr/bin/env bash
# Runs the test layers and prints one summary. Any failure, or a layer that collected
# nothing, makes the run fail.   usage: run-tests.sh [unit|e2e|e2e-uring|diff|interop|kernel|install ...]
# e2e runs sluiced with its default media I/O (recvmmsg/sendmmsg); e2e-uring runs the
# relay-heavy files again with --io-uring, so both paths stay tested.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD SLUICED="$PWD/$BUILD/sluiced" SLUICE_NG="$PWD/$BUILD/sluice-ng"
layers=("$@")
[ ${#layers[@]} -eq 0 ] && layers=(unit e2e e2e-uring diff interop kernel install)
# the files whose packets go through the userspace relay in most ways: plain, SRTP,
# rebinding, BUNDLE, transcoding with timers, DTMF
URING_FILES=(t/e2e/test_media.py t/e2e/test_srtp.py t/e2e/test_rebind.py t/e2e/test_bundle.py
	    t/e2e/test_jitter_srtp.py)

tot_pass=0 tot_fail=0 summary=""
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

add() { # layer passed failed   (the layer's wall time from $SECONDS since it started)
	tot_pass=$((tot_pass + $2)); tot_fail=$((tot_fail + $3))
	summary+=$(printf '  %-8s %4d passed, %d failed  (%d s)' "$1" "$2" "$3" \
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

for l in "${layers[@]}"; do
	echo "=== $l ==="
	layer_t0=$SECONDS
	case "$l" in
	unit) run_unit ;;
	e2e) run_pytest e2e t/e2e ;;
	e2e-uring) E2E_SLUICED_ARGS=--io-uring run_pytest e2e-uring "${URING_FILES[@]}" ;;
	diff) run_diff ;;
	interop) run_pytest interop t/interop ;;
	kernel) run_pytest kernel t/kernel ;;
	install) run_pytest install t/install ;;
	*) echo "unknown layer $l" >&2; add "$l" 0 1 ;;
	esac
done

echo
echo "=== summary ==="
printf '%s' "$summary"
echo "tests: $tot_pass passed, $tot_fail failed in $SECONDS s"
[ "$tot_fail" -eq 0 ]
