// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net (virtio 1.x, section 5.1) over a host tap device: one device
 * per --net, a receive queue (0) and a transmit queue (1), no control
 * queue.
 *
 * The tap is opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking,
 * and TUNSETVNETHDRSZ 12, so the tap's vnet header is the virtio 1.x
 * header and packets pass through unchanged (after the checks in
 * virtio_net_tx_prepare() and virtio_net_rx_hdr_fixup()). Checksum and
 * TSO offloads are offered only when the tap accepts TUNSETOFFLOAD at
 * create time; activate() then tells the tap what the driver can receive.
 *
 * Threads and locks: everything runs on the device's I/O thread. Kicks
 * arrive with d->lock held; the tap callback takes d->lock itself. The
 * vCPU threads only reach activate() and reset() (lock held).
 *
 * Receive: the tap is watched for EPOLLIN only while the driver has
 * receive buffers. A packet is read into a bounce buffer, then copied into
 * one chain, or into as many as it needs with VIRTIO_NET_F_MRG_RXBUF.
 * When the ring runs dry the packet waits (with the chains it has taken)
 * and the tap is not read until the driver kicks the receive queue.
 *
 * Transmit: a chain is written to the tap with one writev(). If the tap
 * says EAGAIN the chain is kept, the tap is watched for EPOLLOUT and
 * transmission resumes from that chain when it becomes writable (nothing
 * is dropped for back-pressure).
 *
 * Rate limits (rx_rate_limit, tx_rate_limit; bytes are frame bytes, one
 * op per packet): a received packet the limiter refuses stays in rx_buf
 * and the tap is not read; a transmit chain stays in tx_elem; the queue
 * waits for the transport's rate-limit timer (virtio_dev_throttle) and
 * resumes with that packet. Nothing is dropped for a limit.
 */
#include "virtio/net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/event_loop.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/rate_limiter.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"
#include "virtio/mmio.h"

#define TAG "virtio-net"

_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN, "virtio_net_hdr size");

static bool has_feature(uint64_t features, unsigned bit)
{
	return features & (1ULL << bit);
}

/* ---- packet handling (no tap involved) ---- */

/* Whether the offloads a header asks for were negotiated (HOST_* for tx). */
static bool hdr_offloads_ok(const struct virtio_net_hdr *h, uint64_t f, unsigned csum,
			    unsigned tso4, unsigned tso6, unsigned ecn, unsigned ufo)
{
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has_feature(f, csum))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has_feature(f, ecn))
		return false;
	switch (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has_feature(f, tso4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has_feature(f, tso6);
	case VIRTIO_NET_HDR_GSO_UDP:
		return has_feature(f, ufo);
	default:
		return false;
	}
}

int virtio_net_tx_prepare(const struct virtq_elem *e, uint64_t features,
			  struct virtio_net_hdr *hdr, struct iovec *iov, unsigned *niov,
			  size_t *frame_len)
{
	uint64_t skip = VIRTIO_NET_HDR_LEN, frame;
	unsigned n = 1;

	/* Transmit buffers are device-readable only and start with the header. */
	if (e->nin || e->out_len < VIRTIO_NET_HDR_LEN)
		return -EINVAL;
	frame = e->out_len - VIRTIO_NET_HDR_LEN;
	if (frame < VIRTIO_NET_MIN_FRAME || frame > VIRTIO_NET_MAX_FRAME)
		return -EMSGSIZE;
	/* One copy: the guest may rewrite its buffer after the check. */
	iov_to_buf(e->out, e->nout, 0, hdr, VIRTIO_NET_HDR_LEN);
	if (!hdr_offloads_ok(hdr, features, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4,
			     VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_UFO))
		return -EPROTO;
	/* DATA_VALID and RSC_INFO are receive-only flags. */
	hdr->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr->num_buffers = 0;
	iov[0].iov_base = hdr;
	iov[0].iov_len = VIRTIO_NET_HDR_LEN;
	for (unsigned i = 0; i < e->nout; i++) {
		uint64_t l = e->out[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		iov[n].iov_base = (uint8_t *)e->out[i].iov_base + skip;
		iov[n].iov_len = l - skip;
		skip = 0;
		n++;
	}
	*niov = n;
	*frame_len = frame;
	return 0;
}

bool virtio_net_rx_hdr_fixup(struct virtio_net_hdr *hdr, uint64_t features)
{
	if (!hdr_offloads_ok(hdr, features, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4,
			     VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_UFO))
		return false;
	/* Without GUEST_CSUM the device must leave flags zero (5.1.6.4.1). */
	if (has_feature(features, VIRTIO_NET_F_GUEST_CSUM))
		hdr->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	else
		hdr->flags = 0;
	hdr->num_buffers = 0;
	return true;
}

void virtio_net_rx_start(struct virtio_net_rx *rx, const uint8_t *pkt, size_t len)
{
	virtio_net_rx_clear(rx);
	rx->pkt = pkt;
	rx->len = len;
	rx->active = true;
}

void virtio_net_rx_clear(struct virtio_net_rx *rx)
{
	rx->pkt = NULL;
	rx->len = rx->off = 0;
	rx->nused = rx->hdr_niov = 0;
	rx->active = false;
}

/* Remembers where the first chain's 12 header bytes are (for num_buffers). */
static void rx_save_hdr_iov(struct virtio_net_rx *rx, const struct virtq_elem *e)
{
	uint64_t left = VIRTIO_NET_HDR_LEN;

	rx->hdr_niov = 0;
	/* Segments are never empty, so 12 bytes take at most 12 of them. */
	for (unsigned i = 0; i < e->nin && left; i++) {
		uint64_t l = e->in[i].iov_len < left ? e->in[i].iov_len : left;

		rx->hdr_iov[rx->hdr_niov].iov_base = e->in[i].iov_base;
		rx->hdr_iov[rx->hdr_niov].iov_len = l;
		rx->hdr_niov++;
		left -= l;
	}
}

int virtio_net_rx_fill(struct virtio_net_rx *rx, struct virtq *q, struct virtq_elem *e,
		       bool mergeable)
{
	unsigned max = 1;
	uint16_t nbufs;

	if (mergeable)
		max = q->size < VIRTIO_NET_RX_MAX_BUFS ? q->size : VIRTIO_NET_RX_MAX_BUFS;
	while (rx->off < rx->len) {
		uint64_t n;
		int ret;

		if (rx->nused >= max) {
			/* Even every buffer of the ring is too small. */
			virtq_unpop(q, rx->nused);
			rx->nused = 0;
			rx->off = 0;
			return -EMSGSIZE;
		}
		ret = virtq_pop(q, e);
		if (ret < 0)
			return -EIO;
		if (ret == 0)
			return 0;
		/* Receive buffers are device-writable and hold a header (5.1.6.3.1). */
		if (e->nout || e->in_len < VIRTIO_NET_HDR_LEN)
			return -EIO;
		if (!mergeable && e->in_len < rx->len) {
			virtq_unpop(q, 1);
			return -EMSGSIZE;
		}
		if (rx->nused == 0)
			rx_save_hdr_iov(rx, e);
		n = iov_from_buf(e->in, e->nin, 0, rx->pkt + rx->off, rx->len - rx->off);
		rx->used[rx->nused].head = e->head;
		rx->used[rx->nused].len = (uint32_t)n;
		rx->nused++;
		rx->off += n;
	}
	/* 1 without MRG_RXBUF, as the spec requires. */
	nbufs = htole16((uint16_t)rx->nused);
	iov_from_buf(rx->hdr_iov, rx->hdr_niov, VIRTIO_NET_NUM_BUFFERS_OFF, &nbufs, sizeof(nbufs));
	return 1;
}

/*
 * Used ring: { le16 flags; le16 idx; { le32 id; le32 len; } ring[size]; ... }.
 * virtq_push() publishes each element as it goes; a merged packet must
 * appear all at once, so its elements are written first and the index
 * moves once. (This belongs in queue.c as a fill/flush pair when a second
 * device needs it.)
 */
int virtio_net_rx_publish(struct virtio_net_rx *rx, struct virtq *q)
{
	uint8_t *used;

	if (q->broken || !q->size)
		return -EIO;
	used = guest_mem_ptr(q->mem, q->used_gpa, 6 + 8 * (uint64_t)q->size);
	if (!used)
		return -EIO;
	for (unsigned i = 0; i < rx->nused; i++)
		if (rx->used[i].head >= q->size)
			return -EIO;
	for (unsigned i = 0; i < rx->nused; i++) {
		uint16_t idx = (uint16_t)(q->used_idx + i) & (uint16_t)(q->size - 1);
		uint8_t *slot = used + 4 + 8 * (uint64_t)idx;

		__atomic_store_n((uint32_t *)slot, htole32(rx->used[i].head), __ATOMIC_RELAXED);
		__atomic_store_n((uint32_t *)(slot + 4), htole32(rx->used[i].len), __ATOMIC_RELAXED);
	}
	q->used_idx = (uint16_t)(q->used_idx + rx->nused);
	/* The elements are visible before the index that publishes them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n((uint16_t *)(used + 2), htole16(q->used_idx), __ATOMIC_RELAXED);
	virtio_net_rx_clear(rx);
	return 0;
}

unsigned virtio_net_tap_offloads(uint64_t features)
{
	unsigned off;

	/* The tap hands over partial checksums and GSO only with TUN_F_CSUM. */
	if (!has_feature(features, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	off = TUN_F_CSUM;
	if (has_feature(features, VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (has_feature(features, VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	return off;
}

void virtio_net_default_mac(const char *tap, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const char *p = tap; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ULL;
	}
	mac[0] = 0x02; /* locally administered, unicast */
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

/* ---- the device ---- */

#define NET_RXQ 0
#define NET_TXQ 1
/* Packets read from the tap per wake-up before the I/O thread looks elsewhere. */
#define NET_RX_BUDGET 64

struct virtio_net {
	const struct vm_net_config *cfg;
	int tap;
	uint8_t mac[6];
	bool offloads;	     /* the tap takes TUNSETOFFLOAD: offer csum/TSO */
	uint32_t tap_events; /* what the I/O thread watches on the tap now */
	bool tap_gone;	     /* the tap device was deleted under us */
	bool rx_wanted;	     /* read the tap (the driver has buffers) */
	bool tx_blocked;     /* the tap said EAGAIN: wait for EPOLLOUT */
	bool tx_pending;     /* tx_elem / tx_iov: a chain not yet written */
	bool rx_err_logged, tx_err_logged;

	struct virtio_net_rx rx;
	struct virtio_net_hdr tx_hdr;
	unsigned tx_niov;
	size_t tx_frame_len;
	struct iovec tx_iov[VIRTIO_NET_TX_IOV_MAX];
	struct virtq_elem rx_elem, tx_elem;
	uint8_t rx_buf[VIRTIO_NET_MAX_PACKET] __attribute__((aligned(8)));
	uint8_t tx_buf[VIRTIO_NET_MAX_PACKET]; /* chains with more segments than writev takes */

	/*
	 * Rate limits: a packet read from the tap waits in rx_buf (rx_held)
	 * until the receive limiter lets it in; a transmit chain waits in
	 * tx_elem (tx_pending, not yet tx_admitted) for the transmit limiter.
	 */
	struct rate_limiter rx_rl, tx_rl;
	bool rx_held, tx_admitted;
	size_t rx_held_len;

	char name[VM_NET_IFACE_ID_MAX + 1]; /* iface id: cfg->id or the tap name */
	struct virtio_net_metrics m;  /* the "net_<id>" group */
	struct metrics_group *mg;
};

static const struct metrics_field net_metric_fields[] = {
	METRICS_FIELD(struct virtio_net_metrics, rx_bytes),
	METRICS_FIELD(struct virtio_net_metrics, rx_packets),
	METRICS_FIELD(struct virtio_net_metrics, rx_dropped),
	METRICS_FIELD(struct virtio_net_metrics, rx_errors),
	METRICS_FIELD(struct virtio_net_metrics, tx_bytes),
	METRICS_FIELD(struct virtio_net_metrics, tx_packets),
	METRICS_FIELD(struct virtio_net_metrics, tx_dropped),
	METRICS_FIELD(struct virtio_net_metrics, tx_errors),
	METRICS_FIELD(struct virtio_net_metrics, rx_rate_limiter_throttled),
	METRICS_FIELD(struct virtio_net_metrics, tx_rate_limiter_throttled),
	METRICS_FIELD(struct virtio_net_metrics, update_count),
};

static bool net_running(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Watches the tap for what is wanted now (lock held). */
static void net_set_events(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	uint32_t ev = 0;

	if (n->tap_gone)
		return;
	if (!net_running(d))
		n->rx_wanted = n->tx_blocked = false;
	if (n->rx_wanted)
		ev |= EPOLLIN;
	if (n->tx_blocked)
		ev |= EPOLLOUT;
	if (ev != n->tap_events && (!d->loop || event_loop_modify(d->loop, n->tap, ev) == 0))
		n->tap_events = ev; /* no loop: a unit test delivers tap events itself */
}

/* Whether receive buffers are available; asks for a kick when not. */
static bool net_rx_have_buffers(struct virtq *q)
{
	return virtq_has_work(q) || virtq_rearm(q);
}

static void net_rx(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	struct virtq *q = &d->vqs[NET_RXQ];
	bool mergeable = has_feature(d->driver_features, VIRTIO_NET_F_MRG_RXBUF);
	bool published = false;
	unsigned budget = NET_RX_BUDGET;

	n->rx_wanted = false;
	if (!net_running(d) || !d->qcfg[NET_RXQ].ready || n->tap_gone ||
	    virtio_dev_throttled(d, NET_RXQ))
		return;
	while (budget) {
		uint64_t frame_len;
		int ret;

		if (!n->rx.active) {
			ssize_t len;

			if (!n->rx_held) {
				if (!net_rx_have_buffers(q))
					break; /* until the driver kicks the receive queue */
				len = read(n->tap, n->rx_buf, sizeof(n->rx_buf));
				if (len < 0) {
					if (errno == EINTR)
						continue;
					if (errno == EAGAIN || errno == EWOULDBLOCK) {
						n->rx_wanted = true;
						break;
					}
					metrics_inc(&n->m.rx_errors);
					if (!n->rx_err_logged)
						log_warn(TAG, "tap %s: read", n->cfg->tap);
					n->rx_err_logged = true;
					break;
				}
				budget--;
				if ((size_t)len < VIRTIO_NET_HDR_LEN + VIRTIO_NET_MIN_FRAME ||
				    !virtio_net_rx_hdr_fixup((struct virtio_net_hdr *)n->rx_buf,
							     d->driver_features)) {
					metrics_inc(&n->m.rx_dropped);
					continue;
				}
				n->rx_held = true;
				n->rx_held_len = (size_t)len;
			}
			/* The packet waits in rx_buf (the tap unread) for the limiter. */
			if (!virtio_dev_admit(d, NET_RXQ, &n->rx_rl, n->rx_held_len - VIRTIO_NET_HDR_LEN,
				       &n->m.rx_rate_limiter_throttled))
				break;
			n->rx_held = false;
			virtio_net_rx_start(&n->rx, n->rx_buf, n->rx_held_len);
		}
		ret = virtio_net_rx_fill(&n->rx, q, &n->rx_elem, mergeable);
		if (ret == 0) {
			if (net_rx_have_buffers(q))
				continue;
			break; /* the packet waits, with the chains it has */
		}
		if (ret == -EMSGSIZE) {
			metrics_inc(&n->m.rx_dropped);
			virtio_net_rx_clear(&n->rx);
			continue;
		}
		frame_len = n->rx.len - VIRTIO_NET_HDR_LEN; /* publish clears rx */
		if (ret < 0 || virtio_net_rx_publish(&n->rx, q) < 0) {
			virtio_net_rx_clear(&n->rx);
			metrics_inc(&n->m.rx_errors);
			virtio_dev_set_needs_reset(d, "malformed receive ring or buffer");
			return;
		}
		metrics_inc(&n->m.rx_packets);
		metrics_add(&n->m.rx_bytes, frame_len);
		published = true;
	}
	if (!budget)
		n->rx_wanted = true; /* more may be waiting: come back after the others */
	if (published)
		virtio_dev_notify_used(d, NET_RXQ);
}

/* One writev of the prepared chain: 0, -EAGAIN or -errno. */
static int net_tap_write(struct virtio_net *n)
{
	const struct iovec *iov = n->tx_iov;
	int cnt = (int)n->tx_niov;
	struct iovec flat;
	ssize_t r;

	if (n->tx_niov > IOV_MAX) {
		flat.iov_base = n->tx_buf;
		flat.iov_len = iov_to_buf(n->tx_iov, n->tx_niov, 0, n->tx_buf, sizeof(n->tx_buf));
		iov = &flat;
		cnt = 1;
	}
	do
		r = writev(n->tap, iov, cnt);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

static void net_tx(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	struct virtq *q = &d->vqs[NET_TXQ];
	bool completed = false;
	int ret;

	if (!net_running(d) || !d->qcfg[NET_TXQ].ready || virtio_dev_throttled(d, NET_TXQ))
		return;
	for (;;) {
		if (!n->tx_pending) {
			ret = virtq_pop(q, &n->tx_elem);
			if (ret == 0) {
				if (!virtq_rearm(q))
					break;
				continue;
			}
			if (ret < 0) {
				virtio_dev_set_needs_reset(d, "malformed transmit ring");
				break;
			}
			ret = virtio_net_tx_prepare(&n->tx_elem, d->driver_features, &n->tx_hdr,
						    n->tx_iov, &n->tx_niov, &n->tx_frame_len);
			if (ret == -EINVAL) {
				metrics_inc(&n->m.tx_errors);
				virtio_dev_set_needs_reset(d, "malformed transmit chain");
				break;
			}
			if (ret) {
				/* Oversize, runt, or an offload not negotiated. */
				metrics_inc(&n->m.tx_errors);
				metrics_inc(&n->m.tx_dropped);
				virtq_push(q, n->tx_elem.head, 0);
				completed = true;
				continue;
			}
			n->tx_pending = true;
			n->tx_admitted = false;
		}
		if (!n->tx_admitted) {
			if (!virtio_dev_admit(d, NET_TXQ, &n->tx_rl, n->tx_frame_len,
				       &n->m.tx_rate_limiter_throttled))
				break; /* resumed from this chain by the limiter's timer */
			n->tx_admitted = true;
		}
		ret = net_tap_write(n);
		if (ret == -EAGAIN) {
			n->tx_blocked = true; /* resumed from this chain on EPOLLOUT */
			break;
		}
		n->tx_pending = false;
		if (ret) {
			metrics_inc(&n->m.tx_errors);
			metrics_inc(&n->m.tx_dropped);
			if (!n->tx_err_logged) {
				errno = -ret;
				log_warn(TAG, "tap %s: write", n->cfg->tap);
			}
			n->tx_err_logged = true;
		} else {
			metrics_inc(&n->m.tx_packets);
			metrics_add(&n->m.tx_bytes, n->tx_frame_len);
		}
		virtq_push(q, n->tx_elem.head, 0);
		completed = true;
	}
	if (completed)
		virtio_dev_notify_used(d, NET_TXQ);
}

/* The tap is readable or writable (I/O thread, lock not held). */
static void net_on_tap(void *opaque, uint32_t events)
{
	virtio_net_tap_event(opaque, events);
}

void virtio_net_tap_event(struct virtio_dev *d, uint32_t events)
{
	struct virtio_net *n = d->priv;

	pthread_mutex_lock(&d->lock);
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* Only when the tap device was deleted; it stays that way. */
		if (!n->tap_gone)
			log_warnx(TAG, "tap %s: the device went away", n->cfg->tap);
		n->tap_gone = true;
		event_loop_remove(d->loop, n->tap);
		n->rx_wanted = false;
	}
	if (n->tx_blocked && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		n->tx_blocked = false;
		net_tx(d);
	}
	if (n->rx_wanted && (events & EPOLLIN))
		net_rx(d);
	net_set_events(d);
	pthread_mutex_unlock(&d->lock);
}

static void net_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = d->priv;

	if (q == NET_RXQ) {
		/* New buffers: finish a waiting packet, read the tap again. */
		virtq_set_notify(&d->vqs[NET_RXQ], false);
		net_rx(d);
	} else if (q == NET_TXQ && !n->tx_blocked) {
		net_tx(d);
	}
	net_set_events(d);
}

static void net_set_offloads(struct virtio_net *n, unsigned offloads)
{
	if (n->offloads && ioctl(n->tap, TUNSETOFFLOAD, offloads) < 0)
		log_warn(TAG, "tap %s: TUNSETOFFLOAD 0x%x", n->cfg->tap, offloads);
}

static void net_activate(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;

	net_set_offloads(n, virtio_net_tap_offloads(d->driver_features));
	n->rx_wanted = true;
	net_set_events(d);
	log_debug(TAG, "tap %s: driver features 0x%llx", n->cfg->tap,
		  (unsigned long long)d->driver_features);
}

static void net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;

	virtio_net_rx_clear(&n->rx);
	n->tx_pending = n->tx_blocked = n->rx_wanted = false;
	n->rx_held = n->tx_admitted = false;
	/* d->status is cleared after this returns: stop watching explicitly. */
	if (!n->tap_gone && n->tap_events && event_loop_modify(d->loop, n->tap, 0) == 0)
		n->tap_events = 0;
	net_set_offloads(n, 0);
}

static uint64_t net_features(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	uint64_t f = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF);

	if (n->offloads)
		f |= (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		     (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |
		     (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6);
	return f;
}

static void net_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_net *n = d->priv;
	uint8_t cfg[8];
	uint16_t status = htole16(VIRTIO_NET_S_LINK_UP);

	/* struct virtio_net_config: mac[6], le16 status; the rest reads 0. */
	memcpy(cfg, n->mac, 6);
	memcpy(cfg + 6, &status, 2);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

static void net_free(struct virtio_net *n)
{
	metrics_unregister(n->mg);
	if (n->tap >= 0)
		close(n->tap);
	free(n);
}

static void net_destroy(struct virtio_dev *d)
{
	net_free(d->priv);
}

const struct virtio_dev_ops virtio_net_ops = {
	.name = TAG,
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.queue_max = VIRTIO_NET_QUEUE_SIZE,
	.features = net_features,
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.activate = net_activate,
	.reset = net_reset,
	.destroy = net_destroy,
};

/* Attaches to (or creates) the tap. The fd, or -errno (logged). */
static int net_tap_open(const char *name, bool *offloads)
{
	struct ifreq ifr;
	int fd, ret, hdr_len = VIRTIO_NET_HDR_LEN;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err(TAG, "tap %s: /dev/net/tun", name);
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		log_err(TAG, "tap %s", name);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		ret = -errno;
		log_err(TAG, "tap %s: TUNSETVNETHDRSZ", name);
		goto fail;
	}
	/* Offloads are offered only if the tap takes them; off until DRIVER_OK. */
	*offloads = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0 &&
		    ioctl(fd, TUNSETOFFLOAD, 0) == 0;
	return fd;
fail:
	close(fd);
	return ret;
}

void *virtio_net_alloc(const struct vm_net_config *cfg, int tap, bool offloads)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	char group[VM_NET_IFACE_ID_MAX + 8];

	if (!n)
		return NULL;
	n->cfg = cfg;
	n->tap = tap;
	n->offloads = offloads;
	if (cfg->has_mac)
		memcpy(n->mac, cfg->mac, 6);
	else
		virtio_net_default_mac(cfg->tap, n->mac);
	snprintf(n->name, sizeof(n->name), "%s", virtio_net_iface_id(cfg));
	rate_limiter_init(&n->rx_rl, &cfg->rx_rate_limit);
	rate_limiter_init(&n->tx_rl, &cfg->tx_rate_limit);
	snprintf(group, sizeof(group), "net_%s", n->name);
	n->mg = metrics_register(group, net_metric_fields,
				 sizeof(net_metric_fields) / sizeof(net_metric_fields[0]), &n->m);
	if (!n->mg)
		log_warnx(TAG, "interface %s: no metrics group", n->name);
	return n;
}

const char *virtio_net_iface_id(const struct vm_net_config *cfg)
{
	return cfg->id ? cfg->id : cfg->tap;
}

const char *virtio_net_name(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;

	return n->name;
}

const struct virtio_net_metrics *virtio_net_get_metrics(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;

	return &n->m;
}

void virtio_net_update(struct virtio_dev *d, const struct rate_limiter_config *rx,
		       const struct rate_limiter_config *tx)
{
	struct virtio_net *n = d->priv;

	pthread_mutex_lock(&d->lock);
	if (rx)
		rate_limiter_reconfigure(&n->rx_rl, rx);
	if (tx)
		rate_limiter_reconfigure(&n->tx_rl, tx);
	if (rx || tx)
		virtio_dev_throttle_resume(d);
	metrics_inc(&n->m.update_count);
	pthread_mutex_unlock(&d->lock);
}

/* ---- snapshots ---- */

static int net_state_save(void *opaque, struct state_writer *w)
{
	struct virtio_dev *d = opaque;
	struct virtio_net *n = d->priv;
	size_t len;

	pthread_mutex_lock(&d->lock);
	/* A packet being filled in, or one the limiter has not let in yet. */
	len = n->rx.active ? n->rx.len : n->rx_held ? n->rx_held_len : 0;
	virtio_mmio_state_save(d, w);
	state_put_bytes(w, n->mac, sizeof(n->mac));
	rate_limiter_save(&n->rx_rl, w);
	rate_limiter_save(&n->tx_rl, w);
	state_put_bool(w, len != 0);
	state_put_u32(w, (uint32_t)len);
	state_put_bytes(w, n->rx_buf, len);
	state_put_u16(w, n->rx.active ? (uint16_t)n->rx.nused : 0);
	state_put_bool(w, n->tx_pending);
	pthread_mutex_unlock(&d->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int net_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct virtio_dev *d = opaque;
	struct virtio_net *n = d->priv;
	struct virtio_mmio_state st;
	struct rate_limiter rx_rl = n->rx_rl, tx_rl = n->tx_rl;
	struct virtio_net_hdr hdr;
	uint8_t mac[6];
	const uint8_t *pkt = NULL;
	uint32_t len;
	uint16_t rx_chains;
	bool packet, tx_pending;
	int ret;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_read(d, r, &st);
	state_get_bytes(r, mac, sizeof(mac));
	rate_limiter_load(&rx_rl, r, "virtio-net receive");
	rate_limiter_load(&tx_rl, r, "virtio-net transmit");
	packet = state_get_bool(r);
	len = state_get_u32_max(r, VIRTIO_NET_MAX_PACKET, "virtio-net packet length");
	if (!state_reader_error(r) && packet != (len != 0))
		state_fail(r, "virtio-net: packet flag and length %u disagree", len);
	if (!state_reader_error(r) && packet && len < VIRTIO_NET_HDR_LEN + VIRTIO_NET_MIN_FRAME)
		state_fail(r, "virtio-net: packet of %u bytes", len);
	pkt = state_get_span(r, len);
	rx_chains = state_get_u16(r);
	tx_pending = state_get_bool(r);
	if (!state_reader_error(r) && packet) {
		memcpy(&hdr, pkt, sizeof(hdr));
		if (!virtio_net_rx_hdr_fixup(&hdr, st.driver_features))
			state_fail(r, "virtio-net: held packet uses an offload not negotiated");
	}
	if (!state_reader_error(r) && rx_chains && !packet)
		state_fail(r, "virtio-net: %u receive chains held without a packet", rx_chains);
	virtio_mmio_state_check_held(r, &st, "virtio-net", NET_RXQ, rx_chains);
	virtio_mmio_state_check_held(r, &st, "virtio-net", NET_TXQ, tx_pending);
	ret = virtio_mmio_state_finish(r, "virtio-net state", err, errlen);
	if (!ret) {
		virtio_mmio_state_apply(d, &st);
		memcpy(n->mac, mac, sizeof(mac));
		n->rx_rl = rx_rl;
		n->tx_rl = tx_rl;
		/* The chains go back on their rings; the packet waits to be delivered. */
		virtio_net_rx_clear(&n->rx);
		virtq_unpop(&d->vqs[NET_RXQ], rx_chains);
		virtq_unpop(&d->vqs[NET_TXQ], tx_pending);
		n->tx_pending = n->tx_admitted = n->tx_blocked = false;
		n->rx_held = packet;
		n->rx_held_len = len;
		if (packet) {
			memcpy(n->rx_buf, pkt, len);
			memcpy(n->rx_buf, &hdr, sizeof(hdr));
		}
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void net_state_resumed(void *opaque)
{
	/* Activation watches the tap; the kicks deliver a held packet. */
	virtio_mmio_state_resumed(opaque);
}

const struct device_state_ops virtio_net_state_ops = {
	.version = VIRTIO_NET_STATE_VERSION,
	.save = net_state_save,
	.load = net_state_load,
	.resumed = net_state_resumed,
	.quiesce = virtio_mmio_state_quiesce,
};

static int virtio_net_create_one(const struct device_env *env, const struct vm_net_config *cfg,
				 struct virtio_dev **out)
{
	struct virtio_net *n;
	struct virtio_dev *d;
	bool offloads = false;
	int tap, ret;

	tap = net_tap_open(cfg->tap, &offloads);
	if (tap < 0)
		return tap;
	n = virtio_net_alloc(cfg, tap, offloads);
	if (!n) {
		close(tap);
		return -ENOMEM;
	}
	ret = virtio_mmio_create(env, &virtio_net_ops, n, &d);
	if (ret)
		return ret; /* n is freed */
	/* Not watched (events 0) until the driver is ready. */
	ret = virtio_dev_add_fd(d, n->tap, 0, net_on_tap, d);
	if (ret) {
		errno = -ret;
		log_err(TAG, "tap %s: cannot watch it", cfg->tap);
		return ret;
	}
	log_info(TAG, "tap %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, offloads %s", cfg->tap,
		 n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
		 n->offloads ? "on" : "off");
	*out = d;
	return 0;
}

static int virtio_net_create(const struct device_env *env)
{
	for (unsigned i = 0; i < env->cfg.nnets; i++) {
		struct virtio_dev *d;
		int ret = virtio_net_create_one(env, &env->cfg.nets[i], &d);

		if (!ret)
			ret = virtio_mmio_register_state_id(d, "virtio-net", virtio_net_name(d), i,
							    &virtio_net_state_ops);
		if (ret)
			return ret;
		if (env->set_net)
			env->set_net(env->machine, i, d);
	}
	return 0;
}

static const struct device_desc virtio_net_device = {
	.name = TAG,
	.create = virtio_net_create,
};
DEVICE_REGISTER(virtio_net_device);
