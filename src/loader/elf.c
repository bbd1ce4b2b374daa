// SPDX-License-Identifier: Apache-2.0
/*
 * ELF kernels (vmlinux, test guests). PT_LOAD segments go to their
 * physical addresses. With a Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY) the
 * guest is entered through PVH; a 64-bit ELF without it is entered at
 * e_entry through the 64-bit Linux boot protocol.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "loader/loader.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define ELF_MAX_PHDRS 64

struct elf_seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static int elf_read_phdrs(const uint8_t *buf, size_t len, bool is64, struct elf_seg *segs,
			  unsigned *nsegs, uint64_t *entry, char *err, size_t errlen)
{
	uint64_t phoff, phentsize, phnum;

	if (is64) {
		Elf64_Ehdr eh;

		if (len < sizeof(eh))
			goto truncated;
		memcpy(&eh, buf, sizeof(eh));
		if (eh.e_machine != EM_X86_64) {
			snprintf(err, errlen, "ELF kernel is not for x86-64 (e_machine %u)", eh.e_machine);
			return -EINVAL;
		}
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		*entry = eh.e_entry;
		if (phentsize != sizeof(Elf64_Phdr))
			goto bad;
	} else {
		Elf32_Ehdr eh;

		if (len < sizeof(eh))
			goto truncated;
		memcpy(&eh, buf, sizeof(eh));
		if (eh.e_machine != EM_386 && eh.e_machine != EM_X86_64) {
			snprintf(err, errlen, "ELF kernel is not for x86 (e_machine %u)", eh.e_machine);
			return -EINVAL;
		}
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		*entry = eh.e_entry;
		if (phentsize != sizeof(Elf32_Phdr))
			goto bad;
	}
	if (phnum == 0 || phnum > ELF_MAX_PHDRS) {
		snprintf(err, errlen, "ELF kernel has %llu program headers (1..%d allowed)",
			 (unsigned long long)phnum, ELF_MAX_PHDRS);
		return -EINVAL;
	}
	if (phoff > len || phnum * phentsize > len - phoff)
		goto truncated;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = buf + phoff + i * phentsize;

		if (is64) {
			Elf64_Phdr ph;

			memcpy(&ph, p, sizeof(ph));
			segs[i] = (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz,
						    ph.p_memsz };
		} else {
			Elf32_Phdr ph;

			memcpy(&ph, p, sizeof(ph));
			segs[i] = (struct elf_seg){ ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz,
						    ph.p_memsz };
		}
		if (segs[i].offset > len || segs[i].filesz > len - segs[i].offset)
			goto truncated;
		if (segs[i].type == PT_LOAD && segs[i].filesz > segs[i].memsz)
			goto bad;
	}
	*nsegs = (unsigned)phnum;
	return 0;
truncated:
	snprintf(err, errlen, "ELF kernel is truncated");
	return -EINVAL;
bad:
	snprintf(err, errlen, "ELF kernel has malformed program headers");
	return -EINVAL;
}

/* Walks the notes in one PT_NOTE segment looking for the PVH entry. */
static bool elf_find_pvh_entry(const uint8_t *notes, uint64_t size, uint64_t *entry)
{
	uint64_t off = 0;

	while (size - off >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name_off, desc_off, next;

		memcpy(&namesz, notes + off, 4);
		memcpy(&descsz, notes + off + 4, 4);
		memcpy(&type, notes + off + 8, 4);
		name_off = off + 12;
		desc_off = name_off + ALIGN_UP((uint64_t)namesz, 4);
		next = desc_off + ALIGN_UP((uint64_t)descsz, 4);
		if (desc_off > size || next > size)
			return false;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(notes + name_off, "Xen", 4) == 0 && descsz >= 4) {
			uint32_t e32;
			uint64_t e64;

			if (descsz >= 8) {
				memcpy(&e64, notes + desc_off, 8);
				*entry = e64;
			} else {
				memcpy(&e32, notes + desc_off, 4);
				*entry = e32;
			}
			return true;
		}
		off = next;
	}
	return false;
}

int elf_load(const struct guest_mem *mem, const uint8_t *buf, size_t len,
	     struct boot_image *img, char *err, size_t errlen)
{
	struct elf_seg segs[ELF_MAX_PHDRS];
	unsigned nsegs = 0;
	uint64_t entry = 0, pvh_entry = 0;
	gpa_t lo = UINT64_MAX, hi = 0;
	bool is64, have_pvh = false;
	int ret;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (buf[EI_CLASS] != ELFCLASS64 && buf[EI_CLASS] != ELFCLASS32) {
		snprintf(err, errlen, "ELF kernel has an unknown class %u", buf[EI_CLASS]);
		return -EINVAL;
	}
	if (buf[EI_DATA] != ELFDATA2LSB) {
		snprintf(err, errlen, "ELF kernel is not little-endian");
		return -EINVAL;
	}
	is64 = buf[EI_CLASS] == ELFCLASS64;
	ret = elf_read_phdrs(buf, len, is64, segs, &nsegs, &entry, err, errlen);
	if (ret)
		return ret;

	for (unsigned i = 0; i < nsegs; i++) {
		if (segs[i].type == PT_NOTE && !have_pvh)
			have_pvh = elf_find_pvh_entry(buf + segs[i].offset, segs[i].filesz, &pvh_entry);
	}
	for (unsigned i = 0; i < nsegs; i++) {
		const struct elf_seg *s = &segs[i];
		uint8_t *dst;
		gpa_t end;

		if (s->type != PT_LOAD || s->memsz == 0)
			continue;
		if (add_overflows_u64(s->paddr, s->memsz, &end) ||
		    !(dst = guest_mem_ptr(mem, s->paddr, s->memsz))) {
			snprintf(err, errlen,
				 "ELF segment at 0x%llx (+0x%llx bytes) is outside guest RAM",
				 (unsigned long long)s->paddr, (unsigned long long)s->memsz);
			return -ENOSPC;
		}
		memcpy(dst, buf + s->offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
		if (s->paddr < lo)
			lo = s->paddr;
		if (end > hi)
			hi = end;
	}
	if (hi == 0) {
		snprintf(err, errlen, "ELF kernel has no loadable segments");
		return -EINVAL;
	}

	memset(img, 0, sizeof(*img));
	img->kernel_start = lo;
	img->kernel_end = hi;
	if (have_pvh) {
		img->entry_mode = X86_ENTRY_PVH;
		img->entry = pvh_entry;
		img->format = "ELF (PVH)";
	} else if (is64) {
		/* vmlinux: e_entry is virtual; its physical twin is startup_64. */
		img->entry_mode = X86_ENTRY_LINUX64;
		img->entry = entry >= 0xffffffff80000000ULL ? entry - 0xffffffff80000000ULL : entry;
		img->format = "ELF (64-bit Linux)";
		img->has_setup_header = true;
		img->hdr.boot_flag = 0xaa55;
		img->hdr.header = 0x53726448;
		img->hdr.version = 0x020f;
		img->hdr.kernel_alignment = 0x1000000;
		img->hdr.cmdline_size = 2048;
		img->hdr.initrd_addr_max = 0x7fffffff;
		img->initrd_addr_max = 0x7fffffff;
		img->cmdline_max = 2048;
	} else {
		snprintf(err, errlen, "32-bit ELF kernel without a PVH entry note cannot be booted");
		return -EINVAL;
	}
	if (!guest_mem_ptr(mem, img->entry, 1)) {
		snprintf(err, errlen, "ELF entry point 0x%llx is outside guest RAM",
			 (unsigned long long)img->entry);
		return -EINVAL;
	}
	return 0;
}
