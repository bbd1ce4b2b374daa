// SPDX-License-Identifier: Apache-2.0
/* osprey-oci: the default config.json that `spec` writes (as runc's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oci/config.h"

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };

static json_t *mount(const char *dest, const char *type, const char *src, const char *opts)
{
	json_t *o = json_array();
	char *dup = strdup(opts), *save = NULL;

	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(o, json_string(t));
	free(dup);
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", src, "options", o);
}

char *oci_default_spec(bool rootless, uint32_t uid, uint32_t gid)
{
	json_t *caps = json_array(), *mounts = json_array(), *ns = json_array(), *linux_o, *root, *proc;
	static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
					      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
					      "/proc/sched_debug", "/sys/firmware", "/proc/scsi" };
	static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
	json_t *jm = json_array(), *jr = json_array();
	char *s;

	for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
		json_array_append_new(caps, json_string(default_caps[i]));
	json_array_append_new(mounts, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
	json_array_append_new(mounts, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
	json_array_append_new(mounts, mount("/dev/pts", "devpts", "devpts",
					    rootless ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
						     : "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
	json_array_append_new(mounts, mount("/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k"));
	json_array_append_new(mounts, mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
	if (rootless)
		json_array_append_new(mounts, mount("/sys", "none", "/sys", "rbind,nosuid,noexec,nodev,ro"));
	else
		json_array_append_new(mounts, mount("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
	json_array_append_new(mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));
	json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
	if (!rootless)
		json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
	json_array_append_new(ns, json_pack("{s:s}", "type", "ipc"));
	json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
	json_array_append_new(ns, json_pack("{s:s}", "type", "mount"));
	json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
	if (rootless)
		json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++)
		json_array_append_new(jm, json_string(masked[i]));
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		json_array_append_new(jr, json_string(ro[i]));
	linux_o = json_pack("{s:o, s:o, s:o}", "namespaces", ns, "maskedPaths", jm, "readonlyPaths", jr);
	if (rootless) {
		json_object_set_new(linux_o, "uidMappings",
				    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)uid, "size", 1));
		json_object_set_new(linux_o, "gidMappings",
				    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)gid, "size", 1));
	} else {
		json_object_set_new(linux_o, "resources",
				    json_pack("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
	}
	proc = json_pack("{s:b, s:{s:i, s:i}, s:[s], s:[s, s], s:s, s:{s:O, s:O, s:O, s:O}, s:[{s:s, s:i, s:i}], s:b}",
			 "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
			 "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "cwd", "/",
			 "capabilities", "bounding", caps, "effective", caps, "permitted", caps, "ambient", caps,
			 "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
	root = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0", "process", proc, "root",
			 "path", "rootfs", "readonly", 1, "hostname", "osprey", "mounts", mounts, "linux", linux_o);
	json_decref(caps);
	s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return s;
}
