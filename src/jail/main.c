// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-jailer: starts a VMM (or any binary) in a jail, in the style of
 * Firecracker's jailer (docs/jailer.md). It builds
 * <chroot-base>/<exec name>/<id>/root with the binary and a few device
 * nodes, joins a network namespace, a cgroup and rlimits, unshares a mount
 * (and optionally PID) namespace, pivot_roots into the jail root, drops to
 * an unprivileged uid/gid with no capabilities and execs the binary.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define JAIL_ID_MAX 64
#define JAIL_MAX_CGROUPS 32
#define JAIL_MAX_RLIMITS 8

struct jail_cg_value {
	char name[128];   /* "pids.max" */
	char ctl[64];     /* "pids" */
	const char *value;
};

struct jail_cg_dir {
	char path[PATH_MAX + 128]; /* the cgroup directory */
	char root[PATH_MAX]; /* its hierarchy's root (to move back to) */
	bool created, parent_created;
};

struct jail {
	const char *id, *exec_file, *base, *netns;
	uid_t uid;
	gid_t gid;
	bool have_uid, have_gid, daemonize, new_pid_ns;
	struct jail_cg_value cg[JAIL_MAX_CGROUPS];
	size_t n_cg;
	struct {
		int resource;
		rlim_t value;
	} rl[JAIL_MAX_RLIMITS];
	size_t n_rl;
	char **args; /* after "--" */
	int n_args;

	char exec_name[NAME_MAX + 1];
	char jail_dir[PATH_MAX]; /* <base>/<exec name>/<id> */
	char root[PATH_MAX];     /* <jail_dir>/root */
	bool jail_created, parent_created, base_created;
	/* in a jail directory prepared beforehand: what this run added */
	char made[8][PATH_MAX + 64];
	size_t n_made;
	char parent[PATH_MAX]; /* <base>/<exec name> */
	const char *cg_root;
	int cg_version;
	struct jail_cg_dir cg_dirs[JAIL_MAX_CGROUPS];
	size_t n_cg_dirs;
};

static __attribute__((format(printf, 1, 2))) void jail_err(const char *fmt, ...)
{
	va_list ap;

	fputs("osprey-jailer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* snprintf for paths: each is bounded by its buffer, and one cut short
 * fails later with ENOENT rather than overflowing */
static __attribute__((format(printf, 3, 4))) int pathf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

static void usage(FILE *f)
{
	fputs("usage: osprey-jailer --id ID --exec-file PATH --uid UID --gid GID\n"
	      "       [--chroot-base-dir DIR] [--netns PATH] [--cgroup NAME=VALUE]...\n"
	      "       [--resource-limit fsize=N|no-file=N]... [--daemonize] [--new-pid-ns]\n"
	      "       [-- ARGS for the exec file...]\n",
	      f);
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to setresuid: refuse it */
	if (errno || *end || v >= UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JAIL_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_')
			return 0;
	return 1;
}

/* NAME=VALUE with NAME "<controller>.<file>": lower case, digits, '_' and
 * '.', no '/' (the file is looked up in the cgroup directory later). */
static int add_cgroup(struct jail *j, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct jail_cg_value *c;
	size_t n;
	const char *dot;

	if (j->n_cg >= JAIL_MAX_CGROUPS) {
		jail_err("too many --cgroup values (at most %d)", JAIL_MAX_CGROUPS);
		return -1;
	}
	if (!eq || eq == arg || !eq[1]) {
		jail_err("--cgroup %s: expected NAME=VALUE", arg);
		return -1;
	}
	n = (size_t)(eq - arg);
	c = &j->cg[j->n_cg];
	if (n >= sizeof(c->name)) {
		jail_err("--cgroup %s: name too long", arg);
		return -1;
	}
	memcpy(c->name, arg, n);
	c->name[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		char ch = c->name[i];

		if (!islower((unsigned char)ch) && !isdigit((unsigned char)ch) && ch != '_' && ch != '.') {
			jail_err("--cgroup %s: unknown cgroup file '%s'", arg, c->name);
			return -1;
		}
	}
	dot = strchr(c->name, '.');
	if (!dot || dot == c->name || !dot[1] || (size_t)(dot - c->name) >= sizeof(c->ctl)) {
		jail_err("--cgroup %s: unknown cgroup file '%s' (expected <controller>.<file>)", arg, c->name);
		return -1;
	}
	memcpy(c->ctl, c->name, (size_t)(dot - c->name));
	c->ctl[dot - c->name] = '\0';
	if (strchr(eq + 1, '\n')) {
		jail_err("--cgroup %s: value has a newline", c->name);
		return -1;
	}
	c->value = eq + 1;
	j->n_cg++;
	return 0;
}

static int add_rlimit(struct jail *j, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint64_t v;
	int res;

	if (j->n_rl >= JAIL_MAX_RLIMITS) {
		jail_err("too many --resource-limit values");
		return -1;
	}
	if (!eq) {
		jail_err("--resource-limit %s: expected fsize=N or no-file=N", arg);
		return -1;
	}
	if ((size_t)(eq - arg) == 5 && !strncmp(arg, "fsize", 5)) {
		res = RLIMIT_FSIZE;
	} else if ((size_t)(eq - arg) == 7 && !strncmp(arg, "no-file", 7)) {
		res = RLIMIT_NOFILE;
	} else {
		jail_err("--resource-limit %s: unknown resource (fsize or no-file)", arg);
		return -1;
	}
	if (parse_u64(eq + 1, &v) < 0) {
		jail_err("--resource-limit %s: bad value", arg);
		return -1;
	}
	j->rl[j->n_rl].resource = res;
	j->rl[j->n_rl].value = (rlim_t)v;
	j->n_rl++;
	return 0;
}

static int parse_args(struct jail *j, int argc, char **argv)
{
	enum { O_ID = 256, O_EXEC, O_UID, O_GID, O_BASE, O_NETNS, O_CGROUP, O_RLIMIT, O_DAEMON, O_PIDNS, O_HELP };
	static const struct option opts[] = {
		{ "id", required_argument, NULL, O_ID },
		{ "exec-file", required_argument, NULL, O_EXEC },
		{ "uid", required_argument, NULL, O_UID },
		{ "gid", required_argument, NULL, O_GID },
		{ "chroot-base-dir", required_argument, NULL, O_BASE },
		{ "netns", required_argument, NULL, O_NETNS },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "resource-limit", required_argument, NULL, O_RLIMIT },
		{ "daemonize", no_argument, NULL, O_DAEMON },
		{ "new-pid-ns", no_argument, NULL, O_PIDNS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct stat st;
	uint32_t v;
	int c;

	j->base = "/srv/jailer";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case O_ID:
			j->id = optarg;
			break;
		case O_EXEC:
			j->exec_file = optarg;
			break;
		case O_UID:
			if (parse_u32(optarg, &v) < 0) {
				jail_err("--uid %s: not a valid uid", optarg);
				return -1;
			}
			j->uid = v;
			j->have_uid = true;
			break;
		case O_GID:
			if (parse_u32(optarg, &v) < 0) {
				jail_err("--gid %s: not a valid gid", optarg);
				return -1;
			}
			j->gid = v;
			j->have_gid = true;
			break;
		case O_BASE:
			j->base = optarg;
			break;
		case O_NETNS:
			j->netns = optarg;
			break;
		case O_CGROUP:
			if (add_cgroup(j, optarg) < 0)
				return -1;
			break;
		case O_RLIMIT:
			if (add_rlimit(j, optarg) < 0)
				return -1;
			break;
		case O_DAEMON:
			j->daemonize = true;
			break;
		case O_PIDNS:
			j->new_pid_ns = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			jail_err("unknown option or missing value: %s", argv[optind - 1]);
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		jail_err("unexpected argument '%s' (exec-file arguments go after --)", argv[optind]);
		return -1;
	}
	j->args = argv + optind;
	j->n_args = argc - optind;

	if (!j->id) {
		jail_err("--id is required");
		return -1;
	}
	if (!valid_id(j->id)) {
		jail_err("--id '%s': 1 to %d letters, digits, '-' or '_'", j->id, JAIL_ID_MAX);
		return -1;
	}
	if (!j->exec_file) {
		jail_err("--exec-file is required");
		return -1;
	}
	if (stat(j->exec_file, &st) < 0) {
		jail_err("--exec-file %s: %s", j->exec_file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(j->exec_file, X_OK) < 0 || !(st.st_mode & 0111)) {
		jail_err("--exec-file %s: not an executable file", j->exec_file);
		return -1;
	}
	{
		const char *slash = strrchr(j->exec_file, '/');
		const char *name = slash ? slash + 1 : j->exec_file;

		if (!*name || strlen(name) >= sizeof(j->exec_name) || !strcmp(name, ".") || !strcmp(name, "..")) {
			jail_err("--exec-file %s: bad file name", j->exec_file);
			return -1;
		}
		strcpy(j->exec_name, name);
	}
	if (!j->have_uid) {
		jail_err("--uid is required");
		return -1;
	}
	if (!j->have_gid) {
		jail_err("--gid is required");
		return -1;
	}
	if (j->base[0] != '/') {
		jail_err("--chroot-base-dir %s: must be an absolute path", j->base);
		return -1;
	}
	if (j->netns && stat(j->netns, &st) < 0) {
		jail_err("--netns %s: %s", j->netns, strerror(errno));
		return -1;
	}
	if ((size_t)pathf(j->jail_dir, sizeof(j->jail_dir), "%s/%s/%s", j->base, j->exec_name, j->id) >=
		    sizeof(j->jail_dir) ||
	    (size_t)pathf(j->root, sizeof(j->root), "%s/root", j->jail_dir) >= sizeof(j->root)) {
		jail_err("--chroot-base-dir %s: path too long", j->base);
		return -1;
	}
	return 0;
}

/* Moves the calling process back to each hierarchy's root and removes
 * the cgroups this run created; then the jail directory. */
static void cleanup(struct jail *j)
{
	char p[PATH_MAX + 256];
	struct sb_err e;

	for (size_t i = j->n_cg_dirs; i-- > 0;) {
		struct jail_cg_dir *d = &j->cg_dirs[i];

		pathf(p, sizeof(p), "%s/cgroup.procs", d->root);
		(void)sb_write_file(p, "0", &e);
		if (d->created)
			(void)rmdir(d->path);
		if (d->parent_created) {
			pathf(p, sizeof(p), "%s", d->path);
			char *s = strrchr(p, '/');

			if (s) {
				*s = '\0';
				(void)rmdir(p);
			}
		}
	}
	j->n_cg_dirs = 0;
	if (j->jail_created) {
		(void)sb_rm_rf(j->jail_dir);
	} else {
		for (size_t i = j->n_made; i-- > 0;)
			(void)unlink(j->made[i]);
	}
	j->n_made = 0;
	j->jail_created = false;
	/* the parents only when this run made them (and they are empty) */
	if (j->parent_created)
		(void)rmdir(j->parent);
	if (j->base_created)
		(void)rmdir(j->base);
}

static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				ret = -errno;
				goto out;
			}
			off += w;
		}
	}
out:
	close(in);
	if (close(out) < 0 && !ret)
		ret = -errno;
	return ret;
}

static void note_made(struct jail *j, const char *path)
{
	if (j->n_made < sizeof(j->made) / sizeof(j->made[0]))
		pathf(j->made[j->n_made++], sizeof(j->made[0]), "%s", path);
}

static int make_node(struct jail *j, const char *rel, unsigned int maj, unsigned int min)
{
	char p[PATH_MAX + 32];

	pathf(p, sizeof(p), "%s%s", j->root, rel);
	/* a prepared jail may have the node already: made afresh */
	if (unlink(p) < 0 && errno != ENOENT) {
		jail_err("remove %s: %s", p, strerror(errno));
		return -1;
	}
	if (mknod(p, S_IFCHR | 0600, makedev(maj, min)) < 0) {
		jail_err("mknod %s: %s", p, strerror(errno));
		return -1;
	}
	note_made(j, p);
	if (chown(p, j->uid, j->gid) < 0) {
		jail_err("chown %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

static int build_root(struct jail *j)
{
	char p[PATH_MAX + 64];
	struct stat st;
	int r;

	pathf(j->parent, sizeof(j->parent), "%s/%s", j->base, j->exec_name);
	j->base_created = stat(j->base, &st) < 0;
	j->parent_created = stat(j->parent, &st) < 0;
	r = sb_mkdir_p(j->parent, 0755);
	if (r < 0) {
		jail_err("create %s: %s", j->parent, strerror(-r));
		return -1;
	}
	/* an existing id directory is a jail the manager prepared (files
	 * the VMM needs, its libraries): used as it is */
	if (mkdir(j->jail_dir, 0755) == 0)
		j->jail_created = true;
	else if (errno != EEXIST) {
		jail_err("create %s: %s", j->jail_dir, strerror(errno));
		return -1;
	}
	if (mkdir(j->root, 0755) < 0 && (j->jail_created || errno != EEXIST)) {
		jail_err("create %s: %s", j->root, strerror(errno));
		return -1;
	}
	pathf(p, sizeof(p), "%s/%s", j->root, j->exec_name);
	if (access(p, F_OK) == 0) {
		jail_err("%s exists already (a jail with this id is in use?)", p);
		return -1;
	}
	if (link(j->exec_file, p) < 0) {
		r = copy_file(j->exec_file, p);
		if (r < 0) {
			(void)unlink(p);
			jail_err("copy %s to %s: %s", j->exec_file, p, strerror(-r));
			return -1;
		}
	}
	note_made(j, p);
	if (chown(p, j->uid, j->gid) < 0) {
		jail_err("chown %s: %s", p, strerror(errno));
		return -1;
	}
	pathf(p, sizeof(p), "%s/dev/net", j->root);
	r = sb_mkdir_p(p, 0755);
	if (r < 0) {
		jail_err("create %s: %s", p, strerror(-r));
		return -1;
	}
	if (make_node(j, "/dev/net/tun", 10, 200) < 0 || make_node(j, "/dev/urandom", 1, 9) < 0)
		return -1;
	if (access("/dev/kvm", F_OK) == 0 && make_node(j, "/dev/kvm", 10, 232) < 0)
		return -1;
	return 0;
}

static int join_netns(struct jail *j)
{
	int fd;

	if (!j->netns)
		return 0;
	fd = open(j->netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		jail_err("--netns %s: %s", j->netns, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		jail_err("--netns %s: setns: %s", j->netns, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The cgroup directory for a controller (v1) or the one directory (v2),
 * created on first use. */
static struct jail_cg_dir *cg_dir(struct jail *j, const char *ctl)
{
	char hier[PATH_MAX], p[PATH_MAX + 64], buf[4096];
	struct jail_cg_dir *d;
	struct sb_err e;
	struct stat st;

	if (j->cg_version == SB_CG_V2)
		pathf(hier, sizeof(hier), "%s", j->cg_root);
	else
		pathf(hier, sizeof(hier), "%s/%s", j->cg_root, ctl);
	for (size_t i = 0; i < j->n_cg_dirs; i++)
		if (!strcmp(j->cg_dirs[i].root, hier))
			return &j->cg_dirs[i];
	if (stat(hier, &st) < 0 || !S_ISDIR(st.st_mode)) {
		jail_err("cgroup controller '%s' is not mounted at %s", ctl, hier);
		return NULL;
	}
	d = &j->cg_dirs[j->n_cg_dirs];
	memset(d, 0, sizeof(*d));
	pathf(d->root, sizeof(d->root), "%s", hier);
	pathf(p, sizeof(p), "%s/osprey", hier);
	if (mkdir(p, 0755) == 0)
		d->parent_created = true;
	else if (errno != EEXIST) {
		jail_err("create cgroup %s: %s", p, strerror(errno));
		return NULL;
	}
	j->n_cg_dirs++;
	/* on a hybrid host the unified mount keeps no controllers enabled
	 * (they belong to v1; container runtimes refuse to run otherwise) */
	if (j->cg_version == SB_CG_V2 && sb_cgroup_detect("/sys/fs/cgroup") == SB_CG_V2) {
		/* enable every controller the root offers for the children */
		char ctls[1024], *save = NULL;

		pathf(p, sizeof(p), "%s/cgroup.controllers", hier);
		if (sb_read_file(p, ctls, sizeof(ctls)) > 0) {
			for (char *t = strtok_r(ctls, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
				char en[80];

				pathf(en, sizeof(en), "+%s", t);
				pathf(p, sizeof(p), "%s/cgroup.subtree_control", hier);
				(void)sb_write_file(p, en, &e);
				pathf(p, sizeof(p), "%s/osprey/cgroup.subtree_control", hier);
				(void)sb_write_file(p, en, &e);
			}
		}
	}
	pathf(d->path, sizeof(d->path), "%s/osprey/%s", hier, j->id);
	if (mkdir(d->path, 0755) < 0) {
		jail_err("create cgroup %s: %s", d->path,
			 errno == EEXIST ? "exists already (a jail with this id?)" : strerror(errno));
		return NULL;
	}
	d->created = true;
	if (j->cg_version == SB_CG_V1 && !strcmp(ctl, "cpuset")) {
		/* a v1 cpuset takes no task until cpus and mems are set:
		 * inherit them down root -> osprey -> id where empty */
		static const char *const f[] = { "cpuset.cpus", "cpuset.mems" };
		static const char *const lvl[] = { "", "/osprey", "/osprey/" };

		for (size_t i = 0; i < 2; i++) {
			for (int l = 0; l < 2; l++) {
				char src[PATH_MAX + 128], dst[PATH_MAX + 128];

				pathf(src, sizeof(src), "%s%s/%s", hier, lvl[l], f[i]);
				pathf(dst, sizeof(dst), "%s%s%s/%s", hier, lvl[l + 1], l ? j->id : "", f[i]);
				if (sb_read_file(dst, buf, sizeof(buf)) > 0 && buf[0] != '\n')
					continue;
				if (sb_read_file(src, buf, sizeof(buf)) > 0)
					(void)sb_write_file(dst, buf, &e);
			}
		}
	}
	return d;
}

static int setup_cgroups(struct jail *j)
{
	char p[PATH_MAX + 384];
	struct sb_err e;
	struct stat st;

	if (!j->n_cg)
		return 0;
	j->cg_root = getenv("OSPREY_CGROUP_ROOT");
	if (!j->cg_root || !*j->cg_root)
		j->cg_root = "/sys/fs/cgroup";
	j->cg_version = sb_cgroup_detect(j->cg_root);
	if (j->cg_version < 0) {
		jail_err("cgroups at %s: %s", j->cg_root, strerror(-j->cg_version));
		return -1;
	}
	for (size_t i = 0; i < j->n_cg; i++) {
		struct jail_cg_dir *d = cg_dir(j, j->cg[i].ctl);

		if (!d)
			return -1;
		pathf(p, sizeof(p), "%s/%s", d->path, j->cg[i].name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			jail_err("--cgroup %s: unknown cgroup file (no %s)", j->cg[i].name, p);
			return -1;
		}
		if (sb_write_file(p, j->cg[i].value, &e) < 0) {
			jail_err("--cgroup %s=%s: %s", j->cg[i].name, j->cg[i].value, e.msg);
			return -1;
		}
	}
	for (size_t i = 0; i < j->n_cg_dirs; i++) {
		pathf(p, sizeof(p), "%s/cgroup.procs", j->cg_dirs[i].path);
		if (sb_write_file(p, "0", &e) < 0) {
			jail_err("join cgroup %s: %s", j->cg_dirs[i].path, e.msg);
			return -1;
		}
	}
	return 0;
}

static int set_rlimits(struct jail *j)
{
	for (size_t i = 0; i < j->n_rl; i++) {
		struct rlimit rl = { .rlim_cur = j->rl[i].value, .rlim_max = j->rl[i].value };

		if (setrlimit(j->rl[i].resource, &rl) < 0) {
			jail_err("setrlimit %s=%llu: %s", j->rl[i].resource == RLIMIT_FSIZE ? "fsize" : "no-file",
				 (unsigned long long)j->rl[i].value, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Everything between the fork (with --new-pid-ns) and exec: mount
 * namespace, pivot_root, privileges. Returns only on failure. */
static void enter_and_exec(struct jail *j)
{
	struct sb_caps nocaps = { 0 };
	struct sb_err e;
	int devnull = -1;
	char **argv;

	if (unshare(CLONE_NEWNS) < 0) {
		jail_err("unshare the mount namespace: %s", strerror(errno));
		return;
	}
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
		jail_err("make / a slave mount: %s", strerror(errno));
		return;
	}
	if (mount(j->root, j->root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		jail_err("bind %s: %s", j->root, strerror(errno));
		return;
	}
	if (j->daemonize) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0) {
			jail_err("open /dev/null: %s", strerror(errno));
			return;
		}
	}
	if (sb_pivot_root(j->root, &e) < 0) {
		jail_err("%s", e.msg);
		return;
	}
	/* capabilities: the bounding set first (needs CAP_SETPCAP) */
	if (sb_caps_drop_bounding(&nocaps, &e) < 0) {
		jail_err("%s", e.msg);
		return;
	}
	if (setgroups(0, NULL) < 0) {
		jail_err("setgroups: %s", strerror(errno));
		return;
	}
	if (setresgid(j->gid, j->gid, j->gid) < 0) {
		jail_err("setresgid %u: %s", (unsigned int)j->gid, strerror(errno));
		return;
	}
	if (setresuid(j->uid, j->uid, j->uid) < 0) {
		jail_err("setresuid %u: %s", (unsigned int)j->uid, strerror(errno));
		return;
	}
	/* uid 0 keeps its capabilities through setresuid: clear them all */
	if (sb_caps_apply(&nocaps, &e) < 0) {
		jail_err("%s", e.msg);
		return;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		jail_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return;
	}
	if (j->daemonize) {
		if (setsid() < 0) {
			/* a process group leader cannot: go on in a child */
			pid_t pid = fork();

			if (pid < 0) {
				jail_err("fork: %s", strerror(errno));
				return;
			}
			if (pid > 0)
				_exit(0);
			if (setsid() < 0) {
				jail_err("setsid: %s", strerror(errno));
				return;
			}
		}
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) {
			jail_err("stdio to /dev/null: %s", strerror(errno));
			return;
		}
		close(devnull);
	}
	argv = calloc((size_t)j->n_args + 2, sizeof(*argv));
	if (!argv) {
		jail_err("out of memory");
		return;
	}
	argv[0] = j->exec_name;
	for (int i = 0; i < j->n_args; i++)
		argv[i + 1] = j->args[i];
	{
		char path[NAME_MAX + 2];

		pathf(path, sizeof(path), "/%s", j->exec_name);
		execv(path, argv);
		jail_err("exec %s: %s", path, strerror(errno));
	}
	free(argv);
}

int main(int argc, char **argv)
{
	struct jail j;
	int pfd[2];
	pid_t pid;
	int status;
	char c;

	memset(&j, 0, sizeof(j));
	if (parse_args(&j, argc, argv) < 0)
		return 1;
	if (geteuid() != 0) {
		jail_err("must run as root");
		return 1;
	}
	if (build_root(&j) < 0 || join_netns(&j) < 0 || setup_cgroups(&j) < 0 || set_rlimits(&j) < 0)
		goto fail;

	if (!j.new_pid_ns) {
		/* from here on the jail is not reachable to clean up: a failure
		 * past pivot_root leaves the jail directory (docs/jailer.md) */
		enter_and_exec(&j);
		return 1;
	}
	/* the child reports a setup failure on the pipe; exec closes it */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		jail_err("pipe: %s", strerror(errno));
		goto fail;
	}
	fflush(NULL);
	/* a fork into a new PID namespace, as pid 1 there; clone rather
	 * than unshare, which would leave this process unable to fork
	 * again (LeakSanitizer's exit check does) */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		jail_err("fork into a new PID namespace: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		goto fail;
	}
	if (pid == 0) {
		close(pfd[0]);
		enter_and_exec(&j);
		c = 1;
		(void)!write(pfd[1], &c, 1);
		_exit(1);
	}
	close(pfd[1]);
	{
		ssize_t n;

		while ((n = read(pfd[0], &c, 1)) < 0 && errno == EINTR)
			;
		close(pfd[0]);
		if (n == 1) {
			(void)waitpid(pid, &status, 0);
			goto fail;
		}
	}
	if (j.daemonize)
		return 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			jail_err("waitpid: %s", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);

fail:
	cleanup(&j);
	return 1;
}
