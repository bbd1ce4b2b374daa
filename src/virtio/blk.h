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

/* ---- the device ---- */

struct virtio_dev;
struct vm_disk_config;
struct rate_limiter_config;

/* The "block_<id>" metrics group. */
struct virtio_blk_metrics {
	uint64_t read_bytes, write_bytes;
	uint64_t read_count, write_count, flush_count, get_id_count;
	uint64_t invalid_reqs;		 /* malformed or refused requests */
	uint64_t io_errors;		 /* host I/O that failed */
	uint64_t queue_events;		 /* queue notifications handled */
	uint64_t rate_limiter_throttled; /* times the rate limiter paused the queue */
	uint64_t update_count, update_fails; /* vm_update_disk */
};

#define VIRTIO_BLK_NAME_MAX 256

/* A disk's id: cfg->id, or the image's file name. */
const char *virtio_blk_disk_id(const struct vm_disk_config *cfg);

/*
 * The device model without KVM or threads (for unit tests; the device
 * file uses them too): the ops table, and a state for it that opens the
 * image and registers the metrics group (NULL, logged, on failure; free
 * it with ops->destroy).
 */
extern const struct virtio_dev_ops virtio_blk_ops;
void *virtio_blk_alloc(const struct vm_disk_config *cfg);
const char *virtio_blk_name(struct virtio_dev *d);
const struct virtio_blk_metrics *virtio_blk_get_metrics(struct virtio_dev *d);

/*
 * vm_update_disk() for one device, callable from any thread (takes
 * d->lock): path (NULL: keep) is opened with the disk's read-only and
 * cache modes before the old image is closed, a changed capacity raises
 * the config-change interrupt; rl (NULL: keep) replaces the limits.
 * -errno with a message in err; nothing changes on failure.
 */
int virtio_blk_update(struct virtio_dev *d, const char *path,
		      const struct rate_limiter_config *rl, char *err, size_t errlen);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct virtio_dev),
 * section "virtio-blk.<disk id>" (or "virtio-blk.#<index>" when the id
 * does not fit a section name or is taken), version VIRTIO_BLK_STATE_VERSION:
 * the transport (virtio/mmio.h), u64 capacity in sectors, the rate
 * limiter. Requests complete synchronously under d->lock, so a paused
 * device holds none in flight. A restored image of another size is
 * announced to the guest as a config change on resume.
 */
#define VIRTIO_BLK_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops virtio_blk_state_ops;

#endif
