/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock (virtio 1.x, section 5.10): the packet and connection
 * state machine, separate from the virtqueues and the host sockets so it
 * can be unit tested and fuzzed with synthetic packets.
 *
 * Host side, Firecracker's hybrid model over Unix sockets:
 *   - host-initiated: a host process connects to osprey's socket (uds)
 *     and writes "CONNECT <port>\n"; osprey sends the guest a REQUEST
 *     from CID 2 and a fresh local port (from 1 << 30 up) to <port>; on
 *     the guest's RESPONSE osprey writes "OK <local port>\n" to the host
 *     process, then the socket carries the stream; on RST it is closed.
 *   - guest-initiated: a guest REQUEST to CID 2 port P makes osprey
 *     connect to "<uds>_<P>"; failure gives the guest an RST, success a
 *     RESPONSE, then the socket carries the stream.
 *
 * The guest is hostile. Every header is checked (length at most
 * VSOCK_MAX_PKT_LEN and inside the packet, type STREAM, dst_cid 2,
 * src_cid the guest's, op known, payload only on RW); bad packets are
 * dropped, counted, and answered with an RST where the ports mean
 * something. Guest-influenced allocations are bounded: at most
 * VSOCK_MAX_CONNS connections, at most VSOCK_CONN_BUF bytes buffered for
 * the host per connection (what osprey advertises as buf_alloc; a guest
 * that sends past that credit gets its connection reset), at most
 * VSOCK_RST_QUEUE RSTs waiting for receive buffers.
 *
 * The state machine never blocks: host file descriptors are non-blocking
 * and reached only through struct vsock_host_ops; it asks for EPOLLIN /
 * EPOLLOUT through ops->watch and is told about readiness through
 * vsock_host_event(). Not thread-safe: the caller serializes.
 */
#ifndef OSPREY_VIRTIO_VSOCK_H
#define OSPREY_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIRTIO_ID_VSOCK 19

#define VSOCK_HOST_CID 2
#define VSOCK_TYPE_STREAM 1

#define VSOCK_OP_REQUEST 1
#define VSOCK_OP_RESPONSE 2
#define VSOCK_OP_RST 3
#define VSOCK_OP_SHUTDOWN 4
#define VSOCK_OP_RW 5
#define VSOCK_OP_CREDIT_UPDATE 6
#define VSOCK_OP_CREDIT_REQUEST 7

#define VSOCK_SHUTDOWN_RCV 1
#define VSOCK_SHUTDOWN_SEND 2

#define VSOCK_HDR_SIZE 44
/* Largest payload of one packet, either way (Linux sends at most 64 KiB). */
#define VSOCK_MAX_PKT_LEN (64 * 1024)
#define VSOCK_MAX_CONNS 1024
/* Receive buffer osprey advertises (and may allocate) per connection. */
#define VSOCK_CONN_BUF (64 * 1024)
#define VSOCK_RST_QUEUE 256
/* Host-initiated connections get local ports from here up (as Firecracker). */
#define VSOCK_LOCAL_PORT_BASE (1u << 30)
/* Longest "CONNECT <port>\n" line accepted from a host process. */
#define VSOCK_CONNECT_LINE_MAX 32

/* The packet header, little-endian on the wire. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_SIZE, "virtio_vsock_hdr is 44 bytes");

/* Decodes / encodes the wire format (the host byte order may differ). */
void vsock_hdr_decode(const void *wire, struct vsock_hdr *hdr);
void vsock_hdr_encode(const struct vsock_hdr *hdr, void *wire);

/*
 * What the state machine needs from the host. All fds are non-blocking.
 * Functions return -errno on failure (-EAGAIN: try again later).
 */
struct vsock_host_ops {
	/* Guest-initiated: connect to the host service for `port`; an fd. */
	int (*connect)(void *opaque, uint32_t port);
	ssize_t (*send)(void *opaque, int fd, const void *buf, size_t len);
	/* 0 at end of stream. peek: look without consuming (MSG_PEEK). */
	ssize_t (*recv)(void *opaque, int fd, void *buf, size_t len, bool peek);
	/* shutdown(fd, SHUT_WR): the guest will send no more. */
	void (*shutdown_wr)(void *opaque, int fd);
	/*
	 * Level-triggered interest in EPOLLIN / EPOLLOUT on fd; 0: none (stop
	 * watching, also for EPOLLHUP). Report readiness with
	 * vsock_host_event(vs, tag, events).
	 */
	void (*watch)(void *opaque, int fd, uint32_t events, uint64_t tag);
	/* Stop watching fd and close it. */
	void (*close)(void *opaque, int fd);
};

struct vsock_stats {
	uint64_t tx_packets;   /* from the guest */
	uint64_t rx_packets;   /* to the guest */
	uint64_t tx_bytes;     /* payload forwarded to host sockets */
	uint64_t rx_bytes;     /* payload delivered to the guest */
	uint64_t malformed;    /* bad headers (dropped) */
	uint64_t dropped;      /* well-formed but unexpected in that state */
	uint64_t rst_overflow; /* RSTs lost because the RST queue was full */
	uint64_t credit_violations;
	uint64_t conns_opened, conns_closed;
	uint64_t refused;      /* connections refused (cap, host service missing) */
};

struct vsock;

struct vsock *vsock_new(uint64_t guest_cid, const struct vsock_host_ops *ops, void *opaque);
/* Closes every host fd. */
void vsock_free(struct vsock *vs);
/* Device reset: every connection is closed, queued packets dropped. */
void vsock_reset(struct vsock *vs);

/*
 * One packet from the guest's tx queue: the header followed by `len`
 * bytes of payload, pkt_len bytes in all (the glue copies at most
 * VSOCK_HDR_SIZE + VSOCK_MAX_PKT_LEN). 0: consumed (possibly ignored as
 * unexpected in the connection's state); -EINVAL: malformed, dropped.
 */
int vsock_tx(struct vsock *vs, const void *pkt, size_t pkt_len);

/* Whether a packet may be waiting for a guest receive buffer. */
bool vsock_rx_pending(const struct vsock *vs);
/*
 * Builds the next packet for the guest: *hdr (host byte order) and up to
 * `room` payload bytes in payload. Returns the payload length (hdr->len),
 * or -EAGAIN when there was nothing to send after all.
 */
int vsock_rx(struct vsock *vs, struct vsock_hdr *hdr, void *payload, uint32_t room);

/*
 * A host process connected to the listening socket: fd is handed over
 * (non-blocking). 0, or -EBUSY at the connection cap (fd not taken).
 */
int vsock_host_accept(struct vsock *vs, int fd);
/* Readiness (EPOLLIN/OUT/HUP/ERR) of the fd watched under tag. */
void vsock_host_event(struct vsock *vs, uint64_t tag, uint32_t events);

/* Parses "CONNECT <port>" (case-insensitive, spaces, optional \r\n). */
int vsock_parse_connect(const char *line, size_t len, uint32_t *port);

const struct vsock_stats *vsock_stats(const struct vsock *vs);
/* Live connections (including host processes that have not sent CONNECT). */
unsigned vsock_conn_count(const struct vsock *vs);
/* Bytes buffered for host sockets, over all connections. */
uint64_t vsock_buffered(const struct vsock *vs);

/* ---- the device (vsock.c) ---- */

/* The event queue's one event (virtio 1.x, 5.10.6.7), le32 id. */
#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET 0

struct virtio_dev;

/*
 * The device model without KVM, threads or a host socket, for unit tests
 * and fuzzing: the ops table, a state for guest CID cid (no listening
 * socket; free it with ops->destroy; NULL on failure), and
 * virtio_vsock_attach() to tell it its hand-built struct virtio_dev.
 */
extern const struct virtio_dev_ops virtio_vsock_ops;
void *virtio_vsock_alloc(uint64_t cid);
void virtio_vsock_attach(struct virtio_dev *d);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct virtio_dev),
 * section "virtio-vsock", version VIRTIO_VSOCK_STATE_VERSION: the
 * transport (virtio/mmio.h), u64 guest CID (must be the configured one),
 * bool rx_held (a receive chain taken, not yet filled; given back to the
 * ring on load). Connections are not state: their host sockets belong to
 * the process that saved. As Firecracker does, a restored device starts
 * with none and, on resume, tells the guest with a TRANSPORT_RESET event
 * on the event queue (when the driver has an event buffer there, or at
 * its next kick of that queue), so the guest drops its connections too.
 */
#define VIRTIO_VSOCK_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops virtio_vsock_state_ops;

#endif
