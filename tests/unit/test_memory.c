// SPDX-License-Identifier: Apache-2.0
/* hw/memory: layout around the MMIO hole and the checked translation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "hw/memory.h"

#define RAM MiB(16)

static int mem_setup(void **state)
{
	static struct guest_mem mem;

	if (guest_mem_init(&mem, RAM))
		return -1;
	*state = &mem;
	return 0;
}

static int mem_teardown(void **state)
{
	guest_mem_destroy(*state);
	return 0;
}

static void test_layout_below_hole(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, MiB(256)), 0);
	assert_int_equal(mem.nregions, 1);
	assert_int_equal(mem.regions[0].gpa, 0);
	assert_int_equal(mem.regions[0].size, MiB(256));
	assert_null(mem.regions[0].host);
	assert_int_equal(mem.ram_size, MiB(256));
	assert_int_equal(guest_mem_low_end(&mem), MiB(256));
}

static void test_layout_exactly_hole(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, MMIO_HOLE_START), 0);
	assert_int_equal(mem.nregions, 1);
	assert_int_equal(mem.regions[0].size, MMIO_HOLE_START);
	assert_int_equal(guest_mem_low_end(&mem), MMIO_HOLE_START);
}

static void test_layout_above_hole(void **state)
{
	struct guest_mem mem;

	(void)state;
	/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB up. */
	assert_int_equal(guest_mem_layout(&mem, GiB(4)), 0);
	assert_int_equal(mem.nregions, 2);
	assert_int_equal(mem.regions[0].gpa, 0);
	assert_int_equal(mem.regions[0].size, MMIO_HOLE_START);
	assert_int_equal(mem.regions[1].gpa, MMIO_HOLE_END);
	assert_int_equal(mem.regions[1].size, GiB(4) - MMIO_HOLE_START);
	assert_int_equal(mem.ram_size, GiB(4));
	assert_int_equal(guest_mem_low_end(&mem), MMIO_HOLE_START);
	/* Unmapped layout: no host pointers, so no translation either. */
	assert_null(guest_mem_ptr(&mem, 0, 1));
	assert_null(guest_mem_ptr(&mem, MMIO_HOLE_END, 1));
}

static void test_layout_invalid(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, 0), -EINVAL);
	assert_int_equal(guest_mem_layout(&mem, MiB(16) + 1), -EINVAL);
	assert_int_equal(guest_mem_layout(&mem, MiB(16) + 2048), -EINVAL);
	/* RAM above 4 GiB that would end past 2^64. */
	assert_int_equal(guest_mem_layout(&mem, UINT64_MAX & ~0xfffULL), -ERANGE);
	assert_int_equal(guest_mem_init(&mem, 12345), -EINVAL);
}

static void test_ptr_inside(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *p0 = guest_mem_ptr(mem, 0, 1);
	uint8_t *p;

	assert_non_null(p0);
	p = guest_mem_ptr(mem, 0x1234, 16);
	assert_ptr_equal(p, p0 + 0x1234);
	p = guest_mem_ptr(mem, 0, RAM);
	assert_ptr_equal(p, p0);
	p = guest_mem_ptr(mem, RAM - 1, 1);
	assert_ptr_equal(p, p0 + RAM - 1);
	/* Writes land where the pointer says. */
	p[0] = 0x5a;
	assert_int_equal(p0[RAM - 1], 0x5a);
}

static void test_ptr_straddling_end(void **state)
{
	struct guest_mem *mem = *state;

	assert_null(guest_mem_ptr(mem, RAM - 1, 2));
	assert_null(guest_mem_ptr(mem, RAM - 4096, 4097));
	assert_null(guest_mem_ptr(mem, 0, RAM + 1));
	assert_null(guest_mem_ptr(mem, RAM, 1));
	assert_null(guest_mem_ptr(mem, RAM + 4096, 16));
}

static void test_ptr_in_hole(void **state)
{
	struct guest_mem *mem = *state;

	assert_null(guest_mem_ptr(mem, MMIO_HOLE_START, 1));
	assert_null(guest_mem_ptr(mem, 0xfee00000ULL, 4));
	assert_null(guest_mem_ptr(mem, MMIO_HOLE_END, 1));
}

static void test_ptr_wrap(void **state)
{
	struct guest_mem *mem = *state;

	/* gpa + len wraps to a small number that would look in range. */
	assert_null(guest_mem_ptr(mem, UINT64_MAX, 2));
	assert_null(guest_mem_ptr(mem, 0x1000, UINT64_MAX));
	assert_null(guest_mem_ptr(mem, UINT64_MAX - 0xfff, 0x2000));
	assert_null(guest_mem_ptr(mem, 0x10, UINT64_MAX - 0xf + 1));
	assert_null(guest_mem_ptr(mem, UINT64_MAX, 0));
}

static void test_ptr_len_zero(void **state)
{
	struct guest_mem *mem = *state;
	uint8_t *p0 = guest_mem_ptr(mem, 0, 1);

	/* An empty range inside RAM translates; its end may be the end of RAM. */
	assert_ptr_equal(guest_mem_ptr(mem, 0x100, 0), p0 + 0x100);
	assert_ptr_equal(guest_mem_ptr(mem, RAM, 0), p0 + RAM);
	assert_null(guest_mem_ptr(mem, RAM + 1, 0));
	assert_null(guest_mem_ptr(mem, MMIO_HOLE_START, 0));
}

static void test_read_write(void **state)
{
	struct guest_mem *mem = *state;
	const char msg[] = "osprey";
	char back[sizeof(msg)] = { 0 };

	assert_int_equal(guest_mem_write(mem, 0x2000, msg, sizeof(msg)), 0);
	assert_int_equal(guest_mem_read(mem, 0x2000, back, sizeof(back)), 0);
	assert_string_equal(back, msg);
	assert_int_equal(guest_mem_write(mem, RAM - 3, msg, sizeof(msg)), -EFAULT);
	assert_int_equal(guest_mem_read(mem, RAM - 3, back, sizeof(back)), -EFAULT);
	assert_int_equal(guest_mem_read(mem, UINT64_MAX - 2, back, sizeof(back)), -EFAULT);
}

static void test_destroy_clears(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, MiB(8)), 0);
	assert_non_null(mem.mapping);
	assert_int_equal(mem.mapping_size, MiB(8));
	guest_mem_destroy(&mem);
	assert_null(mem.mapping);
	assert_int_equal(mem.nregions, 0);
	assert_null(guest_mem_ptr(&mem, 0, 1));
}

/* ---- dirty log and file-backed RAM (snapshots) ---- */

static void test_dirty_off(void **state)
{
	struct guest_mem *mem = *state;
	uint64_t out[2] = { ~0ULL, ~0ULL };
	uint8_t b = 1;

	assert_int_equal(guest_mem_write(mem, 0x1000, &b, 1), 0);
	guest_mem_mark_dirty(mem, 0x2000, 1);
	assert_int_equal(guest_mem_dirty_collect(mem, out, 2), 0);
	assert_true(out[0] == 0 && out[1] == 0);
}

static void test_dirty_mark_collect(void **state)
{
	struct guest_mem *mem = *state;
	size_t words = (RAM / 4096 + 63) / 64;
	uint64_t *out = calloc(words, sizeof(*out));
	uint8_t buf[2] = { 1, 2 };

	assert_int_equal(guest_mem_dirty_start(mem), 0);
	assert_int_equal(mem->dirty_words, words);
	assert_int_equal(guest_mem_write(mem, 0x1000, buf, 1), 0);
	/* A write across a page boundary marks both pages. */
	assert_int_equal(guest_mem_write(mem, 0x5fff, buf, 2), 0);
	/* Host code writing through a pointer reports it. */
	guest_mem_written(mem, RAM - 1, 1);
	/* Outside RAM, zero length: nothing. */
	guest_mem_mark_dirty(mem, RAM, 4096);
	guest_mem_mark_dirty(mem, 0x9000, 0);
	guest_mem_mark_dirty(mem, UINT64_MAX, 2);
	assert_int_equal(guest_mem_dirty_collect(mem, out, words), 4);
	assert_true(out[0] == ((1ULL << 1) | (1ULL << 5) | (1ULL << 6)));
	assert_true(out[words - 1] == 1ULL << 63);
	/* Collecting cleared it. */
	assert_int_equal(guest_mem_dirty_collect(mem, out, words), 0);
	assert_true(out[0] == 0);
	guest_mem_dirty_stop(mem);
	assert_null(mem->dirty);
	free(out);
}

static void test_dirty_across_hole(void **state)
{
	struct guest_mem mem;
	uint64_t ram = MMIO_HOLE_START + MiB(8);
	size_t words = (size_t)((ram / 4096 + 63) / 64);
	uint64_t *out = calloc(words, sizeof(*out));
	uint64_t hole_page = MMIO_HOLE_START / 4096;
	uint8_t b = 7;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, ram), 0);
	assert_int_equal(guest_mem_dirty_start(&mem), 0);
	/* The last page below the hole and the first above it are neighbours in the bitmap. */
	assert_int_equal(guest_mem_write(&mem, MMIO_HOLE_START - 4096, &b, 1), 0);
	assert_int_equal(guest_mem_write(&mem, MMIO_HOLE_END, &b, 1), 0);
	assert_int_equal(guest_mem_write(&mem, MMIO_HOLE_END + MiB(8) - 1, &b, 1), 0);
	/* Inside the hole: not RAM. */
	assert_int_equal(guest_mem_write(&mem, MMIO_HOLE_START, &b, 1), -EFAULT);
	guest_mem_mark_dirty(&mem, MMIO_HOLE_START + 4096, 4096);
	assert_int_equal(guest_mem_dirty_collect(&mem, out, words), 3);
	assert_true(out[(hole_page - 1) / 64] & (1ULL << ((hole_page - 1) % 64)));
	assert_true(out[hole_page / 64] & (1ULL << (hole_page % 64)));
	assert_true(out[words - 1] & (1ULL << ((ram / 4096 - 1) % 64)));
	guest_mem_destroy(&mem);
	free(out);
}

static int temp_file(size_t size)
{
	char path[] = "/tmp/osprey-test-mem-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void test_init_file(void **state)
{
	struct guest_mem mem;
	uint8_t pattern[16], got[16], b = 0x55;
	int fd = temp_file(RAM), dup_fd;

	(void)state;
	memset(pattern, 0xa5, sizeof(pattern));
	assert_int_equal(pwrite(fd, pattern, sizeof(pattern), 3 * 4096), (ssize_t)sizeof(pattern));
	dup_fd = dup(fd);
	assert_int_equal(guest_mem_init_file(&mem, RAM, fd), 0);
	assert_true(mem.file_backed);
	assert_int_equal(guest_mem_read(&mem, 3 * 4096, got, sizeof(got)), 0);
	assert_memory_equal(got, pattern, sizeof(got));
	/* MAP_PRIVATE: the guest's writes stay out of the file. */
	assert_int_equal(guest_mem_write(&mem, 3 * 4096, &b, 1), 0);
	assert_int_equal(guest_mem_read(&mem, 3 * 4096, got, 1), 0);
	assert_int_equal(got[0], 0x55);
	assert_int_equal(pread(dup_fd, got, sizeof(got), 3 * 4096), (ssize_t)sizeof(got));
	assert_memory_equal(got, pattern, sizeof(got));
	guest_mem_destroy(&mem);
	/* The fd was taken over and closed. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	close(dup_fd);
}

static void test_init_file_short(void **state)
{
	struct guest_mem mem;
	int fd = temp_file(RAM - 4096);

	(void)state;
	assert_int_equal(guest_mem_init_file(&mem, RAM, fd), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_below_hole),
		cmocka_unit_test(test_layout_exactly_hole),
		cmocka_unit_test(test_layout_above_hole),
		cmocka_unit_test(test_layout_invalid),
		cmocka_unit_test_setup_teardown(test_ptr_inside, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_ptr_straddling_end, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_ptr_in_hole, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_ptr_wrap, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_ptr_len_zero, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_read_write, mem_setup, mem_teardown),
		cmocka_unit_test(test_destroy_clears),
		cmocka_unit_test_setup_teardown(test_dirty_off, mem_setup, mem_teardown),
		cmocka_unit_test_setup_teardown(test_dirty_mark_collect, mem_setup, mem_teardown),
		cmocka_unit_test(test_dirty_across_hole),
		cmocka_unit_test(test_init_file),
		cmocka_unit_test(test_init_file_short),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
