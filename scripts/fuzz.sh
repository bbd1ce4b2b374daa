#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets and run each one for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 10); TARGETs are names from fuzz/fuzz_*.c,
# with or without the fuzz_ prefix (default: all of them). Each target runs
# over a temporary copy of fuzz/corpus/<target>/, so the committed seeds
# stay as they are. One line per target on stdout:
#
#   PASS fuzz_x (N runs)
#   FAIL fuzz_x (crash: build/fuzz/artifacts/fuzz_x/crash-...; log: ...)
#
# Exit status: 0 when every target passed, 1 otherwise, 2 on bad usage.
# A crash input is kept under build/fuzz/artifacts/<target>/; fix the bug
# and commit the input as fuzz/corpus/<target>/regression-<what>.
#
# Environment:
#   JOBS                 parallel make jobs for the build (default 2)
#   OSPREY_FUZZ_ARGS     extra libFuzzer flags (e.g. "-jobs=2 -workers=2")
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

usage() {
	echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
	exit 2
}

secs=10
if [[ $# -gt 0 ]]; then
	[[ $1 =~ ^[0-9]+$ && $1 -gt 0 ]] || usage
	secs=$1
	shift
fi

targets=()
if [[ $# -gt 0 ]]; then
	for t in "$@"; do
		t=fuzz_${t#fuzz_}
		[[ -f fuzz/$t.c ]] || {
			echo "fuzz.sh: no target $t (fuzz/$t.c)" >&2
			usage
		}
		targets+=("$t")
	done
else
	for f in fuzz/fuzz_*.c; do
		t=$(basename "$f" .c)
		targets+=("$t")
	done
fi
[[ ${#targets[@]} -gt 0 ]] || {
	echo "fuzz.sh: no fuzz targets in fuzz/" >&2
	exit 1
}

bins=()
for t in "${targets[@]}"; do
	bins+=("build/fuzz/$t")
done
if ! make -j"${JOBS:-2}" -s "${bins[@]}" >&2; then
	for t in "${targets[@]}"; do
		echo "FAIL $t (build failed)"
	done
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/osprey-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
for t in "${targets[@]}"; do
	corpus=$work/$t
	artifacts=build/fuzz/artifacts/$t
	log=build/fuzz/artifacts/$t.log
	mkdir -p "$corpus" "$artifacts"
	if [[ -d fuzz/corpus/$t ]]; then
		cp -R "fuzz/corpus/$t/." "$corpus/"
	fi
	rc=0
	# shellcheck disable=SC2086 # OSPREY_FUZZ_ARGS is a list of flags
	"build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/" \
		${OSPREY_FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	if [[ $rc -eq 0 && -z $crash ]]; then
		echo "PASS $t (${runs:-0} runs)"
	else
		failed=1
		echo "FAIL $t (${crash:+crash: $crash; }exit status $rc; log: $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/    /' >&2 || true
	fi
done
exit $failed
