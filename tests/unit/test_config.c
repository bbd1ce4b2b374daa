// SPDX-License-Identifier: Apache-2.0
/* vmm/config: defaults and vm_config_validate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
