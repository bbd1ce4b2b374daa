// SPDX-License-Identifier: Apache-2.0
/* irqchip/lapic: the local APIC register model, timer and IPI routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "irqchip/lapic.h"

#define NCPU 4

struct fixture;

struct cpu {
	struct fixture *f;
	unsigned idx;
	unsigned nmi, init, sipi, extint, irq, timer;
	uint8_t sipi_vector;
	int eoi_vector;
	unsigned eois;
};

struct fixture {
	uint64_t now;
	struct lapic apic[NCPU];
	struct lapic *ptrs[NCPU];
	struct cpu cpu[NCPU];
	unsigned ipis;
	struct lapic_msg last_ipi;
};

static uint64_t fx_now(void *opaque)
{
	struct cpu *c = opaque;

	return c->f->now;
}

static void fx_send_ipi(void *opaque, const struct lapic_msg *msg)
{
	struct cpu *c = opaque;

	c->f->ipis++;
	c->f->last_ipi = *msg;
	lapic_route(c->f->ptrs, NCPU, msg);
}

static void fx_eoi(void *opaque, uint8_t vector)
{
	struct cpu *c = opaque;

	c->eoi_vector = vector;
	c->eois++;
}

static void fx_notify(void *opaque, enum lapic_event ev, uint8_t vector)
{
	struct cpu *c = opaque;

	switch (ev) {
	case LAPIC_EV_IRQ:
		c->irq++;
		break;
	case LAPIC_EV_NMI:
		c->nmi++;
		break;
	case LAPIC_EV_INIT:
		c->init++;
		break;
	case LAPIC_EV_SIPI:
		c->sipi++;
		c->sipi_vector = vector;
		break;
	case LAPIC_EV_EXTINT:
		c->extint++;
		break;
	case LAPIC_EV_TIMER:
		c->timer++;
		break;
	}
}

static int setup_common(void **state, bool x2)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->now = 1000;
	for (unsigned i = 0; i < NCPU; i++) {
		struct lapic_ops ops = {
			.opaque = &f->cpu[i],
			.now_ns = fx_now,
			.send_ipi = fx_send_ipi,
			.eoi = fx_eoi,
			.notify = fx_notify,
		};

		f->cpu[i].f = f;
		f->cpu[i].idx = i;
		f->cpu[i].eoi_vector = -1;
		lapic_init(&f->apic[i], i, i == 0, x2, &ops);
		f->ptrs[i] = &f->apic[i];
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, true);
}

static int setup_nox2(void **state)
{
	return setup_common(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < NCPU; i++)
		lapic_destroy(&f->apic[i]);
	free(f);
	return 0;
}

static void enable(struct lapic *l)
{
	lapic_mmio_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xff);
}

static bool irr_bit(struct lapic *l, uint8_t v)
{
	return lapic_mmio_read(l, APIC_IRR + (v / 32) * 16) & (1u << (v % 32));
}

static bool isr_bit(struct lapic *l, uint8_t v)
{
	return lapic_mmio_read(l, APIC_ISR + (v / 32) * 16) & (1u << (v % 32));
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[1];
	uint64_t base;

	assert_int_equal(lapic_mmio_read(l, APIC_ID), 1u << 24);
	assert_int_equal(lapic_mmio_read(l, APIC_LVR), 0x50014);
	assert_int_equal(lapic_mmio_read(l, APIC_SVR), 0xff);
	assert_int_equal(lapic_mmio_read(l, APIC_DFR), 0xffffffffu);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_TIMER), APIC_LVT_MASKED);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_LINT0), APIC_LVT_MASKED);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_ERROR), APIC_LVT_MASKED);
	assert_true(lapic_msr_read(l, LAPIC_MSR_APIC_BASE, &base));
	assert_int_equal(base, 0xfee00000ULL | LAPIC_BASE_EN);
	assert_true(lapic_msr_read(&f->apic[0], LAPIC_MSR_APIC_BASE, &base));
	assert_int_equal(base, 0xfee00000ULL | LAPIC_BASE_EN | LAPIC_BASE_BSP);
	assert_int_equal(lapic_base_addr(l), 0xfee00000ULL);
	assert_true(lapic_mmio_enabled(l));
	/* Not a register, misaligned: reads 0. */
	assert_int_equal(lapic_mmio_read(l, 0x24), 0);
	assert_int_equal(lapic_mmio_read(l, 0x400), 0);
	/* x2APIC MSRs do not exist in xAPIC mode. */
	uint64_t v;
	assert_false(lapic_msr_read(l, 0x802, &v));
	assert_int_equal(lapic_pending_vector(l), -1);
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
}

static void test_writable_bits(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	lapic_mmio_write(l, APIC_ID, 0x05ffffff);
	assert_int_equal(lapic_mmio_read(l, APIC_ID), 0x05000000);
	lapic_mmio_write(l, APIC_LVR, 0);
	assert_int_equal(lapic_mmio_read(l, APIC_LVR), 0x50014);
	lapic_mmio_write(l, APIC_TPR, 0x1234);
	assert_int_equal(lapic_mmio_read(l, APIC_TPR), 0x34);
	assert_int_equal(lapic_get_tpr(l), 0x34);
	lapic_mmio_write(l, APIC_DFR, 0x0);
	assert_int_equal(lapic_mmio_read(l, APIC_DFR), 0x0fffffff);
	lapic_mmio_write(l, APIC_LDR, 0x12345678);
	assert_int_equal(lapic_mmio_read(l, APIC_LDR), 0x12000000);
	/* Software disabled: LVTs stay masked. */
	lapic_mmio_write(l, APIC_LVT_LINT0, 0x700);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_LINT0), 0x10700);
	enable(l);
	lapic_mmio_write(l, APIC_LVT_LINT0, 0xffffffff);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_LINT0), 0x1a7ff);
	lapic_mmio_write(l, APIC_LVT_TIMER, 0xffffffff);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_TIMER), 0x700ff);
	lapic_mmio_write(l, APIC_LVT_ERROR, 0xffffffff);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_ERROR), 0x100ff);
	lapic_mmio_write(l, APIC_TDCR, 0xff);
	assert_int_equal(lapic_mmio_read(l, APIC_TDCR), 0xb);
	/* Disabling masks every LVT. */
	lapic_mmio_write(l, APIC_LVT_LINT0, 0x700);
	lapic_mmio_write(l, APIC_SVR, 0xff);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_LINT0), 0x10700);
}

static void test_priority_ack_eoi(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];
	struct cpu *c = &f->cpu[0];

	/* Software disabled: fixed interrupts are dropped. */
	lapic_accept_irq(l, 0x30, false);
	assert_false(irr_bit(l, 0x30));
	enable(l);
	lapic_accept_irq(l, 0x30, false);
	lapic_accept_irq(l, 0x50, false);
	assert_true(c->irq > 0);
	assert_true(irr_bit(l, 0x30));
	assert_int_equal(lapic_pending_vector(l), 0x50);
	assert_int_equal(lapic_ack(l), 0x50);
	assert_true(isr_bit(l, 0x50));
	assert_false(irr_bit(l, 0x50));
	assert_int_equal(lapic_mmio_read(l, APIC_PPR), 0x50);
	/* 0x30 is below the in-service class, 0x55 in the same class. */
	assert_int_equal(lapic_pending_vector(l), -1);
	lapic_accept_irq(l, 0x55, false);
	assert_int_equal(lapic_pending_vector(l), -1);
	lapic_accept_irq(l, 0x61, false);
	assert_int_equal(lapic_pending_vector(l), 0x61);
	assert_int_equal(lapic_ack(l), 0x61);
	assert_int_equal(lapic_ack(l), -1);
	/* EOI retires the highest in-service vector first. */
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_false(isr_bit(l, 0x61));
	assert_true(isr_bit(l, 0x50));
	assert_int_equal(lapic_pending_vector(l), -1);
	unsigned before = c->irq;
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_true(c->irq > before);
	assert_int_equal(lapic_pending_vector(l), 0x55);
	assert_int_equal(lapic_ack(l), 0x55);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(lapic_ack(l), 0x30);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(lapic_mmio_read(l, APIC_PPR), 0);
	assert_int_equal(c->eois, 0); /* all edge */
	/* EOI with nothing in service is harmless. */
	lapic_mmio_write(l, APIC_EOI, 0);
}

static void test_tpr(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	enable(l);
	lapic_set_tpr(l, 0x40);
	assert_int_equal(lapic_mmio_read(l, APIC_PPR), 0x40);
	lapic_accept_irq(l, 0x35, false);
	lapic_accept_irq(l, 0x45, false);
	assert_int_equal(lapic_pending_vector(l), -1);
	lapic_accept_irq(l, 0x51, false);
	assert_int_equal(lapic_pending_vector(l), 0x51);
	assert_int_equal(lapic_ack(l), 0x51);
	/* PPR follows the in-service class above the TPR. */
	assert_int_equal(lapic_mmio_read(l, APIC_PPR), 0x50);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(lapic_mmio_read(l, APIC_PPR), 0x40);
	unsigned before = f->cpu[0].irq;
	lapic_set_tpr(l, 0);
	assert_true(f->cpu[0].irq > before);
	assert_int_equal(lapic_pending_vector(l), 0x45);
}

static void test_level_eoi_broadcast(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];
	struct cpu *c = &f->cpu[0];

	enable(l);
	lapic_accept_irq(l, 0x40, true);
	assert_true(lapic_mmio_read(l, APIC_TMR + 0x20) & 1);
	assert_int_equal(lapic_ack(l), 0x40);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(c->eois, 1);
	assert_int_equal(c->eoi_vector, 0x40);
	/* The same vector edge-triggered clears TMR: no broadcast. */
	lapic_accept_irq(l, 0x40, false);
	assert_false(lapic_mmio_read(l, APIC_TMR + 0x20) & 1);
	assert_int_equal(lapic_ack(l), 0x40);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(c->eois, 1);
}

static void test_timer_oneshot(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	enable(l);
	lapic_mmio_write(l, APIC_TDCR, 0x3); /* divide by 16 */
	lapic_mmio_write(l, APIC_LVT_TIMER, 0xec);
	f->now = 1000;
	unsigned t0 = f->cpu[0].timer;
	lapic_mmio_write(l, APIC_TMICT, 1000);
	assert_true(f->cpu[0].timer > t0);
	assert_int_equal(lapic_next_timer_ns(l), 1000 + 16000);
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 1000);
	f->now = 9000;
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 500);
	lapic_timer_advance(l, 16999);
	assert_false(irr_bit(l, 0xec));
	lapic_timer_advance(l, 17000);
	assert_true(irr_bit(l, 0xec));
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
	f->now = 17000;
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 0);
	assert_int_equal(lapic_mmio_read(l, APIC_TMICT), 1000);
	assert_int_equal(lapic_ack(l), 0xec);
	lapic_mmio_write(l, APIC_EOI, 0);
	/* Does not fire twice. */
	lapic_timer_advance(l, 100000);
	assert_false(irr_bit(l, 0xec));
	/* Writing 0 stops a running timer. */
	lapic_mmio_write(l, APIC_TMICT, 50);
	assert_int_equal(lapic_next_timer_ns(l), 17000 + 800);
	lapic_mmio_write(l, APIC_TMICT, 0);
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
	/* Divide by 1 (0xb) and 128 (0xa). */
	lapic_mmio_write(l, APIC_TDCR, 0xb);
	lapic_mmio_write(l, APIC_TMICT, 7);
	assert_int_equal(lapic_next_timer_ns(l), 17007);
	lapic_mmio_write(l, APIC_TDCR, 0xa);
	lapic_mmio_write(l, APIC_TMICT, 7);
	assert_int_equal(lapic_next_timer_ns(l), 17000 + 7 * 128);
}

static void test_timer_masked_and_divide_change(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	enable(l);
	lapic_mmio_write(l, APIC_TDCR, 0xb);
	lapic_mmio_write(l, APIC_LVT_TIMER, APIC_LVT_MASKED | 0xec);
	f->now = 0;
	lapic_mmio_write(l, APIC_TMICT, 100);
	lapic_timer_advance(l, 200);
	assert_false(irr_bit(l, 0xec)); /* counted, but masked */
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
	/* A divide change keeps the current count, at the new rate. */
	lapic_mmio_write(l, APIC_LVT_TIMER, 0xec);
	f->now = 1000;
	lapic_mmio_write(l, APIC_TMICT, 100); /* expires at 1100 */
	f->now = 1040;
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 60);
	lapic_mmio_write(l, APIC_TDCR, 0x0); /* divide by 2 */
	assert_int_equal(lapic_next_timer_ns(l), 1040 + 120);
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 60);
	f->now = 1100;
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 30);
}

static void test_timer_periodic(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	enable(l);
	lapic_mmio_write(l, APIC_TDCR, 0xb);
	lapic_mmio_write(l, APIC_LVT_TIMER, (LAPIC_TIMER_PERIODIC << APIC_TIMER_MODE_SHIFT) | 0xef);
	f->now = 0;
	lapic_mmio_write(l, APIC_TMICT, 200000);
	assert_int_equal(lapic_next_timer_ns(l), 200000);
	f->now = 250000;
	assert_int_equal(lapic_mmio_read(l, APIC_TMCCT), 150000);
	/* Two and a quarter periods late: one interrupt, the next on the grid. */
	lapic_timer_advance(l, 450000);
	assert_true(irr_bit(l, 0xef));
	assert_int_equal(lapic_next_timer_ns(l), 600000);
	assert_int_equal(lapic_ack(l), 0xef);
	lapic_mmio_write(l, APIC_EOI, 0);
	lapic_timer_advance(l, 599999);
	assert_false(irr_bit(l, 0xef));
	lapic_timer_advance(l, 600000);
	assert_true(irr_bit(l, 0xef));
	assert_int_equal(lapic_next_timer_ns(l), 800000);
	/* A tiny period is clamped. */
	f->now = 1000000;
	lapic_mmio_write(l, APIC_TMICT, 10);
	assert_int_equal(lapic_next_timer_ns(l), 1000000 + LAPIC_MIN_PERIOD_NS);
	/* Periodic -> one-shot keeps the count running, once. */
	lapic_mmio_write(l, APIC_TMICT, 300000);
	lapic_mmio_write(l, APIC_LVT_TIMER, 0xef);
	lapic_timer_advance(l, 1300000);
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
}

static void test_timer_deadline(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];
	uint64_t v;

	enable(l);
	/* Outside deadline mode the MSR is ignored and reads 0. */
	assert_true(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 5000));
	assert_true(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v));
	assert_int_equal(v, 0);
	lapic_mmio_write(l, APIC_LVT_TIMER, (LAPIC_TIMER_DEADLINE << APIC_TIMER_MODE_SHIFT) | 0xee);
	/* TMICT is ignored in deadline mode. */
	lapic_mmio_write(l, APIC_TMICT, 10);
	assert_int_equal(lapic_mmio_read(l, APIC_TMICT), 0);
	lapic_set_tsc_offset(l, 500);
	f->now = 1000;
	assert_true(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 10500));
	assert_true(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v));
	assert_int_equal(v, 10500);
	assert_int_equal(lapic_next_timer_ns(l), 10000);
	lapic_timer_advance(l, 9999);
	assert_false(irr_bit(l, 0xee));
	lapic_timer_advance(l, 10000);
	assert_true(irr_bit(l, 0xee));
	assert_true(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v));
	assert_int_equal(v, 0);
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
	assert_int_equal(lapic_ack(l), 0xee);
	lapic_mmio_write(l, APIC_EOI, 0);
	/* A deadline in the past fires on the write. */
	f->now = 20000;
	assert_true(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 100));
	assert_true(irr_bit(l, 0xee));
	/* A negative offset. */
	lapic_set_tsc_offset(l, -1000);
	assert_true(lapic_msr_write(l, LAPIC_MSR_TSC_DEADLINE, 50000));
	assert_int_equal(lapic_next_timer_ns(l), 51000);
	/* Leaving deadline mode disarms. */
	lapic_mmio_write(l, APIC_LVT_TIMER, 0xee);
	assert_int_equal(lapic_next_timer_ns(l), UINT64_MAX);
	assert_true(lapic_msr_read(l, LAPIC_MSR_TSC_DEADLINE, &v));
	assert_int_equal(v, 0);
}

static void send(struct lapic *l, uint32_t dest, uint32_t icr)
{
	lapic_mmio_write(l, APIC_ICR2, dest << 24);
	lapic_mmio_write(l, APIC_ICR, icr);
}

static void enable_all(struct fixture *f)
{
	for (unsigned i = 0; i < NCPU; i++)
		enable(&f->apic[i]);
}

static void test_ipi_physical_and_shorthands(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	send(&f->apic[0], 2, 0x4041); /* fixed, assert, vector 0x41 */
	assert_int_equal(f->ipis, 1);
	assert_int_equal(f->last_ipi.dest, 2);
	assert_ptr_equal(f->last_ipi.src, &f->apic[0]);
	assert_true(irr_bit(&f->apic[2], 0x41));
	assert_false(irr_bit(&f->apic[1], 0x41));
	assert_false(irr_bit(&f->apic[0], 0x41));
	/* ICR reads back, never busy. */
	assert_int_equal(lapic_mmio_read(&f->apic[0], APIC_ICR), 0x4041);
	assert_int_equal(lapic_mmio_read(&f->apic[0], APIC_ICR2), 2u << 24);
	/* Physical broadcast. */
	send(&f->apic[0], 0xff, 0x42);
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(irr_bit(&f->apic[i], 0x42));
	/* Self. */
	send(&f->apic[1], 0, (LAPIC_SH_SELF << 18) | 0x43);
	assert_true(irr_bit(&f->apic[1], 0x43));
	assert_false(irr_bit(&f->apic[0], 0x43));
	/* All excluding self. */
	send(&f->apic[1], 0, (LAPIC_SH_ALL_BUT_SELF << 18) | 0x44);
	assert_false(irr_bit(&f->apic[1], 0x44));
	assert_true(irr_bit(&f->apic[0], 0x44));
	assert_true(irr_bit(&f->apic[3], 0x44));
	/* All including self. */
	send(&f->apic[3], 0, (LAPIC_SH_ALL << 18) | 0x45);
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(irr_bit(&f->apic[i], 0x45));
	/* A changed xAPIC ID is what physical mode matches. */
	lapic_mmio_write(&f->apic[3], APIC_ID, 9u << 24);
	send(&f->apic[0], 9, 0x46);
	assert_true(irr_bit(&f->apic[3], 0x46));
	/* Nobody with that ID. */
	send(&f->apic[0], 3, 0x47);
	for (unsigned i = 0; i < NCPU; i++)
		assert_false(irr_bit(&f->apic[i], 0x47));
}

static void test_ipi_logical(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	/* Flat model: one bit per CPU. */
	for (unsigned i = 0; i < NCPU; i++)
		lapic_mmio_write(&f->apic[i], APIC_LDR, (1u << i) << 24);
	send(&f->apic[0], 0x0a, APIC_ICR_LOGICAL | 0x51); /* CPUs 1 and 3 */
	assert_false(irr_bit(&f->apic[0], 0x51));
	assert_true(irr_bit(&f->apic[1], 0x51));
	assert_false(irr_bit(&f->apic[2], 0x51));
	assert_true(irr_bit(&f->apic[3], 0x51));
	/* Lowest priority: delivered as fixed to the first match only. */
	send(&f->apic[0], 0x0c, APIC_ICR_LOGICAL | (LAPIC_DM_LOWEST << 8) | 0x52);
	assert_true(irr_bit(&f->apic[2], 0x52));
	assert_false(irr_bit(&f->apic[3], 0x52));
	/* Cluster model: cluster in bits 7:4, members in bits 3:0. */
	for (unsigned i = 0; i < NCPU; i++) {
		lapic_mmio_write(&f->apic[i], APIC_DFR, 0x0fffffff);
		lapic_mmio_write(&f->apic[i], APIC_LDR, (((i / 2 + 1) << 4) | (1u << (i % 2))) << 24);
	}
	send(&f->apic[0], 0x23, APIC_ICR_LOGICAL | 0x53); /* cluster 2, both: CPUs 2, 3 */
	assert_false(irr_bit(&f->apic[0], 0x53));
	assert_false(irr_bit(&f->apic[1], 0x53));
	assert_true(irr_bit(&f->apic[2], 0x53));
	assert_true(irr_bit(&f->apic[3], 0x53));
	send(&f->apic[0], 0x12, APIC_ICR_LOGICAL | 0x54); /* cluster 1, member 1: CPU 1 */
	assert_false(irr_bit(&f->apic[0], 0x54));
	assert_true(irr_bit(&f->apic[1], 0x54));
	send(&f->apic[0], 0xff, APIC_ICR_LOGICAL | 0x55);
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(irr_bit(&f->apic[i], 0x55));
}

static void test_ipi_init_sipi_nmi(void **state)
{
	struct fixture *f = *state;

	enable_all(f);
	lapic_mmio_write(&f->apic[1], APIC_TPR, 0x20);
	lapic_accept_irq(&f->apic[1], 0x80, false);
	/* INIT assert, level: resets the target's APIC but keeps its ID. */
	send(&f->apic[0], 1, 0xc500);
	assert_int_equal(f->cpu[1].init, 1);
	assert_int_equal(lapic_mmio_read(&f->apic[1], APIC_TPR), 0);
	assert_int_equal(lapic_mmio_read(&f->apic[1], APIC_SVR), 0xff);
	assert_false(irr_bit(&f->apic[1], 0x80));
	assert_int_equal(lapic_mmio_read(&f->apic[1], APIC_ID), 1u << 24);
	/* INIT de-assert: nothing happens. */
	send(&f->apic[0], 1, 0x8500);
	assert_int_equal(f->cpu[1].init, 1);
	assert_int_equal(f->ipis, 1);
	/* Start-up to all but self, as Linux does for its APs (or per CPU). */
	send(&f->apic[0], 0, (LAPIC_SH_ALL_BUT_SELF << 18) | 0x4600 | 0x9a);
	assert_int_equal(f->cpu[0].sipi, 0);
	for (unsigned i = 1; i < NCPU; i++) {
		assert_int_equal(f->cpu[i].sipi, 1);
		assert_int_equal(f->cpu[i].sipi_vector, 0x9a);
	}
	/* NMI. */
	send(&f->apic[0], 2, 0x4400);
	assert_int_equal(f->cpu[2].nmi, 1);
	assert_int_equal(f->cpu[1].nmi, 0);
	/* SMI is dropped. */
	unsigned before = f->ipis;
	send(&f->apic[0], 2, 0x4200);
	assert_int_equal(f->ipis, before);
	/* ExtINT arrives as an event. */
	send(&f->apic[0], 3, 0x4700);
	assert_int_equal(f->cpu[3].extint, 1);
}

static void test_esr_illegal_vector(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	enable_all(f);
	lapic_mmio_write(l, APIC_LVT_ERROR, 0xfe);
	send(l, 1, 0x4005); /* fixed vector 5: illegal */
	assert_int_equal(f->ipis, 0);
	assert_true(irr_bit(l, 0xfe));
	assert_int_equal(lapic_mmio_read(l, APIC_ESR), 0); /* latched on write */
	lapic_mmio_write(l, APIC_ESR, 0);
	assert_int_equal(lapic_mmio_read(l, APIC_ESR), 0x20);
	lapic_mmio_write(l, APIC_ESR, 0);
	assert_int_equal(lapic_mmio_read(l, APIC_ESR), 0);
	/* Receive side. */
	lapic_accept_irq(&f->apic[1], 3, false);
	lapic_mmio_write(&f->apic[1], APIC_ESR, 0);
	assert_int_equal(lapic_mmio_read(&f->apic[1], APIC_ESR), 0x40);
}

static void test_no_router_self_ipi(void **state)
{
	struct fixture *f = *state;
	struct lapic l;
	struct lapic_ops ops = { .opaque = &f->cpu[0], .now_ns = fx_now, .notify = fx_notify };

	(void)f;
	lapic_init(&l, 0, true, false, &ops);
	enable(&l);
	send(&l, 0, (LAPIC_SH_SELF << 18) | 0x70);
	assert_true(irr_bit(&l, 0x70));
	send(&l, 0, 0x71); /* to ID 0 = ourselves */
	assert_true(irr_bit(&l, 0x71));
	send(&l, 4, 0x72);
	assert_false(irr_bit(&l, 0x72));
	lapic_destroy(&l);
}

static void test_x2apic(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[1];
	uint64_t v;

	/* disabled -> x2APIC is not allowed; xAPIC -> x2APIC is. */
	assert_false(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000ULL | LAPIC_BASE_EXTD));
	assert_false(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000ULL | LAPIC_BASE_EN | 1));
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(lapic_msr_write(&f->apic[i], LAPIC_MSR_APIC_BASE,
					    0xfee00000ULL | LAPIC_BASE_EN | LAPIC_BASE_EXTD));
	assert_true(lapic_is_x2apic(l));
	assert_false(lapic_mmio_enabled(l));
	assert_int_equal(lapic_mmio_read(l, APIC_LVR), 0);
	assert_true(lapic_msr_read(l, LAPIC_MSR_APIC_BASE, &v));
	assert_int_equal(v, 0xfee00000ULL | LAPIC_BASE_EN | LAPIC_BASE_EXTD);
	assert_true(lapic_msr_read(l, 0x802, &v));
	assert_int_equal(v, 1);
	assert_true(lapic_msr_read(l, 0x803, &v));
	assert_int_equal(v, 0x50014);
	assert_true(lapic_msr_read(l, 0x80d, &v));
	assert_int_equal(v, 0x2); /* cluster 0, bit 1 */
	assert_false(lapic_msr_write(l, 0x802, 5)); /* ID read-only */
	assert_false(lapic_msr_read(l, 0x80e, &v));  /* no DFR */
	assert_false(lapic_msr_read(l, 0x80b, &v));  /* EOI write-only */
	assert_false(lapic_msr_write(l, 0x80b, 1));  /* EOI must be 0 */
	assert_false(lapic_msr_write(l, 0x808, 1ULL << 32));
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(lapic_msr_write(&f->apic[i], 0x80f, 0x1ff));
	/* ICR: one 64-bit MSR with a 32-bit destination. */
	assert_true(lapic_msr_write(l, 0x830, (3ULL << 32) | 0x4061));
	assert_true(f->last_ipi.x2apic_dest);
	assert_int_equal(f->last_ipi.dest, 3);
	assert_true(lapic_msr_read(&f->apic[3], 0x823, &v));
	assert_int_equal(v, 2); /* IRR word 3, bit 1: vector 0x61 */
	assert_true(lapic_msr_read(l, 0x830, &v));
	assert_int_equal(v, (3ULL << 32) | 0x4061);
	/* x2APIC broadcast. */
	assert_true(lapic_msr_write(l, 0x830, (0xffffffffULL << 32) | 0x62));
	for (unsigned i = 0; i < NCPU; i++) {
		assert_true(lapic_msr_read(&f->apic[i], 0x823, &v));
		assert_true(v & 4);
	}
	/* Logical: cluster 0, members 0 and 2. */
	assert_true(lapic_msr_write(l, 0x830, (0x5ULL << 32) | APIC_ICR_LOGICAL | 0x63));
	assert_true(lapic_msr_read(&f->apic[0], 0x823, &v));
	assert_true(v & 8);
	assert_true(lapic_msr_read(&f->apic[2], 0x823, &v));
	assert_true(v & 8);
	assert_true(lapic_msr_read(&f->apic[1], 0x823, &v));
	assert_false(v & 8);
	/* Self IPI. */
	assert_true(lapic_msr_write(l, 0x83f, 0x64));
	assert_true(lapic_msr_read(l, 0x823, &v));
	assert_true(v & 0x10);
	assert_false(lapic_msr_write(l, 0x83f, 0x164));
	/* Ack and EOI through the MSRs. */
	assert_int_equal(lapic_ack(l), 0x64);
	assert_true(lapic_msr_write(l, 0x80b, 0));
	assert_true(lapic_msr_read(l, 0x810 + 3, &v));
	assert_int_equal(v, 0);
	/* x2APIC -> xAPIC directly is invalid; via disabled it works. */
	assert_false(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000ULL | LAPIC_BASE_EN));
	assert_true(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000ULL));
	assert_false(lapic_msr_read(l, 0x802, &v));
	assert_int_equal(lapic_pending_vector(l), -1);
	assert_true(lapic_msr_write(l, LAPIC_MSR_APIC_BASE, 0xfee00000ULL | LAPIC_BASE_EN));
	assert_int_equal(lapic_mmio_read(l, APIC_ID), 1u << 24);
	assert_int_equal(lapic_mmio_read(l, APIC_SVR), 0xff);
}

static void test_x2apic_unsupported(void **state)
{
	struct fixture *f = *state;

	assert_false(lapic_msr_write(&f->apic[0], LAPIC_MSR_APIC_BASE,
				     0xfee00000ULL | LAPIC_BASE_EN | LAPIC_BASE_EXTD));
	assert_false(lapic_is_x2apic(&f->apic[0]));
	assert_int_equal(lapic_msr_read(&f->apic[0], 0x800, &(uint64_t){ 0 }), false);
}

static void test_lint(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];

	/* Masked LINT0 after reset: the PIC does not reach this CPU. */
	assert_false(lapic_accepts_pic(l));
	enable(l);
	lapic_mmio_write(l, APIC_LVT_LINT0, LAPIC_DM_EXTINT << 8);
	assert_true(lapic_accepts_pic(l));
	lapic_set_lint(l, 0, true);
	assert_int_equal(f->cpu[0].extint, 1);
	lapic_set_lint(l, 0, false);
	lapic_mmio_write(l, APIC_LVT_LINT1, LAPIC_DM_NMI << 8);
	lapic_set_lint(l, 1, true);
	lapic_set_lint(l, 1, true); /* no second edge */
	assert_int_equal(f->cpu[0].nmi, 1);
	lapic_set_lint(l, 1, false);
	lapic_set_lint(l, 1, true);
	assert_int_equal(f->cpu[0].nmi, 2);
	/* Fixed through LINT1. */
	lapic_mmio_write(l, APIC_LVT_LINT1, 0x66);
	lapic_set_lint(l, 1, false);
	lapic_set_lint(l, 1, true);
	assert_true(irr_bit(l, 0x66));
	/* A globally disabled APIC passes the PIC straight through. */
	assert_true(lapic_msr_write(&f->apic[1], LAPIC_MSR_APIC_BASE, 0xfee00000ULL));
	assert_true(lapic_accepts_pic(&f->apic[1]));
	assert_false(lapic_mmio_enabled(&f->apic[1]));
}

/* The backend sets KVM's reset-time virtual wire through a snapshot round trip. */
static void test_restore_keeps_lvts(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];
	struct x86_cpu_state *s = calloc(1, sizeof(*s));
	struct lapic_snap snap;
	uint32_t lint0 = LAPIC_DM_EXTINT << APIC_DM_SHIFT, lint1 = LAPIC_DM_NMI << APIC_DM_SHIFT;

	assert_non_null(s);
	lapic_save(l, s, &snap);
	memcpy(&s->lapic[APIC_LVT_LINT0], &lint0, 4);
	memcpy(&s->lapic[APIC_LVT_LINT1], &lint1, 4);
	lapic_restore(l, s, &snap);
	/* Software-disabled (SVR 0xff), yet LINT0/LINT1 stay as written. */
	assert_int_equal(lapic_mmio_read(l, APIC_SVR), 0xff);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_LINT0), lint0);
	assert_true(lapic_accepts_pic(l));
	lapic_set_lint(l, 1, true);
	assert_int_equal(f->cpu[0].nmi, 1);
	/* The guest enabling the APIC keeps them; disabling masks them. */
	enable(l);
	assert_int_equal(lapic_mmio_read(l, APIC_LVT_LINT0), lint0);
	lapic_mmio_write(l, APIC_SVR, 0xff);
	assert_false(lapic_accepts_pic(l));
	free(s);
}

static void test_mmio_access_widths(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];
	uint8_t d[8] = { 0 };

	lapic_mmio_access(l, APIC_LVR, false, d, 4);
	assert_int_equal(d[0], 0x14);
	assert_int_equal(d[2], 0x05);
	memset(d, 0, sizeof(d));
	lapic_mmio_access(l, APIC_LVR + 2, false, d, 2);
	assert_int_equal(d[0], 0x05);
	uint32_t v = 0x70;
	memcpy(d, &v, 4);
	lapic_mmio_access(l, APIC_TPR, true, d, 4);
	assert_int_equal(lapic_get_tpr(l), 0x70);
	d[0] = 0x10;
	lapic_mmio_access(l, APIC_TPR, true, d, 1); /* byte write: ignored */
	assert_int_equal(lapic_get_tpr(l), 0x70);
	lapic_mmio_access(l, 0xfee00000u + APIC_TPR, false, d, 8);
	assert_int_equal(d[0], 0x70);
	assert_int_equal(d[4], 0);
}

static void test_save_restore(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic[0];
	struct x86_cpu_state s;
	struct lapic_snap snap;
	struct lapic r;
	struct lapic_ops ops = { .opaque = &f->cpu[1], .now_ns = fx_now, .notify = fx_notify };

	memset(&s, 0, sizeof(s));
	enable(l);
	lapic_mmio_write(l, APIC_TPR, 0x20);
	lapic_mmio_write(l, APIC_TDCR, 0xb);
	lapic_mmio_write(l, APIC_LVT_TIMER, (LAPIC_TIMER_PERIODIC << APIC_TIMER_MODE_SHIFT) | 0xef);
	f->now = 1000;
	lapic_mmio_write(l, APIC_TMICT, 500000);
	lapic_accept_irq(l, 0x90, true);
	lapic_accept_irq(l, 0xa0, false);
	assert_int_equal(lapic_ack(l), 0xa0);
	f->now = 101000;
	lapic_save(l, &s, &snap);
	assert_int_equal(s.apic_id, 0);
	assert_int_equal(s.msr.apic_base, 0xfee00000ULL | LAPIC_BASE_EN | LAPIC_BASE_BSP);
	assert_int_equal(snap.timer_remaining_ns, 400000);
	assert_int_equal(snap.timer_period_ns, 500000);
	uint32_t tmcct;
	memcpy(&tmcct, &s.lapic[APIC_TMCCT], 4);
	assert_int_equal(tmcct, 400000);
	/* Restore into a fresh lapic, later in time. */
	f->now = 5000000;
	lapic_init(&r, 7, false, true, &ops);
	lapic_restore(&r, &s, &snap);
	assert_int_equal(lapic_next_timer_ns(&r), 5400000);
	assert_int_equal(lapic_mmio_read(&r, APIC_TMCCT), 400000);
	assert_int_equal(lapic_mmio_read(&r, APIC_TPR), 0x20);
	assert_int_equal(lapic_mmio_read(&r, APIC_PPR), 0xa0);
	assert_true(isr_bit(&r, 0xa0));
	assert_true(irr_bit(&r, 0x90));
	assert_true(lapic_mmio_read(&r, APIC_TMR + 0x40) & (1u << 16));
	lapic_mmio_write(&r, APIC_EOI, 0);
	assert_int_equal(lapic_ack(&r), 0x90);
	lapic_timer_advance(&r, 5400000);
	assert_true(irr_bit(&r, 0xef));
	assert_int_equal(lapic_next_timer_ns(&r), 5900000);
	/* Garbage in a snapshot stays in range. */
	snap.timer_period_ns = 1;
	snap.timer_remaining_ns = UINT64_MAX - 1;
	lapic_restore(&r, &s, &snap);
	assert_true(lapic_next_timer_ns(&r) <= f->now + (1ULL << 48));
	lapic_destroy(&r);
}

/* Two vCPU threads IPI each other (and themselves) while acking and EOIing. */
struct stress {
	struct lapic apic[2];
	struct lapic *ptrs[2];
	unsigned long received[2];
	unsigned idx[2];
};

static struct stress *stress_of(void *opaque, unsigned *self)
{
	unsigned *idx = opaque;

	*self = *idx;
	return (struct stress *)((char *)(idx - *idx) - offsetof(struct stress, idx));
}

static void stress_send(void *opaque, const struct lapic_msg *msg)
{
	unsigned self;
	struct stress *s = stress_of(opaque, &self);

	lapic_route(s->ptrs, 2, msg);
}

struct stress_arg {
	struct stress *s;
	unsigned self;
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	struct lapic *me = &a->s->apic[a->self];
	unsigned other = !a->self;

	for (unsigned i = 0; i < 20000; i++) {
		int v;

		lapic_mmio_write(me, APIC_ICR2, other << 24);
		lapic_mmio_write(me, APIC_ICR, 0x4040 | other);
		if (!(i % 7))
			lapic_mmio_write(me, APIC_ICR, (LAPIC_SH_SELF << 18) | 0x50);
		while ((v = lapic_ack(me)) >= 0) {
			a->s->received[a->self]++;
			lapic_mmio_write(me, APIC_EOI, 0);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t t[2];
	struct stress_arg a[2];

	(void)state;
	assert_non_null(s);
	for (unsigned i = 0; i < 2; i++) {
		struct lapic_ops ops = { .opaque = &s->idx[i], .send_ipi = stress_send };

		s->idx[i] = i;
		lapic_init(&s->apic[i], i, i == 0, false, &ops);
		s->ptrs[i] = &s->apic[i];
		enable(&s->apic[i]);
	}
	for (unsigned i = 0; i < 2; i++) {
		a[i] = (struct stress_arg){ s, i };
		assert_int_equal(pthread_create(&t[i], NULL, stress_thread, &a[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < 2; i++) {
		while (lapic_ack(&s->apic[i]) >= 0) {
			s->received[i]++;
			lapic_mmio_write(&s->apic[i], APIC_EOI, 0);
		}
		/* Coalesced in IRR, but at least one of each kind arrived, nothing stuck. */
		assert_true(s->received[i] >= 2);
		assert_int_equal(lapic_mmio_read(&s->apic[i], APIC_PPR), 0);
		lapic_destroy(&s->apic[i]);
	}
	free(s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_writable_bits),
		T(test_priority_ack_eoi),
		T(test_tpr),
		T(test_level_eoi_broadcast),
		T(test_timer_oneshot),
		T(test_timer_masked_and_divide_change),
		T(test_timer_periodic),
		T(test_timer_deadline),
		T(test_ipi_physical_and_shorthands),
		T(test_ipi_logical),
		T(test_ipi_init_sipi_nmi),
		T(test_esr_illegal_vector),
		T(test_no_router_self_ipi),
		T(test_x2apic),
		cmocka_unit_test_setup_teardown(test_x2apic_unsupported, setup_nox2, teardown),
		T(test_lint),
		T(test_restore_keeps_lvts),
		T(test_mmio_access_widths),
		T(test_save_restore),
		cmocka_unit_test(test_threads),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
