// SPDX-License-Identifier: Apache-2.0
/* loader: bzImage and ELF parsing on synthetic images, initrd, command line, files. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "base/util.h"
#include "loader/loader.h"

#define RAM MiB(16)

static struct guest_mem mem;
static char err[LOADER_ERR_MAX];

static int mem_setup(void **state)
{
	(void)state;
	err[0] = '\0';
	return guest_mem_init(&mem, RAM) ? -1 : 0;
}

static int mem_teardown(void **state)
{
	(void)state;
	guest_mem_destroy(&mem);
	return 0;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* ---- bzImage ---- */

#define BZ_SETUP_SECTS 4
#define BZ_SETUP_SIZE ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD 4096

/* A minimal 2.15 bzImage with a 64-bit entry and a patterned payload. */
static uint8_t *bz_build(size_t *len)
{
	uint8_t *b = calloc(1, BZ_SETUP_SIZE + BZ_PAYLOAD);

	assert_non_null(b);
	b[0x1f1] = BZ_SETUP_SECTS;
	wr32(b + 0x1f4, BZ_PAYLOAD / 16); /* syssize */
	wr16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	wr16(b + 0x206, 0x020f);
	wr32(b + 0x22c, 0x7fffffff); /* initrd_addr_max */
	wr16(b + 0x236, 1);	     /* XLF_KERNEL_64 */
	wr32(b + 0x238, 2047);	     /* cmdline_size */
	for (size_t i = 0; i < BZ_PAYLOAD; i++)
		b[BZ_SETUP_SIZE + i] = (uint8_t)(i * 7 + 1);
	*len = BZ_SETUP_SIZE + BZ_PAYLOAD;
	return b;
}

static void test_bz_success(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), 0);
	assert_int_equal(img.entry_mode, X86_ENTRY_LINUX64);
	assert_int_equal(img.entry, 0x100200);
	assert_int_equal(img.kernel_start, X86_KERNEL_LOAD_ADDR);
	assert_int_equal(img.kernel_end, X86_KERNEL_LOAD_ADDR + BZ_PAYLOAD);
	assert_true(img.has_setup_header);
	assert_int_equal(img.hdr.version, 0x020f);
	assert_int_equal(img.hdr.setup_sects, BZ_SETUP_SECTS);
	assert_int_equal(img.cmdline_max, 2047);
	assert_int_equal(img.initrd_addr_max, 0x7fffffff);
	assert_string_equal(img.format, "bzImage");
	assert_memory_equal(guest_mem_ptr(&mem, X86_KERNEL_LOAD_ADDR, BZ_PAYLOAD),
			    b + BZ_SETUP_SIZE, BZ_PAYLOAD);
	free(b);
}

static void test_bz_init_size(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	wr32(b + 0x260, 0x800000); /* init_size: 8 MiB for the decompressed kernel */
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), 0);
	assert_int_equal(img.kernel_end, X86_KERNEL_LOAD_ADDR + 0x800000);
	wr64(b + 0x258, 0x1000000); /* pref_address 16 MiB */
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), 0);
	assert_int_equal(img.kernel_end, 0x1000000 + 0x800000);
	free(b);
}

static void test_bz_setup_sects_zero(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	b[0x1f1] = 0; /* means 4 */
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), 0);
	assert_int_equal(img.kernel_end, X86_KERNEL_LOAD_ADDR + BZ_PAYLOAD);
	free(b);
}

static void test_bz_truncated(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	/* The file ends inside the setup code. */
	assert_int_equal(bzimage_load(&mem, b, BZ_SETUP_SIZE - 1, &img, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(bzimage_load(&mem, b, BZ_SETUP_SIZE, &img, err, sizeof(err)), -EINVAL);
	/* The file ends inside the setup header. */
	err[0] = '\0';
	assert_int_equal(bzimage_load(&mem, b, 0x220, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	free(b);
}

static void test_bz_syssize_too_large(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	wr32(b + 0x1f4, BZ_PAYLOAD / 16 + 1);
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	wr32(b + 0x1f4, 0xffffffff);
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), -EINVAL);
	free(b);
}

static void test_bz_old_protocol(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	wr16(b + 0x206, 0x020b);
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2.11"));
	wr16(b + 0x206, 0x020c);
	wr16(b + 0x236, 0); /* no 64-bit entry */
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "64-bit"));
	free(b);
}

static void test_bz_no_boot_flag(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	wr16(b + 0x1fe, 0x1234);
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "AA55"));
	free(b);
}

static void test_bz_not_bzimage(void **state)
{
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	assert_int_equal(bzimage_load(&mem, b, 0x205, &img, err, sizeof(err)), -ENOEXEC);
	assert_int_equal(bzimage_load(&mem, b, 0, &img, err, sizeof(err)), -ENOEXEC);
	memcpy(b + 0x202, "HdrX", 4);
	assert_int_equal(bzimage_load(&mem, b, len, &img, err, sizeof(err)), -ENOEXEC);
	free(b);
}

static void test_bz_too_big_for_ram(void **state)
{
	struct guest_mem small;
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);

	(void)state;
	assert_int_equal(guest_mem_init(&small, X86_KERNEL_LOAD_ADDR + 4096), 0);
	assert_int_equal(bzimage_load(&small, b, len, &img, err, sizeof(err)), 0);
	guest_mem_destroy(&small);
	assert_int_equal(guest_mem_init(&small, X86_KERNEL_LOAD_ADDR), 0);
	assert_int_equal(bzimage_load(&small, b, len, &img, err, sizeof(err)), -ENOSPC);
	guest_mem_destroy(&small);
	free(b);
}

/* ---- ELF ---- */

#define ELF_SIZE 0x2000
#define ELF_NOTE_OFF 0x800
#define ELF_DATA_OFF 0x1000
#define ELF_LOAD_ADDR 0x200000
#define ELF_FILESZ 0x100
#define ELF_MEMSZ 0x300
#define PVH_ENTRY 0x200040

struct elf_img {
	uint8_t buf[ELF_SIZE];
	bool is64;
	unsigned phnum;
};

static void elf_phdr(struct elf_img *e, uint32_t type, uint64_t off, uint64_t paddr,
		     uint64_t filesz, uint64_t memsz)
{
	unsigned i = e->phnum++;

	if (e->is64) {
		Elf64_Phdr ph = { .p_type = type, .p_offset = off, .p_paddr = paddr,
				  .p_vaddr = paddr, .p_filesz = filesz, .p_memsz = memsz };
		Elf64_Ehdr *eh = (Elf64_Ehdr *)e->buf;

		memcpy(e->buf + sizeof(Elf64_Ehdr) + i * sizeof(ph), &ph, sizeof(ph));
		eh->e_phnum = (Elf64_Half)e->phnum;
	} else {
		Elf32_Phdr ph = { .p_type = type, .p_offset = (Elf32_Off)off,
				  .p_paddr = (Elf32_Addr)paddr, .p_vaddr = (Elf32_Addr)paddr,
				  .p_filesz = (Elf32_Word)filesz, .p_memsz = (Elf32_Word)memsz };
		Elf32_Ehdr *eh = (Elf32_Ehdr *)e->buf;

		memcpy(e->buf + sizeof(Elf32_Ehdr) + i * sizeof(ph), &ph, sizeof(ph));
		eh->e_phnum = (Elf32_Half)e->phnum;
	}
}

/* One PT_LOAD segment of patterned data, no note yet. */
static void elf_build(struct elf_img *e, bool is64, uint64_t entry)
{
	memset(e, 0, sizeof(*e));
	e->is64 = is64;
	memcpy(e->buf, ELFMAG, SELFMAG);
	e->buf[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	e->buf[EI_DATA] = ELFDATA2LSB;
	e->buf[EI_VERSION] = EV_CURRENT;
	if (is64) {
		Elf64_Ehdr *eh = (Elf64_Ehdr *)e->buf;

		eh->e_type = ET_EXEC;
		eh->e_machine = EM_X86_64;
		eh->e_entry = entry;
		eh->e_phoff = sizeof(Elf64_Ehdr);
		eh->e_phentsize = sizeof(Elf64_Phdr);
		eh->e_ehsize = sizeof(Elf64_Ehdr);
	} else {
		Elf32_Ehdr *eh = (Elf32_Ehdr *)e->buf;

		eh->e_type = ET_EXEC;
		eh->e_machine = EM_386;
		eh->e_entry = (Elf32_Addr)entry;
		eh->e_phoff = sizeof(Elf32_Ehdr);
		eh->e_phentsize = sizeof(Elf32_Phdr);
		eh->e_ehsize = sizeof(Elf32_Ehdr);
	}
	for (unsigned i = 0; i < ELF_FILESZ; i++)
		e->buf[ELF_DATA_OFF + i] = (uint8_t)(0x80 + i);
	elf_phdr(e, PT_LOAD, ELF_DATA_OFF, ELF_LOAD_ADDR, ELF_FILESZ, ELF_MEMSZ);
}

/* Writes one note at off; returns its size. */
static size_t note_put(uint8_t *p, uint32_t namesz, uint32_t descsz, uint32_t type,
		       const char *name, const void *desc, size_t desclen)
{
	size_t n = 12;

	wr32(p, namesz);
	wr32(p + 4, descsz);
	wr32(p + 8, type);
	memcpy(p + n, name, strlen(name) + 1);
	n += ALIGN_UP(strlen(name) + 1, 4);
	memcpy(p + n, desc, desclen);
	n += ALIGN_UP(desclen, 4);
	return n;
}

static void elf_add_pvh_note(struct elf_img *e, unsigned descsz)
{
	uint64_t entry = PVH_ENTRY;
	uint8_t *p = e->buf + ELF_NOTE_OFF;
	size_t n = 0;

	/* An unrelated note first, so the walker has to step over it. */
	n += note_put(p + n, 4, 4, 1, "GNU", "abcd", 4);
	n += note_put(p + n, 4, descsz, 18, "Xen", &entry, descsz);
	elf_phdr(e, PT_NOTE, ELF_NOTE_OFF, 0, n, 0);
}

static void check_loaded(void)
{
	const uint8_t *p = guest_mem_ptr(&mem, ELF_LOAD_ADDR, ELF_MEMSZ);

	assert_non_null(p);
	for (unsigned i = 0; i < ELF_FILESZ; i++)
		assert_int_equal(p[i], (uint8_t)(0x80 + i));
	for (unsigned i = ELF_FILESZ; i < ELF_MEMSZ; i++)
		assert_int_equal(p[i], 0); /* bss cleared */
}

static void test_elf_pvh64(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	memset(guest_mem_ptr(&mem, ELF_LOAD_ADDR, ELF_MEMSZ), 0xcc, ELF_MEMSZ);
	elf_build(&e, true, 0xffffffff81000000ULL);
	elf_add_pvh_note(&e, 8);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), 0);
	assert_int_equal(img.entry_mode, X86_ENTRY_PVH);
	assert_int_equal(img.entry, PVH_ENTRY);
	assert_int_equal(img.kernel_start, ELF_LOAD_ADDR);
	assert_int_equal(img.kernel_end, ELF_LOAD_ADDR + ELF_MEMSZ);
	assert_string_equal(img.format, "ELF (PVH)");
	assert_false(img.has_setup_header);
	check_loaded();
}

static void test_elf_pvh32(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, false, 0x12345678);
	elf_add_pvh_note(&e, 4);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), 0);
	assert_int_equal(img.entry_mode, X86_ENTRY_PVH);
	assert_int_equal(img.entry, PVH_ENTRY);
	check_loaded();
}

static void test_elf_linux64(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, 0xffffffff80000000ULL + ELF_LOAD_ADDR + 0x10);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), 0);
	assert_int_equal(img.entry_mode, X86_ENTRY_LINUX64);
	assert_int_equal(img.entry, ELF_LOAD_ADDR + 0x10);
	assert_string_equal(img.format, "ELF (64-bit Linux)");
	assert_true(img.has_setup_header);
	assert_int_equal(img.hdr.boot_flag, 0xaa55);
	assert_int_equal(img.hdr.header, 0x53726448);
	assert_true(img.hdr.version >= 0x020c);
	assert_true(img.cmdline_max > 0);
	check_loaded();
	/* A physical e_entry is used as it is. */
	elf_build(&e, true, ELF_LOAD_ADDR + 0x20);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), 0);
	assert_int_equal(img.entry, ELF_LOAD_ADDR + 0x20);
}

static void test_elf32_no_note(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, false, ELF_LOAD_ADDR);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "PVH"));
}

static void test_elf_entry_outside_ram(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, 0xffffffff80000000ULL + RAM + 0x1000);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "entry"));
}

static void test_elf_segment_outside_ram(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_LOAD, ELF_DATA_OFF, RAM - 0x10, 0x20, 0x20);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "outside guest RAM"));
	/* paddr + memsz wrapping around 2^64. */
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_LOAD, ELF_DATA_OFF, UINT64_MAX - 0xf, 0x10, 0x20);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -ENOSPC);
	/* In the MMIO hole. */
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_LOAD, ELF_DATA_OFF, MMIO_HOLE_START, 0x10, 0x10);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -ENOSPC);
}

static void test_elf_filesz_above_memsz(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_LOAD, ELF_DATA_OFF, ELF_LOAD_ADDR + 0x1000, 0x20, 0x10);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "malformed"));
}

static void test_elf_phnum(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, ELF_LOAD_ADDR);
	((Elf64_Ehdr *)e.buf)->e_phnum = 0;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "program headers"));
	((Elf64_Ehdr *)e.buf)->e_phnum = 65;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	((Elf64_Ehdr *)e.buf)->e_phnum = 0xffff;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	/* Wrong entry size. */
	((Elf64_Ehdr *)e.buf)->e_phnum = 1;
	((Elf64_Ehdr *)e.buf)->e_phentsize = 32;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
}

static void test_elf_truncated(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, ELF_LOAD_ADDR);
	/* Program headers past the end of the file. */
	((Elf64_Ehdr *)e.buf)->e_phoff = sizeof(e.buf) - 10;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	((Elf64_Ehdr *)e.buf)->e_phoff = UINT64_MAX - 8;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	/* The file ends inside the headers. */
	elf_build(&e, true, ELF_LOAD_ADDR);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(Elf64_Ehdr) + 20, &img, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(elf_load(&mem, e.buf, 40, &img, err, sizeof(err)), -EINVAL);
	/* A segment's data past the end of the file. */
	assert_int_equal(elf_load(&mem, e.buf, ELF_DATA_OFF + 0x10, &img, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_LOAD, UINT64_MAX - 4, ELF_LOAD_ADDR + 0x1000, 0x10, 0x10);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
}

static void test_elf_malformed_notes(void **state)
{
	static const uint32_t bad[][2] = {
		{ 0xffffffff, 8 },  /* namesz far past the segment */
		{ 4, 0xffffffff },  /* descsz far past the segment */
		{ 0xfffffffd, 0 },  /* namesz that wraps when aligned */
		{ 4, 0x7ffffffd },
		{ 4, 16 },	    /* desc just past the end */
	};
	struct elf_img e;
	struct boot_image img;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t entry = PVH_ENTRY;
		uint8_t *p;

		elf_build(&e, true, ELF_LOAD_ADDR);
		p = e.buf + ELF_NOTE_OFF;
		note_put(p, bad[i][0], bad[i][1], 18, "Xen", &entry, 8);
		elf_phdr(&e, PT_NOTE, ELF_NOTE_OFF, 0, 24, 0);
		/* The note is ignored: a 64-bit image falls back to the Linux entry. */
		assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), 0);
		assert_int_equal(img.entry_mode, X86_ENTRY_LINUX64);
	}
	/* A note segment too short for even one header. */
	elf_build(&e, false, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_NOTE, ELF_NOTE_OFF, 0, 11, 0);
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	/* Right type, wrong owner: not the PVH entry. */
	elf_build(&e, false, ELF_LOAD_ADDR);
	{
		uint32_t entry = PVH_ENTRY;
		size_t n = note_put(e.buf + ELF_NOTE_OFF, 4, 4, 18, "Gen", &entry, 4);

		elf_phdr(&e, PT_NOTE, ELF_NOTE_OFF, 0, n, 0);
	}
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
}

static void test_elf_header_errors(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, ELF_LOAD_ADDR);
	e.buf[0] = 0x7e;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -ENOEXEC);
	assert_int_equal(elf_load(&mem, e.buf, 3, &img, err, sizeof(err)), -ENOEXEC);
	elf_build(&e, true, ELF_LOAD_ADDR);
	e.buf[EI_CLASS] = 3;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	elf_build(&e, true, ELF_LOAD_ADDR);
	e.buf[EI_DATA] = ELFDATA2MSB;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	elf_build(&e, true, ELF_LOAD_ADDR);
	((Elf64_Ehdr *)e.buf)->e_machine = EM_AARCH64;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x86"));
}

static void test_elf_no_load_segments(void **state)
{
	struct elf_img e;
	struct boot_image img;

	(void)state;
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_phdr(&e, PT_LOAD, 0, 0, 0, 0);
	((Elf64_Phdr *)(e.buf + sizeof(Elf64_Ehdr)))->p_type = PT_NULL;
	assert_int_equal(elf_load(&mem, e.buf, sizeof(e.buf), &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no loadable"));
}

/* ---- initrd and command line ---- */

static void test_initrd_place(void **state)
{
	gpa_t a = 0;

	(void)state;
	assert_int_equal(initrd_place(4096, MiB(4), MiB(16), &a), 0);
	assert_int_equal(a, MiB(16) - 4096);
	assert_int_equal(initrd_place(5000, MiB(4), MiB(16), &a), 0);
	assert_int_equal(a, MiB(16) - 8192); /* page aligned down */
	assert_true(a + 5000 <= MiB(16));
	assert_int_equal(initrd_place(MiB(12), MiB(4), MiB(16), &a), 0); /* exact fit */
	assert_int_equal(a, MiB(4));
	a = 7;
	assert_int_equal(initrd_place(MiB(12) + 1, MiB(4), MiB(16), &a), -ENOSPC);
	assert_int_equal(initrd_place(0, MiB(4), MiB(16), &a), -ENOSPC);
	assert_int_equal(initrd_place(MiB(17), 0, MiB(16), &a), -ENOSPC);
	assert_int_equal(initrd_place(UINT64_MAX, 0, MiB(16), &a), -ENOSPC);
	assert_int_equal(a, 7);
}

static void test_cmdline_join(void **state)
{
	const char *parts[] = { "console=ttyS0", "panic=-1", "quiet" };
	char out[64];

	(void)state;
	assert_int_equal(cmdline_build(out, sizeof(out), parts, 3), 0);
	assert_string_equal(out, "console=ttyS0 panic=-1 quiet");
}

static void test_cmdline_trim_and_empty(void **state)
{
	const char *parts[] = { "  a  ", NULL, "", "   ", " b c ", "d" };
	char out[64];

	(void)state;
	memset(out, 'z', sizeof(out));
	assert_int_equal(cmdline_build(out, sizeof(out), parts, 6), 0);
	assert_string_equal(out, "a b c d");
	assert_int_equal(cmdline_build(out, sizeof(out), parts + 1, 3), 0);
	assert_string_equal(out, "");
	assert_int_equal(cmdline_build(out, sizeof(out), parts, 0), 0);
	assert_string_equal(out, "");
}

static void test_cmdline_limit(void **state)
{
	const char *parts[] = { "abc", "de" };
	char out[16];

	(void)state;
	/* "abc de" is 6 bytes + NUL. */
	assert_int_equal(cmdline_build(out, 7, parts, 2), 0);
	assert_string_equal(out, "abc de");
	assert_int_equal(cmdline_build(out, 6, parts, 2), -E2BIG);
	assert_int_equal(cmdline_build(out, 4, parts, 1), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(cmdline_build(out, 3, parts, 1), -E2BIG);
	assert_int_equal(cmdline_build(out, 0, parts, 1), -E2BIG);
	assert_int_equal(cmdline_build(out, 1, parts, 0), 0);
	assert_string_equal(out, "");
}

/* ---- files ---- */

static char *temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/osprey-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_kernel_file_missing(void **state)
{
	struct boot_image img;

	(void)state;
	assert_int_equal(kernel_load_file(&mem, "/nonexistent/osprey/vmlinux", &img, err,
					  sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/osprey/vmlinux"));
	assert_int_equal(kernel_load_file(&mem, "/tmp", &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "regular file"));
}

static void test_kernel_file_not_kernel(void **state)
{
	static const char text[] = "#!/bin/sh\necho this is not a kernel\n";
	struct boot_image img;
	char *path = temp_file(text, sizeof(text));

	(void)state;
	assert_int_equal(kernel_load_file(&mem, path, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a kernel"));
	unlink(path);
	free(path);
}

static void test_kernel_file_ok(void **state)
{
	struct boot_image img;
	struct elf_img e;
	size_t len;
	uint8_t *b = bz_build(&len);
	char *path = temp_file(b, len);

	(void)state;
	assert_int_equal(kernel_load_file(&mem, path, &img, err, sizeof(err)), 0);
	assert_string_equal(img.format, "bzImage");
	unlink(path);
	free(path);
	free(b);
	elf_build(&e, true, ELF_LOAD_ADDR);
	elf_add_pvh_note(&e, 8);
	path = temp_file(e.buf, sizeof(e.buf));
	assert_int_equal(kernel_load_file(&mem, path, &img, err, sizeof(err)), 0);
	assert_string_equal(img.format, "ELF (PVH)");
	unlink(path);
	free(path);
}

static void test_kernel_file_larger_than_ram(void **state)
{
	struct guest_mem small;
	struct boot_image img;
	size_t len;
	uint8_t *b = bz_build(&len);
	char *path = temp_file(b, len);

	(void)state;
	assert_int_equal(guest_mem_init(&small, 4096), 0);
	assert_int_equal(kernel_load_file(&small, path, &img, err, sizeof(err)), -EFBIG);
	guest_mem_destroy(&small);
	unlink(path);
	free(path);
	free(b);
}

static void test_initrd_file(void **state)
{
	uint8_t data[5000];
	gpa_t addr = 0;
	uint64_t size = 0;
	char *path, *empty;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	path = temp_file(data, sizeof(data));
	assert_int_equal(initrd_load_file(&mem, path, MiB(4), RAM, &addr, &size, err, sizeof(err)),
			 0);
	assert_int_equal(size, sizeof(data));
	assert_int_equal(addr, RAM - 8192);
	assert_memory_equal(guest_mem_ptr(&mem, addr, size), data, sizeof(data));
	/* No room between floor and limit. */
	assert_int_equal(initrd_load_file(&mem, path, RAM - 4096, RAM, &addr, &size, err,
					  sizeof(err)),
			 -ENOSPC);
	assert_non_null(strstr(err, "does not fit"));
	/* A limit beyond RAM places it outside guest memory. */
	assert_int_equal(initrd_load_file(&mem, path, MiB(4), RAM + MiB(1), &addr, &size, err,
					  sizeof(err)),
			 -EFAULT);
	unlink(path);
	free(path);
	empty = temp_file("", 0);
	assert_int_equal(initrd_load_file(&mem, empty, MiB(4), RAM, &addr, &size, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "empty"));
	unlink(empty);
	free(empty);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, mem_setup, mem_teardown)
	const struct CMUnitTest tests[] = {
		T(test_bz_success),
		T(test_bz_init_size),
		T(test_bz_setup_sects_zero),
		T(test_bz_truncated),
		T(test_bz_syssize_too_large),
		T(test_bz_old_protocol),
		T(test_bz_no_boot_flag),
		T(test_bz_not_bzimage),
		T(test_bz_too_big_for_ram),
		T(test_elf_pvh64),
		T(test_elf_pvh32),
		T(test_elf_linux64),
		T(test_elf32_no_note),
		T(test_elf_entry_outside_ram),
		T(test_elf_segment_outside_ram),
		T(test_elf_filesz_above_memsz),
		T(test_elf_phnum),
		T(test_elf_truncated),
		T(test_elf_malformed_notes),
		T(test_elf_header_errors),
		T(test_elf_no_load_segments),
		T(test_initrd_place),
		T(test_cmdline_join),
		T(test_cmdline_trim_and_empty),
		T(test_cmdline_limit),
		T(test_kernel_file_missing),
		T(test_kernel_file_not_kernel),
		T(test_kernel_file_ok),
		T(test_kernel_file_larger_than_ram),
		T(test_initrd_file),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
