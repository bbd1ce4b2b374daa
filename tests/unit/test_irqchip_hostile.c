// SPDX-License-Identifier: Apache-2.0
/*
 * irqchip against a hostile guest: a guest that halts with interrupts off
 * while a periodic timer or a device keeps raising the same vector must
 * not make the LAPIC wake its vCPU for every raise (each wake is a host
 * thread switch), yet every change that can make a vector deliverable
 * still wakes it; and the timer thread need not wake for ticks that
 * change nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/lapic.h"
#include "irqchip/pvclock.h"
#include "hw/memory.h"

static unsigned irq_notifies, timer_notifies;
static uint64_t now_ns = 1000000000ULL;

static void h_notify(void *opaque, enum lapic_event ev, uint8_t vector)
{
	(void)opaque;
	(void)vector;
	if (ev == LAPIC_EV_IRQ)
		irq_notifies++;
	else if (ev == LAPIC_EV_TIMER)
		timer_notifies++;
}

static uint64_t h_now(void *opaque)
{
	(void)opaque;
	return now_ns;
}

static void enabled_lapic(struct lapic *l)
{
	struct lapic_ops ops = { .now_ns = h_now, .notify = h_notify };

	lapic_init(l, 0, true, false, &ops);
	lapic_mmio_write(l, 0xf0, 0x1ff); /* SVR: software enabled */
	irq_notifies = 0;
}

static void test_repeated_vector_notifies_once(void **state)
{
	struct lapic l;

	(void)state;
	enabled_lapic(&l);
	lapic_accept_irq(&l, 0x40, false);
	assert_int_equal(irq_notifies, 1);
	/* Raised again before the CPU took it (interrupts off): nothing new. */
	for (int i = 0; i < 100; i++)
		lapic_accept_irq(&l, 0x40, false);
	assert_int_equal(irq_notifies, 1);
	/* Another vector is news. */
	lapic_accept_irq(&l, 0x50, false);
	assert_int_equal(irq_notifies, 2);
	/* Taken (IRR -> ISR); raised again, it waits for the EOI (same class in service). */
	assert_int_equal(lapic_ack(&l), 0x50);
	assert_int_equal(lapic_ack(&l), -1); /* 0x40 is below 0x50 in service */
	lapic_accept_irq(&l, 0x50, false);
	assert_int_equal(irq_notifies, 2);
	/* The EOI that unblocks the pending vectors tells the CPU. */
	lapic_mmio_write(&l, 0xb0, 0);
	assert_int_equal(irq_notifies, 3);
	assert_int_equal(lapic_ack(&l), 0x50);
	lapic_mmio_write(&l, 0xb0, 0);
	assert_int_equal(irq_notifies, 4); /* 0x40 now */
	assert_int_equal(lapic_ack(&l), 0x40);
	lapic_destroy(&l);
}

static void test_tpr_unblock_notifies(void **state)
{
	struct lapic l;

	(void)state;
	enabled_lapic(&l);
	lapic_mmio_write(&l, 0x80, 0xf0); /* TPR blocks everything */
	lapic_accept_irq(&l, 0x40, false);
	lapic_accept_irq(&l, 0x40, false);
	assert_int_equal(irq_notifies, 0);
	assert_int_equal(lapic_ack(&l), -1);
	lapic_mmio_write(&l, 0x80, 0); /* unblocked: told now */
	assert_int_equal(irq_notifies, 1);
	assert_int_equal(lapic_ack(&l), 0x40);
	lapic_destroy(&l);
}

static void test_periodic_timer_while_pending(void **state)
{
	struct lapic l;

	(void)state;
	enabled_lapic(&l);
	lapic_mmio_write(&l, 0x3e0, 0xb);	 /* divide by 1 */
	lapic_mmio_write(&l, 0x320, 0x20040);	 /* periodic, vector 0x40 */
	lapic_mmio_write(&l, 0x380, 1);	 /* count 1: clamped period */
	irq_notifies = 0;
	/* A guest with interrupts off never takes it: one wake, not 1000. */
	for (int i = 0; i < 1000; i++) {
		now_ns += LAPIC_MIN_PERIOD_NS;
		lapic_timer_advance(&l, now_ns);
	}
	assert_int_equal(irq_notifies, 1);
	assert_int_equal(lapic_ack(&l), 0x40);
	lapic_mmio_write(&l, 0xb0, 0);
	now_ns += LAPIC_MIN_PERIOD_NS;
	lapic_timer_advance(&l, now_ns);
	assert_int_equal(irq_notifies, 2);
	lapic_destroy(&l);
}

static void test_idle_periodic_timer_sleeps(void **state)
{
	struct lapic l;
	uint64_t t0, next;

	(void)state;
	enabled_lapic(&l);
	now_ns = 1000000000ULL;
	t0 = now_ns;
	lapic_mmio_write(&l, 0x3e0, 0xb);
	lapic_mmio_write(&l, 0x320, 0x20040); /* periodic, vector 0x40 */
	lapic_mmio_write(&l, 0x380, 1);	      /* 100 us */
	assert_int_equal(lapic_next_timer_event_ns(&l), t0 + LAPIC_MIN_PERIOD_NS);
	/* The first tick: pending and not taken, the timer thread may sleep. */
	now_ns = t0 + LAPIC_MIN_PERIOD_NS;
	lapic_timer_advance(&l, now_ns);
	assert_int_equal(lapic_pending_vector(&l), 0x40);
	assert_int_equal(lapic_next_timer_event_ns(&l), UINT64_MAX);
	/* The register view is unchanged (the next tick on the grid). */
	assert_int_equal(lapic_next_timer_ns(&l), t0 + 2 * LAPIC_MIN_PERIOD_NS);
	/* Taken 3.5 periods later: the merged ticks are gone, the next is on the grid. */
	now_ns = t0 + 45 * LAPIC_MIN_PERIOD_NS / 10;
	assert_int_equal(lapic_ack(&l), 0x40);
	next = lapic_next_timer_event_ns(&l);
	assert_int_equal(next, t0 + 5 * LAPIC_MIN_PERIOD_NS);
	lapic_mmio_write(&l, 0xb0, 0);
	lapic_timer_advance(&l, next - 1);
	assert_int_equal(lapic_pending_vector(&l), -1);
	now_ns = next;
	lapic_timer_advance(&l, next);
	assert_int_equal(lapic_pending_vector(&l), 0x40);
	/* Masked: asleep; unmasked later: on the grid after now. */
	lapic_ack(&l);
	lapic_mmio_write(&l, 0xb0, 0);
	lapic_mmio_write(&l, 0x320, 0x30040);
	assert_int_equal(lapic_next_timer_event_ns(&l), UINT64_MAX);
	now_ns = next + 75 * LAPIC_MIN_PERIOD_NS / 10;
	lapic_mmio_write(&l, 0x320, 0x20040);
	assert_int_equal(lapic_next_timer_event_ns(&l), next + 8 * LAPIC_MIN_PERIOD_NS);
	lapic_destroy(&l);
}

static void test_periodic_timer_taken_keeps_pace(void **state)
{
	struct lapic l;
	uint64_t t0;

	(void)state;
	enabled_lapic(&l);
	now_ns = 2000000000ULL;
	t0 = now_ns;
	lapic_mmio_write(&l, 0x3e0, 0xb);
	lapic_mmio_write(&l, 0x320, 0x20040);
	lapic_mmio_write(&l, 0x380, 1000000); /* 1 ms */
	timer_notifies = 0;
	/* A timer thread and a guest that takes every tick promptly: 100 ticks in 100 ms. */
	for (unsigned i = 1; i <= 100; i++) {
		uint64_t next = lapic_next_timer_event_ns(&l);
		unsigned before = timer_notifies;

		assert_int_equal(next, t0 + i * 1000000ULL);
		now_ns = next;
		lapic_timer_advance(&l, now_ns);
		/* Not taken yet: the thread sleeps until the ack tells it. */
		assert_int_equal(lapic_next_timer_event_ns(&l), UINT64_MAX);
		now_ns += 20000;
		assert_int_equal(lapic_ack(&l), 0x40);
		assert_int_equal(timer_notifies, before + 1);
		lapic_mmio_write(&l, 0xb0, 0);
	}
	lapic_destroy(&l);
}

/* ---- kvmclock writes report themselves (decoded code of the page goes stale) ---- */

static uint64_t written_gpa, written_len;
static unsigned written_calls;

static void on_written(void *opaque, gpa_t gpa, uint64_t len)
{
	(void)opaque;
	written_gpa = gpa;
	written_len = len;
	written_calls++;
}

static void test_pvclock_reports_writes(void **state)
{
	struct guest_mem mem;

	(void)state;
	assert_int_equal(guest_mem_init(&mem, 1 << 20), 0);
	mem.written = on_written;
	assert_int_equal(pvclock_write_time_info(&mem, 0x3004, 1, 2, 0), 0);
	assert_int_equal(written_calls, 1);
	assert_int_equal(written_gpa, 0x3004);
	assert_int_equal(written_len, sizeof(struct pvclock_vcpu_time_info));
	assert_int_equal(pvclock_write_wall_clock(&mem, 0x5000, 123), 0);
	assert_int_equal(written_calls, 2);
	assert_int_equal(written_gpa, 0x5000);
	assert_int_equal(written_len, sizeof(struct pvclock_wall_clock));
	/* Refused writes report nothing. */
	assert_int_equal(pvclock_write_time_info(&mem, 1 << 20, 1, 2, 0), -EFAULT);
	assert_int_equal(pvclock_write_wall_clock(&mem, 0xfee00000, 1), -EFAULT);
	assert_int_equal(written_calls, 2);
	mem.written = NULL;
	guest_mem_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeated_vector_notifies_once),
		cmocka_unit_test(test_tpr_unblock_notifies),
		cmocka_unit_test(test_periodic_timer_while_pending),
		cmocka_unit_test(test_idle_periodic_timer_sleeps),
		cmocka_unit_test(test_periodic_timer_taken_keeps_pace),
		cmocka_unit_test(test_pvclock_reports_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
