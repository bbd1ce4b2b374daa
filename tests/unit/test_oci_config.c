// SPDX-License-Identifier: Apache-2.0
/* osprey-oci: config.json parsing (src/oci/config.c): fields, defaults,
 * unknown fields ignored, wrong types and bad values rejected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "oci/config.h"

static struct oci_config cfg;
static struct sb_err err;

static int parse(const char *json)
{
	int r;

	oci_config_free(&cfg);
	memset(&err, 0, sizeof(err));
	r = oci_config_parse(json, strlen(json), &cfg, &err);
	if (r < 0)
		assert_true(err.msg[0] != '\0');
	return r;
}

/* a minimal valid config with extra text spliced in at the top level */
static int parse_with(const char *extra)
{
	char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\"},"
		 "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}%s%s}",
		 extra[0] ? "," : "", extra);
	return parse(buf);
}

static int teardown(void **state)
{
	(void)state;
	oci_config_free(&cfg);
	return 0;
}

static void test_full(void **state)
{
	(void)state;
	assert_int_equal(parse_with(
		"\"hostname\":\"h\",\"domainname\":\"d\",\"unknownField\":{\"x\":[1]},"
		"\"annotations\":{\"a\":\"b\"},"
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"rslave\"]},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\",\"size=64k\"]}],"
		"\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[\"true\"],\"timeout\":5}],\"poststop\":[{\"path\":\"/x\"}]},"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"user\"},"
		"{\"type\":\"network\",\"path\":\"/var/run/netns/x\"}],"
		"\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
		"\"gidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}],"
		"\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438}],"
		"\"cgroupsPath\":\"/a/b\",\"resources\":{\"memory\":{\"limit\":1048576,\"swap\":2097152},"
		"\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\"},\"pids\":{\"limit\":32},"
		"\"blockIO\":{\"weight\":500},\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":0}],"
		"\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
		"\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},\"maskedPaths\":[\"/proc/kcore\"],"
		"\"readonlyPaths\":[\"/proc/sys\"],\"rootfsPropagation\":\"rslave\","
		"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":[\"SCMP_ARCH_X86_64\"],"
		"\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}]},"
		"\"personality\":{\"domain\":\"LINUX\"}}"),
		0);
	assert_string_equal(cfg.hostname, "h");
	assert_string_equal(cfg.root_path, "rootfs");
	assert_int_equal(cfg.n_mounts, 3);
	assert_true(cfg.mounts[1].flags.flags & MS_BIND);
	assert_true(cfg.mounts[1].flags.flags & MS_REC);
	assert_true(cfg.mounts[1].flags.flags & MS_RDONLY);
	assert_true(cfg.mounts[1].flags.flags & MS_NOSUID);
	assert_int_equal(cfg.mounts[1].flags.propagation, MS_SLAVE | MS_REC);
	assert_string_equal(cfg.mounts[2].flags.data, "mode=755,size=64k");
	assert_int_equal(cfg.n_hooks[OCI_HOOK_PRESTART], 1);
	assert_int_equal(cfg.hooks[OCI_HOOK_PRESTART][0].timeout, 5);
	assert_int_equal(cfg.n_hooks[OCI_HOOK_POSTSTOP], 1);
	assert_int_equal(cfg.n_namespaces, 5);
	assert_true(cfg.ns_mask & (1u << SB_NS_USER));
	assert_string_equal(cfg.namespaces[4].path, "/var/run/netns/x");
	assert_int_equal(cfg.uid_mappings[0].host_id, 1000);
	assert_int_equal(cfg.devices[0].major, 10);
	assert_int_equal(cfg.devices[0].file_mode, 0666);
	assert_int_equal(cfg.resources.mem_limit, 1048576);
	assert_int_equal(cfg.resources.mem_swap, 2097152);
	assert_int_equal(cfg.resources.cpu_shares, 512);
	assert_int_equal(cfg.resources.cpu_quota, 50000);
	assert_string_equal(cfg.resources.cpus, "0-1");
	assert_int_equal(cfg.resources.pids_limit, 32);
	assert_int_equal(cfg.resources.blkio_weight, 500);
	assert_int_equal(cfg.resources.n_hugepages, 1);
	assert_int_equal(cfg.resources.n_devices, 1);
	assert_false(cfg.resources.devices[0].allow);
	assert_int_equal(cfg.n_sysctl, 1);
	assert_string_equal(cfg.rootfs_propagation, "rslave");
	assert_int_equal(cfg.seccomp.default_action, SB_SCMP_ERRNO);
	assert_int_equal(cfg.seccomp.default_errno, 1);
	assert_int_equal(cfg.seccomp.n_rules, 2);
	assert_int_equal(cfg.seccomp.rules[1].n_args, 1);
	assert_int_equal(cfg.seccomp.rules[1].args[0].op, SB_SCMP_OP_EQ);
	assert_true(cfg.has_personality);
	assert_int_equal(cfg.n_annotations, 1);
	/* the filter builds with libseccomp */
	assert_true(sb_seccomp_check(&cfg.seccomp, &err) >= 2);
}

static void test_process(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\",\"readonly\":true},"
			       "\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
			       "\"args\":[\"/bin/sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],\"cwd\":\"/w\","
			       "\"user\":{\"uid\":1,\"gid\":2,\"umask\":18,\"additionalGids\":[3,4]},"
			       "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_SYS_ADMIN\"],\"effective\":[\"CAP_KILL\"],"
			       "\"ambient\":[]},\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}],"
			       "\"noNewPrivileges\":true,\"oomScoreAdj\":-500}}"),
			 0);
	struct oci_process *p = &cfg.process;
	assert_true(cfg.root_readonly);
	assert_true(p->terminal);
	assert_int_equal(p->console_width, 80);
	assert_int_equal(p->n_args, 3);
	assert_null(p->args[3]);
	assert_string_equal(p->cwd, "/w");
	assert_int_equal(p->uid, 1);
	assert_int_equal(p->gid, 2);
	assert_int_equal(p->umask, 022);
	assert_int_equal(p->n_additional_gids, 2);
	assert_int_equal(p->caps.bounding, (1ull << 5) | (1ull << 21));
	assert_int_equal(p->caps.effective, 1ull << 5);
	assert_int_equal(p->caps.permitted, 0);
	assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(p->rlimits[0].hard, 20);
	assert_true(p->no_new_privileges);
	assert_true(p->has_oom_score_adj);
	assert_int_equal(p->oom_score_adj, -500);
	/* defaults */
	assert_int_equal(parse_with(""), 0);
	assert_string_equal(cfg.process.cwd, "/");
	assert_int_equal(cfg.process.umask, -1);
	assert_false(cfg.process.has_caps);
	/* process is optional in config.json */
	assert_int_equal(parse("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}"), 0);
	assert_false(cfg.has_process);
}

static void test_null_is_absent(void **state)
{
	(void)state;
	assert_int_equal(parse_with("\"hostname\":null,\"mounts\":null,\"linux\":{\"resources\":null}"), 0);
	assert_null(cfg.hostname);
	assert_int_equal(cfg.n_mounts, 0);
}

struct bad_case {
	const char *extra, *want;
};

static void test_bad(void **state)
{
	static const struct bad_case cases[] = {
		{ "\"hostname\":1", "hostname: expected a string" },
		{ "\"mounts\":{}", "mounts: expected an array" },
		{ "\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]", "absolute" },
		{ "\"mounts\":[{\"destination\":\"/x\",\"options\":[\"bind\"]}]", "needs a source" },
		{ "\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[1]}]", "expected a string" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}", "unknown namespace type 'bogus'" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}", "listed twice" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1}]}",
		  "needs containerID, hostID and size" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":10},"
		  "{\"containerID\":5,\"hostID\":100,\"size\":10}]}",
		  "overlap" },
		{ "\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":-1,\"size\":1}]}",
		  "containerID" },
		{ "\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1,\"size\":1}]}", "need a user namespace" },
		{ "\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}", "memory.limit: expected an integer" },
		{ "\"linux\":{\"resources\":{\"memory\":{\"limit\":0}}}", "no memory" },
		{ "\"linux\":{\"resources\":{\"memory\":{\"limit\":-5}}}", "out of range" },
		{ "\"linux\":{\"resources\":{\"cpu\":{\"shares\":1}}}", "shares" },
		{ "\"linux\":{\"resources\":{\"cpu\":{\"period\":5}}}", "period" },
		{ "\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"0;rm\"}}}", "CPU list" },
		{ "\"linux\":{\"resources\":{\"blockIO\":{\"weight\":5}}}", "out of range" },
		{ "\"linux\":{\"resources\":{\"pids\":{\"limit\":\"x\"}}}", "pids.limit" },
		{ "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOPE\"}}", "unknown action" },
		{ "\"linux\":{\"seccomp\":{}}", "defaultAction" },
		{ "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		  "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}}",
		  "index" },
		{ "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
		  "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"LIKE\"}]}]}}",
		  "operator" },
		{ "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\"}}", "notification" },
		{ "\"linux\":{\"rootfsPropagation\":\"sideways\"}", "rootfsPropagation" },
		{ "\"linux\":{\"sysctl\":{\"../x\":\"1\"}}", "bad key" },
		{ "\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"z\"}]}", "type must be" },
		{ "\"linux\":{\"personality\":{\"domain\":\"BSD\"}}", "unknown domain" },
		{ "\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}", "absolute" },
		{ "\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}", "timeout" },
		{ "\"hooks\":{\"poststart\":{}}", "expected an array" },
		{ "\"hostname\":\"x\"", "uts namespace" },
		{ "\"annotations\":{\"a\":1}", "annotations.a" },
		{ "\"linux\":[]", "linux: expected an object" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_with(cases[i].extra);
		if (r != -EINVAL || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu (%s): r=%d msg '%s', want '%s'", i, cases[i].extra, r, err.msg, cases[i].want);
	}
}

static void test_bad_process_and_top(void **state)
{
	static const struct bad_case cases[] = {
		{ "", "invalid JSON" },
		{ "[]", "expected a JSON object" },
		{ "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"r\"", "invalid JSON" },
		{ "{\"root\":{\"path\":\"r\"}}", "ociVersion" },
		{ "{\"ociVersion\":2,\"root\":{\"path\":\"r\"}}", "ociVersion: expected a string" },
		{ "{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}", "not supported" },
		{ "{\"ociVersion\":\"1.0.0\"}", "root: is required" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{}}", "root.path" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":\"yes\"}}", "root.readonly" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[]}}", "process.args" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":\"sh\"}}", "process.args" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],\"cwd\":\"rel\"}}",
		  "absolute" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],\"env\":[\"NOEQ\"]}}",
		  "NAME=VALUE" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":-1}}}",
		  "uid" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],"
		  "\"capabilities\":{\"bounding\":[\"CAP_FLY\"]}}}",
		  "unknown capability CAP_FLY" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],"
		  "\"rlimits\":[{\"type\":\"RLIMIT_FOO\",\"soft\":1,\"hard\":1}]}}",
		  "unknown rlimit" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],"
		  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}}",
		  "soft limit" },
		{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[\"sh\"],\"oomScoreAdj\":2000}}",
		  "out of range" },
		{ "{\"ociVersion\":\"1.0.0\",\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}", "duplicate" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(cases[i].extra);
		if (r != -EINVAL || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu (%s): r=%d msg '%s', want '%s'", i, cases[i].extra, r, err.msg, cases[i].want);
	}
}

static void test_process_json_and_resources(void **state)
{
	struct oci_process p;
	struct sb_resources r;
	const char *pj = "{\"args\":[\"ls\"],\"env\":[\"X=1\"],\"cwd\":\"/tmp\",\"terminal\":false}";

	(void)state;
	assert_int_equal(oci_process_parse_json(pj, strlen(pj), &p, &err), 0);
	assert_string_equal(p.args[0], "ls");
	assert_string_equal(p.cwd, "/tmp");
	oci_process_free(&p);
	assert_int_equal(oci_process_parse_json("{\"args\":1}", 10, &p, &err), -EINVAL);
	oci_process_free(&p);
	const char *rj = "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":-1}}";
	assert_int_equal(oci_resources_parse_json(rj, strlen(rj), &r, &err), 0);
	assert_int_equal(r.mem_limit, 67108864);
	assert_int_equal(r.pids_limit, -1);
	assert_int_equal(r.cpu_shares, 0);
	sb_resources_free(&r);
}

static void test_default_spec_parses(void **state)
{
	char *s;

	(void)state;
	for (int rootless = 0; rootless < 2; rootless++) {
		s = oci_default_spec(rootless, 1000, 1000);
		assert_non_null(s);
		assert_int_equal(parse(s), 0);
		assert_true(cfg.process.terminal);
		assert_true(cfg.ns_mask & (1u << SB_NS_MNT));
		assert_int_equal(!!(cfg.ns_mask & (1u << SB_NS_USER)), rootless);
		if (rootless)
			assert_int_equal(cfg.uid_mappings[0].host_id, 1000);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_full, teardown),
		cmocka_unit_test_teardown(test_process, teardown),
		cmocka_unit_test_teardown(test_null_is_absent, teardown),
		cmocka_unit_test_teardown(test_bad, teardown),
		cmocka_unit_test_teardown(test_bad_process_and_top, teardown),
		cmocka_unit_test(test_process_json_and_resources),
		cmocka_unit_test_teardown(test_default_spec_parses, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
