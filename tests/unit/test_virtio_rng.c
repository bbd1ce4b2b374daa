// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/rng: the device over hand-built rings: buffers are filled (at
 * most 64 KiB per request), and a rate limit delays requests without
 * losing any and holds the configured throughput.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/metrics.h"
#include "base/rate_limiter.h"
#include "virtio/rng.h"
#include "virtio_driver.h"

#define RAM (1 << 20)
#define BUF 0x40000ULL

static struct vdrv *rng_start(const struct rate_limiter_config *rl)
{
	void *r = virtio_rng_alloc(rl);
	struct vdrv *v;

	assert_non_null(r);
	v = vd_new(&virtio_rng_ops, r, RAM);
	assert_non_null(v);
	assert_true(vd_setup(v, 0, 1, true) & VIRTIO_STATUS_DRIVER_OK);
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_fill_and_cap(void **state)
{
	struct vdrv *v = rng_start(NULL);
	uint32_t len;
	uint8_t *b;

	(void)state;
	b = vd_ptr(v, BUF, 0x20000);
	memset(b, 0, 0x20000);
	vd_add1(v, 0, BUF, 256, true);
	vd_add1(v, 0, BUF + 0x1000, 0x18000, true); /* 96 KiB: gets 64 KiB */
	vd_kick(v, 0);
	assert_int_equal(vd_used(v, 0, &len), 0);
	assert_int_equal(len, 256);
	assert_false(all_zero(b, 256));
	assert_int_equal(vd_used(v, 0, &len), 1);
	assert_int_equal(len, VIRTIO_RNG_MAX_PER_REQUEST);
	assert_true(all_zero(b + 0x1000 + VIRTIO_RNG_MAX_PER_REQUEST, 0x8000));
	assert_int_equal(virtio_rng_get_metrics(&v->d)->entropy_bytes,
			 256 + VIRTIO_RNG_MAX_PER_REQUEST);
	assert_int_equal(virtio_rng_get_metrics(&v->d)->requests, 2);
	vd_free(v);
}

/* 4 KiB per 40 ms: six 2 KiB requests take >= 80 ms; none is lost. */
static void test_rate_limit(void **state)
{
	struct rate_limiter_config rl = { .bandwidth = { .size = 4096, .refill_time_ms = 40 } };
	struct vdrv *v = rng_start(&rl);
	const struct virtio_rng_metrics *m = virtio_rng_get_metrics(&v->d);
	unsigned done = 0;
	uint64_t t0, dt;
	uint32_t len;
	char *line;

	(void)state;
	for (unsigned i = 0; i < 6; i++)
		vd_add1(v, 0, BUF + 0x1000ULL * i, 2048, true);
	t0 = vd_now_ms();
	vd_kick(v, 0);
	while (vd_used(v, 0, &len) >= 0) {
		assert_int_equal(len, 2048);
		done++;
	}
	assert_int_equal(done, 2);
	assert_true(virtio_dev_throttled(&v->d, 0));
	while (done < 6) {
		assert_true(vd_wait_throttle(v, 1000));
		while (vd_used(v, 0, &len) >= 0) {
			assert_int_equal(len, 2048);
			done++;
		}
	}
	dt = vd_now_ms() - t0;
	assert_true(dt >= 80 - 5);
	assert_int_equal(m->entropy_bytes, 6 * 2048);
	assert_true(m->rate_limiter_throttled >= 2);
	line = metrics_render();
	assert_non_null(strstr(line, "\"entropy\":{\"requests\":6,\"entropy_bytes\":12288,"));
	free(line);
	vd_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_cap),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
