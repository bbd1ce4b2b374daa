// SPDX-License-Identifier: Apache-2.0
/*
 * Metrics (metrics.h): the registry of counter groups, the JSON line, and
 * the writer (periodic thread + metrics_flush()) to a file or FIFO.
 *
 * Locks: `reg_lock` guards the group list; `out_lock` guards the output
 * (fd, path, pending bytes) and is taken before reg_lock when a line is
 * rendered for writing. Counters are read with relaxed atomic loads.
 *
 * A FIFO without a reader is not an error: open(O_WRONLY | O_NONBLOCK)
 * says ENXIO, the line is dropped (counted) and the next flush tries
 * again. A reader that goes away (EPIPE; SIGPIPE is kept from the process
 * while writing) closes the fd, and the next flush reopens. A write that
 * the pipe takes only in part keeps the rest and sends it first next
 * time, so a reader never sees half a line followed by another line.
 */
#include "base/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/log.h"
#include "vmm/seccomp.h"

#define TAG "metrics"
#define METRICS_NAME_MAX 64
#define METRICS_DEFAULT_INTERVAL_MS 60000
#define METRICS_INTERVAL_ENV "OSPREY_METRICS_INTERVAL_MS"

struct metrics_group {
	struct metrics_group *next;
	char name[METRICS_NAME_MAX];
	const struct metrics_field *fields;
	size_t nfields;
	const void *base;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_group *groups; /* in registration order */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t out_cond = PTHREAD_COND_INITIALIZER;
static struct {
	bool initialized;
	bool stopping;
	bool thread_started;
	bool is_fifo;
	bool fifo_warned;
	char *path;
	int fd;
	char *pending; /* the unsent tail of a line */
	size_t pending_len;
	unsigned interval_ms;
	pthread_t thread;
} out = { .fd = -1 };

static uint64_t lines_written, lines_dropped;

/* ---- registry ---- */

static bool name_taken(const char *name)
{
	for (struct metrics_group *g = groups; g; g = g->next)
		if (strcmp(g->name, name) == 0)
			return true;
	return false;
}

struct metrics_group *metrics_register(const char *name, const struct metrics_field *fields,
				       size_t nfields, const void *base)
{
	struct metrics_group *g, **tail;

	if (!name || !*name || (nfields && (!fields || !base))) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->fields = fields;
	g->nfields = nfields;
	g->base = base;
	pthread_mutex_lock(&reg_lock);
	/* Two disks named alike (same file name): "block_x", "block_x_2", ... */
	snprintf(g->name, sizeof(g->name), "%s", name);
	for (unsigned i = 2; name_taken(g->name) && i < 1000; i++)
		snprintf(g->name, sizeof(g->name), "%.*s_%u", METRICS_NAME_MAX - 8, name, i);
	for (tail = &groups; *tail; tail = &(*tail)->next)
		;
	*tail = g;
	pthread_mutex_unlock(&reg_lock);
	return g;
}

void metrics_unregister(struct metrics_group *g)
{
	struct metrics_group **p;

	if (!g)
		return;
	pthread_mutex_lock(&reg_lock);
	for (p = &groups; *p; p = &(*p)->next) {
		if (*p == g) {
			*p = g->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	free(g);
}

const char *metrics_group_name(const struct metrics_group *g)
{
	return g->name;
}

/* ---- rendering ---- */

static json_t *group_json(const struct metrics_group *g)
{
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	for (size_t i = 0; i < g->nfields; i++) {
		const uint64_t *p = (const uint64_t *)((const char *)g->base + g->fields[i].offset);
		uint64_t v = __atomic_load_n(p, __ATOMIC_RELAXED);

		/* JSON integers here are int64; counters never get that far. */
		if (v > (uint64_t)INT64_MAX)
			v = (uint64_t)INT64_MAX;
		if (json_object_set_new(obj, g->fields[i].name, json_integer((json_int_t)v))) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

static uint64_t utc_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *metrics_render(void)
{
	json_t *root = json_object();
	char *s = NULL;

	if (!root)
		return NULL;
	if (json_object_set_new(root, "utc_timestamp_ms", json_integer((json_int_t)utc_ms())))
		goto out;
	pthread_mutex_lock(&reg_lock);
	for (struct metrics_group *g = groups; g; g = g->next) {
		json_t *obj = group_json(g);

		if (!obj || json_object_set_new(root, g->name, obj)) {
			pthread_mutex_unlock(&reg_lock);
			goto out;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(root);
	return s;
}

/* ---- output (out_lock held) ---- */

/* Opens the output; a FIFO without a reader leaves fd -1 and returns 0. */
static int out_open(void)
{
	int fd;

	if (out.fd >= 0)
		return 0;
	if (out.is_fifo)
		fd = open(out.path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	else
		fd = open(out.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (out.is_fifo && errno == ENXIO)
			return 0; /* no reader yet */
		return -errno;
	}
	out.fd = fd;
	out.fifo_warned = false;
	return 0;
}

static void out_close(void)
{
	if (out.fd >= 0)
		close(out.fd);
	out.fd = -1;
	free(out.pending);
	out.pending = NULL;
	out.pending_len = 0;
}

/*
 * Writes buf as far as the output takes it. Returns the bytes written, or
 * -errno for a real error (EAGAIN is 0 bytes, not an error).
 */
static ssize_t out_write(const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write_nosigpipe(out.fd, buf + done, len - done);

		if (n < 0)
			return errno == EAGAIN ? (ssize_t)done : -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Sends what a short write left over. 0 when nothing is pending any more. */
static int out_drain_pending(void)
{
	ssize_t n;

	if (!out.pending_len)
		return 0;
	n = out_write(out.pending, out.pending_len);
	if (n < 0)
		return (int)n;
	memmove(out.pending, out.pending + n, out.pending_len - (size_t)n);
	out.pending_len -= (size_t)n;
	return out.pending_len ? -EAGAIN : 0;
}

static int out_write_line(const char *line)
{
	size_t len = strlen(line);
	ssize_t n;
	int ret;

	ret = out_open();
	if (ret)
		return ret;
	if (out.fd < 0)
		return -EPIPE; /* a FIFO nobody reads */
	ret = out_drain_pending();
	if (ret)
		return ret;
	n = out_write(line, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n < len) {
		out.pending = malloc(len - (size_t)n);
		if (!out.pending)
			return -ENOMEM; /* the reader sees a partial line; rare enough */
		memcpy(out.pending, line + n, len - (size_t)n);
		out.pending_len = len - (size_t)n;
	}
	return 0;
}

/* Renders one line (with its newline) and writes it; out_lock held. */
static int flush_locked(void)
{
	char *json, *line = NULL;
	int ret;

	json = metrics_render();
	if (!json || asprintf(&line, "%s\n", json) < 0) {
		free(json);
		return -ENOMEM;
	}
	free(json);
	ret = out_write_line(line);
	free(line);
	if (!ret) {
		lines_written++;
		return 0;
	}
	lines_dropped++;
	if (ret == -EPIPE || ret == -EAGAIN) {
		/* The reader went away (EPIPE from write) or is slow: not fatal. */
		if (ret == -EPIPE && out.fd >= 0)
			out_close();
		if (!out.fifo_warned)
			log_warnx(TAG, "%s: no reader, or the reader is behind; metrics dropped",
				  out.path);
		out.fifo_warned = true;
		return ret;
	}
	errno = -ret;
	log_warn(TAG, "%s: write", out.path);
	return ret;
}

int metrics_flush(void)
{
	int ret;

	pthread_mutex_lock(&out_lock);
	ret = out.initialized ? flush_locked() : -ENOENT;
	pthread_mutex_unlock(&out_lock);
	return ret;
}

/* ---- the periodic writer ---- */

static void *metrics_thread(void *arg)
{
	struct timespec deadline;

	(void)arg;
	pthread_setname_np(pthread_self(), "metrics");
	vmm_seccomp_enter(VMM_SECCOMP_METRICS, 0);
	pthread_mutex_lock(&out_lock);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	while (!out.stopping) {
		uint64_t ns = (uint64_t)deadline.tv_nsec + (uint64_t)out.interval_ms % 1000 * 1000000;

		deadline.tv_sec += (time_t)(out.interval_ms / 1000 + ns / 1000000000);
		deadline.tv_nsec = (long)(ns % 1000000000);
		while (!out.stopping &&
		       pthread_cond_timedwait(&out_cond, &out_lock, &deadline) != ETIMEDOUT)
			;
		if (!out.stopping)
			(void)flush_locked();
	}
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

static unsigned interval_from_env(void)
{
	const char *s = getenv(METRICS_INTERVAL_ENV);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return METRICS_DEFAULT_INTERVAL_MS;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > 24UL * 3600 * 1000)
		return METRICS_DEFAULT_INTERVAL_MS;
	return (unsigned)v;
}

void metrics_set_interval_ms(unsigned ms)
{
	pthread_mutex_lock(&out_lock);
	out.interval_ms = ms ? ms : METRICS_DEFAULT_INTERVAL_MS;
	pthread_mutex_unlock(&out_lock);
}

static int start_thread(void)
{
	pthread_condattr_t attr;
	int ret;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_destroy(&out_cond);
	pthread_cond_init(&out_cond, &attr);
	pthread_condattr_destroy(&attr);
	ret = -pthread_create(&out.thread, NULL, metrics_thread, NULL);
	if (!ret)
		out.thread_started = true;
	return ret;
}

int metrics_init(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	pthread_mutex_lock(&out_lock);
	if (out.initialized) {
		snprintf(err, errlen, "the metrics system is already initialized");
		ret = -EALREADY;
		goto out_unlock;
	}
	if (!path || !*path) {
		snprintf(err, errlen, "metrics_path is empty");
		ret = -EINVAL;
		goto out_unlock;
	}
	out.path = strdup(path);
	if (!out.path) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out_unlock;
	}
	out.is_fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
	ret = out_open();
	if (ret) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		goto fail;
	}
	if (!out.interval_ms)
		out.interval_ms = interval_from_env();
	out.stopping = false;
	ret = start_thread();
	if (ret) {
		snprintf(err, errlen, "cannot start the metrics thread: %s", strerror(-ret));
		goto fail;
	}
	out.initialized = true;
	pthread_mutex_unlock(&out_lock);
	log_info(TAG, "metrics to %s every %u ms%s", path, out.interval_ms,
		 out.is_fifo ? " (FIFO)" : "");
	return 0;
fail:
	out_close();
	free(out.path);
	out.path = NULL;
out_unlock:
	pthread_mutex_unlock(&out_lock);
	return ret;
}

void metrics_shutdown(void)
{
	pthread_mutex_lock(&out_lock);
	if (!out.initialized) {
		pthread_mutex_unlock(&out_lock);
		return;
	}
	out.stopping = true;
	pthread_cond_broadcast(&out_cond);
	pthread_mutex_unlock(&out_lock);
	if (out.thread_started)
		pthread_join(out.thread, NULL);
	pthread_mutex_lock(&out_lock);
	out.thread_started = false;
	(void)flush_locked();
	out_close();
	free(out.path);
	out.path = NULL;
	out.initialized = false;
	out.interval_ms = 0;
	pthread_mutex_unlock(&out_lock);
}

void metrics_writer_stats(uint64_t *written, uint64_t *dropped)
{
	pthread_mutex_lock(&out_lock);
	if (written)
		*written = lines_written;
	if (dropped)
		*dropped = lines_dropped;
	pthread_mutex_unlock(&out_lock);
}
