/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine: guest memory, buses, vCPUs, devices, lifecycle. Which
 * accelerator runs the vCPUs (accel/accel.h) is hidden behind vm->accel;
 * it sees the machine as vm->machine and each vCPU as vcpu->acc.
 */
#ifndef OSPREY_VMM_VM_H
#define OSPREY_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"
#include "arch/x86/cpu_template.h"
#include "arch/x86/regs.h"
#include "hw/bus.h"
#include "hw/device_env.h"
#include "hw/memory.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/vm_state.h"

struct event_loop;
struct virtio_dev;
struct migration_ctl;

/* How a run ended; also osprey's process exit status. */
enum vm_exit {
	VM_EXIT_POWEROFF = 0, /* guest powered off */
	VM_EXIT_ERROR = 1,    /* host-side error */
	VM_EXIT_REBOOT = 2,   /* guest rebooted (and --on-reboot exit) */
	VM_EXIT_CRASH = 3,    /* triple fault, emulation failure, failed entry */
	VM_EXIT_SIGNAL = 128, /* + signal number */
};

struct vcpu {
	struct vm *vm;
	/* id, thread, CPUID and the backend's vCPU: what the backend sees. */
	struct accel_vcpu acc;
};

#define VM_MAX_CLEANUPS 32

struct vm {
	const struct vm_config *cfg;
	const struct accel_ops *accel; /* the backend running the vCPUs */
	struct accel_machine machine;  /* what the backend sees (its state: machine.priv) */
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct vcpu *vcpus;
	unsigned ncpus;
	const struct cpu_template *tmpl;
	struct event_loop *loop;
	struct console console;
	struct device_env dev_env; /* what every device is given (vm.c) */

	/* Set once by the first vCPU or device that ends the run. */
	int exit_status;
	bool exit_requested;
	pthread_mutex_t exit_lock;
	int exit_efd; /* eventfd that wakes the main loop */

	/*
	 * Pause (vmm/pause.c): while pause_requested, vCPU threads park on
	 * pause_cond; counters under pause_lock.
	 */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	unsigned vcpus_parked, vcpus_exited;

	/* Hook the i8042 installs (env->set_ctrl_alt_del) so the console can send Ctrl-Alt-Del. */
	void (*ctrl_alt_del)(void *opaque);
	void *ctrl_alt_del_opaque;

	/*
	 * Set by the virtio-balloon device (env->set_balloon): the device,
	 * for virtio_balloon_set_target()/get_stats(), and the report that
	 * Ctrl-A b prints.
	 */
	struct virtio_dev *balloon;
	void (*balloon_report)(struct virtio_dev *d);

	/* The virtio-blk and virtio-net devices, in cfg->disks/nets order
	 * (env->set_disk/set_net; for run-time updates from the API:
	 * vm_update_disk/net). */
	struct virtio_dev *disk_devs[VM_MAX_DISKS];
	struct virtio_dev *net_devs[VM_MAX_NETS];

	struct {
		void (*fn)(void *opaque);
		void *opaque;
	} cleanups[VM_MAX_CLEANUPS];
	unsigned ncleanups;

	/* State handlers of devices (vm_state.h, env->register_state). */
	struct vm_state_handler {
		char name[64];
		const struct device_state_ops *ops;
		void *opaque;
	} state_handlers[VM_MAX_STATE_HANDLERS];
	unsigned nstate_handlers;
	/* vm_create_from(): vm_run starts with every vCPU parked. */
	bool start_paused;
	/* Dirty pages are logged (track_dirty_pages, diff snapshots, migration). */
	bool dirty_logging;
	/* The active or last live migration (migration/), NULL if none. */
	struct migration_ctl *migration;

	/* Resources handed to devices during construction. */
	uint64_t next_mmio;
	unsigned next_irq_index;
	char dev_cmdline[VM_CMDLINE_MAX]; /* parameters devices add (virtio_mmio.device=...) */
};

/*
 * Builds the whole machine from cfg; logs one error line on failure.
 * Boot files are loaded into guest RAM before any accelerator is opened,
 * so their errors come first.
 */
int vm_create(const struct vm_config *cfg, struct vm **out);
/* Runs until the guest or the user ends it; returns the exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Ends the run with status (the first request wins). Thread-safe. */
void vm_request_exit(struct vm *vm, int status);

/*
 * Parks every vCPU outside guest execution (kick through the backend)
 * and returns once all are parked; devices and the event loop go on.
 * vm_resume() lets them run again and returns once none is parked.
 * Thread-safe, from any thread but a vCPU's. -EALREADY when already
 * paused (or, for resume, not paused), -ESRCH when the run has ended.
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);

/* Sets the level of interrupt line irq (GSI) through the backend. */
int vm_irq_line(struct vm *vm, unsigned irq, int level);

/* A free, aligned MMIO window for a device. -ENOSPC when the hole is full. */
int vm_alloc_mmio(struct vm *vm, uint64_t size, uint64_t *base);
/* A free interrupt line (GSI) for a device. -ENOSPC when none is left. */
int vm_alloc_irq(struct vm *vm, unsigned *irq);
/* Appends a parameter to the guest command line (before the user's). */
int vm_cmdline_append(struct vm *vm, const char *param);

/*
 * Run-time changes (PATCH /drives/{id}, PATCH /network-interfaces/{id}),
 * thread-safe, callable while the guest runs. `id` is the disk's or
 * interface's id. NULL arguments leave that setting alone. A new
 * path_on_host is opened (with the disk's read-only mode) before the old
 * file is closed, and the guest is told the new capacity through a config
 * change interrupt. -ENOENT for an unknown id, -errno with a message in err.
 */
int vm_update_disk(struct vm *vm, const char *id, const char *path_on_host,
		   const struct rate_limiter_config *rl, char *err, size_t errlen);
int vm_update_net(struct vm *vm, const char *id, const struct rate_limiter_config *rx,
		  const struct rate_limiter_config *tx, char *err, size_t errlen);

/* Registers fn to run at vm_destroy (reverse order). */
int vm_add_cleanup(struct vm *vm, void (*fn)(void *opaque), void *opaque);

/* vcpu.c */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id, const struct cpuid_table *base);
int vcpu_setup_boot(struct vcpu *vcpu, enum x86_entry_mode mode, uint64_t entry,
		    uint64_t param);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
/* pause.c, on the vCPU's own thread: parks while a pause is requested. */
void vcpu_pause_point(struct vcpu *vcpu);
void vcpu_thread_exited(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);
void vcpu_dump_registers(struct vcpu *vcpu);
/* Logs the exit counters at info level. */
void vcpu_log_exit_stats(const struct vcpu *vcpu);

#endif
