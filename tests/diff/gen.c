// SPDX-License-Identifier: Apache-2.0
/*
 * The differential tests' case generator: random initial state (edge-case
 * heavy GPR, XMM, x87 values, RFLAGS, MXCSR, data buffer) and a short
 * sequence of instructions, encoded with Zydis' encoder from a table of
 * forms per family (integer, SSE/SSE2, x87). It tracks which arithmetic
 * flags the sequence leaves undefined (SDM), and puts a flag-defining
 * CMP before any instruction that would read an undefined flag, so every
 * compared bit is architecturally defined. Everything is a pure function
 * of the case seed.
 */
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "difftest.h"

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_ALL DIFF_ARITH_FLAGS

struct gen {
	struct diff_case *c;
	uint64_t rng;
	uint32_t undef; /* arithmetic flags currently undefined */
	unsigned x87_depth;
	bool failed;
	bool no_riprel;
	bool lock_next; /* put a LOCK prefix on the next encoded instruction (#UD tests) */
	bool compat;	/* 32-bit code in compatibility mode */
};

/* ---- randomness ---------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t diff_case_seed(uint64_t seed, uint64_t index)
{
	return mix64(mix64(seed) + index * 0x9e3779b97f4a7c15ULL);
}

static uint64_t rnd(struct gen *g)
{
	g->rng += 0x9e3779b97f4a7c15ULL;
	return mix64(g->rng);
}

static unsigned below(struct gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static bool chance(struct gen *g, unsigned one_in)
{
	return below(g, one_in) == 0;
}

static const uint64_t int_edges[] = {
	0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 0x7f, 0x80, 0x81, 0xff, 0x100,
	0x7fff, 0x8000, 0x8001, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001,
	0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
	0x8000000000000001ULL, 0xfffffffffffffffeULL, 0xffffffffffffffffULL,
	0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL, 0x00000000ffff0000ULL,
};

static uint64_t sext(uint64_t v, unsigned bits)
{
	if (bits >= 64)
		return v;
	v &= (1ULL << bits) - 1;
	if (v >> (bits - 1))
		v |= ~0ULL << bits;
	return v;
}

static uint64_t edge_value(struct gen *g)
{
	uint64_t v;

	switch (below(g, 6)) {
	case 0:
	case 1:
		v = int_edges[below(g, sizeof(int_edges) / sizeof(int_edges[0]))];
		break;
	case 2:
		v = rnd(g) & 0xff;
		break;
	default:
		v = rnd(g);
		break;
	}
	if (chance(g, 4)) {
		static const unsigned w[] = { 8, 16, 32 };
		v = sext(v, w[below(g, 3)]);
	}
	if (chance(g, 8))
		v = -v;
	return v;
}

/* Float and double special values (bit patterns). */
static const uint32_t f32_edges[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
	0xffc00000, 0x7fa00000, 0xff800001, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff,
	0x3f000000, 0x3fc00000, 0x40200000, 0xbfc00000, 0x4f000000, 0xcf000000, 0x4effffff,
	0x5f000000, 0xdf000000, 0x3effffff, 0x4b800000,
};
static const uint64_t f64_edges[] = {
	0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL,
	0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000000ULL,
	0xfff8000000000000ULL, 0x7ff4000000000000ULL, 0xfff0000000000001ULL, 1,
	0x800fffffffffffffULL, 0x0010000000000000ULL, 0x7fefffffffffffffULL,
	0x3fe0000000000000ULL, 0x3ff8000000000000ULL, 0x4004000000000000ULL,
	0xbff8000000000000ULL, 0x41e0000000000000ULL, 0xc1e0000000000000ULL,
	0x41dfffffffc00000ULL, 0x43e0000000000000ULL, 0xc3e0000000000000ULL,
	0x3fdfffffffffffffULL, 0x4330000000000000ULL, 0x36a0000000000000ULL,
	0x47efffffe0000000ULL, 0x3810000000000000ULL,
};

static uint32_t f32_value(struct gen *g)
{
	uint32_t v;

	if (chance(g, 2))
		return f32_edges[below(g, sizeof(f32_edges) / sizeof(f32_edges[0]))];
	v = (uint32_t)rnd(g);
	if (chance(g, 2)) /* a moderate exponent */
		v = (v & 0x807fffff) | ((uint32_t)(120 + below(g, 40)) << 23);
	return v;
}

static uint64_t f64_value(struct gen *g)
{
	uint64_t v;

	if (chance(g, 2))
		return f64_edges[below(g, sizeof(f64_edges) / sizeof(f64_edges[0]))];
	v = rnd(g);
	if (chance(g, 2))
		v = (v & 0x800fffffffffffffULL) | ((uint64_t)(1000 + below(g, 60)) << 52);
	return v;
}

static void fill_vec(struct gen *g, uint8_t *p, unsigned len)
{
	unsigned kind = below(g, 4);

	for (unsigned i = 0; i < len;) {
		if (kind == 0 && len - i >= 4) {
			uint32_t v = f32_value(g);
			memcpy(p + i, &v, 4);
			i += 4;
		} else if (kind == 1 && len - i >= 8) {
			uint64_t v = f64_value(g);
			memcpy(p + i, &v, 8);
			i += 8;
		} else if (kind == 2 && len - i >= 8) {
			uint64_t v = edge_value(g);
			memcpy(p + i, &v, 8);
			i += 8;
		} else {
			p[i++] = (uint8_t)rnd(g);
		}
	}
}

/* ---- emitting ------------------------------------------------------------ */

static bool room(struct gen *g, unsigned n)
{
	return g->c->ninsns < DIFF_MAX_INSNS && g->c->code_len + n <= DIFF_CODE_MAX - 16;
}

static bool emit_raw(struct gen *g, const uint8_t *b, unsigned n)
{
	struct diff_case *c = g->c;

	if (!room(g, n)) {
		g->failed = true;
		return false;
	}
	c->undef_before[c->ninsns] = g->undef;
	c->fsw_before[c->ninsns] = c->fsw_mask;
	c->insn_off[c->ninsns++] = (uint16_t)c->code_len;
	memcpy(c->code + c->code_len, b, n);
	c->code_len += n;
	return true;
}

static void req_init(ZydisEncoderRequest *r, ZydisMnemonic mn)
{
	memset(r, 0, sizeof(*r));
	r->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	r->allowed_encodings = ZYDIS_ENCODABLE_ENCODING_LEGACY;
	r->mnemonic = mn;
}

static bool emit(struct gen *g, ZydisEncoderRequest *r)
{
	struct diff_case *c = g->c;
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize len = sizeof(buf);

	if (!room(g, ZYDIS_MAX_INSTRUCTION_LENGTH)) {
		g->failed = true;
		return false;
	}
	if (g->compat)
		r->machine_mode = ZYDIS_MACHINE_MODE_LONG_COMPAT_32;
	if (g->lock_next) {
		g->lock_next = false;
		buf[0] = 0xf0;
		len = sizeof(buf) - 1;
		if (ZYAN_FAILED(ZydisEncoderEncodeInstructionAbsolute(r, buf + 1, &len,
								       c->base + c->code_len + 1)))
			return false;
		return emit_raw(g, buf, (unsigned)len + 1);
	}
	if (ZYAN_FAILED(ZydisEncoderEncodeInstructionAbsolute(r, buf, &len,
							       c->base + c->code_len)))
		return false;
	return emit_raw(g, buf, (unsigned)len);
}

static ZydisEncoderOperand *opnd(ZydisEncoderRequest *r)
{
	return &r->operands[r->operand_count++];
}

static void op_reg(ZydisEncoderRequest *r, ZydisRegister reg)
{
	ZydisEncoderOperand *o = opnd(r);

	o->type = ZYDIS_OPERAND_TYPE_REGISTER;
	o->reg.value = reg;
}

static void op_imm(ZydisEncoderRequest *r, uint64_t v)
{
	ZydisEncoderOperand *o = opnd(r);

	o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o->imm.u = v;
}

/* GPR number (0-15) and size in bytes to a Zydis register; high8: AH..BH. */
static ZydisRegister gpr(unsigned size, unsigned n, bool high8)
{
	switch (size) {
	case 1:
		if (high8)
			return (ZydisRegister)(ZYDIS_REGISTER_AH + (n & 3));
		if (n < 4)
			return (ZydisRegister)(ZYDIS_REGISTER_AL + n);
		if (n < 8)
			return (ZydisRegister)(ZYDIS_REGISTER_SPL + n - 4);
		return (ZydisRegister)(ZYDIS_REGISTER_R8B + n - 8);
	case 2:
		return (ZydisRegister)(ZYDIS_REGISTER_AX + n);
	case 4:
		return (ZydisRegister)(ZYDIS_REGISTER_EAX + n);
	default:
		return (ZydisRegister)(ZYDIS_REGISTER_RAX + n);
	}
}

/* Any GPR but RSP (compatibility mode: only the first eight). */
static unsigned pick_n(struct gen *g)
{
	unsigned n = below(g, g->compat ? 7 : 15);

	return n >= X86_RSP ? n + 1 : n;
}

static ZydisRegister pick_gpr(struct gen *g, unsigned size)
{
	if (size == 1 && chance(g, 5))
		return gpr(1, below(g, 4), true);
	return gpr(size, pick_n(g), false);
}

static ZydisRegister pick_xmm(struct gen *g)
{
	return (ZydisRegister)(ZYDIS_REGISTER_XMM0 + below(g, 16));
}

static bool emit_mov_imm(struct gen *g, unsigned n, uint64_t v)
{
	ZydisEncoderRequest r;

	req_init(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, gpr(g->compat ? 4 : 8, n, false));
	op_imm(&r, g->compat ? (uint32_t)v : v);
	return emit(g, &r);
}

/* Registers usable as address base/index: never an implicit operand of a form here. */
static const uint8_t addr_regs[] = { X86_RBX, X86_RBP, X86_R8, X86_R9, X86_R10, X86_R11,
				     X86_R12, X86_R13, X86_R14, X86_R15 };

static unsigned pick_addr_reg(struct gen *g)
{
	return addr_regs[below(g, g->compat ? 2 : sizeof(addr_regs))];
}

/* The register of an address: 64-bit, or 32-bit in compatibility mode. */
static ZydisRegister areg(const struct gen *g, unsigned n)
{
	return gpr(g->compat ? 4 : 8, n, false);
}

/*
 * A memory operand of size bytes inside the data buffer; align: required
 * alignment (1 = any). May emit MOVs that set up base and index registers.
 */
static bool op_mem(struct gen *g, ZydisEncoderRequest *r, unsigned size, unsigned align)
{
	ZydisEncoderOperand *o;
	uint64_t off, addr;
	unsigned span = size < 16 ? 16 : size;

	off = below(g, DIFF_DATA_SIZE - span);
	if (align > 1 && !chance(g, 64))
		off &= ~(uint64_t)(align - 1);
	else if (chance(g, 16))
		off = DIFF_DATA_SIZE - 1 - below(g, size); /* crosses into the stack page */
	addr = DIFF_DATA_VA + off;
	if (chance(g, 48)) /* from an unmapped page into the data, or out of the stack page: #PF */
		addr = chance(g, 2) ? DIFF_DATA_VA - 1 - below(g, size) :
				      DIFF_STACK_VA + 4096 - 1 - below(g, size);

	ZydisEncoderOperand m = { .type = ZYDIS_OPERAND_TYPE_MEMORY };
	m.mem.size = (ZyanU16)size;
	m.mem.base = ZYDIS_REGISTER_NONE;
	m.mem.index = ZYDIS_REGISTER_NONE;
	switch (below(g, 4)) {
	case 0:
		if (!g->no_riprel && !g->compat) {
			m.mem.base = ZYDIS_REGISTER_RIP;
			m.mem.displacement = (ZyanI64)addr;
			break;
		}
		__attribute__((fallthrough));
	case 1:
		m.mem.displacement = (ZyanI64)addr;
		break;
	case 2: {
		unsigned b = pick_addr_reg(g);
		int64_t disp = chance(g, 2) ? (int64_t)below(g, 256) - 128 : (int64_t)below(g, 1 << 20) - (1 << 19);

		if (!emit_mov_imm(g, b, addr - (uint64_t)disp))
			return false;
		m.mem.base = areg(g, b);
		m.mem.displacement = disp;
		break;
	}
	default: {
		unsigned b = pick_addr_reg(g);
		unsigned x = pick_addr_reg(g);
		unsigned scale = 1u << below(g, 4);
		int64_t idx = (int64_t)below(g, 64) - 32;
		int64_t disp = (int64_t)below(g, 256) - 128;

		if (x == b) {
			scale = 1;
			/* [b + b + disp]: b = (addr - disp) / 2 when even */
			if ((addr - (uint64_t)disp) & 1)
				disp++;
			if (!emit_mov_imm(g, b, (addr - (uint64_t)disp) / 2))
				return false;
		} else {
			if (!emit_mov_imm(g, x, (uint64_t)idx))
				return false;
			if (!emit_mov_imm(g, b, addr - (uint64_t)disp - (uint64_t)idx * scale))
				return false;
		}
		m.mem.base = areg(g, b);
		m.mem.index = areg(g, x);
		m.mem.scale = (ZyanU8)scale;
		m.mem.displacement = disp;
		break;
	}
	}
	if (chance(g, 12)) {
		/* A segment override: ignored in 64-bit mode except FS/GS (GS base 0 here). */
		static const ZyanU64 segs[] = {
			ZYDIS_ATTRIB_HAS_SEGMENT_ES, ZYDIS_ATTRIB_HAS_SEGMENT_CS,
			ZYDIS_ATTRIB_HAS_SEGMENT_SS, ZYDIS_ATTRIB_HAS_SEGMENT_DS,
			ZYDIS_ATTRIB_HAS_SEGMENT_GS,
		};
		r->prefixes |= segs[below(g, 5)];
	}
	o = opnd(r);
	*o = m;
	return true;
}

/* ---- flags --------------------------------------------------------------- */

static void flags_written(struct gen *g, uint32_t written, uint32_t undefined)
{
	g->undef = (g->undef & ~written) | undefined;
}

/* Before an instruction that reads flags: make them defined with a CMP. */
static void flags_read(struct gen *g, uint32_t reads)
{
	ZydisEncoderRequest r;

	if (!(g->undef & reads))
		return;
	req_init(&r, ZYDIS_MNEMONIC_CMP);
	op_reg(&r, areg(g, pick_n(g)));
	op_reg(&r, areg(g, pick_n(g)));
	if (emit(g, &r))
		flags_written(g, F_ALL, 0);
}

/* ---- integer forms -------------------------------------------------------- */

enum ipat {
	I_ALU,	  /* rm,r | r,rm | rm,imm */
	I_TEST,	  /* rm,r | rm,imm */
	I_UNARY,  /* rm */
	I_SHIFT,  /* rm,1 | rm,imm8 | rm,CL */
	I_SHXD,	  /* rm,r,imm8 | rm,r,CL */
	I_MULDIV, /* rm (RDX:RAX implicit) */
	I_IMUL,	  /* r,rm | r,rm,imm */
	I_BT,	  /* rm,r | rm,imm8 */
	I_BSX,	  /* r,rm */
	I_XRM,	  /* CMPXCHG, XADD, XCHG: rm,r */
	I_MOVX,	  /* r,rm(smaller) */
	I_CMOV,	  /* r,rm */
	I_SETCC,  /* rm8 */
	I_LEA,
	I_BSWAP,
	I_MOV,
	I_STRING,
	I_MISC,
	I_PUSHPOP, /* PUSH r/m/imm, POP r/m (16 and 64 bits) */
};

struct itmpl {
	ZydisMnemonic mn;
	uint8_t pat;
	uint8_t sizes; /* bit i: operand size 1 << i bytes allowed */
	uint8_t reads; /* 1: reads CF, 2: reads all flags (cc) */
};

#define S_ALL 0xf
#define S_WDQ 0xe

static const struct itmpl int_forms[] = {
	{ ZYDIS_MNEMONIC_ADD, I_ALU, S_ALL, 0 },	{ ZYDIS_MNEMONIC_ADC, I_ALU, S_ALL, 1 },
	{ ZYDIS_MNEMONIC_SUB, I_ALU, S_ALL, 0 },	{ ZYDIS_MNEMONIC_SBB, I_ALU, S_ALL, 1 },
	{ ZYDIS_MNEMONIC_AND, I_ALU, S_ALL, 0 },	{ ZYDIS_MNEMONIC_OR, I_ALU, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_XOR, I_ALU, S_ALL, 0 },	{ ZYDIS_MNEMONIC_CMP, I_ALU, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_TEST, I_TEST, S_ALL, 0 },	{ ZYDIS_MNEMONIC_INC, I_UNARY, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_DEC, I_UNARY, S_ALL, 0 },	{ ZYDIS_MNEMONIC_NEG, I_UNARY, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_NOT, I_UNARY, S_ALL, 0 },	{ ZYDIS_MNEMONIC_SHL, I_SHIFT, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_SHR, I_SHIFT, S_ALL, 0 },	{ ZYDIS_MNEMONIC_SAR, I_SHIFT, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_ROL, I_SHIFT, S_ALL, 0 },	{ ZYDIS_MNEMONIC_ROR, I_SHIFT, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_RCL, I_SHIFT, S_ALL, 1 },	{ ZYDIS_MNEMONIC_RCR, I_SHIFT, S_ALL, 1 },
	{ ZYDIS_MNEMONIC_SHLD, I_SHXD, S_WDQ, 0 },	{ ZYDIS_MNEMONIC_SHRD, I_SHXD, S_WDQ, 0 },
	{ ZYDIS_MNEMONIC_MUL, I_MULDIV, S_ALL, 0 },	{ ZYDIS_MNEMONIC_IMUL, I_MULDIV, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_DIV, I_MULDIV, S_ALL, 0 },	{ ZYDIS_MNEMONIC_IDIV, I_MULDIV, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_IMUL, I_IMUL, S_WDQ, 0 },	{ ZYDIS_MNEMONIC_BT, I_BT, S_WDQ, 0 },
	{ ZYDIS_MNEMONIC_BTS, I_BT, S_WDQ, 0 },	{ ZYDIS_MNEMONIC_BTR, I_BT, S_WDQ, 0 },
	{ ZYDIS_MNEMONIC_BTC, I_BT, S_WDQ, 0 },	{ ZYDIS_MNEMONIC_BSF, I_BSX, S_WDQ, 0 },
	{ ZYDIS_MNEMONIC_BSR, I_BSX, S_WDQ, 0 },	{ ZYDIS_MNEMONIC_CMPXCHG, I_XRM, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_XADD, I_XRM, S_ALL, 0 },	{ ZYDIS_MNEMONIC_XCHG, I_XRM, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_MOVZX, I_MOVX, S_WDQ, 0 },	{ ZYDIS_MNEMONIC_MOVSX, I_MOVX, S_WDQ, 0 },
	{ ZYDIS_MNEMONIC_MOVSXD, I_MOVX, 0x8, 0 },	{ ZYDIS_MNEMONIC_CMOVB, I_CMOV, S_WDQ, 2 },
	{ ZYDIS_MNEMONIC_SETB, I_SETCC, 0x1, 2 },	{ ZYDIS_MNEMONIC_LEA, I_LEA, S_WDQ, 0 },
	{ ZYDIS_MNEMONIC_BSWAP, I_BSWAP, 0xc, 0 },	{ ZYDIS_MNEMONIC_MOV, I_MOV, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_MOVSB, I_STRING, S_ALL, 0 }, { ZYDIS_MNEMONIC_MOVSB, I_STRING, S_ALL, 0 },
	{ ZYDIS_MNEMONIC_NOP, I_MISC, S_ALL, 0 },	{ ZYDIS_MNEMONIC_PUSH, I_PUSHPOP, 0xa, 0 },
	{ ZYDIS_MNEMONIC_POP, I_PUSHPOP, 0xa, 0 },
};

static const ZydisMnemonic cmov_mn[16] = {
	ZYDIS_MNEMONIC_CMOVO,  ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB,  ZYDIS_MNEMONIC_CMOVNB,
	ZYDIS_MNEMONIC_CMOVZ,  ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
	ZYDIS_MNEMONIC_CMOVS,  ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP,  ZYDIS_MNEMONIC_CMOVNP,
	ZYDIS_MNEMONIC_CMOVL,  ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE,
};
static const ZydisMnemonic setcc_mn[16] = {
	ZYDIS_MNEMONIC_SETO,  ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB,  ZYDIS_MNEMONIC_SETNB,
	ZYDIS_MNEMONIC_SETZ,  ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
	ZYDIS_MNEMONIC_SETS,  ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP,  ZYDIS_MNEMONIC_SETNP,
	ZYDIS_MNEMONIC_SETL,  ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE,
};

static unsigned pick_size(struct gen *g, unsigned mask)
{
	if (g->compat)
		mask &= 0x7;
	if (!mask)
		return 0;
	for (;;) {
		unsigned i = below(g, 4);

		if (mask & (1u << i))
			return 1u << i;
	}
}

/* r/m operand: a register or memory. */
static bool op_rm(struct gen *g, ZydisEncoderRequest *r, unsigned size, bool *is_mem)
{
	if (chance(g, 3)) {
		if (is_mem)
			*is_mem = true;
		return op_mem(g, r, size, 1);
	}
	if (is_mem)
		*is_mem = false;
	op_reg(r, pick_gpr(g, size));
	return true;
}

static uint64_t pick_imm(struct gen *g, unsigned bytes)
{
	return sext(edge_value(g), bytes * 8);
}

static bool emit_raw1(struct gen *g, uint8_t b)
{
	return emit_raw(g, &b, 1);
}

/* Shift count edge cases: 0, 1, size-1, size, size+1, large, random. */
static unsigned pick_count(struct gen *g, unsigned bits)
{
	static const unsigned fixed[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };

	if (chance(g, 2))
		return fixed[below(g, sizeof(fixed) / sizeof(fixed[0]))];
	return below(g, chance(g, 2) ? bits + 2 : 256);
}

static bool gen_shift(struct gen *g, const struct itmpl *t, unsigned size)
{
	ZydisEncoderRequest r;
	unsigned bits = size * 8, count, masked, form = below(g, 3);
	uint32_t w = 0, u = 0;
	ZydisMnemonic mn = t->mn;

	count = form == 0 ? 1 : pick_count(g, bits);
	if (t->reads)
		flags_read(g, F_CF);
	if (form == 2) {
		uint8_t mov_cl[2] = { 0xb1, (uint8_t)count };

		if (!emit_raw(g, mov_cl, 2))
			return false;
	}
	req_init(&r, mn);
	if (!op_rm(g, &r, size, NULL))
		return false;
	if (form == 2)
		op_reg(&r, ZYDIS_REGISTER_CL);
	else
		op_imm(&r, count & 0xff);
	if (!emit(g, &r))
		return false;
	masked = count & (size == 8 ? 0x3f : 0x1f);
	if (masked == 0)
		return true;
	switch (mn) {
	case ZYDIS_MNEMONIC_SHL:
	case ZYDIS_MNEMONIC_SHR:
	case ZYDIS_MNEMONIC_SAR:
		w = F_ALL;
		u = F_AF | (masked != 1 ? F_OF : 0) |
		    (masked >= bits && mn != ZYDIS_MNEMONIC_SAR ? F_CF : 0);
		break;
	default: /* rotates */
		w = F_CF | F_OF;
		u = masked != 1 ? F_OF : 0;
		break;
	}
	flags_written(g, w, u);
	return true;
}

static bool gen_shxd(struct gen *g, const struct itmpl *t, unsigned size)
{
	ZydisEncoderRequest r;
	unsigned bits = size * 8, count, masked;
	bool cl = chance(g, 2);

	count = pick_count(g, bits);
	masked = count & (size == 8 ? 0x3f : 0x1f);
	if (size == 2 && masked > 16) /* result undefined */
		count = masked = 16 - below(g, 3);
	if (cl) {
		uint8_t mov_cl[2] = { 0xb1, (uint8_t)count };

		if (!emit_raw(g, mov_cl, 2))
			return false;
	}
	req_init(&r, t->mn);
	if (!op_rm(g, &r, size, NULL))
		return false;
	op_reg(&r, pick_gpr(g, size));
	if (cl)
		op_reg(&r, ZYDIS_REGISTER_CL);
	else
		op_imm(&r, count & 0xff);
	if (!emit(g, &r))
		return false;
	if (masked)
		flags_written(g, F_ALL, F_AF | (masked != 1 ? F_OF : 0));
	return true;
}

static bool gen_muldiv(struct gen *g, const struct itmpl *t, unsigned size)
{
	ZydisEncoderRequest r;
	bool div = t->mn == ZYDIS_MNEMONIC_DIV || t->mn == ZYDIS_MNEMONIC_IDIV;

	if (div && !chance(g, 4)) {
		/* Mostly a dividend that fits: zero- or sign-extend RAX into RDX. */
		static const uint8_t zx[4][3] = {
			{ 0x30, 0xe4 }, { 0x31, 0xd2 }, { 0x31, 0xd2 }, { 0x31, 0xd2 },
		};
		static const uint8_t sx[4][3] = {
			{ 0x66, 0x98 }, { 0x66, 0x99 }, { 0x99 }, { 0x48, 0x99 },
		};
		unsigned si = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
		const uint8_t *b = t->mn == ZYDIS_MNEMONIC_DIV ? zx[si] : sx[si];
		unsigned n = b[1] == 0 ? 1 : 2;

		if (t->mn == ZYDIS_MNEMONIC_IDIV && si == 2)
			n = 1;
		if (!emit_raw(g, b, n))
			return false;
	}
	req_init(&r, t->mn);
	if (!op_rm(g, &r, size, NULL))
		return false;
	if (!emit(g, &r))
		return false;
	if (div)
		flags_written(g, F_ALL, F_ALL);
	else
		flags_written(g, F_ALL, F_SF | F_ZF | F_AF | F_PF);
	return true;
}

static bool gen_string(struct gen *g, unsigned size)
{
	/* MOVS A4, CMPS A6, STOS AA, LODS AC, SCAS AE; +1 for 16/32/64 */
	static const uint8_t ops[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
	uint8_t b[4];
	unsigned n = 0, k = below(g, 5), rep = below(g, 3);
	bool cmp = ops[k] == 0xa6 || ops[k] == 0xae;
	uint64_t mid = DIFF_DATA_VA + 1024 + below(g, 2048);

	if (chance(g, 8)) /* run into the unmapped page below or above: #PF midway */
		mid = chance(g, 2) ? DIFF_DATA_VA + 64 : DIFF_STACK_VA + 4096 - 64;

	unsigned count = below(g, 4) == 0 ? 0 : below(g, 24);

	if (!emit_mov_imm(g, X86_RSI, mid + below(g, 512) - 256) ||
	    !emit_mov_imm(g, X86_RDI, mid + below(g, 512) - 256) ||
	    !emit_mov_imm(g, X86_RCX, count))
		return false;
	if (chance(g, 4) && !emit_raw1(g, chance(g, 2) ? 0xfc : 0xfd))
		return false;
	if (rep == 1)
		b[n++] = 0xf3;
	else if (rep == 2 && cmp)
		b[n++] = 0xf2;
	else if (rep == 2)
		b[n++] = 0xf3;
	if (size == 2)
		b[n++] = 0x66;
	if (size == 8)
		b[n++] = 0x48;
	b[n++] = (uint8_t)(ops[k] + (size > 1));
	if (!emit_raw(g, b, n))
		return false;
	if (cmp && (rep == 0 || count))
		flags_written(g, F_ALL, 0);
	return true;
}

static bool gen_misc(struct gen *g)
{
	static const uint8_t forms[][2] = {
		{ 0x98 }, { 0x66, 0x98 }, { 0x48, 0x98 }, /* CWDE, CBW, CDQE */
		{ 0x99 }, { 0x66, 0x99 }, { 0x48, 0x99 }, /* CDQ, CWD, CQO */
		{ 0x9f }, { 0x9e },			  /* LAHF, SAHF */
		{ 0xf8 }, { 0xf9 }, { 0xf5 },		  /* CLC, STC, CMC */
		{ 0xfc }, { 0xfd },			  /* CLD, STD */
	};
	unsigned k = below(g, sizeof(forms) / sizeof(forms[0]));
	unsigned n = forms[k][1] ? 2 : 1;
	uint8_t op = forms[k][n - 1];

	if (g->compat && forms[k][0] == 0x48)
		return false; /* a REX prefix is DEC EAX there */

	if (op == 0x9f)
		flags_read(g, F_SF | F_ZF | F_AF | F_PF | F_CF);
	if (op == 0xf5)
		flags_read(g, F_CF);
	if (!emit_raw(g, forms[k], n))
		return false;
	if (op == 0x9e)
		flags_written(g, F_SF | F_ZF | F_AF | F_PF | F_CF, 0);
	if (op >= 0xf5 && op <= 0xf9)
		flags_written(g, F_CF, 0);
	return true;
}

/* Control flow and odd ones: Jcc/LOOP/JRCXZ over a NOT, CALL+POP, PUSHFQ+POP, SMC. */
static bool gen_flow(struct gen *g)
{
	struct diff_case *c = g->c;
	unsigned k = below(g, 5), n = pick_n(g);
	uint8_t b[16];

	switch (k) {
	case 0: /* jcc +2; not eax */
		flags_read(g, F_ALL);
		b[0] = (uint8_t)(0x70 + below(g, 16));
		b[1] = 2;
		b[2] = 0xf7;
		b[3] = 0xd0;
		return emit_raw(g, b, 2) && emit_raw(g, b + 2, 2);
	case 1: /* loop/loope/loopne/jrcxz +2; not eax */
		flags_read(g, F_ZF);
		b[0] = (uint8_t)(0xe0 + below(g, 4));
		b[1] = 2;
		b[2] = 0xf7;
		b[3] = 0xd0;
		return emit_raw(g, b, 2) && emit_raw(g, b + 2, 2);
	case 2: /* call +0; pop r */
		b[0] = 0xe8;
		memset(b + 1, 0, 4);
		if (!emit_raw(g, b, 5))
			return false;
		b[0] = 0x41;
		b[1] = (uint8_t)(0x58 + (n & 7));
		return n >= 8 ? emit_raw(g, b, 2) : emit_raw(g, b + 1, 1);
	case 3: /* pushfq; pop r */
		flags_read(g, F_ALL);
		b[0] = 0x9c;
		if (!emit_raw(g, b, 1))
			return false;
		b[0] = 0x41;
		b[1] = (uint8_t)(0x58 + (n & 7));
		return n >= 8 ? emit_raw(g, b, 2) : emit_raw(g, b + 1, 1);
	default: { /* mov byte [next insn's immediate], v; mov al, imm8: self-modifying code */
		uint64_t target = c->base + c->code_len + 8 + 1;

		b[0] = 0xc6;
		b[1] = 0x04;
		b[2] = 0x25;
		memcpy(b + 3, &(uint32_t){ (uint32_t)target }, 4);
		b[7] = (uint8_t)rnd(g);
		b[8] = 0xb0;
		b[9] = (uint8_t)rnd(g);
		return emit_raw(g, b, 8) && emit_raw(g, b + 8, 2);
	}
	}
}

static bool gen_int(struct gen *g)
{
	const struct itmpl *t = &int_forms[below(g, sizeof(int_forms) / sizeof(int_forms[0]))];
	unsigned size = pick_size(g, t->sizes);
	ZydisEncoderRequest r;
	bool mem;

	if (!size)
		return false;

	if (chance(g, 24))
		return gen_flow(g);
	if (t->reads == 1)
		flags_read(g, F_CF);
	else if (t->reads == 2)
		flags_read(g, F_ALL);
	switch (t->pat) {
	case I_ALU:
	case I_TEST:
		req_init(&r, t->mn);
		switch (below(g, 3)) {
		case 0:
			if (!op_rm(g, &r, size, NULL))
				return false;
			op_reg(&r, pick_gpr(g, size));
			break;
		case 1:
			if (t->pat == I_ALU) {
				op_reg(&r, pick_gpr(g, size));
				if (!op_rm(g, &r, size, NULL))
					return false;
				break;
			}
			__attribute__((fallthrough));
		default:
			if (!op_rm(g, &r, size, NULL))
				return false;
			op_imm(&r, pick_imm(g, size > 4 ? 4 : size));
			break;
		}
		if (r.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER && chance(g, 64))
			g->lock_next = true; /* LOCK with a register destination: #UD */
		if (!emit(g, &r))
			return false;
		flags_written(g, F_ALL, t->mn == ZYDIS_MNEMONIC_AND || t->mn == ZYDIS_MNEMONIC_OR ||
						t->mn == ZYDIS_MNEMONIC_XOR || t->mn == ZYDIS_MNEMONIC_TEST ?
					F_AF :
					0);
		return true;
	case I_UNARY:
		req_init(&r, t->mn);
		if (!op_rm(g, &r, size, NULL) || !emit(g, &r))
			return false;
		if (t->mn == ZYDIS_MNEMONIC_NEG)
			flags_written(g, F_ALL, 0);
		else if (t->mn != ZYDIS_MNEMONIC_NOT)
			flags_written(g, F_ALL & ~F_CF, 0);
		return true;
	case I_SHIFT:
		return gen_shift(g, t, size);
	case I_SHXD:
		return gen_shxd(g, t, size);
	case I_MULDIV:
		return gen_muldiv(g, t, size);
	case I_IMUL:
		req_init(&r, t->mn);
		op_reg(&r, pick_gpr(g, size));
		if (!op_rm(g, &r, size, NULL))
			return false;
		if (chance(g, 2))
			op_imm(&r, pick_imm(g, size > 4 ? 4 : size));
		if (!emit(g, &r))
			return false;
		flags_written(g, F_ALL, F_SF | F_ZF | F_AF | F_PF);
		return true;
	case I_BT:
		req_init(&r, t->mn);
		if (!op_rm(g, &r, size, &mem))
			return false;
		if (chance(g, 2)) {
			op_imm(&r, below(g, 256));
		} else if (mem) {
			/* Bit offset register: keep the access near the operand. */
			unsigned n = pick_addr_reg(g);
			ZydisEncoderRequest m;

			if (r.operands[0].mem.base == areg(g, n) ||
			    r.operands[0].mem.index == areg(g, n))
				return false;
			if (!emit_mov_imm(g, n, (uint64_t)((int64_t)below(g, 512) - 256)))
				return false;
			/* the MOV went after op_mem's set-up, which did not use n */
			req_init(&m, t->mn);
			m.operands[0] = r.operands[0];
			m.operand_count = 1;
			op_reg(&m, gpr(size, n, false));
			r = m;
		} else {
			op_reg(&r, pick_gpr(g, size));
		}
		if (!emit(g, &r))
			return false;
		flags_written(g, F_ALL, F_ALL & ~F_CF);
		return true;
	case I_BSX:
		req_init(&r, t->mn);
		op_reg(&r, pick_gpr(g, size));
		if (!op_rm(g, &r, size, NULL) || !emit(g, &r))
			return false;
		flags_written(g, F_ALL, F_ALL & ~F_ZF);
		return true;
	case I_XRM:
		req_init(&r, t->mn);
		if (!op_rm(g, &r, size, &mem))
			return false;
		op_reg(&r, pick_gpr(g, size));
		if (mem && t->mn != ZYDIS_MNEMONIC_XCHG && chance(g, 2))
			r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
		if (t->mn == ZYDIS_MNEMONIC_CMPXCHG && chance(g, 2)) {
			/* The equal case: load the accumulator from the destination first. */
			ZydisEncoderRequest m;

			req_init(&m, ZYDIS_MNEMONIC_MOV);
			op_reg(&m, gpr(size, X86_RAX, false));
			*opnd(&m) = r.operands[0];
			if (!emit(g, &m))
				return false;
		}
		if (!emit(g, &r))
			return false;
		if (t->mn != ZYDIS_MNEMONIC_XCHG)
			flags_written(g, F_ALL, 0);
		return true;
	case I_MOVX: {
		unsigned ssize = t->mn == ZYDIS_MNEMONIC_MOVSXD ? 4 : (size == 2 || chance(g, 2)) ? 1 : 2;

		req_init(&r, t->mn);
		op_reg(&r, pick_gpr(g, size));
		if (!op_rm(g, &r, ssize, NULL))
			return false;
		return emit(g, &r);
	}
	case I_CMOV:
		req_init(&r, cmov_mn[below(g, 16)]);
		op_reg(&r, pick_gpr(g, size));
		if (!op_rm(g, &r, size, NULL))
			return false;
		return emit(g, &r);
	case I_SETCC:
		req_init(&r, setcc_mn[below(g, 16)]);
		if (!op_rm(g, &r, 1, NULL))
			return false;
		return emit(g, &r);
	case I_LEA: {
		ZydisEncoderOperand *o;

		req_init(&r, t->mn);
		op_reg(&r, pick_gpr(g, size));
		o = opnd(&r);
		o->type = ZYDIS_OPERAND_TYPE_MEMORY;
		o->mem.base = chance(g, 8) ? ZYDIS_REGISTER_NONE : areg(g, below(g, g->compat ? 8 : 16));
		o->mem.index = chance(g, 3) ? ZYDIS_REGISTER_NONE : areg(g, pick_n(g));
		o->mem.scale = o->mem.index == ZYDIS_REGISTER_NONE ? 0 : (ZyanU8)(1u << below(g, 4));
		o->mem.displacement = (ZyanI64)sext(edge_value(g), 32);
		o->mem.size = (ZyanU16)size;
		return emit(g, &r);
	}
	case I_BSWAP:
		req_init(&r, t->mn);
		op_reg(&r, pick_gpr(g, size));
		return emit(g, &r);
	case I_MOV:
		req_init(&r, t->mn);
		switch (below(g, 3)) {
		case 0:
			if (!op_rm(g, &r, size, NULL))
				return false;
			op_reg(&r, pick_gpr(g, size));
			break;
		case 1:
			op_reg(&r, pick_gpr(g, size));
			if (!op_rm(g, &r, size, NULL))
				return false;
			break;
		default:
			op_reg(&r, pick_gpr(g, size));
			op_imm(&r, size == 8 && chance(g, 2) ? edge_value(g) : pick_imm(g, size > 4 ? 4 : size));
			break;
		}
		return emit(g, &r);
	case I_STRING:
		return gen_string(g, size);
	case I_PUSHPOP:
		req_init(&r, t->mn);
		if (t->mn == ZYDIS_MNEMONIC_PUSH && chance(g, 4)) {
			op_imm(&r, pick_imm(g, size == 2 ? 2 : 4));
			r.operand_size_hint = size == 2 ? ZYDIS_OPERAND_SIZE_HINT_16 :
							  ZYDIS_OPERAND_SIZE_HINT_64;
		} else if (!op_rm(g, &r, size, NULL)) {
			return false;
		}
		return emit(g, &r);
	default:
		return gen_misc(g);
	}
}

/* ---- SSE / SSE2 forms ------------------------------------------------------ */

enum spat {
	X_XM,	 /* xmm, xmm/m(msize) */
	X_XMI,	 /* xmm, xmm/m, imm8 (imm below immax) */
	X_I,	 /* xmm, imm8 (shifts) */
	X_RM,	 /* xmm, r/m32|64 (CVTSI2Sx) */
	R_XM,	 /* r32|64, xmm/m (CVT*2SI) */
	R_X,	 /* r32, xmm (MOVMSK) */
	R_XI,	 /* r32, xmm, imm (PEXTRW) */
	X_RMI,	 /* xmm, r32/m16, imm (PINSRW) */
	M_X,	 /* m, xmm (stores) */
	X_M,	 /* xmm, m (loads that take memory only) */
	F_XM,	 /* COMISS family: flags */
	MXCSR_L, /* LDMXCSR m32 */
	MXCSR_S, /* STMXCSR m32 */
	MOVDQ,	 /* MOVD/MOVQ between xmm and r/m */
};

struct stmpl {
	ZydisMnemonic mn;
	uint8_t pat;
	uint8_t msize; /* memory operand size */
	uint8_t align; /* memory alignment required */
	uint8_t immax; /* X_XMI, X_I, R_XI: immediate range (0: 256) */
};

static const struct stmpl sse_forms[] = {
	/* floating point arithmetic */
	{ ZYDIS_MNEMONIC_ADDPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_ADDPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_ADDSS, X_XM, 4, 1, 0 },     { ZYDIS_MNEMONIC_ADDSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_SUBPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_SUBPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_SUBSS, X_XM, 4, 1, 0 },     { ZYDIS_MNEMONIC_SUBSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MULPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_MULPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_MULSS, X_XM, 4, 1, 0 },     { ZYDIS_MNEMONIC_MULSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_DIVPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_DIVPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_DIVSS, X_XM, 4, 1, 0 },     { ZYDIS_MNEMONIC_DIVSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MINPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_MINSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MAXPD, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_MAXSS, X_XM, 4, 1, 0 },
	{ ZYDIS_MNEMONIC_SQRTPS, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_SQRTPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_SQRTSS, X_XM, 4, 1, 0 },    { ZYDIS_MNEMONIC_SQRTSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_ANDPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_ANDNPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_ORPS, X_XM, 16, 16, 0 },    { ZYDIS_MNEMONIC_XORPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_CMPPS, X_XMI, 16, 16, 8 },  { ZYDIS_MNEMONIC_CMPPD, X_XMI, 16, 16, 8 },
	{ ZYDIS_MNEMONIC_CMPSS, X_XMI, 4, 1, 8 },    { ZYDIS_MNEMONIC_CMPSD, X_XMI, 8, 1, 8 },
	{ ZYDIS_MNEMONIC_COMISS, F_XM, 4, 1, 0 },    { ZYDIS_MNEMONIC_UCOMISS, F_XM, 4, 1, 0 },
	{ ZYDIS_MNEMONIC_COMISD, F_XM, 8, 1, 0 },    { ZYDIS_MNEMONIC_UCOMISD, F_XM, 8, 1, 0 },
	/* moves and shuffles */
	{ ZYDIS_MNEMONIC_MOVAPS, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_MOVUPD, X_XM, 16, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVSS, X_XM, 4, 1, 0 },     { ZYDIS_MNEMONIC_MOVSD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVDQA, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_MOVDQU, X_XM, 16, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVAPD, M_X, 16, 16, 0 },   { ZYDIS_MNEMONIC_MOVUPS, M_X, 16, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVSS, M_X, 4, 1, 0 },	     { ZYDIS_MNEMONIC_MOVSD, M_X, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVDQU, M_X, 16, 1, 0 },    { ZYDIS_MNEMONIC_MOVLPS, M_X, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVHPD, M_X, 8, 1, 0 },     { ZYDIS_MNEMONIC_MOVLPD, X_M, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVHPS, X_M, 8, 1, 0 },     { ZYDIS_MNEMONIC_MOVHLPS, X_XM, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVLHPS, X_XM, 0, 1, 0 },   { ZYDIS_MNEMONIC_UNPCKLPS, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_UNPCKHPD, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_SHUFPS, X_XMI, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_SHUFPD, X_XMI, 16, 16, 4 }, { ZYDIS_MNEMONIC_PSHUFD, X_XMI, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSHUFLW, X_XMI, 16, 16, 0 }, { ZYDIS_MNEMONIC_PSHUFHW, X_XMI, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_MOVMSKPS, R_X, 0, 1, 0 },   { ZYDIS_MNEMONIC_MOVMSKPD, R_X, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_PMOVMSKB, R_X, 0, 1, 0 },   { ZYDIS_MNEMONIC_PEXTRW, R_XI, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_PINSRW, X_RMI, 2, 1, 0 },   { ZYDIS_MNEMONIC_MOVD, MOVDQ, 4, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVQ, MOVDQ, 8, 1, 0 },
	/* conversions */
	{ ZYDIS_MNEMONIC_CVTSI2SS, X_RM, 0, 1, 0 },  { ZYDIS_MNEMONIC_CVTSI2SD, X_RM, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_CVTSS2SI, R_XM, 4, 1, 0 },  { ZYDIS_MNEMONIC_CVTSD2SI, R_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_CVTTSS2SI, R_XM, 4, 1, 0 }, { ZYDIS_MNEMONIC_CVTTSD2SI, R_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_CVTSS2SD, X_XM, 4, 1, 0 },  { ZYDIS_MNEMONIC_CVTSD2SS, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_CVTPS2PD, X_XM, 8, 1, 0 },  { ZYDIS_MNEMONIC_CVTPD2PS, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_CVTDQ2PS, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_CVTPS2DQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_CVTTPS2DQ, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_CVTDQ2PD, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_CVTPD2DQ, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_CVTTPD2DQ, X_XM, 16, 16, 0 },
	/* integer */
	{ ZYDIS_MNEMONIC_PADDB, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PADDW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PADDD, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PADDQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSUBB, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PSUBQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PADDSB, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_PADDUSW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSUBSW, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_PSUBUSB, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PMULLW, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_PMULHW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PMULHUW, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PMULUDQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PMADDWD, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PAND, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PANDN, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_POR, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PXOR, X_XM, 16, 16, 0 },    { ZYDIS_MNEMONIC_PCMPEQB, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PCMPEQD, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PCMPGTW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PCMPGTB, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PSLLW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSRLD, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PSRAW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSLLQ, X_I, 0, 1, 0 },	     { ZYDIS_MNEMONIC_PSRLW, X_I, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_PSRAD, X_I, 0, 1, 0 },	     { ZYDIS_MNEMONIC_PSLLDQ, X_I, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_PSRLDQ, X_I, 0, 1, 0 },     { ZYDIS_MNEMONIC_PUNPCKLBW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PUNPCKHWD, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PUNPCKLDQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PUNPCKHQDQ, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PACKSSWB, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PACKSSDW, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PACKUSWB, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PAVGB, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PMAXUB, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PMINSW, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_PSADBW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_MAXPS, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_MINPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_MAXSD, X_XM, 8, 1, 0 },     { ZYDIS_MNEMONIC_MINSS, X_XM, 4, 1, 0 },
	{ ZYDIS_MNEMONIC_ANDNPS, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_ANDPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_ORPD, X_XM, 16, 16, 0 },    { ZYDIS_MNEMONIC_XORPS, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_UNPCKHPS, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_UNPCKLPD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSUBW, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PSUBD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PADDSW, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_PADDUSB, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSUBSB, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_PSUBUSW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PCMPEQW, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PCMPGTD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSLLD, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PSRLQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSRAD, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PSRLW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PSLLW, X_I, 0, 1, 0 },	     { ZYDIS_MNEMONIC_PSRLD, X_I, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_PSRAW, X_I, 0, 1, 0 },	     { ZYDIS_MNEMONIC_PSRLQ, X_I, 0, 1, 0 },
	{ ZYDIS_MNEMONIC_PUNPCKHBW, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PUNPCKLWD, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PUNPCKHDQ, X_XM, 16, 16, 0 }, { ZYDIS_MNEMONIC_PUNPCKLQDQ, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PAVGW, X_XM, 16, 16, 0 },   { ZYDIS_MNEMONIC_PMAXSW, X_XM, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_PMINUB, X_XM, 16, 16, 0 },  { ZYDIS_MNEMONIC_MOVQ, X_XM, 8, 1, 0 },
	{ ZYDIS_MNEMONIC_MOVDQA, M_X, 16, 16, 0 },   { ZYDIS_MNEMONIC_MOVNTDQ, M_X, 16, 16, 0 },
	{ ZYDIS_MNEMONIC_MOVAPS, M_X, 16, 16, 0 },   { ZYDIS_MNEMONIC_CVTSS2SI, R_XM, 4, 1, 0 },
	/* MXCSR */
	{ ZYDIS_MNEMONIC_LDMXCSR, MXCSR_L, 4, 1, 0 }, { ZYDIS_MNEMONIC_STMXCSR, MXCSR_S, 4, 1, 0 },
};

static bool sse_src(struct gen *g, ZydisEncoderRequest *r, const struct stmpl *t)
{
	if (t->msize && chance(g, 3))
		return op_mem(g, r, t->msize, t->align);
	op_reg(r, pick_xmm(g));
	return true;
}

static uint32_t pick_mxcsr(struct gen *g)
{
	uint32_t m = 0x1f80;

	m |= (uint32_t)below(g, 4) << 13; /* rounding */
	if (chance(g, 4))
		m |= 1u << 15; /* FTZ */
	if (chance(g, 4))
		m |= 1u << 6; /* DAZ */
	if (chance(g, 3))
		m |= (uint32_t)rnd(g) & 0x3f; /* sticky flags */
	if (chance(g, 12))
		m &= ~((uint32_t)(rnd(g) & 0x3f) << 7); /* unmask some: #XM */
	return m;
}

/* MMX forms: mm, mm/m64 | mm, imm8 | moves to and from GPRs and XMM. */
static bool gen_mmx(struct gen *g)
{
	static const ZydisMnemonic mm_mm[] = {
		ZYDIS_MNEMONIC_PADDB,	  ZYDIS_MNEMONIC_PADDW,	    ZYDIS_MNEMONIC_PADDD,
		ZYDIS_MNEMONIC_PADDQ,	  ZYDIS_MNEMONIC_PSUBUSB,   ZYDIS_MNEMONIC_PSUBSW,
		ZYDIS_MNEMONIC_PMULLW,	  ZYDIS_MNEMONIC_PMULHW,    ZYDIS_MNEMONIC_PMULUDQ,
		ZYDIS_MNEMONIC_PMADDWD,	  ZYDIS_MNEMONIC_PAND,	    ZYDIS_MNEMONIC_PANDN,
		ZYDIS_MNEMONIC_PXOR,	  ZYDIS_MNEMONIC_PCMPEQB,   ZYDIS_MNEMONIC_PCMPGTW,
		ZYDIS_MNEMONIC_PUNPCKLBW, ZYDIS_MNEMONIC_PUNPCKHDQ, ZYDIS_MNEMONIC_PACKSSWB,
		ZYDIS_MNEMONIC_PACKUSWB,  ZYDIS_MNEMONIC_PSLLW,	    ZYDIS_MNEMONIC_PSRAD,
		ZYDIS_MNEMONIC_PAVGB,	  ZYDIS_MNEMONIC_PMAXUB,    ZYDIS_MNEMONIC_PMINSW,
		ZYDIS_MNEMONIC_PSADBW,	  ZYDIS_MNEMONIC_MOVQ,
	};
	static const ZydisMnemonic mm_imm[] = {
		ZYDIS_MNEMONIC_PSLLQ, ZYDIS_MNEMONIC_PSRLW, ZYDIS_MNEMONIC_PSRAW, ZYDIS_MNEMONIC_PSRLD,
	};
	ZydisEncoderRequest r;
	ZydisRegister mm = (ZydisRegister)(ZYDIS_REGISTER_MM0 + below(g, 8));

	g->c->cmp_x87 = true;
	switch (below(g, 8)) {
	case 0:
		req_init(&r, ZYDIS_MNEMONIC_PSHUFW);
		op_reg(&r, mm);
		op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_MM0 + below(g, 8)));
		op_imm(&r, below(g, 256));
		break;
	case 1:
		req_init(&r, mm_imm[below(g, 4)]);
		op_reg(&r, mm);
		op_imm(&r, below(g, 70));
		break;
	case 2:
		req_init(&r, chance(g, 2) ? ZYDIS_MNEMONIC_MOVD : ZYDIS_MNEMONIC_MOVQ);
		if (chance(g, 2)) {
			op_reg(&r, mm);
			op_reg(&r, pick_gpr(g, r.mnemonic == ZYDIS_MNEMONIC_MOVD ? 4 : 8));
		} else {
			op_reg(&r, pick_gpr(g, r.mnemonic == ZYDIS_MNEMONIC_MOVD ? 4 : 8));
			op_reg(&r, mm);
		}
		break;
	case 3:
		req_init(&r, chance(g, 2) ? ZYDIS_MNEMONIC_MOVQ2DQ : ZYDIS_MNEMONIC_MOVDQ2Q);
		if (r.mnemonic == ZYDIS_MNEMONIC_MOVQ2DQ) {
			op_reg(&r, pick_xmm(g));
			op_reg(&r, mm);
		} else {
			op_reg(&r, mm);
			op_reg(&r, pick_xmm(g));
		}
		break;
	case 4:
		req_init(&r, ZYDIS_MNEMONIC_PMOVMSKB);
		op_reg(&r, pick_gpr(g, 4));
		op_reg(&r, mm);
		break;
	case 5:
		if (chance(g, 4)) {
			static const uint8_t emms[2] = { 0x0f, 0x77 };

			return emit_raw(g, emms, 2);
		}
		req_init(&r, ZYDIS_MNEMONIC_MOVQ);
		if (!op_mem(g, &r, 8, 1))
			return false;
		op_reg(&r, mm);
		break;
	default:
		req_init(&r, mm_mm[below(g, sizeof(mm_mm) / sizeof(mm_mm[0]))]);
		op_reg(&r, mm);
		if (chance(g, 3)) {
			if (!op_mem(g, &r, 8, 1))
				return false;
		} else {
			op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_MM0 + below(g, 8)));
		}
		break;
	}
	return emit(g, &r);
}

static bool gen_sse(struct gen *g)
{
	const struct stmpl *t = &sse_forms[below(g, sizeof(sse_forms) / sizeof(sse_forms[0]))];
	ZydisEncoderRequest r;
	unsigned gsize = chance(g, 2) ? 8 : 4;

	req_init(&r, t->mn);
	switch (t->pat) {
	case X_XM:
		op_reg(&r, pick_xmm(g));
		if (!sse_src(g, &r, t))
			return false;
		break;
	case X_XMI:
		op_reg(&r, pick_xmm(g));
		if (!sse_src(g, &r, t))
			return false;
		op_imm(&r, below(g, t->immax ? t->immax : 256));
		break;
	case X_I:
		op_reg(&r, pick_xmm(g));
		op_imm(&r, chance(g, 2) ? below(g, 20) : below(g, 256));
		break;
	case X_RM:
		op_reg(&r, pick_xmm(g));
		if (!op_rm(g, &r, gsize, NULL))
			return false;
		break;
	case R_XM:
		op_reg(&r, pick_gpr(g, gsize));
		if (!sse_src(g, &r, t))
			return false;
		break;
	case R_X:
		op_reg(&r, pick_gpr(g, 4));
		op_reg(&r, pick_xmm(g));
		break;
	case R_XI:
		op_reg(&r, pick_gpr(g, 4));
		op_reg(&r, pick_xmm(g));
		op_imm(&r, below(g, 8));
		break;
	case X_RMI:
		op_reg(&r, pick_xmm(g));
		if (chance(g, 2)) {
			if (!op_mem(g, &r, 2, 1))
				return false;
		} else {
			op_reg(&r, pick_gpr(g, 4));
		}
		op_imm(&r, below(g, 8));
		break;
	case M_X:
		if (!op_mem(g, &r, t->msize, t->align))
			return false;
		op_reg(&r, pick_xmm(g));
		break;
	case X_M:
		op_reg(&r, pick_xmm(g));
		if (!op_mem(g, &r, t->msize, t->align))
			return false;
		break;
	case F_XM:
		op_reg(&r, pick_xmm(g));
		if (!sse_src(g, &r, t))
			return false;
		if (!emit(g, &r))
			return false;
		flags_written(g, F_ALL, 0);
		return true;
	case MXCSR_L: {
		uint32_t m = pick_mxcsr(g);
		uint64_t addr;

		if (!op_mem(g, &r, 4, 1))
			return false;
		/* Put a valid MXCSR where the operand points (absolute or RIP forms only). */
		if (r.operands[0].mem.base != ZYDIS_REGISTER_NONE &&
		    r.operands[0].mem.base != ZYDIS_REGISTER_RIP)
			return false;
		addr = (uint64_t)r.operands[0].mem.displacement - DIFF_DATA_VA;
		if (addr + 4 > DIFF_DATA_SIZE)
			return false;
		memcpy(g->c->data + addr, &m, 4);
		break;
	}
	case MXCSR_S:
		if (!op_mem(g, &r, 4, 1))
			return false;
		break;
	default: /* MOVD / MOVQ */
		if (chance(g, 2)) {
			op_reg(&r, pick_xmm(g));
			if (!op_rm(g, &r, t->msize, NULL))
				return false;
		} else {
			if (!op_rm(g, &r, t->msize, NULL))
				return false;
			op_reg(&r, pick_xmm(g));
		}
		break;
	}
	return emit(g, &r);
}

/* ---- x87 forms ------------------------------------------------------------- */

static bool gen_x87(struct gen *g)
{
	static const ZydisMnemonic arith[] = {
		ZYDIS_MNEMONIC_FADD, ZYDIS_MNEMONIC_FSUB, ZYDIS_MNEMONIC_FSUBR,
		ZYDIS_MNEMONIC_FMUL, ZYDIS_MNEMONIC_FDIV, ZYDIS_MNEMONIC_FDIVR,
	};
	static const ZydisMnemonic unary[] = {
		ZYDIS_MNEMONIC_FCHS, ZYDIS_MNEMONIC_FABS, ZYDIS_MNEMONIC_FSQRT,
		ZYDIS_MNEMONIC_FRNDINT, ZYDIS_MNEMONIC_FLD1, ZYDIS_MNEMONIC_FLDZ,
	};
	static const uint8_t fsizes[] = { 4, 8, 10 };
	static const uint8_t isizes[] = { 2, 4, 8 };
	ZydisEncoderRequest r;
	unsigned k = g->x87_depth == 0 ? 0 : below(g, 9);
	uint16_t cc_mask = 0x4700; /* C3 C2 C1 C0 */

	switch (k) {
	case 0: /* loads */
		if (g->x87_depth >= 7)
			return true;
		if (chance(g, 2)) {
			req_init(&r, ZYDIS_MNEMONIC_FLD);
			if (!op_mem(g, &r, fsizes[below(g, 3)], 1))
				return false;
		} else if (chance(g, 2)) {
			req_init(&r, ZYDIS_MNEMONIC_FILD);
			if (!op_mem(g, &r, isizes[below(g, 3)], 1))
				return false;
		} else {
			req_init(&r, unary[4 + below(g, 2)]);
		}
		if (!emit(g, &r))
			return false;
		g->x87_depth++;
		break;
	case 1:
	case 2: /* arithmetic with st(i) or memory */
		req_init(&r, arith[below(g, 6)]);
		if (chance(g, 2)) {
			unsigned i = below(g, g->x87_depth);

			if (chance(g, 2)) {
				op_reg(&r, ZYDIS_REGISTER_ST0);
				op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_ST0 + i));
			} else {
				op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_ST0 + i));
				op_reg(&r, ZYDIS_REGISTER_ST0);
			}
		} else {
			op_reg(&r, ZYDIS_REGISTER_ST0);
			if (!op_mem(g, &r, chance(g, 2) ? 4 : 8, 1))
				return false;
		}
		if (!emit(g, &r))
			return false;
		break;
	case 3: /* unary */
		req_init(&r, unary[below(g, 4)]);
		if (!emit(g, &r))
			return false;
		break;
	case 4: /* stores */
		req_init(&r, chance(g, 2) ? ZYDIS_MNEMONIC_FST : ZYDIS_MNEMONIC_FSTP);
		if (r.mnemonic == ZYDIS_MNEMONIC_FSTP && chance(g, 3)) {
			if (!op_mem(g, &r, 10, 1))
				return false;
		} else if (!op_mem(g, &r, chance(g, 2) ? 4 : 8, 1)) {
			return false;
		}
		if (!emit(g, &r))
			return false;
		if (r.mnemonic == ZYDIS_MNEMONIC_FSTP)
			g->x87_depth--;
		break;
	case 5: /* integer stores */
		req_init(&r, chance(g, 2) ? ZYDIS_MNEMONIC_FIST : ZYDIS_MNEMONIC_FISTP);
		if (!op_mem(g, &r, r.mnemonic == ZYDIS_MNEMONIC_FIST ? isizes[below(g, 2)] :
								       isizes[below(g, 3)], 1))
			return false;
		if (!emit(g, &r))
			return false;
		if (r.mnemonic == ZYDIS_MNEMONIC_FISTP)
			g->x87_depth--;
		break;
	case 6: /* exchange */
		req_init(&r, ZYDIS_MNEMONIC_FXCH);
		op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_ST0 + below(g, g->x87_depth)));
		if (!emit(g, &r))
			return false;
		break;
	case 7: /* compares setting EFLAGS */
		req_init(&r, chance(g, 2) ? ZYDIS_MNEMONIC_FCOMI : ZYDIS_MNEMONIC_FUCOMI);
		op_reg(&r, ZYDIS_REGISTER_ST0);
		op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_ST0 + below(g, g->x87_depth)));
		if (!emit(g, &r))
			return false;
		/*
		 * With IM unmasked and an invalid operand, Intel leaves ZF PF CF
		 * alone (SDM), AMD sets them to 111: not compared then.
		 */
		flags_written(g, F_ALL, (g->c->fx.fcw & 1) ? 0 : F_ZF | F_PF | F_CF);
		break;
	default: /* compares and FXAM setting C0-C3, then FNSTSW AX */
		switch (below(g, 4)) {
		case 0:
			req_init(&r, ZYDIS_MNEMONIC_FTST);
			break;
		case 1:
			req_init(&r, ZYDIS_MNEMONIC_FXAM);
			break;
		default:
			req_init(&r, chance(g, 2) ? ZYDIS_MNEMONIC_FCOM : ZYDIS_MNEMONIC_FUCOM);
			op_reg(&r, (ZydisRegister)(ZYDIS_REGISTER_ST0 + below(g, g->x87_depth)));
			break;
		}
		if (!emit(g, &r))
			return false;
		{
			static const uint8_t fnstsw_ax[2] = { 0xdf, 0xe0 };

			if (!emit_raw(g, fnstsw_ax, 2))
				return false;
		}
		g->c->fsw_mask |= cc_mask;
		return true;
	}
	/* C0-C3 are undefined (or C1 is the round-up bit) after the others. */
	g->c->fsw_mask &= (uint16_t)~cc_mask;
	return true;
}

/* ---- the case ------------------------------------------------------------- */

static void init_state(struct gen *g)
{
	struct diff_case *c = g->c;
	uint32_t mxcsr;

	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		c->gpr[i] = edge_value(g);
	c->gpr[X86_RSP] = DIFF_STACK_TOP;
	c->rflags = (rnd(g) & DIFF_ARITH_FLAGS) | (chance(g, 4) ? X86_FLAGS_DF : 0);

	memset(&c->fx, 0, sizeof(c->fx));
	c->fx.fcw = (uint16_t)(0x037f & ~0x0300u); /* all exceptions masked */
	c->fx.fcw |= (uint16_t)(below(g, 4) << 10);		  /* rounding */
	c->fx.fcw |= (uint16_t)((chance(g, 3) ? below(g, 4) : 3) << 8); /* precision */
	if (((c->fx.fcw >> 8) & 3) == 1)
		c->fx.fcw |= 3u << 8; /* reserved precision value */
	if (chance(g, 6)) /* unmask some x87 exceptions: #MF at the next FP instruction */
		c->fx.fcw &= (uint16_t)~(rnd(g) & 0x3f);
	for (unsigned i = 0; i < 8; i++) { /* MMX values under an empty x87 stack */
		uint64_t v = edge_value(g);

		memcpy(c->fx.st[i], &v, 8);
	}
	mxcsr = chance(g, 2) ? 0x1f80 : pick_mxcsr(g);
	c->fx.mxcsr = mxcsr;
	c->fx.mxcsr_mask = 0;
	for (unsigned i = 0; i < 16; i++)
		fill_vec(g, c->fx.xmm[i], 16);

	fill_vec(g, c->data, DIFF_DATA_SIZE);
	/* x87 friendly slots: 80-bit values from doubles' bit patterns. */
	for (unsigned off = 0; off + 16 <= DIFF_DATA_SIZE; off += 16 * (1 + below(g, 8))) {
		uint64_t m = (rnd(g) | (1ULL << 63)) & (chance(g, 8) ? ~(1ULL << 63) : ~0ULL);
		uint16_t e = (uint16_t)(chance(g, 4) ? rnd(g) : 0x3fff - 64 + below(g, 128));

		memcpy(c->data + off, &m, 8);
		memcpy(c->data + off + 8, &e, 2);
	}
	c->fsw_mask = 0xffff & ~0x4700u;
	c->flags_undef = 0;
}

void diff_generate(struct diff_case *c, uint64_t seed, unsigned families)
{
	struct gen g = { .c = c, .rng = seed, .no_riprel = families & DIFF_GEN_NO_RIPREL };
	unsigned fams[3], nf = 0, fam, n;

	memset(c, 0, sizeof(*c));
	c->seed = seed;
	init_state(&g);
	if (families & DIFF_FAM_INT)
		fams[nf++] = DIFF_FAM_INT;
	if (families & DIFF_FAM_SSE)
		fams[nf++] = DIFF_FAM_SSE;
	if (families & DIFF_FAM_X87)
		fams[nf++] = DIFF_FAM_X87;
	if (nf == 0)
		fams[nf++] = DIFF_FAM_INT;
	fam = fams[below(&g, nf)];
	c->family = fam;
	/* With --compat, one case in 6 runs as 32-bit code in compatibility mode. */
	c->compat = g.compat = (families & DIFF_GEN_COMPAT) && chance(&g, 6);
	/* Now and then across the boundary of the two code pages. */
	c->base = chance(&g, 8) ? DIFF_CODE_VA + 4096 - 1 - below(&g, 48) : DIFF_CODE_VA;
	c->cmp_x87 = fam == DIFF_FAM_X87;
	n = 1 + below(&g, fam == DIFF_FAM_X87 ? 8 : 5);
	for (unsigned i = 0, tries = 0; i < n && tries < 64 && !g.failed; tries++) {
		bool ok;

		if (fam == DIFF_FAM_INT)
			ok = gen_int(&g);
		else if (fam == DIFF_FAM_SSE)
			ok = chance(&g, 6) ? gen_int(&g) : chance(&g, 6) ? gen_mmx(&g) : gen_sse(&g);
		else
			ok = gen_x87(&g);
		if (ok)
			i++;
	}
	c->flags_undef = g.undef;
}

unsigned diff_disasm(const uint8_t *code, unsigned len, unsigned off, uint64_t base, bool compat,
		     char *buf, size_t size)
{
	ZydisDisassembledInstruction in;

	if (off >= len ||
	    ZYAN_FAILED(ZydisDisassembleIntel(compat ? ZYDIS_MACHINE_MODE_LONG_COMPAT_32 :
								ZYDIS_MACHINE_MODE_LONG_64,
					      base + off,
					      code + off, len - off, &in))) {
		snprintf(buf, size, "(bad)");
		return off < len ? 1 : 0;
	}
	snprintf(buf, size, "%s", in.text);
	return in.info.length;
}
