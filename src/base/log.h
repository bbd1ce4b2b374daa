/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Levelled, tagged, format-checked logging.
 *
 * log_warn() appends strerror(errno); log_warnx() does not (the vmd
 * convention). All output goes to stderr so that the guest console on
 * stdout stays clean.
 */
#ifndef OSPREY_BASE_LOG_H
#define OSPREY_BASE_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -EINVAL otherwise. */
int log_parse_level(const char *s, enum log_level *out);

void log_msg(enum log_level level, int with_errno, const char *tag,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Milliseconds since the process started (CLOCK_MONOTONIC based). */
double log_ms_since_start(void);
void log_mark_start(void);

#define log_err(tag, ...) log_msg(LOG_LEVEL_ERROR, 1, tag, __VA_ARGS__)
#define log_errx(tag, ...) log_msg(LOG_LEVEL_ERROR, 0, tag, __VA_ARGS__)
#define log_warn(tag, ...) log_msg(LOG_LEVEL_WARN, 1, tag, __VA_ARGS__)
#define log_warnx(tag, ...) log_msg(LOG_LEVEL_WARN, 0, tag, __VA_ARGS__)
#define log_info(tag, ...) log_msg(LOG_LEVEL_INFO, 0, tag, __VA_ARGS__)
#define log_debug(tag, ...) log_msg(LOG_LEVEL_DEBUG, 0, tag, __VA_ARGS__)

#endif
