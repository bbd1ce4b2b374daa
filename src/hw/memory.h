/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest physical memory.
 *
 * Guest addresses are gpa_t, an integer, never a pointer. The only way to
 * reach guest memory from host code is guest_mem_ptr(), which checks that
 * [gpa, gpa + len) lies entirely inside one RAM region with
 * overflow-checked arithmetic. Everything the guest controls (virtqueue
 * addresses, boot structures it may have rewritten, instruction bytes)
 * goes through it.
 */
#ifndef OSPREY_HW_MEMORY_H
#define OSPREY_HW_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t;

#define GUEST_MEM_MAX_REGIONS 4

/* x86 layout: RAM from 0 up to the MMIO hole, the rest above 4 GiB. */
#define MMIO_HOLE_START 0xC0000000ULL
#define MMIO_HOLE_END 0x100000000ULL

struct guest_region {
	gpa_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned nregions;
	uint64_t ram_size; /* total bytes of RAM */
	uint8_t *mapping;  /* one host mapping backing all regions */
	size_t mapping_size;
	/*
	 * Told after host code (device DMA, the balloon, the loader) wrote
	 * guest RAM, through guest_mem_written(); NULL when nobody needs to
	 * know. The software CPU's backend sets it to drop decoded code of
	 * the written pages. Devices never call a backend directly.
	 */
	void (*written)(void *opaque, gpa_t gpa, uint64_t len);
	void *written_opaque;
	/*
	 * Dirty log (snapshots, migration; docs/snapshots.md): one bit per
	 * 4 KiB page of the mapping (bit = mapping offset / 4096), set with
	 * atomic ORs by guest_mem_mark_dirty() from any thread. NULL while
	 * nobody logs. Who marks: guest_mem_write() and guest_mem_written()
	 * (host-side writes: device DMA, used rings, loader, kvmclock), the
	 * software CPU when it maps a page writable in its TLB, KVM's dirty
	 * log folded in by the backend's dirty_sync (accel/accel.h).
	 */
	uint64_t *dirty;
	size_t dirty_words;
	/* The backing file when RAM maps one (snapshot restore). */
	bool file_backed;
	int file_fd; /* valid when file_backed */
};

#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_SIZE (1ULL << GUEST_PAGE_SHIFT)

/* Maps ram_size bytes of anonymous memory and splits it around the hole. */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_size);
/*
 * The same layout backed by file fd (a snapshot's memory file, in
 * mapping order, at least ram_size bytes: -EINVAL otherwise). MAP_PRIVATE:
 * pages load lazily on first touch and guest writes stay in this
 * process, so many machines can start from one file. fd is kept
 * (mem->file_fd, file_backed) and closed by guest_mem_destroy.
 */
int guest_mem_init_file(struct guest_mem *mem, uint64_t ram_size, int fd);
void guest_mem_destroy(struct guest_mem *mem);

/*
 * Lays out ram_size bytes without mapping anything (host pointers stay
 * NULL). Used by guest_mem_init and by unit tests of the layout.
 */
int guest_mem_layout(struct guest_mem *mem, uint64_t ram_size);

/* Checked translation: NULL unless [gpa, gpa+len) is inside one region. */
void *guest_mem_ptr(const struct guest_mem *mem, gpa_t gpa, uint64_t len);

/* Copies with the same check; return 0 or -EFAULT. */
int guest_mem_read(const struct guest_mem *mem, gpa_t gpa, void *dst, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, gpa_t gpa, const void *src, uint64_t len);

/*
 * Host code wrote [gpa, gpa+len) of guest RAM through a pointer from
 * guest_mem_ptr() (guest_mem_write() reports its own writes).
 */
void guest_mem_mark_dirty(const struct guest_mem *mem, gpa_t gpa, uint64_t len);

static inline void guest_mem_written(const struct guest_mem *mem, gpa_t gpa, uint64_t len)
{
	if (mem->dirty && len)
		guest_mem_mark_dirty(mem, gpa, len);
	if (mem->written && len)
		mem->written(mem->written_opaque, gpa, len);
}

/*
 * Offset of gpa in the mapping (and in a memory file); false when gpa is
 * not RAM.
 */
bool guest_mem_offset(const struct guest_mem *mem, gpa_t gpa, uint64_t *off);
/* Starts logging with every bit clear (0 or -ENOMEM); stop frees the bitmap. */
int guest_mem_dirty_start(struct guest_mem *mem);
void guest_mem_dirty_stop(struct guest_mem *mem);
/*
 * Moves the bitmap into out (nwords = mem->dirty_words) and clears it,
 * word by word with atomic exchanges; returns the number of dirty pages.
 */
uint64_t guest_mem_dirty_collect(struct guest_mem *mem, uint64_t *out, size_t nwords);

/* End of RAM below the MMIO hole (exclusive). */
gpa_t guest_mem_low_end(const struct guest_mem *mem);

#endif
