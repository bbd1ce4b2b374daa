/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential tests of the software CPU against the host CPU: shared
 * definitions of the test generator (gen.c), the host runner (native.c),
 * the soft CPU runner (soft.c) and the driver (difftest.c).
 *
 * A case is a short sequence of instructions plus an initial register
 * file and data buffer. Both runners execute exactly the same bytes at
 * the same virtual addresses in 64-bit user mode and report the same
 * struct diff_result.
 */
#ifndef OSPREY_TESTS_DIFF_DIFFTEST_H
#define OSPREY_TESTS_DIFF_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"

/* Virtual layout shared by both runners (below 2 GiB: absolute disp32 works). */
#define DIFF_CODE_VA 0x10000000ULL
#define DIFF_CODE_SIZE 8192u /* two pages: sequences may cross */
#define DIFF_DATA_VA 0x20000000ULL
#define DIFF_DATA_SIZE 4096u
#define DIFF_STACK_VA (DIFF_DATA_VA + DIFF_DATA_SIZE) /* one page */
#define DIFF_STACK_TOP (DIFF_STACK_VA + 4096u - 256u)

/* Room for the native runner's tail (jmp [rip]; dq exit) after the sequence. */
#define DIFF_CODE_MAX (4096u - 64u)
#define DIFF_MAX_INSNS 48

#define DIFF_ARITH_FLAGS 0x8d5u /* CF PF AF ZF SF OF */
#define DIFF_CMP_FLAGS (DIFF_ARITH_FLAGS | X86_FLAGS_DF)

enum diff_family {
	DIFF_FAM_INT = 1 << 0,
	DIFF_FAM_SSE = 1 << 1,
	DIFF_FAM_X87 = 1 << 2,
	DIFF_FAM_ALL = 7,
	/* generator options, or'ed into the families argument */
	DIFF_GEN_NO_RIPREL = 1 << 8, /* no RIP-relative memory operands */
	DIFF_GEN_COMPAT = 1 << 9,    /* one case in 6 in compatibility mode (32-bit code) */
};

struct diff_case {
	uint64_t seed; /* the case's own seed: regenerates it exactly */
	unsigned family;
	uint64_t base; /* virtual address of code[0]: DIFF_CODE_VA, or near the page end */
	bool compat;   /* 32-bit code, compatibility mode (CS.L=0, CS.D=1) */
	uint8_t code[DIFF_CODE_MAX];
	unsigned code_len;
	unsigned ninsns;
	uint16_t insn_off[DIFF_MAX_INSNS];
	uint32_t undef_before[DIFF_MAX_INSNS]; /* flags undefined when insn i starts */
	uint16_t fsw_before[DIFF_MAX_INSNS];   /* fsw_mask when insn i starts */
	/* Initial state. fx.st[] in stack order ST(0)..ST(7), as FXSAVE writes it. */
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rflags;
	struct x86_fxsave fx;
	uint8_t data[DIFF_DATA_SIZE];
	/* What not to compare: flags left undefined, x87 status bits. */
	uint32_t flags_undef;
	uint16_t fsw_mask; /* FSW bits compared */
	bool cmp_x87;	   /* compare the x87 registers and FCW/FSW/FTW */
};

enum diff_status {
	DIFF_END,      /* ran to the end of the sequence */
	DIFF_EXC,      /* an exception: vector, rip = the faulting instruction */
	DIFF_TIMEOUT,  /* soft CPU: instruction budget exhausted */
	DIFF_SHUTDOWN, /* soft CPU: triple fault */
	DIFF_LOST,     /* native: the child died or the result was not written */
	DIFF_BROKEN,   /* soft CPU: an exception the harness cannot explain */
};

struct diff_result {
	uint32_t status; /* enum diff_status */
	uint32_t vector;
	uint64_t error;
	uint64_t cr2; /* #PF: the faulting linear address */
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
	struct x86_fxsave fx; /* st[] in stack order */
	uint8_t data[DIFF_DATA_SIZE];
};

/* gen.c */
void diff_generate(struct diff_case *c, uint64_t seed, unsigned families);
uint64_t diff_case_seed(uint64_t seed, uint64_t index);
/* Formats one instruction at code offset off; returns its length (0: none). */
unsigned diff_disasm(const uint8_t *code, unsigned len, unsigned off, uint64_t base, bool compat,
		     char *buf, size_t size);

/* native.c: runs cases [0, n) of gen(seed) in a child; fills res[]. */
typedef void (*diff_gen_fn)(struct diff_case *c, uint64_t index, void *opaque);
int diff_native_run(diff_gen_fn gen, void *opaque, uint64_t n, struct diff_result *res);

/* soft.c */
struct diff_soft;
struct diff_soft *diff_soft_new(void);
void diff_soft_free(struct diff_soft *s);
void diff_soft_run(struct diff_soft *s, const struct diff_case *c, struct diff_result *r);

#endif
