// SPDX-License-Identifier: Apache-2.0
/* Dual 8259A PIC register model (see pic.h). */
#include "irqchip/pic.h"

#include <string.h>

/* Lines that cannot be level-triggered (ELCR bits hardwired to 0). */
static const uint8_t elcr_mask[2] = { 0xf8, 0xde };

/* Priority rank of the highest-priority bit of mask (0 best), 8 when none. */
static unsigned rank(const struct pic_chip *c, uint8_t mask)
{
	for (unsigned i = 0; i < 8; i++)
		if (mask & (1u << ((i + c->priority_add) & 7)))
			return i;
	return 8;
}

static unsigned line_of(const struct pic_chip *c, unsigned r)
{
	return (r + c->priority_add) & 7;
}

/* The line this chip would request now, or -1. */
static int chip_pending(const struct pic_chip *c, bool master)
{
	uint8_t pend = c->irr & ~c->imr, in_service = c->isr;
	unsigned r;

	if (!pend)
		return -1;
	r = rank(c, pend);
	if (c->special_mask)
		in_service &= ~c->imr;
	if (master && c->sfnm)
		in_service &= ~(1u << PIC_CASCADE_IRQ);
	if (r < rank(c, in_service))
		return (int)line_of(c, r);
	return -1;
}

static void chip_set_line(struct pic_chip *c, unsigned irq, bool level)
{
	uint8_t bit = 1u << irq;

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->line & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->line |= bit;
	else
		c->line &= ~bit;
}

static void chip_ack(struct pic_chip *c, unsigned irq)
{
	uint8_t bit = 1u << irq;

	if (!(c->elcr & bit))
		c->irr &= ~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->priority_add = (irq + 1) & 7;
	} else {
		c->isr |= bit;
	}
}

/* Propagates the slave's output to master IRQ2, then the master's to INTR. */
static void update(struct pic *p)
{
	bool out;

	chip_set_line(&p->chip[0], PIC_CASCADE_IRQ, chip_pending(&p->chip[1], false) >= 0);
	out = chip_pending(&p->chip[0], true) >= 0;
	if (out != p->intr) {
		p->intr = out;
		if (p->ops.set_intr)
			p->ops.set_intr(p->ops.opaque, out);
	}
}

static void chip_reset(struct pic_chip *c, uint8_t base)
{
	memset(c, 0, sizeof(*c));
	c->vector_base = base;
	c->imr = 0xff;
}

void pic_reset(struct pic *p)
{
	pthread_mutex_lock(&p->lock);
	chip_reset(&p->chip[0], 0x08);
	chip_reset(&p->chip[1], 0x70);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

void pic_init(struct pic *p, const struct pic_ops *ops)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	if (ops)
		p->ops = *ops;
	pic_reset(p);
}

void pic_destroy(struct pic *p)
{
	pthread_mutex_destroy(&p->lock);
}

static void write_cmd(struct pic_chip *c, uint8_t v)
{
	unsigned r;

	if (v & 0x10) { /* ICW1 */
		uint8_t line = c->line, elcr = c->elcr, base = c->vector_base;

		memset(c, 0, sizeof(*c));
		c->line = line;
		c->elcr = elcr;
		c->vector_base = base;
		c->irr = line & elcr; /* the edge-sense latches are cleared */
		c->icw4_needed = v & 1;
		c->single = (v >> 1) & 1;
		c->init_step = 1;
		return;
	}
	if (v & 0x08) { /* OCW3 */
		if (v & 0x04)
			c->poll = 1;
		if (v & 0x02)
			c->read_isr = v & 1;
		if (v & 0x40)
			c->special_mask = (v >> 5) & 1;
		return;
	}
	/* OCW2 */
	switch (v >> 5) {
	case 0: /* rotate in auto-EOI mode: clear */
		c->rotate_on_aeoi = 0;
		break;
	case 4: /* rotate in auto-EOI mode: set */
		c->rotate_on_aeoi = 1;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		r = rank(c, c->isr);
		if (r < 8) {
			unsigned irq = line_of(c, r);

			c->isr &= ~(1u << irq);
			if (v >> 5 == 5)
				c->priority_add = (irq + 1) & 7;
		}
		break;
	case 3: /* specific EOI */
		c->isr &= ~(1u << (v & 7));
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= ~(1u << (v & 7));
		c->priority_add = ((v & 7) + 1) & 7;
		break;
	case 6: /* set priority: v & 7 becomes the lowest */
		c->priority_add = ((v & 7) + 1) & 7;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 1: /* ICW2 */
		c->vector_base = v & 0xf8;
		c->init_step = c->single ? (c->icw4_needed ? 3 : 0) : 2;
		break;
	case 2: /* ICW3: the cascade is fixed on IRQ2 */
		c->init_step = c->icw4_needed ? 3 : 0;
		break;
	case 3: /* ICW4 */
		c->auto_eoi = (v >> 1) & 1;
		c->sfnm = (v >> 4) & 1;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

static uint8_t poll_chip(struct pic_chip *c, bool master)
{
	int irq = chip_pending(c, master);

	c->poll = 0;
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned)irq);
	return 0x80 | (uint8_t)irq;
}

uint8_t pic_io_read(struct pic *p, uint16_t port)
{
	struct pic_chip *c;
	uint8_t v = 0xff;

	pthread_mutex_lock(&p->lock);
	switch (port) {
	case PIC_MASTER_CMD:
	case PIC_SLAVE_CMD:
		c = &p->chip[port == PIC_SLAVE_CMD];
		if (c->poll) {
			v = poll_chip(c, port == PIC_MASTER_CMD);
			update(p);
		} else {
			v = c->read_isr ? c->isr : c->irr;
		}
		break;
	case PIC_MASTER_DATA:
	case PIC_SLAVE_DATA:
		c = &p->chip[port == PIC_SLAVE_DATA];
		v = c->poll ? poll_chip(c, port == PIC_MASTER_DATA) : c->imr;
		update(p);
		break;
	case PIC_ELCR_MASTER:
	case PIC_ELCR_SLAVE:
		v = p->chip[port == PIC_ELCR_SLAVE].elcr;
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return v;
}

void pic_io_write(struct pic *p, uint16_t port, uint8_t value)
{
	unsigned i;

	pthread_mutex_lock(&p->lock);
	switch (port) {
	case PIC_MASTER_CMD:
	case PIC_SLAVE_CMD:
		write_cmd(&p->chip[port == PIC_SLAVE_CMD], value);
		break;
	case PIC_MASTER_DATA:
	case PIC_SLAVE_DATA:
		write_data(&p->chip[port == PIC_SLAVE_DATA], value);
		break;
	case PIC_ELCR_MASTER:
	case PIC_ELCR_SLAVE:
		i = port == PIC_ELCR_SLAVE;
		p->chip[i].elcr = value & elcr_mask[i];
		break;
	default:
		break;
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
}

void pic_set_irq(struct pic *p, unsigned irq, bool level)
{
	if (irq >= 16)
		return;
	pthread_mutex_lock(&p->lock);
	chip_set_line(&p->chip[irq >> 3], irq & 7, level);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

bool pic_intr(struct pic *p)
{
	bool r;

	pthread_mutex_lock(&p->lock);
	r = p->intr;
	pthread_mutex_unlock(&p->lock);
	return r;
}

int pic_ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	int irq, vector;

	pthread_mutex_lock(&p->lock);
	irq = chip_pending(m, true);
	if (irq < 0) {
		vector = m->vector_base | 7; /* spurious */
	} else {
		chip_ack(m, (unsigned)irq);
		if (irq == PIC_CASCADE_IRQ) {
			int sirq = chip_pending(s, false);

			if (sirq < 0) {
				vector = s->vector_base | 7;
			} else {
				chip_ack(s, (unsigned)sirq);
				vector = s->vector_base + sirq;
			}
		} else {
			vector = m->vector_base + irq;
		}
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
	return vector;
}

void pic_save(struct pic *p, struct pic_snap *snap)
{
	pthread_mutex_lock(&p->lock);
	memcpy(snap->chip, p->chip, sizeof(p->chip));
	pthread_mutex_unlock(&p->lock);
}

void pic_restore(struct pic *p, const struct pic_snap *snap)
{
	pthread_mutex_lock(&p->lock);
	memcpy(p->chip, snap->chip, sizeof(p->chip));
	for (unsigned i = 0; i < 2; i++) {
		struct pic_chip *c = &p->chip[i];

		c->elcr &= elcr_mask[i];
		c->vector_base &= 0xf8;
		c->priority_add &= 7;
		if (c->init_step > 3)
			c->init_step = 0;
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
}
