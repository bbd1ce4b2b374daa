# The VMM's per-thread seccomp filters (docs/seccomp.md): a forbidden
# system call from each thread kind kills the process by SIGSYS
# (OSPREY_SECCOMP_SELFTEST), not with --no-seccomp; tiny guests and the
# default Linux guest run with the filters on.
# Needs: $OSPREY (release build), $GUESTS; for the Linux tests $KERNEL_DIR
# and $INITRAMFS; optional $OSPREY_ASAN (the ASan+UBSan build).

SIGSYS_STATUS=159 # 128 + SIGSYS (31), as timeout --preserve-status reports it

# A Firecracker config file booting hello.elf, for the API-mode kinds.
hello_config() { # file
	cat >"$1" <<JSON
{
  "boot-source": {"kernel_image_path": "$GUESTS/hello.elf", "boot_args": "seccomp-test"},
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 64}
}
JSON
}

# selftest_run KIND [--no-seccomp]: the first KIND thread calls times().
# The machine has every thread kind: soft timer, a virtio device, metrics.
selftest_run() {
	local kind=$1
	shift
	status=0
	case "$kind" in
	main | api)
		hello_config "$TEST_TMP/vm.json"
		local api=(--no-api)
		[[ "$kind" == api ]] && api=(--api-sock "$TEST_TMP/api.sock")
		OSPREY_SECCOMP_SELFTEST=$kind timeout --preserve-status --kill-after=5 30 \
			"$OSPREY" "${api[@]}" --config-file "$TEST_TMP/vm.json" "$@" \
			>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
		;;
	*)
		OSPREY_SECCOMP_SELFTEST=$kind timeout --preserve-status --kill-after=5 30 \
			"$OSPREY" run --accel soft --kernel "$GUESTS/hello.elf" --rng \
			--metrics "$TEST_TMP/metrics.json" "$@" \
			>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
		;;
	esac
}

selftest_kills() { # kind
	selftest_run "$1"
	expect_grep "seccomp: self-test: the $1 thread calls times\(\)" "$TEST_TMP/err"
	expect_no_grep "survived" "$TEST_TMP/err"
	expect_status "$SIGSYS_STATUS" "$status" "forbidden call from the $1 thread"
	# and the same run without filters goes on to the guest's poweroff
	selftest_run "$1" --no-seccomp
	expect_grep "seccomp: self-test: the $1 thread survived times\(\) \(filters off\)" "$TEST_TMP/err"
	expect_status 0 "$status" "the $1 self-test with --no-seccomp"
	expect_grep "^hello from osprey test guest" "$TEST_TMP/out"
}

test_selftest_main_thread() { selftest_kills main; }
test_selftest_api_thread() { selftest_kills api; }
test_selftest_vmm_thread() { selftest_kills vmm; }
test_selftest_vcpu_thread() { selftest_kills vcpu; }
test_selftest_device_io_thread() { selftest_kills device-io; }
test_selftest_timer_thread() { selftest_kills timer; }
test_selftest_metrics_thread() { selftest_kills metrics; }

test_selftest_vcpu_thread_on_kvm() {
	needs_kvm "the vCPU filter with the KVM ioctls"
	status=0
	OSPREY_SECCOMP_SELFTEST=vcpu timeout --preserve-status 30 "$OSPREY" run --accel kvm \
		--kernel "$GUESTS/hello.elf" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status "$SIGSYS_STATUS" "$status" "forbidden call from a KVM vCPU thread"
	osprey_run_kvm --kernel "$GUESTS/smp.elf" --cpus 2
	expect_status 0 "$status" "SMP guest on KVM with filters"
	expect_grep "vcpu filter installed \(first vcpu thread\), KVM ioctls" "$TEST_TMP/err"
}

osprey_run_kvm() {
	status=0
	timeout --preserve-status 30 "$OSPREY" run --accel kvm --log-level info "$@" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
}

test_bad_selftest_kind_is_one_error() {
	status=0
	OSPREY_SECCOMP_SELFTEST=nope "$OSPREY" run --kernel "$GUESTS/hello.elf" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status 1 "$status" "unknown self-test kind"
	expect_grep "^osprey: error: run: OSPREY_SECCOMP_SELFTEST=nope: not a thread kind" "$TEST_TMP/err"
	expect_lines 1 "$TEST_TMP/err"
}

# Tiny guests with the filters on (the default), each kind logged once.
test_tiny_guests_with_filters() {
	osprey_run 30 --accel soft --kernel "$GUESTS/hello.elf" --rng --log-level info \
		--metrics "$TEST_TMP/metrics.json"
	expect_status 0 "$status" "hello guest"
	local k
	for k in vmm vcpu device-io timer metrics; do
		expect_grep "seccomp: $k filter installed \(first $k thread\)" "$TEST_TMP/err"
	done
	[[ $(grep -c "vcpu filter installed" "$TEST_TMP/err") -eq 1 ]] || fail "logged more than once"
	osprey_run 60 --accel soft --kernel "$GUESTS/smp.elf" --cpus 4
	expect_status 0 "$status" "SMP guest, 4 vCPUs"
	truncate -s 2M "$TEST_TMP/disk.img"
	osprey_run 60 --accel soft --kernel "$GUESTS/blk_bench.elf" --disk "$TEST_TMP/disk.img" \
		--memory 64M --cmdline "blk_bench.mib=1 blk_bench.ios=200"
	expect_status 0 "$status" "virtio-blk guest"
	expect_grep '^blk_bench: seqwrite 64KiB qd16' "$TEST_TMP/out"
	# --on-reboot restart builds the machine again under the vmm filter
	osprey_run 3 --accel soft --kernel "$GUESTS/reboot.elf" --on-reboot restart --log-level info
	expect_status 143 "$status" "restarting guest stopped by SIGTERM"
	[[ $(grep -c "guest rebooted: restarting" "$TEST_TMP/err") -ge 2 ]] ||
		fail "the machine was not rebuilt twice under the filter"
}

test_no_seccomp_logged() {
	osprey_run 30 --accel soft --kernel "$GUESTS/hello.elf" --no-seccomp --log-level info
	expect_status 0 "$status" "hello guest without filters"
	expect_grep "seccomp: filters off \(--no-seccomp\)" "$TEST_TMP/err"
	expect_no_grep "filter installed" "$TEST_TMP/err"
}

test_api_mode_with_filters() {
	hello_config "$TEST_TMP/vm.json"
	status=0
	timeout --preserve-status 30 "$OSPREY" --api-sock "$TEST_TMP/api.sock" --log-level Info \
		--config-file "$TEST_TMP/vm.json" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null ||
		status=$?
	expect_status 0 "$status" "API mode with a config file"
	local k
	for k in main api vmm vcpu; do
		expect_grep "seccomp: $k filter installed" "$TEST_TMP/err"
	done
	[[ ! -e "$TEST_TMP/api.sock" ]] || fail "the API socket was not removed at the end"
}

# The ASan+UBSan build keeps its filters (with the sanitizer's calls).
test_asan_build_with_filters() {
	[[ -n "${OSPREY_ASAN:-}" && -x "${OSPREY_ASAN:-}" ]] || skip "OSPREY_ASAN (the ASan build) not given"
	local OSPREY=$OSPREY_ASAN
	osprey_run 60 --accel soft --kernel "$GUESTS/smp.elf" --cpus 2 --rng --log-level info
	expect_status 0 "$status" "SMP guest, ASan build"
	expect_grep "seccomp: vcpu filter installed" "$TEST_TMP/err"
	selftest_run vcpu
	expect_status "$SIGSYS_STATUS" "$status" "forbidden call, ASan build"
}

# The default Linux guest with every device the software CPU test suite
# uses, with the filters on, the release build (the e2e section runs the
# ASan build).
test_linux_guest_with_filters() {
	[[ -f "${KERNEL_DIR:-}/vmlinux" && -f "${INITRAMFS:-}" ]] || fail "default guest missing"
	local cmds='echo CPUS=$(nproc); head -c 16 /dev/hwrng | wc -c; echo DONE-$((6 * 7))'
	osprey_run 400 --accel soft --kernel "$KERNEL_DIR/vmlinux" --initrd "$INITRAMFS" \
		--cpus 2 --memory 256M --rng --balloon target=32M --log-level info \
		--cmdline "quiet osprey_run=\"$cmds\""
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/o" && mv "$TEST_TMP/o" "$TEST_TMP/out"
	expect_status 0 "$status" "Linux guest with filters"
	expect_grep '^CPUS=2$' "$TEST_TMP/out"
	expect_grep '^16$' "$TEST_TMP/out"
	expect_grep '^DONE-42$' "$TEST_TMP/out"
	expect_grep "seccomp: device-io filter installed" "$TEST_TMP/err"
}

# OSPREY_SECCOMP_LOG=1: the forbidden call is named before the end.
test_log_mode_names_the_call() {
	status=0
	OSPREY_SECCOMP_LOG=1 OSPREY_SECCOMP_SELFTEST=device-io timeout --preserve-status 30 \
		"$OSPREY" run --accel soft --kernel "$GUESTS/hello.elf" --rng \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status "$SIGSYS_STATUS" "$status" "forbidden call in log mode"
	# times() is 100 on x86-64
	expect_grep "^osprey: error: seccomp: forbidden system call 100 \(thread [0-9]+\); scmp_sys_resolver 100 names it$" "$TEST_TMP/err"
}

# The metrics thread opens a --metrics FIFO again when a reader comes, and
# takes back the SIGPIPE when it goes, under its filter.
test_metrics_fifo_reader_comes_and_goes() {
	local pid
	mkfifo "$TEST_TMP/m.fifo"
	OSPREY_METRICS_INTERVAL_MS=50 "$OSPREY" run --accel soft --kernel "$GUESTS/hostile.elf" \
		--cmdline hostile.mode=1 --metrics "$TEST_TMP/m.fifo" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	pid=$!
	sleep 0.5
	timeout 1 cat "$TEST_TMP/m.fifo" >"$TEST_TMP/lines" || true
	sleep 0.5
	kill -0 "$pid" 2>/dev/null || fail "osprey ended while the metrics reader came and went"
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	expect_status 143 "$status" "osprey stopped by SIGTERM"
	[[ -s "$TEST_TMP/lines" ]] || fail "no metrics line through the FIFO"
}
