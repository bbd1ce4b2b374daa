# Snapshots of the counter test guest (guest/tests/counter.c) through the
# API and the CLI: a Full snapshot mid-count restored in new processes (API
# load paused then resumed, API load with resume_vm, osprey run --restore)
# continues and ends with the right checksum; a Diff snapshot after more
# work, merged onto the Full one, restores to the later state; ten
# machines run at once from one memory file, which stays unchanged.
# Needs: $OSPREY, $GUESTS, curl, python3.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STEPS=250

test_full_snapshot_api_and_cli_restore() {
	local s="$TEST_TMP/vm.snap" m="$TEST_TMP/vm.mem" sum
	vmm a
	boot_counter a $STEPS
	wait_for "$TEST_TMP/a.out" '^count 40 sum' 20 || fail "the counter does not count"
	# Only a paused machine; a Diff needs dirty tracking.
	refused a PUT /snapshot/create "{\"snapshot_path\": \"$s\", \"mem_file_path\": \"$m\"}" 'must be paused'
	ok a PATCH /vm '{"state": "Paused"}'
	refused a PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$s\", \"mem_file_path\": \"$m\"}" 'dirty'
	[[ ! -e "$s" && ! -e "$m" ]] || fail "a refused snapshot left files"
	snapshot a Full "$s" "$m"
	[[ -n "$at" ]] || fail "no count before the pause"
	# The paused machine prints nothing more; it can go on after a snapshot.
	sleep 0.3
	[[ "$(last_count "$TEST_TMP/a.out")" == "$at" ]] || fail "the paused machine kept counting"
	kill_vmm a
	sum=$(sha256sum "$m" | cut -c1-64)
	"$OSPREY" snapshot verify "$s" >"$TEST_TMP/verify" || fail "snapshot verify refused a good file"
	expect_grep 'Full' "$TEST_TMP/verify"

	# 1. API load, paused: nothing runs until PATCH /vm Resumed.
	vmm b
	api b GET /
	expect_grep '"state":"Not started"' "$TEST_TMP/body"
	ok b PUT /snapshot/load "{\"snapshot_path\": \"$s\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$m\"}}"
	api b GET /
	expect_grep '"state":"Paused"' "$TEST_TMP/body"
	api b GET /vm/config
	expect_grep '"mem_size_mib":64' "$TEST_TMP/body"
	expect_grep "\"kernel_image_path\":\"$GUESTS/counter.elf\"" "$TEST_TMP/body"
	refused b PUT /actions '{"action_type": "InstanceStart"}' 'already been started'
	refused b PUT /snapshot/load "{\"snapshot_path\": \"$s\", \"mem_file_path\": \"$m\"}" 'only a fresh microVM'
	sleep 0.3
	expect_no_grep '^count' "$TEST_TMP/b.out"
	ok b PATCH /vm '{"state": "Resumed"}'
	wait_exit b 60
	expect_status 0 "$status" "API-restored machine"
	expect_continued "$TEST_TMP/b.out" "$at" $STEPS

	# 2. API load with resume_vm and the deprecated mem_file_path.
	vmm c
	ok c PUT /snapshot/load "{\"snapshot_path\": \"$s\", \"mem_file_path\": \"$m\", \"resume_vm\": true}"
	api c GET /
	expect_grep '"state":"Running"' "$TEST_TMP/body"
	wait_exit c 60
	expect_status 0 "$status" "API-restored machine (resume_vm)"
	expect_continued "$TEST_TMP/c.out" "$at" $STEPS

	# 3. The CLI, with the memory file's default name (STATE's .mem).
	restore_cli "$s" "$m" "$TEST_TMP/cli.out" "$TEST_TMP/cli.err"
	expect_status 0 "$status" "osprey run --restore"
	expect_continued "$TEST_TMP/cli.out" "$at" $STEPS
	status=0
	timeout 60 "$OSPREY" run --restore "$s" >"$TEST_TMP/cli2.out" 2>"$TEST_TMP/cli2.err" </dev/null || status=$?
	expect_status 0 "$status" "osprey run --restore without --restore-mem"
	expect_continued "$TEST_TMP/cli2.out" "$at" $STEPS

	# Restores map the memory file copy-on-write: it never changes.
	[[ "$(sha256sum "$m" | cut -c1-64)" == "$sum" ]] || fail "a restore wrote to the memory file"
	# --restore takes the whole machine from the snapshot.
	status=0
	"$OSPREY" run --restore "$s" --memory 128 >/dev/null 2>"$TEST_TMP/err" || status=$?
	expect_status 1 "$status" "--restore with --memory"
	expect_grep 'cannot be given with it' "$TEST_TMP/err"
}

test_diff_snapshot_merge() {
	local d="$TEST_TMP"
	vmm a
	boot_counter a $STEPS true
	wait_for "$d/a.out" '^count 30 sum' 20 || fail "the counter does not count"
	snapshot a Full "$d/full.snap" "$d/full.mem"
	local full_at=$at
	ok a PATCH /vm '{"state": "Resumed"}'
	wait_for "$d/a.out" "^count $((full_at + 40)) sum" 20 || fail "no counting after the Full snapshot"
	snapshot a Diff "$d/diff.snap" "$d/diff.mem"
	local diff_at=$at
	kill_vmm a
	((diff_at > full_at + 30)) || fail "the Diff snapshot ($diff_at) is not later than the Full ($full_at)"
	"$OSPREY" snapshot verify "$d/diff.snap" >"$d/verify" || fail "verify refused the Diff"
	expect_grep 'Diff' "$d/verify"
	# The Diff holds only the pages written in between: far fewer blocks.
	local full_kb diff_kb
	full_kb=$(du -k "$d/full.mem" | cut -f1)
	diff_kb=$(du -k "$d/diff.mem" | cut -f1)
	((diff_kb < full_kb)) || fail "Diff memory file uses $diff_kb KiB, the Full one $full_kb KiB"
	# Merged onto (a copy of) the Full memory file, the Diff restores the later state.
	cp --sparse=always "$d/full.mem" "$d/base.mem"
	"$OSPREY" snapshot merge --diff-state "$d/diff.snap" --diff-mem "$d/diff.mem" \
		--base-mem "$d/base.mem" 2>"$d/merge.err" || { cat "$d/merge.err" >&2; fail "merge failed"; }
	restore_cli "$d/diff.snap" "$d/base.mem" "$d/r.out" "$d/r.err"
	expect_status 0 "$status" "restore of the merged Diff"
	expect_continued "$d/r.out" "$diff_at" $STEPS
	# The Full snapshot still restores to its own, earlier state.
	restore_cli "$d/full.snap" "$d/full.mem" "$d/f.out" "$d/f.err"
	expect_status 0 "$status" "restore of the Full snapshot"
	expect_continued "$d/f.out" "$full_at" $STEPS
	expect_grep "^count $((full_at + 5)) sum" "$d/f.out"
	# A Full state is not a Diff to merge.
	status=0
	"$OSPREY" snapshot merge --diff-state "$d/full.snap" --diff-mem "$d/full.mem" \
		--base-mem "$d/base.mem" 2>"$d/merge.err" || status=$?
	expect_status 1 "$status" "merge of a Full snapshot"
	expect_grep 'not a Diff' "$d/merge.err"
}

test_ten_machines_from_one_memory_file() {
	local d="$TEST_TMP" sum i
	vmm a
	boot_counter a 150
	wait_for "$d/a.out" '^count 20 sum' 20 || fail "the counter does not count"
	snapshot a Full "$d/vm.snap" "$d/vm.mem"
	kill_vmm a
	sum=$(sha256sum "$d/vm.mem" | cut -c1-64)
	for i in $(seq 1 10); do
		"$OSPREY" run --restore "$d/vm.snap" --restore-mem "$d/vm.mem" \
			>"$d/r$i.out" 2>"$d/r$i.err" </dev/null &
		PIDS[r$i]=$!
	done
	# All ten run at once: sample which are alive and counting until all end.
	local t now running most=0
	for ((t = 0; t < 1200; t++)); do
		now=0
		running=0
		for i in $(seq 1 10); do
			kill -0 "${PIDS[r$i]}" 2>/dev/null || continue
			running=$((running + 1))
			grep -q '^count' "$d/r$i.out" && now=$((now + 1))
		done
		((now > most)) && most=$now
		((running == 0)) && break
		sleep 0.05
	done
	((most >= 8)) || fail "at most $most of 10 machines were counting at the same time"
	for i in $(seq 1 10); do
		wait_exit "r$i" 90
		expect_status 0 "$status" "machine $i"
		expect_continued "$d/r$i.out" "$at" 150
	done
	[[ "$(sha256sum "$d/vm.mem" | cut -c1-64)" == "$sum" ]] || fail "the shared memory file changed"
}

# osprey-ctl end to end, and a Diff taken after a load with dirty tracking
# (it holds what changed since the load) merged onto the loaded Full.
test_ctl_load_then_diff_since_load() {
	local d="$TEST_TMP" ctl=${OSPREY_CTL:-$SNAP_DIR/../../build/osprey-ctl} full_at diff_at
	[[ -x "$ctl" ]] || skip "no osprey-ctl at $ctl (make build/osprey-ctl)"
	vmm a
	boot_counter a $STEPS
	wait_for "$d/a.out" '^count 20 sum' 20 || fail "the counter does not count"
	"$ctl" -s "$d/a.sock" snapshot create --pause --state "$d/full.snap" --mem "$d/full.mem" --resume ||
		fail "osprey-ctl snapshot create"
	full_at=$(grep -c '^count' "$d/a.out")
	api a GET /
	expect_grep '"state":"Running"' "$TEST_TMP/body"
	kill_vmm a
	# Load it with dirty tracking, let it count on, take a Diff.
	vmm b
	"$ctl" -s "$d/b.sock" snapshot load --state "$d/full.snap" --mem "$d/full.mem" \
		--track-dirty-pages --resume || fail "osprey-ctl snapshot load"
	api b GET /machine-config
	expect_grep '"track_dirty_pages":true' "$TEST_TMP/body"
	wait_for "$d/b.out" "^count $((full_at + 60)) sum" 30 || fail "the loaded machine does not count"
	"$ctl" -s "$d/b.sock" snapshot create --pause --type diff --state "$d/diff.snap" --mem "$d/diff.mem" ||
		fail "osprey-ctl snapshot create --type diff"
	diff_at=$(last_count "$d/b.out")
	kill_vmm b
	cp --sparse=always "$d/full.mem" "$d/base.mem"
	"$OSPREY" snapshot merge --diff-state "$d/diff.snap" --diff-mem "$d/diff.mem" --base-mem "$d/base.mem" ||
		fail "merge"
	restore_cli "$d/diff.snap" "$d/base.mem" "$d/r.out" "$d/r.err"
	expect_status 0 "$status" "restore of the Diff taken after a load"
	expect_continued "$d/r.out" "$diff_at" $STEPS
}
