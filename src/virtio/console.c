// SPDX-License-Identifier: Apache-2.0
#include "virtio/console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/log.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"

#define CONSOLE_QUEUE_SIZE 256

static bool vcon_live(struct virtio_dev *d, unsigned q)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       d->qcfg[q].ready;
}

/* Moves pending host input into the guest's receive buffers (lock held). */
static void vcon_rx_deliver(struct virtio_dev *d)
{
	struct virtio_console *c = d->priv;
	struct virtq *vq = &d->vqs[VIRTIO_CONSOLE_RXQ];
	bool pushed = false;
	int ret;

	bool wake_host = false;

	if (!vcon_live(d, VIRTIO_CONSOLE_RXQ))
		return;
	pthread_mutex_lock(&c->rx_lock);
	while (c->rx_count) {
		uint64_t room, n, first;

		ret = virtq_pop(vq, &c->elem);
		if (ret == 0) {
			/* No buffers: wait for the next receiveq kick. */
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			pthread_mutex_unlock(&c->rx_lock);
			virtio_dev_set_needs_reset(d, "malformed receive ring");
			return;
		}
		d->requests++;
		room = c->elem.in_len;
		n = c->rx_count < room ? c->rx_count : room;
		first = VIRTIO_CONSOLE_RX_BUF - c->rx_head;
		if (first > n)
			first = n;
		iov_from_buf(c->elem.in, c->elem.nin, 0, c->rx + c->rx_head, first);
		iov_from_buf(c->elem.in, c->elem.nin, first, c->rx, n - first);
		if (n == 0)
			d->errors++; /* a receive buffer with no writable byte */
		c->rx_head = (c->rx_head + n) % VIRTIO_CONSOLE_RX_BUF;
		c->rx_count -= n;
		c->rx_bytes += n;
		virtq_push(vq, c->elem.head, (uint32_t)n);
		pushed = true;
	}
	if (c->host_waiting && c->rx_count < VIRTIO_CONSOLE_RX_BUF) {
		c->host_waiting = false;
		wake_host = true;
	}
	pthread_mutex_unlock(&c->rx_lock);
	if (pushed)
		virtio_dev_notify_used(d, VIRTIO_CONSOLE_RXQ);
	if (wake_host && c->con)
		c->con->sink_ready(c->con->opaque);
}

/* Guest output to the host console (lock held). */
static void vcon_tx(struct virtio_dev *d)
{
	struct virtio_console *c = d->priv;
	struct virtq *vq = &d->vqs[VIRTIO_CONSOLE_TXQ];
	int ret;

	for (;;) {
		uint64_t left = VIRTIO_CONSOLE_TX_MAX;

		ret = virtq_pop(vq, &c->elem);
		if (ret == 0) {
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed transmit ring");
			return;
		}
		d->requests++;
		for (unsigned i = 0; i < c->elem.nout && left; i++) {
			size_t n = c->elem.out[i].iov_len < left ? c->elem.out[i].iov_len : left;

			if (c->con)
				c->con->write(c->con->opaque, c->elem.out[i].iov_base, n);
			left -= n;
			c->tx_bytes += n;
		}
		if (c->elem.out_len > VIRTIO_CONSOLE_TX_MAX)
			c->tx_dropped += c->elem.out_len - VIRTIO_CONSOLE_TX_MAX;
		virtq_push(vq, c->elem.head, 0);
	}
	virtio_dev_notify_used(d, VIRTIO_CONSOLE_TXQ);
}

static void vcon_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_CONSOLE_RXQ)
		vcon_rx_deliver(d); /* new receive buffers: pending input can go */
	else if (q == VIRTIO_CONSOLE_TXQ)
		vcon_tx(d);
}

static void vcon_activate(struct virtio_dev *d)
{
	/*
	 * Buffers queued (and kicks ignored) before DRIVER_OK, and input that
	 * arrived before the driver was ready: on the I/O thread when the
	 * kick goes through an eventfd.
	 */
	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		uint64_t one = 1;

		if (!d->qcfg[q].ready)
			continue;
		if (d->qcfg[q].notify_fd >= 0)
			(void)!write(d->qcfg[q].notify_fd, &one, sizeof(one));
		else
			vcon_queue_notify(d, q);
	}
}

size_t virtio_console_sink(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_dev *d = opaque;
	struct virtio_console *c = d->priv;
	size_t n, tail, first;
	uint64_t one = 1;

	pthread_mutex_lock(&c->rx_lock);
	n = VIRTIO_CONSOLE_RX_BUF - c->rx_count;
	if (n > len)
		n = len;
	tail = (c->rx_head + c->rx_count) % VIRTIO_CONSOLE_RX_BUF;
	first = VIRTIO_CONSOLE_RX_BUF - tail < n ? VIRTIO_CONSOLE_RX_BUF - tail : n;
	memcpy(c->rx + tail, buf, first);
	memcpy(c->rx, buf + first, n - first);
	c->rx_count += n;
	if (n < len)
		c->host_waiting = true;
	pthread_mutex_unlock(&c->rx_lock);
	if (n && c->rx_efd >= 0)
		(void)!write(c->rx_efd, &one, sizeof(one));
	return n;
}

/* I/O thread, without the lock: the sink queued input. */
static void vcon_on_input(void *opaque, uint32_t events)
{
	struct virtio_dev *d = opaque;
	struct virtio_console *c = d->priv;
	uint64_t v;

	(void)events;
	(void)!read(c->rx_efd, &v, sizeof(v));
	pthread_mutex_lock(&d->lock);
	vcon_rx_deliver(d);
	pthread_mutex_unlock(&d->lock);
}

static uint64_t vcon_features(struct virtio_dev *d)
{
	(void)d;
	return 1ULL << VIRTIO_CONSOLE_F_SIZE;
}

static void vcon_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_console *c = d->priv;
	uint8_t cfg[12]; /* cols, rows, max_nr_ports, emerg_wr */
	uint32_t ports = 1;

	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg + 0, &c->cols, 2);
	memcpy(cfg + 2, &c->rows, 2);
	memcpy(cfg + 4, &ports, 4);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

static void vcon_destroy(struct virtio_dev *d)
{
	struct virtio_console *c = d->priv;

	if (!c)
		return;
	if (c->rx_efd >= 0)
		close(c->rx_efd);
	pthread_mutex_destroy(&c->rx_lock);
	free(c);
}

const struct virtio_dev_ops virtio_console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nqueues = 2,
	.queue_max = CONSOLE_QUEUE_SIZE,
	.features = vcon_features,
	.config_read = vcon_config_read,
	.queue_notify = vcon_queue_notify,
	.activate = vcon_activate,
	.destroy = vcon_destroy,
};

struct virtio_console *virtio_console_alloc(const struct device_console *con)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->con = con;
	c->rx_efd = -1;
	pthread_mutex_init(&c->rx_lock, NULL);
	c->cols = 80;
	c->rows = 25;
	return c;
}

/* ---- snapshots ---- */

static int vcon_state_save(void *opaque, struct state_writer *w)
{
	struct virtio_dev *d = opaque;
	struct virtio_console *c = d->priv;
	size_t first;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_save(d, w);
	state_put_u16(w, c->cols);
	state_put_u16(w, c->rows);
	pthread_mutex_lock(&c->rx_lock);
	state_put_u32(w, (uint32_t)c->rx_count);
	first = VIRTIO_CONSOLE_RX_BUF - c->rx_head;
	if (first > c->rx_count)
		first = c->rx_count;
	state_put_bytes(w, c->rx + c->rx_head, first);
	state_put_bytes(w, c->rx, c->rx_count - first);
	pthread_mutex_unlock(&c->rx_lock);
	pthread_mutex_unlock(&d->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int vcon_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct virtio_dev *d = opaque;
	struct virtio_console *c = d->priv;
	struct virtio_mmio_state st;
	uint16_t cols, rows;
	const void *input;
	uint32_t n;
	int ret;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_read(d, r, &st);
	cols = state_get_u16(r);
	rows = state_get_u16(r);
	n = state_get_u32_max(r, VIRTIO_CONSOLE_RX_BUF, "virtio-console pending input");
	input = state_get_span(r, n);
	virtio_mmio_state_check_held(r, &st, "virtio-console", VIRTIO_CONSOLE_RXQ, 0);
	virtio_mmio_state_check_held(r, &st, "virtio-console", VIRTIO_CONSOLE_TXQ, 0);
	ret = virtio_mmio_state_finish(r, "virtio-console state", err, errlen);
	if (!ret) {
		virtio_mmio_state_apply(d, &st);
		c->cols = cols;
		c->rows = rows;
		pthread_mutex_lock(&c->rx_lock);
		if (n)
			memcpy(c->rx, input, n);
		c->rx_head = 0;
		c->rx_count = n;
		c->host_waiting = false;
		pthread_mutex_unlock(&c->rx_lock);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void vcon_state_resumed(void *opaque)
{
	/* Activation delivers pending input and output queued before the save. */
	virtio_mmio_state_resumed(opaque);
}

const struct device_state_ops virtio_console_state_ops = {
	.version = VIRTIO_CONSOLE_STATE_VERSION,
	.save = vcon_state_save,
	.load = vcon_state_load,
	.resumed = vcon_state_resumed,
	.quiesce = virtio_mmio_state_quiesce,
};

static int virtio_console_create(const struct device_env *env)
{
	struct virtio_console *c;
	struct virtio_dev *d;
	struct winsize ws;
	int ret;

	if (!env->cfg.console_virtio)
		return 0;
	c = virtio_console_alloc(&env->console);
	if (!c)
		return -ENOMEM;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		c->cols = ws.ws_col;
		c->rows = ws.ws_row;
	}
	c->rx_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->rx_efd < 0) {
		ret = -errno;
		pthread_mutex_destroy(&c->rx_lock);
		free(c);
		return ret;
	}
	ret = virtio_mmio_create(env, &virtio_console_ops, c, &d);
	if (ret)
		return ret; /* destroy ran */
	c->d = d;
	ret = virtio_dev_add_fd(d, c->rx_efd, EPOLLIN, vcon_on_input, d);
	if (ret) {
		log_errx("virtio-console", "cannot watch console input");
		return ret; /* the device goes with the VM's cleanups */
	}
	ret = virtio_mmio_register_state(d, "virtio-console", &virtio_console_state_ops);
	if (ret)
		return ret;
	env->console.set_sink(env->console.opaque, virtio_console_sink, d);
	log_info("virtio-console", "guest console hvc0 on the host console (%ux%u)", c->cols,
		 c->rows);
	return 0;
}

static const struct device_desc virtio_console_device = {
	.name = "virtio-console",
	.create = virtio_console_create,
};
DEVICE_REGISTER(virtio_console_device);
