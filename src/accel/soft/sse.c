/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SSE and SSE2 instructions of the software CPU: data movement, the
 * floating-point arithmetic, comparisons and conversions, shuffles; and
 * the soft_handlers_sse table (the integer SIMD handlers are in
 * sse_int.c).
 *
 * Floating-point operations run on the host's SSE unit: the guest's
 * rounding control, DAZ and FZ are loaded into the host MXCSR (every
 * exception masked, flags clear) around the operation, and the flags it
 * raised are ORed into the guest MXCSR. Rounding, NaN propagation, the
 * integer indefinite of conversions and the denormal handling therefore
 * come out as on hardware. An unmasked exception raises #XM (#UD when
 * CR4.OSXMMEXCPT=0) before the destination is written.
 */
#include <emmintrin.h>
#include <stddef.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "accel/soft/fpu_common.h"
#include "accel/soft/sse_impl.h"

/* ---- Operand access ------------------------------------------------------ */

void sse_vread(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, void *dst, unsigned len,
	       bool align)
{
	const struct soft_operand *op = &in->op[i];
	uint64_t v, ea;

	switch (op->kind) {
	case SOFT_OP_XMM:
		memcpy(dst, fpu_fx(cpu)->xmm[op->reg & 15], len);
		return;
	case SOFT_OP_MMX: {
		uint8_t b[8];
		fpu_mmx_get(cpu, op->reg, b);
		memcpy(dst, b, len > 8 ? 8 : len);
		return;
	}
	case SOFT_OP_MEM:
		ea = soft_ea(cpu, in, op);
		if (align && len == 16)
			fpu_check_align16(cpu, ea);
		soft_read(cpu, ea, dst, len);
		return;
	default:
		v = soft_op_read(cpu, in, i);
		memcpy(dst, &v, len > 8 ? 8 : len);
		return;
	}
}

void sse_vwrite(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, const void *src,
		unsigned len, bool align)
{
	const struct soft_operand *op = &in->op[i];
	uint64_t v = 0, ea;

	switch (op->kind) {
	case SOFT_OP_XMM:
		memcpy(fpu_fx(cpu)->xmm[op->reg & 15], src, len);
		return;
	case SOFT_OP_MMX: {
		uint8_t b[8] = { 0 };
		memcpy(b, src, len > 8 ? 8 : len);
		fpu_mmx_set(cpu, op->reg, b);
		return;
	}
	case SOFT_OP_MEM:
		ea = soft_ea(cpu, in, op);
		if (align && len == 16)
			fpu_check_align16(cpu, ea);
		soft_write(cpu, ea, src, len);
		return;
	default:
		memcpy(&v, src, len > 8 ? 8 : len);
		soft_op_write(cpu, in, i, v);
		return;
	}
}

bool sse_has_mmx(const struct soft_insn *in)
{
	for (unsigned i = 0; i < in->nops && i < 4; i++)
		if (in->op[i].kind == SOFT_OP_MMX)
			return true;
	return false;
}

/* Checks for an instruction that may be SSE or MMX by its operands. */
static void sse_or_mmx_check(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (sse_has_mmx(in))
		fpu_check_mmx(cpu);
	else
		fpu_check_sse(cpu);
}

static void mmx_done(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (sse_has_mmx(in))
		fpu_mmx_transition(cpu);
}

/* ---- Running an operation on the host's SSE unit -------------------------- */

typedef __m128i (*sse_op)(__m128i a, __m128i b);

static void sse_flags(struct soft_cpu *cpu, uint32_t flags)
{
	struct x86_fxsave *fx = fpu_fx(cpu);
	uint32_t unmasked = flags & ~(fx->mxcsr >> 7) & MXCSR_EXC;

	if (unmasked) {
		/* A pre-computation exception stops the operation before the result. */
		if (unmasked & 0x7)
			flags &= 0x7;
		fx->mxcsr |= flags;
		if (soft_regs(cpu)->cr4 & FPU_CR4_OSXMMEXCPT)
			soft_raise(cpu, X86_VEC_XM, -1);
		soft_raise(cpu, X86_VEC_UD, -1);
	}
	fx->mxcsr |= flags;
}

/*
 * Which operation and result lanes may underflow: UFL(op, element bytes
 * of the sources, lanes), 0 for operations that never signal underflow.
 */
enum { UF_ADD = 1, UF_SUB, UF_MUL, UF_DIV, UF_CVT };
#define UFL(op, esz, n) (((op) << 8) | ((esz) << 4) | (n))

/* Does a result lane hold a non-zero denormal (tiny, representable)? */
static bool sse_tiny(__m128i r, unsigned ufl)
{
	uint8_t b[16];
	unsigned esz = (ufl >> 4) & 15, n = ufl & 15;

	if ((ufl >> 8) == UF_CVT)
		esz = 4; /* double sources, float results */
	memcpy(b, &r, 16);
	for (unsigned i = 0; i < n; i++) {
		if (esz == 4) {
			uint32_t v;
			memcpy(&v, b + 4 * i, 4);
			if (!(v & 0x7f800000u) && (v & 0x007fffffu))
				return true;
		} else {
			uint64_t v;
			memcpy(&v, b + 8 * i, 8);
			if (!(v & 0x7ff0000000000000ull) && (v & 0x000fffffffffffffull))
				return true;
		}
	}
	return false;
}

static __m128i op_addss(__m128i a, __m128i b);
static __m128i op_subss(__m128i a, __m128i b);
static __m128i op_mulss(__m128i a, __m128i b);
static __m128i op_divss(__m128i a, __m128i b);
static __m128i op_addsd(__m128i a, __m128i b);
static __m128i op_subsd(__m128i a, __m128i b);
static __m128i op_mulsd(__m128i a, __m128i b);
static __m128i op_divsd(__m128i a, __m128i b);
static __m128i op_cvtsd2ss(__m128i a, __m128i b);

/*
 * Is op(a, b) inexact when rounded to the destination precision with an
 * unbounded exponent? The x87 unit does exactly that rounding (precision
 * control, 15-bit exponent), its PE flag answers.
 */
static bool unbounded_inexact(unsigned op, bool single, long double a, long double b, unsigned rc)
{
	uint16_t cw = (uint16_t)(0x3f | (single ? 0 : 0x200) | (rc << 10)), hcw, sw;

	switch (op) {
	case UF_ADD:
		asm volatile("fnstcw %[h]\n\tfninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t"
			     "fadd %%st(1), %%st\n\tfnstsw %[sw]\n\tfninit\n\tfldcw %[h]"
			     : [h] "=m"(hcw), [sw] "=m"(sw) : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
			     : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
		break;
	case UF_SUB:
		asm volatile("fnstcw %[h]\n\tfninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t"
			     "fsub %%st(1), %%st\n\tfnstsw %[sw]\n\tfninit\n\tfldcw %[h]"
			     : [h] "=m"(hcw), [sw] "=m"(sw) : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
			     : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
		break;
	case UF_MUL:
	case UF_CVT: /* a * 1 */
		asm volatile("fnstcw %[h]\n\tfninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t"
			     "fmul %%st(1), %%st\n\tfnstsw %[sw]\n\tfninit\n\tfldcw %[h]"
			     : [h] "=m"(hcw), [sw] "=m"(sw) : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
			     : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
		break;
	default:
		asm volatile("fnstcw %[h]\n\tfninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t"
			     "fdiv %%st(1), %%st\n\tfnstsw %[sw]\n\tfninit\n\tfldcw %[h]"
			     : [h] "=m"(hcw), [sw] "=m"(sw) : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
			     : "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
		break;
	}
	return sw & 0x20;
}

/* Source lane i as an 80-bit value (denormals are zero under DAZ). */
static long double lane_value(const uint8_t *v, unsigned esz, unsigned i, bool daz)
{
	if (esz == 4) {
		uint32_t x;
		float f;

		memcpy(&x, v + 4 * i, 4);
		if (daz && !(x & 0x7f800000u))
			x &= 0x80000000u;
		memcpy(&f, &x, 4);
		return (long double)f;
	}
	uint64_t x;
	double d;

	memcpy(&x, v + 8 * i, 8);
	if (daz && !(x & 0x7ff0000000000000ull))
		x &= 0x8000000000000000ull;
	memcpy(&d, &x, 8);
	return (long double)d;
}

/*
 * The MXCSR flags of an operation that may underflow or overflow while UM
 * or OM is unmasked, lane by lane: with UM unmasked a tiny result signals
 * UE, exact or not; then (and for an unmasked overflow) PE says whether
 * the result rounded with an unbounded exponent is inexact, not whether
 * the denormalised or infinite masked result is.
 */
static uint32_t sse_unmasked_uf_flags(uint32_t mode, unsigned ufl, __m128i a, __m128i b, bool um, bool om)
{
	static const sse_op scalar[2][5] = {
		{ op_addss, op_subss, op_mulss, op_divss, op_cvtsd2ss },
		{ op_addsd, op_subsd, op_mulsd, op_divsd, op_cvtsd2ss },
	};
	unsigned op = ufl >> 8, esz = (ufl >> 4) & 15, n = ufl & 15;
	bool daz = mode & MXCSR_DAZ;
	uint8_t va[16], vb[16];
	uint32_t total = 0;

	memcpy(va, &a, 16);
	memcpy(vb, &b, 16);
	for (unsigned i = 0; i < n; i++) {
		__m128i la = _mm_setzero_si128(), lb = _mm_setzero_si128(), r;
		uint32_t flags;

		memcpy(&la, va + i * esz, esz);
		memcpy(&lb, vb + i * esz, esz);
		_mm_setcsr(mode | MXCSR_MASKS);
		asm volatile("" : "+x"(la), "+x"(lb));
		r = scalar[esz == 8][op - 1](la, lb);
		asm volatile("" : "+x"(r));
		flags = _mm_getcsr() & MXCSR_EXC;
		bool uf = um && ((flags & 0x10) || sse_tiny(r, UFL(op, esz, 1)));
		bool of = om && (flags & 0x08);

		if (uf || of) {
			long double x, y;

			if (op == UF_CVT) {
				x = lane_value(vb, 8, i, daz);
				y = 1.0L;
			} else {
				x = lane_value(va, esz, i, daz);
				y = lane_value(vb, esz, i, daz);
			}
			flags &= ~0x20u;
			if (uf)
				flags |= 0x10;
			if (unbounded_inexact(op, esz == 4 || op == UF_CVT, x, y, (mode >> 13) & 3))
				flags |= 0x20;
		}
		total |= flags;
	}
	return total;
}

static __m128i sse_run(struct soft_cpu *cpu, sse_op fn, __m128i a, __m128i b, unsigned ufl)
{
	uint32_t guest = fpu_fx(cpu)->mxcsr;
	uint32_t host = _mm_getcsr();
	uint32_t mode = guest & (MXCSR_DAZ | MXCSR_RC | MXCSR_FZ);
	bool um_unmasked = !(guest & 0x0800);
	uint32_t flags;
	__m128i r;

	/* FZ only acts while underflow is masked. */
	if (um_unmasked)
		mode &= ~MXCSR_FZ;
	_mm_setcsr(mode | MXCSR_MASKS);
	asm volatile("" : "+x"(a), "+x"(b));
	r = fn(a, b);
	asm volatile("" : "+x"(r));
	flags = _mm_getcsr() & MXCSR_EXC;
	/*
	 * With underflow unmasked, a tiny result signals it even when exact,
	 * and with underflow or overflow unmasked, precision is judged before
	 * denormalisation or overflow; the masked run reports otherwise.
	 * Redo those lane by lane.
	 */
	if (ufl && !(flags & 0x7 & ~(guest >> 7)) &&
	    ((um_unmasked && ((flags & 0x10) || sse_tiny(r, ufl))) ||
	     (!(guest & 0x0400) && (flags & 0x08))))
		flags = sse_unmasked_uf_flags(mode, ufl, a, b, um_unmasked, !(guest & 0x0400));
	_mm_setcsr(host);
	sse_flags(cpu, flags);
	return r;
}

#define PS(x) _mm_castsi128_ps(x)
#define PD(x) _mm_castsi128_pd(x)
#define IPS(x) _mm_castps_si128(x)
#define IPD(x) _mm_castpd_si128(x)

/*
 * Packed and scalar arithmetic: op_<name>(a = destination, b = source).
 * In asm, not intrinsics: a compiler may swap the operands of an addition
 * or multiplication it believes commutative, and with two NaNs the result
 * is the first operand's.
 */
#define SSE_ASM2(name)                                                                    \
	static __m128i op_##name(__m128i a, __m128i b)                                     \
	{                                                                                  \
		asm(#name " %[b], %[a]" : [a] "+x"(a) : [b] "x"(b));                      \
		return a;                                                                  \
	}
#define SSE_ARITH4(name) SSE_ASM2(name##ps) SSE_ASM2(name##ss) SSE_ASM2(name##pd) SSE_ASM2(name##sd)
SSE_ARITH4(add)
SSE_ARITH4(sub)
SSE_ARITH4(mul)
SSE_ARITH4(div)
SSE_ARITH4(min)
SSE_ARITH4(max)

/* The eight compare predicates: EQ LT LE UNORD NEQ NLT NLE ORD. */
#define SSE_CMP(pred)                                                                          \
	static __m128i op_cmp##pred##ps(__m128i a, __m128i b) { return IPS(_mm_cmp##pred##_ps(PS(a), PS(b))); } \
	static __m128i op_cmp##pred##ss(__m128i a, __m128i b) { return IPS(_mm_cmp##pred##_ss(PS(a), PS(b))); } \
	static __m128i op_cmp##pred##pd(__m128i a, __m128i b) { return IPD(_mm_cmp##pred##_pd(PD(a), PD(b))); } \
	static __m128i op_cmp##pred##sd(__m128i a, __m128i b) { return IPD(_mm_cmp##pred##_sd(PD(a), PD(b))); }
SSE_CMP(eq)
SSE_CMP(lt)
SSE_CMP(le)
SSE_CMP(unord)
SSE_CMP(neq)
SSE_CMP(nlt)
SSE_CMP(nle)
SSE_CMP(ord)

static const sse_op cmp_ops[4][8] = {
	{ op_cmpeqps, op_cmpltps, op_cmpleps, op_cmpunordps, op_cmpneqps, op_cmpnltps, op_cmpnleps, op_cmpordps },
	{ op_cmpeqss, op_cmpltss, op_cmpless, op_cmpunordss, op_cmpneqss, op_cmpnltss, op_cmpnless, op_cmpordss },
	{ op_cmpeqpd, op_cmpltpd, op_cmplepd, op_cmpunordpd, op_cmpneqpd, op_cmpnltpd, op_cmpnlepd, op_cmpordpd },
	{ op_cmpeqsd, op_cmpltsd, op_cmplesd, op_cmpunordsd, op_cmpneqsd, op_cmpnltsd, op_cmpnlesd, op_cmpordsd },
};

static __m128i op_sqrtps(__m128i a, __m128i b) { (void)a; return IPS(_mm_sqrt_ps(PS(b))); }
static __m128i op_sqrtpd(__m128i a, __m128i b) { (void)a; return IPD(_mm_sqrt_pd(PD(b))); }
static __m128i op_sqrtss(__m128i a, __m128i b) { return IPS(_mm_move_ss(PS(a), _mm_sqrt_ss(PS(b)))); }
static __m128i op_sqrtsd(__m128i a, __m128i b) { return IPD(_mm_sqrt_sd(PD(a), PD(b))); }
static __m128i op_rcpps(__m128i a, __m128i b) { (void)a; return IPS(_mm_rcp_ps(PS(b))); }
static __m128i op_rcpss(__m128i a, __m128i b) { return IPS(_mm_move_ss(PS(a), _mm_rcp_ss(PS(b)))); }
static __m128i op_rsqrtps(__m128i a, __m128i b) { (void)a; return IPS(_mm_rsqrt_ps(PS(b))); }
static __m128i op_rsqrtss(__m128i a, __m128i b) { return IPS(_mm_move_ss(PS(a), _mm_rsqrt_ss(PS(b)))); }

/* Conversions. An integer source arrives in b's low 64 bits, an integer result leaves in r's. */
static __m128i op_cvtsi2ss32(__m128i a, __m128i b) { return IPS(_mm_cvtsi32_ss(PS(a), _mm_cvtsi128_si32(b))); }
static __m128i op_cvtsi2ss64(__m128i a, __m128i b) { return IPS(_mm_cvtsi64_ss(PS(a), _mm_cvtsi128_si64(b))); }
static __m128i op_cvtsi2sd32(__m128i a, __m128i b) { return IPD(_mm_cvtsi32_sd(PD(a), _mm_cvtsi128_si32(b))); }
static __m128i op_cvtsi2sd64(__m128i a, __m128i b) { return IPD(_mm_cvtsi64_sd(PD(a), _mm_cvtsi128_si64(b))); }
static __m128i op_cvtss2si32(__m128i a, __m128i b) { (void)a; return _mm_cvtsi32_si128(_mm_cvtss_si32(PS(b))); }
static __m128i op_cvtss2si64(__m128i a, __m128i b) { (void)a; return _mm_cvtsi64_si128(_mm_cvtss_si64(PS(b))); }
static __m128i op_cvttss2si32(__m128i a, __m128i b) { (void)a; return _mm_cvtsi32_si128(_mm_cvttss_si32(PS(b))); }
static __m128i op_cvttss2si64(__m128i a, __m128i b) { (void)a; return _mm_cvtsi64_si128(_mm_cvttss_si64(PS(b))); }
static __m128i op_cvtsd2si32(__m128i a, __m128i b) { (void)a; return _mm_cvtsi32_si128(_mm_cvtsd_si32(PD(b))); }
static __m128i op_cvtsd2si64(__m128i a, __m128i b) { (void)a; return _mm_cvtsi64_si128(_mm_cvtsd_si64(PD(b))); }
static __m128i op_cvttsd2si32(__m128i a, __m128i b) { (void)a; return _mm_cvtsi32_si128(_mm_cvttsd_si32(PD(b))); }
static __m128i op_cvttsd2si64(__m128i a, __m128i b) { (void)a; return _mm_cvtsi64_si128(_mm_cvttsd_si64(PD(b))); }
static __m128i op_cvtss2sd(__m128i a, __m128i b) { return IPD(_mm_cvtss_sd(PD(a), PS(b))); }
static __m128i op_cvtsd2ss(__m128i a, __m128i b) { return IPS(_mm_cvtsd_ss(PS(a), PD(b))); }
static __m128i op_cvtps2pd(__m128i a, __m128i b) { (void)a; return IPD(_mm_cvtps_pd(PS(b))); }
static __m128i op_cvtpd2ps(__m128i a, __m128i b) { (void)a; return IPS(_mm_cvtpd_ps(PD(b))); }
static __m128i op_cvtdq2ps(__m128i a, __m128i b) { (void)a; return IPS(_mm_cvtepi32_ps(b)); }
static __m128i op_cvtps2dq(__m128i a, __m128i b) { (void)a; return _mm_cvtps_epi32(PS(b)); }
static __m128i op_cvttps2dq(__m128i a, __m128i b) { (void)a; return _mm_cvttps_epi32(PS(b)); }
static __m128i op_cvtdq2pd(__m128i a, __m128i b) { (void)a; return IPD(_mm_cvtepi32_pd(b)); }
static __m128i op_cvtpd2dq(__m128i a, __m128i b) { (void)a; return _mm_cvtpd_epi32(PD(b)); }
static __m128i op_cvttpd2dq(__m128i a, __m128i b) { (void)a; return _mm_cvttpd_epi32(PD(b)); }
/* MMX forms: only the low two lanes are converted (b's upper half is zero). */
static __m128i op_cvtpi2ps(__m128i a, __m128i b)
{
	return IPD(_mm_move_sd(PD(a), PD(IPS(_mm_cvtepi32_ps(b)))));
}

/* COMISS & co: ZF, PF, CF in bits 6, 2, 0 of r. */
#define SSE_COMI(name)                                                                        \
	static __m128i op_##name(__m128i a, __m128i b)                                        \
	{                                                                                     \
		uint8_t z, p, c;                                                              \
		asm(#name " %[b], %[a]\n\tsetz %[z]\n\tsetp %[p]\n\tsetc %[c]"                 \
		    : [z] "=q"(z), [p] "=q"(p), [c] "=q"(c)                                   \
		    : [a] "x"(a), [b] "x"(b)                                                  \
		    : "cc");                                                                  \
		return _mm_cvtsi32_si128((z << 6) | (p << 2) | c);                            \
	}
SSE_COMI(comiss)
SSE_COMI(ucomiss)
SSE_COMI(comisd)
SSE_COMI(ucomisd)

/* ---- Handlers: arithmetic ------------------------------------------------ */

/*
 * dest (XMM) = fn(dest, src); src is an XMM register or srclen bytes of
 * memory (16: alignment checked).
 */
static void sse_binop_u(struct soft_cpu *cpu, const struct soft_insn *in, sse_op fn, unsigned srclen,
			unsigned ufl)
{
	__m128i a, b = _mm_setzero_si128();
	uint8_t buf[16] = { 0 };

	fpu_check_sse(cpu);
	if (in->op[1].kind == SOFT_OP_XMM)
		srclen = 16;
	sse_vread(cpu, in, 1, buf, srclen, true);
	memcpy(&b, buf, 16);
	memcpy(&a, fpu_fx(cpu)->xmm[in->op[0].reg & 15], 16);
	a = sse_run(cpu, fn, a, b, ufl);
	memcpy(fpu_fx(cpu)->xmm[in->op[0].reg & 15], &a, 16);
}

static void sse_binop(struct soft_cpu *cpu, const struct soft_insn *in, sse_op fn, unsigned srclen)
{
	sse_binop_u(cpu, in, fn, srclen, 0);
}

#define ARITH_HANDLERS(name, u)                                                           \
	static void h_##name##ps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop_u(cpu, in, op_##name##ps, 16, u ? UFL(u, 4, 4) : 0); } \
	static void h_##name##ss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop_u(cpu, in, op_##name##ss, 4, u ? UFL(u, 4, 1) : 0); } \
	static void h_##name##pd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop_u(cpu, in, op_##name##pd, 16, u ? UFL(u, 8, 2) : 0); } \
	static void h_##name##sd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop_u(cpu, in, op_##name##sd, 8, u ? UFL(u, 8, 1) : 0); }
ARITH_HANDLERS(add, UF_ADD)
ARITH_HANDLERS(sub, UF_SUB)
ARITH_HANDLERS(mul, UF_MUL)
ARITH_HANDLERS(div, UF_DIV)
ARITH_HANDLERS(min, 0)
ARITH_HANDLERS(max, 0)
ARITH_HANDLERS(sqrt, 0)

static void h_rcpps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_rcpps, 16); }
static void h_rcpss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_rcpss, 4); }
static void h_rsqrtps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_rsqrtps, 16); }
static void h_rsqrtss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_rsqrtss, 4); }

static void sse_cmp(struct soft_cpu *cpu, const struct soft_insn *in, unsigned form, unsigned srclen)
{
	sse_binop(cpu, in, cmp_ops[form][in->op[2].imm & 7], srclen);
}
static void h_cmpps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cmp(cpu, in, 0, 16); }
static void h_cmpss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cmp(cpu, in, 1, 4); }
static void h_cmppd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cmp(cpu, in, 2, 16); }

/* Shares CMPSD and MOVSD with the string instructions of the integer family. */
static void int_fallback(struct soft_cpu *cpu, const struct soft_insn *in);

static void h_cmpsd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (in->opmap == 0 || in->nops < 3) {
		int_fallback(cpu, in);
		return;
	}
	sse_cmp(cpu, in, 3, 8);
}

static void sse_comi(struct soft_cpu *cpu, const struct soft_insn *in, sse_op fn, unsigned srclen)
{
	__m128i a, b = _mm_setzero_si128(), r;
	uint8_t buf[16] = { 0 };
	uint64_t fl;
	uint32_t res;

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, buf, srclen, false);
	memcpy(&b, buf, 16);
	memcpy(&a, fpu_fx(cpu)->xmm[in->op[0].reg & 15], 16);
	r = sse_run(cpu, fn, a, b, 0);
	res = (uint32_t)_mm_cvtsi128_si32(r);
	fl = soft_get_flags(cpu);
	fl &= ~(uint64_t)(X86_FLAGS_OF | X86_FLAGS_SF | X86_FLAGS_AF | X86_FLAGS_ZF | X86_FLAGS_PF |
			  X86_FLAGS_CF);
	fl |= res & (X86_FLAGS_ZF | X86_FLAGS_PF | X86_FLAGS_CF);
	soft_set_flags(cpu, fl);
}
static void h_comiss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_comi(cpu, in, op_comiss, 4); }
static void h_ucomiss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_comi(cpu, in, op_ucomiss, 4); }
static void h_comisd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_comi(cpu, in, op_comisd, 8); }
static void h_ucomisd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_comi(cpu, in, op_ucomisd, 8); }

/* ---- Handlers: conversions ----------------------------------------------- */

static void h_cvtsi2ss(struct soft_cpu *cpu, const struct soft_insn *in)
{
	bool q = in->op[1].size == 8;
	sse_binop(cpu, in, q ? op_cvtsi2ss64 : op_cvtsi2ss32, q ? 8 : 4);
}

static void h_cvtsi2sd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	bool q = in->op[1].size == 8;
	sse_binop(cpu, in, q ? op_cvtsi2sd64 : op_cvtsi2sd32, q ? 8 : 4);
}

/* GPR = fn(src) for CVT(T)SS2SI / CVT(T)SD2SI. */
static void sse_cvt2si(struct soft_cpu *cpu, const struct soft_insn *in, sse_op f32, sse_op f64,
		       unsigned srclen)
{
	__m128i b = _mm_setzero_si128(), r;
	uint8_t buf[16] = { 0 };
	bool q = in->op[0].size == 8;

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, buf, srclen, false);
	memcpy(&b, buf, 16);
	r = sse_run(cpu, q ? f64 : f32, b, b, 0);
	if (q)
		soft_op_write(cpu, in, 0, (uint64_t)_mm_cvtsi128_si64(r));
	else
		soft_op_write(cpu, in, 0, (uint32_t)_mm_cvtsi128_si32(r));
}
static void h_cvtss2si(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt2si(cpu, in, op_cvtss2si32, op_cvtss2si64, 4); }
static void h_cvttss2si(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt2si(cpu, in, op_cvttss2si32, op_cvttss2si64, 4); }
static void h_cvtsd2si(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt2si(cpu, in, op_cvtsd2si32, op_cvtsd2si64, 8); }
static void h_cvttsd2si(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt2si(cpu, in, op_cvttsd2si32, op_cvttsd2si64, 8); }

static void h_cvtss2sd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvtss2sd, 4); }
static void h_cvtsd2ss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop_u(cpu, in, op_cvtsd2ss, 8, UFL(UF_CVT, 8, 1)); }
static void h_cvtps2pd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvtps2pd, 8); }
static void h_cvtpd2ps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop_u(cpu, in, op_cvtpd2ps, 16, UFL(UF_CVT, 8, 2)); }
static void h_cvtdq2ps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvtdq2ps, 16); }
static void h_cvtps2dq(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvtps2dq, 16); }
static void h_cvttps2dq(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvttps2dq, 16); }
static void h_cvtdq2pd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvtdq2pd, 8); }
static void h_cvtpd2dq(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvtpd2dq, 16); }
static void h_cvttpd2dq(struct soft_cpu *cpu, const struct soft_insn *in) { sse_binop(cpu, in, op_cvttpd2dq, 16); }

/*
 * Conversions with an MMX side. The source (mm/m64, xmm/m64 or xmm/m128)
 * is read into b; lanes that are not converted are zero, so raise nothing.
 */
static void sse_cvt_mmx(struct soft_cpu *cpu, const struct soft_insn *in, sse_op fn, unsigned srclen,
			bool xmm_dest)
{
	__m128i a = _mm_setzero_si128(), b = _mm_setzero_si128(), r;
	uint8_t buf[16] = { 0 };
	bool mmx_reg = sse_has_mmx(in);

	if (mmx_reg)
		fpu_check_mmx(cpu);
	fpu_check_sse(cpu);
	if (in->op[1].kind == SOFT_OP_XMM || in->op[1].kind == SOFT_OP_MMX)
		srclen = in->op[1].kind == SOFT_OP_XMM ? srclen : 8;
	sse_vread(cpu, in, 1, buf, srclen, true);
	memcpy(&b, buf, 16);
	if (xmm_dest)
		memcpy(&a, fpu_fx(cpu)->xmm[in->op[0].reg & 15], 16);
	r = sse_run(cpu, fn, a, b, 0);
	if (mmx_reg)
		fpu_mmx_transition(cpu);
	if (xmm_dest)
		memcpy(fpu_fx(cpu)->xmm[in->op[0].reg & 15], &r, 16);
	else
		fpu_mmx_set(cpu, in->op[0].reg, &r);
}
static void h_cvtpi2ps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt_mmx(cpu, in, op_cvtpi2ps, 8, true); }
static void h_cvtpi2pd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt_mmx(cpu, in, op_cvtdq2pd, 8, true); }
static void h_cvtps2pi(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt_mmx(cpu, in, op_cvtps2dq, 8, false); }
static void h_cvttps2pi(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt_mmx(cpu, in, op_cvttps2dq, 8, false); }
static void h_cvtpd2pi(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt_mmx(cpu, in, op_cvtpd2dq, 16, false); }
static void h_cvttpd2pi(struct soft_cpu *cpu, const struct soft_insn *in) { sse_cvt_mmx(cpu, in, op_cvttpd2dq, 16, false); }

/* ---- Handlers: data movement --------------------------------------------- */

static void sse_mov128(struct soft_cpu *cpu, const struct soft_insn *in, bool align)
{
	uint8_t buf[16];

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, buf, 16, align);
	sse_vwrite(cpu, in, 0, buf, 16, align);
}
static void h_mova(struct soft_cpu *cpu, const struct soft_insn *in) { sse_mov128(cpu, in, true); }
static void h_movu(struct soft_cpu *cpu, const struct soft_insn *in) { sse_mov128(cpu, in, false); }

/* MOVSS / MOVSD: a load zeroes the rest, a register move merges the low element. */
static void sse_movs(struct soft_cpu *cpu, const struct soft_insn *in, unsigned len)
{
	uint8_t buf[16] = { 0 };

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, buf, len, false);
	if (in->op[1].kind == SOFT_OP_MEM)
		sse_vwrite(cpu, in, 0, buf, 16, false);
	else
		sse_vwrite(cpu, in, 0, buf, len, false);
}
static void h_movss(struct soft_cpu *cpu, const struct soft_insn *in) { sse_movs(cpu, in, 4); }

static void h_movsd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (in->opmap == 0 || in->nops < 2) {
		int_fallback(cpu, in);
		return;
	}
	sse_movs(cpu, in, 8);
}

/* MOVLPS/MOVLPD (low half) and MOVHPS/MOVHPD (high half) to or from m64. */
static void sse_movhalf(struct soft_cpu *cpu, const struct soft_insn *in, unsigned off)
{
	uint8_t buf[8];

	fpu_check_sse(cpu);
	if (in->op[0].kind == SOFT_OP_XMM) {
		sse_vread(cpu, in, 1, buf, 8, false);
		memcpy(fpu_fx(cpu)->xmm[in->op[0].reg & 15] + off, buf, 8);
	} else {
		memcpy(buf, fpu_fx(cpu)->xmm[in->op[1].reg & 15] + off, 8);
		sse_vwrite(cpu, in, 0, buf, 8, false);
	}
}
static void h_movlp(struct soft_cpu *cpu, const struct soft_insn *in) { sse_movhalf(cpu, in, 0); }
static void h_movhp(struct soft_cpu *cpu, const struct soft_insn *in) { sse_movhalf(cpu, in, 8); }

static void h_movhlps(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);

	fpu_check_sse(cpu);
	memmove(fx->xmm[in->op[0].reg & 15], fx->xmm[in->op[1].reg & 15] + 8, 8);
}

static void h_movlhps(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct x86_fxsave *fx = fpu_fx(cpu);

	fpu_check_sse(cpu);
	memmove(fx->xmm[in->op[0].reg & 15] + 8, fx->xmm[in->op[1].reg & 15], 8);
}

/* MOVD / MOVQ in every form: XMM destinations are zero-extended. */
static void sse_movdq(struct soft_cpu *cpu, const struct soft_insn *in, unsigned len)
{
	uint8_t buf[16] = { 0 };

	sse_or_mmx_check(cpu, in);
	if (in->op[1].kind == SOFT_OP_GPR && in->op[1].size == 8)
		len = 8;
	if (in->op[0].kind == SOFT_OP_GPR && in->op[0].size == 8)
		len = 8;
	sse_vread(cpu, in, 1, buf, len, false);
	if (in->op[0].kind == SOFT_OP_XMM)
		sse_vwrite(cpu, in, 0, buf, 16, false);
	else
		sse_vwrite(cpu, in, 0, buf, in->op[0].kind == SOFT_OP_MMX ? 8 : len, false);
	mmx_done(cpu, in);
}
static void h_movd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_movdq(cpu, in, 4); }
static void h_movq(struct soft_cpu *cpu, const struct soft_insn *in) { sse_movdq(cpu, in, 8); }

static void h_movq2dq(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint8_t buf[16] = { 0 };

	fpu_check_mmx(cpu);
	fpu_check_sse(cpu);
	fpu_mmx_get(cpu, in->op[1].reg, buf);
	fpu_mmx_transition(cpu);
	memcpy(fpu_fx(cpu)->xmm[in->op[0].reg & 15], buf, 16);
}

static void h_movdq2q(struct soft_cpu *cpu, const struct soft_insn *in)
{
	fpu_check_mmx(cpu);
	fpu_check_sse(cpu);
	fpu_mmx_transition(cpu);
	fpu_mmx_set(cpu, in->op[0].reg, fpu_fx(cpu)->xmm[in->op[1].reg & 15]);
}

static void h_movnti(struct soft_cpu *cpu, const struct soft_insn *in)
{
	soft_op_write(cpu, in, 0, soft_op_read(cpu, in, 1));
}

static void h_movntq(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint8_t buf[8];

	fpu_check_mmx(cpu);
	fpu_mmx_get(cpu, in->op[1].reg, buf);
	sse_vwrite(cpu, in, 0, buf, 8, false);
	fpu_mmx_transition(cpu);
}

/* MASKMOVDQU / MASKMOVQ: byte-masked store to DS:rDI. */
static void h_maskmov(struct soft_cpu *cpu, const struct soft_insn *in)
{
	struct soft_operand mem = { .kind = SOFT_OP_MEM, .size = 1, .seg = X86_DS, .base = X86_RDI,
				    .index = SOFT_REG_NONE, .scale = 1 };
	uint8_t data[16], mask[16];
	unsigned len = 16, i;
	uint64_t ea;

	sse_or_mmx_check(cpu, in);
	if (sse_has_mmx(in))
		len = 8;
	sse_vread(cpu, in, 0, data, len, false);
	sse_vread(cpu, in, 1, mask, len, false);
	ea = soft_ea(cpu, in, &mem);
	/* The probe keeps faults ahead of any byte store. */
	for (i = 0; i < len && !(mask[i] & 0x80); i++)
		;
	if (i < len) {
		soft_probe_write(cpu, ea, len);
		for (i = 0; i < len; i++)
			if (mask[i] & 0x80)
				soft_write(cpu, ea + i, &data[i], 1);
	}
	mmx_done(cpu, in);
}

static void h_movmskps(struct soft_cpu *cpu, const struct soft_insn *in)
{
	const uint8_t *x;
	uint64_t m = 0;

	fpu_check_sse(cpu);
	x = fpu_fx(cpu)->xmm[in->op[1].reg & 15];
	for (unsigned i = 0; i < 4; i++)
		m |= (uint64_t)(x[i * 4 + 3] >> 7) << i;
	soft_op_write(cpu, in, 0, m);
}

static void h_movmskpd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	const uint8_t *x;

	fpu_check_sse(cpu);
	x = fpu_fx(cpu)->xmm[in->op[1].reg & 15];
	soft_op_write(cpu, in, 0, (uint64_t)((x[7] >> 7) | ((x[15] >> 7) << 1)));
}

/* ---- Handlers: logic, shuffles, unpacks (bitwise, no MXCSR effect) ------- */

static void sse_logic(struct soft_cpu *cpu, const struct soft_insn *in, unsigned op)
{
	uint64_t a[2], b[2];
	uint8_t *d;

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, b, 16, true);
	d = fpu_fx(cpu)->xmm[in->op[0].reg & 15];
	memcpy(a, d, 16);
	for (unsigned i = 0; i < 2; i++) {
		switch (op) {
		case 0: a[i] &= b[i]; break;
		case 1: a[i] = ~a[i] & b[i]; break;
		case 2: a[i] |= b[i]; break;
		default: a[i] ^= b[i]; break;
		}
	}
	memcpy(d, a, 16);
}
static void h_andp(struct soft_cpu *cpu, const struct soft_insn *in) { sse_logic(cpu, in, 0); }
static void h_andnp(struct soft_cpu *cpu, const struct soft_insn *in) { sse_logic(cpu, in, 1); }
static void h_orp(struct soft_cpu *cpu, const struct soft_insn *in) { sse_logic(cpu, in, 2); }
static void h_xorp(struct soft_cpu *cpu, const struct soft_insn *in) { sse_logic(cpu, in, 3); }

static void h_shufps(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint32_t a[4], b[4], r[4];
	unsigned imm = (unsigned)in->op[2].imm;
	uint8_t *d;

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, b, 16, true);
	d = fpu_fx(cpu)->xmm[in->op[0].reg & 15];
	memcpy(a, d, 16);
	r[0] = a[imm & 3];
	r[1] = a[(imm >> 2) & 3];
	r[2] = b[(imm >> 4) & 3];
	r[3] = b[(imm >> 6) & 3];
	memcpy(d, r, 16);
}

static void h_shufpd(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint64_t a[2], b[2], r[2];
	unsigned imm = (unsigned)in->op[2].imm;
	uint8_t *d;

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, b, 16, true);
	d = fpu_fx(cpu)->xmm[in->op[0].reg & 15];
	memcpy(a, d, 16);
	r[0] = a[imm & 1];
	r[1] = b[(imm >> 1) & 1];
	memcpy(d, r, 16);
}

/* UNPCK{L,H}{PS,PD}: interleave the low or high halves by 4- or 8-byte elements. */
static void sse_unpck(struct soft_cpu *cpu, const struct soft_insn *in, unsigned esz, bool high)
{
	uint8_t a[16], b[16], r[16];
	unsigned n = 8 / esz, base = high ? 8 : 0;
	uint8_t *d;

	fpu_check_sse(cpu);
	sse_vread(cpu, in, 1, b, 16, true);
	d = fpu_fx(cpu)->xmm[in->op[0].reg & 15];
	memcpy(a, d, 16);
	for (unsigned i = 0; i < n; i++) {
		memcpy(r + 2 * i * esz, a + base + i * esz, esz);
		memcpy(r + (2 * i + 1) * esz, b + base + i * esz, esz);
	}
	memcpy(d, r, 16);
}
static void h_unpcklps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_unpck(cpu, in, 4, false); }
static void h_unpckhps(struct soft_cpu *cpu, const struct soft_insn *in) { sse_unpck(cpu, in, 4, true); }
static void h_unpcklpd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_unpck(cpu, in, 8, false); }
static void h_unpckhpd(struct soft_cpu *cpu, const struct soft_insn *in) { sse_unpck(cpu, in, 8, true); }

/* ---- MXCSR -------------------------------------------------------------- */

void sse_h_ldmxcsr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint32_t v;

	fpu_check_sse(cpu);
	soft_read(cpu, soft_ea(cpu, in, &in->op[0]), &v, 4);
	if (v & ~(uint32_t)MXCSR_MASK_SUPPORTED)
		soft_raise(cpu, X86_VEC_GP, 0);
	fpu_fx(cpu)->mxcsr = v;
}

void sse_h_stmxcsr(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint32_t v;

	fpu_check_sse(cpu);
	v = fpu_fx(cpu)->mxcsr;
	soft_write(cpu, soft_ea(cpu, in, &in->op[0]), &v, 4);
}

/* ---- MOVSD / CMPSD string forms ------------------------------------------ */

/*
 * Zydis names the string instructions MOVSD (A5) and CMPSD (A7) like the
 * SSE2 ones; the core dispatches by mnemonic, so whichever table it took
 * the entry from, the string forms go to the integer family's handler.
 * The reference is weak so the library links before that family exists.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wredundant-decls"
extern const struct soft_handler_table soft_handlers_int __attribute__((weak));
#pragma GCC diagnostic pop

static void int_fallback(struct soft_cpu *cpu, const struct soft_insn *in)
{
	const struct soft_handler_table *t = &soft_handlers_int;

	if (t) {
		for (unsigned i = 0; i < t->n; i++)
			if (t->entries[i].mnemonic == in->mnemonic && t->entries[i].fn != h_movsd &&
			    t->entries[i].fn != h_cmpsd) {
				t->entries[i].fn(cpu, in);
				return;
			}
	}
	soft_unimplemented(cpu, in);
}

/* ---- The table ----------------------------------------------------------- */

#define E(m, f) { ZYDIS_MNEMONIC_##m, f }
#define EINT(m) { ZYDIS_MNEMONIC_##m, sse_h_##m },

static const struct soft_handler_entry sse_entries[] = {
	/*
	 * First: the integer family's MOVSD/CMPSD (string forms) hand the SSE
	 * forms on with a linear search of this table (int_forward).
	 */
	E(MOVSD, h_movsd), E(CMPSD, h_cmpsd),
	E(ADDPS, h_addps), E(ADDSS, h_addss), E(ADDPD, h_addpd), E(ADDSD, h_addsd),
	E(SUBPS, h_subps), E(SUBSS, h_subss), E(SUBPD, h_subpd), E(SUBSD, h_subsd),
	E(MULPS, h_mulps), E(MULSS, h_mulss), E(MULPD, h_mulpd), E(MULSD, h_mulsd),
	E(DIVPS, h_divps), E(DIVSS, h_divss), E(DIVPD, h_divpd), E(DIVSD, h_divsd),
	E(MINPS, h_minps), E(MINSS, h_minss), E(MINPD, h_minpd), E(MINSD, h_minsd),
	E(MAXPS, h_maxps), E(MAXSS, h_maxss), E(MAXPD, h_maxpd), E(MAXSD, h_maxsd),
	E(SQRTPS, h_sqrtps), E(SQRTSS, h_sqrtss), E(SQRTPD, h_sqrtpd), E(SQRTSD, h_sqrtsd),
	E(RCPPS, h_rcpps), E(RCPSS, h_rcpss), E(RSQRTPS, h_rsqrtps), E(RSQRTSS, h_rsqrtss),
	E(CMPPS, h_cmpps), E(CMPSS, h_cmpss), E(CMPPD, h_cmppd),
	E(COMISS, h_comiss), E(UCOMISS, h_ucomiss), E(COMISD, h_comisd), E(UCOMISD, h_ucomisd),
	E(CVTSI2SS, h_cvtsi2ss), E(CVTSI2SD, h_cvtsi2sd),
	E(CVTSS2SI, h_cvtss2si), E(CVTTSS2SI, h_cvttss2si),
	E(CVTSD2SI, h_cvtsd2si), E(CVTTSD2SI, h_cvttsd2si),
	E(CVTSS2SD, h_cvtss2sd), E(CVTSD2SS, h_cvtsd2ss),
	E(CVTPS2PD, h_cvtps2pd), E(CVTPD2PS, h_cvtpd2ps),
	E(CVTDQ2PS, h_cvtdq2ps), E(CVTPS2DQ, h_cvtps2dq), E(CVTTPS2DQ, h_cvttps2dq),
	E(CVTDQ2PD, h_cvtdq2pd), E(CVTPD2DQ, h_cvtpd2dq), E(CVTTPD2DQ, h_cvttpd2dq),
	E(CVTPI2PS, h_cvtpi2ps), E(CVTPI2PD, h_cvtpi2pd), E(CVTPS2PI, h_cvtps2pi),
	E(CVTTPS2PI, h_cvttps2pi), E(CVTPD2PI, h_cvtpd2pi), E(CVTTPD2PI, h_cvttpd2pi),
	E(MOVAPS, h_mova), E(MOVAPD, h_mova), E(MOVDQA, h_mova),
	E(MOVNTPS, h_mova), E(MOVNTPD, h_mova), E(MOVNTDQ, h_mova),
	E(MOVUPS, h_movu), E(MOVUPD, h_movu), E(MOVDQU, h_movu),
	E(MOVSS, h_movss),
	E(MOVLPS, h_movlp), E(MOVLPD, h_movlp), E(MOVHPS, h_movhp), E(MOVHPD, h_movhp),
	E(MOVHLPS, h_movhlps), E(MOVLHPS, h_movlhps),
	E(MOVD, h_movd), E(MOVQ, h_movq), E(MOVQ2DQ, h_movq2dq), E(MOVDQ2Q, h_movdq2q),
	E(MOVNTI, h_movnti), E(MOVNTQ, h_movntq),
	E(MASKMOVDQU, h_maskmov), E(MASKMOVQ, h_maskmov),
	E(MOVMSKPS, h_movmskps), E(MOVMSKPD, h_movmskpd),
	E(ANDPS, h_andp), E(ANDPD, h_andp), E(ANDNPS, h_andnp), E(ANDNPD, h_andnp),
	E(ORPS, h_orp), E(ORPD, h_orp), E(XORPS, h_xorp), E(XORPD, h_xorp),
	E(SHUFPS, h_shufps), E(SHUFPD, h_shufpd),
	E(UNPCKLPS, h_unpcklps), E(UNPCKHPS, h_unpckhps),
	E(UNPCKLPD, h_unpcklpd), E(UNPCKHPD, h_unpckhpd),
	SSE_INT_HANDLERS(EINT)
};

const struct soft_handler_table soft_handlers_sse = {
	.entries = sse_entries,
	.n = sizeof(sse_entries) / sizeof(sse_entries[0]),
};
