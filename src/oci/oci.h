// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: the runtime's internal interfaces. State (state.c), hooks
 * (hooks.c), create/start/delete (container.c), the container init
 * (init.c), exec (exec.c) and the command line (main.c).
 */
#ifndef OSPREY_OCI_H
#define OSPREY_OCI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "oci/config.h"
#include "sandbox/sandbox.h"

#define OCI_VERSION "1.1.0"
#define OCI_DEFAULT_ROOT "/run/osprey-oci"

/* ---- logging (main.c) ---- */
enum { OCI_LOG_DEBUG, OCI_LOG_INFO, OCI_LOG_WARN, OCI_LOG_ERROR };
__attribute__((format(printf, 2, 3))) void oci_log(int level, const char *fmt, ...);

/* ---- state (state.c) ---- */
struct oci_state {
	char id[256];
	char bundle[4096];
	char rootfs[4096];
	pid_t pid;              /* 0 while creating */
	uint64_t start_time;    /* /proc/<pid>/stat field 22 */
	char created[64];       /* RFC 3339 */
	struct sb_cgroup cgroup;
	bool has_cgroup;
	json_t *annotations;    /* owned; an object or NULL */
};

int oci_id_check(const char *id, struct sb_err *e);
void oci_state_dir(const char *root, const char *id, char *buf, size_t cap);
int oci_state_save(const char *root, const struct oci_state *st, struct sb_err *e);
/* -ENOENT: no such container; -EINVAL: state dir without a readable state */
int oci_state_load(const char *root, const char *id, struct oci_state *st, struct sb_err *e);
void oci_state_free(struct oci_state *st);
/* "creating", "created", "running", "paused" or "stopped" */
const char *oci_state_status(const char *root, const struct oci_state *st);
/* The state JSON of the specification (what `state` prints and hooks
 * read on stdin). */
char *oci_state_json(const char *root, const struct oci_state *st, const char *status);
uint64_t oci_pid_start_time(pid_t pid);
/* alive and still the same process (not a zombie) */
bool oci_pid_alive(pid_t pid, uint64_t start_time);

/* ---- hooks (hooks.c) ---- */
int oci_hooks_run(const struct oci_hook *hooks, size_t n, const char *kind, const char *state_json,
		  struct sb_err *e);

/* ---- container lifecycle (container.c) ---- */
struct oci_create_opts {
	const char *root, *id, *bundle, *pid_file, *console_socket;
	bool no_pivot, no_new_keyring;
	int preserve_fds;
	bool foreground; /* run: keep the init as our child */
};

/* create: on success *pid is the container init (status created). */
int oci_create(const struct oci_create_opts *o, pid_t *pid, struct sb_err *e);
/* wait_exec: return once the process has replaced the init (see start) */
int oci_start(const char *root, const char *id, bool wait_exec, struct sb_err *e);
int oci_delete(const char *root, const char *id, bool force, struct sb_err *e);
int oci_kill(const char *root, const char *id, int sig, bool all, struct sb_err *e);

/* ---- the container init (init.c) ---- */
struct oci_init_args {
	const struct oci_config *cfg;
	const struct oci_create_opts *opts;
	const char *rootfs;
	const char *bundle;
	int sync_fd;         /* SOCK_SEQPACKET to the runtime */
	int fifo_fd;         /* exec.fifo, O_RDWR; -1 in run mode without fifo */
	int console_fd;      /* connected console socket or -1 */
	int ns_fds[SB_NS_COUNT]; /* namespaces to join, -1 otherwise */
	bool new_userns;
	int listen_fds;      /* LISTEN_FDS passed through */
};
__attribute__((noreturn)) void oci_init_main(struct oci_init_args *a);

/* Messages on the sync socket: one type byte, then text. */
enum {
	OCI_SYNC_GO = 'G',
	OCI_SYNC_HOOKS = 'H',
	OCI_SYNC_READY = 'R',
	OCI_SYNC_ERROR = 'E',
	OCI_SYNC_ACK = 'A',
};

/* Applies the process attributes (user, caps, rlimits, nnp, seccomp)
 * and execs; shared by the init and exec. filter: the compiled filter, or
 * NULL to build it now. Returns only on failure. */
int oci_exec_process(const struct oci_process *p, const struct oci_config *cfg, int preserve_fds,
		     int listen_fds, int err_fd, const struct sb_seccomp_prog *filter, struct sb_err *e);
int oci_apply_rlimits(const struct oci_process *p, struct sb_err *e);
/* Resolves args[0] through PATH from the process environment; 0 or -errno. */
int oci_find_program(const struct oci_process *p, char *out, size_t cap);
/* Sends a pty master over a unix socket (SCM_RIGHTS). */
int oci_send_fd(int sock, int fd, struct sb_err *e);
/* Opens a pty in the current mount namespace; returns the master and
 * puts the slave's fd in *slave. */
int oci_open_pty(unsigned int rows, unsigned int cols, int *slave, char *slave_name, size_t cap,
		 struct sb_err *e);

/* ---- exec (exec.c) ---- */
struct oci_exec_opts {
	const char *root, *id, *process_json_path, *pid_file, *console_socket, *cwd;
	char **args, **env;
	int n_args, n_env;
	bool tty, detach;
	int preserve_fds;
};
/* Returns the process's exit status (foreground) or 0 (detached), or -errno. */
int oci_exec(const struct oci_exec_opts *o, struct sb_err *e);

#endif
