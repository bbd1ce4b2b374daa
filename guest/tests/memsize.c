/* SPDX-License-Identifier: MIT */
/*
 * memsize - walks the PVH start_info memory map, prints every entry and the
 * total of the RAM entries in KiB (ram_kib=N).
 */
#include "gt.h"

#define MEMMAP_MAX_ENTRIES 128

static const char *type_name(uint32_t type)
{
	switch (type) {
	case OSPREY_HVM_MEMMAP_TYPE_RAM: return "ram";
	case OSPREY_HVM_MEMMAP_TYPE_RESERVED: return "reserved";
	case OSPREY_HVM_MEMMAP_TYPE_ACPI: return "acpi";
	case OSPREY_HVM_MEMMAP_TYPE_NVS: return "nvs";
	case OSPREY_HVM_MEMMAP_TYPE_UNUSABLE: return "unusable";
	case OSPREY_HVM_MEMMAP_TYPE_DISABLED: return "disabled";
	case OSPREY_HVM_MEMMAP_TYPE_PMEM: return "pmem";
	default: return "unknown";
	}
}

void test_main(const struct osprey_hvm_start_info *si)
{
	const struct osprey_hvm_memmap_table_entry *e;
	uint64_t ram = 0;
	uint32_t n;

	if (!start_info_ok(si)) {
		print("start_info: bad magic\n");
		poweroff();
	}
	if (si->version < 1 || si->memmap_paddr == 0 || si->memmap_entries == 0) {
		print("memmap: none (start_info version ");
		print_dec(si->version);
		print(")\n");
		poweroff();
	}

	n = si->memmap_entries;
	print("memmap: entries=");
	print_dec(n);
	print("\n");
	if (n > MEMMAP_MAX_ENTRIES)
		n = MEMMAP_MAX_ENTRIES;

	e = phys_ptr(si->memmap_paddr);
	for (uint32_t i = 0; i < n; i++) {
		print("memmap[");
		print_dec(i);
		print("]: addr=");
		print_hex64(e[i].addr);
		print(" size=");
		print_hex64(e[i].size);
		print(" type=");
		print_dec(e[i].type);
		print(" (");
		print(type_name(e[i].type));
		print(")\n");
		if (e[i].type == OSPREY_HVM_MEMMAP_TYPE_RAM)
			ram += e[i].size;
	}

	print("ram_kib=");
	print_dec64(ram >> 10);
	print("\n");
	poweroff();
}
