/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PC interrupt controllers and timers of one machine, wired together
 * for the software-CPU backend: one LAPIC per vCPU, the IOAPIC, the dual
 * 8259A PIC and the 8254 PIT, routed as osprey's MP table describes them
 * (arch/x86/mptable.c): ISA IRQ n goes to PIC line n and IOAPIC pin n,
 * the PIC's INTR reaches the BSP through LINT0 as ExtINT (virtual wire),
 * IOAPIC messages and IPIs are routed with lapic_route().
 *
 * Still no knowledge of struct vm or of the CPU: the machine gives a
 * clock and one callback, cpu_event(cpu, ev, vector), that it turns into
 * soft_cpu_post() bits:
 *   LAPIC_EV_IRQ, LAPIC_EV_EXTINT -> SOFT_EVENT_IRQ (then irq_ack calls irqchip_irq_ack)
 *   LAPIC_EV_NMI  -> SOFT_EVENT_NMI
 *   LAPIC_EV_INIT -> SOFT_EVENT_INIT
 *   LAPIC_EV_SIPI -> state.events.sipi_vector = vector, SOFT_EVENT_SIPI
 *   LAPIC_EV_TIMER -> wake the thread sleeping until irqchip_next_event_ns()
 *                     (also sent, for cpu 0, when the guest reprograms the PIT)
 * cpu_event may be called from any thread, with irqchip locks held: it
 * must only post/wake, never call back into the irqchip.
 *
 * The parts stay reachable (ic->lapic[i], ic->ioapic, ic->pic, ic->pit)
 * for TPR writes (lapic_set_tpr), MSRs (lapic_msr_read/write when
 * irqchip_is_lapic_msr), the TSC offset and snapshots.
 */
#ifndef OSPREY_IRQCHIP_IRQCHIP_H
#define OSPREY_IRQCHIP_IRQCHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "irqchip/ioapic.h"
#include "irqchip/lapic.h"
#include "irqchip/pic.h"
#include "irqchip/pit.h"

struct irqchip_ops {
	void *opaque;
	uint64_t (*now_ns)(void *opaque);
	void (*cpu_event)(void *opaque, unsigned cpu, enum lapic_event ev, uint8_t vector);
};

struct irqchip;

/* Callback context of one LAPIC. */
struct irqchip_cpu {
	struct irqchip *ic;
	unsigned index;
};

struct irqchip {
	unsigned ncpus;
	struct irqchip_ops ops;
	struct lapic *lapic;	     /* [ncpus]; APIC ID = index, 0 is the BSP */
	struct lapic **lapic_ptrs;   /* [ncpus], for lapic_route */
	struct irqchip_cpu *cpu;     /* [ncpus] */
	struct ioapic ioapic;
	struct pic pic;
	struct pit pit;
};

/* ncpus >= 1. x2apic: the CPU template advertises x2APIC. 0 or -ENOMEM / -EINVAL. */
int irqchip_init(struct irqchip *ic, unsigned ncpus, bool x2apic, const struct irqchip_ops *ops);
void irqchip_destroy(struct irqchip *ic);

/* A device interrupt line: GSI 0-15 are ISA IRQs (PIC and IOAPIC), 16-23 IOAPIC only. */
void irqchip_set_irq(struct irqchip *ic, unsigned gsi, bool level);
/* An MSI write (address 0xfeeXXXXX, data) as a message on the APIC bus. */
void irqchip_msi(struct irqchip *ic, uint64_t addr, uint32_t data);

/* soft_env.irq_ack for vCPU cpu: the vector to deliver now, or -1. */
int irqchip_irq_ack(struct irqchip *ic, unsigned cpu);
/*
 * Whether irqchip_irq_ack would return a vector now, without taking it
 * (a halted vCPU with IF=1 wakes up when this is true).
 */
bool irqchip_irq_pending(struct irqchip *ic, unsigned cpu);

/* Port I/O of the PIC, ELCR, PIT and port 0x61. false: not an irqchip port. */
bool irqchip_pio(struct irqchip *ic, uint16_t port, bool is_write, uint8_t *data, unsigned len);
/* MMIO of vCPU cpu: its LAPIC page and the IOAPIC. false: not an irqchip address. */
bool irqchip_mmio(struct irqchip *ic, unsigned cpu, uint64_t gpa, bool is_write, uint8_t *data,
		  unsigned len);
/* The MSRs lapic_msr_read/write answer. */
bool irqchip_is_lapic_msr(uint32_t index);

/* The next LAPIC timer or PIT event (ns), UINT64_MAX if none. */
uint64_t irqchip_next_event_ns(struct irqchip *ic);
/* Fires every timer due by now_ns. */
void irqchip_advance(struct irqchip *ic, uint64_t now_ns);

#endif
