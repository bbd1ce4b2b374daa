/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the integer-instruction handlers (int_*.c): register
 * and operand access, stack and string addressing, locked
 * read-modify-write. Private to those files.
 */
#ifndef OSPREY_ACCEL_SOFT_INT_PRIV_H
#define OSPREY_ACCEL_SOFT_INT_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <Zydis/Zydis.h>

#include "accel/soft/cpu_internal.h"
#include "accel/soft/exec.h"
#include "accel/soft/flags.h"
#include "accel/soft/int.h"

#define INT_INLINE static inline __attribute__((always_inline))

/*
 * The register file, the lazy flags and the mode straight from struct
 * soft_cpu (cpu_internal.h): the same as soft_regs(), soft_lazy() and
 * soft_code64(), without a call on every instruction.
 */
INT_INLINE struct x86_cpu_state *int_regs(struct soft_cpu *cpu)
{
	return &cpu->s;
}

INT_INLINE struct soft_lazy_flags *int_lazy(struct soft_cpu *cpu)
{
	return &cpu->lazy;
}

INT_INLINE uint64_t sz_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

INT_INLINE uint64_t sz_sign(unsigned size)
{
	return 1ull << (size * 8 - 1);
}

INT_INLINE __attribute__((noreturn)) void int_ud(struct soft_cpu *cpu)
{
	soft_raise(cpu, X86_VEC_UD, -1);
}

INT_INLINE uint64_t gpr_rd(const struct x86_cpu_state *r, unsigned reg, unsigned size)
{
	if (size == 1 && (reg & SOFT_REG_HIGH8))
		return (r->gpr[reg & 0xf] >> 8) & 0xff;
	return r->gpr[reg & 0xf] & sz_mask(size);
}

INT_INLINE void gpr_wr(struct x86_cpu_state *r, unsigned reg, unsigned size, uint64_t v)
{
	uint64_t *g = &r->gpr[reg & 0xf];

	switch (size) {
	case 8:
		*g = v;
		break;
	case 4:
		*g = (uint32_t)v;
		break;
	case 2:
		*g = (*g & ~0xffffull) | (v & 0xffff);
		break;
	default:
		if (reg & SOFT_REG_HIGH8)
			*g = (*g & ~0xff00ull) | ((v & 0xff) << 8);
		else
			*g = (*g & ~0xffull) | (v & 0xff);
		break;
	}
}

/*
 * soft_ea() inline (mmu.c): offset from base + index * scale + disp
 * masked to the address size, plus the segment base (only FS/GS in 64-bit
 * mode; linear addresses wrap at 4 GiB outside it).
 */
INT_INLINE uint64_t int_ea(struct soft_cpu *cpu, const struct soft_insn *in,
			   const struct soft_operand *op)
{
	uint64_t a = soft_ea_sum(cpu, op);

	if (cpu->code64) {
		if (__builtin_expect(in->addrsize == 4, 0))
			a &= 0xffffffffull;
		if (op->seg == X86_FS || op->seg == X86_GS)
			a += cpu->s.seg[op->seg].base;
		return a;
	}
	if (in->addrsize == 2)
		a &= 0xffff;
	return (a + cpu->s.seg[op->seg < X86_NR_SREGS ? op->seg : X86_DS].base) & 0xffffffffull;
}

INT_INLINE uint64_t mem_rd(struct soft_cpu *cpu, uint64_t lin, unsigned size)
{
	uint64_t v = 0;

	/* soft_read() without the hop: CPL 3 accesses are user accesses */
	soft_read_as(cpu, lin, &v, size, cpu->cpl == 3);
	return v;
}

INT_INLINE void mem_wr(struct soft_cpu *cpu, uint64_t lin, unsigned size, uint64_t v)
{
	soft_write_as(cpu, lin, &v, size, cpu->cpl == 3);
}

/*
 * Operand i: GPR and MEM zero-extended from op->size; IMM and REL as the
 * sign- or zero-extended 64-bit immediate (callers mask to their size).
 */
INT_INLINE uint64_t op_rd(struct soft_cpu *cpu, const struct x86_cpu_state *r,
			  const struct soft_insn *in, unsigned i)
{
	const struct soft_operand *o = &in->op[i];

	switch (o->kind) {
	case SOFT_OP_GPR:
		return gpr_rd(r, o->reg, o->size);
	case SOFT_OP_MEM:
		return mem_rd(cpu, int_ea(cpu, in, o), o->size);
	case SOFT_OP_IMM:
	case SOFT_OP_REL:
		return (uint64_t)o->imm;
	default:
		return soft_op_read(cpu, in, i);
	}
}

/* Operand i as a value of `size` bytes: IMM masked, GPR/MEM at that size. */
INT_INLINE uint64_t op_rdn(struct soft_cpu *cpu, const struct x86_cpu_state *r,
			   const struct soft_insn *in, unsigned i, unsigned size)
{
	const struct soft_operand *o = &in->op[i];

	switch (o->kind) {
	case SOFT_OP_GPR:
		return gpr_rd(r, o->reg, size);
	case SOFT_OP_MEM:
		return mem_rd(cpu, int_ea(cpu, in, o), size);
	default:
		return op_rd(cpu, r, in, i) & sz_mask(size);
	}
}

/* Mode: 64-bit code segment? */
INT_INLINE bool int_code64(struct soft_cpu *cpu)
{
	return cpu->code64;
}

/* Base of segment s (0 for ES/CS/SS/DS in 64-bit mode). */
INT_INLINE uint64_t seg_base(struct soft_cpu *cpu, const struct x86_cpu_state *r, unsigned s)
{
	if (s < X86_FS && int_code64(cpu))
		return 0;
	return r->seg[s & 7].base;
}

/* Linear address of seg:off for implicit operands (stack, strings, XLAT). */
INT_INLINE uint64_t lin_addr(struct soft_cpu *cpu, const struct x86_cpu_state *r, unsigned s,
			     uint64_t off)
{
	if (int_code64(cpu))
		return (s < X86_FS ? 0 : r->seg[s].base) + off;
	return (r->seg[s & 7].base + off) & 0xffffffffull;
}

/* Stack address size: 8 in 64-bit mode, else SS.B. */
INT_INLINE unsigned stack_size(struct soft_cpu *cpu, const struct x86_cpu_state *r)
{
	if (int_code64(cpu))
		return 8;
	return r->seg[X86_SS].db ? 4 : 2;
}

/* Writes the stack pointer at the stack's address size. */
INT_INLINE void sp_set(struct x86_cpu_state *r, unsigned ssz, uint64_t sp)
{
	gpr_wr(r, X86_RSP, ssz, sp);
}

/*
 * Writes v (n bytes) below the stack pointer `sp` (not committed); returns
 * the new stack pointer, masked to the stack size.
 */
INT_INLINE uint64_t stack_push_at(struct soft_cpu *cpu, const struct x86_cpu_state *r,
				  unsigned ssz, uint64_t sp, uint64_t v, unsigned n)
{
	uint64_t nsp = (sp - n) & sz_mask(ssz);

	mem_wr(cpu, lin_addr(cpu, r, X86_SS, nsp), n, v);
	return nsp;
}

INT_INLINE uint64_t stack_read_at(struct soft_cpu *cpu, const struct x86_cpu_state *r,
				  unsigned ssz, uint64_t sp, unsigned n)
{
	return mem_rd(cpu, lin_addr(cpu, r, X86_SS, sp & sz_mask(ssz)), n);
}

/* ---- Locked read-modify-write -------------------------------------------- */

/* Plain (non-atomic) access to a host pointer from soft_translate_rmw. */
INT_INLINE uint64_t host_ld(const void *p, unsigned size)
{
	uint64_t v = 0;

	__builtin_memcpy(&v, p, size);
	return v;
}

INT_INLINE void host_st(void *p, unsigned size, uint64_t v)
{
	__builtin_memcpy(p, &v, size);
}

INT_INLINE uint64_t atomic_ld(void *p, unsigned size)
{
	switch (size) {
	case 1: return __atomic_load_n((uint8_t *)p, __ATOMIC_SEQ_CST);
	case 2: return __atomic_load_n((uint16_t *)p, __ATOMIC_SEQ_CST);
	case 4: return __atomic_load_n((uint32_t *)p, __ATOMIC_SEQ_CST);
	default: return __atomic_load_n((uint64_t *)p, __ATOMIC_SEQ_CST);
	}
}

/* Compare-and-swap; on failure *old gets the current value. */
INT_INLINE bool atomic_cas(void *p, uint64_t *old, uint64_t nv, unsigned size)
{
	bool ok;

	switch (size) {
	case 1: {
		uint8_t o = (uint8_t)*old;
		ok = __atomic_compare_exchange_n((uint8_t *)p, &o, (uint8_t)nv, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		break;
	}
	case 2: {
		uint16_t o = (uint16_t)*old;
		ok = __atomic_compare_exchange_n((uint16_t *)p, &o, (uint16_t)nv, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		break;
	}
	case 4: {
		uint32_t o = (uint32_t)*old;
		ok = __atomic_compare_exchange_n((uint32_t *)p, &o, (uint32_t)nv, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		*old = o;
		break;
	}
	default:
		ok = __atomic_compare_exchange_n((uint64_t *)p, old, nv, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST);
		break;
	}
	return ok;
}


/*
 * Read-modify-write of size bytes at lin with one translation for writing
 * (so the read faults as a write, as on hardware): a holds the old value,
 * res = EXPR (of a). LOCK: an atomic compare-and-swap loop, or the slow
 * lock for MMIO and split accesses (soft_translate_rmw probed them).
 */
#define INT_RMW(cpu, lin, size, lock, a, res, EXPR)                                      \
	do {                                                                              \
		void *p_ = soft_translate_rmw((cpu), (lin), (size));                      \
		if (p_ && (lock)) {                                                       \
			(a) = atomic_ld(p_, (size));                                      \
			do                                                                \
				(res) = (EXPR);                                           \
			while (!atomic_cas(p_, &(a), (res), (size)));                     \
		} else if (p_) {                                                          \
			(a) = host_ld(p_, (size));                                        \
			(res) = (EXPR);                                                   \
			host_st(p_, (size), (res));                                       \
		} else {                                                                  \
			if (lock)                                                         \
				soft_lock_slow();                                         \
			(a) = mem_rd((cpu), (lin), (size));                               \
			(res) = (EXPR);                                                   \
			mem_wr((cpu), (lin), (size), (res));                              \
			if (lock)                                                         \
				soft_unlock_slow();                                       \
		}                                                                         \
	} while (0)

/* True when the instruction has LOCK; #UD unless `dest` is memory. */
INT_INLINE bool int_locked(struct soft_cpu *cpu, const struct soft_insn *in,
			   const struct soft_operand *dest)
{
	if (__builtin_expect(!(in->flags & SOFT_INSN_LOCK), 1))
		return false;
	if (dest->kind != SOFT_OP_MEM)
		int_ud(cpu);
	return true;
}

/* The handler table t has for mnemonic, or NULL. */
soft_handler int_lookup(const struct soft_handler_table *t, unsigned mnemonic);

/* Runs the handler the table `t` has for in->mnemonic (far and system forms). */
void int_forward(struct soft_cpu *cpu, const struct soft_insn *in,
		 const struct soft_handler_table *t);

/* Branch target check: #GP(0) for a non-canonical target in 64-bit mode. */
INT_INLINE void int_check_target(struct soft_cpu *cpu, uint64_t t)
{
	if ((uint64_t)((int64_t)(t << 16) >> 16) != t)
		soft_raise(cpu, X86_VEC_GP, 0);
}

/* Sets RIP to a near branch target of operand size `size`. */
INT_INLINE void int_branch(struct soft_cpu *cpu, struct x86_cpu_state *r, unsigned size,
			   uint64_t t)
{
	if (size == 8)
		int_check_target(cpu, t);
	else
		t &= sz_mask(size);
	r->rip = t;
}

/* Flags materialised into rflags (the lazy record cleared), for eager updates. */
INT_INLINE uint64_t int_flags(struct x86_cpu_state *r, struct soft_lazy_flags *lf)
{
	if (lf->op != SOFT_LF_NONE) {
		r->rflags = soft_lf_rflags(lf, r->rflags);
		lf->op = SOFT_LF_NONE;
	}
	return r->rflags;
}

/* Condition codes under Zydis' names, for the Jcc/SETcc/CMOVcc handlers. */
enum int_cc {
	INT_CC_O, INT_CC_NO, INT_CC_B, INT_CC_NB, INT_CC_Z, INT_CC_NZ, INT_CC_BE, INT_CC_NBE,
	INT_CC_S, INT_CC_NS, INT_CC_P, INT_CC_NP, INT_CC_L, INT_CC_NL, INT_CC_LE, INT_CC_NLE,
};

/*
 * Segment of an implicit memory operand with base register `base` (DS:rSI
 * of MOVS/CMPS/LODS, DS:rBX of XLAT): the segment the core recorded for it
 * when it put the operand in op[], else DS.
 */
INT_INLINE unsigned int_implicit_seg(const struct soft_insn *in, unsigned base)
{
	for (unsigned i = 0; i < in->nops && i < 4; i++)
		if (in->op[i].kind == SOFT_OP_MEM && in->op[i].base == base)
			return in->op[i].seg & 7;
	return X86_DS;
}

#endif
