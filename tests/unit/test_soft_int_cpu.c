// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft integer handlers inside the real software CPU (64-bit mode,
 * paging): REP MOVS/STOS on RAM (the host-memory fast path) across pages
 * that are not contiguous in guest-physical memory, both directions,
 * overlapping copies, checked against an element-by-element model; and a
 * short throughput figure for an integer loop.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "accel/soft/soft_cpu.h"
#include "accel/soft/soft_debug.h"
#include "hw/memory.h"

#define MEM_SIZE (8u << 20)
#define GDT 0x1000
#define CODE 0x10000
#define PML4 0x20000
#define PDPT 0x21000
#define PD 0x22000
#define PT 0x23000
#define STACK 0x9000
/* Linear 2 MiB..4 MiB maps, page i, to physical 4 MiB + (511 - i) pages: neighbours are far apart. */
#define LIN 0x200000ull
#define PHYS 0x400000ull

static struct guest_mem mem;
static struct soft_cpu *cpu;

static void put(uint64_t gpa, const void *b, size_t n)
{
	assert_int_equal(guest_mem_write(&mem, gpa, b, n), 0);
	soft_code_invalidate(gpa, n);
}

static void put64(uint64_t gpa, uint64_t v)
{
	put(gpa, &v, 8);
}

static uint8_t *lin_ptr(uint64_t lin)
{
	uint64_t page = (lin - LIN) >> 12;

	return guest_mem_ptr(&mem, PHYS + ((511 - page) << 12) + (lin & 0xfff), 1);
}

static int setup(void **state)
{
	struct soft_env env = { 0 };
	struct x86_cpu_state *s;
	uint64_t gdt[3] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull };

	(void)state;
	assert_int_equal(guest_mem_init(&mem, MEM_SIZE), 0);
	env.mem = &mem;
	cpu = soft_cpu_new(&env, 0);
	assert_non_null(cpu);
	s = soft_cpu_state(cpu);
	put(GDT, gdt, sizeof(gdt));
	put64(PML4, PDPT | 3);
	put64(PDPT, PD | 3);
	put64(PD, 0x83);	  /* 0-2 MiB identity */
	put64(PD + 8, PT | 3); /* 2-4 MiB scattered */
	for (unsigned i = 0; i < 512; i++)
		put64(PT + 8 * i, (PHYS + ((511ull - i) << 12)) | 3);
	s->cr0 = 0x80050033;
	s->cr4 = 0x20;
	s->cr3 = PML4;
	s->efer = 0xd00;
	s->gdt.base = GDT;
	s->gdt.limit = sizeof(gdt) - 1;
	s->seg[X86_CS] = (struct x86_segment){ .selector = 8, .limit = 0xffffffff, .type = 0xb, .s = 1,
					       .present = 1, .l = 1, .g = 1 };
	for (unsigned r = X86_ES; r <= X86_GS; r++)
		if (r != X86_CS)
			s->seg[r] = (struct x86_segment){ .selector = 0x10, .limit = 0xffffffff, .type = 3,
							  .s = 1, .present = 1, .db = 1, .g = 1 };
	s->gpr[X86_RSP] = STACK;
	s->rip = CODE;
	s->rflags = 2;
	soft_cpu_state_changed(cpu);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	soft_cpu_free(cpu);
	guest_mem_destroy(&mem);
	return 0;
}

/* Runs code at CODE (ending in HLT) to completion. */
static void run(const uint8_t *code, size_t n)
{
	struct x86_cpu_state *s = soft_cpu_state(cpu);

	put(CODE, code, n);
	s->rip = CODE;
	s->mp_state = X86_MP_RUNNABLE; /* after the HLT of the previous run */
	soft_cpu_state_changed(cpu);
	assert_int_equal(soft_cpu_run_bounded(cpu, 100000), SOFT_EXIT_HLT);
	if (s->rip != CODE + n)
		soft_cpu_dump(cpu, stderr);
	assert_int_equal(s->rip, CODE + n);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The 2 MiB linear window as one image, page by page. */
static void img_read(uint8_t *img)
{
	for (unsigned pg = 0; pg < 512; pg++)
		memcpy(img + pg * 4096, lin_ptr(LIN + pg * 4096ull), 4096);
}

static void img_write(const uint8_t *img)
{
	for (unsigned pg = 0; pg < 512; pg++)
		memcpy(lin_ptr(LIN + pg * 4096ull), img + pg * 4096, 4096);
}

/* The model: element-by-element MOVS (movs) or STOS over lin_ptr(). */
static void model(bool movs, unsigned n, bool back, uint64_t si, uint64_t di, uint64_t cnt, uint64_t rax)
{
	for (uint64_t i = 0; i < cnt; i++) {
		uint8_t e[8];

		if (movs)
			for (unsigned b = 0; b < n; b++)
				e[b] = *lin_ptr(si + b);
		else
			memcpy(e, &rax, n);
		for (unsigned b = 0; b < n; b++)
			*lin_ptr(di + b) = e[b];
		si += back ? -(uint64_t)n : n;
		di += back ? -(uint64_t)n : n;
	}
}

static void test_rep_fast(void **state)
{
	static const uint8_t ops[][3] = {
		{ 0xf3, 0xa4 }, { 0xf3, 0xa5 }, { 0xf3, 0x48, 0xa5 }, { 0xf3, 0x66, 0xa5 },
		{ 0xf3, 0xaa }, { 0xf3, 0xab }, { 0xf3, 0x48, 0xab }, { 0xf3, 0x66, 0xab },
	};
	static const unsigned size[] = { 1, 4, 8, 2, 1, 4, 8, 2 };
	static uint8_t before[2u << 20], expect[2u << 20];
	struct x86_cpu_state *s = soft_cpu_state(cpu);

	(void)state;
	for (unsigned it = 0; it < 200; it++) {
		unsigned k = it % 8, n = size[k];
		bool movs = k < 4, back = rnd() & 1;
		uint64_t cnt = rnd() % (it < 100 ? 64 : 9000);
		uint64_t si = LIN + 0x40000 + rnd() % 0x80000, di;
		uint64_t rax = rnd();
		uint8_t code[8];
		unsigned len = ops[k][2] ? 3 : 2;

		/* overlapping copies a third of the time */
		di = (rnd() % 3 == 0) ? si + (rnd() % 64) - 32 : LIN + 0x40000 + rnd() % 0x80000;
		if (rnd() & 1) { /* aligned most of the time, as real copies are */
			si &= ~(uint64_t)(n - 1);
			di &= ~(uint64_t)(n - 1);
		}
		for (uint64_t a = 0; a < (2u << 20); a += 8) {
			uint64_t v = rnd();

			memcpy(before + a, &v, 8);
		}
		img_write(before);
		model(movs, n, back, si, di, cnt, rax);
		img_read(expect);
		img_write(before);

		s->gpr[X86_RSI] = si;
		s->gpr[X86_RDI] = di;
		s->gpr[X86_RCX] = cnt;
		s->gpr[X86_RAX] = rax;
		s->rflags = back ? 0x402 : 2;
		memcpy(code, ops[k], len);
		code[len] = 0xf4;
		run(code, len + 1);
		img_read(before);
		for (uint64_t a = 0; a < (2u << 20); a++)
			if (before[a] != expect[a]) {
				fprintf(stderr, "it %u op %u n %u back %d si %#lx di %#lx cnt %lu: byte %#lx\n", it, k,
					n, back, (unsigned long)si, (unsigned long)di, (unsigned long)cnt,
					(unsigned long)(LIN + a));
				fail();
			}
		assert_int_equal(s->gpr[X86_RCX], 0);
		assert_int_equal(s->gpr[X86_RDI], di + (back ? -(cnt * n) : cnt * n));
		if (movs)
			assert_int_equal(s->gpr[X86_RSI], si + (back ? -(cnt * n) : cnt * n));
	}
}

/* A fault in the middle of REP STOSQ: the elements before the hole are done, RCX/RDI say so. */
static void test_rep_fault(void **state)
{
	struct x86_cpu_state *s = soft_cpu_state(cpu);
	static const uint8_t code[] = { 0xf3, 0x48, 0xab, 0xf4 };
	uint64_t idt = 0x3000, handler = 0x5000;
	uint8_t hlt = 0xf4;

	(void)state;
	/* #PF handler: HLT */
	put64(idt + 16 * 14, (handler & 0xffff) | (8ull << 16) | (0x8eull << 40));
	put64(idt + 16 * 14 + 8, 0);
	put(handler, &hlt, 1);
	s->idt.base = idt;
	s->idt.limit = 16 * 256 - 1;
	put64(PT + 8 * 100, 0); /* linear page 100 not present */
	soft_cpu_state_changed(cpu);
	s->gpr[X86_RDI] = LIN + 99 * 4096 + 4000;
	s->gpr[X86_RCX] = 1000;
	s->gpr[X86_RAX] = 0x1111111111111111ull;
	put(CODE, code, sizeof(code));
	s->rip = CODE;
	assert_int_equal(soft_cpu_run_bounded(cpu, 100000), SOFT_EXIT_HLT);
	assert_int_equal(s->rip, handler + 1);
	assert_int_equal(s->cr2, LIN + 100 * 4096);
	assert_int_equal(s->gpr[X86_RDI], LIN + 100 * 4096);
	assert_int_equal(s->gpr[X86_RCX], 1000 - 12);

	/* downwards (DF=1) into the hole: CR2 is the first element below the page */
	s->gpr[X86_RSP] = STACK;
	s->gpr[X86_RDI] = LIN + 101 * 4096 + 8;
	s->gpr[X86_RCX] = 1000;
	s->rflags = 0x402;
	s->rip = CODE;
	s->mp_state = X86_MP_RUNNABLE;
	assert_int_equal(soft_cpu_run_bounded(cpu, 100000), SOFT_EXIT_HLT);
	assert_int_equal(s->rip, handler + 1);
	assert_int_equal(s->cr2, LIN + 100 * 4096 + 4088);
	assert_int_equal(s->gpr[X86_RDI], LIN + 100 * 4096 + 4088);
	assert_int_equal(s->gpr[X86_RCX], 1000 - 2);
}

static void *run_thread(void *arg)
{
	struct soft_cpu *c = arg;

	return (void *)(uintptr_t)soft_cpu_run_bounded(c, 50000000);
}

/* LOCK'ed read-modify-writes from two CPUs on two threads lose no update. */
static void test_lock_two_cpus(void **state)
{
	static const uint8_t code[] = {
		0xb9, 0x40, 0x0d, 0x03, 0x00,		    /* mov ecx, 200000 */
		0xb8, 0x01, 0x00, 0x00, 0x00,		    /* mov eax, 1 */
		0xf0, 0x48, 0xff, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, /* lock inc qword [0x7000] */
		0xf0, 0x48, 0x0f, 0xc1, 0x04, 0x25, 0x08, 0x70, 0x00, 0x00, /* lock xadd [0x7008], rax */
		0x48, 0x89, 0xc2,			    /* mov rdx, rax */
		0xb8, 0x01, 0x00, 0x00, 0x00,		    /* mov eax, 1 */
		0xf0, 0x0f, 0xab, 0x04, 0x25, 0x10, 0x70, 0x00, 0x00, /* lock bts [0x7010], eax */
		0xf0, 0x0f, 0xb3, 0x04, 0x25, 0x10, 0x70, 0x00, 0x00, /* lock btr [0x7010], eax */
		0xff, 0xc9,				    /* dec ecx */
		0x75, 0xca,				    /* jnz (to the first mov eax, 1) */
		0xf4,
	};
	struct soft_env env = { 0 };
	struct soft_cpu *cpu1;
	struct x86_cpu_state *s0 = soft_cpu_state(cpu), *s1;
	pthread_t t0, t1;
	void *r0, *r1;
	uint64_t v[2];

	(void)state;
	env.mem = &mem;
	cpu1 = soft_cpu_new(&env, 1);
	assert_non_null(cpu1);
	s1 = soft_cpu_state(cpu1);
	put(CODE, code, sizeof(code));
	*s1 = *s0;
	s1->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(cpu1);
	assert_int_equal(pthread_create(&t0, NULL, run_thread, cpu), 0);
	assert_int_equal(pthread_create(&t1, NULL, run_thread, cpu1), 0);
	pthread_join(t0, &r0);
	pthread_join(t1, &r1);
	assert_int_equal((uintptr_t)r0, SOFT_EXIT_HLT);
	assert_int_equal((uintptr_t)r1, SOFT_EXIT_HLT);
	assert_int_equal(guest_mem_read(&mem, 0x7000, v, sizeof(v)), 0);
	assert_int_equal(v[0], 400000);
	assert_int_equal(v[1], 400000);
	soft_cpu_free(cpu1);
}

/* Integer loop throughput (informative; sanitizer build). */
static void test_throughput(void **state)
{
	static const uint8_t code[] = {
		0xb9, 0x40, 0x42, 0x0f, 0x00, /* mov ecx, 1000000 */
		0x01, 0xd8,		      /* add eax, ebx */
		0x31, 0xc2,		      /* xor edx, eax */
		0x83, 0xeb, 0x03,	      /* sub ebx, 3 */
		0x48, 0x8d, 0x34, 0x16,	      /* lea rsi, [rsi+rdx] */
		0x39, 0xd0,		      /* cmp eax, edx */
		0x0f, 0x42, 0xf8,	      /* cmovb edi, eax */
		0xff, 0xc9,		      /* dec ecx */
		0x75, 0xec,		      /* jnz */
		0xf4,
	};
	struct x86_cpu_state *s = soft_cpu_state(cpu);
	struct soft_cpu_stats st0, st1;
	struct timespec a, b;
	double t;

	(void)state;
	put(CODE, code, sizeof(code));
	s->rip = CODE;
	soft_cpu_get_stats(cpu, &st0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(soft_cpu_run_bounded(cpu, 20000000), SOFT_EXIT_HLT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	soft_cpu_get_stats(cpu, &st1);
	t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(s->gpr[X86_RCX], 0);
	assert_int_equal(st1.insns - st0.insns, 1 + 8 * 1000000 + 1);
	fprintf(stderr, "integer loop: %.1f M instructions/s (this build)\n",
		(double)(st1.insns - st0.insns) / t / 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rep_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rep_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_two_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
