/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process-wide metrics groups of the machine core (base/metrics.h):
 *
 * "vcpu": vCPU exits by reason (KVM's exits; the software CPU counts its
 * port I/O, MMIO and HLT the same way), summed over all vCPUs (and over
 * restarts with --on-reboot restart), counted by the vCPU threads.
 *
 * "vmm": boot timing, in microseconds since osprey's process start:
 * boot_marker_us is the time of the guest's first boot marker
 * (devices/boot_marker.c), instance_start_us the time the machine was
 * started (vm_run, or InstanceStart through the API), and
 * boot_since_start_us the difference. Plus machine counters, and
 * accel_kvm / accel_soft: machines created on each accelerator.
 */
#ifndef OSPREY_HW_VMM_METRICS_H
#define OSPREY_HW_VMM_METRICS_H

#include <stdint.h>

struct vcpu_exit_metrics {
	uint64_t io_in, io_out;
	uint64_t mmio_read, mmio_write;
	uint64_t hlt, intr;
	uint64_t shutdown;	   /* triple faults */
	uint64_t internal_error;   /* includes emulation failures */
	uint64_t fail_entry;
	uint64_t system_event;	   /* power off, reset, crash */
	uint64_t other;		   /* any other exit reason */
	uint64_t emulated_insns;   /* instructions osprey completed for KVM */
};

struct vmm_metrics {
	uint64_t boot_marker_us;
	uint64_t boot_markers;	      /* markers seen (each boot writes at least one) */
	uint64_t instance_start_us;
	uint64_t boot_since_start_us; /* boot_marker_us - instance_start_us */
	uint64_t vm_creates, vm_create_fails;
	uint64_t accel_kvm, accel_soft;
};

/* Backend-neutral exit reasons for vmm_metrics_exit(). */
enum vcpu_exit_reason {
	VCPU_EXIT_OTHER = 0,
	VCPU_EXIT_IO,
	VCPU_EXIT_MMIO,
	VCPU_EXIT_HLT,
	VCPU_EXIT_INTR,
	VCPU_EXIT_SHUTDOWN,
	VCPU_EXIT_INTERNAL_ERROR,
	VCPU_EXIT_FAIL_ENTRY,
	VCPU_EXIT_SYSTEM_EVENT,
};

extern struct vcpu_exit_metrics vcpu_exit_metrics;
extern struct vmm_metrics vmm_metrics;

/* Counts one exit (vCPU thread): enum vcpu_exit_reason; is_write: the I/O or MMIO direction. */
void vmm_metrics_exit(unsigned reason, int is_write);

/* A machine was created on accelerator `name` ("kvm", "soft"). */
void vmm_metrics_accel(const char *name);

/*
 * The machine starts running now (vm_run calls it; the API's
 * InstanceStart may call it earlier). The first call of a boot counts.
 */
void vmm_metrics_instance_start(void);

/* A boot marker arrived (devices/boot_marker.c). */
void vmm_metrics_boot_marker(void);

#endif
