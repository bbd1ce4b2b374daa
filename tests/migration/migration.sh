# Live migration (docs/migration.md) between two osprey processes on the
# software CPU: a test guest over a Unix socket, the default Linux guest
# with a workload over TCP loopback, destinations killed at random points,
# a cancel through the API, and hostile streams to a destination.
# Sourced by run_suite (tests/lib/testlib.sh).
# Needs: $OSPREY, $GUESTS (ticker.elf), $KERNEL_DIR, $INITRAMFS, curl, python3.
# Optional: $OSPREY_ASAN (the ASan+UBSan build) for one hostile stream.

MIG_BOOT_LIMIT=${OSPREY_E2E_TIMEOUT:-300}

mig_api() { # SOCK METHOD PATH [BODY]: sets $code, the body in $TEST_TMP/body
	local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 30 --unix-socket "$1"
		-X "$2" "http://localhost$3")
	[[ $# -ge 4 ]] && args+=(--data-binary "$4")
	code=$(curl "${args[@]}") || code="curl-failed"
}

mig_expect_204() {
	mig_api "$@"
	[[ "$code" == 204 ]] || fail "$2 $3: $code $(cat "$TEST_TMP/body")"
}

mig_wait_sock() { # PATH
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S "$1" ]] && return 0
		sleep 0.05
	done
	fail "no socket at $1"
}

mig_wait_grep() { # PATTERN FILE SECONDS PID
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

mig_wait_exit() { # PID SECONDS: sets $status
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			status=0
			wait "$1" || status=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# A source: an API server running the ticker test guest. Sets src_pid, SRC_SOCK.
mig_start_ticker_source() {
	nsrc=$((${nsrc:-0} + 1))
	SRC_SOCK="$TEST_TMP/src$nsrc.sock"
	"$OSPREY" --api-sock "$SRC_SOCK" >"$TEST_TMP/src.out" 2>"$TEST_TMP/src.err" </dev/null &
	src_pid=$!
	mig_wait_sock "$SRC_SOCK"
	mig_expect_204 "$SRC_SOCK" PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/ticker.elf\"}"
	mig_expect_204 "$SRC_SOCK" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64}'
	mig_expect_204 "$SRC_SOCK" PUT /actions '{"action_type": "InstanceStart"}'
	mig_wait_grep '^tick 5$' "$TEST_TMP/src.out" 20 "$src_pid" || fail "the source does not tick"
}

mig_last_tick() { # FILE
	tr -d '\r' <"$1" | awk '/^tick [0-9]+$/ { n = $2 } END { print n + 0 }'
}

# The source still runs and its guest still prints.
mig_expect_source_alive() {
	local before
	before=$(mig_last_tick "$TEST_TMP/src.out")
	sleep 0.5
	kill -0 "$src_pid" 2>/dev/null || fail "the source died"
	[[ $(mig_last_tick "$TEST_TMP/src.out") -gt $before ]] ||
		fail "the source's guest stopped ticking (tick $before)"
}

mig_stop_source() {
	kill "$src_pid" 2>/dev/null || true
	wait "$src_pid" 2>/dev/null || true
	expect_no_grep 'Sanitizer' "$TEST_TMP/src.err"
}

test_ticker_migrates_over_unix_socket() {
	[[ -f "$GUESTS/ticker.elf" ]] || fail "test guests missing (make guests)"
	"$OSPREY" run --incoming "unix:$TEST_TMP/mig.sock" --log-level info \
		>"$TEST_TMP/dst.out" 2>"$TEST_TMP/dst.err" </dev/null &
	local dst_pid=$!
	mig_start_ticker_source
	mig_wait_sock "$TEST_TMP/mig.sock"
	mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"unix:$TEST_TMP/mig.sock\"}"
	mig_wait_exit "$src_pid" 20 || fail "the source still runs after the migration"
	expect_status 0 "$status" "source after migrating"
	local last
	last=$(mig_last_tick "$TEST_TMP/src.out")
	mig_wait_grep "^tick $((last + 5))\$" "$TEST_TMP/dst.out" 20 "$dst_pid" ||
		fail "the destination does not go on from tick $last: $(head -3 "$TEST_TMP/dst.out")"
	# It goes on where the source stopped: no tick 0, the next tick first.
	expect_no_grep '^tick 0$' "$TEST_TMP/dst.out"
	local first
	first=$(tr -d '\r' <"$TEST_TMP/dst.out" | awk '/^tick [0-9]+$/ { print $2; exit }')
	[[ "$first" -eq $((last + 1)) ]] || fail "first tick on the destination $first, source's last $last"
	[[ ! -e "$TEST_TMP/mig.sock" ]] || fail "the destination left its socket behind"
	kill "$dst_pid"
	wait "$dst_pid" || true
	expect_no_grep 'Sanitizer' "$TEST_TMP/dst.err"
	expect_no_grep 'Sanitizer' "$TEST_TMP/src.err"
}

test_destination_killed_at_random_points() {
	[[ -f "$GUESTS/ticker.elf" ]] || fail "test guests missing (make guests)"
	mig_start_ticker_source
	local i delay
	for ((i = 0; i < 6; i++)); do
		"$OSPREY" run --incoming "unix:$TEST_TMP/mig.sock" >"$TEST_TMP/dst.out" \
			2>"$TEST_TMP/dst.err" </dev/null &
		local dst_pid=$!
		mig_wait_sock "$TEST_TMP/mig.sock"
		# 1 MiB/s: the ticker's ~50 KiB of RAM take about 50 ms.
		mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"unix:$TEST_TMP/mig.sock\", \"bandwidth_limit_mib_s\": 1}"
		delay=$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", (r % 40) / 1000 }')
		sleep "$delay"
		kill -9 "$dst_pid" 2>/dev/null || true
		wait "$dst_pid" 2>/dev/null || true
		local j
		for ((j = 0; j < 100; j++)); do
			: >"$TEST_TMP/body"
			kill -0 "$src_pid" 2>/dev/null || break
			mig_api "$SRC_SOCK" GET /migrate
			[[ "$code" == 200 ]] && ! grep -q '"Active"' "$TEST_TMP/body" && break
			sleep 0.1
		done
		if ! kill -0 "$src_pid" 2>/dev/null || grep -q '"Completed"' "$TEST_TMP/body"; then
			# The kill came after READY: the machine moved, the source is done.
			mig_wait_exit "$src_pid" 10 || fail "source runs after a completed migration"
			expect_status 0 "$status" "source after a completed migration"
			echo "kill at ${delay}s: after READY, the migration completed"
			mig_start_ticker_source
			continue
		fi
		grep -q '"Failed"' "$TEST_TMP/body" || fail "after a kill at ${delay}s: $(cat "$TEST_TMP/body")"
		mig_expect_source_alive
		echo "kill at ${delay}s: $(cat "$TEST_TMP/body"); the source runs on"
	done
	mig_stop_source
}

test_cancel_through_api_keeps_source_running() {
	[[ -f "$GUESTS/ticker.elf" ]] || fail "test guests missing (make guests)"
	# A destination that takes the stream and never answers.
	python3 - "$TEST_TMP/mig.sock" >"$TEST_TMP/py.out" 2>&1 <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
while c.recv(65536):
    pass
PY
	local py_pid=$!
	mig_start_ticker_source
	mig_wait_sock "$TEST_TMP/mig.sock"
	mig_api "$SRC_SOCK" PUT /migrate '{"destination_uri": "ftp:elsewhere"}'
	[[ "$code" == 400 ]] || fail "a bad URI got $code"
	expect_grep 'expected unix:PATH or tcp:HOST:PORT' "$TEST_TMP/body"
	mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"unix:$TEST_TMP/mig.sock\"}"
	sleep 0.3
	mig_api "$SRC_SOCK" GET /migrate
	grep -q '"Active"' "$TEST_TMP/body" || fail "not active: $(cat "$TEST_TMP/body")"
	mig_api "$SRC_SOCK" PATCH /vm '{"state": "Paused"}'
	[[ "$code" == 400 ]] || fail "a pause during a migration got $code"
	expect_grep 'migration is in progress' "$TEST_TMP/body"
	mig_api "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"unix:$TEST_TMP/mig.sock\"}"
	[[ "$code" == 400 ]] || fail "a second migration got $code"
	mig_expect_204 "$SRC_SOCK" PUT /migrate/cancel
	sleep 0.5
	mig_api "$SRC_SOCK" GET /migrate
	grep -q '"Cancelled"' "$TEST_TMP/body" || fail "not cancelled: $(cat "$TEST_TMP/body")"
	mig_api "$SRC_SOCK" PUT /migrate/cancel
	[[ "$code" == 400 ]] || fail "cancel without a migration got $code"
	mig_expect_source_alive
	kill "$py_pid" 2>/dev/null || true
	wait "$py_pid" 2>/dev/null || true
	mig_stop_source
}

test_incoming_bad_uri() {
	status=0
	"$OSPREY" run --incoming "ftp:somewhere" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status 1 "$status" "--incoming ftp:"
	expect_grep 'expected unix:PATH or tcp:HOST:PORT' "$TEST_TMP/err"
	status=0
	"$OSPREY" run --incoming "tcp:127.0.0.1:notaport" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status 1 "$status" "--incoming tcp: with a bad port"
	[[ $(wc -l <"$TEST_TMP/err") -eq 1 ]] || fail "not one error line: $(cat "$TEST_TMP/err")"
}

test_migrate_refused_before_start_and_bad_uri() {
	SRC_SOCK="$TEST_TMP/src.sock"
	"$OSPREY" --api-sock "$SRC_SOCK" >"$TEST_TMP/src.out" 2>"$TEST_TMP/src.err" </dev/null &
	src_pid=$!
	mig_wait_sock "$SRC_SOCK"
	mig_api "$SRC_SOCK" PUT /migrate '{"destination_uri": "unix:/nonexistent/x"}'
	[[ "$code" == 400 ]] || fail "migrate before start: $code"
	mig_api "$SRC_SOCK" PUT /migrate '{"destination_uri": "ftp:x", "bogus": 1}'
	[[ "$code" == 400 ]] || fail "unknown member: $code"
	mig_stop_source
}

# A valid stream, recorded by a fake destination that never confirms.
mig_record_stream() { # FILE
	python3 - "$TEST_TMP/rec.sock" "$1" >"$TEST_TMP/py.out" 2>&1 <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
data = b''
while True:
    # Records: type, flags, length, payload, crc; stop after DONE (5).
    hdr = b''
    while len(hdr) < 16:
        k = c.recv(16 - len(hdr))
        if not k:
            sys.exit(1)
        hdr += k
    t, f, n = struct.unpack('<IIQ', hdr)
    body = b''
    while len(body) < n + 8:
        k = c.recv(n + 8 - len(body))
        if not k:
            sys.exit(1)
        body += k
    data += hdr + body
    if t == 5:
        break
open(sys.argv[2], 'wb').write(data)
PY
	local py_pid=$!
	mig_wait_sock "$TEST_TMP/rec.sock"
	mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"unix:$TEST_TMP/rec.sock\"}"
	wait "$py_pid" || fail "recording the stream failed: $(cat "$TEST_TMP/py.out")"
}

mig_feed() { # OSPREY FILE NAME: feeds FILE to a destination; checks exit 1, one error line
	local bin=$1 file=$2 name=$3
	"$bin" run --incoming "unix:$TEST_TMP/h.sock" >"$TEST_TMP/h.out" 2>"$TEST_TMP/h.err" </dev/null &
	local dst_pid=$!
	mig_wait_sock "$TEST_TMP/h.sock"
	python3 - "$TEST_TMP/h.sock" "$file" <<'PY' || true
import socket, sys
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
try:
    c.sendall(open(sys.argv[2], 'rb').read())
    c.shutdown(socket.SHUT_WR)
    c.settimeout(5)
    while c.recv(4096):
        pass
except OSError:
    pass
PY
	mig_wait_exit "$dst_pid" 40 || fail "$name: the destination hangs"
	expect_status 1 "$status" "$name"
	expect_no_grep 'Sanitizer' "$TEST_TMP/h.err"
	[[ $(wc -l <"$TEST_TMP/h.err") -eq 1 ]] || fail "$name: not one error line: $(cat "$TEST_TMP/h.err")"
	expect_grep 'incoming migration: ' "$TEST_TMP/h.err"
	[[ ! -e "$TEST_TMP/h.sock" ]] || fail "$name: the socket was left behind"
	echo "$name: $(cat "$TEST_TMP/h.err")"
}

test_hostile_streams_rejected() {
	[[ -f "$GUESTS/ticker.elf" ]] || fail "test guests missing (make guests)"
	mig_start_ticker_source
	mig_record_stream "$TEST_TMP/valid.bin"
	mig_expect_source_alive
	mig_stop_source
	local size
	size=$(stat -c %s "$TEST_TMP/valid.bin")
	[[ $size -gt 4096 ]] || fail "recorded stream of $size bytes"
	head -c 65536 /dev/urandom >"$TEST_TMP/random.bin"
	mig_feed "$OSPREY" "$TEST_TMP/random.bin" random
	: >"$TEST_TMP/empty.bin"
	mig_feed "$OSPREY" "$TEST_TMP/empty.bin" empty
	local cut
	for cut in 10 200 $((size / 2)) $((size - 9)); do
		head -c "$cut" "$TEST_TMP/valid.bin" >"$TEST_TMP/cut.bin"
		mig_feed "$OSPREY" "$TEST_TMP/cut.bin" "truncated at $cut"
	done
	grep -q 'CRC mismatch\|bad stream\|closed' "$TEST_TMP/h.err" || fail "unclear error"
	local at
	for at in 20 $((size / 3)) $((size - 20)); do
		python3 - "$TEST_TMP/valid.bin" "$TEST_TMP/flip.bin" "$at" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[int(sys.argv[3])] ^= 0x10
open(sys.argv[2], 'wb').write(d)
PY
		mig_feed "$OSPREY" "$TEST_TMP/flip.bin" "bit flipped at $at"
		expect_grep 'bad stream' "$TEST_TMP/h.err"
	done
	# The whole stream but no GO: the destination gives up, nothing runs.
	mig_feed "$OSPREY" "$TEST_TMP/valid.bin" "no GO"
	if [[ -x "${OSPREY_ASAN:-}" ]]; then
		mig_feed "$OSPREY_ASAN" "$TEST_TMP/flip.bin" "ASan: bit flipped"
		head -c $((size / 2)) "$TEST_TMP/valid.bin" >"$TEST_TMP/cut.bin"
		mig_feed "$OSPREY_ASAN" "$TEST_TMP/cut.bin" "ASan: truncated"
	fi
}

# The default Linux guest writing into tmpfs in a loop: destinations
# killed mid-stream leave it running; then it moves over TCP and its
# console goes on at the destination.
LINUX_WORK='i=0; while true; do dd if=/dev/urandom of=/tmp/w$((i % 4)) bs=4096 count=64 2>/dev/null; echo WORK $i; i=$((i+1)); sleep 0.3; done'

mig_last_work() {
	tr -d '\r' <"$1" | awk '/^WORK [0-9]+$/ { n = $2 } END { print n + 0 }'
}

test_linux_with_workload_migrates_over_tcp() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	SRC_SOCK="$TEST_TMP/src.sock"
	"$OSPREY" --api-sock "$SRC_SOCK" --log-level info >"$TEST_TMP/src.out" \
		2>"$TEST_TMP/src.err" </dev/null &
	src_pid=$!
	mig_wait_sock "$SRC_SOCK"
	local args="console=ttyS0 reboot=k panic=1 pci=off quiet osprey_run=\\\"$LINUX_WORK\\\""
	mig_expect_204 "$SRC_SOCK" PUT /boot-source "{\"kernel_image_path\": \"$KERNEL_DIR/vmlinux\", \"initrd_path\": \"$INITRAMFS\", \"boot_args\": \"$args\"}"
	mig_expect_204 "$SRC_SOCK" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 256}'
	mig_expect_204 "$SRC_SOCK" PUT /actions '{"action_type": "InstanceStart"}'
	mig_wait_grep '^WORK 2' "$TEST_TMP/src.out" "$MIG_BOOT_LIMIT" "$src_pid" ||
		fail "the Linux guest does not work: $(tail -5 "$TEST_TMP/src.out")"

	# Destinations killed part-way (about 20 MiB at 8 MiB/s: 2.5 s; killed within 1 s).
	local i before port=$((20000 + RANDOM % 20000))
	for ((i = 0; i < 2; i++)); do
		"$OSPREY" run --incoming "tcp:127.0.0.1:$port" >"$TEST_TMP/dst.out" \
			2>"$TEST_TMP/dst.err" </dev/null &
		local dst_pid=$!
		sleep 0.3
		mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"tcp:127.0.0.1:$port\", \"bandwidth_limit_mib_s\": 8}"
		sleep "0.$((RANDOM % 9 + 1))"
		kill -9 "$dst_pid" 2>/dev/null || true
		wait "$dst_pid" 2>/dev/null || true
		local j
		for ((j = 0; j < 50; j++)); do
			mig_api "$SRC_SOCK" GET /migrate
			grep -q '"Active"' "$TEST_TMP/body" || break
			sleep 0.1
		done
		grep -q '"Failed"' "$TEST_TMP/body" || fail "after a kill: $code $(cat "$TEST_TMP/body")"
		echo "kill: $(cat "$TEST_TMP/body")"
		before=$(mig_last_work "$TEST_TMP/src.out")
		mig_wait_grep "^WORK $((before + 1))" "$TEST_TMP/src.out" 30 "$src_pid" ||
			fail "the source stopped working after a cut migration"
	done

	# The real one.
	"$OSPREY" run --incoming "tcp:127.0.0.1:$port" >"$TEST_TMP/dst.out" \
		2>"$TEST_TMP/dst.err" </dev/null &
	local dst_pid=$!
	sleep 0.3
	mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"tcp:127.0.0.1:$port\"}"
	mig_wait_exit "$src_pid" 60 || fail "the source still runs: $(cat "$TEST_TMP/src.err")"
	expect_status 0 "$status" "source after migrating"
	expect_grep 'migrated to tcp:' "$TEST_TMP/src.err"
	grep 'migrated to' "$TEST_TMP/src.err"
	local last
	last=$(mig_last_work "$TEST_TMP/src.out")
	mig_wait_grep "^WORK $((last + 3))" "$TEST_TMP/dst.out" 60 "$dst_pid" ||
		fail "the destination does not go on from WORK $last: $(tail -5 "$TEST_TMP/dst.out") $(cat "$TEST_TMP/dst.err")"
	expect_no_grep '^WORK 0$' "$TEST_TMP/dst.out"
	kill "$dst_pid"
	wait "$dst_pid" || true
	expect_no_grep 'Sanitizer' "$TEST_TMP/dst.err"
	expect_no_grep 'Sanitizer' "$TEST_TMP/src.err"
}

# A root drive in use: the guest writes and syncs files on virtio-blk in a
# loop while it moves (over a Unix socket), then on the destination reads
# back what it wrote before and after.
LINUX_DISK_WORK='mkdir -p /mnt; mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED; i=0; while true; do echo data-$i >/mnt/f$((i % 8)); sync; echo DISK $i $(cat /mnt/f$(((i + 7) % 8)) 2>/dev/null); i=$((i+1)); sleep 0.2; done'

test_linux_with_disk_io_migrates() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4"
	truncate -s 16M "$TEST_TMP/rootfs.ext4"
	mkfs.ext4 -q -F "$TEST_TMP/rootfs.ext4" || fail "mkfs.ext4"
	SRC_SOCK="$TEST_TMP/src.sock"
	"$OSPREY" --api-sock "$SRC_SOCK" >"$TEST_TMP/src.out" 2>"$TEST_TMP/src.err" </dev/null &
	src_pid=$!
	mig_wait_sock "$SRC_SOCK"
	local args="console=ttyS0 reboot=k panic=1 pci=off quiet osprey_run=\\\"$LINUX_DISK_WORK\\\""
	mig_expect_204 "$SRC_SOCK" PUT /boot-source "{\"kernel_image_path\": \"$KERNEL_DIR/vmlinux\", \"initrd_path\": \"$INITRAMFS\", \"boot_args\": \"$args\"}"
	mig_expect_204 "$SRC_SOCK" PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$TEST_TMP/rootfs.ext4\", \"is_root_device\": true, \"is_read_only\": false}"
	mig_expect_204 "$SRC_SOCK" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
	mig_expect_204 "$SRC_SOCK" PUT /actions '{"action_type": "InstanceStart"}'
	mig_wait_grep '^DISK 9 ' "$TEST_TMP/src.out" "$MIG_BOOT_LIMIT" "$src_pid" ||
		fail "the Linux guest does not write its disk: $(tail -5 "$TEST_TMP/src.out")"
	"$OSPREY" run --incoming "unix:$TEST_TMP/mig.sock" >"$TEST_TMP/dst.out" \
		2>"$TEST_TMP/dst.err" </dev/null &
	local dst_pid=$!
	mig_wait_sock "$TEST_TMP/mig.sock"
	mig_expect_204 "$SRC_SOCK" PUT /migrate "{\"destination_uri\": \"unix:$TEST_TMP/mig.sock\"}"
	mig_wait_exit "$src_pid" 60 || fail "the source still runs"
	expect_status 0 "$status" "source after migrating"
	local last
	last=$(tr -d '\r' <"$TEST_TMP/src.out" | awk '/^DISK [0-9]+/ { n = $2 } END { print n + 0 }')
	# Each line reads back the file of the iteration before: the first line
	# on the destination reads what the source wrote last.
	mig_wait_grep "^DISK $((last + 1)) data-$last\b" "$TEST_TMP/dst.out" 60 "$dst_pid" ||
		fail "the destination does not go on with its disk from DISK $last: $(head -5 "$TEST_TMP/dst.out") $(cat "$TEST_TMP/dst.err")"
	mig_wait_grep "^DISK $((last + 10)) data-$((last + 9))\b" "$TEST_TMP/dst.out" 60 "$dst_pid" ||
		fail "the destination does not go on with its disk from DISK $last: $(tail -5 "$TEST_TMP/dst.out") $(cat "$TEST_TMP/dst.err")"
	expect_no_grep 'MOUNT-FAILED\|I/O error\|EXT4-fs error' "$TEST_TMP/dst.out"
	kill "$dst_pid"
	wait "$dst_pid" || true
	expect_no_grep 'Sanitizer' "$TEST_TMP/dst.err"
}

test_osprey_ctl_migrate() {
	[[ -x "${OSPREY_CTL:-}" ]] || skip "OSPREY_CTL (build/osprey-ctl) not given"
	[[ -f "$GUESTS/ticker.elf" ]] || fail "test guests missing (make guests)"
	"$OSPREY" run --incoming "unix:$TEST_TMP/mig.sock" >"$TEST_TMP/dst.out" \
		2>"$TEST_TMP/dst.err" </dev/null &
	local dst_pid=$!
	mig_start_ticker_source
	mig_wait_sock "$TEST_TMP/mig.sock"
	status=0
	"$OSPREY_CTL" --sock "$SRC_SOCK" migrate "unix:$TEST_TMP/mig.sock" --bogus 2>"$TEST_TMP/ctl.err" || status=$?
	expect_status 2 "$status" "osprey-ctl migrate --bogus"
	"$OSPREY_CTL" --sock "$SRC_SOCK" migrate-status >"$TEST_TMP/ctl.out" || fail "migrate-status"
	expect_grep '"state": "None"' "$TEST_TMP/ctl.out"
	"$OSPREY_CTL" --sock "$SRC_SOCK" migrate "unix:$TEST_TMP/mig.sock" --downtime 10 \
		--max-rounds 5 || fail "osprey-ctl migrate"
	mig_wait_exit "$src_pid" 20 || fail "the source still runs after the migration"
	expect_status 0 "$status" "source after migrating"
	local last
	last=$(mig_last_tick "$TEST_TMP/src.out")
	mig_wait_grep "^tick $((last + 3))\$" "$TEST_TMP/dst.out" 20 "$dst_pid" ||
		fail "the destination does not go on from tick $last"
	kill "$dst_pid"
	wait "$dst_pid" || true
}
