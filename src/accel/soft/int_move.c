// SPDX-License-Identifier: Apache-2.0
/*
 * Data movement and miscellaneous integer instructions of the software
 * CPU: MOV (system forms forwarded), MOVZX MOVSX MOVSXD MOVBE LEA, XCHG
 * CMPXCHG CMPXCHG8B CMPXCHG16B XADD (atomic with LOCK; XCHG with memory
 * always), CMOVcc SETcc, CBW..CQO, LAHF SAHF, CLC STC CMC CLD STD, NOP
 * and its kin, fences, XLAT.
 */
#include "accel/soft/int_priv.h"

soft_handler int_lookup(const struct soft_handler_table *t, unsigned mnemonic)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->entries[i].mnemonic == mnemonic && t->entries[i].fn)
			return t->entries[i].fn;
	return NULL;
}

void int_forward(struct soft_cpu *cpu, const struct soft_insn *in,
		 const struct soft_handler_table *t)
{
	soft_handler h = int_lookup(t, in->mnemonic);

	if (!h)
		soft_unimplemented(cpu, in);
	h(cpu, in);
}

static bool is_sys_kind(unsigned k)
{
	return k == SOFT_OP_CR || k == SOFT_OP_DR;
}

static __attribute__((noinline)) void mov_other(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0], *s = &in->op[1];
	uint64_t v;

	if (d->kind == SOFT_OP_SREG || is_sys_kind(d->kind) || is_sys_kind(s->kind)) {
		int_forward(cpu, in, &soft_handlers_system);
		return;
	}
	if (s->kind == SOFT_OP_SREG) {
		v = r->seg[s->reg & 7].selector;
		if (d->kind == SOFT_OP_GPR)
			gpr_wr(r, d->reg, d->size, v);
		else
			mem_wr(cpu, int_ea(cpu, in, d), 2, v);
		return;
	}
	if (in->flags & SOFT_INSN_LOCK)
		int_ud(cpu);
	v = op_rdn(cpu, r, in, 1, d->size);
	if (d->kind == SOFT_OP_GPR)
		gpr_wr(r, d->reg, d->size, v);
	else
		mem_wr(cpu, int_ea(cpu, in, d), d->size, v);
}

void soft_int_mov(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0], *s = &in->op[1];

	if (d->kind == SOFT_OP_GPR) {
		switch (s->kind) {
		case SOFT_OP_GPR:
			gpr_wr(r, d->reg, d->size, gpr_rd(r, s->reg, d->size));
			return;
		case SOFT_OP_IMM:
			gpr_wr(r, d->reg, d->size, (uint64_t)s->imm);
			return;
		case SOFT_OP_MEM:
			gpr_wr(r, d->reg, d->size, mem_rd(cpu, int_ea(cpu, in, s), d->size));
			return;
		default:
			break;
		}
	} else if (d->kind == SOFT_OP_MEM && !(in->flags & SOFT_INSN_LOCK)) {
		if (s->kind == SOFT_OP_GPR) {
			mem_wr(cpu, int_ea(cpu, in, d), d->size, gpr_rd(r, s->reg, d->size));
			return;
		}
		if (s->kind == SOFT_OP_IMM) {
			mem_wr(cpu, int_ea(cpu, in, d), d->size, (uint64_t)s->imm);
			return;
		}
	}
	mov_other(cpu, in);
}

void soft_int_movzx(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);

	gpr_wr(r, in->op[0].reg, in->op[0].size, op_rd(cpu, r, in, 1));
}

void soft_int_movsx(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	uint64_t v = (uint64_t)soft_lf_sext(op_rd(cpu, r, in, 1), in->op[1].size);

	gpr_wr(r, in->op[0].reg, in->op[0].size, v & sz_mask(in->op[0].size));
}

void soft_int_movsxd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	soft_int_movsx(cpu, in);
}

static uint64_t bswap_n(uint64_t v, unsigned size)
{
	switch (size) {
	case 2: return __builtin_bswap16((uint16_t)v);
	case 4: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

void soft_int_movbe(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size;
	uint64_t v = bswap_n(op_rdn(cpu, r, in, 1, size), size);

	if (d->kind == SOFT_OP_GPR)
		gpr_wr(r, d->reg, size, v);
	else
		mem_wr(cpu, int_ea(cpu, in, d), size, v);
}

void soft_int_lea(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *m = &in->op[1];
	uint64_t ea = (uint64_t)m->imm;

	if (m->kind != SOFT_OP_MEM)
		int_ud(cpu);
	if (m->base == SOFT_REG_RIP)
		ea += r->rip;
	else if (m->base != SOFT_REG_NONE)
		ea += r->gpr[m->base & 0xf];
	if (m->index != SOFT_REG_NONE)
		ea += r->gpr[m->index & 0xf] * m->scale;
	ea &= sz_mask(in->addrsize);
	gpr_wr(r, in->op[0].reg, in->op[0].size, ea & sz_mask(in->op[0].size));
}

static uint64_t atomic_xchg(void *p, uint64_t v, unsigned size)
{
	switch (size) {
	case 1: return __atomic_exchange_n((uint8_t *)p, (uint8_t)v, __ATOMIC_SEQ_CST);
	case 2: return __atomic_exchange_n((uint16_t *)p, (uint16_t)v, __ATOMIC_SEQ_CST);
	case 4: return __atomic_exchange_n((uint32_t *)p, (uint32_t)v, __ATOMIC_SEQ_CST);
	default: return __atomic_exchange_n((uint64_t *)p, v, __ATOMIC_SEQ_CST);
	}
}

void soft_int_xchg(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *a = &in->op[0], *b = &in->op[1];
	unsigned size = a->size;
	uint64_t old, v, lin;
	void *p;

	if (a->kind == SOFT_OP_GPR && b->kind == SOFT_OP_GPR) {
		uint64_t va = gpr_rd(r, a->reg, size), vb = gpr_rd(r, b->reg, size);

		if (in->flags & SOFT_INSN_LOCK)
			int_ud(cpu);
		gpr_wr(r, a->reg, size, vb);
		gpr_wr(r, b->reg, size, va);
		return;
	}
	if (a->kind == SOFT_OP_GPR) { /* the memory operand first */
		const struct soft_operand *t = a;

		a = b;
		b = t;
	}
	v = gpr_rd(r, b->reg, size);
	lin = int_ea(cpu, in, a);
	p = soft_translate_rmw(cpu, lin, size);
	if (p) {
		old = atomic_xchg(p, v, size);
	} else {
		soft_lock_slow();
		old = mem_rd(cpu, lin, size);
		mem_wr(cpu, lin, size, v);
		soft_unlock_slow();
	}
	gpr_wr(r, b->reg, size, old);
}

void soft_int_cmpxchg(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size;
	uint64_t acc = gpr_rd(r, X86_RAX, size);
	uint64_t src = gpr_rd(r, in->op[1].reg, size);
	uint64_t old;

	if (d->kind == SOFT_OP_GPR) {
		if (in->flags & SOFT_INSN_LOCK)
			int_ud(cpu);
		old = gpr_rd(r, d->reg, size);
		if (old == acc)
			gpr_wr(r, d->reg, size, src);
		else
			gpr_wr(r, X86_RAX, size, old); /* the destination is not touched */
	} else {
		uint64_t lin = int_ea(cpu, in, d);

		if (in->flags & SOFT_INSN_LOCK) {
			void *p = soft_translate_rmw(cpu, lin, size);

			if (p) {
				old = acc;
				atomic_cas(p, &old, src, size);
			} else {
				soft_lock_slow();
				old = mem_rd(cpu, lin, size);
				mem_wr(cpu, lin, size, old == acc ? src : old);
				soft_unlock_slow();
			}
		} else {
			soft_probe_write(cpu, lin, size);
			old = mem_rd(cpu, lin, size);
			/* the destination gets a write cycle either way */
			mem_wr(cpu, lin, size, old == acc ? src : old);
		}
		if (old != acc)
			gpr_wr(r, X86_RAX, size, old);
	}
	soft_lf_set(int_lazy(cpu), SOFT_LF_SUB, size, acc, old, (acc - old) & sz_mask(size));
}

static void set_zf(struct soft_cpu *cpu, struct x86_cpu_state *r, bool zf)
{
	uint64_t f = int_flags(r, int_lazy(cpu)) & ~(uint64_t)X86_FLAGS_ZF;

	r->rflags = f | (zf ? X86_FLAGS_ZF : 0);
}

void soft_int_cmpxchg8b(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	uint64_t exp, nv, old, lin;
	void *p;

	if (d->kind != SOFT_OP_MEM)
		int_ud(cpu);
	exp = (gpr_rd(r, X86_RDX, 4) << 32) | gpr_rd(r, X86_RAX, 4);
	nv = (gpr_rd(r, X86_RCX, 4) << 32) | gpr_rd(r, X86_RBX, 4);
	lin = int_ea(cpu, in, d);
	p = (in->flags & SOFT_INSN_LOCK) ? soft_translate_rmw(cpu, lin, 8) : NULL;
	if (p) {
		old = exp;
		atomic_cas(p, &old, nv, 8);
	} else {
		if (in->flags & SOFT_INSN_LOCK)
			soft_lock_slow();
		else
			soft_probe_write(cpu, lin, 8);
		old = mem_rd(cpu, lin, 8);
		mem_wr(cpu, lin, 8, old == exp ? nv : old);
		if (in->flags & SOFT_INSN_LOCK)
			soft_unlock_slow();
	}
	if (old != exp) {
		gpr_wr(r, X86_RAX, 4, old);
		gpr_wr(r, X86_RDX, 4, old >> 32);
	}
	set_zf(cpu, r, old == exp);
}

static bool cas16(void *p, uint64_t *lo, uint64_t *hi, uint64_t nlo, uint64_t nhi)
{
	bool ok;

	__asm__ volatile("lock cmpxchg16b %1"
			 : "=@ccz"(ok), "+m"(*(volatile unsigned __int128 *)p), "+a"(*lo),
			   "+d"(*hi)
			 : "b"(nlo), "c"(nhi)
			 : "memory");
	return ok;
}

void soft_int_cmpxchg16b(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	uint64_t elo = r->gpr[X86_RAX], ehi = r->gpr[X86_RDX];
	uint64_t nlo = r->gpr[X86_RBX], nhi = r->gpr[X86_RCX];
	uint64_t olo = elo, ohi = ehi, lin;
	void *p;
	bool ok;

	if (d->kind != SOFT_OP_MEM)
		int_ud(cpu);
	if (in->opsize != 8) {
		soft_int_cmpxchg8b(cpu, in);
		return;
	}
	lin = int_ea(cpu, in, d);
	if (lin & 15)
		soft_raise(cpu, X86_VEC_GP, 0);
	p = (in->flags & SOFT_INSN_LOCK) ? soft_translate_rmw(cpu, lin, 16) : NULL;
	if (p) {
		ok = cas16(p, &olo, &ohi, nlo, nhi);
	} else {
		uint64_t buf[2];

		if (in->flags & SOFT_INSN_LOCK)
			soft_lock_slow();
		else
			soft_probe_write(cpu, lin, 16);
		soft_read(cpu, lin, buf, 16);
		olo = buf[0];
		ohi = buf[1];
		ok = olo == elo && ohi == ehi;
		if (ok) {
			buf[0] = nlo;
			buf[1] = nhi;
		}
		soft_write(cpu, lin, buf, 16);
		if (in->flags & SOFT_INSN_LOCK)
			soft_unlock_slow();
	}
	if (!ok) {
		r->gpr[X86_RAX] = olo;
		r->gpr[X86_RDX] = ohi;
	}
	set_zf(cpu, r, ok);
}

void soft_int_xadd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size;
	uint64_t m = sz_mask(size);
	uint64_t src = gpr_rd(r, in->op[1].reg, size);
	uint64_t old, sum;

	if (d->kind == SOFT_OP_GPR) {
		if (in->flags & SOFT_INSN_LOCK)
			int_ud(cpu);
		old = gpr_rd(r, d->reg, size);
		sum = (old + src) & m;
		gpr_wr(r, in->op[1].reg, size, old);
		gpr_wr(r, d->reg, size, sum);
	} else {
		uint64_t lin = int_ea(cpu, in, d);

		INT_RMW(cpu, lin, size, in->flags & SOFT_INSN_LOCK, old, sum, (old + src) & m);
		gpr_wr(r, in->op[1].reg, size, old);
	}
	soft_lf_set(int_lazy(cpu), SOFT_LF_ADD, size, old, src, sum);
}

/* ---- CMOVcc, SETcc -------------------------------------------------------- */

INT_INLINE void cmov(struct soft_cpu *cpu, const struct soft_insn *in, unsigned cc)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	uint64_t v = op_rdn(cpu, r, in, 1, d->size);

	/* a 32-bit destination is zero-extended even when the condition is false */
	if (!soft_lf_cond(int_lazy(cpu), r->rflags, cc))
		v = gpr_rd(r, d->reg, d->size);
	gpr_wr(r, d->reg, d->size, v);
}

INT_INLINE void setcc(struct soft_cpu *cpu, const struct soft_insn *in, unsigned cc)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	uint64_t v = soft_lf_cond(int_lazy(cpu), r->rflags, cc);

	if (d->kind == SOFT_OP_GPR)
		gpr_wr(r, d->reg, 1, v);
	else
		mem_wr(cpu, int_ea(cpu, in, d), 1, v);
}

#define INT_CMOV(m, cc)                                                                   \
	void soft_int_##m(struct soft_cpu *cpu, const struct soft_insn *in)               \
	{                                                                                 \
		cmov(cpu, in, INT_CC_##cc);                                               \
	}
#define INT_SET(m, cc)                                                                    \
	void soft_int_##m(struct soft_cpu *cpu, const struct soft_insn *in)               \
	{                                                                                 \
		setcc(cpu, in, INT_CC_##cc);                                              \
	}
SOFT_INT_CC_LIST(INT_CMOV, CMOV)
SOFT_INT_CC_LIST(INT_SET, SET)

/* ---- Accumulator conversions, flag instructions, no-ops ------------------ */

void soft_int_cbw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);

	(void)in;
	gpr_wr(r, X86_RAX, 2, (uint64_t)soft_lf_sext(r->gpr[X86_RAX], 1));
}

void soft_int_cwde(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);

	(void)in;
	gpr_wr(r, X86_RAX, 4, (uint64_t)soft_lf_sext(r->gpr[X86_RAX], 2));
}

void soft_int_cdqe(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);

	(void)in;
	gpr_wr(r, X86_RAX, 8, (uint64_t)soft_lf_sext(r->gpr[X86_RAX], 4));
}

static void sign_to_dx(struct soft_cpu *cpu, unsigned size)
{
	struct x86_cpu_state *r = int_regs(cpu);
	uint64_t v = (r->gpr[X86_RAX] & sz_sign(size)) ? ~0ull : 0;

	gpr_wr(r, X86_RDX, size, v);
}

void soft_int_cwd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	sign_to_dx(cpu, 2);
}

void soft_int_cdq(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	sign_to_dx(cpu, 4);
}

void soft_int_cqo(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	sign_to_dx(cpu, 8);
}

#define LAHF_MASK (X86_FLAGS_SF | X86_FLAGS_ZF | X86_FLAGS_AF | X86_FLAGS_PF | X86_FLAGS_CF)

void soft_int_lahf(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	uint64_t f = soft_lf_rflags(int_lazy(cpu), r->rflags);

	(void)in;
	gpr_wr(r, X86_RAX | SOFT_REG_HIGH8, 1, (f & LAHF_MASK) | X86_FLAGS_FIXED);
}

void soft_int_sahf(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	uint64_t f = int_flags(r, int_lazy(cpu));

	(void)in;
	r->rflags = (f & ~(uint64_t)LAHF_MASK) | ((r->gpr[X86_RAX] >> 8) & LAHF_MASK);
}

static void cf_op(struct soft_cpu *cpu, int how)
{
	struct x86_cpu_state *r = int_regs(cpu);
	uint64_t f = int_flags(r, int_lazy(cpu));

	if (how < 0)
		f ^= X86_FLAGS_CF;
	else if (how)
		f |= X86_FLAGS_CF;
	else
		f &= ~(uint64_t)X86_FLAGS_CF;
	r->rflags = f;
}

void soft_int_clc(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	cf_op(cpu, 0);
}

void soft_int_stc(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	cf_op(cpu, 1);
}

void soft_int_cmc(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	cf_op(cpu, -1);
}

void soft_int_cld(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	int_regs(cpu)->rflags &= ~(uint64_t)X86_FLAGS_DF;
}

void soft_int_std(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	int_regs(cpu)->rflags |= X86_FLAGS_DF;
}

void soft_int_nop(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)cpu;
	(void)in;
}

void soft_int_fence(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)cpu;
	(void)in;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void soft_int_xlat(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned as = in->addrsize;
	uint64_t off = (r->gpr[X86_RBX] + (r->gpr[X86_RAX] & 0xff)) & sz_mask(as);
	uint64_t v = mem_rd(cpu, lin_addr(cpu, r, int_implicit_seg(in, X86_RBX), off), 1);

	gpr_wr(r, X86_RAX, 1, v);
}

/* ---- BCD adjustments (16/32-bit modes; #UD in 64-bit mode at decode) ------- */

/* Sets CF and AF as given, SF ZF PF from AL, OF clear (undefined for these). */
static void bcd_flags(struct x86_cpu_state *r, struct soft_lazy_flags *lf, bool cf, bool af)
{
	uint64_t al = r->gpr[X86_RAX] & 0xff;
	uint64_t f = int_flags(r, lf) & ~(uint64_t)SOFT_FLAGS_ARITH;

	if (cf)
		f |= X86_FLAGS_CF;
	if (af)
		f |= X86_FLAGS_AF;
	if (al == 0)
		f |= X86_FLAGS_ZF;
	if (al & 0x80)
		f |= X86_FLAGS_SF;
	if (!__builtin_parity((unsigned)al))
		f |= X86_FLAGS_PF;
	r->rflags = f;
}

static void daa_das(struct soft_cpu *cpu, bool sub)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	uint64_t f = int_flags(r, lf);
	unsigned al = r->gpr[X86_RAX] & 0xff, old_al = al;
	bool old_cf = f & X86_FLAGS_CF, cf = false, af = false;

	if ((al & 0xf) > 9 || (f & X86_FLAGS_AF)) {
		cf = old_cf || (sub ? old_al < 6 : old_al > 0xf9);
		al = (sub ? al - 6 : al + 6) & 0xff;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		al = (sub ? al - 0x60 : al + 0x60) & 0xff;
		cf = true;
	} else if (!sub) {
		cf = false;
	}
	gpr_wr(r, X86_RAX, 1, al);
	bcd_flags(r, lf, cf, af);
}

void soft_int_daa(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	daa_das(cpu, false);
}

void soft_int_das(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	daa_das(cpu, true);
}

static void aaa_aas(struct soft_cpu *cpu, bool sub)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	uint64_t f = int_flags(r, lf);
	unsigned ax = r->gpr[X86_RAX] & 0xffff;
	bool adj = (ax & 0xf) > 9 || (f & X86_FLAGS_AF);

	if (adj)
		ax = sub ? ((ax - 6) & 0xff) | ((((ax >> 8) - 1) & 0xff) << 8) : ax + 0x106;
	ax &= 0xff0f;
	gpr_wr(r, X86_RAX, 2, ax);
	bcd_flags(r, lf, adj, adj);
}

void soft_int_aaa(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	aaa_aas(cpu, false);
}

void soft_int_aas(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	aaa_aas(cpu, true);
}

static unsigned bcd_base(const struct soft_insn *in)
{
	return in->nops >= 1 && in->op[0].kind == SOFT_OP_IMM ? (unsigned)in->op[0].imm & 0xff : 10;
}

void soft_int_aam(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned base = bcd_base(in), al = r->gpr[X86_RAX] & 0xff;

	if (base == 0)
		soft_raise(cpu, X86_VEC_DE, -1);
	gpr_wr(r, X86_RAX, 2, ((al / base) << 8) | (al % base));
	soft_lf_set(int_lazy(cpu), SOFT_LF_LOGIC, 1, 0, 0, al % base);
}

void soft_int_aad(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned base = bcd_base(in), ax = r->gpr[X86_RAX] & 0xffff;
	unsigned al = ((ax & 0xff) + (ax >> 8) * base) & 0xff;

	gpr_wr(r, X86_RAX, 2, al);
	soft_lf_set(int_lazy(cpu), SOFT_LF_LOGIC, 1, 0, 0, al);
}

/* SALC (undocumented, 16/32-bit modes): AL = CF ? 0xff : 0. */
void soft_int_salc(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);

	(void)in;
	gpr_wr(r, X86_RAX, 1, soft_lf_cf(int_lazy(cpu), r->rflags) ? 0xff : 0);
}
