/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the device models are configured with: disks, network interfaces,
 * vsock, balloon. Part of the machine configuration (vmm/config.h), kept
 * here so that devices (devices/, virtio/) read it without importing vmm/.
 */
#ifndef OSPREY_HW_DEVICE_CONFIG_H
#define OSPREY_HW_DEVICE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rate_limiter.h"

enum disk_cache {
	DISK_CACHE_WRITEBACK, /* host page cache; FLUSH offered, fdatasync */
	DISK_CACHE_NONE,      /* write-through (O_DSYNC); no FLUSH needed */
};

#define VM_MAX_DISKS 8
#define VM_DISK_ID_MAX 20

struct vm_disk_config {
	const char *path;
	bool read_only;
	enum disk_cache cache;
	const char *id; /* GET_ID string, at most 20 bytes; default: file name */
	struct rate_limiter_config rate_limit; /* all zero: unlimited */
};

#define VM_MAX_NETS 4
#define VM_NET_IFACE_ID_MAX 64

struct vm_net_config {
	const char *tap; /* host tap device name (created if missing) */
	uint8_t mac[6];
	bool has_mac; /* otherwise a locally administered MAC is derived */
	const char *id; /* iface_id (API); default: the tap name */
	struct rate_limiter_config rx_rate_limit, tx_rate_limit; /* zero: unlimited */
};

struct vm_vsock_config {
	bool enabled;
	uint32_t cid;	 /* guest CID, >= 3 */
	const char *uds; /* host Unix socket path (Firecracker's hybrid model) */
};

/* --balloon: a virtio-balloon device (virtio 1.x, section 5.5). */
struct vm_balloon_config {
	bool enabled;
	uint64_t target;	 /* bytes the guest is asked to give up (4 KiB multiple) */
	bool deflate_on_oom;	 /* VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
	unsigned stats_interval; /* seconds between statistics requests; 0: no stats queue */
};

#define VM_BALLOON_STATS_MAX 3600

#endif
