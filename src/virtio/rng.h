/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng (virtio 1.x, section 5.4): each device-writable buffer is
 * filled from getrandom(), at most VIRTIO_RNG_MAX_PER_REQUEST bytes per
 * request. With a rate limit (vm_config.rng_rate_limit; bytes are the
 * bytes a request will get, one op per request) a request the limiter
 * refuses goes back on the ring until the limiter's timer.
 */
#ifndef OSPREY_VIRTIO_RNG_H
#define OSPREY_VIRTIO_RNG_H

#include <stdint.h>

#include "virtio/mmio.h"

struct rate_limiter_config;

#define VIRTIO_ID_RNG 4
#define VIRTIO_RNG_MAX_PER_REQUEST (64 * 1024)

/* The "entropy" metrics group. */
struct virtio_rng_metrics {
	uint64_t requests;
	uint64_t entropy_bytes;
	uint64_t host_rng_fails; /* getrandom() errors */
	uint64_t rate_limiter_throttled;
};

/*
 * The device model without KVM or threads, for unit tests: the ops table
 * and a state for it (free with ops->destroy; NULL on ENOMEM).
 */
extern const struct virtio_dev_ops virtio_rng_ops;
void *virtio_rng_alloc(const struct rate_limiter_config *rl);
const struct virtio_rng_metrics *virtio_rng_get_metrics(struct virtio_dev *d);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct virtio_dev),
 * section "virtio-rng", version VIRTIO_RNG_STATE_VERSION: the transport
 * (virtio/mmio.h), then the rate limiter. Requests complete at once (a
 * refused one goes back on the ring): none are in flight.
 */
#define VIRTIO_RNG_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops virtio_rng_state_ops;

#endif
