/* SPDX-License-Identifier: Apache-2.0 */
/*
 * osprey's software x86-64 CPU: the public face of accel/soft/. One
 * struct soft_cpu per vCPU, driven by one host thread; the machine around
 * it (RAM, buses, interrupt controller, CPUID, MSRs that belong to the
 * platform) is reached only through struct soft_env, so the CPU can run
 * in the VMM, in unit tests, in the differential tests and in fuzzers
 * alike.
 *
 * Guest time: the guest TSC counts nanoseconds of the host's
 * CLOCK_MONOTONIC (SOFT_TSC_HZ) plus a per-vCPU offset, so that the TSC
 * frequency the guest is told is exact and never calibrated.
 */
#ifndef OSPREY_ACCEL_SOFT_SOFT_CPU_H
#define OSPREY_ACCEL_SOFT_SOFT_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "hw/memory.h"

#define SOFT_TSC_HZ 1000000000ULL

struct soft_cpu;

/* What the CPU needs from the machine. Every callback may be NULL. */
struct soft_env {
	/*
	 * Guest RAM. Physical accesses inside a RAM region go straight to
	 * memory (through guest_mem_ptr's check); everything else is MMIO.
	 */
	const struct guest_mem *mem;
	void *opaque;
	/* Port I/O (len 1, 2, 4): reads fill data; unclaimed reads read ones. */
	void (*pio)(void *opaque, uint16_t port, bool is_write, uint8_t *data, unsigned len);
	/* MMIO outside RAM (len 1, 2, 4, 8). */
	void (*mmio)(void *opaque, uint64_t gpa, bool is_write, uint8_t *data, unsigned len);
	/* CPUID leaf/subleaf into out[EAX, EBX, ECX, EDX]. */
	void (*cpuid)(void *opaque, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
	/*
	 * MSRs the core does not keep itself (x2APIC range, TSC deadline,
	 * kvmclock, ...). false: the MSR does not exist (#GP).
	 */
	bool (*rdmsr)(void *opaque, uint32_t index, uint64_t *value);
	bool (*wrmsr)(void *opaque, uint32_t index, uint64_t value);
	/*
	 * Interrupt acknowledge, called when the CPU can take an external
	 * interrupt (IF=1, no shadow) after soft_cpu_interrupt() or at a
	 * block boundary with SOFT_EVENT_IRQ set: the vector to deliver, or -1.
	 */
	int (*irq_ack)(void *opaque);
	/* CR8 / TPR writes, so the LAPIC sees them (may be NULL). */
	void (*tpr_write)(void *opaque, uint8_t tpr);
};

enum soft_exit {
	SOFT_EXIT_KICK,	    /* soft_cpu_kick() was called: the caller decides */
	SOFT_EXIT_HLT,	    /* HLT with no interrupt deliverable: wait, then run again */
	SOFT_EXIT_SHUTDOWN, /* triple fault: state is dumpable, the machine is dead */
	SOFT_EXIT_WAIT_SIPI, /* application processor waiting for its start-up IPI */
};

/* Events other threads post to a running CPU (soft_cpu_post). */
#define SOFT_EVENT_KICK (1u << 0) /* return SOFT_EXIT_KICK */
#define SOFT_EVENT_IRQ (1u << 1)  /* an interrupt may be deliverable: call irq_ack */
#define SOFT_EVENT_NMI (1u << 2)
#define SOFT_EVENT_INIT (1u << 3) /* INIT IPI: reset to wait-for-SIPI */
#define SOFT_EVENT_SIPI (1u << 4) /* start-up IPI; vector in state.events.sipi_vector */

/* NULL on allocation failure. The state starts as after RESET (real mode, F000:FFF0). */
struct soft_cpu *soft_cpu_new(const struct soft_env *env, unsigned id);
void soft_cpu_free(struct soft_cpu *cpu);

/*
 * The register file. Read or change it only while soft_cpu_run() is not
 * running on another thread; call soft_cpu_state_changed() after a change
 * of control registers, segments or mode (flushes the TLB and mode caches).
 * state->tsc: soft_cpu_state() fills it with the TSC now; a value it
 * handed out since the last run is taken back unchanged (the TSC goes on),
 * any other value sets this CPU's TSC (snapshot restore).
 */
struct x86_cpu_state *soft_cpu_state(struct soft_cpu *cpu);
void soft_cpu_state_changed(struct soft_cpu *cpu);

/*
 * Snapshots and migration (accel/accel.h vcpu_get_state/vcpu_set_state),
 * only while soft_cpu_run() does not run:
 *
 * soft_cpu_save_state: the whole architectural state into *out. Events
 * posted but not yet taken are settled first, as the next block boundary
 * would: an INIT resets the CPU to wait-for-SIPI, then a SIPI starts it;
 * a pending NMI is reported in out->events.nmi_pending. Posted interrupt
 * hints need nothing: pending interrupts live in the LAPIC's IRR, which
 * the backend saves. out->lapic and the lapic_timer_* fields are the
 * backend's to fill (the CPU has no LAPIC).
 *
 * soft_cpu_load_state: replaces the state with *s: the lazy flags, the
 * mode caches (mode, CPL, long mode), every TLB entry and the decoded
 * code of this CPU are dropped and derived again; posted events are
 * cleared, an NMI pending in s is posted, an exception pending in s is
 * delivered when the CPU runs next. set_tsc: the TSC continues from
 * s->tsc (otherwise it keeps running as it was).
 */
void soft_cpu_save_state(struct soft_cpu *cpu, struct x86_cpu_state *out);
void soft_cpu_load_state(struct soft_cpu *cpu, const struct x86_cpu_state *s, bool set_tsc);

/* Sets the guest TSC to tsc now (it counts on at SOFT_TSC_HZ). */
void soft_cpu_set_tsc(struct soft_cpu *cpu, uint64_t tsc);
/* guest TSC = CLOCK_MONOTONIC ns + this offset. */
int64_t soft_cpu_tsc_offset(const struct soft_cpu *cpu);

/*
 * Dirty logging: drops every write entry of the TLB, so that the next
 * write to each page translates again and marks the page in
 * env.mem->dirty (while it is set, every write translation and every
 * physical write the CPU does marks its page, and so do page-table
 * accessed/dirty bit updates). Only while soft_cpu_run() does not run:
 * -EBUSY (nothing done) when it does.
 */
int soft_cpu_drop_write_tlb(struct soft_cpu *cpu);

/* Runs guest code on the calling thread until one of enum soft_exit. */
enum soft_exit soft_cpu_run(struct soft_cpu *cpu);

/*
 * Runs at most max_insns instructions, then returns SOFT_EXIT_KICK (tests
 * and the differential harness).
 */
enum soft_exit soft_cpu_run_bounded(struct soft_cpu *cpu, uint64_t max_insns);

/* From any thread, async-signal-safe: sets event bits and wakes the run loop. */
void soft_cpu_post(struct soft_cpu *cpu, unsigned events);

/* The guest TSC of this CPU now. */
uint64_t soft_cpu_tsc(struct soft_cpu *cpu);

/*
 * Guest physical memory [gpa, gpa+len) was written by someone other than
 * a soft CPU (device DMA, loader, snapshot restore): decoded code from
 * those pages is dropped on every CPU of the process. Cheap when the
 * pages never held code.
 */
void soft_code_invalidate(uint64_t gpa, uint64_t len);

/* Statistics for metrics and benchmarks. */
struct soft_cpu_stats {
	uint64_t insns;		/* instructions retired */
	uint64_t blocks_decoded;
	uint64_t code_invalidations;
	uint64_t tlb_misses;
	uint64_t exceptions;
	uint64_t interrupts;
};
void soft_cpu_get_stats(const struct soft_cpu *cpu, struct soft_cpu_stats *out);

#endif
