// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: an OCI runtime with runc's command line, so that podman,
 * containerd or CRI-O can drive it. Global flags, then one command. Only
 * this file exits; everything below returns -errno and a message.
 */
#include <errno.h>
#include <getopt.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h" /* OSPREY_VERSION */
#include "oci/oci.h"

static const char *g_root = OCI_DEFAULT_ROOT;
static FILE *g_log;
static bool g_json_log, g_debug;

void oci_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };
	char msg[2048];
	va_list ap;

	if (level == OCI_LOG_DEBUG && !g_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level >= OCI_LOG_WARN || (g_debug && !g_log))
		fprintf(stderr, "osprey-oci: %s%s\n",
			level == OCI_LOG_ERROR ? "error: " : level == OCI_LOG_WARN ? "warning: " : "", msg);
	if (!g_log)
		return;
	struct timespec ts;
	struct tm tm;
	char t[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (g_json_log) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "level", names[level], "msg", msg, "time", t);
		char *s = json_dumps(j, JSON_COMPACT);
		fprintf(g_log, "%s\n", s);
		free(s);
		json_decref(j);
	} else {
		fprintf(g_log, "%s %s %s\n", t, names[level], msg);
	}
	fflush(g_log);
}

__attribute__((noreturn)) static void fail(const struct sb_err *e)
{
	oci_log(OCI_LOG_ERROR, "%s", e->msg);
	exit(1);
}

__attribute__((noreturn, format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log(OCI_LOG_ERROR, "%s (see osprey-oci --help)", msg);
	exit(2);
}

static const char usage_text[] =
	"usage: osprey-oci [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND ...\n"
	"commands (runc's command line):\n"
	"  create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot]\n"
	"         [--preserve-fds N] [--no-new-keyring] ID\n"
	"  start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID\n"
	"  run [--bundle DIR] [--detach] [create flags] ID\n"
	"  exec [--process F | ARGS...] [--tty] [--detach] [--pid-file F] [--cwd D] [--env K=V] ID\n"
	"  ps [--format table|json] ID | list [--format table|json] [-q]\n"
	"  pause ID | resume ID | update [--resources F | --memory N ...] ID\n"
	"  spec [--rootless] [--bundle DIR] | features\n";

static const char *one_id(int argc, char **argv, const char *cmd)
{
	if (optind >= argc)
		usage_error("%s needs a container id", cmd);
	if (optind + 1 < argc && strcmp(cmd, "kill"))
		usage_error("%s takes one container id", cmd);
	return argv[optind];
}

static int parse_signal(const char *s)
{
	static const struct {
		const char *n;
		int s;
	} sigs[] = {
		{ "HUP", SIGHUP },   { "INT", SIGINT },	  { "QUIT", SIGQUIT }, { "ILL", SIGILL },     { "TRAP", SIGTRAP },
		{ "ABRT", SIGABRT }, { "BUS", SIGBUS },	  { "FPE", SIGFPE },   { "KILL", SIGKILL },   { "USR1", SIGUSR1 },
		{ "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM },
		{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG },	  { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM },
		{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },   { "PWR", SIGPWR },     { "SYS", SIGSYS },
	};
	char *end;
	long n;

	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	n = strtol(s, &end, 10);
	if (*s && !*end)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncasecmp(s, "RTMIN+", 6) || !strncasecmp(s, "RTMAX-", 6)) {
		n = strtol(s + 6, &end, 10);
		if (*end || n < 0)
			return -1;
		n = s[2] == 'M' || s[2] == 'm' ? (s[3] == 'I' || s[3] == 'i' ? SIGRTMIN + n : SIGRTMAX - n) : -1;
		return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(s, sigs[i].n))
			return sigs[i].s;
	return -1;
}

/* ---- create / run ---- */

static pid_t run_pid;
static void forward(int sig)
{
	if (run_pid > 0)
		kill(run_pid, sig);
}

static int cmd_create(int argc, char **argv, bool run)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },	  { "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' }, { "no-pivot", no_argument, NULL, 'P' },
		{ "preserve-fds", required_argument, NULL, 'f' },  { "no-new-keyring", no_argument, NULL, 'k' },
		{ "detach", no_argument, NULL, 'd' },		  { "keep", no_argument, NULL, 'K' },
		{ "no-subreaper", no_argument, NULL, 'S' },	  { NULL, 0, NULL, 0 },
	};
	struct oci_create_opts o = { .root = g_root, .bundle = "." };
	struct sb_err e = { "" };
	bool detach = false, keep = false;
	char *end;
	pid_t pid;
	int c, r;

	while ((c = getopt_long(argc, argv, "b:dK", opts, NULL)) != -1) {
		switch (c) {
		case 'b': o.bundle = optarg; break;
		case 'p': o.pid_file = optarg; break;
		case 'c': o.console_socket = optarg; break;
		case 'P': o.no_pivot = true; break;
		case 'k': o.no_new_keyring = true; break;
		case 'f':
			o.preserve_fds = (int)strtol(optarg, &end, 10);
			if (*end || o.preserve_fds < 0 || o.preserve_fds > 4096)
				usage_error("--preserve-fds: bad count %s", optarg);
			break;
		case 'd': detach = true; break;
		case 'K': keep = true; break;
		case 'S': break;
		default: usage_error("%s: bad option", run ? "run" : "create");
		}
	}
	o.id = one_id(argc, argv, run ? "run" : "create");
	if (!run && detach)
		usage_error("create: --detach belongs to run");
	o.foreground = run && !detach;
	if (o.foreground) {
		/* signals for the container, not for us */
		signal(SIGINT, forward);
		signal(SIGTERM, forward);
		signal(SIGHUP, forward);
		signal(SIGQUIT, forward);
	}
	r = oci_create(&o, &pid, &e);
	if (r < 0)
		fail(&e);
	oci_log(OCI_LOG_DEBUG, "created %s, init pid %d", o.id, (int)pid);
	if (!run)
		return 0;
	run_pid = pid;
	r = oci_start(g_root, o.id, detach, &e); /* in the foreground, waitpid follows */
	if (r < 0) {
		oci_delete(g_root, o.id, true, NULL);
		fail(&e);
	}
	if (detach)
		return 0;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!keep && oci_delete(g_root, o.id, true, &e) < 0)
		oci_log(OCI_LOG_WARN, "%s", e.msg);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmd_simple(int argc, char **argv, const char *cmd)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct sb_err e = { "" };
	bool force = false, all = false;
	const char *id;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "fa", opts, NULL)) != -1) {
		if (c == 'f' && !strcmp(cmd, "delete"))
			force = true;
		else if (c == 'a' && !strcmp(cmd, "kill"))
			all = true;
		else
			usage_error("%s: bad option", cmd);
	}
	id = one_id(argc, argv, cmd);
	if (!strcmp(cmd, "start")) {
		r = oci_start(g_root, id, true, &e);
	} else if (!strcmp(cmd, "delete")) {
		r = oci_delete(g_root, id, force, &e);
		if (r == -ENOENT && force)
			r = 0;
	} else if (!strcmp(cmd, "kill")) {
		int sig = SIGTERM;
		if (optind + 2 < argc)
			usage_error("kill: too many arguments");
		if (optind + 1 < argc && (sig = parse_signal(argv[optind + 1])) < 0)
			usage_error("kill: unknown signal %s", argv[optind + 1]);
		r = oci_kill(g_root, id, sig, all, &e);
	} else if (!strcmp(cmd, "state")) {
		struct oci_state st;
		r = oci_state_load(g_root, id, &st, &e);
		if (r == 0) {
			char *s = oci_state_json(g_root, &st, oci_state_status(g_root, &st));
			printf("%s\n", s);
			free(s);
			oci_state_free(&st);
		}
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		struct oci_state st;
		bool pause = !strcmp(cmd, "pause");
		r = oci_state_load(g_root, id, &st, &e);
		if (r == 0) {
			const char *s = oci_state_status(g_root, &st);
			if (pause && strcmp(s, "running"))
				r = sb_fail(&e, EINVAL, "container %s is %s, not running", id, s);
			else if (!pause && strcmp(s, "paused"))
				r = sb_fail(&e, EINVAL, "container %s is %s, not paused", id, s);
			else if (!st.has_cgroup)
				r = sb_fail(&e, EINVAL, "container %s has no cgroup", id);
			else
				r = sb_cgroup_freeze(&st.cgroup, pause, &e);
			oci_state_free(&st);
		}
	}
	if (r < 0)
		fail(&e);
	return 0;
}

/* ---- exec ---- */

static int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },	  { "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },		  { "pid-file", required_argument, NULL, 'P' },
		{ "console-socket", required_argument, NULL, 'c' }, { "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },	  { "preserve-fds", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },	  { "cap", required_argument, NULL, 'C' },
		{ "no-new-privs", no_argument, NULL, 'n' },	  { "ignore-paused", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	struct oci_exec_opts o = { .root = g_root };
	struct sb_err e = { "" };
	char *envs[256];
	int c, r;

	o.env = envs;
	while ((c = getopt_long(argc, argv, "+p:tdw:e:u:", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o.process_json_path = optarg; break;
		case 't': o.tty = true; break;
		case 'd': o.detach = true; break;
		case 'P': o.pid_file = optarg; break;
		case 'c': o.console_socket = optarg; break;
		case 'w': o.cwd = optarg; break;
		case 'e':
			if (o.n_env >= 256 || !strchr(optarg, '='))
				usage_error("exec: --env takes NAME=VALUE");
			envs[o.n_env++] = optarg;
			break;
		case 'f': o.preserve_fds = atoi(optarg); break;
		case 'u': usage_error("exec: --user is not supported; use --process");
		case 'C': usage_error("exec: --cap is not supported; use --process");
		case 'n': case 'I': break;
		default: usage_error("exec: bad option");
		}
	}
	if (optind >= argc)
		usage_error("exec needs a container id");
	o.id = argv[optind++];
	o.args = argv + optind;
	o.n_args = argc - optind;
	if (o.process_json_path && o.n_args)
		usage_error("exec: give --process or a command, not both");
	r = oci_exec(&o, &e);
	if (r < 0)
		fail(&e);
	return r;
}

/* ---- ps, list ---- */

static int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	const char *fmt = "table";
	struct oci_state st;
	struct sb_err e = { "" };
	pid_t pids[4096];
	int c, n;

	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f')
			usage_error("ps: bad option");
		fmt = optarg;
	}
	if (strcmp(fmt, "table") && strcmp(fmt, "json"))
		usage_error("ps: --format is table or json");
	if (optind >= argc)
		usage_error("ps needs a container id");
	if (oci_state_load(g_root, argv[optind], &st, &e) < 0)
		fail(&e);
	n = st.has_cgroup ? sb_cgroup_pids(&st.cgroup, pids, 4096) : 0;
	oci_state_free(&st);
	if (n < 0)
		n = 0;
	if (!strcmp(fmt, "json")) {
		printf("[");
		for (int i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	printf("%-8s %s\n", "PID", "CMD");
	for (int i = 0; i < n; i++) {
		char path[64], cmd[4096];
		ssize_t len;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pids[i]);
		len = sb_read_file(path, cmd, sizeof(cmd));
		for (ssize_t k = 0; k + 1 < len; k++)
			if (!cmd[k])
				cmd[k] = ' ';
		printf("%-8d %s\n", (int)pids[i], len > 0 ? cmd : "");
	}
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	const char *fmt = "table";
	bool quiet = false;
	json_t *arr = json_array();
	struct dirent *de;
	DIR *d;
	int c;

	while ((c = getopt_long(argc, argv, "f:q", opts, NULL)) != -1) {
		if (c == 'f')
			fmt = optarg;
		else if (c == 'q')
			quiet = true;
		else
			usage_error("list: bad option");
	}
	if (strcmp(fmt, "table") && strcmp(fmt, "json"))
		usage_error("list: --format is table or json");
	if (!strcmp(fmt, "table") && !quiet)
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
	d = opendir(g_root);
	while (d && (de = readdir(d))) {
		struct oci_state st;
		const char *status;

		if (de->d_name[0] == '.' || oci_state_load(g_root, de->d_name, &st, NULL) < 0)
			continue;
		status = oci_state_status(g_root, &st);
		if (quiet)
			printf("%s\n", st.id);
		else if (!strcmp(fmt, "table"))
			printf("%-20s %-8d %-10s %-40s %s\n", st.id, strcmp(status, "stopped") ? (int)st.pid : 0, status,
			       st.bundle, st.created);
		else
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "id", st.id, "pid",
							     strcmp(status, "stopped") ? (int)st.pid : 0, "status", status,
							     "bundle", st.bundle, "rootfs", st.rootfs, "created", st.created));
		oci_state_free(&st);
	}
	if (d)
		closedir(d);
	if (!strcmp(fmt, "json") && !quiet) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
	json_decref(arr);
	return 0;
}

/* ---- update ---- */

static int64_t parse_size(const char *s, const char *what)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (end == s)
		usage_error("update: %s: bad value %s", what, s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		usage_error("update: %s: bad value %s", what, s);
	return v;
}

static int cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },	  { "memory", required_argument, NULL, 'm' },
		{ "memory-reservation", required_argument, NULL, 'R' }, { "memory-swap", required_argument, NULL, 's' },
		{ "cpu-shares", required_argument, NULL, 'S' },	  { "cpu-quota", required_argument, NULL, 'q' },
		{ "cpu-period", required_argument, NULL, 'p' },	  { "cpuset-cpus", required_argument, NULL, 'c' },
		{ "cpuset-mems", required_argument, NULL, 'M' },  { "pids-limit", required_argument, NULL, 'P' },
		{ "blkio-weight", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 },
	};
	struct sb_resources res;
	struct sb_err e = { "" };
	struct oci_state st;
	const char *file = NULL;
	int c, r;

	sb_resources_init(&res);
	while ((c = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		switch (c) {
		case 'r': file = optarg; break;
		case 'm': res.mem_limit = parse_size(optarg, "--memory"); break;
		case 'R': res.mem_reservation = parse_size(optarg, "--memory-reservation"); break;
		case 's': res.mem_swap = parse_size(optarg, "--memory-swap"); break;
		case 'S': res.cpu_shares = (uint64_t)parse_size(optarg, "--cpu-shares"); break;
		case 'q': res.cpu_quota = parse_size(optarg, "--cpu-quota"); break;
		case 'p': res.cpu_period = (uint64_t)parse_size(optarg, "--cpu-period"); break;
		case 'c': snprintf(res.cpus, sizeof(res.cpus), "%s", optarg); break;
		case 'M': snprintf(res.mems, sizeof(res.mems), "%s", optarg); break;
		case 'P': res.pids_limit = parse_size(optarg, "--pids-limit"); if (res.pids_limit <= 0) res.pids_limit = -1; break;
		case 'b': res.blkio_weight = (uint16_t)parse_size(optarg, "--blkio-weight"); break;
		default: usage_error("update: bad option");
		}
	}
	if (optind >= argc)
		usage_error("update needs a container id");
	if (file) {
		FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
		char *buf = calloc(1, 1 << 20);
		size_t n = f && buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
		if (f && f != stdin)
			fclose(f);
		if (!f) {
			free(buf);
			sb_fail(&e, errno, "cannot read %s: %s", file, strerror(errno));
			fail(&e);
		}
		r = oci_resources_parse_json(buf, n, &res, &e);
		free(buf);
		if (r < 0) {
			sb_resources_free(&res);
			fail(&e);
		}
	}
	r = oci_state_load(g_root, argv[optind], &st, &e);
	if (r == 0) {
		const char *s = oci_state_status(g_root, &st);
		if (!strcmp(s, "stopped"))
			r = sb_fail(&e, EINVAL, "container %s is stopped", st.id);
		else if (!st.has_cgroup)
			r = sb_fail(&e, EINVAL, "container %s has no cgroup", st.id);
		else
			r = sb_cgroup_set(&st.cgroup, &res, &e);
		oci_state_free(&st);
	}
	sb_resources_free(&res);
	if (r < 0)
		fail(&e);
	return 0;
}

/* ---- spec, features ---- */

static int cmd_spec(int argc, char **argv)
{
	static const struct option opts[] = { { "rootless", no_argument, NULL, 'r' },
					      { "bundle", required_argument, NULL, 'b' },
					      { NULL, 0, NULL, 0 } };
	const char *bundle = ".";
	bool rootless = false;
	char path[PATH_MAX];
	struct sb_err e = { "" };
	struct stat sb;
	FILE *f;
	char *s;
	int c;

	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		if (c == 'r')
			rootless = true;
		else if (c == 'b')
			bundle = optarg;
		else
			usage_error("spec: bad option");
	}
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (stat(path, &sb) == 0) {
		sb_fail(&e, EEXIST, "%s exists already", path);
		fail(&e);
	}
	s = oci_default_spec(rootless, getuid(), getgid());
	f = fopen(path, "wxe");
	if (!f || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0) {
		free(s);
		sb_fail(&e, errno, "cannot write %s: %s", path, strerror(errno));
		fail(&e);
	}
	free(s);
	return 0;
}

static json_t *str_list(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

#define STR_LIST(v) str_list(v, sizeof(v) / sizeof(v[0]))

static int cmd_features(void)
{
	static const char *const hooks[] = { "prestart", "createRuntime", "createContainer", "startContainer",
					     "poststart", "poststop" };
	static const char *const mopts[] = {
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "loud", "mand",
		"noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid",
		"private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable",
		"rw", "shared", "silent", "slave", "strictatime", "suid", "sync", "tmpcopyup", "unbindable",
	};
	static const char *const nss[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts" };
	static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
					       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
					       "SCMP_ACT_TRAP", "SCMP_ACT_TRACE" };
	static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
					   "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE" };
	static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
	json_t *caps = json_array(), *j, *lin;
	char *s;

	for (int c = 0; c <= sb_cap_last(); c++)
		json_array_append_new(caps, json_string(sb_cap_name(c)));
	lin = json_object();
	json_object_set_new(lin, "namespaces", STR_LIST(nss));
	json_object_set_new(lin, "capabilities", caps);
	json_object_set_new(lin, "cgroup", json_pack("{s:b, s:b, s:b, s:b}", "v1", 1, "v2", 1, "systemd", 0,
						     "systemdUser", 0));
	json_object_set_new(lin, "seccomp", json_pack("{s:b, s:o, s:o, s:o}", "enabled", 1, "actions",
						      STR_LIST(actions), "operators", STR_LIST(ops), "archs",
						      STR_LIST(archs)));
	json_object_set_new(lin, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(lin, "selinux", json_pack("{s:b}", "enabled", 0));
	j = json_pack("{s:s, s:s, s:o, s:o, s:o}", "ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks",
		      STR_LIST(hooks), "mountOptions", STR_LIST(mopts), "linux", lin);
	if (!j)
		return 1;
	s = json_dumps(j, JSON_INDENT(2));
	printf("%s\n", s);
	free(s);
	json_decref(j);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option gopts[] = {
		{ "root", required_argument, NULL, 'r' },     { "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' }, { "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' }, { "rootless", required_argument, NULL, 'R' },
		{ "criu", required_argument, NULL, 'C' },     { "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	      { NULL, 0, NULL, 0 },
	};
	bool systemd = false, root_given = false;
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+vh", gopts, NULL)) != -1) {
		switch (c) {
		case 'r': g_root = optarg; root_given = true; break;
		case 'l':
			g_log = fopen(optarg, "ae");
			if (!g_log)
				fprintf(stderr, "osprey-oci: warning: cannot open the log %s: %s\n", optarg, strerror(errno));
			break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				usage_error("--log-format is text or json, not %s", optarg);
			g_json_log = !strcmp(optarg, "json");
			break;
		case 'd': g_debug = true; break;
		case 's': systemd = true; break;
		case 'R': case 'C': break;
		case 'v':
			printf("osprey-oci version %s\nspec: %s\n", OSPREY_VERSION, OCI_VERSION);
			return 0;
		case 'h': fputs(usage_text, stdout); return 0;
		default: usage_error("bad global option");
		}
	}
	if (optind >= argc)
		usage_error("no command given");
	if (!root_given && geteuid() != 0) {
		/* rootless: the caller's runtime directory, as runc and crun */
		static char rootless_root[4096];
		const char *xdg = getenv("XDG_RUNTIME_DIR");

		if (xdg && *xdg == '/')
			snprintf(rootless_root, sizeof(rootless_root), "%s/osprey-oci", xdg);
		else
			snprintf(rootless_root, sizeof(rootless_root), "/tmp/osprey-oci-%u", (unsigned)geteuid());
		g_root = rootless_root;
	}
	cmd = argv[optind];
	if (systemd && strcmp(cmd, "features") && strcmp(cmd, "spec"))
		usage_error("--systemd-cgroup is not supported: osprey-oci manages cgroupfs directly "
			    "(use podman --cgroup-manager=cgroupfs)");
	/* each command parses its own options from its name on */
	argc -= optind;
	argv += optind;
	optind = 1;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv, false);
	if (!strcmp(cmd, "run"))
		return cmd_create(argc, argv, true);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "delete") || !strcmp(cmd, "kill") || !strcmp(cmd, "state") ||
	    !strcmp(cmd, "pause") || !strcmp(cmd, "resume"))
		return cmd_simple(argc, argv, cmd);
	if (!strcmp(cmd, "exec"))
		return cmd_exec(argc, argv);
	if (!strcmp(cmd, "ps"))
		return cmd_ps(argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "update"))
		return cmd_update(argc, argv);
	if (!strcmp(cmd, "spec"))
		return cmd_spec(argc, argv);
	if (!strcmp(cmd, "features"))
		return cmd_features();
	usage_error("unknown command %s", cmd);
}
