#!/bin/bash
# The install test inside the guest (a systemd boot of a Debian 12 root; run-vm.sh). Two
# boots of one disk:
#   phase 1: apt-get install ./*.deb (DKMS builds the module for the running kernel; or
#            run-vm.sh did that on the host in a chroot of this root: $dir/stage),
#            systemctl start (packaged unit and /etc/sluice/sluice.conf), a call
#            forwarded in the kernel, systemctl restart, the call again, then reboot;
#   phase 2: the relay is back by itself after the reboot, a call in the kernel again,
#            then remove + purge leave no module, nft table, user or file behind.
# Writes PASS/FAIL lines with each step's seconds to results.txt on the host's share and,
# at the end of phase 2, "install-tests: N passed, N failed" to summary.txt.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive
dir=/opt/sluice-install-test
out=/run/sluice-install-out
mkdir -p $out
mountpoint -q $out || mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out $out
res=$out/results.txt log=$out/guest.log
phase=$(cat $dir/phase 2>/dev/null || echo 1)
exec > >(tee -a $log) 2>&1
echo "=== phase $phase, boot at $(cut -d' ' -f1 /proc/uptime) s of uptime"

pass() { echo "PASS $1 ($2 s)" | tee -a $res; }
fail() { echo "FAIL $1: $2 ($3 s)" | tee -a $res; }
step() { # name description command...: runs it, timed, one PASS/FAIL line
	local name=$1 what=$2 t0 rc
	shift 2
	echo "--- $name: $*"
	t0=$(date +%s.%N)
	"$@"
	rc=$?
	local dt
	dt=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}')
	if [ $rc -eq 0 ]; then pass "$name" "$dt"; else fail "$name" "$what" "$dt"; fi
	return $rc
}
ng() { sluice-ng --compact "$@"; }
mainpid() { systemctl show -P MainPID sluice-daemon; }

# ---- checks ----
installed() { # stage host: run-vm.sh installed them in a chroot of this root before boot
	if [ "$(cat $dir/stage)" = guest ]; then
		apt-get install -y --no-install-recommends "$dir"/debs/*.deb || return 1
	fi
	dpkg-query -W -f='${Package} ${Version} ${Status}\n' sluice-daemon sluice-utils \
		sluice-kernel-dkms | tee /dev/stderr | grep -c ' install ok installed$' | grep -qx 3 &&
	dkms status sluice | tee /dev/stderr | grep -q "$(uname -r), x86_64: installed" &&
	modinfo -F filename sluice | grep -q "/updates/dkms/sluice.ko" &&
	getent passwd sluice && test -s /etc/sluice/sluice.conf &&
	dpkg-query -W -f='${Conffiles}\n' sluice-daemon | grep -q /etc/sluice/sluice.conf
}
enabled() { # packaging choice: the install enables the unit and starts nothing; a boot
	# after the install (stage host: this one) starts it
	systemctl is-enabled sluice-daemon || return 1
	if [ "$(cat $dir/stage)" = guest ]; then
		! systemctl is-active sluice-daemon
	else
		systemctl is-active sluice-daemon && systemctl stop sluice-daemon &&
		! systemctl is-active sluice-daemon
	fi
}
up() { # the relay answers NG, runs as its user with CAP_NET_ADMIN only, kernel table 0
	local i pid caps
	for i in $(seq 100); do ng ping 2>/dev/null | grep -q pong && break; sleep 0.2; done
	ng ping | grep -q pong || return 1
	pid=$(mainpid)
	systemctl is-active sluice-daemon && [ "$pid" -gt 0 ] || return 1
	ps -o user=,comm= -p "$pid" | tee /dev/stderr | grep -q '^sluice  *sluiced' || return 1
	caps=$(awk '/^CapEff/ { print $2 }' /proc/"$pid"/status)
	echo "CapEff $caps: $(capsh --decode="$caps" 2>/dev/null)"
	[ "$caps" = 0000000000801400 ] || return 1	# NET_BIND_SERVICE NET_ADMIN SYS_NICE
	grep -q '^sluice ' /proc/modules && test -e /proc/net/sluice/0/control &&
	nft list tables | grep -qx 'table inet sluice_0'
}
call() { /usr/bin/python3 "$dir"/call.py "$1"; }
restarted() {
	local before=$1 after
	systemctl restart sluice-daemon || return 1
	up || return 1
	after=$(mainpid)
	echo "pid $before -> $after"
	[ "$after" != "$before" ]
}
removed() {
	apt-get remove -y sluice-daemon sluice-utils sluice-kernel-dkms || return 1
	! systemctl is-active sluice-daemon && ! pgrep -x sluiced &&
	! grep -q '^sluice ' /proc/modules && ! test -e /proc/net/sluice &&
	! nft list tables | grep -q sluice &&
	! find /lib/modules -name 'sluice.ko*' | grep . && ! test -e /var/lib/dkms/sluice
}
purged() {
	local left
	# what remove left in dpkg (configuration files: state rc); apt-get does not know
	# the others any more
	apt-get purge -y $(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'sluice*' 2>/dev/null |
		awk '$1 ~ /^r/ { print $2 }') || return 1
	dpkg -l 'sluice*' 2>/dev/null | grep '^[a-z][a-z] ' && return 1
	getent passwd sluice && return 1
	getent group sluice && return 1
	# every file the guest wrote is in the overlay's upper layer (the disk): none may be
	# named after sluice, but for this test's own
	# (a second mount of the disk shares the first one's superblock: same flags, rw)
	mkdir -p /run/disk && mount -t ext4 /dev/vda /run/disk || return 1
	left=$(cd /run/disk/upper && find . -iname '*sluice*' |
		grep -v -e '^./opt/sluice-install-test' -e '/sluice-install-test.service$')
	umount /run/disk
	echo "left: ${left:-nothing}"
	[ -z "$left" ] && ! test -e /etc/sluice && ! test -e /etc/default/sluice-daemon &&
	! test -e /var/lib/sluice && ! test -e /run/sluice && ! test -e /usr/src/sluice-0.1.0
}

if [ "$phase" = 1 ]; then
	# a fresh Debian host has no policy-rc.d: the package's maintainer scripts may
	# start and stop services (the build host's one says no)
	rm -f /usr/sbin/policy-rc.d
	# the build host's man page index is not what is tested: its rebuild after the
	# install (the man-db trigger, minutes over 9p) is skipped
	rm -f /var/lib/man-db/auto-update
	step install "apt-get install ./*.deb, DKMS build for $(uname -r)" installed
	step enabled "unit not enabled, started by the install or not by the boot" enabled
	step start "systemctl start: not up with kernel table 0" \
		sh -c 'systemctl start sluice-daemon && exit 0; journalctl -u sluice-daemon | tail; exit 1' &&
	step start_up "after start" up
	step call_kernel "a call after start is not forwarded in the kernel" call start
	step restart "systemctl restart" restarted "$(mainpid)"
	step call_after_restart "a call after restart is not forwarded in the kernel" call restart
	journalctl -b -u sluice-daemon --no-pager >$out/daemon-phase1.log
	echo 2 >$dir/phase
	sync
	echo "=== phase 1 done at $(cut -d' ' -f1 /proc/uptime) s; reboot"
	systemctl reboot
	exit 0
fi

step after_reboot "not back up after the reboot" up
step call_after_reboot "a call after the reboot is not forwarded in the kernel" call reboot
journalctl -b -u sluice-daemon --no-pager >$out/daemon-phase2.log
systemd-analyze blame --no-pager 2>/dev/null | head -n 12	# where the boot's time went
step remove "apt-get remove left the module, table or daemon" removed
step purge "apt-get purge left a user, group or file" purged
dmesg >$out/dmesg.txt
if grep -E 'BUG:|WARNING:|Oops|Call Trace|general protection' $out/dmesg.txt; then
	fail dmesg_clean "oops/warning in dmesg" 0
else
	pass dmesg_clean 0
fi
p=$(grep -c '^PASS ' $res)
f=$(grep -c '^FAIL ' $res)
echo "install-tests: $p passed, $f failed" | tee $out/summary.txt
echo "=== phase 2 done at $(cut -d' ' -f1 /proc/uptime) s"
sync
systemctl poweroff
