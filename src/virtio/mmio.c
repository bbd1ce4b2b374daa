// SPDX-License-Identifier: Apache-2.0
#include "virtio/mmio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/event_loop.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/rate_limiter.h"
#include "base/state.h"
#include "hw/device_env.h"

#define TRANSPORT_FEATURES                                                           \
	((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) |                \
	 (1ULL << VIRTIO_F_INDIRECT_DESC))

static uint64_t virtio_device_features(struct virtio_dev *d)
{
	return TRANSPORT_FEATURES | (d->ops->features ? d->ops->features(d) : 0);
}

/*
 * The interrupt line follows the interrupt status (level semantics): up
 * while a bit is set, down when the driver acknowledged the last one.
 * With an irqfd (KVM) a raise is a pulse and nothing is lowered.
 */
static void virtio_update_irq(struct virtio_dev *d)
{
	bool level = d->interrupt_status != 0;

	if (d->irq_fd >= 0 || !d->env || level == d->irq_level)
		return;
	d->irq_level = level;
	d->env->irq_line(d->env->machine, d->irq, level);
}

static void virtio_raise(struct virtio_dev *d, uint32_t bits)
{
	uint64_t one = 1;

	d->interrupt_status |= bits;
	if (d->irq_fd >= 0)
		(void)!write(d->irq_fd, &one, sizeof(one));
	else
		virtio_update_irq(d);
}

void virtio_dev_notify_used(struct virtio_dev *d, unsigned q)
{
	if (q < d->ops->nqueues && virtq_needs_interrupt(&d->vqs[q]))
		virtio_raise(d, VIRTIO_INT_USED);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	virtio_raise(d, VIRTIO_INT_CONFIG);
}

void virtio_dev_set_needs_reset(struct virtio_dev *d, const char *why)
{
	d->errors++;
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warnx(d->ops->name, "%s; device needs a reset by the driver", why);
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		virtio_raise(d, VIRTIO_INT_CONFIG);
}

/* ---- rate-limit pauses ---- */

/* Longest single pause; a longer wait re-arms when the timer fires. */
#define THROTTLE_MAX_MS (24ULL * 3600 * 1000)

static int throttle_timer_open(struct virtio_dev *d)
{
	if (d->throttle_fd_ok)
		return 0;
	d->throttle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->throttle_fd < 0) {
		log_err(d->ops->name, "timerfd for rate limiting");
		return -errno;
	}
	d->throttle_fd_ok = true;
	return 0;
}

static void throttle_timer_set(struct virtio_dev *d, uint64_t ns)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ns / 1000000000ULL),
						.tv_nsec = (long)(ns % 1000000000ULL) } };

	if (d->throttle_fd_ok)
		(void)timerfd_settime(d->throttle_fd, 0, &its, NULL);
}

bool virtio_dev_admit(struct virtio_dev *d, unsigned q, struct rate_limiter *rl,
		      uint64_t bytes, uint64_t *throttled)
{
	if (rate_limiter_consume(rl, bytes))
		return true;
	metrics_inc(throttled);
	return virtio_dev_throttle(d, q, rate_limiter_wait_ms(rl, bytes)) != 0;
}

int virtio_dev_throttle(struct virtio_dev *d, unsigned q, uint64_t ms)
{
	struct itimerspec cur;
	uint64_t ns, left;
	int ret;

	if (q >= VIRTIO_MMIO_MAX_QUEUES)
		return -EINVAL;
	ret = throttle_timer_open(d);
	if (ret)
		return ret;
	if (ms < 1)
		ms = 1;
	if (ms > THROTTLE_MAX_MS)
		ms = THROTTLE_MAX_MS;
	ns = ms * 1000000ULL;
	d->throttled_queues |= 1u << q;
	/* One timer for all queues: keep an earlier expiry. */
	if (timerfd_gettime(d->throttle_fd, &cur) == 0 &&
	    (cur.it_value.tv_sec || cur.it_value.tv_nsec)) {
		left = (uint64_t)cur.it_value.tv_sec * 1000000000ULL + (uint64_t)cur.it_value.tv_nsec;
		if (left <= ns)
			return 0;
	}
	throttle_timer_set(d, ns);
	return 0;
}

bool virtio_dev_throttled(const struct virtio_dev *d, unsigned q)
{
	return q < VIRTIO_MMIO_MAX_QUEUES && (d->throttled_queues & (1u << q));
}

void virtio_dev_throttle_resume(struct virtio_dev *d)
{
	if (d->throttled_queues)
		throttle_timer_set(d, 1); /* soon, on the I/O thread */
}

void virtio_dev_throttle_expired(struct virtio_dev *d)
{
	uint64_t cnt;
	uint32_t mask;

	if (d->throttle_fd_ok)
		(void)!read(d->throttle_fd, &cnt, sizeof(cnt));
	pthread_mutex_lock(&d->lock);
	mask = d->throttled_queues;
	d->throttled_queues = 0;
	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		if (!(mask & (1u << q)))
			continue;
		if ((d->status & VIRTIO_STATUS_DRIVER_OK) &&
		    !(d->status & VIRTIO_STATUS_NEEDS_RESET) && d->qcfg[q].ready &&
		    d->ops->queue_notify)
			d->ops->queue_notify(d, q);
	}
	pthread_mutex_unlock(&d->lock);
}

static void virtio_on_throttle_timer(void *opaque, uint32_t events)
{
	(void)events;
	virtio_dev_throttle_expired(opaque);
}

static void virtio_reset(struct virtio_dev *d)
{
	d->throttled_queues = 0;
	throttle_timer_set(d, 0); /* disarm */
	if (d->ops->reset)
		d->ops->reset(d);
	d->status = 0;
	d->device_features_sel = d->driver_features_sel = d->queue_sel = 0;
	d->driver_features = 0;
	d->interrupt_status = 0;
	virtio_update_irq(d);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		d->qcfg[i].num = 0;
		d->qcfg[i].ready = false;
		d->qcfg[i].desc = d->qcfg[i].avail = d->qcfg[i].used = 0;
		virtq_reset(&d->vqs[i]);
	}
}

static struct virtio_queue_cfg *virtio_cur_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->nqueues ? &d->qcfg[d->queue_sel] : NULL;
}

static void virtio_set_queue_ready(struct virtio_dev *d, uint32_t v)
{
	struct virtio_queue_cfg *q = virtio_cur_queue(d);
	unsigned idx = d->queue_sel;
	int ret;

	if (!q)
		return;
	if (!v) {
		q->ready = false;
		virtq_reset(&d->vqs[idx]);
		return;
	}
	ret = virtq_init(&d->vqs[idx], d->env->mem, q->num, q->desc, q->avail, q->used,
			 d->driver_features & (1ULL << VIRTIO_F_EVENT_IDX),
			 d->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC));
	if (ret) {
		virtio_dev_set_needs_reset(d, "queue set up outside guest RAM or misaligned");
		return;
	}
	q->ready = true;
}

static void virtio_set_status(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		virtio_reset(d);
		return;
	}
	/*
	 * The driver sets bits and never clears one (virtio 3.1.1); only a
	 * reset does. Keeping them set keeps the features frozen once
	 * FEATURES_OK is accepted. NEEDS_RESET is the device's to set.
	 */
	v = (v & ~(uint32_t)VIRTIO_STATUS_NEEDS_RESET) | d->status;
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t offered = virtio_device_features(d);

		/* Refuse features we never offered, and legacy drivers. */
		if ((d->driver_features & ~offered) ||
		    !(d->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
	}
	/* No DRIVER_OK (queues running) without accepted features. */
	if (!(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~(uint32_t)VIRTIO_STATUS_DRIVER_OK;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_DRIVER_OK)) {
		d->status = v;
		if (d->ops->activate)
			d->ops->activate(d);
		return;
	}
	d->status = v;
}

static uint32_t rd32(const uint8_t *p, unsigned len)
{
	uint32_t v = 0;

	memcpy(&v, p, len < 4 ? len : 4);
	return v;
}

static void wr32(uint8_t *p, unsigned len, uint32_t v)
{
	memset(p, 0, len);
	memcpy(p, &v, len < 4 ? len : 4);
}

void virtio_mmio_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_queue_cfg *q;
	uint32_t v = 0;

	pthread_mutex_lock(&d->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		memset(data, 0, len);
		if (d->ops->config_read)
			d->ops->config_read(d, off - VIRTIO_MMIO_CONFIG, data, len);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (len != 4 || (off & 3)) {
		/* Registers are 32-bit; anything else reads as zero. */
		memset(data, 0, len);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	q = virtio_cur_queue(d);
	switch (off) {
	case VIRTIO_MMIO_MAGIC:
		v = VIRTIO_MMIO_MAGIC_VALUE;
		break;
	case VIRTIO_MMIO_VERSION:
		v = 2;
		break;
	case VIRTIO_MMIO_DEVICE_ID:
		v = d->ops->device_id;
		break;
	case VIRTIO_MMIO_VENDOR_ID:
		v = VIRTIO_MMIO_VENDOR;
		break;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->device_features_sel < 2)
			v = (uint32_t)(virtio_device_features(d) >> (32 * d->device_features_sel));
		break;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		v = q ? d->ops->queue_max : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		v = q ? q->ready : 0;
		break;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		v = d->interrupt_status;
		break;
	case VIRTIO_MMIO_STATUS:
		v = d->status;
		break;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		v = d->config_generation;
		break;
	default:
		break;
	}
	wr32(data, len, v);
	pthread_mutex_unlock(&d->lock);
}

static void virtio_queue_kick(struct virtio_dev *d, uint32_t idx)
{
	uint64_t one = 1;

	/* Without a kernel ioeventfd the vCPU forwards the kick itself. */
	if (idx < d->ops->nqueues && d->qcfg[idx].notify_fd >= 0)
		(void)!write(d->qcfg[idx].notify_fd, &one, sizeof(one));
}

void virtio_mmio_write(struct virtio_dev *d, uint64_t off, const uint8_t *data, unsigned len)
{
	struct virtio_queue_cfg *q;
	bool queue_live;
	uint32_t v;

	pthread_mutex_lock(&d->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (d->ops->config_write)
			d->ops->config_write(d, off - VIRTIO_MMIO_CONFIG, data, len);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (len != 4 || (off & 3)) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	v = rd32(data, len);
	q = virtio_cur_queue(d);
	/* Queue layout may change only while the queue is not live. */
	queue_live = q && q->ready;
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->status & VIRTIO_STATUS_FEATURES_OK)
			break; /* frozen after FEATURES_OK */
		if (d->driver_features_sel == 0)
			d->driver_features = (d->driver_features & ~0xffffffffULL) | v;
		else if (d->driver_features_sel == 1)
			d->driver_features = (d->driver_features & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q && !queue_live)
			q->num = (uint16_t)(v <= d->ops->queue_max ? v : 0);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_set_queue_ready(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_queue_kick(d, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->interrupt_status &= ~v;
		virtio_update_irq(d);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (q && !queue_live) {
			uint64_t *field = off < VIRTIO_MMIO_QUEUE_AVAIL_LOW ? &q->desc :
					  off < VIRTIO_MMIO_QUEUE_USED_LOW  ? &q->avail :
									      &q->used;

			if (off & 4)
				*field = (*field & 0xffffffffULL) | ((uint64_t)v << 32);
			else
				*field = (*field & ~0xffffffffULL) | v;
		}
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- accelerator and thread glue ---- */

struct virtio_kick {
	struct virtio_dev *d;
	unsigned q;
};

static void virtio_on_kick(void *opaque, uint32_t events)
{
	struct virtio_kick *k = opaque;
	struct virtio_dev *d = k->d;
	uint64_t cnt;

	(void)events;
	if (read(d->qcfg[k->q].notify_fd, &cnt, sizeof(cnt)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	/* A queue paused by its rate limiter resumes from the timer. */
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	    d->qcfg[k->q].ready && d->ops->queue_notify && !virtio_dev_throttled(d, k->q))
		d->ops->queue_notify(d, k->q);
	pthread_mutex_unlock(&d->lock);
}

static void virtio_on_stop(void *opaque, uint32_t events)
{
	(void)opaque;
	(void)events;
}

static void virtio_on_wake(void *opaque, uint32_t events)
{
	struct virtio_dev *d = opaque;
	uint64_t v;

	(void)events;
	(void)!read(d->wake_fd, &v, sizeof(v));
}

/* Between two rounds of the loop: parks while a pause is asked for. */
static void virtio_io_park(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->io_lock);
	if (d->io_pause) {
		d->io_parked = true;
		pthread_cond_broadcast(&d->io_cond);
		while (d->io_pause)
			pthread_cond_wait(&d->io_cond, &d->io_lock);
		d->io_parked = false;
	}
	pthread_mutex_unlock(&d->io_lock);
}

static void *virtio_io_thread(void *arg)
{
	struct virtio_dev *d = arg;
	char name[16];
	uint64_t v;

	snprintf(name, sizeof(name), "io-%s", d->ops->name);
	pthread_setname_np(pthread_self(), name);
	while (read(d->stop_fd, &v, sizeof(v)) < 0) {
		event_loop_run_once(d->loop, -1);
		virtio_io_park(d);
	}
	return NULL;
}

void virtio_dev_io_pause(struct virtio_dev *d)
{
	uint64_t one = 1;

	if (!d->thread_started)
		return;
	pthread_mutex_lock(&d->io_lock);
	d->io_pause = true;
	(void)!write(d->wake_fd, &one, sizeof(one));
	while (!d->io_parked)
		pthread_cond_wait(&d->io_cond, &d->io_lock);
	pthread_mutex_unlock(&d->io_lock);
}

void virtio_dev_io_resume(struct virtio_dev *d)
{
	if (!d->thread_started)
		return;
	pthread_mutex_lock(&d->io_lock);
	d->io_pause = false;
	pthread_cond_broadcast(&d->io_cond);
	pthread_mutex_unlock(&d->io_lock);
}

void virtio_mmio_state_quiesce(void *opaque, bool stop)
{
	if (stop)
		virtio_dev_io_pause(opaque);
	else
		virtio_dev_io_resume(opaque);
}

static void virtio_mmio_bus_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	virtio_mmio_read(opaque, off, data, len);
}

static void virtio_mmio_bus_write(void *opaque, uint64_t off, const uint8_t *data,
				  unsigned len)
{
	virtio_mmio_write(opaque, off, data, len);
}

static const struct bus_ops virtio_mmio_bus_ops = {
	.read = virtio_mmio_bus_read,
	.write = virtio_mmio_bus_write,
};

int virtio_dev_add_fd(struct virtio_dev *d, int fd, uint32_t events,
		      void (*cb)(void *opaque, uint32_t events), void *opaque)
{
	return event_loop_add(d->loop, fd, events, cb, opaque);
}

static void virtio_mmio_destroy(void *opaque)
{
	struct virtio_dev *d = opaque;
	uint64_t one = 1;

	if (d->thread_started) {
		virtio_dev_io_resume(d); /* a parked thread must see the stop */
		(void)!write(d->stop_fd, &one, sizeof(one));
		pthread_join(d->thread, NULL);
	}
	if (d->ops->destroy)
		d->ops->destroy(d);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		if (d->qcfg[i].notify_fd >= 0)
			close(d->qcfg[i].notify_fd);
	if (d->irq_fd >= 0)
		close(d->irq_fd);
	if (d->throttle_fd_ok)
		close(d->throttle_fd);
	if (d->stop_fd >= 0)
		close(d->stop_fd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	pthread_cond_destroy(&d->io_cond);
	pthread_mutex_destroy(&d->io_lock);
	event_loop_free(d->loop);
	free(d);
}

/*
 * Interrupt and queue kicks: an irqfd and ioeventfds where the
 * accelerator has them (KVM); otherwise the line is set through
 * env->irq_line() and a QueueNotify write reaches virtio_queue_kick(),
 * which signals the queue's eventfd itself.
 */
static int virtio_mmio_setup_accel(struct virtio_dev *d, struct virtio_kick *kicks)
{
	const struct device_env *env = d->env;
	int ret;

	d->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irq_fd < 0)
		return -errno;
	ret = env->irqfd(env->machine, d->irq, d->irq_fd);
	if (ret == -ENOTSUP) {
		close(d->irq_fd);
		d->irq_fd = -1;
	} else if (ret) {
		return ret;
	}
	d->kernel_ioeventfd = true;
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		d->qcfg[i].notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->qcfg[i].notify_fd < 0)
			return -errno;
		if (d->kernel_ioeventfd &&
		    env->notify_fd(env->machine, d->base + VIRTIO_MMIO_QUEUE_NOTIFY, i,
				     d->qcfg[i].notify_fd) < 0) {
			log_debug(d->ops->name, "no ioeventfd; queue kicks exit to osprey");
			d->kernel_ioeventfd = false;
		}
		kicks[i] = (struct virtio_kick){ .d = d, .q = i };
		ret = event_loop_add(d->loop, d->qcfg[i].notify_fd, EPOLLIN, virtio_on_kick,
				     &kicks[i]);
		if (ret)
			return ret;
	}
	return 0;
}

int virtio_mmio_create(const struct device_env *env, const struct virtio_dev_ops *ops, void *priv,
		       struct virtio_dev **out)
{
	struct virtio_dev *d;
	struct virtio_kick *kicks;
	char param[96];
	int ret;

	d = calloc(1, sizeof(*d) + VIRTIO_MMIO_MAX_QUEUES * sizeof(*kicks));
	if (!d) {
		if (ops->destroy) {
			struct virtio_dev tmp = { .ops = ops, .priv = priv };

			ops->destroy(&tmp);
		}
		return -ENOMEM;
	}
	kicks = (struct virtio_kick *)(d + 1);
	d->ops = ops;
	d->priv = priv;
	d->env = env;
	d->irq_fd = d->stop_fd = d->wake_fd = -1;
	pthread_mutex_init(&d->io_lock, NULL);
	pthread_cond_init(&d->io_cond, NULL);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		d->qcfg[i].notify_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	ret = ops->nqueues > VIRTIO_MMIO_MAX_QUEUES ? -EINVAL : 0;
	if (!ret)
		ret = env->alloc_mmio(env->machine, VIRTIO_MMIO_SIZE, &d->base);
	if (!ret)
		ret = env->alloc_irq(env->machine, &d->irq);
	if (ret) {
		log_errx(ops->name, "no MMIO space or interrupt line left for another device");
		goto fail;
	}
	d->loop = event_loop_new();
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d->loop || d->stop_fd < 0) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = event_loop_add(d->loop, d->stop_fd, EPOLLIN, virtio_on_stop, d);
	if (!ret) {
		d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ret = d->wake_fd < 0 ? -errno : event_loop_add(d->loop, d->wake_fd, EPOLLIN,
							    virtio_on_wake, d);
	}
	if (!ret)
		ret = throttle_timer_open(d);
	if (!ret)
		ret = event_loop_add(d->loop, d->throttle_fd, EPOLLIN, virtio_on_throttle_timer, d);
	if (!ret)
		ret = virtio_mmio_setup_accel(d, kicks);
	if (!ret)
		ret = bus_register(env->mmio, d->base, VIRTIO_MMIO_SIZE, ops->name,
				   &virtio_mmio_bus_ops, d);
	if (ret)
		goto fail;
	snprintf(param, sizeof(param), "virtio_mmio.device=4K@0x%llx:%u",
		 (unsigned long long)d->base, d->irq);
	ret = env->cmdline_append(env->machine, param);
	if (ret) {
		log_errx(ops->name, "kernel command line full");
		goto fail;
	}
	ret = -pthread_create(&d->thread, NULL, virtio_io_thread, d);
	if (ret) {
		log_errx(ops->name, "cannot start the I/O thread");
		goto fail;
	}
	d->thread_started = true;
	ret = env->add_cleanup(env->machine, virtio_mmio_destroy, d);
	if (ret)
		return ret; /* the cleanup ran already */
	log_info(ops->name, "virtio-mmio at 0x%llx, IRQ %u", (unsigned long long)d->base, d->irq);
	*out = d;
	return 0;
fail:
	virtio_mmio_destroy(d);
	return ret;
}

/* ---- snapshots and migration ---- */

#define STATUS_KNOWN                                                                  \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |   \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)

void virtio_mmio_state_save(struct virtio_dev *d, struct state_writer *w)
{
	state_put_u32(w, VIRTIO_MMIO_STATE_VERSION);
	state_put_u32(w, d->ops->device_id);
	state_put_u32(w, d->ops->nqueues);
	state_put_u32(w, d->status);
	state_put_u32(w, d->device_features_sel);
	state_put_u32(w, d->driver_features_sel);
	state_put_u64(w, d->driver_features);
	state_put_u32(w, d->queue_sel);
	state_put_u32(w, d->interrupt_status);
	state_put_u32(w, d->config_generation);
	state_put_u32(w, d->throttled_queues);
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		const struct virtio_queue_cfg *c = &d->qcfg[i];
		const struct virtq *q = &d->vqs[i];

		state_put_u16(w, c->num);
		state_put_bool(w, c->ready);
		state_put_u64(w, c->desc);
		state_put_u64(w, c->avail);
		state_put_u64(w, c->used);
		state_put_u16(w, q->last_avail);
		state_put_u16(w, q->used_idx);
		state_put_u16(w, q->signalled_used);
		state_put_bool(w, q->signalled_used_valid);
		state_put_bool(w, q->event_idx);
		state_put_bool(w, q->indirect);
		state_put_bool(w, q->broken);
	}
}

/* One queue's part: its set-up and, when ready, the ring rebuilt in st->vqs[i]. */
static void virtio_state_read_queue(struct virtio_dev *d, struct state_reader *r,
				    struct virtio_mmio_state *st, unsigned i)
{
	struct virtio_queue_cfg *c = &st->qcfg[i];
	uint16_t last_avail, used_idx, signalled;
	bool valid, event_idx, indirect, broken;
	const char *name = d->ops->name;

	c->num = state_get_u16(r);
	c->ready = state_get_bool(r);
	c->desc = state_get_u64(r);
	c->avail = state_get_u64(r);
	c->used = state_get_u64(r);
	c->notify_fd = -1;
	last_avail = state_get_u16(r);
	used_idx = state_get_u16(r);
	signalled = state_get_u16(r);
	valid = state_get_bool(r);
	event_idx = state_get_bool(r);
	indirect = state_get_bool(r);
	broken = state_get_bool(r);
	if (state_reader_error(r))
		return;
	if (c->num > d->ops->queue_max) {
		state_fail(r, "%s: queue %u: size %u above the maximum %u", name, i, c->num,
			   d->ops->queue_max);
		return;
	}
	if (!c->ready) {
		/* The live transport resets the ring of a queue that is not ready. */
		if (last_avail || used_idx || signalled || valid || event_idx || indirect || broken)
			state_fail(r, "%s: queue %u: ring positions on a queue that is not ready",
				   name, i);
		return;
	}
	if (!c->num || (c->num & (c->num - 1))) {
		state_fail(r, "%s: queue %u: size %u is not a power of two", name, i, c->num);
		return;
	}
	if (event_idx != !!(st->driver_features & (1ULL << VIRTIO_F_EVENT_IDX)) ||
	    indirect != !!(st->driver_features & (1ULL << VIRTIO_F_INDIRECT_DESC))) {
		state_fail(r, "%s: queue %u: ring features differ from the negotiated ones", name, i);
		return;
	}
	if (virtq_init(&st->vqs[i], d->env->mem, c->num, c->desc, c->avail, c->used, event_idx,
		       indirect)) {
		state_fail(r, "%s: queue %u: rings at 0x%llx/0x%llx/0x%llx (size %u) misaligned or outside guest RAM",
			   name, i, (unsigned long long)c->desc, (unsigned long long)c->avail,
			   (unsigned long long)c->used, c->num);
		return;
	}
	if (virtq_restore(&st->vqs[i], last_avail, used_idx, signalled, valid, broken))
		state_fail(r, "%s: queue %u: %u chains in flight in a queue of %u", name, i,
			   (uint16_t)(last_avail - used_idx), c->num);
}

bool virtio_mmio_state_read(struct virtio_dev *d, struct state_reader *r,
			    struct virtio_mmio_state *st)
{
	const char *name = d->ops->name;
	uint32_t version, id, nq;
	uint64_t offered;

	memset(st, 0, sizeof(*st));
	version = state_get_u32(r);
	id = state_get_u32(r);
	nq = state_get_u32(r);
	if (state_reader_error(r))
		return false;
	if (version != VIRTIO_MMIO_STATE_VERSION) {
		state_fail(r, "%s: virtio-mmio state version %u, this osprey reads %u", name,
			   version, VIRTIO_MMIO_STATE_VERSION);
		return false;
	}
	if (id != d->ops->device_id || nq != d->ops->nqueues) {
		state_fail(r, "%s: state of a device with id %u and %u queues, this one has id %u and %u",
			   name, id, nq, d->ops->device_id, d->ops->nqueues);
		return false;
	}
	st->status = state_get_u32(r);
	st->device_features_sel = state_get_u32(r);
	st->driver_features_sel = state_get_u32(r);
	st->driver_features = state_get_u64(r);
	st->queue_sel = state_get_u32(r);
	st->interrupt_status = state_get_u32(r);
	st->config_generation = state_get_u32(r);
	st->throttled_queues = state_get_u32(r);
	if (state_reader_error(r))
		return false;
	offered = virtio_device_features(d);
	if (st->status & ~(uint32_t)STATUS_KNOWN) {
		state_fail(r, "%s: unknown status bits 0x%x", name, st->status);
		return false;
	}
	if ((st->status & VIRTIO_STATUS_DRIVER_OK) && !(st->status & VIRTIO_STATUS_FEATURES_OK)) {
		state_fail(r, "%s: status DRIVER_OK without FEATURES_OK", name);
		return false;
	}
	if (st->driver_features & ~offered) {
		state_fail(r, "%s: driver features 0x%llx include bits 0x%llx the device never offered",
			   name, (unsigned long long)st->driver_features,
			   (unsigned long long)(st->driver_features & ~offered));
		return false;
	}
	if ((st->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !(st->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
		state_fail(r, "%s: features accepted without VERSION_1", name);
		return false;
	}
	if (st->interrupt_status & ~(uint32_t)(VIRTIO_INT_USED | VIRTIO_INT_CONFIG)) {
		state_fail(r, "%s: interrupt status 0x%x", name, st->interrupt_status);
		return false;
	}
	if (st->throttled_queues & ~((1u << d->ops->nqueues) - 1)) {
		state_fail(r, "%s: rate-limited queues 0x%x of %u", name, st->throttled_queues,
			   d->ops->nqueues);
		return false;
	}
	for (unsigned i = 0; i < d->ops->nqueues && !state_reader_error(r); i++)
		virtio_state_read_queue(d, r, st, i);
	return !state_reader_error(r);
}

void virtio_mmio_state_check_held(struct state_reader *r, const struct virtio_mmio_state *st,
				  const char *name, unsigned q, unsigned held)
{
	unsigned in_flight = st->qcfg[q].ready ? virtq_in_flight(&st->vqs[q]) : 0;

	if (state_reader_error(r) || held == in_flight)
		return;
	if ((st->status & VIRTIO_STATUS_NEEDS_RESET) && held <= in_flight)
		return;
	state_fail(r, "%s: queue %u: %u chains held, %u in flight", name, q, held, in_flight);
}

void virtio_mmio_state_apply(struct virtio_dev *d, const struct virtio_mmio_state *st)
{
	d->status = st->status;
	d->device_features_sel = st->device_features_sel;
	d->driver_features_sel = st->driver_features_sel;
	d->driver_features = st->driver_features;
	d->queue_sel = st->queue_sel;
	d->interrupt_status = st->interrupt_status;
	d->config_generation = st->config_generation;
	d->throttled_queues = st->throttled_queues;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		int fd = d->qcfg[i].notify_fd;

		d->qcfg[i] = st->qcfg[i];
		d->qcfg[i].notify_fd = fd;
		d->vqs[i] = st->vqs[i];
	}
	d->state_loaded = true;
}

int virtio_mmio_state_finish(struct state_reader *r, const char *what, char *err, size_t errlen)
{
	if (!state_reader_error(r))
		state_reader_finish(r, what);
	if (state_reader_error(r)) {
		snprintf(err, errlen, "%s", state_reader_msg(r));
		return -EBADMSG;
	}
	return 0;
}

bool virtio_mmio_state_resumed(struct virtio_dev *d)
{
	uint64_t one = 1;

	pthread_mutex_lock(&d->lock);
	if (!d->state_loaded) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	d->state_loaded = false;
	/* The line as interrupt_status says (a fresh device starts low). */
	if (d->interrupt_status) {
		if (d->irq_fd >= 0)
			(void)!write(d->irq_fd, &one, sizeof(one));
		else
			virtio_update_irq(d);
	}
	if (d->status & VIRTIO_STATUS_DRIVER_OK) {
		if (d->ops->activate)
			d->ops->activate(d);
		if (!(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
			virtio_dev_throttle_resume(d);
			for (unsigned q = 0; q < d->ops->nqueues; q++) {
				if (!d->qcfg[q].ready || virtio_dev_throttled(d, q) ||
				    !virtq_has_work(&d->vqs[q]))
					continue;
				if (d->qcfg[q].notify_fd >= 0)
					(void)!write(d->qcfg[q].notify_fd, &one, sizeof(one));
				else if (d->ops->queue_notify)
					d->ops->queue_notify(d, q);
			}
		}
	}
	pthread_mutex_unlock(&d->lock);
	return true;
}

int virtio_mmio_register_state(struct virtio_dev *d, const char *name,
			       const struct device_state_ops *ops)
{
	const struct device_env *env = d->env;
	int ret;

	if (!env || !env->register_state)
		return 0;
	ret = env->register_state(env->machine, name, ops, d);
	if (ret)
		log_errx(d->ops->name, "cannot register state handler %s: %s", name, strerror(-ret));
	return ret;
}

int virtio_mmio_register_state_id(struct virtio_dev *d, const char *prefix, const char *id,
				  unsigned index, const struct device_state_ops *ops)
{
	const struct device_env *env = d->env;
	char name[STATE_NAME_MAX + 1];
	int n, ret;

	if (!env || !env->register_state)
		return 0;
	n = snprintf(name, sizeof(name), "%s.%s", prefix, id);
	if (n > 0 && (size_t)n < sizeof(name) && !strchr(id, '#')) {
		ret = env->register_state(env->machine, name, ops, d);
		if (ret != -EEXIST) {
			if (ret)
				log_errx(d->ops->name, "cannot register state handler %s: %s", name,
					 strerror(-ret));
			return ret;
		}
	}
	snprintf(name, sizeof(name), "%s.#%u", prefix, index);
	return virtio_mmio_register_state(d, name, ops);
}
