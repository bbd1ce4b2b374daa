// SPDX-License-Identifier: Apache-2.0
/*
 * vmm/config: defaults, vm_config_validate, and the rate-limit syntax of
 * --disk, --net and --rng (N/MS[+BURST]).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/mptable.h"
#include "base/util.h"
#include "vmm/config.h"

#define HOST_RAM GiB(8)

static struct vm_config cfg;
static char err[256];

static int setup(void **state)
{
	(void)state;
	vm_config_init(&cfg);
	cfg.kernel_path = "/boot/vmlinux";
	memset(err, 0, sizeof(err));
	return 0;
}

/* Expects -EINVAL and a message containing `needle`. */
static void expect_invalid(const char *needle)
{
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_defaults(void **state)
{
	struct vm_config c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	vm_config_init(&c);
	assert_int_equal(c.mem_size, (uint64_t)VM_DEFAULT_MEM_MIB << 20);
	assert_int_equal(c.ncpus, 1);
	assert_string_equal(c.cpu_template, "auto");
	assert_int_equal(c.console, CONSOLE_STDIO);
	assert_int_equal(c.on_reboot, REBOOT_EXIT);
	assert_null(c.kernel_path);
	assert_null(c.initrd_path);
	assert_null(c.cmdline);
	assert_false(c.no_default_cmdline);
}

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, err, sizeof(err)), 0);
	cfg.mem_size = VM_MIN_MEM;
	cfg.ncpus = MPTABLE_MAX_CPUS;
	cfg.cpu_template = "emulated";
	cfg.console = CONSOLE_FILE;
	cfg.console_path = "/tmp/console.log";
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, err, sizeof(err)), 0);
	cfg.cpu_template = "host";
	cfg.mem_size = HOST_RAM;
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, err, sizeof(err)), 0);
	/* host_ram 0 skips the host check. */
	cfg.mem_size = GiB(1024);
	assert_int_equal(vm_config_validate(&cfg, 0, err, sizeof(err)), 0);
}

static void test_no_kernel(void **state)
{
	(void)state;
	cfg.kernel_path = NULL;
	expect_invalid("--kernel");
	cfg.kernel_path = "";
	expect_invalid("--kernel");
}

static void test_memory_zero(void **state)
{
	(void)state;
	cfg.mem_size = 0;
	expect_invalid("--memory");
}

static void test_memory_below_minimum(void **state)
{
	(void)state;
	cfg.mem_size = VM_MIN_MEM - 4096;
	expect_invalid("--memory");
	assert_non_null(strstr(err, "minimum"));
	cfg.mem_size = 1;
	expect_invalid("--memory");
}

static void test_memory_not_page_multiple(void **state)
{
	(void)state;
	cfg.mem_size = MiB(64) + 512;
	expect_invalid("--memory");
	assert_non_null(strstr(err, "4 KiB"));
}

static void test_memory_above_host(void **state)
{
	(void)state;
	cfg.mem_size = HOST_RAM + 4096;
	expect_invalid("--memory");
	assert_non_null(strstr(err, "host"));
}

static void test_cpus_zero(void **state)
{
	(void)state;
	cfg.ncpus = 0;
	expect_invalid("--cpus");
}

static void test_cpus_too_many(void **state)
{
	(void)state;
	cfg.ncpus = MPTABLE_MAX_CPUS + 1;
	expect_invalid("--cpus");
	cfg.ncpus = 0xffffffffu;
	expect_invalid("--cpus");
}

static void test_unknown_template(void **state)
{
	(void)state;
	cfg.cpu_template = "pentium";
	expect_invalid("--cpu-template");
	assert_non_null(strstr(err, "pentium"));
	cfg.cpu_template = "";
	expect_invalid("--cpu-template");
}

static void test_console_file_without_path(void **state)
{
	(void)state;
	cfg.console = CONSOLE_FILE;
	cfg.console_path = NULL;
	expect_invalid("--console");
	cfg.console_path = "";
	expect_invalid("--console");
	/* A path without file mode is not checked. */
	cfg.console = CONSOLE_NONE;
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, err, sizeof(err)), 0);
}

static void test_cmdline_too_long(void **state)
{
	char *line = malloc(VM_CMDLINE_MAX + 1);

	(void)state;
	assert_non_null(line);
	memset(line, 'a', VM_CMDLINE_MAX);
	line[VM_CMDLINE_MAX - 1] = '\0'; /* the longest accepted */
	cfg.cmdline = line;
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, err, sizeof(err)), 0);
	line[VM_CMDLINE_MAX - 1] = 'a';
	line[VM_CMDLINE_MAX] = '\0';
	expect_invalid("--cmdline");
	free(line);
}

static void test_small_error_buffer(void **state)
{
	char tiny[8];

	(void)state;
	cfg.ncpus = 0;
	memset(tiny, 'z', sizeof(tiny));
	assert_int_equal(vm_config_validate(&cfg, HOST_RAM, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(tiny[sizeof(tiny) - 1], '\0');
}

/* ---- rate limits on the command line ---- */

static void expect_bucket(const struct rate_bucket_config *b, uint64_t size, uint64_t ms,
			  uint64_t burst)
{
	assert_int_equal(b->size, size);
	assert_int_equal(b->refill_time_ms, ms);
	assert_int_equal(b->one_time_burst, burst);
}

static void test_parse_bucket(void **state)
{
	struct rate_bucket_config b;

	(void)state;
	assert_int_equal(vm_config_parse_bucket("1000/100", false, &b, "x", err, sizeof(err)), 0);
	expect_bucket(&b, 1000, 100, 0);
	assert_int_equal(vm_config_parse_bucket("10M/1000+4M", true, &b, "x", err, sizeof(err)), 0);
	expect_bucket(&b, 10ULL << 20, 1000, 4ULL << 20);
	assert_int_equal(vm_config_parse_bucket("4096/1+0", true, &b, "x", err, sizeof(err)), 0);
	expect_bucket(&b, 4096, 1, 0);
	assert_int_equal(vm_config_parse_bucket("64K/0x10", true, &b, "x", err, sizeof(err)), 0);
	expect_bucket(&b, 65536, 16, 0);
	assert_int_equal(vm_config_parse_bucket("18446744073709551615/18446744073709551615+18446744073709551615",
						false, &b, "x", err, sizeof(err)),
			 0);
	expect_bucket(&b, UINT64_MAX, UINT64_MAX, UINT64_MAX);
}

static void test_parse_bucket_errors(void **state)
{
	static const char *const bad[] = {
		"",	  "1000",   "/100",	 "1000/",    "0/100",	  "100/0",  "1000/100+",
		"x/100",  "100/x",  "100/100+x", "1K/100",   "-1/100",	  "1/2/3",  "1000/100+5+6",
		"18446744073709551616/1",
	};
	struct rate_bucket_config b;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vm_config_parse_bucket(bad[i], false, &b, "--disk: ops", err, sizeof(err)) !=
		    -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(strstr(err, "--disk: ops"));
		assert_non_null(strstr(err, "OPS/MS[+BURST]"));
	}
	/* sizes with units are for bytes only */
	assert_int_equal(vm_config_parse_bucket("1K/100", true, &b, "bw", err, sizeof(err)), 0);
	assert_int_equal(vm_config_parse_bucket("1Q/100", true, &b, "bw", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "BYTES/MS[+BURST]"));
}

static void test_parse_disk_rate_limit(void **state)
{
	struct vm_disk_config d;
	char spec[128];

	(void)state;
	snprintf(spec, sizeof(spec), "/img/root.ext4,ro,bw=10M/1000+2M,ops=500/1000,id=root");
	assert_int_equal(vm_config_parse_disk(spec, &d, err, sizeof(err)), 0);
	assert_string_equal(d.path, "/img/root.ext4");
	assert_true(d.read_only);
	assert_string_equal(d.id, "root");
	expect_bucket(&d.rate_limit.bandwidth, 10ULL << 20, 1000, 2ULL << 20);
	expect_bucket(&d.rate_limit.ops, 500, 1000, 0);
	assert_true(rate_limiter_config_active(&d.rate_limit));

	snprintf(spec, sizeof(spec), "/img/a");
	assert_int_equal(vm_config_parse_disk(spec, &d, err, sizeof(err)), 0);
	assert_false(rate_limiter_config_active(&d.rate_limit));

	snprintf(spec, sizeof(spec), "/img/a,bw=10M");
	assert_int_equal(vm_config_parse_disk(spec, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--disk: bw '10M'"));
	snprintf(spec, sizeof(spec), "/img/a,ops=1/0");
	assert_int_equal(vm_config_parse_disk(spec, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--disk: ops"));
	snprintf(spec, sizeof(spec), "/img/a,rx-bw=1/1");
	assert_int_equal(vm_config_parse_disk(spec, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'rx-bw=1/1'"));
}

static void test_parse_net_rate_limit(void **state)
{
	struct vm_net_config n;
	char spec[160];

	(void)state;
	snprintf(spec, sizeof(spec),
		 "tap=tap0,rx-bw=1M/100,tx-bw=2M/100+1M,rx-ops=100/10,tx-ops=200/10,id=eth0");
	assert_int_equal(vm_config_parse_net(spec, &n, err, sizeof(err)), 0);
	assert_string_equal(n.tap, "tap0");
	assert_string_equal(n.id, "eth0");
	expect_bucket(&n.rx_rate_limit.bandwidth, 1ULL << 20, 100, 0);
	expect_bucket(&n.tx_rate_limit.bandwidth, 2ULL << 20, 100, 1ULL << 20);
	expect_bucket(&n.rx_rate_limit.ops, 100, 10, 0);
	expect_bucket(&n.tx_rate_limit.ops, 200, 10, 0);

	snprintf(spec, sizeof(spec), "tap=tap0,tx-ops=5/1");
	assert_int_equal(vm_config_parse_net(spec, &n, err, sizeof(err)), 0);
	assert_false(rate_limiter_config_active(&n.rx_rate_limit));
	assert_true(rate_limiter_config_active(&n.tx_rate_limit));
	assert_null(n.id);

	snprintf(spec, sizeof(spec), "tap=tap0,rx-bw=fast");
	assert_int_equal(vm_config_parse_net(spec, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--net: rx-bw 'fast'"));
	snprintf(spec, sizeof(spec), "tap=tap0,bw=1/1");
	assert_int_equal(vm_config_parse_net(spec, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'bw=1/1'"));
	snprintf(spec, sizeof(spec), "tap=tap0,id=");
	assert_int_equal(vm_config_parse_net(spec, &n, err, sizeof(err)), -EINVAL);
}

static void test_parse_rng_rate_limit(void **state)
{
	struct rate_limiter_config rl;
	char spec[64];

	(void)state;
	snprintf(spec, sizeof(spec), "bw=64K/1000+1M,ops=10/100");
	assert_int_equal(vm_config_parse_rng(spec, &rl, err, sizeof(err)), 0);
	expect_bucket(&rl.bandwidth, 65536, 1000, 1ULL << 20);
	expect_bucket(&rl.ops, 10, 100, 0);
	spec[0] = '\0';
	assert_int_equal(vm_config_parse_rng(spec, &rl, err, sizeof(err)), 0);
	assert_false(rate_limiter_config_active(&rl));
	snprintf(spec, sizeof(spec), "speed=1/1");
	assert_int_equal(vm_config_parse_rng(spec, &rl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--rng: unknown option 'speed=1/1'"));
	snprintf(spec, sizeof(spec), "bw=1/1,ops=0/1");
	assert_int_equal(vm_config_parse_rng(spec, &rl, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--rng: ops '0/1'"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_valid),
		T(test_no_kernel),
		T(test_memory_zero),
		T(test_memory_below_minimum),
		T(test_memory_not_page_multiple),
		T(test_memory_above_host),
		T(test_cpus_zero),
		T(test_cpus_too_many),
		T(test_unknown_template),
		T(test_console_file_without_path),
		T(test_cmdline_too_long),
		T(test_small_error_buffer),
		T(test_parse_bucket),
		T(test_parse_bucket_errors),
		T(test_parse_disk_rate_limit),
		T(test_parse_net_rate_limit),
		T(test_parse_rng_rate_limit),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
