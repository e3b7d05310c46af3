#!/usr/bin/env bash
# Kernel tests in one qemu (TCG) boot: builds the module against Debian's 6.1 headers,
# packs an initramfs (static busybox + the 9p modules), boots the 6.1 kernel with the
# host root shared read-only over 9p and $OUT read-write, and runs t/kernel/guest.sh
# there (chrooted into the host root). Prints the guest's summary line
# "kernel-tests: N passed, N failed"; per-scenario lines land in $OUT/results.txt.
#   env: BUILD (build), SLUICE_KV (kernel release; default newest 6.1 generic -amd64),
#        VM_TIMEOUT (seconds, 600), SLUICE_KMOD_SRC (module sources, kernel-module/;
#        lets a mutated copy prove that the scenarios catch breakage),
#        SLUICE_VM_MODE (test; bench = the CPU-per-packet measurement of
#        t/kernel/bench_guest.py instead, into $OUT/bench.txt; srtp, daemon = only the
#        SRTP scenarios, only daemon_tests.py's, for quick iteration),
#        SLUICE_BENCH_BASE (bench: a git ref, e.g. main; its sluiced and module, built
#        from `git archive` into $OUT/base, are measured in the same boot, in rounds
#        alternating with this tree's: before/after figures for a change),
#        SLUICE_VM_APPEND (extra kernel command line words, e.g. tsc=reliable),
#        SLUICE_RTPE_KMOD_SRC (bench: rtpengine's module source; default
#        /usr/src/rtpengine-*, else rtpengine-kernel-dkms of the installed
#        rtpengine-daemon's version, fetched with apt-get download into $BUILD),
#        SLUICE_KTEST_DAEMON_ARGS (options added to every sluiced the daemon scenarios
#        start, e.g. --no-io-uring: the scenarios on the other media I/O path)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
ktest="$top/$BUILD/t/sluice-ktest"

KV=${SLUICE_KV:-$(ls -d /lib/modules/6.1.*-amd64 2>/dev/null | sed 's,.*/,,' |
	grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -n 1)}
[ -n "$KV" ] || { echo "run-vm: no /lib/modules/6.1.*-amd64 (install linux-image-amd64)" >&2; exit 1; }
for f in "/boot/vmlinuz-$KV" "/lib/modules/$KV/build/Makefile" /bin/busybox; do
	[ -e "$f" ] || { echo "run-vm: missing $f (utils/install-deps.sh kernel)" >&2; exit 1; }
done
[ -x "$ktest" ] || make -C "$top" -s "$BUILD/t/sluice-ktest" >/dev/null
# the daemon scenarios run $BUILD/sluiced (dynamically linked: the guest uses the host root)
[ -x "$top/$BUILD/sluiced" ] || make -C "$top" -s "$BUILD/sluiced" >/dev/null
mode=${SLUICE_VM_MODE:-test}
out="$top/$BUILD/kernel-vm"
[ "$mode" != bench ] || out="$top/$BUILD/kernel-bench"
[ "$mode" != bench ] || [ -x "$top/$BUILD/sluice-bench" ] || make -C "$top" -s "$BUILD/sluice-bench" >/dev/null

rm -rf "$out"
mkdir -p "$out/mod/include" "$out/initramfs"

# 1. the module, built from a copy so the source tree stays clean
src=${SLUICE_KMOD_SRC:-$top/kernel-module}
cp -r "$src"/{*.c,*.h,Kbuild,Makefile,compat} "$out/mod/"
cp -r "$top/include/sluice" "$out/mod/include/"
if ! make -C "$out/mod" KERNELRELEASE="$KV" W=1 >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "kernel-tests: 0 passed, 1 failed" | tee "$out/summary.txt"
	echo "FAIL module_build: see $out/build.log" >"$out/results.txt"
	exit 1
fi
cp "$ktest" "$out/sluice-ktest"
# BENCH_* settings (and SLUICE_KTEST_DAEMON_ARGS) reach the guest through the shared directory
# (quoted: the guest sources it, and BENCH_RELAYS holds several words)
env | grep -E '^(BENCH_[A-Z_]*|SLUICE_KTEST_DAEMON_ARGS)=' | sed "s/'/'\\\\''/g; s/=\(.*\)/='\1'/" >"$out/bench.env" || true
if [ "$mode" = bench ]; then	# the quality measurement's own cost (t/kernel/qcost)
	mkdir -p "$out/qcost"
	cp "$top"/t/kernel/qcost/{*.c,Kbuild} "$out/qcost/"
	make -C "/lib/modules/$KV/build" M="$out/qcost" SLUICE_KMOD="$out/mod" modules \
		>"$out/qcost/build.log" 2>&1 || { cat "$out/qcost/build.log" >&2; exit 1; }
fi
# rtpengine's kernel module (rtpengine-kernel-dkms's source, or SLUICE_RTPE_KMOD_SRC), for
# bench_guest.py's rtpengine-kernel relays; absent: those relays report it and fail.
# Its firewall rule needs the iptables extension of rtpengine-iptables.
rtpe_src=${SLUICE_RTPE_KMOD_SRC:-$(ls -d /usr/src/rtpengine-* 2>/dev/null | sort -V | tail -n 1 || true)}
if [ "$mode" = bench ] && [ -z "$rtpe_src" ]; then
	# not installed (its DKMS would build for the host's kernel): the package of the
	# installed daemon's version (their ABI must match), unpacked once into $BUILD
	rtpe_ver=$(dpkg-query -W -f='${Version}' rtpengine-daemon 2>/dev/null || true)
	rtpe_dl="$top/$BUILD/rtpe-kmod-src"
	if [ -n "$rtpe_ver" ] && [ ! -d "$rtpe_dl/x/usr/src" ]; then
		rm -rf "$rtpe_dl" && mkdir -p "$rtpe_dl/x"
		(cd "$rtpe_dl" && apt-get download -q "rtpengine-kernel-dkms=$rtpe_ver" >/dev/null 2>&1 &&
			dpkg-deb -x rtpengine-kernel-dkms_*.deb x) ||
			echo "run-vm: apt-get download rtpengine-kernel-dkms=$rtpe_ver failed" >&2
	fi
	rtpe_src=$(ls -d "$rtpe_dl"/x/usr/src/rtpengine-* 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ "$mode" = bench ] && [ -n "$rtpe_src" ] && [ -e "$rtpe_src/xt_RTPENGINE.c" ]; then
	mkdir -p "$out/rtpe"
	cp -r "$rtpe_src"/. "$out/rtpe/"
	make -C "$out/rtpe" KSRC="/lib/modules/$KV/build" RTPENGINE_VERSION=debian modules \
		>"$out/rtpe/build.log" 2>&1 ||
		echo "run-vm: rtpengine's module does not build (see $out/rtpe/build.log)" >&2
fi
if [ "$mode" = bench ] && [ -n "${SLUICE_BENCH_BASE:-}" ]; then
	base="$out/base"
	mkdir -p "$base/src" "$base/mod/include"
	git -C "$top" archive "$SLUICE_BENCH_BASE" | tar -x -C "$base/src"
	cp -r "$base/src/kernel-module"/{*.c,*.h,Kbuild,Makefile,compat} "$base/mod/"
	cp -r "$base/src/include/sluice" "$base/mod/include/"
	if ! make -C "$base/src" -s -j2 build/sluiced >"$base/build.log" 2>&1 ||
	   ! make -C "$base/mod" KERNELRELEASE="$KV" >>"$base/build.log" 2>&1; then
		tail -n 20 "$base/build.log" >&2
		echo "run-vm: the base $SLUICE_BENCH_BASE does not build (see $base/build.log)" >&2
		exit 1
	fi
	printf 'BENCH_BASE_DIR=%s\nBENCH_BASE_REF="%s"\n' "$base" \
		"$SLUICE_BENCH_BASE ($(git -C "$top" rev-parse --short "$SLUICE_BENCH_BASE"))" >>"$out/bench.env"
fi

# 2. initramfs: busybox, the modules needed to reach the host root, /init
ir="$out/initramfs"
mkdir -p "$ir"/{bin,dev,proc,sys,host,lib/modules}
cp /bin/busybox "$ir/bin/busybox"
: >"$ir/modules.order"
for m in virtio_pci 9pnet_virtio 9p; do
	modprobe -S "$KV" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$ir/lib/modules/"
	basename "$ko" >>"$ir/modules.order"
done
cp "$top/t/kernel/guest-init" "$ir/init"
chmod +x "$ir/init"
printf '#!/bin/sh\nexec /bin/busybox chroot /host /sbin/modprobe "$@"\n' >"$ir/modprobe-host"
chmod +x "$ir/modprobe-host"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"

# 3. boot. The guest powers off when done; panic=-1 + -no-reboot end qemu on a panic.
# Tests run with SLUB debugging on the kmalloc caches (the module's objects live there):
# red zones and poisoning turn an overflow or a use after free into a "BUG kmalloc-N"
# in dmesg, and allocation traces let kabuse.c count the module's live objects exactly.
debug_append="slub_debug=FZPU,kmalloc-*"
[ "$mode" != bench ] || debug_append=""
set +e
timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg,thread=multi -m 1024 -smp 2 \
	-nographic -no-reboot -nic none \
	-kernel "/boot/vmlinuz-$KV" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet sluice_out=$out sluice_top=$top sluice_mode=$mode $debug_append ${SLUICE_VM_APPEND:-}" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$out,mount_tag=out,security_model=none" \
	</dev/null >"$out/console.log" 2>&1
rc=$?
set -e
if [ ! -s "$out/summary.txt" ]; then
	tail -n 40 "$out/console.log" >&2
	echo "run-vm: guest produced no summary (qemu exit $rc)" >&2
	echo "kernel-tests: 0 passed, 1 failed"
	echo "FAIL vm_boot: no summary, qemu exit $rc" >>"$out/results.txt"
	exit 1
fi
cat "$out/summary.txt"
grep -q ' 0 failed' "$out/summary.txt"
