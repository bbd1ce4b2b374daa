// SPDX-License-Identifier: Apache-2.0
/*
 * snapshot/: the state file's framing (empty, truncated everywhere,
 * every bit flipped, other versions, good files), its "memory" section,
 * and the machine configuration section (vmm/config_state.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/regs.h"
#include "irqchip/platform_state.h"
#include "snapshot/snapshot_int.h"
#include "vmm/vm_state.h"

static uint8_t *good_file(enum snapshot_type t, size_t *len)
{
	struct state_writer w;
	uint64_t bits[1] = { 0x5 };
	uint8_t *buf;

	state_writer_init(&w);
	state_section_begin(&w, "thing", 1);
	state_put_u64(&w, 42);
	state_section_end(&w);
	snapshot_memory_write(&w, 64 * 4096, t == SNAPSHOT_DIFF ? bits : NULL, 1);
	assert_int_equal(state_writer_error(&w), 0);
	assert_int_equal(snapshot_file_build(t, w.buf, w.len, &buf, len), 0);
	state_writer_free(&w);
	return buf;
}

static void test_good(void **state)
{
	struct snapshot_file f;
	struct snapshot_memory m;
	char err[256];
	size_t len;
	uint8_t *buf = good_file(SNAPSHOT_DIFF, &len);

	(void)state;
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), 0);
	assert_int_equal(f.type, SNAPSHOT_DIFF);
	assert_int_equal(f.body_len, len - SNAPSHOT_HEADER_BYTES - SNAPSHOT_TRAILER_BYTES);
	assert_null(f.buf);
	assert_int_equal(snapshot_memory_read(&f, &m, err, sizeof(err)), 0);
	assert_true(m.ram_size == 64 * 4096);
	assert_int_equal(m.nwords, 1);
	assert_true(m.bits[0] == 0x5);
	snapshot_memory_free(&m);
	free(buf);

	buf = good_file(SNAPSHOT_FULL, &len);
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), 0);
	assert_int_equal(f.type, SNAPSHOT_FULL);
	assert_int_equal(snapshot_memory_read(&f, &m, err, sizeof(err)), 0);
	assert_null(m.bits);
	free(buf);
}

static void test_empty(void **state)
{
	struct snapshot_file f;
	char err[256];

	(void)state;
	assert_int_equal(snapshot_file_parse("", 0, &f, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "empty"));
}

static void test_truncated_everywhere(void **state)
{
	struct snapshot_file f;
	char err[256];
	size_t len;
	uint8_t *buf = good_file(SNAPSHOT_FULL, &len);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, buf, n);
		assert_true(snapshot_file_parse(copy, n, &f, err, sizeof(err)) < 0);
		if (n >= SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES)
			assert_non_null(strstr(err, "truncated"));
		free(copy);
	}
	free(buf);
}

static void test_bit_flips_everywhere(void **state)
{
	struct snapshot_file f;
	char err[256];
	size_t len;
	uint8_t *buf = good_file(SNAPSHOT_DIFF, &len);

	(void)state;
	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			buf[i] ^= (uint8_t)(1u << b);
			assert_true(snapshot_file_parse(buf, len, &f, err, sizeof(err)) < 0);
			buf[i] ^= (uint8_t)(1u << b);
		}
	}
	/* A flip in the body says checksum. */
	buf[SNAPSHOT_HEADER_BYTES + 3] ^= 1;
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "state file is corrupt: checksum mismatch");
	free(buf);
}

static void test_version_and_magic(void **state)
{
	struct snapshot_file f;
	char err[256];
	size_t len;
	uint8_t *buf = good_file(SNAPSHOT_FULL, &len);

	(void)state;
	buf[8] = 2;
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "format version 2, this osprey reads version 1"));
	buf[8] = 1;
	buf[0] = 'X';
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "bad magic"));
	buf[0] = 'O';
	/* Bytes after the end. */
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_int_equal(snapshot_file_parse(buf, len + 1, &f, err, sizeof(err)), -EBADMSG);
	free(buf);
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/osprey-test-snapfile-XXXXXX";
	struct snapshot_file f;
	char err[512];
	size_t len;
	uint8_t *buf = good_file(SNAPSHOT_FULL, &len);
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(snapshot_file_read(path, &f, err, sizeof(err)), 0);
	assert_non_null(f.buf);
	assert_int_equal(f.len, len);
	snapshot_file_free(&f);
	/* Corrupt: the message names the file. */
	buf[len - 20] ^= 0x10;
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
	assert_int_equal(snapshot_file_read(path, &f, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "is corrupt: checksum mismatch"));
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(snapshot_file_read(path, &f, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "is empty"));
	close(fd);
	unlink(path);
	assert_int_equal(snapshot_file_read(path, &f, err, sizeof(err)), -ENOENT);
	free(buf);
}

static void test_memory_section_bad(void **state)
{
	struct state_writer w;
	struct snapshot_file f;
	struct snapshot_memory m;
	uint64_t bits[2] = { 0 };
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	/* A Full with a bitmap. */
	state_writer_init(&w);
	snapshot_memory_write(&w, 64 * 4096, bits, 1);
	f = (struct snapshot_file){ .type = SNAPSHOT_FULL, .body = w.buf, .body_len = w.len };
	assert_int_equal(snapshot_memory_read(&f, &m, err, sizeof(err)), -EBADMSG);
	state_writer_free(&w);
	/* A bitmap of the wrong size. */
	state_writer_init(&w);
	snapshot_memory_write(&w, 64 * 4096, bits, 2);
	f = (struct snapshot_file){ .type = SNAPSHOT_DIFF, .body = w.buf, .body_len = w.len };
	assert_int_equal(snapshot_memory_read(&f, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "bitmap of 2 words"));
	state_writer_free(&w);
	/* RAM not a page multiple. */
	state_writer_init(&w);
	snapshot_memory_write(&w, 4095, NULL, 0);
	f = (struct snapshot_file){ .type = SNAPSHOT_FULL, .body = w.buf, .body_len = w.len };
	assert_int_equal(snapshot_memory_read(&f, &m, err, sizeof(err)), -EBADMSG);
	state_writer_free(&w);
	/* No memory section at all. */
	assert_int_equal(snapshot_file_build(SNAPSHOT_FULL, "", 0, &buf, &len), 0);
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), 0);
	assert_int_equal(snapshot_memory_read(&f, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "no memory section"));
	free(buf);
}

static void sample_config(struct vm_config *cfg)
{
	vm_config_init(cfg);
	cfg->kernel_path = "/boot/vmlinux";
	cfg->initrd_path = NULL;
	cfg->cmdline = "quiet";
	cfg->mem_size = 128ULL << 20;
	cfg->ncpus = 2;
	cfg->cpu_template = "soft";
	cfg->accel = "soft";
	cfg->console = CONSOLE_FILE;
	cfg->console_path = "/tmp/console.log";
	cfg->on_reboot = REBOOT_RESTART;
	cfg->rng = true;
	cfg->rng_rate_limit.ops.size = 100;
	cfg->rng_rate_limit.ops.refill_time_ms = 1000;
	cfg->ndisks = 2;
	cfg->disks[0] = (struct vm_disk_config){ .path = "/a.img", .id = "rootfs" };
	cfg->disks[1] = (struct vm_disk_config){ .path = "/b.img",
						 .read_only = true,
						 .cache = DISK_CACHE_NONE,
						 .rate_limit.bandwidth = { 1 << 20, 4096, 100 } };
	cfg->nnets = 1;
	cfg->nets[0] = (struct vm_net_config){ .tap = "tap0",
					       .mac = { 2, 0, 0, 0, 0, 9 },
					       .has_mac = true,
					       .id = "eth0",
					       .tx_rate_limit.ops = { 10, 1, 20 } };
	cfg->vsock = (struct vm_vsock_config){ .enabled = true, .cid = 3, .uds = "/tmp/v.sock" };
	cfg->balloon = (struct vm_balloon_config){ .enabled = true,
						   .target = 16 << 20,
						   .deflate_on_oom = true,
						   .stats_interval = 5 };
	cfg->track_dirty_pages = true;
}

static void test_config_round_trip(void **state)
{
	struct vm_config a, b;
	struct state_writer w;
	struct state_reader r;

	(void)state;
	sample_config(&a);
	state_writer_init(&w);
	vm_config_write(&w, &a);
	assert_int_equal(state_writer_error(&w), 0);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(vm_config_read(&r, &b), 0);
	assert_string_equal(b.kernel_path, a.kernel_path);
	assert_null(b.initrd_path);
	assert_string_equal(b.cmdline, "quiet");
	assert_true(b.mem_size == a.mem_size);
	assert_int_equal(b.ncpus, 2);
	assert_string_equal(b.cpu_template, "soft");
	assert_string_equal(b.accel, "soft");
	assert_int_equal(b.console, CONSOLE_FILE);
	assert_string_equal(b.console_path, a.console_path);
	assert_int_equal(b.on_reboot, REBOOT_RESTART);
	assert_true(b.rng);
	assert_memory_equal(&b.rng_rate_limit, &a.rng_rate_limit, sizeof(a.rng_rate_limit));
	assert_int_equal(b.ndisks, 2);
	assert_string_equal(b.disks[0].id, "rootfs");
	assert_null(b.disks[1].id);
	assert_true(b.disks[1].read_only);
	assert_int_equal(b.disks[1].cache, DISK_CACHE_NONE);
	assert_memory_equal(&b.disks[1].rate_limit, &a.disks[1].rate_limit,
			    sizeof(a.disks[1].rate_limit));
	assert_int_equal(b.nnets, 1);
	assert_string_equal(b.nets[0].tap, "tap0");
	assert_memory_equal(b.nets[0].mac, a.nets[0].mac, 6);
	assert_true(b.nets[0].has_mac);
	assert_memory_equal(&b.nets[0].tx_rate_limit, &a.nets[0].tx_rate_limit,
			    sizeof(a.nets[0].tx_rate_limit));
	assert_true(b.vsock.enabled);
	assert_int_equal(b.vsock.cid, 3);
	assert_string_equal(b.vsock.uds, "/tmp/v.sock");
	assert_true(b.balloon.enabled);
	assert_true(b.balloon.target == 16 << 20);
	assert_true(b.balloon.deflate_on_oom);
	assert_int_equal(b.balloon.stats_interval, 5);
	assert_true(b.track_dirty_pages);
	vm_config_free_strings(&b);
	state_writer_free(&w);
}

static void test_config_truncated_everywhere(void **state)
{
	struct vm_config a, b;
	struct state_writer w;
	struct state_reader r;

	(void)state;
	sample_config(&a);
	state_writer_init(&w);
	vm_config_write(&w, &a);
	for (size_t n = 0; n < w.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, w.buf, n);
		state_reader_init(&r, copy, n);
		assert_int_equal(vm_config_read(&r, &b), -EBADMSG);
		assert_true(*state_reader_msg(&r));
		/* Nothing left allocated. */
		assert_null(b.kernel_path);
		free(copy);
	}
	state_writer_free(&w);
}

static void test_config_bad_values(void **state)
{
	struct vm_config a, b;
	struct state_writer w;
	struct state_reader r;

	(void)state;
	/* Too many disks. */
	sample_config(&a);
	a.ndisks = VM_MAX_DISKS + 1;
	state_writer_init(&w);
	vm_config_write(&w, &a);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(vm_config_read(&r, &b), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "disk count"));
	state_writer_free(&w);

	/* A configuration vm_config_validate refuses. */
	sample_config(&a);
	a.ncpus = 0;
	state_writer_init(&w);
	vm_config_write(&w, &a);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(vm_config_read(&r, &b), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "--cpus"));
	state_writer_free(&w);

	/* Bad enum. */
	sample_config(&a);
	a.console = (enum console_mode)7;
	state_writer_init(&w);
	vm_config_write(&w, &a);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(vm_config_read(&r, &b), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "console mode"));
	state_writer_free(&w);

	/* No config section. */
	state_reader_init(&r, "", 0);
	assert_int_equal(vm_config_read(&r, &b), -EBADMSG);
}

/*
 * A state file with every section a machine-less reader knows (the fuzz
 * target's seeds: OSPREY_FUZZ_SEED_DIR=fuzz/corpus/fuzz_snapshot writes
 * them, see fuzz/fuzz_snapshot.c for the leading mode byte).
 */
static void write_seed(const char *dir, const char *name, uint8_t mode, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(&mode, 1, 1, f), 1);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void test_full_body_seed(void **state)
{
	static struct x86_cpu_state cpu;
	static struct x86_platform_state plat;
	struct vm_config cfg, back;
	struct state_writer w;
	struct state_reader r;
	struct snapshot_file f;
	const char *dir = getenv("OSPREY_FUZZ_SEED_DIR");
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	sample_config(&cfg);
	x86_boot_sregs(&cpu, X86_ENTRY_PVH);
	x86_boot_regs(&cpu, X86_ENTRY_PVH, 0x100000, 0x6000);
	state_writer_init(&w);
	vm_config_write(&w, &cfg);
	state_section_begin(&w, "machine", 1);
	state_put_str(&w, "soft");
	state_put_u32(&w, 2);
	state_put_u64(&w, cfg.mem_size);
	state_section_end(&w);
	state_section_begin(&w, "vcpu.0", X86_CPU_STATE_VERSION);
	x86_cpu_state_write(&w, &cpu);
	state_section_end(&w);
	state_section_begin(&w, "platform", X86_PLATFORM_STATE_VERSION);
	x86_platform_state_write(&w, &plat);
	state_section_end(&w);
	snapshot_memory_write(&w, cfg.mem_size, NULL, 0);
	assert_int_equal(state_writer_error(&w), 0);
	assert_int_equal(snapshot_file_build(SNAPSHOT_FULL, w.buf, w.len, &buf, &len), 0);
	assert_int_equal(snapshot_file_parse(buf, len, &f, err, sizeof(err)), 0);
	state_reader_init(&r, f.body, f.body_len);
	assert_int_equal(vm_config_read(&r, &back), 0);
	vm_config_free_strings(&back);
	if (dir) {
		write_seed(dir, "seed-file", 0, buf, len);
		write_seed(dir, "seed-body", 1, w.buf, w.len);
	}
	free(buf);
	state_writer_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_bit_flips_everywhere),
		cmocka_unit_test(test_version_and_magic),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_memory_section_bad),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_config_truncated_everywhere),
		cmocka_unit_test(test_config_bad_values),
		cmocka_unit_test(test_full_body_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
