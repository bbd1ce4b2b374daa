// SPDX-License-Identifier: Apache-2.0
/* cli: `osprey run` argument parsing into struct vm_config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "base/util.h"
#include "cli/cli.h"
#include "devices/serial.h"

/*
 * cli/run.c pulls in vm.c, which walks the osprey_devices linker section;
 * linking one device object from the archive makes the linker define it.
 */
void (*volatile unit_keep_device)(struct serial *) = serial_init;

#define MAX_ARGS 32

static struct vm_config cfg;
static char err[256];
/* getopt permutes argv, so the strings live in writable storage. */
static char arg_store[MAX_ARGS][128];
static char *argv_store[MAX_ARGS + 1];

static int parse_v(const char *first, va_list ap)
{
	int argc = 0;

	strcpy(arg_store[argc], "run");
	argv_store[argc] = arg_store[argc];
	argc++;
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		assert_true(argc < MAX_ARGS);
		assert_true(strlen(a) < sizeof(arg_store[0]));
		strcpy(arg_store[argc], a);
		argv_store[argc] = arg_store[argc];
		argc++;
	}
	argv_store[argc] = NULL;
	err[0] = '\0';
	return cli_parse_run(argc, argv_store, &cfg, err, sizeof(err));
}

/* parse("--memory", "1G", NULL): runs the parser on `run ARGS`. */
static int parse(const char *first, ...)
{
	va_list ap;
	int ret;

	va_start(ap, first);
	ret = parse_v(first, ap);
	va_end(ap);
	return ret;
}

static void expect_error(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static int setup(void **state)
{
	(void)state;
	vm_config_init(&cfg);
	log_set_level(LOG_LEVEL_WARN);
	return 0;
}

static void test_no_arguments(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL), 0);
	assert_null(cfg.kernel_path);
	assert_int_equal(cfg.mem_size, (uint64_t)VM_DEFAULT_MEM_MIB << 20);
}

static void test_kernel(void **state)
{
	(void)state;
	assert_int_equal(parse("--kernel", "/k/vmlinux", NULL), 0);
	assert_string_equal(cfg.kernel_path, "/k/vmlinux");
	assert_int_equal(parse("-k", "/k/bzImage", NULL), 0);
	assert_string_equal(cfg.kernel_path, "/k/bzImage");
	assert_int_equal(parse("--kernel=/k/eq", NULL), 0);
	assert_string_equal(cfg.kernel_path, "/k/eq");
	assert_int_equal(parse("-k/k/joined", NULL), 0);
	assert_string_equal(cfg.kernel_path, "/k/joined");
}

static void test_initrd(void **state)
{
	(void)state;
	assert_int_equal(parse("--initrd", "/i.cpio", NULL), 0);
	assert_string_equal(cfg.initrd_path, "/i.cpio");
	assert_int_equal(parse("-i", "/j.cpio", NULL), 0);
	assert_string_equal(cfg.initrd_path, "/j.cpio");
}

static void test_cmdline(void **state)
{
	(void)state;
	assert_int_equal(parse("--cmdline", "quiet loglevel=3", NULL), 0);
	assert_string_equal(cfg.cmdline, "quiet loglevel=3");
	assert_false(cfg.no_default_cmdline);
	assert_int_equal(parse("-c", "init=/bin/sh", "--no-default-cmdline", NULL), 0);
	assert_string_equal(cfg.cmdline, "init=/bin/sh");
	assert_true(cfg.no_default_cmdline);
}

static void test_memory(void **state)
{
	(void)state;
	assert_int_equal(parse("--memory", "512", NULL), 0);
	assert_int_equal(cfg.mem_size, MiB(512)); /* default unit MiB */
	assert_int_equal(parse("-m", "2G", NULL), 0);
	assert_int_equal(cfg.mem_size, GiB(2));
	assert_int_equal(parse("--memory=65536K", NULL), 0);
	assert_int_equal(cfg.mem_size, MiB(64));
}

static void test_cpus(void **state)
{
	(void)state;
	assert_int_equal(parse("--cpus", "4", NULL), 0);
	assert_int_equal(cfg.ncpus, 4);
	assert_int_equal(parse("-n", "0x10", NULL), 0);
	assert_int_equal(cfg.ncpus, 16);
	/* Range checks belong to validation, not parsing. */
	assert_int_equal(parse("-n", "0", NULL), 0);
	assert_int_equal(cfg.ncpus, 0);
}

static void test_accel(void **state)
{
	(void)state;
	assert_int_equal(parse("--kernel", "/k", NULL), 0);
	assert_string_equal(cfg.accel, "auto");
	assert_int_equal(parse("--accel", "soft", NULL), 0);
	assert_string_equal(cfg.accel, "soft");
	assert_int_equal(parse("--accel", "kvm", NULL), 0);
	assert_string_equal(cfg.accel, "kvm");
}

static void test_cpu_template(void **state)
{
	(void)state;
	assert_int_equal(parse("--cpu-template", "emulated", NULL), 0);
	assert_string_equal(cfg.cpu_template, "emulated");
	/* Names are checked by vm_config_validate. */
	assert_int_equal(parse("--cpu-template", "whatever", NULL), 0);
	assert_string_equal(cfg.cpu_template, "whatever");
}

static void test_console(void **state)
{
	(void)state;
	assert_int_equal(parse("--console", "none", NULL), 0);
	assert_int_equal(cfg.console, CONSOLE_NONE);
	assert_int_equal(parse("--console", "file:/tmp/out.log", NULL), 0);
	assert_int_equal(cfg.console, CONSOLE_FILE);
	assert_string_equal(cfg.console_path, "/tmp/out.log");
	assert_int_equal(parse("--console", "stdio", NULL), 0);
	assert_int_equal(cfg.console, CONSOLE_STDIO);
	assert_int_equal(parse("--console", "file:", NULL), 0);
	assert_int_equal(cfg.console, CONSOLE_FILE);
	assert_string_equal(cfg.console_path, "");
}

static void test_on_reboot(void **state)
{
	(void)state;
	assert_int_equal(parse("--on-reboot", "restart", NULL), 0);
	assert_int_equal(cfg.on_reboot, REBOOT_RESTART);
	assert_int_equal(parse("--on-reboot", "exit", NULL), 0);
	assert_int_equal(cfg.on_reboot, REBOOT_EXIT);
}

static void test_log_level(void **state)
{
	(void)state;
	assert_int_equal(parse("--log-level", "debug", NULL), 0);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	assert_int_equal(parse("--log-level", "error", NULL), 0);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
	log_set_level(LOG_LEVEL_WARN);
}

static void test_help(void **state)
{
	int saved = dup(STDOUT_FILENO);

	(void)state;
	/* The usage text goes to stdout; keep it out of the TAP stream. */
	assert_true(saved >= 0);
	assert_non_null(freopen("/dev/null", "w", stdout));
	assert_int_equal(parse("--help", NULL), 1);
	assert_int_equal(parse("-k", "x", "-h", NULL), 1);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

static void test_all_flags(void **state)
{
	(void)state;
	assert_int_equal(parse("-k", "/vmlinux", "-i", "/initrd", "-c", "quiet", "-m", "1G", "-n",
			       "2", "--cpu-template", "host", "--console", "none", "--on-reboot",
			       "restart", "--no-default-cmdline", NULL),
			 0);
	assert_string_equal(cfg.kernel_path, "/vmlinux");
	assert_string_equal(cfg.initrd_path, "/initrd");
	assert_string_equal(cfg.cmdline, "quiet");
	assert_int_equal(cfg.mem_size, GiB(1));
	assert_int_equal(cfg.ncpus, 2);
	assert_string_equal(cfg.cpu_template, "host");
	assert_int_equal(cfg.console, CONSOLE_NONE);
	assert_int_equal(cfg.on_reboot, REBOOT_RESTART);
	assert_true(cfg.no_default_cmdline);
}

static void test_unknown_option(void **state)
{
	(void)state;
	assert_int_equal(parse("--bogus", NULL), -EINVAL);
	expect_error("unknown option '--bogus'");
	assert_int_equal(parse("-q", NULL), -EINVAL);
	expect_error("unknown option '-q'");
	assert_int_equal(parse("-k", "x", "--memroy", "1G", NULL), -EINVAL);
	expect_error("--memroy");
	assert_int_equal(parse("--help=yes", NULL), -EINVAL);
	expect_error("--help=yes");
}

static void test_unknown_option_in_cluster(void **state)
{
	(void)state;
	/* The unknown letter is named, not a neighbouring argument. */
	assert_int_equal(parse("-zk", "x", NULL), -EINVAL);
	expect_error("unknown option '-z'");
	assert_int_equal(parse("stray", "-zk", "x", NULL), -EINVAL);
	expect_error("unknown option '-z'");
}

static void test_missing_value(void **state)
{
	(void)state;
	assert_int_equal(parse("--kernel", NULL), -EINVAL);
	expect_error("'--kernel' needs a value");
	assert_int_equal(parse("-m", NULL), -EINVAL);
	expect_error("'-m' needs a value");
	assert_int_equal(parse("-k", "x", "--console", NULL), -EINVAL);
	expect_error("'--console' needs a value");
}

static void test_bad_memory(void **state)
{
	(void)state;
	assert_int_equal(parse("--memory", "lots", NULL), -EINVAL);
	expect_error("--memory 'lots'");
	assert_int_equal(parse("--memory", "1.5G", NULL), -EINVAL);
	expect_error("--memory");
	assert_int_equal(parse("--memory", "-1", NULL), -EINVAL);
	expect_error("--memory");
	assert_int_equal(parse("--memory", "99999999999T", NULL), -EINVAL);
	expect_error("too large");
	assert_int_equal(parse("--memory", "", NULL), -EINVAL);
	expect_error("--memory");
}

static void test_bad_cpus(void **state)
{
	(void)state;
	assert_int_equal(parse("--cpus", "two", NULL), -EINVAL);
	expect_error("--cpus 'two'");
	assert_int_equal(parse("--cpus", "-1", NULL), -EINVAL);
	expect_error("--cpus");
	assert_int_equal(parse("--cpus", "4294967296", NULL), -EINVAL);
	expect_error("--cpus");
	assert_int_equal(parse("--cpus", "2x", NULL), -EINVAL);
	expect_error("--cpus");
}

static void test_bad_console(void **state)
{
	(void)state;
	assert_int_equal(parse("--console", "serial", NULL), -EINVAL);
	expect_error("--console 'serial'");
	assert_int_equal(parse("--console", "File:/x", NULL), -EINVAL);
	expect_error("--console");
}

static void test_bad_on_reboot(void **state)
{
	(void)state;
	assert_int_equal(parse("--on-reboot", "halt", NULL), -EINVAL);
	expect_error("--on-reboot 'halt'");
}

static void test_bad_log_level(void **state)
{
	(void)state;
	assert_int_equal(parse("--log-level", "loud", NULL), -EINVAL);
	expect_error("--log-level 'loud'");
	assert_int_equal(log_get_level(), LOG_LEVEL_WARN);
}

static void test_stray_argument(void **state)
{
	(void)state;
	assert_int_equal(parse("-k", "x", "vmlinux", NULL), -EINVAL);
	expect_error("unexpected argument 'vmlinux'");
	assert_int_equal(parse("extra", "-k", "x", NULL), -EINVAL);
	expect_error("'extra'");
}

static void test_reusable(void **state)
{
	(void)state;
	/* A failed parse leaves getopt mid-argument; the next one starts over. */
	assert_int_equal(parse("-zk", "x", NULL), -EINVAL);
	assert_int_equal(parse("-m", "64", NULL), 0);
	assert_int_equal(cfg.mem_size, MiB(64));
	assert_int_equal(parse("-m", "128", NULL), 0);
	assert_int_equal(cfg.mem_size, MiB(128));
}

static void test_rng_rate_limit(void **state)
{
	(void)state;
	assert_int_equal(parse("--rng", "--kernel", "k", NULL), 0);
	assert_true(cfg.rng);
	assert_false(rate_limiter_config_active(&cfg.rng_rate_limit));
	assert_string_equal(cfg.kernel_path, "k");

	vm_config_init(&cfg);
	assert_int_equal(parse("--rng", "bw=64K/1000", "--kernel", "k", NULL), 0);
	assert_true(cfg.rng);
	assert_int_equal(cfg.rng_rate_limit.bandwidth.size, 65536);
	assert_int_equal(cfg.rng_rate_limit.bandwidth.refill_time_ms, 1000);

	vm_config_init(&cfg);
	assert_int_equal(parse("--kernel", "k", "--rng=ops=10/100+5", NULL), 0);
	assert_true(cfg.rng);
	assert_int_equal(cfg.rng_rate_limit.ops.size, 10);
	assert_int_equal(cfg.rng_rate_limit.ops.one_time_burst, 5);

	vm_config_init(&cfg);
	assert_int_equal(parse("--kernel", "k", "--rng", "bw=1/0", NULL), -EINVAL);
	expect_error("--rng: bw '1/0'");

	/* a following argument that is not a rate stays an argument */
	vm_config_init(&cfg);
	assert_int_equal(parse("--kernel", "k", "--rng", "stray", NULL), -EINVAL);
	expect_error("unexpected argument 'stray'");
}

static void test_disk_net_rate_limits(void **state)
{
	(void)state;
	assert_int_equal(parse("--kernel", "k", "--disk", "/d.img,bw=1M/100,ops=10/100", "--net",
			       "tap=t0,rx-bw=1M/10,tx-ops=5/1", NULL),
			 0);
	assert_int_equal(cfg.disks[0].rate_limit.bandwidth.size, 1 << 20);
	assert_int_equal(cfg.disks[0].rate_limit.ops.size, 10);
	assert_int_equal(cfg.nets[0].rx_rate_limit.bandwidth.refill_time_ms, 10);
	assert_int_equal(cfg.nets[0].tx_rate_limit.ops.size, 5);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)
	const struct CMUnitTest tests[] = {
		T(test_no_arguments),
		T(test_kernel),
		T(test_initrd),
		T(test_cmdline),
		T(test_memory),
		T(test_cpus),
		T(test_cpu_template),
		T(test_accel),
		T(test_console),
		T(test_on_reboot),
		T(test_log_level),
		T(test_help),
		T(test_all_flags),
		T(test_unknown_option),
		T(test_unknown_option_in_cluster),
		T(test_missing_value),
		T(test_bad_memory),
		T(test_bad_cpus),
		T(test_bad_console),
		T(test_bad_on_reboot),
		T(test_bad_log_level),
		T(test_stray_argument),
		T(test_reusable),
		T(test_rng_rate_limit),
		T(test_disk_net_rate_limits),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
