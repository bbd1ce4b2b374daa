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

static int tmp_create(struct tmpfile *t, const char *target, char *err, size_t errlen)
{
	static unsigned counter;
	char copy[PATH_MAX];
	const char *dir, *base;
	unsigned n;
	int len;

	t->fd = -1;
	t->path[0] = '\0';
	if (strlen(target) >= sizeof(copy)) {
		snprintf(err, errlen, "path too long: %s", target);
		return -ENAMETOOLONG;
	}
	snprintf(copy, sizeof(copy), "%s", target);
	base = strrchr(copy, '/');
	if (base) {
		copy[base - copy] = '\0';
		dir = base == copy ? "/" : copy;
		base = target + (base - copy) + 1;
	} else {
		dir = ".";
		base = target;
	}
	if (!*base) {
		snprintf(err, errlen, "%s names a directory, not a file", target);
		return -EISDIR;
	}
	for (int tries = 0; tries < 100; tries++) {
		n = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
		len = snprintf(t->path, sizeof(t->path), "%s/.%s.tmp.%ld.%u", dir, base,
			       (long)getpid(), n);
		if (len < 0 || (size_t)len >= sizeof(t->path)) {
			snprintf(err, errlen, "path too long: %s", target);
			return -ENAMETOOLONG;
		}
		t->fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (t->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	snprintf(err, errlen, "cannot create a temporary file beside %s: %s", target,
		 strerror(errno));
	t->path[0] = '\0';
	return -errno;
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

/* The state file's bytes: machine state and the memory section, framed. */
static int build_state(struct vm *vm, enum snapshot_type type, const uint64_t *bits,
		       size_t nwords, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct state_writer w;
	int ret;

	state_writer_init(&w);
	ret = vm_state_save(vm, &w, err, errlen);
	if (!ret) {
		snapshot_memory_write(&w, vm->mem.ram_size, type == SNAPSHOT_DIFF ? bits : NULL,
				      nwords);
		ret = state_writer_error(&w);
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
	if (!__atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE)) {
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
	ret = build_state(vm, p->type, bits, nwords, &state, &state_len, err, errlen);
	if (ret)
		goto out;

	ret = tmp_create(&mt, p->mem_path, err, errlen);
	if (!ret)
		ret = tmp_create(&stt, p->state_path, err, errlen);
	if (ret)
		goto out;
	ret = write_pages(vm, mt.fd, p->type == SNAPSHOT_DIFF ? bits : NULL, &written);
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
	/* Memory first: a state file never names memory that is not there yet. */
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

int snapshot_merge(const char *diff_state_path, const char *diff_mem_path, const char *base_mem_path,
		   char *err, size_t errlen)
{
	struct snapshot_file f;
	struct snapshot_memory m = { 0 };
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
	bfd = open_mem(base_mem_path, m.ram_size, O_RDWR, err, errlen);
	if (bfd < 0) {
		ret = bfd;
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
		ret = write_all(bfd, page, GUEST_PAGE_SIZE, off);
		if (ret) {
			snprintf(err, errlen, "cannot write memory file %s: %s", base_mem_path,
				 strerror(-ret));
			goto out;
		}
	}
	if (fsync(bfd) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot sync memory file %s: %s", base_mem_path,
			 strerror(errno));
	}
out:
	free(page);
	if (dfd >= 0)
		close(dfd);
	if (bfd >= 0)
		close(bfd);
	snapshot_memory_free(&m);
	snapshot_file_free(&f);
	return ret;
}
