// SPDX-License-Identifier: Apache-2.0
/* arch/x86/cpuid and cpu_template on a synthetic CPUID table, and the soft CPU's table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu_template.h"
#include "arch/x86/cpuid.h"

#define BIT(n) (1u << (n))
#define SIG CPUID_FLAG_INDEX

static const struct cpuid_entry fake_entries[] = {
	{ .function = 0, .eax = 0xd, .ebx = 0x756e6547 },
	/* leaf 1: stepping etc. in EAX, CLFLUSH size 8 in EBX[15:8]; every feature bit. */
	{ .function = 1, .eax = 0x806f8, .ebx = 0x00000800, .ecx = 0x7ffafbff, .edx = 0x078bfbff },
	/* leaf 4: L1d, L1i, L2 (level 1/2) and L3; junk in the core-count fields. */
	{ .function = 4, .index = 0, .flags = SIG, .eax = 0xfc000121 | (5u << 14) },
	{ .function = 4, .index = 1, .flags = SIG, .eax = 0xfc000122 | (5u << 14) },
	{ .function = 4, .index = 2, .flags = SIG, .eax = 0xfc000143 | (5u << 14) },
	{ .function = 4, .index = 3, .flags = SIG, .eax = 0xfc000163 | (0xfffu << 14) },
	{ .function = 7, .index = 0, .flags = SIG, .ebx = 0xffffffff, .ecx = 0xffffffff,
	  .edx = 0xffffffff },
	{ .function = 0xb, .index = 0, .flags = SIG, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 77 },
	{ .function = 0xb, .index = 1, .flags = SIG, .eax = 7, .ebx = 64, .ecx = 0x201, .edx = 77 },
	{ .function = 0xb, .index = 2, .flags = SIG, .eax = 9, .ebx = 9, .ecx = 0x002, .edx = 77 },
	{ .function = 0xd, .index = 0, .flags = SIG, .eax = 0x2e7, .ebx = 0xa88, .ecx = 0xa88 },
	{ .function = 0xd, .index = 1, .flags = SIG, .eax = 0xf, .ebx = 0x100 },
	{ .function = 0x40000001, .eax = 0x01ffffff },
	{ .function = 0x80000008, .eax = 0x3030, .ebx = 0x0, .ecx = 0x0000f03f },
};

static int table_setup(void **state)
{
	size_t n = sizeof(fake_entries) / sizeof(fake_entries[0]);
	struct cpuid_table *c = cpuid_alloc((unsigned)n);

	if (!c)
		return -1;
	memcpy(c->entries, fake_entries, sizeof(fake_entries));
	*state = c;
	return 0;
}

static int table_teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_find(void **state)
{
	struct cpuid_table *c = *state;
	struct cpuid_entry *e;

	e = cpuid_find(c, 0xb, 1);
	assert_non_null(e);
	assert_int_equal(e->index, 1);
	e = cpuid_find(c, 4, 3);
	assert_non_null(e);
	assert_int_equal(e->index, 3);
	/* Leaves without a significant index match any index. */
	e = cpuid_find(c, 1, 5);
	assert_non_null(e);
	assert_int_equal(e->function, 1);
	assert_null(cpuid_find(c, 0xb, 7));
	assert_null(cpuid_find(c, 0x12345678, 0));
	assert_ptr_equal(cpuid_reg(e, CPUID_EAX), &e->eax);
	assert_ptr_equal(cpuid_reg(e, CPUID_EBX), &e->ebx);
	assert_ptr_equal(cpuid_reg(e, CPUID_ECX), &e->ecx);
	assert_ptr_equal(cpuid_reg(e, CPUID_EDX), &e->edx);
}

static void test_dup(void **state)
{
	struct cpuid_table *c = *state;
	struct cpuid_table *d = cpuid_dup(c);

	assert_non_null(d);
	assert_int_equal(d->nent, c->nent);
	assert_memory_equal(d->entries, c->entries, c->nent * sizeof(c->entries[0]));
	d->entries[0].eax = 1;
	assert_int_equal(c->entries[0].eax, 0xd);
	free(d);
}

static void test_topology_apic_ids(void **state)
{
	struct cpuid_table *c = *state;
	struct cpuid_entry *e;

	cpuid_set_topology(c, 2, 4);
	e = cpuid_find(c, 1, 0);
	assert_int_equal(e->ebx >> 24, 2);		/* initial APIC ID */
	assert_int_equal((e->ebx >> 16) & 0xff, 4); /* logical processors */
	assert_int_equal(e->ebx & 0xffff, 0x0800);	/* CLFLUSH size kept */
	assert_true(e->edx & BIT(28));		/* HTT */
	assert_true(e->ecx & BIT(31));		/* hypervisor */
	for (unsigned i = 0; i < 3; i++) {
		e = cpuid_find(c, 0xb, i);
		assert_int_equal(e->edx, 2); /* x2APIC ID */
	}
}

static void test_topology_leaf_b(void **state)
{
	struct cpuid_table *c = *state;
	struct cpuid_entry *e;

	cpuid_set_topology(c, 3, 6);
	e = cpuid_find(c, 0xb, 0); /* SMT: one thread */
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 1);
	assert_int_equal(e->ecx, 0x100);
	e = cpuid_find(c, 0xb, 1); /* cores: 6, shift 3 */
	assert_int_equal(e->eax, 3);
	assert_int_equal(e->ebx, 6);
	assert_int_equal(e->ecx, 0x201);
	e = cpuid_find(c, 0xb, 2); /* invalid level */
	assert_int_equal(e->eax, 0);
	assert_int_equal(e->ebx, 0);
	assert_int_equal(e->ecx, 2);
}

static void test_topology_counts(void **state)
{
	struct cpuid_table *c = *state;
	struct cpuid_entry *e;

	cpuid_set_topology(c, 0, 8);
	for (unsigned i = 0; i < 4; i++) {
		e = cpuid_find(c, 4, i);
		assert_int_equal(e->eax >> 26, 7); /* cores per package - 1 */
		assert_int_equal(e->eax & 0x3fff, fake_entries[2 + i].eax & 0x3fff);
	}
	/* Threads sharing: only the L3 is shared by all cores. */
	assert_int_equal((cpuid_find(c, 4, 0)->eax >> 14) & 0xfff, 0);
	assert_int_equal((cpuid_find(c, 4, 2)->eax >> 14) & 0xfff, 0);
	assert_int_equal((cpuid_find(c, 4, 3)->eax >> 14) & 0xfff, 7);
	e = cpuid_find(c, 0x80000008, 0);
	assert_int_equal(e->ecx & 0xff, 7);
	assert_int_equal(e->ecx & ~0xffu, 0xf000);
	assert_int_equal(e->eax, 0x3030);
}

static void test_topology_single_cpu(void **state)
{
	struct cpuid_table *c = *state;
	struct cpuid_entry *e = cpuid_find(c, 1, 0);

	e->edx &= ~BIT(28);
	e->ecx &= ~BIT(31);
	cpuid_set_topology(c, 0, 1);
	assert_false(e->edx & BIT(28));
	assert_true(e->ecx & BIT(31));
	assert_int_equal(e->ebx >> 24, 0);
	assert_int_equal((e->ebx >> 16) & 0xff, 1);
	assert_int_equal(cpuid_find(c, 0xb, 1)->eax, 0);
	assert_int_equal(cpuid_find(c, 0xb, 1)->ebx, 1);
	assert_int_equal(cpuid_find(c, 0x80000008, 0)->ecx & 0xff, 0);
}

static void test_template_emulated(void **state)
{
	struct cpuid_table *c = *state;
	const struct cpu_template *t = cpu_template_find("emulated");
	struct cpuid_entry *e;

	assert_non_null(t);
	assert_string_equal(t->name, "emulated");
	cpu_template_apply(t, c);
	e = cpuid_find(c, 1, 0);
	assert_false(e->ecx & BIT(13)); /* CX16 */
	assert_false(e->ecx & BIT(26)); /* XSAVE */
	assert_false(e->ecx & BIT(27)); /* OSXSAVE */
	assert_false(e->ecx & BIT(28)); /* AVX */
	assert_false(e->ecx & BIT(23)); /* POPCNT */
	assert_false(e->ecx & BIT(9));	/* SSSE3 */
	assert_false(e->ecx & BIT(20)); /* SSE4.2 */
	assert_true(e->ecx & BIT(0));	/* SSE3 stays */
	assert_true(e->ecx & BIT(30));	/* RDRAND stays */
	assert_int_equal(e->edx, fake_entries[1].edx);
	e = cpuid_find(c, 7, 0);
	assert_false(e->ebx & BIT(20)); /* SMAP */
	assert_false(e->ebx & BIT(0));	/* FSGSBASE */
	assert_false(e->ebx & BIT(5));	/* AVX2 */
	assert_false(e->ebx & BIT(9));	/* ERMS */
	assert_false(e->ebx & BIT(16)); /* AVX512F */
	assert_true(e->ebx & BIT(3));	/* BMI1 stays */
	assert_false(e->edx & BIT(4));	/* FSRM */
	assert_false(e->ecx & BIT(8));	/* GFNI */
	assert_true(e->ecx & BIT(0));
	/* Leaf 0xD: every subleaf zeroed. */
	for (unsigned i = 0; i < 2; i++) {
		e = cpuid_find(c, 0xd, i);
		assert_int_equal(e->eax | e->ebx | e->ecx | e->edx, 0);
	}
	e = cpuid_find(c, 0x40000001, 0);
	assert_false(e->eax & BIT(5)); /* steal time */
	assert_int_equal(e->eax | BIT(5), fake_entries[12].eax);
	e = cpuid_find(c, 0x80000008, 0);
	assert_true(e->ebx & BIT(2)); /* XSAVEERPTR */
	assert_non_null(strstr(t->kernel_params, "noxsave"));
	assert_non_null(strstr(t->kernel_params, "clearcpuid="));
}

static void test_template_host(void **state)
{
	struct cpuid_table *c = *state;
	const struct cpu_template *t = cpu_template_find("host");

	assert_non_null(t);
	cpu_template_apply(t, c);
	assert_memory_equal(c->entries, fake_entries, sizeof(fake_entries));
	assert_string_equal(t->kernel_params, "");
}

static void test_template_missing_leaves(void **state)
{
	struct cpuid_table *c = cpuid_alloc(1);

	(void)state;
	assert_non_null(c);
	c->entries[0] = (struct cpuid_entry){ .function = 0, .eax = 1 };
	cpu_template_apply(cpu_template_find("emulated"), c);
	assert_int_equal(c->entries[0].eax, 1);
	cpuid_set_topology(c, 0, 2);
	assert_int_equal(c->entries[0].eax, 1);
	free(c);
}

static void test_template_find(void **state)
{
	(void)state;
	assert_null(cpu_template_find("bogus"));
	assert_null(cpu_template_find(""));
	assert_null(cpu_template_find("auto")); /* resolved by the caller */
	assert_null(cpu_template_find("Host"));
	assert_null(cpu_template_find("emulated "));
	assert_string_equal(cpu_template_for_host(1)->name, "emulated");
	assert_string_equal(cpu_template_for_host(0)->name, "host");
	assert_non_null(strstr(cpu_template_names(), "host"));
	assert_non_null(strstr(cpu_template_names(), "emulated"));
}

/* The software CPU's table: exactly the features it implements. */
static void test_soft_table(void **state)
{
	struct cpuid_table *c = cpuid_soft_table();
	uint32_t r[4];
	char vendor[13];

	(void)state;
	assert_non_null(c);
	cpuid_lookup(c, 0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = '\0';
	assert_string_equal(vendor, "GenuineIntel");
	cpuid_lookup(c, 1, 0, r);
	assert_int_equal((r[0] >> 8) & 0xf, 6); /* family 6 */
	/* EDX: FPU PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT CLFSH MMX FXSR SSE SSE2. */
	for (unsigned b = 0; b < 32; b++) {
		static const unsigned on[] = { 0, 3, 4, 5, 6, 8, 9, 11, 13, 15, 16, 17, 19, 23, 24, 25, 26 };
		bool want = false;

		for (unsigned i = 0; i < sizeof(on) / sizeof(on[0]); i++)
			want |= on[i] == b;
		assert_int_equal(!!(r[3] & BIT(b)), want);
	}
	assert_false(r[3] & BIT(7));  /* MCE */
	assert_false(r[3] & BIT(14)); /* MCA */
	assert_false(r[2] & BIT(0));  /* SSE3 */
	assert_true(r[2] & BIT(13));  /* CX16 */
	assert_true(r[2] & BIT(21));  /* x2APIC */
	assert_true(r[2] & BIT(24));  /* TSC deadline */
	assert_true(r[2] & BIT(31));  /* hypervisor */
	assert_false(r[2] & (BIT(26) | BIT(27) | BIT(28))); /* no XSAVE, OSXSAVE, AVX */
	cpuid_lookup(c, 7, 0, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	cpuid_lookup(c, 0xd, 0, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	cpuid_lookup(c, 0x80000001, 0, r);
	assert_true(r[3] & BIT(29)); /* LM */
	assert_true(r[3] & BIT(20)); /* NX */
	assert_true(r[3] & BIT(11)); /* SYSCALL */
	assert_true(r[3] & BIT(27)); /* RDTSCP */
	assert_true(r[2] & BIT(0));  /* LAHF_LM */
	cpuid_lookup(c, 0x80000007, 0, r);
	assert_true(r[3] & BIT(8)); /* invariant TSC */
	cpuid_lookup(c, 0x80000008, 0, r);
	assert_int_equal(r[0] & 0xff, 40);
	assert_int_equal((r[0] >> 8) & 0xff, 48);
	/* KVM leaves: signature, kvmclock, frequencies. */
	cpuid_lookup(c, 0x40000000, 0, r);
	assert_int_equal(r[0], 0x40000010);
	assert_memory_equal(&r[1], "KVMKVMKVM\0\0\0", 12);
	cpuid_lookup(c, 0x40000001, 0, r);
	assert_true(r[0] & BIT(3)); /* CLOCKSOURCE2 */
	assert_false(r[0] & BIT(5)); /* no steal time */
	assert_false(r[0] & BIT(6)); /* no PV EOI */
	cpuid_lookup(c, 0x40000010, 0, r);
	assert_int_equal(r[0], CPUID_SOFT_TSC_KHZ);
	assert_int_equal(r[0], 1000000);
	assert_int_equal(r[1], CPUID_SOFT_APIC_BUS_KHZ);
	/* Leaf 0x15: TSC = crystal * EBX / EAX = 1 GHz. */
	cpuid_lookup(c, 0x15, 0, r);
	assert_int_equal((uint64_t)r[2] * r[1] / r[0], 1000000000ULL);
	/* Above the highest basic leaf: the highest basic leaf (Intel). */
	cpuid_lookup(c, 0x30, 0, r);
	assert_int_equal(r[0], 1000);
	/* Hypervisor leaves beyond the range read zeros. */
	cpuid_lookup(c, 0x40000020, 0, r);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	/* Topology fills per vCPU; the soft template changes nothing. */
	cpuid_set_topology(c, 3, 4);
	cpuid_lookup(c, 1, 0, r);
	assert_int_equal(r[1] >> 24, 3);
	assert_true(r[3] & BIT(28));
	cpuid_lookup(c, 0xb, 1, r);
	assert_int_equal(r[1], 4);
	assert_int_equal(r[3], 3);
	assert_non_null(cpu_template_find("soft"));
	assert_true(cpu_template_find("soft")->soft_only);
	{
		struct cpuid_table *d = cpuid_dup(c);

		assert_non_null(d);
		cpu_template_apply(cpu_template_find("soft"), d);
		assert_memory_equal(d->entries, c->entries, c->nent * sizeof(c->entries[0]));
		free(d);
	}
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(test_dup, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(test_topology_apic_ids, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(test_topology_leaf_b, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(test_topology_counts, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(test_topology_single_cpu, table_setup,
						table_teardown),
		cmocka_unit_test_setup_teardown(test_template_emulated, table_setup, table_teardown),
		cmocka_unit_test_setup_teardown(test_template_host, table_setup, table_teardown),
		cmocka_unit_test(test_template_missing_leaves),
		cmocka_unit_test(test_template_find),
		cmocka_unit_test(test_soft_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
