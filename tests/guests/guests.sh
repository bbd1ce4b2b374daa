# Machine tests with osprey's tiny test guests (guest/tests), run once per
# accelerator the host has: the software CPU everywhere, KVM where
# /dev/kvm opens ($OSPREY_ACCEL says which; see scripts/test.sh). Each
# boots in well under a second.
# Needs: $OSPREY (binary under test), $GUESTS (build/guest).

test_console_output_and_cmdline() {
	osprey_run 20 --kernel "$GUESTS/hello.elf" --cmdline "token=$$-xyz"
	expect_status 0 "$status" "hello guest"
	expect_grep '^hello from osprey test guest' "$TEST_TMP/out"
	# The user's parameters follow osprey's defaults on the command line.
	expect_grep "^cmdline: console=ttyS0 .*token=$$-xyz\$" "$TEST_TMP/out"
	# Guest output goes to stdout, osprey's own messages to stderr.
	expect_no_grep 'osprey:' "$TEST_TMP/out"
}

test_boot_marker_logged() {
	osprey_run 20 --kernel "$GUESTS/hello.elf"
	expect_status 0 "$status" "hello guest"
	expect_grep '^osprey: boot marker 1 from mmio at [0-9.]+ ms$' "$TEST_TMP/err"
}

test_no_default_cmdline() {
	osprey_run 20 --kernel "$GUESTS/hello.elf" --no-default-cmdline --cmdline "only this"
	expect_status 0 "$status" "hello guest"
	expect_grep '^cmdline: only this$' "$TEST_TMP/out"
}

test_console_file() {
	osprey_run 20 --kernel "$GUESTS/hello.elf" --console "file:$TEST_TMP/console.log"
	expect_status 0 "$status" "hello guest"
	expect_grep '^hello from osprey test guest' "$TEST_TMP/console.log"
	expect_no_grep 'hello' "$TEST_TMP/out"
}

test_console_none() {
	osprey_run 20 --kernel "$GUESTS/hello.elf" --console none
	expect_status 0 "$status" "hello guest"
	[[ ! -s "$TEST_TMP/out" ]] || fail "--console none still printed guest output"
}

test_triple_fault_dumps_registers() {
	osprey_run 20 --kernel "$GUESTS/triple_fault.elf"
	expect_status 3 "$status" "triple fault"
	expect_grep '^about to triple fault' "$TEST_TMP/out"
	expect_grep 'guest triple fault' "$TEST_TMP/err"
	expect_grep '^  rip 0x[0-9a-f]{16} rsp' "$TEST_TMP/err"
	expect_grep '^  cr0 0x' "$TEST_TMP/err"
	expect_no_grep 'still alive' "$TEST_TMP/out"
}

test_unclaimed_port_reads_all_ones() {
	osprey_run 20 --kernel "$GUESTS/unclaimed_port.elf"
	expect_status 0 "$status" "unclaimed port guest"
	expect_grep '^unclaimed in8=0xff in16=0xffff in32=0xffffffff$' "$TEST_TMP/out"
	expect_grep '^still alive$' "$TEST_TMP/out"
}

smp_case() { # ncpus
	osprey_run 60 --kernel "$GUESTS/smp.elf" --cpus "$1"
	expect_status 0 "$status" "smp guest with $1 vCPUs"
	expect_grep "^mptable cpus=$1\$" "$TEST_TMP/out"
	expect_grep "^smp: $1 of $1 cpus up\$" "$TEST_TMP/out"
	expect_grep "^smp: apic_ids=$(seq -s, 0 $(($1 - 1)))\$" "$TEST_TMP/out"
	expect_no_grep 'warning' "$TEST_TMP/out"
}

test_smp_1_cpu() { smp_case 1; }
test_smp_2_cpus() { smp_case 2; }
test_smp_4_cpus() { smp_case 4; }

test_reboot_exits_with_status_2() {
	osprey_run 20 --kernel "$GUESTS/reboot.elf"
	expect_status 2 "$status" "reboot guest"
	expect_grep '^rebooting' "$TEST_TMP/out"
	expect_no_grep 'did not happen' "$TEST_TMP/out"
}

test_reboot_restart_and_sigterm() {
	# With --on-reboot restart the guest boots again and again until
	# osprey is told to stop; SIGTERM ends it with status 128+15.
	osprey_run 3 --kernel "$GUESTS/reboot.elf" --on-reboot restart
	expect_status 143 "$status" "restart loop stopped by SIGTERM"
	[[ $(grep -c '^rebooting' "$TEST_TMP/out") -ge 2 ]] ||
		fail "guest did not boot more than once"
}

memsize_case() { # --memory value, expected bytes
	local kib expect_kib
	osprey_run 20 --kernel "$GUESTS/memsize.elf" --memory "$1"
	expect_status 0 "$status" "memsize guest"
	kib=$(sed -n 's/^ram_kib=\([0-9]*\)$/\1/p' "$TEST_TMP/out")
	expect_kib=$(($2 / 1024))
	[[ -n "$kib" ]] || fail "no ram_kib line"
	# Usable RAM is what was asked for minus the EBDA/BIOS hole below 1 MiB.
	((kib <= expect_kib && kib > expect_kib - 1024)) ||
		fail "guest sees $kib KiB of RAM for --memory $1 ($expect_kib KiB)"
}

test_memory_64m() { memsize_case 64M $((64 << 20)); }
test_memory_unit_default_mib() { memsize_case 100 $((100 << 20)); }

test_memory_above_4g_hole() {
	memsize_case 5G $((5 << 30))
	# RAM beyond the 3 GiB mark moves above 4 GiB, past the MMIO hole.
	expect_grep 'addr=0x0000000100000000 size=0x0000000080000000 type=1' "$TEST_TMP/out"
}

test_emulation_failure_names_instruction() {
	needs_kvm_pass "a test of KVM itself"
	osprey_run 20 --kernel "$GUESTS/emul_fail.elf"
	expect_grep '^executing popcnt' "$TEST_TMP/out"
	if [[ -e /sys/module/kvm_pvm ]]; then
		# Guest kernel code is emulated here and popcnt is not emulated.
		expect_status 3 "$status" "emulation failure"
		expect_grep 'cannot emulate the guest instruction at rip 0x[0-9a-f]+: popcnt [^[]*\[f3 0f b8 c0' "$TEST_TMP/err"
		expect_grep '^  rip 0x' "$TEST_TMP/err"
	else
		expect_status 0 "$status" "popcnt on a hardware host"
		expect_grep '^popcnt ok' "$TEST_TMP/out"
	fi
}

test_kernel_mode_int3_reaches_guest_handler() {
	# Natively on hardware; through osprey's int3 completion where KVM's
	# emulator cannot run it (kvm_pvm).
	osprey_run 20 --kernel "$GUESTS/int3.elf" --log-level info
	expect_status 0 "$status" "int3 guest"
	expect_grep '^int3 handled 3 times, eip after the int3$' "$TEST_TMP/out"
	if [[ -e /sys/module/kvm_pvm ]] && grep -q 'accelerator: kvm' "$TEST_TMP/err"; then
		expect_grep 'completing int3 that KVM could not emulate' "$TEST_TMP/err"
	fi
}

test_cpu_templates_selectable() {
	needs_kvm_pass "a test of KVM itself"
	local t
	for t in host emulated auto; do
		osprey_run 20 --kernel "$GUESTS/hello.elf" --cpu-template "$t" --log-level info
		expect_status 0 "$status" "--cpu-template $t"
		expect_grep 'CPU template: ' "$TEST_TMP/err"
	done
	osprey_run 20 --kernel "$GUESTS/hello.elf" --cpu-template emulated --log-level info
	expect_grep '^cmdline: .*noxsave' "$TEST_TMP/out"
	osprey_run 20 --kernel "$GUESTS/hello.elf" --cpu-template host --log-level info
	expect_no_grep 'noxsave' "$TEST_TMP/out"
}

test_auto_template_matches_host() {
	needs_kvm_pass "a test of KVM itself"
	osprey_run 20 --kernel "$GUESTS/hello.elf" --log-level info
	if [[ -e /sys/module/kvm_pvm ]]; then
		expect_grep 'CPU template: emulated' "$TEST_TMP/err"
	else
		expect_grep 'CPU template: (host|emulated)' "$TEST_TMP/err"
	fi
}

test_soft_accelerator_and_template() {
	[[ "${OSPREY_ACCEL:-}" == soft ]] || skip "runs in the software-CPU pass"
	osprey_run 20 --kernel "$GUESTS/hello.elf" --log-level info
	expect_status 0 "$status" "hello guest"
	expect_grep 'accelerator: soft' "$TEST_TMP/err"
	expect_grep 'CPU template: soft' "$TEST_TMP/err"
	# The software CPU reports what it ran.
	expect_grep 'vcpu0: [0-9]+ instructions' "$TEST_TMP/err"
}

test_blk_bench_user_mode_driver() {
	# blk_bench drives virtio-blk from guest user mode (64-bit guest); a
	# correctness test only: the data check must pass and every result
	# line must appear, whatever the figures are.
	truncate -s 2M "$TEST_TMP/disk.img"
	osprey_run 60 --kernel "$GUESTS/blk_bench.elf" --disk "$TEST_TMP/disk.img" \
		--memory 64M --cmdline "blk_bench.mib=1 blk_bench.ios=200"
	expect_status 0 "$status" "blk_bench guest"
	expect_grep '^blk_bench: user mode \(CPL3\): this line is printed from there$' "$TEST_TMP/out"
	expect_grep '^blk_bench: virtio-blk at 0xd0001000 irq [0-9]+, 4096 sectors, queue 128, features VERSION_1,' "$TEST_TMP/out"
	expect_grep '^blk_bench: exits: mmio read [0-9]+\.[0-9] us \([0-9]+ cycles\), queue notify [0-9]+\.[0-9] us' "$TEST_TMP/out"
	expect_grep '^blk_bench: seqwrite 64KiB qd16: [0-9]+\.[0-9] MB/s \(16 requests,' "$TEST_TMP/out"
	expect_grep '^blk_bench: seqread 64KiB qd16: [0-9]+\.[0-9] MB/s \(16 requests,' "$TEST_TMP/out"
	expect_grep '^blk_bench: verify 1 MiB: data ok$' "$TEST_TMP/out"
	expect_grep '^blk_bench: randread 4KiB qd1: [0-9]+ IOPS \(200 requests,' "$TEST_TMP/out"
	expect_grep '^blk_bench: randread 4KiB qd16: [0-9]+ IOPS \(200 requests,' "$TEST_TMP/out"
	expect_grep '^blk_bench: done$' "$TEST_TMP/out"
	expect_no_grep 'FAIL|trap:' "$TEST_TMP/out"
	# The pattern really reached the image: sector 0 starts with its tag.
	[[ $(od -An -tx8 -N8 "$TEST_TMP/disk.img" | tr -d ' ') != 0000000000000000 ]] ||
		fail "the write pass left the image empty"
}

test_blk_bench_detects_bad_data() {
	# With the pattern changed after the write pass the read check must
	# catch it and end the guest as a failure (triple fault, status 3).
	truncate -s 1M "$TEST_TMP/disk.img"
	osprey_run 60 --kernel "$GUESTS/blk_bench.elf" --disk "$TEST_TMP/disk.img" \
		--memory 64M --cmdline "blk_bench.mib=1 blk_bench.reseed=1"
	expect_status 3 "$status" "blk_bench guest with a changed pattern"
	expect_grep '^blk_bench: FAIL: data mismatch at sector 0 word 0' "$TEST_TMP/out"
	expect_no_grep '^blk_bench: done' "$TEST_TMP/out"
}

# --metrics: at exit a line with the devices' final counters, then a last
# one without them; they count the guest's exits and its boot marker.
test_metrics_file() {
	osprey_run 20 --kernel "$GUESTS/hello.elf" --rng --metrics "$TEST_TMP/metrics.json"
	expect_status 0 "$status" "hello guest"
	[[ -s "$TEST_TMP/metrics.json" ]] || fail "no metrics written"
	python3 - "$TEST_TMP/metrics.json" <<'PY' || fail "metrics: $(tail -c 600 "$TEST_TMP/metrics.json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
lines = [json.loads(l) for l in lines]
last = lines[-2]
assert list(last)[0] == "utc_timestamp_ms", list(last)
assert last["vcpu"]["io_out"] > 0, last["vcpu"]
assert last["vcpu"]["mmio_write"] > 0, last["vcpu"]
assert last["vmm"]["boot_markers"] >= 1, last["vmm"]
assert last["vmm"]["boot_marker_us"] > last["vmm"]["instance_start_us"] > 0, last["vmm"]
for g in ("api_server", "entropy"):
    assert g in last, g
assert "entropy" not in lines[-1]
PY
}

test_hostile_guest_survives() {
	# Misaligned and out-of-RAM kvmclock areas, odd LAPIC/IOAPIC accesses,
	# IPIs to absent CPUs, illegal vectors, a PIT storm, copies into the
	# MMIO hole: osprey survives and the guest finishes.
	osprey_run 30 --kernel "$GUESTS/hostile.elf"
	expect_status 0 "$status" "hostile guest"
	expect_grep '^hostile: survived$' "$TEST_TMP/out"
}

test_hostile_guests_stop_on_sigterm() {
	# Guests that never end (cli; hlt / rep stosb into MMIO / jmp . /
	# interrupt storms with interrupts off): SIGTERM ends osprey at once.
	local mode pid start elapsed
	local accel
	mapfile -t accel < <(accel_args)
	for mode in 1 2 3 4 5; do
		"$OSPREY" run "${accel[@]}" --kernel "$GUESTS/hostile.elf" \
			--cmdline "hostile.mode=$mode" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
		pid=$!
		sleep 0.5
		kill -0 "$pid" 2>/dev/null || fail "mode $mode: osprey ended by itself"
		start=$(date +%s%N)
		kill -TERM "$pid"
		status=0
		wait "$pid" || status=$?
		elapsed=$((($(date +%s%N) - start) / 1000000))
		expect_status 143 "$status" "hostile.mode=$mode after SIGTERM"
		((elapsed < 2000)) || fail "hostile.mode=$mode: osprey took $elapsed ms to stop"
		if grep -q "Sanitizer" "$TEST_TMP/err"; then
			cat "$TEST_TMP/err" >&2
			fail "sanitizer report"
		fi
	done
}
