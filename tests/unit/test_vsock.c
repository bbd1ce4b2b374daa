// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/vsock: the packet and connection state machine with synthetic
 * guest packets and a scripted host side (no sockets, no KVM).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <cmocka.h>

#include "virtio/vsock.h"

#define GUEST_CID 3
#define MAX_FDS 4096
#define OUT_MAX (256 * 1024)

/* One host socket as the state machine sees it. */
struct fake_fd {
	bool used, open;
	uint8_t *in; /* what the host process wrote, for osprey to read */
	size_t in_len;
	bool eof;
	int recv_err;
	uint8_t *out; /* what osprey wrote to the host process */
	size_t out_len;
	size_t send_room; /* bytes send() takes before -EAGAIN */
	int send_err;
	bool shut_wr;
	uint32_t watched;
	uint64_t tag;
};

struct fake {
	struct vsock *vs;
	struct fake_fd fds[MAX_FDS];
	int next_fd;
	bool refuse;	      /* connect() fails */
	uint32_t last_port;   /* last connect() port */
	unsigned connects;
	uint8_t payload[VSOCK_MAX_PKT_LEN];
};

static int fake_new_fd(struct fake *f)
{
	int fd = f->next_fd++;
	struct fake_fd *h;

	assert_true(fd < MAX_FDS);
	h = &f->fds[fd];
	memset(h, 0, sizeof(*h));
	h->used = h->open = true;
	h->send_room = SIZE_MAX;
	return fd;
}

static int f_connect(void *opaque, uint32_t port)
{
	struct fake *f = opaque;

	f->connects++;
	f->last_port = port;
	return f->refuse ? -ECONNREFUSED : fake_new_fd(f);
}

static ssize_t f_send(void *opaque, int fd, const void *buf, size_t len)
{
	struct fake *f = opaque;
	struct fake_fd *h = &f->fds[fd];

	assert_true(h->open);
	if (h->send_err)
		return -h->send_err;
	if (len > h->send_room)
		len = h->send_room;
	if (!len)
		return -EAGAIN;
	if (!h->out)
		h->out = calloc(1, OUT_MAX);
	assert_true(h->out_len + len <= OUT_MAX);
	memcpy(h->out + h->out_len, buf, len);
	h->out_len += len;
	if (h->send_room != SIZE_MAX)
		h->send_room -= len;
	return (ssize_t)len;
}

static ssize_t f_recv(void *opaque, int fd, void *buf, size_t len, bool peek)
{
	struct fake *f = opaque;
	struct fake_fd *h = &f->fds[fd];

	assert_true(h->open);
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
	struct fake *f = opaque;

	assert_true(f->fds[fd].open);
	f->fds[fd].shut_wr = true;
}

static void f_watch(void *opaque, int fd, uint32_t events, uint64_t tag)
{
	struct fake *f = opaque;

	assert_true(f->fds[fd].open);
	f->fds[fd].watched = events;
	f->fds[fd].tag = tag;
}

static void f_close(void *opaque, int fd)
{
	struct fake *f = opaque;

	assert_true(f->fds[fd].open);
	f->fds[fd].open = false;
	f->fds[fd].watched = 0;
}

static const struct vsock_host_ops fake_ops = {
	.connect = f_connect,
	.send = f_send,
	.recv = f_recv,
	.shutdown_wr = f_shutdown_wr,
	.watch = f_watch,
	.close = f_close,
};

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->next_fd = 3;
	f->vs = vsock_new(GUEST_CID, &fake_ops, f);
	if (!f->vs) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	vsock_free(f->vs);
	for (int i = 0; i < MAX_FDS; i++) {
		/* every fd handed over was closed */
		if (f->fds[i].used)
			assert_false(f->fds[i].open);
		free(f->fds[i].in);
		free(f->fds[i].out);
	}
	free(f);
	return 0;
}

/* The host process writes to its socket. */
static void host_write(struct fake *f, int fd, const void *data, size_t len)
{
	struct fake_fd *h = &f->fds[fd];

	h->in = realloc(h->in, h->in_len + len);
	assert_non_null(h->in);
	memcpy(h->in + h->in_len, data, len);
	h->in_len += len;
}

static void host_event(struct fake *f, int fd, uint32_t events)
{
	vsock_host_event(f->vs, f->fds[fd].tag, events);
}

struct pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

/* A guest packet: header fields, then `have` payload bytes of `data`. */
static int tx_raw(struct fake *f, const struct pkt *p, const void *data, size_t have)
{
	uint8_t *wire = calloc(1, VSOCK_HDR_SIZE + have + 1);
	struct vsock_hdr h = {
		.src_cid = p->src_cid, .dst_cid = p->dst_cid,
		.src_port = p->src_port, .dst_port = p->dst_port,
		.len = p->len, .type = p->type, .op = p->op, .flags = p->flags,
		.buf_alloc = p->buf_alloc, .fwd_cnt = p->fwd_cnt,
	};
	int ret;

	assert_non_null(wire);
	vsock_hdr_encode(&h, wire);
	if (have)
		memcpy(wire + VSOCK_HDR_SIZE, data, have);
	ret = vsock_tx(f->vs, wire, VSOCK_HDR_SIZE + have);
	free(wire);
	return ret;
}

/* A well-formed packet from guest port gport to host port hport. */
static int tx(struct fake *f, uint32_t gport, uint32_t hport, uint16_t op, uint32_t flags,
	      const char *data, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	uint32_t len = data ? (uint32_t)strlen(data) : 0;
	struct pkt p = { GUEST_CID, VSOCK_HOST_CID, gport, hport, len, VSOCK_TYPE_STREAM,
			 op, flags, buf_alloc, fwd_cnt };

	return tx_raw(f, &p, data, len);
}

/* Next packet for the guest; its op (-1 when there is none). */
static int rx(struct fake *f, struct vsock_hdr *h, uint32_t room)
{
	int n = vsock_rx(f->vs, h, f->payload, room);

	if (n < 0) {
		assert_int_equal(n, -EAGAIN);
		return -1;
	}
	assert_int_equal(h->len, (uint32_t)n);
	assert_true(h->len <= room);
	assert_int_equal(h->src_cid, VSOCK_HOST_CID);
	assert_int_equal(h->dst_cid, GUEST_CID);
	assert_int_equal(h->type, VSOCK_TYPE_STREAM);
	return h->op;
}

static void expect_rst(struct fake *f, uint32_t hport, uint32_t gport)
{
	struct vsock_hdr h;

	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RST);
	assert_int_equal(h.src_port, hport);
	assert_int_equal(h.dst_port, gport);
	assert_int_equal(h.len, 0);
}

static void expect_nothing(struct fake *f)
{
	struct vsock_hdr h;

	assert_int_equal(rx(f, &h, 4096), -1);
}

/* Guest port gport connects to host port hport; returns the host fd. */
static int connect_guest(struct fake *f, uint32_t gport, uint32_t hport, uint32_t buf_alloc)
{
	struct vsock_hdr h;
	int fd = f->next_fd;

	assert_int_equal(tx(f, gport, hport, VSOCK_OP_REQUEST, 0, NULL, buf_alloc, 0), 0);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RESPONSE);
	assert_int_equal(h.src_port, hport);
	assert_int_equal(h.dst_port, gport);
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	assert_int_equal(h.fwd_cnt, 0);
	assert_int_equal(f->last_port, hport);
	assert_true(f->fds[fd].open);
	return fd;
}

/* ---- wire format ---- */

static void test_header_layout(void **state)
{
	struct vsock_hdr h = {
		.src_cid = 0x0102030405060708ULL, .dst_cid = 2, .src_port = 0x11223344,
		.dst_port = 0x55667788, .len = 0x99, .type = 1, .op = 5, .flags = 3,
		.buf_alloc = 0xaabbccdd, .fwd_cnt = 0x01020304,
	};
	struct vsock_hdr back;
	uint8_t w[VSOCK_HDR_SIZE];

	(void)state;
	vsock_hdr_encode(&h, w);
	assert_int_equal(w[0], 0x08);
	assert_int_equal(w[7], 0x01);
	assert_int_equal(w[8], 2);
	assert_int_equal(w[16], 0x44);
	assert_int_equal(w[20], 0x88);
	assert_int_equal(w[24], 0x99);
	assert_int_equal(w[28], 1);
	assert_int_equal(w[30], 5);
	assert_int_equal(w[32], 3);
	assert_int_equal(w[36], 0xdd);
	assert_int_equal(w[40], 0x04);
	vsock_hdr_decode(w, &back);
	assert_memory_equal(&h, &back, sizeof(h));
}

static void test_parse_connect(void **state)
{
	static const struct {
		const char *line;
		int ret;
		uint32_t port;
	} cases[] = {
		{ "CONNECT 52\n", 0, 52 },
		{ "connect 1234\r\n", 0, 1234 },
		{ "  Connect   7  \n", 0, 7 },
		{ "CONNECT 4294967295\n", 0, 4294967295u },
		{ "CONNECT 4294967296\n", -EINVAL, 0 },
		{ "CONNECT\n", -EINVAL, 0 },
		{ "CONNECT \n", -EINVAL, 0 },
		{ "CONNECTS 5\n", -EINVAL, 0 },
		{ "CONNECT 5x\n", -EINVAL, 0 },
		{ "CONNECT -5\n", -EINVAL, 0 },
		{ "HELLO 5\n", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t port = 0;

		assert_int_equal(vsock_parse_connect(cases[i].line, strlen(cases[i].line), &port),
				 cases[i].ret);
		if (!cases[i].ret)
			assert_int_equal(port, cases[i].port);
	}
}

/* ---- malformed packets ---- */

static void test_short_header(void **state)
{
	struct fake *f = *state;
	uint8_t wire[VSOCK_HDR_SIZE] = { 0 };

	for (size_t len = 0; len < VSOCK_HDR_SIZE; len++)
		assert_int_equal(vsock_tx(f->vs, wire, len), -EINVAL);
	assert_int_equal(vsock_stats(f->vs)->malformed, VSOCK_HDR_SIZE);
	assert_false(vsock_rx_pending(f->vs));
	assert_int_equal(f->connects, 0);
}

static void test_wrong_cid(void **state)
{
	struct fake *f = *state;
	struct pkt spoofed = { GUEST_CID + 1, VSOCK_HOST_CID, 1000, 52, 0, VSOCK_TYPE_STREAM,
			       VSOCK_OP_REQUEST, 0, 4096, 0 };
	struct pkt elsewhere = { GUEST_CID, 7, 1000, 52, 0, VSOCK_TYPE_STREAM,
				 VSOCK_OP_REQUEST, 0, 4096, 0 };
	struct pkt high = { GUEST_CID | 1ULL << 32, VSOCK_HOST_CID, 1000, 52, 0,
			    VSOCK_TYPE_STREAM, VSOCK_OP_REQUEST, 0, 4096, 0 };

	assert_int_equal(tx_raw(f, &spoofed, NULL, 0), -EINVAL);
	assert_int_equal(tx_raw(f, &elsewhere, NULL, 0), -EINVAL);
	assert_int_equal(tx_raw(f, &high, NULL, 0), -EINVAL);
	/* Dropped without an answer and without touching the host. */
	assert_int_equal(f->connects, 0);
	assert_false(vsock_rx_pending(f->vs));
	assert_int_equal(vsock_stats(f->vs)->malformed, 3);
}

static void test_bad_len(void **state)
{
	struct fake *f = *state;
	static uint8_t big[VSOCK_MAX_PKT_LEN + 1];
	struct pkt p = { GUEST_CID, VSOCK_HOST_CID, 1000, 52, VSOCK_MAX_PKT_LEN + 1,
			 VSOCK_TYPE_STREAM, VSOCK_OP_RW, 0, 4096, 0 };

	/* Longer than the cap, even with every byte present. */
	assert_int_equal(tx_raw(f, &p, big, sizeof(big)), -EINVAL);
	expect_rst(f, 52, 1000);
	/* Longer than the bytes the chain holds. */
	p.len = 10;
	assert_int_equal(tx_raw(f, &p, "12345", 5), -EINVAL);
	expect_rst(f, 52, 1000);
	/* Payload on a control packet. */
	p.op = VSOCK_OP_REQUEST;
	p.len = 4;
	assert_int_equal(tx_raw(f, &p, "abcd", 4), -EINVAL);
	expect_rst(f, 52, 1000);
	expect_nothing(f);
	assert_int_equal(f->connects, 0);
	assert_int_equal(vsock_stats(f->vs)->malformed, 3);
}

static void test_bad_len_kills_connection(void **state)
{
	struct fake *f = *state;
	struct pkt p = { GUEST_CID, VSOCK_HOST_CID, 1000, 52, 100, VSOCK_TYPE_STREAM,
			 VSOCK_OP_RW, 0, 4096, 0 };
	int fd = connect_guest(f, 1000, 52, 4096);

	assert_int_equal(tx_raw(f, &p, "short", 5), -EINVAL);
	assert_false(f->fds[fd].open);
	expect_rst(f, 52, 1000);
	assert_int_equal(vsock_conn_count(f->vs), 0);
	expect_nothing(f);
}

static void test_unknown_op(void **state)
{
	struct fake *f = *state;
	static const uint16_t ops[] = { 0, 8, 9, 0x100, 0xffff };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct pkt p = { GUEST_CID, VSOCK_HOST_CID, 1000 + (uint32_t)i, 52, 0,
				 VSOCK_TYPE_STREAM, ops[i], 0, 4096, 0 };

		assert_int_equal(tx_raw(f, &p, NULL, 0), -EINVAL);
		expect_rst(f, 52, 1000 + (uint32_t)i);
	}
	assert_int_equal(vsock_stats(f->vs)->malformed, 5);
	assert_int_equal(f->connects, 0);
}

static void test_bad_type(void **state)
{
	struct fake *f = *state;
	struct pkt seqpacket = { GUEST_CID, VSOCK_HOST_CID, 1000, 52, 0, 2, VSOCK_OP_REQUEST,
				 0, 4096, 0 };
	struct pkt rst = { GUEST_CID, VSOCK_HOST_CID, 1000, 52, 0, 0, VSOCK_OP_RST, 0, 0, 0 };

	assert_int_equal(tx_raw(f, &seqpacket, NULL, 0), -EINVAL);
	expect_rst(f, 52, 1000);
	/* A malformed RST is never answered with one. */
	assert_int_equal(tx_raw(f, &rst, NULL, 0), -EINVAL);
	expect_nothing(f);
	assert_int_equal(f->connects, 0);
}

/* ---- connections from the guest ---- */

static void test_request_unknown_port(void **state)
{
	struct fake *f = *state;

	f->refuse = true;
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_REQUEST, 0, NULL, 4096, 0), 0);
	assert_int_equal(f->last_port, 52);
	expect_rst(f, 52, 1000);
	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
	assert_int_equal(vsock_stats(f->vs)->refused, 1);
}

static void test_unroutable(void **state)
{
	struct fake *f = *state;

	/* Data for a connection that does not exist: RST. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "x", 4096, 0), 0);
	expect_rst(f, 52, 1000);
	/* An RST for one: silence. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
	expect_nothing(f);
	assert_int_equal(f->connects, 0);
}

static void test_guest_connection_data(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int fd = connect_guest(f, 1000, 52, 4096);

	assert_int_equal(vsock_conn_count(f->vs), 1);
	assert_int_equal(f->fds[fd].watched, EPOLLIN);
	/* guest -> host */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "hello", 4096, 0), 0);
	assert_int_equal(f->fds[fd].out_len, 5);
	assert_memory_equal(f->fds[fd].out, "hello", 5);
	/* host -> guest */
	host_write(f, fd, "world!", 6);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(f->fds[fd].watched, 0); /* readable: no busy polling */
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_int_equal(h.len, 6);
	assert_memory_equal(f->payload, "world!", 6);
	assert_int_equal(h.fwd_cnt, 5);
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	expect_nothing(f);
	assert_int_equal(f->fds[fd].watched, EPOLLIN); /* drained: watching again */
	/* A duplicate REQUEST changes nothing. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_REQUEST, 0, NULL, 4096, 0), 0);
	expect_nothing(f);
	/* The guest resets: the host socket closes, nothing is answered. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
	assert_false(f->fds[fd].open);
	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
}

static void test_credit_to_guest(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int fd = connect_guest(f, 1000, 52, 8);

	host_write(f, fd, "0123456789abcdefghij", 20);
	host_event(f, fd, EPOLLIN);
	/* Never more than the guest's buf_alloc in flight. */
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_int_equal(h.len, 8);
	assert_memory_equal(f->payload, "01234567", 8);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_CREDIT_REQUEST);
	expect_nothing(f);
	assert_int_equal(f->fds[fd].watched, 0);
	/* The guest consumed 3 bytes. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_CREDIT_UPDATE, 0, NULL, 8, 3), 0);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_int_equal(h.len, 3);
	assert_memory_equal(f->payload, "89a", 3);
	/* A bigger window, but a small receive buffer. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_CREDIT_UPDATE, 0, NULL, 1000, 11), 0);
	assert_int_equal(rx(f, &h, 4), VSOCK_OP_RW);
	assert_memory_equal(f->payload, "bcde", 4);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_memory_equal(f->payload, "fghij", 5);
	expect_nothing(f);
	/* A guest lying about fwd_cnt (ahead of what it got) gets no extra credit. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_CREDIT_UPDATE, 0, NULL, 8, 0xfffffff0u), 0);
	host_write(f, fd, "zz", 2);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_CREDIT_REQUEST);
	expect_nothing(f);
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
}

static void test_credit_from_guest(void **state)
{
	struct fake *f = *state;
	static char chunk[VSOCK_MAX_PKT_LEN / 2 + 1];
	struct vsock_hdr h;
	uint64_t fill;
	char *more;
	int fd = connect_guest(f, 1000, 52, 4096);

	/* The host process is slow: it takes 100 bytes, then nothing. */
	f->fds[fd].send_room = 100;
	memset(chunk, 'a', sizeof(chunk) - 1);
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, chunk, 4096, 0), 0);
	assert_int_equal(f->fds[fd].out_len, 100);
	assert_int_equal(vsock_buffered(f->vs), sizeof(chunk) - 1 - 100);
	assert_true(f->fds[fd].watched & EPOLLOUT);
	/* Within the credit: buffered. Fill it to the last byte. */
	fill = VSOCK_CONN_BUF - vsock_buffered(f->vs);
	more = malloc(fill + 1);
	assert_non_null(more);
	memset(more, 'b', fill);
	more[fill] = 0;
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, more, 4096, 0), 0);
	free(more);
	assert_int_equal(vsock_buffered(f->vs), VSOCK_CONN_BUF);
	assert_true(f->fds[fd].open);
	/* One byte past the credit: the connection is reset. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "!", 4096, 0), 0);
	assert_false(f->fds[fd].open);
	assert_int_equal(vsock_stats(f->vs)->credit_violations, 1);
	assert_int_equal(vsock_buffered(f->vs), 0);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RST);
	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
}

static void test_flush_and_credit_update(void **state)
{
	struct fake *f = *state;
	char *data = malloc(40001);
	struct vsock_hdr h;
	int fd = connect_guest(f, 1000, 52, 4096);

	assert_non_null(data);
	memset(data, 'x', 40000);
	data[40000] = 0;
	f->fds[fd].send_room = 0;
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, data, 4096, 0), 0);
	free(data);
	assert_int_equal(vsock_buffered(f->vs), 40000);
	assert_int_equal(f->fds[fd].watched, EPOLLIN | EPOLLOUT);
	expect_nothing(f); /* nothing forwarded yet: no credit to announce */
	/* The host process reads 10000 bytes. */
	f->fds[fd].send_room = 10000;
	host_event(f, fd, EPOLLOUT);
	assert_int_equal(vsock_buffered(f->vs), 30000);
	expect_nothing(f); /* the guest still sees plenty of room */
	/* ... then everything: past half the buffer, the guest hears of it. */
	f->fds[fd].send_room = SIZE_MAX;
	host_event(f, fd, EPOLLOUT);
	assert_int_equal(vsock_buffered(f->vs), 0);
	assert_int_equal(f->fds[fd].out_len, 40000);
	assert_int_equal(f->fds[fd].watched, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h.fwd_cnt, 40000);
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	expect_nothing(f);
	/* A credit request is answered. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_CREDIT_REQUEST, 0, NULL, 4096, 0), 0);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h.fwd_cnt, 40000);
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
}

static void test_connection_cap(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int first = f->next_fd;

	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++) {
		assert_int_equal(tx(f, 2000 + i, 52, VSOCK_OP_REQUEST, 0, NULL, 4096, 0), 0);
		assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RESPONSE);
	}
	assert_int_equal(vsock_conn_count(f->vs), VSOCK_MAX_CONNS);
	/* One more from the guest: refused without asking the host. */
	f->connects = 0;
	assert_int_equal(tx(f, 9999, 52, VSOCK_OP_REQUEST, 0, NULL, 4096, 0), 0);
	assert_int_equal(f->connects, 0);
	expect_rst(f, 52, 9999);
	/* One more from the host: refused too. */
	assert_int_equal(vsock_host_accept(f->vs, 12345), -EBUSY);
	assert_int_equal(vsock_stats(f->vs)->refused, 2);
	/* Closing one makes room. */
	assert_int_equal(tx(f, 2000, 52, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
	assert_false(f->fds[first].open);
	assert_int_equal(tx(f, 9999, 52, VSOCK_OP_REQUEST, 0, NULL, 4096, 0), 0);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RESPONSE);
	assert_int_equal(vsock_conn_count(f->vs), VSOCK_MAX_CONNS);
	vsock_reset(f->vs);
	assert_int_equal(vsock_conn_count(f->vs), 0);
	expect_nothing(f);
}

static void test_guest_shutdown(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int fd = connect_guest(f, 1000, 52, 4096);

	/* The guest will send no more: the host process sees EOF ... */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_SHUTDOWN, 0, NULL, 4096, 0), 0);
	assert_false(f->fds[fd].shut_wr); /* (no flags: nothing) */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_SEND, NULL, 4096, 0),
			 0);
	assert_true(f->fds[fd].shut_wr);
	/* ... and data after that promise is dropped. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "late", 4096, 0), 0);
	assert_int_equal(f->fds[fd].out_len, 0);
	/* ... but the other direction still flows. */
	host_write(f, fd, "reply", 5);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_memory_equal(f->payload, "reply", 5);
	/* Both directions shut: osprey ends it with an RST. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_RCV, NULL, 4096, 0), 0);
	assert_false(f->fds[fd].open);
	expect_rst(f, 52, 1000);
	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
}

static void test_guest_shutdown_waits_for_drain(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int fd = connect_guest(f, 1000, 52, 4096);

	f->fds[fd].send_room = 2;
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "abcdef", 4096, 0), 0);
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_SHUTDOWN,
			    VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND, NULL, 4096, 0), 0);
	/* Four bytes still owed to the host process. */
	assert_true(f->fds[fd].open);
	assert_false(f->fds[fd].shut_wr);
	expect_nothing(f);
	f->fds[fd].send_room = SIZE_MAX;
	host_event(f, fd, EPOLLOUT);
	assert_int_equal(f->fds[fd].out_len, 6);
	assert_memory_equal(f->fds[fd].out, "abcdef", 6);
	assert_true(f->fds[fd].shut_wr);
	assert_false(f->fds[fd].open);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RST);
	expect_nothing(f);
}

static void test_host_eof_and_hangup(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int fd = connect_guest(f, 1000, 52, 4096);

	host_write(f, fd, "bye", 3);
	f->fds[fd].eof = true; /* shutdown(SHUT_WR) by the host process */
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VSOCK_SHUTDOWN_SEND);
	expect_nothing(f);
	assert_int_equal(f->fds[fd].watched, 0);
	/* Half closed: the guest may still talk. */
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "more", 4096, 0), 0);
	assert_int_equal(f->fds[fd].out_len, 4);
	/* The host process goes away: the guest may stop sending too. */
	host_event(f, fd, EPOLLHUP);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_SHUTDOWN);
	assert_int_equal(h.flags, VSOCK_SHUTDOWN_SEND | VSOCK_SHUTDOWN_RCV);
	expect_nothing(f);
	/* Data to a dead host process: RST. */
	f->fds[fd].send_err = EPIPE;
	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RW, 0, "x", 4096, 0), 0);
	assert_false(f->fds[fd].open);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RST);
	expect_nothing(f);
}

static void test_host_read_error(void **state)
{
	struct fake *f = *state;
	int fd = connect_guest(f, 1000, 52, 4096);

	f->fds[fd].recv_err = ECONNRESET;
	host_event(f, fd, EPOLLIN | EPOLLERR);
	/* The error shows when osprey reads, for the guest. */
	expect_rst(f, 52, 1000);
	assert_false(f->fds[fd].open);
	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
}

/* ---- connections from the host ---- */

static int host_connects(struct fake *f)
{
	int fd = fake_new_fd(f);

	assert_int_equal(vsock_host_accept(f->vs, fd), 0);
	assert_int_equal(f->fds[fd].watched, EPOLLIN);
	return fd;
}

static void test_host_initiated(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	char ok[32];
	int fd = host_connects(f);

	/* The command and the first data in one write. */
	host_write(f, fd, "CONNECT 52\nDATA", 15);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_REQUEST);
	assert_int_equal(h.src_port, VSOCK_LOCAL_PORT_BASE);
	assert_int_equal(h.dst_port, 52);
	assert_int_equal(h.buf_alloc, VSOCK_CONN_BUF);
	expect_nothing(f);
	assert_int_equal(f->fds[fd].in_len, 4); /* "DATA" left for the stream */
	assert_int_equal(f->fds[fd].watched, 0);
	assert_int_equal(tx(f, 52, VSOCK_LOCAL_PORT_BASE, VSOCK_OP_RESPONSE, 0, NULL, 4096, 0),
			 0);
	snprintf(ok, sizeof(ok), "OK %u\n", VSOCK_LOCAL_PORT_BASE);
	assert_int_equal(f->fds[fd].out_len, strlen(ok));
	assert_memory_equal(f->fds[fd].out, ok, strlen(ok));
	assert_int_equal(f->fds[fd].watched, EPOLLIN);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_RW);
	assert_memory_equal(f->payload, "DATA", 4);
	assert_int_equal(tx(f, 52, VSOCK_LOCAL_PORT_BASE, VSOCK_OP_RW, 0, "echo", 4096, 0), 0);
	assert_memory_equal(f->fds[fd].out + strlen(ok), "echo", 4);
	/* A second host connection to the same guest port gets the next port. */
	fd = host_connects(f);
	host_write(f, fd, "connect 52\r\n", 12);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_REQUEST);
	assert_int_equal(h.src_port, VSOCK_LOCAL_PORT_BASE + 1);
	/* A second RESPONSE is unexpected and changes nothing. */
	assert_int_equal(tx(f, 52, VSOCK_LOCAL_PORT_BASE, VSOCK_OP_RESPONSE, 0, NULL, 4096, 0),
			 0);
	assert_int_equal(vsock_stats(f->vs)->dropped, 1);
	vsock_reset(f->vs);
}

static void test_host_initiated_refused(void **state)
{
	struct fake *f = *state;
	struct vsock_hdr h;
	int fd = host_connects(f);

	/* The command in pieces. */
	host_write(f, fd, "CONN", 4);
	host_event(f, fd, EPOLLIN);
	expect_nothing(f);
	host_write(f, fd, "ECT 7\n", 6);
	host_event(f, fd, EPOLLIN);
	assert_int_equal(rx(f, &h, 4096), VSOCK_OP_REQUEST);
	assert_int_equal(h.dst_port, 7);
	/* Nobody listens in the guest: the host process is hung up on. */
	assert_int_equal(tx(f, 7, h.src_port, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
	assert_false(f->fds[fd].open);
	assert_int_equal(f->fds[fd].out_len, 0);
	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
}

static void test_bad_connect_command(void **state)
{
	struct fake *f = *state;
	char junk[VSOCK_CONNECT_LINE_MAX + 8];
	int fd;

	fd = host_connects(f);
	host_write(f, fd, "HELLO 52\n", 9);
	host_event(f, fd, EPOLLIN);
	assert_false(f->fds[fd].open);

	fd = host_connects(f);
	memset(junk, '5', sizeof(junk));
	host_write(f, fd, junk, sizeof(junk)); /* no line end */
	host_event(f, fd, EPOLLIN);
	assert_false(f->fds[fd].open);

	fd = host_connects(f);
	host_write(f, fd, "CONNECT 5", 9);
	f->fds[fd].eof = true; /* gone before the line end */
	host_event(f, fd, EPOLLIN | EPOLLHUP);
	assert_false(f->fds[fd].open);

	expect_nothing(f);
	assert_int_equal(vsock_conn_count(f->vs), 0);
	assert_int_equal(vsock_stats(f->vs)->refused, 3);
}

static void test_rst_queue_bounded(void **state)
{
	struct fake *f = *state;
	unsigned n = 0;
	struct vsock_hdr h;

	for (uint32_t i = 0; i < VSOCK_RST_QUEUE + 44; i++)
		assert_int_equal(tx(f, 1000 + i, 52, VSOCK_OP_RW, 0, "x", 4096, 0), 0);
	assert_int_equal(vsock_stats(f->vs)->rst_overflow, 44);
	while (rx(f, &h, 4096) == VSOCK_OP_RST)
		n++;
	assert_int_equal(n, VSOCK_RST_QUEUE);
}

static void test_stale_event(void **state)
{
	struct fake *f = *state;
	int fd = connect_guest(f, 1000, 52, 4096);
	uint64_t old = f->fds[fd].tag;
	int fd2;

	assert_int_equal(tx(f, 1000, 52, VSOCK_OP_RST, 0, NULL, 0, 0), 0);
	/* The slot is reused by the next connection. */
	fd2 = connect_guest(f, 1001, 52, 4096);
	assert_int_not_equal(f->fds[fd2].tag, old);
	host_write(f, fd2, "new", 3);
	vsock_host_event(f->vs, old, EPOLLIN | EPOLLHUP);
	expect_nothing(f);
	vsock_host_event(f->vs, 0, EPOLLIN);
	vsock_host_event(f->vs, UINT64_MAX, EPOLLIN);
	vsock_host_event(f->vs, VSOCK_MAX_CONNS + 1, EPOLLIN);
	expect_nothing(f);
	vsock_reset(f->vs);
	assert_false(f->fds[fd2].open);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_parse_connect),
		cmocka_unit_test_setup_teardown(test_short_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_cid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_len, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_len_kills_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_unknown_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unroutable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_connection_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_to_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_from_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_and_credit_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_shutdown_waits_for_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_eof_and_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_read_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_initiated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_initiated_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_connect_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_queue_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_event, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
