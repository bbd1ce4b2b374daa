/* SPDX-License-Identifier: MIT */
/*
 * emul_fail - executes an instruction that KVM's instruction emulator
 * cannot run in guest kernel mode and osprey does not emulate either
 * (popcnt). On hosts where KVM emulates guest kernel code (kvm_pvm) osprey
 * must stop with an emulation-failure report naming the instruction and
 * exit status 3; on hardware hosts the instruction simply runs.
 */
#include "gt.h"

void test_main(const struct osprey_hvm_start_info *si)
{
	(void)si;
	uint32_t v = 0xf0f0;

	print("executing popcnt\n");
	/* popcnt %eax, %eax, as bytes: the guest is built for i686. */
	__asm__ volatile(".byte 0xf3, 0x0f, 0xb8, 0xc0" : "+a"(v));
	print(v == 8 ? "popcnt ok\n" : "popcnt WRONG\n");
	poweroff();
}
