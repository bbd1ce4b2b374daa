/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a device model gets from the machine: buses, guest RAM, interrupt
 * lines, an MMIO window and line allocator, the host console, a way to
 * end the run, a cleanup registrar and its configuration. The machine
 * (vmm/vm.c) builds one device_env and hands it to every registered
 * device's create() (devices/device.h); devices (devices/, virtio/) see
 * nothing else of it and import only hw/, arch/ and base/.
 *
 * Every callback takes env->machine as its first argument. The env lives
 * as long as the machine; devices may keep a pointer to it.
 */
#ifndef OSPREY_HW_DEVICE_ENV_H
#define OSPREY_HW_DEVICE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rate_limiter.h"
#include "hw/bus.h"
#include "hw/device_config.h"
#include "hw/device_state.h"
#include "hw/memory.h"

struct virtio_dev;

/* How a device ends the run (request_exit); the values of vmm's enum vm_exit. */
enum device_exit {
	DEVICE_EXIT_POWEROFF = 0,
	DEVICE_EXIT_REBOOT = 2,
};

/* Receives console input bytes; returns how many it accepted. */
typedef size_t (*console_sink_fn)(void *opaque, const uint8_t *buf, size_t len);

/*
 * The host console as a device sees it (vmm/console.c behind it): guest
 * output, the one input sink (the UART or the virtio-console), and the
 * sink's "room again" signal.
 */
struct device_console {
	void *opaque;
	/* Guest output. Thread-safe. */
	void (*write)(void *opaque, const uint8_t *buf, size_t len);
	void (*set_sink)(void *opaque, console_sink_fn sink, void *sink_opaque);
	void (*sink_ready)(void *opaque);
};

/* The configuration devices read (pieces of vmm's struct vm_config). */
struct device_env_config {
	const struct vm_disk_config *disks;
	unsigned ndisks;
	const struct vm_net_config *nets;
	unsigned nnets;
	bool rng;
	const struct rate_limiter_config *rng_rate_limit;
	const struct vm_vsock_config *vsock;
	const struct vm_balloon_config *balloon;
	bool console_virtio; /* hvc0 instead of the UART */
};

struct device_env {
	void *machine; /* first argument of every callback below */
	struct guest_mem *mem;
	struct bus *pio;
	struct bus *mmio;
	struct device_console console;
	struct device_env_config cfg;

	/* Level of interrupt line gsi. -ENODEV on a machine without lines. */
	int (*irq_line)(void *machine, unsigned gsi, int level);
	/*
	 * Backend fast paths, -ENOTSUP where there are none (the software
	 * CPU): irqfd: a write to eventfd fd pulses gsi; notify_fd: a 4-byte
	 * guest write of datamatch at MMIO addr signals eventfd fd.
	 */
	int (*irqfd)(void *machine, unsigned gsi, int fd);
	int (*notify_fd)(void *machine, uint64_t addr, uint32_t datamatch, int fd);

	/* A free, aligned MMIO window / interrupt line. -ENOSPC when full. */
	int (*alloc_mmio)(void *machine, uint64_t size, uint64_t *base);
	int (*alloc_irq)(void *machine, unsigned *gsi);
	/* Appends a parameter to the guest command line. */
	int (*cmdline_append)(void *machine, const char *param);
	/* Registers fn to run when the machine is destroyed (reverse order). */
	int (*add_cleanup)(void *machine, void (*fn)(void *opaque), void *opaque);
	/* Ends the run with enum device_exit status (the first request wins). */
	void (*request_exit)(void *machine, int status);

	/*
	 * Registration points the machine keeps for the API and the console:
	 * the Ctrl-Alt-Del hook (i8042), the balloon device and its Ctrl-A b
	 * report, the disks and network devices in cfg order (run-time
	 * updates). Any may be NULL (device unit tests).
	 */
	void (*set_ctrl_alt_del)(void *machine, void (*fn)(void *opaque), void *opaque);
	void (*set_balloon)(void *machine, struct virtio_dev *d,
			    void (*report)(struct virtio_dev *d));
	void (*set_disk)(void *machine, unsigned index, struct virtio_dev *d);
	void (*set_net)(void *machine, unsigned index, struct virtio_dev *d);
	/*
	 * Snapshots and migration (hw/device_state.h): the device's state
	 * under a name unique in the machine. ops and opaque live as long as
	 * the machine. -EEXIST for a name already taken, -ENOSPC when full.
	 * May be NULL (device unit tests).
	 */
	int (*register_state)(void *machine, const char *name, const struct device_state_ops *ops,
			      void *opaque);
};

#endif
