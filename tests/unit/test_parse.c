// SPDX-License-Identifier: Apache-2.0
/* base/parse: parse_size and parse_u64. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/parse.h"

static uint64_t size_ok(const char *s, unsigned shift)
{
	uint64_t v = 0xdeadbeef;

	assert_int_equal(parse_size(s, shift, &v), 0);
	return v;
}

static void test_size_units(void **state)
{
	(void)state;
	assert_int_equal(size_ok("512b", 20), 512);
	assert_int_equal(size_ok("64k", 20), 64ULL << 10);
	assert_int_equal(size_ok("64K", 20), 64ULL << 10);
	assert_int_equal(size_ok("64KiB", 20), 64ULL << 10);
	assert_int_equal(size_ok("64kb", 20), 64ULL << 10);
	assert_int_equal(size_ok("512M", 0), 512ULL << 20);
	assert_int_equal(size_ok("512MiB", 0), 512ULL << 20);
	assert_int_equal(size_ok("512mb", 0), 512ULL << 20);
	assert_int_equal(size_ok("2G", 0), 2ULL << 30);
	assert_int_equal(size_ok("2gib", 0), 2ULL << 30);
	assert_int_equal(size_ok("3T", 0), 3ULL << 40);
	assert_int_equal(size_ok("1048576K", 20), 1ULL << 30);
}

static void test_size_default_unit(void **state)
{
	(void)state;
	assert_int_equal(size_ok("512", 20), 512ULL << 20);
	assert_int_equal(size_ok("512", 0), 512);
	assert_int_equal(size_ok("4", 30), 4ULL << 30);
	/* An explicit unit wins over the default. */
	assert_int_equal(size_ok("4k", 30), 4096);
	assert_int_equal(size_ok("0", 20), 0);
}

static void test_size_overflow(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(parse_size("18446744073709551616", 0, &v), -ERANGE);
	assert_int_equal(parse_size("99999999999999999999999", 0, &v), -ERANGE);
	/* Fits as a number, overflows once the unit is applied. */
	assert_int_equal(parse_size("17179869184G", 0, &v), -ERANGE);
	assert_int_equal(parse_size("17592186044416", 20, &v), -ERANGE);
	assert_int_equal(parse_size("16777216T", 0, &v), -ERANGE);
	assert_int_equal(v, 42); /* untouched on error */
	/* The largest value that still fits. */
	assert_int_equal(size_ok("17179869183G", 0), 17179869183ULL << 30);
	assert_int_equal(size_ok("18446744073709551615", 0), UINT64_MAX);
}

static void test_size_garbage(void **state)
{
	static const char *const bad[] = {
		"", "M", "12Q", "12 M", " 12", "12M ", "1.5G", "0x10", "12MiBs", "12kk", "abc",
		"12\n",
	};
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_size(bad[i], 20, &v), -EINVAL);
	}
	assert_int_equal(parse_size(NULL, 20, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_size_negative(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(parse_size("-1", 20, &v), -EINVAL);
	assert_int_equal(parse_size("-512M", 20, &v), -EINVAL);
	assert_int_equal(parse_size("+512", 20, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_u64_ok(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("12345", &v), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(parse_u64("0x1f", &v), 0);
	assert_int_equal(v, 0x1f);
	assert_int_equal(parse_u64("0XFF", &v), 0);
	assert_int_equal(v, 0xff);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("0xffffffffffffffff", &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_u64_errors(void **state)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "0x", "abc", "1.0", "4k" };
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_u64(bad[i], &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_u64("0x10000000000000000", &v), -ERANGE);
	assert_int_equal(v, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_units),    cmocka_unit_test(test_size_default_unit),
		cmocka_unit_test(test_size_overflow), cmocka_unit_test(test_size_garbage),
		cmocka_unit_test(test_size_negative), cmocka_unit_test(test_u64_ok),
		cmocka_unit_test(test_u64_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
