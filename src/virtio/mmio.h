/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport, version 2 (virtio 1.x, section 4.2).
 *
 * Each device gets a 4 KiB register window in the MMIO hole and an ISA
 * interrupt line, and is announced to Linux on the kernel command line
 * (virtio_mmio.device=4K@ADDR:IRQ). Queue notifications arrive through
 * ioeventfds, interrupts leave through an irqfd (under KVM; otherwise the
 * MMIO write signals the queue's eventfd and the interrupt line follows
 * the interrupt status, level-triggered), and the device's queue
 * work runs on its own I/O thread, never on a vCPU thread: a slow or
 * misbehaving device stalls nothing else.
 *
 * A device implements struct virtio_dev_ops; the transport does feature
 * negotiation, status, queue setup and reset, and marks the device
 * NEEDS_RESET when the driver hands it a malformed ring.
 */
#ifndef OSPREY_VIRTIO_MMIO_H
#define OSPREY_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/queue.h"

struct device_env;
struct virtio_dev;

#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MMIO_MAX_QUEUES 8

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_AVAIL_LOW 0x090
#define VIRTIO_MMIO_QUEUE_AVAIL_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_USED_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_USED_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x5053534f	   /* "OSSP" */

#define VIRTIO_INT_USED 1
#define VIRTIO_INT_CONFIG 2

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned nqueues;
	uint16_t queue_max;
	/* Device-specific feature bits (the transport adds VERSION_1 etc.). */
	uint64_t (*features)(struct virtio_dev *d);
	/* Config space, offsets relative to 0x100; reads of len 1/2/4. */
	void (*config_read)(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len);
	void (*config_write)(struct virtio_dev *d, uint64_t off, const uint8_t *data,
			     unsigned len);
	/* On the I/O thread, with d->lock held: the driver kicked queue q. */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* DRIVER_OK reached (lock held). Optional. */
	void (*activate)(struct virtio_dev *d);
	/* The driver reset the device (lock held). Optional. */
	void (*reset)(struct virtio_dev *d);
	/* Extra fds the device polls on its I/O thread (tap, sockets). Optional. */
	void (*destroy)(struct virtio_dev *d);
};

struct virtio_queue_cfg {
	uint16_t num;
	bool ready;
	uint64_t desc, avail, used;
	int notify_fd; /* eventfd: ioeventfd for QueueNotify */
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct device_env *env; /* NULL: no machine (unit tests) */
	uint64_t base;
	unsigned irq;
	pthread_mutex_t lock;

	uint32_t status;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t interrupt_status;
	uint32_t config_generation;
	struct virtio_queue_cfg qcfg[VIRTIO_MMIO_MAX_QUEUES];
	struct virtq vqs[VIRTIO_MMIO_MAX_QUEUES];

	int irq_fd;		 /* irqfd into the in-kernel IO-APIC, or -1 */
	bool irq_level;		 /* without irqfd: the line's level (vm_irq_line) */
	bool kernel_ioeventfd;	 /* KVM signals notify_fd itself */
	struct event_loop *loop; /* the device's I/O thread loop */
	int stop_fd;
	pthread_t thread;
	bool thread_started;
	uint64_t requests, errors; /* statistics */

	/* Rate-limit pauses (virtio_dev_throttle): one timerfd per device. */
	int throttle_fd;	   /* valid when throttle_fd_ok */
	bool throttle_fd_ok;
	uint32_t throttled_queues; /* bit q: queue q waits for the timer */

	bool state_loaded; /* restored from a snapshot; resumed() not yet run */

	/* Quiescing the I/O thread (virtio_dev_io_pause), under io_lock. */
	pthread_mutex_t io_lock;
	pthread_cond_t io_cond;
	int wake_fd;	/* eventfd: wakes the I/O thread to park */
	bool io_pause;	/* asked to park */
	bool io_parked; /* parked: runs no handler until io_pause is cleared */
};

/*
 * Creates the device, its I/O thread, MMIO window and interrupt, and adds
 * it to the guest command line. Returns 0 or -errno (logged). Takes
 * ownership of priv: on failure ops->destroy has already run.
 */
int virtio_mmio_create(const struct device_env *env, const struct virtio_dev_ops *ops, void *priv,
		       struct virtio_dev **out);

/* On the I/O thread (lock held): raise the used-buffer interrupt if wanted. */
void virtio_dev_notify_used(struct virtio_dev *d, unsigned q);
/* Config space changed (lock held). */
void virtio_dev_config_changed(struct virtio_dev *d);
/* Malformed ring or request: stop the device until the driver resets it. */
void virtio_dev_set_needs_reset(struct virtio_dev *d, const char *why);

/*
 * Rate limiting (lock held): queue q pauses for `ms` milliseconds, then
 * ops->queue_notify(d, q) runs again on the I/O thread. Kicks of q are
 * ignored while it waits (the timer does the work). The device has left
 * the chain it could not take on the ring (virtq_unpop) or keeps it.
 * 0 or -errno (logged).
 */
int virtio_dev_throttle(struct virtio_dev *d, unsigned q, uint64_t ms);
/*
 * Lock held: whether limiter rl lets an operation of `bytes` on queue q
 * through now. If not, *throttled is counted and the queue waits for the
 * limiter's timer (false); without a timer it is let through (better
 * unlimited than stuck).
 */
struct rate_limiter;
bool virtio_dev_admit(struct virtio_dev *d, unsigned q, struct rate_limiter *rl,
		      uint64_t bytes, uint64_t *throttled);
/* Whether queue q waits for the rate-limit timer (lock held). */
bool virtio_dev_throttled(const struct virtio_dev *d, unsigned q);
/* Lock held: the waiting queues run again soon (the limits changed). */
void virtio_dev_throttle_resume(struct virtio_dev *d);
/* The timer fired: runs the waiting queues (takes d->lock). For tests. */
void virtio_dev_throttle_expired(struct virtio_dev *d);

/* Lets a device watch another fd on its I/O thread. */
int virtio_dev_add_fd(struct virtio_dev *d, int fd, uint32_t events,
		      void (*cb)(void *opaque, uint32_t events), void *opaque);

/*
 * ---- snapshots and migration (hw/device_state.h) ----
 *
 * Every virtio device's section starts with the transport's part:
 *   u32 transport version (VIRTIO_MMIO_STATE_VERSION), u32 device id,
 *   u32 nqueues, u32 status, u32 device_features_sel,
 *   u32 driver_features_sel, u64 driver_features, u32 queue_sel,
 *   u32 interrupt_status, u32 config_generation, u32 throttled_queues,
 *   then per queue: u16 num, bool ready, u64 desc, u64 avail, u64 used,
 *   u16 last_avail, u16 used_idx, u16 signalled_used,
 *   bool signalled_used_valid, bool event_idx, bool indirect, bool broken
 * and the device's own fields follow. Interrupt lines, eventfds, the I/O
 * thread and host resources are not state: a restored device has its own.
 *
 * Save (d->lock held): virtio_mmio_state_save().
 * Load (d->lock held): virtio_mmio_state_read() checks the transport part
 * as hostile input into a struct virtio_mmio_state (status bits and their
 * order, driver features a subset of what the device offers, queue sizes
 * powers of two up to queue_max, rings in guest RAM through virtq_init(),
 * at most a queue's size of chains in flight); the device reads and checks
 * its own part; only when all is well virtio_mmio_state_apply() installs
 * it (and marks the device loaded). Nothing runs and no interrupt moves at
 * load time: guest memory may not be all there yet.
 * Resumed: virtio_mmio_state_resumed() (takes d->lock) does, once after a
 * load, what the live transport would have done: raise the interrupt line
 * if interrupt_status has bits, activate a DRIVER_OK device (so net
 * watches its tap), restart rate-limited queues and kick every queue that
 * has chains waiting (a notify that arrived before the snapshot). It
 * returns whether the device was loaded (devices do their own part then).
 */
#define VIRTIO_MMIO_STATE_VERSION 1

struct state_writer;
struct state_reader;

struct virtio_mmio_state {
	uint32_t status, device_features_sel, driver_features_sel, queue_sel;
	uint64_t driver_features;
	uint32_t interrupt_status, config_generation, throttled_queues;
	struct virtio_queue_cfg qcfg[VIRTIO_MMIO_MAX_QUEUES]; /* notify_fd unused */
	struct virtq vqs[VIRTIO_MMIO_MAX_QUEUES];
};

void virtio_mmio_state_save(struct virtio_dev *d, struct state_writer *w);
/* false (and r failed, with a message) when the transport part is not acceptable. */
bool virtio_mmio_state_read(struct virtio_dev *d, struct state_reader *r,
			    struct virtio_mmio_state *st);
void virtio_mmio_state_apply(struct virtio_dev *d, const struct virtio_mmio_state *st);
/*
 * Fails r unless queue q has exactly `held` chains in flight (popped, not
 * pushed): what the device says it holds must be all the ring lacks. A
 * device that needs a reset may hold fewer (a bad chain was dropped).
 */
void virtio_mmio_state_check_held(struct state_reader *r, const struct virtio_mmio_state *st,
				  const char *name, unsigned q, unsigned held);
bool virtio_mmio_state_resumed(struct virtio_dev *d);
/*
 * The end of a device's load: r must be fully read and not failed. 0, or
 * -EBADMSG with r's message in err.
 */
int virtio_mmio_state_finish(struct state_reader *r, const char *what, char *err, size_t errlen);
/*
 * Registers the device's handler (opaque: d) as `name` through
 * env->register_state (skipped when the machine has none). 0 or -errno
 * (logged).
 */
struct device_state_ops;
int virtio_mmio_register_state(struct virtio_dev *d, const char *name,
			       const struct device_state_ops *ops);
/*
 * The same under "<prefix>.<id>" (a disk's or an interface's id), or by
 * position, "<prefix>.#<index>", when that is longer than a section name,
 * already taken, or id has a '#' (kept for positional names).
 */
int virtio_mmio_register_state_id(struct virtio_dev *d, const char *prefix, const char *id,
				  unsigned index, const struct device_state_ops *ops);

/*
 * Quiescing (device_state_ops.quiesce): pause parks the device's I/O
 * thread between two rounds of its event loop and returns once it is
 * parked, so no handler (kicks, taps, host sockets, timers) runs until
 * resume; events wait. No-ops on a device without an I/O thread (unit
 * tests). Never from the I/O thread itself.
 */
void virtio_dev_io_pause(struct virtio_dev *d);
void virtio_dev_io_resume(struct virtio_dev *d);
/* device_state_ops.quiesce for any virtio device (opaque: the struct virtio_dev). */
void virtio_mmio_state_quiesce(void *opaque, bool stop);

/* Register model, exposed for unit tests and fuzzing (no KVM involved). */
void virtio_mmio_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len);
void virtio_mmio_write(struct virtio_dev *d, uint64_t off, const uint8_t *data, unsigned len);

#endif
