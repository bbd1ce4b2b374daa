// SPDX-License-Identifier: Apache-2.0
/*
 * struct x86_cpu_state in the stream form of base/state.h: every field
 * in a fixed order, little-endian, no padding. The reader validates what
 * no backend could take and names the field when it fails: an MP state,
 * segment descriptor fields, reserved bits of CR0/CR4/EFER/MXCSR and
 * RFLAGS, non-canonical addresses where the architecture forbids them,
 * event fields. Whatever reads back is safe to hand to vcpu_set_state;
 * a backend may still refuse a combination (-EINVAL).
 */
#include "arch/x86/cpu_state.h"

#include <stdio.h>
#include <string.h>

#include "base/state.h"

/* CR0: PE MP EM TS ET NE, WP, AM, NW CD PG; the rest is reserved. */
#define CR0_KNOWN 0xe005003fULL
/* CR4: bits 0-14, 16-25, 28 (LAM_SUP) and 32 (FRED); bit 15, 26-27, 29-31, 33+ reserved. */
#define CR4_KNOWN (0x3ff7fffULL | (1ULL << 28) | (1ULL << 32))
#define CR4_LA57 (1ULL << 12)
/* EFER: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE, AUTOIBRS. */
#define EFER_KNOWN (0x1ULL | 0xff00ULL | (1ULL << 21))
#define EFER_KNOWN_MASK (EFER_KNOWN & ~0x0200ULL) /* bit 9 is reserved */
/* RFLAGS: bits 22-63, 15, 5 and 3 are reserved (0), bit 1 is fixed (1). */
#define RFLAGS_KNOWN 0x3f7fd7ULL
/* Longer than any LAPIC timer can run (2^32 counts x 128 at 1 GHz is < 2^40 ns). */
#define LAPIC_TIMER_MAX_NS (1ULL << 40)
/* MXCSR mask when FXSAVE reports 0 (every bit but DAZ). */
#define MXCSR_DEFAULT_MASK 0xffbfu

static void put_segment(struct state_writer *w, const struct x86_segment *g)
{
	state_put_u64(w, g->base);
	state_put_u32(w, g->limit);
	state_put_u16(w, g->selector);
	state_put_u8(w, g->type);
	state_put_u8(w, g->s);
	state_put_u8(w, g->dpl);
	state_put_u8(w, g->present);
	state_put_u8(w, g->avl);
	state_put_u8(w, g->l);
	state_put_u8(w, g->db);
	state_put_u8(w, g->g);
	state_put_u8(w, g->unusable);
}

static void put_dtable(struct state_writer *w, const struct x86_dtable *t)
{
	state_put_u64(w, t->base);
	state_put_u16(w, t->limit);
}

static void put_fxsave(struct state_writer *w, const struct x86_fxsave *f)
{
	state_put_u16(w, f->fcw);
	state_put_u16(w, f->fsw);
	state_put_u8(w, f->ftw);
	state_put_u16(w, f->fop);
	state_put_u64(w, f->fip);
	state_put_u64(w, f->fdp);
	state_put_u32(w, f->mxcsr);
	state_put_u32(w, f->mxcsr_mask);
	state_put_bytes(w, f->st, sizeof(f->st));
	state_put_bytes(w, f->xmm, sizeof(f->xmm));
}

static void put_msrs(struct state_writer *w, const struct x86_msrs *m)
{
	state_put_u64(w, m->apic_base);
	state_put_u64(w, m->star);
	state_put_u64(w, m->lstar);
	state_put_u64(w, m->cstar);
	state_put_u64(w, m->sfmask);
	state_put_u64(w, m->kernel_gs_base);
	state_put_u64(w, m->sysenter_cs);
	state_put_u64(w, m->sysenter_esp);
	state_put_u64(w, m->sysenter_eip);
	state_put_u64(w, m->tsc_aux);
	state_put_u64(w, m->pat);
	state_put_u64(w, m->misc_enable);
	state_put_u64(w, m->mtrr_def_type);
	state_put_u64(w, m->tsc_deadline);
	state_put_u64(w, m->kvm_system_time);
	state_put_u64(w, m->kvm_wall_clock);
	state_put_u64(w, m->kvm_pv_eoi);
	state_put_u64(w, m->spec_ctrl);
}

void x86_cpu_state_write(struct state_writer *w, const struct x86_cpu_state *s)
{
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		state_put_u64(w, s->gpr[i]);
	state_put_u64(w, s->rip);
	state_put_u64(w, s->rflags);
	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		put_segment(w, &s->seg[i]);
	put_dtable(w, &s->gdt);
	put_dtable(w, &s->idt);
	state_put_u64(w, s->cr0);
	state_put_u64(w, s->cr2);
	state_put_u64(w, s->cr3);
	state_put_u64(w, s->cr4);
	state_put_u64(w, s->cr8);
	state_put_u64(w, s->efer);
	state_put_u64(w, s->xcr0);
	for (unsigned i = 0; i < 8; i++)
		state_put_u64(w, s->dr[i]);
	state_put_u64(w, s->tsc);
	put_msrs(w, &s->msr);
	put_fxsave(w, &s->fpu);
	state_put_u8(w, s->events.exception_pending);
	state_put_u8(w, s->events.exception_vector);
	state_put_u8(w, s->events.exception_has_error);
	state_put_u32(w, s->events.exception_error);
	state_put_u8(w, s->events.nmi_pending);
	state_put_u8(w, s->events.nmi_masked);
	state_put_u8(w, s->events.interrupt_shadow);
	state_put_u8(w, s->events.sipi_vector);
	state_put_u32(w, s->mp_state);
	state_put_u32(w, s->apic_id);
	state_put_bytes(w, s->lapic, sizeof(s->lapic));
	state_put_u64(w, s->lapic_timer_remaining_ns);
	state_put_u64(w, s->lapic_timer_period_ns);
	state_put_u32(w, s->lapic_esr_pending);
	state_put_u8(w, s->lapic_lint_level);
}

static const char *const sreg_names[X86_NR_SREGS] = { "es", "cs", "ss", "ds",
						      "fs", "gs", "ldtr", "tr" };

static void get_segment(struct state_reader *r, struct x86_segment *g, unsigned idx)
{
	char what[32];

	memset(g, 0, sizeof(*g));
	g->base = state_get_u64(r);
	g->limit = state_get_u32(r);
	g->selector = state_get_u16(r);
#define SEG_FIELD(field, max)                                                  \
	do {                                                                   \
		snprintf(what, sizeof(what), "%s.%s", sreg_names[idx], #field); \
		g->field = state_get_u8_max(r, max, what);                           \
	} while (0)
	SEG_FIELD(type, 15);
	SEG_FIELD(s, 1);
	SEG_FIELD(dpl, 3);
	SEG_FIELD(present, 1);
	SEG_FIELD(avl, 1);
	SEG_FIELD(l, 1);
	SEG_FIELD(db, 1);
	SEG_FIELD(g, 1);
	SEG_FIELD(unusable, 1);
#undef SEG_FIELD
}

static void get_dtable(struct state_reader *r, struct x86_dtable *t)
{
	t->base = state_get_u64(r);
	t->limit = state_get_u16(r);
}

static void get_fxsave(struct state_reader *r, struct x86_fxsave *f)
{
	uint32_t mask;

	memset(f, 0, sizeof(*f));
	f->fcw = state_get_u16(r);
	f->fsw = state_get_u16(r);
	f->ftw = state_get_u8(r);
	f->fop = state_get_u16(r);
	f->fip = state_get_u64(r);
	f->fdp = state_get_u64(r);
	f->mxcsr = state_get_u32(r);
	f->mxcsr_mask = state_get_u32(r);
	state_get_bytes(r, f->st, sizeof(f->st));
	state_get_bytes(r, f->xmm, sizeof(f->xmm));
	if (f->fop > 0x7ff)
		state_fail(r, "fpu.fop %#x has bits above 10", f->fop);
	mask = f->mxcsr_mask ? f->mxcsr_mask : MXCSR_DEFAULT_MASK;
	if (f->mxcsr_mask & ~0xffffu)
		state_fail(r, "fpu.mxcsr_mask %#x has reserved bits", f->mxcsr_mask);
	if (f->mxcsr & ~mask)
		state_fail(r, "fpu.mxcsr %#x has reserved bits (mask %#x)", f->mxcsr, mask);
}

static void get_msrs(struct state_reader *r, struct x86_msrs *m)
{
	m->apic_base = state_get_u64(r);
	m->star = state_get_u64(r);
	m->lstar = state_get_u64(r);
	m->cstar = state_get_u64(r);
	m->sfmask = state_get_u64(r);
	m->kernel_gs_base = state_get_u64(r);
	m->sysenter_cs = state_get_u64(r);
	m->sysenter_esp = state_get_u64(r);
	m->sysenter_eip = state_get_u64(r);
	m->tsc_aux = state_get_u64(r);
	m->pat = state_get_u64(r);
	m->misc_enable = state_get_u64(r);
	m->mtrr_def_type = state_get_u64(r);
	m->tsc_deadline = state_get_u64(r);
	m->kvm_system_time = state_get_u64(r);
	m->kvm_wall_clock = state_get_u64(r);
	m->kvm_pv_eoi = state_get_u64(r);
	m->spec_ctrl = state_get_u64(r);
}

/* Canonical for the linear-address width (48 bits, 57 with CR4.LA57). */
static bool canonical(uint64_t v, bool la57)
{
	unsigned bits = la57 ? 57 : 48;
	int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);

	return (uint64_t)sv == v;
}

static void check_canonical(struct state_reader *r, uint64_t v, bool la57, const char *what)
{
	if (!canonical(v, la57))
		state_fail(r, "%s %#llx is not canonical", what, (unsigned long long)v);
}

/* PAT: each of the 8 entries is a memory type 0, 1, 4, 5, 6 or 7. */
static bool pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;

		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

static void validate(struct state_reader *r, const struct x86_cpu_state *s)
{
	bool la57 = s->cr4 & CR4_LA57;

	if (s->rflags & ~RFLAGS_KNOWN)
		state_fail(r, "rflags %#llx has reserved bits", (unsigned long long)s->rflags);
	if (s->cr0 & ~CR0_KNOWN)
		state_fail(r, "cr0 %#llx has reserved bits", (unsigned long long)s->cr0);
	if (s->cr4 & ~CR4_KNOWN)
		state_fail(r, "cr4 %#llx has reserved bits", (unsigned long long)s->cr4);
	if (s->cr8 > 15)
		state_fail(r, "cr8 %#llx out of range", (unsigned long long)s->cr8);
	if (s->efer & ~EFER_KNOWN_MASK)
		state_fail(r, "efer %#llx has reserved bits", (unsigned long long)s->efer);
	if (!(s->xcr0 & 1) && s->xcr0)
		state_fail(r, "xcr0 %#llx lacks the x87 bit", (unsigned long long)s->xcr0);
	if ((s->dr[6] >> 32) || (s->dr[7] >> 32))
		state_fail(r, "dr6/dr7 have bits above 31");
	check_canonical(r, s->rip, la57, "rip");
	check_canonical(r, s->seg[X86_FS].base, la57, "fs.base");
	check_canonical(r, s->seg[X86_GS].base, la57, "gs.base");
	check_canonical(r, s->seg[X86_LDTR].base, la57, "ldtr.base");
	check_canonical(r, s->seg[X86_TR].base, la57, "tr.base");
	check_canonical(r, s->gdt.base, la57, "gdt.base");
	check_canonical(r, s->idt.base, la57, "idt.base");
	check_canonical(r, s->msr.lstar, la57, "msr.lstar");
	check_canonical(r, s->msr.cstar, la57, "msr.cstar");
	check_canonical(r, s->msr.kernel_gs_base, la57, "msr.kernel_gs_base");
	check_canonical(r, s->msr.sysenter_esp, la57, "msr.sysenter_esp");
	check_canonical(r, s->msr.sysenter_eip, la57, "msr.sysenter_eip");
	for (unsigned i = 0; i < 4; i++)
		check_canonical(r, s->dr[i], la57, "dr0-3");
	if (!pat_valid(s->msr.pat))
		state_fail(r, "msr.pat %#llx has an invalid memory type",
			   (unsigned long long)s->msr.pat);
	if (s->msr.tsc_aux >> 32)
		state_fail(r, "msr.tsc_aux %#llx has bits above 31",
			   (unsigned long long)s->msr.tsc_aux);
	if (s->msr.apic_base & ~(0x000ffffffffff000ULL | 0xd00ULL))
		state_fail(r, "msr.apic_base %#llx has reserved bits",
			   (unsigned long long)s->msr.apic_base);
	if (s->msr.sysenter_cs >> 32)
		state_fail(r, "msr.sysenter_cs %#llx has bits above 31",
			   (unsigned long long)s->msr.sysenter_cs);
	if (s->events.exception_pending && s->events.exception_vector >= 32)
		state_fail(r, "events.exception_vector %u is not an exception",
			   s->events.exception_vector);
}

void x86_cpu_state_read(struct state_reader *r, struct x86_cpu_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		s->gpr[i] = state_get_u64(r);
	s->rip = state_get_u64(r);
	s->rflags = state_get_u64(r);
	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		get_segment(r, &s->seg[i], i);
	get_dtable(r, &s->gdt);
	get_dtable(r, &s->idt);
	s->cr0 = state_get_u64(r);
	s->cr2 = state_get_u64(r);
	s->cr3 = state_get_u64(r);
	s->cr4 = state_get_u64(r);
	s->cr8 = state_get_u64(r);
	s->efer = state_get_u64(r);
	s->xcr0 = state_get_u64(r);
	for (unsigned i = 0; i < 8; i++)
		s->dr[i] = state_get_u64(r);
	s->tsc = state_get_u64(r);
	get_msrs(r, &s->msr);
	get_fxsave(r, &s->fpu);
	s->events.exception_pending = state_get_u8_max(r, 1, "events.exception_pending");
	s->events.exception_vector = state_get_u8(r);
	s->events.exception_has_error = state_get_u8_max(r, 1, "events.exception_has_error");
	s->events.exception_error = state_get_u32(r);
	/* KVM counts up to two pending NMIs; a backend treats non-zero as pending. */
	s->events.nmi_pending = state_get_u8_max(r, 2, "events.nmi_pending");
	s->events.nmi_masked = state_get_u8_max(r, 1, "events.nmi_masked");
	/* Non-zero: interrupts blocked for one instruction; KVM's bits (1 MOV SS, 2 STI) fit. */
	s->events.interrupt_shadow = state_get_u8_max(r, 3, "events.interrupt_shadow");
	s->events.sipi_vector = state_get_u8(r);
	s->mp_state = state_get_u32_max(r, X86_MP_STOPPED, "mp_state");
	s->apic_id = state_get_u32(r);
	state_get_bytes(r, s->lapic, sizeof(s->lapic));
	s->lapic_timer_remaining_ns = state_get_u64(r);
	/* The longest LAPIC timer: 2^32 - 1 counts divided by 128 at 1 GHz (< 2^40 ns). */
	if (s->lapic_timer_remaining_ns != UINT64_MAX && s->lapic_timer_remaining_ns > LAPIC_TIMER_MAX_NS)
		state_fail(r, "lapic_timer_remaining_ns %llu out of range",
			   (unsigned long long)s->lapic_timer_remaining_ns);
	s->lapic_timer_period_ns = state_get_u64_max(r, LAPIC_TIMER_MAX_NS, "lapic_timer_period_ns");
	s->lapic_esr_pending = state_get_u32_max(r, 0xff, "lapic_esr_pending");
	s->lapic_lint_level = state_get_u8_max(r, 3, "lapic_lint_level");
	if (state_reader_error(r) == 0)
		validate(r, s);
	if (state_reader_error(r))
		memset(s, 0, sizeof(*s));
}
