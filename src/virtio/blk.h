/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk (virtio 1.x, section 5.2) over a raw image file.
 *
 * Request parsing is separate from I/O so it can be unit tested and
 * fuzzed: virtio_blk_parse() checks the header, the data length (a
 * multiple of 512), the sector range against the capacity with overflow
 * checks, the read-only flag and the status byte, and says what to do.
 */
#ifndef OSPREY_VIRTIO_BLK_H
#define OSPREY_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/queue.h"

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SECTOR 512

struct virtio_blk_req {
	uint32_t type;
	uint64_t sector;
	/* Data segments: for IN/GET_ID writable ones, for OUT readable ones. */
	struct iovec *data;
	unsigned ndata;
	uint64_t data_len;
	uint8_t *status; /* the last writable byte; NULL when there is none */
	uint8_t result;	 /* status to report when parsing already decided */
	bool execute;	 /* true: do the I/O; false: just report `result` */
};

/*
 * Parses one chain. The iovec arrays of elem may be trimmed in place (the
 * header and status byte are taken off). Never fails: malformed requests
 * get execute = false and an error status (or no status at all when the
 * chain has no writable byte; then status is NULL).
 */
void virtio_blk_parse(struct virtq_elem *elem, uint64_t capacity_sectors, bool read_only,
		      bool flush_supported, struct virtio_blk_req *req);

#endif
