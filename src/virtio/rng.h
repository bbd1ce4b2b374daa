/* SPDX-License-Identifier: Apache-2.0 */
/* virtio-rng (virtio 1.x, section 5.4): entropy from the host's getrandom(). */
#ifndef OSPREY_VIRTIO_RNG_H
#define OSPREY_VIRTIO_RNG_H

#include "virtio/mmio.h"

#define VIRTIO_ID_RNG 4
/* Most bytes one request gets, however large its buffers. */
#define RNG_MAX_PER_REQUEST (64 * 1024)

/* Exposed for unit tests and fuzzing (a hand-built struct virtio_dev). */
extern const struct virtio_dev_ops virtio_rng_ops;
/* The device state virtio_rng_ops expects as priv (free with ops->destroy). */
void *virtio_rng_alloc(void);

#endif
