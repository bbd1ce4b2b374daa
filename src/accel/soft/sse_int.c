/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integer SIMD instructions of the software CPU, on MMX (8 bytes) and
 * XMM (16 bytes) registers alike: add/subtract (wrapping and saturating),
 * multiplies, compares, min/max/average/SAD, logic, shifts, packs,
 * unpacks, shuffles, PINSRW/PEXTRW/PMOVMSKB. Listed in sse.c's
 * soft_handlers_sse. Pure bit manipulation, no MXCSR involvement.
 */
#include <string.h>

#include "accel/soft/fpu_common.h"
#include "accel/soft/sse_impl.h"

unsigned sse_int_begin(struct soft_cpu *cpu, const struct soft_insn *in)
{
	if (sse_has_mmx(in)) {
		fpu_check_mmx(cpu);
		return 8;
	}
	fpu_check_sse(cpu);
	return 16;
}

/* Bytes to read from source operand i: a narrower memory operand (MMX m32 unpacks) reads less. */
static unsigned src_len(const struct soft_insn *in, unsigned i, unsigned w)
{
	const struct soft_operand *op = &in->op[i];

	if (op->kind == SOFT_OP_MEM && op->size && op->size < w)
		return op->size;
	return w;
}

static void finish(struct soft_cpu *cpu, const struct soft_insn *in, const uint8_t *r, unsigned w)
{
	if (w == 8) {
		fpu_mmx_transition(cpu);
		fpu_mmx_set(cpu, in->op[0].reg, r);
	} else {
		memcpy(fpu_fx(cpu)->xmm[in->op[0].reg & 15], r, 16);
	}
}

typedef void (*int_op)(uint8_t *d, const uint8_t *s, unsigned w);

/* w is 8 or 16; saying so keeps the compiler's bounds analysis quiet. */
#define W_CLAMP(w) ((w) = (w) > 8 ? 16 : 8)

/* dest = fn(dest, src) */
static void int_binop(struct soft_cpu *cpu, const struct soft_insn *in, int_op fn)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	unsigned w = sse_int_begin(cpu, in);

	sse_vread(cpu, in, 1, b, src_len(in, 1, w), true);
	sse_vread(cpu, in, 0, a, w, false);
	fn(a, b, w);
	finish(cpu, in, a, w);
}

static int32_t sat(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Element-wise: T is the element type, x and y the dest and source elements. */
#define EW(name, T, expr)                                                          \
	static void f_##name(uint8_t *d, const uint8_t *s, unsigned w)              \
	{                                                                           \
		W_CLAMP(w);                                                         \
		for (unsigned i = 0; i < w / sizeof(T); i++) {                      \
			T x, y, r;                                                  \
			memcpy(&x, d + i * sizeof(T), sizeof(T));                   \
			memcpy(&y, s + i * sizeof(T), sizeof(T));                   \
			r = (T)(expr);                                              \
			memcpy(d + i * sizeof(T), &r, sizeof(T));                   \
		}                                                                   \
	}                                                                           \
	void sse_h_##name(struct soft_cpu *cpu, const struct soft_insn *in)         \
	{                                                                           \
		int_binop(cpu, in, f_##name);                                       \
	}

EW(PADDB, uint8_t, x + y)
EW(PADDW, uint16_t, x + y)
EW(PADDD, uint32_t, x + y)
EW(PADDQ, uint64_t, x + y)
EW(PSUBB, uint8_t, x - y)
EW(PSUBW, uint16_t, x - y)
EW(PSUBD, uint32_t, x - y)
EW(PSUBQ, uint64_t, x - y)
EW(PADDSB, int8_t, sat(x + y, -128, 127))
EW(PADDSW, int16_t, sat(x + y, -32768, 32767))
EW(PADDUSB, uint8_t, sat(x + y, 0, 255))
EW(PADDUSW, uint16_t, sat(x + y, 0, 65535))
EW(PSUBSB, int8_t, sat(x - y, -128, 127))
EW(PSUBSW, int16_t, sat(x - y, -32768, 32767))
EW(PSUBUSB, uint8_t, sat(x - y, 0, 255))
EW(PSUBUSW, uint16_t, sat(x - y, 0, 65535))
EW(PMULLW, uint16_t, (uint32_t)x * y)
EW(PMULHW, int16_t, ((int32_t)x * y) >> 16)
EW(PMULHUW, uint16_t, ((uint32_t)x * y) >> 16)
EW(PMULUDQ, uint64_t, (x & 0xffffffffu) * (y & 0xffffffffu))
EW(PCMPEQB, uint8_t, x == y ? 0xff : 0)
EW(PCMPEQW, uint16_t, x == y ? 0xffff : 0)
EW(PCMPEQD, uint32_t, x == y ? 0xffffffffu : 0)
EW(PCMPGTB, int8_t, x > y ? -1 : 0)
EW(PCMPGTW, int16_t, x > y ? -1 : 0)
EW(PCMPGTD, int32_t, x > y ? -1 : 0)
EW(PMINUB, uint8_t, x < y ? x : y)
EW(PMAXUB, uint8_t, x > y ? x : y)
EW(PMINSW, int16_t, x < y ? x : y)
EW(PMAXSW, int16_t, x > y ? x : y)
EW(PAVGB, uint8_t, ((uint32_t)x + y + 1) >> 1)
EW(PAVGW, uint16_t, ((uint32_t)x + y + 1) >> 1)
EW(PAND, uint64_t, x & y)
EW(PANDN, uint64_t, ~x & y)
EW(POR, uint64_t, x | y)
EW(PXOR, uint64_t, x ^ y)

static void f_pmaddwd(uint8_t *d, const uint8_t *s, unsigned w)
{
	W_CLAMP(w);
	for (unsigned i = 0; i < w / 4; i++) {
		int16_t x[2], y[2];
		uint32_t r;

		memcpy(x, d + i * 4, 4);
		memcpy(y, s + i * 4, 4);
		r = (uint32_t)((int64_t)x[0] * y[0] + (int64_t)x[1] * y[1]);
		memcpy(d + i * 4, &r, 4);
	}
}
void sse_h_PMADDWD(struct soft_cpu *cpu, const struct soft_insn *in) { int_binop(cpu, in, f_pmaddwd); }

static void f_psadbw(uint8_t *d, const uint8_t *s, unsigned w)
{
	W_CLAMP(w);
	for (unsigned lane = 0; lane < w / 8; lane++) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < 8; i++) {
			int v = d[lane * 8 + i] - s[lane * 8 + i];
			sum += (uint64_t)(v < 0 ? -v : v);
		}
		memcpy(d + lane * 8, &sum, 8);
	}
}
void sse_h_PSADBW(struct soft_cpu *cpu, const struct soft_insn *in) { int_binop(cpu, in, f_psadbw); }

/* ---- Shifts -------------------------------------------------------------- */

/* Shift count: imm8, or the low 64 bits of an MMX/XMM/m64/m128 source. */
static uint64_t shift_count(struct soft_cpu *cpu, const struct soft_insn *in, unsigned w)
{
	uint8_t b[16] = { 0 };
	uint64_t c;

	if (in->op[1].kind == SOFT_OP_IMM)
		return (uint64_t)in->op[1].imm & 0xff;
	sse_vread(cpu, in, 1, b, src_len(in, 1, w), true);
	memcpy(&c, b, 8);
	return c;
}

/* kind 0: left logical, 1: right logical, 2: right arithmetic; esz element bytes */
static void int_shift(struct soft_cpu *cpu, const struct soft_insn *in, unsigned esz, unsigned kind)
{
	uint8_t a[16] = { 0 };
	unsigned w = sse_int_begin(cpu, in), bits = esz * 8;
	uint64_t count = shift_count(cpu, in, w);

	sse_vread(cpu, in, 0, a, w, false);
	for (unsigned i = 0; i < w / esz; i++) {
		uint64_t x = 0, r;

		memcpy(&x, a + i * esz, esz);
		if (kind == 2) {
			uint64_t sign = (x >> (bits - 1)) & 1;
			unsigned c = count > bits - 1 ? bits - 1 : (unsigned)count;

			r = x >> c;
			if (sign && c)
				r |= ~0ull << (bits - c);
		} else if (count >= bits) {
			r = 0;
		} else if (kind == 0) {
			r = x << count;
		} else {
			r = x >> count;
		}
		memcpy(a + i * esz, &r, esz);
	}
	finish(cpu, in, a, w);
}

void sse_h_PSLLW(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 2, 0); }
void sse_h_PSLLD(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 4, 0); }
void sse_h_PSLLQ(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 8, 0); }
void sse_h_PSRLW(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 2, 1); }
void sse_h_PSRLD(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 4, 1); }
void sse_h_PSRLQ(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 8, 1); }
void sse_h_PSRAW(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 2, 2); }
void sse_h_PSRAD(struct soft_cpu *cpu, const struct soft_insn *in) { int_shift(cpu, in, 4, 2); }

static void byte_shift(struct soft_cpu *cpu, const struct soft_insn *in, bool left)
{
	uint8_t a[16], r[16] = { 0 };
	unsigned n = (unsigned)((uint64_t)in->op[1].imm & 0xff);
	uint8_t *d;

	fpu_check_sse(cpu);
	d = fpu_fx(cpu)->xmm[in->op[0].reg & 15];
	memcpy(a, d, 16);
	if (n < 16) {
		if (left)
			memcpy(r + n, a, 16 - n);
		else
			memcpy(r, a + n, 16 - n);
	}
	memcpy(d, r, 16);
}
void sse_h_PSLLDQ(struct soft_cpu *cpu, const struct soft_insn *in) { byte_shift(cpu, in, true); }
void sse_h_PSRLDQ(struct soft_cpu *cpu, const struct soft_insn *in) { byte_shift(cpu, in, false); }

/* ---- Packs and unpacks --------------------------------------------------- */

static void f_packsswb(uint8_t *d, const uint8_t *s, unsigned w)
{
	uint8_t r[16] = { 0 };
	unsigned n;

	W_CLAMP(w);
	n = w; /* output bytes, the first half from dest's words */
	for (unsigned i = 0; i < n; i++) {
		int16_t v;
		memcpy(&v, (i < n / 2 ? d : s) + (i % (n / 2)) * 2, 2);
		r[i] = (uint8_t)(int8_t)sat(v, -128, 127);
	}
	memcpy(d, r, w);
}

static void f_packuswb(uint8_t *d, const uint8_t *s, unsigned w)
{
	uint8_t r[16] = { 0 };
	unsigned n;

	W_CLAMP(w);
	n = w; /* output bytes, the first half from dest's words */
	for (unsigned i = 0; i < n; i++) {
		int16_t v;
		memcpy(&v, (i < n / 2 ? d : s) + (i % (n / 2)) * 2, 2);
		r[i] = (uint8_t)sat(v, 0, 255);
	}
	memcpy(d, r, w);
}

static void f_packssdw(uint8_t *d, const uint8_t *s, unsigned w)
{
	uint8_t r[16] = { 0 };
	unsigned n;

	W_CLAMP(w);
	n = w / 2; /* output words, the first half from dest's dwords */
	for (unsigned i = 0; i < n; i++) {
		int32_t v;
		int16_t o;
		memcpy(&v, (i < n / 2 ? d : s) + (i % (n / 2)) * 4, 4);
		o = (int16_t)sat(v, -32768, 32767);
		memcpy(r + i * 2, &o, 2);
	}
	memcpy(d, r, w);
}
void sse_h_PACKSSWB(struct soft_cpu *cpu, const struct soft_insn *in) { int_binop(cpu, in, f_packsswb); }
void sse_h_PACKUSWB(struct soft_cpu *cpu, const struct soft_insn *in) { int_binop(cpu, in, f_packuswb); }
void sse_h_PACKSSDW(struct soft_cpu *cpu, const struct soft_insn *in) { int_binop(cpu, in, f_packssdw); }

static void unpack(uint8_t *d, const uint8_t *s, unsigned w, unsigned esz, bool high)
{
	uint8_t r[16] = { 0 };
	unsigned base;

	W_CLAMP(w);
	base = high ? w / 2 : 0;

	for (unsigned i = 0; i < w / 2 / esz; i++) {
		memcpy(r + 2 * i * esz, d + base + i * esz, esz);
		memcpy(r + (2 * i + 1) * esz, s + base + i * esz, esz);
	}
	memcpy(d, r, w);
}

#define UNPACK(name, esz, high)                                                              \
	static void f_##name(uint8_t *d, const uint8_t *s, unsigned w) { unpack(d, s, w, esz, high); } \
	void sse_h_##name(struct soft_cpu *cpu, const struct soft_insn *in) { int_binop(cpu, in, f_##name); }
UNPACK(PUNPCKLBW, 1, false)
UNPACK(PUNPCKLWD, 2, false)
UNPACK(PUNPCKLDQ, 4, false)
UNPACK(PUNPCKLQDQ, 8, false)
UNPACK(PUNPCKHBW, 1, true)
UNPACK(PUNPCKHWD, 2, true)
UNPACK(PUNPCKHDQ, 4, true)
UNPACK(PUNPCKHQDQ, 8, true)

/* ---- Shuffles, inserts, extracts ------------------------------------------ */

/* dest = shuffle(src, imm): esz-byte elements, the first n elements of each half shuffled. */
static void int_shuffle(struct soft_cpu *cpu, const struct soft_insn *in, unsigned esz, unsigned off)
{
	uint8_t b[16] = { 0 }, r[16];
	unsigned w = sse_int_begin(cpu, in), imm = (unsigned)in->op[2].imm;

	sse_vread(cpu, in, 1, b, w, true);
	memcpy(r, b, 16);
	for (unsigned i = 0; i < 4; i++)
		memcpy(r + off + i * esz, b + off + ((imm >> (2 * i)) & 3) * esz, esz);
	finish(cpu, in, r, w);
}
void sse_h_PSHUFD(struct soft_cpu *cpu, const struct soft_insn *in) { int_shuffle(cpu, in, 4, 0); }
void sse_h_PSHUFLW(struct soft_cpu *cpu, const struct soft_insn *in) { int_shuffle(cpu, in, 2, 0); }
void sse_h_PSHUFHW(struct soft_cpu *cpu, const struct soft_insn *in) { int_shuffle(cpu, in, 2, 8); }
void sse_h_PSHUFW(struct soft_cpu *cpu, const struct soft_insn *in) { int_shuffle(cpu, in, 2, 0); }

void sse_h_PINSRW(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint8_t a[16] = { 0 };
	unsigned w = sse_int_begin(cpu, in);
	uint16_t v = (uint16_t)soft_op_read(cpu, in, 1);
	unsigned idx = (unsigned)in->op[2].imm & (w / 2 - 1);

	sse_vread(cpu, in, 0, a, w, false);
	memcpy(a + idx * 2, &v, 2);
	finish(cpu, in, a, w);
}

void sse_h_PEXTRW(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint8_t a[16] = { 0 };
	unsigned w = sse_int_begin(cpu, in);
	unsigned idx = (unsigned)in->op[2].imm & (w / 2 - 1);
	uint16_t v;

	sse_vread(cpu, in, 1, a, w, false);
	memcpy(&v, a + idx * 2, 2);
	if (w == 8)
		fpu_mmx_transition(cpu);
	soft_op_write(cpu, in, 0, v);
}

void sse_h_PMOVMSKB(struct soft_cpu *cpu, const struct soft_insn *in)
{
	uint8_t a[16] = { 0 };
	unsigned w = sse_int_begin(cpu, in);
	uint64_t m = 0;

	sse_vread(cpu, in, 1, a, w, false);
	for (unsigned i = 0; i < w; i++)
		m |= (uint64_t)(a[i] >> 7) << i;
	if (w == 8)
		fpu_mmx_transition(cpu);
	soft_op_write(cpu, in, 0, m);
}
