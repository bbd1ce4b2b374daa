/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local APIC register model, one per vCPU, for the software-CPU backend.
 *
 * Modelled:
 *  - the xAPIC MMIO page (default base 0xFEE00000; 32-bit accesses at
 *    16-byte aligned offsets, lapic_mmio_read/write) and the x2APIC MSRs
 *    0x800-0x8ff (lapic_msr_read/write), plus IA32_APIC_BASE (0x1b) with
 *    the global enable and x2APIC enable bits, and IA32_TSC_DEADLINE (0x6e0);
 *  - ID, version (0x14, six LVT entries, no directed-EOI), TPR/APR/PPR,
 *    the IRR/ISR/TMR bitmaps, EOI (highest ISR bit; a level-triggered
 *    vector is broadcast to the IOAPIC through ops.eoi), LDR/DFR (flat and
 *    cluster), SVR (software enable; disabling masks every LVT), ESR
 *    (illegal-vector errors, latched on write), the LVT entries (timer,
 *    thermal and perf counters exist but never fire, LINT0/LINT1, error,
 *    CMCI);
 *  - the timer in one-shot, periodic and TSC-deadline modes with the
 *    divide configuration. The APIC bus clock is LAPIC_BUS_HZ (1 GHz: one
 *    count per ns before division); the current count is computed from
 *    the time, never ticked. A periodic period is at least
 *    LAPIC_MIN_PERIOD_NS so a guest cannot make the host spin;
 *  - the ICR: fixed, lowest priority (delivered as fixed to the first
 *    matching APIC), NMI, INIT (assert; de-assert is a no-op), start-up,
 *    ExtINT, physical and logical destinations and the shorthands. IPIs
 *    leave through ops.send_ipi as a struct lapic_msg; the machine routes
 *    them with lapic_route() (or lapic_match() + lapic_deliver());
 *  - LINT0/LINT1 input pins (lapic_set_lint), and lapic_accepts_pic()
 *    for virtual-wire mode (LINT0 as ExtINT, or APIC globally disabled).
 *
 * Not modelled: SMI (dropped), delivery status (always idle), the
 * arbitration priority as a real bus arbitration (APR reads 0), remote
 * read (RRD reads 0), directed EOI, thermal/performance/CMCI events,
 * MMIO at a relocated base (lapic_base_addr reports it; the caller maps
 * it), the illegal-register-address ESR bit. x2APIC MSR accesses #GP
 * (return false) for missing and read-only registers, non-zero EOI/ESR
 * writes and reserved high bits, not for every reserved bit.
 *
 * Time: every time is in host nanoseconds of one clock (the clock that
 * ops.now_ns reads and that callers pass to lapic_timer_advance). The
 * guest TSC is that clock plus a per-vCPU offset (lapic_set_tsc_offset),
 * at SOFT_TSC_HZ = 1 GHz, so a TSC-deadline value is a time in ns.
 *
 * Threads: each lapic has a mutex; every function may be called from any
 * thread. Callbacks (ops) are called WITHOUT the lapic's lock held, so a
 * send_ipi may route straight back into lapic_deliver() of any lapic,
 * the sender included, and ops.eoi may call ioapic_eoi(). Lock order of
 * the irqchip: pit -> pic/ioapic -> lapic.
 *
 * Snapshots: lapic_save()/lapic_restore() convert to and from the 1 KiB
 * register page, apic_id, msr.apic_base and msr.tsc_deadline of struct
 * x86_cpu_state, plus the small struct lapic_snap (timer remaining time).
 */
#ifndef OSPREY_IRQCHIP_LAPIC_H
#define OSPREY_IRQCHIP_LAPIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ULL
#define LAPIC_MMIO_SIZE 0x1000
#define LAPIC_BUS_HZ 1000000000ULL
#define LAPIC_MIN_PERIOD_NS 100000ULL /* 100 us: the fastest periodic timer */
#define LAPIC_VERSION 0x14
#define LAPIC_NR_LVT 6 /* timer, thermal, perf, LINT0, LINT1, error (+ CMCI) */

/* MSRs the lapic answers. */
#define LAPIC_MSR_APIC_BASE 0x1b
#define LAPIC_MSR_TSC_DEADLINE 0x6e0
#define LAPIC_MSR_X2APIC_FIRST 0x800
#define LAPIC_MSR_X2APIC_LAST 0x8ff

/* IA32_APIC_BASE bits. */
#define LAPIC_BASE_BSP (1ULL << 8)
#define LAPIC_BASE_EXTD (1ULL << 10) /* x2APIC mode */
#define LAPIC_BASE_EN (1ULL << 11)   /* global enable */
#define LAPIC_BASE_ADDR_MASK 0x000ffffffffff000ULL

/* Register offsets in the xAPIC page (x2APIC MSR = 0x800 + offset / 16). */
#define APIC_ID 0x20
#define APIC_LVR 0x30
#define APIC_TPR 0x80
#define APIC_APR 0x90
#define APIC_PPR 0xa0
#define APIC_EOI 0xb0
#define APIC_RRD 0xc0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100 /* 8 registers, 16 bytes apart */
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_LVT_CMCI 0x2f0
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TMICT 0x380 /* timer initial count */
#define APIC_TMCCT 0x390 /* timer current count */
#define APIC_TDCR 0x3e0	 /* timer divide configuration */
#define APIC_SELF_IPI 0x3f0 /* x2APIC only */

/* SVR */
#define APIC_SVR_ENABLE (1u << 8)

/* LVT and ICR fields. */
#define APIC_VECTOR_MASK 0xffu
#define APIC_DM_SHIFT 8
#define APIC_DM_MASK (7u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_LEVEL (1u << 15)     /* trigger mode */
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_ICR_LEVEL_ASSERT (1u << 14)
#define APIC_ICR_LOGICAL (1u << 11)
#define APIC_ICR_BUSY (1u << 12)
#define APIC_ICR_SHORTHAND_SHIFT 18
#define APIC_TIMER_MODE_SHIFT 17
#define APIC_TIMER_MODE_MASK (3u << 17)

/* Delivery modes (ICR, LVT, IOAPIC redirection entries). */
enum lapic_delivery {
	LAPIC_DM_FIXED = 0,
	LAPIC_DM_LOWEST = 1,
	LAPIC_DM_SMI = 2,
	LAPIC_DM_NMI = 4,
	LAPIC_DM_INIT = 5,
	LAPIC_DM_SIPI = 6,
	LAPIC_DM_EXTINT = 7,
};

/* ICR destination shorthands. */
enum lapic_shorthand {
	LAPIC_SH_NONE = 0,
	LAPIC_SH_SELF = 1,
	LAPIC_SH_ALL = 2,	   /* all including self */
	LAPIC_SH_ALL_BUT_SELF = 3,
};

enum lapic_timer_mode {
	LAPIC_TIMER_ONESHOT = 0,
	LAPIC_TIMER_PERIODIC = 1,
	LAPIC_TIMER_DEADLINE = 2,
};

/* An interrupt message on the (virtual) APIC bus: an IPI or an IOAPIC/MSI delivery. */
struct lapic_msg {
	uint32_t dest;	     /* APIC ID, or logical mask, per the fields below */
	uint8_t vector;
	uint8_t delivery;    /* enum lapic_delivery */
	uint8_t shorthand;   /* enum lapic_shorthand; 0 for IOAPIC/MSI */
	bool logical;	     /* logical destination mode */
	bool level_trig;     /* level-triggered (TMR bit set on acceptance) */
	bool x2apic_dest;    /* 32-bit x2APIC destination (broadcast 0xffffffff, else 0xff) */
	const struct lapic *src; /* the sending lapic for the shorthands, or NULL */
};

/* Events a lapic signals to its own vCPU (ops.notify). */
enum lapic_event {
	LAPIC_EV_IRQ = 1,  /* an interrupt may be deliverable: call lapic_pending_vector/ack */
	LAPIC_EV_NMI = 2,
	LAPIC_EV_INIT = 3, /* INIT: the vCPU resets to wait-for-SIPI (lapic already reset) */
	LAPIC_EV_SIPI = 4, /* start-up with vector (page number of the start address) */
	LAPIC_EV_EXTINT = 5, /* ExtINT: the vector comes from the PIC (pic_ack) */
	LAPIC_EV_TIMER = 6, /* the guest reprogrammed the timer: re-read lapic_next_timer_ns */
};

struct lapic_ops {
	void *opaque;
	/* The clock (ns). NULL: the time of the last lapic_timer_advance(). */
	uint64_t (*now_ns)(void *opaque);
	/* An IPI this lapic sends (ICR write, self-IPI). */
	void (*send_ipi)(void *opaque, const struct lapic_msg *msg);
	/* EOI of a level-triggered vector: broadcast to the IOAPIC(s). */
	void (*eoi)(void *opaque, uint8_t vector);
	/* Something for this lapic's vCPU (enum lapic_event); vector for SIPI. */
	void (*notify)(void *opaque, enum lapic_event ev, uint8_t vector);
};

/* Timer fields that the register page does not carry. */
struct lapic_snap {
	/* Until the next expiry of a one-shot/periodic timer; UINT64_MAX: none. */
	uint64_t timer_remaining_ns;
	uint64_t timer_period_ns;    /* periodic period in ns (0 when not periodic) */
	uint32_t esr_pending;
	uint8_t lint_level;
	uint8_t pad[3];
};

struct lapic {
	pthread_mutex_t lock;
	struct lapic_ops ops;
	uint32_t regs[X86_LAPIC_REGS_SIZE / 4]; /* the xAPIC page, offset / 4 */
	uint64_t apic_base;
	uint32_t id;		/* the initial (x2APIC) ID */
	bool x2apic_supported;
	int64_t tsc_offset;	/* guest TSC = now + tsc_offset */
	uint64_t last_now;	/* the time of the last advance (no clock callback) */
	/* Timer: next expiry (UINT64_MAX: not armed) and the periodic period. */
	uint64_t timer_next_ns;
	uint64_t timer_period_ns;
	uint64_t tsc_deadline;	/* guest TSC, 0: disarmed */
	uint32_t esr_pending;	/* errors since the last ESR write */
	uint8_t lint_level;	/* LINT0/LINT1 input levels (bits 0, 1) */
	bool extint_pending;	/* an ExtINT message arrived: the vector comes from the PIC */
};

/*
 * Initializes a lapic with APIC ID id (the BSP when bsp), as after RESET:
 * globally enabled at LAPIC_DEFAULT_BASE in xAPIC mode, software disabled.
 * x2apic_supported: the template advertises x2APIC (CPUID.1:ECX[21]), so
 * the guest may switch to it through IA32_APIC_BASE.
 */
void lapic_init(struct lapic *l, uint32_t id, bool bsp, bool x2apic_supported,
		const struct lapic_ops *ops);
void lapic_destroy(struct lapic *l);
/* RESET (power-up) state again; INIT is lapic_deliver of LAPIC_DM_INIT. */
void lapic_reset(struct lapic *l, bool bsp);

/*
 * xAPIC MMIO, offset in the 4 KiB page. Misaligned or non-register
 * offsets: read 0, write ignored.
 */
uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset);
void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t value);
/* Any access length (1, 2, 4, 8) as the CPU's MMIO callback gives it; only aligned dwords write. */
void lapic_mmio_access(struct lapic *l, uint32_t offset, bool is_write, uint8_t *data,
		       unsigned len);
/*
 * Guest physical base of the MMIO page (IA32_APIC_BASE), and whether it
 * is mapped (globally enabled, not x2APIC).
 */
uint64_t lapic_base_addr(struct lapic *l);
bool lapic_mmio_enabled(struct lapic *l);

/*
 * MSRs: IA32_APIC_BASE, IA32_TSC_DEADLINE and (in x2APIC mode) 0x800-0x8ff.
 * false: #GP (no such MSR in this mode, reserved bits, read of a write-only register).
 */
bool lapic_msr_read(struct lapic *l, uint32_t index, uint64_t *value);
bool lapic_msr_write(struct lapic *l, uint32_t index, uint64_t value);
bool lapic_is_x2apic(struct lapic *l);

/* TPR (8-bit register value; CR8 = TPR >> 4). */
void lapic_set_tpr(struct lapic *l, uint8_t tpr);
uint8_t lapic_get_tpr(struct lapic *l);

/* The guest TSC offset for TSC-deadline mode (guest TSC = now_ns + offset). */
void lapic_set_tsc_offset(struct lapic *l, int64_t offset);

/* --- the CPU side --- */

/* A fixed interrupt arrives (from a device model directly): sets IRR (and TMR when level). */
void lapic_accept_irq(struct lapic *l, uint8_t vector, bool level_trig);
/* The highest IRR vector above the PPR, or -1 (also while globally disabled). */
int lapic_pending_vector(struct lapic *l);
/* Interrupt acknowledge: highest deliverable IRR -> ISR; returns its vector or -1. */
int lapic_ack(struct lapic *l);
/* When the timer fires next (ns, the clock of now_ns), UINT64_MAX if never. */
uint64_t lapic_next_timer_ns(struct lapic *l);
/*
 * The same for a timer thread: UINT64_MAX while a periodic timer's ticks
 * change nothing (masked, or its vector still in IRR); lapic_ack and LVT
 * timer writes announce LAPIC_EV_TIMER when that ends.
 */
uint64_t lapic_next_timer_event_ns(struct lapic *l);
/* Fires the timer if it expired by now_ns (sets IRR and notifies). */
void lapic_timer_advance(struct lapic *l, uint64_t now_ns);

/* LINT0/LINT1 input pin levels (PIC INTR on LINT0, NMI on LINT1). */
void lapic_set_lint(struct lapic *l, unsigned pin, bool level);
/*
 * Virtual wire: PIC interrupts go to this CPU (LINT0 unmasked as ExtINT,
 * or the APIC globally disabled).
 */
bool lapic_accepts_pic(struct lapic *l);
/*
 * An ExtINT message (IOAPIC pin in ExtINT mode, ExtINT IPI) arrived since
 * the last call: the next interrupt's vector comes from the PIC (pic_ack).
 * Clears the flag.
 */
bool lapic_take_extint(struct lapic *l);
/* The same without clearing it. */
bool lapic_extint_pending(struct lapic *l);

/* --- the bus --- */

/* Whether msg addresses target (destination mode, shorthand, sender). */
bool lapic_match(struct lapic *target, const struct lapic_msg *msg);
/* Delivers msg to target regardless of its destination (after lapic_match). */
void lapic_deliver(struct lapic *target, const struct lapic_msg *msg);
/*
 * Delivers msg to every matching lapic of lapics[0..n) (lowest priority:
 * only the first match). Returns the number of lapics it reached.
 */
unsigned lapic_route(struct lapic *const *lapics, unsigned n, const struct lapic_msg *msg);

/* --- snapshots --- */

/* Writes s->lapic, s->apic_id, s->msr.apic_base, s->msr.tsc_deadline and *snap. */
void lapic_save(struct lapic *l, struct x86_cpu_state *s, struct lapic_snap *snap);
/* The reverse; the timer restarts relative to the clock's now. */
void lapic_restore(struct lapic *l, const struct x86_cpu_state *s, const struct lapic_snap *snap);

#endif
