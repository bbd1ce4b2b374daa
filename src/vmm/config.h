/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine configuration: the only input of machine construction.
 * Command-line flags (and later the API and config files) fill it; it is
 * validated once by vm_config_validate() before anything is built.
 */
#ifndef OSPREY_VMM_CONFIG_H
#define OSPREY_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rate_limiter.h"
#include "hw/device_config.h"

enum console_mode {
	CONSOLE_STDIO,
	CONSOLE_FILE,
	CONSOLE_NONE,
};

enum reboot_action {
	REBOOT_EXIT,
	REBOOT_RESTART,
};

#define VM_DEFAULT_MEM_MIB 256
#define VM_MIN_MEM (8ULL << 20)
/* Linux's x86 COMMAND_LINE_SIZE; the header may say less. */
#define VM_CMDLINE_MAX 2048

/*
 * The default kernel parameters come after a console= parameter that
 * depends on the configuration: VM_CONSOLE_SERIAL (COM1) or, with
 * --console virtio, VM_CONSOLE_VIRTIO (the virtio-console's hvc0).
 */
#define VM_CONSOLE_SERIAL "console=ttyS0"
#define VM_CONSOLE_VIRTIO "console=hvc0"
#define VM_DEFAULT_CMDLINE                                                     \
	"reboot=k panic=-1 pci=off nomodules i8042.noaux i8042.nomux i8042.dumbkbd " \
	"osprey.pv=1"

struct vm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;	/* appended to the defaults */
	bool no_default_cmdline; /* use only `cmdline` */
	/* With no_default_cmdline: still add the CPU template's parameters (API boot_args). */
	bool keep_template_cmdline;
	uint64_t mem_size;	/* bytes */
	unsigned ncpus;
	const char *cpu_template; /* "auto", "host", "emulated", "soft" */
	const char *accel;	  /* "auto", "kvm", "soft" (accel/accel.h) */
	enum console_mode console;
	const char *console_path;
	enum reboot_action on_reboot;
	bool rng; /* virtio-rng */
	struct rate_limiter_config rng_rate_limit; /* zero: unlimited */
	struct vm_disk_config disks[VM_MAX_DISKS];
	unsigned ndisks;
	struct vm_net_config nets[VM_MAX_NETS];
	unsigned nnets;
	struct vm_vsock_config vsock;
	bool console_virtio; /* --console virtio: hvc0 instead of the UART */
	struct vm_balloon_config balloon;
	/*
	 * Firecracker's machine-config track_dirty_pages (--track-dirty-pages):
	 * log dirty pages from boot so that Diff snapshots can be taken.
	 */
	bool track_dirty_pages;
};

/*
 * Parses "PATH[,ro][,cache=none|writeback][,id=NAME][,bw=RATE][,ops=RATE]"
 * (modifies spec in place; cfg points into it). -EINVAL with a message on
 * errors. RATE is "N/MS[+BURST]" (vm_config_parse_bucket).
 */
int vm_config_parse_disk(char *spec, struct vm_disk_config *disk, char *err, size_t errlen);
/* "tap=NAME[,mac=MAC][,id=NAME][,rx-bw=RATE][,rx-ops=RATE][,tx-bw=RATE][,tx-ops=RATE]" */
int vm_config_parse_net(char *spec, struct vm_net_config *net, char *err, size_t errlen);
/* --rng's value: "[bw=RATE][,ops=RATE]" (empty: unlimited). */
int vm_config_parse_rng(char *spec, struct rate_limiter_config *rl, char *err, size_t errlen);

/*
 * One token bucket, "N/MS[+BURST]": N tokens refilled in MS milliseconds
 * (both > 0) and BURST extra tokens once. With bytes, N and BURST are
 * sizes (parse_size(): 4096, 64K, 10M; a bare number is bytes), else
 * counts. `what` names the option in the message.
 */
int vm_config_parse_bucket(const char *spec, bool bytes, struct rate_bucket_config *b,
			   const char *what, char *err, size_t errlen);
/* "cid=N,uds=PATH" */
int vm_config_parse_vsock(char *spec, struct vm_vsock_config *vsock, char *err, size_t errlen);

/*
 * "[target=SIZE][,deflate-on-oom][,stats=SECONDS]" (SIZE: parse_size, a
 * bare number is MiB). Sets balloon->enabled. Modifies spec in place.
 */
int vm_config_parse_balloon(char *spec, struct vm_balloon_config *balloon, char *err,
			    size_t errlen);

/* The console= parameter the default command line starts with. */
const char *vm_config_console_param(const struct vm_config *cfg);

void vm_config_init(struct vm_config *cfg);

/*
 * Checks everything that can be checked without KVM: a message and
 * -EINVAL on the first problem. host_ram is the host's memory in bytes
 * (0: skip that check).
 */
int vm_config_validate(const struct vm_config *cfg, uint64_t host_ram, char *err,
		       size_t errlen);

#endif
