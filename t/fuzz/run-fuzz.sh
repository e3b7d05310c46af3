#!/usr/bin/env bash
# Run libFuzzer binaries one after another for FUZZ_SECONDS each.
#   usage: FUZZ_SECONDS=N t/fuzz/run-fuzz.sh build-fuzz/fuzz_a build-fuzz/fuzz_b ...
# For binary fuzz_NAME the corpus is t/fuzz/corpus-NAME (created, gitignored), seeded from
# t/fuzz/seeds/NAME/ when present. Crash inputs and the full log go next to the binary
# (NAME-crash-*, NAME.log). t/fuzz/fuzz_NAME.dict, when present, is passed as -dict. Prints one line per target; exits 1 if any target failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
[ $# -gt 0 ] || { echo "usage: FUZZ_SECONDS=N $0 FUZZ_BINARY..." >&2; exit 2; }

failed=0
for bin in "$@"; do
	base=$(basename "$bin")
	name=${base#fuzz_}
	corpus=t/fuzz/corpus-$name
	seeds=t/fuzz/seeds/$name
	outdir=$(dirname "$bin")
	log=$outdir/$name.log

	if [ ! -x "$bin" ]; then
		printf '%-20s FAIL   binary %s missing\n' "$name" "$bin"
		failed=1
		continue
	fi
	mkdir -p "$corpus"
	if [ -d "$seeds" ]; then
		cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
	fi
	dict=()
	[ -f "t/fuzz/$base.dict" ] && dict=(-dict="t/fuzz/$base.dict")
	"$bin" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=25 \
		-print_final_stats=1 -artifact_prefix="$outdir/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	files=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		printf '%-20s ok     %s runs in %ss, cov %s, corpus %s files\n' \
			"$name" "$runs" "$FUZZ_SECONDS" "${cov:-?}" "$files"
	else
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		why=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)[^(]*|runtime error: .*' "$log")
		printf '%-20s FAIL   rc=%d %s; input %s; log %s\n' \
			"$name" "$rc" "${why:-see log}" "${art:-none}" "$log"
		failed=1
	fi
done
exit $failed
