/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the software CPU's core (decode cache, memory,
 * exceptions: core files) and its instruction handlers (integer, system,
 * x87, SSE: one file per family).
 *
 * Instructions are decoded once with Zydis into a compact struct
 * soft_insn and cached by guest-physical address; a handler gets the
 * decoded form and the CPU. Faults unwind: soft_raise() never returns (it
 * longjmps to the run loop), so a handler must finish every access that
 * can fault (soft_read/soft_write/soft_translate) before it changes any
 * register, which makes every instruction restartable.
 *
 * Handlers register by Zydis mnemonic in per-family tables
 * (SOFT_HANDLERS(...)); the core builds its dispatch array from them.
 */
#ifndef OSPREY_ACCEL_SOFT_EXEC_H
#define OSPREY_ACCEL_SOFT_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"

struct soft_cpu;

enum soft_opk {
	SOFT_OP_NONE,
	SOFT_OP_GPR,  /* reg: 0-15; size 1 with SOFT_REG_HIGH8 set for AH, CH, DH, BH */
	SOFT_OP_MEM,  /* seg, base, index, scale, disp; size = access size */
	SOFT_OP_IMM,  /* imm, already sign- or zero-extended as the instruction defines */
	SOFT_OP_XMM,  /* reg: 0-15 */
	SOFT_OP_MMX,  /* reg: 0-7 */
	SOFT_OP_ST,   /* reg: st(i), 0-7 relative to TOP */
	SOFT_OP_SREG, /* reg: enum x86_sreg */
	SOFT_OP_CR,   /* reg: 0-15 */
	SOFT_OP_DR,   /* reg: 0-7 */
	SOFT_OP_REL,  /* imm: branch displacement relative to the next instruction */
	SOFT_OP_PTR,  /* far pointer: imm = offset, sel = selector */
};

#define SOFT_REG_HIGH8 0x80
#define SOFT_REG_NONE 0xff

struct soft_operand {
	uint8_t kind; /* enum soft_opk */
	uint8_t size; /* bytes: 1, 2, 4, 8, 10, 16 */
	uint8_t reg;
	uint8_t seg;   /* SOFT_OP_MEM: enum x86_sreg after overrides */
	uint8_t base;  /* SOFT_OP_MEM: GPR or SOFT_REG_NONE; SOFT_REG_RIP for RIP-relative */
	uint8_t index; /* SOFT_OP_MEM: GPR or SOFT_REG_NONE */
	uint8_t scale; /* 1, 2, 4, 8 */
	uint8_t explicit_op; /* written in the encoding (not implicit like AL in STOSB) */
	uint16_t sel;  /* SOFT_OP_PTR */
	int64_t imm;   /* SOFT_OP_IMM, SOFT_OP_REL, SOFT_OP_PTR; SOFT_OP_MEM: displacement */
};
#define SOFT_REG_RIP 0xfe

/* Prefix and attribute flags of a decoded instruction. */
#define SOFT_INSN_LOCK (1u << 0)
#define SOFT_INSN_REP (1u << 1)	  /* F3 on a string instruction (REP / REPE) */
#define SOFT_INSN_REPNE (1u << 2) /* F2 on a string instruction */
#define SOFT_INSN_ENDS_BLOCK (1u << 3) /* branch, system, mode change: block ends here */

/*
 * What op[] holds (decode.c): op[] = Zydis' VISIBLE operands in Zydis
 * order (Intel order, destination first); nops = their count (at most 4).
 * Implicit operands are not listed. Examples:
 *   ADD r/m, r      op[0] = r/m, op[1] = r
 *   PUSH r / POP r  op[0] = the register or memory (RSP is implicit)
 *   PUSH imm        op[0] = IMM (sign-extended; size = operand size)
 *   MUL/DIV r/m     op[0] = r/m only (rAX/rDX implicit)
 *   IMUL r, r/m, i  op[0..2]
 *   IN AL, DX       op[0] = AL, op[1] = DX;  OUT imm8, AL: op[0] = IMM, op[1] = AL
 *   Jcc/JMP/CALL rel op[0] = SOFT_OP_REL;  RET imm16: op[0] = IMM
 *   LEA r, m        op[1] = MEM (use soft_ea_offset: no segment base)
 * String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) have no
 * visible operands in Zydis; for them op[] holds Zydis' MEMORY operands
 * (explicit_op = 0) so the segment after overrides is known:
 *   MOVS: op[0] = ES:[rDI], op[1] = seg:[rSI]   CMPS: op[0] = seg:[rSI], op[1] = ES:[rDI]
 *   STOS, SCAS, INS: op[0] = ES:[rDI]           LODS, OUTS: op[0] = seg:[rSI]
 *   XLAT: op[0] = seg:[rBX] (size 1)
 * with size = element size; opsize = element size too, addrsize = the
 * address size (rSI/rDI/rCX width).
 * Routed by the decoder to the system family, whatever the mnemonic
 * table says: far JMP/CALL/RET (branch type far), MOV to/from CRn, DRn
 * and segment registers, PUSH/POP of segment registers. The integer
 * handlers of MOV/PUSH/POP/JMP/CALL/RET never see those forms. A mnemonic
 * in soft_handlers_system wins over the other tables (PUSHF/POPF, CLI/STI,
 * IN/OUT...) and ends its block.
 * SOFT_OP_MEM operands with more than 255 bytes (FXSAVE, 512) have size 0.
 */
struct soft_insn;
typedef void (*soft_handler)(struct soft_cpu *cpu, const struct soft_insn *in);

struct soft_insn {
	soft_handler exec;
	uint16_t mnemonic; /* ZydisMnemonic */
	uint8_t len;	   /* bytes */
	uint8_t nops;	   /* visible operands in op[] */
	uint8_t opsize;	   /* effective operand size in bytes */
	uint8_t addrsize;  /* effective address size in bytes */
	uint8_t flags;	   /* SOFT_INSN_* */
	uint8_t opcode;	   /* last opcode byte */
	uint8_t opmap;	   /* 0: one-byte, 1: 0F, 2: 0F38, 3: 0F3A */
	uint8_t mandatory; /* SSE mandatory prefix: 0, 0x66, 0xF3, 0xF2 */
	uint8_t modrm_reg; /* ModRM.reg (group opcodes), 0 when none */
	uint8_t pad;
	struct soft_operand op[4];
};

/* A handler table entry: SOFT_HANDLERS(name) = { { ZYDIS_MNEMONIC_X, fn }, ... }. */
struct soft_handler_entry {
	uint16_t mnemonic;
	soft_handler fn;
};
struct soft_handler_table {
	const struct soft_handler_entry *entries;
	unsigned n;
};

/* The per-family tables the core dispatches from. */
extern const struct soft_handler_table soft_handlers_int;    /* integer, control flow, strings */
extern const struct soft_handler_table soft_handlers_system; /* system, MSRs, CPUID, descriptor tables */
extern const struct soft_handler_table soft_handlers_x87;    /* x87, FXSAVE/FXRSTOR, FWAIT */
extern const struct soft_handler_table soft_handlers_sse;    /* SSE, SSE2 (+ what the template shows), MMX */

/* ---- Services of the core, for handlers ---------------------------------- */

/* The register file (same pointer as soft_cpu_state()). */
struct x86_cpu_state *soft_regs(struct soft_cpu *cpu);

/* Raises an exception; never returns. error < 0: no error code. */
__attribute__((noreturn)) void soft_raise(struct soft_cpu *cpu, unsigned vector, int64_t error);

/* Linear address of a SOFT_OP_MEM operand (segment base added, address size masked, canonical checked by the access). */
uint64_t soft_ea(struct soft_cpu *cpu, const struct soft_insn *in, const struct soft_operand *op);

/*
 * Data accesses at a linear address with the current privilege level:
 * paging, protection and #PF/#GP as the architecture says; len up to 16
 * (may cross a page). MMIO is handled. Fault: soft_raise().
 */
void soft_read(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len);
void soft_write(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len);
/* Checks that [linear, linear+len) is writable now (for read-modify-write before committing). */
void soft_probe_write(struct soft_cpu *cpu, uint64_t linear, unsigned len);

/* Integer operand access (GPR, MEM, IMM, REL): zero-extended value of op->size bytes. */
uint64_t soft_op_read(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i);
/* Writes op i (GPR: 32-bit writes zero the upper half as in 64-bit mode; 8/16-bit merge). */
void soft_op_write(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, uint64_t v);

/* The offset part of a SOFT_OP_MEM operand (no segment base; for LEA). */
uint64_t soft_ea_offset(struct soft_cpu *cpu, const struct soft_insn *in, const struct soft_operand *op);

/*
 * Loads segment register sreg (not CS) with selector sel: real-mode
 * base = sel << 4, protected-mode descriptor checks (#GP/#NP/#SS). Faults
 * raise before anything changes.
 */
void soft_load_seg(struct soft_cpu *cpu, unsigned sreg, uint16_t sel);

/* Current privilege level and mode. */
unsigned soft_cpl(const struct soft_cpu *cpu);
bool soft_long_mode(const struct soft_cpu *cpu); /* IA-32e: 64-bit or compatibility */
bool soft_code64(const struct soft_cpu *cpu);	 /* CS.L in long mode */

/*
 * RFLAGS with the lazily computed arithmetic flags folded in / written back
 * (implemented in flags.c beside the lazy-flag state).
 */
uint64_t soft_get_flags(struct soft_cpu *cpu);
void soft_set_flags(struct soft_cpu *cpu, uint64_t rflags);

/*
 * RIP convention: when a handler runs, regs->rip already holds the address
 * of the NEXT instruction (so SOFT_OP_REL targets are rip + imm); the core
 * puts RIP back to the instruction's start when a fault is raised. A
 * handler that wants to be re-executed (a REP string instruction that
 * stops after a bounded chunk so interrupts can be taken) sets
 * regs->rip = soft_insn_rip(cpu).
 */
uint64_t soft_insn_rip(const struct soft_cpu *cpu);

/*
 * Translates [linear, linear+len) for a locked read-modify-write: the
 * write checks are done (and #PF raised) now. Returns a host pointer into
 * guest RAM, suitably placed for __atomic builtins on len bytes, or NULL
 * when the bytes are MMIO or cross a page: then the caller does
 * soft_read + soft_write under soft_lock_slow()/soft_unlock_slow(), a
 * process-wide lock (split locks are rare; x86 guarantees them anyway).
 */
void *soft_translate_rmw(struct soft_cpu *cpu, uint64_t linear, unsigned len);
void soft_lock_slow(void);
void soft_unlock_slow(void);

/* The lazy arithmetic flags (accel/soft/flags.h), for the flag helpers. */
struct soft_lazy_flags *soft_lazy(struct soft_cpu *cpu);

/* Logs once per mnemonic that an instruction is not implemented, then raises #UD. */
__attribute__((noreturn)) void soft_unimplemented(struct soft_cpu *cpu, const struct soft_insn *in);

#endif
