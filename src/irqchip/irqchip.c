// SPDX-License-Identifier: Apache-2.0
/* The interrupt controllers and timers of one machine, wired together (see irqchip.h). */
#include "irqchip/irqchip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ISA_IRQS 16

static uint64_t clock_now(void *opaque)
{
	struct irqchip *ic = opaque;

	return ic->ops.now_ns ? ic->ops.now_ns(ic->ops.opaque) : 0;
}

static uint64_t cpu_clock_now(void *opaque)
{
	struct irqchip_cpu *c = opaque;

	return clock_now(c->ic);
}

static void event(struct irqchip *ic, unsigned cpu, enum lapic_event ev, uint8_t vector)
{
	if (ic->ops.cpu_event)
		ic->ops.cpu_event(ic->ops.opaque, cpu, ev, vector);
}

static void lapic_send_ipi(void *opaque, const struct lapic_msg *msg)
{
	struct irqchip_cpu *c = opaque;

	lapic_route(c->ic->lapic_ptrs, c->ic->ncpus, msg);
}

static void lapic_eoi(void *opaque, uint8_t vector)
{
	struct irqchip_cpu *c = opaque;

	ioapic_eoi(&c->ic->ioapic, vector);
}

static void lapic_notify(void *opaque, enum lapic_event ev, uint8_t vector)
{
	struct irqchip_cpu *c = opaque;

	event(c->ic, c->index, ev, vector);
}

static void ioapic_deliver(void *opaque, uint8_t dest, uint8_t dest_mode, uint8_t vector,
			   uint8_t delivery_mode, bool level_trig)
{
	struct irqchip *ic = opaque;
	struct lapic_msg m = {
		.dest = dest,
		.vector = vector,
		.delivery = delivery_mode,
		.logical = dest_mode != 0,
		.level_trig = level_trig,
	};

	lapic_route(ic->lapic_ptrs, ic->ncpus, &m);
}

static void pic_intr_changed(void *opaque, bool level)
{
	struct irqchip *ic = opaque;

	/* Virtual wire: the PIC's INTR reaches the BSP through LINT0 (ExtINT). */
	if (level && lapic_accepts_pic(&ic->lapic[0]))
		event(ic, 0, LAPIC_EV_EXTINT, 0);
}

static void pit_irq0(void *opaque, bool level)
{
	irqchip_set_irq(opaque, 0, level);
}

static void pit_changed(void *opaque)
{
	event(opaque, 0, LAPIC_EV_TIMER, 0);
}

int irqchip_init(struct irqchip *ic, unsigned ncpus, bool x2apic, const struct irqchip_ops *ops)
{
	memset(ic, 0, sizeof(*ic));
	if (!ncpus || ncpus > 255)
		return -EINVAL;
	ic->ncpus = ncpus;
	if (ops)
		ic->ops = *ops;
	ic->lapic = calloc(ncpus, sizeof(*ic->lapic));
	ic->lapic_ptrs = calloc(ncpus, sizeof(*ic->lapic_ptrs));
	ic->cpu = calloc(ncpus, sizeof(*ic->cpu));
	if (!ic->lapic || !ic->lapic_ptrs || !ic->cpu) {
		free(ic->lapic);
		free(ic->lapic_ptrs);
		free(ic->cpu);
		memset(ic, 0, sizeof(*ic));
		return -ENOMEM;
	}
	for (unsigned i = 0; i < ncpus; i++) {
		struct lapic_ops lops = {
			.opaque = &ic->cpu[i],
			.now_ns = cpu_clock_now,
			.send_ipi = lapic_send_ipi,
			.eoi = lapic_eoi,
			.notify = lapic_notify,
		};

		ic->cpu[i] = (struct irqchip_cpu){ ic, i };
		lapic_init(&ic->lapic[i], i, i == 0, x2apic, &lops);
		ic->lapic_ptrs[i] = &ic->lapic[i];
	}
	ioapic_init(&ic->ioapic, &(struct ioapic_ops){ .opaque = ic, .deliver = ioapic_deliver });
	ic->ioapic.id = ncpus & 0xf; /* the MP table's IOAPIC ID */
	pic_init(&ic->pic, &(struct pic_ops){ .opaque = ic, .set_intr = pic_intr_changed });
	pit_init(&ic->pit, &(struct pit_ops){
		.opaque = ic,
		.now_ns = clock_now,
		.irq = pit_irq0,
		.changed = pit_changed,
	});
	return 0;
}

void irqchip_destroy(struct irqchip *ic)
{
	if (!ic->lapic)
		return;
	for (unsigned i = 0; i < ic->ncpus; i++)
		lapic_destroy(&ic->lapic[i]);
	ioapic_destroy(&ic->ioapic);
	pic_destroy(&ic->pic);
	pit_destroy(&ic->pit);
	free(ic->lapic);
	free(ic->lapic_ptrs);
	free(ic->cpu);
	memset(ic, 0, sizeof(*ic));
}

void irqchip_set_irq(struct irqchip *ic, unsigned gsi, bool level)
{
	if (gsi < ISA_IRQS)
		pic_set_irq(&ic->pic, gsi, level);
	if (gsi < IOAPIC_NUM_PINS)
		ioapic_set_irq(&ic->ioapic, gsi, level);
}

void irqchip_msi(struct irqchip *ic, uint64_t addr, uint32_t data)
{
	struct lapic_msg m = {
		.dest = (uint32_t)(addr >> 12) & 0xff,
		.logical = (addr >> 2) & 1,
		.vector = data & 0xff,
		.delivery = (data >> 8) & 7,
		.level_trig = (data >> 15) & 1,
	};

	if ((addr & 0xfff00000ULL) != 0xfee00000ULL)
		return;
	lapic_route(ic->lapic_ptrs, ic->ncpus, &m);
}

int irqchip_irq_ack(struct irqchip *ic, unsigned cpu)
{
	if (cpu >= ic->ncpus)
		return -1;
	/* ExtINT first (as a CPU's INTA cycle): the PIC through LINT0 or an ExtINT message. */
	if (lapic_take_extint(&ic->lapic[cpu]) ||
	    (cpu == 0 && pic_intr(&ic->pic) && lapic_accepts_pic(&ic->lapic[0]))) {
		if (pic_intr(&ic->pic))
			return pic_ack(&ic->pic);
	}
	return lapic_ack(&ic->lapic[cpu]);
}

bool irqchip_irq_pending(struct irqchip *ic, unsigned cpu)
{
	if (cpu >= ic->ncpus)
		return false;
	if (lapic_pending_vector(&ic->lapic[cpu]) >= 0)
		return true;
	if (!pic_intr(&ic->pic))
		return false;
	return lapic_extint_pending(&ic->lapic[cpu]) ||
	       (cpu == 0 && lapic_accepts_pic(&ic->lapic[0]));
}

static bool is_pic_port(uint16_t port)
{
	return port == PIC_MASTER_CMD || port == PIC_MASTER_DATA || port == PIC_SLAVE_CMD ||
	       port == PIC_SLAVE_DATA || port == PIC_ELCR_MASTER || port == PIC_ELCR_SLAVE;
}

static bool is_pit_port(uint16_t port)
{
	return (port >= PIT_PORT_CH0 && port <= PIT_PORT_CMD) || port == PIT_PORT_61;
}

bool irqchip_pio(struct irqchip *ic, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	if (!is_pic_port(port) && !is_pit_port(port))
		return false;
	/* Wider accesses are byte accesses to consecutive ports (the ELCR pair). */
	for (unsigned i = 0; i < len; i++) {
		uint16_t p = (uint16_t)(port + i);

		if (is_pic_port(p)) {
			if (is_write)
				pic_io_write(&ic->pic, p, data[i]);
			else
				data[i] = pic_io_read(&ic->pic, p);
		} else if (is_pit_port(p)) {
			if (is_write)
				pit_io_write(&ic->pit, p, data[i]);
			else
				data[i] = pit_io_read(&ic->pit, p);
		} else if (!is_write) {
			data[i] = 0xff;
		}
	}
	return true;
}

bool irqchip_mmio(struct irqchip *ic, unsigned cpu, uint64_t gpa, bool is_write, uint8_t *data,
		  unsigned len)
{
	if (gpa >= IOAPIC_DEFAULT_BASE && gpa - IOAPIC_DEFAULT_BASE < IOAPIC_MMIO_SIZE) {
		uint32_t off = (uint32_t)(gpa - IOAPIC_DEFAULT_BASE);

		ioapic_mmio_access(&ic->ioapic, off, is_write, data, len);
		return true;
	}
	if (cpu < ic->ncpus && lapic_mmio_enabled(&ic->lapic[cpu])) {
		uint64_t base = lapic_base_addr(&ic->lapic[cpu]);

		if (gpa >= base && gpa - base < LAPIC_MMIO_SIZE) {
			lapic_mmio_access(&ic->lapic[cpu], (uint32_t)(gpa - base), is_write, data,
					  len);
			return true;
		}
	}
	return false;
}

bool irqchip_is_lapic_msr(uint32_t index)
{
	return index == LAPIC_MSR_APIC_BASE || index == LAPIC_MSR_TSC_DEADLINE ||
	       (index >= LAPIC_MSR_X2APIC_FIRST && index <= LAPIC_MSR_X2APIC_LAST);
}

uint64_t irqchip_next_event_ns(struct irqchip *ic)
{
	uint64_t next = pit_next_event_ns(&ic->pit);

	for (unsigned i = 0; i < ic->ncpus; i++) {
		uint64_t t = lapic_next_timer_event_ns(&ic->lapic[i]);

		if (t < next)
			next = t;
	}
	return next;
}

void irqchip_advance(struct irqchip *ic, uint64_t now_ns)
{
	pit_advance(&ic->pit, now_ns);
	for (unsigned i = 0; i < ic->ncpus; i++)
		lapic_timer_advance(&ic->lapic[i], now_ns);
}
