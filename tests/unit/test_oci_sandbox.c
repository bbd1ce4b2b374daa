// SPDX-License-Identifier: Apache-2.0
/* osprey-oci's sandbox layer (src/sandbox): cgroup path and value
 * translation, mount option mapping, id maps, names, seccomp building. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/sandbox.h"

/* a writable string (the option and name lists are char **) */
#define S(x) ((char[]){ x })

static struct sb_err err;

static void test_shares_to_weight(void **state)
{
	(void)state;
	assert_int_equal(sb_cg_shares_to_weight(0), 0);
	assert_int_equal(sb_cg_shares_to_weight(2), 1);
	assert_int_equal(sb_cg_shares_to_weight(1024), 39);
	assert_int_equal(sb_cg_shares_to_weight(262144), 10000);
	assert_int_equal(sb_cg_shares_to_weight(1), 1);         /* clamped */
	assert_int_equal(sb_cg_shares_to_weight(1u << 30), 10000);
	assert_int_equal(sb_cg_blkio_to_io_weight(10), 1);
	assert_int_equal(sb_cg_blkio_to_io_weight(1000), 10000);
	assert_int_equal(sb_cg_blkio_to_io_weight(500), 1 + (490 * 9999) / 990);
}

static void test_swap_v2(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(sb_cg_swap_v2(100, 300, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "200");
	assert_int_equal(sb_cg_swap_v2(100, -1, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "max");
	assert_int_equal(sb_cg_swap_v2(100, 100, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "0");
	assert_int_equal(sb_cg_swap_v2(300, 100, buf, sizeof(buf), &err), -EINVAL);
	assert_int_equal(sb_cg_swap_v2(-1, 100, buf, sizeof(buf), &err), -EINVAL);
}

static void test_cgroup_paths(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(sb_cg_resolve_path(NULL, "/", "c1", out, sizeof(out), &err), 0);
	assert_string_equal(out, "/osprey-oci/c1");
	assert_int_equal(sb_cg_resolve_path("/a/b", "/user.slice", "c1", out, sizeof(out), &err), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(sb_cg_resolve_path("a/b/", "/user.slice", "c1", out, sizeof(out), &err), 0);
	assert_string_equal(out, "/user.slice/a/b");
	assert_int_equal(sb_cg_resolve_path("x", "/", "c1", out, sizeof(out), &err), 0);
	assert_string_equal(out, "/x");
	assert_int_equal(sb_cg_resolve_path("//a//b", "/", "c1", out, sizeof(out), &err), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(sb_cg_resolve_path("/a/../../etc", "/", "c1", out, sizeof(out), &err), -EINVAL);
	assert_int_equal(sb_cg_resolve_path("..", "/", "c1", out, sizeof(out), &err), -EINVAL);
	assert_int_equal(sb_cg_resolve_path("/a/..b", "/", "c1", out, sizeof(out), &err), 0);
	assert_int_equal(sb_cg_resolve_path("/", "/", "c1", out, sizeof(out), &err), -EINVAL);
	assert_int_equal(sb_cg_resolve_path("machine.slice:libpod:x", "/", "c1", out, sizeof(out), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "systemd"));
}

static void test_mount_options(void **state)
{
	char *o1[] = { S("rbind"), S("ro"), S("nosuid"), S("nodev"), S("noexec"), S("rprivate") };
	char *o2[] = { S("nosuid"), S("mode=755"), S("size=64k"), S("strictatime") };
	char *o3[] = { S("ro"), S("rw"), S("suid"), S("relatime"), S("norelatime"), S("tmpcopyup") };
	char *o4[] = { S("idmap") };
	struct sb_mount_flags f;

	(void)state;
	assert_int_equal(sb_mount_parse_options(o1, 6, &f, &err), 0);
	assert_int_equal(f.flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
	assert_int_equal(f.propagation, MS_PRIVATE | MS_REC);
	assert_string_equal(f.data, "");
	assert_int_equal(sb_mount_parse_options(o2, 4, &f, &err), 0);
	assert_int_equal(f.flags, MS_NOSUID | MS_STRICTATIME);
	assert_string_equal(f.data, "mode=755,size=64k");
	assert_int_equal(sb_mount_parse_options(o3, 6, &f, &err), 0);
	assert_int_equal(f.flags, 0);
	assert_true(f.clear_ro);
	assert_int_equal(sb_mount_parse_options(o4, 1, &f, &err), -ENOTSUP);
	assert_int_equal(sb_mount_propagation("rshared"), MS_SHARED | MS_REC);
	assert_int_equal(sb_mount_propagation("slave"), MS_SLAVE);
	assert_int_equal(sb_mount_propagation("up"), 0);
}

static void test_idmaps(void **state)
{
	struct sb_idmap ok[] = { { 0, 1000, 1 }, { 1, 100000, 65536 } };
	struct sb_idmap overlap_in[] = { { 0, 1000, 10 }, { 5, 5000, 10 } };
	struct sb_idmap overlap_host[] = { { 0, 1000, 10 }, { 100, 1005, 10 } };
	struct sb_idmap zero[] = { { 0, 1000, 0 } };
	struct sb_idmap wrap[] = { { 0, 0xfffffff0u, 0x100 } };
	char buf[256];

	(void)state;
	assert_int_equal(sb_idmap_format(ok, 2, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "0 1000 1\n1 100000 65536\n");
	assert_int_equal(sb_idmap_format(overlap_in, 2, buf, sizeof(buf), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "inside"));
	assert_int_equal(sb_idmap_format(overlap_host, 2, buf, sizeof(buf), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "host"));
	assert_int_equal(sb_idmap_format(zero, 1, buf, sizeof(buf), &err), -EINVAL);
	assert_int_equal(sb_idmap_format(wrap, 1, buf, sizeof(buf), &err), -EINVAL);
	assert_int_equal(sb_idmap_format(ok, 0, buf, sizeof(buf), &err), -EINVAL);
	assert_int_equal(sb_idmap_format(ok, 2, buf, 10, &err), -ENOSPC);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(sb_ns_from_name("network"), SB_NS_NET);
	assert_int_equal(sb_ns_from_name("net"), -1);
	assert_string_equal(sb_ns_proc_name(SB_NS_MNT), "mnt");
	assert_int_equal(sb_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(sb_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(sb_cap_from_name("CAP_NOPE"), -1);
	assert_string_equal(sb_cap_name(0), "CAP_CHOWN");
	assert_int_equal(sb_scmp_action_from_name("SCMP_ACT_KILL_PROCESS"), SB_SCMP_KILL_PROCESS);
	assert_int_equal(sb_scmp_action_from_name("ALLOW"), -1);
	assert_int_equal(sb_scmp_op_from_name("SCMP_CMP_MASKED_EQ"), SB_SCMP_OP_MASKED_EQ);
}

static void test_seccomp_build(void **state)
{
	char *names[] = { S("mkdir"), S("mkdirat"), S("no_such_syscall") };
	char *names2[] = { S("personality") };
	char *archs[] = { S("SCMP_ARCH_X86_64"), S("SCMP_ARCH_X86") };
	char *bad_arch[] = { S("SCMP_ARCH_PDP11") };
	struct sb_scmp_rule rules[2] = {
		{ .names = names, .n_names = 3, .action = SB_SCMP_ERRNO, .errno_ret = 1 },
		{ .names = names2, .n_names = 1, .action = SB_SCMP_KILL_PROCESS, .errno_ret = -1, .n_args = 1,
		  .args = { { .index = 0, .value = 8, .op = SB_SCMP_OP_NE } } },
	};
	struct sb_seccomp s = { .default_action = SB_SCMP_ALLOW, .default_errno = -1, .archs = archs, .n_archs = 2,
				.rules = rules, .n_rules = 2 };

	(void)state;
	/* the unknown name is skipped, as runc does */
	assert_int_equal(sb_seccomp_check(&s, &err), 3);
	s.archs = bad_arch;
	s.n_archs = 1;
	assert_int_equal(sb_seccomp_check(&s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "PDP11"));
	s.n_archs = 0;
	rules[0].action = SB_SCMP_NOTIFY;
	assert_int_equal(sb_seccomp_check(&s, &err), -ENOTSUP);
	rules[0].action = SB_SCMP_ALLOW; /* same as the default: skipped */
	assert_int_equal(sb_seccomp_check(&s, &err), 1);
	/* two conditions on one argument: either of them (one rule each) */
	rules[1].n_args = 2;
	rules[1].args[1] = (struct sb_scmp_arg){ .index = 0, .value = 0xffffffff, .op = SB_SCMP_OP_EQ };
	rules[1].args[0].op = SB_SCMP_OP_EQ;
	assert_int_equal(sb_seccomp_check(&s, &err), 1);
}

/* a file below the fake cgroup root: contents, or "" when absent */
static const char *fake_read(const char *dir, const char *file)
{
	static char buf[256];
	char p[512];
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	n = sb_read_file(p, buf, sizeof(buf));
	if (n < 0)
		return "";
	buf[n] = '\0';
	return buf;
}

static void fake_touch(const char *dir, const char *file)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

/*
 * The v2 path on a fake cgroup root (a plain directory with the files a
 * cgroup2 directory has): directories made, OCI values translated into
 * v2 files, pids joined, freezing, a missing controller a clear error.
 * This host is v1, so this is where v2 is checked besides the hybrid
 * unified mount (which has no controllers enabled).
 */
static void test_cgroup_v2_fake_root(void **state)
{
	static const char *const files[] = {
		"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max", "cpuset.cpus",
		"cpuset.mems", "pids.max", "io.weight", "hugetlb.2MB.max", "memory.high",
		"cgroup.procs", "cgroup.freeze",
	};
	char root[] = "/tmp/osprey-cgv2-XXXXXX", dir[512], cmd[600];
	struct sb_cgroup cg = { .version = SB_CG_V2 };
	struct sb_hugepage hp = { .page_size = "2MB", .limit = 4194304 };
	char *ukeys[] = { S("memory.high") }, *uvals[] = { S("123456") };
	struct sb_resources r;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(cg.root, sizeof(cg.root), "%s", root);
	assert_int_equal(sb_cg_resolve_path("/machine/c1", "/", "c1", cg.path, sizeof(cg.path), &err), 0);
	assert_int_equal(sb_cgroup_create(&cg, NULL, &err), 0);
	snprintf(dir, sizeof(dir), "%s/machine/c1", root);
	assert_true(sb_cgroup_exists(&cg));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		fake_touch(dir, files[i]);

	sb_resources_init(&r);
	r.mem_limit = 100 << 20;
	r.mem_swap = 300 << 20; /* memory+swap: swap alone is 200 MiB */
	r.mem_reservation = 50 << 20;
	r.cpu_shares = 1024;
	r.cpu_quota = 50000;
	r.cpu_period = 200000;
	snprintf(r.cpus, sizeof(r.cpus), "0-1");
	snprintf(r.mems, sizeof(r.mems), "0");
	r.pids_limit = 64;
	r.blkio_weight = 1000;
	r.hugepages = &hp;
	r.n_hugepages = 1;
	r.unified_keys = ukeys;
	r.unified_values = uvals;
	r.n_unified = 1;
	assert_int_equal(sb_cgroup_set(&cg, &r, &err), 0);
	assert_string_equal(fake_read(dir, "memory.max"), "104857600");
	assert_string_equal(fake_read(dir, "memory.swap.max"), "209715200");
	assert_string_equal(fake_read(dir, "memory.low"), "52428800");
	assert_string_equal(fake_read(dir, "cpu.weight"), "39");
	assert_string_equal(fake_read(dir, "cpu.max"), "50000 200000");
	assert_string_equal(fake_read(dir, "cpuset.cpus"), "0-1");
	assert_string_equal(fake_read(dir, "cpuset.mems"), "0");
	assert_string_equal(fake_read(dir, "pids.max"), "64");
	assert_string_equal(fake_read(dir, "io.weight"), "default 10000");
	assert_string_equal(fake_read(dir, "hugetlb.2MB.max"), "4194304");
	assert_string_equal(fake_read(dir, "memory.high"), "123456");

	/* unlimited values: "max" (files recreated: the fake ones do not truncate) */
	sb_resources_init(&r);
	r.mem_limit = -2;
	r.pids_limit = -1;
	r.cpu_period = 100000;
	fake_touch(dir, "memory.max");
	fake_touch(dir, "pids.max");
	fake_touch(dir, "cpu.max");
	assert_int_equal(sb_cgroup_set(&cg, &r, &err), 0);
	assert_string_equal(fake_read(dir, "memory.max"), "max");
	assert_string_equal(fake_read(dir, "pids.max"), "max");
	assert_string_equal(fake_read(dir, "cpu.max"), "max 100000");

	/* swap below memory is refused */
	sb_resources_init(&r);
	r.mem_limit = 300;
	r.mem_swap = 100;
	assert_int_equal(sb_cgroup_set(&cg, &r, &err), -EINVAL);

	/* a unified key that walks out of the directory */
	sb_resources_init(&r);
	ukeys[0] = S("../x.y");
	r.unified_keys = ukeys;
	r.unified_values = uvals;
	r.n_unified = 1;
	assert_int_equal(sb_cgroup_set(&cg, &r, &err), -EINVAL);

	/* joining, freezing */
	assert_int_equal(sb_cgroup_add_pid(&cg, 4242, &err), 0);
	assert_string_equal(fake_read(dir, "cgroup.procs"), "4242");
	assert_int_equal(sb_cgroup_freeze(&cg, true, &err), 0);
	assert_string_equal(fake_read(dir, "cgroup.freeze"), "1");

	/* a controller the fake root lacks: one clear error */
	unlink(strcat(strcpy(cmd, dir), "/pids.max"));
	sb_resources_init(&r);
	r.pids_limit = 10;
	assert_int_equal(sb_cgroup_set(&cg, &r, &err), -ENOTSUP);
	assert_non_null(strstr(err.msg, "pids.max"));

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_to_weight), cmocka_unit_test(test_swap_v2),
		cmocka_unit_test(test_cgroup_paths),	 cmocka_unit_test(test_mount_options),
		cmocka_unit_test(test_idmaps),		 cmocka_unit_test(test_names),
		cmocka_unit_test(test_seccomp_build),	 cmocka_unit_test(test_cgroup_v2_fake_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
