/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel MultiProcessor Specification 1.4 table: one processor entry per
 * vCPU (APIC ID = index), one ISA bus, the IO-APIC, identity-mapped ISA
 * interrupts and the two local interrupt lines. Written at X86_EBDA_ADDR.
 */
#ifndef OSPREY_ARCH_X86_MPTABLE_H
#define OSPREY_ARCH_X86_MPTABLE_H

#include <stdint.h>

#include "hw/memory.h"

#define MPTABLE_MAX_CPUS 254 /* 8-bit APIC IDs, one is the IO-APIC's */
#define MPTABLE_IOAPIC_PINS 24

/* Size in bytes of the whole structure for ncpus. */
uint64_t mptable_size(unsigned ncpus);

/* -EINVAL for a bad CPU count, -EFAULT if it does not fit in RAM. */
int mptable_write(const struct guest_mem *mem, gpa_t addr, unsigned ncpus,
		  uint32_t cpu_signature, uint32_t cpu_features);

#endif
