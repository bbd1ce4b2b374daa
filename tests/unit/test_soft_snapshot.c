// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft snapshots: a software CPU stopped mid-work, its state saved
 * (through the stream form of arch/x86/cpu_state_io) and loaded into a
 * fresh CPU over a copy of memory, finishes with the same registers and
 * memory as a run that was never interrupted; dirty logging marks
 * exactly the pages written (data and page-table A/D updates) and marks
 * again after the write TLB is dropped; through accel_soft_ops, a halted
 * vCPU restored with a pending LAPIC timer wakes when it fires, and
 * platform_load moves the guest clock, the TSC and kvmclock forward with
 * the host's real time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "accel/accel.h"
#include "accel/soft/soft_cpu.h"
#include "accel/soft/soft_debug.h"
#include "arch/x86/cpu_state.h"
#include "base/state.h"
#include "hw/bus.h"
#include "hw/memory.h"
#include "irqchip/lapic.h"
#include "irqchip/platform_state.h"
#include "irqchip/pvclock.h"

#define MEM_SIZE (4u << 20)

#define GDT 0x1000
#define IDT 0x2000
#define TSS 0x3000
#define HANDLERS 0x5000 /* vector v: HANDLERS + 16 v */
#define KSTACK 0x8000
#define MARKER 0x9000
#define PVTI 0x9100
#define CODE 0x10000
#define PML4 0x20000
#define PDPT 0x21000
#define PD 0x22000
#define PT 0x23000 /* maps 2-4 MiB in 4 KiB pages */
#define KCS 0x08
#define KDS 0x10
#define TSS_SEL 0x30
#define TIMER_VECTOR 0x40

/* ---- a bare software CPU over 4 MiB of RAM ---------------------------------- */

struct ctx {
	struct guest_mem mem;
	struct soft_cpu *cpu;
};

static void t_pio(void *opaque, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	(void)opaque;
	(void)port;
	if (!is_write)
		memset(data, 0xff, len);
}

static void t_cpuid(void *opaque, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)opaque;
	(void)sub;
	memset(out, 0, 16);
	if (leaf == 0)
		out[0] = 1;
	else if (leaf == 1)
		out[3] = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 15) | (1u << 23) |
			 (1u << 24) | (1u << 25) | (1u << 26);
}

static struct ctx *ctx_new(void)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct soft_env env = { 0 };

	assert_non_null(c);
	assert_int_equal(guest_mem_init(&c->mem, MEM_SIZE), 0);
	env.mem = &c->mem;
	env.opaque = c;
	env.pio = t_pio;
	env.cpuid = t_cpuid;
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

static void put(struct guest_mem *mem, uint64_t gpa, const void *b, size_t n)
{
	assert_int_equal(guest_mem_write(mem, gpa, b, n), 0);
	soft_code_invalidate(gpa, n);
}

static void put64(struct guest_mem *mem, uint64_t gpa, uint64_t v)
{
	put(mem, gpa, &v, 8);
}

static void set_gate(struct guest_mem *mem, unsigned v, uint64_t target)
{
	uint64_t lo = (target & 0xffff) | ((uint64_t)KCS << 16) | (0x8eull << 40) |
		      (((target >> 16) & 0xffff) << 48);

	put64(mem, IDT + 16 * v, lo);
	put64(mem, IDT + 16 * v + 8, target >> 32);
}

/* Descriptor tables, IDT (every vector: HLT), identity paging of 0-4 MiB. */
static void build_memory(struct guest_mem *mem)
{
	uint64_t gdt[8] = { 0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0, 0, 0, 0, 0 };

	gdt[6] = 103 | ((uint64_t)TSS << 16) | (0x89ull << 40);
	put(mem, GDT, gdt, sizeof(gdt));
	for (unsigned v = 0; v < 256; v++) {
		uint8_t hlt = 0xf4;

		put(mem, HANDLERS + 16 * v, &hlt, 1);
		set_gate(mem, v, HANDLERS + 16 * v);
	}
	put64(mem, TSS + 4, KSTACK);
	put64(mem, PML4, PDPT | 7);
	put64(mem, PDPT, PD | 7);
	put64(mem, PD, 0x87);
	put64(mem, PD + 8, PT | 7);
	for (unsigned i = 0; i < 512; i++)
		put64(mem, PT + 8 * i, (0x200000 + 4096ull * i) | 7);
}

/* 64-bit kernel mode over build_memory(), SSE enabled, at CODE. */
static void long_mode_regs(struct x86_cpu_state *s)
{
	s->cr0 = 0x80050033;
	s->cr4 = 0x620; /* PAE OSFXSR OSXMMEXCPT */
	s->cr3 = PML4;
	s->efer = 0xd00;
	s->gdt.base = GDT;
	s->gdt.limit = 63;
	s->idt.base = IDT;
	s->idt.limit = 16 * 256 - 1;
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
}

static struct ctx *long_mode(const void *code, size_t n)
{
	struct ctx *c = ctx_new();

	build_memory(&c->mem);
	put(&c->mem, CODE, code, n);
	long_mode_regs(soft_cpu_state(c->cpu));
	soft_cpu_state_changed(c->cpu);
	return c;
}

/* Through the stream form and back, as a snapshot file carries it. */
static void stream_roundtrip(const struct x86_cpu_state *in, struct x86_cpu_state *out)
{
	struct state_writer w;
	struct state_reader r;

	state_writer_init(&w);
	x86_cpu_state_write(&w, in);
	assert_int_equal(state_writer_error(&w), 0);
	state_reader_init(&r, w.buf, w.len);
	x86_cpu_state_read(&r, out);
	if (state_reader_error(&r))
		fail_msg("%s", state_reader_msg(&r));
	assert_int_equal(state_reader_finish(&r, "cpu"), 0);
	state_writer_free(&w);
}

/* ---- stop, save, load elsewhere, continue --------------------------------- */

/* A loop of integer, flag and SSE work that stores 1000 qwords at 0x300000. */
static const uint8_t work[] = {
	0x48, 0xc7, 0xc1, 0xe8, 0x03, 0x00, 0x00, /* mov rcx, 1000 */
	0x48, 0x31, 0xc0,			  /* xor rax, rax */
	0x48, 0xc7, 0xc7, 0x00, 0x00, 0x30, 0x00, /* mov rdi, 0x300000 */
	0x66, 0x0f, 0xef, 0xc9,			  /* pxor xmm1, xmm1 */
	/* loop: */
	0x48, 0x01, 0xc8,	      /* add rax, rcx */
	0x48, 0x6b, 0xc0, 0x03,	      /* imul rax, rax, 3 */
	0x66, 0x48, 0x0f, 0x6e, 0xc0, /* movq xmm0, rax */
	0x66, 0x0f, 0xd4, 0xc8,	      /* paddq xmm1, xmm0 */
	0x48, 0x89, 0x07,	      /* mov [rdi], rax */
	0x48, 0x83, 0xc7, 0x08,	      /* add rdi, 8 */
	0x48, 0xff, 0xc9,	      /* dec rcx */
	0x75, 0xe4,		      /* jnz loop */
	0xf4,			      /* hlt */
};
#define WORK_OUT 0x300000
#define WORK_BYTES 8000

struct result {
	struct x86_cpu_state s;
	uint8_t out[WORK_BYTES];
};

static void finish(struct ctx *c, struct result *res)
{
	assert_int_equal(soft_cpu_run(c->cpu), SOFT_EXIT_HLT);
	res->s = *soft_cpu_state(c->cpu);
	assert_int_equal(guest_mem_read(&c->mem, WORK_OUT, res->out, WORK_BYTES), 0);
}

static void test_resume_elsewhere(void **state)
{
	static const uint64_t stops[] = { 1, 2, 3, 4, 1000, 3001, 5555, 7002 };
	struct result *ref = calloc(1, sizeof(*ref)), *got = calloc(1, sizeof(*got));
	struct x86_cpu_state *mid = calloc(1, sizeof(*mid)), *loaded = calloc(1, sizeof(*loaded));
	uint8_t *ram = malloc(MEM_SIZE);
	struct ctx *c;

	(void)state;
	assert_non_null(ref);
	assert_non_null(got);
	assert_non_null(mid);
	assert_non_null(loaded);
	assert_non_null(ram);
	c = long_mode(work, sizeof(work));
	finish(c, ref);
	ctx_free(c);
	assert_int_equal(ref->s.gpr[X86_RCX], 0);
	assert_int_equal(ref->s.gpr[X86_RDI], WORK_OUT + WORK_BYTES);
	assert_int_equal(ref->s.rip, CODE + sizeof(work));

	for (unsigned i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		/* Stop after stops[i] instructions: state and RAM as a snapshot has them. */
		c = long_mode(work, sizeof(work));
		assert_int_equal(soft_cpu_run_bounded(c->cpu, stops[i]), SOFT_EXIT_KICK);
		soft_cpu_save_state(c->cpu, mid);
		assert_int_equal(guest_mem_read(&c->mem, 0, ram, MEM_SIZE), 0);
		ctx_free(c);

		/* A fresh CPU (RESET state, cold caches) over the copied RAM. */
		c = ctx_new();
		put(&c->mem, 0, ram, MEM_SIZE);
		stream_roundtrip(mid, loaded);
		soft_cpu_load_state(c->cpu, loaded, true);
		finish(c, got);
		ctx_free(c);

		if (memcmp(got->s.gpr, ref->s.gpr, sizeof(ref->s.gpr)))
			fail_msg("stop %llu: registers differ", (unsigned long long)stops[i]);
		assert_int_equal(got->s.rip, ref->s.rip);
		assert_int_equal(got->s.rflags, ref->s.rflags);
		assert_memory_equal(got->s.fpu.xmm[0], ref->s.fpu.xmm[0], 16);
		assert_memory_equal(got->s.fpu.xmm[1], ref->s.fpu.xmm[1], 16);
		assert_memory_equal(got->out, ref->out, WORK_BYTES);
		assert_int_equal(got->s.mp_state, X86_MP_HALTED);
	}
	free(ram);
	free(loaded);
	free(mid);
	free(got);
	free(ref);
}

/* The TSC goes on from a loaded value; an NMI pending in the state is taken. */
static void test_tsc_and_nmi(void **state)
{
	static const uint8_t code[] = { 0xeb, 0xfe }; /* jmp $ */
	struct ctx *c = long_mode(code, sizeof(code));
	struct x86_cpu_state *s = calloc(1, sizeof(*s));
	uint64_t tsc;

	(void)state;
	assert_non_null(s);
	assert_int_equal(soft_cpu_run_bounded(c->cpu, 10), SOFT_EXIT_KICK);
	soft_cpu_save_state(c->cpu, s);
	s->tsc = 1ULL << 50;
	s->events.nmi_pending = 1;
	soft_cpu_load_state(c->cpu, s, true);
	tsc = soft_cpu_tsc(c->cpu);
	assert_true(tsc >= 1ULL << 50 && tsc < (1ULL << 50) + 1000000000ULL);
	/* The NMI is delivered at the next boundary: into vector 2's HLT. */
	assert_int_equal(soft_cpu_run(c->cpu), SOFT_EXIT_HLT);
	assert_int_equal(soft_cpu_state(c->cpu)->rip, HANDLERS + 16 * 2 + 1);
	/* A posted NMI not yet taken shows in a saved state. */
	soft_cpu_post(c->cpu, SOFT_EVENT_NMI);
	soft_cpu_save_state(c->cpu, s);
	assert_int_equal(s->events.nmi_pending, 1);
	free(s);
	ctx_free(c);
}

/* ---- dirty logging ------------------------------------------------------------- */

static const uint8_t dirtying[] = {
	0x48, 0x89, 0x04, 0x25, 0x00, 0x40, 0x30, 0x00, /* mov [0x304000], rax */
	0x48, 0x89, 0x04, 0x25, 0x08, 0x60, 0x30, 0x00, /* mov [0x306008], rax */
	0x48, 0xc7, 0xc7, 0x00, 0x70, 0x30, 0x00,	/* mov rdi, 0x307000 */
	0x48, 0xc7, 0xc1, 0x10, 0x00, 0x00, 0x00,	/* mov rcx, 16 */
	0xf3, 0x48, 0xab,				/* rep stosq */
	0x48, 0xc7, 0xc2, 0x00, 0x80, 0x30, 0x00,	/* mov rdx, 0x308000 */
	0xf0, 0x48, 0x0f, 0xc1, 0x02,			/* lock xadd [rdx], rax */
	/* 7 instructions so far */
	0x48, 0x89, 0x04, 0x25, 0x10, 0x40, 0x30, 0x00, /* mov [0x304010], rax */
	0x48, 0x89, 0x04, 0x25, 0x18, 0x40, 0x30, 0x00, /* mov [0x304018], rax */
	0xf4,
};

/* The dirty pages (gpa) since the last collect, into pages[]; returns how many. */
static unsigned collect(struct guest_mem *mem, uint64_t *pages, unsigned max)
{
	uint64_t *bits = calloc(mem->dirty_words, sizeof(uint64_t));
	unsigned n = 0;

	assert_non_null(bits);
	guest_mem_dirty_collect(mem, bits, mem->dirty_words);
	for (size_t w = 0; w < mem->dirty_words; w++)
		for (unsigned b = 0; b < 64; b++)
			if ((bits[w] >> b) & 1) {
				assert_true(n < max);
				pages[n++] = (w * 64 + b) << 12; /* 4 MiB of RAM: offset = gpa */
			}
	free(bits);
	return n;
}

static void test_dirty_log(void **state)
{
	static const uint64_t want1[] = { PML4, PDPT, PD, PT, 0x304000, 0x306000, 0x307000, 0x308000 };
	struct ctx *c = long_mode(dirtying, sizeof(dirtying));
	uint64_t pages[64];
	unsigned n;

	(void)state;
	assert_int_equal(guest_mem_dirty_start(&c->mem), 0);
	assert_int_equal(soft_cpu_drop_write_tlb(c->cpu), 0);
	assert_int_equal(soft_cpu_run_bounded(c->cpu, 7), SOFT_EXIT_KICK);
	n = collect(&c->mem, pages, 64);
	for (unsigned i = 0; i < n && i < 8; i++)
		if (pages[i] != want1[i])
			fail_msg("dirty page %u: 0x%llx, want 0x%llx", i, (unsigned long long)pages[i],
				 (unsigned long long)want1[i]);
	assert_int_equal(n, 8);

	/* After a sync (write TLB dropped) a write to a page marks it again. */
	assert_int_equal(soft_cpu_drop_write_tlb(c->cpu), 0);
	assert_int_equal(soft_cpu_run_bounded(c->cpu, 1), SOFT_EXIT_KICK);
	n = collect(&c->mem, pages, 64);
	assert_int_equal(n, 1);
	assert_int_equal(pages[0], 0x304000);

	/* Without one, the cached write entry does not: why dirty_sync drops them. */
	assert_int_equal(soft_cpu_run_bounded(c->cpu, 1), SOFT_EXIT_KICK);
	assert_int_equal(collect(&c->mem, pages, 64), 0);
	guest_mem_dirty_stop(&c->mem);
	ctx_free(c);
}

/* ---- through accel_soft_ops ------------------------------------------------------ */

struct vm {
	struct guest_mem mem;
	struct bus pio, mmio;
	struct accel_machine m;
	struct accel_vcpu vcpu;
	struct cpuid_table *cpuid;
};

static const struct accel_ops *ops = &accel_soft_ops;

static void vm_up(struct vm *v)
{
	memset(v, 0, sizeof(*v));
	assert_int_equal(guest_mem_init(&v->mem, MEM_SIZE), 0);
	bus_init(&v->pio, "pio");
	bus_init(&v->mmio, "mmio");
	v->m.mem = &v->mem;
	v->m.pio = &v->pio;
	v->m.mmio = &v->mmio;
	v->m.ncpus = 1;
	v->m.cpu_template = "soft";
	assert_int_equal(ops->vm_init(&v->m), 0);
	assert_int_equal(ops->cpuid(&v->m, &v->cpuid), 0);
	v->vcpu.machine = &v->m;
	v->vcpu.id = 0;
	v->vcpu.cpuid = v->cpuid;
	assert_int_equal(ops->vcpu_create(&v->vcpu, v->cpuid), 0);
	build_memory(&v->mem);
}

static void vm_down(struct vm *v)
{
	ops->vcpu_destroy(&v->vcpu);
	ops->vm_destroy(&v->m);
	free(v->cpuid);
	guest_mem_destroy(&v->mem);
}

static void lapic_put(struct x86_cpu_state *s, unsigned reg, uint32_t v)
{
	memcpy(&s->lapic[reg], &v, 4);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint8_t marker(struct vm *v)
{
	uint8_t b = 0;

	assert_int_equal(guest_mem_read(&v->mem, MARKER, &b, 1), 0);
	return b;
}

#define TIMER_NS 200000000ULL /* 200 ms */
#define HOST_GAP_NS 3000000000ULL /* the snapshot "was taken" 3 s before the restore */

static void test_halted_timer_restore(void **state)
{
	/* Vector 0x40: mov byte [MARKER], 1; hlt. At CODE: hlt; jmp $. */
	static const uint8_t handler[] = { 0xc6, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, 0xf4 };
	static const uint8_t code[] = { 0xf4, 0xeb, 0xfe };
	struct x86_cpu_state *s = calloc(1, sizeof(*s)), *snap = calloc(1, sizeof(*snap));
	struct x86_cpu_state *loaded = calloc(1, sizeof(*loaded)), *after = calloc(1, sizeof(*after));
	struct x86_platform_state plat, plat2;
	struct pvclock_vcpu_time_info pvti;
	struct vm *v = calloc(1, sizeof(*v));
	uint64_t t0, fired = 0;

	(void)state;
	assert_non_null(s);
	assert_non_null(snap);
	assert_non_null(loaded);
	assert_non_null(after);
	assert_non_null(v);

	/* Machine A: halted, IF=1, a one-shot LAPIC timer 200 ms away, kvmclock on. */
	vm_up(v);
	put(&v->mem, HANDLERS + 16 * TIMER_VECTOR, handler, sizeof(handler));
	put(&v->mem, CODE, code, sizeof(code));
	assert_int_equal(ops->vcpu_get_state(&v->vcpu, s), 0);
	long_mode_regs(s);
	s->rip = CODE + 1;
	s->rflags = 0x202;
	s->mp_state = X86_MP_HALTED;
	s->msr.kvm_system_time = PVTI | 1;
	lapic_put(s, APIC_SVR, APIC_SVR_ENABLE | 0xff);
	lapic_put(s, APIC_LVT_TIMER, TIMER_VECTOR);
	lapic_put(s, APIC_TDCR, 0xb); /* divide by 1 */
	lapic_put(s, APIC_TMICT, (uint32_t)TIMER_NS);
	s->lapic_timer_remaining_ns = TIMER_NS;
	s->lapic_timer_period_ns = 0;
	s->tsc = 5000000000ULL;
	assert_int_equal(ops->vcpu_set_state(&v->vcpu, s), 0);
	/* The snapshot: vCPU state (through the stream form) and platform. */
	assert_int_equal(ops->vcpu_get_state(&v->vcpu, snap), 0);
	assert_int_equal(ops->platform_save(&v->m, &plat), 0);
	assert_int_equal(snap->mp_state, X86_MP_HALTED);
	assert_true(snap->lapic_timer_remaining_ns <= TIMER_NS);
	assert_true(snap->lapic_timer_remaining_ns > TIMER_NS / 2);
	assert_true(snap->tsc >= 5000000000ULL && snap->tsc < 6000000000ULL);
	assert_int_equal(snap->msr.kvm_system_time, PVTI | 1);
	vm_down(v);
	stream_roundtrip(snap, loaded);

	/* Machine B, restored as if 3 s of host time passed since the snapshot. */
	vm_up(v);
	put(&v->mem, HANDLERS + 16 * TIMER_VECTOR, handler, sizeof(handler));
	put(&v->mem, CODE, code, sizeof(code));
	plat.host_realtime_ns -= HOST_GAP_NS;
	assert_int_equal(ops->vcpu_set_state(&v->vcpu, loaded), 0);
	assert_int_equal(ops->platform_load(&v->m, &plat), 0);
	t0 = now_ns();
	assert_int_equal(marker(v), 0);

	/* The guest clock, the TSC and kvmclock moved on by the host's 3 s. */
	assert_int_equal(ops->platform_save(&v->m, &plat2), 0);
	assert_true(plat2.clock_ns >= plat.clock_ns + HOST_GAP_NS);
	assert_true(plat2.clock_ns < plat.clock_ns + HOST_GAP_NS + 1000000000ULL);
	assert_int_equal(guest_mem_read(&v->mem, PVTI, &pvti, sizeof(pvti)), 0);
	assert_true(pvti.system_time >= plat.clock_ns + HOST_GAP_NS);
	assert_true(pvti.tsc_timestamp >= snap->tsc + HOST_GAP_NS);
	assert_true(pvti.tsc_timestamp < snap->tsc + HOST_GAP_NS + 1000000000ULL);
	assert_int_equal(pvti.version % 2, 0);
	assert_int_equal(pvti.flags, PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED_BIT);

	/* Halted until the timer fires about 200 ms after the restore, not at once. */
	while (now_ns() - t0 < 3000000000ULL) {
		enum accel_run r = ops->vcpu_run(&v->vcpu);

		assert_int_equal(r, ACCEL_RUN_AGAIN);
		if (marker(v)) {
			fired = now_ns() - t0;
			break;
		}
	}
	if (!fired)
		ops->vcpu_dump(&v->vcpu);
	assert_true(fired > 0);
	assert_true(fired >= TIMER_NS / 2);
	assert_int_equal(ops->vcpu_get_state(&v->vcpu, after), 0);
	assert_int_equal(after->rip, HANDLERS + 16 * TIMER_VECTOR + sizeof(handler));
	assert_true(after->tsc >= snap->tsc + HOST_GAP_NS);
	/* The vector is in service now, the timer is spent. */
	assert_true(after->lapic[APIC_ISR + 0x10 * (TIMER_VECTOR / 32) + (TIMER_VECTOR % 32) / 8] &
		    (1u << (TIMER_VECTOR % 8)));
	assert_int_equal(after->lapic_timer_remaining_ns, UINT64_MAX);
	vm_down(v);
	free(v);
	free(after);
	free(loaded);
	free(snap);
	free(s);
}

/* set_state refuses what the software CPU cannot take. */
static void test_set_state_rejects(void **state)
{
	struct x86_cpu_state *s = calloc(1, sizeof(*s));
	struct vm *v = calloc(1, sizeof(*v));

	(void)state;
	assert_non_null(s);
	assert_non_null(v);
	vm_up(v);
	assert_int_equal(ops->vcpu_get_state(&v->vcpu, s), 0);
	s->mp_state = 7;
	assert_int_equal(ops->vcpu_set_state(&v->vcpu, s), -EINVAL);
	assert_int_equal(ops->vcpu_get_state(&v->vcpu, s), 0);
	s->efer |= 1u << 10; /* LMA without paging */
	assert_int_equal(ops->vcpu_set_state(&v->vcpu, s), -EINVAL);
	assert_int_equal(ops->vcpu_get_state(&v->vcpu, s), 0);
	assert_int_equal(ops->vcpu_set_state(&v->vcpu, s), 0);
	/* Dirty logging arms and syncs with the vCPU parked. */
	assert_int_equal(guest_mem_dirty_start(&v->mem), 0);
	assert_int_equal(ops->dirty_log(&v->m, true), 0);
	assert_int_equal(ops->dirty_sync(&v->m), 0);
	assert_int_equal(ops->dirty_log(&v->m, false), 0);
	guest_mem_dirty_stop(&v->mem);
	vm_down(v);
	free(v);
	free(s);
}

/* A saved host time in the future never moves the guest clock backward; a wild clock is refused. */
static void test_platform_clock_never_backward(void **state)
{
	struct x86_platform_state p, q;
	struct vm *v = calloc(1, sizeof(*v));

	(void)state;
	assert_non_null(v);
	vm_up(v);
	assert_int_equal(ops->platform_save(&v->m, &p), 0);
	p.clock_ns = 1ULL << 40; /* ~18 minutes of guest time */
	p.host_realtime_ns += 1ULL << 50;
	assert_int_equal(ops->platform_load(&v->m, &p), 0);
	assert_int_equal(ops->platform_save(&v->m, &q), 0);
	assert_true(q.clock_ns >= p.clock_ns && q.clock_ns < p.clock_ns + 1000000000ULL);
	p.clock_ns = ~0ULL;
	assert_int_equal(ops->platform_load(&v->m, &p), -EINVAL);
	vm_down(v);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resume_elsewhere),
		cmocka_unit_test(test_tsc_and_nmi),
		cmocka_unit_test(test_dirty_log),
		cmocka_unit_test(test_halted_timer_restore),
		cmocka_unit_test(test_set_state_rejects),
		cmocka_unit_test(test_platform_clock_never_backward),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
