/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The accelerator interface: what runs the vCPUs of a machine and
 * delivers its interrupts. One const ops table per backend:
 *
 *   kvm   (accel/kvm/)  KVM: in-kernel irqchip + PIT, irqfd, ioeventfd
 *   soft  (accel/soft/) osprey's software CPU, one host thread per vCPU,
 *         user-space LAPIC/IOAPIC/PIC/PIT (irqchip/)
 *
 * The machine model (guest memory, buses, loader, boot structures,
 * devices, virtio, API, pause/resume, exit statuses) is shared and lives
 * in vmm/; it reaches the backend only through these ops, and the backend
 * sees of it only a struct accel_machine (RAM, buses, vCPU count, CPU
 * template) and a struct accel_vcpu per vCPU, both filled by vmm/. A
 * backend keeps its state behind machine->priv and vcpu->priv. Backends
 * import hw/, arch/, base/ (and soft: irqchip/), never vmm/, devices/,
 * virtio/ or api/.
 *
 * Run protocol: vmm/vcpu.c runs one thread per vCPU that calls
 * vcpu_run() in a loop, parking at the pause point between calls.
 * vcpu_run() dispatches port I/O and MMIO to machine->pio / ->mmio itself
 * and returns ACCEL_RUN_AGAIN whenever the loop should look at its pause
 * and exit flags (after a kick at the latest), or how the run ends.
 */
#ifndef OSPREY_ACCEL_ACCEL_H
#define OSPREY_ACCEL_ACCEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "arch/x86/cpuid.h"
#include "hw/bus.h"
#include "hw/memory.h"

struct x86_platform_state; /* irqchip/platform_state.h */

/* What a backend sees of the machine; vmm/vm.c fills it before vm_init. */
struct accel_machine {
	struct guest_mem *mem;
	struct bus *pio;
	struct bus *mmio;
	unsigned ncpus;
	const char *cpu_template; /* the CPU template's name (crash hints) */
	void *priv;		  /* the backend's per-VM state (vm_init sets it) */
};

/* One vCPU as a backend sees it; vmm/vcpu.c fills it and owns the thread. */
struct accel_vcpu {
	struct accel_machine *machine;
	unsigned id;
	struct cpuid_table *cpuid; /* this vCPU's CPUID (template applied, topology set) */
	pthread_t thread;	   /* valid once thread_started */
	bool thread_started;
	void *priv; /* the backend's vCPU */
};

/* What vcpu_run() asks of the vCPU loop. */
enum accel_run {
	ACCEL_RUN_AGAIN,    /* look at pause/exit, then call vcpu_run again */
	ACCEL_RUN_POWEROFF, /* the guest powered off */
	ACCEL_RUN_REBOOT,   /* the guest reset the machine */
	ACCEL_RUN_CRASH,    /* triple fault, emulation failure (registers dumped) */
	ACCEL_RUN_ERROR,    /* host-side failure (logged) */
};

struct accel_ops {
	const char *name;

	/*
	 * Opens the backend for m (after guest RAM exists; before devices):
	 * the VM, its platform (interrupt controllers, PIT) and the memory
	 * regions of m->mem. -errno, logged once.
	 */
	int (*vm_init)(struct accel_machine *m);
	/* Releases what vm_init made; safe after a failed vm_init. */
	void (*vm_destroy)(struct accel_machine *m);
	/*
	 * The CPUID table the guest may see before the CPU template: KVM's
	 * supported CPUID, or the software CPU's model. Malloc'ed, -errno.
	 */
	int (*cpuid)(struct accel_machine *m, struct cpuid_table **out);
	/* The CPU template "auto" means under this backend. */
	const char *(*auto_template)(void);

	/* vCPU vcpu->id of machine->ncpus, with its (template-applied, topology-set) CPUID. */
	int (*vcpu_create)(struct accel_vcpu *vcpu, const struct cpuid_table *cpuid);
	/* On the vCPU's thread: runs guest code (see the run protocol above). */
	enum accel_run (*vcpu_run)(struct accel_vcpu *vcpu);
	/* Any thread: makes vcpu_run return ACCEL_RUN_AGAIN soon. */
	void (*vcpu_kick)(struct accel_vcpu *vcpu);
	void (*vcpu_destroy)(struct accel_vcpu *vcpu);
	/*
	 * The neutral state, all of struct x86_cpu_state (registers, segments,
	 * control and debug registers, MSRs, FPU/SSE, pending events, MP
	 * state, TSC, local APIC with its timer), so that a state taken on one
	 * backend loads on the other with the same CPU template. Only while
	 * the vCPU does not run (parked or not started). 0 or -errno; set
	 * rejects values the backend cannot take with -EINVAL.
	 */
	int (*vcpu_get_state)(struct accel_vcpu *vcpu, struct x86_cpu_state *s);
	int (*vcpu_set_state)(struct accel_vcpu *vcpu, const struct x86_cpu_state *s);
	/* Prints the registers to stderr (crash reports). */
	void (*vcpu_dump)(struct accel_vcpu *vcpu);
	/* Logs per-vCPU statistics at info level when the run ends. */
	void (*vcpu_log_stats)(const struct accel_vcpu *vcpu);

	/* Level of interrupt line gsi (ISA IRQ 0-15 also to the PIC). */
	int (*irq_line)(struct accel_machine *m, unsigned gsi, int level);
	/*
	 * Optional fast paths; -ENOTSUP when the backend has none:
	 * irqfd: a write to eventfd fd pulses gsi (edge);
	 * notify_fd: a 4-byte guest write of `datamatch` at MMIO address
	 * addr signals eventfd fd without reaching the bus (the MMIO write
	 * path then signals it itself).
	 */
	int (*irqfd)(struct accel_machine *m, unsigned gsi, int fd);
	int (*notify_fd)(struct accel_machine *m, uint64_t addr, uint32_t datamatch, int fd);

	/*
	 * Snapshots and migration (docs/snapshots.md), only while every vCPU
	 * is parked or not yet started.
	 *
	 * The platform outside the vCPUs (PIC pair, IOAPIC, PIT) and the guest
	 * clock, in the neutral form of irqchip/platform_state.h. Restore
	 * order: vcpu_set_state for every vCPU, then platform_load, which
	 * moves the guest clock (kvmclock) and every TSC forward by the host
	 * time passed since s->host_realtime_ns (never backward).
	 */
	int (*platform_save)(struct accel_machine *m, struct x86_platform_state *s);
	int (*platform_load)(struct accel_machine *m, const struct x86_platform_state *s);
	/*
	 * Dirty pages into m->mem->dirty (hw/memory.h; the caller started it
	 * with guest_mem_dirty_start first). dirty_log(m, true) arms the
	 * backend (KVM: KVM_MEM_LOG_DIRTY_PAGES on every slot; soft: drops
	 * every vCPU's write TLB entries so that each next write marks its
	 * page); false disarms. dirty_sync(m) makes every guest write since
	 * the last sync visible in the bitmap and re-arms (KVM folds in
	 * KVM_GET_DIRTY_LOG; soft drops the write TLBs again). The caller
	 * collects the bitmap (guest_mem_dirty_collect) after dirty_sync, and
	 * copies pages after that.
	 */
	int (*dirty_log)(struct accel_machine *m, bool enable);
	int (*dirty_sync)(struct accel_machine *m);
};

extern const struct accel_ops accel_kvm_ops;
extern const struct accel_ops accel_soft_ops;

/* "kvm", "soft" or NULL for an unknown name. */
const struct accel_ops *accel_find(const char *name);
/* Whether /dev/kvm opens (for --accel auto). */
bool accel_kvm_available(void);
/*
 * Resolves cfg's accelerator name ("auto": kvm when /dev/kvm opens,
 * otherwise soft). -errno with a message in err.
 */
int accel_select(const char *name, const struct accel_ops **out, char *err, unsigned errlen);
/* Names for help and error messages. */
#define ACCEL_NAMES "auto, kvm, soft"

#endif
