/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure conversions between KVM's structs and osprey's neutral state
 * (arch/x86/cpu_state.h, irqchip/platform_state.h), for snapshots and
 * migration; no ioctl here, so that unit tests exercise them without
 * /dev/kvm (tests/unit/test_kvm_state.c). The ioctl glue that uses them
 * is in vcpu.c (vCPU state), platform.c (irqchip, PIT, clock, TSC) and
 * dirty.c (dirty log). The semantics of each field, and what KVM cannot
 * represent, are described in state.c.
 */
#ifndef OSPREY_ACCEL_KVM_STATE_H
#define OSPREY_ACCEL_KVM_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "irqchip/platform_state.h"

/* ---- vCPU ---- */

void kvm_segment_from_x86(const struct x86_segment *s, struct kvm_segment *k);
void kvm_segment_to_x86(const struct kvm_segment *k, struct x86_segment *s);
void kvm_regs_from_state(const struct x86_cpu_state *s, struct kvm_regs *r);
void kvm_regs_to_state(const struct kvm_regs *r, struct x86_cpu_state *s);
/*
 * Overwrites the segments, descriptor tables, control registers, EFER
 * and APIC base of k (what the neutral state carries) and clears its
 * interrupt bitmap (an injected interrupt is never carried, see
 * kvm_events_to_state); the rest of k stays as read from KVM.
 */
void kvm_sregs_from_state(const struct x86_cpu_state *s, struct kvm_sregs *k);
void kvm_sregs_to_state(const struct kvm_sregs *k, struct x86_cpu_state *s);

/* The MSRs of struct x86_cpu_state, in the order KVM_SET_MSRS writes them. */
enum kvm_state_msr_flags {
	KVM_MSR_OPTIONAL = 1 << 0,  /* a host may refuse it when its value is 0 */
	KVM_MSR_SKIP_ZERO = 1 << 1, /* never written as 0 (the write has side effects) */
	KVM_MSR_TSC = 1 << 2,	    /* the TSC (written only when the state changes it) */
};
struct kvm_state_msr {
	uint32_t index;
	uint32_t flags;
	size_t offset; /* of the uint64_t in struct x86_cpu_state */
	const char *name;
};
#define KVM_STATE_MAX_MSRS 32 /* at least kvm_state_nmsrs (a test checks) */
extern const struct kvm_state_msr kvm_state_msrs[];
extern const unsigned kvm_state_nmsrs;
uint64_t kvm_state_msr_get(const struct x86_cpu_state *s, const struct kvm_state_msr *m);
void kvm_state_msr_set(struct x86_cpu_state *s, const struct kvm_state_msr *m, uint64_t v);

/*
 * KVM's events into the neutral form. An interrupt KVM was injecting
 * (interrupt.injected, not soft) goes back to the LAPIC page lapic as
 * pending (its ISR bit moved back to IRR) when it came from the LAPIC;
 * returns 1 then, -1 when it cannot (an ExtINT from the PIC: dropped, the
 * caller warns), 0 when there was none.
 */
int kvm_events_to_state(const struct kvm_vcpu_events *e, struct x86_events *n,
			uint8_t lapic[X86_LAPIC_REGS_SIZE]);
/* The reverse; rflags decides how an interrupt shadow can be encoded. */
void kvm_events_from_state(const struct x86_events *n, uint64_t rflags,
			   struct kvm_vcpu_events *e);

/* enum x86_mp_state <-> KVM_MP_STATE_*; -EINVAL for what has no match. */
int kvm_mp_state_to_x86(uint32_t kvm_state, uint32_t *out);
int kvm_mp_state_from_x86(uint32_t x86_state, uint32_t *out);

/* The divide configuration register as a divisor (1..128). */
uint32_t kvm_lapic_divisor(uint32_t tdcr);
/* The register page, apic_id and the lapic_timer_* fields. */
void kvm_lapic_to_state(const struct kvm_lapic_state *k, struct x86_cpu_state *s);
void kvm_lapic_from_state(const struct x86_cpu_state *s, struct kvm_lapic_state *k);

/* FPU/SSE: the legacy region of KVM's XSAVE area, or struct kvm_fpu. */
void kvm_xsave_to_fxsave(const struct kvm_xsave *x, struct x86_fxsave *f);
void kvm_xsave_from_fxsave(const struct x86_fxsave *f, struct kvm_xsave *x);
void kvm_fpu_to_fxsave(const struct kvm_fpu *k, struct x86_fxsave *f);
void kvm_fpu_from_fxsave(const struct x86_fxsave *f, struct kvm_fpu *k);
/* XSTATE_BV bits other than x87/SSE set in x (state the neutral form cannot carry). */
uint64_t kvm_xsave_extended(const struct kvm_xsave *x);

void kvm_debugregs_to_state(const struct kvm_debugregs *d, struct x86_cpu_state *s);
void kvm_debugregs_from_state(const struct x86_cpu_state *s, struct kvm_debugregs *d);

/* ---- platform ---- */

void kvm_pic_to_snap(const struct kvm_pic_state *k, struct pic_chip *c);
void kvm_pic_from_snap(const struct pic_chip *c, bool slave, struct kvm_pic_state *k);
void kvm_ioapic_to_snap(const struct kvm_ioapic_state *k, struct ioapic_snap *s);
void kvm_ioapic_from_snap(const struct ioapic_snap *s, struct kvm_ioapic_state *k);
/* now_mono_ns: the host CLOCK_MONOTONIC (KVM's ktime) at the conversion. */
void kvm_pit_to_snap(const struct kvm_pit_state2 *k, uint64_t now_mono_ns, struct pit_snap *s);
void kvm_pit_from_snap(const struct pit_snap *s, uint64_t now_mono_ns, struct kvm_pit_state2 *k);

/* The guest clock never exceeds this (~146 years), so sums cannot wrap. */
#define KVM_STATE_CLOCK_MAX (1ULL << 62)
/*
 * The guest clock to load: saved clock_ns plus the host real time passed
 * since saved_real_ns (0 when the host clock went backward), clamped to
 * KVM_STATE_CLOCK_MAX; *delta_ns gets the amount added.
 */
uint64_t kvm_clock_target(uint64_t clock_ns, uint64_t saved_real_ns, uint64_t now_real_ns,
			  uint64_t *delta_ns);
/* ns of guest time as TSC ticks at tsc_khz (rounded down, saturating). */
uint64_t kvm_ns_to_tsc(uint64_t ns, uint32_t tsc_khz);

/* ---- dirty log ---- */

/*
 * ORs one slot's KVM dirty bitmap (bit i: page i of the slot, 64-bit
 * words as KVM_GET_DIRTY_LOG writes them) into the dirty bitmap of
 * hw/memory.h (dirty_words words) starting at page first_page (the
 * slot's mapping offset / 4096). Bits beyond the bitmap are ignored.
 * Returns the number of dirty pages of the slot.
 */
uint64_t kvm_dirty_fold(uint64_t *dirty, size_t dirty_words, uint64_t first_page,
			const uint64_t *slot_bits, uint64_t slot_pages);

#endif
