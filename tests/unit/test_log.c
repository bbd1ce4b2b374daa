// SPDX-License-Identifier: Apache-2.0
/*
 * base/log + base/log_sink: level names, the default stderr format, and
 * log_configure(): a file, a FIFO without a reader, levels (Trace, Off),
 * show_level, show_log_origin, the module filter, invalid settings that
 * change nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

static char dir[64], path[128], err[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/osprey-log-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/log", dir);
	log_sink_reset();
	log_set_level(LOG_LEVEL_WARN);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	log_sink_reset();
	log_set_level(LOG_LEVEL_WARN);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The whole file (static buffer). */
static const char *slurp(const char *p)
{
	static char buf[8192];
	FILE *f = fopen(p, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_parse_levels(void **state)
{
	static const struct {
		const char *s;
		enum log_level l;
	} ok[] = {
		{ "Error", LOG_LEVEL_ERROR }, { "Warning", LOG_LEVEL_WARN }, { "warn", LOG_LEVEL_WARN },
		{ "Info", LOG_LEVEL_INFO },   { "DEBUG", LOG_LEVEL_DEBUG },  { "Trace", LOG_LEVEL_TRACE },
		{ "Off", LOG_LEVEL_OFF },
	};
	enum log_level l;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(log_parse_level(ok[i].s, &l), 0);
		assert_int_equal(l, ok[i].l);
	}
	assert_int_equal(log_parse_level("verbose", &l), -EINVAL);
	assert_int_equal(log_parse_level("", &l), -EINVAL);
	assert_string_equal(log_level_name(LOG_LEVEL_TRACE), "trace");
	assert_string_equal(log_level_name(LOG_LEVEL_OFF), "off");
}

/* The default: stderr, "osprey: LEVEL: TAG: message" (as before PUT /logger). */
static void test_default_format(void **state)
{
	int saved = dup(STDERR_FILENO), fd;

	(void)state;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	log_warnx("virtio-blk", "disk %s: %d", "x.img", 7);
	errno = ENOENT;
	log_err("kvm", "cannot open");
	assert_int_equal(errno, ENOENT); /* preserved */
	log_info("vm", "not shown at warn");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_string_equal(slurp(path), "osprey: warn: virtio-blk: disk x.img: 7\n"
					 "osprey: error: kvm: cannot open: No such file or directory\n");
}

static void test_file_with_level_and_origin(void **state)
{
	const char *s;
	char want[128];
	int line;

	(void)state;
	assert_int_equal(log_configure(path, "Info", true, true, NULL, err, sizeof(err)), 0);
	assert_int_equal(log_get_level(), LOG_LEVEL_INFO);
	line = __LINE__ + 1;
	log_info("api", "request %d", 1);
	log_debug("api", "hidden");
	s = slurp(path);
	snprintf(want, sizeof(want), "osprey: info: tests/unit/test_log.c:%d: api: request 1\n", line);
	assert_string_equal(s, want);

	/* without level and origin; appended */
	assert_int_equal(log_configure(NULL, NULL, false, false, NULL, err, sizeof(err)), 0);
	log_warnx("vm", "plain");
	s = slurp(path);
	assert_non_null(strstr(s, "\nosprey: vm: plain\n"));
	assert_int_equal(count_lines(s), 2);
}

static void test_trace_and_off(void **state)
{
	const char *s;

	(void)state;
	assert_int_equal(log_configure(path, "Trace", true, false, NULL, err, sizeof(err)), 0);
	log_debug("a", "debug line");
	log_trace("a", "trace line");
	s = slurp(path);
	assert_non_null(strstr(s, "osprey: debug: a: debug line\n"));
	assert_non_null(strstr(s, "osprey: trace: a: trace line\n"));
	assert_int_equal(log_configure(NULL, "Off", true, false, NULL, err, sizeof(err)), 0);
	log_errx("a", "not even errors");
	assert_int_equal(count_lines(slurp(path)), 2);
	assert_int_equal(log_configure(NULL, "error", true, false, NULL, err, sizeof(err)), 0);
	log_errx("a", "errors again");
	log_warnx("a", "no warnings");
	assert_int_equal(count_lines(slurp(path)), 3);
}

static void test_module_filter(void **state)
{
	const char *s;

	(void)state;
	assert_int_equal(log_configure(path, "debug", true, false, "virtio", err, sizeof(err)), 0);
	log_info("virtio-blk", "by tag");
	log_info("api", "filtered");
	log_errx("api", "errors pass");
	/* the origin path below src/ matches too */
	log_msg_at(LOG_LEVEL_INFO, 0, "blk", "src/virtio/blk.c", 10, "by file");
	log_msg_at(LOG_LEVEL_INFO, 0, "vm", "src/vmm/vm.c", 10, "other file");
	s = slurp(path);
	assert_non_null(strstr(s, "virtio-blk: by tag"));
	assert_null(strstr(s, "filtered"));
	assert_non_null(strstr(s, "api: errors pass"));
	assert_non_null(strstr(s, "blk: by file"));
	assert_null(strstr(s, "other file"));
	/* "" lifts the filter */
	assert_int_equal(log_configure(NULL, NULL, true, false, "", err, sizeof(err)), 0);
	log_info("api", "now shown");
	assert_non_null(strstr(slurp(path), "api: now shown"));
}

static void test_invalid_changes_nothing(void **state)
{
	char longmod[100];

	(void)state;
	assert_int_equal(log_configure(path, "Info", true, false, NULL, err, sizeof(err)), 0);
	assert_int_equal(log_configure("/nonexistent/dir/log", "Debug", false, true, NULL, err,
				       sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir/log"));
	assert_int_equal(log_configure(NULL, "Loud", false, true, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Loud"));
	memset(longmod, 'm', sizeof(longmod) - 1);
	longmod[sizeof(longmod) - 1] = '\0';
	assert_int_equal(log_configure(NULL, NULL, false, true, longmod, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(log_configure("", NULL, false, true, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(log_get_level(), LOG_LEVEL_INFO);
	log_info("x", "still here");
	assert_string_equal(slurp(path), "osprey: info: x: still here\n");
}

/* A FIFO needs no reader; what the pipe holds waits for one. */
static void test_fifo_without_reader(void **state)
{
	char fifo[160], buf[512];
	int rfd;
	ssize_t n;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(log_configure(fifo, "Info", true, false, NULL, err, sizeof(err)), 0);
	log_info("api", "before a reader");
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	log_info("api", "with a reader");
	n = read(rfd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "osprey: info: api: before a reader\n"
				 "osprey: info: api: with a reader\n");
	close(rfd);
	/* reader gone: no SIGPIPE, lines go into the pipe buffer or are dropped */
	for (int i = 0; i < 2000; i++)
		log_info("api", "line %d padding padding padding padding padding padding", i);
	assert_true(log_sink_dropped() > 0);
	log_sink_reset();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_parse_levels),
		T(test_default_format),
		T(test_file_with_level_and_origin),
		T(test_trace_and_off),
		T(test_module_filter),
		T(test_invalid_changes_nothing),
		T(test_fifo_without_reader),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
