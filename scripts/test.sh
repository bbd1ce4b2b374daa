#!/usr/bin/env bash
# osprey's whole test suite: `make test` runs this. It installs what it
# needs (Debian packages, the default guest kernel and initramfs, cached
# outside the checkout), builds release and sanitizer (ASan+UBSan) builds,
# and runs, in order: unit tests, CLI bad-input tests, machine tests with
# tiny test guests (release and sanitizer builds) on every accelerator the
# host has (the software CPU always, KVM where /dev/kvm opens), the
# software CPU's differential tests against this host's CPU, short
# fuzzing runs, the container runtime's tests (osprey-oci, also driven by
# podman), the jailer's, the VMM's seccomp filters, and the end-to-end
# Linux boots (on KVM where it exists, else on the software CPU). Ends
# with "N passed, N failed, N skipped".
#
#   OSPREY_FUZZ_SECONDS=N   seconds per fuzz target (default 10)
#   OSPREY_DIFF_CASES=N     differential test cases (default 20000)
#   OSPREY_DIFF_SEED=N      their seed (default 1: CI runs the same cases)
#   OSPREY_TEST_ONLY=LIST   comma-separated subset:
#                           unit,cli,api,guests,diff,ctl,oci,jail,seccomp,migration,fuzz,snapshot,e2e
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export OSPREY_TEST_COUNTS
OSPREY_TEST_COUNTS=$(mktemp)
trap 'rm -f "$OSPREY_TEST_COUNTS"' EXIT
source tests/lib/testlib.sh

only=",${OSPREY_TEST_ONLY:-unit,cli,api,guests,diff,ctl,oci,jail,seccomp,migration,fuzz,snapshot,e2e},"
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
		# cmocka's TAP marks a skip()ped test "not ok N # SKIP name".
		skips=$(grep -cE '^not ok [0-9]+ # SKIP' <<<"$out")
		bad=$(grep -E '^not ok ' <<<"$out" | grep -cvE '^not ok [0-9]+ # SKIP')
		while read -r line; do
			record_result pass "unit/$name/${line#ok * - }"
		done < <(grep -E '^ok ' <<<"$out")
		while read -r line; do
			record_result skip "unit/$name/${line#not ok * # SKIP }"
		done < <(grep -E '^not ok [0-9]+ # SKIP' <<<"$out")
		while read -r line; do
			record_result fail "unit/$name/${line#not ok * - }"
		done < <(grep -E '^not ok ' <<<"$out" | grep -vE '^not ok [0-9]+ # SKIP')
		if [[ $rc -ne 0 && $bad -eq 0 ]]; then
			record_result fail "unit/$name (exit status $rc)"
			bad=1
		fi
		echo "$name: $oks ok, $bad failed$( ((skips == 0)) || echo ", $skips skipped")"
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

# The accelerators this host has: the software CPU always, KVM when
# /dev/kvm opens (then the KVM-only tests run in the kvm pass).
accels=(soft)
have_kvm && accels+=(kvm)
echo "accelerators: ${accels[*]}$(have_kvm || echo ' (no usable /dev/kvm: KVM-only tests are skipped)')"

if want guests; then
	for accel in "${accels[@]}"; do
		section "test guests on $accel (release build)"
		OSPREY_ACCEL=$accel OSPREY="$ROOT/build/osprey" run_suite "guests-$accel" tests/guests/guests.sh
		section "test guests on $accel (ASan+UBSan build)"
		OSPREY_ACCEL=$accel OSPREY="$ROOT/build/asan/osprey" run_suite "guests-$accel-asan" tests/guests/guests.sh
	done
fi

if want diff; then
	section "software CPU against this host's CPU (differential tests)"
	if make -s -j"$(nproc)" difftest-release; then
		out=$(build/tests/difftest-release --cases "${OSPREY_DIFF_CASES:-20000}" --seed "${OSPREY_DIFF_SEED:-1}" 2>&1)
		rc=$?
		grep -vE '^(PASS|ok) ' <<<"$out" | tail -n 40
		if [[ $rc -eq 0 ]]; then
			record_result pass "diff/difftest"
		else
			record_result fail "diff/difftest (exit status $rc)"
		fi
	else
		record_result fail "diff/build"
	fi
fi

if want ctl; then
	section "osprey-ctl against the API server (ASan+UBSan server)"
	OSPREY="$ROOT/build/asan/osprey" OSPREY_CTL="$ROOT/build/osprey-ctl" run_suite ctl tests/ctl/ctl.sh
fi

if want oci; then
	section "containers: osprey-oci (ASan+UBSan build) and podman driving it (release build)"
	if make -j"$(nproc)" -s build/osprey-oci build/asan/osprey-oci; then
		OSPREY_OCI="$ROOT/build/asan/osprey-oci" run_suite oci tests/oci/runtime.sh
		OSPREY_OCI="$ROOT/build/osprey-oci" run_suite podman tests/oci/podman.sh
	else
		record_result fail "oci/build"
	fi
fi

if want jail; then
	section "jailer: osprey-jailer (ASan+UBSan build) jailing a static helper and the release osprey"
	if make -j"$(nproc)" -s build/asan/osprey-jailer build/osprey build/guest/hello.elf; then
		OSPREY_JAILER="$ROOT/build/asan/osprey-jailer" OSPREY_JAILED="$ROOT/build/osprey" \
			run_suite jail tests/jail/jail.sh
	else
		record_result fail "jail/build"
	fi
fi

if want seccomp; then
	# docs/seccomp.md. The e2e section runs the ASan build; the Linux guest
	# with devices runs here with the release build too, filters on.
	section "seccomp: the VMM's per-thread filters (release build; ASan+UBSan briefly)"
	OSPREY="$ROOT/build/osprey" OSPREY_ASAN="$ROOT/build/asan/osprey" \
		run_suite seccomp tests/seccomp/seccomp.sh
	OSPREY="$ROOT/build/osprey" run_suite seccomp-e2e-virtio_blk tests/e2e/virtio_blk.sh
fi

if want migration; then
	section "live migration on the software CPU (ASan+UBSan build)"
	OSPREY="$ROOT/build/asan/osprey" OSPREY_ASAN="$ROOT/build/asan/osprey" OSPREY_CTL="$ROOT/build/osprey-ctl" \
		run_suite migration tests/migration/migration.sh
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

if want snapshot; then
	# Bad files under the sanitizers; the guests' runs on the release build.
	for accel in "${accels[@]}"; do
		section "snapshots on $accel (tests/snapshot; release build, ASan+UBSan for bad files)"
		OSPREY_ACCEL=$accel OSPREY="$ROOT/build/osprey" run_suite "snapshot-$accel" tests/snapshot/counter.sh
		OSPREY_ACCEL=$accel OSPREY="$ROOT/build/asan/osprey" run_suite "snapshot-$accel-corrupt" tests/snapshot/corrupt.sh
		OSPREY_ACCEL=$accel OSPREY="$ROOT/build/osprey" run_suite "snapshot-$accel-kill" tests/snapshot/kill.sh
		OSPREY_ACCEL=$accel OSPREY="$ROOT/build/osprey" run_suite "snapshot-$accel-linux" tests/snapshot/linux.sh
	done
fi

if want e2e; then
	section "end-to-end: the default Linux guest (ASan+UBSan build, accelerator auto)"
	OSPREY="$ROOT/build/asan/osprey" run_suite e2e tests/e2e/linux.sh
	for suite in tests/e2e/virtio_*.sh tests/e2e/net.sh tests/e2e/vsock.sh tests/e2e/api.sh; do
		[[ -f "$suite" ]] || continue
		OSPREY="$ROOT/build/asan/osprey" run_suite "e2e-$(basename "$suite" .sh)" "$suite"
	done
fi

section "summary"
print_summary
