// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock state machine against a guest that writes every tx packet
 * byte and a host side the input scripts. The input is a list of records,
 * each a command byte (low 3 bits) and its arguments:
 *   0 raw      le16 n, then n bytes handed to vsock_tx() as they are
 *   1 shaped   guest port g (1000 + g % 8), host port h (50 + h % 4, or
 *              with bit 7 the local port 1 << 30 + h % 8), op, flags
 *              (bits 0-1 only unless bit 7), le16 buf_alloc/16,
 *              le16 fwd_cnt, le16 len, then len payload bytes (none taken
 *              from the input, zeros, when op has bit 7 set): a packet
 *              with the right CIDs and type, so it reaches the connection
 *              logic ((op & 0x7f) % 9; 0 and 8 stay malformed)
 *   2 rx       room/64: one packet for the guest, checked
 *   3 event    fd, events (bit 0 IN, 1 OUT, 2 HUP, 3 ERR) for a host fd
 *   4 accept   a host process connects
 *   5 data     fd, n, then n bytes the host process writes; n with bit 7
 *              set writes "CONNECT <1000 + n % 8>\n" (a guest port) instead
 *   6 behave   fd, b: send room (b & 3: 0, 7, 4096, unlimited), EOF
 *              (bit 2), recv error (bit 3), send error (bit 4)
 *   7 misc     b: bit 0 refuse guest connections, bit 1 device reset
 * Ports come from small sets so that packets meet existing connections.
 * Checked: every fd the state machine touches is open and handed to it,
 * every packet for the guest is well formed and within the receive
 * buffer, the connection count and buffered bytes stay under their caps,
 * and every fd is closed at the end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "virtio/vsock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GUEST_CID 3
#define MAX_FDS 2048
#define FD_BASE 100
#define IN_MAX 4096
#define MAX_RECORDS 4096

struct fake_fd {
	bool given, open; /* handed to the state machine; not yet closed by it */
	uint8_t in[IN_MAX];
	size_t in_len;
	bool eof;
	int recv_err, send_err;
	size_t send_room;
	uint64_t out_bytes;
	uint64_t tag;
	uint32_t watched;
};

static struct fake_fd fds[MAX_FDS];
static unsigned nfds;
static bool refuse;
static uint8_t payload[VSOCK_MAX_PKT_LEN];
static uint8_t pkt[VSOCK_HDR_SIZE + 0x10000];

static struct fake_fd *fd_get(int fd)
{
	if (fd < FD_BASE || fd >= FD_BASE + (int)nfds || !fds[fd - FD_BASE].open)
		abort(); /* an fd the state machine does not own */
	return &fds[fd - FD_BASE];
}

static int fd_new(void)
{
	struct fake_fd *h;

	if (nfds == MAX_FDS)
		return -EMFILE;
	h = &fds[nfds];
	memset(h, 0, sizeof(*h));
	h->given = h->open = true;
	h->send_room = SIZE_MAX;
	return FD_BASE + (int)nfds++;
}

static int f_connect(void *opaque, uint32_t port)
{
	(void)opaque;
	(void)port;
	return refuse ? -ECONNREFUSED : fd_new();
}

static ssize_t f_send(void *opaque, int fd, const void *buf, size_t len)
{
	struct fake_fd *h = fd_get(fd);
	volatile uint8_t sink = 0;

	(void)opaque;
	if (h->send_err)
		return -h->send_err;
	if (len > h->send_room)
		len = h->send_room;
	if (!len)
		return -EAGAIN;
	for (size_t i = 0; i < len; i++)
		sink ^= ((const uint8_t *)buf)[i];
	(void)sink;
	if (h->send_room != SIZE_MAX)
		h->send_room -= len;
	h->out_bytes += len;
	return (ssize_t)len;
}

static ssize_t f_recv(void *opaque, int fd, void *buf, size_t len, bool peek)
{
	struct fake_fd *h = fd_get(fd);

	(void)opaque;
	if (h->recv_err)
		return -h->recv_err;
	if (!h->in_len)
		return h->eof ? 0 : -EAGAIN;
	if (len > h->in_len)
		len = h->in_len;
	memcpy(buf, h->in, len);
	if (!peek) {
		memmove(h->in, h->in + len, h->in_len - len);
		h->in_len -= len;
	}
	return (ssize_t)len;
}

static void f_shutdown_wr(void *opaque, int fd)
{
	(void)opaque;
	fd_get(fd);
}

static void f_watch(void *opaque, int fd, uint32_t events, uint64_t tag)
{
	struct fake_fd *h = fd_get(fd);

	(void)opaque;
	if (events & ~(uint32_t)(EPOLLIN | EPOLLOUT))
		abort();
	h->watched = events;
	h->tag = tag;
}

static void f_close(void *opaque, int fd)
{
	(void)opaque;
	fd_get(fd)->open = false;
}

static const struct vsock_host_ops fake_ops = {
	.connect = f_connect,
	.send = f_send,
	.recv = f_recv,
	.shutdown_wr = f_shutdown_wr,
	.watch = f_watch,
	.close = f_close,
};

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t u8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint16_t u16(struct input *in)
{
	uint16_t lo = u8(in);

	return (uint16_t)(lo | u8(in) << 8);
}

static struct fake_fd *pick_fd(struct input *in)
{
	uint8_t b = u8(in);

	return nfds ? &fds[b % nfds] : NULL;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void shaped_packet(struct vsock *vs, struct input *in)
{
	uint8_t g = u8(in), h = u8(in), op = u8(in), flags = u8(in);
	uint32_t buf_alloc = (uint32_t)u16(in) << 4, fwd_cnt = u16(in);
	uint32_t len = u16(in);
	struct vsock_hdr hdr = {
		.src_cid = GUEST_CID,
		.dst_cid = VSOCK_HOST_CID,
		.src_port = 1000 + g % 8,
		.dst_port = h & 0x80 ? VSOCK_LOCAL_PORT_BASE + (h & 7) : 50 + h % 4,
		.len = len,
		.type = VSOCK_TYPE_STREAM,
		.op = (op & 0x7f) % 9,
		.flags = flags & 0x80 ? flags : flags & 3,
		.buf_alloc = buf_alloc,
		.fwd_cnt = fwd_cnt,
	};
	size_t have = op & 0x80 ? 0 : len < in->left ? len : in->left;

	vsock_hdr_encode(&hdr, pkt);
	memcpy(pkt + VSOCK_HDR_SIZE, in->p, have);
	memset(pkt + VSOCK_HDR_SIZE + have, 0, len - have);
	in->p += have;
	in->left -= have;
	vsock_tx(vs, pkt, VSOCK_HDR_SIZE + len);
}

static void raw_packet(struct vsock *vs, struct input *in)
{
	size_t n = u16(in);
	uint8_t *copy;

	if (n > in->left)
		n = in->left;
	/* an exact copy: reading past pkt_len is an ASan report */
	copy = malloc(n ? n : 1);
	if (!copy)
		abort();
	memcpy(copy, in->p, n);
	in->p += n;
	in->left -= n;
	vsock_tx(vs, copy, n);
	free(copy);
}

static void rx_packet(struct vsock *vs, struct input *in)
{
	uint32_t room = (uint32_t)u8(in) * 64;
	struct vsock_hdr h;
	int n = vsock_rx(vs, &h, payload, room);

	if (n < 0) {
		if (n != -EAGAIN)
			abort();
		return;
	}
	if ((uint32_t)n != h.len || h.len > room || h.len > VSOCK_MAX_PKT_LEN ||
	    h.src_cid != VSOCK_HOST_CID || h.dst_cid != GUEST_CID ||
	    h.type != VSOCK_TYPE_STREAM || h.op < VSOCK_OP_REQUEST ||
	    h.op > VSOCK_OP_CREDIT_REQUEST || (h.op != VSOCK_OP_RW && h.len) ||
	    (h.op == VSOCK_OP_RW && !h.len) || (h.op != VSOCK_OP_SHUTDOWN && h.flags) ||
	    (h.flags & ~(uint32_t)(VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)))
		abort();
}

static void host_data(struct input *in)
{
	struct fake_fd *h = pick_fd(in);
	uint8_t n = u8(in);
	char line[32];
	size_t len;
	const uint8_t *src;

	if (n & 0x80) {
		len = (size_t)snprintf(line, sizeof(line), "CONNECT %u\n", 1000 + n % 8);
		src = (const uint8_t *)line;
	} else {
		len = n < in->left ? n : in->left;
		src = in->p;
		in->p += len;
		in->left -= len;
	}
	if (!h || !h->open)
		return;
	if (len > IN_MAX - h->in_len)
		len = IN_MAX - h->in_len;
	memcpy(h->in + h->in_len, src, len);
	h->in_len += len;
}

static void host_behave(struct input *in)
{
	static const size_t rooms[] = { 0, 7, 4096, SIZE_MAX };
	struct fake_fd *h = pick_fd(in);
	uint8_t b = u8(in);

	if (!h)
		return;
	h->send_room = rooms[b & 3];
	h->eof = b & 4;
	h->recv_err = b & 8 ? ECONNRESET : 0;
	h->send_err = b & 16 ? EPIPE : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct vsock *vs;

	nfds = 0;
	refuse = false;
	vs = vsock_new(GUEST_CID, &fake_ops, NULL);
	if (!vs)
		abort();
	for (unsigned r = 0; r < MAX_RECORDS && in.left; r++) {
		uint8_t cmd = u8(&in);
		struct fake_fd *h;
		uint8_t b;
		int fd;

		switch (cmd & 7) {
		case 0:
			raw_packet(vs, &in);
			break;
		case 1:
			shaped_packet(vs, &in);
			break;
		case 2:
			rx_packet(vs, &in);
			break;
		case 3:
			h = pick_fd(&in);
			b = u8(&in);
			if (h)
				vsock_host_event(vs, h->tag,
						 (b & 1 ? EPOLLIN : 0) | (b & 2 ? EPOLLOUT : 0) |
							 (b & 4 ? EPOLLHUP : 0) |
							 (b & 8 ? EPOLLERR : 0));
			break;
		case 4:
			fd = fd_new();
			if (fd >= 0 && vsock_host_accept(vs, fd))
				fds[fd - FD_BASE].open = false; /* refused: the caller closes it */
			break;
		case 5:
			host_data(&in);
			break;
		case 6:
			host_behave(&in);
			break;
		default:
			b = u8(&in);
			refuse = b & 1;
			if (b & 2)
				vsock_reset(vs);
			break;
		}
		if (vsock_conn_count(vs) > VSOCK_MAX_CONNS)
			abort();
		if (r % 64 == 0 &&
		    vsock_buffered(vs) > (uint64_t)vsock_conn_count(vs) * VSOCK_CONN_BUF)
			abort();
	}
	if (vsock_buffered(vs) > (uint64_t)vsock_conn_count(vs) * VSOCK_CONN_BUF)
		abort();
	/* Whatever is still queued for the guest comes out well formed. */
	for (unsigned i = 0; i < 2 * VSOCK_MAX_CONNS && vsock_rx_pending(vs); i++) {
		struct input big = { (const uint8_t *)"\xff", 1 };

		rx_packet(vs, &big);
	}
	vsock_free(vs);
	for (unsigned i = 0; i < nfds; i++)
		if (fds[i].open)
			abort(); /* leaked */
	return 0;
}
