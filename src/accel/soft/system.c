// SPDX-License-Identifier: Apache-2.0
/*
 * System instructions of the software CPU (soft_handlers_system): control
 * and debug registers, descriptor tables, segment loads, far transfers,
 * CPUID, MSRs, TSC, HLT, port I/O with the TSS I/O bitmap, software
 * interrupts, IRET, SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS, CLI/STI,
 * PUSHF/POPF, and the instructions osprey's CPU template does not offer
 * (#UD). Every handler finishes all accesses that can fault before it
 * changes state.
 */
#include <string.h>

#include <Zydis/Zydis.h>

#include "accel/soft/cpu_internal.h"

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_TSD (1ull << 2)
#define CR4_DE (1ull << 3)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE (1ull << 22)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_SPEC_CTRL 0x48
#define MSR_MTRRCAP 0xfe
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MISC_ENABLE 0x1a0
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103

#define GP0(cpu) soft_raise((cpu), X86_VEC_GP, 0)
#define UD(cpu) soft_raise((cpu), X86_VEC_UD, -1)

static void need_cpl0(struct soft_cpu *cpu)
{
	if (cpu->cpl)
		GP0(cpu);
}

static inline struct x86_cpu_state *S(struct soft_cpu *cpu)
{
	return &cpu->s;
}

/* ---- Stack ------------------------------------------------------------------------ */

static uint64_t sp_mask(const struct soft_cpu *cpu)
{
	if (cpu->code64)
		return ~0ull;
	return cpu->s.seg[X86_SS].db ? 0xffffffffull : 0xffff;
}

static uint64_t stack_lin(const struct soft_cpu *cpu, uint64_t sp)
{
	if (cpu->code64)
		return sp;
	return (cpu->s.seg[X86_SS].base + sp) & 0xffffffffull;
}

/* Reads size bytes at stack offset off above RSP, without popping. */
static uint64_t stack_peek(struct soft_cpu *cpu, uint64_t off, unsigned size)
{
	uint64_t m = sp_mask(cpu), v = 0;

	soft_read(cpu, stack_lin(cpu, (cpu->s.gpr[X86_RSP] + off) & m), &v, size);
	return v;
}

static void sp_add(struct soft_cpu *cpu, int64_t n)
{
	uint64_t m = sp_mask(cpu), *rsp = &cpu->s.gpr[X86_RSP];

	*rsp = (*rsp & ~m) | ((*rsp + (uint64_t)n) & m);
}

void soft_push(struct soft_cpu *cpu, uint64_t v, unsigned size)
{
	uint64_t m = sp_mask(cpu), sp = (cpu->s.gpr[X86_RSP] - size) & m;

	soft_write(cpu, stack_lin(cpu, sp), &v, size);
	cpu->s.gpr[X86_RSP] = (cpu->s.gpr[X86_RSP] & ~m) | sp;
}

uint64_t soft_pop(struct soft_cpu *cpu, unsigned size)
{
	uint64_t v = stack_peek(cpu, 0, size);

	sp_add(cpu, size);
	return v;
}

/* ---- Control and debug registers ----------------------------------------------------- */

static void write_cr0(struct soft_cpu *cpu, uint64_t v)
{
	struct x86_cpu_state *s = S(cpu);
	uint64_t old = s->cr0;

	if (v >> 32)
		GP0(cpu);
	v |= CR0_ET;
	if ((v & CR0_PG) && !(v & CR0_PE))
		GP0(cpu);
	if ((v & CR0_NW) && !(v & CR0_CD))
		GP0(cpu);
	if ((v & CR0_PG) && !(old & CR0_PG) && (s->efer & EFER_LME)) {
		if (!(s->cr4 & CR4_PAE))
			GP0(cpu);
		s->efer |= EFER_LMA;
	}
	if (!(v & CR0_PG) && (old & CR0_PG) && (s->efer & EFER_LMA)) {
		if (cpu->code64)
			GP0(cpu);
		s->efer &= ~EFER_LMA;
	}
	s->cr0 = v;
	if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
		soft_tlb_flush(cpu, true);
	soft_mode_update(cpu);
}

static void write_cr4(struct soft_cpu *cpu, uint64_t v)
{
	struct x86_cpu_state *s = S(cpu);
	uint64_t old = s->cr4;
	uint64_t reserved = ~0x3f7fffull | CR4_LA57 | CR4_VMXE | CR4_SMXE | CR4_PCIDE | CR4_OSXSAVE | CR4_PKE;

	if (v & reserved)
		GP0(cpu);
	if ((s->efer & EFER_LMA) && !(v & CR4_PAE))
		GP0(cpu);
	s->cr4 = v;
	if ((old ^ v) & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE))
		soft_tlb_flush(cpu, true);
}

void soft_sys_mov_cr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	bool to_cr = in->op[0].kind == SOFT_OP_CR;
	unsigned cr = to_cr ? in->op[0].reg : in->op[1].reg;

	need_cpl0(cpu);
	if (!to_cr) {
		uint64_t v;

		switch (cr) {
		case 0: v = s->cr0; break;
		case 2: v = s->cr2; break;
		case 3: v = s->cr3; break;
		case 4: v = s->cr4; break;
		case 8: v = s->cr8; break;
		default: UD(cpu);
		}
		soft_op_write(cpu, in, 0, v);
		return;
	}
	uint64_t v = soft_op_read(cpu, in, 1);

	switch (cr) {
	case 0:
		write_cr0(cpu, v);
		break;
	case 2:
		s->cr2 = v;
		break;
	case 3:
		if (cpu->lma)
			v &= ~(1ull << 63);
		if (cpu->lma && (v >> 52))
			GP0(cpu);
		s->cr3 = v;
		soft_tlb_flush(cpu, !(s->cr4 & CR4_PGE));
		break;
	case 4:
		write_cr4(cpu, v);
		break;
	case 8:
		if (v >> 4)
			GP0(cpu);
		s->cr8 = v;
		if (cpu->env.tpr_write)
			cpu->env.tpr_write(cpu->env.opaque, (uint8_t)v);
		break;
	default:
		UD(cpu);
	}
}

void soft_sys_mov_dr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	bool to_dr = in->op[0].kind == SOFT_OP_DR;
	unsigned dr = to_dr ? in->op[0].reg : in->op[1].reg;

	need_cpl0(cpu);
	if (dr == 4 || dr == 5) {
		if (s->cr4 & CR4_DE)
			UD(cpu);
		dr += 2;
	}
	if (dr > 7)
		UD(cpu);
	if (!to_dr) {
		soft_op_write(cpu, in, 0, s->dr[dr]);
		return;
	}
	uint64_t v = soft_op_read(cpu, in, 1);

	if (cpu->lma && dr >= 6 && (v >> 32))
		GP0(cpu);
	if (dr == 6)
		v = (v & 0x1e00f) | 0xffff0ff0ull;
	else if (dr == 7)
		v = (v & ~0xd800ull) | 0x400;
	s->dr[dr] = v;
}

static void sys_clts(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	need_cpl0(cpu);
	cpu->s.cr0 &= ~CR0_TS;
}

static void sys_lmsw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	need_cpl0(cpu);
	uint64_t v = soft_op_read(cpu, in, 0) & 0xf;
	uint64_t cr0 = cpu->s.cr0;

	/* LMSW sets PE but never clears it. */
	write_cr0(cpu, (cr0 & ~0xeull) | v | (cr0 & CR0_PE));
}

static void sys_smsw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint64_t v = cpu->s.cr0;

	if (in->op[0].kind == SOFT_OP_MEM)
		v &= 0xffff;
	soft_op_write(cpu, in, 0, v);
}

/* ---- Descriptor tables ------------------------------------------------------------- */

static void load_dtable(struct soft_cpu *cpu, const struct soft_insn *in, struct x86_dtable *t)
{
	uint64_t lin = soft_ea(cpu, in, &in->op[0]);
	uint16_t limit;
	uint64_t base = 0;

	need_cpl0(cpu);
	soft_read(cpu, lin, &limit, 2);
	soft_read(cpu, lin + 2, &base, cpu->code64 ? 8 : 4);
	if (cpu->code64 && !soft_canonical(base))
		GP0(cpu);
	if (!cpu->code64 && in->opsize == 2)
		base &= 0xffffff;
	t->limit = limit;
	t->base = base;
}

static void store_dtable(struct soft_cpu *cpu, const struct soft_insn *in, const struct x86_dtable *t)
{
	uint64_t lin = soft_ea(cpu, in, &in->op[0]);
	uint8_t buf[10];

	if ((cpu->s.cr4 & (1ull << 11)) && cpu->cpl) /* UMIP */
		GP0(cpu);
	memcpy(buf, &t->limit, 2);
	memcpy(buf + 2, &t->base, 8);
	soft_write(cpu, lin, buf, cpu->code64 ? 10 : 6);
}

static void sys_lgdt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	load_dtable(cpu, in, &cpu->s.gdt);
}

static void sys_lidt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	load_dtable(cpu, in, &cpu->s.idt);
}

static void sys_sgdt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	store_dtable(cpu, in, &cpu->s.gdt);
}

static void sys_sidt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	store_dtable(cpu, in, &cpu->s.idt);
}

static bool prot_mode(const struct soft_cpu *cpu)
{
	return (cpu->s.cr0 & CR0_PE) && !(cpu->s.rflags & X86_FLAGS_VM);
}

static void sys_lldt_ltr(struct soft_cpu *cpu, const struct soft_insn *in, bool tr)
{
	uint16_t sel = (uint16_t)soft_op_read(cpu, in, 0);
	struct x86_segment seg;
	uint64_t d[2];

	if (!prot_mode(cpu))
		UD(cpu);
	need_cpl0(cpu);
	if (!(sel & ~3u)) {
		if (tr)
			GP0(cpu);
		memset(&seg, 0, sizeof(seg));
		seg.selector = sel;
		seg.unusable = 1;
		cpu->s.seg[X86_LDTR] = seg;
		return;
	}
	if ((sel & 4) || !soft_desc_read(cpu, sel, d, cpu->lma))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_desc_to_seg(d[0], &seg, sel);
	if (seg.s || (tr ? !(seg.type == 9 || seg.type == 1) : seg.type != 2))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	if (!seg.present)
		soft_raise(cpu, X86_VEC_NP, sel & ~3u);
	if (cpu->lma)
		seg.base |= (d[1] & 0xffffffffull) << 32;
	if (tr) {
		uint64_t busy = d[0] | (2ull << 40);

		soft_write_sys(cpu, cpu->s.gdt.base + (sel & ~7u), &busy, 8);
		seg.type |= 2;
		cpu->s.seg[X86_TR] = seg;
	} else {
		cpu->s.seg[X86_LDTR] = seg;
	}
}

static void sys_lldt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	sys_lldt_ltr(cpu, in, false);
}

static void sys_ltr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	sys_lldt_ltr(cpu, in, true);
}

static void store_sel(struct soft_cpu *cpu, const struct soft_insn *in, uint16_t sel)
{
	if (in->op[0].kind == SOFT_OP_MEM)
		soft_write(cpu, soft_ea(cpu, in, &in->op[0]), &sel, 2);
	else
		soft_op_write(cpu, in, 0, sel);
}

static void sys_sldt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (!prot_mode(cpu))
		UD(cpu);
	store_sel(cpu, in, cpu->s.seg[X86_LDTR].selector);
}

static void sys_str(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (!prot_mode(cpu))
		UD(cpu);
	store_sel(cpu, in, cpu->s.seg[X86_TR].selector);
}

/* LAR / LSL / VERR / VERW: ZF reports whether the selector passes. */
static bool desc_visible(struct soft_cpu *cpu, uint16_t sel, struct x86_segment *seg, uint64_t d[2])
{
	if (!(sel & ~3u) || !soft_desc_read(cpu, sel, d, false))
		return false;
	soft_desc_to_seg(d[0], seg, sel);
	bool conforming = seg->s && (seg->type & 0xc) == 0xc;

	if (!conforming && (cpu->cpl > seg->dpl || (sel & 3u) > seg->dpl))
		return false;
	return true;
}

static void set_zf(struct soft_cpu *cpu, bool zf)
{
	uint64_t f = soft_get_flags(cpu);

	soft_set_flags(cpu, zf ? (f | X86_FLAGS_ZF) : (f & ~(uint64_t)X86_FLAGS_ZF));
}

static void sys_lar_lsl(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint16_t sel = (uint16_t)soft_op_read(cpu, in, 1);
	struct x86_segment seg;
	uint64_t d[2];
	bool ok;

	if (!prot_mode(cpu))
		UD(cpu);
	ok = desc_visible(cpu, sel, &seg, d);
	if (ok && !seg.s) {
		/* System types with a limit / access rights. */
		static const uint8_t lsl_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [9] = 1, [11] = 1 };
		static const uint8_t lar_ok[16] = { [1] = 1, [2] = 1, [3] = 1, [4] = 1, [9] = 1, [11] = 1, [12] = 1 };

		ok = in->mnemonic == ZYDIS_MNEMONIC_LSL ? lsl_ok[seg.type] : lar_ok[seg.type];
		if (cpu->lma && (seg.type == 1 || seg.type == 3 || seg.type == 4))
			ok = false;
	}
	if (ok) {
		uint64_t v = in->mnemonic == ZYDIS_MNEMONIC_LSL ? seg.limit : (d[0] >> 32) & 0x00f0ff00ull;

		soft_op_write(cpu, in, 0, v);
	}
	set_zf(cpu, ok);
}

static void sys_verr_verw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint16_t sel = (uint16_t)soft_op_read(cpu, in, 0);
	struct x86_segment seg;
	uint64_t d[2];
	bool ok;

	if (!prot_mode(cpu))
		UD(cpu);
	ok = desc_visible(cpu, sel, &seg, d) && seg.s;
	if (ok) {
		bool code = seg.type & 8;

		if (in->mnemonic == ZYDIS_MNEMONIC_VERW)
			ok = !code && (seg.type & 2);
		else
			ok = !code || (seg.type & 2);
	}
	set_zf(cpu, ok);
}

/* ---- Segment registers ---------------------------------------------------------------- */

void soft_sys_mov_sreg(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (in->op[0].kind == SOFT_OP_SREG) {
		unsigned sreg = in->op[0].reg;
		uint16_t sel = (uint16_t)soft_op_read(cpu, in, 1);

		if (sreg == X86_CS || sreg >= X86_LDTR)
			UD(cpu);
		soft_load_seg(cpu, sreg, sel);
		if (sreg == X86_SS)
			cpu->s.events.interrupt_shadow = 1;
		return;
	}
	store_sel(cpu, in, cpu->s.seg[in->op[1].reg % X86_NR_SREGS].selector);
}

void soft_sys_push_sreg(struct soft_cpu *cpu, const struct soft_insn *in)
{
	soft_push(cpu, cpu->s.seg[in->op[0].reg % X86_NR_SREGS].selector, in->opsize);
}

void soft_sys_pop_sreg(struct soft_cpu *cpu, const struct soft_insn *in)
{
	unsigned sreg = in->op[0].reg;
	uint16_t sel = (uint16_t)stack_peek(cpu, 0, 2);

	if (sreg == X86_CS || sreg >= X86_LDTR)
		UD(cpu);
	soft_load_seg(cpu, sreg, sel);
	sp_add(cpu, in->opsize);
	if (sreg == X86_SS)
		cpu->s.events.interrupt_shadow = 1;
}

/* LDS/LES/LFS/LGS/LSS r, m16:x */
static void sys_lxs(struct soft_cpu *cpu, const struct soft_insn *in)
{
	unsigned sreg;
	uint64_t lin = soft_ea(cpu, in, &in->op[1]), off = 0;
	uint16_t sel;

	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_LDS: sreg = X86_DS; break;
	case ZYDIS_MNEMONIC_LES: sreg = X86_ES; break;
	case ZYDIS_MNEMONIC_LFS: sreg = X86_FS; break;
	case ZYDIS_MNEMONIC_LGS: sreg = X86_GS; break;
	default: sreg = X86_SS; break;
	}
	soft_read(cpu, lin, &off, in->opsize);
	soft_read(cpu, lin + in->opsize, &sel, 2);
	soft_load_seg(cpu, sreg, sel);
	soft_op_write(cpu, in, 0, off);
	if (sreg == X86_SS)
		cpu->s.events.interrupt_shadow = 1;
}

/* ---- Far transfers ------------------------------------------------------------------- */

/* Target selector:offset of a far JMP/CALL operand (ptr16:x or m16:x). */
static void far_target(struct soft_cpu *cpu, const struct soft_insn *in, uint16_t *sel, uint64_t *off)
{
	const struct soft_operand *op = &in->op[0];

	if (op->kind == SOFT_OP_PTR) {
		*sel = op->sel;
		*off = (uint64_t)op->imm;
		return;
	}
	uint64_t lin = soft_ea(cpu, in, op);

	*off = 0;
	soft_read(cpu, lin, off, in->opsize);
	soft_read(cpu, lin + in->opsize, sel, 2);
}

static void set_cs(struct soft_cpu *cpu, const struct x86_segment *cs, uint64_t rip)
{
	cpu->s.seg[X86_CS] = *cs;
	cpu->s.rip = rip;
	soft_mode_update(cpu);
}

/* Loads CS:rip for a far JMP/CALL; returns after the checks, with nothing changed yet. */
static void far_cs(struct soft_cpu *cpu, uint16_t sel, uint64_t off, unsigned opsize, struct x86_segment *cs,
		   uint64_t *rip)
{
	if (!prot_mode(cpu)) {
		*cs = cpu->s.seg[X86_CS];
		soft_seg_real(cs, sel);
		*rip = opsize == 2 ? (off & 0xffff) : (off & 0xffffffffull);
		return;
	}
	soft_load_cs_checked(cpu, sel, cpu->cpl, cs);
	*rip = off;
	if (!(cpu->lma && cs->l))
		*rip &= opsize == 2 ? 0xffff : 0xffffffffull;
	else if (!soft_canonical(*rip))
		GP0(cpu);
}

void soft_far_jmp(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_segment cs;
	uint16_t sel;
	uint64_t off, rip;

	far_target(cpu, in, &sel, &off);
	far_cs(cpu, sel, off, in->opsize, &cs, &rip);
	set_cs(cpu, &cs, rip);
}

void soft_far_call(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_segment cs;
	uint16_t sel;
	uint64_t off, rip;
	unsigned sz = in->opsize;
	uint64_t m = sp_mask(cpu), sp = cpu->s.gpr[X86_RSP];

	far_target(cpu, in, &sel, &off);
	far_cs(cpu, sel, off, sz, &cs, &rip);
	/* Push CS, then the return address (checked before committing). */
	uint64_t oldcs = cpu->s.seg[X86_CS].selector, ret = cpu->s.rip;

	soft_write(cpu, stack_lin(cpu, (sp - sz) & m), &oldcs, sz);
	soft_write(cpu, stack_lin(cpu, (sp - 2 * sz) & m), &ret, sz);
	cpu->s.gpr[X86_RSP] = (sp & ~m) | ((sp - 2 * sz) & m);
	set_cs(cpu, &cs, rip);
}

void soft_far_ret(struct soft_cpu *cpu, const struct soft_insn *in)
{
	unsigned sz = in->opsize;
	uint64_t imm = in->nops && in->op[0].kind == SOFT_OP_IMM ? (uint64_t)in->op[0].imm & 0xffff : 0;
	uint64_t rip = stack_peek(cpu, 0, sz);
	uint16_t sel = (uint16_t)stack_peek(cpu, sz, 2);
	struct x86_segment cs;

	if (!prot_mode(cpu)) {
		cs = cpu->s.seg[X86_CS];
		soft_seg_real(&cs, sel);
		sp_add(cpu, (int64_t)(2 * sz + imm));
		set_cs(cpu, &cs, rip & (sz == 2 ? 0xffff : 0xffffffffull));
		return;
	}
	unsigned rpl = sel & 3;

	if (rpl < cpu->cpl)
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_load_cs_checked(cpu, sel, rpl, &cs);
	if (rpl == cpu->cpl) {
		sp_add(cpu, (int64_t)(2 * sz + imm));
		if (!(cpu->lma && cs.l))
			rip &= sz == 2 ? 0xffff : 0xffffffffull;
		set_cs(cpu, &cs, rip);
		return;
	}
	/* Return to an outer level: SS:RSP follow on the stack. */
	uint64_t nsp = stack_peek(cpu, 2 * sz + imm, sz);
	uint16_t nss = (uint16_t)stack_peek(cpu, 3 * sz + imm, 2);
	struct x86_segment ss;

	soft_seg_check(cpu, X86_SS, nss, rpl, &ss); /* checked before anything changes */
	if (!(cpu->lma && cs.l))
		rip &= sz == 2 ? 0xffff : 0xffffffffull;
	cpu->s.seg[X86_SS] = ss;
	set_cs(cpu, &cs, rip);
	cpu->s.gpr[X86_RSP] = nsp + imm;
	for (unsigned r = X86_ES; r <= X86_GS; r++) {
		struct x86_segment *g = &cpu->s.seg[r];

		if (r == X86_CS || r == X86_SS)
			continue;
		if (g->s && (!(g->type & 8) || !(g->type & 4)) && g->dpl < rpl) {
			g->selector = 0;
			g->unusable = 1;
		}
	}
}

/* ---- CPUID, MSRs, TSC ------------------------------------------------------------------- */

static void sys_cpuid(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	uint32_t out[4] = { 0, 0, 0, 0 };

	(void)in;
	if (cpu->env.cpuid)
		cpu->env.cpuid(cpu->env.opaque, (uint32_t)s->gpr[X86_RAX], (uint32_t)s->gpr[X86_RCX], out);
	s->gpr[X86_RAX] = out[0];
	s->gpr[X86_RBX] = out[1];
	s->gpr[X86_RCX] = out[2];
	s->gpr[X86_RDX] = out[3];
}

static bool mtrr_msr(uint32_t i)
{
	return (i >= 0x200 && i <= 0x21f) || i == 0x250 || i == 0x258 || i == 0x259 || (i >= 0x268 && i <= 0x26f);
}

static bool msr_read(struct soft_cpu *cpu, uint32_t i, uint64_t *v)
{
	struct x86_cpu_state *s = S(cpu);

	switch (i) {
	case MSR_TSC: *v = soft_cpu_tsc(cpu); return true;
	case MSR_EFER: *v = s->efer; return true;
	case MSR_STAR: *v = s->msr.star; return true;
	case MSR_LSTAR: *v = s->msr.lstar; return true;
	case MSR_CSTAR: *v = s->msr.cstar; return true;
	case MSR_SFMASK: *v = s->msr.sfmask; return true;
	case MSR_FS_BASE: *v = s->seg[X86_FS].base; return true;
	case MSR_GS_BASE: *v = s->seg[X86_GS].base; return true;
	case MSR_KERNEL_GS_BASE: *v = s->msr.kernel_gs_base; return true;
	case MSR_SYSENTER_CS: *v = s->msr.sysenter_cs; return true;
	case MSR_SYSENTER_ESP: *v = s->msr.sysenter_esp; return true;
	case MSR_SYSENTER_EIP: *v = s->msr.sysenter_eip; return true;
	case MSR_TSC_AUX: *v = s->msr.tsc_aux; return true;
	case MSR_PAT: *v = s->msr.pat; return true;
	case MSR_MISC_ENABLE: *v = s->msr.misc_enable; return true;
	case MSR_MTRR_DEF_TYPE: *v = s->msr.mtrr_def_type; return true;
	case MSR_MTRRCAP: *v = 0; return true;
	default: break;
	}
	if (mtrr_msr(i)) {
		*v = 0;
		return true;
	}
	if (cpu->env.rdmsr && cpu->env.rdmsr(cpu->env.opaque, i, v))
		return true;
	if (i == MSR_APIC_BASE) {
		*v = s->msr.apic_base;
		return true;
	}
	if (i == MSR_SPEC_CTRL) {
		*v = s->msr.spec_ctrl;
		return true;
	}
	return false;
}

static bool msr_write(struct soft_cpu *cpu, uint32_t i, uint64_t v)
{
	struct x86_cpu_state *s = S(cpu);

	switch (i) {
	case MSR_TSC:
		cpu->tsc_offset = (int64_t)(v - soft_now_ns());
		/*
		 * Tell the machine (review B4): its LAPIC converts TSC-deadline
		 * values with this CPU's offset. The answer does not matter.
		 */
		if (cpu->env.wrmsr)
			(void)cpu->env.wrmsr(cpu->env.opaque, MSR_TSC, v);
		return true;
	case MSR_EFER: {
		uint64_t old = s->efer;

		if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return false;
		if ((s->cr0 & CR0_PG) && ((v ^ old) & EFER_LME))
			return false;
		v = (v & ~EFER_LMA) | (old & EFER_LMA);
		s->efer = v;
		if ((old ^ v) & EFER_NXE)
			soft_tlb_flush(cpu, true);
		return true;
	}
	case MSR_STAR: s->msr.star = v; return true;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		if (!soft_canonical(v))
			return false;
		if (i == MSR_LSTAR)
			s->msr.lstar = v;
		else if (i == MSR_CSTAR)
			s->msr.cstar = v;
		else if (i == MSR_FS_BASE)
			s->seg[X86_FS].base = v;
		else if (i == MSR_GS_BASE)
			s->seg[X86_GS].base = v;
		else if (i == MSR_KERNEL_GS_BASE)
			s->msr.kernel_gs_base = v;
		else if (i == MSR_SYSENTER_ESP)
			s->msr.sysenter_esp = v;
		else
			s->msr.sysenter_eip = v;
		return true;
	case MSR_SFMASK: s->msr.sfmask = v & 0xffffffffull; return true;
	case MSR_SYSENTER_CS: s->msr.sysenter_cs = v & 0xffff; return true;
	case MSR_TSC_AUX:
		if (v >> 32)
			return false;
		s->msr.tsc_aux = v;
		return true;
	case MSR_PAT:
		for (unsigned b = 0; b < 8; b++) {
			uint8_t t = (uint8_t)(v >> (8 * b));

			if (t == 2 || t == 3 || t > 7)
				return false;
		}
		s->msr.pat = v;
		return true;
	case MSR_MISC_ENABLE: s->msr.misc_enable = v; return true;
	case MSR_MTRR_DEF_TYPE: s->msr.mtrr_def_type = v & 0xcff; return true;
	default: break;
	}
	if (mtrr_msr(i))
		return true;
	if (cpu->env.wrmsr && cpu->env.wrmsr(cpu->env.opaque, i, v)) {
		if (i == MSR_APIC_BASE)
			s->msr.apic_base = v;
		return true;
	}
	if (i == MSR_APIC_BASE) {
		s->msr.apic_base = v;
		return true;
	}
	if (i == MSR_SPEC_CTRL) {
		s->msr.spec_ctrl = v;
		return true;
	}
	return false;
}

static void sys_rdmsr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	uint64_t v = 0;

	(void)in;
	need_cpl0(cpu);
	if (!msr_read(cpu, (uint32_t)s->gpr[X86_RCX], &v))
		GP0(cpu);
	s->gpr[X86_RAX] = (uint32_t)v;
	s->gpr[X86_RDX] = v >> 32;
}

static void sys_wrmsr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	uint64_t v = (s->gpr[X86_RAX] & 0xffffffffull) | (s->gpr[X86_RDX] << 32);

	(void)in;
	need_cpl0(cpu);
	if (!msr_write(cpu, (uint32_t)s->gpr[X86_RCX], v))
		GP0(cpu);
}

static void sys_rdtsc(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);

	if ((s->cr4 & CR4_TSD) && cpu->cpl)
		GP0(cpu);
	uint64_t t = soft_cpu_tsc(cpu);

	s->gpr[X86_RAX] = (uint32_t)t;
	s->gpr[X86_RDX] = t >> 32;
	if (in->mnemonic == ZYDIS_MNEMONIC_RDTSCP)
		s->gpr[X86_RCX] = (uint32_t)s->msr.tsc_aux;
}

static void sys_rdpid(struct soft_cpu *cpu, const struct soft_insn *in)
{
	soft_op_write(cpu, in, 0, cpu->s.msr.tsc_aux);
}

static void sys_rdpmc(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	GP0(cpu);
}

static void sys_ud(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	UD(cpu);
}

static void sys_nop_cpl0(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	need_cpl0(cpu);
}

static void sys_nop(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)cpu;
	(void)in;
}

static void sys_invlpg(struct soft_cpu *cpu, const struct soft_insn *in)
{
	need_cpl0(cpu);
	soft_tlb_flush_page(cpu, soft_ea(cpu, in, &in->op[0]));
}

static void sys_hlt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	need_cpl0(cpu);
	cpu->s.mp_state = X86_MP_HALTED;
	cpu->stop_block = true;
}

/* ---- Port I/O --------------------------------------------------------------------------- */

static unsigned iopl(struct soft_cpu *cpu)
{
	return (cpu->s.rflags >> 12) & 3;
}

static void io_check(struct soft_cpu *cpu, uint16_t port, unsigned len)
{
	if (!prot_mode(cpu) || (cpu->cpl <= iopl(cpu) && !(cpu->s.rflags & X86_FLAGS_VM)))
		return;
	const struct x86_segment *tr = &cpu->s.seg[X86_TR];
	uint16_t base, bits;

	if (tr->unusable || (tr->type != 9 && tr->type != 11) || tr->limit < 103)
		GP0(cpu);
	soft_read_sys(cpu, tr->base + 102, &base, 2);
	if ((uint64_t)base + port / 8 + 1 > tr->limit)
		GP0(cpu);
	soft_read_sys(cpu, tr->base + base + port / 8, &bits, 2);
	if ((bits >> (port & 7)) & ((1u << len) - 1))
		GP0(cpu);
}

static void pio(struct soft_cpu *cpu, uint16_t port, bool w, uint8_t *data, unsigned len)
{
	if (cpu->env.pio)
		cpu->env.pio(cpu->env.opaque, port, w, data, len);
	else if (!w)
		memset(data, 0xff, len);
}

static void sys_in(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint16_t port = (uint16_t)soft_op_read(cpu, in, 1);
	unsigned len = in->op[0].size;
	uint64_t v = 0;

	io_check(cpu, port, len);
	pio(cpu, port, false, (uint8_t *)&v, len);
	soft_op_write(cpu, in, 0, v);
}

static void sys_out(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint16_t port = (uint16_t)soft_op_read(cpu, in, 0);
	unsigned len = in->op[1].size;
	uint64_t v = soft_op_read(cpu, in, 1);

	io_check(cpu, port, len);
	pio(cpu, port, true, (uint8_t *)&v, len);
}

#define STRING_CHUNK 1024

static uint64_t amask(const struct soft_insn *in)
{
	return in->addrsize == 8 ? ~0ull : in->addrsize == 4 ? 0xffffffffull : 0xffff;
}

static uint64_t seg_lin(struct soft_cpu *cpu, unsigned seg, uint64_t off)
{
	if (cpu->code64)
		return (seg == X86_FS || seg == X86_GS) ? cpu->s.seg[seg].base + off : off;
	return (cpu->s.seg[seg].base + off) & 0xffffffffull;
}

/* INS / OUTS, with REP in bounded chunks (the instruction re-executes). */
static void sys_ins_outs(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	bool out = in->mnemonic == ZYDIS_MNEMONIC_OUTSB || in->mnemonic == ZYDIS_MNEMONIC_OUTSW ||
		   in->mnemonic == ZYDIS_MNEMONIC_OUTSD;
	unsigned len = in->opsize ? in->opsize : 1;
	uint16_t port = (uint16_t)s->gpr[X86_RDX];
	uint64_t m = amask(in);
	unsigned reg = out ? X86_RSI : X86_RDI;
	unsigned seg = out ? (in->nops && in->op[0].kind == SOFT_OP_MEM ? in->op[0].seg : X86_DS) : X86_ES;
	bool rep = in->flags & (SOFT_INSN_REP | SOFT_INSN_REPNE);
	int64_t step = (soft_get_flags(cpu) & X86_FLAGS_DF) ? -(int64_t)len : (int64_t)len;

	if (in->mnemonic == ZYDIS_MNEMONIC_INSB || in->mnemonic == ZYDIS_MNEMONIC_OUTSB)
		len = 1;
	else if (in->mnemonic == ZYDIS_MNEMONIC_INSW || in->mnemonic == ZYDIS_MNEMONIC_OUTSW)
		len = 2;
	else
		len = 4;
	step = step < 0 ? -(int64_t)len : (int64_t)len;
	io_check(cpu, port, len);
	for (unsigned n = 0; n < STRING_CHUNK; n++) {
		uint32_t v = 0;

		if (rep && !(s->gpr[X86_RCX] & m))
			return;
		uint64_t off = s->gpr[reg] & m;

		if (out) {
			soft_read(cpu, seg_lin(cpu, seg, off), &v, len);
			pio(cpu, port, true, (uint8_t *)&v, len);
		} else {
			soft_probe_write(cpu, seg_lin(cpu, seg, off), len);
			pio(cpu, port, false, (uint8_t *)&v, len);
			soft_write(cpu, seg_lin(cpu, seg, off), &v, len);
		}
		s->gpr[reg] = (s->gpr[reg] & ~m) | ((off + (uint64_t)step) & m);
		if (in->addrsize == 4)
			s->gpr[reg] &= 0xffffffffull;
		if (!rep)
			return;
		uint64_t c = ((s->gpr[X86_RCX] & m) - 1) & m;

		s->gpr[X86_RCX] = in->addrsize == 4 ? c : ((s->gpr[X86_RCX] & ~m) | c);
	}
	if (s->gpr[X86_RCX] & m)
		s->rip = cpu->insn_rip; /* more to do: run again after events */
}

/* ---- Interrupts, IRET --------------------------------------------------------------------- */

static void sys_int(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if ((cpu->s.rflags & X86_FLAGS_VM) && iopl(cpu) < 3)
		GP0(cpu);
	soft_raise_soft(cpu, (unsigned)soft_op_read(cpu, in, 0) & 0xff);
}

static void sys_int3(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	soft_raise_soft(cpu, X86_VEC_BP);
}

static void sys_into(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	if (cpu->code64)
		UD(cpu);
	if (soft_get_flags(cpu) & X86_FLAGS_OF)
		soft_raise_soft(cpu, X86_VEC_OF);
}

static void sys_int1(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	/* ICEBP: #DB as a trap, without the gate's DPL check. */
	cpu->pend_vector = X86_VEC_DB;
	cpu->pend_error = -1;
	cpu->pend_soft = false;
	longjmp(cpu->jb, 1);
}

/* New RFLAGS from a POPF/IRET image, with the privilege rules. */
static uint64_t merge_flags(struct soft_cpu *cpu, uint64_t old, uint64_t v, unsigned size, unsigned cpl)
{
	uint64_t keep = X86_FLAGS_VM | X86_FLAGS_VIP | X86_FLAGS_VIF;
	uint64_t allowed = 0x3f7fd5ull; /* CF PF AF ZF SF TF IF DF OF IOPL NT RF AC ID ... */

	(void)cpu;
	if (cpl > 0)
		keep |= X86_FLAGS_IOPL;
	if (cpl > ((old >> 12) & 3))
		keep |= X86_FLAGS_IF;
	v = (v & allowed & ~keep) | (old & keep);
	if (size == 2)
		v = (old & ~0xffffull) | (v & 0xffff);
	return (v & ~(uint64_t)X86_FLAGS_RF) | X86_FLAGS_FIXED;
}

static void sys_iret(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	unsigned sz = in->opsize;
	uint64_t old = soft_get_flags(cpu);

	if (!prot_mode(cpu)) {
		uint64_t rip = stack_peek(cpu, 0, sz);
		uint16_t sel = (uint16_t)stack_peek(cpu, sz, 2);
		uint64_t fl = stack_peek(cpu, 2 * sz, sz);
		struct x86_segment cs = s->seg[X86_CS];

		soft_seg_real(&cs, sel);
		sp_add(cpu, 3 * sz);
		soft_set_flags(cpu, merge_flags(cpu, old, fl, sz, 0));
		set_cs(cpu, &cs, rip & (sz == 2 ? 0xffff : 0xffffffffull));
		s->events.nmi_masked = 0;
		return;
	}
	if (old & X86_FLAGS_NT) {
		/* Task return: osprey has no task switching. */
		soft_raise(cpu, X86_VEC_GP, 0);
	}
	uint64_t rip = stack_peek(cpu, 0, sz);
	uint16_t sel = (uint16_t)stack_peek(cpu, sz, 2);
	uint64_t fl = stack_peek(cpu, 2 * sz, sz);
	unsigned cpl = cpu->cpl, rpl = sel & 3;
	struct x86_segment cs;

	if (!cpu->lma && (fl & X86_FLAGS_VM) && cpl == 0)
		soft_raise(cpu, X86_VEC_GP, 0); /* return to virtual-8086: not supported */
	if (rpl < cpl)
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_load_cs_checked(cpu, sel, rpl, &cs);
	bool to64 = cpu->lma && cs.l;

	if (!to64)
		rip &= sz == 2 ? 0xffff : 0xffffffffull;
	else if (!soft_canonical(rip))
		GP0(cpu);
	if (cpu->code64 || rpl != cpl) {
		/* SS:RSP are on the stack. */
		uint64_t nsp = stack_peek(cpu, 3 * sz, sz);
		uint16_t nss = (uint16_t)stack_peek(cpu, 4 * sz, 2);
		uint64_t nfl = merge_flags(cpu, old, fl, sz, cpl);

		if (sz == 4)
			nsp &= 0xffffffffull;
		struct x86_segment ss;

		if (!(nss & ~3u) && cpu->lma && to64 && rpl < 3) {
			memset(&ss, 0, sizeof(ss));
			ss.selector = nss;
			ss.unusable = 1;
			ss.dpl = (uint8_t)rpl;
		} else {
			soft_seg_check(cpu, X86_SS, nss, rpl, &ss); /* before anything changes */
		}
		s->seg[X86_SS] = ss;
		set_cs(cpu, &cs, rip);
		if (sz == 2)
			s->gpr[X86_RSP] = (s->gpr[X86_RSP] & ~0xffffull) | (nsp & 0xffff);
		else
			s->gpr[X86_RSP] = nsp;
		soft_set_flags(cpu, nfl);
		if (rpl > cpl) {
			for (unsigned r = X86_ES; r <= X86_GS; r++) {
				struct x86_segment *g = &s->seg[r];

				if (r == X86_CS || r == X86_SS)
					continue;
				if (g->s && (!(g->type & 8) || !(g->type & 4)) && g->dpl < rpl) {
					g->selector = 0;
					g->unusable = 1;
				}
			}
		}
	} else {
		sp_add(cpu, 3 * sz);
		soft_set_flags(cpu, merge_flags(cpu, old, fl, sz, cpl));
		set_cs(cpu, &cs, rip);
	}
	s->events.nmi_masked = 0;
	soft_mode_update(cpu);
}

/* ---- Fast system calls ----------------------------------------------------------------------- */

static void sys_syscall(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	struct x86_segment cs, ss;

	(void)in;
	if (!(s->efer & EFER_SCE) || !cpu->lma)
		UD(cpu);
	uint16_t sel = (uint16_t)((s->msr.star >> 32) & 0xfffc);
	uint64_t fl = soft_get_flags(cpu);

	soft_seg_flat(&cs, sel, true, 0, true);
	soft_seg_flat(&ss, (uint16_t)(sel + 8), false, 0, false);
	s->gpr[X86_RCX] = s->rip;
	s->gpr[X86_R11] = fl & ~(uint64_t)X86_FLAGS_RF;
	s->rip = cpu->code64 ? s->msr.lstar : s->msr.cstar;
	s->seg[X86_SS] = ss;
	soft_set_flags(cpu, (fl & ~s->msr.sfmask & ~(uint64_t)X86_FLAGS_RF) | X86_FLAGS_FIXED);
	set_cs(cpu, &cs, s->rip);
}

static void sys_sysret(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	struct x86_segment cs, ss;
	uint16_t base = (uint16_t)((s->msr.star >> 48) & 0xffff);
	bool to64 = in->opsize == 8;
	uint64_t rip = s->gpr[X86_RCX];

	if (!(s->efer & EFER_SCE) || !cpu->lma)
		UD(cpu);
	need_cpl0(cpu);
	if (to64 && !soft_canonical(rip))
		GP0(cpu);
	if (!to64)
		rip &= 0xffffffffull;
	soft_seg_flat(&cs, (uint16_t)((to64 ? base + 16 : base) | 3), true, 3, to64);
	soft_seg_flat(&ss, (uint16_t)((base + 8) | 3), false, 3, false);
	s->seg[X86_SS] = ss;
	soft_set_flags(cpu, (s->gpr[X86_R11] & 0x3c7fd7ull) | X86_FLAGS_FIXED);
	set_cs(cpu, &cs, rip);
}

static void sys_sysenter(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	struct x86_segment cs, ss;
	uint16_t sel = (uint16_t)(s->msr.sysenter_cs & 0xfffc);

	(void)in;
	if (!prot_mode(cpu) || !sel)
		GP0(cpu);
	soft_seg_flat(&cs, sel, true, 0, cpu->lma);
	soft_seg_flat(&ss, (uint16_t)(sel + 8), false, 0, false);
	uint64_t fl = soft_get_flags(cpu);

	soft_set_flags(cpu, fl & ~(uint64_t)(X86_FLAGS_VM | X86_FLAGS_IF | X86_FLAGS_RF));
	s->seg[X86_SS] = ss;
	s->gpr[X86_RSP] = cpu->lma ? s->msr.sysenter_esp : (uint32_t)s->msr.sysenter_esp;
	set_cs(cpu, &cs, cpu->lma ? s->msr.sysenter_eip : (uint32_t)s->msr.sysenter_eip);
}

static void sys_sysexit(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	struct x86_segment cs, ss;
	uint16_t sel = (uint16_t)(s->msr.sysenter_cs & 0xfffc);
	bool to64 = in->opsize == 8;

	if (!prot_mode(cpu) || !sel)
		GP0(cpu);
	need_cpl0(cpu);
	uint16_t csel = (uint16_t)((to64 ? sel + 32 : sel + 16) | 3);

	soft_seg_flat(&cs, csel, true, 3, to64);
	soft_seg_flat(&ss, (uint16_t)((csel + 8) | 3), false, 3, false);
	s->seg[X86_SS] = ss;
	s->gpr[X86_RSP] = to64 ? s->gpr[X86_RCX] : (uint32_t)s->gpr[X86_RCX];
	set_cs(cpu, &cs, to64 ? s->gpr[X86_RDX] : (uint32_t)s->gpr[X86_RDX]);
}

static void sys_swapgs(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	uint64_t t;

	(void)in;
	if (!cpu->code64)
		UD(cpu);
	need_cpl0(cpu);
	t = s->seg[X86_GS].base;
	s->seg[X86_GS].base = s->msr.kernel_gs_base;
	s->msr.kernel_gs_base = t;
}

static void sys_fsgsbase(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *s = S(cpu);
	bool fs = in->mnemonic == ZYDIS_MNEMONIC_RDFSBASE || in->mnemonic == ZYDIS_MNEMONIC_WRFSBASE;
	bool wr = in->mnemonic == ZYDIS_MNEMONIC_WRFSBASE || in->mnemonic == ZYDIS_MNEMONIC_WRGSBASE;
	struct x86_segment *seg = &s->seg[fs ? X86_FS : X86_GS];

	if (!cpu->code64 || !(s->cr4 & CR4_FSGSBASE))
		UD(cpu);
	if (!wr) {
		soft_op_write(cpu, in, 0, seg->base);
		return;
	}
	uint64_t v = soft_op_read(cpu, in, 0);

	if (!soft_canonical(v))
		GP0(cpu);
	seg->base = v;
}

/* ---- Flags ------------------------------------------------------------------------------------- */

static void sys_cli(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	if (prot_mode(cpu) && cpu->cpl > iopl(cpu))
		GP0(cpu);
	cpu->s.rflags &= ~(uint64_t)X86_FLAGS_IF;
}

static void sys_sti(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	if (prot_mode(cpu) && cpu->cpl > iopl(cpu))
		GP0(cpu);
	if (!(cpu->s.rflags & X86_FLAGS_IF))
		cpu->s.events.interrupt_shadow = 1;
	cpu->s.rflags |= X86_FLAGS_IF;
}

static void sys_clac_stac(struct soft_cpu *cpu, const struct soft_insn *in)
{
	need_cpl0(cpu);
	if (in->mnemonic == ZYDIS_MNEMONIC_STAC)
		cpu->s.rflags |= X86_FLAGS_AC;
	else
		cpu->s.rflags &= ~(uint64_t)X86_FLAGS_AC;
}

static void sys_pushf(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if ((cpu->s.rflags & X86_FLAGS_VM) && iopl(cpu) < 3)
		GP0(cpu);
	uint64_t f = soft_get_flags(cpu) & ~(uint64_t)(X86_FLAGS_VM | X86_FLAGS_RF);

	soft_push(cpu, f, in->opsize);
}

static void sys_popf(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if ((cpu->s.rflags & X86_FLAGS_VM) && iopl(cpu) < 3)
		GP0(cpu);
	uint64_t v = stack_peek(cpu, 0, in->opsize);
	uint64_t old = soft_get_flags(cpu);

	sp_add(cpu, in->opsize);
	soft_set_flags(cpu, merge_flags(cpu, old, v, in->opsize, prot_mode(cpu) ? cpu->cpl : 0));
}

/* ---- The table ------------------------------------------------------------------------------- */

static const struct soft_handler_entry system_entries[] = {
	{ ZYDIS_MNEMONIC_CLTS, sys_clts },
	{ ZYDIS_MNEMONIC_LMSW, sys_lmsw },
	{ ZYDIS_MNEMONIC_SMSW, sys_smsw },
	{ ZYDIS_MNEMONIC_LGDT, sys_lgdt },
	{ ZYDIS_MNEMONIC_LIDT, sys_lidt },
	{ ZYDIS_MNEMONIC_SGDT, sys_sgdt },
	{ ZYDIS_MNEMONIC_SIDT, sys_sidt },
	{ ZYDIS_MNEMONIC_LLDT, sys_lldt },
	{ ZYDIS_MNEMONIC_LTR, sys_ltr },
	{ ZYDIS_MNEMONIC_SLDT, sys_sldt },
	{ ZYDIS_MNEMONIC_STR, sys_str },
	{ ZYDIS_MNEMONIC_LAR, sys_lar_lsl },
	{ ZYDIS_MNEMONIC_LSL, sys_lar_lsl },
	{ ZYDIS_MNEMONIC_VERR, sys_verr_verw },
	{ ZYDIS_MNEMONIC_VERW, sys_verr_verw },
	{ ZYDIS_MNEMONIC_LDS, sys_lxs },
	{ ZYDIS_MNEMONIC_LES, sys_lxs },
	{ ZYDIS_MNEMONIC_LFS, sys_lxs },
	{ ZYDIS_MNEMONIC_LGS, sys_lxs },
	{ ZYDIS_MNEMONIC_LSS, sys_lxs },
	{ ZYDIS_MNEMONIC_INVLPG, sys_invlpg },
	{ ZYDIS_MNEMONIC_WBINVD, sys_nop_cpl0 },
	{ ZYDIS_MNEMONIC_INVD, sys_nop_cpl0 },
	{ ZYDIS_MNEMONIC_CLFLUSH, sys_nop },
	{ ZYDIS_MNEMONIC_CLFLUSHOPT, sys_nop },
	{ ZYDIS_MNEMONIC_CLWB, sys_nop },
	{ ZYDIS_MNEMONIC_CPUID, sys_cpuid },
	{ ZYDIS_MNEMONIC_RDMSR, sys_rdmsr },
	{ ZYDIS_MNEMONIC_WRMSR, sys_wrmsr },
	{ ZYDIS_MNEMONIC_RDTSC, sys_rdtsc },
	{ ZYDIS_MNEMONIC_RDTSCP, sys_rdtsc },
	{ ZYDIS_MNEMONIC_RDPID, sys_rdpid },
	{ ZYDIS_MNEMONIC_RDPMC, sys_rdpmc },
	{ ZYDIS_MNEMONIC_HLT, sys_hlt },
	{ ZYDIS_MNEMONIC_IN, sys_in },
	{ ZYDIS_MNEMONIC_OUT, sys_out },
	{ ZYDIS_MNEMONIC_INSB, sys_ins_outs },
	{ ZYDIS_MNEMONIC_INSW, sys_ins_outs },
	{ ZYDIS_MNEMONIC_INSD, sys_ins_outs },
	{ ZYDIS_MNEMONIC_OUTSB, sys_ins_outs },
	{ ZYDIS_MNEMONIC_OUTSW, sys_ins_outs },
	{ ZYDIS_MNEMONIC_OUTSD, sys_ins_outs },
	{ ZYDIS_MNEMONIC_INT, sys_int },
	{ ZYDIS_MNEMONIC_INT3, sys_int3 },
	{ ZYDIS_MNEMONIC_INTO, sys_into },
	{ ZYDIS_MNEMONIC_INT1, sys_int1 },
	{ ZYDIS_MNEMONIC_IRET, sys_iret },
	{ ZYDIS_MNEMONIC_IRETD, sys_iret },
	{ ZYDIS_MNEMONIC_IRETQ, sys_iret },
	{ ZYDIS_MNEMONIC_SYSCALL, sys_syscall },
	{ ZYDIS_MNEMONIC_SYSRET, sys_sysret },
	{ ZYDIS_MNEMONIC_SYSENTER, sys_sysenter },
	{ ZYDIS_MNEMONIC_SYSEXIT, sys_sysexit },
	{ ZYDIS_MNEMONIC_SWAPGS, sys_swapgs },
	{ ZYDIS_MNEMONIC_RDFSBASE, sys_fsgsbase },
	{ ZYDIS_MNEMONIC_RDGSBASE, sys_fsgsbase },
	{ ZYDIS_MNEMONIC_WRFSBASE, sys_fsgsbase },
	{ ZYDIS_MNEMONIC_WRGSBASE, sys_fsgsbase },
	{ ZYDIS_MNEMONIC_CLI, sys_cli },
	{ ZYDIS_MNEMONIC_STI, sys_sti },
	{ ZYDIS_MNEMONIC_CLAC, sys_clac_stac },
	{ ZYDIS_MNEMONIC_STAC, sys_clac_stac },
	{ ZYDIS_MNEMONIC_PUSHF, sys_pushf },
	{ ZYDIS_MNEMONIC_PUSHFD, sys_pushf },
	{ ZYDIS_MNEMONIC_PUSHFQ, sys_pushf },
	{ ZYDIS_MNEMONIC_POPF, sys_popf },
	{ ZYDIS_MNEMONIC_POPFD, sys_popf },
	{ ZYDIS_MNEMONIC_POPFQ, sys_popf },
	{ ZYDIS_MNEMONIC_UD0, sys_ud },
	{ ZYDIS_MNEMONIC_UD1, sys_ud },
	{ ZYDIS_MNEMONIC_UD2, sys_ud },
	{ ZYDIS_MNEMONIC_XGETBV, sys_ud },
	{ ZYDIS_MNEMONIC_XSETBV, sys_ud },
	{ ZYDIS_MNEMONIC_MONITOR, sys_ud },
	{ ZYDIS_MNEMONIC_MWAIT, sys_ud },
	{ ZYDIS_MNEMONIC_RDRAND, sys_ud },
	{ ZYDIS_MNEMONIC_RDSEED, sys_ud },
	{ ZYDIS_MNEMONIC_INVPCID, sys_ud },
};

const struct soft_handler_table soft_handlers_system = {
	system_entries,
	sizeof(system_entries) / sizeof(system_entries[0]),
};
