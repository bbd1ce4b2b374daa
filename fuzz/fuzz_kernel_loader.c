// SPDX-License-Identifier: Apache-2.0
/*
 * Kernel images are untrusted input: the input is tried as a bzImage and
 * as an ELF file, loaded into a small guest RAM, and a successful load is
 * followed by the boot-structure setup that consumes the image's header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arch/x86/boot.h"
#include "base/util.h"
#include "loader/loader.h"

#define FUZZ_RAM MiB(32)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct guest_mem *fuzz_mem(void)
{
	static struct guest_mem mem;
	static int ready;

	if (!ready) {
		if (guest_mem_init(&mem, FUZZ_RAM))
			abort();
		ready = 1;
	}
	return &mem;
}

static void boot_setup(const struct guest_mem *mem, const struct boot_image *img)
{
	struct x86_boot_setup s = {
		.img = img,
		.cmdline = "console=ttyS0 reboot=k panic=-1",
		.initrd_addr = MiB(24),
		.initrd_size = 4096,
		.ncpus = 2,
		.cpu_signature = 0x806f8,
		.cpu_features = 0x178bfbff,
	};
	char err[LOADER_ERR_MAX];
	uint64_t param;

	x86_boot_setup(mem, &s, &param, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct guest_mem *mem = fuzz_mem();
	struct boot_image img;
	char err[LOADER_ERR_MAX];

	if (bzimage_load(mem, data, size, &img, err, sizeof(err)) == 0)
		boot_setup(mem, &img);
	if (elf_load(mem, data, size, &img, err, sizeof(err)) == 0) {
		/* What the loader promises: entry and segments inside guest RAM. */
		if (!guest_mem_ptr(mem, img.entry, 1) || img.kernel_start > img.kernel_end)
			abort();
		boot_setup(mem, &img);
	}
	return 0;
}
