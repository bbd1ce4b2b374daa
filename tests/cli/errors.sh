# Bad input: every case must end with exactly one clear error line on
# stderr and a non-zero status, never a crash or a sanitizer report.
# Needs: $OSPREY, $GUESTS, and $KERNEL_DIR (the default guest kernel).

expect_one_error() { # [--] pattern
	[[ "$1" == "--" ]] && shift
	[[ "$status" -ne 0 ]] || fail "exit status 0 for bad input"
	[[ "$status" -lt 128 ]] || fail "osprey died with signal $((status - 128))"
	expect_lines 1 "$TEST_TMP/err"
	expect_grep "^osprey: error: .*$1" "$TEST_TMP/err"
}

test_missing_kernel_file() {
	osprey_run 10 --kernel /nonexistent/vmlinux
	expect_one_error 'kernel: /nonexistent/vmlinux: No such file or directory'
}

test_no_kernel_flag() {
	osprey_run 10 --memory 64M
	expect_one_error 'no kernel given'
}

test_unreadable_kernel() {
	cp "$GUESTS/hello.elf" "$TEST_TMP/k"
	chmod 000 "$TEST_TMP/k"
	chmod 755 "$TEST_TMP"
	status=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$OSPREY" run --accel kvm --kernel "$TEST_TMP/k" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
	expect_one_error 'Permission denied'
}

test_kernel_is_a_directory() {
	osprey_run 10 --kernel "$TEST_TMP"
	expect_one_error 'not a regular file'
}

test_not_a_kernel() {
	head -c 65536 /dev/urandom >"$TEST_TMP/junk"
	osprey_run 10 --kernel "$TEST_TMP/junk"
	expect_one_error 'not a kernel'
}

test_empty_kernel() {
	: >"$TEST_TMP/empty"
	osprey_run 10 --kernel "$TEST_TMP/empty"
	expect_one_error 'not a kernel'
}

test_truncated_bzimage() {
	local size
	size=$(stat -c %s "$KERNEL_DIR/bzImage")
	head -c $((size / 2)) "$KERNEL_DIR/bzImage" >"$TEST_TMP/half"
	osprey_run 10 --kernel "$TEST_TMP/half"
	expect_one_error 'bzImage truncated'
}

test_truncated_elf() {
	head -c 200 "$GUESTS/hello.elf" >"$TEST_TMP/short.elf"
	osprey_run 10 --kernel "$TEST_TMP/short.elf"
	expect_one_error 'ELF kernel is truncated'
}

test_initrd_larger_than_ram() {
	truncate -s 20M "$TEST_TMP/big.cpio"
	osprey_run 10 --kernel "$GUESTS/hello.elf" --initrd "$TEST_TMP/big.cpio" --memory 16M
	expect_one_error 'larger than guest RAM'
}

test_initrd_does_not_fit_above_kernel() {
	truncate -s 15M "$TEST_TMP/big.cpio"
	osprey_run 10 --kernel "$GUESTS/hello.elf" --initrd "$TEST_TMP/big.cpio" --memory 16M
	expect_one_error 'does not fit in guest RAM'
}

test_missing_initrd() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --initrd /nonexistent.cpio
	expect_one_error 'initrd: /nonexistent.cpio: No such file'
}

test_memory_zero() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --memory 0
	expect_one_error -- '--memory must be larger than 0'
}

test_memory_larger_than_host() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --memory 64T
	expect_one_error 'more than the host has'
}

test_memory_garbage() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --memory lots
	expect_one_error -- "--memory 'lots'"
}

test_memory_overflow() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --memory 99999999999999999999G
	expect_one_error 'too large'
}

test_cpus_zero() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --cpus 0
	expect_one_error -- '--cpus must be at least 1'
}

test_cpus_above_limit() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --cpus 100000
	expect_one_error -- '--cpus 100000 is above'
}

test_cpus_not_a_number() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --cpus two
	expect_one_error -- "--cpus 'two'"
}

test_unknown_flag() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --frobnicate
	expect_one_error "unknown option '--frobnicate'"
}

test_flag_missing_value() {
	osprey_run 10 --kernel
	expect_one_error "option '--kernel' needs a value"
}

test_unknown_cpu_template() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --cpu-template pentium
	expect_one_error "unknown CPU template 'pentium'"
}

test_bad_console() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --console serial
	expect_one_error -- "--console 'serial'"
}

test_unknown_command() {
	status=0
	"$OSPREY" frobnicate >"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
	expect_one_error "unknown command 'frobnicate'"
}

test_dev_kvm_missing() {
	# A private mount namespace with an empty /dev hides /dev/kvm.
	status=0
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run --accel kvm --kernel "$1"' \
		"$OSPREY" "$GUESTS/hello.elf" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
	expect_one_error 'cannot open /dev/kvm: no such device'
}

test_dev_kvm_not_openable() {
	needs_kvm "the test needs a /dev/kvm node to deny"
	chmod 755 "$TEST_TMP"
	cp "$GUESTS/hello.elf" "$TEST_TMP/k"
	chmod 644 "$TEST_TMP/k"
	status=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$OSPREY" run --accel kvm --kernel "$TEST_TMP/k" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
	expect_one_error 'cannot open /dev/kvm: permission denied'
}

test_unknown_accelerator() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --accel quantum
	expect_one_error "unknown accelerator 'quantum'"
}

test_help_succeeds() {
	status=0
	"$OSPREY" run --help >"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
	expect_status 0 "$status" "run --help"
	local flag
	for flag in --kernel --initrd --cmdline --memory --cpus --cpu-template --console --log-level --on-reboot; do
		expect_grep -- "$flag" "$TEST_TMP/out"
	done
}

test_bad_rate_limits() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --disk "$GUESTS/hello.elf,bw=10M"
	expect_one_error "--disk: bw '10M': expected BYTES/MS"
	osprey_run 10 --kernel "$GUESTS/hello.elf" --net "tap=t0,tx-ops=5/0"
	expect_one_error "--net: tx-ops '5/0'"
	osprey_run 10 --kernel "$GUESTS/hello.elf" --rng bw=fast/1
	expect_one_error "--rng: bw 'fast/1'"
}

test_metrics_path_unwritable() {
	osprey_run 10 --kernel "$GUESTS/hello.elf" --metrics /nonexistent/dir/metrics.json
	expect_one_error "cannot open /nonexistent/dir/metrics.json"
}
