// SPDX-License-Identifier: Apache-2.0
#include "hw/memory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Maps RAM anonymous (fd < 0) or from file fd, then points the regions at it. */
static int guest_mem_map(struct guest_mem *mem, uint64_t ram_size, int fd)
{
	void *p;
	int ret;
	uint64_t off = 0;

	ret = guest_mem_layout(mem, ram_size);
	if (ret)
		return ret;
	/*
	 * MAP_NORESERVE: guest RAM is touched lazily, RSS grows with use.
	 * MAP_PRIVATE of a file: pages come from it on first touch, writes
	 * stay in this process (copy on write).
	 */
	if (fd < 0)
		p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	else
		p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd,
			 0);
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

int guest_mem_init(struct guest_mem *mem, uint64_t ram_size)
{
	return guest_mem_map(mem, ram_size, -1);
}

int guest_mem_init_file(struct guest_mem *mem, uint64_t ram_size, int fd)
{
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < ram_size)
		return -EINVAL;
	ret = guest_mem_map(mem, ram_size, fd);
	if (ret)
		return ret;
	mem->file_backed = true;
	mem->file_fd = fd;
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->mapping)
		munmap(mem->mapping, mem->mapping_size);
	if (mem->file_backed)
		close(mem->file_fd);
	free(mem->dirty);
	memset(mem, 0, sizeof(*mem));
}

bool guest_mem_offset(const struct guest_mem *mem, gpa_t gpa, uint64_t *off)
{
	uint64_t base = 0;

	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*off = base + (gpa - r->gpa);
			return true;
		}
		base += r->size;
	}
	return false;
}

void guest_mem_mark_dirty(const struct guest_mem *mem, gpa_t gpa, uint64_t len)
{
	uint64_t off, last, page, end;

	if (!mem->dirty || !len || add_overflows_u64(gpa, len - 1, &end))
		return;
	/* A range never spans regions (guest_mem_ptr checked it); clamp anyway. */
	if (!guest_mem_offset(mem, gpa, &off))
		return;
	last = off + (end - gpa);
	if (last >= mem->mapping_size)
		last = mem->mapping_size - 1;
	for (page = off >> GUEST_PAGE_SHIFT; page <= last >> GUEST_PAGE_SHIFT; page++) {
		uint64_t bit = 1ULL << (page % 64);
		uint64_t *word = &mem->dirty[page / 64];

		/* A relaxed load first: most writes hit an already dirty page. */
		if (!(__atomic_load_n(word, __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(word, bit, __ATOMIC_RELAXED);
	}
}

int guest_mem_dirty_start(struct guest_mem *mem)
{
	size_t pages = (size_t)(mem->mapping_size >> GUEST_PAGE_SHIFT);
	size_t words = (pages + 63) / 64;
	uint64_t *bits;

	if (mem->dirty)
		return 0;
	bits = calloc(words ? words : 1, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	mem->dirty_words = words;
	__atomic_store_n(&mem->dirty, bits, __ATOMIC_RELEASE);
	return 0;
}

void guest_mem_dirty_stop(struct guest_mem *mem)
{
	uint64_t *bits = mem->dirty;

	__atomic_store_n(&mem->dirty, NULL, __ATOMIC_RELEASE);
	mem->dirty_words = 0;
	/* Callers stop logging only with every vCPU parked and devices quiet. */
	free(bits);
}

uint64_t guest_mem_dirty_collect(struct guest_mem *mem, uint64_t *out, size_t nwords)
{
	uint64_t n = 0;

	for (size_t i = 0; i < nwords; i++) {
		uint64_t v = 0;

		if (mem->dirty && i < mem->dirty_words)
			v = __atomic_exchange_n(&mem->dirty[i], 0, __ATOMIC_ACQ_REL);
		out[i] = v;
		n += (uint64_t)__builtin_popcountll(v);
	}
	return n;
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
