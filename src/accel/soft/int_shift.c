// SPDX-License-Identifier: Apache-2.0
/*
 * Shifts and rotates of the software CPU: SHL/SAL SHR SAR (lazy flags),
 * ROL ROR RCL RCR (CF and OF only, computed at once), SHLD SHRD. Counts
 * are masked to 5 bits (6 with 64-bit operands); a masked count of 0
 * changes no flag. Flags Intel leaves undefined (OF for counts above 1,
 * AF) get the values of the formulas for count 1 / zero.
 */
#include "accel/soft/int_priv.h"

/* Reads the destination (operand 0) without writing: GPR value or memory at *lin. */
INT_INLINE uint64_t dst_rd(struct soft_cpu *cpu, const struct x86_cpu_state *r,
			   const struct soft_insn *in, uint64_t *lin)
{
	const struct soft_operand *d = &in->op[0];

	if (d->kind == SOFT_OP_GPR)
		return gpr_rd(r, d->reg, d->size);
	*lin = int_ea(cpu, in, d);
	soft_probe_write(cpu, *lin, d->size); /* read with write intent */
	return mem_rd(cpu, *lin, d->size);
}

INT_INLINE void dst_wr(struct soft_cpu *cpu, struct x86_cpu_state *r, const struct soft_insn *in,
		       uint64_t lin, uint64_t v)
{
	const struct soft_operand *d = &in->op[0];

	if (d->kind == SOFT_OP_GPR)
		gpr_wr(r, d->reg, d->size, v);
	else
		mem_wr(cpu, lin, d->size, v);
}

enum sh_kind { S_SHL, S_SHR, S_SAR };

INT_INLINE void shift(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size, bits = size * 8;
	uint64_t lin = 0, a, res;
	unsigned c;

	if (in->flags & SOFT_INSN_LOCK)
		int_ud(cpu);
	c = (unsigned)op_rd(cpu, r, in, 1) & (size == 8 ? 0x3f : 0x1f);
	a = dst_rd(cpu, r, in, &lin);
	if (c == 0) {
		if (d->kind == SOFT_OP_GPR)
			gpr_wr(r, d->reg, size, a); /* a 32-bit destination is still zero-extended */
		return;
	}
	switch (k) {
	case S_SHL: res = c >= bits ? 0 : a << c; break;
	case S_SHR: res = c >= bits ? 0 : a >> c; break;
	default: res = (uint64_t)(soft_lf_sext(a, size) >> (c >= bits ? bits - 1 : c)); break;
	}
	res &= sz_mask(size);
	dst_wr(cpu, r, in, lin, res);
	soft_lf_set(int_lazy(cpu), k == S_SHL ? SOFT_LF_SHL : k == S_SHR ? SOFT_LF_SHR : SOFT_LF_SAR,
		    size, a, c, res);
}

void soft_int_shl(struct soft_cpu *cpu, const struct soft_insn *in) { shift(cpu, in, S_SHL); }
void soft_int_shr(struct soft_cpu *cpu, const struct soft_insn *in) { shift(cpu, in, S_SHR); }
void soft_int_sar(struct soft_cpu *cpu, const struct soft_insn *in) { shift(cpu, in, S_SAR); }

enum rot_kind { R_ROL, R_ROR, R_RCL, R_RCR };

/* Sets CF and OF in the materialised flags. */
static void set_cf_of(struct x86_cpu_state *r, struct soft_lazy_flags *lf, bool cf, bool of)
{
	uint64_t f = int_flags(r, lf) & ~(uint64_t)(X86_FLAGS_CF | X86_FLAGS_OF);

	if (cf)
		f |= X86_FLAGS_CF;
	if (of)
		f |= X86_FLAGS_OF;
	r->rflags = f;
}

INT_INLINE void rotate(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	struct soft_lazy_flags *lf = int_lazy(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size, bits = size * 8;
	uint64_t m = sz_mask(size), sign = sz_sign(size);
	uint64_t lin = 0, a, res;
	unsigned c, t;
	bool cf, of;

	if (in->flags & SOFT_INSN_LOCK)
		int_ud(cpu);
	c = (unsigned)op_rd(cpu, r, in, 1) & (size == 8 ? 0x3f : 0x1f);
	a = dst_rd(cpu, r, in, &lin);
	if (c == 0) {
		if (d->kind == SOFT_OP_GPR)
			gpr_wr(r, d->reg, size, a);
		return;
	}
	switch (k) {
	case R_ROL:
		t = c & (bits - 1);
		res = t ? ((a << t) | (a >> (bits - t))) & m : a;
		cf = res & 1;
		of = !!(res & sign) ^ cf;
		break;
	case R_ROR:
		t = c & (bits - 1);
		res = t ? ((a >> t) | (a << (bits - t))) & m : a;
		cf = !!(res & sign);
		of = !!(res & sign) ^ !!(res & (sign >> 1));
		break;
	default: {
		unsigned __int128 x, xm = ((unsigned __int128)1 << (bits + 1)) - 1;
		bool cf0 = soft_lf_cf(lf, r->rflags);

		t = c % (bits + 1);
		if (k == R_RCR)
			t = t ? bits + 1 - t : 0;
		x = ((unsigned __int128)cf0 << bits) | a;
		if (t)
			x = ((x << t) | (x >> (bits + 1 - t))) & xm;
		res = (uint64_t)x & m;
		cf = (x >> bits) & 1;
		if (k == R_RCL)
			of = !!(res & sign) ^ cf;
		else
			of = !!(res & sign) ^ !!(res & (sign >> 1));
		break;
	}
	}
	dst_wr(cpu, r, in, lin, res);
	set_cf_of(r, lf, cf, of);
}

void soft_int_rol(struct soft_cpu *cpu, const struct soft_insn *in) { rotate(cpu, in, R_ROL); }
void soft_int_ror(struct soft_cpu *cpu, const struct soft_insn *in) { rotate(cpu, in, R_ROR); }
void soft_int_rcl(struct soft_cpu *cpu, const struct soft_insn *in) { rotate(cpu, in, R_RCL); }
void soft_int_rcr(struct soft_cpu *cpu, const struct soft_insn *in) { rotate(cpu, in, R_RCR); }

/*
 * SHLD/SHRD: dest shifted with bits of src coming in. For 16-bit operands
 * with counts of 16..31 (undefined) the 48-bit src:dest:src pattern is
 * shifted.
 */
static void shxd(struct soft_cpu *cpu, const struct soft_insn *in, bool left)
{
	struct x86_cpu_state *r = int_regs(cpu);
	const struct soft_operand *d = &in->op[0];
	unsigned size = d->size, bits = size * 8;
	uint64_t m = sz_mask(size), sign = sz_sign(size);
	uint64_t lin = 0, a, s, res;
	unsigned c;
	struct soft_lazy_flags *lf;

	if (in->flags & SOFT_INSN_LOCK)
		int_ud(cpu);
	c = (unsigned)op_rd(cpu, r, in, 2) & (size == 8 ? 0x3f : 0x1f);
	s = gpr_rd(r, in->op[1].reg, size);
	a = dst_rd(cpu, r, in, &lin);
	if (c == 0) {
		if (d->kind == SOFT_OP_GPR)
			gpr_wr(r, d->reg, size, a);
		return;
	}
	if (size == 2) {
		/* 48 bits: dest:src:dest for SHLD, dest:src:dest from the right for SHRD */
		if (left)
			res = (((a << 32) | (s << 16) | a) >> (32 - c)) & m;
		else
			res = ((a | (s << 16) | (a << 32)) >> c) & m;
	} else if (left) {
		res = ((a << c) | (s >> (bits - c))) & m;
	} else {
		res = ((a >> c) | (s << (bits - c))) & m;
	}
	dst_wr(cpu, r, in, lin, res);
	lf = int_lazy(cpu);
	if (left) {
		soft_lf_set(lf, SOFT_LF_SHL, size, a, c, res);
	} else {
		bool cf = c <= bits ? (a >> (c - 1)) & 1 : (s >> (c - 1 - bits)) & 1;
		uint64_t f;

		soft_lf_set(lf, SOFT_LF_LOGIC, size, a, c, res);
		f = int_flags(r, lf) & ~(uint64_t)(X86_FLAGS_CF | X86_FLAGS_OF);
		if (cf)
			f |= X86_FLAGS_CF;
		if ((res ^ a) & sign)
			f |= X86_FLAGS_OF;
		r->rflags = f;
	}
}

void soft_int_shld(struct soft_cpu *cpu, const struct soft_insn *in) { shxd(cpu, in, true); }
void soft_int_shrd(struct soft_cpu *cpu, const struct soft_insn *in) { shxd(cpu, in, false); }
