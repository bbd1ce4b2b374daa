// SPDX-License-Identifier: Apache-2.0
/* irqchip/pit: the 8254 model, counts and outputs from the time, IRQ0 scheduling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/pit.h"

struct fixture {
	struct pit pit;
	uint64_t now;
	unsigned rises;
	bool level;
	unsigned changes;
};

static uint64_t fx_now(void *opaque)
{
	struct fixture *f = opaque;

	return f->now;
}

static void fx_irq(void *opaque, bool level)
{
	struct fixture *f = opaque;

	if (level && !f->level)
		f->rises++;
	f->level = level;
}

static void fx_changed(void *opaque)
{
	struct fixture *f = opaque;

	f->changes++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pit_ops ops = { .opaque = f, .now_ns = fx_now, .irq = fx_irq, .changed = fx_changed };

	if (!f)
		return -1;
	pit_init(&f->pit, &ops);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pit_destroy(&f->pit);
	free(f);
	return 0;
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
	pit_io_write(&f->pit, port, v);
}

static uint8_t in(struct fixture *f, uint16_t port)
{
	return pit_io_read(&f->pit, port);
}

/* ns at which `ticks` PIT clocks have passed since 0. */
static uint64_t at(uint64_t ticks)
{
	return (ticks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

static uint16_t latch_read(struct fixture *f, unsigned ch)
{
	uint16_t v;

	out(f, 0x43, (uint8_t)(ch << 6));
	v = in(f, (uint16_t)(0x40 + ch));
	v |= (uint16_t)(in(f, (uint16_t)(0x40 + ch)) << 8);
	return v;
}

static void test_mode2_linux_tick(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
	/* setup_pit_timer / init_pit_timer: mode 2, LATCH for HZ=1000. */
	f->now = 0;
	out(f, 0x43, 0x34);
	out(f, 0x40, 1193 & 0xff);
	out(f, 0x40, 1193 >> 8);
	assert_int_equal(pit_next_event_ns(&f->pit), at(1193));
	assert_int_equal(f->changes, 1);
	/* Channel 2 and reads do not move channel 0's next event. */
	out(f, 0x43, 0xb0);
	out(f, 0x42, 5);
	out(f, 0x42, 0);
	(void)in(f, 0x40);
	assert_int_equal(f->changes, 1);
	f->now = 500000; /* 596 clocks */
	assert_int_equal(latch_read(f, 0), 1193 - 596);
	pit_advance(&f->pit, at(1193) - 1);
	assert_int_equal(f->rises, 0);
	pit_advance(&f->pit, at(1193));
	assert_int_equal(f->rises, 1);
	assert_false(f->level); /* a pulse */
	assert_int_equal(pit_next_event_ns(&f->pit), at(2 * 1193));
	/* Late by several periods: one interrupt, the next on the grid. */
	pit_advance(&f->pit, at(5 * 1193 + 10));
	assert_int_equal(f->rises, 2);
	assert_int_equal(pit_next_event_ns(&f->pit), at(6 * 1193));
	/* Count wraps per period. */
	f->now = at(6 * 1193 + 100);
	assert_int_equal(latch_read(f, 0), 1193 - 100);
	/* Output low for the last clock only. */
	out(f, 0x43, 0xc2); /* read-back status, ch0 */
	assert_true(in(f, 0x40) & 0x80);
	f->now = at(7 * 1193 - 1);
	out(f, 0x43, 0xe2);
	assert_false(in(f, 0x40) & 0x80);
}

static void test_mode2_min_interval(void **state)
{
	struct fixture *f = *state;

	f->now = 0;
	out(f, 0x43, 0x14); /* ch0, LSB only, mode 2 */
	out(f, 0x40, 2);
	pit_advance(&f->pit, 1000000);
	assert_int_equal(f->rises, 1);
	assert_true(pit_next_event_ns(&f->pit) >= 1000000 + PIT_MIN_IRQ_NS);
}

static void test_mode0_oneshot(void **state)
{
	struct fixture *f = *state;

	f->now = 1000;
	out(f, 0x43, 0x30); /* ch0, LSB/MSB, mode 0 */
	/* Output low from the control word; null count until loaded. */
	out(f, 0x43, 0xe2);
	assert_int_equal(in(f, 0x40), 0x70); /* out 0, null, rw 3, mode 0 */
	out(f, 0x40, 100);
	out(f, 0x40, 0);
	out(f, 0x43, 0xe2);
	assert_int_equal(in(f, 0x40), 0x30);
	assert_int_equal(pit_next_event_ns(&f->pit), 1000 + at(100));
	f->now = 1000 + at(40);
	assert_int_equal(latch_read(f, 0), 60);
	pit_advance(&f->pit, 1000 + at(100));
	assert_int_equal(f->rises, 1);
	assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
	pit_advance(&f->pit, 1000 + at(100000));
	assert_int_equal(f->rises, 1);
	f->now = 1000 + at(101);
	out(f, 0x43, 0xe2);
	assert_int_equal(in(f, 0x40), 0xb0); /* output high */
	/* The counter keeps counting down through 0. */
	assert_int_equal(latch_read(f, 0), 0xffff);
	/* Writing the LSB stops a mode 0 count, the MSB restarts it. */
	out(f, 0x40, 50);
	assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
	out(f, 0x40, 0);
	assert_int_equal(pit_next_event_ns(&f->pit), f->now + at(50));
}

static void test_mode4_strobe(void **state)
{
	struct fixture *f = *state;

	f->now = 0;
	out(f, 0x43, 0x38); /* ch0, mode 4 */
	out(f, 0x40, 10);
	out(f, 0x40, 0);
	assert_int_equal(pit_next_event_ns(&f->pit), at(11));
	f->now = at(10);
	out(f, 0x43, 0xe2);
	assert_false(in(f, 0x40) & 0x80);
	f->now = at(11);
	out(f, 0x43, 0xe2);
	assert_true(in(f, 0x40) & 0x80);
	pit_advance(&f->pit, at(11));
	assert_int_equal(f->rises, 1);
	assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
}

static void test_mode3_square_wave(void **state)
{
	struct fixture *f = *state;

	/* Channel 2, gate on, mode 3, count 1000. */
	f->now = 0;
	out(f, 0x61, 0x01);
	out(f, 0x43, 0xb6);
	out(f, 0x42, 1000 & 0xff);
	out(f, 0x42, 1000 >> 8);
	f->now = at(100);
	assert_true(in(f, 0x61) & 0x20);
	assert_int_equal(latch_read(f, 2), 1000 - 200);
	f->now = at(499);
	assert_true(in(f, 0x61) & 0x20);
	f->now = at(500);
	assert_false(in(f, 0x61) & 0x20);
	assert_int_equal(latch_read(f, 2), 1000);
	f->now = at(999);
	assert_false(in(f, 0x61) & 0x20);
	f->now = at(1000);
	assert_true(in(f, 0x61) & 0x20);
	/* Gate low: output high, counting stops; rising gate restarts. */
	f->now = at(1600);
	out(f, 0x61, 0x00);
	assert_true(in(f, 0x61) & 0x20);
	f->now = at(5000);
	out(f, 0x61, 0x01);
	f->now = at(5000 + 600);
	assert_false(in(f, 0x61) & 0x20);
	/* Channel 2 never interrupts. */
	assert_int_equal(pit_next_event_ns(&f->pit), UINT64_MAX);
}

static void test_tsc_calibration_ch2(void **state)
{
	struct fixture *f = *state;
	uint16_t latch = (uint16_t)(PIT_HZ / 20); /* 50 ms, pit_calibrate_tsc */

	f->now = 123456;
	out(f, 0x61, (uint8_t)((in(f, 0x61) & ~0x02) | 0x01));
	out(f, 0x43, 0xb0); /* ch2, LSB/MSB, mode 0 */
	out(f, 0x42, latch & 0xff);
	out(f, 0x42, latch >> 8);
	assert_false(in(f, 0x61) & 0x20);
	f->now = 123456 + at(latch) - 1;
	assert_false(in(f, 0x61) & 0x20);
	f->now = 123456 + at(latch);
	assert_true(in(f, 0x61) & 0x20);
	/* The bits of port 0x61 as written; bit 4 toggles with time. */
	assert_int_equal(in(f, 0x61) & 0x0f, 0x01);
	f->now = 0;
	uint8_t r0 = in(f, 0x61) & 0x10;
	f->now = 15085;
	assert_int_not_equal(in(f, 0x61) & 0x10, r0);
}

static void test_quick_calibrate_reads(void **state)
{
	struct fixture *f = *state;

	/* quick_pit_calibrate: count 0xffff, then LSB/MSB pairs read live. */
	f->now = 0;
	out(f, 0x61, 0x01);
	out(f, 0x43, 0xb0);
	out(f, 0x42, 0xff);
	out(f, 0x42, 0xff);
	f->now = at(0x100);
	assert_int_equal(in(f, 0x42), 0xff);
	assert_int_equal(in(f, 0x42), 0xfe);
	f->now = at(0x1000);
	assert_int_equal(in(f, 0x42), 0xff);
	assert_int_equal(in(f, 0x42), 0xef);
	/* Gate low pauses a mode 0 count. */
	out(f, 0x61, 0x00);
	f->now = at(0x8000);
	assert_int_equal(latch_read(f, 2), 0xffff - 0x1000);
	out(f, 0x61, 0x01);
	f->now = at(0x8000 + 0x10);
	assert_int_equal(latch_read(f, 2), 0xffff - 0x1010);
}

static void test_access_modes_and_latch(void **state)
{
	struct fixture *f = *state;

	f->now = 0;
	/* MSB only. */
	out(f, 0x43, 0x64); /* ch1, MSB, mode 2 */
	out(f, 0x41, 0x12);
	f->now = at(0x100);
	assert_int_equal(in(f, 0x41), 0x11);
	/* A latch holds its value until read, later latches are ignored. */
	out(f, 0x43, 0x40);
	f->now = at(0x200);
	out(f, 0x43, 0x40);
	assert_int_equal(in(f, 0x41), 0x11);
	assert_int_equal(in(f, 0x41), 0x10); /* live again */
	/* LSB only, count 0 = 65536 (reads 0). */
	out(f, 0x43, 0x14);
	out(f, 0x40, 0);
	assert_int_equal(in(f, 0x40), 0);
	/* Read-back of two channels: status then count. */
	f->now = at(0x200);
	out(f, 0x43, 0x34);
	out(f, 0x40, 0x00);
	out(f, 0x40, 0x10);
	out(f, 0x43, 0xc6); /* count and status, ch0 and ch1 */
	assert_int_equal(in(f, 0x40), 0xb4); /* output high, LSB/MSB, mode 2 */
	assert_int_equal(in(f, 0x40), 0x00);
	assert_int_equal(in(f, 0x40), 0x10);
	assert_int_equal(in(f, 0x41) & 0x3f, 0x24); /* MSB, mode 2 */
	/* Port 0x43 reads nothing; unknown ports ignore writes. */
	assert_int_equal(in(f, 0x43), 0xff);
	out(f, 0x44, 0);
	/* Modes 6 and 7 are 2 and 3. */
	out(f, 0x43, 0x3e);
	out(f, 0x43, 0xe2);
	assert_int_equal(in(f, 0x40) & 0x0e, 3 << 1);
}

static void test_save_restore(void **state)
{
	struct fixture *f = *state;
	struct pit_snap snap;
	struct pit r;
	struct pit_ops ops = { .opaque = f, .now_ns = fx_now, .irq = fx_irq };

	f->now = 1000;
	out(f, 0x43, 0x34);
	out(f, 0x40, 1193 & 0xff);
	out(f, 0x40, 1193 >> 8);
	f->now = 1000 + at(100);
	pit_save(&f->pit, &snap);
	f->now = 50000000;
	pit_init(&r, &ops);
	pit_restore(&r, &snap);
	pit_io_write(&r, 0x43, 0x00);
	uint16_t v = pit_io_read(&r, 0x40);
	v |= (uint16_t)(pit_io_read(&r, 0x40) << 8);
	assert_int_equal(v, 1193 - 100);
	assert_true(pit_next_event_ns(&r) > f->now);
	assert_true(pit_next_event_ns(&r) <= f->now + at(1093) + 1);
	memset(&snap, 0xff, sizeof(snap));
	pit_restore(&r, &snap);
	assert_true(r.ch[0].reload >= 1 && r.ch[0].reload <= 65536);
	assert_true(r.ch[0].mode <= 5);
	pit_advance(&r, f->now + 1000000);
	(void)pit_io_read(&r, 0x40);
	pit_destroy(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mode2_linux_tick),    T(test_mode2_min_interval),
		T(test_mode0_oneshot),	     T(test_mode4_strobe),
		T(test_mode3_square_wave),   T(test_tsc_calibration_ch2),
		T(test_quick_calibrate_reads), T(test_access_modes_and_latch),
		T(test_save_restore),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
