// SPDX-License-Identifier: Apache-2.0
/*
 * sandbox: cgroups. v2 (one unified hierarchy) when the root is cgroup2,
 * else v1 with one hierarchy per controller under <root>/<controller>.
 * The OCI resource values are translated here (shares -> weight etc.).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *const v1_ctls[] = {
	"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "hugetlb", "devices",
};
#define N_V1 (sizeof(v1_ctls) / sizeof(v1_ctls[0]))

void sb_resources_init(struct sb_resources *r)
{
	memset(r, 0, sizeof(*r));
	r->mem_limit = r->mem_reservation = r->mem_swap = r->kernel_mem = -1;
	r->mem_swappiness = -1;
	r->kernel_tcp = -1;
	r->cpu_quota = r->cpu_rt_runtime = 0;
	r->pids_limit = 0;
}

void sb_resources_free(struct sb_resources *r)
{
	free(r->hugepages);
	free(r->devices);
	for (size_t i = 0; i < r->n_unified; i++) {
		free(r->unified_keys[i]);
		free(r->unified_values[i]);
	}
	free(r->unified_keys);
	free(r->unified_values);
	r->hugepages = NULL;
	r->devices = NULL;
	r->unified_keys = r->unified_values = NULL;
	r->n_hugepages = r->n_devices = r->n_unified = 0;
}

int sb_cgroup_detect(const char *root)
{
	struct statfs sf;

	if (statfs(root, &sf) < 0)
		return -errno;
	return sf.f_type == CGROUP2_SUPER_MAGIC ? SB_CG_V2 : SB_CG_V1;
}

uint64_t sb_cg_shares_to_weight(uint64_t shares)
{
	/* v1 shares [2, 262144] onto v2 weight [1, 10000], linearly */
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t sb_cg_blkio_to_io_weight(uint16_t weight)
{
	/* blkio.weight [10, 1000] onto io.weight [1, 10000] */
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + ((uint64_t)(weight - 10) * 9999) / 990;
}

int sb_cg_swap_v2(int64_t mem, int64_t swap, char *buf, size_t cap, struct sb_err *e)
{
	if (swap == -1) {
		snprintf(buf, cap, "max");
		return 0;
	}
	if (swap == 0) {
		snprintf(buf, cap, "0");
		return 0;
	}
	if (mem == -1 || mem < 0)
		return sb_fail(e, EINVAL, "memory.swap needs memory.limit on cgroup v2");
	if (swap < mem)
		return sb_fail(e, EINVAL, "memory.swap (%" PRId64 ") is memory+swap and must not be below memory.limit (%" PRId64 ")",
			       swap, mem);
	snprintf(buf, cap, "%" PRId64, swap - mem);
	return 0;
}

static bool path_ok(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, ".."))) {
		bool start = s == p || s[-1] == '/';
		bool end = s[2] == '\0' || s[2] == '/';
		if (start && end)
			return false;
		s += 2;
	}
	return true;
}

int sb_cg_resolve_path(const char *cgroups_path, const char *own, const char *id, char *out, size_t cap,
		       struct sb_err *e)
{
	int n;

	if (!cgroups_path || !*cgroups_path)
		n = snprintf(out, cap, "/osprey-oci/%s", id);
	else if (!path_ok(cgroups_path))
		return sb_fail(e, EINVAL, "cgroupsPath %s contains '..'", cgroups_path);
	else if (strchr(cgroups_path, ':') && cgroups_path[0] != '/')
		return sb_fail(e, EINVAL, "cgroupsPath %s is a systemd slice:prefix:name path; systemd cgroups are not supported",
			       cgroups_path);
	else if (cgroups_path[0] == '/')
		n = snprintf(out, cap, "%s", cgroups_path);
	else
		n = snprintf(out, cap, "%s/%s", strcmp(own, "/") ? own : "", cgroups_path);
	if (n < 0 || (size_t)n >= cap)
		return sb_fail(e, ENAMETOOLONG, "cgroupsPath too long");
	/* no trailing slashes, no doubled ones */
	char *w = out;
	for (const char *r = out; *r; r++)
		if (!(*r == '/' && w > out && w[-1] == '/'))
			*w++ = *r;
	if (w > out + 1 && w[-1] == '/')
		w--;
	*w = '\0';
	if (!strcmp(out, "/") || !*out)
		return sb_fail(e, EINVAL, "cgroupsPath must not be the root cgroup");
	return 0;
}

static void dir_of(const struct sb_cgroup *cg, const char *ctl, char *buf, size_t cap)
{
	if (cg->version == SB_CG_V2 || !ctl)
		snprintf(buf, cap, "%s%s", cg->root, cg->path);
	else
		snprintf(buf, cap, "%s/%s%s", cg->root, ctl, cg->path);
}

static bool have_ctl(const struct sb_cgroup *cg, const char *ctl)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", cg->root, ctl);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cg_write(const struct sb_cgroup *cg, const char *ctl, const char *file, const char *val,
		    struct sb_err *e)
{
	char p[1024];

	dir_of(cg, ctl, p, sizeof(p));
	strncat(p, "/", sizeof(p) - strlen(p) - 1);
	strncat(p, file, sizeof(p) - strlen(p) - 1);
	return sb_write_file(p, val, e);
}

static int cg_writef(const struct sb_cgroup *cg, const char *ctl, const char *file, struct sb_err *e,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int cg_writef(const struct sb_cgroup *cg, const char *ctl, const char *file, struct sb_err *e,
		     const char *fmt, ...)
{
	char val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return cg_write(cg, ctl, file, val, e);
}

/* v1 cpuset: a new group starts with empty cpus/mems; copy the parent's
 * down every level we create. */
static int cpuset_fill(const char *dir)
{
	char parent[1024], p[1100], val[4096];
	const char *files[] = { "cpuset.cpus", "cpuset.mems" };

	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (sb_read_file(p, val, sizeof(val)) < 0)
			return 0;
		if (val[0] != '\n' && val[0] != '\0')
			continue;
		snprintf(p, sizeof(p), "%s/%s", parent, files[i]);
		if (sb_read_file(p, val, sizeof(val)) < 0)
			return 0;
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (sb_write_file(p, val, NULL) < 0)
			return -EIO;
	}
	return 0;
}

static int mkdir_levels(const char *base, const char *path, bool cpuset, bool v2)
{
	char p[1024];
	size_t blen = strlen(base);

	if (blen + strlen(path) >= sizeof(p))
		return -ENAMETOOLONG;
	if (snprintf(p, sizeof(p), "%s%s", base, path) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + blen + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (v2) {
			/* let the level below use every controller we have */
			char sc[1100], ctls[512], req[600] = "";
			char *dir_end = strrchr(p, '/');
			*dir_end = '\0';
			snprintf(sc, sizeof(sc), "%s/cgroup.controllers", p);
			if (sb_read_file(sc, ctls, sizeof(ctls)) > 0) {
				char *save = NULL;
				for (char *t = strtok_r(ctls, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
					strncat(req, "+", sizeof(req) - strlen(req) - 1);
					strncat(req, t, sizeof(req) - strlen(req) - 1);
					strncat(req, " ", sizeof(req) - strlen(req) - 1);
				}
				snprintf(sc, sizeof(sc), "%s/cgroup.subtree_control", p);
				if (req[0])
					sb_write_file(sc, req, NULL);
			}
			*dir_end = '/';
		}
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (cpuset && cpuset_fill(p) < 0)
			return -EIO;
		if (c == '\0')
			break;
		*s = c;
	}
	return 0;
}

int sb_cgroup_create(struct sb_cgroup *cg, const struct sb_resources *r, struct sb_err *e)
{
	char base[512];
	int ret;

	if (cg->version == SB_CG_V2) {
		/* on a hybrid host the unified mount must keep no controllers
		 * (they are v1's; other runtimes refuse to run otherwise) */
		bool hybrid = sb_cgroup_detect("/sys/fs/cgroup") != SB_CG_V2;
		ret = mkdir_levels(cg->root, cg->path, false, !hybrid);
		if (ret < 0)
			return sb_fail(e, -ret, "create cgroup %s%s: %s", cg->root, cg->path, strerror(-ret));
	} else {
		for (size_t i = 0; i < N_V1; i++) {
			if (!have_ctl(cg, v1_ctls[i]))
				continue;
			snprintf(base, sizeof(base), "%s/%s", cg->root, v1_ctls[i]);
			ret = mkdir_levels(base, cg->path, !strcmp(v1_ctls[i], "cpuset"), false);
			if (ret < 0) {
				sb_cgroup_destroy(cg, false, NULL);
				return sb_fail(e, -ret, "create cgroup %s%s: %s", base, cg->path, strerror(-ret));
			}
		}
	}
	if (r) {
		ret = sb_cgroup_set(cg, r, e);
		if (ret < 0) {
			sb_cgroup_destroy(cg, false, NULL);
			return ret;
		}
	}
	return 0;
}

static int set_v1(const struct sb_cgroup *cg, const struct sb_resources *r, struct sb_err *e)
{
	int ret = 0;

#define TRY(x)                  \
	do {                    \
		ret = (x);      \
		if (ret < 0)    \
			return ret; \
	} while (0)
	if (r->mem_limit != -1 || r->mem_swap != -1 || r->mem_reservation != -1 || r->mem_swappiness != -1 ||
	    r->kernel_tcp != -1 || r->disable_oom_killer) {
		if (!have_ctl(cg, "memory"))
			return sb_fail(e, ENOTSUP, "memory limits need the memory cgroup controller");
		if (r->mem_limit != -1) {
			ret = cg_writef(cg, "memory", "memory.limit_in_bytes", e, "%" PRId64, r->mem_limit);
			/* raising the limit above memsw: raise memsw first */
			if (ret < 0 && r->mem_swap != -1) {
				TRY(cg_writef(cg, "memory", "memory.memsw.limit_in_bytes", e, "%" PRId64, r->mem_swap));
				ret = cg_writef(cg, "memory", "memory.limit_in_bytes", e, "%" PRId64, r->mem_limit);
			}
			if (ret < 0)
				return ret;
		}
		if (r->mem_swap != -1) {
			if (r->mem_swap != -1 && r->mem_limit != -1 && r->mem_swap < r->mem_limit)
				return sb_fail(e, EINVAL, "memory.swap (memory+swap) must not be below memory.limit");
			TRY(cg_writef(cg, "memory", "memory.memsw.limit_in_bytes", e, "%" PRId64, r->mem_swap));
		}
		if (r->mem_reservation != -1)
			TRY(cg_writef(cg, "memory", "memory.soft_limit_in_bytes", e, "%" PRId64, r->mem_reservation));
		if (r->mem_swappiness != -1)
			TRY(cg_writef(cg, "memory", "memory.swappiness", e, "%" PRId64, r->mem_swappiness));
		if (r->disable_oom_killer)
			TRY(cg_write(cg, "memory", "memory.oom_control", "1", e));
		if (r->kernel_tcp != -1)
			TRY(cg_writef(cg, "memory", "memory.kmem.tcp.limit_in_bytes", e, "%" PRId64,
				      r->kernel_tcp));
	}
	if (r->cpu_shares)
		TRY(cg_writef(cg, "cpu", "cpu.shares", e, "%" PRIu64, r->cpu_shares));
	if (r->cpu_period)
		TRY(cg_writef(cg, "cpu", "cpu.cfs_period_us", e, "%" PRIu64, r->cpu_period));
	if (r->cpu_quota)
		TRY(cg_writef(cg, "cpu", "cpu.cfs_quota_us", e, "%" PRId64, r->cpu_quota));
	if (r->cpu_rt_period)
		TRY(cg_writef(cg, "cpu", "cpu.rt_period_us", e, "%" PRIu64, r->cpu_rt_period));
	if (r->cpu_rt_runtime)
		TRY(cg_writef(cg, "cpu", "cpu.rt_runtime_us", e, "%" PRId64, r->cpu_rt_runtime));
	if (r->cpus[0])
		TRY(cg_write(cg, "cpuset", "cpuset.cpus", r->cpus, e));
	if (r->mems[0])
		TRY(cg_write(cg, "cpuset", "cpuset.mems", r->mems, e));
	if (r->pids_limit) {
		if (!have_ctl(cg, "pids"))
			return sb_fail(e, ENOTSUP, "a pids limit needs the pids cgroup controller");
		if (r->pids_limit < 0)
			TRY(cg_write(cg, "pids", "pids.max", "max", e));
		else
			TRY(cg_writef(cg, "pids", "pids.max", e, "%" PRId64, r->pids_limit));
	}
	if (r->blkio_weight) {
		ret = cg_writef(cg, "blkio", "blkio.weight", e, "%u", r->blkio_weight);
		if (ret == -ENOENT)
			ret = cg_writef(cg, "blkio", "blkio.bfq.weight", e, "%u", r->blkio_weight);
		if (ret < 0)
			return ret;
	}
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char f[64];
		snprintf(f, sizeof(f), "hugetlb.%s.limit_in_bytes", r->hugepages[i].page_size);
		if (!have_ctl(cg, "hugetlb"))
			return sb_fail(e, ENOTSUP, "hugepage limits need the hugetlb cgroup controller");
		TRY(cg_writef(cg, "hugetlb", f, e, "%" PRIu64, r->hugepages[i].limit));
	}
	if (r->n_devices && have_ctl(cg, "devices")) {
		for (size_t i = 0; i < r->n_devices; i++) {
			const struct sb_dev_rule *d = &r->devices[i];
			char rule[64], maj[24], min[24];

			if (d->major < 0)
				snprintf(maj, sizeof(maj), "*");
			else
				snprintf(maj, sizeof(maj), "%" PRId64, d->major);
			if (d->minor < 0)
				snprintf(min, sizeof(min), "*");
			else
				snprintf(min, sizeof(min), "%" PRId64, d->minor);
			if (d->type == 'a')
				snprintf(rule, sizeof(rule), "a");
			else
				snprintf(rule, sizeof(rule), "%c %s:%s %s", d->type, maj, min,
					 d->access[0] ? d->access : "rwm");
			TRY(cg_write(cg, "devices", d->allow ? "devices.allow" : "devices.deny", rule, e));
		}
	}
	if (r->n_unified)
		return sb_fail(e, ENOTSUP, "linux.resources.unified needs cgroup v2");
#undef TRY
	return 0;
}

static int set_v2(const struct sb_cgroup *cg, const struct sb_resources *r, struct sb_err *e)
{
	char buf[64];
	int ret = 0;

#define TRY(x)                  \
	do {                    \
		ret = (x);      \
		if (ret < 0)    \
			return ret; \
	} while (0)
	if (r->mem_limit != -1) {
		if (r->mem_limit < 0)
			TRY(cg_write(cg, NULL, "memory.max", "max", e));
		else
			TRY(cg_writef(cg, NULL, "memory.max", e, "%" PRId64, r->mem_limit));
	}
	if (r->mem_swap != -1) {
		TRY(sb_cg_swap_v2(r->mem_limit, r->mem_swap, buf, sizeof(buf), e));
		TRY(cg_write(cg, NULL, "memory.swap.max", buf, e));
	}
	if (r->mem_reservation != -1)
		TRY(cg_writef(cg, NULL, "memory.low", e, "%" PRId64, r->mem_reservation));
	if (r->cpu_shares)
		TRY(cg_writef(cg, NULL, "cpu.weight", e, "%" PRIu64, sb_cg_shares_to_weight(r->cpu_shares)));
	if (r->cpu_quota || r->cpu_period) {
		if (r->cpu_quota > 0)
			snprintf(buf, sizeof(buf), "%" PRId64 " %" PRIu64, r->cpu_quota,
				 r->cpu_period ? r->cpu_period : 100000);
		else
			snprintf(buf, sizeof(buf), "max %" PRIu64, r->cpu_period ? r->cpu_period : 100000);
		TRY(cg_write(cg, NULL, "cpu.max", buf, e));
	}
	if (r->cpus[0])
		TRY(cg_write(cg, NULL, "cpuset.cpus", r->cpus, e));
	if (r->mems[0])
		TRY(cg_write(cg, NULL, "cpuset.mems", r->mems, e));
	if (r->pids_limit) {
		if (r->pids_limit < 0)
			TRY(cg_write(cg, NULL, "pids.max", "max", e));
		else
			TRY(cg_writef(cg, NULL, "pids.max", e, "%" PRId64, r->pids_limit));
	}
	if (r->blkio_weight)
		TRY(cg_writef(cg, NULL, "io.weight", e, "default %" PRIu64, sb_cg_blkio_to_io_weight(r->blkio_weight)));
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char f[64];
		snprintf(f, sizeof(f), "hugetlb.%s.max", r->hugepages[i].page_size);
		TRY(cg_writef(cg, NULL, f, e, "%" PRIu64, r->hugepages[i].limit));
	}
	for (size_t i = 0; i < r->n_unified; i++) {
		if (strchr(r->unified_keys[i], '/') || !strcmp(r->unified_keys[i], "..") ||
		    !strchr(r->unified_keys[i], '.'))
			return sb_fail(e, EINVAL, "bad unified cgroup key %s", r->unified_keys[i]);
		TRY(cg_write(cg, NULL, r->unified_keys[i], r->unified_values[i], e));
	}
#undef TRY
	return 0;
}

int sb_cgroup_set(const struct sb_cgroup *cg, const struct sb_resources *r, struct sb_err *e)
{
	int ret = cg->version == SB_CG_V2 ? set_v2(cg, r, e) : set_v1(cg, r, e);

	/* a missing file means the controller or feature is absent */
	if (ret == -ENOENT)
		return sb_fail(e, ENOTSUP, "%s (controller or feature not available here)", e ? e->msg : "");
	return ret;
}

int sb_cgroup_add_pid(const struct sb_cgroup *cg, pid_t pid, struct sb_err *e)
{
	char val[32];
	int ret;

	snprintf(val, sizeof(val), "%d", (int)pid);
	if (cg->version == SB_CG_V2)
		return cg_write(cg, NULL, "cgroup.procs", val, e);
	for (size_t i = 0; i < N_V1; i++) {
		if (!have_ctl(cg, v1_ctls[i]))
			continue;
		ret = cg_write(cg, v1_ctls[i], "cgroup.procs", val, e);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int read_pids(const char *dir, pid_t *pids, size_t cap)
{
	char p[1100], *buf, *save = NULL;
	size_t n = 0;
	ssize_t len;

	buf = malloc(1 << 16);
	if (!buf)
		return -ENOMEM;
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	len = sb_read_file(p, buf, 1 << 16);
	if (len < 0) {
		free(buf);
		return (int)len;
	}
	for (char *t = strtok_r(buf, "\n", &save); t && n < cap; t = strtok_r(NULL, "\n", &save))
		pids[n++] = (pid_t)strtol(t, NULL, 10);
	free(buf);
	return (int)n;
}

int sb_cgroup_pids(const struct sb_cgroup *cg, pid_t *pids, size_t cap)
{
	char dir[1024];

	dir_of(cg, cg->version == SB_CG_V2 ? NULL : (have_ctl(cg, "pids") ? "pids" : "memory"), dir, sizeof(dir));
	return read_pids(dir, pids, cap);
}

bool sb_cgroup_exists(const struct sb_cgroup *cg)
{
	char dir[1024];
	struct stat st;

	if (cg->version == SB_CG_V2) {
		dir_of(cg, NULL, dir, sizeof(dir));
		return stat(dir, &st) == 0;
	}
	for (size_t i = 0; i < N_V1; i++) {
		dir_of(cg, v1_ctls[i], dir, sizeof(dir));
		if (stat(dir, &st) == 0)
			return true;
	}
	return false;
}

static void kill_all(const char *dir)
{
	pid_t pids[1024];
	int n;

	for (int round = 0; round < 100; round++) {
		n = read_pids(dir, pids, 1024);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
}

static int rmdir_retry(const char *dir, bool kill, int tries)
{
	for (int i = 0; i < tries; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		if (kill)
			kill_all(dir);
		/* a just-killed task leaves its cgroup a moment later */
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	return -EBUSY;
}

int sb_cgroup_destroy(const struct sb_cgroup *cg, bool kill, struct sb_err *e)
{
	char dir[1024];
	int ret, first = 0;

	if (cg->version == SB_CG_V2) {
		dir_of(cg, NULL, dir, sizeof(dir));
		if (kill) {
			char k[1100];
			snprintf(k, sizeof(k), "%s/cgroup.kill", dir);
			if (access(k, F_OK) == 0)
				sb_write_file(k, "1", NULL);
			else
				kill_all(dir);
		}
		ret = rmdir_retry(dir, kill, 200);
		if (ret < 0)
			return sb_fail(e, -ret, "remove cgroup %s: %s", dir, strerror(-ret));
		return 0;
	}
	if (kill) {
		/* thaw first: frozen tasks do not die */
		dir_of(cg, "freezer", dir, sizeof(dir));
		if (access(dir, F_OK) == 0)
			cg_write(cg, "freezer", "freezer.state", "THAWED", NULL);
	}
	for (size_t i = 0; i < N_V1; i++) {
		dir_of(cg, v1_ctls[i], dir, sizeof(dir));
		ret = rmdir_retry(dir, kill, 200);
		if (ret < 0 && !first) {
			first = ret;
			sb_fail(e, -ret, "remove cgroup %s: %s", dir, strerror(-ret));
		}
	}
	return first;
}

void sb_cgroup_remove_if_empty(const struct sb_cgroup *cg)
{
	char dir[1024];

	if (cg->version == SB_CG_V2) {
		dir_of(cg, NULL, dir, sizeof(dir));
		rmdir(dir);
		return;
	}
	for (size_t i = 0; i < N_V1; i++) {
		dir_of(cg, v1_ctls[i], dir, sizeof(dir));
		rmdir(dir);
	}
}

int sb_cgroup_frozen(const struct sb_cgroup *cg)
{
	char p[1100], buf[256];
	char dir[1024];

	if (cg->version == SB_CG_V2) {
		dir_of(cg, NULL, dir, sizeof(dir));
		snprintf(p, sizeof(p), "%s/cgroup.freeze", dir);
		if (sb_read_file(p, buf, sizeof(buf)) < 0)
			return -ENOENT;
		return buf[0] == '1';
	}
	dir_of(cg, "freezer", dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/freezer.state", dir);
	if (sb_read_file(p, buf, sizeof(buf)) < 0)
		return -ENOENT;
	return !strncmp(buf, "FROZEN", 6) || !strncmp(buf, "FREEZING", 8);
}

int sb_cgroup_freeze(const struct sb_cgroup *cg, bool freeze, struct sb_err *e)
{
	char p[1100], buf[256], dir[1024];
	int ret;

	if (cg->version == SB_CG_V2) {
		ret = cg_write(cg, NULL, "cgroup.freeze", freeze ? "1" : "0", e);
		if (ret < 0)
			return ret;
		dir_of(cg, NULL, dir, sizeof(dir));
		snprintf(p, sizeof(p), "%s/cgroup.events", dir);
		for (int i = 0; i < 1000; i++) {
			if (sb_read_file(p, buf, sizeof(buf)) < 0)
				break;
			char *f = strstr(buf, "frozen ");
			if (!f || (f[7] == '1') == freeze)
				return 0;
			nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
		}
		return 0;
	}
	if (!have_ctl(cg, "freezer"))
		return sb_fail(e, ENOTSUP, "pause/resume need the freezer cgroup controller");
	ret = cg_write(cg, "freezer", "freezer.state", freeze ? "FROZEN" : "THAWED", e);
	if (ret < 0)
		return ret;
	dir_of(cg, "freezer", dir, sizeof(dir));
	snprintf(p, sizeof(p), "%s/freezer.state", dir);
	for (int i = 0; i < 2000; i++) {
		if (sb_read_file(p, buf, sizeof(buf)) < 0)
			break;
		if (!strncmp(buf, freeze ? "FROZEN" : "THAWED", 6))
			return 0;
		if (freeze && i % 50 == 49) /* retry a stuck FREEZING */
			cg_write(cg, "freezer", "freezer.state", "FROZEN", NULL);
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	return sb_fail(e, ETIMEDOUT, "the freezer did not reach %s", freeze ? "FROZEN" : "THAWED");
}
