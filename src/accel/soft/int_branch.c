// SPDX-License-Identifier: Apache-2.0
/*
 * Near control transfers of the software CPU: Jcc, JMP, CALL, RET (with
 * imm16), LOOP/LOOPE/LOOPNE, JCXZ/JECXZ/JRCXZ. Far forms go to the system
 * handlers. Targets are truncated to the operand size outside 64-bit
 * mode; in 64-bit mode a non-canonical target raises #GP(0) at the branch.
 */
#include "accel/soft/int_priv.h"

INT_INLINE void jcc(struct soft_cpu *cpu, const struct soft_insn *in, unsigned cc)
{
	struct x86_cpu_state *r = int_regs(cpu);

	if (soft_lf_cond(int_lazy(cpu), r->rflags, cc))
		int_branch(cpu, r, in->opsize, r->rip + (uint64_t)in->op[0].imm);
}

#define INT_JCC(m, cc)                                                                    \
	void soft_int_##m(struct soft_cpu *cpu, const struct soft_insn *in)               \
	{                                                                                 \
		jcc(cpu, in, INT_CC_##cc);                                                \
	}
SOFT_INT_CC_LIST(INT_JCC, J)

/* Far JMP/CALL: a ptr16:xx operand or the FF /5, FF /3 memory forms. */
static bool is_far(const struct soft_insn *in, unsigned modrm_reg)
{
	return in->op[0].kind == SOFT_OP_PTR ||
	       (in->opmap == 0 && in->opcode == 0xff && in->modrm_reg == modrm_reg);
}

/* Target of a near JMP/CALL. */
INT_INLINE uint64_t near_target(struct soft_cpu *cpu, struct x86_cpu_state *r,
				const struct soft_insn *in)
{
	const struct soft_operand *o = &in->op[0];

	if (o->kind == SOFT_OP_REL)
		return r->rip + (uint64_t)o->imm;
	if (o->kind == SOFT_OP_IMM) /* relative per Zydis, when the core keeps it as IMM */
		return r->rip + (uint64_t)o->imm;
	return op_rdn(cpu, r, in, 0, in->opsize);
}

void soft_int_jmp(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r;

	if (is_far(in, 5)) {
		int_forward(cpu, in, &soft_handlers_system);
		return;
	}
	r = int_regs(cpu);
	int_branch(cpu, r, in->opsize, near_target(cpu, r, in));
}

void soft_int_call(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r;
	unsigned n = in->opsize, ssz;
	uint64_t t, sp;

	if (is_far(in, 3)) {
		int_forward(cpu, in, &soft_handlers_system);
		return;
	}
	r = int_regs(cpu);
	t = near_target(cpu, r, in);
	if (n == 8)
		int_check_target(cpu, t);
	else
		t &= sz_mask(n);
	ssz = stack_size(cpu, r);
	sp = stack_push_at(cpu, r, ssz, r->gpr[X86_RSP], r->rip, n);
	sp_set(r, ssz, sp);
	r->rip = t;
}

void soft_int_ret(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r;
	unsigned n = in->opsize, ssz;
	uint64_t t, sp;

	if (in->opmap == 0 && (in->opcode == 0xca || in->opcode == 0xcb)) {
		int_forward(cpu, in, &soft_handlers_system);
		return;
	}
	r = int_regs(cpu);
	ssz = stack_size(cpu, r);
	sp = r->gpr[X86_RSP];
	t = stack_read_at(cpu, r, ssz, sp, n);
	if (n == 8)
		int_check_target(cpu, t);
	sp += n;
	if (in->nops >= 1)
		sp += (uint64_t)in->op[0].imm & 0xffff;
	sp_set(r, ssz, sp & sz_mask(ssz));
	r->rip = t;
}

INT_INLINE void loop(struct soft_cpu *cpu, const struct soft_insn *in, int zf_want)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned as = in->addrsize;
	uint64_t c = (gpr_rd(r, X86_RCX, as) - 1) & sz_mask(as);
	bool take = c != 0;

	if (take && zf_want >= 0)
		take = soft_lf_cond(int_lazy(cpu), r->rflags, INT_CC_Z) == (bool)zf_want;
	if (take) {
		uint64_t t = r->rip + (uint64_t)in->op[0].imm;

		if (in->opsize == 8)
			int_check_target(cpu, t);
		else
			t &= sz_mask(in->opsize);
		gpr_wr(r, X86_RCX, as, c);
		r->rip = t;
	} else {
		gpr_wr(r, X86_RCX, as, c);
	}
}

void soft_int_loop(struct soft_cpu *cpu, const struct soft_insn *in) { loop(cpu, in, -1); }
void soft_int_loope(struct soft_cpu *cpu, const struct soft_insn *in) { loop(cpu, in, 1); }
void soft_int_loopne(struct soft_cpu *cpu, const struct soft_insn *in) { loop(cpu, in, 0); }

void soft_int_jcxz(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);

	if (gpr_rd(r, X86_RCX, in->addrsize) == 0)
		int_branch(cpu, r, in->opsize, r->rip + (uint64_t)in->op[0].imm);
}
