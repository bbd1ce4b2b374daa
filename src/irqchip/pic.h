/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dual 8259A programmable interrupt controller (master at 0x20-0x21,
 * slave at 0xa0-0xa1 cascaded on master IRQ2, ELCR at 0x4d0-0x4d1) for
 * the software-CPU backend.
 *
 * Modelled: the initialization sequence ICW1-ICW4 (ICW1 resets the chip,
 * ICW2 sets the vector base, ICW3 is accepted and ignored: the cascade is
 * always on IRQ2, ICW4 auto-EOI and special fully nested mode), OCW1
 * (IMR), OCW2 (non-specific, specific and rotating EOIs, rotate in
 * auto-EOI mode, set priority), OCW3 (read IRR/ISR, poll, special mask
 * mode); IRR/ISR/IMR; edge and level triggering per line through the
 * ELCR (IRQ 0, 1, 2, 8 and 13 are always edge); INTA (pic_ack) with the
 * spurious IRQ 7/15 vectors; the INTR output through ops.set_intr, for
 * virtual-wire mode through LAPIC LINT0 (ExtINT) or for a CPU without
 * an APIC. Linux probes the PIC by writing 0xfb to the master IMR and
 * reading it back, runs init_8259A (ICW1 0x11, ICW2 0x30/0x38, ICW3
 * 0x04/0x02, ICW4 0x01), then masks it all when it uses the IOAPIC:
 * all of that works.
 *
 * Not modelled: ICW1's LTIM (level mode for the whole chip: use the
 * ELCR), buffered mode, 8080/8085 mode, polling a slave through the
 * master, a cascade on a line other than IRQ2.
 *
 * After reset the chips are as a BIOS leaves them: vector bases 0x08 and
 * 0x70, every line masked.
 *
 * Threads: a mutex; ops.set_intr is called with it held (it must not
 * call back into the pic; posting an event to the CPU is fine).
 */
#ifndef OSPREY_IRQCHIP_PIC_H
#define OSPREY_IRQCHIP_PIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_ELCR_MASTER 0x4d0
#define PIC_ELCR_SLAVE 0x4d1
#define PIC_CASCADE_IRQ 2

/* One 8259A. Plain data (it is also the snapshot form). */
struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t line;	      /* input levels */
	uint8_t elcr;	      /* level-triggered lines */
	uint8_t vector_base;  /* ICW2 & 0xf8 */
	uint8_t priority_add; /* the line with the highest priority */
	uint8_t init_step;    /* 0: operating, 1..3: expecting ICW2..ICW4 */
	uint8_t icw4_needed, single, auto_eoi, rotate_on_aeoi, sfnm;
	uint8_t read_isr, poll, special_mask;
};

struct pic_ops {
	void *opaque;
	/* INTR output level changed. */
	void (*set_intr)(void *opaque, bool level);
};

struct pic {
	pthread_mutex_t lock;
	struct pic_ops ops;
	struct pic_chip chip[2]; /* master, slave */
	bool intr;
};

struct pic_snap {
	struct pic_chip chip[2];
};

void pic_init(struct pic *p, const struct pic_ops *ops);
void pic_destroy(struct pic *p);
void pic_reset(struct pic *p);

/* Port I/O at the ports above (others: read 0xff, write ignored). */
uint8_t pic_io_read(struct pic *p, uint16_t port);
void pic_io_write(struct pic *p, uint16_t port, uint8_t value);

/* An ISA line 0-15 (asserted = true). */
void pic_set_irq(struct pic *p, unsigned irq, bool level);
/* The INTR output now. */
bool pic_intr(struct pic *p);
/*
 * Interrupt acknowledge (INTA): the vector; the spurious IRQ 7 (or 15)
 * vector when nothing is pending.
 */
int pic_ack(struct pic *p);

void pic_save(struct pic *p, struct pic_snap *snap);
void pic_restore(struct pic *p, const struct pic_snap *snap);

#endif
