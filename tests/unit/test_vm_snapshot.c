// SPDX-License-Identifier: Apache-2.0
/*
 * Snapshots of a whole machine, in process, on the software CPU: the
 * ticker test guest (build/guest/ticker.elf, `make guests`) runs, is
 * paused and snapshotted, the machine is destroyed, a new one is loaded
 * from the files and the guest's ticks go on from where they were (no
 * new "ticker: started"). Also: Diff snapshots merged onto their base,
 * a load that starts paused, and the corruption classes of a state file
 * and a memory file. Skipped when the guest was not built or the
 * software CPU cannot save its platform or log dirty pages yet.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "accel/accel.h"
#include "base/log.h"
#include "snapshot/snapshot.h"
#include "vmm/vm.h"

#define GUEST "build/guest/ticker.elf"

static char dir[64];

struct runner {
	struct vm *vm;
	pthread_t thread;
	int status;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->status = vm_run(r->vm);
	return NULL;
}

static void start(struct runner *r, struct vm *vm)
{
	r->vm = vm;
	assert_int_equal(pthread_create(&r->thread, NULL, run_thread, r), 0);
}

static void stop(struct runner *r)
{
	vm_request_exit(r->vm, VM_EXIT_POWEROFF);
	pthread_join(r->thread, NULL);
	vm_destroy(r->vm);
	r->vm = NULL;
}

static void path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* The console file's text (static buffer). */
static const char *console_text(void)
{
	static char buf[1 << 16];
	char p[128];
	ssize_t n;
	int fd;

	path(p, sizeof(p), "console");
	buf[0] = '\0';
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

/* The highest "tick N" printed, -1 if none. */
static long last_tick(void)
{
	const char *s = console_text();
	long last = -1;

	while ((s = strstr(s, "tick ")) != NULL) {
		long v = strtol(s + 5, NULL, 10);

		if (v > last)
			last = v;
		s += 5;
	}
	return last;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits (up to 20 s) until the guest printed tick >= want. */
static long wait_tick(long want)
{
	long t = -1;

	for (int i = 0; i < 2000; i++) {
		t = last_tick();
		if (t >= want)
			return t;
		sleep_ms(10);
	}
	return t;
}

static void base_config(struct vm_config *cfg, bool track)
{
	static char console[128];

	path(console, sizeof(console), "console");
	vm_config_init(cfg);
	cfg->kernel_path = GUEST;
	cfg->mem_size = 32ULL << 20;
	cfg->accel = "soft";
	cfg->cpu_template = "auto";
	cfg->console = CONSOLE_FILE;
	cfg->console_path = console;
	cfg->track_dirty_pages = track;
}

static bool can_run(void)
{
	if (access(GUEST, R_OK) != 0) {
		print_message("skip: %s not built (make guests)\n", GUEST);
		return false;
	}
	if (!accel_soft_ops.platform_save || !accel_soft_ops.platform_load ||
	    !accel_soft_ops.dirty_log || !accel_soft_ops.dirty_sync) {
		print_message("skip: the software CPU cannot snapshot its platform yet\n");
		return false;
	}
	return true;
}

/* Boots the ticker until tick `ticks`, pauses; returns the running machine. */
static void boot_and_pause(struct runner *r, struct vm_config *cfg, long ticks)
{
	struct vm *vm;

	assert_int_equal(vm_create(cfg, &vm), 0);
	start(r, vm);
	assert_true(wait_tick(ticks) >= ticks);
	assert_int_equal(vm_pause(vm), 0);
}

static void snap(struct vm *vm, enum snapshot_type t, const char *st, const char *mem)
{
	struct snapshot_create_params p = { .type = t };
	struct snapshot_stats stats;
	char sp[128], mp[128], err[256] = "";
	int ret;

	path(sp, sizeof(sp), st);
	path(mp, sizeof(mp), mem);
	p.state_path = sp;
	p.mem_path = mp;
	ret = snapshot_create(vm, &p, &stats, err, sizeof(err));
	if (ret)
		print_error("snapshot_create: %s\n", err);
	assert_int_equal(ret, 0);
	assert_true(stats.state_bytes > 0);
}

static int load(const char *st, const char *mem, bool resume, bool diff, struct vm_config **cfg,
		struct vm **vm, char *err, size_t errlen)
{
	char sp[128], mp[128];
	struct snapshot_load_params p = { .resume = resume, .enable_diff_snapshots = diff };

	path(sp, sizeof(sp), st);
	path(mp, sizeof(mp), mem);
	p.state_path = sp;
	p.mem_path = mp;
	return snapshot_load(&p, cfg, vm, err, errlen);
}

static void free_cfg(struct vm_config *cfg)
{
	vm_config_free_strings(cfg);
	free(cfg);
}

static void test_full_round_trip(void **state)
{
	struct vm_config cfg, *rcfg;
	struct runner r;
	struct vm *vm;
	char err[256] = "";
	long before, after;

	(void)state;
	if (!can_run())
		skip();
	base_config(&cfg, false);
	/* Devices with state: each one's section must come back. */
	{
		static char disk[128];
		int fd;

		path(disk, sizeof(disk), "disk.img");
		fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 1 << 20), 0);
		close(fd);
		cfg.ndisks = 1;
		cfg.disks[0] = (struct vm_disk_config){ .path = disk, .id = "rootfs" };
		cfg.rng = true;
		cfg.balloon.enabled = true;
	}
	boot_and_pause(&r, &cfg, 3);
	/* i8042, rtc, serial.0, virtio-balloon, virtio-blk.rootfs, virtio-rng */
	assert_true(r.vm->nstate_handlers >= 6);
	before = last_tick();
	snap(r.vm, SNAPSHOT_FULL, "full.state", "full.mem");
	/* A Diff needs dirty tracking. */
	{
		struct snapshot_create_params p = { .type = SNAPSHOT_DIFF,
						    .state_path = "/nonexistent/x",
						    .mem_path = "/nonexistent/y" };

		assert_int_equal(snapshot_create(r.vm, &p, NULL, err, sizeof(err)), -EINVAL);
	}
	stop(&r);

	if (load("full.state", "full.mem", true, false, &rcfg, &vm, err, sizeof(err)))
		print_error("snapshot_load: %s\n", err);
	assert_non_null(vm);
	start(&r, vm);
	after = wait_tick(before + 3);
	stop(&r);
	free_cfg(rcfg);
	assert_true(after >= before + 3);
	/* It went on, it did not boot again. */
	assert_null(strstr(console_text(), "ticker: started"));
}

static void test_start_paused(void **state)
{
	struct vm_config cfg, *rcfg;
	struct runner r;
	struct vm *vm;
	char err[256] = "";
	long t;

	(void)state;
	if (!can_run())
		skip();
	base_config(&cfg, false);
	boot_and_pause(&r, &cfg, 2);
	snap(r.vm, SNAPSHOT_FULL, "p.state", "p.mem");
	stop(&r);

	assert_int_equal(load("p.state", "p.mem", false, false, &rcfg, &vm, err, sizeof(err)), 0);
	start(&r, vm);
	sleep_ms(300);
	assert_int_equal(last_tick(), -1); /* nothing ran */
	assert_int_equal(vm_pause(vm), -EALREADY);
	assert_int_equal(vm_resume(vm), 0);
	t = wait_tick(3);
	stop(&r);
	free_cfg(rcfg);
	assert_true(t >= 3);
}

/* Whether two files have the same bytes. */
static bool same_files(const char *a, const char *b)
{
	static char ba[1 << 16], bb[1 << 16];
	char pa[128], pb[128];
	bool same = true;
	int fa, fb;
	ssize_t na, nb;

	path(pa, sizeof(pa), a);
	path(pb, sizeof(pb), b);
	fa = open(pa, O_RDONLY);
	fb = open(pb, O_RDONLY);
	assert_true(fa >= 0 && fb >= 0);
	do {
		na = read(fa, ba, sizeof(ba));
		nb = read(fb, bb, sizeof(bb));
		if (na != nb || (na > 0 && memcmp(ba, bb, (size_t)na)))
			same = false;
	} while (same && na > 0);
	close(fa);
	close(fb);
	return same;
}

static void test_diff_merge(void **state)
{
	struct vm_config cfg, *rcfg;
	struct runner r;
	struct vm *vm;
	char err[256] = "", ds[128], dm[128], bm[128];
	long mid, after;
	struct stat st;

	(void)state;
	if (!can_run())
		skip();
	base_config(&cfg, true);
	boot_and_pause(&r, &cfg, 2);
	snap(r.vm, SNAPSHOT_FULL, "base.state", "base.mem");
	assert_int_equal(vm_resume(r.vm), 0);
	mid = wait_tick(last_tick() + 4);
	assert_int_equal(vm_pause(r.vm), 0);
	mid = last_tick();
	snap(r.vm, SNAPSHOT_DIFF, "diff.state", "diff.mem");
	/* The same moment in full, to hold the merged memory against. */
	snap(r.vm, SNAPSHOT_FULL, "check.state", "check.mem");
	stop(&r);

	/* The diff file is sparse: far less than RAM on disk. */
	path(dm, sizeof(dm), "diff.mem");
	assert_int_equal(stat(dm, &st), 0);
	assert_true((uint64_t)st.st_size == cfg.mem_size);
	assert_true((uint64_t)st.st_blocks * 512 < cfg.mem_size / 2);

	path(ds, sizeof(ds), "diff.state");
	path(bm, sizeof(bm), "base.mem");
	assert_int_equal(snapshot_merge(ds, dm, bm, err, sizeof(err)), 0);
	/* Base + Diff is exactly the RAM at the Diff: no dirty page was missed. */
	assert_true(same_files("base.mem", "check.mem"));
	/* A Full state is not a Diff. */
	path(ds, sizeof(ds), "base.state");
	assert_int_equal(snapshot_merge(ds, dm, bm, err, sizeof(err)), -EINVAL);

	if (load("diff.state", "base.mem", true, true, &rcfg, &vm, err, sizeof(err)))
		print_error("snapshot_load: %s\n", err);
	assert_non_null(vm);
	assert_true(vm->dirty_logging);
	start(&r, vm);
	after = wait_tick(mid + 3);
	stop(&r);
	free_cfg(rcfg);
	assert_true(after >= mid + 3);
	assert_null(strstr(console_text(), "ticker: started"));
}

static void copy_file(const char *from, const char *to, off_t len, off_t flip)
{
	char a[128], b[128];
	static char buf[1 << 20];
	int in, out;
	ssize_t n;
	off_t done = 0;

	path(a, sizeof(a), from);
	path(b, sizeof(b), to);
	in = open(a, O_RDONLY);
	out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0 && (len < 0 || done < len)) {
		if (len >= 0 && done + n > len)
			n = len - done;
		if (flip >= done && flip < done + n)
			buf[flip - done] ^= 0x20;
		assert_int_equal(write(out, buf, (size_t)n), n);
		done += n;
	}
	close(in);
	close(out);
}

static void expect_load_error(const char *st, const char *mem, const char *msg)
{
	struct vm_config *rcfg = NULL;
	struct vm *vm = NULL;
	char err[512] = "";

	assert_true(load(st, mem, true, false, &rcfg, &vm, err, sizeof(err)) < 0);
	assert_null(vm);
	assert_null(rcfg);
	if (!strstr(err, msg))
		print_error("error '%s' does not say '%s'\n", err, msg);
	assert_non_null(strstr(err, msg));
}

static void test_corruption(void **state)
{
	struct vm_config cfg;
	struct runner r;
	char p[128];
	struct stat st;

	(void)state;
	if (!can_run())
		skip();
	base_config(&cfg, false);
	boot_and_pause(&r, &cfg, 1);
	snap(r.vm, SNAPSHOT_FULL, "c.state", "c.mem");
	stop(&r);
	path(p, sizeof(p), "c.state");
	assert_int_equal(stat(p, &st), 0);

	copy_file("c.state", "empty.state", 0, -1);
	expect_load_error("empty.state", "c.mem", "is empty");
	for (off_t cut = 1; cut < st.st_size; cut += st.st_size / 7) {
		copy_file("c.state", "cut.state", cut, -1);
		expect_load_error("cut.state", "c.mem", "state file");
	}
	copy_file("c.state", "flip.state", -1, st.st_size / 2);
	expect_load_error("flip.state", "c.mem", "is corrupt: checksum mismatch");
	copy_file("c.state", "ver.state", -1, 9);
	expect_load_error("ver.state", "c.mem", "format version");
	copy_file("c.mem", "short.mem", (off_t)(cfg.mem_size - 4096), -1);
	expect_load_error("c.state", "short.mem", "bytes, the snapshot needs");
	expect_load_error("c.state", "missing.mem", "cannot open memory file");
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/osprey-test-snap-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_round_trip),
		cmocka_unit_test(test_start_paused),
		cmocka_unit_test(test_diff_merge),
		cmocka_unit_test(test_corruption),
	};

	log_set_level(LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
