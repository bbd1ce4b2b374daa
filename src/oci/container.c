// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: the runtime side of the lifecycle. create validates the
 * bundle, makes the state directory and the cgroup, clones the init and
 * drives it over the sync socket; any failure undoes all of it. start
 * releases the init through exec.fifo; delete removes what create made.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

static void now_rfc3339(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, cap, "%s.%09ldZ", base, ts.tv_nsec);
}

static int own_cgroup(int version, char *out, size_t cap)
{
	char buf[4096], *save = NULL;

	snprintf(out, cap, "/");
	if (sb_read_file("/proc/self/cgroup", buf, sizeof(buf)) < 0)
		return 0;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if ((version == SB_CG_V2 && !strcmp(c1 + 1, "")) ||
		    (version == SB_CG_V1 && strstr(c1 + 1, "memory"))) {
			snprintf(out, cap, "%s", c2 + 1);
			return 0;
		}
	}
	return 0;
}

static const char *cgroup_root(void)
{
	const char *r = getenv("OSPREY_OCI_CGROUP_ROOT");

	return r && *r ? r : "/sys/fs/cgroup";
}

static int write_pid_file(const char *path, pid_t pid, struct sb_err *e)
{
	char tmp[PATH_MAX], val[32];
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return sb_fail(e, ENAMETOOLONG, "pid file path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sb_fail(e, errno, "pid file %s: %s", path, strerror(errno));
	n = snprintf(val, sizeof(val), "%d", (int)pid);
	if (write(fd, val, (size_t)n) != n) {
		close(fd);
		unlink(tmp);
		return sb_fail(e, EIO, "pid file %s: short write", path);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return sb_fail(e, errno, "pid file %s: %s", path, strerror(errno));
	}
	return 0;
}

static int recv_msg(int fd, char *buf, size_t cap)
{
	ssize_t n;

	do
		n = recv(fd, buf, cap - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static int connect_console(const char *path, struct sb_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return sb_fail(e, ENAMETOOLONG, "console socket path too long");
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sb_fail(e, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return sb_fail(e, err, "connect to the console socket %s: %s", path, strerror(err));
	}
	return fd;
}

/* The device cgroup rules of the config, then what every container may
 * use (as runc and crun allow it): mknod of anything, the default device
 * set, ptys, and the config's own linux.devices. */
static void add_default_device_rules(struct oci_config *c)
{
	static const struct sb_dev_rule defaults[] = {
		{ true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" },	  { true, 'c', 1, 3, "rwm" },
		{ true, 'c', 1, 5, "rwm" }, { true, 'c', 1, 7, "rwm" },	  { true, 'c', 1, 8, "rwm" },
		{ true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },	  { true, 'c', 5, 1, "rwm" },
		{ true, 'c', 5, 2, "rwm" }, { true, 'c', 136, -1, "rwm" }, { true, 'c', 10, 200, "rwm" },
	};
	size_t nd = sizeof(defaults) / sizeof(defaults[0]);
	struct sb_resources *r = &c->resources;
	struct sb_dev_rule *n;

	if (!r->n_devices)
		return;
	n = realloc(r->devices, (r->n_devices + nd + c->n_devices) * sizeof(*n));
	if (!n)
		abort();
	r->devices = n;
	for (size_t i = 0; i < nd; i++)
		r->devices[r->n_devices++] = defaults[i];
	for (size_t i = 0; i < c->n_devices; i++) {
		struct sb_dev_rule d = { true, c->devices[i].type == 'b' ? 'b' : 'c', c->devices[i].major,
					 c->devices[i].minor, "rwm" };
		if (c->devices[i].type != 'p')
			r->devices[r->n_devices++] = d;
	}
}

static int check_new_id(const char *root, const char *id, struct sb_err *e)
{
	char dir[4096];
	struct oci_state st;
	struct stat sb;
	int r;

	oci_state_dir(root, id, dir, sizeof(dir));
	if (stat(dir, &sb) < 0)
		return 0;
	r = oci_state_load(root, id, &st, NULL);
	if (r == 0 && strcmp(oci_state_status(root, &st), "stopped") && st.pid) {
		oci_state_free(&st);
		return sb_fail(e, EEXIST, "container %s already exists", id);
	}
	if (r == 0)
		oci_state_free(&st);
	return sb_fail(e, EEXIST, "container %s already exists (stale state in %s: remove it with `delete %s`)", id,
		       dir, id);
}

int oci_create(const struct oci_create_opts *o, pid_t *pidp, struct sb_err *e)
{
	struct oci_config cfg;
	struct oci_state st;
	struct oci_init_args ia;
	char cfgpath[PATH_MAX], bundle[PATH_MAX], rootfs[PATH_MAX], dir[4096], fifo[4200];
	char own[1024], msg[1100];
	bool dir_made = false, cg_made = false, rootless = geteuid() != 0;
	int sv[2] = { -1, -1 }, r, pid_ns_fd = -1, self_pid_ns = -1;
	unsigned long flags = 0;
	pid_t pid = -1;
	struct stat sb;

	memset(&st, 0, sizeof(st));
	memset(&ia, 0, sizeof(ia));
	for (int k = 0; k < SB_NS_COUNT; k++)
		ia.ns_fds[k] = -1;
	ia.console_fd = ia.fifo_fd = -1;

	r = oci_id_check(o->id, e);
	if (r < 0)
		return r;
	if (!realpath(o->bundle, bundle))
		return sb_fail(e, errno, "bundle %s: %s", o->bundle, strerror(errno));
	if (snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", bundle) >= (int)sizeof(cfgpath))
		return sb_fail(e, ENAMETOOLONG, "bundle path too long");
	r = oci_config_load(cfgpath, &cfg, e);
	if (r < 0)
		goto out_cfg;
	if (!cfg.has_process) {
		r = sb_fail(e, EINVAL, "config: process is required to create a container");
		goto out_cfg;
	}
	if (cfg.root_path[0] == '/')
		r = snprintf(rootfs, sizeof(rootfs), "%s", cfg.root_path);
	else
		r = snprintf(rootfs, sizeof(rootfs), "%s/%s", bundle, cfg.root_path);
	if (r >= (int)sizeof(rootfs) || stat(rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		r = sb_fail(e, ENOENT, "rootfs %s does not exist or is not a directory", rootfs);
		goto out_cfg;
	}
	if (!(cfg.ns_mask & (1u << SB_NS_MNT)) && cfg.n_mounts)
		oci_log(OCI_LOG_WARN, "no mount namespace: the %zu mounts (and masked and read-only "
			"paths) of config.json are not made; the container only gets chroot", cfg.n_mounts);
	if (cfg.ns_mask & (1u << SB_NS_TIME)) {
		r = sb_fail(e, ENOTSUP, "config: linux.namespaces: time namespaces are not supported");
		goto out_cfg;
	}
	if (cfg.process.terminal && !o->console_socket && !o->foreground) {
		r = sb_fail(e, EINVAL, "process.terminal is true: --console-socket is required");
		goto out_cfg;
	}
	if (cfg.has_seccomp) {
		r = sb_seccomp_check(&cfg.seccomp, e);
		if (r < 0)
			goto out_cfg;
	}
	for (size_t i = 0; i < cfg.n_namespaces; i++) {
		struct oci_namespace *ns = &cfg.namespaces[i];
		if (!ns->path) {
			flags |= (unsigned long)sb_ns_clone_flag(ns->kind);
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = sb_fail(e, errno, "config: %s namespace path %s: %s", sb_ns_name(ns->kind), ns->path,
				    strerror(errno));
			goto out;
		}
		if (ns->kind == SB_NS_PID)
			pid_ns_fd = fd;
		else
			ia.ns_fds[ns->kind] = fd;
	}
	/* the cgroup namespace is made inside, once the init is in its cgroup */
	flags &= ~(unsigned long)CLONE_NEWCGROUP;
	ia.new_userns = flags & CLONE_NEWUSER;
	if (rootless && !ia.new_userns) {
		r = sb_fail(e, EPERM,
			    "running as uid %u (rootless): config.json needs a user namespace (linux.namespaces "
			    "\"user\") mapping the caller's ids; `osprey-oci spec --rootless` writes one",
			    (unsigned)geteuid());
		goto out;
	}
	if (ia.new_userns && (!cfg.n_uid_mappings || !cfg.n_gid_mappings)) {
		r = sb_fail(e, EINVAL, "config: a new user namespace needs linux.uidMappings and linux.gidMappings");
		goto out;
	}
	if (o->console_socket) {
		ia.console_fd = connect_console(o->console_socket, e);
		if (ia.console_fd < 0) {
			r = ia.console_fd;
			goto out;
		}
	}

	/* the state directory: from here on, failures remove it */
	if (sb_mkdir_p(o->root, 0700) < 0) {
		r = sb_fail(e, errno, "cannot create the state root %s: %s", o->root, strerror(errno));
		goto out;
	}
	r = check_new_id(o->root, o->id, e);
	if (r < 0)
		goto out;
	oci_state_dir(o->root, o->id, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0) {
		r = errno == EEXIST ? sb_fail(e, EEXIST, "container %s already exists", o->id)
				    : sb_fail(e, errno, "create %s: %s", dir, strerror(errno));
		goto out;
	}
	dir_made = true;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	if (mkfifo(fifo, 0600) < 0) {
		r = sb_fail(e, errno, "mkfifo %s: %s", fifo, strerror(errno));
		goto out;
	}
	ia.fifo_fd = open(fifo, O_RDWR | O_CLOEXEC);
	if (ia.fifo_fd < 0) {
		r = sb_fail(e, errno, "open %s: %s", fifo, strerror(errno));
		goto out;
	}
	snprintf(st.id, sizeof(st.id), "%s", o->id);
	snprintf(st.bundle, sizeof(st.bundle), "%s", bundle);
	snprintf(st.rootfs, sizeof(st.rootfs), "%s", rootfs);
	now_rfc3339(st.created, sizeof(st.created));
	if (cfg.n_annotations) {
		st.annotations = json_object();
		for (size_t i = 0; i < cfg.n_annotations; i++)
			json_object_set_new(st.annotations, cfg.annotation_keys[i],
					    json_string(cfg.annotation_values[i]));
	}
	snprintf(st.cgroup.root, sizeof(st.cgroup.root), "%s", cgroup_root());
	r = sb_cgroup_detect(st.cgroup.root);
	if (r < 0) {
		r = sb_fail(e, -r, "cgroup root %s: %s", st.cgroup.root, strerror(-r));
		goto out;
	}
	st.cgroup.version = r;
	own_cgroup(st.cgroup.version, own, sizeof(own));
	r = sb_cg_resolve_path(cfg.cgroups_path, own, o->id, st.cgroup.path, sizeof(st.cgroup.path), e);
	if (r < 0)
		goto out;
	st.has_cgroup = true;
	/* saved before anything else exists, so that delete can clean up
	 * after a runtime killed half-way */
	r = oci_state_save(o->root, &st, e);
	if (r < 0)
		goto out;
	if (sb_cgroup_exists(&st.cgroup)) {
		pid_t pids[1];
		if (sb_cgroup_pids(&st.cgroup, pids, 1) > 0) {
			st.has_cgroup = false; /* not ours to remove */
			r = sb_fail(e, EBUSY, "cgroup %s is in use by other processes", st.cgroup.path);
			goto out;
		}
	}
	add_default_device_rules(&cfg);
	r = sb_cgroup_create(&st.cgroup, cfg.has_resources ? &cfg.resources : NULL, e);
	if (r < 0 && rootless && (r == -EACCES || r == -EPERM || r == -EROFS)) {
		/* cgroups v1 are not delegated to users: run without one */
		oci_log(OCI_LOG_WARN,
			"rootless: no cgroup (%s): linux.resources are not applied; pause, update, "
			"ps and kill --all need one",
			e->msg);
		st.has_cgroup = false;
		r = oci_state_save(o->root, &st, e);
		if (r < 0)
			goto out;
	} else if (r < 0) {
		goto out;
	} else {
		cg_made = true;
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = sb_fail(e, errno, "socketpair: %s", strerror(errno));
		goto out;
	}
	if (pid_ns_fd >= 0) {
		self_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (setns(pid_ns_fd, CLONE_NEWPID) < 0) {
			r = sb_fail(e, errno, "join the pid namespace: %s", strerror(errno));
			goto out;
		}
	}
	ia.cfg = &cfg;
	ia.opts = o;
	ia.rootfs = rootfs;
	ia.bundle = bundle;
	ia.sync_fd = sv[1];
	{
		const char *lf = getenv("LISTEN_FDS");
		ia.listen_fds = lf ? atoi(lf) : 0;
		if (ia.listen_fds < 0 || ia.listen_fds > 1024)
			ia.listen_fds = 0;
	}
	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0) {
		close(sv[0]);
		oci_init_main(&ia);
	}
	if (self_pid_ns >= 0) {
		setns(self_pid_ns, CLONE_NEWPID);
		close(self_pid_ns);
	}
	if (pid < 0 && rootless && (errno == EPERM || errno == EACCES || errno == ENOSPC)) {
		r = sb_fail(e, errno,
			    "rootless: this host does not let users create user namespaces (%s): see the "
			    "sysctls kernel.unprivileged_userns_clone and user.max_user_namespaces",
			    strerror(errno));
		goto out;
	}
	if (pid < 0) {
		r = sb_fail(e, errno, "clone the container init: %s", strerror(errno));
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	if (ia.new_userns && rootless) {
		/* the caller's own ids directly, more through newuidmap/newgidmap */
		r = sb_idmap_write_unprivileged(pid, false, cfg.gid_mappings, cfg.n_gid_mappings, e);
		if (r == 0)
			r = sb_idmap_write_unprivileged(pid, true, cfg.uid_mappings, cfg.n_uid_mappings, e);
		if (r < 0)
			goto out;
	} else if (ia.new_userns) {
		r = sb_idmap_write(pid, "gid_map", cfg.gid_mappings, cfg.n_gid_mappings, e);
		if (r == 0)
			r = sb_idmap_write(pid, "uid_map", cfg.uid_mappings, cfg.n_uid_mappings, e);
		if (r < 0)
			goto out;
	}
	if (st.has_cgroup) {
		r = sb_cgroup_add_pid(&st.cgroup, pid, e);
		if (r < 0)
			goto out;
	}
	if (cfg.process.has_oom_score_adj) {
		char p[64], v[16];
		snprintf(p, sizeof(p), "/proc/%d/oom_score_adj", (int)pid);
		snprintf(v, sizeof(v), "%d", cfg.process.oom_score_adj);
		r = sb_write_file(p, v, e);
		if (r < 0)
			goto out;
	}
	st.pid = pid;
	st.start_time = oci_pid_start_time(pid);
	msg[0] = OCI_SYNC_GO;
	if (send(sv[0], msg, 1, MSG_NOSIGNAL) != 1) {
		r = sb_fail(e, EPIPE, "the container init died before setup");
		goto out;
	}
	for (;;) {
		int n = recv_msg(sv[0], msg, sizeof(msg));
		if (n <= 0) {
			int status = 0;
			waitpid(pid, &status, 0);
			pid = -1;
			r = sb_fail(e, ECHILD, "the container init exited during setup (%s %d)",
				    WIFSIGNALED(status) ? "signal" : "status",
				    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			goto out;
		}
		if (msg[0] == OCI_SYNC_ERROR) {
			r = sb_fail(e, EINVAL, "%s", msg + 1);
			goto out;
		}
		if (msg[0] == OCI_SYNC_HOOKS) {
			/* prestart (deprecated) sees "created", as runc and crun
			 * give it and runtime-tools' hooks_stdin expects */
			char *json = oci_state_json(o->root, &st, "created");
			r = oci_hooks_run(cfg.hooks[OCI_HOOK_PRESTART], cfg.n_hooks[OCI_HOOK_PRESTART], "prestart",
					  json, e);
			free(json);
			json = oci_state_json(o->root, &st, "creating");
			if (r == 0)
				r = oci_hooks_run(cfg.hooks[OCI_HOOK_CREATE_RUNTIME],
						  cfg.n_hooks[OCI_HOOK_CREATE_RUNTIME], "createRuntime", json, e);
			free(json);
			if (r < 0)
				goto out;
			msg[0] = OCI_SYNC_GO;
			send(sv[0], msg, 1, MSG_NOSIGNAL);
			continue;
		}
		if (msg[0] == OCI_SYNC_READY)
			break;
		r = sb_fail(e, EPROTO, "unexpected message from the container init");
		goto out;
	}
	r = oci_state_save(o->root, &st, e);
	if (r == 0 && o->pid_file)
		r = write_pid_file(o->pid_file, pid, e);
	if (r < 0)
		goto out;
	msg[0] = OCI_SYNC_GO;
	if (send(sv[0], msg, 1, MSG_NOSIGNAL) != 1 || recv_msg(sv[0], msg, sizeof(msg)) <= 0 ||
	    msg[0] != OCI_SYNC_ACK) {
		r = sb_fail(e, EPIPE, "the container init died before it was created");
		goto out;
	}
	*pidp = pid;
	pid = -1;
	r = 0;
out:
	if (r < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		if (cg_made)
			sb_cgroup_destroy(&st.cgroup, true, NULL);
		if (dir_made)
			sb_rm_rf(dir);
		if (o->pid_file && dir_made)
			unlink(o->pid_file);
	}
	for (int k = 0; k < SB_NS_COUNT; k++)
		if (ia.ns_fds[k] >= 0)
			close(ia.ns_fds[k]);
	if (pid_ns_fd >= 0)
		close(pid_ns_fd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (ia.fifo_fd >= 0)
		close(ia.fifo_fd);
	if (ia.console_fd >= 0)
		close(ia.console_fd);
	oci_state_free(&st);
out_cfg:
	oci_config_free(&cfg);
	return r;
}

static int load_cfg_for(const struct oci_state *st, struct oci_config *cfg)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/config.json", st->bundle) >= (int)sizeof(path)) {
		memset(cfg, 0, sizeof(*cfg));
		return -ENAMETOOLONG;
	}
	return oci_config_load(path, cfg, NULL);
}

int oci_start(const char *root, const char *id, bool wait_exec, struct sb_err *e)
{
	struct oci_state st;
	struct oci_config cfg;
	char fifo[4200], exe[64];
	struct stat init_exe;
	bool have_exe;
	const char *status;
	int r, fd;

	r = oci_state_load(root, id, &st, e);
	if (r < 0)
		return r;
	status = oci_state_status(root, &st);
	if (strcmp(status, "created")) {
		r = sb_fail(e, EINVAL, "container %s is %s, not created: cannot start it", id, status);
		goto out;
	}
	oci_state_dir(root, id, fifo, sizeof(fifo));
	strncat(fifo, "/exec.fifo", sizeof(fifo) - strlen(fifo) - 1);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)st.pid);
	have_exe = wait_exec && stat(exe, &init_exe) == 0;
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = sb_fail(e, errno, "container %s: its init is gone (%s)", id, strerror(errno));
		goto out;
	}
	if (write(fd, "0", 1) != 1) {
		r = sb_fail(e, errno, "container %s: cannot release its init: %s", id, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	unlink(fifo);
	/*
	 * Return once the init has exec'd the process (its executable is no
	 * longer ours), at most 1 s: a signal sent right after `start` must
	 * reach the process, not the init, which as pid 1 of its namespace
	 * ignores it.
	 */
	for (long waited = 0, step = 20000; have_exe && waited < 1000000000; waited += step) {
		struct stat now;

		if (stat(exe, &now) < 0 || now.st_ino != init_exe.st_ino || now.st_dev != init_exe.st_dev)
			break;
		nanosleep(&(struct timespec){ 0, step }, NULL);
		if (step < 1000000)
			step *= 2;
	}
	r = 0;
	if (load_cfg_for(&st, &cfg) == 0 && cfg.n_hooks[OCI_HOOK_POSTSTART]) {
		char *json = oci_state_json(root, &st, "running");
		struct sb_err he;
		/* poststart failures are warnings (the process runs already) */
		if (oci_hooks_run(cfg.hooks[OCI_HOOK_POSTSTART], cfg.n_hooks[OCI_HOOK_POSTSTART], "poststart", json,
				  &he) < 0)
			oci_log(OCI_LOG_WARN, "%s", he.msg);
		free(json);
	}
	oci_config_free(&cfg);
out:
	oci_state_free(&st);
	return r;
}

/* Whether pid, the init of its own pid namespace, would drop sig: the
 * kernel discards signals such an init neither catches nor ignores. */
static bool init_drops(pid_t pid, int sig)
{
	char path[64], buf[4096], *l;
	unsigned long long caught = 0;
	bool ns_init = false;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	n = sb_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	l = strstr(buf, "\nNSpid:");
	if (l) {
		char *end = strchr(l + 1, '\n'), *last;
		if (end)
			*end = '\0';
		last = strrchr(l, '\t');
		ns_init = last && !strcmp(last + 1, "1") && strchr(l + 8, '\t');
		if (end)
			*end = '\n';
	}
	l = strstr(buf, "\nSigCgt:");
	if (l)
		caught = strtoull(l + 8, NULL, 16);
	return ns_init && !(caught & (1ull << (sig - 1)));
}

/* Seconds since `start` (which removed exec.fifo: the state directory's
 * last change). */
static double since_start(const char *root, const char *id)
{
	struct timespec now;
	char dir[4096];
	struct stat sb;

	oci_state_dir(root, id, dir, sizeof(dir));
	if (stat(dir, &sb) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return 1e9;
	return (double)(now.tv_sec - sb.st_mtim.tv_sec) + (double)(now.tv_nsec - sb.st_mtim.tv_nsec) / 1e9;
}

int oci_kill(const char *root, const char *id, int sig, bool all, struct sb_err *e)
{
	struct oci_state st;
	const char *status;
	int r = 0;

	r = oci_state_load(root, id, &st, e);
	if (r < 0)
		return r;
	status = oci_state_status(root, &st);
	if (!strcmp(status, "stopped") || !strcmp(status, "creating")) {
		r = sb_fail(e, ESRCH, "container %s is %s: nothing to signal", id, status);
		goto out;
	}
	if (all && st.has_cgroup) {
		pid_t pids[4096];
		int n = sb_cgroup_pids(&st.cgroup, pids, 4096);
		for (int i = 0; i < n; i++)
			kill(pids[i], sig);
		if (sig == SIGKILL && !strcmp(status, "paused"))
			sb_cgroup_freeze(&st.cgroup, false, NULL);
	} else {
		/*
		 * A process that has just started (the container's pid 1) may
		 * not have installed its handler yet, and the kernel would
		 * drop the signal: give it up to 200 ms to do so.
		 */
		if (sig > 0 && sig < 64 && sig != SIGKILL && sig != SIGSTOP && !strcmp(status, "running") &&
		    since_start(root, id) < 2.0) {
			for (long waited = 0, step = 1000000; waited < 200000000 && init_drops(st.pid, sig);
			     waited += step)
				nanosleep(&(struct timespec){ 0, step }, NULL);
		}
		if (kill(st.pid, sig) < 0)
			r = sb_fail(e, errno, "kill %d: %s", (int)st.pid, strerror(errno));
	}
out:
	oci_state_free(&st);
	return r;
}

int oci_delete(const char *root, const char *id, bool force, struct sb_err *e)
{
	struct oci_state st;
	struct oci_config cfg;
	const char *status;
	char dir[4096];
	int r;

	r = oci_state_load(root, id, &st, e);
	if (r == -ENOENT)
		return r;
	oci_state_dir(root, id, dir, sizeof(dir));
	if (r < 0) {
		/* a state directory without a state: a runtime died while
		 * creating; there is nothing else we could know about */
		if (sb_rm_rf(dir) < 0)
			return sb_fail(e, EIO, "cannot remove %s", dir);
		return 0;
	}
	status = oci_state_status(root, &st);
	if (!strcmp(status, "running") || !strcmp(status, "paused")) {
		if (!force) {
			r = sb_fail(e, EBUSY, "container %s is %s: stop it first or use --force", id, status);
			goto out;
		}
	}
	if (strcmp(status, "stopped") && st.pid) {
		if (st.has_cgroup && !strcmp(status, "paused"))
			sb_cgroup_freeze(&st.cgroup, false, NULL);
		kill(st.pid, SIGKILL);
		for (int i = 0; i < 2000 && oci_pid_alive(st.pid, st.start_time); i++) {
			waitpid(st.pid, NULL, WNOHANG);
			nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
		}
	}
	if (st.has_cgroup) {
		r = sb_cgroup_destroy(&st.cgroup, true, e);
		if (r < 0)
			goto out;
		/* our default parent /osprey-oci stays (as the cgroups of
		 * systemd's slices do): removing and remaking it for every
		 * container costs two cgroup operations per hierarchy */
	}
	if (strcmp(status, "creating") && load_cfg_for(&st, &cfg) == 0) {
		if (cfg.n_hooks[OCI_HOOK_POSTSTOP]) {
			char *json = oci_state_json(root, &st, "stopped");
			struct sb_err he;
			if (oci_hooks_run(cfg.hooks[OCI_HOOK_POSTSTOP], cfg.n_hooks[OCI_HOOK_POSTSTOP], "poststop",
					  json, &he) < 0)
				oci_log(OCI_LOG_WARN, "%s", he.msg);
			free(json);
		}
	}
	if (strcmp(status, "creating"))
		oci_config_free(&cfg);
	if (sb_rm_rf(dir) < 0)
		r = sb_fail(e, EIO, "cannot remove %s", dir);
	else
		r = 0;
out:
	oci_state_free(&st);
	return r;
}
