/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest CPUID: KVM_GET_SUPPORTED_CPUID, then per-vCPU topology (APIC IDs,
 * core counts in leaves 1, 4, 0xB, 0x1F, 0x80000008) and a CPU template.
 */
#ifndef OSPREY_ARCH_X86_CPUID_H
#define OSPREY_ARCH_X86_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

#define CPUID_MAX_ENTRIES 256

struct kvm_cpuid2 *cpuid_alloc(unsigned nent);
struct kvm_cpuid2 *cpuid_dup(const struct kvm_cpuid2 *c);

/* -errno; on success *out is a malloc'ed table the caller frees. */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out);

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);
uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg);

/*
 * Rewrites topology for vCPU `cpu` of `ncpus` (one socket, one thread per
 * core, APIC ID = cpu) and marks the hypervisor bit.
 */
void cpuid_set_topology(struct kvm_cpuid2 *c, unsigned cpu, unsigned ncpus);

#endif
