#!/usr/bin/env bash
# `make run`: installs what is needed, builds osprey, the default guest
# kernel and initramfs (cached), and boots the default guest.
#
# On a terminal you get the guest's shell (type `poweroff` or Ctrl-A x to
# leave). Without a terminal (CI, pipes) the guest runs a short demo
# command and powers off. Extra `osprey run` flags: OSPREY_RUN_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
kernel_dir=$(scripts/build-kernel.sh | tail -n 1)
initramfs=$(scripts/build-initramfs.sh | tail -n 1)
make -s -j"$(nproc)" build/osprey

args=(--kernel "$kernel_dir/vmlinux" --initrd "$initramfs" --cpus 2 --memory 256M)
# shellcheck disable=SC2206
extra=(${OSPREY_RUN_ARGS:-})

if [[ -t 0 && -t 1 ]]; then
	echo "osprey: booting the default guest (Ctrl-A x quits, 'poweroff' in the guest ends it)" >&2
	exec build/osprey run "${args[@]}" --cmdline quiet "${extra[@]}"
fi

# No double quotes inside: the kernel command line uses them to delimit.
demo='echo; echo == hello from the osprey default guest; uname -sr; echo cpus: $(nproc); free -m | head -2; echo == done'
echo "osprey: booting the default guest non-interactively (demo command, then power off)" >&2
start=$(date +%s.%N)
status=0
build/osprey run "${args[@]}" --cmdline "quiet osprey_run=\"$demo\"" "${extra[@]}" </dev/null || status=$?
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v st="$status" \
	'BEGIN { printf "osprey: guest finished with exit status %d after %.1f s\n", st, e - s }' >&2
exit "$status"
