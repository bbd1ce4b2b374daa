// SPDX-License-Identifier: Apache-2.0
/*
 * bzImage through the 64-bit boot protocol entry (Documentation/arch/x86/
 * boot.rst): the protected-mode kernel is copied to 1 MiB and entered in
 * long mode at load address + 0x200, with RSI pointing at the zero page.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "loader/loader.h"

#define SETUP_HDR_OFFSET 0x1f1
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define BOOT_FLAG_MAGIC 0xaa55
#define MIN_PROTOCOL 0x020c /* xloadflags, 64-bit entry */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int bzimage_load(const struct guest_mem *mem, const uint8_t *buf, size_t len,
		 struct boot_image *img, char *err, size_t errlen)
{
	struct setup_header hdr;
	size_t hdr_len, setup_size, payload_len;
	uint64_t payload_claimed;
	void *dst;

	if (len < 0x202 + 4 || rd32(buf + 0x202) != HDRS_MAGIC)
		return -ENOEXEC;
	memset(&hdr, 0, sizeof(hdr));
	/* The header's own length: 0x202 + the byte at 0x201 (jump offset). */
	hdr_len = 0x202 + buf[0x201] - SETUP_HDR_OFFSET;
	if (hdr_len > sizeof(hdr))
		hdr_len = sizeof(hdr);
	if (SETUP_HDR_OFFSET + hdr_len > len) {
		snprintf(err, errlen, "bzImage truncated inside its setup header");
		return -EINVAL;
	}
	memcpy(&hdr, buf + SETUP_HDR_OFFSET, hdr_len);
	if (hdr.boot_flag != BOOT_FLAG_MAGIC) {
		snprintf(err, errlen, "bzImage has no 0xAA55 boot flag");
		return -EINVAL;
	}
	if (hdr.version < MIN_PROTOCOL || !(hdr.xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errlen,
			 "bzImage boot protocol %u.%02u has no 64-bit entry point (need 2.12+ with XLF_KERNEL_64)",
			 hdr.version >> 8, hdr.version & 0xff);
		return -EINVAL;
	}
	setup_size = ((size_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	if (setup_size >= len) {
		snprintf(err, errlen, "bzImage truncated: %zu bytes, setup code alone is %zu",
			 len, setup_size);
		return -EINVAL;
	}
	payload_len = len - setup_size;
	payload_claimed = (uint64_t)hdr.syssize * 16;
	if (payload_claimed > payload_len) {
		snprintf(err, errlen,
			 "bzImage truncated: header promises %llu bytes of kernel, file has %zu",
			 (unsigned long long)payload_claimed, payload_len);
		return -EINVAL;
	}
	dst = guest_mem_ptr(mem, X86_KERNEL_LOAD_ADDR, payload_len);
	if (!dst) {
		snprintf(err, errlen, "bzImage (%zu bytes) does not fit in guest RAM", payload_len);
		return -ENOSPC;
	}
	memcpy(dst, buf + setup_size, payload_len);

	memset(img, 0, sizeof(*img));
	img->entry_mode = X86_ENTRY_LINUX64;
	img->entry = X86_KERNEL_LOAD_ADDR + 0x200;
	img->kernel_start = X86_KERNEL_LOAD_ADDR;
	img->kernel_end = X86_KERNEL_LOAD_ADDR + payload_len;
	/*
	 * The decompressor runs the kernel at pref_address (never below it
	 * for relocatable kernels) and needs init_size bytes there.
	 */
	if (hdr.init_size > payload_len &&
	    X86_KERNEL_LOAD_ADDR + hdr.init_size > img->kernel_end)
		img->kernel_end = X86_KERNEL_LOAD_ADDR + hdr.init_size;
	if (hdr.pref_address + hdr.init_size > img->kernel_end)
		img->kernel_end = hdr.pref_address + hdr.init_size;
	img->hdr = hdr;
	img->has_setup_header = true;
	img->initrd_addr_max = hdr.initrd_addr_max;
	img->cmdline_max = hdr.cmdline_size;
	img->format = "bzImage";
	return 0;
}
