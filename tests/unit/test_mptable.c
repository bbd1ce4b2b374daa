// SPDX-License-Identifier: Apache-2.0
/* arch/x86/mptable: MP floating pointer and configuration table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "base/util.h"

/* Byte offsets from the MP specification 1.4. */
#define MPF_SIZE 16
#define MPC_HDR_SIZE 44
#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

struct mp_counts {
	unsigned cpus, buses, ioapics, intsrcs, lintsrcs, bsp;
	uint8_t ioapic_id;
};

/* Walks the entries; fails the test on an unknown entry type. */
static struct mp_counts mp_walk(const uint8_t *mpc, uint32_t sig, uint32_t feat)
{
	struct mp_counts c = { 0 };
	uint16_t len = rd16(mpc + 4);
	const uint8_t *p = mpc + MPC_HDR_SIZE, *end = mpc + len;

	while (p < end) {
		switch (p[0]) {
		case MP_PROCESSOR:
			assert_int_equal(p[1], c.cpus); /* APIC ID = index */
			assert_true(p[3] & 1);		/* enabled */
			if (p[3] & 2)
				c.bsp++;
			assert_int_equal(!!(p[3] & 2), c.cpus == 0);
			assert_int_equal(rd32(p + 4), sig);
			assert_int_equal(rd32(p + 8), feat);
			c.cpus++;
			p += 20;
			break;
		case MP_BUS:
			assert_memory_equal(p + 2, "ISA   ", 6);
			c.buses++;
			p += 8;
			break;
		case MP_IOAPIC:
			c.ioapic_id = p[1];
			assert_true(p[3] & 1);
			assert_int_equal(rd32(p + 4), (uint32_t)X86_IOAPIC_ADDR);
			c.ioapics++;
			p += 8;
			break;
		case MP_INTSRC:
			assert_int_equal(p[5], p[7]); /* ISA IRQ n -> pin n */
			c.intsrcs++;
			p += 8;
			break;
		case MP_LINTSRC:
			c.lintsrcs++;
			p += 8;
			break;
		default:
			fail_msg("unknown MP entry type %u", p[0]);
		}
	}
	assert_ptr_equal(p, end);
	return c;
}

static void check_table(unsigned ncpus)
{
	struct guest_mem mem;
	const uint8_t *mpf, *mpc;
	struct mp_counts c;

	assert_int_equal(guest_mem_init(&mem, MiB(16)), 0);
	assert_int_equal(mptable_write(&mem, X86_EBDA_ADDR, ncpus, 0x806f8, 0x178bfbff), 0);
	mpf = guest_mem_ptr(&mem, X86_EBDA_ADDR, MPF_SIZE);
	assert_non_null(mpf);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[8], 1); /* length in paragraphs */
	assert_int_equal(mpf[9], 4); /* spec 1.4 */
	assert_int_equal(sum(mpf, MPF_SIZE), 0);
	assert_int_equal(rd32(mpf + 4), X86_EBDA_ADDR + MPF_SIZE);

	mpc = guest_mem_ptr(&mem, rd32(mpf + 4), MPC_HDR_SIZE);
	assert_non_null(mpc);
	assert_memory_equal(mpc, "PCMP", 4);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(rd32(mpc + 36), (uint32_t)X86_LAPIC_ADDR);
	assert_non_null(guest_mem_ptr(&mem, rd32(mpf + 4), rd16(mpc + 4)));
	assert_int_equal(sum(mpc, rd16(mpc + 4)), 0);
	assert_int_equal(MPF_SIZE + rd16(mpc + 4), mptable_size(ncpus));

	c = mp_walk(mpc, 0x806f8, 0x178bfbff);
	assert_int_equal(c.cpus, ncpus);
	assert_int_equal(c.bsp, 1);
	assert_int_equal(c.buses, 1);
	assert_int_equal(c.ioapics, 1);
	assert_int_equal(c.ioapic_id, ncpus);
	assert_int_equal(c.intsrcs, MPTABLE_IOAPIC_PINS);
	assert_int_equal(c.lintsrcs, 2);
	assert_int_equal(rd16(mpc + 34), c.cpus + c.buses + c.ioapics + c.intsrcs + c.lintsrcs);
	guest_mem_destroy(&mem);
}

static void test_one_cpu(void **state)
{
	(void)state;
	check_table(1);
}

static void test_four_cpus(void **state)
{
	(void)state;
	check_table(4);
}

static void test_max_cpus(void **state)
{
	(void)state;
	check_table(MPTABLE_MAX_CPUS);
}

static void test_size_grows_per_cpu(void **state)
{
	(void)state;
	assert_int_equal(mptable_size(2) - mptable_size(1), 20);
	assert_int_equal(mptable_size(8) - mptable_size(4), 80);
}

static void test_bad_cpu_counts(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, MiB(16)), 0);
	assert_int_equal(mptable_write(&mem, X86_EBDA_ADDR, 0, 0, 0), -EINVAL);
	assert_int_equal(mptable_write(&mem, X86_EBDA_ADDR, MPTABLE_MAX_CPUS + 1, 0, 0), -EINVAL);
	assert_int_equal(mptable_write(&mem, X86_EBDA_ADDR, 100000, 0, 0), -EINVAL);
	guest_mem_destroy(&mem);
}

static void test_outside_ram(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, MiB(16)), 0);
	assert_int_equal(mptable_write(&mem, MiB(16) - 16, 1, 0, 0), -EFAULT);
	assert_int_equal(mptable_write(&mem, MMIO_HOLE_START, 1, 0, 0), -EFAULT);
	guest_mem_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),		  cmocka_unit_test(test_four_cpus),
		cmocka_unit_test(test_max_cpus),	  cmocka_unit_test(test_size_grows_per_cpu),
		cmocka_unit_test(test_bad_cpu_counts), cmocka_unit_test(test_outside_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
