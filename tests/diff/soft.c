// SPDX-License-Identifier: Apache-2.0
/*
 * The soft CPU side of the differential tests: a tiny 64-bit machine in a
 * guest_mem with 4-level page tables that map the code, data and stack
 * pages at the same virtual addresses as the native runner (user pages),
 * plus a GDT, a TSS and an IDT whose 32 exception gates point to kernel
 * stubs that are each a HLT. The case runs at CPL3; a fault is delivered
 * to its stub, which halts: the vector is where RIP stopped, the faulting
 * RIP/RSP/RFLAGS are in the exception frame on the kernel stack. The
 * sequence ends with a HLT too, which at CPL3 is a #GP at the end address:
 * that is the normal end.
 */
#include <stdlib.h>
#include <string.h>

#include "accel/soft/soft_cpu.h"
#include "difftest.h"

/* Guest-physical layout; kernel pages are identity mapped. */
#define GPA_GDT 0x1000ULL
#define GPA_IDT 0x2000ULL
#define GPA_TSS 0x3000ULL
#define GPA_STUBS 0x4000ULL /* vector v's HLT at GPA_STUBS + 16 * v */
#define GPA_KSTACK 0x5000ULL
#define KSTACK_TOP 0x6000ULL
#define GPA_PML4 0x8000ULL
#define GPA_PDPT 0x9000ULL
#define GPA_PD 0xa000ULL
#define GPA_PT_LOW 0xb000ULL
#define GPA_PT_CODE 0xc000ULL
#define GPA_PT_DATA 0xd000ULL
#define GPA_CODE 0x10000ULL
#define GPA_DATA 0x20000ULL
#define GPA_STACK (GPA_DATA + DIFF_DATA_SIZE)
#define GUEST_RAM 0x40000ULL

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS 0x28
#define SEL_UCODE32 0x3b

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL

struct diff_soft {
	struct guest_mem mem;
	struct soft_env env;
	struct soft_cpu *cpu;
};

static void *gp(struct diff_soft *s, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&s->mem, gpa, len);
}

static void put64(struct diff_soft *s, uint64_t gpa, uint64_t v)
{
	memcpy(gp(s, gpa, 8), &v, 8);
}

static void build_machine(struct diff_soft *s)
{
	uint64_t tss_lo, tss_hi;

	/* GDT */
	put64(s, GPA_GDT + 0x08, 0x00af9b000000ffffULL);
	put64(s, GPA_GDT + 0x10, 0x00cf93000000ffffULL);
	put64(s, GPA_GDT + 0x18, 0x00cff3000000ffffULL);
	put64(s, GPA_GDT + 0x20, 0x00affb000000ffffULL);
	tss_lo = 0x67 | (GPA_TSS & 0xffffff) << 16 | 0x8bULL << 40 | ((GPA_TSS >> 24) & 0xff) << 56;
	tss_hi = GPA_TSS >> 32;
	put64(s, GPA_GDT + 0x28, tss_lo);
	put64(s, GPA_GDT + 0x30, tss_hi);
	put64(s, GPA_GDT + 0x38, 0x00cffb000000ffffULL); /* 32-bit user code */
	/* TSS: RSP0, no I/O bitmap */
	put64(s, GPA_TSS + 4, KSTACK_TOP);
	memcpy(gp(s, GPA_TSS + 0x66, 2), &(uint16_t){ 0x68 }, 2);
	/* IDT: 32 interrupt gates to HLT stubs */
	memset(gp(s, GPA_STUBS, 4096), 0xf4, 4096);
	for (uint64_t v = 0; v < 32; v++) {
		uint64_t h = GPA_STUBS + 16 * v;
		uint64_t lo = (h & 0xffff) | (uint64_t)SEL_KCODE << 16 | 0x8eULL << 40 |
			      ((h >> 16) & 0xffff) << 48;

		put64(s, GPA_IDT + 16 * v, lo);
		put64(s, GPA_IDT + 16 * v + 8, h >> 32);
	}
	/* Page tables: everything below 1 GiB, one PD. */
	put64(s, GPA_PML4, GPA_PDPT | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PDPT, GPA_PD | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PD + 8 * 0, GPA_PT_LOW | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PD + 8 * (DIFF_CODE_VA >> 21), GPA_PT_CODE | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PD + 8 * (DIFF_DATA_VA >> 21), GPA_PT_DATA | PTE_P | PTE_W | PTE_U);
	for (uint64_t a = GPA_GDT; a < KSTACK_TOP; a += 4096)
		put64(s, GPA_PT_LOW + 8 * (a >> 12), a | PTE_P | PTE_W);
	put64(s, GPA_PT_CODE + 8 * ((DIFF_CODE_VA >> 12) & 511), GPA_CODE | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PT_CODE + 8 * (((DIFF_CODE_VA >> 12) + 1) & 511),
	      (GPA_CODE + 4096) | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PT_DATA + 8 * ((DIFF_DATA_VA >> 12) & 511), GPA_DATA | PTE_P | PTE_W | PTE_U);
	put64(s, GPA_PT_DATA + 8 * ((DIFF_STACK_VA >> 12) & 511), GPA_STACK | PTE_P | PTE_W | PTE_U);
}

struct diff_soft *diff_soft_new(void)
{
	struct diff_soft *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (guest_mem_init(&s->mem, GUEST_RAM)) {
		free(s);
		return NULL;
	}
	build_machine(s);
	s->env.mem = &s->mem;
	s->cpu = soft_cpu_new(&s->env, 0);
	if (!s->cpu) {
		guest_mem_destroy(&s->mem);
		free(s);
		return NULL;
	}
	return s;
}

void diff_soft_free(struct diff_soft *s)
{
	if (!s)
		return;
	soft_cpu_free(s->cpu);
	guest_mem_destroy(&s->mem);
	free(s);
}

static struct x86_segment seg(uint16_t sel, uint8_t type, uint8_t dpl, bool code)
{
	struct x86_segment sg = {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .s = 1,
		.dpl = dpl, .present = 1, .l = code, .db = !code, .g = 1,
	};
	return sg;
}

/* ST(i) in stack order <-> physical R0..R7 (the soft CPU's fpu.st[]). */
static void st_to_physical(struct x86_fxsave *fx, const struct x86_fxsave *from)
{
	unsigned top = (from->fsw >> 11) & 7;

	for (unsigned i = 0; i < 8; i++)
		memcpy(fx->st[(top + i) & 7], from->st[i], 16);
}

static void st_to_stack(struct x86_fxsave *fx, const struct x86_fxsave *from)
{
	unsigned top = (from->fsw >> 11) & 7;

	for (unsigned i = 0; i < 8; i++)
		memcpy(fx->st[i], from->st[(top + i) & 7], 16);
}

static void load_state(struct diff_soft *s, const struct diff_case *c)
{
	struct x86_cpu_state *st = soft_cpu_state(s->cpu);

	memset(st, 0, sizeof(*st));
	memcpy(st->gpr, c->gpr, sizeof(st->gpr));
	st->gpr[X86_RSP] = DIFF_STACK_TOP;
	st->rip = c->base;
	st->rflags = (c->rflags & DIFF_CMP_FLAGS) | X86_FLAGS_FIXED | X86_FLAGS_IF;
	st->seg[X86_CS] = seg(SEL_UCODE, 0xb, 3, true);
	if (c->compat) {
		st->seg[X86_CS] = seg(SEL_UCODE32, 0xb, 3, false);
		st->seg[X86_CS].db = 1;
	}
	st->seg[X86_SS] = seg(SEL_UDATA, 0x3, 3, false);
	st->seg[X86_DS] = seg(SEL_UDATA, 0x3, 3, false);
	st->seg[X86_ES] = seg(SEL_UDATA, 0x3, 3, false);
	st->seg[X86_FS] = seg(SEL_UDATA, 0x3, 3, false);
	st->seg[X86_GS] = seg(SEL_UDATA, 0x3, 3, false);
	st->seg[X86_LDTR] = (struct x86_segment){ .unusable = 1 };
	st->seg[X86_TR] = (struct x86_segment){
		.base = GPA_TSS, .limit = 0x67, .selector = SEL_TSS, .type = 0xb, .present = 1,
	};
	st->gdt = (struct x86_dtable){ .base = GPA_GDT, .limit = 0x3f };
	st->idt = (struct x86_dtable){ .base = GPA_IDT, .limit = 32 * 16 - 1 };
	st->cr0 = 0x80010033; /* PG WP NE ET MP PE */
	st->cr3 = GPA_PML4;
	st->cr4 = 0x620; /* OSXMMEXCPT OSFXSR PAE */
	st->efer = 0xd00; /* NXE LMA LME */
	st->xcr0 = 3;
	st->msr.apic_base = 0xfee00900;
	st->msr.pat = 0x0007040600070406ULL;
	st->mp_state = X86_MP_RUNNABLE;
	st->fpu = c->fx;
	st_to_physical(&st->fpu, &c->fx);
	st->fpu.mxcsr_mask = 0xffff;
	soft_cpu_state_changed(s->cpu);
}

static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

void diff_soft_run(struct diff_soft *s, const struct diff_case *c, struct diff_result *r)
{
	struct x86_cpu_state *st;
	enum soft_exit e;
	uint8_t *code = gp(s, GPA_CODE, DIFF_CODE_SIZE);

	memset(code, 0xf4, DIFF_CODE_SIZE);
	memcpy(code + (c->base - DIFF_CODE_VA), c->code, c->code_len);
	soft_code_invalidate(GPA_CODE, DIFF_CODE_SIZE);
	memcpy(gp(s, GPA_DATA, DIFF_DATA_SIZE), c->data, DIFF_DATA_SIZE);
	memset(gp(s, GPA_STACK, 4096), 0, 4096);
	memset(gp(s, GPA_KSTACK, 4096), 0, 4096);
	load_state(s, c);

	e = soft_cpu_run_bounded(s->cpu, 200000);
	st = soft_cpu_state(s->cpu);

	memset(r, 0, sizeof(*r));
	memcpy(r->gpr, st->gpr, sizeof(r->gpr));
	r->rip = st->rip;
	r->rflags = st->rflags;
	r->fx = st->fpu;
	st_to_stack(&r->fx, &st->fpu);
	memcpy(r->data, gp(s, GPA_DATA, DIFF_DATA_SIZE), DIFF_DATA_SIZE);

	if (e == SOFT_EXIT_KICK) {
		r->status = DIFF_TIMEOUT;
		return;
	}
	if (e == SOFT_EXIT_SHUTDOWN) {
		r->status = DIFF_SHUTDOWN;
		return;
	}
	if (e != SOFT_EXIT_HLT || st->rip < GPA_STUBS || st->rip >= GPA_STUBS + 32 * 16 + 1 ||
	    st->gpr[X86_RSP] < GPA_KSTACK + 8 || st->gpr[X86_RSP] > KSTACK_TOP - 40) {
		r->status = DIFF_BROKEN;
		return;
	}
	{
		unsigned v = (unsigned)((st->rip - GPA_STUBS) / 16);
		uint64_t frame[6];
		uint64_t sp = st->gpr[X86_RSP];
		unsigned k = 0;

		if (has_error_code(v) && sp + 48 > KSTACK_TOP) {
			r->status = DIFF_BROKEN;
			return;
		}
		memcpy(frame, gp(s, sp, has_error_code(v) ? 48 : 40), has_error_code(v) ? 48 : 40);
		if (has_error_code(v))
			r->error = frame[k++];
		r->rip = frame[k];
		r->rflags = frame[k + 2];
		r->gpr[X86_RSP] = frame[k + 3];
		r->vector = v;
		r->cr2 = v == X86_VEC_PF ? st->cr2 : 0;
		if (v == X86_VEC_GP && r->error == 0 && r->rip == c->base + c->code_len) {
			r->status = DIFF_END;
			r->vector = 0;
		} else {
			r->status = DIFF_EXC;
		}
	}
}
