// SPDX-License-Identifier: Apache-2.0
/* devices/rtc: the MC146818 model with a fixed host clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devices/rtc.h"

#define INDEX 0x70
#define DATA 0x71

/* 2024-02-29 13:45:56 UTC, a Thursday. */
#define T0 ((time_t)1709214356)

static time_t fake_now;

static time_t now_fn(void)
{
	return fake_now;
}

static int setup(void **state)
{
	struct rtc *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	rtc_init(r);
	r->now = now_fn;
	fake_now = T0;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rtc *r = *state;

	pthread_mutex_destroy(&r->lock);
	free(r);
	return 0;
}

static uint8_t rd(struct rtc *r, uint8_t reg)
{
	rtc_write(r, INDEX, reg);
	return rtc_read(r, DATA);
}

static void wr(struct rtc *r, uint8_t reg, uint8_t v)
{
	rtc_write(r, INDEX, reg);
	rtc_write(r, DATA, v);
}

static void test_bcd(void **state)
{
	struct rtc *r = *state;

	assert_int_equal(rd(r, RTC_SECONDS), 0x56);
	assert_int_equal(rd(r, RTC_MINUTES), 0x45);
	assert_int_equal(rd(r, RTC_HOURS), 0x13);
	assert_int_equal(rd(r, RTC_DAY_OF_WEEK), 0x05);
	assert_int_equal(rd(r, RTC_DAY_OF_MONTH), 0x29);
	assert_int_equal(rd(r, RTC_MONTH), 0x02);
	assert_int_equal(rd(r, RTC_YEAR), 0x24);
	assert_int_equal(rd(r, RTC_CENTURY), 0x20);
}

static void test_binary(void **state)
{
	struct rtc *r = *state;

	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(rd(r, RTC_REG_B), RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(rd(r, RTC_SECONDS), 56);
	assert_int_equal(rd(r, RTC_MINUTES), 45);
	assert_int_equal(rd(r, RTC_HOURS), 13);
	assert_int_equal(rd(r, RTC_DAY_OF_MONTH), 29);
	assert_int_equal(rd(r, RTC_MONTH), 2);
	assert_int_equal(rd(r, RTC_YEAR), 24);
	assert_int_equal(rd(r, RTC_CENTURY), 20);
}

static void test_follows_host_clock(void **state)
{
	struct rtc *r = *state;

	fake_now = T0 + 3;
	assert_int_equal(rd(r, RTC_SECONDS), 0x59);
	fake_now = T0 + 4;
	assert_int_equal(rd(r, RTC_SECONDS), 0x00);
	assert_int_equal(rd(r, RTC_MINUTES), 0x46);
}

static void test_12h(void **state)
{
	struct rtc *r = *state;

	wr(r, RTC_REG_B, 0); /* 12-hour, BCD */
	assert_int_equal(rd(r, RTC_HOURS), 0x81); /* 1 PM */
	fake_now = T0 - 13 * 3600; /* 00:45:56 */
	assert_int_equal(rd(r, RTC_HOURS), 0x12); /* 12 AM */
	fake_now = T0 - 3600; /* 12:45:56 */
	assert_int_equal(rd(r, RTC_HOURS), 0x92); /* 12 PM */
	fake_now = T0 + 10 * 3600; /* 23:45:56 */
	assert_int_equal(rd(r, RTC_HOURS), 0x91); /* 11 PM */
	wr(r, RTC_REG_B, RTC_B_DM_BINARY); /* 12-hour, binary */
	assert_int_equal(rd(r, RTC_HOURS), 0x80 | 11);
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY);
	assert_int_equal(rd(r, RTC_HOURS), 23);
}

static void test_status_registers(void **state)
{
	struct rtc *r = *state;

	assert_int_equal(rd(r, RTC_REG_D), RTC_D_VRT);
	wr(r, RTC_REG_D, 0);
	assert_int_equal(rd(r, RTC_REG_D), RTC_D_VRT); /* read-only */
	assert_int_equal(rd(r, RTC_REG_A), 0x26);
	assert_int_equal(rd(r, RTC_REG_A) & 0x80, 0); /* never update-in-progress */
	wr(r, RTC_REG_A, 0xa6);
	assert_int_equal(rd(r, RTC_REG_A) & 0x80, 0);
	assert_int_equal(rd(r, RTC_REG_C), 0);
}

static void set_time_bcd(struct rtc *r, uint8_t cent, uint8_t year, uint8_t mon, uint8_t day,
			 uint8_t hour, uint8_t min, uint8_t sec)
{
	uint8_t b = rd(r, RTC_REG_B);

	wr(r, RTC_REG_B, b | RTC_B_SET);
	wr(r, RTC_SECONDS, sec);
	wr(r, RTC_MINUTES, min);
	wr(r, RTC_HOURS, hour);
	wr(r, RTC_DAY_OF_MONTH, day);
	wr(r, RTC_MONTH, mon);
	wr(r, RTC_YEAR, year);
	wr(r, RTC_CENTURY, cent);
	wr(r, RTC_REG_B, b & ~RTC_B_SET);
}

static void test_guest_sets_time(void **state)
{
	struct rtc *r = *state;

	set_time_bcd(r, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x58);
	assert_int_equal(r->offset, (time_t)946684798 - T0);
	assert_int_equal(rd(r, RTC_SECONDS), 0x58);
	assert_int_equal(rd(r, RTC_YEAR), 0x99);
	assert_int_equal(rd(r, RTC_CENTURY), 0x19);
	/* Five host seconds later the guest clock crossed into 2000. */
	fake_now = T0 + 5;
	assert_int_equal(rd(r, RTC_SECONDS), 0x03);
	assert_int_equal(rd(r, RTC_MINUTES), 0x00);
	assert_int_equal(rd(r, RTC_HOURS), 0x00);
	assert_int_equal(rd(r, RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(rd(r, RTC_MONTH), 0x01);
	assert_int_equal(rd(r, RTC_YEAR), 0x00);
	assert_int_equal(rd(r, RTC_CENTURY), 0x20);
	assert_int_equal(rd(r, RTC_DAY_OF_WEEK), 0x07); /* Saturday */
}

static void test_set_holds_registers(void **state)
{
	struct rtc *r = *state;

	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_SET);
	/* SET latched the time once; later reads do not update it. */
	fake_now = T0 + 30;
	assert_int_equal(rd(r, RTC_SECONDS), 0x56);
	wr(r, RTC_MINUTES, 0x10);
	assert_int_equal(rd(r, RTC_MINUTES), 0x10);
	assert_int_equal(r->offset, 0); /* not committed yet */
	wr(r, RTC_REG_B, RTC_B_24H);
	/* Committed at host T0+30 as 13:10:56: 35 minutes behind. */
	assert_int_equal(r->offset, -35 * 60 - 30);
	assert_int_equal(rd(r, RTC_MINUTES), 0x10);
}

static void test_set_time_12h_binary(void **state)
{
	struct rtc *r = *state;

	wr(r, RTC_REG_B, RTC_B_DM_BINARY); /* 12-hour binary before setting the clock */
	wr(r, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_SET);
	assert_int_equal(rd(r, RTC_HOURS), 0x80 | 1); /* latched in the new format */
	assert_int_equal(rd(r, RTC_SECONDS), 56);
	wr(r, RTC_HOURS, 0x80 | 2); /* 2 PM */
	wr(r, RTC_REG_B, RTC_B_DM_BINARY);
	assert_int_equal(r->offset, 3600);
	wr(r, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_SET);
	wr(r, RTC_HOURS, 12); /* 12 AM */
	wr(r, RTC_REG_B, RTC_B_DM_BINARY);
	assert_int_equal(r->offset, -13 * 3600);
	wr(r, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_SET);
	wr(r, RTC_HOURS, 0x80 | 12); /* 12 PM */
	wr(r, RTC_REG_B, RTC_B_DM_BINARY);
	assert_int_equal(r->offset, -3600);
	assert_int_equal(rd(r, RTC_HOURS), 0x80 | 12);
}

static void test_guest_nonsense_ignored(void **state)
{
	struct rtc *r = *state;

	set_time_bcd(r, 0x20, 0x24, 0x13, 0x01, 0x00, 0x00, 0x00); /* month 13 */
	assert_int_equal(r->offset, 0);
	set_time_bcd(r, 0x20, 0x24, 0x01, 0x00, 0x00, 0x00, 0x00); /* day 0 */
	assert_int_equal(r->offset, 0);
	set_time_bcd(r, 0x00, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00); /* year 10 AD */
	assert_int_equal(r->offset, 0);
	assert_int_equal(rd(r, RTC_SECONDS), 0x56);
}

static void test_nmi_bit_ignored(void **state)
{
	struct rtc *r = *state;

	rtc_write(r, INDEX, 0x80 | RTC_SECONDS);
	assert_int_equal(rtc_read(r, DATA), 0x56);
	rtc_write(r, INDEX, 0x80 | RTC_REG_D);
	assert_int_equal(rtc_read(r, DATA), RTC_D_VRT);
	wr(r, 0x80 | 0x40, 0x77);
	assert_int_equal(rd(r, 0x40), 0x77);
}

static void test_cmos_ram(void **state)
{
	struct rtc *r = *state;

	assert_int_equal(rtc_read(r, INDEX), 0xff); /* write-only */
	for (uint8_t i = 0x0e; i < 0x80; i++) {
		if (i == RTC_CENTURY)
			continue;
		wr(r, i, (uint8_t)(i ^ 0xa5));
	}
	for (uint8_t i = 0x0e; i < 0x80; i++) {
		if (i == RTC_CENTURY)
			continue;
		assert_int_equal(rd(r, i), (uint8_t)(i ^ 0xa5));
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bcd),
		T(test_binary),
		T(test_follows_host_clock),
		T(test_12h),
		T(test_status_registers),
		T(test_guest_sets_time),
		T(test_set_holds_registers),
		T(test_set_time_12h_binary),
		T(test_guest_nonsense_ignored),
		T(test_nmi_bit_ignored),
		T(test_cmos_ram),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
