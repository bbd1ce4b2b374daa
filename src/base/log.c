// SPDX-License-Identifier: Apache-2.0
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level current_level = LOG_LEVEL_WARN;
static struct timespec start_ts;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

void log_mark_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &start_ts);
}

double log_ms_since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start_ts.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start_ts.tv_nsec) / 1e6;
}

void log_msg(enum log_level level, int with_errno, const char *tag,
	     const char *fmt, ...)
{
	int saved_errno = errno;
	char buf[1024];
	va_list ap;
	int n;

	if (level > current_level)
		return;
	n = snprintf(buf, sizeof(buf), "osprey: %s: %s: ", level_names[level], tag);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (with_errno)
		fprintf(stderr, "%s: %s\n", buf, strerror(saved_errno));
	else
		fprintf(stderr, "%s\n", buf);
	errno = saved_errno;
}
