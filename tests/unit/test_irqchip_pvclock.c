// SPDX-License-Identifier: Apache-2.0
/* irqchip/pvclock: kvmclock time info and wall clock in guest memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/pvclock.h"

#define RAM (1ULL << 20)

static void test_time_info(void **state)
{
	struct guest_mem mem;
	struct pvclock_vcpu_time_info ti;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, RAM), 0);
	assert_int_equal(pvclock_write_time_info(&mem, 0x1000, 5000000, 1234, PVCLOCK_TSC_STABLE_BIT), 0);
	assert_int_equal(guest_mem_read(&mem, 0x1000, &ti, sizeof(ti)), 0);
	assert_int_equal(ti.version, 2);
	assert_int_equal(ti.tsc_timestamp, 5000000);
	assert_int_equal(ti.system_time, 1234);
	assert_int_equal(ti.tsc_to_system_mul, 0x80000000u);
	assert_int_equal(ti.tsc_shift, 1);
	assert_int_equal(ti.flags, PVCLOCK_TSC_STABLE_BIT);
	/* The guest's formula gives ns == TSC ticks at 1 GHz, exactly. */
	assert_int_equal(pvclock_read(&ti, 5000000), 1234);
	assert_int_equal(pvclock_read(&ti, 5000001), 1235);
	assert_int_equal(pvclock_read(&ti, 5000000 + 3600000000000ULL), 1234 + 3600000000000ULL);
	assert_int_equal(pvclock_read(&ti, 5000000 + (1ULL << 62)), 1234 + (1ULL << 62));
	/* Each update bumps the version by 2 and leaves it even. */
	assert_int_equal(pvclock_write_time_info(&mem, 0x1000, 6000000, 2234, 0), 0);
	assert_int_equal(guest_mem_read(&mem, 0x1000, &ti, sizeof(ti)), 0);
	assert_int_equal(ti.version, 4);
	/* A guest that left an odd version gets an even one back. */
	uint32_t odd = 7;
	assert_int_equal(guest_mem_write(&mem, 0x1000, &odd, 4), 0);
	assert_int_equal(pvclock_write_time_info(&mem, 0x1000, 0, 0, 0), 0);
	assert_int_equal(guest_mem_read(&mem, 0x1000, &ti, sizeof(ti)), 0);
	assert_int_equal(ti.version % 2, 0);
	assert_true(ti.version > 7);
	/* Outside RAM, straddling its end, misaligned: refused. */
	assert_int_equal(pvclock_write_time_info(&mem, RAM, 0, 0, 0), -EFAULT);
	assert_int_equal(pvclock_write_time_info(&mem, RAM - 16, 0, 0, 0), -EFAULT);
	assert_int_equal(pvclock_write_time_info(&mem, UINT64_MAX - 8, 0, 0, 0), -EFAULT);
	assert_int_equal(pvclock_write_time_info(&mem, 0x1002, 0, 0, 0), -EFAULT);
	assert_int_equal(pvclock_write_time_info(&mem, RAM - 32, 0, 0, 0), 0);
	/*
	 * 4-byte but not 8-byte aligned (the guest picks the address): written
	 * without unaligned 64-bit stores (UBSan aborts on those).
	 */
	assert_int_equal(pvclock_write_time_info(&mem, 0x2004, 7000000, 3234, PVCLOCK_TSC_STABLE_BIT), 0);
	assert_int_equal(guest_mem_read(&mem, 0x2004, &ti, sizeof(ti)), 0);
	assert_int_equal(ti.version % 2, 0);
	assert_int_equal(ti.tsc_timestamp, 7000000);
	assert_int_equal(ti.system_time, 3234);
	assert_int_equal(ti.tsc_to_system_mul, 0x80000000u);
	assert_int_equal(ti.tsc_shift, 1);
	assert_int_equal(ti.flags, PVCLOCK_TSC_STABLE_BIT);
	guest_mem_destroy(&mem);
}

static void test_wall_clock(void **state)
{
	struct guest_mem mem;
	struct pvclock_wall_clock wc;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, RAM), 0);
	assert_int_equal(pvclock_write_wall_clock(&mem, 0x2000, 1700000000123456789ULL), 0);
	assert_int_equal(guest_mem_read(&mem, 0x2000, &wc, sizeof(wc)), 0);
	assert_int_equal(wc.version, 2);
	assert_int_equal(wc.sec, 1700000000u);
	assert_int_equal(wc.nsec, 123456789u);
	assert_int_equal(pvclock_write_wall_clock(&mem, RAM - 8, 0), -EFAULT);
	guest_mem_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_info),
		cmocka_unit_test(test_wall_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
