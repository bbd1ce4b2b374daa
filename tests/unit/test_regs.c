// SPDX-License-Identifier: Apache-2.0
/* arch/x86/regs: identity page tables, GDT encoding and boot registers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "base/util.h"

static int mem_setup(void **state)
{
	static struct guest_mem mem;

	if (guest_mem_init(&mem, MiB(16)))
		return -1;
	*state = &mem;
	return 0;
}

static int mem_teardown(void **state)
{
	guest_mem_destroy(*state);
	return 0;
}

static void test_page_tables(void **state)
{
	struct guest_mem *mem = *state;
	const uint64_t *pml4, *pdpt, *pd;

	/* Dirty the area first: the builder must clear what it does not set. */
	memset(guest_mem_ptr(mem, X86_PML4_ADDR, 6 * 4096), 0xa5, 6 * 4096);
	assert_int_equal(x86_build_identity_page_tables(mem), 0);
	pml4 = guest_mem_ptr(mem, X86_PML4_ADDR, 4096);
	pdpt = guest_mem_ptr(mem, X86_PDPT_ADDR, 4096);
	pd = guest_mem_ptr(mem, X86_PD_ADDR, 4 * 4096);

	assert_int_equal(pml4[0], X86_PDPT_ADDR | X86_PTE_PRESENT | X86_PTE_RW);
	for (int i = 1; i < 512; i++)
		assert_int_equal(pml4[i], 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (X86_PD_ADDR + i * 4096ULL) | X86_PTE_PRESENT | X86_PTE_RW);
	for (int i = 4; i < 512; i++)
		assert_int_equal(pdpt[i], 0);
	/* 2048 entries of 2 MiB: 0 .. 4 GiB, identity. */
	for (uint64_t i = 0; i < 2048; i++) {
		assert_true(pd[i] & X86_PTE_PRESENT);
		assert_true(pd[i] & X86_PTE_RW);
		assert_true(pd[i] & X86_PTE_PS);
		assert_int_equal(pd[i] & ~0xfffULL, i * MiB(2));
	}
	assert_int_equal(pd[2047] & ~0xfffULL, GiB(4) - MiB(2));
}

static void test_page_tables_no_ram(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, KiB(32)), 0);
	assert_int_equal(x86_build_identity_page_tables(&mem), -EFAULT);
	guest_mem_destroy(&mem);
}

static void test_gdt_entry_encoding(void **state)
{
	(void)state;
	/* The Linux kernel's well-known boot GDT values. */
	assert_int_equal(x86_gdt_entry(0xa09b, 0, 0xfffff), 0x00af9b000000ffffULL);
	assert_int_equal(x86_gdt_entry(0xc09b, 0, 0xfffff), 0x00cf9b000000ffffULL);
	assert_int_equal(x86_gdt_entry(0xc093, 0, 0xfffff), 0x00cf93000000ffffULL);
	assert_int_equal(x86_gdt_entry(0x008b, 0, 0x67), 0x00008b0000000067ULL);
	assert_int_equal(x86_gdt_entry(0x4093, 0x12345678, 0xabcde), 0x124a93345678bcdeULL);
}

static void test_gdt_round_trip(void **state)
{
	struct x86_segment seg;

	(void)state;
	x86_segment_from_gdt(x86_gdt_entry(0xa09b, 0, 0xfffff), 0x10, &seg);
	assert_int_equal(seg.selector, 0x10);
	assert_int_equal(seg.base, 0);
	assert_int_equal(seg.limit, 0xffffffffu);
	assert_int_equal(seg.type, 0xb);
	assert_int_equal(seg.s, 1);
	assert_int_equal(seg.dpl, 0);
	assert_int_equal(seg.present, 1);
	assert_int_equal(seg.l, 1);
	assert_int_equal(seg.db, 0);
	assert_int_equal(seg.g, 1);
	assert_int_equal(seg.unusable, 0);

	/* Byte granular, 32-bit, odd base and limit, DPL 3. */
	x86_segment_from_gdt(x86_gdt_entry(0x40f3, 0x12345678, 0xabcde), 0x2b, &seg);
	assert_int_equal(seg.base, 0x12345678);
	assert_int_equal(seg.limit, 0xabcde);
	assert_int_equal(seg.type, 0x3);
	assert_int_equal(seg.dpl, 3);
	assert_int_equal(seg.db, 1);
	assert_int_equal(seg.l, 0);
	assert_int_equal(seg.g, 0);

	/* Not present: unusable. */
	x86_segment_from_gdt(x86_gdt_entry(0x0013, 0, 0), 0x30, &seg);
	assert_int_equal(seg.present, 0);
	assert_int_equal(seg.unusable, 1);
}

static void test_gdt_in_memory(void **state)
{
	struct guest_mem *mem = *state;
	uint64_t gdt[5];

	assert_int_equal(x86_build_gdt(mem, X86_ENTRY_LINUX64), 0);
	assert_int_equal(guest_mem_read(mem, X86_GDT_ADDR, gdt, sizeof(gdt)), 0);
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[X86_GDT_CODE_SEL / 8], 0x00af9b000000ffffULL);
	assert_int_equal(gdt[X86_GDT_DATA_SEL / 8], 0x00cf93000000ffffULL);
	assert_int_equal(gdt[X86_GDT_TSS_SEL / 8], 0x00008b0000000067ULL);

	assert_int_equal(x86_build_gdt(mem, X86_ENTRY_PVH), 0);
	assert_int_equal(guest_mem_read(mem, X86_GDT_ADDR, gdt, sizeof(gdt)), 0);
	assert_int_equal(gdt[X86_GDT_CODE_SEL / 8], 0x00cf9b000000ffffULL);
}

static void test_sregs_linux64(void **state)
{
	struct x86_cpu_state s;

	(void)state;
	memset(&s, 0xff, sizeof(s));
	x86_boot_sregs(&s, X86_ENTRY_LINUX64);
	assert_true(s.cr0 & X86_CR0_PE);
	assert_true(s.cr0 & X86_CR0_PG);
	assert_true(s.cr4 & X86_CR4_PAE);
	assert_int_equal(s.efer & (X86_EFER_LME | X86_EFER_LMA), X86_EFER_LME | X86_EFER_LMA);
	assert_int_equal(s.cr3, X86_PML4_ADDR);
	assert_int_equal(s.seg[X86_CS].l, 1);
	assert_int_equal(s.seg[X86_CS].db, 0);
	assert_int_equal(s.seg[X86_CS].selector, X86_GDT_CODE_SEL);
	assert_int_equal(s.seg[X86_DS].selector, X86_GDT_DATA_SEL);
	assert_int_equal(s.seg[X86_SS].selector, X86_GDT_DATA_SEL);
	assert_int_equal(s.seg[X86_ES].selector, X86_GDT_DATA_SEL);
	assert_int_equal(s.seg[X86_TR].selector, X86_GDT_TSS_SEL);
	assert_int_equal(s.seg[X86_TR].type, 0xb);
	assert_int_equal(s.gdt.base, X86_GDT_ADDR);
	assert_int_equal(s.gdt.limit, 5 * 8 - 1);
}

static void test_sregs_pvh(void **state)
{
	struct x86_cpu_state s;

	(void)state;
	memset(&s, 0xff, sizeof(s));
	x86_boot_sregs(&s, X86_ENTRY_PVH);
	assert_true(s.cr0 & X86_CR0_PE);
	assert_false(s.cr0 & X86_CR0_PG);
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	assert_int_equal(s.cr3, 0);
	assert_int_equal(s.seg[X86_CS].l, 0);
	assert_int_equal(s.seg[X86_CS].db, 1);
	assert_int_equal(s.seg[X86_CS].limit, 0xffffffffu);
	assert_int_equal(s.seg[X86_CS].base, 0);
	assert_int_equal(s.seg[X86_DS].db, 1);
	assert_int_equal(s.seg[X86_CS].selector, X86_GDT_CODE_SEL);
}

static void test_regs(void **state)
{
	struct x86_cpu_state r;

	(void)state;
	memset(&r, 0xff, sizeof(r));
	x86_boot_regs(&r, X86_ENTRY_LINUX64, 0x100200, 0x7000);
	assert_int_equal(r.rip, 0x100200);
	assert_int_equal(r.gpr[X86_RSI], 0x7000);
	assert_int_equal(r.gpr[X86_RBX], 0);
	assert_int_equal(r.rflags, 0x2);
	x86_boot_regs(&r, X86_ENTRY_PVH, 0x1000000, 0x6000);
	assert_int_equal(r.rip, 0x1000000);
	assert_int_equal(r.gpr[X86_RBX], 0x6000);
	assert_int_equal(r.gpr[X86_RSI], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_page_tables, mem_setup, mem_teardown),
		cmocka_unit_test(test_page_tables_no_ram),
		cmocka_unit_test(test_gdt_entry_encoding),
		cmocka_unit_test(test_gdt_round_trip),
		cmocka_unit_test_setup_teardown(test_gdt_in_memory, mem_setup, mem_teardown),
		cmocka_unit_test(test_sregs_linux64),
		cmocka_unit_test(test_sregs_pvh),
		cmocka_unit_test(test_regs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
