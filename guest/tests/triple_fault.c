/* SPDX-License-Identifier: MIT */
/*
 * triple_fault - loads an IDT with limit 0 and raises an exception: the
 * exception cannot be delivered (#GP), neither can the #GP (#DF), so the
 * CPU shuts down (triple fault).  The VMM should dump registers and exit
 * with status 3.
 */
#include "gt.h"

/* How to raise the first exception (override with -DTF_METHOD=n to try
 * others): 0 = int3, 1 = ud2, 2 = divide by zero, 3 = bad selector (#GP).
 * Default ud2: on kvm_pvm hosts a kernel-mode int3 is not emulated (KVM
 * internal error, no triple fault); 1, 2 and 3 all triple-fault there. */
#ifndef TF_METHOD
#define TF_METHOD 1
#endif

static void raise_exception(void)
{
#if TF_METHOD == 0
	__asm__ volatile("int3");
#elif TF_METHOD == 1
	__asm__ volatile("ud2");
#elif TF_METHOD == 2
	__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
#else
	__asm__ volatile("movw %w0, %%ds" : : "r"(0xfff8) : "memory");
#endif
}

void test_main(const struct osprey_hvm_start_info *si)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} null_idt = { 0, 0 };

	(void)si;
	print("about to triple fault\n");
	__asm__ volatile("lidt %0" : : "m"(null_idt));
	raise_exception();
	print("still alive after triple fault?!\n");
	poweroff();
}
