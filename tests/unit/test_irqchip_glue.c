// SPDX-License-Identifier: Apache-2.0
/* irqchip/irqchip: the controllers wired together as the software-CPU machine uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/irqchip.h"

#define NCPU 2

struct fixture {
	struct irqchip ic;
	uint64_t now;
	unsigned ev[NCPU][8];
	uint8_t sipi[NCPU];
};

static uint64_t fx_now(void *opaque)
{
	struct fixture *f = opaque;

	return f->now;
}

static void fx_event(void *opaque, unsigned cpu, enum lapic_event ev, uint8_t vector)
{
	struct fixture *f = opaque;

	assert_true(cpu < NCPU);
	f->ev[cpu][ev]++;
	if (ev == LAPIC_EV_SIPI)
		f->sipi[cpu] = vector;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct irqchip_ops ops = { .opaque = f, .now_ns = fx_now, .cpu_event = fx_event };

	if (!f || irqchip_init(&f->ic, NCPU, true, &ops)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	irqchip_destroy(&f->ic);
	free(f);
	return 0;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
	assert_true(irqchip_pio(&f->ic, port, true, &v, 1));
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t v = 0;

	assert_true(irqchip_pio(&f->ic, port, false, &v, 1));
	return v;
}

static void mmio_w(struct fixture *f, unsigned cpu, uint64_t gpa, uint32_t v)
{
	assert_true(irqchip_mmio(&f->ic, cpu, gpa, true, (uint8_t *)&v, 4));
}

static uint32_t mmio_r(struct fixture *f, unsigned cpu, uint64_t gpa)
{
	uint32_t v = 0;

	assert_true(irqchip_mmio(&f->ic, cpu, gpa, false, (uint8_t *)&v, 4));
	return v;
}

static void pit_mode2(struct fixture *f, uint16_t count)
{
	outb(f, 0x43, 0x34);
	outb(f, 0x40, count & 0xff);
	outb(f, 0x40, count >> 8);
}

static void test_claims(void **state)
{
	struct fixture *f = *state;
	uint8_t b = 0;
	uint64_t v;

	assert_false(irqchip_pio(&f->ic, 0x3f8, false, &b, 1));
	assert_false(irqchip_mmio(&f->ic, 0, 0xd0000000, false, &b, 1));
	assert_true(irqchip_is_lapic_msr(0x1b));
	assert_true(irqchip_is_lapic_msr(0x80b));
	assert_false(irqchip_is_lapic_msr(0x10));
	/* Each CPU sees its own LAPIC at the same address. */
	assert_int_equal(mmio_r(f, 0, 0xfee00020), 0);
	assert_int_equal(mmio_r(f, 1, 0xfee00020), 1u << 24);
	/* The IOAPIC carries the MP table's ID. */
	mmio_w(f, 0, 0xfec00000, 0);
	assert_int_equal(mmio_r(f, 0, 0xfec00010), (uint32_t)NCPU << 24);
	assert_true(lapic_msr_read(&f->ic.lapic[1], 0x1b, &v));
	assert_int_equal(v, 0xfee00800ULL);
	/* ELCR as one 16-bit access. */
	uint16_t elcr = 0x0c20;
	assert_true(irqchip_pio(&f->ic, 0x4d0, true, (uint8_t *)&elcr, 2));
	elcr = 0;
	assert_true(irqchip_pio(&f->ic, 0x4d0, false, (uint8_t *)&elcr, 2));
	assert_int_equal(elcr, 0x0c20);
	assert_int_equal(irqchip_irq_ack(&f->ic, 5), -1);
	assert_int_equal(inb(f, 0x21), 0xff);
	assert_int_equal(inb(f, 0x61) & 0x0f, 0);
}

/* Early boot: the PIT's IRQ0 through the PIC, virtual wire to the BSP. */
static void test_pit_pic_virtual_wire(void **state)
{
	struct fixture *f = *state;

	mmio_w(f, 0, 0xfee000f0, 0x1ff);
	mmio_w(f, 0, 0xfee00350, LAPIC_DM_EXTINT << 8);
	outb(f, 0x20, 0x11);
	outb(f, 0x21, 0x30);
	outb(f, 0x21, 0x04);
	outb(f, 0x21, 0x01);
	outb(f, 0x21, 0xfe);
	f->now = 0;
	unsigned timer_events = f->ev[0][LAPIC_EV_TIMER];
	pit_mode2(f, 1193);
	assert_true(f->ev[0][LAPIC_EV_TIMER] > timer_events);
	uint64_t next = irqchip_next_event_ns(&f->ic);
	assert_true(next > 999000 && next < 1000000);
	f->now = next;
	irqchip_advance(&f->ic, next);
	assert_int_equal(f->ev[0][LAPIC_EV_EXTINT], 1);
	assert_int_equal(f->ev[1][LAPIC_EV_EXTINT], 0);
	assert_true(irqchip_irq_pending(&f->ic, 0));
	assert_false(irqchip_irq_pending(&f->ic, 1));
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), 0x30);
	assert_false(irqchip_irq_pending(&f->ic, 0));
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), -1);
	outb(f, 0x20, 0x20);
	/* LINT0 masked: the PIC no longer reaches the CPU. */
	mmio_w(f, 0, 0xfee00350, APIC_LVT_MASKED | (LAPIC_DM_EXTINT << 8));
	irqchip_advance(&f->ic, irqchip_next_event_ns(&f->ic));
	assert_int_equal(f->ev[0][LAPIC_EV_EXTINT], 1);
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), -1);
}

/* Virtual wire through the IOAPIC: pin 0 in ExtINT mode, vector from the PIC. */
static void test_ioapic_extint(void **state)
{
	struct fixture *f = *state;

	mmio_w(f, 0, 0xfee000f0, 0x1ff); /* LINT0 stays masked */
	outb(f, 0x20, 0x11);
	outb(f, 0x21, 0x30);
	outb(f, 0x21, 0x04);
	outb(f, 0x21, 0x01);
	outb(f, 0x21, 0xfe);
	mmio_w(f, 0, 0xfec00000, 0x10);
	mmio_w(f, 0, 0xfec00010, LAPIC_DM_EXTINT << 8);
	f->now = 0;
	pit_mode2(f, 1193);
	irqchip_advance(&f->ic, irqchip_next_event_ns(&f->ic));
	assert_int_equal(f->ev[0][LAPIC_EV_EXTINT], 1);
	assert_true(irqchip_irq_pending(&f->ic, 0));
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), 0x30);
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), -1);
	assert_false(irqchip_irq_pending(&f->ic, 0));
}

/* With the IOAPIC: IRQ0 on pin 0 (MP table), a level GSI, an MSI. */
static void test_ioapic_path(void **state)
{
	struct fixture *f = *state;

	for (unsigned c = 0; c < NCPU; c++)
		mmio_w(f, c, 0xfee000f0, 0x1ff);
	outb(f, 0x21, 0xff); /* PIC masked */
	outb(f, 0xa1, 0xff);
	mmio_w(f, 0, 0xfec00000, 0x10);
	mmio_w(f, 0, 0xfec00010, 0x30);
	f->now = 0;
	pit_mode2(f, 1193);
	irqchip_advance(&f->ic, irqchip_next_event_ns(&f->ic));
	assert_int_equal(f->ev[0][LAPIC_EV_IRQ], 1);
	assert_int_equal(f->ev[0][LAPIC_EV_EXTINT], 0);
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), 0x30);
	mmio_w(f, 0, 0xfee000b0, 0);
	/* GSI 20, level, to CPU 1; re-delivered on EOI while asserted. */
	mmio_w(f, 0, 0xfec00000, 0x10 + 2 * 20 + 1);
	mmio_w(f, 0, 0xfec00010, 1u << 24);
	mmio_w(f, 0, 0xfec00000, 0x10 + 2 * 20);
	mmio_w(f, 0, 0xfec00010, IOAPIC_RTE_LEVEL | 0x64);
	irqchip_set_irq(&f->ic, 20, true);
	assert_true(irqchip_irq_pending(&f->ic, 1));
	assert_false(irqchip_irq_pending(&f->ic, 0));
	assert_int_equal(irqchip_irq_ack(&f->ic, 1), 0x64);
	mmio_w(f, 1, 0xfee000b0, 0);
	assert_int_equal(irqchip_irq_ack(&f->ic, 1), 0x64);
	irqchip_set_irq(&f->ic, 20, false);
	mmio_w(f, 1, 0xfee000b0, 0);
	assert_int_equal(irqchip_irq_ack(&f->ic, 1), -1);
	/* MSI to CPU 1. */
	irqchip_msi(&f->ic, 0xfee01000, 0x45);
	assert_int_equal(irqchip_irq_ack(&f->ic, 1), 0x45);
	irqchip_msi(&f->ic, 0x12345000, 0x46);
	assert_int_equal(irqchip_irq_ack(&f->ic, 1), -1);
}

/* Bringing up the AP: INIT, SIPI; then an IPI back; the LAPIC timer in the event loop. */
static void test_smp_boot_and_timer(void **state)
{
	struct fixture *f = *state;

	mmio_w(f, 0, 0xfee000f0, 0x1ff);
	mmio_w(f, 0, 0xfee00310, 1u << 24);
	mmio_w(f, 0, 0xfee00300, 0xc500);
	mmio_w(f, 0, 0xfee00300, 0x8500);
	mmio_w(f, 0, 0xfee00300, 0x0600 | 0x9a);
	assert_int_equal(f->ev[1][LAPIC_EV_INIT], 1);
	assert_int_equal(f->ev[1][LAPIC_EV_SIPI], 1);
	assert_int_equal(f->sipi[1], 0x9a);
	assert_int_equal(f->ev[0][LAPIC_EV_INIT], 0);
	/* The AP in x2APIC mode sends the BSP an IPI. */
	assert_true(lapic_msr_write(&f->ic.lapic[1], 0x1b, 0xfee00000ULL | LAPIC_BASE_EN | LAPIC_BASE_EXTD));
	assert_true(lapic_msr_write(&f->ic.lapic[1], 0x80f, 0x1ff));
	assert_false(irqchip_mmio(&f->ic, 1, 0xfee00020, false, (uint8_t *)&(uint32_t){ 0 }, 4));
	assert_true(lapic_msr_write(&f->ic.lapic[1], 0x830, 0x4055));
	assert_int_equal(irqchip_irq_ack(&f->ic, 0), 0x55);
	/* LAPIC timer of CPU 1 earlier than the PIT. */
	f->now = 0;
	pit_mode2(f, 0);
	assert_true(lapic_msr_write(&f->ic.lapic[1], 0x83e, 0xb));
	assert_true(lapic_msr_write(&f->ic.lapic[1], 0x832, 0xe0));
	assert_true(lapic_msr_write(&f->ic.lapic[1], 0x838, 5000));
	assert_int_equal(f->ev[1][LAPIC_EV_TIMER] > 0, true);
	assert_int_equal(irqchip_next_event_ns(&f->ic), 5000);
	irqchip_advance(&f->ic, 5000);
	assert_int_equal(irqchip_irq_ack(&f->ic, 1), 0xe0);
	assert_true(irqchip_next_event_ns(&f->ic) > 50000000); /* the PIT, 65536 clocks */
}

/* A hostile guest: random accesses everywhere; nothing may crash, hang or break the sanitizers. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_hostile(void **state)
{
	struct fixture *f = *state;
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61 };
	static const uint32_t msrs[] = { 0x1b, 0x6e0, 0x802, 0x808, 0x80b, 0x80f, 0x828, 0x830, 0x832,
					 0x835, 0x838, 0x839, 0x83e, 0x83f, 0x8ff };

	f->now = 1;
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t r = rnd(), v = rnd();
		unsigned cpu = (unsigned)(r >> 8) % NCPU;
		uint8_t buf[8];

		memcpy(buf, &v, 8);
		if (!(i % 256)) {
			/* Keep the APICs software-enabled and some pins unmasked, or little happens. */
			for (unsigned c = 0; c < NCPU; c++) {
				lapic_mmio_write(&f->ic.lapic[c], APIC_SVR, 0x1ff);
				lapic_msr_write(&f->ic.lapic[c], 0x80f, 0x1ff);
			}
			unsigned pin = (unsigned)((r >> 50) % 24);

			mmio_w(f, 0, 0xfec00000, 0x10 + 2 * pin + 1);
			mmio_w(f, 0, 0xfec00010, (uint32_t)(v >> 63) << 24);
			mmio_w(f, 0, 0xfec00000, 0x10 + 2 * pin);
			mmio_w(f, 0, 0xfec00010, (uint32_t)(v & 0xa8ff) | 0x20);
		}
		switch (r % 12) {
		case 0:
		case 1:
			irqchip_pio(&f->ic, ports[(r >> 16) % 11], r & 0x100000, buf, 1);
			break;
		case 2:
		case 3:
			/* Bias towards real registers, but any offset and width. */
			irqchip_mmio(&f->ic, cpu, 0xfee00000 + ((r >> 16) & 0x3f0) + ((r >> 30) & 1 ? (r >> 32) & 0xf : 0),
				     r & 0x100000, buf, 1u << ((r >> 40) & 3));
			break;
		case 4:
			irqchip_mmio(&f->ic, cpu, 0xfec00000 + ((r >> 16) & 0x1f), r & 0x100000, buf,
				     1u << ((r >> 40) & 3));
			break;
		case 5: {
			uint64_t val;
			uint32_t idx = msrs[(r >> 16) % 15];

			if (r & 0x100000)
				lapic_msr_write(&f->ic.lapic[cpu], idx, (r >> 21) & 1 ? v : v & 0xffffffff);
			else
				lapic_msr_read(&f->ic.lapic[cpu], idx, &val);
			break;
		}
		case 6:
			irqchip_set_irq(&f->ic, (unsigned)(v % 30), r & 0x100000);
			break;
		case 7:
			irqchip_msi(&f->ic, 0xfee00000 | (v & 0x100c), (uint32_t)(v >> 20));
			break;
		case 8:
			f->now += v % 2000000;
			irqchip_advance(&f->ic, f->now);
			break;
		case 9: {
			int vec = irqchip_irq_ack(&f->ic, cpu);

			assert_true(vec >= -1 && vec < 256);
			if (vec >= 0 && (v & 1) && !lapic_msr_write(&f->ic.lapic[cpu], 0x80b, 0))
				lapic_mmio_write(&f->ic.lapic[cpu], APIC_EOI, 0);
			break;
		}
		case 10:
			lapic_set_tpr(&f->ic.lapic[cpu], (uint8_t)(v & 0x3f));
			lapic_set_lint(&f->ic.lapic[cpu], (unsigned)(v >> 8) & 1, v & 0x10000);
			break;
		default: {
			uint64_t t = irqchip_next_event_ns(&f->ic);

			(void)t;
			break;
		}
		}
	}
	assert_true(f->ev[0][LAPIC_EV_IRQ] + f->ev[1][LAPIC_EV_IRQ] > 1000);
	/* Snapshots of whatever state that left survive a round trip. */
	for (unsigned c = 0; c < NCPU; c++) {
		struct x86_cpu_state cs;
		struct lapic_snap snap;

		memset(&cs, 0, sizeof(cs));
		lapic_save(&f->ic.lapic[c], &cs, &snap);
		lapic_restore(&f->ic.lapic[c], &cs, &snap);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_claims),
		T(test_pit_pic_virtual_wire),
		T(test_ioapic_path),
		T(test_ioapic_extint),
		T(test_smp_boot_and_timer),
		T(test_random_hostile),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
