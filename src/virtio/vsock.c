// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock device (--vsock cid=N,uds=PATH): the virtqueues and the
 * host's Unix sockets around the state machine in vsock_proto.c.
 *
 * Queues: rx (0) carries packets to the guest, tx (1) packets from it;
 * the event queue (2) carries only the TRANSPORT_RESET event a restored
 * device sends when it resumes (its connections did not survive).
 * Everything runs on the device's I/O thread. The host sockets (the
 * listening socket and one per connection) sit in a nested epoll set
 * whose fd is the only one added to the I/O thread's loop, so a thousand
 * connections cost one handler there.
 */
#include "virtio/vsock.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"
#include "virtio/mmio.h"

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_NQUEUES 3
/* Tag of the listening socket in the nested epoll set (never a connection's). */
#define LISTEN_TAG UINT64_MAX
/* Host processes accepted per wake-up, so a connect storm cannot starve the queues. */
#define ACCEPT_BURST 16

struct virtio_vsock {
	struct virtio_dev *d;
	struct vsock *vs;
	uint64_t cid;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool path_bound; /* ours to unlink */
	int listen_fd;
	int epfd;
	struct virtq_elem tx_elem;
	struct virtq_elem rx_elem;
	bool rx_held; /* rx_elem popped, not yet filled */
	bool reset_pending; /* TRANSPORT_RESET waits for an event buffer */
	struct virtq_elem ev_elem;
	uint8_t tx_pkt[VSOCK_HDR_SIZE + VSOCK_MAX_PKT_LEN];
	uint8_t rx_payload[VSOCK_MAX_PKT_LEN];
	struct metrics_group *mg; /* "vsock" */
};

static const struct metrics_field vsock_metric_fields[] = {
	METRICS_FIELD(struct vsock_stats, tx_packets),
	METRICS_FIELD(struct vsock_stats, rx_packets),
	METRICS_FIELD(struct vsock_stats, tx_bytes),
	METRICS_FIELD(struct vsock_stats, rx_bytes),
	METRICS_FIELD(struct vsock_stats, malformed),
	METRICS_FIELD(struct vsock_stats, dropped),
	METRICS_FIELD(struct vsock_stats, rst_overflow),
	METRICS_FIELD(struct vsock_stats, credit_violations),
	METRICS_FIELD(struct vsock_stats, conns_opened),
	METRICS_FIELD(struct vsock_stats, conns_closed),
	METRICS_FIELD(struct vsock_stats, refused),
};

/* ---- host socket operations for the state machine ---- */

static int uds_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

static int host_connect(void *opaque, uint32_t port)
{
	struct virtio_vsock *v = opaque;
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path) + 16];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s_%u", v->path, port) >= sizeof(path) ||
	    uds_addr(path, &sa))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Unix sockets connect at once or fail (EAGAIN: backlog full): no wait. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		log_debug("virtio-vsock", "guest connection to port %u: %s: %s", port, path,
			  strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static ssize_t host_send(void *opaque, int fd, const void *buf, size_t len)
{
	ssize_t n;

	(void)opaque;
	do
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t host_recv(void *opaque, int fd, void *buf, size_t len, bool peek)
{
	ssize_t n;

	(void)opaque;
	do
		n = recv(fd, buf, len, MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void host_shutdown_wr(void *opaque, int fd)
{
	(void)opaque;
	shutdown(fd, SHUT_WR);
}

static void host_watch(void *opaque, int fd, uint32_t events, uint64_t tag)
{
	struct virtio_vsock *v = opaque;
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	if (!events) {
		epoll_ctl(v->epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	if (epoll_ctl(v->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT &&
	    epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_warn("virtio-vsock", "cannot watch a host socket");
}

static void host_close(void *opaque, int fd)
{
	struct virtio_vsock *v = opaque;

	epoll_ctl(v->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static const struct vsock_host_ops vsock_unix_ops = {
	.connect = host_connect,
	.send = host_send,
	.recv = host_recv,
	.shutdown_wr = host_shutdown_wr,
	.watch = host_watch,
	.close = host_close,
};

/* ---- queues ---- */

static bool queue_live(struct virtio_dev *d, unsigned q)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       d->qcfg[q].ready;
}

/* Fills guest receive buffers while there is something to say (lock held). */
static void vsock_process_rx(struct virtio_vsock *v)
{
	struct virtio_dev *d = v->d;
	struct virtq *vq = &d->vqs[VSOCK_RXQ];
	bool pushed = false;

	if (!queue_live(d, VSOCK_RXQ))
		return;
	while (vsock_rx_pending(v->vs)) {
		struct vsock_hdr hdr;
		uint8_t wire[VSOCK_HDR_SIZE];
		uint64_t room;
		int n;

		if (!v->rx_held) {
			int ret = virtq_pop(vq, &v->rx_elem);

			if (ret == 0) {
				if (!virtq_rearm(vq))
					break;
				continue;
			}
			if (ret < 0) {
				virtio_dev_set_needs_reset(d, "malformed receive ring");
				return;
			}
			if (v->rx_elem.in_len < VSOCK_HDR_SIZE) {
				virtq_push(vq, v->rx_elem.head, 0);
				virtio_dev_set_needs_reset(d, "receive buffer smaller than a header");
				virtio_dev_notify_used(d, VSOCK_RXQ);
				return;
			}
			v->rx_held = true;
		}
		room = v->rx_elem.in_len - VSOCK_HDR_SIZE;
		if (room > sizeof(v->rx_payload))
			room = sizeof(v->rx_payload);
		n = vsock_rx(v->vs, &hdr, v->rx_payload, (uint32_t)room);
		if (n < 0)
			break; /* nothing after all: keep the buffer for later */
		vsock_hdr_encode(&hdr, wire);
		iov_from_buf(v->rx_elem.in, v->rx_elem.nin, 0, wire, sizeof(wire));
		iov_from_buf(v->rx_elem.in, v->rx_elem.nin, VSOCK_HDR_SIZE, v->rx_payload,
			     (uint64_t)n);
		virtq_push(vq, v->rx_elem.head, VSOCK_HDR_SIZE + (uint32_t)n);
		v->rx_held = false;
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_used(d, VSOCK_RXQ);
}

static void vsock_process_tx(struct virtio_vsock *v)
{
	struct virtio_dev *d = v->d;
	struct virtq *vq = &d->vqs[VSOCK_TXQ];
	bool pushed = false;

	if (!queue_live(d, VSOCK_TXQ))
		return;
	for (;;) {
		uint64_t len;
		int ret = virtq_pop(vq, &v->tx_elem);

		if (ret == 0) {
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed transmit ring");
			break;
		}
		d->requests++;
		len = iov_to_buf(v->tx_elem.out, v->tx_elem.nout, 0, v->tx_pkt, sizeof(v->tx_pkt));
		if (vsock_tx(v->vs, v->tx_pkt, len))
			d->errors++;
		virtq_push(vq, v->tx_elem.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_used(d, VSOCK_TXQ);
	/* Replies (RESPONSE, RST, credit) may be waiting for receive buffers. */
	vsock_process_rx(v);
}

/* Sends a pending TRANSPORT_RESET on the event queue (lock held). */
static void vsock_send_reset(struct virtio_vsock *v)
{
	struct virtio_dev *d = v->d;
	struct virtq *vq = &d->vqs[VSOCK_EVQ];
	uint32_t id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	uint64_t n;
	int ret;

	if (!v->reset_pending || !queue_live(d, VSOCK_EVQ))
		return;
	ret = virtq_pop(vq, &v->ev_elem);
	if (ret == 0) {
		if (!virtq_rearm(vq))
			return; /* at the driver's next kick of the event queue */
		ret = virtq_pop(vq, &v->ev_elem);
	}
	if (ret <= 0) {
		if (ret < 0)
			virtio_dev_set_needs_reset(d, "malformed event ring");
		return;
	}
	n = iov_from_buf(v->ev_elem.in, v->ev_elem.nin, 0, &id, sizeof(id));
	virtq_push(vq, v->ev_elem.head, (uint32_t)n);
	v->reset_pending = false;
	virtio_dev_notify_used(d, VSOCK_EVQ);
	if (n < sizeof(id))
		virtio_dev_set_needs_reset(d, "event buffer smaller than an event");
	else
		log_info("virtio-vsock", "told the guest its connections were reset");
}

static void vsock_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_vsock *v = d->priv;

	if (q == VSOCK_TXQ)
		vsock_process_tx(v);
	else if (q == VSOCK_RXQ)
		vsock_process_rx(v);
	else if (q == VSOCK_EVQ)
		vsock_send_reset(v); /* otherwise the driver's buffers stay */
}

/* ---- host socket events (I/O thread, without d->lock) ---- */

static void vsock_accept(struct virtio_vsock *v)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("virtio-vsock", "accept on %s", v->path);
			return;
		}
		if (vsock_host_accept(v->vs, fd)) {
			log_warnx("virtio-vsock", "%u connections open: refusing a host connection",
				  vsock_conn_count(v->vs));
			close(fd);
		}
	}
}

static void vsock_on_host(void *opaque, uint32_t events)
{
	struct virtio_vsock *v = opaque;
	struct virtio_dev *d = v->d;
	struct epoll_event evs[32];
	int n;

	(void)events;
	pthread_mutex_lock(&d->lock);
	n = epoll_wait(v->epfd, evs, 32, 0);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == LISTEN_TAG)
			vsock_accept(v);
		else
			vsock_host_event(v->vs, evs[i].data.u64, evs[i].events);
	}
	vsock_process_rx(v);
	pthread_mutex_unlock(&d->lock);
}

/* ---- device ---- */

static void vsock_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_vsock *v = d->priv;
	uint8_t cfg[8];
	uint64_t cid = htole64(v->cid);

	memcpy(cfg, &cid, sizeof(cfg));
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

static void vsock_dev_reset(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;

	/* The driver's sockets are gone with its rings: so are ours. */
	vsock_reset(v->vs);
	v->rx_held = false;
	v->reset_pending = false;
}

static void vsock_destroy(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;
	const struct vsock_stats *s;

	if (!v)
		return;
	metrics_unregister(v->mg);
	if (v->vs) {
		s = vsock_stats(v->vs);
		log_info("virtio-vsock",
			 "%llu packets from the guest (%llu malformed, %llu unexpected), %llu to it; %llu connections, %llu refused",
			 (unsigned long long)s->tx_packets, (unsigned long long)s->malformed,
			 (unsigned long long)s->dropped, (unsigned long long)s->rx_packets,
			 (unsigned long long)s->conns_opened, (unsigned long long)s->refused);
		vsock_free(v->vs);
	}
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	if (v->path_bound)
		unlink(v->path);
	if (v->epfd >= 0)
		close(v->epfd);
	free(v);
}

const struct virtio_dev_ops virtio_vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = VSOCK_NQUEUES,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_dev_reset,
	.destroy = vsock_destroy,
};

/*
 * Binds the host socket. A socket file nobody listens on is a leftover
 * and goes; a live one, or anything that is not a socket, is an error.
 */
static int vsock_listen(struct virtio_vsock *v)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (uds_addr(v->path, &sa)) {
		log_errx("virtio-vsock", "%s: path too long for a Unix socket", v->path);
		return -ENAMETOOLONG;
	}
	if (lstat(v->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_errx("virtio-vsock", "%s exists and is not a socket", v->path);
			return -EEXIST;
		}
		/* Non-blocking: a live listener with a full backlog says EAGAIN. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			log_err("virtio-vsock", "socket");
			return -errno;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
			close(fd);
			log_errx("virtio-vsock", "%s is in use by another process", v->path);
			return -EADDRINUSE;
		}
		close(fd);
		unlink(v->path); /* stale: nobody listens */
	}
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->listen_fd < 0) {
		log_err("virtio-vsock", "socket");
		return -errno;
	}
	if (bind(v->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		log_err("virtio-vsock", "cannot create Unix socket %s", v->path);
		return err;
	}
	v->path_bound = true;
	if (listen(v->listen_fd, 64) < 0) {
		int err = -errno;

		log_err("virtio-vsock", "listen on %s", v->path);
		return err;
	}
	return 0;
}

/* ---- snapshots ---- */

static int vsock_state_save(void *opaque, struct state_writer *w)
{
	struct virtio_dev *d = opaque;
	struct virtio_vsock *v = d->priv;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_save(d, w);
	state_put_u64(w, v->cid);
	state_put_bool(w, v->rx_held);
	pthread_mutex_unlock(&d->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int vsock_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct virtio_dev *d = opaque;
	struct virtio_vsock *v = d->priv;
	struct virtio_mmio_state st;
	uint64_t cid;
	bool rx_held;
	int ret;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_read(d, r, &st);
	cid = state_get_u64(r);
	rx_held = state_get_bool(r);
	if (!state_reader_error(r) && cid != v->cid)
		state_fail(r, "virtio-vsock: saved with guest CID %llu, configured %llu",
			   (unsigned long long)cid, (unsigned long long)v->cid);
	/* Only a held receive chain may be in flight (unless the device is broken). */
	for (unsigned q = 0; q < VSOCK_NQUEUES; q++)
		virtio_mmio_state_check_held(r, &st, "virtio-vsock", q, q == VSOCK_RXQ && rx_held);
	ret = virtio_mmio_state_finish(r, "virtio-vsock state", err, errlen);
	if (!ret) {
		virtio_mmio_state_apply(d, &st);
		/* No connection survives: the state machine starts empty. */
		vsock_reset(v->vs);
		virtq_unpop(&d->vqs[VSOCK_RXQ], rx_held);
		v->rx_held = false;
		v->reset_pending = false;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void vsock_state_resumed(void *opaque)
{
	struct virtio_dev *d = opaque;
	struct virtio_vsock *v = d->priv;

	if (!virtio_mmio_state_resumed(d))
		return;
	pthread_mutex_lock(&d->lock);
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		v->reset_pending = true;
		vsock_send_reset(v);
	}
	pthread_mutex_unlock(&d->lock);
}

const struct device_state_ops virtio_vsock_state_ops = {
	.version = VIRTIO_VSOCK_STATE_VERSION,
	.save = vsock_state_save,
	.load = vsock_state_load,
	.resumed = vsock_state_resumed,
	.quiesce = virtio_mmio_state_quiesce,
};

/* The state without a host socket (vsock.h). */
static struct virtio_vsock *vsock_dev_alloc(uint64_t cid)
{
	struct virtio_vsock *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->listen_fd = -1;
	v->cid = cid;
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	v->vs = vsock_new(cid, &vsock_unix_ops, v);
	if (v->epfd < 0 || !v->vs) {
		struct virtio_dev tmp = { .ops = &virtio_vsock_ops, .priv = v };

		vsock_destroy(&tmp);
		return NULL;
	}
	return v;
}

void *virtio_vsock_alloc(uint64_t cid)
{
	return vsock_dev_alloc(cid);
}

void virtio_vsock_attach(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;

	v->d = d;
}

static int virtio_vsock_create(const struct device_env *env)
{
	const struct vm_vsock_config *cfg = env->cfg.vsock;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
	struct virtio_vsock *v;
	struct virtio_dev *d;
	int ret;

	if (!cfg->enabled)
		return 0;
	v = vsock_dev_alloc(cfg->cid);
	if (!v)
		return -ENOMEM;
	snprintf(v->path, sizeof(v->path), "%s", cfg->uds);
	ret = vsock_listen(v);
	if (ret)
		goto fail;
	/* The protocol's own counters, read in place (relaxed atomics). */
	v->mg = metrics_register("vsock", vsock_metric_fields,
				 sizeof(vsock_metric_fields) / sizeof(vsock_metric_fields[0]),
				 vsock_stats(v->vs));
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, v->listen_fd, &ev) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = virtio_mmio_create(env, &virtio_vsock_ops, v, &d);
	if (ret)
		return ret; /* destroy ran */
	v->d = d;
	ret = virtio_dev_add_fd(d, v->epfd, EPOLLIN, vsock_on_host, v);
	if (ret) {
		log_errx("virtio-vsock", "cannot watch the host sockets");
		return ret; /* the device (and v) go with the VM's cleanups */
	}
	ret = virtio_mmio_register_state(d, "virtio-vsock", &virtio_vsock_state_ops);
	if (ret)
		return ret;
	log_info("virtio-vsock", "guest CID %llu, host socket %s", (unsigned long long)v->cid,
		 v->path);
	return 0;
fail:
	{
		struct virtio_dev tmp = { .ops = &virtio_vsock_ops, .priv = v };

		vsock_destroy(&tmp);
	}
	return ret;
}

static const struct device_desc virtio_vsock_device = {
	.name = "virtio-vsock",
	.create = virtio_vsock_create,
};
DEVICE_REGISTER(virtio_vsock_device);
