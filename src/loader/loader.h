/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel, initrd and command-line loading.
 *
 * The parsers work on a byte buffer (the whole file) and are fuzzed; they
 * never trust a length in the file without checking it against the buffer
 * and against guest RAM.
 */
#ifndef OSPREY_LOADER_LOADER_H
#define OSPREY_LOADER_LOADER_H

#include <asm/bootparam.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/regs.h"
#include "hw/memory.h"

#define LOADER_ERR_MAX 256

struct boot_image {
	enum x86_entry_mode entry_mode;
	gpa_t entry;
	gpa_t kernel_start;
	gpa_t kernel_end;
	/* bzImage: its setup header; ELF via Linux64: a synthesized one. */
	struct setup_header hdr;
	bool has_setup_header;
	/* Highest address the initrd may end at (from the header), or 0. */
	uint64_t initrd_addr_max;
	uint32_t cmdline_max; /* from the header, 0 = protocol default */
	const char *format;   /* "bzImage", "ELF (PVH)", "ELF (64-bit Linux)" */
};

/*
 * Each returns 0 or a negative errno and, on error, a message in err.
 * -ENOEXEC means "not this format" (the caller tries the next one).
 */
int bzimage_load(const struct guest_mem *mem, const uint8_t *buf, size_t len,
		 struct boot_image *img, char *err, size_t errlen);
int elf_load(const struct guest_mem *mem, const uint8_t *buf, size_t len,
	     struct boot_image *img, char *err, size_t errlen);

/* Reads the file and tries bzImage, then ELF. */
int kernel_load_file(const struct guest_mem *mem, const char *path, struct boot_image *img,
		     char *err, size_t errlen);

/*
 * Places an initrd of `size` bytes as high as possible below `limit`,
 * above `floor`, page aligned. Returns 0 and the address, or -ENOSPC.
 */
int initrd_place(uint64_t size, gpa_t floor, gpa_t limit, gpa_t *addr);
int initrd_load_file(const struct guest_mem *mem, const char *path, gpa_t floor, gpa_t limit,
		     gpa_t *addr, uint64_t *size, char *err, size_t errlen);

/*
 * Joins non-empty parts with single spaces into out. -E2BIG if the result
 * (with its NUL) does not fit in max bytes.
 */
int cmdline_build(char *out, size_t max, const char *const *parts, size_t nparts);

/*
 * Fails early, before KVM is touched, when a boot file cannot be read, so
 * the error names the file rather than whatever step would trip next: err
 * is "<what><sep><path>: <reason>". path NULL: nothing to check, 0.
 */
int loader_check_readable(const char *what, const char *sep, const char *path, char *err,
			  size_t errlen);

/*
 * Reads a whole file (at most max_size bytes) into a buffer of its own
 * mapping, to be released with loader_free_file(): a kernel or initrd is
 * copied into guest RAM and its buffer unmapped, so none of it stays
 * resident (a malloc'ed one would: once glibc has freed one large mmap'ed
 * chunk it serves the next ones from the heap and keeps them).
 */
int loader_read_file(const char *path, uint64_t max_size, uint8_t **buf, size_t *len,
		     char *err, size_t errlen);
void loader_free_file(uint8_t *buf, size_t len);

#endif
