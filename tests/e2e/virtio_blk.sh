# End-to-end: virtio-blk and virtio-rng in the default Linux guest, in one
# boot: read a known file from an ext4 image, write a file and find it in
# the host image after osprey exits, a read-only disk refuses writes, and
# /dev/hwrng delivers bytes, and a virtio-balloon with a 64 MiB target
# takes that memory away from the guest (MemTotal drops below
# --memory - 64M; without a balloon it stays above 85% of --memory, as
# tests/e2e/linux.sh checks).
# Needs: $OSPREY, $KERNEL_DIR, $INITRAMFS.

BOOT_LIMIT=${OSPREY_E2E_TIMEOUT:-400}

test_virtio_blk_ext4_rw_ro_and_rng() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	local src="$TEST_TMP/src" sum
	mkdir -p "$src"
	head -c 1048576 /dev/urandom >"$src/known.bin"
	sum=$(sha256sum "$src/known.bin" | cut -c1-64)
	# Disk 1: ext4 with a known file, read-write. Disk 2: raw, read-only.
	truncate -s 32M "$TEST_TMP/data.ext4"
	mkfs.ext4 -q -F -d "$src" "$TEST_TMP/data.ext4" || fail "mkfs.ext4"
	head -c 4194304 /dev/urandom >"$TEST_TMP/ro.img"
	local ro_sum
	ro_sum=$(sha256sum "$TEST_TMP/ro.img" | cut -c1-64)

	local cmds
	cmds='mkdir /mnt; mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED;'
	cmds+=' echo KNOWN=$(sha256sum /mnt/known.bin | cut -c1-64);'
	cmds+=' echo written-by-the-guest > /mnt/new.txt; sync; umount /mnt;'
	cmds+=' echo RO=$(cat /sys/block/vdb/ro);'
	cmds+=' dd if=/dev/zero of=/dev/vdb bs=512 count=8 conv=fsync 2>/dev/null && echo RO-WRITE-OK || echo RO-WRITE-REFUSED;'
	cmds+=' echo ROSUM=$(sha256sum /dev/vdb | cut -c1-64);'
	# 1 MiB O_DIRECT reads: requests as large as the device's seg_max allows
	cmds+=' echo DIRECTSUM=$(dd if=/dev/vdb bs=1M count=4 iflag=direct 2>/dev/null | sha256sum | cut -c1-64);'
	cmds+=' echo SERIAL=$(cat /sys/block/vda/serial);'
	cmds+=' echo RNG=$(dd if=/dev/hwrng bs=64 count=4 2>/dev/null | wc -c);'
	# The balloon inflates in the background; wait for it (at most 120 s).
	# (No double quotes: they delimit osprey_run on the kernel command line.)
	cmds+=' i=0; while [ $i -lt 120 ]; do'
	cmds+=' while read -r k v u; do [ $k = MemTotal: ] && t=$v; done </proc/meminfo;'
	cmds+=' [ $t -le 204800 ] && break; sleep 1; i=$((i+1)); done; echo BALLOON_MEMTOTAL=$t'
	osprey_run "$BOOT_LIMIT" --kernel "$KERNEL_DIR/vmlinux" --initrd "$INITRAMFS" \
		--memory 256M --disk "$TEST_TMP/data.ext4,id=data0" \
		--disk "$TEST_TMP/ro.img,ro,cache=none" --rng --balloon target=64M \
		--cmdline "quiet osprey_run=\"$cmds\""
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/o" && mv "$TEST_TMP/o" "$TEST_TMP/out"
	expect_status 0 "$status" "guest poweroff"
	expect_no_grep 'MOUNT-FAILED' "$TEST_TMP/out"
	expect_grep "^KNOWN=$sum\$" "$TEST_TMP/out"
	expect_grep '^RO=1$' "$TEST_TMP/out"
	expect_grep '^RO-WRITE-REFUSED$' "$TEST_TMP/out"
	expect_grep "^ROSUM=$ro_sum\$" "$TEST_TMP/out"
	expect_grep "^DIRECTSUM=$ro_sum\$" "$TEST_TMP/out"
	expect_no_grep 'needs a reset' "$TEST_TMP/err"
	expect_grep '^SERIAL=data0$' "$TEST_TMP/out"
	expect_grep '^RNG=256$' "$TEST_TMP/out"
	local kb
	kb=$(sed -n 's/^BALLOON_MEMTOTAL=\([0-9]*\)$/\1/p' "$TEST_TMP/out")
	[[ -n "$kb" ]] || fail "no MemTotal reading after inflation"
	# 256 MiB - 64 MiB = 196608 kB, less what the kernel keeps; more than
	# 100 MiB must be left (the balloon takes its target, not more).
	((kb <= 204800 && kb > 102400)) || fail "guest MemTotal $kb kB with a 64 MiB balloon"
	# The guest's write reached the host image.
	debugfs -R 'cat /new.txt' "$TEST_TMP/data.ext4" 2>/dev/null >"$TEST_TMP/new.txt"
	expect_grep '^written-by-the-guest$' "$TEST_TMP/new.txt"
	[[ "$(sha256sum "$TEST_TMP/ro.img" | cut -c1-64)" == "$ro_sum" ]] ||
		fail "read-only image changed"
}
