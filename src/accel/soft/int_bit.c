// SPDX-License-Identifier: Apache-2.0
/*
 * Bit instructions of the software CPU: BT BTS BTR BTC (register and
 * memory forms; a register bit offset on a memory operand addresses
 * beyond it, signed), BSF BSR (destination unchanged on a zero source),
 * POPCNT LZCNT TZCNT, BSWAP. Flags Intel leaves undefined keep their
 * values.
 */
#include "accel/soft/int_priv.h"

/* Sets the flags in `set` from `val`, leaving the others as they are. */
static void put_flags(struct x86_cpu_state *r, struct soft_lazy_flags *lf, uint64_t set,
		      uint64_t val)
{
	r->rflags = (int_flags(r, lf) & ~set) | (val & set);
}

enum bt_kind { B_T, B_S, B_R, B_C };

INT_INLINE uint64_t bt_calc(unsigned k, uint64_t v, uint64_t bit)
{
	switch (k) {
	case B_S: return v | bit;
	case B_R: return v & ~bit;
	case B_C: return v ^ bit;
	default: return v;
	}
}

INT_INLINE void bt(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size, bits = size * 8;
	uint64_t off = op_rd(cpu, r, in, 1);
	uint64_t v, bit;

	if (d->kind == SOFT_OP_GPR) {
		if (in->flags & SOFT_INSN_LOCK)
			int_ud(cpu);
		v = gpr_rd(r, d->reg, size);
		bit = 1ull << (off & (bits - 1));
		if (k != B_T)
			gpr_wr(r, d->reg, size, bt_calc(k, v, bit));
	} else {
		uint64_t lin = int_ea(cpu, in, d);

		if (in->op[1].kind == SOFT_OP_GPR) {
			int64_t so = soft_lf_sext(off, size);

			lin += (uint64_t)((so >> (size == 8 ? 6 : size == 4 ? 5 : 4)) * (int64_t)size);
			if (!int_code64(cpu))
				lin &= 0xffffffffull;
		}
		bit = 1ull << (off & (bits - 1));
		if (k == B_T) {
			if (in->flags & SOFT_INSN_LOCK)
				int_ud(cpu);
			v = mem_rd(cpu, lin, size);
		} else {
			uint64_t nv;

			INT_RMW(cpu, lin, size, in->flags & SOFT_INSN_LOCK, v, nv, bt_calc(k, v, bit));
		}
	}
	put_flags(r, int_lazy(cpu), X86_FLAGS_CF, (v & bit) ? X86_FLAGS_CF : 0);
}

void soft_int_bt(struct soft_cpu *cpu, const struct soft_insn *in) { bt(cpu, in, B_T); }
void soft_int_bts(struct soft_cpu *cpu, const struct soft_insn *in) { bt(cpu, in, B_S); }
void soft_int_btr(struct soft_cpu *cpu, const struct soft_insn *in) { bt(cpu, in, B_R); }
void soft_int_btc(struct soft_cpu *cpu, const struct soft_insn *in) { bt(cpu, in, B_C); }

static void bsx(struct soft_cpu *cpu, const struct soft_insn *in, bool rev)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size;
	uint64_t s = op_rdn(cpu, r, in, 1, size);

	if (s == 0) {
		put_flags(r, int_lazy(cpu), X86_FLAGS_ZF, X86_FLAGS_ZF);
		return;
	}
	gpr_wr(r, in->op[0].reg, size, rev ? 63 - __builtin_clzll(s) : __builtin_ctzll(s));
	put_flags(r, int_lazy(cpu), X86_FLAGS_ZF, 0);
}

void soft_int_bsf(struct soft_cpu *cpu, const struct soft_insn *in) { bsx(cpu, in, false); }
void soft_int_bsr(struct soft_cpu *cpu, const struct soft_insn *in) { bsx(cpu, in, true); }

void soft_int_popcnt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size;
	uint64_t s = op_rdn(cpu, r, in, 1, size);

	gpr_wr(r, in->op[0].reg, size, (uint64_t)__builtin_popcountll(s));
	put_flags(r, int_lazy(cpu), SOFT_FLAGS_ARITH, s ? 0 : X86_FLAGS_ZF);
}

static void xzcnt(struct soft_cpu *cpu, const struct soft_insn *in, bool lead)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned size = in->op[0].size, bits = size * 8;
	uint64_t s = op_rdn(cpu, r, in, 1, size);
	uint64_t n;

	if (s == 0)
		n = bits;
	else if (lead)
		n = (uint64_t)__builtin_clzll(s) - (64 - bits);
	else
		n = (uint64_t)__builtin_ctzll(s);
	gpr_wr(r, in->op[0].reg, size, n);
	put_flags(r, int_lazy(cpu), X86_FLAGS_CF | X86_FLAGS_ZF,
		  (s == 0 ? X86_FLAGS_CF : 0) | (n == 0 ? X86_FLAGS_ZF : 0));
}

/*
 * F3 0F BD / F3 0F BC are LZCNT / TZCNT only on CPUs with ABM / BMI1; on
 * the others (the soft CPU's CPUID: arch/x86/cpuid_soft.c) the prefix is
 * ignored and they run as BSR / BSF, which compilers rely on ("rep bsf").
 */
#ifndef SOFT_INT_HAVE_LZCNT_TZCNT
#define SOFT_INT_HAVE_LZCNT_TZCNT 0
#endif

void soft_int_lzcnt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (SOFT_INT_HAVE_LZCNT_TZCNT)
		xzcnt(cpu, in, true);
	else
		bsx(cpu, in, true);
}

void soft_int_tzcnt(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (SOFT_INT_HAVE_LZCNT_TZCNT)
		xzcnt(cpu, in, false);
	else
		bsx(cpu, in, false);
}

void soft_int_bswap(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned reg = in->op[0].reg, size = in->op[0].size;
	uint64_t v = gpr_rd(r, reg, size);

	if (size == 8)
		v = __builtin_bswap64(v);
	else if (size == 4)
		v = __builtin_bswap32((uint32_t)v);
	else
		v = 0; /* undefined; Intel cores clear the 16-bit register */
	gpr_wr(r, reg, size, v);
}
