/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.x, section 5.1) over a host tap device.
 *
 * The packet handling is separate from the tap so it can be unit tested
 * and fuzzed over hand-built rings:
 *
 * - virtio_net_tx_prepare() checks one transmit chain (device-readable
 *   only, a 12-byte header first, at most VIRTIO_NET_MAX_FRAME bytes of
 *   frame, offloads only as negotiated) and builds the iovec for writev()
 *   to the tap, with the header copied out of guest memory first so the
 *   guest cannot change it after the check.
 * - virtio_net_rx_hdr_fixup() makes a header read from the tap fit what
 *   the driver negotiated.
 * - virtio_net_rx_fill() copies one received packet into receive chains:
 *   one chain, or with VIRTIO_NET_F_MRG_RXBUF as many as it needs, and
 *   writes num_buffers. When the ring runs dry in the middle of a packet
 *   the chains taken so far are kept and filling continues on the next
 *   call. virtio_net_rx_publish() then hands all of a packet's chains to
 *   the driver with one used-index update, so the driver never sees the
 *   first buffer of a packet without the rest.
 */
#ifndef OSPREY_VIRTIO_NET_H
#define OSPREY_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/queue.h"

#define VIRTIO_ID_NET 1

/* Feature bits (virtio 1.2, 5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/*
 * The virtio 1.x header (struct virtio_net_hdr_v1, little-endian), which
 * is also the tap's vnet header once TUNSETVNETHDRSZ says 12.
 */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_NUM_BUFFERS_OFF 10
/* Largest frame either way: 64 KiB of IP plus Ethernet and VLAN headers. */
#define VIRTIO_NET_MAX_FRAME 65550
#define VIRTIO_NET_MAX_PACKET (VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME)
#define VIRTIO_NET_MIN_FRAME 14 /* an Ethernet header */

/* Most receive chains one packet may take (the queue size osprey offers). */
#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RX_MAX_BUFS VIRTIO_NET_QUEUE_SIZE

/* The iovec virtio_net_tx_prepare() builds: the header copy, then the frame. */
#define VIRTIO_NET_TX_IOV_MAX (VIRTQ_MAX_SEGS + 1)

/*
 * Checks a transmit chain. On 0, *hdr holds the sanitized header, iov[0]
 * points at it and iov[1..*niov) at the frame in guest memory; *frame_len
 * is the frame's length. Errors:
 *   -EINVAL    malformed chain (device-writable part, or shorter than the
 *              header): the device needs a reset
 *   -EMSGSIZE  frame shorter than an Ethernet header or longer than
 *              VIRTIO_NET_MAX_FRAME: drop it
 *   -EPROTO    the header asks for an offload that was not negotiated:
 *              drop it
 */
int virtio_net_tx_prepare(const struct virtq_elem *e, uint64_t features,
			  struct virtio_net_hdr *hdr, struct iovec *iov, unsigned *niov,
			  size_t *frame_len);

/*
 * Adjusts a header read from the tap to the negotiated features: flags
 * only with GUEST_CSUM, num_buffers zeroed. false: the packet uses an
 * offload the driver cannot take (drop it).
 */
bool virtio_net_rx_hdr_fixup(struct virtio_net_hdr *hdr, uint64_t features);

struct virtio_net_used {
	uint16_t head;
	uint32_t len;
};

/* One received packet on its way into receive chains. */
struct virtio_net_rx {
	const uint8_t *pkt; /* header + frame */
	size_t len;
	size_t off; /* bytes already copied */
	bool active;
	struct virtio_net_used used[VIRTIO_NET_RX_MAX_BUFS];
	unsigned nused;
	/* Where the first chain's header lies (for num_buffers). */
	struct iovec hdr_iov[VIRTIO_NET_HDR_LEN];
	unsigned hdr_niov;
};

/* Starts a packet: pkt (len bytes, header first) must stay valid until done. */
void virtio_net_rx_start(struct virtio_net_rx *rx, const uint8_t *pkt, size_t len);
void virtio_net_rx_clear(struct virtio_net_rx *rx);

/*
 * Copies the packet into chains popped from q (elem is scratch space).
 * Returns
 *   1          done: num_buffers written; publish with virtio_net_rx_publish()
 *   0          the ring ran dry: call again when the driver adds buffers
 *   -EMSGSIZE  the packet cannot fit (a single chain too small without
 *              MRG_RXBUF, or the whole ring too small): drop it; the chains
 *              it took are given back to the ring unused
 *   -EIO       malformed ring or chain (a device-readable part, or less
 *              room than a header): the device needs a reset
 */
int virtio_net_rx_fill(struct virtio_net_rx *rx, struct virtq *q, struct virtq_elem *elem,
		       bool mergeable);

/* Returns the packet's chains to the driver in one step. 0 or -EIO. */
int virtio_net_rx_publish(struct virtio_net_rx *rx, struct virtq *q);

/* TUN_F_* offloads for the tap: what the driver can receive. */
unsigned virtio_net_tap_offloads(uint64_t features);

/* A locally administered unicast MAC derived from the tap name. */
void virtio_net_default_mac(const char *tap, uint8_t mac[6]);

/* ---- the device ---- */

struct virtio_dev;
struct vm_net_config;
struct rate_limiter_config;

/* The "net_<id>" metrics group. */
struct virtio_net_metrics {
	/*
	 * *_dropped: packets not delivered (too big or small, an offload not
	 * negotiated, a tap write error); *_errors: what the guest or the tap
	 * did wrong (malformed chains and headers, oversize frames, tap
	 * read/write errors). Bytes count frames, without the virtio header.
	 */
	uint64_t rx_bytes, rx_packets, rx_dropped, rx_errors;
	uint64_t tx_bytes, tx_packets, tx_dropped, tx_errors;
	uint64_t rx_rate_limiter_throttled, tx_rate_limiter_throttled;
	uint64_t update_count; /* vm_update_net */
};

/* An interface's id: cfg->id, or the tap name. */
const char *virtio_net_iface_id(const struct vm_net_config *cfg);

/*
 * The device model without KVM or threads (unit tests use it over a
 * socketpair instead of a tap; the device file uses it too): the ops
 * table, a state on an open tap fd (owned from then on; NULL on ENOMEM,
 * the fd is then the caller's), and the tap readiness callback (takes
 * d->lock).
 */
extern const struct virtio_dev_ops virtio_net_ops;
void *virtio_net_alloc(const struct vm_net_config *cfg, int tap, bool offloads);
void virtio_net_tap_event(struct virtio_dev *d, uint32_t events);
const char *virtio_net_name(struct virtio_dev *d);
const struct virtio_net_metrics *virtio_net_get_metrics(struct virtio_dev *d);

/*
 * vm_update_net() for one device, from any thread (takes d->lock): new
 * receive and/or transmit limits (NULL: keep); waiting queues resume.
 */
void virtio_net_update(struct virtio_dev *d, const struct rate_limiter_config *rx,
		       const struct rate_limiter_config *tx);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct virtio_dev),
 * section "virtio-net.<iface id>" (or "virtio-net.#<index>", as for
 * disks), version VIRTIO_NET_STATE_VERSION: the transport (virtio/mmio.h),
 * mac[6], the receive and transmit rate limiters, then what is in flight:
 * bool packet, u32 len, len bytes (a received packet, header first, not
 * yet published to the guest), u16 rx_chains (the receive chains that
 * packet has taken so far), bool tx_pending (a transmit chain taken but
 * not yet written to the tap). Load gives those chains back to their
 * rings (virtq_unpop) and keeps the packet waiting, so after resume it is
 * delivered and the chain transmitted as if nothing had happened; the
 * restored device's tap is its own.
 */
#define VIRTIO_NET_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops virtio_net_state_ops;

#endif
