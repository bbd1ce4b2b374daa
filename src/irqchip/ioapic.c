// SPDX-License-Identifier: Apache-2.0
/* I/O APIC register model: redirection table, edge/level delivery (see ioapic.h). */
#include "irqchip/ioapic.h"

#include <string.h>

/* Bits the guest may write: everything but delivery status and remote IRR. */
#define RTE_WRITABLE (~(IOAPIC_RTE_DELIV_STATUS | IOAPIC_RTE_REMOTE_IRR) & \
		      (0xff00000000000000ULL | 0x1ffffULL))

static void deliver(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	if (io->ops.deliver)
		io->ops.deliver(io->ops.opaque, (uint8_t)(e >> IOAPIC_RTE_DEST_SHIFT),
				(e & IOAPIC_RTE_LOGICAL) ? 1 : 0, (uint8_t)(e & IOAPIC_RTE_VECTOR),
				(uint8_t)((e & IOAPIC_RTE_DM_MASK) >> IOAPIC_RTE_DM_SHIFT),
				(e & IOAPIC_RTE_LEVEL) != 0);
}

/* A level pin delivers while asserted, unmasked and not awaiting EOI. */
static void service_level(struct ioapic *io, unsigned pin)
{
	uint64_t e = io->rte[pin];

	if (!(e & IOAPIC_RTE_LEVEL) || (e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)))
		return;
	if (!(io->level & (1u << pin)))
		return;
	io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	deliver(io, pin);
}

void ioapic_reset(struct ioapic *io)
{
	pthread_mutex_lock(&io->lock);
	io->regsel = 0;
	io->id = 0;
	io->level = 0;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;
	pthread_mutex_unlock(&io->lock);
}

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops)
{
	memset(io, 0, sizeof(*io));
	pthread_mutex_init(&io->lock, NULL);
	if (ops)
		io->ops = *ops;
	ioapic_reset(io);
}

void ioapic_destroy(struct ioapic *io)
{
	pthread_mutex_destroy(&io->lock);
}

static uint32_t read_indirect(const struct ioapic *io, uint32_t index)
{
	switch (index) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return io->id << 24;
	case IOAPIC_REG_VER:
		return IOAPIC_VERSION | ((IOAPIC_NUM_PINS - 1) << 16);
	default:
		if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
			unsigned pin = (index - IOAPIC_REG_REDTBL) / 2;

			if (index & 1)
				return (uint32_t)(io->rte[pin] >> 32);
			return (uint32_t)io->rte[pin];
		}
		return 0;
	}
}

static void write_indirect(struct ioapic *io, uint32_t index, uint32_t v)
{
	unsigned pin;
	uint64_t old, e;

	if (index == IOAPIC_REG_ID) {
		io->id = (v >> 24) & 0xf;
		return;
	}
	if (index < IOAPIC_REG_REDTBL || index >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS)
		return; /* version, arbitration and unused indices are read-only */
	pin = (index - IOAPIC_REG_REDTBL) / 2;
	old = io->rte[pin];
	if (index & 1)
		e = (old & 0xffffffffULL) | ((uint64_t)v << 32);
	else
		e = (old & ~0xffffffffULL) | v;
	e = (e & RTE_WRITABLE) | (old & IOAPIC_RTE_REMOTE_IRR);
	/* An edge pin has no remote IRR. */
	if (!(e & IOAPIC_RTE_LEVEL))
		e &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = e;
	service_level(io, pin);
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint32_t offset)
{
	uint32_t v = 0;

	pthread_mutex_lock(&io->lock);
	if (offset == IOAPIC_REGSEL)
		v = io->regsel;
	else if (offset == IOAPIC_WINDOW)
		v = read_indirect(io, io->regsel);
	pthread_mutex_unlock(&io->lock);
	return v;
}

void ioapic_mmio_write(struct ioapic *io, uint32_t offset, uint32_t value)
{
	pthread_mutex_lock(&io->lock);
	if (offset == IOAPIC_REGSEL)
		io->regsel = value & 0xff;
	else if (offset == IOAPIC_WINDOW)
		write_indirect(io, io->regsel, value);
	pthread_mutex_unlock(&io->lock);
}

void ioapic_mmio_access(struct ioapic *io, uint32_t offset, bool is_write, uint8_t *data,
			unsigned len)
{
	uint32_t v;

	offset &= IOAPIC_MMIO_SIZE - 1;
	if (is_write) {
		if (len == 4 && !(offset & 3)) {
			memcpy(&v, data, 4);
			ioapic_mmio_write(io, offset, v);
		} else if (len == 1 && offset == IOAPIC_REGSEL) {
			ioapic_mmio_write(io, offset, data[0]);
		}
		return;
	}
	v = ioapic_mmio_read(io, offset & ~3u);
	for (unsigned i = 0; i < len; i++) {
		unsigned bit = (offset & 3) * 8 + i * 8;

		data[i] = bit < 32 ? (uint8_t)(v >> bit) : 0;
	}
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	uint32_t bit;
	bool rising;

	if (pin >= IOAPIC_NUM_PINS)
		return;
	bit = 1u << pin;
	pthread_mutex_lock(&io->lock);
	rising = level && !(io->level & bit);
	if (level)
		io->level |= bit;
	else
		io->level &= ~bit;
	if (io->rte[pin] & IOAPIC_RTE_LEVEL)
		service_level(io, pin);
	else if (rising && !(io->rte[pin] & IOAPIC_RTE_MASKED))
		deliver(io, pin);
	pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	pthread_mutex_lock(&io->lock);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		uint64_t e = io->rte[pin];

		if ((e & IOAPIC_RTE_VECTOR) != vector || !(e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
		service_level(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
}

void ioapic_save(struct ioapic *io, struct ioapic_snap *snap)
{
	pthread_mutex_lock(&io->lock);
	memset(snap, 0, sizeof(*snap));
	snap->regsel = io->regsel;
	snap->id = io->id;
	snap->level = io->level;
	memcpy(snap->rte, io->rte, sizeof(io->rte));
	pthread_mutex_unlock(&io->lock);
}

void ioapic_restore(struct ioapic *io, const struct ioapic_snap *snap)
{
	pthread_mutex_lock(&io->lock);
	io->regsel = snap->regsel & 0xff;
	io->id = snap->id & 0xf;
	io->level = snap->level & ((1u << IOAPIC_NUM_PINS) - 1);
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		io->rte[i] = snap->rte[i] & (RTE_WRITABLE | IOAPIC_RTE_REMOTE_IRR);
	pthread_mutex_unlock(&io->lock);
}
