/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where osprey puts boot structures in guest physical memory (x86).
 *
 *   0x000500  GDT (boot code/data/TSS descriptors)
 *   0x006000  PVH hvm_start_info, then its memory map and module list
 *   0x007000  Linux zero page (struct boot_params)
 *   0x009000  identity page tables: PML4, PDPT, 4 page directories
 *   0x020000  kernel command line (up to 64 KiB)
 *   0x09fc00  MP floating pointer and configuration table (EBDA)
 *   0x100000  kernel image (bzImage protected-mode part, or ELF segments)
 *   top of low RAM: initrd
 *   0xd0000000  boot-marker MMIO page, then MMIO devices
 *   0xfec00000 IO-APIC, 0xfee00000 local APIC (in-kernel)
 */
#ifndef OSPREY_ARCH_X86_LAYOUT_H
#define OSPREY_ARCH_X86_LAYOUT_H

#define X86_GDT_ADDR 0x500ULL
#define X86_PVH_INFO_ADDR 0x6000ULL
#define X86_PVH_MEMMAP_ADDR 0x6100ULL
#define X86_PVH_MEMMAP_MAX 32
#define X86_PVH_MODLIST_ADDR 0x6800ULL
#define X86_ZERO_PAGE_ADDR 0x7000ULL
#define X86_PML4_ADDR 0x9000ULL
#define X86_PDPT_ADDR 0xA000ULL
#define X86_PD_ADDR 0xB000ULL /* four pages: identity map of 4 GiB */
#define X86_CMDLINE_ADDR 0x20000ULL
#define X86_CMDLINE_MAX 0x10000ULL
#define X86_EBDA_ADDR 0x9FC00ULL
#define X86_HIMEM_START 0x100000ULL
#define X86_KERNEL_LOAD_ADDR 0x100000ULL

#define X86_BOOT_MARKER_MMIO 0xD0000000ULL
#define X86_MMIO_DEVICES_BASE 0xD0001000ULL
#define X86_IOAPIC_ADDR 0xFEC00000ULL
#define X86_LAPIC_ADDR 0xFEE00000ULL

/* Boot GDT selectors (Linux boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18). */
#define X86_GDT_CODE_SEL 0x10
#define X86_GDT_DATA_SEL 0x18
#define X86_GDT_TSS_SEL 0x20

/* KVM needs three pages for the real-mode TSS and one for the identity map. */
#define X86_KVM_IDENTITY_MAP_ADDR 0xFFFBC000ULL
#define X86_KVM_TSS_ADDR 0xFFFBD000ULL

#endif
