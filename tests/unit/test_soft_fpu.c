// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft x87 handlers (x87.c) against the host's x87 unit: each case
 * runs the same instruction bytes on the soft CPU (test double of the
 * core, test_soft_fpu_fixture.h) with st(0), st(1) and a memory operand
 * from special and random values, under several precision and rounding
 * controls and condition codes, and compares the whole status word
 * (exception flags, C0-C3, TOP), the tags, the stack registers and the memory operand with what
 * the host computed. Plus FXSAVE/FXRSTOR and FNSAVE/FRSTOR images and
 * round trips, stack overflow/underflow, #NM (TS, EM, WAIT with MP), the
 * deferred #MF of unmasked exceptions, FNSTSW AX, FCOMI flags, FCMOVcc.
 */
#include "test_soft_fpu_fixture.h"

#include "accel/soft/fpu_common.h"

/* Layout shared by the host reference functions (rdi) and the guest (rdi = GBUF). */
struct x87ref {
	uint8_t a[16];	/* st(0) before */
	uint8_t b[16];	/* st(1) before */
	uint16_t cw;	/* 32 */
	uint16_t sw;	/* 34 */
	uint16_t hcw;	/* 36 */
	uint16_t cc;	/* 38: C0-C3 before */
	uint8_t pad[8];
	uint8_t m[16];	/* 48: memory operand */
	uint8_t fx[512]; /* 64: FLDENV image before (C0-C3), FXSAVE image after */
} __attribute__((aligned(16)));
_Static_assert(offsetof(struct x87ref, m) == 48, "m at 48");
_Static_assert(offsetof(struct x87ref, fx) == 64, "fx at 64");

#define GBUF 0x1000

#define XREF(name, insn)                                                                     \
	REF_FN(name, "fnstcw 36(%rdi)\n\tfninit\n\tfldenv 64(%rdi)\n\tfldcw 32(%rdi)\n\t"        \
		     "fldt 16(%rdi)\n\tfldt (%rdi)",                                            \
	       insn, "fnstsw 34(%rdi)\n\tfxsave 64(%rdi)\n\tfninit\n\tfldcw 36(%rdi)");       \
	void name(struct x87ref *r);                                                         \
	extern const uint8_t name##_insn[];

XREF(x_fadd0, "fadd %st(1), %st")
XREF(x_fadd1, "fadd %st, %st(1)")
XREF(x_faddp, "faddp")
XREF(x_fsub0, "fsub %st(1), %st")
XREF(x_fsubr0, "fsubr %st(1), %st")
XREF(x_fsub1, "fsub %st, %st(1)")
XREF(x_fsubr1, "fsubr %st, %st(1)")
XREF(x_fsubp, "fsubp")
XREF(x_fsubrp, "fsubrp")
XREF(x_fmul0, "fmul %st(1), %st")
XREF(x_fmulp, "fmulp")
XREF(x_fdiv0, "fdiv %st(1), %st")
XREF(x_fdivr0, "fdivr %st(1), %st")
XREF(x_fdiv1, "fdiv %st, %st(1)")
XREF(x_fdivr1, "fdivr %st, %st(1)")
XREF(x_fdivp, "fdivp")
XREF(x_fdivrp, "fdivrp")
XREF(x_fadds, "fadds 48(%rdi)")
XREF(x_faddl, "faddl 48(%rdi)")
XREF(x_fiadds, "fiadds 48(%rdi)")
XREF(x_fiaddl, "fiaddl 48(%rdi)")
XREF(x_fsubrl, "fsubrl 48(%rdi)")
XREF(x_fsubs, "fsubs 48(%rdi)")
XREF(x_fmull, "fmull 48(%rdi)")
XREF(x_fdivrs, "fdivrs 48(%rdi)")
XREF(x_fdivl, "fdivl 48(%rdi)")
XREF(x_fidivl, "fidivl 48(%rdi)")
XREF(x_fidivrs, "fidivrs 48(%rdi)")
XREF(x_fimuls, "fimuls 48(%rdi)")
XREF(x_fisubrl, "fisubrl 48(%rdi)")
XREF(x_fsqrt, "fsqrt")
XREF(x_frndint, "frndint")
XREF(x_fscale, "fscale")
XREF(x_fprem, "fprem")
XREF(x_fprem1, "fprem1")
XREF(x_fxtract, "fxtract")
XREF(x_fchs, "fchs")
XREF(x_fabs, "fabs")
XREF(x_ftst, "ftst")
XREF(x_fxam, "fxam")
XREF(x_f2xm1, "f2xm1")
XREF(x_fyl2x, "fyl2x")
XREF(x_fyl2xp1, "fyl2xp1")
XREF(x_fpatan, "fpatan")
XREF(x_fptan, "fptan")
XREF(x_fsincos, "fsincos")
XREF(x_fsin, "fsin")
XREF(x_fcos, "fcos")
XREF(x_fcom, "fcom %st(1)")
XREF(x_fcomp, "fcomp %st(1)")
XREF(x_fcompp, "fcompp")
XREF(x_fucom, "fucom %st(1)")
XREF(x_fucomp, "fucomp %st(1)")
XREF(x_fucompp, "fucompp")
XREF(x_fcoms, "fcoms 48(%rdi)")
XREF(x_fcoml, "fcoml 48(%rdi)")
XREF(x_ficoms, "ficoms 48(%rdi)")
XREF(x_ficompl, "ficompl 48(%rdi)")
XREF(x_fcomi, "fcomi %st(1), %st")
XREF(x_fucomip, "fucomip %st(1), %st")
XREF(x_fld1st, "fld %st(1)")
XREF(x_fld1, "fld1")
XREF(x_fldpi, "fldpi")
XREF(x_fldl2e, "fldl2e")
XREF(x_fldlg2, "fldlg2")
XREF(x_fldz, "fldz")
XREF(x_flds, "flds 48(%rdi)")
XREF(x_fldl, "fldl 48(%rdi)")
XREF(x_fldt, "fldt 48(%rdi)")
XREF(x_filds, "filds 48(%rdi)")
XREF(x_fildl, "fildl 48(%rdi)")
XREF(x_fildll, "fildll 48(%rdi)")
XREF(x_fst1, "fst %st(1)")
XREF(x_fstp1, "fstp %st(1)")
XREF(x_fsts, "fsts 48(%rdi)")
XREF(x_fstpl, "fstpl 48(%rdi)")
XREF(x_fstpt, "fstpt 48(%rdi)")
XREF(x_fists, "fists 48(%rdi)")
XREF(x_fistl, "fistl 48(%rdi)")
XREF(x_fistpll, "fistpll 48(%rdi)")
XREF(x_fisttps, "fisttps 48(%rdi)")
XREF(x_fisttpl, "fisttpl 48(%rdi)")
XREF(x_fisttpll, "fisttpll 48(%rdi)")
XREF(x_fxch, "fxch %st(1)")
XREF(x_fbld, "fbld 48(%rdi)")
XREF(x_fbstp, "fbstp 48(%rdi)")
XREF(x_ffree, "ffree %st(1)")
XREF(x_fincstp, "fincstp")
XREF(x_fdecstp, "fdecstp")

struct xcase {
	const char *name;
	void (*ref)(struct x87ref *r);
	const uint8_t *insn;
};
#define XC(n) { #n, n, n##_insn }

static const struct xcase xcases[] = {
	XC(x_fadd0), XC(x_fadd1), XC(x_faddp), XC(x_fsub0), XC(x_fsubr0), XC(x_fsub1),
	XC(x_fsubr1), XC(x_fsubp), XC(x_fsubrp), XC(x_fmul0), XC(x_fmulp), XC(x_fdiv0),
	XC(x_fdivr0), XC(x_fdiv1), XC(x_fdivr1), XC(x_fdivp), XC(x_fdivrp),
	XC(x_fadds), XC(x_faddl), XC(x_fiadds), XC(x_fiaddl), XC(x_fsubrl), XC(x_fsubs),
	XC(x_fmull), XC(x_fdivrs), XC(x_fdivl), XC(x_fidivl), XC(x_fidivrs), XC(x_fimuls),
	XC(x_fisubrl), XC(x_fsqrt), XC(x_frndint), XC(x_fscale), XC(x_fprem), XC(x_fprem1),
	XC(x_fxtract), XC(x_fchs), XC(x_fabs), XC(x_ftst), XC(x_fxam), XC(x_f2xm1),
	XC(x_fyl2x), XC(x_fyl2xp1), XC(x_fpatan), XC(x_fptan), XC(x_fsincos), XC(x_fsin),
	XC(x_fcos), XC(x_fcom), XC(x_fcomp), XC(x_fcompp), XC(x_fucom), XC(x_fucomp),
	XC(x_fucompp), XC(x_fcoms), XC(x_fcoml), XC(x_ficoms), XC(x_ficompl), XC(x_fcomi),
	XC(x_fucomip), XC(x_fld1st), XC(x_fld1), XC(x_fldpi), XC(x_fldl2e), XC(x_fldlg2),
	XC(x_fldz), XC(x_flds), XC(x_fldl), XC(x_fldt), XC(x_filds), XC(x_fildl), XC(x_fildll),
	XC(x_fst1), XC(x_fstp1), XC(x_fsts), XC(x_fstpl), XC(x_fstpt), XC(x_fists), XC(x_fistl),
	XC(x_fistpll), XC(x_fisttps), XC(x_fisttpl), XC(x_fisttpll), XC(x_fxch), XC(x_ffree),
	XC(x_fincstp), XC(x_fdecstp), XC(x_fbld), XC(x_fbstp),
};

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* An 80-bit value: special, random bits around the useful exponents, or a plain number. */
static void rnd_ext(uint8_t *out)
{
	static const struct {
		uint64_t mant;
		uint16_t se;
	} special[] = {
		{ 0, 0 }, { 0, 0x8000 }, { 1ull << 63, 0x3fff }, { 3ull << 62, 0xbfff },
		{ 0xc90fdaa22168c235ull, 0x4000 }, { ~0ull, 0x7ffe }, { 1, 0 }, { 1ull << 62, 0x8000 },
		{ 1ull << 63, 0x7fff }, { 1ull << 63, 0xffff }, { 3ull << 62, 0x7fff },
		{ 0xc000000000000001ull, 0xffff }, { 0xa000000000000000ull, 0x7fff },
		{ 0x8000000000000001ull, 0xffff }, { 1ull << 62, 0x3fff } /* unnormal */,
		{ 1ull << 63, 0x403e }, { 1ull << 63, 0xc03e }, { 0xffffffffffffffffull, 0x403d },
		{ 1ull << 63, 0x3ffe }, { 5ull << 61, 0x4000 }, { 1ull << 63, 0x400e },
		{ 0xffff000000000000ull, 0x401d }, { 1ull << 63, 0x0001 }, { 1ull << 63, 0x43fe },
		{ 1ull << 63, 0x3c00 }, { 1ull << 63, 0x3f80 }, { 0x8000000000000800ull, 0x3fff },
	};
	uint64_t mant;
	uint16_t se;

	switch (rnd() % 4) {
	case 0: {
		unsigned k = (unsigned)(rnd() % (sizeof(special) / sizeof(special[0])));
		mant = special[k].mant;
		se = special[k].se;
		break;
	}
	case 1: /* small integers and halves (rounding, FIST) */
		mant = (rnd() % 4000 + 1) << 52 | 1ull << 63;
		se = (uint16_t)(0x3ffe + rnd() % 16 + (rnd() & 1 ? 0x8000 : 0));
		break;
	default:
		mant = rnd() | 1ull << 63;
		se = (uint16_t)(0x3fff + (int)(rnd() % 160) - 80 + (rnd() & 1 ? 0x8000 : 0));
		break;
	}
	memcpy(out, &mant, 8);
	memcpy(out + 8, &se, 2);
	memset(out + 10, 0, 6);
}

static void rnd_mem(uint8_t *m)
{
	uint64_t v = rnd();
	float f;
	double d;

	switch (rnd() % 4) {
	case 0:
		f = (float)((int)(rnd() % 2001) - 1000) / 8.0f;
		memcpy(m, &f, 4);
		memcpy(m + 4, &v, 4);
		break;
	case 1:
		d = (double)((int)(rnd() % 20001) - 10000) / 16.0;
		memcpy(m, &d, 8);
		break;
	case 2:
		rnd_ext(m);
		break;
	default:
		memcpy(m, &v, 8);
		v = rnd();
		memcpy(m + 8, &v, 8);
		break;
	}
}

/*
 * Control words: precision and rounding control; then IM, ZM, DM
 * unmasked (the operation stops before computing), OM, UM (results with
 * a wrapped exponent; stores neither write nor pop), PM, all. The host
 * reference keeps the exception pending: FNSTSW and FXSAVE do not wait,
 * FNINIT discards it.
 */
static const uint16_t cws[] = { 0x037f, 0x027f, 0x007f, 0x077f, 0x0b7f, 0x0f7f, 0x0a7f, 0x037e,
				0x037b, 0x037d, 0x0377, 0x036f, 0x035f, 0x0360, 0x0f60 };

static void guest_setup(struct soft_cpu *cpu, const struct x87ref *r)
{
	struct x86_fxsave *fx = &cpu->regs.fpu;

	fx->fcw = r->cw;
	fx->fsw = (uint16_t)(6 << 11 | r->cc);
	fx->ftw = 0xc0;
	memset(fx->st, 0, sizeof(fx->st));
	memcpy(fx->st[7], r->b, 10);
	memcpy(fx->st[6], r->a, 10);
	memcpy(cpu->mem + GBUF, r, sizeof(*r));
	cpu->regs.gpr[X86_RDI] = GBUF;
}

static void test_x87_vs_host(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	static struct x87ref r;
	unsigned checked = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(xcases) / sizeof(xcases[0]); c++) {
		const struct xcase *xc = &xcases[c];

		for (unsigned k = 0; k < sizeof(cws) / sizeof(cws[0]); k++) {
			for (unsigned it = 0; it < 150; it++) {
				struct x86_fxsave *fx = &cpu->regs.fpu;
				const uint8_t *hfx;
				uint16_t hsw;
				uint8_t hftw;
				int v;

				memset(&r, 0, sizeof(r));
				rnd_ext(r.a);
				rnd_ext(r.b);
				rnd_mem(r.m);
				r.cw = cws[k];
				/* Condition codes before: those the instruction does not write stay. */
				r.cc = (uint16_t)(rnd() & FSW_CC);
				memset(r.fx, 0xff, 28);
				memcpy(r.fx, &r.cw, 2);
				memcpy(r.fx + 4, &r.cc, 2);
				guest_setup(cpu, &r);
				v = fx_exec(cpu, xc->insn);
				if (v != -1)
					fail_msg("%s raised %d", xc->name, v);
				xc->ref(&r);
				hfx = r.fx;
				memcpy(&hsw, hfx + 2, 2);
				hftw = hfx[4];
				if (fx->fsw != r.sw || fx->ftw != hftw ||
				    memcmp(cpu->mem + GBUF + 48, r.m, 16))
					goto bad;
				for (unsigned i = 0; i < 8; i++) {
					unsigned p = (((unsigned)fx->fsw >> 11) + i) & 7;
					if ((fx->ftw & (1u << p)) && memcmp(fx->st[p], hfx + 32 + i * 16, 10))
						goto bad;
				}
				checked++;
				continue;
bad:
				fail_msg("%s cw %#x a %04x:%016llx b %04x:%016llx m %016llx: soft sw %#x "
					 "tw %#x st0 %04x:%016llx, host sw %#x tw %#x st0 %04x:%016llx",
					 xc->name, r.cw, *(uint16_t *)(r.a + 8),
					 (unsigned long long)*(uint64_t *)r.a, *(uint16_t *)(r.b + 8),
					 (unsigned long long)*(uint64_t *)r.b,
					 (unsigned long long)*(uint64_t *)r.m, fx->fsw, fx->ftw,
					 *(uint16_t *)(fx->st[(fx->fsw >> 11) & 7] + 8),
					 (unsigned long long)*(uint64_t *)fx->st[(fx->fsw >> 11) & 7], r.sw,
					 hftw, *(const uint16_t *)(hfx + 40),
					 (unsigned long long)*(const uint64_t *)(hfx + 32));
			}
		}
	}
	assert_true(checked > 150000);
	test_free(cpu);
}

/* ---- Save images ------------------------------------------------------------------ */

#define X(...) ((const uint8_t[]){ __VA_ARGS__ })

static void run_ok(struct soft_cpu *cpu, const uint8_t *insn)
{
	int v = fx_exec(cpu, insn);

	if (v != -1)
		fail_msg("raised %d", v);
}

/* FNINIT; FLDCW [rsi]; FLDT [rsi+16]; FLDT [rsi+32]; FLDT [rsi+48] on both, then FNSAVE: same image. */
static void test_fnsave_image(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	static uint8_t src[64], himg[108], gimg[108];
	uint16_t cw = 0x0b7b;

	(void)state;
	memcpy(src, &cw, 2);
	rnd_ext(src + 16);
	memset(src + 32, 0, 16); /* zero: tag 01 */
	memcpy(src + 48, (const uint8_t[]){ 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 10); /* denormal: tag 10 */
	asm volatile("fninit\n\tfldcw (%1)\n\tfldt 16(%1)\n\tfldt 32(%1)\n\tfldt 48(%1)\n\t"
		     "fnsave (%0)\n\tfninit\n\tfldcw %2"
		     :
		     : "r"(himg), "r"(src), "m"((uint16_t){ 0x37f })
		     : "memory", "st", "st(1)", "st(2)");
	memcpy(cpu->mem + 0x100, src, 64);
	cpu->regs.gpr[X86_RSI] = 0x100;
	cpu->regs.gpr[X86_RDI] = 0x400;
	run_ok(cpu, X(0xdb, 0xe3));	  /* fninit */
	run_ok(cpu, X(0xd9, 0x2e));	  /* fldcw [rsi] */
	run_ok(cpu, X(0xdb, 0x6e, 0x10)); /* fld tbyte [rsi+16] */
	run_ok(cpu, X(0xdb, 0x6e, 0x20));
	run_ok(cpu, X(0xdb, 0x6e, 0x30));
	run_ok(cpu, X(0xdd, 0x37));	  /* fnsave [rdi] */
	memcpy(gimg, cpu->mem + 0x400, 108);
	/* Control, status, tag words and the registers; not the instruction/data pointers. */
	assert_memory_equal(gimg, himg, 12);
	assert_memory_equal(gimg + 28, himg + 28, 80);
	/* FNSAVE reinitialises. */
	assert_int_equal(cpu->regs.fpu.fcw, 0x37f);
	assert_int_equal(cpu->regs.fpu.ftw, 0);
	/* FRSTOR brings it back; FNSTENV then writes the same environment. */
	run_ok(cpu, X(0xdd, 0x27)); /* frstor [rdi] */
	assert_int_equal(cpu->regs.fpu.fcw, cw);
	assert_int_equal(cpu->regs.fpu.ftw, 0xe0);
	assert_int_equal((cpu->regs.fpu.fsw >> 11) & 7, 5);
	cpu->regs.gpr[X86_RDI] = 0x600;
	run_ok(cpu, X(0xd9, 0x37)); /* fnstenv [rdi] */
	assert_memory_equal(cpu->mem + 0x600, himg, 12);
	assert_int_equal(cpu->regs.fpu.fcw, cw | 0x3f);
	/* FLDENV of the saved environment: control word back. */
	cpu->regs.gpr[X86_RDI] = 0x400;
	run_ok(cpu, X(0xd9, 0x27)); /* fldenv [rdi] */
	assert_int_equal(cpu->regs.fpu.fcw, cw);
	test_free(cpu);
}

static void test_fxsave(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	static uint8_t himg[512] __attribute__((aligned(16)));
	struct x86_fxsave saved;
	static uint8_t src[64];
	uint16_t cw = 0x027f;

	(void)state;
	/* The host's FXSAVE after FNINIT, FLDCW, two loads: the guest must write the same. */
	memcpy(src, &cw, 2);
	rnd_ext(src + 16);
	rnd_ext(src + 32);
	asm volatile("fninit\n\tfldcw (%1)\n\tfldt 16(%1)\n\tfldt 32(%1)\n\t"
		     "fxsave (%0)\n\tfninit\n\tfldcw %2"
		     :
		     : "r"(himg), "r"(src), "m"((uint16_t){ 0x37f })
		     : "memory", "st", "st(1)");
	memcpy(cpu->mem + 0x100, src, 64);
	cpu->regs.gpr[X86_RSI] = 0x100;
	run_ok(cpu, X(0xdb, 0xe3));
	run_ok(cpu, X(0xd9, 0x2e));
	run_ok(cpu, X(0xdb, 0x6e, 0x10));
	run_ok(cpu, X(0xdb, 0x6e, 0x20));
	for (unsigned i = 0; i < 16; i++)
		memset(cpu->regs.fpu.xmm[i], (int)(i * 17), 16);
	cpu->regs.fpu.mxcsr = 0x1f80;
	cpu->regs.gpr[X86_RDI] = 0x1000;
	memset(cpu->mem + 0x1000, 0xaa, 512);
	run_ok(cpu, X(0x48, 0x0f, 0xae, 0x07)); /* fxsave64 [rdi] */
	/* fcw, fsw, ftw, the stack registers in ST order, MXCSR, MXCSR_MASK. */
	assert_memory_equal(cpu->mem + 0x1000, himg, 6);
	assert_memory_equal(cpu->mem + 0x1000 + 32, himg + 32, 10); /* ST0, ST1: the valid ones */
	assert_memory_equal(cpu->mem + 0x1000 + 48, himg + 48, 10);
	uint32_t v;
	memcpy(&v, cpu->mem + 0x1000 + 24, 4);
	assert_int_equal(v, 0x1f80);
	memcpy(&v, cpu->mem + 0x1000 + 28, 4);
	assert_int_equal(v, 0xffff);
	assert_int_equal(cpu->mem[0x1000 + 160 + 16 * 15], 15 * 17);
	assert_int_equal(cpu->mem[0x1000 + 464], 0xaa); /* software-available area untouched */

	/* Round trip: scramble, FXRSTOR64, same state. */
	saved = cpu->regs.fpu;
	memset(&cpu->regs.fpu, 0x5a, sizeof(cpu->regs.fpu));
	run_ok(cpu, X(0x48, 0x0f, 0xae, 0x0f)); /* fxrstor64 [rdi] */
	assert_int_equal(cpu->regs.fpu.fcw, saved.fcw);
	assert_int_equal(cpu->regs.fpu.fsw, saved.fsw);
	assert_int_equal(cpu->regs.fpu.ftw, saved.ftw);
	assert_int_equal(cpu->regs.fpu.mxcsr, saved.mxcsr);
	assert_memory_equal(cpu->regs.fpu.st, saved.st, sizeof(saved.st));
	assert_memory_equal(cpu->regs.fpu.xmm, saved.xmm, sizeof(saved.xmm));

	/* Misaligned: #GP(0). Reserved MXCSR bits in the image: #GP(0). */
	cpu->regs.gpr[X86_RDI] = 0x1008;
	assert_int_equal(fx_exec(cpu, X(0x0f, 0xae, 0x07)), X86_VEC_GP);
	assert_int_equal(fx_exec(cpu, X(0x0f, 0xae, 0x0f)), X86_VEC_GP);
	cpu->regs.gpr[X86_RDI] = 0x1000;
	v = 0x20000;
	memcpy(cpu->mem + 0x1000 + 24, &v, 4);
	cpu->regs.fpu.mxcsr = 0x1f80;
	assert_int_equal(fx_exec(cpu, X(0x0f, 0xae, 0x0f)), X86_VEC_GP);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x1f80);
	/* #NM when TS is set. */
	cpu->regs.cr0 |= 8;
	assert_int_equal(fx_exec(cpu, X(0x0f, 0xae, 0x07)), X86_VEC_NM);
	test_free(cpu);
}

/* The image helpers of fpu.h: stack order in the image, physical in the state. */
static void test_fxsave_image_helpers(void **state)
{
	static uint8_t img[512], img2[512];
	struct x86_fxsave a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.fcw = 0x27f;
	a.fsw = 5 << 11 | 0x4100;
	a.ftw = 0xe0;
	a.mxcsr = 0x1fa0;
	a.fip = 0x123456789aull;
	for (unsigned p = 0; p < 8; p++)
		memset(a.st[p], (int)(0x10 + p), 10);
	for (unsigned i = 0; i < 16; i++)
		memset(a.xmm[i], (int)i, 16);
	memset(img, 0xcc, sizeof(img));
	soft_fpu_to_fxsave_image(&a, img);
	/* ST0 is physical register 5. */
	assert_int_equal(img[32], 0x15);
	assert_int_equal(img[32 + 16], 0x16);
	assert_int_equal(img[32 + 3 * 16], 0x10);
	assert_int_equal(img[32 + 10], 0);
	assert_int_equal(img[416], 0xcc);
	soft_fpu_from_fxsave_image(&b, img);
	assert_memory_equal(a.st, b.st, sizeof(a.st));
	assert_memory_equal(a.xmm, b.xmm, sizeof(a.xmm));
	assert_int_equal(b.fsw, a.fsw);
	assert_int_equal(b.fip, a.fip);
	/* The same image as FXSAVE64 writes. */
	struct soft_cpu *cpu = fx_cpu_new();
	cpu->regs.fpu = a;
	cpu->regs.gpr[X86_RDI] = 0x1000;
	run_ok(cpu, X(0x48, 0x0f, 0xae, 0x07));
	soft_fpu_to_fxsave_image(&a, img2);
	assert_memory_equal(cpu->mem + 0x1000, img2, 416);
	test_free(cpu);
}

/* ---- Exceptions and the stack --------------------------------------------------------- */

static void test_x87_exceptions(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	struct x86_fxsave *fx = &cpu->regs.fpu;
	uint16_t cw;

	(void)state;
	/* #NM: TS or EM; WAIT only with MP and TS. */
	cpu->regs.cr0 |= 8;
	assert_int_equal(fx_exec(cpu, X(0xd9, 0xe8)), X86_VEC_NM); /* fld1 */
	assert_int_equal(fx_exec(cpu, X(0x9b)), X86_VEC_NM);	    /* MP=1 TS=1 */
	cpu->regs.cr0 &= ~2ull;
	assert_int_equal(fx_exec(cpu, X(0x9b)), -1); /* TS without MP */
	cpu->regs.cr0 = (cpu->regs.cr0 | 2 | 4) & ~8ull;
	assert_int_equal(fx_exec(cpu, X(0xd9, 0xe8)), X86_VEC_NM); /* EM */
	cpu->regs.cr0 &= ~4ull;

	/* Stack overflow: the ninth push is IE|SF|C1 and loads the indefinite. */
	run_ok(cpu, X(0xdb, 0xe3));
	for (unsigned i = 0; i < 8; i++)
		run_ok(cpu, X(0xd9, 0xe8));
	assert_int_equal(fx->fsw & 0x7f, 0);
	run_ok(cpu, X(0xd9, 0xeb)); /* fldpi */
	assert_int_equal(fx->fsw & 0x3ff, FSW_IE | FSW_SF | FSW_C1);
	assert_int_equal(fx->st[(fx->fsw >> 11) & 7][7], 0xc0);
	assert_int_equal(fx->st[(fx->fsw >> 11) & 7][9], 0xff);

	/* Stack underflow: FADD with an empty st(1). */
	run_ok(cpu, X(0xdb, 0xe3));
	run_ok(cpu, X(0xd9, 0xe8));
	run_ok(cpu, X(0xd8, 0xc1)); /* fadd st0, st1 */
	assert_int_equal(fx->fsw & 0x2ff, FSW_IE | FSW_SF);
	assert_int_equal(fx->st[(fx->fsw >> 11) & 7][9], 0xff);

	/* FNSTSW AX. */
	cpu->regs.gpr[X86_RAX] = 0xffff0000ffff0000ull;
	run_ok(cpu, X(0xdf, 0xe0));
	assert_int_equal(cpu->regs.gpr[X86_RAX], 0xffff0000ffff0000ull | fx->fsw);

	/* Unmasked ZE: ES set, st(0) unchanged; the next waiting instruction takes #MF. */
	run_ok(cpu, X(0xdb, 0xe3));
	cw = 0x037b;
	memcpy(cpu->mem + 0x100, &cw, 2);
	cpu->regs.gpr[X86_RSI] = 0x100;
	run_ok(cpu, X(0xd9, 0x2e)); /* fldcw */
	run_ok(cpu, X(0xd9, 0xee)); /* fldz */
	run_ok(cpu, X(0xd9, 0xe8)); /* fld1 */
	run_ok(cpu, X(0xd8, 0xf1)); /* fdiv st0, st1: 1/0 */
	assert_int_equal(fx->fsw & 0x80ff, FSW_ZE | FSW_ES | FSW_B);
	assert_int_equal(fx->st[(fx->fsw >> 11) & 7][9], 0x3f); /* still 1.0 */
	assert_int_equal(fx_exec(cpu, X(0xd8, 0xc1)), X86_VEC_MF);
	assert_int_equal(fx_exec(cpu, X(0x9b)), X86_VEC_MF);
	run_ok(cpu, X(0xdf, 0xe0));    /* fnstsw ax: no wait */
	run_ok(cpu, X(0xdb, 0xe2));    /* fnclex */
	assert_int_equal(fx->fsw & 0x80ff, 0);
	run_ok(cpu, X(0xd8, 0xc1));
	/* Without CR0.NE the exception stays pending and nothing is raised. */
	cpu->regs.cr0 &= ~0x20ull;
	run_ok(cpu, X(0xd8, 0xf1));
	run_ok(cpu, X(0xd8, 0xc1));
	cpu->regs.cr0 |= 0x20;
	/* FLDCW masking it again clears ES. */
	cw = 0x037f;
	memcpy(cpu->mem + 0x100, &cw, 2);
	run_ok(cpu, X(0xd9, 0x2e));
	assert_int_equal(fx->fsw & 0x8080, 0);
	run_ok(cpu, X(0x9b));

	/* FCOMI sets ZF/PF/CF and clears OF/SF/AF. */
	run_ok(cpu, X(0xdb, 0xe3));
	run_ok(cpu, X(0xd9, 0xe8)); /* 1 */
	run_ok(cpu, X(0xd9, 0xee)); /* 0: st0 = 0, st1 = 1 */
	cpu->regs.rflags = 0x8d7;
	run_ok(cpu, X(0xdb, 0xf1)); /* fcomi st0, st1: 0 < 1 */
	assert_int_equal(cpu->regs.rflags, 0x2 | X86_FLAGS_CF);
	run_ok(cpu, X(0xdf, 0xe9)); /* fucomip st0, st1: pops */
	assert_int_equal((fx->fsw >> 11) & 7, 7);

	/* FCMOVB / FCMOVNB. */
	run_ok(cpu, X(0xd9, 0xee)); /* st0 = 0, st1 = 1 */
	cpu->regs.rflags = 0x2;
	run_ok(cpu, X(0xda, 0xc1)); /* fcmovb st0, st1: CF=0, no move */
	assert_int_equal(fx->st[(fx->fsw >> 11) & 7][9], 0);
	run_ok(cpu, X(0xdb, 0xc1)); /* fcmovnb: moves */
	assert_int_equal(fx->st[(fx->fsw >> 11) & 7][9], 0x3f);

	/* FXAM of an empty register: C3 and C0. */
	run_ok(cpu, X(0xdb, 0xe3));
	run_ok(cpu, X(0xd9, 0xe5));
	assert_int_equal(fx->fsw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C0 | FSW_C3);

	/* FSTP to memory past the end faults and changes nothing. */
	run_ok(cpu, X(0xd9, 0xe8));
	uint16_t sw = fx->fsw;
	cpu->regs.gpr[X86_RSI] = GUEST_MEM - 2;
	assert_int_equal(fx_exec(cpu, X(0xdd, 0x1e)), X86_VEC_PF); /* fstp qword [rsi] */
	assert_int_equal(fx->fsw, sw);
	assert_int_equal(fx->ftw, 0x80);
	test_free(cpu);
}

/*
 * Differential-test regressions (tests/diff BUGS 8 and 9): FCOMI/FUCOMI
 * clear OF SF AF even when an unmasked #IA stops them (ZF PF CF then
 * unchanged, no pop); with an unmasked denormal operand they still set
 * ZF PF CF. A store faults on its destination before its numeric
 * exception is taken.
 */
static void test_x87_regressions(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	struct x86_fxsave *fx = &cpu->regs.fpu;
	const uint64_t osa = X86_FLAGS_OF | X86_FLAGS_SF | X86_FLAGS_AF;
	uint8_t denormal[10] = { 1 };
	uint16_t cw;

	(void)state;
	cpu->regs.gpr[X86_RSI] = 0x100;
	cpu->regs.gpr[X86_RDI] = 0x200;
	memcpy(cpu->mem + 0x200, denormal, 10);

	/* IM unmasked, st1 empty: #IS; OF SF AF cleared, ZF PF CF kept, no pop. */
	cw = 0x037e;
	memcpy(cpu->mem + 0x100, &cw, 2);
	run_ok(cpu, X(0xd9, 0x2e)); /* fldcw [rsi] */
	run_ok(cpu, X(0xd9, 0xee)); /* fldz */
	cpu->regs.rflags = 0x2 | osa | X86_FLAGS_CF;
	run_ok(cpu, X(0xdf, 0xf1)); /* fcomip st0, st1 */
	assert_int_equal(cpu->regs.rflags, 0x2 | X86_FLAGS_CF);
	assert_int_equal(fx->fsw & 0x3ff, FSW_IE | FSW_SF | FSW_ES);
	assert_int_equal((fx->fsw >> 11) & 7, 7);
	assert_int_equal(fx_exec(cpu, X(0xd9, 0xd0)), X86_VEC_MF); /* fnop */

	/* Masked #IS: ZF PF CF = 111, OF SF AF cleared, pops. */
	run_ok(cpu, X(0xdb, 0xe3)); /* fninit */
	run_ok(cpu, X(0xd9, 0xee));
	cpu->regs.rflags = 0x2 | osa;
	run_ok(cpu, X(0xdb, 0xe9)); /* fucomi st0, st1 */
	assert_int_equal(cpu->regs.rflags, 0x2 | X86_FLAGS_ZF | X86_FLAGS_PF | X86_FLAGS_CF);

	/* DM unmasked: a denormal still compares (equal: ZF), no pop, #MF next. */
	run_ok(cpu, X(0xdb, 0xe3));
	cw = 0x037d;
	memcpy(cpu->mem + 0x100, &cw, 2);
	run_ok(cpu, X(0xd9, 0x2e));
	run_ok(cpu, X(0xdb, 0x2f)); /* fld tword [rdi]: no #D for m80 */
	cpu->regs.rflags = 0x2 | osa | X86_FLAGS_CF;
	run_ok(cpu, X(0xdf, 0xe8)); /* fucomip st0, st0 */
	assert_int_equal(cpu->regs.rflags, 0x2 | X86_FLAGS_ZF);
	assert_int_equal(fx->fsw & 0xff, FSW_DE | FSW_ES);
	assert_int_equal((fx->fsw >> 11) & 7, 7);
	assert_int_equal(fx_exec(cpu, X(0xd9, 0xd0)), X86_VEC_MF);

	/* IM unmasked: FIST of a huge value and FST of an empty st0 still #PF first. */
	run_ok(cpu, X(0xdb, 0xe3));
	cw = 0x037e;
	memcpy(cpu->mem + 0x100, &cw, 2);
	run_ok(cpu, X(0xd9, 0x2e));
	cpu->regs.gpr[X86_RBX] = GUEST_MEM - 1;
	assert_int_equal(fx_exec(cpu, X(0xd9, 0x13)), X86_VEC_PF); /* fst dword [rbx] */
	assert_int_equal(fx->fsw, 0);
	assert_int_equal(fx_exec(cpu, X(0xdb, 0x3b)), X86_VEC_PF); /* fstp tword [rbx] */
	assert_int_equal(fx_exec(cpu, X(0xdf, 0x33)), X86_VEC_PF); /* fbstp [rbx] */
	assert_int_equal(fx->fsw, 0);
	memcpy(cpu->mem + 0x300, &(int32_t){ 100000 }, 4);
	cpu->regs.gpr[X86_RDX] = 0x300;
	run_ok(cpu, X(0xdb, 0x02)); /* fild dword [rdx] */
	assert_int_equal(fx->fsw & 0xff, 0);
	assert_int_equal(fx_exec(cpu, X(0xdf, 0x13)), X86_VEC_PF); /* fist word [rbx] */
	assert_int_equal(fx->fsw & 0xff, 0);

	/*
	 * Masked exception flags are sticky, and cleared by FNCLEX only: the
	 * host's are reused while the guest has them too (x87.c fast path).
	 */
	run_ok(cpu, X(0xdb, 0xe3)); /* fninit */
	run_ok(cpu, X(0xd9, 0xee)); /* fldz */
	run_ok(cpu, X(0xd9, 0xe8)); /* fld1 */
	run_ok(cpu, X(0xd8, 0xf1)); /* fdiv st0, st1: ZE */
	assert_int_equal(fx->fsw & 0xff, FSW_ZE);
	run_ok(cpu, X(0xd9, 0xeb)); /* fldpi: no PE */
	assert_int_equal(fx->fsw & 0xff, FSW_ZE);
	run_ok(cpu, X(0xd9, 0xe8)); /* fld1 */
	run_ok(cpu, X(0xd8, 0xf1)); /* fdiv st0, st1: 1/pi, PE */
	assert_int_equal(fx->fsw & 0xff, FSW_ZE | FSW_PE);
	run_ok(cpu, X(0xdb, 0xe2)); /* fnclex */
	run_ok(cpu, X(0xd9, 0xe8)); /* fld1: st0 1, 1/pi, pi, inf, 0 */
	run_ok(cpu, X(0xd8, 0xc0)); /* fadd st0, st0: 2, exact */
	assert_int_equal(fx->fsw & 0xff, 0);
	run_ok(cpu, X(0xd8, 0xf2)); /* fdiv st0, st2: 2/pi, PE */
	assert_int_equal(fx->fsw & 0xff, FSW_PE);
	run_ok(cpu, X(0xd8, 0xc4)); /* fadd st0, st4: + 0, exact, PE stays */
	assert_int_equal(fx->fsw & 0xff, FSW_PE);
	run_ok(cpu, X(0xdb, 0xe2)); /* fnclex */
	run_ok(cpu, X(0xd8, 0xc4)); /* fadd st0, st4: exact */
	assert_int_equal(fx->fsw & 0xff, 0);
	run_ok(cpu, X(0xd8, 0xf3)); /* fdiv st0, st3: / inf = 0, exact */
	assert_int_equal(fx->fsw & 0xff, 0);
	test_free(cpu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x87_vs_host),
		cmocka_unit_test(test_fnsave_image),
		cmocka_unit_test(test_fxsave),
		cmocka_unit_test(test_fxsave_image_helpers),
		cmocka_unit_test(test_x87_exceptions),
		cmocka_unit_test(test_x87_regressions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
