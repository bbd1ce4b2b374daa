#!/usr/bin/env bash
# build-initramfs.sh - build osprey's default guest initramfs, cached outside
# the checkout.
#
#   INITRD=$(scripts/build-initramfs.sh)   # path of an uncompressed cpio
#
# Contents: Debian's busybox-static (installed with apt-get when missing) as
# /bin/busybox with a symlink for every applet, guest/initramfs/init as /init,
# /etc/fstab, the directories init mounts on, and /dev/{console,mem,null}. Uncompressed newc cpio: unpacking a
# compressed one costs tens of seconds on hosts that emulate guest kernel
# code. The archive is reproducible (sorted, root-owned, fixed mtimes).
#
# Cache: ${OSPREY_CACHE:-$HOME/.cache/osprey}/initramfs-<busybox version>-<key>/
#   initramfs.cpio
# <key> is a short sha256 of the busybox binary, guest/initramfs/init and
# this script. When the file exists the script only prints its path.
#
# The last line of stdout is the path of initramfs.cpio; everything else
# goes to stderr.
set -euo pipefail

readonly BUSYBOX_PKG=busybox-static
readonly BUSYBOX=/bin/busybox

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self="$here/scripts/build-initramfs.sh"
init="$here/guest/initramfs/init"
cache_root="${OSPREY_CACHE:-$HOME/.cache/osprey}"

log() { printf 'build-initramfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "need root to install: ${missing[*]}"
		sudo=(sudo)
	fi
	log "installing: ${missing[*]}"
	"${sudo[@]}" apt-get update >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

[[ -f $init ]] || die "missing $init"
ensure_packages "$BUSYBOX_PKG" cpio
[[ -x $BUSYBOX ]] || die "$BUSYBOX missing after installing $BUSYBOX_PKG"

# Debian version without the epoch ("1:1.35.0-4" -> "1.35.0-4"): no colon
# in cache paths.
bb_version=$(dpkg-query -W -f='${Version}' "$BUSYBOX_PKG")
bb_version=${bb_version#*:}
key=$({
	printf 'busybox %s\n' "$(sha256sum <"$BUSYBOX" | cut -d' ' -f1)"
	printf 'init %s\n' "$(sha256sum <"$init" | cut -d' ' -f1)"
	printf 'script %s\n' "$(sha256sum <"$self" | cut -d' ' -f1)"
} | sha256sum | cut -c1-12)
dest="$cache_root/initramfs-busybox-$bb_version-$key"

if [[ -s $dest/initramfs.cpio ]]; then
	log "cached: $dest/initramfs.cpio"
	printf '%s\n' "$dest/initramfs.cpio"
	exit 0
fi

mkdir -p "$cache_root"
tmp=$(mktemp -d "$cache_root/.tmp-initramfs-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,mnt,run,var}
install -m 0755 "$BUSYBOX" "$root/bin/busybox"
install -m 0755 "$init" "$root/init"

# One relative symlink per applet, at the path busybox itself lists.
n=0
while IFS= read -r path; do
	[[ $path == */* && $path != bin/busybox ]] || continue
	[[ -e $root/$path || -L $root/$path ]] && continue
	dir=$(dirname "$path")
	rel=$(realpath -m --relative-to="/$dir" /bin/busybox)
	ln -s "$rel" "$root/$path"
	n=$((n + 1))
done < <("$BUSYBOX" --list-full | LC_ALL=C sort)
[[ -L $root/bin/sh ]] || die "busybox has no sh applet"
log "busybox $bb_version: $n applet links"

# /etc/fstab for init's single `mount -a`.
cat >"$root/etc/fstab" <<'FSTAB'
proc      /proc  proc      defaults   0 0
sysfs     /sys   sysfs     defaults   0 0
devtmpfs  /dev   devtmpfs  defaults   0 0
tmpfs     /tmp   tmpfs     mode=1777  0 0
FSTAB

# Reproducible archive: fixed mtimes, root ownership, sorted names,
# inode numbers assigned in order (--reproducible).
find "$root" -exec touch -h -d @0 {} +
out="$tmp/out"
mkdir "$out"
(cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible >"$out/initramfs.cpio")

# A second archive, appended (the kernel unpacks concatenated archives),
# with the device nodes init needs before devtmpfs is mounted: /dev/mem
# for the boot marker, written first thing. Written by hand in newc format
# so that building needs no mknod (and no root).
newc_entry() { # name mode ino rdevmajor rdevminor
	local name=$1 namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$3" "$2" 0 0 1 0 0 0 0 "$4" "$5" "$namesize" 0
	printf '%s\0' "$name"
	# header (110 bytes) + name, padded to a multiple of 4
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}
{
	newc_entry dev/console $((0020600)) 1000001 5 1
	newc_entry dev/mem $((0020600)) 1000002 1 1
	newc_entry dev/null $((0020666)) 1000003 1 3
	newc_entry 'TRAILER!!!' 0 0 0 0
} >>"$out/initramfs.cpio"

mv -T "$out" "$dest" 2>/dev/null || {
	# Someone else finished the same entry first: theirs is identical.
	[[ -s $dest/initramfs.cpio ]] || die "cannot create $dest"
}
log "built: $dest/initramfs.cpio ($(stat -c %s "$dest/initramfs.cpio") bytes)"
printf '%s\n' "$dest/initramfs.cpio"
