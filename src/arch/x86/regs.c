// SPDX-License-Identifier: Apache-2.0
/* Identity page tables, the boot GDT and the entry register state (regs.h). */
#include "arch/x86/regs.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"

int x86_build_identity_page_tables(const struct guest_mem *mem)
{
	uint64_t *pml4 = guest_mem_ptr(mem, X86_PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(mem, X86_PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(mem, X86_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_PDPT_ADDR | X86_PTE_PRESENT | X86_PTE_RW;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (X86_PD_ADDR + i * 4096ULL) | X86_PTE_PRESENT | X86_PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | X86_PTE_PRESENT | X86_PTE_RW | X86_PTE_PS;
	return 0;
}

uint64_t x86_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

void x86_segment_from_gdt(uint64_t desc, uint16_t selector, struct x86_segment *seg)
{
	uint32_t limit = (uint32_t)((desc & 0xffff) | ((desc >> 32) & 0xf0000));

	memset(seg, 0, sizeof(*seg));
	seg->base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24);
	seg->selector = selector;
	seg->type = (desc >> 40) & 0xf;
	seg->s = (desc >> 44) & 1;
	seg->dpl = (desc >> 45) & 3;
	seg->present = (desc >> 47) & 1;
	seg->avl = (desc >> 52) & 1;
	seg->l = (desc >> 53) & 1;
	seg->db = (desc >> 54) & 1;
	seg->g = (desc >> 55) & 1;
	seg->limit = seg->g ? (limit << 12) | 0xfff : limit;
	seg->unusable = !seg->present;
}

static void x86_boot_gdt(enum x86_entry_mode mode, uint64_t gdt[5])
{
	gdt[0] = 0;
	gdt[1] = 0;
	/* 0xa09b: 64-bit code (L=1); 0xc09b: 32-bit code (D=1), both 4 GiB. */
	gdt[2] = x86_gdt_entry(mode == X86_ENTRY_LINUX64 ? 0xa09b : 0xc09b, 0, 0xfffff);
	gdt[3] = x86_gdt_entry(0xc093, 0, 0xfffff);
	gdt[4] = x86_gdt_entry(0x008b, 0, 0x67); /* busy TSS, required by VMX */
}

int x86_build_gdt(const struct guest_mem *mem, enum x86_entry_mode mode)
{
	uint64_t gdt[5];

	x86_boot_gdt(mode, gdt);
	return guest_mem_write(mem, X86_GDT_ADDR, gdt, sizeof(gdt));
}

void x86_boot_sregs(struct x86_cpu_state *sregs, enum x86_entry_mode mode)
{
	uint64_t gdt[5];

	x86_boot_gdt(mode, gdt);
	x86_segment_from_gdt(gdt[2], X86_GDT_CODE_SEL, &sregs->seg[X86_CS]);
	x86_segment_from_gdt(gdt[3], X86_GDT_DATA_SEL, &sregs->seg[X86_DS]);
	sregs->seg[X86_ES] = sregs->seg[X86_FS] = sregs->seg[X86_GS] = sregs->seg[X86_SS] =
		sregs->seg[X86_DS];
	x86_segment_from_gdt(gdt[4], X86_GDT_TSS_SEL, &sregs->seg[X86_TR]);
	sregs->gdt.base = X86_GDT_ADDR;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs->cr4 = 0;
	sregs->efer = 0;
	sregs->cr3 = 0;
	if (mode == X86_ENTRY_LINUX64) {
		sregs->cr3 = X86_PML4_ADDR;
		sregs->cr4 |= X86_CR4_PAE;
		sregs->cr0 |= X86_CR0_PG;
		sregs->efer |= X86_EFER_LME | X86_EFER_LMA;
	}
}

void x86_boot_regs(struct x86_cpu_state *regs, enum x86_entry_mode mode, uint64_t entry,
		   uint64_t param)
{
	memset(regs->gpr, 0, sizeof(regs->gpr));
	regs->rflags = 0x2; /* reserved bit 1; interrupts off */
	regs->rip = entry;
	if (mode == X86_ENTRY_LINUX64)
		regs->gpr[X86_RSI] = param;
	else
		regs->gpr[X86_RBX] = param;
}
