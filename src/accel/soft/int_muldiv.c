// SPDX-License-Identifier: Apache-2.0
/*
 * Multiplication and division of the software CPU: MUL, IMUL (one, two
 * and three operands), DIV, IDIV with #DE on a zero divisor and on a
 * quotient that does not fit. MUL/IMUL set CF = OF = "the high half is
 * significant"; SF, ZF, PF follow the low half (undefined on Intel, as
 * most of its cores do); DIV/IDIV leave the flags as they were.
 */
#include "accel/soft/int_priv.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

/* Writes the double-width result of a one-operand MUL/IMUL/DIV into AX / rDX:rAX. */
static void write_pair(struct x86_cpu_state *r, unsigned size, uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		gpr_wr(r, X86_RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
	} else {
		gpr_wr(r, X86_RAX, size, lo);
		gpr_wr(r, X86_RDX, size, hi);
	}
}

static void mul_flags(struct soft_cpu *cpu, unsigned size, uint64_t lo, bool ovf)
{
	soft_lf_set(int_lazy(cpu), SOFT_LF_MUL, size, 0, ovf, lo & sz_mask(size));
}

void soft_int_mul(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size;
	uint64_t b = op_rd(cpu, r, in, 0);
	uint64_t a = gpr_rd(r, X86_RAX, size);
	u128 p = (u128)a * b;
	uint64_t lo, hi;

	if (size == 8) {
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		lo = (uint64_t)p & sz_mask(size);
		hi = ((uint64_t)p >> (size * 8)) & sz_mask(size);
	}
	write_pair(r, size, lo, hi);
	mul_flags(cpu, size, lo, hi != 0);
}

void soft_int_imul(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size;
	i128 p;
	uint64_t lo;
	bool ovf;

	if (in->nops == 1) {
		int64_t b = soft_lf_sext(op_rd(cpu, r, in, 0), size);
		int64_t a = soft_lf_sext(gpr_rd(r, X86_RAX, size), size);
		uint64_t hi;

		p = (i128)a * b;
		lo = (uint64_t)p & sz_mask(size);
		if (size == 8)
			hi = (uint64_t)(p >> 64);
		else
			hi = (uint64_t)(int64_t)(p >> (size * 8)) & sz_mask(size);
		ovf = p != (i128)soft_lf_sext(lo, size);
		write_pair(r, size, lo, hi);
	} else {
		unsigned si = in->nops == 3 ? 1 : 0;
		unsigned bi = in->nops == 3 ? 2 : 1;
		int64_t a, b;

		b = soft_lf_sext(op_rdn(cpu, r, in, bi, size), size);
		a = soft_lf_sext(op_rdn(cpu, r, in, si, size), size);
		p = (i128)a * b;
		lo = (uint64_t)p & sz_mask(size);
		ovf = p != (i128)soft_lf_sext(lo, size);
		gpr_wr(r, in->op[0].reg, size, lo);
	}
	mul_flags(cpu, size, lo, ovf);
}

void soft_int_div(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size;
	uint64_t d = op_rd(cpu, r, in, 0);
	uint64_t q, rem;

	if (d == 0)
		soft_raise(cpu, X86_VEC_DE, -1);
	if (size == 8) {
		u128 n = ((u128)r->gpr[X86_RDX] << 64) | r->gpr[X86_RAX];

		if ((n >> 64) >= d) /* quotient would not fit in 64 bits */
			soft_raise(cpu, X86_VEC_DE, -1);
		q = (uint64_t)(n / d);
		rem = (uint64_t)(n % d);
	} else {
		uint64_t n;

		if (size == 1)
			n = gpr_rd(r, X86_RAX, 2);
		else
			n = (gpr_rd(r, X86_RDX, size) << (size * 8)) | gpr_rd(r, X86_RAX, size);
		q = n / d;
		rem = n % d;
		if (q > sz_mask(size))
			soft_raise(cpu, X86_VEC_DE, -1);
	}
	write_pair(r, size, q, rem);
}

void soft_int_idiv(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size;
	int64_t d = soft_lf_sext(op_rd(cpu, r, in, 0), size);
	i128 n, q, rem;
	i128 qmax = ((i128)1 << (size * 8 - 1)) - 1, qmin = -qmax - 1;

	if (d == 0)
		soft_raise(cpu, X86_VEC_DE, -1);
	if (size == 8)
		n = (i128)(((u128)r->gpr[X86_RDX] << 64) | r->gpr[X86_RAX]);
	else if (size == 1)
		n = soft_lf_sext(gpr_rd(r, X86_RAX, 2), 2);
	else
		n = soft_lf_sext((gpr_rd(r, X86_RDX, size) << (size * 8)) | gpr_rd(r, X86_RAX, size),
				 size * 2);
	if (d == -1) {
		if (n == (i128)((u128)1 << 127))
			soft_raise(cpu, X86_VEC_DE, -1);
		q = -n;
		rem = 0;
	} else {
		q = n / d;
		rem = n % d;
	}
	if (q > qmax || q < qmin)
		soft_raise(cpu, X86_VEC_DE, -1);
	write_pair(r, size, (uint64_t)q & sz_mask(size), (uint64_t)rem & sz_mask(size));
}
