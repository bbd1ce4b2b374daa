/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest CPUID: osprey's own table type (filled by a backend: KVM's
 * supported CPUID, or the software CPU's fixed model, cpuid_soft.c), then
 * per-vCPU topology (APIC IDs, core counts in leaves 1, 4, 0xB, 0x1F,
 * 0x80000008) and a CPU template.
 */
#ifndef OSPREY_ARCH_X86_CPUID_H
#define OSPREY_ARCH_X86_CPUID_H

#include <stdbool.h>
#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

#define CPUID_MAX_ENTRIES 256

/* The subleaf (ECX) selects the entry; otherwise any subleaf matches. */
#define CPUID_FLAG_INDEX 1u

struct cpuid_entry {
	uint32_t function;
	uint32_t index;
	uint32_t flags;
	uint32_t eax, ebx, ecx, edx;
};

struct cpuid_table {
	uint32_t nent;
	struct cpuid_entry entries[];
};

struct cpuid_table *cpuid_alloc(unsigned nent);
struct cpuid_table *cpuid_dup(const struct cpuid_table *c);

struct cpuid_entry *cpuid_find(struct cpuid_table *c, uint32_t function, uint32_t index);
uint32_t *cpuid_reg(struct cpuid_entry *e, enum cpuid_reg reg);

/*
 * What CPUID returns for (leaf, subleaf) with this table, as a CPU does:
 * a leaf above the highest basic/extended/hypervisor leaf the table
 * reports answers like the highest basic leaf (Intel's behaviour);
 * a missing leaf inside the range reads zeros.
 */
void cpuid_lookup(const struct cpuid_table *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/*
 * Rewrites topology for vCPU `cpu` of `ncpus` (one socket, one thread per
 * core, APIC ID = cpu) and marks the hypervisor bit.
 */
void cpuid_set_topology(struct cpuid_table *c, unsigned cpu, unsigned ncpus);

/*
 * The CPU the software CPU implements (cpuid_soft.c): GenuineIntel, family
 * 6, SSE2-level x86-64 with x2APIC, TSC deadline, invariant TSC and the
 * KVM paravirtual leaves (kvmclock; TSC and APIC bus frequencies in leaf
 * 0x40000010 so the guest calibrates nothing). NULL on allocation failure.
 */
struct cpuid_table *cpuid_soft_table(void);

/* TSC and APIC bus frequencies the soft CPU reports (kHz). */
#define CPUID_SOFT_TSC_KHZ 1000000u
#define CPUID_SOFT_APIC_BUS_KHZ 1000000u

#endif
