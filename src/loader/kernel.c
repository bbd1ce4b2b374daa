// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "loader/loader.h"

int kernel_load_file(const struct guest_mem *mem, const char *path, struct boot_image *img,
		     char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	ret = loader_read_file(path, mem->ram_size, &buf, &len, err, errlen);
	if (ret)
		return ret;
	ret = bzimage_load(mem, buf, len, img, err, errlen);
	if (ret == -ENOEXEC)
		ret = elf_load(mem, buf, len, img, err, errlen);
	if (ret == -ENOEXEC) {
		snprintf(err, errlen,
			 "%s: not a kernel (neither a bzImage with a HdrS header nor an ELF file)",
			 path);
		ret = -EINVAL;
	}
	loader_free_file(buf, len);
	return ret;
}
