// SPDX-License-Identifier: Apache-2.0
/*
 * Where log lines go and what they show (log.h: log_configure, PUT
 * /logger). Default: stderr, "osprey: LEVEL: TAG: message". Configured:
 * a file or FIFO, with or without the level, with or without the
 * "file:line" origin, optionally only one module's lines.
 *
 * One mutex guards the settings and the write, so lines from different
 * threads never interleave and a reconfiguration never writes to a
 * closed fd. A FIFO is opened read-write and non-blocking: it needs no
 * reader to open, never raises SIGPIPE, keeps what the pipe buffer holds
 * until a reader comes, and drops (counts) lines it cannot take rather
 * than stall a vCPU or I/O thread on a slow reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/log.h"

#define LOG_MODULE_MAX 64
#define LOG_LINE_MAX 1400

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int fd; /* -1: stderr */
	bool show_level, show_origin;
	char module[LOG_MODULE_MAX];
	unsigned long long dropped;
} sink = { .fd = -1, .show_level = true };

/* "src/virtio/blk.c" -> "virtio/blk.c" (modules are named below src/). */
static const char *origin_path(const char *file)
{
	const char *p = strstr(file, "src/");

	return p ? p + 4 : file;
}

static bool module_matches(const char *module, const char *tag, const char *file)
{
	size_t n = strlen(module);

	if (!n)
		return true;
	if (tag && strncmp(tag, module, n) == 0)
		return true;
	return file && strncmp(origin_path(file), module, n) == 0;
}

void log_sink_emit(enum log_level level, const char *tag, const char *file, int line,
		   const char *msg)
{
	char buf[LOG_LINE_MAX], origin[128] = "";
	int n;

	pthread_mutex_lock(&sink_lock);
	if (level != LOG_LEVEL_ERROR && !module_matches(sink.module, tag, file))
		goto out;
	if (sink.show_origin && file)
		snprintf(origin, sizeof(origin), "%s:%d: ", origin_path(file), line);
	n = snprintf(buf, sizeof(buf), "osprey: %s%s%s%s: %s\n",
		     sink.show_level ? log_level_name(level) : "", sink.show_level ? ": " : "",
		     origin, tag ? tag : "-", msg);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(buf)) {
		n = (int)sizeof(buf) - 1;
		buf[n - 1] = '\n'; /* cut, but still one line */
	}
	if (sink.fd < 0) {
		fputs(buf, stderr);
	} else if (write_nosigpipe(sink.fd, buf, (size_t)n) != n) {
		sink.dropped++;
	}
out:
	pthread_mutex_unlock(&sink_lock);
}

static int open_log(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open the log %s: %s", path, strerror(errno));
		return ret;
	}
	return fd;
}

int log_configure(const char *path, const char *level, bool show_level, bool show_origin,
		  const char *module, char *err, size_t errlen)
{
	enum log_level lvl = log_get_level();
	int fd = -1, old = -1;

	if (level && log_parse_level(level, &lvl)) {
		snprintf(err, errlen,
			 "unknown log level '%s' (Error, Warning, Info, Debug, Trace or Off)", level);
		return -EINVAL;
	}
	if (module && strlen(module) >= LOG_MODULE_MAX) {
		snprintf(err, errlen, "log module filter longer than %d characters",
			 LOG_MODULE_MAX - 1);
		return -EINVAL;
	}
	if (path && !*path) {
		snprintf(err, errlen, "log_path is empty");
		return -EINVAL;
	}
	if (path) {
		fd = open_log(path, err, errlen);
		if (fd < 0)
			return fd;
	}
	pthread_mutex_lock(&sink_lock);
	if (path) {
		old = sink.fd;
		sink.fd = fd;
	}
	sink.show_level = show_level;
	sink.show_origin = show_origin;
	if (module)
		snprintf(sink.module, sizeof(sink.module), "%s", module);
	pthread_mutex_unlock(&sink_lock);
	if (old >= 0)
		close(old);
	log_set_level(lvl);
	return 0;
}

void log_sink_reset(void)
{
	int old;

	pthread_mutex_lock(&sink_lock);
	old = sink.fd;
	sink.fd = -1;
	sink.show_level = true;
	sink.show_origin = false;
	sink.module[0] = '\0';
	sink.dropped = 0;
	pthread_mutex_unlock(&sink_lock);
	if (old >= 0)
		close(old);
}

unsigned long long log_sink_dropped(void)
{
	unsigned long long n;

	pthread_mutex_lock(&sink_lock);
	n = sink.dropped;
	pthread_mutex_unlock(&sink_lock);
	return n;
}
