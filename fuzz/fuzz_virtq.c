// SPDX-License-Identifier: Apache-2.0
/*
 * Split virtqueue walker against a guest that controls every ring byte.
 * The input is a 10-byte header and a guest memory image:
 *   0      queue size = 1 << (b % 13)  (1..4096)
 *   1      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 fill writable
 *          buffers with 0xa5 (else rewrite their bytes unchanged), bit 3
 *          re-enable notifications and re-check when the ring is empty
 *   2..3   le16 starting index (last_avail = used_idx)
 *   4..5   le16 descriptor table address / 16
 *   6..7   le16 available ring address / 2
 *   8..9   le16 used ring address / 4
 *   10..   copied to guest address 0 of a RAM_SIZE guest
 * The rings may overlap each other and the buffers, as a guest may make
 * them. Every chain popped is checked (segments inside guest RAM, totals
 * consistent, caps respected), every segment byte is read and every
 * writable byte written, and the chain is pushed back.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "virtio/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (256 * 1024)
#define HDR 10

static struct guest_mem mem;
static struct virtq_elem elem;
static uint8_t scratch[64 * 1024];

/* Every segment lies inside the guest mapping; returns the byte total. */
static uint64_t check_segs(const struct iovec *iov, unsigned n)
{
	const uint8_t *lo = mem.mapping, *hi = mem.mapping + mem.mapping_size;
	uint64_t total = 0;

	if (n > VIRTQ_MAX_SEGS)
		abort();
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *b = iov[i].iov_base;

		if (iov[i].iov_len == 0 || b < lo || b > hi || iov[i].iov_len > (size_t)(hi - b))
			abort();
		total += iov[i].iov_len;
	}
	return total;
}

static void touch(const struct virtq_elem *e, bool fill)
{
	volatile uint8_t sink = 0;

	for (unsigned i = 0; i < e->nout; i++) {
		const volatile uint8_t *b = e->out[i].iov_base;

		for (size_t j = 0; j < e->out[i].iov_len; j++)
			sink ^= b[j];
	}
	for (unsigned i = 0; i < e->nin; i++) {
		volatile uint8_t *b = e->in[i].iov_base;

		for (size_t j = 0; j < e->in[i].iov_len; j++)
			b[j] = fill ? 0xa5 : b[j];
	}
	(void)sink;
}

static void check_copies(const struct virtq_elem *e)
{
	uint64_t want = e->out_len < sizeof(scratch) ? e->out_len : sizeof(scratch);

	if (iov_to_buf(e->out, e->nout, 0, scratch, sizeof(scratch)) != want)
		abort();
	if (e->out_len && iov_to_buf(e->out, e->nout, e->out_len - 1, scratch, 8) != 1)
		abort();
	if (iov_to_buf(e->out, e->nout, e->out_len, scratch, 8) != 0)
		abort();
	/* write back what is already there, skipping the first byte */
	want = e->in_len ? e->in_len - 1 : 0;
	if (want > sizeof(scratch))
		want = sizeof(scratch);
	if (iov_to_buf(e->in, e->nin, 1, scratch, want) != want ||
	    iov_from_buf(e->in, e->nin, 1, scratch, want) != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq q;
	uint16_t qsize;
	bool fill, renotify;
	unsigned limit;

	if (size < HDR)
		return 0;
	if (!mem.mapping && guest_mem_init(&mem, RAM_SIZE))
		abort();
	fuzz_guest_image(&mem, data, size, HDR);

	qsize = (uint16_t)(1u << (data[0] % 13));
	fill = data[1] & 4;
	renotify = data[1] & 8;
	if (fuzz_ring_init(&q, &mem, qsize, data))
		return 0;

	/* Writes into the rings can keep moving avail idx: bound the loop. */
	limit = 2u * qsize + 8;
	for (unsigned iter = 0; iter < limit; iter++) {
		int ret = virtq_pop(&q, &elem);

		if (ret == 0) {
			if (!renotify)
				break;
			if (!virtq_rearm(&q))
				break;
			continue;
		}
		if (ret < 0) {
			if (ret != -EIO || !q.broken || virtq_pop(&q, &elem) != -EIO ||
			    virtq_push(&q, 0, 0) != -EIO || virtq_has_work(&q) ||
			    virtq_needs_interrupt(&q))
				abort();
			break;
		}
		if (ret != 1 || elem.head >= qsize || check_segs(elem.out, elem.nout) != elem.out_len ||
		    check_segs(elem.in, elem.nin) != elem.in_len ||
		    elem.out_len + elem.in_len > UINT32_MAX)
			abort();
		touch(&elem, fill);
		check_copies(&elem);
		if (virtq_push(&q, elem.head, (uint32_t)elem.in_len) != 0)
			abort();
		virtq_needs_interrupt(&q);
	}
	virtq_reset(&q);
	return 0;
}
