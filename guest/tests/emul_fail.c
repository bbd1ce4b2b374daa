/* SPDX-License-Identifier: MIT */
/*
 * emul_fail - executes an instruction that KVM's instruction emulator
 * cannot run in guest kernel mode (fwait). On hosts where KVM emulates
 * guest kernel code (kvm_pvm) osprey must stop with an emulation-failure
 * report naming the instruction and exit status 3; on hardware hosts the
 * instruction simply runs and the guest powers off.
 */
#include "gt.h"

void test_main(const struct osprey_hvm_start_info *si)
{
	(void)si;
	print("executing fwait\n");
	__asm__ volatile("fwait");
	print("fwait ok\n");
	poweroff();
}
