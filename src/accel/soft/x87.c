/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x87 instructions of the software CPU, plus FXSAVE/FXRSTOR,
 * LDMXCSR/STMXCSR and EMMS: the soft_handlers_x87 table.
 *
 * The register stack lives in struct x86_fxsave (st[] in physical order
 * R0..R7, TOP in FSW bits 11-13, the abridged tag word in ftw); this file
 * keeps the stack (TOP, tags, stack overflow/underflow) itself and runs
 * the arithmetic on the host's x87 unit, which is the same 80-bit
 * extended format: each operation is one short asm block that loads the
 * operands, executes the very instruction and reads the status word.
 * Results, NaN propagation, C0-C3 and the exception flags therefore are
 * those of hardware. With every guest exception masked (the common case)
 * the host FPU stays as the ABI leaves it and only the guest's precision
 * and rounding control are loaded when they differ (x87_run, X87_FN: no
 * FLDENV/FNINIT per instruction); with one unmasked, the guest's control
 * word and condition codes are loaded by FLDENV and the host FPU reset
 * after. An unmasked exception sets ES and B and leaves the destination
 * alone; #MF is raised by the next waiting x87/MMX instruction when
 * CR0.NE=1.
 */
#include <stddef.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "accel/soft/fpu.h"
#include "accel/soft/fpu_common.h"
#include "accel/soft/sse_impl.h"

/* ---- Host execution -------------------------------------------------------- */

/* What the slow path (an exception unmasked) needs besides struct x87_io. */
struct x87_slow {
	uint8_t env[28]; /* guest control word and condition codes, empty stack */
	uint16_t hcw;	 /* the host's control word, restored at the end */
	/* Registers after the run (FXSAVE does not wait for the pending exception). */
	uint8_t img[512] __attribute__((aligned(16)));
};

struct x87_io {
	/* s[0] -> st(0), s[1] -> st(1) before; st(0), st(1) after: 80-bit, as bytes */
	uint8_t s[2][16] __attribute__((aligned(16)));
	uint64_t m[2];	  /* memory operand of m16/m32/m64 (and m80 BCD) forms */
	uint16_t sw;	  /* status word right after the instruction (C0-C3: see ccin) */
	uint16_t ccin;	  /* the guest's FSW before: its C0-C3 the instruction leaves */
	struct x87_slow *slow; /* NULL: every exception masked (the fast path) */
};

#define LD0 ""
#define LD1 "fldt %[s0]\n\t"
#define LD2 "fldt %[s1]\n\tfldt %[s0]\n\t"
#define ST0 ""
#define ST1 "fstpt %[s0]\n\t"
#define ST2 "fstpt %[s0]\n\tfstpt %[s1]\n\t"
/* What stays on the host stack after ST: popped on the fast path. */
#define P0 ""
#define P1 "fstp %%st(0)\n\t"
#define P2 "fstp %%st(0)\n\tfstp %%st(0)\n\t"
/* The condition codes an instruction writes (the others keep their value). */
#define CC1 FSW_C1
#define CC12 (FSW_C1 | FSW_C2)
#define CCALL FSW_CC
/* Which ones depends on the operands: the fast path loads them by FLDENV. */
#define CCENV 0
/* The host's sticky status bits: exception flags and stack fault. */
#define X87_STICKY (FSW_EXC | FSW_SF)

/* An FLDENV image: the host's control word as it is, condition codes cc, empty stack. */
static void x87_fast_env(uint8_t *env, uint16_t cc)
{
	uint16_t cw, tw = 0xffff;

	asm volatile("fnstcw %0" : "=m"(cw));
	cc &= FSW_CC;
	memset(env, 0xff, 28);
	memcpy(env + 0, &cw, 2);
	memcpy(env + 4, &cc, 2);
	memcpy(env + 8, &tw, 2);
}

/*
 * The fast path (io->slow NULL: every guest exception masked; x87_run
 * has loaded the guest's precision and rounding control): the host FPU
 * is as the ABI leaves it between calls (empty stack, exceptions
 * masked), so the instruction runs as it is and the stack is left
 * empty again. Condition codes the instruction does not write are
 * those of the guest (hardware keeps them, ccin). The host's sticky
 * exception flags are cleared (FNCLEX is slow: some 30 ns) only when
 * one is not already set in the guest's FSW: the flags the host then
 * shows after the instruction are the guest's plus the new ones, which
 * is all a masked exception does to the FSW.
 *
 * The slow path (io->slow: an exception unmasked; hardware then keeps
 * the operands, or delivers a result with a wrapped exponent): FLDENV
 * loads the guest's control word and condition codes, the exception
 * stays pending in the host FPU, only non-waiting instructions follow
 * (FNSTSW, FXSAVE, FNINIT), and the registers come back from FXSAVE.
 */
#define X87_FN(name, ld, body, st, pop, cc)                                                     \
	static __attribute__((noinline)) void name(struct x87_io *io)                         \
	{                                                                                     \
		struct x87_slow *sl = io->slow;                                               \
		uint8_t env[28];                                                              \
                                                                                              \
		if (!sl && (cc)) {                                                            \
			asm volatile("fnstsw %%ax\n\t"                                       \
				     "test %[stale], %%ax\n\t"                               \
				     "jz 1f\n\t"                                              \
				     "fnclex\n"                                               \
				     "1:\n\t" ld body "\n\t"                                  \
				     "fnstsw %[sw]\n\t" st pop                                \
				     : [s0] "+m"(io->s[0]), [s1] "+m"(io->s[1]), [m] "+m"(io->m), \
				       [sw] "=m"(io->sw)                                      \
				     : [stale] "rm"((uint16_t)(~io->ccin & X87_STICKY))        \
				     : "ax", "cc", "st", "st(1)", "st(2)", "st(3)", "st(4)",  \
				       "st(5)", "st(6)", "st(7)");                            \
			io->sw = (uint16_t)((io->sw & ~(FSW_CC & ~(cc))) |                    \
					    (io->ccin & FSW_CC & ~(cc)));                     \
			return;                                                               \
		}                                                                             \
		if (!sl) {                                                                    \
			x87_fast_env(env, io->ccin);                                          \
			asm volatile("fldenv %[env]\n\t" ld body "\n\t"                       \
				     "fnstsw %[sw]\n\t" st pop                                \
				     : [s0] "+m"(io->s[0]), [s1] "+m"(io->s[1]), [m] "+m"(io->m), \
				       [sw] "=m"(io->sw)                                      \
				     : [env] "m"(env)                                         \
				     : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", \
				       "st(7)");                                              \
			return;                                                               \
		}                                                                             \
		asm volatile("fnstcw %[hcw]\n\t"                                              \
			     "fldenv %[env]\n\t" ld body "\n\t"                               \
			     "fnstsw %[sw]\n\tfxsave %[img]\n\tfninit\n\t"                    \
			     "fldcw %[hcw]"                                                   \
			     : [s0] "+m"(io->s[0]), [s1] "+m"(io->s[1]), [m] "+m"(io->m),     \
			       [sw] "=m"(io->sw), [hcw] "=m"(sl->hcw), [img] "=m"(sl->img)    \
			     : [env] "m"(sl->env)                                             \
			     : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)",    \
			       "st(7)");                                                      \
	}

/* Register forms: s0 = s0 op s1. */
X87_FN(hx_fadd, LD2, "fadd %%st(1), %%st", ST1, P1, CC1)
X87_FN(hx_fsub, LD2, "fsub %%st(1), %%st", ST1, P1, CC1)
X87_FN(hx_fmul, LD2, "fmul %%st(1), %%st", ST1, P1, CC1)
X87_FN(hx_fdiv, LD2, "fdiv %%st(1), %%st", ST1, P1, CC1)
X87_FN(hx_fcom, LD2, "fcom %%st(1)", ST0, P2, CCALL)
X87_FN(hx_fucom, LD2, "fucom %%st(1)", ST0, P2, CCALL)
X87_FN(hx_fscale, LD2, "fscale", ST1, P1, CC1)
X87_FN(hx_fprem, LD2, "fprem", ST1, P1, CCENV)
X87_FN(hx_fprem1, LD2, "fprem1", ST1, P1, CCENV)
X87_FN(hx_fpatan, LD2, "fpatan", ST1, P0, CC1)
X87_FN(hx_fyl2x, LD2, "fyl2x", ST1, P0, CC1)
X87_FN(hx_fyl2xp1, LD2, "fyl2xp1", ST1, P0, CC1)
/* Unary on s0. */
X87_FN(hx_fsqrt, LD1, "fsqrt", ST1, P0, CC1)
X87_FN(hx_frndint, LD1, "frndint", ST1, P0, CC1)
X87_FN(hx_f2xm1, LD1, "f2xm1", ST1, P0, CC1)
X87_FN(hx_fsin, LD1, "fsin", ST1, P0, CC12)
X87_FN(hx_fcos, LD1, "fcos", ST1, P0, CC12)
X87_FN(hx_ftst, LD1, "ftst", ST0, P1, CCALL)
X87_FN(hx_fxam, LD1, "fxam", ST0, P1, CCALL)
/* s0 -> (s0, s1) = new st(0), st(1). */
X87_FN(hx_fxtract, LD1, "fxtract", ST2, P0, CC1)
X87_FN(hx_fptan, LD1, "fptan", ST2, P0, CC12)
X87_FN(hx_fsincos, LD1, "fsincos", ST2, P0, CC12)
/* Loads into s0. */
X87_FN(hx_flds, LD0, "flds %[m]", ST1, P0, CC1)
X87_FN(hx_fldl, LD0, "fldl %[m]", ST1, P0, CC1)
X87_FN(hx_filds, LD0, "filds %[m]", ST1, P0, CC1)
X87_FN(hx_fildl, LD0, "fildl %[m]", ST1, P0, CC1)
X87_FN(hx_fildll, LD0, "fildll %[m]", ST1, P0, CC1)
X87_FN(hx_fld1, LD0, "fld1", ST1, P0, CC1)
X87_FN(hx_fldl2t, LD0, "fldl2t", ST1, P0, CC1)
X87_FN(hx_fldl2e, LD0, "fldl2e", ST1, P0, CC1)
X87_FN(hx_fldpi, LD0, "fldpi", ST1, P0, CC1)
X87_FN(hx_fldlg2, LD0, "fldlg2", ST1, P0, CC1)
X87_FN(hx_fldln2, LD0, "fldln2", ST1, P0, CC1)
X87_FN(hx_fldz, LD0, "fldz", ST1, P0, CC1)
/* Stores of s0 into m. */
X87_FN(hx_fsts, LD1, "fstps %[m]", ST0, P0, CC1)
X87_FN(hx_fstl, LD1, "fstpl %[m]", ST0, P0, CC1)
X87_FN(hx_fists, LD1, "fistps %[m]", ST0, P0, CC1)
X87_FN(hx_fistl, LD1, "fistpl %[m]", ST0, P0, CC1)
X87_FN(hx_fistll, LD1, "fistpll %[m]", ST0, P0, CC1)
X87_FN(hx_fisttps, LD1, "fisttps %[m]", ST0, P0, CC1)
X87_FN(hx_fisttpl, LD1, "fisttpl %[m]", ST0, P0, CC1)
X87_FN(hx_fisttpll, LD1, "fisttpll %[m]", ST0, P0, CC1)
X87_FN(hx_fbld, LD0, "fbld %[m]", ST1, P0, CC1)
X87_FN(hx_fbstp, LD1, "fbstp %[m]", ST0, P0, CC1)

/* Memory forms: s0 = s0 op m (m32/m64 real, m16/m32 integer). */
#define X87_MEMOPS(op, iop)                                    \
	X87_FN(hx_##op##s, LD1, #op "s %[m]", ST1, P0, CC1)    \
	X87_FN(hx_##op##l, LD1, #op "l %[m]", ST1, P0, CC1)    \
	X87_FN(hx_##iop##s, LD1, #iop "s %[m]", ST1, P0, CC1)  \
	X87_FN(hx_##iop##l, LD1, #iop "l %[m]", ST1, P0, CC1)
X87_MEMOPS(fadd, fiadd)
X87_MEMOPS(fsub, fisub)
X87_MEMOPS(fsubr, fisubr)
X87_MEMOPS(fmul, fimul)
X87_MEMOPS(fdiv, fidiv)
X87_MEMOPS(fdivr, fidivr)
X87_FN(hx_fcoms, LD1, "fcoms %[m]", ST0, P1, CCALL)
X87_FN(hx_fcoml, LD1, "fcoml %[m]", ST0, P1, CCALL)
X87_FN(hx_ficoms, LD1, "ficoms %[m]", ST0, P1, CCALL)
X87_FN(hx_ficoml, LD1, "ficoml %[m]", ST0, P1, CCALL)

typedef void (*x87_hostfn)(struct x87_io *io);

/* ---- Register stack ------------------------------------------------------- */

static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };

static unsigned top(struct x86_fxsave *fx)
{
	return (fx->fsw >> 11) & 7;
}

static void set_top(struct x86_fxsave *fx, unsigned t)
{
	fx->fsw = (uint16_t)((fx->fsw & ~FSW_TOP) | ((t & 7) << 11));
}

static unsigned phys(struct x86_fxsave *fx, unsigned i)
{
	return (top(fx) + i) & 7;
}

static bool st_valid(struct x86_fxsave *fx, unsigned i)
{
	return fx->ftw & (1u << phys(fx, i));
}

/* Copies st(i) into an 80-bit buffer (never through a host register). */
static void st_get(struct x86_fxsave *fx, unsigned i, uint8_t *v10)
{
	memcpy(v10, fx->st[phys(fx, i)], 10);
}

static void st_set_raw(struct x86_fxsave *fx, unsigned i, const void *v10)
{
	uint8_t *p = fx->st[phys(fx, i)];

	memcpy(p, v10, 10);
	memset(p + 10, 0, 6);
	fx->ftw |= (uint8_t)(1u << phys(fx, i));
}

static void st_pop(struct x86_fxsave *fx)
{
	fx->ftw &= (uint8_t)~(1u << phys(fx, 0));
	set_top(fx, top(fx) + 1);
}

/* Full 2-bit tag of physical register p: 0 valid, 1 zero, 2 special, 3 empty. */
static unsigned full_tag(const struct x86_fxsave *fx, unsigned p)
{
	const uint8_t *r = fx->st[p];
	uint64_t mant;
	unsigned exp;

	if (!(fx->ftw & (1u << p)))
		return 3;
	memcpy(&mant, r, 8);
	exp = (r[8] | (unsigned)r[9] << 8) & 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return (mant >> 63) ? 0 : 2;
}

uint16_t soft_fpu_full_tag_word(const struct x86_fxsave *fx)
{
	uint16_t tw = 0;

	for (unsigned p = 0; p < 8; p++)
		tw |= (uint16_t)(full_tag(fx, p) << (2 * p));
	return tw;
}

uint8_t soft_fpu_abridged_tag(uint16_t tw)
{
	uint8_t t = 0;

	for (unsigned p = 0; p < 8; p++)
		if (((tw >> (2 * p)) & 3) != 3)
			t |= (uint8_t)(1u << p);
	return t;
}

/* ES and B follow the unmasked exception flags. */
static void update_es(struct x86_fxsave *fx)
{
	if (fx->fsw & ~fx->fcw & FSW_EXC)
		fx->fsw |= FSW_ES | FSW_B;
	else
		fx->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}

/*
 * Records exception flags exc and, under ccmask, the condition codes of
 * host status word sw; ES and B when one is unmasked. Returns false when
 * an unmasked invalid, denormal or divide-by-zero (or stack fault)
 * stopped the instruction: the destination must then stay unchanged.
 */
static bool x87_flags_cmp(struct x86_fxsave *fx, uint16_t exc, uint16_t sw, uint16_t ccmask,
			  bool compare)
{
	exc &= FSW_EXC | FSW_SF;
	/*
	 * An unmasked invalid, denormal or divide-by-zero stops the operation
	 * before it computes: no result flags. The condition codes are the
	 * host's, which ran with the guest's loaded (x87_run's slow path):
	 * hardware still clears C1 (and FPREM C2) then.
	 */
	if (exc & ~fx->fcw & (FSW_IE | FSW_DE | FSW_ZE) && !(exc & FSW_SF) && !compare)
		exc &= FSW_IE | FSW_DE | FSW_ZE;
	fx->fsw = (uint16_t)((fx->fsw & ~ccmask) | (sw & ccmask) | exc);
	if (exc & ~fx->fcw & FSW_EXC) {
		fx->fsw |= FSW_ES | FSW_B;
		/* Unmasked overflow, underflow, precision: the result is delivered. */
		return !(exc & ~fx->fcw & (FSW_IE | FSW_DE | FSW_ZE));
	}
	return true;
}

static bool x87_flags(struct x86_fxsave *fx, uint16_t exc, uint16_t sw, uint16_t ccmask)
{
	return x87_flags_cmp(fx, exc, sw, ccmask, false);
}

/* Stack underflow (an empty register read): false when IE is unmasked. */
static bool x87_underflow(struct x86_fxsave *fx)
{
	return x87_flags(fx, FSW_IE | FSW_SF, 0, FSW_C1);
}

/* Checks for a push: false (nothing to do) when the stack overflows with IE unmasked. */
static bool x87_push_ok(struct x86_fxsave *fx, bool *overflow)
{
	*overflow = fx->ftw & (1u << ((top(fx) + 7) & 7));
	if (*overflow)
		return x87_flags(fx, FSW_IE | FSW_SF, FSW_C1, FSW_C1);
	return true;
}

static void x87_push(struct x86_fxsave *fx, const uint8_t *v10, bool overflow)
{
	set_top(fx, top(fx) + 7);
	st_set_raw(fx, 0, overflow ? indefinite : v10);
}

/* The control-word bits that change results: precision, rounding, exception masks. */
#define FCW_LIVE 0x0f3fu

/*
 * With any exception unmasked, run under the guest's masks: the host
 * then shows exactly what hardware does (operands kept on an
 * invalid/denormal/zero-divide, a wrapped exponent on overflow and
 * underflow, underflow of exact tiny results).
 */
static __attribute__((noinline)) void x87_run_slow(struct x86_fxsave *fx, x87_hostfn fn,
						   struct x87_io *io)
{
	struct x87_slow sl;
	uint16_t cw = fx->fcw, sw = fx->fsw & FSW_CC, tw = 0xffff;

	memset(sl.env, 0xff, sizeof(sl.env));
	memcpy(sl.env + 0, &cw, 2);
	memcpy(sl.env + 4, &sw, 2);
	memcpy(sl.env + 8, &tw, 2);
	io->slow = &sl;
	fn(io);
	io->slow = NULL;
	memcpy(io->s[0], sl.img + 32, 10);
	memcpy(io->s[1], sl.img + 48, 10);
}

/*
 * Runs fn on the host with the guest's control word and condition codes
 * (io->s[] and io->m[] set by the caller). Every exception masked, the
 * common case, takes the fast path: the host's control word is changed
 * only when the guest's precision or rounding control differ from it.
 */
static void x87_run(struct x86_fxsave *fx, x87_hostfn fn, struct x87_io *io)
{
	uint16_t hcw, cw;

	io->ccin = fx->fsw;
	io->slow = NULL;
	if (__builtin_expect((fx->fcw & FSW_EXC) != FSW_EXC, 0)) {
		x87_run_slow(fx, fn, io);
		return;
	}
	asm volatile("fnstcw %0" : "=m"(hcw) : : "memory");
	if ((hcw & FCW_LIVE) == (fx->fcw & FCW_LIVE)) {
		fn(io);
		return;
	}
	cw = (uint16_t)((hcw & ~FCW_LIVE) | (fx->fcw & FCW_LIVE));
	asm volatile("fldcw %0" : : "m"(cw) : "memory");
	fn(io);
	asm volatile("fldcw %0" : : "m"(hcw) : "memory");
}

/* FIP/FOP/FDP of the last non-control instruction. */
static void x87_note(struct soft_cpu *cpu, const struct soft_insn *in, uint64_t ea, unsigned sti)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	/* An x87 memory operand is op[0] or op[1]. */
	bool mem = (in->nops > 0 && in->op[0].kind == SOFT_OP_MEM) ||
		   (in->nops > 1 && in->op[1].kind == SOFT_OP_MEM);

	fx->fip = soft_insn_rip(cpu);
	if (mem) {
		fx->fdp = ea;
		fx->fop = (uint16_t)(((in->opcode & 7) << 8) | ((in->modrm_reg & 7) << 3));
	} else {
		fx->fop = (uint16_t)(((in->opcode & 7) << 8) | 0xc0 | ((in->modrm_reg & 7) << 3) |
				     (sti & 7));
	}
}

/* The st(i) of a register form: the ST operand that is not st(0), else 0. */
static unsigned sti_of(const struct soft_insn *in)
{
	unsigned r = 0;

	for (unsigned i = 0; i < in->nops && i < 4; i++)
		if (in->op[i].kind == SOFT_OP_ST && in->op[i].reg > r)
			r = in->op[i].reg;
	return r & 7;
}

static int mem_op(const struct soft_insn *in)
{
	for (unsigned i = 0; i < in->nops && i < 4; i++)
		if (in->op[i].kind == SOFT_OP_MEM)
			return (int)i;
	return -1;
}

/* Reads the memory operand (size bytes, at most 8) into *m; returns its address. */
static uint64_t read_m(struct soft_cpu *cpu, const struct soft_insn *in, int i, unsigned size,
		       uint64_t *m)
{
	uint64_t ea = soft_ea(cpu, in, &in->op[i]);

	*m = 0;
	if (size > 8 || !size)
		size = 8; /* the decoder gives 2, 4 or 8 here; never more than *m */
	soft_read(cpu, ea, m, size);
	return ea;
}

/* ---- Loads and stores ------------------------------------------------------ */

/* Pushes the result of host load fn (m already set); handles overflow. */
static void x87_load(struct soft_cpu *cpu, x87_hostfn fn, uint64_t m)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { .m = { m, 0 } };
	bool ovf;

	if (!x87_push_ok(fx, &ovf))
		return;
	if (ovf) {
		x87_push(fx, NULL, true);
		return;
	}
	x87_run(fx, fn, &io);
	/* An unmasked denormal operand still loads (the value is exact). */
	if (!x87_flags(fx, io.sw, io.sw, FSW_CC) && (io.sw & ~fx->fcw & FSW_EXC) != FSW_DE)
		return;
	x87_push(fx, io.s[0], false);
}

static void h_fld(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	int mi = mem_op(in);
	uint64_t m = 0, ea = 0;
	uint8_t raw[10];
	bool ovf;

	fpu_check_x87(cpu, true);
	if (mi >= 0) {
		unsigned size = in->op[mi].size;

		if (size == 10) {
			ea = soft_ea(cpu, in, &in->op[mi]);
			soft_read(cpu, ea, raw, 10);
		} else {
			ea = read_m(cpu, in, mi, size == 8 ? 8 : 4, &m);
		}
		x87_note(cpu, in, ea, 0);
		if (size == 10) {
			if (!x87_push_ok(fx, &ovf))
				return;
			fx->fsw &= (uint16_t)~FSW_C1;
			if (ovf)
				fx->fsw |= FSW_C1;
			set_top(fx, top(fx) + 7);
			st_set_raw(fx, 0, ovf ? indefinite : raw);
			return;
		}
		x87_load(cpu, size == 8 ? hx_fldl : hx_flds, m);
		return;
	}
	/* FLD st(i): a plain copy of the register. */
	unsigned i = sti_of(in);
	x87_note(cpu, in, 0, i);
	bool empty = !st_valid(fx, i);
	if (empty && !x87_underflow(fx))
		return;
	memcpy(raw, empty ? indefinite : fx->st[phys(fx, i)], 10);
	if (!x87_push_ok(fx, &ovf))
		return;
	if (!ovf && !empty)
		fx->fsw &= (uint16_t)~FSW_C1;
	set_top(fx, top(fx) + 7);
	st_set_raw(fx, 0, ovf ? indefinite : raw);
}

static void h_fild(struct soft_cpu *cpu, const struct soft_insn *in)
{
	int mi = mem_op(in);
	unsigned size = in->op[mi < 0 ? 0 : mi].size;
	uint64_t m, ea;

	fpu_check_x87(cpu, true);
	if (mi < 0)
		soft_unimplemented(cpu, in);
	ea = read_m(cpu, in, mi, size, &m);
	x87_note(cpu, in, ea, 0);
	x87_load(cpu, size == 2 ? hx_filds : size == 4 ? hx_fildl : hx_fildll, m);
}

static void load_const(struct soft_cpu *cpu, const struct soft_insn *in, x87_hostfn fn)
{
	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	x87_load(cpu, fn, 0);
}
static void h_fld1(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fld1); }
static void h_fldl2t(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fldl2t); }
static void h_fldl2e(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fldl2e); }
static void h_fldpi(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fldpi); }
static void h_fldlg2(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fldlg2); }
static void h_fldln2(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fldln2); }
static void h_fldz(struct soft_cpu *cpu, const struct soft_insn *in) { load_const(cpu, in, hx_fldz); }

/*
 * FST/FSTP/FIST/FISTP/FISTTP to memory or (FST/FSTP) to st(i). The
 * memory write happens before any register changes; an unmasked
 * exception stores nothing.
 */
static void x87_store(struct soft_cpu *cpu, const struct soft_insn *in, bool pop, bool integer,
		      bool truncate)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	int mi = mem_op(in);
	struct x87_io io = { 0 };
	uint64_t ea = 0;
	uint8_t raw[10];
	bool empty;
	x87_hostfn fn = NULL;

	fpu_check_x87(cpu, true);
	empty = !st_valid(fx, 0);
	if (mi < 0) {
		unsigned i = sti_of(in);

		x87_note(cpu, in, 0, i);
		if (empty && !x87_underflow(fx))
			return;
		memcpy(raw, empty ? indefinite : fx->st[phys(fx, 0)], 10);
		if (!empty)
			fx->fsw &= (uint16_t)~FSW_C1;
		st_set_raw(fx, i, raw);
		if (pop)
			st_pop(fx);
		return;
	}
	unsigned size = in->op[mi].size;
	if (size != 2 && size != 4 && size != 10)
		size = 8;
	ea = soft_ea(cpu, in, &in->op[mi]);
	/*
	 * The destination faults (#PF, #GP) before a numeric exception is
	 * taken, even though an unmasked one then writes nothing.
	 */
	if ((fx->fcw & FSW_EXC) != FSW_EXC)
		soft_probe_write(cpu, ea, size);
	if (size == 10) {
		memcpy(raw, empty ? indefinite : fx->st[phys(fx, 0)], 10);
		if (empty && !(fx->fcw & FSW_IE)) {
			x87_note(cpu, in, ea, 0);
			x87_underflow(fx);
			return;
		}
		soft_write(cpu, ea, raw, 10);
		x87_note(cpu, in, ea, 0);
		if (empty)
			x87_underflow(fx);
		else
			fx->fsw &= (uint16_t)~FSW_C1;
		if (pop)
			st_pop(fx);
		return;
	}
	if (integer) {
		if (truncate)
			fn = size == 2 ? hx_fisttps : size == 4 ? hx_fisttpl : hx_fisttpll;
		else
			fn = size == 2 ? hx_fists : size == 4 ? hx_fistl : hx_fistll;
	} else {
		fn = size == 8 ? hx_fstl : hx_fsts;
	}
	if (empty) {
		/* Masked underflow stores the indefinite of the destination format. */
		if (!(fx->fcw & FSW_IE)) {
			x87_note(cpu, in, ea, 0);
			x87_underflow(fx);
			return;
		}
		memcpy(io.s[0], indefinite, 10);
		x87_run(fx, fn, &io);
		soft_write(cpu, ea, io.m, size);
		x87_note(cpu, in, ea, 0);
		x87_underflow(fx);
	} else {
		st_get(fx, 0, io.s[0]);
		x87_run(fx, fn, &io);
		if (!(io.sw & ~fx->fcw & FSW_EXC & ~FSW_PE))
			soft_write(cpu, ea, io.m, size);
		x87_note(cpu, in, ea, 0);
		if (!x87_flags(fx, io.sw, io.sw, FSW_CC))
			return;
		/* A store with an unmasked overflow/underflow neither writes nor pops. */
		if (io.sw & ~fx->fcw & (FSW_OE | FSW_UE))
			return;
	}
	if (pop)
		st_pop(fx);
}
static void h_fst(struct soft_cpu *cpu, const struct soft_insn *in) { x87_store(cpu, in, false, false, false); }
static void h_fstp(struct soft_cpu *cpu, const struct soft_insn *in) { x87_store(cpu, in, true, false, false); }
static void h_fist(struct soft_cpu *cpu, const struct soft_insn *in) { x87_store(cpu, in, false, true, false); }
static void h_fistp(struct soft_cpu *cpu, const struct soft_insn *in) { x87_store(cpu, in, true, true, false); }
static void h_fisttp(struct soft_cpu *cpu, const struct soft_insn *in) { x87_store(cpu, in, true, true, true); }

/* FBLD m80: push the packed-BCD integer. */
static void h_fbld(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	int mi = mem_op(in);
	struct x87_io io = { 0 };
	uint64_t ea;
	bool ovf;

	fpu_check_x87(cpu, true);
	if (mi < 0)
		soft_unimplemented(cpu, in);
	ea = soft_ea(cpu, in, &in->op[mi]);
	soft_read(cpu, ea, io.m, 10);
	x87_note(cpu, in, ea, 0);
	if (!x87_push_ok(fx, &ovf))
		return;
	if (ovf) {
		x87_push(fx, NULL, true);
		return;
	}
	x87_run(fx, hx_fbld, &io);
	if (x87_flags(fx, io.sw, io.sw, FSW_CC))
		x87_push(fx, io.s[0], false);
}

/* FBSTP m80: store st(0) as packed BCD (rounded per RC), pop. */
static void h_fbstp(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	int mi = mem_op(in);
	struct x87_io io = { 0 };
	bool empty;
	uint64_t ea;

	fpu_check_x87(cpu, true);
	if (mi < 0)
		soft_unimplemented(cpu, in);
	ea = soft_ea(cpu, in, &in->op[mi]);
	if ((fx->fcw & FSW_EXC) != FSW_EXC)
		soft_probe_write(cpu, ea, 10);
	empty = !st_valid(fx, 0);
	if (empty && !(fx->fcw & FSW_IE)) {
		x87_note(cpu, in, ea, 0);
		x87_underflow(fx);
		return;
	}
	if (empty)
		memcpy(io.s[0], indefinite, 10);
	else
		st_get(fx, 0, io.s[0]);
	x87_run(fx, hx_fbstp, &io);
	if (empty || !(io.sw & ~fx->fcw & FSW_EXC & ~FSW_PE))
		soft_write(cpu, ea, io.m, 10);
	x87_note(cpu, in, ea, 0);
	if (empty)
		x87_underflow(fx);
	else if (!x87_flags(fx, io.sw, io.sw, FSW_CC))
		return;
	st_pop(fx);
}

/* ---- Arithmetic ------------------------------------------------------------ */

enum arith { A_ADD, A_SUB, A_SUBR, A_MUL, A_DIV, A_DIVR };

static const x87_hostfn arith_mem[6][4] = {
	{ hx_fadds, hx_faddl, hx_fiadds, hx_fiaddl },
	{ hx_fsubs, hx_fsubl, hx_fisubs, hx_fisubl },
	{ hx_fsubrs, hx_fsubrl, hx_fisubrs, hx_fisubrl },
	{ hx_fmuls, hx_fmull, hx_fimuls, hx_fimull },
	{ hx_fdivs, hx_fdivl, hx_fidivs, hx_fidivl },
	{ hx_fdivrs, hx_fdivrl, hx_fidivrs, hx_fidivrl },
};

/*
 * Two-operand arithmetic. Memory: st(0) = st(0) op m. Registers: dest =
 * dest op src (FSUBR/FDIVR: src op dest), dest and src from op[0], op[1].
 */
static void x87_arith(struct soft_cpu *cpu, const struct soft_insn *in, enum arith a, bool integer,
		      bool pop)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };
	int mi = mem_op(in);
	unsigned d = 0, s = 1;
	bool ok;

	fpu_check_x87(cpu, true);
	if (mi >= 0) {
		unsigned size = in->op[mi].size;
		uint64_t ea = read_m(cpu, in, mi, size, io.m);
		unsigned k = integer ? (size == 2 ? 2 : 3) : (size == 8 ? 1 : 0);

		x87_note(cpu, in, ea, 0);
		if (!st_valid(fx, 0)) {
			if (x87_underflow(fx))
				st_set_raw(fx, 0, indefinite);
			return;
		}
		st_get(fx, 0, io.s[0]);
		x87_run(fx, arith_mem[a][k], &io);
		if (x87_flags(fx, io.sw, io.sw, FSW_CC))
			st_set_raw(fx, 0, io.s[0]);
		return;
	}
	if (in->nops >= 2 && in->op[0].kind == SOFT_OP_ST && in->op[1].kind == SOFT_OP_ST) {
		d = in->op[0].reg & 7;
		s = in->op[1].reg & 7;
	} else if (in->nops == 1 && in->op[0].kind == SOFT_OP_ST) {
		d = in->op[0].reg & 7;
		s = 0;
	} else if (pop) {
		d = 1;
		s = 0;
	}
	x87_note(cpu, in, 0, d ? d : s);
	if (!st_valid(fx, d) || !st_valid(fx, s)) {
		if (!x87_underflow(fx))
			return;
		st_set_raw(fx, d, indefinite);
	} else {
		x87_hostfn fn = a == A_ADD ? hx_fadd : a == A_MUL ? hx_fmul
			      : (a == A_SUB || a == A_SUBR) ? hx_fsub : hx_fdiv;
		bool rev = a == A_SUBR || a == A_DIVR;

		st_get(fx, rev ? s : d, io.s[0]);
		st_get(fx, rev ? d : s, io.s[1]);
		x87_run(fx, fn, &io);
		ok = x87_flags(fx, io.sw, io.sw, FSW_CC);
		if (!ok)
			return;
		st_set_raw(fx, d, io.s[0]);
	}
	if (pop)
		st_pop(fx);
}

#define ARITH(name, a, integer, pop) \
	static void h_##name(struct soft_cpu *cpu, const struct soft_insn *in) { x87_arith(cpu, in, a, integer, pop); }
ARITH(fadd, A_ADD, false, false)
ARITH(faddp, A_ADD, false, true)
ARITH(fiadd, A_ADD, true, false)
ARITH(fsub, A_SUB, false, false)
ARITH(fsubp, A_SUB, false, true)
ARITH(fisub, A_SUB, true, false)
ARITH(fsubr, A_SUBR, false, false)
ARITH(fsubrp, A_SUBR, false, true)
ARITH(fisubr, A_SUBR, true, false)
ARITH(fmul, A_MUL, false, false)
ARITH(fmulp, A_MUL, false, true)
ARITH(fimul, A_MUL, true, false)
ARITH(fdiv, A_DIV, false, false)
ARITH(fdivp, A_DIV, false, true)
ARITH(fidiv, A_DIV, true, false)
ARITH(fdivr, A_DIVR, false, false)
ARITH(fdivrp, A_DIVR, false, true)
ARITH(fidivr, A_DIVR, true, false)

/* st(0) = fn(st(0)) (and, with two, st(0) = fn(st(0), st(1))). */
static void x87_unary(struct soft_cpu *cpu, const struct soft_insn *in, x87_hostfn fn, bool two)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	if (!st_valid(fx, 0) || (two && !st_valid(fx, 1))) {
		if (x87_underflow(fx))
			st_set_raw(fx, 0, indefinite);
		return;
	}
	st_get(fx, 0, io.s[0]);
	if (two)
		st_get(fx, 1, io.s[1]);
	x87_run(fx, fn, &io);
	if (x87_flags(fx, io.sw, io.sw, FSW_CC))
		st_set_raw(fx, 0, io.s[0]);
}
static void h_fsqrt(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_fsqrt, false); }
static void h_frndint(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_frndint, false); }
static void h_f2xm1(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_f2xm1, false); }
static void h_fsin(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_fsin, false); }
static void h_fcos(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_fcos, false); }
static void h_fscale(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_fscale, true); }
static void h_fprem(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_fprem, true); }
static void h_fprem1(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary(cpu, in, hx_fprem1, true); }

/* st(1) = fn(st(1), st(0)), pop. */
static void x87_binpop(struct soft_cpu *cpu, const struct soft_insn *in, x87_hostfn fn)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	if (!st_valid(fx, 0) || !st_valid(fx, 1)) {
		if (!x87_underflow(fx))
			return;
		st_set_raw(fx, 1, indefinite);
	} else {
		st_get(fx, 0, io.s[0]);
		st_get(fx, 1, io.s[1]);
		x87_run(fx, fn, &io);
		if (!x87_flags(fx, io.sw, io.sw, FSW_CC))
			return;
		st_set_raw(fx, 1, io.s[0]);
	}
	st_pop(fx);
}
static void h_fpatan(struct soft_cpu *cpu, const struct soft_insn *in) { x87_binpop(cpu, in, hx_fpatan); }
static void h_fyl2x(struct soft_cpu *cpu, const struct soft_insn *in) { x87_binpop(cpu, in, hx_fyl2x); }
static void h_fyl2xp1(struct soft_cpu *cpu, const struct soft_insn *in) { x87_binpop(cpu, in, hx_fyl2xp1); }

/* st(0) = first result, push the second (FXTRACT, FPTAN, FSINCOS; not when C2 says out of range). */
static void x87_unary_push(struct soft_cpu *cpu, const struct soft_insn *in, x87_hostfn fn, bool c2)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };
	bool ovf;

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	if (!st_valid(fx, 0)) {
		if (!x87_underflow(fx))
			return;
		st_set_raw(fx, 0, indefinite);
		set_top(fx, top(fx) + 7);
		st_set_raw(fx, 0, indefinite);
		return;
	}
	if (fx->ftw & (1u << ((top(fx) + 7) & 7))) {
		if (x87_push_ok(fx, &ovf)) {
			st_set_raw(fx, 0, indefinite);
			set_top(fx, top(fx) + 7);
			st_set_raw(fx, 0, indefinite);
		}
		return;
	}
	st_get(fx, 0, io.s[0]);
	x87_run(fx, fn, &io);
	if (!x87_flags(fx, io.sw, io.sw, FSW_CC))
		return;
	if (c2 && (io.sw & FSW_C2))
		return;
	/* Host: st(0) = s[0] (pushed), st(1) = s[1] (replaced). */
	st_set_raw(fx, 0, io.s[1]);
	set_top(fx, top(fx) + 7);
	st_set_raw(fx, 0, io.s[0]);
}
static void h_fxtract(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary_push(cpu, in, hx_fxtract, false); }
static void h_fptan(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary_push(cpu, in, hx_fptan, true); }
static void h_fsincos(struct soft_cpu *cpu, const struct soft_insn *in) { x87_unary_push(cpu, in, hx_fsincos, true); }

static void sign_op(struct soft_cpu *cpu, const struct soft_insn *in, bool chs)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint8_t *p;

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	if (!st_valid(fx, 0)) {
		if (x87_underflow(fx))
			st_set_raw(fx, 0, indefinite);
		return;
	}
	p = fx->st[phys(fx, 0)];
	if (chs)
		p[9] ^= 0x80;
	else
		p[9] &= 0x7f;
	fx->fsw &= (uint16_t)~FSW_C1;
}
static void h_fchs(struct soft_cpu *cpu, const struct soft_insn *in) { sign_op(cpu, in, true); }
static void h_fabs(struct soft_cpu *cpu, const struct soft_insn *in) { sign_op(cpu, in, false); }

/* ---- Comparisons ------------------------------------------------------------ */

/*
 * Compares st(0) with st(i) or memory; sets C3 C2 C0 (or, eflags, ZF PF
 * CF) and pops npop times. FCOMI/FUCOMI clear OF SF AF whatever happens;
 * ZF PF CF are set unless an unmasked #IA (an empty or unsupported
 * operand, an SNaN; any NaN for FCOMI) stops the instruction (Intel
 * leaves them alone then; AMD sets them to 111). An unmasked denormal
 * operand still compares and sets ZF PF CF. Either unmasked exception
 * leaves TOP alone (no pop).
 */
static void x87_compare(struct soft_cpu *cpu, const struct soft_insn *in, bool unordered, bool integer,
			unsigned npop, bool eflags, bool fixed_st1)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };
	int mi = mem_op(in);
	unsigned i = fixed_st1 ? 1 : sti_of(in);
	uint16_t cc, exc;
	bool ok;

	fpu_check_x87(cpu, true);
	if (mi >= 0) {
		unsigned size = in->op[mi].size;
		uint64_t ea = read_m(cpu, in, mi, size, io.m);

		x87_note(cpu, in, ea, 0);
	} else {
		x87_note(cpu, in, 0, i);
	}
	if (!st_valid(fx, 0) || (mi < 0 && !st_valid(fx, i))) {
		exc = FSW_IE | FSW_SF;
		ok = x87_flags(fx, exc, FSW_C0 | FSW_C2 | FSW_C3, eflags ? FSW_C1 : FSW_CC);
		cc = FSW_C0 | FSW_C2 | FSW_C3;
	} else {
		x87_hostfn fn;

		st_get(fx, 0, io.s[0]);
		if (mi >= 0) {
			unsigned size = in->op[mi].size;
			fn = integer ? (size == 2 ? hx_ficoms : hx_ficoml) : (size == 8 ? hx_fcoml : hx_fcoms);
		} else {
			st_get(fx, i, io.s[1]);
			fn = unordered ? hx_fucom : hx_fcom;
		}
		x87_run(fx, fn, &io);
		exc = io.sw;
		cc = io.sw & (FSW_C0 | FSW_C2 | FSW_C3);
		ok = x87_flags_cmp(fx, io.sw, eflags ? 0 : io.sw, eflags ? FSW_C1 : FSW_CC, true);
	}
	if (eflags) {
		uint64_t fl = soft_get_flags(cpu);

		fl &= ~(uint64_t)(X86_FLAGS_OF | X86_FLAGS_SF | X86_FLAGS_AF);
		if (!(exc & ~fx->fcw & FSW_IE)) {
			fl &= ~(uint64_t)(X86_FLAGS_ZF | X86_FLAGS_PF | X86_FLAGS_CF);
			if (cc & FSW_C3)
				fl |= X86_FLAGS_ZF;
			if (cc & FSW_C2)
				fl |= X86_FLAGS_PF;
			if (cc & FSW_C0)
				fl |= X86_FLAGS_CF;
		}
		soft_set_flags(cpu, fl);
	}
	if (!ok)
		return;
	while (npop--)
		st_pop(fx);
}

#define CMP(name, unord, integer, npop, efl, fixed) \
	static void h_##name(struct soft_cpu *cpu, const struct soft_insn *in) { x87_compare(cpu, in, unord, integer, npop, efl, fixed); }
CMP(fcom, false, false, 0, false, false)
CMP(fcomp, false, false, 1, false, false)
CMP(fcompp, false, false, 2, false, true)
CMP(fucom, true, false, 0, false, false)
CMP(fucomp, true, false, 1, false, false)
CMP(fucompp, true, false, 2, false, true)
CMP(ficom, false, true, 0, false, false)
CMP(ficomp, false, true, 1, false, false)
CMP(fcomi, false, false, 0, true, false)
CMP(fcomip, false, false, 1, true, false)
CMP(fucomi, true, false, 0, true, false)
CMP(fucomip, true, false, 1, true, false)

static void h_ftst(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	if (!st_valid(fx, 0)) {
		x87_flags_cmp(fx, FSW_IE | FSW_SF, FSW_C0 | FSW_C2 | FSW_C3, FSW_CC, true);
		return;
	}
	st_get(fx, 0, io.s[0]);
	x87_run(fx, hx_ftst, &io);
	x87_flags_cmp(fx, io.sw, io.sw, FSW_CC, true);
}

static void h_fxam(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	struct x87_io io = { 0 };

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	if (!st_valid(fx, 0)) {
		/* Empty: C3=1 C0=1, C1 = the sign bit of the register. */
		uint16_t cc = FSW_C3 | FSW_C0;

		if (fx->st[phys(fx, 0)][9] & 0x80)
			cc |= FSW_C1;
		fx->fsw = (uint16_t)((fx->fsw & ~FSW_CC) | cc);
		return;
	}
	st_get(fx, 0, io.s[0]);
	x87_run(fx, hx_fxam, &io);
	x87_flags(fx, 0, io.sw, FSW_CC);
}

/* FCMOVcc st(0), st(i). */
static void x87_fcmov(struct soft_cpu *cpu, const struct soft_insn *in, uint64_t mask, bool all_clear)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	unsigned i = sti_of(in);
	uint64_t fl;
	bool cond;

	fpu_check_x87(cpu, true);
	fl = soft_get_flags(cpu);
	cond = all_clear ? !(fl & mask) : (fl & mask) != 0;
	x87_note(cpu, in, 0, i);
	if (!st_valid(fx, 0) || !st_valid(fx, i)) {
		if (x87_underflow(fx))
			st_set_raw(fx, 0, indefinite);
		return;
	}
	fx->fsw &= (uint16_t)~FSW_C1;
	if (cond)
		st_set_raw(fx, 0, fx->st[phys(fx, i)]);
}
#define FCMOV(name, mask, clear) \
	static void h_##name(struct soft_cpu *cpu, const struct soft_insn *in) { x87_fcmov(cpu, in, mask, clear); }
FCMOV(fcmovb, X86_FLAGS_CF, false)
FCMOV(fcmove, X86_FLAGS_ZF, false)
FCMOV(fcmovbe, X86_FLAGS_CF | X86_FLAGS_ZF, false)
FCMOV(fcmovu, X86_FLAGS_PF, false)
FCMOV(fcmovnb, X86_FLAGS_CF, true)
FCMOV(fcmovne, X86_FLAGS_ZF, true)
FCMOV(fcmovnbe, X86_FLAGS_CF | X86_FLAGS_ZF, true)
FCMOV(fcmovnu, X86_FLAGS_PF, true)

/* ---- Stack manipulation ------------------------------------------------------ */

static void h_fxch(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	unsigned i = sti_of(in);
	uint8_t a[10], b[10];

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, i);
	if (!st_valid(fx, 0) || !st_valid(fx, i)) {
		if (!x87_underflow(fx))
			return;
		if (!st_valid(fx, 0))
			st_set_raw(fx, 0, indefinite);
		if (!st_valid(fx, i))
			st_set_raw(fx, i, indefinite);
	} else {
		fx->fsw &= (uint16_t)~FSW_C1;
	}
	memcpy(a, fx->st[phys(fx, 0)], 10);
	memcpy(b, fx->st[phys(fx, i)], 10);
	st_set_raw(fx, 0, b);
	st_set_raw(fx, i, a);
}

static void h_ffree(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	unsigned i = sti_of(in);

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, i);
	fx->ftw &= (uint8_t)~(1u << phys(fx, i));
	fx->fsw &= (uint16_t)~FSW_C1; /* as hardware does (the SDM: undefined) */
	if (in->mnemonic == ZYDIS_MNEMONIC_FFREEP)
		st_pop(fx);
}

static void h_fincstp(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);

	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
	set_top(fx, top(fx) + (in->mnemonic == ZYDIS_MNEMONIC_FINCSTP ? 1 : 7));
	fx->fsw &= (uint16_t)~FSW_C1;
}

static void h_fnop(struct soft_cpu *cpu, const struct soft_insn *in)
{
	fpu_check_x87(cpu, true);
	x87_note(cpu, in, 0, 0);
}

/* ---- Control ----------------------------------------------------------------- */

static void fpu_reset(struct x86_fxsave *fx)
{
	fx->fcw = 0x037f;
	fx->fsw = 0;
	fx->ftw = 0;
	fx->fop = 0;
	fx->fip = 0;
	fx->fdp = 0;
}

static void h_fninit(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	fpu_check_x87(cpu, false);
	fpu_reset(fpu_fx(cpu));
}

static void h_fnclex(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	fpu_check_x87(cpu, false);
	fpu_fx(cpu)->fsw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
}

static void h_fwait(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint64_t cr0 = soft_regs(cpu)->cr0;

	(void)in;
	if ((cr0 & (FPU_CR0_MP | FPU_CR0_TS)) == (FPU_CR0_MP | FPU_CR0_TS))
		soft_raise(cpu, X86_VEC_NM, -1);
	fpu_pending_mf(cpu);
}

static void h_fnstcw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint16_t cw;

	fpu_check_x87(cpu, false);
	cw = fpu_fx(cpu)->fcw;
	soft_write(cpu, soft_ea(cpu, in, &in->op[0]), &cw, 2);
}

static void h_fldcw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint16_t cw;

	fpu_check_x87(cpu, false);
	soft_read(cpu, soft_ea(cpu, in, &in->op[0]), &cw, 2);
	fx->fcw = cw;
	update_es(fx);
}

static void h_fnstsw(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint16_t sw;

	fpu_check_x87(cpu, false);
	sw = fpu_fx(cpu)->fsw;
	if (in->op[0].kind == SOFT_OP_MEM)
		soft_write(cpu, soft_ea(cpu, in, &in->op[0]), &sw, 2);
	else
		soft_op_write(cpu, in, 0, sw);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The protected-mode environment image: 28 bytes (32-bit operand size) or 14 (16-bit). */
static unsigned env_store(struct x86_fxsave *fx, uint8_t *b, bool o16)
{
	uint16_t tw = soft_fpu_full_tag_word(fx);

	if (o16) {
		put16(b + 0, fx->fcw);
		put16(b + 2, fx->fsw);
		put16(b + 4, tw);
		put16(b + 6, (uint16_t)fx->fip);
		put16(b + 8, 0);
		put16(b + 10, (uint16_t)fx->fdp);
		put16(b + 12, 0);
		return 14;
	}
	memset(b, 0xff, 28);
	put16(b + 0, fx->fcw);
	put16(b + 4, fx->fsw);
	put16(b + 8, tw);
	put32(b + 12, (uint32_t)fx->fip);
	put32(b + 16, (uint32_t)(fx->fop & 0x7ff) << 16);
	put32(b + 20, (uint32_t)fx->fdp);
	put16(b + 24, 0);
	return 28;
}

static unsigned env_load(struct x86_fxsave *fx, const uint8_t *b, bool o16)
{
	if (o16) {
		fx->fcw = get16(b + 0);
		fx->fsw = get16(b + 2);
		fx->ftw = soft_fpu_abridged_tag(get16(b + 4));
		fx->fip = get16(b + 6);
		fx->fdp = get16(b + 10);
		fx->fop = 0;
		update_es(fx);
		return 14;
	}
	fx->fcw = get16(b + 0);
	fx->fsw = get16(b + 4);
	fx->ftw = soft_fpu_abridged_tag(get16(b + 8));
	fx->fip = get32(b + 12);
	fx->fop = (uint16_t)((get32(b + 16) >> 16) & 0x7ff);
	fx->fdp = get32(b + 20);
	update_es(fx);
	return 28;
}

static void mem_write(struct soft_cpu *cpu, uint64_t ea, const uint8_t *b, unsigned len)
{
	for (unsigned off = 0; off < len; off += 16)
		soft_write(cpu, ea + off, b + off, len - off < 16 ? len - off : 16);
}

static void mem_read(struct soft_cpu *cpu, uint64_t ea, uint8_t *b, unsigned len)
{
	for (unsigned off = 0; off < len; off += 16)
		soft_read(cpu, ea + off, b + off, len - off < 16 ? len - off : 16);
}

static void x87_stenv(struct soft_cpu *cpu, const struct soft_insn *in, bool save)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint8_t b[108];
	bool o16 = in->opsize == 2;
	uint64_t ea;
	unsigned n;

	fpu_check_x87(cpu, false);
	ea = soft_ea(cpu, in, &in->op[0]);
	n = env_store(fx, b, o16);
	if (save) {
		for (unsigned i = 0; i < 8; i++)
			memcpy(b + n + i * 10, fx->st[phys(fx, i)], 10);
		n += 80;
	}
	mem_write(cpu, ea, b, n);
	if (save)
		fpu_reset(fx);
	else
		fx->fcw |= FSW_EXC;
}
static void h_fnstenv(struct soft_cpu *cpu, const struct soft_insn *in) { x87_stenv(cpu, in, false); }
static void h_fnsave(struct soft_cpu *cpu, const struct soft_insn *in) { x87_stenv(cpu, in, true); }

static void x87_ldenv(struct soft_cpu *cpu, const struct soft_insn *in, bool restore)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint8_t b[108];
	bool o16 = in->opsize == 2;
	unsigned n = o16 ? 14 : 28;
	uint64_t ea;

	fpu_check_x87(cpu, false);
	ea = soft_ea(cpu, in, &in->op[0]);
	mem_read(cpu, ea, b, n + (restore ? 80 : 0));
	env_load(fx, b, o16);
	if (restore) {
		for (unsigned i = 0; i < 8; i++) {
			uint8_t *p = fx->st[phys(fx, i)];

			memcpy(p, b + n + i * 10, 10);
			memset(p + 10, 0, 6);
		}
	}
}
static void h_fldenv(struct soft_cpu *cpu, const struct soft_insn *in) { x87_ldenv(cpu, in, false); }
static void h_frstor(struct soft_cpu *cpu, const struct soft_insn *in) { x87_ldenv(cpu, in, true); }

/* ---- FXSAVE / FXRSTOR, MXCSR, EMMS ------------------------------------------ */

static void x87_fxsave(struct soft_cpu *cpu, const struct soft_insn *in, bool rex_w)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint8_t b[512];
	unsigned nxmm = soft_code64(cpu) ? 16 : 8;
	uint64_t ea;

	fpu_check_x87(cpu, false);
	ea = soft_ea(cpu, in, &in->op[0]);
	fpu_check_align16(cpu, ea);
	memset(b, 0, sizeof(b));
	put16(b + 0, fx->fcw);
	put16(b + 2, fx->fsw);
	b[4] = fx->ftw;
	put16(b + 6, fx->fop);
	if (rex_w) {
		memcpy(b + 8, &fx->fip, 8);
		memcpy(b + 16, &fx->fdp, 8);
	} else {
		put32(b + 8, (uint32_t)fx->fip);
		put32(b + 16, (uint32_t)fx->fdp);
	}
	put32(b + 24, fx->mxcsr);
	put32(b + 28, MXCSR_MASK_SUPPORTED);
	for (unsigned i = 0; i < 8; i++)
		memcpy(b + 32 + i * 16, fx->st[phys(fx, i)], 10);
	memcpy(b + 160, fx->xmm, nxmm * 16);
	/* Bytes past the XMM registers (reserved, software-available) are left alone. */
	mem_write(cpu, ea, b, 160 + nxmm * 16);
}
static void h_fxsave(struct soft_cpu *cpu, const struct soft_insn *in) { x87_fxsave(cpu, in, false); }

void soft_fpu_to_fxsave_image(const struct x86_fxsave *fx, void *img)
{
	uint8_t *b = img;
	unsigned t = (fx->fsw >> 11) & 7;

	memset(b, 0, 416);
	put16(b + 0, fx->fcw);
	put16(b + 2, fx->fsw);
	b[4] = fx->ftw;
	put16(b + 6, fx->fop);
	memcpy(b + 8, &fx->fip, 8);
	memcpy(b + 16, &fx->fdp, 8);
	put32(b + 24, fx->mxcsr);
	put32(b + 28, MXCSR_MASK_SUPPORTED);
	for (unsigned i = 0; i < 8; i++)
		memcpy(b + 32 + i * 16, fx->st[(t + i) & 7], 10);
	memcpy(b + 160, fx->xmm, sizeof(fx->xmm));
}

void soft_fpu_from_fxsave_image(struct x86_fxsave *fx, const void *img)
{
	const uint8_t *b = img;
	unsigned t;

	fx->fcw = get16(b + 0);
	fx->fsw = get16(b + 2);
	fx->ftw = b[4];
	fx->fop = get16(b + 6) & 0x7ff;
	memcpy(&fx->fip, b + 8, 8);
	memcpy(&fx->fdp, b + 16, 8);
	fx->mxcsr = get32(b + 24) & MXCSR_MASK_SUPPORTED;
	fx->mxcsr_mask = MXCSR_MASK_SUPPORTED;
	t = (fx->fsw >> 11) & 7;
	for (unsigned i = 0; i < 8; i++) {
		memcpy(fx->st[(t + i) & 7], b + 32 + i * 16, 10);
		memset(fx->st[(t + i) & 7] + 10, 0, 6);
	}
	memcpy(fx->xmm, b + 160, sizeof(fx->xmm));
}

static void h_fxsave64(struct soft_cpu *cpu, const struct soft_insn *in) { x87_fxsave(cpu, in, true); }

static void x87_fxrstor(struct soft_cpu *cpu, const struct soft_insn *in, bool rex_w)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint8_t b[512];
	unsigned nxmm = soft_code64(cpu) ? 16 : 8;
	uint32_t mxcsr;
	uint64_t ea;

	fpu_check_x87(cpu, false);
	ea = soft_ea(cpu, in, &in->op[0]);
	fpu_check_align16(cpu, ea);
	mem_read(cpu, ea, b, 160 + nxmm * 16);
	mxcsr = get32(b + 24);
	if (mxcsr & ~(uint32_t)MXCSR_MASK_SUPPORTED)
		soft_raise(cpu, X86_VEC_GP, 0);
	fx->fcw = get16(b + 0);
	fx->fsw = get16(b + 2);
	fx->ftw = b[4];
	fx->fop = get16(b + 6) & 0x7ff;
	if (rex_w) {
		memcpy(&fx->fip, b + 8, 8);
		memcpy(&fx->fdp, b + 16, 8);
	} else {
		fx->fip = get32(b + 8);
		fx->fdp = get32(b + 16);
	}
	fx->mxcsr = mxcsr;
	fx->mxcsr_mask = MXCSR_MASK_SUPPORTED;
	for (unsigned i = 0; i < 8; i++) {
		uint8_t *p = fx->st[phys(fx, i)];

		memcpy(p, b + 32 + i * 16, 10);
		memset(p + 10, 0, 6);
	}
	memcpy(fx->xmm, b + 160, nxmm * 16);
}
static void h_fxrstor(struct soft_cpu *cpu, const struct soft_insn *in) { x87_fxrstor(cpu, in, false); }
static void h_fxrstor64(struct soft_cpu *cpu, const struct soft_insn *in) { x87_fxrstor(cpu, in, true); }

static void h_emms(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	fpu_check_mmx(cpu);
	fpu_fx(cpu)->ftw = 0;
}

/* ---- The table ----------------------------------------------------------------- */

#define E(m, f) { ZYDIS_MNEMONIC_##m, f }

static const struct soft_handler_entry x87_entries[] = {
	E(FLD, h_fld), E(FILD, h_fild),
	E(FLD1, h_fld1), E(FLDL2T, h_fldl2t), E(FLDL2E, h_fldl2e), E(FLDPI, h_fldpi),
	E(FLDLG2, h_fldlg2), E(FLDLN2, h_fldln2), E(FLDZ, h_fldz),
	E(FST, h_fst), E(FSTP, h_fstp), E(FIST, h_fist), E(FISTP, h_fistp), E(FISTTP, h_fisttp),
	E(FBLD, h_fbld), E(FBSTP, h_fbstp),
	E(FADD, h_fadd), E(FADDP, h_faddp), E(FIADD, h_fiadd),
	E(FSUB, h_fsub), E(FSUBP, h_fsubp), E(FISUB, h_fisub),
	E(FSUBR, h_fsubr), E(FSUBRP, h_fsubrp), E(FISUBR, h_fisubr),
	E(FMUL, h_fmul), E(FMULP, h_fmulp), E(FIMUL, h_fimul),
	E(FDIV, h_fdiv), E(FDIVP, h_fdivp), E(FIDIV, h_fidiv),
	E(FDIVR, h_fdivr), E(FDIVRP, h_fdivrp), E(FIDIVR, h_fidivr),
	E(FSQRT, h_fsqrt), E(FRNDINT, h_frndint), E(F2XM1, h_f2xm1), E(FSIN, h_fsin),
	E(FCOS, h_fcos), E(FSCALE, h_fscale), E(FPREM, h_fprem), E(FPREM1, h_fprem1),
	E(FPATAN, h_fpatan), E(FYL2X, h_fyl2x), E(FYL2XP1, h_fyl2xp1),
	E(FXTRACT, h_fxtract), E(FPTAN, h_fptan), E(FSINCOS, h_fsincos),
	E(FCHS, h_fchs), E(FABS, h_fabs),
	E(FCOM, h_fcom), E(FCOMP, h_fcomp), E(FCOMPP, h_fcompp),
	E(FUCOM, h_fucom), E(FUCOMP, h_fucomp), E(FUCOMPP, h_fucompp),
	E(FICOM, h_ficom), E(FICOMP, h_ficomp),
	E(FCOMI, h_fcomi), E(FCOMIP, h_fcomip), E(FUCOMI, h_fucomi), E(FUCOMIP, h_fucomip),
	E(FTST, h_ftst), E(FXAM, h_fxam),
	E(FCMOVB, h_fcmovb), E(FCMOVE, h_fcmove), E(FCMOVBE, h_fcmovbe), E(FCMOVU, h_fcmovu),
	E(FCMOVNB, h_fcmovnb), E(FCMOVNE, h_fcmovne), E(FCMOVNBE, h_fcmovnbe), E(FCMOVNU, h_fcmovnu),
	E(FXCH, h_fxch), E(FFREE, h_ffree), E(FFREEP, h_ffree),
	E(FINCSTP, h_fincstp), E(FDECSTP, h_fincstp),
	E(FNOP, h_fnop), E(FSETPM287_NOP, h_fnop), E(FENI8087_NOP, h_fnop), E(FDISI8087_NOP, h_fnop),
	E(FNINIT, h_fninit), E(FNCLEX, h_fnclex), E(FWAIT, h_fwait),
	E(FNSTCW, h_fnstcw), E(FLDCW, h_fldcw), E(FNSTSW, h_fnstsw),
	E(FNSTENV, h_fnstenv), E(FLDENV, h_fldenv), E(FNSAVE, h_fnsave), E(FRSTOR, h_frstor),
	E(FXSAVE, h_fxsave), E(FXSAVE64, h_fxsave64), E(FXRSTOR, h_fxrstor), E(FXRSTOR64, h_fxrstor64),
	E(LDMXCSR, sse_h_ldmxcsr), E(STMXCSR, sse_h_stmxcsr), E(EMMS, h_emms),
};

const struct soft_handler_table soft_handlers_x87 = {
	.entries = x87_entries,
	.n = sizeof(x87_entries) / sizeof(x87_entries[0]),
};
