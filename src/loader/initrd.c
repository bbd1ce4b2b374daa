// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "loader/loader.h"

int initrd_place(uint64_t size, gpa_t floor, gpa_t limit, gpa_t *addr)
{
	gpa_t start;

	if (size == 0 || limit < size)
		return -ENOSPC;
	start = ALIGN_DOWN(limit - size, 4096);
	if (start < floor)
		return -ENOSPC;
	*addr = start;
	return 0;
}

int initrd_load_file(const struct guest_mem *mem, const char *path, gpa_t floor, gpa_t limit,
		     gpa_t *addr, uint64_t *size, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	void *dst;
	int ret;

	ret = loader_read_file(path, mem->ram_size, &buf, &len, err, errlen);
	if (ret)
		return ret;
	if (len == 0) {
		snprintf(err, errlen, "%s: initrd is empty", path);
		ret = -EINVAL;
		goto out;
	}
	ret = initrd_place(len, floor, limit, addr);
	if (ret) {
		snprintf(err, errlen,
			 "%s: initrd of %zu bytes does not fit in guest RAM between the kernel and 0x%llx",
			 path, len, (unsigned long long)limit);
		goto out;
	}
	dst = guest_mem_ptr(mem, *addr, len);
	if (!dst) {
		snprintf(err, errlen, "%s: initrd placement outside guest RAM", path);
		ret = -EFAULT;
		goto out;
	}
	memcpy(dst, buf, len);
	*size = len;
out:
	loader_free_file(buf, len);
	return ret;
}
