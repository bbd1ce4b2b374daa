// SPDX-License-Identifier: Apache-2.0
/* sandbox: namespace kinds and user namespace id maps. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

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
