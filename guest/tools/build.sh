#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build.sh - build the guest tools (static, glibc) and an initramfs
# fragment holding them, to append to the default initramfs (the kernel
# unpacks concatenated cpio archives):
#
#   extra=$(guest/tools/build.sh)
#   cat "$INITRAMFS" "$extra" >combined.cpio
#
# Output under build/guest-tools/: the binaries and tools.cpio (uncompressed
# newc, /bin/<tool>). The last line of stdout is the cpio's path.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src="$here/guest/tools"
out="$here/build/guest-tools"
CC=${CC:-gcc}

mkdir -p "$out/root/bin"
for tool in vsock-echo; do
	if [[ ! -x $out/$tool || $src/$tool.c -nt $out/$tool ]]; then
		"$CC" -static -O2 -s -Wall -Wextra -Werror -o "$out/$tool.tmp" "$src/$tool.c"
		mv "$out/$tool.tmp" "$out/$tool"
	fi
	install -m 0755 "$out/$tool" "$out/root/bin/$tool"
done
(cd "$out/root" && find bin -type f | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible >"$out/tools.cpio.tmp")
mv "$out/tools.cpio.tmp" "$out/tools.cpio"
printf '%s\n' "$out/tools.cpio"
