// SPDX-License-Identifier: Apache-2.0
/*
 * Stack instructions of the software CPU: PUSH and POP (registers,
 * memory, immediates, PUSH of a segment register; POP of one goes to the
 * system handlers), PUSHA/PUSHAD, POPA/POPAD, ENTER, LEAVE. The stack
 * address size is 64 bits in 64-bit mode, else SS.B; the operand size is
 * the instruction's (16-bit pushes exist in every mode).
 */
#include "accel/soft/int_priv.h"

void soft_int_push(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *o = &in->op[0];
	unsigned n = in->opsize, ssz = stack_size(cpu, r);
	uint64_t v, sp;

	switch (o->kind) {
	case SOFT_OP_GPR:
		v = gpr_rd(r, o->reg, n);
		break;
	case SOFT_OP_SREG:
		/* a 16-bit write; the stack pointer moves by the operand size */
		sp = (r->gpr[X86_RSP] - n) & sz_mask(ssz);
		mem_wr(cpu, lin_addr(cpu, r, X86_SS, sp), 2, r->seg[o->reg & 7].selector);
		sp_set(r, ssz, sp);
		return;
	default:
		v = op_rdn(cpu, r, in, 0, n);
		break;
	}
	sp = stack_push_at(cpu, r, ssz, r->gpr[X86_RSP], v, n);
	sp_set(r, ssz, sp);
}

void soft_int_pop(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *o = &in->op[0];
	unsigned n = in->opsize, ssz;
	uint64_t v, sp, nsp;

	if (o->kind == SOFT_OP_SREG) {
		int_forward(cpu, in, &soft_handlers_system);
		return;
	}
	ssz = stack_size(cpu, r);
	sp = r->gpr[X86_RSP];
	v = stack_read_at(cpu, r, ssz, sp, n);
	nsp = (sp + n) & sz_mask(ssz);
	if (o->kind == SOFT_OP_GPR) {
		sp_set(r, ssz, nsp);
		gpr_wr(r, o->reg, n, v);
	} else {
		uint64_t lin;

		/* an RSP-based address uses the incremented stack pointer */
		sp_set(r, ssz, nsp);
		lin = int_ea(cpu, in, o);
		r->gpr[X86_RSP] = sp;
		mem_wr(cpu, lin, n, v);
		sp_set(r, ssz, nsp);
	}
}

void soft_int_pusha(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned n = in->opsize, ssz = stack_size(cpu, r);
	uint64_t sp = r->gpr[X86_RSP], osp = sp;

	for (unsigned i = 0; i < 8; i++)
		sp = stack_push_at(cpu, r, ssz, sp, i == X86_RSP ? osp : r->gpr[i], n);
	sp_set(r, ssz, sp);
}

void soft_int_popa(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned n = in->opsize, ssz = stack_size(cpu, r);
	uint64_t sp = r->gpr[X86_RSP];
	uint64_t v[8];

	for (unsigned i = 0; i < 8; i++) {
		v[7 - i] = stack_read_at(cpu, r, ssz, sp, n);
		sp += n;
	}
	for (unsigned i = 0; i < 8; i++)
		if (i != X86_RSP)
			gpr_wr(r, i, n, v[i]);
	sp_set(r, ssz, sp & sz_mask(ssz));
}

void soft_int_enter(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned n = in->opsize, ssz = stack_size(cpu, r);
	uint64_t alloc = (uint64_t)in->op[0].imm & 0xffff;
	unsigned level = (unsigned)in->op[1].imm & 31;
	uint64_t sp, frame, bp = r->gpr[X86_RBP];

	sp = stack_push_at(cpu, r, ssz, r->gpr[X86_RSP], bp & sz_mask(n), n);
	frame = sp;
	if (level > 0) {
		for (unsigned i = 1; i < level; i++) {
			uint64_t v;

			bp = (bp - n) & sz_mask(ssz);
			v = stack_read_at(cpu, r, ssz, bp, n);
			sp = stack_push_at(cpu, r, ssz, sp, v, n);
		}
		sp = stack_push_at(cpu, r, ssz, sp, frame, n);
	}
	sp = (sp - alloc) & sz_mask(ssz);
	gpr_wr(r, X86_RBP, n, frame);
	sp_set(r, ssz, sp);
}

void soft_int_leave(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned n = in->opsize, ssz = stack_size(cpu, r);
	uint64_t sp = r->gpr[X86_RBP] & sz_mask(ssz);
	uint64_t v = stack_read_at(cpu, r, ssz, sp, n);

	gpr_wr(r, X86_RBP, n, v);
	sp_set(r, ssz, (sp + n) & sz_mask(ssz));
}
