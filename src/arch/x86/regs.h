/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Initial CPU state for the boot vCPU: identity page tables, the boot GDT,
 * and register values for the two entry protocols osprey supports.
 */
#ifndef OSPREY_ARCH_X86_REGS_H
#define OSPREY_ARCH_X86_REGS_H

#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "hw/memory.h"

enum x86_entry_mode {
	X86_ENTRY_LINUX64, /* 64-bit Linux boot protocol: long mode, RSI = zero page */
	X86_ENTRY_PVH,	   /* PVH: 32-bit protected mode, paging off, EBX = start_info */
};

#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

#define X86_PTE_PRESENT (1ULL << 0)
#define X86_PTE_RW (1ULL << 1)
#define X86_PTE_PS (1ULL << 7)

/* Builds a 4 GiB identity map with 2 MiB pages at X86_PML4_ADDR. */
int x86_build_identity_page_tables(const struct guest_mem *mem);

/* Writes the boot GDT at X86_GDT_ADDR; code segment is 64-bit or 32-bit. */
int x86_build_gdt(const struct guest_mem *mem, enum x86_entry_mode mode);

/* Encodes one GDT descriptor (kernel's GDT_ENTRY layout). */
uint64_t x86_gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);

/* Turns a GDT descriptor into a segment register with its hidden part. */
void x86_segment_from_gdt(uint64_t desc, uint16_t selector, struct x86_segment *seg);

/*
 * The entry state in the neutral vCPU state: x86_boot_sregs sets the
 * segments, descriptor tables, control registers and EFER; x86_boot_regs
 * the general registers, RIP and RFLAGS (param is RSI, the zero page, or
 * EBX, start_info). Everything else in *s is left alone.
 */
void x86_boot_sregs(struct x86_cpu_state *s, enum x86_entry_mode mode);
void x86_boot_regs(struct x86_cpu_state *s, enum x86_entry_mode mode, uint64_t entry,
		   uint64_t param);

#endif
