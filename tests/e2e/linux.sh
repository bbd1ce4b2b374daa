# End-to-end: boot the default Linux guest (kernel from Debian's
# linux-source-6.1 with osprey's config and patches, busybox initramfs).
# Each boot checks many things at once: on hosts that emulate guest kernel
# code a boot takes tens of seconds.
# Needs: $OSPREY, $KERNEL_DIR (vmlinux, bzImage), $INITRAMFS.

BOOT_LIMIT=${OSPREY_E2E_TIMEOUT:-400}

# The guest's tty turns "\n" into "\r\n"; tests match plain lines.
strip_cr() {
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/out.txt" && mv "$TEST_TMP/out.txt" "$TEST_TMP/out"
}

need_guest() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$KERNEL_DIR/bzImage" ]] || fail "guest kernel missing"
	[[ -f "$INITRAMFS" ]] || fail "initramfs missing"
}

# Waits until $1 (a file) contains $2, at most $3 seconds.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

test_pvh_smp_interactive_shell() {
	# PVH entry of vmlinux, 2 vCPUs, 384 MiB; commands typed on the serial
	# console (host stdin -> UART receive -> IRQ 4 -> guest shell).
	need_guest
	local fifo="$TEST_TMP/in" pid host_date
	mkfifo "$fifo"
	host_date=$(date -u +%F)
	timeout --preserve-status "$BOOT_LIMIT" "$OSPREY" run --kernel "$KERNEL_DIR/vmlinux" \
		--initrd "$INITRAMFS" --cpus 2 --memory 384M --cmdline quiet \
		<"$fifo" >"$TEST_TMP/out" 2>"$TEST_TMP/err" &
	pid=$!
	exec 3>"$fifo"
	wait_for "$TEST_TMP/out" "osprey-guest: init reached" "$BOOT_LIMIT" || {
		kill "$pid" 2>/dev/null
		cat "$TEST_TMP/err" >&2
		tail -20 "$TEST_TMP/out" >&2
		fail "guest did not reach init"
	}
	sleep 1
	cat >&3 <<'CMDS'
echo CPUS=$(nproc) ONLINE=$(cat /sys/devices/system/cpu/online)
grep MemTotal /proc/meminfo
echo CLOCKS=$(cat /sys/devices/system/clocksource/clocksource0/available_clocksource)
echo RTC=$(cat /sys/class/rtc/rtc0/date 2>/dev/null || echo none)
echo SUM=$(echo osprey | sha256sum | cut -c1-16)
echo CMDLINE=$(cat /proc/cmdline)
echo DONE-$((6 * 7))
poweroff -f
CMDS
	wait "$pid" || status=$?
	status=${status:-0}
	exec 3>&-
	if grep -q Sanitizer "$TEST_TMP/err"; then
		cat "$TEST_TMP/err" >&2
		fail "sanitizer report"
	fi
	strip_cr
	expect_status 0 "$status" "guest poweroff"
	expect_grep '^DONE-42' "$TEST_TMP/out"
	expect_grep '^CPUS=2 ONLINE=0-1' "$TEST_TMP/out"
	local kb
	kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB.*/\1/p' "$TEST_TMP/out")
	# The kernel keeps some RAM for itself: expect 85-100% of --memory.
	((kb > 384 * 1024 * 85 / 100 && kb <= 384 * 1024)) ||
		fail "guest MemTotal $kb kB for --memory 384M"
	expect_grep "^CLOCKS=.*kvm-clock" "$TEST_TMP/out"
	expect_grep "^SUM=$(echo osprey | sha256sum | cut -c1-16)" "$TEST_TMP/out"
	# CMOS RTC reports host UTC date (allow the boot to cross midnight).
	grep -qE "^RTC=($host_date|$(date -u +%F))" "$TEST_TMP/out" ||
		fail "guest RTC date differs from the host's: $(grep ^RTC= "$TEST_TMP/out")"
	expect_grep '^CMDLINE=console=ttyS0 .*quiet' "$TEST_TMP/out"
	expect_grep 'osprey: boot marker 1 from mmio at' "$TEST_TMP/err"
	expect_no_grep 'error' "$TEST_TMP/err"
}

test_bzimage_run_command_and_reboot() {
	# bzImage through the 64-bit boot protocol, 1 vCPU, the documented
	# non-interactive mode (osprey_run=...), then a guest reboot through
	# the i8042 controller: osprey exits with status 2.
	need_guest
	osprey_run "$BOOT_LIMIT" --kernel "$KERNEL_DIR/bzImage" --initrd "$INITRAMFS" \
		--memory 128M --log-level info \
		--cmdline 'quiet osprey_run="echo BZ $(nproc) $(uname -m); reboot -f"'
	strip_cr
	expect_grep '^osprey-guest: init reached' "$TEST_TMP/out"
	expect_grep '^BZ 1 x86_64$' "$TEST_TMP/out"
	expect_status 2 "$status" "guest reboot"
	expect_grep 'i8042: guest reset the CPU|guest rebooted' "$TEST_TMP/err"
}
