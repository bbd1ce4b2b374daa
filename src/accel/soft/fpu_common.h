/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers shared by the x87 (x87.c) and SSE/MMX (sse.c, sse_int.c)
 * instruction handlers of the software CPU: bits of CR0/CR4/FSW/MXCSR,
 * the device-not-available / #UD / #MF checks each family starts with,
 * MMX register access (MMi aliases the significand of physical x87
 * register Ri, struct x86_fxsave keeps st[] in physical order) and the
 * vector operand reads and writes of the SIMD handlers.
 */
#ifndef OSPREY_ACCEL_SOFT_FPU_COMMON_H
#define OSPREY_ACCEL_SOFT_FPU_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "accel/soft/exec.h"

#define FPU_CR0_MP (1u << 1)
#define FPU_CR0_EM (1u << 2)
#define FPU_CR0_TS (1u << 3)
#define FPU_CR0_NE (1u << 5)
#define FPU_CR4_OSFXSR (1u << 9)
#define FPU_CR4_OSXMMEXCPT (1u << 10)

/* x87 status word. */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)
#define FSW_EXC 0x003fu

/* MXCSR. */
#define MXCSR_EXC 0x003fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_RC 0x6000u
#define MXCSR_FZ 0x8000u
#define MXCSR_MASK_SUPPORTED 0xffffu /* what FXSAVE reports as MXCSR_MASK */
#define MXCSR_RESET 0x1f80u

static inline struct x86_fxsave *fpu_fx(struct soft_cpu *cpu)
{
	return &soft_regs(cpu)->fpu;
}

/* A pending unmasked x87 exception is delivered at a waiting instruction. */
static inline void fpu_pending_mf(struct soft_cpu *cpu)
{
	struct x86_cpu_state *r = soft_regs(cpu);

	if ((r->fpu.fsw & FSW_ES) && (r->cr0 & FPU_CR0_NE))
		soft_raise(cpu, X86_VEC_MF, -1);
	/* CR0.NE=0 (FERR# to the PIC) is not modelled: the exception stays pending. */
}

/* x87 instruction: #NM when EM or TS; a waiting one takes a pending #MF. */
static inline void fpu_check_x87(struct soft_cpu *cpu, bool waiting)
{
	if (soft_regs(cpu)->cr0 & (FPU_CR0_EM | FPU_CR0_TS))
		soft_raise(cpu, X86_VEC_NM, -1);
	if (waiting)
		fpu_pending_mf(cpu);
}

/* SSE/SSE2 instruction (also LDMXCSR/STMXCSR): #UD, then #NM. */
static inline void fpu_check_sse(struct soft_cpu *cpu)
{
	struct x86_cpu_state *r = soft_regs(cpu);

	if ((r->cr0 & FPU_CR0_EM) || !(r->cr4 & FPU_CR4_OSFXSR))
		soft_raise(cpu, X86_VEC_UD, -1);
	if (r->cr0 & FPU_CR0_TS)
		soft_raise(cpu, X86_VEC_NM, -1);
}

/* MMX instruction: #UD on EM, #NM on TS, pending #MF; then the MMX transition. */
static inline void fpu_check_mmx(struct soft_cpu *cpu)
{
	struct x86_cpu_state *r = soft_regs(cpu);

	if (r->cr0 & FPU_CR0_EM)
		soft_raise(cpu, X86_VEC_UD, -1);
	if (r->cr0 & FPU_CR0_TS)
		soft_raise(cpu, X86_VEC_NM, -1);
	fpu_pending_mf(cpu);
}

/* After the checks and the memory accesses: TOP = 0, every register valid. */
static inline void fpu_mmx_transition(struct soft_cpu *cpu)
{
	struct x86_fxsave *fx = fpu_fx(cpu);

	fx->fsw &= (uint16_t)~FSW_TOP;
	fx->ftw = 0xff;
}

static inline void fpu_mmx_get(struct soft_cpu *cpu, unsigned r, void *dst)
{
	memcpy(dst, fpu_fx(cpu)->st[r & 7], 8);
}

/* An MMX write also sets the exponent field to all ones. */
static inline void fpu_mmx_set(struct soft_cpu *cpu, unsigned r, const void *src)
{
	uint8_t *p = fpu_fx(cpu)->st[r & 7];

	memcpy(p, src, 8);
	p[8] = 0xff;
	p[9] = 0xff;
	memset(p + 10, 0, 6);
}

/* Raises #GP(0) when a 16-byte SSE memory operand is not 16-byte aligned. */
static inline void fpu_check_align16(struct soft_cpu *cpu, uint64_t linear)
{
	if (linear & 15)
		soft_raise(cpu, X86_VEC_GP, 0);
}

#endif
