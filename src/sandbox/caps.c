// SPDX-License-Identifier: Apache-2.0
/* sandbox: capability names and sets (capset, bounding and ambient sets). */
#include <errno.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

int sb_cap_from_name(const char *name)
{
	for (int i = 0; i < N_CAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return i;
	return -1;
}

const char *sb_cap_name(int cap)
{
	return cap >= 0 && cap < N_CAPS ? cap_names[cap] : "?";
}

/* The highest capability the running kernel knows. */
int sb_cap_last(void)
{
	char buf[16];
	static int last = -1;

	if (last < 0) {
		last = N_CAPS - 1;
		if (sb_read_file("/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) > 0)
			last = (int)strtol(buf, NULL, 10);
		if (last >= 64)
			last = 63;
	}
	return last;
}

int sb_caps_drop_bounding(const struct sb_caps *caps, struct sb_err *e)
{
	int last = sb_cap_last();

	for (int c = 0; c <= last; c++) {
		if (caps->bounding & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return sb_fail(e, errno, "drop %s from the bounding set: %s", sb_cap_name(c),
				       strerror(errno));
	}
	return 0;
}

int sb_caps_apply(const struct sb_caps *caps, struct sb_err *e)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	int last = sb_cap_last();

	memset(data, 0, sizeof(data));
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(caps->effective >> (32 * i));
		data[i].permitted = (uint32_t)(caps->permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(caps->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return sb_fail(e, errno, "capset: %s", strerror(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sb_fail(e, errno, "clear the ambient set: %s", strerror(errno));
	for (int c = 0; c <= last; c++) {
		if (!(caps->ambient & (1ull << c)))
			continue;
		/* a capability not in permitted and inheritable cannot be
		 * ambient; runc and crun skip it too */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM)
			return sb_fail(e, errno, "raise ambient %s: %s", sb_cap_name(c), strerror(errno));
	}
	return 0;
}
