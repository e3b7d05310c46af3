#!/usr/bin/env bash
# Install the Debian packages a target needs, only those missing. Idempotent.
# usage: install-deps.sh build|test|fuzz|bench|kernel
set -euo pipefail

build_pkgs="build-essential pkg-config libjson-c-dev liburing-dev libspandsp-dev libopus-dev
            libbcg729-dev libswresample-dev libavutil-dev libavformat-dev libavcodec-dev libnftnl-dev libmnl-dev libsrtp2-dev
            libssl-dev zlib1g-dev libpcap-dev libmicrohttpd-dev libhiredis-dev"
# libavcodec-extra: AMR and AMR-WB encoders (opencore-amr, vo-amrwbenc); sluiced finds
# them at run time, without it the AMR tests skip and say why
test_pkgs="libavcodec-extra libcmocka-dev python3 python3-pytest python3-pytest-xdist python3-numpy python3-pylibsrtp python3-openssl python3-cryptography kamailio baresip baresip-core
           sox tshark iproute2 nftables procps chromium chromium-driver python3-selenium
           rtpengine-daemon rtpengine-utils prometheus redis-server"
fuzz_pkgs="clang-14 libfuzzer-14-dev"
deb_pkgs="debhelper dh-dkms dpkg-dev fakeroot"
man_pkgs="help2man man-db groff-base"    # make man (the pages' test runs in make test)
bench_pkgs="libavcodec-extra rtpengine-daemon util-linux procps redis-server"   # redis: ctrl-redis, mem-redis
# kernel module tests (t/kernel): 6.1 image + headers of every flavour, qemu, initramfs tools
kernel_pkgs="qemu-system-x86 dkms e2fsprogs linux-image-amd64 linux-headers-amd64 linux-headers-cloud-amd64
             linux-headers-rt-amd64 busybox-static kmod cpio iproute2 nftables util-linux
             iptables rtpengine-iptables"   # make bench-kernel: rtpengine's RTPENGINE rule

want=""
for t in "$@"; do
	case "$t" in
	build) want="$want $build_pkgs" ;;
	test)  want="$want $build_pkgs $test_pkgs $kernel_pkgs $man_pkgs $deb_pkgs" ;;
	fuzz)  want="$want $build_pkgs $fuzz_pkgs" ;;
	deb)   want="$want $build_pkgs $deb_pkgs $man_pkgs" ;;
	bench) want="$want $build_pkgs $bench_pkgs" ;;
	kernel) want="$want $build_pkgs $kernel_pkgs" ;;
	*) echo "install-deps: unknown target '$t'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing$missing"
# Packaged daemons (rtpengine, kamailio, redis) must not start on install: our tests own the ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing >/dev/null
# Never leave a packaged relay running (it would take the NG port); tests start their
# own redis-server on a port of their own.
if command -v systemctl >/dev/null 2>&1; then
	$SUDO systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
	$SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
	$SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
exit 0
