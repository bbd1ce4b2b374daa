// SPDX-License-Identifier: Apache-2.0
/* CPU templates (cpu_template.h) and the host detection behind "auto". */
#include "arch/x86/cpu_template.h"

#include <cpuid.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

#define BIT(n) (1u << (n))

/* CPUID bit numbers, from the SDM / APM. */
enum {
	L1_ECX_PCLMULQDQ = 1,
	L1_ECX_SSSE3 = 9,
	L1_ECX_FMA = 12,
	L1_ECX_CX16 = 13,
	L1_ECX_SSE4_1 = 19,
	L1_ECX_SSE4_2 = 20,
	L1_ECX_MOVBE = 22,
	L1_ECX_POPCNT = 23,
	L1_ECX_AES = 25,
	L1_ECX_XSAVE = 26,
	L1_ECX_OSXSAVE = 27,
	L1_ECX_AVX = 28,
	L1_ECX_F16C = 29,
	L7_EBX_FSGSBASE = 0,
	L7_EBX_AVX2 = 5,
	L7_EBX_ERMS = 9,
	L7_EBX_AVX512F = 16,
	L7_EBX_SMAP = 20,
	L7_EBX_SHA = 29,
	L7_ECX_GFNI = 8,
	L7_ECX_VAES = 9,
	L7_ECX_VPCLMULQDQ = 10,
	L7_EDX_FSRM = 4,
	KVM_FEATURE_STEAL_TIME_BIT = 5,
	L80000008_EBX_XSAVEERPTR = 2,
};

static const struct cpuid_edit emulated_edits[] = {
	/* Instructions KVM's emulator cannot run in guest kernel mode. */
	{ 1, 0, CPUID_ECX,
	  BIT(L1_ECX_CX16) | BIT(L1_ECX_XSAVE) | BIT(L1_ECX_OSXSAVE) | BIT(L1_ECX_AVX) |
		  BIT(L1_ECX_POPCNT) | BIT(L1_ECX_SSSE3) | BIT(L1_ECX_SSE4_1) |
		  BIT(L1_ECX_SSE4_2) | BIT(L1_ECX_PCLMULQDQ) | BIT(L1_ECX_AES) |
		  BIT(L1_ECX_MOVBE) | BIT(L1_ECX_FMA) | BIT(L1_ECX_F16C),
	  0 },
	{ 7, 0, CPUID_EBX,
	  BIT(L7_EBX_FSGSBASE) | BIT(L7_EBX_AVX2) | BIT(L7_EBX_ERMS) | BIT(L7_EBX_SMAP) |
		  BIT(L7_EBX_SHA) | 0xfffc0000u /* AVX-512 family and friends */ |
		  BIT(L7_EBX_AVX512F),
	  0 },
	{ 7, 0, CPUID_ECX, BIT(L7_ECX_GFNI) | BIT(L7_ECX_VAES) | BIT(L7_ECX_VPCLMULQDQ), 0 },
	{ 7, 0, CPUID_EDX, BIT(L7_EDX_FSRM), 0 },
	/* Steal-time accounting patches live kernel text with int3. */
	{ 0x40000001, 0, CPUID_EAX, BIT(KVM_FEATURE_STEAL_TIME_BIT), 0 },
	/* Without it the kernel runs the AMD FXSAVE-leak workaround (fnclex). */
	{ 0x80000008, 0, CPUID_EBX, 0, BIT(L80000008_EBX_XSAVEERPTR) },
};

static const uint32_t emulated_zero_leaves[] = { 0xd };

/*
 * On kvm_pvm hosts most of leaf 1 / 7 / 0xD comes from the host whatever
 * KVM_SET_CPUID2 says, so the guest kernel is also told on its command
 * line. User-mode CPUID runs natively there and still reports AVX, which
 * the guest cannot save without XSAVE: glibc is told not to use it.
 */
#define EMULATED_KERNEL_PARAMS                                                        \
	"osprey.emulated=1 noxsave nofsgsbase random.trust_cpu=on "                  \
	"clearcpuid=smap,popcnt,erms,fsrm,ssse3,sse4_1,sse4_2,pclmulqdq,aes,movbe,"  \
	"sha_ni,gfni,vaes,vpclmulqdq,avx,avx2,fma,f16c,xsave,cx16 "                     \
	"GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F,-AVX512VL,-AVX512BW,"   \
	"-AVX512DQ,-AVX512CD,-FMA,-FMA4,-F16C,-AVX_Fast_Unaligned_Load,-XSAVE,-XSAVEC," \
	"-ERMS,-FSRM"

static const struct cpu_template templates[] = {
	{
		.name = "host",
		.description = "all CPU features KVM supports on this host",
		.kernel_params = "",
	},
	{
		.name = "emulated",
		.description = "for hosts where KVM emulates guest kernel code (kvm_pvm)",
		.edits = emulated_edits,
		.nedits = ARRAY_SIZE(emulated_edits),
		.kernel_params = EMULATED_KERNEL_PARAMS,
		.zero_leaves = emulated_zero_leaves,
		.nzero_leaves = ARRAY_SIZE(emulated_zero_leaves),
	},
	{
		/* The table itself (cpuid_soft.c) is the model: nothing to edit. */
		.name = "soft",
		.description = "exactly what osprey's software CPU implements",
		.kernel_params = "",
		.soft_only = true,
	},
};

const struct cpu_template *cpu_template_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(templates); i++)
		if (strcmp(templates[i].name, name) == 0)
			return &templates[i];
	return NULL;
}

const struct cpu_template *cpu_template_for_host(int host_is_emulated)
{
	return cpu_template_find(host_is_emulated ? "emulated" : "host");
}

const char *cpu_template_names(void)
{
	return "auto, host, emulated, soft";
}

void cpu_template_apply(const struct cpu_template *t, struct cpuid_table *c)
{
	for (size_t i = 0; i < t->nedits; i++) {
		const struct cpuid_edit *ed = &t->edits[i];
		struct cpuid_entry *e = cpuid_find(c, ed->function, ed->index);
		uint32_t *r;

		if (!e)
			continue;
		r = cpuid_reg(e, ed->reg);
		*r = (*r & ~ed->clear) | ed->set;
	}
	for (size_t i = 0; i < t->nzero_leaves; i++) {
		for (unsigned j = 0; j < c->nent; j++) {
			struct cpuid_entry *e = &c->entries[j];

			if (e->function == t->zero_leaves[i])
				e->eax = e->ebx = e->ecx = e->edx = 0;
		}
	}
}

int x86_host_kvm_is_emulated(void)
{
	unsigned a, b, c, d;
	int has_vmx = 0, has_svm = 0;

	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return 1;
	if (__get_cpuid(1, &a, &b, &c, &d))
		has_vmx = !!(c & BIT(5));
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		has_svm = !!(c & BIT(2));
	return !has_vmx && !has_svm;
}
