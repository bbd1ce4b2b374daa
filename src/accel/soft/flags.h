/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lazy arithmetic flags of the software CPU: ALU instructions record what
 * they did (operation, size, operands, result) and CF/PF/AF/ZF/SF/OF are
 * computed only when something reads them (Jcc, SETcc, PUSHF, interrupt
 * delivery...). Owned by the integer-instruction files; the core embeds
 * struct soft_lazy_flags in struct soft_cpu and reaches it with soft_lazy().
 *
 * While op is SOFT_LF_NONE the six arithmetic flags live in rflags; else
 * rflags' copies of them are stale and soft_lf_compute() derives them.
 * The other bits of rflags (DF, IF, TF...) are always in rflags.
 */
#ifndef OSPREY_ACCEL_SOFT_FLAGS_H
#define OSPREY_ACCEL_SOFT_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"

/* What produced the flags. src1, src2 and result are masked to size. */
enum soft_lf_op {
	SOFT_LF_NONE,  /* flags are in rflags */
	SOFT_LF_ADD,   /* result = src1 + src2 (+ CF: ADC shares the formulas) */
	SOFT_LF_SUB,   /* result = src1 - src2 (CMP, NEG with src1 = 0) */
	SOFT_LF_SBB,   /* result = src1 - src2 - CF */
	SOFT_LF_LOGIC, /* AND, OR, XOR, TEST: CF = OF = AF = 0 */
	SOFT_LF_INC,   /* result = src1 + 1; src2 = the CF to keep */
	SOFT_LF_DEC,   /* result = src1 - 1; src2 = the CF to keep */
	SOFT_LF_SHL,   /* src1 << src2 (1 <= src2) */
	SOFT_LF_SHR,   /* src1 >> src2 (1 <= src2) */
	SOFT_LF_SAR,   /* src1 >>> src2 (1 <= src2) */
	SOFT_LF_MUL,   /* result = low half; src2 = CF = OF (0 or 1) */
};

#define SOFT_FLAGS_ARITH                                                                  \
	(X86_FLAGS_CF | X86_FLAGS_PF | X86_FLAGS_AF | X86_FLAGS_ZF | X86_FLAGS_SF |       \
	 X86_FLAGS_OF)

struct soft_lazy_flags {
	uint64_t result;
	uint64_t src1;
	uint64_t src2;
	uint32_t op;   /* enum soft_lf_op */
	uint32_t size; /* operand size in bytes: 1, 2, 4, 8 */
};

/* Condition codes in encoding order (the low nibble of Jcc/SETcc/CMOVcc). */
enum soft_cc {
	SOFT_CC_O, SOFT_CC_NO, SOFT_CC_B, SOFT_CC_AE, SOFT_CC_E, SOFT_CC_NE, SOFT_CC_BE, SOFT_CC_A,
	SOFT_CC_S, SOFT_CC_NS, SOFT_CC_P, SOFT_CC_NP, SOFT_CC_L, SOFT_CC_GE, SOFT_CC_LE, SOFT_CC_G,
};

/* The six arithmetic flags (SOFT_FLAGS_ARITH bits) the record describes; rflags for NONE. */
uint64_t soft_lf_compute(const struct soft_lazy_flags *lf, uint64_t rflags);

static inline void soft_lf_set(struct soft_lazy_flags *lf, unsigned op, unsigned size,
			       uint64_t src1, uint64_t src2, uint64_t result)
{
	lf->op = op;
	lf->size = size;
	lf->src1 = src1;
	lf->src2 = src2;
	lf->result = result;
}

static inline uint64_t soft_lf_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline int64_t soft_lf_sext(uint64_t v, unsigned size)
{
	unsigned sh = 64 - size * 8;
	return (int64_t)(v << sh) >> sh;
}

/* Flags as a whole from the record plus rflags' other bits (no state change). */
static inline uint64_t soft_lf_rflags(const struct soft_lazy_flags *lf, uint64_t rflags)
{
	if (lf->op == SOFT_LF_NONE)
		return rflags;
	return (rflags & ~(uint64_t)SOFT_FLAGS_ARITH) | soft_lf_compute(lf, rflags);
}

/* Evaluates a condition on architectural flag bits. */
static inline bool soft_cc_eval_flags(uint64_t f, unsigned cc)
{
	bool v;
	switch (cc >> 1) {
	case 0: v = f & X86_FLAGS_OF; break;
	case 1: v = f & X86_FLAGS_CF; break;
	case 2: v = f & X86_FLAGS_ZF; break;
	case 3: v = f & (X86_FLAGS_CF | X86_FLAGS_ZF); break;
	case 4: v = f & X86_FLAGS_SF; break;
	case 5: v = f & X86_FLAGS_PF; break;
	case 6: v = !(f & X86_FLAGS_SF) != !(f & X86_FLAGS_OF); break;
	default:
		v = (f & X86_FLAGS_ZF) || !(f & X86_FLAGS_SF) != !(f & X86_FLAGS_OF);
		break;
	}
	return v ^ (cc & 1);
}

/*
 * Evaluates condition cc (enum soft_cc); with a constant cc this folds to
 * a compare for the common producers (CMP/SUB, TEST/AND/OR/XOR).
 */
static inline bool soft_lf_cond(const struct soft_lazy_flags *lf, uint64_t rflags, unsigned cc)
{
	uint64_t a = lf->src1, b = lf->src2, r = lf->result;
	unsigned size = lf->size;
	bool v;

	if (lf->op == SOFT_LF_SUB) {
		switch (cc >> 1) {
		case 0: v = (((a ^ b) & (a ^ r)) >> (size * 8 - 1)) & 1; break;
		case 1: v = a < b; break;
		case 2: v = a == b; break;
		case 3: v = a <= b; break;
		case 4: v = (r >> (size * 8 - 1)) & 1; break;
		case 5: v = !__builtin_parity((unsigned)(r & 0xff)); break;
		case 6: v = soft_lf_sext(a, size) < soft_lf_sext(b, size); break;
		default: v = soft_lf_sext(a, size) <= soft_lf_sext(b, size); break;
		}
		return v ^ (cc & 1);
	}
	if (lf->op == SOFT_LF_LOGIC) {
		switch (cc >> 1) {
		case 0: v = false; break;
		case 1: v = false; break;
		case 2: v = r == 0; break;
		case 3: v = r == 0; break;
		case 4: v = (r >> (size * 8 - 1)) & 1; break;
		case 5: v = !__builtin_parity((unsigned)(r & 0xff)); break;
		case 6: v = (r >> (size * 8 - 1)) & 1; break;
		default: v = r == 0 || ((r >> (size * 8 - 1)) & 1); break;
		}
		return v ^ (cc & 1);
	}
	if (lf->op == SOFT_LF_NONE)
		return soft_cc_eval_flags(rflags, cc);
	if ((cc >> 1) == 2)
		return (r == 0) ^ (cc & 1);
	return soft_cc_eval_flags(soft_lf_compute(lf, rflags), cc);
}

/* CF alone (ADC, SBB, RCL, RCR, INC/DEC keeping it). */
static inline bool soft_lf_cf(const struct soft_lazy_flags *lf, uint64_t rflags)
{
	switch (lf->op) {
	case SOFT_LF_NONE: return rflags & X86_FLAGS_CF;
	case SOFT_LF_SUB: return lf->src1 < lf->src2;
	case SOFT_LF_LOGIC: return false;
	case SOFT_LF_INC:
	case SOFT_LF_DEC: return lf->src2 & 1;
	default: return soft_lf_compute(lf, rflags) & X86_FLAGS_CF;
	}
}

#endif
