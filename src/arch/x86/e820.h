/* SPDX-License-Identifier: Apache-2.0 */
#ifndef OSPREY_ARCH_X86_E820_H
#define OSPREY_ARCH_X86_E820_H

#include <stdint.h>

#include "hw/memory.h"

#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * The guest's memory map: low RAM up to the EBDA, the EBDA and BIOS area
 * reserved, RAM from 1 MiB to the MMIO hole, and RAM above 4 GiB.
 * Returns the number of entries written, or -ENOSPC.
 */
int e820_build(const struct guest_mem *mem, struct e820_entry *out, unsigned max);

#endif
