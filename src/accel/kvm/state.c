// SPDX-License-Identifier: Apache-2.0
/*
 * KVM <-> neutral state conversions for snapshots and migration (pure
 * functions; the ioctl glue is in vcpu.c, platform.c and dirty.c). A state
 * taken on either backend loads on the other with the same CPU template,
 * so every field follows the neutral meaning that the software CPU and
 * irqchip/ models give it:
 *
 *  - registers, segments, descriptor tables, CR0-CR4/CR8, EFER, APIC base:
 *    field for field (KVM_GET/SET_REGS, _SREGS). The sregs interrupt
 *    bitmap (an interrupt being injected) is cleared on set: see events.
 *  - MSRs: one table (kvm_state_msrs), TSC first so that the TSC-deadline
 *    MSR, written after it, is relative to the new TSC.
 *  - FPU/SSE: the 512-byte legacy region of KVM's XSAVE area is the FXSAVE
 *    image; on set XSTATE_BV gets the x87 and SSE bits so that XRSTOR takes
 *    them. AVX and later state components are not in the neutral form
 *    (kvm_xsave_extended tells the glue, which warns); KVM_GET/SET_FPU
 *    serves hosts without KVM_CAP_XSAVE.
 *  - events: exception.injected and .pending (KVM reports a pending one as
 *    injected unless KVM_CAP_EXCEPTION_PAYLOAD is on, which osprey never
 *    enables) are the neutral exception_pending, except the software
 *    exceptions #BP and #OF, dropped: RIP still points at INT3/INTO, which
 *    raises them again. An NMI being injected counts as pending and not
 *    yet masked. An external interrupt being injected is not in the
 *    neutral form: when it came from the LAPIC its vector moves from ISR
 *    back to IRR of the register page (taken again), an INTn being
 *    injected is dropped (RIP is at the INT instruction). The interrupt
 *    shadow: neutral bit 0 = after STI, bit 1 = after MOV SS; KVM has
 *    MOV_SS = 1, STI = 2; an STI shadow with IF clear (VMX refuses that
 *    entry) is given to KVM as a MOV SS shadow.
 *  - MP state: RUNNABLE, HALTED as such; WAIT_SIPI <-> INIT_RECEIVED (and
 *    UNINITIALIZED / AP_RESET_HOLD / SIPI_RECEIVED read as WAIT_SIPI);
 *    STOPPED (a shut-down CPU that only INIT wakes) loads as
 *    UNINITIALIZED.
 *  - LAPIC: the 1 KiB page is KVM's struct kvm_lapic_state as it is (xAPIC
 *    layout; in x2APIC mode KVM without KVM_CAP_X2APIC_API also keeps the
 *    ID in bits 31:24). KVM's APIC bus runs at 1 GHz (1 ns per count, as
 *    LAPIC_BUS_HZ); KVM_GET_LAPIC fills TMCCT, so the one-shot/periodic
 *    timer's remaining time is TMCCT * divisor ns, none when TMCCT or TMICT
 *    is 0 or in TSC-deadline mode (the deadline is the MSR); the period is
 *    TMICT * divisor. On set TMCCT = ceil(remaining / divisor), at least 1
 *    (an expiry due now still fires) and at most TMICT; KVM_SET_LAPIC
 *    restarts the timer from TMCCT (Linux 5.0+; older kernels restart a
 *    full TMICT period). A periodic timer saved as "none" restarts a full
 *    period on KVM. esr_pending and lint_level have no KVM form (0).
 *  - PIC: field for field (last_irr is the input line levels, init_state
 *    the ICW step, init4 = ICW4 needed, read_reg_select = read ISR);
 *    ICW1's single mode is not in KVM (KVM always expects ICW3): lost.
 *  - IOAPIC: regsel, ID (4 bits), the 24 redirection entries as they are;
 *    the neutral input levels of level-triggered pins are KVM's irr (KVM
 *    re-injects them on set), edge pins carry no level on KVM (their
 *    edges were delivered).
 *  - PIT: counts, latches, read/write byte state, mode, BCD, gates, port
 *    0x61 bits 0 and 1 (gate 2, speaker data: KVM_PIT_FLAGS_SPEAKER_DATA_ON;
 *    bits 2-3 have no KVM form). KVM keeps count_load_time in host
 *    CLOCK_MONOTONIC ns, the neutral form "ns since the count started".
 *    KVM_SET_PIT2 reloads every count at now, so on KVM a restored channel
 *    starts a fresh period (a periodic channel 0 jitters by less than one
 *    period, a one-shot channel 0 fires once more). KVM mode 0xff (never
 *    programmed) is the neutral not-loaded channel; KVM has no "control
 *    word written, count not yet" state, so such a channel 1 or 2 reads
 *    back loaded with its old count (channel 0, and mode 0, load as 0xff).
 *    Edges delivered (edges_done, fired) only matter for channel 0, the
 *    one that interrupts: KVM delivered every edge due at the save.
 */
#include "accel/kvm/state.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "irqchip/lapic.h"

/* ---- segments, registers ---- */

void kvm_segment_from_x86(const struct x86_segment *s, struct kvm_segment *k)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->type;
	k->s = s->s;
	k->dpl = s->dpl;
	k->present = s->present;
	k->avl = s->avl;
	k->l = s->l;
	k->db = s->db;
	k->g = s->g;
	k->unusable = s->unusable;
}

void kvm_segment_to_x86(const struct kvm_segment *k, struct x86_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	s->type = k->type & 15;
	s->s = k->s & 1;
	s->dpl = k->dpl & 3;
	s->present = k->present & 1;
	s->avl = k->avl & 1;
	s->l = k->l & 1;
	s->db = k->db & 1;
	s->g = k->g & 1;
	s->unusable = k->unusable & 1;
}

void kvm_regs_from_state(const struct x86_cpu_state *s, struct kvm_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->rax = s->gpr[X86_RAX];
	r->rbx = s->gpr[X86_RBX];
	r->rcx = s->gpr[X86_RCX];
	r->rdx = s->gpr[X86_RDX];
	r->rsi = s->gpr[X86_RSI];
	r->rdi = s->gpr[X86_RDI];
	r->rsp = s->gpr[X86_RSP];
	r->rbp = s->gpr[X86_RBP];
	r->r8 = s->gpr[X86_R8];
	r->r9 = s->gpr[X86_R9];
	r->r10 = s->gpr[X86_R10];
	r->r11 = s->gpr[X86_R11];
	r->r12 = s->gpr[X86_R12];
	r->r13 = s->gpr[X86_R13];
	r->r14 = s->gpr[X86_R14];
	r->r15 = s->gpr[X86_R15];
	r->rip = s->rip;
	r->rflags = s->rflags;
}

void kvm_regs_to_state(const struct kvm_regs *r, struct x86_cpu_state *s)
{
	s->gpr[X86_RAX] = r->rax;
	s->gpr[X86_RBX] = r->rbx;
	s->gpr[X86_RCX] = r->rcx;
	s->gpr[X86_RDX] = r->rdx;
	s->gpr[X86_RSI] = r->rsi;
	s->gpr[X86_RDI] = r->rdi;
	s->gpr[X86_RSP] = r->rsp;
	s->gpr[X86_RBP] = r->rbp;
	s->gpr[X86_R8] = r->r8;
	s->gpr[X86_R9] = r->r9;
	s->gpr[X86_R10] = r->r10;
	s->gpr[X86_R11] = r->r11;
	s->gpr[X86_R12] = r->r12;
	s->gpr[X86_R13] = r->r13;
	s->gpr[X86_R14] = r->r14;
	s->gpr[X86_R15] = r->r15;
	s->rip = r->rip;
	s->rflags = r->rflags;
}

static struct kvm_segment *sreg_slot(struct kvm_sregs *k, unsigned i)
{
	switch (i) {
	case X86_ES:
		return &k->es;
	case X86_CS:
		return &k->cs;
	case X86_SS:
		return &k->ss;
	case X86_DS:
		return &k->ds;
	case X86_FS:
		return &k->fs;
	case X86_GS:
		return &k->gs;
	case X86_LDTR:
		return &k->ldt;
	default:
		return &k->tr;
	}
}

void kvm_sregs_from_state(const struct x86_cpu_state *s, struct kvm_sregs *k)
{
	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		kvm_segment_from_x86(&s->seg[i], sreg_slot(k, i));
	memset(&k->gdt, 0, sizeof(k->gdt));
	memset(&k->idt, 0, sizeof(k->idt));
	k->gdt.base = s->gdt.base;
	k->gdt.limit = s->gdt.limit;
	k->idt.base = s->idt.base;
	k->idt.limit = s->idt.limit;
	k->cr0 = s->cr0;
	k->cr2 = s->cr2;
	k->cr3 = s->cr3;
	k->cr4 = s->cr4;
	k->cr8 = s->cr8;
	k->efer = s->efer;
	k->apic_base = s->msr.apic_base;
	memset(k->interrupt_bitmap, 0, sizeof(k->interrupt_bitmap));
}

void kvm_sregs_to_state(const struct kvm_sregs *k, struct x86_cpu_state *s)
{
	struct kvm_sregs tmp = *k;

	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		kvm_segment_to_x86(sreg_slot(&tmp, i), &s->seg[i]);
	s->gdt.base = k->gdt.base;
	s->gdt.limit = k->gdt.limit;
	s->idt.base = k->idt.base;
	s->idt.limit = k->idt.limit;
	s->cr0 = k->cr0;
	s->cr2 = k->cr2;
	s->cr3 = k->cr3;
	s->cr4 = k->cr4;
	s->cr8 = k->cr8;
	s->efer = k->efer;
	s->msr.apic_base = k->apic_base;
}

/* ---- MSRs ---- */

#define MSR_IA32_TSC 0x10
#define MSR_SPEC_CTRL 0x48
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_PAT 0x277
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_PV_EOI_EN 0x4b564d04

#define MSR_FIELD(f) offsetof(struct x86_cpu_state, f)

const struct kvm_state_msr kvm_state_msrs[] = {
	{ MSR_IA32_TSC, KVM_MSR_TSC, MSR_FIELD(tsc), "IA32_TSC" },
	{ MSR_IA32_SYSENTER_CS, 0, MSR_FIELD(msr.sysenter_cs), "IA32_SYSENTER_CS" },
	{ MSR_IA32_SYSENTER_ESP, 0, MSR_FIELD(msr.sysenter_esp), "IA32_SYSENTER_ESP" },
	{ MSR_IA32_SYSENTER_EIP, 0, MSR_FIELD(msr.sysenter_eip), "IA32_SYSENTER_EIP" },
	{ MSR_STAR, 0, MSR_FIELD(msr.star), "STAR" },
	{ MSR_LSTAR, 0, MSR_FIELD(msr.lstar), "LSTAR" },
	{ MSR_CSTAR, 0, MSR_FIELD(msr.cstar), "CSTAR" },
	{ MSR_SYSCALL_MASK, 0, MSR_FIELD(msr.sfmask), "SFMASK" },
	{ MSR_KERNEL_GS_BASE, 0, MSR_FIELD(msr.kernel_gs_base), "KERNEL_GS_BASE" },
	{ MSR_IA32_PAT, 0, MSR_FIELD(msr.pat), "IA32_PAT" },
	{ MSR_TSC_AUX, KVM_MSR_OPTIONAL, MSR_FIELD(msr.tsc_aux), "TSC_AUX" },
	{ MSR_IA32_MISC_ENABLE, KVM_MSR_OPTIONAL, MSR_FIELD(msr.misc_enable), "IA32_MISC_ENABLE" },
	{ MSR_MTRR_DEF_TYPE, KVM_MSR_OPTIONAL, MSR_FIELD(msr.mtrr_def_type), "MTRR_DEF_TYPE" },
	{ MSR_SPEC_CTRL, KVM_MSR_OPTIONAL, MSR_FIELD(msr.spec_ctrl), "SPEC_CTRL" },
	{ MSR_KVM_SYSTEM_TIME_NEW, KVM_MSR_OPTIONAL, MSR_FIELD(msr.kvm_system_time),
	  "KVM_SYSTEM_TIME_NEW" },
	/* A write makes KVM store the wall clock at the address: never 0. */
	{ MSR_KVM_WALL_CLOCK_NEW, KVM_MSR_OPTIONAL | KVM_MSR_SKIP_ZERO,
	  MSR_FIELD(msr.kvm_wall_clock), "KVM_WALL_CLOCK_NEW" },
	{ MSR_KVM_PV_EOI_EN, KVM_MSR_OPTIONAL, MSR_FIELD(msr.kvm_pv_eoi), "KVM_PV_EOI_EN" },
	/* After the TSC and after KVM_SET_LAPIC (KVM ignores it unless LVTT is deadline). */
	{ MSR_IA32_TSC_DEADLINE, KVM_MSR_OPTIONAL, MSR_FIELD(msr.tsc_deadline),
	  "IA32_TSC_DEADLINE" },
};
const unsigned kvm_state_nmsrs = sizeof(kvm_state_msrs) / sizeof(kvm_state_msrs[0]);

uint64_t kvm_state_msr_get(const struct x86_cpu_state *s, const struct kvm_state_msr *m)
{
	uint64_t v;

	memcpy(&v, (const char *)s + m->offset, sizeof(v));
	return v;
}

void kvm_state_msr_set(struct x86_cpu_state *s, const struct kvm_state_msr *m, uint64_t v)
{
	memcpy((char *)s + m->offset, &v, sizeof(v));
}

/* ---- events ---- */

#define NEUTRAL_SHADOW_STI 1
#define NEUTRAL_SHADOW_MOV_SS 2

static bool page_bit(const uint8_t *lapic, unsigned reg, unsigned vector)
{
	return lapic[reg + (vector / 32) * 16 + (vector % 32) / 8] & (1u << (vector % 8));
}

static void page_set_bit(uint8_t *lapic, unsigned reg, unsigned vector, bool on)
{
	uint8_t *b = &lapic[reg + (vector / 32) * 16 + (vector % 32) / 8];

	if (on)
		*b |= (uint8_t)(1u << (vector % 8));
	else
		*b &= (uint8_t)~(1u << (vector % 8));
}

int kvm_events_to_state(const struct kvm_vcpu_events *e, struct x86_events *n,
			uint8_t lapic[X86_LAPIC_REGS_SIZE])
{
	int requeued = 0;

	memset(n, 0, sizeof(*n));
	if ((e->exception.injected || e->exception.pending) && e->exception.nr < 32 &&
	    e->exception.nr != X86_VEC_BP && e->exception.nr != X86_VEC_OF) {
		n->exception_pending = 1;
		n->exception_vector = e->exception.nr;
		n->exception_has_error = e->exception.has_error_code ? 1 : 0;
		n->exception_error = n->exception_has_error ? e->exception.error_code : 0;
	}
	if (e->nmi.injected) {
		n->nmi_pending = 1;
		n->nmi_masked = 0;
	} else {
		n->nmi_pending = e->nmi.pending ? 1 : 0;
		n->nmi_masked = e->nmi.masked ? 1 : 0;
	}
	if (e->interrupt.shadow & KVM_X86_SHADOW_INT_STI)
		n->interrupt_shadow |= NEUTRAL_SHADOW_STI;
	if (e->interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS)
		n->interrupt_shadow |= NEUTRAL_SHADOW_MOV_SS;
	n->sipi_vector = (uint8_t)e->sipi_vector;
	if (e->interrupt.injected && !e->interrupt.soft) {
		unsigned v = e->interrupt.nr;

		/* Acked by the LAPIC: ISR holds it. Undo the ack. */
		if (v >= 16 && page_bit(lapic, APIC_ISR, v)) {
			page_set_bit(lapic, APIC_ISR, v, false);
			page_set_bit(lapic, APIC_IRR, v, true);
			requeued = 1;
		} else {
			requeued = -1;
		}
	}
	return requeued;
}

void kvm_events_from_state(const struct x86_events *n, uint64_t rflags,
			   struct kvm_vcpu_events *e)
{
	memset(e, 0, sizeof(*e));
	if (n->exception_pending && n->exception_vector < 32) {
		e->exception.injected = 1;
		e->exception.nr = n->exception_vector;
		e->exception.has_error_code = n->exception_has_error ? 1 : 0;
		e->exception.error_code = n->exception_has_error ? n->exception_error : 0;
	}
	e->nmi.pending = n->nmi_pending ? 1 : 0;
	e->nmi.masked = n->nmi_masked ? 1 : 0;
	if (n->interrupt_shadow & NEUTRAL_SHADOW_MOV_SS)
		e->interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	else if (n->interrupt_shadow & NEUTRAL_SHADOW_STI)
		e->interrupt.shadow = (rflags & X86_FLAGS_IF) ? KVM_X86_SHADOW_INT_STI :
								KVM_X86_SHADOW_INT_MOV_SS;
	e->sipi_vector = n->sipi_vector;
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
		   KVM_VCPUEVENT_VALID_SHADOW;
}

/* ---- MP state ---- */

int kvm_mp_state_to_x86(uint32_t kvm_state, uint32_t *out)
{
	switch (kvm_state) {
	case KVM_MP_STATE_RUNNABLE:
		*out = X86_MP_RUNNABLE;
		return 0;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_SIPI_RECEIVED:
	case KVM_MP_STATE_AP_RESET_HOLD:
		*out = X86_MP_WAIT_SIPI;
		return 0;
	case KVM_MP_STATE_HALTED:
		*out = X86_MP_HALTED;
		return 0;
	default:
		return -EINVAL;
	}
}

int kvm_mp_state_from_x86(uint32_t x86_state, uint32_t *out)
{
	switch (x86_state) {
	case X86_MP_RUNNABLE:
		*out = KVM_MP_STATE_RUNNABLE;
		return 0;
	case X86_MP_WAIT_SIPI:
		*out = KVM_MP_STATE_INIT_RECEIVED;
		return 0;
	case X86_MP_HALTED:
		*out = KVM_MP_STATE_HALTED;
		return 0;
	case X86_MP_STOPPED:
		*out = KVM_MP_STATE_UNINITIALIZED;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- LAPIC ---- */

static uint32_t page_get32(const void *page, unsigned reg)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)page + reg, 4);
	return v;
}

static void page_put32(void *page, unsigned reg, uint32_t v)
{
	memcpy((uint8_t *)page + reg, &v, 4);
}

uint32_t kvm_lapic_divisor(uint32_t tdcr)
{
	uint32_t v = (tdcr & 3) | ((tdcr & 8) >> 1);

	return 1u << ((v + 1) & 7);
}

/* LVT timer mode bits 18:17: 0 one-shot, 1 periodic, 2 TSC deadline. */
static unsigned lapic_timer_mode(const void *page)
{
	return (page_get32(page, APIC_LVT_TIMER) & APIC_TIMER_MODE_MASK) >> APIC_TIMER_MODE_SHIFT;
}

void kvm_lapic_to_state(const struct kvm_lapic_state *k, struct x86_cpu_state *s)
{
	uint32_t div, tmict, tmcct;
	unsigned mode;

	_Static_assert(sizeof(k->regs) == X86_LAPIC_REGS_SIZE, "KVM's LAPIC page is 1 KiB");
	memcpy(s->lapic, k->regs, X86_LAPIC_REGS_SIZE);
	s->apic_id = page_get32(k->regs, APIC_ID) >> 24;
	div = kvm_lapic_divisor(page_get32(k->regs, APIC_TDCR));
	tmict = page_get32(k->regs, APIC_TMICT);
	tmcct = page_get32(k->regs, APIC_TMCCT);
	mode = lapic_timer_mode(k->regs);
	s->lapic_timer_remaining_ns = UINT64_MAX;
	s->lapic_timer_period_ns = 0;
	if (mode <= 1 && tmict) {
		if (tmcct)
			s->lapic_timer_remaining_ns = (uint64_t)tmcct * div;
		if (mode == 1)
			s->lapic_timer_period_ns = (uint64_t)tmict * div;
	}
	/* The neutral page's TMCCT is what the software LAPIC computes: keep KVM's. */
	s->lapic_esr_pending = 0;
	s->lapic_lint_level = 0;
}

void kvm_lapic_from_state(const struct x86_cpu_state *s, struct kvm_lapic_state *k)
{
	uint32_t div, tmict, count = 0;
	uint64_t rem = s->lapic_timer_remaining_ns;

	memcpy(k->regs, s->lapic, X86_LAPIC_REGS_SIZE);
	div = kvm_lapic_divisor(page_get32(k->regs, APIC_TDCR));
	tmict = page_get32(k->regs, APIC_TMICT);
	if (lapic_timer_mode(k->regs) <= 1 && tmict && rem != UINT64_MAX) {
		uint64_t c = rem / div + (rem % div != 0);

		if (c == 0)
			c = 1;
		if (c > tmict)
			c = tmict;
		count = (uint32_t)c;
	}
	page_put32(k->regs, APIC_TMCCT, count);
}

/* ---- FPU ---- */

#define XSTATE_X87 1ULL
#define XSTATE_SSE 2ULL
#define XSAVE_HDR_OFFSET 512

void kvm_xsave_to_fxsave(const struct kvm_xsave *x, struct x86_fxsave *f)
{
	memcpy(f, x->region, sizeof(*f));
}

uint64_t kvm_xsave_extended(const struct kvm_xsave *x)
{
	uint64_t bv;

	memcpy(&bv, (const uint8_t *)x->region + XSAVE_HDR_OFFSET, sizeof(bv));
	return bv & ~(XSTATE_X87 | XSTATE_SSE);
}

void kvm_xsave_from_fxsave(const struct x86_fxsave *f, struct kvm_xsave *x)
{
	uint8_t *area = (uint8_t *)x->region;
	uint64_t bv;

	memcpy(area, f, sizeof(*f));
	memcpy(&bv, area + XSAVE_HDR_OFFSET, sizeof(bv));
	bv |= XSTATE_X87 | XSTATE_SSE;
	memcpy(area + XSAVE_HDR_OFFSET, &bv, sizeof(bv));
}

void kvm_fpu_to_fxsave(const struct kvm_fpu *k, struct x86_fxsave *f)
{
	memset(f, 0, sizeof(*f));
	f->fcw = k->fcw;
	f->fsw = k->fsw;
	f->ftw = k->ftwx;
	f->fop = k->last_opcode;
	f->fip = k->last_ip;
	f->fdp = k->last_dp;
	f->mxcsr = k->mxcsr;
	f->mxcsr_mask = 0; /* KVM_GET_FPU has none: "every bit but DAZ" by the format */
	memcpy(f->st, k->fpr, sizeof(f->st));
	memcpy(f->xmm, k->xmm, sizeof(f->xmm));
}

void kvm_fpu_from_fxsave(const struct x86_fxsave *f, struct kvm_fpu *k)
{
	memset(k, 0, sizeof(*k));
	k->fcw = f->fcw;
	k->fsw = f->fsw;
	k->ftwx = f->ftw;
	k->last_opcode = f->fop;
	k->last_ip = f->fip;
	k->last_dp = f->fdp;
	k->mxcsr = f->mxcsr;
	memcpy(k->fpr, f->st, sizeof(k->fpr));
	memcpy(k->xmm, f->xmm, sizeof(k->xmm));
}

void kvm_debugregs_to_state(const struct kvm_debugregs *d, struct x86_cpu_state *s)
{
	for (unsigned i = 0; i < 4; i++)
		s->dr[i] = d->db[i];
	s->dr[4] = s->dr[5] = 0;
	s->dr[6] = d->dr6;
	s->dr[7] = d->dr7;
}

void kvm_debugregs_from_state(const struct x86_cpu_state *s, struct kvm_debugregs *d)
{
	memset(d, 0, sizeof(*d));
	for (unsigned i = 0; i < 4; i++)
		d->db[i] = s->dr[i];
	/* KVM refuses bits above 31 (-EINVAL): they are reserved. */
	d->dr6 = s->dr[6] & 0xffffffffULL;
	d->dr7 = s->dr[7] & 0xffffffffULL;
}

/* ---- PIC ---- */

/* Lines the ELCR may make level-triggered: not IRQ 0, 1, 2 / 8, 13. */
#define PIC_ELCR_MASK_MASTER 0xf8
#define PIC_ELCR_MASK_SLAVE 0xde

void kvm_pic_to_snap(const struct kvm_pic_state *k, struct pic_chip *c)
{
	memset(c, 0, sizeof(*c));
	c->irr = k->irr;
	c->isr = k->isr;
	c->imr = k->imr;
	c->line = k->last_irr;
	c->elcr = k->elcr & k->elcr_mask;
	c->vector_base = k->irq_base & 0xf8;
	c->priority_add = k->priority_add & 7;
	c->init_step = k->init_state <= 3 ? k->init_state : 0;
	c->icw4_needed = k->init4 ? 1 : 0;
	c->single = 0;
	c->auto_eoi = k->auto_eoi ? 1 : 0;
	c->rotate_on_aeoi = k->rotate_on_auto_eoi ? 1 : 0;
	c->sfnm = k->special_fully_nested_mode ? 1 : 0;
	c->read_isr = k->read_reg_select ? 1 : 0;
	c->poll = k->poll ? 1 : 0;
	c->special_mask = k->special_mask ? 1 : 0;
}

void kvm_pic_from_snap(const struct pic_chip *c, bool slave, struct kvm_pic_state *k)
{
	memset(k, 0, sizeof(*k));
	k->last_irr = c->line;
	k->irr = c->irr;
	k->imr = c->imr;
	k->isr = c->isr;
	k->priority_add = c->priority_add & 7;
	k->irq_base = c->vector_base & 0xf8;
	k->read_reg_select = c->read_isr ? 1 : 0;
	k->poll = c->poll ? 1 : 0;
	k->special_mask = c->special_mask ? 1 : 0;
	k->init_state = c->init_step <= 3 ? c->init_step : 0;
	k->auto_eoi = c->auto_eoi ? 1 : 0;
	k->rotate_on_auto_eoi = c->rotate_on_aeoi ? 1 : 0;
	k->special_fully_nested_mode = c->sfnm ? 1 : 0;
	k->init4 = c->icw4_needed ? 1 : 0;
	k->elcr_mask = slave ? PIC_ELCR_MASK_SLAVE : PIC_ELCR_MASK_MASTER;
	k->elcr = c->elcr & k->elcr_mask;
}

/* ---- IOAPIC ---- */

static uint32_t level_pins(const uint64_t *rte)
{
	uint32_t m = 0;

	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		if (rte[i] & IOAPIC_RTE_LEVEL)
			m |= 1u << i;
	return m;
}

void kvm_ioapic_to_snap(const struct kvm_ioapic_state *k, struct ioapic_snap *s)
{
	_Static_assert(KVM_IOAPIC_NUM_PINS == IOAPIC_NUM_PINS, "24 IOAPIC pins");
	memset(s, 0, sizeof(*s));
	s->regsel = k->ioregsel & 0xff;
	s->id = k->id & 0xf;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		s->rte[i] = k->redirtbl[i].bits;
	s->level = k->irr & level_pins(s->rte);
}

void kvm_ioapic_from_snap(const struct ioapic_snap *s, struct kvm_ioapic_state *k)
{
	memset(k, 0, sizeof(*k));
	k->base_address = IOAPIC_DEFAULT_BASE;
	k->ioregsel = s->regsel & 0xff;
	k->id = s->id & 0xf;
	for (unsigned i = 0; i < IOAPIC_NUM_PINS; i++)
		k->redirtbl[i].bits = s->rte[i];
	k->irr = s->level & level_pins(s->rte) & ((1u << IOAPIC_NUM_PINS) - 1);
}

/* ---- PIT ---- */

/* KVM's byte-access states (arch/x86/kvm/i8254.h). */
#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD0 3
#define RW_WORD1 4
#define KVM_PIT_MODE_UNSET 0xff

static uint64_t pit_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000ULL);
}

static void pit_channel_to_snap(const struct kvm_pit_channel_state *k, unsigned i,
				uint64_t now, struct pit_channel *c)
{
	uint64_t ticks;

	memset(c, 0, sizeof(*c));
	c->reload = (k->count >= 1 && k->count <= 65536) ? k->count : 65536;
	c->rw = (k->rw_mode >= 1 && k->rw_mode <= 3) ? k->rw_mode : 3;
	c->bcd = k->bcd & 1;
	c->gate = i == 2 ? (k->gate & 1) : 1;
	c->start_ns = (k->count_load_time >= 0 && (uint64_t)k->count_load_time < now) ?
			      now - (uint64_t)k->count_load_time : 0;
	if (k->mode == KVM_PIT_MODE_UNSET) {
		c->mode = 0;
		c->null_count = 1;
	} else {
		c->mode = k->mode > 5 ? (uint8_t)((k->mode - 4) & 7) : k->mode;
		if (c->mode > 5)
			c->mode = 0;
		c->loaded = 1;
		c->armed = 1;
		ticks = pit_ticks(c->start_ns);
		switch (c->mode) {
		case 2:
		case 3:
			if (!c->gate)
				c->frozen = 1;
			else if (i == 0) /* KVM delivered every edge due */
				c->edges_done = ticks / c->reload;
			break;
		case 0:
		case 4:
			if (!c->gate) {
				c->frozen = 1;
				c->frozen_ticks = ticks;
			}
			if (i == 0)
				c->fired = ticks >= c->reload + (c->mode == 4);
			break;
		default: /* 1, 5 */
			if (i == 0)
				c->fired = ticks >= c->reload + (c->mode == 5);
			break;
		}
	}
	/* KVM: LSB or MSB left (one byte), WORD0 (LSB then MSB); neutral: bytes left. */
	switch (k->count_latched) {
	case 0:
		c->count_latched = 0;
		break;
	case RW_WORD0:
		c->count_latched = 2;
		break;
	default:
		c->count_latched = 1;
		break;
	}
	c->latched_count = k->latched_count;
	c->status_latched = k->status_latched ? 1 : 0;
	c->status = k->status;
	c->read_msb_next = k->read_state == RW_WORD1;
	c->write_msb_next = k->write_state == RW_WORD1;
	c->write_lsb = k->write_latch;
}

static void pit_channel_from_snap(const struct pit_channel *c, unsigned i, uint64_t now,
				  struct kvm_pit_channel_state *k)
{
	uint8_t rw = (c->rw >= 1 && c->rw <= 3) ? c->rw : 3;
	uint8_t mode = c->mode > 5 ? (uint8_t)(c->mode - 4) : c->mode;
	uint64_t ago = c->start_ns < now ? c->start_ns : now;

	memset(k, 0, sizeof(*k));
	k->count = (c->reload >= 1 && c->reload <= 65536) ? c->reload : 65536;
	if (mode > 5)
		mode = 0;
	/* Not loaded: no count runs (KVM starts channel 0's timer for any mode 0-4). */
	if (!c->loaded && (mode == 0 || i == 0))
		k->mode = KVM_PIT_MODE_UNSET;
	else
		k->mode = mode;
	k->rw_mode = rw;
	k->bcd = c->bcd & 1;
	k->gate = i == 2 ? (c->gate & 1) : 1;
	k->count_load_time = (int64_t)(now - ago);
	if (c->count_latched == 0)
		k->count_latched = 0;
	else if (rw == 3)
		k->count_latched = c->count_latched >= 2 ? RW_WORD0 : RW_MSB;
	else
		k->count_latched = rw;
	k->latched_count = c->latched_count;
	k->status_latched = c->status_latched ? 1 : 0;
	k->status = c->status;
	k->read_state = rw == 3 ? (c->read_msb_next ? RW_WORD1 : RW_WORD0) : rw;
	k->write_state = rw == 3 ? (c->write_msb_next ? RW_WORD1 : RW_WORD0) : rw;
	k->write_latch = c->write_lsb;
}

void kvm_pit_to_snap(const struct kvm_pit_state2 *k, uint64_t now_mono_ns, struct pit_snap *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 3; i++)
		pit_channel_to_snap(&k->channels[i], i, now_mono_ns, &s->ch[i]);
	s->port61 = (uint8_t)((k->channels[2].gate & 1) |
			      ((k->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON) ? 2 : 0));
}

void kvm_pit_from_snap(const struct pit_snap *s, uint64_t now_mono_ns, struct kvm_pit_state2 *k)
{
	struct pit_channel c2 = s->ch[2];

	memset(k, 0, sizeof(*k));
	/* Port 0x61 bit 0 is channel 2's gate, as in the software PIT's restore. */
	c2.gate = s->port61 & 1;
	pit_channel_from_snap(&s->ch[0], 0, now_mono_ns, &k->channels[0]);
	pit_channel_from_snap(&s->ch[1], 1, now_mono_ns, &k->channels[1]);
	pit_channel_from_snap(&c2, 2, now_mono_ns, &k->channels[2]);
	if (s->port61 & 2)
		k->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
}

/* ---- clock ---- */

uint64_t kvm_clock_target(uint64_t clock_ns, uint64_t saved_real_ns, uint64_t now_real_ns,
			  uint64_t *delta_ns)
{
	uint64_t delta = now_real_ns > saved_real_ns ? now_real_ns - saved_real_ns : 0;

	if (clock_ns > KVM_STATE_CLOCK_MAX)
		clock_ns = KVM_STATE_CLOCK_MAX;
	if (delta > KVM_STATE_CLOCK_MAX - clock_ns)
		delta = KVM_STATE_CLOCK_MAX - clock_ns;
	*delta_ns = delta;
	return clock_ns + delta;
}

uint64_t kvm_ns_to_tsc(uint64_t ns, uint32_t tsc_khz)
{
	unsigned __int128 t = (unsigned __int128)ns * tsc_khz / 1000000ULL;

	return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* ---- dirty log ---- */

uint64_t kvm_dirty_fold(uint64_t *dirty, size_t dirty_words, uint64_t first_page,
			const uint64_t *slot_bits, uint64_t slot_pages)
{
	uint64_t nbits = (uint64_t)dirty_words * 64, count = 0;
	uint64_t words = (slot_pages + 63) / 64;

	for (uint64_t w = 0; w < words; w++) {
		uint64_t bits = slot_bits[w];

		if (w == words - 1 && slot_pages % 64)
			bits &= (1ULL << (slot_pages % 64)) - 1;
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			uint64_t page = first_page + w * 64 + b;

			bits &= bits - 1;
			count++;
			if (page >= nbits || page < first_page)
				continue;
			__atomic_fetch_or(&dirty[page / 64], 1ULL << (page % 64), __ATOMIC_RELAXED);
		}
	}
	return count;
}
