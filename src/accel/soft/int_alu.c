// SPDX-License-Identifier: Apache-2.0
/*
 * Integer ALU instructions of the software CPU: ADD ADC SUB SBB AND OR
 * XOR CMP TEST, INC DEC NEG NOT. Flags are recorded lazily (flags.h);
 * with LOCK the memory update is one host atomic operation.
 */
#include "accel/soft/int_priv.h"

enum alu_kind { K_ADD, K_OR, K_ADC, K_SBB, K_AND, K_SUB, K_XOR, K_CMP, K_TEST };

INT_INLINE uint64_t alu_calc(unsigned k, uint64_t a, uint64_t b, bool cf)
{
	switch (k) {
	case K_ADD: return a + b;
	case K_OR: return a | b;
	case K_ADC: return a + b + cf;
	case K_SBB: return a - b - cf;
	case K_AND:
	case K_TEST: return a & b;
	case K_XOR: return a ^ b;
	default: return a - b; /* SUB, CMP */
	}
}

INT_INLINE unsigned alu_lf(unsigned k)
{
	switch (k) {
	case K_ADD:
	case K_ADC: return SOFT_LF_ADD;
	case K_SBB: return SOFT_LF_SBB;
	case K_SUB:
	case K_CMP: return SOFT_LF_SUB;
	default: return SOFT_LF_LOGIC;
	}
}

/* Register destination, register or immediate source: no memory, no frame. */
INT_INLINE void alu_reg(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	const struct soft_operand *d = &in->op[0], *s = &in->op[1];
	unsigned size = d->size;
	uint64_t m = sz_mask(size);
	uint64_t a = gpr_rd(r, d->reg, size), b, res;
	bool cf = (k == K_ADC || k == K_SBB) ? soft_lf_cf(lf, r->rflags) : false;

	b = s->kind == SOFT_OP_GPR ? gpr_rd(r, s->reg, size) : (uint64_t)s->imm & m;
	res = alu_calc(k, a, b, cf) & m;
	if (k != K_CMP && k != K_TEST)
		gpr_wr(r, d->reg, size, res);
	soft_lf_set(lf, alu_lf(k), size, a, b, res);
}

static __attribute__((noinline)) void alu_mem(struct soft_cpu *cpu, const struct soft_insn *in,
					      unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size;
	uint64_t m = sz_mask(size);
	bool writes = k != K_CMP && k != K_TEST;
	bool cf = false;
	uint64_t a, b, res;

	if (d->kind == SOFT_OP_GPR) {
		if (in->flags & SOFT_INSN_LOCK)
			int_ud(cpu);
		b = op_rdn(cpu, r, in, 1, size);
		a = gpr_rd(r, d->reg, size);
		if (k == K_ADC || k == K_SBB)
			cf = soft_lf_cf(lf, r->rflags);
		res = alu_calc(k, a, b, cf) & m;
		if (writes)
			gpr_wr(r, d->reg, size, res);
	} else {
		uint64_t lin;

		b = op_rdn(cpu, r, in, 1, size);
		lin = int_ea(cpu, in, d);
		if (k == K_ADC || k == K_SBB)
			cf = soft_lf_cf(lf, r->rflags);
		if (writes) {
			INT_RMW(cpu, lin, size, in->flags & SOFT_INSN_LOCK, a, res,
				alu_calc(k, a, b, cf) & m);
		} else {
			if (in->flags & SOFT_INSN_LOCK)
				int_ud(cpu);
			a = mem_rd(cpu, lin, size);
			res = alu_calc(k, a, b, cf) & m;
		}
	}
	soft_lf_set(lf, alu_lf(k), size, a, b, res);
}

INT_INLINE void alu(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	if (__builtin_expect(in->op[0].kind == SOFT_OP_GPR && in->op[1].kind != SOFT_OP_MEM &&
				     !(in->flags & SOFT_INSN_LOCK),
			     1))
		alu_reg(cpu, in, k);
	else
		alu_mem(cpu, in, k);
}

void soft_int_add(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_ADD); }
void soft_int_or(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_OR); }
void soft_int_adc(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_ADC); }
void soft_int_sbb(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_SBB); }
void soft_int_and(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_AND); }
void soft_int_sub(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_SUB); }
void soft_int_xor(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_XOR); }
void soft_int_cmp(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_CMP); }
void soft_int_test(struct soft_cpu *cpu, const struct soft_insn *in) { alu(cpu, in, K_TEST); }

enum un_kind { U_INC, U_DEC, U_NEG, U_NOT };

INT_INLINE uint64_t un_calc(unsigned k, uint64_t a)
{
	switch (k) {
	case U_INC: return a + 1;
	case U_DEC: return a - 1;
	case U_NEG: return -a;
	default: return ~a;
	}
}

static __attribute__((noinline)) void unary_mem(struct soft_cpu *cpu, const struct soft_insn *in,
						unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size;
	uint64_t m = sz_mask(size);
	uint64_t a, res;

	if (d->kind == SOFT_OP_GPR) {
		if (in->flags & SOFT_INSN_LOCK)
			int_ud(cpu);
		a = gpr_rd(r, d->reg, size);
		res = un_calc(k, a) & m;
		gpr_wr(r, d->reg, size, res);
	} else {
		uint64_t lin = int_ea(cpu, in, d);

		INT_RMW(cpu, lin, size, in->flags & SOFT_INSN_LOCK, a, res, un_calc(k, a) & m);
	}
	switch (k) {
	case U_INC:
		soft_lf_set(lf, SOFT_LF_INC, size, a, soft_lf_cf(lf, r->rflags), res);
		break;
	case U_DEC:
		soft_lf_set(lf, SOFT_LF_DEC, size, a, soft_lf_cf(lf, r->rflags), res);
		break;
	case U_NEG:
		soft_lf_set(lf, SOFT_LF_SUB, size, 0, a, res);
		break;
	default:
		break;
	}
}

INT_INLINE void unary(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size;
	uint64_t a, res;

	if (__builtin_expect(d->kind != SOFT_OP_GPR || (in->flags & SOFT_INSN_LOCK), 0)) {
		unary_mem(cpu, in, k);
		return;
	}
	a = gpr_rd(r, d->reg, size);
	res = un_calc(k, a) & sz_mask(size);
	gpr_wr(r, d->reg, size, res);
	switch (k) {
	case U_INC:
		soft_lf_set(lf, SOFT_LF_INC, size, a, soft_lf_cf(lf, r->rflags), res);
		break;
	case U_DEC:
		soft_lf_set(lf, SOFT_LF_DEC, size, a, soft_lf_cf(lf, r->rflags), res);
		break;
	case U_NEG:
		soft_lf_set(lf, SOFT_LF_SUB, size, 0, a, res);
		break;
	default:
		break;
	}
}

void soft_int_inc(struct soft_cpu *cpu, const struct soft_insn *in) { unary(cpu, in, U_INC); }
void soft_int_dec(struct soft_cpu *cpu, const struct soft_insn *in) { unary(cpu, in, U_DEC); }
void soft_int_neg(struct soft_cpu *cpu, const struct soft_insn *in) { unary(cpu, in, U_NEG); }
void soft_int_not(struct soft_cpu *cpu, const struct soft_insn *in) { unary(cpu, in, U_NOT); }
