// SPDX-License-Identifier: Apache-2.0
/* sandbox: namespace kinds and user namespace id maps. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	const char *oci, *proc;
	int flag;
} ns_table[SB_NS_COUNT] = {
	[SB_NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[SB_NS_NET] = { "network", "net", CLONE_NEWNET },
	[SB_NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
	[SB_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[SB_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
	[SB_NS_USER] = { "user", "user", CLONE_NEWUSER },
	[SB_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[SB_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

int sb_ns_from_name(const char *name)
{
	for (int i = 0; i < SB_NS_COUNT; i++)
		if (!strcmp(name, ns_table[i].oci))
			return i;
	return -1;
}

const char *sb_ns_name(int kind)
{
	return kind >= 0 && kind < SB_NS_COUNT ? ns_table[kind].oci : "?";
}

const char *sb_ns_proc_name(int kind)
{
	return kind >= 0 && kind < SB_NS_COUNT ? ns_table[kind].proc : "?";
}

int sb_ns_clone_flag(int kind)
{
	return kind >= 0 && kind < SB_NS_COUNT ? ns_table[kind].flag : 0;
}

int sb_idmap_format(const struct sb_idmap *maps, size_t n, char *buf, size_t cap, struct sb_err *e)
{
	size_t len = 0;

	if (n == 0)
		return sb_fail(e, EINVAL, "empty id mapping");
	if (n > 340)
		return sb_fail(e, EINVAL, "too many id mappings (%zu, the kernel takes 340)", n);
	for (size_t i = 0; i < n; i++) {
		const struct sb_idmap *m = &maps[i];

		if (m->size == 0)
			return sb_fail(e, EINVAL, "id mapping %zu has size 0", i);
		if ((uint64_t)m->container_id + m->size > 0xffffffffull ||
		    (uint64_t)m->host_id + m->size > 0xffffffffull)
			return sb_fail(e, EINVAL, "id mapping %zu (%u %u %u) overflows 32 bits", i, m->container_id,
				       m->host_id, m->size);
		for (size_t j = 0; j < i; j++) {
			const struct sb_idmap *o = &maps[j];

			if (m->container_id < o->container_id + o->size &&
			    o->container_id < m->container_id + m->size)
				return sb_fail(e, EINVAL, "id mappings %zu and %zu overlap inside the container", j, i);
			if (m->host_id < o->host_id + o->size && o->host_id < m->host_id + m->size)
				return sb_fail(e, EINVAL, "id mappings %zu and %zu overlap on the host", j, i);
		}
		int k = snprintf(buf + len, cap - len, "%u %u %u\n", m->container_id, m->host_id, m->size);
		if (k < 0 || (size_t)k >= cap - len)
			return sb_fail(e, ENOSPC, "id mappings too long");
		len += (size_t)k;
	}
	return 0;
}

int sb_idmap_write(pid_t pid, const char *which, const struct sb_idmap *maps, size_t n, struct sb_err *e)
{
	char path[64], buf[8192];
	int ret;

	ret = sb_idmap_format(maps, n, buf, sizeof(buf), e);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
	ret = sb_write_file(path, buf, e);
	if (ret < 0)
		return sb_fail(e, -ret, "%s mapping rejected by the kernel (%s): %s", which,
			       strerror(-ret), "check the ids exist and do not overlap");
	return 0;
}

int sb_idmap_write_unprivileged(pid_t pid, bool uid, const struct sb_idmap *maps, size_t n,
				struct sb_err *e)
{
	const char *which = uid ? "uid_map" : "gid_map", *helper = uid ? "newuidmap" : "newgidmap";
	unsigned int self = uid ? (unsigned int)geteuid() : (unsigned int)getegid();
	char buf[8192], path[64], *argv[2 + 3 * 340 + 1], *args;
	size_t len = 0;
	int ret, st;
	pid_t child;

	ret = sb_idmap_format(maps, n, buf, sizeof(buf), e);
	if (ret < 0)
		return ret;
	if (n == 1 && maps[0].size == 1 && maps[0].host_id == self) {
		if (!uid) {
			snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
			ret = sb_write_file(path, "deny", e);
			if (ret < 0)
				return ret;
		}
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
		ret = sb_write_file(path, buf, e);
		if (ret < 0)
			return sb_fail(e, -ret, "%s: the kernel refused mapping id %u: %s", which, self,
				       strerror(-ret));
		return 0;
	}
	/* newuidmap PID C H S [C H S]... */
	args = malloc(n * 3 * 12 + 16);
	if (!args)
		return sb_fail(e, ENOMEM, "out of memory");
	argv[0] = (char *)(uintptr_t)helper;
	argv[1] = args;
	len = (size_t)sprintf(args, "%d", (int)pid) + 1;
	for (size_t i = 0; i < n; i++) {
		const unsigned int v[3] = { maps[i].container_id, maps[i].host_id, maps[i].size };
		for (int k = 0; k < 3; k++) {
			argv[2 + 3 * i + (size_t)k] = args + len;
			len += (size_t)sprintf(args + len, "%u", v[k]) + 1;
		}
	}
	argv[2 + 3 * n] = NULL;
	child = fork();
	if (child < 0) {
		ret = errno;
		free(args);
		return sb_fail(e, ret, "fork: %s", strerror(ret));
	}
	if (child == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(helper, argv);
		_exit(127);
	}
	free(args);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return sb_fail(e, ENOENT,
			       "rootless: %s maps more than the caller's own id, which needs %s (package uidmap)",
			       which, helper);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return sb_fail(e, EPERM, "rootless: %s refused the %s (are the ids in /etc/sub%cid?)", helper,
			       which, uid ? 'u' : 'g');
	return 0;
}
