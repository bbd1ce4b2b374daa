# Shared helpers for osprey's shell test suites (sourced, not executed).
#
# A suite file defines functions named test_*; run_suite runs each one in a
# subshell with its output captured, prints PASS/FAIL/SKIP, and adds to the
# counters in $OSPREY_TEST_COUNTS (a file: one line "pass|fail|skip name").

: "${OSPREY_TEST_COUNTS:=$(mktemp)}"
export OSPREY_TEST_COUNTS

TEST_TMP=""

# Fail the current test with a message.
fail() {
	echo "FAILED: $*" >&2
	exit 1
}

# Skip the current test (exit status 77, as automake does).
skip() {
	echo "SKIPPED: $*" >&2
	exit 77
}

# Whether this host has a usable /dev/kvm.
have_kvm() {
	[[ -r /dev/kvm && -w /dev/kvm ]]
}

# needs_kvm REASON: the test exercises KVM itself; without /dev/kvm it is
# skipped (and counted as skipped, never as passed) with REASON.
needs_kvm() {
	have_kvm || skip "no usable /dev/kvm on this host; $1"
}

# needs_kvm_pass REASON: as needs_kvm, and only in the suite's KVM pass
# (OSPREY_ACCEL unset or kvm), where osprey_run gives --accel kvm.
needs_kvm_pass() {
	needs_kvm "$1"
	[[ "${OSPREY_ACCEL:-kvm}" == kvm ]] || skip "$1: runs in the KVM pass"
}

# The accelerator guest tests run on: $OSPREY_ACCEL (kvm or soft) when the
# suite sets it, otherwise osprey's default (auto: KVM where /dev/kvm
# opens, the software CPU elsewhere).
accel_args() {
	[[ -n "${OSPREY_ACCEL:-}" ]] && printf -- '--accel\n%s\n' "$OSPREY_ACCEL"
	return 0
}

expect_status() { # expected actual what
	[[ "$2" == "$1" ]] || fail "$3: exit status $2, expected $1"
}

expect_grep() { # [--] pattern file
	[[ "$1" == "--" ]] && shift
	grep -qE -- "$1" "$2" || {
		echo "--- $2:" >&2
		tail -n 30 "$2" >&2
		fail "'$1' not found in $(basename "$2")"
	}
}

expect_no_grep() { # [--] pattern file
	[[ "$1" == "--" ]] && shift
	if grep -qE -- "$1" "$2"; then
		echo "--- $2:" >&2
		tail -n 30 "$2" >&2
		fail "'$1' unexpectedly found in $(basename "$2")"
	fi
}

expect_lines() { # n file
	local n
	n=$(wc -l <"$2")
	[[ "$n" -eq "$1" ]] || {
		cat "$2" >&2
		fail "$(basename "$2") has $n lines, expected $1"
	}
}

# Runs osprey with a time limit; stdout/stderr land in $TEST_TMP/out, err.
# Sets $status.
osprey_run() { # timeout_s args...
	local limit=$1
	shift
	status=0
	local accel
	mapfile -t accel < <(accel_args)
	timeout --preserve-status --signal=TERM --kill-after=5 "$limit" "$OSPREY" run "${accel[@]}" "$@" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	if grep -q "Sanitizer" "$TEST_TMP/err"; then
		cat "$TEST_TMP/err" >&2
		fail "sanitizer report"
	fi
}

# run_suite LABEL FILE: runs every test_* function defined by FILE.
run_suite() {
	local label=$1 file=$2 t rc log start
	# shellcheck source=/dev/null
	source "$file"
	for t in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
		log=$(mktemp)
		start=$(date +%s.%N)
		rc=0
		(
			TEST_TMP=$(mktemp -d)
			trap 'rm -rf "$TEST_TMP"' EXIT
			set -e
			"$t"
		) >"$log" 2>&1 || rc=$?
		local secs
		secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
		if [[ $rc -eq 0 ]]; then
			echo "PASS $label/$t (${secs}s)"
			echo "pass $label/$t" >>"$OSPREY_TEST_COUNTS"
		elif [[ $rc -eq 77 ]]; then
			echo "SKIP $label/$t: $(grep SKIPPED "$log" | tail -1)"
			echo "skip $label/$t" >>"$OSPREY_TEST_COUNTS"
		else
			echo "FAIL $label/$t (${secs}s)"
			sed 's/^/    /' "$log" | tail -n 40
			echo "fail $label/$t" >>"$OSPREY_TEST_COUNTS"
		fi
		rm -f "$log"
	done
	unset -f $(declare -F | awk '{print $3}' | grep '^test_')
}

# Records an externally computed result (unit tests, fuzzers).
record_result() { # pass|fail|skip name
	echo "$1 $2" >>"$OSPREY_TEST_COUNTS"
}

print_summary() {
	local p f s
	p=$(grep -c '^pass ' "$OSPREY_TEST_COUNTS" || true)
	f=$(grep -c '^fail ' "$OSPREY_TEST_COUNTS" || true)
	s=$(grep -c '^skip ' "$OSPREY_TEST_COUNTS" || true)
	if [[ "$f" -gt 0 ]]; then
		echo "failed tests:"
		grep '^fail ' "$OSPREY_TEST_COUNTS" | sed 's/^fail /  /'
	fi
	echo "$p passed, $f failed, $s skipped"
	[[ "$f" -eq 0 ]]
}
