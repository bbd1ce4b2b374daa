/* SPDX-License-Identifier: Apache-2.0 */
/*
 * I/O APIC register model (82093AA-style, version 0x11, 24 pins) for the
 * software-CPU backend, at IOAPIC_DEFAULT_BASE.
 *
 * Modelled: IOREGSEL (0x00) / IOWIN (0x10) indirect access, the ID
 * (bits 27:24), version (0x00170011: max redirection entry 23) and
 * arbitration registers, the 24 64-bit redirection entries (vector,
 * delivery mode, logical/physical destination, polarity, trigger mode,
 * mask, 8-bit destination; delivery status reads 0, remote IRR is
 * read-only). ioapic_set_irq() takes the logical (asserted/deasserted)
 * level of a pin: polarity is stored but not applied, the machine
 * passes asserted = true. Edge pins deliver on a rising edge while
 * unmasked (an edge while masked is lost, as on hardware). Level pins
 * deliver while asserted and unmasked with remote IRR clear, setting
 * remote IRR; ioapic_eoi(vector) (the LAPIC's EOI broadcast) clears remote
 * IRR of the pins with that vector and delivers again if the line is
 * still asserted. Unmasking an asserted level pin delivers.
 *
 * Not modelled: the version-0x20 EOI register, polarity inversion,
 * delivery status, interrupt remapping.
 *
 * Delivery leaves through ops.deliver, which the machine turns into a
 * struct lapic_msg for lapic_route() (the IOAPIC knows nothing of LAPICs).
 *
 * Threads: a mutex; ops.deliver is called with it held, so deliver must
 * not call back into this ioapic (the lapic never does: its EOI callback
 * runs outside the lapic lock, lock order ioapic -> lapic).
 */
#ifndef OSPREY_IRQCHIP_IOAPIC_H
#define OSPREY_IRQCHIP_IOAPIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_DEFAULT_BASE 0xfec00000ULL
#define IOAPIC_MMIO_SIZE 0x1000
#define IOAPIC_NUM_PINS 24
#define IOAPIC_VERSION 0x11

/* MMIO offsets. */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WINDOW 0x10

/* Indirect registers. */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10 /* 0x10 + 2 * pin: low dword, +1: high dword */

/* Redirection entry bits. */
#define IOAPIC_RTE_VECTOR 0xffULL
#define IOAPIC_RTE_DM_SHIFT 8
#define IOAPIC_RTE_DM_MASK (7ULL << 8)
#define IOAPIC_RTE_LOGICAL (1ULL << 11)
#define IOAPIC_RTE_DELIV_STATUS (1ULL << 12)
#define IOAPIC_RTE_POLARITY_LOW (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

struct ioapic_ops {
	void *opaque;
	/*
	 * An interrupt message: dest (8-bit APIC ID or logical mask),
	 * dest_mode (0 physical, 1 logical), vector, delivery_mode (as the
	 * LAPIC's: 0 fixed, 1 lowest, 4 NMI, 5 INIT, 7 ExtINT), level_trig.
	 */
	void (*deliver)(void *opaque, uint8_t dest, uint8_t dest_mode, uint8_t vector,
			uint8_t delivery_mode, bool level_trig);
};

struct ioapic {
	pthread_mutex_t lock;
	struct ioapic_ops ops;
	uint32_t regsel;
	uint32_t id; /* bits 27:24 of the ID register */
	uint64_t rte[IOAPIC_NUM_PINS];
	uint32_t level; /* the input lines, bit per pin */
};

/* As after RESET: every pin masked, edge, vector 0. */
void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops);
void ioapic_destroy(struct ioapic *io);
void ioapic_reset(struct ioapic *io);

/* MMIO, offset in the page; 32-bit accesses (others: read 0, write ignored). */
uint32_t ioapic_mmio_read(struct ioapic *io, uint32_t offset);
void ioapic_mmio_write(struct ioapic *io, uint32_t offset, uint32_t value);
/* The CPU's MMIO callback form (len 1, 2, 4, 8). */
void ioapic_mmio_access(struct ioapic *io, uint32_t offset, bool is_write, uint8_t *data,
			unsigned len);

/* A pin's input line (asserted = true). Pins >= IOAPIC_NUM_PINS are ignored. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* EOI broadcast from a LAPIC for vector. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* Snapshots: the whole state is plain data. */
struct ioapic_snap {
	uint32_t regsel;
	uint32_t id;
	uint32_t level;
	uint32_t pad;
	uint64_t rte[IOAPIC_NUM_PINS];
};
void ioapic_save(struct ioapic *io, struct ioapic_snap *snap);
void ioapic_restore(struct ioapic *io, const struct ioapic_snap *snap);

#endif
