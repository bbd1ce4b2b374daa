/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM backend's private state (accel/kvm/). Only files in this
 * folder include <linux/kvm.h>.
 */
#ifndef OSPREY_ACCEL_KVM_KVM_H
#define OSPREY_ACCEL_KVM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"
#include "arch/x86/cpu_state.h"
#include "arch/x86/emulate.h"

#define KVM_VCPU_EXIT_REASONS 64

struct kvm_vcpu;

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_mmap_size;
	/* Optional capabilities (kvm_check_caps). */
	bool has_xsave; /* KVM_GET/SET_XSAVE (else KVM_GET/SET_FPU) */
	bool has_xcrs;	/* KVM_GET/SET_XCRS (else XCR0 is x87 only) */
	bool has_tsc_khz;
	bool dirty_logging; /* the slots carry KVM_MEM_LOG_DIRTY_PAGES */
	/* The vCPUs by id (platform_load moves their TSCs); ncpus entries. */
	struct kvm_vcpu **vcpus;
	unsigned ncpus;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	/* Exits by KVM exit reason (statistics; read after the thread ends). */
	uint64_t exits[KVM_VCPU_EXIT_REASONS];
	uint64_t emulated_insns; /* instructions osprey completed for KVM */
	/* Snapshots (vcpu.c, platform.c). */
	uint64_t got_tsc;	 /* the TSC the last vcpu_get_state returned */
	bool tsc_restored;	 /* vcpu_set_state loaded a TSC: platform_load moves it on */
	uint64_t restored_tsc;
	uint64_t restored_tsc_deadline;
	bool warned_xstate;
};

/* vcpu.c */
int kvm_vcpu_create(struct accel_vcpu *vcpu, const struct cpuid_table *cpuid);
enum accel_run kvm_vcpu_run(struct accel_vcpu *vcpu);
void kvm_vcpu_kick(struct accel_vcpu *vcpu);
void kvm_vcpu_destroy(struct accel_vcpu *vcpu);
int kvm_vcpu_get_state(struct accel_vcpu *vcpu, struct x86_cpu_state *s);
int kvm_vcpu_set_state(struct accel_vcpu *vcpu, const struct x86_cpu_state *s);
void kvm_vcpu_dump(struct accel_vcpu *vcpu);
void kvm_vcpu_log_stats(const struct accel_vcpu *vcpu);

/* kvm.c: (re-)registers every memory slot, with the dirty log or without. */
int kvm_set_slots(struct accel_machine *m, bool log_dirty);

/* platform.c: accel ops platform_save/platform_load. */
int kvm_platform_save(struct accel_machine *m, struct x86_platform_state *s);
int kvm_platform_load(struct accel_machine *m, const struct x86_platform_state *s);
/* vcpu.c: MSRs and the TSC of a vCPU (platform.c). */
int kvm_vcpu_read_msr(struct kvm_vcpu *kv, uint32_t index, uint64_t *value);
int kvm_vcpu_write_msr(struct kvm_vcpu *kv, uint32_t index, uint64_t value);
/* The guest TSC = value now (TSC offset attribute, else MSR_IA32_TSC). */
int kvm_vcpu_set_tsc(struct kvm_vcpu *kv, uint64_t value);

/* dirty.c: accel ops dirty_log/dirty_sync. */
int kvm_dirty_log(struct accel_machine *m, bool enable);
int kvm_dirty_sync(struct accel_machine *m);

/* emulate.c: completes an instruction KVM's emulator failed on. 0 or -errno. */
int kvm_emulate_complete(int vcpu_fd, enum x86_emulated what);

#endif
