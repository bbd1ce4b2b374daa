// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng (virtio 1.x, section 5.4): fills each device-writable buffer
 * with bytes from getrandom(), at most 64 KiB per request, so a guest
 * cannot make osprey do unbounded work for one request.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio/rng.h"

#include "devices/device.h"
#include "virtio/mmio.h"
#include "vmm/vm.h"

#define RNG_QUEUE_SIZE 256

struct virtio_rng {
	struct virtq_elem elem;
	uint64_t bytes;
};

static uint32_t rng_fill(const struct virtq_elem *e)
{
	uint64_t left = e->in_len < RNG_MAX_PER_REQUEST ? e->in_len : RNG_MAX_PER_REQUEST;
	uint32_t done = 0;

	for (unsigned i = 0; i < e->nin && left; i++) {
		size_t want = e->in[i].iov_len < left ? e->in[i].iov_len : left;
		size_t got = 0;

		while (got < want) {
			ssize_t n = getrandom((uint8_t *)e->in[i].iov_base + got, want - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return done;
			}
			got += (size_t)n;
		}
		done += (uint32_t)got;
		left -= got;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_rng *r = d->priv;
	struct virtq *vq = &d->vqs[q];
	int ret;

	for (;;) {
		ret = virtq_pop(vq, &r->elem);
		if (ret == 0) {
			virtq_set_notify(vq, true);
			if (!virtq_has_work(vq))
				break;
			virtq_set_notify(vq, false);
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed request ring");
			return;
		}
		uint32_t n = rng_fill(&r->elem);

		r->bytes += n;
		d->requests++;
		virtq_push(vq, r->elem.head, n);
	}
	virtio_dev_notify_used(d, q);
}

static void rng_destroy(struct virtio_dev *d)
{
	free(d->priv);
}

const struct virtio_dev_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

void *virtio_rng_alloc(void)
{
	return calloc(1, sizeof(struct virtio_rng));
}

static int virtio_rng_create(struct vm *vm)
{
	struct virtio_rng *r;
	struct virtio_dev *d;

	if (!vm->cfg->rng)
		return 0;
	r = virtio_rng_alloc();
	if (!r)
		return -ENOMEM;
	return virtio_mmio_create(vm, &virtio_rng_ops, r, &d);
}

static const struct device_desc virtio_rng_device = {
	.name = "virtio-rng",
	.create = virtio_rng_create,
};
DEVICE_REGISTER(virtio_rng_device);
