// SPDX-License-Identifier: Apache-2.0
/*
 * The sandbox primitives shared by the OCI runtime (src/oci) and, later,
 * the VMM jailer: namespaces, cgroups v1 and v2, mounts, capabilities and
 * seccomp filters. Every function returns 0 or -errno and, on failure,
 * leaves one message in a struct sb_err.
 */
#ifndef OSPREY_SANDBOX_H
#define OSPREY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sb_err {
	char msg[1024];
};

/* Sets e->msg from fmt and returns -errnum (errnum > 0). */
__attribute__((format(printf, 3, 4))) int sb_fail(struct sb_err *e, int errnum, const char *fmt, ...);

/* ---- small file helpers (util.c) ---- */
int sb_write_file(const char *path, const char *data, struct sb_err *e);
/* Reads at most cap-1 bytes, NUL-terminated; returns the length or -errno. */
ssize_t sb_read_file(const char *path, char *buf, size_t cap);
int sb_mkdir_p(const char *path, mode_t mode);
/* Removes a directory tree (files and directories only). */
int sb_rm_rf(const char *path);

/* ---- namespaces (ns.c) ---- */
enum sb_ns_kind {
	SB_NS_PID,
	SB_NS_NET,
	SB_NS_MNT,
	SB_NS_IPC,
	SB_NS_UTS,
	SB_NS_USER,
	SB_NS_CGROUP,
	SB_NS_TIME,
	SB_NS_COUNT,
};
/* "pid", "network", "mount", ... -> kind; -1 when unknown. */
int sb_ns_from_name(const char *name);
const char *sb_ns_name(int kind);
/* The /proc/<pid>/ns/<file> name and the CLONE_NEW* flag of a kind. */
const char *sb_ns_proc_name(int kind);
int sb_ns_clone_flag(int kind);

struct sb_idmap {
	uint32_t container_id, host_id, size;
};
/* "0 1000 1\n..." for /proc/<pid>/{uid,gid}_map; validated (no overlap,
 * no zero size, no overflow). */
int sb_idmap_format(const struct sb_idmap *maps, size_t n, char *buf, size_t cap, struct sb_err *e);
int sb_idmap_write(pid_t pid, const char *which, const struct sb_idmap *maps, size_t n, struct sb_err *e);
/*
 * The same from an unprivileged caller (rootless): a single mapping of
 * the caller's own uid (gid) is written directly (for gids after
 * "deny" to setgroups, as the kernel requires); anything else goes
 * through newuidmap/newgidmap (shadow's setuid helpers, which check
 * /etc/subuid and /etc/subgid). One clear error when neither can.
 */
int sb_idmap_write_unprivileged(pid_t pid, bool uid, const struct sb_idmap *maps, size_t n,
				struct sb_err *e);

/* ---- capabilities (caps.c) ---- */
/* "CAP_SYS_ADMIN" -> 21; -1 when unknown. */
int sb_cap_from_name(const char *name);
const char *sb_cap_name(int cap);
int sb_cap_last(void);

struct sb_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};
/* Drops the bounding set to caps->bounding (needs CAP_SETPCAP). */
int sb_caps_drop_bounding(const struct sb_caps *caps, struct sb_err *e);
/* Sets effective/permitted/inheritable then raises the ambient set. */
int sb_caps_apply(const struct sb_caps *caps, struct sb_err *e);

/* ---- seccomp (seccomp.c) ---- */
enum sb_scmp_action {
	SB_SCMP_ALLOW,
	SB_SCMP_ERRNO,
	SB_SCMP_KILL,
	SB_SCMP_KILL_PROCESS,
	SB_SCMP_KILL_THREAD,
	SB_SCMP_TRAP,
	SB_SCMP_TRACE,
	SB_SCMP_LOG,
	SB_SCMP_NOTIFY,
};
/* "SCMP_ACT_ERRNO" -> SB_SCMP_ERRNO; -1 when unknown. */
int sb_scmp_action_from_name(const char *name);

enum sb_scmp_op {
	SB_SCMP_OP_NE = 1,
	SB_SCMP_OP_LT,
	SB_SCMP_OP_LE,
	SB_SCMP_OP_EQ,
	SB_SCMP_OP_GE,
	SB_SCMP_OP_GT,
	SB_SCMP_OP_MASKED_EQ,
};
int sb_scmp_op_from_name(const char *name);

#define SB_SCMP_MAX_ARGS 6
struct sb_scmp_arg {
	unsigned int index;
	uint64_t value, value_two;
	int op;
};

struct sb_scmp_rule {
	char **names;
	size_t n_names;
	int action;
	int errno_ret; /* -1: default (EPERM) */
	struct sb_scmp_arg args[SB_SCMP_MAX_ARGS];
	size_t n_args;
};

struct sb_seccomp {
	int default_action;
	int default_errno; /* -1: default (EPERM) */
	char **archs; /* "SCMP_ARCH_X86_64", ... */
	size_t n_archs;
	struct sb_scmp_rule *rules;
	size_t n_rules;
	char **flags; /* "SECCOMP_FILTER_FLAG_LOG", ... */
	size_t n_flags;
};

/* Builds the filter (libseccomp) and loads it into the calling thread.
 * set_nnp: also set no_new_privs (libseccomp's default). */
int sb_seccomp_load(const struct sb_seccomp *s, bool set_nnp, struct sb_err *e);
/* Builds the filter without loading it (validation, tests): returns the
 * number of rules added, or -errno. */
int sb_seccomp_check(const struct sb_seccomp *s, struct sb_err *e);
/* A filter compiled ahead (BPF), to load later with little work: the
 * container init compiles before it waits for `start`. */
struct sb_seccomp_prog {
	void *filter;       /* struct sock_filter[len] */
	unsigned short len; /* 0: none */
	unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
};
int sb_seccomp_compile(const struct sb_seccomp *s, struct sb_seccomp_prog *out, struct sb_err *e);
/* Loads a compiled filter (no_new_privs or CAP_SYS_ADMIN needed). */
int sb_seccomp_load_prog(const struct sb_seccomp_prog *p, struct sb_err *e);
void sb_seccomp_prog_free(struct sb_seccomp_prog *p);

/* ---- mounts (mount.c) ---- */
struct sb_mount_flags {
	unsigned long flags;      /* MS_* for mount(2) */
	unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE | MS_REC */
	bool clear_ro;            /* "rw" given explicitly */
	char data[512];           /* filesystem options, comma separated */
};
/* Maps OCI/fstab mount options onto flags and data. */
int sb_mount_parse_options(char *const *opts, size_t n, struct sb_mount_flags *out, struct sb_err *e);
/* "rprivate" etc. -> MS_* propagation; 0 when unknown. */
unsigned long sb_mount_propagation(const char *name);

/* Opens path (absolute, inside root) beneath rootfd, following symlinks
 * as if root were "/", creating missing directories (and the last
 * component as a file when is_file). Returns an O_PATH fd or -errno. */
int sb_open_in_root(int rootfd, const char *path, bool create, bool is_file, struct sb_err *e);
/* "/proc/self/fd/N" for an fd. */
void sb_fd_path(int fd, char *buf, size_t cap);

/* MS_NOSUID etc. currently set on the mount at path (a bind remount must
 * repeat them). */
unsigned long sb_mount_locked_flags(const char *path);
int sb_pivot_root(const char *rootfs, struct sb_err *e);
int sb_move_chroot(const char *rootfs, struct sb_err *e);
/* Binds /dev/null over a file, a read-only tmpfs over a directory;
 * a missing path is not an error. */
int sb_mask_path(const char *path, struct sb_err *e);
/* Remounts path read-only (bind onto itself first); missing is fine. */
int sb_readonly_path(const char *path, struct sb_err *e);

/* ---- cgroups (cgroup.c) ---- */
struct sb_resources {
	/* -1 = unset for the signed ones, 0 = unset for shares/weights */
	int64_t mem_limit, mem_reservation, mem_swap, kernel_mem;
	int64_t mem_swappiness;
	int64_t kernel_tcp; /* v1 memory.kmem.tcp.limit_in_bytes */
	bool disable_oom_killer;
	uint64_t cpu_shares;
	int64_t cpu_quota;
	uint64_t cpu_period;
	int64_t cpu_rt_runtime;
	uint64_t cpu_rt_period;
	char cpus[256], mems[256];
	int64_t pids_limit;
	uint16_t blkio_weight;
	struct sb_hugepage {
		char page_size[16];
		uint64_t limit;
	} *hugepages;
	size_t n_hugepages;
	/* device cgroup rules (v1 only; v2 needs an eBPF program) */
	struct sb_dev_rule {
		bool allow;
		char type; /* 'a', 'c', 'b' */
		int64_t major, minor; /* -1: any */
		char access[4];
	} *devices;
	size_t n_devices;
	/* "unified" key/values (v2 only) */
	char **unified_keys, **unified_values;
	size_t n_unified;
};
void sb_resources_init(struct sb_resources *r);
void sb_resources_free(struct sb_resources *r);

enum sb_cg_version { SB_CG_V1 = 1, SB_CG_V2 = 2 };

struct sb_cgroup {
	int version;
	char root[256];   /* /sys/fs/cgroup (or OSPREY_CGROUP_ROOT) */
	char path[512];   /* "/osprey-oci/id": below each hierarchy's root */
};

/* v2 when root is a cgroup2 file system, else v1. */
int sb_cgroup_detect(const char *root);
/* Translations, exposed for tests. */
uint64_t sb_cg_shares_to_weight(uint64_t shares);
uint64_t sb_cg_blkio_to_io_weight(uint16_t weight);
/* OCI swap is memory+swap; v2's memory.swap.max is swap alone. */
int sb_cg_swap_v2(int64_t mem, int64_t swap, char *buf, size_t cap, struct sb_err *e);
/* OCI cgroupsPath -> path below the hierarchies' roots: absolute paths
 * kept, relative ones placed under the runtime's own cgroup, absent:
 * "/<fallback_parent>/<id>". Rejects "..". */
int sb_cg_resolve_path(const char *cgroups_path, const char *own, const char *id, char *out, size_t cap,
		       struct sb_err *e);

/* Creates the cgroup (in each v1 hierarchy), sets resources. */
int sb_cgroup_create(struct sb_cgroup *cg, const struct sb_resources *r, struct sb_err *e);
int sb_cgroup_set(const struct sb_cgroup *cg, const struct sb_resources *r, struct sb_err *e);
int sb_cgroup_add_pid(const struct sb_cgroup *cg, pid_t pid, struct sb_err *e);
/* Removes the cgroup directories (kills what is left when kill is set). */
int sb_cgroup_destroy(const struct sb_cgroup *cg, bool kill, struct sb_err *e);
/* One rmdir attempt per hierarchy (a parent that may still be in use). */
void sb_cgroup_remove_if_empty(const struct sb_cgroup *cg);
int sb_cgroup_freeze(const struct sb_cgroup *cg, bool freeze, struct sb_err *e);
/* 1 frozen, 0 not, -errno */
int sb_cgroup_frozen(const struct sb_cgroup *cg);
/* Fills pids (up to cap); returns the count or -errno. */
int sb_cgroup_pids(const struct sb_cgroup *cg, pid_t *pids, size_t cap);
bool sb_cgroup_exists(const struct sb_cgroup *cg);

#endif
