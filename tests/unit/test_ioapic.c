// SPDX-License-Identifier: Apache-2.0
/* irqchip/ioapic: the I/O APIC register model, edge and level delivery, and its chain to a LAPIC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/ioapic.h"
#include "irqchip/lapic.h"

struct delivery {
	uint8_t dest, dest_mode, vector, mode;
	bool level;
};

struct fixture {
	struct ioapic io;
	struct delivery d[64];
	unsigned n;
	/* For the chain test. */
	struct lapic apic;
	struct lapic *apics[1];
	bool to_lapic;
};

static void fx_deliver(void *opaque, uint8_t dest, uint8_t dest_mode, uint8_t vector,
		       uint8_t delivery_mode, bool level_trig)
{
	struct fixture *f = opaque;

	if (f->n < 64)
		f->d[f->n] = (struct delivery){ dest, dest_mode, vector, delivery_mode, level_trig };
	f->n++;
	if (f->to_lapic) {
		struct lapic_msg m = {
			.dest = dest,
			.vector = vector,
			.delivery = delivery_mode,
			.logical = dest_mode,
			.level_trig = level_trig,
		};

		lapic_route(f->apics, 1, &m);
	}
}

static void fx_lapic_eoi(void *opaque, uint8_t vector)
{
	struct fixture *f = opaque;

	ioapic_eoi(&f->io, vector);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ioapic_ops ops = { .opaque = f, .deliver = fx_deliver };
	struct lapic_ops lops = { .opaque = f, .eoi = fx_lapic_eoi };

	if (!f)
		return -1;
	ioapic_init(&f->io, &ops);
	lapic_init(&f->apic, 0, true, false, &lops);
	f->apics[0] = &f->apic;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ioapic_destroy(&f->io);
	lapic_destroy(&f->apic);
	free(f);
	return 0;
}

static uint32_t rd(struct fixture *f, uint32_t index)
{
	ioapic_mmio_write(&f->io, IOAPIC_REGSEL, index);
	return ioapic_mmio_read(&f->io, IOAPIC_WINDOW);
}

static void wr(struct fixture *f, uint32_t index, uint32_t v)
{
	ioapic_mmio_write(&f->io, IOAPIC_REGSEL, index);
	ioapic_mmio_write(&f->io, IOAPIC_WINDOW, v);
}

static void set_rte(struct fixture *f, unsigned pin, uint64_t e)
{
	wr(f, IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)(e >> 32));
	wr(f, IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)e);
}

static uint64_t get_rte(struct fixture *f, unsigned pin)
{
	return ((uint64_t)rd(f, IOAPIC_REG_REDTBL + 2 * pin + 1) << 32) | rd(f, IOAPIC_REG_REDTBL + 2 * pin);
}

static void test_registers(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(rd(f, IOAPIC_REG_ID), 0);
	wr(f, IOAPIC_REG_ID, 0xff000000u);
	assert_int_equal(rd(f, IOAPIC_REG_ID), 0x0f000000u);
	assert_int_equal(rd(f, IOAPIC_REG_ARB), 0x0f000000u);
	wr(f, IOAPIC_REG_VER, 0);
	assert_int_equal(rd(f, IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(ioapic_mmio_read(&f->io, IOAPIC_REGSEL), IOAPIC_REG_VER);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		assert_int_equal(get_rte(f, pin), IOAPIC_RTE_MASKED);
	/* Beyond the table: reads 0, writes ignored. */
	wr(f, IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS, 0x1234);
	assert_int_equal(rd(f, IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS), 0);
	/* Every writable bit; status bits read-only. */
	set_rte(f, 5, 0xffffffffffffffffULL);
	assert_int_equal(get_rte(f, 5), 0xff00000000000000ULL | 0x1afffULL);
	/* Other offsets of the page. */
	assert_int_equal(ioapic_mmio_read(&f->io, 0x20), 0);
	uint8_t d[4];
	ioapic_mmio_write(&f->io, IOAPIC_REGSEL, IOAPIC_REG_VER);
	ioapic_mmio_access(&f->io, IOAPIC_WINDOW + 2, false, d, 1);
	assert_int_equal(d[0], 0x17);
	d[0] = IOAPIC_REG_ID;
	ioapic_mmio_access(&f->io, IOAPIC_REGSEL, true, d, 1);
	assert_int_equal(ioapic_mmio_read(&f->io, IOAPIC_REGSEL), 0);
}

static void test_edge(void **state)
{
	struct fixture *f = *state;

	set_rte(f, 4, (1ULL << 56) | 0x34);
	ioapic_set_irq(&f->io, 4, true);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->d[0].dest, 1);
	assert_int_equal(f->d[0].dest_mode, 0);
	assert_int_equal(f->d[0].vector, 0x34);
	assert_int_equal(f->d[0].mode, 0);
	assert_false(f->d[0].level);
	/* Held high: no second edge. */
	ioapic_set_irq(&f->io, 4, true);
	assert_int_equal(f->n, 1);
	ioapic_set_irq(&f->io, 4, false);
	ioapic_set_irq(&f->io, 4, true);
	assert_int_equal(f->n, 2);
	/* Edge pins have no remote IRR, EOI does nothing. */
	assert_false(get_rte(f, 4) & IOAPIC_RTE_REMOTE_IRR);
	ioapic_eoi(&f->io, 0x34);
	assert_int_equal(f->n, 2);
	/* Masked: the edge is lost, also on unmask. */
	ioapic_set_irq(&f->io, 4, false);
	set_rte(f, 4, IOAPIC_RTE_MASKED | 0x34);
	ioapic_set_irq(&f->io, 4, true);
	set_rte(f, 4, 0x34);
	assert_int_equal(f->n, 2);
	/* Logical, lowest priority. */
	set_rte(f, 6, (0x0fULL << 56) | IOAPIC_RTE_LOGICAL | (1ULL << 8) | 0x36);
	ioapic_set_irq(&f->io, 6, true);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->d[2].dest, 0x0f);
	assert_int_equal(f->d[2].dest_mode, 1);
	assert_int_equal(f->d[2].mode, 1);
	/* Pins out of range are ignored. */
	ioapic_set_irq(&f->io, 24, true);
	ioapic_set_irq(&f->io, 1000, true);
	assert_int_equal(f->n, 3);
}

static void test_level(void **state)
{
	struct fixture *f = *state;

	set_rte(f, 10, IOAPIC_RTE_LEVEL | 0x3a);
	ioapic_set_irq(&f->io, 10, true);
	assert_int_equal(f->n, 1);
	assert_true(f->d[0].level);
	assert_true(get_rte(f, 10) & IOAPIC_RTE_REMOTE_IRR);
	/* Still high, awaiting EOI: no more. */
	ioapic_set_irq(&f->io, 10, true);
	assert_int_equal(f->n, 1);
	/* Rewriting the entry keeps remote IRR. */
	set_rte(f, 10, IOAPIC_RTE_LEVEL | 0x3a);
	assert_true(get_rte(f, 10) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(f->n, 1);
	/* Another vector's EOI: nothing. */
	ioapic_eoi(&f->io, 0x3b);
	assert_int_equal(f->n, 1);
	/* EOI while the line is still high: delivered again. */
	ioapic_eoi(&f->io, 0x3a);
	assert_int_equal(f->n, 2);
	assert_true(get_rte(f, 10) & IOAPIC_RTE_REMOTE_IRR);
	/* Line drops, then EOI: remote IRR clears, nothing delivered. */
	ioapic_set_irq(&f->io, 10, false);
	ioapic_eoi(&f->io, 0x3a);
	assert_int_equal(f->n, 2);
	assert_false(get_rte(f, 10) & IOAPIC_RTE_REMOTE_IRR);
	/* Masked while high; unmask delivers. */
	set_rte(f, 10, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x3a);
	ioapic_set_irq(&f->io, 10, true);
	assert_int_equal(f->n, 2);
	set_rte(f, 10, IOAPIC_RTE_LEVEL | 0x3a);
	assert_int_equal(f->n, 3);
	/* Switching to edge drops remote IRR. */
	set_rte(f, 10, 0x3a);
	assert_false(get_rte(f, 10) & IOAPIC_RTE_REMOTE_IRR);
	/* Two pins sharing a vector both re-arm on one EOI. */
	ioapic_set_irq(&f->io, 10, false);
	set_rte(f, 11, IOAPIC_RTE_LEVEL | 0x40);
	set_rte(f, 12, IOAPIC_RTE_LEVEL | 0x40);
	ioapic_set_irq(&f->io, 11, true);
	ioapic_set_irq(&f->io, 12, true);
	assert_int_equal(f->n, 5);
	ioapic_eoi(&f->io, 0x40);
	assert_int_equal(f->n, 7);
}

static void test_chain_to_lapic(void **state)
{
	struct fixture *f = *state;
	struct lapic *l = &f->apic;

	f->to_lapic = true;
	lapic_mmio_write(l, APIC_SVR, 0x1ff);
	set_rte(f, 9, IOAPIC_RTE_LEVEL | 0x49); /* dest 0 physical */
	ioapic_set_irq(&f->io, 9, true);
	assert_int_equal(lapic_pending_vector(l), 0x49);
	assert_int_equal(lapic_ack(l), 0x49);
	/* The guest EOIs with the line still high: IOAPIC re-delivers. */
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(lapic_ack(l), 0x49);
	/* The device deasserts, the guest EOIs: quiet. */
	ioapic_set_irq(&f->io, 9, false);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(f->n, 2);
	assert_int_equal(lapic_pending_vector(l), -1);
	assert_false(get_rte(f, 9) & IOAPIC_RTE_REMOTE_IRR);
	/* Edge through the chain. */
	set_rte(f, 2, 0x30);
	ioapic_set_irq(&f->io, 2, true);
	ioapic_set_irq(&f->io, 2, false);
	assert_int_equal(lapic_ack(l), 0x30);
	lapic_mmio_write(l, APIC_EOI, 0);
	assert_int_equal(f->n, 3);
}

static void test_save_restore(void **state)
{
	struct fixture *f = *state;
	struct ioapic_snap snap;
	struct ioapic r;

	set_rte(f, 3, IOAPIC_RTE_LEVEL | 0x33);
	ioapic_set_irq(&f->io, 3, true);
	ioapic_save(&f->io, &snap);
	ioapic_init(&r, NULL);
	ioapic_restore(&r, &snap);
	ioapic_mmio_write(&r, IOAPIC_REGSEL, IOAPIC_REG_REDTBL + 6);
	assert_int_equal(ioapic_mmio_read(&r, IOAPIC_WINDOW), IOAPIC_RTE_LEVEL | IOAPIC_RTE_REMOTE_IRR | 0x33);
	assert_int_equal(r.level, 1u << 3);
	/* Garbage is masked into range. */
	memset(&snap, 0xff, sizeof(snap));
	ioapic_restore(&r, &snap);
	assert_int_equal(r.id, 0xf);
	assert_int_equal(r.level, 0xffffff);
	ioapic_destroy(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_registers), T(test_edge), T(test_level), T(test_chain_to_lapic), T(test_save_restore),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
