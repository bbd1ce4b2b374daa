// SPDX-License-Identifier: Apache-2.0
#include "hw/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/util.h"

int guest_mem_layout(struct guest_mem *mem, uint64_t ram_size)
{
	memset(mem, 0, sizeof(*mem));
	if (ram_size == 0 || ram_size % 4096)
		return -EINVAL;
	mem->ram_size = ram_size;
	if (ram_size <= MMIO_HOLE_START) {
		mem->regions[0] = (struct guest_region){ .gpa = 0, .size = ram_size };
		mem->nregions = 1;
	} else {
		uint64_t high = ram_size - MMIO_HOLE_START;
		gpa_t end;

		if (add_overflows_u64(MMIO_HOLE_END, high, &end))
			return -ERANGE;
		mem->regions[0] = (struct guest_region){ .gpa = 0, .size = MMIO_HOLE_START };
		mem->regions[1] = (struct guest_region){ .gpa = MMIO_HOLE_END, .size = high };
		mem->nregions = 2;
	}
	return 0;
}

int guest_mem_init(struct guest_mem *mem, uint64_t ram_size)
{
	void *p;
	int ret;
	uint64_t off = 0;

	ret = guest_mem_layout(mem, ram_size);
	if (ret)
		return ret;
	/* MAP_NORESERVE: guest RAM is touched lazily, RSS grows with use. */
	p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, ram_size, MADV_DONTDUMP);
	mem->mapping = p;
	mem->mapping_size = ram_size;
	for (unsigned i = 0; i < mem->nregions; i++) {
		mem->regions[i].host = mem->mapping + off;
		off += mem->regions[i].size;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->mapping)
		munmap(mem->mapping, mem->mapping_size);
	memset(mem, 0, sizeof(*mem));
}

void *guest_mem_ptr(const struct guest_mem *mem, gpa_t gpa, uint64_t len)
{
	uint64_t end;

	if (add_overflows_u64(gpa, len, &end))
		return NULL;
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->regions[i];

		if (gpa >= r->gpa && end <= r->gpa + r->size) {
			if (!r->host)
				return NULL;
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *mem, gpa_t gpa, void *dst, uint64_t len)
{
	const void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *mem, gpa_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	guest_mem_written(mem, gpa, len);
	return 0;
}

gpa_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->regions[0].gpa + mem->regions[0].size;
}
