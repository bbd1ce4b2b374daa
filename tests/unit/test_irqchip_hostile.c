// SPDX-License-Identifier: Apache-2.0
/*
 * irqchip against a hostile guest: a guest that halts with interrupts off
 * while a periodic timer or a device keeps raising the same vector must
 * not make the LAPIC wake its vCPU for every raise (each wake is a host
 * thread switch), yet every change that can make a vector deliverable
 * still wakes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/lapic.h"

static unsigned irq_notifies;
static uint64_t now_ns = 1000000000ULL;

static void h_notify(void *opaque, enum lapic_event ev, uint8_t vector)
{
	(void)opaque;
	(void)vector;
	if (ev == LAPIC_EV_IRQ)
		irq_notifies++;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeated_vector_notifies_once),
		cmocka_unit_test(test_tpr_unblock_notifies),
		cmocka_unit_test(test_periodic_timer_while_pending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
