// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-rng (rng.h): fills each device-writable buffer with bytes from
 * getrandom(), at most 64 KiB per request, so a guest cannot make osprey
 * do unbounded work for one request.
 */
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/rate_limiter.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"

#define RNG_QUEUE_SIZE 256

struct virtio_rng {
	struct virtq_elem elem;
	struct rate_limiter rl;
	struct virtio_rng_metrics m;
	struct metrics_group *mg;
};

static const struct metrics_field rng_metric_fields[] = {
	METRICS_FIELD(struct virtio_rng_metrics, requests),
	METRICS_FIELD(struct virtio_rng_metrics, entropy_bytes),
	METRICS_FIELD(struct virtio_rng_metrics, host_rng_fails),
	METRICS_FIELD(struct virtio_rng_metrics, rate_limiter_throttled),
};

static uint64_t rng_request_len(const struct virtq_elem *e)
{
	return e->in_len < VIRTIO_RNG_MAX_PER_REQUEST ? e->in_len : VIRTIO_RNG_MAX_PER_REQUEST;
}

static uint32_t rng_fill(struct virtio_rng *r, const struct virtq_elem *e)
{
	uint64_t left = rng_request_len(e);
	uint32_t done = 0;

	for (unsigned i = 0; i < e->nin && left; i++) {
		size_t want = e->in[i].iov_len < left ? e->in[i].iov_len : left;
		size_t got = 0;

		while (got < want) {
			ssize_t n = getrandom((uint8_t *)e->in[i].iov_base + got, want - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				metrics_inc(&r->m.host_rng_fails);
				return done;
			}
			got += (size_t)n;
		}
		done += (uint32_t)got;
		left -= got;
	}
	return done;
}

/* Whether the limiter lets the request in now; if not it goes back on the ring. */
static bool rng_admit(struct virtio_dev *d, struct virtio_rng *r, unsigned q)
{
	uint64_t bytes = rng_request_len(&r->elem);

	if (virtio_dev_admit(d, q, &r->rl, bytes, &r->m.rate_limiter_throttled))
		return true;
	virtq_unpop(&d->vqs[q], 1);
	return false;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_rng *r = d->priv;
	struct virtq *vq = &d->vqs[q];
	uint32_t n;
	int ret;

	if (virtio_dev_throttled(d, q))
		return; /* the rate limiter's timer resumes the queue */
	for (;;) {
		ret = virtq_pop(vq, &r->elem);
		if (ret == 0) {
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed request ring");
			return;
		}
		if (!rng_admit(d, r, q))
			break;
		n = rng_fill(r, &r->elem);
		metrics_add(&r->m.entropy_bytes, n);
		metrics_inc(&r->m.requests);
		d->requests++;
		virtq_push(vq, r->elem.head, n);
	}
	virtio_dev_notify_used(d, q);
}

static void rng_destroy(struct virtio_dev *d)
{
	struct virtio_rng *r = d->priv;

	metrics_unregister(r->mg);
	free(r);
}

const struct virtio_dev_ops virtio_rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

void *virtio_rng_alloc(const struct rate_limiter_config *rl)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	rate_limiter_init(&r->rl, rl);
	r->mg = metrics_register("entropy", rng_metric_fields,
				 sizeof(rng_metric_fields) / sizeof(rng_metric_fields[0]), &r->m);
	if (!r->mg)
		log_warnx("virtio-rng", "no metrics group");
	return r;
}

const struct virtio_rng_metrics *virtio_rng_get_metrics(struct virtio_dev *d)
{
	struct virtio_rng *r = d->priv;

	return &r->m;
}

/* ---- snapshots ---- */

static int rng_state_save(void *opaque, struct state_writer *w)
{
	struct virtio_dev *d = opaque;
	struct virtio_rng *r = d->priv;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_save(d, w);
	rate_limiter_save(&r->rl, w);
	pthread_mutex_unlock(&d->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int rng_state_load(void *opaque, struct state_reader *rd, char *err, size_t errlen)
{
	struct virtio_dev *d = opaque;
	struct virtio_rng *r = d->priv;
	struct virtio_mmio_state st;
	struct rate_limiter rl = r->rl;
	int ret;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_read(d, rd, &st);
	rate_limiter_load(&rl, rd, "virtio-rng");
	virtio_mmio_state_check_held(rd, &st, "virtio-rng", 0, 0);
	ret = virtio_mmio_state_finish(rd, "virtio-rng state", err, errlen);
	if (!ret) {
		virtio_mmio_state_apply(d, &st);
		r->rl = rl;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void rng_state_resumed(void *opaque)
{
	virtio_mmio_state_resumed(opaque);
}

const struct device_state_ops virtio_rng_state_ops = {
	.version = VIRTIO_RNG_STATE_VERSION,
	.save = rng_state_save,
	.load = rng_state_load,
	.resumed = rng_state_resumed,
	.quiesce = virtio_mmio_state_quiesce,
};

static int virtio_rng_create(const struct device_env *env)
{
	struct virtio_dev *d;
	void *r;
	int ret;

	if (!env->cfg.rng)
		return 0;
	r = virtio_rng_alloc(env->cfg.rng_rate_limit);
	if (!r)
		return -ENOMEM;
	ret = virtio_mmio_create(env, &virtio_rng_ops, r, &d);
	if (ret)
		return ret;
	return virtio_mmio_register_state(d, "virtio-rng", &virtio_rng_state_ops);
}

static const struct device_desc virtio_rng_device = {
	.name = "virtio-rng",
	.create = virtio_rng_create,
};
DEVICE_REGISTER(virtio_rng_device);
