/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM backend's private state (accel/kvm/). Only files in this
 * folder include <linux/kvm.h>.
 */
#ifndef OSPREY_ACCEL_KVM_KVM_H
#define OSPREY_ACCEL_KVM_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "accel/accel.h"
#include "arch/x86/cpu_state.h"
#include "arch/x86/emulate.h"

#define KVM_VCPU_EXIT_REASONS 64

struct kvm_vm {
	int kvm_fd;
	int vm_fd;
	int run_mmap_size;
};

struct kvm_vcpu {
	int fd;
	struct kvm_run *run;
	/* Exits by KVM exit reason (statistics; read after the thread ends). */
	uint64_t exits[KVM_VCPU_EXIT_REASONS];
	uint64_t emulated_insns; /* instructions osprey completed for KVM */
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

/* emulate.c: completes an instruction KVM's emulator failed on. 0 or -errno. */
int kvm_emulate_complete(int vcpu_fd, enum x86_emulated what);

#endif
