#!/bin/bash
# Runs inside the test VM, chrooted into the host root (see run-vm.sh): builds the
# namespaces, runs the daemon's fallback scenarios, loads the module, runs sluice-ktest,
# the daemon scenarios (daemon_tests.py) and the load/unload scenarios, and writes
# results.txt (PASS/FAIL per scenario) and summary.txt into $1. $2 = bench: the
# CPU-per-packet measurement (bench_guest.py) instead.
#
#    netns a                  relay (root netns)                 netns b
#   +-----------+   veth   +----------------------+   veth   +-----------+
#   | a0        |----------| ra            rb     |----------| b0        |
#   | 10.0.1.2  |          | 10.0.1.1   10.0.2.1  |          | 10.0.2.2  |
#   | 10.0.1.66 |          |                      |          |           |
#   | fd01::2   |          | fd01::1    fd02::1   |          | fd02::2   |
#   +-----------+          +----------------------+          +-----------+
#   (10.0.1.66: a stranger on the caller's network, daemon_tests.py)
#   netns k: loopback only, the control-file abuse (sluice-ktest control-abuse)
set -u
out=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
res="$out/results.txt"
ktest="$out/sluice-ktest"
: >"$res"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
pass() { echo "PASS $1" >>"$res"; echo "PASS $1"; }
fail() { echo "FAIL $1: $2" >>"$res"; echo "FAIL $1: $2"; }
check() { # name description command...
	local name=$1 what=$2
	shift 2
	if "$@" >>"$out/guest.log" 2>&1; then pass "$name"; else fail "$name" "$what"; fi
}
dmesg -n 1

modprobe nf_tables && modprobe veth
# BENCH_* and SLUICE_KTEST_DAEMON_ARGS (daemon_tests.py) from the host (run-vm.sh)
set -a; . "$out/bench.env"; set +a

if [ "${2:-test}" = bench ]; then	# make bench-kernel: measurements only
	ip link set lo up
	check module_load "insmod sluice.ko" insmod "$out/mod/sluice.ko"
	# the quality measurement alone, in a loop (qcost.c: its init prints, then fails)
	insmod "$out/qcost/qcost.ko" 2>/dev/null
	dmesg | grep 'sluice-qcost:' >"$out/qcost.txt"
	check bench "bench_guest.py failed (see bench.txt, guest.log)" \
		python3 "$top/t/kernel/bench_guest.py" "$out"
	cat "$out/bench.txt" 2>/dev/null
	p=$(grep -c '^PASS ' "$res")
	f=$(grep -c '^FAIL ' "$res")
	echo "kernel-bench: $p passed, $f failed" | tee "$out/summary.txt"
	exit 0
fi

topo() {
	ip link set lo up
	for side in a:1 b:2; do
		ns=${side%:*} n=${side#*:}
		ip netns add "$ns"
		ip link add "r$ns" type veth peer name "${ns}0" netns "$ns"
		ip addr add "10.0.$n.1/24" dev "r$ns"
		ip addr add "fd0$n::1/64" dev "r$ns" nodad
		ip link set "r$ns" up
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "10.0.$n.2/24" dev "${ns}0"
		ip -n "$ns" addr add "fd0$n::2/64" dev "${ns}0" nodad
		ip -n "$ns" link set "${ns}0" up
		# the daemon scenarios' relay has one media address (10.0.1.1)
		ip -n "$ns" route add default via "10.0.$n.1"
	done
	ip -n a addr add 10.0.1.66/24 dev a0
}
check topology "netns/veth setup" topo

# SLUICE_VM_MODE=srtp: the module's SRTP scenarios and the control abuse only (quick
# iteration on kernel-module/srtp.c; the full run includes them)
if [ "${2:-test}" = srtp ]; then
	check module_load "insmod sluice.ko" insmod "$out/mod/sluice.ko"
	"$ktest" "$res" srtp 2>&1 | tee -a "$out/guest.log"
	SLUICED="$(dirname "$out")/sluiced" python3 "$top/t/kernel/daemon_srtp.py" "$res" "$out" srtp 2>&1 | tee -a "$out/guest.log"
	ip netns add k && ip -n k link set lo up &&
		nsenter --net=/run/netns/k "$ktest" "$res" control-abuse 2>&1 | tee -a "$out/guest.log"
	check unload "rmmod sluice" rmmod sluice
	dmesg >"$out/dmesg.txt"
	if grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection' "$out/dmesg.txt" >"$out/dmesg-bad.txt"; then
		fail dmesg_clean "$(head -n 3 "$out/dmesg-bad.txt" | tr '\n' ' ')"
	else
		pass dmesg_clean
	fi
	echo "kernel-tests: $(grep -c '^PASS ' "$res") passed, $(grep -c '^FAIL ' "$res") failed" | tee "$out/summary.txt"
	exit 0
fi

# the real daemon (daemon_tests.py): without the module first, then with it
dtest() { SLUICED="$(dirname "$out")/sluiced" python3 "$top/t/kernel/daemon_tests.py" "$res" "$out" "$1" 2>&1 | tee -a "$out/guest.log"; }
dtest fallback

# SLUICE_VM_MODE=daemon: the daemon scenarios of daemon_tests.py only (quick iteration
# on the daemon's media path; the full run includes them)
if [ "${2:-test}" = daemon ]; then
	check module_load "insmod sluice.ko" insmod "$out/mod/sluice.ko"
	dtest main
	echo "kernel-tests: $(grep -c '^PASS ' "$res") passed, $(grep -c '^FAIL ' "$res") failed" | tee "$out/summary.txt"
	exit 0
fi

check module_load "insmod sluice.ko" insmod "$out/mod/sluice.ko"
check proc_interface "/proc/net/sluice/control missing" test -e /proc/net/sluice/control

"$ktest" "$res" all 2>&1 | tee -a "$out/guest.log"
# SRTP in the module (ksrtp.c): both directions, all four suites, tamper/replay/ROC/rekey
"$ktest" "$res" srtp 2>&1 | tee -a "$out/guest.log"

# every control file against abuse, in a namespace whose instances the test knows
# (kabuse.c reports control_abuse_*); then nothing new in dmesg
abuse() {
	local before
	before=$(dmesg | wc -l)
	ip netns add k && ip -n k link set lo up &&
		nsenter --net=/run/netns/k "$ktest" "$res" control-abuse
	ip netns del k
	sleep 1
	dmesg | tail -n +$((before + 1)) >"$out/dmesg-abuse.txt"
	! grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection|Bad page' "$out/dmesg-abuse.txt"
}
check control_abuse_dmesg_clean "oops/warning in dmesg during the abuse (dmesg-abuse.txt)" abuse
nft list ruleset >"$out/nft-ruleset.txt" 2>&1
cat /proc/net/sluice/2/list >"$out/list-2.txt" 2>&1
dtest main
# recording a kernel-eligible call (daemon_rec.py, issue 12)
SLUICED="$(dirname "$out")/sluiced" python3 "$top/t/kernel/daemon_rec.py" "$res" "$out" rec 2>&1 | tee -a "$out/guest.log"
# SRTP streams forwarded by the module (daemon_srtp.py, issue 16)
SLUICED="$(dirname "$out")/sluiced" python3 "$top/t/kernel/daemon_srtp.py" "$res" "$out" srtp 2>&1 | tee -a "$out/guest.log"
# quality of kernel-forwarded streams (daemon_quality.py, issue 14)
SLUICED="$(dirname "$out")/sluiced" python3 "$top/t/kernel/daemon_quality.py" "$res" "$out" quality 2>&1 | tee -a "$out/guest.log"
# kernel forwarding across a restart with --redis (daemon_hitless.py, issue 15)
SLUICED="$(dirname "$out")/sluiced" python3 "$top/t/kernel/daemon_hitless.py" "$res" "$out" hitless 2>&1 | tee -a "$out/guest.log"

# an instance with entries and a rule in a namespace that goes away
netns_dies() {
	ip netns add c && ip -n c link set lo up &&
	nsenter --net=/run/netns/c "$ktest" "$res.c" netns-instance &&
	test -e /proc/net/sluice/control && ip netns del c && sleep 2
}
check netns_instance_dies_with_netns "instance in a deleted netns" netns_dies

check leave_live_entries "adding entries for the unload test" "$ktest" "$res" leave-live
if rmmod sluice 2>>"$out/guest.log"; then
	fail rule_pins_module "rmmod succeeded while nft rules use the expression"
	insmod "$out/mod/sluice.ko"
else
	pass rule_pins_module
fi
check remove_rules "sluice_nft_remove" "$ktest" "$res" remove-rules
check unload_with_live_entries "rmmod with entries present" rmmod sluice
check unload_removes_proc "/proc/net/sluice still present" test ! -e /proc/net/sluice
check reload "insmod + rmmod again" sh -c "insmod '$out/mod/sluice.ko' && rmmod sluice"
insmod "$out/mod/sluice.ko" && dtest unload
rmmod sluice 2>/dev/null

dmesg >"$out/dmesg.txt"
if grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection|Bad page' "$out/dmesg.txt" >"$out/dmesg-bad.txt"; then
	fail dmesg_clean "$(head -n 3 "$out/dmesg-bad.txt" | tr '\n' ' ')"
else
	pass dmesg_clean
fi

p=$(grep -c '^PASS ' "$res")
f=$(grep -c '^FAIL ' "$res")
echo "kernel-tests: $p passed, $f failed" | tee "$out/summary.txt"
