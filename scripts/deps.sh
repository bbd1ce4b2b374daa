#!/usr/bin/env bash
# Installs the Debian packages osprey needs to build, test and boot its
# default guest. Idempotent: only missing packages are installed.
#   scripts/deps.sh          build + test + default guest
#   scripts/deps.sh --bench  also what bench/ compares against (QEMU)
set -euo pipefail

pkgs=(
	build-essential make gcc clang libclang-rt-14-dev
	libcmocka-dev pkg-config libhttp-parser-dev libjansson-dev libzydis-dev liblzma-dev curl
	busybox-static cpio e2fsprogs iproute2 kmod
	linux-source-6.1 flex bison bc libelf-dev libssl-dev xz-utils
	python3
	libcurl4-openssl-dev libjansson-dev
	libseccomp-dev uidmap jq crun runc podman
)
if [[ "${1:-}" == "--bench" ]]; then
	pkgs+=(qemu-system-x86)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	SUDO=sudo
else
	SUDO=
fi
echo "osprey: installing ${missing[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
