/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-balloon (virtio 1.x, section 5.5), the traditional balloon.
 *
 * The host sets a target (config num_pages, in 4 KiB pages); the guest
 * gives pages up through inflateq (an array of le32 page frame numbers
 * per request) and reports how many it holds in config `actual`. Every
 * inflated page is checked against guest RAM (bad PFNs are counted and
 * skipped) and returned to the host with madvise(MADV_DONTNEED), so the
 * host's RSS drops; deflateq only needs accounting, the pages refault on
 * the guest's next access. With a statistics interval the device offers
 * VIRTIO_BALLOON_F_STATS_VQ, keeps the latest statistics the guest sent
 * and asks for new ones (by returning the guest's buffer) every interval.
 */
#ifndef OSPREY_VIRTIO_BALLOON_H
#define OSPREY_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/device_config.h"
#include "hw/memory.h"
#include "virtio/mmio.h"

#define VIRTIO_ID_BALLOON 5

#define VIRTIO_BALLOON_F_MUST_TELL_HOST 0
#define VIRTIO_BALLOON_F_STATS_VQ 1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM 2

#define VIRTIO_BALLOON_PFN_SHIFT 12
#define VIRTIO_BALLOON_PAGE_SIZE (1ULL << VIRTIO_BALLOON_PFN_SHIFT)

#define VIRTIO_BALLOON_Q_INFLATE 0
#define VIRTIO_BALLOON_Q_DEFLATE 1
#define VIRTIO_BALLOON_Q_STATS 2

/* Most PFNs one request may carry (Linux sends up to 256); the rest are ignored. */
#define VIRTIO_BALLOON_MAX_PFNS 1024
/* Most statistics entries read from one stats buffer. */
#define VIRTIO_BALLOON_MAX_STAT_ENTRIES 64

/* Statistics tags (virtio 1.x, 5.5.6.3). */
enum {
	VIRTIO_BALLOON_S_SWAP_IN = 0,  /* bytes swapped in */
	VIRTIO_BALLOON_S_SWAP_OUT = 1, /* bytes swapped out */
	VIRTIO_BALLOON_S_MAJFLT = 2,   /* major faults */
	VIRTIO_BALLOON_S_MINFLT = 3,   /* minor faults */
	VIRTIO_BALLOON_S_MEMFREE = 4,  /* free memory, bytes */
	VIRTIO_BALLOON_S_MEMTOT = 5,   /* total memory, bytes */
	VIRTIO_BALLOON_S_AVAIL = 6,    /* available memory (MemAvailable), bytes */
	VIRTIO_BALLOON_S_CACHES = 7,   /* disk caches, bytes */
	VIRTIO_BALLOON_S_HTLB_PGALLOC = 8,
	VIRTIO_BALLOON_S_HTLB_PGFAIL = 9,
	VIRTIO_BALLOON_S_NR = 10, /* tags at or above this are ignored */
};

/* The latest guest statistics and the device's own counters. */
struct virtio_balloon_stats {
	uint32_t target_pages; /* config num_pages */
	uint32_t actual_pages; /* config actual, as the guest reports it */
	uint64_t inflated_pages;     /* pages the device returned to the host, net of deflates */
	uint64_t inflate_reqs, deflate_reqs;
	uint64_t bad_pfns;	     /* PFNs outside guest RAM (skipped) */
	uint64_t dropped_pfns;	     /* PFNs past VIRTIO_BALLOON_MAX_PFNS in a request */
	uint32_t stats_valid;	     /* bit n: tag n was reported */
	uint64_t stats[VIRTIO_BALLOON_S_NR];
	uint64_t stats_updates;	     /* statistics buffers received */
	double stats_ms;	     /* when the last one arrived (log_ms_since_start) */
};

/*
 * The runtime control, on the machine's balloon device d (NULL: none, then
 * both return -ENODEV).
 * set_target: bytes (rounded down to 4 KiB pages), at most guest RAM
 * (-EINVAL); raises the config-change interrupt when it changes.
 */
int virtio_balloon_set_target(struct virtio_dev *d, uint64_t bytes);
int virtio_balloon_get_stats(struct virtio_dev *d, struct virtio_balloon_stats *out);

/* ---- pieces exposed for unit tests and fuzzing ---- */

/* Called for each run of contiguous valid pages: host address and length. */
typedef void (*virtio_balloon_range_fn)(void *opaque, void *host, uint64_t len);

struct virtio_balloon_pfns {
	uint64_t good;	  /* PFNs inside guest RAM */
	uint64_t bad;	  /* PFNs outside it */
	uint64_t dropped; /* PFNs past VIRTIO_BALLOON_MAX_PFNS */
	uint64_t ranges;  /* calls of fn */
};

/*
 * Reads the request's device-readable bytes as le32 PFNs (a trailing
 * partial PFN is ignored), checks each 4 KiB page against guest RAM and
 * calls fn (may be NULL) for each run of pages contiguous in host memory.
 * The PFNs are copied out of guest memory before fn runs.
 */
void virtio_balloon_parse_pfns(const struct guest_mem *mem, const struct virtq_elem *e,
			       virtio_balloon_range_fn fn, void *opaque,
			       struct virtio_balloon_pfns *res);

/*
 * Reads a statistics buffer (packed {le16 tag, le64 val} entries) into
 * st->stats / st->stats_valid: unknown tags and a truncated last entry
 * are ignored. Returns the number of entries used.
 */
unsigned virtio_balloon_parse_stats(const struct virtq_elem *e, struct virtio_balloon_stats *st);

/*
 * The device model without KVM or threads: the ops table, a state for
 * it (free with ops->destroy; stats_fd -1) and the statistics timer's
 * work (lock held): return the held stats buffer to ask for new ones.
 */
extern const struct virtio_dev_ops virtio_balloon_ops;
void *virtio_balloon_alloc(const struct vm_balloon_config *cfg);
void virtio_balloon_request_stats(struct virtio_dev *d);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct virtio_dev),
 * section "virtio-balloon", version VIRTIO_BALLOON_STATE_VERSION: the
 * transport (virtio/mmio.h), then u32 target_pages, u32 actual_pages,
 * u64 inflated_pages, inflate_reqs, deflate_reqs, bad_pfns, dropped_pfns,
 * u32 stats_valid, u64 stats[VIRTIO_BALLOON_S_NR], u64 stats_updates,
 * u64 age of the last statistics (ms), bool stats_held, u16 stats_head.
 * The statistics buffer the device holds (stats_held) stays held: its
 * chain is in flight on the statistics queue, and the restored timer
 * returns it at the next interval. Inflated pages are zero pages in the
 * memory file.
 */
#define VIRTIO_BALLOON_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops virtio_balloon_state_ops;

#endif
