/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a device's state enters and leaves snapshots and migration streams.
 *
 * A device with state (registers, queues, buffers, timers, rate-limiter
 * buckets) registers one handler per instance during create(), through
 * env->register_state(machine, name, ops, opaque), with a name unique in
 * the machine and stable across runs of the same configuration
 * ("serial.0", "i8042", "rtc", "virtio-blk.rootfs", "virtio-net.eth0",
 * "virtio-vsock", ...). The machine (vmm/) writes each handler's state
 * into its own section (base/state.h) of that name and version; on
 * restore, a machine built from the same configuration finds every
 * handler's section by name and hands it to load(). A section without a
 * handler, or a handler without a section, fails the restore.
 *
 * save() runs while every vCPU is parked (vm_pause): it takes its own
 * device lock, writes plain fields with state_put_*(), never pointers or
 * fds. load() runs on a freshly created device before any vCPU starts:
 * it reads with state_get_*(), validates every value as hostile input
 * (queue sizes, indices, addresses through guest_mem checks, lengths),
 * and returns -EBADMSG (message in err) rather than ever trusting it. A
 * failed load may leave the device half-set; the machine is destroyed.
 *
 * resumed() (optional) runs after every device has loaded, just before
 * the vCPUs start: re-arm timers, restart I/O threads' work, tell the
 * guest what changed (vsock sends TRANSPORT_RESET, as Firecracker does).
 */
#ifndef OSPREY_HW_DEVICE_STATE_H
#define OSPREY_HW_DEVICE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state_writer;
struct state_reader;

struct device_state_ops {
	uint32_t version; /* of the section's layout; a different one fails the restore */
	int (*save)(void *opaque, struct state_writer *w);
	int (*load)(void *opaque, struct state_reader *r, char *err, size_t errlen);
	void (*resumed)(void *opaque);
	/*
	 * Optional (added by devsnap). quiesce(opaque, true) stops the work a
	 * device does on its own (I/O threads: host sockets and taps, timers)
	 * until quiesce(opaque, false): nothing of the device's state or of
	 * guest memory changes meanwhile, host I/O just waits. Without it, a
	 * device keeps serving its host side while the vCPUs are parked, and
	 * a snapshot's device sections and memory may disagree. The machine
	 * brackets save() and the copy of guest memory that goes with it
	 * (snapshot create, migration's stop-and-copy) with these, and must
	 * call quiesce(false) again before the VM resumes. Both may be called
	 * from any thread but the device's own, and repeat harmlessly.
	 */
	void (*quiesce)(void *opaque, bool stop);
};

#endif
