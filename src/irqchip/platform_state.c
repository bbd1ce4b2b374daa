// SPDX-License-Identifier: Apache-2.0
/*
 * struct x86_platform_state (PIC pair, IOAPIC, PIT, guest clock) in the
 * stream form of base/state.h. The reader range-checks every field
 * against what the models (pic.c, ioapic.c, pit.c) can hold, so that
 * pic_restore/ioapic_restore/pit_restore never see a value the guest
 * could not have produced; padding is not carried.
 *
 * Normalised on read rather than refused: PIT modes 6 and 7 (aliases of
 * 2 and 3 that KVM keeps as written) and the IOAPIC delivery-status bit
 * (transient, read-only, not modelled).
 */
#include "irqchip/platform_state.h"

#include <stdio.h>
#include <string.h>

#include "base/state.h"

/* Lines the ELCR may mark level: not IRQ 0, 1, 2 (master), 8, 13 (slave). */
static const uint8_t elcr_ok[2] = { 0xf8, 0xde };

/* Redirection entry bits that exist: dest 63:56, mask..vector 16:0 but delivery status. */
#define RTE_VALID ((0xff00000000000000ULL | 0x1ffffULL) & ~IOAPIC_RTE_DELIV_STATUS)

/* Limits that keep the PIT's time arithmetic far from overflow (~480 years of clocks). */
#define PIT_TICKS_MAX (1ULL << 54)
/* The guest clock: ~146 years of ns. */
#define CLOCK_NS_MAX (1ULL << 62)

static void put_pic_chip(struct state_writer *w, const struct pic_chip *c)
{
	state_put_u8(w, c->irr);
	state_put_u8(w, c->isr);
	state_put_u8(w, c->imr);
	state_put_u8(w, c->line);
	state_put_u8(w, c->elcr);
	state_put_u8(w, c->vector_base);
	state_put_u8(w, c->priority_add);
	state_put_u8(w, c->init_step);
	state_put_u8(w, c->icw4_needed);
	state_put_u8(w, c->single);
	state_put_u8(w, c->auto_eoi);
	state_put_u8(w, c->rotate_on_aeoi);
	state_put_u8(w, c->sfnm);
	state_put_u8(w, c->read_isr);
	state_put_u8(w, c->poll);
	state_put_u8(w, c->special_mask);
}

static void get_pic_chip(struct state_reader *r, struct pic_chip *c, unsigned i)
{
	char what[40];
	const char *name = i ? "pic.slave" : "pic.master";

	c->irr = state_get_u8(r);
	c->isr = state_get_u8(r);
	c->imr = state_get_u8(r);
	c->line = state_get_u8(r);
	c->elcr = state_get_u8(r);
	c->vector_base = state_get_u8(r);
	c->priority_add = state_get_u8(r);
	c->init_step = state_get_u8(r);
#define PIC_FLAG(field)                                              \
	do {                                                         \
		snprintf(what, sizeof(what), "%s.%s", name, #field); \
		c->field = state_get_u8_max(r, 1, what);                   \
	} while (0)
	PIC_FLAG(icw4_needed);
	PIC_FLAG(single);
	PIC_FLAG(auto_eoi);
	PIC_FLAG(rotate_on_aeoi);
	PIC_FLAG(sfnm);
	PIC_FLAG(read_isr);
	PIC_FLAG(poll);
	PIC_FLAG(special_mask);
#undef PIC_FLAG
	if (c->elcr & ~elcr_ok[i])
		state_fail(r, "%s.elcr %#x marks an edge-only line", name, c->elcr);
	if (c->vector_base & 7)
		state_fail(r, "%s.vector_base %#x is not a multiple of 8", name, c->vector_base);
	if (c->priority_add > 7)
		state_fail(r, "%s.priority_add %u out of range", name, c->priority_add);
	if (c->init_step > 3)
		state_fail(r, "%s.init_step %u out of range", name, c->init_step);
}

static void put_ioapic(struct state_writer *w, const struct ioapic_snap *io)
{
	state_put_u32(w, io->regsel);
	state_put_u32(w, io->id);
	state_put_u32(w, io->level);
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		state_put_u64(w, io->rte[i]);
}

static void get_ioapic(struct state_reader *r, struct ioapic_snap *io)
{
	io->regsel = state_get_u32_max(r, 0xff, "ioapic.regsel");
	io->id = state_get_u32_max(r, 0xf, "ioapic.id");
	io->level = state_get_u32_max(r, (1u << IOAPIC_NUM_PINS) - 1, "ioapic.level");
	io->pad = 0;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++) {
		uint64_t e = state_get_u64(r) & ~IOAPIC_RTE_DELIV_STATUS;
		unsigned dm = (unsigned)((e & IOAPIC_RTE_DM_MASK) >> IOAPIC_RTE_DM_SHIFT);

		if (e & ~RTE_VALID)
			state_fail(r, "ioapic.rte[%u] %#llx has reserved bits", i,
				   (unsigned long long)e);
		if (dm == 3 || dm == 6)
			state_fail(r, "ioapic.rte[%u] has reserved delivery mode %u", i, dm);
		io->rte[i] = e;
	}
}

static void put_pit_channel(struct state_writer *w, const struct pit_channel *c)
{
	state_put_u8(w, c->mode);
	state_put_u8(w, c->rw);
	state_put_u8(w, c->bcd);
	state_put_u8(w, c->gate);
	state_put_u8(w, c->armed);
	state_put_u8(w, c->loaded);
	state_put_u8(w, c->frozen);
	state_put_u8(w, c->null_count);
	state_put_u8(w, c->write_msb_next);
	state_put_u8(w, c->read_msb_next);
	state_put_u8(w, c->write_lsb);
	state_put_u8(w, c->count_latched);
	state_put_u8(w, c->status_latched);
	state_put_u8(w, c->status);
	state_put_u8(w, c->fired);
	state_put_u16(w, c->latched_count);
	state_put_u32(w, c->reload);
	state_put_u64(w, c->start_ns);
	state_put_u64(w, c->frozen_ticks);
	state_put_u64(w, c->edges_done);
}

static void get_pit_channel(struct state_reader *r, struct pit_channel *c, unsigned i)
{
	char what[40];

	memset(c, 0, sizeof(*c));
#define PIT_FIELD(field, max)                                              \
	do {                                                               \
		snprintf(what, sizeof(what), "pit.ch%u.%s", i, #field);    \
		c->field = state_get_u8_max(r, max, what);                       \
	} while (0)
	PIT_FIELD(mode, 7);
	PIT_FIELD(rw, 3);
	PIT_FIELD(bcd, 1);
	PIT_FIELD(gate, 1);
	PIT_FIELD(armed, 1);
	PIT_FIELD(loaded, 1);
	PIT_FIELD(frozen, 1);
	PIT_FIELD(null_count, 1);
	PIT_FIELD(write_msb_next, 1);
	PIT_FIELD(read_msb_next, 1);
	c->write_lsb = state_get_u8(r);
	PIT_FIELD(count_latched, 2);
	PIT_FIELD(status_latched, 1);
	c->status = state_get_u8(r);
	PIT_FIELD(fired, 1);
#undef PIT_FIELD
	c->latched_count = state_get_u16(r);
	c->reload = state_get_u32(r);
	c->start_ns = state_get_u64(r);
	snprintf(what, sizeof(what), "pit.ch%u.frozen_ticks", i);
	c->frozen_ticks = state_get_u64_max(r, PIT_TICKS_MAX, what);
	snprintf(what, sizeof(what), "pit.ch%u.edges_done", i);
	c->edges_done = state_get_u64_max(r, PIT_TICKS_MAX, what);
	if (c->mode > 5)
		c->mode -= 4; /* 6, 7: 2, 3 */
	if (c->rw == 0)
		state_fail(r, "pit.ch%u.rw 0 is not an access mode", i);
	if (c->reload < 1 || c->reload > 65536)
		state_fail(r, "pit.ch%u.reload %u out of range 1-65536", i, c->reload);
	if (i != 2 && !c->gate)
		state_fail(r, "pit.ch%u.gate is low (only channel 2 has a gate)", i);
}

static void put_pit(struct state_writer *w, const struct pit_snap *p)
{
	for (unsigned i = 0; i < 3; i++)
		put_pit_channel(w, &p->ch[i]);
	state_put_u8(w, p->port61);
}

static void get_pit(struct state_reader *r, struct pit_snap *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < 3; i++)
		get_pit_channel(r, &p->ch[i], i);
	p->port61 = state_get_u8_max(r, 0x0f, "pit.port61");
	if (state_reader_error(r) == 0 && p->ch[2].gate != (p->port61 & 1))
		state_fail(r, "pit.ch2.gate %u disagrees with port 0x61 bit 0", p->ch[2].gate);
}

void x86_platform_state_write(struct state_writer *w, const struct x86_platform_state *s)
{
	for (unsigned i = 0; i < 2; i++)
		put_pic_chip(w, &s->pic.chip[i]);
	put_ioapic(w, &s->ioapic);
	put_pit(w, &s->pit);
	state_put_u64(w, s->clock_ns);
	state_put_u64(w, s->host_realtime_ns);
}

void x86_platform_state_read(struct state_reader *r, struct x86_platform_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 2; i++)
		get_pic_chip(r, &s->pic.chip[i], i);
	get_ioapic(r, &s->ioapic);
	get_pit(r, &s->pit);
	s->clock_ns = state_get_u64_max(r, CLOCK_NS_MAX, "clock_ns");
	s->host_realtime_ns = state_get_u64(r);
	if (state_reader_error(r))
		memset(s, 0, sizeof(*s));
}
