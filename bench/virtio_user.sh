#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio_user.sh - osprey's virtio-blk device path measured from guest user
# mode (guest/tests/blk_bench), next to the same access patterns on the host
# against the same image file, and under QEMU microvm when it is installed.
# Prints figures and ratios; a benchmark, not a test: it never fails on
# slow numbers (only when something does not run at all).
#
#   bench/virtio_user.sh [-r RUNS] [-m MIB] [-n IOS] [-q QD] [-i IMAGE]
#
#   -r RUNS   runs per configuration, taking turns; medians are reported
#             (default 3)
#   -m MIB    area written and read by every pass (default 64)
#   -n IOS    random reads per random run (default 4000)
#   -q QD     queue depth of the deep runs (default 16)
#   -i IMAGE  image file (default build/bench/virtio_user.img, 256 MiB,
#             filled from /dev/urandom first)
#
# Configurations (each boots build/guest/blk_bench.elf):
#   osprey-wb   osprey --disk IMG,cache=writeback, guest blk_bench.flush=1
#   osprey-none osprey --disk IMG,cache=none (O_DSYNC writes), flush=0
#   qemu-wb     QEMU microvm, cache=writeback, flush=1 (the guest enables
#               the write cache by negotiating FLUSH, as osprey-wb)
#   qemu-wt     QEMU microvm, cache=writethrough, flush=0 (QEMU then
#               syncs every write: the same durability as osprey-none)
# Host references on the same file: dd (64 KiB, one at a time) through the
# page cache, with oflag=dsync and with O_DIRECT; bench/randread.c (4 KiB
# pread, 10 x IOS of them, 1 thread and min(QD, CPUs) threads).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

RUNS=3
MIB=64
IOS=4000
QD=16
IMG=build/bench/virtio_user.img
while getopts "r:m:n:q:i:h" opt; do
	case $opt in
	r) RUNS=$OPTARG ;;
	m) MIB=$OPTARG ;;
	n) IOS=$OPTARG ;;
	q) QD=$OPTARG ;;
	i) IMG=$OPTARG ;;
	*)
		sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
RES=$OUT/results # lines: config metric value

make -s build/osprey guests
mkdir -p build/bench
cc -O2 -Wall -Wextra -Werror -pthread -o build/bench/randread bench/randread.c

if [[ ! -f $IMG ]]; then
	echo "creating $IMG (256 MiB from /dev/urandom)"
	truncate -s 256M "$IMG"
	dd if=/dev/urandom of="$IMG" bs=1M count=256 conv=notrunc status=none
fi
img_mib=$(($(stat -c %s "$IMG") / 1048576))
((MIB <= img_mib)) || {
	echo "virtio_user.sh: -m $MIB is larger than the image ($img_mib MiB)" >&2
	exit 1
}

GUEST=build/guest/blk_bench.elf
CMDLINE="blk_bench.mib=$MIB blk_bench.ios=$IOS blk_bench.qd=$QD"

# Turns blk_bench lines into "config metric value" records.
collect() { # config file
	sed -n -E \
		-e 's/^blk_bench: (seqwrite|seqread) 64KiB qd([0-9]+): ([0-9.]+) MB\/s.*/\1_qd\2 \3/p' \
		-e 's/^blk_bench: randread 4KiB qd([0-9]+): ([0-9]+) IOPS.*/randread_qd\1 \2/p' \
		-e 's/^blk_bench: flush: ([0-9]+) us.*/flush_us \1/p' \
		-e 's/^blk_bench: exits: mmio read ([0-9.]+) us.*queue notify ([0-9.]+) us.*/mmio_read_us \1\nnotify_us \2/p' "$2" |
		sed "s/^/$1 /" >>"$RES"
}

run_guest() { # config run command...
	local config=$1 i=$2
	shift 2
	if ! timeout 300 "$@" >"$OUT/guest.out" 2>"$OUT/guest.err" </dev/null; then
		: # QEMU's power-off status is 3 (isa-debug-exit); judged below
	fi
	if ! grep -q '^blk_bench: done$' "$OUT/guest.out"; then
		echo "virtio_user.sh: $config run $i did not finish:" >&2
		cat "$OUT/guest.out" "$OUT/guest.err" >&2
		exit 1
	fi
	echo "-- $config, run $i of $RUNS"
	grep '^blk_bench: \(exits\|seq\|rand\|flush\|verify\)' "$OUT/guest.out"
	collect "$config" "$OUT/guest.out"
}

have_qemu=0
if command -v qemu-system-x86_64 >/dev/null; then
	have_qemu=1
	qemu=(qemu-system-x86_64 -M microvm,acpi=off -enable-kvm -cpu host,-arch-capabilities
		-m 256 -nodefaults -no-user-config -nographic -serial stdio -no-reboot
		-device isa-debug-exit,iobase=0x700,iosize=4
		-global virtio-mmio.force-legacy=false
		-device virtio-blk-device,drive=d -kernel "$GUEST")
fi

echo "== guest user-mode driver: $CMDLINE"
echo "== osprey: build/osprey"
if ((have_qemu)); then
	echo "== QEMU microvm: $(qemu-system-x86_64 --version | head -1)"
else
	echo "== QEMU: qemu-system-x86_64 not installed (scripts/deps.sh --bench); skipped"
fi
# The configurations take turns, so that a change in the load of the
# machine hits all of them alike.
for ((i = 1; i <= RUNS; i++)); do
	run_guest osprey-wb "$i" build/osprey run --kernel "$GUEST" --memory 256M \
		--disk "$IMG,cache=writeback" --cmdline "$CMDLINE blk_bench.flush=1"
	run_guest osprey-none "$i" build/osprey run --kernel "$GUEST" --memory 256M \
		--disk "$IMG,cache=none" --cmdline "$CMDLINE blk_bench.flush=0"
	if ((have_qemu)); then
		run_guest qemu-wb "$i" "${qemu[@]}" \
			-drive "if=none,id=d,file=$IMG,format=raw,cache=writeback" \
			-append "$CMDLINE blk_bench.flush=1"
		run_guest qemu-wt "$i" "${qemu[@]}" \
			-drive "if=none,id=d,file=$IMG,format=raw,cache=writethrough" \
			-append "$CMDLINE blk_bench.flush=0"
	fi
done

echo "== host, same file ($IMG)"
count=$((MIB * 16)) # 64 KiB blocks
# Queue depth on the host = threads doing pread, at most one per CPU.
HOST_THREADS=$(nproc)
dd_rate() { # dd arguments...; prints MB/s (10^6 bytes per second)
	LC_ALL=C dd "$@" bs=64k count=$count 2>&1 | awk '/bytes/ && /copied/ {
		for (i = 1; i <= NF; i++) if ($i == "copied,") s = $(i + 1)
		printf "%.1f\n", $1 / s / 1e6 }'
}
for ((i = 1; i <= RUNS; i++)); do
	v=$(dd_rate if=/dev/zero of="$IMG" conv=notrunc)
	echo "host seqwrite 64KiB qd1 (dd, page cache): $v MB/s"
	echo "host seqwrite_qd$QD $v" >>"$RES"
	v=$(dd_rate if=/dev/zero of="$IMG" conv=notrunc oflag=dsync)
	echo "host seqwrite 64KiB qd1 (dd oflag=dsync): $v MB/s"
	echo "host-sync seqwrite_qd$QD $v" >>"$RES"
	v=$(dd_rate if=/dev/zero of="$IMG" conv=notrunc oflag=direct)
	echo "host seqwrite 64KiB qd1 (dd oflag=direct): $v MB/s"
	echo "host-direct seqwrite_qd$QD $v" >>"$RES"
	dd if="$IMG" of=/dev/null bs=1M count="$MIB" status=none # warm the cache
	v=$(dd_rate if="$IMG" of=/dev/null)
	echo "host seqread 64KiB qd1 (dd, page cache): $v MB/s"
	echo "host seqread_qd$QD $v" >>"$RES"
	echo "host-sync seqread_qd$QD $v" >>"$RES"
	v=$(dd_rate if="$IMG" of=/dev/null iflag=direct)
	echo "host seqread 64KiB qd1 (dd iflag=direct): $v MB/s"
	echo "host-direct seqread_qd$QD $v" >>"$RES"
	for q in 1 "$QD"; do
		t=$((q < HOST_THREADS ? q : HOST_THREADS))
		v=$(build/bench/randread "$IMG" 4096 "$MIB" $((IOS * 10)) "$t" | awk '{print $3}')
		echo "host randread 4KiB qd$q (pread, $t threads, page cache): $v IOPS"
		echo "host randread_qd$q $v" >>"$RES"
		echo "host-sync randread_qd$q $v" >>"$RES"
		v=$(build/bench/randread "$IMG" 4096 "$MIB" $((IOS * 10)) "$t" direct | awk '{print $3}')
		echo "host randread 4KiB qd$q (pread, $t threads, O_DIRECT): $v IOPS"
		echo "host-direct randread_qd$q $v" >>"$RES"
	done
done

echo
echo "== medians of $RUNS runs (MB/s, IOPS; flush, mmio read, notify in us)"
python3 - "$RES" "$QD" <<'EOF'
import statistics
import sys

res, qd = sys.argv[1], sys.argv[2]
vals = {}
for line in open(res):
    cfg, metric, v = line.split()
    vals.setdefault((cfg, metric), []).append(float(v))
med = {k: statistics.median(v) for k, v in vals.items()}
metrics = [f"seqwrite_qd{qd}", f"seqread_qd{qd}", "randread_qd1", f"randread_qd{qd}", "flush_us",
           "mmio_read_us", "notify_us"]
cfgs = [c for c in ["osprey-wb", "osprey-none", "qemu-wb", "qemu-wt", "host", "host-sync",
                    "host-direct"] if any(k[0] == c for k in med)]

def fmt(v):
    return "-" if v is None else (f"{v:.1f}" if v < 100 else f"{v:.0f}")

print(f"{'':16}" + "".join(f"{c:>13}" for c in cfgs))
for m in metrics:
    row = [med.get((c, m)) for c in cfgs]
    if all(v is None for v in row):
        continue
    print(f"{m:16}" + "".join(f"{fmt(v):>13}" for v in row))

def ratio(a, b, m):
    x, y = med.get((a, m)), med.get((b, m))
    return f"{x / y:.2f}" if x and y else "-"

pairs = [("osprey-wb", "host"), ("osprey-none", "host-sync"), ("osprey-wb", "qemu-wb"),
         ("osprey-none", "qemu-wt")]
pairs = [p for p in pairs if p[0] in cfgs and p[1] in cfgs]
print()
print(f"{'ratio':16}" + "".join(f"{a + '/' + b:>24}" for a, b in pairs))
for m in metrics[:4]:
    print(f"{m:16}" + "".join(f"{ratio(a, b, m):>24}" for a, b in pairs))
print()
print("host figures: dd is one 64 KiB request at a time (qd1) in every seq row;")
print("host randread 'qdN' is min(N, CPUs) threads of pread;")
print("host-sync = dd oflag=dsync for writes (what cache=none and writethrough do),")
print("page-cache reads; host-direct = O_DIRECT. Guest figures come from the guest TSC.")
EOF
