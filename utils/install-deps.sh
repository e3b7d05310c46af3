#!/usr/bin/env bash
# Install the Debian packages a target needs, only those missing. Idempotent.
# usage: install-deps.sh build|test|fuzz|bench
set -euo pipefail

build_pkgs="build-essential pkg-config libjson-c-dev libsrtp2-dev libssl-dev zlib1g-dev"
test_pkgs="libcmocka-dev python3 python3-pytest python3-numpy kamailio baresip baresip-core
           sox tshark iproute2 procps"
fuzz_pkgs="clang-14 libfuzzer-14-dev"
bench_pkgs="rtpengine-daemon util-linux"

want=""
for t in "$@"; do
	case "$t" in
	build) want="$want $build_pkgs" ;;
	test)  want="$want $build_pkgs $test_pkgs" ;;
	fuzz)  want="$want $build_pkgs $fuzz_pkgs" ;;
	bench) want="$want $build_pkgs $bench_pkgs" ;;
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
# Packaged daemons (rtpengine, kamailio) must not start on install: our tests own the ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
# Never leave a packaged relay running on the NG port.
if command -v systemctl >/dev/null 2>&1; then
	$SUDO systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
	$SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
pkill -x rtpengine 2>/dev/null || true
exit 0
