// SPDX-License-Identifier: Apache-2.0
/* osprey-ctl: subcommand arguments -> API requests (src/ctl/plan.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The client is a separate program; its pure part is compiled in here. */
#include "ctl/plan.c"

#define MAX_ARGS 40

static struct ctl_plan plan;
static char err[512];
/* getopt permutes argv, so the strings live in writable storage. */
static char arg_store[MAX_ARGS][CTL_PATH_MAX + 16];
static char *argv_store[MAX_ARGS + 1];

/* ctl_plan_build() over copies of args[0..n) */
static int build_args(int n, const char *const *args)
{
	assert_true(n <= MAX_ARGS);
	for (int i = 0; i < n; i++) {
		assert_true(strlen(args[i]) < sizeof(arg_store[0]));
		strcpy(arg_store[i], args[i]);
		argv_store[i] = arg_store[i];
	}
	argv_store[n] = NULL;
	err[0] = '\0';
	return ctl_plan_build(n, argv_store, &plan, err, sizeof(err));
}

/* build("configure", "--cpus", "2", NULL) */
static int build(const char *first, ...)
{
	const char *args[MAX_ARGS];
	va_list ap;
	int n = 0;

	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		assert_true(n < MAX_ARGS);
		args[n++] = a;
	}
	va_end(ap);
	return build_args(n, args);
}

static int teardown(void **state)
{
	(void)state;
	ctl_plan_free(&plan);
	return 0;
}

/* Request i is METHOD PATH with a body equal to the JSON text want (NULL: none). */
static void expect_req(size_t i, const char *method, const char *path, const char *want)
{
	const struct ctl_req *r;
	json_t *j;

	assert_true(i < plan.n);
	r = &plan.req[i];
	assert_string_equal(r->method, method);
	assert_string_equal(r->path, path);
	if (!want) {
		assert_null(r->body);
		return;
	}
	assert_non_null(r->body);
	j = json_loads(want, 0, NULL);
	assert_non_null(j);
	if (!json_equal(j, r->body)) {
		char *got = json_dumps(r->body, JSON_SORT_KEYS);

		print_error("request %zu body %s, expected %s\n", i, got, want);
		free(got);
		json_decref(j);
		fail();
	}
	json_decref(j);
}

static void expect_bad(const char *pattern)
{
	if (!strstr(err, pattern)) {
		print_error("error '%s' lacks '%s'\n", err, pattern);
		fail();
	}
	assert_int_equal(plan.n, 0);
}

static void test_configure_full(void **state)
{
	(void)state;
	assert_int_equal(build("configure", "--kernel", "/k", "--initrd", "/i",
			       "--cmdline", "console=ttyS0 quiet", "--cpus", "2", "--memory", "1G",
			       "--disk", "/root.img,root,ro", "--disk", "/data.img,id=data",
			       "--net", "tap=tap0,mac=06:00:ac:10:00:02", "--vsock",
			       "cid=3,uds=/tmp/v.sock", "--balloon", "64,deflate-on-oom,stats=1",
			       "--rng", "--metrics", "/tmp/metrics.json", NULL),
			 0);
	assert_null(plan.usage);
	assert_int_equal(plan.n, 9);
	expect_req(0, "PUT", "/metrics", "{\"metrics_path\":\"/tmp/metrics.json\"}");
	expect_req(1, "PUT", "/boot-source",
		   "{\"kernel_image_path\":\"/k\",\"initrd_path\":\"/i\","
		   "\"boot_args\":\"console=ttyS0 quiet\"}");
	expect_req(2, "PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":1024}");
	expect_req(3, "PUT", "/drives/disk0",
		   "{\"drive_id\":\"disk0\",\"path_on_host\":\"/root.img\","
		   "\"is_root_device\":true,\"is_read_only\":true}");
	expect_req(4, "PUT", "/drives/data",
		   "{\"drive_id\":\"data\",\"path_on_host\":\"/data.img\","
		   "\"is_root_device\":false,\"is_read_only\":false}");
	expect_req(5, "PUT", "/network-interfaces/eth0",
		   "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
		   "\"guest_mac\":\"06:00:ac:10:00:02\"}");
	expect_req(6, "PUT", "/vsock", "{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\"}");
	expect_req(7, "PUT", "/balloon",
		   "{\"amount_mib\":64,\"deflate_on_oom\":true,\"stats_polling_interval_s\":1}");
	expect_req(8, "PUT", "/entropy", "{}");
	for (size_t i = 0; i < plan.n; i++)
		assert_false(plan.req[i].show);
}

static void test_configure_kernel_only(void **state)
{
	(void)state;
	assert_int_equal(build("configure", "-k", "/vmlinux", NULL), 0);
	assert_int_equal(plan.n, 1);
	expect_req(0, "PUT", "/boot-source", "{\"kernel_image_path\":\"/vmlinux\"}");
}

static void test_configure_machine_partial_is_patch(void **state)
{
	(void)state;
	assert_int_equal(build("configure", "--cpus", "4", NULL), 0);
	assert_int_equal(plan.n, 1);
	expect_req(0, "PATCH", "/machine-config", "{\"vcpu_count\":4}");
	ctl_plan_free(&plan);
	assert_int_equal(build("configure", "-m", "512", NULL), 0);
	expect_req(0, "PATCH", "/machine-config", "{\"mem_size_mib\":512}");
	ctl_plan_free(&plan);
	/* sizes with units, a bare number is MiB */
	assert_int_equal(build("configure", "-m", "2GiB", "-n", "0x10", NULL), 0);
	expect_req(0, "PUT", "/machine-config", "{\"vcpu_count\":16,\"mem_size_mib\":2048}");
	ctl_plan_free(&plan);
	assert_int_equal(build("configure", "-m", "1048576K", "-n", "1", NULL), 0);
	expect_req(0, "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":1024}");
}

static void test_configure_disk_options(void **state)
{
	(void)state;
	assert_int_equal(build("configure", "--disk", "a.img", "--disk",
			       "b.img,rw,cache=Writeback,partuuid=0eaa91a0-01", "--disk",
			       "c.img,cache=unsafe,id=my_disk-2", NULL),
			 0);
	assert_int_equal(plan.n, 3);
	expect_req(0, "PUT", "/drives/disk0",
		   "{\"drive_id\":\"disk0\",\"path_on_host\":\"a.img\","
		   "\"is_root_device\":false,\"is_read_only\":false}");
	expect_req(1, "PUT", "/drives/disk1",
		   "{\"drive_id\":\"disk1\",\"path_on_host\":\"b.img\",\"is_root_device\":false,"
		   "\"is_read_only\":false,\"cache_type\":\"Writeback\","
		   "\"partuuid\":\"0eaa91a0-01\"}");
	expect_req(2, "PUT", "/drives/my_disk-2",
		   "{\"drive_id\":\"my_disk-2\",\"path_on_host\":\"c.img\","
		   "\"is_root_device\":false,\"is_read_only\":false,\"cache_type\":\"Unsafe\"}");
}

static void test_configure_net_and_defaults(void **state)
{
	(void)state;
	assert_int_equal(build("configure", "--net", "tap=t0", "--net",
			       "tap=t1,id=wan,mtu=9000", NULL),
			 0);
	assert_int_equal(plan.n, 2);
	expect_req(0, "PUT", "/network-interfaces/eth0",
		   "{\"iface_id\":\"eth0\",\"host_dev_name\":\"t0\"}");
	expect_req(1, "PUT", "/network-interfaces/wan",
		   "{\"iface_id\":\"wan\",\"host_dev_name\":\"t1\",\"mtu\":9000}");
}

static void test_configure_json_escaping(void **state)
{
	char *text;

	(void)state;
	/* Quotes, backslashes and UTF-8 go through the JSON encoder. */
	assert_int_equal(build("configure", "-k", "/k\"x\\", "-c",
			       "osprey_run=\"echo \\\"hi\\\"\" \xc3\xa9", NULL),
			 0);
	text = json_dumps(plan.req[0].body, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	assert_string_equal(text, "{\"boot_args\":\"osprey_run=\\\"echo \\\\\\\"hi\\\\\\\"\\\" "
				  "\xc3\xa9\",\"kernel_image_path\":\"/k\\\"x\\\\\"}");
	free(text);
}

static void test_configure_errors(void **state)
{
	static const struct {
		const char *args[3];
		const char *msg;
	} cases[] = {
		{ { NULL }, "nothing to configure" },
		{ { "--initrd", "/i" }, "--initrd and --cmdline need --kernel" },
		{ { "--cmdline", "x" }, "need --kernel" },
		{ { "--cpus", "two" }, "--cpus 'two': not a number" },
		{ { "--cpus", "-1" }, "--cpus '-1'" },
		{ { "--cpus", "4294967296" }, "not a number from 0 to 4294967295" },
		{ { "--memory", "lots" }, "--memory 'lots': not a size" },
		{ { "--memory", "1536K" }, "not a whole number of MiB" },
		{ { "--disk", "" }, "--disk '': no file" },
		{ { "--disk", ",ro" }, "no file" },
		{ { "--disk", "a.img,rx" }, "unknown option 'rx'" },
		{ { "--disk", "a.img,,ro" }, "unknown option ''" },
		{ { "--disk", "a.img,cache=none" }, "cache is unsafe or writeback" },
		{ { "--disk", "a.img,id=a/b" }, "--disk id 'a/b'" },
		{ { "--disk", "a.img,id=" }, "--disk id ''" },
		{ { "--disk", "a.img,id=x y" }, "1 to 64 letters" },
		{ { "--net", "mac=06:00:00:00:00:01" }, "tap=NAME is required" },
		{ { "--net", "tap=" }, "tap=NAME is required" },
		{ { "--net", "tap=t,bogus" }, "unknown option 'bogus'" },
		{ { "--net", "tap=t,mtu=70000" }, "--net mtu '70000'" },
		{ { "--net", "tap=t,id=../x" }, "--net id '../x'" },
		{ { "--vsock", "cid=3" }, "cid=N and uds=PATH are required" },
		{ { "--vsock", "uds=/x" }, "are required" },
		{ { "--vsock", "cid=x,uds=/x" }, "--vsock cid 'x'" },
		{ { "--vsock", "cid=3,uds=/x,port=5" }, "unknown option 'port=5'" },
		{ { "--balloon", "x" }, "--balloon 'x': not a size" },
		{ { "--balloon", "64,stats=-1" }, "--balloon stats '-1'" },
		{ { "--balloon", "64,inflate" }, "unknown option 'inflate'" },
		{ { "--kernel" }, "option '--kernel' needs a value" },
		{ { "--frobnicate" }, "unknown option '--frobnicate'" },
		{ { "-z" }, "unknown option '-z'" },
		{ { "-k", "/k", "extra" }, "unexpected argument 'extra'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[4] = { "configure" };
		int n = 1;

		for (size_t a = 0; a < 3 && cases[i].args[a]; a++)
			args[n++] = cases[i].args[a];
		assert_int_equal(build_args(n, args), -EINVAL);
		assert_int_equal(strncmp(err, "configure: ", 11), 0);
		expect_bad(cases[i].msg);
	}
}

static void test_configure_limits(void **state)
{
	const char *args[1 + 2 * (CTL_MAX_DISKS + 1)];
	char names[CTL_MAX_DISKS + 1][24];
	int n = 0;

	(void)state;
	args[n++] = "configure";
	for (int i = 0; i <= CTL_MAX_DISKS; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d.img", i);
		args[n++] = "--disk";
		args[n++] = names[i];
	}
	assert_int_equal(build_args(n, args), -EINVAL);
	expect_bad("at most 16 --disk");
	/* exactly the limit is fine */
	assert_int_equal(build_args(n - 2, args), 0);
	assert_int_equal(plan.n, CTL_MAX_DISKS);
	expect_req(15, "PUT", "/drives/disk15",
		   "{\"drive_id\":\"disk15\",\"path_on_host\":\"d15.img\","
		   "\"is_root_device\":false,\"is_read_only\":false}");
}

static void test_actions(void **state)
{
	static const struct {
		const char *cmd, *method, *path, *body;
		bool show;
	} cases[] = {
		{ "start", "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", false },
		{ "stop", "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", false },
		{ "metrics", "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", false },
		{ "pause", "PATCH", "/vm", "{\"state\":\"Paused\"}", false },
		{ "resume", "PATCH", "/vm", "{\"state\":\"Resumed\"}", false },
		{ "config", "GET", "/vm/config", NULL, true },
		{ "info", "GET", "/", NULL, true },
		{ "version", "GET", "/version", NULL, true },
		{ "balloon", "GET", "/balloon", NULL, true },
		{ "balloon-stats", "GET", "/balloon/statistics", NULL, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(build(cases[i].cmd, NULL), 0);
		assert_int_equal(plan.n, 1);
		expect_req(0, cases[i].method, cases[i].path, cases[i].body);
		assert_int_equal(plan.req[0].show, cases[i].show);
		assert_null(plan.req[0].raw);
		ctl_plan_free(&plan);

		/* no arguments taken */
		assert_int_equal(build(cases[i].cmd, "now", NULL), -EINVAL);
		expect_bad("unexpected argument 'now'");
	}
}

static void test_snapshot(void **state)
{
	(void)state;
	assert_int_equal(build("snapshot", "create", "--state", "/s", "--mem", "/m", NULL), 0);
	assert_int_equal(plan.n, 1);
	expect_req(0, "PUT", "/snapshot/create",
		   "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\"}");
	ctl_plan_free(&plan);
	assert_int_equal(build("snapshot", "create", "-t", "diff", "-s", "/s", "-m", "/m", "--pause",
			       "--resume", NULL),
			 0);
	assert_int_equal(plan.n, 3);
	expect_req(0, "PATCH", "/vm", "{\"state\":\"Paused\"}");
	expect_req(1, "PUT", "/snapshot/create",
		   "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\"}");
	expect_req(2, "PATCH", "/vm", "{\"state\":\"Resumed\"}");
	ctl_plan_free(&plan);
	assert_int_equal(build("snapshot", "load", "--state", "/s", "--mem", "/m", "--resume",
			       "--track-dirty-pages", NULL),
			 0);
	expect_req(0, "PUT", "/snapshot/load",
		   "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"File\","
		   "\"backend_path\":\"/m\"},\"enable_diff_snapshots\":true,\"resume_vm\":true}");
	ctl_plan_free(&plan);
	assert_int_equal(build("configure", "--track-dirty-pages", NULL), 0);
	expect_req(0, "PATCH", "/machine-config", "{\"track_dirty_pages\":true}");
	ctl_plan_free(&plan);
	assert_int_equal(build("snapshot", "create", "--state", "/s", NULL), -EINVAL);
	expect_bad("needs --state PATH and --mem PATH");
	assert_int_equal(build("snapshot", "create", "-s", "/s", "-m", "/m", "-t", "half", NULL),
			 -EINVAL);
	expect_bad("full or diff");
	assert_int_equal(build("snapshot", "load", "-s", "/s", "-m", "/m", "--pause", NULL), -EINVAL);
	expect_bad("are for create");
	assert_int_equal(build("snapshot", "merge", NULL), -EINVAL);
	expect_bad("create or load");
	assert_int_equal(build("snapshot", NULL), -EINVAL);
	expect_bad("needs create or load");
	assert_int_equal(build("snapshot", "--help", NULL), 0);
	assert_non_null(plan.usage);
}

static void test_balloon(void **state)
{
	(void)state;
	assert_int_equal(build("balloon", "--target", "256", NULL), 0);
	expect_req(0, "PATCH", "/balloon", "{\"amount_mib\":256}");
	assert_false(plan.req[0].show);
	ctl_plan_free(&plan);
	assert_int_equal(build("balloon", "-t", "1G", NULL), 0);
	expect_req(0, "PATCH", "/balloon", "{\"amount_mib\":1024}");
	ctl_plan_free(&plan);
	assert_int_equal(build("balloon-stats", "--interval", "5", NULL), 0);
	expect_req(0, "PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\":5}");
	ctl_plan_free(&plan);
	assert_int_equal(build("balloon", "--target", "1.5G", NULL), -EINVAL);
	expect_bad("balloon: --target '1.5G'");
	assert_int_equal(build("balloon-stats", "-i", "x", NULL), -EINVAL);
	expect_bad("--interval 'x'");
	assert_int_equal(build("balloon", "--target", NULL), -EINVAL);
	expect_bad("needs a value");
}

static void test_raw(void **state)
{
	(void)state;
	assert_int_equal(build("raw", "GET", "/machine-config", NULL), 0);
	expect_req(0, "GET", "/machine-config", NULL);
	assert_null(plan.req[0].raw);
	assert_true(plan.req[0].show);
	ctl_plan_free(&plan);
	/* the body goes out as given, even when it is not JSON */
	assert_int_equal(build("raw", "PUT", "/boot-source", "{not json", NULL), 0);
	expect_req(0, "PUT", "/boot-source", NULL);
	assert_string_equal(plan.req[0].raw, "{not json");
	ctl_plan_free(&plan);
	assert_int_equal(build("raw", "DELETE", "/a/../b?x=1", NULL), 0);
	expect_req(0, "DELETE", "/a/../b?x=1", NULL);
	ctl_plan_free(&plan);

	assert_int_equal(build("raw", "GET", NULL), -EINVAL);
	expect_bad("raw: needs METHOD PATH [BODY]");
	assert_int_equal(build("raw", "GET", "/", "{}", "more", NULL), -EINVAL);
	expect_bad("needs METHOD PATH");
	assert_int_equal(build("raw", "get", "/", NULL), -EINVAL);
	expect_bad("method 'get'");
	assert_int_equal(build("raw", "GET", "version", NULL), -EINVAL);
	expect_bad("must start with '/'");
	assert_int_equal(build("raw", "GET", "/a b", NULL), -EINVAL);
	expect_bad("no spaces");
}

static void test_raw_path_limit(void **state)
{
	char path[CTL_PATH_MAX + 1];

	(void)state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(build("raw", "GET", path, NULL), -EINVAL);
	expect_bad("request path too long");
	path[CTL_PATH_MAX - 1] = '\0';
	assert_int_equal(build("raw", "GET", path, NULL), 0);
}

static void test_help_and_unknown(void **state)
{
	static const char *const cmds[] = { "configure", "start",   "pause",	     "resume",
					    "stop",	 "config",  "metrics",	     "balloon",
					    "info",	 "version", "balloon-stats", "raw" };

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(build(cmds[i], "--help", NULL), 0);
		assert_non_null(plan.usage);
		assert_non_null(strstr(plan.usage, cmds[i]));
		assert_int_equal(plan.n, 0);
		assert_int_equal(build(cmds[i], "-h", NULL), 0);
		assert_non_null(plan.usage);
	}
	assert_int_equal(build("help", NULL), 0);
	assert_ptr_equal(plan.usage, ctl_usage());
	assert_int_equal(build("boot", NULL), -EINVAL);
	expect_bad("unknown command 'boot'");
	assert_int_equal(build(NULL), -EINVAL);
	expect_bad("no command");
}

static void test_fault_message(void **state)
{
	static const char fm[] = "{\"fault_message\":\"The kernel file cannot be opened.\"}";
	static const char nl[] = "{\"fault_message\":\"two\\nlines\\t \"}";
	char buf[64];

	(void)state;
	assert_int_equal(ctl_fault_message(fm, strlen(fm), buf, sizeof(buf)), 33);
	assert_string_equal(buf, "The kernel file cannot be opened.");
	/* control characters never reach the terminal */
	ctl_fault_message(nl, strlen(nl), buf, sizeof(buf));
	assert_string_equal(buf, "two lines");
	/* not JSON, or JSON without the field: the body itself */
	ctl_fault_message("Bad Request\r\n", 13, buf, sizeof(buf));
	assert_string_equal(buf, "Bad Request");
	ctl_fault_message("{\"error\":1}", 11, buf, sizeof(buf));
	assert_string_equal(buf, "{\"error\":1}");
	ctl_fault_message("{\"fault_message\":7}", 19, buf, sizeof(buf));
	assert_string_equal(buf, "{\"fault_message\":7}");
	/* nothing, and truncation */
	assert_int_equal(ctl_fault_message(NULL, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ctl_fault_message(fm, strlen(fm), buf, 8), 7);
	assert_string_equal(buf, "The ker");
	assert_int_equal(ctl_fault_message(fm, strlen(fm), buf, 0), 0);
	/* not NUL-terminated */
	assert_int_equal(ctl_fault_message("abcdef", 3, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_configure_full, teardown),
		cmocka_unit_test_teardown(test_configure_kernel_only, teardown),
		cmocka_unit_test_teardown(test_configure_machine_partial_is_patch, teardown),
		cmocka_unit_test_teardown(test_configure_disk_options, teardown),
		cmocka_unit_test_teardown(test_configure_net_and_defaults, teardown),
		cmocka_unit_test_teardown(test_configure_json_escaping, teardown),
		cmocka_unit_test_teardown(test_configure_errors, teardown),
		cmocka_unit_test_teardown(test_configure_limits, teardown),
		cmocka_unit_test_teardown(test_actions, teardown),
		cmocka_unit_test_teardown(test_balloon, teardown),
		cmocka_unit_test_teardown(test_raw, teardown),
		cmocka_unit_test_teardown(test_raw_path_limit, teardown),
		cmocka_unit_test_teardown(test_help_and_unknown, teardown),
		cmocka_unit_test_teardown(test_fault_message, teardown),
		cmocka_unit_test_teardown(test_snapshot, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
