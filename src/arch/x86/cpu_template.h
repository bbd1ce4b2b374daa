/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPU templates: named CPUID edits plus the guest kernel parameters that a
 * template needs (for CPUID bits the host does not let KVM hide).
 *
 *   host      everything KVM supports (the default on hardware hosts)
 *   emulated  for hosts whose KVM runs guest kernel code in its
 *             instruction emulator (kvm_pvm): hides features whose
 *             instructions that emulator cannot execute
 *   soft      the software CPU's own model (cpuid_soft_table), nothing
 *             hidden or added; only with the software CPU
 *   auto      soft under the software CPU; under KVM emulated when such a
 *             host is detected, otherwise host
 */
#ifndef OSPREY_ARCH_X86_CPU_TEMPLATE_H
#define OSPREY_ARCH_X86_CPU_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/cpuid.h"

struct cpuid_edit {
	uint32_t function;
	uint32_t index;
	enum cpuid_reg reg;
	uint32_t clear;
	uint32_t set;
};

struct cpu_template {
	const char *name;
	const char *description;
	const struct cpuid_edit *edits;
	size_t nedits;
	/* Parameters appended to the guest kernel command line (may be ""). */
	const char *kernel_params;
	/* Zero every subleaf of these leaves (e.g. 0xD with XSAVE hidden). */
	const uint32_t *zero_leaves;
	size_t nzero_leaves;
	/* Only for the software CPU (its table is the template). */
	bool soft_only;
};

/* NULL if no template has that name ("auto" is resolved by the caller). */
const struct cpu_template *cpu_template_find(const char *name);
const struct cpu_template *cpu_template_for_host(int host_is_emulated);
/* Comma-separated list of names for help and error messages. */
const char *cpu_template_names(void);

void cpu_template_apply(const struct cpu_template *t, struct cpuid_table *c);

/*
 * Heuristic: KVM is present but the host CPU exposes neither VMX nor SVM
 * (or the kvm_pvm module is loaded), so guest kernel code runs emulated.
 */
int x86_host_kvm_is_emulated(void);

#endif
