// SPDX-License-Identifier: Apache-2.0
/* The migration stream's records: framing, CRC, bounds and order (stream.h). */
#include "migration/stream.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/state.h"

void mig_put_u32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void mig_put_u64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t mig_get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

uint64_t mig_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t mig_rec_max_len(uint32_t type)
{
	switch (type) {
	case MIG_REC_HELLO:
		return MIG_HELLO_MAX;
	case MIG_REC_CONFIG:
		return MIG_CONFIG_MAX;
	case MIG_REC_PAGES:
		return MIG_PAGES_LEN_MAX;
	case MIG_REC_STATE:
		return MIG_STATE_MAX;
	case MIG_REC_ERROR:
		return MIG_ERROR_MAX;
	default:
		return 0;
	}
}

const char *mig_rec_name(uint32_t type)
{
	static const char *const names[] = { "?",    "HELLO", "CONFIG", "PAGES", "STATE",
					     "DONE", "READY", "GO",	"ERROR" };

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

static bool known_type(uint32_t type)
{
	return type >= MIG_REC_HELLO && type <= MIG_REC_ERROR;
}

void mig_reader_init_fd(struct mig_reader *r, int fd, int timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->timeout_ms = timeout_ms;
}

void mig_reader_init_mem(struct mig_reader *r, const void *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->mem = p;
	r->mem_len = len;
}

void mig_reader_free(struct mig_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Exactly n bytes. 0; -ECONNRESET at a clean end before any byte
 * (eof_ok) or a cut inside; -ETIMEDOUT; -ECANCELED; -errno.
 */
static int read_full(struct mig_reader *r, void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t got = 0;

	if (r->fd < 0) {
		if (r->mem_len - r->mem_pos < n) {
			r->mem_pos = r->mem_len;
			return -ECONNRESET;
		}
		memcpy(d, r->mem + r->mem_pos, n);
		r->mem_pos += n;
		return 0;
	}
	while (got < n) {
		int64_t deadline = now_ms() + r->timeout_ms;
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		ssize_t k;
		int pr;

		for (;;) {
			int64_t left = deadline - now_ms();

			if (r->cancel && *r->cancel)
				return -ECANCELED;
			if (left <= 0)
				return -ETIMEDOUT;
			/* Short waits, so that a cancel is seen. */
			pr = poll(&pfd, 1, left > 100 ? 100 : (int)left);
			if (pr > 0)
				break;
			if (pr < 0 && errno != EINTR)
				return -errno;
		}
		k = recv(r->fd, d + got, n - got, 0);
		if (k == 0)
			return -ECONNRESET;
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		got += (size_t)k;
	}
	return 0;
}

static int io_error(int ret, const char *what, char *err, size_t errlen)
{
	if (ret == -ECONNRESET)
		snprintf(err, errlen, "connection closed by the peer (%s)", what);
	else if (ret == -ETIMEDOUT)
		snprintf(err, errlen, "timed out waiting for the peer (%s)", what);
	else if (ret == -ECANCELED)
		snprintf(err, errlen, "cancelled");
	else
		snprintf(err, errlen, "reading the stream (%s): %s", what, strerror(-ret));
	return ret;
}

int mig_read_record(struct mig_reader *r, struct mig_rec *rec, char *err, size_t errlen)
{
	uint8_t hdr[MIG_HDR_LEN], tail[8];
	uint64_t crc, max;
	int ret;

	ret = read_full(r, hdr, sizeof(hdr));
	if (ret)
		return io_error(ret, "record header", err, errlen);
	rec->type = mig_get_u32(hdr);
	rec->flags = mig_get_u32(hdr + 4);
	rec->len = mig_get_u64(hdr + 8);
	rec->payload = NULL;
	if (!known_type(rec->type)) {
		snprintf(err, errlen, "bad stream: unknown record type %u", rec->type);
		return -EBADMSG;
	}
	if (rec->flags) {
		snprintf(err, errlen, "bad stream: %s record with unknown flags 0x%x",
			 mig_rec_name(rec->type), rec->flags);
		return -EBADMSG;
	}
	max = mig_rec_max_len(rec->type);
	if (rec->len > max) {
		snprintf(err, errlen, "bad stream: %s record of %llu bytes (at most %llu)",
			 mig_rec_name(rec->type), (unsigned long long)rec->len,
			 (unsigned long long)max);
		return -EBADMSG;
	}
	if (rec->len > r->cap) {
		uint8_t *nb = realloc(r->buf, (size_t)rec->len);

		if (!nb) {
			snprintf(err, errlen, "out of memory for a %s record", mig_rec_name(rec->type));
			return -ENOMEM;
		}
		r->buf = nb;
		r->cap = (size_t)rec->len;
	}
	if (rec->len) {
		ret = read_full(r, r->buf, (size_t)rec->len);
		if (ret)
			return io_error(ret, mig_rec_name(rec->type), err, errlen);
	}
	ret = read_full(r, tail, sizeof(tail));
	if (ret)
		return io_error(ret, mig_rec_name(rec->type), err, errlen);
	crc = state_crc64(hdr, sizeof(hdr), 0);
	if (rec->len)
		crc = state_crc64(r->buf, (size_t)rec->len, crc);
	if (crc != mig_get_u64(tail)) {
		snprintf(err, errlen, "bad stream: CRC mismatch in a %s record",
			 mig_rec_name(rec->type));
		return -EBADMSG;
	}
	rec->payload = r->buf;
	return 0;
}

static int send_full(int fd, const void *p, size_t n, int timeout_ms, const volatile int *cancel)
{
	const uint8_t *s = p;

	while (n) {
		int64_t deadline = now_ms() + timeout_ms;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t k;
		int pr;

		for (;;) {
			int64_t left = deadline - now_ms();

			if (cancel && *cancel)
				return -ECANCELED;
			if (left <= 0)
				return -ETIMEDOUT;
			pr = poll(&pfd, 1, left > 100 ? 100 : (int)left);
			if (pr > 0)
				break;
			if (pr < 0 && errno != EINTR)
				return -errno;
		}
		k = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int mig_send_record(int fd, uint32_t type, const void *payload, size_t len, int timeout_ms,
		    const volatile int *cancel)
{
	uint8_t hdr[MIG_HDR_LEN], tail[8];
	uint64_t crc;
	int ret;

	mig_put_u32(hdr, type);
	mig_put_u32(hdr + 4, 0);
	mig_put_u64(hdr + 8, len);
	crc = state_crc64(hdr, sizeof(hdr), 0);
	if (len)
		crc = state_crc64(payload, len, crc);
	mig_put_u64(tail, crc);
	ret = send_full(fd, hdr, sizeof(hdr), timeout_ms, cancel);
	if (!ret && len)
		ret = send_full(fd, payload, len, timeout_ms, cancel);
	if (!ret)
		ret = send_full(fd, tail, sizeof(tail), timeout_ms, cancel);
	return ret;
}

void mig_send_error(int fd, const char *msg)
{
	size_t n = strlen(msg);

	if (fd < 0)
		return;
	if (n > MIG_ERROR_MAX)
		n = MIG_ERROR_MAX;
	(void)mig_send_record(fd, MIG_REC_ERROR, msg, n, 500, NULL);
}

int mig_order_check(struct mig_order *o, uint32_t type, char *err, size_t errlen)
{
	static const char *const after[] = { "the start", "HELLO", "CONFIG", "STATE", "DONE" };
	int next = -1;

	switch (type) {
	case MIG_REC_HELLO:
		next = o->step == 0 ? 1 : -1;
		break;
	case MIG_REC_CONFIG:
		next = o->step == 1 ? 2 : -1;
		break;
	case MIG_REC_PAGES:
		next = o->step == 2 ? 2 : -1;
		break;
	case MIG_REC_STATE:
		next = o->step == 2 ? 3 : -1;
		break;
	case MIG_REC_DONE:
		next = o->step == 3 ? 4 : -1;
		break;
	default:
		break;
	}
	if (next < 0) {
		snprintf(err, errlen, "bad stream: unexpected %s record after %s",
			 mig_rec_name(type), after[o->step >= 0 && o->step <= 4 ? o->step : 0]);
		return -EBADMSG;
	}
	o->step = next;
	return 0;
}

size_t mig_hello_encode(const struct mig_hello *h, uint8_t *out, size_t cap)
{
	size_t n = strnlen(h->cpu_template, MIG_CPU_NAME_MAX - 1);

	if (cap < 28 + n)
		return 0;
	mig_put_u64(out, h->magic);
	mig_put_u32(out + 8, h->version);
	mig_put_u32(out + 12, h->page_size);
	mig_put_u64(out + 16, h->ram_size);
	mig_put_u32(out + 24, (uint32_t)n);
	memcpy(out + 28, h->cpu_template, n);
	return 28 + n;
}

int mig_hello_parse(const uint8_t *p, size_t len, struct mig_hello *h, char *err, size_t errlen)
{
	uint32_t n;

	memset(h, 0, sizeof(*h));
	if (len < 28) {
		snprintf(err, errlen, "bad stream: HELLO record of %zu bytes is too short", len);
		return -EBADMSG;
	}
	h->magic = mig_get_u64(p);
	h->version = mig_get_u32(p + 8);
	h->page_size = mig_get_u32(p + 12);
	h->ram_size = mig_get_u64(p + 16);
	n = mig_get_u32(p + 24);
	if (h->magic != MIG_MAGIC) {
		snprintf(err, errlen, "not an osprey migration stream (bad magic)");
		return -EBADMSG;
	}
	if (h->version != MIG_PROTO_VERSION) {
		snprintf(err, errlen, "migration protocol version %u, this osprey speaks %u",
			 h->version, MIG_PROTO_VERSION);
		return -EPROTO;
	}
	if (h->page_size != MIG_PAGE_SIZE) {
		snprintf(err, errlen, "page size %u, expected %u", h->page_size, MIG_PAGE_SIZE);
		return -EPROTO;
	}
	if (n >= MIG_CPU_NAME_MAX || len != 28 + (size_t)n || memchr(p + 28, 0, n)) {
		snprintf(err, errlen, "bad stream: malformed CPU template name in HELLO");
		return -EBADMSG;
	}
	memcpy(h->cpu_template, p + 28, n);
	h->cpu_template[n] = '\0';
	if (!h->ram_size || h->ram_size % MIG_PAGE_SIZE) {
		snprintf(err, errlen, "bad stream: RAM size %llu in HELLO",
			 (unsigned long long)h->ram_size);
		return -EBADMSG;
	}
	return 0;
}

int mig_pages_apply(const uint8_t *p, size_t len, uint8_t *ram, uint64_t ram_size,
		    uint64_t *npages, char *err, size_t errlen)
{
	uint32_t count;

	*npages = 0;
	if (len < 4) {
		snprintf(err, errlen, "bad stream: PAGES record of %zu bytes", len);
		return -EBADMSG;
	}
	count = mig_get_u32(p);
	if (count == 0 || count > MIG_PAGES_MAX ||
	    len != 4 + (size_t)count * (8 + MIG_PAGE_SIZE)) {
		snprintf(err, errlen, "bad stream: PAGES record of %zu bytes for %u pages", len,
			 count);
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t off = mig_get_u64(p + 4 + (size_t)i * (8 + MIG_PAGE_SIZE));

		if (off % MIG_PAGE_SIZE || off >= ram_size || ram_size - off < MIG_PAGE_SIZE) {
			snprintf(err, errlen,
				 "bad stream: page offset 0x%llx outside RAM (0x%llx bytes) or unaligned",
				 (unsigned long long)off, (unsigned long long)ram_size);
			return -EBADMSG;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = p + 4 + (size_t)i * (8 + MIG_PAGE_SIZE);

		memcpy(ram + mig_get_u64(e), e + 8, MIG_PAGE_SIZE);
	}
	*npages = count;
	return 0;
}
