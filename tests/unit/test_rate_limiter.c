// SPDX-License-Identifier: Apache-2.0
/*
 * base/rate_limiter: token buckets on an explicit clock (the *_at
 * variants): refill over time, the one-time burst, both buckets agreeing,
 * unlimited buckets, wait_ms, oversize operations, reconfiguration, and
 * values near UINT64_MAX.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/rate_limiter.h"

#define MS 1000000ULL
#define T0 (1000 * MS) /* an arbitrary start time */

static struct rate_limiter_config bw(uint64_t size, uint64_t burst, uint64_t refill_ms)
{
	struct rate_limiter_config c;

	memset(&c, 0, sizeof(c));
	c.bandwidth = (struct rate_bucket_config){ size, burst, refill_ms };
	return c;
}

static void test_unlimited(void **state)
{
	struct rate_limiter_config c;
	struct rate_limiter rl;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_false(rate_limiter_config_active(&c));
	assert_false(rate_limiter_config_active(NULL));
	rate_limiter_init_at(&rl, &c, T0);
	assert_false(rate_limiter_active(&rl));
	for (int i = 0; i < 1000; i++)
		assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, T0));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, UINT64_MAX, T0), 0);
	/* size without refill time, or refill time without size: unlimited too */
	c = bw(100, 0, 0);
	assert_false(rate_limiter_config_active(&c));
	c = bw(0, 50, 100);
	assert_false(rate_limiter_config_active(&c));
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 1000, T0));
	assert_true(rate_limiter_consume_at(&rl, 1000, T0));
	rate_limiter_init_at(&rl, NULL, T0);
	assert_true(rate_limiter_consume_at(&rl, 1, T0));
	assert_int_equal(rl.throttled, 0);
}

static void test_refill_over_time(void **state)
{
	struct rate_limiter_config c = bw(1000, 0, 1000); /* 1 byte per ms */
	struct rate_limiter rl;

	(void)state;
	assert_true(rate_limiter_config_active(&c));
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 1000, T0)); /* starts full */
	assert_false(rate_limiter_consume_at(&rl, 1, T0));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + MS - 1));
	assert_true(rate_limiter_consume_at(&rl, 1, T0 + MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + MS));
	assert_true(rate_limiter_consume_at(&rl, 499, T0 + 500 * MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 500 * MS));
	/* never more than size, however long the pause */
	assert_true(rate_limiter_consume_at(&rl, 1000, T0 + 100000 * MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 100000 * MS));
	assert_int_equal(rl.throttled, 5);
}

static void test_refill_keeps_fractions(void **state)
{
	struct rate_limiter_config c = bw(3, 0, 10); /* 0.3 tokens per ms */
	struct rate_limiter rl;
	unsigned ok = 0;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 3, T0));
	/* polled every ms: the fractions add up instead of being lost */
	for (uint64_t t = 1; t <= 1000; t++)
		if (rate_limiter_consume_at(&rl, 1, T0 + t * MS))
			ok++;
	assert_int_equal(ok, 300);
}

static void test_burst_used_once(void **state)
{
	struct rate_limiter_config c = bw(100, 50, 1000);
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 120, T0)); /* 50 burst + 70 */
	assert_true(rate_limiter_consume_at(&rl, 30, T0));
	assert_false(rate_limiter_consume_at(&rl, 1, T0));
	/* a full refill brings back size, not the burst */
	assert_true(rate_limiter_consume_at(&rl, 100, T0 + 1000 * MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 1000 * MS));
	assert_true(rate_limiter_consume_at(&rl, 100, T0 + 5000 * MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 5000 * MS));
}

static void test_burst_before_budget(void **state)
{
	struct rate_limiter_config c = bw(10, 1000, 1000);
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	for (int i = 0; i < 100; i++)
		assert_true(rate_limiter_consume_at(&rl, 10, T0));
	assert_int_equal(rl.bandwidth.burst_left, 0);
	assert_int_equal(rl.bandwidth.budget, 10);
	assert_true(rate_limiter_consume_at(&rl, 10, T0));
	assert_false(rate_limiter_consume_at(&rl, 1, T0));
}

static void test_both_buckets_agree(void **state)
{
	struct rate_limiter_config c = bw(1000, 0, 1000);
	struct rate_limiter rl;

	(void)state;
	c.ops = (struct rate_bucket_config){ 2, 0, 1000 };
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 10, T0));
	assert_true(rate_limiter_consume_at(&rl, 10, T0));
	/* ops say no: the bytes are not taken */
	assert_false(rate_limiter_consume_at(&rl, 10, T0));
	assert_int_equal(rl.bandwidth.budget, 980);
	assert_int_equal(rl.throttled, 1);

	/* bytes say no: the op is not taken */
	c = bw(100, 0, 1000);
	c.ops = (struct rate_bucket_config){ 10, 0, 1000 };
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 100, T0));
	assert_false(rate_limiter_consume_at(&rl, 1, T0));
	assert_int_equal(rl.ops.budget, 9);
	/* zero bytes still cost an op */
	for (int i = 0; i < 9; i++)
		assert_true(rate_limiter_consume_at(&rl, 0, T0));
	assert_false(rate_limiter_consume_at(&rl, 0, T0));
}

static void test_ops_only(void **state)
{
	struct rate_limiter_config c;
	struct rate_limiter rl;
	unsigned ok = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.ops = (struct rate_bucket_config){ 5, 0, 100 }; /* 50 ops/s */
	rate_limiter_init_at(&rl, &c, T0);
	for (uint64_t t = 0; t < 10000; t++) /* 10 s polled every ms */
		if (rate_limiter_consume_at(&rl, 1 << 20, T0 + t * MS))
			ok++;
	assert_true(ok >= 500 && ok <= 505); /* 5 at the start, then 50 per second */
}

static void test_wait_ms(void **state)
{
	struct rate_limiter_config c = bw(1000, 0, 1000);
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 1000, T0), 0);
	assert_true(rate_limiter_consume_at(&rl, 1000, T0));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 500, T0), 500);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 500, T0 + 200 * MS), 300);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 500, T0 + 499 * MS), 1);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 500, T0 + 499 * MS + 1), 1);
	assert_false(rate_limiter_consume_at(&rl, 500, T0 + 499 * MS + 1));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 500, T0 + 500 * MS), 0);
	assert_true(rate_limiter_consume_at(&rl, 500, T0 + 500 * MS));

	/* fractional rates round up: 3 tokens per 10 ms is 3.34 ms per token */
	c = bw(3, 0, 10);
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 3, T0));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 1, T0), 4);
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 3 * MS));
	assert_true(rate_limiter_consume_at(&rl, 1, T0 + 4 * MS));

	/* the slower bucket decides */
	c = bw(1000, 0, 1000);
	c.ops = (struct rate_bucket_config){ 1, 0, 100 };
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 10, T0));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 10, T0), 100);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 0, T0 + 40 * MS), 60);
	assert_true(rate_limiter_consume_at(&rl, 10, T0 + 100 * MS));
	assert_true(rate_limiter_consume_at(&rl, 0, T0 + 200 * MS) ||
		    rate_limiter_wait_ms_at(&rl, 0, T0 + 200 * MS) >= 1);

	/* wait_ms takes nothing */
	c = bw(10, 0, 10);
	rate_limiter_init_at(&rl, &c, T0);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 10, T0), 0);
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 10, T0), 0);
	assert_true(rate_limiter_consume_at(&rl, 10, T0));
}

/* A request that waits exactly wait_ms() succeeds then, never earlier. */
static void test_wait_ms_is_exact(void **state)
{
	static const uint64_t sizes[] = { 1, 3, 7, 1000, 4096, 65536 };
	static const uint64_t refills[] = { 1, 3, 10, 333, 1000 };
	struct rate_limiter rl;

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizeof(refills) / sizeof(refills[0]); j++) {
			struct rate_limiter_config c = bw(sizes[i], 0, refills[j]);
			uint64_t t = T0, n = sizes[i] / 2 + 1, w;

			rate_limiter_init_at(&rl, &c, t);
			assert_true(rate_limiter_consume_at(&rl, sizes[i], t));
			for (int k = 0; k < 20; k++) {
				w = rate_limiter_wait_ms_at(&rl, n, t);
				assert_true(w >= 1);
				assert_false(w > 1 && rate_limiter_consume_at(&rl, n, t + (w - 1) * MS));
				t += w * MS;
				assert_int_equal(rate_limiter_wait_ms_at(&rl, n, t), 0);
				assert_true(rate_limiter_consume_at(&rl, n, t));
			}
		}
	}
}

static void test_oversize_operation(void **state)
{
	struct rate_limiter_config c = bw(100, 0, 100); /* 1 byte per ms */
	struct rate_limiter rl;
	uint64_t t = T0, sent = 0;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 250, T0)); /* full bucket: passes */
	assert_false(rate_limiter_consume_at(&rl, 1, T0));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 1, T0), 151); /* 150 debt + 1 */
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 150 * MS));
	assert_true(rate_limiter_consume_at(&rl, 1, T0 + 151 * MS));

	/* a second oversize one waits for a full bucket: the rate holds */
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 250, T0));
	assert_int_equal(rate_limiter_wait_ms_at(&rl, 250, T0), 250);
	assert_false(rate_limiter_consume_at(&rl, 250, T0 + 249 * MS));
	assert_true(rate_limiter_consume_at(&rl, 250, T0 + 250 * MS));

	/* over 10 s of back-to-back oversize requests: about 1 byte per ms */
	rate_limiter_init_at(&rl, &c, T0);
	while (t < T0 + 10000 * MS) {
		if (rate_limiter_consume_at(&rl, 300, t))
			sent += 300;
		else
			t += rate_limiter_wait_ms_at(&rl, 300, t) * MS;
	}
	assert_true(sent <= 100 + 10000 + 300);
	assert_true(sent >= 9000);
}

static void test_reconfigure(void **state)
{
	struct rate_limiter_config small = bw(10, 0, 1000), big = bw(1000, 0, 1000);
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init_at(&rl, &small, T0);
	assert_true(rate_limiter_consume_at(&rl, 10, T0));
	assert_false(rate_limiter_consume_at(&rl, 10, T0));
	rate_limiter_reconfigure_at(&rl, &big, T0 + MS);
	assert_int_equal(rl.throttled, 1); /* kept */
	assert_true(rate_limiter_consume_at(&rl, 1000, T0 + MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + MS));
	/* the new rate applies: 1 byte per ms */
	assert_true(rate_limiter_consume_at(&rl, 10, T0 + 11 * MS));
	/* to unlimited and back */
	rate_limiter_reconfigure_at(&rl, NULL, T0 + 12 * MS);
	assert_false(rate_limiter_active(&rl));
	assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, T0 + 12 * MS));
	rate_limiter_reconfigure_at(&rl, &small, T0 + 13 * MS);
	assert_true(rate_limiter_active(&rl));
	assert_true(rate_limiter_consume_at(&rl, 10, T0 + 13 * MS));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 13 * MS));
	assert_int_equal(rl.throttled, 3);
	rate_limiter_init_at(&rl, &small, T0 + 14 * MS);
	assert_int_equal(rl.throttled, 0);
}

/* The real clock: init() and consume() agree with CLOCK_MONOTONIC. */
static void test_real_clock(void **state)
{
	struct rate_limiter_config c = bw(1000, 0, 1000000); /* 1 byte per second */
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init(&rl, &c);
	assert_true(rate_limiter_consume(&rl, 1000));
	assert_false(rate_limiter_consume(&rl, 1));
	assert_true(rate_limiter_wait_ms(&rl, 1) >= 990);
	rate_limiter_reconfigure(&rl, &c);
	assert_true(rate_limiter_consume(&rl, 1000));
}

static void test_huge_values(void **state)
{
	struct rate_limiter_config c = bw(UINT64_MAX, UINT64_MAX, UINT64_MAX);
	struct rate_limiter rl;
	uint64_t w;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, T0)); /* the burst */
	assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, T0)); /* the budget */
	assert_false(rate_limiter_consume_at(&rl, 1, T0));
	w = rate_limiter_wait_ms_at(&rl, 1, T0);
	assert_true(w >= 1);
	assert_true(rate_limiter_consume_at(&rl, 1, T0 + w * MS));
	(void)rate_limiter_consume_at(&rl, 1, UINT64_MAX); /* far future: no wrap, no trap */

	/* a fast huge bucket after a very long time: refill saturates, no wrap */
	c = bw(UINT64_MAX, 0, 1);
	rate_limiter_init_at(&rl, &c, 0);
	assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, 0));
	assert_false(rate_limiter_consume_at(&rl, UINT64_MAX, 0));
	assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, UINT64_MAX));
	assert_int_equal(rl.bandwidth.budget, 0);

	/* huge refill time with a small size: waits are huge, not wrapped */
	c = bw(1, 0, UINT64_MAX / 2);
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 1, T0));
	w = rate_limiter_wait_ms_at(&rl, 1, T0);
	assert_true(w > UINT64_MAX / 4000000);

	/* an oversize request with a debt near UINT64_MAX */
	c = bw(2, 0, 1);
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, UINT64_MAX, T0));
	w = rate_limiter_wait_ms_at(&rl, UINT64_MAX, T0);
	assert_true(w >= UINT64_MAX / 2 / MS);
	assert_false(rate_limiter_consume_at(&rl, 1, T0 + 1000 * MS));
}

static void test_clock_backwards(void **state)
{
	struct rate_limiter_config c = bw(100, 0, 100);
	struct rate_limiter rl;

	(void)state;
	rate_limiter_init_at(&rl, &c, T0);
	assert_true(rate_limiter_consume_at(&rl, 100, T0));
	assert_false(rate_limiter_consume_at(&rl, 1, T0 - 500 * MS));
	assert_false(rate_limiter_consume_at(&rl, 1, 0));
	assert_true(rate_limiter_consume_at(&rl, 10, T0 + 10 * MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_refill_over_time),
		cmocka_unit_test(test_refill_keeps_fractions),
		cmocka_unit_test(test_burst_used_once),
		cmocka_unit_test(test_burst_before_budget),
		cmocka_unit_test(test_both_buckets_agree),
		cmocka_unit_test(test_ops_only),
		cmocka_unit_test(test_wait_ms),
		cmocka_unit_test(test_wait_ms_is_exact),
		cmocka_unit_test(test_oversize_operation),
		cmocka_unit_test(test_reconfigure),
		cmocka_unit_test(test_real_clock),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_clock_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
