// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-net transmit and receive chain handling against a guest that
 * controls every ring byte. The input is a 14-byte header and a guest
 * memory image:
 *   0      queue size = 1 << (b % 9)  (1..256, as the device offers)
 *   1      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 MRG_RXBUF,
 *          bit 3 checksum/TSO features (both directions)
 *   2..3   le16 starting index (last_avail = used_idx)
 *   4..5   le16 descriptor table address / 16
 *   6..7   le16 available ring address / 2
 *   8..9   le16 used ring address / 4
 *   10..11 le16 receive packet length seed
 *   12     number of receive packets (b % 16)
 *   13     receive header flags / gso_type seed
 *   14..   copied to guest address 0 of a RAM_SIZE guest
 * The same ring is first drained as a transmit queue (every chain is
 * checked with virtio_net_tx_prepare() and its iovec flattened as writev
 * would), then, from the same image, filled as a receive queue.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "virtio/net.h"
#include "virtio/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (256 * 1024)
#define HDR 14

static struct guest_mem mem;
static struct virtq_elem elem;
static struct virtio_net_rx rx;
static struct iovec iov[VIRTIO_NET_TX_IOV_MAX];
static uint8_t flat[VIRTIO_NET_MAX_PACKET];
static uint8_t pkt[VIRTIO_NET_MAX_PACKET];

static int qinit(struct virtq *q, const uint8_t *data)
{
	return fuzz_ring_init(q, &mem, (uint16_t)(1u << (data[0] % 9)), data);
}

static void fuzz_tx(const uint8_t *data, uint64_t features)
{
	struct virtio_net_hdr hdr;
	struct virtq q;
	unsigned niov;
	size_t frame;

	if (qinit(&q, data))
		return;
	for (unsigned iter = 0; iter < 2u * q.size + 8; iter++) {
		int ret = virtq_pop(&q, &elem);

		if (ret <= 0)
			break;
		ret = virtio_net_tx_prepare(&elem, features, &hdr, iov, &niov, &frame);
		if (ret == 0) {
			uint64_t n;

			if (niov < 1 || niov > VIRTIO_NET_TX_IOV_MAX || iov[0].iov_base != &hdr ||
			    frame < VIRTIO_NET_MIN_FRAME || frame > VIRTIO_NET_MAX_FRAME ||
			    (hdr.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) || hdr.num_buffers)
				abort();
			if ((hdr.flags || hdr.gso_type) && !(data[1] & 8))
				abort();
			n = iov_to_buf(iov, niov, 0, flat, sizeof(flat));
			if (n != VIRTIO_NET_HDR_LEN + frame)
				abort();
		} else if (ret == -EINVAL) {
			if (!elem.nin && elem.out_len >= VIRTIO_NET_HDR_LEN)
				abort();
		} else if (ret != -EMSGSIZE && ret != -EPROTO) {
			abort();
		}
		if (virtq_push(&q, elem.head, 0))
			abort();
	}
}

static void fuzz_rx(const uint8_t *data, uint64_t features)
{
	bool mergeable = data[1] & 4;
	unsigned npkts = data[12] % 16;
	struct virtq q;

	if (qinit(&q, data))
		return;
	for (unsigned i = 0; i < VIRTIO_NET_MAX_PACKET; i++)
		pkt[i] = (uint8_t)i;
	for (unsigned p = 0; p < npkts; p++) {
		size_t len = VIRTIO_NET_HDR_LEN + VIRTIO_NET_MIN_FRAME +
			     ((size_t)rd16(data + 10) * (p + 1)) %
				     (VIRTIO_NET_MAX_FRAME - VIRTIO_NET_MIN_FRAME + 1);
		struct virtio_net_hdr *h = (struct virtio_net_hdr *)pkt;
		uint16_t before = q.last_avail, nbufs;
		uint64_t sum = 0;
		int ret;

		memset(pkt, 0, VIRTIO_NET_HDR_LEN);
		h->flags = data[13] & 3;
		h->gso_type = (uint8_t)(data[13] >> 2);
		if (!virtio_net_rx_hdr_fixup(h, features))
			continue;
		virtio_net_rx_start(&rx, pkt, len);
		ret = virtio_net_rx_fill(&rx, &q, &elem, mergeable);
		if (ret == -EMSGSIZE) {
			if (q.last_avail != before)
				abort();
			continue;
		}
		if (ret <= 0)
			break; /* dry (kept for later) or malformed */
		if (rx.nused < 1 || rx.nused > q.size || (!mergeable && rx.nused != 1))
			abort();
		for (unsigned i = 0; i < rx.nused; i++)
			sum += rx.used[i].len;
		if (sum != len)
			abort();
		nbufs = 0;
		if (iov_to_buf(rx.hdr_iov, rx.hdr_niov, VIRTIO_NET_NUM_BUFFERS_OFF, &nbufs, 2) != 2)
			abort();
		/* Overlapping header segments may alias; a single one may not. */
		if (rx.hdr_niov == 1 && nbufs != rx.nused)
			abort();
		if (virtio_net_rx_publish(&rx, &q) != 0)
			abort();
		virtq_needs_interrupt(&q);
	}
	virtio_net_rx_clear(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t features = 0;

	if (size < HDR)
		return 0;
	if (!mem.mapping && guest_mem_init(&mem, RAM_SIZE))
		abort();
	if (data[1] & 4)
		features |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (data[1] & 8)
		features |= (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
			    (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
			    (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6);

	fuzz_guest_image(&mem, data, size, HDR);
	fuzz_tx(data, features);

	fuzz_guest_image(&mem, data, size, HDR);
	fuzz_rx(data, features);
	return 0;
}
