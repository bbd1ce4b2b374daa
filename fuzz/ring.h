/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the ring-level fuzz targets (fuzz_virtq, fuzz_virtio_blk,
 * fuzz_virtio_net) share. Their input starts with a header whose bytes
 * 1..9 describe one split ring, the guest memory image follows it:
 *   1      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC (other bits: the target's)
 *   2..3   le16 starting index (last_avail = used_idx)
 *   4..5   le16 descriptor table address / 16
 *   6..7   le16 available ring address / 2
 *   8..9   le16 used ring address / 4
 * Byte 0 (the queue size) and the rest of the header are the target's.
 */
#ifndef OSPREY_FUZZ_RING_H
#define OSPREY_FUZZ_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virtio/queue.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Guest RAM: the input after its hdr-byte header from address 0, zeros after. */
static inline void fuzz_guest_image(struct guest_mem *mem, const uint8_t *data, size_t size,
				    size_t hdr)
{
	memset(mem->mapping, 0, mem->mapping_size);
	memcpy(mem->mapping, data + hdr,
	       size - hdr < mem->mapping_size ? size - hdr : mem->mapping_size);
}

/* The header's ring with qsize entries; virtq_init()'s result. */
static inline int fuzz_ring_init(struct virtq *q, const struct guest_mem *mem, uint16_t qsize,
				 const uint8_t *data)
{
	uint16_t start = rd16(data + 2);
	int ret = virtq_init(q, mem, qsize, (gpa_t)rd16(data + 4) * 16, (gpa_t)rd16(data + 6) * 2,
			     (gpa_t)rd16(data + 8) * 4, data[1] & 1, data[1] & 2);

	if (!ret)
		q->last_avail = q->used_idx = q->signalled_used = start;
	return ret;
}

#endif
