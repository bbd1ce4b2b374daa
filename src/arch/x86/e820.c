// SPDX-License-Identifier: Apache-2.0
#include "arch/x86/e820.h"

#include <errno.h>

#include "arch/x86/layout.h"

static int e820_add(struct e820_entry *out, unsigned max, unsigned *n, uint64_t addr,
		    uint64_t size, uint32_t type)
{
	if (size == 0)
		return 0;
	if (*n == max)
		return -ENOSPC;
	out[(*n)++] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	return 0;
}

int e820_build(const struct guest_mem *mem, struct e820_entry *out, unsigned max)
{
	unsigned n = 0;
	int ret = 0;

	for (unsigned i = 0; i < mem->nregions && !ret; i++) {
		const struct guest_region *r = &mem->regions[i];

		if (r->gpa == 0) {
			uint64_t low_end = r->size < X86_HIMEM_START ? r->size : X86_HIMEM_START;
			uint64_t ram_end = low_end < X86_EBDA_ADDR ? low_end : X86_EBDA_ADDR;

			ret = e820_add(out, max, &n, 0, ram_end, E820_TYPE_RAM);
			if (!ret)
				ret = e820_add(out, max, &n, X86_EBDA_ADDR,
					       X86_HIMEM_START - X86_EBDA_ADDR, E820_TYPE_RESERVED);
			if (!ret && r->size > X86_HIMEM_START)
				ret = e820_add(out, max, &n, X86_HIMEM_START,
					       r->size - X86_HIMEM_START, E820_TYPE_RAM);
		} else {
			ret = e820_add(out, max, &n, r->gpa, r->size, E820_TYPE_RAM);
		}
	}
	return ret ? ret : (int)n;
}
