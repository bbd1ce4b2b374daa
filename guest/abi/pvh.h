/* SPDX-License-Identifier: MIT */
/*
 * pvh.h - the Xen PVH boot ABI as osprey implements it (a subset of Xen's
 * public/arch-x86/hvm/start_info.h and public/elfnote.h, restated with
 * osprey-prefixed names so it cannot clash with other copies).
 *
 * Entry: 32-bit protected mode, paging off, CS = OSPREY_BOOT_CS (flat),
 * DS/ES/SS = OSPREY_BOOT_DS (flat), interrupts off, EBX = guest-physical
 * address of struct osprey_hvm_start_info.
 *
 * Usable from both freestanding guest C and the host; asm sees only the
 * #defines.
 */
#ifndef OSPREY_PVH_H
#define OSPREY_PVH_H

#define OSPREY_XEN_ELFNOTE_PHYS32_ENTRY 18
#define OSPREY_HVM_START_MAGIC          0x336ec578

/* memmap entry types (same values as the E820 types) */
#define OSPREY_HVM_MEMMAP_TYPE_RAM        1
#define OSPREY_HVM_MEMMAP_TYPE_RESERVED   2
#define OSPREY_HVM_MEMMAP_TYPE_ACPI       3
#define OSPREY_HVM_MEMMAP_TYPE_NVS        4
#define OSPREY_HVM_MEMMAP_TYPE_UNUSABLE   5
#define OSPREY_HVM_MEMMAP_TYPE_DISABLED   6
#define OSPREY_HVM_MEMMAP_TYPE_PMEM       7

#ifndef __ASSEMBLER__
#include <stdint.h>

/* All addresses are guest-physical.  Layout is fixed (no padding). */
struct osprey_hvm_start_info {
	uint32_t magic;          /*  0: OSPREY_HVM_START_MAGIC */
	uint32_t version;        /*  4: 1 = memmap fields valid */
	uint32_t flags;          /*  8 */
	uint32_t nr_modules;     /* 12 */
	uint64_t modlist_paddr;  /* 16: struct osprey_hvm_modlist_entry[] */
	uint64_t cmdline_paddr;  /* 24: NUL-terminated, 0 = none */
	uint64_t rsdp_paddr;     /* 32: 0 = none (osprey: MP table, no ACPI) */
	uint64_t memmap_paddr;   /* 40: version >= 1 */
	uint32_t memmap_entries; /* 48: version >= 1 */
	uint32_t reserved;       /* 52 */
};

struct osprey_hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct osprey_hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;           /* OSPREY_HVM_MEMMAP_TYPE_* */
	uint32_t reserved;
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct osprey_hvm_start_info) == 56, "start_info layout");
_Static_assert(sizeof(struct osprey_hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(sizeof(struct osprey_hvm_memmap_table_entry) == 24, "memmap layout");
#endif
#endif /* __ASSEMBLER__ */

#endif /* OSPREY_PVH_H */
