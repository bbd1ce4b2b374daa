// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "loader/loader.h"

static size_t map_len(size_t len)
{
	return len ? len : 1;
}

void loader_free_file(uint8_t *buf, size_t len)
{
	if (buf)
		munmap(buf, map_len(len));
}

int loader_read_file(const char *path, uint64_t max_size, uint8_t **buf, size_t *len,
		     char *err, size_t errlen)
{
	struct stat st;
	uint8_t *data;
	size_t done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out_close;
	}
	if ((uint64_t)st.st_size > max_size) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: %lld bytes is larger than guest RAM (%llu bytes)", path,
			 (long long)st.st_size, (unsigned long long)max_size);
		goto out_close;
	}
	data = mmap(NULL, map_len((size_t)st.st_size), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out_close;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, data + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: read failed: %s", path,
				 n < 0 ? strerror(errno) : "file shrank");
			loader_free_file(data, (size_t)st.st_size);
			goto out_close;
		}
		done += (size_t)n;
	}
	*buf = data;
	*len = done;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

int loader_check_readable(const char *what, const char *sep, const char *path, char *err,
			  size_t errlen)
{
	int fd, ret;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s%s%s: %s", what, sep, path, strerror(-ret));
		return ret;
	}
	close(fd);
	return 0;
}
