// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-balloon, virtio-console and virtio-rng driven by a hostile
 * driver through their real ops tables and the virtio-mmio register
 * model, on a 256 KiB guest, without KVM (the hand-built device of
 * tests/unit/virtio_driver.h). The input:
 *   0       device: 0 balloon, 1 console, 2 rng (mod 3)
 *   1       driver features: bits 0..4 the device's feature bits 0..4,
 *           bit 5 EVENT_IDX, bit 6 INDIRECT_DESC, bit 7 no DRIVER_OK
 *   2..     records; the low two bits of the first byte pick the kind:
 *     ..00  oo oo ll data..  ll+1 bytes of guest memory at (le16 oo) * 4
 *                           (the rings are at 0x10000 + q * 0x4000)
 *     qq01                  the driver kicks queue qq % nqueues
 *     ..10  ll data..       device input: balloon, a statistics request
 *                           (the timer's work); console, ll+1 bytes typed
 *                           on the host; rng, nothing
 *     ..11  rr vv vv vv vv  32-bit write of le32 vv to the transport
 *                           register regs[rr % N] (features, queue set-up,
 *                           status: resets included)
 * The device must never touch memory outside guest RAM (ASan), never
 * write a used ring entry for a head it was not given, and keep its
 * state consistent across resets (exercised through the STATUS register).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../tests/unit/virtio_driver.h"
#include "base/log.h"
#include "virtio/balloon.h"
#include "virtio/console.h"
#include "virtio/rng.h"
#include "vmm/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (256 * 1024)

static const uint16_t regs[] = {
	VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
	VIRTIO_MMIO_QUEUE_NUM,		 VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_INTERRUPT_ACK,	 VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW,	 VIRTIO_MMIO_QUEUE_AVAIL_LOW,
	VIRTIO_MMIO_QUEUE_USED_LOW,	 VIRTIO_MMIO_CONFIG,
	VIRTIO_MMIO_CONFIG + 4,
};

struct fx {
	struct console con;
	struct device_console port; /* the device side of con */
	struct vdrv *v;
	unsigned kind;
};

static bool fx_init(struct fx *f, unsigned kind)
{
	void *priv = NULL;
	const struct virtio_dev_ops *ops = NULL;

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->con.out_fd = f->con.ready_efd = f->con.in_fd = -1;
	switch (kind) {
	case 0: {
		struct vm_balloon_config cfg = {
			.enabled = true,
			.target = 64 * 1024,
			.stats_interval = 1,
			.deflate_on_oom = true,
		};
		priv = virtio_balloon_alloc(&cfg);
		ops = &virtio_balloon_ops;
		break;
	}
	case 1:
		f->con.out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		f->con.ready_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (f->con.out_fd < 0 || f->con.ready_efd < 0)
			abort();
		console_device_port(&f->con, &f->port);
		priv = virtio_console_alloc(&f->port);
		ops = &virtio_console_ops;
		break;
	default:
		priv = virtio_rng_alloc(NULL);
		ops = &virtio_rng_ops;
		break;
	}
	if (!priv)
		abort();
	f->v = vd_new(ops, priv, RAM);
	if (!f->v)
		abort();
	if (kind == 0)
		f->v->vm->balloon = &f->v->d;
	if (kind == 1)
		((struct virtio_console *)priv)->d = &f->v->d;
	return true;
}

static void fx_fini(struct fx *f)
{
	vd_free(f->v);
	if (f->con.out_fd >= 0)
		close(f->con.out_fd);
	if (f->con.ready_efd >= 0)
		close(f->con.ready_efd);
}

static uint64_t driver_features(uint8_t b)
{
	uint64_t f = b & 0x1f;

	if (b & 0x20)
		f |= 1ULL << VIRTIO_F_EVENT_IDX;
	if (b & 0x40)
		f |= 1ULL << VIRTIO_F_INDIRECT_DESC;
	return f;
}

static void device_input(struct fx *f, const uint8_t *p, size_t n)
{
	struct virtio_dev *d = &f->v->d;

	switch (f->kind) {
	case 0:
		pthread_mutex_lock(&d->lock);
		if (d->status & VIRTIO_STATUS_DRIVER_OK)
			virtio_balloon_request_stats(d);
		pthread_mutex_unlock(&d->lock);
		break;
	case 1:
		virtio_console_sink(d, p, n);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fx f;
	size_t i = 2;

	if (size < 2)
		return 0;
	log_set_level(LOG_LEVEL_ERROR);
	fx_init(&f, data[0] % 3);
	vd_setup(f.v, driver_features(data[1]), f.v->d.ops->nqueues, !(data[1] & 0x80));

	while (i < size) {
		uint8_t op = data[i++];

		switch (op & 3) {
		case 0: {
			if (size - i < 3)
				goto out;
			uint64_t off = (uint64_t)(data[i] | data[i + 1] << 8) * 4;
			size_t len = (size_t)data[i + 2] + 1;

			i += 3;
			if (len > size - i)
				len = size - i;
			if (off + len > RAM)
				len = RAM - off;
			memcpy(vd_ptr(f.v, off, len), data + i, len);
			i += len;
			break;
		}
		case 1:
			vd_kick(f.v, (op >> 2) % f.v->d.ops->nqueues);
			break;
		case 2: {
			if (i >= size)
				goto out;
			size_t len = (size_t)data[i++] + 1;

			if (len > size - i)
				len = size - i;
			device_input(&f, data + i, len);
			i += len;
			break;
		}
		default: {
			if (size - i < 5)
				goto out;
			uint32_t val;

			memcpy(&val, data + i + 1, 4);
			/* the register model takes d->lock itself */
			virtio_mmio_write(&f.v->d, regs[data[i] % (sizeof(regs) / sizeof(regs[0]))],
					  (const uint8_t *)&val, 4);
			i += 5;
			break;
		}
		}
	}
out:
	fx_fini(&f);
	return 0;
}
