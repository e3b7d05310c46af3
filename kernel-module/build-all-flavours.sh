#!/usr/bin/env bash
# Build the module against every installed Debian 6.1 flavour (-amd64, -cloud-amd64,
# -rt-amd64; newest ABI of each) with W=1, each in its own copy of the sources.
# Prints one line per flavour; fails if a flavour is missing, a build fails, or the
# compiler or modpost prints any warning.
#   usage: kernel-module/build-all-flavours.sh [--install]   (--install: apt-get the headers)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
flavours=(amd64 cloud-amd64 rt-amd64)

if [ "${1:-}" = "--install" ]; then
	pkgs=""
	for f in "${flavours[@]}"; do pkgs="$pkgs linux-headers-$f"; done
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs >/dev/null || exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# one flavour: prints its line to $work/$f.line, returns non-zero on failure
build_one() {
	local f=$1 kv src log warn
	kv=$(ls -d /lib/modules/6.1.*-"$f"/build 2>/dev/null | sed "s,/lib/modules/,,; s,/build,," |
	     grep -E "^6\.1\.[0-9]+-[0-9]+-$f\$" | sort -V | tail -n 1)
	if [ -z "$kv" ]; then
		echo "flavour $f: FAIL (no linux-headers-6.1.*-$f installed)"
		return 1
	fi
	src="$work/$f/kernel-module"
	mkdir -p "$src/include"
	cp -r "$here"/*.c "$here"/*.h "$here"/Kbuild "$here"/Makefile "$here"/compat "$src"/
	cp -r "$top/include/sluice" "$src/include/"	# as the DKMS tree ships it
	log="$work/$f.log"
	if ! make -C "$src" KERNELRELEASE="$kv" W=1 >"$log" 2>&1; then
		echo "flavour $f ($kv): FAIL (build error)"
		grep -iE 'error|warning' "$log" | head -n 10
		return 1
	fi
	warn=$(grep -iE 'warning' "$log" | grep -v 'Skipping BTF generation')
	if [ -n "$warn" ] || [ ! -f "$src/sluice.ko" ]; then
		echo "flavour $f ($kv): FAIL (warnings)"
		echo "$warn" | head -n 10
		return 1
	fi
	echo "flavour $f ($kv): ok, no warnings ($(stat -c %s "$src/sluice.ko") bytes)"
}

for f in "${flavours[@]}"; do
	build_one "$f" >"$work/$f.line" 2>&1 &
done
fail=0
for f in "${flavours[@]}"; do
	wait -n || fail=1
done
for f in "${flavours[@]}"; do
	cat "$work/$f.line"
done
exit $fail
