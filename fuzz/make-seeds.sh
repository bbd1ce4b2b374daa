#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Writes the small seed inputs under fuzz/corpus/<target>/. The output is
# committed; rerun after changing this script. Crash reproducers found by
# scripts/fuzz.sh are committed next to these as regression-* files and are
# not touched here.
set -euo pipefail

cd "$(dirname "$0")"
C=corpus

# Little-endian integers as printf escapes: le BYTES VALUE
le() {
	local n=$1 v=$2 out=""
	for ((i = 0; i < n; i++)); do
		out+=$(printf '\\x%02x' $(((v >> (8 * i)) & 0xff)))
	done
	printf '%s' "$out"
}

# Writes printf-escaped bytes at an offset of an existing file: put FILE OFF BYTES
put() {
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Arguments joined by NUL bytes (no trailing NUL): args FILE ARG...
args() {
	local f=$1
	shift
	printf '%s\0' "$@" | head -c -1 >"$f"
}

rm -f "$C"/*/seed-*
mkdir -p "$C"/fuzz_{kernel_loader,serial,i8042,rtc,insn,cli,virtq}

# ---- kernel images ----
k=$C/fuzz_kernel_loader

# bzImage, boot protocol 2.15, one setup sector, 32 bytes of "kernel".
f=$k/seed-bzimage
head -c $((2 * 512 + 32)) /dev/zero >"$f"
put "$f" $((0x1f1)) '\x01'                        # setup_sects
put "$f" $((0x1f4)) "$(le 4 2)"                   # syssize (16-byte units)
put "$f" $((0x1fe)) '\x55\xaa'                    # boot_flag
put "$f" $((0x200)) '\xeb\x6a'                    # jump over the header
put "$f" $((0x202)) 'HdrS'
put "$f" $((0x206)) "$(le 2 0x020f)"              # version
put "$f" $((0x22c)) "$(le 4 0x7fffffff)"          # initrd_addr_max
put "$f" $((0x236)) "$(le 2 1)"                   # xloadflags: XLF_KERNEL_64
put "$f" $((0x238)) "$(le 4 2047)"                # cmdline_size
put "$f" $((0x258)) "$(le 8 0x1000000)"           # pref_address
put "$f" $((0x260)) "$(le 4 0x10000)"             # init_size
put "$f" $((0x400)) '\xf4\xeb\xfd'                # hlt; jmp .

# ELF64 with a PT_LOAD at 1 MiB and a PT_NOTE holding the Xen PVH entry.
elf64() { # FILE WITH_NOTE
	local f=$1 note=$2 phnum=1
	[[ $note == 1 ]] && phnum=2
	head -c 232 /dev/zero >"$f"
	put "$f" 0 '\x7fELF\x02\x01\x01'
	put "$f" 16 "$(le 2 2)$(le 2 0x3e)$(le 4 1)$(le 8 0xffffffff80100000)$(le 8 64)"
	put "$f" 52 "$(le 2 64)$(le 2 56)$(le 2 $phnum)"
	put "$f" 64 "$(le 4 1)$(le 4 5)$(le 8 0xc0)$(le 8 0x100000)$(le 8 0x100000)"
	put "$f" 96 "$(le 8 16)$(le 8 32)$(le 8 0x1000)"
	if [[ $note == 1 ]]; then
		put "$f" 120 "$(le 4 4)$(le 4 4)$(le 8 0xd0)$(le 8 0)$(le 8 0)"
		put "$f" 152 "$(le 8 24)$(le 8 24)$(le 8 4)"
		put "$f" $((0xd0)) "$(le 4 4)$(le 4 8)$(le 4 18)Xen\\x00$(le 8 0x100000)"
	fi
	put "$f" $((0xc0)) '\xf4\xeb\xfd'
}
elf64 "$k/seed-elf64-pvh" 1
elf64 "$k/seed-elf64-linux" 0

# ELF32 with a PVH note (4-byte entry).
f=$k/seed-elf32-pvh
head -c 164 /dev/zero >"$f"
put "$f" 0 '\x7fELF\x01\x01\x01'
put "$f" 16 "$(le 2 2)$(le 2 3)$(le 4 1)$(le 4 0x100000)$(le 4 52)"
put "$f" 40 "$(le 2 52)$(le 2 32)$(le 2 2)"
put "$f" 52 "$(le 4 1)$(le 4 0x80)$(le 4 0x100000)$(le 4 0x100000)$(le 4 16)$(le 4 32)$(le 4 5)$(le 4 0x1000)"
put "$f" 84 "$(le 4 4)$(le 4 0x90)$(le 4 0)$(le 4 0)$(le 4 20)$(le 4 20)$(le 4 4)$(le 4 4)"
put "$f" $((0x80)) '\xf4\xeb\xfd'
put "$f" $((0x90)) "$(le 4 4)$(le 4 4)$(le 4 18)Xen\\x00$(le 4 0x100000)"

# ---- serial: see the record format in fuzz_serial.c ----
s=$C/fuzz_serial
# Linux's 8250 probe: DLAB, divisor, 8N1, scratch, FIFO, THRI, output.
printf '\x43\x80\x40\x0c\x41\x00\x43\x03\x47\x5a\x07\x42\x07\x02\x41\x02\x02\x40\x41\x02\x05' \
	>"$s/seed-init"
# Host input with RDI enabled, then reading it out.
printf '\x41\x01\x82abc\x02\x05\x00\x00\x00\x05\x02' >"$s/seed-rx"
# Loopback: MCR bits to MSR, THR to RBR.
printf '\x44\x1f\x06\x40\x55\x05\x00\x44\x08\x06' >"$s/seed-loop"
# Buffer full, drained by one read, refilled.
printf '\x41\x01\xff\xff\x05\x00\x81xy\x05' >"$s/seed-full"

# ---- i8042: see fuzz_i8042.c ----
i=$C/fuzz_i8042
printf '\x41\xaa\x01\x00\x41\x20\x00\x41\x60\x40\x47\x41\xab\x00' >"$i/seed-selftest"
printf '\x40\xff\x00\x00\x40\xed\x40\x02\xc0\x40\xf2\xc0' >"$i/seed-kbd"
printf '\x80\xc0\x41\x60\x40\x01\x80\xc0' >"$i/seed-cad"
printf '\x41\xd1\x40\xfe\x41\xfe\x41\xd2\x40\x1c\x00' >"$i/seed-reset"

# ---- rtc: see fuzz_rtc.c (4-byte host time first) ----
r=$C/fuzz_rtc
t=$(le 4 1709214356) # 2024-02-29 13:45:56 UTC
printf "$t"'\x40\x00\x01\x40\x04\x01\x40\x0b\x01\x40\x0d\x01\x40\x32\x01' >"$r/seed-read"
# Set the clock to 1999-12-31 23:59:58 (BCD), then let it run.
printf "$t"'\x40\x0b\x41\x82\x40\x00\x41\x58\x40\x02\x41\x59\x40\x04\x41\x23\x40\x07\x41\x31\x40\x08\x41\x12\x40\x09\x41\x99\x40\x32\x41\x19\x40\x0b\x41\x02\x81\x40\x00\x01\x40\x09\x01' \
	>"$r/seed-set"
# Binary, 12-hour mode.
printf "$t"'\x40\x0b\x41\x04\x40\x04\x01\xbf\x40\x04\x01\x40\x8d\x01' >"$r/seed-12h"

# ---- insn: first byte is the output buffer size ----
n=$C/fuzz_insn
printf '\x3f\x48\x0f\xc7\x0e' >"$n/seed-cmpxchg16b"
printf '\x3f\x48\x0f\xae\x2f' >"$n/seed-xrstor"
printf '\x3f\xcc' >"$n/seed-int3"
printf '\x3f\xf3\x0f\xb8\xc0' >"$n/seed-popcnt"
printf '\x3f\x0f\x01\xca' >"$n/seed-clac"
printf '\x3f\xc5\xf8\x77' >"$n/seed-vex"
printf '\x04\xf0\x66\x2e\x48\x0f' >"$n/seed-truncated"

# ---- cli: NUL-separated arguments after "run" ----
a=$C/fuzz_cli
args "$a/seed-basic" --kernel /vmlinux --memory 512M --cpus 2
args "$a/seed-all" -k /k -i /i -c quiet --no-default-cmdline -m 1G -n 0x4 \
	--cpu-template emulated --console file:/tmp/out --on-reboot restart --log-level debug
args "$a/seed-errors" -k x --console serial
args "$a/seed-cluster" -zk x
args "$a/seed-help" --help

# ---- virtq: 10-byte header, then guest memory from address 0 (fuzz_virtq.c) ----
q=$C/fuzz_virtq
# vq_hdr FILE SIZE_LOG2 FLAGS START DESC AVAIL USED
vq_hdr() {
	printf "$(le 1 "$2")$(le 1 "$3")$(le 2 "$4")$(le 2 $(($5 / 16)))$(le 2 $(($6 / 2)))$(le 2 $(($7 / 4)))" >"$1"
}
# vq_desc FILE GPA ADDR LEN FLAGS NEXT (F_NEXT 1, F_WRITE 2, F_INDIRECT 4)
vq_desc() {
	put "$1" $((10 + $2)) "$(le 8 "$3")$(le 4 "$4")$(le 2 "$5")$(le 2 "$6")"
}
vq_u16() { # FILE GPA VALUE
	put "$1" $((10 + $2)) "$(le 2 "$3")"
}

# Two chains: readable -> writable -> writable, and one writable.
f=$q/seed-chains
vq_hdr "$f" 4 0 0 0 0x100 0x200
vq_desc "$f" 0 0x1000 32 1 1
vq_desc "$f" 16 0x1100 64 3 2
vq_desc "$f" 32 0x1200 16 2 0
vq_desc "$f" 48 0x1300 8 2 0
vq_u16 "$f" 0x102 2
vq_u16 "$f" 0x104 0
vq_u16 "$f" 0x106 3

# An indirect table (r -> w -> w), EVENT_IDX, notifications re-enabled.
f=$q/seed-indirect
vq_hdr "$f" 3 11 0 0 0x80 0xc0
vq_desc "$f" 0 0x400 48 4 0
vq_desc "$f" 0x400 0x800 16 1 1
vq_desc "$f" 0x410 0x900 32 3 2
vq_desc "$f" 0x420 0xa00 1 2 0
vq_u16 "$f" 0x82 1
vq_u16 "$f" 0x84 0
vq_u16 "$f" 0x94 0

# Four chains across the 16-bit index wrap (0xfffe -> 0x0002).
f=$q/seed-wrap
vq_hdr "$f" 2 12 0xfffe 0 0x40 0x80
for i in 0 1 2 3; do
	vq_desc "$f" $((16 * i)) $((0x1000 + 0x100 * i)) 4 2 0
	vq_u16 "$f" $((0x44 + 2 * ((0xfffe + i) & 3))) $i
done
vq_u16 "$f" 0x42 2

# A 1024-entry queue whose available ring overlaps the descriptor table.
f=$q/seed-overlap
vq_hdr "$f" 10 2 0 0 0x100 0x20000
vq_desc "$f" 0 0x30000 100 0 0
vq_u16 "$f" 0x102 1
vq_u16 "$f" 0x104 0

# A loop (0 -> 1 -> 0): the queue breaks.
f=$q/seed-loop
vq_hdr "$f" 4 0 0 0 0x100 0x200
vq_desc "$f" 0 0x1000 8 1 1
vq_desc "$f" 16 0x1000 8 1 0
vq_u16 "$f" 0x102 1

# A writable buffer over the available ring's idx, filled with 0xa5.
f=$q/seed-ring-write
vq_hdr "$f" 4 4 0 0 0x100 0x200
vq_desc "$f" 0 0x100 4 2 0
vq_u16 "$f" 0x102 1

# ---- vsock: command records, see fuzz_vsock.c ----
v=$C/fuzz_vsock
mkdir -p "$v"
# vs_pkt OP FLAGS BUF_ALLOC/16 FWD_CNT LEN [H]: a shaped guest packet from
# guest port 1000 to host port 50 (H=0x80: to the first local port)
vs_pkt() {
	printf '\\x01\\x00%s%s%s%s%s%s' "$(le 1 "${6:-0}")" "$(le 1 "$1")" "$(le 1 "$2")" \
		"$(le 2 "$3")" "$(le 2 "$4")" "$(le 2 "$5")"
}
RX='\x02\x40' # one packet for the guest, 4 KiB of room

# A guest connection: REQUEST, data both ways, SHUTDOWN, the RST.
printf "$(vs_pkt 1 0 256 0 0)$RX$(vs_pkt 5 0 256 0 5)hello"'\x05\x00\x05world\x03\x00\x01'"$RX$(vs_pkt 4 3 256 0 0)$RX$RX" \
	>"$v/seed-guest-connect"
# A host connection: CONNECT 1000, REQUEST, RESPONSE, "OK", data, RST.
printf '\x04\x05\x00\x80\x03\x00\x01'"$RX$(vs_pkt 2 0 256 0 0 0x80)"'\x05\x00\x04ping\x03\x00\x01'"$RX$(vs_pkt 5 0 256 0 4 0x80)pong$(vs_pkt 3 0 0 0 0 0x80)$RX" \
	>"$v/seed-host-connect"
# Malformed: short, misaddressed, unknown ops, payload on a REQUEST.
f=$v/seed-malformed
printf '\x00\x05\x00\x01\x02\x03\x04\x05\x00\x2c\x00' >"$f"
printf "$(le 8 9)$(le 8 2)$(le 4 1000)$(le 4 50)$(le 4 0)$(le 2 1)$(le 2 1)$(le 4 0)$(le 4 4096)$(le 4 0)" >>"$f"
printf "$(vs_pkt 0 0 256 0 0)$(vs_pkt 8 0 256 0 0)$(vs_pkt 1 0 256 0 4)abcd$RX$RX$RX" >>"$f"
# Credit: the guest offers 16 bytes, the host has 64; CREDIT_UPDATE, CREDIT_REQUEST.
printf "$(vs_pkt 1 0 1 0 0)$RX"'\x05\x00\x40'"$(head -c 64 /dev/zero | tr '\0' 'c')"'\x03\x00\x01'"$RX$RX$RX$(vs_pkt 6 0 1 16 0)$RX$RX$(vs_pkt 7 0 1 16 0)$RX" \
	>"$v/seed-credit"
# A slow host process: guest data buffered, flushed on EPOLLOUT, device reset.
printf "$(vs_pkt 1 0 256 0 0)$RX"'\x06\x00\x00'"$(vs_pkt 5 0 256 0 3840)$(head -c 3840 /dev/zero | tr '\0' 'd')"'\x03\x00\x02\x06\x00\x03\x03\x00\x02'"$RX"'\x07\x02' \
	>"$v/seed-slow-host"
# A guest sending past its credit to a host process that reads nothing.
printf "$(vs_pkt 1 0 256 0 0)$RX"'\x06\x00\x00'"$(vs_pkt 0x85 0 256 0 40000)$(vs_pkt 0x85 0 256 0 40000)$RX$RX" \
	>"$v/seed-credit-violation"

# ---- virtio_blk: 18-byte header, then guest memory from address 0 (fuzz_virtio_blk.c) ----
b=$C/fuzz_virtio_blk
mkdir -p "$b"
# blk_hdr FILE SIZE_LOG2 FLAGS START DESC AVAIL USED CAPACITY
# (flags: 1 EVENT_IDX, 2 INDIRECT_DESC, 4 read-only, 8 FLUSH offered)
blk_hdr() {
	printf "$(le 1 "$2")$(le 1 "$3")$(le 2 "$4")$(le 2 $(($5 / 16)))$(le 2 $(($6 / 2)))$(le 2 $(($7 / 4)))$(le 8 "$8")" >"$1"
}
blk_put() { # FILE GPA BYTES
	put "$1" $((18 + $2)) "$3"
}
# blk_desc FILE GPA ADDR LEN FLAGS NEXT (F_NEXT 1, F_WRITE 2, F_INDIRECT 4)
blk_desc() {
	blk_put "$1" "$2" "$(le 8 "$3")$(le 4 "$4")$(le 2 "$5")$(le 2 "$6")"
}
blk_req() { # FILE GPA TYPE SECTOR: a request header
	blk_put "$1" "$2" "$(le 4 "$3")$(le 4 0)$(le 8 "$4")"
}
# blk_avail FILE HEAD...: offers the heads on the 16-entry ring at 0x100
blk_avail() {
	local f=$1 i=0
	shift
	for h in "$@"; do
		blk_put "$f" $((0x104 + 2 * i)) "$(le 2 "$h")"
		i=$((i + 1))
	done
	blk_put "$f" 0x102 "$(le 2 $i)"
}

# A read of two sectors: header -> data (W) -> status (W).
f=$b/seed-read
blk_hdr "$f" 4 0 0 0 0x100 0x200 64
blk_req "$f" 0x1000 0 2
blk_desc "$f" 0 0x1000 16 1 1
blk_desc "$f" 16 0x2000 1024 3 2
blk_desc "$f" 32 0x3000 1 2 0
blk_avail "$f" 0

# A write, a flush and GET_ID on a disk that offers FLUSH; the write's
# header and data share one buffer, the header of the flush spans two.
f=$b/seed-write-flush-id
blk_hdr "$f" 4 8 0 0 0x100 0x200 8
blk_req "$f" 0x1000 1 7
blk_desc "$f" 0 0x1000 528 1 1
blk_desc "$f" 16 0x3000 1 2 0
blk_req "$f" 0x1300 4 0
blk_desc "$f" 32 0x1300 6 1 3
blk_desc "$f" 48 0x1306 10 1 4
blk_desc "$f" 64 0x3001 1 2 0
blk_req "$f" 0x1400 8 0
blk_desc "$f" 80 0x1400 16 1 6
blk_desc "$f" 96 0x3200 21 2 0
blk_avail "$f" 0 2 5

# Requests that fail: a write to a read-only disk, past the end, a partial
# sector, an unknown type, a flush not offered, a short header, no status.
f=$b/seed-errors
blk_hdr "$f" 4 4 0 0 0x100 0x200 16
blk_req "$f" 0x1000 1 0
blk_req "$f" 0x1010 0 15
blk_req "$f" 0x1020 0 0
blk_req "$f" 0x1030 3 0
blk_req "$f" 0x1040 4 0
blk_desc "$f" 0 0x1000 16 1 1
blk_desc "$f" 16 0x2000 512 1 2
blk_desc "$f" 32 0x3000 1 2 0
blk_desc "$f" 48 0x1010 16 1 4
blk_desc "$f" 64 0x2000 1025 2 0
blk_desc "$f" 80 0x1020 16 1 6
blk_desc "$f" 96 0x2000 101 2 0
blk_desc "$f" 112 0x1030 16 1 8
blk_desc "$f" 128 0x3002 1 2 0
blk_desc "$f" 144 0x1040 16 1 10
blk_desc "$f" 160 0x3003 1 2 0
blk_desc "$f" 176 0x1000 8 1 12
blk_desc "$f" 192 0x3004 1 2 0
blk_desc "$f" 208 0x1010 16 0 0
blk_avail "$f" 0 3 5 7 9 11 13

# A disk of 2^64 - 1 sectors: the last sector reads, one past it wraps.
f=$b/seed-huge-disk
blk_hdr "$f" 4 0 0 0 0x100 0x200 -1
blk_req "$f" 0x1000 0 -2
blk_req "$f" 0x1010 0 -1
blk_desc "$f" 0 0x1000 16 1 1
blk_desc "$f" 16 0x2000 513 2 0
blk_desc "$f" 32 0x1010 16 1 3
blk_desc "$f" 48 0x2000 1025 2 0
blk_avail "$f" 0 2

# An indirect table (header, two data segments, status), EVENT_IDX.
f=$b/seed-indirect
blk_hdr "$f" 4 3 0 0 0x100 0x200 32
blk_req "$f" 0x1000 0 4
blk_desc "$f" 0 0x800 64 4 0
blk_desc "$f" 0x800 0x1000 16 1 1
blk_desc "$f" 0x810 0x2000 512 3 2
blk_desc "$f" 0x820 0x2400 512 3 3
blk_desc "$f" 0x830 0x3000 1 2 0
blk_avail "$f" 0

# ---- virtio_mmio: register records, see fuzz_virtio_mmio.c ----
m=$C/fuzz_virtio_mmio
mkdir -p "$m"
# Register indices into the fuzzer's table.
R_MAGIC=0 R_VERSION=1 R_DEVID=2 R_VENDOR=3 R_DFEAT=4 R_DFSEL=5 R_FEAT=6 R_FSEL=7
R_QSEL=8 R_QMAX=9 R_QNUM=10 R_QREADY=11 R_QNOTIFY=12 R_ISR=13 R_ACK=14 R_STATUS=15
R_DESC=16 R_DESC_HI=17 R_AVAIL=18 R_AVAIL_HI=19 R_USED=20 R_USED_HI=21 R_GEN=22 R_CFG=23
mr() { printf '\\x21%s' "$(le 1 "$1")"; }              # 32-bit read of a register
mw() { printf '\\x61%s%s' "$(le 1 "$1")" "$(le 4 "$2")"; } # 32-bit write
# mq Q NUM DESC AVAIL USED: set up and enable a queue
mq() {
	printf '%s' "$(mw $R_QSEL "$1")$(mr $R_QREADY)$(mr $R_QMAX)$(mw $R_QNUM "$2")"
	printf '%s' "$(mw $R_DESC "$3")$(mw $R_DESC_HI 0)$(mw $R_AVAIL "$4")$(mw $R_AVAIL_HI 0)"
	printf '%s' "$(mw $R_USED "$5")$(mw $R_USED_HI 0)$(mw $R_QREADY 1)"
}
# mmem GPA BYTES(escaped, 1..57): guest memory
mmem() {
	local c n
	c=$(printf "$2" | wc -c)
	n=$(((c + 6) / 8)) # the record holds n * 8 + 1 bytes; pad with zeros
	printf '\\x%02x%s%s' $((0x80 | n)) "$(le 2 $(($1 / 4)))" "$2"
	for ((i = c; i < n * 8 + 1; i++)); do printf '\\x00'; done
}
# A 16-byte descriptor
mdesc() { printf '%s' "$(le 8 "$1")$(le 4 "$2")$(le 2 "$3")$(le 2 "$4")"; }
PROBE="$(mr $R_MAGIC)$(mr $R_VERSION)$(mr $R_DEVID)$(mr $R_VENDOR)$(mw $R_STATUS 0)$(mw $R_STATUS 1)$(mw $R_STATUS 3)"
FEAT="$(mw $R_DFSEL 1)$(mr $R_DFEAT)$(mw $R_DFSEL 0)$(mr $R_DFEAT)$(mw $R_FSEL 1)$(mw $R_FEAT 1)$(mw $R_FSEL 0)$(mw $R_FEAT 0x20000020)$(mw $R_STATUS 11)$(mr $R_STATUS)"

# Linux's probe: features with EVENT_IDX, both queues, DRIVER_OK, config
# reads of every size, one request on queue 0, its interrupt acked.
f=$m/seed-probe
printf "$PROBE$FEAT$(mq 0 16 0x1000 0x1100 0x1200)$(mq 1 16 0x2000 0x2100 0x2200)$(mw $R_STATUS 15)$(mr $R_STATUS)" >"$f"
printf '\x01\x17\x11\x17\x21\x19\x31\x17\x01\x1a'"$(mr $R_GEN)" >>"$f"
printf "$(mmem 0x1000 "$(mdesc 0x3000 64 2 0)")$(mmem 0x1100 "$(le 2 0)$(le 2 1)$(le 2 0)")" >>"$f"
printf "$(mw $R_QNOTIFY 0)"'\xc0\x00'"$(mr $R_ISR)$(mw $R_ACK 1)$(mr $R_ISR)"'\xc1'"$(mr $R_GEN)$(mr $R_ISR)$(mw $R_ACK 2)" >>"$f"
printf "$(mw $R_CFG 0x01020304)"'\x41\x17\xaa\x51\x18\xbb\xcc' >>"$f"

# A hostile driver: unoffered and legacy features, DRIVER_OK anyway,
# queues outside RAM and too large, odd access sizes, resets.
f=$m/seed-hostile
printf "$PROBE$(mw $R_FSEL 0)$(mw $R_FEAT 8)$(mw $R_FSEL 1)$(mw $R_FEAT 1)$(mw $R_STATUS 15)$(mr $R_STATUS)" >"$f"
printf "$(mw $R_FEAT 0)$(mw $R_STATUS 11)$(mr $R_STATUS)"'\xc3' >>"$f"
printf "$PROBE$FEAT$(mq 0 16 0x10000 0x1100 0x1200)$(mr $R_STATUS)$(mq 1 32 0x2000 0x2100 0x2200)$(mw $R_STATUS 15)$(mr $R_STATUS)" >>"$f"
printf "$(mw $R_QSEL 5)$(mr $R_QMAX)$(mw $R_QNUM 8)$(mw $R_QREADY 1)$(mw $R_QNOTIFY 7)" >>"$f"
# status written 1, 2 and 8 bytes wide and unaligned; odd reads
printf '\x40\x70\x00\x0f\x50\x70\x00\x0f\x00\x70\x70\x00\x0f\x00\x00\x00\x00\x00\x00\x00' >>"$f"
printf '\x60\x71\x00\x0f\x00\x00\x00\x00\x00\x00\x10\x02\x00\x30\x00\x00\x20\x01\x00\x20\xfc\x0f\x30\xfc\x0f' >>"$f"
printf "$(mw $R_STATUS 0)$(mr $R_STATUS)$(mw $R_STATUS 0x40)$(mr $R_STATUS)"'\xc3' >>"$f"

# A live queue whose chain loops: the kick breaks the queue, NEEDS_RESET,
# then a reset and a clean set-up on the same rings.
f=$m/seed-broken-ring
printf "$(mmem 0x1000 "$(mdesc 0x3000 8 1 1)$(mdesc 0x3000 8 1 0)")$(mmem 0x1100 "$(le 2 0)$(le 2 1)$(le 2 0)")" >"$f"
printf "$PROBE$FEAT$(mq 0 16 0x1000 0x1100 0x1200)$(mw $R_STATUS 15)$(mw $R_QNOTIFY 0)"'\xc0\x00'"$(mr $R_STATUS)$(mr $R_ISR)" >>"$f"
printf "$(mq 0 8 0x1000 0x1100 0x1200)$(mw $R_STATUS 0)$(mmem 0x1010 "$(mdesc 0x3000 8 2 0)")" >>"$f"
printf "$PROBE$FEAT$(mq 0 16 0x1000 0x1100 0x1200)$(mw $R_STATUS 15)"'\xc0\x00\xc2\x00'"$(mr $R_ISR)$(mr $R_STATUS)" >>"$f"

# ---- virtio-balloon, virtio-console, virtio-rng (fuzz_virtio_devices) ----
d=$C/fuzz_virtio_devices
mkdir -p "$d"
# Queue q's rings: descriptors at 0x10000 + q * 0x4000, available ring
# 0x1000 above, used ring 0x2000 above (tests/unit/virtio_driver.h).
# dmem GPA BYTES: a guest memory record (at most 256 bytes)
dmem() {
	local gpa=$1 bytes=$2 n
	n=$(printf "$bytes" | wc -c)
	printf '\\x00%s%s%s' "$(le 2 $((gpa / 4)))" "$(le 1 $((n - 1)))" "$bytes"
}
ddesc() { printf '%s' "$(le 8 "$1")$(le 4 "$2")$(le 2 "$3")$(le 2 "$4")"; }
# davail Q HEAD...: the available ring of queue Q holding these heads
davail() {
	local q=$1 s="" n=0
	shift
	for h in "$@"; do
		s+=$(le 2 "$h")
		n=$((n + 1))
	done
	dmem $((0x11000 + q * 0x4000)) "$(le 2 0)$(le 2 $n)$s"
}
kick() { printf '\\x%02x' $(((($1) << 2) | 1)); }

# balloon: inflate two PFNs (one inside RAM, one far outside), deflate
# one, a statistics buffer returned with two tags, then a reset.
f=$d/seed-balloon
printf '\x00\x07' >"$f"
printf "$(dmem 0x20000 "$(le 4 0x30)$(le 4 0xfffff)")$(dmem 0x10000 "$(ddesc 0x20000 8 0 0)")$(davail 0 0)$(kick 0)" >>"$f"
printf "$(dmem 0x20100 "$(le 4 0x30)")$(dmem 0x14000 "$(ddesc 0x20100 4 0 0)")$(davail 1 0)$(kick 1)" >>"$f"
printf '\x02\x00' >>"$f"
printf "$(dmem 0x20200 "$(le 2 4)$(le 8 1000000)$(le 2 6)$(le 8 500000)")$(dmem 0x18000 "$(ddesc 0x20200 20 0 0)")$(davail 2 0)$(kick 2)" >>"$f"
printf '\x03\x07\x00\x00\x00\x00' >>"$f"

# balloon: a hostile inflate chain (a loop, an odd length, a write buffer)
f=$d/seed-balloon-hostile
printf '\x00\x03' >"$f"
printf "$(dmem 0x10000 "$(ddesc 0x20000 7 1 1)$(ddesc 0x20000 4096 3 0)")$(davail 0 0 1 5)$(kick 0)$(kick 1)$(kick 2)" >>"$f"

# console: host input with receive buffers posted, guest output on tx
f=$d/seed-console
printf '\x01\x00' >"$f"
printf '\x02\x05hello' >>"$f"
printf "$(dmem 0x10000 "$(ddesc 0x20000 64 2 0)$(ddesc 0x20040 64 2 0)")$(davail 0 0 1)$(kick 0)" >>"$f"
printf '\x02\x03ls\r' >>"$f"
printf "$(dmem 0x20100 'guest says hi\n')$(dmem 0x14000 "$(ddesc 0x20100 14 0 0)")$(davail 1 0)$(kick 1)" >>"$f"

# rng: a small request, an oversize one (indirect table), a read-only one
f=$d/seed-rng
printf '\x02\x40' >"$f"
printf "$(dmem 0x20000 "$(ddesc 0x21000 0x10000 2 0)$(ddesc 0x31000 0x8000 2 0)")" >>"$f"
printf "$(dmem 0x10000 "$(ddesc 0x22000 64 2 0)$(ddesc 0x20000 32 4 0)$(ddesc 0x22000 64 0 0)")$(davail 0 0 1 2)$(kick 0)" >>"$f"

# ---- api: request records, see fuzz_api.c ----
A=$C/fuzz_api
mkdir -p "$A"
# api_req FILE METHOD PATH [BODY]: appends one request. METHOD is a name
# or a selector byte (decimal) for the odd methods and the NULL body bit.
api_req() {
	local LC_ALL=C
	local f=$1 m=$2 path=$3 body=${4-} sel
	case $m in
	GET) sel=0 ;;
	PUT) sel=1 ;;
	PATCH) sel=2 ;;
	POST) sel=6 ;;
	DELETE) sel=7 ;;
	*) sel=$m ;;
	esac
	printf "$(le 1 "$sel")" >>"$f"
	printf '%s\0' "$path" >>"$f"
	printf "$(le 2 ${#body})" >>"$f"
	printf '%s' "$body" >>"$f"
}
RL='{"bandwidth":{"size":1048576,"one_time_burst":4096,"refill_time":100},"ops":{"size":100,"refill_time":1000}}'
BOOT='{"kernel_image_path":"/vmlinux","initrd_path":"/initrd.cpio","boot_args":"console=ttyS0 quiet"}'
MACHINE='{"vcpu_count":2,"mem_size_mib":256,"smt":false,"track_dirty_pages":false,"cpu_template":"None"}'
DRIVE='{"drive_id":"rootfs","path_on_host":"/rootfs.ext4","is_root_device":true,"is_read_only":false,"cache_type":"Unsafe","io_engine":"Sync","rate_limiter":'$RL'}'
NET='{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"06:00:ac:10:00:02","rx_rate_limiter":'$RL'}'
VSOCK='{"guest_cid":3,"uds_path":"/tmp/fuzz-v.sock"}'
BALLOON='{"amount_mib":64,"deflate_on_oom":true,"stats_polling_interval_s":1}'
start='{"action_type":"InstanceStart"}'

# One seed per endpoint: its happy path, then a read back.
f=$A/seed-boot-source
api_req "$f" PUT /boot-source "$BOOT"
api_req "$f" PUT /boot-source '{"kernel_image_path":"/bzImage"}'
api_req "$f" GET /vm/config
f=$A/seed-machine-config
api_req "$f" PUT /machine-config "$MACHINE"
api_req "$f" PATCH /machine-config '{"vcpu_count":4}'
api_req "$f" GET /machine-config
f=$A/seed-drives
api_req "$f" PUT /drives/rootfs "$DRIVE"
api_req "$f" PUT /drives/data '{"drive_id":"data","path_on_host":"/data.img","is_root_device":false,"is_read_only":true,"partuuid":"0eaa91a0-01"}'
api_req "$f" PATCH /drives/data '{"drive_id":"data","path_on_host":"/other.img"}'
api_req "$f" GET /vm/config
f=$A/seed-network-interfaces
api_req "$f" PUT /network-interfaces/eth0 "$NET"
api_req "$f" PUT /network-interfaces/eth1 '{"iface_id":"eth1","host_dev_name":"tap1","mtu":1500}'
api_req "$f" PATCH /network-interfaces/eth0 '{"iface_id":"eth0","tx_rate_limiter":'"$RL"'}'
f=$A/seed-vsock-entropy-serial
api_req "$f" PUT /vsock "$VSOCK"
api_req "$f" PUT /entropy '{"rate_limiter":{"bandwidth":{"size":1000,"refill_time":100}}}'
api_req "$f" PUT /serial '{"serial_out_path":"/tmp/fuzz-serial.log"}'
f=$A/seed-balloon
api_req "$f" PUT /balloon "$BALLOON"
api_req "$f" PATCH /balloon '{"amount_mib":32}'
api_req "$f" PATCH /balloon/statistics '{"stats_polling_interval_s":5}'
api_req "$f" GET /balloon
api_req "$f" GET /balloon/statistics
f=$A/seed-logger-metrics
api_req "$f" PUT /logger '{"log_path":"/tmp/fuzz.log","level":"Debug","show_level":true,"show_log_origin":false}'
api_req "$f" PUT /metrics '{"metrics_path":"/tmp/fuzz-metrics.json"}'
api_req "$f" PUT /actions '{"action_type":"FlushMetrics"}'
f=$A/seed-mmds
api_req "$f" PUT /mmds '{"latest":{"meta-data":{"ami-id":"ami-1234","tags":[1,2.5,null,true]}}}'
api_req "$f" PATCH /mmds '{"latest":{"meta-data":{"ami-id":null,"x":"y"}}}'
api_req "$f" GET /mmds
f=$A/seed-info
api_req "$f" GET /
api_req "$f" GET /version
api_req "$f" GET /vm/config

# The whole life cycle: configure, start, pause, resume, run-time updates,
# Ctrl-Alt-Del, pre-boot requests refused after start.
f=$A/seed-lifecycle
api_req "$f" PUT /machine-config "$MACHINE"
api_req "$f" PUT /boot-source "$BOOT"
api_req "$f" PUT /drives/rootfs "$DRIVE"
api_req "$f" PUT /network-interfaces/eth0 "$NET"
api_req "$f" PUT /vsock "$VSOCK"
api_req "$f" PUT /balloon "$BALLOON"
api_req "$f" PUT /actions "$start"
api_req "$f" GET /
api_req "$f" PATCH /vm '{"state":"Paused"}'
api_req "$f" PATCH /vm '{"state":"Paused"}'
api_req "$f" GET /
api_req "$f" PATCH /vm '{"state":"Resumed"}'
api_req "$f" PATCH /balloon '{"amount_mib":16}'
api_req "$f" GET /balloon/statistics
api_req "$f" PATCH /drives/rootfs '{"drive_id":"rootfs","rate_limiter":{"ops":{"size":5,"refill_time":10}}}'
api_req "$f" PATCH /network-interfaces/eth0 '{"iface_id":"eth0","rx_rate_limiter":{}}'
api_req "$f" PUT /boot-source "$BOOT"
api_req "$f" PUT /machine-config "$MACHINE"
api_req "$f" PUT /actions "$start"
api_req "$f" PUT /actions '{"action_type":"SendCtrlAltDel"}'
api_req "$f" GET /vm/config

# Malformed JSON: truncated, not an object, duplicate keys, bad UTF-8,
# a NUL inside, trailing garbage, deep nesting, empty.
f=$A/seed-malformed
api_req "$f" PUT /boot-source '{"kernel_image_path":"/vmlinux"'
api_req "$f" PUT /machine-config '[2,256]'
api_req "$f" PUT /machine-config '"vcpu_count"'
api_req "$f" PUT /machine-config '{"vcpu_count":1,"vcpu_count":2,"mem_size_mib":128}'
api_req "$f" PUT /boot-source "$(printf '{"kernel_image_path":"/k\xff\xfe"}')"
api_req "$f" PUT /drives/a '{"drive_id":"a","path_on_host":"x"} {}'
api_req "$f" PUT /mmds "$(printf '%.0s[' {1..300})"
api_req "$f" PUT /actions ''
api_req "$f" 17 /actions ''
api_req "$f" PATCH /vm '{"state":"Paused\u0000"}'
printf '\x01/boot-source\0\x20\x00{"kernel_image_path":"/a\0b"}xxxxx' >>"$f"

# Known fields with the wrong types or values, and unknown fields.
f=$A/seed-unknown-fields
api_req "$f" PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256,"frobnicate":1}'
api_req "$f" PUT /machine-config '{"vcpu_count":"2","mem_size_mib":256}'
api_req "$f" PUT /machine-config '{"vcpu_count":0,"mem_size_mib":-1}'
api_req "$f" PUT /machine-config '{"vcpu_count":9223372036854775807,"mem_size_mib":18446744073709551616}'
api_req "$f" PUT /machine-config '{"vcpu_count":2.5,"mem_size_mib":1e3,"cpu_template":"T2"}'
api_req "$f" PUT /boot-source '{"kernel_image_path":null,"extra":[]}'
api_req "$f" PUT /drives/x '{"drive_id":"y","path_on_host":"/d","is_root_device":"yes","is_read_only":1}'
api_req "$f" PUT /drives/x '{"drive_id":"x","is_root_device":false,"socket":"/vhost.sock"}'
api_req "$f" PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"zz:00:00:00:00:00","mtu":67}'
api_req "$f" PUT /vsock '{"guest_cid":2,"uds_path":"","vsock_id":"v"}'
api_req "$f" PUT /balloon '{"amount_mib":64}'
api_req "$f" PUT /actions '{"action_type":"Reboot"}'
api_req "$f" PUT /actions '{"action_type":"InstanceStart","extra":true}'
api_req "$f" PATCH /vm '{"state":"Running"}'
api_req "$f" PUT /logger '{"level":"Chatty"}'
api_req "$f" PUT /snapshot/create '{"snapshot_path":"/s","mem_file_path":"/m"}'

# Too large: a body over 51200 bytes, ids and paths of every length edge.
f=$A/seed-oversize
api_req "$f" PUT /boot-source "{\"kernel_image_path\":\"/$(head -c 51300 /dev/zero | tr '\0' k)\"}"
api_req "$f" PUT /boot-source "{\"kernel_image_path\":\"/$(head -c 4096 /dev/zero | tr '\0' k)\"}"
id64=$(head -c 64 /dev/zero | tr '\0' d)
api_req "$f" PUT "/drives/$id64" "{\"drive_id\":\"$id64\",\"path_on_host\":\"/d\",\"is_root_device\":false}"
api_req "$f" PUT "/drives/${id64}x" "{\"drive_id\":\"${id64}x\",\"path_on_host\":\"/d\",\"is_root_device\":false}"
for i in $(seq 0 20); do
	api_req "$f" PUT "/drives/d$i" "{\"drive_id\":\"d$i\",\"path_on_host\":\"/d\",\"is_root_device\":false}"
done
api_req "$f" PUT /boot-source "{\"kernel_image_path\":\"/k\",\"boot_args\":\"$(head -c 3000 /dev/zero | tr '\0' a)\"}"

# Odd methods and paths.
f=$A/seed-odd-requests
api_req "$f" POST /actions "$start"
api_req "$f" DELETE /drives/rootfs
api_req "$f" 8 /
api_req "$f" 9 '*'
api_req "$f" 10 /
api_req "$f" 11 /version
api_req "$f" 12 /boot-source '{}'
api_req "$f" GET ''
api_req "$f" GET /drives/
api_req "$f" PUT /drives//x '{}'
api_req "$f" PUT /drives/a/b '{}'
api_req "$f" GET '/vm/config?x=1'
api_req "$f" GET /../version
api_req "$f" GET //
api_req "$f" GET /VERSION
api_req "$f" PUT /pmem/p '{"id":"p","path_on_host":"/p"}'
api_req "$f" 16 /
