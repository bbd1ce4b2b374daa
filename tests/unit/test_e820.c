// SPDX-License-Identifier: Apache-2.0
/* arch/x86/e820: the guest memory map. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86/e820.h"
#include "arch/x86/layout.h"
#include "base/util.h"

static void check_entry(const struct e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void test_small_ram(void **state)
{
	struct guest_mem mem;
	struct e820_entry e[8];

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, MiB(16)), 0);
	assert_int_equal(e820_build(&mem, e, 8), 3);
	check_entry(&e[0], 0, X86_EBDA_ADDR, E820_TYPE_RAM);
	check_entry(&e[1], X86_EBDA_ADDR, X86_HIMEM_START - X86_EBDA_ADDR, E820_TYPE_RESERVED);
	check_entry(&e[2], X86_HIMEM_START, MiB(15), E820_TYPE_RAM);
}

static void test_above_hole(void **state)
{
	struct guest_mem mem;
	struct e820_entry e[8];

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, GiB(5)), 0);
	assert_int_equal(e820_build(&mem, e, 8), 4);
	check_entry(&e[0], 0, X86_EBDA_ADDR, E820_TYPE_RAM);
	check_entry(&e[1], X86_EBDA_ADDR, X86_HIMEM_START - X86_EBDA_ADDR, E820_TYPE_RESERVED);
	check_entry(&e[2], X86_HIMEM_START, MMIO_HOLE_START - X86_HIMEM_START, E820_TYPE_RAM);
	check_entry(&e[3], MMIO_HOLE_END, GiB(5) - MMIO_HOLE_START, E820_TYPE_RAM);
	/* Nothing claims the MMIO hole as RAM. */
	for (int i = 0; i < 4; i++)
		assert_true(e[i].addr + e[i].size <= MMIO_HOLE_START || e[i].addr >= MMIO_HOLE_END);
}

static void test_ram_below_1m(void **state)
{
	struct guest_mem mem;
	struct e820_entry e[8];

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, KiB(512)), 0);
	assert_int_equal(e820_build(&mem, e, 8), 2);
	check_entry(&e[0], 0, KiB(512), E820_TYPE_RAM);
	assert_int_equal(e[1].type, E820_TYPE_RESERVED);
}

static void test_no_space(void **state)
{
	struct guest_mem mem;
	struct e820_entry e[4];

	(void)state;
	assert_int_equal(guest_mem_layout(&mem, GiB(5)), 0);
	assert_int_equal(e820_build(&mem, e, 3), -ENOSPC);
	assert_int_equal(e820_build(&mem, e, 0), -ENOSPC);
	assert_int_equal(guest_mem_layout(&mem, MiB(16)), 0);
	assert_int_equal(e820_build(&mem, e, 2), -ENOSPC);
	assert_int_equal(e820_build(&mem, e, 3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_ram),
		cmocka_unit_test(test_above_hole),
		cmocka_unit_test(test_ram_below_1m),
		cmocka_unit_test(test_no_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
