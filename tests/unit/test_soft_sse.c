// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft SSE/SSE2/MMX handlers (sse.c, sse_int.c) against the host:
 * each case runs the same instruction bytes on the soft CPU (test double
 * of the core, test_soft_fpu_fixture.h) and on the host, over special and
 * random operands in every rounding mode with DAZ/FTZ, and compares the
 * destination and the MXCSR flags (or RFLAGS, or the GPR). Plus the
 * exceptions: #GP on misaligned MOVAPS, #NM on TS, #UD without OSFXSR,
 * #XM / #UD for unmasked exceptions, LDMXCSR reserved bits.
 */
#include <emmintrin.h>

#include "test_soft_fpu_fixture.h"

/* ---- Host references ---------------------------------------------------------- */

typedef __m128i (*ref_vec)(__m128i a, __m128i b);
typedef uint64_t (*ref_int)(__m128i a, __m128i b);

#define VREF(name, insn)                                                  \
	REF_FN(name, "", insn, "");                                       \
	__m128i name(__m128i a, __m128i b);                               \
	extern const uint8_t name##_insn[];
#define IREF(name, insn)                                                  \
	REF_FN(name, "xor %eax, %eax", insn, "");                         \
	uint64_t name(__m128i a, __m128i b);                              \
	extern const uint8_t name##_insn[];
#define FREF(name, insn)                                                  \
	REF_FN(name, "", insn, "pushfq\n\tpop %rax");                     \
	uint64_t name(__m128i a, __m128i b);                              \
	extern const uint8_t name##_insn[];
#define MREF(name, insn)                                                                  \
	REF_FN(name, "movdq2q %xmm0, %mm0\n\tmovdq2q %xmm1, %mm1", insn,                  \
	       "movq2dq %mm0, %xmm0\n\temms");                                            \
	__m128i name(__m128i a, __m128i b);                                               \
	extern const uint8_t name##_insn[];

/* Element kinds the operands are drawn from. */
enum vk { VK_F, VK_D, VK_I };

struct vcase {
	const char *name;
	ref_vec ref;
	const uint8_t *insn;
	enum vk kind;
};

#define VC(n, k) { #n, n, n##_insn, k }

VREF(r_addps, "addps %xmm1, %xmm0")
VREF(r_addss, "addss %xmm1, %xmm0")
VREF(r_addpd, "addpd %xmm1, %xmm0")
VREF(r_addsd, "addsd %xmm1, %xmm0")
VREF(r_subps, "subps %xmm1, %xmm0")
VREF(r_subsd, "subsd %xmm1, %xmm0")
VREF(r_mulps, "mulps %xmm1, %xmm0")
VREF(r_mulpd, "mulpd %xmm1, %xmm0")
VREF(r_mulss, "mulss %xmm1, %xmm0")
VREF(r_divps, "divps %xmm1, %xmm0")
VREF(r_divpd, "divpd %xmm1, %xmm0")
VREF(r_divss, "divss %xmm1, %xmm0")
VREF(r_divsd, "divsd %xmm1, %xmm0")
VREF(r_minps, "minps %xmm1, %xmm0")
VREF(r_maxps, "maxps %xmm1, %xmm0")
VREF(r_minsd, "minsd %xmm1, %xmm0")
VREF(r_maxpd, "maxpd %xmm1, %xmm0")
VREF(r_sqrtps, "sqrtps %xmm1, %xmm0")
VREF(r_sqrtss, "sqrtss %xmm1, %xmm0")
VREF(r_sqrtpd, "sqrtpd %xmm1, %xmm0")
VREF(r_sqrtsd, "sqrtsd %xmm1, %xmm0")
VREF(r_rcpps, "rcpps %xmm1, %xmm0")
VREF(r_rsqrtss, "rsqrtss %xmm1, %xmm0")
VREF(r_cmpps0, "cmpps $0, %xmm1, %xmm0")
VREF(r_cmpps1, "cmpps $1, %xmm1, %xmm0")
VREF(r_cmpps2, "cmpps $2, %xmm1, %xmm0")
VREF(r_cmpps3, "cmpps $3, %xmm1, %xmm0")
VREF(r_cmpps4, "cmpps $4, %xmm1, %xmm0")
VREF(r_cmpps5, "cmpps $5, %xmm1, %xmm0")
VREF(r_cmpps6, "cmpps $6, %xmm1, %xmm0")
VREF(r_cmpps7, "cmpps $7, %xmm1, %xmm0")
VREF(r_cmpss1, "cmpss $1, %xmm1, %xmm0")
VREF(r_cmppd2, "cmppd $2, %xmm1, %xmm0")
VREF(r_cmpsd5, "cmpsd $5, %xmm1, %xmm0")
VREF(r_cvtps2pd, "cvtps2pd %xmm1, %xmm0")
VREF(r_cvtpd2ps, "cvtpd2ps %xmm1, %xmm0")
VREF(r_cvtss2sd, "cvtss2sd %xmm1, %xmm0")
VREF(r_cvtsd2ss, "cvtsd2ss %xmm1, %xmm0")
VREF(r_cvtdq2ps, "cvtdq2ps %xmm1, %xmm0")
VREF(r_cvtps2dq, "cvtps2dq %xmm1, %xmm0")
VREF(r_cvttps2dq, "cvttps2dq %xmm1, %xmm0")
VREF(r_cvtdq2pd, "cvtdq2pd %xmm1, %xmm0")
VREF(r_cvtpd2dq, "cvtpd2dq %xmm1, %xmm0")
VREF(r_cvttpd2dq, "cvttpd2dq %xmm1, %xmm0")
VREF(r_andnps, "andnps %xmm1, %xmm0")
VREF(r_xorpd, "xorpd %xmm1, %xmm0")
VREF(r_shufps, "shufps $0x1b, %xmm1, %xmm0")
VREF(r_shufpd, "shufpd $1, %xmm1, %xmm0")
VREF(r_unpcklps, "unpcklps %xmm1, %xmm0")
VREF(r_unpckhpd, "unpckhpd %xmm1, %xmm0")
VREF(r_movss, "movss %xmm1, %xmm0")
VREF(r_movsd, "movsd %xmm1, %xmm0")
VREF(r_movhlps, "movhlps %xmm1, %xmm0")
VREF(r_movlhps, "movlhps %xmm1, %xmm0")
VREF(r_movq, "movq %xmm1, %xmm0")
VREF(r_paddb, "paddb %xmm1, %xmm0")
VREF(r_paddw, "paddw %xmm1, %xmm0")
VREF(r_paddd, "paddd %xmm1, %xmm0")
VREF(r_paddq, "paddq %xmm1, %xmm0")
VREF(r_psubb, "psubb %xmm1, %xmm0")
VREF(r_psubq, "psubq %xmm1, %xmm0")
VREF(r_paddsb, "paddsb %xmm1, %xmm0")
VREF(r_paddsw, "paddsw %xmm1, %xmm0")
VREF(r_paddusb, "paddusb %xmm1, %xmm0")
VREF(r_paddusw, "paddusw %xmm1, %xmm0")
VREF(r_psubsb, "psubsb %xmm1, %xmm0")
VREF(r_psubsw, "psubsw %xmm1, %xmm0")
VREF(r_psubusb, "psubusb %xmm1, %xmm0")
VREF(r_psubusw, "psubusw %xmm1, %xmm0")
VREF(r_pmullw, "pmullw %xmm1, %xmm0")
VREF(r_pmulhw, "pmulhw %xmm1, %xmm0")
VREF(r_pmulhuw, "pmulhuw %xmm1, %xmm0")
VREF(r_pmuludq, "pmuludq %xmm1, %xmm0")
VREF(r_pmaddwd, "pmaddwd %xmm1, %xmm0")
VREF(r_pcmpeqb, "pcmpeqb %xmm1, %xmm0")
VREF(r_pcmpeqw, "pcmpeqw %xmm1, %xmm0")
VREF(r_pcmpeqd, "pcmpeqd %xmm1, %xmm0")
VREF(r_pcmpgtb, "pcmpgtb %xmm1, %xmm0")
VREF(r_pcmpgtw, "pcmpgtw %xmm1, %xmm0")
VREF(r_pcmpgtd, "pcmpgtd %xmm1, %xmm0")
VREF(r_pminub, "pminub %xmm1, %xmm0")
VREF(r_pmaxub, "pmaxub %xmm1, %xmm0")
VREF(r_pminsw, "pminsw %xmm1, %xmm0")
VREF(r_pmaxsw, "pmaxsw %xmm1, %xmm0")
VREF(r_pavgb, "pavgb %xmm1, %xmm0")
VREF(r_pavgw, "pavgw %xmm1, %xmm0")
VREF(r_psadbw, "psadbw %xmm1, %xmm0")
VREF(r_pand, "pand %xmm1, %xmm0")
VREF(r_pandn, "pandn %xmm1, %xmm0")
VREF(r_por, "por %xmm1, %xmm0")
VREF(r_pxor, "pxor %xmm1, %xmm0")
VREF(r_psllw, "psllw %xmm1, %xmm0")
VREF(r_pslld, "pslld %xmm1, %xmm0")
VREF(r_psllq, "psllq %xmm1, %xmm0")
VREF(r_psrlw, "psrlw %xmm1, %xmm0")
VREF(r_psrld, "psrld %xmm1, %xmm0")
VREF(r_psrlq, "psrlq %xmm1, %xmm0")
VREF(r_psraw, "psraw %xmm1, %xmm0")
VREF(r_psrad, "psrad %xmm1, %xmm0")
VREF(r_psllwi, "psllw $3, %xmm0")
VREF(r_psradi, "psrad $35, %xmm0")
VREF(r_psrlqi, "psrlq $17, %xmm0")
VREF(r_pslldq, "pslldq $5, %xmm0")
VREF(r_psrldq, "psrldq $11, %xmm0")
VREF(r_packsswb, "packsswb %xmm1, %xmm0")
VREF(r_packssdw, "packssdw %xmm1, %xmm0")
VREF(r_packuswb, "packuswb %xmm1, %xmm0")
VREF(r_punpcklbw, "punpcklbw %xmm1, %xmm0")
VREF(r_punpcklwd, "punpcklwd %xmm1, %xmm0")
VREF(r_punpckldq, "punpckldq %xmm1, %xmm0")
VREF(r_punpcklqdq, "punpcklqdq %xmm1, %xmm0")
VREF(r_punpckhbw, "punpckhbw %xmm1, %xmm0")
VREF(r_punpckhwd, "punpckhwd %xmm1, %xmm0")
VREF(r_punpckhdq, "punpckhdq %xmm1, %xmm0")
VREF(r_punpckhqdq, "punpckhqdq %xmm1, %xmm0")
VREF(r_pshufd, "pshufd $0x4e, %xmm1, %xmm0")
VREF(r_pshuflw, "pshuflw $0x1b, %xmm1, %xmm0")
VREF(r_pshufhw, "pshufhw $0xe4, %xmm1, %xmm0")
VREF(r_pinsrw, "pinsrw $5, %esi, %xmm0")

static const struct vcase vcases[] = {
	VC(r_addps, VK_F), VC(r_addss, VK_F), VC(r_addpd, VK_D), VC(r_addsd, VK_D),
	VC(r_subps, VK_F), VC(r_subsd, VK_D), VC(r_mulps, VK_F), VC(r_mulpd, VK_D),
	VC(r_mulss, VK_F), VC(r_divps, VK_F), VC(r_divpd, VK_D), VC(r_divss, VK_F),
	VC(r_divsd, VK_D), VC(r_minps, VK_F), VC(r_maxps, VK_F), VC(r_minsd, VK_D),
	VC(r_maxpd, VK_D), VC(r_sqrtps, VK_F), VC(r_sqrtss, VK_F), VC(r_sqrtpd, VK_D),
	VC(r_sqrtsd, VK_D), VC(r_rcpps, VK_F), VC(r_rsqrtss, VK_F),
	VC(r_cmpps0, VK_F), VC(r_cmpps1, VK_F), VC(r_cmpps2, VK_F), VC(r_cmpps3, VK_F),
	VC(r_cmpps4, VK_F), VC(r_cmpps5, VK_F), VC(r_cmpps6, VK_F), VC(r_cmpps7, VK_F),
	VC(r_cmpss1, VK_F), VC(r_cmppd2, VK_D), VC(r_cmpsd5, VK_D),
	VC(r_cvtps2pd, VK_F), VC(r_cvtpd2ps, VK_D), VC(r_cvtss2sd, VK_F), VC(r_cvtsd2ss, VK_D),
	VC(r_cvtdq2ps, VK_I), VC(r_cvtps2dq, VK_F), VC(r_cvttps2dq, VK_F), VC(r_cvtdq2pd, VK_I),
	VC(r_cvtpd2dq, VK_D), VC(r_cvttpd2dq, VK_D),
	VC(r_andnps, VK_I), VC(r_xorpd, VK_I), VC(r_shufps, VK_I), VC(r_shufpd, VK_I),
	VC(r_unpcklps, VK_I), VC(r_unpckhpd, VK_I), VC(r_movss, VK_I), VC(r_movsd, VK_I),
	VC(r_movhlps, VK_I), VC(r_movlhps, VK_I), VC(r_movq, VK_I),
	VC(r_paddb, VK_I), VC(r_paddw, VK_I), VC(r_paddd, VK_I), VC(r_paddq, VK_I),
	VC(r_psubb, VK_I), VC(r_psubq, VK_I), VC(r_paddsb, VK_I), VC(r_paddsw, VK_I),
	VC(r_paddusb, VK_I), VC(r_paddusw, VK_I), VC(r_psubsb, VK_I), VC(r_psubsw, VK_I),
	VC(r_psubusb, VK_I), VC(r_psubusw, VK_I), VC(r_pmullw, VK_I), VC(r_pmulhw, VK_I),
	VC(r_pmulhuw, VK_I), VC(r_pmuludq, VK_I), VC(r_pmaddwd, VK_I),
	VC(r_pcmpeqb, VK_I), VC(r_pcmpeqw, VK_I), VC(r_pcmpeqd, VK_I),
	VC(r_pcmpgtb, VK_I), VC(r_pcmpgtw, VK_I), VC(r_pcmpgtd, VK_I),
	VC(r_pminub, VK_I), VC(r_pmaxub, VK_I), VC(r_pminsw, VK_I), VC(r_pmaxsw, VK_I),
	VC(r_pavgb, VK_I), VC(r_pavgw, VK_I), VC(r_psadbw, VK_I),
	VC(r_pand, VK_I), VC(r_pandn, VK_I), VC(r_por, VK_I), VC(r_pxor, VK_I),
	VC(r_psllw, VK_I), VC(r_pslld, VK_I), VC(r_psllq, VK_I), VC(r_psrlw, VK_I),
	VC(r_psrld, VK_I), VC(r_psrlq, VK_I), VC(r_psraw, VK_I), VC(r_psrad, VK_I),
	VC(r_psllwi, VK_I), VC(r_psradi, VK_I), VC(r_psrlqi, VK_I), VC(r_pslldq, VK_I),
	VC(r_psrldq, VK_I),
	VC(r_packsswb, VK_I), VC(r_packssdw, VK_I), VC(r_packuswb, VK_I),
	VC(r_punpcklbw, VK_I), VC(r_punpcklwd, VK_I), VC(r_punpckldq, VK_I), VC(r_punpcklqdq, VK_I),
	VC(r_punpckhbw, VK_I), VC(r_punpckhwd, VK_I), VC(r_punpckhdq, VK_I), VC(r_punpckhqdq, VK_I),
	VC(r_pshufd, VK_I), VC(r_pshuflw, VK_I), VC(r_pshufhw, VK_I),
};

/* ---- Operand generation ------------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const uint32_t fspecial[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40490fdb, 0x7f7fffff,
	0xff7fffff, 0x00800000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000,
	0xffc00000, 0x7fc12345, 0x7f800001, 0xff812345, 0x4f000000, 0xcf000000, 0x4effffff,
	0x5f000000, 0xdf000001, 0x3eaaaaab, 0x3effffff, 0x3f000000, 0x40200000, 0xc0600000,
};
static const uint64_t dspecial[] = {
	0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff8000000000000ull,
	0x7fefffffffffffffull, 0x0010000000000000ull, 0x0000000000000001ull, 0x800fffffffffffffull,
	0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000123ull,
	0x7ff0000000000001ull, 0xfff4000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
	0x41dfffffffc00000ull, 0xc1e0000000200000ull, 0x43e0000000000000ull, 0x3fd5555555555555ull,
	0x3fe0000000000000ull, 0x4004000000000000ull, 0x47efffffe0000000ull, 0x36a0000000000000ull,
	0x3810000000000000ull, 0x380fffffffffffffull,
};

static float rnd_float(void)
{
	uint32_t bits;
	float f;

	switch (rnd() % 4) {
	case 0:
		bits = (uint32_t)rnd();
		break;
	case 1:
		f = (float)((int64_t)(rnd() % 2000001) - 1000000) / 64.0f;
		return f;
	default:
		bits = fspecial[rnd() % (sizeof(fspecial) / sizeof(fspecial[0]))];
		break;
	}
	memcpy(&f, &bits, 4);
	return f;
}

static uint64_t rnd_double_bits(void)
{
	double d;
	uint64_t b;

	switch (rnd() % 4) {
	case 0:
		return rnd();
	case 1:
		d = (double)((int64_t)(rnd() % 20000001) - 10000000) / 1024.0;
		memcpy(&b, &d, 8);
		return b;
	default:
		return dspecial[rnd() % (sizeof(dspecial) / sizeof(dspecial[0]))];
	}
}

static __m128i rnd_vec(enum vk k)
{
	uint8_t b[16];

	for (unsigned i = 0; i < 16; i += 8) {
		uint64_t v;

		if (k == VK_F) {
			float f0 = rnd_float(), f1 = rnd_float();
			memcpy(&v, &f0, 4);
			memcpy((uint8_t *)&v + 4, &f1, 4);
		} else if (k == VK_D) {
			v = rnd_double_bits();
		} else {
			static const uint64_t ispecial[] = { 0, ~0ull, 0x8000000080000000ull,
							     0x7fff7fff7fff7fffull, 0x8080808080808080ull,
							     0x0101010101010101ull, 5, 20, 63, 64 };
			v = rnd() % 3 ? rnd() : ispecial[rnd() % 10];
		}
		memcpy(b + i, &v, 8);
	}
	__m128i r;
	memcpy(&r, b, 16);
	return r;
}

static const uint32_t mxcsr_modes[] = {
	0x1f80, 0x3f80, 0x5f80, 0x7f80, /* the four rounding modes */
	0x1fc0, 0x9f80, 0x9fc0, 0xdfc0, /* DAZ, FZ, both; with round-up */
};

static uint32_t host_run_vec(ref_vec fn, __m128i *a, __m128i b, uint32_t mxcsr)
{
	uint32_t saved = _mm_getcsr(), out;

	_mm_setcsr(mxcsr & ~0x3fu);
	*a = fn(*a, b);
	out = _mm_getcsr();
	_mm_setcsr(saved);
	return out;
}

static void test_vector_ops(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	unsigned checked = 0;

	(void)state;
	for (size_t c = 0; c < sizeof(vcases) / sizeof(vcases[0]); c++) {
		const struct vcase *vc = &vcases[c];

		for (unsigned m = 0; m < sizeof(mxcsr_modes) / sizeof(mxcsr_modes[0]); m++) {
			for (unsigned it = 0; it < 120; it++) {
				__m128i a = rnd_vec(vc->kind), b = rnd_vec(vc->kind), h = a;
				uint32_t mx = mxcsr_modes[m] | (it & 1 ? 0x1 : 0), hmx;
				int v;

				memcpy(cpu->regs.fpu.xmm[0], &a, 16);
				memcpy(cpu->regs.fpu.xmm[1], &b, 16);
				cpu->regs.gpr[X86_RSI] = (uint64_t)rnd();
				cpu->regs.fpu.mxcsr = mx;
				v = fx_exec(cpu, vc->insn);
				if (v != -1)
					fail_msg("%s raised %d", vc->name, v);
				/* pinsrw reads esi: give the host the same value via b's slot. */
				if (vc->ref == r_pinsrw)
					continue;
				hmx = host_run_vec(vc->ref, &h, b, mx);
				if (memcmp(cpu->regs.fpu.xmm[0], &h, 16) ||
				    cpu->regs.fpu.mxcsr != (mx | (hmx & 0x3f))) {
					uint64_t g[2], hv[2], av[2], bv[2];
					memcpy(g, cpu->regs.fpu.xmm[0], 16);
					memcpy(hv, &h, 16);
					memcpy(av, &a, 16);
					memcpy(bv, &b, 16);
					fail_msg("%s mxcsr %#x: a %016llx%016llx b %016llx%016llx: "
						 "soft %016llx%016llx/%#x host %016llx%016llx/%#x",
						 vc->name, mx, (unsigned long long)av[1],
						 (unsigned long long)av[0], (unsigned long long)bv[1],
						 (unsigned long long)bv[0], (unsigned long long)g[1],
						 (unsigned long long)g[0], cpu->regs.fpu.mxcsr,
						 (unsigned long long)hv[1], (unsigned long long)hv[0],
						 mx | (hmx & 0x3f));
				}
				checked++;
			}
		}
	}
	assert_true(checked > 10000);
	test_free(cpu);
}

/* ---- Integer results and flags --------------------------------------------------- */

struct icase {
	const char *name;
	ref_int ref;
	const uint8_t *insn;
	enum vk kind;
	bool flags; /* compare RFLAGS (COMIS*) instead of RAX */
};
#define IC(n, k, f) { #n, n, n##_insn, k, f }

IREF(r_cvtss2si32, "cvtss2si %xmm1, %eax")
IREF(r_cvtss2si64, "cvtss2si %xmm1, %rax")
IREF(r_cvttss2si32, "cvttss2si %xmm1, %eax")
IREF(r_cvttss2si64, "cvttss2si %xmm1, %rax")
IREF(r_cvtsd2si32, "cvtsd2si %xmm1, %eax")
IREF(r_cvtsd2si64, "cvtsd2si %xmm1, %rax")
IREF(r_cvttsd2si32, "cvttsd2si %xmm1, %eax")
IREF(r_cvttsd2si64, "cvttsd2si %xmm1, %rax")
IREF(r_movmskps, "movmskps %xmm1, %eax")
IREF(r_movmskpd, "movmskpd %xmm1, %eax")
IREF(r_pmovmskb, "pmovmskb %xmm1, %eax")
IREF(r_pextrw, "pextrw $3, %xmm1, %eax")
IREF(r_movd_out, "movd %xmm1, %eax")
IREF(r_movq_out, "movq %xmm1, %rax")
FREF(r_comiss, "comiss %xmm1, %xmm0")
FREF(r_ucomiss, "ucomiss %xmm1, %xmm0")
FREF(r_comisd, "comisd %xmm1, %xmm0")
FREF(r_ucomisd, "ucomisd %xmm1, %xmm0")

static const struct icase icases[] = {
	IC(r_cvtss2si32, VK_F, false), IC(r_cvtss2si64, VK_F, false),
	IC(r_cvttss2si32, VK_F, false), IC(r_cvttss2si64, VK_F, false),
	IC(r_cvtsd2si32, VK_D, false), IC(r_cvtsd2si64, VK_D, false),
	IC(r_cvttsd2si32, VK_D, false), IC(r_cvttsd2si64, VK_D, false),
	IC(r_movmskps, VK_I, false), IC(r_movmskpd, VK_I, false), IC(r_pmovmskb, VK_I, false),
	IC(r_pextrw, VK_I, false), IC(r_movd_out, VK_I, false), IC(r_movq_out, VK_I, false),
	IC(r_comiss, VK_F, true), IC(r_ucomiss, VK_F, true),
	IC(r_comisd, VK_D, true), IC(r_ucomisd, VK_D, true),
};

static void test_int_results(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();

	(void)state;
	for (size_t c = 0; c < sizeof(icases) / sizeof(icases[0]); c++) {
		const struct icase *ic = &icases[c];

		for (unsigned m = 0; m < 4; m++) {
			for (unsigned it = 0; it < 200; it++) {
				__m128i a = rnd_vec(ic->kind), b = rnd_vec(ic->kind);
				uint32_t mx = mxcsr_modes[m], saved, hmx;
				uint64_t h, g;

				memcpy(cpu->regs.fpu.xmm[0], &a, 16);
				memcpy(cpu->regs.fpu.xmm[1], &b, 16);
				cpu->regs.fpu.mxcsr = mx;
				cpu->regs.gpr[X86_RAX] = 0xdeadbeefcafef00dull;
				cpu->regs.rflags = 0x8d7; /* OF SF ZF AF PF CF set: must be rewritten */
				assert_int_equal(fx_exec(cpu, ic->insn), -1);
				saved = _mm_getcsr();
				_mm_setcsr(mx);
				h = ic->ref(a, b);
				hmx = _mm_getcsr();
				_mm_setcsr(saved);
				if (ic->flags) {
					g = cpu->regs.rflags & 0x8d5;
					h &= 0x8d5;
				} else {
					g = cpu->regs.gpr[X86_RAX];
				}
				if (g != h || cpu->regs.fpu.mxcsr != (mx | (hmx & 0x3f)))
					fail_msg("%s mode %u: soft %#llx/%#x host %#llx/%#x", ic->name, m,
						 (unsigned long long)g, cpu->regs.fpu.mxcsr,
						 (unsigned long long)h, mx | (hmx & 0x3f));
			}
		}
	}
	test_free(cpu);
}

/* ---- Conversions from integers (GPR sources) ------------------------------------- */

#define GREF(name, insn)                                                \
	REF_FN(name, "", insn, "");                                     \
	__m128i name(__m128i a, uint64_t v);                            \
	extern const uint8_t name##_insn[];
GREF(r_cvtsi2ss32, "cvtsi2ss %edi, %xmm0")
GREF(r_cvtsi2ss64, "cvtsi2ss %rdi, %xmm0")
GREF(r_cvtsi2sd32, "cvtsi2sd %edi, %xmm0")
GREF(r_cvtsi2sd64, "cvtsi2sd %rdi, %xmm0")
GREF(r_movd_in, "movd %edi, %xmm0")
GREF(r_movq_in, "movq %rdi, %xmm0")
GREF(r_pinsrw_in, "pinsrw $6, %edi, %xmm0")

static void test_from_gpr(void **state)
{
	static const struct {
		__m128i (*ref)(__m128i, uint64_t);
		const uint8_t *insn;
	} cases[] = {
		{ r_cvtsi2ss32, r_cvtsi2ss32_insn }, { r_cvtsi2ss64, r_cvtsi2ss64_insn },
		{ r_cvtsi2sd32, r_cvtsi2sd32_insn }, { r_cvtsi2sd64, r_cvtsi2sd64_insn },
		{ r_movd_in, r_movd_in_insn }, { r_movq_in, r_movq_in_insn },
		{ r_pinsrw_in, r_pinsrw_in_insn },
	};
	struct soft_cpu *cpu = fx_cpu_new();

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (unsigned m = 0; m < 4; m++) {
			for (unsigned it = 0; it < 200; it++) {
				__m128i a = rnd_vec(VK_I), h;
				uint64_t v = it & 1 ? rnd() : rnd() >> (rnd() % 64);
				uint32_t mx = mxcsr_modes[m], saved, hmx;

				memcpy(cpu->regs.fpu.xmm[0], &a, 16);
				cpu->regs.gpr[X86_RDI] = v;
				cpu->regs.fpu.mxcsr = mx;
				assert_int_equal(fx_exec(cpu, cases[c].insn), -1);
				saved = _mm_getcsr();
				_mm_setcsr(mx);
				h = cases[c].ref(a, v);
				hmx = _mm_getcsr();
				_mm_setcsr(saved);
				assert_memory_equal(cpu->regs.fpu.xmm[0], &h, 16);
				assert_int_equal(cpu->regs.fpu.mxcsr, mx | (hmx & 0x3f));
			}
		}
	}
	test_free(cpu);
}

/* ---- MMX ------------------------------------------------------------------------- */

MREF(m_paddb, "paddb %mm1, %mm0")
MREF(m_paddsw, "paddsw %mm1, %mm0")
MREF(m_psubusb, "psubusb %mm1, %mm0")
MREF(m_pmulhw, "pmulhw %mm1, %mm0")
MREF(m_pmaddwd, "pmaddwd %mm1, %mm0")
MREF(m_pmuludq, "pmuludq %mm1, %mm0")
MREF(m_pcmpgtw, "pcmpgtw %mm1, %mm0")
MREF(m_packsswb, "packsswb %mm1, %mm0")
MREF(m_packuswb, "packuswb %mm1, %mm0")
MREF(m_punpcklbw, "punpcklbw %mm1, %mm0")
MREF(m_punpckhdq, "punpckhdq %mm1, %mm0")
MREF(m_psrlw, "psrlw %mm1, %mm0")
MREF(m_psrawi, "psraw $9, %mm0")
MREF(m_pshufw, "pshufw $0x1b, %mm1, %mm0")
MREF(m_psadbw, "psadbw %mm1, %mm0")
MREF(m_pavgb, "pavgb %mm1, %mm0")
MREF(m_pxor, "pxor %mm1, %mm0")
MREF(m_movq, "movq %mm1, %mm0")

static void test_mmx(void **state)
{
	static const struct vcase cases[] = {
		VC(m_paddb, VK_I), VC(m_paddsw, VK_I), VC(m_psubusb, VK_I), VC(m_pmulhw, VK_I),
		VC(m_pmaddwd, VK_I), VC(m_pmuludq, VK_I), VC(m_pcmpgtw, VK_I), VC(m_packsswb, VK_I),
		VC(m_packuswb, VK_I), VC(m_punpcklbw, VK_I), VC(m_punpckhdq, VK_I), VC(m_psrlw, VK_I),
		VC(m_psrawi, VK_I), VC(m_pshufw, VK_I), VC(m_psadbw, VK_I), VC(m_pavgb, VK_I),
		VC(m_pxor, VK_I), VC(m_movq, VK_I),
	};
	struct soft_cpu *cpu = fx_cpu_new();

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (unsigned it = 0; it < 300; it++) {
			__m128i a = rnd_vec(VK_I), b = rnd_vec(VK_I), h;
			uint8_t g[8];

			cpu->regs.fpu.fsw = 0x2800; /* TOP = 5: the transition resets it */
			cpu->regs.fpu.ftw = 0;
			memcpy(cpu->regs.fpu.st[0], &a, 8);
			memcpy(cpu->regs.fpu.st[1], &b, 8);
			assert_int_equal(fx_exec(cpu, cases[c].insn), -1);
			h = cases[c].ref(a, b);
			memcpy(g, cpu->regs.fpu.st[0], 8);
			if (memcmp(g, &h, 8))
				fail_msg("%s differs", cases[c].name);
			assert_int_equal(cpu->regs.fpu.st[0][8], 0xff);
			assert_int_equal(cpu->regs.fpu.st[0][9], 0xff);
			assert_int_equal(cpu->regs.fpu.fsw & 0x3800, 0);
			assert_int_equal(cpu->regs.fpu.ftw, 0xff);
		}
	}
	/* EMMS empties the tags. */
	static const uint8_t emms[] = { 0x0f, 0x77 };
	assert_int_equal(fx_exec(cpu, emms), -1);
	assert_int_equal(cpu->regs.fpu.ftw, 0);
	test_free(cpu);
}

/* ---- MMX <-> XMM: conversions and moves (xmm0 = a, xmm1 = b, mm1 = low half of b) ---- */

#define XMREF(name, insn, epi)                                                          \
	REF_FN(name, "movdq2q %xmm1, %mm1\n\tmovdq2q %xmm0, %mm0", insn, epi "\n\temms"); \
	__m128i name(__m128i a, __m128i b, uint64_t rdi, uint64_t rsi);                  \
	extern const uint8_t name##_insn[];
typedef __m128i (*ref_xm)(__m128i a, __m128i b, uint64_t rdi, uint64_t rsi);
#define TO_XMM ""
#define TO_MM "movq2dq %mm0, %xmm0"
XMREF(xm_cvtpi2ps, "cvtpi2ps %mm1, %xmm0", TO_XMM)
XMREF(xm_cvtpi2pd, "cvtpi2pd %mm1, %xmm0", TO_XMM)
XMREF(xm_cvtps2pi, "cvtps2pi %xmm1, %mm0", TO_MM)
XMREF(xm_cvttps2pi, "cvttps2pi %xmm1, %mm0", TO_MM)
XMREF(xm_cvtpd2pi, "cvtpd2pi %xmm1, %mm0", TO_MM)
XMREF(xm_cvttpd2pi, "cvttpd2pi %xmm1, %mm0", TO_MM)
XMREF(xm_movq2dq, "movq2dq %mm1, %xmm0", TO_XMM)
XMREF(xm_movdq2q, "movdq2q %xmm1, %mm0", TO_MM)
XMREF(xm_pinsrw, "pinsrw $2, %esi, %mm0", TO_MM)
XMREF(xm_pshufw, "pshufw $0x93, %mm1, %mm0", TO_MM)
XMREF(xm_pmaxub, "pmaxub %mm1, %mm0", TO_MM)
XMREF(xm_pmuludq, "pmuludq %mm1, %mm0", TO_MM)
XMREF(xm_paddq, "paddq %mm1, %mm0", TO_MM)

static void test_mmx_xmm(void **state)
{
	static const struct {
		const char *name;
		ref_xm ref;
		const uint8_t *insn;
		enum vk kind;
		bool to_mm;
	} cases[] = {
		{ "cvtpi2ps", xm_cvtpi2ps, xm_cvtpi2ps_insn, VK_I, false },
		{ "cvtpi2pd", xm_cvtpi2pd, xm_cvtpi2pd_insn, VK_I, false },
		{ "cvtps2pi", xm_cvtps2pi, xm_cvtps2pi_insn, VK_F, true },
		{ "cvttps2pi", xm_cvttps2pi, xm_cvttps2pi_insn, VK_F, true },
		{ "cvtpd2pi", xm_cvtpd2pi, xm_cvtpd2pi_insn, VK_D, true },
		{ "cvttpd2pi", xm_cvttpd2pi, xm_cvttpd2pi_insn, VK_D, true },
		{ "movq2dq", xm_movq2dq, xm_movq2dq_insn, VK_I, false },
		{ "movdq2q", xm_movdq2q, xm_movdq2q_insn, VK_I, true },
		{ "pinsrw", xm_pinsrw, xm_pinsrw_insn, VK_I, true },
		{ "pshufw", xm_pshufw, xm_pshufw_insn, VK_I, true },
		{ "pmaxub", xm_pmaxub, xm_pmaxub_insn, VK_I, true },
		{ "pmuludq", xm_pmuludq, xm_pmuludq_insn, VK_I, true },
		{ "paddq", xm_paddq, xm_paddq_insn, VK_I, true },
	};
	struct soft_cpu *cpu = fx_cpu_new();

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (unsigned m = 0; m < 4; m++) {
			for (unsigned it = 0; it < 200; it++) {
				__m128i a = rnd_vec(cases[c].kind), b = rnd_vec(cases[c].kind), h;
				uint32_t mx = mxcsr_modes[m], saved, hmx;
				uint64_t esi = rnd();

				memcpy(cpu->regs.fpu.xmm[0], &a, 16);
				memcpy(cpu->regs.fpu.xmm[1], &b, 16);
				memcpy(cpu->regs.fpu.st[0], &a, 8);
				memcpy(cpu->regs.fpu.st[1], &b, 8);
				cpu->regs.fpu.mxcsr = mx;
				cpu->regs.fpu.fsw = 0;
				cpu->regs.fpu.ftw = 0;
				cpu->regs.gpr[X86_RSI] = esi;
				assert_int_equal(fx_exec(cpu, cases[c].insn), -1);
				saved = _mm_getcsr();
				_mm_setcsr(mx);
				h = cases[c].ref(a, b, 0, esi); /* rsi = esi for PINSRW */
				hmx = _mm_getcsr();
				_mm_setcsr(saved);
				if (cases[c].to_mm ? memcmp(cpu->regs.fpu.st[0], &h, 8)
						   : memcmp(cpu->regs.fpu.xmm[0], &h, 16))
					fail_msg("%s differs (mode %u)", cases[c].name, m);
				assert_int_equal(cpu->regs.fpu.mxcsr, mx | (hmx & 0x3f));
				assert_int_equal(cpu->regs.fpu.ftw, 0xff);
			}
		}
	}
	test_free(cpu);
}

/* ---- Memory forms, alignment, moves ------------------------------------------------- */

static void test_memory_forms(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	static const uint8_t movaps_load[] = { 0x0f, 0x28, 0x06 };	 /* movaps xmm0, [rsi] */
	static const uint8_t movups_load[] = { 0x0f, 0x10, 0x06 };	 /* movups xmm0, [rsi] */
	static const uint8_t movdqa_store[] = { 0x66, 0x0f, 0x7f, 0x0e }; /* movdqa [rsi], xmm1 */
	static const uint8_t addps_mem[] = { 0x0f, 0x58, 0x06 };	 /* addps xmm0, [rsi] */
	static const uint8_t addss_mem[] = { 0xf3, 0x0f, 0x58, 0x06 };	 /* addss xmm0, [rsi] */
	static const uint8_t movss_load[] = { 0xf3, 0x0f, 0x10, 0x06 };	 /* movss xmm0, [rsi] */
	static const uint8_t movsd_store[] = { 0xf2, 0x0f, 0x11, 0x0e }; /* movsd [rsi], xmm1 */
	static const uint8_t movhps_load[] = { 0x0f, 0x16, 0x06 };	 /* movhps xmm0, [rsi] */
	static const uint8_t movlpd_store[] = { 0x66, 0x0f, 0x13, 0x0e }; /* movlpd [rsi], xmm1 */
	static const uint8_t movq_load[] = { 0xf3, 0x0f, 0x7e, 0x06 };	 /* movq xmm0, [rsi] */
	static const uint8_t maskmovdqu[] = { 0x66, 0x0f, 0xf7, 0xc1 }; /* maskmovdqu xmm0, xmm1 */
	static const uint8_t movnti[] = { 0x0f, 0xc3, 0x06 };		 /* movnti [rsi], eax */
	static const uint8_t punpcklbw_mm_m32[] = { 0x0f, 0x60, 0x06 };	 /* punpcklbw mm0, [rsi] */
	uint8_t pattern[16], zero16[16] = { 0 };
	float one[4] = { 1, 2, 3, 4 };

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		pattern[i] = (uint8_t)(0x10 + i);
	memcpy(cpu->mem + 0x100, pattern, 16);

	cpu->regs.gpr[X86_RSI] = 0x100;
	assert_int_equal(fx_exec(cpu, movaps_load), -1);
	assert_memory_equal(cpu->regs.fpu.xmm[0], pattern, 16);

	/* Misaligned: MOVAPS #GP(0), MOVUPS fine, ADDPS m128 #GP, ADDSS m32 fine. */
	memcpy(cpu->mem + 0x101, pattern, 16);
	cpu->regs.gpr[X86_RSI] = 0x101;
	memset(cpu->regs.fpu.xmm[0], 0, 16);
	assert_int_equal(fx_exec(cpu, movaps_load), X86_VEC_GP);
	assert_int_equal(cpu->error, 0);
	assert_memory_equal(cpu->regs.fpu.xmm[0], zero16, 16);
	assert_int_equal(fx_exec(cpu, movups_load), -1);
	assert_memory_equal(cpu->regs.fpu.xmm[0], pattern, 16);
	assert_int_equal(fx_exec(cpu, addps_mem), X86_VEC_GP);
	memcpy(cpu->regs.fpu.xmm[0], one, 16);
	memcpy(cpu->mem + 0x701, one, 4);
	cpu->regs.gpr[X86_RSI] = 0x701;
	assert_int_equal(fx_exec(cpu, addss_mem), -1);
	float r[4];
	memcpy(r, cpu->regs.fpu.xmm[0], 16);
	assert_true(r[0] == 2.0f && r[1] == 2.0f && r[3] == 4.0f);

	/* Aligned store; a store past the end of memory is #PF and changes nothing. */
	memcpy(cpu->regs.fpu.xmm[1], pattern, 16);
	cpu->regs.gpr[X86_RSI] = 0x200;
	assert_int_equal(fx_exec(cpu, movdqa_store), -1);
	assert_memory_equal(cpu->mem + 0x200, pattern, 16);
	cpu->regs.gpr[X86_RSI] = GUEST_MEM;
	assert_int_equal(fx_exec(cpu, movdqa_store), X86_VEC_PF);

	/* MOVSS load zeroes the upper lanes; MOVSD store writes 8 bytes. */
	memcpy(cpu->mem + 0x100, pattern, 16);
	memset(cpu->regs.fpu.xmm[0], 0xee, 16);
	cpu->regs.gpr[X86_RSI] = 0x100;
	assert_int_equal(fx_exec(cpu, movss_load), -1);
	assert_memory_equal(cpu->regs.fpu.xmm[0], pattern, 4);
	assert_memory_equal(cpu->regs.fpu.xmm[0] + 4, zero16, 12);
	memset(cpu->mem + 0x300, 0, 16);
	cpu->regs.gpr[X86_RSI] = 0x300;
	assert_int_equal(fx_exec(cpu, movsd_store), -1);
	assert_memory_equal(cpu->mem + 0x300, pattern, 8);
	assert_memory_equal(cpu->mem + 0x308, zero16, 8);

	/* MOVHPS load keeps the low half; MOVLPD store. */
	memset(cpu->regs.fpu.xmm[0], 0xee, 16);
	cpu->regs.gpr[X86_RSI] = 0x100;
	assert_int_equal(fx_exec(cpu, movhps_load), -1);
	assert_memory_equal(cpu->regs.fpu.xmm[0] + 8, pattern, 8);
	assert_int_equal(cpu->regs.fpu.xmm[0][0], 0xee);
	cpu->regs.gpr[X86_RSI] = 0x400;
	assert_int_equal(fx_exec(cpu, movlpd_store), -1);
	assert_memory_equal(cpu->mem + 0x400, pattern, 8);

	/* MOVQ xmm, m64 zero-extends. */
	memset(cpu->regs.fpu.xmm[0], 0xee, 16);
	cpu->regs.gpr[X86_RSI] = 0x100;
	assert_int_equal(fx_exec(cpu, movq_load), -1);
	assert_memory_equal(cpu->regs.fpu.xmm[0], pattern, 8);
	assert_memory_equal(cpu->regs.fpu.xmm[0] + 8, zero16, 8);

	/* MASKMOVDQU: only bytes whose mask byte has bit 7 set are stored at [rdi]. */
	memset(cpu->mem + 0x500, 0x55, 16);
	memcpy(cpu->regs.fpu.xmm[0], pattern, 16);
	for (unsigned i = 0; i < 16; i++)
		cpu->regs.fpu.xmm[1][i] = i & 1 ? 0x80 : 0x7f;
	cpu->regs.gpr[X86_RDI] = 0x500;
	assert_int_equal(fx_exec(cpu, maskmovdqu), -1);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(cpu->mem[0x500 + i], i & 1 ? pattern[i] : 0x55);

	/* MOVNTI. */
	cpu->regs.gpr[X86_RAX] = 0x11223344;
	cpu->regs.gpr[X86_RSI] = 0x600;
	assert_int_equal(fx_exec(cpu, movnti), -1);
	assert_int_equal(cpu->mem[0x600], 0x44);
	assert_int_equal(cpu->mem[0x603], 0x11);

	/* PUNPCKLBW mm, m32 reads only 4 bytes: the last 4 bytes of memory are fine. */
	cpu->regs.gpr[X86_RSI] = GUEST_MEM - 4;
	assert_int_equal(fx_exec(cpu, punpcklbw_mm_m32), -1);
	test_free(cpu);
}

/* ---- Exceptions --------------------------------------------------------------------- */

static void test_exceptions(void **state)
{
	struct soft_cpu *cpu = fx_cpu_new();
	static const uint8_t divps[] = { 0x0f, 0x5e, 0xc1 };	      /* divps xmm0, xmm1 */
	static const uint8_t addsd[] = { 0xf2, 0x0f, 0x58, 0xc1 };    /* addsd xmm0, xmm1 */
	static const uint8_t paddb_mm[] = { 0x0f, 0xfc, 0xc1 };	      /* paddb mm0, mm1 */
	static const uint8_t ldmxcsr[] = { 0x0f, 0xae, 0x16 };	      /* ldmxcsr [rsi] */
	static const uint8_t stmxcsr[] = { 0x0f, 0xae, 0x1e };	      /* stmxcsr [rsi] */
	static const uint8_t cvtsd2si[] = { 0xf2, 0x0f, 0x2d, 0xc1 }; /* cvtsd2si eax, xmm1 */
	float a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 0, 1, 1 };
	uint32_t v;

	(void)state;
	memcpy(cpu->regs.fpu.xmm[0], a, 16);
	memcpy(cpu->regs.fpu.xmm[1], b, 16);

	/* #NM with CR0.TS; #UD with CR0.EM or without CR4.OSFXSR; MMX: #UD on EM too. */
	cpu->regs.cr0 |= 8;
	assert_int_equal(fx_exec(cpu, divps), X86_VEC_NM);
	assert_int_equal(fx_exec(cpu, paddb_mm), X86_VEC_NM);
	cpu->regs.cr0 &= ~8ull;
	cpu->regs.cr0 |= 4;
	assert_int_equal(fx_exec(cpu, divps), X86_VEC_UD);
	assert_int_equal(fx_exec(cpu, paddb_mm), X86_VEC_UD);
	cpu->regs.cr0 &= ~4ull;
	cpu->regs.cr4 &= ~(1ull << 9);
	assert_int_equal(fx_exec(cpu, divps), X86_VEC_UD);
	assert_int_equal(fx_exec(cpu, paddb_mm), -1); /* MMX does not need OSFXSR */
	cpu->regs.cr4 |= 1ull << 9;

	/* Masked divide by zero: inf and ZE. */
	assert_int_equal(fx_exec(cpu, divps), -1);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x1f80 | 0x4);

	/* Unmasked ZE: #XM, destination untouched, flag set. */
	memcpy(cpu->regs.fpu.xmm[0], a, 16);
	cpu->regs.fpu.mxcsr = 0x1f80 & ~0x200u;
	assert_int_equal(fx_exec(cpu, divps), X86_VEC_XM);
	assert_memory_equal(cpu->regs.fpu.xmm[0], a, 16);
	assert_int_equal(cpu->regs.fpu.mxcsr & 0x3f, 0x4);
	/* Without CR4.OSXMMEXCPT it is #UD. */
	cpu->regs.cr4 &= ~(1ull << 10);
	cpu->regs.fpu.mxcsr = 0x1f80 & ~0x200u;
	assert_int_equal(fx_exec(cpu, divps), X86_VEC_UD);
	cpu->regs.cr4 |= 1ull << 10;

	/* Unmasked precision on 1/3: post-computation, flags PE. */
	double third[2] = { 1.0, 0 }, three[2] = { 3.0, 0 };
	memcpy(cpu->regs.fpu.xmm[0], third, 16);
	memcpy(cpu->regs.fpu.xmm[1], three, 16);
	cpu->regs.fpu.mxcsr = 0x1f80 & ~0x1000u;
	assert_int_equal(fx_exec(cpu, addsd), -1); /* 1 + 3 is exact */
	static const uint8_t divsd[] = { 0xf2, 0x0f, 0x5e, 0xc1 };
	assert_int_equal(fx_exec(cpu, divsd), X86_VEC_XM);
	assert_int_equal(cpu->regs.fpu.mxcsr & 0x3f, 0x20);

	/* Unmasked invalid on an out-of-range conversion: RAX untouched. */
	double big[2] = { 1e300, 0 };
	memcpy(cpu->regs.fpu.xmm[1], big, 16);
	cpu->regs.fpu.mxcsr = 0x1f80 & ~0x80u;
	cpu->regs.gpr[X86_RAX] = 7;
	assert_int_equal(fx_exec(cpu, cvtsd2si), X86_VEC_XM);
	assert_int_equal(cpu->regs.gpr[X86_RAX], 7);
	cpu->regs.fpu.mxcsr = 0x1f80;
	assert_int_equal(fx_exec(cpu, cvtsd2si), -1);
	assert_int_equal(cpu->regs.gpr[X86_RAX], 0x80000000u);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x1f81);

	/*
	 * Unmasked underflow is signalled for a tiny result even when it is
	 * exact (tests/diff/BUGS.md #4): subss 0x800000 - 0x400000 with only
	 * UM unmasked: #XM, destination unchanged, MXCSR UE|DE.
	 */
	static const uint8_t subss12[] = { 0xf3, 0x0f, 0x5c, 0xca }; /* subss xmm1, xmm2 */
	uint32_t f1 = 0x800000, f2 = 0x400000;
	memset(cpu->regs.fpu.xmm[1], 0, 16);
	memset(cpu->regs.fpu.xmm[2], 0, 16);
	memcpy(cpu->regs.fpu.xmm[1], &f1, 4);
	memcpy(cpu->regs.fpu.xmm[2], &f2, 4);
	cpu->regs.fpu.mxcsr = 0x1780;
	assert_int_equal(fx_exec(cpu, subss12), X86_VEC_XM);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x1792);
	memcpy(&v, cpu->regs.fpu.xmm[1], 4);
	assert_int_equal(v, 0x800000);
	/* Masked, it is only DE (tiny but exact). */
	cpu->regs.fpu.mxcsr = 0x1f80;
	assert_int_equal(fx_exec(cpu, subss12), -1);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x1f82);
	memcpy(&v, cpu->regs.fpu.xmm[1], 4);
	assert_int_equal(v, 0x400000);

	/*
	 * Unmasked overflow and underflow report PE only when the result,
	 * rounded with an unbounded exponent, is inexact (as the host does;
	 * found by the difftest): 2^-126 * 2^-1074 is an exact 2^-1200.
	 */
	static const uint8_t mulsd12[] = { 0xf2, 0x0f, 0x59, 0xca }; /* mulsd xmm1, xmm2 */
	uint64_t d1 = 0x3810000000000000ull, d2 = 1, d3 = 0x3ff0000000000001ull;
	memcpy(cpu->regs.fpu.xmm[1], &d1, 8);
	memcpy(cpu->regs.fpu.xmm[2], &d2, 8);
	cpu->regs.fpu.mxcsr = 0x3300;
	assert_int_equal(fx_exec(cpu, mulsd12), X86_VEC_XM);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x3312);
	/* 2^1000 * 2^100: exact overflow, OE alone; max * (1 + ulp): OE|PE. */
	d1 = 0x7e70000000000000ull;
	d2 = 0x4630000000000000ull;
	memcpy(cpu->regs.fpu.xmm[1], &d1, 8);
	memcpy(cpu->regs.fpu.xmm[2], &d2, 8);
	cpu->regs.fpu.mxcsr = 0x1f80 & ~0x400u;
	assert_int_equal(fx_exec(cpu, mulsd12), X86_VEC_XM);
	assert_int_equal(cpu->regs.fpu.mxcsr & 0x3f, 0x08);
	memcpy(cpu->regs.fpu.xmm[2], &d3, 8);
	d1 = 0x7fefffffffffffffull;
	memcpy(cpu->regs.fpu.xmm[1], &d1, 8);
	cpu->regs.fpu.mxcsr = 0x1f80 & ~0x400u;
	assert_int_equal(fx_exec(cpu, mulsd12), X86_VEC_XM);
	assert_int_equal(cpu->regs.fpu.mxcsr & 0x3f, 0x28);

	/* LDMXCSR: reserved bits #GP(0); STMXCSR reads back. */
	cpu->regs.gpr[X86_RSI] = 0x100;
	v = 0x10000 | 0x1f80;
	memcpy(cpu->mem + 0x100, &v, 4);
	assert_int_equal(fx_exec(cpu, ldmxcsr), X86_VEC_GP);
	v = 0x7fc0;
	memcpy(cpu->mem + 0x100, &v, 4);
	assert_int_equal(fx_exec(cpu, ldmxcsr), -1);
	assert_int_equal(cpu->regs.fpu.mxcsr, 0x7fc0);
	cpu->regs.gpr[X86_RSI] = 0x104;
	assert_int_equal(fx_exec(cpu, stmxcsr), -1);
	memcpy(&v, cpu->mem + 0x104, 4);
	assert_int_equal(v, 0x7fc0);
	cpu->regs.cr4 &= ~(1ull << 9);
	assert_int_equal(fx_exec(cpu, ldmxcsr), X86_VEC_UD);
	test_free(cpu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_ops),   cmocka_unit_test(test_int_results),
		cmocka_unit_test(test_from_gpr),     cmocka_unit_test(test_mmx),
		cmocka_unit_test(test_mmx_xmm),
		cmocka_unit_test(test_memory_forms), cmocka_unit_test(test_exceptions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
