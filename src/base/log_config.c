// SPDX-License-Identifier: Apache-2.0
/* Run-time logger configuration (log_config.h), on top of log.c. */
#include "base/log_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int log_config_parse_level(const char *s, enum log_level *out)
{
	if (strcasecmp(s, "trace") == 0) {
		*out = LOG_LEVEL_DEBUG;
		return 0;
	}
	if (strcasecmp(s, "off") == 0) {
		*out = LOG_LEVEL_ERROR;
		return 0;
	}
	return log_parse_level(s, out);
}

int log_configure(int level, const char *path, char *err, size_t errlen)
{
	int fd, flags;

	if (path) {
		/* Non-blocking open: a FIFO without a reader fails (ENXIO) instead of hanging. */
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
			return -errno;
		}
		flags = fcntl(fd, F_GETFL);
		if (flags >= 0)
			fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		fflush(stderr);
		if (dup2(fd, STDERR_FILENO) < 0) {
			int ret = -errno;

			snprintf(err, errlen, "cannot redirect the log to %s: %s", path,
				 strerror(errno));
			close(fd);
			return ret;
		}
		close(fd);
	}
	if (level >= 0)
		log_set_level((enum log_level)level);
	return 0;
}
