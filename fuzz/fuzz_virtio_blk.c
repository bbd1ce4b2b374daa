// SPDX-License-Identifier: Apache-2.0
/*
 * virtio-blk request parsing over a guest-controlled virtqueue. The input
 * is an 18-byte header and a guest memory image:
 *   0       queue size = 1 << (b % 9)  (1..256, the device's maximum)
 *   1       bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 read-only disk,
 *           bit 3 FLUSH offered
 *   2..3    le16 starting index (last_avail = used_idx)
 *   4..5    le16 descriptor table address / 16
 *   6..7    le16 available ring address / 2
 *   8..9    le16 used ring address / 4
 *   10..17  le64 disk capacity in sectors
 *   18..    copied to guest address 0 of a RAM_SIZE guest
 * Every chain popped goes through virtio_blk_parse(); its verdict is
 * checked against the rules (sector range with overflow, length, read-only,
 * flush, status byte = the last writable byte), then the request is
 * "executed" without a file: every data byte is read (OUT) or written
 * (IN, GET_ID), the status byte is written and the chain pushed back.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "ring.h"
#include "virtio/blk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (256 * 1024)
#define HDR 18

static struct guest_mem mem;
static struct virtq_elem elem;

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool in_guest(const void *p, size_t len)
{
	const uint8_t *b = p, *lo = mem.mapping, *hi = mem.mapping + mem.mapping_size;

	return b >= lo && b <= hi && len <= (size_t)(hi - b);
}

/* Every data segment lies in guest memory; returns the byte total. */
static uint64_t check_segs(const struct iovec *iov, unsigned n)
{
	uint64_t total = 0;

	if (n > VIRTQ_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < n; i++) {
		if (!in_guest(iov[i].iov_base, iov[i].iov_len))
			abort();
		total += iov[i].iov_len;
	}
	return total;
}

static void check_verdict(const struct virtio_blk_req *r, const struct virtq_elem *e,
			  uint8_t *want_status, uint64_t in_len, uint64_t out_len, uint64_t cap,
			  bool ro, bool flush)
{
	uint64_t end;

	if (r->status != want_status || (r->status && !in_guest(r->status, 1)))
		abort();
	if (!r->execute) {
		if (r->result != VIRTIO_BLK_S_IOERR && r->result != VIRTIO_BLK_S_UNSUPP)
			abort();
		return;
	}
	/* executed requests have a full header and a status byte */
	if (!r->status || out_len < 16)
		abort();
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (r->data_len % VIRTIO_BLK_SECTOR ||
		    __builtin_add_overflow(r->sector, r->data_len / VIRTIO_BLK_SECTOR, &end) ||
		    end > cap)
			abort();
		if (r->type == VIRTIO_BLK_T_OUT &&
		    (ro || r->data != e->out || r->data_len != out_len - 16))
			abort();
		if (r->type == VIRTIO_BLK_T_IN && (r->data != e->in || r->data_len != in_len - 1))
			abort();
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!flush)
			abort();
		break;
	case VIRTIO_BLK_T_GET_ID:
		if (r->data != e->in || r->data_len != in_len - 1)
			abort();
		break;
	default:
		abort();
	}
	if (check_segs(r->data, r->ndata) != r->data_len)
		abort();
}

/* What the device would do, without the file. Returns bytes written. */
static uint32_t fake_execute(const struct virtio_blk_req *r)
{
	static const char id[VIRTIO_BLK_ID_BYTES] = "fuzz-disk-0123456789";
	volatile uint8_t sink = 0;
	uint64_t n;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		for (unsigned i = 0; i < r->ndata; i++)
			memset(r->data[i].iov_base, 0x5a, r->data[i].iov_len);
		return (uint32_t)r->data_len;
	case VIRTIO_BLK_T_OUT:
		for (unsigned i = 0; i < r->ndata; i++) {
			const volatile uint8_t *b = r->data[i].iov_base;

			for (size_t j = 0; j < r->data[i].iov_len; j++)
				sink ^= b[j];
		}
		(void)sink;
		return 0;
	case VIRTIO_BLK_T_GET_ID:
		n = iov_from_buf(r->data, r->ndata, 0, id,
				 r->data_len < sizeof(id) ? r->data_len : sizeof(id));
		if (n != (r->data_len < sizeof(id) ? r->data_len : sizeof(id)))
			abort();
		return (uint32_t)n;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq q;
	struct virtio_blk_req req;
	uint64_t cap;
	uint16_t qsize;
	bool ro, flush;
	unsigned limit;

	if (size < HDR)
		return 0;
	if (!mem.mapping) {
		log_set_level(LOG_LEVEL_ERROR);
		if (guest_mem_init(&mem, RAM_SIZE))
			abort();
	}
	fuzz_guest_image(&mem, data, size, HDR);

	qsize = (uint16_t)(1u << (data[0] % 9));
	ro = data[1] & 4;
	flush = data[1] & 8;
	cap = rd64(data + 10);
	if (fuzz_ring_init(&q, &mem, qsize, data))
		return 0;

	limit = 2u * qsize + 8;
	for (unsigned iter = 0; iter < limit; iter++) {
		uint8_t *want_status = NULL;
		uint64_t in_len, out_len;
		uint32_t len = 0;
		int ret = virtq_pop(&q, &elem);

		if (ret == 0) {
			if (!virtq_rearm(&q))
				break;
			continue;
		}
		if (ret < 0) {
			if (ret != -EIO || !q.broken)
				abort();
			break;
		}
		/* the last byte of the last non-empty writable segment */
		for (unsigned i = elem.nin; i-- > 0;) {
			if (elem.in[i].iov_len) {
				want_status = (uint8_t *)elem.in[i].iov_base + elem.in[i].iov_len - 1;
				break;
			}
		}
		in_len = elem.in_len;
		out_len = elem.out_len;
		virtio_blk_parse(&elem, cap, ro, flush, &req);
		check_verdict(&req, &elem, want_status, in_len, out_len, cap, ro, flush);
		if (req.execute)
			len = fake_execute(&req);
		if (req.status) {
			*req.status = req.execute ? VIRTIO_BLK_S_OK : req.result;
			len++;
		}
		if (virtq_push(&q, elem.head, len) != 0)
			abort();
	}
	virtq_needs_interrupt(&q);
	virtq_reset(&q);
	return 0;
}
