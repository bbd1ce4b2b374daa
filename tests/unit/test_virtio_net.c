// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/net: transmit chain checks, receive header fix-up, and receive
 * buffer filling (one chain, mergeable chains, a ring that runs dry, one
 * that is too small, malformed chains) over rings built in guest memory;
 * and the device over a socketpair standing in for the tap: receive and
 * transmit rate limits delay packets without dropping any.
 */
#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/util.h"
#include "virtio/net.h"
#include "virtio/queue.h"
#include "virtio_driver.h"
#include "vmm/config.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#define RAM MiB(4)
#define DESC 0x10000ULL
#define AVAIL 0x20000ULL
#define USED 0x30000ULL
#define BUF 0x100000ULL

#define F(bit) (1ULL << (bit))

struct fx {
	struct guest_mem mem;
	struct virtq q;
	struct virtq_elem e;
	struct virtio_net_rx rx;
	uint16_t size;
	uint16_t avail_idx;
	uint8_t pkt[VIRTIO_NET_MAX_PACKET];
};

#include "virtq_fixture.h"

/* One single-descriptor writable chain of len bytes at BUF + i * 64 KiB. */
static void offer_rx(struct fx *f, uint16_t i, uint32_t len)
{
	desc(f, i, BUF + 0x10000ULL * i, len, VIRTQ_DESC_F_WRITE, 0);
	offer(f, i);
}

/* A packet as the tap gives it: a zero header, then len - 12 bytes i * 7. */
static size_t make_pkt(struct fx *f, size_t len)
{
	memset(f->pkt, 0, VIRTIO_NET_HDR_LEN);
	for (size_t i = VIRTIO_NET_HDR_LEN; i < len; i++)
		f->pkt[i] = (uint8_t)(i * 7);
	return len;
}

static uint16_t used_idx(struct fx *f)
{
	return r16(f, USED + 2);
}

static void assert_used(struct fx *f, unsigned i, uint16_t head, uint32_t len)
{
	assert_int_equal(r32(f, USED + 4 + 8 * (uint64_t)i), head);
	assert_int_equal(r32(f, USED + 8 + 8 * (uint64_t)i), len);
}

/* ---- transmit ---- */

static void set_hdr(uint8_t *b, uint8_t flags, uint8_t gso)
{
	memset(b, 0, VIRTIO_NET_HDR_LEN);
	b[0] = flags;
	b[1] = gso;
	b[10] = 0x55; /* num_buffers: garbage on transmit */
}

static void tx_elem(struct virtq_elem *e, uint8_t *buf, const size_t *lens, unsigned n)
{
	e->head = 0;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	for (unsigned i = 0; i < n; i++) {
		e->out[i].iov_base = buf;
		e->out[i].iov_len = lens[i];
		e->out_len += lens[i];
		buf += lens[i];
	}
	e->nout = n;
}

static void test_tx_header_split_across_segments(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[2048];
	struct iovec iov[VIRTIO_NET_TX_IOV_MAX];
	struct virtio_net_hdr hdr;
	const size_t lens[] = { 5, 10, 100 }; /* header: 5 + 7 bytes */
	unsigned niov = 0;
	size_t frame = 0;

	set_hdr(buf, VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID, 0);
	tx_elem(&f->e, buf, lens, 3);
	assert_int_equal(virtio_net_tx_prepare(&f->e, F(VIRTIO_NET_F_CSUM), &hdr, iov, &niov,
					       &frame),
			 0);
	assert_int_equal(frame, 103);
	assert_int_equal(niov, 3);
	assert_ptr_equal(iov[0].iov_base, &hdr);
	assert_int_equal(iov[0].iov_len, 12);
	assert_ptr_equal(iov[1].iov_base, buf + 12);
	assert_int_equal(iov[1].iov_len, 3);
	assert_ptr_equal(iov[2].iov_base, buf + 15);
	assert_int_equal(iov[2].iov_len, 100);
	/* DATA_VALID is receive-only; num_buffers is zeroed. */
	assert_int_equal(hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(hdr.num_buffers, 0);

	/* The header alone in the first segment: that segment is skipped. */
	const size_t lens2[] = { 12, 50, 50 };

	tx_elem(&f->e, buf, lens2, 3);
	set_hdr(buf, 0, 0);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), 0);
	assert_int_equal(niov, 3);
	assert_int_equal(frame, 100);
	assert_ptr_equal(iov[1].iov_base, buf + 12);
	assert_int_equal(iov[1].iov_len, 50);
}

static void test_tx_malformed_and_sizes(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[VIRTIO_NET_MAX_PACKET + 16];
	struct iovec iov[VIRTIO_NET_TX_IOV_MAX];
	struct virtio_net_hdr hdr;
	unsigned niov;
	size_t frame, len;

	set_hdr(buf, 0, 0);
	/* Shorter than a header: malformed. */
	len = 11;
	tx_elem(&f->e, buf, &len, 1);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), -EINVAL);
	/* No segments at all. */
	tx_elem(&f->e, buf, &len, 0);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), -EINVAL);
	/* A device-writable part: malformed. */
	len = 100;
	tx_elem(&f->e, buf, &len, 1);
	f->e.in[0].iov_base = buf + 200;
	f->e.in[0].iov_len = 10;
	f->e.nin = 1;
	f->e.in_len = 10;
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), -EINVAL);
	/* Runt frames and oversize frames are dropped. */
	len = VIRTIO_NET_HDR_LEN + 13;
	tx_elem(&f->e, buf, &len, 1);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), -EMSGSIZE);
	len = VIRTIO_NET_HDR_LEN + 14;
	tx_elem(&f->e, buf, &len, 1);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), 0);
	len = VIRTIO_NET_MAX_PACKET;
	tx_elem(&f->e, buf, &len, 1);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), 0);
	assert_int_equal(frame, 65550);
	len = VIRTIO_NET_MAX_PACKET + 1;
	tx_elem(&f->e, buf, &len, 1);
	assert_int_equal(virtio_net_tx_prepare(&f->e, 0, &hdr, iov, &niov, &frame), -EMSGSIZE);
}

static void test_tx_offloads_as_negotiated(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[256];
	struct iovec iov[VIRTIO_NET_TX_IOV_MAX];
	struct virtio_net_hdr hdr;
	const size_t len = 200;
	unsigned niov;
	size_t frame;
	const uint64_t all = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
			     F(VIRTIO_NET_F_HOST_TSO6);
	const struct {
		uint8_t flags, gso;
		uint64_t features;
		int want;
	} cases[] = {
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, -EPROTO },
		{ VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, F(VIRTIO_NET_F_CSUM), 0 },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV4, F(VIRTIO_NET_F_CSUM), -EPROTO },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV4, all, 0 },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV6, F(VIRTIO_NET_F_HOST_TSO4) | 1, -EPROTO },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV6, all, 0 },
		{ 1, VIRTIO_NET_HDR_GSO_UDP, all, -EPROTO },
		{ 1, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, all, -EPROTO },
		{ 1, 5, all, -EPROTO },
		{ 1, 0xff, all, -EPROTO },
		{ VIRTIO_NET_HDR_F_DATA_VALID, 0, 0, 0 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_hdr(buf, cases[i].flags, cases[i].gso);
		tx_elem(&f->e, buf, &len, 1);
		assert_int_equal(virtio_net_tx_prepare(&f->e, cases[i].features, &hdr, iov, &niov,
						       &frame),
				 cases[i].want);
	}
}

/* ---- receive header ---- */

static void test_rx_hdr_fixup(void **state)
{
	struct virtio_net_hdr h;
	const uint64_t csum = F(VIRTIO_NET_F_GUEST_CSUM);

	(void)state;
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	h.num_buffers = 9;
	assert_true(virtio_net_rx_hdr_fixup(&h, 0));
	assert_int_equal(h.flags, 0); /* no flags without GUEST_CSUM */
	assert_int_equal(h.num_buffers, 0);

	h.flags = VIRTIO_NET_HDR_F_DATA_VALID | 4;
	assert_true(virtio_net_rx_hdr_fixup(&h, csum));
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);

	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	assert_false(virtio_net_rx_hdr_fixup(&h, 0));
	assert_true(virtio_net_rx_hdr_fixup(&h, csum));

	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_false(virtio_net_rx_hdr_fixup(&h, csum));
	assert_true(virtio_net_rx_hdr_fixup(&h, csum | F(VIRTIO_NET_F_GUEST_TSO4)));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_false(virtio_net_rx_hdr_fixup(&h, csum | F(VIRTIO_NET_F_GUEST_TSO4)));
	assert_true(virtio_net_rx_hdr_fixup(&h, csum | F(VIRTIO_NET_F_GUEST_TSO6)));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_false(virtio_net_rx_hdr_fixup(&h, csum | F(VIRTIO_NET_F_GUEST_TSO4)));
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_false(virtio_net_rx_hdr_fixup(&h, csum | F(VIRTIO_NET_F_GUEST_TSO4)));
}

static void test_tap_offloads(void **state)
{
	(void)state;
	assert_int_equal(virtio_net_tap_offloads(0), 0);
	/* TSO without GUEST_CSUM is not valid: nothing. */
	assert_int_equal(virtio_net_tap_offloads(F(VIRTIO_NET_F_GUEST_TSO4)), 0);
	assert_int_equal(virtio_net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(virtio_net_tap_offloads(F(VIRTIO_NET_F_GUEST_CSUM) |
						 F(VIRTIO_NET_F_GUEST_TSO4) |
						 F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_CSUM) |
						 F(VIRTIO_NET_F_HOST_TSO4)),
			 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
}

static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], c[6];

	(void)state;
	virtio_net_default_mac("tap0", a);
	virtio_net_default_mac("tap0", b);
	virtio_net_default_mac("tap1", c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_int_equal(a[0], 0x02); /* locally administered unicast */
	assert_int_equal(c[0], 0x02);
}

/* ---- receive buffers ---- */

static void test_rx_single_chain(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, 1514 + 12);

	qinit(f, 16, false, false);
	offer_rx(f, 3, 2048);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, false), 1);
	assert_int_equal(f->rx.nused, 1);
	assert_int_equal(used_idx(f), 0); /* nothing visible before publishing */
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_int_equal(used_idx(f), 1);
	assert_used(f, 0, 3, (uint32_t)len);
	assert_false(f->rx.active);
	/* num_buffers is 1 without MRG_RXBUF; the frame follows the header. */
	assert_int_equal(r16(f, BUF + 0x30000 + 10), 1);
	assert_memory_equal(gp(f, BUF + 0x30000 + 12, len - 12), f->pkt + 12, len - 12);
}

static void test_rx_single_chain_too_small(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, 1514 + 12);

	qinit(f, 16, false, false);
	offer_rx(f, 0, 1000);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, false), -EMSGSIZE);
	/* The chain goes back to the ring for the next packet. */
	assert_int_equal(f->q.last_avail, 0);
	assert_true(virtq_has_work(&f->q));
	virtio_net_rx_start(&f->rx, f->pkt, make_pkt(f, 600));
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, false), 1);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_used(f, 0, 0, 600);
}

static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, 2512);

	qinit(f, 16, false, false);
	for (uint16_t i = 0; i < 4; i++)
		offer_rx(f, i, 1000);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 1);
	assert_int_equal(f->rx.nused, 3);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_int_equal(used_idx(f), 3);
	assert_used(f, 0, 0, 1000);
	assert_used(f, 1, 1, 1000);
	assert_used(f, 2, 2, 512);
	assert_int_equal(r16(f, BUF + 10), 3);
	assert_memory_equal(gp(f, BUF + 12, 988), f->pkt + 12, 988);
	assert_memory_equal(gp(f, BUF + 0x10000, 1000), f->pkt + 1000, 1000);
	assert_memory_equal(gp(f, BUF + 0x20000, 512), f->pkt + 2000, 512);
	/* The fourth buffer is still available. */
	assert_int_equal(f->q.last_avail, 3);
	assert_true(virtq_has_work(&f->q));
}

static void test_rx_mergeable_header_split(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, 100);

	/* First chain: 4 + 4 + 200 bytes, so num_buffers lands in the second part. */
	qinit(f, 16, false, false);
	desc(f, 0, BUF, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF + 0x100, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, BUF + 0x200, 200, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 1);
	assert_int_equal(f->rx.hdr_niov, 3);
	assert_int_equal(r16(f, BUF + 0x200 + 2), 1); /* header bytes 10..11 */
	assert_memory_equal(gp(f, BUF + 0x200 + 4, 88), f->pkt + 12, 88);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_used(f, 0, 0, 100);
}

static void test_rx_mergeable_ring_runs_dry(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, 2500);

	qinit(f, 16, false, false);
	offer_rx(f, 0, 1000);
	offer_rx(f, 1, 1000);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 0);
	assert_int_equal(f->rx.nused, 2);
	assert_int_equal(f->rx.off, 2000);
	assert_int_equal(used_idx(f), 0);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 0);
	offer_rx(f, 5, 4096);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 1);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_int_equal(used_idx(f), 3);
	assert_used(f, 2, 5, 500);
	assert_int_equal(r16(f, BUF + 10), 3);
	assert_memory_equal(gp(f, BUF + 0x50000, 500), f->pkt + 2000, 500);
}

static void test_rx_mergeable_ring_too_small(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, VIRTIO_NET_MAX_PACKET);

	/* Four 100-byte buffers fill the ring and cannot hold 64 KiB. */
	qinit(f, 4, false, false);
	for (uint16_t i = 0; i < 4; i++)
		offer_rx(f, i, 100);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), -EMSGSIZE);
	assert_int_equal(f->q.last_avail, 0);
	assert_int_equal(used_idx(f), 0);
	/* A small packet still goes through afterwards. */
	virtio_net_rx_start(&f->rx, f->pkt, make_pkt(f, 150));
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 1);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_int_equal(used_idx(f), 2);
	assert_int_equal(r16(f, BUF + 10), 2);
}

static void test_rx_largest_packet(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, VIRTIO_NET_MAX_PACKET);

	/* 64 KiB over 4 KiB buffers: 17 of them. */
	qinit(f, 256, false, false);
	for (uint16_t i = 0; i < 32; i++)
		offer_rx(f, i, 4096);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 1);
	assert_int_equal(f->rx.nused, 17);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_int_equal(used_idx(f), 17);
	assert_used(f, 16, 16, VIRTIO_NET_MAX_PACKET - 16 * 4096);
	assert_int_equal(r16(f, BUF + 10), 17);
	for (unsigned i = 1; i < 17; i++)
		assert_memory_equal(gp(f, BUF + 0x10000ULL * i, 64), f->pkt + 4096 * i, 64);
}

static void test_rx_malformed(void **state)
{
	struct fx *f = *state;
	size_t len = make_pkt(f, 200);

	/* A device-readable descriptor in a receive chain. */
	qinit(f, 16, false, false);
	desc(f, 0, BUF, 100, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF + 0x100, 1000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), -EIO);

	/* Less room than a header, with or without MRG_RXBUF. */
	qinit(f, 16, false, false);
	offer_rx(f, 0, 11);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), -EIO);
	qinit(f, 16, false, false);
	offer_rx(f, 0, 11);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, false), -EIO);

	/* A broken ring. */
	qinit(f, 16, false, false);
	w16(f, AVAIL + 2, 100);
	virtio_net_rx_start(&f->rx, f->pkt, len);
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), -EIO);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), -EIO);
}

static void test_rx_publish_wraps(void **state)
{
	struct fx *f = *state;

	/* Used index 0xfffe: entries land in slots 2, 3, 0 of a 4-entry ring. */
	qinit(f, 4, false, false);
	f->q.last_avail = f->q.used_idx = 0xfffe;
	f->avail_idx = 0xfffe;
	for (uint16_t i = 0; i < 3; i++)
		offer_rx(f, i, 100);
	virtio_net_rx_start(&f->rx, f->pkt, make_pkt(f, 250));
	assert_int_equal(virtio_net_rx_fill(&f->rx, &f->q, &f->e, true), 1);
	assert_int_equal(virtio_net_rx_publish(&f->rx, &f->q), 0);
	assert_int_equal(used_idx(f), 1);
	assert_used(f, 2, 0, 100);
	assert_used(f, 3, 1, 100);
	assert_used(f, 0, 2, 50);
}

/* ---- the device over a socketpair, with rate limits ---- */

#define NQ_RX 0
#define NQ_TX 1
#define DEV_RAM MiB(1)
#define DEV_BUF 0x40000ULL
#define FRAME 500

struct netdev {
	struct vm_net_config cfg;
	int host;   /* the other end of the "tap" */
	int dev_fd; /* the device's end (peeked at, never read) */
	struct vdrv *v;
};

static void netdev_start(struct netdev *nd, const struct rate_limiter_config *rx,
			 const struct rate_limiter_config *tx)
{
	int sv[2];
	void *n;

	memset(nd, 0, sizeof(*nd));
	nd->cfg.tap = "tap-test";
	if (rx)
		nd->cfg.rx_rate_limit = *rx;
	if (tx)
		nd->cfg.tx_rate_limit = *tx;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	n = virtio_net_alloc(&nd->cfg, sv[0], false);
	assert_non_null(n);
	nd->host = sv[1];
	nd->dev_fd = sv[0];
	nd->v = vd_new(&virtio_net_ops, n, DEV_RAM);
	assert_non_null(nd->v);
	assert_true(vd_setup(nd->v, 0, 2, true) & VIRTIO_STATUS_DRIVER_OK);
}

static void netdev_stop(struct netdev *nd)
{
	vd_free(nd->v); /* closes the device's end */
	close(nd->host);
}

/* A packet: 12-byte header (zero), then FRAME bytes of (seq + i). */
static void fill_pkt(uint8_t *p, uint8_t seq)
{
	memset(p, 0, VIRTIO_NET_HDR_LEN);
	for (unsigned i = 0; i < FRAME; i++)
		p[VIRTIO_NET_HDR_LEN + i] = (uint8_t)(seq + i);
}

static void test_dev_tx_limit(void **state)
{
	struct rate_limiter_config tx = { .ops = { .size = 1, .refill_time_ms = 30 } };
	const struct virtio_net_metrics *m;
	struct netdev nd;
	uint8_t buf[2048];
	unsigned got = 0;
	uint64_t t0;

	(void)state;
	netdev_start(&nd, NULL, &tx);
	m = virtio_net_get_metrics(&nd.v->d);
	for (unsigned i = 0; i < 4; i++) {
		gpa_t g = DEV_BUF + 0x1000ULL * i;

		fill_pkt(vd_ptr(nd.v, g, VIRTIO_NET_HDR_LEN + FRAME), (uint8_t)i);
		vd_add1(nd.v, NQ_TX, g, VIRTIO_NET_HDR_LEN + FRAME, false);
	}
	t0 = vd_now_ms();
	vd_kick(nd.v, NQ_TX);
	assert_true(virtio_dev_throttled(&nd.v->d, NQ_TX));
	for (;;) {
		ssize_t n;

		while ((n = recv(nd.host, buf, sizeof(buf), 0)) > 0) {
			assert_int_equal(n, VIRTIO_NET_HDR_LEN + FRAME);
			/* in order, none lost */
			assert_int_equal(buf[VIRTIO_NET_HDR_LEN], (uint8_t)got);
			got++;
		}
		if (got == 4)
			break;
		assert_true(vd_wait_throttle(nd.v, 1000));
	}
	assert_true(vd_now_ms() - t0 >= 3 * 30 - 5);
	for (unsigned i = 0; i < 4; i++)
		assert_true(vd_used(nd.v, NQ_TX, NULL) >= 0);
	assert_int_equal(m->tx_packets, 4);
	assert_int_equal(m->tx_bytes, 4 * FRAME);
	assert_int_equal(m->tx_dropped, 0);
	assert_int_equal(m->tx_rate_limiter_throttled, 3);
	netdev_stop(&nd);
}

/* 1000 frame bytes per 50 ms: six 500-byte frames take >= 100 ms, all arrive. */
static void test_dev_rx_limit(void **state)
{
	struct rate_limiter_config rx = { .bandwidth = { .size = 1000, .refill_time_ms = 50 } };
	const struct virtio_net_metrics *m;
	struct netdev nd;
	uint8_t pkt[VIRTIO_NET_HDR_LEN + FRAME], peek;
	unsigned got = 0;
	uint64_t t0, dt;

	(void)state;
	netdev_start(&nd, &rx, NULL);
	m = virtio_net_get_metrics(&nd.v->d);
	for (unsigned i = 0; i < 6; i++) {
		fill_pkt(pkt, (uint8_t)(10 + i));
		assert_int_equal(send(nd.host, pkt, sizeof(pkt), 0), sizeof(pkt));
		vd_add1(nd.v, NQ_RX, DEV_BUF + 0x1000ULL * i, 2048, true);
	}
	t0 = vd_now_ms();
	vd_kick(nd.v, NQ_RX); /* new buffers: the device reads the tap */
	assert_true(virtio_dev_throttled(&nd.v->d, NQ_RX));
	assert_int_equal(m->rx_packets, 2);
	assert_int_equal(m->rx_rate_limiter_throttled, 1);
	/* two delivered, one waits in the device, the rest are still in the tap */
	assert_int_equal(recv(nd.dev_fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT), 1);
	for (;;) {
		int head;
		uint32_t len;

		while ((head = vd_used(nd.v, NQ_RX, &len)) >= 0) {
			uint8_t *b = vd_ptr(nd.v, DEV_BUF + 0x1000ULL * (unsigned)head, len);

			assert_int_equal(len, VIRTIO_NET_HDR_LEN + FRAME);
			assert_int_equal(b[VIRTIO_NET_HDR_LEN], (uint8_t)(10 + got));
			assert_int_equal(b[VIRTIO_NET_HDR_LEN + FRAME - 1],
					 (uint8_t)(10 + got + FRAME - 1));
			got++;
		}
		if (got == 6)
			break;
		assert_true(vd_wait_throttle(nd.v, 1000));
	}
	dt = vd_now_ms() - t0;
	assert_true(dt >= 100 - 5);
	assert_int_equal(m->rx_packets, 6);
	assert_int_equal(m->rx_bytes, 6 * FRAME);
	assert_int_equal(m->rx_dropped, 0);
	netdev_stop(&nd);
}

/* While the receive limiter waits, the tap is not read; lifting the limit resumes. */
static void test_dev_rx_limit_stops_tap(void **state)
{
	struct rate_limiter_config rx = { .ops = { .size = 1, .refill_time_ms = 10000 } };
	struct rate_limiter_config none;
	struct netdev nd;
	uint8_t pkt[VIRTIO_NET_HDR_LEN + FRAME];

	(void)state;
	memset(&none, 0, sizeof(none));
	netdev_start(&nd, &rx, NULL);
	for (unsigned i = 0; i < 3; i++) {
		fill_pkt(pkt, (uint8_t)i);
		assert_int_equal(send(nd.host, pkt, sizeof(pkt), 0), sizeof(pkt));
		vd_add1(nd.v, NQ_RX, DEV_BUF + 0x1000ULL * i, 2048, true);
	}
	vd_kick(nd.v, NQ_RX);
	assert_true(vd_used(nd.v, NQ_RX, NULL) >= 0);
	assert_true(vd_used(nd.v, NQ_RX, NULL) < 0);
	assert_true(virtio_dev_throttled(&nd.v->d, NQ_RX));
	/* a readable tap changes nothing while the queue waits */
	virtio_net_tap_event(&nd.v->d, EPOLLIN);
	assert_true(vd_used(nd.v, NQ_RX, NULL) < 0);
	/* one packet held by the device, one still in the tap */
	assert_int_equal(recv(nd.dev_fd, pkt, 1, MSG_PEEK | MSG_DONTWAIT), 1);
	/* lifting the limit (vm_update_net) delivers the rest */
	virtio_net_update(&nd.v->d, &none, NULL);
	assert_true(vd_wait_throttle(nd.v, 1000));
	assert_true(vd_used(nd.v, NQ_RX, NULL) >= 0);
	assert_true(vd_used(nd.v, NQ_RX, NULL) >= 0);
	assert_int_equal(virtio_net_get_metrics(&nd.v->d)->rx_packets, 3);
	assert_int_equal(virtio_net_get_metrics(&nd.v->d)->update_count, 1);
	netdev_stop(&nd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tx_header_split_across_segments),
		T(test_tx_malformed_and_sizes),
		T(test_tx_offloads_as_negotiated),
		cmocka_unit_test(test_rx_hdr_fixup),
		cmocka_unit_test(test_tap_offloads),
		cmocka_unit_test(test_default_mac),
		T(test_rx_single_chain),
		T(test_rx_single_chain_too_small),
		T(test_rx_mergeable),
		T(test_rx_mergeable_header_split),
		T(test_rx_mergeable_ring_runs_dry),
		T(test_rx_mergeable_ring_too_small),
		T(test_rx_largest_packet),
		T(test_rx_malformed),
		T(test_rx_publish_wraps),
		cmocka_unit_test(test_dev_tx_limit),
		cmocka_unit_test(test_dev_rx_limit),
		cmocka_unit_test(test_dev_rx_limit_stops_tap),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
