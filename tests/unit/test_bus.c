// SPDX-License-Identifier: Apache-2.0
/* hw/bus: range registration, lookup and dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hw/bus.h"

struct recorder {
	unsigned reads, writes;
	uint64_t last_offset;
	unsigned last_len;
	uint8_t last_data[8];
	uint8_t fill;
};

static void rec_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct recorder *r = opaque;

	r->reads++;
	r->last_offset = offset;
	r->last_len = len;
	memset(data, r->fill, len);
}

static void rec_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct recorder *r = opaque;

	r->writes++;
	r->last_offset = offset;
	r->last_len = len;
	memcpy(r->last_data, data, len);
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct bus_ops write_only_ops = { .write = rec_write };

static void test_register_overlap(void **state)
{
	struct bus bus;
	struct recorder r = { 0 };

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x100, 0x10, "a", &rec_ops, &r), 0);
	assert_int_equal(bus_register(&bus, 0x100, 0x10, "same", &rec_ops, &r), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x10f, 1, "last byte", &rec_ops, &r), -EEXIST);
	assert_int_equal(bus_register(&bus, 0xf0, 0x11, "tail", &rec_ops, &r), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x108, 0x100, "middle", &rec_ops, &r), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x0, 0x1000, "cover", &rec_ops, &r), -EEXIST);
	assert_int_equal(bus_register(&bus, 0x104, 4, "inside", &rec_ops, &r), -EEXIST);
	assert_int_equal(bus.nranges, 1);
}

static void test_register_adjacent(void **state)
{
	struct bus bus;
	struct recorder r = { 0 };

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x100, 0x10, "a", &rec_ops, &r), 0);
	assert_int_equal(bus_register(&bus, 0x110, 0x10, "after", &rec_ops, &r), 0);
	assert_int_equal(bus_register(&bus, 0xf0, 0x10, "before", &rec_ops, &r), 0);
	assert_int_equal(bus.nranges, 3);
	assert_string_equal(bus_find(&bus, 0xff)->name, "before");
	assert_string_equal(bus_find(&bus, 0x100)->name, "a");
	assert_string_equal(bus_find(&bus, 0x10f)->name, "a");
	assert_string_equal(bus_find(&bus, 0x110)->name, "after");
}

static void test_register_invalid(void **state)
{
	struct bus bus;
	struct recorder r = { 0 };

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x100, 0, "empty", &rec_ops, &r), -EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX - 1, 4, "wraps", &rec_ops, &r), -EINVAL);
	assert_int_equal(bus.nranges, 0);
}

static void test_register_full(void **state)
{
	struct bus bus;
	struct recorder r = { 0 };

	(void)state;
	bus_init(&bus, "test");
	for (unsigned i = 0; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_register(&bus, i * 0x10, 8, "r", &rec_ops, &r), 0);
	assert_int_equal(bus_register(&bus, 0x10000, 8, "one too many", &rec_ops, &r), -ENOSPC);
	assert_int_equal(bus.nranges, BUS_MAX_RANGES);
}

static void test_ordering(void **state)
{
	static const uint64_t bases[] = { 0x3f8, 0x60, 0x70, 0x64, 0x500, 0x20, 0xcf8 };
	struct bus bus;
	struct recorder r = { 0 };

	(void)state;
	bus_init(&bus, "test");
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		assert_int_equal(bus_register(&bus, bases[i], 2, "r", &rec_ops, &r), 0);
	assert_int_equal(bus.nranges, 7);
	for (unsigned i = 1; i < bus.nranges; i++)
		assert_true(bus.ranges[i - 1].base < bus.ranges[i].base);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		const struct bus_range *f = bus_find(&bus, bases[i] + 1);

		assert_non_null(f);
		assert_int_equal(f->base, bases[i]);
	}
}

static void test_find(void **state)
{
	struct bus bus;
	struct recorder a = { 0 }, b = { 0 };
	const struct bus_range *f;

	(void)state;
	bus_init(&bus, "test");
	assert_null(bus_find(&bus, 0));
	assert_int_equal(bus_register(&bus, 0x3f8, 8, "com1", &rec_ops, &a), 0);
	assert_int_equal(bus_register(&bus, 0x60, 1, "kbd", &rec_ops, &b), 0);
	f = bus_find(&bus, 0x3fa);
	assert_non_null(f);
	assert_string_equal(f->name, "com1");
	assert_ptr_equal(f->opaque, &a);
	f = bus_find(&bus, 0x60);
	assert_non_null(f);
	assert_ptr_equal(f->opaque, &b);
	assert_null(bus_find(&bus, 0x61));
	assert_null(bus_find(&bus, 0x3f7));
	assert_null(bus_find(&bus, 0x400));
	assert_null(bus_find(&bus, 0));
	assert_null(bus_find(&bus, UINT64_MAX));
}

static void test_dispatch_claimed(void **state)
{
	struct bus bus;
	struct recorder r = { .fill = 0x42 };
	uint8_t data[4] = { 1, 2, 3, 4 };

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, "dev", &rec_ops, &r), 0);
	assert_true(bus_dispatch(&bus, 0x1010, true, data, 4));
	assert_int_equal(r.writes, 1);
	assert_int_equal(r.last_offset, 0x10);
	assert_int_equal(r.last_len, 4);
	assert_memory_equal(r.last_data, data, 4);
	assert_true(bus_dispatch(&bus, 0x10fc, false, data, 4));
	assert_int_equal(r.reads, 1);
	assert_int_equal(r.last_offset, 0xfc);
	assert_int_equal(data[0], 0x42);
	assert_int_equal(data[3], 0x42);
	assert_int_equal(bus.unclaimed, 0);
}

static void test_dispatch_unclaimed(void **state)
{
	struct bus bus;
	struct recorder r = { .fill = 0x42 };
	uint8_t data[8];

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, "dev", &rec_ops, &r), 0);
	memset(data, 0, sizeof(data));
	assert_false(bus_dispatch(&bus, 0x2000, false, data, 8));
	for (int i = 0; i < 8; i++)
		assert_int_equal(data[i], 0xff);
	memset(data, 0, sizeof(data));
	assert_false(bus_dispatch(&bus, 0x2000, true, data, 2));
	assert_int_equal(r.reads + r.writes, 0);
	assert_int_equal(bus.unclaimed, 2);
}

static void test_dispatch_straddling_end(void **state)
{
	struct bus bus;
	struct recorder r = { .fill = 0x42 };
	uint8_t data[4] = { 0 };

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x1000, 0x100, "dev", &rec_ops, &r), 0);
	/* Starts in the last 2 bytes, 4 bytes long: not the device's. */
	assert_false(bus_dispatch(&bus, 0x10fe, false, data, 4));
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[3], 0xff);
	assert_false(bus_dispatch(&bus, 0x10ff, true, data, 2));
	assert_int_equal(r.reads + r.writes, 0);
	assert_int_equal(bus.unclaimed, 2);
	/* Exactly the last byte is still claimed. */
	assert_true(bus_dispatch(&bus, 0x10ff, false, data, 1));
}

static void test_dispatch_no_read_handler(void **state)
{
	struct bus bus;
	struct recorder r = { 0 };
	uint8_t data[2] = { 0, 0 };

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x80, 1, "post", &write_only_ops, &r), 0);
	assert_true(bus_dispatch(&bus, 0x80, false, data, 1));
	assert_int_equal(data[0], 0xff);
	assert_true(bus_dispatch(&bus, 0x80, true, data, 1));
	assert_int_equal(r.writes, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_overlap),
		cmocka_unit_test(test_register_adjacent),
		cmocka_unit_test(test_register_invalid),
		cmocka_unit_test(test_register_full),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_dispatch_claimed),
		cmocka_unit_test(test_dispatch_unclaimed),
		cmocka_unit_test(test_dispatch_straddling_end),
		cmocka_unit_test(test_dispatch_no_read_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
