// SPDX-License-Identifier: Apache-2.0
/*
 * base/metrics: registration, the JSON line (parsed back with jansson),
 * unregistering, flushing to a file, to a FIFO with and without a reader
 * (and a reader that goes away), the periodic writer, the api_server group.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/metrics.h"
#include "hw/vmm_metrics.h"


struct dev_metrics {
	uint64_t reads, writes, bytes;
};

static const struct metrics_field dev_fields[] = {
	METRICS_FIELD(struct dev_metrics, reads),
	METRICS_FIELD(struct dev_metrics, writes),
	METRICS_FIELD(struct dev_metrics, bytes),
};

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/osprey-metrics-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	metrics_set_interval_ms(3600 * 1000); /* no periodic lines unless a test wants them */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	metrics_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static json_t *render_json(void)
{
	char *s = metrics_render();
	json_error_t jerr;
	json_t *j;

	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	j = json_loads(s, 0, &jerr);
	free(s);
	assert_non_null(j);
	assert_true(json_is_object(j));
	return j;
}

static long long field(json_t *root, const char *group, const char *name)
{
	json_t *g = json_object_get(root, group);
	json_t *v;

	assert_non_null(g);
	v = json_object_get(g, name);
	assert_non_null(v);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void test_register_render(void **state)
{
	struct dev_metrics m = { 0 };
	struct metrics_group *g;
	json_t *root;
	const char *first;
	struct timespec ts;
	long long stamp;

	(void)state;
	g = metrics_register("block_rootfs", dev_fields, 3, &m);
	assert_non_null(g);
	assert_string_equal(metrics_group_name(g), "block_rootfs");
	metrics_inc(&m.reads);
	metrics_inc(&m.reads);
	metrics_add(&m.bytes, 4096);
	metrics_set(&m.writes, 7);

	root = render_json();
	assert_int_equal(field(root, "block_rootfs", "reads"), 2);
	assert_int_equal(field(root, "block_rootfs", "writes"), 7);
	assert_int_equal(field(root, "block_rootfs", "bytes"), 4096);
	assert_int_equal(json_object_size(json_object_get(root, "block_rootfs")), 3);
	/* the timestamp comes first and is the wall clock in ms */
	first = json_object_iter_key(json_object_iter(root));
	assert_string_equal(first, "utc_timestamp_ms");
	clock_gettime(CLOCK_REALTIME, &ts);
	stamp = json_integer_value(json_object_get(root, "utc_timestamp_ms"));
	assert_true(stamp <= (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	assert_true(stamp > ((long long)ts.tv_sec - 5) * 1000);
	json_decref(root);
	metrics_unregister(g);
}

static void test_unregister(void **state)
{
	struct dev_metrics a = { .reads = 1 }, b = { .reads = 2 };
	struct metrics_group *ga, *gb;
	json_t *root;

	(void)state;
	ga = metrics_register("net_eth0", dev_fields, 3, &a);
	gb = metrics_register("net_eth1", dev_fields, 3, &b);
	assert_non_null(ga);
	assert_non_null(gb);
	root = render_json();
	assert_int_equal(field(root, "net_eth0", "reads"), 1);
	assert_int_equal(field(root, "net_eth1", "reads"), 2);
	json_decref(root);

	metrics_unregister(ga);
	root = render_json();
	assert_null(json_object_get(root, "net_eth0"));
	assert_int_equal(field(root, "net_eth1", "reads"), 2);
	json_decref(root);
	metrics_unregister(gb);
	root = render_json();
	assert_null(json_object_get(root, "net_eth1"));
	json_decref(root);
	metrics_unregister(NULL); /* harmless */
}

static void test_duplicate_names(void **state)
{
	struct dev_metrics a = { .reads = 1 }, b = { .reads = 2 };
	struct metrics_group *ga, *gb;
	json_t *root;

	(void)state;
	ga = metrics_register("block_disk.img", dev_fields, 3, &a);
	gb = metrics_register("block_disk.img", dev_fields, 3, &b);
	assert_string_equal(metrics_group_name(gb), "block_disk.img_2");
	root = render_json();
	assert_int_equal(field(root, "block_disk.img", "reads"), 1);
	assert_int_equal(field(root, "block_disk.img_2", "reads"), 2);
	json_decref(root);
	metrics_unregister(ga);
	metrics_unregister(gb);
}

static void test_register_invalid(void **state)
{
	struct dev_metrics a = { 0 };

	(void)state;
	assert_null(metrics_register("", dev_fields, 3, &a));
	assert_null(metrics_register(NULL, dev_fields, 3, &a));
	assert_null(metrics_register("x", dev_fields, 3, NULL));
}

static void test_huge_counter(void **state)
{
	struct dev_metrics a = { .reads = UINT64_MAX, .bytes = (uint64_t)INT64_MAX };
	struct metrics_group *g = metrics_register("big", dev_fields, 3, &a);
	json_t *root;

	(void)state;
	root = render_json();
	assert_true(field(root, "big", "reads") == INT64_MAX); /* clamped, not negative */
	assert_true(field(root, "big", "bytes") == INT64_MAX);
	json_decref(root);
	metrics_unregister(g);
}

static void test_api_server_group(void **state)
{
	uint64_t before = metrics_api_server.requests;
	json_t *root;

	(void)state;
	metrics_api_request(120, 204);
	metrics_api_request(80, 400);
	metrics_api_request(1500, 500);
	root = render_json();
	assert_int_equal(field(root, "api_server", "requests"), (long long)before + 3);
	assert_true(field(root, "api_server", "latency_us_max") >= 1500);
	assert_true(field(root, "api_server", "latency_us_sum") >= 1700);
	assert_true(field(root, "api_server", "status_2xx") >= 1);
	assert_true(field(root, "api_server", "status_4xx") >= 1);
	assert_true(field(root, "api_server", "status_5xx") >= 1);
	json_decref(root);
}

static void test_vcpu_and_vmm_groups(void **state)
{
	json_t *root;
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	(void)state;
	vmm_metrics_exit(VCPU_EXIT_IO, 1);
	vmm_metrics_exit(VCPU_EXIT_IO, 1);
	vmm_metrics_exit(VCPU_EXIT_IO, 0);
	vmm_metrics_exit(VCPU_EXIT_MMIO, 0);
	vmm_metrics_exit(VCPU_EXIT_MMIO, 1);
	vmm_metrics_exit(VCPU_EXIT_HLT, 0);
	vmm_metrics_exit(VCPU_EXIT_SHUTDOWN, 0);
	vmm_metrics_exit(VCPU_EXIT_INTERNAL_ERROR, 0);
	vmm_metrics_exit(1000, 0);
	vmm_metrics_boot_marker(); /* before any start: counted, not timed */
	vmm_metrics_instance_start();
	nanosleep(&ts, NULL);
	vmm_metrics_boot_marker();
	vmm_metrics_boot_marker(); /* a later marker of the same boot */
	root = render_json();
	assert_int_equal(field(root, "vcpu", "io_out"), 2);
	assert_int_equal(field(root, "vcpu", "io_in"), 1);
	assert_int_equal(field(root, "vcpu", "mmio_read"), 1);
	assert_int_equal(field(root, "vcpu", "mmio_write"), 1);
	assert_int_equal(field(root, "vcpu", "hlt"), 1);
	assert_int_equal(field(root, "vcpu", "shutdown"), 1);
	assert_int_equal(field(root, "vcpu", "internal_error"), 1);
	assert_int_equal(field(root, "vcpu", "other"), 1);
	assert_int_equal(field(root, "vmm", "boot_markers"), 3);
	assert_true(field(root, "vmm", "boot_since_start_us") >= 2000);
	assert_int_equal(field(root, "vmm", "boot_marker_us") -
				 field(root, "vmm", "instance_start_us"),
			 field(root, "vmm", "boot_since_start_us"));
	json_decref(root);
}

/* Every line of a file, parsed; returns the number of lines. */
static unsigned read_lines(const char *path, json_t **lines, unsigned max)
{
	FILE *f = fopen(path, "r");
	char buf[8192];
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		json_error_t jerr;

		assert_non_null(strchr(buf, '\n'));
		if (n < max) {
			lines[n] = json_loads(buf, 0, &jerr);
			assert_non_null(lines[n]);
		}
		n++;
	}
	fclose(f);
	return n;
}

static void test_flush_to_file(void **state)
{
	struct dev_metrics m = { 0 };
	struct metrics_group *g = metrics_register("vsock", dev_fields, 3, &m);
	char path[128], err[128] = "";
	json_t *lines[4];
	unsigned n;

	(void)state;
	assert_int_equal(metrics_flush(), -ENOENT); /* before PUT /metrics */
	snprintf(path, sizeof(path), "%s/metrics.json", tmpdir);
	assert_int_equal(metrics_init(path, err, sizeof(err)), 0);
	assert_int_equal(metrics_init(path, err, sizeof(err)), -EALREADY);
	assert_true(strlen(err) > 0);
	metrics_inc(&m.reads);
	assert_int_equal(metrics_flush(), 0);
	metrics_add(&m.reads, 4);
	assert_int_equal(metrics_flush(), 0);
	metrics_inc(&m.reads);
	metrics_shutdown(); /* writes a last line */
	n = read_lines(path, lines, 4);
	assert_int_equal(n, 3);
	assert_int_equal(field(lines[0], "vsock", "reads"), 1);
	assert_int_equal(field(lines[1], "vsock", "reads"), 5);
	assert_int_equal(field(lines[2], "vsock", "reads"), 6);
	for (unsigned i = 0; i < n; i++)
		json_decref(lines[i]);
	assert_int_equal(metrics_flush(), -ENOENT);
	metrics_unregister(g);
}

static void test_init_errors(void **state)
{
	char err[128] = "";

	(void)state;
	assert_int_equal(metrics_init("", err, sizeof(err)), -EINVAL);
	assert_int_equal(metrics_init("/nonexistent-dir/x/metrics", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/x/metrics"));
	assert_int_equal(metrics_flush(), -ENOENT);
}

static void test_fifo_without_reader(void **state)
{
	char path[128], err[128] = "";
	uint64_t w0, d0, w1, d1;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	metrics_writer_stats(&w0, &d0);
	/* No reader: not fatal, lines are dropped. */
	assert_int_equal(metrics_init(path, err, sizeof(err)), 0);
	assert_int_equal(metrics_flush(), -EPIPE);
	assert_int_equal(metrics_flush(), -EPIPE);
	metrics_writer_stats(&w1, &d1);
	assert_int_equal(w1, w0);
	assert_int_equal(d1, d0 + 2);
	metrics_shutdown();
}

static void test_fifo_with_reader(void **state)
{
	char path[128], err[128] = "", buf[65536];
	int rfd;
	ssize_t n;
	json_error_t jerr;
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(metrics_init(path, err, sizeof(err)), 0);
	assert_int_equal(metrics_flush(), 0);
	n = read(rfd, buf, sizeof(buf) - 1);
	assert_true(n > 2);
	buf[n] = '\0';
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1); /* one line */
	j = json_loads(buf, 0, &jerr);
	assert_non_null(j);
	assert_non_null(json_object_get(j, "utc_timestamp_ms"));
	json_decref(j);

	/* The reader goes away: EPIPE (and SIGPIPE) must not kill us. */
	close(rfd);
	assert_int_equal(metrics_flush(), -EPIPE);
	assert_int_equal(metrics_flush(), -EPIPE); /* reopen fails: no reader */

	/* A new reader: lines flow again. */
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(metrics_flush(), 0);
	n = read(rfd, buf, sizeof(buf) - 1);
	assert_true(n > 2);
	assert_int_equal(buf[n - 1], '\n');
	metrics_shutdown();
	close(rfd);
}

/* A reader that does not read: the pipe fills, then lines are dropped whole. */
static void test_fifo_slow_reader(void **state)
{
	struct dev_metrics m[64];
	struct metrics_group *g[64];
	char path[128], err[128] = "", name[32], buf[4096];
	int rfd, ret = 0;
	unsigned ok = 0, i;
	size_t total = 0, line_len;
	char *line;
	ssize_t n;

	(void)state;
	memset(m, 0, sizeof(m));
	/* Make lines long (several KiB) so short writes happen. */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "group_with_a_long_name_%u", i);
		g[i] = metrics_register(name, dev_fields, 3, &m[i]);
	}
	line = metrics_render();
	line_len = strlen(line) + 1;
	free(line);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_int_equal(metrics_init(path, err, sizeof(err)), 0);
	for (i = 0; i < 1000 && ret == 0; i++) {
		ret = metrics_flush();
		if (!ret)
			ok++;
	}
	assert_int_equal(ret, -EAGAIN);
	assert_true(ok >= 1);
	/* Drain: everything read is whole lines (the tail of a short write follows). */
	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	assert_int_equal(metrics_flush(), 0); /* finishes the pending tail, then a line */
	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	assert_int_equal(total % line_len, 0);
	metrics_shutdown();
	close(rfd);
	for (i = 0; i < 64; i++)
		metrics_unregister(g[i]);
}

static void test_periodic_writer(void **state)
{
	char path[128], err[128] = "";
	json_t *lines[64];
	unsigned n;
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	(void)state;
	snprintf(path, sizeof(path), "%s/periodic.json", tmpdir);
	metrics_set_interval_ms(40);
	assert_int_equal(metrics_init(path, err, sizeof(err)), 0);
	nanosleep(&ts, NULL);
	metrics_shutdown();
	n = read_lines(path, lines, 64);
	assert_true(n >= 3); /* ~7 periodic lines and the last one */
	for (unsigned i = 0; i < n && i < 64; i++)
		json_decref(lines[i]);
	metrics_set_interval_ms(3600 * 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_server_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vcpu_and_vmm_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_to_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_without_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_with_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_slow_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_writer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
