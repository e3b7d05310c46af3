#!/usr/bin/env bash
# make test-install: the packages on a Debian 12 guest booted with systemd (qemu TCG).
# The guest's root is an overlay: the host's Debian 12 root (9p, read-only) below, an ext4
# disk image above (build/install-vm/disk.img, made fresh each run, kept across the
# guest's reboot). Two boots of that disk run t/install/guest.sh (phase 1: install,
# start, call, restart, call, reboot; phase 2: back after the reboot, call, remove,
# purge). Prints "install-tests: N passed, N failed"; step lines with their seconds land in
# $OUT/results.txt, the guest's log in $OUT/guest.log, consoles in $OUT/console-N.log.
#
# Where the packages are installed (SLUICE_INSTALL_STAGE):
#   host  (default) `apt-get install ./*.deb` runs on the build host in a chroot of the
#         same overlay (lower: the host root, upper: the guest disk's upper directory), so
#         dpkg and the DKMS build of the module for the guest kernel run at native speed;
#         the guest then boots that result: everything from `systemctl start` on runs
#         in the guest. Under TCG the DKMS build alone takes minutes in the guest.
#   guest the same command in the guest, after its first boot (the complete path, slow).
#   env: BUILD (build), SLUICE_DEBS (a directory with the .deb files; default: make deb),
#        SLUICE_KV (guest kernel; default newest 6.1 generic -amd64), VM_TIMEOUT (s per
#        boot, 600), SLUICE_VM_VERBOSE (kernel/systemd console options instead of quiet)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
out="$top/$BUILD/install-vm"
t_start=$SECONDS
KV=${SLUICE_KV:-$(ls -d /lib/modules/6.1.*-amd64 2>/dev/null | sed 's,.*/,,' |
	grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | sort -V | tail -n 1)}
[ -n "$KV" ] || { echo "install-vm: no /lib/modules/6.1.*-amd64 (install linux-image-amd64)" >&2; exit 1; }
for f in "/boot/vmlinuz-$KV" "/lib/modules/$KV/build/Makefile" /bin/busybox /usr/sbin/dkms \
	/sbin/mkfs.ext4; do
	[ -e "$f" ] || { echo "install-vm: missing $f (utils/install-deps.sh kernel)" >&2; exit 1; }
done

debs=${SLUICE_DEBS:-}
if [ -z "$debs" ]; then
	make -C "$top" -s deb >"$top/$BUILD/install-deb.log" 2>&1 ||
		{ tail -n 30 "$top/$BUILD/install-deb.log" >&2; echo "install-vm: make deb failed" >&2; exit 1; }
	debs="$top/build/deb"
fi
t_debs=$SECONDS
stage=${SLUICE_INSTALL_STAGE:-host}
root="$out/root"
undo_chroot() { # everything mounted for the host stage, innermost first
	local m
	for m in dev/pts dev tmp run proc; do ! mountpoint -q "$root/$m" || umount "$root/$m"; done
	! mountpoint -q "$root" || umount "$root"
}
undo_chroot 2>/dev/null || true
rm -rf --one-file-system "$out"
mkdir -p "$out/initramfs" "$out/disk/upper/opt/sluice-install-test/debs" "$out/disk/work" \
	"$out/disk/upper/etc/systemd/system"

# 1. the disk: the overlay's upper layer, holding only this test's driver and the packages
d="$out/disk/upper/opt/sluice-install-test"
cp "$top"/t/install/{guest.sh,call.py} "$d/"
for p in sluice-daemon sluice-utils sluice-kernel-dkms; do
	cp "$debs"/${p}_*.deb "$d/debs/"
done
cp "$top/t/install/sluice-install-test.service" "$out/disk/upper/etc/systemd/system/"
mkdir -p "$out/disk/upper/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/sluice-install-test.service \
	"$out/disk/upper/etc/systemd/system/multi-user.target.wants/"
# The build host is a container (/.dockerenv): hidden from the guest by a whiteout, or its
# systemd would believe it runs in docker and ignore the kernel command line.
[ ! -e /.dockerenv ] || mknod "$out/disk/upper/.dockerenv" c 0 0
echo "$stage" >"$d/stage"
t_stage=$SECONDS
if [ "$stage" = host ]; then
	# the host has the guest's kernel headers for every flavour; a fresh host has its own
	# flavour's only (DKMS in a chroot builds for every kernel with headers)
	mkdir -p "$root"
	trap undo_chroot EXIT
	mount -t overlay -o "lowerdir=/,upperdir=$out/disk/upper,workdir=$out/disk/work" \
		sluice-install "$root"
	mount -t proc proc "$root/proc"
	mount -t tmpfs -o mode=1777 tmp "$root/tmp"
	mount -t tmpfs run "$root/run"
	mount -t tmpfs -o mode=755 dev "$root/dev"	# not a bind: nothing of the host's /dev
	for n in null:1:3 zero:1:5 random:1:8 urandom:1:9; do
		IFS=: read -r name ma mi <<<"$n"
		mknod -m 666 "$root/dev/$name" c "$ma" "$mi"
	done
	ln -s /proc/self/fd "$root/dev/fd"	# bash process substitution (dkms)
	mkdir "$root/dev/pts" && mount -t devpts -o newinstance,ptmxmode=666 devpts "$root/dev/pts" &&
		ln -s pts/ptmx "$root/dev/ptmx"
	if ! chroot "$root" /bin/sh -c "rm -f /usr/sbin/policy-rc.d /var/lib/man-db/auto-update &&
		rm -rf /lib/modules/*-cloud-amd64 /lib/modules/*-rt-amd64 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			/opt/sluice-install-test/debs/*.deb" >"$out/host-install.log" 2>&1; then
		tail -n 30 "$out/host-install.log" >&2
		echo "install-vm: apt-get install in the host chroot failed" >&2
	fi
	undo_chroot
	trap - EXIT
	rm -rf "$out/disk/work"/* 2>/dev/null || true
fi
echo "install ($stage stage): $((SECONDS - t_stage)) s" >>"$out/timings-pre.txt"
# The guest's kernel modules and dpkg database also on its disk (the same files as the
# host's; what the install changed wins): depmod and dpkg read all of them, minutes over
# 9p under TCG, seconds from a virtio disk, like any VM's root.
t_copy=$SECONDS
mods=$(readlink -f /lib/modules)	# /usr/lib/modules: /lib is a symlink (merged /usr)
mkdir -p "$out/disk/upper$mods" "$out/disk/upper/var/lib"
cp -a -n "$mods/$KV" "$out/disk/upper$mods/"
cp -a -n /var/lib/dpkg "$out/disk/upper/var/lib/"
echo "copy of modules and dpkg database: $((SECONDS - t_copy)) s" >>"$out/timings-pre.txt"
truncate -s 4G "$out/disk.img"
mkfs.ext4 -q -F -E root_owner=0:0 -d "$out/disk" "$out/disk.img"
rm -rf "$out/disk"

# 2. initramfs: busybox, the modules that reach the root (9p, virtio disk, ext4, overlay)
ir="$out/initramfs"
mkdir -p "$ir"/{bin,dev,proc,sys,lib/modules}
cp /bin/busybox "$ir/bin/busybox"
: >"$ir/modules.order"
for m in virtio_pci 9pnet_virtio 9p virtio_blk ext4 overlay; do
	modprobe -S "$KV" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	cp "$ko" "$ir/lib/modules/"
	basename "$ko" >>"$ir/modules.order"
done
cp "$top/t/install/initramfs-init" "$ir/init"
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.cpio.gz"

# 3. two boots of the disk. The build host's own services (a database, prometheus, its
# timers) are not part of a fresh Debian: masked on the command line, so is time sync
# (the guest has no network).
masks=""
for u in postgresql prometheus redis-server e2scrub_reap systemd-timesyncd apt-daily.timer \
	apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer; do
	masks+=" systemd.mask=$u"
done
boot() { # N: one qemu run until the guest powers off or reboots (-no-reboot)
	local t0=$SECONDS rc
	set +e
	timeout "${VM_TIMEOUT:-600}" qemu-system-x86_64 -accel tcg,thread=multi -m 1536 -smp 2 \
		-nographic -no-reboot -nic none \
		-kernel "/boot/vmlinuz-$KV" -initrd "$out/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 ${SLUICE_VM_VERBOSE:-quiet systemd.show_status=error} systemd.unit=multi-user.target$masks" \
		-drive "file=$out/disk.img,if=virtio,format=raw,cache=unsafe" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$out,mount_tag=out,security_model=none" \
		</dev/null >"$out/console-$1.log" 2>&1
	rc=$?
	set -e
	echo "boot $1: $((SECONDS - t0)) s (qemu exit $rc)" | tee -a "$out/timings.txt"
}
{ echo "debs: $((t_debs - t_start)) s"; cat "$out/timings-pre.txt"; } >"$out/timings.txt"
boot 1
grep -q 'phase 1 done' "$out/guest.log" 2>/dev/null && boot 2
echo "total: $((SECONDS - t_start)) s" >>"$out/timings.txt"
if [ ! -s "$out/summary.txt" ]; then
	tail -n 30 "$out/console-1.log" "$out/console-2.log" 2>/dev/null >&2
	cat "$out/results.txt" >&2 2>/dev/null
	echo "install-vm: the guest produced no summary (logs in $out)" >&2
	echo "install-tests: 0 passed, 1 failed"
	exit 1
fi
cat "$out/summary.txt"
grep -q ' 0 failed' "$out/summary.txt"
