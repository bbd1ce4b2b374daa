/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Levelled, tagged, format-checked logging.
 *
 * log_warn() appends strerror(errno); log_warnx() does not (the vmd
 * convention). Output goes to stderr by default, so that the guest
 * console on stdout stays clean, as "osprey: LEVEL: TAG: message";
 * log_configure() (PUT /logger) sends it to a file or FIFO instead and
 * chooses what a line shows (base/log_sink.c).
 */
#ifndef OSPREY_BASE_LOG_H
#define OSPREY_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_OFF = -1, /* nothing at all (PUT /logger "Off") */
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
const char *log_level_name(enum log_level level); /* "error" ... "trace", "off" */
/*
 * Parses "error", "warn"/"warning", "info", "debug", "trace", "off"
 * (case-insensitive, so Firecracker's "Warning" too); -EINVAL otherwise.
 */
int log_parse_level(const char *s, enum log_level *out);

void log_msg(enum log_level level, int with_errno, const char *tag,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* log_msg() with the origin (file and line) for show_log_origin. */
void log_msg_at(enum log_level level, int with_errno, const char *tag, const char *file,
		int line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Milliseconds since the process started (CLOCK_MONOTONIC based). */
double log_ms_since_start(void);
void log_mark_start(void);

#define log_err(tag, ...) log_msg_at(LOG_LEVEL_ERROR, 1, tag, __FILE__, __LINE__, __VA_ARGS__)
#define log_errx(tag, ...) log_msg_at(LOG_LEVEL_ERROR, 0, tag, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(tag, ...) log_msg_at(LOG_LEVEL_WARN, 1, tag, __FILE__, __LINE__, __VA_ARGS__)
#define log_warnx(tag, ...) log_msg_at(LOG_LEVEL_WARN, 0, tag, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(tag, ...) log_msg_at(LOG_LEVEL_INFO, 0, tag, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(tag, ...) log_msg_at(LOG_LEVEL_DEBUG, 0, tag, __FILE__, __LINE__, __VA_ARGS__)
#define log_trace(tag, ...) log_msg_at(LOG_LEVEL_TRACE, 0, tag, __FILE__, __LINE__, __VA_ARGS__)

/*
 * PUT /logger (base/log_sink.c). Every argument but the booleans may be
 * NULL to keep that setting:
 *   path         a file (created if missing, appended to) or a FIFO
 *                (opened without waiting for a reader; lines the pipe
 *                cannot take are dropped, never blocking osprey), which
 *                replaces stderr for osprey's log lines
 *   level        Error, Warning, Info, Debug, Trace or Off (any case)
 *   show_level   "LEVEL: " in each line
 *   show_origin  "file:line: " of the log call in each line
 *   module       only lines whose tag or source path (below src/)
 *                starts with this are written ("" or NULL: all); errors
 *                always pass
 * Nothing changes unless everything is valid. -errno with a message in err.
 */
int log_configure(const char *path, const char *level, bool show_level, bool show_origin,
		  const char *module, char *err, size_t errlen);

/* Back to the defaults: stderr, levels shown, no origin, no filter. For tests. */
void log_sink_reset(void);

/* Lines a FIFO could not take (dropped). */
unsigned long long log_sink_dropped(void);

/* log.c -> log_sink.c: one formatted message (level already checked). */
void log_sink_emit(enum log_level level, const char *tag, const char *file, int line,
		   const char *msg);

#endif
