/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine's state without its RAM, as sections of a base/state.h
 * stream: what snapshot/ writes to a state file and migration/ sends.
 * Layout (docs/snapshots.md):
 *
 *   "config"      vm_config_write(): the whole machine configuration
 *   "machine"     CPU template name, accelerator-neutral facts (ncpus,
 *                 RAM size), guest command line area is in RAM already
 *   "vcpu.N"      x86_cpu_state_write() of vCPU N, version X86_CPU_STATE_VERSION
 *   "platform"    x86_platform_state_write(), version X86_PLATFORM_STATE_VERSION
 *   <device>      one per env->register_state() handler (hw/device_state.h)
 *
 * Every function here runs while the vCPUs are parked (vm_pause), or
 * before they ever started (restore).
 */
#ifndef OSPREY_VMM_VM_STATE_H
#define OSPREY_VMM_VM_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/state.h"
#include "hw/device_state.h"
#include "vmm/config.h"

struct vm;

#define VM_MAX_STATE_HANDLERS 32

/* Section name of vCPU i ("vcpu.%u"). */
#define VM_STATE_VCPU_FMT "vcpu.%u"

/*
 * How a machine comes to life other than by booting a kernel
 * (vm_create_from). The kernel and initrd are not loaded and no boot
 * structure is written; RAM comes from mem_fd (a snapshot's memory file,
 * mapped MAP_PRIVATE: guest_mem_init_file) or, with mem_fd < 0, is
 * anonymous and zero, to be filled by the caller (migration) before
 * vm_state_load. Devices are created from cfg exactly as vm_create does,
 * so they get the same MMIO windows and interrupt lines.
 */
struct vm_restore {
	int mem_fd;	    /* taken over (closed with the machine), or -1 */
	bool start_paused;  /* vm_run starts with every vCPU parked (resume: vm_resume) */
};

/* vm_create without a boot: see struct vm_restore. */
int vm_create_from(const struct vm_config *cfg, const struct vm_restore *rs, struct vm **out);

/* Adds a device handler (env->register_state lands here). -EEXIST, -ENOSPC. */
int vm_register_state(struct vm *vm, const char *name, const struct device_state_ops *ops,
		      void *opaque);

/*
 * Calls every handler's quiesce(stop) (hw/device_state.h, optional op):
 * with stop, devices stop their own work (I/O threads, timers) so that
 * the device sections and the guest memory copied with them agree;
 * without, they go on. Bracket vm_state_save and the memory copy that
 * goes with it (snapshot create, migration's stop-and-copy); call it
 * with false before the machine resumes. (Added by snapcore.)
 */
void vm_state_quiesce(struct vm *vm, bool stop);

/*
 * Writes every section above into w. Paused machine only (-EBUSY
 * otherwise). 0 or -errno with a message in err.
 */
int vm_state_save(struct vm *vm, struct state_writer *w, char *err, size_t errlen);

/*
 * Reads what vm_state_save wrote into a machine made by vm_create_from
 * from the same configuration, before vm_run: checks "machine" against
 * this machine (CPU template, vCPU count, RAM size), then vCPUs,
 * platform and devices (every handler's section must be there, and no
 * unknown one), then calls every handler's resumed(). 0 or -errno
 * (-EBADMSG for a bad stream) with a message in err; nothing was run.
 */
int vm_state_load(struct vm *vm, const struct state_reader *r, char *err, size_t errlen);

/*
 * The configuration in section "config" (vmm/config_state.c). Strings
 * are allocated; vm_config_free_strings() frees them (only for a config
 * filled by vm_config_read).
 */
void vm_config_write(struct state_writer *w, const struct vm_config *cfg);
int vm_config_read(struct state_reader *r, struct vm_config *cfg);
void vm_config_free_strings(struct vm_config *cfg);

#endif
