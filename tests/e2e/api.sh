# End-to-end: the default Linux guest configured through the API, as in
# Firecracker's getting-started guide (boot-source with vmlinux + initrd,
# a root drive, machine-config, InstanceStart), with pause/resume and a
# balloon target while it runs; and once more from a --config-file with
# --no-api. Two boots in all (each costs 30-90 s where guest kernel code
# is emulated).
# Needs: $OSPREY, $KERNEL_DIR, $INITRAMFS, curl.

BOOT_LIMIT=${OSPREY_E2E_TIMEOUT:-400}

api_e2e() { # METHOD PATH [BODY]: sets $code, body in $TEST_TMP/body
	local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 60 --unix-socket "$TEST_TMP/api.sock"
		-X "$1" "http://localhost$2")
	[[ $# -ge 3 ]] && args+=(--data-binary "$3")
	code=$(curl "${args[@]}") || code="curl-failed"
}

expect_204() {
	api_e2e "$@"
	[[ "$code" == 204 ]] || fail "$1 $2: $code $(cat "$TEST_TMP/body")"
}

wait_line() { # pattern seconds
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -q -- "$1" "$TEST_TMP/out" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

make_rootfs() {
	mkdir -p "$TEST_TMP/src"
	echo "rootfs-$$" >"$TEST_TMP/src/known.txt"
	truncate -s 16M "$TEST_TMP/rootfs.ext4"
	mkfs.ext4 -q -F -d "$TEST_TMP/src" "$TEST_TMP/rootfs.ext4" || fail "mkfs.ext4"
}

# The guest's commands: the root drive is /dev/vda; READY, then time for
# the host to pause, resume and inflate the balloon; the guest's clock
# (uptime, read with shell builtins so that no fork delays it) before and
# after, to compare with the host's.
GUEST_CMDS='mkdir -p /mnt; mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED; echo KNOWN=$(cat /mnt/known.txt); echo CMDLINE=$(cat /proc/cmdline); read u0 x </proc/uptime; echo U0=$u0; echo READY; i=0; while [ $i -lt 12 ]; do sleep 1; echo TICK $i; i=$((i+1)); done; read u1 x </proc/uptime; echo U1=$u1; echo SLEPT'

test_getting_started_flow_through_api() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	make_rootfs
	"$OSPREY" --api-sock "$TEST_TMP/api.sock" --log-level info >"$TEST_TMP/out" \
		2>"$TEST_TMP/err" </dev/null &
	pid=$!
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -S "$TEST_TMP/api.sock" ]] && break
		sleep 0.1
	done
	local args="console=ttyS0 reboot=k panic=1 pci=off quiet osprey_run=\\\"$GUEST_CMDS\\\""
	expect_204 PUT /boot-source "{\"kernel_image_path\": \"$KERNEL_DIR/vmlinux\", \"initrd_path\": \"$INITRAMFS\", \"boot_args\": \"$args\"}"
	expect_204 PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$TEST_TMP/rootfs.ext4\", \"is_root_device\": true, \"is_read_only\": false}"
	expect_204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
	expect_204 PUT /balloon '{"amount_mib": 0, "deflate_on_oom": false, "stats_polling_interval_s": 1}'
	expect_204 PUT /actions '{"action_type": "InstanceStart"}'
	local h0="" h1=""
	wait_line '^READY' "$BOOT_LIMIT" && h0=$(date +%s.%N) || {
		kill "$pid" 2>/dev/null
		tail -20 "$TEST_TMP/out" >&2
		tail -20 "$TEST_TMP/err" >&2
		fail "the guest did not get to its commands"
	}
	expect_204 PATCH /vm '{"state": "Paused"}'
	# Paused: the guest, which prints a TICK line every second, prints
	# nothing (its vCPUs are parked; what was already on its way to the
	# console gets half a second).
	local lines_paused
	sleep 0.5
	lines_paused=$(wc -l <"$TEST_TMP/out")
	sleep 5
	[[ $(wc -l <"$TEST_TMP/out") == "$lines_paused" ]] || fail "the guest printed while paused"
	expect_204 PATCH /vm '{"state": "Resumed"}'
	expect_204 PATCH /balloon '{"amount_mib": 16}'
	local inflated=no
	for ((i = 0; i < 100; i++)); do
		# the guest's loop may end meanwhile: note when its U1 line appears
		[[ -z "$h1" ]] && grep -q '^U1=' "$TEST_TMP/out" && h1=$(date +%s.%N)
		api_e2e GET /balloon/statistics
		if [[ "$code" == 200 ]] && grep -q '"actual_mib":16' "$TEST_TMP/body"; then
			inflated=yes
			break
		fi
		sleep 0.1
	done
	[[ $inflated == yes ]] || fail "balloon did not reach 16 MiB: $code $(cat "$TEST_TMP/body")"
	if [[ -z "$h1" ]]; then
		wait_line '^U1=' "$BOOT_LIMIT" || fail "the guest did not finish its loop"
		h1=$(date +%s.%N)
	fi
	status=0
	timeout "$BOOT_LIMIT" tail --pid="$pid" -f /dev/null
	wait "$pid" || status=$?
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/o" && mv "$TEST_TMP/o" "$TEST_TMP/out"
	expect_status 0 "$status" "guest poweroff"
	expect_no_grep 'Sanitizer' "$TEST_TMP/err"
	expect_no_grep '^MOUNT-FAILED' "$TEST_TMP/out"
	expect_grep "^KNOWN=rootfs-$$\$" "$TEST_TMP/out"
	# boot_args replaced osprey's defaults; the root drive added root=.
	expect_grep '^CMDLINE=.*osprey.pv=1 console=ttyS0 reboot=k panic=1 pci=off quiet .*root=/dev/vda rw' "$TEST_TMP/out"
	expect_no_grep '^CMDLINE=.*i8042.dumbkbd' "$TEST_TMP/out"
	expect_grep '^SLEPT$' "$TEST_TMP/out"
	# The guest's clock stayed sane across the pause: it advanced as the
	# host's did (the 5.5 s pause included, as kvmclock follows the host),
	# within 2.5 s for the console's and the polling's delays.
	local u0 u1
	u0=$(sed -n 's/^U0=\([0-9.]*\)$/\1/p' "$TEST_TMP/out")
	u1=$(sed -n 's/^U1=\([0-9.]*\)$/\1/p' "$TEST_TMP/out")
	[[ -n "$u0" && -n "$u1" ]] || fail "no guest clock readings"
	awk -v u0="$u0" -v u1="$u1" -v h0="$h0" -v h1="$h1" 'BEGIN {
		g = u1 - u0; h = h1 - h0; d = g - h; if (d < 0) d = -d
		printf "guest clock advanced %.1f s, host %.1f s\n", g, h
		exit !(g >= 12 && d <= 2.5) }' >&2 || fail "guest and host clocks disagree across the pause"
	expect_grep '^osprey-guest: exit status 0$' "$TEST_TMP/out"
	expect_grep 'api: paused' "$TEST_TMP/err"
}

test_config_file_no_api() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	make_rootfs
	local cmds='mkdir -p /mnt; mount -t ext4 -o ro /dev/vda /mnt; echo KNOWN=$(cat /mnt/known.txt); echo NPROC=$(nproc); echo RO=$(cat /sys/block/vda/ro)'
	cat >"$TEST_TMP/vm.json" <<JSON
{
  "boot-source": {
    "kernel_image_path": "$KERNEL_DIR/vmlinux",
    "initrd_path": "$INITRAMFS",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off quiet osprey_run=\\"$cmds\\""
  },
  "drives": [
    {"drive_id": "rootfs", "path_on_host": "$TEST_TMP/rootfs.ext4", "is_root_device": true, "is_read_only": true}
  ],
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 192},
  "network-interfaces": [],
  "logger": {"level": "Info"}
}
JSON
	status=0
	timeout --preserve-status "$BOOT_LIMIT" "$OSPREY" --no-api --config-file "$TEST_TMP/vm.json" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/o" && mv "$TEST_TMP/o" "$TEST_TMP/out"
	expect_status 0 "$status" "config-file boot"
	expect_no_grep 'Sanitizer' "$TEST_TMP/err"
	expect_grep "^KNOWN=rootfs-$$\$" "$TEST_TMP/out"
	expect_grep '^NPROC=1$' "$TEST_TMP/out"
	expect_grep '^RO=1$' "$TEST_TMP/out"
	expect_grep '^osprey-guest: exit status 0$' "$TEST_TMP/out"
}
