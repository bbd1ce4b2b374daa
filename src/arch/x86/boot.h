/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boot-time guest structures: zero page (Linux boot protocol) or PVH
 * start_info, the command line, identity page tables, GDT and MP table.
 */
#ifndef OSPREY_ARCH_X86_BOOT_H
#define OSPREY_ARCH_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "hw/memory.h"
#include "loader/loader.h"

#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct x86_boot_setup {
	const struct boot_image *img;
	const char *cmdline;
	gpa_t initrd_addr;
	uint64_t initrd_size;
	unsigned ncpus;
	uint32_t cpu_signature; /* CPUID.1:EAX for the MP table */
	uint32_t cpu_features;	/* CPUID.1:EDX */
};

/*
 * Writes everything the boot vCPU needs into guest memory and returns the
 * entry parameter (zero page or start_info address) in *param.
 */
int x86_boot_setup(const struct guest_mem *mem, const struct x86_boot_setup *s,
		   uint64_t *param, char *err, size_t errlen);

#endif
