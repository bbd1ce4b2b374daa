// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: exec, a new process in a running container. The runtime
 * joins the container's pid namespace for its children, forks; the child
 * enters the cgroup and the other namespaces (user first, mount last) and
 * execs the process with the container's seccomp filter. An exec error
 * comes back through a close-on-exec pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/oci.h"

static pid_t fwd_pid;

static void forward(int sig)
{
	if (fwd_pid > 0)
		kill(fwd_pid, sig);
}

static int read_all(const char *path, char **out, size_t *len, struct sb_err *e)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = !strcmp(path, "-") ? 0 : open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		free(buf);
		return sb_fail(e, errno, "cannot read %s: %s", path, strerror(errno));
	}
	for (;;) {
		if (n == cap) {
			char *nb = cap < (16u << 20) ? realloc(buf, cap *= 2) : NULL;
			if (!nb) {
				free(buf);
				if (fd)
					close(fd);
				return sb_fail(e, EFBIG, "%s is too large", path);
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (fd)
		close(fd);
	*out = buf;
	*len = n;
	return 0;
}

/* --env NAME=VALUE replaces or adds */
static void set_env(struct oci_process *p, const char *kv)
{
	size_t nl = strcspn(kv, "=");
	char *dup = strdup(kv);

	if (!dup)
		abort();
	for (size_t i = 0; i < p->n_env; i++)
		if (!strncmp(p->env[i], kv, nl) && p->env[i][nl] == '=') {
			free(p->env[i]);
			p->env[i] = dup;
			return;
		}
	char **ne = realloc(p->env, (p->n_env + 2) * sizeof(char *));
	if (!ne)
		abort();
	p->env = ne;
	p->env[p->n_env++] = dup;
	p->env[p->n_env] = NULL;
}

int oci_exec(const struct oci_exec_opts *o, struct sb_err *e)
{
	struct oci_state st;
	struct oci_config cfg;
	struct oci_process proc;
	struct oci_process *p = &cfg.process;
	char path[PATH_MAX];
	int r, errpipe[2] = { -1, -1 }, console = -1, self_pid = -1, status = 0;
	int ns_fds[SB_NS_COUNT];
	const char *stat_s;
	pid_t pid;

	memset(&proc, 0, sizeof(proc));
	for (int k = 0; k < SB_NS_COUNT; k++)
		ns_fds[k] = -1;
	r = oci_state_load(o->root, o->id, &st, e);
	if (r < 0)
		return r;
	stat_s = oci_state_status(o->root, &st);
	if (strcmp(stat_s, "running") && strcmp(stat_s, "created")) {
		oci_state_free(&st);
		return sb_fail(e, EINVAL, "container %s is %s: cannot exec in it", o->id, stat_s);
	}
	if (snprintf(path, sizeof(path), "%s/config.json", st.bundle) >= (int)sizeof(path)) {
		oci_state_free(&st);
		return sb_fail(e, ENAMETOOLONG, "bundle path too long");
	}
	r = oci_config_load(path, &cfg, e);
	if (r < 0)
		goto out;
	if (o->process_json_path) {
		char *text = NULL;
		size_t len = 0;
		r = read_all(o->process_json_path, &text, &len, e);
		if (r < 0)
			goto out;
		r = oci_process_parse_json(text, len, &proc, e);
		free(text);
		if (r < 0) {
			sb_fail(e, EINVAL, "--process: %s", e->msg);
			goto out;
		}
		p = &proc;
	} else {
		if (o->n_args == 0) {
			r = sb_fail(e, EINVAL, "exec needs a command (or --process)");
			goto out;
		}
		for (size_t i = 0; i < p->n_args; i++)
			free(p->args[i]);
		free(p->args);
		p->args = calloc((size_t)o->n_args + 1, sizeof(char *));
		if (!p->args)
			abort();
		for (int i = 0; i < o->n_args; i++)
			p->args[i] = strdup(o->args[i]);
		p->n_args = (size_t)o->n_args;
		p->terminal = o->tty;
	}
	for (int i = 0; i < o->n_env; i++)
		set_env(p, o->env[i]);
	if (o->cwd) {
		free(p->cwd);
		p->cwd = strdup(o->cwd);
	}
	if (o->tty)
		p->terminal = true;
	if (p->terminal && o->console_socket) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", o->console_socket);
		console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (console < 0 || connect(console, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			r = sb_fail(e, errno, "connect to the console socket %s: %s", o->console_socket, strerror(errno));
			goto out;
		}
	}
	for (size_t i = 0; i < cfg.n_namespaces; i++) {
		char nsp[64];
		int k = cfg.namespaces[i].kind;
		snprintf(nsp, sizeof(nsp), "/proc/%d/ns/%s", (int)st.pid, sb_ns_proc_name(k));
		ns_fds[k] = open(nsp, O_RDONLY | O_CLOEXEC);
		if (ns_fds[k] < 0) {
			r = sb_fail(e, errno, "open %s: %s", nsp, strerror(errno));
			goto out;
		}
	}
	if (ns_fds[SB_NS_PID] >= 0) {
		self_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		if (setns(ns_fds[SB_NS_PID], CLONE_NEWPID) < 0) {
			r = sb_fail(e, errno, "join the pid namespace: %s", strerror(errno));
			goto out;
		}
	}
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		r = sb_fail(e, errno, "pipe: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct sb_err ce = { "" };
		int low = 3 + o->preserve_fds + 16;
		int ep = fcntl(errpipe[1], F_DUPFD_CLOEXEC, low);

		close(errpipe[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (st.has_cgroup)
			sb_cgroup_add_pid(&st.cgroup, getpid(), NULL);
		if (ns_fds[SB_NS_USER] >= 0 && setns(ns_fds[SB_NS_USER], CLONE_NEWUSER) < 0)
			sb_fail(&ce, errno, "join the user namespace: %s", strerror(errno));
		for (int k = 0; k < SB_NS_COUNT && !ce.msg[0]; k++) {
			if (ns_fds[k] < 0 || k == SB_NS_USER || k == SB_NS_PID || k == SB_NS_MNT)
				continue;
			if (setns(ns_fds[k], 0) < 0)
				sb_fail(&ce, errno, "join the %s namespace: %s", sb_ns_name(k), strerror(errno));
		}
		if (!ce.msg[0] && ns_fds[SB_NS_MNT] >= 0 && setns(ns_fds[SB_NS_MNT], CLONE_NEWNS) < 0)
			sb_fail(&ce, errno, "join the mount namespace: %s", strerror(errno));
		if (!ce.msg[0] && console >= 0) {
			char name[64];
			int slave, m = oci_open_pty(p->console_height, p->console_width, &slave, name, sizeof(name), &ce);
			if (m >= 0 && oci_send_fd(console, m, &ce) == 0) {
				close(m);
				setsid();
				ioctl(slave, TIOCSCTTY, 0);
				dup2(slave, 0);
				dup2(slave, 1);
				dup2(slave, 2);
				close(slave);
			}
		}
		if (!ce.msg[0])
			oci_exec_process(p, &cfg, o->preserve_fds, 0, ep, NULL, &ce);
		if (write(ep, ce.msg, strlen(ce.msg)) < 0)
			_exit(126);
		_exit(127);
	}
	if (self_pid >= 0)
		setns(self_pid, CLONE_NEWPID);
	if (pid < 0) {
		r = sb_fail(e, errno, "fork: %s", strerror(errno));
		goto out;
	}
	close(errpipe[1]);
	errpipe[1] = -1;
	{
		char msg[sizeof(e->msg)];
		ssize_t n;
		do
			n = read(errpipe[0], msg, sizeof(msg) - 1);
		while (n < 0 && errno == EINTR);
		if (n > 0) {
			msg[n] = '\0';
			waitpid(pid, NULL, 0);
			r = sb_fail(e, EINVAL, "exec in %s failed: %s", o->id, msg);
			goto out;
		}
	}
	if (o->pid_file) {
		char tmp[PATH_MAX + 8], v[32];
		snprintf(tmp, sizeof(tmp), "%s.tmp", o->pid_file);
		snprintf(v, sizeof(v), "%d", (int)pid);
		FILE *f = fopen(tmp, "we");
		if (!f || fputs(v, f) < 0 || fclose(f) != 0 || rename(tmp, o->pid_file) < 0) {
			r = sb_fail(e, errno, "pid file %s: %s", o->pid_file, strerror(errno));
			goto out;
		}
	}
	if (o->detach) {
		r = 0;
		goto out;
	}
	fwd_pid = pid;
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	signal(SIGQUIT, forward);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	for (int k = 0; k < SB_NS_COUNT; k++)
		if (ns_fds[k] >= 0)
			close(ns_fds[k]);
	if (self_pid >= 0)
		close(self_pid);
	if (errpipe[0] >= 0)
		close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	if (console >= 0)
		close(console);
	oci_process_free(&proc);
	oci_config_free(&cfg);
	oci_state_free(&st);
	return r;
}
