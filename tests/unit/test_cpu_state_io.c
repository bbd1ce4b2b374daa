// SPDX-License-Identifier: Apache-2.0
/*
 * arch/x86/cpu_state_io and irqchip/platform_state: the stream forms of
 * the vCPU and platform state round-trip, and a truncated or out-of-range
 * stream fails with a message naming the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/cpu_state.h"
#include "base/state.h"
#include "irqchip/platform_state.h"

static void sample_cpu(struct x86_cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		s->gpr[i] = 0x1111111111111111ULL * (i + 1);
	s->rip = 0xffffffff81000123ULL;
	s->rflags = 0x246;
	for (unsigned i = 0; i < X86_NR_SREGS; i++) {
		s->seg[i].base = i == X86_GS ? 0xffff888000001000ULL : 0;
		s->seg[i].limit = 0xffffffff;
		s->seg[i].selector = (uint16_t)(8 * i);
		s->seg[i].type = (uint8_t)(i == X86_CS ? 11 : 3);
		s->seg[i].s = 1;
		s->seg[i].present = 1;
		s->seg[i].l = i == X86_CS;
		s->seg[i].g = 1;
		s->seg[i].dpl = (uint8_t)(i & 3);
	}
	s->gdt.base = 0xfffffe0000001000ULL;
	s->gdt.limit = 0x7f;
	s->idt.base = 0xfffffe0000000000ULL;
	s->idt.limit = 0xfff;
	s->cr0 = 0x80050033;
	s->cr2 = 0x7fffdeadbeefULL;
	s->cr3 = 0x1234000;
	s->cr4 = 0x3406f0;
	s->cr8 = 5;
	s->efer = 0xd01;
	s->xcr0 = 7;
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->tsc = 123456789012ULL;
	s->msr.apic_base = 0xfee00900ULL;
	s->msr.lstar = 0xffffffff81a00000ULL;
	s->msr.pat = 0x0007040600070406ULL;
	s->msr.kvm_system_time = 0x5001;
	s->msr.tsc_deadline = 99;
	s->fpu.fcw = 0x37f;
	s->fpu.mxcsr = 0x1f80;
	s->fpu.mxcsr_mask = 0xffff;
	for (unsigned i = 0; i < 16; i++)
		memset(s->fpu.xmm[i], 0xa0 + i, 16);
	memset(s->fpu.st[3], 0x42, 10);
	s->events.exception_pending = 1;
	s->events.exception_vector = 14;
	s->events.exception_has_error = 1;
	s->events.exception_error = 2;
	s->events.nmi_pending = 1;
	s->events.interrupt_shadow = 1;
	s->events.sipi_vector = 0x9a;
	s->mp_state = X86_MP_HALTED;
	s->apic_id = 3;
	for (unsigned i = 0; i < X86_LAPIC_REGS_SIZE; i++)
		s->lapic[i] = (uint8_t)(i * 7);
	s->lapic_timer_remaining_ns = 1000000;
	s->lapic_timer_period_ns = 4000000;
	s->lapic_esr_pending = 0x40;
	s->lapic_lint_level = 2;
}

/* Writes s, returns the malloc'ed bytes. */
static uint8_t *write_cpu(const struct x86_cpu_state *s, size_t *len)
{
	struct state_writer w;
	uint8_t *p;

	state_writer_init(&w);
	x86_cpu_state_write(&w, s);
	assert_int_equal(state_writer_error(&w), 0);
	p = malloc(w.len);
	assert_non_null(p);
	memcpy(p, w.buf, w.len);
	*len = w.len;
	state_writer_free(&w);
	return p;
}

/* The padding-free fields compare equal (pad bytes are not carried). */
static void assert_cpu_equal(const struct x86_cpu_state *a, const struct x86_cpu_state *b)
{
	struct x86_cpu_state x = *a, y = *b;

	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		x.seg[i].pad = y.seg[i].pad = 0;
	x.fpu.reserved1 = y.fpu.reserved1 = 0;
	memset(x.fpu.reserved2, 0, sizeof(x.fpu.reserved2));
	memset(y.fpu.reserved2, 0, sizeof(y.fpu.reserved2));
	assert_memory_equal(x.gpr, y.gpr, sizeof(x.gpr));
	assert_memory_equal(x.seg, y.seg, sizeof(x.seg));
	assert_memory_equal(&x.fpu, &y.fpu, sizeof(x.fpu));
	assert_memory_equal(&x.msr, &y.msr, sizeof(x.msr));
	assert_memory_equal(x.lapic, y.lapic, sizeof(x.lapic));
	assert_int_equal(x.rip, y.rip);
	assert_int_equal(x.rflags, y.rflags);
	assert_int_equal(x.gdt.base, y.gdt.base);
	assert_int_equal(x.gdt.limit, y.gdt.limit);
	assert_int_equal(x.idt.base, y.idt.base);
	assert_int_equal(x.cr0, y.cr0);
	assert_int_equal(x.cr2, y.cr2);
	assert_int_equal(x.cr3, y.cr3);
	assert_int_equal(x.cr4, y.cr4);
	assert_int_equal(x.cr8, y.cr8);
	assert_int_equal(x.efer, y.efer);
	assert_int_equal(x.xcr0, y.xcr0);
	assert_memory_equal(x.dr, y.dr, sizeof(x.dr));
	assert_int_equal(x.tsc, y.tsc);
	assert_memory_equal(&x.events, &y.events, sizeof(x.events));
	assert_int_equal(x.mp_state, y.mp_state);
	assert_int_equal(x.apic_id, y.apic_id);
	assert_int_equal(x.lapic_timer_remaining_ns, y.lapic_timer_remaining_ns);
	assert_int_equal(x.lapic_timer_period_ns, y.lapic_timer_period_ns);
	assert_int_equal(x.lapic_esr_pending, y.lapic_esr_pending);
	assert_int_equal(x.lapic_lint_level, y.lapic_lint_level);
}

static void test_cpu_roundtrip(void **state)
{
	struct x86_cpu_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;

	(void)state;
	sample_cpu(&a);
	p = write_cpu(&a, &len);
	state_reader_init(&r, p, len);
	x86_cpu_state_read(&r, &b);
	assert_int_equal(state_reader_error(&r), 0);
	assert_int_equal(state_reader_finish(&r, "cpu"), 0);
	assert_cpu_equal(&a, &b);
	free(p);
}

static void test_cpu_truncated(void **state)
{
	struct x86_cpu_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;
	unsigned fails = 0;

	(void)state;
	sample_cpu(&a);
	p = write_cpu(&a, &len);
	for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
		state_reader_init(&r, p, cut);
		x86_cpu_state_read(&r, &b);
		assert_int_equal(state_reader_error(&r), -EBADMSG);
		assert_true(state_reader_msg(&r)[0] != 0);
		/* nothing of a failed read is left behind */
		assert_int_equal(b.rip, 0);
		assert_int_equal(b.gpr[0], 0);
		fails++;
	}
	assert_true(fails > 64);
	free(p);
}

/* Mutates a good state, writes it, and expects the read to fail naming `field`. */
static void expect_reject(void (*mutate)(struct x86_cpu_state *), const char *field)
{
	struct x86_cpu_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;

	sample_cpu(&a);
	mutate(&a);
	p = write_cpu(&a, &len);
	state_reader_init(&r, p, len);
	x86_cpu_state_read(&r, &b);
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	if (!strstr(state_reader_msg(&r), field))
		fail_msg("message '%s' does not name %s", state_reader_msg(&r), field);
	free(p);
}

static void m_mp(struct x86_cpu_state *s) { s->mp_state = 4; }
static void m_type(struct x86_cpu_state *s) { s->seg[X86_SS].type = 16; }
static void m_dpl(struct x86_cpu_state *s) { s->seg[X86_CS].dpl = 4; }
static void m_present(struct x86_cpu_state *s) { s->seg[X86_TR].present = 2; }
static void m_mxcsr(struct x86_cpu_state *s) { s->fpu.mxcsr = 0x10000; }
static void m_mxcsr_daz(struct x86_cpu_state *s)
{
	s->fpu.mxcsr_mask = 0xffbf;
	s->fpu.mxcsr = 0x1fc0; /* DAZ without support */
}
static void m_cr0(struct x86_cpu_state *s) { s->cr0 |= 1ULL << 40; }
static void m_cr0_low(struct x86_cpu_state *s) { s->cr0 |= 1ULL << 8; }
static void m_cr4(struct x86_cpu_state *s) { s->cr4 |= 1ULL << 15; }
static void m_efer(struct x86_cpu_state *s) { s->efer |= 1ULL << 9; }
static void m_rip(struct x86_cpu_state *s) { s->rip = 0x0000800000000000ULL; }
static void m_rflags(struct x86_cpu_state *s) { s->rflags |= 1ULL << 3; }
static void m_lstar(struct x86_cpu_state *s) { s->msr.lstar = 0x8000000000000000ULL; }
static void m_vector(struct x86_cpu_state *s) { s->events.exception_vector = 200; }
static void m_shadow(struct x86_cpu_state *s) { s->events.interrupt_shadow = 4; }
static void m_lint(struct x86_cpu_state *s) { s->lapic_lint_level = 4; }
static void m_pat(struct x86_cpu_state *s) { s->msr.pat = 0x02; }
static void m_cr8(struct x86_cpu_state *s) { s->cr8 = 16; }
static void m_timer(struct x86_cpu_state *s) { s->lapic_timer_remaining_ns = 1ULL << 60; }
static void m_period(struct x86_cpu_state *s) { s->lapic_timer_period_ns = UINT64_MAX; }

static void test_cpu_invalid(void **state)
{
	(void)state;
	expect_reject(m_mp, "mp_state");
	expect_reject(m_type, "ss.type");
	expect_reject(m_dpl, "cs.dpl");
	expect_reject(m_present, "tr.present");
	expect_reject(m_mxcsr, "mxcsr");
	expect_reject(m_mxcsr_daz, "mxcsr");
	expect_reject(m_cr0, "cr0");
	expect_reject(m_cr0_low, "cr0");
	expect_reject(m_cr4, "cr4");
	expect_reject(m_efer, "efer");
	expect_reject(m_rip, "rip");
	expect_reject(m_rflags, "rflags");
	expect_reject(m_lstar, "lstar");
	expect_reject(m_vector, "exception_vector");
	expect_reject(m_shadow, "interrupt_shadow");
	expect_reject(m_lint, "lapic_lint_level");
	expect_reject(m_pat, "pat");
	expect_reject(m_cr8, "cr8");
	expect_reject(m_timer, "lapic_timer_remaining_ns");
	expect_reject(m_period, "lapic_timer_period_ns");
}

/* LA57 widens what is canonical. */
static void test_cpu_la57(void **state)
{
	struct x86_cpu_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;

	(void)state;
	sample_cpu(&a);
	a.cr4 |= 1ULL << 12;
	a.rip = 0x00ff800000000000ULL;
	p = write_cpu(&a, &len);
	state_reader_init(&r, p, len);
	x86_cpu_state_read(&r, &b);
	assert_int_equal(state_reader_error(&r), 0);
	assert_int_equal(b.rip, a.rip);
	free(p);
}

static void sample_platform(struct x86_platform_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 2; i++) {
		struct pic_chip *c = &s->pic.chip[i];

		c->irr = 0x11;
		c->isr = 0x02;
		c->imr = 0xfb;
		c->line = 0x10;
		c->elcr = i ? 0x0c : 0x20;
		c->vector_base = (uint8_t)(0x30 + 8 * i);
		c->priority_add = 3;
		c->auto_eoi = 1;
	}
	s->ioapic.regsel = 0x12;
	s->ioapic.id = 2;
	s->ioapic.level = 1u << 9;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		s->ioapic.rte[i] = IOAPIC_RTE_MASKED | (0x20 + i);
	s->ioapic.rte[9] = IOAPIC_RTE_LEVEL | IOAPIC_RTE_REMOTE_IRR | 0x29 | (1ULL << 56);
	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &s->pit.ch[i];

		c->mode = (uint8_t)(i == 0 ? 2 : 0);
		c->rw = 3;
		c->gate = i != 2;
		c->armed = 1;
		c->loaded = 1;
		c->reload = 11932;
		c->start_ns = 5000000;
		c->edges_done = 7;
		c->latched_count = 0x1234;
		c->status = 0xb4;
	}
	s->pit.port61 = 0;
	s->clock_ns = 12345678900ULL;
	s->host_realtime_ns = 1700000000000000000ULL;
}

static uint8_t *write_platform(const struct x86_platform_state *s, size_t *len)
{
	struct state_writer w;
	uint8_t *p;

	state_writer_init(&w);
	x86_platform_state_write(&w, s);
	assert_int_equal(state_writer_error(&w), 0);
	p = malloc(w.len);
	assert_non_null(p);
	memcpy(p, w.buf, w.len);
	*len = w.len;
	state_writer_free(&w);
	return p;
}

static void test_platform_roundtrip(void **state)
{
	struct x86_platform_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;

	(void)state;
	sample_platform(&a);
	p = write_platform(&a, &len);
	state_reader_init(&r, p, len);
	x86_platform_state_read(&r, &b);
	assert_int_equal(state_reader_error(&r), 0);
	assert_int_equal(state_reader_finish(&r, "platform"), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	for (size_t cut = 0; cut < len; cut++) {
		state_reader_init(&r, p, cut);
		x86_platform_state_read(&r, &b);
		assert_int_equal(state_reader_error(&r), -EBADMSG);
		assert_int_equal(b.clock_ns, 0);
	}
	free(p);
}

static void expect_platform_reject(void (*mutate)(struct x86_platform_state *), const char *field)
{
	struct x86_platform_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;

	sample_platform(&a);
	mutate(&a);
	p = write_platform(&a, &len);
	state_reader_init(&r, p, len);
	x86_platform_state_read(&r, &b);
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	if (!strstr(state_reader_msg(&r), field))
		fail_msg("message '%s' does not name %s", state_reader_msg(&r), field);
	free(p);
}

static void p_elcr(struct x86_platform_state *s) { s->pic.chip[0].elcr = 0x01; }
static void p_vbase(struct x86_platform_state *s) { s->pic.chip[1].vector_base = 0x31; }
static void p_prio(struct x86_platform_state *s) { s->pic.chip[0].priority_add = 8; }
static void p_step(struct x86_platform_state *s) { s->pic.chip[1].init_step = 4; }
static void p_flag(struct x86_platform_state *s) { s->pic.chip[0].poll = 2; }
static void p_regsel(struct x86_platform_state *s) { s->ioapic.regsel = 0x100; }
static void p_ioid(struct x86_platform_state *s) { s->ioapic.id = 16; }
static void p_level(struct x86_platform_state *s) { s->ioapic.level = 1u << 24; }
static void p_rte(struct x86_platform_state *s) { s->ioapic.rte[3] |= 1ULL << 40; }
static void p_rte_dm(struct x86_platform_state *s) { s->ioapic.rte[4] |= 3ULL << 8; }
static void p_mode(struct x86_platform_state *s) { s->pit.ch[1].mode = 8; }
static void p_rw(struct x86_platform_state *s) { s->pit.ch[0].rw = 0; }
static void p_reload(struct x86_platform_state *s) { s->pit.ch[0].reload = 65537; }
static void p_reload0(struct x86_platform_state *s) { s->pit.ch[2].reload = 0; }
static void p_latched(struct x86_platform_state *s) { s->pit.ch[0].count_latched = 3; }
static void p_frozen(struct x86_platform_state *s) { s->pit.ch[0].frozen_ticks = ~0ULL; }
static void p_edges(struct x86_platform_state *s) { s->pit.ch[0].edges_done = ~0ULL; }
static void p_gate(struct x86_platform_state *s) { s->pit.ch[0].gate = 0; }
static void p_port61(struct x86_platform_state *s) { s->pit.port61 = 0x10; }
static void p_gate2(struct x86_platform_state *s) { s->pit.port61 = 1; }
static void p_clock(struct x86_platform_state *s) { s->clock_ns = ~0ULL; }

static void test_platform_invalid(void **state)
{
	(void)state;
	expect_platform_reject(p_elcr, "pic.master.elcr");
	expect_platform_reject(p_vbase, "pic.slave.vector_base");
	expect_platform_reject(p_prio, "priority_add");
	expect_platform_reject(p_step, "init_step");
	expect_platform_reject(p_flag, "pic.master.poll");
	expect_platform_reject(p_regsel, "ioapic.regsel");
	expect_platform_reject(p_ioid, "ioapic.id");
	expect_platform_reject(p_level, "ioapic.level");
	expect_platform_reject(p_rte, "ioapic.rte[3]");
	expect_platform_reject(p_rte_dm, "ioapic.rte[4]");
	expect_platform_reject(p_mode, "pit.ch1.mode");
	expect_platform_reject(p_rw, "pit.ch0.rw");
	expect_platform_reject(p_reload, "pit.ch0.reload");
	expect_platform_reject(p_reload0, "pit.ch2.reload");
	expect_platform_reject(p_latched, "count_latched");
	expect_platform_reject(p_frozen, "frozen_ticks");
	expect_platform_reject(p_edges, "edges_done");
	expect_platform_reject(p_gate, "pit.ch0.gate");
	expect_platform_reject(p_port61, "port61");
	expect_platform_reject(p_gate2, "ch2.gate");
	expect_platform_reject(p_clock, "clock_ns");
}

/* PIT modes 6/7 read back as 2/3; a delivery-status bit is dropped. */
static void test_platform_normalised(void **state)
{
	struct x86_platform_state a, b;
	struct state_reader r;
	size_t len;
	uint8_t *p;

	(void)state;
	sample_platform(&a);
	a.pit.ch[0].mode = 6;
	a.pit.ch[1].mode = 7;
	a.ioapic.rte[1] |= IOAPIC_RTE_DELIV_STATUS;
	p = write_platform(&a, &len);
	state_reader_init(&r, p, len);
	x86_platform_state_read(&r, &b);
	assert_int_equal(state_reader_error(&r), 0);
	assert_int_equal(b.pit.ch[0].mode, 2);
	assert_int_equal(b.pit.ch[1].mode, 3);
	assert_int_equal(b.ioapic.rte[1], a.ioapic.rte[1] & ~IOAPIC_RTE_DELIV_STATUS);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_roundtrip),
		cmocka_unit_test(test_cpu_truncated),
		cmocka_unit_test(test_cpu_invalid),
		cmocka_unit_test(test_cpu_la57),
		cmocka_unit_test(test_platform_roundtrip),
		cmocka_unit_test(test_platform_invalid),
		cmocka_unit_test(test_platform_normalised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
