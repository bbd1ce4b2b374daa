#!/usr/bin/env bash
# osprey's whole test suite: `make test` runs this. It installs what it
# needs (Debian packages, the default guest kernel and initramfs, cached
# outside the checkout), builds release and sanitizer (ASan+UBSan) builds,
# and runs, in order: unit tests, CLI bad-input tests, KVM tests with tiny
# test guests (release and sanitizer builds), short fuzzing runs, and the
# end-to-end Linux boots. Ends with "N passed, N failed, N skipped".
#
#   OSPREY_FUZZ_SECONDS=N   seconds per fuzz target (default 10)
#   OSPREY_TEST_ONLY=LIST   comma-separated subset: unit,cli,api,kvm,ctl,fuzz,e2e
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export OSPREY_TEST_COUNTS
OSPREY_TEST_COUNTS=$(mktemp)
trap 'rm -f "$OSPREY_TEST_COUNTS"' EXIT
source tests/lib/testlib.sh

only=",${OSPREY_TEST_ONLY:-unit,cli,api,kvm,ctl,fuzz,e2e},"
want() { [[ "$only" == *",$1,"* ]]; }
section() { printf '\n=== %s\n' "$*"; }

section "dependencies"
scripts/deps.sh || { echo "dependency installation failed"; exit 1; }

section "guest kernel and initramfs (cached)"
KERNEL_DIR=$(scripts/build-kernel.sh | tail -n 1) || KERNEL_DIR=""
INITRAMFS=$(scripts/build-initramfs.sh | tail -n 1) || INITRAMFS=""
echo "kernel:    ${KERNEL_DIR:-BUILD FAILED}"
echo "initramfs: ${INITRAMFS:-BUILD FAILED}"
if [[ -z "$KERNEL_DIR" || ! -f "$KERNEL_DIR/vmlinux" ]]; then
	record_result fail "setup/guest-kernel-build"
fi
if [[ -z "$INITRAMFS" || ! -f "$INITRAMFS" ]]; then
	record_result fail "setup/initramfs-build"
fi
export KERNEL_DIR INITRAMFS

section "build (release, ASan+UBSan, unit tests, test guests)"
if ! make -j"$(nproc)" -s all asan unit guests; then
	record_result fail "setup/build"
	print_summary
	exit 1
fi
export GUESTS="$ROOT/build/guest"

if want unit; then
	section "unit tests (cmocka, ASan+UBSan)"
	for t in build/tests/unit/test_*; do
		[[ -x "$t" ]] || continue
		name=$(basename "$t")
		out=$(CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1)
		rc=$?
		oks=$(grep -cE '^ok ' <<<"$out")
		bad=$(grep -cE '^not ok ' <<<"$out")
		while read -r line; do
			record_result pass "unit/$name/${line#ok * - }"
		done < <(grep -E '^ok ' <<<"$out")
		while read -r line; do
			record_result fail "unit/$name/${line#not ok * - }"
		done < <(grep -E '^not ok ' <<<"$out")
		if [[ $rc -ne 0 && $bad -eq 0 ]]; then
			record_result fail "unit/$name (exit status $rc)"
			bad=1
		fi
		echo "$name: $oks ok, $bad failed"
		[[ $bad -eq 0 ]] || grep -vE '^ok ' <<<"$out" | sed 's/^/    /' | head -40
	done
fi

if want cli; then
	section "bad input (ASan+UBSan build)"
	OSPREY="$ROOT/build/asan/osprey" run_suite cli tests/cli/errors.sh
fi

if want api; then
	section "API server over its Unix socket (ASan+UBSan build)"
	OSPREY="$ROOT/build/asan/osprey" run_suite api tests/api/server.sh
fi

if want kvm; then
	section "KVM tests with test guests (release build)"
	OSPREY="$ROOT/build/osprey" run_suite kvm tests/kvm/guests.sh
	section "KVM tests with test guests (ASan+UBSan build)"
	OSPREY="$ROOT/build/asan/osprey" run_suite kvm-asan tests/kvm/guests.sh
fi

if want ctl; then
	section "osprey-ctl against the API server (ASan+UBSan server)"
	OSPREY="$ROOT/build/asan/osprey" OSPREY_CTL="$ROOT/build/osprey-ctl" run_suite ctl tests/ctl/ctl.sh
fi

if want fuzz; then
	section "fuzzing (${OSPREY_FUZZ_SECONDS:-10}s per target)"
	if [[ -x scripts/fuzz.sh ]]; then
		while read -r line; do
			echo "$line"
			case "$line" in
			PASS\ *) record_result pass "fuzz/$(awk '{print $2}' <<<"$line")" ;;
			FAIL\ *) record_result fail "fuzz/$(awk '{print $2}' <<<"$line")" ;;
			esac
		done < <(scripts/fuzz.sh "${OSPREY_FUZZ_SECONDS:-10}" 2>&1)
	fi
fi

if want e2e; then
	section "end-to-end: the default Linux guest (ASan+UBSan build)"
	OSPREY="$ROOT/build/asan/osprey" run_suite e2e tests/e2e/linux.sh
	for suite in tests/e2e/virtio_*.sh tests/e2e/net.sh tests/e2e/vsock.sh tests/e2e/api.sh; do
		[[ -f "$suite" ]] || continue
		OSPREY="$ROOT/build/asan/osprey" run_suite "e2e-$(basename "$suite" .sh)" "$suite"
	done
fi

section "summary"
print_summary
