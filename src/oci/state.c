// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: container ids and the state directory <root>/<id>/ with
 * state.json (the specification's state plus what the runtime needs
 * later: the init's start time, the cgroup, the creation time) and
 * exec.fifo while the container is created but not started.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"

int oci_id_check(const char *id, struct sb_err *e)
{
	if (!id || !*id)
		return sb_fail(e, EINVAL, "container id must not be empty");
	if (strlen(id) > 200)
		return sb_fail(e, EINVAL, "container id is longer than 200 characters");
	if (strchr(id, '/'))
		return sb_fail(e, EINVAL, "container id '%s' contains '/'", id);
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return sb_fail(e, EINVAL, "container id '%s' is not allowed", id);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_+-.", *p)))
			return sb_fail(e, EINVAL, "container id '%s' has a character outside [A-Za-z0-9_+.-]", id);
	return 0;
}

void oci_state_dir(const char *root, const char *id, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", root, id);
}

uint64_t oci_pid_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (sb_read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	/* comm may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* fields from 3 (state) on; starttime is field 22 */
	char state;
	if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &state,
		   &t) != 2)
		return 0;
	if (state == 'Z' || state == 'X')
		return 0;
	return t;
}

bool oci_pid_alive(pid_t pid, uint64_t start_time)
{
	uint64_t t;

	if (pid <= 0)
		return false;
	t = oci_pid_start_time(pid);
	return t != 0 && t == start_time;
}

int oci_state_save(const char *root, const struct oci_state *st, struct sb_err *e)
{
	char dir[4096], tmp[4200], path[4200];
	json_t *j;
	int ret;

	oci_state_dir(root, st->id, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", dir);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	j = json_pack("{s:s, s:s, s:s, s:i, s:I, s:s}", "id", st->id, "bundle", st->bundle, "rootfs", st->rootfs,
		      "pid", (int)st->pid, "startTime", (json_int_t)st->start_time, "created", st->created);
	if (!j)
		return sb_fail(e, ENOMEM, "cannot build the state");
	if (st->has_cgroup)
		json_object_set_new(j, "cgroup",
				    json_pack("{s:i, s:s, s:s}", "version", st->cgroup.version, "root", st->cgroup.root,
					      "path", st->cgroup.path));
	if (st->annotations)
		json_object_set(j, "annotations", st->annotations);
	ret = json_dump_file(j, tmp, JSON_COMPACT);
	json_decref(j);
	if (ret < 0)
		return sb_fail(e, EIO, "cannot write %s", tmp);
	if (rename(tmp, path) < 0)
		return sb_fail(e, errno, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static void copy_str(char *dst, size_t cap, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, cap, "%s", s ? s : "");
}

int oci_state_load(const char *root, const char *id, struct oci_state *st, struct sb_err *e)
{
	char dir[4096], path[4200];
	json_error_t je;
	struct stat sb;
	json_t *j, *cg;

	memset(st, 0, sizeof(*st));
	if (oci_id_check(id, e) < 0)
		return -EINVAL;
	snprintf(st->id, sizeof(st->id), "%s", id);
	oci_state_dir(root, id, dir, sizeof(dir));
	if (stat(dir, &sb) < 0)
		return sb_fail(e, ENOENT, "container %s does not exist", id);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	j = json_load_file(path, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return sb_fail(e, EINVAL, "container %s has no readable state (%s)", id, je.text);
	}
	copy_str(st->bundle, sizeof(st->bundle), json_object_get(j, "bundle"));
	copy_str(st->rootfs, sizeof(st->rootfs), json_object_get(j, "rootfs"));
	copy_str(st->created, sizeof(st->created), json_object_get(j, "created"));
	st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st->start_time = (uint64_t)json_integer_value(json_object_get(j, "startTime"));
	cg = json_object_get(j, "cgroup");
	if (json_is_object(cg)) {
		st->has_cgroup = true;
		st->cgroup.version = (int)json_integer_value(json_object_get(cg, "version"));
		copy_str(st->cgroup.root, sizeof(st->cgroup.root), json_object_get(cg, "root"));
		copy_str(st->cgroup.path, sizeof(st->cgroup.path), json_object_get(cg, "path"));
		if (!st->cgroup.path[0] || strstr(st->cgroup.path, ".."))
			st->has_cgroup = false;
	}
	st->annotations = json_incref(json_object_get(j, "annotations"));
	json_decref(j);
	return 0;
}

void oci_state_free(struct oci_state *st)
{
	json_decref(st->annotations);
	st->annotations = NULL;
}

const char *oci_state_status(const char *root, const struct oci_state *st)
{
	char fifo[4200];

	if (st->pid == 0)
		return "creating";
	if (!oci_pid_alive(st->pid, st->start_time))
		return "stopped";
	oci_state_dir(root, st->id, fifo, sizeof(fifo));
	strncat(fifo, "/exec.fifo", sizeof(fifo) - strlen(fifo) - 1);
	if (access(fifo, F_OK) == 0)
		return "created";
	if (st->has_cgroup && sb_cgroup_frozen(&st->cgroup) == 1)
		return "paused";
	return "running";
}

char *oci_state_json(const char *root, const struct oci_state *st, const char *status)
{
	json_t *j;
	char *s;

	(void)root;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ociVersion", OCI_VERSION, "id", st->id, "status", status,
		      "bundle", st->bundle, "rootfs", st->rootfs);
	if (!j)
		return NULL;
	if (st->pid && strcmp(status, "stopped"))
		json_object_set_new(j, "pid", json_integer(st->pid));
	else
		json_object_set_new(j, "pid", json_integer(0));
	json_object_set_new(j, "created", json_string(st->created));
	json_object_set_new(j, "owner", json_string(""));
	if (st->annotations)
		json_object_set(j, "annotations", st->annotations);
	s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	return s;
}
