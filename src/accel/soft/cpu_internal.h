/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software CPU's private state (struct soft_cpu) and the services the
 * core files (cpu.c, decode.c, mmu.c, exception.c, seg.c, system.c) share
 * with each other. Instruction handlers of other families use exec.h only.
 */
#ifndef OSPREY_ACCEL_SOFT_CPU_INTERNAL_H
#define OSPREY_ACCEL_SOFT_CPU_INTERNAL_H

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/soft/exec.h"
#include "accel/soft/flags.h"
#include "accel/soft/soft_cpu.h"

#define SOFT_LIKELY(x) __builtin_expect(!!(x), 1)
#define SOFT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- Software TLB ---------------------------------------------------------- */

#define SOFT_TLB_BITS 8
#define SOFT_TLB_SIZE (1u << SOFT_TLB_BITS)
#define SOFT_PAGE_MASK (~(uint64_t)0xfff)
#define SOFT_TLB_USER 1ull    /* tag bit: filled for a CPL 3 access */
#define SOFT_TLB_INVALID 2ull /* tag bit never present in a lookup key */

/*
 * One translated 4 KiB linear page. tag = linear page | SOFT_TLB_USER when
 * the entry was checked for a user access; host = host address of the
 * page (RAM only: MMIO pages never enter the TLB). codegen: the page's
 * code-tracking word (write entries check it: odd = holds decoded code).
 */
struct soft_tlb_entry {
	uint64_t tag;
	uint8_t *host;
	uint64_t gpa;
	_Atomic uint32_t *codegen;
	bool global;
	uint8_t shift; /* log2 of the guest page that mapped it: 12, 21, 22 or 30 */
};

enum soft_access { SOFT_ACC_READ, SOFT_ACC_WRITE, SOFT_ACC_EXEC };

/* ---- Decoded blocks -------------------------------------------------------- */

#define SOFT_BLOCK_MAX 32

struct soft_block {
	uint64_t gpa;	       /* of the first instruction */
	struct soft_block *next; /* hash chain */
	_Atomic uint32_t *word; /* the page's code-tracking word */
	uint32_t gen;	       /* its value at decode */
	uint8_t mode;	       /* decode mode (enum soft_mode) */
	uint8_t n;	       /* instructions */
	uint16_t bytes;	       /* total length */
	struct soft_insn insn[];
};

enum soft_mode { SOFT_MODE_REAL16, SOFT_MODE_PROT16, SOFT_MODE_PROT32, SOFT_MODE_LONG64, SOFT_NR_MODES };

/*
 * Linear RIP -> block, valid while the TLB epoch, mode and CPL class
 * match. Code on global pages keys on the global epoch (bumped only by
 * flushes of global entries), so kernel code survives CR3 switches.
 */
#define SOFT_JC_SIZE 1024
#define SOFT_JC_VALID 0x80
#define SOFT_JC_GLOBAL 0x40
struct soft_jc_entry {
	uint64_t lin;
	uint64_t key; /* epoch << 8 | SOFT_JC_VALID | [SOFT_JC_GLOBAL] | tlb_user << 4 | mode; 0 = empty */
	const struct soft_block *b;
};

struct soft_code_cache {
	struct soft_jc_entry jc[SOFT_JC_SIZE];
	uint8_t *arena;
	size_t arena_size, used;
	struct soft_block **hash;
	unsigned hash_size; /* power of two */
	/* One-instruction block for instructions that cross a page. */
	struct soft_block *scratch;
};

/* ---- The CPU ----------------------------------------------------------------- */

struct soft_cpu {
	struct x86_cpu_state s;
	struct soft_lazy_flags lazy;
	struct soft_env env;
	unsigned id;

	/* Mode caches (soft_mode_update). */
	unsigned cpl;
	uint64_t tlb_user; /* SOFT_TLB_USER when cpl == 3 */
	bool lma, code64;
	uint8_t mode; /* enum soft_mode */

	_Atomic unsigned events;

	/* Run loop. */
	jmp_buf jb;
	bool jb_valid;
	uint64_t insn_rip;		/* start of the instruction executing */
	const struct soft_insn *cur;	/* the instruction executing (or NULL) */
	bool stop_block;		/* leave the current block after this insn */
	int exit_req;			/* -1 or enum soft_exit to return at the block end */
	uint64_t budget;		/* soft_cpu_run_bounded: instructions left */
	bool bounded;

	/* Exception being raised / delivered. */
	int pend_vector;   /* -1: none */
	int64_t pend_error;
	bool pend_soft;	   /* INT n / INT3 / INTO: rip is the next instruction */
	bool pend_ext;	   /* external interrupt or NMI */
	int delivering;	   /* vector being delivered, -1 when none */
	bool delivering_soft; /* ... by INT n / INT3 / INTO (no EXT bit in nested error codes) */

	/* TSC */
	int64_t tsc_offset;
	/* TSC values soft_cpu_state() handed out since the last state_changed. */
	uint64_t tsc_read_lo, tsc_read_hi;
	bool tsc_read_valid;

	/* TLB */
	struct soft_tlb_entry tlb[3][SOFT_TLB_SIZE]; /* by enum soft_access */
	uint64_t tlb_epoch;   /* bumped on every TLB flush (jump cache validity) */
	uint64_t tlb_epoch_g; /* bumped on flushes of global entries */
	unsigned tlb_max_shift; /* largest page size filled since the last full flush */

	struct soft_code_cache cc;
	_Atomic uint32_t *fetch_codegen; /* code word of the page soft_fetch_page hit, or NULL */
	bool fetch_global;		 /* that page is a global one */
	struct soft_cpu_stats stats;
};

/*
 * base + index * scale + displacement of a memory operand (RIP-relative:
 * the next instruction's address), before the address-size mask and the
 * segment base: the one address sum soft_ea_offset() and the integer
 * handlers' inline int_ea() share.
 */
static inline uint64_t soft_ea_sum(const struct soft_cpu *cpu, const struct soft_operand *op)
{
	uint64_t a = (uint64_t)op->imm;

	if (op->base == SOFT_REG_RIP)
		a += cpu->s.rip;
	else if (op->base != SOFT_REG_NONE)
		a += cpu->s.gpr[op->base & 15];
	if (op->index != SOFT_REG_NONE)
		a += cpu->s.gpr[op->index & 15] * op->scale;
	return a;
}

/* ---- cpu.c ----------------------------------------------------------------- */
void soft_mode_update(struct soft_cpu *cpu);
uint64_t soft_now_ns(void);
void soft_cpu_reset_state(struct soft_cpu *cpu, bool init_only);

/* ---- mmu.c ----------------------------------------------------------------- */
void soft_tlb_flush(struct soft_cpu *cpu, bool global_too);
void soft_tlb_flush_page(struct soft_cpu *cpu, uint64_t linear);
/* Drops the write entries only (dirty logging: the next write marks again). */
void soft_tlb_drop_writes(struct soft_cpu *cpu);
/* Marks [gpa, gpa+len) dirty while guest memory logs dirty pages. */
static inline void soft_mark_dirty(const struct soft_cpu *cpu, uint64_t gpa, uint64_t len)
{
	if (SOFT_UNLIKELY(cpu->env.mem && cpu->env.mem->dirty))
		guest_mem_mark_dirty(cpu->env.mem, gpa, len);
}
/* Linear -> guest-physical for acc at privilege user (true: CPL 3 rules). Faults raise. */
uint64_t soft_translate(struct soft_cpu *cpu, uint64_t linear, enum soft_access acc, bool user);
/* Supervisor ("implicit") accesses: descriptor tables, TSS, IDT. */
void soft_read_sys(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len);
void soft_write_sys(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len);
/* Access with explicit user flag (delivery pushes to the new stack). */
void soft_read_as(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len, bool user);
void soft_write_as(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len, bool user);
/* Code fetch: host pointer to the instruction's page bytes, gpa out. */
uint8_t *soft_fetch_page(struct soft_cpu *cpu, uint64_t linear, uint64_t *gpa);
/* Physical access (RAM or MMIO). */
void soft_phys_rw(struct soft_cpu *cpu, uint64_t gpa, void *buf, unsigned len, bool is_write);
bool soft_canonical(uint64_t a);
/* After a fault: releases soft_lock_slow() if this thread still holds it. */
void soft_slow_lock_release(void);

/* Code-page tracking (process-wide). */
int soft_code_register(const struct guest_mem *mem);
void soft_code_unregister(void);
_Atomic uint32_t *soft_code_word(uint64_t gpa);
/* Marks the page of gpa as holding code; returns the word's value. */
uint32_t soft_code_mark(uint64_t gpa);

/* ---- decode.c --------------------------------------------------------------- */
int soft_decode_init(void);
int soft_cc_init(struct soft_code_cache *cc);
void soft_cc_free(struct soft_code_cache *cc);
void soft_cc_flush(struct soft_code_cache *cc);
/* The block starting at the current CS:RIP (decoding it if needed). */
const struct soft_block *soft_block_get(struct soft_cpu *cpu);

static inline uint64_t soft_jc_key(const struct soft_cpu *cpu, bool global)
{
	if (global)
		return (cpu->tlb_epoch_g << 8) | SOFT_JC_VALID | SOFT_JC_GLOBAL | (cpu->tlb_user << 4) | cpu->mode;
	return (cpu->tlb_epoch << 8) | SOFT_JC_VALID | (cpu->tlb_user << 4) | cpu->mode;
}

static inline struct soft_jc_entry *soft_jc_slot(struct soft_cpu *cpu, uint64_t lin)
{
	return &cpu->cc.jc[(lin ^ (lin >> 10)) & (SOFT_JC_SIZE - 1)];
}

/* soft_block_get's fast path (the jump cache), for the run loop. */
static inline const struct soft_block *soft_block_lookup(struct soft_cpu *cpu)
{
	uint64_t lin = cpu->s.seg[X86_CS].base + cpu->s.rip;

	if (!cpu->code64)
		lin &= 0xffffffffull;
	const struct soft_jc_entry *j = soft_jc_slot(cpu, lin);

	if (SOFT_LIKELY(j->lin == lin && (j->key == soft_jc_key(cpu, true) || j->key == soft_jc_key(cpu, false))) &&
	    SOFT_LIKELY(atomic_load_explicit(j->b->word, memory_order_acquire) == j->b->gen))
		return j->b;
	return soft_block_get(cpu);
}

/* ---- exception.c ------------------------------------------------------------ */
/* Raises a software interrupt (INT n/INT3/INTO: gate DPL checked, RIP = next). */
__attribute__((noreturn)) void soft_raise_soft(struct soft_cpu *cpu, unsigned vector);
/* Delivers cpu->pend_* (called by the run loop after the longjmp). */
void soft_deliver_pending(struct soft_cpu *cpu);
/* Delivers an external interrupt / NMI at an instruction boundary. */
void soft_deliver_external(struct soft_cpu *cpu, unsigned vector);

/* ---- seg.c ------------------------------------------------------------------ */
/* A descriptor (8 bytes; 16 for system descriptors in long mode) of the GDT/LDT. */
bool soft_desc_read(struct soft_cpu *cpu, uint16_t sel, uint64_t desc[2], bool sys16);
void soft_desc_to_seg(const uint64_t desc, struct x86_segment *seg, uint16_t sel);
/* Loads CS for a far transfer to sel (checks type/privilege for JMP/CALL/RET). */
/* The segment sel would load into sreg at privilege cpl (faults raise); nothing changes. */
bool soft_seg_check(struct soft_cpu *cpu, unsigned sreg, uint16_t sel, unsigned cpl, struct x86_segment *out);
void soft_load_cs_checked(struct soft_cpu *cpu, uint16_t sel, unsigned rpl_target, struct x86_segment *out);
void soft_seg_flat(struct x86_segment *seg, uint16_t sel, bool code, unsigned dpl, bool l64);
void soft_seg_real(struct x86_segment *seg, uint16_t sel);

/* ---- system.c --------------------------------------------------------------- */
void soft_far_jmp(struct soft_cpu *cpu, const struct soft_insn *in);
void soft_far_call(struct soft_cpu *cpu, const struct soft_insn *in);
void soft_far_ret(struct soft_cpu *cpu, const struct soft_insn *in);
/* MOV/PUSH/POP forms decode routes here instead of the integer MOV/PUSH/POP. */
void soft_sys_mov_cr(struct soft_cpu *cpu, const struct soft_insn *in);
void soft_sys_mov_dr(struct soft_cpu *cpu, const struct soft_insn *in);
void soft_sys_mov_sreg(struct soft_cpu *cpu, const struct soft_insn *in);
void soft_sys_push_sreg(struct soft_cpu *cpu, const struct soft_insn *in);
void soft_sys_pop_sreg(struct soft_cpu *cpu, const struct soft_insn *in);
/* Stack helpers (SS, stack width, RSP). */
void soft_push(struct soft_cpu *cpu, uint64_t v, unsigned size);
uint64_t soft_pop(struct soft_cpu *cpu, unsigned size);

#endif
