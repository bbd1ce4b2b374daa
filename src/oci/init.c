// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: the container init. Runs in the namespaces clone() gave it,
 * sets the container up (mounts, devices, root, hostname, sysctls,
 * console), reports ready, waits on exec.fifo for `start`, then drops to
 * the configured credentials and execs the user's process. Every failure
 * goes back to the runtime as one message on the sync socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include "oci/oci.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int sync_fd = -1;

__attribute__((noreturn)) static void die(const struct sb_err *e)
{
	char msg[sizeof(e->msg) + 1];

	msg[0] = OCI_SYNC_ERROR;
	memcpy(msg + 1, e->msg, sizeof(e->msg));
	if (sync_fd < 0 || send(sync_fd, msg, 1 + strlen(e->msg), MSG_NOSIGNAL) < 0)
		fprintf(stderr, "osprey-oci: %s\n", e->msg);
	_exit(1);
}

/* Waits for the runtime's GO; its death (EOF) ends us. */
static void wait_go(void)
{
	char c;
	ssize_t n;

	do
		n = recv(sync_fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 1 || c != OCI_SYNC_GO)
		_exit(1);
}

static void send_msg(char type)
{
	if (send(sync_fd, &type, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
}

int oci_send_fd(int sock, int fd, struct sb_err *e)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte = 'P';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return sb_fail(e, errno, "send the console to --console-socket: %s", strerror(errno));
	return 0;
}

int oci_open_pty(unsigned int rows, unsigned int cols, int *slave, char *slave_name, size_t cap,
		 struct sb_err *e)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0)
		return sb_fail(e, errno, "open /dev/ptmx: %s", strerror(errno));
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave_name, cap) != 0) {
		int err = errno;
		close(m);
		return sb_fail(e, err, "set up the pty: %s", strerror(err));
	}
	*slave = open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		int err = errno;
		close(m);
		return sb_fail(e, err, "open %s: %s", slave_name, strerror(err));
	}
	if (rows && cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		ioctl(m, TIOCSWINSZ, &ws);
	}
	return m;
}

int oci_find_program(const struct oci_process *p, char *out, size_t cap)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	const char *prog = p->args[0];
	char dir[4096];
	struct stat st;

	if (strchr(prog, '/')) {
		snprintf(out, cap, "%s", prog);
		if (stat(out, &st) < 0)
			return -errno;
		return S_ISREG(st.st_mode) ? 0 : -EACCES;
	}
	for (size_t i = 0; i < p->n_env; i++)
		if (!strncmp(p->env[i], "PATH=", 5))
			path = p->env[i] + 5;
	while (*path) {
		size_t l = strcspn(path, ":");
		snprintf(dir, sizeof(dir), "%.*s", (int)l, path);
		snprintf(out, cap, "%s/%s", l ? dir : ".", prog);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		path += l;
		if (*path == ':')
			path++;
	}
	return -ENOENT;
}

int oci_apply_rlimits(const struct oci_process *p, struct sb_err *e)
{
	static const char *const names[] = { "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
					     "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO",
					     "RTTIME" };

	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct oci_rlimit *l = &p->rlimits[i];
		struct rlimit rl = { .rlim_cur = l->soft, .rlim_max = l->hard };
		if (setrlimit(l->resource, &rl) < 0)
			return sb_fail(e, errno, "setrlimit RLIMIT_%s to %llu/%llu: %s%s",
				       l->resource < 16 ? names[l->resource] : "?", (unsigned long long)l->soft,
				       (unsigned long long)l->hard, strerror(errno),
				       errno == EPERM ? " (raising a hard limit needs CAP_SYS_RESOURCE)" : "");
	}
	return 0;
}

int oci_exec_process(const struct oci_process *p, const struct oci_config *cfg, int preserve_fds,
		     int listen_fds, int err_fd, const struct sb_seccomp_prog *filter, struct sb_err *e)
{
	char prog[4096];
	char **envp;
	int r;

	r = oci_apply_rlimits(p, e);
	if (r < 0)
		return r;
	if (p->umask >= 0)
		umask((mode_t)p->umask);
	else
		umask(022);
	if (chdir(p->cwd) < 0)
		return sb_fail(e, errno, "chdir to the process cwd %s: %s", p->cwd, strerror(errno));
	r = oci_find_program(p, prog, sizeof(prog));
	if (r < 0)
		return sb_fail(e, -r, "executable %s not found in the container: %s", p->args[0], strerror(-r));
	if (cfg && cfg->has_personality && personality(cfg->personality) < 0)
		return sb_fail(e, errno, "personality: %s", strerror(errno));

	/* seccomp without no_new_privs needs CAP_SYS_ADMIN: load it while
	 * we still have it (its rules must then allow what follows) */
	if (cfg && cfg->has_seccomp && !p->no_new_privileges) {
		r = filter && filter->len ? sb_seccomp_load_prog(filter, e)
				      : sb_seccomp_load(&cfg->seccomp, false, e);
		if (r < 0)
			return r;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return sb_fail(e, errno, "PR_SET_KEEPCAPS: %s", strerror(errno));
	if (p->has_caps) {
		r = sb_caps_drop_bounding(&p->caps, e);
		if (r < 0)
			return r;
	}
	if (setgroups(p->n_additional_gids, p->additional_gids) < 0 &&
	    !(errno == EPERM && p->n_additional_gids == 0))
		return sb_fail(e, errno, "setgroups: %s", strerror(errno));
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return sb_fail(e, errno, "setgid %u: %s (is the gid mapped?)", p->gid, strerror(errno));
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return sb_fail(e, errno, "setuid %u: %s (is the uid mapped?)", p->uid, strerror(errno));
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (p->has_caps) {
		r = sb_caps_apply(&p->caps, e);
		if (r < 0)
			return r;
	}
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sb_fail(e, errno, "no_new_privs: %s", strerror(errno));

	/* the environment: the process's, plus socket activation */
	envp = calloc(p->n_env + 3, sizeof(char *));
	if (!envp)
		return sb_fail(e, ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < p->n_env; i++)
		envp[n++] = p->env[i];
	if (listen_fds > 0) {
		static char lf[32];
		snprintf(lf, sizeof(lf), "LISTEN_FDS=%d", listen_fds);
		envp[n++] = lf;
		static char lp[] = "LISTEN_PID=1";
		envp[n++] = lp;
	}
	envp[n] = NULL;

	/* fds 3 .. 3+N-1 pass through, everything above closes on exec */
	int keep = preserve_fds + listen_fds;
	for (int fd = 3; fd < 3 + keep; fd++)
		if (fd != err_fd)
			fcntl(fd, F_SETFD, 0);
	syscall(SYS_close_range, 3 + keep, ~0U, CLOSE_RANGE_CLOEXEC);

	if (cfg && cfg->has_seccomp && p->no_new_privileges) {
		/* last, so the filter sees only the user's program */
		r = filter && filter->len ? sb_seccomp_load_prog(filter, e)
				      : sb_seccomp_load(&cfg->seccomp, true, e);
		if (r < 0) {
			free(envp);
			return r;
		}
	}
	execve(prog, p->args, envp);
	r = errno;
	free(envp);
	return sb_fail(e, r, "exec %s: %s", prog, strerror(r));
}

/* ---- mounts ---- */

static bool in_userns;

static int bind_target(int rootfd, const char *dest, bool is_file, char *path, size_t cap, int *fdp,
		       struct sb_err *e)
{
	int fd = sb_open_in_root(rootfd, dest, true, is_file, e);

	if (fd < 0)
		return fd;
	*fdp = fd;
	sb_fd_path(fd, path, cap);
	return 0;
}

/* After a mount on path, its fd still names the mount below: open it
 * again to reach the new one (for remounts and propagation changes). */
static int reopen(int rootfd, const char *dest, char *path, size_t cap, int *fdp, struct sb_err *e)
{
	int fd = sb_open_in_root(rootfd, dest, false, false, e);

	if (fd < 0)
		return fd;
	close(*fdp);
	*fdp = fd;
	sb_fd_path(fd, path, cap);
	return 0;
}

static int mount_cgroup(int rootfd, const struct oci_mount *m, const char *target, struct sb_err *e)
{
	unsigned long fl = m->flags.flags & ~(MS_BIND | MS_REC);
	int v = sb_cgroup_detect("/sys/fs/cgroup");

	if (v == SB_CG_V2) {
		if (mount("cgroup2", target, "cgroup2", fl, NULL) == 0)
			return 0;
	} else if (!in_userns) {
		/* v1: a tmpfs with one mount per hierarchy, as the host has */
		static const char *const ctls[] = { "memory", "cpu", "cpuacct", "cpuset", "pids",
						    "blkio", "freezer", "devices", "hugetlb" };
		char sub[512], opt[32];

		if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
			return sb_fail(e, errno, "mount a tmpfs on %s: %s", m->destination, strerror(errno));
		for (size_t i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
			char host[64];
			snprintf(host, sizeof(host), "/sys/fs/cgroup/%s", ctls[i]);
			if (access(host, F_OK) < 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", m->destination, ctls[i]);
			int fd = sb_open_in_root(rootfd, sub, true, false, e);
			if (fd < 0)
				return fd;
			char p[64];
			sb_fd_path(fd, p, sizeof(p));
			snprintf(opt, sizeof(opt), "%s", ctls[i]);
			int r = mount("cgroup", p, "cgroup", fl, opt);
			close(fd);
			if (r < 0)
				return sb_fail(e, errno, "mount cgroup %s on %s: %s", ctls[i], sub, strerror(errno));
		}
		if (fl & MS_RDONLY) {
			int tfd = sb_open_in_root(rootfd, m->destination, false, false, e);
			if (tfd < 0)
				return tfd;
			sb_fd_path(tfd, sub, sizeof(sub));
			int r = mount(NULL, sub, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				      NULL);
			close(tfd);
			if (r < 0)
				return sb_fail(e, errno, "remount %s read-only: %s", m->destination, strerror(errno));
		}
		return 0;
	}
	/* in a user namespace without a cgroup one: the host's, bound */
	if (mount("/sys/fs/cgroup", target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sb_fail(e, errno, "bind the cgroup hierarchy on %s: %s", m->destination, strerror(errno));
	return 0;
}

static int do_mount(int rootfd, const char *bundle, const struct oci_mount *m, struct sb_err *e)
{
	const struct sb_mount_flags *f = &m->flags;
	char target[64], source[8192];
	bool bind = f->flags & MS_BIND;
	bool is_file = false;
	int fd = -1, r = 0;
	struct stat st;

	if (bind) {
		if (m->source[0] == '/')
			snprintf(source, sizeof(source), "%s", m->source);
		else
			snprintf(source, sizeof(source), "%s/%s", bundle, m->source);
		if (stat(source, &st) < 0)
			return sb_fail(e, errno, "bind mount source %s: %s", source, strerror(errno));
		is_file = !S_ISDIR(st.st_mode);
	} else {
		snprintf(source, sizeof(source), "%s", m->source ? m->source : m->type);
	}
	r = bind_target(rootfd, m->destination, is_file, target, sizeof(target), &fd, e);
	if (r < 0)
		return r;
	if (m->type && (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"))) {
		r = mount_cgroup(rootfd, m, target, e);
	} else if (bind) {
		if (mount(source, target, NULL, f->flags & (MS_BIND | MS_REC), NULL) < 0) {
			r = sb_fail(e, errno, "bind %s on %s: %s", source, m->destination, strerror(errno));
		} else if ((f->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) &&
			   (r = reopen(rootfd, m->destination, target, sizeof(target), &fd, e)) == 0) {
			/* the other flags only apply through a remount */
			unsigned long fl = (f->flags & ~MS_REC) | MS_REMOUNT | MS_BIND;
			if (in_userns) /* locked flags cannot be cleared there */
				fl |= sb_mount_locked_flags(target);
			if (mount(NULL, target, NULL, fl, NULL) < 0)
				r = sb_fail(e, errno, "remount %s with its options: %s", m->destination, strerror(errno));
		}
	} else {
		const char *data = f->data[0] ? f->data : NULL;
		if (mount(source, target, m->type, f->flags, data) < 0) {
			int err = errno;
			/* devpts gid=5 needs gid 5 mapped; sysfs needs a network
			 * namespace of our own in a user namespace */
			if (!strcmp(m->type, "devpts") && data && strstr(data, "gid=")) {
				char d2[512] = "", *save = NULL, tmp[512];
				snprintf(tmp, sizeof(tmp), "%s", data);
				for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
					if (!strncmp(t, "gid=", 4))
						continue;
					if (d2[0])
						strncat(d2, ",", sizeof(d2) - strlen(d2) - 1);
					strncat(d2, t, sizeof(d2) - strlen(d2) - 1);
				}
				if (mount(source, target, m->type, f->flags, d2) == 0)
					goto ok;
			}
			if (!strcmp(m->type, "sysfs") && (err == EPERM || err == EACCES) &&
			    mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) == 0)
				goto ok;
			if (!strcmp(m->type, "mqueue") && (err == EPERM || err == EACCES) &&
			    mount("/dev/mqueue", target, NULL, MS_BIND | MS_REC, NULL) == 0)
				goto ok;
			r = sb_fail(e, err, "mount %s (%s) on %s: %s", source, m->type, m->destination, strerror(err));
		}
	}
ok:
	if (r == 0 && f->propagation) {
		/* the fd names the mount point's old mount: reopen for the new one */
		r = reopen(rootfd, m->destination, target, sizeof(target), &fd, e);
		if (r == 0 && mount(NULL, target, NULL, f->propagation, NULL) < 0)
			r = sb_fail(e, errno, "set propagation of %s: %s", m->destination, strerror(errno));
	}
	close(fd);
	return r;
}

static const struct {
	const char *path;
	unsigned int major, minor;
} default_devs[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static int make_device(int rootfd, const char *path, char type, unsigned int major, unsigned int minor,
		       mode_t mode, uid_t uid, gid_t gid, struct sb_err *e)
{
	char dir[4096], *base, p[64];
	int dfd, r = 0;
	mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;

	snprintf(dir, sizeof(dir), "%s", path);
	base = strrchr(dir, '/');
	*base++ = '\0';
	dfd = sb_open_in_root(rootfd, dir[0] ? dir : "/", true, false, e);
	if (dfd < 0)
		return dfd;
	unlinkat(dfd, base, 0);
	if (in_userns && fmt != S_IFIFO) {
		/* no mknod in a user namespace: bind the host's node */
		int fd = openat(dfd, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			r = sb_fail(e, errno, "create %s: %s", path, strerror(errno));
		} else {
			close(fd);
			fd = openat(dfd, base, O_PATH | O_CLOEXEC | O_NOFOLLOW);
			sb_fd_path(fd, p, sizeof(p));
			if (mount(path, p, NULL, MS_BIND, NULL) < 0)
				r = sb_fail(e, errno, "bind the host's %s: %s", path, strerror(errno));
			close(fd);
		}
	} else {
		if (mknodat(dfd, base, fmt | (mode & 07777), makedev(major, minor)) < 0)
			r = sb_fail(e, errno, "mknod %s: %s", path, strerror(errno));
		else if (fchownat(dfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = sb_fail(e, errno, "chown %s: %s", path, strerror(errno));
		else {
			int fd = openat(dfd, base, O_PATH | O_CLOEXEC | O_NOFOLLOW);
			sb_fd_path(fd, p, sizeof(p));
			chmod(p, mode & 07777); /* mknod's mode went through umask */
			close(fd);
		}
	}
	close(dfd);
	return r;
}

static int setup_dev(int rootfd, const struct oci_config *c, struct sb_err *e)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },	{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	int dfd, r;

	for (size_t i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]); i++) {
		bool overridden = false;
		for (size_t j = 0; j < c->n_devices; j++)
			if (!strcmp(c->devices[j].path, default_devs[i].path))
				overridden = true;
		if (overridden)
			continue;
		r = make_device(rootfd, default_devs[i].path, 'c', default_devs[i].major, default_devs[i].minor, 0666,
				0, 0, e);
		if (r < 0)
			return r;
	}
	for (size_t j = 0; j < c->n_devices; j++) {
		const struct oci_device *d = &c->devices[j];
		r = make_device(rootfd, d->path, d->type == 'u' ? 'c' : d->type, (unsigned int)d->major,
				(unsigned int)d->minor, d->has_mode ? d->file_mode : 0666, d->uid, d->gid, e);
		if (r < 0)
			return r;
	}
	dfd = sb_open_in_root(rootfd, "/dev", true, false, e);
	if (dfd < 0)
		return dfd;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (symlinkat(links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST) {
			r = sb_fail(e, errno, "symlink /dev/%s: %s", links[i][1], strerror(errno));
			close(dfd);
			return r;
		}
	}
	close(dfd);
	return 0;
}

static bool has_mount(const struct oci_config *c, const char *dest)
{
	for (size_t i = 0; i < c->n_mounts; i++)
		if (!strcmp(c->mounts[i].destination, dest))
			return true;
	return false;
}

static int setup_rootfs(const struct oci_init_args *a, struct sb_err *e)
{
	const struct oci_config *c = a->cfg;
	unsigned long prop = MS_PRIVATE | MS_REC;
	int rootfd, r;

	/* without a mount namespace of its own, anything mounted would be
	 * the host's: the container only gets its root (chroot) */
	if (!(c->ns_mask & (1u << SB_NS_MNT)))
		return 0;
	if (c->rootfs_propagation)
		prop = sb_mount_propagation(c->rootfs_propagation) | MS_REC;
	/* nothing we mount may leak back to the host */
	/* (shared and unbindable are set on the new root after the pivot:
	 * an unbindable tree could not be bound) */
	if (mount(NULL, "/", NULL, (prop & MS_PRIVATE) ? prop : (MS_SLAVE | MS_REC), NULL) < 0)
		return sb_fail(e, errno, "make / private: %s", strerror(errno));
	if (mount(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sb_fail(e, errno, "bind the rootfs %s: %s", a->rootfs, strerror(errno));
	rootfd = open(a->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sb_fail(e, errno, "open the rootfs %s: %s", a->rootfs, strerror(errno));
	for (size_t i = 0; i < c->n_mounts; i++) {
		r = do_mount(rootfd, a->bundle, &c->mounts[i], e);
		if (r < 0) {
			close(rootfd);
			return r;
		}
	}
	r = setup_dev(rootfd, c, e);
	if (r == 0 && c->process.terminal && has_mount(c, "/dev")) {
		/* /dev/console: the pty's slave is bound over it later */
		int fd = sb_open_in_root(rootfd, "/dev/console", true, true, e);
		if (fd < 0)
			r = fd;
		else
			close(fd);
	}
	close(rootfd);
	return r;
}

static int finish_rootfs(const struct oci_init_args *a, struct sb_err *e)
{
	const struct oci_config *c = a->cfg;
	int r;

	if (!(c->ns_mask & (1u << SB_NS_MNT))) {
		if (chroot(a->rootfs) < 0 || chdir("/") < 0)
			return sb_fail(e, errno, "chroot to %s: %s", a->rootfs, strerror(errno));
		return 0;
	}
	r = a->opts->no_pivot ? sb_move_chroot(a->rootfs, e) : sb_pivot_root(a->rootfs, e);
	if (r < 0)
		return r;
	if (c->rootfs_propagation &&
	    mount(NULL, "/", NULL, sb_mount_propagation(c->rootfs_propagation), NULL) < 0)
		return sb_fail(e, errno, "set the rootfs propagation: %s", strerror(errno));
	for (size_t i = 0; i < c->n_sysctl; i++) {
		char path[512];
		snprintf(path, sizeof(path), "/proc/sys/%s", c->sysctl_keys[i]);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		r = sb_write_file(path, c->sysctl_values[i], e);
		if (r < 0)
			return sb_fail(e, -r, "sysctl %s: %s", c->sysctl_keys[i], e->msg);
	}
	for (size_t i = 0; i < c->n_masked_paths; i++) {
		r = sb_mask_path(c->masked_paths[i], e);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_readonly_paths; i++) {
		r = sb_readonly_path(c->readonly_paths[i], e);
		if (r < 0)
			return r;
	}
	if (c->root_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | sb_mount_locked_flags("/"), NULL) < 0)
		return sb_fail(e, errno, "remount / read-only: %s", strerror(errno));
	return 0;
}

static int join_namespaces(const struct oci_init_args *a, bool user_first, struct sb_err *e)
{
	for (int k = 0; k < SB_NS_COUNT; k++) {
		if (a->ns_fds[k] < 0 || k == SB_NS_PID || (k == SB_NS_USER) != user_first)
			continue;
		if (setns(a->ns_fds[k], sb_ns_clone_flag(k)) < 0)
			return sb_fail(e, errno, "join the %s namespace %s: %s", sb_ns_name(k),
				       a->cfg->namespaces[0].path ? "by path" : "", strerror(errno));
		close(a->ns_fds[k]);
	}
	return 0;
}

static int run_container_hooks(const struct oci_init_args *a, int kind, const char *name, struct sb_err *e)
{
	const struct oci_config *c = a->cfg;
	struct oci_state st;
	char *json;
	int r;

	if (!c->n_hooks[kind])
		return 0;
	memset(&st, 0, sizeof(st));
	snprintf(st.id, sizeof(st.id), "%s", a->opts->id);
	snprintf(st.bundle, sizeof(st.bundle), "%s", a->bundle);
	snprintf(st.rootfs, sizeof(st.rootfs), "%s", a->rootfs);
	st.pid = 1;
	json = oci_state_json(NULL, &st, kind == OCI_HOOK_START_CONTAINER ? "created" : "creating");
	if (!json)
		return sb_fail(e, ENOMEM, "out of memory");
	/* the pid as the runtime sees it would need a round trip: the
	 * container hooks see the init as pid 1 of its namespace */
	r = oci_hooks_run(c->hooks[kind], c->n_hooks[kind], name, json, e);
	free(json);
	return r;
}

/* the process's seccomp filter, compiled before the wait for start */
static struct sb_seccomp_prog seccomp_prog;

void oci_init_main(struct oci_init_args *a)
{
	const struct oci_config *c = a->cfg;
	struct sb_err err = { "" };
	int console_slave = -1, r;
	char slave_name[64];
	sigset_t all;

	/* our fds must not sit where preserved ones go */
	int low = 3 + a->opts->preserve_fds + a->listen_fds + 16;
	sync_fd = fcntl(a->sync_fd, F_DUPFD_CLOEXEC, low);
	if (a->fifo_fd >= 0)
		a->fifo_fd = fcntl(a->fifo_fd, F_DUPFD_CLOEXEC, low);
	if (a->console_fd >= 0)
		a->console_fd = fcntl(a->console_fd, F_DUPFD_CLOEXEC, low);
	for (int k = 0; k < SB_NS_COUNT; k++)
		if (a->ns_fds[k] >= 0)
			a->ns_fds[k] = fcntl(a->ns_fds[k], F_DUPFD_CLOEXEC, low);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	wait_go();

	in_userns = a->new_userns || a->ns_fds[SB_NS_USER] >= 0;
	if (join_namespaces(a, true, &err) < 0 || join_namespaces(a, false, &err) < 0)
		die(&err);
	if (in_userns) {
		/* root of the new user namespace, when 0 is mapped */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			oci_log(OCI_LOG_DEBUG, "uid/gid 0 is not mapped: %s", strerror(errno));
	}
	if ((c->ns_mask & (1u << SB_NS_CGROUP)) && a->ns_fds[SB_NS_CGROUP] < 0 && unshare(CLONE_NEWCGROUP) < 0) {
		sb_fail(&err, errno, "new cgroup namespace: %s", strerror(errno));
		die(&err);
	}
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
		sb_fail(&err, errno, "sethostname %s: %s", c->hostname, strerror(errno));
		die(&err);
	}
	if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
		sb_fail(&err, errno, "setdomainname %s: %s", c->domainname, strerror(errno));
		die(&err);
	}
	if (setup_rootfs(a, &err) < 0)
		die(&err);
	if (c->n_hooks[OCI_HOOK_PRESTART] || c->n_hooks[OCI_HOOK_CREATE_RUNTIME]) {
		send_msg(OCI_SYNC_HOOKS);
		wait_go();
	}
	if (run_container_hooks(a, OCI_HOOK_CREATE_CONTAINER, "createContainer", &err) < 0)
		die(&err);
	if (finish_rootfs(a, &err) < 0)
		die(&err);
	if (c->process.terminal && a->console_fd >= 0) {
		int m = oci_open_pty(c->process.console_height, c->process.console_width, &console_slave, slave_name,
				     sizeof(slave_name), &err);
		if (m < 0)
			die(&err);
		if (access("/dev/console", F_OK) == 0)
			mount(slave_name, "/dev/console", NULL, MS_BIND, NULL);
		if (oci_send_fd(a->console_fd, m, &err) < 0)
			die(&err);
		close(m);
		close(a->console_fd);
	}
	if (!a->opts->no_new_keyring) {
		char name[300];
		snprintf(name, sizeof(name), "_ses.%s", a->opts->id);
		syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name, 0, 0, 0);
	}
	if (oci_apply_rlimits(&c->process, &err) < 0)
		die(&err);
	/* a missing program is a create error, not a start one */
	{
		char prog[4096];
		r = oci_find_program(&c->process, prog, sizeof(prog));
		if (r < 0) {
			sb_fail(&err, -r, "executable %s not found in the container (%s)", c->process.args[0],
				strerror(-r));
			die(&err);
		}
	}

	/* the filter is compiled now, so that little is left to do between
	 * `start` and the exec (a signal sent right after `start` must find
	 * the user's process, not this init, which ignores it as pid 1) */
	if (c->has_seccomp && sb_seccomp_compile(&c->seccomp, &seccomp_prog, &err) < 0)
		die(&err);
	send_msg(OCI_SYNC_READY);
	wait_go();
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	send_msg(OCI_SYNC_ACK);
	close(sync_fd);
	sync_fd = -1;

	if (a->fifo_fd >= 0) {
		char b;
		ssize_t n;
		do
			n = read(a->fifo_fd, &b, 1);
		while (n < 0 && errno == EINTR);
		close(a->fifo_fd);
		if (n != 1)
			_exit(1);
	}
	if (run_container_hooks(a, OCI_HOOK_START_CONTAINER, "startContainer", &err) < 0) {
		fprintf(stderr, "osprey-oci: %s\n", err.msg);
		_exit(1);
	}
	if (console_slave >= 0) {
		setsid();
		if (ioctl(console_slave, TIOCSCTTY, 0) < 0) {
			fprintf(stderr, "osprey-oci: TIOCSCTTY: %s\n", strerror(errno));
			_exit(1);
		}
		dup2(console_slave, 0);
		dup2(console_slave, 1);
		dup2(console_slave, 2);
		close(console_slave);
	}
	oci_exec_process(&c->process, c, a->opts->preserve_fds, a->listen_fds, -1, &seccomp_prog,
			 &err);
	fprintf(stderr, "osprey-oci: %s\n", err.msg);
	_exit(127);
}
