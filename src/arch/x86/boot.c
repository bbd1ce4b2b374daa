// SPDX-License-Identifier: Apache-2.0
#include "arch/x86/boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "arch/x86/regs.h"

static int boot_write_zero_page(const struct guest_mem *mem, const struct x86_boot_setup *s,
				char *err, size_t errlen)
{
	struct boot_params *bp = guest_mem_ptr(mem, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	struct e820_entry e820[E820_MAX_ENTRIES_ZEROPAGE];
	int n;

	if (!bp)
		return -EFAULT;
	memset(bp, 0, sizeof(*bp));
	bp->hdr = s->img->hdr;
	bp->hdr.type_of_loader = 0xff; /* undefined boot loader */
	bp->hdr.loadflags |= LOADED_HIGH;
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE_ADDR;
	if (s->initrd_size) {
		bp->hdr.ramdisk_image = (uint32_t)s->initrd_addr;
		bp->hdr.ramdisk_size = (uint32_t)s->initrd_size;
		bp->ext_ramdisk_image = (uint32_t)(s->initrd_addr >> 32);
		bp->ext_ramdisk_size = (uint32_t)(s->initrd_size >> 32);
	}
	n = e820_build(mem, e820, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0) {
		snprintf(err, errlen, "e820 table does not fit the zero page");
		return n;
	}
	for (int i = 0; i < n; i++) {
		bp->e820_table[i].addr = e820[i].addr;
		bp->e820_table[i].size = e820[i].size;
		bp->e820_table[i].type = e820[i].type;
	}
	bp->e820_entries = (uint8_t)n;
	return 0;
}

static int boot_write_pvh(const struct guest_mem *mem, const struct x86_boot_setup *s,
			  char *err, size_t errlen)
{
	struct hvm_start_info *si = guest_mem_ptr(mem, X86_PVH_INFO_ADDR, sizeof(*si));
	struct hvm_memmap_table_entry *mm = guest_mem_ptr(
		mem, X86_PVH_MEMMAP_ADDR, X86_PVH_MEMMAP_MAX * sizeof(*mm));
	struct hvm_modlist_entry *mod = guest_mem_ptr(mem, X86_PVH_MODLIST_ADDR, sizeof(*mod));
	struct e820_entry e820[X86_PVH_MEMMAP_MAX];
	int n;

	if (!si || !mm || !mod)
		return -EFAULT;
	n = e820_build(mem, e820, X86_PVH_MEMMAP_MAX);
	if (n < 0) {
		snprintf(err, errlen, "PVH memory map does not fit");
		return n;
	}
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = X86_CMDLINE_ADDR;
	si->memmap_paddr = X86_PVH_MEMMAP_ADDR;
	si->memmap_entries = (uint32_t)n;
	for (int i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ .addr = e820[i].addr,
							 .size = e820[i].size,
							 .type = e820[i].type };
	if (s->initrd_size) {
		*mod = (struct hvm_modlist_entry){ .paddr = s->initrd_addr, .size = s->initrd_size };
		si->nr_modules = 1;
		si->modlist_paddr = X86_PVH_MODLIST_ADDR;
	}
	return 0;
}

int x86_boot_setup(const struct guest_mem *mem, const struct x86_boot_setup *s,
		   uint64_t *param, char *err, size_t errlen)
{
	size_t cmdlen = strlen(s->cmdline) + 1;
	uint64_t cmdmax = X86_CMDLINE_MAX;
	int ret;

	if (s->img->cmdline_max && s->img->cmdline_max + 1ULL < cmdmax)
		cmdmax = s->img->cmdline_max + 1ULL;
	if (cmdlen > cmdmax) {
		snprintf(err, errlen, "kernel command line is %zu bytes, the kernel accepts %llu",
			 cmdlen - 1, (unsigned long long)(cmdmax - 1));
		return -E2BIG;
	}
	ret = guest_mem_write(mem, X86_CMDLINE_ADDR, s->cmdline, cmdlen);
	if (!ret)
		ret = x86_build_gdt(mem, s->img->entry_mode);
	if (!ret)
		ret = x86_build_identity_page_tables(mem);
	if (ret) {
		snprintf(err, errlen, "guest RAM too small for boot structures");
		return ret;
	}
	ret = mptable_write(mem, X86_EBDA_ADDR, s->ncpus, s->cpu_signature, s->cpu_features);
	if (ret) {
		snprintf(err, errlen, "cannot write the MP table for %u vCPUs", s->ncpus);
		return ret;
	}
	/* BIOS data area: EBDA segment, so the guest's MP scan finds it. */
	{
		uint16_t ebda_seg = (uint16_t)(X86_EBDA_ADDR >> 4);

		guest_mem_write(mem, 0x40e, &ebda_seg, sizeof(ebda_seg));
	}
	if (s->img->entry_mode == X86_ENTRY_PVH) {
		ret = boot_write_pvh(mem, s, err, errlen);
		*param = X86_PVH_INFO_ADDR;
	} else {
		ret = boot_write_zero_page(mem, s, err, errlen);
		*param = X86_ZERO_PAGE_ADDR;
	}
	return ret;
}
