// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-mmio register model driven by a hostile driver: a device with 2
 * queues (QueueNumMax 16) and a 24-byte fake config space, on a 64 KiB
 * guest, without KVM. The input is a sequence of records; the first
 * byte's top two bits pick the kind, bits 4..5 the access size
 * (1, 2, 4, 8):
 *   00..ll.r  oo [oo]  read; r = 1: register table[oo % N], else the
 *                      le16 offset oo oo & 0xfff
 *   01..ll.r  oo [oo] vv..  write of `size` bytes vv (same addressing)
 *   10...nnn  gg gg bytes   guest memory: n * 8 + 1 bytes at (le16 gg) * 4
 *   11....kk  [q]      kk 0: the driver kicks queue q & 1 (the device
 *                      pops and pushes what it can, like virtio_on_kick);
 *                      1: config change; 2: used-buffer interrupt for
 *                      queue q & 1; 3: status 0 (reset)
 * After every record the transport's invariants are checked: NEEDS_RESET
 * stays until a reset; a ready queue was set up by virtq_init() with the
 * registers' values inside RAM; features are offered ones and frozen
 * once accepted; DRIVER_OK implies FEATURES_OK; activate runs once per
 * DRIVER_OK; registers read back what the model holds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/mmio.h"
#include "vmm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (64 * 1024)
#define NQUEUES 2
#define QMAX 16
#define CFG_SIZE 24
#define F_DEV ((1ULL << 5) | (1ULL << 9) | (1ULL << 41))
#define F_OFFERED                                                                      \
	(F_DEV | (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) |         \
	 (1ULL << VIRTIO_F_INDIRECT_DESC))

static const uint16_t regs[] = {
	VIRTIO_MMIO_MAGIC,
	VIRTIO_MMIO_VERSION,
	VIRTIO_MMIO_DEVICE_ID,
	VIRTIO_MMIO_VENDOR_ID,
	VIRTIO_MMIO_DEVICE_FEATURES,
	VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL,
	VIRTIO_MMIO_QUEUE_SEL,
	VIRTIO_MMIO_QUEUE_NUM_MAX,
	VIRTIO_MMIO_QUEUE_NUM,
	VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY,
	VIRTIO_MMIO_INTERRUPT_STATUS,
	VIRTIO_MMIO_INTERRUPT_ACK,
	VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW,
	VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_AVAIL_LOW,
	VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
	VIRTIO_MMIO_QUEUE_USED_LOW,
	VIRTIO_MMIO_QUEUE_USED_HIGH,
	VIRTIO_MMIO_CONFIG_GENERATION,
	VIRTIO_MMIO_CONFIG,
	VIRTIO_MMIO_CONFIG + 4,
	VIRTIO_MMIO_CONFIG + 8,
	VIRTIO_MMIO_CONFIG + 20,
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static struct vm vm;
static struct virtio_dev dev;
static struct virtq_elem elem;
static uint8_t cfg[CFG_SIZE];
static unsigned activates, resets;

static uint64_t fk_features(struct virtio_dev *d)
{
	(void)d;
	return F_DEV;
}

static void check_cfg_access(uint64_t off, unsigned len)
{
	if (len == 0 || len > 8 || off >= VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG)
		abort();
}

static void fk_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	(void)d;
	check_cfg_access(off, len);
	for (unsigned i = 0; i < len; i++)
		if (data[i] != 0)
			abort(); /* the transport zero-fills first */
	if (off < CFG_SIZE)
		memcpy(data, cfg + off, off + len <= CFG_SIZE ? len : CFG_SIZE - off);
}

static void fk_config_write(struct virtio_dev *d, uint64_t off, const uint8_t *data,
			    unsigned len)
{
	(void)d;
	check_cfg_access(off, len);
	if (off < CFG_SIZE)
		memcpy(cfg + off, data, off + len <= CFG_SIZE ? len : CFG_SIZE - off);
}

static void fk_activate(struct virtio_dev *d)
{
	if (!(d->status & VIRTIO_STATUS_DRIVER_OK) || !(d->status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	activates++;
}

static void fk_reset(struct virtio_dev *d)
{
	(void)d;
	resets++;
}

/* What a device's queue_notify does: take everything, complete it. */
static void fk_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct virtq *q = &d->vqs[qi];
	unsigned limit = 2u * q->size + 8;

	for (unsigned iter = 0; iter < limit; iter++) {
		int ret = virtq_pop(q, &elem);

		if (ret == 0) {
			if (!virtq_rearm(q))
				break;
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed ring");
			return;
		}
		for (unsigned i = 0; i < elem.nin; i++)
			memset(elem.in[i].iov_base, 0xa5, elem.in[i].iov_len);
		if (virtq_push(q, elem.head, (uint32_t)elem.in_len) != 0)
			abort();
	}
	virtio_dev_notify_used(d, qi);
}

static const struct virtio_dev_ops fake_ops = {
	.name = "virtio-fuzz",
	.device_id = 0x1f,
	.nqueues = NQUEUES,
	.queue_max = QMAX,
	.features = fk_features,
	.config_read = fk_config_read,
	.config_write = fk_config_write,
	.queue_notify = fk_queue_notify,
	.activate = fk_activate,
	.reset = fk_reset,
};

/* The fuzzed machine has no interrupt lines. */
static int no_irq_line(void *machine, unsigned gsi, int level)
{
	(void)machine;
	(void)gsi;
	(void)level;
	return -ENODEV;
}

static void dev_init(void)
{
	pthread_mutex_destroy(&dev.lock);
	memset(&dev, 0, sizeof(dev));
	dev.ops = &fake_ops;
	vm.dev_env = (struct device_env){
		.machine = &vm,
		.mem = &vm.mem,
		.irq_line = no_irq_line,
	};
	dev.env = &vm.dev_env;
	dev.irq_fd = dev.stop_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		dev.qcfg[i].notify_fd = -1;
	pthread_mutex_init(&dev.lock, NULL);
	for (unsigned i = 0; i < CFG_SIZE; i++)
		cfg[i] = (uint8_t)(0x40 + i);
	activates = resets = 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A register read: what the guest sees must match the model. */
static void do_read(uint64_t off, unsigned len)
{
	uint8_t b[8];
	uint32_t v;
	struct virtio_dev before = dev;

	memset(b, 0xcc, sizeof(b));
	virtio_mmio_read(&dev, off, b, len);
	/* reads change nothing */
	if (dev.status != before.status || dev.driver_features != before.driver_features ||
	    dev.interrupt_status != before.interrupt_status || dev.queue_sel != before.queue_sel ||
	    memcmp(dev.qcfg, before.qcfg, sizeof(dev.qcfg)))
		abort();
	for (unsigned i = len; i < sizeof(b); i++)
		if (b[i] != 0xcc)
			abort(); /* nothing written past the access */
	if (off >= VIRTIO_MMIO_CONFIG)
		return;
	if (len != 4 || (off & 3)) {
		for (unsigned i = 0; i < len; i++)
			if (b[i])
				abort();
		return;
	}
	v = le32(b);
	switch (off) {
	case VIRTIO_MMIO_MAGIC:
		if (v != VIRTIO_MMIO_MAGIC_VALUE)
			abort();
		break;
	case VIRTIO_MMIO_VERSION:
		if (v != 2)
			abort();
		break;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		if (v != (dev.queue_sel < NQUEUES ? QMAX : 0))
			abort();
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (v != (dev.queue_sel < NQUEUES ? dev.qcfg[dev.queue_sel].ready : 0))
			abort();
		break;
	case VIRTIO_MMIO_STATUS:
		if (v != dev.status)
			abort();
		break;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (v != (dev.device_features_sel < 2 ?
				  (uint32_t)(F_OFFERED >> (32 * dev.device_features_sel)) :
				  0))
			abort();
		break;
	default:
		break;
	}
}

static void check_invariants(uint32_t status_before, uint64_t features_before,
			     unsigned resets_before, unsigned activates_before)
{
	bool reset = resets != resets_before;

	/* NEEDS_RESET and accepted features last until a reset */
	if (!reset && (status_before & VIRTIO_STATUS_NEEDS_RESET) &&
	    !(dev.status & VIRTIO_STATUS_NEEDS_RESET))
		abort();
	if (!reset && (status_before & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(dev.status & VIRTIO_STATUS_FEATURES_OK) || dev.driver_features != features_before))
		abort();
	if (!reset && (status_before & VIRTIO_STATUS_DRIVER_OK) &&
	    !(dev.status & VIRTIO_STATUS_DRIVER_OK))
		abort();
	if ((dev.status & VIRTIO_STATUS_DRIVER_OK) && !(dev.status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	if ((dev.status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((dev.driver_features & ~F_OFFERED) ||
	     !(dev.driver_features & (1ULL << VIRTIO_F_VERSION_1))))
		abort();
	/* activate runs once, on the DRIVER_OK transition, never with a reset */
	if (activates > activates_before + 1 ||
	    (activates != activates_before &&
	     (reset || (status_before & VIRTIO_STATUS_DRIVER_OK) ||
	      !(dev.status & VIRTIO_STATUS_DRIVER_OK))))
		abort();
	if (dev.interrupt_status & ~(uint32_t)(VIRTIO_INT_USED | VIRTIO_INT_CONFIG))
		abort();
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		const struct virtio_queue_cfg *qc = &dev.qcfg[i];
		const struct virtq *q = &dev.vqs[i];

		if (qc->num > QMAX || (i >= NQUEUES && (qc->num || qc->desc || qc->avail ||
							qc->used || qc->ready)))
			abort();
		if (!qc->ready) {
			if (q->size)
				abort();
			continue;
		}
		/* QueueReady is 1 only after virtq_init() accepted the registers */
		if (q->size != qc->num || q->desc_gpa != qc->desc || q->avail_gpa != qc->avail ||
		    q->used_gpa != qc->used || q->mem != &vm.mem ||
		    !guest_mem_ptr(&vm.mem, q->desc_gpa, 16ULL * q->size) ||
		    !guest_mem_ptr(&vm.mem, q->avail_gpa, 6 + 2ULL * q->size) ||
		    !guest_mem_ptr(&vm.mem, q->used_gpa, 6 + 8ULL * q->size))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned lens[] = { 1, 2, 4, 8 };
	size_t pos = 0;

	if (!vm.mem.mapping) {
		log_set_level(LOG_LEVEL_ERROR);
		if (guest_mem_init(&vm.mem, RAM_SIZE))
			abort();
	}
	memset(vm.mem.mapping, 0, vm.mem.mapping_size);
	dev_init();

	while (pos < size) {
		uint8_t op = data[pos++];
		uint32_t status_before = dev.status;
		uint64_t features_before = dev.driver_features;
		unsigned resets_before = resets, activates_before = activates;
		unsigned len = lens[(op >> 4) & 3];
		uint64_t off;

		switch (op >> 6) {
		case 0:
		case 1:
			if (op & 1) {
				if (pos >= size)
					return 0;
				off = regs[data[pos++] % NREGS];
			} else {
				if (pos + 2 > size)
					return 0;
				off = (uint64_t)(data[pos] | data[pos + 1] << 8) & 0xfff;
				pos += 2;
			}
			if (op >> 6 == 0) {
				do_read(off, len);
			} else {
				uint8_t b[8] = { 0 };

				if (pos + len > size)
					return 0;
				memcpy(b, data + pos, len);
				pos += len;
				virtio_mmio_write(&dev, off, b, len);
			}
			break;
		case 2: {
			size_t n = (op & 7) * 8u + 1, gpa;

			if (pos + 2 > size)
				return 0;
			gpa = (size_t)(data[pos] | data[pos + 1] << 8) * 4 % RAM_SIZE;
			pos += 2;
			if (n > size - pos)
				n = size - pos;
			if (n > RAM_SIZE - gpa)
				n = RAM_SIZE - gpa;
			if (guest_mem_write(&vm.mem, gpa, data + pos, n))
				abort();
			pos += n;
			break;
		}
		default: {
			unsigned q = 0;

			if ((op & 3) != 1 && (op & 3) != 3) {
				if (pos >= size)
					return 0;
				q = data[pos++] & 1;
			}
			pthread_mutex_lock(&dev.lock);
			switch (op & 3) {
			case 0: /* as virtio_on_kick */
				if ((dev.status & VIRTIO_STATUS_DRIVER_OK) &&
				    !(dev.status & VIRTIO_STATUS_NEEDS_RESET) && dev.qcfg[q].ready)
					fk_queue_notify(&dev, q);
				break;
			case 1:
				virtio_dev_config_changed(&dev);
				break;
			case 2:
				virtio_dev_notify_used(&dev, q);
				break;
			default:
				pthread_mutex_unlock(&dev.lock);
				virtio_mmio_write(&dev, VIRTIO_MMIO_STATUS, (const uint8_t[4]){ 0 }, 4);
				pthread_mutex_lock(&dev.lock);
				if (dev.status || dev.driver_features || dev.interrupt_status ||
				    dev.queue_sel || resets != resets_before + 1)
					abort();
				break;
			}
			pthread_mutex_unlock(&dev.lock);
			break;
		}
		}
		check_invariants(status_before, features_before, resets_before, activates_before);
	}
	return 0;
}
