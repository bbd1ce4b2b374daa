// SPDX-License-Identifier: Apache-2.0
/*
 * The CPUID table of osprey's software CPU (cpuid.h: cpuid_soft_table):
 * exactly the features the interpreter implements, so a guest never
 * takes a code path that the CPU cannot run.
 *
 * Model: GenuineIntel family 6 model 0x1c (an in-order Atom, which Linux
 * lists as not speculating: no Meltdown page-table isolation, no Spectre
 * mitigations, both of which would only slow an interpreter down).
 * Baseline x86-64 (SSE2, no SSE3 and later), CMPXCHG16B, x2APIC, TSC
 * deadline, invariant TSC, and the KVM paravirtual leaves: kvmclock and
 * leaf 0x40000010 with the TSC and APIC bus frequencies, so the guest
 * calibrates nothing against the wall clock.
 */
#include <string.h>

#include "arch/x86/cpuid.h"
#include "base/util.h"

#define BIT(n) (1u << (n))

/* Leaf 1 EDX */
#define F_FPU BIT(0)
#define F_PSE BIT(3)
#define F_TSC BIT(4)
#define F_MSR BIT(5)
#define F_PAE BIT(6)
#define F_CX8 BIT(8)
#define F_APIC BIT(9)
#define F_SEP BIT(11)
#define F_PGE BIT(13)
#define F_CMOV BIT(15)
#define F_PAT BIT(16)
#define F_PSE36 BIT(17)
#define F_CLFSH BIT(19)
#define F_MMX BIT(23)
#define F_FXSR BIT(24)
#define F_SSE BIT(25)
#define F_SSE2 BIT(26)
/* Leaf 1 ECX */
#define F_CX16 BIT(13)
#define F_X2APIC BIT(21)
#define F_TSC_DEADLINE BIT(24)
#define F_HYPERVISOR BIT(31)
/* Leaf 0x80000001 */
#define F_LAHF_LM BIT(0)
#define F_SYSCALL BIT(11)
#define F_NX BIT(20)
#define F_RDTSCP BIT(27)
#define F_LM BIT(29)
/* Leaf 0x80000007 EDX */
#define F_INVTSC BIT(8)
/* Leaf 0x40000001 EAX (KVM features) */
#define KVM_F_CLOCKSOURCE BIT(0)
#define KVM_F_CLOCKSOURCE2 BIT(3)
#define KVM_F_CLOCKSOURCE_STABLE BIT(24)

/* Four ASCII characters as a CPUID register (little endian). */
#define STR4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

#define SOFT_FAMILY_MODEL_STEPPING 0x000106cau /* family 6, model 0x1c, stepping 10 (no PSE erratum) */
#define SOFT_MAX_BASIC 0x16u
#define SOFT_MAX_EXT 0x80000008u
#define SOFT_MAX_KVM 0x40000010u

static const struct cpuid_entry soft_entries[] = {
	{ .function = 0, .eax = SOFT_MAX_BASIC, .ebx = STR4('G', 'e', 'n', 'u'),
	  .edx = STR4('i', 'n', 'e', 'I'), .ecx = STR4('n', 't', 'e', 'l') },
	{ .function = 1,
	  .eax = SOFT_FAMILY_MODEL_STEPPING,
	  .ebx = 8u << 8, /* CLFLUSH line: 8 * 8 bytes; APIC ID and count: topology */
	  .ecx = F_CX16 | F_X2APIC | F_TSC_DEADLINE | F_HYPERVISOR,
	  .edx = F_FPU | F_PSE | F_TSC | F_MSR | F_PAE | F_CX8 | F_APIC | F_SEP | F_PGE |
		 F_CMOV | F_PAT | F_PSE36 | F_CLFSH | F_MMX | F_FXSR | F_SSE | F_SSE2 },
	/* Leaf 7: no SMEP, SMAP, FSGSBASE, ERMS, BMI, AVX2, ... (zero subleaves). */
	{ .function = 7, .index = 0, .flags = CPUID_FLAG_INDEX },
	/* Extended topology (cpuid_set_topology fills it per vCPU). */
	{ .function = 0xb, .index = 0, .flags = CPUID_FLAG_INDEX },
	{ .function = 0xb, .index = 1, .flags = CPUID_FLAG_INDEX },
	{ .function = 0xb, .index = 2, .flags = CPUID_FLAG_INDEX },
	/* No XSAVE: leaf 0xD reads zero. */
	{ .function = 0xd, .index = 0, .flags = CPUID_FLAG_INDEX },
	/* TSC = 25 MHz crystal * 40 / 1 = 1 GHz. */
	{ .function = 0x15, .eax = 1, .ebx = 40, .ecx = 25000000 },
	/* Base and maximum 1000 MHz, bus 1000 MHz. */
	{ .function = 0x16, .eax = 1000, .ebx = 1000, .ecx = 1000 },
	{ .function = 0x40000000, .eax = SOFT_MAX_KVM, .ebx = STR4('K', 'V', 'M', 'K'),
	  .ecx = STR4('V', 'M', 'K', 'V'), .edx = STR4('M', 0, 0, 0) },
	{ .function = 0x40000001,
	  .eax = KVM_F_CLOCKSOURCE | KVM_F_CLOCKSOURCE2 | KVM_F_CLOCKSOURCE_STABLE },
	{ .function = 0x40000010, .eax = CPUID_SOFT_TSC_KHZ, .ebx = CPUID_SOFT_APIC_BUS_KHZ },
	{ .function = 0x80000000, .eax = SOFT_MAX_EXT },
	{ .function = 0x80000001, .ecx = F_LAHF_LM,
	  .edx = F_SYSCALL | F_NX | F_RDTSCP | F_LM },
	{ .function = 0x80000002, .eax = STR4('o', 's', 'p', 'r'), .ebx = STR4('e', 'y', ' ', 's'),
	  .ecx = STR4('o', 'f', 't', 'w'), .edx = STR4('a', 'r', 'e', ' ') },
	{ .function = 0x80000003, .eax = STR4('C', 'P', 'U', 0) },
	{ .function = 0x80000004 },
	{ .function = 0x80000007, .edx = F_INVTSC },
	/* 40 physical and 48 linear address bits; core count: topology. */
	{ .function = 0x80000008, .eax = 0x3028 },
};

struct cpuid_table *cpuid_soft_table(void)
{
	struct cpuid_table *c = cpuid_alloc(ARRAY_SIZE(soft_entries));

	if (c)
		memcpy(c->entries, soft_entries, sizeof(soft_entries));
	return c;
}
