#!/usr/bin/env bash
# Churn soak (docs/soak.md): starts its own sluiced on loopback, runs `sluice-bench soak`
# against it for SOAK_SECONDS, stops the relay and checks its exit and its log.
# Called by `make soak`; exit 0 only if every check of the soak passed and the relay
# exited cleanly (under SANITIZE=1: without a sanitizer report either).
#
# Tunables (environment):
#   SOAK_SECONDS=600 SOAK_CALLS=300 SOAK_PPS=50 SOAK_TIMEOUT=5 (the relay's --timeout)
#   SOAK_RSS_LIMIT=10 (KiB/min; -1 = report only; default -1 under SANITIZE=1)
#   SOAK_IDLE=75 (seconds without calls at the end: the NG reply cache (60 s) empties and
#   sluiced trims its heap) SOAK_IDLE_LIMIT=1024 (KiB of RSS above the start after that;
#   -1 = report only; default -1 under SANITIZE=1)
#   SOAK_NG_PORT=2295 SOAK_PORT_MIN=6000 SOAK_PORT_MAX=8999 SOAK_GEN_PORT_BASE=3000
#   (ranges no other tool of this tree uses, below the kernel's ephemeral ports (32768+)
#   and away from SIP's 5060: a port held by another program is skipped, but a range
#   full of them - another relay on its default 30000-40000 - would starve the run)
#   SOAK_THREADS=2 (relay media threads) SOAK_ARGS="..." (more sluice-bench options)
#   SOAK_OUT=build/soak/<time>   SLUICED=build/sluiced
set -uo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
SLUICED=${SLUICED:-$BUILD/sluiced}
BENCH=$BUILD/sluice-bench
NGCLI=$BUILD/sluice-ng
SECONDS_=${SOAK_SECONDS:-600}
CALLS=${SOAK_CALLS:-300}
PPS=${SOAK_PPS:-50}
TIMEOUT=${SOAK_TIMEOUT:-5}
if [ "${SANITIZE:-}" = 1 ]; then RSS_DEFAULT=-1 IDLE_DEFAULT=-1; else RSS_DEFAULT=10 IDLE_DEFAULT=1024; fi
RSS_LIMIT=${SOAK_RSS_LIMIT:-$RSS_DEFAULT}
IDLE=${SOAK_IDLE:-75}
IDLE_LIMIT=${SOAK_IDLE_LIMIT:-$IDLE_DEFAULT}
NG_PORT=${SOAK_NG_PORT:-2295}
PORT_MIN=${SOAK_PORT_MIN:-6000}
PORT_MAX=${SOAK_PORT_MAX:-8999}
GEN_BASE=${SOAK_GEN_PORT_BASE:-3000}
THREADS=${SOAK_THREADS:-2}
OUT=${SOAK_OUT:-$BUILD/soak/$(date +%Y%m%d-%H%M%S)}

die() { echo "run-soak: $*" >&2; exit 2; }

[ "$NG_PORT" != 2223 ] || die "SOAK_NG_PORT must not be 2223 (the production NG port)"
[ -x "$SLUICED" ] && [ -x "$BENCH" ] && [ -x "$NGCLI" ] || die "build first (make): $SLUICED, $BENCH, $NGCLI"
mkdir -p "$OUT" || die "cannot create $OUT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if "$NGCLI" --server 127.0.0.1:$NG_PORT --timeout 200 ping >/dev/null 2>&1; then
	die "something already answers NG on 127.0.0.1:$NG_PORT"
fi

relay_pid=""
stop_relay() {
	[ -n "$relay_pid" ] || return 0
	kill -TERM "$relay_pid" 2>/dev/null
	for _ in $(seq 300); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$relay_pid" 2>/dev/null
	wait "$relay_pid"
	relay_rc=$?
	relay_pid=""
}
trap stop_relay EXIT
trap 'exit 130' INT TERM

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
"$SLUICED" --config-file=none --foreground --interface=127.0.0.1 \
	--listen-ng=127.0.0.1:$NG_PORT --port-min=$PORT_MIN --port-max=$PORT_MAX \
	--num-threads=$THREADS --timeout=$TIMEOUT --delete-delay=0 --log-level=5 \
	--log-stderr >"$OUT/sluiced.log" 2>&1 &
relay_pid=$!
for _ in $(seq 100); do
	"$NGCLI" --server 127.0.0.1:$NG_PORT --timeout 100 ping >/dev/null 2>&1 && break
	kill -0 "$relay_pid" 2>/dev/null || { tail -5 "$OUT/sluiced.log" >&2; die "sluiced exited"; }
	sleep 0.1
done

cmd=("$BENCH" soak --ng 127.0.0.1:$NG_PORT --pid "$relay_pid" --calls "$CALLS"
     --duration "$SECONDS_" --pps "$PPS" --relay-timeout "$TIMEOUT"
     --rss-slope-limit "$RSS_LIMIT" --idle-wait "$IDLE" --idle-growth-limit "$IDLE_LIMIT"
     --port-base "$GEN_BASE" --port-pairs $((CALLS * 3 + 50))
     --rss-csv "$OUT/rss.csv" ${SOAK_ARGS:-})
{
	echo "machine: $(nproc) CPUs, kernel $(uname -r), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "sluiced: $SLUICED $(git rev-parse --short HEAD 2>/dev/null) (pid $relay_pid, --timeout=$TIMEOUT --delete-delay=0 --num-threads=$THREADS, ports $PORT_MIN-$PORT_MAX)"
	echo "command: ${cmd[*]}"
} | tee "$OUT/run.txt"
"${cmd[@]}" | tee "$OUT/soak.txt"
rc=${PIPESTATUS[0]}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/run.txt"

relay_rc=""
stop_relay
if [ "$relay_rc" != 0 ]; then
	echo "run-soak: sluiced exited with $relay_rc on SIGTERM" >&2
	rc=1
fi
if grep -E -m5 "ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: " "$OUT/sluiced.log" >&2; then
	echo "run-soak: sanitizer report in $OUT/sluiced.log" >&2
	rc=1
fi
echo "run-soak: $([ $rc -eq 0 ] && echo PASSED || echo FAILED); output in $OUT"
exit $rc
