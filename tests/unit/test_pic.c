// SPDX-License-Identifier: Apache-2.0
/* irqchip/pic: the dual 8259A model, driven as Linux drives it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irqchip/pic.h"

struct fixture {
	struct pic pic;
	bool intr;
	unsigned changes;
};

static void fx_intr(void *opaque, bool level)
{
	struct fixture *f = opaque;

	f->intr = level;
	f->changes++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pic_ops ops = { .opaque = f, .set_intr = fx_intr };

	if (!f)
		return -1;
	pic_init(&f->pic, &ops);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pic_destroy(&f->pic);
	free(f);
	return 0;
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
	pic_io_write(&f->pic, port, v);
}

static uint8_t in(struct fixture *f, uint16_t port)
{
	return pic_io_read(&f->pic, port);
}

/* Linux's arch/x86/kernel/i8259.c init_8259A(auto_eoi). */
static void linux_init(struct fixture *f, bool auto_eoi)
{
	out(f, 0x21, 0xff);
	out(f, 0xa1, 0xff);
	out(f, 0x20, 0x11);			 /* ICW1: edge, cascade, ICW4 */
	out(f, 0x21, 0x30);			 /* ICW2: vectors 0x30-0x37 */
	out(f, 0x21, 1u << 2);			 /* ICW3: slave on IR2 */
	out(f, 0x21, auto_eoi ? 0x03 : 0x01);	 /* ICW4: 8086 mode (+AEOI) */
	out(f, 0xa0, 0x11);
	out(f, 0xa1, 0x38);
	out(f, 0xa1, 2);			 /* ICW3: slave ID 2 */
	out(f, 0xa1, 0x01);
	out(f, 0x21, 0xfb);			 /* all masked but the cascade */
	out(f, 0xa1, 0xff);
}

static uint8_t read_isr(struct fixture *f, uint16_t cmd)
{
	uint8_t v;

	out(f, cmd, 0x0b);
	v = in(f, cmd);
	out(f, cmd, 0x0a);
	return v;
}

static void test_reset_and_probe(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(in(f, 0x21), 0xff);
	assert_int_equal(in(f, 0xa1), 0xff);
	assert_false(pic_intr(&f->pic));
	/* probe_8259A: the IMR reads back what was written. */
	out(f, 0xa1, 0xff);
	out(f, 0x21, 0xfb);
	assert_int_equal(in(f, 0x21), 0xfb);
	/* Unknown ports. */
	assert_int_equal(in(f, 0x22), 0xff);
	/* ELCR hardwired edge lines. */
	out(f, 0x4d0, 0xff);
	out(f, 0x4d1, 0xff);
	assert_int_equal(in(f, 0x4d0), 0xf8);
	assert_int_equal(in(f, 0x4d1), 0xde);
	/* Before Linux reprograms it, the BIOS-style vectors apply. */
	out(f, 0x21, 0xfe);
	pic_set_irq(&f->pic, 0, true);
	assert_int_equal(pic_ack(&f->pic), 0x08);
}

static void test_linux_init_and_irq0(void **state)
{
	struct fixture *f = *state;

	linux_init(f, false);
	assert_int_equal(in(f, 0x21), 0xfb);
	assert_int_equal(in(f, 0xa1), 0xff);
	/* Masked IRQ0 shows in IRR, not on INTR. */
	pic_set_irq(&f->pic, 0, true);
	assert_false(f->intr);
	assert_int_equal(in(f, 0x20), 0x01); /* OCW3 read IRR is the default */
	/* Unmask: INTR. */
	out(f, 0x21, 0xfa);
	assert_true(f->intr);
	assert_true(pic_intr(&f->pic));
	assert_int_equal(pic_ack(&f->pic), 0x30);
	assert_false(f->intr);
	assert_int_equal(read_isr(f, 0x20), 0x01);
	assert_int_equal(in(f, 0x20), 0x00); /* IRR cleared by INTA (edge) */
	/* Line still high: no new edge after EOI. */
	out(f, 0x20, 0x20);
	assert_int_equal(read_isr(f, 0x20), 0);
	assert_false(f->intr);
	pic_set_irq(&f->pic, 0, false);
	pic_set_irq(&f->pic, 0, true);
	assert_true(f->intr);
	assert_int_equal(pic_ack(&f->pic), 0x30);
	/* Specific EOI, as mask_and_ack_8259A sends. */
	out(f, 0x20, 0x60);
	assert_int_equal(read_isr(f, 0x20), 0);
}

static void test_priority(void **state)
{
	struct fixture *f = *state;

	linux_init(f, false);
	out(f, 0x21, 0x00);
	pic_set_irq(&f->pic, 3, true);
	pic_set_irq(&f->pic, 1, true);
	assert_int_equal(pic_ack(&f->pic), 0x31);
	/* IRQ3 waits for IRQ1's EOI; IRQ0 preempts. */
	assert_false(f->intr);
	pic_set_irq(&f->pic, 0, true);
	assert_true(f->intr);
	assert_int_equal(pic_ack(&f->pic), 0x30);
	assert_int_equal(read_isr(f, 0x20), 0x03);
	out(f, 0x20, 0x20); /* non-specific: the highest, IRQ0 */
	assert_int_equal(read_isr(f, 0x20), 0x02);
	assert_false(f->intr);
	out(f, 0x20, 0x20);
	assert_true(f->intr);
	assert_int_equal(pic_ack(&f->pic), 0x33);
	out(f, 0x20, 0x20);
	/* Nothing pending: spurious IRQ7, ISR untouched. */
	assert_int_equal(pic_ack(&f->pic), 0x37);
	assert_int_equal(read_isr(f, 0x20), 0);
	/* Set priority: IRQ2 lowest, so IRQ3 is now the highest. */
	pic_set_irq(&f->pic, 1, false);
	pic_set_irq(&f->pic, 3, false);
	out(f, 0x20, 0xc2);
	pic_set_irq(&f->pic, 1, true);
	pic_set_irq(&f->pic, 4, true);
	assert_int_equal(pic_ack(&f->pic), 0x34);
	/* Rotate on specific EOI: IRQ4 lowest, IRQ5 highest. */
	out(f, 0x20, 0xe4);
	assert_int_equal(pic_ack(&f->pic), 0x31);
	out(f, 0x20, 0x20);
	/* Special mask mode: a masked in-service line does not block lower ones. */
	pic_set_irq(&f->pic, 6, true);
	out(f, 0x20, 0xc7); /* back to IRQ0 highest */
	assert_int_equal(pic_ack(&f->pic), 0x36);
	pic_set_irq(&f->pic, 7, true);
	assert_false(f->intr);
	out(f, 0x21, 1u << 6);
	out(f, 0x20, 0x68); /* OCW3: set special mask */
	assert_true(f->intr);
	assert_int_equal(pic_ack(&f->pic), 0x37);
	assert_int_equal(read_isr(f, 0x20), 0xc0);
}

static void test_slave_cascade(void **state)
{
	struct fixture *f = *state;

	linux_init(f, false);
	out(f, 0xa1, (uint8_t)~(1u << 4));
	pic_set_irq(&f->pic, 12, true);
	assert_true(f->intr);
	assert_int_equal(pic_ack(&f->pic), 0x3c);
	assert_int_equal(read_isr(f, 0x20), 0x04);
	assert_int_equal(read_isr(f, 0xa0), 0x10);
	assert_false(f->intr);
	/* mask_and_ack_8259A for a slave line. */
	out(f, 0xa0, 0x60 + 4);
	out(f, 0x20, 0x60 + 2);
	assert_int_equal(read_isr(f, 0x20), 0);
	assert_int_equal(read_isr(f, 0xa0), 0);
	/* Masked slave line: nothing reaches the master. */
	pic_set_irq(&f->pic, 12, false);
	out(f, 0xa1, 0xff);
	pic_set_irq(&f->pic, 12, true);
	assert_false(f->intr);
	assert_int_equal(in(f, 0xa0), 0x10);
	/* Slave spurious (IRQ15) when the slave request vanished after the cascade latched. */
	out(f, 0xa1, 0xef);
	assert_true(f->intr);
	out(f, 0xa1, 0xff);
	assert_int_equal(pic_ack(&f->pic), 0x3f);
	out(f, 0x20, 0x20);
}

static void test_level_elcr(void **state)
{
	struct fixture *f = *state;

	linux_init(f, false);
	out(f, 0x4d1, 1u << 2); /* IRQ10 level */
	assert_int_equal(in(f, 0x4d1), 0x04);
	out(f, 0xa1, (uint8_t)~(1u << 2));
	pic_set_irq(&f->pic, 10, true);
	assert_true(f->intr);
	assert_int_equal(pic_ack(&f->pic), 0x3a);
	assert_false(f->intr);
	/* EOI with the line still high: requested again. */
	out(f, 0xa0, 0x20);
	out(f, 0x20, 0x20);
	assert_true(f->intr);
	/* The line drops before INTA: the request is withdrawn. */
	pic_set_irq(&f->pic, 10, false);
	assert_int_equal(in(f, 0xa0), 0x00);
	assert_int_equal(pic_ack(&f->pic), 0x3f); /* cascade latched: slave spurious */
	out(f, 0x20, 0x20);
	assert_false(f->intr);
}

static void test_auto_eoi_and_poll(void **state)
{
	struct fixture *f = *state;

	linux_init(f, true);
	out(f, 0x21, 0xf8);
	pic_set_irq(&f->pic, 1, true);
	assert_int_equal(pic_ack(&f->pic), 0x31);
	assert_int_equal(read_isr(f, 0x20), 0);
	/* Poll: OCW3 with P set, then a read of the command port. */
	pic_set_irq(&f->pic, 0, true);
	out(f, 0x20, 0x0c);
	assert_int_equal(in(f, 0x20), 0x80);
	out(f, 0x20, 0x0c);
	assert_int_equal(in(f, 0x20), 0x00);
	/* ICW1 without ICW4 clears auto-EOI and IMR; ICW1 resets the chip. */
	out(f, 0x20, 0x10);
	out(f, 0x21, 0x40);
	out(f, 0x21, 0x04);
	assert_int_equal(in(f, 0x21), 0x00);
	pic_set_irq(&f->pic, 0, false);
	pic_set_irq(&f->pic, 0, true);
	assert_int_equal(pic_ack(&f->pic), 0x40);
	assert_int_equal(read_isr(f, 0x20), 0x01);
}

static void test_save_restore(void **state)
{
	struct fixture *f = *state;
	struct pic_snap snap;
	struct pic r;

	linux_init(f, false);
	out(f, 0x21, 0xfa);
	pic_set_irq(&f->pic, 0, true);
	pic_save(&f->pic, &snap);
	pic_init(&r, NULL);
	pic_restore(&r, &snap);
	assert_true(pic_intr(&r));
	assert_int_equal(pic_ack(&r), 0x30);
	memset(&snap, 0xff, sizeof(snap));
	pic_restore(&r, &snap);
	assert_int_equal(r.chip[0].priority_add, 7);
	assert_int_equal(r.chip[1].elcr, 0xde);
	assert_int_equal(r.chip[0].init_step, 0);
	pic_destroy(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_and_probe), T(test_linux_init_and_irq0), T(test_priority),
		T(test_slave_cascade),	 T(test_level_elcr),	      T(test_auto_eoi_and_poll),
		T(test_save_restore),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
