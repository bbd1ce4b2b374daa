// SPDX-License-Identifier: Apache-2.0
/* hw/memory: layout around the MMIO hole and the checked translation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
