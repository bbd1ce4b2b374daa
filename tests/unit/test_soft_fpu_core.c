// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft x87/SSE/MMX handlers inside the real software CPU (decode,
 * dispatch, memory): a 32-bit flat protected-mode program using x87,
 * SSE, SSE2 and MMX instructions runs to HLT, and its results in memory
 * and registers are checked; FCOMI's flags after lazily-flagged
 * integer instructions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "accel/soft/fpu.h"
#include "accel/soft/soft_cpu.h"
#include "hw/memory.h"

#define MEM_SIZE (1u << 20)

struct ctx {
	struct guest_mem mem;
	struct soft_cpu *cpu;
};

static struct ctx *ctx_new(void)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct soft_env env = { 0 };

	assert_non_null(c);
	assert_int_equal(guest_mem_init(&c->mem, MEM_SIZE), 0);
	env.mem = &c->mem;
	env.opaque = c;
	c->cpu = soft_cpu_new(&env, 0);
	assert_non_null(c->cpu);
	return c;
}

static void ctx_free(struct ctx *c)
{
	soft_cpu_free(c->cpu);
	guest_mem_destroy(&c->mem);
	free(c);
}

static void put(struct ctx *c, uint64_t gpa, const void *b, size_t n)
{
	assert_int_equal(guest_mem_write(&c->mem, gpa, b, n), 0);
	soft_code_invalidate(gpa, n);
}

static void get(struct ctx *c, uint64_t gpa, void *b, size_t n)
{
	assert_int_equal(guest_mem_read(&c->mem, gpa, b, n), 0);
}

static void flat32(struct ctx *c, uint64_t rip)
{
	struct x86_cpu_state *s = soft_cpu_state(c->cpu);
	struct x86_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 0xb, .s = 1,
				    .present = 1, .db = 1, .g = 1 };
	struct x86_segment data = code;

	data.selector = 0x10;
	data.type = 0x3;
	s->seg[X86_CS] = code;
	for (unsigned i = 0; i < 6; i++)
		if (i != X86_CS)
			s->seg[i] = data;
	s->cr0 = 0x33; /* PE MP ET NE */
	s->cr4 = 0x600; /* OSFXSR OSXMMEXCPT */
	s->rip = rip;
	s->rflags = 2;
	s->gpr[X86_RSP] = 0x8000;
	soft_cpu_state_changed(c->cpu);
}

static void test_program(void **state)
{
	/* tests/unit: assembled with as --32 from the listing in the comments. */
	static const uint8_t prog[] = {
		0xdb, 0xe3,				    /* fninit */
		0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1,	    /* fld1; fldpi; faddp */
		0xdd, 0x1d, 0x00, 0x20, 0x00, 0x00,	    /* fstp qword [0x2000] */
		0x0f, 0x28, 0x05, 0x00, 0x30, 0x00, 0x00,   /* movaps xmm0, [0x3000] */
		0x0f, 0x58, 0x05, 0x10, 0x30, 0x00, 0x00,   /* addps xmm0, [0x3010] */
		0x0f, 0x29, 0x05, 0x20, 0x30, 0x00, 0x00,   /* movaps [0x3020], xmm0 */
		0xf2, 0x0f, 0x2a, 0xc8,			    /* cvtsi2sd xmm1, eax */
		0xf2, 0x0f, 0x11, 0x0d, 0x30, 0x30, 0x00, 0x00, /* movsd [0x3030], xmm1 */
		0x66, 0x0f, 0xef, 0xd2,			    /* pxor xmm2, xmm2 */
		0x66, 0x0f, 0x74, 0xd0,			    /* pcmpeqb xmm2, xmm0 */
		0x66, 0x0f, 0xd7, 0xca,			    /* pmovmskb ecx, xmm2 */
		0x0f, 0x6e, 0xd9,			    /* movd mm3, ecx */
		0x0f, 0xfe, 0xdb,			    /* paddd mm3, mm3 */
		0x0f, 0x7f, 0x1d, 0x40, 0x30, 0x00, 0x00,   /* movq [0x3040], mm3 */
		0x0f, 0x77,				    /* emms */
		0xdb, 0x05, 0x50, 0x30, 0x00, 0x00,	    /* fild dword [0x3050] */
		0xd9, 0xfa,				    /* fsqrt */
		0xdb, 0x1d, 0x54, 0x30, 0x00, 0x00,	    /* fistp dword [0x3054] */
		0x0f, 0xae, 0x1d, 0x58, 0x30, 0x00, 0x00,   /* stmxcsr [0x3058] */
		0x66, 0x0f, 0x2e, 0x0d, 0x60, 0x30, 0x00, 0x00, /* ucomisd xmm1, [0x3060] */
		0x19, 0xd2,				    /* sbb edx, edx */
		0x0f, 0xae, 0x05, 0x00, 0x40, 0x00, 0x00,   /* fxsave [0x4000] */
		0xf4,					    /* hlt */
	};
	struct ctx *c = ctx_new();
	struct x86_cpu_state *s;
	float in[8] = { 1, 2, 3, 4, 0.5f, 0.25f, -3, 100 }, out[4];
	double d, eight = 8.0;
	int32_t n = 1000000, r;
	uint64_t mm;
	uint32_t mx;
	uint8_t img[512];

	(void)state;
	put(c, 0x1000, prog, sizeof(prog));
	put(c, 0x3000, in, sizeof(in));
	put(c, 0x3050, &n, 4);
	put(c, 0x3060, &eight, 8);
	flat32(c, 0x1000);
	s = soft_cpu_state(c->cpu);
	s->gpr[X86_RAX] = 7;
	assert_int_equal(soft_cpu_run_bounded(c->cpu, 1000), SOFT_EXIT_HLT);

	get(c, 0x2000, &d, 8);
	assert_true(d == 1.0 + 3.14159265358979323846);
	get(c, 0x3020, out, 16);
	assert_true(out[0] == 1.5f && out[1] == 2.25f && out[2] == 0.0f && out[3] == 104.0f);
	get(c, 0x3030, &d, 8);
	assert_true(d == 7.0);
	/* Zero bytes of xmm0 {1.5f, 2.25f, 0.0f, 104.0f}: mask 0x3f33, doubled in mm3. */
	get(c, 0x3040, &mm, 8);
	assert_int_equal(mm, 0x7e66);
	get(c, 0x3054, &r, 4);
	assert_int_equal(r, 1000);
	get(c, 0x3058, &mx, 4);
	assert_int_equal(mx, 0x1f80); /* every SSE result above is exact */
	/* 7 < 8: CF set, sbb gives -1. */
	assert_int_equal((uint32_t)s->gpr[X86_RDX], 0xffffffffu);
	get(c, 0x4000, img, 512);
	assert_int_equal(img[0], 0x7f); /* fcw */
	assert_int_equal(img[4], 0);	/* ftw: stack empty after emms and fistp */
	assert_int_equal(soft_fpu_full_tag_word(&s->fpu), 0xffff);
	assert_memory_equal(img + 160 + 16, s->fpu.xmm[1], 16);
	ctx_free(c);
}

/*
 * FCOMI after a flag-writing integer instruction (the lazy flags of
 * flags.c): ZF PF CF from the comparison (111 for a masked stack
 * underflow), OF SF AF cleared; with an unmasked #IS, ZF PF CF keep the
 * ADD's (the soft CPU reports GenuineIntel) and OF SF AF are cleared.
 */
static void test_fcomi_lazy_flags(void **state)
{
	static const uint8_t prog[] = {
		0xdb, 0xe3,			    /* fninit */
		0xd9, 0xee,			    /* fldz */
		0xb0, 0x7f, 0x04, 0x01,		    /* mov al, 0x7f; add al, 1: OF SF AF */
		0xdb, 0xf1,			    /* fcomi st0, st1 (empty, masked) */
		0x9c, 0x5b,			    /* pushfd; pop ebx */
		0xd9, 0xe8,			    /* fld1 */
		0xb0, 0x7f, 0x04, 0x01,		    /* mov al, 0x7f; add al, 1 */
		0xdb, 0xf1,			    /* fcomi st0, st1: 1 > 0 */
		0x9c, 0x59,			    /* pushfd; pop ecx */
		0xdb, 0xe2,			    /* fnclex */
		0xd9, 0x2d, 0x00, 0x30, 0x00, 0x00, /* fldcw [0x3000]: IM unmasked */
		0xdd, 0xd8, 0xdd, 0xd8,		    /* fstp st0; fstp st0 */
		0xd9, 0xee,			    /* fldz */
		0xb0, 0x88, 0x04, 0x88,		    /* mov al, 0x88; add al, 0x88: CF AF OF */
		0xdb, 0xf1,			    /* fcomi st0, st1 (empty, unmasked) */
		0x9c, 0x5a,			    /* pushfd; pop edx */
		0xdf, 0xe0,			    /* fnstsw ax */
		0xf4,				    /* hlt */
	};
	struct ctx *c = ctx_new();
	struct x86_cpu_state *s;
	uint16_t cw = 0x037e;

	(void)state;
	put(c, 0x1000, prog, sizeof(prog));
	put(c, 0x3000, &cw, 2);
	flat32(c, 0x1000);
	s = soft_cpu_state(c->cpu);
	assert_int_equal(soft_cpu_run_bounded(c->cpu, 1000), SOFT_EXIT_HLT);
	assert_int_equal((uint32_t)s->gpr[X86_RBX], 0x47);
	assert_int_equal((uint32_t)s->gpr[X86_RCX], 0x2);
	assert_int_equal((uint32_t)s->gpr[X86_RDX], 0x3);
	/* IE SF ES B, TOP 7, no pop */
	assert_int_equal((uint16_t)s->gpr[X86_RAX], 0xb8c1);
	ctx_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_program),
		cmocka_unit_test(test_fcomi_lazy_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
