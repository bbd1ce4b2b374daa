// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft core: mode transitions, paging faults and their error codes,
 * IDT delivery (IST, stack switch), double/triple fault, SYSCALL/SYSRET,
 * accessed/dirty bits, INVLPG, self-modifying code, HLT and interrupts,
 * real-mode IVT, instructions crossing a page. Code is hand-assembled
 * bytes in arrays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accel/soft/soft_cpu.h"
#include "accel/soft/soft_debug.h"
#include "hw/memory.h"

#define MEM_SIZE (4u << 20)

struct env_ctx {
	struct guest_mem mem;
	char out[256];
	unsigned nout;
	int irq_vector; /* -1: none */
	unsigned acks;
	struct soft_cpu *cpu;
};

static void t_pio(void *opaque, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	struct env_ctx *e = opaque;

	if (is_write && port == 0x3f8 && e->nout + 1 < sizeof(e->out))
		e->out[e->nout++] = (char)data[0];
	else if (!is_write)
		memset(data, 0xff, len);
}

static void t_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)opaque;
	(void)sub;
	out[0] = leaf == 0 ? 0xd : 0;
	out[1] = 0x756e6547;
	out[2] = 0x6c65746e;
	out[3] = 0x49656e69;
}

static int t_irq_ack(void *opaque)
{
	struct env_ctx *e = opaque;
	int v = e->irq_vector;

	e->acks++;
	e->irq_vector = -1;
	return v;
}

static struct env_ctx *ctx_new(void)
{
	struct env_ctx *e = calloc(1, sizeof(*e));
	struct soft_env env = { 0 };

	assert_non_null(e);
	assert_int_equal(guest_mem_init(&e->mem, MEM_SIZE), 0);
	e->irq_vector = -1;
	env.mem = &e->mem;
	env.opaque = e;
	env.pio = t_pio;
	env.cpuid = t_cpuid;
	env.irq_ack = t_irq_ack;
	e->cpu = soft_cpu_new(&env, 0);
	assert_non_null(e->cpu);
	return e;
}

static void ctx_free(struct env_ctx *e)
{
	soft_cpu_free(e->cpu);
	guest_mem_destroy(&e->mem);
	free(e);
}

static void put(struct env_ctx *e, uint64_t gpa, const void *b, size_t n)
{
	assert_int_equal(guest_mem_write(&e->mem, gpa, b, n), 0);
	soft_code_invalidate(gpa, n);
}

static void put64(struct env_ctx *e, uint64_t gpa, uint64_t v)
{
	put(e, gpa, &v, 8);
}

static uint64_t get64(struct env_ctx *e, uint64_t gpa)
{
	uint64_t v = 0;

	assert_int_equal(guest_mem_read(&e->mem, gpa, &v, 8), 0);
	return v;
}

/* ---- Real mode -> protected mode -> long mode ------------------------------------ */

static void test_mode_transitions(void **state)
{
	(void)state;
	struct env_ctx *e = ctx_new();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	static const uint8_t real[] = {
		0xfa,			      /* cli */
		0x0f, 0x01, 0x16, 0x00, 0x90, /* lgdt [0x9000] */
		0x0f, 0x20, 0xc0,	      /* mov eax, cr0 */
		0x0c, 0x01,		      /* or al, 1 */
		0x0f, 0x22, 0xc0,	      /* mov cr0, eax */
		0xea, 0x00, 0x81, 0x08, 0x00, /* jmp 0x08:0x8100 */
	};
	static const uint8_t prot[] = {
		0x66, 0xb8, 0x10, 0x00,		    /* mov ax, 0x10 */
		0x8e, 0xd8,			    /* mov ds, ax */
		0x8e, 0xd0,			    /* mov ss, ax */
		0x8e, 0xc0,			    /* mov es, ax */
		0xbc, 0x00, 0x70, 0x00, 0x00,	    /* mov esp, 0x7000 */
		0x66, 0xba, 0xf8, 0x03,		    /* mov dx, 0x3f8 */
		0xb0, 0x50,			    /* mov al, 'P' */
		0xee,				    /* out dx, al */
		0x0f, 0x20, 0xe0,		    /* mov eax, cr4 */
		0x83, 0xc8, 0x20,		    /* or eax, 0x20 */
		0x0f, 0x22, 0xe0,		    /* mov cr4, eax */
		0xb8, 0x00, 0x00, 0x01, 0x00,	    /* mov eax, 0x10000 */
		0x0f, 0x22, 0xd8,		    /* mov cr3, eax */
		0xb9, 0x80, 0x00, 0x00, 0xc0,	    /* mov ecx, EFER */
		0x0f, 0x32,			    /* rdmsr */
		0x0d, 0x00, 0x01, 0x00, 0x00,	    /* or eax, LME */
		0x0f, 0x30,			    /* wrmsr */
		0x0f, 0x20, 0xc0,		    /* mov eax, cr0 */
		0x0d, 0x00, 0x00, 0x00, 0x80,	    /* or eax, PG */
		0x0f, 0x22, 0xc0,		    /* mov cr0, eax */
		0xea, 0x00, 0x82, 0x00, 0x00, 0x18, 0x00, /* jmp 0x18:0x8200 */
	};
	static const uint8_t lm[] = {
		0x66, 0xba, 0xf8, 0x03, /* mov dx, 0x3f8 (RDMSR clobbered it) */
		0xb0, 0x4c, /* mov al, 'L' */
		0xee,	    /* out dx, al */
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rax, imm64 */
		0xf4, /* hlt */
	};
	uint64_t gdt[4] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull, 0x00af9a000000ffffull };
	uint8_t gdtr[6] = { 0x1f, 0, 0x00, 0x91, 0, 0 };

	put(e, 0x8000, real, sizeof(real));
	put(e, 0x8100, prot, sizeof(prot));
	put(e, 0x8200, lm, sizeof(lm));
	put(e, 0x9100, gdt, sizeof(gdt));
	put(e, 0x9000, gdtr, sizeof(gdtr));
	put64(e, 0x10000, 0x11000 | 3);
	put64(e, 0x11000, 0x12000 | 3);
	put64(e, 0x12000, 0x83);
	s->seg[X86_CS].selector = 0;
	s->seg[X86_CS].base = 0;
	s->rip = 0x8000;
	soft_cpu_state_changed(e->cpu);

	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	e->out[e->nout] = 0;
	if (strcmp(e->out, "PL"))
		soft_cpu_dump(e->cpu, stderr);
	assert_string_equal(e->out, "PL");
	s = soft_cpu_state(e->cpu);
	assert_true(s->efer & (1u << 10));
	assert_int_equal(s->seg[X86_CS].selector, 0x18);
	assert_int_equal(s->seg[X86_CS].l, 1);
	assert_int_equal(s->gpr[X86_RAX], 0x1122334455667788ull);
	assert_int_equal(s->rip, 0x8200 + sizeof(lm));
	ctx_free(e);
}

/* ---- Long-mode fixture ------------------------------------------------------------- */

#define GDT 0x1000
#define IDT 0x2000
#define TSS 0x3000
#define HANDLERS 0x5000 /* vector v: HANDLERS + 16 v, one HLT */
#define KSTACK 0x8000
#define IST1 0xa000
#define RSP0 0xc000
#define CODE 0x10000
#define PML4 0x20000
#define PDPT 0x21000
#define PD 0x22000
#define PT 0x23000 /* maps 2-4 MiB in 4 KiB pages */

#define KCS 0x08
#define KDS 0x10
#define TSS_SEL 0x30

static void set_gate(struct env_ctx *e, unsigned v, uint64_t target, unsigned ist, unsigned dpl)
{
	uint64_t lo = (target & 0xffff) | ((uint64_t)KCS << 16) | ((uint64_t)ist << 32) |
		      ((uint64_t)(0x8e | (dpl << 5)) << 40) | (((target >> 16) & 0xffff) << 48);

	put64(e, IDT + 16 * v, lo);
	put64(e, IDT + 16 * v + 8, target >> 32);
}

/* 64-bit kernel, identity paging: 0-2 MiB one 2 MiB page, 2-4 MiB 4 KiB pages. */
static struct env_ctx *long_mode(void)
{
	struct env_ctx *e = ctx_new();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	uint64_t gdt[8] = {
		0,
		0x00af9a000000ffffull, /* 0x08 kernel code 64 */
		0x00cf92000000ffffull, /* 0x10 kernel data */
		0x00cffa000000ffffull, /* 0x18 user code 32 */
		0x00cff2000000ffffull, /* 0x20 user data */
		0x00affa000000ffffull, /* 0x28 user code 64 */
		0,		       /* 0x30 TSS (16 bytes) */
		0,
	};
	uint64_t tss_lim = 103;

	gdt[6] = (tss_lim & 0xffff) | ((uint64_t)(TSS & 0xffffff) << 16) | (0x89ull << 40);
	put(e, GDT, gdt, sizeof(gdt));
	for (unsigned v = 0; v < 256; v++) {
		uint8_t hlt = 0xf4;

		put(e, HANDLERS + 16 * v, &hlt, 1);
		set_gate(e, v, HANDLERS + 16 * v, 0, 0);
	}
	put64(e, TSS + 4, RSP0);
	put64(e, TSS + 0x24, IST1);
	put64(e, PML4, PDPT | 7);
	put64(e, PDPT, PD | 7);
	put64(e, PD, 0x87);
	put64(e, PD + 8, PT | 7);
	for (unsigned i = 0; i < 512; i++)
		put64(e, PT + 8 * i, (0x200000 + 4096ull * i) | 7);

	s->cr0 = 0x80050033; /* PG WP NE ET MP PE */
	s->cr4 = 0x20;	     /* PAE */
	s->cr3 = PML4;
	s->efer = 0xd00;     /* NXE LMA LME */
	s->gdt.base = GDT;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.base = IDT;
	s->idt.limit = 16 * 256 - 1;
	memset(&s->seg[X86_CS], 0, sizeof(s->seg[0]));
	s->seg[X86_CS] = (struct x86_segment){ .selector = KCS, .limit = 0xffffffff, .type = 0xb, .s = 1,
					       .present = 1, .l = 1, .g = 1 };
	for (unsigned r = X86_ES; r <= X86_GS; r++) {
		if (r == X86_CS)
			continue;
		s->seg[r] = (struct x86_segment){ .selector = KDS, .limit = 0xffffffff, .type = 3, .s = 1,
						  .present = 1, .db = 1, .g = 1 };
	}
	s->seg[X86_TR] = (struct x86_segment){ .selector = TSS_SEL, .base = TSS, .limit = 103, .type = 0xb,
					       .present = 1 };
	s->gpr[X86_RSP] = KSTACK;
	s->rip = CODE;
	s->rflags = 2;
	soft_cpu_state_changed(e->cpu);
	return e;
}

static void run_code(struct env_ctx *e, const void *code, size_t n)
{
	put(e, CODE, code, n);
}

/* Ran into the handler of vector v (its HLT). */
static void assert_in_handler(struct env_ctx *e, unsigned v)
{
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);

	if (s->rip != HANDLERS + 16 * v + 1)
		soft_cpu_dump(e->cpu, stderr);
	assert_int_equal(s->rip, HANDLERS + 16 * v + 1);
}

static void test_pf_not_present(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00 }; /* mov rax, [0x300000] */

	put64(e, PT + 8 * 0x100, 0);
	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);

	assert_int_equal(s->cr2, 0x300000);
	assert_int_equal(s->gpr[X86_RSP], KSTACK - 48);
	assert_int_equal(get64(e, KSTACK - 48), 0);	/* error: read, not present, supervisor */
	assert_int_equal(get64(e, KSTACK - 40), CODE);	/* faulting RIP */
	assert_int_equal(get64(e, KSTACK - 32), KCS);
	ctx_free(e);
}

static void test_pf_write_protect(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	/* mov [0x301000], eax */
	static const uint8_t code[] = { 0x89, 0x04, 0x25, 0x00, 0x10, 0x30, 0x00 };

	put64(e, PT + 8 * 0x101, 0x301000 | 5); /* present, user, read-only */
	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	assert_int_equal(soft_cpu_state(e->cpu)->cr2, 0x301000);
	assert_int_equal(get64(e, KSTACK - 48), 3); /* P | W */
	ctx_free(e);
}

static void test_pf_user_and_stack_switch(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x30, 0x00 }; /* mov rax, [0x302000] */

	put64(e, PT + 8 * 0x102, 0x302000 | 3); /* supervisor only */
	run_code(e, code, sizeof(code));
	s->seg[X86_CS] = (struct x86_segment){ .selector = 0x2b, .limit = 0xffffffff, .type = 0xb, .s = 1,
					       .dpl = 3, .present = 1, .l = 1, .g = 1 };
	s->seg[X86_SS] = (struct x86_segment){ .selector = 0x23, .limit = 0xffffffff, .type = 3, .s = 1,
					       .dpl = 3, .present = 1, .db = 1, .g = 1 };
	s->gpr[X86_RSP] = 0x1ff000;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	s = soft_cpu_state(e->cpu);
	assert_int_equal(s->gpr[X86_RSP], RSP0 - 48);
	assert_int_equal(get64(e, RSP0 - 48), 5);	    /* P | U */
	assert_int_equal(get64(e, RSP0 - 32), 0x2b);	    /* CS */
	assert_int_equal(get64(e, RSP0 - 16), 0x1ff000); /* RSP */
	assert_int_equal(get64(e, RSP0 - 8), 0x23);	    /* SS */
	assert_int_equal(s->seg[X86_SS].selector, 0);
	assert_int_equal(s->seg[X86_CS].selector, KCS);
	ctx_free(e);
}

static void test_nx(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0xe9, 0xfb, 0x2f, 0x2f, 0x00 }; /* jmp 0x303000 */

	put64(e, PT + 8 * 0x103, 0x303000 | 3 | (1ull << 63));
	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	assert_int_equal(soft_cpu_state(e->cpu)->cr2, 0x303000);
	assert_int_equal(get64(e, KSTACK - 48), 0x11); /* P | I/D */
	assert_int_equal(get64(e, KSTACK - 40), 0x303000);
	ctx_free(e);
}

static void test_gp_noncanonical(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0x48, 0x8b, 0x03 }; /* mov rax, [rbx] */

	run_code(e, code, sizeof(code));
	soft_cpu_state(e->cpu)->gpr[X86_RBX] = 0x0000800000000000ull;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 13);
	assert_int_equal(get64(e, KSTACK - 48), 0);
	assert_int_equal(get64(e, KSTACK - 40), CODE);
	ctx_free(e);
}

static void test_ud(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0x0f, 0x0b };	    /* ud2 */
	static const uint8_t code2[] = { 0x0f, 0x01, 0xc1 }; /* vmcall: not implemented */

	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 6);
	assert_int_equal(get64(e, KSTACK - 40), CODE);
	ctx_free(e);

	e = long_mode();
	run_code(e, code2, sizeof(code2));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 6);
	ctx_free(e);
}

static void test_de(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0x31, 0xc9, 0x48, 0xf7, 0xf1 }; /* xor ecx, ecx; div rcx */

	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 0);
	assert_int_equal(get64(e, KSTACK - 40), CODE + 2);
	ctx_free(e);
}

static void test_double_and_triple_fault(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x30, 0x00 }; /* mov rax, [0x300000] */
	struct x86_cpu_state *s;

	/* #PF whose gate is not present: #NP while delivering #PF -> #DF. */
	put64(e, PT + 8 * 0x100, 0);
	put64(e, IDT + 16 * 14 + 0, 0);
	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 8);
	assert_int_equal(get64(e, KSTACK - 48), 0);
	ctx_free(e);

	/* No usable IDT at all: triple fault. */
	e = long_mode();
	s = soft_cpu_state(e->cpu);
	s->idt.limit = 0;
	soft_cpu_state_changed(e->cpu);
	run_code(e, code, sizeof(code));
	put64(e, PT + 8 * 0x100, 0);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_SHUTDOWN);
	assert_int_equal(soft_cpu_state(e->cpu)->mp_state, X86_MP_STOPPED);
	ctx_free(e);
}

static void test_ist(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0xcc }; /* int3 */

	set_gate(e, 3, HANDLERS + 16 * 3, 1, 3);
	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 3);
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RSP], IST1 - 40);
	assert_int_equal(get64(e, IST1 - 40), CODE + 1); /* trap: next instruction */
	assert_int_equal(get64(e, IST1 - 16), KSTACK);
	ctx_free(e);
}

static void test_syscall_sysret(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	static const uint8_t code[] = {
		0x0f, 0x05, /* syscall */
		0x0f, 0x0b, /* ud2 (user, after sysret) */
	};
	static const uint8_t entry[] = {
		0x48, 0x89, 0xcb, /* mov rbx, rcx */
		0x48, 0x0f, 0x07, /* sysretq */
	};

	put(e, 0x11000, entry, sizeof(entry));
	run_code(e, code, sizeof(code));
	s->msr.star = (0x18ull << 48) | ((uint64_t)KCS << 32);
	s->msr.lstar = 0x11000;
	s->msr.sfmask = 0x200;
	s->efer |= 1;
	s->rflags = 0x202;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 6);
	s = soft_cpu_state(e->cpu);
	assert_int_equal(s->gpr[X86_RBX], CODE + 2);
	assert_int_equal(s->gpr[X86_R11] & 0x200, 0x200);
	assert_int_equal(get64(e, RSP0 - 40), CODE + 2); /* #UD at CPL 3 */
	assert_int_equal(get64(e, RSP0 - 32), 0x2b);
	assert_int_equal(get64(e, RSP0 - 8), 0x23);
	ctx_free(e);
}

static void test_accessed_dirty(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x40, 0x30, 0x00, /* mov rax, [0x304000] */
		0x48, 0x89, 0x04, 0x25, 0x00, 0x50, 0x30, 0x00, /* mov [0x305000], rax */
		0xf4,
	};

	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->rip, CODE + sizeof(code));
	assert_int_equal(get64(e, PT + 8 * 0x104) & 0x60, 0x20); /* A, not D */
	assert_int_equal(get64(e, PT + 8 * 0x105) & 0x60, 0x60); /* A and D */
	assert_int_equal(get64(e, PML4) & 0x20, 0x20);
	ctx_free(e);
}

static void test_invlpg(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = {
		0x48, 0x8b, 0x04, 0x25, 0x00, 0x60, 0x30, 0x00, /* mov rax, [0x306000] */
		0x48, 0x89, 0x1c, 0x25, 0x30, 0x38, 0x02, 0x00, /* mov [PT + 8*0x106], rbx */
		0x0f, 0x01, 0x3c, 0x25, 0x00, 0x60, 0x30, 0x00, /* invlpg [0x306000] */
		0x48, 0x8b, 0x0c, 0x25, 0x00, 0x60, 0x30, 0x00, /* mov rcx, [0x306000] */
		0xf4,
	};
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);

	put64(e, 0x306000, 0x1111);
	put64(e, 0x307000, 0x2222);
	s->gpr[X86_RBX] = 0x307000 | 3;
	soft_cpu_state_changed(e->cpu);
	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	s = soft_cpu_state(e->cpu);
	assert_int_equal(s->gpr[X86_RAX], 0x1111);
	assert_int_equal(s->gpr[X86_RCX], 0x2222);
	ctx_free(e);
}

static void test_self_modifying(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = {
		0x31, 0xc0,				  /* xor eax, eax */
		0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x42, /* mov byte [rip+1], 0x42 */
		0xb0, 0x00,				  /* mov al, 0 -> 0x42 */
		0xf4,
	};

	run_code(e, code, sizeof(code));
	/* Decode it once first (the block is cached), then run it again. */
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	if (soft_cpu_state(e->cpu)->gpr[X86_RAX] != 0x42) {
		soft_cpu_dump(e->cpu, stderr);
		fprintf(stderr, "byte %#llx\n", (unsigned long long)get64(e, CODE + 8));
	}
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RAX], 0x42);
	run_code(e, code, sizeof(code));
	soft_cpu_state(e->cpu)->rip = CODE;
	soft_cpu_state(e->cpu)->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RAX], 0x42);
	ctx_free(e);
}

static void test_hlt_interrupt(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0xfb, 0xf4, 0xf4 }; /* sti; hlt; hlt */

	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->rip, CODE + 2);
	assert_int_equal(soft_cpu_state(e->cpu)->mp_state, X86_MP_HALTED);
	e->irq_vector = 0x20;
	soft_cpu_post(e->cpu, SOFT_EVENT_IRQ);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 0x20);
	assert_int_equal(get64(e, KSTACK - 40), CODE + 2);
	assert_int_equal(soft_cpu_state(e->cpu)->rflags & 0x200, 0);

	/* Kick. */
	soft_cpu_post(e->cpu, SOFT_EVENT_KICK);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_KICK);
	ctx_free(e);
}

static void test_real_mode_ivt(void **state)
{
	(void)state;
	struct env_ctx *e = ctx_new();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	static const uint8_t code[] = {
		0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
		0xcd, 0x10,	  /* int 0x10 */
		0xb0, 0x42,	  /* mov al, 'B' */
		0xee,		  /* out dx, al */
		0xf4,
	};
	static const uint8_t handler[] = { 0xb0, 0x41, 0xee, 0xcf }; /* mov al,'A'; out dx,al; iret */
	uint16_t ivt[2] = { 0x0000, 0x0600 };				  /* 0600:0000 */

	put(e, 0x7c00, code, sizeof(code));
	put(e, 0x6000, handler, sizeof(handler));
	put(e, 0x10 * 4, ivt, 4);
	s->seg[X86_CS].selector = 0x7c0;
	s->seg[X86_CS].base = 0x7c00;
	s->rip = 0;
	s->idt.base = 0;
	s->idt.limit = 0x3ff;
	s->seg[X86_SS].base = 0;
	s->gpr[X86_RSP] = 0x7000;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	e->out[e->nout] = 0;
	assert_string_equal(e->out, "AB");
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RSP], 0x7000);
	ctx_free(e);
}

static void test_cross_page_insn(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = {
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* mov rax, imm64 */
		0xf4,
	};
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);

	put(e, 0x11ffc, code, sizeof(code));
	s->rip = 0x11ffc;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	s = soft_cpu_state(e->cpu);
	assert_int_equal(s->gpr[X86_RAX], 0x1122334455667788ull);
	assert_int_equal(s->rip, 0x11ffc + sizeof(code));

	/* The second page is not present: #PF on the fetch, CR2 = its start. */
	put(e, 0x308ffc, code, sizeof(code));
	put64(e, PT + 8 * 0x109, 0);
	s->rip = 0x308ffc;
	s->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	assert_int_equal(soft_cpu_state(e->cpu)->cr2, 0x309000);
	assert_int_equal(get64(e, KSTACK - 48), 0x10); /* I/D, not present */
	ctx_free(e);
}

static void test_bounded(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0xeb, 0xfe }; /* jmp $ */
	struct soft_cpu_stats st;

	run_code(e, code, sizeof(code));
	assert_int_equal(soft_cpu_run_bounded(e->cpu, 1000), SOFT_EXIT_KICK);
	soft_cpu_get_stats(e->cpu, &st);
	assert_int_equal(st.insns, 1000);
	ctx_free(e);
}

static void test_init_sipi(void **state)
{
	(void)state;
	struct env_ctx *e = calloc(1, sizeof(*e));
	struct soft_env env = { 0 };
	static const uint8_t code[] = { 0xba, 0xf8, 0x03, 0xb0, 0x53, 0xee, 0xf4 }; /* mov dx; mov al,'S'; out; hlt */

	assert_int_equal(guest_mem_init(&e->mem, MEM_SIZE), 0);
	env.mem = &e->mem;
	env.opaque = e;
	env.pio = t_pio;
	e->cpu = soft_cpu_new(&env, 1); /* an application processor */
	assert_non_null(e->cpu);
	put(e, 0x8000, code, sizeof(code));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_WAIT_SIPI);
	soft_cpu_state(e->cpu)->events.sipi_vector = 0x08;
	soft_cpu_post(e->cpu, SOFT_EVENT_SIPI);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	e->out[e->nout] = 0;
	assert_string_equal(e->out, "S");
	assert_int_equal(soft_cpu_state(e->cpu)->seg[X86_CS].selector, 0x0800);
	soft_cpu_post(e->cpu, SOFT_EVENT_INIT);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_WAIT_SIPI);

	/* INIT and SIPI seen at the same block boundary: the vector survives the INIT. */
	soft_cpu_state(e->cpu)->events.sipi_vector = 0x08;
	soft_cpu_post(e->cpu, SOFT_EVENT_INIT | SOFT_EVENT_SIPI);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->seg[X86_CS].selector, 0x0800);
	ctx_free(e);
}

/* 32-bit protected mode: 8-byte gates, non-PAE paging with a 4 MiB page. */
static void test_protected_mode_idt_paging(void **state)
{
	(void)state;
	struct env_ctx *e = ctx_new();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	static const uint8_t code[] = {
		0xcd, 0x30,			    /* int 0x30 */
		0xa1, 0x00, 0x00, 0x80, 0x00,	    /* mov eax, [0x800000] */
	};
	uint32_t pde0 = 0x83; /* 4 MiB page at 0, writable */

	put(e, 0x1000, gdt, sizeof(gdt));
	for (unsigned v = 0; v < 64; v++) {
		uint32_t h = 0x5000 + 16 * v;
		uint64_t g = (h & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | ((uint64_t)(h >> 16) << 48);
		uint8_t hlt = 0xf4;

		put64(e, 0x2000 + 8 * v, g);
		put(e, h, &hlt, 1);
	}
	put(e, 0x20000, &pde0, 4);
	put(e, CODE, code, sizeof(code));
	s->cr0 = 0x80000011;
	s->cr4 = 0x10; /* PSE */
	s->cr3 = 0x20000;
	s->gdt.base = 0x1000;
	s->gdt.limit = 23;
	s->idt.base = 0x2000;
	s->idt.limit = 64 * 8 - 1;
	s->seg[X86_CS] = (struct x86_segment){ .selector = 8, .limit = 0xffffffff, .type = 0xb, .s = 1,
					       .present = 1, .db = 1, .g = 1 };
	for (unsigned r = X86_ES; r <= X86_GS; r++)
		if (r != X86_CS)
			s->seg[r] = (struct x86_segment){ .selector = 0x10, .limit = 0xffffffff, .type = 3, .s = 1,
							  .present = 1, .db = 1, .g = 1 };
	s->gpr[X86_RSP] = KSTACK;
	s->rip = CODE;
	s->rflags = 0x202;
	soft_cpu_state_changed(e->cpu);

	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->rip, 0x5000 + 16 * 0x30 + 1);
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RSP], KSTACK - 12);
	assert_int_equal(get64(e, KSTACK - 12) & 0xffffffff, CODE + 2); /* EIP */
	assert_int_equal(get64(e, KSTACK - 8) & 0xffffffff, 8);	     /* CS */
	assert_int_equal(get64(e, KSTACK - 4) & 0x200, 0x200);	     /* EFLAGS.IF */
	assert_int_equal(soft_cpu_state(e->cpu)->rflags & 0x200, 0);

	s = soft_cpu_state(e->cpu);
	s->rip = CODE + 2;
	s->gpr[X86_RSP] = KSTACK;
	s->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->rip, 0x5000 + 16 * 14 + 1);
	assert_int_equal(soft_cpu_state(e->cpu)->cr2, 0x800000);
	assert_int_equal(get64(e, KSTACK - 16) & 0xffffffff, 0);	    /* error code */
	assert_int_equal(get64(e, KSTACK - 12) & 0xffffffff, CODE + 2); /* EIP */
	ctx_free(e);
}

static void test_single_step(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0x90, 0x90 }; /* nop; nop */

	run_code(e, code, sizeof(code));
	soft_cpu_state(e->cpu)->rflags = 0x102; /* TF */
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 1);
	assert_int_equal(get64(e, KSTACK - 40), CODE + 1); /* trap after the first NOP */
	assert_int_equal(get64(e, KSTACK - 24) & 0x100, 0x100);
	assert_true(soft_cpu_state(e->cpu)->dr[6] & (1u << 14));
	ctx_free(e);
}

static void test_tsc(void **state)
{
	(void)state;
	struct env_ctx *e = ctx_new();
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);
	uint64_t t0 = s->tsc;

	usleep(2000);
	soft_cpu_state_changed(e->cpu); /* a read written back: the TSC goes on */
	assert_true(soft_cpu_tsc(e->cpu) >= t0 + 2000000);
	s = soft_cpu_state(e->cpu);
	s->tsc = 5000000000ull; /* a TSC write */
	soft_cpu_state_changed(e->cpu);
	assert_true(soft_cpu_tsc(e->cpu) >= 5000000000ull);
	assert_true(soft_cpu_tsc(e->cpu) < 5000000000ull + 1000000000ull);
	ctx_free(e);
}

/* More decoded blocks than the code cache holds: it is flushed and refilled. */
static void test_code_cache_full(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	enum { N = 40000 };
	uint8_t *code = malloc(2 * N + 1);
	struct soft_cpu_stats st;

	for (unsigned i = 0; i < N; i++) {
		code[2 * i] = 0xeb; /* jmp +0: one block per instruction */
		code[2 * i + 1] = 0x00;
	}
	code[2 * N] = 0xf4;
	put(e, 0x100000, code, 2 * N + 1);
	for (unsigned pass = 0; pass < 2; pass++) {
		struct x86_cpu_state *s = soft_cpu_state(e->cpu);

		s->rip = 0x100000;
		s->mp_state = X86_MP_RUNNABLE;
		soft_cpu_state_changed(e->cpu);
		assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
		assert_int_equal(soft_cpu_state(e->cpu)->rip, 0x100000 + 2 * N + 1);
	}
	soft_cpu_get_stats(e->cpu, &st);
	assert_true(st.blocks_decoded >= 2 * N);
	free(code);
	ctx_free(e);
}

/* Another CPU's store into decoded code: the first CPU runs the new bytes. */
static void test_cross_cpu_code_write(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code_a[] = { 0xb0, 0x01, 0xf4 };				/* mov al, 1; hlt */
	static const uint8_t code_b[] = { 0xc6, 0x04, 0x25, 0x01, 0x00, 0x01, 0x00, 0x02, 0xf4 }; /* mov byte [CODE+1], 2 */
	struct soft_env env = { .mem = &e->mem, .opaque = e, .pio = t_pio };
	struct soft_cpu *b = soft_cpu_new(&env, 0);
	struct x86_cpu_state *sa, *sb;

	assert_non_null(b);
	run_code(e, code_a, sizeof(code_a));
	put(e, 0x11000, code_b, sizeof(code_b));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RAX] & 0xff, 1);

	/* CPU b: the same long-mode state, running code_b. */
	sa = soft_cpu_state(e->cpu);
	sb = soft_cpu_state(b);
	*sb = *sa;
	sb->rip = 0x11000;
	sb->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(b);
	assert_int_equal(soft_cpu_run(b), SOFT_EXIT_HLT);

	sa = soft_cpu_state(e->cpu);
	sa->rip = CODE;
	sa->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(e->cpu);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(e->cpu)->gpr[X86_RAX] & 0xff, 2);
	soft_cpu_free(b);
	ctx_free(e);
}

/* An external interrupt through a not-present gate: #NP with IDT and EXT bits. */
static void test_np_ext(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t code[] = { 0xfb, 0x90, 0xf4 }; /* sti; nop; hlt */

	put64(e, IDT + 16 * 0x21, get64(e, IDT + 16 * 0x21) & ~(1ull << 47)); /* P = 0 */
	run_code(e, code, sizeof(code));
	e->irq_vector = 0x21;
	soft_cpu_post(e->cpu, SOFT_EVENT_IRQ);
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, X86_VEC_NP);
	assert_int_equal(get64(e, KSTACK - 48), 0x21 * 8 + 2 + 1);
	ctx_free(e);
}

static void test_smep_smap(void **state)
{
	(void)state;
	struct env_ctx *e = long_mode();
	static const uint8_t jmp_user[] = { 0xe9, 0xfb, 0x2f, 0x2f, 0x00 };		       /* jmp 0x303000 */
	static const uint8_t read_user[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x40, 0x30, 0x00 }; /* mov rax, [0x304000] */
	static const uint8_t stac_read[] = { 0x0f, 0x01, 0xcb, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x40, 0x30, 0x00,
					     0x0f, 0x01, 0xca, 0xf4 }; /* stac; mov rax, [0x304000]; clac; hlt */
	struct x86_cpu_state *s = soft_cpu_state(e->cpu);

	put64(e, PD, 0x83); /* the kernel's 2 MiB page: supervisor */
	put64(e, 0x304000, 0x5a5a);
	s->cr4 |= (1u << 20) | (1u << 21); /* SMEP, SMAP */
	soft_cpu_state_changed(e->cpu);
	run_code(e, jmp_user, sizeof(jmp_user));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	assert_int_equal(get64(e, KSTACK - 48), 0x11); /* P | I/D */

	s = soft_cpu_state(e->cpu);
	s->rip = CODE;
	s->gpr[X86_RSP] = KSTACK;
	s->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(e->cpu);
	run_code(e, read_user, sizeof(read_user));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	assert_in_handler(e, 14);
	assert_int_equal(get64(e, KSTACK - 48), 0x1); /* P: SMAP */

	s = soft_cpu_state(e->cpu);
	s->rip = CODE;
	s->gpr[X86_RSP] = KSTACK;
	s->mp_state = X86_MP_RUNNABLE;
	soft_cpu_state_changed(e->cpu);
	run_code(e, stac_read, sizeof(stac_read));
	assert_int_equal(soft_cpu_run(e->cpu), SOFT_EXIT_HLT);
	s = soft_cpu_state(e->cpu);
	assert_int_equal(s->rip, CODE + sizeof(stac_read));
	assert_int_equal(s->gpr[X86_RAX], 0x5a5a);
	assert_int_equal(s->rflags & X86_FLAGS_AC, 0);
	ctx_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_transitions),
		cmocka_unit_test(test_pf_not_present),
		cmocka_unit_test(test_pf_write_protect),
		cmocka_unit_test(test_pf_user_and_stack_switch),
		cmocka_unit_test(test_nx),
		cmocka_unit_test(test_gp_noncanonical),
		cmocka_unit_test(test_ud),
		cmocka_unit_test(test_de),
		cmocka_unit_test(test_double_and_triple_fault),
		cmocka_unit_test(test_ist),
		cmocka_unit_test(test_syscall_sysret),
		cmocka_unit_test(test_accessed_dirty),
		cmocka_unit_test(test_invlpg),
		cmocka_unit_test(test_self_modifying),
		cmocka_unit_test(test_hlt_interrupt),
		cmocka_unit_test(test_real_mode_ivt),
		cmocka_unit_test(test_cross_page_insn),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_init_sipi),
		cmocka_unit_test(test_single_step),
		cmocka_unit_test(test_tsc),
		cmocka_unit_test(test_code_cache_full),
		cmocka_unit_test(test_cross_cpu_code_write),
		cmocka_unit_test(test_np_ext),
		cmocka_unit_test(test_smep_smap),
		cmocka_unit_test(test_protected_mode_idt_paging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
