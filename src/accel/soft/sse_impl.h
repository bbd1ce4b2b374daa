/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the SSE/SSE2/MMX handler files: vector operand access
 * (sse.c) and the integer SIMD handlers (sse_int.c) that sse.c's
 * soft_handlers_sse table lists.
 */
#ifndef OSPREY_ACCEL_SOFT_SSE_IMPL_H
#define OSPREY_ACCEL_SOFT_SSE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "accel/soft/exec.h"

/*
 * Reads operand i as len bytes: XMM (low len bytes), MMX (len <= 8), MEM
 * (alignment #GP first when align and len == 16), GPR (low len bytes).
 */
void sse_vread(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, void *dst, unsigned len,
	       bool align);
/* Writes len bytes to operand i; an XMM destination keeps its other bytes. */
void sse_vwrite(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, const void *src,
		unsigned len, bool align);
/* Does instruction in name an MMX register? (then it is an MMX instruction) */
bool sse_has_mmx(const struct soft_insn *in);
/* Vector width of an integer SIMD instruction: 8 (MMX) or 16 (XMM), with the checks done. */
unsigned sse_int_begin(struct soft_cpu *cpu, const struct soft_insn *in);

/* LDMXCSR / STMXCSR (sse.c; listed in x87.c's table with FXSAVE & co). */
void sse_h_ldmxcsr(struct soft_cpu *cpu, const struct soft_insn *in);
void sse_h_stmxcsr(struct soft_cpu *cpu, const struct soft_insn *in);

/* Integer SIMD handlers (sse_int.c). */
#define SSE_INT_HANDLERS(X) \
	X(PADDB) X(PADDW) X(PADDD) X(PADDQ) X(PSUBB) X(PSUBW) X(PSUBD) X(PSUBQ) \
	X(PADDSB) X(PADDSW) X(PADDUSB) X(PADDUSW) X(PSUBSB) X(PSUBSW) X(PSUBUSB) X(PSUBUSW) \
	X(PMULLW) X(PMULHW) X(PMULHUW) X(PMULUDQ) X(PMADDWD) \
	X(PCMPEQB) X(PCMPEQW) X(PCMPEQD) X(PCMPGTB) X(PCMPGTW) X(PCMPGTD) \
	X(PMINUB) X(PMAXUB) X(PMINSW) X(PMAXSW) X(PAVGB) X(PAVGW) X(PSADBW) \
	X(PAND) X(PANDN) X(POR) X(PXOR) \
	X(PSLLW) X(PSLLD) X(PSLLQ) X(PSRLW) X(PSRLD) X(PSRLQ) X(PSRAW) X(PSRAD) \
	X(PSLLDQ) X(PSRLDQ) \
	X(PACKSSWB) X(PACKSSDW) X(PACKUSWB) \
	X(PUNPCKLBW) X(PUNPCKLWD) X(PUNPCKLDQ) X(PUNPCKLQDQ) \
	X(PUNPCKHBW) X(PUNPCKHWD) X(PUNPCKHDQ) X(PUNPCKHQDQ) \
	X(PSHUFD) X(PSHUFLW) X(PSHUFHW) X(PSHUFW) X(PINSRW) X(PEXTRW) X(PMOVMSKB)

#define SSE_INT_DECL(m) void sse_h_##m(struct soft_cpu *cpu, const struct soft_insn *in);
SSE_INT_HANDLERS(SSE_INT_DECL)
#undef SSE_INT_DECL

#endif
