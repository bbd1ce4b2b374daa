// SPDX-License-Identifier: Apache-2.0
/*
 * config.json -> struct oci_config with jansson. Each getter checks the
 * JSON type and range of one field and names the field in its error;
 * fields the specification does not define are never looked at.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "oci/config.h"

#define TRY(x)                  \
	do {                    \
		int r_ = (x);   \
		if (r_ < 0)     \
			return r_; \
	} while (0)

static int bad(struct sb_err *e, const char *field, const char *what)
{
	return sb_fail(e, EINVAL, "config: %s: %s", field, what);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p)
		abort();
	return p;
}

/* A member that may be absent or null (treated as absent). */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int get_obj(json_t *obj, const char *key, const char *field, json_t **out, struct sb_err *e)
{
	json_t *v = member(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return bad(e, field, "expected an object");
	*out = v;
	return 1;
}

static int get_arr(json_t *obj, const char *key, const char *field, json_t **out, struct sb_err *e)
{
	json_t *v = member(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return bad(e, field, "expected an array");
	*out = v;
	return 1;
}

static int get_str(json_t *obj, const char *key, const char *field, char **out, struct sb_err *e)
{
	json_t *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad(e, field, "expected a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(e, field, "contains a NUL byte");
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 1;
}

static int get_bool(json_t *obj, const char *key, const char *field, bool *out, struct sb_err *e)
{
	json_t *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad(e, field, "expected true or false");
	*out = json_is_true(v);
	return 1;
}

static int get_i64(json_t *obj, const char *key, const char *field, int64_t min, int64_t max, int64_t *out,
		   struct sb_err *e)
{
	json_t *v = member(obj, key);
	json_int_t x;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return bad(e, field, "expected an integer");
	x = json_integer_value(v);
	if (x < min || x > max)
		return sb_fail(e, EINVAL, "config: %s: %" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", field,
			       (int64_t)x, min, max);
	*out = x;
	return 1;
}

/* Unsigned 64-bit values: jansson holds them as signed, so values above
 * INT64_MAX arrive as reals or fail to parse; accept integers >= 0. */
static int get_u64(json_t *obj, const char *key, const char *field, uint64_t *out, struct sb_err *e)
{
	int64_t x;
	int r = get_i64(obj, key, field, 0, INT64_MAX, &x, e);

	if (r > 0)
		*out = (uint64_t)x;
	return r;
}

static int get_u32(json_t *obj, const char *key, const char *field, uint32_t *out, struct sb_err *e)
{
	int64_t x;
	int r = get_i64(obj, key, field, 0, UINT32_MAX, &x, e);

	if (r > 0)
		*out = (uint32_t)x;
	return r;
}

static int str_array(json_t *arr, const char *field, char ***out, size_t *n, struct sb_err *e)
{
	size_t i, cnt = json_array_size(arr);
	json_t *v;

	*out = xcalloc(cnt + 1, sizeof(char *));
	*n = 0;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return sb_fail(e, EINVAL, "config: %s[%zu]: expected a string", field, i);
		(*out)[(*n)++] = xstrdup(json_string_value(v));
	}
	return 0;
}

static int get_strs(json_t *obj, const char *key, const char *field, char ***out, size_t *n, struct sb_err *e)
{
	json_t *a;
	int r = get_arr(obj, key, field, &a, e);

	if (r <= 0)
		return r;
	return str_array(a, field, out, n, e);
}

static void free_strs(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* {"key": "value", ...} */
static int str_map(json_t *obj, const char *key, const char *field, char ***keys, char ***vals, size_t *n,
		   struct sb_err *e)
{
	json_t *o, *v;
	const char *k;
	int r = get_obj(obj, key, field, &o, e);

	if (r <= 0)
		return r;
	*keys = xcalloc(json_object_size(o), sizeof(char *));
	*vals = xcalloc(json_object_size(o), sizeof(char *));
	json_object_foreach(o, k, v) {
		if (!json_is_string(v))
			return sb_fail(e, EINVAL, "config: %s.%s: expected a string", field, k);
		(*keys)[*n] = xstrdup(k);
		(*vals)[*n] = xstrdup(json_string_value(v));
		(*n)++;
	}
	return 1;
}

static const struct {
	const char *name;
	int res;
} rlimit_table[] = {
	{ "RLIMIT_AS", RLIMIT_AS },	       { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },	       { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },      { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },	       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },      { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },    { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int oci_rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(rlimit_table) / sizeof(rlimit_table[0]); i++)
		if (!strcmp(name, rlimit_table[i].name))
			return rlimit_table[i].res;
	return -1;
}

static int cap_set(json_t *caps, const char *key, uint64_t *out, struct sb_err *e)
{
	char field[64], **names = NULL;
	size_t n = 0;
	int r;

	snprintf(field, sizeof(field), "process.capabilities.%s", key);
	r = get_strs(caps, key, field, &names, &n, e);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		int c = sb_cap_from_name(names[i]);

		if (c < 0)
			r = sb_fail(e, EINVAL, "config: %s: unknown capability %s", field, names[i]);
		else
			*out |= 1ull << c;
	}
	free_strs(names, n);
	return r;
}

static int parse_process(json_t *p, struct oci_process *proc, bool need_args, struct sb_err *e)
{
	json_t *o, *a, *v;
	int64_t x;
	size_t i;

	proc->umask = -1;
	TRY(get_bool(p, "terminal", "process.terminal", &proc->terminal, e));
	if (get_obj(p, "consoleSize", "process.consoleSize", &o, e) < 0)
		return -EINVAL;
	if (o) {
		uint32_t h = 0, w = 0;
		TRY(get_u32(o, "height", "process.consoleSize.height", &h, e));
		TRY(get_u32(o, "width", "process.consoleSize.width", &w, e));
		proc->console_height = h;
		proc->console_width = w;
	}
	TRY(get_strs(p, "args", "process.args", &proc->args, &proc->n_args, e));
	if (need_args && proc->n_args == 0)
		return bad(e, "process.args", "must name the program to run");
	if (json_object_get(p, "commandLine"))
		return bad(e, "process.commandLine", "is for Windows");
	TRY(get_strs(p, "env", "process.env", &proc->env, &proc->n_env, e));
	for (i = 0; i < proc->n_env; i++)
		if (!strchr(proc->env[i], '='))
			return sb_fail(e, EINVAL, "config: process.env[%zu]: '%s' is not NAME=VALUE", i, proc->env[i]);
	TRY(get_str(p, "cwd", "process.cwd", &proc->cwd, e));
	if (!proc->cwd)
		proc->cwd = xstrdup("/");
	else if (proc->cwd[0] != '/')
		return bad(e, "process.cwd", "must be an absolute path");
	if (get_obj(p, "user", "process.user", &o, e) < 0)
		return -EINVAL;
	if (o) {
		TRY(get_u32(o, "uid", "process.user.uid", &proc->uid, e));
		TRY(get_u32(o, "gid", "process.user.gid", &proc->gid, e));
		if (get_i64(o, "umask", "process.user.umask", 0, 0777, &x, e) < 0)
			return -EINVAL;
		else if (member(o, "umask"))
			proc->umask = (int)x;
		TRY(get_arr(o, "additionalGids", "process.user.additionalGids", &a, e));
		if (a) {
			proc->additional_gids = xcalloc(json_array_size(a), sizeof(uint32_t));
			json_array_foreach(a, i, v) {
				if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				    json_integer_value(v) > UINT32_MAX)
					return sb_fail(e, EINVAL, "config: process.user.additionalGids[%zu]: expected a gid",
						       i);
				proc->additional_gids[proc->n_additional_gids++] = (uint32_t)json_integer_value(v);
			}
		}
		char *username = NULL; /* Windows only; type-checked */
		int r = get_str(o, "username", "process.user.username", &username, e);
		free(username);
		if (r < 0)
			return r;
	}
	if (get_obj(p, "capabilities", "process.capabilities", &o, e) < 0)
		return -EINVAL;
	if (o) {
		proc->has_caps = true;
		TRY(cap_set(o, "bounding", &proc->caps.bounding, e));
		TRY(cap_set(o, "effective", &proc->caps.effective, e));
		TRY(cap_set(o, "inheritable", &proc->caps.inheritable, e));
		TRY(cap_set(o, "permitted", &proc->caps.permitted, e));
		TRY(cap_set(o, "ambient", &proc->caps.ambient, e));
	}
	TRY(get_arr(p, "rlimits", "process.rlimits", &a, e));
	if (a) {
		proc->rlimits = xcalloc(json_array_size(a), sizeof(*proc->rlimits));
		json_array_foreach(a, i, v) {
			struct oci_rlimit *rl = &proc->rlimits[proc->n_rlimits];
			char *type = NULL;
			char field[48];

			snprintf(field, sizeof(field), "process.rlimits[%zu]", i);
			if (!json_is_object(v))
				return bad(e, field, "expected an object");
			if (get_str(v, "type", field, &type, e) <= 0) {
				free(type);
				return bad(e, field, "needs a type");
			}
			rl->resource = oci_rlimit_from_name(type);
			if (rl->resource < 0) {
				sb_fail(e, EINVAL, "config: %s: unknown rlimit %s", field, type);
				free(type);
				return -EINVAL;
			}
			for (size_t j = 0; j < proc->n_rlimits; j++)
				if (proc->rlimits[j].resource == rl->resource) {
					sb_fail(e, EINVAL, "config: %s: %s given twice", field, type);
					free(type);
					return -EINVAL;
				}
			free(type);
			if (get_u64(v, "soft", field, &rl->soft, e) <= 0 || get_u64(v, "hard", field, &rl->hard, e) <= 0)
				return bad(e, field, "needs integer soft and hard values");
			if (rl->soft > rl->hard)
				return bad(e, field, "soft limit above the hard limit");
			proc->n_rlimits++;
		}
	}
	TRY(get_bool(p, "noNewPrivileges", "process.noNewPrivileges", &proc->no_new_privileges, e));
	if (get_i64(p, "oomScoreAdj", "process.oomScoreAdj", -1000, 1000, &x, e) < 0)
		return -EINVAL;
	if (member(p, "oomScoreAdj")) {
		proc->has_oom_score_adj = true;
		proc->oom_score_adj = (int)x;
	}
	TRY(get_str(p, "apparmorProfile", "process.apparmorProfile", &proc->apparmor_profile, e));
	TRY(get_str(p, "selinuxLabel", "process.selinuxLabel", &proc->selinux_label, e));
	return 0;
}

static int parse_mounts(json_t *root, struct oci_config *c, struct sb_err *e)
{
	json_t *a, *m;
	size_t i;

	TRY(get_arr(root, "mounts", "mounts", &a, e));
	if (!a)
		return 0;
	c->mounts = xcalloc(json_array_size(a), sizeof(*c->mounts));
	json_array_foreach(a, i, m) {
		struct oci_mount *mt = &c->mounts[c->n_mounts++];
		char field[48];

		snprintf(field, sizeof(field), "mounts[%zu]", i);
		if (!json_is_object(m))
			return bad(e, field, "expected an object");
		TRY(get_str(m, "destination", field, &mt->destination, e));
		if (!mt->destination || mt->destination[0] != '/')
			return bad(e, field, "destination must be an absolute path");
		TRY(get_str(m, "type", field, &mt->type, e));
		TRY(get_str(m, "source", field, &mt->source, e));
		TRY(get_strs(m, "options", field, &mt->options, &mt->n_options, e));
		if (json_object_get(m, "uidMappings") || json_object_get(m, "gidMappings"))
			return bad(e, field, "id-mapped mounts are not supported");
		TRY(sb_mount_parse_options(mt->options, mt->n_options, &mt->flags, e));
		if (!mt->type && !(mt->flags.flags & MS_BIND))
			return bad(e, field, "needs a type (or a bind option)");
		if (mt->type && !strcmp(mt->type, "bind"))
			mt->flags.flags |= MS_BIND;
		if ((mt->flags.flags & MS_BIND) && !mt->source)
			return bad(e, field, "a bind mount needs a source");
	}
	return 0;
}

static const char *const hook_keys[OCI_HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int parse_hooks(json_t *root, struct oci_config *c, struct sb_err *e)
{
	json_t *h, *a, *v;
	size_t i;

	TRY(get_obj(root, "hooks", "hooks", &h, e));
	if (!h)
		return 0;
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		char field[64];

		snprintf(field, sizeof(field), "hooks.%s", hook_keys[k]);
		TRY(get_arr(h, hook_keys[k], field, &a, e));
		if (!a)
			continue;
		c->hooks[k] = xcalloc(json_array_size(a), sizeof(struct oci_hook));
		json_array_foreach(a, i, v) {
			struct oci_hook *hk = &c->hooks[k][c->n_hooks[k]++];
			int64_t t = 0;

			snprintf(field, sizeof(field), "hooks.%s[%zu]", hook_keys[k], i);
			if (!json_is_object(v))
				return bad(e, field, "expected an object");
			TRY(get_str(v, "path", field, &hk->path, e));
			if (!hk->path || hk->path[0] != '/')
				return bad(e, field, "path must be absolute");
			TRY(get_strs(v, "args", field, &hk->args, &hk->n_args, e));
			TRY(get_strs(v, "env", field, &hk->env, &hk->n_env, e));
			if (get_i64(v, "timeout", field, 1, 86400, &t, e) < 0)
				return bad(e, field, "timeout must be a positive number of seconds");
			hk->timeout = (int)t;
		}
	}
	return 0;
}

static int parse_resources(json_t *r, struct sb_resources *res, struct sb_err *e)
{
	json_t *o, *a, *v;
	size_t i;
	int64_t x;

	if (get_obj(r, "memory", "linux.resources.memory", &o, e) < 0)
		return -EINVAL;
	if (o) {
		TRY(get_i64(o, "limit", "linux.resources.memory.limit", -1, INT64_MAX, &res->mem_limit, e));
		TRY(get_i64(o, "reservation", "linux.resources.memory.reservation", -1, INT64_MAX,
			    &res->mem_reservation, e));
		TRY(get_i64(o, "swap", "linux.resources.memory.swap", -1, INT64_MAX, &res->mem_swap, e));
		TRY(get_i64(o, "kernel", "linux.resources.memory.kernel", -1, INT64_MAX, &res->kernel_mem, e));
		TRY(get_i64(o, "kernelTCP", "linux.resources.memory.kernelTCP", -1, INT64_MAX, &res->kernel_tcp,
			    e));
		TRY(get_i64(o, "swappiness", "linux.resources.memory.swappiness", 0, 100, &res->mem_swappiness, e));
		TRY(get_bool(o, "disableOOMKiller", "linux.resources.memory.disableOOMKiller",
			     &res->disable_oom_killer, e));
		if (res->mem_limit == 0)
			return bad(e, "linux.resources.memory.limit", "0 leaves no memory at all");
		if (res->mem_limit > 0 && res->mem_limit < 4096 * 64)
			return bad(e, "linux.resources.memory.limit", "below 256 KiB, the process could not start");
	}
	if (get_obj(r, "cpu", "linux.resources.cpu", &o, e) < 0)
		return -EINVAL;
	if (o) {
		TRY(get_u64(o, "shares", "linux.resources.cpu.shares", &res->cpu_shares, e));
		if (res->cpu_shares && (res->cpu_shares < 2 || res->cpu_shares > 262144))
			return bad(e, "linux.resources.cpu.shares", "must be within [2, 262144]");
		TRY(get_i64(o, "quota", "linux.resources.cpu.quota", -1, INT64_MAX, &res->cpu_quota, e));
		if (res->cpu_quota > 0 && res->cpu_quota < 1000)
			return bad(e, "linux.resources.cpu.quota", "must be at least 1000 microseconds");
		TRY(get_u64(o, "period", "linux.resources.cpu.period", &res->cpu_period, e));
		if (res->cpu_period && (res->cpu_period < 1000 || res->cpu_period > 1000000))
			return bad(e, "linux.resources.cpu.period", "must be within [1000, 1000000] microseconds");
		TRY(get_i64(o, "realtimeRuntime", "linux.resources.cpu.realtimeRuntime", -1, INT64_MAX,
			    &res->cpu_rt_runtime, e));
		TRY(get_u64(o, "realtimePeriod", "linux.resources.cpu.realtimePeriod", &res->cpu_rt_period, e));
		char *s = NULL;
		TRY(get_str(o, "cpus", "linux.resources.cpu.cpus", &s, e));
		if (s) {
			if (strlen(s) >= sizeof(res->cpus) || strspn(s, "0123456789,-") != strlen(s)) {
				free(s);
				return bad(e, "linux.resources.cpu.cpus", "expected a CPU list such as 0-3,5");
			}
			strcpy(res->cpus, s);
			free(s);
			s = NULL;
		}
		TRY(get_str(o, "mems", "linux.resources.cpu.mems", &s, e));
		if (s) {
			if (strlen(s) >= sizeof(res->mems) || strspn(s, "0123456789,-") != strlen(s)) {
				free(s);
				return bad(e, "linux.resources.cpu.mems", "expected a node list such as 0-1");
			}
			strcpy(res->mems, s);
			free(s);
		}
	}
	if (get_obj(r, "pids", "linux.resources.pids", &o, e) < 0)
		return -EINVAL;
	if (o) {
		if (get_i64(o, "limit", "linux.resources.pids.limit", INT64_MIN, INT64_MAX, &x, e) <= 0)
			return bad(e, "linux.resources.pids.limit", "expected an integer");
		res->pids_limit = x <= 0 ? -1 : x;
	}
	if (get_obj(r, "blockIO", "linux.resources.blockIO", &o, e) < 0)
		return -EINVAL;
	if (o) {
		if (get_i64(o, "weight", "linux.resources.blockIO.weight", 10, 1000, &x, e) < 0)
			return -EINVAL;
		if (member(o, "weight"))
			res->blkio_weight = (uint16_t)x;
	}
	TRY(get_arr(r, "hugepageLimits", "linux.resources.hugepageLimits", &a, e));
	if (a) {
		res->hugepages = xcalloc(json_array_size(a), sizeof(*res->hugepages));
		json_array_foreach(a, i, v) {
			struct sb_hugepage *hp = &res->hugepages[res->n_hugepages];
			char *ps = NULL;

			if (!json_is_object(v) || get_str(v, "pageSize", "linux.resources.hugepageLimits", &ps, e) <= 0 ||
			    strlen(ps) >= sizeof(hp->page_size) || strspn(ps, "0123456789KMGB") != strlen(ps)) {
				free(ps);
				return bad(e, "linux.resources.hugepageLimits", "each needs a pageSize such as 2MB");
			}
			strcpy(hp->page_size, ps);
			free(ps);
			if (get_u64(v, "limit", "linux.resources.hugepageLimits.limit", &hp->limit, e) <= 0)
				return bad(e, "linux.resources.hugepageLimits", "each needs a limit");
			res->n_hugepages++;
		}
	}
	TRY(get_arr(r, "devices", "linux.resources.devices", &a, e));
	if (a) {
		res->devices = xcalloc(json_array_size(a), sizeof(*res->devices));
		json_array_foreach(a, i, v) {
			struct sb_dev_rule *d = &res->devices[res->n_devices];
			char *type = NULL, *access = NULL;
			bool allow = false;

			if (!json_is_object(v) || get_bool(v, "allow", "linux.resources.devices.allow", &allow, e) <= 0)
				return bad(e, "linux.resources.devices", "each needs allow (true or false)");
			d->allow = allow;
			d->type = 'a';
			d->major = d->minor = -1;
			if (get_str(v, "type", "linux.resources.devices.type", &type, e) < 0)
				return -EINVAL;
			if (type) {
				bool ok = strlen(type) == 1 && strchr("acb", type[0]);
				d->type = type[0];
				free(type);
				if (!ok)
					return bad(e, "linux.resources.devices.type", "must be a, c or b");
			}
			TRY(get_i64(v, "major", "linux.resources.devices.major", -1, UINT32_MAX, &d->major, e));
			TRY(get_i64(v, "minor", "linux.resources.devices.minor", -1, UINT32_MAX, &d->minor, e));
			if (get_str(v, "access", "linux.resources.devices.access", &access, e) < 0)
				return -EINVAL;
			if (access) {
				bool ok = strlen(access) <= 3 && strspn(access, "rwm") == strlen(access);
				if (ok)
					strcpy(d->access, access);
				free(access);
				if (!ok)
					return bad(e, "linux.resources.devices.access", "must be made of r, w and m");
			}
			res->n_devices++;
		}
	}
	if (str_map(r, "unified", "linux.resources.unified", &res->unified_keys, &res->unified_values,
		    &res->n_unified, e) < 0)
		return -EINVAL;
	return 0;
}

static int parse_idmaps(json_t *l, const char *key, struct sb_idmap **out, size_t *n, struct sb_err *e)
{
	char field[48];
	json_t *a, *v;
	size_t i;

	snprintf(field, sizeof(field), "linux.%s", key);
	TRY(get_arr(l, key, field, &a, e));
	if (!a)
		return 0;
	*out = xcalloc(json_array_size(a), sizeof(**out));
	json_array_foreach(a, i, v) {
		struct sb_idmap *m = &(*out)[*n];

		if (!json_is_object(v) || get_u32(v, "containerID", field, &m->container_id, e) <= 0 ||
		    get_u32(v, "hostID", field, &m->host_id, e) <= 0 || get_u32(v, "size", field, &m->size, e) <= 0)
			return sb_fail(e, EINVAL, "config: %s[%zu]: needs containerID, hostID and size (32-bit)", field,
				       i);
		(*n)++;
	}
	char buf[8192];
	if (*n && sb_idmap_format(*out, *n, buf, sizeof(buf), e) < 0)
		return sb_fail(e, EINVAL, "config: %s: %s", field, e->msg + (strncmp(e->msg, "config: ", 8) ? 0 : 8));
	return 0;
}

static int parse_seccomp(json_t *s, struct sb_seccomp *sc, struct sb_err *e)
{
	char *act = NULL;
	json_t *a, *v, *args, *av;
	size_t i, j;
	int64_t x;

	sc->default_errno = -1;
	if (get_str(s, "defaultAction", "linux.seccomp.defaultAction", &act, e) <= 0) {
		free(act);
		return bad(e, "linux.seccomp.defaultAction", "is required");
	}
	sc->default_action = sb_scmp_action_from_name(act);
	if (sc->default_action < 0) {
		sb_fail(e, EINVAL, "config: linux.seccomp.defaultAction: unknown action %s", act);
		free(act);
		return -EINVAL;
	}
	free(act);
	if (get_i64(s, "defaultErrnoRet", "linux.seccomp.defaultErrnoRet", 0, 4095, &x, e) < 0)
		return -EINVAL;
	if (member(s, "defaultErrnoRet"))
		sc->default_errno = (int)x;
	TRY(get_strs(s, "architectures", "linux.seccomp.architectures", &sc->archs, &sc->n_archs, e));
	TRY(get_strs(s, "flags", "linux.seccomp.flags", &sc->flags, &sc->n_flags, e));
	if (member(s, "listenerPath"))
		return bad(e, "linux.seccomp.listenerPath", "seccomp notification is not supported");
	TRY(get_arr(s, "syscalls", "linux.seccomp.syscalls", &a, e));
	if (!a)
		return 0;
	sc->rules = xcalloc(json_array_size(a), sizeof(*sc->rules));
	json_array_foreach(a, i, v) {
		struct sb_scmp_rule *r = &sc->rules[sc->n_rules++];
		char field[64];

		r->errno_ret = -1;
		snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu]", i);
		if (!json_is_object(v))
			return bad(e, field, "expected an object");
		TRY(get_strs(v, "names", field, &r->names, &r->n_names, e));
		if (r->n_names == 0)
			return bad(e, field, "needs names");
		act = NULL;
		if (get_str(v, "action", field, &act, e) <= 0) {
			free(act);
			return bad(e, field, "needs an action");
		}
		r->action = sb_scmp_action_from_name(act);
		if (r->action < 0) {
			sb_fail(e, EINVAL, "config: %s: unknown action %s", field, act);
			free(act);
			return -EINVAL;
		}
		free(act);
		if (get_i64(v, "errnoRet", field, 0, 4095, &x, e) < 0)
			return -EINVAL;
		if (member(v, "errnoRet"))
			r->errno_ret = (int)x;
		TRY(get_arr(v, "args", field, &args, e));
		if (!args)
			continue;
		if (json_array_size(args) > SB_SCMP_MAX_ARGS)
			return bad(e, field, "more than 6 argument conditions");
		json_array_foreach(args, j, av) {
			struct sb_scmp_arg *sa = &r->args[r->n_args++];
			char *op = NULL;
			int64_t idx = 0;

			if (!json_is_object(av) || get_i64(av, "index", field, 0, 5, &idx, e) <= 0 ||
			    get_u64(av, "value", field, &sa->value, e) <= 0)
				return bad(e, field, "each argument needs index (0-5) and value");
			sa->index = (unsigned int)idx;
			TRY(get_u64(av, "valueTwo", field, &sa->value_two, e));
			if (get_str(av, "op", field, &op, e) <= 0 || (sa->op = sb_scmp_op_from_name(op)) < 0) {
				sb_fail(e, EINVAL, "config: %s: unknown argument operator %s", field, op ? op : "(none)");
				free(op);
				return -EINVAL;
			}
			free(op);
		}
	}
	return 0;
}

static int parse_linux(json_t *l, struct oci_config *c, struct sb_err *e)
{
	json_t *a, *v, *o;
	size_t i;

	TRY(get_arr(l, "namespaces", "linux.namespaces", &a, e));
	if (a) {
		json_array_foreach(a, i, v) {
			char *type = NULL;
			int kind;

			if (!json_is_object(v) || get_str(v, "type", "linux.namespaces", &type, e) <= 0) {
				free(type);
				return sb_fail(e, EINVAL, "config: linux.namespaces[%zu]: needs a type", i);
			}
			kind = sb_ns_from_name(type);
			if (kind < 0) {
				sb_fail(e, EINVAL, "config: linux.namespaces[%zu]: unknown namespace type '%s'", i, type);
				free(type);
				return -EINVAL;
			}
			free(type);
			if (c->ns_mask & (1u << kind))
				return sb_fail(e, EINVAL, "config: linux.namespaces: %s listed twice", sb_ns_name(kind));
			struct oci_namespace *ns = &c->namespaces[c->n_namespaces++];
			ns->kind = kind;
			TRY(get_str(v, "path", "linux.namespaces.path", &ns->path, e));
			if (ns->path && ns->path[0] != '/')
				return sb_fail(e, EINVAL, "config: linux.namespaces[%zu]: path must be absolute", i);
			c->ns_mask |= 1u << kind;
		}
	}
	TRY(parse_idmaps(l, "uidMappings", &c->uid_mappings, &c->n_uid_mappings, e));
	TRY(parse_idmaps(l, "gidMappings", &c->gid_mappings, &c->n_gid_mappings, e));
	if ((c->n_uid_mappings || c->n_gid_mappings) && !(c->ns_mask & (1u << SB_NS_USER)))
		return bad(e, "linux.uidMappings", "id mappings need a user namespace");
	TRY(get_arr(l, "devices", "linux.devices", &a, e));
	if (a) {
		c->devices = xcalloc(json_array_size(a), sizeof(*c->devices));
		json_array_foreach(a, i, v) {
			struct oci_device *d = &c->devices[c->n_devices++];
			char *type = NULL, field[48];

			snprintf(field, sizeof(field), "linux.devices[%zu]", i);
			if (!json_is_object(v))
				return bad(e, field, "expected an object");
			TRY(get_str(v, "path", field, &d->path, e));
			if (!d->path || d->path[0] != '/')
				return bad(e, field, "needs an absolute path");
			if (get_str(v, "type", field, &type, e) <= 0 || strlen(type) != 1 || !strchr("cbup", type[0])) {
				free(type);
				return bad(e, field, "type must be c, b, u or p");
			}
			d->type = type[0];
			free(type);
			d->major = d->minor = 0;
			if (d->type != 'p' && (get_i64(v, "major", field, 0, UINT32_MAX, &d->major, e) <= 0 ||
					       get_i64(v, "minor", field, 0, UINT32_MAX, &d->minor, e) <= 0))
				return bad(e, field, "needs major and minor numbers");
			if (get_u32(v, "fileMode", field, &d->file_mode, e) < 0)
				return -EINVAL;
			d->has_mode = member(v, "fileMode") != NULL;
			TRY(get_u32(v, "uid", field, &d->uid, e));
			TRY(get_u32(v, "gid", field, &d->gid, e));
		}
	}
	TRY(get_str(l, "cgroupsPath", "linux.cgroupsPath", &c->cgroups_path, e));
	TRY(get_obj(l, "resources", "linux.resources", &o, e));
	if (o) {
		c->has_resources = true;
		TRY(parse_resources(o, &c->resources, e));
	}
	TRY(str_map(l, "sysctl", "linux.sysctl", &c->sysctl_keys, &c->sysctl_values, &c->n_sysctl, e));
	for (i = 0; i < c->n_sysctl; i++)
		if (strstr(c->sysctl_keys[i], "..") || strchr(c->sysctl_keys[i], '/'))
			return sb_fail(e, EINVAL, "config: linux.sysctl: bad key %s", c->sysctl_keys[i]);
	TRY(get_strs(l, "maskedPaths", "linux.maskedPaths", &c->masked_paths, &c->n_masked_paths, e));
	TRY(get_strs(l, "readonlyPaths", "linux.readonlyPaths", &c->readonly_paths, &c->n_readonly_paths, e));
	TRY(get_str(l, "rootfsPropagation", "linux.rootfsPropagation", &c->rootfs_propagation, e));
	if (c->rootfs_propagation && !sb_mount_propagation(c->rootfs_propagation))
		return sb_fail(e, EINVAL, "config: linux.rootfsPropagation: unknown value %s", c->rootfs_propagation);
	TRY(get_str(l, "mountLabel", "linux.mountLabel", &c->mount_label, e));
	TRY(get_obj(l, "seccomp", "linux.seccomp", &o, e));
	if (o) {
		c->has_seccomp = true;
		TRY(parse_seccomp(o, &c->seccomp, e));
	}
	TRY(get_obj(l, "personality", "linux.personality", &o, e));
	if (o) {
		char *dom = NULL;
		if (get_str(o, "domain", "linux.personality.domain", &dom, e) <= 0) {
			free(dom);
			return bad(e, "linux.personality.domain", "is required");
		}
		c->has_personality = true;
		if (!strcmp(dom, "LINUX"))
			c->personality = PER_LINUX;
		else if (!strcmp(dom, "LINUX32"))
			c->personality = PER_LINUX32;
		else {
			sb_fail(e, EINVAL, "config: linux.personality.domain: unknown domain %s", dom);
			free(dom);
			return -EINVAL;
		}
		free(dom);
	}
	return 0;
}

static json_t *load_json(const char *text, size_t len, struct sb_err *e)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (!root) {
		sb_fail(e, EINVAL, "config: invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		sb_fail(e, EINVAL, "config: expected a JSON object");
		return NULL;
	}
	return root;
}

int oci_config_parse(const char *text, size_t len, struct oci_config *c, struct sb_err *e)
{
	json_t *root, *o;
	int ret = -EINVAL;

	memset(c, 0, sizeof(*c));
	sb_resources_init(&c->resources);
	root = load_json(text, len, e);
	if (!root)
		return -EINVAL;
	if (get_str(root, "ociVersion", "ociVersion", &c->oci_version, e) <= 0) {
		if (!e || !strstr(e->msg, "expected"))
			bad(e, "ociVersion", "is required");
		goto out;
	}
	if (strncmp(c->oci_version, "1.", 2) != 0) {
		sb_fail(e, EINVAL, "config: ociVersion %s is not supported (1.x)", c->oci_version);
		goto out;
	}
	if (get_obj(root, "process", "process", &o, e) < 0)
		goto out;
	if (o) {
		c->has_process = true;
		if (parse_process(o, &c->process, true, e) < 0)
			goto out;
	}
	if (get_obj(root, "root", "root", &o, e) < 0)
		goto out;
	if (!o) {
		bad(e, "root", "is required");
		goto out;
	}
	if (get_str(o, "path", "root.path", &c->root_path, e) <= 0 || !*c->root_path) {
		if (!strstr(e->msg, "expected"))
			bad(e, "root.path", "is required");
		goto out;
	}
	if (get_bool(o, "readonly", "root.readonly", &c->root_readonly, e) < 0)
		goto out;
	if (get_str(root, "hostname", "hostname", &c->hostname, e) < 0 ||
	    get_str(root, "domainname", "domainname", &c->domainname, e) < 0)
		goto out;
	if (parse_mounts(root, c, e) < 0 || parse_hooks(root, c, e) < 0)
		goto out;
	if (str_map(root, "annotations", "annotations", &c->annotation_keys, &c->annotation_values,
		    &c->n_annotations, e) < 0)
		goto out;
	if (get_obj(root, "linux", "linux", &o, e) < 0)
		goto out;
	if (o && parse_linux(o, c, e) < 0)
		goto out;
	if (c->hostname && *c->hostname && !(c->ns_mask & (1u << SB_NS_UTS))) {
		bad(e, "hostname", "setting it needs a uts namespace");
		goto out;
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

int oci_config_load(const char *path, struct oci_config *c, struct sb_err *e)
{
	FILE *f;
	char *buf;
	long len;
	int ret;

	memset(c, 0, sizeof(*c));
	sb_resources_init(&c->resources);
	f = fopen(path, "re");
	if (!f)
		return sb_fail(e, errno, "cannot read %s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return sb_fail(e, EIO, "cannot read %s", path);
	}
	if (len > 16 << 20) {
		fclose(f);
		return sb_fail(e, EFBIG, "%s is larger than 16 MiB", path);
	}
	buf = xcalloc((size_t)len + 1, 1);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		fclose(f);
		return sb_fail(e, EIO, "cannot read %s", path);
	}
	fclose(f);
	ret = oci_config_parse(buf, (size_t)len, c, e);
	free(buf);
	return ret;
}

void oci_process_free(struct oci_process *p)
{
	free_strs(p->args, p->n_args);
	free_strs(p->env, p->n_env);
	free(p->cwd);
	free(p->additional_gids);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

static void seccomp_free(struct sb_seccomp *s)
{
	free_strs(s->archs, s->n_archs);
	free_strs(s->flags, s->n_flags);
	for (size_t i = 0; i < s->n_rules; i++)
		free_strs(s->rules[i].names, s->rules[i].n_names);
	free(s->rules);
}

void oci_config_free(struct oci_config *c)
{
	free(c->oci_version);
	oci_process_free(&c->process);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free_strs(c->mounts[i].options, c->mounts[i].n_options);
	}
	free(c->mounts);
	for (int k = 0; k < OCI_HOOK_KINDS; k++) {
		for (size_t i = 0; i < c->n_hooks[k]; i++) {
			free(c->hooks[k][i].path);
			free_strs(c->hooks[k][i].args, c->hooks[k][i].n_args);
			free_strs(c->hooks[k][i].env, c->hooks[k][i].n_env);
		}
		free(c->hooks[k]);
	}
	free_strs(c->annotation_keys, c->n_annotations);
	free_strs(c->annotation_values, c->n_annotations);
	for (size_t i = 0; i < c->n_namespaces; i++)
		free(c->namespaces[i].path);
	free(c->uid_mappings);
	free(c->gid_mappings);
	for (size_t i = 0; i < c->n_devices; i++)
		free(c->devices[i].path);
	free(c->devices);
	free(c->cgroups_path);
	sb_resources_free(&c->resources);
	free_strs(c->sysctl_keys, c->n_sysctl);
	free_strs(c->sysctl_values, c->n_sysctl);
	free_strs(c->masked_paths, c->n_masked_paths);
	free_strs(c->readonly_paths, c->n_readonly_paths);
	free(c->rootfs_propagation);
	free(c->mount_label);
	seccomp_free(&c->seccomp);
	memset(c, 0, sizeof(*c));
}

int oci_process_parse_json(const char *text, size_t len, struct oci_process *p, struct sb_err *e)
{
	json_t *root;
	int ret;

	memset(p, 0, sizeof(*p));
	root = load_json(text, len, e);
	if (!root)
		return -EINVAL;
	ret = parse_process(root, p, true, e);
	json_decref(root);
	return ret < 0 ? -EINVAL : 0;
}

int oci_resources_parse_json(const char *text, size_t len, struct sb_resources *r, struct sb_err *e)
{
	json_t *root;
	int ret;

	sb_resources_init(r);
	root = load_json(text, len, e);
	if (!root)
		return -EINVAL;
	ret = parse_resources(root, r, e);
	json_decref(root);
	return ret < 0 ? -EINVAL : 0;
}
