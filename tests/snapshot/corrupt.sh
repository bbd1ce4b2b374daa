# Bad snapshot files are refused before any of them is used: an empty
# state file, one truncated at several points, flipped bits, another
# format version, another CPU template (edited with a valid CRC), a memory
# file too short, a missing one, one of another snapshot. Each restore
# exits with status 1 and one clear error, runs no guest code and leaves
# no file behind; through the API the load answers 400 and the process
# stays fresh.
# Needs: $OSPREY, $GUESTS, curl, python3.

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A good snapshot of the counter in $TEST_TMP/good.{snap,mem}.
make_snapshot() {
	vmm a
	boot_counter a 200
	wait_for "$TEST_TMP/a.out" '^count 10 sum' 20 || fail "the counter does not count"
	snapshot a Full "$TEST_TMP/good.snap" "$TEST_TMP/good.mem"
	# A second snapshot of the same machine: its memory file is another one's.
	ok a PUT /snapshot/create "{\"snapshot_path\": \"$TEST_TMP/other.snap\", \"mem_file_path\": \"$TEST_TMP/other.mem\"}"
	kill_vmm a
	mkdir "$TEST_TMP/w"
}

# flip_bit FILE OFFSET: bit 4 of the byte at OFFSET, in place.
flip_bit() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 16)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# refuse WHAT STATE MEM PATTERN: osprey run --restore fails cleanly.
refuse() {
	local what=$1 state=$2 mem=$3 pattern=$4 before after
	before=$(ls -A "$TEST_TMP/w")
	status=0
	timeout --kill-after=5 20 "$OSPREY" run --restore "$state" --restore-mem "$mem" \
		>"$TEST_TMP/r.out" 2>"$TEST_TMP/r.err" </dev/null || status=$?
	no_sanitizer "$TEST_TMP/r.err"
	expect_status 1 "$status" "restore of $what"
	expect_grep "cannot restore .*$pattern" "$TEST_TMP/r.err"
	[[ $(grep -c 'error' "$TEST_TMP/r.err") -eq 1 ]] || {
		cat "$TEST_TMP/r.err" >&2
		fail "$what: more than one error line"
	}
	[[ ! -s "$TEST_TMP/r.out" ]] || fail "$what: the guest ran: $(head -c 200 "$TEST_TMP/r.out")"
	after=$(ls -A "$TEST_TMP/w")
	[[ "$before" == "$after" ]] || fail "$what: files left behind: $after"
}

test_corrupt_state_files_refused() {
	local g="$TEST_TMP/good.snap" m="$TEST_TMP/good.mem" w="$TEST_TMP/w" len n tmpl
	make_snapshot
	len=$(stat -c %s "$g")
	: >"$w/empty.snap"
	refuse "an empty state file" "$w/empty.snap" "$m" 'is empty'
	for n in 8 20 $((len / 2)) $((len - 1)); do
		head -c "$n" "$g" >"$w/trunc.snap"
		refuse "a state file cut at $n of $len bytes" "$w/trunc.snap" "$m" 'bad magic|truncated'
	done
	for n in 9 30 $((len / 2)) $((len - 3)); do
		cp "$g" "$w/flip.snap"
		flip_bit "$w/flip.snap" "$n"
		cmp -s "$g" "$w/flip.snap" && fail "no bit flipped at $n"
		refuse "a bit flipped at byte $n" "$w/flip.snap" "$m" 'bad magic|corrupt|version|truncated|unknown snapshot type'
	done
	cp "$g" "$w/version.snap"
	python3 "$SNAP_DIR/snapfile.py" set-version "$w/version.snap" 2
	refuse "format version 2" "$w/version.snap" "$m" 'format version 2, this osprey reads version 1'
	cp "$g" "$w/tmpl.snap"
	tmpl=$(python3 "$SNAP_DIR/snapfile.py" set-template "$w/tmpl.snap" other)
	refuse "another CPU template ($tmpl)" "$w/tmpl.snap" "$m" "made with CPU template $tmpl, this machine uses"
	# The edits alone are refused: with the CRC recomputed, the copy is good.
	cp "$g" "$w/same.snap"
	python3 "$SNAP_DIR/snapfile.py" fix-crc "$w/same.snap"
	cmp -s "$g" "$w/same.snap" || fail "snapfile.py fix-crc changed a good file"
	rm -f "$w"/*.snap
	# The memory file: too short, missing.
	head -c 1048576 "$m" >"$w/short.mem"
	refuse "a memory file too short" "$g" "$w/short.mem" 'short|bytes, the snapshot needs'
	refuse "a missing memory file" "$g" "$w/none.mem" 'No such file'
	refuse "the memory file of another snapshot" "$g" "$TEST_TMP/other.mem" 'belongs to another snapshot'
	refuse "a missing state file" "$w/none.snap" "$m" 'No such file'
}

test_corrupt_state_over_the_api() {
	local g="$TEST_TMP/good.snap" m="$TEST_TMP/good.mem" w="$TEST_TMP/w"
	make_snapshot
	head -c 100 "$g" >"$w/trunc.snap"
	vmm b
	refused b PUT /snapshot/load "{\"snapshot_path\": \"$w/trunc.snap\", \"mem_file_path\": \"$m\", \"resume_vm\": true}" 'truncated'
	refused b PUT /snapshot/load "{\"snapshot_path\": \"$g\", \"mem_file_path\": \"$w/none.mem\", \"resume_vm\": true}" 'No such file'
	api b GET /
	expect_grep '"state":"Not started"' "$TEST_TMP/body"
	# Still fresh: the good snapshot loads after the bad ones.
	ok b PUT /snapshot/load "{\"snapshot_path\": \"$g\", \"mem_file_path\": \"$m\", \"resume_vm\": true}"
	wait_exit b 60
	expect_status 0 "$status" "restore after refused loads"
	expect_grep "^counter: done 200 checksum $(counter_sum 200)\$" "$TEST_TMP/b.out"
	[[ "$(ls -A "$w")" == "trunc.snap" ]] || fail "files left behind: $(ls -A "$w")"
}
