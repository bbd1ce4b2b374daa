// SPDX-License-Identifier: Apache-2.0
/*
 * Snapshots (snapshot/snapshot.h): a paused machine to a state file and
 * a memory file, written to temporaries beside their targets and renamed
 * into place (memory file first, state file last); a new machine from
 * such a pair, its RAM mapped MAP_PRIVATE from the memory file; a Diff's
 * pages merged onto its base.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "snapshot/snapshot_int.h"
#include "vmm/dirty.h"
#include "vmm/vm.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A temporary file beside path: O_EXCL, a name no other writer uses. */
struct tmpfile {
	char path[PATH_MAX];
	int fd;
};

/* "DIR/.BASE" + suffix for target "DIR/BASE": files kept beside a target. */
static int sibling_path(char *out, size_t n, const char *target, const char *suffix)
{
	const char *slash = strrchr(target, '/');
	const char *base = slash ? slash + 1 : target;
	int dirlen = slash ? (int)(slash - target) : 1;
	int len;

	if (!*base)
		return -EISDIR;
	if (slash == target)
		dirlen = 0; /* "/BASE": the root, "" + "/" */
	len = snprintf(out, n, "%.*s/.%s%s", dirlen, slash ? target : ".", base, suffix);
	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	return 0;
}

static int tmp_create(struct tmpfile *t, const char *target, char *err, size_t errlen)
{
	static unsigned counter;
	char suffix[64];
	int ret;

	t->fd = -1;
	t->path[0] = '\0';
	for (int tries = 0; tries < 100; tries++) {
		snprintf(suffix, sizeof(suffix), ".tmp.%ld.%u", (long)getpid(),
			 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
		ret = sibling_path(t->path, sizeof(t->path), target, suffix);
		if (ret) {
			snprintf(err, errlen, ret == -EISDIR ? "%s names a directory, not a file" :
							       "path too long: %s",
				 target);
			t->path[0] = '\0';
			return ret;
		}
		t->fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	ret = -errno;
	snprintf(err, errlen, "cannot create a temporary file beside %s: %s", target,
		 strerror(errno));
	t->path[0] = '\0';
	return ret;
}

/*
 * Keeps the memory file being replaced as "DIR/.BASE.prev" (a hard link)
 * until the new state file is in place: a crash between the two renames
 * leaves the old state file with its memory there (snapshot_load finds
 * it). prev is "" when there was nothing to keep or no link could be made.
 */
static void keep_previous(const char *mem_path, char *prev, size_t n)
{
	char tmp[PATH_MAX], suffix[64];

	prev[0] = '\0';
	snprintf(suffix, sizeof(suffix), ".prev.tmp.%ld", (long)getpid());
	if (sibling_path(prev, n, mem_path, ".prev") || sibling_path(tmp, sizeof(tmp), mem_path, suffix)) {
		prev[0] = '\0';
		return;
	}
	unlink(tmp);
	if (link(mem_path, tmp) < 0) {
		prev[0] = '\0';
		return;
	}
	if (rename(tmp, prev) < 0) {
		unlink(tmp);
		prev[0] = '\0';
	}
}

/* Removes a temporary that was not renamed. */
static void tmp_discard(struct tmpfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path[0])
		unlink(t->path);
	t->path[0] = '\0';
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[64];

	for (size_t i = 0; i < GUEST_PAGE_SIZE; i += sizeof(zero))
		if (memcmp(p + i, zero, sizeof(zero)))
			return false;
	return true;
}

/*
 * Writes the pages of RAM set in bits (every page when bits is NULL)
 * into fd at their mapping offsets; zero pages of a Full snapshot stay
 * holes of the sparse file. Runs of pages go out in one write.
 */
static int write_pages(struct vm *vm, int fd, const uint64_t *bits, uint64_t *written)
{
	const uint8_t *ram = vm->mem.mapping;
	uint64_t npages = vm->mem.mapping_size >> GUEST_PAGE_SHIFT, run = 0, start = 0;
	int ret;

	*written = 0;
	if (ftruncate(fd, (off_t)vm->mem.mapping_size) < 0)
		return -errno;
	for (uint64_t pg = 0; pg <= npages; pg++) {
		bool take = false;

		if (pg < npages) {
			if (bits)
				take = bits[pg / 64] & (1ULL << (pg % 64));
			else
				take = !page_is_zero(ram + (pg << GUEST_PAGE_SHIFT));
		}
		/* Flush a run at its end or when it reaches 1 MiB. */
		if (run && (!take || run == 256)) {
			ret = write_all(fd, ram + (start << GUEST_PAGE_SHIFT),
					(size_t)(run << GUEST_PAGE_SHIFT),
					(off_t)(start << GUEST_PAGE_SHIFT));
			if (ret)
				return ret;
			*written += run;
			run = 0;
		}
		if (take) {
			if (!run)
				start = pg;
			run++;
		}
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, ret = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Whether the two paths' directories are the same (one fsync then). */
static bool same_dir(const char *a, const char *b)
{
	char ca[PATH_MAX], cb[PATH_MAX];
	struct stat sa, sb;

	snprintf(ca, sizeof(ca), "%s", a);
	snprintf(cb, sizeof(cb), "%s", b);
	if (stat(dirname(ca), &sa) < 0 || stat(dirname(cb), &sb) < 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* A fresh snapshot id (random; the clock and pid if the kernel has no randomness). */
static void new_id(uint8_t id[SNAPSHOT_ID_BYTES])
{
	uint64_t t = now_ns(), p = (uint64_t)getpid();

	if (getrandom(id, SNAPSHOT_ID_BYTES, GRND_NONBLOCK) == SNAPSHOT_ID_BYTES)
		return;
	memcpy(id, &t, 8);
	memcpy(id + 8, &p, 8);
}

/* Writes the memory file's trailer (snapshot_int.h) after ram_size bytes. */
static int write_trailer(int fd, const uint8_t *id, uint64_t ram_size, bool diff)
{
	uint8_t *page = malloc(SNAPSHOT_MEM_TRAILER_BYTES);
	int ret;

	if (!page)
		return -ENOMEM;
	snapshot_mem_trailer(page, id, ram_size, diff);
	ret = write_all(fd, page, SNAPSHOT_MEM_TRAILER_BYTES, (off_t)ram_size);
	free(page);
	return ret;
}

/* 1 and id set when fd's memory file has a trailer for ram_size, 0 if none, -errno. */
static int read_trailer(int fd, uint64_t ram_size, uint8_t *id, bool *diff)
{
	uint8_t page[64];
	ssize_t n;

	do
		n = pread(fd, page, sizeof(page), (off_t)ram_size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return snapshot_mem_trailer_parse(page, (size_t)n, ram_size, id, diff);
}

/* The state file's bytes: machine state and the memory section, framed. */
static int build_state(struct vm *vm, enum snapshot_type type, const uint8_t *id,
		       const uint64_t *bits, size_t nwords, uint8_t **out, size_t *outlen, char *err,
		       size_t errlen)
{
	struct state_writer w;
	int ret;

	state_writer_init(&w);
	ret = vm_state_save(vm, &w, err, errlen);
	if (!ret) {
		snapshot_memory_write(&w, vm->mem.ram_size, id, type == SNAPSHOT_DIFF ? bits : NULL,
				      nwords);
		ret = state_writer_finish(&w);
		if (ret)
			snprintf(err, errlen, "cannot build the state file: %s", strerror(-ret));
	}
	if (!ret) {
		ret = snapshot_file_build(type, w.buf, w.len, out, outlen);
		if (ret)
			snprintf(err, errlen, "cannot build the state file: %s", strerror(-ret));
	}
	state_writer_free(&w);
	return ret;
}

int snapshot_create(struct vm *vm, const struct snapshot_create_params *p,
		    struct snapshot_stats *st, char *err, size_t errlen)
{
	struct tmpfile mt = { .fd = -1 }, stt = { .fd = -1 };
	uint64_t start = now_ns(), npages = 0, written = 0;
	uint64_t *bits = NULL;
	uint8_t id[SNAPSHOT_ID_BYTES];
	char prev[PATH_MAX] = "";
	size_t nwords = vm_dirty_words(vm), state_len = 0;
	uint8_t *state = NULL;
	bool collected = false;
	int ret;

	if (st)
		memset(st, 0, sizeof(*st));
	if (!p || !p->state_path || !*p->state_path || !p->mem_path || !*p->mem_path) {
		snprintf(err, errlen, "a snapshot needs a state file path and a memory file path");
		return -EINVAL;
	}
	if (p->type != SNAPSHOT_FULL && p->type != SNAPSHOT_DIFF) {
		snprintf(err, errlen, "unknown snapshot type %d", (int)p->type);
		return -EINVAL;
	}
	/* Paused, or loaded paused and not run yet. */
	if (!__atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&vm->start_paused, __ATOMIC_ACQUIRE)) {
		snprintf(err, errlen, "the machine must be paused for a snapshot");
		return -EBUSY;
	}
	if (p->type == SNAPSHOT_DIFF && !vm->dirty_logging) {
		snprintf(err, errlen,
			 "a Diff snapshot needs dirty page tracking (track_dirty_pages, or a load with enable_diff_snapshots)");
		return -EINVAL;
	}
	if (strcmp(p->state_path, p->mem_path) == 0) {
		snprintf(err, errlen, "the state file and the memory file must differ");
		return -EINVAL;
	}
	/* Devices stop touching guest memory and their state until the copy is done. */
	vm_state_quiesce(vm, true);
	/* Every snapshot restarts the log, so that a Diff holds what changed since the last one. */
	if (vm->dirty_logging) {
		bits = calloc(nwords ? nwords : 1, sizeof(*bits));
		if (!bits) {
			snprintf(err, errlen, "out of memory for the dirty page bitmap");
			ret = -ENOMEM;
			goto out;
		}
		ret = vm_dirty_collect(vm, bits, nwords, &npages, err, errlen);
		if (ret)
			goto out;
		collected = true;
	}
	new_id(id);
	ret = build_state(vm, p->type, id, bits, nwords, &state, &state_len, err, errlen);
	if (ret)
		goto out;

	ret = tmp_create(&mt, p->mem_path, err, errlen);
	if (!ret)
		ret = tmp_create(&stt, p->state_path, err, errlen);
	if (ret)
		goto out;
	ret = write_pages(vm, mt.fd, p->type == SNAPSHOT_DIFF ? bits : NULL, &written);
	if (!ret)
		ret = write_trailer(mt.fd, id, vm->mem.ram_size, p->type == SNAPSHOT_DIFF);
	if (!ret && fsync(mt.fd) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot write memory file %s: %s", mt.path, strerror(-ret));
		goto out;
	}
	ret = write_all(stt.fd, state, state_len, 0);
	if (!ret && fsync(stt.fd) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot write state file %s: %s", stt.path, strerror(-ret));
		goto out;
	}
	close(mt.fd);
	close(stt.fd);
	mt.fd = stt.fd = -1;
	/*
	 * Memory first: a state file never names memory that is not there
	 * yet; the memory it replaces stays reachable until the state is.
	 */
	keep_previous(p->mem_path, prev, sizeof(prev));
	if (rename(mt.path, p->mem_path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", mt.path, p->mem_path,
			 strerror(errno));
		goto out;
	}
	mt.path[0] = '\0';
	if (rename(stt.path, p->state_path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", stt.path, p->state_path,
			 strerror(errno));
		goto out;
	}
	stt.path[0] = '\0';
	ret = fsync_dir_of(p->mem_path);
	if (!ret && !same_dir(p->mem_path, p->state_path))
		ret = fsync_dir_of(p->state_path);
	if (ret) {
		snprintf(err, errlen, "cannot sync the directory of %s: %s", p->state_path,
			 strerror(-ret));
		goto out;
	}
	if (prev[0])
		unlink(prev);
	if (st) {
		st->state_bytes = state_len;
		st->mem_pages_written = written;
		st->elapsed_ns = now_ns() - start;
	}
	log_info("snapshot", "%s snapshot: %s (%zu bytes), %s (%llu pages written)",
		 p->type == SNAPSHOT_DIFF ? "Diff" : "Full", p->state_path, state_len, p->mem_path,
		 (unsigned long long)written);
out:
	vm_state_quiesce(vm, false);
	tmp_discard(&mt);
	tmp_discard(&stt);
	/* A failed snapshot must not lose pages for the next Diff. */
	if (ret && collected)
		vm_dirty_putback(vm, bits, nwords);
	free(state);
	free(bits);
	return ret;
}

/* Opens the memory file and checks it holds ram_size bytes. */
static int open_mem(const char *path, uint64_t ram_size, int flags, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open memory file %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "memory file %s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < ram_size) {
		snprintf(err, errlen, "memory file %s is %llu bytes, the snapshot needs %llu", path,
			 (unsigned long long)st.st_size, (unsigned long long)ram_size);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* The memory file behind fd is the one state file m was written with (or has no trailer). */
static int check_pair(int fd, const struct snapshot_memory *m, const char *state_path,
		      const char *mem_path, bool allow_diff, char *err, size_t errlen)
{
	uint8_t id[SNAPSHOT_ID_BYTES];
	bool diff = false;
	int ret = read_trailer(fd, m->ram_size, id, &diff);

	if (ret < 0) {
		snprintf(err, errlen, "cannot read memory file %s: %s", mem_path, strerror(-ret));
		return ret;
	}
	if (ret == 1 && diff && !allow_diff) {
		snprintf(err, errlen,
			 "memory file %s holds only the pages of a Diff snapshot: merge it onto its base's memory file first",
			 mem_path);
		return -EINVAL;
	}
	if (ret == 1 && memcmp(id, m->id, sizeof(id)) != 0) {
		snprintf(err, errlen, "memory file %s belongs to another snapshot than state file %s",
			 mem_path, state_path);
		return -EINVAL;
	}
	return 0;
}

/* The kept previous memory file of mem_path when it is the one m names; -1 otherwise. */
static int open_previous(const char *mem_path, const struct snapshot_memory *m)
{
	char prev[PATH_MAX], err[64];
	uint8_t id[SNAPSHOT_ID_BYTES];
	bool diff = false;
	int fd;

	if (sibling_path(prev, sizeof(prev), mem_path, ".prev"))
		return -1;
	fd = open_mem(prev, m->ram_size, O_RDONLY, err, sizeof(err));
	if (fd < 0)
		return -1;
	if (read_trailer(fd, m->ram_size, id, &diff) == 1 && !diff &&
	    memcmp(id, m->id, sizeof(id)) == 0)
		return fd;
	close(fd);
	return -1;
}

int snapshot_load(const struct snapshot_load_params *p, struct vm_config **cfg_out,
		  struct vm **out, char *err, size_t errlen)
{
	struct snapshot_file f;
	struct snapshot_memory m = { 0 };
	struct state_reader r;
	struct vm_config *cfg = NULL;
	struct vm_restore rs;
	struct vm *vm = NULL;
	int fd, ret;

	*out = NULL;
	*cfg_out = NULL;
	if (!p || !p->state_path || !p->mem_path) {
		snprintf(err, errlen, "a snapshot load needs a state file path and a memory file path");
		return -EINVAL;
	}
	ret = snapshot_file_read(p->state_path, &f, err, errlen);
	if (ret)
		return ret;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	state_reader_init(&r, f.body, f.body_len);
	ret = vm_config_read(&r, cfg);
	if (ret) {
		snprintf(err, errlen, "state file %s: %s", p->state_path, state_reader_msg(&r));
		free(cfg);
		cfg = NULL;
		goto fail;
	}
	ret = snapshot_memory_read(&f, &m, err, errlen);
	if (!ret && m.ram_size != cfg->mem_size) {
		snprintf(err, errlen, "state file %s: memory section of %llu bytes, the machine has %llu",
			 p->state_path, (unsigned long long)m.ram_size,
			 (unsigned long long)cfg->mem_size);
		ret = -EBADMSG;
	}
	if (ret)
		goto fail;
	fd = open_mem(p->mem_path, m.ram_size, O_RDONLY, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	ret = check_pair(fd, &m, p->state_path, p->mem_path, false, err, errlen);
	if (ret == -EINVAL) {
		/* A crash between snapshot_create's renames: the old memory is kept aside. */
		int pfd = open_previous(p->mem_path, &m);

		if (pfd >= 0) {
			log_warnx("snapshot", "memory file %s is newer than state file %s; using the previous memory file kept beside it",
				  p->mem_path, p->state_path);
			close(fd);
			fd = pfd;
			ret = 0;
		}
	}
	if (ret) {
		close(fd);
		goto fail;
	}
	rs = (struct vm_restore){ .mem_fd = fd, .start_paused = !p->resume };
	ret = vm_create_from(cfg, &rs, &vm);
	if (ret) {
		snprintf(err, errlen, "cannot build the machine of the snapshot: %s",
			 strerror(-ret));
		goto fail;
	}
	state_reader_init(&r, f.body, f.body_len);
	ret = vm_state_load(vm, &r, err, errlen);
	if (!ret && p->enable_diff_snapshots)
		ret = vm_dirty_log_start(vm, err, errlen);
	if (ret)
		goto fail;
	snapshot_memory_free(&m);
	snapshot_file_free(&f);
	*out = vm;
	*cfg_out = cfg;
	return 0;
fail:
	vm_destroy(vm);
	if (cfg) {
		vm_config_free_strings(cfg);
		free(cfg);
	}
	snapshot_memory_free(&m);
	snapshot_file_free(&f);
	return ret;
}

/*
 * Copies file in (size bytes) into out, keeping holes: a reflink where the
 * file system has them, else the data extents (SEEK_DATA/SEEK_HOLE) with
 * copy_file_range, else plain reads and writes.
 */
static int copy_sparse(int in, int out, off_t size)
{
	static char buf[1 << 16];
	off_t data = 0, hole;

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	if (ftruncate(out, size) < 0)
		return -errno;
	while (data < size) {
		data = lseek(in, data, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno; /* ENXIO: no data after */
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if (hole > size)
			hole = size;
		while (data < hole) {
			off_t from = data, to = data;
			ssize_t n = copy_file_range(in, &from, out, &to, (size_t)(hole - data), 0);

			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP)) {
				n = pread(in, buf, (size_t)(hole - data) < sizeof(buf) ?
							  (size_t)(hole - data) :
							  sizeof(buf),
					  data);
				if (n > 0 && write_all(out, buf, (size_t)n, data))
					return -EIO;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EIO;
			data += n;
		}
	}
	return 0;
}

int snapshot_merge(const char *diff_state_path, const char *diff_mem_path, const char *base_mem_path,
		   char *err, size_t errlen)
{
	struct snapshot_file f;
	struct snapshot_memory m = { 0 };
	struct tmpfile t = { .fd = -1 };
	struct stat st;
	uint64_t npages;
	uint8_t *page = NULL;
	int dfd = -1, bfd = -1, ret;

	ret = snapshot_file_read(diff_state_path, &f, err, errlen);
	if (ret)
		return ret;
	if (f.type != SNAPSHOT_DIFF) {
		snprintf(err, errlen, "state file %s is a Full snapshot, not a Diff", diff_state_path);
		ret = -EINVAL;
		goto out;
	}
	ret = snapshot_memory_read(&f, &m, err, errlen);
	if (ret)
		goto out;
	dfd = open_mem(diff_mem_path, m.ram_size, O_RDONLY, err, errlen);
	if (dfd < 0) {
		ret = dfd;
		goto out;
	}
	ret = check_pair(dfd, &m, diff_state_path, diff_mem_path, true, err, errlen);
	if (ret)
		goto out;
	bfd = open_mem(base_mem_path, m.ram_size, O_RDONLY, err, errlen);
	if (bfd < 0) {
		ret = bfd;
		goto out;
	}
	/*
	 * Into a copy, renamed over the base at the end: a crash leaves the
	 * old base whole, and machines running from it (MAP_PRIVATE) keep
	 * their file as it was.
	 */
	ret = tmp_create(&t, base_mem_path, err, errlen);
	if (ret)
		goto out;
	if (fstat(bfd, &st) < 0)
		ret = -errno;
	if (!ret)
		ret = copy_sparse(bfd, t.fd, st.st_size);
	if (ret) {
		snprintf(err, errlen, "cannot copy memory file %s: %s", base_mem_path,
			 strerror(-ret));
		goto out;
	}
	page = malloc(GUEST_PAGE_SIZE);
	if (!page) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	npages = m.ram_size >> GUEST_PAGE_SHIFT;
	for (uint64_t pg = 0; pg < npages; pg++) {
		off_t off = (off_t)(pg << GUEST_PAGE_SHIFT);
		ssize_t n;

		if (!(m.bits[pg / 64] & (1ULL << (pg % 64))))
			continue;
		do
			n = pread(dfd, page, GUEST_PAGE_SIZE, off);
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)GUEST_PAGE_SIZE) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "cannot read memory file %s: %s", diff_mem_path,
				 strerror(-ret));
			goto out;
		}
		ret = write_all(t.fd, page, GUEST_PAGE_SIZE, off);
		if (ret) {
			snprintf(err, errlen, "cannot write memory file %s: %s", t.path,
				 strerror(-ret));
			goto out;
		}
	}
	/* The base now holds the Diff's memory: it goes with the Diff's state only. */
	ret = write_trailer(t.fd, m.id, m.ram_size, false);
	if (!ret && fsync(t.fd) < 0)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot write memory file %s: %s", t.path, strerror(-ret));
		goto out;
	}
	if (rename(t.path, base_mem_path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", t.path, base_mem_path,
			 strerror(errno));
		goto out;
	}
	t.path[0] = '\0';
	ret = fsync_dir_of(base_mem_path);
	if (ret)
		snprintf(err, errlen, "cannot sync the directory of %s: %s", base_mem_path,
			 strerror(-ret));
out:
	tmp_discard(&t);
	free(page);
	if (dfd >= 0)
		close(dfd);
	if (bfd >= 0)
		close(bfd);
	snapshot_memory_free(&m);
	snapshot_file_free(&f);
	return ret;
}
