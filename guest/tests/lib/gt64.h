/* SPDX-License-Identifier: MIT */
/*
 * gt64.h - the 64-bit part of the test-guest library (lib/start64.S,
 * lib/gt64.c): long mode, an IDT that reports exceptions, user mode.
 * The rest of gt.h (serial output, poweroff, ...) works in 64-bit guests
 * too, and from user mode when RFLAGS.IOPL is 3.
 */
#ifndef GT64_H
#define GT64_H

#include "gt.h"
#include "gt64_defs.h"

/* What gt64_trap() gets: the stub's pushes, then the CPU's. */
struct gt64_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Installs the TSS (RSP0 = a stack of its own, an I/O bitmap that allows
 * every port to user mode) and an IDT whose
 * exception vectors 0-31 print the frame and fail, plus the user-exit
 * gate (DPL 3). Kernel mode only. */
void gt64_cpu_init(void);

/*
 * Runs fn(arg) in user mode (CPL3, selectors GT64_USER_CS/DS) on the
 * stack that ends at user_rsp (16-byte aligned), with RFLAGS = rflags
 * (include GT64_RFLAGS_FIXED), and returns fn's result.  An exception in
 * user mode ends the guest through gt64_trap().
 *
 * On kvm_pvm hosts user mode always runs with IOPL 0 (and hardware IF 1)
 * whatever rflags says, so cli/sti raise #GP there; port I/O still works
 * through the TSS I/O bitmap that gt64_cpu_init() installs (all ports
 * allowed), but slowly (60-120 us per access).  int $N from user mode
 * raises #UD at the int; int3 gives #BP; rdtsc, cpuid (native: the
 * host's leaves, not the VMM's), MMIO and ud2 behave as on hardware.
 */
uint64_t gt64_enter_user(uint64_t (*fn)(void *), void *arg, uint64_t user_rsp,
			 uint64_t rflags);

/* Called by the exception stubs: prints the frame to COM1, fails. */
GT_NORETURN void gt64_trap(struct gt64_frame *f);

/* Ends the guest as a failure: a triple fault (osprey exit status 3).
 * Kernel mode only; from user mode, trap into the kernel (ud2). */
GT_NORETURN void gt64_fail(void);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* Compiler and CPU ordering for rings shared with a device. */
static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}
static inline void mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/*
 * The TSC frequency in kHz from KVM's paravirtual clock (CPUID
 * 0x40000001 KVM_FEATURE_CLOCKSOURCE2, MSR_KVM_SYSTEM_TIME_NEW), or 0.
 * Kernel mode only (wrmsr).
 */
uint64_t gt64_kvmclock_tsc_khz(void);

#endif /* GT64_H */
