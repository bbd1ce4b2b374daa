// SPDX-License-Identifier: Apache-2.0
/*
 * Lazy arithmetic flags: the six status flags computed from the record
 * the last flag-writing instruction left (flags.h), and RFLAGS as a whole
 * for the core (soft_get_flags / soft_set_flags).
 */
#include "accel/soft/flags.h"

#include "accel/soft/exec.h"

static inline uint64_t parity_flag(uint64_t r)
{
	return __builtin_parity((unsigned)(r & 0xff)) ? 0 : X86_FLAGS_PF;
}

uint64_t soft_lf_compute(const struct soft_lazy_flags *lf, uint64_t rflags)
{
	uint64_t a = lf->src1, b = lf->src2, r = lf->result;
	unsigned bits = lf->size * 8;
	uint64_t sign = 1ull << (bits - 1);
	uint64_t c = b;
	bool cf = false, of = false, af = false;
	uint64_t f;

	switch (lf->op) {
	case SOFT_LF_NONE:
		return rflags & SOFT_FLAGS_ARITH;
	case SOFT_LF_ADD:
		cf = ((a & b) | ((a | b) & ~r)) & sign;
		of = ((a ^ r) & (b ^ r)) & sign;
		af = (a ^ b ^ r) & 0x10;
		break;
	case SOFT_LF_SUB:
	case SOFT_LF_SBB:
		cf = ((~a & b) | (~(a ^ b) & r)) & sign;
		of = ((a ^ b) & (a ^ r)) & sign;
		af = (a ^ b ^ r) & 0x10;
		break;
	case SOFT_LF_LOGIC:
		break;
	case SOFT_LF_INC:
		cf = b & 1;
		of = r == sign;
		af = (r & 0xf) == 0;
		break;
	case SOFT_LF_DEC:
		cf = b & 1;
		of = a == sign;
		af = (r & 0xf) == 0xf;
		break;
	case SOFT_LF_SHL:
		cf = c <= bits ? (a >> (bits - c)) & 1 : 0;
		of = !!(r & sign) ^ cf;
		break;
	case SOFT_LF_SHR:
		cf = c <= bits ? (a >> (c - 1)) & 1 : 0;
		of = c == 1 ? !!(a & sign) : 0;
		break;
	case SOFT_LF_SAR:
		cf = (soft_lf_sext(a, lf->size) >> (c - 1 > 63 ? 63 : c - 1)) & 1;
		of = false;
		break;
	case SOFT_LF_MUL:
		cf = of = b & 1;
		break;
	default:
		return rflags & SOFT_FLAGS_ARITH;
	}
	f = parity_flag(r);
	if (cf)
		f |= X86_FLAGS_CF;
	if (of)
		f |= X86_FLAGS_OF;
	if (af)
		f |= X86_FLAGS_AF;
	if (r == 0)
		f |= X86_FLAGS_ZF;
	if (r & sign)
		f |= X86_FLAGS_SF;
	return f;
}

uint64_t soft_get_flags(struct soft_cpu *cpu)
{
	struct x86_cpu_state *r = soft_regs(cpu);
	struct soft_lazy_flags *lf = soft_lazy(cpu);

	if (lf->op != SOFT_LF_NONE) {
		r->rflags = (r->rflags & ~(uint64_t)SOFT_FLAGS_ARITH) | soft_lf_compute(lf, r->rflags);
		lf->op = SOFT_LF_NONE;
	}
	r->rflags |= X86_FLAGS_FIXED;
	return r->rflags;
}

void soft_set_flags(struct soft_cpu *cpu, uint64_t rflags)
{
	soft_regs(cpu)->rflags = rflags | X86_FLAGS_FIXED;
	soft_lazy(cpu)->op = SOFT_LF_NONE;
}
