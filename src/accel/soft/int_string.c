// SPDX-License-Identifier: Apache-2.0
/*
 * String instructions of the software CPU: MOVS CMPS SCAS LODS STOS, with
 * REP / REPE / REPNE, DF, and 16/32/64-bit address sizes. A REP
 * instruction does at most INT_REP_CHUNK elements per execution and then
 * re-executes itself (RIP back to its start), so the run loop can take
 * interrupts in between; every element updates rSI/rDI/rCX after its
 * accesses, so a fault leaves the architectural state of the elements
 * done. MOVSD/CMPSD outside the one-byte map are SSE instructions.
 */
#include "accel/soft/int_priv.h"

#define INT_REP_CHUNK 4096

enum str_kind { ST_MOVS, ST_CMPS, ST_SCAS, ST_LODS, ST_STOS };

INT_INLINE void str_op(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned n = in->opsize, as = in->addrsize;
	uint64_t am = sz_mask(as);
	uint64_t step = (r->rflags & X86_FLAGS_DF) ? -(uint64_t)n : n;
	unsigned sseg = int_implicit_seg(in, X86_RSI);
	bool rep = in->flags & (SOFT_INSN_REP | SOFT_INSN_REPNE);
	bool cmp = k == ST_CMPS || k == ST_SCAS;
	uint64_t a = 0, b = 0;
	unsigned budget = INT_REP_CHUNK;

	if (rep && gpr_rd(r, X86_RCX, as) == 0)
		return;
	for (;;) {
		uint64_t si = r->gpr[X86_RSI] & am, di = r->gpr[X86_RDI] & am;

		switch (k) {
		case ST_MOVS:
			a = mem_rd(cpu, lin_addr(cpu, r, sseg, si), n);
			mem_wr(cpu, lin_addr(cpu, r, X86_ES, di), n, a);
			gpr_wr(r, X86_RSI, as, si + step);
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		case ST_CMPS:
			a = mem_rd(cpu, lin_addr(cpu, r, sseg, si), n);
			b = mem_rd(cpu, lin_addr(cpu, r, X86_ES, di), n);
			gpr_wr(r, X86_RSI, as, si + step);
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		case ST_SCAS:
			a = gpr_rd(r, X86_RAX, n);
			b = mem_rd(cpu, lin_addr(cpu, r, X86_ES, di), n);
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		case ST_LODS:
			a = mem_rd(cpu, lin_addr(cpu, r, sseg, si), n);
			gpr_wr(r, X86_RAX, n, a);
			gpr_wr(r, X86_RSI, as, si + step);
			break;
		default:
			mem_wr(cpu, lin_addr(cpu, r, X86_ES, di), n, gpr_rd(r, X86_RAX, n));
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		}
		if (cmp)
			soft_lf_set(int_lazy(cpu), SOFT_LF_SUB, n, a, b, (a - b) & sz_mask(n));
		if (!rep)
			return;
		{
			uint64_t c = (gpr_rd(r, X86_RCX, as) - 1) & am;

			gpr_wr(r, X86_RCX, as, c);
			if (c == 0)
				return;
		}
		if (cmp) {
			/* REPE (F3) stops on unequal, REPNE (F2) on equal */
			if ((in->flags & SOFT_INSN_REPNE) ? a == b : a != b)
				return;
		}
		if (--budget == 0) {
			r->rip = soft_insn_rip(cpu);
			return;
		}
	}
}

void soft_int_movs(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (in->opmap != 0) {
		int_forward(cpu, in, &soft_handlers_sse);
		return;
	}
	str_op(cpu, in, ST_MOVS);
}

void soft_int_cmps(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (in->opmap != 0) {
		int_forward(cpu, in, &soft_handlers_sse);
		return;
	}
	str_op(cpu, in, ST_CMPS);
}

void soft_int_scas(struct soft_cpu *cpu, const struct soft_insn *in) { str_op(cpu, in, ST_SCAS); }
void soft_int_lods(struct soft_cpu *cpu, const struct soft_insn *in) { str_op(cpu, in, ST_LODS); }
void soft_int_stos(struct soft_cpu *cpu, const struct soft_insn *in) { str_op(cpu, in, ST_STOS); }
