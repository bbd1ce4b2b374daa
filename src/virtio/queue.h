/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Split virtqueues (virtio 1.x, section 2.7), device side.
 *
 * The guest is hostile. Every descriptor address and length goes through
 * guest_mem_ptr(); a chain walk stops after `size` descriptors (counting
 * those inside an indirect table), so loops are errors; an indirect table
 * inside an indirect table is an error; an avail index more than `size`
 * ahead of the device's position is an error; lengths are summed with
 * overflow checks. A queue that saw an error is "broken": it returns
 * -EIO from then on until it is reset, and the device sets NEEDS_RESET.
 *
 * Not thread-safe: one thread owns a queue (the device's I/O thread).
 */
#ifndef OSPREY_VIRTIO_QUEUE_H
#define OSPREY_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hw/memory.h"

#define VIRTQ_MAX_SIZE 32768 /* spec maximum for split queues */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Feature bits the queue library implements. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Most segments one request may have (longer chains are errors). */
#define VIRTQ_MAX_SEGS 1024

struct virtq {
	const struct guest_mem *mem;
	uint16_t size; /* power of two, 1..VIRTQ_MAX_SIZE; 0 = not set up */
	gpa_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;	    /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	    /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;	    /* a hostile or corrupt ring was seen */
	uint16_t last_avail; /* next avail entry the device will read */
	uint16_t used_idx;   /* next used entry the device will write */
	uint16_t signalled_used; /* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_used_valid;
};

/* One request: a chain split into device-readable and device-writable parts. */
struct virtq_elem {
	uint16_t head;
	unsigned nout, nin;	 /* readable (driver->device), writable segments */
	struct iovec out[VIRTQ_MAX_SEGS];
	struct iovec in[VIRTQ_MAX_SEGS];
	uint64_t out_len, in_len; /* byte totals */
};

/*
 * Sets the ring addresses (from the transport) and checks that all three
 * areas lie in guest RAM with the alignment the spec requires. 0 or
 * -EINVAL / -EFAULT.
 */
int virtq_init(struct virtq *q, const struct guest_mem *mem, uint16_t size, gpa_t desc,
	       gpa_t avail, gpa_t used, bool event_idx, bool indirect);
void virtq_reset(struct virtq *q);

/*
 * Takes the next available chain. Returns 1 with *elem filled, 0 when
 * the ring is empty, -EIO when the ring or the chain is malformed (the
 * queue is then broken).
 */
int virtq_pop(struct virtq *q, struct virtq_elem *elem);

/*
 * Gives the last n popped chains back to the ring, untouched, so the next
 * virtq_pop() takes them again (a device that cannot serve a request yet:
 * rate limits, receive packets that do not fit). Sound for split rings:
 * the driver may not touch an available entry or its descriptors until
 * the device returns it through the used ring, and popping again walks
 * and checks the chain afresh. n must not exceed the chains popped since
 * the last push.
 */
void virtq_unpop(struct virtq *q, unsigned n);

/* Returns a chain to the driver with `len` bytes written into it. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/*
 * After pushes: whether the driver wants an interrupt (VIRTQ_AVAIL_F_
 * NO_INTERRUPT, or used_event with EVENT_IDX).
 */
bool virtq_needs_interrupt(struct virtq *q);

/*
 * Asks the driver for notifications again (enable) or not (disable):
 * VIRTQ_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX. After enabling,
 * the caller must check virtq_has_work() again to avoid a lost wake-up.
 */
void virtq_set_notify(struct virtq *q, bool enable);
bool virtq_has_work(struct virtq *q);

/*
 * For a device that found the ring empty: enables notifications and looks
 * again, so that a chain made available meanwhile (without a kick) is not
 * missed. true: there is work after all, notifications are disabled again;
 * false: nothing, wait for the next kick.
 */
bool virtq_rearm(struct virtq *q);

/*
 * Snapshots: puts a queue set up again with virtq_init() back where a
 * saved one was. The saved positions are untrusted: at most `size` chains
 * may be in flight (popped, not yet pushed), so last_avail - used_idx
 * (mod 2^16) must not exceed size. 0, or -EINVAL (q unchanged).
 */
int virtq_restore(struct virtq *q, uint16_t last_avail, uint16_t used_idx,
		  uint16_t signalled_used, bool signalled_used_valid, bool broken);
/* Chains popped and not yet pushed (what a device holds). */
uint16_t virtq_in_flight(const struct virtq *q);

/* Copies between a segment list and a flat buffer; returns bytes copied. */
uint64_t iov_to_buf(const struct iovec *iov, unsigned n, uint64_t skip, void *buf,
		    uint64_t len);
uint64_t iov_from_buf(const struct iovec *iov, unsigned n, uint64_t skip, const void *buf,
		      uint64_t len);

#endif
