#!/usr/bin/env bash
# Side-by-side benchmark: the same suite against sluiced, then against Debian's rtpengine
# (userspace only, --table=-1), one relay at a time, each pinned to one core with the
# generator on another; prints the raw figures and the ratios sluice/rtpengine for the
# targets of issue 4. Called by `make bench`; see docs/benchmarks.md.
#
# Every relay is started fresh for each test and stopped after it (and on any exit).
# Tunables (environment):
#   BENCH_RELAYS="sluiced rtpengine"  which relays, in order; sluiced-uring and
#                                     sluiced-mmsg: sluiced with --io-uring / --no-io-uring
#   BENCH_CALLS=500 BENCH_WARMUP=3 BENCH_DURATION=20      plain forwarding
#   BENCH_RAMP_STEP=50 BENCH_RAMP_MAX=2800 BENCH_RAMP_WARMUP=2 BENCH_RAMP_DURATION=8
#   BENCH_CTRL1_CYCLES=1000 BENCH_CTRL32_CYCLES=5000      control plane
#   BENCH_MEM_CALLS=2000                                   idle calls for memory per call
#   BENCH_XC_CALLS=40 BENCH_XC_DURATION=20               PCMU <-> Opus transcoding, and
#                                               xc-amrwb / xc-gsm: PCMU <-> AMR-WB / GSM
#                                               (AMR-WB needs libavcodec-extra, both relays)
#   BENCH_XC_RAMP_STEP=10 BENCH_XC_RAMP_MAX=300 BENCH_XC_RAMP_DURATION=6   transcoding ramp
#   BENCH_CHURN_RATE=2000 BENCH_CHURN_ALIVE=100 BENCH_CHURN_DURATION=60   control-plane churn
#   BENCH_REC_CALLS=200 BENCH_REC_DURATION=20   recording: rec-off (not recorded) and rec-on
#                                               (every call recorded, pcap method)
#   BENCH_SRTP_CALLS=200 BENCH_SRTP_DURATION=20  SDES-SRTP caller <-> plain callee:
#                                               srtp (AES_CM_128_HMAC_SHA1_80), srtp-gcm
#                                               (AEAD_AES_128_GCM); srtp2: SRTP <-> SRTP
#                                               (AES_CM_128_HMAC_SHA1_80 <-> AEAD_AES_128_GCM)
#   ctrl-redis, mem-redis: ctrl32 and mem with call state in Redis (--redis, a
#                redis-server of the run's own on 127.0.0.1:BENCH_REDIS_PORT=16379, emptied
#                before each relay); the relay's statistics after the run are kept
#                (sluiced: the write queue's peak, redis.queuemax)
#   BENCH_TESTS="mem plain ctrl1 ctrl32 ramp transcode xramp churn rec-off rec-on srtp
#                srtp-gcm srtp2 xc-amrwb xc-gsm ctrl-redis mem-redis"
#                                               which tests, in order; also plain-hi (25
#                                               calls x 1000 pps) and plain-lo (2000 x 10)
#   BENCH_INTERLEAVE=1    tests outer, relays inner (sluiced, rtpengine, next test...):
#                         each pair measured close in time on a machine whose load drifts
#   BENCH_NG_PORT=2290 BENCH_PORT_MIN=30000 BENCH_PORT_MAX=41999 BENCH_GEN_PORT_BASE=10000
#   BENCH_RELAY_CPU=1 BENCH_GEN_CPU=0 BENCH_OUT=build/bench/<time>
#   SLUICED=build/sluiced RTPENGINE=/usr/bin/rtpengine
set -uo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
SLUICED=${SLUICED:-$BUILD/sluiced}
RTPENGINE=${RTPENGINE:-/usr/bin/rtpengine}
BENCH=$BUILD/sluice-bench
NGCLI=$BUILD/sluice-ng
RELAYS=${BENCH_RELAYS:-sluiced rtpengine}
CALLS=${BENCH_CALLS:-500}
WARMUP=${BENCH_WARMUP:-3}
DURATION=${BENCH_DURATION:-20}
RAMP_STEP=${BENCH_RAMP_STEP:-50}
RAMP_MAX=${BENCH_RAMP_MAX:-2800}
RAMP_WARMUP=${BENCH_RAMP_WARMUP:-2}
RAMP_DURATION=${BENCH_RAMP_DURATION:-8}
CTRL1_CYCLES=${BENCH_CTRL1_CYCLES:-1000}
CTRL32_CYCLES=${BENCH_CTRL32_CYCLES:-5000}
MEM_CALLS=${BENCH_MEM_CALLS:-2000}
XC_CALLS=${BENCH_XC_CALLS:-40}
XC_RAMP_STEP=${BENCH_XC_RAMP_STEP:-10}
XC_RAMP_MAX=${BENCH_XC_RAMP_MAX:-300}
XC_RAMP_DURATION=${BENCH_XC_RAMP_DURATION:-6}
XC_DURATION=${BENCH_XC_DURATION:-20}
CHURN_RATE=${BENCH_CHURN_RATE:-2000}
CHURN_ALIVE=${BENCH_CHURN_ALIVE:-100}
CHURN_DURATION=${BENCH_CHURN_DURATION:-60}
REC_CALLS=${BENCH_REC_CALLS:-200}
REC_DURATION=${BENCH_REC_DURATION:-20}
SRTP_CALLS=${BENCH_SRTP_CALLS:-200}
SRTP_DURATION=${BENCH_SRTP_DURATION:-20}
TESTS=${BENCH_TESTS:-mem plain ctrl1 ctrl32 ramp transcode xramp churn rec-off rec-on srtp srtp-gcm srtp2 xc-amrwb xc-gsm ctrl-redis mem-redis}
REDIS_PORT=${BENCH_REDIS_PORT:-16379}
export BENCH_TESTS="$TESTS"
NG_PORT=${BENCH_NG_PORT:-2290}
PORT_MIN=${BENCH_PORT_MIN:-30000}
PORT_MAX=${BENCH_PORT_MAX:-41999}
GEN_BASE=${BENCH_GEN_PORT_BASE:-10000}
RELAY_CPU=${BENCH_RELAY_CPU:-1}
GEN_CPU=${BENCH_GEN_CPU:-0}
OUT=${BENCH_OUT:-$BUILD/bench/$(date +%Y%m%d-%H%M%S)}

die() { echo "run-bench: $*" >&2; exit 2; }

[ "$NG_PORT" != 2223 ] || die "BENCH_NG_PORT must not be 2223 (the production NG port)"
[ -x "$BENCH" ] && [ -x "$NGCLI" ] || die "build first (make): $BENCH, $NGCLI"
if [ "$(nproc)" -lt 2 ]; then
	echo "run-bench: WARNING: one CPU only; relay and generator share it" >&2
	RELAY_CPU=0 GEN_CPU=0
fi
mkdir -p "$OUT" || die "cannot create $OUT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

relay_pid=""
stop_relay() {
	[ -n "$relay_pid" ] || return 0
	kill -TERM "$relay_pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
	relay_pid=""
}
redis_pid=""
stop_redis() {
	[ -n "$redis_pid" ] || return 0
	kill -TERM "$redis_pid" 2>/dev/null
	wait "$redis_pid" 2>/dev/null
	redis_pid=""
}
# A redis-server of the run's own, for the *-redis tests.
start_redis() {
	[ -z "$redis_pid" ] || return 0
	command -v redis-server >/dev/null || die "the *-redis tests need redis-server"
	redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && die "something answers on port $REDIS_PORT"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
		>"$OUT/redis.log" 2>&1 &
	redis_pid=$!
	for _ in $(seq 50); do
		redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "redis-server did not come up"
}
trap 'stop_relay; stop_redis' EXIT
trap 'exit 130' INT TERM

# start_relay NAME LOG [OPTION...]: pinned, fresh, answering ping; the options are added
start_relay() {
	local common=(--config-file=none --foreground --interface=127.0.0.1
		      --listen-ng=127.0.0.1:$NG_PORT --port-min=$PORT_MIN --port-max=$PORT_MAX
		      --num-threads=1 --log-level=4 --delete-delay=0 "${@:3}")
	if "$NGCLI" --server 127.0.0.1:$NG_PORT --timeout 200 ping >/dev/null 2>&1; then
		die "something already answers NG on 127.0.0.1:$NG_PORT"
	fi
	case "$1" in
	sluiced)   taskset -c "$RELAY_CPU" "$SLUICED" "${common[@]}" --log-stderr >"$2" 2>&1 & ;;
	# the two userspace I/O paths (issue 16), named explicitly: side by side in one run
	sluiced-uring) taskset -c "$RELAY_CPU" "$SLUICED" "${common[@]}" --io-uring \
			--log-stderr >"$2" 2>&1 & ;;
	sluiced-mmsg) taskset -c "$RELAY_CPU" "$SLUICED" "${common[@]}" --no-io-uring \
			--log-stderr >"$2" 2>&1 & ;;
	rtpengine) taskset -c "$RELAY_CPU" "$RTPENGINE" "${common[@]}" --table=-1 \
			--log-stderr >"$2" 2>&1 & ;;
	*) die "unknown relay $1" ;;
	esac
	relay_pid=$!
	for _ in $(seq 100); do
		"$NGCLI" --server 127.0.0.1:$NG_PORT --timeout 100 ping >/dev/null 2>&1 && return 0
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$2" >&2
	die "$1 did not come up"
}

# the recording folder of rec-on (both relays' pcap method: DIR/pcaps, DIR/metadata)
rec_dir() { echo "$OUT/rec-$1"; }

# relay_args RELAY TEST: relay options a test needs
relay_args() {
	case "$2" in
	rec-on) echo --recording-method=pcap --recording-dir="$(rec_dir "$1")" ;;
	*-redis) echo --redis=127.0.0.1:"$REDIS_PORT"/0 ;;
	esac
}

# run_test RELAY TEST sluice-bench-args...: fresh relay, JSON into $OUT/RELAY-TEST.json
run_test() {
	local relay=$1 test=$2 rc
	shift 2
	case "$test" in	# empty: a relay restores nothing of the one before
	*-redis) start_redis; redis-cli -p "$REDIS_PORT" flushall >/dev/null ;;
	esac
	# shellcheck disable=SC2046 # word splitting of the option list is intended
	start_relay "$relay" "$OUT/$relay-$test.log" $(relay_args "$relay" "$test")
	echo "--- $relay $test: sluice-bench $*" >&2
	taskset -c "$GEN_CPU" "$BENCH" "$@" --ng 127.0.0.1:$NG_PORT --pid "$relay_pid" \
		--port-base "$GEN_BASE" --json >"$OUT/$relay-$test.json" 2>"$OUT/$relay-$test.err"
	rc=$?
	grep -v '^$' "$OUT/$relay-$test.err" >&2
	[ $rc -eq 0 ] || echo "run-bench: $relay $test: sluice-bench exited $rc (invalid run)" >&2
	case "$test" in	# the write queue's peak (sluiced), after the calls
	*-redis) "$NGCLI" --server 127.0.0.1:$NG_PORT --compact statistics \
			>"$OUT/$relay-$test.stats.json" 2>/dev/null ;;
	esac
	stop_relay
	if [ "$test" = rec-on ]; then	# what the recording left, then free the disk
		{ du -sb "$(rec_dir "$relay")"; ls "$(rec_dir "$relay")"/pcaps | wc -l; } \
			>"$OUT/$relay-$test.files" 2>&1
		rm -rf "$(rec_dir "$relay")"
	fi
}

{
	echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "sluiced: $(git rev-parse --short HEAD 2>/dev/null)  rtpengine: $(dpkg-query -W -f='${Version}' rtpengine-daemon 2>/dev/null)"
	echo "relay on CPU $RELAY_CPU, generator on CPU $GEN_CPU; output in $OUT"
	# No relay's latency tail can be shorter than the time its CPU is taken away.
	echo "relay CPU before: $(taskset -c "$RELAY_CPU" "$BUILD/sluice-stall" 5)"
} | tee "$OUT/machine.txt" >&2

# test_args NAME RELAY -> sluice-bench arguments
test_args() {
	case "$1" in
	mem|mem-redis) echo plain --calls "$MEM_CALLS" --duration 0 ;;
	plain)     echo plain --calls "$CALLS" --warmup "$WARMUP" --duration "$DURATION" ;;
	# other load shapes at about the same packet rate: few calls at a high rate per stream,
	# many calls at a low one (not in the default list)
	plain-hi)  echo plain --calls 25 --pps 1000 --warmup "$WARMUP" --duration "$DURATION" ;;
	plain-lo)  echo plain --calls 2000 --pps 10 --warmup "$WARMUP" --duration "$DURATION" ;;
	ctrl1)     echo ctrl --inflight 1 --cycles "$CTRL1_CYCLES" ;;
	ctrl32|ctrl-redis) echo ctrl --inflight 32 --cycles "$CTRL32_CYCLES" ;;
	ramp)      echo ramp --step "$RAMP_STEP" --max-calls "$RAMP_MAX" --warmup "$RAMP_WARMUP" \
			--duration "$RAMP_DURATION" ;;
	transcode) echo transcode --calls "$XC_CALLS" --warmup "$WARMUP" --duration "$XC_DURATION" ;;
	xc-amrwb)  echo transcode --codec AMR-WB --calls "$XC_CALLS" --warmup "$WARMUP" \
			--duration "$XC_DURATION" ;;
	xc-gsm)    echo transcode --codec GSM --calls "$XC_CALLS" --warmup "$WARMUP" \
			--duration "$XC_DURATION" ;;
	xramp)     echo ramp --transcode --step "$XC_RAMP_STEP" --max-calls "$XC_RAMP_MAX" \
			--warmup "$RAMP_WARMUP" --duration "$XC_RAMP_DURATION" ;;
	churn)     echo churn --rate "$CHURN_RATE" --alive "$CHURN_ALIVE" --duration "$CHURN_DURATION" ;;
	rec-off)   echo plain --calls "$REC_CALLS" --warmup "$WARMUP" --duration "$REC_DURATION" ;;
	rec-on)    echo plain --calls "$REC_CALLS" --warmup "$WARMUP" --duration "$REC_DURATION" \
			--record --watch-dir "$(rec_dir "$2")" ;;
	srtp)      echo srtp --srtp AES_CM_128_HMAC_SHA1_80 --calls "$SRTP_CALLS" --warmup "$WARMUP" \
			--duration "$SRTP_DURATION" ;;
	srtp-gcm)  echo srtp --srtp AEAD_AES_128_GCM --calls "$SRTP_CALLS" --warmup "$WARMUP" \
			--duration "$SRTP_DURATION" ;;
	srtp2)     echo srtp --srtp AES_CM_128_HMAC_SHA1_80 --srtp-b AEAD_AES_128_GCM \
			--calls "$SRTP_CALLS" --warmup "$WARMUP" --duration "$SRTP_DURATION" ;;
	*)         die "unknown test $1" ;;
	esac
}

if [ "${BENCH_INTERLEAVE:-0}" = 1 ]; then
	for t in $TESTS; do
		for r in $RELAYS; do
			# shellcheck disable=SC2046 # word splitting of the argument list is intended
			run_test "$r" "$t" $(test_args "$t" "$r")
		done
	done
else
	for r in $RELAYS; do
		for t in $TESTS; do
			# shellcheck disable=SC2046 # word splitting of the argument list is intended
			run_test "$r" "$t" $(test_args "$t" "$r")
		done
	done
fi
{
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "relay CPU after: $(taskset -c "$RELAY_CPU" "$BUILD/sluice-stall" 5)"
} | tee -a "$OUT/machine.txt" >&2

/usr/bin/python3 utils/bench/summary.py "$OUT" $RELAYS | tee "$OUT/summary.txt"
