# The default Linux guest snapshotted mid-work and restored in a new
# process: a shell loop counts and writes a block of a virtio-blk disk per
# step (fsync'ed); the snapshot is taken in the middle, the VMM killed,
# and the restored guest finishes the loop: the sum, the disk contents
# (read back by the guest and checked on the host) and the clock (which
# jumped forward over the time the machine was away) are right.
# Needs: $OSPREY, $KERNEL_DIR, $INITRAMFS, curl, python3.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOOPS=30
# No double quotes or backslashes: it goes inside osprey_run="..." in boot_args.
LINUX_CMDS='echo START; s=0; i=0; while [ $i -lt '$LOOPS' ]; do i=$((i+1)); s=$((s+i)); echo line-$i | dd of=/dev/vda bs=512 seek=$i conv=notrunc,fsync 2>/dev/null; echo LOOP $i $(date +%s); sleep 0.1; done; echo DISK=$(dd if=/dev/vda bs=512 skip=1 count='$LOOPS' 2>/dev/null | md5sum | cut -c1-32); echo SUM=$s; echo NOW=$(date +%s)'

# What the guest's loop leaves in blocks 1..LOOPS: "line-N\n", zero-padded.
disk_md5() {
	python3 -c '
import hashlib, sys
n = int(sys.argv[1])
print(hashlib.md5(b"".join(("line-%d\n" % i).encode().ljust(512, b"\0") for i in range(1, n + 1))).hexdigest())' "$1"
}

test_linux_mid_work_snapshot_restore() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	local d="$TEST_TMP" args at_loop at_date first_date now host_now
	truncate -s 1M "$d/disk.img"
	vmm a
	args="console=ttyS0 reboot=k panic=1 pci=off quiet osprey_run=\\\"$LINUX_CMDS\\\""
	ok a PUT /boot-source "{\"kernel_image_path\": \"$KERNEL_DIR/vmlinux\", \"initrd_path\": \"$INITRAMFS\", \"boot_args\": \"$args\"}"
	ok a PUT /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$d/disk.img\", \"is_root_device\": false, \"is_read_only\": false}"
	ok a PUT /machine-config "{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"accel\": \"$OSPREY_ACCEL\"}"
	ok a PUT /actions '{"action_type": "InstanceStart"}'
	wait_for "$d/a.out" '^LOOP 12 ' 120 || {
		tail -20 "$d/a.out" >&2
		fail "the guest did not get to its loop"
	}
	ok a PATCH /vm '{"state": "Paused"}'
	tr -d '\r' <"$d/a.out" >"$d/a.txt"
	at_loop=$(sed -n 's/^LOOP \([0-9]*\) .*/\1/p' "$d/a.txt" | tail -n 1)
	at_date=$(sed -n 's/^LOOP [0-9]* \([0-9]*\)$/\1/p' "$d/a.txt" | tail -n 1)
	((at_loop < LOOPS)) || fail "the loop ended before the snapshot"
	ok a PUT /snapshot/create "{\"snapshot_path\": \"$d/linux.snap\", \"mem_file_path\": \"$d/linux.mem\"}"
	kill_vmm a
	# Away for a while: the restored guest's clock must show it.
	sleep 2
	restore_cli "$d/linux.snap" "$d/linux.mem" "$d/r.out" "$d/r.err"
	host_now=$(date +%s)
	tr -d '\r' <"$d/r.out" >"$d/r.txt"
	expect_status 0 "$status" "restored Linux guest"
	# It went on: no boot, no START, the next step of the loop, to the end.
	expect_no_grep 'Linux version|osprey-guest: init reached|^START' "$d/r.txt"
	expect_grep "^LOOP $((at_loop + 1)) " "$d/r.txt"
	expect_grep "^LOOP $LOOPS " "$d/r.txt"
	expect_grep "^SUM=$((LOOPS * (LOOPS + 1) / 2))\$" "$d/r.txt"
	expect_grep "^DISK=$(disk_md5 $LOOPS)\$" "$d/r.txt"
	# The host sees the same blocks.
	[[ "$(dd if="$d/disk.img" bs=512 skip=1 count=$LOOPS 2>/dev/null | md5sum | cut -c1-32)" == "$(disk_md5 $LOOPS)" ]] ||
		fail "the disk image does not hold the guest's writes"
	# The clock: the first step after the restore is at least 2 s after the
	# last one before it, and the guest's time at the end is the host's.
	first_date=$(sed -n "s/^LOOP $((at_loop + 1)) \([0-9]*\)\$/\1/p" "$d/r.txt")
	now=$(sed -n 's/^NOW=\([0-9]*\)$/\1/p' "$d/r.txt")
	[[ -n "$first_date" && -n "$now" ]] || fail "no dates from the restored guest"
	((first_date >= at_date + 2)) ||
		fail "the guest clock did not jump forward: $at_date before, $first_date after 2 s away"
	((now <= host_now && now >= host_now - 3)) ||
		fail "guest time $now at the end, host time $host_now"
	expect_no_grep 'error' "$d/r.err"
}
