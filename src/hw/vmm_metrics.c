// SPDX-License-Identifier: Apache-2.0
/* The "vcpu" and "vmm" metrics groups (vmm_metrics.h). */
#include "hw/vmm_metrics.h"

#include <string.h>

#include "base/log.h"
#include "base/metrics.h"

struct vcpu_exit_metrics vcpu_exit_metrics;
struct vmm_metrics vmm_metrics;

#define VCPU_FIELD(m) METRICS_FIELD(struct vcpu_exit_metrics, m)
#define VMM_FIELD(m) METRICS_FIELD(struct vmm_metrics, m)

static const struct metrics_field vcpu_fields[] = {
	VCPU_FIELD(io_in),	    VCPU_FIELD(io_out),	      VCPU_FIELD(mmio_read),
	VCPU_FIELD(mmio_write),	    VCPU_FIELD(hlt),	      VCPU_FIELD(intr),
	VCPU_FIELD(shutdown),	    VCPU_FIELD(internal_error), VCPU_FIELD(fail_entry),
	VCPU_FIELD(system_event),   VCPU_FIELD(other),	      VCPU_FIELD(emulated_insns),
};

static const struct metrics_field vmm_fields[] = {
	VMM_FIELD(boot_marker_us),    VMM_FIELD(boot_markers), VMM_FIELD(instance_start_us),
	VMM_FIELD(boot_since_start_us), VMM_FIELD(vm_creates), VMM_FIELD(vm_create_fails),
	VMM_FIELD(accel_kvm), VMM_FIELD(accel_soft),
};

/* A boot's instance start counts once; a boot marker after it ends the boot. */
static int boot_state; /* 0: before start, 1: started, 2: marker seen */

void vmm_metrics_exit(unsigned reason, int is_write)
{
	struct vcpu_exit_metrics *m = &vcpu_exit_metrics;

	switch (reason) {
	case VCPU_EXIT_IO:
		metrics_inc(is_write ? &m->io_out : &m->io_in);
		break;
	case VCPU_EXIT_MMIO:
		metrics_inc(is_write ? &m->mmio_write : &m->mmio_read);
		break;
	case VCPU_EXIT_HLT:
		metrics_inc(&m->hlt);
		break;
	case VCPU_EXIT_INTR:
		metrics_inc(&m->intr);
		break;
	case VCPU_EXIT_SHUTDOWN:
		metrics_inc(&m->shutdown);
		break;
	case VCPU_EXIT_INTERNAL_ERROR:
		metrics_inc(&m->internal_error);
		break;
	case VCPU_EXIT_FAIL_ENTRY:
		metrics_inc(&m->fail_entry);
		break;
	case VCPU_EXIT_SYSTEM_EVENT:
		metrics_inc(&m->system_event);
		break;
	default:
		metrics_inc(&m->other);
		break;
	}
}

void vmm_metrics_accel(const char *name)
{
	if (strcmp(name, "kvm") == 0)
		metrics_inc(&vmm_metrics.accel_kvm);
	else if (strcmp(name, "soft") == 0)
		metrics_inc(&vmm_metrics.accel_soft);
}

static uint64_t us_since_start(void)
{
	double ms = log_ms_since_start();

	return ms > 0 ? (uint64_t)(ms * 1000.0) : 0;
}

void vmm_metrics_instance_start(void)
{
	int expected = 0;

	/* A restart (--on-reboot restart) begins a new boot. */
	if (__atomic_load_n(&boot_state, __ATOMIC_ACQUIRE) == 2)
		__atomic_store_n(&boot_state, 0, __ATOMIC_RELEASE);
	if (__atomic_compare_exchange_n(&boot_state, &expected, 1, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		metrics_set(&vmm_metrics.instance_start_us, us_since_start());
}

void vmm_metrics_boot_marker(void)
{
	int expected = 1;
	uint64_t now = us_since_start();

	metrics_inc(&vmm_metrics.boot_markers);
	if (!__atomic_compare_exchange_n(&boot_state, &expected, 2, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return; /* a later marker of the same boot */
	metrics_set(&vmm_metrics.boot_marker_us, now);
	metrics_set(&vmm_metrics.boot_since_start_us,
		    now - __atomic_load_n(&vmm_metrics.instance_start_us, __ATOMIC_RELAXED));
}

__attribute__((constructor)) static void vmm_metrics_register(void)
{
	(void)metrics_register("vcpu", vcpu_fields, sizeof(vcpu_fields) / sizeof(vcpu_fields[0]),
			       &vcpu_exit_metrics);
	(void)metrics_register("vmm", vmm_fields, sizeof(vmm_fields) / sizeof(vmm_fields[0]),
			       &vmm_metrics);
}
