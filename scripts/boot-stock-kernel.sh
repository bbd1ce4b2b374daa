#!/usr/bin/env bash
# Boots Debian's stock cloud kernel (linux-image-cloud-amd64, unmodified
# bzImage) under osprey with the default initramfs, and reports how far it
# got. On hardware hosts it reaches the shell in about a second; on osprey's
# software CPU (no /dev/kvm, or --accel soft) in about 40 s. On hosts
# that emulate guest kernel code (kvm_pvm) it takes many minutes and stops
# at the first user-mode system call, because an unpatched kernel cannot
# handle SYSCALL there (see docs/emulated-hosts.md).
#
#   scripts/boot-stock-kernel.sh [extra osprey run flags...]
#   OSPREY_STOCK_TIMEOUT=seconds (default 5400: an hour or more on emulated hosts)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cache=${OSPREY_CACHE:-$HOME/.cache/osprey}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download linux-image-cloud-amd64 >/dev/null 2>&1 || {
	apt-get update -qq && apt-get download linux-image-cloud-amd64 >/dev/null
})
meta=$(ls "$work"/linux-image-cloud-amd64_*.deb)
# The metapackage depends on the versioned image package.
image_pkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -1)
dest="$cache/stock-$image_pkg"
if [[ ! -f "$dest/vmlinuz" ]]; then
	(cd "$work" && apt-get download "$image_pkg" >/dev/null)
	dpkg-deb -x "$work/${image_pkg}"_*.deb "$work/x"
	mkdir -p "$dest"
	cp "$work"/x/boot/vmlinuz-* "$dest/vmlinuz"
fi
initramfs=$(scripts/build-initramfs.sh | tail -n 1)
make -s build/osprey

echo "booting $image_pkg ($dest/vmlinuz)" >&2
start=$(date +%s)
status=0
timeout --preserve-status "${OSPREY_STOCK_TIMEOUT:-5400}" build/osprey run \
	--kernel "$dest/vmlinuz" --initrd "$initramfs" --memory 512M --log-level info \
	--cmdline 'osprey_run="echo STOCK-KERNEL-USERSPACE-OK; uname -r"' "$@" \
	</dev/null 2>&1 | tee "$work/log" || status=$?
end=$(date +%s)
echo "--- after $((end - start)) s, osprey exit status $status" >&2
if grep -q "^STOCK-KERNEL-USERSPACE-OK" "$work/log"; then
	echo "result: user space ran" >&2
elif grep -qE "Run /init as init process|Attempted to kill init" "$work/log"; then
	echo "result: the kernel reached the start of user space (ran /init)" >&2
else
	echo "result: the kernel did not reach user space; last lines above" >&2
fi
