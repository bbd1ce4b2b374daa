#!/usr/bin/env bash
# build-kernel.sh - build osprey's default guest kernel, cached outside the
# checkout.
#
#   KDIR=$(scripts/build-kernel.sh)      # $KDIR/vmlinux, $KDIR/bzImage
#
# Source: Debian's linux-source-6.1 (installed with apt-get when missing),
# plus guest/linux/patches/*.patch, configured as tinyconfig +
# guest/linux/config-fragment (see below) + `make olddefconfig`.
#
# Cache: ${OSPREY_CACHE:-$HOME/.cache/osprey}/kernel-<debian version>-<key>/
#   vmlinux     ELF with the PVH entry note (what osprey boots by default)
#   bzImage     the same kernel as a bzImage (LZ4)
#   .config     the final configuration
#   System.map  symbols, for debugging
# <key> is a short sha256 of the config fragment, the patches and this
# script. When the directory exists the script only prints its path.
#
# The last line of stdout is the cache directory; everything else goes to
# stderr. The build runs in a temporary directory under the cache root and
# is renamed into place, so an interrupted build leaves no half cache entry.
#
# Environment:
#   OSPREY_CACHE        cache root (default $HOME/.cache/osprey)
#   OSPREY_KEEP_BUILD=1 keep the temporary build tree (for debugging)
#   JOBS                parallel make jobs (default: nproc)
set -euo pipefail

readonly SRC_PKG=linux-source-6.1
readonly SRC_TARBALL=/usr/src/linux-source-6.1.tar.xz
readonly BUILD_PKGS=(build-essential flex bison bc libelf-dev libssl-dev
		     cpio xz-utils lz4 patch util-linux)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self="$here/scripts/build-kernel.sh"
fragment="$here/guest/linux/config-fragment"
patchdir="$here/guest/linux/patches"
cache_root="${OSPREY_CACHE:-$HOME/.cache/osprey}"

log() { printf 'build-kernel: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Install missing Debian packages (non-interactive).
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

# Short hash over everything that determines the build output.
cache_key() {
	local f
	{
		printf 'script %s\n' "$(sha256sum <"$self" | cut -d' ' -f1)"
		printf 'fragment %s\n' "$(sha256sum <"$fragment" | cut -d' ' -f1)"
		for f in "${patches[@]}"; do
			printf 'patch %s %s\n' "$(basename "$f")" \
				"$(sha256sum <"$f" | cut -d' ' -f1)"
		done
	} | sha256sum | cut -c1-12
}

have_artefacts() {
	[[ -s $1/vmlinux && -s $1/bzImage && -s $1/.config ]]
}

# Every line of the fragment must have survived olddefconfig: `CONFIG_X=v`
# exactly, `# CONFIG_X is not set` as not y/m. Kconfig silently drops
# options whose dependencies are not met; this makes that an error.
check_config() {
	local config=$1 line sym bad=0
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
			if ! grep -qxF -- "$line" "$config"; then
				sym=${BASH_REMATCH[1]}
				log "config: wanted '$line', got '$(grep -E "^(# )?$sym[= ]" "$config" || echo unset)'"
				bad=1
			fi
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if grep -qE "^$sym=[ym]$" "$config"; then
				log "config: wanted '$sym' off, got '$(grep -E "^$sym=" "$config")'"
				bad=1
			fi
		fi
	done <"$fragment"
	return $bad
}

[[ -f $fragment ]] || die "missing $fragment"
shopt -s nullglob
patches=("$patchdir"/*.patch)
shopt -u nullglob

ensure_packages "$SRC_PKG" "${BUILD_PKGS[@]}"
[[ -f $SRC_TARBALL ]] || die "$SRC_TARBALL missing after installing $SRC_PKG"
src_version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
key=$(cache_key)
dest="$cache_root/kernel-$src_version-$key"

if have_artefacts "$dest"; then
	log "cached: $dest"
	printf '%s\n' "$dest"
	exit 0
fi

mkdir -p "$cache_root"
# One kernel build at a time per cache root; a second caller waits, then
# finds the finished entry.
exec 9>"$cache_root/.build-kernel.lock"
flock 9
if have_artefacts "$dest"; then
	log "cached (built meanwhile): $dest"
	printf '%s\n' "$dest"
	exit 0
fi

tmp=$(mktemp -d "$cache_root/.tmp-kernel-XXXXXX")
cleanup() {
	if [[ ${OSPREY_KEEP_BUILD:-0} == 1 ]]; then
		log "kept build tree: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

start=$SECONDS
log "building $SRC_PKG $src_version (key $key) in $tmp"
mkdir "$tmp/src"
tar -xf "$SRC_TARBALL" -C "$tmp/src" --strip-components=1
for p in "${patches[@]}"; do
	log "applying $(basename "$p")"
	patch -d "$tmp/src" -p1 --batch --forward --quiet <"$p" >&2
done

export KBUILD_BUILD_USER=osprey KBUILD_BUILD_HOST=osprey
make_k=(make -C "$tmp/src" ARCH=x86_64)
# tinyconfig with our fragment folded in: allnoconfig, forced to the values
# of tinyconfig's fragments and then ours. Unlike `make tinyconfig` followed
# by merging, options that our fragment makes visible start from "no" (as
# tinyconfig's own do) instead of from their Kconfig defaults, which would
# pull in e.g. 256 legacy ptys and every PS/2 mouse protocol.
allconfig="$tmp/allnoconfig.in"
for f in kernel/configs/tiny-base.config kernel/configs/tiny.config \
	arch/x86/configs/tiny.config; do
	if [[ -f $tmp/src/$f ]]; then cat "$tmp/src/$f"; fi
done >"$allconfig"
cat "$fragment" >>"$allconfig"
"${make_k[@]}" -s KCONFIG_ALLCONFIG="$allconfig" allnoconfig >&2
"${make_k[@]}" -s olddefconfig >&2
check_config "$tmp/src/.config" || die "config fragment not honoured (see above)"

"${make_k[@]}" -j"${JOBS:-$(nproc)}" bzImage >&2

readelf -n "$tmp/src/vmlinux" | grep -q 'Xen.*0x00000012\|Unknown note type: (0x00000012)' ||
	readelf -n "$tmp/src/vmlinux" | grep -q 'PHYS32_ENTRY' ||
	die "vmlinux has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"

out="$tmp/out"
mkdir "$out"
cp "$tmp/src/vmlinux" "$tmp/src/arch/x86/boot/bzImage" "$tmp/src/.config" \
	"$tmp/src/System.map" "$out/"
mv -T "$out" "$dest"
log "built in $((SECONDS - start)) s: $dest"
printf '%s\n' "$dest"
