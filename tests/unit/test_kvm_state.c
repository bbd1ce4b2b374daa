// SPDX-License-Identifier: Apache-2.0
/*
 * accel/kvm/state.c: the pure conversions between KVM's structs and the
 * neutral vCPU and platform state round-trip (neutral -> KVM -> neutral
 * equal, and KVM -> neutral -> KVM where KVM's side is the richer one),
 * the lossy cases behave as documented, and KVM dirty bitmaps of two
 * slots fold into the guest_mem bitmap at their mapping offsets. No
 * /dev/kvm needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "accel/accel.h"
#include "hw/bus.h"
#include "hw/memory.h"

#include "accel/kvm/state.h"
#include "irqchip/ioapic.h"
#include "irqchip/lapic.h"
#include "irqchip/pic.h"
#include "irqchip/pit.h"

static void put32(uint8_t *page, unsigned reg, uint32_t v)
{
	memcpy(page + reg, &v, 4);
}

static uint32_t get32(const void *page, unsigned reg)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)page + reg, 4);
	return v;
}

/* A 64-bit kernel mid-work, with everything KVM carries exactly. */
static void sample_cpu(struct x86_cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		s->gpr[i] = 0x0101010101010101ULL * (i + 1);
	s->rip = 0xffffffff81000123ULL;
	s->rflags = 0x246;
	for (unsigned i = 0; i < X86_NR_SREGS; i++) {
		struct x86_segment *g = &s->seg[i];

		g->base = i == X86_GS ? 0xffff888000001000ULL : 0x1000ULL * i;
		g->limit = 0xffffffff;
		g->selector = (uint16_t)(0x8 * (i + 1));
		g->type = i == X86_CS ? 11 : 3;
		g->s = i < X86_LDTR;
		g->dpl = i == X86_SS ? 0 : (uint8_t)(i & 3);
		g->present = 1;
		g->avl = i == X86_DS;
		g->l = i == X86_CS;
		g->db = i != X86_CS;
		g->g = 1;
		g->unusable = i == X86_LDTR;
	}
	s->seg[X86_TR].type = 11;
	s->seg[X86_TR].limit = 0x67;
	s->gdt = (struct x86_dtable){ 0xfffffe0000001000ULL, 0x7f };
	s->idt = (struct x86_dtable){ 0xfffffe0000000000ULL, 0xfff };
	s->cr0 = 0x80050033;
	s->cr2 = 0x7f0000001000ULL;
	s->cr3 = 0x1234000;
	s->cr4 = 0x3406f0;
	s->cr8 = 2;
	s->efer = 0xd01;
	s->xcr0 = 7;
	s->dr[0] = 0x1000;
	s->dr[1] = 0x2000;
	s->dr[2] = 0x3000;
	s->dr[3] = 0x4000;
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->tsc = 123456789012345ULL;
	s->msr.apic_base = 0xfee00900;
	s->msr.star = 0x0023001000000000ULL;
	s->msr.lstar = 0xffffffff81a00080ULL;
	s->msr.cstar = 0xffffffff81a001c0ULL;
	s->msr.sfmask = 0x47700;
	s->msr.kernel_gs_base = 0x7f0000002000ULL;
	s->msr.sysenter_cs = 0x10;
	s->msr.sysenter_esp = 0xfffffe0000003000ULL;
	s->msr.sysenter_eip = 0xffffffff81a015b0ULL;
	s->msr.tsc_aux = 1;
	s->msr.pat = 0x0407050600070106ULL;
	s->msr.misc_enable = 1;
	s->msr.mtrr_def_type = 0xc06;
	s->msr.tsc_deadline = 0;
	s->msr.kvm_system_time = 0x3ffd001;
	s->msr.kvm_wall_clock = 0x3ffe000;
	s->msr.kvm_pv_eoi = 0;
	s->msr.spec_ctrl = 0;
	s->fpu.fcw = 0x37f;
	s->fpu.fsw = 0x3800;
	s->fpu.ftw = 0x80;
	s->fpu.fop = 0x59;
	s->fpu.fip = 0x401000;
	s->fpu.fdp = 0x7ffc0000;
	s->fpu.mxcsr = 0x1fa0;
	s->fpu.mxcsr_mask = 0xffff;
	for (unsigned i = 0; i < 8; i++)
		s->fpu.st[i][0] = (uint8_t)(0x10 + i);
	for (unsigned i = 0; i < 16; i++)
		memset(s->fpu.xmm[i], 0x20 + i, 16);
	s->events.exception_pending = 1;
	s->events.exception_vector = X86_VEC_PF;
	s->events.exception_has_error = 1;
	s->events.exception_error = 6;
	s->events.nmi_pending = 1;
	s->events.nmi_masked = 1;
	s->events.interrupt_shadow = 2;
	s->events.sipi_vector = 0x9a;
	s->mp_state = X86_MP_HALTED;
	s->apic_id = 3;
	put32(s->lapic, APIC_ID, 3u << 24);
	put32(s->lapic, APIC_LVR, 0x50014);
	put32(s->lapic, APIC_TPR, 0x20);
	put32(s->lapic, APIC_SVR, 0x1ff);
	put32(s->lapic, APIC_LDR, 1u << 27);
	put32(s->lapic, APIC_DFR, 0xffffffff);
	put32(s->lapic, APIC_IRR + 0x10 * 1, 1u << 17); /* vector 0x31 pending */
	put32(s->lapic, APIC_ISR + 0x10 * 7, 1u << 12); /* vector 0xec in service */
	put32(s->lapic, APIC_LVT_TIMER, 0xec | (1u << APIC_TIMER_MODE_SHIFT)); /* periodic */
	put32(s->lapic, APIC_LVT_LINT0, 0x700);
	put32(s->lapic, APIC_LVT_LINT1, 0x400);
	put32(s->lapic, APIC_LVT_ERROR, 0xfe);
	put32(s->lapic, APIC_TDCR, 0x3); /* divide by 16 */
	put32(s->lapic, APIC_TMICT, 250000);
	s->lapic_timer_period_ns = 250000ULL * 16;
	s->lapic_timer_remaining_ns = 1234ULL * 16;
}

/* Every KVM conversion of the vCPU, as the glue does it, back to neutral. */
static void through_kvm(const struct x86_cpu_state *in, struct x86_cpu_state *out)
{
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_xsave *xs = calloc(1, sizeof(*xs));
	struct kvm_lapic_state lapic;
	struct kvm_debugregs dbg;
	struct kvm_vcpu_events ev;
	uint64_t msr[KVM_STATE_MAX_MSRS];
	uint32_t mp;

	assert_non_null(xs);
	memset(&sr, 0xa5, sizeof(sr)); /* what KVM_GET_SREGS had before */
	memset(out, 0, sizeof(*out));
	kvm_regs_from_state(in, &r);
	kvm_sregs_from_state(in, &sr);
	for (unsigned i = 0; i < sizeof(sr.interrupt_bitmap) / sizeof(sr.interrupt_bitmap[0]); i++)
		assert_int_equal(sr.interrupt_bitmap[i], 0);
	kvm_xsave_from_fxsave(&in->fpu, xs);
	kvm_lapic_from_state(in, &lapic);
	kvm_debugregs_from_state(in, &dbg);
	kvm_events_from_state(&in->events, in->rflags, &ev);
	assert_int_equal(kvm_mp_state_from_x86(in->mp_state, &mp), 0);
	for (unsigned i = 0; i < kvm_state_nmsrs; i++)
		msr[i] = kvm_state_msr_get(in, &kvm_state_msrs[i]);

	assert_int_equal(kvm_mp_state_to_x86(mp, &out->mp_state), 0);
	assert_int_equal(kvm_events_to_state(&ev, &out->events, out->lapic), 0);
	kvm_regs_to_state(&r, out);
	kvm_sregs_to_state(&sr, out);
	kvm_xsave_to_fxsave(xs, &out->fpu);
	out->xcr0 = in->xcr0; /* KVM_SET/GET_XCRS carry it as is */
	kvm_lapic_to_state(&lapic, out);
	for (unsigned i = 0; i < kvm_state_nmsrs; i++)
		kvm_state_msr_set(out, &kvm_state_msrs[i], msr[i]);
	kvm_debugregs_to_state(&dbg, out);
	free(xs);
}

static void test_cpu_roundtrip(void **state)
{
	struct x86_cpu_state a, b;

	(void)state;
	sample_cpu(&a);
	through_kvm(&a, &b);
	/* KVM_GET_LAPIC fills TMCCT; the neutral page otherwise equal. */
	assert_int_equal(get32(b.lapic, APIC_TMCCT), 1234);
	put32(b.lapic, APIC_TMCCT, 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_segments(void **state)
{
	struct x86_segment s = {
		.base = 0xffffffffffff0000ULL, .limit = 0xfffff, .selector = 0xf000, .type = 9,
		.s = 0, .dpl = 3, .present = 1, .avl = 1, .l = 0, .db = 1, .g = 1, .unusable = 0,
	}, t;
	struct kvm_segment k;

	(void)state;
	kvm_segment_from_x86(&s, &k);
	assert_int_equal(k.base, s.base);
	assert_int_equal(k.selector, 0xf000);
	assert_int_equal(k.type, 9);
	assert_int_equal(k.dpl, 3);
	assert_int_equal(k.padding, 0);
	kvm_segment_to_x86(&k, &t);
	assert_memory_equal(&s, &t, sizeof(s));
	/* Out-of-range KVM fields are masked, never carried into the neutral form. */
	k.type = 0x1f;
	k.dpl = 7;
	kvm_segment_to_x86(&k, &t);
	assert_int_equal(t.type, 15);
	assert_int_equal(t.dpl, 3);
}

static void test_msr_table(void **state)
{
	struct x86_cpu_state s;
	bool deadline_seen = false;

	(void)state;
	assert_true(kvm_state_nmsrs <= KVM_STATE_MAX_MSRS);
	/* The TSC first, the TSC deadline after it. */
	assert_int_equal(kvm_state_msrs[0].index, 0x10);
	assert_true(kvm_state_msrs[0].flags & KVM_MSR_TSC);
	for (unsigned i = 0; i < kvm_state_nmsrs; i++) {
		assert_true(kvm_state_msrs[i].offset + 8 <= sizeof(s));
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(kvm_state_msrs[i].index, kvm_state_msrs[j].index);
		if (kvm_state_msrs[i].index == 0x6e0)
			deadline_seen = true;
	}
	assert_true(deadline_seen);
	assert_int_equal(kvm_state_msrs[kvm_state_nmsrs - 1].index, 0x6e0);
	/* Every neutral MSR field is in the table exactly once. */
	memset(&s, 0, sizeof(s));
	for (unsigned i = 0; i < kvm_state_nmsrs; i++)
		kvm_state_msr_set(&s, &kvm_state_msrs[i], 0x100 + i);
	assert_int_equal(s.tsc, 0x100);
	{
		const uint64_t *f = (const uint64_t *)&s.msr;

		for (unsigned i = 0; i < sizeof(s.msr) / 8; i++) {
			if (&f[i] == &s.msr.apic_base) /* through KVM_SET_SREGS */
				assert_int_equal(f[i], 0);
			else
				assert_true(f[i] >= 0x100);
		}
	}
}

static void test_events(void **state)
{
	struct kvm_vcpu_events e;
	struct x86_events n, m;
	uint8_t page[X86_LAPIC_REGS_SIZE];

	(void)state;
	memset(page, 0, sizeof(page));
	/* An STI shadow with IF clear cannot enter VMX: a MOV SS shadow. */
	memset(&n, 0, sizeof(n));
	n.interrupt_shadow = 1;
	kvm_events_from_state(&n, 0x2, &e);
	assert_int_equal(e.interrupt.shadow, KVM_X86_SHADOW_INT_MOV_SS);
	kvm_events_from_state(&n, 0x202, &e);
	assert_int_equal(e.interrupt.shadow, KVM_X86_SHADOW_INT_STI);
	assert_true(e.flags & KVM_VCPUEVENT_VALID_SHADOW);
	assert_true(e.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
	assert_int_equal(kvm_events_to_state(&e, &m, page), 0);
	assert_memory_equal(&n, &m, sizeof(n));

	/* A pending exception reads as pending; an injected NMI as pending, unmasked. */
	memset(&e, 0, sizeof(e));
	e.exception.pending = 1;
	e.exception.nr = X86_VEC_GP;
	e.exception.has_error_code = 1;
	e.exception.error_code = 0x18;
	e.nmi.injected = 1;
	e.nmi.masked = 1;
	assert_int_equal(kvm_events_to_state(&e, &m, page), 0);
	assert_int_equal(m.exception_pending, 1);
	assert_int_equal(m.exception_vector, X86_VEC_GP);
	assert_int_equal(m.exception_error, 0x18);
	assert_int_equal(m.nmi_pending, 1);
	assert_int_equal(m.nmi_masked, 0);

	/* #BP / #OF being injected are dropped: RIP is at INT3 / INTO. */
	memset(&e, 0, sizeof(e));
	e.exception.injected = 1;
	e.exception.nr = X86_VEC_BP;
	assert_int_equal(kvm_events_to_state(&e, &m, page), 0);
	assert_int_equal(m.exception_pending, 0);

	/* An interrupt the LAPIC acked goes back from ISR to IRR. */
	memset(&e, 0, sizeof(e));
	e.interrupt.injected = 1;
	e.interrupt.nr = 0x41;
	put32(page, APIC_ISR + 0x20, 1u << 1);
	assert_int_equal(kvm_events_to_state(&e, &m, page), 1);
	assert_int_equal(get32(page, APIC_ISR + 0x20), 0);
	assert_int_equal(get32(page, APIC_IRR + 0x20), 1u << 1);
	/* From the PIC (not in the LAPIC's ISR): cannot be carried. */
	e.interrupt.nr = 0x30;
	assert_int_equal(kvm_events_to_state(&e, &m, page), -1);
	/* A soft INTn being injected: dropped silently (RIP at the INT). */
	e.interrupt.soft = 1;
	assert_int_equal(kvm_events_to_state(&e, &m, page), 0);
}

static void test_mp_state(void **state)
{
	uint32_t k, x;

	(void)state;
	for (uint32_t s = X86_MP_RUNNABLE; s <= X86_MP_HALTED; s++) {
		assert_int_equal(kvm_mp_state_from_x86(s, &k), 0);
		assert_int_equal(kvm_mp_state_to_x86(k, &x), 0);
		assert_int_equal(x, s);
	}
	assert_int_equal(kvm_mp_state_from_x86(X86_MP_WAIT_SIPI, &k), 0);
	assert_int_equal(k, KVM_MP_STATE_INIT_RECEIVED);
	assert_int_equal(kvm_mp_state_from_x86(X86_MP_STOPPED, &k), 0);
	assert_int_equal(k, KVM_MP_STATE_UNINITIALIZED);
	assert_int_equal(kvm_mp_state_to_x86(KVM_MP_STATE_UNINITIALIZED, &x), 0);
	assert_int_equal(x, X86_MP_WAIT_SIPI);
	assert_int_equal(kvm_mp_state_from_x86(4, &k), -EINVAL);
	assert_int_equal(kvm_mp_state_to_x86(KVM_MP_STATE_CHECK_STOP, &x), -EINVAL);
	assert_int_equal(kvm_mp_state_to_x86(99, &x), -EINVAL);
}

static void timer_case(uint32_t lvtt_mode, uint32_t tdcr, uint32_t tmict, uint64_t rem_in,
		       uint32_t want_tmcct, uint64_t want_rem, uint64_t want_period)
{
	struct x86_cpu_state s, t;
	struct kvm_lapic_state k;

	memset(&s, 0, sizeof(s));
	put32(s.lapic, APIC_LVT_TIMER, 0x20 | (lvtt_mode << APIC_TIMER_MODE_SHIFT));
	put32(s.lapic, APIC_TDCR, tdcr);
	put32(s.lapic, APIC_TMICT, tmict);
	s.lapic_timer_remaining_ns = rem_in;
	kvm_lapic_from_state(&s, &k);
	assert_int_equal(get32(k.regs, APIC_TMCCT), want_tmcct);
	memset(&t, 0, sizeof(t));
	kvm_lapic_to_state(&k, &t);
	assert_int_equal(t.lapic_timer_remaining_ns, want_rem);
	assert_int_equal(t.lapic_timer_period_ns, want_period);
}

static void test_lapic_timer(void **state)
{
	static const uint32_t div_of[16] = { 2, 4, 8, 16, 2, 4, 8, 16, 32, 64, 128, 1,
					     32, 64, 128, 1 };

	(void)state;
	for (uint32_t t = 0; t < 16; t++)
		assert_int_equal(kvm_lapic_divisor(t), div_of[t]);
	/* One-shot, /16: 1.6 ms left of 16 ms. */
	timer_case(0, 3, 1000000, 1600000, 100000, 1600000, 0);
	/* Remaining time not a multiple of the divisor: rounded up to a count. */
	timer_case(0, 3, 1000000, 1601, 101, 1616, 0);
	/* Periodic, /1 (TDCR 0xb): period TMICT ns. */
	timer_case(1, 0xb, 500000, 250000, 250000, 250000, 500000);
	/* Due now: still one count, so that it fires. */
	timer_case(0, 0, 1000, 0, 1, 2, 0);
	/* Longer than TMICT (a hostile state): clamped to TMICT. */
	timer_case(0, 0, 1000, 1ULL << 40, 1000, 2000, 0);
	/* None: TMCCT 0, read back as none. */
	timer_case(0, 0, 1000, UINT64_MAX, 0, UINT64_MAX, 0);
	/* TMICT 0: no timer. */
	timer_case(0, 0, 0, 5000, 0, UINT64_MAX, 0);
	/* TSC-deadline mode: the MSR carries it. */
	timer_case(2, 0, 1000, 5000, 0, UINT64_MAX, 0);
}

static void test_fpu(void **state)
{
	struct x86_cpu_state s;
	struct x86_fxsave f;
	struct kvm_xsave *x = calloc(1, sizeof(*x));
	struct kvm_fpu k;
	uint64_t bv;

	(void)state;
	assert_non_null(x);
	sample_cpu(&s);
	/* XSTATE_BV gains x87|SSE and keeps AVX; the rest of the area is untouched. */
	bv = 4;
	memcpy((uint8_t *)x->region + 512, &bv, 8);
	((uint8_t *)x->region)[576] = 0x77;
	kvm_xsave_from_fxsave(&s.fpu, x);
	memcpy(&bv, (uint8_t *)x->region + 512, 8);
	assert_int_equal(bv, 7);
	assert_int_equal(((uint8_t *)x->region)[576], 0x77);
	assert_int_equal(kvm_xsave_extended(x), 4);
	kvm_xsave_to_fxsave(x, &f);
	assert_memory_equal(&f, &s.fpu, sizeof(f));
	bv = 3;
	memcpy((uint8_t *)x->region + 512, &bv, 8);
	assert_int_equal(kvm_xsave_extended(x), 0);
	free(x);
	/* KVM_GET/SET_FPU (no XSAVE): all but MXCSR_MASK and the reserved area. */
	kvm_fpu_from_fxsave(&s.fpu, &k);
	kvm_fpu_to_fxsave(&k, &f);
	assert_int_equal(f.mxcsr_mask, 0);
	f.mxcsr_mask = s.fpu.mxcsr_mask;
	assert_memory_equal(&f, &s.fpu, sizeof(f));
}

static void test_debugregs(void **state)
{
	struct x86_cpu_state s, t;
	struct kvm_debugregs d;

	(void)state;
	sample_cpu(&s);
	kvm_debugregs_from_state(&s, &d);
	memset(&t, 0, sizeof(t));
	kvm_debugregs_to_state(&d, &t);
	assert_memory_equal(s.dr, t.dr, sizeof(s.dr));
	/* KVM refuses DR6/DR7 bits above 31 (reserved): never sent. */
	s.dr[6] |= 1ULL << 40;
	kvm_debugregs_from_state(&s, &d);
	assert_int_equal(d.dr6 >> 32, 0);
}

static void sample_pic(struct pic_snap *p)
{
	memset(p, 0, sizeof(*p));
	p->chip[0] = (struct pic_chip){
		.irr = 0x11, .isr = 0x01, .imr = 0xfa, .line = 0x10, .elcr = 0x20,
		.vector_base = 0x30, .priority_add = 3, .init_step = 0, .icw4_needed = 1,
		.auto_eoi = 0, .rotate_on_aeoi = 1, .sfnm = 0, .read_isr = 1, .poll = 0,
		.special_mask = 1,
	};
	p->chip[1] = (struct pic_chip){
		.irr = 0x02, .isr = 0, .imr = 0xff, .line = 0x02, .elcr = 0x0e,
		.vector_base = 0x38, .priority_add = 0, .init_step = 2, .icw4_needed = 1,
		.auto_eoi = 1, .sfnm = 1, .poll = 1,
	};
}

static void test_pic(void **state)
{
	struct pic_snap a, b;
	struct kvm_pic_state k;

	(void)state;
	sample_pic(&a);
	for (unsigned i = 0; i < 2; i++) {
		kvm_pic_from_snap(&a.chip[i], i == 1, &k);
		assert_int_equal(k.elcr_mask, i ? 0xde : 0xf8);
		assert_int_equal(k.last_irr, a.chip[i].line);
		assert_int_equal(k.irq_base, a.chip[i].vector_base);
		kvm_pic_to_snap(&k, &b.chip[i]);
	}
	assert_memory_equal(&a, &b, sizeof(a));
	/* ELCR bits of always-edge lines (IRQ 0, 1, 2) never reach KVM. */
	a.chip[0].elcr = 0xff;
	kvm_pic_from_snap(&a.chip[0], false, &k);
	assert_int_equal(k.elcr, 0xf8);
}

static void test_ioapic(void **state)
{
	struct ioapic_snap a, b;
	struct kvm_ioapic_state k;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.regsel = 0x12;
	a.id = 2;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		a.rte[i] = IOAPIC_RTE_MASKED | (0x20 + i);
	a.rte[2] = 0x30 | (1ULL << IOAPIC_RTE_DEST_SHIFT);
	a.rte[4] = 0x34 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_REMOTE_IRR |
		   (1ULL << IOAPIC_RTE_DEST_SHIFT);
	a.rte[9] = 0x39 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW | IOAPIC_RTE_LOGICAL;
	a.level = (1u << 4) | (1u << 9);
	kvm_ioapic_from_snap(&a, &k);
	assert_int_equal(k.base_address, IOAPIC_DEFAULT_BASE);
	assert_int_equal(k.irr, (1u << 4) | (1u << 9));
	assert_int_equal(k.redirtbl[4].fields.vector, 0x34);
	assert_int_equal(k.redirtbl[4].fields.remote_irr, 1);
	assert_int_equal(k.redirtbl[4].fields.trig_mode, 1);
	assert_int_equal(k.redirtbl[9].fields.dest_mode, 1);
	assert_int_equal(k.redirtbl[2].fields.dest_id, 1);
	assert_int_equal(k.redirtbl[0].fields.mask, 1);
	kvm_ioapic_to_snap(&k, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	/* An edge pin's level is not carried into KVM's irr (its edge was delivered). */
	a.level |= 1u << 2;
	kvm_ioapic_from_snap(&a, &k);
	assert_int_equal(k.irr & (1u << 2), 0);
}

#define MS 1000000ULL

static void test_pit(void **state)
{
	const uint64_t now = 5000 * MS;
	struct pit_snap a, b;
	struct kvm_pit_state2 k, k2;

	(void)state;
	memset(&a, 0, sizeof(a));
	/* Channel 0: mode 2 at 100 Hz, 7 ms into the run (edges delivered so far). */
	a.ch[0] = (struct pit_channel){
		.mode = 2, .rw = 3, .gate = 1, .armed = 1, .loaded = 1,
		.read_msb_next = 1, .count_latched = 2, .latched_count = 0x1234,
		.reload = 11932, .start_ns = 7 * MS,
	};
	a.ch[0].edges_done = (7 * MS * PIT_HZ / 1000000000ULL) / 11932;
	/* Channel 1: never programmed (as after reset). */
	a.ch[1] = (struct pit_channel){ .rw = 3, .gate = 1, .null_count = 1, .reload = 65536 };
	/* Channel 2: mode 0 one-shot, LSB only, status latched, count latched. */
	a.ch[2] = (struct pit_channel){
		.mode = 0, .rw = 1, .gate = 1, .armed = 1, .loaded = 1,
		.status_latched = 1, .status = 0xb0, .reload = 100, .start_ns = 2 * MS,
		.count_latched = 1, .latched_count = 0x42,
	};
	a.port61 = 3;
	kvm_pit_from_snap(&a, now, &k);
	assert_int_equal(k.channels[0].count, 11932);
	assert_int_equal(k.channels[0].mode, 2);
	assert_int_equal(k.channels[0].count_load_time, (int64_t)(now - 7 * MS));
	assert_int_equal(k.channels[0].read_state, 4);
	assert_int_equal(k.channels[0].count_latched, 3);
	assert_int_equal(k.channels[1].mode, 0xff);
	assert_int_equal(k.channels[2].gate, 1);
	assert_int_equal(k.channels[2].count_latched, 1);
	assert_true(k.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON);
	kvm_pit_to_snap(&k, now, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	/* KVM -> neutral -> KVM keeps KVM's state. */
	kvm_pit_from_snap(&b, now, &k2);
	assert_memory_equal(&k, &k2, sizeof(k));

	/* A count load time in the future (another host's clock) reads as "just now". */
	k.channels[0].count_load_time = (int64_t)(now + MS);
	kvm_pit_to_snap(&k, now, &b);
	assert_int_equal(b.ch[0].start_ns, 0);
	/* A hostile neutral state: reload, rw and a start far in the past stay in range. */
	a.ch[0].reload = 0;
	a.ch[0].rw = 9;
	a.ch[0].start_ns = UINT64_MAX;
	a.ch[0].mode = 7;
	kvm_pit_from_snap(&a, now, &k);
	assert_int_equal(k.channels[0].count, 65536);
	assert_int_equal(k.channels[0].rw_mode, 3);
	assert_int_equal(k.channels[0].count_load_time, 0);
	assert_int_equal(k.channels[0].mode, 3);
	/* Port 0x61 bit 0 is channel 2's gate. */
	a.port61 = 0;
	kvm_pit_from_snap(&a, now, &k);
	assert_int_equal(k.channels[2].gate, 0);
	assert_int_equal(k.flags, 0);
}

static void test_clock(void **state)
{
	uint64_t delta;

	(void)state;
	/* 2.5 s of host time passed: the clock moves by as much. */
	assert_int_equal(kvm_clock_target(10 * MS, 1000 * MS, 3500 * MS, &delta), 2510 * MS);
	assert_int_equal(delta, 2500 * MS);
	/* The host clock is behind the save: never backward. */
	assert_int_equal(kvm_clock_target(10 * MS, 3500 * MS, 1000 * MS, &delta), 10 * MS);
	assert_int_equal(delta, 0);
	/* Hostile values stay below the maximum. */
	assert_int_equal(kvm_clock_target(UINT64_MAX, 0, UINT64_MAX, &delta),
			 KVM_STATE_CLOCK_MAX);
	assert_int_equal(kvm_clock_target(5, 0, UINT64_MAX, &delta), KVM_STATE_CLOCK_MAX);
	assert_int_equal(delta, KVM_STATE_CLOCK_MAX - 5);
	/* ns to TSC ticks. */
	assert_int_equal(kvm_ns_to_tsc(1000 * MS, 2500000), 2500000000ULL);
	assert_int_equal(kvm_ns_to_tsc(3, 1000000), 3);
	assert_int_equal(kvm_ns_to_tsc(UINT64_MAX, 4000000), UINT64_MAX);
}

static void test_dirty_fold(void **state)
{
	/* Two slots as two regions of one mapping: 100 pages at page 0, 70 at page 100. */
	uint64_t dirty[3] = { 0, 0, 1ULL << 63 /* already dirty */ };
	uint64_t s0[2] = { 0, 0 }, s1[2] = { 0, 0 };

	(void)state;
	s0[0] = 1ULL | (1ULL << 63);
	s0[1] = (1ULL << 35) | (1ULL << 40); /* page 99; bit 40 = page 104 is past the slot */
	s1[0] = 1ULL | (1ULL << 27);	     /* pages 100, 127 */
	s1[1] = (1ULL << 5) | (1ULL << 6);   /* page 169; bit 6 = page 70 of the slot: past it */
	assert_int_equal(kvm_dirty_fold(dirty, 3, 0, s0, 100), 3);
	assert_int_equal(kvm_dirty_fold(dirty, 3, 100, s1, 70), 3);
	assert_int_equal(dirty[0], 1ULL | (1ULL << 63));
	/* page 99 = word 1 bit 35; 100 = bit 36; 127 = bit 63 */
	assert_int_equal(dirty[1], (1ULL << 35) | (1ULL << 36) | (1ULL << 63));
	/* page 169 = word 2 bit 41, and the bit that was there stays */
	assert_int_equal(dirty[2], (1ULL << 41) | (1ULL << 63));
	/* A slot beyond the bitmap is ignored, not written past it. */
	assert_int_equal(kvm_dirty_fold(dirty, 3, 190, s1, 70), 3);
	assert_int_equal(dirty[2], (1ULL << 41) | (1ULL << 63) | (1ULL << 62));
}

/* ---- the software backend's models -> KVM -> back (same neutral semantics) ---- */

static uint64_t fake_now;

static uint64_t now_fn(void *opaque)
{
	(void)opaque;
	return fake_now;
}

static void no_intr(void *opaque, bool level)
{
	(void)opaque;
	(void)level;
}

static void no_deliver(void *opaque, uint8_t dest, uint8_t dest_mode, uint8_t vector,
		       uint8_t delivery_mode, bool level_trig)
{
	(void)opaque;
	(void)dest;
	(void)dest_mode;
	(void)vector;
	(void)delivery_mode;
	(void)level_trig;
}

static void test_soft_lapic_timer(void **state)
{
	const struct lapic_ops ops = { .now_ns = now_fn };
	struct lapic *l = calloc(1, sizeof(*l)), *l2 = calloc(1, sizeof(*l2));
	struct x86_cpu_state *s = calloc(1, sizeof(*s)), *t = calloc(1, sizeof(*t));
	struct kvm_lapic_state k;
	struct lapic_snap snap, snap2;

	(void)state;
	assert_non_null(l);
	assert_non_null(l2);
	assert_non_null(s);
	assert_non_null(t);
	fake_now = 1000 * MS;
	lapic_init(l, 2, false, false, &ops);
	lapic_mmio_write(l, APIC_SVR, 0x1ff);
	lapic_mmio_write(l, APIC_TDCR, 0x3); /* /16 */
	lapic_mmio_write(l, APIC_LVT_TIMER, 0xec | (1u << APIC_TIMER_MODE_SHIFT));
	lapic_mmio_write(l, APIC_TMICT, 100000); /* 1.6 ms period */
	fake_now += MS / 2 + 5;
	lapic_save(l, s, &snap);
	s->lapic_timer_remaining_ns = snap.timer_remaining_ns;
	s->lapic_timer_period_ns = snap.timer_period_ns;
	assert_int_equal(snap.timer_period_ns, 1600000);
	assert_int_equal(snap.timer_remaining_ns, 1100000 - 5);

	/* As KVM would take it and give it back. */
	kvm_lapic_from_state(s, &k);
	assert_int_equal(get32(k.regs, APIC_TMCCT), (1100000 - 5 + 15) / 16);
	kvm_lapic_to_state(&k, t);
	assert_int_equal(t->apic_id, 2);
	assert_int_equal(t->lapic_timer_period_ns, snap.timer_period_ns);
	assert_true(t->lapic_timer_remaining_ns >= snap.timer_remaining_ns);
	assert_true(t->lapic_timer_remaining_ns < snap.timer_remaining_ns + 16);
	assert_memory_equal(t->lapic, s->lapic, X86_LAPIC_REGS_SIZE);

	/* The software LAPIC takes KVM's form: the same timer. */
	lapic_init(l2, 2, false, false, &ops);
	memset(&snap2, 0, sizeof(snap2));
	snap2.timer_remaining_ns = t->lapic_timer_remaining_ns;
	snap2.timer_period_ns = t->lapic_timer_period_ns;
	t->msr.apic_base = s->msr.apic_base;
	lapic_restore(l2, t, &snap2);
	assert_int_equal(lapic_next_timer_ns(l2), fake_now + t->lapic_timer_remaining_ns);
	lapic_destroy(l);
	lapic_destroy(l2);
	free(l);
	free(l2);
	free(s);
	free(t);
}

static void test_soft_pit(void **state)
{
	const struct pit_ops ops = { .now_ns = now_fn };
	const uint64_t mono = 20000 * MS; /* the KVM host's CLOCK_MONOTONIC */
	struct pit p, p2;
	struct pit_snap a, b, c;
	struct kvm_pit_state2 k;

	(void)state;
	fake_now = 3000 * MS;
	pit_init(&p, &ops);
	/* Linux's PIT setup: channel 0 mode 2, LSB then MSB, 100 Hz; speaker gate on. */
	pit_io_write(&p, PIT_PORT_CMD, 0x34);
	pit_io_write(&p, PIT_PORT_CH0, 11932 & 0xff);
	pit_io_write(&p, PIT_PORT_CH0, 11932 >> 8);
	pit_io_write(&p, PIT_PORT_61, 0x03);
	pit_io_write(&p, PIT_PORT_CMD, 0xb6); /* channel 2 mode 3 */
	pit_io_write(&p, PIT_PORT_CH0 + 2, 0x78);
	pit_io_write(&p, PIT_PORT_CH0 + 2, 0x56);
	pit_io_write(&p, PIT_PORT_CH0 + 2, 0x34); /* a new LSB written, MSB pending */
	pit_io_write(&p, PIT_PORT_CMD, 0x00);	  /* latch channel 0 */
	fake_now += 7 * MS;
	pit_save(&p, &a);
	kvm_pit_from_snap(&a, mono, &k);
	assert_int_equal(k.channels[0].mode, 2);
	assert_int_equal(k.channels[0].count, 11932);
	assert_int_equal(k.channels[0].count_load_time, (int64_t)(mono - 7 * MS));
	assert_int_equal(k.channels[2].write_state, 4);
	assert_int_equal(k.channels[2].write_latch, 0x34);
	kvm_pit_to_snap(&k, mono, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	/* And the software PIT takes it back. */
	pit_init(&p2, &ops);
	pit_restore(&p2, &b);
	pit_save(&p2, &c);
	assert_memory_equal(&a, &c, sizeof(a));
	pit_destroy(&p);
	pit_destroy(&p2);
}

static void test_soft_pic_ioapic(void **state)
{
	const struct pic_ops pops = { .set_intr = no_intr };
	const struct ioapic_ops iops = { .deliver = no_deliver };
	struct pic p;
	struct ioapic io;
	struct pic_snap a, b;
	struct ioapic_snap ia, ib;
	struct kvm_pic_state k;
	struct kvm_ioapic_state ki;
	static const uint8_t init[2][4] = { { 0x11, 0x30, 0x04, 0x01 }, { 0x11, 0x38, 0x02, 0x01 } };

	(void)state;
	pic_init(&p, &pops);
	for (unsigned c = 0; c < 2; c++) {
		uint16_t cmd = c ? PIC_SLAVE_CMD : PIC_MASTER_CMD;

		pic_io_write(&p, cmd, init[c][0]);
		for (unsigned i = 1; i < 4; i++)
			pic_io_write(&p, (uint16_t)(cmd + 1), init[c][i]);
	}
	pic_io_write(&p, PIC_MASTER_DATA, 0xf8);
	pic_io_write(&p, PIC_ELCR_SLAVE, 0x0c);
	pic_set_irq(&p, 1, true);
	pic_set_irq(&p, 11, true);
	assert_true(pic_ack(&p) >= 0x30);
	pic_io_write(&p, PIC_MASTER_CMD, 0x0b); /* OCW3: read ISR */
	pic_save(&p, &a);
	for (unsigned i = 0; i < 2; i++) {
		kvm_pic_from_snap(&a.chip[i], i == 1, &k);
		kvm_pic_to_snap(&k, &b.chip[i]);
	}
	assert_memory_equal(&a, &b, sizeof(a));
	pic_destroy(&p);

	ioapic_init(&io, &iops);
	ioapic_mmio_write(&io, IOAPIC_REGSEL, IOAPIC_REG_REDTBL + 2 * 4);
	ioapic_mmio_write(&io, IOAPIC_WINDOW, 0x34 | IOAPIC_RTE_LEVEL);
	ioapic_mmio_write(&io, IOAPIC_REGSEL, IOAPIC_REG_REDTBL + 2 * 2);
	ioapic_mmio_write(&io, IOAPIC_WINDOW, 0x30);
	ioapic_set_irq(&io, 4, true); /* delivered: remote IRR set */
	ioapic_set_irq(&io, 2, true);
	ioapic_set_irq(&io, 2, false);
	ioapic_mmio_write(&io, IOAPIC_REGSEL, IOAPIC_REG_ID);
	ioapic_mmio_write(&io, IOAPIC_WINDOW, 5u << 24);
	ioapic_save(&io, &ia);
	assert_true(ia.rte[4] & IOAPIC_RTE_REMOTE_IRR);
	kvm_ioapic_from_snap(&ia, &ki);
	assert_int_equal(ki.irr, 1u << 4);
	assert_int_equal(ki.id, 5);
	kvm_ioapic_to_snap(&ki, &ib);
	assert_memory_equal(&ia, &ib, sizeof(ia));
	ioapic_destroy(&io);
}

/* ---- on /dev/kvm (skipped without it): the ops themselves ---- */

#define LIVE_MEM (64ULL << 20)
#define LIVE_CODE 0x1000
#define LIVE_COUNTER 0x3000
#define LIVE_FLAG 0x5000

/* 16-bit: inc dword [0x3000]; mov byte [0x5000], 1; out 0x80, al; jmp back. */
static const uint8_t live_code[] = { 0x66, 0xff, 0x06, 0x00, 0x30, 0xc6, 0x06, 0x00, 0x50,
				     0x01, 0xe6, 0x80, 0xeb, 0xf2 };

struct live {
	struct bus pio, mmio;
	struct accel_machine m;
	struct accel_vcpu vcpu;
	struct cpuid_table *cpuid;
	const struct accel_ops *ops;
};

static void live_up(struct live *v, struct guest_mem *mem, const struct accel_ops *ops)
{
	memset(v, 0, sizeof(*v));
	v->ops = ops;
	bus_init(&v->pio, "pio");
	bus_init(&v->mmio, "mmio");
	v->m.mem = mem;
	v->m.pio = &v->pio;
	v->m.mmio = &v->mmio;
	v->m.ncpus = 1;
	v->m.cpu_template = "host";
	assert_int_equal(ops->vm_init(&v->m), 0);
	assert_int_equal(ops->cpuid(&v->m, &v->cpuid), 0);
	v->vcpu.machine = &v->m;
	v->vcpu.cpuid = v->cpuid;
	assert_int_equal(ops->vcpu_create(&v->vcpu, v->cpuid), 0);
}

static void live_down(struct live *v)
{
	v->ops->vcpu_destroy(&v->vcpu);
	v->ops->vm_destroy(&v->m);
	free(v->cpuid);
}

static uint32_t live_counter(struct guest_mem *mem)
{
	uint32_t c = 0;

	assert_int_equal(guest_mem_read(mem, LIVE_COUNTER, &c, 4), 0);
	return c;
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct kicker {
	struct live *v;
	volatile bool stop;
};

/* The software CPU runs until kicked: kick it every millisecond. */
static void *kick_loop(void *arg)
{
	struct kicker *k = arg;
	const struct timespec ms = { 0, 1000000 };

	while (!k->stop) {
		k->v->ops->vcpu_kick(&k->v->vcpu);
		nanosleep(&ms, NULL);
	}
	return NULL;
}

/* Runs until the counter passed target (at most 5 s). */
static void live_run_to(struct live *v, uint32_t target)
{
	uint64_t t0 = mono_now();
	struct kicker k = { .v = v };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, kick_loop, &k), 0);
	while (live_counter(v->m.mem) < target) {
		assert_int_equal(v->ops->vcpu_run(&v->vcpu), ACCEL_RUN_AGAIN);
		if (mono_now() - t0 > 5000000000ULL) {
			k.stop = true;
			pthread_join(t, NULL);
			v->ops->vcpu_dump(&v->vcpu);
			fail_msg("the guest stopped counting at %u", live_counter(v->m.mem));
		}
	}
	k.stop = true;
	pthread_join(t, NULL);
}

/* The loop in real mode at 0:LIVE_CODE, everything else as the backend has it. */
static void live_real_mode(struct x86_cpu_state *s)
{
	for (unsigned i = 0; i < X86_LDTR; i++) {
		s->seg[i].selector = 0;
		s->seg[i].base = 0;
		s->seg[i].limit = 0xffff;
	}
	s->rip = LIVE_CODE;
	s->rflags = 0x2;
	s->cr0 &= ~0x80000001ULL;
	s->efer = 0;
	s->mp_state = X86_MP_RUNNABLE;
}

/* What two reads of a running vCPU may differ in (time moves on). */
static void live_mask(struct x86_cpu_state *s)
{
	s->tsc = 0;
	put32(s->lapic, APIC_TMCCT, 0);
	s->lapic_timer_remaining_ns = 0;
}

static bool live_kvm(void)
{
	if (accel_kvm_available())
		return true;
	return false;
}

static void test_live_kvm_roundtrip(void **state)
{
	struct guest_mem mem;
	struct live *v = calloc(1, sizeof(*v));
	struct x86_cpu_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct x86_platform_state p1, p2;
	uint64_t bits[(LIVE_MEM >> 12) / 64], n;
	uint64_t tsc_set;

	(void)state;
	if (!live_kvm()) {
		free(v);
		free(a);
		free(b);
		skip();
	}
	assert_int_equal(guest_mem_init(&mem, LIVE_MEM), 0);
	assert_int_equal(guest_mem_write(&mem, LIVE_CODE, live_code, sizeof(live_code)), 0);
	live_up(v, &mem, &accel_kvm_ops);
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, a), 0);
	live_real_mode(a);
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, a), 0);

	/* Dirty log: the pages the guest writes, not the code page. */
	assert_int_equal(guest_mem_dirty_start(&mem), 0);
	assert_int_equal(v->ops->dirty_log(&v->m, true), 0);
	assert_int_equal(v->ops->dirty_sync(&v->m), 0);
	guest_mem_dirty_collect(&mem, bits, mem.dirty_words);
	live_run_to(v, 10);
	assert_int_equal(v->ops->dirty_sync(&v->m), 0);
	n = guest_mem_dirty_collect(&mem, bits, mem.dirty_words);
	assert_true(bits[0] & (1u << (LIVE_COUNTER >> 12)));
	assert_true(bits[0] & (1u << (LIVE_FLAG >> 12)));
	assert_false(bits[0] & (1u << (LIVE_CODE >> 12)));
	assert_int_equal(n, 2);
	/* Synced: nothing new until the guest writes again. */
	assert_int_equal(v->ops->dirty_sync(&v->m), 0);
	assert_int_equal(guest_mem_dirty_collect(&mem, bits, mem.dirty_words), 0);
	assert_int_equal(v->ops->dirty_log(&v->m, false), 0);
	guest_mem_dirty_stop(&mem);

	/* get -> set -> get: the same state (the TSC ran on). */
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, a), 0);
	assert_int_equal(a->rip >= LIVE_CODE && a->rip < LIVE_CODE + sizeof(live_code), 1);
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, a), 0);
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, b), 0);
	assert_true(b->tsc >= a->tsc);
	live_mask(a);
	live_mask(b);
	assert_memory_equal(a, b, sizeof(*a));

	/* A loaded TSC, then the platform restored as if 2 s of host time passed. */
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, a), 0);
	tsc_set = a->tsc + 1000000;
	a->tsc = tsc_set;
	a->gpr[X86_RAX] = 0x1234;
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, a), 0);
	/* The TSC is what was loaded (KVM_VCPU_TSC_OFFSET; a write of the MSR may be ignored). */
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, b), 0);
	assert_true(b->tsc >= tsc_set);
	assert_true(b->tsc < tsc_set + 1000000000ULL);
	/* A state read now would be set without touching the TSC: keep it "loaded". */
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, a), 0);
	assert_int_equal(v->ops->platform_save(&v->m, &p1), 0);
	p1.host_realtime_ns -= 2000000000ULL;
	assert_int_equal(v->ops->platform_load(&v->m, &p1), 0);
	assert_int_equal(v->ops->platform_save(&v->m, &p2), 0);
	assert_true(p2.clock_ns >= p1.clock_ns + 2000000000ULL);
	assert_true(p2.clock_ns < p1.clock_ns + 3000000000ULL);
	assert_memory_equal(&p1.pic, &p2.pic, sizeof(p1.pic));
	assert_memory_equal(&p1.ioapic, &p2.ioapic, sizeof(p1.ioapic));
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, b), 0);
	assert_int_equal(b->gpr[X86_RAX], 0x1234);
	/* At least 2 s of ticks at 100 MHz or more, at most 3 s at 10 GHz. */
	assert_true(b->tsc >= tsc_set + 200000000ULL);
	assert_true(b->tsc < tsc_set + 30000000000ULL);
	/* And the guest goes on. */
	live_run_to(v, 20);

	live_down(v);
	guest_mem_destroy(&mem);
	free(v);
	free(a);
	free(b);
}

/* soft -> KVM -> soft, on one guest memory: the counter goes on each time. */
static void test_live_soft_kvm_soft(void **state)
{
	struct guest_mem mem;
	struct live *v = calloc(1, sizeof(*v));
	struct x86_cpu_state *s = calloc(1, sizeof(*s));
	struct x86_platform_state p;
	uint32_t c;

	(void)state;
	if (!live_kvm()) {
		free(v);
		free(s);
		skip();
	}
	assert_int_equal(guest_mem_init(&mem, LIVE_MEM), 0);
	assert_int_equal(guest_mem_write(&mem, LIVE_CODE, live_code, sizeof(live_code)), 0);

	live_up(v, &mem, &accel_soft_ops);
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, s), 0);
	live_real_mode(s);
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, s), 0);
	live_run_to(v, 5);
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, s), 0);
	assert_int_equal(v->ops->platform_save(&v->m, &p), 0);
	live_down(v);
	c = live_counter(&mem);

	live_up(v, &mem, &accel_kvm_ops);
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, s), 0);
	assert_int_equal(v->ops->platform_load(&v->m, &p), 0);
	live_run_to(v, c + 5);
	assert_int_equal(v->ops->vcpu_get_state(&v->vcpu, s), 0);
	assert_int_equal(v->ops->platform_save(&v->m, &p), 0);
	live_down(v);
	c = live_counter(&mem);

	live_up(v, &mem, &accel_soft_ops);
	assert_int_equal(v->ops->vcpu_set_state(&v->vcpu, s), 0);
	assert_int_equal(v->ops->platform_load(&v->m, &p), 0);
	live_run_to(v, c + 5);
	live_down(v);
	guest_mem_destroy(&mem);
	free(v);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_roundtrip),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_msr_table),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_mp_state),
		cmocka_unit_test(test_lapic_timer),
		cmocka_unit_test(test_fpu),
		cmocka_unit_test(test_debugregs),
		cmocka_unit_test(test_pic),
		cmocka_unit_test(test_ioapic),
		cmocka_unit_test(test_pit),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_dirty_fold),
		cmocka_unit_test(test_soft_lapic_timer),
		cmocka_unit_test(test_soft_pit),
		cmocka_unit_test(test_soft_pic_ioapic),
		cmocka_unit_test(test_live_kvm_roundtrip),
		cmocka_unit_test(test_live_soft_kvm_soft),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
