#!/bin/sh
# SPDX-License-Identifier: MIT
#
# qemu-run.sh - boot one test guest under QEMU's microvm, as a cross-check
# of the guest code while osprey cannot run it (or to compare with osprey).
#
#   guest/tests/qemu-run.sh build/guest/hello.elf [-append "foo bar"] [-smp 2] ...
#
# Extra arguments go to QEMU.  QEMU has no osprey PV port, so an
# isa-debug-exit device at 0x700 stands in: a 32-bit write of V exits QEMU
# with status ((V << 1) | 1) & 0xff, so OSPREY_PV_POWEROFF (0x4F535001)
# gives 3 and OSPREY_PV_REBOOT gives 5.  A reset or triple fault makes
# QEMU exit 0 (-no-reboot).  QEMU's exit statuses are NOT osprey's.
# -cpu host needs -arch-capabilities on kvm_pvm hosts (MSR 0x10a fails).
set -eu
elf=$1
shift
exec timeout "${QEMU_TIMEOUT:-30}" qemu-system-x86_64 \
	-M microvm,acpi=off -enable-kvm -cpu host,-arch-capabilities -m 128 \
	-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0x700,iosize=4 \
	-kernel "$elf" "$@"
