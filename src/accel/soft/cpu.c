// SPDX-License-Identifier: Apache-2.0
/*
 * The software CPU's life cycle and run loop: creation in the RESET state,
 * the register file, posted events (kick, interrupt, NMI, INIT, SIPI)
 * checked at block boundaries, HLT and wait-for-SIPI, the guest TSC, and
 * the loop itself: fetch a decoded block, run its instructions, with one
 * setjmp per loop entry that soft_raise() returns to.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel/soft/cpu_internal.h"
#include "accel/soft/soft_debug.h"

#define EFER_LMA (1ull << 10)

uint64_t soft_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void soft_mode_update(struct soft_cpu *cpu)
{
	const struct x86_cpu_state *s = &cpu->s;
	const struct x86_segment *cs = &s->seg[X86_CS];

	cpu->lma = (s->efer & EFER_LMA) != 0;
	cpu->code64 = false;
	if (!(s->cr0 & 1)) {
		cpu->mode = SOFT_MODE_REAL16;
		cpu->cpl = 0;
	} else {
		if (cpu->lma && cs->l) {
			cpu->mode = SOFT_MODE_LONG64;
			cpu->code64 = true;
		} else {
			cpu->mode = cs->db ? SOFT_MODE_PROT32 : SOFT_MODE_PROT16;
		}
		cpu->cpl = (s->rflags & X86_FLAGS_VM) ? 3 : cs->dpl;
	}
	cpu->tlb_user = cpu->cpl == 3 ? SOFT_TLB_USER : 0;
}

static void real_seg(struct x86_segment *seg, uint16_t sel, bool code)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = (uint64_t)sel << 4;
	seg->limit = 0xffff;
	seg->type = code ? 0xb : 0x3;
	seg->s = 1;
	seg->present = 1;
}

void soft_cpu_reset_state(struct soft_cpu *cpu, bool init_only)
{
	struct x86_cpu_state *s = &cpu->s;
	struct x86_msrs msr = s->msr;
	uint8_t sipi_vector = s->events.sipi_vector; /* may be posted together with INIT */

	memset(s, 0, offsetof(struct x86_cpu_state, lapic));
	s->events.sipi_vector = sipi_vector;
	s->rflags = X86_FLAGS_FIXED;
	s->rip = 0xfff0;
	s->gpr[X86_RDX] = 0x600;
	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		real_seg(&s->seg[i], 0, false);
	real_seg(&s->seg[X86_CS], 0xf000, true);
	s->seg[X86_CS].base = 0xffff0000ull;
	s->seg[X86_LDTR].type = 2;
	s->seg[X86_LDTR].s = 0;
	s->seg[X86_TR].type = 0xb;
	s->seg[X86_TR].s = 0;
	s->gdt.limit = 0xffff;
	s->idt.limit = 0xffff;
	s->cr0 = 0x60000010ull;
	s->xcr0 = 1;
	s->dr[6] = 0xffff0ff0ull;
	s->dr[7] = 0x400;
	s->fpu.fcw = 0x37f;
	s->fpu.mxcsr = 0x1f80;
	s->fpu.mxcsr_mask = 0xffff;
	s->apic_id = cpu->id;
	if (init_only) {
		s->msr = msr; /* INIT keeps the MSRs */
	} else {
		s->msr.apic_base = 0xfee00000ull | 0x800 | (cpu->id == 0 ? 0x100 : 0);
		s->msr.pat = 0x0007040600070406ull;
		s->msr.misc_enable = 1;
	}
	s->efer = 0;
	s->mp_state = cpu->id == 0 ? X86_MP_RUNNABLE : X86_MP_WAIT_SIPI;
	memset(&cpu->lazy, 0, sizeof(cpu->lazy));
	soft_mode_update(cpu);
	soft_tlb_flush(cpu, true);
}

/*
 * Every CPU's TSC counts from the same instant (the first soft_cpu_new of
 * the process), so the vCPUs' TSCs agree as on one package.
 */
static uint64_t tsc_base(void)
{
	static _Atomic uint64_t base;
	uint64_t b = atomic_load(&base), expected = 0;

	if (b)
		return b;
	b = soft_now_ns();
	if (!atomic_compare_exchange_strong(&base, &expected, b))
		b = expected;
	return b;
}

struct soft_cpu *soft_cpu_new(const struct soft_env *env, unsigned id)
{
	struct soft_cpu *cpu;

	if (soft_decode_init())
		return NULL;
	cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return NULL;
	cpu->env = *env;
	cpu->id = id;
	cpu->pend_vector = -1;
	cpu->delivering = -1;
	cpu->exit_req = -1;
	if (soft_cc_init(&cpu->cc)) {
		free(cpu);
		return NULL;
	}
	if (env->mem && soft_code_register(env->mem)) {
		soft_cc_free(&cpu->cc);
		free(cpu);
		return NULL;
	}
	soft_cpu_reset_state(cpu, false);
	cpu->tsc_offset = -(int64_t)tsc_base();
	return cpu;
}

void soft_cpu_free(struct soft_cpu *cpu)
{
	if (!cpu)
		return;
	if (cpu->env.mem)
		soft_code_unregister();
	soft_cc_free(&cpu->cc);
	free(cpu);
}

struct x86_cpu_state *soft_cpu_state(struct soft_cpu *cpu)
{
	uint64_t f = soft_get_flags(cpu);

	soft_set_flags(cpu, f);
	cpu->s.tsc = soft_cpu_tsc(cpu);
	if (!cpu->tsc_read_valid) {
		cpu->tsc_read_lo = cpu->s.tsc;
		cpu->tsc_read_valid = true;
	}
	cpu->tsc_read_hi = cpu->s.tsc;
	return &cpu->s;
}

void soft_cpu_state_changed(struct soft_cpu *cpu)
{
	/*
	 * A TSC value soft_cpu_state() handed out since the last run is a
	 * state read written back (get, change registers, set): the TSC goes
	 * on. Anything else is a TSC write (snapshot restore).
	 */
	if (cpu->tsc_read_valid && (cpu->s.tsc < cpu->tsc_read_lo || cpu->s.tsc > cpu->tsc_read_hi)) {
		cpu->tsc_offset = (int64_t)(cpu->s.tsc - soft_now_ns());
		cpu->tsc_read_lo = cpu->tsc_read_hi = cpu->s.tsc;
	}
	soft_set_flags(cpu, cpu->s.rflags);
	soft_mode_update(cpu);
	soft_tlb_flush(cpu, true);
	if (cpu->s.events.nmi_pending) {
		cpu->s.events.nmi_pending = 0;
		soft_cpu_post(cpu, SOFT_EVENT_NMI);
	}
}

struct x86_cpu_state *soft_regs(struct soft_cpu *cpu)
{
	return &cpu->s;
}

unsigned soft_cpl(const struct soft_cpu *cpu)
{
	return cpu->cpl;
}

bool soft_long_mode(const struct soft_cpu *cpu)
{
	return cpu->lma;
}

bool soft_code64(const struct soft_cpu *cpu)
{
	return cpu->code64;
}

uint64_t soft_insn_rip(const struct soft_cpu *cpu)
{
	return cpu->insn_rip;
}

struct soft_lazy_flags *soft_lazy(struct soft_cpu *cpu)
{
	return &cpu->lazy;
}

uint64_t soft_cpu_tsc(struct soft_cpu *cpu)
{
	return soft_now_ns() + (uint64_t)cpu->tsc_offset;
}

void soft_cpu_post(struct soft_cpu *cpu, unsigned events)
{
	atomic_fetch_or_explicit(&cpu->events, events, memory_order_release);
}

void soft_cpu_get_stats(const struct soft_cpu *cpu, struct soft_cpu_stats *out)
{
	*out = cpu->stats;
}

/* ---- Events ------------------------------------------------------------------- */

static void take(struct soft_cpu *cpu, unsigned bit)
{
	atomic_fetch_and_explicit(&cpu->events, ~bit, memory_order_acq_rel);
}

/* A start-up IPI: a CPU waiting for one starts at vector << 12 in real mode. */
static void take_sipi(struct soft_cpu *cpu)
{
	struct x86_cpu_state *s = &cpu->s;

	if (s->mp_state == X86_MP_WAIT_SIPI) {
		uint16_t sel = (uint16_t)(s->events.sipi_vector << 8);

		real_seg(&s->seg[X86_CS], sel, true);
		s->rip = 0;
		s->mp_state = X86_MP_RUNNABLE;
		soft_mode_update(cpu);
	}
}

/* At a block boundary: -1 to go on running, else the exit to return. */
static int handle_events(struct soft_cpu *cpu)
{
	struct x86_cpu_state *s = &cpu->s;
	unsigned ev = atomic_load_explicit(&cpu->events, memory_order_acquire);
	bool shadow = s->events.interrupt_shadow;

	s->events.interrupt_shadow = 0;
	if (SOFT_UNLIKELY(ev & ~SOFT_EVENT_IRQ)) {
		if (ev & SOFT_EVENT_KICK) {
			take(cpu, SOFT_EVENT_KICK);
			s->events.interrupt_shadow = shadow;
			return SOFT_EXIT_KICK;
		}
		if (ev & SOFT_EVENT_INIT) {
			take(cpu, SOFT_EVENT_INIT);
			soft_cpu_reset_state(cpu, true);
			s->mp_state = X86_MP_WAIT_SIPI;
		}
		if (ev & SOFT_EVENT_SIPI) {
			take(cpu, SOFT_EVENT_SIPI);
			take_sipi(cpu);
		}
		if ((ev & SOFT_EVENT_NMI) && !s->events.nmi_masked && s->mp_state != X86_MP_WAIT_SIPI &&
		    s->mp_state != X86_MP_STOPPED) {
			take(cpu, SOFT_EVENT_NMI);
			soft_deliver_external(cpu, X86_VEC_NMI);
		}
	}
	if (SOFT_UNLIKELY(s->mp_state == X86_MP_STOPPED))
		return SOFT_EXIT_SHUTDOWN;
	if (SOFT_UNLIKELY(s->mp_state == X86_MP_WAIT_SIPI))
		return SOFT_EXIT_WAIT_SIPI;
	if (((ev & SOFT_EVENT_IRQ) || s->mp_state == X86_MP_HALTED) && !shadow && (s->rflags & X86_FLAGS_IF) &&
	    cpu->env.irq_ack) {
		take(cpu, SOFT_EVENT_IRQ);
		int v = cpu->env.irq_ack(cpu->env.opaque);

		if (v >= 0) {
			/* Ask again once IF allows: more may be pending. */
			atomic_fetch_or_explicit(&cpu->events, SOFT_EVENT_IRQ, memory_order_release);
			soft_deliver_external(cpu, (unsigned)v & 0xff);
		}
	}
	if (s->mp_state == X86_MP_HALTED)
		return SOFT_EXIT_HLT;
	return -1;
}

/* ---- Snapshots -------------------------------------------------------------------- */

void soft_cpu_save_state(struct soft_cpu *cpu, struct x86_cpu_state *out)
{
	unsigned ev = atomic_load_explicit(&cpu->events, memory_order_acquire);

	/* INIT and SIPI as the next block boundary would take them (handle_events). */
	if (ev & SOFT_EVENT_INIT) {
		take(cpu, SOFT_EVENT_INIT);
		soft_cpu_reset_state(cpu, true);
		cpu->s.mp_state = X86_MP_WAIT_SIPI;
	}
	if (ev & SOFT_EVENT_SIPI) {
		take(cpu, SOFT_EVENT_SIPI);
		take_sipi(cpu);
	}
	*out = *soft_cpu_state(cpu);
	/* An NMI posted and not taken yet (or blocked by nmi_masked). */
	if (ev & SOFT_EVENT_NMI)
		out->events.nmi_pending = 1;
}

void soft_cpu_load_state(struct soft_cpu *cpu, const struct x86_cpu_state *s, bool set_tsc)
{
	unsigned ev = SOFT_EVENT_IRQ; /* look at the (restored) LAPIC once */

	cpu->s = *s;
	if (set_tsc)
		cpu->tsc_offset = (int64_t)(s->tsc - soft_now_ns());
	cpu->tsc_read_valid = false;
	if (s->events.nmi_pending)
		ev |= SOFT_EVENT_NMI;
	cpu->s.events.nmi_pending = 0;
	/* Posted INIT/SIPI/NMI belonged to the old state; a kick stays. */
	atomic_fetch_and_explicit(&cpu->events, SOFT_EVENT_KICK, memory_order_acq_rel);
	soft_cpu_post(cpu, ev);
	cpu->pend_vector = -1;
	cpu->delivering = -1;
	cpu->exit_req = -1;
	cpu->stop_block = false;
	cpu->cur = NULL;
	cpu->fetch_codegen = NULL;
	soft_set_flags(cpu, cpu->s.rflags);
	soft_mode_update(cpu);
	soft_tlb_flush(cpu, true);
	soft_cc_flush(&cpu->cc);
}

void soft_cpu_set_tsc(struct soft_cpu *cpu, uint64_t tsc)
{
	cpu->tsc_offset = (int64_t)(tsc - soft_now_ns());
	cpu->tsc_read_valid = false;
}

int64_t soft_cpu_tsc_offset(const struct soft_cpu *cpu)
{
	return cpu->tsc_offset;
}

int soft_cpu_drop_write_tlb(struct soft_cpu *cpu)
{
	if (cpu->jb_valid)
		return -EBUSY; /* running: the caller broke the parked-vCPU contract */
	soft_tlb_drop_writes(cpu);
	return 0;
}

/* ---- Run loop ------------------------------------------------------------------- */

static enum soft_exit run_loop(struct soft_cpu *cpu)
{
	struct x86_cpu_state *s = &cpu->s;

	cpu->exit_req = -1;
	cpu->stop_block = false;
	cpu->delivering = -1;
	cpu->tsc_read_valid = false; /* state reads before this run are history */
	cpu->pend_vector = -1;
	if (setjmp(cpu->jb)) {
		/* soft_raise() from a handler, a fetch or a delivery. */
		soft_slow_lock_release();
		cpu->cur = NULL;
		cpu->stop_block = false;
		soft_deliver_pending(cpu);
	}
	cpu->jb_valid = true;
	if (SOFT_UNLIKELY(s->events.exception_pending)) {
		/* An exception the restored state was delivering. */
		s->events.exception_pending = 0;
		cpu->insn_rip = s->rip;
		cpu->pend_vector = s->events.exception_vector;
		cpu->pend_error = s->events.exception_has_error ? (int64_t)s->events.exception_error : -1;
		cpu->pend_soft = false;
		soft_deliver_pending(cpu);
	}
	for (;;) {
		int ex;

		if (SOFT_UNLIKELY(cpu->exit_req >= 0)) {
			ex = cpu->exit_req;
			cpu->exit_req = -1;
			cpu->jb_valid = false;
			return (enum soft_exit)ex;
		}
		cpu->insn_rip = s->rip;
		ex = handle_events(cpu);
		if (SOFT_UNLIKELY(ex >= 0)) {
			cpu->jb_valid = false;
			return (enum soft_exit)ex;
		}
		if (cpu->bounded && cpu->stats.insns >= cpu->budget) {
			cpu->jb_valid = false;
			return SOFT_EXIT_KICK;
		}
		cpu->insn_rip = s->rip;
		const struct soft_block *b = soft_block_lookup(cpu);
		unsigned n = b->n;

		if (cpu->bounded && cpu->stats.insns + n > cpu->budget)
			n = (unsigned)(cpu->budget - cpu->stats.insns);
		if (SOFT_UNLIKELY(s->rflags & X86_FLAGS_TF)) {
			/* Single step: one instruction, then a #DB trap. */
			const struct soft_insn *in = b->insn;

			cpu->insn_rip = s->rip;
			s->rip += in->len;
			cpu->stats.insns++;
			in->exec(cpu, in);
			cpu->stop_block = false;
			if (!cpu->code64)
				s->rip &= cpu->mode == SOFT_MODE_PROT32 ? 0xffffffffull : 0xffffull;
			s->dr[6] |= 1u << 14; /* BS */
			cpu->insn_rip = s->rip;
			cpu->pend_vector = X86_VEC_DB;
			cpu->pend_error = -1;
			cpu->pend_soft = false;
			soft_deliver_pending(cpu);
			continue;
		}
		/*
		 * Four copies of the step: four indirect-call sites give the
		 * host's branch predictor the position in the block as context.
		 */
		const struct soft_insn *in = b->insn, *end = b->insn + n;

#define SOFT_STEP()                                             \
	do {                                                    \
		if (in == end)                                  \
			goto block_done;                        \
		cpu->insn_rip = s->rip;                         \
		s->rip += in->len;                              \
		cpu->stats.insns++;                             \
		in->exec(cpu, in);                              \
		in++;                                           \
		if (SOFT_UNLIKELY(cpu->stop_block)) {           \
			cpu->stop_block = false;                \
			goto block_done;                        \
		}                                               \
	} while (0)
		for (;;) {
			SOFT_STEP();
			SOFT_STEP();
			SOFT_STEP();
			SOFT_STEP();
		}
#undef SOFT_STEP
block_done:
		if (!cpu->code64)
			s->rip &= cpu->mode == SOFT_MODE_PROT32 ? 0xffffffffull : 0xffffull;
	}
}

enum soft_exit soft_cpu_run(struct soft_cpu *cpu)
{
	cpu->bounded = false;
	return run_loop(cpu);
}

enum soft_exit soft_cpu_run_bounded(struct soft_cpu *cpu, uint64_t max_insns)
{
	cpu->bounded = true;
	cpu->budget = cpu->stats.insns + max_insns;
	enum soft_exit r = run_loop(cpu);

	cpu->bounded = false;
	return r;
}

/* ---- Debug ----------------------------------------------------------------------- */

void soft_cpu_dump(struct soft_cpu *cpu, FILE *f)
{
	static const char *const gpr[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	static const char *const sreg[] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };
	const struct x86_cpu_state *s = &cpu->s;

	fprintf(f, "soft cpu%u: mode %u cpl %u lma %d mp_state %u\n", cpu->id, cpu->mode, cpu->cpl, cpu->lma,
		s->mp_state);
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		fprintf(f, "%4s=%016" PRIx64 "%s", gpr[i], s->gpr[i], (i % 4 == 3) ? "\n" : " ");
	fprintf(f, " rip=%016" PRIx64 " rflags=%08" PRIx64 "\n", s->rip, soft_get_flags(cpu));
	for (unsigned i = 0; i < X86_NR_SREGS; i++) {
		const struct x86_segment *g = &s->seg[i];

		fprintf(f, "%4s=%04x base=%016" PRIx64 " limit=%08x type=%x s=%u dpl=%u p=%u l=%u db=%u g=%u%s\n",
			sreg[i], g->selector, g->base, g->limit, g->type, g->s, g->dpl, g->present, g->l, g->db,
			g->g, g->unusable ? " unusable" : "");
	}
	fprintf(f, " gdt=%016" PRIx64 "/%04x idt=%016" PRIx64 "/%04x\n", s->gdt.base, s->gdt.limit, s->idt.base,
		s->idt.limit);
	fprintf(f, " cr0=%08" PRIx64 " cr2=%016" PRIx64 " cr3=%016" PRIx64 " cr4=%08" PRIx64 " efer=%" PRIx64 "\n",
		s->cr0, s->cr2, s->cr3, s->cr4, s->efer);
	fprintf(f, " insns=%" PRIu64 " blocks=%" PRIu64 " exceptions=%" PRIu64 " interrupts=%" PRIu64 "\n",
		cpu->stats.insns, cpu->stats.blocks_decoded, cpu->stats.exceptions, cpu->stats.interrupts);
}
