// SPDX-License-Identifier: Apache-2.0
/*
 * Exceptions and interrupts of the software CPU: soft_raise() (records the
 * event, rewinds RIP to the faulting instruction and longjmps to the run
 * loop), and delivery through the IVT (real mode), 32-bit IDT gates
 * (protected mode) and 16-byte gates (long mode: IST, stack switch through
 * the TSS, SS = NULL on a privilege change), with the double-fault and
 * triple-fault (shutdown) rules.
 */
#include <stdio.h>
#include <stdlib.h>

#include "accel/soft/cpu_internal.h"
#include "base/log.h"

__attribute__((noreturn)) void soft_raise(struct soft_cpu *cpu, unsigned vector, int64_t error)
{
	cpu->stats.exceptions++;
	/* EXT: a selector error while delivering an event the program did not raise itself. */
	if (cpu->delivering >= 0 && !cpu->delivering_soft && error >= 0 &&
	    (vector == X86_VEC_TS || vector == X86_VEC_NP || vector == X86_VEC_SS || vector == X86_VEC_GP))
		error |= 1;
	cpu->pend_vector = (int)vector;
	cpu->pend_error = error;
	cpu->pend_soft = false;
	cpu->s.rip = cpu->insn_rip;
	if (!cpu->jb_valid) {
		fprintf(stderr, "soft_raise outside the run loop (vector %u)\n", vector);
		abort();
	}
	longjmp(cpu->jb, 1);
}

__attribute__((noreturn)) void soft_raise_soft(struct soft_cpu *cpu, unsigned vector)
{
	cpu->pend_vector = (int)vector;
	cpu->pend_error = -1;
	cpu->pend_soft = true;
	longjmp(cpu->jb, 1);
}

static bool contributory(int v)
{
	return v == X86_VEC_DE || v == X86_VEC_TS || v == X86_VEC_NP || v == X86_VEC_SS || v == X86_VEC_GP;
}

static bool has_error_code(unsigned v)
{
	return v == X86_VEC_DF || (v >= X86_VEC_TS && v <= X86_VEC_PF) || v == X86_VEC_AC;
}

static void shutdown(struct soft_cpu *cpu)
{
	cpu->s.mp_state = X86_MP_STOPPED;
	cpu->exit_req = SOFT_EXIT_SHUTDOWN;
}

/* Pushes to the stack being built for delivery (not RSP itself). */
struct frame {
	uint64_t base;	/* SS base (0 in long mode) */
	uint64_t sp;
	uint64_t mask;	/* stack pointer width */
	bool user;
};

static void frame_push(struct soft_cpu *cpu, struct frame *f, uint64_t v, unsigned size)
{
	f->sp = (f->sp - size) & f->mask;
	uint64_t lin = f->base + f->sp;

	if (!cpu->lma)
		lin &= 0xffffffffull;
	soft_write_as(cpu, lin, &v, size, f->user);
}

static void deliver_real(struct soft_cpu *cpu, unsigned vector)
{
	struct x86_cpu_state *s = &cpu->s;
	uint16_t ivt[2];

	if ((uint64_t)vector * 4 + 3 > s->idt.limit)
		soft_raise(cpu, X86_VEC_GP, 0);
	soft_read_sys(cpu, s->idt.base + vector * 4u, ivt, 4);
	uint64_t flags = soft_get_flags(cpu);
	struct frame f = { s->seg[X86_SS].base, s->gpr[X86_RSP] & 0xffff, 0xffff, false };

	frame_push(cpu, &f, flags & 0xffff, 2);
	frame_push(cpu, &f, s->seg[X86_CS].selector, 2);
	frame_push(cpu, &f, s->rip & 0xffff, 2);
	s->gpr[X86_RSP] = (s->gpr[X86_RSP] & ~0xffffull) | f.sp;
	soft_set_flags(cpu, flags & ~(uint64_t)(X86_FLAGS_IF | X86_FLAGS_TF | X86_FLAGS_AC | X86_FLAGS_RF));
	soft_seg_real(&s->seg[X86_CS], ivt[1]);
	s->rip = ivt[0];
}

static _Atomic bool warned_task_gate, warned_v86;

static void deliver_prot(struct soft_cpu *cpu, unsigned vector, int64_t error, bool soft_int)
{
	struct x86_cpu_state *s = &cpu->s;
	uint64_t gate, idt_err = vector * 8u + 2;
	struct x86_segment cs;
	uint64_t cd[2];
	unsigned cpl = cpu->cpl;

	if ((uint64_t)vector * 8 + 7 > s->idt.limit)
		soft_raise(cpu, X86_VEC_GP, (int64_t)idt_err);
	soft_read_sys(cpu, s->idt.base + vector * 8u, &gate, 8);
	unsigned type = (gate >> 40) & 0x1f, dpl = (gate >> 45) & 3;
	bool g32 = type == 0xe || type == 0xf;

	if (!(g32 || type == 0x6 || type == 0x7)) {
		/* Once: a guest can raise this in a loop (the log is the host's). */
		if (type == 0x5 && !atomic_exchange(&warned_task_gate, true))
			log_warnx("soft", "cpu%u: task gate for vector %u not supported (logged once)", cpu->id,
				  vector);
		soft_raise(cpu, X86_VEC_GP, (int64_t)idt_err);
	}
	if (soft_int && dpl < cpl)
		soft_raise(cpu, X86_VEC_GP, (int64_t)idt_err);
	if (!((gate >> 47) & 1))
		soft_raise(cpu, X86_VEC_NP, (int64_t)idt_err);
	uint16_t sel = (gate >> 16) & 0xffff;
	uint32_t off = (uint32_t)((gate & 0xffff) | ((gate >> 32) & 0xffff0000u));

	if (!(sel & ~3u) || !soft_desc_read(cpu, sel, cd, false))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_desc_to_seg(cd[0], &cs, sel);
	if (!cs.s || !(cs.type & 8) || cs.dpl > cpl)
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	if (!cs.present)
		soft_raise(cpu, X86_VEC_NP, sel & ~3u);
	unsigned ncpl = (cs.type & 4) ? cpl : cs.dpl;
	uint64_t flags = soft_get_flags(cpu);
	unsigned psz = g32 ? 4 : 2;
	struct x86_segment ss = s->seg[X86_SS];
	struct frame f;

	if (flags & X86_FLAGS_VM) {
		if (!atomic_exchange(&warned_v86, true))
			log_warnx("soft", "cpu%u: virtual-8086 mode not supported (logged once)", cpu->id);
		soft_raise(cpu, X86_VEC_GP, 0);
	}
	if (ncpl < cpl) {
		const struct x86_segment *tr = &s->seg[X86_TR];
		uint32_t esp;
		uint16_t ssel;
		uint64_t sd[2];

		if ((uint64_t)ncpl * 8 + 11 > tr->limit)
			soft_raise(cpu, X86_VEC_TS, tr->selector & ~3u);
		soft_read_sys(cpu, tr->base + 4 + ncpl * 8, &esp, 4);
		soft_read_sys(cpu, tr->base + 8 + ncpl * 8, &ssel, 2);
		if (!(ssel & ~3u) || !soft_desc_read(cpu, ssel, sd, false))
			soft_raise(cpu, X86_VEC_TS, ssel & ~3u);
		soft_desc_to_seg(sd[0], &ss, ssel);
		if ((ssel & 3) != ncpl || ss.dpl != ncpl || !ss.s || (ss.type & 8) || !(ss.type & 2))
			soft_raise(cpu, X86_VEC_TS, ssel & ~3u);
		if (!ss.present)
			soft_raise(cpu, X86_VEC_SS, ssel & ~3u);
		f = (struct frame){ ss.base, esp, ss.db ? 0xffffffffull : 0xffff, ncpl == 3 };
		if (!ss.db)
			f.sp &= 0xffff;
		frame_push(cpu, &f, s->seg[X86_SS].selector, psz);
		frame_push(cpu, &f, s->gpr[X86_RSP], psz);
	} else {
		uint64_t m = ss.db ? 0xffffffffull : 0xffff;

		f = (struct frame){ ss.base, s->gpr[X86_RSP] & m, m, ncpl == 3 };
	}
	frame_push(cpu, &f, flags, psz);
	frame_push(cpu, &f, s->seg[X86_CS].selector, psz);
	frame_push(cpu, &f, s->rip, psz);
	if (error >= 0)
		frame_push(cpu, &f, (uint64_t)error, psz);

	/* Commit. */
	if (ncpl < cpl) {
		ss.type |= 1;
		s->seg[X86_SS] = ss;
	}
	if (f.mask == 0xffff)
		s->gpr[X86_RSP] = (s->gpr[X86_RSP] & ~0xffffull) | f.sp;
	else
		s->gpr[X86_RSP] = f.sp;
	cs.type |= 1;
	cs.selector = (uint16_t)((sel & ~3u) | ncpl);
	cs.dpl = (uint8_t)ncpl;
	s->seg[X86_CS] = cs;
	s->rip = g32 ? off : (off & 0xffff);
	flags &= ~(uint64_t)(X86_FLAGS_TF | X86_FLAGS_NT | X86_FLAGS_RF | X86_FLAGS_VM);
	if (!(type & 1))
		flags &= ~(uint64_t)X86_FLAGS_IF;
	soft_set_flags(cpu, flags);
}

static void deliver_long(struct soft_cpu *cpu, unsigned vector, int64_t error, bool soft_int)
{
	struct x86_cpu_state *s = &cpu->s;
	uint64_t gate[2], idt_err = vector * 8u + 2;
	struct x86_segment cs;
	uint64_t cd[2];
	unsigned cpl = cpu->cpl;

	if ((uint64_t)vector * 16 + 15 > s->idt.limit)
		soft_raise(cpu, X86_VEC_GP, (int64_t)idt_err);
	soft_read_sys(cpu, s->idt.base + vector * 16u, gate, 16);
	unsigned type = (gate[0] >> 40) & 0x1f, dpl = (gate[0] >> 45) & 3;

	if (type != 0xe && type != 0xf)
		soft_raise(cpu, X86_VEC_GP, (int64_t)idt_err);
	if (soft_int && dpl < cpl)
		soft_raise(cpu, X86_VEC_GP, (int64_t)idt_err);
	if (!((gate[0] >> 47) & 1))
		soft_raise(cpu, X86_VEC_NP, (int64_t)idt_err);
	uint16_t sel = (gate[0] >> 16) & 0xffff;
	uint64_t off = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000u) | (gate[1] << 32);
	unsigned ist = (gate[0] >> 32) & 7;

	if (!(sel & ~3u) || !soft_desc_read(cpu, sel, cd, false))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_desc_to_seg(cd[0], &cs, sel);
	if (!cs.s || !(cs.type & 8) || cs.dpl > cpl || !cs.l || cs.db)
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	if (!cs.present)
		soft_raise(cpu, X86_VEC_NP, sel & ~3u);
	if (!soft_canonical(off))
		soft_raise(cpu, X86_VEC_GP, 0);
	unsigned ncpl = (cs.type & 4) ? cpl : cs.dpl;
	uint64_t flags = soft_get_flags(cpu);
	uint64_t rsp = s->gpr[X86_RSP];
	const struct x86_segment *tr = &s->seg[X86_TR];

	if (ist || ncpl < cpl) {
		unsigned o = ist ? 0x24 + (ist - 1) * 8 : 4 + ncpl * 8;

		if ((uint64_t)o + 7 > tr->limit)
			soft_raise(cpu, X86_VEC_TS, tr->selector & ~3u);
		soft_read_sys(cpu, tr->base + o, &rsp, 8);
		if (!soft_canonical(rsp))
			soft_raise(cpu, X86_VEC_SS, 0);
	}
	if (!cpu->code64 && !(ist || ncpl < cpl))
		rsp &= 0xffffffffull;
	struct frame f = { 0, rsp & ~15ull, ~0ull, ncpl == 3 };

	frame_push(cpu, &f, s->seg[X86_SS].selector, 8);
	frame_push(cpu, &f, s->gpr[X86_RSP], 8);
	frame_push(cpu, &f, flags, 8);
	frame_push(cpu, &f, s->seg[X86_CS].selector, 8);
	frame_push(cpu, &f, s->rip, 8);
	if (error >= 0)
		frame_push(cpu, &f, (uint64_t)error, 8);

	if (ncpl != cpl) {
		struct x86_segment *ss = &s->seg[X86_SS];

		ss->selector = (uint16_t)ncpl;
		ss->unusable = 1;
		ss->base = 0;
		ss->dpl = (uint8_t)ncpl;
	}
	s->gpr[X86_RSP] = f.sp;
	cs.type |= 1;
	cs.selector = (uint16_t)((sel & ~3u) | ncpl);
	cs.dpl = (uint8_t)ncpl;
	s->seg[X86_CS] = cs;
	s->rip = off;
	flags &= ~(uint64_t)(X86_FLAGS_TF | X86_FLAGS_NT | X86_FLAGS_RF | X86_FLAGS_VM);
	if (!(type & 1))
		flags &= ~(uint64_t)X86_FLAGS_IF;
	soft_set_flags(cpu, flags);
}

static void deliver(struct soft_cpu *cpu, unsigned vector, int64_t error, bool soft_int)
{
	if (!has_error_code(vector) || soft_int)
		error = -1;
	if (!(cpu->s.cr0 & 1))
		deliver_real(cpu, vector);
	else if (cpu->lma)
		deliver_long(cpu, vector, error, soft_int);
	else
		deliver_prot(cpu, vector, error, soft_int);
	if (vector == X86_VEC_NMI && !soft_int)
		cpu->s.events.nmi_masked = 1;
	cpu->s.events.interrupt_shadow = 0;
	if (cpu->s.mp_state == X86_MP_HALTED)
		cpu->s.mp_state = X86_MP_RUNNABLE;
	soft_mode_update(cpu);
}

void soft_deliver_pending(struct soft_cpu *cpu)
{
	int vector = cpu->pend_vector;
	int64_t error = cpu->pend_error;
	bool soft_int = cpu->pend_soft;

	cpu->pend_vector = -1;
	if (vector < 0)
		return;
	if (cpu->delivering >= 0) {
		int prev = cpu->delivering;

		if (prev == X86_VEC_DF) {
			cpu->delivering = -1;
			log_warnx("soft", "cpu%u: triple fault (vector %d while delivering #DF) at rip %#llx", cpu->id,
				 vector, (unsigned long long)cpu->s.rip);
			shutdown(cpu);
			return;
		}
		if ((contributory(prev) && contributory(vector)) ||
		    (prev == X86_VEC_PF && (vector == X86_VEC_PF || contributory(vector)))) {
			vector = X86_VEC_DF;
			error = 0;
			soft_int = false;
		}
	}
	cpu->delivering = vector;
	cpu->delivering_soft = soft_int;
	deliver(cpu, (unsigned)vector, error, soft_int);
	cpu->delivering = -1;
}

void soft_deliver_external(struct soft_cpu *cpu, unsigned vector)
{
	cpu->insn_rip = cpu->s.rip;
	cpu->delivering = (int)vector;
	cpu->delivering_soft = false;
	cpu->stats.interrupts++;
	deliver(cpu, vector, -1, false);
	cpu->delivering = -1;
}
