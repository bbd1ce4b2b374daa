# SIGKILL of the VMM while it writes a snapshot, at random moments: the
# snapshot that was there before (or the new one, whole) still verifies
# and restores, and the restored counter ends with the right checksum.
# OSPREY_SNAPSHOT_KILLS rounds (default 6); the delays come from
# $RANDOM, printed so that a failing round can be replayed.
# Needs: $OSPREY, $GUESTS, curl, python3.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KILL_STEPS=150

test_sigkill_during_snapshot_create() {
	local s="$TEST_TMP/vm.snap" m="$TEST_TMP/vm.mem" round delay_ms pid t0 dur_ms midway=0
	local rounds=${OSPREY_SNAPSHOT_KILLS:-6}
	# The first snapshot, whole; how long a create takes here.
	vmm a
	boot_counter a $KILL_STEPS
	wait_for "$TEST_TMP/a.out" '^count 5 sum' 20 || fail "the counter does not count"
	t0=$(date +%s%N)
	snapshot a Full "$s" "$m"
	dur_ms=$((($(date +%s%N) - t0) / 1000000))
	kill_vmm a
	echo "a snapshot create takes about $dur_ms ms here"
	for ((round = 1; round <= rounds; round++)); do
		# Another machine snapshots over the same files and dies midway.
		vmm k
		boot_counter k $KILL_STEPS
		wait_for "$TEST_TMP/k.out" "^count $((5 + round * 3)) sum" 20 ||
			fail "round $round: the counter does not count"
		ok k PATCH /vm '{"state": "Paused"}'
		delay_ms=$((RANDOM % (dur_ms + 1)))
		echo "round $round: SIGKILL ${delay_ms} ms into PUT /snapshot/create"
		curl -s -o /dev/null --max-time 30 --unix-socket "$TEST_TMP/k.sock" -X PUT \
			-H 'Content-Type: application/json' \
			--data-binary "{\"snapshot_path\": \"$s\", \"mem_file_path\": \"$m\"}" \
			http://localhost/snapshot/create &
		pid=$!
		sleep "$(awk -v d="$delay_ms" 'BEGIN{printf "%.3f", d / 1000}')"
		kill_vmm k
		wait "$pid" 2>/dev/null || true
		# A temporary file left behind: the VMM died inside the create.
		if compgen -G "$TEST_TMP/.vm.*.tmp.*" >/dev/null; then
			midway=$((midway + 1))
			rm -f "$TEST_TMP"/.vm.*.tmp.*
		fi
		# Whatever pair is there now is whole and restores.
		"$OSPREY" snapshot verify "$s" >"$TEST_TMP/verify" 2>&1 ||
			fail "round $round (${delay_ms} ms): $(cat "$TEST_TMP/verify")"
		restore_cli "$s" "$m" "$TEST_TMP/r.out" "$TEST_TMP/r.err"
		expect_status 0 "$status" "round $round (${delay_ms} ms): restore"
		expect_no_grep '^counter: started' "$TEST_TMP/r.out"
		expect_grep "^counter: done $KILL_STEPS checksum $(counter_sum $KILL_STEPS)\$" "$TEST_TMP/r.out"
	done
	echo "$midway of $rounds kills landed inside a create"
	((midway > 0)) || fail "no kill landed inside a create (each took less than the delays)"
}
