// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-vsock packet and connection state machine (see vsock.h).
 *
 * Connections live in a fixed table of VSOCK_MAX_CONNS slots. Those with
 * a key (local port, peer port) are also in a small hash table; those
 * with something to tell the guest are on the rx list, served round
 * robin when the guest provides receive buffers. A host fd is watched
 * under a tag (slot, generation), so a late event for a closed and
 * reused slot is recognised and ignored.
 *
 * Flow control (virtio 1.x 5.10.6.3): every packet to the guest carries
 * buf_alloc = VSOCK_CONN_BUF and fwd_cnt = guest bytes written to the
 * host fd so far. Guest bytes the host fd does not take at once wait in
 * a per-connection ring of VSOCK_CONN_BUF bytes, which a guest honouring
 * that credit cannot overflow. Towards the guest, osprey reads from the
 * host fd only as much as the guest's buf_alloc - (rx_cnt - fwd_cnt)
 * allows, and asks for credit (CREDIT_REQUEST) when that is zero.
 */
#include "virtio/vsock.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/metrics.h"

enum conn_state {
	CONN_FREE = 0,
	CONN_HANDSHAKE,	  /* host process connected, "CONNECT <port>" not read yet */
	CONN_HOST_INIT,	  /* REQUEST queued or sent to the guest, no RESPONSE yet */
	CONN_PEER_INIT,	  /* guest REQUEST accepted, RESPONSE queued */
	CONN_ESTABLISHED, /* the stream flows (possibly half closed) */
};

/* Packets a connection owes the guest. */
#define P_RST 1u
#define P_RESPONSE 2u
#define P_REQUEST 4u
#define P_SHUTDOWN 8u
#define P_CREDIT_REQUEST 16u
#define P_CREDIT_UPDATE 32u

#define HASH_BITS 11
#define HASH_SIZE (1u << HASH_BITS)
#define NIL (-1)

struct vsock_conn {
	enum conn_state state;
	uint32_t gen; /* bumped when the slot is freed */
	int fd;	      /* -1 once closed */
	uint32_t local_port, peer_port;
	bool keyed;
	int32_t hnext;		   /* hash chain */
	int32_t rx_prev, rx_next; /* rx list */
	bool on_rx;
	uint32_t watched; /* events asked of ops->watch */

	unsigned pending; /* P_* */
	bool killed;	  /* only the RST is left to send */
	bool readable;	  /* the host fd may have data or EOF to read */
	bool host_hup;	  /* the host end is gone (EPOLLHUP / EPOLLERR) */
	bool credit_requested;
	bool shut_wr_done;   /* shutdown(SHUT_WR) done on the host fd */
	uint32_t peer_shut;  /* VSOCK_SHUTDOWN_* the guest sent */
	uint32_t local_shut; /* VSOCK_SHUTDOWN_* osprey sent or will send */

	/* flow control, all counters wrap */
	uint32_t peer_buf_alloc, peer_fwd_cnt; /* the guest's, from its headers */
	uint32_t rx_cnt;		       /* payload bytes sent to the guest */
	uint32_t fwd_cnt;		       /* guest payload written to the host fd */
	uint32_t last_fwd_cnt;		       /* fwd_cnt as the guest last saw it */

	/* guest bytes the host fd has not taken yet: a ring of VSOCK_CONN_BUF */
	uint8_t *buf;
	uint32_t buf_head, buf_len;

	/* handshake: the CONNECT line so far */
	char line[VSOCK_CONNECT_LINE_MAX];
	uint32_t line_len;
};

struct vsock {
	uint64_t guest_cid;
	const struct vsock_host_ops *ops;
	void *opaque;
	unsigned nconns;
	uint32_t next_local_port;
	int32_t rx_head, rx_tail;
	struct {
		uint32_t local_port, peer_port;
	} rst[VSOCK_RST_QUEUE];
	unsigned rst_first, rst_count;
	struct vsock_stats stats;
	int32_t hash[HASH_SIZE];
	struct vsock_conn conns[VSOCK_MAX_CONNS];
};

/* ---- wire format ---- */

void vsock_hdr_decode(const void *wire, struct vsock_hdr *h)
{
	memcpy(h, wire, sizeof(*h));
	h->src_cid = le64toh(h->src_cid);
	h->dst_cid = le64toh(h->dst_cid);
	h->src_port = le32toh(h->src_port);
	h->dst_port = le32toh(h->dst_port);
	h->len = le32toh(h->len);
	h->type = le16toh(h->type);
	h->op = le16toh(h->op);
	h->flags = le32toh(h->flags);
	h->buf_alloc = le32toh(h->buf_alloc);
	h->fwd_cnt = le32toh(h->fwd_cnt);
}

void vsock_hdr_encode(const struct vsock_hdr *h, void *wire)
{
	struct vsock_hdr w = {
		.src_cid = htole64(h->src_cid),
		.dst_cid = htole64(h->dst_cid),
		.src_port = htole32(h->src_port),
		.dst_port = htole32(h->dst_port),
		.len = htole32(h->len),
		.type = htole16(h->type),
		.op = htole16(h->op),
		.flags = htole32(h->flags),
		.buf_alloc = htole32(h->buf_alloc),
		.fwd_cnt = htole32(h->fwd_cnt),
	};

	memcpy(wire, &w, sizeof(w));
}

int vsock_parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char word[] = "connect";
	uint64_t v = 0;
	size_t i = 0, digits = 0;

	/* Optional line end first: "\n" or "\r\n". */
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	while (i < len && line[i] == ' ')
		i++;
	for (size_t k = 0; k < sizeof(word) - 1; k++, i++)
		if (i >= len || (line[i] | 0x20) != word[k])
			return -EINVAL;
	if (i >= len || line[i] != ' ')
		return -EINVAL;
	while (i < len && line[i] == ' ')
		i++;
	for (; i < len && line[i] >= '0' && line[i] <= '9'; i++, digits++) {
		v = v * 10 + (uint64_t)(line[i] - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	while (i < len && line[i] == ' ')
		i++;
	if (!digits || i != len)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}

/* ---- connection table ---- */

static uint32_t conn_hash(uint32_t local_port, uint32_t peer_port)
{
	uint32_t h = local_port * 0x9e3779b1u ^ peer_port * 0x85ebca77u;

	return (h ^ (h >> 16)) & (HASH_SIZE - 1);
}

static int32_t conn_index(const struct vsock *vs, const struct vsock_conn *c)
{
	return (int32_t)(c - vs->conns);
}

static uint64_t conn_tag(const struct vsock *vs, const struct vsock_conn *c)
{
	return (uint64_t)c->gen << 32 | (uint64_t)(conn_index(vs, c) + 1);
}

static struct vsock_conn *conn_lookup(struct vsock *vs, uint32_t local_port, uint32_t peer_port)
{
	for (int32_t i = vs->hash[conn_hash(local_port, peer_port)]; i != NIL;
	     i = vs->conns[i].hnext) {
		struct vsock_conn *c = &vs->conns[i];

		if (c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

static void conn_set_key(struct vsock *vs, struct vsock_conn *c, uint32_t local_port,
			 uint32_t peer_port)
{
	uint32_t b = conn_hash(local_port, peer_port);

	c->local_port = local_port;
	c->peer_port = peer_port;
	c->hnext = vs->hash[b];
	vs->hash[b] = conn_index(vs, c);
	c->keyed = true;
}

static void conn_unkey(struct vsock *vs, struct vsock_conn *c)
{
	int32_t *p = &vs->hash[conn_hash(c->local_port, c->peer_port)];

	if (!c->keyed)
		return;
	while (*p != NIL && *p != conn_index(vs, c))
		p = &vs->conns[*p].hnext;
	if (*p != NIL)
		*p = c->hnext;
	c->keyed = false;
}

static void rx_list_add(struct vsock *vs, struct vsock_conn *c)
{
	int32_t i = conn_index(vs, c);

	if (c->on_rx)
		return;
	c->on_rx = true;
	c->rx_next = NIL;
	c->rx_prev = vs->rx_tail;
	if (vs->rx_tail != NIL)
		vs->conns[vs->rx_tail].rx_next = i;
	else
		vs->rx_head = i;
	vs->rx_tail = i;
}

static void rx_list_del(struct vsock *vs, struct vsock_conn *c)
{
	if (!c->on_rx)
		return;
	if (c->rx_prev != NIL)
		vs->conns[c->rx_prev].rx_next = c->rx_next;
	else
		vs->rx_head = c->rx_next;
	if (c->rx_next != NIL)
		vs->conns[c->rx_next].rx_prev = c->rx_prev;
	else
		vs->rx_tail = c->rx_prev;
	c->on_rx = false;
}

static struct vsock_conn *conn_alloc(struct vsock *vs, int fd, enum conn_state state)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &vs->conns[i];
		uint32_t gen = c->gen;

		if (c->state != CONN_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->gen = gen;
		c->state = state;
		c->fd = fd;
		c->hnext = c->rx_prev = c->rx_next = NIL;
		vs->nconns++;
		metrics_inc(&vs->stats.conns_opened);
		return c;
	}
	return NULL; /* callers check the cap first */
}

static void conn_close_fd(struct vsock *vs, struct vsock_conn *c)
{
	if (c->fd >= 0)
		vs->ops->close(vs->opaque, c->fd);
	c->fd = -1;
	c->watched = 0;
}

static void conn_free(struct vsock *vs, struct vsock_conn *c)
{
	conn_close_fd(vs, c);
	conn_unkey(vs, c);
	rx_list_del(vs, c);
	free(c->buf);
	c->buf = NULL;
	c->buf_len = 0;
	c->state = CONN_FREE;
	c->gen++;
	vs->nconns--;
	metrics_inc(&vs->stats.conns_closed);
}

/* Ends the connection: the host fd closes now, the guest gets an RST. */
static void conn_kill(struct vsock *vs, struct vsock_conn *c)
{
	conn_close_fd(vs, c);
	free(c->buf);
	c->buf = NULL;
	c->buf_len = 0;
	c->killed = true;
	c->pending = P_RST;
}

/* An RST for a port pair without a connection (or a malformed packet). */
static void rst_enqueue(struct vsock *vs, uint32_t local_port, uint32_t peer_port)
{
	unsigned slot;

	if (vs->rst_count == VSOCK_RST_QUEUE) {
		metrics_inc(&vs->stats.rst_overflow);
		return;
	}
	slot = (vs->rst_first + vs->rst_count) % VSOCK_RST_QUEUE;
	vs->rst[slot].local_port = local_port;
	vs->rst[slot].peer_port = peer_port;
	vs->rst_count++;
}

/* Resets (local, peer): the connection if there is one, else a bare RST. */
static void reset_pair(struct vsock *vs, struct vsock_conn *c, uint32_t local_port,
		       uint32_t peer_port);

/* ---- flow control ---- */

static uint32_t peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->rx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Whether the connection may send the guest stream data. */
static bool can_send_data(const struct vsock_conn *c)
{
	return c->state == CONN_ESTABLISHED && !c->killed &&
	       !(c->peer_shut & VSOCK_SHUTDOWN_RCV) && !(c->local_shut & VSOCK_SHUTDOWN_SEND);
}

/* The guest's view of our free space has fallen below half: tell it. */
static void maybe_credit_update(struct vsock_conn *c)
{
	if (c->fwd_cnt - c->last_fwd_cnt >= VSOCK_CONN_BUF / 2)
		c->pending |= P_CREDIT_UPDATE;
}

static uint32_t conn_interest(const struct vsock_conn *c)
{
	uint32_t ev = 0;

	if (c->fd < 0 || c->killed)
		return 0;
	switch (c->state) {
	case CONN_HANDSHAKE:
		return EPOLLIN;
	case CONN_ESTABLISHED:
		if (c->host_hup)
			return 0; /* EPOLLHUP would fire forever */
		if (!c->readable && can_send_data(c) && peer_credit(c) > 0)
			ev |= EPOLLIN;
		if (c->buf_len)
			ev |= EPOLLOUT;
		return ev;
	default:
		return 0;
	}
}

static bool conn_wants_rx(const struct vsock_conn *c)
{
	return c->pending || (c->readable && can_send_data(c) && peer_credit(c) > 0);
}

/* After any change: the watched events and the rx list follow the state. */
static void conn_update(struct vsock *vs, struct vsock_conn *c)
{
	uint32_t want;

	if (c->state == CONN_FREE)
		return;
	if (c->readable && can_send_data(c) && peer_credit(c) == 0) {
		if (!c->credit_requested)
			c->pending |= P_CREDIT_REQUEST;
	} else {
		c->pending &= ~P_CREDIT_REQUEST; /* credit came, or nothing to send */
	}
	want = conn_interest(c);
	if (want != c->watched && c->fd >= 0) {
		vs->ops->watch(vs->opaque, c->fd, want, conn_tag(vs, c));
		c->watched = want;
	}
	if (conn_wants_rx(c))
		rx_list_add(vs, c);
	else
		rx_list_del(vs, c);
}

static void reset_pair(struct vsock *vs, struct vsock_conn *c, uint32_t local_port,
		       uint32_t peer_port)
{
	if (c) {
		if (!c->killed)
			conn_kill(vs, c);
		conn_update(vs, c);
	} else {
		rst_enqueue(vs, local_port, peer_port);
	}
}

/* Once the guest's bytes are all out: pass on its shutdown. */
static void after_drain(struct vsock *vs, struct vsock_conn *c)
{
	if (c->buf_len || c->killed)
		return;
	if ((c->peer_shut & VSOCK_SHUTDOWN_SEND) && !c->shut_wr_done && c->fd >= 0) {
		vs->ops->shutdown_wr(vs->opaque, c->fd);
		c->shut_wr_done = true;
	}
	/* Both directions shut by the guest: the connection ends with our RST. */
	if ((c->peer_shut & (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) ==
	    (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND))
		conn_kill(vs, c);
}

/* Writes the ring to the host fd as far as it goes. */
static void conn_flush(struct vsock *vs, struct vsock_conn *c)
{
	while (c->buf_len) {
		uint32_t chunk = VSOCK_CONN_BUF - c->buf_head;
		ssize_t n;

		if (chunk > c->buf_len)
			chunk = c->buf_len;
		n = vs->ops->send(vs->opaque, c->fd, c->buf + c->buf_head, chunk);
		if (n == -EAGAIN || n == 0)
			break;
		if (n < 0 || (size_t)n > chunk) {
			conn_kill(vs, c);
			return;
		}
		c->buf_head = (c->buf_head + (uint32_t)n) % VSOCK_CONN_BUF;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
		metrics_add(&vs->stats.tx_bytes, (uint64_t)n);
	}
	if (!c->buf_len) {
		free(c->buf);
		c->buf = NULL;
		c->buf_head = 0;
	}
	maybe_credit_update(c);
	after_drain(vs, c);
}

/* Guest payload for the host fd: straight through, or into the ring. */
static void conn_forward(struct vsock *vs, struct vsock_conn *c, const uint8_t *data,
			 uint32_t len)
{
	if (!c->buf_len) {
		ssize_t n = vs->ops->send(vs->opaque, c->fd, data, len);

		if (n == -EAGAIN)
			n = 0;
		if (n < 0 || (size_t)n > len) {
			conn_kill(vs, c);
			return;
		}
		c->fwd_cnt += (uint32_t)n;
		metrics_add(&vs->stats.tx_bytes, (uint64_t)n);
		data += n;
		len -= (uint32_t)n;
	}
	if (len) {
		uint32_t tail;

		if (len > VSOCK_CONN_BUF - c->buf_len) {
			/* The guest sent past the credit we gave it. */
			metrics_inc(&vs->stats.credit_violations);
			conn_kill(vs, c);
			return;
		}
		if (!c->buf) {
			c->buf = malloc(VSOCK_CONN_BUF);
			if (!c->buf) {
				conn_kill(vs, c);
				return;
			}
			c->buf_head = 0;
		}
		tail = (c->buf_head + c->buf_len) % VSOCK_CONN_BUF;
		for (uint32_t left = len; left;) {
			uint32_t chunk = VSOCK_CONN_BUF - tail < left ? VSOCK_CONN_BUF - tail : left;

			memcpy(c->buf + tail, data, chunk);
			data += chunk;
			left -= chunk;
			tail = (tail + chunk) % VSOCK_CONN_BUF;
		}
		c->buf_len += len;
	}
	maybe_credit_update(c);
}

/* ---- packets from the guest ---- */

static int guest_request(struct vsock *vs, const struct vsock_hdr *h)
{
	struct vsock_conn *c;
	int fd;

	if (vs->nconns >= VSOCK_MAX_CONNS) {
		metrics_inc(&vs->stats.refused);
		rst_enqueue(vs, h->dst_port, h->src_port);
		return 0;
	}
	fd = vs->ops->connect(vs->opaque, h->dst_port);
	if (fd < 0) {
		metrics_inc(&vs->stats.refused);
		rst_enqueue(vs, h->dst_port, h->src_port);
		return 0;
	}
	c = conn_alloc(vs, fd, CONN_PEER_INIT);
	conn_set_key(vs, c, h->dst_port, h->src_port);
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->pending = P_RESPONSE;
	conn_update(vs, c);
	return 0;
}

static void guest_response(struct vsock *vs, struct vsock_conn *c)
{
	char msg[24];
	int n;
	ssize_t w;

	if (c->state != CONN_HOST_INIT) {
		metrics_inc(&vs->stats.dropped);
		return;
	}
	c->state = CONN_ESTABLISHED;
	n = snprintf(msg, sizeof(msg), "OK %u\n", c->local_port);
	/* A fresh socket takes a dozen bytes, or something is badly wrong. */
	w = vs->ops->send(vs->opaque, c->fd, msg, (size_t)n);
	if (w != n)
		conn_kill(vs, c);
}

static void guest_shutdown(struct vsock *vs, struct vsock_conn *c, uint32_t flags)
{
	if (c->state != CONN_ESTABLISHED) {
		metrics_inc(&vs->stats.dropped);
		return;
	}
	c->peer_shut |= flags & (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND);
	after_drain(vs, c);
}

static bool hdr_malformed(const struct vsock_hdr *h, size_t pkt_len)
{
	if (h->type != VSOCK_TYPE_STREAM)
		return true;
	if (h->op < VSOCK_OP_REQUEST || h->op > VSOCK_OP_CREDIT_REQUEST)
		return true;
	if (h->len > VSOCK_MAX_PKT_LEN || h->len > pkt_len - VSOCK_HDR_SIZE)
		return true;
	return h->op != VSOCK_OP_RW && h->len != 0;
}

int vsock_tx(struct vsock *vs, const void *pkt, size_t pkt_len)
{
	const uint8_t *payload = (const uint8_t *)pkt + VSOCK_HDR_SIZE;
	struct vsock_conn *c;
	struct vsock_hdr h;

	metrics_inc(&vs->stats.tx_packets);
	if (pkt_len < VSOCK_HDR_SIZE) {
		metrics_inc(&vs->stats.malformed);
		return -EINVAL;
	}
	vsock_hdr_decode(pkt, &h);
	/* Misaddressed: no RST, there is nobody sensible to send it to. */
	if (h.src_cid != vs->guest_cid || h.dst_cid != VSOCK_HOST_CID) {
		metrics_inc(&vs->stats.malformed);
		return -EINVAL;
	}
	c = conn_lookup(vs, h.dst_port, h.src_port);
	if (hdr_malformed(&h, pkt_len)) {
		metrics_inc(&vs->stats.malformed);
		if (h.op == VSOCK_OP_RST) {
			if (c)
				conn_free(vs, c);
		} else {
			reset_pair(vs, c, h.dst_port, h.src_port);
		}
		return -EINVAL;
	}
	if (!c) {
		if (h.op == VSOCK_OP_REQUEST)
			return guest_request(vs, &h);
		/* Nothing to route to: say so, but never answer an RST. */
		if (h.op != VSOCK_OP_RST) {
			metrics_inc(&vs->stats.dropped);
			rst_enqueue(vs, h.dst_port, h.src_port);
		}
		return 0;
	}
	if (h.op == VSOCK_OP_RST) {
		conn_free(vs, c);
		return 0;
	}
	if (c->killed) {
		metrics_inc(&vs->stats.dropped);
		return 0;
	}
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	c->credit_requested = false;
	switch (h.op) {
	case VSOCK_OP_REQUEST:
		metrics_inc(&vs->stats.dropped); /* the pair is already connected */
		break;
	case VSOCK_OP_RESPONSE:
		guest_response(vs, c);
		break;
	case VSOCK_OP_RW:
		if (c->state != CONN_ESTABLISHED || (c->peer_shut & VSOCK_SHUTDOWN_SEND)) {
			metrics_inc(&vs->stats.dropped);
			break;
		}
		if (h.len)
			conn_forward(vs, c, payload, h.len);
		break;
	case VSOCK_OP_SHUTDOWN:
		guest_shutdown(vs, c, h.flags);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break; /* the credit fields were all it carried */
	case VSOCK_OP_CREDIT_REQUEST:
		c->pending |= P_CREDIT_UPDATE;
		break;
	default:
		break;
	}
	conn_update(vs, c);
	return 0;
}

/* ---- packets to the guest ---- */

bool vsock_rx_pending(const struct vsock *vs)
{
	return vs->rst_count || vs->rx_head != NIL;
}

static void hdr_init(const struct vsock *vs, struct vsock_hdr *h, uint32_t local_port,
		     uint32_t peer_port)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = vs->guest_cid;
	h->src_port = local_port;
	h->dst_port = peer_port;
	h->type = VSOCK_TYPE_STREAM;
}

/* Reads host data (or its end) for the guest; -EAGAIN when there was none. */
static int conn_rx_data(struct vsock *vs, struct vsock_conn *c, struct vsock_hdr *h,
			void *payload, uint32_t room)
{
	uint32_t max = peer_credit(c);
	ssize_t n;

	if (max > room)
		max = room;
	if (max > VSOCK_MAX_PKT_LEN)
		max = VSOCK_MAX_PKT_LEN;
	if (!max)
		return -EAGAIN;
	n = vs->ops->recv(vs->opaque, c->fd, payload, max, false);
	if (n == -EAGAIN) {
		c->readable = false;
		return -EAGAIN;
	}
	if (n < 0 || (size_t)n > max) {
		conn_kill(vs, c);
		return -EAGAIN; /* the RST goes out next */
	}
	if (n == 0) {
		/* End of the host stream: the guest's reader sees EOF. */
		c->readable = false;
		c->local_shut |= VSOCK_SHUTDOWN_SEND;
		if (c->host_hup)
			c->local_shut |= VSOCK_SHUTDOWN_RCV;
		c->pending &= ~P_SHUTDOWN;
		h->op = VSOCK_OP_SHUTDOWN;
		h->flags = c->local_shut;
		return 0;
	}
	h->op = VSOCK_OP_RW;
	h->len = (uint32_t)n;
	c->rx_cnt += (uint32_t)n;
	metrics_add(&vs->stats.rx_bytes, (uint64_t)n);
	return (int)n;
}

/* The most urgent packet the connection owes; -EAGAIN when none. */
static int conn_rx(struct vsock *vs, struct vsock_conn *c, struct vsock_hdr *h, void *payload,
		   uint32_t room)
{
	int n;

	hdr_init(vs, h, c->local_port, c->peer_port);
	h->buf_alloc = VSOCK_CONN_BUF;
	h->fwd_cnt = c->fwd_cnt;
	if (c->pending & P_RST) {
		h->op = VSOCK_OP_RST;
		h->buf_alloc = h->fwd_cnt = 0;
		conn_free(vs, c);
		return 0;
	}
	if (c->pending & P_RESPONSE) {
		c->pending &= ~P_RESPONSE;
		c->state = CONN_ESTABLISHED;
		h->op = VSOCK_OP_RESPONSE;
		goto sent;
	}
	if (c->pending & P_REQUEST) {
		c->pending &= ~P_REQUEST;
		h->op = VSOCK_OP_REQUEST;
		goto sent;
	}
	if (c->readable && can_send_data(c)) {
		n = conn_rx_data(vs, c, h, payload, room);
		if (c->killed)
			return conn_rx(vs, c, h, payload, room);
		if (n >= 0) {
			c->last_fwd_cnt = c->fwd_cnt;
			return n;
		}
	}
	if (c->pending & P_SHUTDOWN) {
		c->pending &= ~P_SHUTDOWN;
		h->op = VSOCK_OP_SHUTDOWN;
		h->flags = c->local_shut;
		goto sent;
	}
	if (c->pending & P_CREDIT_REQUEST) {
		c->pending &= ~P_CREDIT_REQUEST;
		c->credit_requested = true;
		h->op = VSOCK_OP_CREDIT_REQUEST;
		goto sent;
	}
	if (c->pending & P_CREDIT_UPDATE) {
		c->pending &= ~P_CREDIT_UPDATE;
		h->op = VSOCK_OP_CREDIT_UPDATE;
		goto sent;
	}
	return -EAGAIN;
sent:
	c->last_fwd_cnt = c->fwd_cnt;
	return 0;
}

int vsock_rx(struct vsock *vs, struct vsock_hdr *h, void *payload, uint32_t room)
{
	/* Each connection is visited at most once per call. */
	for (unsigned iter = 0; iter <= VSOCK_MAX_CONNS; iter++) {
		struct vsock_conn *c;
		int n;

		if (vs->rst_count) {
			hdr_init(vs, h, vs->rst[vs->rst_first].local_port,
				 vs->rst[vs->rst_first].peer_port);
			h->op = VSOCK_OP_RST;
			vs->rst_first = (vs->rst_first + 1) % VSOCK_RST_QUEUE;
			vs->rst_count--;
			metrics_inc(&vs->stats.rx_packets);
			return 0;
		}
		if (vs->rx_head == NIL)
			return -EAGAIN;
		c = &vs->conns[vs->rx_head];
		rx_list_del(vs, c);
		n = conn_rx(vs, c, h, payload, room);
		/* Still live: back on the list's tail if it has more to say. */
		if (c->state != CONN_FREE)
			conn_update(vs, c);
		if (n >= 0) {
			metrics_inc(&vs->stats.rx_packets);
			return n;
		}
	}
	return -EAGAIN;
}

/* ---- the host side ---- */

static uint32_t alloc_local_port(struct vsock *vs, uint32_t peer_port)
{
	uint32_t p = vs->next_local_port;

	/* At most VSOCK_MAX_CONNS ports can be taken: this ends. */
	while (conn_lookup(vs, p, peer_port))
		p = p + 1 >= (1u << 31) ? VSOCK_LOCAL_PORT_BASE : p + 1;
	vs->next_local_port = p + 1 >= (1u << 31) ? VSOCK_LOCAL_PORT_BASE : p + 1;
	return p;
}

int vsock_host_accept(struct vsock *vs, int fd)
{
	struct vsock_conn *c;

	if (vs->nconns >= VSOCK_MAX_CONNS) {
		metrics_inc(&vs->stats.refused);
		return -EBUSY;
	}
	c = conn_alloc(vs, fd, CONN_HANDSHAKE);
	conn_update(vs, c);
	return 0;
}

/* Reads the "CONNECT <port>\n" line without taking any byte past it. */
static void conn_handshake(struct vsock *vs, struct vsock_conn *c)
{
	char peek[VSOCK_CONNECT_LINE_MAX];
	uint32_t room = VSOCK_CONNECT_LINE_MAX - c->line_len, port;
	const char *nl;
	size_t take;
	ssize_t n;

	/* Each round takes at least one byte of the line, or ends. */
	for (;;) {
		n = vs->ops->recv(vs->opaque, c->fd, peek, room, true);
		if (n == -EAGAIN)
			return;
		if (n <= 0 || (size_t)n > room)
			goto refuse; /* closed before (or instead of) a command */
		nl = memchr(peek, '\n', (size_t)n);
		take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
		if (vs->ops->recv(vs->opaque, c->fd, c->line + c->line_len, take, false) !=
		    (ssize_t)take)
			goto refuse;
		c->line_len += (uint32_t)take;
		room -= (uint32_t)take;
		if (nl)
			break;
		if (!room)
			goto refuse; /* no line end in sight */
	}
	if (vsock_parse_connect(c->line, c->line_len, &port))
		goto refuse;
	c->state = CONN_HOST_INIT;
	conn_set_key(vs, c, alloc_local_port(vs, port), port);
	c->pending = P_REQUEST;
	conn_update(vs, c);
	return;
refuse:
	metrics_inc(&vs->stats.refused);
	conn_free(vs, c);
}

void vsock_host_event(struct vsock *vs, uint64_t tag, uint32_t events)
{
	uint32_t slot = (uint32_t)tag;
	struct vsock_conn *c;

	if (slot == 0 || slot > VSOCK_MAX_CONNS)
		return;
	c = &vs->conns[slot - 1];
	if (c->state == CONN_FREE || c->gen != (uint32_t)(tag >> 32) || c->fd < 0 || c->killed)
		return; /* stale: the connection is gone */
	if (c->state == CONN_HANDSHAKE) {
		conn_handshake(vs, c);
		return;
	}
	if (c->state != CONN_ESTABLISHED)
		return;
	if (events & (EPOLLHUP | EPOLLERR))
		c->host_hup = true;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (c->buf_len && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		conn_flush(vs, c); /* a dead host end fails here: RST */
	/* The host end is gone after its EOF: the guest may stop sending too. */
	if (!c->killed && c->host_hup && (c->local_shut & VSOCK_SHUTDOWN_SEND) &&
	    !(c->local_shut & VSOCK_SHUTDOWN_RCV)) {
		c->local_shut |= VSOCK_SHUTDOWN_RCV;
		c->pending |= P_SHUTDOWN;
	}
	conn_update(vs, c);
}

/* ---- lifetime ---- */

struct vsock *vsock_new(uint64_t guest_cid, const struct vsock_host_ops *ops, void *opaque)
{
	struct vsock *vs = calloc(1, sizeof(*vs));

	if (!vs)
		return NULL;
	vs->guest_cid = guest_cid;
	vs->ops = ops;
	vs->opaque = opaque;
	vs->next_local_port = VSOCK_LOCAL_PORT_BASE;
	vs->rx_head = vs->rx_tail = NIL;
	for (unsigned i = 0; i < HASH_SIZE; i++)
		vs->hash[i] = NIL;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		vs->conns[i].gen = 1;
	return vs;
}

void vsock_reset(struct vsock *vs)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (vs->conns[i].state != CONN_FREE)
			conn_free(vs, &vs->conns[i]);
	vs->rst_first = vs->rst_count = 0;
}

void vsock_free(struct vsock *vs)
{
	if (!vs)
		return;
	vsock_reset(vs);
	free(vs);
}

const struct vsock_stats *vsock_stats(const struct vsock *vs)
{
	return &vs->stats;
}

unsigned vsock_conn_count(const struct vsock *vs)
{
	return vs->nconns;
}

uint64_t vsock_buffered(const struct vsock *vs)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (vs->conns[i].state != CONN_FREE)
			total += vs->conns[i].buf_len;
	return total;
}
