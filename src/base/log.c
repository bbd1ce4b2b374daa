// SPDX-License-Identifier: Apache-2.0
/* Levels and message formatting (log.h); where lines go is log_sink.c. */
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level current_level = LOG_LEVEL_WARN;
static struct timespec start_ts;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn",	  [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug", [LOG_LEVEL_TRACE] = "trace",
};

void log_set_level(enum log_level level)
{
	__atomic_store_n(&current_level, level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
	return __atomic_load_n(&current_level, __ATOMIC_RELAXED);
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
	if (strcasecmp(s, "off") == 0) {
		*out = LOG_LEVEL_OFF;
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

static void log_vmsg(enum log_level level, int with_errno, const char *tag, const char *file,
		     int line, const char *fmt, va_list ap)
{
	int saved_errno = errno;
	char buf[1024];
	size_t n;

	if (level < LOG_LEVEL_ERROR || level > log_get_level())
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (with_errno) {
		n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(saved_errno));
	}
	log_sink_emit(level, tag, file, line, buf);
	errno = saved_errno;
}

void log_msg(enum log_level level, int with_errno, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, with_errno, tag, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_msg_at(enum log_level level, int with_errno, const char *tag, const char *file,
		int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, with_errno, tag, file, line, fmt, ap);
	va_end(ap);
}

const char *log_level_name(enum log_level level)
{
	return level >= LOG_LEVEL_ERROR && level <= LOG_LEVEL_TRACE ? level_names[level] : "off";
}
