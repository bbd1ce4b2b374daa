// SPDX-License-Identifier: Apache-2.0
/* sandbox: mount options, paths resolved inside a root, pivot_root, masks. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} flag_table[] = {
	{ "ro", false, MS_RDONLY },	    { "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },	    { "suid", true, MS_NOSUID },
	{ "nodev", false, MS_NODEV },	    { "dev", true, MS_NODEV },
	{ "noexec", false, MS_NOEXEC },	    { "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS },  { "async", true, MS_SYNCHRONOUS },
	{ "dirsync", false, MS_DIRSYNC },   { "remount", false, MS_REMOUNT },
	{ "mand", false, MS_MANDLOCK },	    { "nomand", true, MS_MANDLOCK },
	{ "noatime", false, MS_NOATIME },   { "atime", true, MS_NOATIME },
	{ "nodiratime", false, MS_NODIRATIME }, { "diratime", true, MS_NODIRATIME },
	{ "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME }, { "nostrictatime", true, MS_STRICTATIME },
	{ "bind", false, MS_BIND },	    { "rbind", false, MS_BIND | MS_REC },
	{ "silent", false, MS_SILENT },	    { "loud", true, MS_SILENT },
	{ "defaults", false, 0 },
};

static const struct {
	const char *name;
	unsigned long flag;
} prop_table[] = {
	{ "private", MS_PRIVATE },	       { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },	       { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },		       { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE },       { "runbindable", MS_UNBINDABLE | MS_REC },
};

unsigned long sb_mount_propagation(const char *name)
{
	for (size_t i = 0; i < sizeof(prop_table) / sizeof(prop_table[0]); i++)
		if (!strcmp(name, prop_table[i].name))
			return prop_table[i].flag;
	return 0;
}

int sb_mount_parse_options(char *const *opts, size_t n, struct sb_mount_flags *out, struct sb_err *e)
{
	size_t dlen = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const char *o = opts[i];
		bool known = false;
		unsigned long p;

		for (size_t k = 0; k < sizeof(flag_table) / sizeof(flag_table[0]); k++) {
			if (strcmp(o, flag_table[k].name))
				continue;
			if (flag_table[k].clear) {
				out->flags &= ~flag_table[k].flag;
				if (flag_table[k].flag == MS_RDONLY)
					out->clear_ro = true;
			} else {
				out->flags |= flag_table[k].flag;
			}
			known = true;
			break;
		}
		if (known)
			continue;
		p = sb_mount_propagation(o);
		if (p) {
			out->propagation = p;
			continue;
		}
		/* container-manager hints with no kernel meaning */
		if (!strcmp(o, "tmpcopyup") || !strcmp(o, "z") || !strcmp(o, "Z") || !strncmp(o, "x-", 2))
			continue;
		if (!strcmp(o, "idmap") || !strcmp(o, "ridmap"))
			return sb_fail(e, ENOTSUP, "mount option %s is not supported", o);
		/* everything else is file system data (size=, mode=, ...) */
		size_t l = strlen(o);
		if (dlen + l + 2 > sizeof(out->data))
			return sb_fail(e, E2BIG, "mount options too long");
		if (dlen)
			out->data[dlen++] = ',';
		memcpy(out->data + dlen, o, l + 1);
		dlen += l;
	}
	return 0;
}

void sb_fd_path(int fd, char *buf, size_t cap)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long r = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	return r < 0 ? -errno : (int)r;
}

int sb_open_in_root(int rootfd, const char *path, bool create, bool is_file, struct sb_err *e)
{
	char buf[4096], *p, *slash;
	int fd;

	while (*path == '/')
		path++;
	if (*path == '\0')
		return openat2_in_root(rootfd, ".", O_PATH);
	if (strlen(path) >= sizeof(buf))
		return sb_fail(e, ENAMETOOLONG, "path too long: %s", path);
	fd = openat2_in_root(rootfd, path, O_PATH);
	if (fd >= 0 || fd != -ENOENT || !create) {
		if (fd < 0)
			return sb_fail(e, -fd, "open /%s in the root file system: %s", path, strerror(-fd));
		return fd;
	}
	/* create the missing components one by one, each resolved in root */
	strcpy(buf, path);
	p = buf;
	for (;;) {
		bool last;
		int dfd, r;

		slash = strchr(p, '/');
		last = slash == NULL;
		if (slash)
			*slash = '\0';
		/* parent of this component */
		char *base = strrchr(buf, '/');
		if (base) {
			*base = '\0';
			dfd = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
			*base = '/';
			base++;
		} else {
			dfd = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
			base = buf;
		}
		if (dfd < 0)
			return sb_fail(e, -dfd, "open the parent of /%s: %s", buf, strerror(-dfd));
		if (last && is_file) {
			r = openat(dfd, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (r >= 0)
				close(r);
			else if (errno != EEXIST && errno != ELOOP)
				r = -errno;
			else
				r = 0;
		} else {
			r = mkdirat(dfd, base, 0755) < 0 && errno != EEXIST ? -errno : 0;
		}
		close(dfd);
		if (r < 0)
			return sb_fail(e, -r, "create /%s in the root file system: %s", buf, strerror(-r));
		if (last)
			break;
		*slash = '/';
		p = slash + 1;
	}
	fd = openat2_in_root(rootfd, path, O_PATH);
	if (fd < 0)
		return sb_fail(e, -fd, "open /%s in the root file system: %s", path, strerror(-fd));
	return fd;
}

int sb_pivot_root(const char *rootfs, struct sb_err *e)
{
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (oldroot < 0)
		return sb_fail(e, errno, "open /: %s", strerror(errno));
	if (chdir(rootfs) < 0) {
		close(oldroot);
		return sb_fail(e, errno, "chdir %s: %s", rootfs, strerror(errno));
	}
	/* pivot_root(".", "."): the old root ends up stacked under the new
	 * one and is detached right away, no directory needed for it */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		int err = errno;
		close(oldroot);
		return sb_fail(e, err, "pivot_root %s: %s", rootfs, strerror(err));
	}
	if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    umount2(".", MNT_DETACH) < 0) {
		int err = errno;
		close(oldroot);
		return sb_fail(e, err, "detach the old root: %s", strerror(err));
	}
	close(oldroot);
	if (chdir("/") < 0)
		return sb_fail(e, errno, "chdir /: %s", strerror(errno));
	return 0;
}

int sb_move_chroot(const char *rootfs, struct sb_err *e)
{
	if (chdir(rootfs) < 0)
		return sb_fail(e, errno, "chdir %s: %s", rootfs, strerror(errno));
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return sb_fail(e, errno, "move %s onto /: %s", rootfs, strerror(errno));
	if (chroot(".") < 0)
		return sb_fail(e, errno, "chroot: %s", strerror(errno));
	if (chdir("/") < 0)
		return sb_fail(e, errno, "chdir /: %s", strerror(errno));
	return 0;
}

int sb_mask_path(const char *path, struct sb_err *e)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return sb_fail(e, errno, "masked path %s: %s", path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k") < 0)
			return sb_fail(e, errno, "mask %s with a tmpfs: %s", path, strerror(errno));
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		return sb_fail(e, errno, "mask %s with /dev/null: %s", path, strerror(errno));
	}
	return 0;
}

/* The per-mount flags that a bind remount must keep (locked ones in a
 * user namespace cannot be cleared). */
unsigned long sb_mount_locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

int sb_readonly_path(const char *path, struct sb_err *e)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return sb_fail(e, errno, "bind %s for read-only: %s", path, strerror(errno));
	}
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | sb_mount_locked_flags(path), NULL) < 0)
		return sb_fail(e, errno, "remount %s read-only: %s", path, strerror(errno));
	return 0;
}
