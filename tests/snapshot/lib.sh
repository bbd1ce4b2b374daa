# Helpers of the snapshot suites (tests/snapshot/*.sh; sourced, not run).
# Machines are osprey --api-sock servers, each named: NAME's socket is
# $TEST_TMP/NAME.sock, its console $TEST_TMP/NAME.out, its log NAME.err,
# its pid ${PIDS[NAME]}. The test guest is build/guest/counter.elf
# (guest/tests/counter.c), on $OSPREY_ACCEL (default soft).
# Needs: $OSPREY, $GUESTS (build/guest), curl, python3.

SNAP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OSPREY_ACCEL:=soft}"
declare -A PIDS=()

# The checksum counter.elf ends with after $1 steps (computed once per test).
declare -A COUNTER_SUMS=()
counter_sum() {
	[[ -n "${COUNTER_SUMS[$1]:-}" ]] || COUNTER_SUMS[$1]=$(python3 "$SNAP_DIR/counter_sum.py" "$1")
	echo "${COUNTER_SUMS[$1]}"
}

# Waits until file $1 has a line matching $2 (grep -E), at most $3 seconds.
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# vmm NAME [FLAGS...]: starts an osprey API server, waits for its socket.
vmm() {
	local name=$1 i
	shift
	rm -f "$TEST_TMP/$name.sock"
	"$OSPREY" --api-sock "$TEST_TMP/$name.sock" --log-level info "$@" \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" </dev/null &
	PIDS[$name]=$!
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null --max-time 2 --unix-socket "$TEST_TMP/$name.sock" \
			http://localhost/version && return 0
		kill -0 "${PIDS[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TEST_TMP/$name.err" >&2
	fail "$name: the API socket does not answer"
}

# api NAME METHOD PATH [BODY]: sets $code; the answer is in $TEST_TMP/body.
api() {
	local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 60
		--unix-socket "$TEST_TMP/$1.sock" -X "$2" "http://localhost$3")
	[[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	code=$(curl "${args[@]}") || code="curl-failed-$?"
}

# ok NAME METHOD PATH [BODY]: the request must answer 2xx.
ok() {
	api "$@"
	[[ "$code" == 2* ]] || fail "$1: $2 $3: HTTP $code: $(cat "$TEST_TMP/body")"
}

# refused NAME METHOD PATH BODY PATTERN: 400 with PATTERN in the fault_message.
refused() {
	api "$1" "$2" "$3" "$4"
	[[ "$code" == 400 ]] || fail "$1: $2 $3: HTTP $code, expected 400: $(cat "$TEST_TMP/body")"
	grep -qE -- "$5" "$TEST_TMP/body" || fail "$1: $2 $3: '$5' not in $(cat "$TEST_TMP/body")"
}

# boot_counter NAME STEPS [TRACK_DIRTY]: counter.elf with STEPS steps, 64 MiB.
boot_counter() {
	ok "$1" PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/counter.elf\", \"boot_args\": \"counter.steps=$2 counter.tick_ms=5\"}"
	ok "$1" PUT /machine-config "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"accel\": \"$OSPREY_ACCEL\", \"track_dirty_pages\": ${3:-false}}"
	ok "$1" PUT /actions '{"action_type": "InstanceStart"}'
}

# The highest complete "count N sum 0x........" line of file $1 ("" if none).
last_count() {
	sed -n 's/^count \([0-9]*\) sum 0x[0-9a-f]\{8\}$/\1/p' "$1" | tail -n 1
}

# snapshot NAME TYPE STATE MEM: pauses NAME (if running) and snapshots it;
# sets $at, the last count printed before the pause.
snapshot() {
	api "$1" GET /
	grep -q '"Paused"' "$TEST_TMP/body" || ok "$1" PATCH /vm '{"state": "Paused"}'
	at=$(last_count "$TEST_TMP/$1.out")
	ok "$1" PUT /snapshot/create "{\"snapshot_type\": \"$2\", \"snapshot_path\": \"$3\", \"mem_file_path\": \"$4\"}"
}

# kill_vmm NAME: SIGKILL, and reap.
kill_vmm() {
	kill -KILL "${PIDS[$1]}" 2>/dev/null
	wait "${PIDS[$1]}" 2>/dev/null || true
}

# wait_exit NAME LIMIT_S: waits for NAME to exit; sets $status.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "${PIDS[$1]}" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "${PIDS[$1]}" 2>/dev/null; then
		kill_vmm "$1"
		tail -5 "$TEST_TMP/$1.out" >&2
		fail "$1 did not exit within $2 s"
	fi
	status=0
	wait "${PIDS[$1]}" || status=$?
	no_sanitizer "$TEST_TMP/$1.err"
}

no_sanitizer() {
	if grep -q Sanitizer "$1"; then
		cat "$1" >&2
		fail "sanitizer report in $(basename "$1")"
	fi
}

# expect_continued OUT AT STEPS: the console of a machine restored from a
# snapshot taken after "count AT": it went on (no new start, no earlier
# count, the next counts there) and ended with the right checksum.
expect_continued() {
	local out=$1 at=$2 steps=$3
	expect_no_grep '^counter: started' "$out"
	expect_no_grep "^count $at sum" "$out"
	(( at + 2 < steps )) && expect_grep "^count $((at + 2)) sum" "$out"
	expect_grep "^counter: done $steps checksum $(counter_sum "$steps")\$" "$out"
	local first
	first=$(sed -n 's/^count \([0-9]*\) sum.*/\1/p' "$out" | head -n 1)
	[[ -z "$first" || "$first" -gt "$at" ]] || fail "restored run printed count $first again (snapshot after $at)"
}

# restore_cli STATE MEM OUT ERR [FLAGS...]: osprey run --restore in the
# foreground (at most 60 s); sets $status.
restore_cli() {
	local state=$1 mem=$2 out=$3 err=$4
	shift 4
	status=0
	timeout --kill-after=5 60 "$OSPREY" run --restore "$state" --restore-mem "$mem" "$@" \
		>"$out" 2>"$err" </dev/null || status=$?
	no_sanitizer "$err"
}
