/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny driver side for device unit tests: a struct vm with a small
 * guest RAM, a hand-built struct virtio_dev for a device's ops table (no
 * KVM, no I/O thread: irq_fd and notify_fd are -1), the status handshake
 * through the register model, split rings laid out in guest memory, and
 * kicks delivered the way the I/O thread delivers them.
 *
 * Layout: queue q's descriptor table at QBASE + q * 0x4000, available
 * ring 0x1000 above it, used ring 0x2000 above it; QSIZE entries each.
 */
#ifndef OSPREY_TESTS_VIRTIO_DRIVER_H
#define OSPREY_TESTS_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "virtio/mmio.h"
#include "vmm/vm.h"

#define VD_QBASE 0x10000ULL
#define VD_QSIZE 16

struct vd_seg {
	gpa_t gpa;
	uint32_t len;
	bool write;
};

struct vdrv {
	struct vm *vm;
	struct virtio_dev d;
	uint16_t avail_idx[VIRTIO_MMIO_MAX_QUEUES];
	uint16_t used_seen[VIRTIO_MMIO_MAX_QUEUES];
	uint16_t next_desc[VIRTIO_MMIO_MAX_QUEUES];
};

static inline gpa_t vd_desc(unsigned q)
{
	return VD_QBASE + q * 0x4000ULL;
}

static inline uint8_t *vd_ptr(struct vdrv *v, gpa_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&v->vm->mem, gpa, len);

	if (!p)
		abort();
	return p;
}

static inline void vd_w32(struct vdrv *v, uint64_t off, uint32_t val)
{
	virtio_mmio_write(&v->d, off, (const uint8_t *)&val, 4);
}

static inline uint32_t vd_r32(struct vdrv *v, uint64_t off)
{
	uint32_t val = 0;

	virtio_mmio_read(&v->d, off, (uint8_t *)&val, 4);
	return val;
}

/* The harness's machine has no interrupt lines. */
static inline int vd_no_irq_line(void *machine, unsigned gsi, int level)
{
	(void)machine;
	(void)gsi;
	(void)level;
	return -ENODEV;
}

/* A device on ops/priv over `ram` bytes of guest RAM. NULL on failure. */
static inline struct vdrv *vd_new(const struct virtio_dev_ops *ops, void *priv, uint64_t ram)
{
	struct vdrv *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->vm = calloc(1, sizeof(*v->vm));
	if (!v->vm || guest_mem_init(&v->vm->mem, ram)) {
		free(v->vm);
		free(v);
		return NULL;
	}
	v->d.ops = ops;
	v->d.priv = priv;
	v->vm->dev_env = (struct device_env){
		.machine = v->vm,
		.mem = &v->vm->mem,
		.irq_line = vd_no_irq_line,
	};
	v->d.env = &v->vm->dev_env;
	v->d.irq_fd = v->d.stop_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		v->d.qcfg[i].notify_fd = -1;
	pthread_mutex_init(&v->d.lock, NULL);
	return v;
}

static inline void vd_free(struct vdrv *v)
{
	if (v->d.ops->destroy)
		v->d.ops->destroy(&v->d);
	if (v->d.throttle_fd_ok)
		close(v->d.throttle_fd);
	pthread_mutex_destroy(&v->d.lock);
	guest_mem_destroy(&v->vm->mem);
	free(v->vm);
	free(v);
}

/*
 * ACKNOWLEDGE, DRIVER, the features (VERSION_1 | features), FEATURES_OK
 * and nq queues set up; DRIVER_OK too when driver_ok. Returns the status.
 */
static inline uint32_t vd_setup(struct vdrv *v, uint64_t features, unsigned nq, bool driver_ok)
{
	features |= 1ULL << VIRTIO_F_VERSION_1;
	vd_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vd_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vd_w32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_w32(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vd_w32(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_w32(v, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vd_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					      VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nq; q++) {
		gpa_t desc = vd_desc(q);

		memset(vd_ptr(v, desc, 0x3000), 0, 0x3000);
		vd_w32(v, VIRTIO_MMIO_QUEUE_SEL, q);
		vd_w32(v, VIRTIO_MMIO_QUEUE_NUM, VD_QSIZE);
		vd_w32(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
		vd_w32(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		vd_w32(v, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(desc + 0x1000));
		vd_w32(v, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
		vd_w32(v, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(desc + 0x2000));
		vd_w32(v, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
		vd_w32(v, VIRTIO_MMIO_QUEUE_READY, 1);
		v->avail_idx[q] = v->used_seen[q] = v->next_desc[q] = 0;
	}
	if (driver_ok)
		vd_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
						      VIRTIO_STATUS_FEATURES_OK |
						      VIRTIO_STATUS_DRIVER_OK);
	return vd_r32(v, VIRTIO_MMIO_STATUS);
}

static inline void vd_driver_ok(struct vdrv *v)
{
	vd_w32(v, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Makes a chain of the segments available on queue q; returns its head. */
static inline uint16_t vd_add(struct vdrv *v, unsigned q, const struct vd_seg *segs, unsigned n)
{
	gpa_t desc = vd_desc(q), avail = desc + 0x1000;
	uint16_t head = v->next_desc[q] % VD_QSIZE;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % VD_QSIZE);
		uint16_t next = (uint16_t)((idx + 1) % VD_QSIZE);
		uint16_t flags = (uint16_t)((segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		uint8_t *d = vd_ptr(v, desc + 16ULL * idx, 16);

		memcpy(d, &segs[i].gpa, 8);
		memcpy(d + 8, &segs[i].len, 4);
		memcpy(d + 12, &flags, 2);
		memcpy(d + 14, &next, 2);
	}
	v->next_desc[q] = (uint16_t)((head + n) % VD_QSIZE);
	memcpy(vd_ptr(v, avail + 4 + 2ULL * (v->avail_idx[q] % VD_QSIZE), 2), &head, 2);
	v->avail_idx[q]++;
	memcpy(vd_ptr(v, avail + 2, 2), &v->avail_idx[q], 2);
	return head;
}

/* One buffer. */
static inline uint16_t vd_add1(struct vdrv *v, unsigned q, gpa_t gpa, uint32_t len, bool write)
{
	struct vd_seg s = { .gpa = gpa, .len = len, .write = write };

	return vd_add(v, q, &s, 1);
}

/* The kick as the I/O thread delivers it. */
static inline void vd_kick(struct vdrv *v, unsigned q)
{
	pthread_mutex_lock(&v->d.lock);
	if ((v->d.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(v->d.status & VIRTIO_STATUS_NEEDS_RESET) && v->d.qcfg[q].ready)
		v->d.ops->queue_notify(&v->d, q);
	pthread_mutex_unlock(&v->d.lock);
}

/*
 * Waits up to timeout_ms for the device's rate-limit timer and runs the
 * waiting queues as the I/O thread would. false when it did not fire.
 */
static inline bool vd_wait_throttle(struct vdrv *v, int timeout_ms)
{
	struct pollfd p = { .fd = v->d.throttle_fd, .events = POLLIN };

	if (!v->d.throttle_fd_ok || poll(&p, 1, timeout_ms) != 1)
		return false;
	virtio_dev_throttle_expired(&v->d);
	return true;
}

static inline uint64_t vd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The next used entry of queue q: its head, or -1 when there is none. */
static inline int vd_used(struct vdrv *v, unsigned q, uint32_t *len)
{
	gpa_t used = vd_desc(q) + 0x2000;
	uint16_t idx, slot;
	uint32_t id;

	memcpy(&idx, vd_ptr(v, used + 2, 2), 2);
	if (idx == v->used_seen[q])
		return -1;
	slot = v->used_seen[q] % VD_QSIZE;
	memcpy(&id, vd_ptr(v, used + 4 + 8ULL * slot, 4), 4);
	if (len)
		memcpy(len, vd_ptr(v, used + 8 + 8ULL * slot, 4), 4);
	v->used_seen[q]++;
	return (int)id;
}

#endif
